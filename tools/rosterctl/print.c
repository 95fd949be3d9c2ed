/* print.c: printers shared by the commands: entries, events and JSON array framing, each
 * in the JSON form (--json, one value per line) and the human form. */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"

void text_bytes(FILE *f, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = p[i];
        if (b == '\\')
            fputs("\\\\", f);
        else if (b >= 0x20 && b < 0x7f)
            fputc(b, f);
        else if (b >= 0x80) {
            /* keep valid UTF-8 sequences whole */
            size_t l = 0;
            if (b >= 0xc2 && b <= 0xdf)
                l = 2;
            else if (b >= 0xe0 && b <= 0xef)
                l = 3;
            else if (b >= 0xf0 && b <= 0xf4)
                l = 4;
            int ok = l && i + l <= n;
            for (size_t k = 1; ok && k < l; k++)
                ok = (p[i + k] & 0xc0) == 0x80;
            if (ok) {
                fwrite(p + i, 1, l, f);
                i += l - 1;
            } else {
                fprintf(f, "\\x%02x", b);
            }
        } else {
            fprintf(f, "\\x%02x", b);
        }
    }
}

void list_begin(struct ctl *x)
{
    if (x->json)
        fputc('[', stdout);
}

void list_sep(struct ctl *x, size_t i)
{
    if (x->json && i > 0)
        fputc(',', stdout);
}

void list_end(struct ctl *x)
{
    if (x->json)
        fputs("]\n", stdout);
}

void print_entry(struct ctl *x, const roster_entry *e, const roster_buf *group)
{
    char pid[ROSTER_PID_STRLEN];
    roster_pid_format(e->pid, pid);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        if (group) {
            jo_bytes(&o, "group", group->data, group->len);
            jo_bytes(&o, "name", group->data, group->len);
        } else {
            jo_bytes(&o, "name", e->name.data, e->name.len);
        }
        jo_str(&o, "pid", pid);
        jo_str(&o, "node", e->node);
        jo_bytes(&o, "meta", e->meta.data, e->meta.len);
        /* lookup: the holder's fencing token; strong scopes: the etcd revision read */
        if (e->token)
            jo_token(&o, "token", e->token);
        if (e->revision)
            jo_u64(&o, "revision", e->revision);
        if (x->owner && x->owner->os_pid) { /* the holder client's OS process and user */
            jo_u64(&o, "os_pid", (uint64_t)x->owner->os_pid);
            jo_u64(&o, "uid", x->owner->uid);
        }
        jo_end(&o);
        return;
    }
    text_bytes(stdout, group ? group->data : e->name.data, group ? group->len : e->name.len);
    printf(" %s %s ", pid, e->node);
    text_bytes(stdout, e->meta.data, e->meta.len);
    if (e->token)
        printf(" token=%" PRIu64, e->token);
    if (e->revision)
        printf(" revision=%" PRIu64, e->revision);
    if (x->owner && x->owner->os_pid)
        printf(" os_pid=%d uid=%u", (int)x->owner->os_pid, (unsigned)x->owner->uid);
    fputc('\n', stdout);
}

static int is_group_event(int type)
{
    return type == ROSTER_EV_JOINED || type == ROSTER_EV_LEFT ||
           type == ROSTER_EV_MEMBER_UPDATED;
}

static int is_node_event(int type)
{
    return type == ROSTER_EV_NODE_UP || type == ROSTER_EV_NODE_DOWN ||
           type == ROSTER_EV_NODE_LEFT;
}

static int has_entry(int type)
{
    return type != ROSTER_EV_SNAPSHOT_END && type != ROSTER_EV_OVERFLOW &&
           type != ROSTER_EV_REPLY && !is_node_event(type);
}

static int has_reason(const roster_event *ev)
{
    return ev->type == ROSTER_EV_UNREGISTERED || ev->type == ROSTER_EV_LEFT ||
           ev->type == ROSTER_EV_DOWN || ev->reason != 0;
}

static int has_prev(int type)
{
    return type == ROSTER_EV_UPDATED || type == ROSTER_EV_MEMBER_UPDATED;
}

/* print_reconnect prints the library's reconnect events (--reconnect): the new
 * incarnation and pid, or what could not be re-created. */
static void print_reconnect(struct ctl *x, const roster_event *ev)
{
    char pid[ROSTER_PID_STRLEN];
    roster_pid_format(ev->pid, pid);
    static const char *const what[] = {"", "pid", "name", "member", "subscription", "monitor"};
    const char *w = ev->what > 0 && ev->what <= 5 ? what[ev->what] : "unknown";
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "type", roster_event_type_name(ev->type));
        if (ev->type == ROSTER_EV_RECONNECTED) {
            jo_u64(&o, "old_incarnation", ev->old_incarnation);
            jo_u64(&o, "new_incarnation", ev->new_incarnation);
        } else {
            jo_str(&o, "what", w);
            jo_str(&o, "scope", ev->scope);
            jo_bytes(&o, "name", ev->name.data, ev->name.len);
            jo_str(&o, "error", roster_err_name(ev->status));
            jo_bytes(&o, "detail", ev->prev_meta.data, ev->prev_meta.len);
        }
        jo_str(&o, "pid", pid);
        jo_str(&o, "node", ev->node);
        jo_end(&o);
        fputc('\n', stdout);
    } else if (ev->type == ROSTER_EV_RECONNECTED) {
        printf("reconnected %s %s old_incarnation=%016" PRIx64 " new_incarnation=%016" PRIx64
               "\n", pid, ev->node, ev->old_incarnation, ev->new_incarnation);
    } else {
        printf("restore_failed %s %s ", w, ev->scope);
        text_bytes(stdout, ev->name.data, ev->name.len);
        printf(" %s %s error=%s detail=", pid, ev->node, roster_err_name(ev->status));
        text_bytes(stdout, ev->prev_meta.data, ev->prev_meta.len);
        fputc('\n', stdout);
    }
    fflush(stdout);
}

void print_event(struct ctl *x, const roster_event *ev)
{
    if (ev->type == ROSTER_EV_MESSAGE) {
        print_message(x, ev);
        return;
    }
    if (ev->type == ROSTER_EV_RECONNECTED || ev->type == ROSTER_EV_RESTORE_FAILED) {
        print_reconnect(x, ev);
        return;
    }
    if (print_scope_meta_event(x, ev))
        return;
    char pid[ROSTER_PID_STRLEN];
    roster_pid_format(ev->pid, pid);
    const char *type = roster_event_type_name(ev->type);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "type", type);
        jo_str(&o, "scope", ev->scope);
        if (has_entry(ev->type)) {
            if (is_group_event(ev->type))
                jo_bytes(&o, "group", ev->name.data, ev->name.len);
            if (ev->type != ROSTER_EV_DOWN)
                jo_bytes(&o, "name", ev->name.data, ev->name.len);
            jo_str(&o, "pid", pid);
            jo_str(&o, "node", ev->node);
            if (ev->type != ROSTER_EV_DOWN)
                jo_bytes(&o, "meta", ev->meta.data, ev->meta.len);
            if (has_prev(ev->type))
                jo_bytes(&o, "prev_meta", ev->prev_meta.data, ev->prev_meta.len);
            if (has_reason(ev))
                jo_str(&o, "reason", roster_reason_name(ev->reason));
            if (ev->reason_text.data) /* reason exit: the pid's exit reason */
                jo_bytes(&o, "reason_text", ev->reason_text.data, ev->reason_text.len);
            if (ev->type == ROSTER_EV_CONFLICT) /* the winner's pid, as text */
                jo_bytes(&o, "winner", ev->prev_meta.data, ev->prev_meta.len);
        }
        if (is_node_event(ev->type))
            jo_str(&o, "node", ev->node);
        if (ev->snapshot)
            jo_bool(&o, "snapshot", 1);
        if (ev->revision) /* strong scopes: resume after it with watch --from-revision */
            jo_u64(&o, "revision", ev->revision);
        jo_end(&o);
        fputc('\n', stdout);
        fflush(stdout);
        return;
    }
    printf("%s %s", type, ev->scope);
    if (has_entry(ev->type)) {
        if (ev->type != ROSTER_EV_DOWN) {
            fputc(' ', stdout);
            text_bytes(stdout, ev->name.data, ev->name.len);
        }
        printf(" %s %s", pid, ev->node);
        if (ev->type != ROSTER_EV_DOWN) {
            fputs(" meta=", stdout);
            text_bytes(stdout, ev->meta.data, ev->meta.len);
        }
        if (has_prev(ev->type)) {
            fputs(" prev_meta=", stdout);
            text_bytes(stdout, ev->prev_meta.data, ev->prev_meta.len);
        }
        if (has_reason(ev))
            printf(" reason=%s", roster_reason_name(ev->reason));
        if (ev->reason_text.data) {
            fputs(" reason_text=", stdout);
            text_bytes(stdout, ev->reason_text.data, ev->reason_text.len);
        }
        if (ev->type == ROSTER_EV_CONFLICT) {
            fputs(" winner=", stdout);
            text_bytes(stdout, ev->prev_meta.data, ev->prev_meta.len);
        }
    }
    if (is_node_event(ev->type))
        printf(" %s", ev->node);
    if (ev->snapshot)
        fputs(" (snapshot)", stdout);
    if (ev->revision)
        printf(" revision=%" PRIu64, ev->revision);
    fputc('\n', stdout);
    fflush(stdout);
}
