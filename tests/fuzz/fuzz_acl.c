/* fuzz_acl.c: fuzz target for the access rule file parser (src/base/acl.c), a decoder of
 * bytes whoever can write the file controls. It must never crash or read out of bounds; a
 * parsed file ends with its default rule (everything, no condition) and its rules' lines
 * increase; a refusal names a line the text has (or 0); and every decision on a parsed file
 * is one of its rules. Names resolve through a fake: "u<digits>" and "g<digits>". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake(void *ctx, const char *name, uint32_t *id)
{
    (void)ctx;
    if (name[0] != 'u' && name[0] != 'g')
        return -1;
    uint32_t v = 0;
    for (const char *p = name + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    *id = v;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exact size: ASan sees a read past the end */
    if (!text)
        return 0;
    memcpy(text, data, size);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    struct rs_acl_resolver res = {fake, fake, NULL};
    struct rs_acl *a;
    unsigned line;
    char why[200];
    int r = rs_acl_parse(text, size, &res, &a, &line, why, sizeof why);
    if (r == 0) {
        if (!a || a->n == 0 || a->n > RS_ACL_RULES_MAX)
            abort();
        const struct rs_acl_rule *last = &a->v[a->n - 1];
        if (last->n_users || last->n_groups || last->has_scope || last->has_prefix ||
            last->ops != RS_ACL_ALL_OPS)
            abort();
        for (size_t i = 1; i < a->n; i++)
            if (a->v[i].line <= a->v[i - 1].line || a->v[i].line > lines)
                abort();
        /* decisions: a few requests drawn from the input */
        for (unsigned op = 0; op < RS_ACL_N_OPS; op++) {
            struct rs_acl_req q = {.uid = size > 0 ? data[0] : 0,
                                   .gid = size > 1 ? data[1] : 0,
                                   .op = op,
                                   .keys = (int)(op % 3),
                                   .scope = (const uint8_t *)text,
                                   .scope_len = size % 8,
                                   .key = (const uint8_t *)text,
                                   .key_len = size % 13,
                                   .any_scope = (int)(op & 1)};
            if (q.scope_len > size)
                q.scope_len = size;
            if (q.key_len > size)
                q.key_len = size;
            const struct rs_acl_rule *d = rs_acl_decide(a, &q);
            if (!d || d < a->v || d >= a->v + a->n)
                abort();
        }
        rs_acl_free(a);
    } else {
        if (a != NULL || (r == -1 && line > lines) || (r == -1 && !why[0]))
            abort();
    }
    free(text);
    return 0;
}
