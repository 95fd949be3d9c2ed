/* access_cfg.c: parsing of rosterd's access and fairness flags (access_cfg.h). User and
 * group names are resolved with the C library (NSS) when the flag or the rule file is read,
 * so a rule naming an unknown user is refused then, with its line, not at a client's
 * connect. */
#include "node/access_cfg.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "base/acl.h"
#include "node/conffile.h"

static int user_id(void *ctx, const char *name, uint32_t *id)
{
    (void)ctx;
    struct passwd *pw = getpwnam(name);
    if (!pw)
        return -1;
    *id = (uint32_t)pw->pw_uid;
    return 0;
}

static int group_id(void *ctx, const char *name, uint32_t *id)
{
    (void)ctx;
    struct group *gr = getgrnam(name);
    if (!gr)
        return -1;
    *id = (uint32_t)gr->gr_gid;
    return 0;
}

/* id_value reads a --socket-owner / --socket-group value: a number or a name. */
static int id_value(const char *val, int user, uint32_t *id)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(val, &end, 10);
    if (*val >= '0' && *val <= '9' && !*end && !errno && x < 0xffffffffull) {
        *id = (uint32_t)x;
        return 0;
    }
    return user ? user_id(NULL, val, id) : group_id(NULL, val, id);
}

static int parse_u64(const char *s, uint64_t *v)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

void rsd_access_cfg_defaults(struct rsd_access_cfg *a)
{
    memset(a, 0, sizeof *a);
    a->mode = RSD_SOCKET_MODE_DEFAULT;
    a->client_burst = RSD_CLIENT_BURST_DEFAULT;
}

void rsd_access_cfg_free(struct rsd_access_cfg *a)
{
    rs_acl_free(a->acl);
    a->acl = NULL;
}

int rsd_access_cfg_set(struct rsd_access_cfg *a, const char *name, const char *val, FILE *err)
{
    if (!strcmp(name, "acl")) {
        if (!*val) {
            fprintf(err, "rosterd: --acl: empty path\n");
            return -1;
        }
        a->acl_path = val; /* read once every flag is in: rsd_access_cfg_load */
        return 0;
    }
    if (!strcmp(name, "socket-owner") || !strcmp(name, "socket-group")) {
        int user = name[7] == 'o';
        uint32_t id;
        if (id_value(val, user, &id) != 0) {
            fprintf(err, "rosterd: --%s '%s': no such %s (a name or a number)\n", name, val,
                    user ? "user" : "group");
            return -1;
        }
        if (user) {
            a->owner = id;
            a->owner_set = 1;
        } else {
            a->group = id;
            a->group_set = 1;
        }
        return 0;
    }
    if (!strcmp(name, "socket-mode")) {
        char *end;
        errno = 0;
        unsigned long m = strtoul(val, &end, 8);
        if (!*val || *end || errno || m > 0777) {
            fprintf(err,
                    "rosterd: --socket-mode '%s': expected octal permission bits, 0..0777 "
                    "(e.g. 0660)\n",
                    val);
            return -1;
        }
        a->mode = (unsigned)m;
        return 0;
    }
    if (!strcmp(name, "max-memory")) {
        uint64_t v;
        if (parse_u64(val, &v) != 0 || (v != 0 && v < (16u << 20))) {
            fprintf(err,
                    "rosterd: --max-memory '%s': expected 0 (none) or a number of bytes "
                    ">= 16777216\n",
                    val);
            return -1;
        }
        a->max_memory = v;
        return 0;
    }
    if (!strcmp(name, "client-rate") || !strcmp(name, "client-burst")) {
        uint64_t v;
        int burst = name[7] == 'b';
        if (parse_u64(val, &v) != 0 || v > 100000000u || (burst && v == 0)) {
            fprintf(err, "rosterd: --%s '%s': expected a number of requests in %s..100000000\n",
                    name, val, burst ? "1" : "0");
            return -1;
        }
        if (burst)
            a->client_burst = (unsigned)v;
        else
            a->client_rate = (unsigned)v;
        return 0;
    }
    return 1;
}

int rsd_access_cfg_load(struct rsd_access_cfg *a, FILE *err)
{
    rs_acl_free(a->acl);
    a->acl = NULL;
    if (!a->acl_path)
        return 0;
    char *text, why[200];
    size_t len;
    if (rs_conffile_read(a->acl_path, &text, &len, why, sizeof why) != 0) {
        fprintf(err, "rosterd: --acl %s: %s\n", a->acl_path, why);
        return -1;
    }
    struct rs_acl_resolver res = {user_id, group_id, NULL};
    unsigned line;
    int r = rs_acl_parse(text, len, &res, &a->acl, &line, why, sizeof why);
    free(text);
    if (r == -2) {
        fprintf(err, "rosterd: --acl %s: out of memory\n", a->acl_path);
        return -1;
    }
    if (r != 0) {
        if (line)
            fprintf(err, "rosterd: --acl %s:%u: %s\n", a->acl_path, line, why);
        else
            fprintf(err, "rosterd: --acl %s: %s\n", a->acl_path, why);
        return -1;
    }
    return 0;
}
