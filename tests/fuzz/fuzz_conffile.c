/* fuzz_conffile.c: fuzz target for rosterd's config file parser (src/node/conffile.c), a
 * decoder of bytes the operator (or anyone who can write the file) controls. It must never
 * crash or read out of bounds; on success every entry has a key of 1..63 bytes of
 * [a-z0-9-], a value without control bytes other than tab and no leading or trailing
 * blank, and lines that increase; on failure the line it names exists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/conffile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rs_conffile f;
    unsigned line;
    char why[160];
    /* an exact-size copy: ASan sees any read past the end */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    if (rs_conffile_parse(text, size, &f, &line, why, sizeof why) == 0) {
        unsigned prev = 0;
        for (size_t i = 0; i < f.n; i++) {
            const struct rs_conf_entry *e = &f.v[i];
            size_t kl = strlen(e->key);
            if (kl == 0 || kl > RS_CONFFILE_KEY_MAX)
                abort();
            for (size_t k = 0; k < kl; k++) {
                char c = e->key[k];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                    abort();
            }
            size_t vl = strlen(e->value);
            for (size_t k = 0; k < vl; k++)
                if ((unsigned char)e->value[k] < 0x20 && e->value[k] != '\t')
                    abort();
            if (vl && (e->value[0] == ' ' || e->value[0] == '\t' || e->value[vl - 1] == ' ' ||
                       e->value[vl - 1] == '\t'))
                abort();
            if (e->line <= prev || e->line > lines)
                abort();
            prev = e->line;
        }
        rs_conffile_free(&f);
    } else {
        if (line > lines || strnlen(why, sizeof why) == sizeof why || f.n != 0 || f.v)
            abort();
    }
    free(text);
    return 0;
}
