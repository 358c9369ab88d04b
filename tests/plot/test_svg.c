/*
 * test_svg — the SVG writer's pieces: 1-2-5 steps, nice domains, linear
 * and log ticks, tick labels, scales, XML escaping (including control
 * characters and invalid UTF-8, checked with xmllint), and the palette.
 */
#include <stdlib.h>
#include <unistd.h>

#include "../check.h"
#include "cli/svg.h"

/* Run fn's output through a memory stream and return it (caller frees). */
static char *capture_escape(const char *s, size_t cut)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (cut)
        svg_escape_cut(m, s, cut);
    else
        svg_escape(m, s);
    fclose(m);
    return buf;
}

int main(void)
{
    /* Steps: range/target rounded to 1, 2 or 5 times a power of ten. */
    CHECK_NEAR(svg_nice_step(1.0, 5), 0.2, 1e-15);
    CHECK_NEAR(svg_nice_step(0.0219, 5), 0.005, 1e-15);
    CHECK_NEAR(svg_nice_step(100, 5), 20, 1e-12);
    CHECK_NEAR(svg_nice_step(7, 1), 5, 1e-12);
    CHECK_NEAR(svg_nice_step(8, 1), 10, 1e-12);
    CHECK_NEAR(svg_nice_step(0, 5), 1, 0);

    /* Nice domains contain the data and end on step multiples. */
    double lo = 0.8712, hi = 0.8931;
    svg_nice_domain(&lo, &hi, 5);
    CHECK_NEAR(lo, 0.870, 1e-12);
    CHECK_NEAR(hi, 0.895, 1e-12);
    lo = 0.5, hi = 0.5; /* one value: widened around it */
    svg_nice_domain(&lo, &hi, 5);
    CHECK(lo < 0.5 && hi > 0.5);
    lo = 0, hi = 0;
    svg_nice_domain(&lo, &hi, 5);
    CHECK(lo < 0 && hi > 0);
    lo = NAN, hi = 1;
    svg_nice_domain(&lo, &hi, 5);
    CHECK_NEAR(lo, 0, 0);
    CHECK_NEAR(hi, 1, 0);

    /* Linear ticks are exact multiples of the step. */
    double t[64], step;
    int n = svg_ticks(0, 1, 5, 0, t, 64, &step);
    CHECK_EQ_INT(n, 6);
    CHECK_NEAR(step, 0.2, 1e-15);
    CHECK_NEAR(t[3], 0.6, 1e-15);
    char buf[64];
    svg_fmt_tick(buf, sizeof buf, t[3], step);
    CHECK_EQ_STR(buf, "0.6");
    n = svg_ticks(0.870, 0.895, 5, 0, t, 64, &step);
    CHECK_EQ_INT(n, 6);
    svg_fmt_tick(buf, sizeof buf, t[1], step);
    CHECK_EQ_STR(buf, "0.875");
    /* Epochs: never a fractional step. */
    n = svg_ticks(1, 3, 6, 1, t, 64, &step);
    CHECK_NEAR(step, 1, 0);
    CHECK_EQ_INT(n, 3);
    svg_fmt_tick(buf, sizeof buf, -1e-17, 0.1);
    CHECK_EQ_STR(buf, "0.0");

    /* Log ticks: 1-2-5 per decade within three decades, decades only beyond. */
    n = svg_log_ticks(0.001, 0.3, t, 64);
    CHECK_EQ_INT(n, 8); /* 0.001 0.002 0.005 0.01 0.02 0.05 0.1 0.2 */
    CHECK_NEAR(t[0], 0.001, 1e-18);
    CHECK_NEAR(t[7], 0.2, 1e-15);
    n = svg_log_ticks(1e-6, 1, t, 64);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(svg_log_ticks(-1, 1, t, 64), 0);

    /* Scales. */
    struct svg_scale s = {0, 1, 100, 300, false};
    CHECK_NEAR(svg_map(&s, 0.25), 150, 1e-12);
    struct svg_scale ys = {0, 10, 400, 0, false}; /* y grows downwards */
    CHECK_NEAR(svg_map(&ys, 10), 0, 1e-12);
    struct svg_scale ls = {0.001, 0.1, 0, 200, true};
    CHECK_NEAR(svg_map(&ls, 0.01), 100, 1e-9);

    /* Escaping. */
    char *e = capture_escape("hidden=[256,128] a&b<c>\"d\"'e'", 0);
    CHECK_EQ_STR(e, "hidden=[256,128] a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;");
    free(e);
    e = capture_escape("a\x01"
                       "b\xff"
                       "c\xc3\xa9",
                       0); /* control char dropped, bad byte replaced, é kept */
    CHECK_EQ_STR(e, "ab\xEF\xBF\xBD"
                    "c\xc3\xa9");
    free(e);
    e = capture_escape("\xed\xa0\x80|\xef\xbf\xbf",
                       0); /* a surrogate and U+FFFF are not XML characters */
    CHECK_EQ_STR(e, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    free(e);
    e = capture_escape("abcdefgh", 5);
    CHECK_EQ_STR(e, "abcd\xE2\x80\xA6");
    free(e);
    e = capture_escape("\xc3\xa9\xc3\xa9\xc3\xa9", 3); /* fits: 3 characters, 6 bytes */
    CHECK_EQ_STR(e, "\xc3\xa9\xc3\xa9\xc3\xa9");
    free(e);
    CHECK_EQ_INT(svg_strlen("\xc3\xa9x"), 2);

    /* Text widths from DejaVu Sans' advances (1/2048 em): digit 1303 (Bold 1425),
     * 'i' 569, '—' 2048, '±' 1716; an unknown character counts 1.25 em. */
    CHECK_NEAR(svg_text_width("0", 12, false), 1303.0 / 2048 * 12, 1e-9);
    CHECK_NEAR(svg_text_width("0", 12, true), 1425.0 / 2048 * 12, 1e-9);
    CHECK_NEAR(svg_text_width("i0", 10, false), (569.0 + 1303) / 2048 * 10, 1e-9);
    CHECK_NEAR(svg_text_width("\xE2\x80\x94\xC2\xB1", 16, false), (2048.0 + 1716) / 2048 * 16, 1e-9);
    CHECK_NEAR(svg_text_width("\xE4\xB8\xAD", 8, false), 10, 1e-9);
    CHECK_NEAR(svg_text_width("", 12, false), 0, 0);
    CHECK(svg_text_width("WWW", 12, false) > svg_text_width("iii", 12, false) * 2);

    /* A document made of every primitive is well-formed XML. */
    char path[] = "/tmp/test_svg_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    svg_begin(f, 400, 300);
    svg_text(f, 10, 10, "start", 12, NULL, "x<&>\x02\xfe");
    svg_textf(f, 10, 30, "middle", 12, "font-weight=\"bold\"", "%d%% \"q\"", 5);
    struct svg_scale ax = {0.87, 0.895, 50, 350, false}, ay = {0, 1, 250, 50, false};
    svg_axis_x(f, &ax, 50, 250, 0, "x & y");
    svg_axis_y(f, &ay, 50, 350, "<y>");
    svg_legend_item(f, 300, 20, svg_color(1), "6 4", "a'b");
    svg_legend_item(f, 300, 40, svg_color(2), NULL, "dot");
    svg_errbar(f, 100, 100, 200, 100, 4, svg_color(0));
    fputs("<g>", f);
    svg_titlef(f, "tip %s", "<&>");
    fputs("</g>\n", f);
    svg_end(f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "xmllint --noout %s", path);
    CHECK_EQ_INT(system(cmd), 0);
    unlink(path);

    /* Okabe–Ito: 8 distinct colours, wrapping. */
    for (int i = 0; i < SVG_NCOLORS; i++)
        for (int j = i + 1; j < SVG_NCOLORS; j++)
            CHECK(strcmp(svg_color(i), svg_color(j)) != 0);
    CHECK_EQ_STR(svg_color(8), svg_color(0));
    return check_report();
}
