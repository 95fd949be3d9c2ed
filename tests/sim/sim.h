/* sim.h: shared declarations of roster's deterministic cluster simulator.
 *
 * The simulator runs N unchanged node cores (src/core) in one process: a simulated clock and
 * event queue (queue.c), TCP-like peer connections with delays, partitions and crashes
 * (net.c), simulated clients whose view of the world is recorded (client.c), a random
 * workload and fault schedule (workload.c), and checks (invariants.c, using observe.c to
 * read each node's state through the client protocol). Everything random comes from one
 * seeded PRNG, and nothing depends on real time or pointer values, so a seed replays bit for
 * bit. */
#ifndef ROSTER_SIM_H
#define ROSTER_SIM_H

#include <roster.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "wire/wire.h"

#define SIM_MAX_NODES 20 /* --nodes LO-HI draws each seed's cluster size (default 3-5) */
#define SIM_NSCOPES 2 /* "default" (every node) and "s1" (a seed-chosen subset) */
#define SIM_NNAMES 6  /* small name space: conflicts are frequent */
#define SIM_NGROUPS 4
#define SIM_KEY_MAX 24
#define SIM_META_MAX 24
#define SIM_WALL_BASE 1700000000000ull /* wall clocks start near a real epoch time */

/* --- PRNG (splitmix64: small, fast, and the same on every platform) ----------------- */

struct sim_rng {
    uint64_t s;
};

static inline uint64_t sim_next(struct sim_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline uint64_t sim_below(struct sim_rng *r, uint64_t n) { return n ? sim_next(r) % n : 0; }
static inline int sim_pct(struct sim_rng *r, unsigned pct) { return sim_below(r, 100) < pct; }
static inline uint64_t sim_range(struct sim_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + sim_below(r, hi - lo + 1);
}

/* --- entry sets: a node's view, a subscriber's replay, the clients' expectation ------- */

struct sim_entry {
    int group; /* 0: name (key unique), 1: group member (key + pid unique) */
    char key[SIM_KEY_MAX];
    struct rs_pid pid;
    char meta[SIM_META_MAX];
    uint64_t count; /* GROUPS listings: member count */
};

struct sim_set {
    struct sim_entry *v;
    size_t n, cap;
};

void set_clear(struct sim_set *s);
void set_free(struct sim_set *s);
struct sim_entry *set_add(struct sim_set *s, int group, const char *key, struct rs_pid pid,
                          const char *meta);
/* set_find: names match on key, members on key + pid. */
struct sim_entry *set_find(struct sim_set *s, int group, const char *key, struct rs_pid pid);
void set_del(struct sim_set *s, struct sim_entry *e);
void set_sort(struct sim_set *s);
/* set_diff describes the first difference of two sorted sets into buf; 0 if equal. */
int set_diff(const struct sim_set *a, const struct sim_set *b, char *buf, size_t cap);
void set_copy_bytes(char *dst, size_t cap, struct rs_bytes b);

/* --- event queue ------------------------------------------------------------------ */

enum sim_ev_kind {
    EV_TICK = 1,    /* node: core TICK, then the next one */
    EV_PUMP,        /* a: pconn, b: direction: deliver due frames */
    EV_PEER_UP,     /* a: pconn, b: side */
    EV_PEER_GONE,   /* a: pconn, b: side */
    EV_DIAL,        /* node dials b (target), c: generation */
    EV_FLUSHED,     /* node, a: conn, b: bytes */
    EV_ACTION,      /* node: one random client action */
    EV_FAULT,       /* one random fault */
    EV_RESTART,     /* node: start a new incarnation */
    EV_HEAL_LINKS,  /* heal every partition */
    EV_CLIENT_GONE, /* node, a: client index: the shell closed a connection its core closed */
    EV_REJOIN,      /* node, a: incarnation: a node that left joins again (cluster-join) */
};

struct sim_event {
    uint64_t at, seq;
    int kind;
    int node;
    uint64_t a, b, c;
};

struct sim_queue {
    struct sim_event *v;
    size_t n, cap;
    uint64_t seq;
};

void queue_push(struct sim_queue *q, const struct sim_event *e);
int queue_pop(struct sim_queue *q, struct sim_event *e);
void queue_free(struct sim_queue *q);

/* --- connections ------------------------------------------------------------------ */

enum { CONN_CLIENT = 1, CONN_PEER = 2 };

struct sim_connref {
    int kind;
    int node;
    size_t idx; /* client index or pconn index */
    int side;   /* pconn side */
};

struct sim_frame {
    uint8_t *p;
    uint32_t len;
    uint64_t at;
};

/* One direction of a peer connection: an ordered FIFO, like a TCP byte stream. */
struct sim_dir {
    struct sim_frame *v;
    size_t head, n, cap;
    uint64_t last_at; /* delivery times never go backwards: TCP keeps order */
    int stalled;      /* silent (partition one way or both): frames wait, nothing passes */
};

struct sim_pconn {
    int node[2];       /* node[0] dialed node[1] */
    uint64_t inc[2];   /* incarnations at creation */
    uint64_t id[2];    /* conn id on each side */
    uint64_t up_at[2]; /* when PEER_UP reaches each side */
    int up[2];         /* PEER_UP delivered */
    int gone[2];       /* PEER_GONE delivered, or the side's node crashed */
    int closed[2];     /* side closed its end (its core's CLOSE, or crash): it hears nothing */
    int gone_sched[2]; /* a PEER_GONE is scheduled */
    int broken;        /* transport failed: nothing more passes either way */
    struct sim_dir d[2]; /* d[0]: node[0] -> node[1]; d[1]: the other way */
};

/* --- clients ---------------------------------------------------------------------- */

struct sim_pending {
    uint32_t req_id;
    uint8_t type;
    int scope;
    char key[SIM_KEY_MAX];
    char meta[SIM_META_MAX];
    struct rs_pid pid;
    char prev[SIM_META_MAX]; /* UPDATE: the expected metadata */
    struct rs_msg req; /* the request's number fields (its byte views are cleared) */
};

struct sim_held {
    int scope;
    int group;
    char key[SIM_KEY_MAX];
    struct rs_pid pid;
    char meta[SIM_META_MAX];
    uint64_t token;  /* names: the grant's fencing token (0: not known yet) */
    uint64_t seq;    /* order of the holdings (a scope with duplicate members: a leave
                        takes the pid's oldest entry) */
    int notice_due;  /* handed to this client: its REGISTERED (handoff) notice is due */
    int gone_due;    /* handed away: its UNREGISTERED (handoff) notice is due, then it goes */
    int leased;        /* granted by LEASE (lease.c): its node removes it at deadline */
    uint32_t ttl_ms;
    uint64_t deadline; /* sim time of the last LEASE or RENEW + ttl_ms */
};

struct sim_sub {
    uint64_t id;
    int scope;
    uint32_t flags;
    char pat[SIM_KEY_MAX];
    int in_snapshot;
    int ended; /* overflowed or unsubscribed: no final check */
    int ho_open; /* saw UNREGISTERED (handoff) of ho_key: the next event must be its
                    REGISTERED (handoff), or the subscriber saw the name free */
    char ho_key[SIM_KEY_MAX];
    uint64_t ho_inc;
    struct sim_set replay;
    struct sim_set mreplay; /* ROSTER_SUB_SCOPE_META: the scope's metadata its events built
                               (entries: key, meta = value) */
};

struct sim_mon {
    uint64_t id;
    struct rs_pid pid;
    int fired;
    int reason;
    int demonitored;
};

struct sim_client {
    int node;
    uint64_t node_inc;
    uint64_t conn;
    int alive;
    int observer;
    uint32_t uid; /* its OS user: clients of one user may act for each other's names */
    uint32_t req_id;
    struct rs_pid *pids; /* its live pids */
    size_t npids, cappids;
    struct sim_held *held; /* names and memberships it believes it holds */
    size_t nheld, capheld;
    struct sim_sub *subs;
    size_t nsubs, capsubs;
    struct sim_mon *mons;
    size_t nmons, capmons;
    struct sim_pending pend[8];
    size_t npend;
    uint64_t early_down[8]; /* DOWN events that came before their MONITOR reply */
    int early_reason[8];
    size_t nearly;
    uint64_t conflicts; /* conflict notices received */
};

/* Ground truth about every pid ever handed out. */
struct sim_pidinfo {
    struct rs_pid pid;
    int node;
    size_t client;
    int alive;
    uint64_t died_at;
    uint32_t expired_unrenewed;              /* expiry notices since its last RENEW */
    char exit_text[RS_EXIT_REASON_MAX + 1];  /* PID_EXIT's reason, once sent */
};

/* An expiry its owner's node reported (lease.c): every removal with reason expired that a
 * subscriber of any node sees must be one of these. */
struct sim_expiry {
    int scope, group;
    char key[SIM_KEY_MAX];
    struct rs_pid pid;
};

/* --- nodes and world -------------------------------------------------------------- */

struct sim_node {
    char name[16];
    char addr[32];
    struct rs_core *core; /* NULL while crashed */
    void *shm;            /* its shared-memory region (region.c), fresh at every start */
    uint64_t inc;
    int64_t skew;          /* wall clock offset, ms */
    uint32_t scopes;       /* bit s: joined scope s */
    uint32_t cfg_scopes;   /* scopes joined at start (configuration) */
    int s1_made;           /* this incarnation has scope s1 (with the seed's options) */
    size_t observer;       /* client index of its observer */
    int want[SIM_MAX_NODES];      /* the shell keeps a connection to that node */
    int seedt[SIM_MAX_NODES];     /* ... as a --join seed (config or cluster-join): kept
                                     when that node leaves (RS_OUT_UNDIAL_LEFT) */
    int live[SIM_MAX_NODES];      /* conns to that node with PEER_UP delivered, not gone */
    int dialing[SIM_MAX_NODES];   /* a dial attempt in flight */
    uint64_t backoff[SIM_MAX_NODES];
    uint64_t dial_gen[SIM_MAX_NODES];
    int seed;              /* node it joins through (-1: none) */
    uint64_t crashed_at;
    int restarts;
    uint64_t tok[SIM_NSCOPES][SIM_NNAMES]; /* last token granted per name, this incarnation */
    uint64_t tok_inc;
    struct rs_core_stats scanned; /* statistics at the last deep scan, and its time */
    uint64_t scanned_at;
    int left;              /* cluster-leave asked of this incarnation, no cluster-join yet */
};

struct sim_obs {
    int active;
    int got_reply;
    int32_t status;
    struct rs_pid pid;  /* LOOKUP: the holder */
    uint64_t token;     /* LOOKUP: the token */
    uint64_t os_pid, uid; /* OWNER: the holder client's OS pid and uid */
    struct sim_set items;
    struct {
        char name[16];
        uint64_t inc;
        int state;
        int self;
        uint64_t down_since; /* wall clock ms of a DOWN node's declaration */
    } nodes[SIM_MAX_NODES * 4];
    size_t nnodes;
};

struct sim_world {
    uint64_t seed;
    int verbose;
    int cluster;     /* 0: nodes never connect (single-node invariants only) */
    struct sim_rng rng;
    uint64_t now;
    int n;
    struct sim_node nodes[SIM_MAX_NODES];
    struct sim_queue q;
    struct sim_connref *conns; /* by conn id - 1 */
    size_t nconns, capconns;
    struct sim_pconn *pc;
    size_t npc, cappc;
    struct sim_client *cl;
    size_t ncl, capcl;
    struct sim_pidinfo *pids;
    size_t npids, cappids;
    size_t *pidx; /* open addressing index of pids, cap pidxcap */
    size_t pidxcap;
    struct rs_outputs out;
    struct rs_limits lim;
    struct rs_limits dlim; /* decoding what nodes send: no name/meta bound */
    int in_apply;
    int cut[SIM_MAX_NODES][SIM_MAX_NODES]; /* frames i -> j do not pass */
    int draining;        /* workload and faults stopped, network healed */
    int converged;       /* quiet after healing: the final checks run */
    uint64_t work_until; /* end of the workload phase */
    uint32_t heartbeat_ms, down_after_ms;
    uint64_t ghost_bound_ms; /* how long an entry of a dead pid may linger */
    unsigned fault_pct;      /* fault intensity of this seed */
    enum rs_conflict_policy policy;               /* the same on every node */
    struct rs_node_priority prio[SIM_MAX_NODES]; /* RS_POLICY_PRIORITY */
    uint64_t last_busy;      /* last time a non-heartbeat peer frame was sent or delivered */
    uint64_t steps;
    uint64_t digest;
    uint64_t n_conflicts, n_races, n_faults, n_peer_frames;
    uint64_t n_handoffs, n_updates; /* successful HANDOFF / UPDATE requests */
    uint64_t n_meta_writes;         /* successful SCOPE_META_SET / _DELETE requests */
    int leaves;       /* cluster-leave faults so far (one per seed: workload.c) */
    uint32_t s1_opts; /* scope s1's options (ROSTER_SCOPE_DUPLICATE_MEMBERS,
                         ROSTER_SCOPE_UNIQUE_PER_NODE or 0), by seed */
    uint64_t held_seq;
    struct sim_set mwrites; /* every value a SCOPE_META_SET was acknowledged with: group =
                               scope, key, meta = value (what a node may show) */
    struct sim_obs obs;
    struct sim_set scratch_view, scratch_groups; /* reused by the step checks */
    int failed;
    char fail[1024];
    char why[256]; /* why the cluster is not converged yet */
    struct sim_expiry *expiries; /* lease.c */
    size_t nexpiries, capexpiries;
    uint64_t n_leases, n_expiries, n_renews, n_exits;
};

/* sim.c */
void sim_fail(struct sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_log(struct sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_at(struct sim_world *w, uint64_t at, int kind, int node, uint64_t a, uint64_t b,
            uint64_t c);
uint64_t sim_new_conn(struct sim_world *w, int kind, int node, size_t idx, int side);
struct sim_connref *sim_conn(struct sim_world *w, uint64_t conn);
int sim_apply(struct sim_world *w, int node, struct rs_input *in);
void sim_node_start(struct sim_world *w, int i);
void sim_node_crash(struct sim_world *w, int i, int silent);
/* sim_node_leave / sim_node_rejoin: node i's admin asks for cluster-leave / cluster-join
 * (through another node, picked at random). */
void sim_node_leave(struct sim_world *w, int i);
void sim_node_rejoin(struct sim_world *w, int i);
int sim_node_up(const struct sim_world *w, int i);
const char *sim_scope_name(int s);
int sim_run(uint64_t seed, int verbose, int cluster, uint64_t *digest_out);
/* The range each seed draws its number of nodes from (main.c's --nodes; default 3-5, the
 * range every seed number in FINDINGS.md refers to). */
extern int sim_nodes_lo, sim_nodes_hi;

/* net.c */
void net_send(struct sim_world *w, size_t pc, int side, const uint8_t *p, size_t len);
void net_close(struct sim_world *w, size_t pc, int side);
void net_dial_request(struct sim_world *w, int node, const uint8_t *text, size_t len);
void net_want(struct sim_world *w, int from, int to);
/* net_undial_request: RS_OUT_UNDIAL ("NAME ADDR", " ADDR", "NAME", or "": every target). */
void net_undial_request(struct sim_world *w, int node, const uint8_t *text, size_t len,
                        int keep_seeds);
void net_on_event(struct sim_world *w, const struct sim_event *e);
void net_node_crashed(struct sim_world *w, int node, int silent);
void net_partition_clean(struct sim_world *w, uint32_t group_a, int silent);
void net_partition_oneway(struct sim_world *w, int from, int to);
void net_cut_pair(struct sim_world *w, int a, int b, int silent);
void net_heal(struct sim_world *w);
int net_in_flight(const struct sim_world *w); /* non-heartbeat frames in flight */
void net_free(struct sim_world *w);

/* pid ground truth (client.c) */
struct sim_pidinfo *pid_info(struct sim_world *w, struct rs_pid pid);
void pid_died(struct sim_world *w, struct rs_pid pid);

/* client.c */
size_t client_open(struct sim_world *w, int node, int observer);
void client_request(struct sim_world *w, size_t c, struct rs_msg *m);
void client_deliver(struct sim_world *w, size_t c, const uint8_t *p, size_t len);
void client_close(struct sim_world *w, size_t c);
void client_closed_by_node(struct sim_world *w, size_t c, const char *reason, size_t len);
void client_node_crashed(struct sim_world *w, size_t c);
void client_free(struct sim_client *c);
int sub_matches(const struct sim_sub *s, int group, const char *key);
/* held_local finds the holding of (scope, group, key[, pid]) by a live client of node's
 * current incarnation (*client: its index), or NULL. */
struct sim_held *held_local(struct sim_world *w, int node, int scope, int group, const char *key,
                            const struct rs_pid *pid, size_t *client);

/* workload.c */
void work_action(struct sim_world *w, int node);
void work_fault(struct sim_world *w);

/* observe.c */
int obs_view(struct sim_world *w, int node, int scope, struct sim_set *out);
/* region.c: a node's shared-memory region, and the check that it shows what view lists */
#define SIM_SHM_BYTES (4u * 1024u * 1024u)
void *region_new(void);
void region_check(struct sim_world *w, int node, int scope, const struct sim_set *view);
int obs_groups(struct sim_world *w, int node, int scope, struct sim_set *out);
int obs_nodes(struct sim_world *w, int node);
/* obs_meta lists scope's metadata on node (entries: key, meta = value, pid = {stamp,
 * writer name hash}); -1 on failure. */
int obs_meta(struct sim_world *w, int node, int scope, struct sim_set *out);
/* per_node_scope: scope runs with ROSTER_SCOPE_UNIQUE_PER_NODE (a name has a holder per
 * node). */
int per_node_scope(const struct sim_world *w, int scope);
/* meta_matches: a metadata key a subscription follows (scopemeta.c in the sim). */
int meta_matches(const struct sim_sub *s, const char *key);
/* obs_lookup: LOOKUP's status; w->obs.pid and w->obs.token when found. */
int obs_lookup(struct sim_world *w, int node, int scope, const char *name);
/* obs_owner: OWNER's status; w->obs.os_pid and w->obs.uid when known. */
int obs_owner(struct sim_world *w, int node, struct rs_pid pid);

/* client.c, for lease.c */
int client_owns_pid(const struct sim_client *c, struct rs_pid pid);
struct sim_held *client_held_find(struct sim_client *c, int scope, int group, const char *key,
                                  const struct rs_pid *pid);
void client_held_del(struct sim_client *c, struct sim_held *h);
int client_scope_index(struct rs_bytes b);

/* lease.c: TTL entries (LEASE, RENEW, expiry) and exit reasons (PID_EXIT) */
int lease_request(struct sim_world *w, const struct sim_client *c, struct rs_msg *m,
                  char *key, const char *meta);
void lease_granted(struct sim_world *w, struct sim_held *h, const struct sim_pending *pd);
void lease_on_renew_reply(struct sim_world *w, size_t ci, const struct sim_pending *pd,
                          const struct rs_msg *m);
int lease_exit_text_ok(const char *text);
void lease_on_notice(struct sim_world *w, size_t ci, uint32_t kind, const struct rs_msg *m);
void lease_check_removal(struct sim_world *w, const struct sim_client *c, int scope,
                         uint32_t kind, const struct rs_msg *m);
void lease_check_down(struct sim_world *w, const struct sim_client *c, const struct rs_msg *m);
void lease_check_overdue(struct sim_world *w);

/* invariants.c */
void inv_step(struct sim_world *w, int node, int deep);
int inv_converged(struct sim_world *w);
void inv_final(struct sim_world *w);

#endif
