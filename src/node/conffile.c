/* conffile.c: the config file's line syntax (conffile.h); what keys mean is config.c's. */
#include "node/conffile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int blank(char c) { return c == ' ' || c == '\t'; }

static int key_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

void rs_conffile_free(struct rs_conffile *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].value);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

/* parse_line handles one line p[0..n) (no '\n'); 0 (an entry added or nothing), or -1. */
static int parse_line(struct rs_conffile *out, size_t *cap, const char *p, size_t n,
                      unsigned line, char *why, size_t why_cap)
{
    if (n && p[n - 1] == '\r') /* a file written on Windows */
        n--;
    size_t i = 0;
    while (i < n && blank(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return 0;
    size_t k0 = i;
    while (i < n && key_byte(p[i]))
        i++;
    size_t klen = i - k0;
    while (i < n && blank(p[i]))
        i++;
    if (klen == 0 || i == n || p[i] != '=') {
        if (klen == 0)
            snprintf(why, why_cap, "expected 'key = value' (a key is [a-z0-9-])");
        else if (i < n && i == k0 + klen)
            snprintf(why, why_cap, "unexpected character '%c' in the key '%.*s' (a key is "
                     "[a-z0-9-], then '=')", p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?',
                     (int)(klen > 63 ? 63 : klen), p + k0);
        else
            snprintf(why, why_cap, "expected '=' after '%.*s'", (int)(klen > 63 ? 63 : klen),
                     p + k0);
        return -1;
    }
    if (klen > RS_CONFFILE_KEY_MAX) {
        snprintf(why, why_cap, "key longer than %u bytes", RS_CONFFILE_KEY_MAX);
        return -1;
    }
    i++; /* '=' */
    while (i < n && blank(p[i]))
        i++;
    size_t v0 = i, v1 = n;
    while (v1 > v0 && blank(p[v1 - 1]))
        v1--;
    for (size_t j = v0; j < v1; j++)
        if ((unsigned char)p[j] < 0x20 && p[j] != '\t') {
            snprintf(why, why_cap, "control byte 0x%02x in the value", (unsigned char)p[j]);
            return -1;
        }
    if (out->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct rs_conf_entry *nv = realloc(out->v, nc * sizeof *nv);
        if (!nv) {
            snprintf(why, why_cap, "out of memory");
            return -1;
        }
        out->v = nv;
        *cap = nc;
    }
    struct rs_conf_entry *e = &out->v[out->n];
    e->value = malloc(v1 - v0 + 1);
    if (!e->value) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    memcpy(e->key, p + k0, klen);
    e->key[klen] = 0;
    memcpy(e->value, p + v0, v1 - v0);
    e->value[v1 - v0] = 0;
    e->line = line;
    out->n++;
    return 0;
}

int rs_conffile_parse(const char *text, size_t len, struct rs_conffile *out,
                      unsigned *err_line, char *why, size_t why_cap)
{
    size_t cap = 0;
    out->v = NULL;
    out->n = 0;
    *err_line = 0;
    if (len > RS_CONFFILE_BYTES_MAX) {
        snprintf(why, why_cap, "larger than %u bytes", RS_CONFFILE_BYTES_MAX);
        return -1;
    }
    unsigned line = 0;
    size_t at = 0;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        line++;
        if (n > RS_CONFFILE_LINE_MAX) {
            *err_line = line;
            snprintf(why, why_cap, "line longer than %u bytes", RS_CONFFILE_LINE_MAX);
            rs_conffile_free(out);
            return -1;
        }
        if (memchr(text + at, 0, n)) {
            *err_line = line;
            snprintf(why, why_cap, "NUL byte (not a text file?)");
            rs_conffile_free(out);
            return -1;
        }
        if (parse_line(out, &cap, text + at, n, line, why, why_cap) != 0) {
            *err_line = line;
            rs_conffile_free(out);
            return -1;
        }
        at += n + (nl ? 1 : 0);
    }
    return 0;
}

int rs_conffile_read(const char *path, char **text, size_t *len, char *why, size_t why_cap)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_cap, "%s", strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            snprintf(why, why_cap, "out of memory");
            close(fd);
            return -1;
        }
        if (n == cap) {
            if (cap > RS_CONFFILE_BYTES_MAX) {
                snprintf(why, why_cap, "larger than %u bytes", RS_CONFFILE_BYTES_MAX);
                free(buf);
                close(fd);
                return -1;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                free(buf);
            buf = nb;
            continue;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, why_cap, "%s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *text = buf;
    *len = n;
    return 0;
}
