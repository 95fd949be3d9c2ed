/* sdnotify.c: READY=1 and the watchdog pings for systemd (sdnotify.h). libsystemd's
 * sd_notify does the socket work (abstract and path sockets, credentials), so this file
 * only decides when. */
#include <systemd/sd-daemon.h>
#include <string.h>

#include "node/log.h"
#include "node/sdnotify.h"

static uv_timer_t watchdog;

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

void rsd_sdnotify_ready(uv_loop_t *loop)
{
    int r = sd_notify(0, "READY=1\nSTATUS=serving clients");
    if (r < 0)
        rs_log(RS_LOG_WARN, "sd_notify READY=1: %s", strerror(-r));
    else if (r > 0)
        rs_log(RS_LOG_DEBUG, "told the service manager READY=1");
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    /* Half the interval, as sd_watchdog_enabled(3) advises; at least 1 ms. */
    uint64_t every = usec / 2000;
    if (every == 0)
        every = 1;
    uv_timer_init(loop, &watchdog);
    uv_timer_start(&watchdog, on_watchdog, 0, every);
    uv_unref((uv_handle_t *)&watchdog);
    rs_log(RS_LOG_INFO, "systemd watchdog: WATCHDOG=1 every %llu ms", (unsigned long long)every);
}
