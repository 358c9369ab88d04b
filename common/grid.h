/*
 * grid — a grid file parsed, validated and expanded (SPEC.md "The grid file").
 *
 * grid_parse() checks every key of the document, then expands "grid" (one object
 * or a list of objects: the union of their Cartesian products) over "base" into
 * concrete configurations.  Identical configurations (equal canonical params
 * text, see hparams_to_json) are kept once, first occurrence wins.  Expansion
 * order is deterministic: the first key of a grid object varies slowest, in the
 * file's key order.  The product size is computed with overflow guards before
 * anything is allocated, so a huge grid is refused without using memory.
 * A struct grid owns everything it hands out as const pointers.
 */
#ifndef MLP_GRID_H
#define MLP_GRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hparams.h"

struct cJSON;
struct ds_spec;
struct grid; /* opaque */

#define GRID_DEFAULT_MAX_TRIALS 100000L
/* mlpd's max_trials by default (common/config.c): the most it queues even with force. */
#define GRID_DEFAULT_CEILING 1000000L

struct grid_opts {
    const char *default_name; /* sweep name when the file has no "name" (may be NULL) */
    const char *base_dir;     /* directory relative dataset paths are resolved against */
    long max_trials;          /* <= 0 means GRID_DEFAULT_MAX_TRIALS */
    bool force;               /* accept grids larger than max_trials, up to ceiling */
    long ceiling;             /* never more trials, even with force; <= 0: 10,000,000 */
};

/*
 * Parse and expand a grid document.  Returns 0 with *out set (free with
 * grid_free), or MLP_EINVALID_GRID (MLP_EINVALID_DATASET for dataset errors,
 * MLP_ETOO_LARGE when configs x seeds exceeds max_trials without force, or
 * the ceiling with it: expansion stops there, and the message gives the
 * grid's size counted arithmetically (combinations x seeds, before identical
 * configurations are merged), so a huge grid costs neither time nor memory),
 * MLP_ENOMEM) with *e filled; on error *out is NULL and nothing leaks.
 */
int grid_parse(const struct cJSON *doc, const struct grid_opts *o, struct grid **out,
               struct err *e);

/* Free a grid (NULL is fine). */
void grid_free(struct grid *g);

/* The sweep name: "name", else o->default_name, else "sweep". */
const char *grid_name(const struct grid *g);

/* "executor": "local" or "slurm", or NULL when the grid leaves it to mlpd.conf. */
const char *grid_executor(const struct grid *g);

#define GRID_SLURM_STR_MAX 256
#define GRID_SLURM_ARGS_MAX 16

/* A sweep's "slurm" object: each field overrides mlpd.conf's slurm_* setting. */
struct grid_slurm {
    char partition[GRID_SLURM_STR_MAX]; /* "" = mlpd.conf's */
    char account[GRID_SLURM_STR_MAX];   /* "" = mlpd.conf's */
    char time[GRID_SLURM_STR_MAX];      /* "" = mlpd.conf's */
    char args[GRID_SLURM_ARGS_MAX]
             [GRID_SLURM_STR_MAX]; /* replace slurm_sbatch_args when n_args > 0 */
    int n_args;
};

/*
 * Check a grid's "slurm" member and fill *out.  0, or MLP_EINVALID_GRID with
 * *e naming the path ("slurm.time", "slurm.sbatch_args[2]") and the problem.
 * grid_parse calls it; the Slurm executor calls it again on the stored grid.
 */
int grid_slurm_parse(const struct cJSON *v, struct grid_slurm *out, struct err *e);

/* The ranking metric; default "val_accuracy". */
const char *grid_metric(const struct grid *g);

/* Whether the metric is maximised (*_accuracy) rather than minimised (*_loss, *_mse). */
bool grid_metric_maximize(const struct grid *g);

/* The parsed dataset (owned by g). */
const struct ds_spec *grid_dataset(const struct grid *g);

/* Canonical JSON of the dataset; caller frees with cJSON_Delete. NULL on ENOMEM. */
struct cJSON *grid_dataset_json(const struct grid *g);

/* Number of distinct configurations. */
size_t grid_n_configs(const struct grid *g);

/* Configuration i (< grid_n_configs), owned by g. */
const struct hparams *grid_config(const struct grid *g, size_t i);

/* Canonical full params of configuration i (hparams_to_json); caller frees. */
struct cJSON *grid_config_params(const struct grid *g, size_t i);

/*
 * Only the keys that vary in the grid (grid_key order) with configuration i's
 * values in canonical form; caller frees.
 */
struct cJSON *grid_config_varying(const struct grid *g, size_t i);

/*
 * The grid's "search" (common/search.h), or NULL when it has none.  With a
 * search, the configurations are every grid combination (base alone when
 * there is no "grid") with each of search.trials points drawn over it, in
 * point order; identical ones are kept once like grid combinations.
 */
struct search;
const struct search *grid_search(const struct grid *g);

/* The grid's "prune" (common/prune.h), or NULL when it has none. */
struct prune;
const struct prune *grid_prune(const struct grid *g);

/* Keys that vary: the grid's (union over grid objects, first-seen order), then the search's. */
size_t grid_n_keys(const struct grid *g);
const char *grid_key(const struct grid *g, size_t i);

/* Seeds: "seeds": n gives 1..n; a list gives those values; default one seed, 1. */
size_t grid_n_seeds(const struct grid *g);
int64_t grid_seed(const struct grid *g, size_t i);

/* grid_n_configs x grid_n_seeds. */
size_t grid_n_trials(const struct grid *g);

/*
 * Racing on seeds (common/race.h): "seeds": {"min": m, "max": M} gives seeds
 * 1..M (grid_n_seeds M), of which each configuration runs the first m at
 * submit; the race adds the others one at a time.  NULL when "seeds" is a
 * number or a list (every seed runs).
 */
struct race;
const struct race *grid_race(const struct grid *g);

/* The seeds stored per configuration at submit: m when racing, else grid_n_seeds. */
size_t grid_n_first_seeds(const struct grid *g);

/* The largest selection seed (confirmation seeds come after it). */
int64_t grid_max_seed(const struct grid *g);

/* The grid's "confirm" (race.h), or NULL. */
struct race_confirm;
const struct race_confirm *grid_confirm(const struct grid *g);

/* The most trials the sweep may reach: grid_n_trials plus confirm.top x confirm.seeds. */
size_t grid_n_trials_max(const struct grid *g);

/*
 * Whether `metric` may rank trials (metric_rankable of common/metric.h: the
 * train and validation data metrics).  Test metrics are refused: ranking never
 * uses test metrics.
 */
bool grid_metric_valid(const char *metric);

/* Whether a valid metric is maximised (metric_maximize: true for *_accuracy). */
bool grid_metric_is_max(const char *metric);

#endif
