/* main.c: rosterd entry point: flags -> config, the node's start, run and clean stop.
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT) or --help/--version, 1 when the node
 * cannot start or run (socket in use, bind failure, ...), 2 for usage errors. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "log.h"
#include "node.h"
#include "roster.h"

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

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    static struct rs_node_config cfg;
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
    raise_nofile(cfg.limits.conns_max);

    static struct rs_node node;
    int status = 1;
    if (rs_node_init(&node, &cfg) == 0) {
        int live = 0;
        if (rs_listen_start(&node, &live) == 0) {
            rs_log(RS_LOG_INFO,
                   "rosterd %d.%d.%d node '%s' incarnation %016llx serving clients on %s "
                   "(max %u connections, log level %s)",
                   ROSTER_VERSION_MAJOR, ROSTER_VERSION_MINOR, ROSTER_VERSION_PATCH, cfg.name,
                   (unsigned long long)node.incarnation, cfg.socket_path, cfg.limits.conns_max,
                   rs_log_level_name(cfg.log_level));
            rs_log(RS_LOG_INFO,
                   "peer address %s:%u recorded; clustering is not available in this version, "
                   "no TCP socket is opened",
                   cfg.listen_host, cfg.listen_port);
            if (cfg.data_dir)
                rs_log(RS_LOG_INFO, "data dir %s", cfg.data_dir);
            rs_node_run(&node);
            status = 0;
            rs_log(RS_LOG_INFO, "stopped");
        }
    }
    rs_node_fini(&node);
    return status;
}
