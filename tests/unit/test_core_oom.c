/* test_core_oom.c: memory exhaustion. A scripted session runs with the allocator failing at
 * the n-th allocation, for every n until the script completes: the failing apply must
 * return -1 (never crash), and the core must still free cleanly (the sanitizers check for
 * leaks and bad accesses). */
#include "core_harness.h"
#include "fault.h"

/* Runs the script; returns 1 if it completed, 0 if an apply returned -1. */
static int script(struct rs_core *c, struct rs_outputs *out)
{
    struct rs_pid p1 = {H_INC, 1}, p2 = {H_INC, 2}, p3 = {H_INC, 3};
    struct rs_msg hello = {.type = RS_MSG_HELLO, .opts = RS_WIRE_VERSION, .arg = RS_WIRE_MAGIC};
    const struct {
        int kind;
        uint64_t conn;
        struct rs_msg m;
    } steps[] = {
        {RS_IN_CLIENT_OPEN, 1, {0}},
        {RS_IN_CLIENT_MSG, 1, hello},
        {RS_IN_CLIENT_OPEN, 2, {0}},
        {RS_IN_CLIENT_MSG, 2, hello},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_MONITOR, .pid = p1}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_PID_NEW}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_REGISTER, .pid = p1, .key = {(const uint8_t *)"a", 1},
                               .meta = {(const uint8_t *)"m", 1}}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_REGISTER, .pid = p1, .key = {(const uint8_t *)"a", 1},
                               .meta = {(const uint8_t *)"n", 1}}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_REGISTER, .pid = p3, .key = {(const uint8_t *)"b", 1}}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_JOIN, .pid = p1, .key = {(const uint8_t *)"g", 1},
                               .meta = {(const uint8_t *)"x", 1}}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_JOIN, .pid = p3, .key = {(const uint8_t *)"g", 1}}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_JOIN, .pid = p3, .key = {(const uint8_t *)"g", 1},
                               .meta = {(const uint8_t *)"y", 1}}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_SUBSCRIBE, .opts = ROSTER_SUB_ALL | ROSTER_SUB_SNAPSHOT}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_SCOPE_CREATE, .scope = {(const uint8_t *)"s", 1}}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_SCOPES}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_NAMES}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_NAMES, .pid = p1}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_GROUPS}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_GROUPS, .pid = p3}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_MEMBERS, .key = {(const uint8_t *)"g", 1}}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_STATUS}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_LOG_LEVEL, .opts = 2}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_LEAVE, .pid = p1, .key = {(const uint8_t *)"g", 1}}},
        {RS_IN_CLIENT_MSG, 1, {.type = RS_MSG_PID_CLOSE, .pid = p3}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_MONITOR, .pid = p3}},
        {RS_IN_CLIENT_GONE, 1, {0}},
        {RS_IN_CLIENT_MSG, 2, {.type = RS_MSG_REGISTER, .pid = p2, .key = {(const uint8_t *)"c", 1}}},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct rs_input in = {.kind = (enum rs_input_kind)steps[i].kind, .conn = steps[i].conn,
                              .msg = &steps[i].m};
        rs_outputs_reset(out);
        if (rs_core_apply(c, &in, out) != 0)
            return 0;
    }
    return 1;
}

static void test_every_allocation_failure(void)
{
    rs_alloc_set(fault_malloc, fault_realloc, fault_free);
    int completed = 0;
    long n;
    for (n = 0; n < 5000 && !completed; n++) {
        struct rs_limits lim;
        rs_limits_default(&lim);
        struct rs_core_config cfg = {.node_name = "node-a", .incarnation = H_INC,
                                     .hash_seed = 99, .limits = lim};
        fault_off();
        struct rs_core *c = rs_core_new(&cfg);
        ASSERT(c != NULL);
        struct rs_outputs out;
        rs_outputs_init(&out);
        fault_plan(n + 1, FAULT_FOREVER); /* n allocations succeed, then none */
        completed = script(c, &out);
        /* -1 only when an allocation really failed */
        ASSERT(completed || fault_failures() > 0);
        fault_off();
        rs_outputs_fini(&out);
        rs_core_free(c);
    }
    ASSERT(completed);
    fprintf(stderr, "script needs %ld allocations; every failure point tried\n", n - 1);
    ASSERT(n > 20);
    /* rs_core_new itself */
    for (long k = 0; k < 20; k++) {
        struct rs_limits lim;
        rs_limits_default(&lim);
        struct rs_core_config cfg = {.node_name = "node-a", .incarnation = H_INC,
                                     .hash_seed = 99, .limits = lim};
        fault_plan(k + 1, FAULT_FOREVER);
        struct rs_core *c = rs_core_new(&cfg);
        fault_off();
        rs_core_free(c);
    }
    rs_alloc_set(NULL, NULL, NULL);
}

static void test_bad_config(void)
{
    struct rs_limits lim;
    rs_limits_default(&lim);
    struct rs_core_config cfg = {.node_name = "", .incarnation = H_INC, .hash_seed = 1,
                                 .limits = lim};
    ASSERT(rs_core_new(&cfg) == NULL);
    cfg.node_name = NULL;
    ASSERT(rs_core_new(&cfg) == NULL);
    cfg.node_name = "a";
    cfg.limits.frame_max = 10;
    ASSERT(rs_core_new(&cfg) == NULL);
    ASSERT(rs_core_new(NULL) == NULL);
    rs_core_free(NULL);
}

TEST_MAIN(T(test_every_allocation_failure), T(test_bad_config))
