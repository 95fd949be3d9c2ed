/* kvstate.h: the state strong scopes share across their files (strong.c: lease, local copy
 * loading and watching, dispatch of etcd results; kvcopy.c: the local copy; kvwrite.c:
 * writes; kvread.c: reads and subscriptions). docs/STRONG.md describes the design. */
#ifndef ROSTER_CORE_KVSTATE_H
#define ROSTER_CORE_KVSTATE_H

#include "base/buf.h"
#include "core/internal.h"
#include "core/kvrec.h"

/* One entry of the local copy: a name's holder or one membership, as etcd has it. */
struct rs_kent {
    uint64_t hash;         /* of the etcd key */
    struct rs_kvrec rec;   /* key and meta point into data */
    uint64_t token;        /* effective fencing token */
    int64_t mod_rev;
    int64_t lease;
    struct rs_kent *onext, *oprev; /* a local pid's entries (struct rs_kowned), so that its
                                      death costs what it holds, not a scan of the copy */
    uint8_t linked;        /* in its pid's list */
    uint8_t dropping;      /* kvwrite.c: in a dead pid's removal in flight */
    uint32_t ekey_len;
    uint8_t data[];        /* etcd key, then name/group, then meta */
};

struct rs_kowned {
    uint64_t serial;
    uint64_t n; /* entries of the copy held by this local pid */
    struct rs_kent *ents; /* ... listed */
};

struct rs_kscope {
    struct rs_map ents;    /* struct rs_kent by etcd key */
    uint64_t n_names, n_members;
};

/* A pending etcd operation and what its result must do. */
enum rs_kvop_kind {
    KV_GRANT = 1, KV_KEEPALIVE, KV_REVOKE, KV_NODEKEY, KV_LOAD, KV_WATCH,
    KV_CREATE, KV_REGISTER, KV_UNREGISTER, KV_JOIN, KV_LEAVE, KV_DROP,
    KV_LOOKUP, KV_NAMES, KV_COUNT, KV_MEMBERS, KV_IS_MEMBER, KV_GROUPS,
    KV_CHECK, KV_HANDOFF, KV_UPDATE, KV_SUBWATCH, KV_CAMPAIGN, KV_CLEANUP, KV_BATCH,
    KV_TAKE, /* kvhand.c: this node carries out a handoff another node asked of it */
};

/* A write of this node that makes one of its pids a holder under its lease, committed (or
 * of unknown outcome) and not yet in the local copy (kvhand.c): if the node fences before
 * the copy shows it, the pid is told lease_lost all the same. */
struct rs_kunseen {
    struct rs_kunseen *next;
    int64_t rev;          /* committed at this revision; 0: outcome unknown */
    int64_t lease;
    uint64_t since;       /* when it was noted (an unknown one is forgotten after 2 TTLs) */
    struct rs_pid pid;
    uint8_t member;       /* a membership (key is the group), else a name */
    uint32_t scope_len;
    char scope[RS_SCOPE_MAX + 1];
    struct rs_bytes key, meta; /* point into data */
    uint8_t data[];
};

struct rs_kvop {
    uint64_t id;
    int kind;
    int phase;
    int attempts;
    int done;             /* reply sent (a stream may still give results) */
    uint64_t conn;        /* requesting client, 0 for the node's own */
    uint32_t req_id;
    uint8_t type;
    uint32_t opts;
    uint32_t reason;      /* KV_DROP */
    uint32_t uid;         /* the requesting client's OS user */
    int state;            /* kvelect.c: 0 reading, 1 writing, 2 waiting (campaign) */
    int writing;          /* the operation in flight may change etcd (else: a read, and a
                             lost answer means "not applied") */
    int64_t cand_rev;     /* campaign: our candidate key's create_revision */
    struct rs_pid pid;    /* the pid acted for */
    struct rs_pid pid2;   /* filter pid, handoff target */
    uint64_t arg;         /* limit, token, sub id ... */
    int64_t lease;        /* the lease a write used */
    int64_t wait_rev;     /* reply once the local copy reached this revision */
    uint64_t deadline;    /* ... or at this time */
    uint64_t token;       /* reply: token */
    struct rs_pid holder; /* reply: holder */
    struct rs_bytes key, meta, prev; /* owned copies (one allocation each) */
    uint32_t scope_len;
    char scope[RS_SCOPE_MAX + 1];
    struct rs_kvop *wnext, *wprev; /* waiters list */
    /* group commit (kvwrite.c): new registrations and joins wait here while another is in
     * flight, then go together in one transaction */
    struct rs_kvop *qnext;
    int counted;          /* its create is the one counted in rs_kv.creates_inflight */
    int create_counted;   /* counted in its client's n_kv_creates */
    struct rs_kvop **batch; /* KV_BATCH: its members */
    uint32_t n_batch;
};

struct rs_kv {
    uint32_t ttl_ms, timeout_ms, margin_ms;
    uint64_t next_id;
    int started;
    /* the node's lease */
    int64_t lease;          /* 0: none (granting, or fenced) */
    int64_t old_lease;      /* fenced lease still to revoke */
    uint64_t grant_id, grant_sent, grant_at;
    uint64_t ka_id, ka_sent, renew_at;
    uint64_t confirmed;     /* a lower bound of the last confirmed renewal's send time */
    /* the local copy */
    int loaded;
    uint64_t load_id, watch_id, reload_at;
    int64_t rev;            /* the local copy reflects etcd up to this revision */
    uint64_t poke_at;       /* next periodic look of the waiting campaigns */
    struct rs_map ops;      /* struct rs_kvop by id */
    struct rs_map owned;    /* struct rs_kowned by serial: this node's pids with entries in
                               the copy, so a pid's death without any costs no scan */
    struct rs_kvop *waiters;
    struct rs_kunseen *unseen; /* kvhand.c */
    size_t n_unseen;
    struct rs_kvop *queue, **queue_tail; /* creates waiting for the one in flight */
    uint32_t creates_inflight;
    uint64_t create_sent;   /* when the newest create in flight was sent */
    /* operations handed out in this apply (freed at the next) */
    void **arena;
    size_t arena_n, arena_cap;
    struct rs_buf scratch;
};

/* strong.c */
void *rs_kv_arena(struct rs_core *c, size_t n);              /* lives until the next apply */
void *rs_kv_arena_dup(struct rs_core *c, const void *p, size_t n);
struct rs_kvop *rs_kv_op_new(struct rs_core *c, int kind, struct rs_client *cl,
                             const struct rs_msg *req);
void rs_kv_op_free(struct rs_core *c, struct rs_kvop *op);
struct rs_kvop *rs_kv_op_find(struct rs_core *c, uint64_t id);
int rs_kv_op_copy(struct rs_core *c, struct rs_bytes *dst, struct rs_bytes src);
/* rs_kv_submit hands op (built in the arena) to the shell under o's id. */
void rs_kv_submit(struct rs_core *c, struct rs_kvop *o, const etcd_op *op);
/* rs_kv_resubmit sends o's next phase under a new id (the old id's result is consumed). */
void rs_kv_resubmit(struct rs_core *c, struct rs_kvop *o, const etcd_op *op);
const char *rs_kv_status_name(int s);
/* rs_kv_why_of: the reason a w/ put gives the changes at revision rev (events from i on),
 * or 0. */
uint32_t rs_kv_why_of(const etcd_result *r, size_t i, int64_t rev);
int rs_kv_ready(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
/* rs_kv_client finds o's client (NULL if gone); rs_kv_req gives a request to reply to. */
struct rs_client *rs_kv_client(struct rs_core *c, const struct rs_kvop *o);
struct rs_msg rs_kv_req(const struct rs_kvop *o);
/* rs_kv_refuse ends o and answers its client (if still there) with status and the text. */
void rs_kv_refuse(struct rs_core *c, struct rs_kvop *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* rs_kv_fail replies the error an etcd failure status means. */
void rs_kv_fail(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);
/* rs_kv_wait parks o until the copy reached rev (then rs_kvwrite_finish replies). */
void rs_kv_wait(struct rs_core *c, struct rs_kvop *o, int64_t rev);
struct rs_scope *rs_kv_scope(struct rs_core *c, const struct rs_kvop *o);
/* etcd operation builders (arena) */
etcd_op *rs_kv_ops(struct rs_core *c, size_t n);
etcd_compare *rs_kv_cmps(struct rs_core *c, size_t n);
void rs_kv_set_key(struct rs_core *c, etcd_op *op, const struct rs_buf *key);
int rs_kv_why_put(struct rs_core *c, etcd_op *op, uint32_t reason);
int rs_kv_rec_value(struct rs_core *c, etcd_op *op, const struct rs_kvrec *r);

/* kvlease.c */
void rs_kvlease_grant(struct rs_core *c);
void rs_kvlease_check(struct rs_core *c); /* self-fence when the lease may have expired */
void rs_kvlease_tick(struct rs_core *c);
void rs_kvlease_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);

/* kvcopy.c */
uint64_t rs_kvcopy_owned(struct rs_core *c, uint64_t serial); /* entries of a local pid */
struct rs_kent *rs_kvcopy_owned_list(struct rs_core *c, uint64_t serial); /* ... listed */
struct rs_kscope *rs_kvcopy_new(void);
void rs_kvcopy_free(struct rs_kscope *k);
/* rs_kvcopy_all lists s's entries (free *v with rs_free); sorted by etcd key with sort. */
size_t rs_kvcopy_all(struct rs_core *c, struct rs_scope *s, struct rs_kent ***v);
struct rs_kent *rs_kvcopy_find(struct rs_core *c, struct rs_scope *s, const uint8_t *ekey,
                               size_t n);
/* rs_kvcopy_events applies one revision's events (reason for removals) to the copy and emits
 * their events; marks entries seen (reload) when mark is set. */
void rs_kvcopy_put(struct rs_core *c, const etcd_kv *kv, int64_t rev, uint32_t why);
void rs_kvcopy_del(struct rs_core *c, const etcd_kv *kv, uint32_t reason, int64_t rev);
/* rs_kvcopy_remove takes e out (reason), with its events; to_holder also tells the holder's
 * client (event id 0). */
void rs_kvcopy_remove(struct rs_core *c, struct rs_scope *s, struct rs_kent *e,
                      uint32_t reason, int64_t rev, int to_holder);
/* rs_kvcopy_decode decodes a kv of a name or member key; 0, or -1 (logged) when bad. */
int rs_kvcopy_decode(struct rs_core *c, const etcd_kv *kv, struct rs_kvrec *rec,
                     struct rs_scope **scope);
uint64_t rs_kvcopy_token(const struct rs_kvrec *r, int64_t mod_rev);
void rs_kvcopy_emit(struct rs_core *c, struct rs_scope *s, struct rs_sub *only,
                    const struct rs_kvrec *old, const struct rs_kvrec *now, uint32_t reason,
                    int64_t rev);

/* kvwrite.c */
void rs_kvwrite_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);
void rs_kvwrite_finish(struct rs_core *c, struct rs_kvop *o);
/* the write builders kvbatch.c shares: o's etcd key (scratch), its record, its put */
const struct rs_buf *rs_kvwrite_key(struct rs_core *c, const struct rs_kvop *o);
void rs_kvwrite_rec(struct rs_core *c, const struct rs_kvop *o, uint64_t token,
                    struct rs_kvrec *r);
void rs_kvwrite_put(struct rs_core *c, struct rs_kvop *o, int64_t mod_rev, uint64_t token);

/* kvbatch.c: group commit of registrations and joins */
void rs_kvbatch_create(struct rs_core *c, struct rs_kvop *o); /* send now or with others */
void rs_kvbatch_settle(struct rs_core *c, struct rs_kvop *o); /* o's create answered */
void rs_kvbatch_on_result(struct rs_core *c, struct rs_kvop *b, const etcd_result *r);
void rs_kvbatch_tick(struct rs_core *c); /* sends what waited behind a stale create */
/* rs_strong_at_limit: cl holds (or is about to hold) entries_per_client entries */
int rs_strong_at_limit(struct rs_core *c, const struct rs_client *cl);
/* rs_strong_full replies ELIMIT (1) when cl may not hold one more entry. */
int rs_strong_full(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                   struct rs_scope *s);
/* rs_kvwrite_late removes the key w wrote for a pid that died meanwhile. */
void rs_kvwrite_late(struct rs_core *c, struct rs_kvop *w);
/* rs_kvwrite_orphan removes kv, which etcd gives to pid, a local pid that is dead. */
void rs_kvwrite_orphan(struct rs_core *c, const etcd_kv *kv, struct rs_pid pid);

/* kvelect.c */
void rs_kvelect_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);
/* rs_kvelect_poke re-examines the waiting campaigns after the local copy changed. */
void rs_kvelect_poke(struct rs_core *c);
/* rs_kvelect_pid_down ends the campaigns of a dying pid (its candidate keys go). */
void rs_kvelect_pid_down(struct rs_core *c, struct rs_pid pid);
/* rs_kvelect_fence ends every campaign: their candidacies were under the lost lease. */
void rs_kvelect_fence(struct rs_core *c);

/* kvhand.c: handoffs to another node's pid, carried out by that node; and what this node
 * wrote for its pids that its copy has not shown yet */
#define KV_ST_ASK 5    /* KV_HANDOFF: the request is being put */
#define KV_ST_ASKED 6  /* ... put at o->cand_rev; waiting for the pid's node */
#define KV_ST_CANCEL 7 /* ... being withdrawn (no answer in time) */
/* rs_kvhand_ask puts the request that the node of o->pid hand it the name read in kv, with
 * now the record it will write (its node name from the node key). */
void rs_kvhand_ask(struct rs_core *c, struct rs_kvop *o, const etcd_kv *kv,
                   const struct rs_kvrec *now);
/* rs_kvhand_decide: a read of o's name, node key and request key came back while o has a
 * request; 1 when the request's answer (or its absence) settles or parks o, 0 when the
 * pid's node found the name changed (decide again from the same read). */
int rs_kvhand_decide(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);
void rs_kvhand_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);
/* rs_kvhand_event: a change of a handoff key (watch or load) */
void rs_kvhand_event(struct rs_core *c, const etcd_kv *kv, int is_delete);
void rs_kvhand_tick(struct rs_core *c);
/* rs_kvhand_reloaded: after a reload, the waiting handoffs read again (a change of their
 * request may have gone by unseen) */
void rs_kvhand_reloaded(struct rs_core *c);
/* kvelect.c, for kvhand.c: read o's keys again; count one more round (0: gave up, refused) */
void rs_kvelect_reread(struct rs_core *c, struct rs_kvop *o);
int rs_kvelect_again(struct rs_core *c, struct rs_kvop *o);
/* unseen writes: noted when a write for a local pid is answered before the copy shows it
 * (or its outcome is unknown); forgotten once the copy reached it */
int rs_kvhand_makes_holder(const struct rs_core *c, const struct rs_kvop *o);
void rs_kvunseen_note(struct rs_core *c, const struct rs_kvop *o, int64_t rev);
void rs_kvunseen_caught_up(struct rs_core *c);
/* rs_kvunseen_fence tells the holders of lease's unseen writes and in-flight writes that
 * the copy does not show lease_lost, and forgets them. */
void rs_kvunseen_fence(struct rs_core *c, int64_t lease);
void rs_kvunseen_free(struct rs_core *c);
/* rs_kvcopy_tell sends one event about r to its holder's client, if local (event id 0) */
void rs_kvcopy_tell(struct rs_core *c, struct rs_scope *s, const struct rs_kvrec *r,
                    uint32_t kind, uint32_t reason, int64_t rev);

/* kvsub.c */
void rs_kvsub_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);

/* kvread.c */
void rs_kvread_on_result(struct rs_core *c, struct rs_kvop *o, const etcd_result *r);

#endif
