/* region.c: every simulated node publishes into a shared-memory region (docs/SHM.md), as
 * rosterd does; after each deep scan the region must show exactly what the node's listings
 * show: every name of the small name space with the same holder and metadata (or absent),
 * every group with the same members and metadata, and the same counts. Partitions, crashes,
 * conflicts, handoffs and purges thus all reach the region's writer, and its readers, with
 * an invariant checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "wire/shm.h"

void *region_new(void)
{
    return calloc(1, SIM_SHM_BYTES);
}

void region_check(struct sim_world *w, int node, int scope, const struct sim_set *view)
{
    if (scope == 1 && w->s1_opts)
        return; /* a scope with options is never in the region: clients use the socket */
    struct sim_node *n = &w->nodes[node];
    struct rs_shm_view v = {n->shm, SIM_SHM_BYTES};
    const char *sn = sim_scope_name(scope);
    struct rs_shm_scope_info si;
    int r = rs_shm_find_scope(&v, sn, strlen(sn), &si);
    if (r == RS_SHM_UNAVAIL || rs_shm_view_check(&v) != 0) {
        sim_fail(w, "n%d: the region cannot be read (scope %s)", node, sn);
        return;
    }
    uint64_t names = 0, members = 0;
    for (size_t i = 0; i < view->n; i++) {
        names += !view->v[i].group;
        members += view->v[i].group;
    }
    if (r == RS_SHM_ABSENT) { /* never published: the node must have nothing there */
        if (view->n)
            sim_fail(w, "n%d: scope %s lists %zu entries, the region has no such scope", node,
                     sn, view->n);
        return;
    }
    if (si.names != names || si.members != members) {
        sim_fail(w, "n%d: scope %s: region counts %llu names %llu members, listings %llu %llu",
                 node, sn, (unsigned long long)si.names, (unsigned long long)si.members,
                 (unsigned long long)names, (unsigned long long)members);
        return;
    }
    struct rs_shm_pid p;
    struct rs_shm_bytes meta = {0};
    struct rs_shm_members ms = {0};
    for (int k = 0; k < SIM_NNAMES && !w->failed; k++) {
        char key[2] = {(char)('a' + k), 0};
        const struct sim_entry *e = NULL;
        for (size_t i = 0; i < view->n && !e; i++)
            if (!view->v[i].group && strcmp(view->v[i].key, key) == 0)
                e = &view->v[i];
        r = rs_shm_lookup(&v, si.id, (const uint8_t *)key, 1, &p, &meta);
        if (r == RS_SHM_FOUND && e &&
            (p.inc != e->pid.inc || p.serial != e->pid.serial || meta.len != strlen(e->meta) ||
             memcmp(meta.data, e->meta, meta.len) != 0))
            sim_fail(w, "n%d: %s/%s: region holder %016llx.%llu, listed %016llx.%llu", node, sn,
                     key, (unsigned long long)p.inc, (unsigned long long)p.serial,
                     (unsigned long long)e->pid.inc, (unsigned long long)e->pid.serial);
        else if ((r == RS_SHM_FOUND) != (e != NULL))
            sim_fail(w, "n%d: %s/%s: region %s, listing %s", node, sn, key,
                     r == RS_SHM_FOUND ? "has it" : "has not", e ? "has it" : "has not");
    }
    for (int g = 0; g < SIM_NGROUPS && !w->failed; g++) {
        char key[8];
        snprintf(key, sizeof key, "g%d", g);
        r = rs_shm_members(&v, si.id, (const uint8_t *)key, strlen(key), &ms);
        size_t n_region = r == RS_SHM_FOUND ? ms.n : 0, n_view = 0;
        if (r != RS_SHM_FOUND && r != RS_SHM_ABSENT) {
            sim_fail(w, "n%d: %s/%s: region members unreadable", node, sn, key);
            break;
        }
        for (size_t i = 0; i < view->n; i++) {
            const struct sim_entry *e = &view->v[i];
            if (!e->group || strcmp(e->key, key) != 0)
                continue;
            n_view++;
            int found = 0;
            for (size_t j = 0; j < n_region && !found; j++)
                found = ms.v[j].inc == e->pid.inc && ms.v[j].serial == e->pid.serial &&
                        ms.v[j].meta_len == strlen(e->meta) &&
                        memcmp(ms.meta.data + ms.v[j].meta_off, e->meta, ms.v[j].meta_len) == 0;
            if (!found)
                sim_fail(w, "n%d: %s/%s: member %016llx.%llu (meta '%s') not in the region",
                         node, sn, key, (unsigned long long)e->pid.inc,
                         (unsigned long long)e->pid.serial, e->meta);
        }
        if (!w->failed && n_view != n_region)
            sim_fail(w, "n%d: %s/%s: region has %zu members, listing %zu", node, sn, key,
                     n_region, n_view);
    }
    rs_shm_bytes_fini(&meta);
    rs_shm_members_fini(&ms);
}
