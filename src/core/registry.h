/* registry.h: the requests on unique names (registry.c); the table is names.h. */
#ifndef ROSTER_CORE_REGISTRY_H
#define ROSTER_CORE_REGISTRY_H

#include "core/internal.h"

/* rs_check_entry validates KEY / META of a register or join request; 0 or error sent. */
int rs_check_entry(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                   const char *what);
void rs_registry_on_register(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_registry_on_unregister(struct rs_core *c, struct rs_client *cl,
                               const struct rs_msg *req);
void rs_registry_on_lookup(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_registry_on_names(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

#endif
