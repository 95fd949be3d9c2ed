/* endpoints.c: one gRPC channel per etcd endpoint, plaintext or TLS (CA, optional client
 * certificate), with the response size bound and short reconnect backoff set. */
#include <grpc/grpc_security.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/internal.h"

#define MAX_ENDPOINTS 16
#define MAX_PEM (1 << 20)

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(MAX_PEM + 1);
    size_t n = b ? fread(b, 1, MAX_PEM + 1, f) : 0;
    fclose(f);
    if (!b || n == 0 || n > MAX_PEM) {
        free(b);
        return NULL;
    }
    b[n] = 0;
    return b;
}

static grpc_channel_credentials *credentials(const etcd_config *cfg, const char **err)
{
    if (!cfg->ca_file || !cfg->ca_file[0]) {
        if (cfg->cert_file || cfg->key_file) {
            *err = "etcd: a client certificate needs a CA file (TLS)";
            return NULL;
        }
        return grpc_insecure_credentials_create();
    }
    if (!cfg->cert_file != !cfg->key_file) {
        *err = "etcd: client certificate and key go together";
        return NULL;
    }
    char *ca = read_file(cfg->ca_file);
    char *cert = cfg->cert_file ? read_file(cfg->cert_file) : NULL;
    char *key = cfg->key_file ? read_file(cfg->key_file) : NULL;
    grpc_channel_credentials *cr = NULL;
    if (!ca || (cfg->cert_file && (!cert || !key))) {
        *err = "etcd: cannot read the CA, certificate or key file";
    } else {
        grpc_ssl_pem_key_cert_pair pair = {key, cert};
        cr = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
        if (!cr)
            *err = "etcd: TLS credentials refused";
    }
    free(ca);
    free(cert);
    free(key);
    return cr;
}

/* "http://h:p" and "https://h:p" name the same host:port as "h:p" for gRPC. */
static const char *strip_scheme(const char *e)
{
    if (strncmp(e, "http://", 7) == 0)
        return e + 7;
    if (strncmp(e, "https://", 8) == 0)
        return e + 8;
    return e;
}

int etcd_channels_open(struct etcd_client *c, const etcd_config *cfg, const char **err)
{
    if (!cfg->endpoints || !cfg->endpoints[0]) {
        *err = "etcd: no endpoint given";
        return -1;
    }
    grpc_channel_credentials *cr = credentials(cfg, err);
    if (!cr)
        return -1;
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         {.integer = (int)c->max_response}},
        /* Failover is ours: a dead member must fail fast, and be tried again soon. */
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_ENABLE_RETRIES, {.integer = 0}},
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, {.integer = 100}},
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, {.integer = 100}},
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, {.integer = 1000}},
        /* A silent peer (cut off, stopped) is noticed on long streams; etcd refuses pings
         * closer than 5 s apart by default. */
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = 10000}},
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_KEEPALIVE_TIMEOUT_MS, {.integer = 3000}},
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}},
        /* Each endpoint its own connection, even when two channels name the same host. */
        {GRPC_ARG_INTEGER, (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, {.integer = 1}},
    };
    grpc_channel_args ca = {sizeof(args) / sizeof(args[0]), args};
    char *list = strdup(cfg->endpoints);
    c->ch = calloc(MAX_ENDPOINTS, sizeof(*c->ch));
    int rc = 0;
    if (!list || !c->ch) {
        *err = "etcd: out of memory";
        rc = -1;
    }
    char *save = NULL;
    for (char *t = list ? strtok_r(list, ",", &save) : NULL; t && rc == 0;
         t = strtok_r(NULL, ",", &save)) {
        const char *target = strip_scheme(t);
        if (!target[0])
            continue;
        if (c->n_ch == MAX_ENDPOINTS) {
            *err = "etcd: too many endpoints (16 at most)";
            rc = -1;
            break;
        }
        c->ch[c->n_ch] = grpc_channel_create(target, cr, &ca);
        if (!c->ch[c->n_ch]) {
            *err = "etcd: bad endpoint";
            rc = -1;
            break;
        }
        c->n_ch++;
    }
    if (rc == 0 && c->n_ch == 0) {
        *err = "etcd: no endpoint given";
        rc = -1;
    }
    free(list);
    grpc_channel_credentials_release(cr);
    return rc;
}

void etcd_channels_close(struct etcd_client *c)
{
    for (size_t i = 0; i < c->n_ch; i++)
        grpc_channel_destroy(c->ch[i]);
    free(c->ch);
    c->ch = NULL;
    c->n_ch = 0;
}
