/* chat.c: a chat room over publish.
 *
 * Every participant joins the group "chat.ROOM" and publishes each line it reads from
 * stdin to the group; what the others publish arrives as ROSTER_EV_MESSAGE events and is
 * printed. One poll() loop watches stdin and roster_fd(), so the program never blocks on
 * either. On a cluster, a room spans every node that joined the scope: publish reaches the
 * members on all nodes (crossing each link once).
 *
 * Build: make (see Makefile). Run with a node up, in two terminals:
 *   ./chat ROOM NICK [SOCKET]
 * Type lines; ^D leaves the room.
 */
#include <roster.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int check(roster_client *c, const char *what, int r)
{
    if (r < 0)
        fprintf(stderr, "chat: %s: %s (%s)\n", what, roster_strerror(r),
                c ? roster_errdetail(c) : "");
    return r < 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: chat ROOM NICK [SOCKET]\n");
        return 2;
    }
    char group[256];
    snprintf(group, sizeof group, "chat.%s", argv[1]);
    const char *nick = argv[2];
    roster_options opts;
    roster_options_init(&opts);
    opts.socket_path = argc > 3 ? argv[3] : NULL;
    opts.client_name = "chat";
    roster_client *c;
    if (check(NULL, "connect", roster_connect(&c, &opts)))
        return 1;
    roster_pid me = roster_self(c);
    if (check(c, "join", roster_join(c, NULL, group, strlen(group), me, nick, strlen(nick),
                                     1000)))
        return 1;
    size_t n = 0;
    char hello[300];
    int hl = snprintf(hello, sizeof hello, "* %s joined", nick);
    if (hl < 0 || (size_t)hl >= sizeof hello)
        hl = (int)sizeof hello - 1;
    if (!check(c, "publish", roster_publish(c, me, NULL, group, strlen(group), hello,
                                            (size_t)hl, 0, &n, 1000)))
        printf("* in %s with %zu member(s)\n", group, n);
    fflush(stdout);

    char line[4096];
    size_t have = 0;
    struct pollfd p[2] = {{0, POLLIN, 0}, {roster_fd(c), POLLIN, 0}};
    int st = 0;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents) {
            roster_event ev;
            int r;
            while ((r = roster_next_event(c, &ev)) == 0) {
                /* publish reaches every member, the sender included: skip our own lines */
                if (ev.type == ROSTER_EV_MESSAGE && !roster_pid_equal(ev.pid, me))
                    printf("%.*s\n", (int)ev.meta.len, (char *)ev.meta.data);
                else if (ev.type == ROSTER_EV_OVERFLOW && ev.id == 0)
                    printf("* %llu messages missed\n", (unsigned long long)ev.dropped);
                roster_event_free(&ev);
            }
            fflush(stdout);
            if (r != ROSTER_EAGAIN) {
                st = check(c, "event", r);
                break;
            }
        }
        if (p[0].revents) {
            ssize_t got = read(0, line + have, sizeof line - 1 - have);
            if (got <= 0)
                break; /* ^D: leave */
            have += (size_t)got;
            char *nl;
            /* publish each whole line as "NICK: text"; a full buffer goes as it is */
            while ((nl = memchr(line, '\n', have)) || have == sizeof line - 1) {
                size_t len = nl ? (size_t)(nl - line) : have;
                char msg[4400];
                int ml = snprintf(msg, sizeof msg, "%s: %.*s", nick, (int)len, line);
                if (ml < 0 || (size_t)ml >= sizeof msg)
                    ml = (int)sizeof msg - 1; /* a very long nick: the line is cut */
                if (check(c, "publish", roster_publish(c, me, NULL, group, strlen(group), msg,
                                                       (size_t)ml, 0, NULL, 1000)))
                    st = 1;
                size_t used = nl ? len + 1 : len;
                memmove(line, line + used, have - used);
                have -= used;
            }
        }
    }
    roster_close(c); /* our pid dies and leaves the room */
    return st;
}
