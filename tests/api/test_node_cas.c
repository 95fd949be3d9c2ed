/* test_node_cas.c: tokens, HANDOFF, UPDATE and CHECK_TOKEN of an eventual scope on a real
 * rosterd through raw frames, with the uid the node reads from the socket (SO_PEERCRED):
 * a client of the holder's OS user acts for the holder, a client of another user (a child
 * that switched to uid 65534; skipped when the test cannot switch) gets ENOTOWNER; the old
 * and new holders' clients get their UNREGISTERED / REGISTERED (handoff) notices and a
 * subscriber sees the two handoff events back to back. */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "rawclient.h"
#include "roster.h"
#include "test.h"

#define OTHER_UID 65534u

static void connect_hello(struct rawclient *rc, const struct test_node *n)
{
    ASSERT_EQ(rc_connect(rc, n->sock), 0);
    ASSERT_EQ(rc_hello(rc, RS_WIRE_VERSION, NULL), 0);
}

static int32_t handoff(struct rawclient *rc, const char *name, struct rs_pid to,
                       uint64_t if_token, struct rs_msg *reply)
{
    struct rs_msg m = {.type = RS_MSG_HANDOFF, .key = rs_bytes_str(name)};
    rs_msg_handoff_to_set(&m, to);
    rs_msg_handoff_if_token_set(&m, if_token);
    return rc_call(rc, &m, reply, 5000);
}

static int32_t update(struct rawclient *rc, const char *name, const char *meta,
                      uint32_t flags, uint64_t if_token, struct rs_msg *reply)
{
    struct rs_msg m = {.type = RS_MSG_UPDATE, .key = rs_bytes_str(name),
                       .meta = rs_bytes_str(meta)};
    rs_msg_update_flags_set(&m, flags);
    rs_msg_update_if_token_set(&m, if_token);
    return rc_call(rc, &m, reply, 5000);
}

/* The next EVENT frame of rc (deadline 5 s). */
static void next_event(struct rawclient *rc, struct rs_msg *ev)
{
    for (;;) {
        ASSERT_EQ(rc_recv(rc, ev, 5000), 1);
        if (ev->type == RS_MSG_EVENT)
            return;
    }
}

/* A child of another OS user: HANDOFF and UPDATE refused, CHECK_TOKEN answered. Its exit
 * status says which step failed (0: all as expected, 77: could not switch user). */
static int other_user(const char *sock, uint64_t token)
{
    if (setgroups(0, NULL) != 0 || setgid(OTHER_UID) != 0 || setuid(OTHER_UID) != 0)
        return 77;
    struct rawclient rc;
    if (rc_connect(&rc, sock) != 0 || rc_hello(&rc, RS_WIRE_VERSION, NULL) != 0)
        return 10;
    struct rs_msg r;
    if (handoff(&rc, "db", rc.pid, 0, &r) != ROSTER_ENOTOWNER)
        return 11;
    if (update(&rc, "db", "theirs", 0, 0, &r) != ROSTER_ENOTOWNER)
        return 12;
    struct rs_msg ct = {.type = RS_MSG_CHECK_TOKEN, .key = rs_bytes_str("db")};
    rs_msg_check_token_token_set(&ct, token);
    if (rc_call(&rc, &ct, &r, 5000) != 0 || rs_msg_check_token_reply_current(&r) != 1)
        return 13;
    rc_close(&rc);
    return 0;
}

static void test_eventual_cas_on_a_node(void)
{
    struct test_node n;
    const char *args[] = {"--name", "alpha", NULL};
    test_node_start(&n, args);
    struct rawclient holder, mate, sub;
    connect_hello(&holder, &n);
    connect_hello(&mate, &n);
    connect_hello(&sub, &n);
    struct rs_msg s = {.type = RS_MSG_SUBSCRIBE, .key = rs_bytes_str("db")};
    rs_msg_subscribe_flags_set(&s, ROSTER_SUB_REGISTRY);
    ASSERT_EQ(rc_call(&sub, &s, NULL, 5000), 0);
    struct rs_msg r;
    struct rs_msg reg = {.type = RS_MSG_REGISTER, .pid = holder.pid, .key = rs_bytes_str("db"),
                         .meta = rs_bytes_str("v1")};
    ASSERT_EQ(rc_call(&holder, &reg, &r, 5000), 0);
    uint64_t t1 = rs_msg_register_reply_token(&r);
    ASSERT(t1 != 0);
    struct rs_msg ev;
    next_event(&sub, &ev); /* REGISTERED */
    /* a stale if_token conflicts; the holder hands the name to the mate's pid */
    ASSERT_EQ(handoff(&holder, "db", mate.pid, t1 + 1, &r), ROSTER_ECONFLICT);
    ASSERT_U64_EQ(rs_msg_handoff_reply_token(&r), t1);
    ASSERT_EQ(handoff(&holder, "db", mate.pid, t1, &r), 0);
    uint64_t t2 = rs_msg_handoff_reply_token(&r);
    ASSERT(t2 > t1);
    next_event(&holder, &ev);
    ASSERT_EQ(rs_msg_event_kind(&ev), ROSTER_EV_UNREGISTERED);
    ASSERT_EQ(rs_msg_event_reason(&ev), ROSTER_REASON_HANDOFF);
    ASSERT_U64_EQ(rs_msg_event_id(&ev), 0);
    ASSERT_U64_EQ(ev.pid.serial, holder.pid.serial);
    next_event(&mate, &ev);
    ASSERT_EQ(rs_msg_event_kind(&ev), ROSTER_EV_REGISTERED);
    ASSERT_EQ(rs_msg_event_reason(&ev), ROSTER_REASON_HANDOFF);
    ASSERT_U64_EQ(rs_msg_event_id(&ev), 0);
    ASSERT_U64_EQ(ev.pid.serial, mate.pid.serial);
    next_event(&sub, &ev);
    ASSERT_EQ(rs_msg_event_kind(&ev), ROSTER_EV_UNREGISTERED);
    ASSERT_EQ(rs_msg_event_reason(&ev), ROSTER_REASON_HANDOFF);
    ASSERT_U64_EQ(ev.pid.serial, holder.pid.serial);
    next_event(&sub, &ev);
    ASSERT_EQ(rs_msg_event_kind(&ev), ROSTER_EV_REGISTERED);
    ASSERT_EQ(rs_msg_event_reason(&ev), ROSTER_REASON_HANDOFF);
    ASSERT_U64_EQ(ev.pid.serial, mate.pid.serial);
    /* the old holder's client, same OS user, still acts for the name: compare-and-set */
    ASSERT_EQ(update(&holder, "db", "v2", RS_UPDATE_IF_TOKEN, t1, &r), ROSTER_ECONFLICT);
    ASSERT_U64_EQ(rs_msg_update_reply_token(&r), t2);
    ASSERT_EQ(update(&holder, "db", "v2", RS_UPDATE_IF_TOKEN, t2, &r), 0);
    struct rs_msg lk = {.type = RS_MSG_LOOKUP, .key = rs_bytes_str("db")};
    ASSERT_EQ(rc_call(&sub, &lk, &r, 5000), 0);
    ASSERT_U64_EQ(r.pid.serial, mate.pid.serial);
    ASSERT_MEM_EQ(r.meta.ptr, r.meta.len, "v2", 2);
    ASSERT_U64_EQ(rs_msg_lookup_reply_token(&r), t2);
    /* a client of another OS user: the node's socket directory is only the test user's */
    ASSERT_EQ(chmod(n.dir, 0755), 0);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0)
        _exit(other_user(n.sock, t2));
    int st = 0;
    ASSERT_EQ(waitpid(child, &st, 0), child);
    ASSERT(WIFEXITED(st));
    int code = WEXITSTATUS(st);
    rc_close(&holder);
    rc_close(&mate);
    rc_close(&sub);
    test_node_stop_ok(&n);
    if (code == 77)
        test_skip("cannot switch to uid %u here (not root)", OTHER_UID);
    ASSERT_EQ(code, 0);
}

TEST_MAIN(T(test_eventual_cas_on_a_node))
