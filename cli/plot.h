/*
 * plot — the `plot` and `report` verbs of mlpctl and the pure SVG renderers
 * behind them.  The renderers take the daemon's JSON responses (shapes in
 * daemon/PROTOCOL.md) and write one self-contained SVG document to a FILE*;
 * they do no other I/O.  The verbs fetch the data over the socket, render,
 * and write the output file atomically (temporary file + rename).
 */
#ifndef MLP_PLOT_H
#define MLP_PLOT_H

#include <stdio.h>

#include "cli.h"

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

/*
 * The plot module's internals, shared by plot.c and report.c (double
 * underscore: not for other modules).  `why` buffers receive one sentence
 * when a renderer or writer fails; renderers write nothing to `out` then.
 */

int plot__ranking(FILE *out, const struct cJSON *best_resp, char *why, size_t whylen);
int plot__curves(FILE *out, const struct cJSON *best_resp, const struct cJSON *curves_resp, int top,
                 char *why, size_t whylen);
int plot__gap(FILE *out, const struct cJSON *show_resp, char *why, size_t whylen);
int plot__by(FILE *out, const struct cJSON *show_by_resp, char *why, size_t whylen);

/*
 * Write a file atomically: render into a temporary file beside path, then
 * rename it over path.  path "-" writes to stdout.  On failure nothing is
 * left behind and `why` says what went wrong.  Returns CLI_OK or CLI_FAILED
 * (or the render function's code).
 */
typedef int (*plot__render_fn)(FILE *out, void *ctx, char *why, size_t whylen);
int plot__write_file(const char *path, plot__render_fn render, void *ctx, char *why, size_t whylen);

/*
 * A request {"op": op, "sweep": sweep}, the sweep always as a string (the
 * daemon resolves ids and names); NULL on ENOMEM.
 */
struct cJSON *plot__sweep_req(const char *op, const char *sweep);

/*
 * One request to the daemon (takes ownership of req).  On an error reply the
 * response is printed as JSON when --json is set (cli_request already printed
 * it otherwise) and freed.  Returns a cli_exit code; *resp is set only on CLI_OK.
 */
int plot__fetch(struct cli *cli, struct cJSON *req, struct cJSON **resp);

#endif
