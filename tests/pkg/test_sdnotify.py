#!/usr/bin/env python3
"""test_sdnotify: rosterd speaks systemd's notify protocol (src/node/sdnotify.c).

The test plays the service manager: it binds a datagram socket, starts rosterd with
NOTIFY_SOCKET pointing at it, and expects READY=1 only once the client socket exists, then,
with WATCHDOG_USEC set, repeated WATCHDOG=1; without WATCHDOG_USEC, no WATCHDOG=1.
Usage: test_sdnotify.py ROSTERD"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROSTERD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/bin/rosterd"


class Notify(unittest.TestCase):
    def start(self, watchdog_usec):
        self.dir = tempfile.TemporaryDirectory(prefix="roster-sdn-")
        self.addCleanup(self.dir.cleanup)
        self.notify_path = os.path.join(self.dir.name, "notify")
        self.sock_path = os.path.join(self.dir.name, "r.sock")
        self.ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.ns.bind(self.notify_path)
        self.addCleanup(self.ns.close)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        env.pop("WATCHDOG_PID", None)
        env.pop("WATCHDOG_USEC", None)
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.proc = subprocess.Popen(
            [ROSTERD, "--config", "/dev/null", "--socket", self.sock_path, "--name", "sdn"],
            env=env, stderr=subprocess.PIPE)
        self.addCleanup(self.stop)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, 15)
            self.proc.wait(timeout=10)
        self.proc.stderr.close()

    def messages(self, seconds, until=None):
        """Datagrams received within SECONDS (or until UNTIL(list) is true)."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ns.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.ns.recv(4096).decode()
            except socket.timeout:
                break
            got.append(data)
            if until and until(got):
                break
        return got

    def test_ready_then_watchdog(self):
        self.start(watchdog_usec=200000)  # 200 ms: a ping at least every 100 ms
        first = self.messages(10, until=lambda g: True)
        self.assertEqual(len(first), 1, "no notification from rosterd")
        self.assertIn("READY=1", first[0].split("\n"))
        # READY=1 means serving: the client socket must already exist.
        self.assertTrue(os.path.exists(self.sock_path), "READY=1 before the socket listened")
        pings = self.messages(10, until=lambda g: sum(m == "WATCHDOG=1" for m in g) >= 3)
        self.assertGreaterEqual(sum(m == "WATCHDOG=1" for m in pings), 3, pings)
        self.assertIsNone(self.proc.poll())
        os.kill(self.proc.pid, 15)
        self.assertEqual(self.proc.wait(timeout=10), 0)

    def test_no_watchdog_without_usec(self):
        self.start(watchdog_usec=None)
        first = self.messages(10, until=lambda g: True)
        self.assertTrue(first and "READY=1" in first[0].split("\n"), first)
        # Half a second is five periods of the watchdog above: none may come.
        self.assertEqual([m for m in self.messages(0.5) if "WATCHDOG" in m], [])


if __name__ == "__main__":
    unittest.main()
