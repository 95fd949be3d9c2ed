/* test_chan_users.c: access rules on direct channels (docs/MESSAGING.md "Direct channels",
 * docs/SECURITY.md), with clients running as two real users the test creates (useradd; the
 * test needs root and skips without it), as in test_acl_users.c. With a rule that refuses
 * b's sends and calls to other users' pids, a's many messages to b make no channel (asked
 * for: EACCES; counted in channels_refused), every message is relayed by the node and
 * arrives in order, and b's send back is refused by the rule. The same two users under
 * `allow *` do get a channel: the refusal is the rule's, not the setup's. */
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "roster.h"
#include "test.h"
#include "rclient.h"

#define N_MSGS 40

static char user_a[32], user_b[32];
static int users_made;

static int run(const char *const *argv)
{
    char out[4096];
    return test_run_cmd(argv, out, sizeof out);
}

static void drop_users(void *arg)
{
    (void)arg;
    if (!users_made)
        return;
    const char *da[] = {"/usr/sbin/userdel", user_a, NULL};
    const char *db[] = {"/usr/sbin/userdel", user_b, NULL};
    run(da);
    run(db);
    users_made = 0;
}

static void make_users(void)
{
    if (geteuid() != 0)
        test_skip("needs root to create users and switch to them");
    if (access("/usr/sbin/useradd", X_OK) != 0)
        test_skip("no useradd");
    if (users_made)
        return;
    int tag = (int)(getpid() % 100000);
    snprintf(user_a, sizeof user_a, "rschna%d", tag);
    snprintf(user_b, sizeof user_b, "rschnb%d", tag);
    users_made = 1;
    test_on_fail(drop_users, NULL);
    const char *a[] = {"/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", user_a, NULL};
    const char *b[] = {"/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", user_b, NULL};
    ASSERT_EQ(run(a), 0);
    ASSERT_EQ(run(b), 0);
}

/* children report a failed check by exit status (the line), never run the parent's cleanups */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "child check failed at line %d: %s\n", __LINE__, #c);                  \
            _exit(__LINE__ % 250 + 1);                                                             \
        }                                                                                          \
    } while (0)

/* spawn_as runs fn(sock, arg) in a child process as user name; returns its pid. */
static pid_t spawn_as(const char *name, const char *sock, void (*fn)(const char *, void *),
                      void *arg)
{
    struct passwd *pw = getpwnam(name);
    ASSERT(pw != NULL);
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    fflush(NULL);
    pid_t p = fork();
    ASSERT(p >= 0);
    if (p == 0) {
        if (initgroups(name, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
            _exit(250);
        alarm(60);
        fn(sock, arg);
        _exit(0);
    }
    return p;
}

static int reap(pid_t p)
{
    int st;
    ASSERT_EQ(waitpid(p, &st, 0), p);
    ASSERT(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static roster_client *conn(const char *sock)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    roster_client *c = NULL;
    if (roster_connect(&c, &o) != 0)
        _exit(249);
    return c;
}

struct pipes {
    int allowed;
    int b_pid_w, b_pid_r; /* b tells its pid */
    int done_w, done_r;   /* closed by the parent once b has checked everything */
    roster_pid b_pid;
};

/* a: asks for a channel to b, sends N_MSGS messages by pid, stays until b is done */
static void child_a(const char *sock, void *arg)
{
    struct pipes *p = arg;
    close(p->done_w); /* the parent's: its close is the signal to go */
    roster_client *c = conn(sock);
    roster_pid me = roster_self(c);
    int r = roster_channel_open(c, p->b_pid, 5000);
    CHECK(p->allowed ? r == 0 : r == ROSTER_EACCES);
    for (uint64_t i = 0; i < N_MSGS; i++) {
        char buf[32];
        memset(buf, 'a', sizeof buf);
        memcpy(buf, &i, 8);
        CHECK(roster_send(c, me, p->b_pid, buf, sizeof buf, 0, 5000) == 0);
    }
    CHECK(roster_flush(c, 5000) == 0);
    roster_channel_info st;
    CHECK(roster_channel_stats(c, &st) == 0);
    if (p->allowed) {
        CHECK(st.opened >= 1);
        CHECK(st.sent >= N_MSGS - 1); /* all but the first went on the channel */
    } else {
        CHECK(st.opened == 0 && st.open == 0 && st.sent == 0);
    }
    char x;
    while (read(p->done_r, &x, 1) > 0)
        ;
    roster_close(c);
}

/* b: takes a's messages in order, then sends one back (refused under the deny rule) */
static void child_b(const char *sock, void *arg)
{
    struct pipes *p = arg;
    roster_client *c = conn(sock);
    roster_pid me = roster_self(c);
    CHECK(write(p->b_pid_w, &me, sizeof me) == sizeof me);
    roster_pid from = {0, 0};
    for (uint64_t i = 0; i < N_MSGS; i++) {
        roster_event ev;
        CHECK(roster_wait_event(c, &ev, 20000) == 0);
        CHECK(ev.type == ROSTER_EV_MESSAGE);
        uint64_t seq = UINT64_MAX;
        CHECK(ev.meta.len >= 8);
        memcpy(&seq, ev.meta.data, 8);
        CHECK(seq == i);
        from = ev.pid;
        roster_event_free(&ev);
    }
    roster_channel_info st;
    CHECK(roster_channel_stats(c, &st) == 0);
    if (p->allowed) {
        CHECK(st.opened >= 1 && st.received >= N_MSGS - 1);
        CHECK(roster_send(c, me, from, "back", 4, ROSTER_SEND_CONFIRM, 5000) == 0);
    } else {
        CHECK(st.opened == 0 && st.received == 0); /* all of it came through the node */
        CHECK(roster_send(c, me, from, "back", 4, ROSTER_SEND_CONFIRM, 5000) == ROSTER_EACCES);
        CHECK(strstr(roster_errdetail(c), "rule line 1") != NULL);
    }
    roster_close(c);
}

static void one_run(int allowed)
{
    char dir[] = "/tmp/rschnXXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    chmod(dir, 0755);
    char acl[300], text[256];
    snprintf(acl, sizeof acl, "%s/acl", dir);
    if (allowed)
        snprintf(text, sizeof text, "allow *\n");
    else
        snprintf(text, sizeof text, "deny user=%s op=send,call\nallow *\n", user_b);
    FILE *f = fopen(acl, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
    chmod(acl, 0644);
    const char *args[] = {"--acl", acl, NULL};
    struct test_node n;
    test_node_start(&n, args);
    chmod(n.dir, 0755);

    struct pipes p;
    memset(&p, 0, sizeof p);
    p.allowed = allowed;
    int bp[2], dp[2];
    ASSERT_EQ(pipe(bp), 0);
    ASSERT_EQ(pipe(dp), 0);
    p.b_pid_w = bp[1];
    p.b_pid_r = bp[0];
    p.done_w = dp[1];
    p.done_r = dp[0];
    pid_t b = spawn_as(user_b, n.sock, child_b, &p);
    close(bp[1]);
    ASSERT_EQ(read(bp[0], &p.b_pid, sizeof p.b_pid), (ssize_t)sizeof p.b_pid);
    pid_t a = spawn_as(user_a, n.sock, child_a, &p);
    close(dp[0]);
    ASSERT_EQ(reap(b), 0);
    close(dp[1]); /* a may go now */
    ASSERT_EQ(reap(a), 0);
    close(bp[0]);
    uint64_t refused = test_stat_at(n.sock, "channels_refused");
    uint64_t opened = test_stat_at(n.sock, "channels_opened");
    printf("  %s: channels opened %llu, refused %llu\n", allowed ? "allow *" : "deny b send",
           (unsigned long long)opened, (unsigned long long)refused);
    if (allowed) {
        ASSERT(opened >= 1);
        ASSERT_U64_EQ(refused, 0);
    } else {
        ASSERT_U64_EQ(opened, 0);
        ASSERT(refused >= 1);
    }
    test_node_stop_ok(&n);
    unlink(acl);
    rmdir(dir);
}

static void test_rule_refuses_channel(void)
{
    make_users();
    one_run(0);
    one_run(1);
    drop_users(NULL);
}

TEST_MAIN(T(test_rule_refuses_channel))
