"""roster: Python binding of libroster, the client library of the roster process registry
(ctypes over the installed libroster.so.4; $ROSTER_LIB names another file).

    import roster
    with roster.Client() as c, c.register("worker-1", meta="ready"):
        print(c.lookup("worker-1"))
"""
from .client import (FOREVER, ZERO_PID, Client, Entry, Event, Membership, Pid, Registration,
                     Scope, Watch)
from .errors import CODES, RosterError
from .more import BatchResult, Counts, MultiResult, Owner

__all__ = ["Client", "Entry", "Event", "Membership", "Pid", "Registration", "Scope", "Watch",
           "RosterError", "CODES", "FOREVER", "ZERO_PID", "BatchResult", "Counts",
           "MultiResult", "Owner"]
