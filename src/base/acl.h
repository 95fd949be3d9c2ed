/* acl.h: the node's local access rules (rosterd --acl FILE, docs/SECURITY.md): a pure
 * parser of the rule file and the one decision function. It lives in base because both the
 * shell (which reads the file, resolves user and group names and reloads it on SIGHUP) and
 * the core (which decides every request at one check point, core/access.c) use it, and the
 * fuzz target fuzz_acl feeds it arbitrary bytes.
 *
 * File: one rule per line, '#' starts a comment line, blank lines are skipped.
 *
 *     allow|deny WHO [op=OP[,OP...]] [scope=SCOPE|*] [prefix=PREFIX]
 *     WHO: *  |  user=U[,U...]  and/or  group=G[,G...]   (names or numbers)
 *
 * First match wins. The last rule must be the default decision, "allow *" or "deny *"
 * with nothing else, and nothing may follow it (a rule after it could never match). */
#ifndef ROSTER_BASE_ACL_H
#define ROSTER_BASE_ACL_H

#include <stddef.h>
#include <stdint.h>

#define RS_ACL_FILE_MAX (1024u * 1024u) /* bytes of one rule file */
#define RS_ACL_LINE_MAX 4096u           /* bytes of one line */
#define RS_ACL_RULES_MAX 4096u          /* rules of one file */
#define RS_ACL_IDS_MAX 32u              /* uids (gids) of one user= (group=) list */
#define RS_ACL_NAME_MAX 255u            /* bytes of one user or group name, scope or prefix */

/* Operations a rule names (op=); the core maps each request type to one. */
enum rs_acl_op {
    RS_ACL_CONNECT = 0,      /* open a session (HELLO) */
    RS_ACL_REGISTER = 1,     /* register, handoff, update, campaign: hold a name */
    RS_ACL_JOIN = 2,         /* join a group */
    RS_ACL_READ = 3,         /* lookup, names, count, members, groups, scopes ("lookup") */
    RS_ACL_SUBSCRIBE = 4,    /* subscribe to events */
    RS_ACL_SEND = 5,         /* send or publish to a pid of another uid, a name or a group */
    RS_ACL_CALL = 6,         /* call or multi-call the same */
    RS_ACL_MONITOR = 7,      /* monitor a pid */
    RS_ACL_SCOPE_CREATE = 8, /* create, join or leave a scope on the node */
    RS_ACL_LOG_LEVEL = 9,    /* change the node's log level */
    RS_ACL_STATUS = 10,      /* node statistics, the node list */
    RS_ACL_ADMIN = 11,       /* other node-wide operations added later */
    RS_ACL_N_OPS = 12,
};
#define RS_ACL_ALL_OPS ((1u << RS_ACL_N_OPS) - 1u)

/* What a request names about its keys, for scope= and prefix=. */
enum rs_acl_keys {
    RS_ACL_KEYS_NONE = 0,  /* a node-wide op (connect, log-level, status, admin): rules with
                              scope= or prefix= do not apply to it */
    RS_ACL_KEYS_POINT = 1, /* one key (a name or a group) */
    RS_ACL_KEYS_RANGE = 2, /* every key starting with key (a listing, a count, a
                              subscription); the empty key is the whole scope */
};

struct rs_acl_rule {
    unsigned line; /* in the file, for refusals and logs */
    int allow;
    uint32_t ops; /* bit set of enum rs_acl_op */
    uint32_t users[RS_ACL_IDS_MAX];
    uint32_t groups[RS_ACL_IDS_MAX];
    uint8_t n_users, n_groups; /* 0: any */
    uint8_t has_scope, has_prefix;
    uint16_t scope_len, prefix_len;
    char scope[RS_ACL_NAME_MAX + 1];
    char prefix[RS_ACL_NAME_MAX + 1];
};

struct rs_acl {
    struct rs_acl_rule *v;
    size_t n;
};

/* Name resolution (the shell passes getpwnam/getgrnam; the fuzz target a fake): 0 and the
 * id, or -1 if there is no such user (group). NULL resolver: names are refused. */
struct rs_acl_resolver {
    int (*user)(void *ctx, const char *name, uint32_t *uid);
    int (*group)(void *ctx, const char *name, uint32_t *gid);
    void *ctx;
};

/* rs_acl_parse parses len bytes of text into a new *out (free with rs_acl_free). 0, or -1
 * with *line the 1-based line at fault (0: the file as a whole) and a message in why;
 * -2 when memory ran out. Never reads past len. */
int rs_acl_parse(const char *text, size_t len, const struct rs_acl_resolver *res,
                 struct rs_acl **out, unsigned *line, char *why, size_t why_cap);
void rs_acl_free(struct rs_acl *a);

/* A request as the rules see it. groups are the caller's supplementary gids besides gid. */
struct rs_acl_req {
    uint32_t uid, gid;
    const uint32_t *groups;
    size_t n_groups;
    unsigned op;   /* enum rs_acl_op */
    int keys;      /* enum rs_acl_keys */
    int any_scope; /* the request covers every scope (e.g. the shared-memory region) */
    const uint8_t *scope;
    size_t scope_len;
    const uint8_t *key;
    size_t key_len;
};

/* rs_acl_decide returns the rule that decides req: the first that matches. A rule with
 * prefix P matches a one-key request when the key starts with P; for a range request with
 * prefix Q, an allow rule matches only when the whole range is inside P (Q starts with P)
 * and a deny rule as soon as the two overlap (either starts with the other), so a listing
 * or subscription is allowed only if every key it can show is. Scopes alike: a request on
 * every scope is matched by an allow rule only without scope=, by any deny rule. Never
 * NULL for a parsed file (its last rule matches everything). */
const struct rs_acl_rule *rs_acl_decide(const struct rs_acl *a, const struct rs_acl_req *req);

/* rs_acl_op_name is the op's name in rule files ("register", "scope-create", ...). */
const char *rs_acl_op_name(unsigned op);

#endif
