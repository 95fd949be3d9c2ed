/* dash_api.c: the dashboard's JSON views and its page route. Each view is copied out of the
 * core by one short callback on the loop thread (rsd_http_on_loop), bounded in entries, and
 * formatted on the HTTP thread; the browser polls them (docs/DASHBOARD.md). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <roster.h>

#include "node/dash.h"
#include "node/metrics.h"
#include "node/node.h"

#define LIST_MAX 500 /* names or groups one answer lists; the total is counted past it */

/* utf8_len returns the length of the valid UTF-8 sequence at p[0, n) (2 to 4 bytes; no
 * overlong form, surrogate or code point past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || p[0] > 0xf4 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return len;
}

void rsd_dash_json_str(FILE *f, const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        size_t k;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c >= 0x80 && (k = utf8_len(u + i, n - i)) > 0) {
            fwrite(u + i, 1, k, f); /* valid UTF-8 goes as it is */
            i += k - 1;
        } else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int reply_json(struct rsd_http_reply *r, char *body, size_t len)
{
    r->status = 200;
    r->content_type = "application/json";
    r->body = body;
    r->len = len;
    return 0;
}

/* --- the page ------------------------------------------------------------------------- */

int rsd_dash_page(struct rsd_http *h, void *arg, const char *path, const char *query,
                  struct rsd_http_reply *r)
{
    (void)h;
    (void)arg;
    (void)path;
    (void)query;
    r->body = strdup(rsd_dash_html);
    if (!r->body)
        return -1;
    r->len = strlen(r->body);
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    return 0;
}

/* --- /api/state: the node, its peers, scopes and counters (the metrics snapshot) ------- */

struct state_job {
    struct rs_metrics_snap snap;
    int r;
};

static void take_state(struct rsd *n, void *arg)
{
    struct state_job *j = arg;
    j->r = rs_metrics_snap_take(n, &j->snap);
}

int rsd_dash_state(struct rsd_http *h, void *arg, const char *path, const char *query,
                   struct rsd_http_reply *r)
{
    (void)path;
    (void)query;
    struct state_job *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    if (rsd_http_on_loop(h, take_state, j) != 0 || j->r != 0) {
        free(j);
        return -1;
    }
    const struct rs_metrics_snap *s = &j->snap;
    const struct rs_core_stats *c = &s->core;
    uint64_t reqs = 0;
    for (unsigned k = 0; k < 256; k++)
        reqs += s->req[k].count;
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f) {
        rs_metrics_snap_free(&j->snap);
        free(j);
        return -1;
    }
    fputs("{\"node\":", f);
    rsd_dash_json_str(f, s->node, strlen(s->node));
    fprintf(f, ",\"version\":\"%d.%d.%d\",\"uptime_ms\":%" PRIu64, ROSTER_VERSION_MAJOR,
            ROSTER_VERSION_MINOR, ROSTER_VERSION_PATCH, s->uptime_ms);
    fprintf(f, ",\"totals\":{\"connections\":%" PRIu64 ",\"clients\":%" PRIu64
               ",\"pids\":%" PRIu64 ",\"names\":%" PRIu64 ",\"groups\":%" PRIu64
               ",\"members\":%" PRIu64 ",\"subscriptions\":%" PRIu64 ",\"monitors\":%" PRIu64
               ",\"scopes\":%" PRIu64 "}",
            s->conns, c->clients, c->pids, c->names, c->groups, c->members, c->subscriptions,
            c->monitors, c->scopes);
    fprintf(f, ",\"counters\":{\"requests\":%" PRIu64 ",\"events_sent\":%" PRIu64
               ",\"messages_delivered\":%" PRIu64 ",\"messages_dropped\":%" PRIu64
               ",\"conflicts\":%" PRIu64 ",\"nodes_down\":%" PRIu64
               ",\"subscription_overflows\":%" PRIu64 ",\"stream_dropped\":%" PRIu64 "}",
            reqs, c->events_sent, c->msgs_delivered, c->msgs_dropped, c->conflicts,
            c->nodes_down, c->sub_overflows, rsd_dash_dropped(arg));
    static const char *const states[] = {"?", "up", "down", "connecting", "left"};
    fputs(",\"peers\":[", f);
    for (size_t i = 0; i < s->n_peers; i++) {
        const struct rs_metrics_peer *p = &s->peers[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        rsd_dash_json_str(f, p->name, strlen(p->name));
        fprintf(f, ",\"state\":\"%s\",\"rtt_ms\":%" PRIu64 ",\"entries\":%" PRIu64
                   ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"unread\":%" PRIu64
                   ",\"reconnects\":%" PRIu64 "}",
                p->state >= 1 && p->state <= 4 ? states[p->state] : "?", p->rtt_ms,
                p->entries, p->bytes_in, p->bytes_out, p->unread, p->ups > 1 ? p->ups - 1 : 0);
    }
    fputs("],\"scopes\":[", f);
    for (size_t i = 0; i < s->n_scopes; i++) {
        const struct rs_metrics_scope *m = &s->scopes[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        rsd_dash_json_str(f, m->name, strlen(m->name));
        fprintf(f, ",\"names\":%" PRIu64 ",\"groups\":%" PRIu64 ",\"members\":%" PRIu64
                   ",\"subscriptions\":%" PRIu64 "}",
                m->names, m->groups, m->members, m->subscriptions);
    }
    fputs("]}\n", f);
    int bad = fclose(f) != 0;
    rs_metrics_snap_free(&j->snap);
    free(j);
    if (bad) {
        free(body);
        return -1;
    }
    return reply_json(r, body, len);
}

/* --- /api/names and /api/groups: a prefix search in one scope; /api/members: a group ---- */

struct entry {
    char *key;
    size_t key_len;
    uint64_t inc, serial, members;
    size_t meta_len;
    char node[RS_NODE_NAME_MAX + 1];
};

struct list_job {
    const char *scope, *pre;
    int groups; /* 0 names, 1 groups, 2 members of group pre */
    long total;
    struct entry *v;
    size_t n;
    int oom;
};

static void take_entry(void *ctx, const struct rs_core_entry_view *e)
{
    struct list_job *j = ctx;
    struct entry *x = &j->v[j->n];
    x->key = malloc(e->key_len ? e->key_len : 1);
    if (!x->key) {
        j->oom = 1;
        return;
    }
    memcpy(x->key, e->key, e->key_len);
    x->key_len = e->key_len;
    x->inc = e->pid_inc;
    x->serial = e->pid_serial;
    x->members = e->members;
    x->meta_len = e->meta_len;
    size_t nl = e->node_len < RS_NODE_NAME_MAX ? e->node_len : RS_NODE_NAME_MAX;
    if (e->node)
        memcpy(x->node, e->node, nl);
    x->node[e->node ? nl : 0] = 0;
    j->n++;
}

static void take_list(struct rsd *n, void *arg)
{
    struct list_job *j = arg;
    long (*view)(const struct rs_core *, const char *, size_t, const char *, size_t, size_t,
                 void (*)(void *, const struct rs_core_entry_view *), void *) =
        j->groups == 2 ? rs_core_members_view
        : j->groups    ? rs_core_groups_view
                       : rs_core_names_view;
    j->total = view(n->core, j->scope, strlen(j->scope), j->pre, strlen(j->pre), LIST_MAX,
                    take_entry, j);
}

static int by_key(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int list(struct rsd_http *h, struct rsd_http_reply *r, int groups)
{
    struct list_job j = {0};
    j.scope = rsd_http_arg(r, "scope");
    j.pre = rsd_http_arg(r, groups == 2 ? "group" : "prefix");
    if (!j.scope || !*j.scope)
        j.scope = "default";
    if (!j.pre)
        j.pre = "";
    j.groups = groups;
    j.v = calloc(LIST_MAX, sizeof *j.v);
    if (!j.v)
        return -1;
    int rc = rsd_http_on_loop(h, take_list, &j);
    char *body = NULL;
    size_t len = 0;
    FILE *f = rc == 0 && !j.oom ? open_memstream(&body, &len) : NULL;
    if (f) {
        if (groups != 2)
            qsort(j.v, j.n, sizeof *j.v, by_key);
        fputs("{\"scope\":", f);
        rsd_dash_json_str(f, j.scope, strlen(j.scope));
        fputs(groups == 2 ? ",\"group\":" : ",\"prefix\":", f);
        rsd_dash_json_str(f, j.pre, strlen(j.pre));
        fprintf(f, ",\"known\":%s,\"total\":%ld,\"items\":[", j.total < 0 ? "false" : "true",
                j.total < 0 ? 0 : j.total);
        for (size_t i = 0; i < j.n; i++) {
            const struct entry *x = &j.v[i];
            fputs(i ? ",{\"key\":" : "{\"key\":", f);
            rsd_dash_json_str(f, x->key, x->key_len);
            if (groups == 1)
                fprintf(f, ",\"members\":%" PRIu64 "}", x->members);
            else {
                fprintf(f, ",\"pid\":\"%016" PRIx64 ".%" PRIu64 "\",\"meta_len\":%zu,\"node\":",
                        x->inc, x->serial, x->meta_len);
                rsd_dash_json_str(f, x->node, strlen(x->node));
                fputc('}', f);
            }
        }
        fputs("]}\n", f);
        if (fclose(f) != 0)
            rc = -1;
    } else
        rc = -1;
    for (size_t i = 0; i < j.n; i++)
        free(j.v[i].key);
    free(j.v);
    if (rc != 0) {
        free(body);
        return -1;
    }
    return reply_json(r, body, len);
}

int rsd_dash_names(struct rsd_http *h, void *arg, const char *path, const char *query,
                   struct rsd_http_reply *r)
{
    (void)arg;
    (void)path;
    (void)query;
    return list(h, r, 0);
}

int rsd_dash_groups(struct rsd_http *h, void *arg, const char *path, const char *query,
                    struct rsd_http_reply *r)
{
    (void)arg;
    (void)path;
    (void)query;
    return list(h, r, 1);
}

int rsd_dash_members(struct rsd_http *h, void *arg, const char *path, const char *query,
                     struct rsd_http_reply *r)
{
    (void)arg;
    (void)path;
    (void)query;
    return list(h, r, 2);
}

/* --- /api/pid: what one pid holds ------------------------------------------------------ */

struct pid_job {
    uint64_t inc, serial;
    int where;
    FILE *f; /* formatted on the loop: a pid holds few entries, bounded by the limits */
    size_t n[3];
};

static void take_item(void *ctx, const struct rs_core_pid_item *it)
{
    struct pid_job *j = ctx;
    int k = it->kind == 'n' ? 0 : it->kind == 'g' ? 1 : 2;
    if (j->n[k]++ >= LIST_MAX)
        return;
    FILE *f = j->f;
    fprintf(f, "{\"kind\":\"%s\",\"scope\":", k == 0 ? "name" : k == 1 ? "group" : "monitor");
    rsd_dash_json_str(f, it->scope, it->scope_len);
    fputs(",\"key\":", f);
    rsd_dash_json_str(f, it->key, it->key_len);
    fprintf(f, ",\"id\":%" PRIu64 "},", it->id);
}

static void take_pid(struct rsd *n, void *arg)
{
    struct pid_job *j = arg;
    j->where = rs_core_pid_view(n->core, j->inc, j->serial, take_item, j);
}

/* parse_pid reads "16 hex digits '.' decimal serial" (roster.h's text form). */
static int parse_pid(const char *t, uint64_t *inc, uint64_t *serial)
{
    char *end;
    if (!t || strlen(t) < 18 || t[16] != '.')
        return -1;
    for (int i = 0; i < 16; i++)
        if (!strchr("0123456789abcdefABCDEF", t[i]))
            return -1;
    *inc = strtoull(t, &end, 16);
    if (end != t + 16 || t[17] < '0' || t[17] > '9')
        return -1;
    *serial = strtoull(t + 17, &end, 10);
    return *end ? -1 : 0;
}

int rsd_dash_pid(struct rsd_http *h, void *arg, const char *path, const char *query,
                 struct rsd_http_reply *r)
{
    (void)arg;
    (void)path;
    (void)query;
    struct pid_job j = {0};
    const char *t = rsd_http_arg(r, "pid");
    if (parse_pid(t, &j.inc, &j.serial) != 0) {
        r->status = 400;
        r->content_type = "application/json";
        r->body = strdup("{\"error\":\"pid: 16 hex digits, '.', a decimal serial\"}\n");
        r->len = r->body ? strlen(r->body) : 0;
        return r->body ? 0 : -1;
    }
    char *items = NULL, *body = NULL;
    size_t ilen = 0, len = 0;
    j.f = open_memstream(&items, &ilen);
    if (!j.f)
        return -1;
    int rc = rsd_http_on_loop(h, take_pid, &j);
    if (fclose(j.f) != 0 || rc != 0) {
        free(items);
        return -1;
    }
    if (ilen && items[ilen - 1] == ',')
        items[--ilen] = 0;
    static const char *const where[] = {"unknown", "local", "remote"};
    FILE *f = open_memstream(&body, &len);
    if (!f) {
        free(items);
        return -1;
    }
    fprintf(f, "{\"pid\":\"%016" PRIx64 ".%" PRIu64 "\",\"where\":\"%s\",\"names\":%zu,"
               "\"groups\":%zu,\"monitors\":%zu,\"items\":[%s]}\n",
            j.inc, j.serial, where[j.where >= 0 && j.where <= 2 ? j.where : 0], j.n[0], j.n[1],
            j.n[2], items ? items : "");
    free(items);
    if (fclose(f) != 0) {
        free(body);
        return -1;
    }
    return reply_json(r, body, len);
}
