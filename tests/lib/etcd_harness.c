/* etcd_harness.c: start, watch over and stop local etcd-server members (see the header). */
#include "etcd_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static const char *etcd_bin(void)
{
    const char *e = getenv("ETCD_BIN");
    if (e && access(e, X_OK) == 0)
        return e;
    if (access("/usr/bin/etcd", X_OK) == 0)
        return "/usr/bin/etcd";
    return NULL;
}

/* Ports are taken all at once, holding every socket until all are known, so two members
 * never get the same one. */
static void free_ports(int *out, int n)
{
    int fds[3 * EH_MAX + 1];
    if (n > 3 * EH_MAX + 1)
        test_fail(__FILE__, __LINE__, "too many ports asked for");
    for (int i = 0; i < n; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof(a);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
            getsockname(fds[i], (struct sockaddr *)&a, &al) < 0)
            test_fail(__FILE__, __LINE__, "no free port: %s", strerror(errno));
        out[i] = ntohs(a.sin_port);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

int eh_free_port(void)
{
    int p;
    free_ports(&p, 1);
    return p;
}

const char *eh_endpoint(const struct eh_cluster *cl, int i, char *buf, size_t len)
{
    snprintf(buf, len, "127.0.0.1:%d", cl->m[i].client_port);
    return buf;
}

/* GET path from the member's client port; the body (and headers) into buf. */
static int http_get(int port, const char *path, char *buf, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    char req[128];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    uint64_t until = test_now_ms() + 1000;
    while (got + 1 < len) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)(until - test_now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    close(fd);
    return (int)got;
}

static bool healthy(const struct eh_member *m)
{
    char b[4096];
    return http_get(m->metrics_port, "/health", b, sizeof(b)) > 0 &&
           strstr(b, "\"health\":\"true\"") != NULL;
}

static void cleanup(void *arg)
{
    eh_stop(arg);
}

void eh_start(struct eh_cluster *cl, int n)
{
    eh_start_tls(cl, n, NULL);
}

static void start_members(struct eh_cluster *cl, int n, const char *tls_dir, const char *alt);

void eh_start_tls(struct eh_cluster *cl, int n, const char *tls_dir)
{
    start_members(cl, n, tls_dir, NULL);
}

void eh_start_alt(struct eh_cluster *cl, int n, const char *alt_addr)
{
    start_members(cl, n, NULL, alt_addr);
}

static void start_members(struct eh_cluster *cl, int n, const char *tls_dir, const char *alt)
{
    const char *bin = etcd_bin();
    if (!bin)
        test_skip("etcd-server is not installed (scripts/deps.sh installs it)");
    memset(cl, 0, sizeof(*cl));
    cl->tls_dir = tls_dir;
    cl->n = n;
    snprintf(cl->base, sizeof(cl->base), "/tmp/roster-etcd-XXXXXX");
    if (!mkdtemp(cl->base))
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    int ports[3 * EH_MAX];
    free_ports(ports, 3 * n);
    const char *tls = cl->tls_dir;
    char initial[512] = "";
    for (int i = 0; i < n; i++) {
        cl->m[i].client_port = ports[3 * i];
        cl->m[i].peer_port = ports[3 * i + 1];
        cl->m[i].metrics_port = ports[3 * i + 2];
        snprintf(cl->m[i].dir, sizeof(cl->m[i].dir), "%s/m%d", cl->base, i);
        size_t l = strlen(initial);
        snprintf(initial + l, sizeof(initial) - l, "%sm%d=http://127.0.0.1:%d", i ? "," : "", i,
                 cl->m[i].peer_port);
        l = strlen(cl->endpoints);
        snprintf(cl->endpoints + l, sizeof(cl->endpoints) - l, "%s127.0.0.1:%d", i ? "," : "",
                 cl->m[i].client_port);
        l = strlen(cl->alt_endpoints);
        if (alt)
            snprintf(cl->alt_endpoints + l, sizeof(cl->alt_endpoints) - l, "%s%s:%d",
                     i ? "," : "", alt, cl->m[i].client_port);
    }
    test_on_fail(cleanup, cl);
    for (int i = 0; i < n; i++) {
        struct eh_member *m = &cl->m[i];
        char name[16], curl[64], lurl[160], purl[64], murl[64], token[64], log[300];
        char cert[300], key[300], ca[300];
        snprintf(name, sizeof(name), "m%d", i);
        snprintf(curl, sizeof(curl), "%s://127.0.0.1:%d", tls ? "https" : "http", m->client_port);
        if (alt)
            snprintf(lurl, sizeof(lurl), "%s,http://%s:%d", curl, alt, m->client_port);
        else
            snprintf(lurl, sizeof(lurl), "%s", curl);
        snprintf(murl, sizeof(murl), "http://127.0.0.1:%d", m->metrics_port);
        snprintf(cert, sizeof(cert), "%s/server.crt", tls ? tls : "");
        snprintf(key, sizeof(key), "%s/server.key", tls ? tls : "");
        snprintf(ca, sizeof(ca), "%s/ca.crt", tls ? tls : "");
        snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", m->peer_port);
        snprintf(token, sizeof(token), "roster-test-%d", (int)getpid());
        snprintf(log, sizeof(log), "%s.log", m->dir);
        pid_t pid = fork();
        if (pid < 0)
            test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            /* Short heartbeat and election timeout: leader loss is detected and a new
             * leader elected in well under a second on loopback. */
            const char *argv[40] = {bin, "--name", name, "--data-dir", m->dir,
                                    "--listen-client-urls", lurl, "--advertise-client-urls", curl,
                                    "--listen-peer-urls", purl, "--initial-advertise-peer-urls",
                                    purl, "--initial-cluster", initial, "--initial-cluster-token",
                                    token, "--initial-cluster-state", "new",
                                    "--listen-metrics-urls", murl, "--heartbeat-interval", "50",
                                    "--election-timeout", "500", "--logger", "zap",
                                    "--log-level", "warn", "--enable-v2=false"};
            size_t a = 30;
            if (tls) {
                const char *more[] = {"--cert-file", cert, "--key-file", key,
                                      "--trusted-ca-file", ca, "--client-cert-auth"};
                for (size_t j = 0; j < sizeof(more) / sizeof(more[0]); j++)
                    argv[a++] = more[j];
            }
            argv[a] = NULL;
            execv(bin, (char *const *)argv);
            _exit(127);
        }
        m->pid = pid;
    }
    uint64_t until = test_now_ms() + 20000;
    for (int i = 0; i < n; i++) {
        while (!healthy(&cl->m[i])) {
            int st;
            if (waitpid(cl->m[i].pid, &st, WNOHANG) == cl->m[i].pid) {
                cl->m[i].pid = 0;
                test_fail(__FILE__, __LINE__, "etcd member %d exited (see %s.log)", i,
                          cl->m[i].dir);
            }
            if (test_now_ms() > until)
                test_fail(__FILE__, __LINE__, "etcd member %d not healthy in 20 s", i);
            poll(NULL, 0, 20);
        }
    }
}

void eh_kill(struct eh_cluster *cl, int i)
{
    if (cl->m[i].pid > 0) {
        kill(cl->m[i].pid, SIGKILL);
        waitpid(cl->m[i].pid, NULL, 0);
        cl->m[i].pid = 0;
    }
}

void eh_stop(struct eh_cluster *cl)
{
    for (int i = 0; i < cl->n; i++)
        eh_kill(cl, i);
    if (cl->base[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cl->base);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", cl->base);
        cl->base[0] = 0;
    }
    test_on_fail_remove(cl);
}

int eh_leader(struct eh_cluster *cl)
{
    static char b[1 << 18];
    for (int i = 0; i < cl->n; i++) {
        if (cl->m[i].pid <= 0)
            continue;
        if (http_get(cl->m[i].metrics_port, "/metrics", b, sizeof(b)) > 0 &&
            strstr(b, "\netcd_server_is_leader 1"))
            return i;
    }
    return -1;
}

void eh_make_certs(const char *dir)
{
    if (access("/usr/bin/openssl", X_OK) != 0)
        test_skip("openssl is not installed");
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "set -e; cd '%s'; k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';"
             "openssl req -x509 $k -keyout ca.key -out ca.crt -days 2 -subj /CN=roster-test-ca;"
             "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n'"
             " > server.ext;"
             "printf 'extendedKeyUsage=clientAuth\\n' > client.ext;"
             "for n in server client; do"
             " openssl req $k -keyout $n.key -out $n.csr -subj /CN=roster-$n;"
             " openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
             " -extfile $n.ext -out $n.crt; done",
             dir);
    char full[2200];
    snprintf(full, sizeof(full), "(%s) >/dev/null 2>&1", cmd);
    if (system(full) != 0)
        test_fail(__FILE__, __LINE__, "openssl could not make test certificates in %s", dir);
}
