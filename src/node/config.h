/* config.h: rosterd's command-line flags turned into a validated configuration. Parsing
 * does no I/O besides checking the files and directories the flags name, so it is
 * unit-testable; main.c prints the messages and picks the exit code. */
#ifndef ROSTER_NODE_CONFIG_H
#define ROSTER_NODE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "base/limits.h"
#include "node/access_cfg.h"
#include "node/conffile.h"

#include "core/core.h"

#define RS_LISTEN_DEFAULT "127.0.0.1:7400"
#define RS_ETCD_PREFIX_DEFAULT "/roster/default/"
#define RS_CONFIG_FILE_DEFAULT "/etc/roster/rosterd.conf"

struct rsd_config {
    char name[RS_NODE_NAME_MAX + 1]; /* 1..64 bytes of [A-Za-z0-9._-] */
    char listen_host[256];
    unsigned listen_port;
    char listen_addr[270]; /* "host:port" (IPv6 in brackets), advertised to peers */
    char socket_path[108]; /* sizeof sockaddr_un.sun_path */
    const char *cookie_file; /* argv string, or NULL: the default path (auth.c) */
    const char *cookie_file_next; /* argv string, or NULL: a second accepted cookie (cookie.c) */
    const char *data_dir;    /* argv string or NULL */
    int log_level;
    struct rs_limits limits;
    /* --- cluster --- */
    int cluster; /* --listen or --join given: open the peer listener, dial the seeds */
    char seeds[RS_SEEDS_MAX][270]; /* --join, each "host:port" */
    size_t n_seeds;
    const char *scopes[RS_CONFIG_SCOPES_MAX]; /* --scope, argv strings */
    size_t n_scopes;
    unsigned heartbeat_ms;  /* default RS_HEARTBEAT_MS_DEFAULT (base/limits.h) */
    unsigned down_after_ms; /* default RS_DOWN_AFTER_MS_DEFAULT */
    enum rs_conflict_policy policy;
    struct rs_node_priority priorities[RS_PRIORITIES_MAX]; /* node points into prio_names */
    char prio_names[RS_PRIORITIES_MAX][RS_NODE_NAME_MAX + 1];
    size_t n_priorities;
    const char *resolver; /* --resolver FILE.so (argv string) or NULL */
    rs_resolve_fn resolver_fn; /* unused by rosterd (the core's internal form, for tests) */
    const struct roster_resolver *public_resolver; /* its roster_conflict_resolver
                                                      (roster.h), loaded by main.c */
    /* --- strong scopes: the etcd client (src/node/kv.c) --- */
    const char *etcd;         /* --etcd "URL[,URL...]" (argv string); NULL: no strong scopes */
    const char *etcd_prefix;  /* --etcd-prefix, default RS_ETCD_PREFIX_DEFAULT */
    const char *etcd_ca;      /* --etcd-ca FILE: TLS; NULL: plaintext */
    const char *etcd_cert;    /* --etcd-cert FILE, with --etcd-key: client certificate */
    const char *etcd_key;
    unsigned etcd_lease_ttl_ms; /* --etcd-lease-ttl-ms, default RS_KV_LEASE_TTL_MS_DEFAULT */
    unsigned etcd_timeout_ms;   /* --etcd-timeout-ms, default RS_KV_TIMEOUT_MS_DEFAULT */
    /* --- operations (docs/OPERATIONS.md) --- */
    int log_format;          /* --log-format: RS_LOG_FORMAT_TEXT / _JSON (node/log.h) */
    int http;                /* --http given: serve /metrics (node/http.c) */
    char http_host[256];     /* --http HOST:PORT (PORT alone: 127.0.0.1) */
    unsigned http_port;
    char config_path[4096];  /* the config file read ("" if none): SIGHUP reads it again */
    int argc;                /* the command line, kept for a reload (flags override the file) */
    char **argv;
    struct rs_conffile file; /* the file's entries: argv-like strings of cfg point into it */
    /* --- shared-memory reads (src/node/shm.c): region bytes, 0 (--no-shm): none --- */
    unsigned shm_bytes;         /* --shm-bytes, default RS_SHM_BYTES_DEFAULT */
    unsigned max_channels;      /* --max-channels, default 64; 0 (--no-channels): none */
    /* --- access rules, socket permissions, memory ceiling, rate limits (access_cfg.c) --- */
    struct rsd_access_cfg access;
    /* --- TLS on peer links (src/node/tls.c): all three or none; NULL: cookie + sealing --- */
    const char *peer_tls_cert; /* --peer-tls-cert FILE (PEM chain) */
    const char *peer_tls_key;  /* --peer-tls-key FILE (PEM private key) */
    const char *peer_tls_ca;   /* --peer-tls-ca FILE (PEM roots that sign every node's) */
    int peer_tls_names_strict; /* --peer-tls-names strict: a peer's certificate must name it */
};

enum rs_config_result {
    RS_CONFIG_OK = 0,      /* run the node */
    RS_CONFIG_HELP = 1,    /* --help printed: exit 0 */
    RS_CONFIG_VERSION = 2, /* --version printed: exit 0 */
    RS_CONFIG_ERROR = 3,   /* bad usage, message written: exit 2 */
};

/* rs_config_parse fills *cfg from argv (defaults for what is absent). Help and version text
 * go to out, error messages to err. */
int rs_config_parse(struct rsd_config *cfg, int argc, char **argv, FILE *out, FILE *err);

/* rs_config_parse_hostport parses HOST:PORT (HOST may be [v6]); 0 or -1. */
int rs_config_parse_hostport(const char *s, char *host, size_t host_cap, unsigned *port);

void rs_config_usage(FILE *f);

/* rs_config_free frees what rs_config_parse allocated (the config file's entries). */
void rs_config_free(struct rsd_config *cfg);

/* rs_config_key returns the i-th config file key (every flag but --config, --help and
 * --version), or NULL past the last: tests walk them. */
const char *rs_config_key(size_t i);

/* rs_config_limit gives the i-th limit flag's name and its offset in struct rs_limits;
 * 0, or -1 past the last. */
int rs_config_limit(size_t i, const char **name, size_t *off);

/* rs_config_name_ok says whether s is a valid node name (1..64 bytes of [A-Za-z0-9._-]). */
int rs_config_name_ok(const char *s);

#endif
