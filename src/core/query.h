/* query.h: the metadata queries (issue 11 items 6 and 12; docs/API.md "Queries"): QUERY
 * lists names or members by key or prefix and a metadata filter, QUERY_COUNT counts what
 * it would list, UNMATCH removes the caller's own matching entries (one change, so one
 * event, each). Eventual scopes here; strong scopes in kvread.c (reads) and refused for
 * UNMATCH. */
#ifndef ROSTER_CORE_QUERY_H
#define ROSTER_CORE_QUERY_H

#include "core/internal.h"
#include "wire/fields.h"

void rs_query_on_query(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_query_on_count(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);
void rs_query_on_unmatch(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req);

#endif
