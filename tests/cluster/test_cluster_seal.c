/* test_cluster_seal.c: sealed peer records (src/node/seal.c) in memory: frames come out of
 * a record as they went in, batched at frame boundaries, and the plaintext never shows in
 * the record; every flipped bit, truncation, replay, reordering, dropped record, injected
 * record and key mix-up is refused with its own result, without moving the counter (the
 * good record still opens after a refused one), under either AEAD; a record never opens
 * under the other AEAD; the frame walker is bounded. */
#include <sodium.h>
#include <string.h>

#include "node/seal.h"
#include "test.h"

/* Every test runs under both AEADs (AES-256-GCM only where the CPU has it). */
static int aead;

static void keys(struct rs_seal *tx, struct rs_seal *rx)
{
    ASSERT(sodium_init() >= 0);
    uint8_t k1[32], k2[32];
    randombytes_buf(k1, sizeof k1);
    randombytes_buf(k2, sizeof k2);
    rs_seal_init(tx, aead, k1, k2);
    rs_seal_init(rx, aead, k2, k1);
    ASSERT_EQ(tx->aead, aead == RS_SEAL_AES256GCM && !crypto_aead_aes256gcm_is_available()
                            ? RS_SEAL_XCHACHA20POLY1305
                            : aead);
}

/* frame appends a frame of body_len bytes (prefix, then bytes of fill) to b. */
static void frame(struct rs_buf *b, size_t body_len, uint8_t fill)
{
    uint8_t h[4];
    rs_put_u32(h, (uint32_t)body_len);
    ASSERT_EQ(rs_buf_append(b, h, 4), 0);
    for (size_t i = 0; i < body_len; i++)
        ASSERT_EQ(rs_buf_append(b, &fill, 1), 0);
}

static int contains(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return 1;
    return 0;
}

/* open_all opens every record of sealed[0, n) into plain (frames re-walked), returns the
 * number of records; fails the test on any refusal. */
static size_t open_all(struct rs_seal *rx, struct rs_buf *sealed, struct rs_buf *plain)
{
    size_t off = 0, records = 0;
    while (off < sealed->len) {
        ASSERT(sealed->len - off >= 4);
        size_t rn = 4u + rs_get_u32(sealed->data + off);
        ASSERT(rn <= sealed->len - off);
        uint8_t *pl;
        size_t pn, fo = 0, fn;
        const uint8_t *f;
        ASSERT_EQ(rs_seal_open(rx, sealed->data + off, rn, &pl, &pn), RS_SEAL_OK);
        int k;
        while ((k = rs_seal_next(pl, pn, &fo, 1u << 24, &f, &fn)) == RS_SEAL_OK)
            ASSERT_EQ(rs_buf_append(plain, f, fn), 0);
        ASSERT_EQ(k, 1);
        off += rn;
        records++;
    }
    return records;
}

static void test_roundtrip_and_batching(void)
{
    struct rs_seal tx, rx;
    keys(&tx, &rx);
    struct rs_buf in, sealed, out;
    rs_buf_init(&in);
    rs_buf_init(&sealed);
    rs_buf_init(&out);
    /* small frames: one record */
    const char *name = "very-secret-service-name-42";
    uint8_t h[4];
    rs_put_u32(h, (uint32_t)strlen(name));
    ASSERT_EQ(rs_buf_append(&in, h, 4), 0);
    ASSERT_EQ(rs_buf_append(&in, name, strlen(name)), 0);
    frame(&in, 100, 'a');
    frame(&in, 1, 'b');
    ASSERT_EQ(rs_seal_frames(&tx, in.data, in.len, &sealed), in.len + RS_SEAL_OVERHEAD);
    ASSERT(!contains(sealed.data, sealed.len, name));
    ASSERT(!contains(sealed.data, sealed.len, "aaaaaaaa"));
    ASSERT_EQ(sealed.data[4], RS_SEAL_TYPE);
    ASSERT_EQ(open_all(&rx, &sealed, &out), 1);
    ASSERT_MEM_EQ(out.data, out.len, in.data, in.len);
    /* 200 frames of 1 KiB: cut into records of at most RS_SEAL_BATCH plaintext bytes, each
     * at a frame boundary */
    in.len = sealed.len = out.len = 0;
    for (int i = 0; i < 200; i++)
        frame(&in, 1020, (uint8_t)i);
    size_t w = rs_seal_frames(&tx, in.data, in.len, &sealed);
    ASSERT_EQ(w, sealed.len);
    size_t records = 0;
    for (size_t off = 0; off < sealed.len; records++) {
        size_t rn = 4u + rs_get_u32(sealed.data + off);
        ASSERT(rn - RS_SEAL_OVERHEAD <= RS_SEAL_BATCH);
        ASSERT_EQ((rn - RS_SEAL_OVERHEAD) % 1024, 0); /* whole frames */
        off += rn;
    }
    size_t per = RS_SEAL_BATCH / 1024; /* frames per full record */
    ASSERT_EQ(records, (200 + per - 1) / per);
    ASSERT_EQ(open_all(&rx, &sealed, &out), records);
    ASSERT_MEM_EQ(out.data, out.len, in.data, in.len);
    /* one frame larger than a batch gets a record of its own */
    in.len = sealed.len = out.len = 0;
    frame(&in, 10, 'x');
    frame(&in, RS_SEAL_BATCH + 1000, 'y');
    frame(&in, 10, 'z');
    rs_seal_frames(&tx, in.data, in.len, &sealed);
    ASSERT_EQ(open_all(&rx, &sealed, &out), 3);
    ASSERT_MEM_EQ(out.data, out.len, in.data, in.len);
    ASSERT(rs_seal_record_max(1u << 20) >= (1u << 20) + 4u + RS_SEAL_OVERHEAD - 4u);
    ASSERT(rs_seal_record_max(100) >= RS_SEAL_BATCH + RS_SEAL_OVERHEAD - 4u);
    rs_buf_fini(&in);
    rs_buf_fini(&sealed);
    rs_buf_fini(&out);
}

/* seal_n seals n one-frame records into recs[i] (copies). */
static void seal_n(struct rs_seal *tx, struct rs_buf *recs, int n)
{
    for (int i = 0; i < n; i++) {
        struct rs_buf f;
        rs_buf_init(&f);
        frame(&f, 20, (uint8_t)('0' + i));
        rs_buf_init(&recs[i]);
        ASSERT(rs_seal_frames(tx, f.data, f.len, &recs[i]) > 0);
        rs_buf_fini(&f);
    }
}

/* try_open opens a copy of r (so the original stays sealed). */
static int try_open(struct rs_seal *rx, const uint8_t *r, size_t n)
{
    uint8_t buf[256];
    ASSERT(n <= sizeof buf);
    memcpy(buf, r, n);
    uint8_t *pl;
    size_t pn;
    return rs_seal_open(rx, buf, n, &pl, &pn);
}

static void test_every_bit_flip_refused(void)
{
    struct rs_seal tx, rx;
    keys(&tx, &rx);
    struct rs_buf r[1];
    seal_n(&tx, r, 1);
    for (size_t bit = 0; bit < r[0].len * 8; bit++) {
        uint8_t buf[256];
        memcpy(buf, r[0].data, r[0].len);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int res = try_open(&rx, buf, r[0].len);
        ASSERT(res != RS_SEAL_OK);
        if (bit / 8 >= 8) /* counter, ciphertext, tag: the MAC catches it */
            ASSERT_EQ(res, RS_SEAL_E_AUTH);
    }
    /* nothing moved: the genuine record opens */
    ASSERT_EQ(try_open(&rx, r[0].data, r[0].len), RS_SEAL_OK);
    rs_buf_fini(&r[0]);
}

static void test_order_replay_gap(void)
{
    struct rs_seal tx, rx;
    keys(&tx, &rx);
    struct rs_buf r[4];
    seal_n(&tx, r, 4);
    ASSERT_EQ(try_open(&rx, r[0].data, r[0].len), RS_SEAL_OK);
    ASSERT_EQ(try_open(&rx, r[0].data, r[0].len), RS_SEAL_E_REPLAY); /* replayed */
    ASSERT_U64_EQ(rx.got_counter, 0);
    ASSERT_EQ(try_open(&rx, r[2].data, r[2].len), RS_SEAL_E_GAP); /* 1 dropped or late */
    ASSERT_U64_EQ(rx.got_counter, 2);
    ASSERT_EQ(try_open(&rx, r[1].data, r[1].len), RS_SEAL_OK);
    ASSERT_EQ(try_open(&rx, r[2].data, r[2].len), RS_SEAL_OK);
    ASSERT_EQ(try_open(&rx, r[1].data, r[1].len), RS_SEAL_E_REPLAY); /* reordered back */
    ASSERT_EQ(try_open(&rx, r[3].data, r[3].len), RS_SEAL_OK);
    for (int i = 0; i < 4; i++)
        rs_buf_fini(&r[i]);
}

static void test_truncated_injected_wrong_key(void)
{
    struct rs_seal tx, rx;
    keys(&tx, &rx);
    struct rs_buf r[1];
    seal_n(&tx, r, 1);
    uint8_t buf[256];
    /* truncated, with the length prefix fixed up to match */
    for (size_t cut = 4; cut < r[0].len; cut++) {
        memcpy(buf, r[0].data, cut);
        if (cut >= 8)
            rs_put_u32(buf, (uint32_t)(cut - 4));
        int res = try_open(&rx, buf, cut);
        ASSERT(res == (cut < RS_SEAL_OVERHEAD ? RS_SEAL_E_SHORT : RS_SEAL_E_AUTH));
    }
    /* injected: a well-formed header for the expected counter, random body */
    memcpy(buf, r[0].data, RS_SEAL_HEADER);
    randombytes_buf(buf + RS_SEAL_HEADER, r[0].len - RS_SEAL_HEADER);
    ASSERT_EQ(try_open(&rx, buf, r[0].len), RS_SEAL_E_AUTH);
    /* the sender's own direction key (a record reflected back) and a stranger's key */
    ASSERT_EQ(try_open(&tx, r[0].data, r[0].len), RS_SEAL_E_AUTH);
    struct rs_seal s1, s2;
    keys(&s1, &s2);
    ASSERT_EQ(try_open(&s2, r[0].data, r[0].len), RS_SEAL_E_AUTH);
    /* a frame of another type in its place */
    memcpy(buf, r[0].data, r[0].len);
    buf[4] = 0x40;
    ASSERT_EQ(try_open(&rx, buf, r[0].len), RS_SEAL_E_TYPE);
    ASSERT_EQ(try_open(&rx, r[0].data, r[0].len), RS_SEAL_OK);
    rs_seal_wipe(&rx);
    static const uint8_t zero[32];
    ASSERT_MEM_EQ(rx.rx.key, 32, zero, 32);
    rs_buf_fini(&r[0]);
}

static void test_frame_walker_bounded(void)
{
    const uint8_t *f;
    size_t fn, off;
    uint8_t p[16] = {0};
    /* empty: the end at once */
    off = 0;
    ASSERT_EQ(rs_seal_next(p, 0, &off, 100, &f, &fn), 1);
    /* a zero-length frame, a frame past the end, a frame over frame_max, a cut prefix */
    rs_put_u32(p, 0);
    off = 0;
    ASSERT_EQ(rs_seal_next(p, 16, &off, 100, &f, &fn), RS_SEAL_E_FRAME);
    rs_put_u32(p, 13);
    off = 0;
    ASSERT_EQ(rs_seal_next(p, 16, &off, 100, &f, &fn), RS_SEAL_E_FRAME);
    rs_put_u32(p, 12);
    off = 0;
    ASSERT_EQ(rs_seal_next(p, 16, &off, 11, &f, &fn), RS_SEAL_E_FRAME);
    off = 0;
    ASSERT_EQ(rs_seal_next(p, 16, &off, 12, &f, &fn), RS_SEAL_OK);
    ASSERT_EQ(fn, 16);
    ASSERT_EQ(off, 16);
    ASSERT_EQ(rs_seal_next(p, 16, &off, 12, &f, &fn), 1);
    rs_put_u32(p, 2);
    off = 0;
    ASSERT_EQ(rs_seal_next(p, 9, &off, 12, &f, &fn), RS_SEAL_OK);
    ASSERT_EQ(rs_seal_next(p, 9, &off, 12, &f, &fn), RS_SEAL_E_FRAME); /* 3 bytes left */
    for (int r = RS_SEAL_E_FRAME; r <= 0; r++)
        ASSERT(strcmp(rs_seal_strerror(r), "unknown seal result") != 0);
}

static void test_both_aeads(void)
{
    void (*tests[])(void) = {test_roundtrip_and_batching, test_every_bit_flip_refused,
                             test_order_replay_gap, test_truncated_injected_wrong_key};
    for (aead = RS_SEAL_XCHACHA20POLY1305; aead <= RS_SEAL_AES256GCM; aead++)
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
            tests[i]();
    /* a record sealed under one AEAD never opens under the other, same keys */
    ASSERT(sodium_init() >= 0);
    if (crypto_aead_aes256gcm_is_available()) {
        uint8_t k1[32] = {1}, k2[32] = {2};
        struct rs_seal tx, rx;
        rs_seal_init(&tx, RS_SEAL_AES256GCM, k1, k2);
        rs_seal_init(&rx, RS_SEAL_XCHACHA20POLY1305, k2, k1);
        struct rs_buf r[1];
        seal_n(&tx, r, 1);
        ASSERT_EQ(try_open(&rx, r[0].data, r[0].len), RS_SEAL_E_AUTH);
        rs_buf_fini(&r[0]);
    }
    ASSERT_EQ(rs_seal_choose(RS_HS_FEAT_AES256GCM, RS_HS_FEAT_AES256GCM), RS_SEAL_AES256GCM);
    ASSERT_EQ(rs_seal_choose(RS_HS_FEAT_AES256GCM, 0), RS_SEAL_XCHACHA20POLY1305);
    ASSERT_EQ(rs_seal_choose(0, RS_HS_FEAT_AES256GCM), RS_SEAL_XCHACHA20POLY1305);
    ASSERT_EQ(rs_seal_choose(0xfffe, 0xfffe), RS_SEAL_XCHACHA20POLY1305); /* unknown bits */
}

TEST_MAIN(T(test_both_aeads), T(test_frame_walker_bounded))
