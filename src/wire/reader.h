/* reader.h: the one incremental frame reader: bytes go in as they arrive from a socket, whole
 * frames come out. Every place that turns a byte stream into frames (the node's connections
 * and peer handshake, the client library, the test clients, the simulator) uses it, so the
 * bounds are judged in one place.
 *
 * Bounded: a frame's declared length is judged against frame_max as soon as its 4-byte
 * prefix is there, before the reader allocates for (or waits on) its body; an oversize or
 * impossibly short frame is a result of its own (RS_WIRE_E_TOOBIG, RS_WIRE_E_SHORT) and the
 * reader then stays stuck on it (the caller closes the stream). An idle reader holding more
 * than keep_max bytes of buffer gives it back. Memory comes from base/alloc.h, so tests can
 * inject failures; a failure is RS_WIRE_READER_E_NOMEM and loses nothing already held.
 *
 * Three ways in, one way out:
 *   rs_wire_reader_feed     copies bytes (simple callers: tests, the simulator);
 *   rs_wire_reader_room     hands out room to recv() straight into, then _commit;
 *   rs_wire_reader_lend     lends bytes the caller owns (the node's shared read buffer):
 *                           frames are handed out in place, with no copy, and only the
 *                           trailing incomplete frame is copied in when next() reaches it;
 *   rs_wire_reader_next     hands out the next whole frame as a view.
 * A frame view stays valid until the next call that puts bytes in or settles lent bytes.
 */
#ifndef ROSTER_WIRE_READER_H
#define ROSTER_WIRE_READER_H

#include <stddef.h>
#include <stdint.h>

/* Results besides the rs_wire_result values RS_WIRE_OK, RS_WIRE_NEED_MORE, RS_WIRE_E_TOOBIG
 * and RS_WIRE_E_SHORT. */
#define RS_WIRE_READER_E_NOMEM (-64)

struct rs_wire_reader {
    uint8_t *buf;       /* owned bytes: [off, len) not yet handed out */
    size_t off, len, cap;
    const uint8_t *lent; /* lent bytes, [lent_off, lent_len) not yet handed out */
    size_t lent_off, lent_len;
    uint32_t frame_max; /* declared length bound (bytes after the prefix); may change
                           between frames (the peer handshake has a smaller one) */
    size_t keep_max;    /* an idle reader frees a buffer larger than this */
    int err;            /* sticky: the impossible frame the stream is stuck on */
    uint32_t declared;  /* its declared length */
};

void rs_wire_reader_init(struct rs_wire_reader *r, uint32_t frame_max, size_t keep_max);
void rs_wire_reader_fini(struct rs_wire_reader *r);
/* rs_wire_reader_reset drops every byte held (and lent), keeping the limits. */
void rs_wire_reader_reset(struct rs_wire_reader *r);

/* rs_wire_reader_feed copies n bytes in; 0 or RS_WIRE_READER_E_NOMEM. */
int rs_wire_reader_feed(struct rs_wire_reader *r, const void *p, size_t n);

/* rs_wire_reader_room gives room for at least chunk bytes, or for the rest of the frame under
 * way if that is more, at *p (*n bytes) to read into; 0, RS_WIRE_E_TOOBIG / RS_WIRE_E_SHORT
 * if the frame under way declares an impossible length (nothing is allocated for it), or
 * RS_WIRE_READER_E_NOMEM. rs_wire_reader_commit then says how many bytes were written. */
int rs_wire_reader_room(struct rs_wire_reader *r, size_t chunk, uint8_t **p, size_t *n);
void rs_wire_reader_commit(struct rs_wire_reader *r, size_t n);

/* rs_wire_reader_lend lends n bytes at p to a reader that holds nothing (see
 * rs_wire_reader_buffered): next() hands their frames out in place. p must stay valid and
 * unchanged until next() returned anything but RS_WIRE_OK, or until rs_wire_reader_settle or
 * _reset; a caller that stops taking frames earlier calls one of those two. */
void rs_wire_reader_lend(struct rs_wire_reader *r, const uint8_t *p, size_t n);
/* rs_wire_reader_settle copies what is left of lent bytes in; 0 or RS_WIRE_READER_E_NOMEM
 * (then the lent bytes are still lent). */
int rs_wire_reader_settle(struct rs_wire_reader *r);

/* rs_wire_reader_next: RS_WIRE_OK with the next whole frame (length prefix included) in
 * *frame, *len; RS_WIRE_NEED_MORE; RS_WIRE_E_TOOBIG or RS_WIRE_E_SHORT with the declared
 * length (bytes after the prefix) in *len; or RS_WIRE_READER_E_NOMEM when the incomplete
 * tail of lent bytes could not be copied in. */
int rs_wire_reader_next(struct rs_wire_reader *r, const uint8_t **frame, size_t *len);

/* rs_wire_reader_pending shows the bytes held of the frame under way once next() said
 * RS_WIRE_NEED_MORE (*n of them, fewer than the frame), so that a caller can judge its
 * header before the body arrives (the peer handshake refuses a foreign type at once). */
static inline const uint8_t *rs_wire_reader_pending(const struct rs_wire_reader *r, size_t *n)
{
    *n = r->len - r->off;
    return r->buf + r->off;
}

/* rs_wire_reader_buffered returns the bytes held that next() has not handed out (lent ones
 * included): 0 means the stream is at a frame boundary. */
static inline size_t rs_wire_reader_buffered(const struct rs_wire_reader *r)
{
    return (r->len - r->off) + (r->lent_len - r->lent_off);
}

#endif
