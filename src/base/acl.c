/* acl.c: the access rule file's parser and the decision (acl.h). Bounded everywhere: the
 * file, each line, each list and each value have a documented maximum, checked before any
 * copy, so a hostile or broken file is refused with its line number, never half-loaded. */
#include "base/acl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

static const char *const op_names[RS_ACL_N_OPS] = {
    "connect", "register", "join",         "read",      "subscribe", "send",
    "call",    "monitor",  "scope-create", "log-level", "status",    "admin",
};

const char *rs_acl_op_name(unsigned op) { return op < RS_ACL_N_OPS ? op_names[op] : "?"; }

void rs_acl_free(struct rs_acl *a)
{
    if (!a)
        return;
    rs_free(a->v);
    rs_free(a);
}

struct pstate {
    const struct rs_acl_resolver *res;
    char *why;
    size_t why_cap;
};

static int fail(struct pstate *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct pstate *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (ps->why_cap)
        vsnprintf(ps->why, ps->why_cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* parse_num reads a decimal id below 2^32 - 1 (that one is the kernel's "no id"). */
static int parse_num(const char *s, size_t n, uint32_t *v)
{
    if (n == 0 || n > 10)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    if (x >= 0xffffffffull)
        return -1;
    *v = (uint32_t)x;
    return 0;
}

/* ids parses user= or group= values: a comma-separated list of numbers or names. */
static int ids(struct pstate *ps, const char *what, const char *v, size_t n, uint32_t *out,
               uint8_t *count)
{
    size_t i = 0;
    *count = 0;
    if (n == 0)
        return fail(ps, "%s= needs a value", what);
    while (i <= n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t len = j - i;
        if (len == 0)
            return fail(ps, "%s=: empty item in the list", what);
        if (*count == RS_ACL_IDS_MAX)
            return fail(ps, "%s=: more than %u items", what, RS_ACL_IDS_MAX);
        uint32_t id;
        if (parse_num(v + i, len, &id) != 0) {
            char name[RS_ACL_NAME_MAX + 1];
            if (len > RS_ACL_NAME_MAX)
                return fail(ps, "%s=: a name of more than %u bytes", what, RS_ACL_NAME_MAX);
            if (v[i] >= '0' && v[i] <= '9' && len <= 10)
                return fail(ps, "%s=: '%.*s' is not an id below 4294967295", what, (int)len, v + i);
            memcpy(name, v + i, len);
            name[len] = 0;
            int (*fn)(void *, const char *, uint32_t *) = !ps->res         ? NULL
                                                          : what[0] == 'u' ? ps->res->user
                                                                           : ps->res->group;
            if (!fn || fn(ps->res->ctx, name, &id) != 0)
                return fail(ps, "%s=: no %s named '%s'", what, what[0] == 'u' ? "user" : "group",
                            name);
        }
        out[(*count)++] = id;
        i = j + 1;
    }
    return 0;
}

static int ops(struct pstate *ps, const char *v, size_t n, uint32_t *out)
{
    size_t i = 0;
    *out = 0;
    if (n == 0)
        return fail(ps, "op= needs a value");
    while (i <= n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t len = j - i;
        int found = -1;
        if ((len == 1 && v[i] == '*') || (len == 3 && !memcmp(v + i, "all", 3))) {
            *out = RS_ACL_ALL_OPS;
            found = 0;
        } else if (len == 6 && !memcmp(v + i, "lookup", 6)) {
            found = RS_ACL_READ; /* the name for it */
        } else {
            for (unsigned k = 0; k < RS_ACL_N_OPS; k++)
                if (strlen(op_names[k]) == len && !memcmp(v + i, op_names[k], len))
                    found = (int)k;
        }
        if (found < 0)
            return fail(ps,
                        "op=: unknown operation '%.*s' (connect, register, join, read, "
                        "lookup, subscribe, send, call, monitor, scope-create, log-level, "
                        "status, admin, *)",
                        (int)(len > 64 ? 64 : len), v + i);
        if (*out != RS_ACL_ALL_OPS)
            *out |= 1u << found;
        i = j + 1;
    }
    return 0;
}

/* text_value checks a scope= or prefix= value: printable bytes only (no blank, no
 * control byte), at most RS_ACL_NAME_MAX of them. */
static int text_value(struct pstate *ps, const char *what, const char *v, size_t n, char *out,
                      uint16_t *out_len)
{
    if (n == 0)
        return fail(ps, "%s= needs a value", what);
    if (n > RS_ACL_NAME_MAX)
        return fail(ps, "%s=: more than %u bytes", what, RS_ACL_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] == 0x7f)
            return fail(ps, "%s=: control byte 0x%02x", what, (unsigned char)v[i]);
    memcpy(out, v, n);
    out[n] = 0;
    *out_len = (uint16_t)n;
    return 0;
}

/* parse_rule parses one non-blank, non-comment line [p, p + n) into r. */
static int parse_rule(struct pstate *ps, const char *p, size_t n, struct rs_acl_rule *r)
{
    size_t i = 0;
    int tok = 0, star = 0, seen_op = 0;
    memset(r, 0, sizeof *r);
    r->ops = RS_ACL_ALL_OPS;
    while (i < n) {
        while (i < n && blank(p[i]))
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && !blank(p[i]))
            i++;
        const char *t = p + s;
        size_t tl = i - s;
        if (tok++ == 0) {
            if (tl == 5 && !memcmp(t, "allow", 5))
                r->allow = 1;
            else if (tl == 4 && !memcmp(t, "deny", 4))
                r->allow = 0;
            else
                return fail(ps, "a rule starts with 'allow' or 'deny', not '%.*s'",
                            (int)(tl > 32 ? 32 : tl), t);
            continue;
        }
        if (tl == 1 && t[0] == '*') {
            if (star || r->n_users || r->n_groups)
                return fail(ps, "'*' stands alone for every user: not with user= or group=");
            star = 1;
            continue;
        }
        const char *eq = memchr(t, '=', tl);
        if (!eq)
            return fail(ps, "'%.*s' is not key=value (keys: user, group, op, scope, prefix)",
                        (int)(tl > 32 ? 32 : tl), t);
        size_t kl = (size_t)(eq - t);
        const char *v = eq + 1;
        size_t vl = tl - kl - 1;
#define KEY(s) (kl == sizeof(s) - 1 && !memcmp(t, s, kl))
        if (KEY("user") || KEY("group")) {
            int u = KEY("user");
            if (star)
                return fail(ps, "'*' stands alone for every user: not with user= or group=");
            if (u ? r->n_users : r->n_groups)
                return fail(ps, "%s= given twice (one list per rule)", u ? "user" : "group");
            if (ids(ps, u ? "user" : "group", v, vl, u ? r->users : r->groups,
                    u ? &r->n_users : &r->n_groups) != 0)
                return -1;
        } else if (KEY("op")) {
            if (seen_op++)
                return fail(ps, "op= given twice (one list per rule)");
            if (ops(ps, v, vl, &r->ops) != 0)
                return -1;
        } else if (KEY("scope")) {
            if (r->has_scope)
                return fail(ps, "scope= given twice");
            if (!(vl == 1 && v[0] == '*')) {
                if (text_value(ps, "scope", v, vl, r->scope, &r->scope_len) != 0)
                    return -1;
                r->has_scope = 1;
            }
        } else if (KEY("prefix")) {
            if (r->has_prefix)
                return fail(ps, "prefix= given twice");
            if (text_value(ps, "prefix", v, vl, r->prefix, &r->prefix_len) != 0)
                return -1;
            r->has_prefix = 1;
        } else {
            return fail(ps, "unknown key '%.*s' (keys: user, group, op, scope, prefix)",
                        (int)(kl > 32 ? 32 : kl), t);
        }
#undef KEY
    }
    if (!star && !r->n_users && !r->n_groups)
        return fail(ps, "a rule names who it is for: '*', user= or group=");
    return 0;
}

static int catch_all(const struct rs_acl_rule *r)
{
    return !r->n_users && !r->n_groups && r->ops == RS_ACL_ALL_OPS && !r->has_scope &&
           !r->has_prefix;
}

int rs_acl_parse(const char *text, size_t len, const struct rs_acl_resolver *res,
                 struct rs_acl **out, unsigned *line, char *why, size_t why_cap)
{
    struct pstate ps = {res, why, why_cap};
    *out = NULL;
    *line = 0;
    if (why_cap)
        why[0] = 0;
    if (len > RS_ACL_FILE_MAX)
        return fail(&ps, "the file has %zu bytes, more than %u", len, RS_ACL_FILE_MAX);
    struct rs_acl *a = rs_calloc(1, sizeof *a);
    if (!a)
        return -2;
    size_t cap = 0, pos = 0;
    unsigned ln = 0, dflt_line = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && text[e] != '\n')
            e++;
        ln++;
        const char *p = text + pos;
        size_t n = e - pos;
        pos = e + 1;
        *line = ln;
        if (n > RS_ACL_LINE_MAX) {
            rs_acl_free(a);
            return fail(&ps, "line of %zu bytes, more than %u", n, RS_ACL_LINE_MAX);
        }
        if (memchr(p, 0, n)) {
            rs_acl_free(a);
            return fail(&ps, "NUL byte in the line");
        }
        size_t i = 0;
        while (i < n && blank(p[i]))
            i++;
        if (i == n || p[i] == '#')
            continue;
        if (dflt_line) {
            rs_acl_free(a);
            return fail(&ps, "rule after the default rule of line %u (it could never match)",
                        dflt_line);
        }
        if (a->n == RS_ACL_RULES_MAX) {
            rs_acl_free(a);
            return fail(&ps, "more than %u rules", RS_ACL_RULES_MAX);
        }
        if (a->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct rs_acl_rule *v = rs_realloc(a->v, nc * sizeof *v);
            if (!v) {
                rs_acl_free(a);
                return -2;
            }
            a->v = v;
            cap = nc;
        }
        struct rs_acl_rule *r = &a->v[a->n];
        if (parse_rule(&ps, p, n, r) != 0) {
            rs_acl_free(a);
            return -1;
        }
        r->line = ln;
        a->n++;
        if (catch_all(r))
            dflt_line = ln;
    }
    if (!dflt_line) {
        *line = a->n ? a->v[a->n - 1].line : 0;
        rs_acl_free(a);
        return fail(&ps, "the last rule must be the default decision: 'allow *' or 'deny *'");
    }
    *line = 0;
    *out = a;
    return 0;
}

static int has_id(const uint32_t *v, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == id)
            return 1;
    return 0;
}

static int who_matches(const struct rs_acl_rule *r, const struct rs_acl_req *q)
{
    if (r->n_users && !has_id(r->users, r->n_users, q->uid))
        return 0;
    if (r->n_groups) {
        int in = has_id(r->groups, r->n_groups, q->gid);
        for (size_t i = 0; !in && i < q->n_groups; i++)
            in = has_id(r->groups, r->n_groups, q->groups[i]);
        if (!in)
            return 0;
    }
    return 1;
}

static int starts(const uint8_t *s, size_t n, const char *pre, size_t pn)
{
    return n >= pn && (pn == 0 || !memcmp(s, pre, pn));
}

static int where_matches(const struct rs_acl_rule *r, const struct rs_acl_req *q)
{
    if (!r->has_scope && !r->has_prefix)
        return 1;
    if (q->keys == RS_ACL_KEYS_NONE)
        return 0; /* a rule about scopes or names says nothing of node-wide ops */
    if (r->has_scope) {
        if (q->any_scope) {
            if (r->allow)
                return 0;
        } else if (q->scope_len != r->scope_len ||
                   (r->scope_len && memcmp(q->scope, r->scope, r->scope_len))) {
            return 0;
        }
    }
    if (r->has_prefix) {
        if (q->keys == RS_ACL_KEYS_POINT)
            return starts(q->key, q->key_len, r->prefix, r->prefix_len);
        /* a range: every key starting with q->key */
        if (starts(q->key, q->key_len, r->prefix, r->prefix_len))
            return 1;
        return !r->allow &&
               starts((const uint8_t *)r->prefix, r->prefix_len, (const char *)q->key, q->key_len);
    }
    return 1;
}

const struct rs_acl_rule *rs_acl_decide(const struct rs_acl *a, const struct rs_acl_req *q)
{
    if (!a || q->op >= RS_ACL_N_OPS)
        return NULL;
    for (size_t i = 0; i < a->n; i++) {
        const struct rs_acl_rule *r = &a->v[i];
        if ((r->ops & (1u << q->op)) && who_matches(r, q) && where_matches(r, q))
            return r;
    }
    return NULL;
}
