"""RosterError: every failed libroster call, carrying its ROSTER_E code (include/roster.h)
so a caller can branch on the code rather than on a message."""
from __future__ import annotations

from . import _ffi


class RosterError(Exception):
    """A libroster call failed.

    ``code`` is the negative ROSTER_E value (for example -3 for ETAKEN), ``name`` its name
    without prefix ("ETAKEN"), ``detail`` the node's explanation when it gave one, ``call``
    the binding's method. ``holder``: for ETAKEN from ``Client.register``, the Pid holding
    the name (None otherwise).
    """

    def __init__(self, code: int, detail: str = "", call: str = "") -> None:
        self.code = code
        self.name = _ffi.lib.roster_err_name(code).decode()
        self.message = _ffi.lib.roster_strerror(code).decode()
        self.detail = detail
        self.call = call
        self.holder: object = None
        text = f"{call}: " if call else ""
        text += f"ROSTER_{self.name}: {self.message}"
        if detail and detail != self.message:
            text += f" ({detail})"
        super().__init__(text)


def _codes() -> dict[str, int]:
    """Every ROSTER_E name with its value, read from the library itself (0..-63)."""
    out = {}
    for v in range(0, -64, -1):
        n = _ffi.lib.roster_err_name(v).decode()
        if n != "EOTHER":
            out[n] = v
    return out


CODES: dict[str, int] = _codes()
