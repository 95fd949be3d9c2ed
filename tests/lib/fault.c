/* fault.c: the counting, failing allocator of fault.h, on top of the C library's. */
#include "fault.h"

#include <malloc.h>
#include <stdlib.h>

static long countdown;   /* allocations until the planned failure (it included); 0: none */
static long repeat_left; /* failures still to come after it; FAULT_FOREVER: unbounded */
static int failing;      /* the planned failure has started */
static long calls;
static long failures;
static long live_blocks;
static long long live_bytes;
static size_t largest; /* largest request since the last fault_plan, failed ones included */

void fault_plan(long nth, long repeat)
{
    countdown = nth > 0 ? nth : 0;
    repeat_left = repeat;
    failing = 0;
    calls = 0;
    failures = 0;
    largest = 0;
}

void fault_off(void)
{
    countdown = 0;
    failing = 0;
}

/* should_fail counts one allocation call of n bytes and says whether the plan makes it fail. */
static int should_fail(size_t n)
{
    calls++;
    if (n > largest)
        largest = n;
    if (!failing) {
        if (countdown == 0 || --countdown > 0)
            return 0;
        failing = 1; /* this is the nth call */
    } else if (repeat_left == 0) {
        failing = 0; /* the run of failures is over, and the plan spent */
        return 0;
    } else if (repeat_left > 0) {
        repeat_left--;
    }
    failures++;
    return 1;
}

void *fault_malloc(size_t n)
{
    if (should_fail(n))
        return NULL;
    void *p = malloc(n);
    if (p) {
        live_blocks++;
        live_bytes += (long long)malloc_usable_size(p);
    }
    return p;
}

void *fault_realloc(void *p, size_t n)
{
    if (should_fail(n))
        return NULL;
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q) {
        if (!p)
            live_blocks++;
        live_bytes += (long long)malloc_usable_size(q) - (long long)old;
    }
    return q;
}

void fault_free(void *p)
{
    if (!p)
        return;
    live_blocks--;
    live_bytes -= (long long)malloc_usable_size(p);
    free(p);
}

long fault_calls(void) { return calls; }
long fault_failures(void) { return failures; }
long fault_live_blocks(void) { return live_blocks; }
long long fault_live_bytes(void) { return live_bytes; }

size_t fault_largest(void) { return largest; }
