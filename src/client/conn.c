/* conn.c: connecting to the node (socket, versioned HELLO handshake), closing, the client's
 * accessors and error detail. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/paths.h"
#include "client/client.h"
#include "wire/chan.h"

int rs_client_fail(roster_client *c, int err, const char *fmt, ...)
{
    if (c) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->detail, sizeof c->detail, fmt, ap);
        va_end(ap);
    }
    return err;
}

void rs_client_lose(roster_client *c, int err, const char *fmt, ...)
{
    if (c->dead)
        return;
    c->dead = 1;
    c->dead_err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

void roster_options_init(roster_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->timeout_ms = 5000;
}

const char *roster_default_socket(char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return buf;
    return rs_default_socket(buf, cap);
}

const char *rs_client_errstr(int e, char *buf, size_t cap)
{
    /* GNU strerror_r (the build defines _GNU_SOURCE): may return a static string or buf. */
    return strerror_r(e, buf, cap);
}

static void client_free(roster_client *c)
{
    rs_client_chan_reset(c);
    roster_buf_free(&c->ccall_reply);
    if (c->sock >= 0)
        close(c->sock);
    if (c->epfd >= 0)
        close(c->epfd);
    if (c->evfd >= 0)
        close(c->evfd);
    if (c->tfd >= 0)
        close(c->tfd);
    rs_client_shm_unmap(c);
    rs_client_keep_free(c);
    rs_free(c->sock_path);
    rs_free(c->client_name);
    rs_buf_fini(&c->out);
    rs_wire_reader_fini(&c->in);
    rs_buf_fini(&c->evq);
    rs_free(c->ovf);
    rs_free(c);
}

/* open_socket connects a non-blocking Unix stream socket to path within the deadline. */
static int open_socket(roster_client *c, const char *path, int64_t deadline)
{
    char eb[128];
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof sa.sun_path)
        return rs_client_fail(c, ROSTER_EINVAL, "socket path is empty or longer than %zu bytes",
                              sizeof sa.sun_path - 1);
    memcpy(sa.sun_path, path, n + 1);
    c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->sock < 0)
        return rs_client_fail(c, ROSTER_ECONNECT, "socket: %s",
                              rs_client_errstr(errno, eb, sizeof eb));
    for (;;) {
        if (connect(c->sock, (struct sockaddr *)&sa, sizeof sa) == 0)
            return 0;
        int e = errno;
        if (e == EINTR)
            continue;
        if (e != EAGAIN) {
            rs_client_fail(c, ROSTER_ECONNECT, "%s: %s", path, rs_client_errstr(e, eb, sizeof eb));
            errno = e;
            return ROSTER_ECONNECT;
        }
        /* The node's listen backlog is full: retry until the deadline. */
        int64_t now = rs_client_now_ms();
        if (deadline >= 0 && now >= deadline)
            return rs_client_fail(c, ROSTER_ETIMEDOUT, "%s: connect timed out", path);
        poll(NULL, 0, 5);
    }
}

static int hello_done(roster_client *c, void *arg)
{
    (void)c;
    return ((struct rs_req *)arg)->done;
}

/* take_hello reads an accepted HELLO reply: the node's limits, the client's first pid. */
static int take_hello(roster_client *c, const struct rs_msg *r)
{
    uint32_t frame_max, meta_max, message_max = 0;
    rs_msg_hello_reply_limits(r, &frame_max, &meta_max);
    uint32_t name_max = rs_msg_hello_reply_name_max(r);
    struct rs_pid first = rs_msg_hello_reply_pid(r);
    if (frame_max < RS_FRAME_HEADER || frame_max > RS_FRAME_MAX_CEILING || name_max == 0 ||
        first.inc == 0 || rs_msg_hello_reply_message_max(r, &message_max) != 0)
        return rs_client_fail(c, ROSTER_EPROTO,
                              "bad handshake answer (frame_max %u, limits block of %u bytes)",
                              frame_max, (unsigned)rs_msg_hello_reply_prev(r).len);
    c->frame_max = frame_max;
    c->meta_max = meta_max;
    c->name_max = name_max;
    /* a message must also fit a frame: the smaller limit applies */
    c->msg_max = message_max > 0 && message_max < frame_max ? message_max : frame_max;
    c->dec.frame_max = frame_max;
    c->in.frame_max = frame_max;
    c->node_inc = rs_msg_hello_reply_incarnation(r);
    c->self.node_inc = first.inc;
    c->self.serial = first.serial;
    rs_client_copy_str(c->node_name, sizeof c->node_name, rs_msg_hello_reply_node(r));
    c->detail[0] = 0;
    return 0;
}

/* handshake sends HELLO and takes its answer: the node's limits (the limits block in PREV,
 * kept by want_prev) and the client's first pid. */
static int handshake(roster_client *c, const char *client_name, int64_t deadline)
{
    struct rs_msg m;
    memset(&m, 0, sizeof m);
    m.type = RS_MSG_HELLO;
    rs_msg_hello_version_set(&m, RS_WIRE_VERSION | (c->shm_want ? RS_HELLO_WANT_SHM : 0) |
                                     (c->chan_want ? RS_HELLO_WANT_CHAN : 0));
    rs_msg_hello_magic_set(&m, RS_WIRE_MAGIC);
    size_t nl = client_name ? strlen(client_name) : 0;
    rs_msg_hello_client_name_set(&m, rs_bytes_of(client_name, nl > 255 ? 255 : nl));
    struct rs_req req;
    memset(&req, 0, sizeof req);
    req.want_prev = 1;
    m.req_id = req.req_id = c->next_id++;
    if (rs_wire_encode(&c->out, &m) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
    c->req = &req;
    int r = rs_client_wait(c, hello_done, &req, deadline);
    c->req = NULL;
    if (r == ROSTER_ETIMEDOUT)
        r = rs_client_fail(c, r, "no handshake answer from the node in time");
    else if (r == 0 && req.err)
        r = rs_client_fail(c, req.err, "out of memory for the handshake answer");
    else if (r == 0 && req.status)
        r = req.status < 0 ? req.status : ROSTER_EPROTO; /* detail: the node's reason */
    else if (r == 0) {
        struct rs_msg rep = rs_req_reply(&req);
        r = take_hello(c, &rep);
    }
    if (r == 0)
        rs_client_shm_map(c);
    roster_buf_free(&req.prev);
    return r;
}

/* epoll_add makes roster_fd's epoll instance watch fd for input. */
static int epoll_add(roster_client *c, int fd)
{
    char eb[128];
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "epoll_ctl: %s",
                              rs_client_errstr(errno, eb, sizeof eb));
    return 0;
}

static int setup_fds(roster_client *c)
{
    char eb[128];
    c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->evfd < 0 || c->epfd < 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "eventfd/epoll: %s",
                              rs_client_errstr(errno, eb, sizeof eb));
    int r = epoll_add(c, c->sock);
    return r ? r : epoll_add(c, c->evfd);
}

static roster_client *client_new(void)
{
    roster_client *c = rs_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sock = c->epfd = c->evfd = c->shm_fd = c->tfd = -1;
    c->next_id = 1;
    c->next_async = 1;
    c->dec.frame_max = RS_FRAME_MAX_CEILING;
    c->frame_max = RS_FRAME_MAX_CEILING;
    rs_buf_init(&c->out);
    rs_wire_reader_init(&c->in, RS_FRAME_MAX_CEILING, RS_CLIENT_IN_KEEP);
    rs_buf_init(&c->evq);
    c->evq_max = RS_CLIENT_EVQ_DEFAULT;
    return c;
}

/* finish_connect turns a failed handshake into the caller's error and frees c, or hands c
 * out. */
static int finish_connect(roster_client *c, int r, int saved_errno, roster_client **out)
{
    if (r == ROSTER_ECLOSED && c->dead_err == ROSTER_ECLOSED) {
        r = ROSTER_ECONNECT; /* closed during the handshake: the node did not take us */
        saved_errno = ECONNRESET;
    }
    if (r != 0) {
        client_free(c);
        errno = saved_errno;
        return r;
    }
    *out = c;
    return 0;
}

int rs_client_open_fd(roster_client **out, int fd, const char *client_name, int timeout_ms)
{
    *out = NULL;
    roster_client *c = client_new();
    if (!c) {
        close(fd);
        return ROSTER_ENOMEM;
    }
    c->sock = fd;
    int r = setup_fds(c);
    if (r == 0)
        r = handshake(c, client_name, rs_client_deadline(timeout_ms));
    return finish_connect(c, r, errno, out);
}

int roster_connect(roster_client **out, const roster_options *opts)
{
    if (!out)
        return ROSTER_EINVAL;
    *out = NULL;
    roster_options defaults;
    roster_options_init(&defaults);
    if (!opts)
        opts = &defaults;
    roster_client *c = client_new();
    if (!c)
        return ROSTER_ENOMEM;
    if (opts->event_queue_bytes)
        c->evq_max = opts->event_queue_bytes;
    c->group_messages = opts->group_messages != 0;
    c->drop_messages = opts->drop_messages != 0;
    c->close_ms = opts->timeout_ms;
    char path[512];
    const char *sp = opts->socket_path;
    if (!sp || !*sp)
        sp = rs_default_socket(path, sizeof path);
    int64_t deadline = rs_client_deadline(opts->timeout_ms);
    int r = open_socket(c, sp, deadline);
    int saved = errno;
    if (r == 0)
        r = setup_fds(c);
    rs_client_shm_want(c, opts);
    {
        const char *env = getenv("ROSTER_NO_CHANNELS");
        c->chan_want = !opts->no_channels && !(env && *env && strcmp(env, "0") != 0);
    }
    if (r == 0)
        r = handshake(c, opts->client_name, deadline);
    if (r == 0 && opts->reconnect)
        r = rs_client_recon_setup(c, sp, opts);
    return finish_connect(c, r, saved, out);
}

static char *dup_str(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *d = rs_malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

int rs_client_recon_setup(roster_client *c, const char *path, const roster_options *opts)
{
    char eb[128];
    c->recon = 1;
    c->recon_max_ms = opts->reconnect_max_ms > 0 ? opts->reconnect_max_ms : 2000;
    c->connect_timeout_ms = opts->timeout_ms;
    c->sock_path = dup_str(path);
    c->client_name = dup_str(opts->client_name);
    if (!c->sock_path || !c->client_name || rs_client_keep_add_pid(c, c->self) != 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
    /* the timer wakes a poller of roster_fd when the next attempt is due */
    c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (c->tfd < 0)
        return rs_client_fail(c, ROSTER_ENOMEM, "timerfd: %s",
                              rs_client_errstr(errno, eb, sizeof eb));
    return epoll_add(c, c->tfd);
}

void rs_client_drop_socket(roster_client *c)
{
    rs_client_chan_reset(c); /* channels come from the connection to the node */
    if (c->sock >= 0) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sock, NULL);
        close(c->sock);
        c->sock = -1;
    }
}

int rs_client_redial(roster_client *c, int64_t deadline)
{
    rs_client_drop_socket(c);
    rs_client_shm_unmap(c);
    c->shm_known_n = c->shm_known_next = 0;
    c->shm_last_len = 0; /* a record of the old region */
    /* what was in flight belonged to the old connection: unsent requests and partial
     * frames go; the events already queued stay for the application */
    c->out.len = c->out_off = 0;
    rs_wire_reader_fini(&c->in);
    rs_wire_reader_init(&c->in, RS_FRAME_MAX_CEILING, RS_CLIENT_IN_KEEP);
    c->dec.frame_max = RS_FRAME_MAX_CEILING;
    c->req = NULL;
    c->batch = NULL;
    c->batch_n = c->batch_done = 0;
    c->async_pending = 0;
    c->n_ovf = 0;
    c->dead = 0;
    c->dead_err = 0;
    int r = open_socket(c, c->sock_path, deadline);
    if (r == 0)
        r = epoll_add(c, c->sock);
    if (r == 0)
        r = handshake(c, c->client_name, deadline);
    if (r != 0) {
        if (!c->dead)
            rs_client_lose(c, r, "%s", c->detail);
        rs_client_drop_socket(c);
    }
    return r;
}

void roster_close(roster_client *c)
{
    if (!c)
        return;
    if (!c->dead && c->n_chans) {
        /* messages queued on channels: what the peers have not taken goes to the node */
        if (!rs_client_chan_out_empty(c))
            c->posted = 1;
        rs_client_chan_handover(c);
    }
    if (!c->dead && c->posted) {
        /* Pipelined messages are the caller's sends: they must reach the node before the
         * pids die. Written is not enough: a node that is slowing us (flow control) has
         * them unread in the socket, and a write of its own that fails on the closed
         * socket would make it drop them. A ping answered means it has read and routed
         * everything before it (up to the client's timeout). */
        roster_ping(c, c->close_ms);
    } else if (!c->dead && c->out.len > c->out_off) {
        rs_client_write(c); /* best effort: queued pipelined requests */
    }
    client_free(c);
}

const char *roster_errdetail(const roster_client *c) { return c ? c->detail : ""; }

roster_pid roster_self(const roster_client *c)
{
    roster_pid zero = {0, 0};
    return c ? c->self : zero;
}

const char *roster_node_name(const roster_client *c) { return c ? c->node_name : ""; }

uint64_t roster_node_incarnation(const roster_client *c) { return c ? c->node_inc : 0; }

int roster_fd(roster_client *c)
{
    if (!c)
        return -1;
    /* From now on the eventfd follows the queue. */
    if (!c->fd_used) {
        c->fd_used = 1;
        rs_client_evq_sync(c);
    }
    return c->epfd;
}
