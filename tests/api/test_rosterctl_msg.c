/* test_rosterctl_msg.c: the rosterctl messaging commands against a real rosterd: send (by
 * pid, by name, from stdin, --confirm errors), publish (recipients, --local), call (the
 * reply, a name nobody holds, --timeout), multi-call (replies and bad pids), holders that
 * print received messages (register --recv, join --recv, JSON and human forms) and a shell
 * command that answers calls (--reply-with, and one that fails: no reply). Every --json
 * line goes through a strict JSON validator (the same rules as test_rosterctl.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctlproc.h"
#include "jsonv.h"
#include "node.h"
#include "rclient.h"
#include "roster.h"
#include "test.h"

static struct test_node node;
static char out[1 << 16];

/* ctl runs rosterctl --socket <node> args... (NULL-terminated) into out; exit status. With
 * --json among the arguments, the output must be exactly one line holding one JSON value. */
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

static void start(void) { test_node_start(&node, (const char *const[]){"--name", "n1", NULL}); }

static void spawn(struct ctl_proc *p, const char *const *args)
{
    ctl_spawn(p, node.sock, args);
}

/* wait_exit closes its stdin (a holder then exits) and waits up to 10 s. */
static int wait_exit(struct ctl_proc *p)
{
    ctl_close_stdin(p);
    return ctl_wait_exit(p, 10000);
}

/* pid_line parses the first line of a holder: {"pid":"..."} with --json, else the pid. */
static roster_pid pid_line(struct ctl_proc *p, char *text, size_t cap)
{
    char line[512];
    ctl_read_line(p, line, sizeof line);
    const char *s = line;
    size_t n = strlen(line);
    if (p->json) {
        ASSERT(strncmp(line, "{\"pid\":\"", 8) == 0);
        s = line + 8;
        n = strcspn(s, "\"");
    }
    ASSERT(n < cap);
    memcpy(text, s, n);
    text[n] = 0;
    roster_pid pid;
    ASSERT_EQ(roster_pid_parse(text, &pid), 0);
    return pid;
}

static roster_client *lib_connect(void) { return test_connect(&node); }

static void test_json_validator(void)
{
    ASSERT(json_valid("{\"replies\":[{\"pid\":\"x\",\"reply\":\"y\"}],\"bad\":[]}"));
    ASSERT(!json_valid("{\"replies\":[,]}"));
}

static void test_send_and_publish(void)
{
    start();
    roster_client *b = lib_connect();
    char pb[ROSTER_PID_STRLEN];
    roster_pid_format(roster_self(b), pb);
    ASSERT_EQ(roster_register(b, NULL, "box", 3, roster_self(b), "", 0, NULL, 5000), 0);
    ASSERT_EQ(ctl("--json", "send", "box", "by name", NULL), 0);
    HAS("{\"ok\":true}");
    ASSERT_EQ(ctl("send", pb, "by pid", NULL), 0);
    ASSERT_EQ(out[0], 0); /* human form: nothing on success */
    ASSERT_EQ(ctl("--json", "send", "box", "confirmed", "--confirm", NULL), 0);
    roster_event ev;
    const char *want[] = {"by name", "by pid", "confirmed"};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(roster_wait_event(b, &ev, 5000), 0);
        ASSERT_EQ(ev.type, ROSTER_EV_MESSAGE);
        ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, want[i], strlen(want[i]));
        ASSERT_EQ(ev.name.len, i == 1 ? 0 : 3);
        roster_event_free(&ev);
    }
    /* the message from stdin */
    struct ctl_proc p;
    spawn(&p, (const char *const[]){"send", "box", NULL});
    ASSERT_EQ(write(p.in, "line 1\nline 2\n", 14), 14);
    ASSERT_EQ(wait_exit(&p), 0);
    ASSERT_EQ(roster_wait_event(b, &ev, 5000), 0);
    ASSERT_MEM_EQ(ev.meta.data, ev.meta.len, "line 1\nline 2\n", 14);
    roster_event_free(&ev);
    /* --confirm errors: exit 1 */
    ASSERT_EQ(ctl("--json", "send", "nobody", "x", "--confirm", NULL), 1);
    HAS("\"error\":\"ENOTFOUND\"");
    roster_pid dead;
    char pd[ROSTER_PID_STRLEN];
    ASSERT_EQ(roster_pid_new(b, &dead, 5000), 0);
    ASSERT_EQ(roster_pid_close(b, dead, 5000), 0);
    ASSERT_EQ(ctl("--json", "send", roster_pid_format(dead, pd), "x", "--confirm", NULL), 1);
    HAS("\"error\":\"ENOPROC\"");
    ASSERT_EQ(ctl("send", "nobody", "x", NULL), 0); /* not confirmed: not an error */
    ASSERT_EQ(ctl("--json", "send", NULL), 2);
    HAS("\"error\":\"EUSAGE\"");

    /* publish: the recipients */
    ASSERT_EQ(ctl("--json", "publish", "grp", "nobody there", NULL), 0);
    HAS("{\"recipients\":0}");
    ASSERT_EQ(roster_join(b, NULL, "grp", 3, roster_self(b), "", 0, 5000), 0);
    roster_pid b2;
    ASSERT_EQ(roster_pid_new(b, &b2, 5000), 0);
    ASSERT_EQ(roster_join(b, NULL, "grp", 3, b2, "", 0, 5000), 0);
    ASSERT_EQ(ctl("--json", "publish", "grp", "to all", NULL), 0);
    HAS("{\"recipients\":2}");
    ASSERT_EQ(ctl("publish", "grp", "local", "--local", NULL), 0);
    ASSERT_STR_EQ(out, "2\n");
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(roster_wait_event(b, &ev, 5000), 0);
        ASSERT_EQ(ev.msg_kind, ROSTER_MSG_PUBLISH);
        ASSERT_MEM_EQ(ev.name.data, ev.name.len, "grp", 3);
        roster_event_free(&ev);
    }
    roster_close(b);
    test_node_stop_ok(&node);
}

static void test_recv_prints_messages(void)
{
    start();
    roster_client *a = lib_connect();
    char ptext[64], line[1024], want[1024], from[ROSTER_PID_STRLEN];
    roster_pid_format(roster_self(a), from);
    struct ctl_proc p;
    spawn(&p, (const char *const[]){"--json", "register", "inbox", "--recv", NULL});
    roster_pid held = pid_line(&p, ptext, sizeof ptext);
    ASSERT_EQ(roster_send_name(a, roster_self(a), NULL, "inbox", 5, "hi \"there\"\n", 11, 0,
                               5000),
              0);
    ctl_read_line(&p, line, sizeof line);
    snprintf(want, sizeof want,
             "{\"type\":\"message\",\"kind\":\"send\",\"scope\":\"default\",\"from\":\"%s\","
             "\"node\":\"n1\",\"to\":\"%s\",\"name\":\"inbox\",\"data\":\"hi \\\"there\\\"\\n\"}",
             from, ptext);
    ASSERT_STR_EQ(line, want);
    ASSERT_EQ(roster_send(a, roster_self(a), held, "\x01raw", 4, 0, 5000), 0);
    ctl_read_line(&p, line, sizeof line);
    ASSERT(strstr(line, "\"name\":\"\",\"data\":\"\\u0001raw\"}") != NULL);
    ASSERT_EQ(wait_exit(&p), 0); /* stdin EOF still releases */

    /* join --recv, human form: the data, one line per message */
    spawn(&p, (const char *const[]){"join", "crowd", "--recv", NULL});
    pid_line(&p, ptext, sizeof ptext);
    size_t k = 0;
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "crowd", 5, "hello all", 9, 0, &k, 5000),
              0);
    ASSERT_EQ(k, 1);
    ctl_read_line(&p, line, sizeof line);
    ASSERT_STR_EQ(line, "hello all");
    ASSERT_EQ(roster_publish(a, roster_self(a), NULL, "crowd", 5, "two\nlines", 9, 0, &k, 5000),
              0);
    ctl_read_line(&p, line, sizeof line);
    ASSERT_STR_EQ(line, "two\\x0alines");
    ASSERT_EQ(wait_exit(&p), 0);
    roster_close(a);
    test_node_stop_ok(&node);
}

static void test_call_and_reply_with(void)
{
    start();
    roster_client *a = lib_connect();
    struct ctl_proc srv;
    spawn(&srv, (const char *const[]){"register", "upper", "--reply-with", "tr a-z A-Z", NULL});
    char stext[64];
    roster_pid sp = pid_line(&srv, stext, sizeof stext);
    ASSERT_EQ(ctl("--json", "call", "upper", "hello", NULL), 0);
    char want[256];
    snprintf(want, sizeof want, "{\"pid\":\"%s\",\"reply\":\"HELLO\"}\n", stext);
    ASSERT_STR_EQ(out, want);
    ASSERT_EQ(ctl("call", stext, "by pid", NULL), 0);
    ASSERT_STR_EQ(out, "BY PID\n");
    /* the library sees the same */
    roster_buf reply;
    roster_pid who;
    ASSERT_EQ(roster_call(a, roster_self(a), sp, "abc", 3, &reply, &who, 5000), 0);
    ASSERT_MEM_EQ(reply.data, reply.len, "ABC", 3);
    ASSERT(roster_pid_equal(who, sp));
    roster_buf_free(&reply);
    /* a message that is not a call gets no command run and no reply */
    ASSERT_EQ(roster_send(a, roster_self(a), sp, "plain", 5, ROSTER_SEND_CONFIRM, 5000), 0);
    ASSERT_EQ(ctl("--json", "call", "nobody", "x", NULL), 1);
    HAS("\"error\":\"ENOTFOUND\"");

    /* a failing command: no reply, the call times out (exit 2) */
    struct ctl_proc bad;
    spawn(&bad, (const char *const[]){"register", "failing", "--reply-with", "cat; exit 3",
                                      NULL});
    pid_line(&bad, stext, sizeof stext);
    ASSERT_EQ(ctl("--json", "--timeout", "300", "call", "failing", "x", NULL), 2);
    HAS("\"error\":\"ETIMEDOUT\"");

    /* multi-call: one member answers through its command, one never answers */
    struct ctl_proc w;
    spawn(&w, (const char *const[]){"join", "pool", "--reply-with", "tr a-z A-Z", NULL});
    char wtext[64];
    pid_line(&w, wtext, sizeof wtext);
    roster_client *mute = lib_connect();
    char mtext[ROSTER_PID_STRLEN];
    roster_pid_format(roster_self(mute), mtext);
    ASSERT_EQ(roster_join(mute, NULL, "pool", 4, roster_self(mute), "", 0, 5000), 0);
    ASSERT_EQ(ctl("--json", "--timeout", "500", "multi-call", "pool", "q", NULL), 0);
    snprintf(want, sizeof want, "{\"replies\":[{\"pid\":\"%s\",\"reply\":\"Q\"}],\"bad\":[\"%s\"]}\n",
             wtext, mtext);
    ASSERT_STR_EQ(out, want);
    ASSERT_EQ(ctl("--timeout", "500", "multi-call", "pool", "z", NULL), 0);
    snprintf(want, sizeof want, "%s Z\nbad %s\n", wtext, mtext);
    ASSERT_STR_EQ(out, want);
    ASSERT_EQ(wait_exit(&srv), 0);
    ASSERT_EQ(wait_exit(&bad), 0);
    ASSERT_EQ(wait_exit(&w), 0);
    roster_close(mute);
    roster_close(a);
    test_node_stop_ok(&node);
}

TEST_MAIN(T(test_json_validator), T(test_send_and_publish), T(test_recv_prints_messages),
          T(test_call_and_reply_with))
