/* check.c: the failure path of RS_ASSERT / RS_NEVER (check.h). */
#include "base/check.h"

#include <stdio.h>
#include <stdlib.h>

void rs_check_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}
