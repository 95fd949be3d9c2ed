/* cmd_scopemeta.c: scope metadata (issue 11 item 11): `scope-meta set S K V`,
 * `scope-meta get S [K]`, `scope-meta delete S K`, and the printing of its events for
 * `watch --scope-meta`. */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"

static void print_value(struct ctl *x, const char *scope, const roster_entry *e)
{
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "scope", scope);
        jo_bytes(&o, "key", e->name.data, e->name.len);
        jo_bytes(&o, "value", e->meta.data, e->meta.len);
        jo_str(&o, "node", e->node);
        jo_token(&o, "stamp", e->token);
        jo_end(&o);
        return;
    }
    text_bytes(stdout, e->name.data, e->name.len);
    fputc('=', stdout);
    text_bytes(stdout, e->meta.data, e->meta.len);
    fputc('\n', stdout);
}

static int meta_get(struct ctl *x, const char *scope, const char *key)
{
    if (key) {
        roster_buf v;
        int r = roster_scope_meta_get(x->c, scope, key, strlen(key), &v, x->timeout_ms);
        if (r)
            return ctl_fail(x, "scope-meta get", r, "key", key);
        if (x->json) {
            struct jobj o;
            jo_begin(&o, stdout);
            jo_str(&o, "scope", scope);
            jo_str(&o, "key", key);
            jo_bytes(&o, "value", v.data, v.len);
            jo_end(&o);
        } else {
            text_bytes(stdout, v.data, v.len);
        }
        fputc('\n', stdout);
        roster_buf_free(&v);
        return 0;
    }
    roster_entries l;
    int r = roster_scope_meta_list(x->c, scope, NULL, 0, &l, x->timeout_ms);
    if (r)
        return ctl_fail(x, "scope-meta get", r, NULL, NULL);
    list_begin(x);
    for (size_t i = 0; i < l.n; i++) {
        list_sep(x, i);
        print_value(x, scope, &l.items[i]);
    }
    list_end(x);
    roster_entries_free(&l);
    return 0;
}

int cmd_scope_meta(struct ctl *x, int argc, char **argv)
{
    const char *pos[4] = {NULL, NULL, NULL, NULL};
    int np = 0;
    int r = ctl_args(x, argc, argv, NULL, pos, 2, 4, &np);
    if (r)
        return r;
    const char *op = pos[0], *scope = pos[1], *key = np > 2 ? pos[2] : NULL;
    int set = strcmp(op, "set") == 0, get = strcmp(op, "get") == 0;
    int del = strcmp(op, "delete") == 0;
    if (!set && !get && !del)
        return ctl_usage(x, "scope-meta takes set, get or delete, not \"%s\"", op);
    if ((set && np != 4) || (get && np > 3) || (del && np != 3))
        return ctl_usage(x, "usage: scope-meta set S K V | get S [K] | delete S K");
    if ((r = ctl_connect(x)))
        return r;
    if (get)
        return meta_get(x, scope, key);
    if (set)
        r = roster_scope_meta_set(x->c, scope, key, strlen(key), pos[3], strlen(pos[3]),
                                  x->timeout_ms);
    else
        r = roster_scope_meta_delete(x->c, scope, key, strlen(key), x->timeout_ms);
    if (r)
        return ctl_fail(x, set ? "scope-meta set" : "scope-meta delete", r, "key", key);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "scope", scope);
        jo_str(&o, "key", key);
        if (set)
            jo_str(&o, "value", pos[3]);
        else
            jo_bool(&o, "deleted", 1);
        jo_end(&o);
        fputc('\n', stdout);
    } else if (set) {
        printf("set %s in scope %s\n", key, scope);
    } else {
        printf("deleted %s from scope %s\n", key, scope);
    }
    return 0;
}

int print_scope_meta_event(struct ctl *x, const roster_event *ev)
{
    if (ev->type != ROSTER_EV_SCOPE_META_SET && ev->type != ROSTER_EV_SCOPE_META_DELETED)
        return 0;
    int set = ev->type == ROSTER_EV_SCOPE_META_SET;
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "type", roster_event_type_name(ev->type));
        jo_str(&o, "scope", ev->scope);
        jo_bytes(&o, "key", ev->name.data, ev->name.len);
        jo_bytes(&o, "value", ev->meta.data, ev->meta.len);
        if (set)
            jo_bytes(&o, "prev_value", ev->prev_meta.data, ev->prev_meta.len);
        jo_str(&o, "node", ev->node);
        if (ev->snapshot)
            jo_bool(&o, "snapshot", 1);
        jo_end(&o);
    } else {
        printf("%s %s ", roster_event_type_name(ev->type), ev->scope);
        text_bytes(stdout, ev->name.data, ev->name.len);
        printf(" %s value=", ev->node);
        text_bytes(stdout, ev->meta.data, ev->meta.len);
        if (set && ev->prev_meta.len) {
            fputs(" prev_value=", stdout);
            text_bytes(stdout, ev->prev_meta.data, ev->prev_meta.len);
        }
        if (ev->snapshot)
            fputs(" (snapshot)", stdout);
    }
    fputc('\n', stdout);
    fflush(stdout);
    return 1;
}
