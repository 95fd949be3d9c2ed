/* test_linz.c: the linearizability checker (tests/lib/linz.c) judges histories right: it
 * accepts what a correct register allows (overlapping operations in either order, unknown
 * outcomes applied late or never) and finds every planted violation (two holders, a stale
 * read after an acknowledged write, a token that does not grow, a compare-and-set that
 * ignored its compare). Random histories made by a correct sequential register with
 * overlapping intervals must all pass; the same histories with one read falsified must
 * fail. */
#include <stdlib.h>

#include "linz.h"
#include "test.h"

#define OP(...) ((struct linz_op){__VA_ARGS__})

static int judge(struct linz_op *ops, size_t n, struct linz_report *r)
{
    ASSERT_EQ(linz_check(ops, n, 0, r), 0);
    ASSERT(!r->inconclusive);
    return r->ok;
}

static void test_sequential_ok(void)
{
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 1, .pid = 1, .meta = 7,
           .outcome = LINZ_OK, .r_token = 5),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 2, .ret = 3, .pid = 2, .outcome = LINZ_OK,
           .r_holder = 1, .r_token = 5, .r_meta = 7),
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 4, .ret = 5, .pid = 2, .meta = 1,
           .outcome = LINZ_TAKEN, .r_holder = 1),
        OP(.name = 1, .kind = LINZ_UNREGISTER, .call = 6, .ret = 7, .pid = 1, .outcome = LINZ_OK),
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 8, .ret = 9, .pid = 2, .meta = 3,
           .outcome = LINZ_OK, .r_token = 9),
        OP(.name = 1, .kind = LINZ_CHECK, .call = 10, .ret = 11, .pid = 3, .if_token = 5,
           .outcome = LINZ_OK, .r_holder = 0, .r_token = 9),
        OP(.name = 1, .kind = LINZ_CHECK, .call = 12, .ret = 13, .pid = 3, .if_token = 9,
           .outcome = LINZ_OK, .r_holder = 1, .r_token = 9),
    };
    struct linz_report r;
    ASSERT(judge(h, 7, &r));
    ASSERT_EQ(r.names, 1);
    ASSERT_EQ(r.ops, 7);
}

static void test_two_holders(void)
{
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 10, .pid = 1, .outcome = LINZ_OK,
           .r_token = 5),
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 2, .ret = 8, .pid = 2, .outcome = LINZ_OK,
           .r_token = 6),
    };
    struct linz_report r;
    ASSERT(!judge(h, 2, &r));
    ASSERT_EQ(r.bad_name, 1);
    ASSERT(strstr(r.why, "name 1") != NULL);
}

static void test_concurrent_read_either_way(void)
{
    /* a lookup overlapping the register may see the name free or held */
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 10, .pid = 1, .outcome = LINZ_OK,
           .r_token = 5),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 2, .ret = 3, .pid = 9,
           .outcome = LINZ_NOTFOUND),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 4, .ret = 5, .pid = 9, .outcome = LINZ_OK,
           .r_holder = 1, .r_token = 5),
    };
    struct linz_report r;
    ASSERT(judge(h, 3, &r));
    /* but not held, then free again, with no unregister */
    h[1] = OP(.name = 1, .kind = LINZ_LOOKUP, .call = 6, .ret = 7, .pid = 9,
              .outcome = LINZ_NOTFOUND);
    ASSERT(!judge(h, 3, &r));
}

static void test_stale_read(void)
{
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 1, .pid = 1, .outcome = LINZ_OK,
           .r_token = 5),
        OP(.name = 1, .kind = LINZ_UNREGISTER, .call = 20, .ret = 30, .pid = 1,
           .outcome = LINZ_OK),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 40, .ret = 41, .pid = 2, .outcome = LINZ_OK,
           .r_holder = 1, .r_token = 5),
    };
    struct linz_report r;
    ASSERT(!judge(h, 3, &r));
    h[2].call = 25; /* overlapping the unregister: either answer is right */
    ASSERT(judge(h, 3, &r));
}

static void test_unknown_outcomes(void)
{
    /* an unknown register may apply late (seen by a later lookup) ... */
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .pid = 1, .meta = 4,
           .outcome = LINZ_UNKNOWN),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 50, .ret = 51, .pid = 2,
           .outcome = LINZ_NOTFOUND),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 60, .ret = 61, .pid = 2, .outcome = LINZ_OK,
           .r_holder = 1, .r_token = 8, .r_meta = 4),
    };
    struct linz_report r;
    ASSERT(judge(h, 3, &r));
    ASSERT_EQ(r.unknown, 1);
    /* ... or never */
    ASSERT(judge(h, 2, &r));
    /* but it applies once: held, then free with nobody unregistering, is a violation */
    struct linz_op g[] = {
        h[0],
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 50, .ret = 51, .pid = 2, .outcome = LINZ_OK,
           .r_holder = 1, .r_token = 8, .r_meta = 4),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 60, .ret = 61, .pid = 2,
           .outcome = LINZ_NOTFOUND),
    };
    ASSERT(!judge(g, 3, &r));
}

static void test_tokens_grow(void)
{
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 1, .pid = 1, .outcome = LINZ_OK,
           .r_token = 5),
        OP(.name = 1, .kind = LINZ_UNREGISTER, .call = 2, .ret = 3, .pid = 1, .outcome = LINZ_OK),
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 4, .ret = 5, .pid = 2, .outcome = LINZ_OK,
           .r_token = 5),
    };
    struct linz_report r;
    ASSERT(!judge(h, 3, &r));
    h[2].r_token = 6;
    ASSERT(judge(h, 3, &r));
}

static void test_handoff(void)
{
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 1, .pid = 1, .meta = 2,
           .outcome = LINZ_OK, .r_token = 3),
        OP(.name = 1, .kind = LINZ_HANDOFF, .call = 10, .ret = 20, .pid = 1, .to = 2,
           .if_token = 3, .outcome = LINZ_OK, .r_token = 4),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 12, .ret = 14, .pid = 9, .outcome = LINZ_OK,
           .r_holder = 2, .r_token = 4, .r_meta = 2),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 30, .ret = 31, .pid = 9, .outcome = LINZ_OK,
           .r_holder = 1, .r_token = 3, .r_meta = 2),
    };
    struct linz_report r;
    ASSERT(!judge(h, 4, &r)); /* the old holder after the handoff returned */
    ASSERT(judge(h, 3, &r));
    /* a name free in between is a violation too: handoff is atomic */
    h[3] = OP(.name = 1, .kind = LINZ_LOOKUP, .call = 11, .ret = 13, .pid = 9,
              .outcome = LINZ_NOTFOUND);
    ASSERT(!judge(h, 4, &r));
    /* a handoff whose if_token matched cannot answer CONFLICT */
    struct linz_op g[] = {
        h[0], OP(.name = 1, .kind = LINZ_HANDOFF, .call = 10, .ret = 20, .pid = 1, .to = 2,
                 .if_token = 3, .outcome = LINZ_CONFLICT, .r_token = 3),
    };
    ASSERT(!judge(g, 2, &r));
    /* another pid may hand it off only when acting for the holder (same OS user) */
    struct linz_op k[] = {
        h[0], OP(.name = 1, .kind = LINZ_HANDOFF, .call = 10, .ret = 20, .pid = 7, .to = 2,
                 .outcome = LINZ_OK, .r_token = 4),
    };
    ASSERT(!judge(k, 2, &r));
    k[1].as_holder = 1;
    ASSERT(judge(k, 2, &r));
}

static void test_compare_and_set(void)
{
    /* two concurrent updates expecting the same metadata cannot both succeed */
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 1, .pid = 1, .meta = 1,
           .outcome = LINZ_OK, .r_token = 3),
        OP(.name = 1, .kind = LINZ_UPDATE, .call = 10, .ret = 20, .pid = 1, .meta = 2,
           .if_meta_set = 1, .if_meta = 1, .outcome = LINZ_OK, .r_token = 3),
        OP(.name = 1, .kind = LINZ_UPDATE, .call = 11, .ret = 21, .pid = 1, .meta = 3,
           .if_meta_set = 1, .if_meta = 1, .outcome = LINZ_OK, .r_token = 3),
    };
    struct linz_report r;
    ASSERT(!judge(h, 3, &r));
    /* one of them failing with the other's value is right */
    h[2].outcome = LINZ_CONFLICT;
    h[2].r_meta = 2;
    ASSERT(judge(h, 3, &r));
    /* failing with the value it expected is not */
    h[2].r_meta = 1;
    ASSERT(!judge(h, 3, &r));
}

/* A random history from a correct register: each operation takes effect at a point inside
 * its interval; some intervals overlap. */
static size_t random_history(struct linz_op *h, size_t n, unsigned seed)
{
    srand(seed);
    struct reg {
        uint32_t holder, meta;
        uint64_t token;
    } st[3] = {{0}};
    uint64_t rev = 1;
    uint64_t t = 10; /* calls start up to 7 before an op's point */
    for (size_t i = 0; i < n; i++) {
        uint32_t name = (uint32_t)(rand() % 3) + 1;
        uint32_t pid = (uint32_t)(rand() % 4) + 1;
        struct linz_op *o = &h[i];
        uint64_t point = t + 5;
        *o = OP(.name = name, .pid = pid, .call = point - (uint64_t)(rand() % 8),
                .ret = point + (uint64_t)(rand() % 8));
        t = point;
        struct reg *s = &st[name - 1];
        switch (rand() % 5) {
        case 0:
            o->kind = LINZ_REGISTER;
            o->meta = (uint32_t)(rand() % 3);
            if (s->holder == 0) {
                s->holder = pid;
                s->token = ++rev;
            } else if (s->holder != pid) {
                o->outcome = LINZ_TAKEN;
                o->r_holder = s->holder;
                break;
            }
            s->meta = o->meta;
            o->outcome = LINZ_OK;
            o->r_token = s->token;
            break;
        case 1:
            o->kind = LINZ_UNREGISTER;
            if (s->holder == 0)
                o->outcome = LINZ_NOTFOUND;
            else if (s->holder != pid)
                o->outcome = LINZ_NOTOWNER;
            else {
                o->outcome = LINZ_OK;
                s->holder = 0;
                s->meta = 0;
            }
            break;
        case 2:
            o->kind = LINZ_HANDOFF;
            o->to = (uint32_t)(rand() % 4) + 1;
            if (s->holder == 0)
                o->outcome = LINZ_NOTFOUND;
            else if (s->holder != pid)
                o->outcome = LINZ_NOTOWNER;
            else {
                o->outcome = LINZ_OK;
                if (o->to != s->holder) /* to the holder itself keeps the token */
                    s->token = ++rev;
                s->holder = o->to;
                o->r_token = s->token;
            }
            break;
        default:
            o->kind = LINZ_LOOKUP;
            if (s->holder == 0)
                o->outcome = LINZ_NOTFOUND;
            else {
                o->outcome = LINZ_OK;
                o->r_holder = s->holder;
                o->r_token = s->token;
                o->r_meta = s->meta;
            }
            break;
        }
        rev += (uint64_t)(rand() % 3); /* other names' writes move etcd's revision too */
    }
    return n;
}

static void test_random_histories(void)
{
    static struct linz_op h[600];
    for (unsigned seed = 1; seed <= 40; seed++) {
        size_t n = random_history(h, 600, seed);
        struct linz_report r;
        ASSERT(judge(h, n, &r));
        ASSERT_EQ(r.ops, 600);
        /* forgetting the answers of some writes (EUNKNOWN) keeps it linearizable */
        for (size_t i = 0; i < n; i += 7)
            if (h[i].kind != LINZ_LOOKUP)
                h[i].outcome = LINZ_UNKNOWN;
        ASSERT(judge(h, n, &r));
        ASSERT(r.unknown > 0);
        /* falsify one lookup that found a holder: name it a pid that never existed */
        random_history(h, n, seed);
        size_t i = 0;
        while (i < n && !(h[i].kind == LINZ_LOOKUP && h[i].outcome == LINZ_OK))
            i++;
        if (i == n)
            continue;
        h[i].r_holder = 99;
        ASSERT(!judge(h, n, &r));
    }
}

static void test_expire(void)
{
    /* a dead pid's name may go at any time after its death, but not before */
    struct linz_op h[] = {
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 0, .ret = 1, .pid = 1, .outcome = LINZ_OK,
           .r_token = 5),
        OP(.name = 1, .kind = LINZ_EXPIRE, .call = 10, .pid = 1, .outcome = LINZ_UNKNOWN),
        OP(.name = 1, .kind = LINZ_LOOKUP, .call = 20, .ret = 21, .pid = 2, .outcome = LINZ_OK,
           .r_holder = 1, .r_token = 5),
        OP(.name = 1, .kind = LINZ_REGISTER, .call = 30, .ret = 31, .pid = 2, .outcome = LINZ_OK,
           .r_token = 9),
    };
    struct linz_op g[4];
    struct linz_report r;
    memcpy(g, h, sizeof g); /* linz_check reorders its array */
    ASSERT(judge(g, 4, &r));
    memcpy(g, h, sizeof g);
    g[1].call = 25; /* died after the lookup but the register at 30 found it free: fine */
    ASSERT(judge(g, 4, &r));
    memcpy(g, h, sizeof g);
    g[1].call = 35; /* died after the register returned: the register could not succeed */
    ASSERT(!judge(g, 4, &r));
}

static void test_malformed(void)
{
    struct linz_op h[] = {OP(.name = 1, .kind = 0, .pid = 1, .outcome = LINZ_OK)};
    struct linz_report r;
    ASSERT_EQ(linz_check(h, 1, 0, &r), -1);
    ASSERT(strstr(r.why, "malformed") != NULL);
}

TEST_MAIN(T(test_sequential_ok), T(test_two_holders), T(test_concurrent_read_either_way),
          T(test_stale_read), T(test_unknown_outcomes), T(test_tokens_grow), T(test_handoff),
          T(test_compare_and_set), T(test_random_histories), T(test_expire), T(test_malformed))
