/* linz.h: a linearizability checker for histories of strong-scope operations (issue 9's
 * chaos test). The model is one compare-and-set register per name: a holder (0: free), a
 * fencing token and a metadata value. A history records, for every operation, when it was
 * called, when it returned and what it returned; the checker searches for an order of the
 * operations that respects real time (an operation that returned before another was called
 * comes first) and in which every result is what the model gives (Wing and Gong's search
 * with Lowe's memoisation of visited (linearized set, state) pairs). Names are independent
 * objects, so each name's sub-history is checked on its own.
 *
 * An operation whose outcome is unknown (EUNKNOWN, a timeout, a killed client) may have
 * taken effect at any time after its call, or never: it has no return and its result is
 * not checked. Operations known not to have taken effect (EUNAVAIL) are left out by the
 * caller. Tokens are etcd revisions the model cannot predict: a grant's token must be
 * greater than every token granted before it, and is then remembered; a grant whose
 * outcome was unknown leaves the token unknown until an operation observes it. */
#ifndef ROSTER_TESTS_LINZ_H
#define ROSTER_TESTS_LINZ_H

#include <stddef.h>
#include <stdint.h>

enum linz_kind {
    LINZ_REGISTER = 1, /* pid registers the name with meta (re-register: new meta) */
    LINZ_UNREGISTER,   /* pid unregisters it */
    LINZ_HANDOFF,      /* the holder pid hands it to `to` (if_token: conditional) */
    LINZ_UPDATE,       /* pid (the holder) sets meta (if_token / if_meta: conditional) */
    LINZ_LOOKUP,       /* who holds it, with which token and meta */
    LINZ_CHECK,        /* is if_token the current token */
    LINZ_EXPIRE,       /* pid died (its client closed, its node was killed): its names go
                          at some time after call; outcome must be LINZ_UNKNOWN */
};

enum linz_outcome {
    LINZ_OK = 1,
    LINZ_TAKEN,    /* register: another pid holds it (r_holder) */
    LINZ_NOTFOUND, /* unregister, handoff, update, lookup: nobody holds it */
    LINZ_NOTOWNER, /* unregister, handoff, update: another pid holds it */
    LINZ_CONFLICT, /* handoff, update: the compare failed (r_token, r_meta: current) */
    LINZ_UNKNOWN,  /* no answer: may or may not have taken effect */
};

struct linz_op {
    uint32_t name;   /* which register */
    enum linz_kind kind;
    uint64_t call;   /* any monotonic clock, same for every op */
    uint64_t ret;    /* ignored for LINZ_UNKNOWN */
    uint32_t pid;    /* acting pid (> 0) */
    uint32_t to;     /* handoff: the new holder (> 0) */
    uint32_t meta;   /* register, update: the new metadata */
    uint64_t if_token; /* handoff, update: expected token (0: none); check: the token */
    int as_holder;     /* handoff, update: the caller may act for whichever pid holds the
                          name (a client of the holder's OS user), not only as pid; a
                          refusal (NOTOWNER) is then also right while another pid holds it
                          (the node may not know that holder's user) */
    int if_meta_set;   /* update: compare the metadata with if_meta */
    uint32_t if_meta;
    enum linz_outcome outcome;
    uint32_t r_holder; /* taken: the holder; lookup: the holder; check: 1 current, 0 stale */
    uint64_t r_token;  /* register, handoff, update OK: the token; lookup: the token;
                          conflict: the current token (a handoff's may be 0: not told);
                          check: the current token (0: free) */
    uint32_t r_meta;   /* lookup: the meta; conflict (update): the current meta */
};

struct linz_report {
    size_t names;       /* names checked */
    size_t ops;         /* operations checked */
    size_t unknown;     /* of which with an unknown outcome */
    int ok;             /* 1: every name's history is linearizable */
    int inconclusive;   /* 1: a name's search exceeded the state budget (not a violation) */
    uint32_t bad_name;  /* the first name with no linearization (when !ok) */
    char why[256];      /* a short explanation when !ok or inconclusive */
};

/* linz_check checks ops[0 .. n) (in any order; the array is reordered by name and call
 * time). max_states bounds the memoised states per name (0: 1,000,000). Returns 0 when it
 * ran (see report->ok), -1 when out of memory or an op is malformed (report->why). */
int linz_check(struct linz_op *ops, size_t n, size_t max_states, struct linz_report *report);

#endif
