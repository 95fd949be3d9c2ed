/* bench_query.c: figure Q (issue 11, queries on metadata): the node's cost of filtering a
 * scope in place. 100,000 names (10% with {"role":"admin"} JSON metadata) and one group of
 * 10,000 members; latency of each query form, beside the unfiltered listing and count:
 *   names --where role=admin (10,000 results), count --where (no items sent),
 *   count --meta-glob (a glob that selects one entry), members GROUP --meta-prefix.
 * Run against $ROSTER_SOCKET (a private node: it adds 110,000 entries). */
#include "bench_util.h"

#define NAMES 100000
#define MEMBERS 10000
#define REPS 30

static void time_it(roster_client *c, const char *label, int kind, const roster_query *q)
{
    bu_lat l;
    bu_lat_init(&l, REPS);
    size_t got = 0;
    for (int i = 0; i < REPS; i++) {
        roster_entries e;
        roster_counts n;
        uint64_t a = bu_now_ns();
        int rc = kind == 0   ? roster_query_names(c, NULL, q, &e, BU_TIMEOUT_MS)
                 : kind == 1 ? roster_query_members(c, NULL, q, &e, BU_TIMEOUT_MS)
                 : kind == 2 ? roster_query_count(c, NULL, q, &n, BU_TIMEOUT_MS)
                 : kind == 3 ? roster_names(c, NULL, "", 0, (roster_pid){0, 0}, 0, &e,
                                            BU_TIMEOUT_MS)
                             : roster_count(c, NULL, NULL, &n, BU_TIMEOUT_MS);
        uint64_t b = bu_now_ns();
        bu_check(c, label, rc);
        bu_lat_add(&l, b - a);
        if (kind <= 1 || kind == 3) {
            got = e.n;
            roster_entries_free(&e);
        } else {
            got = (size_t)(n.names + n.members);
        }
    }
    bu_lat_sort(&l);
    char full[160];
    snprintf(full, sizeof full, "%s [%zu]", label, got);
    bu_print_lat(full, &l);
    bu_lat_free(&l);
}

int main(void)
{
    bu_section("Q. queries on metadata over 100,000 names and a group of 10,000");
    roster_client *c = bu_connect("bench-query");
    char key[64], meta[96];
    for (size_t i = 0; i < NAMES; i++) {
        size_t kl = bu_name(key, sizeof key, "svc/", i);
        int ml = snprintf(meta, sizeof meta, "{\"role\":\"%s\",\"i\":%zu}",
                          i % 10 == 0 ? "admin" : "user", i);
        bu_check(c, "roster_register_async",
                 roster_register_async(c, NULL, key, kl, roster_self(c), meta, (size_t)ml,
                                       NULL));
        if ((i + 1) % BU_BATCH == 0)
            bu_check_wait(c, "roster_wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
    }
    bu_check_wait(c, "roster_wait_all", roster_wait_all(c, BU_TIMEOUT_MS));
    for (size_t i = 0; i < MEMBERS; i++) {
        roster_pid p;
        bu_check(c, "roster_pid_new", roster_pid_new(c, &p, BU_TIMEOUT_MS));
        int ml = snprintf(meta, sizeof meta, "zone=%s;%zu", i % 4 ? "us" : "eu", i);
        bu_check(c, "roster_join_async",
                 roster_join_async(c, NULL, "workers", 7, p, meta, (size_t)ml, NULL));
    }
    bu_check_wait(c, "roster_wait_all", roster_wait_all(c, BU_TIMEOUT_MS));

    roster_match admin = {ROSTER_MATCH_FIELD, "role", "admin", 5};
    roster_match one = {ROSTER_MATCH_GLOB, NULL, "*\"i\":4242}", 10};
    roster_match eu = {ROSTER_MATCH_PREFIX, NULL, "zone=eu", 7};
    roster_query q;
    roster_query_init(&q);
    q.prefix = 1;
    q.key = "";
    time_it(c, "names (all, unfiltered)", 3, &q);
    time_it(c, "count (unfiltered)", 4, &q);
    q.match = &admin;
    q.n_match = 1;
    time_it(c, "names --where role=admin", 0, &q);
    time_it(c, "count --where role=admin", 2, &q);
    q.match = &one;
    time_it(c, "count --meta-glob '*\"i\":4242}'", 2, &q);
    q.key = "workers";
    q.key_len = 7;
    q.prefix = 0;
    q.match = &eu;
    time_it(c, "members workers --meta-prefix zone=eu", 1, &q);
    roster_close(c);
    return 0;
}
