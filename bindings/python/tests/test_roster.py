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
                 "roster_pid": _ffi.Pid, "roster_buf": _ffi.Buf, "roster_match": _ffi.Match,
                 "roster_query": _ffi.Query, "roster_counts": _ffi.Counts,
                 "roster_batch_item": _ffi.BatchItem, "roster_update_cond": _ffi.UpdateCond,
                 "roster_owner": _ffi.Owner, "roster_stat": _ffi.Stat,
                 "roster_stats": _ffi.Stats, "roster_multi_reply": _ffi.MultiReply,
                 "roster_multi_result": _ffi.MultiResult}
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

    def test_scope_admin_and_scope_meta(self):
        c = self.client()
        c.scope_create("py-dup", duplicate_members=True)
        with self.assertRaises(roster.RosterError) as cm:
            c.scope_create("py-dup")
        self.assertEqual(cm.exception.name, "EEXIST")
        with self.assertRaises(roster.RosterError) as cm:
            c.scope_create("py-strong", strong=True)  # this node has no --etcd
        self.assertEqual(cm.exception.name, "EUNAVAIL")
        c.join("g", scope="py-dup", meta="one")
        c.join("g", scope="py-dup", meta="two")  # a second membership of the same pid
        self.assertEqual([m.meta for m in c.members("g", scope="py-dup")], [b"one", b"two"])
        c.scope_meta_set("owner", "team-a")
        c.scope_meta_set("region", "eu")
        self.assertEqual(c.scope_meta_get("owner"), b"team-a")
        self.assertEqual(c.scope_meta(), {b"owner": b"team-a", b"region": b"eu"})
        c.scope_meta_delete("owner")
        self.assertIsNone(c.scope_meta_get("owner"))
        self.assertEqual(c.scope_meta("reg"), {b"region": b"eu"})

    def test_listings_and_queries(self):
        a, b = self.client(), self.client()
        p = a.new_pid()
        a.register("q/db1", meta='{"role":"db","port":5432}', pid=p)
        a.register("q/db2", meta='{"role":"db","port":5433}')
        a.register("q/web", meta='{"role":"web"}')
        a.join("q/pool", meta="zone-a")
        a.join("q/pool", meta="zone-b", pid=p)
        self.assertEqual([e.name for e in b.names("q/")], [b"q/db1", b"q/db2", b"q/web"])
        self.assertEqual([e.name for e in b.names("q/", pid=p)], [b"q/db1"])
        self.assertEqual([(g.name, g.count) for g in b.groups("q/")], [(b"q/pool", 2)])
        self.assertTrue(b.is_member("q/pool", p))
        self.assertFalse(b.is_member("q/pool", b.self_pid))
        dbs = b.query_names("q/", match=[("field", "role", "db")])
        self.assertEqual([e.name for e in dbs], [b"q/db1", b"q/db2"])
        self.assertEqual([e.name for e in b.query_names("q/", match=[("glob", "*5433*")])],
                         [b"q/db2"])
        self.assertEqual([e.pid for e in b.query_members("q/pool", match=[("eq", "zone-b")])],
                         [p])
        n = b.query_count("q/", match=[("prefix", '{"role":"db"')])
        self.assertEqual((n.names, n.members), (2, 0))
        self.assertGreaterEqual(b.count().names, 3)
        self.assertEqual([e.pid for e in b.lookup_all("q/web")], [a.self_pid])
        with self.assertRaises(roster.RosterError) as cm:
            b.query_names("q/", match=[("nonsense", "x")])
        self.assertEqual(cm.exception.name, "EINVAL")
        self.assertEqual(a.unregister_match("q/db", match=[("field", "role", "db")]), 2)
        self.assertEqual([e.name for e in b.names("q/")], [b"q/web"])
        self.assertEqual(a.leave_match("q/pool", prefix=False, pid=p), 1)
        self.assertEqual([m.meta for m in b.members("q/pool")], [b"zone-a"])

    def test_batches(self):
        a, b = self.client(), self.client()
        b.register("batch/2")
        res = a.register_many(["batch/1", ("batch/2", "m2"), ("batch/3", "m3")])
        self.assertEqual([r.error for r in res], [None, "ETAKEN", None])
        self.assertEqual(res[1].holder, b.self_pid)
        self.assertEqual(b.lookup("batch/3").meta, b"m3")
        res = a.join_many([("pool/x", "1"), "pool/y"])
        self.assertEqual([r.status for r in res], [0, 0])
        self.assertTrue(b.is_member("pool/y", a.self_pid))

    def test_tokens_handoff_update(self):
        a, b = self.client(), self.client()
        p = a.new_pid()
        t1 = a.register_token("lead", meta="v1")
        self.assertTrue(b.check_token("lead", t1))
        t2 = a.handoff("lead", p)  # between pids of one node in an eventual scope
        self.assertGreater(t2, t1)
        self.assertFalse(b.check_token("lead", t1))
        self.assertEqual(b.lookup("lead").pid, p)
        t3 = a.update("lead", "v2", if_meta="v1")
        self.assertEqual(b.lookup("lead").meta, b"v2")
        with self.assertRaises(roster.RosterError) as cm:
            a.update("lead", "v3", if_meta="v1")
        self.assertEqual((cm.exception.name, cm.exception.current, cm.exception.token),
                         ("ECONFLICT", b"v2", t3))
        with self.assertRaises(roster.RosterError) as cm:
            a.campaign("lead2")  # strong scopes only
        self.assertEqual(cm.exception.name, "EINVAL")

    def test_multi_call_status_owner(self):
        a, b = self.client(), self.client()
        with b.join("mc"):
            def serve():
                req = b.next_event(5000)
                b.reply(req, b"pong")
            t = threading.Thread(target=serve)
            t.start()
            res = a.multi_call("mc", b"ping", timeout_ms=5000)
            t.join()
        self.assertEqual(res.replies, [(b.self_pid, b"pong")])
        self.assertEqual(res.bad, [])
        st = a.status()
        self.assertGreaterEqual(st["clients"], 2)
        with a.register("owned"):
            o = b.owner(a.self_pid)
            self.assertEqual((o.os_pid, o.uid, o.node), (os.getpid(), os.getuid(), "py"))
        mon = a.monitor(b.self_pid)
        a.demonitor(mon)
        a.log_level("warn")

    def test_scopes_and_pid_text(self):
        c = self.client()
        self.assertIn("default", [s.name for s in c.scopes()])
        self.assertEqual(roster.Pid.parse(str(c.self_pid)), c.self_pid)
        with self.assertRaises(roster.RosterError):
            roster.Pid.parse("nope")


if __name__ == "__main__":
    unittest.main()
