#!/usr/bin/env python3
"""Writes the seeds of the core fuzz targets for leases and exit reasons (src/core/lease.c,
ttl.c): tests/fuzz/corpus/core_client/leases (LEASE of names and memberships, RENEW, PLAIN
re-registers that drop a lease, ticks past the deadlines, PID_EXIT with good and refused
reasons, LOG_LEVEL trace and off) and tests/fuzz/corpus/core_peer/exits (P_OP removals with
reason expired, P_PID_EXIT and P_DOWN_EXIT, good and malformed). Frames follow
src/wire/wire.h; re-run after changing them."""
import os, struct

HERE = os.path.dirname(__file__)
S, O, A, A2, P, SC, N, K, M, PV = (1 << i for i in range(10))
VERSION, MAGIC = 4, 0x52535452
INC = 0x1122334455667788       # both fuzz targets' own incarnation
PEER = 0x00000000000000b2      # fuzz_core_peer's peer
TICK = 1 << 28                 # fuzz_core_client: a TICK after the frame


def body(fields, status=0, opts=0, arg=0, arg2=0, pid=(0, 0), scope=b"", node=b"",
         key=b"", meta=b"", prev=b""):
    b = b""
    if fields & S: b += struct.pack("<i", status)
    if fields & O: b += struct.pack("<I", opts)
    if fields & A: b += struct.pack("<Q", arg)
    if fields & A2: b += struct.pack("<Q", arg2)
    if fields & P: b += struct.pack("<QQ", *pid)
    if fields & SC: b += struct.pack("<H", len(scope)) + scope
    if fields & N: b += struct.pack("<H", len(node)) + node
    if fields & K: b += struct.pack("<I", len(key)) + key
    if fields & M: b += struct.pack("<I", len(meta)) + meta
    if fields & PV: b += struct.pack("<I", len(prev)) + prev
    return b


def frame(typ, req, b):
    return struct.pack("<IBBHI", 8 + len(b), typ, 0, 0, req) + b


def conn(c, n):
    return (c << 24) | n


def lease(c, n, kind, ttl, pid, key, meta=b""):
    return frame(40, conn(c, n), body(O | A | P | SC | K | M, opts=kind, arg=ttl, pid=pid,
                                      key=key, meta=meta))


def client_seed():
    f = b""
    for c in (0, 1):
        f += frame(1, conn(c, 1), body(A | O | K, opts=VERSION, arg=MAGIC, key=b"cli"))
    p1, p2 = (INC, 1), (INC, 2)
    f += frame(23, conn(0, 2), body(O, opts=4))                       # trace
    f += frame(12, conn(1, 2), body(P | SC | K | M, pid=p2, key=b"g"))
    f += frame(17, conn(1, 3), body(O | A | SC | K, opts=0x13))         # subscribe all
    f += frame(19, conn(1, 4), body(P, pid=p1))                         # monitor p1
    f += lease(0, 3, 1, 100, p1, b"db", b"v")
    f += lease(0, 4, 2, 150, p1, b"g", b"m")
    f += lease(0, 5, 1, 100, p2, b"x")                                  # not its pid
    f += lease(0, 6, 1, 99, p1, b"y")                                   # ttl too short
    f += lease(0, 7, 3, 500, p1, b"y")                                  # bad kind
    f += lease(1, 5, 1, 100, p2, b"db")                                 # taken
    f += frame(7, conn(0, 8), body(P | SC | K | M, pid=p1, key=b"db", meta=b"v"))  # drops it
    f += lease(0, 9, 1, 120, p1, b"db")
    for i in range(40):                                                 # time passes
        f += frame(2, conn(0, 10 + i) | TICK, b"")
    f += frame(41, conn(0, 60), body(P, pid=p1))                        # EEXPIRED
    f += frame(41, conn(0, 61), body(P, pid=p1))                        # then 0
    f += frame(41, conn(1, 62), body(P, pid=p1))                        # not its pid
    f += frame(42, conn(0, 63), body(P | M, pid=p1, meta=b"normal"))     # reserved
    f += frame(42, conn(0, 64), body(P | M, pid=p1, meta=b"a\nb"))       # control byte
    f += frame(42, conn(0, 65), body(P | M, pid=p1, meta=b"x" * 65))     # too long
    f += frame(42, conn(0, 66), body(P | M, pid=p1, meta=b"bye"))
    f += frame(23, conn(0, 67), body(O, opts=5))                        # off
    f += frame(23, conn(0, 68), body(O, opts=6))                        # refused
    return f


def peer_seed():
    def op(o, reason, hlc, serial, key, meta=b""):
        return frame(69, 0, body(O | A | P | SC | K | M, opts=o | reason << 8, arg=hlc,
                                 pid=(PEER, serial), scope=b"default", key=key, meta=meta))
    f = op(1, 0, 100, 1, b"x", b"m")
    f += op(3, 0, 110, 1, b"g", b"m")
    f += op(2, 8, 120, 1, b"x")                              # unregister, expired
    f += op(4, 8, 130, 1, b"g")                              # leave, expired
    f += op(1, 0, 140, 2, b"y")
    f += frame(89, 0, body(O | P | M, opts=10, pid=(PEER, 2), meta=b"drained"))
    f += frame(90, 0, body(O | A | P | M, opts=10, arg=1, pid=(PEER, 3), meta=b"bye"))
    f += frame(89, 0, body(O | P | M, opts=10, pid=(PEER, 4), meta=b"exit"))   # reserved
    f += op(1, 8, 150, 5, b"z")                              # register with expired: bad
    return f


for target, name, data in (("core_client", "leases", client_seed()),
                           ("core_peer", "exits", peer_seed())):
    with open(os.path.join(HERE, "corpus", target, name), "wb") as out:
        out.write(data)
