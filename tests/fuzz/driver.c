/* driver.c: replays a fuzz target's corpus without libFuzzer (gcc builds, ctest), then runs
 * N seeded random mutations of the corpus entries (bit flips, truncation, length-field
 * damage, splices), so every decoder is exercised on every `make test` under the sanitizers.
 * Usage: replay_<target> CORPUS_DIR [N_MUTATIONS] [SEED] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUTS 4096
#define MAX_SIZE (1u << 20)

static uint8_t *inputs[MAX_INPUTS];
static size_t sizes[MAX_INPUTS];
static size_t n_inputs;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void load(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open corpus %s\n", dir);
        exit(1);
    }
    struct dirent *e;
    while ((e = readdir(d)) && n_inputs < MAX_INPUTS) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc(MAX_SIZE);
        size_t n = fread(buf, 1, MAX_SIZE, f);
        fclose(f);
        inputs[n_inputs] = buf;
        sizes[n_inputs++] = n;
    }
    closedir(d);
}

static size_t mutate(uint8_t *buf, size_t n)
{
    int rounds = 1 + (int)(rnd() % 4);
    for (int r = 0; r < rounds; r++) {
        switch (rnd() % 6) {
        case 0: /* flip a bit */
            if (n)
                buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1: /* truncate */
            if (n)
                n = (size_t)(rnd() % n);
            break;
        case 2: /* random byte */
            if (n)
                buf[rnd() % n] = (uint8_t)rnd();
            break;
        case 3: /* damage a 32-bit length-like field */
            if (n >= 4) {
                size_t at = rnd() % (n - 3);
                uint32_t v = (rnd() % 2) ? 0xffffffffu : (uint32_t)(rnd() % 70000);
                memcpy(buf + at, &v, 4);
            }
            break;
        case 4: /* splice another input's tail */
            if (n_inputs) {
                size_t k = rnd() % n_inputs;
                size_t at = n ? rnd() % n : 0;
                size_t take = sizes[k] ? rnd() % sizes[k] : 0;
                if (at + take > MAX_SIZE)
                    take = MAX_SIZE - at;
                memcpy(buf + at, inputs[k], take);
                n = at + take;
            }
            break;
        case 5: /* append random bytes */
            for (int i = 0; i < 16 && n < MAX_SIZE; i++)
                buf[n++] = (uint8_t)rnd();
            break;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [N_MUTATIONS] [SEED]\n", argv[0]);
        return 2;
    }
    load(argv[1]);
    long n_mut = argc > 2 ? atol(argv[2]) : 10000;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x9e3779b97f4a7c15ull;
    if (!rng_state)
        rng_state = 1;
    for (size_t i = 0; i < n_inputs; i++)
        LLVMFuzzerTestOneInput(inputs[i], sizes[i]);
    uint8_t *buf = malloc(MAX_SIZE);
    for (long i = 0; i < n_mut && n_inputs; i++) {
        size_t k = rnd() % n_inputs;
        memcpy(buf, inputs[k], sizes[k]);
        size_t n = mutate(buf, sizes[k]);
        LLVMFuzzerTestOneInput(buf, n);
    }
    free(buf);
    for (size_t i = 0; i < n_inputs; i++)
        free(inputs[i]);
    printf("replayed %zu corpus inputs and %ld mutations: 1 passed, 0 failed\n", n_inputs, n_mut);
    return n_inputs ? 0 : 1;
}
