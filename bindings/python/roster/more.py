"""The rest of libroster's calls, as methods that Client inherits: scope administration and
scope metadata, listings and metadata queries, batches, strong-scope calls (fencing tokens,
handoff, compare-and-set, election, stale reads), multi-call and node administration.
Kept apart from client.py so that each file stays about one thing: client.py holds the
connection, the registry, groups, events and messages."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _ffi
from .errors import RosterError
from .values import ZERO_PID, Entry, Name, Pid, _b, _scope, entries_of

SCOPE_STRONG = 1
SCOPE_DUPLICATE_MEMBERS = 0x100
SCOPE_UNIQUE_PER_NODE = 0x200
_MATCH_OPS = {"eq": 1, "prefix": 2, "glob": 3, "field": 4}
# A metadata condition: ("eq", value), ("prefix", value), ("glob", pattern) or
# ("field", json_member, value); values are bytes or str.
Condition = Tuple[str, ...]


@dataclass
class Counts:
    """A scope's counts (``revision``: the etcd revision counted in a strong scope, else 0)."""

    names: int
    groups: int
    members: int
    revision: int = 0


@dataclass
class BatchResult:
    """How one item of ``register_many`` / ``join_many`` went: ``error`` is None or the
    code's name ("ETAKEN"); ``holder`` and ``token`` are set for registrations."""

    key: bytes
    status: int
    error: Optional[str]
    holder: Optional[Pid]
    token: int


@dataclass
class Owner:
    """Who holds a pid: the OS process id and user id of its client, and the pid's node."""

    os_pid: int
    uid: int
    node: str


@dataclass
class MultiResult:
    """A multi-call's answers: (pid, reply) for each member that answered, and the members
    that did not answer in time or were dead."""

    replies: List[Tuple[Pid, bytes]]
    bad: List[Pid]


class _Query:
    """A roster_query with the memory its pointers name kept alive for the call."""

    def __init__(self, key: Name, prefix: bool, pid: Optional[Pid], node: Optional[str],
                 local_only: bool, limit: int, match: Iterable[Condition]) -> None:
        self.q = _ffi.Query()
        _ffi.lib.roster_query_init(ctypes.byref(self.q))
        self._keep: List[object] = []
        k = self._hold(_b(key))
        self.q.key, self.q.key_len, self.q.prefix = k, len(_b(key)), int(prefix)
        if pid is not None:
            self.q.pid = pid._c()
        if node is not None:
            self.q.node = self._hold(node.encode())
        self.q.local_only, self.q.limit = int(local_only), limit
        conds = list(match)
        if conds:
            arr = (_ffi.Match * len(conds))()
            for i, c in enumerate(conds):
                op = _MATCH_OPS.get(c[0]) if c else None
                if op is None or len(c) != (3 if c[0] == "field" else 2):
                    raise RosterError(-1, f"bad condition {c!r}: ('eq'|'prefix'|'glob', "
                                          "value) or ('field', name, value)", "query")
                arr[i].op = op
                if op == 4:
                    arr[i].field = self._hold(_b(c[1]))
                v = _b(c[-1])
                arr[i].value, arr[i].value_len = self._hold(v), len(v)
            self._keep.append(arr)
            self.q.match, self.q.n_match = arr, len(conds)

    def _hold(self, b: bytes) -> int:
        buf = ctypes.create_string_buffer(b, len(b) + 1)
        self._keep.append(buf)
        return ctypes.addressof(buf)


class MoreCalls:
    """Methods of Client (see client.py for _h, _check and timeout_ms)."""

    _c: ctypes.c_void_p
    timeout_ms: int

    def _h(self) -> ctypes.c_void_p:  # pragma: no cover - Client's
        raise NotImplementedError

    def _check(self, rc: int, call: str) -> int:  # pragma: no cover - Client's
        raise NotImplementedError

    @property
    def self_pid(self) -> Pid:  # pragma: no cover - Client's
        raise NotImplementedError

    # --- scopes
    def scope_create(self, scope: str, strong: bool = False, duplicate_members: bool = False,
                     unique_per_node: bool = False) -> None:
        """Create a scope (EEXIST if it exists). ``strong``: linearizable on etcd (the node
        needs --etcd: EUNAVAIL otherwise); the two options are for eventual scopes."""
        mode = (SCOPE_STRONG if strong else 0) | \
            (SCOPE_DUPLICATE_MEMBERS if duplicate_members else 0) | \
            (SCOPE_UNIQUE_PER_NODE if unique_per_node else 0)
        self._check(_ffi.lib.roster_scope_create(self._h(), scope.encode(), mode,
                                                 self.timeout_ms), "scope_create")

    def scope_join(self, scope: str, ttl_ms: int = 0) -> None:
        """Make the node join (replicate) an eventual scope; ``ttl_ms``: leave it by itself
        once unused that long."""
        if ttl_ms:
            rc = _ffi.lib.roster_scope_join_ttl(self._h(), scope.encode(), ttl_ms,
                                                self.timeout_ms)
        else:
            rc = _ffi.lib.roster_scope_join(self._h(), scope.encode(), self.timeout_ms)
        self._check(rc, "scope_join")

    def scope_leave(self, scope: str) -> None:
        """Make the node leave a scope (EBUSY while local pids hold entries in it)."""
        self._check(_ffi.lib.roster_scope_leave(self._h(), scope.encode(), self.timeout_ms),
                    "scope_leave")

    def scope_meta_set(self, key: Name, value: Name, scope: Optional[str] = None) -> None:
        """Set a key of the scope's metadata (replicated; last writer wins)."""
        k, v = _b(key), _b(value)
        self._check(_ffi.lib.roster_scope_meta_set(self._h(), _scope(scope), k, len(k), v,
                                                   len(v), self.timeout_ms), "scope_meta_set")

    def scope_meta_get(self, key: Name, scope: Optional[str] = None) -> Optional[bytes]:
        """A key's value, or None when it has none."""
        k, out = _b(key), _ffi.Buf()
        rc = _ffi.lib.roster_scope_meta_get(self._h(), _scope(scope), k, len(k),
                                            ctypes.byref(out), self.timeout_ms)
        if rc == -2:  # ROSTER_ENOTFOUND
            return None
        self._check(rc, "scope_meta_get")
        try:
            return _ffi.buf_bytes(out)
        finally:
            _ffi.lib.roster_buf_free(ctypes.byref(out))

    def scope_meta(self, prefix: Name = b"", scope: Optional[str] = None) -> Dict[bytes, bytes]:
        """Every key of the scope's metadata starting with ``prefix``, with its value."""
        p, lst = _b(prefix), _ffi.Entries()
        self._check(_ffi.lib.roster_scope_meta_list(self._h(), _scope(scope), p, len(p),
                                                    ctypes.byref(lst), self.timeout_ms),
                    "scope_meta")
        return {e.name: e.meta for e in entries_of(lst)}

    def scope_meta_delete(self, key: Name, scope: Optional[str] = None) -> None:
        """Delete a key of the scope's metadata (ENOTFOUND if it has no value)."""
        k = _b(key)
        self._check(_ffi.lib.roster_scope_meta_delete(self._h(), _scope(scope), k, len(k),
                                                      self.timeout_ms), "scope_meta_delete")

    # --- listings and queries
    def names(self, prefix: Name = b"", scope: Optional[str] = None, pid: Optional[Pid] = None,
              limit: int = 0) -> List[Entry]:
        """Names starting with ``prefix``, sorted (only ``pid``'s if given)."""
        p, lst = _b(prefix), _ffi.Entries()
        self._check(_ffi.lib.roster_names(self._h(), _scope(scope), p, len(p),
                                          (pid or ZERO_PID)._c(), limit, ctypes.byref(lst),
                                          self.timeout_ms), "names")
        return entries_of(lst)

    def groups(self, prefix: Name = b"", scope: Optional[str] = None,
               pid: Optional[Pid] = None, limit: int = 0) -> List[Entry]:
        """Groups starting with ``prefix``, sorted; ``Entry.count`` is the member count."""
        p, lst = _b(prefix), _ffi.Entries()
        self._check(_ffi.lib.roster_groups(self._h(), _scope(scope), p, len(p),
                                           (pid or ZERO_PID)._c(), limit, ctypes.byref(lst),
                                           self.timeout_ms), "groups")
        return entries_of(lst)

    def lookup_all(self, name: Name, scope: Optional[str] = None) -> List[Entry]:
        """Every holder of ``name`` (several in a scope created with unique_per_node)."""
        n, lst = _b(name), _ffi.Entries()
        self._check(_ffi.lib.roster_lookup_all(self._h(), _scope(scope), n, len(n),
                                               ctypes.byref(lst), self.timeout_ms),
                    "lookup_all")
        return entries_of(lst)

    def count(self, scope: Optional[str] = None, node: Optional[str] = None) -> Counts:
        """The scope's counts (only ``node``'s pids' entries if given)."""
        out = _ffi.Counts()
        self._check(_ffi.lib.roster_count(self._h(), _scope(scope),
                                          node.encode() if node else None, ctypes.byref(out),
                                          self.timeout_ms), "count")
        return Counts(out.names, out.groups, out.members, out.revision)

    def is_member(self, group: Name, pid: Pid, scope: Optional[str] = None) -> bool:
        """Whether ``pid`` is in ``group``."""
        g = _b(group)
        return self._check(_ffi.lib.roster_is_member(self._h(), _scope(scope), g, len(g),
                                                     pid._c(), self.timeout_ms),
                           "is_member") == 1

    def query_names(self, key: Name = b"", prefix: bool = True,
                    match: Sequence[Condition] = (), scope: Optional[str] = None,
                    pid: Optional[Pid] = None, node: Optional[str] = None,
                    local_only: bool = False, limit: int = 0) -> List[Entry]:
        """Names under ``key`` (a prefix; ``prefix=False``: that one name) whose metadata
        meets every condition of ``match``, e.g. ``[("field", "role", "db")]``."""
        q, lst = _Query(key, prefix, pid, node, local_only, limit, match), _ffi.Entries()
        self._check(_ffi.lib.roster_query_names(self._h(), _scope(scope), ctypes.byref(q.q),
                                                ctypes.byref(lst), self.timeout_ms),
                    "query_names")
        return entries_of(lst)

    def query_members(self, key: Name, prefix: bool = False,
                      match: Sequence[Condition] = (), scope: Optional[str] = None,
                      pid: Optional[Pid] = None, node: Optional[str] = None,
                      local_only: bool = False, limit: int = 0) -> List[Entry]:
        """Memberships of group ``key`` (or of the groups under it with ``prefix=True``)
        whose metadata meets ``match``; ``Entry.name`` is the group."""
        q, lst = _Query(key, prefix, pid, node, local_only, limit, match), _ffi.Entries()
        self._check(_ffi.lib.roster_query_members(self._h(), _scope(scope), ctypes.byref(q.q),
                                                  ctypes.byref(lst), self.timeout_ms),
                    "query_members")
        return entries_of(lst)

    def query_count(self, key: Name = b"", prefix: bool = True,
                    match: Sequence[Condition] = (), scope: Optional[str] = None,
                    pid: Optional[Pid] = None, node: Optional[str] = None,
                    local_only: bool = False) -> Counts:
        """How many names and memberships the same query would list."""
        q, out = _Query(key, prefix, pid, node, local_only, 0, match), _ffi.Counts()
        self._check(_ffi.lib.roster_query_count(self._h(), _scope(scope), ctypes.byref(q.q),
                                                ctypes.byref(out), self.timeout_ms),
                    "query_count")
        return Counts(out.names, out.groups, out.members, out.revision)

    def unregister_match(self, key: Name = b"", prefix: bool = True,
                         match: Sequence[Condition] = (), scope: Optional[str] = None,
                         pid: Optional[Pid] = None) -> int:
        """Unregister this client's names that the query selects; how many went."""
        q = _Query(key, prefix, pid, None, False, 0, match)
        return self._check(_ffi.lib.roster_unregister_match(self._h(), _scope(scope),
                                                            ctypes.byref(q.q),
                                                            self.timeout_ms),
                           "unregister_match")

    def leave_match(self, key: Name = b"", prefix: bool = True,
                    match: Sequence[Condition] = (), scope: Optional[str] = None,
                    pid: Optional[Pid] = None) -> int:
        """Leave this client's memberships that the query selects; how many went."""
        q = _Query(key, prefix, pid, None, False, 0, match)
        return self._check(_ffi.lib.roster_leave_match(self._h(), _scope(scope),
                                                       ctypes.byref(q.q), self.timeout_ms),
                           "leave_match")

    # --- batches
    def _many(self, fn: str, items: Iterable[Union[Name, Tuple[Name, Name]]],
              scope: Optional[str], pid: Optional[Pid]) -> List[BatchResult]:
        pairs = [(_b(i), b"") if isinstance(i, (str, bytes)) else (_b(i[0]), _b(i[1]))
                 for i in items]
        arr = (_ffi.BatchItem * max(1, len(pairs)))()
        keep = []
        owner = (pid or self.self_pid)._c()
        for i, (k, m) in enumerate(pairs):
            kb, mb = ctypes.create_string_buffer(k, len(k) + 1), \
                ctypes.create_string_buffer(m, len(m) + 1)
            keep += [kb, mb]
            arr[i].key, arr[i].key_len = ctypes.addressof(kb), len(k)
            arr[i].meta, arr[i].meta_len = ctypes.addressof(mb), len(m)
            arr[i].pid = owner
        self._check(getattr(_ffi.lib, fn)(self._h(), _scope(scope), arr, len(pairs),
                                          self.timeout_ms), fn[7:])
        out = []
        for i, (k, _) in enumerate(pairs):
            it = arr[i]
            h = it.holder
            out.append(BatchResult(k, it.status,
                                   _ffi.lib.roster_err_name(it.status).decode()
                                   if it.status else None,
                                   Pid(h.node_inc, h.serial) if h.node_inc or h.serial else None,
                                   it.token))
        return out

    def register_many(self, items: Iterable[Union[Name, Tuple[Name, Name]]],
                      scope: Optional[str] = None,
                      pid: Optional[Pid] = None) -> List[BatchResult]:
        """Register many names (each a name or (name, meta)) for ``pid`` in one round trip;
        each item's own result (not atomic: the others stay when one fails)."""
        return self._many("roster_register_many", items, scope, pid)

    def join_many(self, items: Iterable[Union[Name, Tuple[Name, Name]]],
                  scope: Optional[str] = None, pid: Optional[Pid] = None) -> List[BatchResult]:
        """Join many groups (each a group or (group, meta)) in one round trip."""
        return self._many("roster_join_many", items, scope, pid)

    # --- strong scopes: tokens, handoff, compare-and-set, election, read mode
    def register_token(self, name: Name, meta: Name = b"", pid: Optional[Pid] = None,
                       scope: Optional[str] = None) -> int:
        """Register ``name`` and return the grant's fencing token (ETAKEN with ``holder``)."""
        n, m = _b(name), _b(meta)
        holder, token = _ffi.Pid(), ctypes.c_uint64()
        rc = _ffi.lib.roster_register_token(self._h(), _scope(scope), n, len(n),
                                            (pid or self.self_pid)._c(), m, len(m),
                                            ctypes.byref(holder), ctypes.byref(token),
                                            self.timeout_ms)
        try:
            self._check(rc, "register_token")
        except RosterError as e:
            e.holder = Pid._of(holder) if holder.node_inc or holder.serial else None
            raise
        return token.value

    def check_token(self, name: Name, token: int, scope: Optional[str] = None) -> bool:
        """Whether ``token`` is still ``name``'s current fencing token."""
        n, cur = _b(name), ctypes.c_uint64()
        return self._check(_ffi.lib.roster_check_token(self._h(), _scope(scope), n, len(n),
                                                       token, ctypes.byref(cur),
                                                       self.timeout_ms), "check_token") == 1

    def handoff(self, name: Name, to: Pid, if_token: int = 0,
                scope: Optional[str] = None) -> int:
        """Move ``name`` to pid ``to`` atomically; the new grant's token."""
        n, tok = _b(name), ctypes.c_uint64()
        self._check(_ffi.lib.roster_handoff(self._h(), _scope(scope), n, len(n), to._c(),
                                            if_token, ctypes.byref(tok), self.timeout_ms),
                    "handoff")
        return tok.value

    def update(self, name: Name, meta: Name, if_token: Optional[int] = None,
               if_meta: Optional[Name] = None, member: Optional[Pid] = None,
               scope: Optional[str] = None) -> int:
        """Compare-and-set a name's metadata (or ``member``'s in group ``name``); the token
        after the write. ECONFLICT carries ``current`` (bytes) and ``token``."""
        n, m = _b(name), _b(meta)
        cond = _ffi.UpdateCond()
        if if_token is not None:
            cond.if_token, cond.token = 1, if_token
        old = _b(if_meta) if if_meta is not None else b""
        old_buf = ctypes.create_string_buffer(old, len(old) + 1)
        if if_meta is not None:
            cond.if_meta, cond.meta, cond.meta_len = 1, ctypes.addressof(old_buf), len(old)
        if member is not None:
            cond.member = member._c()
        tok, cur = ctypes.c_uint64(), _ffi.Buf()
        rc = _ffi.lib.roster_update(self._h(), _scope(scope), n, len(n), m, len(m),
                                    ctypes.byref(cond), ctypes.byref(tok), ctypes.byref(cur),
                                    self.timeout_ms)
        try:
            current = _ffi.buf_bytes(cur)
        finally:
            _ffi.lib.roster_buf_free(ctypes.byref(cur))
        try:
            self._check(rc, "update")
        except RosterError as e:
            setattr(e, "current", current)
            setattr(e, "token", tok.value)
            raise
        return tok.value

    def campaign(self, name: Name, meta: Name = b"", pid: Optional[Pid] = None,
                 scope: Optional[str] = None, timeout_ms: Optional[int] = None) -> int:
        """Wait until ``pid`` holds ``name`` (leader election in a strong scope, first come
        first served); its fencing token. Resign with ``unregister`` or by closing pid."""
        n, m, tok = _b(name), _b(meta), ctypes.c_uint64()
        t = self.timeout_ms if timeout_ms is None else timeout_ms
        self._check(_ffi.lib.roster_campaign(self._h(), _scope(scope), n, len(n),
                                             (pid or self.self_pid)._c(), m, len(m),
                                             ctypes.byref(tok), t), "campaign")
        return tok.value

    def stale_reads(self, stale: bool = True) -> None:
        """Strong scopes: answer later reads from the node's local copy (True) or
        linearizably through etcd (False, the default)."""
        _ffi.lib.roster_set_read_mode(self._h(), 1 if stale else 0)

    @property
    def last_revision(self) -> int:
        """The etcd revision the last read of a strong scope reflected."""
        return int(_ffi.lib.roster_last_revision(self._h()))

    @property
    def uses_shm(self) -> bool:
        """Whether reads of eventual scopes come from the node's shared-memory region."""
        return bool(_ffi.lib.roster_uses_shm(self._h()))

    def demonitor(self, monitor_id: int) -> None:
        """End a monitor started with ``monitor``."""
        self._check(_ffi.lib.roster_demonitor(self._h(), monitor_id, self.timeout_ms),
                    "demonitor")

    def multi_call(self, group: Name, data: Name, scope: Optional[str] = None,
                   sender: Optional[Pid] = None, local: bool = False,
                   timeout_ms: Optional[int] = None) -> MultiResult:
        """Call every member of ``group``; whoever did not answer within the timeout (or was
        dead) is in ``bad``."""
        g, d, out = _b(group), _b(data), _ffi.MultiResult()
        t = self.timeout_ms if timeout_ms is None else timeout_ms
        self._check(_ffi.lib.roster_multi_call(self._h(), (sender or ZERO_PID)._c(),
                                               _scope(scope), g, len(g), d, len(d),
                                               0x2 if local else 0, ctypes.byref(out), t),
                    "multi_call")
        try:
            return MultiResult([(Pid._of(out.replies[i].pid), _ffi.buf_bytes(out.replies[i].data))
                                for i in range(out.n_replies)],
                               [Pid._of(out.bad[i]) for i in range(out.n_bad)])
        finally:
            _ffi.lib.roster_multi_result_free(ctypes.byref(out))

    # --- node administration
    def status(self) -> Dict[str, int]:
        """The node's statistics (``rosterctl status``): clients, names, limits, ..."""
        out = _ffi.Stats()
        self._check(_ffi.lib.roster_status(self._h(), ctypes.byref(out), self.timeout_ms),
                    "status")
        try:
            return {out.items[i].key.decode(): out.items[i].value for i in range(out.n)}
        finally:
            _ffi.lib.roster_stats_free(ctypes.byref(out))

    def log_level(self, level: str) -> None:
        """Set the node's log level: off, error, warn, info, debug or trace."""
        self._check(_ffi.lib.roster_log_level(self._h(), level.encode(), self.timeout_ms),
                    "log_level")

    def owner(self, pid: Pid) -> Owner:
        """The OS process and user holding ``pid`` (ENOPROC if the node knows no such pid)."""
        out = _ffi.Owner()
        self._check(_ffi.lib.roster_pid_owner(self._h(), pid._c(), ctypes.byref(out),
                                              self.timeout_ms), "owner")
        return Owner(out.os_pid, out.uid, out.node.decode(errors="replace"))

    def cluster_join(self, addr: str) -> None:
        """Make the node join the cluster of the node at ``addr`` ("HOST:PORT")."""
        self._check(_ffi.lib.roster_cluster_join(self._h(), addr.encode(), self.timeout_ms),
                    "cluster_join")

    def cluster_leave(self) -> int:
        """Make the node leave its cluster cleanly; how many up peers were told."""
        n = ctypes.c_size_t()
        self._check(_ffi.lib.roster_cluster_leave(self._h(), ctypes.byref(n), self.timeout_ms),
                    "cluster_leave")
        return n.value

    def forget(self, node: str) -> int:
        """Forget a node that is not up (or an address "HOST:PORT"); records forgotten."""
        n = ctypes.c_size_t()
        self._check(_ffi.lib.roster_forget(self._h(), node.encode(), ctypes.byref(n),
                                           self.timeout_ms), "forget")
        return n.value
