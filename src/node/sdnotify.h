/* sdnotify.h: systemd's readiness and watchdog protocol (Type=notify units,
 * packaging/systemd/rosterd.service), kept out of the rest of the shell. */
#ifndef ROSTER_NODE_SDNOTIFY_H
#define ROSTER_NODE_SDNOTIFY_H

#include <uv.h>

/* rsd_sdnotify_ready tells the service manager the node is serving (READY=1, with its pid)
 * and, when the manager asked for a watchdog (WATCHDOG_USEC for this pid), starts a timer on
 * LOOP that sends WATCHDOG=1 at half the interval: a loop that stops turning stops the
 * pings. The timer is unreferenced, so it never keeps a stopping loop alive. Without
 * NOTIFY_SOCKET it does nothing. Call once, on the loop thread, after the client socket
 * listens. */
void rsd_sdnotify_ready(uv_loop_t *loop);

#endif
