/* handshake.h: the frames of the peer handshake, the node-to-node exchange that runs on a
 * TCP connection before the peer protocol (the proofs and their keys are the node's business:
 * src/node/auth.h). These are the only bytes a node reads from a peer that has not proven
 * itself, so every decoder bounds every field against the frame.
 *
 * Frames have the client protocol's framing with their own types, and are at most
 * RS_PEER_FRAME_MAX bytes, length prefix included:
 *
 *   header  len u32 (bytes after it), type u8, flags u8 = 0, reserved u16 = 0
 *   HELLO   magic u32, version u16, features u16, nonce[32], incarnation u64,
 *           name_len u8, name, addr_len u8, addr
 *   PROOF   mac[32]
 *   REFUSE  text_len u8, text
 *
 * magic and version sit at fixed offsets so that any later version is recognised as such.
 * Version 2 seals everything after the handshake (src/node/seal.h); a version 1 node is
 * refused at its HELLO with a REFUSE naming both versions. features (reserved, 0, in version
 * 1) says what the sender can do; unknown bits are ignored, so later bits need no new
 * version. Both proofs cover both HELLOs, so the features cannot be changed on the way. */
#ifndef ROSTER_WIRE_HANDSHAKE_H
#define ROSTER_WIRE_HANDSHAKE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

#define RS_PEER_FRAME_MAX 512u    /* bytes of a handshake frame, length prefix included */
#define RS_PEER_VERSION 3u        /* cluster protocol version, checked in HELLO (2: sealed
                                     links, and P_OP's handoff op; 3: P_PID_EXIT,
                                     P_DOWN_EXIT and reason expired in P_OP, scope options
                                     in P_SCOPE, scope metadata frames, P_ENTRY and P_OP
                                     carry the holder's OS pid and uid, P_LEAVE, P_POLICY;
                                     docs/PROTOCOL.md) */
#define RS_PEER_MAGIC 0x52505352u /* "RSPR" */
#define RS_PEER_NONCE_BYTES 32u
#define RS_PEER_MAC_BYTES 32u
#define RS_PEER_ADDR_MAX RS_NODE_ADDR_MAX /* listen address "host:port" (limits.h) */
#define RS_PEER_REFUSE_TEXT_MAX 200u

#define RS_HS_HEADER 8u
#define RS_HS_PROOF_BYTES (RS_HS_HEADER + RS_PEER_MAC_BYTES)
#define RS_HS_REFUSE_BYTES_MAX (RS_HS_HEADER + 1u + RS_PEER_REFUSE_TEXT_MAX)

/* A HELLO carries the name with a one-byte length. */
static_assert(RS_NODE_NAME_MAX <= 255, "node names must fit a HELLO");

/* HELLO features. */
#define RS_HS_FEAT_AES256GCM 0x0001u /* can seal with AES-256-GCM (hardware AES) */

/* Handshake frame types (outside the wire's message types). */
enum { RS_HS_HELLO = 0xF0, RS_HS_PROOF = 0xF1, RS_HS_REFUSE = 0xF2 };

/* Decoder results: 0, or what is wrong (rs_hs_strerror names it for logs). */
enum rs_hs_result {
    RS_HS_OK = 0,
    RS_HS_E_TYPE = -1,       /* not a handshake frame */
    RS_HS_E_RESERVED = -2,   /* flags or reserved bits set */
    RS_HS_E_HELLO_SHORT = -3,
    RS_HS_E_MAGIC = -4,
    RS_HS_E_VERSION = -5,    /* another protocol version (hello.version says which) */
    RS_HS_E_HELLO = -6,      /* malformed HELLO body */
    RS_HS_E_NAME = -7,       /* bad name or address */
    RS_HS_E_INC = -8,        /* incarnation 0 */
    RS_HS_E_PROOF = -9,
    RS_HS_E_REFUSE = -10,
};

/* A decoded HELLO: views into the frame. */
struct rs_hs_hello {
    uint16_t version;
    uint16_t features;
    const uint8_t *nonce; /* RS_PEER_NONCE_BYTES */
    uint64_t inc;
    const uint8_t *name;
    size_t name_len;
    const uint8_t *addr;
    size_t addr_len;
};

/* rs_peer_name_ok says whether s (len bytes) is a valid node name: 1..RS_NODE_NAME_MAX bytes
 * of [A-Za-z0-9._-]. */
static inline int rs_peer_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > RS_NODE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const char *rs_hs_strerror(int r);

/* rs_hs_check judges the header of a whole frame f (n bytes, as the frame reader hands it
 * out): 0 (a handshake frame; its type is f[4]), RS_HS_E_TYPE or RS_HS_E_RESERVED. */
int rs_hs_check(const uint8_t *f, size_t n);

/* rs_hs_hello_encode writes a HELLO into out and returns its size. name and addr are cut to
 * what the frame holds (a valid configuration always fits). */
size_t rs_hs_hello_encode(uint8_t out[RS_PEER_FRAME_MAX], const uint8_t *nonce, uint64_t inc,
                          const char *name, const char *addr);
/* rs_hs_hello_encode_features is rs_hs_hello_encode with features (RS_HS_FEAT_*). */
size_t rs_hs_hello_encode_features(uint8_t out[RS_PEER_FRAME_MAX], const uint8_t *nonce,
                                   uint64_t inc, const char *name, const char *addr,
                                   uint16_t features);
/* rs_hs_hello_decode decodes a HELLO frame. Magic and version are judged first, so another
 * version is RS_HS_E_VERSION whatever its body looks like. */
int rs_hs_hello_decode(const uint8_t *f, size_t n, struct rs_hs_hello *h);

void rs_hs_proof_encode(uint8_t out[RS_HS_PROOF_BYTES], const uint8_t *mac);
/* rs_hs_proof_decode points *mac at the RS_PEER_MAC_BYTES of a PROOF frame. */
int rs_hs_proof_decode(const uint8_t *f, size_t n, const uint8_t **mac);

/* rs_hs_refuse_encode writes a REFUSE with why (cut to RS_PEER_REFUSE_TEXT_MAX bytes). */
size_t rs_hs_refuse_encode(uint8_t out[RS_HS_REFUSE_BYTES_MAX], const char *why);
/* rs_hs_refuse_decode copies the text of a REFUSE into text (cap > 0 bytes, NUL ended),
 * unprintable bytes as '?'. */
int rs_hs_refuse_decode(const uint8_t *f, size_t n, char *text, size_t cap);

#endif
