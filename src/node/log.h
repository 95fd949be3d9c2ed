/* log.h: rosterd's logger. One line per event on stderr, written with a single write(2).
 * Text format (the default):
 *   2025-01-31T12:34:56.789Z warn conn 7 (pid 4242): closed: frame too big
 * JSON format (--log-format json), one object per line with stable keys, for collectors:
 *   {"ts":"2025-01-31T12:34:56.789Z","level":"warn","node":"a","pid":4242,"msg":"conn 7 ..."}
 * Levels are the wire's rs_log_level values (error, warn, info, debug); the level and the
 * format can change at run time (LOG_LEVEL output of the core, rosterctl log-level, a
 * SIGHUP reload of the config file). Other threads (the HTTP server) may log too: a line
 * is one write(2), so lines never interleave. */
#ifndef ROSTER_NODE_LOG_H
#define ROSTER_NODE_LOG_H

#include <stddef.h>

#include "wire/wire.h"

enum rs_log_format {
    RS_LOG_FORMAT_TEXT = 0,
    RS_LOG_FORMAT_JSON = 1,
};

void rs_log_set_level(int level);
int rs_log_get_level(void);
/* rs_log_enabled says whether a line at level would be written. */
int rs_log_enabled(int level);
void rs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* rs_log_text logs len bytes of text (not NUL-terminated), e.g. from the core's outputs. */
void rs_log_text(int level, const char *text, size_t len);
/* rs_log_level_parse maps "error", "warn", "info", "debug" to a level; -1 if unknown. */
int rs_log_level_parse(const char *s);
const char *rs_log_level_name(int level);

void rs_log_set_format(int format);
int rs_log_get_format(void);
/* rs_log_format_parse maps "text", "json" to a format; -1 if unknown. */
int rs_log_format_parse(const char *s);
const char *rs_log_format_name(int format);
/* rs_log_set_node names the node in JSON lines (the "node" key; copied, cut at 64 bytes). */
void rs_log_set_node(const char *name);

/* rs_log_json_escape appends s[0..len) to out (cap bytes) as the inside of a JSON string:
 * '"' and '\\' escaped, control bytes as \n, \t, ... or \u00XX, every byte that is not
 * part of valid UTF-8 (stray continuation, overlong, surrogate, past U+10FFFF, truncated)
 * as \ufffd. Never writes more than cap bytes and never cuts an escape or a UTF-8
 * sequence in half; returns the bytes written. */
size_t rs_log_json_escape(char *out, size_t cap, const char *s, size_t len);
/* rs_log_format_line formats one line (without '\n') into buf (cap >= 256), as
 * rs_log_text would write it at level in format; returns its length. For tests. */
size_t rs_log_format_line(char *buf, size_t cap, int format, int level, const char *msg,
                          size_t len);

#endif
