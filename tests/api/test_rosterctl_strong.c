/* test_rosterctl_strong.c: rosterctl's strong-scope commands and flags (check-token,
 * handoff, update, elect, --stale, watch --from-revision, the token of register, lease_lost
 * notices) against a scripted fake node, which checks what rosterctl asks and answers what
 * a strong scope would; then argument parsing and exit statuses against a real rosterd.
 * Every --json line goes through the strict JSON validator. */
#include <fcntl.h>
#include <stdarg.h>

#include "ctlproc.h"
#include "fakenode.h"
#include "jsonv.h"
#include "node.h"

static char out[1 << 16];

/* run executes `rosterctl --socket sock ARGS...` (NULL-terminated) with stdin on /dev/null
 * into out; returns the exit status. With --json the output must be one JSON line. */
static int run_at(const char *file, int line, const char *sock, ...)
{
    const char *argv[40];
    int k = 0, json = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = sock;
    va_list ap;
    va_start(ap, sock);
    for (const char *a = va_arg(ap, const char *); a && k < 39; a = va_arg(ap, const char *)) {
        json |= strcmp(a, "--json") == 0;
        argv[k++] = a;
    }
    va_end(ap);
    argv[k] = NULL;
    int st = test_run_cmd(argv, out, sizeof out);
    if (json && json_check_lines(file, line, out) != 1)
        test_fail(file, line, "--json printed %s lines, not one:\n%s", *out ? "several" : "no",
                  out);
    return st;
}
#define run(...) run_at(__FILE__, __LINE__, __VA_ARGS__)

#define HAS(s)                                                                         \
    do {                                                                               \
        if (!strstr(out, (s)))                                                         \
            test_fail(__FILE__, __LINE__, "output lacks %s:\n%s", (s), out);           \
    } while (0)

/* --- the fake node's side ------------------------------------------------------------- */

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

static struct rs_msg answer(uint8_t type, uint32_t req_id, int status, const char *detail)
{
    struct rs_msg r = {.type = type, .flags = RS_F_REPLY, .req_id = req_id, .status = status};
    if (detail)
        r.prev = rs_bytes_str(detail);
    return r;
}

static void start_fake(struct fake *f, void (*script)(int))
{
    fake_start(f, script);
}

/* The answer a script gives, set by the test before fake_start (the child inherits it). */
static int want_status;
static int want_current;

static void script_check_token(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m;
    expect(fd, &m, RS_MSG_CHECK_TOKEN);
    check(bytes_are(m.key, "db") && bytes_are(m.scope, "s") &&
              rs_msg_check_token_token(&m) == 41,
          "check-token fields");
    struct rs_msg r = answer(RS_MSG_CHECK_TOKEN, m.req_id, want_status,
                             want_status ? "no scope 's'" : NULL);
    rs_msg_check_token_reply_current_set(&r, (uint64_t)want_current);
    rs_msg_check_token_reply_token_set(&r, want_status ? 0 : 43);
    wr(fd, &r);
    wait_eof(fd);
}

static void test_check_token_exit_codes(void)
{
    struct fake f;
    want_status = 0;
    want_current = 1;
    start_fake(&f, script_check_token);
    ASSERT_EQ(run(f.sock, "--json", "--scope", "s", "check-token", "db", "41", NULL), 0);
    HAS("\"current\":true");
    HAS("\"token\":\"41\"");
    HAS("\"current_token\":\"43\"");
    fake_end(&f);
    want_current = 0;
    start_fake(&f, script_check_token);
    ASSERT_EQ(run(f.sock, "--scope", "s", "check-token", "db", "41", NULL), 1);
    HAS("stale (current token 43)");
    fake_end(&f);
    want_status = ROSTER_ENOSCOPE; /* a refusal is an error here: 2, not "stale" */
    start_fake(&f, script_check_token);
    ASSERT_EQ(run(f.sock, "--json", "--scope", "s", "check-token", "db", "41", NULL), 2);
    HAS("\"error\":\"ENOSCOPE\"");
    fake_end(&f);
}

static void script_update(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    expect(fd, &m, RS_MSG_UPDATE);
    if (want_status == 0) { /* update db --meta new --if-meta old --member PID */
        check(rs_msg_update_flags(&m) == (RS_UPDATE_IF_META | RS_UPDATE_MEMBER) &&
                  bytes_are(rs_msg_update_if_meta(&m), "old") &&
                  rs_msg_update_member(&m).serial == 7,
              "update --if-meta --member fields");
        r = answer(RS_MSG_UPDATE, m.req_id, 0, NULL);
        rs_msg_update_reply_token_set(&r, 44);
    } else { /* update db --meta new --if-token 41 */
        check(rs_msg_update_flags(&m) == RS_UPDATE_IF_TOKEN &&
                  rs_msg_update_if_token(&m) == 41 &&
                  bytes_are(rs_msg_update_meta(&m), "new"),
              "update --if-token fields");
        r = answer(RS_MSG_UPDATE, m.req_id, ROSTER_ECONFLICT, "token 43, not 41");
        rs_msg_update_reply_token_set(&r, 43);
        rs_msg_update_reply_meta_set(&r, rs_bytes_str("theirs"));
    }
    wr(fd, &r);
    wait_eof(fd);
}

static void test_update_conflict_and_success(void)
{
    struct fake f;
    want_status = ROSTER_ECONFLICT;
    start_fake(&f, script_update);
    ASSERT_EQ(run(f.sock, "--json", "update", "db", "--meta", "new", "--if-token", "41", NULL),
              1);
    HAS("\"error\":\"ECONFLICT\"");
    HAS("\"current\":\"theirs\"");
    HAS("\"current_token\":\"43\"");
    fake_end(&f);
    start_fake(&f, script_update);
    ASSERT_EQ(run(f.sock, "update", "db", "--meta", "new", "--if-token", "41", NULL), 1);
    ASSERT_STR_EQ(out, "theirs\n"); /* the current value alone, for a script to retry */
    fake_end(&f);
    want_status = 0;
    start_fake(&f, script_update);
    ASSERT_EQ(run(f.sock, "--json", "update", "grp", "--meta", "new", "--if-meta", "old",
                  "--member", "1122334455667788.7", NULL),
              0);
    HAS("\"group\":\"grp\"");
    HAS("\"token\":\"44\"");
    fake_end(&f);
}

static void script_handoff(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    expect(fd, &m, RS_MSG_HANDOFF);
    struct rs_pid to = rs_msg_handoff_to(&m);
    check(to.inc == FAKE_INC && to.serial == 9, "handoff target");
    if (rs_msg_handoff_if_token(&m) == 0) {
        r = answer(RS_MSG_HANDOFF, m.req_id, 0, NULL);
        rs_msg_handoff_reply_holder_set(&r, to);
        rs_msg_handoff_reply_token_set(&r, 52);
    } else {
        check(rs_msg_handoff_if_token(&m) == 41, "handoff --if-token");
        r = answer(RS_MSG_HANDOFF, m.req_id, ROSTER_ECONFLICT, "token 52, not 41");
        rs_msg_handoff_reply_token_set(&r, 52);
    }
    wr(fd, &r);
    wait_eof(fd);
}

static void test_handoff(void)
{
    struct fake f;
    start_fake(&f, script_handoff);
    ASSERT_EQ(run(f.sock, "--json", "handoff", "db", "1122334455667788.9", NULL), 0);
    HAS("\"pid\":\"1122334455667788.9\"");
    HAS("\"token\":\"52\"");
    fake_end(&f);
    start_fake(&f, script_handoff);
    ASSERT_EQ(run(f.sock, "--json", "handoff", "db", "1122334455667788.9", "--if-token", "41",
                  NULL),
              1);
    HAS("\"error\":\"ECONFLICT\"");
    HAS("\"current_token\":\"52\"");
    fake_end(&f);
}

/* lookup / names / count --stale: the flag goes out, token and revision come back */
static void script_stale_reads(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    rd(fd, &m);
    if (m.type == RS_MSG_LOOKUP) {
        check(rs_msg_lookup_flags(&m) == (want_current ? RS_OPT_STALE : 0), "lookup flag");
        r = answer(RS_MSG_LOOKUP, m.req_id, 0, NULL);
        rs_msg_lookup_reply_holder_set(&r, (struct rs_pid){FAKE_INC, 1});
        rs_msg_lookup_reply_node_set(&r, rs_bytes_str("fake"));
        rs_msg_lookup_reply_meta_set(&r, rs_bytes_str("m"));
        rs_msg_lookup_reply_token_set(&r, 41);
        rs_msg_lookup_reply_revision_set(&r, 78);
    } else if (m.type == RS_MSG_NAMES) {
        check(rs_msg_names_flags(&m) == RS_OPT_STALE, "names flag");
        struct rs_msg it = {.type = RS_MSG_NAMES, .flags = RS_F_ITEM, .req_id = m.req_id};
        it.pid = (struct rs_pid){FAKE_INC, 1};
        it.key = rs_bytes_str("a");
        wr(fd, &it);
        r = answer(RS_MSG_NAMES, m.req_id, 0, NULL);
        rs_msg_names_reply_revision_set(&r, 80);
    } else if (m.type == RS_MSG_GROUPS) {
        check(rs_msg_groups_flags(&m) == RS_OPT_STALE, "groups flag");
        struct rs_msg it = {.type = RS_MSG_GROUPS, .flags = RS_F_ITEM, .req_id = m.req_id};
        it.key = rs_bytes_str("g");
        rs_msg_groups_item_members_set(&it, 2);
        wr(fd, &it);
        r = answer(RS_MSG_GROUPS, m.req_id, 0, NULL);
        rs_msg_groups_reply_revision_set(&r, 81);
    } else {
        check(m.type == RS_MSG_COUNT && rs_msg_count_flags(&m) == RS_OPT_STALE, "count flag");
        r = answer(RS_MSG_COUNT, m.req_id, 0, NULL);
        rs_msg_count_reply_revision_set(&r, 82);
    }
    wr(fd, &r);
    wait_eof(fd);
}

static void test_stale_reads_and_tokens(void)
{
    struct fake f;
    want_current = 1; /* the --stale flag expected */
    start_fake(&f, script_stale_reads);
    ASSERT_EQ(run(f.sock, "--json", "--scope", "s", "lookup", "db", "--stale", NULL), 0);
    HAS("\"token\":\"41\"");
    HAS("\"revision\":78");
    fake_end(&f);
    want_current = 0;
    start_fake(&f, script_stale_reads);
    ASSERT_EQ(run(f.sock, "--scope", "s", "lookup", "db", NULL), 0);
    HAS(" token=41 revision=78");
    fake_end(&f);
    start_fake(&f, script_stale_reads);
    ASSERT_EQ(run(f.sock, "--json", "--scope", "s", "names", "--stale", NULL), 0);
    HAS("\"revision\":80");
    fake_end(&f);
    start_fake(&f, script_stale_reads);
    ASSERT_EQ(run(f.sock, "--scope", "s", "groups", "--stale", NULL), 0);
    ASSERT_STR_EQ(out, "g 2 revision=81\n");
    fake_end(&f);
    start_fake(&f, script_stale_reads);
    ASSERT_EQ(run(f.sock, "--scope", "s", "count", "--stale", NULL), 0);
    HAS("revision 82");
    fake_end(&f);
}

/* register: the token with the pid; a lease_lost notice ends the hold with status 1 */
static void script_register_lease_lost(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m, r;
    expect(fd, &m, RS_MSG_REGISTER);
    r = answer(RS_MSG_REGISTER, m.req_id, 0, NULL);
    rs_msg_register_reply_holder_set(&r, m.pid);
    rs_msg_register_reply_token_set(&r, 41);
    wr(fd, &r);
    struct rs_msg ev = {.type = RS_MSG_EVENT};
    rs_msg_event_opts_set(&ev, rs_msg_event_opts_pack(ROSTER_EV_UNREGISTERED,
                                                      ROSTER_REASON_LEASE_LOST, 0));
    ev.scope = rs_bytes_str("s");
    ev.key = rs_bytes_str("db");
    ev.pid = m.pid;
    wr(fd, &ev);
    expect(fd, &m, RS_MSG_PID_CLOSE); /* rosterctl gives its pid up before exiting */
    reply(fd, RS_MSG_PID_CLOSE, m.req_id, 0);
    wait_eof(fd);
}

static void test_register_token_and_lease_lost(void)
{
    struct fake f;
    start_fake(&f, script_register_lease_lost);
    struct ctl_proc p;
    ctl_spawn(&p, f.sock, (const char *const[]){"--json", "--scope", "s", "register", "db",
                                                NULL});
    char line[512];
    ctl_read_line(&p, line, sizeof line);
    ASSERT(strstr(line, "\"pid\":\"1122334455667788.1\",\"token\":\"41\"") != NULL);
    ctl_read_line(&p, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"unregistered\"") != NULL);
    ASSERT(strstr(line, "\"reason\":\"lease_lost\"") != NULL);
    ASSERT_EQ(ctl_wait_exit(&p, 5000), 1);
    fake_end(&f);
}

/* elect: the campaign is answered late (after an event); rosterctl prints the pid and the
 * token, holds, and resigns by closing its pid when stdin closes */
static void script_elect(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg cm, m;
    expect(fd, &cm, RS_MSG_CAMPAIGN);
    check(bytes_are(cm.key, "leader") && bytes_are(cm.meta, "me") && cm.pid.serial == 1,
          "campaign fields");
    if (want_status == 1) { /* the test closes rosterctl's stdin: it must just go */
        wait_eof(fd);
        return;
    }
    if (want_status) {
        struct rs_msg r = answer(RS_MSG_CAMPAIGN, cm.req_id, want_status,
                                 "leader election needs a strong scope");
        wr(fd, &r);
        wait_eof(fd);
        return;
    }
    struct rs_msg msg = {.type = RS_MSG_MESSAGE, .opts = ROSTER_MSG_SEND, .arg = 1};
    msg.pid = (struct rs_pid){FAKE_INC, 5};
    msg.meta = rs_bytes_str("hi");
    wr(fd, &msg); /* something else arrives while it waits */
    struct rs_msg r = answer(RS_MSG_CAMPAIGN, cm.req_id, 0, NULL);
    rs_msg_campaign_reply_holder_set(&r, cm.pid);
    rs_msg_campaign_reply_token_set(&r, 90);
    wr(fd, &r);
    expect(fd, &m, RS_MSG_PID_CLOSE);
    reply(fd, RS_MSG_PID_CLOSE, m.req_id, 0);
    wait_eof(fd);
}

static void test_elect(void)
{
    struct fake f;
    want_status = 0;
    start_fake(&f, script_elect);
    struct ctl_proc p;
    ctl_spawn(&p, f.sock, (const char *const[]){"--scope", "s", "elect", "leader", "--meta",
                                                "me", NULL});
    char line[512];
    ctl_read_line(&p, line, sizeof line);
    ASSERT_STR_EQ(line, "1122334455667788.1");
    ctl_read_line(&p, line, sizeof line);
    ASSERT_STR_EQ(line, "token 90");
    ctl_close_stdin(&p);
    ASSERT_EQ(ctl_wait_exit(&p, 5000), 0);
    fake_end(&f);
    /* stdin closed while waiting: the candidacy is withdrawn by closing, status 1 */
    want_status = 1;
    start_fake(&f, script_elect);
    ctl_spawn(&p, f.sock, (const char *const[]){"--scope", "s", "elect", "leader", "--meta",
                                                "me", NULL});
    ctl_close_stdin(&p);
    ASSERT_EQ(ctl_wait_exit(&p, 5000), 1);
    fake_end(&f);
    /* refused: the node's reason, status by the usual rule (EINVAL: 2) */
    want_status = ROSTER_EINVAL;
    start_fake(&f, script_elect);
    ctl_spawn(&p, f.sock, (const char *const[]){"--json", "--scope", "s", "elect", "leader",
                                                "--meta", "me", NULL});
    ctl_read_line(&p, line, sizeof line);
    ASSERT(strstr(line, "\"error\":\"EINVAL\"") != NULL);
    ASSERT(strstr(line, "strong scope") != NULL);
    ASSERT_EQ(ctl_wait_exit(&p, 5000), 2);
    fake_end(&f);
}

/* watch --from-revision: the revision goes out, events print theirs */
static void script_watch_from(int fd)
{
    hello(fd, 1024, 65536, 1 << 20);
    struct rs_msg m;
    expect(fd, &m, RS_MSG_SUBSCRIBE);
    check(rs_msg_subscribe_from_revision(&m) == 200, "from_revision");
    struct rs_msg r = answer(RS_MSG_SUBSCRIBE, m.req_id, 0, NULL);
    rs_msg_subscribe_reply_id_set(&r, 4);
    wr(fd, &r);
    struct rs_msg ev = {.type = RS_MSG_EVENT};
    rs_msg_event_opts_set(&ev, rs_msg_event_opts_pack(ROSTER_EV_REGISTERED,
                                                      ROSTER_REASON_HANDOFF, 0));
    rs_msg_event_id_set(&ev, 4);
    rs_msg_event_revision_set(&ev, 201);
    ev.scope = rs_bytes_str("s");
    ev.key = rs_bytes_str("db");
    ev.pid = (struct rs_pid){FAKE_INC, 9};
    wr(fd, &ev);
    /* then the node goes: watch ends with status 2 */
}

static void test_watch_from_revision(void)
{
    struct fake f;
    start_fake(&f, script_watch_from);
    struct ctl_proc p;
    ctl_spawn(&p, f.sock, (const char *const[]){"--json", "--scope", "s", "watch",
                                                "--from-revision", "200", NULL});
    char line[512];
    ctl_read_line(&p, line, sizeof line);
    ASSERT(strstr(line, "\"type\":\"registered\"") != NULL);
    ASSERT(strstr(line, "\"reason\":\"handoff\"") != NULL);
    ASSERT(strstr(line, "\"revision\":201") != NULL);
    ctl_read_line(&p, line, sizeof line); /* the error line: ECLOSED */
    ASSERT(strstr(line, "\"error\":\"ECLOSED\"") != NULL);
    ASSERT_EQ(ctl_wait_exit(&p, 5000), 2);
    fake_end(&f);
}

/* --- a real node: argument parsing, exit statuses, eventual scopes -------------------- */

static void test_usage_and_eventual(void)
{
    struct test_node n;
    test_node_start(&n, (const char *const[]){NULL});
    const char *s = n.sock;
    /* usage errors: 2, one JSON error line */
    ASSERT_EQ(run(s, "--json", "check-token", "db", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(run(s, "--json", "check-token", "db", "12x", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(run(s, "--json", "handoff", "db", "not-a-pid", NULL), 2);
    HAS("bad pid");
    ASSERT_EQ(run(s, "--json", "handoff", "db", NULL), 2);
    ASSERT_EQ(run(s, "--json", "update", "db", "--if-token", "1", NULL), 2);
    HAS("--meta M is required");
    ASSERT_EQ(run(s, "--json", "update", "db", "--meta", "x", NULL), 2);
    HAS("--if-token T or --if-meta OLD");
    ASSERT_EQ(run(s, "--json", "update", "db", "--meta", "x", "--if-token", "-1", NULL), 2);
    ASSERT_EQ(run(s, "--json", "update", "g", "--meta", "x", "--if-meta", "y", "--member",
                  "zz", NULL),
              2);
    ASSERT_EQ(run(s, "--json", "watch", "--from-revision", "0", NULL), 2);
    ASSERT_EQ(run(s, "--json", "watch", "--from-revision", "5", "--snapshot", NULL), 2);
    HAS("no --snapshot");
    ASSERT_EQ(run(s, "--json", "elect", NULL), 2);
    /* connection failures: 2 */
    ASSERT_EQ(run("/nonexistent/roster.sock", "--json", "check-token", "db", "1", NULL), 2);
    HAS("\"error\":\"ECONNECT\"");
    ASSERT_EQ(run("/nonexistent/roster.sock", "handoff", "db", "1122334455667788.9", NULL), 2);
    /* --stale in an eventual scope: accepted, answered from the table as always (no
     * revision: eventual scopes have none) */
    struct ctl_proc h;
    ctl_spawn(&h, s, (const char *const[]){"--json", "register", "db", "--meta", "m", NULL});
    char line[512];
    ctl_read_line(&h, line, sizeof line);
    ASSERT(strstr(line, "\"token\":\"") != NULL); /* the token comes with the pid */
    ASSERT_EQ(run(s, "--json", "lookup", "db", "--stale", NULL), 0);
    HAS("\"meta\":\"m\"");
    ASSERT(strstr(out, "\"revision\"") == NULL);
    ASSERT_EQ(run(s, "--json", "names", "--stale", NULL), 0);
    HAS("\"name\":\"db\"");
    ASSERT_EQ(run(s, "--json", "members", "g", "--stale", NULL), 0);
    ASSERT_EQ(run(s, "--json", "count", "--stale", NULL), 0);
    HAS("\"names\":1");
    ASSERT(strstr(out, "\"revision\"") == NULL);
    ctl_close_stdin(&h);
    ASSERT_EQ(ctl_wait_exit(&h, 5000), 0);
    test_node_stop_ok(&n);
}

TEST_MAIN(T(test_check_token_exit_codes), T(test_update_conflict_and_success), T(test_handoff),
          T(test_stale_reads_and_tokens), T(test_register_token_and_lease_lost), T(test_elect),
          T(test_watch_from_revision), T(test_usage_and_eventual))
