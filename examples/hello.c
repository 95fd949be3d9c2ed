/* hello.c: a tour of libroster in one small program.
 *
 * It connects to the local rosterd, registers a name with metadata, looks it up, joins a
 * group, lists the group's members, subscribes to its own names with a snapshot and prints
 * what arrives, then closes. Build: make (see Makefile), run with a node up:
 *   ./hello [SOCKET]
 */
#include <roster.h>

#include <stdio.h>
#include <string.h>

static int check(roster_client *c, const char *what, int r)
{
    if (r < 0)
        fprintf(stderr, "hello: %s: %s (%s)\n", what, roster_strerror(r),
                c ? roster_errdetail(c) : "");
    return r < 0;
}

int main(int argc, char **argv)
{
    roster_options opts;
    roster_options_init(&opts);
    opts.socket_path = argc > 1 ? argv[1] : NULL; /* NULL: $ROSTER_SOCKET or the default */
    opts.client_name = "hello";

    roster_client *c;
    if (check(NULL, "connect", roster_connect(&c, &opts)))
        return 1;
    char pid[ROSTER_PID_STRLEN];
    printf("connected to node %s as pid %s\n", roster_node_name(c),
           roster_pid_format(roster_self(c), pid));

    /* A unique name with metadata; NULL scope = "default". */
    const char *name = "hello.service", *meta = "port=8080";
    roster_pid holder;
    int r = roster_register(c, NULL, name, strlen(name), roster_self(c), meta, strlen(meta),
                            &holder, 1000);
    if (r == ROSTER_ETAKEN)
        printf("%s is taken by %s\n", name, roster_pid_format(holder, pid));
    else if (check(c, "register", r))
        goto out;

    roster_entry e;
    if (!check(c, "lookup", roster_lookup(c, NULL, name, strlen(name), &e, 1000))) {
        printf("lookup %s -> pid %s on %s, meta \"%.*s\"\n", name,
               roster_pid_format(e.pid, pid), e.node, (int)e.meta.len, (char *)e.meta.data);
        roster_entry_free(&e);
    }

    /* A group: many pids may join; list its members. */
    const char *group = "hello.workers";
    if (check(c, "join", roster_join(c, NULL, group, strlen(group), roster_self(c), "w1", 2,
                                     1000)))
        goto out;
    roster_entries members;
    if (!check(c, "members", roster_members(c, NULL, group, strlen(group), 0, &members, 1000))) {
        printf("%s has %zu member(s)\n", group, members.n);
        for (size_t i = 0; i < members.n; i++)
            printf("  %s on %s\n", roster_pid_format(members.items[i].pid, pid),
                   members.items[i].node);
        roster_entries_free(&members);
    }

    /* Watch names starting with "hello.": the snapshot comes first, then live changes. */
    uint64_t sub;
    if (check(c, "subscribe",
              roster_subscribe(c, NULL, "hello.", 6,
                               ROSTER_SUB_REGISTRY | ROSTER_SUB_PREFIX | ROSTER_SUB_SNAPSHOT,
                               &sub, 1000)))
        goto out;
    for (;;) {
        roster_event ev;
        if (check(c, "event", roster_wait_event(c, &ev, 1000)))
            break;
        printf("event %s %.*s%s\n", roster_event_type_name(ev.type), (int)ev.name.len,
               ev.name.data ? (char *)ev.name.data : "", ev.snapshot ? " (snapshot)" : "");
        int end = ev.type == ROSTER_EV_SNAPSHOT_END;
        roster_event_free(&ev);
        if (end)
            break;
    }
out:
    roster_close(c); /* our pid dies: its name and membership go with it */
    return 0;
}
