/* fake_etcd.h: a scripted in-memory etcd for the core's unit tests (never for integration
 * tests, which run real etcd members). It takes the RS_OUT_KV / RS_OUT_KV_CANCEL outputs of
 * one or more cores (each a "client" index), runs them with etcd's semantics as the core
 * relies on them (one revision per write transaction, compares, prefix ranges, leases with
 * TTLs on a clock the test moves, watches from a revision with prev values, compaction),
 * and queues results per client, to be fed back as RS_IN_KV inputs. A test can make it
 * fail: the next N unary operations answer a status (UNKNOWN after applying, or not), all
 * operations fail while it is down, keepalives go unanswered while they are held. */
#ifndef ROSTER_TESTS_FAKE_ETCD_H
#define ROSTER_TESTS_FAKE_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "wire/kv.h"

#define FE_CLIENTS 4

struct fe_kv;
struct fe_op;
struct fe_res;
struct fe_watch;
struct fe_lease;
struct fe_hist;

struct fake_etcd {
    int64_t rev;
    int64_t compacted;     /* history before this revision is gone */
    uint64_t now_ms;       /* the fake's clock (fe_advance) */
    struct fe_kv *kvs;     /* sorted by key */
    size_t n_kvs, cap_kvs;
    struct fe_hist *hist;  /* every event, in revision order */
    size_t n_hist, cap_hist;
    struct fe_lease *leases;
    int64_t next_lease;
    struct fe_op *pending; /* submitted, not yet run (FIFO) */
    struct fe_op **pending_tail;
    struct fe_res *queue[FE_CLIENTS]; /* results per client (FIFO) */
    struct fe_res **queue_tail[FE_CLIENTS];
    struct fe_watch *watches;
    /* failure injection */
    int down;              /* every operation: UNAVAILABLE; streams deliver nothing */
    int cut[FE_CLIENTS];   /* this client cannot reach etcd (as down, for one client) */
    int hold_keepalive;    /* keepalives get no answer (a partition of the renewals only) */
    int fail_n;            /* the next fail_n unary operations answer fail_status */
    etcd_status fail_status;
    int fail_apply;        /* ... after applying them (an UNKNOWN that did happen) */
    uint64_t ops_run;      /* unary operations run so far */
    uint64_t txns_run;
};

void fe_init(struct fake_etcd *fe);
void fe_fini(struct fake_etcd *fe);
/* fe_take copies client's RS_OUT_KV operations (and cancels) out of out. */
void fe_take(struct fake_etcd *fe, int client, const struct rs_outputs *out);
/* fe_run runs every submitted operation (in order) and delivers watch events. */
void fe_run(struct fake_etcd *fe);
/* fe_live_watches counts client's watch streams that have not ended */
size_t fe_live_watches(struct fake_etcd *fe, int client);
/* fe_next takes client's oldest result (free with fe_free), or NULL. */
etcd_result *fe_next(struct fake_etcd *fe, int client);
void fe_free(etcd_result *r);
/* fe_advance moves the clock to now_ms: leases not renewed in time expire (their keys go,
 * one revision per lease, as etcd does). */
void fe_advance(struct fake_etcd *fe, uint64_t now_ms);
/* fe_compact drops the history before rev. */
void fe_compact(struct fake_etcd *fe, int64_t rev);
/* Direct access for assertions and for scripting other writers. */
const etcd_kv *fe_get(struct fake_etcd *fe, const char *key, size_t len);
size_t fe_count_prefix(struct fake_etcd *fe, const char *prefix);
/* fe_put_raw writes key = value without a lease, as an outside writer (one revision). */
void fe_put_raw(struct fake_etcd *fe, const void *key, size_t klen, const void *v, size_t vlen);
int fe_lease_alive(struct fake_etcd *fe, int64_t id);
/* fe_end_watches ends client's watch streams with status (final), as etcd losing them. */
void fe_end_watches(struct fake_etcd *fe, int client, etcd_status status);

#endif
