/* test_wire_reader.c: unit tests of the incremental frame reader (src/wire/reader.h): every
 * way of chunking a stream gives the same frames, impossible lengths are refused before
 * anything is allocated for them, allocation failures lose nothing, idle buffers shrink. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "fault.h"
#include "test.h"
#include "wire/reader.h"
#include "wire/wire.h"

#define FMAX (64u * 1024u)

/* The allocator under test is tests/lib/fault.h's: watch_alloc(1) fails every allocation,
 * watch_alloc(0) none; fault_largest() is the largest request seen. */
static void watch_alloc(long fail_from)
{
    fault_plan(fail_from, FAULT_FOREVER);
    rs_alloc_set(fault_malloc, fault_realloc, fault_free);
}
static void unwatch_alloc(void) { rs_alloc_set(NULL, NULL, NULL); }

/* stream encodes n PING requests with growing req_ids and KEY-bearing LOOKUPs of growing
 * size, so frames differ in length. */
static void stream(struct rs_buf *b, int n)
{
    char key[300];
    memset(key, 'k', sizeof key);
    for (int i = 0; i < n; i++) {
        struct rs_msg m = {0};
        m.req_id = (uint32_t)i + 1;
        if (i % 2) {
            m.type = RS_MSG_LOOKUP;
            m.scope = rs_bytes_str("default");
            m.key = rs_bytes_of(key, (size_t)(i * 7) % sizeof key);
        } else {
            m.type = RS_MSG_PING;
        }
        ASSERT_EQ(rs_wire_encode(b, &m), 0);
    }
}

/* take drains whole frames into out (concatenated); returns the count. */
static int take(struct rs_wire_reader *r, struct rs_buf *out)
{
    int n = 0;
    const uint8_t *f;
    size_t len;
    int res;
    while ((res = rs_wire_reader_next(r, &f, &len)) == RS_WIRE_OK) {
        ASSERT_EQ(rs_get_u32(f) + 4, len);
        ASSERT_EQ(rs_buf_append(out, f, len), 0);
        n++;
    }
    ASSERT_EQ(res, RS_WIRE_NEED_MORE);
    return n;
}

static void test_split_at_every_byte(void)
{
    struct rs_buf in, out;
    rs_buf_init(&in);
    stream(&in, 3);
    for (size_t cut = 0; cut <= in.len; cut++) {
        for (int how = 0; how < 3; how++) {
            struct rs_wire_reader r;
            rs_wire_reader_init(&r, FMAX, 1024);
            rs_buf_init(&out);
            int n = 0;
            const uint8_t *parts[2] = {in.data, in.data + cut};
            size_t lens[2] = {cut, in.len - cut};
            for (int k = 0; k < 2; k++) {
                if (how == 0) {
                    ASSERT_EQ(rs_wire_reader_feed(&r, parts[k], lens[k]), 0);
                } else if (how == 1 && rs_wire_reader_buffered(&r) == 0) {
                    rs_wire_reader_lend(&r, parts[k], lens[k]);
                } else {
                    uint8_t *room;
                    size_t cap;
                    ASSERT_EQ(rs_wire_reader_room(&r, 16, &room, &cap), 0);
                    ASSERT(cap >= 16);
                    size_t done = 0;
                    while (done < lens[k]) { /* several recvs if the room is small */
                        size_t step = lens[k] - done < cap ? lens[k] - done : cap;
                        memcpy(room, parts[k] + done, step);
                        rs_wire_reader_commit(&r, step);
                        done += step;
                        if (done < lens[k])
                            ASSERT_EQ(rs_wire_reader_room(&r, 16, &room, &cap), 0);
                    }
                }
                n += take(&r, &out);
            }
            ASSERT_EQ(n, 3);
            ASSERT_EQ(rs_wire_reader_buffered(&r), 0);
            ASSERT_MEM_EQ(out.data, out.len, in.data, in.len);
            rs_buf_fini(&out);
            rs_wire_reader_fini(&r);
        }
    }
    rs_buf_fini(&in);
}

static void test_one_byte_at_a_time(void)
{
    struct rs_buf in, out;
    rs_buf_init(&in);
    rs_buf_init(&out);
    stream(&in, 20);
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, FMAX, 1024);
    int n = 0;
    for (size_t i = 0; i < in.len; i++) {
        ASSERT_EQ(rs_wire_reader_feed(&r, in.data + i, 1), 0);
        n += take(&r, &out);
    }
    ASSERT_EQ(n, 20);
    ASSERT_MEM_EQ(out.data, out.len, in.data, in.len);
    rs_wire_reader_fini(&r);
    rs_buf_fini(&in);
    rs_buf_fini(&out);
}

static void test_many_frames_one_feed_in_place(void)
{
    struct rs_buf in, out;
    rs_buf_init(&in);
    rs_buf_init(&out);
    stream(&in, 100);
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, FMAX, 1024);
    rs_wire_reader_lend(&r, in.data, in.len);
    const uint8_t *f;
    size_t len, off = 0;
    /* lent whole frames are handed out in place, without a copy or an allocation */
    watch_alloc(1);
    for (int i = 0; i < 100; i++) {
        ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_OK);
        ASSERT(f == in.data + off);
        off += len;
    }
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_NEED_MORE);
    unwatch_alloc();
    ASSERT_EQ(off, in.len);
    ASSERT_EQ(r.cap, 0);
    /* a trailing partial frame is copied in, so the lent bytes may go; it completes from
     * the next bytes */
    uint8_t lent[20];
    memcpy(lent, in.data, sizeof lent);
    rs_wire_reader_lend(&r, lent, sizeof lent);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_OK);
    ASSERT(f == lent);
    size_t first = len;
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_NEED_MORE);
    ASSERT_EQ(rs_wire_reader_buffered(&r), sizeof lent - first);
    memset(lent, 0xee, sizeof lent);
    ASSERT_EQ(rs_wire_reader_feed(&r, in.data + sizeof lent, in.len - sizeof lent), 0);
    ASSERT_EQ(rs_buf_append(&out, in.data, first), 0);
    ASSERT_EQ(take(&r, &out), 99);
    ASSERT_MEM_EQ(out.data, out.len, in.data, in.len);
    rs_wire_reader_fini(&r);
    rs_buf_fini(&in);
    rs_buf_fini(&out);
}

static void test_oversize_refused_before_allocation(void)
{
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, FMAX, 1024);
    uint8_t hdr[4];
    rs_put_u32(hdr, 100u * 1024u * 1024u);
    /* by room(): the prefix alone is judged, nothing near the declared size is asked for */
    ASSERT_EQ(rs_wire_reader_feed(&r, hdr, 4), 0);
    const uint8_t *f;
    size_t len = 0;
    uint8_t *room;
    size_t cap;
    watch_alloc(0);
    ASSERT_EQ(rs_wire_reader_room(&r, 4096, &room, &cap), RS_WIRE_E_TOOBIG);
    ASSERT(fault_largest() < FMAX);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_E_TOOBIG);
    ASSERT_EQ(len, 100u * 1024u * 1024u);
    /* the reader stays stuck on it */
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_E_TOOBIG);
    ASSERT_EQ(rs_wire_reader_room(&r, 4096, &room, &cap), RS_WIRE_E_TOOBIG);
    unwatch_alloc();
    rs_wire_reader_reset(&r);
    /* by next() on lent bytes: the first frame is fine, the second is too big */
    uint8_t two[16 + 4];
    rs_put_u32(two, 12);
    memset(two + 4, 0, 12);
    two[4] = RS_MSG_PING;
    rs_put_u32(two + 16, FMAX + 1);
    rs_wire_reader_lend(&r, two, sizeof two);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_OK);
    ASSERT_EQ(len, 16);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_E_TOOBIG);
    ASSERT_EQ(len, FMAX + 1);
    /* a frame of exactly frame_max passes the judge (and waits for its body) */
    rs_wire_reader_reset(&r);
    rs_put_u32(hdr, FMAX);
    ASSERT_EQ(rs_wire_reader_feed(&r, hdr, 4), 0);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_NEED_MORE);
    ASSERT_EQ(rs_wire_reader_room(&r, 16, &room, &cap), 0);
    ASSERT_EQ(cap, FMAX);
    rs_wire_reader_fini(&r);
}

static void test_short_and_truncated_header(void)
{
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, FMAX, 1024);
    const uint8_t *f;
    size_t len = 0;
    /* fewer than 4 prefix bytes: nothing to judge yet */
    ASSERT_EQ(rs_wire_reader_feed(&r, "\x08\x00\x00", 3), 0);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_NEED_MORE);
    ASSERT_EQ(rs_wire_reader_buffered(&r), 3);
    /* a prefix, but not the rest of the header */
    ASSERT_EQ(rs_wire_reader_feed(&r, "\x00\x07", 2), 0);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_NEED_MORE);
    ASSERT_EQ(rs_wire_reader_buffered(&r), 5);
    size_t held;
    const uint8_t *head = rs_wire_reader_pending(&r, &held);
    ASSERT_MEM_EQ(head, held, "\x08\x00\x00\x00\x07", 5); /* its type can be judged */
    /* a declared length below the header is refused at once */
    rs_wire_reader_reset(&r);
    ASSERT_EQ(rs_wire_reader_feed(&r, "\x07\x00\x00\x00", 4), 0);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_E_SHORT);
    ASSERT_EQ(len, 7);
    rs_wire_reader_fini(&r);
}

static void test_allocation_failure_loses_nothing(void)
{
    struct rs_buf in, out;
    rs_buf_init(&in);
    rs_buf_init(&out);
    stream(&in, 5);
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, FMAX, 1024);
    const uint8_t *f;
    size_t len;
    uint8_t *room;
    size_t cap;
    watch_alloc(1);
    ASSERT_EQ(rs_wire_reader_feed(&r, in.data, 7), RS_WIRE_READER_E_NOMEM);
    ASSERT_EQ(rs_wire_reader_room(&r, 64, &room, &cap), RS_WIRE_READER_E_NOMEM);
    ASSERT_EQ(rs_wire_reader_buffered(&r), 0);
    /* the tail of lent bytes cannot be copied in: still lent, nothing lost */
    rs_wire_reader_lend(&r, in.data, 20);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_OK);
    size_t first = len;
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_READER_E_NOMEM);
    ASSERT_EQ(rs_wire_reader_buffered(&r), 20 - first);
    unwatch_alloc();
    ASSERT_EQ(rs_buf_append(&out, in.data, first), 0);
    ASSERT_EQ(rs_wire_reader_settle(&r), 0);
    ASSERT_EQ(rs_wire_reader_feed(&r, in.data + 20, in.len - 20), 0);
    ASSERT_EQ(take(&r, &out), 4);
    ASSERT_MEM_EQ(out.data, out.len, in.data, in.len);
    /* a feed that cannot grow the buffer keeps the bytes held so far */
    ASSERT_EQ(rs_wire_reader_feed(&r, in.data, 5), 0);
    watch_alloc(1);
    ASSERT_EQ(rs_wire_reader_feed(&r, in.data + 5, in.len - 5), RS_WIRE_READER_E_NOMEM);
    unwatch_alloc();
    ASSERT_EQ(rs_wire_reader_buffered(&r), 5);
    rs_wire_reader_fini(&r);
    rs_buf_fini(&in);
    rs_buf_fini(&out);
}

static void test_idle_reader_gives_back_big_buffers(void)
{
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, FMAX, 4096);
    const uint8_t *f;
    size_t len;
    uint8_t *room;
    size_t cap;
    /* a 40 KiB frame arrives through room(): the buffer grows to hold it */
    struct rs_msg m = {.type = RS_MSG_LOOKUP, .req_id = 9};
    static char key[40000];
    m.scope = rs_bytes_str("default");
    m.key = rs_bytes_of(key, sizeof key);
    struct rs_buf in;
    rs_buf_init(&in);
    ASSERT_EQ(rs_wire_encode(&in, &m), 0);
    ASSERT_EQ(rs_wire_reader_room(&r, 1024, &room, &cap), 0);
    memcpy(room, in.data, 100);
    rs_wire_reader_commit(&r, 100);
    ASSERT_EQ(rs_wire_reader_room(&r, 1024, &room, &cap), 0);
    ASSERT(cap >= in.len - 100); /* room for the whole rest of the frame at once */
    memcpy(room, in.data + 100, in.len - 100);
    rs_wire_reader_commit(&r, in.len - 100);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_OK);
    ASSERT_EQ(len, in.len);
    ASSERT(r.cap >= in.len);
    /* idle: the big buffer goes */
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_NEED_MORE);
    ASSERT_EQ(r.cap, 0);
    /* a small one stays */
    ASSERT_EQ(rs_wire_reader_room(&r, 1024, &room, &cap), 0);
    memcpy(room, in.data, 12);
    rs_wire_reader_commit(&r, 12);
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_NEED_MORE);
    size_t small = r.cap;
    ASSERT(small > 0 && small <= 4096);
    rs_wire_reader_fini(&r);
    rs_buf_fini(&in);
}

static void test_frame_max_changes_between_frames(void)
{
    /* the peer handshake reads small frames, then the peer protocol's */
    struct rs_wire_reader r;
    rs_wire_reader_init(&r, 100, 1024);
    uint8_t two[16 + 204];
    memset(two, 0, sizeof two);
    rs_put_u32(two, 12);
    rs_put_u32(two + 16, 200);
    ASSERT_EQ(rs_wire_reader_feed(&r, two, sizeof two), 0);
    const uint8_t *f;
    size_t len;
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_OK);
    r.frame_max = 1000;
    ASSERT_EQ(rs_wire_reader_next(&r, &f, &len), RS_WIRE_OK);
    ASSERT_EQ(len, 204);
    rs_wire_reader_fini(&r);
}

TEST_MAIN(T(test_split_at_every_byte), T(test_one_byte_at_a_time),
          T(test_many_frames_one_feed_in_place), T(test_oversize_refused_before_allocation),
          T(test_short_and_truncated_header), T(test_allocation_failure_loses_nothing),
          T(test_idle_reader_gives_back_big_buffers), T(test_frame_max_changes_between_frames))
