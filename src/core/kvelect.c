/* kvelect.c: the strong halves of HANDOFF, UPDATE and CAMPAIGN (issue 9, items 4 and 7).
 * Not built yet in this version: each answers EUNAVAIL saying so, so that a caller never
 * mistakes it for a success. CHECK_TOKEN is kvread.c. */
#include "core/kvstate.h"
#include "core/output.h"
#include "core/strong.h"

static void not_yet(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req,
                    const char *what)
{
    rs_out_error(c, cl, req, ROSTER_EUNAVAIL, "%s in strong scopes is not built yet", what);
}

void rs_strong_on_handoff(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    not_yet(c, cl, req, "handoff");
}

void rs_strong_on_update(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    not_yet(c, cl, req, "update (compare-and-set)");
}

void rs_strong_on_campaign(struct rs_core *c, struct rs_client *cl, const struct rs_msg *req)
{
    not_yet(c, cl, req, "campaign (leader election)");
}
