#!/usr/bin/env python3
"""example.py: a worker and a client in one script: the worker registers a name, joins a
group and answers calls; the client finds it, watches the group and calls it.

    rosterd --socket /tmp/r.sock &
    ROSTER_SOCKET=/tmp/r.sock python3 bindings/python/example.py
(ROSTER_LIB=build/lib/libroster.so when libroster is not installed.)"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roster  # noqa: E402


def worker(c: roster.Client, ready: threading.Event) -> None:
    with c.register("example/upper", meta="v1"), c.join("example/workers"):
        ready.set()
        req = c.next_event(5000)
        if req is not None and req.is_call:
            c.reply(req, req.meta.upper())
        c.next_event(200)  # a moment for the client to see the membership


def main() -> int:
    with roster.Client(name="example-worker") as w, roster.Client(name="example") as c:
        with c.watch("example/workers", groups=True, registry=False) as events:
            ready = threading.Event()
            t = threading.Thread(target=worker, args=(w, ready))
            t.start()
            ready.wait(5)
            holder = c.lookup("example/upper")
            print(f"example/upper is held by {holder.pid} on {holder.node} (meta {holder.meta!r})")
            print("members:", [str(m.pid) for m in c.members("example/workers")])
            print("call ->", c.call("example/upper", b"hello roster"))
            ev = events.next(5000)
            print(f"event: {ev.type} {ev.name!r} pid {ev.pid}")
            t.join()
        try:
            c.unregister("example/upper")
        except roster.RosterError as e:
            print(f"unregister after the worker left: {e.name} ({e.code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
