/* match.h: matching an entry's metadata against a query's filter (wire/query.h): exact
 * bytes, prefix, glob, and equality of a top-level field of a JSON object. Pure functions
 * over bytes: no allocation, no tables, bounded work (docs/API.md, "Queries"). */
#ifndef ROSTER_WIRE_MATCH_H
#define ROSTER_WIRE_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "wire/query.h"

/* rs_filter_match returns 1 when meta[0..len) meets every condition of f (none: 1). */
int rs_filter_match(const struct rs_qfilter *f, const uint8_t *meta, size_t len);

/* rs_glob_match matches s against a glob pattern over bytes: '*' any run, '?' one byte,
 * "[abc]", "[a-z]", "[!x]" (or "[^x]") one byte of (not of) a set, '\' quotes the next
 * byte; a '[' without its ']' is a plain byte. At most pn x sn steps. */
int rs_glob_match(const uint8_t *pat, size_t pn, const uint8_t *s, size_t sn);

/* rs_json_field_eq returns 1 when js[0..n) is one JSON object (RFC 8259, nesting up to
 * RS_QUERY_JSON_DEPTH) whose top-level field `field` (the last one if repeated) equals val:
 * a string by its unescaped UTF-8 bytes, any other value by its text as written. */
int rs_json_field_eq(const uint8_t *js, size_t n, const uint8_t *field, size_t fl,
                     const uint8_t *val, size_t vl);

#endif
