#!/usr/bin/env python3
"""Writes the seed corpus of the etcd_decode fuzz target (tests/fuzz/corpus/etcd_decode/):
etcd responses as protobuf bytes, field numbers as in src/etcd/proto, each preceded by the
target's two selector bytes (response type, txn branch shape). Keys carry the target's
prefix "/r/"."""
import os

OUT = os.environ.get("OUT") or os.path.join(os.path.dirname(__file__), "corpus", "etcd_decode")

def varint(v):
    v &= (1 << 64) - 1
    b = b""
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            b += bytes([c | 0x80])
        else:
            return b + bytes([c])

def f_int(n, v):
    return varint(n << 3) + varint(v) if v else b""

def f_bytes(n, b):
    return varint(n << 3 | 2) + varint(len(b)) + b

def header(rev):
    return f_bytes(1, f_int(1, 77) + f_int(2, 5) + f_int(3, rev) + f_int(4, 2))

def kv(key, value, create, mod, version, lease=0):
    return (f_bytes(1, b"/r/" + key) + f_int(2, create) + f_int(3, mod) + f_int(4, version)
            + f_bytes(5, value) + f_int(6, lease))

def rng(rev, kvs, count=None):
    return header(rev) + b"".join(f_bytes(2, k) for k in kvs) + f_int(4, len(kvs) if count is None else count)

def deep(levels):
    """a TxnResponse whose first response is a TxnResponse ... levels deep"""
    body = header(14) + f_int(2, 1)
    for _ in range(levels):
        body = header(14) + f_int(2, 1) + f_bytes(3, f_bytes(4, body))
    return body

# selector byte 0: 0 range, 1 put, 2 delete, 3 txn, 4 grant, 5 revoke, 6 keepalive, 7 watch
seeds = {
    "range_empty": bytes([0, 0]) + header(5),
    "range_two": bytes([0, 0]) + rng(9, [kv(b"names/a", b"1", 3, 3, 1), kv(b"names/b", b"meta", 4, 8, 2, 0x1234)]),
    "range_more": bytes([0, 0]) + rng(9, [kv(b"k", b"", 2, 2, 1)], 5) + f_int(3, 1),
    "put_prev": bytes([1, 0]) + header(10) + f_bytes(2, kv(b"n", b"old", 2, 9, 4)),
    "delete_prev": bytes([2, 0]) + header(11) + f_int(2, 1) + f_bytes(3, kv(b"n", b"x", 2, 10, 5)),
    # txn: succeeded with one put (shape byte: 1 success op; bit 4 set -> op type put)
    "txn_ok_put": bytes([3, 0x11]) + header(12) + f_int(2, 1) + f_bytes(3, f_bytes(2, header(12))),
    # txn: failed, failure branch one range returning the holder (shape: 0 succ, 1 fail)
    "txn_failed_range": bytes([3, 0x04]) + header(12) + f_bytes(3, f_bytes(1, rng(12, [kv(b"n", b"alice", 2, 2, 1)]))),
    # group commit (kvbatch.c): one txn whose success ops are nested txns (shape byte bit 7),
    # here two: the first created its key, the second found it taken (its range: the holder)
    "txn_nested": bytes([3, 0x82]) + header(13) + f_int(2, 1)
                  + f_bytes(3, f_bytes(4, header(0) + f_int(2, 1) + f_bytes(3, f_bytes(2, header(13)))))
                  + f_bytes(3, f_bytes(4, header(0) + f_bytes(3, f_bytes(1, rng(13, [kv(b"n/b", b"bob", 5, 7, 2)]))))),
    # nested deeper than ETCD_TXN_DEPTH_MAX: refused before protobuf-c unpacks it
    "txn_too_deep": bytes([3, 0x81]) + deep(8),
    "grant": bytes([4, 0]) + header(3) + f_int(2, 0x694d7a1b2c3d) + f_int(3, 10),
    "revoke": bytes([5, 0]) + header(4),
    "keepalive": bytes([6, 0]) + header(4) + f_int(2, 0x694d7a1b2c3d) + f_int(3, 9),
    "keepalive_gone": bytes([6, 0]) + header(4) + f_int(2, 0x694d7a1b2c3d) + f_int(3, (1 << 64) - 1),
    "watch_created": bytes([7, 0]) + header(20) + f_int(3, 1),
    "watch_events": bytes([7, 0]) + header(22) + f_bytes(11, f_bytes(2, kv(b"s/x", b"new", 2, 21, 2))
                     + f_bytes(3, kv(b"s/x", b"old", 2, 2, 1)))
                     + f_bytes(11, f_int(1, 1) + f_bytes(2, kv(b"s/y", b"", 0, 22, 0))),
    "watch_compacted": bytes([7, 0]) + header(30) + f_int(4, 1) + f_int(5, 25),
    "watch_canceled": bytes([7, 0]) + header(30) + f_int(2, 3) + f_int(4, 1) + f_bytes(6, b"no leader"),
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
