/* subs.c: the table of subscriptions: by id in the core's map, on their scope's list and
 * on their client's list. Add, find, remove, counters. A table: no outputs. */
#include "base/check.h"
#include "core/subs.h"

static int sub_eq(const void *item, const void *key)
{
    return ((const struct rs_sub *)item)->id == *(const uint64_t *)key;
}

struct rs_sub *rs_subs_find(const struct rs_core *c, uint64_t id)
{
    return rs_map_get(&c->subs, rs_hash_u64(c->seed, id), &id, sub_eq);
}

int rs_subs_add(struct rs_core *c, struct rs_sub *s)
{
    if (rs_map_put(&c->subs, rs_hash_u64(c->seed, s->id), s) != 0) {
        c->oom = 1;
        return -1;
    }
    RS_LIST_PUSH(s->scope->subs, s, sprev, snext);
    RS_LIST_PUSH(s->client->subs, s, cprev, cnext);
    s->client->n_subs++;
    return 0;
}

void rs_subs_free(struct rs_core *c, struct rs_sub *s)
{
    int gone = rs_map_del_item(&c->subs, rs_hash_u64(c->seed, s->id), s);
    RS_ASSERT(gone == 0);
    RS_LIST_DEL(s->scope->subs, s, sprev, snext);
    RS_LIST_DEL(s->client->subs, s, cprev, cnext);
    RS_ASSERT(s->client->n_subs > 0);
    s->client->n_subs--;
    rs_free(s);
}

void rs_subs_drop_client(struct rs_core *c, struct rs_client *cl)
{
    while (cl->subs)
        rs_subs_free(c, cl->subs);
}

void rs_subs_free_all(struct rs_core *c)
{
    for (size_t i = 0; i < c->subs.cap; i++)
        rs_free(c->subs.slots[i].item);
    rs_map_fini(&c->subs);
}
