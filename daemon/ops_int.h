/*
 * ops_int — what ops.c shares with the other files of the ops module:
 * ops_sweep.c (list, submit, queue verbs, delete), ops_query.c (show, best,
 * compare, results) and ops_trial.c (trial, artifact).  Nothing outside the
 * ops module includes this header; the rest of the daemon sees ops.h only.
 *
 * ops.c keeps the helpers every group needs (the protocol's JSON shapes of a
 * stat, a configuration and an epoch, sweep lookup, the streamed-answer
 * chunks) and the ops table; the handlers below are defined in their group's
 * file and named in that table.
 */
#ifndef MLP_OPS_INT_H
#define MLP_OPS_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ops.h"

struct mlpd;
struct query_rows;
struct stat_summary;
struct store_epoch_row;
struct store_sweep;

/* The configurations of a sweep (or one of them), parsed; release with ops__cfgs_free. */
struct cfgs {
    size_t n, cap;
    int64_t *idx;
    cJSON **params, **grid; /* parsed, owned */
    int64_t *pruned;        /* the rung each was pruned at, 0 when not pruned */
};

/* A chunk of an array field being written: "field":[row,row,... */
struct chunk {
    struct op_buf *out;
    const char *field;
    size_t n; /* rows in this chunk */
};

/* What the results and curve row builders need (rows: the array epoch rows go to). */
struct rows_ctx {
    cJSON *rows;
    const struct cfgs *cf;
    const int *metrics;
    int n_metrics;
    bool regression;
};

/* The protocol's "stat" object of s (n, mean, sd, se, CI, nonfinite, clipped); caller frees. */
cJSON *ops__stat_json(const struct stat_summary *s);
/*
 * A stored confusion matrix (JSON text) as k and k*k counts row-major (*m
 * malloc'ed, caller frees).  0, MLP_ENOMEM, or MLP_EINVALID_REQUEST when the
 * text is not a square matrix (*m NULL).
 */
int ops__confusion_parse(const char *text, int *k, double **m);
/* Per-class accuracy of a k x k matrix: diagonal over row total, null for an empty row. */
cJSON *ops__class_accuracy_json(int k, const int64_t *counts);
/* Whether a sweep's dataset JSON says "task": "regression". */
bool ops__is_regression(const char *dataset_json);
/* Every done trial's values of a sweep, grouped: 0 or <0 with *e filled (q released then). */
int ops__rows_load(struct mlpd *d, int64_t sweep_id, struct query_rows *q, struct err *e);
/* Add the summary of sweep id as resp's "sweep": 0 or <0 with *e filled. */
int ops__add_summary(struct mlpd *d, cJSON *resp, int64_t id, struct err *e);
/* Load the configurations of a sweep (only > 0: that one): 0 or <0 with *e filled. */
int ops__cfgs_load(struct mlpd *d, int64_t sweep_id, int64_t only, struct cfgs *c, struct err *e);
void ops__cfgs_free(struct cfgs *c);
/* Load configuration idx into c unless it is there already (a page of trials needs a few). */
int ops__cfgs_add(struct mlpd *d, int64_t sweep_id, int64_t idx, struct cfgs *c, struct err *e);
/* Position of config idx in c, or -1. */
long ops__cfgs_find(const struct cfgs *c, int64_t idx);
/* The "config" shape {id, params, grid} of config idx; caller frees. */
cJSON *ops__config_json(const struct cfgs *c, int64_t idx);
/* Copy config idx's grid values into row under their keys. */
void ops__add_grid_values(cJSON *row, const struct cfgs *c, int64_t idx);
/* Append row (consumed) to the chunk: 1 when the chunk is full, 0, or MLP_ENOMEM. */
int ops__chunk_add(struct chunk *k, cJSON *row);
/* Close the chunk's array ("field":[] when it has no row): 0 or MLP_ENOMEM. */
int ops__chunk_end(struct chunk *k);
/* A row of one epoch (results --curves, the trial op's curve); NULL when out of memory. */
cJSON *ops__epoch_json(const struct rows_ctx *x, const struct store_epoch_row *r);

/* Handlers (struct op's exec; sw: the sweep an OPF_SWEEP op names) of the table, by file. */
/* ops_sweep.c */
int op_list(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e);
int op_submit(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
              struct op_intent *it, struct err *e);
/* The pool and loop halves of submit and delete (ops.h "pool"). */
int op_submit_pool(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e);
int op_delete_pool(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e);
int op_submit_after(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                    struct err *e);
int op_queue(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
             struct op_intent *it, struct err *e);
int op_delete(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
              struct op_intent *it, struct err *e);
/* ops_query.c */
int op_show(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e);
int op_best(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e);
int op_compare(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
               struct op_intent *it, struct err *e);
int op_results(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
               struct op_intent *it, struct err *e);
/* ops_trial.c */
int op_trial(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
             struct op_intent *it, struct err *e);
int op_artifact(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                struct op_intent *it, struct err *e);
/* ops_meta.c */
int op_tag(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
           struct op_intent *it, struct err *e);
int op_note(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e);

#endif
