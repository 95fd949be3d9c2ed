/* reader.c: the incremental frame reader (see reader.h). Frame boundaries come from
 * rs_wire_frame_next, so the reader and the decoder judge a length prefix the same way. */
#include "wire/reader.h"

#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/check.h"
#include "wire/wire.h"

void rs_wire_reader_init(struct rs_wire_reader *r, uint32_t frame_max, size_t keep_max)
{
    memset(r, 0, sizeof *r);
    r->frame_max = frame_max;
    r->keep_max = keep_max;
}

void rs_wire_reader_fini(struct rs_wire_reader *r)
{
    rs_free(r->buf);
    rs_wire_reader_init(r, r->frame_max, r->keep_max);
}

static void drop_big(struct rs_wire_reader *r)
{
    if (r->cap > r->keep_max) {
        rs_free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
}

void rs_wire_reader_reset(struct rs_wire_reader *r)
{
    r->off = r->len = 0;
    r->lent = NULL;
    r->lent_off = r->lent_len = 0;
    r->err = 0;
    r->declared = 0;
    drop_big(r);
}

/* reserve makes room for want more bytes after len: first by moving the held bytes to the
 * front, then by growing, to exactly what is needed (a frame body: its size is known and
 * bounded) or by doubling (many small feeds). */
static int reserve(struct rs_wire_reader *r, size_t want, int exact)
{
    if (r->cap - r->len >= want)
        return 0;
    if (r->off > 0) {
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->len -= r->off;
        r->off = 0;
        if (r->cap - r->len >= want)
            return 0;
    }
    size_t need = r->len + want;
    if (need < r->len)
        return RS_WIRE_READER_E_NOMEM;
    size_t cap = need;
    if (!exact && cap < 2 * r->cap)
        cap = 2 * r->cap;
    uint8_t *p = rs_realloc(r->buf, cap);
    if (!p)
        return RS_WIRE_READER_E_NOMEM;
    r->buf = p;
    r->cap = cap;
    return 0;
}

int rs_wire_reader_feed(struct rs_wire_reader *r, const void *p, size_t n)
{
    RS_ASSERT(r->lent_off == r->lent_len); /* settle lent bytes first */
    if (n == 0)
        return 0;
    int e = reserve(r, n, 0);
    if (e)
        return e;
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    return 0;
}

/* stuck records an impossible frame: the stream cannot go past it. */
static int stuck(struct rs_wire_reader *r, int res, const uint8_t *prefix)
{
    r->err = res;
    r->declared = rs_get_u32(prefix);
    return res;
}

int rs_wire_reader_room(struct rs_wire_reader *r, size_t chunk, uint8_t **p, size_t *n)
{
    RS_ASSERT(r->lent_off == r->lent_len); /* settle lent bytes first */
    if (r->err)
        return r->err;
    size_t want = chunk, have = r->len - r->off;
    if (have >= 4) {
        /* Judge the frame under way before making room for its body. */
        size_t total;
        int res = rs_wire_frame_next(r->buf + r->off, 4, r->frame_max, &total);
        if (res != RS_WIRE_OK && res != RS_WIRE_NEED_MORE)
            return stuck(r, res, r->buf + r->off);
        total = (size_t)rs_get_u32(r->buf + r->off) + 4;
        if (total > have && total - have > want)
            want = total - have;
    }
    int e = reserve(r, want, 1);
    if (e)
        return e;
    *p = r->buf + r->len;
    *n = r->cap - r->len;
    return 0;
}

void rs_wire_reader_commit(struct rs_wire_reader *r, size_t n)
{
    RS_ASSERT(n <= r->cap - r->len);
    r->len += n;
}

void rs_wire_reader_lend(struct rs_wire_reader *r, const uint8_t *p, size_t n)
{
    RS_ASSERT(rs_wire_reader_buffered(r) == 0);
    r->off = r->len = 0;
    r->lent = p;
    r->lent_off = 0;
    r->lent_len = n;
}

int rs_wire_reader_settle(struct rs_wire_reader *r)
{
    size_t left = r->lent_len - r->lent_off;
    if (left) {
        int e = reserve(r, left, 0);
        if (e)
            return e;
        memcpy(r->buf + r->len, r->lent + r->lent_off, left);
        r->len += left;
    }
    r->lent = NULL;
    r->lent_off = r->lent_len = 0;
    return 0;
}

int rs_wire_reader_next(struct rs_wire_reader *r, const uint8_t **frame, size_t *len)
{
    if (r->err) {
        *len = r->declared;
        return r->err;
    }
    int lent = r->lent_off < r->lent_len;
    const uint8_t *p = lent ? r->lent + r->lent_off : r->buf + r->off;
    size_t have = lent ? r->lent_len - r->lent_off : r->len - r->off;
    size_t flen = 0;
    int res = rs_wire_frame_next(p, have, r->frame_max, &flen);
    if (res == RS_WIRE_OK) {
        *frame = p;
        *len = flen;
        if (lent)
            r->lent_off += flen;
        else
            r->off += flen;
        return RS_WIRE_OK;
    }
    if (res != RS_WIRE_NEED_MORE) {
        res = stuck(r, res, p);
        *len = r->declared;
        return res;
    }
    if (lent || r->lent)
        return rs_wire_reader_settle(r) ? RS_WIRE_READER_E_NOMEM : RS_WIRE_NEED_MORE;
    if (r->off == r->len) {
        r->off = r->len = 0;
        drop_big(r);
    }
    return RS_WIRE_NEED_MORE;
}
