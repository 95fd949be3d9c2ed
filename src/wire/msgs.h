/* msgs.h: the one list of roster message types, and what every field of every type means.
 *
 * RS_MSG_MAP is the single source of enum rs_msg_type (wire.h), the codec's shape table
 * (wire.c), rs_wire_type_name() (wire.c) and the type table of docs/PROTOCOL.md
 * (scripts/gen_msg_docs.py prints it; the ctest doc_msg_types fails when they differ).
 *
 *   X(NAME, value, request, item, reply, "meaning")
 *
 * request / item / reply are the fields each shape carries, in wire order (wire.h):
 *   S = STATUS  O = OPTS  A = ARG  A2 = ARG2  P = PID  SC = SCOPE  N = NODE  K = KEY
 *   M = META  PV = PREV;  NONE = the shape exists with no field;  0 = no such shape.
 * These short names exist only where the map is expanded into the shape table (wire.c).
 * Peer frames (value >= RS_MSG_PEER_MIN) have one shape, sent with flags 0: the request's.
 *
 * RS_FIELD_MAP says, for each (type, shape) field whose meaning depends on the type, what it
 * means, and names its accessor:
 *
 *   X(accessor, TYPE, shape, field, "meaning")
 *
 * Each entry generates, at no run-time cost,
 *   rs_msg_<accessor>(const struct rs_msg *m)    the field's value, and
 *   rs_msg_<accessor>_set(struct rs_msg *m, value) storing it,
 * so code says rs_msg_subscribe_reply_id(&r) where it used to say r.arg. wire.c checks at
 * compile time that every entry's field is in its type's shape. Fields with one meaning in
 * every type (STATUS = 0 or a ROSTER_E* code, SCOPE = a scope name, PID = the pid the type
 * is about) are read directly, unless the type gives them a particular role (REGISTER's
 * reply PID is the holder). Fields packing several values have pack/unpack helpers below
 * the map.
 *
 * Adding a message type: add one line to RS_MSG_MAP (next free value; a peer frame takes a
 * value >= 64), an RS_FIELD_MAP line for each of its fields whose meaning is its own, run
 * scripts/gen_msg_docs.py --update docs/PROTOCOL.md, and, if an existing shape changed, bump
 * RS_WIRE_VERSION (wire.h). The core dispatches the new type in its on_msg switch.
 */
#ifndef ROSTER_WIRE_MSGS_H
#define ROSTER_WIRE_MSGS_H

/* clang-format off */
#define RS_MSG_MAP(X)                                                                             \
    X(HELLO,         1, A|O|K,       0, S|O|A|A2|P|N|PV,                                          \
      "handshake: versions, node limits, the client's first pid")                                 \
    X(PING,          2, NONE,        0, S,               "liveness")                              \
    X(PID_NEW,       3, NONE,        0, S|P|PV,          "a new pid for this client")             \
    X(PID_CLOSE,     4, P,           0, S|PV,            "close one of the client's pids")        \
    X(SCOPE_CREATE,  5, O|SC,        0, S|PV,            "create a scope")                        \
    X(SCOPES,        6, NONE,        O|A|A2|SC, S|A|PV,  "list the scopes")                       \
    X(REGISTER,      7, P|SC|K|M,    0, S|A2|P|PV,          "register a unique name")                \
    X(UNREGISTER,    8, SC|K,        0, S|PV,            "remove a name")                         \
    X(LOOKUP,        9, O|SC|K,      0, S|A|A2|P|N|M|PV,      "find a name's holder")                  \
    X(NAMES,        10, O|A|P|SC|K,  P|N|K|M, S|A|A2|PV,    "list names")                            \
    X(COUNT,        11, O|SC|N,      A|K, S|A|A2|PV,        "count names, groups, members")          \
    X(JOIN,         12, P|SC|K|M,    0, S|PV,            "join a group")                          \
    X(LEAVE,        13, P|SC|K,      0, S|PV,            "leave a group")                         \
    X(MEMBERS,      14, O|SC|K,      P|N|K|M, S|A|A2|PV,    "list a group's members")                \
    X(IS_MEMBER,    15, O|P|SC|K,    0, S|A|A2|PV,          "is a pid a member of a group")          \
    X(GROUPS,       16, O|A|P|SC|K,  A|P|N|K|M, S|A|A2|PV,  "list groups")                           \
    X(SUBSCRIBE,    17, O|A|SC|K,    0, S|A|PV,          "subscribe to registry/group events")    \
    X(UNSUBSCRIBE,  18, A,           0, S|PV,            "end a subscription")                    \
    X(MONITOR,      19, P,           0, S|A|PV,          "be told when a pid goes down")          \
    X(DEMONITOR,    20, A,           0, S|PV,            "end a monitor")                         \
    X(STATUS,       21, NONE,        A|K, S|A|PV,        "node statistics and limits")            \
    X(NODES,        22, SC,          O|A|A2|N, S|A|PV,   "list the cluster's nodes")              \
    X(LOG_LEVEL,    23, O,           0, S|PV,            "set the node's log level")              \
    X(EVENT,        24, O|A|A2|P|SC|N|K|M|PV, 0, 0,     "node -> client: an event (req_id 0)")    \
    X(SCOPE_JOIN,   25, SC,          0, S|PV,            "join a scope on this node")             \
    X(SCOPE_LEAVE,  26, SC,          0, S|PV,            "leave a scope on this node")            \
    X(SEND,         27, O|A|P|SC|K|M, 0, S|PV,           "send a message to a pid or a name")     \
    X(MESSAGE,      28, O|A|A2|P|SC|N|K|M|PV, 0, 0,     "node -> client: a message (req_id 0)")   \
    X(PUBLISH,      29, O|A|SC|K|M,  0, S|A|PV,          "send a message to a group")             \
    X(CALL,         30, O|A|A2|P|SC|K|M, 0, S|P|M|PV,    "send a message and wait for its reply") \
    X(REPLY,        31, A2|M,        0, 0,               "answer a call (no reply)")              \
    X(MULTI_CALL,   32, O|A|A2|SC|K|M, O|P|M, S|A|A2|PV, "call every member of a group")          \
    X(CHECK_TOKEN,  33, A2|SC|K,     0, S|A|A2|PV,       "is a fencing token still current")      \
    X(HANDOFF,      34, A2|P|SC|K,   0, S|A2|P|PV,       "move a name to another pid atomically") \
    X(UPDATE,       35, O|A2|P|SC|K|M|PV, 0, S|A2|P|M|PV, "compare-and-set a name's or membership's metadata") \
    X(CAMPAIGN,     36, P|SC|K|M,    0, S|A2|P|PV,       "wait to hold a name (leader election)") \
    X(QUERY,        37, O|A|P|SC|N|K|M, P|N|K|M, S|A|A2|PV,                                   \
      "list names or members by key or prefix and a metadata filter")                            \
    X(QUERY_COUNT,  38, O|P|SC|N|K|M, A|K, S|A|A2|PV,     "count what a QUERY would list")        \
    X(UNMATCH,      39, O|P|SC|K|M,  0, S|A|PV,                                                   \
      "remove the caller's own names or memberships that match")                                 \
    X(LEASE,        40, O|A|P|SC|K|M, 0, S|A2|P|PV,      "register or join with a TTL (lease)")   \
    X(RENEW,        41, P,           0, S|A|PV,          "renew every leased entry of a pid")     \
    X(PID_EXIT,     42, P|M,         0, S|PV,            "close a pid with an exit reason")       \
    X(SCOPE_META_SET, 43, SC|K|M,    0, S|PV,            "set a key of a scope's metadata")       \
    X(SCOPE_META_GET, 44, O|SC|K,    A|N|K|M, S|A|PV,    "read a scope's metadata (one key or all)") \
    X(SCOPE_META_DELETE, 45, SC|K,   0, S|PV,            "delete a key of a scope's metadata")    \
    X(SCOPE_LEASE,  46, A|SC,        0, S|PV,            "join a scope until it is unused for ARG ms") \
    X(CLUSTER_JOIN, 47, K,           0, S|PV,            "this node joins the cluster of a node")  \
    X(CLUSTER_LEAVE, 48, NONE,       0, S|A|PV,          "this node leaves its cluster cleanly")   \
    X(FORGET,       49, N|K,         0, S|A|PV,          "stop redialing a node gone for good")    \
    X(OWNER,        50, P,           0, S|A|A2|N|PV,     "a pid's holder: OS pid and uid")         \
    X(CHANNEL_OPEN, 51, P,           0, S|A|PV,          "open a direct channel to a pid's client") \
    X(CHANNEL,      52, O|A|P,       0, 0,               "node -> client: a channel end or a route (req_id 0)") \
    X(CHANNEL_MARK, 53, O|A|P,       0, 0,               "channel switch marker (client -> node -> peer)") \
    X(CHANNEL_CLOSE, 54, O|A,        0, 0,               "close a channel (node -> client, or asked)") \
    X(CHANNEL_REPLY, 55, A2|P|M,     0, 0,               "a channel call's reply relayed by the node") \
    X(P_NODE,       64, O|A|N|K,     0, 0,               "peer: a node's identity and state")     \
    X(P_SCOPE,      65, O|SC,        0, 0,               "peer: joined or left a scope")          \
    X(P_SYNC_BEGIN, 66, SC,          0, 0,               "peer: a scope's full sync starts")      \
    X(P_ENTRY,      67, O|A|A2|P|SC|K|M, 0, 0,           "peer: one entry of a sync")             \
    X(P_SYNC_END,   68, SC,          0, 0,               "peer: a scope's full sync ends")        \
    X(P_OP,         69, O|A|A2|P|SC|K|M, 0, 0,           "peer: one replicated change")           \
    X(P_PID_DOWN,   70, O|P,         0, 0,               "peer: a pid went down")                 \
    X(P_PING,       71, A,           0, 0,               "peer: liveness probe")                  \
    X(P_PONG,       72, A,           0, 0,               "peer: liveness answer")                 \
    X(P_MONITOR,    73, A|P,         0, 0,               "peer: monitor a pid of the receiver")   \
    X(P_DEMONITOR,  74, A,           0, 0,               "peer: end a monitor")                   \
    X(P_DOWN,       75, O|A|P,       0, 0,               "peer: a monitored pid went down")       \
    X(P_SEND,       76, O|A|A2|P|SC|K|M, 0, 0,                                                    \
      "peer: a message (or call) to a pid or name")                                               \
    X(P_PUBLISH,    77, A|SC|K|M,    0, 0,               "peer: a message to a group")            \
    X(P_REPLY,      78, A2|P|M,      0, 0,               "peer: the reply to a proxied call")     \
    X(P_NOPROC,     79, S|A2|P,      0, 0,               "peer: a proxied call failed there")     \
    X(P_SMETA,      80, O|A|SC|N|K|M, 0, 0,              "peer: a write of a scope's metadata") \
    X(P_LEAVE,      83, NONE,        0, 0,               "peer: the sender leaves the cluster")   \
    X(P_POLICY,     84, O|A|K,       0, 0,               "peer: the sender's conflict policy") \
    X(P_FLOW,       85, O|P,         0, 0,               "peer: pause (1) or resume (0) messages") \
    X(P_PID_EXIT,   89, O|P|M,       0, 0,               "peer: a pid went down with an exit reason") \
    X(P_DOWN_EXIT,  90, O|A|P|M,     0, 0,               "peer: a monitored pid exited with a reason")

#define RS_FIELD_MAP(X)                                                                           \
    X(hello_version,            HELLO, req, opts,                                                 \
      "protocol version the client speaks (RS_WIRE_VERSION)")                                     \
    X(hello_magic,              HELLO, req, arg,                                                  \
      "RS_WIRE_MAGIC: anything else is not a roster client")                                      \
    X(hello_client_name,        HELLO, req, key,  "client name, for the node's logs")             \
    X(hello_reply_name_max,     HELLO, reply, opts, "the node's name/group name limit")           \
    X(hello_reply_incarnation,  HELLO, reply, arg,  "the node's incarnation")                     \
    X(hello_reply_sizes,        HELLO, reply, arg2,                                               \
      "frame_max | meta_max << 32 (rs_msg_hello_reply_limits)")                                    \
    X(hello_reply_pid,          HELLO, reply, pid,  "the client's first pid")                     \
    X(hello_reply_node,         HELLO, reply, node, "the node's name")                            \
    X(hello_reply_prev,         HELLO, reply, prev,                                               \
      "refused: why; accepted (version 3): the limits block (rs_msg_hello_reply_message_max)")     \
    X(pid_new_reply_pid,        PID_NEW, reply, pid, "the new pid")                               \
    X(scope_create_mode,        SCOPE_CREATE, req, opts,                                          \
      "ROSTER_SCOPE_EVENTUAL or ROSTER_SCOPE_STRONG, | ROSTER_SCOPE_* options")                                             \
    X(scopes_item_mode,         SCOPES, item, opts, "the scope's mode | its options (ROSTER_SCOPE_*)")          \
    X(scopes_item_names,        SCOPES, item, arg,  "names in the scope")                         \
    X(scopes_item_groups,       SCOPES, item, arg2, "groups in the scope")                        \
    X(scopes_reply_n,           SCOPES, reply, arg, "items sent")                                 \
    X(register_name,            REGISTER, req, key,  "the name")                                  \
    X(register_meta,            REGISTER, req, meta, "the name's metadata")                       \
    X(register_reply_holder,    REGISTER, reply, pid, "the name's holder (also on ROSTER_ETAKEN)")\
    X(register_reply_token,     REGISTER, reply, arg2,                                            \
      "the grant's fencing token (strong: etcd revision of the grant; eventual: the claim's HLC)") \
    X(unregister_name,          UNREGISTER, req, key, "the name")                                 \
    X(lookup_flags,             LOOKUP, req, opts,                                                \
      "RS_OPT_STALE: strong scopes, the local copy; RS_OPT_LOCAL: this node's holder only")       \
    X(lookup_name,              LOOKUP, req, key,   "the name")                                   \
    X(lookup_reply_revision,    LOOKUP, reply, arg,                                               \
      "strong: the etcd revision the answer reflects (0: eventual)")                              \
    X(lookup_reply_token,       LOOKUP, reply, arg2, "the holder's fencing token")                \
    X(lookup_reply_holder,      LOOKUP, reply, pid,  "the name's holder")                         \
    X(lookup_reply_node,        LOOKUP, reply, node, "the holder's node")                         \
    X(lookup_reply_meta,        LOOKUP, reply, meta, "the name's metadata")                       \
    X(names_limit,              NAMES, req, arg,  "at most this many items (0: no limit)")        \
    X(names_filter,             NAMES, req, pid,  "only names of this pid (zero: any)")           \
    X(names_prefix,             NAMES, req, key,  "only names starting with this")                \
    X(names_item_node,          NAMES, item, node, "the holder's node")                           \
    X(names_item_name,          NAMES, item, key,  "the name")                                    \
    X(names_item_meta,          NAMES, item, meta, "its metadata")                                \
    X(names_reply_n,            NAMES, reply, arg, "items sent")                                  \
    X(names_flags,              NAMES, req, opts,                                                 \
      "RS_OPT_STALE; RS_OPT_EXACT: the key is one name, list its holders")                        \
    X(names_reply_revision,     NAMES, reply, arg2, "strong: the etcd revision listed (0: eventual)") \
    X(count_node,               COUNT, req, node, "count only this node's entries (empty: all)")  \
    X(count_item_value,         COUNT, item, arg, "the counter's value")                          \
    X(count_item_counter,       COUNT, item, key, "\"names\", \"groups\" or \"members\"")         \
    X(count_reply_n,            COUNT, reply, arg, "items sent")                                  \
    X(count_flags,              COUNT, req, opts, "RS_OPT_STALE")                                 \
    X(count_reply_revision,     COUNT, reply, arg2, "strong: the etcd revision counted (0: eventual)") \
    X(join_group,               JOIN, req, key,  "the group")                                     \
    X(join_meta,                JOIN, req, meta, "the membership's metadata")                     \
    X(leave_group,              LEAVE, req, key, "the group")                                     \
    X(members_opts,             MEMBERS, req, opts,                                               \
      "RS_OPT_LOCAL: local members only; RS_OPT_STALE: strong scopes, the local copy")           \
    X(members_group,            MEMBERS, req, key,  "the group")                                  \
    X(members_item_node,        MEMBERS, item, node, "the member's node")                         \
    X(members_item_group,       MEMBERS, item, key,  "the group")                                 \
    X(members_item_meta,        MEMBERS, item, meta, "the membership's metadata")                 \
    X(members_reply_n,          MEMBERS, reply, arg, "items sent")                                \
    X(members_reply_revision,   MEMBERS, reply, arg2, "strong: the etcd revision listed (0: eventual)") \
    X(is_member_group,          IS_MEMBER, req, key, "the group")                                 \
    X(is_member_reply_yes,      IS_MEMBER, reply, arg, "1 if a member, else 0")                   \
    X(is_member_flags,          IS_MEMBER, req, opts, "RS_OPT_STALE")                             \
    X(is_member_reply_revision, IS_MEMBER, reply, arg2, "strong: the etcd revision read (0: eventual)") \
    X(groups_limit,             GROUPS, req, arg, "at most this many items (0: no limit)")        \
    X(groups_filter,            GROUPS, req, pid, "only groups this pid is in (zero: any)")       \
    X(groups_prefix,            GROUPS, req, key, "only groups starting with this")               \
    X(groups_item_members,      GROUPS, item, arg,  "the group's member count")                   \
    X(groups_item_node,         GROUPS, item, node,                                               \
      "with a pid filter: that pid's node; else empty (the same on every node)")                 \
    X(groups_item_group,        GROUPS, item, key,  "the group")                                  \
    X(groups_item_meta,         GROUPS, item, meta, "a member's metadata")                        \
    X(groups_reply_n,           GROUPS, reply, arg, "items sent")                                 \
    X(groups_flags,             GROUPS, req, opts, "RS_OPT_STALE")                                \
    X(groups_reply_revision,    GROUPS, reply, arg2, "strong: the etcd revision listed (0: eventual)") \
    X(subscribe_flags,          SUBSCRIBE, req, opts, "ROSTER_SUB_* flags")                       \
    X(subscribe_pattern,        SUBSCRIBE, req, key,  "name/group pattern (or prefix)")           \
    X(subscribe_from_revision,  SUBSCRIBE, req, arg,                                              \
      "strong: deliver exactly the events after this etcd revision (0: snapshot/now); "           \
      "ROSTER_ECOMPACTED if etcd no longer has them")                                             \
    X(subscribe_reply_id,       SUBSCRIBE, reply, arg, "the subscription id")                     \
    X(unsubscribe_id,           UNSUBSCRIBE, req, arg, "the subscription id")                     \
    X(monitor_reply_id,         MONITOR, reply, arg, "the monitor id")                            \
    X(demonitor_id,             DEMONITOR, req, arg, "the monitor id")                            \
    X(status_item_value,        STATUS, item, arg, "the statistic's value")                       \
    X(status_item_stat,         STATUS, item, key, "the statistic's name")                        \
    X(status_reply_n,           STATUS, reply, arg, "items sent")                                 \
    X(nodes_item_opts,          NODES, item, opts, "state | self << 8 (rs_msg_nodes_item_state)")  \
    X(nodes_item_incarnation,   NODES, item, arg,  "the node's incarnation")                      \
    X(nodes_item_node,          NODES, item, node, "the node's name")                             \
    X(nodes_item_down_since,    NODES, item, arg2,                                                \
      "ROSTER_NODE_DOWN: when it was declared down (wall clock, ms since the epoch); else 0")    \
    X(nodes_reply_n,            NODES, reply, arg, "items sent")                                  \
    X(log_level_level,          LOG_LEVEL, req, opts, "enum rs_log_level")                        \
    X(event_opts,               EVENT, req, opts,                                                 \
      "kind | reason << 8 | snapshot flag (rs_msg_event_opts_pack)")                               \
    X(event_id,                 EVENT, req, arg,                                                  \
      "subscription or monitor id (0: a CONFLICT notice, or libroster's message OVERFLOW)")       \
    X(event_node,               EVENT, req, node,                                                 \
      "the node of the entry's pid (NODE_UP, NODE_DOWN: the node itself)")                        \
    X(event_key,                EVENT, req, key,  "the name or group")                            \
    X(event_meta,               EVENT, req, meta, "the metadata now")                             \
    X(event_prev_meta,          EVENT, req, prev,                                                 \
      "the metadata before (UPDATED events); the exit reason (reason ROSTER_REASON_EXIT)")         \
    X(event_revision,           EVENT, req, arg2,                                                 \
      "strong: the etcd revision of the change (SNAPSHOT_END: of the snapshot); 0: eventual")    \
    X(send_flags,               SEND, req, opts, "RS_SEND_CONFIRM")                               \
    X(send_from,                SEND, req, arg,  "sender serial (one of the client's pids)")      \
    X(send_to,                  SEND, req, pid,  "receiving pid (zero: by name)")                 \
    X(send_name,                SEND, req, key,  "receiving name (empty: by pid)")                \
    X(send_payload,             SEND, req, meta, "the message (bounded by message_max)")          \
    X(message_kind,             MESSAGE, req, opts, "RS_MSGK_*: send, publish, call, multi-call") \
    X(message_to,               MESSAGE, req, arg,  "first receiving serial (of this client)")    \
    X(message_call_ref,         MESSAGE, req, arg2,                                               \
      "call reference to answer with REPLY (0: none)")                                            \
    X(message_from,             MESSAGE, req, pid,  "the sender")                                 \
    X(message_from_node,        MESSAGE, req, node, "the sender's node")                          \
    X(message_key,              MESSAGE, req, key,  "the name or group it was sent to")           \
    X(message_payload,          MESSAGE, req, meta, "the message")                                \
    X(message_more_to,          MESSAGE, req, prev,                                               \
      "more receiving serials, u64 LE each (rs_msg_message_receiver)")                             \
    X(publish_flags,            PUBLISH, req, opts, "RS_PUBLISH_LOCAL, RS_PUBLISH_NOWAIT")        \
    X(publish_from,             PUBLISH, req, arg,  "sender serial")                              \
    X(publish_group,            PUBLISH, req, key,  "the group")                                  \
    X(publish_payload,          PUBLISH, req, meta, "the message")                                \
    X(publish_reply_recipients, PUBLISH, reply, arg, "members it reached")                        \
    X(call_flags,               CALL, req, opts, "0 (reserved)")                                  \
    X(call_from,                CALL, req, arg,  "caller serial")                                 \
    X(call_timeout_ms,          CALL, req, arg2, "the node's timeout (UINT64_MAX: none)")         \
    X(call_to,                  CALL, req, pid,  "callee pid (zero: by name)")                    \
    X(call_name,                CALL, req, key,  "callee name (empty: by pid)")                   \
    X(call_payload,             CALL, req, meta, "the request")                                   \
    X(call_reply_responder,     CALL, reply, pid,  "who answered")                                \
    X(call_reply_payload,       CALL, reply, meta, "the answer")                                  \
    X(reply_call_ref,           REPLY, req, arg2, "the MESSAGE's call reference")                 \
    X(reply_payload,            REPLY, req, meta, "the answer")                                   \
    X(multi_call_flags,         MULTI_CALL, req, opts, "RS_PUBLISH_LOCAL")                        \
    X(multi_call_from,          MULTI_CALL, req, arg,  "caller serial")                           \
    X(multi_call_timeout_ms,    MULTI_CALL, req, arg2, "the node's timeout (UINT64_MAX: none)")   \
    X(multi_call_group,         MULTI_CALL, req, key,  "the group")                               \
    X(multi_call_payload,       MULTI_CALL, req, meta, "the request")                             \
    X(multi_call_item_bad,      MULTI_CALL, item, opts, "0 = replied, 1 = bad (no answer)")       \
    X(multi_call_item_member,   MULTI_CALL, item, pid,  "the member")                             \
    X(multi_call_item_payload,  MULTI_CALL, item, meta, "its answer")                             \
    X(multi_call_reply_replies, MULTI_CALL, reply, arg,  "members that answered")                 \
    X(multi_call_reply_bad,     MULTI_CALL, reply, arg2, "members that did not")                  \
    X(check_token_token,        CHECK_TOKEN, req, arg2, "the token to check")                     \
    X(check_token_name,         CHECK_TOKEN, req, key,  "the name")                               \
    X(check_token_reply_current, CHECK_TOKEN, reply, arg, "1: the token is the name's current one, 0: stale") \
    X(check_token_reply_token,  CHECK_TOKEN, reply, arg2, "the name's current token (0: not registered)") \
    X(handoff_if_token,         HANDOFF, req, arg2, "only if the name's token is this (0: any)")  \
    X(handoff_to,               HANDOFF, req, pid,  "the new holder (a live pid)")                \
    X(handoff_name,             HANDOFF, req, key,  "the name")                                   \
    X(handoff_reply_holder,     HANDOFF, reply, pid, "the holder now")                            \
    X(handoff_reply_token,      HANDOFF, reply, arg2, "the new grant's fencing token")            \
    X(update_flags,             UPDATE, req, opts,                                                \
      "RS_UPDATE_IF_TOKEN, RS_UPDATE_IF_META, RS_UPDATE_MEMBER (a membership, not a name)")       \
    X(update_if_token,          UPDATE, req, arg2, "RS_UPDATE_IF_TOKEN: the expected token")      \
    X(update_member,            UPDATE, req, pid,  "RS_UPDATE_MEMBER: the member pid (names: zero)") \
    X(update_key,               UPDATE, req, key,  "the name or group")                           \
    X(update_meta,              UPDATE, req, meta, "the new metadata")                            \
    X(update_if_meta,           UPDATE, req, prev, "RS_UPDATE_IF_META: the expected metadata")    \
    X(update_reply_token,       UPDATE, reply, arg2,                                              \
      "OK: the token now; ROSTER_ECONFLICT: the current token")                                   \
    X(update_reply_holder,      UPDATE, reply, pid, "the holder or member")                       \
    X(update_reply_meta,        UPDATE, reply, meta, "ROSTER_ECONFLICT: the current metadata")    \
    X(campaign_candidate,       CAMPAIGN, req, pid, "the candidate pid (one of the client's)")    \
    X(campaign_name,            CAMPAIGN, req, key, "the name to hold")                           \
    X(campaign_meta,            CAMPAIGN, req, meta, "the metadata it holds the name with")       \
    X(campaign_reply_holder,    CAMPAIGN, reply, pid, "the candidate, now the holder")            \
    X(campaign_reply_token,     CAMPAIGN, reply, arg2, "its fencing token")                       \
    X(query_opts,               QUERY, req, opts,                                                 \
      "RS_QW_NAMES or RS_QW_MEMBERS | RS_QF_PREFIX, RS_QF_LOCAL, RS_QF_STALE (wire/query.h)")      \
    X(query_limit,              QUERY, req, arg,  "at most this many items (0: no limit)")        \
    X(query_pid,                QUERY, req, pid,  "only entries of this pid (zero: any)")         \
    X(query_node,               QUERY, req, node, "only entries of this node's pids (empty: any)") \
    X(query_key,                QUERY, req, key,                                                  \
      "the name or group, or with RS_QF_PREFIX a prefix of them (empty: all)")                    \
    X(query_filter,             QUERY, req, meta,                                                 \
      "the metadata conditions, all must hold (rs_qfilter_decode, wire/query.h; empty: none)")    \
    X(query_item_node,          QUERY, item, node, "the entry's node")                            \
    X(query_item_key,           QUERY, item, key,  "the name or group")                           \
    X(query_item_meta,          QUERY, item, meta, "its metadata")                                \
    X(query_reply_n,            QUERY, reply, arg, "items sent")                                  \
    X(query_reply_revision,     QUERY, reply, arg2, "strong: the etcd revision listed (0: eventual)") \
    X(query_count_opts,         QUERY_COUNT, req, opts,                                           \
      "RS_QW_NAMES | RS_QW_MEMBERS (what to count) | RS_QF_PREFIX, RS_QF_LOCAL, RS_QF_STALE")      \
    X(query_count_pid,          QUERY_COUNT, req, pid,  "only entries of this pid (zero: any)")   \
    X(query_count_node,         QUERY_COUNT, req, node, "only entries of this node's pids (empty: any)") \
    X(query_count_key,          QUERY_COUNT, req, key,  "as QUERY's key")                         \
    X(query_count_filter,       QUERY_COUNT, req, meta, "as QUERY's filter")                      \
    X(query_count_item_value,   QUERY_COUNT, item, arg, "the counter's value")                    \
    X(query_count_item_counter, QUERY_COUNT, item, key,                                           \
      "\"names\", \"groups\" (groups with a matching member) or \"members\"")                      \
    X(query_count_reply_n,      QUERY_COUNT, reply, arg, "items sent")                            \
    X(query_count_reply_revision, QUERY_COUNT, reply, arg2,                                       \
      "strong: the etcd revision counted (0: eventual)")                                          \
    X(unmatch_opts,             UNMATCH, req, opts,                                               \
      "RS_QW_NAMES (unregister) or RS_QW_MEMBERS (leave) | RS_QF_PREFIX")                         \
    X(unmatch_pid,              UNMATCH, req, pid,                                                \
      "only this pid's entries (zero: every pid of the caller)")                                  \
    X(unmatch_key,              UNMATCH, req, key,  "as QUERY's key")                             \
    X(unmatch_filter,           UNMATCH, req, meta, "as QUERY's filter")                          \
    X(unmatch_reply_removed,    UNMATCH, reply, arg, "entries removed (one event each)")          \
    X(cluster_join_addr,        CLUSTER_JOIN, req, key, "HOST:PORT of a node of the cluster")     \
    X(cluster_leave_reply_peers, CLUSTER_LEAVE, reply, arg, "up peers told of the leave")        \
    X(forget_node,              FORGET, req, node, "the node's name (empty: by address)")         \
    X(forget_addr,              FORGET, req, key,  "or its HOST:PORT (e.g. a seed never reached)") \
    X(forget_reply_records,     FORGET, reply, arg, "records of the node forgotten")              \
    X(owner_reply_os_pid,       OWNER, reply, arg,  "the holder client's OS pid (0: unknown)")    \
    X(owner_reply_uid,          OWNER, reply, arg2, "the holder client's OS uid")                 \
    X(owner_reply_node,         OWNER, reply, node, "the pid's node")                             \
    X(p_entry_owner,            P_ENTRY, req, arg2,                                               \
      "the holder client: os pid | uid << 32 (rs_owner_pack; 0: unknown)")                        \
    X(p_op_owner,               P_OP, req, arg2,                                                  \
      "puts: the holder client, os pid | uid << 32 (0: unknown)")                                 \
    X(p_policy_policy,          P_POLICY, req, opts, "enum rs_conflict_policy")                   \
    X(p_policy_version,         P_POLICY, req, arg,  "custom: the resolver's own version")       \
    X(p_policy_resolver,        P_POLICY, req, key,  "custom: the resolver's name (else empty)") \
    X(p_node_state,             P_NODE, req, opts, "ROSTER_NODE_UP or ROSTER_NODE_DOWN")          \
    X(p_node_incarnation,       P_NODE, req, arg,  "the node's incarnation")                      \
    X(p_node_name,              P_NODE, req, node, "the node's name")                             \
    X(p_node_addr,              P_NODE, req, key,  "the node's peer listen address")              \
    X(p_scope_joined,           P_SCOPE, req, opts,                                               \
      "bit 0: 1 joined, 0 left; | the scope's ROSTER_SCOPE_* options")                            \
    X(p_entry_kind,             P_ENTRY, req, opts, "RS_PENTRY_NAME or RS_PENTRY_MEMBER")         \
    X(p_entry_hlc,              P_ENTRY, req, arg,  "the entry's hybrid logical clock")           \
    X(p_entry_key,              P_ENTRY, req, key,  "the name or group")                          \
    X(p_entry_meta,             P_ENTRY, req, meta, "its metadata")                               \
    X(p_op_opts,                P_OP, req, opts, "op | reason << 8 (rs_msg_p_op_pack)")            \
    X(p_op_hlc,                 P_OP, req, arg,  "the change's hybrid logical clock")             \
    X(p_op_key,                 P_OP, req, key,  "the name or group")                             \
    X(p_op_meta,                P_OP, req, meta, "its metadata")                                  \
    X(p_pid_down_reason,        P_PID_DOWN, req, opts, "roster_reason")                           \
    X(p_ping_time,              P_PING, req, arg, "the sender's time (ms)")                       \
    X(p_pong_time,              P_PONG, req, arg, "the P_PING's time, echoed")                    \
    X(p_monitor_ref,            P_MONITOR, req, arg, "the monitor reference")                     \
    X(p_demonitor_ref,          P_DEMONITOR, req, arg, "the monitor reference")                   \
    X(p_down_reason,            P_DOWN, req, opts, "roster_reason")                               \
    X(p_down_ref,               P_DOWN, req, arg,  "the monitor reference")                       \
    X(p_send_kind,              P_SEND, req, opts, "RS_MSGK_*")                                   \
    X(p_send_from,              P_SEND, req, arg,  "sender serial (on the sending node)")         \
    X(p_send_call_ref,          P_SEND, req, arg2, "call reference (0: not a call)")              \
    X(p_send_to,                P_SEND, req, pid,  "receiving pid (zero: by name)")               \
    X(p_send_name,              P_SEND, req, key,  "receiving name (empty: by pid)")              \
    X(p_send_payload,           P_SEND, req, meta, "the message")                                 \
    X(p_publish_from,           P_PUBLISH, req, arg,  "sender serial")                            \
    X(p_publish_group,          P_PUBLISH, req, key,  "the group")                                \
    X(p_publish_payload,        P_PUBLISH, req, meta, "the message")                              \
    X(p_reply_call_ref,         P_REPLY, req, arg2, "the P_SEND's call reference")                \
    X(p_reply_responder,        P_REPLY, req, pid,  "who answered")                               \
    X(p_reply_payload,          P_REPLY, req, meta, "the answer")                                 \
    X(p_noproc_status,          P_NOPROC, req, status, "why the call failed (ROSTER_E*)")         \
    X(p_noproc_call_ref,        P_NOPROC, req, arg2, "the P_SEND's call reference")               \
    X(p_noproc_to,              P_NOPROC, req, pid,  "the callee")                                \
    X(p_flow_pause,             P_FLOW, req, opts, "1: stop sending messages to me; 0: go on")  \
    X(p_flow_pid,               P_FLOW, req, pid,  "only messages to this pid of mine (zero: all)") \
    X(lease_kind,               LEASE, req, opts, "RS_LEASE_NAME (register) or RS_LEASE_MEMBER (join)") \
    X(lease_ttl,                LEASE, req, arg,  "the lease in ms (RS_TTL_MIN_MS .. RS_TTL_MAX_MS)") \
    X(lease_key,                LEASE, req, key,  "the name or group")                            \
    X(lease_meta,               LEASE, req, meta, "the entry's metadata")                         \
    X(lease_reply_holder,       LEASE, reply, pid, "the name's holder (also on ROSTER_ETAKEN)")   \
    X(lease_reply_token,        LEASE, reply, arg2, "a name's fencing token (0 for a membership)") \
    X(renew_reply_n,            RENEW, reply, arg, "leased entries renewed")                      \
    X(pid_exit_reason,          PID_EXIT, req, meta, "the exit reason (1..RS_EXIT_REASON_MAX bytes)") \
    X(p_pid_exit_reason,        P_PID_EXIT, req, opts, "roster_reason (ROSTER_REASON_EXIT)")      \
    X(p_pid_exit_text,          P_PID_EXIT, req, meta, "the exit reason")                         \
    X(p_down_exit_reason,       P_DOWN_EXIT, req, opts, "roster_reason (ROSTER_REASON_EXIT)")     \
    X(p_down_exit_ref,          P_DOWN_EXIT, req, arg,  "the monitor reference")                  \
    X(p_down_exit_text,         P_DOWN_EXIT, req, meta, "the exit reason") \
    X(scope_meta_set_key,       SCOPE_META_SET, req, key, "the key")                              \
    X(scope_meta_set_value,     SCOPE_META_SET, req, meta, "the value")                           \
    X(scope_meta_get_one,       SCOPE_META_GET, req, opts,                                        \
      "1: the key only (ENOTFOUND if absent); 0: every key starting with KEY")                     \
    X(scope_meta_get_key,       SCOPE_META_GET, req, key, "the key, or a prefix")                 \
    X(scope_meta_get_item_stamp, SCOPE_META_GET, item, arg, "the stamp (HLC) of its last write")  \
    X(scope_meta_get_item_node, SCOPE_META_GET, item, node, "the node that wrote it")            \
    X(scope_meta_get_item_key,  SCOPE_META_GET, item, key, "the key")                             \
    X(scope_meta_get_item_value, SCOPE_META_GET, item, meta, "its value")                         \
    X(scope_meta_get_reply_n,   SCOPE_META_GET, reply, arg, "items sent")                         \
    X(scope_meta_delete_key,    SCOPE_META_DELETE, req, key, "the key")                           \
    X(scope_lease_ttl,          SCOPE_LEASE, req, arg,                                            \
      "ms (1..RS_SCOPE_LEASE_MAX_MS) the scope may stay unused before the node leaves it")        \
    X(p_smeta_op,               P_SMETA, req, opts, "RS_SMETA_SET or RS_SMETA_DELETE")            \
    X(p_smeta_hlc,              P_SMETA, req, arg,  "the write's stamp (hybrid logical clock)")   \
    X(p_smeta_node,             P_SMETA, req, node, "the node that wrote it (ties: higher wins)") \
    X(p_smeta_key,              P_SMETA, req, key,  "the key")                                    \
    X(p_smeta_value,            P_SMETA, req, meta, "the value (empty for a delete)")        \
    X(channel_open_to,          CHANNEL_OPEN, req, pid, "a live pid of another client of the node") \
    X(channel_open_reply_id,    CHANNEL_OPEN, reply, arg, "the channel's id")                     \
    X(channel_flags,            CHANNEL, req, opts,                                               \
      "RS_CHAN_NEW: a new channel, its end rides with these bytes (SCM_RIGHTS); 0: a route")     \
    X(channel_id,               CHANNEL, req, arg,  "the channel's id (unique per node)")         \
    X(channel_route,            CHANNEL, req, pid,  "a pid of the peer client (zero: none)")      \
    X(channel_mark_kind,        CHANNEL_MARK, req, opts,                                          \
      "RS_CHAN_MARK_START: the sender writes on the channel from here; RS_CHAN_MARK_END: no more") \
    X(channel_mark_id,          CHANNEL_MARK, req, arg, "the channel's id")                       \
    X(channel_mark_to,          CHANNEL_MARK, req, pid,                                           \
      "START: the receiving pid whose messages go on the channel from here (the peer holds "     \
      "what it read on the channel for that pid until this marker)")                              \
    X(channel_close_reason,     CHANNEL_CLOSE, req, opts, "RS_CHAN_CLOSE_*: why (node -> client)") \
    X(channel_close_id,         CHANNEL_CLOSE, req, arg, "the channel's id")                      \
    X(channel_reply_ref,        CHANNEL_REPLY, req, arg2, "the caller's channel call ref")        \
    X(channel_reply_caller,     CHANNEL_REPLY, req, pid, "the calling pid")                       \
    X(channel_reply_payload,    CHANNEL_REPLY, req, meta, "the reply")
/* clang-format on */

#endif
