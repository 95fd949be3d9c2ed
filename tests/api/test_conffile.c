/* test_conffile.c: rosterd's config file (--config FILE). Precedence (flags win, a flag
 * replaces every value of a repeatable key), every flag's key parses, malformed files are
 * refused with file:line and the reason, and SIGHUP reloads: the log level change shows in
 * what the node logs, a grown limit shows in what clients may do, a setting that needs a
 * restart is logged as such and left alone, and a broken file changes nothing. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "node/config.h"
#include "node/log.h"
#include "roster.h"
#include "test.h"

static char g_dir[64];

static void remove_dir(void *arg);
static void remove_dir_at_exit(void) { remove_dir(g_dir); }

static void remove_dir(void *arg)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (const char *)arg);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", (const char *)arg);
}

/* make_dir makes the test's directory, removed when the test process exits. */
static void make_dir(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/roster-conf-XXXXXX");
    ASSERT(mkdtemp(g_dir));
    static int registered;
    if (!registered++)
        atexit(remove_dir_at_exit);
}

static const char *write_bytes(const char *name, const char *text, size_t len);

static const char *write_file(const char *name, const char *text)
{
    return write_bytes(name, text, strlen(text));
}

static const char *write_bytes(const char *name, const char *text, size_t len)
{
    static char path[4][256];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 256, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    ASSERT(f);
    ASSERT_EQ(fwrite(text, 1, len, f), len);
    ASSERT_EQ(fclose(f), 0);
    return p;
}

/* parse runs rs_config_parse on argv (NULL-terminated) with the messages in err. */
static int parse(struct rsd_config *cfg, const char *const *args, char *err, size_t cap)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "rosterd";
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    FILE *e = fmemopen(err, cap, "w");
    ASSERT(e);
    setvbuf(e, NULL, _IONBF, 0);
    int r = rs_config_parse(cfg, argc, argv, e, e);
    fclose(e);
    return r;
}

static void test_precedence(void)
{
    make_dir();
    const char *p = write_file("a.conf", "# comment\n\n  name = fromfile  \nlog-level=debug\n"
                                         "scope = s1\nscope = s2\nmax-connections = 77\n"
                                         "\tlog-format\t=\tjson\n");
    static struct rsd_config cfg;
    char err[1024] = "";
    const char *a1[] = {"--config", p, NULL};
    ASSERT_EQ(parse(&cfg, a1, err, sizeof err), RS_CONFIG_OK);
    ASSERT_STR_EQ(cfg.name, "fromfile");
    ASSERT_EQ(cfg.log_level, RS_LOG_DEBUG);
    ASSERT_EQ(cfg.log_format, RS_LOG_FORMAT_JSON);
    ASSERT_EQ(cfg.limits.conns_max, 77);
    ASSERT_EQ(cfg.n_scopes, 2);
    ASSERT_STR_EQ(cfg.scopes[1], "s2");
    ASSERT_STR_EQ(cfg.config_path, p);
    rs_config_free(&cfg);
    /* flags win, in both spellings; a repeatable flag replaces all the file's values */
    const char *a2[] = {"--name", "fromflag", "--config", p, "--scope=s3",
                        "--max-connections=88", NULL};
    ASSERT_EQ(parse(&cfg, a2, err, sizeof err), RS_CONFIG_OK);
    ASSERT_STR_EQ(cfg.name, "fromflag");
    ASSERT_EQ(cfg.limits.conns_max, 88);
    ASSERT_EQ(cfg.n_scopes, 1);
    ASSERT_STR_EQ(cfg.scopes[0], "s3");
    ASSERT_EQ(cfg.log_level, RS_LOG_DEBUG); /* not on the command line: the file's */
    rs_config_free(&cfg);
    /* --help works whatever the file holds */
    const char *bad = write_file("bad.conf", "garbage\n");
    const char *a3[] = {"--config", bad, "--help", NULL};
    static char out[16384];
    ASSERT_EQ(parse(&cfg, a3, out, sizeof out), RS_CONFIG_HELP);
    ASSERT(strstr(out, "--config FILE"));
    ASSERT(strstr(out, "--log-format"));
    ASSERT(strstr(out, "--http"));
}

/* A valid value for every key; the test fails when a flag is added without one here. */
static const char *sample_value(const char *key, const char *cookie, const char *dir)
{
    static const char *const kv[][2] = {
        {"name", "n1"}, {"listen", "127.0.0.1:7555"}, {"socket", "/tmp/x.sock"},
        {"join", "127.0.0.1:7556,127.0.0.1:7557"}, {"scope", "s"}, {"log-level", "warn"},
        {"heartbeat-ms", "200"}, {"down-after-ms", "4000"}, {"conflict-policy", "newest"},
        {"priority", "a=3"}, {"resolver", "/nonexistent.so"}, {"etcd", "127.0.0.1:2379"},
        {"etcd-prefix", "/r/"}, {"etcd-lease-ttl-ms", "5000"}, {"etcd-timeout-ms", "1000"},
        {"log-format", "json"}, {"http", "127.0.0.1:9999"}, {"max-name-bytes", "512"},
        {"max-meta-bytes", "1000"}, {"max-frame-bytes", "2097152"},
        {"max-connections", "10"}, {"max-pids-per-client", "5"},
        {"max-entries-per-client", "9"}, {"max-subscriptions-per-client", "3"},
        {"max-monitors-per-client", "4"}, {"queue-bytes", "100000"},
        {"outbuf-bytes", "300000000"}, {"stall-timeout-ms", "1000"},
        {"max-message-bytes", "1000"}, {"mailbox-bytes", "5000"}, {"shm-bytes", "33554432"}, {"max-channels", "8"},
        {"socket-owner", "0"}, {"socket-group", "root"}, {"socket-mode", "0660"},
        {"max-memory", "67108864"}, {"client-rate", "5000"}, {"client-burst", "200"},
    };
    /* files: the cookie (and the next one of a cookie rotation), etcd's PEM files */
    if (!strncmp(key, "cookie-file", 11) || !strcmp(key, "etcd-ca") ||
        !strcmp(key, "etcd-cert") || !strcmp(key, "etcd-key") ||
        (!strncmp(key, "peer-tls-", 9) && strcmp(key, "peer-tls-names")))
        return cookie;
    if (!strcmp(key, "peer-tls-names"))
        return "strict";
    if (!strcmp(key, "data-dir"))
        return dir;
    if (!strcmp(key, "acl")) { /* a rule file: the default decision alone */
        static char acl[300];
        snprintf(acl, sizeof acl, "%s/acl", dir);
        FILE *f = fopen(acl, "w");
        if (f) {
            fputs("allow *\n", f);
            fclose(f);
        }
        return acl;
    }
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (!strcmp(kv[i][0], key))
            return kv[i][1];
    return NULL;
}

static void test_every_key_parses(void)
{
    make_dir();
    const char *cookie = write_file("cookie", "0123456789abcdef0123456789abcdef\n");
    static char cookie_path[256];
    snprintf(cookie_path, sizeof cookie_path, "%s", cookie);
    size_t n = 0;
    for (const char *key; (key = rs_config_key(n)); n++) {
        const char *v = sample_value(key, cookie_path, g_dir);
        if (!v)
            test_fail(__FILE__, __LINE__, "key '%s' has no sample value in this test", key);
        /* keys that only make sense with another: give it too */
        char text[2048];
        const char *extra = !strncmp(key, "etcd-", 5) ? "etcd = https://127.0.0.1:2379\n"
                            : !strcmp(key, "etcd-cert") ? "" : "";
        if (!strcmp(key, "etcd-cert") || !strcmp(key, "etcd-key"))
            snprintf(text, sizeof text, "%setcd-ca = %s\netcd-cert = %s\netcd-key = %s\n",
                     extra, cookie_path, cookie_path, cookie_path);
        else if (!strncmp(key, "peer-tls-", 9)) /* the three together, on a cluster node */
            snprintf(text, sizeof text, "listen = 127.0.0.1:7000\npeer-tls-cert = %s\n"
                     "peer-tls-key = %s\npeer-tls-ca = %s\n%s = %s\n", cookie_path,
                     cookie_path, cookie_path, key, v);
        else if (!strncmp(key, "etcd-", 5))
            snprintf(text, sizeof text, "%setcd-ca = %s\n%s = %s\n", extra, cookie_path, key,
                     v);
        else
            snprintf(text, sizeof text, "%s = %s\n", key, v);
        const char *p = write_file("k.conf", text);
        static struct rsd_config cfg;
        char err[1024] = "";
        const char *args[] = {"--config", p, NULL};
        if (parse(&cfg, args, err, sizeof err) != RS_CONFIG_OK)
            test_fail(__FILE__, __LINE__, "key %s = %s refused: %s", key, v, err);
        /* and the same value as a flag gives the same configuration */
        static struct rsd_config flag_cfg;
        char flag[400];
        snprintf(flag, sizeof flag, "--%s=%s", key, v);
        const char *fargs[] = {"--config", p, flag, NULL};
        ASSERT_EQ(parse(&flag_cfg, fargs, err, sizeof err), RS_CONFIG_OK);
        ASSERT_EQ(memcmp(&cfg.limits, &flag_cfg.limits, sizeof cfg.limits), 0);
        ASSERT_STR_EQ(cfg.name, flag_cfg.name);
        ASSERT_EQ(cfg.log_level, flag_cfg.log_level);
        ASSERT_EQ(cfg.log_format, flag_cfg.log_format);
        ASSERT_EQ(cfg.http_port, flag_cfg.http_port);
        rs_config_free(&cfg);
        rs_config_free(&flag_cfg);
    }
    ASSERT(n >= 30);
    /* and a value that took: */
    const char *p = write_file("v.conf", "max-subscriptions-per-client = 3\nhttp = 9100\n");
    static struct rsd_config cfg;
    char err[512];
    const char *args[] = {"--config", p, NULL};
    ASSERT_EQ(parse(&cfg, args, err, sizeof err), RS_CONFIG_OK);
    ASSERT_EQ(cfg.limits.subs_per_client, 3);
    ASSERT_STR_EQ(cfg.http_host, "127.0.0.1"); /* a bare port is loopback */
    ASSERT_EQ(cfg.http_port, 9100);
    rs_config_free(&cfg);
}

static void refused_n(const char *text, size_t len, const char *want_line,
                      const char *want_reason)
{
    const char *p = write_bytes("e.conf", text, len);
    static struct rsd_config cfg;
    char err[1024] = "";
    const char *args[] = {"--config", p, NULL};
    ASSERT_EQ(parse(&cfg, args, err, sizeof err), RS_CONFIG_ERROR);
    char where[300];
    snprintf(where, sizeof where, "rosterd: %s:%s: ", p, want_line);
    if (!strstr(err, where) || !strstr(err, want_reason))
        test_fail(__FILE__, __LINE__, "for %s wanted '%s' and '%s', got: %s", text, where,
                  want_reason, err);
}

static void refused(const char *text, const char *want_line, const char *want_reason)
{
    refused_n(text, strlen(text), want_line, want_reason);
}

static void test_errors_with_lines(void)
{
    make_dir();
    refused("name = a\nbogus line\n", "2", "expected '=' after 'bogus'");
    refused("# c\n\nNAME = a\n", "3", "expected 'key = value'");
    refused("log_level = info\n", "1", "unexpected character '_' in the key 'log'");
    refused("name = a\nno-such-key = 1\n", "2", "unknown key 'no-such-key'");
    refused("max-connections = lots\n", "1", "--max-connections: 'lots' is not a number");
    refused("log-level = loud\n", "1", "--log-level 'loud'");
    refused("a\n= b\n", "1", "expected '=' after 'a'");
    refused("name = a\n= b\n", "2", "expected 'key = value'");
    refused("config = other.conf\n", "1", "'config' cannot be set in a config file");
    refused("name = a\x01z\n", "1", "control byte 0x01");
    refused_n("name = a\nname\x00 = b\n", 16, "2", "NUL byte");
    char longline[5000];
    memset(longline, 'x', sizeof longline);
    memcpy(longline, "name = ", 7);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = 0;
    refused(longline, "1", "line longer than 4096 bytes");
    /* a missing --config file is an error; the daemon exits 2 with the reason */
    char out[2048], path[300];
    snprintf(path, sizeof path, "%s/missing.conf", g_dir);
    const char *av[] = {ROSTERD_PATH, "--config", path, NULL};
    ASSERT_EQ(test_run_cmd(av, out, sizeof out), 2);
    const char *bad = write_file("bad.conf", "name = ok\nmax-frame-bytes = 1\n");
    const char *av2[] = {ROSTERD_PATH, "--config", bad, NULL};
    ASSERT_EQ(test_run_cmd(av2, out, sizeof out), 2);
    /* incoherent limits are refused after the whole file is read (no single line) */
    static struct rsd_config cfg;
    char err[1024];
    const char *args[] = {"--config", bad, NULL};
    ASSERT_EQ(parse(&cfg, args, err, sizeof err), RS_CONFIG_ERROR);
    ASSERT(strstr(err, "incoherent limits"));
}

/* log_has polls the node's log until it holds text (deadline ms). */
static int log_has(const struct test_node *n, const char *text, int ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)ms;
    static char buf[1 << 20];
    do {
        int fd = open(n->log, O_RDONLY);
        if (fd >= 0) {
            ssize_t r = read(fd, buf, sizeof buf - 1);
            close(fd);
            buf[r > 0 ? r : 0] = 0;
            if (strstr(buf, text))
                return 1;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    } while (test_now_ms() < deadline);
    return 0;
}

static roster_client *client(const struct test_node *n)
{
    roster_options o;
    roster_options_init(&o);
    o.socket_path = n->sock;
    o.client_name = "conf-test";
    roster_client *c = NULL;
    ASSERT_EQ(roster_connect(&c, &o), 0);
    return c;
}

static int subscribe(roster_client *c, const char *pat)
{
    uint64_t sub;
    return roster_subscribe(c, "default", pat, strlen(pat), ROSTER_SUB_REGISTRY, &sub, 5000);
}

static void test_sighup_reload(void)
{
    make_dir();
    char path[256];
    snprintf(path, sizeof path, "%s", write_file("r.conf",
             "name = first\nmax-subscriptions-per-client = 2\n"));
    struct test_node n;
    const char *args[] = {"--config", path, NULL}; /* the harness adds --log-level info */
    /* the harness's --log-level flag would win over the file: the file does not set it */
    test_node_start(&n, args);
    roster_client *c = client(&n);
    ASSERT_EQ(subscribe(c, "a"), 0);
    ASSERT_EQ(subscribe(c, "b"), 0);
    ASSERT_EQ(subscribe(c, "c"), ROSTER_ELIMIT);
    /* at info a client's close is not logged; at debug it is */
    roster_close(client(&n));
    ASSERT(log_has(&n, "disconnected", 5000));

    /* the limit grows, the format turns to JSON, the name needs a restart */
    write_file("r.conf", "name = second\nmax-subscriptions-per-client = 3\n"
                         "log-format = json\nmax-frame-bytes = 4194304\n");
    ASSERT_EQ(kill(n.pid, SIGHUP), 0);
    ASSERT(log_has(&n, "config reload: max-subscriptions-per-client: 2 -> 3", 5000));
    ASSERT(log_has(&n, "\"msg\":\"config reload: log-format: text -> json\"", 5000));
    ASSERT(log_has(&n, "config reload: name changed: needs a restart (not applied)", 5000));
    ASSERT(log_has(&n, "max-frame-bytes: 2097152 -> 4194304: needs a restart (not applied)",
                   5000));
    ASSERT(log_has(&n, "config reload done: 2 change(s) applied, 2 need a restart", 5000));
    ASSERT_EQ(subscribe(c, "c"), 0);          /* the grown limit holds for a live client */
    ASSERT_EQ(subscribe(c, "d"), ROSTER_ELIMIT);
    ASSERT_STR_EQ(roster_node_name(c), "first");

    /* a broken file changes nothing: logged with its line */
    write_file("r.conf", "name = second\nmax-subscriptions-per-client = 9\noops\n");
    ASSERT_EQ(kill(n.pid, SIGHUP), 0);
    char want[400];
    snprintf(want, sizeof want, "config reload failed, nothing changed: rosterd: %s:3: "
             "expected '=' after 'oops'", path);
    ASSERT(log_has(&n, want, 5000));
    ASSERT_EQ(subscribe(c, "d"), ROSTER_ELIMIT);
    roster_close(c);
    test_node_stop_ok(&n);
}

/* The log level: the harness passes --log-level info, which wins over the file, so this
 * node runs without the harness's flag (started by hand, stopped by pid). */
static void test_sighup_log_level(void)
{
    make_dir();
    char path[256], sock[300], log[300];
    snprintf(path, sizeof path, "%s", write_file("l.conf", "log-level = info\n"));
    snprintf(sock, sizeof sock, "%s/s.sock", g_dir);
    snprintf(log, sizeof log, "%s/log", g_dir);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        execl(ROSTERD_PATH, ROSTERD_PATH, "--socket", sock, "--config", path, (char *)NULL);
        _exit(127);
    }
    struct test_node n = {.pid = pid};
    snprintf(n.sock, sizeof n.sock, "%s", sock);
    snprintf(n.log, sizeof n.log, "%s", log);
    ASSERT(log_has(&n, "serving clients", 10000));
    roster_close(client(&n));
    ASSERT(log_has(&n, "disconnected", 5000));
    ASSERT(!log_has(&n, "closed: peer closed", 200)); /* a debug line: not at info */
    write_file("l.conf", "log-level = debug\n");
    ASSERT_EQ(kill(pid, SIGHUP), 0);
    ASSERT(log_has(&n, "config reload: log-level: info -> debug", 5000));
    roster_close(client(&n));
    ASSERT(log_has(&n, "closed: peer closed", 5000)); /* now it is */
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST_MAIN(T(test_precedence), T(test_every_key_parses), T(test_errors_with_lines),
          T(test_sighup_reload), T(test_sighup_log_level))
