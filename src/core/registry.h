/* registry.h: unique names: the name table and the name requests (registry.c). */
#ifndef ROSTER_CORE_REGISTRY_H
#define ROSTER_CORE_REGISTRY_H

#include "internal.h"

/* rs_check_entry validates KEY / META of a register or join request; 0 or error sent. */
int rs_check_entry(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                   const char *what);
struct rs_name *rs_registry_find(const struct rs_core *c, const struct rs_scope *s,
                                 const uint8_t *key, size_t len);
void rs_registry_remove(struct rs_core *c, struct rs_name *n, uint32_t reason);
void rs_registry_on_register(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_registry_on_unregister(struct rs_core *c, struct rs_client *cl,
                               const struct rs_msg *req);
void rs_registry_on_lookup(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_registry_on_names(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_registry_put_remote applies a remote register (or update) of key by remote pid p.
 * 0, or -1 when out of memory. */
int rs_registry_put_remote(struct rs_core *c, struct rs_scope *s, struct rs_proc *p,
                           struct rs_bytes key, struct rs_bytes meta, uint64_t hlc);
/* rs_registry_claim_of returns p's claim on key in s, or NULL. */
struct rs_name *rs_registry_claim_of(const struct rs_core *c, const struct rs_scope *s,
                                     const struct rs_proc *p, struct rs_bytes key);
/* rs_registry_matching collects the names of s whose key starts with pre (all if exact is
 * 0) or equals it (exact 1), sorted by key. Caller frees *out. -1 when out of memory. */
int rs_registry_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                         size_t pn, int exact, struct rs_name ***out, size_t *n);

#endif
