"""ctypes declarations of libroster (include/roster.h): the structures, the library's
loading and each function's signature, so the rest of the package calls typed functions.
Kept in one place because a layout here that differs from roster.h corrupts memory."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (POINTER, Structure, c_char, c_char_p, c_int, c_size_t, c_uint,
                    c_int32, c_uint8, c_uint32, c_uint64, c_void_p)


class Pid(Structure):
    _fields_ = [("node_inc", c_uint64), ("serial", c_uint64)]


class Buf(Structure):
    _fields_ = [("data", POINTER(c_uint8)), ("len", c_size_t)]


class Entry(Structure):
    _fields_ = [("name", Buf), ("pid", Pid), ("node", c_char * 256), ("meta", Buf),
                ("count", c_uint64), ("groups", c_uint64), ("mode", c_int),
                ("token", c_uint64), ("revision", c_uint64), ("options", c_uint)]


class Entries(Structure):
    _fields_ = [("items", POINTER(Entry)), ("n", c_size_t)]


class Options(Structure):
    _fields_ = [("socket_path", c_char_p), ("client_name", c_char_p), ("timeout_ms", c_int),
                ("event_queue_bytes", c_size_t), ("group_messages", c_int),
                # every field of roster_options: roster_options_init writes them all
                ("no_shm", c_int), ("reconnect", c_int), ("reconnect_max_ms", c_int),
                ("drop_messages", c_int), ("no_channels", c_int)]


class Event(Structure):
    _fields_ = [("type", c_int), ("snapshot", c_int), ("id", c_uint64), ("req_id", c_uint64),
                ("status", c_int), ("reason", c_int), ("scope", c_char * 256), ("name", Buf),
                ("pid", Pid), ("node", c_char * 256), ("meta", Buf), ("prev_meta", Buf),
                ("to", Pid), ("msg_kind", c_int), ("call_ref", c_uint64),
                ("dropped", c_uint64), ("n_to", c_size_t), ("to_all", POINTER(Pid)),
                ("revision", c_uint64), ("token", c_uint64),
                ("old_incarnation", c_uint64), ("new_incarnation", c_uint64), ("what", c_int),
                ("reason_text", Buf)]


class NodeInfo(Structure):
    _fields_ = [("name", c_char * 256), ("incarnation", c_uint64), ("state", c_int),
                ("self", c_int), ("down_since_ms", c_uint64)]


class Nodes(Structure):
    _fields_ = [("items", POINTER(NodeInfo)), ("n", c_size_t)]


class Match(Structure):
    _fields_ = [("op", c_int), ("field", c_char_p), ("value", c_void_p), ("value_len", c_size_t)]


class Query(Structure):
    _fields_ = [("key", c_void_p), ("key_len", c_size_t), ("prefix", c_int), ("pid", Pid),
                ("node", c_char_p), ("local_only", c_int), ("limit", c_size_t),
                ("match", POINTER(Match)), ("n_match", c_size_t)]


class Counts(Structure):
    _fields_ = [("names", c_uint64), ("groups", c_uint64), ("members", c_uint64),
                ("revision", c_uint64)]


class BatchItem(Structure):
    _fields_ = [("key", c_void_p), ("key_len", c_size_t), ("pid", Pid), ("meta", c_void_p),
                ("meta_len", c_size_t), ("status", c_int), ("holder", Pid),
                ("token", c_uint64)]


class UpdateCond(Structure):
    _fields_ = [("if_token", c_int), ("token", c_uint64), ("if_meta", c_int),
                ("meta", c_void_p), ("meta_len", c_size_t), ("member", Pid)]


class Owner(Structure):
    _fields_ = [("os_pid", c_int32), ("uid", c_uint32), ("node", c_char * 256)]


class Stat(Structure):
    _fields_ = [("key", c_char * 64), ("value", c_uint64)]


class Stats(Structure):
    _fields_ = [("items", POINTER(Stat)), ("n", c_size_t)]


class MultiReply(Structure):
    _fields_ = [("pid", Pid), ("data", Buf)]


class MultiResult(Structure):
    _fields_ = [("replies", POINTER(MultiReply)), ("n_replies", c_size_t),
                ("bad", POINTER(Pid)), ("n_bad", c_size_t)]


def _load() -> ctypes.CDLL:
    """$ROSTER_LIB (a path), else the installed libroster.so.4 (ldconfig's search)."""
    path = os.environ.get("ROSTER_LIB") or ctypes.util.find_library("roster") or "libroster.so.4"
    return ctypes.CDLL(path)


lib = _load()

_P = POINTER
_SIGS = {
    "roster_strerror": (c_char_p, [c_int]),
    "roster_err_name": (c_char_p, [c_int]),
    "roster_version": (c_int, []),
    "roster_pid_format": (c_char_p, [Pid, c_char_p]),
    "roster_pid_parse": (c_int, [c_char_p, _P(Pid)]),
    "roster_reason_name": (c_char_p, [c_int]),
    "roster_event_type_name": (c_char_p, [c_int]),
    "roster_buf_free": (None, [_P(Buf)]),
    "roster_entries_free": (None, [_P(Entries)]),
    "roster_entry_free": (None, [_P(Entry)]),
    "roster_options_init": (None, [_P(Options)]),
    "roster_connect": (c_int, [_P(c_void_p), _P(Options)]),
    "roster_close": (None, [c_void_p]),
    "roster_errdetail": (c_char_p, [c_void_p]),
    "roster_self": (Pid, [c_void_p]),
    "roster_node_name": (c_char_p, [c_void_p]),
    "roster_pid_new": (c_int, [c_void_p, _P(Pid), c_int]),
    "roster_pid_close": (c_int, [c_void_p, Pid, c_int]),
    "roster_pid_exit": (c_int, [c_void_p, Pid, c_char_p, c_int]),
    "roster_renew": (c_int, [c_void_p, Pid, _P(c_uint64), c_int]),
    "roster_register_ttl": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_char_p,
                                    c_size_t, c_uint32, _P(Pid), _P(c_uint64), c_int]),
    "roster_join_ttl": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_char_p,
                                c_size_t, c_uint32, c_int]),
    "roster_scopes": (c_int, [c_void_p, _P(Entries), c_int]),
    "roster_register": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_char_p,
                                c_size_t, _P(Pid), c_int]),
    "roster_unregister": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, c_int]),
    "roster_lookup": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, _P(Entry), c_int]),
    "roster_join": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_char_p, c_size_t,
                            c_int]),
    "roster_leave": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_int]),
    "roster_members": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, c_int, _P(Entries),
                               c_int]),
    "roster_subscribe": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, c_uint, _P(c_uint64),
                                 c_int]),
    "roster_unsubscribe": (c_int, [c_void_p, c_uint64, c_int]),
    "roster_monitor": (c_int, [c_void_p, Pid, _P(c_uint64), c_int]),
    "roster_wait_event": (c_int, [c_void_p, _P(Event), c_int]),
    "roster_event_free": (None, [_P(Event)]),
    "roster_send": (c_int, [c_void_p, Pid, Pid, c_char_p, c_size_t, c_uint, c_int]),
    "roster_send_name": (c_int, [c_void_p, Pid, c_char_p, c_char_p, c_size_t, c_char_p,
                                 c_size_t, c_uint, c_int]),
    "roster_publish": (c_int, [c_void_p, Pid, c_char_p, c_char_p, c_size_t, c_char_p,
                               c_size_t, c_uint, _P(c_size_t), c_int]),
    "roster_call": (c_int, [c_void_p, Pid, Pid, c_char_p, c_size_t, _P(Buf), _P(Pid), c_int]),
    "roster_call_name": (c_int, [c_void_p, Pid, c_char_p, c_char_p, c_size_t, c_char_p,
                                 c_size_t, _P(Buf), _P(Pid), c_int]),
    "roster_reply": (c_int, [c_void_p, _P(Event), c_char_p, c_size_t, c_int]),
    "roster_nodes_list": (c_int, [c_void_p, c_char_p, _P(Nodes), c_int]),
    "roster_nodes_free": (None, [_P(Nodes)]),
    "roster_ping": (c_int, [c_void_p, c_int]),
    # more.py: scopes, queries, batches, strong scopes, administration
    "roster_scope_create": (c_int, [c_void_p, c_char_p, c_int, c_int]),
    "roster_scope_join": (c_int, [c_void_p, c_char_p, c_int]),
    "roster_scope_join_ttl": (c_int, [c_void_p, c_char_p, c_int, c_int]),
    "roster_scope_leave": (c_int, [c_void_p, c_char_p, c_int]),
    "roster_scope_meta_set": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, c_char_p,
                                      c_size_t, c_int]),
    "roster_scope_meta_get": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, _P(Buf), c_int]),
    "roster_scope_meta_list": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, _P(Entries),
                                       c_int]),
    "roster_scope_meta_delete": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, c_int]),
    "roster_names": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_size_t,
                             _P(Entries), c_int]),
    "roster_groups": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_size_t,
                              _P(Entries), c_int]),
    "roster_count": (c_int, [c_void_p, c_char_p, c_char_p, _P(Counts), c_int]),
    "roster_is_member": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_int]),
    "roster_lookup_all": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, _P(Entries), c_int]),
    "roster_query_init": (None, [_P(Query)]),
    "roster_query_names": (c_int, [c_void_p, c_char_p, _P(Query), _P(Entries), c_int]),
    "roster_query_members": (c_int, [c_void_p, c_char_p, _P(Query), _P(Entries), c_int]),
    "roster_query_count": (c_int, [c_void_p, c_char_p, _P(Query), _P(Counts), c_int]),
    "roster_unregister_match": (c_int, [c_void_p, c_char_p, _P(Query), c_int]),
    "roster_leave_match": (c_int, [c_void_p, c_char_p, _P(Query), c_int]),
    "roster_register_many": (c_int, [c_void_p, c_char_p, _P(BatchItem), c_size_t, c_int]),
    "roster_join_many": (c_int, [c_void_p, c_char_p, _P(BatchItem), c_size_t, c_int]),
    "roster_register_token": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_char_p,
                                      c_size_t, _P(Pid), _P(c_uint64), c_int]),
    "roster_check_token": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, c_uint64,
                                   _P(c_uint64), c_int]),
    "roster_handoff": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_uint64,
                               _P(c_uint64), c_int]),
    "roster_update": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, c_char_p, c_size_t,
                              _P(UpdateCond), _P(c_uint64), _P(Buf), c_int]),
    "roster_campaign": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, Pid, c_char_p,
                                c_size_t, _P(c_uint64), c_int]),
    "roster_set_read_mode": (c_int, [c_void_p, c_int]),
    "roster_last_revision": (c_uint64, [c_void_p]),
    "roster_demonitor": (c_int, [c_void_p, c_uint64, c_int]),
    "roster_multi_call": (c_int, [c_void_p, Pid, c_char_p, c_char_p, c_size_t, c_char_p,
                                  c_size_t, c_uint, _P(MultiResult), c_int]),
    "roster_multi_result_free": (None, [_P(MultiResult)]),
    "roster_status": (c_int, [c_void_p, _P(Stats), c_int]),
    "roster_stats_free": (None, [_P(Stats)]),
    "roster_log_level": (c_int, [c_void_p, c_char_p, c_int]),
    "roster_pid_owner": (c_int, [c_void_p, Pid, _P(Owner), c_int]),
    "roster_cluster_join": (c_int, [c_void_p, c_char_p, c_int]),
    "roster_cluster_leave": (c_int, [c_void_p, _P(c_size_t), c_int]),
    "roster_forget": (c_int, [c_void_p, c_char_p, _P(c_size_t), c_int]),
    "roster_uses_shm": (c_int, [c_void_p]),
}
for _name, (_res, _args) in _SIGS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


def buf_bytes(b: Buf) -> bytes:
    """The bytes of a library buffer (copied: the buffer is freed by its owner)."""
    return ctypes.string_at(b.data, b.len) if b.data and b.len else b""
