"""The values the binding hands out and takes: Pid, Entry, Scope, Event (plain dataclasses
built from libroster's structures), with the constants and argument helpers that both
client.py and more.py use."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import List, Optional, Union

from . import _ffi
from .errors import RosterError

FOREVER = -1
Name = Union[str, bytes]

SUB_REGISTRY, SUB_GROUPS, SUB_PREFIX, SUB_SNAPSHOT, SUB_ALL = 0x1, 0x2, 0x4, 0x8, 0x10
SEND_CONFIRM, PUBLISH_LOCAL = 0x1, 0x2
_EV_MESSAGE = 14
# Events that carry a monitor's or a request's id, not a subscription's (the counters may
# give the same number): DOWN, REPLY, CONFLICT, MESSAGE.
_NOT_WATCH = (9, 10, 11, 14)


def _b(v: Name) -> bytes:
    return v.encode() if isinstance(v, str) else bytes(v)


def _scope(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else s.encode()


@dataclass(frozen=True)
class Pid:
    """A roster process id: the creating node's incarnation and a serial.

    ``str(pid)`` is the text form rosterctl prints; ``Pid.parse`` reads it back."""

    node_inc: int
    serial: int

    def __str__(self) -> str:
        buf = ctypes.create_string_buffer(40)
        return _ffi.lib.roster_pid_format(self._c(), buf).decode()

    @classmethod
    def parse(cls, text: str) -> "Pid":
        """The pid of a text form such as ``0123456789abcdef.7``; RosterError EINVAL."""
        out = _ffi.Pid()
        rc = _ffi.lib.roster_pid_parse(text.encode(), ctypes.byref(out))
        if rc:
            raise RosterError(rc, call="Pid.parse")
        return cls._of(out)

    def _c(self) -> _ffi.Pid:
        return _ffi.Pid(self.node_inc, self.serial)

    @classmethod
    def _of(cls, p: _ffi.Pid) -> "Pid":
        return cls(p.node_inc, p.serial)


ZERO_PID = Pid(0, 0)


@dataclass
class Entry:
    """A registered name or a group member: who holds it, on which node, with what
    metadata (``token`` is the name's fencing token; 0 for members)."""

    name: bytes
    pid: Pid
    node: str
    meta: bytes
    token: int = 0
    count: int = 0  # groups(): the group's member count


@dataclass
class Scope:
    """One scope of the node: its name, mode ("eventual" or "strong") and counts."""

    name: str
    mode: str
    names: int
    groups: int


@dataclass
class Event:
    """One event of the connection: a registry or group change of a watch, a monitor's
    DOWN, or a message. ``type`` is libroster's name ("registered", "joined", "down",
    "message", ...); ``reason`` is set for departures ("normal", "disconnected", ...)."""

    type: str
    id: int
    scope: str
    name: bytes
    pid: Pid
    node: str
    meta: bytes
    prev_meta: bytes
    reason: str
    snapshot: bool
    to: Pid = ZERO_PID
    call_ref: int = 0
    revision: int = 0
    type_code: int = field(default=0, repr=False)
    reason_text: bytes = b""  # reason "exit": the pid's exit reason (roster_pid_exit)

    @property
    def is_call(self) -> bool:
        """True for a call or multi-call, to answer with ``Client.reply``."""
        return self.type_code == _EV_MESSAGE and self.call_ref != 0


def _entries(lst: _ffi.Entries) -> List[_ffi.Entry]:
    return [lst.items[i] for i in range(lst.n)]


def entry_of(e: _ffi.Entry) -> Entry:
    """A Python Entry from a library entry (copied: the library frees its own)."""
    return Entry(_ffi.buf_bytes(e.name), Pid._of(e.pid), e.node.decode(errors="replace"),
                 _ffi.buf_bytes(e.meta), e.token, e.count)


def entries_of(lst: _ffi.Entries) -> List[Entry]:
    """The entries of a library list, then the list freed."""
    try:
        return [entry_of(e) for e in _entries(lst)]
    finally:
        _ffi.lib.roster_entries_free(ctypes.byref(lst))
