/* fuzz_wire_reader.c: fuzz target for the frame reader (src/wire/reader.h), which splits
 * every byte stream roster reads. The input's first byte picks frame_max and a chunking
 * seed; the rest is the stream. Fed whole it gives a list of frames and a final result; fed
 * in random chunks, through each way in (copy, recv room, lent bytes), it must give the same
 * frames (each exactly the stream's bytes at its offset), the same final result and the
 * same bytes held. Every chunk lives in an exact-size heap copy so that ASan sees any read
 * past what the reader was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAMES_MAX 4096

struct run {
    size_t n, off[FRAMES_MAX], len[FRAMES_MAX];
    int res;
    size_t declared, held;
};

static void check(int ok)
{
    if (!ok)
        abort();
}

/* drain takes frames until the reader has none; 1 while the stream may go on. */
static int drain(struct rs_wire_reader *r, const uint8_t *s, struct run *out, size_t *pos)
{
    for (;;) {
        const uint8_t *f;
        size_t len;
        int res = rs_wire_reader_next(r, &f, &len);
        if (res != RS_WIRE_OK) {
            check(res != RS_WIRE_READER_E_NOMEM);
            out->res = res;
            out->declared = res == RS_WIRE_NEED_MORE ? 0 : len;
            return res == RS_WIRE_NEED_MORE;
        }
        check(out->n < FRAMES_MAX);
        check(memcmp(f, s + *pos, len) == 0);
        out->off[out->n] = *pos;
        out->len[out->n++] = len;
        *pos += len;
    }
}

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void chunked(const uint8_t *s, size_t n, uint32_t frame_max, struct run *out)
{
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, frame_max, 64);
    size_t at = 0, pos = 0;
    int more = 1;
    while (more && at < n) {
        size_t k = rnd() % 4 == 0 ? 1 + rnd() % 2000 : 1 + rnd() % 16;
        if (k > n - at)
            k = n - at;
        uint8_t *chunk = malloc(k);
        check(chunk != NULL);
        memcpy(chunk, s + at, k);
        unsigned how = (unsigned)(rnd() % 3);
        if (how == 2 && rs_wire_reader_buffered(&r) == 0) {
            rs_wire_reader_lend(&r, chunk, k);
        } else if (how == 1) {
            uint8_t *room;
            size_t cap;
            int e = rs_wire_reader_room(&r, 1 + (size_t)(rnd() % 64), &room, &cap);
            if (e != 0) { /* a refused frame under way: next() reports it */
                check(e == RS_WIRE_E_TOOBIG || e == RS_WIRE_E_SHORT);
                free(chunk);
                break;
            }
            check(cap > 0);
            if (k > cap)
                k = cap;
            memcpy(room, chunk, k);
            rs_wire_reader_commit(&r, k);
        } else {
            check(rs_wire_reader_feed(&r, chunk, k) == 0);
        }
        at += k;
        more = drain(&r, s, out, &pos);
        free(chunk); /* lent bytes were settled by drain */
    }
    drain(&r, s, out, &pos);
    out->held = rs_wire_reader_buffered(&r);
    rs_wire_reader_reset(&r);
    rs_wire_reader_fini(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    static const uint32_t maxes[4] = {8, 64, 4096, RS_FRAME_MAX_CEILING};
    uint32_t frame_max = maxes[data[0] & 3];
    rng = 0x9E3779B97F4A7C15ull ^ data[0];
    const uint8_t *s = data + 1;
    size_t n = size - 1;
    static struct run whole, parts;
    memset(&whole, 0, sizeof whole);
    memset(&parts, 0, sizeof parts);

    struct rs_wire_reader r;
    rs_wire_reader_init(&r, frame_max, 64);
    uint8_t *copy = malloc(n ? n : 1);
    check(copy != NULL);
    memcpy(copy, s, n);
    check(rs_wire_reader_feed(&r, copy, n) == 0);
    free(copy);
    size_t pos = 0;
    drain(&r, s, &whole, &pos);
    whole.held = rs_wire_reader_buffered(&r);
    rs_wire_reader_fini(&r);
    if (whole.res == RS_WIRE_NEED_MORE)
        check(whole.held == n - pos);

    for (int round = 0; round < 4; round++) {
        memset(&parts, 0, sizeof parts);
        chunked(s, n, frame_max, &parts);
        check(parts.n == whole.n);
        for (size_t i = 0; i < whole.n; i++)
            check(parts.off[i] == whole.off[i] && parts.len[i] == whole.len[i]);
        check(parts.res == whole.res && parts.declared == whole.declared);
        if (whole.res == RS_WIRE_NEED_MORE)
            check(parts.held == whole.held);
    }
    return 0;
}
