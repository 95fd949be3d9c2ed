/* cmd_strong.c: the commands that came with strong scopes (they work in eventual scopes
 * where the node can be exact): check-token (exit 0 current, 1 stale, 2 error), handoff,
 * update (compare-and-set; exit 1 with the current value on a conflict) and elect (wait to
 * hold a name, then hold it like register). */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"

void ctl_read_mode(struct ctl *x, int stale)
{
    if (stale)
        roster_set_read_mode(x->c, ROSTER_READ_STALE);
}

static int parse_token(struct ctl *x, const char *what, const char *s, uint64_t *out)
{
    if (ctl_parse_u64(s, out) != 0)
        return ctl_usage(x, "bad %s \"%s\" (a decimal fencing token)", what, s);
    return 0;
}

static int parse_pid(struct ctl *x, const char *s, roster_pid *out)
{
    if (roster_pid_parse(s, out) != 0)
        return ctl_usage(x, "bad pid \"%s\" (expected 16 hex digits, '.', serial)", s);
    return 0;
}

int cmd_check_token(struct ctl *x, int argc, char **argv)
{
    const char *pos[2];
    int r = ctl_args(x, argc, argv, NULL, pos, 2, 2, NULL);
    uint64_t token = 0, cur = 0;
    if (r || (r = parse_token(x, "TOKEN", pos[1], &token)) || (r = ctl_connect(x)))
        return r;
    r = roster_check_token(x->c, x->scope, pos[0], strlen(pos[0]), token, &cur, x->timeout_ms);
    if (r < 0) {
        ctl_fail(x, "check-token", r, NULL, NULL);
        return CTL_USAGE; /* 1 means stale: every error is 2 here */
    }
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "name", pos[0]);
        jo_token(&o, "token", token);
        jo_bool(&o, "current", r == 1);
        jo_token(&o, "current_token", cur);
        jo_end(&o);
        fputc('\n', stdout);
    } else if (r == 1) {
        printf("current\n");
    } else if (cur) {
        printf("stale (current token %" PRIu64 ")\n", cur);
    } else {
        printf("stale (the name is not registered)\n");
    }
    return r == 1 ? CTL_OK : CTL_REFUSED;
}

int cmd_handoff(struct ctl *x, int argc, char **argv)
{
    const char *if_token_text = NULL;
    const struct ctl_opt opts[] = {{"--if-token", CTL_STR, &if_token_text},
                                   {NULL, CTL_FLAG, NULL}};
    const char *pos[2];
    roster_pid to;
    uint64_t if_token = 0, token = 0;
    int r = ctl_args(x, argc, argv, opts, pos, 2, 2, NULL);
    if (r || (r = parse_pid(x, pos[1], &to)) ||
        (if_token_text && (r = parse_token(x, "--if-token", if_token_text, &if_token))) ||
        (r = ctl_connect(x)))
        return r;
    r = roster_handoff(x->c, x->scope, pos[0], strlen(pos[0]), to, if_token, &token,
                       x->timeout_ms);
    if (r == ROSTER_ECONFLICT) {
        char cur[24];
        snprintf(cur, sizeof cur, "%" PRIu64, token);
        return ctl_fail(x, "handoff", r, "current_token", cur);
    }
    if (r)
        return ctl_fail(x, "handoff", r, NULL, NULL);
    char pid[ROSTER_PID_STRLEN];
    roster_pid_format(to, pid);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "name", pos[0]);
        jo_str(&o, "pid", pid);
        jo_token(&o, "token", token);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        text_bytes(stdout, pos[0], strlen(pos[0]));
        printf(" %s token=%" PRIu64 "\n", pid, token);
    }
    return 0;
}

/* update_conflict reports ECONFLICT: the error on stderr, and the current value on stdout
 * (with --json in the error object: "current" and "current_token"; without, the metadata
 * alone on one line) so that a script can retry from it. */
static int update_conflict(struct ctl *x, const roster_buf *cur, uint64_t token)
{
    int json = x->json;
    x->json = 0; /* the JSON error line is written here, with the current value */
    int st = ctl_fail(x, "update", ROSTER_ECONFLICT, NULL, NULL);
    x->json = json;
    if (json) {
        const char *detail = roster_errdetail(x->c);
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, "error", roster_err_name(ROSTER_ECONFLICT));
        jo_str(&o, "message", roster_strerror(ROSTER_ECONFLICT));
        if (detail && *detail)
            jo_str(&o, "detail", detail);
        jo_bytes(&o, "current", cur->data, cur->len);
        jo_token(&o, "current_token", token);
        jo_end(&o);
    } else {
        text_bytes(stdout, cur->data, cur->len);
    }
    fputc('\n', stdout);
    fflush(stdout);
    return st;
}

int cmd_update(struct ctl *x, int argc, char **argv)
{
    const char *meta = NULL, *if_token_text = NULL, *if_meta = NULL, *member_text = NULL;
    const struct ctl_opt opts[] = {{"--meta", CTL_STR, &meta},
                                   {"--if-token", CTL_STR, &if_token_text},
                                   {"--if-meta", CTL_STR, &if_meta},
                                   {"--member", CTL_STR, &member_text},
                                   {NULL, CTL_FLAG, NULL}};
    const char *pos[1];
    int r = ctl_args(x, argc, argv, opts, pos, 1, 1, NULL);
    if (r)
        return r;
    if (!meta)
        return ctl_usage(x, "--meta M is required (the new metadata)");
    if (!if_token_text && !if_meta)
        return ctl_usage(x, "--if-token T or --if-meta OLD is required (what to compare)");
    roster_update_cond cond;
    memset(&cond, 0, sizeof cond);
    if (if_token_text) {
        cond.if_token = 1;
        if ((r = parse_token(x, "--if-token", if_token_text, &cond.token)))
            return r;
    }
    if (if_meta) {
        cond.if_meta = 1;
        cond.meta = if_meta;
        cond.meta_len = strlen(if_meta);
    }
    if (member_text && (r = parse_pid(x, member_text, &cond.member)))
        return r;
    if ((r = ctl_connect(x)))
        return r;
    uint64_t token = 0;
    roster_buf cur = {NULL, 0};
    r = roster_update(x->c, x->scope, pos[0], strlen(pos[0]), meta, strlen(meta), &cond,
                      &token, &cur, x->timeout_ms);
    if (r == ROSTER_ECONFLICT) {
        int st = update_conflict(x, &cur, token);
        roster_buf_free(&cur);
        return st;
    }
    roster_buf_free(&cur);
    if (r)
        return ctl_fail(x, "update", r, NULL, NULL);
    if (x->json) {
        struct jobj o;
        jo_begin(&o, stdout);
        jo_str(&o, member_text ? "group" : "name", pos[0]);
        if (member_text)
            jo_str(&o, "pid", member_text);
        jo_str(&o, "meta", meta);
        jo_token(&o, "token", token);
        jo_end(&o);
        fputc('\n', stdout);
    } else {
        printf("updated ");
        text_bytes(stdout, pos[0], strlen(pos[0]));
        printf(" token=%" PRIu64 "\n", token);
    }
    return 0;
}

int cmd_elect(struct ctl *x, int argc, char **argv)
{
    const char *meta = "", *pos[1];
    int r = ctl_holder_args(x, argc, argv, &meta, pos);
    if (r)
        return r;
    if (x->reconnect) /* a candidacy is not re-created after a restart: the name is */
        return ctl_usage(x, "--reconnect holds register and join only, not elect");
    uint64_t req = 0;
    r = roster_campaign_async(x->c, x->scope, pos[0], strlen(pos[0]), roster_self(x->c), meta,
                              strlen(meta), &req);
    if (r)
        return ctl_fail(x, "elect", r, NULL, NULL);
    return ctl_hold_campaign(x, req);
}
