/* cookie.c: the cluster cookie file, the secret every node of a cluster shares (like
 * Erlang's ~/.erlang.cookie). --cookie-file names it; otherwise the default path is
 * /etc/roster/cookie for root, else $XDG_CONFIG_HOME/roster/cookie, else
 * $HOME/.config/roster/cookie, and a missing default file is created with 32 random bytes
 * (64 hex digits), mode 0600. Its bytes, without trailing whitespace, are the secret; only
 * keys derived from it are kept in memory. --cookie-file-next names a second cookie that
 * peers may prove with during a rotation (absent or empty: none), and SIGHUP re-reads both
 * files (docs/SECURITY.md, "Rotating the cookie"). */
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

/* read_secret reads the secret of the cookie file at path into buf (without trailing
 * whitespace): 0 with *len set, 1 if optional and the file is absent or holds no secret, or
 * -1 (logged). */
static int read_secret(const char *path, int optional, uint8_t buf[COOKIE_MAX + 1], size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (optional && errno == ENOENT)
            return 1;
        rs_log(RS_LOG_ERROR, "cannot open cookie file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        rs_log(RS_LOG_WARN, "cookie file %s is accessible by other users (mode %03o): "
               "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, COOKIE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rs_log(RS_LOG_ERROR, "cannot read cookie file %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == COOKIE_MAX + 1)
            break;
    }
    close(fd);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                 buf[n - 1] == '\t'))
        n--;
    if (n == 0 && optional)
        return 1;
    if (n == 0 || n > COOKIE_MAX) {
        rs_log(RS_LOG_ERROR, "cookie file %s: must hold 1..%d bytes of secret", path,
               COOKIE_MAX);
        return -1;
    }
    if (n < 16)
        rs_log(RS_LOG_WARN, "cookie file %s holds only %zu bytes: a short secret is "
               "guessable", path, n);
    *len = n;
    return 0;
}

/* load derives keys from the cookie files into *keys; create: a missing default cookie file
 * may be created (at start, not on reload). 0, or -1 (logged; *keys may be half written). */
static int load(const struct rsd_config *cfg, int create, struct rs_auth_keys *keys)
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
        if (create && access(path, F_OK) != 0 && create_cookie(path) != 0) {
            rs_log(RS_LOG_ERROR, "cannot create cookie file %s: %s", path, strerror(errno));
            return -1;
        }
    }
    uint8_t buf[COOKIE_MAX + 1];
    size_t len = 0;
    int rc = read_secret(path, 0, buf, &len);
    if (rc == 0) {
        rs_auth_keys_derive(keys, buf, len);
        rs_log(RS_LOG_INFO, "cluster cookie read from %s", path);
    }
    if (rc == 0 && cfg->cookie_file_next) {
        int r = read_secret(cfg->cookie_file_next, 1, buf, &len);
        if (r == 0) {
            rs_auth_keys_derive_next(keys, buf, len);
            rs_log(RS_LOG_INFO, "next cluster cookie read from %s: peers proving with it are "
                   "accepted too (a rotation)", cfg->cookie_file_next);
        } else if (r == 1) {
            rs_log(RS_LOG_INFO, "no next cluster cookie (%s absent or empty): only the current "
                   "one is accepted", cfg->cookie_file_next);
        } else {
            rc = -1;
        }
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

int rs_cookie_load(const struct rsd_config *cfg, struct rs_auth_keys *keys)
{
    return load(cfg, 1, keys);
}

void rs_cookie_reload(struct rsd *n)
{
    struct rs_auth_keys k;
    memset(&k, 0, sizeof k);
    if (load(n->cfg, 0, &k) == 0) {
        n->keys = k; /* handshakes under way use the new keys from their next step */
        rs_log(RS_LOG_INFO, "cookie files re-read: new handshakes prove with the current "
               "cookie%s; established links keep their keys",
               k.has_next ? " and accept the next one too" : " and accept only it");
    } else {
        rs_log(RS_LOG_ERROR, "cookie files not re-read: keeping the previous cookies");
    }
    sodium_memzero(&k, sizeof k);
}
