/* buf.h: a growable byte buffer and little-endian put helpers. Allocation failures are
 * reported (return -1), never aborted on, so the client library can use it. */
#ifndef ROSTER_BASE_BUF_H
#define ROSTER_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct rs_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

void rs_buf_init(struct rs_buf *b);
void rs_buf_fini(struct rs_buf *b);
/* rs_buf_reserve makes room for n more bytes; returns 0 or -1 (out of memory). */
int rs_buf_reserve(struct rs_buf *b, size_t n);
int rs_buf_append(struct rs_buf *b, const void *p, size_t n);
/* rs_buf_consume drops the first n bytes (memmove of the rest). */
void rs_buf_consume(struct rs_buf *b, size_t n);
static inline void rs_buf_reset(struct rs_buf *b) { b->len = 0; }

static inline void rs_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void rs_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void rs_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t rs_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t rs_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t rs_get_u64(const uint8_t *p)
{
    return (uint64_t)rs_get_u32(p) | ((uint64_t)rs_get_u32(p + 4) << 32);
}

#endif
