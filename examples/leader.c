/* leader.c: leader election with fencing tokens in a strong scope.
 *
 * Every copy of this program campaigns for the same name; roster grants it to one at a time,
 * in the order they asked. The leader does its work with the fencing token it was granted,
 * and checks before each step that the token is still the current one: if the node lost its
 * etcd lease (the leader is told: an UNREGISTERED event with reason lease_lost) or another
 * process was handed the name, the check fails and the old leader stops at once instead of
 * acting on a name it no longer holds. A resource that remembers the highest token it saw
 * (a database row, a storage server) refuses any write carrying a smaller one.
 *
 * Needs rosterd started with --etcd and a strong scope (docs/CONSISTENCY.md):
 *   rosterctl scope-create jobs --strong
 *   ./leader [SOCKET]      (run several; stop the leader with Ctrl-C and watch the next one)
 */
#include <roster.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SCOPE "jobs"
#define NAME "scheduler"

static int check(roster_client *c, const char *what, int r)
{
    if (r < 0)
        fprintf(stderr, "leader: %s: %s (%s)\n", what, roster_strerror(r),
                c ? roster_errdetail(c) : "");
    return r < 0;
}

/* lost says whether an event tells this process that it no longer holds NAME. */
static int lost(roster_client *c)
{
    roster_event ev;
    int gone = 0;
    while (roster_next_event(c, &ev) == ROSTER_OK) {
        if (ev.type == ROSTER_EV_UNREGISTERED && ev.name.len == strlen(NAME) &&
            memcmp(ev.name.data, NAME, ev.name.len) == 0) {
            printf("lost %s: %s\n", NAME, roster_reason_name(ev.reason));
            gone = 1;
        }
        roster_event_free(&ev);
    }
    return gone;
}

int main(int argc, char **argv)
{
    roster_options opts;
    roster_options_init(&opts);
    opts.socket_path = argc > 1 ? argv[1] : NULL;
    opts.client_name = "leader";
    roster_client *c;
    if (check(NULL, "connect", roster_connect(&c, &opts)))
        return 1;

    char me[ROSTER_PID_STRLEN], meta[64];
    roster_pid_format(roster_self(c), me);
    int ml = snprintf(meta, sizeof meta, "host pid %d", (int)getpid());
    printf("%s campaigns for %s\n", me, NAME);
    uint64_t token = 0;
    /* waits (timeout -1) until this pid holds the name, in first-come order */
    if (check(c, "campaign", roster_campaign(c, SCOPE, NAME, strlen(NAME), roster_self(c), meta,
                                             (size_t)ml, &token, -1))) {
        roster_close(c);
        return 1;
    }
    printf("%s leads with fencing token %llu\n", me, (unsigned long long)token);

    for (int step = 1;; step++) {
        if (lost(c))
            break;
        uint64_t current = 0;
        int r = roster_check_token(c, SCOPE, NAME, strlen(NAME), token, &current, 5000);
        if (r != 1) { /* 0: stale; < 0: cannot tell (EUNAVAIL, EUNKNOWN...): stop to be safe */
            if (r == 0)
                printf("token %llu is stale (current %llu): stepping down\n",
                       (unsigned long long)token, (unsigned long long)current);
            else
                check(c, "check-token", r);
            break;
        }
        /* The work: pass the token to every resource touched, so that it can refuse a
         * leader older than the newest it has seen. */
        printf("step %d as leader (token %llu)\n", step, (unsigned long long)token);
        fflush(stdout);
        sleep(1);
    }
    roster_close(c); /* the name, if still held, is resigned with the client */
    return 0;
}
