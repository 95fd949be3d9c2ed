/* rawclient.c: raw-frame test client (see rawclient.h). */
#include "rawclient.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/limits.h"
#include "test.h"

int rc_connect(struct rawclient *rc, const char *path)
{
    memset(rc, 0, sizeof *rc);
    rs_wire_reader_init(&rc->in, RS_FRAME_MAX_CEILING, 65536);
    rc->next_req = 1;
    rc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rc->fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(rc->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(rc->fd);
        rc->fd = -1;
        errno = e;
        return -1;
    }
    return 0;
}

void rc_close(struct rawclient *rc)
{
    if (rc->fd >= 0)
        close(rc->fd);
    rc->fd = -1;
    rs_wire_reader_fini(&rc->in);
}

int rc_send_raw(struct rawclient *rc, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t w = send(rc->fd, b, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

uint32_t rc_send(struct rawclient *rc, struct rs_msg *msg)
{
    if (msg->req_id == 0 && msg->type != RS_MSG_EVENT)
        msg->req_id = rc->next_req++;
    struct rs_buf b;
    rs_buf_init(&b);
    if (rs_wire_encode(&b, msg) != 0)
        test_fail(__FILE__, __LINE__, "encode failed (type %u)", msg->type);
    int r = rc_send_raw(rc, b.data, b.len);
    rs_buf_fini(&b);
    return r == 0 ? msg->req_id : 0;
}

/* wait_readable waits until rc's socket is readable (1) or the deadline passes (0). */
static int wait_readable(struct rawclient *rc, uint64_t deadline)
{
    for (;;) {
        uint64_t now = test_now_ms();
        if (now >= deadline)
            return 0;
        struct pollfd pfd = {rc->fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR)
            continue;
        return pr > 0;
    }
}

int rc_recv(struct rawclient *rc, struct rs_msg *msg, int timeout_ms)
{
    static const struct rs_limits lim = {.frame_max = RS_FRAME_MAX_CEILING};
    uint64_t deadline = test_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        const uint8_t *f;
        size_t flen;
        int r = rs_wire_reader_next(&rc->in, &f, &flen);
        if (r == RS_WIRE_OK)
            return rs_wire_decode(f, flen, &lim, msg) == RS_WIRE_OK ? 1 : -1;
        if (r != RS_WIRE_NEED_MORE)
            return -1;
        if (!wait_readable(rc, deadline))
            return 0;
        uint8_t *room;
        size_t cap;
        if (rs_wire_reader_room(&rc->in, 65536, &room, &cap) != 0)
            return -1;
        ssize_t got = recv(rc->fd, room, cap, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        rs_wire_reader_commit(&rc->in, (size_t)got);
    }
}

int32_t rc_call(struct rawclient *rc, struct rs_msg *msg, struct rs_msg *reply, int timeout_ms)
{
    msg->req_id = 0;
    uint32_t id = rc_send(rc, msg);
    if (!id)
        return INT32_MIN;
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    struct rs_msg m;
    for (;;) {
        uint64_t now = test_now_ms();
        if (now >= deadline)
            return INT32_MIN;
        int r = rc_recv(rc, &m, (int)(deadline - now));
        if (r <= 0)
            return INT32_MIN;
        if (m.req_id == id && m.flags == RS_F_REPLY) {
            if (reply)
                *reply = m;
            return m.status;
        }
    }
}

int32_t rc_hello(struct rawclient *rc, uint32_t version, struct rs_msg *reply)
{
    struct rs_msg m = {.type = RS_MSG_HELLO, .opts = version, .arg = RS_WIRE_MAGIC};
    m.key = rs_bytes_str("rawclient");
    struct rs_msg r;
    int32_t st = rc_call(rc, &m, &r, 5000);
    if (st == 0) {
        rc->pid = r.pid;
        rc->node_inc = r.arg;
    }
    if (reply)
        *reply = r;
    return st;
}

int32_t rc_register(struct rawclient *rc, const char *name, size_t name_len, const void *meta,
                    size_t meta_len)
{
    struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = rc->pid};
    m.scope = rs_bytes_str("default");
    m.key = rs_bytes_of(name, name_len);
    m.meta = rs_bytes_of(meta, meta_len);
    return rc_call(rc, &m, NULL, 5000);
}

int32_t rc_lookup(struct rawclient *rc, const char *name, struct rs_pid *pid)
{
    struct rs_msg m = {.type = RS_MSG_LOOKUP};
    m.scope = rs_bytes_str("default");
    m.key = rs_bytes_str(name);
    struct rs_msg r;
    int32_t st = rc_call(rc, &m, &r, 5000);
    if (st == 0 && pid)
        *pid = r.pid;
    return st;
}

int64_t rc_count_names(struct rawclient *rc)
{
    struct rs_msg m = {.type = RS_MSG_COUNT};
    m.scope = rs_bytes_str("default");
    m.req_id = rc->next_req++;
    if (!rc_send(rc, &m))
        return -1;
    int64_t names = -1;
    uint64_t deadline = test_now_ms() + 5000;
    struct rs_msg r;
    while (test_now_ms() < deadline) {
        if (rc_recv(rc, &r, (int)(deadline - test_now_ms())) <= 0)
            return -1;
        if (r.req_id != m.req_id)
            continue;
        if (r.flags == RS_F_ITEM && r.key.len == 5 && memcmp(r.key.ptr, "names", 5) == 0)
            names = (int64_t)r.arg;
        if (r.flags == RS_F_REPLY)
            return r.status == 0 ? names : -1;
    }
    return -1;
}

int rc_wait_closed(struct rawclient *rc, int timeout_ms)
{
    uint64_t deadline = test_now_ms() + (uint64_t)timeout_ms;
    char tmp[65536];
    for (;;) {
        if (!wait_readable(rc, deadline))
            return 0;
        ssize_t got = recv(rc->fd, tmp, sizeof tmp, 0);
        if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return 1;
    }
}
