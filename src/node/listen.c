/* listen.c: the client Unix socket: refuse a path a live node answers on, replace a stale
 * one, bind (--socket-mode, default 0666; owner and group by flag), accept. Descriptor exhaustion (EMFILE/ENFILE) is absorbed by
 * libuv, which keeps a reserved descriptor to accept-and-close pending connections, so the
 * listener never spins and the refused clients see their connection closed at once; any
 * other accept error reaches on_connection and is logged at most once a second. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/access_node.h"
#include "node/conn.h"
#include "node/log.h"
#include "node/node.h"

#define BACKLOG 4096

static struct stat bound_st;

/* probe returns 1 if something accepts connections on path, 0 if not (stale), -1 on error. */
static int probe(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (r == 0)
        return 1;
    if (e == ECONNREFUSED)
        return 0;
    errno = e;
    return e == EAGAIN ? 1 : -1; /* EAGAIN: backlog full, so someone listens */
}

static void on_connection(uv_stream_t *server, int status)
{
    struct rsd *n = server->data;
    if (status < 0) {
        uint64_t now = rsd_now(n);
        if (now - n->accept_errors_logged_ms >= 1000 || n->accept_errors_logged_ms == 0) {
            n->accept_errors_logged_ms = now;
            rs_log(RS_LOG_WARN, "accept: %s (%llu open connections); pending connections are "
                   "closed until descriptors free up",
                   uv_strerror(status), (unsigned long long)n->n_conns);
        }
        return;
    }
    rs_conn_accept(n);
    rsd_perform(n);
}

int rs_listen_start(struct rsd *n, int *live)
{
    const char *path = n->cfg->socket_path;
    struct stat st;
    *live = 0;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            rs_log(RS_LOG_ERROR, "socket path %s exists and is not a socket: not touching it",
                   path);
            return -1;
        }
        int p = probe(path);
        if (p == 1) {
            *live = 1;
            rs_log(RS_LOG_ERROR, "another node is live on %s: exiting", path);
            return -1;
        }
        if (p < 0) {
            rs_log(RS_LOG_ERROR, "cannot probe %s: %s", path, strerror(errno));
            return -1;
        }
        if (unlink(path) != 0) {
            rs_log(RS_LOG_ERROR, "cannot remove stale socket %s: %s", path, strerror(errno));
            return -1;
        }
        rs_log(RS_LOG_INFO, "removed stale socket %s", path);
    }
    uv_pipe_init(&n->loop, &n->listener, 0);
    n->listener.data = n;
    n->listening = 1;
    /* Born unreachable by others (0600 until the chmod below): no connect can slip in
     * under a mode the operator did not ask for. */
    mode_t um = umask(0177);
    int r = uv_pipe_bind(&n->listener, path);
    umask(um);
    if (r < 0) {
        rs_log(RS_LOG_ERROR, "cannot bind %s: %s%s", path, uv_strerror(r),
               r == UV_ENOENT ? " (its directory must exist)" : "");
        return -1;
    }
    n->socket_bound = 1;
    if (lstat(path, &bound_st) != 0)
        memset(&bound_st, 0, sizeof bound_st);
    rsd_access_socket(n->cfg, path); /* --socket-owner, --socket-group, --socket-mode */
    r = uv_listen((uv_stream_t *)&n->listener, BACKLOG, on_connection);
    if (r < 0) {
        rs_log(RS_LOG_ERROR, "cannot listen on %s: %s", path, uv_strerror(r));
        return -1;
    }
    return 0;
}

void rs_listen_stop(struct rsd *n)
{
    if (n->listening) {
        n->listening = 0;
        uv_close((uv_handle_t *)&n->listener, NULL);
    }
    if (n->socket_bound) {
        n->socket_bound = 0;
        /* Remove the path only if it is still the socket we bound. */
        struct stat st;
        const char *path = n->cfg->socket_path;
        if (lstat(path, &st) == 0 && st.st_ino == bound_st.st_ino && st.st_dev == bound_st.st_dev)
            unlink(path);
    }
}
