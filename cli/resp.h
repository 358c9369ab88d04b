/*
 * resp — reading the daemon's responses and formatting what they hold, in
 * one place for every form of output mlpctl writes: terminal tables
 * (cmd_*.c), SVG plots (plot*.c) and the HTML report (report.c).
 *
 * No I/O but to a FILE* given, no globals.  Field access is NULL-safe (a missing object or
 * member reads as absent).  Two number styles exist because users see both
 * and they stay stable:
 *   tables  resp_fmt_num   "%.4f", "—" when not finite
 *           resp_fmt_stat  "0.8912 ± 0.0011", "0.8912" without an SE
 *   plots   resp_fmt_short "0.8912" below 10, 4 significant digits above,
 *                          "n/a" when not finite
 *           resp_fmt_mean_se "0.8912 ± 0.0011 (n=10)", "0.8912 (n=1)"
 * and two forms of a configuration: resp_fmt_config (terminal: numbers in
 * their shortest form, 0.0001 → "1e-4") and resp_config_label (plots and
 * report: values as compact JSON).  Errors of a response ({"ok": false,
 * "error": {...}}) are read, worded and mapped to exit codes here too.
 */
#ifndef MLP_CLI_RESP_H
#define MLP_CLI_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cJSON;

/* ---- field access ---------------------------------------------------------- */

/* A number member of obj; NaN when obj or the member is missing, null or not a number. */
double resp_num(const struct cJSON *obj, const char *key);

/* A string member of obj, or dflt. */
const char *resp_str(const struct cJSON *obj, const char *key, const char *dflt);

/* Stat as sent by mlpd ({"n","mean","sd","se","ci_low","ci_high"}); null → NaN. */
struct resp_stat {
    int n;          /* values summarised; 0 when absent or out of range */
    double mean;    /* NaN when unknown */
    double sd;      /* sample sd; NaN when n < 2 */
    double se;      /* standard error; NaN when n < 2 */
    double ci_low;  /* 95% t-interval; NaN when n < 2 */
    double ci_high; /* upper end of it */
    int nonfinite;  /* values left out as NaN/inf (diverged trials) */
    bool clipped;   /* the interval was cut to the metric's range by mlpd */
};

/* Read a stat object; a missing object gives n = 0 and NaNs. */
void resp_stat_get(const struct cJSON *obj, struct resp_stat *s);

/* A protocol config's id: the number itself or its "id" member; -1 when neither. */
int resp_config_id(const struct cJSON *config);

/* resp_config_id as a number for tables and sentences: NaN (printed "—") when it has none. */
double resp_config_num(const struct cJSON *config);

/* The "grid" object (varying hyperparameters) of a config object, or NULL. */
const struct cJSON *resp_config_grid(const struct cJSON *config);

/* ---- formats (each writes into buf of size n and returns buf) -------------- */

char *resp_fmt_num(char *buf, size_t n, double x);
char *resp_fmt_stat(char *buf, size_t n, double mean, double se);
char *resp_fmt_short(char *buf, size_t n, double x);
/* A standard error in the plot style: as resp_fmt_short, below 1e-4 "%.1e". */
char *resp_fmt_se(char *buf, size_t n, double se);
char *resp_fmt_mean_se(char *buf, size_t n, const struct resp_stat *s);
/* An integer count, "—" when not finite. */
char *resp_fmt_int(char *buf, size_t n, double x);

/*
 * A count with its noun in the right number: "1 trial", "2 trials", "0
 * trials"; many NULL means one + "s" ("configuration" -> "configurations").
 */
char *resp_fmt_count(char *buf, size_t n, double count, const char *one, const char *many);

/*
 * The one p-value format: "p = 0.023" (three decimals), "p < 0.001" below
 * that, "p = —" when not finite.  Used by best, the report and compare.
 */
char *resp_fmt_p(char *buf, size_t n, double p);

#define RESP_ALPHA 0.05 /* significance level of every sentence mlpctl writes */

/*
 * The significance sentence of a Welch test of a against b, written from the
 * {t, df, p} mlpd sends, a being the one ranked better: "#1 is significantly
 * better than #2 (Welch's t = 3.210, df = 7.9, p = 0.012)" when p < alpha,
 * "... is not significantly better ..." otherwise.  Both sides without spread
 * (stats_welch's t NaN with p = 1, or t infinite with p = 0) read "a and b
 * are identical on every seed" and "a is better than b on every seed, by the
 * same amount (no spread: no test needed)"; "a and b cannot be compared (too
 * few finished seeds)" is left for a missing p.
 */
char *resp_significance_sentence(char *buf, size_t n, const char *a, const char *b, double t,
                                 double df, double p, double alpha);

/*
 * A configuration's stat in a table cell, saying how many of its seeds
 * diverged: "0.8912 ± 0.0011" when none did, "0.8912 ± 0.0011, diverged
 * (1/3)" when some did, "diverged (3/3)" when all did.  diverged is the
 * count mlpd sends; the total is the stat's values plus its non-finite ones.
 */
char *resp_fmt_stat_diverged(char *buf, size_t n, const struct resp_stat *s, double diverged);

/*
 * The one interval cell of every table (best, show --by, compare, the
 * per-class accuracies): "[lo, hi]" with each end through fmt (resp_fmt_num
 * when NULL) after multiplying by scale, and " *" when mlpd clipped it to the
 * metric's range (resp_clip_footnote explains the mark).  Without an
 * interval: "n/a (n < 2)" when fewer than two seeds finished, "n/a (k/N
 * diverged)" when diverged seeds left fewer than two finite values, "—"
 * otherwise.  *clipped is or'ed with the stat's flag (NULL: not wanted).
 */
char *resp_fmt_ci(char *buf, size_t n, const struct resp_stat *s, double scale,
                  char *(*fmt)(char *, size_t, double), bool *clipped);
/*
 * The footnote of a " *" interval, for a metric name ("val_accuracy") or a
 * description holding "accuracy": "*: interval clipped to the range
 * val_accuracy can take (0 to 1)." ("0 to 100 %" with scale 100; "0 or more"
 * for losses and mse).
 */
char *resp_clip_footnote(char *buf, size_t n, const char *metric, double scale);

/* Shortest text of a hyperparameter number: 0.0001 → "1e-4", 128 → "128". */
char *resp_fmt_param_num(char *buf, size_t n, double x);
/* A hyperparameter value with resp_fmt_param_num numbers: "[256,128]", "relu". */
char *resp_fmt_value(char *buf, size_t n, const struct cJSON *v);
/* A grid object as "hidden=[256,128] lr=0.1 l2=1e-4" (terminal form). */
char *resp_fmt_config(char *buf, size_t n, const struct cJSON *grid);
/* Seconds as "2.5s", "42s", "3m12s", "2h03m", "1d04h"; "—" when unknown. */
char *resp_fmt_duration(char *buf, size_t n, double seconds);

enum resp_tz { RESP_LOCAL, RESP_UTC };
/*
 * A Unix time as "2024-05-01 12:00:00" (local) or "... UTC"; "—" when not
 * positive.  Local time is for the terminal, UTC for files (the report).
 */
char *resp_fmt_time(char *buf, size_t n, double t, enum resp_tz tz);

/* A JSON value as text: strings unquoted, anything else compact JSON.  Caller frees; NULL on
 * ENOMEM. */
char *resp_value_text(const struct cJSON *v);

/*
 * A configuration's label from its varying keys, values as resp_value_text:
 * "hidden=[256,128] lr=0.1"; "config 3" when nothing varies or config is a
 * bare id.  Caller frees; NULL on ENOMEM.
 */
char *resp_config_label(const struct cJSON *config);

/* ---- errors ------------------------------------------------------------------ */

struct resp_error {
    const char *code;    /* wire code ("not_found"); "internal" when missing */
    const char *message; /* the daemon's message, or the code's default one */
    const char *path;    /* where in the request, or NULL */
};

/* The error of a response (strings point into resp). */
void resp_error_get(const struct cJSON *resp, struct resp_error *e);

/*
 * Write the human line of an error to f: "PREFIX: PATH: MESSAGE\n" (no PATH
 * when absent or already at the start of MESSAGE); prefix NULL means "mlpctl".
 */
void resp_error_print(FILE *f, const struct resp_error *e, const char *prefix);

/* mlpctl's exit code for an error code: 4 for invalid input, else 1 (cli.h). */
int resp_error_exit(const char *code);

/* {"error": {"code", "message", "path"?}}, the --json form of an error; NULL on ENOMEM. */
struct cJSON *resp_error_doc(const char *code, const char *message, const char *path);

#endif
