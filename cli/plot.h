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
int plot_curves(FILE *out, const struct cJSON *best_resp,
                const struct cJSON *curves_resp, int top);

/* Train vs validation per configuration: `show` op response. */
int plot_gap(FILE *out, const struct cJSON *show_resp);

/* Marginal effect of one key: `show` op response with `by`. */
int plot_by(FILE *out, const struct cJSON *show_by_resp);

#endif
