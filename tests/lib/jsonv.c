/* jsonv.c: a strict JSON validator (RFC 8259) for tests of --json output: a line must be
 * exactly one JSON value, objects without duplicate keys. */
#include "jsonv.h"

#include <stdlib.h>
#include <string.h>

#include "test.h"

/* Keys of one object seen so far, to refuse duplicates (compared as written). */
#define JV_MAX_KEYS 128
#define JV_MAX_DEPTH 32

static int jv_value(const char **p, int depth);

static void jv_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static int jv_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* jv_utf8 accepts one well-formed UTF-8 sequence of 2 to 4 bytes at *p. */
static int jv_utf8(const char **p)
{
    const unsigned char *u = (const unsigned char *)*p;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (u[0] >= 0xc2 && u[0] <= 0xdf)
        len = 2;
    else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        len = 3;
        lo = u[0] == 0xe0 ? 0xa0 : 0x80;
        hi = u[0] == 0xed ? 0x9f : 0xbf;
    } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        len = 4;
        lo = u[0] == 0xf0 ? 0x90 : 0x80;
        hi = u[0] == 0xf4 ? 0x8f : 0xbf;
    } else
        return 0;
    if (u[1] < lo || u[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (u[i] < 0x80 || u[i] > 0xbf)
            return 0;
    *p += len;
    return 1;
}

static int jv_string(const char **p)
{
    if (**p != '"')
        return 0;
    (*p)++;
    for (;;) {
        unsigned char c = (unsigned char)**p;
        if (c == '"') {
            (*p)++;
            return 1;
        }
        if (c < 0x20) /* control characters, and the end of the text */
            return 0;
        if (c == '\\') {
            char e = (*p)[1];
            if (e && strchr("\"\\/bfnrt", e)) {
                *p += 2;
            } else if (e == 'u') {
                for (int i = 2; i < 6; i++)
                    if (!jv_hex((*p)[i]))
                        return 0;
                *p += 6;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if (!jv_utf8(p))
                return 0;
        } else {
            (*p)++;
        }
    }
}

static int jv_digits(const char **p)
{
    if (**p < '0' || **p > '9')
        return 0;
    while (**p >= '0' && **p <= '9')
        (*p)++;
    return 1;
}

static int jv_number(const char **p)
{
    if (**p == '-')
        (*p)++;
    if (**p == '0')
        (*p)++;
    else if (!jv_digits(p))
        return 0;
    if (**p == '.') {
        (*p)++;
        if (!jv_digits(p))
            return 0;
    }
    if (**p == 'e' || **p == 'E') {
        (*p)++;
        if (**p == '+' || **p == '-')
            (*p)++;
        if (!jv_digits(p))
            return 0;
    }
    return 1;
}

static int jv_literal(const char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*p, word, n) != 0)
        return 0;
    *p += n;
    return 1;
}

static int jv_object(const char **p, int depth)
{
    const char *keys[JV_MAX_KEYS];
    size_t key_len[JV_MAX_KEYS];
    int nkeys = 0;
    (*p)++; /* '{' */
    jv_ws(p);
    if (**p == '}') {
        (*p)++;
        return 1;
    }
    for (;;) {
        jv_ws(p);
        const char *k = *p;
        if (!jv_string(p) || nkeys >= JV_MAX_KEYS)
            return 0;
        size_t kl = (size_t)(*p - k);
        for (int i = 0; i < nkeys; i++)
            if (key_len[i] == kl && memcmp(keys[i], k, kl) == 0)
                return 0; /* duplicate key */
        keys[nkeys] = k;
        key_len[nkeys++] = kl;
        jv_ws(p);
        if (**p != ':')
            return 0;
        (*p)++;
        if (!jv_value(p, depth + 1))
            return 0;
        jv_ws(p);
        if (**p == '}') {
            (*p)++;
            return 1;
        }
        if (**p != ',')
            return 0;
        (*p)++;
    }
}

static int jv_array(const char **p, int depth)
{
    (*p)++; /* '[' */
    jv_ws(p);
    if (**p == ']') {
        (*p)++;
        return 1;
    }
    for (;;) {
        if (!jv_value(p, depth + 1))
            return 0;
        jv_ws(p);
        if (**p == ']') {
            (*p)++;
            return 1;
        }
        if (**p != ',')
            return 0;
        (*p)++;
    }
}

static int jv_value(const char **p, int depth)
{
    if (depth > JV_MAX_DEPTH)
        return 0;
    jv_ws(p);
    switch (**p) {
    case '{': return jv_object(p, depth);
    case '[': return jv_array(p, depth);
    case '"': return jv_string(p);
    case 't': return jv_literal(p, "true");
    case 'f': return jv_literal(p, "false");
    case 'n': return jv_literal(p, "null");
    default: return jv_number(p);
    }
}

int json_valid(const char *text)
{
    const char *p = text;
    if (!jv_value(&p, 0))
        return 0;
    jv_ws(&p);
    return *p == 0;
}

void json_check_line(const char *file, int line, const char *text)
{
    if (strchr(text, '\n') || !json_valid(text))
        test_fail(file, line, "not one JSON value: %s", text);
}

int json_check_lines(const char *file, int line, const char *text)
{
    int n = 0;
    while (*text) {
        const char *nl = strchr(text, '\n');
        if (!nl)
            test_fail(file, line, "JSON output does not end with a newline: %s", text);
        size_t len = (size_t)(nl - text);
        char *buf = malloc(len + 1);
        if (!buf)
            test_fail(file, line, "out of memory");
        memcpy(buf, text, len);
        buf[len] = 0;
        json_check_line(file, line, buf);
        free(buf);
        text = nl + 1;
        n++;
    }
    return n;
}
