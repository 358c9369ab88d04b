/*
 * table — aligned terminal tables and the number formats of mlpctl's human output.
 *
 * A table collects every cell first, then prints once: column widths are the
 * widest cell (or header), two spaces apart.  When the natural width exceeds
 * the limit (mlpctl uses 100 columns), columns marked shrinkable are narrowed,
 * widest first, and their cells are cut with "…".  Widths count UTF-8 code
 * points, not bytes, so "±", "…", "—" and "×" take one column each.
 *
 * The table_fmt_* names are resp.h's formats (resp_fmt_*), shared with the
 * plot/report verbs; their output formats are part of what users see and stay stable:
 *   number   "%.4f", "—" when not finite
 *   stat     "0.8912 ± 0.0011" (mean ± standard error), "0.8912" when n < 2
 *   value    hyperparameter values: 0.0001 → "1e-4", 128 → "128", [256,128] → "[256,128]"
 *   config   "hidden=[256,128] lr=0.1 l2=1e-4"
 *   duration "2.5s", "42s", "3m12s", "2h03m", "1d04h"
 */
#ifndef MLP_CLI_TABLE_H
#define MLP_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "resp.h"

struct cJSON;
struct table; /* opaque */

#define TABLE_WIDTH 100 /* the width mlpctl's tables fit */

/*
 * The width a table with long text columns (show's hyperparameters) may take:
 * $COLUMNS when set to a number; else, when standard output is a terminal,
 * its width; else (a file or a pipe) SIZE_MAX: nothing is cut.  Never below
 * TABLE_WIDTH.  A wide terminal shows whole values instead of
 * "…" at 100.
 */
size_t table_term_width(void);

enum table_align { TABLE_LEFT, TABLE_RIGHT };

/* A new empty table, or NULL on ENOMEM.  Free with table_free. */
struct table *table_new(void);

/* Free a table (NULL is fine). */
void table_free(struct table *t);

/*
 * Add a column (before any row).  shrink: the column may be narrowed, with
 * its cells elided, to fit the width given to table_print.  Returns 0 or -1 on ENOMEM.
 */
int table_column(struct table *t, const char *header, enum table_align align, bool shrink);

/* Start a new row; its cells follow with table_cell.  Returns 0 or -1 on ENOMEM. */
int table_row(struct table *t);

/*
 * Set the next cell of the current row (NULL or missing cells print empty;
 * cells past the last column are ignored).  Returns 0 or -1 on ENOMEM.
 */
int table_cell(struct table *t, const char *text);
int table_cellf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number of rows added. */
size_t table_rows(const struct table *t);

/* Natural width: every column at its widest cell, with the separators. */
size_t table_width(const struct table *t);

/* Narrowest width table_print can reach: shrinkable columns at their minimum. */
size_t table_min_width(const struct table *t);

/*
 * Print header and rows to out, fitting `width` columns when the shrinkable
 * columns allow it (width 0: no limit).  Trailing spaces are not printed.
 */
void table_print(const struct table *t, FILE *out, size_t width);

/* Display width of UTF-8 text: its code points. */
size_t table_text_width(const char *s);

/*
 * Copy s into buf (size n), cut to at most `width` columns: when it is wider,
 * the last column kept is "…".  Cuts only between code points.  Returns buf.
 */
char *table_elide(char *buf, size_t n, const char *s, size_t width);

/*
 * The number, value and stat formats of the table header comment live in
 * resp.h with the other response formats; these are their older names.
 */
#define table_stat resp_stat
#define table_stat_get resp_stat_get
#define table_num resp_num
#define table_fmt_num resp_fmt_num
#define table_fmt_stat resp_fmt_stat
#define table_fmt_value resp_fmt_value
#define table_fmt_config resp_fmt_config
#define table_fmt_duration resp_fmt_duration
#define table_fmt_param_num resp_fmt_param_num

#endif
