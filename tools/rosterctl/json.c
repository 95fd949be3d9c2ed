/* json.c: JSON output of byte strings and small objects. Strings are byte strings: valid
 * UTF-8 passes through, every other byte is written as \u00XX (its Latin-1 code point);
 * '"', '\\' and control characters (< 0x20 and 0x7f) are escaped. */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"

/* utf8_len returns the length of the valid UTF-8 sequence at p (n bytes left), or 0 if the
 * bytes there are not valid UTF-8 (overlong forms, surrogates and > U+10FFFF included). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

void json_str(FILE *f, const void *data, size_t n)
{
    const unsigned char *p = data;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char b = p[i];
        if (b == '"' || b == '\\') {
            fputc('\\', f);
            fputc(b, f);
            i++;
        } else if (b == '\n') {
            fputs("\\n", f);
            i++;
        } else if (b == '\t') {
            fputs("\\t", f);
            i++;
        } else if (b == '\r') {
            fputs("\\r", f);
            i++;
        } else if (b < 0x20 || b == 0x7f) {
            fprintf(f, "\\u%04x", b);
            i++;
        } else if (b < 0x80) {
            fputc(b, f);
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l) {
                fwrite(p + i, 1, l, f);
                i += l;
            } else {
                fprintf(f, "\\u%04x", b);
                i++;
            }
        }
    }
    fputc('"', f);
}

void jo_begin(struct jobj *o, FILE *f)
{
    o->f = f;
    o->n = 0;
    fputc('{', f);
}

void jo_key(struct jobj *o, const char *key)
{
    if (o->n++)
        fputc(',', o->f);
    json_str(o->f, key, strlen(key));
    fputc(':', o->f);
}

void jo_bytes(struct jobj *o, const char *key, const void *p, size_t n)
{
    jo_key(o, key);
    json_str(o->f, p, n);
}

void jo_str(struct jobj *o, const char *key, const char *s)
{
    jo_bytes(o, key, s, strlen(s));
}

void jo_u64(struct jobj *o, const char *key, uint64_t v)
{
    jo_key(o, key);
    fprintf(o->f, "%" PRIu64, v);
}

void jo_bool(struct jobj *o, const char *key, int v)
{
    jo_key(o, key);
    fputs(v ? "true" : "false", o->f);
}

void jo_pid(struct jobj *o, const char *key, roster_pid pid)
{
    char buf[ROSTER_PID_STRLEN];
    jo_str(o, key, roster_pid_format(pid, buf));
}

void jo_token(struct jobj *o, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    jo_str(o, key, buf);
}

void jo_end(struct jobj *o) { fputc('}', o->f); }
