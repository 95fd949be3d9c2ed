/* access_node.h: the node's side of the access flags (access_node.c). */
#ifndef ROSTER_NODE_ACCESS_NODE_H
#define ROSTER_NODE_ACCESS_NODE_H

#include "node/node.h"

/* rsd_access_start gives the core the start config's rules and memory ceiling. */
void rsd_access_start(struct rsd *n);
/* rsd_access_socket gives the bound client socket at path its owner, group and mode. */
void rsd_access_socket(const struct rsd_config *cfg, const char *path);
/* rsd_access_reload applies a reloaded config's rules (taken from fresh), ceiling and socket
 * permissions; returns how many changes it applied. */
int rsd_access_reload(struct rsd *n, struct rsd_config *fresh);
/* rsd_access_stop frees the rules a reload installed (after the core is gone). */
void rsd_access_stop(void);

#endif
