#!/usr/bin/env python3
"""Writes the seed corpus of the wire_decode fuzz target (tests/fuzz/corpus/wire_decode/).
Frames follow src/wire/wire.h; re-run after changing message shapes."""
import os, struct

OUT = os.environ.get("OUT") or os.path.join(os.path.dirname(__file__), "corpus", "wire_decode")
S, O, A, A2, P, SC, N, K, M, PV = (1 << i for i in range(10))

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

def frame(typ, flags, req, b):
    return struct.pack("<IBBHI", 8 + len(b), typ, flags, 0, req) + b

def serials(first, n):
    return b"".join(struct.pack("<Q", first + i) for i in range(n))

MSG_FROM = (0x1122334455667788, 9)

def message(kind, to, prev, payload, ref=0):
    return frame(28, 0, 0, body(O | A | A2 | P | SC | N | K | M | PV, opts=kind, arg=to,
                                arg2=ref, pid=MSG_FROM, scope=b"default", node=b"fuzz",
                                key=b"g", meta=payload, prev=prev))

pid = (0x1234567890abcdef, 3)
seeds = {
    "hello": frame(1, 0, 1, body(A | O | K, opts=3, arg=0x52535452, key=b"cli")),  # version 3
    # version 3: an accepted HELLO's PREV is the limits block (u32 message_max)
    "hello_reply": frame(1, 1, 1, body(S | O | A | A2 | P | N | PV, opts=1024, arg=99,
                                       arg2=(65536 << 32) | 1048576, pid=pid, node=b"a",
                                       prev=struct.pack("<I", 1 << 20))),
    "hello_refused": frame(1, 1, 1, body(S | O | A | A2 | P | N | PV, status=-15, arg=99,
                                         node=b"a", prev=b"node speaks protocol version 3")),
    "ping": frame(2, 0, 2, b""),
    "register": frame(7, 0, 3, body(P | SC | K | M, pid=pid, scope=b"default", key=b"db",
                                    meta=b"primary")),
    "register_reply_taken": frame(7, 1, 3, body(S | P | PV, status=-3, pid=pid, prev=b"held")),
    "lookup": frame(9, 0, 4, body(SC | K, key=b"db")),
    "names_item": frame(10, 2, 5, body(P | N | K | M, pid=pid, node=b"a", key=b"db", meta=b"m")),
    "members": frame(14, 0, 6, body(O | SC | K, opts=1, key=b"workers")),
    "subscribe": frame(17, 0, 7, body(O | SC | K, opts=0x1 | 0x4 | 0x8, key=b"user.")),
    "event": frame(24, 0, 0, body(O | A | P | SC | N | K | M | PV, opts=2 | (2 << 8), arg=1,
                                  pid=pid, scope=b"default", node=b"a", key=b"db",
                                  meta=b"x", prev=b"y")),
    "status_item": frame(21, 2, 8, body(A | K, arg=5, key=b"names")),
    "two_frames": frame(2, 0, 9, b"") + frame(9, 0, 10, body(SC | K, key=b"n")),
    # MESSAGE (version 2): ARG = first receiving serial, PREV = the others (u64 LE each)
    "message_prev0": message(2, 3, serials(4, 0), b"news"),
    "message_prev8": message(2, 3, serials(4, 1), b"news"),
    "message_prev24": message(2, 3, serials(4, 3), b"news"),
    # not a multiple of 8: decodes (the codec does not read PREV), libroster refuses it
    "message_prev5": message(2, 3, b"\x04\x00\x00\x00\x00", b"news"),
    "message_call": message(3, 3, b"", b"q", ref=7),
    # 33 serials: 264 bytes, above this target's meta_max (256)
    "message_prev_over_meta": message(2, 3, serials(4, 33), b"news"),
    # a version-1 MESSAGE (no PREV field: truncated now), then a PING
    "message_v1": frame(28, 0, 0, body(O | A | A2 | P | SC | N | K | M, opts=1, arg=3,
                                       pid=MSG_FROM, scope=b"default", node=b"fuzz",
                                       key=b"g", meta=b"hi")) + frame(2, 0, 2, b""),
    "huge_len": struct.pack("<I", 0xFFFFFFFF) + b"\x07\x00\x00\x00",
    "short_len": struct.pack("<I", 3) + b"\x02\x00\x00",
}
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
