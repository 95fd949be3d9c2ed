/* config.h: rosterd's command-line flags turned into a validated configuration. Parsing
 * does no I/O besides checking the files and directories the flags name, so it is
 * unit-testable; main.c prints the messages and picks the exit code. */
#ifndef ROSTER_NODE_CONFIG_H
#define ROSTER_NODE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "base/limits.h"

#define RS_LISTEN_DEFAULT "127.0.0.1:7400"

struct rs_node_config {
    char name[RS_NODE_NAME_MAX + 1];
    char listen_host[256];
    unsigned listen_port;
    char socket_path[108]; /* sizeof sockaddr_un.sun_path */
    const char *cookie_file; /* argv string or NULL */
    const char *data_dir;    /* argv string or NULL */
    int log_level;
    struct rs_limits limits;
};

enum rs_config_result {
    RS_CONFIG_OK = 0,      /* run the node */
    RS_CONFIG_HELP = 1,    /* --help printed: exit 0 */
    RS_CONFIG_VERSION = 2, /* --version printed: exit 0 */
    RS_CONFIG_ERROR = 3,   /* bad usage, message written: exit 2 */
};

/* rs_config_parse fills *cfg from argv (defaults for what is absent). Help and version text
 * go to out, error messages to err. */
int rs_config_parse(struct rs_node_config *cfg, int argc, char **argv, FILE *out, FILE *err);

/* rs_config_parse_hostport parses HOST:PORT (HOST may be [v6]); 0 or -1. */
int rs_config_parse_hostport(const char *s, char *host, size_t host_cap, unsigned *port);

void rs_config_usage(FILE *f);

#endif
