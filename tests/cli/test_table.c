/*
 * test_table — mlpctl's table layout and number formats: alignment, UTF-8
 * widths ("±", "…"), fitting 100 columns by eliding shrinkable columns,
 * hyperparameter value and configuration text, mean ± SE and durations.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "table.h"

static char *print_to_string(const struct table *t, size_t width)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    table_print(t, f, width);
    fclose(f);
    return buf;
}

/* Widest line of text, in code points. */
static size_t max_line_width(const char *s)
{
    size_t best = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)n, s);
        size_t w = table_text_width(line);
        if (w > best)
            best = w;
        s += n + (nl ? 1 : 0);
    }
    return best;
}

int main(void)
{
    char buf[256];

    /* Widths count code points. */
    CHECK_EQ_INT(table_text_width("0.8912 ± 0.0011"), 15);
    CHECK_EQ_INT(table_text_width("a…"), 2);
    CHECK_EQ_INT(table_text_width(""), 0);

    /* Elision keeps width-1 code points and adds "…". */
    CHECK_EQ_STR(table_elide(buf, sizeof buf, "hidden=[256,128]", 8), "hidden=…");
    CHECK_EQ_STR(table_elide(buf, sizeof buf, "short", 8), "short");
    CHECK_EQ_STR(table_elide(buf, sizeof buf, "±±±±±", 3), "±±…");
    CHECK_EQ_INT(table_text_width(table_elide(buf, sizeof buf, "±±±±±", 3)), 3);

    /* Numbers. */
    CHECK_EQ_STR(table_fmt_num(buf, sizeof buf, 0.89123), "0.8912");
    CHECK_EQ_STR(table_fmt_num(buf, sizeof buf, NAN), "—");
    CHECK_EQ_STR(table_fmt_stat(buf, sizeof buf, 0.89123, 0.00107), "0.8912 ± 0.0011");
    CHECK_EQ_STR(table_fmt_stat(buf, sizeof buf, 0.5, NAN), "0.5000");
    CHECK_EQ_STR(table_fmt_stat(buf, sizeof buf, 0.5, 0.00002), "0.5000 ± 2.0e-05");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 0.0001), "1e-4");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 0.1), "0.1");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 0.001), "0.001");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 1e-6), "1e-6");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 0.03), "0.03");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 128), "128");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 2.5e-5), "2.5e-5");
    CHECK_EQ_STR(table_fmt_param_num(buf, sizeof buf, 0.30000000000000004), "0.3");
    CHECK_EQ_STR(table_fmt_duration(buf, sizeof buf, 42), "42s");
    CHECK_EQ_STR(table_fmt_duration(buf, sizeof buf, 2.54), "2.5s");
    CHECK_EQ_STR(table_fmt_duration(buf, sizeof buf, 9.96), "10s");
    CHECK_EQ_STR(table_fmt_duration(buf, sizeof buf, 192), "3m12s");
    CHECK_EQ_STR(table_fmt_duration(buf, sizeof buf, 7380), "2h03m");
    CHECK_EQ_STR(table_fmt_duration(buf, sizeof buf, 100800), "1d04h");
    CHECK_EQ_STR(table_fmt_duration(buf, sizeof buf, NAN), "—");

    /* Values and configurations. */
    cJSON *grid = cJSON_Parse("{\"hidden\":[256,128],\"lr\":0.1,\"l2\":0.0001,"
                              "\"activation\":\"relu\",\"batch_norm\":true,\"early_stop\":null}");
    CHECK(grid != NULL);
    CHECK_EQ_STR(table_fmt_value(buf, sizeof buf, cJSON_GetObjectItem(grid, "hidden")),
                 "[256,128]");
    CHECK_EQ_STR(table_fmt_config(buf, sizeof buf, grid),
                 "hidden=[256,128] lr=0.1 l2=1e-4 activation=relu batch_norm=true early_stop=null");
    char small[16];
    table_fmt_config(small, sizeof small, grid);
    CHECK_EQ_INT(strlen(small), 15);
    cJSON_Delete(grid);

    /* Layout: right-aligned numbers, left-aligned text, two spaces apart. */
    struct table *t = table_new();
    CHECK(t != NULL);
    table_column(t, "ID", TABLE_RIGHT, false);
    table_column(t, "NAME", TABLE_LEFT, true);
    table_column(t, "MEAN", TABLE_LEFT, false);
    table_row(t);
    table_cell(t, "3");
    table_cell(t, "fashion-reg");
    table_cell(t, "0.8912 ± 0.0011");
    table_row(t);
    table_cell(t, "12");
    table_cell(t, "x");
    table_cell(t, "0.5000");
    CHECK_EQ_INT(table_rows(t), 2);
    CHECK_EQ_INT(table_width(t), 2 + 2 + 11 + 2 + 15);
    char *out = print_to_string(t, 0);
    CHECK_EQ_STR(out, "ID  NAME         MEAN\n"
                      " 3  fashion-reg  0.8912 ± 0.0011\n"
                      "12  x            0.5000\n");
    free(out);
    /* Narrower: only NAME may shrink, and not below 8 columns. */
    out = print_to_string(t, 28);
    CHECK_EQ_STR(out, "ID  NAME      MEAN\n"
                      " 3  fashion…  0.8912 ± 0.0011\n"
                      "12  x         0.5000\n");
    free(out);
    table_free(t);

    /* A wide table with long hyperparameter text fits 100 columns. */
    t = table_new();
    table_column(t, "RANK", TABLE_RIGHT, false);
    table_column(t, "HYPERPARAMETERS", TABLE_LEFT, true);
    table_column(t, "val_accuracy", TABLE_LEFT, false);
    for (int i = 0; i < 5; i++) {
        table_row(t);
        table_cellf(t, "%d", i + 1);
        table_cell(t, "hidden=[1024,1024,512,256] lr=0.001 l2=1e-4 dropout=0.2 batch_size=64 "
                      "optimizer=adam activation=leaky_relu");
        table_cell(t, "0.8912 ± 0.0011");
    }
    CHECK(table_width(t) > TABLE_WIDTH);
    out = print_to_string(t, TABLE_WIDTH);
    CHECK_EQ_INT(max_line_width(out), TABLE_WIDTH);
    CHECK(strstr(out, "…  0.8912 ± 0.0011") != NULL);
    free(out);
    table_free(t);

    /* Stats from protocol JSON: null becomes NaN. */
    cJSON *st = cJSON_Parse("{\"n\":1,\"mean\":0.5,\"sd\":null,\"se\":null}");
    struct table_stat s;
    table_stat_get(st, &s);
    CHECK_EQ_INT(s.n, 1);
    CHECK_NEAR(s.mean, 0.5, 0);
    CHECK(isnan(s.sd) && isnan(s.se) && isnan(s.ci_low));
    cJSON_Delete(st);
    table_stat_get(NULL, &s);
    CHECK_EQ_INT(s.n, 0);
    return check_report();
}
