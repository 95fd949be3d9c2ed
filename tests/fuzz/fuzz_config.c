/* fuzz_config.c: fuzz target for rosterd's flag parser (src/node/config.c), the decoder of
 * the daemon's configuration. Input: NUL-separated argv strings. The parser must never
 * crash, and an accepted configuration must have coherent limits, a bounded socket path
 * and node name, and etcd settings that hold together (a prefix ending in '/', a lease of
 * whole seconds, TLS files only with --etcd, a certificate only with its key and a CA). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = 0;
    char *argv[65];
    int argc = 0;
    argv[argc++] = "rosterd";
    for (size_t i = 0; i <= size && argc < 64;) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;
    /* --config names a file to read: a mutated path could name a terminal or a pipe and
     * block. The file's syntax has its own target (fuzz_conffile). */
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--config", 8)) {
            free(copy);
            return 0;
        }
    FILE *null = fopen("/dev/null", "w");
    struct rsd_config cfg;
    int r = rs_config_parse(&cfg, argc, argv, null, null);
    if (r == RS_CONFIG_OK) {
        if (rs_limits_check(&cfg.limits) != 0)
            abort();
        if (strnlen(cfg.socket_path, sizeof cfg.socket_path) == sizeof cfg.socket_path)
            abort();
        if (strnlen(cfg.name, sizeof cfg.name) == sizeof cfg.name || cfg.name[0] == 0)
            abort();
        if (cfg.listen_port == 0 || cfg.listen_port > 65535)
            abort();
        size_t pl = strlen(cfg.etcd_prefix);
        if (pl == 0 || pl > RS_ETCD_PREFIX_MAX || cfg.etcd_prefix[pl - 1] != '/')
            abort();
        if (cfg.etcd_lease_ttl_ms < 1000 || cfg.etcd_lease_ttl_ms % 1000 != 0)
            abort();
        if (!cfg.etcd && (cfg.etcd_ca || cfg.etcd_cert || cfg.etcd_key))
            abort();
        if (!cfg.etcd_cert != !cfg.etcd_key || (cfg.etcd_cert && !cfg.etcd_ca))
            abort();
        if (cfg.http && (cfg.http_port == 0 || cfg.http_port > 65535 || !cfg.http_host[0]))
            abort();
        if (cfg.log_format != 0 && cfg.log_format != 1)
            abort();
    }
    if (r == RS_CONFIG_OK)
        rs_config_free(&cfg);
    fclose(null);
    free(copy);
    return 0;
}
