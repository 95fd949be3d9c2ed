#!/usr/bin/env python3
"""Writes the seeds of the core fuzz targets for tokens, handoff and compare-and-set
(src/core/cas.c): tests/fuzz/corpus/core_client/cas (CHECK_TOKEN, HANDOFF, UPDATE, CAMPAIGN
from two clients) and tests/fuzz/corpus/core_peer/handoff (P_OP handoffs and a snapshot that
moves a claim to another pid). Frames follow src/wire/wire.h (cluster protocol 3: P_ENTRY and
P_OP carry ARG2, the holder's owner); re-run after changing them."""
import os, struct

HERE = os.path.dirname(__file__)
S, O, A, A2, P, SC, N, K, M, PV = (1 << i for i in range(10))
VERSION, MAGIC = 4, 0x52535452
INC = 0x1122334455667788       # both fuzz targets' own incarnation
PEER = 0x00000000000000b2      # fuzz_core_peer's peer


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


def conn(c, n):  # fuzz_core_client: bits 24-25 of req_id pick the connection
    return (c << 24) | n


def client_seed():
    f = b""
    for c in (0, 1):
        f += frame(1, conn(c, 1), body(A | O | K, opts=VERSION, arg=MAGIC, key=b"cli"))
    p1, p2 = (INC, 1), (INC, 2)
    f += frame(7, conn(0, 2), body(P | SC | K | M, pid=p1, key=b"db", meta=b"v1"))
    f += frame(12, conn(1, 2), body(P | SC | K | M, pid=p2, key=b"g", meta=b"a"))
    f += frame(33, conn(1, 3), body(A2 | SC | K, arg2=1, key=b"db"))
    f += frame(35, conn(0, 3), body(O | A2 | P | SC | K | M | PV, opts=3, arg2=1, key=b"db",
                                    meta=b"v2", prev=b"v1"))
    f += frame(35, conn(1, 4), body(O | A2 | P | SC | K | M | PV, opts=6, pid=p2, key=b"g",
                                    meta=b"b", prev=b"a"))
    f += frame(34, conn(1, 5), body(A2 | P | SC | K, pid=p2, key=b"db"))
    f += frame(34, conn(1, 6), body(A2 | P | SC | K, arg2=7, pid=p1, key=b"db"))
    f += frame(36, conn(0, 4), body(P | SC | K | M, pid=p1, key=b"lead"))
    f += frame(8, conn(1, 7), body(SC | K, key=b"db"))
    return f


def peer_seed():
    def op(o, reason, hlc, serial, key, meta=b""):
        return frame(69, 0, body(O | A | A2 | P | SC | K | M, opts=o | reason << 8, arg=hlc,
                                 pid=(PEER, serial), scope=b"default", key=key, meta=meta))
    f = op(1, 0, 100, 1, b"x", b"m")
    f += op(5, 7, 200, 2, b"x", b"m")           # handoff to pid 2
    f += op(5, 7, 300, 1, b"x", b"n")           # and back, with other metadata
    f += op(5, 7, 50, 3, b"a", b"m")            # of a name the peer never held here
    f += frame(66, 0, body(SC, scope=b"default"))
    f += frame(67, 0, body(O | A | A2 | P | SC | K | M, opts=1, arg=400, pid=(PEER, 4),
                           scope=b"default", key=b"x", meta=b"m"))
    f += frame(68, 0, body(SC, scope=b"default"))
    f += op(5, 1, 500, 5, b"x")                 # a handoff with the wrong reason
    return f


for target, name, data in (("core_client", "cas", client_seed()),
                           ("core_peer", "handoff", peer_seed())):
    with open(os.path.join(HERE, "corpus", target, name), "wb") as out:
        out.write(data)
