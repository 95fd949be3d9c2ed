/* kvrec.c: the keys and value records of strong scopes in etcd (layout: docs/STRONG.md).
 * Scope and group names are hex in keys so that a '/' in them cannot make two keys alike
 * and a group's memberships stay one prefix; names stay raw so a name prefix is a key
 * prefix. Every value decode is bounds-checked (fuzz_core_kv). */
#include <string.h>

#include "core/kvrec.h"

static const char hexd[] = "0123456789abcdef";

static int put_hex(struct rs_buf *b, const uint8_t *p, size_t n)
{
    if (rs_buf_reserve(b, 2 * n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = (uint8_t)hexd[p[i] >> 4];
        b->data[b->len++] = (uint8_t)hexd[p[i] & 15];
    }
    return 0;
}

static int put_str(struct rs_buf *b, const char *s)
{
    return rs_buf_append(b, s, strlen(s));
}

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

enum rs_kvk_kind rs_kvk_kind(const uint8_t *key, size_t n)
{
    if (n >= 2 && key[1] == '/') {
        switch (key[0]) {
        case 's':
            return RS_KVK_SCOPE;
        case 'n':
            return RS_KVK_NAME;
        case 'm':
            return RS_KVK_MEMBER;
        case 'w':
            return RS_KVK_WHY;
        case 'c':
            return RS_KVK_CAND;
        case 'h':
            return RS_KVK_HAND;
        }
    }
    if (n >= 5 && memcmp(key, "node/", 5) == 0)
        return RS_KVK_NODE;
    return RS_KVK_OTHER;
}

int rs_kvk_scope(struct rs_buf *b, struct rs_bytes scope)
{
    return put_str(b, "s/") || put_hex(b, scope.ptr, scope.len);
}

int rs_kvk_names(struct rs_buf *b, struct rs_bytes scope)
{
    return put_str(b, "n/") || put_hex(b, scope.ptr, scope.len) || put_str(b, "/");
}

int rs_kvk_name(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes name)
{
    return rs_kvk_names(b, scope) || rs_buf_append(b, name.ptr, name.len);
}

int rs_kvk_members(struct rs_buf *b, struct rs_bytes scope)
{
    return put_str(b, "m/") || put_hex(b, scope.ptr, scope.len) || put_str(b, "/");
}

int rs_kvk_group(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes group)
{
    return rs_kvk_members(b, scope) || put_hex(b, group.ptr, group.len);
}

int rs_kvk_member(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes group,
                  struct rs_pid pid)
{
    uint8_t raw[16];
    rs_put_u64(raw, pid.inc);
    rs_put_u64(raw + 8, pid.serial);
    return rs_kvk_group(b, scope, group) || put_str(b, "/") || put_hex(b, raw, sizeof raw);
}

int rs_kvk_cands(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes name)
{
    return put_str(b, "c/") || put_hex(b, scope.ptr, scope.len) || put_str(b, "/") ||
           put_hex(b, name.ptr, name.len) || put_str(b, "/");
}

int rs_kvk_cand(struct rs_buf *b, struct rs_bytes scope, struct rs_bytes name,
                struct rs_pid pid)
{
    uint8_t raw[16];
    rs_put_u64(raw, pid.inc);
    rs_put_u64(raw + 8, pid.serial);
    return rs_kvk_cands(b, scope, name) || put_hex(b, raw, sizeof raw);
}

int rs_kvk_node(struct rs_buf *b, struct rs_bytes node)
{
    return put_str(b, "node/") || rs_buf_append(b, node.ptr, node.len);
}

int rs_kvk_why(struct rs_buf *b, struct rs_bytes node)
{
    return put_str(b, "w/") || rs_buf_append(b, node.ptr, node.len);
}

int rs_kvk_hand(struct rs_buf *b, struct rs_bytes scope, uint64_t inc, struct rs_bytes name)
{
    uint8_t raw[8];
    for (int i = 0; i < 8; i++)
        raw[i] = (uint8_t)(inc >> (56 - 8 * i)); /* big-endian: the 16 digits read as the
                                                     incarnation's hex */
    return put_str(b, "h/") || put_hex(b, scope.ptr, scope.len) || put_str(b, "/") ||
           put_hex(b, raw, sizeof raw) || put_str(b, "/") || put_hex(b, name.ptr, name.len);
}

void rs_kvrefusal_encode(uint8_t v[RS_KVREFUSAL_LEN], int status)
{
    v[0] = RS_KVREC_VERSION;
    v[1] = status ? 'R' : 'A';
    v[2] = (uint8_t)(status < 0 && status > -256 ? -status : 0);
    if (status && !v[2])
        v[2] = (uint8_t)-ROSTER_EUNAVAIL;
}

int rs_kvrefusal_decode(const uint8_t *v, size_t n, int *status)
{
    if (n != RS_KVREFUSAL_LEN || v[0] != RS_KVREC_VERSION)
        return -1;
    if (v[1] == 'A' && v[2] == 0)
        *status = 0;
    else if (v[1] == 'R' && v[2] != 0)
        *status = -(int)v[2];
    else
        return -1;
    return 0;
}

int rs_kvk_scope_of(const uint8_t *key, size_t n, char *out)
{
    enum rs_kvk_kind k = rs_kvk_kind(key, n);
    if (k != RS_KVK_SCOPE && k != RS_KVK_NAME && k != RS_KVK_MEMBER && k != RS_KVK_HAND)
        return -1;
    size_t i = 2, len = 0;
    while (i < n && key[i] != '/') {
        if (i + 1 >= n || len >= RS_SCOPE_MAX)
            return -1;
        int hi = hexval(key[i]), lo = hexval(key[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[len++] = (char)(hi << 4 | lo);
        i += 2;
    }
    if (len == 0 || (k == RS_KVK_SCOPE) != (i == n))
        return -1;
    out[len] = 0;
    return (int)len;
}

/* Record: u8 version, u8 kind, u8 node_len, node, u64 inc, u64 serial, u32 uid, u64 token,
 * u32 key_len, key, u32 meta_len, meta. Little-endian. */
#define FIXED (3 + 8 + 8 + 4 + 8 + 4 + 4)

int rs_kvrec_encode(struct rs_buf *b, const struct rs_kvrec *r)
{
    size_t need = FIXED + r->node_len + r->key.len + r->meta.len;
    if (r->key.len > UINT32_MAX || r->meta.len > UINT32_MAX || rs_buf_reserve(b, need) != 0)
        return -1;
    uint8_t *p = b->data + b->len;
    *p++ = RS_KVREC_VERSION;
    *p++ = r->kind;
    *p++ = r->node_len;
    memcpy(p, r->node, r->node_len);
    p += r->node_len;
    rs_put_u64(p, r->pid.inc);
    rs_put_u64(p + 8, r->pid.serial);
    rs_put_u32(p + 16, r->uid);
    rs_put_u64(p + 20, r->token);
    p += 28;
    rs_put_u32(p, (uint32_t)r->key.len);
    p += 4;
    if (r->key.len)
        memcpy(p, r->key.ptr, r->key.len);
    p += r->key.len;
    rs_put_u32(p, (uint32_t)r->meta.len);
    p += 4;
    if (r->meta.len)
        memcpy(p, r->meta.ptr, r->meta.len);
    b->len += need;
    return 0;
}

int rs_kvrec_decode(const uint8_t *v, size_t n, struct rs_kvrec *r)
{
    memset(r, 0, sizeof *r);
    if (!v || n < FIXED || v[0] != RS_KVREC_VERSION)
        return -1;
    r->kind = v[1];
    if (r->kind != RS_KVK_SCOPE && r->kind != RS_KVK_NAME && r->kind != RS_KVK_MEMBER)
        return -1;
    size_t nl = v[2];
    if (nl == 0 || nl > RS_NODE_NAME_MAX || n - FIXED < nl)
        return -1;
    const uint8_t *p = v + 3;
    memcpy(r->node, p, nl);
    if (memchr(r->node, 0, nl))
        return -1;
    r->node[nl] = 0;
    r->node_len = (uint8_t)nl;
    p += nl;
    r->pid.inc = rs_get_u64(p);
    r->pid.serial = rs_get_u64(p + 8);
    r->uid = rs_get_u32(p + 16);
    r->token = rs_get_u64(p + 20);
    p += 28;
    size_t left = n - FIXED - nl; /* bytes of key and meta */
    size_t kl = rs_get_u32(p);
    p += 4;
    if (kl > left)
        return -1;
    r->key = rs_bytes_of(kl ? p : NULL, kl);
    p += kl;
    left -= kl;
    size_t ml = rs_get_u32(p);
    p += 4;
    if (ml != left)
        return -1;
    r->meta = rs_bytes_of(ml ? p : NULL, ml);
    if (r->kind == RS_KVK_SCOPE ? (kl == 0 || kl > RS_SCOPE_MAX) : kl == 0)
        return -1;
    return 0;
}

int rs_kvrec_matches_key(const struct rs_kvrec *r, struct rs_bytes scope, const uint8_t *key,
                         size_t key_len, struct rs_buf *scratch)
{
    rs_buf_reset(scratch);
    int bad;
    switch (r->kind) {
    case RS_KVK_SCOPE:
        bad = rs_kvk_scope(scratch, r->key);
        break;
    case RS_KVK_NAME:
        bad = rs_kvk_name(scratch, scope, r->key);
        break;
    case RS_KVK_MEMBER:
        bad = rs_kvk_member(scratch, scope, r->key, r->pid);
        break;
    default:
        return 0;
    }
    return !bad && scratch->len == key_len && memcmp(scratch->data, key, key_len) == 0;
}

int rs_kvwhy_decode(const uint8_t *v, size_t n, uint32_t *reason)
{
    if (!v || n != 2 || v[0] != RS_KVREC_VERSION || v[1] == 0 || v[1] > ROSTER_REASON_HANDOFF)
        return -1;
    *reason = v[1];
    return 0;
}
