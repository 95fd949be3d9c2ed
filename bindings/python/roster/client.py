"""Client: one connection to a roster node through libroster, with Python values in and out
(bytes or str names, Pid objects, Event objects) and RosterError for every failure."""
from __future__ import annotations

import collections
import ctypes
from typing import Deque, Iterator, List, Optional, Union

from . import _ffi
from .errors import RosterError

from .more import MoreCalls
from .values import (_EV_MESSAGE, _NOT_WATCH, FOREVER, PUBLISH_LOCAL, SEND_CONFIRM,  # noqa: F401
                     SUB_ALL, SUB_GROUPS, SUB_PREFIX, SUB_REGISTRY, SUB_SNAPSHOT, ZERO_PID,
                     Entry, Event, Name, Pid, Scope, _b, _entries, _scope, entries_of,
                     entry_of)


class Client(MoreCalls):
    """A connection to the node at ``socket_path`` (None: $ROSTER_SOCKET, else libroster's
    default). Use it as a context manager, or call ``close``. Not thread-safe: one thread
    at a time, as libroster's client. ``timeout_ms`` bounds every call (FOREVER: -1)."""

    def __init__(self, socket_path: Optional[str] = None, name: Optional[str] = None,
                 timeout_ms: int = 5000) -> None:
        opts = _ffi.Options()
        _ffi.lib.roster_options_init(ctypes.byref(opts))
        self._keep = [socket_path and socket_path.encode(), name and name.encode()]
        opts.socket_path = self._keep[0]
        opts.client_name = self._keep[1]
        opts.timeout_ms = timeout_ms
        self._c = ctypes.c_void_p()
        self.timeout_ms = timeout_ms
        self._pending: Deque[Event] = collections.deque()
        rc = _ffi.lib.roster_connect(ctypes.byref(self._c), ctypes.byref(opts))
        if rc:
            self._c = ctypes.c_void_p()
            raise RosterError(rc, call="connect")

    # --- life cycle
    def close(self) -> None:
        """Close the connection: the node kills this client's pids (names and memberships
        go, with reason "disconnected"). Closing twice is harmless."""
        if getattr(self, "_c", None):
            _ffi.lib.roster_close(self._c)
            self._c = ctypes.c_void_p()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _check(self, rc: int, call: str) -> int:
        if rc < 0:
            detail = _ffi.lib.roster_errdetail(self._c).decode(errors="replace") if self._c else ""
            raise RosterError(rc, detail, call)
        return rc

    def _h(self) -> ctypes.c_void_p:
        if not self._c:
            raise RosterError(-9, call="closed client")  # ROSTER_ECLOSED
        return self._c

    @property
    def self_pid(self) -> Pid:
        """The pid the node made for this connection (the default owner of entries)."""
        return Pid._of(_ffi.lib.roster_self(self._h()))

    @property
    def node_name(self) -> str:
        """The name of the node this client is connected to."""
        return _ffi.lib.roster_node_name(self._h()).decode()

    def ping(self) -> None:
        """Round-trip a no-op through the node."""
        self._check(_ffi.lib.roster_ping(self._h(), self.timeout_ms), "ping")

    def new_pid(self) -> Pid:
        """Another pid owned by this connection."""
        out = _ffi.Pid()
        self._check(_ffi.lib.roster_pid_new(self._h(), ctypes.byref(out), self.timeout_ms),
                    "new_pid")
        return Pid._of(out)

    def close_pid(self, pid: Pid) -> None:
        """Kill one of this connection's pids (reason "normal")."""
        self._check(_ffi.lib.roster_pid_close(self._h(), pid._c(), self.timeout_ms), "close_pid")

    def exit_pid(self, pid: Pid, reason: str) -> None:
        """Kill one of this connection's pids with an exit reason of your own (1..64 bytes,
        not a built-in reason name): every node's events and monitors get reason "exit" and
        ``Event.reason_text`` = reason."""
        self._check(_ffi.lib.roster_pid_exit(self._h(), pid._c(), reason.encode(),
                                             self.timeout_ms), "exit_pid")

    def renew(self, pid: Optional[Pid] = None) -> int:
        """Renew every lease (``ttl_ms`` of register / join) of ``pid`` (default: this
        client's own); returns how many. RosterError EEXPIRED if some ran out meanwhile."""
        n = ctypes.c_uint64()
        self._check(_ffi.lib.roster_renew(self._h(), (pid or self.self_pid)._c(),
                                          ctypes.byref(n), self.timeout_ms), "renew")
        return n.value

    def scopes(self) -> List[Scope]:
        """The scopes the node has joined, with their counts."""
        lst = _ffi.Entries()
        self._check(_ffi.lib.roster_scopes(self._h(), ctypes.byref(lst), self.timeout_ms),
                    "scopes")
        try:
            return [Scope(_ffi.buf_bytes(e.name).decode(), "strong" if e.mode else "eventual",
                          e.count, e.groups) for e in _entries(lst)]
        finally:
            _ffi.lib.roster_entries_free(ctypes.byref(lst))

    # --- registry
    def register(self, name: Name, meta: Name = b"", pid: Optional[Pid] = None,
                 scope: Optional[str] = None, ttl_ms: int = 0) -> "Registration":
        """Register ``name`` for ``pid`` (default: this client's own). Held by another pid:
        RosterError ETAKEN with ``holder`` set. The result, used with ``with``,
        unregisters the name when the block ends. ``ttl_ms``: a lease (``renew`` it, or the
        node removes the name with reason "expired")."""
        n, m = _b(name), _b(meta)
        p = pid or self.self_pid
        holder = _ffi.Pid()
        if ttl_ms:
            rc = _ffi.lib.roster_register_ttl(self._h(), _scope(scope), n, len(n), p._c(), m,
                                              len(m), ttl_ms, ctypes.byref(holder), None,
                                              self.timeout_ms)
        else:
            rc = _ffi.lib.roster_register(self._h(), _scope(scope), n, len(n), p._c(), m,
                                          len(m), ctypes.byref(holder), self.timeout_ms)
        if rc < 0:
            try:
                self._check(rc, "register")
            except RosterError as e:
                e.holder = Pid._of(holder) if holder.node_inc or holder.serial else None
                raise
        return Registration(self, n, scope, p)

    def unregister(self, name: Name, scope: Optional[str] = None) -> None:
        """Remove a name one of this client's pids holds (ENOTFOUND, ENOTOWNER)."""
        n = _b(name)
        self._check(_ffi.lib.roster_unregister(self._h(), _scope(scope), n, len(n),
                                               self.timeout_ms), "unregister")

    def lookup(self, name: Name, scope: Optional[str] = None) -> Optional[Entry]:
        """The holder of ``name``, or None when nobody holds it."""
        n = _b(name)
        e = _ffi.Entry()
        rc = _ffi.lib.roster_lookup(self._h(), _scope(scope), n, len(n), ctypes.byref(e),
                                    self.timeout_ms)
        if rc == -2:  # ROSTER_ENOTFOUND
            return None
        self._check(rc, "lookup")
        try:
            return Entry(_ffi.buf_bytes(e.name), Pid._of(e.pid), e.node.decode(),
                         _ffi.buf_bytes(e.meta), e.token)
        finally:
            _ffi.lib.roster_entry_free(ctypes.byref(e))

    # --- groups
    def join(self, group: Name, meta: Name = b"", pid: Optional[Pid] = None,
             scope: Optional[str] = None, ttl_ms: int = 0) -> "Membership":
        """Add ``pid`` (default: this client's own) to ``group``. The result, used with
        ``with``, leaves the group when the block ends. ``ttl_ms``: a lease, as register's."""
        g, m = _b(group), _b(meta)
        p = pid or self.self_pid
        if ttl_ms:
            rc = _ffi.lib.roster_join_ttl(self._h(), _scope(scope), g, len(g), p._c(), m,
                                          len(m), ttl_ms, self.timeout_ms)
        else:
            rc = _ffi.lib.roster_join(self._h(), _scope(scope), g, len(g), p._c(), m, len(m),
                                      self.timeout_ms)
        self._check(rc, "join")
        return Membership(self, g, scope, p)

    def leave(self, group: Name, pid: Optional[Pid] = None, scope: Optional[str] = None) -> None:
        """Remove ``pid`` from ``group`` (ENOTMEMBER if it is not in it)."""
        g = _b(group)
        p = pid or self.self_pid
        self._check(_ffi.lib.roster_leave(self._h(), _scope(scope), g, len(g), p._c(),
                                          self.timeout_ms), "leave")

    def members(self, group: Name, scope: Optional[str] = None,
                local_only: bool = False) -> List[Entry]:
        """The members of ``group``, sorted by pid (an empty list for an unknown group)."""
        g = _b(group)
        lst = _ffi.Entries()
        self._check(_ffi.lib.roster_members(self._h(), _scope(scope), g, len(g),
                                            int(local_only), ctypes.byref(lst),
                                            self.timeout_ms), "members")
        try:
            return [Entry(_ffi.buf_bytes(e.name), Pid._of(e.pid), e.node.decode(),
                          _ffi.buf_bytes(e.meta)) for e in _entries(lst)]
        finally:
            _ffi.lib.roster_entries_free(ctypes.byref(lst))

    # --- events
    def watch(self, pattern: Name = b"", scope: Optional[str] = None, prefix: bool = False,
              registry: bool = True, groups: bool = True,
              snapshot: bool = False) -> "Watch":
        """Subscribe to changes of names and/or groups matching ``pattern`` (exact, or a
        prefix with ``prefix=True``; empty: everything). Iterate the result for Event
        objects; with ``snapshot=True`` the current entries come first, then one
        "snapshot_end" event."""
        p = _b(pattern)
        flags = (SUB_REGISTRY if registry else 0) | (SUB_GROUPS if groups else 0)
        flags |= SUB_SNAPSHOT if snapshot else 0
        if prefix:
            flags |= SUB_PREFIX
        elif not p:
            flags |= SUB_ALL
        sub = ctypes.c_uint64()
        self._check(_ffi.lib.roster_subscribe(self._h(), _scope(scope), p, len(p), flags,
                                              ctypes.byref(sub), self.timeout_ms), "watch")
        return Watch(self, sub.value)

    def monitor(self, pid: Pid) -> int:
        """Watch ``pid`` anywhere: its death arrives once as a "down" event whose id is the
        returned monitor id (``next_event``)."""
        mon = ctypes.c_uint64()
        self._check(_ffi.lib.roster_monitor(self._h(), pid._c(), ctypes.byref(mon),
                                            self.timeout_ms), "monitor")
        return mon.value

    def next_event(self, timeout_ms: int = FOREVER) -> Optional[Event]:
        """The connection's next event of any kind, or None after ``timeout_ms``."""
        if self._pending:
            return self._pending.popleft()
        return self._wait(timeout_ms)

    def _wait(self, timeout_ms: int) -> Optional[Event]:
        ev = _ffi.Event()
        rc = _ffi.lib.roster_wait_event(self._h(), ctypes.byref(ev), timeout_ms)
        if rc == -7:  # ROSTER_ETIMEDOUT
            return None
        self._check(rc, "next_event")
        try:
            return Event(type=_ffi.lib.roster_event_type_name(ev.type).decode(), id=ev.id,
                         scope=ev.scope.decode(), name=_ffi.buf_bytes(ev.name),
                         pid=Pid._of(ev.pid), node=ev.node.decode(errors="replace"),
                         meta=_ffi.buf_bytes(ev.meta), prev_meta=_ffi.buf_bytes(ev.prev_meta),
                         reason=_ffi.lib.roster_reason_name(ev.reason).decode(),
                         snapshot=bool(ev.snapshot), to=Pid._of(ev.to), call_ref=ev.call_ref,
                         revision=ev.revision, type_code=ev.type,
                         reason_text=_ffi.buf_bytes(ev.reason_text))
        finally:
            _ffi.lib.roster_event_free(ctypes.byref(ev))

    # --- messages
    def send(self, to: Pid, data: Name, sender: Optional[Pid] = None,
             confirm: bool = False) -> None:
        """Send ``data`` to pid ``to`` (at most once). With ``confirm`` the node's answer is
        awaited: ENOPROC for a dead pid, EAGAIN for a full mailbox."""
        d = _b(data)
        self._check(_ffi.lib.roster_send(self._h(), (sender or ZERO_PID)._c(), to._c(), d,
                                         len(d), SEND_CONFIRM if confirm else 0,
                                         self.timeout_ms), "send")

    def send_name(self, name: Name, data: Name, scope: Optional[str] = None,
                  sender: Optional[Pid] = None, confirm: bool = False) -> None:
        """Send ``data`` to the holder of ``name``."""
        n, d = _b(name), _b(data)
        self._check(_ffi.lib.roster_send_name(self._h(), (sender or ZERO_PID)._c(),
                                              _scope(scope), n, len(n), d, len(d),
                                              SEND_CONFIRM if confirm else 0,
                                              self.timeout_ms), "send_name")

    def publish(self, group: Name, data: Name, scope: Optional[str] = None,
                sender: Optional[Pid] = None, local: bool = False) -> int:
        """Send ``data`` to every member of ``group``; the number of members reached."""
        g, d = _b(group), _b(data)
        n = ctypes.c_size_t()
        self._check(_ffi.lib.roster_publish(self._h(), (sender or ZERO_PID)._c(), _scope(scope),
                                            g, len(g), d, len(d),
                                            PUBLISH_LOCAL if local else 0, ctypes.byref(n),
                                            self.timeout_ms), "publish")
        return n.value

    def call(self, to: Union[Pid, Name], data: Name, scope: Optional[str] = None,
             sender: Optional[Pid] = None, timeout_ms: Optional[int] = None) -> bytes:
        """Send a request to a pid, or to the holder of a name, and return its reply
        (ETIMEDOUT when none came in time, ENOPROC when the pid is dead)."""
        d = _b(data)
        reply, responder = _ffi.Buf(), _ffi.Pid()
        t = self.timeout_ms if timeout_ms is None else timeout_ms
        s = (sender or ZERO_PID)._c()
        if isinstance(to, Pid):
            rc = _ffi.lib.roster_call(self._h(), s, to._c(), d, len(d), ctypes.byref(reply),
                                      ctypes.byref(responder), t)
        else:
            n = _b(to)
            rc = _ffi.lib.roster_call_name(self._h(), s, _scope(scope), n, len(n), d, len(d),
                                           ctypes.byref(reply), ctypes.byref(responder), t)
        self._check(rc, "call")
        try:
            return _ffi.buf_bytes(reply)
        finally:
            _ffi.lib.roster_buf_free(ctypes.byref(reply))

    def reply(self, request: Event, data: Name) -> None:
        """Answer a call event (``request.is_call``) with ``data``."""
        if not request.is_call:
            raise RosterError(-1, "not a call", "reply")  # ROSTER_EINVAL
        ev = _ffi.Event()
        ev.type, ev.call_ref = request.type_code, request.call_ref
        d = _b(data)
        self._check(_ffi.lib.roster_reply(self._h(), ctypes.byref(ev), d, len(d),
                                          self.timeout_ms), "reply")


class Registration:
    """A name held by one of the client's pids; ``with`` unregisters it at the end
    (a name already gone by then, for example after the pid closed, is not an error)."""

    def __init__(self, client: Client, name: bytes, scope: Optional[str], pid: Pid) -> None:
        self.client, self.name, self.scope, self.pid = client, name, scope, pid

    def unregister(self) -> None:
        self.client.unregister(self.name, self.scope)

    def __enter__(self) -> "Registration":
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.unregister()
        except RosterError as e:
            if e.name not in ("ENOTFOUND", "ECLOSED"):
                raise


class Membership:
    """A pid's membership of a group; ``with`` leaves the group at the end."""

    def __init__(self, client: Client, group: bytes, scope: Optional[str], pid: Pid) -> None:
        self.client, self.group, self.scope, self.pid = client, group, scope, pid

    def leave(self) -> None:
        self.client.leave(self.group, self.pid, self.scope)

    def __enter__(self) -> "Membership":
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.leave()
        except RosterError as e:
            if e.name not in ("ENOTMEMBER", "ECLOSED"):
                raise


class Watch:
    """A subscription; iterating it yields its Event objects as they come (blocking), and
    ``next(timeout_ms)`` returns one or None. Events of the connection that belong to
    something else (messages, monitors, other watches) are kept for ``Client.next_event``.
    An "overflow" event ends the subscription: watch again, with a snapshot."""

    def __init__(self, client: Client, sub: int) -> None:
        self.client, self.id = client, sub

    def next(self, timeout_ms: int = FOREVER) -> Optional[Event]:
        c = self.client
        for i, ev in enumerate(c._pending):
            if ev.id == self.id and ev.type_code not in _NOT_WATCH:
                del c._pending[i]
                return ev
        while True:
            ev = c._wait(timeout_ms)
            if ev is None or (ev.id == self.id and ev.type_code not in _NOT_WATCH):
                return ev
            c._pending.append(ev)

    def __iter__(self) -> Iterator[Event]:
        while True:
            ev = self.next()
            if ev is not None:
                yield ev

    def close(self) -> None:
        """Unsubscribe (a subscription that overflowed is already gone)."""
        rc = _ffi.lib.roster_unsubscribe(self.client._h(), self.id, self.client.timeout_ms)
        if rc not in (0, -2):
            self.client._check(rc, "unwatch")

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client._c:
            self.close()
