#!/usr/bin/env python3
"""Writes the seeds of the core fuzz targets for runtime membership, owners and the
conflict policy agreement (issue 11 items 13, 15, 16; src/core/membership.c, owner.c,
resolver.c): tests/fuzz/corpus/core_client/member (CLUSTER_JOIN, FORGET, OWNER,
CLUSTER_LEAVE) and tests/fuzz/corpus/core_peer/member (P_POLICY, puts carrying their
owner, a snapshot, OWNER-bearing entries, P_LEAVE, then a policy mismatch). Frames follow
src/wire/wire.h (cluster protocol 3); re-run after changing them."""
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
    f = frame(1, conn(0, 1), body(A | O | K, opts=VERSION, arg=MAGIC, key=b"cli"))
    f += frame(7, conn(0, 2), body(P | SC | K | M, pid=(INC, 1), key=b"db", meta=b"v"))
    f += frame(50, conn(0, 3), body(P, pid=(INC, 1)))               # OWNER, own pid
    f += frame(50, conn(0, 4), body(P, pid=(PEER, 9)))              # OWNER, unknown
    f += frame(47, conn(0, 5), body(K, key=b"127.0.0.1:7401"))      # CLUSTER_JOIN
    f += frame(47, conn(0, 6), body(K, key=b"nohost"))
    f += frame(49, conn(0, 7), body(N | K, node=b"zz"))             # FORGET
    f += frame(49, conn(0, 8), body(N | K, node=b""))
    f += frame(49, conn(0, 11), body(N | K, key=b"10.1.1.1:7401"))  # FORGET by address
    f += frame(48, conn(0, 9), body(0))                             # CLUSTER_LEAVE
    f += frame(47, conn(0, 10), body(K, key=b"[::1]:7401"))
    return f


def peer_seed():
    def op(o, hlc, serial, key, owner=0, meta=b""):
        return frame(69, 0, body(O | A | A2 | P | SC | K | M, opts=o | 1 << 8, arg=hlc,
                                 arg2=owner, pid=(PEER, serial), scope=b"default", key=key,
                                 meta=meta))
    f = frame(84, 0, body(O | A | K, opts=0))                       # P_POLICY oldest: agrees
    f += op(1, 100, 1, b"x", 4242 | 77 << 32, b"m")
    f += op(3, 0, 2, b"g", 5151)
    f += frame(66, 0, body(SC, scope=b"default"))
    f += frame(67, 0, body(O | A | A2 | P | SC | K | M, opts=1, arg=400, arg2=99 | 5 << 32,
                           pid=(PEER, 3), scope=b"default", key=b"y", meta=b"m"))
    f += frame(68, 0, body(SC, scope=b"default"))
    f += frame(83, 0, body(0))                                      # P_LEAVE
    f += frame(84, 0, body(O | A | K, opts=3, arg=2, key=b"other"))  # a policy mismatch
    f += frame(84, 0, body(O | A | K, opts=9))                      # malformed
    return f


for target, name, data in (("core_client", "member", client_seed()),
                           ("core_peer", "member", peer_seed())):
    with open(os.path.join(HERE, "corpus", target, name), "wb") as out:
        out.write(data)
