/* access_node.c: the node's side of the access flags (access_cfg.h): hands the parsed rules
 * and the memory ceiling to the core at start and at each SIGHUP, owns the rules in force
 * (the core only borrows them), and gives the client socket its owner, group and mode. */
#include "node/access_node.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/acl.h"
#include "node/config.h"
#include "node/fair.h"
#include "node/log.h"

/* Rules taken from a reloaded config (the start's stay owned by the start config). */
static struct rs_acl *reloaded;

static void log_rules(const struct rsd_access_cfg *a, const char *when)
{
    if (a->acl)
        rs_log(RS_LOG_INFO, "%saccess rules: %zu rule(s) from %s", when, a->acl->n, a->acl_path);
    else
        rs_log(RS_LOG_INFO,
               "%sno access rules: every local user may do everything the "
               "socket's mode lets it reach",
               when);
}

void rsd_access_start(struct rsd *n)
{
    const struct rsd_access_cfg *a = &n->cfg->access;
    rs_core_set_acl(n->core, a->acl);
    rs_core_set_memory_max(n->core, a->max_memory);
    if (a->acl)
        log_rules(a, "");
    if (a->max_memory)
        rs_log(RS_LOG_INFO, "memory ceiling %llu bytes", (unsigned long long)a->max_memory);
}

void rsd_access_socket(const struct rsd_config *cfg, const char *path)
{
    const struct rsd_access_cfg *a = &cfg->access;
    if ((a->owner_set || a->group_set) && chown(path, a->owner_set ? (uid_t)a->owner : (uid_t)-1,
                                                a->group_set ? (gid_t)a->group : (gid_t)-1) != 0)
        rs_log(RS_LOG_WARN, "chown %s to %d:%d: %s", path, a->owner_set ? (int)a->owner : -1,
               a->group_set ? (int)a->group : -1, strerror(errno));
    if (chmod(path, (mode_t)a->mode) != 0)
        rs_log(RS_LOG_WARN, "chmod %04o %s: %s", a->mode, path, strerror(errno));
}

int rsd_access_reload(struct rsd *n, struct rsd_config *fresh)
{
    struct rsd_access_cfg *a = &fresh->access;
    const struct rsd_access_cfg *old = &n->cfg->access;
    int changed = 0;
    /* The rules are read again whatever changed on disk: a reload is how an edit of the
     * file takes effect. */
    rs_core_set_acl(n->core, a->acl);
    log_rules(a, "config reload: ");
    rs_acl_free(reloaded);
    reloaded = a->acl;
    a->acl = NULL; /* owned here now: rs_config_free(fresh) must not free it */
    if (reloaded || old->acl)
        changed++;
    if (a->max_memory != old->max_memory) {
        rs_core_set_memory_max(n->core, a->max_memory);
        rs_log(RS_LOG_INFO, "config reload: max-memory: %llu -> %llu",
               (unsigned long long)old->max_memory, (unsigned long long)a->max_memory);
        changed++;
    }
    if (a->client_rate != old->client_rate || a->client_burst != old->client_burst) {
        rsd_fair_set(n, a->client_rate, a->client_burst); /* logs the new values */
        changed++;
    }
    if (a->mode != old->mode || a->owner_set != old->owner_set || a->owner != old->owner ||
        a->group_set != old->group_set || a->group != old->group) {
        rsd_access_socket(fresh, n->cfg->socket_path);
        rs_log(RS_LOG_INFO, "config reload: socket owner, group or mode applied to %s",
               n->cfg->socket_path);
        changed++;
    }
    return changed;
}

void rsd_access_stop(void)
{
    rs_acl_free(reloaded);
    reloaded = NULL;
}
