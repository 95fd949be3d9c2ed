/* etcd_harness.h: real etcd-server members for the etcd and strong-scope tests, on
 * 127.0.0.1 with free ports and temporary data directories. Members are children of the
 * test process (in its process group, and killed with it by PR_SET_PDEATHSIG), stopped by
 * pid on success and failure alike. */
#ifndef ROSTER_TESTS_ETCD_HARNESS_H
#define ROSTER_TESTS_ETCD_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#define EH_MAX 3

struct eh_member {
    pid_t pid;
    int client_port, peer_port, metrics_port; /* /health and /metrics: plain HTTP */
    char dir[256];
};

struct eh_cluster {
    int n;
    struct eh_member m[EH_MAX];
    char base[200];
    char endpoints[256]; /* every member, comma-separated */
    const char *tls_dir; /* TLS members: eh_make_certs' files are here */
    char alt_endpoints[256]; /* eh_start_alt: every member on the second address */
};

/* eh_make_certs writes ca.crt, server.{crt,key} (for 127.0.0.1) and client.{crt,key}
 * into dir with openssl; skips the test when openssl is missing. */
void eh_make_certs(const char *dir);

/* eh_start starts n members (1 or 3) and returns once every member reports healthy (a
 * poll with a deadline); skips the test when etcd is not installed. */
void eh_start(struct eh_cluster *cl, int n);
/* eh_start_tls: the same, serving TLS that requires client certificates from tls_dir. */
void eh_start_tls(struct eh_cluster *cl, int n, const char *tls_dir);
/* eh_start_alt: the same, plaintext, each member also listening for clients on alt_addr
 * (another loopback address, e.g. "127.0.0.2") at the same port, listed in alt_endpoints:
 * a test can drop one client's traffic to etcd by address with a packet filter. */
void eh_start_alt(struct eh_cluster *cl, int n, const char *alt_addr);
void eh_stop(struct eh_cluster *cl);
void eh_kill(struct eh_cluster *cl, int i);
/* eh_leader returns the index of the member that says it leads, or -1. */
int eh_leader(struct eh_cluster *cl);
/* eh_endpoint gives "127.0.0.1:port" of member i (static buffer per call site use). */
const char *eh_endpoint(const struct eh_cluster *cl, int i, char *buf, size_t len);
/* eh_free_port returns a loopback port nobody listens on (for a dead endpoint). */
int eh_free_port(void);

#endif
