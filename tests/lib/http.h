/* http.h: a minimal HTTP/1.0 client for the tests of rosterd --http (metrics, dashboard):
 * a free loopback port to give the node, and one GET with a deadline. */
#ifndef ROSTER_TESTS_HTTP_H
#define ROSTER_TESTS_HTTP_H

#include <stddef.h>

/* http_free_port returns a loopback TCP port nobody listens on now. */
int http_free_port(void);
/* http_get fetches path from 127.0.0.1:port (HTTP/1.0: the server closes; deadline 10 s);
 * returns the status code with the body in buf (NUL-terminated), or -1 if nothing accepts
 * the connection yet. A response larger than cap fails the test. */
int http_get(int port, const char *path, char *buf, size_t cap);

#endif
