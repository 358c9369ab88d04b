/*
 * trialwire — the one line protocol between mlpd and mlp-worker (SPEC.md
 * "mlp-worker"), both directions, written and read here only.
 *
 * mlpd -> worker: one spec line (struct trial_spec)
 *   {"dataset": NAME-or-OBJECT, "seed": INT, "params": {...}, "trial": INT,
 *    "artifacts_dir": PATH}
 * read by the worker from stdin (local executor) or a file (Slurm), checked
 * key by key (unknown keys, types, the hyperparameters through the hparams
 * table, the dataset through ds_spec_parse).
 *
 * worker -> mlpd: one JSON event line per epoch, then a result or an error
 * (struct trial_event):
 *   {"event":"epoch","epoch":N[,"iteration":N],<per-epoch metrics>[,"lr":X],"seconds":S}
 *   {"event":"result",<metrics>,"diverged":B,"normalize":S[,"confusion":[[..]..],
 *    "class_accuracy":[..]][,"artifacts":[NAME,..]]}
 *   {"event":"error","code":C,"message":M[,"path":P]}
 *   {"event":"heartbeat","seconds":S}
 * A heartbeat says the worker is alive and working (S: seconds since it
 * started); a worker run by mlpd with MLPD_HEARTBEAT set prints one that often
 * (worker/guard.c), so mlpd can tell a slow trial from a stopped or hung one
 * (stall_seconds).
 * Metric keys come from MLP_METRIC_MAP (common/metric.h); non-finite numbers
 * are written as null and read as NaN.  Both executors (daemon/spawn.c for
 * local workers, daemon/slurm.c for Slurm tasks) decode events with
 * trialwire_event_read; the worker writes them with trialwire_event_write.
 *
 * A round trip write -> read gives back the same struct (tests/common and the
 * fuzz target tests/fuzz/fuzz_trialwire.c check it).
 */
#ifndef MLP_TRIALWIRE_H
#define MLP_TRIALWIRE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "err.h"
#include "hparams.h"
#include "metric.h"

/* ---- spec ---------------------------------------------------------------- */

struct trial_spec {
    int64_t seed;      /* "seed"; 1 when absent */
    int64_t trial;     /* "trial": mlpd's trial id, 0 when absent (not used by the worker) */
    struct hparams hp; /* "params", defaults filled */
    struct ds_spec ds; /* "dataset" */
    char artifacts_dir[PATH_MAX]; /* "artifacts_dir"; "" when absent (the worker uses ".") */
};

/*
 * Fill *s from the texts mlpd stores (the canonical JSON of the dataset and of
 * a configuration's params, common/grid.c), as the worker will read them.
 * artifacts_dir may be NULL.  Returns 0, or MLP_EINVALID_SPEC /
 * MLP_EINVALID_DATASET naming the place when a stored text no longer parses.
 */
int trialwire_spec_init(struct trial_spec *s, const char *dataset_json, const char *params_json,
                        int64_t seed, int64_t trial, const char *artifacts_dir, struct err *e);

/*
 * The spec line of *s (canonical JSON, no newline; "trial" and
 * "artifacts_dir" only when set).  Returns a malloc'ed string (caller frees),
 * or NULL with *e filled (MLP_ENOMEM).
 */
char *trialwire_spec_write(const struct trial_spec *s, struct err *e);

/*
 * Parse and check a spec: text (len bytes, not necessarily NUL-terminated)
 * must be one JSON object and nothing else.  Relative dataset paths are made
 * absolute against base_dir (NULL: the current directory).  Returns 0, or
 * MLP_EINVALID_SPEC (MLP_EINVALID_DATASET, MLP_ENOMEM) with *e naming the place
 * ("seed", "params.lr", "dataset.noise").
 */
int trialwire_spec_read(struct trial_spec *s, const char *text, size_t len, const char *base_dir,
                        struct err *e);

/* ---- events -------------------------------------------------------------- */

#define TRIALWIRE_MAX_CLASSES 1000 /* a larger confusion matrix is dropped, not stored */
#define TRIALWIRE_MAX_ARTIFACTS 8  /* file names a result may list */

enum trial_event_kind {
    TRIAL_EV_NONE,   /* not an event line (kept in the trial's log by the executors) */
    TRIAL_EV_EPOCH,  /* one epoch's metrics */
    TRIAL_EV_RESULT, /* the trial's result */
    TRIAL_EV_ERROR,  /* why the worker stops (it then exits non-zero) */
    TRIAL_EV_OTHER,  /* an event of a kind this version does not know: ignored */
    TRIAL_EV_HEARTBEAT, /* the worker is alive (v[MLP_M_SECONDS]: seconds since it started) */
};

struct trial_event {
    enum trial_event_kind kind;
    /*
     * EPOCH and RESULT (and HEARTBEAT: "seconds" only): the metrics, NaN where absent or null.  has has bit m
     * set when metric m is on the line (a null counts: the writer prints
     * null for a non-finite value it was given).  An epoch line carries
     * per-epoch metrics only.  In a result, integer metrics out of range read
     * as NaN and an absent "diverged" as 0.
     */
    double v[MLP_M_N];
    uint64_t has;
    /* EPOCH */
    int64_t epoch;     /* 1..1e9; a line with another number is read as TRIAL_EV_OTHER */
    int64_t iteration; /* optimiser steps so far; -1 when absent */
    double lr;         /* the epoch's learning rate; NaN when absent */
    /* RESULT */
    char normalize[64]; /* the normalisation applied; "" when absent */
    int n_classes;      /* K of the confusion matrix; 0 when none (or dropped as malformed) */
    int64_t *confusion; /* K*K test counts, row-major: true class i, predicted j (owned) */
    int n_artifacts;    /* files saved into artifacts_dir */
    char artifacts[TRIALWIRE_MAX_ARTIFACTS][64];
    /* ERROR */
    char code[64];      /* wire name of an MLP_E* code ("timeout", "invalid_spec") */
    char message[1024]; /* what happened */
    char path[256];     /* the place it names ("params.max_seconds"); "" when none */
};

/* An empty event of kind k (metrics NaN, nothing owned); release it with trialwire_event_release.
 */
void trialwire_event_init(struct trial_event *ev, enum trial_event_kind k);

/* Free what ev owns (its confusion matrix) and leave it empty.  NULL is fine. */
void trialwire_event_release(struct trial_event *ev);

/*
 * Decode one line (len bytes) into *ev, which it initialises first.  Returns
 * the kind (TRIAL_EV_NONE for a line that is not a JSON object with a string
 * "event"), or MLP_ENOMEM.  Malformed members are dropped, never half-read: a
 * confusion matrix that is not K x K non-negative integers
 * (1 <= K <= TRIALWIRE_MAX_CLASSES) leaves n_classes 0.  Release ev after.
 */
int trialwire_event_read(const char *line, size_t len, struct trial_event *ev);

/* The learning rate of an epoch event as mlpd stores it: NaN when absent, not finite or not > 0. */
double trialwire_epoch_lr(const struct trial_event *ev);

/*
 * The line of *ev (no newline): for EPOCH and RESULT the metrics in has,
 * train, val and test split first, then the others in MLP_METRIC_MAP order;
 * a RESULT with a confusion matrix also carries "class_accuracy"
 * (trialwire_class_accuracy).  Returns a malloc'ed string, or NULL on ENOMEM.
 */
char *trialwire_event_write(const struct trial_event *ev);

/*
 * The heartbeat line of a worker that has run `seconds`, with its newline,
 * into buf (size n) without allocating (the worker's heartbeat thread prints
 * it).  Returns its length, or -1 when n is too small (64 bytes always do).
 */
int trialwire_heartbeat_line(char *buf, size_t n, double seconds);

/* ---- confusion matrices -------------------------------------------------- */

/*
 * The accuracy of each true class of a K x K count matrix: diagonal over row
 * total into acc[0..K), NaN for a class without test rows.  The one
 * definition used by the worker's lines and tables and by mlpd's answers.
 */
void trialwire_class_accuracy(int k, const int64_t *counts, double *acc);

/*
 * A confusion matrix as compact JSON text ("[[5,1],[0,7]]"), as mlpd stores it.
 * Returns a malloc'ed string, or NULL on ENOMEM.
 */
char *trialwire_confusion_text(int k, const int64_t *counts);

/*
 * Parse a confusion matrix (JSON text, len bytes): the same rule as in
 * an event line.  Returns 0 with *k and *counts (malloc'ed, caller frees) set,
 * MLP_EINVALID_REQUEST when it is not a valid matrix, or MLP_ENOMEM.
 */
int trialwire_confusion_parse(const char *text, size_t len, int *k, int64_t **counts);

#endif
