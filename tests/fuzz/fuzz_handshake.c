/* fuzz_handshake.c: fuzz target for the peer handshake, the only code that reads a peer's
 * bytes before it is authenticated: the frame reader and the handshake frame decoders
 * (src/wire/reader.c, handshake.c) under the node's state machine (src/node/auth.c, linked
 * as the roster_node_auth library). The input is fed, whole and then split at its first
 * byte, to an acceptor and to a dialer that already sent their HELLO (and split, to two
 * whose proofs are bound to a TLS connection, tls.c). The decoder must
 * never crash, never consume more than it was given, never read past a frame, and never
 * reach DONE without the cookie (the input cannot hold a valid proof for the fresh random
 * nonces). */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void feed(int dialer, const struct rs_auth_keys *k, const uint8_t *p, size_t n,
                 size_t split, int bound)
{
    struct rs_auth a;
    struct rs_buf out;
    rs_buf_init(&out);
    uint8_t nonce[RS_PEER_NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    if (rs_auth_start(&a, dialer, k, "fuzz", 7, "127.0.0.1:1", nonce, &out) != 0)
        abort();
    if (bound) { /* as over TLS: the proofs also cover the connection's exporter value */
        static const uint8_t binding[RS_AUTH_BINDING_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
        rs_auth_bind(&a, binding);
    }
    /* Two reads: p[0, split), then what was not consumed plus the rest, each from an
     * exact-size heap copy so that ASan sees any read past the bytes given. */
    size_t off = 0;
    for (int part = 0; part < 2 && a.state != RS_AUTH_FAILED; part++) {
        size_t len = (part == 0 ? split : n) - off;
        uint8_t *buf = malloc(len ? len : 1);
        memcpy(buf, p + off, len);
        size_t used = rs_auth_input(&a, buf, len, &out);
        free(buf);
        if (used == (size_t)-1 || used > len || a.state == RS_AUTH_DONE)
            abort();
        off += used;
    }
    rs_buf_fini(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    static struct rs_auth_keys k;
    if (!init) {
        if (sodium_init() < 0)
            abort();
        rs_auth_keys_derive(&k, (const uint8_t *)"fuzz-cookie", 11);
        init = 1;
    }
    if (size > 4096)
        return 0;
    size_t split = size ? data[0] % (size + 1) : 0;
    feed(0, &k, data, size, size, 0);
    feed(1, &k, data, size, size, 0);
    feed(0, &k, data, size, split, 0);
    feed(1, &k, data, size, split, 0);
    feed(0, &k, data, size, split, 1);
    feed(1, &k, data, size, split, 1);
    return 0;
}
