"""Tests of the Python binding against a real rosterd that the test starts (and stops by
pid). Usage: ROSTERD=build/bin/rosterd ROSTER_LIB=build/lib/libroster.so python3 -m unittest
discover -s bindings/python/tests (the ctest `python_binding` sets both)."""
import ctypes
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import roster  # noqa: E402

ROSTERD = os.environ.get("ROSTERD", "build/bin/rosterd")


class Node:
    """A rosterd on a private socket."""

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="roster-py-")
        self.sock = os.path.join(self.dir.name, "r.sock")
        self.proc = subprocess.Popen([ROSTERD, "--config", "/dev/null", "--socket", self.sock,
                                      "--name", "py", "--log-level", "warn"])
        deadline = time.monotonic() + 10
        while True:
            try:
                roster.Client(self.sock).close()
                return
            except roster.RosterError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.dir.cleanup()


def setUpModule() -> None:
    global NODE
    NODE = Node()


def tearDownModule() -> None:
    NODE.stop()


class Layout(unittest.TestCase):
    """The ctypes structures must match roster.h byte for byte: a C program built against the
    header prints each structure's size, and they are compared (a field added to roster.h
    and not to _ffi.py would make the library write past Python's buffer)."""

    def test_struct_sizes_match_roster_h(self):
        from roster import _ffi
        include = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include")
        names = {"roster_options": _ffi.Options, "roster_event": _ffi.Event,
                 "roster_entry": _ffi.Entry, "roster_node_info": _ffi.NodeInfo,
                 "roster_pid": _ffi.Pid, "roster_buf": _ffi.Buf}
        body = "".join('printf("%%zu\\n", sizeof(%s));' % n for n in names)
        src = "#include <stdio.h>\n#include <roster.h>\nint main(void){%s return 0;}\n" % body
        with tempfile.TemporaryDirectory() as d:
            c = os.path.join(d, "sizes.c")
            with open(c, "w") as f:
                f.write(src)
            exe = os.path.join(d, "sizes")
            subprocess.run(["cc", "-I", include, c, "-o", exe], check=True)
            got = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
        sizes = [int(x) for x in got.split()]
        for (name, cls), size in zip(names.items(), sizes):
            self.assertEqual(ctypes.sizeof(cls), size, name)


class Binding(unittest.TestCase):
    def client(self) -> roster.Client:
        c = roster.Client(NODE.sock, name=self.id())
        self.addCleanup(c.close)
        return c

    def test_connect_and_errors(self):
        c = self.client()
        self.assertEqual(c.node_name, "py")
        c.ping()
        with self.assertRaises(roster.RosterError) as cm:
            roster.Client(os.path.join(NODE.sock + ".none"))
        self.assertEqual(cm.exception.name, "ECONNECT")
        self.assertEqual(cm.exception.code, roster.CODES["ECONNECT"])
        self.assertEqual(roster.CODES["ETAKEN"], -3)

    def test_register_context_and_lookup(self):
        a, b = self.client(), self.client()
        with a.register("svc/one", meta="v1") as reg:
            e = b.lookup("svc/one")
            self.assertIsNotNone(e)
            self.assertEqual((e.pid, e.meta, e.node), (a.self_pid, b"v1", "py"))
            self.assertEqual(reg.pid, a.self_pid)
            with self.assertRaises(roster.RosterError) as cm:
                b.register("svc/one")
            self.assertEqual(cm.exception.name, "ETAKEN")
            self.assertEqual(cm.exception.holder, a.self_pid)
        self.assertIsNone(b.lookup("svc/one"))

    def test_join_context_and_members(self):
        a, b = self.client(), self.client()
        p2 = a.new_pid()
        with a.join("workers", meta="x"), a.join("workers", pid=p2):
            pids = sorted(str(m.pid) for m in b.members("workers"))
            self.assertEqual(pids, sorted([str(a.self_pid), str(p2)]))
        self.assertEqual(b.members("workers"), [])
        with self.assertRaises(roster.RosterError) as cm:
            a.leave("workers")
        self.assertEqual(cm.exception.name, "ENOTMEMBER")

    def test_watch_iterates_events(self):
        w_client, a = self.client(), self.client()
        with w_client.watch("jobs/", prefix=True, snapshot=True) as w:
            it = iter(w)
            self.assertEqual(next(it).type, "snapshot_end")
            a.register("jobs/1", meta="m")
            ev = w.next(5000)
            self.assertEqual((ev.type, ev.name, ev.meta, ev.pid), ("registered", b"jobs/1", b"m",
                                                                   a.self_pid))
            a.unregister("jobs/1")
            ev = w.next(5000)
            self.assertEqual((ev.type, ev.reason), ("unregistered", "normal"))
            a.register("other")  # outside the prefix: nothing
            self.assertIsNone(w.next(200))

    def test_watch_keeps_other_events(self):
        a, b = self.client(), self.client()
        p = b.new_pid()
        with a.watch("x") as w:
            mon = a.monitor(p)
            b.close_pid(p)  # a "down" event, queued before the watch's own
            b.register("x")
            ev = w.next(5000)
            self.assertEqual((ev.type, ev.name), ("registered", b"x"))
            down = a.next_event(5000)
            self.assertEqual((down.type, down.id, down.pid), ("down", mon, p))

    def test_monitor_down(self):
        a, b = self.client(), self.client()
        p = b.new_pid()
        mon = a.monitor(p)
        b.close_pid(p)
        ev = a.next_event(5000)
        self.assertEqual((ev.type, ev.id, ev.pid, ev.reason), ("down", mon, p, "normal"))

    def test_leases_and_exit_reasons(self):
        a, w = self.client(), self.client()
        p = a.new_pid()
        a.register(b"leased", pid=p, ttl_ms=300)
        a.join(b"pool", pid=p, ttl_ms=300)
        self.assertEqual(a.renew(p), 2)
        deadline = time.monotonic() + 10
        while w.lookup(b"leased") is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertIsNone(w.lookup(b"leased"))  # gone with reason expired, a still connected
        ev = a.next_event(5000)
        self.assertEqual((ev.type, ev.reason), ("unregistered", "expired"))
        with self.assertRaises(roster.RosterError):
            a.renew(p)  # EEXPIRED once
        self.assertEqual(a.renew(p), 0)
        q = a.new_pid()
        mon = w.monitor(q)
        a.exit_pid(q, "drained")
        ev = w.next_event(5000)
        self.assertEqual((ev.type, ev.id, ev.reason, ev.reason_text), ("down", mon, "exit",
                                                                      b"drained"))

    def test_send_publish_call(self):
        a, b = self.client(), self.client()
        a.send(b.self_pid, b"hello", confirm=True)
        ev = b.next_event(5000)
        self.assertEqual((ev.type, ev.meta, ev.pid), ("message", b"hello", a.self_pid))
        with b.join("room"):
            self.assertEqual(a.publish("room", "hi all"), 1)
            self.assertEqual(b.next_event(5000).meta, b"hi all")
        with b.register("echo"):
            def serve():
                req = b.next_event(5000)
                b.reply(req, req.meta.upper())
            t = threading.Thread(target=serve)
            t.start()
            self.assertEqual(a.call("echo", b"ping"), b"PING")
            t.join()
        p = b.new_pid()
        b.close_pid(p)
        with self.assertRaises(roster.RosterError) as cm:
            a.send(p, b"x", confirm=True)
        self.assertEqual(cm.exception.name, "ENOPROC")

    def test_scopes_and_pid_text(self):
        c = self.client()
        self.assertIn("default", [s.name for s in c.scopes()])
        self.assertEqual(roster.Pid.parse(str(c.self_pid)), c.self_pid)
        with self.assertRaises(roster.RosterError):
            roster.Pid.parse("nope")


if __name__ == "__main__":
    unittest.main()
