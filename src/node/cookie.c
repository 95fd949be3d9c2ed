/* cookie.c: the cluster cookie file, the secret every node of a cluster shares (like
 * Erlang's ~/.erlang.cookie). --cookie-file names it; otherwise the default path is
 * /etc/roster/cookie for root, else $XDG_CONFIG_HOME/roster/cookie, else
 * $HOME/.config/roster/cookie, and a missing default file is created with 32 random bytes
 * (64 hex digits), mode 0600. Its bytes, without trailing whitespace, are the secret; only
 * keys derived from it are kept in memory. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/log.h"
#include "node/peer.h"

#define COOKIE_MAX 4096

static int default_path(char *buf, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int r;
    if (geteuid() == 0)
        r = snprintf(buf, cap, "/etc/roster/cookie");
    else if (xdg && *xdg)
        r = snprintf(buf, cap, "%s/roster/cookie", xdg);
    else if (home && *home)
        r = snprintf(buf, cap, "%s/.config/roster/cookie", home);
    else
        return -1;
    return r > 0 && (size_t)r < cap ? 0 : -1;
}

/* mkdirs creates the parent directories of path (mode 0700 for new ones). */
static int mkdirs(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static int create_cookie(const char *path)
{
    if (mkdirs(path) != 0) {
        rs_log(RS_LOG_ERROR, "cannot create the directory of cookie file %s: %s", path,
               strerror(errno));
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1; /* another node created it meanwhile: use it */
    uint8_t raw[32];
    char hex[2 * sizeof raw + 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    size_t n = strlen(hex);
    hex[n++] = '\n';
    ssize_t w = write(fd, hex, n);
    int e = errno;
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(hex, sizeof hex);
    if (close(fd) != 0 || w != (ssize_t)n) {
        rs_log(RS_LOG_ERROR, "cannot write cookie file %s: %s", path, strerror(e));
        unlink(path);
        return -1;
    }
    rs_log(RS_LOG_INFO, "created a random cluster cookie in %s (copy it to every node of the "
           "cluster)", path);
    return 0;
}

int rs_cookie_load(const struct rsd_config *cfg, struct rs_auth_keys *keys)
{
    char path[512];
    if (cfg->cookie_file) {
        snprintf(path, sizeof path, "%s", cfg->cookie_file);
    } else {
        if (default_path(path, sizeof path) != 0) {
            rs_log(RS_LOG_ERROR, "no cookie file: give --cookie-file (neither $XDG_CONFIG_HOME "
                   "nor $HOME is set)");
            return -1;
        }
        if (access(path, F_OK) != 0 && create_cookie(path) != 0) {
            rs_log(RS_LOG_ERROR, "cannot create cookie file %s: %s", path, strerror(errno));
            return -1;
        }
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rs_log(RS_LOG_ERROR, "cannot open cookie file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        rs_log(RS_LOG_WARN, "cookie file %s is accessible by other users (mode %03o): "
               "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
    uint8_t buf[COOKIE_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rs_log(RS_LOG_ERROR, "cannot read cookie file %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof buf)
            break;
    }
    close(fd);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                   buf[len - 1] == '\t'))
        len--;
    int rc = 0;
    if (len == 0 || len > COOKIE_MAX) {
        rs_log(RS_LOG_ERROR, "cookie file %s: must hold 1..%d bytes of secret", path,
               COOKIE_MAX);
        rc = -1;
    } else {
        if (len < 16)
            rs_log(RS_LOG_WARN, "cookie file %s holds only %zu bytes: a short secret is "
                   "guessable", path, len);
        rs_auth_keys_derive(keys, buf, len);
        rs_log(RS_LOG_INFO, "cluster cookie read from %s", path);
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}
