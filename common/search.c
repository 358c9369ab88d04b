/*
 * search — random and Sobol search spaces.  See search.h.
 *
 * The Sobol' direction numbers are computed once from Joe and Kuo's table
 * (S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better
 * two-dimensional projections", SIAM J. Sci. Comput. 30, 2008; the file
 * new-joe-kuo-6.21201, dimensions 2..32 below; dimension 1 is van der
 * Corput).  For dimension j with degree s, coefficients a and initial
 * m_1..m_s: V_k = m_k·2^(32−k) for k ≤ s, then
 *   V_k = V_{k−s} ⊕ (V_{k−s} >> s) ⊕ ⊕_{l=1}^{s−1} a_l·V_{k−l},
 * a_l the bits of a from the most significant.  Point i is the XOR of V_k over
 * the set bits k−1 of gray(i) = i ⊕ (i >> 1): the Gray-code order of
 * Antonov and Saleev, the order SciPy and sobol.cc print.
 */
#include "search.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hparams.h"
#include "json.h"

/* Seeds must survive a trip through a JSON double exactly. */
#define SEARCH_INT53 9007199254740992LL

/* Joe-Kuo rows for dimensions 2..32: degree s, coefficients a, m_1..m_s. */
static const struct {
    int s, a;
    uint32_t m[8];
} search_jk[SEARCH_MAX_DIMS - 1] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
    {7, 7, {1, 1, 3, 13, 7, 35, 63}},
    {7, 8, {1, 3, 5, 9, 1, 25, 53}},
    {7, 14, {1, 3, 1, 13, 9, 35, 107}},
    {7, 19, {1, 3, 1, 5, 27, 61, 31}},
    {7, 21, {1, 1, 5, 11, 19, 41, 61}},
    {7, 28, {1, 3, 5, 3, 3, 13, 69}},
    {7, 31, {1, 1, 7, 13, 1, 19, 1}},
    {7, 32, {1, 3, 7, 5, 13, 19, 59}},
    {7, 37, {1, 1, 3, 9, 25, 29, 41}},
    {7, 41, {1, 3, 5, 13, 23, 1, 55}},
    {7, 42, {1, 3, 7, 3, 13, 59, 17}},
};

/* Direction numbers V_1..V_32 of one dimension (0-based dim), into v[0..31]. */
static void search__directions(size_t dim, uint32_t v[32])
{
    if (dim == 0) {
        for (int k = 0; k < 32; k++)
            v[k] = (uint32_t)1 << (31 - k);
        return;
    }
    int s = search_jk[dim - 1].s, a = search_jk[dim - 1].a;
    for (int k = 0; k < s; k++)
        v[k] = search_jk[dim - 1].m[k] << (31 - k);
    for (int k = s; k < 32; k++) {
        uint32_t x = v[k - s] ^ (v[k - s] >> s);
        for (int l = 1; l < s; l++)
            if ((a >> (s - 1 - l)) & 1)
                x ^= v[k - l];
        v[k] = x;
    }
}

uint32_t search_sobol_raw(uint64_t index, size_t dim)
{
    uint32_t v[32] = {0}; /* all 32 set by search__directions; zeroed for gcc -O2 -fsanitize, which cannot see it */
    if (dim >= SEARCH_MAX_DIMS)
        return 0;
    search__directions(dim, v);
    uint64_t g = index ^ (index >> 1);
    uint32_t x = 0;
    for (int k = 0; k < 32 && g; k++, g >>= 1)
        if (g & 1)
            x ^= v[k];
    return x;
}

/* SplitMix64's output function applied to state x (Steele, Lea, Flood 2014). */
static uint64_t search__mix(uint64_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double search_unit(const struct search *s, uint64_t index, size_t dim)
{
    uint64_t seed = search__mix((uint64_t)s->seed);
    if (s->kind == SEARCH_SOBOL) {
        /* Digital shift: one 32-bit word per dimension, from the seed alone. */
        uint32_t shift = (uint32_t)(search__mix(search__mix(seed ^ 0x736f626f6cULL) + dim) >> 32);
        return (double)(search_sobol_raw(index, dim) ^ shift) * 0x1p-32;
    }
    uint64_t h = search__mix(search__mix(seed + index) + dim);
    return (double)(h >> 11) * 0x1p-53;
}

/* v rounded to 4 significant digits (0 stays 0). */
static double search__round4(double v)
{
    if (v == 0 || !isfinite(v))
        return v;
    char buf[32];
    snprintf(buf, sizeof buf, "%.3e", v);
    return strtod(buf, NULL);
}

cJSON *search_value(const struct search *s, uint64_t index, size_t dim)
{
    const struct search_dim *d = &s->dims[dim];
    double u = search_unit(s, index, dim), v = 0;
    switch (d->dist) {
    case SD_CHOICE: {
        size_t k = (size_t)(u * (double)d->n_choices);
        if (k >= d->n_choices)
            k = d->n_choices - 1;
        return cJSON_Duplicate(cJSON_GetArrayItem(d->choices, (int)k), true);
    }
    case SD_UNIFORM:
        v = search__round4(d->lo + u * (d->hi - d->lo));
        break;
    case SD_LOG_UNIFORM:
        v = search__round4(exp(log(d->lo) + u * (log(d->hi) - log(d->lo))));
        break;
    case SD_INT:
        v = d->lo + floor(u * (d->hi - d->lo + 1));
        break;
    case SD_INT_LOG:
        v = floor(exp(log(d->lo) + u * (log(d->hi + 1) - log(d->lo))));
        break;
    }
    if (v < d->lo)
        v = d->lo;
    if (v > d->hi)
        v = d->hi;
    return cJSON_CreateNumber(v);
}

int search_apply(const struct search *s, uint64_t index, struct hparams *hp, struct err *e)
{
    for (size_t k = 0; k < s->n_dims; k++) {
        cJSON *v = search_value(s, index, k);
        if (!v)
            return err_set(e, MLP_ENOMEM, "search", NULL);
        int rc = hparams_set(hp, s->dims[k].key, v, s->dims[k].key, e);
        cJSON_Delete(v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void search_release(struct search *s)
{
    for (size_t k = 0; k < s->n_dims; k++) {
        free(s->dims[k].key);
        cJSON_Delete(s->dims[k].choices);
    }
    s->n_dims = 0;
}

static int search__bad(struct err *e, const char *path, const char *expected, const cJSON *v)
{
    char got[80];
    return err_set(e, MLP_EINVALID_GRID, path, "expected %s, got %s", expected,
                   json_brief(v, got, sizeof got));
}

/* A hyperparameter error at path re-labelled as a grid error. */
static int search__check_value(const char *key, const cJSON *v, const char *path, struct err *e)
{
    struct hparams scratch;
    hparams_default(&scratch);
    int rc = hparams_set(&scratch, key, v, path, e);
    if (rc == MLP_EINVALID_SPEC) {
        rc = MLP_EINVALID_GRID;
        e->code = rc;
    }
    return rc;
}

static const char *const search_dist_names[] = {"uniform", "log_uniform", "int",
                                                "int_log", "choice",      NULL};
static const char *const search_keys[] = {"kind", "trials", "seed", "space", NULL};

/* One member of "space": key -> {"<dist>": [...]}. */
static int search__dim(const cJSON *it, struct search_dim *d, struct err *e)
{
    char path[300], vpath[340];
    snprintf(path, sizeof path, "search.space.%.200s", it->string);
    if (!cJSON_IsObject(it) || cJSON_GetArraySize(it) != 1)
        return search__bad(e, path,
                           "an object with one distribution: {\"log_uniform\": [a, b]}, "
                           "\"uniform\", \"int\", \"int_log\" or \"choice\"",
                           it);
    const cJSON *spec = it->child;
    int k = 0;
    while (search_dist_names[k] && strcmp(spec->string, search_dist_names[k]) != 0)
        k++;
    snprintf(path, sizeof path, "search.space.%.200s.%.60s", it->string, spec->string);
    if (!search_dist_names[k]) {
        const char *s = json_suggest(spec->string, search_dist_names);
        if (s)
            return err_set(e, MLP_EINVALID_GRID, path,
                           "unknown distribution (did you mean \"%s\"?)", s);
        return err_set(e, MLP_EINVALID_GRID, path,
                       "unknown distribution (expected uniform, log_uniform, int, int_log or "
                       "choice)");
    }
    d->dist = (enum search_dist)k;
    d->key = strdup(it->string);
    if (!d->key)
        return err_set(e, MLP_ENOMEM, path, NULL);
    int rc;
    if (d->dist == SD_CHOICE) {
        if (!cJSON_IsArray(spec) || cJSON_GetArraySize(spec) == 0)
            return search__bad(e, path, "a non-empty list of values", spec);
        size_t i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, spec)
        {
            snprintf(vpath, sizeof vpath, "%s[%zu]", path, i++);
            if ((rc = search__check_value(it->string, v, vpath, e)) < 0)
                return rc;
        }
        d->n_choices = i;
        d->choices = cJSON_Duplicate(spec, true);
        return d->choices ? 0 : err_set(e, MLP_ENOMEM, path, NULL);
    }
    bool integral = d->dist == SD_INT || d->dist == SD_INT_LOG;
    bool logd = d->dist == SD_LOG_UNIFORM || d->dist == SD_INT_LOG;
    const char *want =
        integral ? "[a, b]: two integers with a < b" : "[a, b]: two numbers with a < b";
    if (!cJSON_IsArray(spec) || cJSON_GetArraySize(spec) != 2)
        return search__bad(e, path, want, spec);
    const cJSON *a = spec->child, *b = a->next;
    for (int i = 0; i < 2; i++) {
        const cJSON *x = i ? b : a;
        snprintf(vpath, sizeof vpath, "%s[%d]", path, i);
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || (integral && !json_is_int(x, NULL)))
            return search__bad(e, vpath, integral ? "an integer" : "a finite number", x);
        if (logd && (integral ? x->valuedouble < 1 : x->valuedouble <= 0))
            return search__bad(
                e, vpath, integral ? "an integer >= 1 (a log scale)" : "a number > 0 (a log scale)",
                x);
        if ((rc = search__check_value(it->string, x, vpath, e)) < 0)
            return rc;
    }
    if (!(a->valuedouble < b->valuedouble))
        return err_set(e, MLP_EINVALID_GRID, path, "expected a < b, got [%g, %g]", a->valuedouble,
                       b->valuedouble);
    d->lo = a->valuedouble;
    d->hi = b->valuedouble;
    return 0;
}

int search_parse(const cJSON *v, long hard_max, struct search *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(v))
        return search__bad(e, "search",
                           "an object {\"kind\": \"random\"|\"sobol\", \"trials\": n, \"space\": "
                           "{...}}",
                           v);
    const cJSON *kind = NULL, *trials = NULL, *seed = NULL, *space = NULL, *it;
    char path[300];
    cJSON_ArrayForEach(it, v)
    {
        snprintf(path, sizeof path, "search.%.200s", it->string);
        const cJSON **slot = strcmp(it->string, "kind") == 0     ? &kind
                             : strcmp(it->string, "trials") == 0 ? &trials
                             : strcmp(it->string, "seed") == 0   ? &seed
                             : strcmp(it->string, "space") == 0  ? &space
                                                                 : NULL;
        if (!slot) {
            const char *s = json_suggest(it->string, search_keys);
            if (s)
                return err_set(e, MLP_EINVALID_GRID, path, "unknown key (did you mean \"%s\"?)", s);
            return err_set(e, MLP_EINVALID_GRID, path,
                           "unknown key (expected kind, trials, seed or space)");
        }
        if (*slot)
            return err_set(e, MLP_EINVALID_GRID, path, "duplicate key");
        *slot = it;
    }
    if (!kind)
        return err_set(e, MLP_EINVALID_GRID, "search.kind",
                       "missing key \"kind\" (\"random\" or \"sobol\")");
    if (!cJSON_IsString(kind) ||
        (strcmp(kind->valuestring, "random") != 0 && strcmp(kind->valuestring, "sobol") != 0))
        return search__bad(e, "search.kind", "\"random\" or \"sobol\"", kind);
    out->kind = strcmp(kind->valuestring, "sobol") == 0 ? SEARCH_SOBOL : SEARCH_RANDOM;
    int64_t n;
    if (!trials)
        return err_set(e, MLP_EINVALID_GRID, "search.trials",
                       "missing key \"trials\" (how many points to draw)");
    if (!json_is_int(trials, &n) || n < 1)
        return search__bad(e, "search.trials", "an integer >= 1", trials);
    if (n > hard_max)
        return err_set(e, MLP_ETOO_LARGE, "search.trials",
                       "%lld points is more than the limit of %ld", (long long)n, hard_max);
    out->trials = n;
    if (seed) {
        if (!json_is_int(seed, &n) || n < -SEARCH_INT53 || n > SEARCH_INT53)
            return search__bad(e, "search.seed",
                               "an integer in [-9007199254740992, 9007199254740992]", seed);
        out->seed = n;
    }
    if (!space)
        return err_set(e, MLP_EINVALID_GRID, "search.space",
                       "missing key \"space\" (the hyperparameters to draw)");
    if (!cJSON_IsObject(space) || cJSON_GetArraySize(space) == 0)
        return search__bad(e, "search.space", "a non-empty object of distributions", space);
    cJSON_ArrayForEach(it, space)
    {
        snprintf(path, sizeof path, "search.space.%.200s", it->string);
        if (!hparams_is_key(it->string)) {
            const char *s = hparams_suggest(it->string);
            if (s)
                return err_set(e, MLP_EINVALID_GRID, path, "unknown key (did you mean \"%s\"?)", s);
            return err_set(e, MLP_EINVALID_GRID, path, "unknown key");
        }
        for (size_t k = 0; k < out->n_dims; k++)
            if (strcmp(out->dims[k].key, it->string) == 0)
                return err_set(e, MLP_EINVALID_GRID, path, "duplicate key");
        if (out->n_dims == SEARCH_MAX_DIMS)
            return err_set(e, MLP_EINVALID_GRID, path, "more than %d dimensions", SEARCH_MAX_DIMS);
        int rc = search__dim(it, &out->dims[out->n_dims], e);
        if (out->dims[out->n_dims].key || out->dims[out->n_dims].choices)
            out->n_dims++; /* owned now, released by search_release */
        if (rc < 0)
            return rc;
    }
    return 0;
}
