/* log.c: timestamped, leveled log lines on stderr (format in log.h). */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_level = RS_LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void rs_log_set_level(int level)
{
    if (level < RS_LOG_ERROR)
        level = RS_LOG_ERROR;
    if (level > RS_LOG_DEBUG)
        level = RS_LOG_DEBUG;
    g_level = level;
}

int rs_log_get_level(void) { return g_level; }

int rs_log_enabled(int level) { return level <= g_level; }

int rs_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *rs_log_level_name(int level)
{
    return level >= 0 && level < 4 ? names[level] : "info";
}

static size_t prefix(char *buf, size_t cap, int level)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000L, rs_log_level_name(level));
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static void emit(char *buf, size_t len)
{
    /* Control characters (from client-supplied text) never break the one-line format. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            buf[i] = '?';
    buf[len++] = '\n';
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(2, buf + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

void rs_log(int level, const char *fmt, ...)
{
    if (!rs_log_enabled(level))
        return;
    char buf[2048];
    size_t n = prefix(buf, sizeof buf - 1, level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - 1 - n, fmt, ap);
    va_end(ap);
    if (m > 0)
        n += (size_t)m < sizeof buf - 1 - n ? (size_t)m : sizeof buf - 2 - n;
    emit(buf, n);
}

void rs_log_text(int level, const char *text, size_t len)
{
    if (!rs_log_enabled(level))
        return;
    char buf[2048];
    size_t n = prefix(buf, sizeof buf - 1, level);
    if (len > sizeof buf - 1 - n)
        len = sizeof buf - 1 - n;
    memcpy(buf + n, text, len);
    emit(buf, n + len);
}
