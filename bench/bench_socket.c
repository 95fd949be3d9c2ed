/* bench_socket.c: figure 1, the floor. A raw 64-byte ping-pong over a Unix stream socket
 * (socketpair) between this process and a forked echo child, N round trips, measured in the
 * same run as the roster figures so that ratios compare like with like.
 *
 * The echo child plays rosterd's part and sits on rosterd's CPU; the parent plays the
 * client's and is measured on the same CPU and on the other CPU (see bench_util.h,
 * placement), because on this VM a cross-CPU wake-up dominates a round trip.
 *  - blocking: the child blocks in read() and writes the message back (the pure floor, used
 *    for the ratios);
 *  - epoll: the child waits in epoll_wait() on a non-blocking socket, as an event-loop
 *    daemon does (informational: the part of rosterd's cost that any event loop pays).
 */
#include "bench_util.h"

#include <fcntl.h>
#include <sys/epoll.h>

static void echo_epoll(int fd)
{
    char b[4096];
    int ep = epoll_create1(0);
    if (ep < 0)
        _exit(1);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        _exit(1);
    for (;;) {
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            _exit(1);
        for (;;) {
            ssize_t r = read(fd, b, sizeof b);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (r <= 0)
                _exit(0);
            size_t off = 0;
            while (off < (size_t)r) {
                ssize_t w = write(fd, b + off, (size_t)r - off);
                if (w < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                if (w <= 0)
                    _exit(0);
                off += (size_t)w;
            }
        }
    }
}

/* run_pingpong measures n round trips against an echo child (epoll or blocking) from CPU
 * placement `where`; fills lat (sorted) and returns the total time in ns. */
static uint64_t run_pingpong(int use_epoll, int where, size_t n, bu_lat *lat)
{
    bu_echo e;
    bu_echo_start(&e, use_epoll ? echo_epoll : NULL);
    bu_pin(where);
    for (size_t i = 0; i < n / 20 + 100; i++) /* warm-up */
        bu_echo_rtt(&e);
    uint64_t t0 = bu_now_ns();
    for (size_t i = 0; i < n; i++)
        bu_lat_add(lat, bu_echo_rtt(&e));
    uint64_t total = bu_now_ns() - t0;
    bu_echo_stop(&e);
    bu_lat_sort(lat);
    return total;
}

static void measure(int use_epoll, int where, size_t n, bu_lat *lat, const char *key)
{
    char label[80], k[64];
    lat->n = 0;
    uint64_t ns = run_pingpong(use_epoll, where, n, lat);
    snprintf(label, sizeof label, "%s echo, %s", use_epoll ? "epoll" : "blocking",
             bu_place_name(where));
    bu_print_lat(label, lat);
    bu_line("%-40s %10.0f round trips/s", "", bu_rate(n, ns));
    snprintf(k, sizeof k, "%s_p50_us", key);
    bu_result(k, bu_pct_us(lat, 0.50));
    snprintf(k, sizeof k, "%s_p99_us", key);
    bu_result(k, bu_pct_us(lat, 0.99));
    snprintf(k, sizeof k, "%s_mean_us", key);
    bu_result(k, bu_mean_us(lat));
    snprintf(k, sizeof k, "%s_rps", key);
    bu_result(k, bu_rate(n, ns));
}

int main(void)
{
    size_t n = bu_count(50000);
    char title[160];
    snprintf(title, sizeof title,
             "1. Floor: raw Unix-socket 64-byte ping-pong, parent <-> forked echo child "
             "(%zu round trips each)",
             n);
    bu_section(title);
    bu_result("placement_pinned", bu_pinning());

    bu_lat lat;
    bu_lat_init(&lat, n);
    measure(0, BU_SAME, n, &lat, "sock");
    measure(1, BU_SAME, n, &lat, "sock_epoll");
    if (bu_pinning())
        measure(0, BU_OTHER, n, &lat, "sockx");
    bu_lat_free(&lat);
    return 0;
}
