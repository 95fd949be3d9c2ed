/* test_wire_handshake.c: unit tests of the peer handshake frames (src/wire/handshake.h): the
 * bytes of a HELLO are pinned, every frame round-trips, and the decoders refuse every
 * truncation and each malformed field with its own result. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "test.h"
#include "wire/handshake.h"

/* HELLO of node "alpha", incarnation 11, nonce 32 x 0x01, address 127.0.0.1:7400, as the
 * node sent it before the codec moved to src/wire, but for the version: 3 since P_SCOPE
 * carries scope options and entries their holder's OS pid and uid (2: sealed links and the
 * handoff op; 1 before). */
static const char HELLO_HEX[] =
    "49000000f0000000525350520300000001010101010101010101010101010101010101010101010101010101"
    "010101010b0000000000000005616c7068610e3132372e302e302e313a37343030";

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        ASSERT_EQ(sscanf(s, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void test_hello_bytes_and_round_trip(void)
{
    uint8_t want[RS_PEER_FRAME_MAX], f[RS_PEER_FRAME_MAX], nonce[RS_PEER_NONCE_BYTES];
    size_t wl = unhex(HELLO_HEX, want);
    memset(nonce, 1, sizeof nonce);
    size_t n = rs_hs_hello_encode(f, nonce, 11, "alpha", "127.0.0.1:7400");
    ASSERT_MEM_EQ(f, n, want, wl);
    ASSERT_EQ(rs_hs_check(f, n), RS_HS_OK);
    struct rs_hs_hello h;
    ASSERT_EQ(rs_hs_hello_decode(f, n, &h), RS_HS_OK);
    ASSERT_EQ(h.version, RS_PEER_VERSION);
    ASSERT_U64_EQ(h.inc, 11);
    ASSERT_MEM_EQ(h.name, h.name_len, "alpha", 5);
    ASSERT_MEM_EQ(h.addr, h.addr_len, "127.0.0.1:7400", 14);
    ASSERT_MEM_EQ(h.nonce, RS_PEER_NONCE_BYTES, nonce, sizeof nonce);
    ASSERT_EQ(h.features, 0);
    /* features ride in the u16 after the version; every bit is accepted */
    uint8_t g[RS_PEER_FRAME_MAX];
    ASSERT_EQ(rs_hs_hello_encode_features(g, nonce, 11, "alpha", "127.0.0.1:7400", 0x8001), n);
    ASSERT_EQ(rs_get_u16(g + RS_HS_HEADER + 6), 0x8001);
    ASSERT_EQ(rs_hs_hello_decode(g, n, &h), RS_HS_OK);
    ASSERT_EQ(h.features, 0x8001);
    /* every truncation (length prefix adjusted) is refused */
    for (size_t cut = RS_HS_HEADER; cut < n; cut++) {
        uint8_t t[RS_PEER_FRAME_MAX];
        memcpy(t, f, cut);
        rs_put_u32(t, (uint32_t)(cut - 4));
        ASSERT(rs_hs_hello_decode(t, cut, &h) != RS_HS_OK);
    }
}

static void test_hello_refusals(void)
{
    uint8_t f[RS_PEER_FRAME_MAX], nonce[RS_PEER_NONCE_BYTES] = {0};
    struct rs_hs_hello h;
    size_t n = rs_hs_hello_encode(f, nonce, 5, "beta", "");
    ASSERT_EQ(rs_hs_hello_decode(f, n, &h), RS_HS_OK);
    ASSERT_EQ(h.addr_len, 0);
    f[8] ^= 1;
    ASSERT_EQ(rs_hs_hello_decode(f, n, &h), RS_HS_E_MAGIC);
    f[8] ^= 1;
    f[12] = 9; /* version, judged before the body */
    ASSERT_EQ(rs_hs_hello_decode(f, n - 3, &h), RS_HS_E_VERSION);
    ASSERT_EQ(h.version, 9);
    f[12] = 1;
    n = rs_hs_hello_encode(f, nonce, 0, "beta", "");
    ASSERT_EQ(rs_hs_hello_decode(f, n, &h), RS_HS_E_INC);
    n = rs_hs_hello_encode(f, nonce, 5, "be ta", "");
    ASSERT_EQ(rs_hs_hello_decode(f, n, &h), RS_HS_E_NAME);
    ASSERT(!rs_peer_name_ok("", 0));
    ASSERT(rs_peer_name_ok("node-1.a_b", 10));
    f[5] = 1;
    ASSERT_EQ(rs_hs_check(f, n), RS_HS_E_RESERVED);
    f[4] = 1;
    ASSERT_EQ(rs_hs_check(f, n), RS_HS_E_TYPE);
}

static void test_proof_and_refuse(void)
{
    uint8_t mac[RS_PEER_MAC_BYTES], f[RS_HS_REFUSE_BYTES_MAX];
    memset(mac, 0xab, sizeof mac);
    rs_hs_proof_encode(f, mac);
    ASSERT_EQ(rs_get_u32(f), RS_HS_PROOF_BYTES - 4);
    ASSERT_EQ(f[4], RS_HS_PROOF);
    const uint8_t *m;
    ASSERT_EQ(rs_hs_proof_decode(f, RS_HS_PROOF_BYTES, &m), RS_HS_OK);
    ASSERT_MEM_EQ(m, RS_PEER_MAC_BYTES, mac, sizeof mac);
    ASSERT_EQ(rs_hs_proof_decode(f, RS_HS_PROOF_BYTES - 1, &m), RS_HS_E_PROOF);
    size_t n = rs_hs_refuse_encode(f, "no\x01pe");
    char text[16];
    ASSERT_EQ(rs_hs_refuse_decode(f, n, text, sizeof text), RS_HS_OK);
    ASSERT_STR_EQ(text, "no?pe");
    ASSERT_EQ(rs_hs_refuse_decode(f, n - 1, text, sizeof text), RS_HS_E_REFUSE);
    char longer[300];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    n = rs_hs_refuse_encode(f, longer);
    ASSERT_EQ(n, RS_HS_REFUSE_BYTES_MAX);
}

TEST_MAIN(T(test_hello_bytes_and_round_trip), T(test_hello_refusals), T(test_proof_and_refuse))
