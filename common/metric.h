/*
 * metric — the one list of what a trial measures.
 *
 * Every metric a worker prints, the store keeps, the grid may rank by, the
 * daemon aggregates and the CLI draws is one row of MLP_METRIC_MAP.  The
 * store's column lists, grid validation, the daemon's sibling lookups
 * ("val_accuracy" -> "test_accuracy"), the worker's output keys and the plot
 * defaults are all derived from it, so adding a metric is one line here (and a
 * migration for its column).
 *
 * Columns of a row:
 *   ID      enum suffix: MLP_M_<ID>
 *   name    wire, column and CSV name
 *   split   which data it is measured on: TRAIN, VAL, TEST, or NONE for
 *           bookkeeping values (epochs_run, seconds, ...)
 *   kind    LOSS, ACCURACY, MSE (the data metrics), or COUNT, TIME, FLAG
 *   dir     MAX (higher is better), MIN, or NONE (not an optimisation target)
 *   epoch   1 when the value is also recorded per epoch (the curve)
 */
#ifndef MLP_METRIC_H
#define MLP_METRIC_H

#include <stdbool.h>
#include <stddef.h>

#define MLP_METRIC_MAP(X)                                                                          \
    X(TRAIN_LOSS, "train_loss", TRAIN, LOSS, MIN, 1)                                               \
    X(TRAIN_ACCURACY, "train_accuracy", TRAIN, ACCURACY, MAX, 1)                                   \
    X(VAL_LOSS, "val_loss", VAL, LOSS, MIN, 1)                                                     \
    X(VAL_ACCURACY, "val_accuracy", VAL, ACCURACY, MAX, 1)                                         \
    X(TEST_LOSS, "test_loss", TEST, LOSS, MIN, 1)                                                  \
    X(TEST_ACCURACY, "test_accuracy", TEST, ACCURACY, MAX, 1)                                      \
    X(TRAIN_MSE, "train_mse", TRAIN, MSE, MIN, 1)                                                  \
    X(VAL_MSE, "val_mse", VAL, MSE, MIN, 1)                                                        \
    X(TEST_MSE, "test_mse", TEST, MSE, MIN, 1)                                                     \
    X(EPOCHS_RUN, "epochs_run", NONE, COUNT, NONE, 0)                                              \
    X(BEST_EPOCH, "best_epoch", NONE, COUNT, NONE, 0)                                              \
    X(SECONDS, "seconds", NONE, TIME, NONE, 1)                                                     \
    X(DIVERGED, "diverged", NONE, FLAG, NONE, 0)

enum mlp_metric {
#define METRIC__ENUM(id, name, split, kind, dir, epoch) MLP_M_##id,
    MLP_METRIC_MAP(METRIC__ENUM)
#undef METRIC__ENUM
        MLP_M_N
};

enum metric_split { METRIC_TRAIN, METRIC_VAL, METRIC_TEST, METRIC_NONE };
enum metric_kind {
    METRIC_LOSS,
    METRIC_ACCURACY,
    METRIC_MSE,
    METRIC_COUNT,
    METRIC_TIME,
    METRIC_FLAG
};
enum metric_dir { METRIC_MAX = 1, METRIC_MIN = -1, METRIC_DIR_NONE = 0 };

struct metric_info {
    const char *name;        /* "val_accuracy" */
    enum metric_split split; /* METRIC_VAL */
    enum metric_kind kind;   /* METRIC_ACCURACY */
    enum metric_dir dir;     /* METRIC_MAX */
    bool per_epoch;          /* also a column of the per-epoch curve */
};

/* The row of metric m (0 <= m < MLP_M_N). */
const struct metric_info *metric_info(int m);
/* Name of metric m; "?" when out of range. */
const char *metric_name(int m);
/* Index of a metric name, or -1 when unknown (NULL is unknown). */
int metric_index(const char *name);
/* True for data metrics (loss, accuracy, mse) of the train or validation split:
 * what a sweep may rank by.  Test metrics never rank. */
bool metric_rankable(int m);
/* True when higher is better. */
bool metric_maximize(int m);
/* The metric of the same kind on another split ("val_accuracy", TEST ->
 * "test_accuracy"), or -1 when there is none (bookkeeping metrics). */
int metric_sibling(int m, enum metric_split split);
/* Split name ("train", "val", "test", "") and kind name ("loss", "accuracy",
 * "mse", "count", "time", "flag"). */
const char *metric_split_name(enum metric_split s);
const char *metric_kind_name(enum metric_kind k);
/* True when metric m exists for the task: accuracies only for classification,
 * mse only for regression; the rest for both. */
bool metric_for_task(int m, bool regression);
/* The metrics a trial of the task reports, split by split (train, val, test,
 * then the bookkeeping ones), in map order within a split: the order of the
 * result fields.  Fills out[0..MLP_M_N) and returns the count. */
int metric_task_list(bool regression, int *out);
/* Writes "a, b, c" of the rankable names of both tasks in map order into buf
 * (truncated to n); returns buf. */
char *metric_rankable_text(char *buf, size_t n);
/* NULL-terminated list of the rankable names for the task (for "did you
 * mean" suggestions and messages); static storage. */
const char *const *metric_rankable_names(bool regression);

#endif
