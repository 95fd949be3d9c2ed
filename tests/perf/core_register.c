/* core_register.c: the node core's cost of one pipelined REGISTER, with and without the
 * shared-memory region, in one process and without sockets (docs/PERFORMANCE.md, figure 8,
 * third round). rosterd's CPU per register (bench/run_shm_register.sh) also counts the
 * socket, the loop and the scheduler of a loaded machine, which spread runs by 10-30%;
 * this driver feeds one client's REGISTER frames straight into rs_core_apply, so changes of
 * a few per cent in the core's write path can be told apart. Not a test: it asserts
 * nothing but that every register succeeds.
 *
 *   perf_core_register N shm|noshm
 *
 * Prints the CPU time per register (the frame's encoding and decoding included, the same
 * for both kinds), its user and system parts, and the page faults taken. The region is a
 * 1 GiB memfd mapped as rosterd maps it (its pages cost a fault on first write, as in the
 * node). Place it on a CPU with taskset and alternate the kinds, as the figure does. */
#include <roster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "wire/wire.h"

static uint64_t cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static double tv_ns(struct timeval a, struct timeval b)
{
    return (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_usec - a.tv_usec) * 1e3;
}

static void die(const char *what)
{
    fprintf(stderr, "perf_core_register: %s\n", what);
    exit(1);
}

/* feed decodes the frame in b and applies it as a message of client conn 1. */
static void feed(struct rs_core *c, struct rs_outputs *out, const struct rs_buf *b,
                 const struct rs_limits *lim, uint64_t now)
{
    struct rs_msg d;
    if (rs_wire_decode(b->data, b->len, lim, &d) != RS_WIRE_OK)
        die("decode");
    struct rs_input in = {.kind = RS_IN_CLIENT_MSG, .conn = 1, .msg = &d, .now_ms = now};
    if (rs_core_apply(c, &in, out) != 0)
        die("apply: out of memory");
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "shm") != 0 && strcmp(argv[2], "noshm") != 0)) {
        fprintf(stderr, "usage: perf_core_register N shm|noshm\n");
        return 2;
    }
    size_t n = (size_t)strtoull(argv[1], NULL, 10);
    int shm = strcmp(argv[2], "shm") == 0;
    size_t size = (size_t)1 << 30;
    void *base = NULL;
    if (shm) {
        int fd = memfd_create("perf-core-register", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
            die("memfd");
        base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (base == MAP_FAILED)
            die("mmap");
        close(fd);
    }
    struct rs_limits lim;
    rs_limits_default(&lim);
    struct rs_core_config cfg = {.node_name = "a", .incarnation = 0x1234,
                                 .hash_seed = 0x9876543210ull, .now_ms = 1000,
                                 .limits = lim, .shm_base = base, .shm_size = shm ? size : 0};
    struct rs_core *c = rs_core_new(&cfg);
    if (!c)
        die("rs_core_new");
    struct rs_outputs out;
    rs_outputs_init(&out);
    struct rs_input open = {.kind = RS_IN_CLIENT_OPEN, .conn = 1, .os_pid = 1, .now_ms = 1000};
    if (rs_core_apply(c, &open, &out) != 0)
        die("open");
    struct rs_buf b;
    rs_buf_init(&b);
    struct rs_msg hello = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION,
                           .arg = RS_WIRE_MAGIC, .key = rs_bytes_str("perf"), .req_id = 1};
    rs_outputs_reset(&out);
    if (rs_wire_encode(&b, &hello) != 0)
        die("encode");
    feed(c, &out, &b, &lim, 1000);
    struct rs_msg reply;
    size_t flen = 0;
    if (out.n < 1 ||
        rs_wire_frame_next(out.bytes.data + out.v[0].off, out.v[0].len, lim.frame_max,
                           &flen) != RS_WIRE_OK ||
        rs_wire_decode(out.bytes.data + out.v[0].off, flen, &lim, &reply) != RS_WIRE_OK ||
        reply.status != 0)
        die("hello");
    struct rs_pid pid = reply.pid;
    rs_outputs_reset(&out);

    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    uint64_t t0 = cpu_ns();
    char name[32];
    for (size_t i = 0; i < n; i++) {
        /* names as bench_shm's pipelined part: 13 bytes, 1 byte of metadata */
        int len = snprintf(name, sizeof name, "rp/%010zu", i);
        struct rs_msg m = {.type = RS_MSG_REGISTER, .pid = pid,
                           .key = rs_bytes_of((const uint8_t *)name, (size_t)len),
                           .meta = rs_bytes_of((const uint8_t *)"m", 1),
                           .req_id = (uint32_t)i + 2};
        rs_buf_reset(&b);
        if (rs_wire_encode(&b, &m) != 0)
            die("encode");
        feed(c, &out, &b, &lim, 1000 + i / 100000);
        if ((i & 63) == 63) { /* the shell writes the replies: report them flushed */
            struct rs_input fl = {.kind = RS_IN_CLIENT_FLUSHED, .conn = 1,
                                  .n_bytes = out.bytes.len, .now_ms = 1000};
            rs_outputs_reset(&out);
            if (rs_core_apply(c, &fl, &out) != 0)
                die("flushed");
            rs_outputs_reset(&out);
        }
    }
    uint64_t t = cpu_ns() - t0;
    getrusage(RUSAGE_SELF, &r1);
    struct rs_core_stats st;
    rs_core_stats(c, &st);
    if (st.names != n)
        die("not every name was registered");
    printf("%s: %zu registers, CPU %.1f ns per register (user %.1f, system %.1f), "
           "%ld page faults\n",
           argv[2], n, (double)t / (double)n, tv_ns(r0.ru_utime, r1.ru_utime) / (double)n,
           tv_ns(r0.ru_stime, r1.ru_stime) / (double)n, r1.ru_minflt - r0.ru_minflt);
    rs_buf_fini(&b);
    rs_outputs_fini(&out);
    rs_core_free(c);
    if (base)
        munmap(base, size);
    return 0;
}
