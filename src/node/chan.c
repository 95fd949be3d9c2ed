/* chan.c: the shell's part of direct channels (docs/MESSAGING.md, "Direct channels"). The
 * core decides a channel and emits RS_OUT_CHANNEL_FD for each of the two clients, each
 * right before the CHANNEL frame that announces it; here the pair is made (socketpair) and
 * each end is queued on its conn at the stream position of that frame, then written with
 * the frame's first byte (SCM_RIGHTS), so the library pairs ends and frames in order. The
 * send buffers are raised to 4 MiB (the kernel caps them at net.core.wmem_max): what a
 * channel holds before its sender turns to the node. If
 * the socket is full exactly there, a 2 ms timer tries again (nothing after the end is
 * written before it: order). If no pair can be made (out of fds), both clients get an fd
 * of /dev/null instead, opened at the first channel: not a socket, so each library gives
 * the channel up and asks the node to close it, and their messages stay relayed. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "core/core.h"
#include "node/conn.h"
#include "node/log.h"
#include "node/node.h"

struct rsd_chan_end {
    uint64_t pos; /* absolute position in the conn's output stream */
    int fd;
};

struct rsd_chan {
    uv_timer_t retry;
    int timer_on;
    int null_fd;
    uint64_t spare_id; /* the pair's second end, for the level-1 output */
    int spare_fd;
};

static struct rsd_chan *state(struct rsd *n)
{
    if (n->chan)
        return n->chan;
    struct rsd_chan *s = rs_malloc(sizeof *s);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->spare_fd = -1;
    s->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    uv_timer_init(&n->loop, &s->retry);
    s->retry.data = n;
    n->chan = s;
    return s;
}

static void queue_end(struct rs_conn *c, int fd)
{
    if (c->n_ends == c->cap_ends) {
        uint32_t cap = c->cap_ends ? c->cap_ends * 2 : 4;
        struct rsd_chan_end *v = rs_realloc(c->ends, cap * sizeof *v);
        if (!v) {
            close(fd); /* the library finds no end for the frame: it gives the channel up */
            return;
        }
        c->ends = v;
        c->cap_ends = cap;
    }
    c->ends[c->n_ends].pos = c->out_total; /* the CHANNEL frame's first byte comes next */
    c->ends[c->n_ends++].fd = fd;
}

void rsd_chan_fd(struct rsd *n, const struct rs_output *out)
{
    struct rsd_chan *s = state(n);
    if (!s)
        return;
    int fd = -1;
    if (out->level == 0) {
        if (s->spare_fd >= 0)
            close(s->spare_fd);
        s->spare_fd = -1;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
            int big = 4 << 20;
            setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
            setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
            fd = sv[0];
            s->spare_fd = sv[1];
            s->spare_id = out->kv_id;
        } else {
            rs_log(RS_LOG_WARN, "channel %llu: socketpair: %s: the two clients stay relayed",
                   (unsigned long long)out->kv_id, strerror(errno));
        }
    } else if (s->spare_fd >= 0 && s->spare_id == out->kv_id) {
        fd = s->spare_fd;
        s->spare_fd = -1;
    }
    if (fd < 0 && s->null_fd >= 0)
        fd = dup(s->null_fd) ; /* a placeholder the library recognises (not a socket) */
    struct rs_conn *c = rs_conn_find(n, out->conn);
    if (!c || c->closing || fd < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    queue_end(c, fd);
}

static void on_retry(uv_timer_t *t)
{
    struct rsd *n = t->data;
    if (!n->chan)
        return;
    n->chan->timer_on = 0;
    for (struct rs_link *l = n->all.next; l != &n->all; l = l->next) {
        struct rs_conn *c = RS_CONTAINER(l, struct rs_conn, all_link);
        if (c->n_ends && !rs_linked(&c->dirty_link))
            rs_list_push(&n->dirty, &c->dirty_link);
    }
    rsd_perform(n);
}

int rsd_chan_write(struct rs_conn *c, size_t *done, size_t *limit)
{
    size_t len = c->out.len;
    uint64_t base = c->out_total - len; /* stream position of out.data[0] */
    while (c->n_ends) {
        uint64_t at = c->ends[0].pos;
        if (at < base + *done) { /* cannot happen: its byte went without it */
            close(c->ends[0].fd);
            memmove(c->ends, c->ends + 1, --c->n_ends * sizeof *c->ends);
            continue;
        }
        if (at >= base + len) {
            *limit = len;
            return 0;
        }
        if (at > base + *done) {
            *limit = (size_t)(at - base);
            return 0;
        }
        size_t end = len;
        if (c->n_ends > 1 && c->ends[1].pos < base + len)
            end = (size_t)(c->ends[1].pos - base);
        int sock = -1;
        if (uv_fileno((uv_handle_t *)&c->h.stream, &sock) != 0)
            return -EBADF;
        ssize_t r = rsd_send_fd(sock, c->out.data + *done, end - *done, c->ends[0].fd);
        if (r < 0)
            return (int)r;
        if (r == 0) {
            struct rsd_chan *s = c->node->chan;
            if (s && !s->timer_on) {
                s->timer_on = 1;
                uv_timer_start(&s->retry, on_retry, 2, 0);
            }
            *limit = *done;
            return 1;
        }
        close(c->ends[0].fd); /* the client has its own now */
        memmove(c->ends, c->ends + 1, --c->n_ends * sizeof *c->ends);
        *done += (size_t)r;
    }
    *limit = len;
    return 0;
}

void rsd_chan_conn_fini(struct rs_conn *c)
{
    for (uint32_t i = 0; i < c->n_ends; i++)
        close(c->ends[i].fd);
    rs_free(c->ends);
    c->ends = NULL;
    c->n_ends = c->cap_ends = 0;
}

static void free_state(uv_handle_t *h) { rs_free(RS_CONTAINER(h, struct rsd_chan, retry)); }

void rsd_chan_fini(struct rsd *n)
{
    struct rsd_chan *s = n->chan;
    if (!s)
        return;
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    if (s->null_fd >= 0)
        close(s->null_fd);
    n->chan = NULL;
    uv_timer_stop(&s->retry);
    uv_close((uv_handle_t *)&s->retry, free_state); /* freed once the loop let it go */
}
