/* test_log_json.c: --log-format json writes one JSON object per line with the stable keys
 * ts, level, node, pid, msg, in that order; text from outside (here a config file's path)
 * is escaped so that quotes, newlines, control bytes and invalid UTF-8 never break a line
 * or the JSON. The escaper is also checked byte for byte. */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonv.h"
#include "node.h"
#include "node/log.h"
#include "test.h"

static void esc_is(const char *in, size_t len, const char *want)
{
    char out[512];
    size_t n = rs_log_json_escape(out, sizeof out - 1, in, len);
    out[n] = 0;
    ASSERT_STR_EQ(out, want);
}

static void test_escape(void)
{
    esc_is("plain", 5, "plain");
    esc_is("a\"b\\c", 5, "a\\\"b\\\\c");
    esc_is("l1\nl2\r\t\b\f", 9, "l1\\nl2\\r\\t\\b\\f");
    esc_is("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
    esc_is("nul\0x", 5, "nul\\u0000x");
    /* valid UTF-8 passes through: e-acute, euro, an emoji */
    esc_is("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    /* invalid: stray continuation, overlong, surrogate, past U+10FFFF, F5, truncated */
    esc_is("\x80", 1, "\\ufffd");
    esc_is("\xc0\xaf", 2, "\\ufffd\\ufffd");
    esc_is("\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd");
    esc_is("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");
    esc_is("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd");
    esc_is("\xf5", 1, "\\ufffd");
    esc_is("\xe2\x82", 2, "\\ufffd\\ufffd");
    esc_is("\xc3\x28", 2, "\\ufffd(");
    /* a full buffer never cuts an escape or a sequence */
    char out[8];
    ASSERT_EQ(rs_log_json_escape(out, 7, "ab\x01", 3), 2);
    ASSERT_EQ(rs_log_json_escape(out, 3, "a\xe2\x82\xac", 4), 1);
}

/* Every byte value, alone and in pairs, gives a line that is valid JSON. */
static void test_lines_always_valid(void)
{
    static char line[16384];
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b += 7) {
            char msg[3] = {(char)a, (char)b, '"'};
            size_t n = rs_log_format_line(line, sizeof line - 1, RS_LOG_FORMAT_JSON,
                                          RS_LOG_WARN, msg, 3);
            line[n] = 0;
            ASSERT(memchr(line, '\n', n) == NULL);
            json_check_line(__FILE__, __LINE__, line);
        }
    /* a message longer than the line: cut, still valid, still closed */
    static char big[20000];
    memset(big, '\x01', sizeof big);
    size_t n = rs_log_format_line(line, 600, RS_LOG_FORMAT_JSON, RS_LOG_INFO, big, sizeof big);
    line[n] = 0;
    ASSERT(n <= 600);
    json_check_line(__FILE__, __LINE__, line);
    /* text format: control bytes become '?' */
    n = rs_log_format_line(line, sizeof line - 1, RS_LOG_FORMAT_TEXT, RS_LOG_INFO, "a\nb", 3);
    line[n] = 0;
    ASSERT(strstr(line, " info a?b"));
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, buf, cap - 1);
    close(fd);
    buf[r > 0 ? r : 0] = 0;
    return r > 0 ? (size_t)r : 0;
}

static void test_daemon_json(void)
{
    char dir[] = "/tmp/roster-logjson-XXXXXX";
    ASSERT(mkdtemp(dir));
    /* a config file whose name holds a quote, a newline, a control byte, invalid UTF-8
     * and valid UTF-8: rosterd logs the path it read */
    char path[256];
    snprintf(path, sizeof path, "%s/we\"ird\n\x01\xff\xc3\x28 \xc3\xa9.conf", dir);
    FILE *f = fopen(path, "w");
    ASSERT(f);
    fputs("# the format comes from the file\nlog-format = json\n", f);
    fclose(f);
    struct test_node n;
    const char *args[] = {"--name", "jsonnode", "--config", path, NULL};
    test_node_start(&n, args);
    static char log[1 << 16];
    uint64_t deadline = test_now_ms() + 10000;
    while (!strstr(log, "serving clients")) {
        ASSERT(test_now_ms() < deadline);
        read_file(n.log, log, sizeof log);
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    test_node_stop_ok(&n); /* removes the log: what was read above is checked */
    unlink(path);
    rmdir(dir);
    int lines = json_check_lines(__FILE__, __LINE__, log);
    ASSERT(lines >= 3);
    for (char *l = log; *l;) {
        char *nl = strchr(l, '\n');
        *nl = 0;
        ASSERT(!strncmp(l, "{\"ts\":\"20", 9));
        ASSERT(strstr(l, "\",\"level\":\""));
        ASSERT(strstr(l, "\",\"node\":\"jsonnode\",\"pid\":"));
        ASSERT(strstr(l, ",\"msg\":\""));
        ASSERT(!strcmp(nl - 2, "\"}"));
        l = nl + 1;
    }
    ASSERT(strstr(log, "we\\\"ird\\n\\u0001\\ufffd\\ufffd( \xc3\xa9.conf: 1 setting(s)"));
    ASSERT(strstr(log, "\"level\":\"info\""));
}

static void test_flag_refused(void)
{
    char out[4096];
    const char *av[] = {ROSTERD_PATH, "--log-format", "xml", NULL};
    ASSERT_EQ(test_run_cmd(av, out, sizeof out), 2);
    ASSERT_EQ(rs_log_format_parse("json"), RS_LOG_FORMAT_JSON);
    ASSERT_EQ(rs_log_format_parse("text"), RS_LOG_FORMAT_TEXT);
    ASSERT_EQ(rs_log_format_parse("JSON"), -1);
}

TEST_MAIN(T(test_escape), T(test_lines_always_valid), T(test_daemon_json),
          T(test_flag_refused))
