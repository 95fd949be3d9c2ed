/* log.h: rosterd's logger. One line per event on stderr, written with a single write(2):
 *   2025-01-31T12:34:56.789Z warn conn 7 (pid 4242): closed: frame too big
 * Levels are the wire's rs_log_level values (error, warn, info, debug); the level can change
 * at run time (LOG_LEVEL output of the core, rosterctl log-level). */
#ifndef ROSTER_NODE_LOG_H
#define ROSTER_NODE_LOG_H

#include <stddef.h>

#include "wire/wire.h"

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

#endif
