/*
 * race — racing on seeds and confirmation (see race.h; SPEC.md "Racing on seeds" and
 * "Confirmation on fresh seeds").
 */
#include "race.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define RACE_MAX_SEEDS 1000

static int race__bad(struct err *e, const char *path, const char *expected, const cJSON *v)
{
    char got[80];
    return err_set(e, MLP_EINVALID_GRID, path, "expected %s, got %s", expected,
                   json_brief(v, got, sizeof got));
}

int race_parse(const cJSON *v, struct race *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(v))
        return race__bad(e, "seeds", "an object {\"min\": m, \"max\": M}", v);
    const cJSON *it;
    char path[128];
    bool has_min = false, has_max = false;
    cJSON_ArrayForEach(it, v)
    {
        snprintf(path, sizeof path, "seeds.%.100s", it->string);
        for (const cJSON *p = v->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return err_set(e, MLP_EINVALID_GRID, path, "duplicate key");
        int64_t n;
        bool is_min = strcmp(it->string, "min") == 0;
        if (!is_min && strcmp(it->string, "max") != 0)
            return err_set(e, MLP_EINVALID_GRID, path, "unknown key (expected \"min\" or \"max\")");
        if (!json_is_int(it, &n) || n < 1 || n > RACE_MAX_SEEDS)
            return race__bad(e, path, "an integer in 1..1000", it);
        if (is_min) {
            out->min = n;
            has_min = true;
        } else {
            out->max = n;
            has_max = true;
        }
    }
    if (!has_min)
        return err_set(e, MLP_EINVALID_GRID, "seeds.min", "missing key \"min\"");
    if (!has_max)
        return err_set(e, MLP_EINVALID_GRID, "seeds.max", "missing key \"max\"");
    if (out->max < out->min)
        return err_set(e, MLP_EINVALID_GRID, "seeds.max", "must be >= seeds.min (%lld), got %lld",
                       (long long)out->min, (long long)out->max);
    return 0;
}

const char *race_why_name(enum race_why w)
{
    switch (w) {
    case RACE_MIN: return "min";
    case RACE_TIED: return "tied";
    case RACE_LEADER: return "leader";
    case RACE_SEPARATED: return "separated";
    case RACE_MAX: return "max";
    case RACE_ALONE: return "alone";
    }
    return "?";
}

static int race__seeds(const struct prune_obs *obs, size_t n, int64_t config)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (obs[i].config == config && isfinite(obs[i].v))
            k++;
    return k;
}

/* The decision for a non-leader (or a leader before min/max), without the
 * "alone" look at the others. */
static int race__one(const struct race *r, const struct prune *t, bool maximize,
                     const struct prune_obs *obs, size_t n, int64_t config, struct race_verdict *out)
{
    memset(out, 0, sizeof *out);
    out->seeds = race__seeds(obs, n, config);
    int rc = prune_decide(t, maximize, obs, n, config, &out->test);
    if (rc < 0)
        return rc;
    if (out->seeds < r->min) {
        out->why = RACE_MIN;
        out->more = true;
    } else if (out->seeds >= r->max) {
        out->why = RACE_MAX;
    } else if (out->test.leader == config) {
        out->why = RACE_LEADER;
        out->more = true;
    } else if (out->test.stop) {
        out->why = RACE_SEPARATED;
    } else {
        out->why = RACE_TIED;
        out->more = true;
    }
    return 0;
}

int race_decide(const struct race *r, double alpha, bool maximize, const struct prune_obs *obs,
                size_t n, int64_t config, struct race_verdict *out)
{
    struct prune t = {.kind = PRUNE_HALVING, .min_epochs = 1, .eta = 3, .min_configs = 2,
                      .alpha = alpha, .rule = PRUNE_TTEST};
    int rc = race__one(r, &t, maximize, obs, n, config, out);
    if (rc < 0 || out->why != RACE_LEADER)
        return rc;
    /* The leader runs on while some other configuration still races. */
    for (size_t i = 0; i < n; i++) {
        int64_t o = obs[i].config;
        if (o == config || !isfinite(obs[i].v))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = obs[j].config == o && isfinite(obs[j].v);
        if (seen)
            continue;
        struct race_verdict ov;
        if ((rc = race__one(r, &t, maximize, obs, n, o, &ov)) < 0)
            return rc;
        if (ov.why == RACE_TIED || ov.why == RACE_MIN)
            return 0;
    }
    out->why = RACE_ALONE;
    out->more = false;
    return 0;
}

int race_why_parse(const char *name, enum race_why *out)
{
    for (int w = RACE_MIN; w <= RACE_ALONE; w++)
        if (name && strcmp(name, race_why_name((enum race_why)w)) == 0) {
            *out = (enum race_why)w;
            return 0;
        }
    return -1;
}

int race_confirm_parse(const cJSON *v, struct race_confirm *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(v))
        return race__bad(e, "confirm", "an object {\"top\": k, \"seeds\": n}", v);
    const cJSON *it;
    char path[128];
    bool has_top = false, has_seeds = false;
    cJSON_ArrayForEach(it, v)
    {
        snprintf(path, sizeof path, "confirm.%.100s", it->string);
        for (const cJSON *p = v->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return err_set(e, MLP_EINVALID_GRID, path, "duplicate key");
        int64_t n;
        bool is_top = strcmp(it->string, "top") == 0;
        if (!is_top && strcmp(it->string, "seeds") != 0)
            return err_set(e, MLP_EINVALID_GRID, path,
                           "unknown key (expected \"top\" or \"seeds\")");
        if (!json_is_int(it, &n) || n < 1 || n > RACE_MAX_SEEDS)
            return race__bad(e, path, "an integer in 1..1000", it);
        if (is_top) {
            out->top = n;
            has_top = true;
        } else {
            out->seeds = n;
            has_seeds = true;
        }
    }
    if (!has_top)
        return err_set(e, MLP_EINVALID_GRID, "confirm.top", "missing key \"top\"");
    if (!has_seeds)
        return err_set(e, MLP_EINVALID_GRID, "confirm.seeds", "missing key \"seeds\"");
    return 0;
}

int64_t race_confirm_seed(int64_t max_seed, int64_t k)
{
    return max_seed + 1 + k;
}
