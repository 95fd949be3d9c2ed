/* test_client_strong.c: libroster's strong-scope calls (protocol 4) against a scripted fake
 * node, at the wire level: what each call puts in its request (read-mode flag, token,
 * compare flags, revision to resume from) and what it takes from the answer (tokens,
 * revisions, the current value of a failed compare-and-set, EUNKNOWN), and a campaign
 * answered long after other requests came and went. The fake dies (and the test fails) on
 * any field it did not expect. */
#include "fakenode.h"

static void expect(int fd, struct rs_msg *m, uint8_t type)
{
    rd(fd, m);
    if (m->type != type) {
        fprintf(stderr, "  fake node: got %s, expected %s\n", rs_wire_type_name(m->type),
                rs_wire_type_name(type));
        _exit(3);
    }
}

static void check(int ok, const char *what)
{
    if (!ok)
        die(what);
}

static int bytes_are(struct rs_bytes b, const char *s)
{
    return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

static struct rs_msg answer(uint8_t type, uint32_t req_id, int status)
{
    struct rs_msg r = {.type = type, .flags = RS_F_REPLY, .req_id = req_id, .status = status};
    return r;
}

/* --- tokens and revisions of reads, and the read mode's flag -------------------------- */

static void script_reads(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    /* register_token: the token comes back in ARG2 */
    expect(fd, &m, RS_MSG_REGISTER);
    check(bytes_are(m.key, "db") && bytes_are(m.scope, "s"), "register fields");
    r = answer(RS_MSG_REGISTER, m.req_id, 0);
    rs_msg_register_reply_holder_set(&r, m.pid);
    rs_msg_register_reply_token_set(&r, 41);
    wr(fd, &r);
    /* linearizable lookup (no flag): token and revision */
    expect(fd, &m, RS_MSG_LOOKUP);
    check(rs_msg_lookup_flags(&m) == 0, "lookup flags in linearizable mode");
    r = answer(RS_MSG_LOOKUP, m.req_id, 0);
    rs_msg_lookup_reply_holder_set(&r, (struct rs_pid){FAKE_INC, 1});
    rs_msg_lookup_reply_node_set(&r, rs_bytes_str("fake"));
    rs_msg_lookup_reply_meta_set(&r, rs_bytes_str("m"));
    rs_msg_lookup_reply_token_set(&r, 41);
    rs_msg_lookup_reply_revision_set(&r, 77);
    wr(fd, &r);
    /* stale mode: every read carries RS_OPT_STALE */
    expect(fd, &m, RS_MSG_LOOKUP);
    check(rs_msg_lookup_flags(&m) == RS_OPT_STALE, "stale lookup flag");
    r = answer(RS_MSG_LOOKUP, m.req_id, ROSTER_ENOTFOUND);
    rs_msg_lookup_reply_revision_set(&r, 78); /* free at 78 */
    wr(fd, &r);
    expect(fd, &m, RS_MSG_NAMES);
    check(rs_msg_names_flags(&m) == RS_OPT_STALE, "stale names flag");
    struct rs_msg it = {.type = RS_MSG_NAMES, .flags = RS_F_ITEM, .req_id = m.req_id};
    it.pid = (struct rs_pid){FAKE_INC, 1};
    it.key = rs_bytes_str("a");
    wr(fd, &it);
    it.key = rs_bytes_str("b");
    wr(fd, &it);
    r = answer(RS_MSG_NAMES, m.req_id, 0);
    rs_msg_names_reply_n_set(&r, 2);
    rs_msg_names_reply_revision_set(&r, 80);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_MEMBERS);
    check(rs_msg_members_opts(&m) == (RS_OPT_STALE | RS_OPT_LOCAL), "stale local members");
    r = answer(RS_MSG_MEMBERS, m.req_id, 0);
    rs_msg_members_reply_revision_set(&r, 81);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_COUNT);
    check(rs_msg_count_flags(&m) == RS_OPT_STALE, "stale count flag");
    struct rs_msg ci = {.type = RS_MSG_COUNT, .flags = RS_F_ITEM, .req_id = m.req_id};
    rs_msg_count_item_counter_set(&ci, rs_bytes_str("names"));
    rs_msg_count_item_value_set(&ci, 2);
    wr(fd, &ci);
    r = answer(RS_MSG_COUNT, m.req_id, 0);
    rs_msg_count_reply_revision_set(&r, 82);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_IS_MEMBER);
    check(rs_msg_is_member_flags(&m) == RS_OPT_STALE, "stale is_member flag");
    r = answer(RS_MSG_IS_MEMBER, m.req_id, 0);
    rs_msg_is_member_reply_yes_set(&r, 1);
    rs_msg_is_member_reply_revision_set(&r, 83);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_GROUPS);
    check(rs_msg_groups_flags(&m) == RS_OPT_STALE, "stale groups flag");
    r = answer(RS_MSG_GROUPS, m.req_id, 0);
    wr(fd, &r); /* an eventual scope: revision 0 */
    /* back to linearizable */
    expect(fd, &m, RS_MSG_NAMES);
    check(rs_msg_names_flags(&m) == 0, "names flag after going back");
    wr(fd, &(struct rs_msg){.type = RS_MSG_NAMES, .flags = RS_F_REPLY, .req_id = m.req_id});
    wait_eof(fd);
}

static void test_tokens_revisions_read_mode(void)
{
    struct fake f;
    fake_start(&f, script_reads);
    roster_client *c = fake_connect(&f);
    roster_pid self = roster_self(c), holder = {0, 0};
    uint64_t token = 0;
    ASSERT_EQ(roster_register_token(c, "s", "db", 2, self, "m", 1, &holder, &token, 5000), 0);
    ASSERT_U64_EQ(token, 41);
    ASSERT(roster_pid_equal(holder, self));
    ASSERT_U64_EQ(roster_last_revision(c), 0);
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, "s", "db", 2, &e, 5000), 0);
    ASSERT_U64_EQ(e.token, 41);
    ASSERT_U64_EQ(e.revision, 77);
    ASSERT_MEM_EQ(e.meta.data, e.meta.len, "m", 1);
    roster_entry_free(&e);
    ASSERT_U64_EQ(roster_last_revision(c), 77);

    ASSERT_EQ(roster_set_read_mode(c, 7), ROSTER_EINVAL);
    ASSERT_EQ(roster_set_read_mode(c, ROSTER_READ_STALE), ROSTER_READ_LINEARIZABLE);
    ASSERT_EQ(roster_lookup(c, "s", "db", 2, &e, 5000), ROSTER_ENOTFOUND);
    ASSERT_U64_EQ(roster_last_revision(c), 78);
    roster_entries l;
    roster_pid none = {0, 0};
    ASSERT_EQ(roster_names(c, "s", "", 0, none, 0, &l, 5000), 0);
    ASSERT_EQ(l.n, 2);
    ASSERT_U64_EQ(l.items[0].revision, 80);
    ASSERT_U64_EQ(l.items[1].revision, 80);
    roster_entries_free(&l);
    ASSERT_EQ(roster_members(c, "s", "g", 1, 1, &l, 5000), 0);
    ASSERT_EQ(l.n, 0);
    ASSERT_U64_EQ(roster_last_revision(c), 81);
    roster_counts n;
    ASSERT_EQ(roster_count(c, "s", NULL, &n, 5000), 0);
    ASSERT_U64_EQ(n.names, 2);
    ASSERT_U64_EQ(n.revision, 82);
    ASSERT_EQ(roster_is_member(c, "s", "g", 1, self, 5000), 1);
    ASSERT_U64_EQ(roster_last_revision(c), 83);
    ASSERT_EQ(roster_groups(c, "default", "", 0, none, 0, &l, 5000), 0);
    ASSERT_U64_EQ(roster_last_revision(c), 83); /* an eventual answer (0) changes nothing */
    ASSERT_EQ(roster_set_read_mode(c, ROSTER_READ_LINEARIZABLE), ROSTER_READ_STALE);
    ASSERT_EQ(roster_names(c, "s", "", 0, none, 0, &l, 5000), 0);
    roster_close(c);
    fake_end(&f);
}

/* --- check-token, handoff, EUNKNOWN --------------------------------------------------- */

static void script_tokens(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    expect(fd, &m, RS_MSG_CHECK_TOKEN);
    check(rs_msg_check_token_token(&m) == 41 && bytes_are(m.key, "db"), "check_token fields");
    r = answer(RS_MSG_CHECK_TOKEN, m.req_id, 0);
    rs_msg_check_token_reply_current_set(&r, 1);
    rs_msg_check_token_reply_token_set(&r, 41);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_CHECK_TOKEN);
    check(rs_msg_check_token_token(&m) == 40, "check_token token");
    r = answer(RS_MSG_CHECK_TOKEN, m.req_id, 0);
    rs_msg_check_token_reply_token_set(&r, 41);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_CHECK_TOKEN);
    r = answer(RS_MSG_CHECK_TOKEN, m.req_id, ROSTER_ENOSCOPE);
    r.prev = rs_bytes_str("no scope 'zz'");
    wr(fd, &r);
    /* handoff: target pid and the optional token compare */
    expect(fd, &m, RS_MSG_HANDOFF);
    struct rs_pid to = rs_msg_handoff_to(&m);
    check(to.inc == FAKE_INC && to.serial == 9 && rs_msg_handoff_if_token(&m) == 0,
          "handoff fields");
    r = answer(RS_MSG_HANDOFF, m.req_id, 0);
    rs_msg_handoff_reply_holder_set(&r, to);
    rs_msg_handoff_reply_token_set(&r, 52);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_HANDOFF);
    check(rs_msg_handoff_if_token(&m) == 41, "handoff if_token");
    r = answer(RS_MSG_HANDOFF, m.req_id, ROSTER_ECONFLICT);
    rs_msg_handoff_reply_token_set(&r, 52);
    wr(fd, &r);
    /* an outcome the node cannot know */
    expect(fd, &m, RS_MSG_REGISTER);
    r = answer(RS_MSG_REGISTER, m.req_id, ROSTER_EUNKNOWN);
    r.prev = rs_bytes_str("etcd did not answer in 1000 ms");
    wr(fd, &r);
    wait_eof(fd);
}

static void test_check_token_handoff_unknown(void)
{
    struct fake f;
    fake_start(&f, script_tokens);
    roster_client *c = fake_connect(&f);
    uint64_t cur = 7;
    ASSERT_EQ(roster_check_token(c, "s", "db", 2, 41, &cur, 5000), 1);
    ASSERT_U64_EQ(cur, 41);
    ASSERT_EQ(roster_check_token(c, "s", "db", 2, 40, &cur, 5000), 0);
    ASSERT_U64_EQ(cur, 41);
    ASSERT_EQ(roster_check_token(c, "zz", "db", 2, 40, &cur, 5000), ROSTER_ENOSCOPE);
    ASSERT_U64_EQ(cur, 0);
    ASSERT_STR_EQ(roster_errdetail(c), "no scope 'zz'");
    /* local refusals send nothing */
    ASSERT_EQ(roster_check_token(c, "s", "", 0, 1, NULL, 5000), ROSTER_EINVAL);
    roster_pid zero = {0, 0}, to = {FAKE_INC, 9};
    ASSERT_EQ(roster_handoff(c, "s", "db", 2, zero, 0, NULL, 5000), ROSTER_EINVAL);
    uint64_t t = 0;
    ASSERT_EQ(roster_handoff(c, "s", "db", 2, to, 0, &t, 5000), 0);
    ASSERT_U64_EQ(t, 52);
    ASSERT_EQ(roster_handoff(c, "s", "db", 2, to, 41, &t, 5000), ROSTER_ECONFLICT);
    ASSERT_U64_EQ(t, 52);
    roster_pid h;
    ASSERT_EQ(roster_register_token(c, "s", "x", 1, roster_self(c), NULL, 0, &h, &t, 5000),
              ROSTER_EUNKNOWN);
    ASSERT_U64_EQ(t, 0);
    ASSERT_STR_EQ(roster_err_name(ROSTER_EUNKNOWN), "EUNKNOWN");
    ASSERT(strstr(roster_errdetail(c), "did not answer") != NULL);
    roster_close(c);
    fake_end(&f);
}

/* --- compare-and-set and the read-modify-write loop ----------------------------------- */

static void script_update(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    expect(fd, &m, RS_MSG_UPDATE);
    check(rs_msg_update_flags(&m) == RS_UPDATE_IF_TOKEN && rs_msg_update_if_token(&m) == 41 &&
              bytes_are(rs_msg_update_meta(&m), "new") && bytes_are(m.key, "db"),
          "update if_token fields");
    r = answer(RS_MSG_UPDATE, m.req_id, ROSTER_ECONFLICT);
    rs_msg_update_reply_token_set(&r, 43);
    rs_msg_update_reply_meta_set(&r, rs_bytes_str("theirs"));
    r.prev = rs_bytes_str("token 43, not 41");
    wr(fd, &r);
    expect(fd, &m, RS_MSG_UPDATE);
    struct rs_pid mem = rs_msg_update_member(&m);
    check(rs_msg_update_flags(&m) == (RS_UPDATE_IF_META | RS_UPDATE_MEMBER) &&
              bytes_are(rs_msg_update_if_meta(&m), "old") && mem.serial == 3 &&
              bytes_are(m.key, "grp"),
          "update if_meta member fields");
    r = answer(RS_MSG_UPDATE, m.req_id, 0);
    rs_msg_update_reply_token_set(&r, 44);
    rs_msg_update_reply_meta_set(&r, rs_bytes_str("ignored on success"));
    wr(fd, &r);
    /* roster_update_with: read, then compare-and-set on token AND metadata; a conflict's
     * answer is the next starting point (no second read) */
    expect(fd, &m, RS_MSG_LOOKUP);
    r = answer(RS_MSG_LOOKUP, m.req_id, 0);
    rs_msg_lookup_reply_holder_set(&r, (struct rs_pid){FAKE_INC, 1});
    rs_msg_lookup_reply_meta_set(&r, rs_bytes_str("1"));
    rs_msg_lookup_reply_token_set(&r, 5);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_UPDATE);
    check(rs_msg_update_flags(&m) == (RS_UPDATE_IF_TOKEN | RS_UPDATE_IF_META) &&
              rs_msg_update_if_token(&m) == 5 && bytes_are(rs_msg_update_if_meta(&m), "1") &&
              bytes_are(rs_msg_update_meta(&m), "2"),
          "first compare-and-set of the loop");
    r = answer(RS_MSG_UPDATE, m.req_id, ROSTER_ECONFLICT);
    rs_msg_update_reply_token_set(&r, 6);
    rs_msg_update_reply_meta_set(&r, rs_bytes_str("7"));
    wr(fd, &r);
    expect(fd, &m, RS_MSG_UPDATE);
    check(rs_msg_update_if_token(&m) == 6 && bytes_are(rs_msg_update_if_meta(&m), "7") &&
              bytes_are(rs_msg_update_meta(&m), "8"),
          "second compare-and-set of the loop");
    r = answer(RS_MSG_UPDATE, m.req_id, 0);
    rs_msg_update_reply_token_set(&r, 6);
    wr(fd, &r);
    /* a loop whose callback stops it: one read, no write */
    expect(fd, &m, RS_MSG_LOOKUP);
    r = answer(RS_MSG_LOOKUP, m.req_id, 0);
    rs_msg_lookup_reply_meta_set(&r, rs_bytes_str("9"));
    wr(fd, &r);
    /* a loop that keeps conflicting until its deadline */
    expect(fd, &m, RS_MSG_LOOKUP);
    r = answer(RS_MSG_LOOKUP, m.req_id, 0);
    rs_msg_lookup_reply_meta_set(&r, rs_bytes_str("1"));
    wr(fd, &r);
    for (;;) {
        rd(fd, &m);
        if (m.type == RS_MSG_PING)
            break;
        check(m.type == RS_MSG_UPDATE, "update expected in the conflicting loop");
        r = answer(RS_MSG_UPDATE, m.req_id, ROSTER_ECONFLICT);
        rs_msg_update_reply_meta_set(&r, rs_bytes_str("1"));
        wr(fd, &r);
    }
    reply(fd, RS_MSG_PING, m.req_id, 0);
    wait_eof(fd);
}

/* add_one: metadata is a decimal digit; the next value is one more. Stops at 9 with 42. */
static int add_one(void *arg, const roster_buf *cur, roster_buf *next)
{
    int *calls = arg;
    (*calls)++;
    static uint8_t out[2];
    if (cur->len != 1 || cur->data[0] == '9')
        return 42;
    out[0] = (uint8_t)(cur->data[0] + 1);
    next->data = out;
    next->len = 1;
    return 0;
}

static void test_update_and_loop(void)
{
    struct fake f;
    fake_start(&f, script_update);
    roster_client *c = fake_connect(&f);
    roster_update_cond cond;
    memset(&cond, 0, sizeof cond);
    cond.if_token = 1;
    cond.token = 41;
    uint64_t t = 0;
    roster_buf cur = {NULL, 0};
    ASSERT_EQ(roster_update(c, "s", "db", 2, "new", 3, &cond, &t, &cur, 5000),
              ROSTER_ECONFLICT);
    ASSERT_U64_EQ(t, 43);
    ASSERT_MEM_EQ(cur.data, cur.len, "theirs", 6);
    ASSERT_STR_EQ(roster_errdetail(c), "token 43, not 41");
    roster_buf_free(&cur);
    memset(&cond, 0, sizeof cond);
    cond.if_meta = 1;
    cond.meta = "old";
    cond.meta_len = 3;
    cond.member = (roster_pid){FAKE_INC, 3};
    ASSERT_EQ(roster_update(c, "s", "grp", 3, "new", 3, &cond, &t, &cur, 5000), 0);
    ASSERT_U64_EQ(t, 44);
    ASSERT(cur.data == NULL && cur.len == 0);

    int calls = 0;
    ASSERT_EQ(roster_update_with(c, "s", "n", 1, add_one, &calls, &t, 5000), 0);
    ASSERT_EQ(calls, 2);
    ASSERT_U64_EQ(t, 6);
    calls = 0;
    ASSERT_EQ(roster_update_with(c, "s", "n", 1, add_one, &calls, &t, 5000), 42);
    ASSERT_EQ(calls, 1);
    uint64_t t0 = test_now_ms();
    ASSERT_EQ(roster_update_with(c, "s", "n", 1, add_one, &calls, &t, 300), ROSTER_ETIMEDOUT);
    ASSERT(test_now_ms() - t0 >= 300);
    ASSERT(test_now_ms() - t0 < 3000);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    roster_close(c);
    fake_end(&f);
}

/* --- a campaign answered late --------------------------------------------------------- */

static void script_campaign(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg cm, m, r;
    expect(fd, &cm, RS_MSG_CAMPAIGN);
    check(bytes_are(cm.key, "leader") && bytes_are(cm.meta, "me") && cm.pid.serial == 1,
          "campaign fields");
    /* other requests come and go: blocking ones, and pipelined ones that wait_all counts */
    expect(fd, &m, RS_MSG_PING);
    reply(fd, RS_MSG_PING, m.req_id, 0);
    expect(fd, &m, RS_MSG_REGISTER);
    reply(fd, RS_MSG_REGISTER, m.req_id, 0);
    expect(fd, &m, RS_MSG_LOOKUP);
    r = answer(RS_MSG_LOOKUP, m.req_id, ROSTER_ENOTFOUND);
    wr(fd, &r);
    /* an event, then the campaign's answer long after it was asked */
    struct rs_msg ev = {.type = RS_MSG_EVENT};
    rs_msg_event_opts_set(&ev, rs_msg_event_opts_pack(ROSTER_EV_REGISTERED, 0, 0));
    rs_msg_event_id_set(&ev, 3);
    rs_msg_event_revision_set(&ev, 90);
    ev.scope = rs_bytes_str("s");
    ev.key = rs_bytes_str("leader");
    ev.pid = cm.pid;
    wr(fd, &ev);
    r = answer(RS_MSG_CAMPAIGN, cm.req_id, 0);
    rs_msg_campaign_reply_holder_set(&r, cm.pid);
    rs_msg_campaign_reply_token_set(&r, 90);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_PING);
    reply(fd, RS_MSG_PING, m.req_id, 0);
    /* the blocking form, with no time limit: answered after an event */
    expect(fd, &cm, RS_MSG_CAMPAIGN);
    ev.key = rs_bytes_str("other");
    wr(fd, &ev);
    r = answer(RS_MSG_CAMPAIGN, cm.req_id, 0);
    rs_msg_campaign_reply_holder_set(&r, cm.pid);
    rs_msg_campaign_reply_token_set(&r, 95);
    wr(fd, &r);
    /* a refused campaign (an eventual scope) */
    expect(fd, &cm, RS_MSG_CAMPAIGN);
    r = answer(RS_MSG_CAMPAIGN, cm.req_id, ROSTER_EINVAL);
    r.prev = rs_bytes_str("leader election needs a strong scope");
    wr(fd, &r);
    wait_eof(fd);
}

static void test_campaign_answered_late(void)
{
    struct fake f;
    fake_start(&f, script_campaign);
    roster_client *c = fake_connect(&f);
    roster_pid self = roster_self(c);
    uint64_t req = 0;
    ASSERT_EQ(roster_campaign_async(c, "s", "leader", 6, self, "me", 2, &req), 0);
    ASSERT(req != 0);
    ASSERT_EQ(roster_ping(c, 5000), 0);
    ASSERT_EQ(roster_register_async(c, "s", "x", 1, self, NULL, 0, NULL), 0);
    ASSERT_EQ(roster_wait_all(c, 5000), 0); /* does not wait for the campaign */
    roster_entry e;
    ASSERT_EQ(roster_lookup(c, "s", "y", 1, &e, 5000), ROSTER_ENOTFOUND);
    roster_event ev;
    ASSERT_EQ(roster_wait_event(c, &ev, 5000), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_REGISTERED);
    ASSERT_U64_EQ(ev.revision, 90);
    roster_event_free(&ev);
    ASSERT_EQ(roster_wait_event(c, &ev, 5000), 0);
    ASSERT_EQ(ev.type, ROSTER_EV_REPLY);
    ASSERT_U64_EQ(ev.req_id, req);
    ASSERT_EQ(ev.status, 0);
    ASSERT_U64_EQ(ev.token, 90);
    ASSERT(roster_pid_equal(ev.pid, self));
    roster_event_free(&ev);
    /* a later wait_all leaves nothing behind and consumes nothing it should not */
    ASSERT_EQ(roster_ping(c, 5000), 0);
    ASSERT_EQ(roster_wait_all(c, 5000), 0);

    uint64_t t = 0;
    ASSERT_EQ(roster_campaign(c, "s", "other", 5, self, NULL, 0, &t, ROSTER_FOREVER), 0);
    ASSERT_U64_EQ(t, 95);
    ASSERT_EQ(roster_next_event(c, &ev), 0); /* the event that came first is kept */
    ASSERT_MEM_EQ(ev.name.data, ev.name.len, "other", 5);
    roster_event_free(&ev);
    ASSERT_EQ(roster_campaign(c, "default", "l", 1, self, NULL, 0, &t, 5000), ROSTER_EINVAL);
    ASSERT(strstr(roster_errdetail(c), "strong scope") != NULL);
    ASSERT_EQ(roster_campaign(c, "s", "", 0, self, NULL, 0, &t, 5000), ROSTER_EINVAL);
    roster_close(c);
    fake_end(&f);
}

/* --- resuming a subscription, and owner notices past the queue bound ------------------ */

static void script_resume(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    expect(fd, &m, RS_MSG_SUBSCRIBE);
    check(rs_msg_subscribe_from_revision(&m) == 123, "from_revision");
    r = answer(RS_MSG_SUBSCRIBE, m.req_id, ROSTER_ECOMPACTED);
    r.prev = rs_bytes_str("etcd compacted up to revision 200");
    wr(fd, &r);
    expect(fd, &m, RS_MSG_SUBSCRIBE);
    check(rs_msg_subscribe_from_revision(&m) == 200 &&
              !(rs_msg_subscribe_flags(&m) & ROSTER_SUB_SNAPSHOT),
          "from_revision 200");
    r = answer(RS_MSG_SUBSCRIBE, m.req_id, 0);
    rs_msg_subscribe_reply_id_set(&r, 5);
    wr(fd, &r);
    /* a flood of subscription events past the client's 512-byte bound, then the notices a
     * pid's owner gets with id 0: a handoff that made it the holder, a lost lease */
    struct rs_msg ev = {.type = RS_MSG_EVENT};
    ev.scope = rs_bytes_str("s");
    ev.key = rs_bytes_str("name-with-some-length");
    ev.meta = rs_bytes_str("metadata-that-takes-room");
    for (int i = 0; i < 40; i++) {
        rs_msg_event_opts_set(&ev, rs_msg_event_opts_pack(ROSTER_EV_REGISTERED, 0, 0));
        rs_msg_event_id_set(&ev, 5);
        rs_msg_event_revision_set(&ev, 201 + (uint64_t)i);
        wr(fd, &ev);
    }
    rs_msg_event_opts_set(&ev, rs_msg_event_opts_pack(ROSTER_EV_REGISTERED,
                                                      ROSTER_REASON_HANDOFF, 0));
    rs_msg_event_id_set(&ev, 0);
    rs_msg_event_revision_set(&ev, 300);
    wr(fd, &ev);
    rs_msg_event_opts_set(&ev, rs_msg_event_opts_pack(ROSTER_EV_UNREGISTERED,
                                                      ROSTER_REASON_LEASE_LOST, 0));
    rs_msg_event_revision_set(&ev, 0);
    wr(fd, &ev);
    /* the library unsubscribes the subscription it overflowed: before the ping if it read
     * the events before sending it, else after (unanswered then: the client closes) */
    for (;;) {
        rd(fd, &m);
        if (m.type == RS_MSG_PING)
            break;
        check(m.type == RS_MSG_UNSUBSCRIBE && rs_msg_unsubscribe_id(&m) == 5,
              "unsubscribe of the overflowed subscription");
        reply(fd, RS_MSG_UNSUBSCRIBE, m.req_id, 0);
    }
    reply(fd, RS_MSG_PING, m.req_id, 0);
    wait_eof(fd);
}

static void test_resume_and_owner_notices(void)
{
    struct fake f;
    fake_start(&f, script_resume);
    roster_options o;
    roster_options_init(&o);
    o.event_queue_bytes = 512;
    roster_client *c = fake_connect_opts(&f, o);
    uint64_t sub = 0;
    ASSERT_EQ(roster_subscribe_from(c, "s", "", 0, ROSTER_SUB_ALL, 123, &sub, 5000),
              ROSTER_ECOMPACTED);
    ASSERT(strstr(roster_errdetail(c), "compacted") != NULL);
    ASSERT_EQ(roster_subscribe_from(c, "s", "", 0, ROSTER_SUB_ALL | ROSTER_SUB_SNAPSHOT, 200,
                                    &sub, 5000),
              ROSTER_EINVAL); /* local: nothing sent */
    ASSERT_EQ(roster_subscribe_from(c, "s", "", 0, ROSTER_SUB_ALL, 200, &sub, 5000), 0);
    ASSERT_U64_EQ(sub, 5);
    ASSERT_EQ(roster_ping(c, 5000), 0); /* every event is read by now */
    roster_event ev;
    int seen_overflow = 0, handoff = 0, lease = 0;
    uint64_t last_rev = 200;
    while (roster_next_event(c, &ev) == 0) {
        if (ev.type == ROSTER_EV_OVERFLOW)
            seen_overflow = 1;
        else if (ev.id == 5) {
            ASSERT(ev.revision == last_rev + 1); /* in order, none missing before overflow */
            last_rev = ev.revision;
        } else if (ev.type == ROSTER_EV_REGISTERED && ev.reason == ROSTER_REASON_HANDOFF) {
            ASSERT_U64_EQ(ev.revision, 300);
            handoff = 1;
        } else if (ev.type == ROSTER_EV_UNREGISTERED && ev.reason == ROSTER_REASON_LEASE_LOST) {
            lease = 1;
        }
        roster_event_free(&ev);
    }
    ASSERT(seen_overflow);
    ASSERT(handoff && lease); /* id 0 notices are never dropped by the bound */
    roster_close(c);
    fake_end(&f);
}

TEST_MAIN(T(test_tokens_revisions_read_mode), T(test_check_token_handoff_unknown),
          T(test_update_and_loop), T(test_campaign_answered_late),
          T(test_resume_and_owner_notices))
