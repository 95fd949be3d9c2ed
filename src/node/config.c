/* config.c: rosterd flag parsing and validation (contract in docs/DAEMON.md). */
#include "node/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire/handshake.h"
#include "wire/shm.h"
#include "base/paths.h"
#include "node/log.h"
#include <roster.h>

/* Limit flags: one per field of struct rs_limits. */
static const struct {
    const char *flag;
    size_t off;
    const char *help;
} limit_flags[] = {
    {"max-name-bytes", offsetof(struct rs_limits, name_max), "name / group name bytes"},
    {"max-meta-bytes", offsetof(struct rs_limits, meta_max), "metadata bytes"},
    {"max-frame-bytes", offsetof(struct rs_limits, frame_max), "frame bytes after the prefix"},
    {"max-connections", offsetof(struct rs_limits, conns_max), "client connections"},
    {"max-pids-per-client", offsetof(struct rs_limits, pids_per_client), "live pids per client"},
    {"max-entries-per-client", offsetof(struct rs_limits, entries_per_client),
     "names + group memberships per client"},
    {"max-subscriptions-per-client", offsetof(struct rs_limits, subs_per_client),
     "subscriptions per client"},
    {"max-monitors-per-client", offsetof(struct rs_limits, monitors_per_client),
     "monitors per client"},
    {"queue-bytes", offsetof(struct rs_limits, queue_bytes),
     "unread event bytes per client before its subscriptions overflow"},
    {"outbuf-bytes", offsetof(struct rs_limits, outbuf_max),
     "unread bytes of any kind per client before it is disconnected"},
    {"stall-timeout-ms", offsetof(struct rs_limits, stall_ms),
     "ms a started frame may stay incomplete"},
    {"max-message-bytes", offsetof(struct rs_limits, message_max),
     "message payload bytes (a message must also fit one frame)"},
    {"mailbox-bytes", offsetof(struct rs_limits, mailbox_bytes),
     "unread bytes of a receiving client above which messages to it are dropped"},
};
#define N_LIMIT_FLAGS (sizeof limit_flags / sizeof limit_flags[0])

void rs_config_usage(FILE *f)
{
    struct rs_limits d;
    char sock[256];
    rs_limits_default(&d);
    fprintf(f,
            "usage: rosterd [FLAGS]\n"
            "roster node daemon: process registry and process groups for local clients.\n"
            "With no flag it runs a single node on the default socket.\n\n"
            "  --name N             node name, 1..64 bytes of [A-Za-z0-9._-] (default: short\n"
            "                       hostname)\n"
            "  --socket PATH        client Unix socket (default: %s;\n"
            "                       $ROSTER_SOCKET overrides the default)\n"
            "\nCluster (docs/CLUSTER.md). The node joins a cluster when --listen or --join is\n"
            "given; otherwise it runs alone and opens no TCP socket.\n"
            "  --listen HOST:PORT   peer TCP address: opened for peers and told to them, so it\n"
            "                       must be reachable by them (default " RS_LISTEN_DEFAULT " once\n"
            "                       clustered)\n"
            "  --join HOST:PORT[,...]  seed nodes to dial (repeatable); any live member works\n"
            "  --cookie-file F      cluster secret shared by every node (default\n"
            "                       $XDG_CONFIG_HOME/roster/cookie, ~/.config/roster/cookie,\n"
            "                       or /etc/roster/cookie for root; created, random, mode 0600,\n"
            "                       if absent); SIGHUP re-reads it\n"
            "  --cookie-file-next F a second cookie accepted from peers during a rotation\n"
            "                       (absent or empty file: none); SIGHUP re-reads it\n"
            "  --peer-tls-cert FILE TLS 1.3 on peer links: this node's certificate chain (PEM);\n"
            "                       with --peer-tls-key and --peer-tls-ca, all three or none\n"
            "  --peer-tls-key FILE  its private key (PEM)\n"
            "  --peer-tls-ca FILE   roots (PEM) that must sign every peer's certificate;\n"
            "                       SIGHUP re-reads the three files (docs/SECURITY.md)\n"
            "  --peer-tls-names M   strict: a peer's certificate must name the node it claims\n"
            "                       to be (DNS name or CN); any (default): any name\n"
            "  --scope S            join scope S at start (repeatable; \"default\" always)\n"
            "  --heartbeat-ms N     peer ping interval (default %u)\n"
            "  --down-after-ms N    silence before a peer is declared down (default %u;\n"
            "                       at least twice the heartbeat)\n"
            "  --conflict-policy P  oldest | newest | priority | custom (default oldest): which\n"
            "                       claim keeps a name registered on two sides of a partition\n"
            "  --priority NODE=N    node priority for the priority policy (repeatable; higher\n"
            "                       wins; unlisted nodes 0)\n"
            "  --resolver FILE.so   custom policy: shared object exporting roster_resolve\n"
            "                       (rs_resolve_fn in src/core/core.h); implies custom\n\n"
            "Strong scopes (docs/DAEMON.md): linearizable names and groups kept in etcd v3.\n"
            "  --etcd URL[,URL...]  etcd endpoints (http://HOST:PORT, https://HOST:PORT or\n"
            "                       HOST:PORT; up to %d, tried in turn); without it\n"
            "                       scope-create --strong answers EUNAVAIL\n"
            "  --etcd-prefix P      key prefix of this roster cluster in etcd, ending in '/'\n"
            "                       (default " RS_ETCD_PREFIX_DEFAULT ")\n"
            "  --etcd-ca FILE       TLS: PEM roots that sign the etcd members' certificates\n"
            "  --etcd-cert FILE     TLS client certificate (PEM), with --etcd-key FILE\n"
            "  --etcd-key FILE      its private key\n"
            "  --etcd-lease-ttl-ms N  the node's etcd lease: its strong entries go N ms after\n"
            "                       it dies or loses etcd (whole seconds; default %u)\n"
            "  --etcd-timeout-ms N  deadline of one etcd operation (default %u)\n\n"
            "  --max-channels N     direct channels per client (two clients of this node\n"
            "                       messaging each other directly); least recently used\n"
            "                       closed past it; default 64, 0: --no-channels\n"
            "  --no-channels        hand out no direct channels: every message is relayed\n"
            "  --no-shm             publish no shared-memory region: clients read over the\n"
            "                       socket only (docs/SHM.md)\n"
            "  --shm-bytes N        size of the shared-memory region (default 1 GiB; pages\n"
            "                       cost memory only once written; 0: --no-shm)\n"
            "  --data-dir D         reserved: rosterd keeps no state on disk (strong scopes live\n"
            "                       in etcd); accepted if it names a directory\n"
            "  --log-level L        off | error | warn | info | debug | trace (default info)\n"
            "  --log-format F       text | json: one JSON object per line (default text)\n"
            "  --http HOST:PORT     serve the dashboard at http://HOST:PORT/ and Prometheus\n"
            "                       metrics at /metrics (off by default; PORT alone binds\n"
            "                       127.0.0.1)\n"
            "  --config FILE        config file: 'key = value' lines, a key per flag, flags\n"
            "                       win (default " RS_CONFIG_FILE_DEFAULT " if it exists);\n"
            "                       SIGHUP reads it again\n"
            "\nAccess and fairness (docs/SECURITY.md):\n"
            "  --acl FILE           access rules by uid and gid, one per line, first match\n"
            "                       wins; refused at start or reload with the line at fault;\n"
            "                       SIGHUP reads it again (a broken file keeps the old rules)\n"
            "  --socket-owner U     owner of the client socket (name or uid)\n"
            "  --socket-group G     group of the client socket (name or gid)\n"
            "  --socket-mode M      permission bits of the client socket, octal (default 0666)\n"
            "  --max-memory BYTES   memory ceiling: above it new entries, messages, pids and\n"
            "                       subscriptions are refused with ENOMEM (0: none)\n"
            "  --client-rate N      requests a second one connection may make; above it the\n"
            "                       node stops reading it until its budget refills (0: none)\n"
            "  --client-burst N     requests above the rate one connection may make at once\n"
            "                       (default 1000)\n"
            "  --help, --version\n\nLimits (decimal, < 2^32):\n",
            rs_default_socket(sock, sizeof sock), RS_HEARTBEAT_MS_DEFAULT,
            RS_DOWN_AFTER_MS_DEFAULT, RS_ETCD_ENDPOINTS_MAX, RS_KV_LEASE_TTL_MS_DEFAULT,
            RS_KV_TIMEOUT_MS_DEFAULT);
    for (size_t i = 0; i < N_LIMIT_FLAGS; i++) {
        unsigned v = *(const unsigned *)((const char *)&d + limit_flags[i].off);
        fprintf(f, "  --%-29s %s (default %u)\n", limit_flags[i].flag, limit_flags[i].help, v);
    }
    fprintf(f, "\nSignals: SIGTERM / SIGINT stop the node cleanly (exit 0); SIGHUP reloads\n"
               "the config file (log level and format, limits that grow).\n"
               "Exit status: 0 clean stop, 1 runtime failure (socket or port in use, ...),\n"
               "2 usage (including a --resolver that cannot be loaded).\n");
}

static int parse_uint(const char *s, unsigned *v)
{
    if (!s || !*s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > UINT_MAX)
        return -1;
    *v = (unsigned)x;
    return 0;
}

int rs_config_parse_hostport(const char *s, char *host, size_t host_cap, unsigned *port)
{
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen))
            return -1; /* a bare IPv6 address needs brackets */
    }
    if (hlen == 0 || hlen >= host_cap)
        return -1;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!(c == '.' || c == '-' || c == ':' || c == '_' || (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return -1;
    }
    unsigned p;
    if (parse_uint(colon + 1, &p) != 0 || p == 0 || p > 65535)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = 0;
    *port = p;
    return 0;
}

static void default_name(char *name, size_t cap)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    char *dot = strchr(host, '.');
    if (dot && dot != host)
        *dot = 0;
    /* Node names are 1..64 bytes of [A-Za-z0-9._-]: other bytes become '-'. */
    host[RS_NODE_NAME_MAX] = 0;
    for (char *p = host; *p; p++)
        if (!rs_peer_name_ok(p, 1))
            *p = '-';
    snprintf(name, cap, "%.*s", (int)RS_NODE_NAME_MAX, host); /* cut at 64 above */
}

int rs_config_name_ok(const char *s) { return rs_peer_name_ok(s, strlen(s)); }

/* format_addr writes "host:port" (IPv6 hosts in brackets). */
static void format_addr(char *out, size_t cap, const char *host, unsigned port)
{
    if (strchr(host, ':'))
        snprintf(out, cap, "[%s]:%u", host, port);
    else
        snprintf(out, cap, "%s:%u", host, port);
}

/* add_seeds splits a --join value on commas; 0 or -1 (message written). */
static int add_seeds(struct rsd_config *cfg, const char *val, FILE *err)
{
    const char *p = val;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[300], host[256];
        unsigned port;
        if (len == 0 || len >= sizeof one) {
            fprintf(err, "rosterd: --join '%s': expected HOST:PORT[,HOST:PORT...]\n", val);
            return -1;
        }
        memcpy(one, p, len);
        one[len] = 0;
        if (rs_config_parse_hostport(one, host, sizeof host, &port) != 0) {
            fprintf(err, "rosterd: --join '%s': '%s' is not HOST:PORT (port 1..65535)\n", val,
                    one);
            return -1;
        }
        if (cfg->n_seeds == RS_SEEDS_MAX) {
            fprintf(err, "rosterd: --join: at most %d seeds\n", RS_SEEDS_MAX);
            return -1;
        }
        format_addr(cfg->seeds[cfg->n_seeds++], sizeof cfg->seeds[0], host, port);
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int scope_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RS_SCOPE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

/* --- one handler per flag family ------------------------------------------------------
 * Each takes the flag's value and returns 0, or -1 after writing the message. */

struct parse_state {
    struct rsd_config *cfg;
    FILE *err;
    int policy_given; /* --conflict-policy seen: --resolver does not pick custom by itself */
    const char *etcd_flag; /* the first --etcd-* flag seen: it needs --etcd */
    int etcd_schemes;      /* schemes the --etcd endpoints named: 1 http://, 2 https:// */
};

static int set_name(struct parse_state *ps, const char *val)
{
    if (!rs_config_name_ok(val)) {
        fprintf(ps->err, "rosterd: --name '%s': must be 1..%u bytes of [A-Za-z0-9._-]\n", val,
                RS_NODE_NAME_MAX);
        return -1;
    }
    memcpy(ps->cfg->name, val, strlen(val) + 1);
    return 0;
}

static int set_socket(struct parse_state *ps, const char *val)
{
    struct rsd_config *cfg = ps->cfg;
    size_t n = strlen(val);
    if (n == 0 || n >= sizeof cfg->socket_path) {
        fprintf(ps->err, "rosterd: --socket path must be 1..%zu bytes\n",
                sizeof cfg->socket_path - 1);
        return -1;
    }
    memcpy(cfg->socket_path, val, n + 1);
    return 0;
}

static int set_listen(struct parse_state *ps, const char *val)
{
    struct rsd_config *cfg = ps->cfg;
    if (rs_config_parse_hostport(val, cfg->listen_host, sizeof cfg->listen_host,
                                 &cfg->listen_port) != 0) {
        fprintf(ps->err, "rosterd: --listen '%s': expected HOST:PORT (port 1..65535)\n", val);
        return -1;
    }
    cfg->cluster = 1;
    return 0;
}

static int add_join(struct parse_state *ps, const char *val)
{
    if (add_seeds(ps->cfg, val, ps->err) != 0)
        return -1;
    ps->cfg->cluster = 1;
    return 0;
}

static int set_cookie_file(struct parse_state *ps, const char *val)
{
    struct stat st;
    if (stat(val, &st) != 0 || !S_ISREG(st.st_mode) || access(val, R_OK) != 0) {
        fprintf(ps->err, "rosterd: --cookie-file %s: not a readable file\n", val);
        return -1;
    }
    ps->cfg->cookie_file = val;
    return 0;
}

static int set_cookie_file_next(struct parse_state *ps, const char *val)
{
    if (!*val) {
        fprintf(ps->err, "rosterd: --cookie-file-next: empty path\n");
        return -1;
    }
    ps->cfg->cookie_file_next = val; /* may be absent until a rotation starts */
    return 0;
}

static int set_data_dir(struct parse_state *ps, const char *val)
{
    struct stat st;
    if (stat(val, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(ps->err, "rosterd: --data-dir %s: not a directory\n", val);
        return -1;
    }
    ps->cfg->data_dir = val;
    return 0;
}

static int set_log_level(struct parse_state *ps, const char *val)
{
    int l = rs_log_level_parse(val);
    if (l < 0) {
        fprintf(ps->err, "rosterd: --log-level '%s': expected off, error, warn, info, debug or trace\n",
                val);
        return -1;
    }
    ps->cfg->log_level = l;
    return 0;
}

static int add_scope(struct parse_state *ps, const char *val)
{
    struct rsd_config *cfg = ps->cfg;
    if (!scope_ok(val)) {
        fprintf(ps->err, "rosterd: --scope '%s': 1..%u bytes, no spaces or control bytes\n", val,
                RS_SCOPE_MAX);
        return -1;
    }
    if (cfg->n_scopes == RS_CONFIG_SCOPES_MAX) {
        fprintf(ps->err, "rosterd: --scope: at most %d\n", RS_CONFIG_SCOPES_MAX);
        return -1;
    }
    cfg->scopes[cfg->n_scopes++] = val;
    return 0;
}

/* parse_period reads a --heartbeat-ms / --down-after-ms value. */
static int parse_period(struct parse_state *ps, const char *flag, const char *val, unsigned *out)
{
    unsigned v;
    if (parse_uint(val, &v) != 0 || v < 10 || v > 3600000) {
        fprintf(ps->err, "rosterd: %s: '%s' is not a number of ms in 10..3600000\n", flag, val);
        return -1;
    }
    *out = v;
    return 0;
}

static int set_heartbeat(struct parse_state *ps, const char *val)
{
    return parse_period(ps, "--heartbeat-ms", val, &ps->cfg->heartbeat_ms);
}

static int set_down_after(struct parse_state *ps, const char *val)
{
    return parse_period(ps, "--down-after-ms", val, &ps->cfg->down_after_ms);
}

static int set_policy(struct parse_state *ps, const char *val)
{
    /* in the order of enum rs_conflict_policy */
    static const char *const names[] = {"oldest", "newest", "priority", "custom"};
    int k = -1;
    for (int j = 0; j < 4; j++)
        if (!strcmp(val, names[j]))
            k = j;
    if (k < 0) {
        fprintf(ps->err, "rosterd: --conflict-policy '%s': expected oldest, newest, "
                         "priority or custom\n", val);
        return -1;
    }
    ps->cfg->policy = (enum rs_conflict_policy)k;
    ps->policy_given = 1;
    return 0;
}

/* parse_priority splits NODE=N into nm (a valid node name) and *pv; 0 or -1. */
static int parse_priority(const char *val, char nm[RS_NODE_NAME_MAX + 1], int *pv)
{
    const char *eqs = strchr(val, '=');
    size_t nl = eqs ? (size_t)(eqs - val) : 0;
    if (!eqs || nl == 0 || nl > RS_NODE_NAME_MAX)
        return -1;
    memcpy(nm, val, nl);
    nm[nl] = 0;
    char *end;
    errno = 0;
    long x = strtol(eqs + 1, &end, 10);
    if (!rs_config_name_ok(nm) || !eqs[1] || *end || errno || x < -1000000 || x > 1000000)
        return -1;
    *pv = (int)x;
    return 0;
}

static int add_priority(struct parse_state *ps, const char *val)
{
    struct rsd_config *cfg = ps->cfg;
    char nm[RS_NODE_NAME_MAX + 1];
    int pv;
    if (parse_priority(val, nm, &pv) != 0) {
        fprintf(ps->err, "rosterd: --priority '%s': expected NODE=N (N in "
                         "-1000000..1000000)\n", val);
        return -1;
    }
    if (cfg->n_priorities == RS_PRIORITIES_MAX) {
        fprintf(ps->err, "rosterd: --priority: at most %d\n", RS_PRIORITIES_MAX);
        return -1;
    }
    memcpy(cfg->prio_names[cfg->n_priorities], nm, strlen(nm) + 1);
    cfg->priorities[cfg->n_priorities].node = cfg->prio_names[cfg->n_priorities];
    cfg->priorities[cfg->n_priorities].priority = pv;
    cfg->n_priorities++;
    return 0;
}

static int set_resolver(struct parse_state *ps, const char *val)
{
    if (!*val) {
        fprintf(ps->err, "rosterd: --resolver needs a file\n");
        return -1;
    }
    ps->cfg->resolver = val;
    return 0;
}

/* --- strong scopes: etcd ------------------------------------------------------------ */

/* etcd_endpoint_ok checks one --etcd item, [http://|https://]HOST:PORT, and says which
 * scheme it named: 0 none, 1 http://, 2 https://. 0 or -1. */
static int etcd_endpoint_ok(const char *one, int *scheme)
{
    char host[256];
    unsigned port;
    *scheme = 0;
    if (strncmp(one, "http://", 7) == 0) {
        *scheme = 1;
        one += 7;
    } else if (strncmp(one, "https://", 8) == 0) {
        *scheme = 2;
        one += 8;
    }
    return rs_config_parse_hostport(one, host, sizeof host, &port);
}

static int set_etcd(struct parse_state *ps, const char *val)
{
    const char *p = val;
    int n = 0;
    ps->etcd_schemes = 0; /* a later --etcd replaces an earlier one */
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[300];
        int scheme;
        if (len == 0 || len >= sizeof one) {
            fprintf(ps->err, "rosterd: --etcd '%s': expected URL[,URL...] (http://HOST:PORT, "
                             "https://HOST:PORT or HOST:PORT)\n", val);
            return -1;
        }
        memcpy(one, p, len);
        one[len] = 0;
        if (etcd_endpoint_ok(one, &scheme) != 0) {
            fprintf(ps->err, "rosterd: --etcd '%s': '%s' is not [http://|https://]HOST:PORT "
                             "(port 1..65535)\n", val, one);
            return -1;
        }
        ps->etcd_schemes |= scheme;
        if (++n > RS_ETCD_ENDPOINTS_MAX) {
            fprintf(ps->err, "rosterd: --etcd: at most %d endpoints\n", RS_ETCD_ENDPOINTS_MAX);
            return -1;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    ps->cfg->etcd = val;
    return 0;
}

/* etcd_only notes that flag is one that needs --etcd (checked once every flag is read). */
static void etcd_only(struct parse_state *ps, const char *flag)
{
    if (!ps->etcd_flag)
        ps->etcd_flag = flag;
}

static int set_etcd_prefix(struct parse_state *ps, const char *val)
{
    size_t n = strlen(val);
    etcd_only(ps, "--etcd-prefix");
    /* Ending in '/' keeps one cluster's prefix from being the start of another's
     * ("/roster/a" would read "/roster/ab/..."). */
    if (n == 0 || n > RS_ETCD_PREFIX_MAX || val[n - 1] != '/') {
        fprintf(ps->err, "rosterd: --etcd-prefix '%s': must be 1..%d bytes ending in '/'\n",
                val, RS_ETCD_PREFIX_MAX);
        return -1;
    }
    ps->cfg->etcd_prefix = val;
    return 0;
}

/* set_pem_file reads the value of --etcd-ca / --etcd-cert / --etcd-key into *out. */
static int set_pem_file(struct parse_state *ps, const char *flag, const char *val,
                        const char **out)
{
    struct stat st;
    etcd_only(ps, flag);
    if (stat(val, &st) != 0 || !S_ISREG(st.st_mode) || access(val, R_OK) != 0) {
        fprintf(ps->err, "rosterd: %s %s: not a readable file\n", flag, val);
        return -1;
    }
    *out = val;
    return 0;
}

static int set_etcd_ca(struct parse_state *ps, const char *val)
{
    return set_pem_file(ps, "--etcd-ca", val, &ps->cfg->etcd_ca);
}

static int set_etcd_cert(struct parse_state *ps, const char *val)
{
    return set_pem_file(ps, "--etcd-cert", val, &ps->cfg->etcd_cert);
}

static int set_etcd_key(struct parse_state *ps, const char *val)
{
    return set_pem_file(ps, "--etcd-key", val, &ps->cfg->etcd_key);
}

/* set_peer_tls reads --peer-tls-cert / -key / -ca: a readable file (its contents are
 * judged when the node builds its TLS context, and again at each SIGHUP). */
static int set_peer_tls(struct parse_state *ps, const char *flag, const char *val,
                        const char **out)
{
    struct stat st;
    if (stat(val, &st) != 0 || !S_ISREG(st.st_mode) || access(val, R_OK) != 0) {
        fprintf(ps->err, "rosterd: %s %s: not a readable file\n", flag, val);
        return -1;
    }
    *out = val;
    return 0;
}

static int set_peer_tls_cert(struct parse_state *ps, const char *val)
{
    return set_peer_tls(ps, "--peer-tls-cert", val, &ps->cfg->peer_tls_cert);
}

static int set_peer_tls_key(struct parse_state *ps, const char *val)
{
    return set_peer_tls(ps, "--peer-tls-key", val, &ps->cfg->peer_tls_key);
}

static int set_peer_tls_ca(struct parse_state *ps, const char *val)
{
    return set_peer_tls(ps, "--peer-tls-ca", val, &ps->cfg->peer_tls_ca);
}

static int set_peer_tls_names(struct parse_state *ps, const char *val)
{
    if (strcmp(val, "strict") != 0 && strcmp(val, "any") != 0) {
        fprintf(ps->err, "rosterd: --peer-tls-names: '%s' is not strict or any\n", val);
        return -1;
    }
    ps->cfg->peer_tls_names_strict = strcmp(val, "strict") == 0;
    return 0;
}

static int set_etcd_lease_ttl(struct parse_state *ps, const char *val)
{
    unsigned v;
    etcd_only(ps, "--etcd-lease-ttl-ms");
    /* etcd grants leases in whole seconds: a TTL it would round is refused rather than
     * stretched or cut behind the node's back. */
    if (parse_uint(val, &v) != 0 || v < 1000 || v > 3600000 || v % 1000 != 0) {
        fprintf(ps->err, "rosterd: --etcd-lease-ttl-ms: '%s' is not a whole number of seconds "
                         "in ms, 1000..3600000\n", val);
        return -1;
    }
    ps->cfg->etcd_lease_ttl_ms = v;
    return 0;
}

static int set_etcd_timeout(struct parse_state *ps, const char *val)
{
    unsigned v;
    etcd_only(ps, "--etcd-timeout-ms");
    if (parse_uint(val, &v) != 0 || v < 100 || v > 600000) {
        fprintf(ps->err, "rosterd: --etcd-timeout-ms: '%s' is not a number of ms in "
                         "100..600000\n", val);
        return -1;
    }
    ps->cfg->etcd_timeout_ms = v;
    return 0;
}

static int set_log_format(struct parse_state *ps, const char *val)
{
    int f = rs_log_format_parse(val);
    if (f < 0) {
        fprintf(ps->err, "rosterd: --log-format '%s': expected text or json\n", val);
        return -1;
    }
    ps->cfg->log_format = f;
    return 0;
}

/* set_http reads --http: HOST:PORT, or PORT alone for loopback. A host other than loopback
 * is only ever the one the operator wrote. */
static int set_http(struct parse_state *ps, const char *val)
{
    struct rsd_config *cfg = ps->cfg;
    unsigned port;
    if (parse_uint(val, &port) == 0 && port >= 1 && port <= 65535) {
        snprintf(cfg->http_host, sizeof cfg->http_host, "127.0.0.1");
        cfg->http_port = port;
    } else if (rs_config_parse_hostport(val, cfg->http_host, sizeof cfg->http_host,
                                        &cfg->http_port) != 0) {
        fprintf(ps->err, "rosterd: --http '%s': expected HOST:PORT or PORT (port 1..65535)\n",
                val);
        return -1;
    }
    cfg->http = 1;
    return 0;
}

/* --config is read before every other flag (parse_config_file); here it is only stepped
 * over. */
static int set_config(struct parse_state *ps, const char *val)
{
    (void)ps;
    (void)val;
    return 0;
}

static int set_shm_bytes(struct parse_state *ps, const char *val)
{
    unsigned v;
    if (parse_uint(val, &v) != 0 || (v != 0 && (v < 16u * 1024u * 1024u || v > RS_SHM_MAX_SIZE))) {
        fprintf(ps->err,
                "rosterd: --shm-bytes: '%s': expected 0 (off) or 16 MiB .. %llu bytes\n", val,
                (unsigned long long)RS_SHM_MAX_SIZE);
        return -1;
    }
    ps->cfg->shm_bytes = v;
    return 0;
}

static int set_max_channels(struct parse_state *ps, const char *val)
{
    unsigned v;
    if (parse_uint(val, &v) != 0 || v > 65536u) {
        fprintf(ps->err, "rosterd: --max-channels: '%s': expected 0 (off) .. 65536\n", val);
        return -1;
    }
    ps->cfg->max_channels = v;
    return 0;
}

/* The access and fairness flags are parsed by access_cfg.c. */
#define ACCESS_FLAG(fn, name)                                                                \
    static int fn(struct parse_state *ps, const char *val)                                   \
    {                                                                                        \
        return rsd_access_cfg_set(&ps->cfg->access, name, val, ps->err);                    \
    }
ACCESS_FLAG(set_acl, "acl")
ACCESS_FLAG(set_socket_owner, "socket-owner")
ACCESS_FLAG(set_socket_group, "socket-group")
ACCESS_FLAG(set_socket_mode, "socket-mode")
ACCESS_FLAG(set_max_memory, "max-memory")
ACCESS_FLAG(set_client_rate, "client-rate")
ACCESS_FLAG(set_client_burst, "client-burst")

/* The flags besides the limits (limit_flags above). */
static const struct {
    const char *flag;
    int (*set)(struct parse_state *ps, const char *val);
} node_flags[] = {
    {"name", set_name},
    {"listen", set_listen},
    {"socket", set_socket},
    {"join", add_join},
    {"cookie-file", set_cookie_file},
    {"cookie-file-next", set_cookie_file_next},
    {"data-dir", set_data_dir},
    {"log-level", set_log_level},
    {"scope", add_scope},
    {"heartbeat-ms", set_heartbeat},
    {"down-after-ms", set_down_after},
    {"conflict-policy", set_policy},
    {"priority", add_priority},
    {"resolver", set_resolver},
    {"etcd", set_etcd},
    {"etcd-prefix", set_etcd_prefix},
    {"etcd-ca", set_etcd_ca},
    {"etcd-cert", set_etcd_cert},
    {"etcd-key", set_etcd_key},
    {"etcd-lease-ttl-ms", set_etcd_lease_ttl},
    {"etcd-timeout-ms", set_etcd_timeout},
    {"log-format", set_log_format},
    {"http", set_http},
    {"config", set_config},
    {"shm-bytes", set_shm_bytes},
    {"max-channels", set_max_channels},
    {"acl", set_acl},
    {"socket-owner", set_socket_owner},
    {"socket-group", set_socket_group},
    {"socket-mode", set_socket_mode},
    {"max-memory", set_max_memory},
    {"client-rate", set_client_rate},
    {"client-burst", set_client_burst},
    {"peer-tls-cert", set_peer_tls_cert},
    {"peer-tls-key", set_peer_tls_key},
    {"peer-tls-ca", set_peer_tls_ca},
    {"peer-tls-names", set_peer_tls_names},
};
#define N_NODE_FLAGS (sizeof node_flags / sizeof node_flags[0])

static int set_limit(struct parse_state *ps, size_t li, const char *flag, const char *val)
{
    unsigned v;
    if (parse_uint(val, &v) != 0) {
        fprintf(ps->err, "rosterd: %s: '%s' is not a number in 0..%u\n", flag, val, UINT_MAX);
        return -1;
    }
    *(unsigned *)((char *)&ps->cfg->limits + limit_flags[li].off) = v;
    return 0;
}

/* --- the parse ----------------------------------------------------------------------------- */

/* set_defaults fills cfg with what applies when no flag says otherwise; 0 or -1. */
static int set_defaults(struct rsd_config *cfg, FILE *err)
{
    memset(cfg, 0, sizeof *cfg);
    default_name(cfg->name, sizeof cfg->name);
    rs_config_parse_hostport(RS_LISTEN_DEFAULT, cfg->listen_host, sizeof cfg->listen_host,
                             &cfg->listen_port);
    char sock[256];
    rs_default_socket(sock, sizeof sock);
    if (strlen(sock) >= sizeof cfg->socket_path) {
        fprintf(err, "rosterd: default socket path too long: %s (use --socket)\n", sock);
        return -1;
    }
    memcpy(cfg->socket_path, sock, strlen(sock) + 1);
    cfg->log_level = RS_LOG_INFO;
    rs_limits_default(&cfg->limits);
    cfg->heartbeat_ms = RS_HEARTBEAT_MS_DEFAULT;
    cfg->down_after_ms = RS_DOWN_AFTER_MS_DEFAULT;
    cfg->policy = RS_POLICY_OLDEST;
    cfg->etcd_prefix = RS_ETCD_PREFIX_DEFAULT;
    cfg->etcd_lease_ttl_ms = RS_KV_LEASE_TTL_MS_DEFAULT;
    cfg->etcd_timeout_ms = RS_KV_TIMEOUT_MS_DEFAULT;
    cfg->shm_bytes = RS_SHM_BYTES_DEFAULT;
    cfg->max_channels = 64; /* RS_CHAN_MAX_DEFAULT of the core */
    rsd_access_cfg_defaults(&cfg->access);
    return 0;
}

/* find_flag returns the index of flag name f (without dashes): k < N_NODE_FLAGS for
 * node_flags[k], N_NODE_FLAGS + j for limit_flags[j]; -1 if unknown. */
static long find_flag(const char *f)
{
    for (size_t k = 0; k < N_NODE_FLAGS; k++)
        if (!strcmp(f, node_flags[k].flag))
            return (long)k;
    for (size_t k = 0; k < N_LIMIT_FLAGS; k++)
        if (!strcmp(f, limit_flags[k].flag))
            return (long)(N_NODE_FLAGS + k);
    return -1;
}

static int apply_flag(struct parse_state *ps, long k, const char *flag, const char *val)
{
    if ((size_t)k < N_NODE_FLAGS)
        return node_flags[k].set(ps, val);
    return set_limit(ps, (size_t)k - N_NODE_FLAGS, flag, val);
}

int rs_config_limit(size_t i, const char **name, size_t *off)
{
    if (i >= N_LIMIT_FLAGS)
        return -1;
    *name = limit_flags[i].flag;
    *off = limit_flags[i].off;
    return 0;
}

const char *rs_config_key(size_t i)
{
    for (size_t k = 0; k < N_NODE_FLAGS; k++) {
        if (!strcmp(node_flags[k].flag, "config"))
            continue;
        if (i-- == 0)
            return node_flags[k].flag;
    }
    return i < N_LIMIT_FLAGS ? limit_flags[i].flag : NULL;
}

/* parse_flag handles argv[*i] (a "--flag", "--flag=VALUE" or "--flag VALUE", in which case
 * it steps *i over the value) once --help, --version and bare arguments are ruled out. */
static int parse_flag(struct parse_state *ps, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    char flag[64];
    const char *eq = strchr(a, '=');
    size_t flen = eq ? (size_t)(eq - a) : strlen(a);
    if (flen >= sizeof flag) {
        fprintf(ps->err, "rosterd: unknown flag '%s' (see --help)\n", a);
        return -1;
    }
    memcpy(flag, a, flen);
    flag[flen] = 0;
    long k = find_flag(flag + 2);
    if (k < 0) {
        fprintf(ps->err, "rosterd: unknown flag '%s' (see --help)\n", flag);
        return -1;
    }
    const char *val;
    if (eq) {
        val = eq + 1;
    } else {
        if (*i + 1 >= argc) {
            fprintf(ps->err, "rosterd: flag %s needs a value\n", flag);
            return -1;
        }
        val = argv[++*i];
    }
    return apply_flag(ps, k, flag, val);
}

/* argv_value walks argv as the parse does and returns the value of the last --key
 * (NULL if absent); *seen says whether --key appeared at all. */
static const char *argv_value(int argc, char **argv, const char *key, int *seen)
{
    const char *v = NULL;
    size_t klen = strlen(key);
    *seen = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            continue;
        const char *eq = strchr(a, '=');
        size_t flen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        char f[64];
        if (flen >= sizeof f)
            continue;
        memcpy(f, a + 2, flen);
        f[flen] = 0;
        int same = flen == klen && !memcmp(f, key, klen);
        if (same)
            *seen = 1;
        if (eq) {
            if (same)
                v = eq + 1;
        } else if (find_flag(f) >= 0 && i + 1 < argc) {
            if (same)
                v = argv[i + 1];
            i++;
        }
    }
    return v;
}

/* apply_file_entry sets one key of the config file, unless the command line sets it too
 * (flags win: for a repeatable flag the file's values are all dropped). A refusal is
 * reported as FILE:LINE: with the flag's own message. 0 or -1. */
static int apply_file_entry(struct parse_state *ps, const struct rs_conf_entry *e, int argc,
                            char **argv)
{
    const char *path = ps->cfg->config_path;
    long k = strcmp(e->key, "config") ? find_flag(e->key) : -2;
    if (k < 0) {
        if (k == -2)
            fprintf(ps->err, "rosterd: %s:%u: 'config' cannot be set in a config file\n",
                    path, e->line);
        else
            fprintf(ps->err, "rosterd: %s:%u: unknown key '%s' (every flag is a key without "
                             "its dashes: see --help)\n", path, e->line, e->key);
        return -1;
    }
    int seen;
    argv_value(argc, argv, e->key, &seen);
    if (seen)
        return 0;
    char flag[RS_CONFFILE_KEY_MAX + 3];
    snprintf(flag, sizeof flag, "--%s", e->key);
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *mem = open_memstream(&msg, &msg_len);
    if (!mem) {
        fprintf(ps->err, "rosterd: %s:%u: out of memory\n", path, e->line);
        return -1;
    }
    FILE *err = ps->err;
    ps->err = mem;
    int r = apply_flag(ps, k, flag, e->value);
    ps->err = err;
    fclose(mem);
    if (r != 0) {
        const char *m = msg ? msg : "";
        if (!strncmp(m, "rosterd: ", 9))
            m += 9;
        fprintf(err, "rosterd: %s:%u: %s", path, e->line, m);
        if (!*m || m[strlen(m) - 1] != '\n')
            fputc('\n', err);
    }
    free(msg);
    return r;
}

/* parse_config_file reads the --config file (or the default one if it exists) and applies
 * its keys the command line does not set. 0 or -1 (message written). */
static int parse_config_file(struct parse_state *ps, int argc, char **argv)
{
    struct rsd_config *cfg = ps->cfg;
    int seen;
    const char *path = argv_value(argc, argv, "config", &seen);
    if (seen && !path)
        return 0; /* "--config" without a value: the flag pass says so */
    if (!path) {
        if (access(RS_CONFIG_FILE_DEFAULT, F_OK) != 0)
            return 0;
        path = RS_CONFIG_FILE_DEFAULT;
    }
    if (!*path || strlen(path) >= sizeof cfg->config_path) {
        fprintf(ps->err, "rosterd: --config: a path of 1..%zu bytes\n",
                sizeof cfg->config_path - 1);
        return -1;
    }
    memcpy(cfg->config_path, path, strlen(path) + 1);
    char *text, why[160];
    size_t len;
    unsigned line;
    if (rs_conffile_read(path, &text, &len, why, sizeof why) != 0) {
        fprintf(ps->err, "rosterd: --config %s: %s\n", path, why);
        return -1;
    }
    int r = rs_conffile_parse(text, len, &cfg->file, &line, why, sizeof why);
    free(text);
    if (r != 0) {
        fprintf(ps->err, "rosterd: %s:%u: %s\n", path, line, why);
        return -1;
    }
    for (size_t i = 0; i < cfg->file.n; i++)
        if (apply_file_entry(ps, &cfg->file.v[i], argc, argv) != 0)
            return -1;
    return 0;
}

void rs_config_free(struct rsd_config *cfg)
{
    rs_conffile_free(&cfg->file);
    rsd_access_cfg_free(&cfg->access);
}

/* check_limits says whether the limits, set flag by flag, hold together; 0 or -1. */
static int check_limits(const struct rs_limits *l, FILE *err)
{
    if (rs_limits_check(l) != 0) {
        fprintf(err,
                "rosterd: incoherent limits: need 0 < --max-name-bytes, %u <= --max-frame-bytes "
                "<= %u, frame >= name + 2 * meta + %u (name %u, meta %u, frame %u), and "
                "nonzero --max-connections, --max-pids-per-client, --queue-bytes, "
                "--max-message-bytes, --mailbox-bytes, and "
                "--queue-bytes <= --outbuf-bytes <= %u\n",
                RS_FRAME_MIN, RS_FRAME_MAX_CEILING,
                RS_FRAME_HEADER + RS_SCOPE_MAX + RS_NODE_NAME_MAX + 128, l->name_max,
                l->meta_max, l->frame_max, RS_OUTBUF_MAX_CEILING);
        return -1;
    }
    if (l->stall_ms == 0 || l->outbuf_max == 0) {
        fprintf(err, "rosterd: --stall-timeout-ms and --outbuf-bytes must be > 0\n");
        return -1;
    }
    return 0;
}

/* check_cluster checks the flags that only make sense together; a --resolver alone picks
 * the custom policy. 0 or -1. */
static int check_cluster(struct parse_state *ps)
{
    struct rsd_config *cfg = ps->cfg;
    if (cfg->down_after_ms < 2 * cfg->heartbeat_ms) {
        fprintf(ps->err,
                "rosterd: --down-after-ms (%u) must be at least twice --heartbeat-ms (%u)\n",
                cfg->down_after_ms, cfg->heartbeat_ms);
        return -1;
    }
    if (cfg->resolver && !ps->policy_given)
        cfg->policy = RS_POLICY_CUSTOM;
    if (cfg->resolver && cfg->policy != RS_POLICY_CUSTOM) {
        fprintf(ps->err, "rosterd: --resolver is only used with --conflict-policy custom\n");
        return -1;
    }
    if (cfg->policy == RS_POLICY_CUSTOM && !cfg->resolver) {
        fprintf(ps->err, "rosterd: --conflict-policy custom needs --resolver FILE.so\n");
        return -1;
    }
    return 0;
}

/* check_etcd checks the etcd flags against each other: TLS is on exactly when --etcd-ca is
 * given, so a scheme in --etcd must agree with it. 0 or -1. */
static int check_etcd(struct parse_state *ps)
{
    struct rsd_config *cfg = ps->cfg;
    if (!cfg->etcd) {
        if (ps->etcd_flag) {
            fprintf(ps->err, "rosterd: %s needs --etcd URL[,URL...]\n", ps->etcd_flag);
            return -1;
        }
        return 0;
    }
    int http = ps->etcd_schemes & 1, https = ps->etcd_schemes & 2;
    if (http && https) {
        fprintf(ps->err, "rosterd: --etcd '%s': mixes http:// and https:// endpoints\n",
                cfg->etcd);
        return -1;
    }
    if (https && !cfg->etcd_ca) {
        fprintf(ps->err, "rosterd: --etcd '%s': https:// needs --etcd-ca FILE (the roots "
                         "that sign the members' certificates)\n", cfg->etcd);
        return -1;
    }
    if (http && cfg->etcd_ca) {
        fprintf(ps->err, "rosterd: --etcd '%s': --etcd-ca turns TLS on, but the endpoints "
                         "say http://\n", cfg->etcd);
        return -1;
    }
    if (!cfg->etcd_cert != !cfg->etcd_key) {
        fprintf(ps->err, "rosterd: --etcd-cert and --etcd-key go together\n");
        return -1;
    }
    if (cfg->etcd_cert && !cfg->etcd_ca) {
        fprintf(ps->err, "rosterd: --etcd-cert needs --etcd-ca (a client certificate is "
                         "only sent over TLS)\n");
        return -1;
    }
    return 0;
}

/* check_peer_tls: TLS on peer links needs the three files together, and a cluster. */
static int check_peer_tls(struct parse_state *ps)
{
    const struct rsd_config *cfg = ps->cfg;
    int n = !!cfg->peer_tls_cert + !!cfg->peer_tls_key + !!cfg->peer_tls_ca;
    if (n == 0 && cfg->peer_tls_names_strict) {
        fprintf(ps->err, "rosterd: --peer-tls-names strict needs TLS on peer links "
                         "(--peer-tls-cert, --peer-tls-key, --peer-tls-ca)\n");
        return -1;
    }
    if (n == 0)
        return 0;
    if (n != 3) {
        fprintf(ps->err, "rosterd: TLS on peer links needs --peer-tls-cert, --peer-tls-key and "
                         "--peer-tls-ca together (missing:%s%s%s)\n",
                cfg->peer_tls_cert ? "" : " --peer-tls-cert",
                cfg->peer_tls_key ? "" : " --peer-tls-key",
                cfg->peer_tls_ca ? "" : " --peer-tls-ca");
        return -1;
    }
    if (!cfg->cluster) {
        fprintf(ps->err, "rosterd: --peer-tls-* secure peer links: they need --listen or "
                         "--join\n");
        return -1;
    }
    return 0;
}

static int parse_all(struct rsd_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    if (set_defaults(cfg, err) != 0)
        return RS_CONFIG_ERROR;
    struct parse_state ps = {.cfg = cfg, .err = err, .policy_given = 0};
    cfg->argc = argc;
    cfg->argv = argv;
    /* --help and --version work whatever the config file holds. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            rs_config_usage(out);
            return RS_CONFIG_HELP;
        }
        if (strcmp(a, "--version") == 0) {
            fprintf(out, "rosterd %d.%d.%d (wire protocol %u)\n", ROSTER_VERSION_MAJOR,
                    ROSTER_VERSION_MINOR, ROSTER_VERSION_PATCH, RS_WIRE_VERSION);
            return RS_CONFIG_VERSION;
        }
    }
    if (parse_config_file(&ps, argc, argv) != 0)
        return RS_CONFIG_ERROR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-shm") == 0) {
            cfg->shm_bytes = 0;
            continue;
        }
        if (strcmp(a, "--no-channels") == 0) {
            cfg->max_channels = 0;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(err, "rosterd: unexpected argument '%s' (see --help)\n", a);
            return RS_CONFIG_ERROR;
        }
        if (parse_flag(&ps, argc, argv, &i) != 0)
            return RS_CONFIG_ERROR;
    }
    if (check_limits(&cfg->limits, err) != 0 || check_cluster(&ps) != 0 ||
        check_etcd(&ps) != 0 || check_peer_tls(&ps) != 0 ||
        rsd_access_cfg_load(&cfg->access, err) != 0)
        return RS_CONFIG_ERROR;
    format_addr(cfg->listen_addr, sizeof cfg->listen_addr, cfg->listen_host, cfg->listen_port);
    return RS_CONFIG_OK;
}

int rs_config_parse(struct rsd_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    int r = parse_all(cfg, argc, argv, out, err);
    if (r != RS_CONFIG_OK)
        rs_config_free(cfg);
    return r;
}
