/* fault.h: the one allocator of the tests. It counts allocation calls and the blocks and bytes
 * still live (for leak checks and memory measurements), and fails allocations on request so a
 * test can walk every failure point of a scenario. Install it with
 *   rs_alloc_set(fault_malloc, fault_realloc, fault_free)          (white-box tests), or
 *   roster_set_allocator(fault_malloc, fault_realloc, fault_free)  (libroster tests),
 * and put the default back with the same call and three NULLs. */
#ifndef ROSTER_TESTS_FAULT_H
#define ROSTER_TESTS_FAULT_H

#include <stddef.h>

/* repeat value of fault_plan: once failing, every later allocation fails too. */
#define FAULT_FOREVER (-1L)

void *fault_malloc(size_t n);
void *fault_realloc(void *p, size_t n);
void fault_free(void *p);

/* fault_plan arms the countdown: the nth allocation from now fails (1: the very next one),
 * and so do the repeat ones after it (0: only that one; FAULT_FOREVER: all of them). It
 * zeroes the call and failure counts. nth 0 disarms: nothing fails. */
void fault_plan(long nth, long repeat);
/* fault_off disarms without touching the counts. */
void fault_off(void);

/* Allocation calls (malloc and realloc, failed ones included) since the last fault_plan. */
long fault_calls(void);
/* Allocations made to fail since the last fault_plan. */
long fault_failures(void);
/* Blocks allocated through fault_malloc/fault_realloc and not yet freed through fault_free.
 * Never reset: a test reads it before and after, or expects 0 when it installed the
 * allocator on an empty slate. */
long fault_live_blocks(void);
/* The same blocks' bytes as the C library reserved them (malloc_usable_size: the request
 * plus the allocator's rounding), so memory measurements see the real cost. */
long long fault_live_bytes(void);

/* The largest single request (malloc or realloc size) since the last fault_plan, failed
 * ones included: a test that some input is never allocated for reads it. */
size_t fault_largest(void);

#endif
