/*
 * hparams — the hyperparameter table.  See hparams.h.
 *
 * One row per key: its name, kind, range (with open/closed ends), whether null
 * is accepted (stored as 0 = "off"), its default and where it lives in struct
 * hparams.  Setting a key, the defaults, the canonical JSON and every error
 * message are derived from the rows, so adding a hyperparameter is one row
 * (plus a field).  The canonical JSON lists keys in table order; printed with
 * json_line() (exact, shortest round-trip numbers) equal configurations give
 * equal text and different ones different text.  -0 is folded to 0 when a
 * value is set.
 */
#include "hparams.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "names.h"

/* Integers that survive the trip through a JSON double exactly. */
#define HP_INT53 9007199254740992.0

enum hp_kind {
    HPK_NUM,        /* double */
    HPK_INT,        /* int */
    HPK_I64,        /* int64_t */
    HPK_BOOL,       /* bool */
    HPK_ENUM,       /* an enum, stored as int-compatible */
    HPK_LAYERS,     /* hidden: n_hidden + hidden[] */
    HPK_EARLY_STOP, /* es_patience + es_min_delta + es_on */
    HPK_SCHEDULE,   /* sched + sched_step + sched_gamma + sched_per_iteration */
};

struct hp_row {
    const char *name;
    enum hp_kind kind;
    double min, max;          /* range; +-INFINITY for open-ended */
    bool min_incl, max_incl;  /* whether the ends are allowed */
    bool nullable;            /* null accepted, stored as 0 */
    double def;               /* default (numbers, ints, bools, enum index) */
    size_t off;               /* offset of the field in struct hparams */
    const char *const *names; /* HPK_ENUM: NULL-terminated names */
};

static const char *const act_names[] = {"relu", "leaky_relu", "elu",    "selu",
                                        "tanh", "sigmoid",    "linear", NULL};
static const char *const opt_names[] = {"sgd", "momentum", "adam", NULL};
static const char *const norm_names[] = {"standardize", "minmax", "none", "global", "auto", NULL};
static const char *const init_names[] = {"he", "xavier", "gaussian", "zeros", NULL};
static const char *const save_names[] = {"none", "model", "predictions", "both", NULL};
static const char *const te_names[] = {"subsample", "full", NULL};
static const char *const sched_names[] = {"none", "step", "cosine", "exponential", NULL};
static const char *const es_on_names[] = {"val_loss", "train_loss", NULL};
static const char *const per_names[] = {"epoch", "iteration", NULL};

#define OFF(f) offsetof(struct hparams, f)
#define INF INFINITY

static const struct hp_row hp_table[] = {
    {"hidden", HPK_LAYERS, 1, HP_MAX_WIDTH, true, true, false, 0, OFF(hidden), NULL},
    {"activation", HPK_ENUM, 0, 0, true, true, false, HP_RELU, OFF(activation), act_names},
    {"optimizer", HPK_ENUM, 0, 0, true, true, false, HP_SGD, OFF(optimizer), opt_names},
    {"momentum", HPK_NUM, 0, 1, true, false, false, 0.9, OFF(momentum), NULL},
    {"lr", HPK_NUM, 0, INF, false, false, false, 0.1, OFF(lr), NULL},
    {"batch_size", HPK_INT, 1, INT_MAX, true, true, false, 128, OFF(batch_size), NULL},
    {"epochs", HPK_INT, 1, INT_MAX, true, true, false, 20, OFF(epochs), NULL},
    {"l1", HPK_NUM, 0, INF, true, false, false, 0, OFF(l1), NULL},
    {"l2", HPK_NUM, 0, INF, true, false, false, 0, OFF(l2), NULL},
    {"dropout", HPK_NUM, 0, 1, true, false, false, 0, OFF(dropout), NULL},
    {"batch_norm", HPK_BOOL, 0, 0, true, true, false, 0, OFF(batch_norm), NULL},
    {"grad_noise", HPK_NUM, 0, INF, true, false, false, 0, OFF(grad_noise), NULL},
    {"normalize", HPK_ENUM, 0, 0, true, true, false, HP_NORM_AUTO, OFF(normalize), norm_names},
    {"init", HPK_ENUM, 0, 0, true, true, false, HP_INIT_HE, OFF(init), init_names},
    {"init_scale", HPK_NUM, 0, INF, false, false, false, 0.01, OFF(init_scale), NULL},
    {"early_stop", HPK_EARLY_STOP, 0, 0, true, true, true, 0, OFF(es_patience), NULL},
    {"val_fraction", HPK_NUM, 0, 1, false, false, false, 0.1, OFF(val_fraction), NULL},
    {"split_seed", HPK_I64, -HP_INT53, HP_INT53, true, true, false, 0, OFF(split_seed), NULL},
    {"train_size", HPK_I64, 1, HP_INT53, true, true, true, 0, OFF(train_size), NULL},
    {"max_seconds", HPK_NUM, 0, INF, false, false, true, 0, OFF(max_seconds), NULL},
    {"iterations", HPK_INT, 1, INT_MAX, true, true, true, 0, OFF(iterations), NULL},
    {"eval_every", HPK_INT, 1, INT_MAX, true, true, true, 0, OFF(eval_every), NULL},
    {"lr_schedule", HPK_SCHEDULE, 0, 0, true, true, true, 0, OFF(sched), NULL},
    {"curve_test", HPK_BOOL, 0, 0, true, true, false, 0, OFF(curve_test), NULL},
    {"train_eval", HPK_ENUM, 0, 0, true, true, false, HP_TE_SUBSAMPLE, OFF(train_eval), te_names},
    {"save", HPK_ENUM, 0, 0, true, true, false, HP_SAVE_NONE, OFF(save), save_names},
};

#define HP_NROWS (sizeof hp_table / sizeof hp_table[0])

/* Enum fields are written through int pointers (hp__set_enum). */
_Static_assert(sizeof(enum hp_activation) == sizeof(int) &&
                   sizeof(enum hp_optimizer) == sizeof(int) &&
                   sizeof(enum hp_normalize) == sizeof(int) &&
                   sizeof(enum hp_init) == sizeof(int) && sizeof(enum hp_save) == sizeof(int) &&
                   sizeof(enum hp_train_eval) == sizeof(int),
               "hp enums must be int-sized");

/* Key names, NULL-terminated, for suggestions. */
static const char *const hp_keys[] = {
    "hidden",     "activation",  "optimizer",  "momentum",   "lr",           "batch_size",
    "epochs",     "l1",          "l2",         "dropout",    "batch_norm",   "grad_noise",
    "normalize",  "init",        "init_scale", "early_stop", "val_fraction", "split_seed",
    "train_size", "max_seconds", "iterations", "eval_every", "lr_schedule",  "curve_test",
    "train_eval", "save",        NULL,
};

static const char *const es_keys[] = {"patience", "min_delta", "on", NULL};
static const char *const sched_keys[] = {"kind", "step_size", "gamma", "per", NULL};

static const struct hp_row *hp__row(const char *key)
{
    for (size_t i = 0; key && i < HP_NROWS; i++)
        if (strcmp(hp_table[i].name, key) == 0)
            return &hp_table[i];
    return NULL;
}

static void *hp__field(struct hparams *hp, const struct hp_row *r)
{
    return (char *)hp + r->off;
}

static const void *hp__cfield(const struct hparams *hp, const struct hp_row *r)
{
    return (const char *)hp + r->off;
}

/* "a number > 0", "a number in [0, 1)", "an integer >= 1", "an integer". */
static void hp__describe(char *buf, size_t n, enum hp_kind kind, double min, double max,
                         bool min_incl, bool max_incl, bool nullable, bool show_max)
{
    const char *what = kind == HPK_NUM ? "a number" : "an integer";
    bool has_min = isfinite(min), has_max = isfinite(max);
    if (kind != HPK_NUM && !show_max)
        has_max = false; /* integer upper limits are technical; shown only when hit */
    if (kind == HPK_I64 && min <= -HP_INT53 && !show_max)
        has_min = false;
    int k;
    if (has_min && has_max)
        k = snprintf(buf, n, "%s in %c%.17g, %.17g%c", what, min_incl ? '[' : '(', min, max,
                     max_incl ? ']' : ')');
    else if (has_min)
        k = snprintf(buf, n, "%s %s %.17g", what, min_incl ? ">=" : ">", min);
    else if (has_max)
        k = snprintf(buf, n, "%s %s %.17g", what, max_incl ? "<=" : "<", max);
    else
        k = snprintf(buf, n, "%s", what);
    if (nullable && k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, " or null");
}

static int hp__bad(struct err *e, const char *path, const char *expected, const cJSON *val)
{
    char got[80];
    return err_set(e, MLP_EINVALID_SPEC, path, "expected %s, got %s", expected,
                   json_brief(val, got, sizeof got));
}

static bool hp__in_range(double d, double min, double max, bool min_incl, bool max_incl)
{
    if (!isfinite(d))
        return false;
    if (min_incl ? d < min : d <= min)
        return false;
    if (max_incl ? d > max : d >= max)
        return false;
    return true;
}

/* Check a number against a range; on failure report with the row's wording. */
static int hp__number(const cJSON *val, enum hp_kind kind, double min, double max, bool min_incl,
                      bool max_incl, bool nullable, const char *path, double *out, struct err *e)
{
    char want[128];
    bool integral = kind != HPK_NUM;
    if (cJSON_IsNumber(val) && (!integral || json_is_int(val, NULL)) &&
        hp__in_range(val->valuedouble, min, max, min_incl, max_incl)) {
        *out = val->valuedouble == 0 ? 0.0 : val->valuedouble;
        return 0;
    }
    bool over = cJSON_IsNumber(val) && isfinite(val->valuedouble) && val->valuedouble > max;
    hp__describe(want, sizeof want, kind, min, max, min_incl, max_incl, nullable, over);
    return hp__bad(e, path, want, val);
}

static int hp__set_layers(struct hparams *hp, const struct hp_row *r, const cJSON *val,
                          const char *path, struct err *e)
{
    char sub[256];
    if (!cJSON_IsArray(val))
        return hp__bad(e, path, "a list of integers >= 1", val);
    int n = cJSON_GetArraySize(val);
    if (n > HP_MAX_LAYERS)
        return err_set(e, MLP_EINVALID_SPEC, path, "expected at most %d hidden layers, got %d",
                       HP_MAX_LAYERS, n);
    int widths[HP_MAX_LAYERS];
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, val)
    {
        double d = 0;
        snprintf(sub, sizeof sub, "%s[%d]", path, i);
        if (hp__number(it, HPK_INT, r->min, r->max, true, true, false, sub, &d, e) < 0)
            return MLP_EINVALID_SPEC;
        widths[i++] = (int)d;
    }
    long weights = 0;
    for (int k = 0; k + 1 < n; k++)
        weights += (long)widths[k] * widths[k + 1];
    if (weights > HP_MAX_HIDDEN_WEIGHTS)
        return err_set(e, MLP_EINVALID_SPEC, path,
                       "%ld weights between hidden layers, more than the ceiling of %ld "
                       "(make the layers narrower)",
                       weights, HP_MAX_HIDDEN_WEIGHTS);
    hp->n_hidden = n;
    memset(hp->hidden, 0, sizeof hp->hidden);
    memcpy(hp->hidden, widths, (size_t)n * sizeof widths[0]);
    return 0;
}

/* "one of \"a\", \"b\"" for an error message. */
static void hp__one_of(char *want, size_t n, const char *const *names)
{
    size_t k = (size_t)snprintf(want, n, "one of");
    for (int i = 0; names[i] && k < n; i++)
        k += (size_t)snprintf(want + k, n - k, "%s \"%s\"", i ? "," : "", names[i]);
}

/* A string that must be one of names: its index into *out, or an error at path. */
static int hp__pick(const cJSON *val, const char *const *names, const char *path, int *out,
                    struct err *e)
{
    if (cJSON_IsString(val))
        for (int i = 0; names[i]; i++)
            if (strcmp(val->valuestring, names[i]) == 0) {
                *out = i;
                return 0;
            }
    char want[256];
    hp__one_of(want, sizeof want, names);
    return hp__bad(e, path, want, val);
}

/* Unknown key `key` of a sub-object at `sub`, with a suggestion from keys. */
static int hp__unknown_sub(struct err *e, const char *sub, const char *key, const char *const *keys)
{
    const char *s = json_suggest(key, keys);
    if (s)
        return err_set(e, MLP_EINVALID_SPEC, sub, "unknown key (did you mean \"%s\"?)", s);
    char want[256];
    size_t k = 0;
    for (int i = 0; keys[i] && k < sizeof want; i++)
        k += (size_t)snprintf(want + k, sizeof want - k, "%s\"%s\"", i ? ", " : "", keys[i]);
    return err_set(e, MLP_EINVALID_SPEC, sub, "unknown key (expected one of %s)", want);
}

/* Reject a key seen twice in a sub-object; *seen is a bit set over keys[]. */
static int hp__sub_key(const char *key, const char *const *keys, unsigned *seen, const char *sub,
                       struct err *e)
{
    for (int i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0) {
            if (*seen & (1u << i))
                return err_set(e, MLP_EINVALID_SPEC, sub, "duplicate key");
            *seen |= 1u << i;
            return i;
        }
    return hp__unknown_sub(e, sub, key, keys);
}

static int hp__set_early_stop(struct hparams *hp, const cJSON *val, const char *path, struct err *e)
{
    char sub[256];
    if (cJSON_IsNull(val)) {
        hp->es_patience = 0;
        hp->es_min_delta = 0;
        hp->es_on = HP_ES_VAL_LOSS;
        return 0;
    }
    if (!cJSON_IsObject(val))
        return hp__bad(
            e, path, "null or an object {\"patience\": ..., \"min_delta\": ..., \"on\": ...}", val);
    const cJSON *it;
    unsigned seen = 0;
    double patience = 0, min_delta = 0;
    int on = HP_ES_VAL_LOSS;
    cJSON_ArrayForEach(it, val)
    {
        snprintf(sub, sizeof sub, "%s.%s", path, it->string);
        int k = hp__sub_key(it->string, es_keys, &seen, sub, e);
        if (k < 0)
            return k;
        int rc = 0;
        if (k == 0)
            rc = hp__number(it, HPK_INT, 1, INT_MAX, true, true, false, sub, &patience, e);
        else if (k == 1)
            rc = hp__number(it, HPK_NUM, 0, INF, true, false, false, sub, &min_delta, e);
        else
            rc = hp__pick(it, es_on_names, sub, &on, e);
        if (rc < 0)
            return MLP_EINVALID_SPEC;
    }
    if (!(seen & 1u))
        return err_set(e, MLP_EINVALID_SPEC, path, "missing key \"patience\"");
    hp->es_patience = (int)patience;
    hp->es_min_delta = min_delta;
    hp->es_on = (enum hp_es_on)on;
    return 0;
}

/* lr_schedule: null, or {"kind": "step", "step_size": N, "gamma": g, "per": "epoch"},
 * {"kind": "cosine", "per": ...}, {"kind": "exponential", "gamma": g, "per": ...}. */
static int hp__set_schedule(struct hparams *hp, const cJSON *val, const char *path, struct err *e)
{
    char sub[256];
    hp->sched = HP_SCHED_NONE;
    hp->sched_step = 0;
    hp->sched_gamma = 0;
    hp->sched_per_iteration = false;
    if (cJSON_IsNull(val))
        return 0;
    if (!cJSON_IsObject(val))
        return hp__bad(
            e, path, "null or an object {\"kind\": \"step\"|\"cosine\"|\"exponential\", ...}", val);
    const cJSON *it;
    unsigned seen = 0;
    int kind = HP_SCHED_NONE, per = 0;
    double step = 0, gamma = 0;
    cJSON_ArrayForEach(it, val)
    {
        snprintf(sub, sizeof sub, "%s.%s", path, it->string);
        int k = hp__sub_key(it->string, sched_keys, &seen, sub, e);
        if (k < 0)
            return k;
        int rc = 0;
        if (k == 0)
            rc = hp__pick(it, sched_names + 1, sub, &kind, e); /* "none" is spelled null */
        else if (k == 1)
            rc = hp__number(it, HPK_INT, 1, INT_MAX, true, true, false, sub, &step, e);
        else if (k == 2)
            rc = hp__number(it, HPK_NUM, 0, 1, false, true, false, sub, &gamma, e);
        else
            rc = hp__pick(it, per_names, sub, &per, e);
        if (rc < 0)
            return MLP_EINVALID_SPEC;
        if (k == 0)
            kind++; /* back to enum hp_sched */
    }
    if (!(seen & 1u))
        return err_set(e, MLP_EINVALID_SPEC, path,
                       "missing key \"kind\" (\"step\", \"cosine\" or \"exponential\")");
    if (kind == HP_SCHED_STEP && !(seen & 2u))
        return err_set(e, MLP_EINVALID_SPEC, path, "a step schedule needs \"step_size\"");
    if (kind != HP_SCHED_STEP && (seen & 2u)) {
        snprintf(sub, sizeof sub, "%s.step_size", path);
        return err_set(e, MLP_EINVALID_SPEC, sub, "only a step schedule takes step_size");
    }
    if (kind == HP_SCHED_COSINE && (seen & 4u)) {
        snprintf(sub, sizeof sub, "%s.gamma", path);
        return err_set(e, MLP_EINVALID_SPEC, sub, "a cosine schedule takes no gamma");
    }
    if (!(seen & 4u))
        gamma = kind == HP_SCHED_STEP ? HP_SCHED_STEP_GAMMA : HP_SCHED_EXP_GAMMA;
    if (kind == HP_SCHED_COSINE)
        gamma = 0;
    hp->sched = (enum hp_sched)kind;
    hp->sched_step = (int)step;
    hp->sched_gamma = gamma;
    hp->sched_per_iteration = per == 1;
    return 0;
}

static int hp__set_enum(struct hparams *hp, const struct hp_row *r, const cJSON *val,
                        const char *path, struct err *e)
{
    if (cJSON_IsString(val))
        for (int i = 0; r->names[i]; i++)
            if (strcmp(val->valuestring, r->names[i]) == 0) {
                /* Every hp enum has non-negative constants: stored as unsigned or int. */
                int *f = hp__field(hp, r);
                *f = i;
                return 0;
            }
    char want[256];
    hp__one_of(want, sizeof want, r->names);
    return hp__bad(e, path, want, val);
}

int hparams_set(struct hparams *hp, const char *key, const cJSON *val, const char *path,
                struct err *e)
{
    const struct hp_row *r = hp__row(key);
    if (!path)
        path = key ? key : "";
    if (!r) {
        const char *s = name_suggest(key, hp_keys);
        if (s)
            return err_set(e, MLP_EINVALID_SPEC, path, "unknown key (did you mean \"%s\"?)", s);
        return err_set(e, MLP_EINVALID_SPEC, path, "unknown key");
    }
    if (!val)
        return err_set(e, MLP_EINVALID_SPEC, path, "missing value");
    double d;
    switch (r->kind) {
    case HPK_LAYERS:
        return hp__set_layers(hp, r, val, path, e);
    case HPK_EARLY_STOP:
        return hp__set_early_stop(hp, val, path, e);
    case HPK_SCHEDULE:
        return hp__set_schedule(hp, val, path, e);
    case HPK_ENUM:
        return hp__set_enum(hp, r, val, path, e);
    case HPK_BOOL:
        if (!cJSON_IsBool(val))
            return hp__bad(e, path, "true or false", val);
        *(bool *)hp__field(hp, r) = cJSON_IsTrue(val);
        return 0;
    case HPK_NUM:
    case HPK_INT:
    case HPK_I64:
        if (r->off == OFF(epochs) && cJSON_IsNull(val)) {
            /* null: no epoch count, the length comes from iterations
             * (hparams_check).  It is what the canonical form of an
             * iterations trial holds, so it does not count as given. */
            hp->epochs = 0;
            hp->epochs_given = false;
            return 0;
        }
        if (r->nullable && cJSON_IsNull(val)) {
            d = 0;
        } else if (hp__number(val, r->kind, r->min, r->max, r->min_incl, r->max_incl, r->nullable,
                              path, &d, e) < 0) {
            return MLP_EINVALID_SPEC;
        }
        if (strcmp(r->name, "epochs") == 0 && hp->iterations > 0)
            return err_set(e, MLP_EINVALID_SPEC, path,
                           "\"epochs\" and \"iterations\" exclude each other (give one)");
        if (strcmp(r->name, "iterations") == 0 && d > 0 && hp->epochs_given)
            return err_set(e, MLP_EINVALID_SPEC, path,
                           "\"iterations\" and \"epochs\" exclude each other (give one)");
        if (strcmp(r->name, "epochs") == 0)
            hp->epochs_given = true;
        if (r->kind == HPK_NUM)
            *(double *)hp__field(hp, r) = d;
        else if (r->kind == HPK_INT)
            *(int *)hp__field(hp, r) = (int)d;
        else
            *(int64_t *)hp__field(hp, r) = (int64_t)d;
        return 0;
    }
    return err_set(e, MLP_EINTERNAL, path, "unhandled hyperparameter kind");
}

void hparams_default(struct hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    for (size_t i = 0; i < HP_NROWS; i++) {
        const struct hp_row *r = &hp_table[i];
        switch (r->kind) {
        case HPK_NUM:
            *(double *)hp__field(hp, r) = r->def;
            break;
        case HPK_INT:
            *(int *)hp__field(hp, r) = (int)r->def;
            break;
        case HPK_I64:
            *(int64_t *)hp__field(hp, r) = (int64_t)r->def;
            break;
        case HPK_BOOL:
            *(bool *)hp__field(hp, r) = r->def != 0;
            break;
        case HPK_ENUM:
            *(int *)hp__field(hp, r) = (int)r->def;
            break;
        case HPK_LAYERS:
            hp->n_hidden = 2;
            hp->hidden[0] = 100;
            hp->hidden[1] = 100;
            break;
        case HPK_EARLY_STOP:
            hp->es_patience = 0;
            hp->es_min_delta = 0;
            hp->es_on = HP_ES_VAL_LOSS;
            break;
        case HPK_SCHEDULE:
            hp->sched = HP_SCHED_NONE;
            hp->sched_step = 0;
            hp->sched_gamma = 0;
            hp->sched_per_iteration = false;
            break;
        }
    }
    hp->epochs_given = false;
}

int hparams_check(const struct hparams *hp, const char *prefix, struct err *e)
{
    char path[256];
    if (!prefix)
        prefix = "";
    snprintf(path, sizeof path, "%s%seval_every", prefix, *prefix ? "." : "");
    if (hp->eval_every > 0 && hp->iterations <= 0)
        return err_set(e, MLP_EINVALID_SPEC, path,
                       "eval_every needs \"iterations\" (with epochs, evaluation is per epoch)");
    snprintf(path, sizeof path, "%s%sepochs", prefix, *prefix ? "." : "");
    if (hp->epochs <= 0 && hp->iterations <= 0)
        return err_set(e, MLP_EINVALID_SPEC, path,
                       "epochs null needs \"iterations\" (a trial needs a length)");
    return 0;
}

bool hparams_is_key(const char *key)
{
    return hp__row(key) != NULL;
}

const char *hparams_suggest(const char *key)
{
    return name_suggest(key, hp_keys);
}

int hparams_from_json(struct hparams *hp, const cJSON *obj, const char *prefix, struct err *e)
{
    char path[256];
    hparams_default(hp);
    if (!prefix)
        prefix = "";
    if (!obj || cJSON_IsNull(obj))
        return 0;
    if (!cJSON_IsObject(obj))
        return hp__bad(e, prefix, "an object", obj);
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", it->string);
        for (const cJSON *p = obj->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return err_set(e, MLP_EINVALID_SPEC, path, "duplicate key");
        int rc = hparams_set(hp, it->string, it, path, e);
        if (rc < 0)
            return rc;
    }
    return hparams_check(hp, prefix, e);
}

/* Add v to o under k; frees v and returns false on failure (or when v is NULL). */
static bool hp__add(cJSON *o, const char *k, cJSON *v)
{
    if (!v)
        return false;
    if (!cJSON_AddItemToObject(o, k, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

/* The canonical lr_schedule: null, or every key of its kind. */
static cJSON *hp__schedule_json(const struct hparams *hp)
{
    if (hp->sched <= HP_SCHED_NONE || hp->sched > HP_SCHED_EXPONENTIAL)
        return cJSON_CreateNull();
    cJSON *v = cJSON_CreateObject();
    if (!v || !hp__add(v, "kind", cJSON_CreateString(sched_names[hp->sched])))
        goto fail;
    if (hp->sched == HP_SCHED_STEP && !hp__add(v, "step_size", cJSON_CreateNumber(hp->sched_step)))
        goto fail;
    if (hp->sched != HP_SCHED_COSINE && !hp__add(v, "gamma", json_double(hp->sched_gamma)))
        goto fail;
    if (!hp__add(v, "per", cJSON_CreateString(per_names[hp->sched_per_iteration ? 1 : 0])))
        goto fail;
    return v;
fail:
    cJSON_Delete(v);
    return NULL;
}

cJSON *hparams_to_json(const struct hparams *hp)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (size_t i = 0; i < HP_NROWS; i++) {
        const struct hp_row *r = &hp_table[i];
        const void *f = hp__cfield(hp, r);
        cJSON *v = NULL;
        switch (r->kind) {
        case HPK_NUM: {
            double d = *(const double *)f;
            v = r->nullable && d == 0 ? cJSON_CreateNull() : json_double(d);
            break;
        }
        case HPK_INT: {
            int x = *(const int *)f;
            /* An iterations trial has no epoch count: epochs is null, so the
             * canonical form parses back (epochs and iterations exclude each
             * other) and does not depend on an unused epochs value. */
            if (r->off == OFF(epochs) && hp->iterations > 0)
                x = 0;
            v = (r->nullable || r->off == OFF(epochs)) && x == 0 ? cJSON_CreateNull()
                                                                 : cJSON_CreateNumber(x);
            break;
        }
        case HPK_I64: {
            int64_t x = *(const int64_t *)f;
            v = r->nullable && x == 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)x);
            break;
        }
        case HPK_BOOL:
            v = cJSON_CreateBool(*(const bool *)f);
            break;
        case HPK_ENUM: {
            int x = *(const int *)f;
            int cnt = 0;
            while (r->names[cnt])
                cnt++;
            v = cJSON_CreateString(x >= 0 && x < cnt ? r->names[x] : "?");
            break;
        }
        case HPK_LAYERS: {
            int n = hp->n_hidden < 0               ? 0
                    : hp->n_hidden > HP_MAX_LAYERS ? HP_MAX_LAYERS
                                                   : hp->n_hidden;
            v = cJSON_CreateIntArray(hp->hidden, n);
            break;
        }
        case HPK_EARLY_STOP:
            if (hp->es_patience <= 0) {
                v = cJSON_CreateNull();
            } else {
                v = cJSON_CreateObject();
                if (v && (!hp__add(v, "patience", cJSON_CreateNumber(hp->es_patience)) ||
                          !hp__add(v, "min_delta", json_double(hp->es_min_delta)) ||
                          !hp__add(v, "on", cJSON_CreateString(es_on_names[hp->es_on & 1])))) {
                    cJSON_Delete(v);
                    v = NULL;
                }
            }
            break;
        case HPK_SCHEDULE:
            v = hp__schedule_json(hp);
            break;
        }
        if (!hp__add(o, r->name, v)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

const char *hp_activation_name(enum hp_activation a)
{
    return (unsigned)a < sizeof act_names / sizeof act_names[0] - 1 ? act_names[a] : "?";
}

const char *hp_optimizer_name(enum hp_optimizer o)
{
    return (unsigned)o < sizeof opt_names / sizeof opt_names[0] - 1 ? opt_names[o] : "?";
}

const char *hp_normalize_name(enum hp_normalize n)
{
    return (unsigned)n < sizeof norm_names / sizeof norm_names[0] - 1 ? norm_names[n] : "?";
}

const char *hp_init_name(enum hp_init i)
{
    return (unsigned)i < sizeof init_names / sizeof init_names[0] - 1 ? init_names[i] : "?";
}

const char *hp_save_name(enum hp_save s)
{
    return (unsigned)s < sizeof save_names / sizeof save_names[0] - 1 ? save_names[s] : "?";
}

const char *hp_sched_name(enum hp_sched s)
{
    return (unsigned)s < sizeof sched_names / sizeof sched_names[0] - 1 ? sched_names[s] : "?";
}
