/* linz.c: the linearizability checker of linz.h. One name at a time: the name's calls and
 * returns in time order form a doubly linked list; the search linearizes a call when the
 * model accepts its result, lifts it (and its return) out of the list, and backtracks when
 * it meets the return of an operation it has not linearized. A (linearized set, model state)
 * pair seen once is never explored again, which keeps the search polynomial in practice.
 *
 * An operation of unknown outcome has no return entry: it need never be linearized, and
 * when it is, it takes effect (its no-effect variant is the same as leaving it out). */
#include "linz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The model's state for one name. token is meaningful when known; floor is the largest
 * token granted so far that is known (every later grant must exceed it). */
struct mstate {
    uint32_t holder;
    uint32_t meta;
    uint64_t token;
    uint64_t floor;
    int known;
};

struct entry {
    struct entry *prev, *next;
    struct entry *ret; /* call: its return entry (NULL: unknown outcome); return: NULL */
    const struct linz_op *op;
    size_t idx; /* the op's index within the name's sub-history */
    int is_call;
    uint64_t time;
};

/* learn checks an observed token against the state: equal to a known token, or, when the
 * token is unknown (granted by an operation of unknown outcome), above the floor. */
static int learn(struct mstate *s, uint64_t v)
{
    if (s->known)
        return v == s->token;
    if (v <= s->floor)
        return 0;
    s->token = v;
    s->floor = v;
    s->known = 1;
    return 1;
}

/* grant records a new grant: its token must exceed every token granted before. */
static int grant(struct mstate *s, uint32_t holder, const struct linz_op *op)
{
    s->holder = holder;
    if (op->outcome == LINZ_UNKNOWN) {
        if (s->known && s->token > s->floor)
            s->floor = s->token;
        s->known = 0;
        return 1;
    }
    uint64_t low = s->known && s->token > s->floor ? s->token : s->floor;
    if (op->r_token <= low)
        return 0;
    s->token = op->r_token;
    s->floor = op->r_token;
    s->known = 1;
    return 1;
}

/* token_is says whether the current token equals t; an unknown token is taken to be t when
 * t could be it (above the floor): the search only needs one consistent assignment. */
static int token_is(struct mstate *s, uint64_t t)
{
    if (s->known)
        return s->token == t;
    if (t <= s->floor)
        return 0;
    s->token = t;
    s->floor = t;
    s->known = 1;
    return 1;
}

/* apply: the model's step. Returns 1 and updates *s when op, at this point, gives the result
 * recorded (an unknown outcome: when it takes effect), 0 otherwise. */
static int apply(struct mstate *s, const struct linz_op *op)
{
    int unknown = op->outcome == LINZ_UNKNOWN;
    switch (op->kind) {
    case LINZ_REGISTER:
        if (s->holder == 0) {
            if (!unknown && op->outcome != LINZ_OK)
                return 0;
            s->meta = op->meta;
            return grant(s, op->pid, op);
        }
        if (s->holder == op->pid) {
            if (!unknown && (op->outcome != LINZ_OK || !learn(s, op->r_token)))
                return 0;
            s->meta = op->meta;
            return 1;
        }
        return !unknown && op->outcome == LINZ_TAKEN && op->r_holder == s->holder;
    case LINZ_UNREGISTER:
        if (s->holder == 0)
            return !unknown && op->outcome == LINZ_NOTFOUND;
        if (s->holder != op->pid)
            return !unknown && op->outcome == LINZ_NOTOWNER;
        if (!unknown && op->outcome != LINZ_OK)
            return 0;
        if (s->known && s->token > s->floor)
            s->floor = s->token;
        s->holder = 0;
        s->meta = 0;
        return 1;
    case LINZ_HANDOFF:
        if (s->holder == 0)
            return !unknown && op->outcome == LINZ_NOTFOUND;
        if (s->holder != op->pid && (!op->as_holder || op->outcome == LINZ_NOTOWNER))
            return !unknown && op->outcome == LINZ_NOTOWNER;
        if (op->outcome == LINZ_CONFLICT) {
            /* the refusal need not say the current token (r_token 0) */
            if (!op->if_token)
                return 0;
            if (op->r_token && !learn(s, op->r_token))
                return 0;
            return !s->known || s->token != op->if_token;
        }
        if (!unknown && op->outcome != LINZ_OK)
            return 0;
        if (op->if_token && !token_is(s, op->if_token))
            return 0;
        if (op->to == s->holder) /* to the holder itself: nothing changes, the token stays */
            return unknown || learn(s, op->r_token);
        return grant(s, op->to, op);
    case LINZ_UPDATE:
        if (s->holder == 0)
            return !unknown && op->outcome == LINZ_NOTFOUND;
        if (s->holder != op->pid && (!op->as_holder || op->outcome == LINZ_NOTOWNER))
            return !unknown && op->outcome == LINZ_NOTOWNER;
        if (op->outcome == LINZ_CONFLICT) {
            if (!learn(s, op->r_token) || op->r_meta != s->meta)
                return 0;
            int tok_ok = !op->if_token || s->token == op->if_token;
            int meta_ok = !op->if_meta_set || s->meta == op->if_meta;
            return !(tok_ok && meta_ok);
        }
        if (!unknown && op->outcome != LINZ_OK)
            return 0;
        if (op->if_meta_set && s->meta != op->if_meta)
            return 0;
        if (op->if_token && !token_is(s, op->if_token))
            return 0;
        if (!unknown && !learn(s, op->r_token))
            return 0;
        s->meta = op->meta;
        return 1;
    case LINZ_LOOKUP:
        if (unknown)
            return 0; /* a read of unknown outcome tells nothing: leave it out */
        if (s->holder == 0)
            return op->outcome == LINZ_NOTFOUND;
        return op->outcome == LINZ_OK && op->r_holder == s->holder && op->r_meta == s->meta &&
               learn(s, op->r_token);
    case LINZ_EXPIRE:
        if (s->holder != op->pid)
            return 0; /* no effect: the same as leaving it out */
        if (s->known && s->token > s->floor)
            s->floor = s->token;
        s->holder = 0;
        s->meta = 0;
        return 1;
    case LINZ_CHECK:
        if (unknown || op->outcome != LINZ_OK)
            return 0;
        if (s->holder == 0)
            return op->r_holder == 0 && op->r_token == 0;
        if (!learn(s, op->r_token))
            return 0;
        return op->r_holder == (s->token == op->if_token ? 1u : 0u);
    }
    return 0;
}

/* --- the memo: (linearized set, state) pairs already explored --- */

struct memo {
    size_t words;      /* uint64_t words per bitset */
    size_t cap, n, max;
    uint64_t *hashes;  /* 0: empty slot */
    struct mstate *states;
    uint64_t *bits;    /* cap * words */
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t memo_hash(const struct memo *m, const uint64_t *bits, const struct mstate *s)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < m->words; i++)
        h = mix(h, bits[i]);
    h = mix(h, s->holder);
    h = mix(h, s->meta);
    h = mix(h, s->token);
    h = mix(h, s->floor);
    h = mix(h, (uint64_t)s->known);
    return h ? h : 1;
}

static int same_state(const struct mstate *a, const struct mstate *b)
{
    return a->holder == b->holder && a->meta == b->meta && a->token == b->token &&
           a->floor == b->floor && a->known == b->known;
}

static int memo_init(struct memo *m, size_t n_ops, size_t max)
{
    memset(m, 0, sizeof *m);
    m->words = (n_ops + 63) / 64;
    m->max = max;
    m->cap = 1024;
    m->hashes = calloc(m->cap, sizeof *m->hashes);
    m->states = calloc(m->cap, sizeof *m->states);
    m->bits = calloc(m->cap * m->words, sizeof *m->bits);
    return m->hashes && m->states && m->bits ? 0 : -1;
}

static void memo_fini(struct memo *m)
{
    free(m->hashes);
    free(m->states);
    free(m->bits);
}

static int memo_grow(struct memo *m);

/* memo_add returns 1 if the pair is new (and records it), 0 if seen, -1 out of memory, -2
 * over budget. */
static int memo_add(struct memo *m, const uint64_t *bits, const struct mstate *s)
{
    uint64_t h = memo_hash(m, bits, s);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->hashes[i]) {
            if (m->n >= m->max)
                return -2;
            m->hashes[i] = h;
            m->states[i] = *s;
            memcpy(&m->bits[i * m->words], bits, m->words * sizeof *bits);
            m->n++;
            if (m->n * 2 > m->cap && memo_grow(m) != 0)
                return -1;
            return 1;
        }
        if (m->hashes[i] == h && same_state(&m->states[i], s) &&
            memcmp(&m->bits[i * m->words], bits, m->words * sizeof *bits) == 0)
            return 0;
    }
}

static int memo_grow(struct memo *m)
{
    struct memo big = *m;
    big.cap = m->cap * 2;
    big.n = 0;
    big.max = (size_t)-1;
    big.hashes = calloc(big.cap, sizeof *big.hashes);
    big.states = calloc(big.cap, sizeof *big.states);
    big.bits = calloc(big.cap * big.words, sizeof *big.bits);
    if (!big.hashes || !big.states || !big.bits) {
        memo_fini(&big);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->hashes[i])
            memo_add(&big, &m->bits[i * m->words], &m->states[i]);
    big.max = m->max;
    memo_fini(m);
    *m = big;
    return 0;
}

/* --- the search over one name --- */

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    /* at equal times calls come first: the two operations are taken as concurrent */
    return y->is_call - x->is_call;
}

static void lift(struct entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    if (e->ret) {
        e->ret->prev->next = e->ret->next;
        e->ret->next->prev = e->ret->prev;
    }
}

static void unlift(struct entry *e)
{
    if (e->ret) {
        e->ret->prev->next = e->ret;
        e->ret->next->prev = e->ret;
    }
    e->prev->next = e;
    e->next->prev = e;
}

struct frame {
    struct entry *e;
    struct mstate before;
};

static const char *kind_name(enum linz_kind k)
{
    static const char *const names[] = {"?", "register", "unregister", "handoff", "update",
                                        "lookup", "check", "expire"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* check_name: 1 linearizable, 0 not, -1 out of memory, -2 over budget. */
static int check_name(const struct linz_op *ops, size_t n, size_t max_states, char *why,
                      size_t why_len)
{
    size_t n_entries = 0;
    for (size_t i = 0; i < n; i++)
        n_entries += ops[i].outcome == LINZ_UNKNOWN ? 1 : 2;
    /* +2: head and tail sentinels, so lift and unlift never meet NULL */
    struct entry *v = calloc(n_entries + 2, sizeof *v);
    struct frame *stack = calloc(n + 1, sizeof *stack);
    uint64_t *bits = calloc((n + 63) / 64 + 1, sizeof *bits);
    struct memo memo;
    int mr = memo_init(&memo, n, max_states);
    int result = -1;
    if (!v || !stack || !bits || mr != 0)
        goto out;

    struct entry *arr = v + 2;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        arr[k++] = (struct entry){.op = &ops[i], .idx = i, .is_call = 1, .time = ops[i].call};
        if (ops[i].outcome != LINZ_UNKNOWN)
            arr[k++] = (struct entry){.op = &ops[i], .idx = i, .is_call = 0, .time = ops[i].ret};
    }
    qsort(arr, k, sizeof *arr, entry_cmp);
    /* link: calls find their returns through a per-op index table */
    struct entry **call_of = calloc(n ? n : 1, sizeof *call_of);
    if (!call_of)
        goto out;
    struct entry *head = &v[0], *tail = &v[1];
    struct entry *prev = head;
    size_t returns = 0;
    for (size_t i = 0; i < k; i++) {
        arr[i].prev = prev;
        prev->next = &arr[i];
        prev = &arr[i];
        if (arr[i].is_call)
            call_of[arr[i].idx] = &arr[i];
        else {
            call_of[arr[i].idx]->ret = &arr[i];
            returns++;
        }
    }
    prev->next = tail;
    tail->prev = prev;
    tail->time = UINT64_MAX;
    free(call_of);

    struct mstate s = {0};
    size_t depth = 0;
    struct entry *e = head->next;
    const struct linz_op *stuck = NULL;
    while (returns > 0) {
        if (e == tail)
            break; /* cannot happen while a return is in the list */
        if (e->is_call) {
            struct mstate ns = s;
            if (apply(&ns, e->op)) {
                bits[e->idx / 64] |= 1ull << (e->idx % 64);
                int added = memo_add(&memo, bits, &ns);
                if (added < 0) {
                    result = added;
                    goto out;
                }
                if (added) {
                    stack[depth++] = (struct frame){e, s};
                    s = ns;
                    lift(e);
                    if (e->ret)
                        returns--;
                    e = head->next;
                    continue;
                }
                bits[e->idx / 64] &= ~(1ull << (e->idx % 64));
            }
            e = e->next;
        } else {
            if (!stuck || e->op->ret < stuck->ret)
                stuck = e->op;
            if (depth == 0) {
                result = 0;
                goto out;
            }
            struct frame f = stack[--depth];
            s = f.before;
            bits[f.e->idx / 64] &= ~(1ull << (f.e->idx % 64));
            unlift(f.e);
            if (f.e->ret)
                returns++;
            e = f.e->next;
        }
    }
    result = 1;
out:
    if (result == 0 && stuck)
        snprintf(why, why_len,
                 "name %u: no order explains the %s by pid %u called at %llu, returned at %llu",
                 stuck->name, kind_name(stuck->kind), stuck->pid,
                 (unsigned long long)stuck->call, (unsigned long long)stuck->ret);
    if (mr == 0)
        memo_fini(&memo);
    free(v);
    free(stack);
    free(bits);
    return result;
}

static int op_cmp(const void *a, const void *b)
{
    const struct linz_op *x = a, *y = b;
    if (x->name != y->name)
        return x->name < y->name ? -1 : 1;
    if (x->call != y->call)
        return x->call < y->call ? -1 : 1;
    return 0;
}

int linz_check(struct linz_op *ops, size_t n, size_t max_states, struct linz_report *report)
{
    memset(report, 0, sizeof *report);
    report->ok = 1;
    if (!max_states)
        max_states = 1000000;
    for (size_t i = 0; i < n; i++) {
        const struct linz_op *o = &ops[i];
        if (o->kind < LINZ_REGISTER || o->kind > LINZ_EXPIRE || o->outcome < LINZ_OK ||
            (o->kind == LINZ_EXPIRE && o->outcome != LINZ_UNKNOWN) ||
            o->outcome > LINZ_UNKNOWN || o->pid == 0 ||
            (o->outcome != LINZ_UNKNOWN && o->ret < o->call) ||
            (o->kind == LINZ_HANDOFF && o->to == 0)) {
            snprintf(report->why, sizeof report->why, "operation %zu is malformed", i);
            return -1;
        }
        if (o->outcome == LINZ_UNKNOWN)
            report->unknown++;
    }
    qsort(ops, n, sizeof *ops, op_cmp);
    report->ops = n;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && ops[j].name == ops[i].name)
            j++;
        report->names++;
        char why[sizeof report->why] = "";
        int r = check_name(&ops[i], j - i, max_states, why, sizeof why);
        if (r == -1) {
            snprintf(report->why, sizeof report->why, "out of memory");
            return -1;
        }
        if (r == -2) {
            report->inconclusive = 1;
            snprintf(report->why, sizeof report->why,
                     "name %u: more than %zu states explored; history not judged", ops[i].name,
                     max_states);
        } else if (r == 0 && report->ok) {
            report->ok = 0;
            report->bad_name = ops[i].name;
            memcpy(report->why, why, sizeof why); /* the first name that failed */
        }
        i = j;
    }
    return 0;
}
