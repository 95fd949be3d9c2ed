/* resolver.c: the custom conflict resolver of the public API (roster.h, struct
 * roster_resolver; issue 11 item 15) around the claims table: its check at start, the
 * agreement of every node on one policy (P_POLICY, sent to each peer as it comes up: a
 * peer with another policy, resolver name or version is refused, since the two would show
 * different holders for a name forever), and the log of the answers claims.c refused
 * (a table writes no log line). The resolver is a function pointer the shell loaded: the
 * core stays pure. */
#include <string.h>

#include "core/cluster.h"
#include "core/output.h"
#include "core/resolver.h"

static int valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

int rs_resolver_init(struct rs_core *c, const struct rs_core_config *cfg)
{
    const struct roster_resolver *r = cfg->public_resolver;
    if (!r)
        return 0;
    if (cfg->policy != RS_POLICY_CUSTOM || r->abi != ROSTER_RESOLVER_ABI || !r->resolve ||
        !valid_name(r->name))
        return -1; /* the shell checked and said why; a bad config here is a bug */
    c->rsv = r;
    return 0;
}

static const char *policy_name(uint32_t p)
{
    static const char *const names[] = {"oldest", "newest", "priority", "custom"};
    return p <= RS_POLICY_CUSTOM ? names[p] : "unknown";
}

void rs_resolver_greet(struct rs_core *c, struct rs_node *n)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_P_POLICY;
    rs_msg_p_policy_policy_set(&m, (uint32_t)c->policy);
    if (c->rsv) {
        rs_msg_p_policy_version_set(&m, c->rsv->version);
        rs_msg_p_policy_resolver_set(&m, rs_bytes_str(c->rsv->name));
    }
    rs_out_peer(c, n, &m);
}

void rs_resolver_on_p_policy(struct rs_core *c, struct rs_node *n, const struct rs_msg *m)
{
    uint32_t policy = rs_msg_p_policy_policy(m);
    uint64_t version = rs_msg_p_policy_version(m);
    struct rs_bytes name = rs_msg_p_policy_resolver(m);
    if (policy > RS_POLICY_CUSTOM || name.len > 64) {
        rs_cluster_fail(c, n, "malformed P_POLICY");
        return;
    }
    struct rs_bytes mine = c->rsv ? rs_bytes_str(c->rsv->name) : rs_bytes_of("", 0);
    uint64_t my_version = c->rsv ? c->rsv->version : 0;
    if (policy == (uint32_t)c->policy && version == my_version &&
        name.len == mine.len && (!name.len || memcmp(name.ptr, mine.ptr, name.len) == 0))
        return;
    char theirs[80], ours[80];
    rs_fmt_key(theirs, sizeof theirs, name.ptr, name.len);
    rs_fmt_key(ours, sizeof ours, mine.ptr, mine.len);
    rs_out_log(c, RS_LOG_ERROR,
               "node %s resolves name conflicts with policy %s%s%s v%llu, this node with %s%s%s "
               "v%llu: every node must run the same policy and resolver (refusing it)",
               n->name, policy_name(policy), name.len ? " resolver " : "", theirs,
               (unsigned long long)version, policy_name((uint32_t)c->policy),
               mine.len ? " resolver " : "", ours, (unsigned long long)my_version);
    rs_cluster_fail(c, n, "conflict policy differs (%s%s%s v%llu here, %s%s%s v%llu there)",
                    policy_name((uint32_t)c->policy), mine.len ? " " : "", ours,
                    (unsigned long long)my_version, policy_name(policy), name.len ? " " : "",
                    theirs, (unsigned long long)version);
}

void rs_resolver_end_apply(struct rs_core *c)
{
    uint64_t k = c->n_resolver_refused;
    if (k == c->n_resolver_logged)
        return;
    /* the first refusal, then one line per doubling: a broken resolver is asked on every
     * comparison, and the log must not drown */
    if (c->n_resolver_logged && k < 2 * c->n_resolver_logged)
        return;
    c->n_resolver_logged = k;
    char key[80];
    rs_fmt_key(key, sizeof key, c->rsv_key, c->rsv_key_len);
    rs_out_log(c, RS_LOG_ERROR,
               "conflict resolver %s v%u refused (%llu answers so far): it %s (scope %s, name "
               "'%s'); the default policy (oldest) decided",
               c->rsv ? c->rsv->name : "?", c->rsv ? (unsigned)c->rsv->version : 0u,
               (unsigned long long)k, c->rsv_why ? c->rsv_why : "broke the rules",
               c->rsv_scope ? c->rsv_scope : "?", key);
}
