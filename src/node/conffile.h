/* conffile.h: the syntax of rosterd's config file (docs/OPERATIONS.md), apart from what the
 * keys mean (config.c gives every flag a key). One setting per line:
 *     # a comment line
 *     key = value
 * Blank lines and lines whose first non-blank byte is '#' are ignored; spaces and tabs
 * around the key and the value are not part of them; a key is 1..63 bytes of [a-z0-9-];
 * the value is the rest of the line (it may be empty, and may hold '#' and spaces inside).
 * A key may repeat (the repeatable flags: join, scope, priority). Parsing is pure (no I/O):
 * the caller reads the file, so the parser can be fuzzed. */
#ifndef ROSTER_NODE_CONFFILE_H
#define ROSTER_NODE_CONFFILE_H

#include <stddef.h>

#define RS_CONFFILE_BYTES_MAX (1u << 20) /* a larger file is refused */
#define RS_CONFFILE_LINE_MAX 4096u       /* bytes of one line */
#define RS_CONFFILE_KEY_MAX 63u

struct rs_conf_entry {
    char key[RS_CONFFILE_KEY_MAX + 1];
    char *value; /* NUL-terminated, owned by the struct rs_conffile */
    unsigned line;
};

struct rs_conffile {
    struct rs_conf_entry *v;
    size_t n;
};

/* rs_conffile_parse parses text[0..len) into *out (empty on error). Returns 0, or -1 with
 * *err_line set to the 1-based line at fault (0: the whole file) and why (cap bytes) set
 * to the reason. */
int rs_conffile_parse(const char *text, size_t len, struct rs_conffile *out,
                      unsigned *err_line, char *why, size_t why_cap);
void rs_conffile_free(struct rs_conffile *f);

/* rs_conffile_read reads path into a malloc'd, NUL-terminated buffer (*len bytes before
 * the NUL). 0, or -1 with why set (errno text, or "larger than 1 MiB"). */
int rs_conffile_read(const char *path, char **text, size_t *len, char *why, size_t why_cap);

#endif
