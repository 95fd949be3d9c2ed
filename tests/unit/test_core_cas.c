/* test_core_cas.c: fencing tokens, CHECK_TOKEN, HANDOFF, UPDATE (compare-and-set) and
 * CAMPAIGN in eventual scopes (src/core/cas.c): every rule and error, the uid rule, the
 * atomicity of a handoff as a subscriber sees it (the name is never free: its two events
 * come together, nothing between), and, on two cores wired by cluster_harness.h, the
 * token peers show and a handoff that reaches the peer as one P_OP applied as one change. */
#include <stdio.h>

#include "cluster_harness.h"
#include "core_harness.h"

/* A client of OS user uid on conn; returns its first pid. */
static struct rs_pid hello_uid(struct harness *h, uint64_t conn, uint32_t uid)
{
    struct rs_input in = {.kind = RS_IN_CLIENT_OPEN, .conn = conn, .os_pid = 100, .uid = uid};
    ASSERT_EQ(h_apply(h, &in), 0);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC,
                       .key = rs_bytes_str("test")};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->pid;
}

static uint64_t token_of(struct harness *h, uint64_t conn, const char *name)
{
    ASSERT_EQ(h_lookup(h, conn, NULL, name), 0);
    return rs_msg_lookup_reply_token(h_reply(h));
}

static int check_token(struct harness *h, uint64_t conn, const char *name, uint64_t token,
                       uint64_t *now)
{
    struct rs_msg m = {.type = RS_MSG_CHECK_TOKEN, .key = h_str(name)};
    rs_msg_check_token_token_set(&m, token);
    ASSERT_EQ(h_status(h, conn, &m), 0);
    *now = rs_msg_check_token_reply_token(h_reply(h));
    return (int)rs_msg_check_token_reply_current(h_reply(h));
}

static int handoff(struct harness *h, uint64_t conn, const char *scope, const char *name,
                   struct rs_pid to, uint64_t if_token)
{
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .scope = h_str(scope), .key = h_str(name)};
    rs_msg_handoff_to_set(&m, to);
    rs_msg_handoff_if_token_set(&m, if_token);
    return h_status(h, conn, &m);
}

static int update(struct harness *h, uint64_t conn, const char *name, const char *meta,
                  uint32_t flags, uint64_t if_token, const char *if_meta, struct rs_pid member)
{
    struct rs_msg m = {.type = RS_MSG_UPDATE, .key = h_str(name), .meta = h_str(meta)};
    rs_msg_update_flags_set(&m, flags);
    rs_msg_update_if_token_set(&m, if_token);
    rs_msg_update_if_meta_set(&m, h_str(if_meta));
    rs_msg_update_member_set(&m, member);
    return h_status(h, conn, &m);
}

static const struct rs_pid NOPID = {0, 0};

static void test_token_register_lookup(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "m1"), 0);
    uint64_t t1 = rs_msg_register_reply_token(h_reply(&h));
    ASSERT(t1 != 0);
    ASSERT_U64_EQ(token_of(&h, 1, "db"), t1);
    /* a metadata update by the holder keeps the grant's token */
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "m2"), 0);
    ASSERT_U64_EQ(rs_msg_register_reply_token(h_reply(&h)), t1);
    ASSERT_U64_EQ(token_of(&h, 1, "db"), t1);
    /* a new grant of the same name: a larger token, also within one wall millisecond */
    ASSERT_EQ(h_unregister(&h, 1, NULL, "db"), 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", ""), 0);
    uint64_t t2 = rs_msg_register_reply_token(h_reply(&h));
    ASSERT(t2 > t1);
    ASSERT_U64_EQ(token_of(&h, 1, "db"), t2);
    /* ETAKEN carries no token */
    struct rs_pid q = h_hello(&h, 2);
    ASSERT_EQ(h_register(&h, 2, q, NULL, "db", ""), ROSTER_ETAKEN);
    ASSERT_U64_EQ(rs_msg_register_reply_token(h_reply(&h)), 0);
    h_fini(&h);
}

static void test_check_token(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    uint64_t now = 99;
    ASSERT_EQ(check_token(&h, 1, "db", 0, &now), 0); /* free: token 0 is never current */
    ASSERT_U64_EQ(now, 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", ""), 0);
    uint64_t t1 = rs_msg_register_reply_token(h_reply(&h));
    ASSERT_EQ(check_token(&h, 1, "db", t1, &now), 1);
    ASSERT_U64_EQ(now, t1);
    ASSERT_EQ(check_token(&h, 1, "db", t1 + 1, &now), 0);
    ASSERT_U64_EQ(now, t1);
    ASSERT_EQ(h_unregister(&h, 1, NULL, "db"), 0);
    ASSERT_EQ(check_token(&h, 1, "db", t1, &now), 0);
    ASSERT_U64_EQ(now, 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", ""), 0);
    ASSERT_EQ(check_token(&h, 1, "db", t1, &now), 0); /* an older grant's token is stale */
    ASSERT(now > t1);
    /* any client may ask */
    h_hello(&h, 2);
    ASSERT_EQ(check_token(&h, 2, "db", now, &now), 1);
    struct rs_msg bad = {.type = RS_MSG_CHECK_TOKEN, .key = h_str("")};
    ASSERT_EQ(h_status(&h, 1, &bad), ROSTER_EINVAL);
    struct rs_msg noscope = {.type = RS_MSG_CHECK_TOKEN, .scope = h_str("nope"),
                             .key = h_str("db")};
    ASSERT_EQ(h_status(&h, 1, &noscope), ROSTER_ENOSCOPE);
    h_fini(&h);
}

/* The handoff seen by the caller, the new holder's client and a subscriber. */
static void test_handoff(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = hello_uid(&h, 1, 1000);
    struct rs_pid q = hello_uid(&h, 2, 1000);
    h_hello(&h, 3);
    uint64_t sub = h_subscribe(&h, 3, NULL, "", ROSTER_SUB_ALL);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "cfg"), 0);
    uint64_t t1 = rs_msg_register_reply_token(h_reply(&h));
    ASSERT_EQ(handoff(&h, 1, NULL, "db", q, 0), 0);
    const struct rs_msg *r = h_reply(&h);
    ASSERT(h_pid_eq(rs_msg_handoff_reply_holder(r), q));
    uint64_t t2 = rs_msg_handoff_reply_token(r);
    ASSERT(t2 > t1);
    /* subscriber: UNREGISTERED(p) then REGISTERED(q), both reason handoff, nothing else */
    ASSERT_EQ(h_nevents(&h, 3), 2);
    const struct rs_msg *e0 = h_event(&h, 3, 0), *e1 = h_event(&h, 3, 1);
    ASSERT_EQ(h_ev_kind(e0), ROSTER_EV_UNREGISTERED);
    ASSERT_EQ(h_ev_reason(e0), ROSTER_REASON_HANDOFF);
    ASSERT(h_pid_eq(e0->pid, p));
    ASSERT_U64_EQ(rs_msg_event_id(e0), sub);
    ASSERT_EQ(h_ev_kind(e1), ROSTER_EV_REGISTERED);
    ASSERT_EQ(h_ev_reason(e1), ROSTER_REASON_HANDOFF);
    ASSERT(h_pid_eq(e1->pid, q));
    ASSERT(h_bytes_is(rs_msg_event_meta(e1), "cfg"));
    /* the two events are adjacent in the subscriber's stream: no state in between */
    size_t i0 = 0, i1 = 0;
    for (size_t i = 0; i < h.nf; i++) {
        if (&h.f[i].m == e0)
            i0 = i;
        if (&h.f[i].m == e1)
            i1 = i;
    }
    ASSERT_EQ(i1, i0 + 1);
    /* the new holder's client: REGISTERED, id 0, reason handoff */
    ASSERT_EQ(h_nevents(&h, 2), 1);
    const struct rs_msg *n = h_event(&h, 2, 0);
    ASSERT_EQ(h_ev_kind(n), ROSTER_EV_REGISTERED);
    ASSERT_EQ(h_ev_reason(n), ROSTER_REASON_HANDOFF);
    ASSERT_U64_EQ(rs_msg_event_id(n), 0);
    ASSERT(h_pid_eq(n->pid, q));
    ASSERT(h_bytes_is(rs_msg_event_key(n), "db"));
    ASSERT(h_bytes_is(rs_msg_event_meta(n), "cfg"));
    /* the old holder's client (here the caller): UNREGISTERED, id 0, reason handoff */
    ASSERT_EQ(h_nevents(&h, 1), 1);
    const struct rs_msg *o = h_event(&h, 1, 0);
    ASSERT_EQ(h_ev_kind(o), ROSTER_EV_UNREGISTERED);
    ASSERT_EQ(h_ev_reason(o), ROSTER_REASON_HANDOFF);
    ASSERT_U64_EQ(rs_msg_event_id(o), 0);
    ASSERT(h_pid_eq(o->pid, p));
    ASSERT(h_bytes_is(rs_msg_event_key(o), "db"));
    /* the order, as a strong scope gives it: subscribers, the old holder, the new holder */
    size_t io = 0, in = 0;
    for (size_t i = 0; i < h.nf; i++) {
        if (&h.f[i].m == o)
            io = i;
        if (&h.f[i].m == n)
            in = i;
    }
    ASSERT(i1 < io && io < in);
    /* the table: q holds it with the new token; the old token is stale */
    ASSERT_EQ(h_lookup(&h, 3, NULL, "db"), 0);
    ASSERT(h_pid_eq(h_reply(&h)->pid, q));
    ASSERT(h_bytes_is(h_reply(&h)->meta, "cfg"));
    ASSERT_U64_EQ(rs_msg_lookup_reply_token(h_reply(&h)), t2);
    uint64_t now;
    ASSERT_EQ(check_token(&h, 3, "db", t1, &now), 0);
    ASSERT_U64_EQ(now, t2);
    ASSERT_U64_EQ(h_stats(&h).names, 1);
    /* q's client owns it now: the old pid's death leaves it, the old client cannot drop it */
    ASSERT_EQ(h_pid_close(&h, 1, p), 0);
    ASSERT_EQ(h_nevents(&h, 3), 0);
    struct rs_pid p2 = h_pid_new(&h, 1);
    (void)p2;
    ASSERT_EQ(h_lookup(&h, 3, NULL, "db"), 0);
    ASSERT(h_pid_eq(h_reply(&h)->pid, q));
    ASSERT_EQ(h_unregister(&h, 2, NULL, "db"), 0);
    ASSERT_EQ(h_nevents(&h, 3), 1);
    ASSERT_EQ(h_ev_reason(h_event(&h, 3, 0)), ROSTER_REASON_NORMAL);
    ASSERT_U64_EQ(h_stats(&h).names, 0);
    h_fini(&h);
}

static void test_handoff_rules(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = hello_uid(&h, 1, 1000);
    struct rs_pid p2 = h_pid_new(&h, 1);
    struct rs_pid q = hello_uid(&h, 2, 1000);
    struct rs_pid x = hello_uid(&h, 3, 2000); /* another OS user */
    ASSERT_EQ(handoff(&h, 1, NULL, "db", q, 0), ROSTER_ENOTFOUND);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", ""), 0);
    uint64_t t1 = rs_msg_register_reply_token(h_reply(&h));
    /* validation and scope */
    ASSERT_EQ(handoff(&h, 1, NULL, "", q, 0), ROSTER_EINVAL);
    ASSERT_EQ(handoff(&h, 1, "nope", "db", q, 0), ROSTER_ENOSCOPE);
    /* another user may not, whoever the new pid is */
    ASSERT_EQ(handoff(&h, 3, NULL, "db", x, 0), ROSTER_ENOTOWNER);
    ASSERT(h_bytes_is(h_reply(&h)->prev, "name 'db' is held by pid 00ab00cd00ef0012.1 of a "
                                         "client of another user"));
    /* a pid of another node: this scope cannot hand off across nodes */
    struct rs_pid remote = {H_INC + 1, 1};
    ASSERT_EQ(handoff(&h, 1, NULL, "db", remote, 0), ROSTER_EINVAL);
    ASSERT(strstr((const char *)h_reply(&h)->prev.ptr,
                  "eventual scopes hand off only between pids of one node; use a strong "
                  "scope") != NULL);
    /* a dead pid of this node */
    struct rs_pid dead = {H_INC, 999};
    ASSERT_EQ(handoff(&h, 1, NULL, "db", dead, 0), ROSTER_ENOPROC);
    /* if_token: a stale one conflicts and says the current token and holder */
    ASSERT_EQ(handoff(&h, 1, NULL, "db", q, t1 + 1), ROSTER_ECONFLICT);
    ASSERT_U64_EQ(rs_msg_handoff_reply_token(h_reply(&h)), t1);
    ASSERT(h_pid_eq(rs_msg_handoff_reply_holder(h_reply(&h)), p));
    ASSERT_U64_EQ(token_of(&h, 1, "db"), t1); /* nothing changed */
    /* to the holder itself: a no-op that keeps the token */
    ASSERT_EQ(handoff(&h, 1, NULL, "db", p, t1), 0);
    ASSERT_U64_EQ(rs_msg_handoff_reply_token(h_reply(&h)), t1);
    ASSERT_EQ(h_nevents(&h, 1), 0);
    /* within one client, with the right token */
    ASSERT_EQ(handoff(&h, 1, NULL, "db", p2, t1), 0);
    uint64_t t2 = rs_msg_handoff_reply_token(h_reply(&h));
    ASSERT(t2 > t1);
    ASSERT_EQ(h_nevents(&h, 1), 2); /* p's and p2's client is told, even as the caller */
    ASSERT_EQ(h_ev_kind(h_event(&h, 1, 0)), ROSTER_EV_UNREGISTERED);
    ASSERT(h_pid_eq(h_event(&h, 1, 0)->pid, p));
    ASSERT_EQ(h_ev_kind(h_event(&h, 1, 1)), ROSTER_EV_REGISTERED);
    ASSERT(h_pid_eq(h_event(&h, 1, 1)->pid, p2));
    /* a client of the same user acts for the holder's client: it moves the name to itself */
    ASSERT_EQ(handoff(&h, 2, NULL, "db", q, 0), 0);
    ASSERT_EQ(h_lookup(&h, 1, NULL, "db"), 0);
    ASSERT(h_pid_eq(h_reply(&h)->pid, q));
    /* and any pid of this node may receive it, also one of another user */
    ASSERT_EQ(handoff(&h, 2, NULL, "db", x, 0), 0);
    ASSERT_EQ(h_nevents(&h, 3), 1);
    ASSERT_EQ(handoff(&h, 2, NULL, "db", q, 0), ROSTER_ENOTOWNER);
    h_fini(&h);
}

/* The new holder's client pays for the name: entries_per_client. */
static void test_handoff_entries_limit(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    lim.entries_per_client = 1;
    struct harness h;
    h_init(&h, &lim);
    struct rs_pid p = hello_uid(&h, 1, 7);
    struct rs_pid p2 = h_pid_new(&h, 1);
    struct rs_pid q = hello_uid(&h, 2, 7);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "a", ""), 0);
    ASSERT_EQ(h_register(&h, 2, q, NULL, "b", ""), 0);
    ASSERT_EQ(handoff(&h, 1, NULL, "a", q, 0), ROSTER_ELIMIT);
    /* within the client the count does not change */
    ASSERT_EQ(handoff(&h, 1, NULL, "a", p2, 0), 0);
    /* and the old client's budget is freed: client 2 gives b to client 1 (full before) */
    ASSERT_EQ(h_unregister(&h, 1, NULL, "a"), 0);
    ASSERT_EQ(handoff(&h, 2, NULL, "b", p, 0), 0);
    ASSERT_EQ(h_register(&h, 2, q, NULL, "c", ""), 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "d", ""), ROSTER_ELIMIT);
    h_fini(&h);
}

static void test_update_name(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = hello_uid(&h, 1, 1000);
    hello_uid(&h, 2, 1000);
    hello_uid(&h, 3, 2000);
    h_hello(&h, 4);
    h_subscribe(&h, 4, NULL, "", ROSTER_SUB_ALL);
    ASSERT_EQ(update(&h, 1, "db", "x", 0, 0, "", NOPID), ROSTER_ENOTFOUND);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", "v1"), 0);
    uint64_t t = rs_msg_register_reply_token(h_reply(&h));
    /* if_token */
    ASSERT_EQ(update(&h, 1, "db", "v2", RS_UPDATE_IF_TOKEN, t + 1, "", NOPID), ROSTER_ECONFLICT);
    const struct rs_msg *r = h_reply(&h);
    ASSERT_U64_EQ(rs_msg_update_reply_token(r), t);
    ASSERT(h_bytes_is(rs_msg_update_reply_meta(r), "v1"));
    ASSERT(h_pid_eq(rs_msg_update_reply_holder(r), p));
    ASSERT_EQ(h_nevents(&h, 4), 0);
    ASSERT_EQ(update(&h, 1, "db", "v2", RS_UPDATE_IF_TOKEN, t, "", NOPID), 0);
    ASSERT_U64_EQ(rs_msg_update_reply_token(h_reply(&h)), t);
    ASSERT_EQ(h_nevents(&h, 4), 1);
    const struct rs_msg *e = h_event(&h, 4, 0);
    ASSERT_EQ(h_ev_kind(e), ROSTER_EV_UPDATED);
    ASSERT(h_bytes_is(rs_msg_event_meta(e), "v2"));
    ASSERT(h_bytes_is(rs_msg_event_prev_meta(e), "v1"));
    /* if_meta */
    ASSERT_EQ(update(&h, 1, "db", "v3", RS_UPDATE_IF_META, 0, "v1", NOPID), ROSTER_ECONFLICT);
    ASSERT(h_bytes_is(rs_msg_update_reply_meta(h_reply(&h)), "v2"));
    ASSERT_EQ(update(&h, 1, "db", "v3", RS_UPDATE_IF_META, 0, "v2", NOPID), 0);
    /* both: each must hold */
    ASSERT_EQ(update(&h, 1, "db", "v4", RS_UPDATE_IF_META | RS_UPDATE_IF_TOKEN, t, "v2",
                     NOPID), ROSTER_ECONFLICT);
    ASSERT_EQ(update(&h, 1, "db", "v4", RS_UPDATE_IF_META | RS_UPDATE_IF_TOKEN, t + 5, "v3",
                     NOPID), ROSTER_ECONFLICT);
    ASSERT_EQ(update(&h, 1, "db", "v4", RS_UPDATE_IF_META | RS_UPDATE_IF_TOKEN, t, "v3", NOPID),
              0);
    /* an empty expected metadata matches an empty one */
    ASSERT_EQ(update(&h, 1, "db", "", 0, 0, "", NOPID), 0);
    ASSERT_EQ(update(&h, 1, "db", "v5", RS_UPDATE_IF_META, 0, "", NOPID), 0);
    /* the same bytes: success, nothing changes, no event */
    h_flushed(&h, 4, 1u << 20);
    ASSERT_EQ(update(&h, 1, "db", "v5", 0, 0, "", NOPID), 0);
    ASSERT_EQ(h_nevents(&h, 4), 0);
    /* the uid rule: same user yes, other user no */
    ASSERT_EQ(update(&h, 2, "db", "v6", RS_UPDATE_IF_META, 0, "v5", NOPID), 0);
    ASSERT_EQ(update(&h, 3, "db", "v7", 0, 0, "", NOPID), ROSTER_ENOTOWNER);
    ASSERT_EQ(h_lookup(&h, 4, NULL, "db"), 0);
    ASSERT(h_bytes_is(h_reply(&h)->meta, "v6"));
    ASSERT_U64_EQ(rs_msg_lookup_reply_token(h_reply(&h)), t); /* updates keep the token */
    /* flags and validation; no grant has token 0 */
    ASSERT_EQ(update(&h, 1, "db", "v", 0x80, 0, "", NOPID), ROSTER_EINVAL);
    ASSERT_EQ(update(&h, 1, "db", "v", RS_UPDATE_IF_TOKEN, 0, "", NOPID), ROSTER_EINVAL);
    ASSERT(h_bytes_is(h_reply(&h)->prev, "if_token 0 is no token (tokens start at 1)"));
    ASSERT_EQ(update(&h, 1, "", "v", 0, 0, "", NOPID), ROSTER_EINVAL);
    h_fini(&h);
}

static void test_update_member(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = hello_uid(&h, 1, 1000);
    struct rs_pid p2 = h_pid_new(&h, 1);
    hello_uid(&h, 2, 1000);
    hello_uid(&h, 3, 2000);
    h_hello(&h, 4);
    h_subscribe(&h, 4, NULL, "", ROSTER_SUB_ALL);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", "a"), 0);
    ASSERT_EQ(h_join(&h, 1, p2, NULL, "g", "b"), 0);
    h_flushed(&h, 4, 1u << 20);
    uint32_t M = RS_UPDATE_MEMBER;
    ASSERT_EQ(update(&h, 1, "g", "a2", M | RS_UPDATE_IF_META, 0, "b", p), ROSTER_ECONFLICT);
    ASSERT(h_bytes_is(rs_msg_update_reply_meta(h_reply(&h)), "a"));
    ASSERT(h_pid_eq(rs_msg_update_reply_holder(h_reply(&h)), p));
    ASSERT_EQ(update(&h, 1, "g", "a2", M | RS_UPDATE_IF_META, 0, "a", p), 0);
    ASSERT_EQ(h_nevents(&h, 4), 1);
    const struct rs_msg *e = h_event(&h, 4, 0);
    ASSERT_EQ(h_ev_kind(e), ROSTER_EV_MEMBER_UPDATED);
    ASSERT(h_pid_eq(e->pid, p));
    ASSERT(h_bytes_is(rs_msg_event_meta(e), "a2"));
    ASSERT(h_bytes_is(rs_msg_event_prev_meta(e), "a"));
    /* the other member is untouched */
    struct rs_msg mm = {.type = RS_MSG_MEMBERS, .key = h_str("g")};
    ASSERT_EQ(h_status(&h, 4, &mm), 0);
    ASSERT_EQ(h_nframes(&h, 4, RS_MSG_MEMBERS, RS_F_ITEM), 2);
    for (size_t i = 0; i < 2; i++) {
        const struct rs_msg *it = h_item(&h, 4, RS_MSG_MEMBERS, i);
        ASSERT(h_bytes_is(it->meta, h_pid_eq(it->pid, p) ? "a2" : "b"));
    }
    /* memberships have no token */
    ASSERT_EQ(update(&h, 1, "g", "x", M | RS_UPDATE_IF_TOKEN, 1, "", p), ROSTER_EINVAL);
    /* the same user may, another may not */
    ASSERT_EQ(update(&h, 2, "g", "b2", M, 0, "", p2), 0);
    ASSERT_EQ(update(&h, 3, "g", "b3", M, 0, "", p2), ROSTER_ENOTOWNER);
    /* not a member, dead pid, unknown group */
    struct rs_pid q = h_pid_new(&h, 2);
    ASSERT_EQ(update(&h, 2, "g", "x", M, 0, "", q), ROSTER_ENOTMEMBER);
    ASSERT_EQ(update(&h, 2, "nog", "x", M, 0, "", p), ROSTER_ENOTMEMBER);
    struct rs_pid dead = {H_INC, 999};
    ASSERT_EQ(update(&h, 2, "g", "x", M, 0, "", dead), ROSTER_ENOPROC);
    /* the same bytes: no event */
    h_flushed(&h, 4, 1u << 20);
    ASSERT_EQ(update(&h, 1, "g", "b2", M, 0, "", p2), 0);
    ASSERT_EQ(h_nevents(&h, 4), 0);
    h_fini(&h);
}

static void test_campaign_eventual(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct rs_msg m = {.type = RS_MSG_CAMPAIGN, .pid = p, .key = h_str("leader")};
    ASSERT_EQ(h_status(&h, 1, &m), ROSTER_EINVAL);
    ASSERT(h_bytes_is(h_reply(&h)->prev, "leader election needs a strong scope"));
    struct rs_msg n = {.type = RS_MSG_CAMPAIGN, .pid = p, .scope = h_str("nope"),
                       .key = h_str("leader")};
    ASSERT_EQ(h_status(&h, 1, &n), ROSTER_ENOSCOPE);
    ASSERT_EQ(h_lookup(&h, 1, NULL, "leader"), ROSTER_ENOTFOUND);
    h_fini(&h);
}

/* --- two nodes ----------------------------------------------------------------------- */

#define A 0
#define B 1

static struct cluster cl;

static void two_nodes(void)
{
    cl_init(&cl);
    cl_add(&cl, "a", 0xa1ull, NULL);
    cl_add(&cl, "b", 0xb2ull, NULL);
    cl_connect(&cl, A, B);
    cl_pump(&cl);
}

static uint64_t cl_token(size_t i, uint64_t conn, const char *name, struct rs_pid *holder)
{
    struct rs_msg m = {.type = RS_MSG_LOOKUP, .key = rs_bytes_str(name)};
    const struct rs_msg *r = cl_req(&cl, i, conn, &m);
    ASSERT_EQ(r->status, 0);
    if (holder)
        *holder = r->pid;
    return rs_msg_lookup_reply_token(r);
}

/* The frames queued on the link from i to j, decoded (up to max). */
static size_t queued(size_t i, size_t j, struct rs_msg *out, size_t max)
{
    const struct rs_buf *q = &cl.n[i].q[j];
    size_t off = 0, n = 0;
    while (off < q->len && n < max) {
        size_t flen = 0;
        ASSERT_EQ(rs_wire_frame_next(q->data + off, q->len - off, cl.lim.frame_max, &flen),
                  RS_WIRE_OK);
        ASSERT_EQ(rs_wire_decode(q->data + off, flen, &cl.lim, &out[n]), RS_WIRE_OK);
        n++;
        off += flen;
    }
    return n;
}

static void test_cluster_token_and_handoff(void)
{
    two_nodes();
    struct rs_pid p = cl_client(&cl, A, 1);
    struct rs_pid q = cl_client(&cl, A, 2);
    cl_client(&cl, B, 1);
    cl_subscribe(&cl, B, 1, "", ROSTER_SUB_ALL);
    ASSERT_EQ(cl_register(&cl, A, 1, p, "", "db", "cfg"), 0);
    cl_pump(&cl);
    uint64_t t1 = cl_token(A, 1, "db", NULL);
    ASSERT_U64_EQ(cl_token(B, 1, "db", NULL), t1); /* the peer shows the owner's token */
    cn_clear(&cl.n[B]);
    /* the handoff leaves node a as one P_OP */
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .key = rs_bytes_str("db")};
    rs_msg_handoff_to_set(&m, q);
    const struct rs_msg *r = cl_req(&cl, A, 1, &m);
    ASSERT_EQ(r->status, 0);
    uint64_t t2 = rs_msg_handoff_reply_token(r);
    ASSERT(t2 > t1);
    struct rs_msg f[8];
    ASSERT_EQ(queued(A, B, f, 8), 1);
    ASSERT_EQ(f[0].type, RS_MSG_P_OP);
    ASSERT_EQ(rs_msg_p_op_op(&f[0]), RS_POP_HANDOFF);
    ASSERT_EQ(rs_msg_p_op_reason(&f[0]), ROSTER_REASON_HANDOFF);
    ASSERT(cl_pid_eq(f[0].pid, q));
    ASSERT_U64_EQ(rs_msg_p_op_hlc(&f[0]), t2);
    /* node b applies it as one change: its subscriber sees the pair and nothing else */
    cl_pump(&cl);
    ASSERT_EQ(cl_nevents(&cl.n[B], 1), 2);
    const struct rs_msg *e0 = cl_event(&cl.n[B], 1, 0), *e1 = cl_event(&cl.n[B], 1, 1);
    ASSERT_EQ(rs_msg_event_kind(e0), ROSTER_EV_UNREGISTERED);
    ASSERT_EQ(rs_msg_event_reason(e0), ROSTER_REASON_HANDOFF);
    ASSERT(cl_pid_eq(e0->pid, p));
    ASSERT_EQ(rs_msg_event_kind(e1), ROSTER_EV_REGISTERED);
    ASSERT_EQ(rs_msg_event_reason(e1), ROSTER_REASON_HANDOFF);
    ASSERT(cl_pid_eq(e1->pid, q));
    ASSERT(cl_bytes_is(rs_msg_event_meta(e1), "cfg"));
    struct rs_pid h;
    ASSERT_U64_EQ(cl_token(B, 1, "db", &h), t2);
    ASSERT(cl_pid_eq(h, q));
    ASSERT_U64_EQ(cl_stats(&cl.n[B]).names, 1);
    /* the old pid's death on a reaches b and leaves the name alone */
    struct rs_msg close = {.type = RS_MSG_PID_CLOSE, .pid = p};
    ASSERT_EQ(cl_req(&cl, A, 1, &close)->status, 0);
    cl_pump(&cl);
    ASSERT_U64_EQ(cl_token(B, 1, "db", &h), t2);
    ASSERT(cl_pid_eq(h, q));
    /* a node that connects later learns the token with the entry (snapshot) */
    cl_add(&cl, "c", 0xc3ull, NULL);
    cl_client(&cl, 2, 1);
    cl_connect(&cl, A, 2);
    cl_connect(&cl, B, 2);
    cl_pump(&cl);
    ASSERT_U64_EQ(cl_token(2, 1, "db", &h), t2);
    ASSERT(cl_pid_eq(h, q));
    cl_fini(&cl);
}

/* On another node than the owner's, HANDOFF and UPDATE refuse and name the owner's node;
 * CHECK_TOKEN answers from the local copy. */
static void test_cluster_owner_node_only(void)
{
    two_nodes();
    struct rs_pid p = cl_client(&cl, A, 1);
    struct rs_pid b1 = cl_client(&cl, B, 1);
    ASSERT_EQ(cl_register(&cl, A, 1, p, "", "db", "v1"), 0);
    ASSERT_EQ(cl_join(&cl, A, 1, p, "", "g", "v1"), 0);
    cl_pump(&cl);
    uint64_t t = cl_token(A, 1, "db", NULL);
    struct rs_msg u = {.type = RS_MSG_UPDATE, .key = rs_bytes_str("db"),
                       .meta = rs_bytes_str("v2")};
    const struct rs_msg *r = cl_req(&cl, B, 1, &u);
    ASSERT_EQ(r->status, ROSTER_EINVAL);
    ASSERT(cl_bytes_is(r->prev, "compare-and-set in an eventual scope runs on the owner's "
                                "node: a"));
    struct rs_msg um = {.type = RS_MSG_UPDATE, .key = rs_bytes_str("g"),
                        .meta = rs_bytes_str("v2")};
    rs_msg_update_flags_set(&um, RS_UPDATE_MEMBER);
    rs_msg_update_member_set(&um, p);
    r = cl_req(&cl, B, 1, &um);
    ASSERT_EQ(r->status, ROSTER_EINVAL);
    ASSERT(cl_bytes_is(r->prev, "compare-and-set in an eventual scope runs on the owner's "
                                "node: a"));
    struct rs_msg ho = {.type = RS_MSG_HANDOFF, .key = rs_bytes_str("db")};
    rs_msg_handoff_to_set(&ho, b1);
    r = cl_req(&cl, B, 1, &ho);
    ASSERT_EQ(r->status, ROSTER_EINVAL);
    ASSERT(cl_bytes_is(r->prev, "eventual scopes hand off only between pids of one node; use "
                                "a strong scope (name's holder 00000000000000a1.1 is on node "
                                "'a', this is 'b')"));
    /* and from the owner's node to a pid of b */
    r = cl_req(&cl, A, 1, &ho);
    ASSERT_EQ(r->status, ROSTER_EINVAL);
    /* CHECK_TOKEN on b: its copy */
    struct rs_msg ct = {.type = RS_MSG_CHECK_TOKEN, .key = rs_bytes_str("db")};
    rs_msg_check_token_token_set(&ct, t);
    r = cl_req(&cl, B, 1, &ct);
    ASSERT_EQ(r->status, 0);
    ASSERT_U64_EQ(rs_msg_check_token_reply_current(r), 1);
    /* an update on the owner's node replicates as usual; the token stays */
    r = cl_req(&cl, A, 1, &u);
    ASSERT_EQ(r->status, 0);
    cl_pump(&cl);
    char meta[16];
    ASSERT_EQ(cl_lookup(&cl, B, 1, "", "db", NULL, meta, NULL), 0);
    ASSERT_STR_EQ(meta, "v2");
    ASSERT_U64_EQ(cl_token(B, 1, "db", NULL), t);
    cl_fini(&cl);
}

/* A peer that missed a handoff (its P_OP was lost with a replaced connection) learns it
 * from the new connection's snapshot, which shows another pid of a in the claim: the claim
 * moves in one change there too. Under the priority policy c's claim hides behind a's on
 * b; removing a's old claim and then adding the new one would show c's pid in between. */
static void test_cluster_snapshot_replaces_claim_atomically(void)
{
    static const struct rs_node_priority prio[] = {{"a", 10}, {"b", 5}, {"c", 1}};
    struct rs_core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = RS_POLICY_PRIORITY;
    cfg.priorities = prio;
    cfg.n_priorities = 3;
    cl_init(&cl);
    cl_add(&cl, "a", 0xa1ull, &cfg);
    cl_add(&cl, "b", 0xb2ull, &cfg);
    cl_add(&cl, "c", 0xc3ull, &cfg);
    cl_connect(&cl, B, A); /* b dialed a; a and c never meet */
    cl_connect(&cl, B, 2);
    cl_pump(&cl);
    struct rs_pid p = cl_client(&cl, A, 1);
    struct rs_pid q = cl_client(&cl, A, 2);
    struct rs_pid z = cl_client(&cl, 2, 1);
    cl_client(&cl, B, 1);
    cl_subscribe(&cl, B, 1, "", ROSTER_SUB_ALL);
    ASSERT_EQ(cl_register(&cl, A, 1, p, "", "db", "m"), 0);
    ASSERT_EQ(cl_register(&cl, 2, 1, z, "", "db", "m"), 0);
    cl_pump(&cl);
    struct rs_pid h;
    cl_token(B, 1, "db", &h);
    ASSERT(cl_pid_eq(h, p));
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .key = rs_bytes_str("db")};
    rs_msg_handoff_to_set(&m, q);
    ASSERT_EQ(cl_req(&cl, A, 1, &m)->status, 0);
    /* both sides switch to a new connection: the P_OP is lost with the old one */
    cl_peer_up_gen(&cl, B, A, 1, 1);
    cl_peer_up_gen(&cl, A, B, 0, 1);
    cl_peer_gone_gen(&cl, A, B, 0);
    cl_peer_gone_gen(&cl, B, A, 0);
    cn_clear(&cl.n[B]);
    cl_pump(&cl);
    ASSERT_EQ(cl_nevents(&cl.n[B], 1), 2);
    const struct rs_msg *e0 = cl_event(&cl.n[B], 1, 0), *e1 = cl_event(&cl.n[B], 1, 1);
    ASSERT_EQ(rs_msg_event_kind(e0), ROSTER_EV_UNREGISTERED);
    ASSERT_EQ(rs_msg_event_reason(e0), ROSTER_REASON_NORMAL);
    ASSERT(cl_pid_eq(e0->pid, p));
    ASSERT_EQ(rs_msg_event_kind(e1), ROSTER_EV_REGISTERED);
    ASSERT(cl_pid_eq(e1->pid, q));
    ASSERT_U64_EQ(cl_token(B, 1, "db", &h), cl_token(A, 1, "db", NULL));
    ASSERT(cl_pid_eq(h, q));
    ASSERT_U64_EQ(cl_stats(&cl.n[B]).names, 2); /* q's claim and c's hidden one */
    cl_fini(&cl);
}

/* A peer that missed a new grant of a name to the same pid (here an unregister and a
 * register; a handoff away and back is the same) learns the new token from the snapshot of
 * the next connection, with no event when the metadata is the same. (Simulator seed 3971
 * of the token check: before, the peer kept the old stamp.) */
static void test_cluster_snapshot_brings_new_token(void)
{
    two_nodes(); /* a dialed b */
    struct rs_pid p = cl_client(&cl, A, 1);
    cl_client(&cl, B, 1);
    cl_subscribe(&cl, B, 1, "", ROSTER_SUB_ALL);
    ASSERT_EQ(cl_register(&cl, A, 1, p, "", "db", "m"), 0);
    cl_pump(&cl);
    uint64_t t1 = cl_token(A, 1, "db", NULL);
    ASSERT_EQ(cl_unregister(&cl, A, 1, "", "db"), 0);
    ASSERT_EQ(cl_register(&cl, A, 1, p, "", "db", "m"), 0);
    uint64_t t2 = cl_token(A, 1, "db", NULL);
    ASSERT(t2 > t1);
    /* both sides switch to a new connection: the two P_OPs are lost with the old one */
    cl_peer_up_gen(&cl, A, B, 1, 1);
    cl_peer_up_gen(&cl, B, A, 0, 1);
    cl_peer_gone_gen(&cl, A, B, 0);
    cl_peer_gone_gen(&cl, B, A, 0);
    cn_clear(&cl.n[B]);
    cl_pump(&cl);
    struct rs_pid h;
    ASSERT_U64_EQ(cl_token(B, 1, "db", &h), t2);
    ASSERT(cl_pid_eq(h, p));
    ASSERT_EQ(cl_nevents(&cl.n[B], 1), 0);
    cl_fini(&cl);
}

/* A peer rejects a handoff op with another reason (a malformed frame fails the node). */
static void test_cluster_bad_handoff_op(void)
{
    two_nodes();
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_OP;
    rs_msg_p_op_opts_set(&m, rs_msg_p_op_pack(RS_POP_HANDOFF, ROSTER_REASON_NORMAL));
    rs_msg_p_op_hlc_set(&m, 5);
    m.pid = (struct rs_pid){0xa1ull, 1};
    m.scope = rs_bytes_str("default");
    rs_msg_p_op_key_set(&m, rs_bytes_str("db"));
    struct rs_buf b;
    rs_buf_init(&b);
    ASSERT_EQ(rs_wire_encode(&b, &m), 0);
    ASSERT_EQ(rs_buf_append(&cl.n[A].q[B], b.data, b.len), 0);
    rs_buf_fini(&b);
    cl_pump(&cl);
    ASSERT(cl_closed(&cl.n[B], cl_conn_id(A, 0)));
    cl_fini(&cl);
}

TEST_MAIN(T(test_token_register_lookup), T(test_check_token), T(test_handoff),
          T(test_handoff_rules), T(test_handoff_entries_limit), T(test_update_name),
          T(test_update_member), T(test_campaign_eventual), T(test_cluster_token_and_handoff),
          T(test_cluster_owner_node_only), T(test_cluster_snapshot_replaces_claim_atomically),
          T(test_cluster_snapshot_brings_new_token), T(test_cluster_bad_handoff_op))
