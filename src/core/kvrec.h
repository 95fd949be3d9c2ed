/* kvrec.h: how strong scopes lay out their state in etcd (docs/STRONG.md): the keys, relative
 * to the cluster's --etcd-prefix, and the small bounded binary record every value holds
 * (kvrec.c). Values come from etcd, that is from other nodes and possibly from anyone with
 * write access to the prefix: rs_kvrec_decode checks every length, and a record whose key
 * does not match what its fields say is refused, so a bad value is logged and ignored. */
#ifndef ROSTER_CORE_KVREC_H
#define ROSTER_CORE_KVREC_H

#include "base/buf.h"
#include "core/internal.h"

/* Key kinds, by their first bytes. */
enum rs_kvk_kind {
    RS_KVK_OTHER = 0,
    RS_KVK_SCOPE,  /* s/<hex scope>: a strong scope exists */
    RS_KVK_NAME,   /* n/<hex scope>/<name bytes>: the holder of a name */
    RS_KVK_MEMBER, /* m/<hex scope>/<hex group>/<pid>: one membership */
    RS_KVK_NODE,   /* node/<node name>: the node's lease id (attached to it) */
    RS_KVK_WHY,    /* w/<node name>: why the node's last removal happened */
    RS_KVK_CAND,   /* c/<hex scope>/<hex name>/<pid>: a campaign's candidate */
    RS_KVK_HAND,   /* h/<hex scope>/<16 hex inc>/<hex name>: a handoff asked of the node of
                      that incarnation (kvhand.c) */
};

/* One decoded value (views into the bytes decoded, except what is inline). */
struct rs_kvrec {
    uint8_t kind;          /* RS_KVK_SCOPE, NAME or MEMBER */
    uint8_t node_len;
    char node[RS_NODE_NAME_MAX + 1]; /* the holder's (or creator's) node, NUL-terminated */
    struct rs_pid pid;     /* holder (names, members) */
    uint32_t uid;          /* the holder client's OS user */
    uint64_t token;        /* 0: the grant's own put (token = mod_revision) */
    struct rs_bytes key;   /* scope name, name or group */
    struct rs_bytes meta;
};

/* Reason codes carried by a w/ put in the same transaction as removals. */
#define RS_KVREC_VERSION 1u

enum rs_kvk_kind rs_kvk_kind(const uint8_t *key, size_t n);
/* Key builders append to b (0, or -1 when out of memory). */
int rs_kvk_scope(struct rs_buf *b, struct rs_bytes scope);
int rs_kvk_names(struct rs_buf *b, struct rs_bytes scope); /* prefix of every name */
int rs_kvk_name(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes name);
int rs_kvk_members(struct rs_buf *b, struct rs_bytes scope); /* every membership */
int rs_kvk_group(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes group); /* prefix */
int rs_kvk_member(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes group,
                  struct rs_pid pid);
int rs_kvk_node(struct rs_buf *b, struct rs_bytes node);
int rs_kvk_cands(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes name); /* prefix */
int rs_kvk_cand(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes name,
                struct rs_pid pid);
int rs_kvk_why(struct rs_buf *b, struct rs_bytes node);
int rs_kvk_hand(struct rs_buf *b, struct rs_bytes scope, uint64_t inc, struct rs_bytes name);
/* rs_kvk_scope_of decodes the scope of a scope, name, member or handoff key into out (RS_SCOPE_MAX
 * + 1 bytes); its length, or -1 if the key is not one of those or malformed. */
int rs_kvk_scope_of(const uint8_t *key, size_t n, char *out);

int rs_kvrec_encode(struct rs_buf *b, const struct rs_kvrec *r);
/* rs_kvrec_decode fills r from v; 0, or -1 when malformed. With key (not NULL), the key must
 * be the one the record's fields give (scratch is used to build it). */
int rs_kvrec_decode(const uint8_t *v, size_t n, struct rs_kvrec *r);
int rs_kvrec_matches_key(const struct rs_kvrec *r, struct rs_bytes scope, const uint8_t *key,
                         size_t key_len, struct rs_buf *scratch);
/* The why record: one reason byte. */
int rs_kvwhy_decode(const uint8_t *v, size_t n, uint32_t *reason);
/* The answer to a handoff request (kvhand.c): version, 'A' (carried out) or 'R' (refused),
 * -status (a roster error; 0 with 'A'). Never a record (records are longer). */
#define RS_KVREFUSAL_LEN 3u
void rs_kvrefusal_encode(uint8_t v[RS_KVREFUSAL_LEN], int status); /* status 0: carried out */
int rs_kvrefusal_decode(const uint8_t *v, size_t n, int *status);

#endif
