/*
 * plot — the `plot` and `report` verbs of mlpctl and the pure SVG renderers
 * behind them.  The renderers take the daemon's JSON responses (shapes in
 * daemon/PROTOCOL.md) and write one self-contained SVG document to a FILE*;
 * they do no other I/O.  The verbs fetch the data over the socket, render,
 * and write the output file atomically (temporary file + rename).
 */
#ifndef MLP_PLOT_H
#define MLP_PLOT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "metric.h"
#include "resp.h"

struct cJSON;

/*
 * mlpctl plot SWEEP --out FILE.svg [--kind ranking|curves|gap|by] [--key K]
 *                   [--top K] [--metric M]
 * Returns a cli_exit code.
 */
int cmd_plot(struct cli *cli, int argc, char **argv);

/* mlpctl report SWEEP --out report.html — tables and every plot in one file. */
int cmd_report(struct cli *cli, int argc, char **argv);

/*
 * Pure renderers.  Each returns 0 (CLI_OK) or CLI_FAILED with a message on
 * stderr (e.g. an empty sweep: nothing to plot).
 */

/* Ranking: `best` op response (top = all configs); mean ± SE per config, best first. */
int plot_ranking(FILE *out, const struct cJSON *best_resp);

/*
 * Learning curves of the `top` best configurations: best_resp ranks them,
 * curves_resp is the `results` op response with curves:true (per-epoch rows).
 */
int plot_curves(FILE *out, const struct cJSON *best_resp, const struct cJSON *curves_resp, int top);

/* Train vs validation per configuration: `show` op response. */
int plot_gap(FILE *out, const struct cJSON *show_resp);

/* Marginal effect of one key: `show` op response with `by`. */
int plot_by(FILE *out, const struct cJSON *show_by_resp);

/* Learning curve against grid key `key`: `results` op response (aggregated rows). */
int plot_learning(FILE *out, const struct cJSON *results_resp, const char *key);

/* Confusion heat map: `show` op response with `config` and `confusion: true`. */
int plot_confusion(FILE *out, const struct cJSON *show_resp);

/*
 * Parallel coordinates: trials_resp is the `results` op with trials: true,
 * show_resp the `show` op (may be NULL: pruned rungs unknown); the sweep's metric.
 */
int plot_parallel(FILE *out, const struct cJSON *trials_resp, const struct cJSON *show_resp);

/*
 * Importance of each key (as `mlpctl importance`): trials_resp is the
 * `results` op with trials: true; the sweep's metric, ANOVA for a grid and
 * fANOVA for a random/Sobol search.
 */
int plot_importance(FILE *out, const struct cJSON *trials_resp);

/* Heat map of the sweep's metric over keys "A,B" (as --keys): responses as plot_parallel. */
int plot_heatmap(FILE *out, const struct cJSON *trials_resp, const struct cJSON *show_resp,
                 const char *keys);

/*
 * The plot module's internals, shared by plot.c (frame, rows, the kind
 * table and the verb), plot_<kind>.c (one file per kind) and report.c
 * (double underscore: not for other modules).  `why` buffers receive one
 * sentence when a renderer or writer fails; renderers write nothing to
 * `out` then.
 */

#define COL_VAL "#0072B2"   /* validation / the metric: blue */
#define COL_TRAIN "#E69F00" /* training: orange */
#define COL_BEST "#D55E00"  /* the best configuration: vermillion */
#define COL_LIGHT "#9ecae9" /* 95% interval bar: light blue */
#define COL_NOTE "#555"

#define PLOT_LABEL_BUF 4096 /* bytes of a configuration label with its rank */

/* What `mlpctl plot` was asked for. */
struct plot_args {
    const char *sweep;  /* SWEEP as given (id or name) */
    const char *key;    /* --key, or NULL */
    const char *metric; /* --metric, or NULL */
    const char *method; /* --method (importance), or NULL */
    const char *keys;   /* --keys A,B (heatmap), or NULL */
    int top;            /* --top, 0 when not given */
    long config;        /* --config, 0 when not given */
    long trial;         /* --trial, 0 when not given */
};

#define PLOT_MAX_REQ 3 /* requests a kind may need */

/*
 * One plot kind: its name, the options that apply, the requests it needs and
 * its renderer.  Adding a kind is one file (plot_<name>.c defining
 * plot_kind_<name>) and one entry in PLOT_KINDS.
 */
struct plot_kind {
    const char *name;  /* --kind NAME */
    bool takes_key;    /* --key applies */
    bool needs_key;    /* --key is required (and --key alone selects this kind) */
    bool takes_metric; /* --metric applies */
    bool takes_method; /* --method applies */
    bool needs_keys;   /* --keys A,B is required (and allowed) */
    bool needs_config; /* --config N is required (and allowed) */
    bool needs_trial;  /* --trial N is required (and allowed); SWEEP is then optional */
    int nreq;          /* requests to send, 1..PLOT_MAX_REQ */
    /* The i-th request (0 <= i < nreq); NULL on ENOMEM. */
    struct cJSON *(*request)(const struct plot_args *a, int i);
    /* Optional: is request i needed for these arguments (else resp[i] stays NULL)? */
    bool (*wants)(const struct plot_args *a, int i);
    /* Draw from the responses (in request order); CLI_OK or CLI_FAILED with why. */
    int (*render)(FILE *out, const struct plot_args *a, struct cJSON *const *resp, char *why,
                  size_t whylen);
    /*
     * Optional: fetch resp[0..nreq) itself instead of sending request(a, i)
     * (boundary: streamed artifacts).  Returns a cli_exit code, the problem
     * printed; whatever it stored in resp is freed by the caller.
     */
    int (*fetch)(struct cli *cli, const struct plot_args *a, struct cJSON **resp);
};

/* The kinds, in the order `--kind` lists them; the first is the default. */
#define PLOT_KINDS(X)                                                                              \
    X(ranking) X(curves) X(gap) X(by) X(learning) X(confusion) X(boundary) X(importance)   \
        X(parallel) X(heatmap)
#define PLOT__DECLARE_KIND(k) extern const struct plot_kind plot_kind_##k;
PLOT_KINDS(PLOT__DECLARE_KIND)
#undef PLOT__DECLARE_KIND

/* The request {"op": op, "sweep": SWEEP} every kind starts from; NULL on ENOMEM. */
struct cJSON *plot__sweep_req(const char *op, const struct plot_args *a);

/* ---- the shared frame (plot.c) ---- */

/* Set why (may be NULL) to a formatted sentence. */
void plot__why(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The sweep's display name from a response's "sweep" summary (its name, else its id). */
const char *plot__sweep_name(const struct cJSON *resp, char *buf, size_t n);
/* Extend [*lo, *hi] by v when finite. */
void plot__widen(double *lo, double *hi, double v);
/* Title and subtitle at the top of every plot. */
void plot__titles(FILE *out, double w, const char *title, const char *subtitle);
/* Notes under a plot, one per line, starting at y. */
void plot__notes(FILE *out, double x, double y, const char *const *notes, int n);
struct plot__row;
/*
 * A configuration row's label "#RANK LABEL" right-aligned at x, never cut
 * (plot__row_plot_width sizes the column), with r->full as its tooltip.
 */
void plot__row_label(FILE *out, double x, double y, const struct plot__row *r, int n, bool bold);

/*
 * Labels name only what tells configurations apart.  plot__varying_keys:
 * the keys whose values differ between the items (a new array of strings;
 * NULL on ENOMEM).  Items are `configs` entries ({"config": {"grid": ...}})
 * or, flat, objects holding the values themselves (`results` rows);
 * candidates: the keys to consider, in order (NULL: every key of the items'
 * grids); skip: a key left out (or NULL).
 */
struct cJSON *plot__varying_keys(const struct cJSON *items, bool flat,
                                 const struct cJSON *candidates, const char *skip);
/* "k=v k=v" over keys (values as resp_value_text), `none` when keys is empty.  Caller frees. */
char *plot__label(const struct cJSON *values, const struct cJSON *keys, const char *none);
/* The full text of a configuration: every grid key and its id ("lr=0.1 l2=0 (config 3)"). */
char *plot__config_full(const struct cJSON *config);
/* Width in pixels a plot needs for its titles (centred) and notes (from x = 12). */
double plot__text_need(const char *title, const char *subtitle, const char *const *notes,
                       int nnotes);
/* The public renderers' tail: on failure, `why` on stderr.  Returns rc. */
int plot__say_why(int rc, const char *why);

/*
 * A metric's quantity and its validation, training and test members, from
 * common/metric.h: "val_accuracy" → "accuracy", "val_accuracy",
 * "train_accuracy", "test_accuracy".  For a name metric.h does not know: the
 * text after its first '_', with "val_", "train_" and "test_" in front.
 */
struct plot__metric {
    char base[64];  /* "accuracy" */
    char val[96];   /* "val_accuracy" */
    char train[96]; /* "train_accuracy" */
    char test[96];  /* "test_accuracy" */
};
void plot__metric_parts(const char *metric, struct plot__metric *m);

/* One configuration of a row plot (ranking, gap; curves picks its top rows). */
struct plot__row {
    int rank;            /* 1 = best */
    int id;              /* configuration id */
    char *label;         /* the varying keys' values (plot__label), owned */
    char *full;          /* plot__config_full, owned */
    struct resp_stat st; /* the metric */
    struct resp_stat tr; /* train counterpart (gap plot) */
    double gap;          /* gap plot */
    int pruned;          /* the rung (epoch) it was pruned at; 0: not pruned.  rank 0 then */
};
void plot__free_rows(struct plot__row *rows, int n);
/*
 * Rows of resp's "configs" with a finite mean, best first, then the pruned
 * configurations (a `show` "pruned" rung: not ranked, no mean) of `all` (a
 * `show` response with every configuration, or NULL: resp's own), which also
 * decides the keys labels name; with_train also reads "train" and "gap".
 * The row count, or 0 with `why` set (out of memory, or nothing to draw).
 * *skipped: configurations neither pruned nor with a finite mean.
 */
int plot__rows(const struct cJSON *resp, bool with_train, const struct cJSON *all,
               struct plot__row **rows, int *skipped, const char *name, const char *metric,
               char *why, size_t whylen);
/* A pruned configuration's row: its label at label_x, "pruned at epoch N (not ranked)" at value_x. */
void plot__pruned_row(FILE *out, double label_x, double value_x, double y,
                      const struct plot__row *r);
/* Width of a row plot (at least 760); *left: the plot area's left edge. */
double plot__row_plot_width(const struct plot__row *rows, int n, double plotw, double right,
                            double *left);
/* The note for configurations left out of a row plot. */
void plot__note_skipped(char *buf, size_t n, int skipped, const char *metric);
/* Grey stripes behind every other row. */
void plot__stripes(FILE *out, int n, double top, double rowh, double w);
/* Close a row plot: its rows group, notes, the document; frees rows.  CLI_OK. */
int plot__end_row_plot(FILE *out, struct plot__row *rows, int n, double plot_bot,
                       const char *const *notes, int nnotes);

/* ---- the renderers (plot_<kind>.c), also drawn by the report ---- */

/* Ranking of best_resp; show_resp (a `show` response, may be NULL) adds the pruned configurations. */
int plot__ranking(FILE *out, const struct cJSON *best_resp, const struct cJSON *show_resp,
                  char *why, size_t whylen);
int plot__curves(FILE *out, const struct cJSON *best_resp, const struct cJSON *curves_resp, int top,
                 char *why, size_t whylen);
int plot__gap(FILE *out, const struct cJSON *show_resp, char *why, size_t whylen);
int plot__by(FILE *out, const struct cJSON *show_by_resp, char *why, size_t whylen);
/*
 * Learning curve against numeric grid key `key` (log x): the `results` op's
 * aggregated rows; one line group per value of the other varying keys.
 * metric NULL: the response's sweep metric, else val_accuracy / val_mse.
 */
int plot__learning(FILE *out, const struct cJSON *results_resp, const char *key, const char *metric,
                   char *why, size_t whylen);
/* Heat map of the `show` op's `confusion` section (rates, mean ± SE per cell). */
int plot__confusion(FILE *out, const struct cJSON *show_resp, char *why, size_t whylen);
/*
 * Decision boundary of a 2-feature trial: boundary.csv and points.csv as
 * text (artifact.c, worker layout in SPEC.md); trial_resp (the `trial` op,
 * may be NULL) names the data set and configuration in the titles.
 */
int plot__boundary(FILE *out, const struct cJSON *trial_resp, const char *boundary_csv,
                   const char *points_csv, char *why, size_t whylen);

/*
 * The configurations of a sweep from the `results` op per trial (trials):
 * each one's key values and its mean ± SE of `metric` over its done seeds
 * (confirmation trials left out), pruned (the rung from show, a `show`
 * response that may be NULL) and diverged seeds; or from rows that are already
 * per configuration (importance_config_row: their own figures and rung, one
 * row each, so a sweep of any size costs its configurations).  plot__confs returns the
 * count; 0 (no trials), -1 (out of memory) or -2 (no such metric: a usage
 * error) with why set.
 */
struct plot__conf {
    int id;                /* configuration id */
    const struct cJSON *values; /* one of its rows: the key values (owned by the response) */
    struct resp_stat st;   /* the metric over its done seeds: n, mean, sd, se */
    int done;              /* done seeds */
    int diverged;          /* done seeds that diverged */
    int pruned;            /* the rung it was pruned at; -1 pruned at an unknown rung; 0 not */
    char *label;           /* set by the caller (plot__label), freed by plot__free_confs */
};
int plot__confs(const struct cJSON *trials, const struct cJSON *show, const char *metric,
                struct plot__conf **out, char *why, size_t whylen);
void plot__free_confs(struct plot__conf *c, int n);
/* The metric a kind draws: a->metric (a may be NULL), else the sweep's. */
const char *plot__metric_of(const struct plot_args *a, const struct cJSON *show,
                            const struct cJSON *trials);
/* Is higher better for metric (by metric.h, else show's direction)? */
bool plot__maximize(const char *metric, const struct cJSON *show);
/* The viridis colour of t in [0, 1] ("#rrggbb"): dark purple (0) to yellow (1). */
void plot__ramp(char *buf, size_t n, double t);
/* The metric's range a ramp spans: lo (worst when maximised) to hi. */
struct plot__range {
    double lo, hi;
};
/* The ramp's legend at (x, y), w wide: worst (left) to best (right) with both values. */
void plot__ramp_legend(FILE *out, double x, double y, double w, const struct plot__range *r,
                       bool maximize, const char *metric);
/* The keys (of trials' "keys", in order) whose values differ among c; NULL on ENOMEM. */
struct cJSON *plot__conf_varying(const struct plot__conf *c, int n, const struct cJSON *trials);

/*
 * Parallel coordinates (plot_parallel.c): trials is the `results` op with
 * trials: true, or rows of per-configuration aggregates (importance.h:
 * importance_config_row), show the `show` op (may be NULL); metric as
 * plot__metric_of.
 * CLI_USAGE when the trials have no such metric.
 */
int plot__parallel(FILE *out, const struct cJSON *trials, const struct cJSON *show,
                   const char *metric, char *why, size_t whylen);

/*
 * Importance bars (plot_importance.c) of trials (the `results` op with
 * trials: true): metric NULL for the sweep's, method NULL, "anova" or
 * "fanova" as `mlpctl importance --method`.  CLI_USAGE for a metric or
 * method that does not apply, CLI_FAILED when there is nothing to analyse.
 */
int plot__importance(FILE *out, const struct cJSON *trials, const char *metric, const char *method,
                     char *why, size_t whylen);

/*
 * Heat map (plot_heatmap.c) of metric over keys "A,B" (A: columns, B: rows);
 * CLI_USAGE with why when keys are not two different keys that vary.
 */
int plot__heatmap(FILE *out, const struct cJSON *trials, const struct cJSON *show,
                  const char *metric, const char *keys, char *why, size_t whylen);

/* Class names of a data set: Fashion-MNIST's ten, else NULL (plots show digits). */
const char *const *plot__class_names(const char *dataset, int classes);

/*
 * Write a file atomically: render into a temporary file beside path, then
 * rename it over path.  path "-" writes to stdout.  On failure nothing is
 * left behind and `why` says what went wrong.  Returns CLI_OK or CLI_FAILED
 * (or the render function's code).
 */
typedef int (*plot__render_fn)(FILE *out, void *ctx, char *why, size_t whylen);
int plot__write_file(const char *path, plot__render_fn render, void *ctx, char *why, size_t whylen);

#endif
