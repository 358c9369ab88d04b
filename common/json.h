/*
 * json — small helpers over cJSON shared by the daemon, the worker and the CLI.
 *
 * Numbers: cJSON stores every number as a double.  json_is_int() accepts a
 * number only when its value is integral and fits int64 (so 1e3 is an integer
 * and 1.5 is not).  Doubles are printed with 17 significant digits so they
 * read back to the same bits; NaN and infinities have no JSON form and print
 * as null.
 */
#ifndef MLP_JSON_H
#define MLP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

/*
 * Compact one-line text of v (no trailing newline), numbers printed by
 * json_print_double (exact: different doubles give different text, equal ones
 * the same), strings escaped as cJSON does.  Use it, not cJSON_Print*, for
 * canonical text (configuration identity, stored params).  Caller frees with
 * free().  NULL on ENOMEM.
 */
char *json_line(const struct cJSON *v);

/*
 * v printed as cJSON_Print (formatted) or cJSON_PrintUnformatted prints it, but
 * every number as json_print_double writes it: the shortest text of 15, 16 or
 * 17 significant digits that reads back to the same double (cJSON's own
 * printing keeps 15 digits whenever they read back within its tolerance, which
 * loses the last bits).  For whatever a person or a script reads numbers from
 * (mlpctl --json).  Caller frees with free().  NULL on ENOMEM.
 */
char *json_print_exact(const struct cJSON *v, bool formatted);

/* Whether v is a number with an integral value within int64; stores it in *out (may be NULL). */
bool json_is_int(const struct cJSON *v, int64_t *out);

/* What v is, for messages: "a string", "a number", "null", "a boolean", "a list", "an object",
 * "nothing" (v NULL). */
const char *json_type_name(const struct cJSON *v);

/*
 * Write d into buf (size n) as JSON text: finite values with up to 17
 * significant digits (shortest form that round-trips, "%.17g" as last resort),
 * integral values without exponent up to 2^53, non-finite as "null".
 * Returns the length written (snprintf-style).
 */
int json_print_double(char *buf, size_t n, double d);

/*
 * A cJSON number holding d (cJSON prints it so that it reads back to the same
 * bits), or a JSON null when d is not finite.  NULL on ENOMEM.
 */
struct cJSON *json_double(double d);

/* Add members to obj (out of memory shows as a missing member): a number via
 * json_double (NaN/inf -> null), an integer, and a unix time as whole seconds
 * (NaN -> null). */
void json_add_num(struct cJSON *obj, const char *key, double v);
void json_add_int(struct cJSON *obj, const char *key, int64_t v);
void json_add_time(struct cJSON *obj, const char *key, double t);

/*
 * A short quoted rendering of v for error messages: strings quoted ("\"fast\""),
 * other values as compact JSON, cut to about 60 characters with "...".
 * Writes into buf (size n) and returns buf.
 */
const char *json_brief(const struct cJSON *v, char *buf, size_t n);

/* Object member by exact (case-sensitive) key, or NULL. */
struct cJSON *json_get(const struct cJSON *obj, const char *key);

/* Levenshtein distance between two short strings (for "did you mean"). */
size_t json_edit_distance(const char *a, const char *b);

/*
 * The candidate closest to `key` in a NULL-terminated list when the distance
 * is small (<= 2, or <= 3 for keys of 8 or more characters, and less than
 * the key's length), else NULL.  When two candidates are equally close the
 * guess is ambiguous and NULL is returned.
 */
const char *json_suggest(const char *key, const char *const *candidates);

/*
 * Whether text[0..len) holds a line or block comment ("//", "/ *" without the space) outside JSON
 * strings (JSON has none; a grid file written by hand often does).  Returns the offset of the first
 * one, or -1.
 */
long json_find_comment(const char *text, size_t len);

/*
 * Parse text[0..len) as exactly one JSON value, surrounded by nothing but JSON
 * whitespace.  Returns the value (cJSON_Delete it), or NULL with *where = the
 * byte offset of the problem and *why a static sentence: "not valid JSON",
 * the same with the comment hint (pointing at the comment), or "text after
 * the JSON value" (`{...} junk`, a second value `{...}{...}`, a trailing
 * comment, which gets the hint too).  cJSON alone stops after the first value
 * and would drop the rest without a word.
 */
struct cJSON *json_parse_one(const char *text, size_t len, size_t *where, const char **why);

/* 1-based line and column (in UTF-8 characters) of byte offset `at` of text. */
void json_line_col(const char *text, size_t at, int *line, int *col);

#endif
