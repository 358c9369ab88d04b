/*
 * hparams — the hyperparameters of one trial (SPEC.md "Hyperparameters").
 *
 * `struct hparams` is a plain value: the worker's training core reads it, the
 * grid module fills it (one per configuration) and the worker fills it from a
 * trial spec's "params".  Parsing is table-driven (hparams.c): one row per key
 * with its type, range and default, so the grid validator, the worker's spec
 * validator, `--help` text and error messages all come from one place.
 */
#ifndef MLP_HPARAMS_H
#define MLP_HPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct cJSON;

#define HP_MAX_LAYERS 32
#define HP_MAX_WIDTH 65536 /* widest hidden layer */
/* Most weights between hidden layers (sum of width[i] x width[i+1]): 2^28, 1 GiB of
 * doubles, so that no grid asks a worker for more memory than a lab server has. */
#define HP_MAX_HIDDEN_WEIGHTS (1L << 28)
#define HP_SCHED_STEP_GAMMA 0.1 /* lr_schedule gamma when not given: step */
#define HP_SCHED_EXP_GAMMA 0.95 /* and exponential */

enum hp_activation { HP_RELU, HP_LEAKY_RELU, HP_ELU, HP_SELU, HP_TANH, HP_SIGMOID, HP_LINEAR };
enum hp_optimizer { HP_SGD, HP_MOMENTUM, HP_ADAM };
/*
 * Input normalisation (SPEC.md "Normalisation"): HP_NORM_AUTO, the default, is
 * resolved by the worker from the dataset's family (images: HP_GLOBAL,
 * tabular and synthetic: HP_STANDARDIZE) and echoed in its result line.
 */
enum hp_normalize { HP_STANDARDIZE, HP_MINMAX, HP_NONE, HP_GLOBAL, HP_NORM_AUTO };
enum hp_init { HP_INIT_HE, HP_INIT_XAVIER, HP_INIT_GAUSSIAN, HP_INIT_ZEROS };
enum hp_save { HP_SAVE_NONE, HP_SAVE_MODEL, HP_SAVE_PREDICTIONS, HP_SAVE_BOTH };
enum hp_train_eval { HP_TE_SUBSAMPLE, HP_TE_FULL };
enum hp_sched { HP_SCHED_NONE, HP_SCHED_STEP, HP_SCHED_COSINE, HP_SCHED_EXPONENTIAL };
enum hp_es_on { HP_ES_VAL_LOSS, HP_ES_TRAIN_LOSS };

struct hparams {
    int n_hidden;                  /* number of hidden layers, 0..HP_MAX_LAYERS */
    int hidden[HP_MAX_LAYERS];     /* their widths, each >= 1 */
    enum hp_activation activation; /* hidden non-linearity */
    enum hp_optimizer optimizer;   /* update rule */
    double momentum;               /* [0,1), for HP_MOMENTUM */
    double lr;                     /* > 0 */
    int batch_size;                /* >= 1; >= training size means full batch */
    int epochs;                    /* >= 1, maximum epochs */
    double l1, l2;                 /* >= 0, penalties on weights only */
    double dropout;                /* [0,1), drop probability on hidden activations */
    bool batch_norm;               /* batch-normalise hidden pre-activations */
    double grad_noise;             /* >= 0, sigma of Gaussian noise on gradients */
    enum hp_normalize normalize;   /* input scaling from training-split statistics */
    enum hp_init init;             /* weight initialisation */
    double init_scale;             /* sigma for HP_INIT_GAUSSIAN, > 0 */
    int es_patience;               /* early stopping patience; 0 = early stopping off */
    double es_min_delta;           /* >= 0, improvement of val loss that counts */
    double val_fraction;           /* (0,1) */
    int64_t split_seed;            /* fixes the train/validation split */
    int64_t train_size;            /* use the first N training examples; 0 = all */
    double max_seconds;            /* wall-clock limit of a trial; 0 = none */
    enum hp_es_on es_on;           /* the loss early stopping watches */
    bool curve_test;               /* epoch lines also carry test metrics */
    enum hp_save save;             /* artifacts written after training */
    int iterations;                /* >= 1: train this many batches instead of epochs; 0 = off */
    int eval_every;                /* with iterations: batches between evaluations; 0 = default */
    enum hp_sched sched;           /* learning-rate schedule */
    int sched_step;                /* HP_SCHED_STEP: epochs (or iterations) per decay */
    double sched_gamma;            /* step / exponential decay factor, (0, 1] */
    bool sched_per_iteration;      /* schedule counts iterations rather than epochs */
    enum hp_train_eval train_eval; /* train metrics on a fixed subsample or the full split */
    bool epochs_given;             /* "epochs" was set explicitly (bookkeeping for the
                                      epochs/iterations exclusion; not a hyperparameter) */
};

/* The defaults of SPEC.md. */
void hparams_default(struct hparams *hp);

/*
 * Set one hyperparameter from a JSON value.  `key` is the hyperparameter's name,
 * `path` the place to name in errors ("grid.lr[1]", "params.lr").  Returns 0, or
 * MLP_EINVALID_SPEC with *e filled ("expected a number > 0, got \"fast\"";
 * unknown keys say "unknown key (did you mean \"activation\"?)").  The caller
 * picks the code to report (the grid module re-labels it MLP_EINVALID_GRID).
 */
int hparams_set(struct hparams *hp, const char *key, const struct cJSON *val, const char *path,
                struct err *e);

/* Whether key names a hyperparameter. */
bool hparams_is_key(const char *key);

/* The closest known key to an unknown one (for "did you mean"), or NULL. */
const char *hparams_suggest(const char *key);

/*
 * Parse a whole "params" object (every key optional, defaults from SPEC.md),
 * naming places as `<prefix>.<key>`.  Returns 0 or a negative code with *e filled.
 */
int hparams_from_json(struct hparams *hp, const struct cJSON *obj, const char *prefix,
                      struct err *e);

/*
 * The full hyperparameter set as a JSON object with every key (canonical form:
 * same keys and value formatting for equal configurations, so it can be
 * compared as text to find identical configurations).  Caller frees with cJSON_Delete.
 */
struct cJSON *hparams_to_json(const struct hparams *hp);

/*
 * Checks across keys that cannot be made while keys are set one by one:
 * eval_every needs iterations.  `prefix` as in hparams_from_json.  Returns 0 or
 * MLP_EINVALID_SPEC with *e naming the key.
 */
int hparams_check(const struct hparams *hp, const char *prefix, struct err *e);

/* Names of the enums, as in the grid file ("relu", "adam", ...). */
const char *hp_activation_name(enum hp_activation a);
const char *hp_optimizer_name(enum hp_optimizer o);
const char *hp_normalize_name(enum hp_normalize n);
const char *hp_init_name(enum hp_init i);
const char *hp_save_name(enum hp_save s);
const char *hp_sched_name(enum hp_sched s);

#endif
