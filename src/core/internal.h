/* internal.h: private types and helpers shared by the core's modules.
 *
 * Every table hangs off struct rs_core. Ownership and links:
 *   client --list--> procs (pids) --list--> names, memberships, monitors watching it
 *   scope  --map---> names, groups --list--> members;  scope --list--> subscriptions
 *   core   --map---> clients (by conn), procs (by serial), scopes (by name),
 *                    members (by group id + serial), subs (by id), monitors (by id)
 * Lists are intrusive and doubly linked so that removing any element is O(1) and the death
 * of a pid touches only what it owns. */
#ifndef ROSTER_CORE_INTERNAL_H
#define ROSTER_CORE_INTERNAL_H

#include <roster.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/alloc.h"
#include "../base/map.h"
#include "core.h"

#define RS_CLIENT_NAME_MAX 64 /* client name bytes kept for logs */

/* Intrusive list helpers: head is an lvalue pointer, x the element, p/n its link fields. */
#define RS_LIST_PUSH(head, x, p, n)      \
    do {                                 \
        (x)->p = NULL;                   \
        (x)->n = (head);                 \
        if (head)                        \
            (head)->p = (x);             \
        (head) = (x);                    \
    } while (0)
#define RS_LIST_DEL(head, x, p, n)       \
    do {                                 \
        if ((x)->p)                      \
            (x)->p->n = (x)->n;          \
        else                             \
            (head) = (x)->n;             \
        if ((x)->n)                      \
            (x)->n->p = (x)->p;          \
        (x)->p = (x)->n = NULL;          \
    } while (0)

struct rs_proc;
struct rs_sub;
struct rs_monitor;

struct rs_client {
    uint64_t conn;
    uint64_t unread;     /* bytes emitted in SENDs minus bytes reported flushed */
    uint64_t snap_unread; /* part of unread that is snapshot frames: not held against
                             queue_bytes (a snapshot is what the client asked for) */
    uint64_t n_entries;  /* names + memberships of all its pids */
    int32_t os_pid;
    uint32_t uid;
    uint32_t n_pids;
    uint32_t n_subs;
    uint32_t n_monitors;
    int hello;           /* handshake done */
    int closing;         /* CLOSE emitted: ignore its frames, send it nothing more */
    struct rs_proc *procs;
    struct rs_sub *subs;
    struct rs_monitor *mons;
    char name[RS_CLIENT_NAME_MAX + 1];
};

struct rs_name;
struct rs_member;

struct rs_proc {
    uint64_t serial;
    struct rs_client *client;
    struct rs_proc *prev, *next; /* client's list */
    struct rs_name *names;       /* names it holds, all scopes */
    struct rs_member *members;   /* its memberships, all scopes */
    struct rs_monitor *mons;     /* monitors watching it */
};

struct rs_scope {
    uint64_t hash;
    uint32_t mode;
    uint32_t name_len;
    struct rs_map names;  /* struct rs_name by key */
    struct rs_map groups; /* struct rs_group by key */
    uint64_t n_members;
    struct rs_sub *subs;  /* live subscriptions of this scope */
    char name[RS_SCOPE_MAX + 1];
};

/* One registered name: one allocation with the key inline; meta only when non-empty. */
struct rs_name {
    struct rs_name *prev, *next; /* owner pid's list */
    struct rs_proc *proc;
    struct rs_scope *scope;
    uint64_t hash;
    uint8_t *meta;
    uint32_t meta_len;
    uint32_t key_len;
    uint8_t key[];
};

struct rs_group {
    uint64_t hash;
    uint64_t id; /* unique per core: keys the members map */
    struct rs_scope *scope;
    struct rs_member *members;
    uint64_t n_members;
    uint32_t key_len;
    uint8_t key[];
};

struct rs_member {
    struct rs_member *gprev, *gnext; /* group's list */
    struct rs_member *pprev, *pnext; /* pid's list */
    struct rs_group *group;
    struct rs_proc *proc;
    uint64_t hash;
    uint8_t *meta;
    uint32_t meta_len;
};

struct rs_sub {
    uint64_t id;
    struct rs_client *client;
    struct rs_scope *scope;
    struct rs_sub *sprev, *snext; /* scope's list */
    struct rs_sub *cprev, *cnext; /* client's list */
    uint32_t flags;
    uint32_t pat_len;
    uint8_t pat[];
};

struct rs_monitor {
    uint64_t id;
    struct rs_client *client; /* watcher */
    struct rs_proc *target;
    struct rs_monitor *tprev, *tnext; /* target's list */
    struct rs_monitor *cprev, *cnext; /* watcher's list */
};

struct rs_core {
    uint64_t inc;
    uint64_t seed;
    uint64_t start_ms;
    uint64_t now_ms;
    struct rs_limits lim;
    struct rs_map clients; /* by conn */
    struct rs_map procs;   /* live pids, by serial */
    struct rs_map scopes;  /* by name */
    struct rs_map members; /* by (group id, serial) */
    struct rs_map subs;    /* by id */
    struct rs_map mons;    /* by id */
    struct rs_scope *dflt;
    uint64_t next_serial;
    uint64_t next_sub_id;
    uint64_t next_mon_id;
    uint64_t next_group_id;
    uint64_t n_names;
    uint64_t n_groups;
    uint64_t n_members;
    struct rs_outputs *out; /* during rs_core_apply */
    int oom;                /* memory ran out during this apply */
    uint32_t node_len;
    char node[RS_NODE_NAME_MAX + 1];
};

/* --- output.c: frames, replies, events, closes and logs --------------------------- */
/* Every helper sets core->oom on allocation failure and returns -1; handlers may carry on. */
int rs_out_frame(struct rs_core *c, struct rs_client *cl, const struct rs_msg *m);
int rs_out_frame_conn(struct rs_core *c, uint64_t conn, const struct rs_msg *m);
/* rs_out_reply sends r as the reply to req (type, flags, req_id are set here). */
int rs_out_reply(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                 struct rs_msg *r);
int rs_out_item(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                struct rs_msg *it);
/* rs_out_ok replies STATUS 0 with no other field. */
int rs_out_ok(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
int rs_out_error(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, int status,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* rs_out_count replies STATUS 0 ARG=n (end of a listing). */
int rs_out_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req, uint64_t n);
int rs_out_close(struct rs_core *c, struct rs_client *cl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rs_out_close_conn(struct rs_core *c, uint64_t conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rs_out_log(struct rs_core *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* rs_out_event sends one EVENT frame to cl. */
int rs_out_event(struct rs_core *c, struct rs_client *cl, uint32_t kind, uint32_t reason,
                 int snapshot, uint64_t id, struct rs_pid pid, const struct rs_scope *sc,
                 struct rs_bytes key, struct rs_bytes meta, struct rs_bytes prev);
/* Text helpers for details: printable, truncated forms of keys and pids. */
const char *rs_fmt_key(char *buf, size_t cap, const uint8_t *p, size_t n);
const char *rs_fmt_pid(char *buf, struct rs_pid pid);

/* --- core.c ------------------------------------------------------------------------ */
void *rs_core_alloc(struct rs_core *c, size_t n); /* rs_malloc that sets oom */
uint8_t *rs_core_dup(struct rs_core *c, struct rs_bytes b, int *failed);
static inline struct rs_bytes rs_bytes_node(const struct rs_core *c)
{
    return rs_bytes_of(c->node, c->node_len);
}
static inline int rs_bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || __builtin_memcmp(a, b, an) == 0);
}
/* rs_bytes_cmp orders byte strings: memcmp over the common length, shorter first. */
int rs_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* rs_sort_head sorts v[0..n) enough that its first min(n, limit) elements are the smallest,
 * in order (limit 0: sort all); selection by a bounded heap so a small limit over a large
 * listing costs O(n log limit). */
void rs_sort_head(void **v, size_t n, size_t limit, int (*cmp)(const void *, const void *));
static inline int rs_is_prefix(const uint8_t *s, size_t n, const uint8_t *pre, size_t pn)
{
    return pn <= n && (pn == 0 || __builtin_memcmp(s, pre, pn) == 0);
}

/* --- pids.c ------------------------------------------------------------------------ */
struct rs_proc *rs_pids_find(const struct rs_core *c, struct rs_pid pid);
struct rs_proc *rs_pids_create(struct rs_core *c, struct rs_client *cl);
static inline struct rs_pid rs_pids_of(const struct rs_core *c, const struct rs_proc *p)
{
    struct rs_pid pid = {c->inc, p->serial};
    return pid;
}
/* rs_pids_kill runs the death cascade of p (names, groups, monitors) and frees it. */
void rs_pids_kill(struct rs_core *c, struct rs_proc *p, uint32_t reason);
/* rs_pids_owned checks that req's PID is a live pid of cl; else sends the error reply
 * (ENOPROC / ENOTOWNER) and returns NULL. */
struct rs_proc *rs_pids_owned(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_pids_on_new(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_pids_on_close(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

/* --- scope.c ----------------------------------------------------------------------- */
struct rs_scope *rs_scope_find(const struct rs_core *c, struct rs_bytes name);
struct rs_scope *rs_scope_create(struct rs_core *c, struct rs_bytes name, uint32_t mode);
/* rs_scope_of resolves req's SCOPE (empty = default) or replies ENOSCOPE and returns NULL. */
struct rs_scope *rs_scope_of(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_free(struct rs_scope *s);
void rs_scope_on_create(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_scope_on_list(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

/* --- registry.c -------------------------------------------------------------------- */
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
/* rs_registry_matching collects the names of s whose key starts with pre (all if exact is
 * 0) or equals it (exact 1), sorted by key. Caller frees *out. -1 when out of memory. */
int rs_registry_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                         size_t pn, int exact, struct rs_name ***out, size_t *n);

/* --- groups.c ---------------------------------------------------------------------- */
struct rs_group *rs_groups_find(const struct rs_core *c, const struct rs_scope *s,
                                const uint8_t *key, size_t len);
void rs_groups_remove_member(struct rs_core *c, struct rs_member *m, uint32_t reason);
void rs_groups_on_join(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_leave(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_members(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_is_member(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_groups_on_groups(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
int rs_groups_matching(struct rs_core *c, const struct rs_scope *s, const uint8_t *pre,
                       size_t pn, int exact, struct rs_group ***out, size_t *n);
/* rs_groups_sorted_members returns g's members sorted by pid. Caller frees *out. */
int rs_groups_sorted_members(struct rs_core *c, const struct rs_group *g,
                             struct rs_member ***out);

/* --- events.c ---------------------------------------------------------------------- */
/* rs_events_emit fans one registry (group = 0) or group (group = 1) event out to the
 * matching subscriptions of s, stopping those whose connection is too far behind. */
void rs_events_emit(struct rs_core *c, struct rs_scope *s, int group, uint32_t kind,
                    uint32_t reason, struct rs_pid pid, struct rs_bytes key,
                    struct rs_bytes meta, struct rs_bytes prev);
void rs_events_on_subscribe(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_events_on_unsubscribe(struct rs_core *c, struct rs_client *cl,
                              const struct rs_msg *req);
void rs_events_drop_client(struct rs_core *c, struct rs_client *cl);
void rs_events_free_all(struct rs_core *c);

/* --- monitor.c --------------------------------------------------------------------- */
void rs_monitor_on_monitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_monitor_on_demonitor(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_monitor_fire delivers DOWN for every monitor on p and removes them. */
void rs_monitor_fire(struct rs_core *c, struct rs_proc *p, uint32_t reason);
void rs_monitor_drop_client(struct rs_core *c, struct rs_client *cl);
void rs_monitor_free_all(struct rs_core *c);

#endif
