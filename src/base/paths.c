/* paths.c: default socket path (see paths.h). */
#include "base/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *rs_default_socket(char *buf, size_t cap)
{
    const char *env = getenv("ROSTER_SOCKET");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && *env)
        snprintf(buf, cap, "%s", env);
    else if (geteuid() == 0)
        snprintf(buf, cap, "/run/roster.sock");
    else if (xdg && *xdg)
        snprintf(buf, cap, "%s/roster.sock", xdg);
    else
        snprintf(buf, cap, "/tmp/roster-%u.sock", (unsigned)geteuid());
    return buf;
}
