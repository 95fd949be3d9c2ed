/* shm.c: the node's shared-memory region (docs/SHM.md): one memfd, sized once (its pages
 * cost memory only once the core writes them), mapped read-write here and given to the
 * core to publish into, then sealed so that a client can trust its size and cannot write
 * it; and the passing of its fd to a client that asked for it in HELLO, with SCM_RIGHTS on
 * the bytes of the HELLO reply. A node that cannot create the region runs without it
 * (clients use the socket). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* linux/fcntl.h, Linux 5.1 */
#endif

#include "node/conn.h"
#include "node/log.h"
#include "node/node.h"

int rsd_shm_open(struct rsd *n, size_t size)
{
    n->shm_fd = -1;
    if (size == 0)
        return 0;
    int fd = memfd_create("roster-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        rs_log(RS_LOG_WARN, "shared-memory reads off: memfd_create: %s", strerror(errno));
        return 0;
    }
    /* Mapped writable first, then sealed against any later write: a client receives this
     * very fd (read-write, as memfd_create made it), and the node follows offsets it reads
     * back from the region (chains, free lists), so a client able to write it could make
     * the node write out of bounds. F_SEAL_FUTURE_WRITE leaves the node's mapping writable
     * and refuses write(), writable shared mappings, mprotect to writable and hole punching
     * to everyone else. A kernel without it (before 5.1) runs without the region. */
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) != 0 ||
        (p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        rs_log(RS_LOG_WARN, "shared-memory reads off: %s", strerror(errno));
        close(fd);
        return 0;
    }
    if (fcntl(fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) != 0) {
        rs_log(RS_LOG_WARN,
               "shared-memory reads off: cannot seal the region against clients' writes "
               "(F_SEAL_FUTURE_WRITE, Linux 5.1): %s",
               strerror(errno));
        munmap(p, size);
        close(fd);
        return 0;
    }
    n->shm_fd = fd;
    n->shm_base = p;
    n->shm_size = size;
    return 0;
}

void rsd_shm_close(struct rsd *n)
{
    if (n->shm_base)
        munmap(n->shm_base, n->shm_size);
    if (n->shm_fd >= 0)
        close(n->shm_fd);
    n->shm_base = NULL;
    n->shm_fd = -1;
}

ssize_t rsd_send_fd(int sock, const void *p, size_t len, int fd)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    memset(&cm, 0, sizeof cm);
    struct iovec iov = {(void *)p, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        mh.msg_control = cm.b;
        mh.msg_controllen = sizeof cm.b;
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof fd);
    }
    for (;;) {
        ssize_t r = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
}

ssize_t rsd_shm_send(struct rs_conn *c, const void *p, size_t len)
{
    int sock = -1;
    if (uv_fileno((uv_handle_t *)&c->h.stream, &sock) != 0)
        return -EBADF;
    return rsd_send_fd(sock, p, len, c->node->shm_fd);
}
