/*
 * test_csv — the RFC 4180 writer: plain fields, quoting of comma, quote, CR
 * and LF, doubled quotes, empty/NULL fields, CRLF record ends, and a
 * round trip through a small RFC 4180 reader written here independently.
 */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "csv.h"

/* Write one record of n fields into a string (caller frees). */
static char *record(const char *const *fields, int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct csv c;
    csv_init(&c, f);
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(csv_field(&c, fields[i]), 0);
    CHECK_EQ_INT(csv_end_row(&c), 0);
    CHECK(!csv_error(&c));
    fclose(f);
    return buf;
}

/* Parse one RFC 4180 record from s into out[] (max fields); returns the count. */
static int parse_record(const char *s, char out[][64], int max)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        char *o = out[n];
        size_t k = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    o[k++] = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    o[k++] = *p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\r')
                o[k++] = *p++;
        }
        o[k] = '\0';
        n++;
        if (*p == ',' && n < max) {
            p++;
            continue;
        }
        break;
    }
    CHECK(strcmp(p, "\r\n") == 0);
    return n;
}

int main(void)
{
    {
        const char *f[] = {"config", "lr", "n"};
        char *s = record(f, 3);
        CHECK_EQ_STR(s, "config,lr,n\r\n");
        free(s);
    }
    {
        const char *f[] = {"[256,128]", "say \"hi\"", "two\nlines", "cr\rhere", "plain"};
        char *s = record(f, 5);
        CHECK_EQ_STR(s, "\"[256,128]\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",plain\r\n");
        char got[8][64];
        CHECK_EQ_INT(parse_record(s, got, 8), 5);
        for (int i = 0; i < 5; i++)
            CHECK_EQ_STR(got[i], f[i]);
        free(s);
    }
    {
        const char *f[] = {NULL, "", "x", NULL};
        char *s = record(f, 4);
        CHECK_EQ_STR(s, ",,x,\r\n");
        free(s);
    }
    {
        const char *f[] = {"\"", ",", "±0.5 …"};
        char *s = record(f, 3);
        CHECK_EQ_STR(s, "\"\"\"\",\",\",±0.5 …\r\n");
        free(s);
    }
    CHECK(csv_needs_quotes("a,b"));
    CHECK(csv_needs_quotes("a\"b"));
    CHECK(csv_needs_quotes("a\nb"));
    CHECK(!csv_needs_quotes("a b"));
    CHECK(!csv_needs_quotes(NULL));

    /* Two records: the field counter restarts after each CRLF. */
    {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct csv c;
        csv_init(&c, f);
        csv_field(&c, "a");
        csv_field(&c, "b");
        csv_end_row(&c);
        csv_field(&c, "1");
        csv_field(&c, "2");
        csv_end_row(&c);
        fclose(f);
        CHECK_EQ_STR(buf, "a,b\r\n1,2\r\n");
        free(buf);
    }

    /* A write error is reported (a stream opened read-only cannot be written). */
    {
        FILE *f = fopen("/dev/null", "r");
        struct csv c;
        csv_init(&c, f);
        CHECK_EQ_INT(csv_field(&c, "x"), -1);
        CHECK(csv_error(&c));
        fclose(f);
    }
    return check_report();
}
