/* buf.c: growable byte buffer. */
#include "base/buf.h"

#include <string.h>

#include "base/alloc.h"

void rs_buf_init(struct rs_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void rs_buf_fini(struct rs_buf *b)
{
    rs_free(b->data);
    rs_buf_init(b);
}

int rs_buf_reserve(struct rs_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    size_t need = b->len + n;
    if (need < b->len)
        return -1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *p = rs_realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int rs_buf_append(struct rs_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (rs_buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void rs_buf_consume(struct rs_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
