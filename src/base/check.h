/* check.h: run-time invariant checks (RS_ASSERT, RS_NEVER), on in every build, release
 * included. A registry that keeps running with a broken index hands out wrong owners; a node
 * that stops is restarted by its supervisor and its peers purge and resync it. So only cheap
 * (O(1)) checks belong here; whole-state invariants are the simulator's job (tests/sim).
 * A failed check prints the expression and its place to stderr and aborts. */
#ifndef ROSTER_BASE_CHECK_H
#define ROSTER_BASE_CHECK_H

/* rs_check_fail never returns: it reports "file:line: invariant failed: expr" and aborts. */
_Noreturn void rs_check_fail(const char *expr, const char *file, int line);

/* RS_ASSERT(cond): cond must hold here; a statement. */
#define RS_ASSERT(cond) ((cond) ? (void)0 : rs_check_fail(#cond, __FILE__, __LINE__))

/* RS_NEVER(cond): a case the callers must never produce (a shell bug, say); an expression
 * that is 0 when cond is false, so it reads as `if (RS_NEVER(x)) return;` where the old code
 * ignored the case silently. Because checks are always on, a true cond aborts. */
#define RS_NEVER(cond) ((cond) ? (rs_check_fail(#cond, __FILE__, __LINE__), 1) : 0)

#endif
