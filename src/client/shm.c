/* shm.c: libroster's reads from the node's shared-memory region (docs/SHM.md). At connect
 * the client asks for the region in HELLO; the node sends the region's memfd with the HELLO
 * reply (SCM_RIGHTS), which is why the handshake reads with recvmsg. The region is mapped
 * read-only; lookup, members, count and is-member then read it without a system call
 * (wire/shm_read.c), and fall back to the socket whenever the region cannot answer: no
 * region (ROSTER_NO_SHM=1, roster_options.no_shm, rosterd --no-shm), a scope it does not
 * hold (strong scopes, unknown scopes), a node filter, a region given up or corrupt, or
 * requests of this client still unanswered (its own writes must be visible to its reads).
 *
 * The region is mapped lazily: a client's first read of a scope goes over the socket, whose
 * answer says the scope's mode (revision 0: eventual); only a read of a scope known to be
 * eventual maps the region (once). A client that only uses strong scopes, or only writes,
 * never maps it: a mapping costs a system call at connect and at close, and page faults on
 * first reads, which a short-lived or strong-only client would pay for nothing. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"

void rs_client_shm_want(roster_client *c, const roster_options *opts)
{
    const char *env = getenv("ROSTER_NO_SHM");
    c->shm_want = !(opts && opts->no_shm) && !(env && *env && strcmp(env, "0") != 0);
}

ssize_t rs_client_recv(roster_client *c, void *room, size_t cap)
{
    if ((!c->shm_want || c->shm_fd >= 0) && !c->chan_want)
        return recv(c->sock, room, cap, MSG_DONTWAIT);
    /* channel ends (chan.c) ride with CHANNEL frames: room for a few, one per frame */
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(4 * sizeof(int))];
    } cm;
    struct iovec iov = {room, cap};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
                        .msg_controllen = sizeof cm.b};
    ssize_t n = recvmsg(c->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return n;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
            if (c->shm_want && c->shm_fd < 0)
                c->shm_fd = fd; /* the handshake's: the region */
            else
                rs_client_chan_take_fd(c, fd);
        }
    }
    return n;
}

void rs_client_shm_map(roster_client *c)
{
    c->shm_want = 0; /* the handshake is over: plain recv from now on; the fd waits */
}

/* map_now maps the region's fd (once) and closes it: 0 if the region is mapped. */
static int map_now(roster_client *c)
{
    if (c->shm.base)
        return 0;
    if (c->shm_fd < 0)
        return -1;
    struct stat st;
    if (fstat(c->shm_fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= RS_SHM_MAX_SIZE) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, c->shm_fd, 0);
        if (p != MAP_FAILED) {
            c->shm.base = p;
            c->shm.size = (size_t)st.st_size;
            if (rs_shm_view_check(&c->shm) != 0) {
                munmap(p, c->shm.size);
                memset(&c->shm, 0, sizeof c->shm);
            }
        }
    }
    close(c->shm_fd); /* the mapping keeps the region */
    c->shm_fd = -1;
    return c->shm.base ? 0 : -1;
}

void rs_client_shm_saw(roster_client *c, const char *scope, uint64_t revision)
{
    if (revision != 0 || (!c->shm.base && c->shm_fd < 0))
        return;
    if (!scope)
        scope = "default";
    size_t n = strlen(scope);
    if (n > RS_SCOPE_MAX)
        return;
    for (unsigned i = 0; i < c->shm_known_n; i++)
        if (strcmp(c->shm_known[i], scope) == 0)
            return;
    unsigned at = c->shm_known_n < RS_CLIENT_SHM_SCOPES ? c->shm_known_n++
                                                       : c->shm_known_next++ % RS_CLIENT_SHM_SCOPES;
    memcpy(c->shm_known[at], scope, n + 1);
}

void rs_client_shm_unmap(roster_client *c)
{
    if (c->shm_fd >= 0)
        close(c->shm_fd);
    c->shm_fd = -1;
    if (c->shm.base)
        munmap((void *)c->shm.base, c->shm.size);
    memset(&c->shm, 0, sizeof c->shm);
    c->shm_last_id = 0; /* a record of that region */
    rs_shm_bytes_fini(&c->shm_meta);
    rs_shm_members_fini(&c->shm_members);
}

int roster_uses_shm(const roster_client *c) { return c && (c->shm.base || c->shm_fd >= 0); }

/* usable says whether a read may go to the region: the client has it, the connection is
 * alive, and nothing of this client still waits to be written or answered. */
static int usable(roster_client *c)
{
    return (c->shm.base || c->shm_fd >= 0) && !c->dead && !c->req && c->async_pending == 0 &&
           c->out.len == c->out_off;
}

/* scope_of finds scope in the region, if the scope is known to be eventual (mapping the
 * region on the first such read). The last scope found is remembered with its record's
 * offset: a program reading one scope pays one string compare and one load per read. */
static int scope_of(roster_client *c, const char *scope, struct rs_shm_scope_info *si)
{
    if (!scope)
        scope = "default";
    if (c->shm_last_id && c->shm.base && strcmp(c->shm_last, scope) == 0) {
        int r = rs_shm_scope_at(&c->shm, c->shm_last_off, c->shm_last_id, c->shm_last,
                                c->shm_last_len, si);
        if (r == RS_SHM_FOUND)
            return si->mode == ROSTER_SCOPE_EVENTUAL;
        c->shm_last_id = 0; /* gone or given up: search again (or use the socket) */
        if (r == RS_SHM_UNAVAIL)
            return 0;
    }
    struct rs_bytes s;
    if (rs_client_check_scope(c, scope, &s) != 0)
        return 0;
    int known = 0;
    for (unsigned i = 0; i < c->shm_known_n && !known; i++)
        known = strlen(c->shm_known[i]) == s.len && memcmp(c->shm_known[i], s.ptr, s.len) == 0;
    if (!known || map_now(c) != 0)
        return 0;
    if (rs_shm_find_scope(&c->shm, (const char *)s.ptr, s.len, si) != RS_SHM_FOUND ||
        si->mode != ROSTER_SCOPE_EVENTUAL)
        return 0;
    memcpy(c->shm_last, s.ptr, s.len);
    c->shm_last[s.len] = 0;
    c->shm_last_len = s.len;
    c->shm_last_id = si->id;
    c->shm_last_off = si->off;
    return 1;
}

int rs_client_shm_lookup_into(roster_client *c, const char *scope, const void *name,
                              size_t name_len, roster_found *out, void *meta, size_t meta_cap,
                              int *rc)
{
    struct rs_shm_scope_info si;
    if (!usable(c) || !name || name_len == 0 || name_len > c->name_max ||
        !scope_of(c, scope, &si))
        return 0;
    size_t ml = 0;
    int r = rs_shm_lookup_into(&c->shm, si.id, name, name_len, &out->pid.node_inc,
                               &out->pid.serial, &out->token, meta, meta_cap, &ml);
    if (r == RS_SHM_ABSENT) {
        *rc = rs_client_fail(c, ROSTER_ENOTFOUND, "name not registered");
        return 1;
    }
    if (r != RS_SHM_FOUND)
        return 0;
    out->meta_len = ml;
    out->revision = 0;
    *rc = 0;
    return 1;
}

/* roster_pid is two u64 (inc, serial): the region reader writes the pairs in place. */
_Static_assert(sizeof(roster_pid) == 16 && offsetof(roster_pid, serial) == 8,
               "roster_pid is (node_inc, serial), 16 bytes");

int rs_client_shm_member_pids(roster_client *c, const char *scope, const void *group,
                              size_t group_len, int local_only, roster_pid *pids, size_t cap,
                              size_t *n, int *rc)
{
    struct rs_shm_scope_info si;
    if (!usable(c) || !group || group_len == 0 || group_len > c->name_max ||
        !scope_of(c, scope, &si))
        return 0;
    int r = rs_shm_member_pids(&c->shm, si.id, group, group_len,
                               local_only ? c->self.node_inc : 0, (uint64_t *)(void *)pids,
                               cap, n);
    if (r != RS_SHM_FOUND && r != RS_SHM_ABSENT)
        return 0;
    *rc = 0;
    return 1;
}

int rs_client_shm_lookup(roster_client *c, const char *scope, const void *name, size_t name_len,
                         roster_entry *out, int *rc)
{
    struct rs_shm_scope_info si;
    if (!usable(c) || !name || name_len == 0 || name_len > c->name_max ||
        !scope_of(c, scope, &si))
        return 0;
    struct rs_shm_pid p;
    int r = rs_shm_lookup(&c->shm, si.id, name, name_len, &p, &c->shm_meta);
    if (r == RS_SHM_ABSENT) {
        *rc = rs_client_fail(c, ROSTER_ENOTFOUND, "name not registered");
        return 1;
    }
    if (r == RS_SHM_NOMEM) {
        *rc = rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
        return 1;
    }
    if (r != RS_SHM_FOUND)
        return 0;
    if (rs_client_copy_buf(&out->name, name, name_len) != 0 ||
        rs_client_copy_buf(&out->meta, c->shm_meta.data, c->shm_meta.len) != 0) {
        roster_buf_free(&out->name);
        *rc = rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
        return 1;
    }
    out->pid.node_inc = p.inc;
    out->pid.serial = p.serial;
    out->token = p.token;
    out->revision = 0;
    memcpy(out->node, p.node, p.node_len + 1);
    *rc = 0;
    return 1;
}

int rs_client_shm_members(roster_client *c, const char *scope, const void *group,
                          size_t group_len, int local_only, roster_entries *out, int *rc)
{
    struct rs_shm_scope_info si;
    if (!usable(c) || !group || group_len == 0 || group_len > c->name_max ||
        !scope_of(c, scope, &si))
        return 0;
    struct rs_shm_members *ms = &c->shm_members;
    int r = rs_shm_members(&c->shm, si.id, group, group_len, ms);
    if (r == RS_SHM_ABSENT) {
        *rc = 0; /* an unknown group has no members */
        return 1;
    }
    if (r == RS_SHM_NOMEM) {
        *rc = rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
        return 1;
    }
    if (r != RS_SHM_FOUND)
        return 0;
    *rc = 0;
    if (ms->n == 0)
        return 1;
    /* Not zeroed as a whole: an entry is ~330 bytes (node[256]) and every field is set below. */
    out->items = rs_malloc(ms->n * sizeof *out->items);
    if (!out->items) {
        *rc = rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
        return 1;
    }
    /* Node names: members mostly share a few nodes; remember the last one. */
    uint32_t last_node = UINT32_MAX;
    char node[RS_SHM_NODE_REC];
    uint64_t node_inc = 0;
    for (size_t i = 0; i < ms->n; i++) {
        const struct rs_shm_member *m = &ms->v[i];
        if (local_only && m->inc != c->self.node_inc)
            continue;
        if (m->node != last_node) {
            if (rs_shm_node_name(&c->shm, m->node, node, sizeof node, &node_inc) != 0) {
                roster_entries_free(out);
                return 0; /* a record we cannot read: ask the node */
            }
            last_node = m->node;
        }
        roster_entry *e = &out->items[out->n];
        e->name.data = e->meta.data = NULL;
        e->count = e->groups = e->token = e->revision = 0;
        e->mode = 0;
        if (rs_client_copy_buf(&e->name, group, group_len) != 0 ||
            rs_client_copy_buf(&e->meta, ms->meta.data + m->meta_off, m->meta_len) != 0) {
            roster_buf_free(&e->name);
            roster_entries_free(out);
            *rc = rs_client_fail(c, ROSTER_ENOMEM, "out of memory");
            return 1;
        }
        e->pid.node_inc = m->inc;
        e->pid.serial = m->serial;
        memcpy(e->node, node, strlen(node) + 1);
        out->n++;
    }
    if (out->n == 0) {
        rs_free(out->items);
        out->items = NULL;
    }
    return 1;
}

int rs_client_shm_is_member(roster_client *c, const char *scope, const void *group,
                            size_t group_len, roster_pid pid, int *rc)
{
    struct rs_shm_scope_info si;
    if (!usable(c) || !group || group_len == 0 || group_len > c->name_max ||
        !scope_of(c, scope, &si))
        return 0;
    int r = rs_shm_is_member(&c->shm, si.id, group, group_len, pid.node_inc, pid.serial);
    if (r != RS_SHM_FOUND && r != RS_SHM_ABSENT)
        return 0;
    *rc = r == RS_SHM_FOUND ? 1 : 0;
    return 1;
}

int rs_client_shm_count(roster_client *c, const char *scope, const char *node,
                        roster_counts *out)
{
    struct rs_shm_scope_info si;
    if (!usable(c) || (node && *node) || !scope_of(c, scope, &si))
        return 0;
    out->names = si.names;
    out->groups = si.groups;
    out->members = si.members;
    out->revision = 0;
    return 1;
}
