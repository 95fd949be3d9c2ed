/* paths.h: the default client socket path, shared by rosterd and libroster so they agree. */
#ifndef ROSTER_BASE_PATHS_H
#define ROSTER_BASE_PATHS_H

#include <stddef.h>

/* rs_default_socket writes the default socket path into buf: $ROSTER_SOCKET if set, else
 * /run/roster.sock for root, else $XDG_RUNTIME_DIR/roster.sock, else /tmp/roster-UID.sock.
 * Returns buf. */
const char *rs_default_socket(char *buf, size_t cap);

#endif
