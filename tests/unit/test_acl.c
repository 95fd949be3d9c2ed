/* test_acl.c: the access rule file (base/acl.c: parse errors with their line, the decision
 * for one key, a range and node-wide ops) and the core's admission point (core/access.c:
 * every op refused by its rule with EACCES naming the line, nothing leaked through events,
 * listings or counts, refusals counted and their log bounded; the memory ceiling refusing
 * growth with ENOMEM while what exists keeps working). */
#include "core_harness.h"

#include "base/acl.h"
#include "base/alloc.h"
#include "wire/query.h"

static int fake_user(void *ctx, const char *name, uint32_t *id)
{
    (void)ctx;
    if (!strcmp(name, "web")) {
        *id = 1000;
        return 0;
    }
    if (!strcmp(name, "db")) {
        *id = 1001;
        return 0;
    }
    if (!strcmp(name, "batch")) {
        *id = 1002;
        return 0;
    }
    return -1;
}

static int fake_group(void *ctx, const char *name, uint32_t *id)
{
    (void)ctx;
    if (!strcmp(name, "ops")) {
        *id = 50;
        return 0;
    }
    if (!strcmp(name, "roster-admin")) {
        *id = 60;
        return 0;
    }
    return -1;
}

static const struct rs_acl_resolver res = {fake_user, fake_group, NULL};

static struct rs_acl *parse_ok(const char *text)
{
    struct rs_acl *a;
    unsigned line;
    char why[256];
    int r = rs_acl_parse(text, strlen(text), &res, &a, &line, why, sizeof why);
    if (r != 0)
        test_fail(__FILE__, __LINE__, "refused at line %u: %s", line, why);
    return a;
}

/* parse_err expects a refusal at line with why containing what. */
static void parse_err(const char *text, unsigned want_line, const char *what)
{
    struct rs_acl *a;
    unsigned line;
    char why[256];
    int r = rs_acl_parse(text, strlen(text), &res, &a, &line, why, sizeof why);
    if (r != -1 || a != NULL)
        test_fail(__FILE__, __LINE__, "accepted: %s", text);
    if (line != want_line || !strstr(why, what))
        test_fail(__FILE__, __LINE__, "line %u '%s', wanted line %u '%s'", line, why, want_line,
                  what);
}

static void test_parse(void)
{
    struct rs_acl *a = parse_ok("# the web tier\n"
                                "allow user=web op=register,join scope=default prefix=web/\n"
                                "\n"
                                "   deny * op=register,join prefix=db/\n"
                                "allow group=ops,7 op=log-level,scope-create\n"
                                "deny user=db,2000 op=lookup,subscribe scope=* prefix=web/\n"
                                "allow *\n"
                                "# trailing comment\n");
    ASSERT_EQ(a->n, 5);
    ASSERT_EQ(a->v[0].line, 2);
    ASSERT_EQ(a->v[0].allow, 1);
    ASSERT_EQ(a->v[0].n_users, 1);
    ASSERT_EQ(a->v[0].users[0], 1000);
    ASSERT_EQ(a->v[0].ops, (1u << RS_ACL_REGISTER) | (1u << RS_ACL_JOIN));
    ASSERT(a->v[0].has_scope && !strcmp(a->v[0].scope, "default"));
    ASSERT(a->v[0].has_prefix && !strcmp(a->v[0].prefix, "web/"));
    ASSERT_EQ(a->v[1].line, 4);
    ASSERT_EQ(a->v[1].allow, 0);
    ASSERT_EQ(a->v[2].n_groups, 2);
    ASSERT_EQ(a->v[2].groups[0], 50);
    ASSERT_EQ(a->v[2].groups[1], 7);
    ASSERT_EQ(a->v[3].ops, (1u << RS_ACL_READ) | (1u << RS_ACL_SUBSCRIBE)); /* lookup = read */
    ASSERT(!a->v[3].has_scope);                                             /* scope=* is any */
    ASSERT_EQ(a->v[4].ops, RS_ACL_ALL_OPS);
    rs_acl_free(a);
    a = parse_ok("deny *");
    ASSERT_EQ(a->n, 1);
    ASSERT_EQ(a->v[0].allow, 0);
    rs_acl_free(a);
}

static void test_parse_errors(void)
{
    parse_err("", 0, "default decision");
    parse_err("# only comments\n", 0, "default decision");
    parse_err("allow user=web\n", 1, "default decision");
    parse_err("allow *\ndeny user=web\n", 2, "after the default rule of line 1");
    parse_err("allow user=web op=register,fly\nallow *\n", 1, "unknown operation 'fly'");
    parse_err("allow user=web\npermit *\nallow *\n", 2, "'allow' or 'deny'");
    parse_err("allow user=nobody-here\nallow *\n", 1, "no user named 'nobody-here'");
    parse_err("allow group=wheel9\nallow *\n", 1, "no group named 'wheel9'");
    parse_err("allow op=read\nallow *\n", 1, "names who it is for");
    parse_err("allow * user=web\nallow *\n", 1, "stands alone");
    parse_err("allow user=web,\nallow *\n", 1, "empty item");
    parse_err("allow user=web user=db\nallow *\n", 1, "given twice");
    parse_err("allow user=web colour=red\nallow *\n", 1, "unknown key 'colour'");
    parse_err("allow user=web prefix=\nallow *\n", 1, "needs a value");
    parse_err("allow user=4294967295\nallow *\n", 1, "not an id");
    parse_err("allow user=web whatever\nallow *\n", 1, "not key=value");
    /* bounds: a long line, a long prefix, too many ids */
    static char big[RS_ACL_LINE_MAX + 64];
    snprintf(big, sizeof big, "allow user=web prefix=");
    size_t n = strlen(big);
    memset(big + n, 'x', RS_ACL_LINE_MAX);
    big[n + RS_ACL_LINE_MAX] = 0;
    parse_err(big, 1, "line of");
    big[n + RS_ACL_NAME_MAX + 1] = 0;
    parse_err(big, 1, "more than 255 bytes");
    char ids[512] = "allow user=1";
    for (int i = 0; i < (int)RS_ACL_IDS_MAX; i++)
        strcat(ids, ",1");
    strcat(ids, "\nallow *\n");
    parse_err(ids, 1, "more than 32 items");
    char nul[] = "allow user=web\0\nallow *\n";
    struct rs_acl *a;
    unsigned line;
    char why[128];
    ASSERT_EQ(rs_acl_parse(nul, sizeof nul - 1, &res, &a, &line, why, sizeof why), -1);
    ASSERT_EQ(line, 1);
}

static const struct rs_acl_rule *decide(const struct rs_acl *a, uint32_t uid, uint32_t gid,
                                        unsigned op, int keys, const char *scope, const char *key)
{
    struct rs_acl_req q = {.uid = uid, .gid = gid, .op = op, .keys = keys};
    if (scope) {
        q.scope = (const uint8_t *)scope;
        q.scope_len = strlen(scope);
    } else {
        q.any_scope = 1;
    }
    q.key = (const uint8_t *)key;
    q.key_len = key ? strlen(key) : 0;
    return rs_acl_decide(a, &q);
}

static void test_decide(void)
{
    struct rs_acl *a = parse_ok("allow user=web op=register scope=default prefix=web/\n"
                                "deny * op=register\n"
                                "deny user=db op=read prefix=web/\n"
                                "allow user=db op=read scope=jobs prefix=db/\n"
                                "deny user=db op=read scope=jobs\n"
                                "deny group=ops op=status\n"
                                "allow *\n");
    /* one key: first match wins */
    ASSERT_EQ(decide(a, 1000, 1, RS_ACL_REGISTER, RS_ACL_KEYS_POINT, "default", "web/1")->line, 1);
    ASSERT_EQ(decide(a, 1000, 1, RS_ACL_REGISTER, RS_ACL_KEYS_POINT, "other", "web/1")->line, 2);
    ASSERT_EQ(decide(a, 1000, 1, RS_ACL_REGISTER, RS_ACL_KEYS_POINT, "default", "we")->line, 2);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_REGISTER, RS_ACL_KEYS_POINT, "default", "web/1")->line, 2);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_POINT, "default", "web/1")->line, 3);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_POINT, "default", "db/1")->line, 7);
    /* ranges: a deny rule matches as soon as the range overlaps its prefix ... */
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, "default", "")->line, 3);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, "default", "we")->line, 3);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, "default", "web/x")->line, 3);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, "default", "x")->line, 7);
    /* ... an allow rule only when the range is inside its prefix */
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, "jobs", "db/a")->line, 4);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, "jobs", "d")->line, 5);
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, "jobs", "")->line, 3);
    /* every scope: allow rules with scope= never match, deny rules with scope= do */
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, NULL, "")->line, 3);
    ASSERT_EQ(decide(a, 1002, 1, RS_ACL_READ, RS_ACL_KEYS_RANGE, NULL, "")->line, 7);
    /* node-wide ops ignore rules with scope= or prefix= */
    ASSERT_EQ(decide(a, 1001, 1, RS_ACL_STATUS, RS_ACL_KEYS_NONE, NULL, NULL)->line, 7);
    ASSERT_EQ(decide(a, 1001, 50, RS_ACL_STATUS, RS_ACL_KEYS_NONE, NULL, NULL)->line, 6);
    /* supplementary groups count */
    uint32_t sup[] = {9, 50};
    struct rs_acl_req q = {
        .uid = 1001, .gid = 1, .groups = sup, .n_groups = 2, .op = RS_ACL_STATUS};
    ASSERT_EQ(rs_acl_decide(a, &q)->line, 6);
    q.n_groups = 1;
    ASSERT_EQ(rs_acl_decide(a, &q)->line, 7);
    rs_acl_free(a);
}

/* The example policy of docs/SECURITY.md (packaging/roster-acl.example) parses and means
 * what the page says. */
static void test_example_policy(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    ASSERT(slash != NULL);
    snprintf(slash, sizeof path - (size_t)(slash - path), "/../../packaging/roster-acl.example");
    FILE *f = fopen(path, "r");
    ASSERT(f != NULL);
    static char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    struct rs_acl *a = parse_ok(text);
    /* an operator may do anything */
    ASSERT(decide(a, 5, 60, RS_ACL_LOG_LEVEL, RS_ACL_KEYS_NONE, NULL, NULL)->allow);
    ASSERT(decide(a, 5, 60, RS_ACL_REGISTER, RS_ACL_KEYS_POINT, "default", "db/x")->allow);
    /* services hold names under their own prefix only */
    ASSERT(decide(a, 1000, 1, RS_ACL_REGISTER, RS_ACL_KEYS_POINT, "default", "web/1")->allow);
    ASSERT(!decide(a, 1000, 1, RS_ACL_REGISTER, RS_ACL_KEYS_POINT, "default", "db/1")->allow);
    ASSERT(!decide(a, 1000, 1, RS_ACL_JOIN, RS_ACL_KEYS_POINT, "jobs", "web/1")->allow);
    ASSERT(decide(a, 1001, 1, RS_ACL_JOIN, RS_ACL_KEYS_POINT, "default", "db/g")->allow);
    ASSERT(!decide(a, 1000, 1, RS_ACL_LOG_LEVEL, RS_ACL_KEYS_NONE, NULL, NULL)->allow);
    ASSERT(!decide(a, 1000, 1, RS_ACL_SCOPE_CREATE, RS_ACL_KEYS_RANGE, "x", "")->allow);
    /* batch reads web/ but not db/, nor the whole scope; sends nothing to others */
    ASSERT(decide(a, 1002, 1, RS_ACL_READ, RS_ACL_KEYS_POINT, "default", "web/1")->allow);
    ASSERT(!decide(a, 1002, 1, RS_ACL_READ, RS_ACL_KEYS_POINT, "default", "db/1")->allow);
    ASSERT(!decide(a, 1002, 1, RS_ACL_SUBSCRIBE, RS_ACL_KEYS_RANGE, "default", "")->allow);
    ASSERT(!decide(a, 1002, 1, RS_ACL_SEND, RS_ACL_KEYS_NONE, NULL, NULL)->allow);
    /* others read and message freely */
    ASSERT(decide(a, 1000, 1, RS_ACL_SUBSCRIBE, RS_ACL_KEYS_RANGE, "default", "")->allow);
    ASSERT(decide(a, 1000, 1, RS_ACL_SEND, RS_ACL_KEYS_NONE, NULL, NULL)->allow);
    rs_acl_free(a);
}

/* --- the core's admission point --------------------------------------------------------- */

static void open_as(struct harness *h, uint64_t conn, uint32_t uid, uint32_t gid)
{
    struct rs_input in = {
        .kind = RS_IN_CLIENT_OPEN, .conn = conn, .os_pid = 100 + (int)conn, .uid = uid, .gid = gid};
    ASSERT_EQ(h_apply(h, &in), 0);
}

static struct rs_pid hello_as(struct harness *h, uint64_t conn, uint32_t uid)
{
    open_as(h, conn, uid, uid);
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    return h_reply(h)->pid;
}

static int reply_says(struct harness *h, const char *want)
{
    struct rs_bytes p = h_reply(h)->prev;
    char got[256];
    size_t n = p.len < sizeof got - 1 ? p.len : sizeof got - 1;
    memcpy(got, p.ptr, n);
    got[n] = 0;
    return strstr(got, want) != NULL;
}

static int reply_names_line(struct harness *h, unsigned line)
{
    char want[32];
    snprintf(want, sizeof want, "rule line %u", line);
    return reply_says(h, want);
}

static uint64_t status_item(struct harness *h, uint64_t conn, const char *name)
{
    struct rs_msg m = {.type = RS_MSG_STATUS};
    ASSERT_EQ(h_status(h, conn, &m), 0);
    size_t n = h_nframes(h, conn, RS_MSG_STATUS, RS_F_ITEM);
    for (size_t k = 0; k < n; k++) {
        const struct rs_msg *it = h_item(h, conn, RS_MSG_STATUS, k);
        if (h_bytes_is(it->key, name))
            return it->arg;
    }
    test_fail(__FILE__, __LINE__, "no status item %s", name);
    return 0;
}

static const char *policy = "allow user=1000 op=register,join scope=default prefix=web/\n" /* 1 */
                            "deny * op=register,join\n"                                    /* 2 */
                            "deny user=1001 op=read,subscribe prefix=web/\n"               /* 3 */
                            "deny user=1001 op=send,call,log-level\n"                      /* 4 */
                            "deny user=1002 op=connect\n"                                  /* 5 */
                            "allow *\n";                                                   /* 6 */

static void test_core_rules(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_acl *a = parse_ok(policy);
    rs_core_set_acl(h.core, a);
    struct rs_pid web = hello_as(&h, 1, 1000);
    struct rs_pid db = hello_as(&h, 2, 1001);
    /* register / join by prefix and scope */
    ASSERT_EQ(h_register(&h, 1, web, "", "web/a", ""), 0);
    ASSERT_EQ(h_register(&h, 1, web, "default", "web/b", ""), 0);
    ASSERT_EQ(h_register(&h, 1, web, "", "db/x", ""), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 2));
    ASSERT_EQ(h_join(&h, 1, web, "", "web/g", ""), 0);
    ASSERT_EQ(h_register(&h, 2, db, "", "web/c", ""), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 2));
    ASSERT_EQ(h_join(&h, 2, db, "", "web/g", ""), ROSTER_EACCES);
    /* reads: one key, listings, counts */
    ASSERT_EQ(h_lookup(&h, 2, "", "web/a"), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 3));
    ASSERT_EQ(h_lookup(&h, 2, "", "nothing"), ROSTER_ENOTFOUND);
    ASSERT_EQ(h_lookup(&h, 1, "", "web/a"), 0);
    struct rs_msg names = {.type = RS_MSG_NAMES, .key = h_str("")};
    ASSERT_EQ(h_status(&h, 2, &names), ROSTER_EACCES);
    names.key = h_str("w");
    ASSERT_EQ(h_status(&h, 2, &names), ROSTER_EACCES);
    names.key = h_str("x/");
    ASSERT_EQ(h_status(&h, 2, &names), 0);
    struct rs_msg groups = {.type = RS_MSG_GROUPS};
    ASSERT_EQ(h_status(&h, 2, &groups), ROSTER_EACCES);
    struct rs_msg members = {.type = RS_MSG_MEMBERS, .key = h_str("web/g")};
    ASSERT_EQ(h_status(&h, 2, &members), ROSTER_EACCES);
    struct rs_msg count = {.type = RS_MSG_COUNT};
    ASSERT_EQ(h_status(&h, 2, &count), ROSTER_EACCES);
    struct rs_msg scopes = {.type = RS_MSG_SCOPES};
    ASSERT_EQ(h_status(&h, 2, &scopes), ROSTER_EACCES);
    ASSERT_EQ(h_status(&h, 1, &count), 0);
    /* subscriptions: the whole scope or an overlapping prefix is refused; a disjoint one
     * is allowed and sees nothing of web/ */
    struct rs_msg sub = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL};
    ASSERT_EQ(h_status(&h, 2, &sub), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 3));
    sub.opts = ROSTER_SUB_PREFIX;
    sub.key = h_str("web");
    ASSERT_EQ(h_status(&h, 2, &sub), ROSTER_EACCES);
    sub.opts = 0;
    sub.key = h_str("web/a");
    ASSERT_EQ(h_status(&h, 2, &sub), ROSTER_EACCES);
    h_subscribe(&h, 2, "", "x/", ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT);
    ASSERT_EQ(h_register(&h, 1, web, "", "web/d", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 0);
    /* send / call to another uid's pid; to its own pids is always allowed */
    struct rs_msg send = {.type = RS_MSG_SEND,
                          .opts = RS_SEND_CONFIRM,
                          .arg = db.serial,
                          .pid = web,
                          .meta = h_str("hi")};
    ASSERT_EQ(h_status(&h, 2, &send), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 4));
    struct rs_pid db2 = h_pid_new(&h, 2);
    send.pid = db2;
    ASSERT_EQ(h_status(&h, 2, &send), 0);
    send.pid = (struct rs_pid){0, 0};
    send.key = h_str("web/a");
    ASSERT_EQ(h_status(&h, 2, &send), ROSTER_EACCES);
    send.arg = web.serial;
    send.pid = db;
    send.key = h_str("");
    ASSERT_EQ(h_status(&h, 1, &send), 0);
    /* without CONFIRM a refused message is dropped and counted, with no reply */
    uint64_t dropped = h_stats(&h).msgs_dropped;
    send.opts = 0;
    send.arg = db.serial;
    send.pid = web;
    h_send(&h, 2, &send);
    ASSERT(!h_has_reply(&h));
    ASSERT_EQ(h_nframes(&h, 1, RS_MSG_MESSAGE, 0), 0);
    ASSERT_U64_EQ(h_stats(&h).msgs_dropped, dropped + 1);
    struct rs_msg lvl = {.type = RS_MSG_LOG_LEVEL, .opts = 3};
    ASSERT_EQ(h_status(&h, 2, &lvl), ROSTER_EACCES);
    ASSERT_EQ(h_status(&h, 1, &lvl), 0);
    /* connect */
    open_as(&h, 3, 1002, 1002);
    struct rs_msg hello = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
    ASSERT_EQ(h_status(&h, 3, &hello), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 5));
    ASSERT(h_closed(&h, 3));
    /* counted, in status */
    uint64_t refused = status_item(&h, 1, "acl_refusals");
    ASSERT_U64_EQ(refused, 18);
    ASSERT_U64_EQ(status_item(&h, 1, "acl_rules"), 6);
    /* new rules apply to the next request; NULL allows everything again */
    struct rs_acl *b = parse_ok("deny user=1000 op=read\nallow *\n");
    rs_core_set_acl(h.core, b);
    rs_acl_free(a);
    ASSERT_EQ(h_lookup(&h, 1, "", "web/a"), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 1));
    ASSERT_EQ(h_lookup(&h, 2, "", "web/a"), 0);
    rs_core_set_acl(h.core, NULL);
    rs_acl_free(b);
    ASSERT_EQ(h_lookup(&h, 1, "", "web/a"), 0);
    h_fini(&h);
}

/* The remaining ops, each refused by its own rule: call, publish and multi-call by scope
 * and group, monitor, scope-create (and scope join/leave), status (and nodes), pid-new
 * (connect), check-token (read), handoff and campaign (register), update of a membership
 * (join); "admin" and "all" reach them too. */
static void test_core_each_op(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_acl *a = parse_ok("deny user=1001 op=call\n"                        /* 1 */
                                "deny user=1001 op=send scope=default prefix=g\n" /* 2 */
                                "deny user=1001 op=monitor\n"                     /* 3 */
                                "deny user=1001 op=scope-create scope=locked\n"   /* 4 */
                                "deny user=1001 op=status\n"                      /* 5 */
                                "deny user=1001 op=read prefix=t\n"               /* 6 */
                                "deny user=1001 op=register prefix=n\n"           /* 7 */
                                "deny user=1001 op=join prefix=grp\n"             /* 8 */
                                "deny user=1002 op=connect\n"                     /* 9 */
                                "allow *\n");
    rs_core_set_acl(h.core, a);
    struct rs_pid web = hello_as(&h, 1, 1000);
    struct rs_pid db = hello_as(&h, 2, 1001);
    ASSERT_EQ(h_join(&h, 1, web, "", "grp", ""), 0);
    struct rs_msg call = {.type = RS_MSG_CALL, .arg = db.serial, .pid = web, .meta = h_str("q")};
    ASSERT_EQ(h_status(&h, 2, &call), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 1));
    struct rs_msg mcall = {
        .type = RS_MSG_MULTI_CALL, .arg = db.serial, .key = h_str("grp"), .meta = h_str("q")};
    ASSERT_EQ(h_status(&h, 2, &mcall), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 1));
    struct rs_msg pub = {
        .type = RS_MSG_PUBLISH, .arg = db.serial, .key = h_str("grp"), .meta = h_str("m")};
    ASSERT_EQ(h_status(&h, 2, &pub), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 2));
    pub.key = h_str("other");
    ASSERT_EQ(h_status(&h, 2, &pub), 0); /* no such group: no member, sent to none */
    struct rs_msg mon = {.type = RS_MSG_MONITOR, .pid = web};
    ASSERT_EQ(h_status(&h, 2, &mon), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 3));
    ASSERT(h_monitor(&h, 1, db) != 0);
    struct rs_msg sc = {.type = RS_MSG_SCOPE_CREATE, .scope = h_str("locked")};
    ASSERT_EQ(h_status(&h, 2, &sc), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 4));
    sc.scope = h_str("free");
    ASSERT_EQ(h_status(&h, 2, &sc), 0);
    ASSERT_EQ(
        h_status(&h, 1, &(struct rs_msg){.type = RS_MSG_SCOPE_CREATE, .scope = h_str("locked")}),
        0);
    struct rs_msg sl = {.type = RS_MSG_SCOPE_LEAVE, .scope = h_str("locked")};
    ASSERT_EQ(h_status(&h, 2, &sl), ROSTER_EACCES);
    struct rs_msg st = {.type = RS_MSG_STATUS};
    ASSERT_EQ(h_status(&h, 2, &st), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 5));
    struct rs_msg nodes = {.type = RS_MSG_NODES};
    ASSERT_EQ(h_status(&h, 2, &nodes), ROSTER_EACCES);
    struct rs_msg tok = {.type = RS_MSG_CHECK_TOKEN, .key = h_str("tname"), .arg2 = 1};
    ASSERT_EQ(h_status(&h, 2, &tok), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 6));
    struct rs_msg camp = {.type = RS_MSG_CAMPAIGN, .pid = db, .key = h_str("name")};
    ASSERT_EQ(h_status(&h, 2, &camp), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 7));
    struct rs_msg hand = {.type = RS_MSG_HANDOFF, .pid = db, .key = h_str("name")};
    ASSERT_EQ(h_status(&h, 2, &hand), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 7));
    struct rs_msg upd = {.type = RS_MSG_UPDATE,
                         .opts = RS_UPDATE_MEMBER,
                         .pid = db,
                         .key = h_str("grp"),
                         .meta = h_str("m")};
    ASSERT_EQ(h_status(&h, 2, &upd), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 8));
    /* pid-new is a connect: after a reload that denies it, no new pid */
    struct rs_acl *b = parse_ok("deny user=1001 op=connect\nallow *\n");
    rs_core_set_acl(h.core, b);
    rs_acl_free(a);
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    ASSERT_EQ(h_status(&h, 2, &pn), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 1));
    h_pid_new(&h, 1);
    /* admin and "all" */
    struct rs_acl *c2 = parse_ok("deny user=1001 op=*\nallow *\n");
    rs_core_set_acl(h.core, c2);
    rs_acl_free(b);
    struct rs_msg lvl = {.type = RS_MSG_LOG_LEVEL, .opts = 2};
    ASSERT_EQ(h_status(&h, 2, &lvl), ROSTER_EACCES);
    ASSERT_EQ(h_lookup(&h, 2, "", "x"), ROSTER_EACCES);
    struct rs_msg ping = {.type = RS_MSG_PING}; /* never checked */
    ASSERT_EQ(h_status(&h, 2, &ping), 0);
    h_fini(&h);
    rs_acl_free(c2);
}

/* The request types added beside the access rules (queries, leases, scope metadata and
 * leases, cluster administration, owners) are judged by them too: none is a way around. */
static void test_core_newer_ops(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_acl *a = parse_ok("deny user=1001 op=read prefix=t\n"      /* 1 */
                                "deny user=1001 op=register prefix=n\n"  /* 2 */
                                "deny user=1001 op=join prefix=grp\n"    /* 3 */
                                "deny user=1001 op=scope-create\n"       /* 4 */
                                "deny user=1001 op=admin,status\n"       /* 5 */
                                "allow *\n");
    rs_core_set_acl(h.core, a);
    hello_as(&h, 1, 1000);
    struct rs_pid db = hello_as(&h, 2, 1001);
    /* a query over a denied prefix, or over everything (a range holding it) */
    struct rs_msg q = {.type = RS_MSG_QUERY, .opts = RS_QW_NAMES | RS_QF_PREFIX, .key = h_str("t")};
    ASSERT_EQ(h_status(&h, 2, &q), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 1));
    q.key = h_str("");
    ASSERT_EQ(h_status(&h, 2, &q), ROSTER_EACCES);
    struct rs_msg qc = {.type = RS_MSG_QUERY_COUNT, .opts = RS_QW_NAMES | RS_QW_MEMBERS,
                        .key = h_str("tx")};
    ASSERT_EQ(h_status(&h, 2, &qc), ROSTER_EACCES);
    q.opts = RS_QW_NAMES;
    q.key = h_str("other");
    ASSERT_EQ(h_status(&h, 2, &q), 0); /* one name outside the rule */
    /* a leased registration is a registration, a leased membership a join */
    struct rs_msg ln = {.type = RS_MSG_LEASE, .opts = RS_LEASE_NAME, .arg = 1000, .pid = db,
                        .key = h_str("name")};
    ASSERT_EQ(h_status(&h, 2, &ln), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 2));
    struct rs_msg lm = {.type = RS_MSG_LEASE, .opts = RS_LEASE_MEMBER, .arg = 1000, .pid = db,
                        .key = h_str("grp1")};
    ASSERT_EQ(h_status(&h, 2, &lm), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 3));
    /* the scope's metadata and a scope lease are the scope's administration */
    struct rs_msg ms = {.type = RS_MSG_SCOPE_META_SET, .key = h_str("k"), .meta = h_str("v")};
    ASSERT_EQ(h_status(&h, 2, &ms), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 4));
    struct rs_msg sl = {.type = RS_MSG_SCOPE_LEASE, .arg = 1000, .scope = h_str("x")};
    ASSERT_EQ(h_status(&h, 2, &sl), ROSTER_EACCES);
    /* cluster administration and who owns a pid */
    struct rs_msg cl = {.type = RS_MSG_CLUSTER_LEAVE};
    ASSERT_EQ(h_status(&h, 2, &cl), ROSTER_EACCES);
    ASSERT(reply_names_line(&h, 5));
    struct rs_msg fg = {.type = RS_MSG_FORGET, .node = h_str("gone")};
    ASSERT_EQ(h_status(&h, 2, &fg), ROSTER_EACCES);
    struct rs_msg ow = {.type = RS_MSG_OWNER, .pid = db};
    ASSERT_EQ(h_status(&h, 2, &ow), ROSTER_EACCES);
    h_fini(&h);
    rs_acl_free(a);
}

/* New rules end the subscriptions they no longer allow, with an OVERFLOW event; the others
 * stay, and the ended one hears nothing more. */
static void test_core_reload_revokes_subscriptions(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_acl *a = parse_ok("allow *\n");
    rs_core_set_acl(h.core, a);
    struct rs_pid web = hello_as(&h, 1, 1000);
    hello_as(&h, 2, 1001);
    uint64_t all = h_subscribe(&h, 2, "", "", ROSTER_SUB_ALL);
    uint64_t other = h_subscribe(&h, 2, "", "x/", ROSTER_SUB_PREFIX);
    ASSERT_EQ(h_register(&h, 1, web, "", "web/a", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    struct rs_acl *b = parse_ok("deny user=1001 op=subscribe prefix=web/\nallow *\n");
    rs_core_set_acl(h.core, b);
    rs_acl_free(a);
    struct rs_input tick = {.kind = RS_IN_TICK, .now_ms = h.now};
    ASSERT_EQ(h_apply(&h, &tick), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    const struct rs_msg *ev = h_event(&h, 2, 0);
    ASSERT_EQ(h_ev_kind(ev), ROSTER_EV_OVERFLOW);
    ASSERT_U64_EQ(ev->arg, all);
    ASSERT_U64_EQ(h_stats(&h).subscriptions, 1);
    ASSERT_EQ(h_register(&h, 1, web, "", "web/b", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 0);
    ASSERT_EQ(h_register(&h, 1, web, "", "x/1", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1);
    ASSERT_U64_EQ(h_event(&h, 2, 0)->arg, other);
    h_fini(&h);
    rs_acl_free(b);
}

static void test_core_refusal_log_bounded(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_acl *a = parse_ok("deny * op=read\nallow *\n");
    rs_core_set_acl(h.core, a);
    hello_as(&h, 1, 1000);
    size_t logs = 0;
    for (int i = 0; i < 200; i++) {
        ASSERT_EQ(h_lookup(&h, 1, "", "x"), ROSTER_EACCES);
        logs += h.nlogs;
    }
    ASSERT_EQ(logs, 10); /* LOG_BURST a second */
    /* a second later: one line says how many went unlogged, then the next refusal */
    struct rs_input tick = {.kind = RS_IN_TICK, .now_ms = h.now + 1500};
    h.now += 1500;
    ASSERT_EQ(h_apply(&h, &tick), 0);
    ASSERT_EQ(h_lookup(&h, 1, "", "x"), ROSTER_EACCES);
    ASSERT_EQ(h.nlogs, 2);
    ASSERT_U64_EQ(status_item(&h, 1, "acl_refusals"), 201);
    h_fini(&h);
    rs_acl_free(a);
}

static void test_core_memory_ceiling(void)
{
    rs_alloc_count_start();
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = hello_as(&h, 1, 1000);
    ASSERT_EQ(h_register(&h, 1, p, "", "kept", "m"), 0);
    ASSERT_EQ(h_join(&h, 1, p, "", "grp", ""), 0);
    ASSERT(rs_alloc_live() > 0);
    ASSERT_U64_EQ(status_item(&h, 1, "memory_full"), 0);
    /* a ceiling just above what is in use: growth soon stops */
    rs_core_set_memory_max(h.core, rs_alloc_live() + 64 * 1024);
    int refused = 0;
    char name[32];
    for (int i = 0; i < 100000 && !refused; i++) {
        snprintf(name, sizeof name, "n%d", i);
        int r = h_register(&h, 1, p, "", name, "0123456789abcdef0123456789abcdef");
        if (r == ROSTER_ENOMEM)
            refused = 1;
        else
            ASSERT_EQ(r, 0);
    }
    ASSERT(refused);
    ASSERT(reply_says(&h, "memory ceiling"));
    ASSERT_U64_EQ(status_item(&h, 1, "memory_full"), 1);
    ASSERT(status_item(&h, 1, "memory_refusals") >= 1);
    /* new entries, subscriptions, messages, monitors and pids are refused ... */
    ASSERT_EQ(h_join(&h, 1, p, "", "grp2", ""), ROSTER_ENOMEM);
    struct rs_msg sub = {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL};
    ASSERT_EQ(h_status(&h, 1, &sub), ROSTER_ENOMEM);
    struct rs_msg send = {.type = RS_MSG_SEND,
                          .opts = RS_SEND_CONFIRM,
                          .arg = p.serial,
                          .pid = p,
                          .meta = h_str("x")};
    ASSERT_EQ(h_status(&h, 1, &send), ROSTER_ENOMEM);
    struct rs_msg pn = {.type = RS_MSG_PID_NEW};
    ASSERT_EQ(h_status(&h, 1, &pn), ROSTER_ENOMEM);
    /* ... what exists keeps working: read, update, leave, unregister */
    ASSERT_EQ(h_lookup(&h, 1, "", "kept"), 0);
    struct rs_msg mem = {.type = RS_MSG_MEMBERS, .key = h_str("grp")};
    ASSERT_EQ(h_status(&h, 1, &mem), 0);
    ASSERT_EQ(h_leave(&h, 1, p, "", "grp"), 0);
    ASSERT_EQ(h_unregister(&h, 1, "", "kept"), 0);
    struct rs_msg ping = {.type = RS_MSG_PING};
    ASSERT_EQ(h_status(&h, 1, &ping), 0);
    /* lifting the ceiling lets growth resume */
    rs_core_set_memory_max(h.core, 0);
    ASSERT_EQ(h_register(&h, 1, p, "", "again", ""), 0);
    ASSERT_U64_EQ(status_item(&h, 1, "memory_full"), 0);
    h_fini(&h);
}

TEST_MAIN(T(test_parse), T(test_parse_errors), T(test_decide), T(test_example_policy),
          T(test_core_newer_ops),
          T(test_core_rules), T(test_core_each_op), T(test_core_reload_revokes_subscriptions),
          T(test_core_refusal_log_bounded), T(test_core_memory_ceiling))
