/* fuzz_query.c: fuzz target for the metadata filter of queries, the bytes a client sends
 * the node in QUERY, QUERY_COUNT and UNMATCH (src/wire/query.c), and the matching the node
 * then runs over every entry of a scope (src/wire/match.c: glob, JSON field). The input's
 * first byte splits it into a filter and a metadata value. Each decoded filter must
 * re-encode to exactly its bytes (the encoding is canonical), hold at most 8 conditions
 * inside the input, and match the metadata without reading past either buffer (exact-size
 * heap copies, so ASan sees any overrun); the whole input is also scanned as JSON and as
 * a glob pattern against itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/match.h"
#include "wire/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *copy(const uint8_t *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        abort();
    if (n)
        memcpy(b, p, n);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t split = data[0] < size - 1 ? data[0] : size - 1;
    const uint8_t *rest = data + 1;
    uint8_t *f = copy(rest, split), *meta = copy(rest + split, size - 1 - split);
    size_t fl = split, ml = size - 1 - split;

    struct rs_qfilter q;
    const char *why = NULL;
    if (rs_qfilter_decode(f, fl, &q, &why) == 0) {
        if (q.n > RS_QUERY_CONDS_MAX)
            abort();
        for (uint32_t i = 0; i < q.n; i++) {
            const struct rs_qcond *c = &q.c[i];
            if ((c->field.len && (c->field.ptr < f || c->field.ptr + c->field.len > f + fl)) ||
                (c->value.len && (c->value.ptr < f || c->value.ptr + c->value.len > f + fl)))
                abort();
        }
        struct rs_buf b;
        rs_buf_init(&b);
        if (rs_qfilter_encode(&b, &q, &why) != 0 || b.len != fl ||
            (fl && memcmp(b.data, f, fl) != 0))
            abort();
        rs_buf_fini(&b);
        int m = rs_filter_match(&q, meta, ml);
        if (m != 0 && m != 1)
            abort();
    } else if (!why) {
        abort(); /* a refusal always says why */
    }

    /* the whole input as JSON (a field named by its first bytes) and as a glob */
    uint8_t *all = copy(data, size);
    size_t pl = size < RS_QUERY_GLOB_MAX ? size : RS_QUERY_GLOB_MAX;
    int j = rs_json_field_eq(all, size, all, size < 4 ? size : 4, meta, ml);
    int g = rs_glob_match(all, pl, meta, ml);
    if ((j != 0 && j != 1) || (g != 0 && g != 1))
        abort();
    free(all);
    free(f);
    free(meta);
    return 0;
}
