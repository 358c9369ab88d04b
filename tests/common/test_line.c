/*
 * test_line — line framing: lines split across feeds, CRLF, empty lines,
 * oversize lines dropped and recovered from, and many lines in one feed.
 */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "err.h"
#include "line.h"

/* Pop one line and compare it with want (NULL = expect none). */
static void expect_line(struct line_buf *lb, const char *want)
{
    char *l = NULL;
    size_t n = 0;
    int got = line_buf_next(lb, &l, &n);
    if (!want) {
        CHECK_EQ_INT(got, 0);
        return;
    }
    CHECK_EQ_INT(got, 1);
    if (got == 1) {
        CHECK_EQ_STR(l, want);
        CHECK_EQ_INT(n, strlen(want));
        CHECK_EQ_INT(strlen(l), n); /* NUL-terminated at n */
    }
}

static void test_split(void)
{
    struct line_buf lb;
    line_buf_init(&lb, 0);
    CHECK_EQ_INT(lb.max, LINE_MAX_BYTES);
    expect_line(&lb, NULL);
    CHECK_EQ_INT(line_buf_feed(&lb, "{\"op\":", 6), 0);
    expect_line(&lb, NULL);
    CHECK_EQ_INT(line_buf_pending(&lb), 6);
    CHECK_EQ_INT(line_buf_feed(&lb, "\"status\"}", 9), 0);
    expect_line(&lb, NULL);
    CHECK_EQ_INT(line_buf_feed(&lb, "\nsecond\nthi", 11), 0);
    expect_line(&lb, "{\"op\":\"status\"}");
    expect_line(&lb, "second");
    expect_line(&lb, NULL);
    CHECK_EQ_INT(line_buf_feed(&lb, "rd\n", 3), 0);
    expect_line(&lb, "third");
    expect_line(&lb, NULL);
    CHECK_EQ_INT(line_buf_pending(&lb), 0);
    line_buf_release(&lb);
    line_buf_release(&lb); /* twice is harmless */
}

static void test_crlf_and_empty(void)
{
    struct line_buf lb;
    line_buf_init(&lb, 0);
    CHECK_EQ_INT(line_buf_feed(&lb, "a\r\n\n\r\nb\r", 8), 0);
    expect_line(&lb, "a");
    expect_line(&lb, "");
    expect_line(&lb, "");
    expect_line(&lb, NULL);
    CHECK_EQ_INT(line_buf_feed(&lb, "\n", 1), 0); /* CR and LF in different feeds */
    expect_line(&lb, "b");
    /* Only one trailing '\r' is removed; inner ones stay. */
    CHECK_EQ_INT(line_buf_feed(&lb, "x\ry\r\r\n", 6), 0);
    expect_line(&lb, "x\ry\r");
    /* Byte-by-byte feeding. */
    const char *s = "one\ntwo\r\n";
    for (size_t i = 0; i < strlen(s); i++)
        CHECK_EQ_INT(line_buf_feed(&lb, s + i, 1), 0);
    expect_line(&lb, "one");
    expect_line(&lb, "two");
    expect_line(&lb, NULL);
    line_buf_release(&lb);
}

static void test_oversize(void)
{
    struct line_buf lb;
    line_buf_init(&lb, 8);
    /* Exactly max bytes is fine, with or without '\r'. */
    CHECK_EQ_INT(line_buf_feed(&lb, "12345678\n12345678\r\n", 19), 0);
    expect_line(&lb, "12345678");
    expect_line(&lb, "12345678");
    /* max+1 bytes is refused even when complete in one feed, and the next line survives. */
    CHECK_EQ_INT(line_buf_feed(&lb, "good\n123456789\nafter\n", 21), MLP_ETOO_LARGE);
    expect_line(&lb, "good");
    expect_line(&lb, "after");
    expect_line(&lb, NULL);
    /* A long line across feeds: reported once, the rest discarded, then recovery. */
    CHECK_EQ_INT(line_buf_feed(&lb, "abcde", 5), 0);
    CHECK_EQ_INT(line_buf_feed(&lb, "fghij", 5), MLP_ETOO_LARGE);
    CHECK_EQ_INT(line_buf_pending(&lb), 0);
    CHECK_EQ_INT(line_buf_feed(&lb, "klmnopqrstuvwxyz", 16), 0);
    CHECK_EQ_INT(line_buf_feed(&lb, "more", 4), 0);
    expect_line(&lb, NULL);
    CHECK_EQ_INT(line_buf_feed(&lb, "tail\nok\n", 8), 0);
    expect_line(&lb, "ok");
    expect_line(&lb, NULL);
    /* A "\r" at max+1 that is not followed by '\n' is not a CRLF. */
    CHECK_EQ_INT(line_buf_feed(&lb, "12345678\r", 9), 0);
    CHECK_EQ_INT(line_buf_feed(&lb, "x\nz\n", 4), MLP_ETOO_LARGE);
    expect_line(&lb, "z");
    /* Unconsumed complete lines are kept when a later line overflows. */
    CHECK_EQ_INT(line_buf_feed(&lb, "keep\n0123456789", 15), MLP_ETOO_LARGE);
    expect_line(&lb, "keep");
    CHECK_EQ_INT(line_buf_feed(&lb, "\nnext\n", 6), 0);
    expect_line(&lb, "next");
    line_buf_release(&lb);
}

/* Many lines through small, uneven feeds with partial consumption in between. */
static void test_stream(void)
{
    struct line_buf lb;
    line_buf_init(&lb, 64);
    size_t total = 0;
    char *text = malloc(200000);
    CHECK(text != NULL);
    if (!text)
        return;
    int nlines = 10000;
    for (int i = 0; i < nlines; i++)
        total += (size_t)sprintf(text + total, "line %d%s\n", i, i % 3 ? "" : "\r");
    int seen = 0, bad = 0;
    size_t pos = 0, step = 1;
    while (pos < total) {
        size_t n = step < total - pos ? step : total - pos;
        if (line_buf_feed(&lb, text + pos, n) != 0)
            bad++;
        pos += n;
        step = step % 37 + 3;
        char *l;
        size_t len;
        /* Pop at most two lines per feed so that complete lines pile up. */
        for (int k = 0; k < 2 && line_buf_next(&lb, &l, &len); k++) {
            char want[32];
            snprintf(want, sizeof want, "line %d", seen);
            if (strcmp(l, want) != 0)
                bad++;
            seen++;
        }
    }
    char *l;
    size_t len;
    while (line_buf_next(&lb, &l, &len)) {
        char want[32];
        snprintf(want, sizeof want, "line %d", seen);
        if (strcmp(l, want) != 0)
            bad++;
        seen++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(seen, nlines);
    /* Storage stays bounded by what was unconsumed, not by the stream. */
    CHECK(lb.cap <= 200000);
    free(text);
    line_buf_release(&lb);
}

/* A big line fed in small chunks is stored once, without quadratic copying. */
static void test_big_line(void)
{
    struct line_buf lb;
    line_buf_init(&lb, 0);
    size_t big = 4u << 20;
    char *chunk = malloc(4096);
    CHECK(chunk != NULL);
    if (!chunk)
        return;
    memset(chunk, 'x', 4096);
    for (size_t i = 0; i < big / 4096; i++)
        CHECK_EQ_INT(line_buf_feed(&lb, chunk, 4096) == 0, 1);
    CHECK_EQ_INT(line_buf_feed(&lb, "\n", 1), 0);
    char *l;
    size_t len;
    CHECK_EQ_INT(line_buf_next(&lb, &l, &len), 1);
    CHECK_EQ_INT(len, big);
    CHECK(l[0] == 'x' && l[big - 1] == 'x' && l[big] == '\0');
    free(chunk);
    line_buf_release(&lb);
}

int main(void)
{
    test_split();
    test_crlf_and_empty();
    test_oversize();
    test_stream();
    test_big_line();
    return check_report();
}
