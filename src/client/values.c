/* values.c: pid text form (format, strict parse), pid comparison and the allocator hook. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/client.h"

char *roster_pid_format(roster_pid pid, char *buf)
{
    if (buf)
        snprintf(buf, ROSTER_PID_STRLEN, "%016" PRIx64 ".%" PRIu64, pid.node_inc, pid.serial);
    return buf;
}

int roster_pid_parse(const char *text, roster_pid *out)
{
    if (!text || !out)
        return ROSTER_EINVAL;
    uint64_t inc = 0, serial = 0;
    const char *p = text;
    for (int i = 0; i < 16; i++, p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else
            return ROSTER_EINVAL;
        inc = inc << 4 | d;
    }
    if (*p++ != '.')
        return ROSTER_EINVAL;
    const char *digits = p;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (serial > (UINT64_MAX - d) / 10)
            return ROSTER_EINVAL;
        serial = serial * 10 + d;
    }
    if (p == digits || *p != 0 || (digits[0] == '0' && p - digits > 1))
        return ROSTER_EINVAL; /* no digits, trailing bytes, or leading zeros */
    if (inc == 0 && serial == 0)
        return ROSTER_EINVAL; /* the zero pid is never valid */
    out->node_inc = inc;
    out->serial = serial;
    return 0;
}

int roster_pid_equal(roster_pid a, roster_pid b)
{
    return a.node_inc == b.node_inc && a.serial == b.serial;
}

void roster_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                          void (*free_fn)(void *))
{
    rs_alloc_set(malloc_fn, realloc_fn, free_fn);
}
