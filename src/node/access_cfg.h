/* access_cfg.h: rosterd's access and fairness flags (docs/SECURITY.md, docs/DAEMON.md):
 * --acl FILE (parsed here, at start and at every SIGHUP, so a broken file is refused with
 * its line before anything changes), --socket-owner, --socket-group, --socket-mode,
 * --max-memory, --client-rate and --client-burst. Part of the config library (pure of the
 * loop): the node applies the result with rsd_access_* (access_node.c). */
#ifndef ROSTER_NODE_ACCESS_CFG_H
#define ROSTER_NODE_ACCESS_CFG_H

#include <stdint.h>
#include <stdio.h>

struct rsd_config;
struct rs_acl;

/* The flags' state, a member of struct rsd_config. */
struct rsd_access_cfg {
    const char *acl_path; /* --acl (argv or config file string); NULL: no rules */
    struct rs_acl *acl;   /* its rules, parsed; freed by rs_config_free unless taken */
    int owner_set, group_set;
    uint32_t owner, group; /* --socket-owner / --socket-group (names resolved) */
    unsigned mode;         /* --socket-mode, octal; default 0666 */
    uint64_t max_memory;   /* --max-memory BYTES (0: none) */
    unsigned client_rate;  /* --client-rate: requests a second per connection (0: none) */
    unsigned client_burst; /* --client-burst: requests above the rate in one go */
};

#define RSD_SOCKET_MODE_DEFAULT 0666u
#define RSD_CLIENT_BURST_DEFAULT 1000u

/* rsd_access_cfg_set handles one of the flags (name without dashes); 0, 1 if name is not
 * one of them, or -1 after writing the message to err. */
int rsd_access_cfg_set(struct rsd_access_cfg *a, const char *name, const char *val, FILE *err);
/* rsd_access_cfg_defaults / _free: before the parse / in rs_config_free. */
void rsd_access_cfg_defaults(struct rsd_access_cfg *a);
void rsd_access_cfg_free(struct rsd_access_cfg *a);
/* rsd_access_cfg_load parses the --acl file (at the end of the parse: the last --acl
 * wins); 0 or -1 after writing "rosterd: --acl FILE:LINE: why" to err. */
int rsd_access_cfg_load(struct rsd_access_cfg *a, FILE *err);

#endif
