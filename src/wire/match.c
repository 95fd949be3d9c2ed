/* match.c: the metadata conditions of queries (match.h): exact, prefix, glob and a JSON
 * object's top-level field. Written for the node's hot path over a whole scope: no
 * allocation, every loop bounded by the input's length, JSON nesting bounded by
 * RS_QUERY_JSON_DEPTH (recursion), so a hostile entry or pattern costs at most
 * pattern x metadata steps. Fuzzed by fuzz_query. */
#include <string.h>

#include "wire/match.h"

/* --- glob ------------------------------------------------------------------------------ */

/* one_class matches byte b against the class starting at pat[*i] == '['; sets *i past it.
 * Returns 1/0, or -1 when the class has no closing ']' (then '[' is a plain byte). */
static int one_class(const uint8_t *pat, size_t pn, size_t *i, uint8_t b)
{
    size_t k = *i + 1;
    int neg = 0, hit = 0;
    if (k < pn && (pat[k] == '!' || pat[k] == '^')) {
        neg = 1;
        k++;
    }
    int first = 1;
    while (k < pn && (pat[k] != ']' || first)) {
        first = 0;
        uint8_t lo = pat[k];
        if (lo == '\\' && k + 1 < pn)
            lo = pat[++k];
        k++;
        uint8_t hi = lo;
        if (k + 1 < pn && pat[k] == '-' && pat[k + 1] != ']') {
            hi = pat[k + 1];
            k += 2;
            if (hi == '\\' && k < pn)
                hi = pat[k++];
        }
        if (b >= lo && b <= hi)
            hit = 1;
    }
    if (k >= pn)
        return -1;
    *i = k + 1;
    return hit != neg;
}

/* step matches one non-star token at pat[*i] against b: 1 (and *i past it) or 0. */
static int step(const uint8_t *pat, size_t pn, size_t *i, uint8_t b)
{
    uint8_t t = pat[*i];
    if (t == '?') {
        ++*i;
        return 1;
    }
    if (t == '[') {
        size_t k = *i;
        int r = one_class(pat, pn, &k, b);
        if (r >= 0) {
            if (r)
                *i = k;
            return r;
        }
        /* unterminated: a plain '[' */
    } else if (t == '\\' && *i + 1 < pn) {
        if (pat[*i + 1] != b)
            return 0;
        *i += 2;
        return 1;
    }
    if (t != b)
        return 0;
    ++*i;
    return 1;
}

int rs_glob_match(const uint8_t *pat, size_t pn, const uint8_t *s, size_t sn)
{
    /* The classic one-backtrack-point walk: on a mismatch after a '*', the star takes one
     * more byte. Each token matches exactly one byte, so this is exact, in O(pn * sn). */
    size_t p = 0, i = 0, star = (size_t)-1, mark = 0;
    while (i < sn) {
        if (p < pn && pat[p] == '*') {
            star = ++p;
            mark = i;
            continue;
        }
        if (p < pn && step(pat, pn, &p, s[i])) {
            i++;
            continue;
        }
        if (star == (size_t)-1)
            return 0;
        p = star;
        i = ++mark;
    }
    while (p < pn && pat[p] == '*')
        p++;
    return p == pn;
}

/* --- JSON ------------------------------------------------------------------------------ */

struct js {
    const uint8_t *p;
    size_t n, i;
};

static void ws(struct js *j)
{
    while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\n' ||
                           j->p[j->i] == '\r'))
        j->i++;
}

static int hex4(struct js *j, uint32_t *out)
{
    if (j->n - j->i < 4)
        return -1;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        uint8_t c = j->p[j->i++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* str_next decodes the next character of a string whose opening quote is behind j->i into
 * out (UTF-8, 1..4 bytes, *len): 1, or 0 at the closing quote (consumed), or -1 if bad. */
static int str_next(struct js *j, uint8_t out[4], int *len)
{
    if (j->i >= j->n)
        return -1;
    uint8_t c = j->p[j->i++];
    if (c == '"')
        return 0;
    if (c < 0x20)
        return -1;
    *len = 1;
    if (c != '\\') {
        out[0] = c;
        return 1;
    }
    if (j->i >= j->n)
        return -1;
    c = j->p[j->i++];
    switch (c) {
    case '"':
    case '\\':
    case '/':
        out[0] = c;
        return 1;
    case 'b':
        out[0] = '\b';
        return 1;
    case 'f':
        out[0] = '\f';
        return 1;
    case 'n':
        out[0] = '\n';
        return 1;
    case 'r':
        out[0] = '\r';
        return 1;
    case 't':
        out[0] = '\t';
        return 1;
    case 'u':
        break;
    default:
        return -1;
    }
    uint32_t cp;
    if (hex4(j, &cp) != 0 || (cp >= 0xdc00 && cp <= 0xdfff))
        return -1;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        uint32_t lo;
        if (j->n - j->i < 2 || j->p[j->i] != '\\' || j->p[j->i + 1] != 'u')
            return -1;
        j->i += 2;
        if (hex4(j, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
            return -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
    } else if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        *len = 2;
    } else if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        *len = 3;
    } else {
        out[0] = (uint8_t)(0xf0 | cp >> 18);
        out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (uint8_t)(0x80 | (cp & 0x3f));
        *len = 4;
    }
    return 1;
}

/* str_eq walks the string at j->i (its opening quote) to its end: 1 when its unescaped
 * bytes equal v[0..vl), 0 when not, -1 when the string is malformed. */
static int str_eq(struct js *j, const uint8_t *v, size_t vl)
{
    if (j->i >= j->n || j->p[j->i] != '"')
        return -1;
    j->i++;
    size_t at = 0;
    int same = 1;
    for (;;) {
        uint8_t ch[4];
        int len = 0, r = str_next(j, ch, &len);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        if (same && (vl - at < (size_t)len || memcmp(v + at, ch, (size_t)len) != 0))
            same = 0;
        at += (size_t)len;
    }
    return same && at == vl;
}

static int digits(struct js *j)
{
    size_t s = j->i;
    while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
        j->i++;
    return j->i > s ? 0 : -1;
}

static int number(struct js *j)
{
    if (j->p[j->i] == '-')
        j->i++;
    if (j->i >= j->n)
        return -1;
    if (j->p[j->i] == '0')
        j->i++;
    else if (digits(j) != 0)
        return -1;
    if (j->i < j->n && j->p[j->i] == '.') {
        j->i++;
        if (digits(j) != 0)
            return -1;
    }
    if (j->i < j->n && (j->p[j->i] == 'e' || j->p[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->p[j->i] == '+' || j->p[j->i] == '-'))
            j->i++;
        if (digits(j) != 0)
            return -1;
    }
    return 0;
}

static int word(struct js *j, const char *w)
{
    size_t l = strlen(w);
    if (j->n - j->i < l || memcmp(j->p + j->i, w, l) != 0)
        return -1;
    j->i += l;
    return 0;
}

/* value skips one JSON value at j->i (whitespace before it already skipped): 0 or -1. */
static int value(struct js *j, unsigned depth)
{
    if (j->i >= j->n)
        return -1;
    uint8_t c = j->p[j->i];
    if (c == '"')
        return str_eq(j, NULL, 0) < 0 ? -1 : 0;
    if (c == 't')
        return word(j, "true");
    if (c == 'f')
        return word(j, "false");
    if (c == 'n')
        return word(j, "null");
    if (c == '-' || (c >= '0' && c <= '9'))
        return number(j);
    if (c != '{' && c != '[')
        return -1;
    if (depth >= RS_QUERY_JSON_DEPTH)
        return -1;
    uint8_t close = c == '{' ? '}' : ']';
    j->i++;
    ws(j);
    if (j->i < j->n && j->p[j->i] == close) {
        j->i++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (str_eq(j, NULL, 0) < 0)
                return -1;
            ws(j);
            if (j->i >= j->n || j->p[j->i] != ':')
                return -1;
            j->i++;
            ws(j);
        }
        if (value(j, depth + 1) != 0)
            return -1;
        ws(j);
        if (j->i >= j->n)
            return -1;
        if (j->p[j->i] == close) {
            j->i++;
            return 0;
        }
        if (j->p[j->i] != ',')
            return -1;
        j->i++;
        ws(j);
    }
}

int rs_json_field_eq(const uint8_t *js, size_t n, const uint8_t *field, size_t fl,
                     const uint8_t *val, size_t vl)
{
    struct js j = {js, n, 0};
    ws(&j);
    if (j.i >= n || js[j.i] != '{')
        return 0;
    j.i++;
    ws(&j);
    int found = 0, eq = 0;
    if (j.i < n && js[j.i] == '}') {
        j.i++;
    } else {
        for (;;) {
            int key = str_eq(&j, field, fl);
            if (key < 0)
                return 0;
            ws(&j);
            if (j.i >= n || js[j.i] != ':')
                return 0;
            j.i++;
            ws(&j);
            size_t vs = j.i;
            int is_str = j.i < n && js[j.i] == '"';
            if (key && is_str) {
                int r = str_eq(&j, val, vl);
                if (r < 0)
                    return 0;
                found = 1;
                eq = r;
            } else {
                if (value(&j, 1) != 0)
                    return 0;
                if (key) {
                    found = 1; /* the last occurrence decides, as in common parsers */
                    eq = j.i - vs == vl && memcmp(js + vs, val, vl) == 0;
                }
            }
            ws(&j);
            if (j.i >= n)
                return 0;
            if (js[j.i] == '}') {
                j.i++;
                break;
            }
            if (js[j.i] != ',')
                return 0;
            j.i++;
            ws(&j);
        }
    }
    ws(&j);
    return j.i == n && found && eq;
}

/* --- a filter -------------------------------------------------------------------------- */

int rs_filter_match(const struct rs_qfilter *f, const uint8_t *meta, size_t len)
{
    for (uint32_t i = 0; i < f->n; i++) {
        const struct rs_qcond *c = &f->c[i];
        int ok = 0;
        switch (c->op) {
        case RS_QOP_EQ:
            ok = len == c->value.len && (len == 0 || memcmp(meta, c->value.ptr, len) == 0);
            break;
        case RS_QOP_PREFIX:
            ok = len >= c->value.len &&
                 (c->value.len == 0 || memcmp(meta, c->value.ptr, c->value.len) == 0);
            break;
        case RS_QOP_GLOB:
            ok = rs_glob_match(c->value.ptr, c->value.len, meta, len);
            break;
        case RS_QOP_FIELD:
            ok = rs_json_field_eq(meta, len, c->field.ptr, c->field.len, c->value.ptr,
                                  c->value.len);
            break;
        }
        if (!ok)
            return 0;
    }
    return 1;
}
