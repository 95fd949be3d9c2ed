/* set.c: small sets of registry entries and group members. A node's view (read through
 * the client protocol), a subscriber's replayed state and the clients' expectation are all
 * sim_sets, so every comparison of the final checks is one sort and one set_diff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void set_clear(struct sim_set *s) { s->n = 0; }

void set_free(struct sim_set *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

void set_copy_bytes(char *dst, size_t cap, struct rs_bytes b)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    if (n)
        memcpy(dst, b.ptr, n);
    dst[n] = 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

struct sim_entry *set_add(struct sim_set *s, int group, const char *key, struct rs_pid pid,
                          const char *meta)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    struct sim_entry *e = &s->v[s->n++];
    memset(e, 0, sizeof *e);
    e->group = group;
    copy_str(e->key, sizeof e->key, key);
    e->pid = pid;
    copy_str(e->meta, sizeof e->meta, meta ? meta : "");
    return e;
}

struct sim_entry *set_find(struct sim_set *s, int group, const char *key, struct rs_pid pid)
{
    for (size_t i = 0; i < s->n; i++) {
        struct sim_entry *e = &s->v[i];
        if (e->group != group || strcmp(e->key, key) != 0)
            continue;
        if (!group || (e->pid.inc == pid.inc && e->pid.serial == pid.serial))
            return e;
    }
    return NULL;
}

void set_del(struct sim_set *s, struct sim_entry *e)
{
    size_t i = (size_t)(e - s->v);
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
    s->n--;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct sim_entry *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group - b->group;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    if (a->pid.inc != b->pid.inc)
        return a->pid.inc < b->pid.inc ? -1 : 1;
    if (a->pid.serial != b->pid.serial)
        return a->pid.serial < b->pid.serial ? -1 : 1;
    return strcmp(a->meta, b->meta);
}

void set_sort(struct sim_set *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_entry);
}

static void describe(const struct sim_entry *e, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %s pid %016llx.%llu meta '%s'", e->group ? "member of" : "name",
             e->key, (unsigned long long)e->pid.inc, (unsigned long long)e->pid.serial, e->meta);
}

int set_diff(const struct sim_set *a, const struct sim_set *b, char *buf, size_t cap)
{
    size_t i = 0, j = 0;
    char d[160];
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : cmp_entry(&a->v[i], &b->v[j]);
        if (c == 0) {
            i++;
            j++;
            continue;
        }
        if (c < 0) {
            describe(&a->v[i], d, sizeof d);
            snprintf(buf, cap, "only in first: %s", d);
        } else {
            describe(&b->v[j], d, sizeof d);
            snprintf(buf, cap, "only in second: %s", d);
        }
        return 1;
    }
    return 0;
}
