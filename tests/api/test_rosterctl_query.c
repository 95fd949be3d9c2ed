/* test_rosterctl_query.c: rosterctl's metadata queries against a real rosterd (issue 11
 * items 6 and 12): names / members / count with --meta-eq, --meta-prefix, --meta-glob and
 * --where (repeatable, all must hold; "--opt=value" too), members --prefix, count KEY,
 * member GROUP PID (exit 0 / 1 / 2), unregister and leave --match --pid (one request, the
 * holder's entries only), every --json line a valid JSON value, and the usage errors
 * (exit 2) of each new form. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctlproc.h"
#include "jsonv.h"
#include "node.h"
#include "test.h"

static struct test_node node;
static char out[1 << 16];

static int ctl_at(const char *file, int line, const char *first, ...)
{
    const char *argv[40];
    int k = 0, json = 0;
    argv[k++] = ROSTERCTL_PATH;
    argv[k++] = "--socket";
    argv[k++] = node.sock;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && k < 39; a = va_arg(ap, const char *)) {
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
#define ctl(...) ctl_at(__FILE__, __LINE__, __VA_ARGS__)
#define HAS(s)                                                                         \
    do {                                                                               \
        if (!strstr(out, (s)))                                                         \
            test_fail(__FILE__, __LINE__, "output lacks %s:\n%s", (s), out);           \
    } while (0)
#define LACKS(s)                                                                       \
    do {                                                                               \
        if (strstr(out, (s)))                                                          \
            test_fail(__FILE__, __LINE__, "output has %s:\n%s", (s), out);             \
    } while (0)

/* hold starts `rosterctl --json CMD KEY --meta META` and returns its pid text in pid. */
static void hold(struct ctl_proc *p, const char *cmd, const char *key, const char *meta,
                 char *pid, size_t cap)
{
    const char *args[] = {"--json", cmd, key, "--meta", meta, NULL};
    ctl_spawn(p, node.sock, args);
    char line[512];
    ctl_read_line(p, line, sizeof line);
    const char *s = strstr(line, "\"pid\":\"");
    ASSERT(s != NULL);
    s += 7;
    size_t n = strcspn(s, "\"");
    ASSERT(n < cap);
    memcpy(pid, s, n);
    pid[n] = 0;
}

static void test_queries(void)
{
    test_node_start(&node, (const char *const[]){"--name", "n1", NULL});
    struct ctl_proc h[4];
    char p0[64], p1[64], p2[64], p3[64];
    hold(&h[0], "register", "svc/web", "{\"role\":\"admin\",\"port\":8080}", p0, sizeof p0);
    hold(&h[1], "register", "svc/db", "{\"role\":\"user\"}", p1, sizeof p1);
    hold(&h[2], "join", "chat/fr", "{\"lang\":\"fr\"}", p2, sizeof p2);
    hold(&h[3], "join", "chat/en", "{\"lang\":\"en\"}", p3, sizeof p3);

    ASSERT_EQ(ctl("--json", "names", "--where", "role=admin", NULL), 0);
    HAS("\"name\":\"svc/web\"");
    LACKS("svc/db");
    ASSERT_EQ(ctl("--json", "names", "--where=port=8080", "--meta-glob", "*admin*", NULL), 0);
    HAS("svc/web");
    ASSERT_EQ(ctl("--json", "names", "--where", "port=8080", "--meta-eq", "x", NULL), 0);
    ASSERT_STR_EQ(out, "[]\n");
    ASSERT_EQ(ctl("--json", "names", "--meta-prefix", "{\"role\":\"u", NULL), 0);
    HAS("svc/db");
    LACKS("svc/web");
    ASSERT_EQ(ctl("names", "--meta-prefix", "{\"role\":\"u", NULL), 0); /* human form */
    ASSERT(strncmp(out, "svc/db ", 7) == 0);

    /* members of a group and of every group under a prefix, filtered */
    ASSERT_EQ(ctl("--json", "members", "--prefix", "chat/", NULL), 0);
    ASSERT(strstr(out, "chat/en") && strstr(out, "chat/fr") &&
           strstr(out, "chat/en") < strstr(out, "chat/fr"));
    ASSERT_EQ(ctl("--json", "members", "--prefix", "chat/", "--where", "lang=fr", NULL), 0);
    HAS("\"group\":\"chat/fr\"");
    LACKS("chat/en");
    ASSERT_EQ(ctl("--json", "members", "chat/en", "--meta-glob", "*en*", NULL), 0);
    HAS(p3);
    ASSERT_EQ(ctl("--json", "members", "chat/en", "--meta-glob", "*fr*", NULL), 0);
    ASSERT_STR_EQ(out, "[]\n");

    /* count KEY, count --prefix, count with filters; the plain count unchanged */
    ASSERT_EQ(ctl("--json", "count", "chat/fr", NULL), 0);
    ASSERT_STR_EQ(out, "{\"key\":\"chat/fr\",\"names\":0,\"groups\":1,\"members\":1}\n");
    ASSERT_EQ(ctl("--json", "count", "svc/db", NULL), 0);
    ASSERT_STR_EQ(out, "{\"key\":\"svc/db\",\"names\":1,\"groups\":0,\"members\":0}\n");
    ASSERT_EQ(ctl("--json", "count", "--prefix", "svc/", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":2,\"groups\":0,\"members\":0}\n");
    ASSERT_EQ(ctl("--json", "count", "--where", "lang=en", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":0,\"groups\":1,\"members\":1}\n");
    ASSERT_EQ(ctl("--json", "count", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":2,\"groups\":2,\"members\":2}\n");
    ASSERT_EQ(ctl("count", "chat/fr", NULL), 0);
    ASSERT_STR_EQ(out, "names 0\ngroups 1\nmembers 1\n");

    /* member GROUP PID: 0 a member, 1 not, 2 an error */
    ASSERT_EQ(ctl("--json", "member", "chat/fr", p2, NULL), 0);
    ASSERT(strncmp(out, "{\"group\":\"chat/fr\",\"pid\":\"", 24) == 0);
    HAS("\"member\":true}");
    ASSERT_EQ(ctl("member", "chat/fr", p3, NULL), 1);
    ASSERT_STR_EQ(out, "not a member\n");
    ASSERT_EQ(ctl("member", "chat/fr", p2, NULL), 0);
    ASSERT_STR_EQ(out, "member\n");
    ASSERT_EQ(ctl("--json", "member", "chat/fr", "nopid", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");
    ASSERT_EQ(ctl("--json", "--scope", "nosuch", "member", "chat/fr", p2, NULL), 2);
    HAS("\"error\":\"ENOSCOPE\"");

    /* unregister / leave --match: the holder's matching entries, once */
    ASSERT_EQ(ctl("--json", "unregister", "--match", "--pid", p1, "--where", "role=admin",
                  NULL), 1);
    ASSERT_STR_EQ(out, "{\"removed\":0}\n"); /* p1's name is not an admin's */
    ASSERT_EQ(ctl("--json", "unregister", "--match", "--pid", p0, "--where", "role=admin",
                  NULL), 0);
    ASSERT_STR_EQ(out, "{\"removed\":1}\n");
    ASSERT_EQ(ctl("--json", "names", NULL), 0);
    LACKS("svc/web");
    HAS("svc/db");
    ASSERT_EQ(ctl("leave", "--match", "--pid", p2, "chat/fr", NULL), 0);
    ASSERT_STR_EQ(out, "removed 1\n");
    ASSERT_EQ(ctl("--json", "count", "--prefix", "chat/", NULL), 0);
    ASSERT_STR_EQ(out, "{\"names\":0,\"groups\":1,\"members\":1}\n");

    /* usage errors: exit 2 with the reason */
    ASSERT_EQ(ctl("--json", "names", "--where", "role", NULL), 2);
    HAS("FIELD=VALUE");
    ASSERT_EQ(ctl("--json", "names", "--where", "=x", NULL), 2);
    ASSERT_EQ(ctl("--json", "names", "--meta-eq", NULL), 2);
    ASSERT_EQ(ctl("--json", "members", "chat/en", "--prefix", "chat/", NULL), 2);
    ASSERT_EQ(ctl("--json", "members", "--meta-eq", "x", NULL), 2);
    ASSERT_EQ(ctl("--json", "count", "a", "--prefix", "b", NULL), 2);
    ASSERT_EQ(ctl("--json", "unregister", "--match", "--prefix", "svc/", NULL), 2);
    HAS("--pid");
    ASSERT_EQ(ctl("--json", "names", "--meta-eq", "1", "--meta-eq", "2", "--meta-eq", "3",
                  "--meta-eq", "4", "--meta-eq", "5", "--meta-eq", "6", "--meta-eq", "7",
                  "--meta-eq", "8", "--meta-eq", "9", NULL), 2);
    HAS("at most 8");
    ASSERT_EQ(ctl("--json", "names", "--where", "k=v", "--node", "nosuch", NULL), 1);
    HAS("\"error\":\"ENOTFOUND\"");

    for (int i = 0; i < 4; i++) {
        ctl_close_stdin(&h[i]);
        ASSERT_EQ(ctl_wait_exit(&h[i], 5000), 0);
    }
    test_node_stop_ok(&node);
}

TEST_MAIN(T(test_queries))
