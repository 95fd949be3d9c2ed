/* log.c: timestamped, leveled log lines on stderr in text or JSON (formats in log.h). */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Read by every thread that logs, written by the loop thread: a torn read is impossible
 * for an int, and a line logged just before a change in the old format is harmless. */
static volatile int g_level = RS_LOG_INFO;
static volatile int g_format = RS_LOG_FORMAT_TEXT;
static char g_node[65];

/* indexed by enum rs_log_level: trace is above debug; off writes nothing at all */
static const char *const names[] = {"error", "warn", "info", "debug", "trace", "off"};
static const char *const formats[] = {"text", "json"};

#define MSG_MAX 2048u
#define LINE_MAX_BYTES (MSG_MAX * 6u + 512u) /* a JSON line: every byte may become \u00XX */

void rs_log_set_level(int level)
{
    if (level < RS_LOG_ERROR)
        level = RS_LOG_ERROR;
    if (level > RS_LOG_OFF)
        level = RS_LOG_OFF;
    g_level = level;
}

int rs_log_get_level(void) { return g_level; }

int rs_log_enabled(int level) { return g_level != RS_LOG_OFF && level <= g_level; }

int rs_log_level_parse(const char *s)
{
    for (int i = 0; i <= RS_LOG_OFF; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *rs_log_level_name(int level)
{
    return level >= 0 && level <= RS_LOG_OFF ? names[level] : "info";
}

void rs_log_set_format(int format)
{
    g_format = format == RS_LOG_FORMAT_JSON ? RS_LOG_FORMAT_JSON : RS_LOG_FORMAT_TEXT;
}

int rs_log_get_format(void) { return g_format; }

int rs_log_format_parse(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(s, formats[i]) == 0)
            return i;
    return -1;
}

const char *rs_log_format_name(int format)
{
    return format == RS_LOG_FORMAT_JSON ? "json" : "text";
}

void rs_log_set_node(const char *name)
{
    snprintf(g_node, sizeof g_node, "%s", name ? name : "");
}

static size_t timestamp(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000L);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* utf8_len returns the length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b >= 0xC2 && b <= 0xDF)
        len = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        if (b == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0)
            lo = 0x90; /* overlong */
        if (b == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

size_t rs_log_json_escape(char *out, size_t cap, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char esc[8];
        const char *piece = esc;
        size_t plen, step = 1;
        unsigned char b = s[i];
        if (b == '"' || b == '\\') {
            esc[0] = '\\';
            esc[1] = (char)b;
            plen = 2;
        } else if (b < 0x20 || b == 0x7f) {
            const char *short_esc = b == '\n' ? "\\n" : b == '\r' ? "\\r" : b == '\t' ? "\\t"
                                  : b == '\b' ? "\\b" : b == '\f' ? "\\f" : NULL;
            if (short_esc) {
                piece = short_esc;
                plen = 2;
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", b);
                plen = 6;
            }
        } else if (b < 0x80) {
            esc[0] = (char)b;
            plen = 1;
        } else {
            size_t u = utf8_len(s + i, len - i);
            if (u) {
                piece = (const char *)s + i;
                plen = step = u;
            } else {
                piece = "\\ufffd";
                plen = 6;
            }
        }
        if (o + plen > cap)
            break;
        memcpy(out + o, piece, plen);
        o += plen;
        i += step;
    }
    return o;
}

static size_t append(char *buf, size_t cap, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at + n > cap)
        n = cap > at ? cap - at : 0;
    memcpy(buf + at, s, n);
    return at + n;
}

size_t rs_log_format_line(char *buf, size_t cap, int format, int level, const char *msg,
                          size_t len)
{
    char ts[96];
    timestamp(ts, sizeof ts);
    size_t n = 0;
    if (format == RS_LOG_FORMAT_JSON) {
        char head[256];
        snprintf(head, sizeof head, "{\"ts\":\"%s\",\"level\":\"%s\",\"node\":\"", ts,
                 rs_log_level_name(level));
        n = append(buf, cap, 0, head);
        n += rs_log_json_escape(buf + n, cap - n, g_node, strlen(g_node));
        snprintf(head, sizeof head, "\",\"pid\":%ld,\"msg\":\"", (long)getpid());
        n = append(buf, cap, n, head);
        /* room kept for the closing "} */
        n += rs_log_json_escape(buf + n, cap > n + 2 ? cap - n - 2 : 0, msg, len);
        return append(buf, cap, n, "\"}");
    }
    n = append(buf, cap, 0, ts);
    n = append(buf, cap, n, " ");
    n = append(buf, cap, n, rs_log_level_name(level));
    n = append(buf, cap, n, " ");
    size_t start = n;
    if (len > cap - n)
        len = cap - n;
    memcpy(buf + n, msg, len);
    n += len;
    /* Control characters (from client-supplied text) never break the one-line format. */
    for (size_t i = start; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            buf[i] = '?';
    return n;
}

static void emit(int level, const char *msg, size_t len)
{
    static __thread char buf[LINE_MAX_BYTES + 1];
    size_t n = rs_log_format_line(buf, LINE_MAX_BYTES, g_format, level, msg, len);
    buf[n++] = '\n';
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(2, buf + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

void rs_log(int level, const char *fmt, ...)
{
    if (!rs_log_enabled(level))
        return;
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = m < 0 ? 0 : (size_t)m >= sizeof msg ? sizeof msg - 1 : (size_t)m;
    emit(level, msg, len);
}

void rs_log_text(int level, const char *text, size_t len)
{
    if (!rs_log_enabled(level))
        return;
    if (len > MSG_MAX - 1)
        len = MSG_MAX - 1;
    emit(level, text, len);
}
