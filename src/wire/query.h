/* query.h: the metadata filter of the QUERY, QUERY_COUNT and UNMATCH requests (msgs.h), as
 * it travels in the request's META field. The client encodes it (libroster), the node
 * decodes it before it walks a table (wire/match.c matches it); both sides share this one
 * bounded codec, and fuzz_query checks the decoder.
 *
 * Encoding: a sequence of conditions, all of which an entry's metadata must meet:
 *
 *   u8  op           RS_QOP_EQ, _PREFIX, _GLOB or _FIELD (= roster.h's ROSTER_MATCH_*)
 *   u16 field_len    RS_QOP_FIELD: 1..RS_QUERY_FIELD_MAX; any other op: 0
 *   ... field        a top-level field name of a JSON object (raw bytes, unescaped)
 *   u32 value_len
 *   ... value        the metadata (EQ), its prefix (PREFIX), a glob pattern of at most
 *                    RS_QUERY_GLOB_MAX bytes (GLOB), or the field's value (FIELD)
 *
 * Integers little-endian; at most RS_QUERY_CONDS_MAX conditions; an empty META is "no
 * condition". Anything else (an unknown op, a length past the end, trailing bytes) is
 * malformed and the request is refused with ROSTER_EINVAL. */
#ifndef ROSTER_WIRE_QUERY_H
#define ROSTER_WIRE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/limits.h"
#include "wire/wire.h"

#define RS_QOP_EQ 1u
#define RS_QOP_PREFIX 2u
#define RS_QOP_GLOB 3u
#define RS_QOP_FIELD 4u

/* QUERY / QUERY_COUNT / UNMATCH OPTS: flags in the low byte, what in the next. */
#define RS_QF_LOCAL 0x1u  /* only pids of this node (= RS_OPT_LOCAL) */
#define RS_QF_STALE 0x2u  /* strong scopes: the local copy (= RS_OPT_STALE) */
#define RS_QF_PREFIX 0x4u /* KEY is a prefix (else: one exact name or group) */
#define RS_QW_NAMES 0x100u   /* names */
#define RS_QW_MEMBERS 0x200u /* memberships */

struct rs_qcond {
    uint8_t op;
    struct rs_bytes field;
    struct rs_bytes value;
};

struct rs_qfilter {
    uint32_t n;
    struct rs_qcond c[RS_QUERY_CONDS_MAX];
};

/* rs_qfilter_decode reads p[0..len) into *f (views into p). Returns 0, or -1 with *why set
 * to a static reason. */
int rs_qfilter_decode(const uint8_t *p, size_t len, struct rs_qfilter *f, const char **why);

/* rs_qfilter_encode appends f's encoding to b; 0, or -1 when out of memory or when a
 * condition breaks a rule above (*why). */
int rs_qfilter_encode(struct rs_buf *b, const struct rs_qfilter *f, const char **why);

#endif
