/* version.c: library version and the error-code tables generated from ROSTER_ERRNO_MAP. */
#include <roster.h>

int roster_version(void) { return ROSTER_VERSION_NUMBER; }

const char *roster_strerror(int err)
{
#define X(name, value, msg) \
    case value:             \
        return msg;
    switch (err) {
        ROSTER_ERRNO_MAP(X)
    default:
        return "unknown error";
    }
#undef X
}

const char *roster_err_name(int err)
{
#define X(name, value, msg) \
    case value:             \
        return #name;
    switch (err) {
        ROSTER_ERRNO_MAP(X)
    default: /* not "EUNKNOWN": that is a real code (outcome unknown) */
        return "EOTHER";
    }
#undef X
}
