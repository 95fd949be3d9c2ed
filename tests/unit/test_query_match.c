/* test_query_match.c: the metadata filter of queries, below the node: the bounded codec of
 * the conditions (wire/query.c) and the matching (wire/match.c): exact, prefix, glob
 * (classes, escapes, backtracking), and a JSON object's top-level field (escapes,
 * surrogate pairs, nesting, malformed input, the depth bound, repeated fields). */
#include <string.h>

#include "test.h"
#include "wire/match.h"
#include "wire/query.h"

static int glob(const char *p, const char *s)
{
    return rs_glob_match((const uint8_t *)p, strlen(p), (const uint8_t *)s, strlen(s));
}

static int field(const char *js, const char *f, const char *v)
{
    return rs_json_field_eq((const uint8_t *)js, strlen(js), (const uint8_t *)f, strlen(f),
                            (const uint8_t *)v, strlen(v));
}

static void test_glob(void)
{
    ASSERT(glob("", ""));
    ASSERT(!glob("", "a"));
    ASSERT(glob("*", ""));
    ASSERT(glob("*", "anything"));
    ASSERT(glob("a*c", "abbbc"));
    ASSERT(glob("a*c", "ac"));
    ASSERT(!glob("a*c", "acb"));
    ASSERT(glob("*b*b*", "abxbx"));
    ASSERT(!glob("*b*b*", "abx"));
    ASSERT(glob("?x?", "axb"));
    ASSERT(!glob("?x?", "ax"));
    ASSERT(glob("[abc]z", "bz"));
    ASSERT(!glob("[abc]z", "dz"));
    ASSERT(glob("[a-c][0-9]", "b7"));
    ASSERT(!glob("[a-c][0-9]", "d7"));
    ASSERT(glob("[!a-c]", "d"));
    ASSERT(glob("[^a-c]", "d"));
    ASSERT(!glob("[!a-c]", "b"));
    ASSERT(glob("[]]", "]"));
    ASSERT(glob("[!]]", "a"));
    ASSERT(glob("\\*", "*"));
    ASSERT(!glob("\\*", "x"));
    ASSERT(glob("a\\?", "a?"));
    ASSERT(glob("[", "["));      /* an unterminated class is a plain '[' */
    ASSERT(glob("x[a", "x[a"));
    ASSERT(glob("\\", "\\"));    /* a trailing backslash is itself */
    ASSERT(glob("region=eu-*", "region=eu-west-1"));
    /* bytes, not characters: '?' takes one byte of a UTF-8 sequence */
    ASSERT(glob("??", "\xc3\xa9"));
    /* the worst case stays polynomial: many stars against a long miss */
    char s[4001];
    memset(s, 'a', 4000);
    s[4000] = 0;
    ASSERT(!glob("*a*a*a*a*a*a*a*a*b", s));
}

static void test_json_field(void)
{
    ASSERT(field("{\"role\":\"admin\"}", "role", "admin"));
    ASSERT(!field("{\"role\":\"admin\"}", "role", "admi"));
    ASSERT(!field("{\"role\":\"admin\"}", "rol", "admin"));
    ASSERT(field(" { \"a\" : 1 , \"role\" : \"x\" } ", "role", "x"));
    /* numbers, literals, objects and arrays compare as written */
    ASSERT(field("{\"port\":8080}", "port", "8080"));
    ASSERT(!field("{\"port\":8080}", "port", "8080.0"));
    ASSERT(field("{\"on\":true,\"off\":false,\"n\":null}", "off", "false"));
    ASSERT(field("{\"on\":true,\"off\":false,\"n\":null}", "n", "null"));
    ASSERT(field("{\"t\":[1,2]}", "t", "[1,2]"));
    ASSERT(field("{\"o\":{\"a\":1}}", "o", "{\"a\":1}"));
    ASSERT(field("{\"x\":-1.5e+3}", "x", "-1.5e+3"));
    /* a string and a number are different values */
    ASSERT(!field("{\"port\":\"8080\"}", "port", "\"8080\""));
    ASSERT(field("{\"port\":\"8080\"}", "port", "8080"));
    /* escapes in keys and values, \u with surrogate pairs */
    ASSERT(field("{\"na\\u006de\":\"caf\\u00e9\"}", "name", "caf\xc3\xa9"));
    ASSERT(field("{\"k\":\"\\ud83d\\ude00\"}", "k", "\xf0\x9f\x98\x80"));
    ASSERT(field("{\"k\":\"a\\\"b\\\\c\\n\"}", "k", "a\"b\\c\n"));
    ASSERT(!field("{\"k\":\"\\ud83d\"}", "k", "x"));   /* lone high surrogate */
    ASSERT(!field("{\"k\":\"\\ude00\"}", "k", "x"));   /* lone low surrogate */
    /* only top-level fields */
    ASSERT(!field("{\"o\":{\"role\":\"admin\"}}", "role", "admin"));
    /* the last of repeated fields decides */
    ASSERT(field("{\"r\":\"a\",\"r\":\"b\"}", "r", "b"));
    ASSERT(!field("{\"r\":\"a\",\"r\":\"b\"}", "r", "a"));
    /* not an object, or malformed anywhere: no match */
    ASSERT(!field("[\"role\",\"admin\"]", "role", "admin"));
    ASSERT(!field("\"admin\"", "role", "admin"));
    ASSERT(!field("plain text", "role", "admin"));
    ASSERT(!field("", "role", "admin"));
    ASSERT(!field("{\"role\":\"admin\"", "role", "admin"));
    ASSERT(!field("{\"role\":\"admin\"} x", "role", "admin"));
    ASSERT(!field("{\"role\":\"admin\",}", "role", "admin"));
    ASSERT(!field("{\"role\":\"admin\",\"x\":01}", "role", "admin"));
    ASSERT(!field("{\"role\":\"adm\x01in\"}", "role", "adm\x01in")); /* raw control byte */
    ASSERT(!field("{\"role\":\"admin\",\"x\":tru}", "role", "admin"));
    ASSERT(!field("{\"x\":1,\"role\":\"a\\q\"}", "role", "a"));
    ASSERT(field("{}", "", "") == 0);
    /* nesting up to the bound is followed; past it the object does not match */
    char deep[300];
    size_t n = 0;
    n += (size_t)sprintf(deep + n, "{\"r\":\"a\",\"d\":");
    for (int i = 0; i < 62; i++)
        deep[n++] = '[';
    for (int i = 0; i < 62; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    ASSERT(field(deep, "r", "a"));
    n = 0;
    n += (size_t)sprintf(deep + n, "{\"r\":\"a\",\"d\":");
    for (int i = 0; i < 64; i++)
        deep[n++] = '[';
    for (int i = 0; i < 64; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    ASSERT(!field(deep, "r", "a"));
}

static int match1(uint8_t op, const char *f, const char *v, const char *meta)
{
    struct rs_qfilter q = {1, {{op, rs_bytes_str(f ? f : ""), rs_bytes_str(v)}}};
    return rs_filter_match(&q, (const uint8_t *)meta, strlen(meta));
}

static void test_filter(void)
{
    struct rs_qfilter none = {0};
    ASSERT(rs_filter_match(&none, NULL, 0));
    ASSERT(match1(RS_QOP_EQ, NULL, "abc", "abc"));
    ASSERT(!match1(RS_QOP_EQ, NULL, "abc", "abcd"));
    ASSERT(match1(RS_QOP_EQ, NULL, "", ""));
    ASSERT(match1(RS_QOP_PREFIX, NULL, "ab", "abc"));
    ASSERT(match1(RS_QOP_PREFIX, NULL, "", "abc"));
    ASSERT(!match1(RS_QOP_PREFIX, NULL, "abcd", "abc"));
    ASSERT(match1(RS_QOP_GLOB, NULL, "a*", "abc"));
    ASSERT(match1(RS_QOP_FIELD, "k", "v", "{\"k\":\"v\"}"));
    /* all conditions must hold */
    struct rs_qfilter two = {2,
                             {{RS_QOP_PREFIX, rs_bytes_str(""), rs_bytes_str("{")},
                              {RS_QOP_FIELD, rs_bytes_str("k"), rs_bytes_str("v")}}};
    const char *m = "{\"k\":\"v\"}";
    ASSERT(rs_filter_match(&two, (const uint8_t *)m, strlen(m)));
    two.c[1].value = rs_bytes_str("w");
    ASSERT(!rs_filter_match(&two, (const uint8_t *)m, strlen(m)));
}

static void test_codec(void)
{
    struct rs_qfilter f = {3,
                           {{RS_QOP_EQ, rs_bytes_str(""), rs_bytes_str("x")},
                            {RS_QOP_FIELD, rs_bytes_str("role"), rs_bytes_str("admin")},
                            {RS_QOP_GLOB, rs_bytes_str(""), rs_bytes_str("")}}};
    struct rs_buf b;
    rs_buf_init(&b);
    const char *why;
    ASSERT_EQ(rs_qfilter_encode(&b, &f, &why), 0);
    ASSERT_EQ(b.len, (3 + 4 + 1) + (3 + 4 + 4 + 5) + (3 + 4));
    struct rs_qfilter d;
    ASSERT_EQ(rs_qfilter_decode(b.data, b.len, &d, &why), 0);
    ASSERT_EQ(d.n, 3);
    ASSERT_EQ(d.c[1].op, RS_QOP_FIELD);
    ASSERT(d.c[1].field.len == 4 && memcmp(d.c[1].field.ptr, "role", 4) == 0);
    ASSERT(d.c[1].value.len == 5 && memcmp(d.c[1].value.ptr, "admin", 5) == 0);
    /* every truncation is refused, never read past */
    for (size_t n = 1; n < b.len; n++) {
        uint8_t *cut = malloc(n);
        memcpy(cut, b.data, n);
        int r = rs_qfilter_decode(cut, n, &d, &why);
        /* a cut that ends exactly between two conditions is a shorter valid filter */
        if (n != 8 && n != 24)
            ASSERT_EQ(r, -1);
        free(cut);
    }
    ASSERT_EQ(rs_qfilter_decode(b.data, 0, &d, &why), 0);
    ASSERT_EQ(d.n, 0);
    /* rules: unknown op, field on a non-field op, empty field, long glob, too many */
    uint8_t bad_op[] = {9, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ(rs_qfilter_decode(bad_op, sizeof bad_op, &d, &why), -1);
    uint8_t eq_field[] = {1, 1, 0, 'f', 0, 0, 0, 0};
    ASSERT_EQ(rs_qfilter_decode(eq_field, sizeof eq_field, &d, &why), -1);
    uint8_t no_field[] = {4, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ(rs_qfilter_decode(no_field, sizeof no_field, &d, &why), -1);
    uint8_t huge[] = {1, 0, 0, 0xff, 0xff, 0xff, 0xff};
    ASSERT_EQ(rs_qfilter_decode(huge, sizeof huge, &d, &why), -1);
    struct rs_qfilter g = {1, {{RS_QOP_GLOB, rs_bytes_str(""), rs_bytes_of(NULL, 0)}}};
    static uint8_t pat[RS_QUERY_GLOB_MAX + 1];
    memset(pat, '*', sizeof pat);
    g.c[0].value = rs_bytes_of(pat, RS_QUERY_GLOB_MAX);
    rs_buf_reset(&b);
    ASSERT_EQ(rs_qfilter_encode(&b, &g, &why), 0);
    g.c[0].value = rs_bytes_of(pat, RS_QUERY_GLOB_MAX + 1);
    ASSERT_EQ(rs_qfilter_encode(&b, &g, &why), -1);
    ASSERT(why != NULL);
    rs_buf_reset(&b);
    struct rs_qfilter one = {1, {{RS_QOP_EQ, rs_bytes_str(""), rs_bytes_str("")}}};
    for (unsigned i = 0; i <= RS_QUERY_CONDS_MAX; i++)
        ASSERT_EQ(rs_qfilter_encode(&b, &one, &why), 0);
    ASSERT_EQ(rs_qfilter_decode(b.data, b.len, &d, &why), -1); /* 9 conditions */
    rs_buf_fini(&b);
}

TEST_MAIN(T(test_glob), T(test_json_field), T(test_filter), T(test_codec))
