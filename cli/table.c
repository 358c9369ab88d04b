/*
 * table — aligned tables and number formats (see table.h).
 *
 * Cells are copied into per-row arrays of strings; nothing is printed until
 * table_print knows every width.  Fitting to a width shrinks the widest
 * shrinkable column one step at a time, so long hyperparameter columns give
 * up space before short ones and numeric columns never lose digits.
 */
#include "table.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "json.h"

#define TABLE_GAP 2        /* spaces between columns */
#define TABLE_MIN_SHRINK 8 /* a shrinkable column keeps at least this many columns */

struct table_col {
    char *header;           /* column title */
    enum table_align align; /* left for text, right for numbers */
    bool shrink;            /* may be narrowed and elided */
};

struct table {
    struct table_col *cols; /* ncols columns */
    size_t ncols;
    char ***rows; /* nrows rows of ncols cells (NULL = empty) */
    size_t nrows, caprows;
    size_t next; /* next cell index in the current row */
};

struct table *table_new(void)
{
    return calloc(1, sizeof(struct table));
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++)
            free(t->rows[r][c]);
        free(t->rows[r]);
    }
    free(t->rows);
    for (size_t c = 0; c < t->ncols; c++)
        free(t->cols[c].header);
    free(t->cols);
    free(t);
}

int table_column(struct table *t, const char *header, enum table_align align, bool shrink)
{
    if (t->nrows > 0)
        return -1;
    struct table_col *nc = realloc(t->cols, (t->ncols + 1) * sizeof(*nc));
    if (!nc)
        return -1;
    t->cols = nc;
    char *h = strdup(header ? header : "");
    if (!h)
        return -1;
    t->cols[t->ncols++] = (struct table_col){.header = h, .align = align, .shrink = shrink};
    return 0;
}

int table_row(struct table *t)
{
    if (t->nrows == t->caprows) {
        size_t cap = t->caprows ? t->caprows * 2 : 16;
        char ***nr = realloc(t->rows, cap * sizeof(*nr));
        if (!nr)
            return -1;
        t->rows = nr;
        t->caprows = cap;
    }
    char **row = calloc(t->ncols ? t->ncols : 1, sizeof(char *));
    if (!row)
        return -1;
    t->rows[t->nrows++] = row;
    t->next = 0;
    return 0;
}

int table_cell(struct table *t, const char *text)
{
    if (t->nrows == 0)
        return -1;
    size_t c = t->next++;
    if (c >= t->ncols)
        return 0;
    if (!text)
        return 0;
    char *s = strdup(text);
    if (!s)
        return -1;
    free(t->rows[t->nrows - 1][c]);
    t->rows[t->nrows - 1][c] = s;
    return 0;
}

int table_cellf(struct table *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return table_cell(t, buf);
}

size_t table_rows(const struct table *t)
{
    return t->nrows;
}

size_t table_text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w++;
    return w;
}

char *table_elide(char *buf, size_t n, const char *s, size_t width)
{
    if (n == 0)
        return buf;
    if (table_text_width(s) <= width) {
        snprintf(buf, n, "%s", s);
        return buf;
    }
    /* Keep width-1 code points, then the ellipsis (3 bytes in UTF-8). */
    size_t keep = width ? width - 1 : 0, cps = 0, i = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cps == keep)
                break;
            cps++;
        }
        i++;
    }
    if (width == 0 || i + 4 > n) {
        /* No room for the ellipsis: cut on a code point boundary only. */
        size_t m = i < n - 1 ? i : n - 1;
        while (m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80)
            m--;
        memcpy(buf, s, m);
        buf[m] = '\0';
        return buf;
    }
    memcpy(buf, s, i);
    memcpy(buf + i, "…", 4); /* includes the NUL */
    return buf;
}

static size_t *natural_widths(const struct table *t)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(size_t));
    if (!w)
        return NULL;
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = table_text_width(t->cols[c].header);
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = t->rows[r][c];
            size_t cw = s ? table_text_width(s) : 0;
            if (cw > w[c])
                w[c] = cw;
        }
    }
    return w;
}

static size_t sum_widths(const size_t *w, size_t ncols)
{
    size_t total = 0;
    for (size_t c = 0; c < ncols; c++)
        total += w[c];
    return total + (ncols ? (ncols - 1) * TABLE_GAP : 0);
}

size_t table_width(const struct table *t)
{
    size_t *w = natural_widths(t);
    if (!w)
        return 0;
    size_t total = sum_widths(w, t->ncols);
    free(w);
    return total;
}

size_t table_min_width(const struct table *t)
{
    size_t *w = natural_widths(t);
    if (!w)
        return 0;
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].shrink && w[c] > TABLE_MIN_SHRINK)
            w[c] = TABLE_MIN_SHRINK;
    size_t total = sum_widths(w, t->ncols);
    free(w);
    return total;
}

/* Print one line of cells; elides cells wider than their column. */
static void print_line(const struct table *t, FILE *out, const size_t *w, char *const *cells,
                       bool header)
{
    /* The last non-empty cell ends the line so no trailing blanks are printed. */
    size_t last = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = header ? t->cols[c].header : cells[c];
        if (s && *s)
            last = c + 1;
    }
    char buf[4096];
    for (size_t c = 0; c < last; c++) {
        const char *s = header ? t->cols[c].header : cells[c];
        table_elide(buf, sizeof buf, s ? s : "", w[c]);
        size_t cw = table_text_width(buf), pad = w[c] > cw ? w[c] - cw : 0;
        bool right = t->cols[c].align == TABLE_RIGHT;
        if (c > 0)
            fprintf(out, "%*s", TABLE_GAP, "");
        if (right)
            fprintf(out, "%*s", (int)pad, "");
        fputs(buf, out);
        if (!right && c + 1 < last)
            fprintf(out, "%*s", (int)pad, "");
    }
    fputc('\n', out);
}

void table_print(const struct table *t, FILE *out, size_t width)
{
    size_t *w = natural_widths(t);
    if (!w)
        return;
    if (width > 0) {
        size_t total = sum_widths(w, t->ncols);
        while (total > width) {
            size_t best = t->ncols;
            for (size_t c = 0; c < t->ncols; c++)
                if (t->cols[c].shrink && w[c] > TABLE_MIN_SHRINK &&
                    (best == t->ncols || w[c] > w[best]))
                    best = c;
            if (best == t->ncols)
                break;
            w[best]--;
            total--;
        }
    }
    print_line(t, out, w, NULL, true);
    for (size_t r = 0; r < t->nrows; r++)
        print_line(t, out, w, t->rows[r], false);
    free(w);
}

size_t table_term_width(void)
{
    struct winsize ws;
    const char *c = getenv("COLUMNS");
    char *end;
    long v = c ? strtol(c, &end, 10) : 0;
    if (c && *c && !*end && v > 0 && v <= 10000)
        return v > TABLE_WIDTH ? (size_t)v : TABLE_WIDTH;
    if (!isatty(STDOUT_FILENO))
        return SIZE_MAX; /* a file or a pipe: whole values */
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > TABLE_WIDTH)
        return ws.ws_col;
    return TABLE_WIDTH;
}
