/* config.c: rosterd flag parsing and validation (contract in docs/DAEMON.md). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
            "  --name N             node name, <= 255 bytes (default: short hostname)\n"
            "  --socket PATH        client Unix socket (default: %s;\n"
            "                       $ROSTER_SOCKET overrides the default)\n"
            "  --listen HOST:PORT   peer TCP address for clustering (default " RS_LISTEN_DEFAULT
            ");\n"
            "                       validated only: clustering arrives in a later release,\n"
            "                       this version opens no TCP socket\n"
            "  --join HOST:PORT[,...]  seed nodes; clustering is not available in this\n"
            "                       version, so this flag is refused (exit 2)\n"
            "  --cookie-file F      cluster secret file (must be readable if given)\n"
            "  --data-dir D         directory for strong scopes' Raft log (must exist)\n"
            "  --log-level L        error | warn | info | debug (default info)\n"
            "  --help, --version\n\nLimits (decimal, < 2^32):\n",
            rs_default_socket(sock, sizeof sock));
    for (size_t i = 0; i < N_LIMIT_FLAGS; i++) {
        unsigned v = *(const unsigned *)((const char *)&d + limit_flags[i].off);
        fprintf(f, "  --%-29s %s (default %u)\n", limit_flags[i].flag, limit_flags[i].help, v);
    }
    fprintf(f, "\nSignals: SIGTERM / SIGINT stop the node cleanly (exit 0).\n"
               "Exit status: 0 clean stop, 1 runtime failure (socket in use, ...), 2 usage.\n");
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
    snprintf(name, cap, "%s", host);
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
                    !strcmp(f, "log-level");
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
            size_t n = strlen(val);
            if (n == 0 || n > RS_NODE_NAME_MAX) {
                fprintf(err, "rosterd: --name must be 1..%u bytes\n", RS_NODE_NAME_MAX);
                return RS_CONFIG_ERROR;
            }
            memcpy(cfg->name, val, n + 1);
        } else if (!strcmp(f, "listen")) {
            if (rs_config_parse_hostport(val, cfg->listen_host, sizeof cfg->listen_host,
                                         &cfg->listen_port) != 0) {
                fprintf(err, "rosterd: --listen '%s': expected HOST:PORT (port 1..65535)\n",
                        val);
                return RS_CONFIG_ERROR;
            }
        } else if (!strcmp(f, "socket")) {
            size_t n = strlen(val);
            if (n == 0 || n >= sizeof cfg->socket_path) {
                fprintf(err, "rosterd: --socket path must be 1..%zu bytes\n",
                        sizeof cfg->socket_path - 1);
                return RS_CONFIG_ERROR;
            }
            memcpy(cfg->socket_path, val, n + 1);
        } else if (!strcmp(f, "join")) {
            fprintf(err, "rosterd: --join %s: clustering is not available in this version of "
                         "roster (single node only); run without --join\n",
                    val);
            return RS_CONFIG_ERROR;
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
                "nonzero --max-connections, --max-pids-per-client, --queue-bytes, and "
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
    return RS_CONFIG_OK;
}
