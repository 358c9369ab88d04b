/*
 * csv — an RFC 4180 writer for `mlpctl results`.
 *
 * Records end with CRLF; a field is quoted when it holds a comma, a double
 * quote, CR or LF (and then its quotes are doubled), otherwise written as is,
 * so spreadsheets, Python's csv module and pandas read the output without
 * options.  The writer does not own the stream; it is a plain value set up
 * with csv_init (or CSV_INIT).
 */
#ifndef MLP_CLI_CSV_H
#define MLP_CLI_CSV_H

#include <stdbool.h>
#include <stdio.h>

struct csv {
    FILE *out;   /* where records go; not owned */
    int ncols;   /* fields written in the current record */
    bool failed; /* a write failed (sticky; see csv_error) */
};

/* Start writing records to out. */
void csv_init(struct csv *c, FILE *out);

/* Whether s must be quoted under RFC 4180 (comma, quote, CR or LF). */
bool csv_needs_quotes(const char *s);

/* Append one field (NULL writes an empty field).  Returns 0, or -1 on a write error. */
int csv_field(struct csv *c, const char *s);

/* End the current record with CRLF.  Returns 0, or -1 on a write error. */
int csv_end_row(struct csv *c);

/* Whether any write so far failed. */
bool csv_error(const struct csv *c);

#endif
