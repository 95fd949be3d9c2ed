#!/usr/bin/env python3
"""Writes the seeds of the core fuzz targets for scope options, scope metadata and scope
leases (issue 11 items 9, 10, 11, 14): tests/fuzz/corpus/core_client/scopeopt (SCOPE_CREATE
with options, duplicate joins, per-node lookups, SCOPE_META_*, SCOPE_LEASE, a metadata
subscription) and tests/fuzz/corpus/core_peer/scopeopt (P_SCOPE with options, P_SMETA sets,
deletes, an older write, a malformed one). Frames follow src/wire/wire.h; re-run after
changing them."""
import os, struct

HERE = os.path.dirname(__file__)
S, O, A, A2, P, SC, N, K, M, PV = (1 << i for i in range(10))
VERSION, MAGIC = 4, 0x52535452
INC = 0x1122334455667788       # both fuzz targets' own incarnation
DUP, PER_NODE, SUB_META, OPT_EXACT = 0x100, 0x200, 0x100, 0x1000


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


def client_seed():
    p1 = (INC, 1)
    f = frame(1, 1, body(A | O | K, opts=VERSION, arg=MAGIC, key=b"cli"))
    f += frame(5, 2, body(O | SC, opts=PER_NODE, scope=b"u"))
    f += frame(5, 3, body(O | SC, opts=DUP, scope=b"d"))
    f += frame(7, 4, body(P | SC | K | M, pid=p1, scope=b"u", key=b"svc", meta=b"a"))
    f += frame(9, 5, body(O | SC | K, opts=1, scope=b"u", key=b"svc"))
    f += frame(10, 6, body(O | A | P | SC | K, opts=OPT_EXACT, scope=b"u", key=b"svc"))
    f += frame(12, 7, body(P | SC | K | M, pid=p1, scope=b"d", key=b"g", meta=b"1"))
    f += frame(12, 8, body(P | SC | K | M, pid=p1, scope=b"d", key=b"g", meta=b"2"))
    f += frame(13, 9, body(P | SC | K, pid=p1, scope=b"d", key=b"g"))
    f += frame(17, 10, body(O | A | SC | K, opts=SUB_META | 0x18, scope=b"d"))
    f += frame(43, 11, body(SC | K | M, scope=b"d", key=b"color", meta=b"blue"))
    f += frame(44, 12, body(O | SC | K, opts=1, scope=b"d", key=b"color"))
    f += frame(44, 13, body(O | SC | K, scope=b"d"))
    f += frame(45, 14, body(SC | K, scope=b"d", key=b"color"))
    f += frame(46, 15, body(A | SC, arg=1, scope=b"l"))
    f += frame(46, 16, body(A | SC, arg=0, scope=b"default"))
    return f


def peer_seed():
    def smeta(op, hlc, key, val=b"", node=b"peer"):
        return frame(80, 0, body(O | A | SC | N | K | M, opts=op, arg=hlc, scope=b"default",
                                 node=node, key=key, meta=val))
    f = frame(65, 0, body(O | SC, opts=1 | PER_NODE, scope=b"u"))
    f += frame(65, 0, body(O | SC, opts=1 | DUP, scope=b"default"))
    f += frame(65, 0, body(O | SC, opts=1, scope=b"default"))
    f += smeta(1, 100, b"k", b"v")
    f += smeta(1, 50, b"k", b"older")
    f += smeta(2, 200, b"k")
    f += smeta(1, 200, b"k", b"tie", b"zz")
    f += smeta(9, 300, b"k")                  # an unknown op: the peer fails
    return f


for target, name, data in (("core_client", "scopeopt", client_seed()),
                           ("core_peer", "scopeopt", peer_seed())):
    with open(os.path.join(HERE, "corpus", target, name), "wb") as out:
        out.write(data)
