/* main.c: the roster_sim command line.
 *
 *   roster_sim --seeds N [--first S]   run seeds S..S+N-1 (S defaults to 1), print each
 *                                      failure with its replay command, then "N passed,
 *                                      N failed"; exit 1 on any failure
 *   roster_sim --seed S [--verbose]    run one seed; --verbose prints the schedule (twice
 *                                      for heartbeats and core log lines too)
 *   --no-cluster                       nodes never connect: single-node invariants only
 *   --twice                            run every seed twice and fail if the two runs'
 *                                      output digests differ (determinism)
 *   --skip S1,S2,...                   do not run these seeds (known failures, each
 *                                      described in FINDINGS.md until the core is fixed) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int usage(void)
{
    fprintf(stderr, "usage: roster_sim (--seeds N [--first S] | --seed S) [--verbose] "
                    "[--no-cluster] [--twice] [--skip S1,S2,...]\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end)
        return -1;
    *out = v;
    return 0;
}

#define MAX_SKIP 64

static int parse_skip(const char *s, uint64_t *v, size_t *n)
{
    while (*s) {
        char *end;
        unsigned long long x = strtoull(s, &end, 10);
        if (end == s || *n == MAX_SKIP || (*end && *end != ','))
            return -1;
        v[(*n)++] = x;
        s = *end ? end + 1 : end;
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t skip[MAX_SKIP], skipped = 0;
    size_t nskip = 0;
    uint64_t first = 1, count = 0;
    int verbose = 0, cluster = 1, twice = 0, have = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--seeds") || !strcmp(a, "--first") || !strcmp(a, "--seed")) &&
            i + 1 < argc) {
            uint64_t v;
            if (parse_u64(argv[++i], &v) != 0)
                return usage();
            if (!strcmp(a, "--seeds")) {
                count = v;
                have = 1;
            } else if (!strcmp(a, "--first")) {
                first = v;
            } else {
                first = v;
                count = 1;
                have = 1;
            }
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            verbose++;
        } else if (!strcmp(a, "--no-cluster")) {
            cluster = 0;
        } else if (!strcmp(a, "--twice")) {
            twice = 1;
        } else if (!strcmp(a, "--skip") && i + 1 < argc) {
            if (parse_skip(argv[++i], skip, &nskip) != 0)
                return usage();
        } else {
            return usage();
        }
    }
    if (!have)
        return usage();
    uint64_t passed = 0, failed = 0;
    for (uint64_t s = first; s < first + count; s++) {
        int known = 0;
        for (size_t k = 0; k < nskip; k++)
            known |= skip[k] == s;
        if (known) {
            skipped++;
            continue;
        }
        uint64_t d1 = 0, d2 = 0;
        int bad = sim_run(s, verbose, cluster, &d1);
        if (!bad && twice) {
            bad = sim_run(s, 0, cluster, &d2);
            if (!bad && d1 != d2) {
                printf("seed %llu FAILED: not deterministic (digests %016llx, %016llx)\n",
                       (unsigned long long)s, (unsigned long long)d1, (unsigned long long)d2);
                bad = 1;
            }
        }
        if (bad)
            failed++;
        else
            passed++;
        fflush(stdout);
    }
    if (skipped)
        printf("(%llu known-failing seeds skipped: tests/sim/FINDINGS.md)\n",
               (unsigned long long)skipped);
    printf("%llu passed, %llu failed\n", (unsigned long long)passed,
           (unsigned long long)failed);
    return failed ? 1 : 0;
}
