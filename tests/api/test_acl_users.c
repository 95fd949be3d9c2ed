/* test_acl_users.c: rosterd --acl with clients running as two real users the test creates
 * (useradd; the test needs root and skips without it). Each client is a forked child that
 * drops to its user (initgroups, setgid, setuid) and talks to the node through libroster,
 * so the node sees the uid and gids the kernel reports. Proves each kind of rule (register
 * and join by prefix and scope, read, subscribe, send to another uid, log-level, connect,
 * group rules), that a refused reader learns no name through lookups, listings, counts,
 * events or the shared-memory region, that a broken file is refused at start and at SIGHUP
 * with its line while the old rules stay, and the socket's owner, group and mode flags. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "roster.h"
#include "test.h"
#include "rclient.h"

static char user_a[32], user_b[32], group_g[32];
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
    const char *dg[] = {"/usr/sbin/groupdel", group_g, NULL};
    run(da);
    run(db);
    run(dg);
    users_made = 0;
}

/* make_users creates two throwaway users with their own groups, user a also in group g. */
static void make_users(void)
{
    if (geteuid() != 0)
        test_skip("needs root to create users and switch to them");
    if (access("/usr/sbin/useradd", X_OK) != 0)
        test_skip("no useradd");
    if (users_made)
        return;
    int tag = (int)(getpid() % 100000);
    snprintf(user_a, sizeof user_a, "rsacla%d", tag);
    snprintf(user_b, sizeof user_b, "rsaclb%d", tag);
    snprintf(group_g, sizeof group_g, "rsaclg%d", tag);
    users_made = 1;
    test_on_fail(drop_users, NULL);
    const char *g[] = {"/usr/sbin/groupadd", group_g, NULL};
    const char *a[] = {
        "/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "-G", group_g, user_a, NULL};
    const char *b[] = {"/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", user_b, NULL};
    ASSERT_EQ(run(g), 0);
    ASSERT_EQ(run(a), 0);
    ASSERT_EQ(run(b), 0);
}

static uid_t uid_of(const char *name)
{
    struct passwd *pw = getpwnam(name);
    ASSERT(pw != NULL);
    return pw->pw_uid;
}

/* --- children: CHECK exits with its line, never runs the parent's failure cleanups --- */

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "child check failed at line %d: %s\n", __LINE__, #c);                  \
            _exit(__LINE__ % 250 + 1);                                                             \
        }                                                                                          \
    } while (0)

typedef void (*child_fn)(const char *sock, void *arg);

/* as_user runs fn in a child as user name; returns its exit status (0: every check held). */
static int as_user(const char *name, const char *sock, child_fn fn, void *arg)
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
    int r = roster_connect(&c, &o);
    if (r != 0) {
        fprintf(stderr, "connect: %s\n", roster_strerror(r));
        _exit(249);
    }
    return c;
}

static int detail_has(roster_client *c, const char *what)
{
    return strstr(roster_errdetail(c), what) != NULL;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
    chmod(path, 0644);
}

static int log_has(const struct test_node *n, const char *text, int ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)ms;
    static char buf[1 << 20];
    do {
        int fd = open(n->log, O_RDONLY);
        if (fd >= 0) {
            ssize_t r = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (r > 0) {
                buf[r] = 0;
                if (strstr(buf, text))
                    return 1;
            }
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    } while (test_now_ms() < deadline);
    return 0;
}

/* The policy: a may hold names and groups under a/ in default; nobody else may register or
 * join; b may not read or subscribe to a/ names, nor send to other users' pids; members of
 * group g (a) may change the log level, others may not. Rules are on lines 2 to 8. */
#define POLICY_FMT                                                                                 \
    "# test policy\n"                                                                              \
    "allow user=%s op=register,join scope=default prefix=a/\n"                                     \
    "deny * op=register,join\n"                                                                    \
    "deny user=%s op=read,subscribe prefix=a/\n"                                                   \
    "deny user=%s op=send,call\n"                                                                  \
    "allow group=%s op=log-level\n"                                                                \
    "deny * op=log-level\n"                                                                        \
    "allow *\n"

static roster_pid a_pid; /* a's first pid, learned from the holder child through a pipe */

/* child a: registers, joins, then holds its names until its stdin (a pipe) closes */
struct holder_arg {
    int ready_w, done_r;
};

static void child_a_holds(const char *sock, void *arg)
{
    struct holder_arg *h = arg;
    roster_client *c = conn(sock);
    roster_pid me = roster_self(c);
    CHECK(roster_register(c, "default", "a/primary", 9, me, "m", 1, NULL, 5000) == 0);
    CHECK(roster_join(c, "default", "a/workers", 9, me, NULL, 0, 5000) == 0);
    /* outside its prefix, or in another scope: refused naming the rule */
    CHECK(roster_register(c, "default", "b/x", 3, me, NULL, 0, NULL, 5000) == ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 3"));
    CHECK(roster_scope_create(c, "other", ROSTER_SCOPE_EVENTUAL, 5000) == 0);
    CHECK(roster_register(c, "other", "a/x", 3, me, NULL, 0, NULL, 5000) == ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 3"));
    /* it reads its own names, and may change the log level (group g) */
    roster_entry e;
    CHECK(roster_lookup(c, "default", "a/primary", 9, &e, 5000) == 0);
    roster_entry_free(&e);
    CHECK(roster_log_level(c, "info", 5000) == 0);
    CHECK(write(h->ready_w, &me, sizeof me) == sizeof me);
    char x;
    while (read(h->done_r, &x, 1) > 0)
        ;
    roster_close(c);
}

static void child_b(const char *sock, void *arg)
{
    (void)arg;
    roster_client *c = conn(sock);
    roster_pid me = roster_self(c);
    /* no registering, no joining */
    CHECK(roster_register(c, "default", "a/primary", 9, me, NULL, 0, NULL, 5000) == ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 3"));
    CHECK(roster_join(c, "default", "a/workers", 9, me, NULL, 0, 5000) == ROSTER_EACCES);
    /* no reading a/: lookup (shared memory or socket), members, is-member, listings, counts */
    roster_entry e;
    CHECK(roster_lookup(c, "default", "a/primary", 9, &e, 5000) == ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 4"));
    CHECK(roster_lookup(c, "default", "a/nothing", 9, &e, 5000) == ROSTER_EACCES);
    CHECK(roster_lookup(c, "default", "zzz", 3, &e, 5000) == ROSTER_ENOTFOUND);
    roster_entries l;
    CHECK(roster_members(c, "default", "a/workers", 9, 0, &l, 5000) == ROSTER_EACCES);
    CHECK(roster_is_member(c, "default", "a/workers", 9, a_pid, 5000) == ROSTER_EACCES);
    CHECK(roster_names(c, "default", NULL, 0, (roster_pid){0, 0}, 0, &l, 5000) == ROSTER_EACCES);
    CHECK(roster_groups(c, "default", "a", 1, (roster_pid){0, 0}, 0, &l, 5000) == ROSTER_EACCES);
    CHECK(roster_names(c, "default", "c/", 2, (roster_pid){0, 0}, 0, &l, 5000) == 0);
    CHECK(l.n == 0);
    roster_entries_free(&l);
    roster_counts n;
    CHECK(roster_count(c, "default", NULL, &n, 5000) == ROSTER_EACCES);
    CHECK(roster_scopes(c, &l, 5000) == ROSTER_EACCES);
    /* no subscribing to what covers a/; a disjoint prefix is allowed and stays silent */
    uint64_t sub;
    CHECK(roster_subscribe(c, "default", NULL, 0, ROSTER_SUB_SNAPSHOT, &sub, 5000) ==
          ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 4"));
    CHECK(roster_subscribe(c, "default", "a/primary", 9, 0, &sub, 5000) == ROSTER_EACCES);
    CHECK(roster_subscribe(c, "default", "c/", 2, ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT, &sub,
                           5000) == 0);
    /* no sending to a's pid; to its own pids it may */
    CHECK(roster_send(c, me, a_pid, "hi", 2, ROSTER_SEND_CONFIRM, 5000) == ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 5"));
    CHECK(roster_send_name(c, me, "default", "a/primary", 9, "hi", 2, ROSTER_SEND_CONFIRM, 5000) ==
          ROSTER_EACCES);
    roster_pid mine;
    CHECK(roster_pid_new(c, &mine, 5000) == 0);
    CHECK(roster_send(c, me, mine, "hi", 2, ROSTER_SEND_CONFIRM, 5000) == 0);
    /* no log level (not in group g) */
    CHECK(roster_log_level(c, "debug", 5000) == ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 7"));
    /* the events it got: the snapshot's end and its own message, nothing of a/ */
    roster_event ev;
    int got = 0;
    while (roster_wait_event(c, &ev, 300) == 0) {
        if (ev.name.len)
            CHECK(!(ev.name.len >= 2 && !memcmp(ev.name.data, "a/", 2)));
        got++;
        roster_event_free(&ev);
    }
    CHECK(got >= 1);
    roster_close(c);
}

static void child_connect_refused(const char *sock, void *arg)
{
    (void)arg;
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    roster_client *c = NULL;
    int r = roster_connect(&c, &o);
    CHECK(r == ROSTER_EACCES);
}

static void child_lookup_refused_line(const char *sock, void *arg)
{
    unsigned line = *(unsigned *)arg;
    roster_client *c = conn(sock);
    roster_entry e;
    CHECK(roster_lookup(c, "default", "a/primary", 9, &e, 5000) == ROSTER_EACCES);
    char want[32];
    snprintf(want, sizeof want, "rule line %u", line);
    CHECK(detail_has(c, want));
    roster_close(c);
}

static void child_lookup_ok(const char *sock, void *arg)
{
    (void)arg;
    roster_client *c = conn(sock);
    roster_entry e;
    CHECK(roster_lookup(c, "default", "a/primary", 9, &e, 5000) == 0);
    roster_entry_free(&e);
    roster_close(c);
}

static void test_rules_by_user(void)
{
    make_users();
    struct test_node n;
    char acl[400], text[2048];
    /* the node's directory must be reachable by the test users */
    char dir[] = "/tmp/rsaclXXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    chmod(dir, 0755);
    snprintf(acl, sizeof acl, "%s/acl", dir);
    snprintf(text, sizeof text, POLICY_FMT, user_a, user_b, user_b, group_g);
    write_text(acl, text);
    const char *args[] = {"--acl", acl, NULL};
    test_node_start(&n, args);
    chmod(n.dir, 0755);
    ASSERT(log_has(&n, "access rules: 7 rule(s)", 5000));

    int ready[2], done[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(done), 0);
    struct holder_arg ha = {ready[1], done[0]};
    /* a holds its names in a child that outlives the next checks */
    fflush(NULL);
    pid_t holder = fork();
    ASSERT(holder >= 0);
    if (holder == 0) {
        close(ready[0]);
        close(done[1]);
        _exit(as_user(user_a, n.sock, child_a_holds, &ha));
    }
    close(ready[1]);
    close(done[0]);
    ASSERT_EQ(read(ready[0], &a_pid, sizeof a_pid), (ssize_t)sizeof a_pid);

    ASSERT_EQ(as_user(user_b, n.sock, child_b, NULL), 0);
    /* refusals are counted and logged */
    ASSERT(test_stat_at(n.sock, "acl_refusals") >= 15);
    ASSERT(log_has(&n,
                   "refused: op register on scope 'default' key 'a/primary' denied by "
                   "access rule line 3",
                   5000));

    /* SIGHUP: a broken file is refused with its line, the old rules stay ... */
    snprintf(text, sizeof text, "allow *\nallow user=%s\n", user_b);
    write_text(acl, text);
    kill(n.pid, SIGHUP);
    ASSERT(log_has(&n, ":2: rule after the default rule of line 1", 5000));
    unsigned line4 = 4;
    ASSERT_EQ(as_user(user_b, n.sock, child_lookup_refused_line, &line4), 0);
    /* ... a good one replaces them */
    write_text(acl, "allow *\n");
    kill(n.pid, SIGHUP);
    ASSERT(log_has(&n, "config reload: access rules: 1 rule(s)", 5000));
    ASSERT_EQ(as_user(user_b, n.sock, child_lookup_ok, NULL), 0);
    /* and a connect rule turns b away at the handshake */
    snprintf(text, sizeof text, "deny user=%s op=connect\nallow *\n", user_b);
    write_text(acl, text);
    kill(n.pid, SIGHUP);
    ASSERT(log_has(&n, "config reload: access rules: 2 rule(s)", 5000));
    ASSERT_EQ(as_user(user_b, n.sock, child_connect_refused, NULL), 0);
    /* group rules: members of g (a) are refused reads, b is not */
    snprintf(text, sizeof text, "deny group=%s op=read\nallow *\n", group_g);
    write_text(acl, text);
    kill(n.pid, SIGHUP);
    ASSERT(log_has(&n, "config reload: access rules: 2 rule(s)", 5000));
    uint64_t deadline = test_now_ms() + 5000;
    while (test_stat_at(n.sock, "acl_rules") != 2 && test_now_ms() < deadline)
        ;
    unsigned line1 = 1;
    ASSERT_EQ(as_user(user_a, n.sock, child_lookup_refused_line, &line1), 0);
    ASSERT_EQ(as_user(user_b, n.sock, child_lookup_ok, NULL), 0);

    close(done[1]);
    int st;
    ASSERT_EQ(waitpid(holder, &st, 0), holder);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(ready[0]);
    test_node_stop_ok(&n);
    unlink(acl);
    rmdir(dir);
    drop_users(NULL);
}

/* child_watch subscribes to everything, says so on ready_w, then expects its subscription
 * to end (an OVERFLOW event) once the parent reloads rules that deny it, and a new
 * subscription to be refused naming the rule. */
static void child_watch(const char *sock, void *arg)
{
    int ready_w = *(int *)arg;
    roster_client *c = conn(sock);
    uint64_t sub;
    CHECK(roster_subscribe(c, "default", NULL, 0, ROSTER_SUB_ALL, &sub, 5000) == 0);
    char x = 1;
    CHECK(write(ready_w, &x, 1) == 1);
    roster_event ev;
    int ended = 0;
    for (int i = 0; i < 100 && !ended; i++) { /* up to 30 s */
        int r = roster_wait_event(c, &ev, 300);
        if (r == 0) {
            ended = ev.type == ROSTER_EV_OVERFLOW && ev.id == sub;
            roster_event_free(&ev);
        }
    }
    CHECK(ended);
    CHECK(roster_subscribe(c, "default", NULL, 0, ROSTER_SUB_ALL, &sub, 5000) == ROSTER_EACCES);
    CHECK(detail_has(c, "rule line 1"));
    roster_close(c);
}

/* SIGHUP with rules that deny a live subscription ends it: the reader learns nothing more. */
static void test_reload_ends_subscription(void)
{
    make_users();
    struct test_node n;
    char dir[] = "/tmp/rsaclXXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    chmod(dir, 0755);
    char acl[300], text[512];
    snprintf(acl, sizeof acl, "%s/acl", dir);
    write_text(acl, "allow *\n");
    const char *args[] = {"--acl", acl, NULL};
    test_node_start(&n, args);
    chmod(n.dir, 0755);
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    fflush(NULL);
    pid_t w = fork();
    ASSERT(w >= 0);
    if (w == 0) {
        close(ready[0]);
        _exit(as_user(user_b, n.sock, child_watch, &ready[1]));
    }
    close(ready[1]);
    char x;
    ASSERT_EQ(read(ready[0], &x, 1), 1);
    snprintf(text, sizeof text, "deny user=%s op=subscribe\nallow *\n", user_b);
    write_text(acl, text);
    kill(n.pid, SIGHUP);
    ASSERT(log_has(&n, "config reload: access rules: 2 rule(s)", 5000));
    int st;
    ASSERT_EQ(waitpid(w, &st, 0), w);
    ASSERT(WIFEXITED(st));
    ASSERT_EQ(WEXITSTATUS(st), 0);
    ASSERT(log_has(&n, "ended: denied by access rule line 1", 5000));
    close(ready[0]);
    test_node_stop_ok(&n);
    unlink(acl);
    rmdir(dir);
    drop_users(NULL);
}

/* A file that does not parse stops the node at start: exit 2, the file and line named. */
static void test_refused_at_start(void)
{
    char dir[] = "/tmp/rsaclXXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    char acl[300], sock[300];
    snprintf(acl, sizeof acl, "%s/acl", dir);
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    write_text(acl, "allow user=0 op=read\ndeny * op=fly\nallow *\n");
    char err[300];
    snprintf(err, sizeof err, "%s/err", dir);
    fflush(NULL);
    pid_t p = fork();
    ASSERT(p >= 0);
    if (p == 0) {
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execl(ROSTERD_PATH, "rosterd", "--config", "/dev/null", "--socket", sock, "--acl", acl,
              (char *)NULL);
        _exit(127);
    }
    int st;
    ASSERT_EQ(waitpid(p, &st, 0), p);
    ASSERT(WIFEXITED(st));
    ASSERT_EQ(WEXITSTATUS(st), 2);
    char buf[1024] = "";
    FILE *f = fopen(err, "r");
    ASSERT(f != NULL);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = 0;
    fclose(f);
    char want[400];
    snprintf(want, sizeof want, "--acl %s:2: op=: unknown operation 'fly'", acl);
    if (!strstr(buf, want))
        test_fail(__FILE__, __LINE__, "stderr: %s", buf);
    ASSERT(access(sock, F_OK) != 0); /* it never listened */
    unlink(acl);
    unlink(err);
    rmdir(dir);
}

static void child_connect_fails(const char *sock, void *arg)
{
    (void)arg;
    roster_options o;
    roster_options_init(&o);
    o.socket_path = sock;
    roster_client *c = NULL;
    CHECK(roster_connect(&c, &o) == ROSTER_ECONNECT);
}

static void child_connect_ok(const char *sock, void *arg)
{
    (void)arg;
    roster_close(conn(sock));
}

/* --socket-owner, --socket-group and --socket-mode: the kernel keeps out who the mode
 * excludes, before any rule is read. */
static void test_socket_flags(void)
{
    make_users();
    struct test_node n;
    const char *args[] = {"--socket-owner", user_a, "--socket-group", user_b, "--socket-mode",
                          "0660",           NULL};
    test_node_start(&n, args);
    chmod(n.dir, 0755);
    struct stat st;
    ASSERT_EQ(stat(n.sock, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0660);
    ASSERT_EQ(st.st_uid, uid_of(user_a));
    struct group *g = getgrnam(user_b);
    ASSERT(g != NULL);
    ASSERT_EQ(st.st_gid, g->gr_gid);
    ASSERT_EQ(as_user(user_a, n.sock, child_connect_ok, NULL), 0); /* owner */
    ASSERT_EQ(as_user(user_b, n.sock, child_connect_ok, NULL), 0); /* group */
    test_node_stop_ok(&n);
    /* a mode for the owner only keeps the group out */
    const char *args2[] = {"--socket-owner", user_a, "--socket-mode", "600", NULL};
    test_node_start(&n, args2);
    chmod(n.dir, 0755);
    ASSERT_EQ(as_user(user_a, n.sock, child_connect_ok, NULL), 0);
    ASSERT_EQ(as_user(user_b, n.sock, child_connect_fails, NULL), 0);
    test_node_stop_ok(&n);
    drop_users(NULL);
}

TEST_MAIN(T(test_rules_by_user), T(test_reload_ends_subscription), T(test_refused_at_start),
          T(test_socket_flags))
