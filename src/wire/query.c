/* query.c: the bounded codec of a query's metadata filter (query.h): one decoder for the
 * node, one encoder for libroster, the same rules checked on both sides. */
#include <string.h>

#include "wire/query.h"

static const char *check(const struct rs_qcond *c)
{
    if (c->op < RS_QOP_EQ || c->op > RS_QOP_FIELD)
        return "unknown condition";
    if (c->op == RS_QOP_FIELD && (c->field.len == 0 || c->field.len > RS_QUERY_FIELD_MAX))
        return "a field condition needs a field name of 1..256 bytes";
    if (c->op != RS_QOP_FIELD && c->field.len != 0)
        return "only a field condition names a field";
    if (c->op == RS_QOP_GLOB && c->value.len > RS_QUERY_GLOB_MAX)
        return "glob pattern longer than 256 bytes";
    return NULL;
}

int rs_qfilter_decode(const uint8_t *p, size_t len, struct rs_qfilter *f, const char **why)
{
    size_t at = 0;
    f->n = 0;
    while (at < len) {
        if (f->n == RS_QUERY_CONDS_MAX) {
            *why = "more than 8 conditions";
            return -1;
        }
        struct rs_qcond *c = &f->c[f->n];
        if (len - at < 3) {
            *why = "truncated condition";
            return -1;
        }
        c->op = p[at];
        size_t fl = (size_t)p[at + 1] | (size_t)p[at + 2] << 8;
        at += 3;
        if (len - at < fl) {
            *why = "truncated field name";
            return -1;
        }
        c->field.ptr = p + at;
        c->field.len = (uint32_t)fl;
        at += fl;
        if (len - at < 4) {
            *why = "truncated value length";
            return -1;
        }
        size_t vl = (size_t)p[at] | (size_t)p[at + 1] << 8 | (size_t)p[at + 2] << 16 |
                    (size_t)p[at + 3] << 24;
        at += 4;
        if (len - at < vl) {
            *why = "truncated value";
            return -1;
        }
        c->value.ptr = p + at;
        c->value.len = (uint32_t)vl;
        at += vl;
        if ((*why = check(c)) != NULL)
            return -1;
        f->n++;
    }
    return 0;
}

int rs_qfilter_encode(struct rs_buf *b, const struct rs_qfilter *f, const char **why)
{
    *why = NULL;
    if (f->n > RS_QUERY_CONDS_MAX) {
        *why = "more than 8 conditions";
        return -1;
    }
    for (uint32_t i = 0; i < f->n; i++) {
        const struct rs_qcond *c = &f->c[i];
        if ((*why = check(c)) != NULL)
            return -1;
        uint8_t h[3] = {c->op, (uint8_t)c->field.len, (uint8_t)(c->field.len >> 8)};
        uint8_t l[4] = {(uint8_t)c->value.len, (uint8_t)(c->value.len >> 8),
                        (uint8_t)(c->value.len >> 16), (uint8_t)(c->value.len >> 24)};
        if (rs_buf_append(b, h, 3) != 0 ||
            (c->field.len && rs_buf_append(b, c->field.ptr, c->field.len) != 0) ||
            rs_buf_append(b, l, 4) != 0 ||
            (c->value.len && rs_buf_append(b, c->value.ptr, c->value.len) != 0))
            return -1;
    }
    return 0;
}
