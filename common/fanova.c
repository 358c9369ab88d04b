/* fanova — functional ANOVA on a random forest (see fanova.h). */
#include "fanova.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* A (value, target) pair: a node's points sorted along one numeric key. */
struct fa_pair {
    double x, y;
};

/* One tree being grown: its input, scratch and the leaves' cells. */
struct fa_tree {
    size_t n, d;
    const double *x, *y;
    const struct fanova_dim *dims;
    const struct fanova_params *p;
    size_t *idx;           /* the bootstrap sample, partitioned node by node */
    struct fa_pair *pairs; /* scratch of n */
    double *lo, *hi;       /* the current node's cell: numeric bounds per key */
    uint64_t *mask;        /* ... and category sets per key */
    /* The leaves: value, volume fraction and cell (d entries each). */
    size_t nleaves;
    double *lval, *lvol, *llo, *lhi;
    uint64_t *lmask;
};

static int pair_cmp(const void *a, const void *b)
{
    double x = ((const struct fa_pair *)a)->x, y = ((const struct fa_pair *)b)->x;
    return (x > y) - (x < y);
}

static uint64_t all_categories(int k)
{
    return k >= 64 ? ~0ull : (1ull << k) - 1;
}

/* The width of the current cell along key j as a fraction of the key's space. */
static double cell_fraction(const struct fa_tree *t, const double *lo, const double *hi,
                            const uint64_t *mask, size_t j)
{
    const struct fanova_dim *dm = &t->dims[j];
    if (dm->kind == FANOVA_CATEGORICAL)
        return (double)__builtin_popcountll(mask[j]) / dm->n_categories;
    return (hi[j] - lo[j]) / (dm->hi - dm->lo);
}

static void add_leaf(struct fa_tree *t, double value)
{
    size_t l = t->nleaves++, d = t->d;
    double vol = 1;
    for (size_t j = 0; j < d; j++)
        vol *= cell_fraction(t, t->lo, t->hi, t->mask, j);
    t->lval[l] = value;
    t->lvol[l] = vol;
    memcpy(t->llo + l * d, t->lo, d * sizeof *t->lo);
    memcpy(t->lhi + l * d, t->hi, d * sizeof *t->hi);
    memcpy(t->lmask + l * d, t->mask, d * sizeof *t->mask);
}

/* The best split found so far at a node. */
struct fa_split {
    bool found;
    double proxy; /* sumL^2/nL + sumR^2/nR: larger is a smaller squared error */
    size_t key;
    double threshold; /* numeric: x <= threshold goes left */
    uint64_t left;    /* categorical: the categories going left */
};

static void try_numeric(struct fa_tree *t, size_t start, size_t end, size_t j, double total,
                        struct fa_split *best)
{
    size_t cnt = end - start, d = t->d, minleaf = (size_t)t->p->min_samples_leaf;
    for (size_t i = 0; i < cnt; i++) {
        size_t s = t->idx[start + i];
        t->pairs[i] = (struct fa_pair){t->x[s * d + j], t->y[s]};
    }
    qsort(t->pairs, cnt, sizeof *t->pairs, pair_cmp);
    double sl = 0;
    for (size_t i = 1; i < cnt; i++) {
        sl += t->pairs[i - 1].y;
        if (!(t->pairs[i - 1].x < t->pairs[i].x) || i < minleaf || cnt - i < minleaf)
            continue;
        double sr = total - sl;
        double proxy = sl * sl / (double)i + sr * sr / (double)(cnt - i);
        if (!best->found || proxy > best->proxy) {
            double a = t->pairs[i - 1].x, b = t->pairs[i].x, m = a / 2 + b / 2;
            if (!(m >= a && m < b)) /* rounding: as scikit-learn, the lower value */
                m = a;
            *best = (struct fa_split){.found = true, .proxy = proxy, .key = j, .threshold = m};
        }
    }
}

static void try_categorical(struct fa_tree *t, size_t start, size_t end, size_t j, double total,
                            struct fa_split *best)
{
    size_t cnt = end - start, d = t->d, minleaf = (size_t)t->p->min_samples_leaf;
    int k = t->dims[j].n_categories;
    size_t count[FANOVA_MAX_CATEGORIES] = {0};
    double sum[FANOVA_MAX_CATEGORIES] = {0};
    int order[FANOVA_MAX_CATEGORIES], np = 0;
    for (size_t i = start; i < end; i++) {
        size_t s = t->idx[i];
        int c = (int)t->x[s * d + j];
        count[c]++;
        sum[c] += t->y[s];
    }
    for (int c = 0; c < k; c++)
        if (count[c])
            order[np++] = c;
    if (np < 2)
        return;
    /* Present categories by mean (insertion sort: at most 64; ties by category). */
    for (int a = 1; a < np; a++)
        for (int b = a; b > 0; b--) {
            int u = order[b], v = order[b - 1];
            if (!(sum[u] / (double)count[u] < sum[v] / (double)count[v]))
                break;
            order[b] = v;
            order[b - 1] = u;
        }
    double sl = 0;
    size_t nl = 0;
    uint64_t left = 0, absent = t->mask[j];
    for (int a = 0; a < np; a++)
        absent &= ~(1ull << order[a]);
    for (int a = 0; a + 1 < np; a++) {
        int c = order[a];
        sl += sum[c];
        nl += count[c];
        left |= 1ull << c;
        if (nl < minleaf || cnt - nl < minleaf)
            continue;
        double sr = total - sl;
        double proxy = sl * sl / (double)nl + sr * sr / (double)(cnt - nl);
        if (!best->found || proxy > best->proxy)
            /* Categories with no point here go with the larger side (ties: left). */
            *best = (struct fa_split){.found = true,
                                      .proxy = proxy,
                                      .key = j,
                                      .left = left | (nl >= cnt - nl ? absent : 0)};
    }
}

static bool goes_left(const struct fa_tree *t, const struct fa_split *s, size_t point)
{
    double v = t->x[point * t->d + s->key];
    if (t->dims[s->key].kind == FANOVA_CATEGORICAL)
        return (s->left >> (int)v) & 1;
    return v <= s->threshold;
}

static void grow(struct fa_tree *t, size_t start, size_t end, int depth)
{
    size_t cnt = end - start;
    double total = 0, ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = start; i < end; i++) {
        double v = t->y[t->idx[i]];
        total += v;
        ymin = v < ymin ? v : ymin;
        ymax = v > ymax ? v : ymax;
    }
    double mean = total / (double)cnt;
    if (cnt < (size_t)t->p->min_samples_split || depth >= t->p->max_depth || ymin == ymax) {
        add_leaf(t, mean);
        return;
    }
    struct fa_split best = {.found = false};
    for (size_t j = 0; j < t->d; j++) {
        if (t->dims[j].kind == FANOVA_CATEGORICAL)
            try_categorical(t, start, end, j, total, &best);
        else
            try_numeric(t, start, end, j, total, &best);
    }
    if (!best.found) {
        add_leaf(t, mean);
        return;
    }
    /* Partition idx[start, end): left points first. */
    size_t mid = start;
    for (size_t i = start; i < end; i++)
        if (goes_left(t, &best, t->idx[i])) {
            size_t s = t->idx[i];
            t->idx[i] = t->idx[mid];
            t->idx[mid++] = s;
        }
    size_t j = best.key;
    if (t->dims[j].kind == FANOVA_CATEGORICAL) {
        uint64_t was = t->mask[j];
        t->mask[j] = was & best.left;
        grow(t, start, mid, depth + 1);
        t->mask[j] = was & ~best.left;
        grow(t, mid, end, depth + 1);
        t->mask[j] = was;
    } else {
        double lo = t->lo[j], hi = t->hi[j];
        t->hi[j] = best.threshold;
        grow(t, start, mid, depth + 1);
        t->hi[j] = hi;
        t->lo[j] = best.threshold;
        grow(t, mid, end, depth + 1);
        t->lo[j] = lo;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Index of v in the sorted, distinct array b[0, nb) (v is there). */
static size_t find_edge(const double *b, size_t nb, double v)
{
    size_t lo = 0, hi = nb;
    while (hi - lo > 1) {
        size_t m = lo + (hi - lo) / 2;
        if (b[m] <= v)
            lo = m;
        else
            hi = m;
    }
    return lo;
}

/*
 * The variance of key j's main effect in the grown tree (mu its mean).
 * edges and acc are scratch of 2 * nleaves + 2 and 64 (or 2 * nleaves + 2).
 */
static double main_effect_variance(const struct fa_tree *t, size_t j, double mu, double *edges,
                                   double *acc)
{
    size_t d = t->d, L = t->nleaves;
    const struct fanova_dim *dm = &t->dims[j];
    double v = 0;
    if (dm->kind == FANOVA_CATEGORICAL) {
        int k = dm->n_categories;
        for (int c = 0; c < k; c++)
            acc[c] = 0;
        for (size_t l = 0; l < L; l++) {
            uint64_t m = t->lmask[l * d + j];
            /* The leaf's value times its volume over the other keys: vol / (its share of j). */
            double share = (double)__builtin_popcountll(m) / k;
            if (!(t->lvol[l] > 0))
                continue; /* a cell of no volume (see below) */
            double c = t->lval[l] * t->lvol[l] / share;
            for (int q = 0; q < k; q++)
                if ((m >> q) & 1)
                    acc[q] += c;
        }
        for (int c = 0; c < k; c++)
            v += (acc[c] - mu) * (acc[c] - mu) / k;
        return v;
    }
    /* Numeric: the main effect is constant between the leaves' edges along j. */
    size_t nb = 0;
    for (size_t l = 0; l < L; l++) {
        edges[nb++] = t->llo[l * d + j];
        edges[nb++] = t->lhi[l * d + j];
    }
    qsort(edges, nb, sizeof *edges, cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < nb; i++)
        if (u == 0 || edges[i] != edges[u - 1])
            edges[u++] = edges[i];
    nb = u;
    for (size_t i = 0; i < nb; i++)
        acc[i] = 0;
    for (size_t l = 0; l < L; l++) {
        double a = t->llo[l * d + j], b = t->lhi[l * d + j];
        double share = (b - a) / (dm->hi - dm->lo);
        /* A split between two adjacent doubles can leave a cell of width 0: it weighs nothing. */
        if (!(t->lvol[l] > 0))
            continue;
        double c = t->lval[l] * t->lvol[l] / share;
        acc[find_edge(edges, nb, a)] += c;
        acc[find_edge(edges, nb, b)] -= c;
    }
    double run = 0;
    for (size_t i = 0; i + 1 < nb; i++) {
        run += acc[i];
        double w = (edges[i + 1] - edges[i]) / (dm->hi - dm->lo);
        v += w * (run - mu) * (run - mu);
    }
    return v;
}

static int check_input(size_t n, size_t d, const double *x, const double *y,
                       const struct fanova_dim *dims, const struct fanova_params *p, struct err *e)
{
    if (n < 2)
        return err_set(e, MLP_EINVALID_REQUEST, NULL, "need at least 2 points, got %zu", n);
    if (d < 1)
        return err_set(e, MLP_EINVALID_REQUEST, NULL, "need at least 1 key");
    if (p->trees < 1 || p->trees > FANOVA_MAX_TREES)
        return err_set(e, MLP_EINVALID_REQUEST, "trees", "expected 1 to %d trees, got %d",
                       FANOVA_MAX_TREES, p->trees);
    if (p->max_depth < 1 || p->min_samples_split < 2 || p->min_samples_leaf < 1)
        return err_set(e, MLP_EINVALID_REQUEST, NULL,
                       "expected max_depth >= 1, min_samples_split >= 2, min_samples_leaf >= 1");
    for (size_t j = 0; j < d; j++) {
        const struct fanova_dim *dm = &dims[j];
        if (dm->kind == FANOVA_CATEGORICAL) {
            if (dm->n_categories < 1 || dm->n_categories > FANOVA_MAX_CATEGORIES)
                return err_set(e, MLP_EINVALID_REQUEST, NULL,
                               "key %zu: expected 1 to %d categories, got %d", j,
                               FANOVA_MAX_CATEGORIES, dm->n_categories);
        } else if (!(isfinite(dm->lo) && isfinite(dm->hi) && dm->lo < dm->hi)) {
            return err_set(e, MLP_EINVALID_REQUEST, NULL,
                           "key %zu: expected finite bounds lo < hi, got [%g, %g]", j, dm->lo,
                           dm->hi);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            return err_set(e, MLP_EINVALID_REQUEST, NULL, "point %zu: value is not finite", i);
        for (size_t j = 0; j < d; j++) {
            double v = x[i * d + j];
            const struct fanova_dim *dm = &dims[j];
            bool ok = dm->kind == FANOVA_CATEGORICAL
                          ? v >= 0 && v < dm->n_categories && v == floor(v)
                          : v >= dm->lo && v <= dm->hi;
            if (!ok)
                return err_set(e, MLP_EINVALID_REQUEST, NULL,
                               "point %zu, key %zu: %g is outside the key's space", i, j, v);
        }
    }
    return 0;
}

int fanova_importance(size_t n, size_t d, const double *x, const double *y,
                      const struct fanova_dim *dims, const struct fanova_params *p,
                      struct fanova_key *keys, struct fanova_result *res, struct err *e)
{
    int rc = check_input(n, d, x, y, dims, p, e);
    if (rc < 0)
        return rc;
    struct fa_tree t = {.n = n, .d = d, .x = x, .y = y, .dims = dims, .p = p};
    size_t scratch = 2 * n + 2 > FANOVA_MAX_CATEGORIES ? 2 * n + 2 : FANOVA_MAX_CATEGORIES;
    size_t ntrees = (size_t)p->trees;
    double *frac = calloc(ntrees * d, sizeof *frac); /* per tree, per key */
    double *edges = malloc(scratch * sizeof *edges), *acc = malloc(scratch * sizeof *acc);
    t.idx = malloc(n * sizeof *t.idx);
    t.pairs = malloc(n * sizeof *t.pairs);
    t.lo = malloc(d * sizeof *t.lo);
    t.hi = malloc(d * sizeof *t.hi);
    t.mask = malloc(d * sizeof *t.mask);
    /* A leaf holds at least one distinct point of the sample: at most n leaves. */
    t.lval = malloc(n * sizeof *t.lval);
    t.lvol = malloc(n * sizeof *t.lvol);
    t.llo = malloc(n * d * sizeof *t.llo);
    t.lhi = malloc(n * d * sizeof *t.lhi);
    t.lmask = malloc(n * d * sizeof *t.lmask);
    if (!frac || !edges || !acc || !t.idx || !t.pairs || !t.lo || !t.hi || !t.mask || !t.lval ||
        !t.lvol || !t.llo || !t.lhi || !t.lmask) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    size_t used = 0;
    for (size_t tr = 0; tr < ntrees; tr++) {
        /* The bootstrap: n draws with replacement from the stream of (seed, tree). */
        uint64_t st = p->seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(tr + 1));
        for (size_t i = 0; i < n; i++) {
            size_t k = (size_t)((double)(rng_splitmix64(&st) >> 11) * 0x1p-53 * (double)n);
            t.idx[i] = k < n ? k : n - 1;
        }
        for (size_t j = 0; j < d; j++) {
            t.lo[j] = dims[j].lo;
            t.hi[j] = dims[j].hi;
            t.mask[j] = dims[j].kind == FANOVA_CATEGORICAL ? all_categories(dims[j].n_categories)
                                                           : 0;
        }
        t.nleaves = 0;
        grow(&t, 0, n, 0);
        double mu = 0, var = 0;
        for (size_t l = 0; l < t.nleaves; l++)
            mu += t.lvol[l] * t.lval[l];
        for (size_t l = 0; l < t.nleaves; l++)
            var += t.lvol[l] * (t.lval[l] - mu) * (t.lval[l] - mu);
        if (!(var > 0))
            continue;
        for (size_t j = 0; j < d; j++) {
            double vj = main_effect_variance(&t, j, mu, edges, acc) / var;
            frac[used * d + j] = vj < 0 ? 0 : vj > 1 ? 1 : vj;
        }
        used++;
    }
    res->trees_used = (int)used;
    res->main_effects = 0;
    double total = 0;
    for (size_t j = 0; j < d; j++) {
        double s = 0;
        for (size_t u = 0; u < used; u++)
            s += frac[u * d + j];
        keys[j].fraction = used ? s / (double)used : NAN;
        total += used ? keys[j].fraction : 0;
    }
    res->main_effects = used ? total : NAN;
    for (size_t j = 0; j < d; j++) {
        double m = keys[j].fraction, ss = 0;
        for (size_t u = 0; u < used; u++)
            ss += (frac[u * d + j] - m) * (frac[u * d + j] - m);
        double sd = used >= 2 ? sqrt(ss / (double)(used - 1)) : NAN;
        if (!used) {
            keys[j].importance = keys[j].sd = NAN;
        } else if (total > 0) {
            keys[j].importance = m / total;
            keys[j].sd = sd / total;
        } else {
            keys[j].importance = 0;
            keys[j].sd = used >= 2 ? 0 : NAN;
        }
    }
    rc = 0;
out:
    free(frac);
    free(edges);
    free(acc);
    free(t.idx);
    free(t.pairs);
    free(t.lo);
    free(t.hi);
    free(t.mask);
    free(t.lval);
    free(t.lvol);
    free(t.llo);
    free(t.lhi);
    free(t.lmask);
    return rc;
}
