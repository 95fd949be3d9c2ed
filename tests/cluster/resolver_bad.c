/* resolver_bad.c: a resolver that breaks the rules (tests): it always picks the first
 * argument, so swapping the arguments changes the winner. rosterd must refuse each of its
 * answers, log why, and let the default policy (oldest) decide. Built twice, as
 * "first-arg" (RESOLVER_NAME) and, for the mismatch test, under another version. */
#include <roster.h>

#ifndef RESOLVER_VERSION
#define RESOLVER_VERSION 1
#endif

static const roster_claim *first_arg(const roster_conflict *c) { return c->a; }

__attribute__((visibility("default"))) const roster_resolver roster_conflict_resolver = {
    ROSTER_RESOLVER_ABI, "first-arg", RESOLVER_VERSION, first_arg};
