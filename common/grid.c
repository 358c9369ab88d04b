/*
 * grid — parse, validate and expand a grid file.  See grid.h.
 *
 * Validation happens in one pass over the document, before any expansion:
 * every top-level key, every base value and every value of every grid list is
 * checked through the hyperparameter table (hparams_set), so an error names the
 * exact place ("grid[2].hidden[0]") and nothing is built from a bad file.
 *
 * Expansion is streamed: configurations are generated one at a time in
 * odometer order (first key slowest), turned into their canonical text
 * (hparams_to_json) and kept only if that text was not seen before (an
 * open-addressing hash set of the texts, freed at the end of grid_parse).
 * The number of combinations is bounded first with overflow-checked products,
 * and generation stops as soon as the distinct configurations times the seeds
 * pass the trial limit, so an oversized grid costs neither memory nor time.
 */
#include "grid.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "json.h"
#include "notify.h"
#include "names.h"
#include "metric.h"
#include "prune.h"
#include "race.h"
#include "search.h"

/* Even with force, more than this many trials (or combinations to examine) is refused. */
#define GRID_HARD_MAX 10000000L
/* Seeds and split seeds must survive a trip through a JSON double exactly. */
#define GRID_INT53 9007199254740992LL

struct grid {
    char *name;
    char metric[32];
    char executor[8]; /* "local", "slurm", or "" when the grid does not say */
    struct ds_spec ds;
    size_t n_configs;
    struct hparams *configs;
    size_t n_keys;
    char **keys;
    size_t n_seeds;
    int64_t *seeds;
    bool has_search; /* "search" given: every grid combination x search.trials points */
    struct search search;
    bool has_prune; /* "prune" given */
    struct prune prune;
    bool has_race; /* "seeds": {"min", "max"}: seeds holds 1..max */
    struct race race;
    bool has_confirm; /* "confirm" given */
    struct race_confirm confirm;
};

static const char *const grid_top_keys[] = {"name",  "dataset",  "seeds", "metric", "base",
                                            "grid",  "executor", "slurm", "search", "notify",
                                            "prune", "confirm",  NULL};
static const char *const grid_slurm_keys[] = {"partition", "account", "time", "sbatch_args", NULL};
bool grid_metric_valid(const char *metric)
{
    return metric_rankable(metric_index(metric));
}

bool grid_metric_is_max(const char *metric)
{
    return metric_maximize(metric_index(metric));
}

/*
 * The rankable names of both tasks, NULL-terminated, in the order the "unknown
 * metric" message lists them: validation before train, accuracy before loss,
 * mse last.  Filled on first use (grid parsing runs on the loop thread).
 */
static const char *const *grid__metric_names(void)
{
    static const char *names[MLP_M_N + 1];
    if (names[0])
        return names;
    int n = 0;
    for (int mse = 0; mse <= 1; mse++)
        for (int split = METRIC_VAL; split >= METRIC_TRAIN; split--)
            for (int max = 1; max >= 0; max--)
                for (int m = 0; m < MLP_M_N; m++) {
                    const struct metric_info *mi = metric_info(m);
                    if (metric_rankable(m) && (mi->kind == METRIC_MSE) == mse &&
                        (int)mi->split == split && metric_maximize(m) == max)
                        names[n++] = mi->name;
                }
    names[n] = NULL;
    return names;
}

/* Re-label a hyperparameter error (MLP_EINVALID_SPEC) as a grid error. */
static int grid__relabel(int rc, struct err *e)
{
    if (rc == MLP_EINVALID_SPEC) {
        rc = MLP_EINVALID_GRID;
        if (e)
            e->code = rc;
    }
    return rc;
}

static int grid__bad(struct err *e, const char *path, const char *expected, const cJSON *v)
{
    char got[80];
    return err_set(e, MLP_EINVALID_GRID, path, "expected %s, got %s", expected,
                   json_brief(v, got, sizeof got));
}

static int grid__unknown(struct err *e, const char *path, const char *key, const char *const *known)
{
    const char *s = name_suggest(key, known);
    if (s)
        return err_set(e, MLP_EINVALID_GRID, path, "unknown key (did you mean \"%s\"?)", s);
    return err_set(e, MLP_EINVALID_GRID, path, "unknown key");
}

/* An unknown hyperparameter name, with a suggestion when one is close. */
static int grid__unknown_hp(struct err *e, const char *path, const char *key)
{
    const char *s = hparams_suggest(key);
    if (s)
        return err_set(e, MLP_EINVALID_GRID, path, "unknown key (did you mean \"%s\"?)", s);
    return err_set(e, MLP_EINVALID_GRID, path, "unknown key");
}

/* Whether an earlier member of its object has the same key. */
static bool grid__dup_before(const cJSON *obj, const cJSON *it)
{
    for (const cJSON *p = obj->child; p && p != it; p = p->next)
        if (strcmp(p->string, it->string) == 0)
            return true;
    return false;
}

void grid_free(struct grid *g)
{
    if (!g)
        return;
    free(g->name);
    free(g->configs);
    for (size_t i = 0; i < g->n_keys; i++)
        free(g->keys[i]);
    free(g->keys);
    free(g->seeds);
    search_release(&g->search);
    free(g);
}

static int grid__name(struct grid *g, const cJSON *v, const struct grid_opts *o, struct err *e)
{
    const char *name = o && o->default_name && *o->default_name ? o->default_name : "sweep";
    if (v) {
        if (!cJSON_IsString(v) || !*v->valuestring)
            return grid__bad(e, "name", "a non-empty string", v);
        int rc = name_valid(v->valuestring, NAME_BASE, MLP_EINVALID_GRID, "name", e);
        if (rc < 0)
            return rc;
        name = v->valuestring;
    }
    g->name = strdup(name);
    return g->name ? 0 : err_set(e, MLP_ENOMEM, "name", NULL);
}

struct seed_ix {
    int64_t v;
    size_t i;
};

static int seed_ix_cmp(const void *a, const void *b)
{
    const struct seed_ix *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int grid__seeds(struct grid *g, const cJSON *v, long hard, bool force, struct err *e)
{
    int64_t n;
    const char *want = "an integer >= 1, a non-empty list of distinct integers or "
                       "{\"min\": m, \"max\": M}";
    if (!v) {
        g->n_seeds = 1;
        g->seeds = malloc(sizeof *g->seeds);
        if (!g->seeds)
            return err_set(e, MLP_ENOMEM, "seeds", NULL);
        g->seeds[0] = 1;
        return 0;
    }
    if (cJSON_IsObject(v)) {
        /* Racing: seeds 1..max, of which every configuration runs min first. */
        int rc = race_parse(v, &g->race, e);
        if (rc < 0)
            return rc;
        g->has_race = true;
        n = g->race.max;
    }
    if (cJSON_IsNumber(v) || g->has_race) {
        if (!g->has_race && (!json_is_int(v, &n) || n < 1))
            return grid__bad(e, "seeds", want, v);
        if (n > hard)
            return err_set(e, MLP_ETOO_LARGE, "seeds",
                           "%lld seeds is more than the limit of %ld trials%s", (long long)n, hard,
                           force ? "" : "; use --force to submit it anyway");
        g->n_seeds = (size_t)n;
        g->seeds = malloc(g->n_seeds * sizeof *g->seeds);
        if (!g->seeds)
            return err_set(e, MLP_ENOMEM, "seeds", NULL);
        for (size_t i = 0; i < g->n_seeds; i++)
            g->seeds[i] = (int64_t)i + 1;
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return grid__bad(e, "seeds", want, v);
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    if (cnt > (size_t)hard)
        return err_set(e, MLP_ETOO_LARGE, "seeds",
                       "%zu seeds is more than the limit of %ld trials%s", cnt, hard,
                       force ? "" : "; use --force to submit it anyway");
    g->seeds = malloc(cnt * sizeof *g->seeds);
    struct seed_ix *ix = malloc(cnt * sizeof *ix);
    if (!g->seeds || !ix) {
        free(ix);
        return err_set(e, MLP_ENOMEM, "seeds", NULL);
    }
    size_t i = 0;
    const cJSON *it;
    char path[64];
    cJSON_ArrayForEach(it, v)
    {
        snprintf(path, sizeof path, "seeds[%zu]", i);
        if (!json_is_int(it, &n) || n < -GRID_INT53 || n > GRID_INT53) {
            free(ix);
            return grid__bad(e, path, "an integer in [-9007199254740992, 9007199254740992]", it);
        }
        g->seeds[i] = n;
        ix[i].v = n;
        ix[i].i = i;
        i++;
    }
    g->n_seeds = cnt;
    /* Report the first repeated seed in file order. */
    qsort(ix, cnt, sizeof *ix, seed_ix_cmp);
    size_t dup = (size_t)-1;
    for (size_t k = 1; k < cnt; k++)
        if (ix[k].v == ix[k - 1].v && ix[k].i < dup)
            dup = ix[k].i;
    free(ix);
    if (dup != (size_t)-1) {
        snprintf(path, sizeof path, "seeds[%zu]", dup);
        return err_set(e, MLP_EINVALID_GRID, path, "duplicate seed %lld", (long long)g->seeds[dup]);
    }
    return 0;
}

static int grid__metric(struct grid *g, const cJSON *v, struct err *e)
{
    bool regression = g->ds.kind == DS_CSV && g->ds.task == DS_REGRESSION;
    if (!v) {
        snprintf(g->metric, sizeof g->metric, "%s", regression ? "val_mse" : "val_accuracy");
        return 0;
    }
    if (!cJSON_IsString(v))
        return grid__bad(e, "metric", "a metric name such as \"val_accuracy\"", v);
    const char *m = v->valuestring;
    const char *test = metric_split_name(METRIC_TEST);
    size_t tl = strlen(test);
    if (strncmp(m, test, tl) == 0 && m[tl] == '_')
        return err_set(e, MLP_EINVALID_GRID, "metric",
                       "test metrics cannot rank configurations (ranking never uses test data); "
                       "use \"%s_%s\"",
                       metric_split_name(METRIC_VAL), m + tl + 1);
    int mi = metric_index(m);
    if (!metric_rankable(mi)) {
        const char *const *names = grid__metric_names();
        const char *s = name_suggest(m, names);
        if (s)
            return err_set(e, MLP_EINVALID_GRID, "metric", "unknown metric (did you mean \"%s\"?)",
                           s);
        char list[256] = "";
        for (size_t i = 0, len = 0; names[i] && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                    i == 0         ? ""
                                    : names[i + 1] ? ", "
                                                   : " or ",
                                    names[i]);
        return err_set(e, MLP_EINVALID_GRID, "metric", "unknown metric (expected %s)", list);
    }
    bool is_acc = metric_info(mi)->kind == METRIC_ACCURACY;
    if (!metric_for_task(mi, regression) && is_acc)
        return err_set(e, MLP_EINVALID_GRID, "metric",
                       "a regression dataset has no accuracy; use val_mse or val_loss");
    if (!metric_for_task(mi, regression))
        return err_set(e, MLP_EINVALID_GRID, "metric",
                       "a classification dataset has no mse; use val_accuracy or val_loss");
    snprintf(g->metric, sizeof g->metric, "%s", m);
    return 0;
}

static int grid__base(const cJSON *v, struct hparams *base, struct err *e)
{
    char path[256];
    if (!v)
        return 0;
    if (!cJSON_IsObject(v))
        return grid__bad(e, "base", "an object of hyperparameters", v);
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        snprintf(path, sizeof path, "base.%s", it->string);
        if (!hparams_is_key(it->string))
            return grid__unknown_hp(e, path, it->string);
        if (grid__dup_before(v, it))
            return err_set(e, MLP_EINVALID_GRID, path, "duplicate key");
        int rc = hparams_set(base, it->string, it, path, e);
        if (rc < 0)
            return grid__relabel(rc, e);
    }
    return 0;
}

/* One grid object, validated: its keys and value lists. */
struct grid_obj {
    const cJSON *obj;
    size_t n_keys;
    const char *keys[32];  /* at most one per hyperparameter */
    const cJSON *vals[32]; /* the list of each key */
    size_t sizes[32];
};

/* Check one grid object; `where` is "grid" or "grid[2]". */
static int grid__check_obj(const cJSON *obj, const char *where, const cJSON *base_json,
                           struct grid_obj *go, struct err *e)
{
    char path[256];
    struct hparams scratch;
    hparams_default(&scratch);
    memset(go, 0, sizeof *go);
    go->obj = obj;
    if (!cJSON_IsObject(obj))
        return grid__bad(e, where, "an object whose values are lists", obj);
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        snprintf(path, sizeof path, "%s.%s", where, it->string);
        if (!hparams_is_key(it->string))
            return grid__unknown_hp(e, path, it->string);
        if (grid__dup_before(obj, it))
            return err_set(e, MLP_EINVALID_GRID, path, "duplicate key");
        if (json_get(base_json, it->string))
            return err_set(
                e, MLP_EINVALID_GRID, path,
                "\"%s\" is in both base and grid (fix it in base or vary it in grid, not both)",
                it->string);
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0)
            return grid__bad(e, path, "a non-empty list of values", it);
        size_t i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, it)
        {
            char vpath[300];
            snprintf(vpath, sizeof vpath, "%s[%zu]", path, i++);
            int rc = hparams_set(&scratch, it->string, v, vpath, e);
            if (rc < 0)
                return grid__relabel(rc, e);
        }
        if (go->n_keys >= sizeof go->keys / sizeof go->keys[0])
            return err_set(e, MLP_EINTERNAL, path, "too many grid keys");
        go->keys[go->n_keys] = it->string;
        go->vals[go->n_keys] = it;
        go->sizes[go->n_keys] = i;
        go->n_keys++;
    }
    return 0;
}

/* Set of canonical texts (open addressing, FNV-1a). */
struct text_set {
    char **slots;
    size_t cap, n;
};

static uint64_t grid__hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void text_set_release(struct text_set *ts)
{
    for (size_t i = 0; i < ts->cap; i++)
        free(ts->slots[i]);
    free(ts->slots);
    memset(ts, 0, sizeof *ts);
}

/* Insert s (taking ownership): 1 if new, 0 if present (s freed), MLP_ENOMEM. */
static int text_set_add(struct text_set *ts, char *s)
{
    if ((ts->n + 1) * 2 > ts->cap) {
        size_t ncap = ts->cap ? ts->cap * 2 : 64;
        char **ns = calloc(ncap, sizeof *ns);
        if (!ns) {
            free(s);
            return MLP_ENOMEM;
        }
        for (size_t i = 0; i < ts->cap; i++) {
            if (!ts->slots[i])
                continue;
            size_t j = grid__hash(ts->slots[i]) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = ts->slots[i];
        }
        free(ts->slots);
        ts->slots = ns;
        ts->cap = ncap;
    }
    size_t j = grid__hash(s) & (ts->cap - 1);
    while (ts->slots[j]) {
        if (strcmp(ts->slots[j], s) == 0) {
            free(s);
            return 0;
        }
        j = (j + 1) & (ts->cap - 1);
    }
    ts->slots[j] = s;
    ts->n++;
    return 1;
}

static int grid__add_key(struct grid *g, const char *key)
{
    for (size_t i = 0; i < g->n_keys; i++)
        if (strcmp(g->keys[i], key) == 0)
            return 0;
    char **nk = realloc(g->keys, (g->n_keys + 1) * sizeof *nk);
    if (!nk)
        return MLP_ENOMEM;
    g->keys = nk;
    g->keys[g->n_keys] = strdup(key);
    if (!g->keys[g->n_keys])
        return MLP_ENOMEM;
    g->n_keys++;
    return 0;
}

/* Keep cfg unless an identical configuration was seen. 0, or a negative code. */
static int grid__keep(struct grid *g, struct text_set *seen, size_t *cap, const struct hparams *cfg,
                      long limit, struct err *e)
{
    cJSON *j = hparams_to_json(cfg);
    char *text = j ? json_line(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return err_set(e, MLP_ENOMEM, "grid", NULL);
    int rc = text_set_add(seen, text);
    if (rc < 0)
        return err_set(e, rc, "grid", NULL);
    if (rc == 0)
        return 0;
    if ((g->n_configs + 1) * g->n_seeds > (size_t)limit)
        return MLP_ETOO_LARGE; /* the caller words the message */
    if (g->n_configs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct hparams *nc = realloc(g->configs, ncap * sizeof *nc);
        if (!nc)
            return err_set(e, MLP_ENOMEM, "grid", NULL);
        g->configs = nc;
        *cap = ncap;
    }
    g->configs[g->n_configs++] = *cfg;
    return 0;
}

/*
 * Keep cfg (a grid combination), or with a search every point of the search
 * drawn over it, in point order.
 */
static int grid__keep_points(struct grid *g, struct text_set *seen, size_t *cap,
                             const struct hparams *cfg, long limit, struct err *e)
{
    if (!g->has_search)
        return grid__keep(g, seen, cap, cfg, limit, e);
    for (int64_t i = 0; i < g->search.trials; i++) {
        struct hparams pt = *cfg;
        int rc = search_apply(&g->search, (uint64_t)i, &pt, e);
        if (rc < 0)
            return grid__relabel(rc, e); /* values checked already: only ENOMEM */
        if ((rc = hparams_check(&pt, "", e)) < 0) {
            /* A cross-key rule broken by a drawn value: name it in the space. */
            char key[64];
            snprintf(key, sizeof key, "%.63s", e->path);
            snprintf(e->path, sizeof e->path, "search.space.%s", key);
            return grid__relabel(rc, e);
        }
        if ((rc = grid__keep(g, seen, cap, &pt, limit, e)) < 0)
            return rc;
    }
    return 0;
}

/* Expand one validated grid object over base. */
static int grid__expand(struct grid *g, const struct grid_obj *go, const struct hparams *base,
                        struct text_set *seen, size_t *cap, long limit, struct err *e)
{
    size_t idx[32] = {0};
    const cJSON *cur[32];
    for (size_t k = 0; k < go->n_keys; k++)
        cur[k] = go->vals[k]->child;
    for (;;) {
        struct hparams cfg = *base;
        for (size_t k = 0; k < go->n_keys; k++) {
            int rc = hparams_set(&cfg, go->keys[k], cur[k], go->keys[k], e);
            if (rc < 0)
                return grid__relabel(rc, e); /* validated already: cannot happen */
        }
        /* Checks across keys (eval_every needs iterations, ...), named in
         * base or grid by where the key lives: the worker makes the same
         * check, so a configuration it would refuse is never queued. */
        int rc = hparams_check(&cfg, "", e);
        if (rc < 0) {
            char key[64];
            snprintf(key, sizeof key, "%.63s", e->path);
            bool in_grid = false;
            for (size_t k = 0; k < go->n_keys; k++)
                in_grid |= strcmp(go->keys[k], key) == 0;
            snprintf(e->path, sizeof e->path, "%s.%s", in_grid ? "grid" : "base", key);
            return grid__relabel(rc, e);
        }
        rc = grid__keep_points(g, seen, cap, &cfg, limit, e);
        if (rc < 0)
            return rc;
        /* Odometer: the last key varies fastest. */
        size_t k = go->n_keys;
        while (k > 0) {
            k--;
            if (++idx[k] < go->sizes[k]) {
                cur[k] = cur[k]->next;
                break;
            }
            idx[k] = 0;
            cur[k] = go->vals[k]->child;
            if (k == 0)
                return 0;
        }
        if (go->n_keys == 0)
            return 0;
    }
}

/* Top-level keys of a grid document, in grid_top_keys order. */
enum {
    TOP_NAME,
    TOP_DATASET,
    TOP_SEEDS,
    TOP_METRIC,
    TOP_BASE,
    TOP_GRID,
    TOP_EXECUTOR,
    TOP_SLURM,
    TOP_SEARCH,
    TOP_NOTIFY,
    TOP_PRUNE,
    TOP_CONFIRM,
    TOP_N
};

/* Sort the top-level members into v[TOP_N]: known and not repeated. */
static int grid__top(const cJSON *doc, const cJSON *v[TOP_N], struct err *e)
{
    const cJSON *it;
    for (int k = 0; k < TOP_N; k++)
        v[k] = NULL;
    cJSON_ArrayForEach(it, doc)
    {
        int k = 0;
        while (k < TOP_N && strcmp(it->string, grid_top_keys[k]) != 0)
            k++;
        if (k == TOP_N)
            return grid__unknown(e, it->string, it->string, grid_top_keys);
        if (v[k])
            return err_set(e, MLP_EINVALID_GRID, it->string, "duplicate key");
        v[k] = it;
    }
    return 0;
}

/*
 * The grid objects (one, a list, or none: base alone is the one
 * configuration), each validated, then the number of combinations before
 * removing duplicates bounded with overflow guards.  *objs is calloc'ed.
 */
static int grid__objects(const cJSON *v_grid, const cJSON *v_base, size_t points,
                         struct grid_obj **objs, size_t *n_objs, size_t *combos, struct err *e)
{
    int rc;
    *n_objs = 1;
    if (v_grid && cJSON_IsArray(v_grid)) {
        *n_objs = (size_t)cJSON_GetArraySize(v_grid);
        if (*n_objs == 0)
            return grid__bad(
                e, "grid", "an object of value lists or a non-empty list of such objects", v_grid);
    } else if (v_grid && !cJSON_IsObject(v_grid)) {
        return grid__bad(e, "grid", "an object of value lists or a non-empty list of such objects",
                         v_grid);
    }
    struct grid_obj *o = *objs = calloc(*n_objs, sizeof *o);
    if (!o)
        return err_set(e, MLP_ENOMEM, "grid", NULL);
    if (!v_grid) {
        o[0].n_keys = 0;
    } else if (cJSON_IsObject(v_grid)) {
        if ((rc = grid__check_obj(v_grid, "grid", v_base, &o[0], e)) < 0)
            return rc;
    } else {
        size_t i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v_grid)
        {
            char where[32];
            snprintf(where, sizeof where, "grid[%zu]", i);
            if ((rc = grid__check_obj(it, where, v_base, &o[i], e)) < 0)
                return rc;
            i++;
        }
    }
    size_t total = 0;
    for (size_t i = 0; i < *n_objs; i++) {
        size_t prod = 1;
        for (size_t k = 0; k < o[i].n_keys; k++) {
            if (prod > (size_t)GRID_HARD_MAX / o[i].sizes[k]) {
                prod = (size_t)GRID_HARD_MAX + 1;
                break;
            }
            prod *= o[i].sizes[k];
        }
        if (prod > (size_t)GRID_HARD_MAX / points)
            prod = (size_t)GRID_HARD_MAX + 1;
        else
            prod *= points;
        total += prod;
        if (total > (size_t)GRID_HARD_MAX)
            return err_set(e, MLP_ETOO_LARGE, "grid",
                           "the grid has more than %ld combinations; split it into smaller sweeps",
                           GRID_HARD_MAX);
    }
    *combos = total;
    return 0;
}

/*
 * The search's keys: neither in base nor in a grid object (a value is either
 * fixed, listed or drawn), then appended to the sweep's keys.
 */
static int grid__search_keys(struct grid *g, const cJSON *v_base, const struct grid_obj *objs,
                             size_t n_objs, struct err *e)
{
    char path[300];
    for (size_t d = 0; g->has_search && d < g->search.n_dims; d++) {
        const char *key = g->search.dims[d].key;
        snprintf(path, sizeof path, "search.space.%.200s", key);
        if (json_get(v_base, key))
            return err_set(e, MLP_EINVALID_GRID, path,
                           "\"%s\" is in both base and search.space (fix it in base or draw it, "
                           "not both)",
                           key);
        for (size_t i = 0; i < n_objs; i++)
            for (size_t k = 0; k < objs[i].n_keys; k++)
                if (strcmp(objs[i].keys[k], key) == 0)
                    return err_set(e, MLP_EINVALID_GRID, path,
                                   "\"%s\" is in both grid and search.space (list it or draw "
                                   "it, not both)",
                                   key);
        if (grid__add_key(g, key) < 0)
            return err_set(e, MLP_ENOMEM, path, NULL);
    }
    return 0;
}

/* Expand every object, dropping identical configurations, stopping at the limit. */
static int grid__expand_all(struct grid *g, const struct grid_obj *objs, size_t n_objs,
                            const struct hparams *base, long max_trials, bool force, long limit,
                            long ceiling, size_t combos, struct err *e)
{
    struct text_set seen = {0};
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n_objs && rc == 0; i++) {
        rc = grid__expand(g, &objs[i], base, &seen, &cap, limit, e);
        if (rc != MLP_ETOO_LARGE)
            continue;
        /* The size, counted without expanding: combinations x seeds before
         * identical configurations are merged. */
        double upto = (double)combos * (double)g->n_seeds;
        if (force || limit >= ceiling)
            rc = err_set(e, MLP_ETOO_LARGE, "grid",
                         "the grid expands to more than %ld trials (configurations x %zu seeds; "
                         "%zu combinations x %zu seeds = %.0f before identical ones are merged), "
                         "the most accepted even with --force%s",
                         limit, g->n_seeds, combos, g->n_seeds, upto,
                         ceiling < GRID_HARD_MAX ? " (mlpd.conf max_trials)" : "");
        else
            rc = err_set(e, MLP_ETOO_LARGE, "grid",
                         "the grid expands to more than %ld trials (configurations x %zu seeds; "
                         "%zu combinations x %zu seeds = %.0f before identical ones are merged); "
                         "use --force to submit it anyway",
                         max_trials, g->n_seeds, combos, g->n_seeds, upto);
    }
    text_set_release(&seen);
    return rc;
}

int grid_parse(const cJSON *doc, const struct grid_opts *o, struct grid **out, struct err *e)
{
    struct grid *g = NULL;
    struct grid_obj *objs = NULL;
    size_t n_objs = 0;
    int rc;
    *out = NULL;
    long max_trials = o && o->max_trials > 0 ? o->max_trials : GRID_DEFAULT_MAX_TRIALS;
    long ceiling = o && o->ceiling > 0 && o->ceiling < GRID_HARD_MAX ? o->ceiling : GRID_HARD_MAX;
    bool force = o && o->force;
    long limit = force ? ceiling : (max_trials < ceiling ? max_trials : ceiling);
    size_t combos = 0;

    if (!doc || !cJSON_IsObject(doc))
        return grid__bad(e, "", "a JSON object (the grid file)", doc);
    g = calloc(1, sizeof *g);
    if (!g)
        return err_set(e, MLP_ENOMEM, NULL, NULL);
    const cJSON *v[TOP_N];
    if ((rc = grid__top(doc, v, e)) < 0 || (rc = grid__name(g, v[TOP_NAME], o, e)) < 0)
        goto fail;
    if (!v[TOP_DATASET]) {
        rc = err_set(e, MLP_EINVALID_GRID, "dataset",
                     "missing key \"dataset\" (a dataset name or object)");
        goto fail;
    }
    memset(&g->ds, 0, sizeof g->ds);
    if ((rc = ds_spec_parse(&g->ds, v[TOP_DATASET], "dataset", o ? o->base_dir : NULL, e)) < 0 ||
        (rc = grid__seeds(g, v[TOP_SEEDS], limit, force || limit >= ceiling, e)) < 0 ||
        (rc = grid__metric(g, v[TOP_METRIC], e)) < 0)
        goto fail;
    const cJSON *v_exec = v[TOP_EXECUTOR];
    if (v_exec) {
        if (!cJSON_IsString(v_exec) || (strcmp(v_exec->valuestring, "local") != 0 &&
                                        strcmp(v_exec->valuestring, "slurm") != 0)) {
            rc = grid__bad(e, "executor", "\"local\" or \"slurm\"", v_exec);
            goto fail;
        }
        snprintf(g->executor, sizeof g->executor, "%s", v_exec->valuestring);
    }
    if (v[TOP_NOTIFY] && (rc = notify_grid_check(v[TOP_NOTIFY], e)) < 0)
        goto fail;
    if (v[TOP_SLURM]) {
        struct grid_slurm gs;
        if (strcmp(g->executor, "local") == 0) {
            rc = err_set(e, MLP_EINVALID_GRID, "slurm",
                         "Slurm settings on a sweep whose \"executor\" is \"local\"");
            goto fail;
        }
        if ((rc = grid_slurm_parse(v[TOP_SLURM], &gs, e)) < 0)
            goto fail;
    }
    struct hparams base;
    hparams_default(&base);
    if ((rc = grid__base(v[TOP_BASE], &base, e)) < 0)
        goto fail;
    if (v[TOP_PRUNE]) {
        if ((rc = prune_parse(v[TOP_PRUNE], &g->prune, e)) < 0)
            goto fail;
        g->has_prune = true;
    }
    if (v[TOP_CONFIRM]) {
        if ((rc = race_confirm_parse(v[TOP_CONFIRM], &g->confirm, e)) < 0)
            goto fail;
        g->has_confirm = true;
    }
    if (v[TOP_SEARCH]) {
        if ((rc = search_parse(v[TOP_SEARCH], GRID_HARD_MAX, &g->search, e)) < 0)
            goto fail;
        g->has_search = true;
    }
    if ((rc = grid__objects(v[TOP_GRID], v[TOP_BASE],
                            g->has_search ? (size_t)g->search.trials : 1, &objs, &n_objs, &combos,
                            e)) < 0)
        goto fail;
    for (size_t i = 0; i < n_objs; i++)
        for (size_t k = 0; k < objs[i].n_keys; k++)
            if ((rc = grid__add_key(g, objs[i].keys[k])) < 0) {
                rc = err_set(e, rc, "grid", NULL);
                goto fail;
            }
    if ((rc = grid__search_keys(g, v[TOP_BASE], objs, n_objs, e)) < 0)
        goto fail;
    if ((rc = grid__expand_all(g, objs, n_objs, &base, max_trials, force, limit, ceiling, combos,
                               e)) < 0)
        goto fail;
    free(objs);
    *out = g;
    return 0;

fail:
    free(objs);
    grid_free(g);
    if (e && e->code == 0)
        err_set(e, rc, NULL, NULL);
    return rc;
}

const char *grid_name(const struct grid *g)
{
    return g->name;
}

/* A Slurm name (partition, account): printable, no blank, not an option. */
static int grid__slurm_word(const cJSON *v, const char *path, char *out, struct err *e)
{
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= GRID_SLURM_STR_MAX)
        return grid__bad(e, path, "a non-empty string (a Slurm name)", v);
    for (const char *p = v->valuestring; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || (p == v->valuestring && *p == '-'))
            return grid__bad(e, path, "a Slurm name without blanks that does not start with '-'",
                             v);
    snprintf(out, GRID_SLURM_STR_MAX, "%s", v->valuestring);
    return 0;
}

/* A time limit in one of sbatch's forms: minutes, m:s, h:m:s, d-h, d-h:m, d-h:m:s. */
static bool grid__slurm_time_ok(const char *t)
{
    if (strcmp(t, "UNLIMITED") == 0 || strcmp(t, "INFINITE") == 0)
        return true;
    int colons = 0, dashes = 0;
    bool digit = false;
    for (const char *p = t; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digit = true;
            continue;
        }
        if (!digit)
            return false; /* empty field */
        digit = false;
        if (*p == ':')
            colons++;
        else if (*p == '-' && colons == 0 && dashes == 0)
            dashes++;
        else
            return false;
    }
    return digit && colons <= 2;
}

int grid_slurm_parse(const cJSON *v, struct grid_slurm *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(v))
        return grid__bad(e, "slurm",
                         "an object with \"partition\", \"account\", \"time\" or "
                         "\"sbatch_args\"",
                         v);
    const cJSON *it;
    int rc;
    char path[GRID_SLURM_STR_MAX];
    cJSON_ArrayForEach(it, v)
    {
        snprintf(path, sizeof path, "slurm.%.200s", it->string);
        if (grid__dup_before(v, it))
            return err_set(e, MLP_EINVALID_GRID, path, "key given twice");
        if (strcmp(it->string, "partition") == 0) {
            if ((rc = grid__slurm_word(it, path, out->partition, e)) < 0)
                return rc;
        } else if (strcmp(it->string, "account") == 0) {
            if ((rc = grid__slurm_word(it, path, out->account, e)) < 0)
                return rc;
        } else if (strcmp(it->string, "time") == 0) {
            if (!cJSON_IsString(it) || strlen(it->valuestring) >= GRID_SLURM_STR_MAX ||
                !grid__slurm_time_ok(it->valuestring))
                return grid__bad(e, path,
                                 "a Slurm time limit (\"minutes\", \"h:m:s\", \"d-h:m:s\" "
                                 "or \"UNLIMITED\")",
                                 it);
            snprintf(out->time, sizeof out->time, "%s", it->valuestring);
        } else if (strcmp(it->string, "sbatch_args") == 0) {
            if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) > GRID_SLURM_ARGS_MAX)
                return grid__bad(e, path, "an array of at most 16 sbatch options", it);
            const cJSON *a;
            int i = 0;
            cJSON_ArrayForEach(a, it)
            {
                snprintf(path, sizeof path, "slurm.sbatch_args[%d]", i);
                if (!cJSON_IsString(a) || a->valuestring[0] != '-' || !a->valuestring[1] ||
                    strlen(a->valuestring) >= GRID_SLURM_STR_MAX)
                    return grid__bad(e, path, "an sbatch option starting with '-' (\"--qos=low\")",
                                     a);
                for (const char *p = a->valuestring; *p; p++)
                    if ((unsigned char)*p < ' ' || *p == 0x7f)
                        return grid__bad(e, path, "an sbatch option without control characters", a);
                snprintf(out->args[i++], GRID_SLURM_STR_MAX, "%s", a->valuestring);
            }
            out->n_args = i;
        } else {
            return grid__unknown(e, path, it->string, grid_slurm_keys);
        }
    }
    return 0;
}

const char *grid_executor(const struct grid *g)
{
    return g->executor[0] ? g->executor : NULL;
}

const char *grid_metric(const struct grid *g)
{
    return g->metric;
}

bool grid_metric_maximize(const struct grid *g)
{
    return grid_metric_is_max(g->metric);
}

const struct ds_spec *grid_dataset(const struct grid *g)
{
    return &g->ds;
}

cJSON *grid_dataset_json(const struct grid *g)
{
    return ds_spec_to_json(&g->ds);
}

size_t grid_n_configs(const struct grid *g)
{
    return g->n_configs;
}

const struct hparams *grid_config(const struct grid *g, size_t i)
{
    return i < g->n_configs ? &g->configs[i] : NULL;
}

cJSON *grid_config_params(const struct grid *g, size_t i)
{
    return i < g->n_configs ? hparams_to_json(&g->configs[i]) : NULL;
}

cJSON *grid_config_varying(const struct grid *g, size_t i)
{
    if (i >= g->n_configs)
        return NULL;
    cJSON *full = hparams_to_json(&g->configs[i]);
    cJSON *out = cJSON_CreateObject();
    if (!full || !out)
        goto fail;
    for (size_t k = 0; k < g->n_keys; k++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(full, g->keys[k]);
        if (!v || !cJSON_AddItemToObject(out, g->keys[k], v)) {
            cJSON_Delete(v);
            goto fail;
        }
    }
    cJSON_Delete(full);
    return out;
fail:
    cJSON_Delete(full);
    cJSON_Delete(out);
    return NULL;
}

const struct search *grid_search(const struct grid *g)
{
    return g->has_search ? &g->search : NULL;
}

const struct prune *grid_prune(const struct grid *g)
{
    return g->has_prune ? &g->prune : NULL;
}

size_t grid_n_keys(const struct grid *g)
{
    return g->n_keys;
}

const char *grid_key(const struct grid *g, size_t i)
{
    return i < g->n_keys ? g->keys[i] : NULL;
}

size_t grid_n_seeds(const struct grid *g)
{
    return g->n_seeds;
}

int64_t grid_seed(const struct grid *g, size_t i)
{
    return i < g->n_seeds ? g->seeds[i] : 0;
}

size_t grid_n_trials(const struct grid *g)
{
    return g->n_configs * g->n_seeds;
}

const struct race *grid_race(const struct grid *g)
{
    return g->has_race ? &g->race : NULL;
}

const struct race_confirm *grid_confirm(const struct grid *g)
{
    return g->has_confirm ? &g->confirm : NULL;
}

size_t grid_n_first_seeds(const struct grid *g)
{
    return g->has_race ? (size_t)g->race.min : g->n_seeds;
}

int64_t grid_max_seed(const struct grid *g)
{
    int64_t m = g->n_seeds ? g->seeds[0] : 0;
    for (size_t i = 1; i < g->n_seeds; i++)
        if (g->seeds[i] > m)
            m = g->seeds[i];
    return m;
}

size_t grid_n_trials_max(const struct grid *g)
{
    size_t n = grid_n_trials(g);
    if (g->has_confirm)
        n += (size_t)g->confirm.top * (size_t)g->confirm.seeds;
    return n;
}
