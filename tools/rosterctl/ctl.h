/* ctl.h: what the rosterctl files share: the invocation state, option parsing, output
 * helpers (JSON and human text) and the command entry points. rosterctl is written on
 * <roster.h> alone. */
#ifndef ROSTERCTL_CTL_H
#define ROSTERCTL_CTL_H

#include <roster.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_OK 0
#define CTL_REFUSED 1 /* not found / refused */
#define CTL_USAGE 2   /* usage or connection error */

/* register / join take at most this many names (one batch, one round trip). */
#define CTL_HOLD_MAX 256

/* Connecting waits at least this long, whatever --timeout says (see ctl_connect). */
#define CTL_CONNECT_MIN_MS 1000

/* One invocation. */
struct ctl {
    const char *socket; /* --socket, or NULL for the library default */
    int json;           /* --json */
    int timeout_ms;     /* --timeout, per request (connect: at least CTL_CONNECT_MIN_MS) */
    const char *scope;  /* --scope, default "default" */
    const char *cmd;    /* command name, for messages */
    roster_client *c;   /* after ctl_connect */
    /* register / join: --recv prints received messages, --reply-with answers calls */
    int recv;
    const char *reply_with;
    /* register / elect: the grant's fencing token, printed with the pid (have_token) */
    uint64_t token;
    int have_token;
    /* register / join --reconnect: hold across a restart of the node */
    int reconnect;
    /* register / join: --ttl MS (0: none; the hold renews it), register / join / elect:
     * --exit-reason R (the pid's exit reason when stdin closes) */
    uint32_t ttl_ms;
    const char *exit_reason;
    /* register / join NAME...: the names given (batch.c holds several at once) */
    const char *hold_names[CTL_HOLD_MAX];
    int n_hold;
    /* lookup / members: the holder's OS pid and uid, printed by print_entry when set */
    const roster_owner *owner;
};

/* An option a command accepts besides the global ones. */
enum ctl_opt_kind { CTL_FLAG, CTL_STR };
struct ctl_opt {
    const char *name; /* "--prefix" */
    enum ctl_opt_kind kind;
    void *dst; /* int * for CTL_FLAG (set to 1), const char ** for CTL_STR */
};

/* ctl_args parses a command's arguments: its own options (list ends with a NULL name), the
 * global ones (--json, --socket, --timeout, --scope) anywhere, and between min_pos and
 * max_pos positional arguments into pos[]. Returns 0, or the exit status of a usage error
 * (already reported). */
int ctl_args(struct ctl *x, int argc, char **argv, const struct ctl_opt *opts,
             const char **pos, int min_pos, int max_pos, int *npos);
/* ctl_connect opens x->c; returns 0 or the exit status (error reported). */
int ctl_connect(struct ctl *x);
/* ctl_holder_args parses the arguments of a command that holds an entry (register, join,
 * elect): NAME into pos[0], --meta into *meta, --recv and --reply-with into x; then
 * connects. Returns 0 or the exit status (error reported). */
int ctl_holder_args(struct ctl *x, int argc, char **argv, const char **meta, const char **pos);
/* ctl_exit_status maps a roster error to the exit status: 0, 1 (refused) or 2. */
int ctl_exit_status(int err);
/* ctl_fail reports err of the step `what` on stderr (and as JSON on stdout with --json)
 * and returns the exit status. extra_key/extra_val add one string member (may be NULL). */
int ctl_fail(struct ctl *x, const char *what, int err, const char *extra_key,
             const char *extra_val);
/* ctl_usage reports a usage error and returns CTL_USAGE. */
int ctl_usage(struct ctl *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ctl_parse_u64 parses a decimal number; 0 or -1. */
int ctl_parse_u64(const char *s, uint64_t *out);

/* json.c: JSON output. */
void json_str(FILE *f, const void *p, size_t n); /* a quoted, escaped JSON string */
struct jobj {
    FILE *f;
    int n;
};
void jo_begin(struct jobj *o, FILE *f);
void jo_key(struct jobj *o, const char *key);
void jo_bytes(struct jobj *o, const char *key, const void *p, size_t n);
void jo_str(struct jobj *o, const char *key, const char *s);
void jo_u64(struct jobj *o, const char *key, uint64_t v);
void jo_bool(struct jobj *o, const char *key, int v);
void jo_pid(struct jobj *o, const char *key, roster_pid pid);
/* jo_token writes a fencing token as a string of decimal digits: an eventual scope's token
 * (a hybrid logical clock) is above 2^53, which JSON readers would round. */
void jo_token(struct jobj *o, const char *key, uint64_t v);
void jo_end(struct jobj *o);

/* print.c: shared printers. */
/* text_bytes prints bytes for humans: printable ASCII and valid UTF-8 as is, other bytes
 * (and backslash) as C-style escapes. */
void text_bytes(FILE *f, const void *p, size_t n);
/* print_entry prints one registry entry (group = NULL) or group member. */
void print_entry(struct ctl *x, const roster_entry *e, const roster_buf *group);
/* print_event prints one event; one line, flushed. */
void print_event(struct ctl *x, const roster_event *ev);
/* list_begin / list_sep / list_end frame a JSON array (no-ops in human mode). */
void list_begin(struct ctl *x);
void list_sep(struct ctl *x, size_t i);
void list_end(struct ctl *x);

/* Commands: each returns the exit status. */
int cmd_status(struct ctl *x, int argc, char **argv);
/* cmd_batch.c: register / join of several names (x->n_hold > 1), then the hold. */
int ctl_hold_many(struct ctl *x, int join, const char *meta);
/* cmd_cluster.c: runtime membership, and the owners of listed pids */
int cmd_cluster_join(struct ctl *x, int argc, char **argv);
int cmd_cluster_leave(struct ctl *x, int argc, char **argv);
int cmd_forget(struct ctl *x, int argc, char **argv);
int cmd_owner(struct ctl *x, int argc, char **argv);
/* ctl_owners fills out[0..n) with the owners of l's entries (best effort: zeroed where the
 * node does not know); returns out, or NULL (nothing to show). Free with free(). */
roster_owner *ctl_owners(struct ctl *x, const roster_entries *l);
int cmd_nodes(struct ctl *x, int argc, char **argv);
int cmd_scopes(struct ctl *x, int argc, char **argv);
int cmd_scope_create(struct ctl *x, int argc, char **argv);
int cmd_scope_join(struct ctl *x, int argc, char **argv);
int cmd_scope_leave(struct ctl *x, int argc, char **argv);
int cmd_scope_meta(struct ctl *x, int argc, char **argv);
/* print_scope_meta_event prints ev if it is a scope-metadata event (1), else 0. */
int print_scope_meta_event(struct ctl *x, const roster_event *ev);
int cmd_count(struct ctl *x, int argc, char **argv);
int cmd_ping(struct ctl *x, int argc, char **argv);
int cmd_log_level(struct ctl *x, int argc, char **argv);
int cmd_lookup(struct ctl *x, int argc, char **argv);
int cmd_names(struct ctl *x, int argc, char **argv);
int cmd_register(struct ctl *x, int argc, char **argv);
int cmd_unregister(struct ctl *x, int argc, char **argv);
int cmd_members(struct ctl *x, int argc, char **argv);
int cmd_groups(struct ctl *x, int argc, char **argv);
int cmd_join(struct ctl *x, int argc, char **argv);
int cmd_leave(struct ctl *x, int argc, char **argv);
int cmd_watch(struct ctl *x, int argc, char **argv);
int cmd_monitor(struct ctl *x, int argc, char **argv);
int cmd_send(struct ctl *x, int argc, char **argv);
int cmd_publish(struct ctl *x, int argc, char **argv);
int cmd_call(struct ctl *x, int argc, char **argv);
int cmd_multi_call(struct ctl *x, int argc, char **argv);
int cmd_check_token(struct ctl *x, int argc, char **argv);
int cmd_handoff(struct ctl *x, int argc, char **argv);
int cmd_update(struct ctl *x, int argc, char **argv);
int cmd_elect(struct ctl *x, int argc, char **argv);

/* ctl_read_mode applies --stale (reads from the node's local copy of a strong scope) to
 * the connected client. */
void ctl_read_mode(struct ctl *x, int stale);
int cmd_top(struct ctl *x, int argc, char **argv);

/* cmd_query.c: metadata queries (--meta-eq, --meta-prefix, --meta-glob, --where), members
 * --prefix, count KEY, member GROUP PID, unregister / leave --match. ctl_has_query_opt
 * says whether argv holds a filter option or one of also[] (NULL-terminated), so that the
 * plain commands hand over to the query forms. */
int ctl_has_query_opt(int argc, char **argv, const char *const *also);
int cmd_names_query(struct ctl *x, int argc, char **argv);
int cmd_members_query(struct ctl *x, int argc, char **argv);
int cmd_count_query(struct ctl *x, int argc, char **argv);
int cmd_member(struct ctl *x, int argc, char **argv);
int cmd_unmatch(struct ctl *x, int argc, char **argv, int names);

/* cmd_msg.c: a message received by a holder (register / join): printed with --recv (one
 * JSON line with --json, else the data), a call answered by --reply-with. Returns 0 or the
 * exit status of a fatal error. */
int ctl_on_message(struct ctl *x, const roster_event *ev);
/* print_message prints one received message (the --recv form). */
void print_message(struct ctl *x, const roster_event *ev);

/* hold keeps the client (and its registrations) alive until stdin reaches EOF (stdin is
 * not read while it is a terminal of which rosterctl is a background process) or the node
 * closes the connection; returns the exit status (cmd_hold.c). */
int ctl_hold(struct ctl *x);
/* ctl_hold_campaign waits for the answer to the campaign request req (while watching stdin
 * like ctl_hold: EOF gives up, exit 1), prints the pid line with the token once elected and
 * then holds like ctl_hold. */
int ctl_hold_campaign(struct ctl *x, uint64_t req);
/* ctl_print_pid_line prints the first line of register / join / elect: the client's pid
 * (with --json, and the token if have_token: {"pid":"...","token":"N"}; without, a second
 * line "token N"), flushed. */
void ctl_print_pid_line(struct ctl *x);

#endif
