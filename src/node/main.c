/* main.c: rosterd entry point: flags -> config, the node's start, run and clean stop.
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT) or --help/--version, 1 when the node
 * cannot start or run (socket or port in use, bind failure, no cookie, ...), 2 for usage
 * errors (a --resolver that cannot be loaded among them). */
#include <dlfcn.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "base/alloc.h"
#include "node/tls.h"
#include "node/config.h"
#include "node/log.h"
#include "node/node.h"
#include "node/peer.h"
#include <roster.h>

/* Room for every allowed connection plus the listener, libuv's own descriptors and spares. */
static void raise_nofile(unsigned conns_max)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)conns_max + 64;
    if (rl.rlim_cur >= want)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want)
        return;
    rs_log(RS_LOG_WARN,
           "descriptor limit %llu (hard %llu) is below --max-connections %u + 64: connections "
           "past the limit will be accepted and closed",
           (unsigned long long)(rl.rlim_cur > old ? rl.rlim_cur : old),
           (unsigned long long)rl.rlim_max, conns_max);
}

/* probe_resolver asks r once, both ways round, about two made-up claims, so that a resolver
 * that breaks the rules is reported at start rather than at the first real conflict (the
 * core refuses each such answer then, and the default policy decides). */
static void probe_resolver(const roster_resolver *r)
{
    roster_claim a = {{0x1111, 1}, "probe-a", "a", 1, (uint64_t)1 << 16};
    roster_claim b = {{0x2222, 2}, "probe-b", "b", 1, (uint64_t)2 << 16};
    roster_conflict x = {ROSTER_RESOLVER_ABI, "default", "probe", 5, &a, &b};
    const roster_claim *w1 = r->resolve(&x);
    x.a = &b;
    x.b = &a;
    const roster_claim *w2 = r->resolve(&x);
    const char *why = (w1 != &a && w1 != &b) || (w2 != &a && w2 != &b)
                          ? "returned neither claim"
                      : w1 != w2 ? "picked another winner for the swapped arguments"
                                 : NULL;
    if (why)
        rs_log(RS_LOG_WARN,
               "conflict resolver %s v%u breaks the rules (probe at start: it %s): its "
               "answers will be refused and the default policy (oldest) will decide",
               r->name, (unsigned)r->version, why);
}

/* load_resolver opens --resolver FILE.so and checks its ROSTER_RESOLVER_SYMBOL (roster.h):
 * the ABI it was built for, a name peers can compare, a resolve function. The handle
 * stays open for the life of the process: the core calls into it. 0, or -1 (said why). */
static int load_resolver(struct rsd_config *cfg)
{
    void *so = dlopen(cfg->resolver, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        fprintf(stderr, "rosterd: --resolver %s: %s\n", cfg->resolver, dlerror());
        return -1;
    }
    const roster_resolver *r = dlsym(so, ROSTER_RESOLVER_SYMBOL);
    const char *why = NULL;
    if (!r)
        why = "no symbol " ROSTER_RESOLVER_SYMBOL " (a const roster_resolver, roster.h)";
    else if (r->abi != ROSTER_RESOLVER_ABI)
        why = "built for another resolver ABI than this rosterd's ROSTER_RESOLVER_ABI";
    else if (!r->resolve)
        why = "its resolve function is NULL";
    size_t nl = r && r->name ? strlen(r->name) : 0;
    for (size_t i = 0; !why && i < nl; i++) {
        char ch = r->name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            why = "its name is not [A-Za-z0-9._-]";
    }
    if (!why && (nl == 0 || nl > 64))
        why = "its name is not 1-64 bytes";
    if (why) {
        fprintf(stderr, "rosterd: --resolver %s: %s\n", cfg->resolver, why);
        dlclose(so);
        return -1;
    }
    cfg->public_resolver = r;
    rs_log(RS_LOG_INFO, "conflict resolver %s v%u from %s", r->name, (unsigned)r->version,
           cfg->resolver);
    probe_resolver(r);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    /* Count the node's live bytes from the start: status shows them and --max-memory
     * (reloadable) compares against them. */
    rs_alloc_count_start();
    static struct rsd_config cfg;
    switch (rs_config_parse(&cfg, argc, argv, stdout, stderr)) {
    case RS_CONFIG_OK:
        break;
    case RS_CONFIG_HELP:
    case RS_CONFIG_VERSION:
        return 0;
    default:
        return 2;
    }
    rs_log_set_level(cfg.log_level);
    rs_log_set_format(cfg.log_format);
    rs_log_set_node(cfg.name);
    if (cfg.config_path[0])
        rs_log(RS_LOG_INFO, "config file %s: %zu setting(s)", cfg.config_path, cfg.file.n);
    if (cfg.resolver && load_resolver(&cfg) != 0)
        return 2;
    if (sodium_init() < 0) {
        rs_log(RS_LOG_ERROR, "libsodium failed to initialise");
        return 1;
    }
    raise_nofile(cfg.limits.conns_max);

    static struct rsd node;
    int status = 1;
    if (rsd_init(&node, &cfg) == 0 &&
        (!cfg.cluster ||
         (rs_cookie_load(&cfg, &node.keys) == 0 && rsd_tls_load(&node) == 0 &&
          rs_peer_listen_start(&node) == 0))) {
        int live = 0;
        if (rs_listen_start(&node, &live) == 0) {
            rs_log(RS_LOG_INFO,
                   "rosterd %d.%d.%d node '%s' incarnation %016llx serving clients on %s "
                   "(max %u connections, log level %s)",
                   ROSTER_VERSION_MAJOR, ROSTER_VERSION_MINOR, ROSTER_VERSION_PATCH, cfg.name,
                   (unsigned long long)node.incarnation, cfg.socket_path, cfg.limits.conns_max,
                   rs_log_level_name(cfg.log_level));
            if (cfg.cluster) {
                rs_log(RS_LOG_INFO, "cluster: heartbeat %u ms, down after %u ms, conflict "
                       "policy %s, %zu seed(s)", cfg.heartbeat_ms, cfg.down_after_ms,
                       (const char *const[]){"oldest", "newest", "priority",
                                             "custom"}[cfg.policy],
                       cfg.n_seeds);
                for (size_t i = 0; i < cfg.n_seeds; i++)
                    rs_dial_keep(&node, "", 0, cfg.seeds[i], strlen(cfg.seeds[i]));
                rsd_perform(&node);
            } else {
                rs_log(RS_LOG_INFO, "single node: no --listen or --join, no TCP socket opened");
            }
            if (cfg.data_dir)
                rs_log(RS_LOG_INFO, "data dir %s", cfg.data_dir);
            rsd_run(&node);
            status = 0;
            rs_log(RS_LOG_INFO, "stopped");
        }
    }
    rsd_fini(&node);
    rs_config_free(&cfg);
    return status;
}
