/* jsonv.h: a strict JSON validator for tests of rosterctl --json output. */
#ifndef ROSTER_TESTS_JSONV_H
#define ROSTER_TESTS_JSONV_H

/* json_valid: text (NUL-terminated, no newline) is exactly one JSON value (RFC 8259, no
 * duplicate keys in an object). */
int json_valid(const char *text);
/* json_check_line fails the test unless text (a line without its '\n') is one JSON value. */
void json_check_line(const char *file, int line, const char *text);
/* json_check_lines checks every line of text: each ends with '\n' and is one JSON value;
 * returns the number of lines. */
int json_check_lines(const char *file, int line, const char *text);

#endif
