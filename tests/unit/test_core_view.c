/* test_core_view.c: the core's read-only views for the dashboard (core.h): names and groups
 * by prefix with a bound and a total, what one pid holds, and the event tap, which sees
 * every change (with or without subscribers), costs nothing once removed, and never
 * changes what subscribers get. */
#include "core_harness.h"

struct seen {
    char keys[16][32];
    uint64_t members[16];
    size_t n;
};

static void on_entry(void *ctx, const struct rs_core_entry_view *v)
{
    struct seen *s = ctx;
    ASSERT(s->n < 16 && v->key_len < 32);
    memcpy(s->keys[s->n], v->key, v->key_len);
    s->keys[s->n][v->key_len] = 0;
    s->members[s->n] = v->members;
    s->n++;
}

static int has(const struct seen *s, const char *k)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->keys[i], k) == 0)
            return 1;
    return 0;
}

static void test_names_groups_views(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "svc.a", ""), 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "svc.b", "meta"), 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "db", ""), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "workers", ""), 0);
    struct seen s = {0};
    ASSERT_EQ(rs_core_names_view(h.core, "default", 7, "svc.", 4, 10, on_entry, &s), 2);
    ASSERT(s.n == 2 && has(&s, "svc.a") && has(&s, "svc.b") && !has(&s, "db"));
    memset(&s, 0, sizeof s);
    /* the bound: one listed, all three counted; an empty scope name is the default */
    ASSERT_EQ(rs_core_names_view(h.core, "", 0, "", 0, 1, on_entry, &s), 3);
    ASSERT_EQ(s.n, 1);
    memset(&s, 0, sizeof s);
    ASSERT_EQ(rs_core_groups_view(h.core, "default", 7, "w", 1, 10, on_entry, &s), 1);
    ASSERT(s.n == 1 && has(&s, "workers") && s.members[0] == 1);
    ASSERT_EQ(rs_core_names_view(h.core, "nope", 4, "", 0, 10, on_entry, &s), -1);
    memset(&s, 0, sizeof s);
    ASSERT_EQ(rs_core_members_view(h.core, "default", 7, "workers", 7, 10, on_entry, &s), 1);
    ASSERT(s.n == 1 && has(&s, "workers"));
    ASSERT_EQ(rs_core_members_view(h.core, "default", 7, "none", 4, 10, on_entry, &s), -1);
    h_fini(&h);
}

struct items {
    size_t names, groups, monitors;
};

static void on_item(void *ctx, const struct rs_core_pid_item *it)
{
    struct items *x = ctx;
    if (it->kind == 'n')
        x->names++;
    else if (it->kind == 'g')
        x->groups++;
    else if (it->kind == 'm')
        x->monitors++;
}

static void test_pid_view(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    h_hello(&h, 2);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "a", ""), 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "b", ""), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", ""), 0);
    h_monitor(&h, 2, p);
    struct items x = {0};
    ASSERT_EQ(rs_core_pid_view(h.core, p.inc, p.serial, on_item, &x), 1);
    ASSERT(x.names == 2 && x.groups == 1 && x.monitors == 1);
    ASSERT_EQ(rs_core_pid_view(h.core, p.inc, p.serial + 100, on_item, &x), 0);
    h_fini(&h);
}

struct taps {
    uint32_t kinds[32];
    char keys[32][16];
    size_t n;
};

static void on_tap(void *ctx, const struct rs_core_tap_event *e)
{
    struct taps *t = ctx;
    ASSERT(t->n < 32 && e->key_len < 16);
    t->kinds[t->n] = e->kind;
    memcpy(t->keys[t->n], e->key, e->key_len);
    t->keys[t->n][e->key_len] = 0;
    t->n++;
}

static void test_tap(void)
{
    struct harness h;
    h_init(&h, NULL);
    struct rs_pid p = h_hello(&h, 1);
    struct taps t = {0};
    rs_core_set_tap(h.core, on_tap, &t);
    /* nobody subscribed: the tap sees every change all the same */
    ASSERT_EQ(h_register(&h, 1, p, NULL, "x", ""), 0);
    ASSERT_EQ(h_join(&h, 1, p, NULL, "g", ""), 0);
    ASSERT_EQ(h_leave(&h, 1, p, NULL, "g"), 0);
    ASSERT_EQ(h_unregister(&h, 1, NULL, "x"), 0);
    ASSERT_EQ(t.n, 4);
    ASSERT(t.kinds[0] == ROSTER_EV_REGISTERED && strcmp(t.keys[0], "x") == 0);
    ASSERT(t.kinds[1] == ROSTER_EV_JOINED && strcmp(t.keys[1], "g") == 0);
    ASSERT(t.kinds[2] == ROSTER_EV_LEFT);
    ASSERT(t.kinds[3] == ROSTER_EV_UNREGISTERED);
    /* a subscriber gets its events as before, once each */
    h_hello(&h, 2);
    h_subscribe(&h, 2, NULL, "", 0);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "y", ""), 0);
    ASSERT_EQ(h_nevents(&h, 2), 1); /* frames of the last apply */
    ASSERT_EQ(t.n, 5);
    /* removed: nothing more */
    rs_core_set_tap(h.core, NULL, NULL);
    ASSERT_EQ(h_register(&h, 1, p, NULL, "z", ""), 0);
    ASSERT_EQ(t.n, 5);
    h_fini(&h);
}

TEST_MAIN(T(test_names_groups_views), T(test_pid_view), T(test_tap))
