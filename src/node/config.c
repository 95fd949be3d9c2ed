/* config.c: rosterd flag parsing and validation (contract in docs/DAEMON.md). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "base/paths.h"
#include "log.h"
#include "roster.h"

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
            "                       if absent)\n"
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
            "  --data-dir D         directory for strong scopes' Raft log (must exist)\n"
            "  --log-level L        error | warn | info | debug (default info)\n"
            "  --help, --version\n\nLimits (decimal, < 2^32):\n",
            rs_default_socket(sock, sizeof sock), RS_HEARTBEAT_DEFAULT_MS,
            RS_DOWN_AFTER_DEFAULT_MS);
    for (size_t i = 0; i < N_LIMIT_FLAGS; i++) {
        unsigned v = *(const unsigned *)((const char *)&d + limit_flags[i].off);
        fprintf(f, "  --%-29s %s (default %u)\n", limit_flags[i].flag, limit_flags[i].help, v);
    }
    fprintf(f, "\nSignals: SIGTERM / SIGINT stop the node cleanly (exit 0).\n"
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
    host[RS_AUTH_NAME_MAX] = 0;
    for (char *p = host; *p; p++)
        if (!rs_auth_name_ok(p, 1))
            *p = '-';
    snprintf(name, cap, "%.*s", (int)RS_AUTH_NAME_MAX, host); /* cut at 64 above */
}

int rs_config_name_ok(const char *s) { return rs_auth_name_ok(s, strlen(s)); }

/* format_addr writes "host:port" (IPv6 hosts in brackets). */
static void format_addr(char *out, size_t cap, const char *host, unsigned port)
{
    if (strchr(host, ':'))
        snprintf(out, cap, "[%s]:%u", host, port);
    else
        snprintf(out, cap, "%s:%u", host, port);
}

/* add_seeds splits a --join value on commas; 0 or -1 (message written). */
static int add_seeds(struct rs_node_config *cfg, const char *val, FILE *err)
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

int rs_config_parse(struct rs_node_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    memset(cfg, 0, sizeof *cfg);
    default_name(cfg->name, sizeof cfg->name);
    rs_config_parse_hostport(RS_LISTEN_DEFAULT, cfg->listen_host, sizeof cfg->listen_host,
                             &cfg->listen_port);
    char sock[256];
    rs_default_socket(sock, sizeof sock);
    if (strlen(sock) >= sizeof cfg->socket_path) {
        fprintf(err, "rosterd: default socket path too long: %s (use --socket)\n", sock);
        return RS_CONFIG_ERROR;
    }
    memcpy(cfg->socket_path, sock, strlen(sock) + 1);
    cfg->log_level = RS_LOG_INFO;
    rs_limits_default(&cfg->limits);
    cfg->heartbeat_ms = RS_HEARTBEAT_DEFAULT_MS;
    cfg->down_after_ms = RS_DOWN_AFTER_DEFAULT_MS;
    cfg->policy = RS_POLICY_OLDEST;
    int policy_given = 0;

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
        if (strncmp(a, "--", 2) != 0) {
            fprintf(err, "rosterd: unexpected argument '%s' (see --help)\n", a);
            return RS_CONFIG_ERROR;
        }
        /* --flag VALUE or --flag=VALUE */
        char flag[64];
        const char *val;
        const char *eq = strchr(a, '=');
        size_t flen = eq ? (size_t)(eq - a) : strlen(a);
        if (flen >= sizeof flag) {
            fprintf(err, "rosterd: unknown flag '%s' (see --help)\n", a);
            return RS_CONFIG_ERROR;
        }
        memcpy(flag, a, flen);
        flag[flen] = 0;
        const char *f = flag + 2;
        int known = !strcmp(f, "name") || !strcmp(f, "listen") || !strcmp(f, "socket") ||
                    !strcmp(f, "join") || !strcmp(f, "cookie-file") || !strcmp(f, "data-dir") ||
                    !strcmp(f, "log-level") || !strcmp(f, "scope") ||
                    !strcmp(f, "heartbeat-ms") || !strcmp(f, "down-after-ms") ||
                    !strcmp(f, "conflict-policy") || !strcmp(f, "priority") ||
                    !strcmp(f, "resolver");
        size_t li = N_LIMIT_FLAGS;
        for (size_t k = 0; k < N_LIMIT_FLAGS && !known; k++)
            if (!strcmp(f, limit_flags[k].flag))
                li = k;
        if (!known && li == N_LIMIT_FLAGS) {
            fprintf(err, "rosterd: unknown flag '%s' (see --help)\n", flag);
            return RS_CONFIG_ERROR;
        }
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc) {
                fprintf(err, "rosterd: flag %s needs a value\n", flag);
                return RS_CONFIG_ERROR;
            }
            val = argv[++i];
        }
        if (li < N_LIMIT_FLAGS) {
            unsigned v;
            if (parse_uint(val, &v) != 0) {
                fprintf(err, "rosterd: %s: '%s' is not a number in 0..%u\n", flag, val, UINT_MAX);
                return RS_CONFIG_ERROR;
            }
            *(unsigned *)((char *)&cfg->limits + limit_flags[li].off) = v;
        } else if (!strcmp(f, "name")) {
            if (!rs_config_name_ok(val)) {
                fprintf(err, "rosterd: --name '%s': must be 1..%u bytes of [A-Za-z0-9._-]\n",
                        val, RS_AUTH_NAME_MAX);
                return RS_CONFIG_ERROR;
            }
            memcpy(cfg->name, val, strlen(val) + 1);
        } else if (!strcmp(f, "listen")) {
            if (rs_config_parse_hostport(val, cfg->listen_host, sizeof cfg->listen_host,
                                         &cfg->listen_port) != 0) {
                fprintf(err, "rosterd: --listen '%s': expected HOST:PORT (port 1..65535)\n",
                        val);
                return RS_CONFIG_ERROR;
            }
            cfg->cluster = 1;
        } else if (!strcmp(f, "scope")) {
            if (!scope_ok(val)) {
                fprintf(err, "rosterd: --scope '%s': 1..%u bytes, no spaces or control bytes\n",
                        val, RS_SCOPE_MAX);
                return RS_CONFIG_ERROR;
            }
            if (cfg->n_scopes == RS_CONFIG_SCOPES_MAX) {
                fprintf(err, "rosterd: --scope: at most %d\n", RS_CONFIG_SCOPES_MAX);
                return RS_CONFIG_ERROR;
            }
            cfg->scopes[cfg->n_scopes++] = val;
        } else if (!strcmp(f, "heartbeat-ms") || !strcmp(f, "down-after-ms")) {
            unsigned v;
            if (parse_uint(val, &v) != 0 || v < 10 || v > 3600000) {
                fprintf(err, "rosterd: %s: '%s' is not a number of ms in 10..3600000\n", flag,
                        val);
                return RS_CONFIG_ERROR;
            }
            if (f[0] == 'h')
                cfg->heartbeat_ms = v;
            else
                cfg->down_after_ms = v;
        } else if (!strcmp(f, "conflict-policy")) {
            static const char *const names[] = {"oldest", "newest", "priority", "custom"};
            int k = -1;
            for (int j = 0; j < 4; j++)
                if (!strcmp(val, names[j]))
                    k = j;
            if (k < 0) {
                fprintf(err, "rosterd: --conflict-policy '%s': expected oldest, newest, "
                             "priority or custom\n", val);
                return RS_CONFIG_ERROR;
            }
            cfg->policy = (enum rs_conflict_policy)k;
            policy_given = 1;
        } else if (!strcmp(f, "priority")) {
            const char *eqs = strchr(val, '=');
            int pv = 0;
            char nm[RS_NODE_NAME_MAX + 1];
            size_t nl = eqs ? (size_t)(eqs - val) : 0;
            int ok = eqs && nl > 0 && nl < sizeof nm;
            if (ok) {
                memcpy(nm, val, nl);
                nm[nl] = 0;
                char *end;
                errno = 0;
                long x = strtol(eqs + 1, &end, 10);
                ok = rs_config_name_ok(nm) && eqs[1] && !*end && !errno && x >= -1000000 &&
                     x <= 1000000;
                pv = (int)x;
            }
            if (!ok) {
                fprintf(err, "rosterd: --priority '%s': expected NODE=N (N in "
                             "-1000000..1000000)\n", val);
                return RS_CONFIG_ERROR;
            }
            if (cfg->n_priorities == RS_PRIORITIES_MAX) {
                fprintf(err, "rosterd: --priority: at most %d\n", RS_PRIORITIES_MAX);
                return RS_CONFIG_ERROR;
            }
            memcpy(cfg->prio_names[cfg->n_priorities], nm, nl + 1);
            cfg->priorities[cfg->n_priorities].node = cfg->prio_names[cfg->n_priorities];
            cfg->priorities[cfg->n_priorities].priority = pv;
            cfg->n_priorities++;
        } else if (!strcmp(f, "resolver")) {
            if (!*val) {
                fprintf(err, "rosterd: --resolver needs a file\n");
                return RS_CONFIG_ERROR;
            }
            cfg->resolver = val;
        } else if (!strcmp(f, "socket")) {
            size_t n = strlen(val);
            if (n == 0 || n >= sizeof cfg->socket_path) {
                fprintf(err, "rosterd: --socket path must be 1..%zu bytes\n",
                        sizeof cfg->socket_path - 1);
                return RS_CONFIG_ERROR;
            }
            memcpy(cfg->socket_path, val, n + 1);
        } else if (!strcmp(f, "join")) {
            if (add_seeds(cfg, val, err) != 0)
                return RS_CONFIG_ERROR;
            cfg->cluster = 1;
        } else if (!strcmp(f, "cookie-file")) {
            struct stat st;
            if (stat(val, &st) != 0 || !S_ISREG(st.st_mode) || access(val, R_OK) != 0) {
                fprintf(err, "rosterd: --cookie-file %s: not a readable file\n", val);
                return RS_CONFIG_ERROR;
            }
            cfg->cookie_file = val;
        } else if (!strcmp(f, "data-dir")) {
            struct stat st;
            if (stat(val, &st) != 0 || !S_ISDIR(st.st_mode)) {
                fprintf(err, "rosterd: --data-dir %s: not a directory\n", val);
                return RS_CONFIG_ERROR;
            }
            cfg->data_dir = val;
        } else { /* log-level */
            int l = rs_log_level_parse(val);
            if (l < 0) {
                fprintf(err, "rosterd: --log-level '%s': expected error, warn, info or debug\n",
                        val);
                return RS_CONFIG_ERROR;
            }
            cfg->log_level = l;
        }
    }
    if (rs_limits_check(&cfg->limits) != 0) {
        struct rs_limits *l = &cfg->limits;
        fprintf(err,
                "rosterd: incoherent limits: need 0 < --max-name-bytes, %u <= --max-frame-bytes "
                "<= %u, frame >= name + 2 * meta + %u (name %u, meta %u, frame %u), and "
                "nonzero --max-connections, --max-pids-per-client, --queue-bytes, "
                "--max-message-bytes, --mailbox-bytes, and "
                "--queue-bytes <= --outbuf-bytes <= %u\n",
                RS_FRAME_MIN, RS_FRAME_MAX_CEILING,
                RS_FRAME_HEADER + RS_SCOPE_MAX + RS_NODE_NAME_MAX + 128, l->name_max,
                l->meta_max, l->frame_max, RS_OUTBUF_MAX_CEILING);
        return RS_CONFIG_ERROR;
    }
    if (cfg->limits.stall_ms == 0 || cfg->limits.outbuf_max == 0) {
        fprintf(err, "rosterd: --stall-timeout-ms and --outbuf-bytes must be > 0\n");
        return RS_CONFIG_ERROR;
    }
    if (cfg->down_after_ms < 2 * cfg->heartbeat_ms) {
        fprintf(err, "rosterd: --down-after-ms (%u) must be at least twice --heartbeat-ms (%u)\n",
                cfg->down_after_ms, cfg->heartbeat_ms);
        return RS_CONFIG_ERROR;
    }
    if (cfg->resolver && !policy_given)
        cfg->policy = RS_POLICY_CUSTOM;
    if (cfg->resolver && cfg->policy != RS_POLICY_CUSTOM) {
        fprintf(err, "rosterd: --resolver is only used with --conflict-policy custom\n");
        return RS_CONFIG_ERROR;
    }
    if (cfg->policy == RS_POLICY_CUSTOM && !cfg->resolver) {
        fprintf(err, "rosterd: --conflict-policy custom needs --resolver FILE.so\n");
        return RS_CONFIG_ERROR;
    }
    format_addr(cfg->listen_addr, sizeof cfg->listen_addr, cfg->listen_host, cfg->listen_port);
    return RS_CONFIG_OK;
}
