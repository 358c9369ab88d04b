/*
 * csv — RFC 4180 records (see csv.h).  Quoting is decided per field by a scan
 * for the four special characters; quoted fields double every '"'.
 */
#include "csv.h"

#include <string.h>

void csv_init(struct csv *c, FILE *out)
{
    c->out = out;
    c->ncols = 0;
    c->failed = false;
}

bool csv_needs_quotes(const char *s)
{
    return s && strpbrk(s, ",\"\r\n") != NULL;
}

int csv_field(struct csv *c, const char *s)
{
    if (c->ncols > 0 && fputc(',', c->out) == EOF)
        c->failed = true;
    c->ncols++;
    if (!s || !*s)
        return c->failed ? -1 : 0;
    if (!csv_needs_quotes(s)) {
        if (fputs(s, c->out) == EOF)
            c->failed = true;
        return c->failed ? -1 : 0;
    }
    if (fputc('"', c->out) == EOF)
        c->failed = true;
    for (const char *p = s; *p; p++) {
        if (*p == '"' && fputc('"', c->out) == EOF)
            c->failed = true;
        if (fputc(*p, c->out) == EOF)
            c->failed = true;
    }
    if (fputc('"', c->out) == EOF)
        c->failed = true;
    return c->failed ? -1 : 0;
}

int csv_end_row(struct csv *c)
{
    if (fputs("\r\n", c->out) == EOF)
        c->failed = true;
    c->ncols = 0;
    return c->failed ? -1 : 0;
}

bool csv_error(const struct csv *c)
{
    return c->failed || ferror(c->out);
}
