/*
 * query — grouping, summaries and ranking of a sweep's results.  See query.h.
 *
 * Rows are kept as one flat array of MLP_M_N values per trial; groups are
 * offsets into it, found once after loading (rows arrive in config order), and
 * looked up by binary search.  One scratch buffer of n values serves every
 * summary, so a query allocates O(rows) once.  qsort_r carries the direction:
 * queries run on pool threads, so there is no global comparator state.
 */
#include "query.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int query_rows_add(struct query_rows *q, int64_t config_idx, const double *v)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 256;
        double *nv = realloc(q->v, cap * MLP_M_N * sizeof *nv);
        if (!nv)
            return MLP_ENOMEM;
        q->v = nv;
        int64_t *c = realloc(q->cfg, cap * sizeof *c);
        if (!c)
            return MLP_ENOMEM;
        q->cfg = c;
        q->cap = cap;
    }
    memcpy(q->v + q->n * MLP_M_N, v, MLP_M_N * sizeof *v);
    q->cfg[q->n++] = config_idx;
    return 0;
}

int query_rows_group(struct query_rows *q)
{
    size_t g = 0;
    for (size_t i = 0; i < q->n; i++)
        if (i == 0 || q->cfg[i] != q->cfg[i - 1])
            g++;
    free(q->start);
    free(q->gidx);
    free(q->tmp);
    q->start = malloc((g + 1) * sizeof *q->start);
    q->gidx = malloc((g + 1) * sizeof *q->gidx);
    q->tmp = malloc((q->n + 1) * sizeof *q->tmp);
    if (!q->start || !q->gidx || !q->tmp)
        return MLP_ENOMEM;
    g = 0;
    for (size_t i = 0; i < q->n; i++)
        if (i == 0 || q->cfg[i] != q->cfg[i - 1]) {
            q->start[g] = i;
            q->gidx[g++] = q->cfg[i];
        }
    q->start[g] = q->n;
    q->n_groups = g;
    return 0;
}

void query_rows_release(struct query_rows *q)
{
    free(q->v);
    free(q->cfg);
    free(q->start);
    free(q->gidx);
    free(q->tmp);
    memset(q, 0, sizeof *q);
}

long query_group(const struct query_rows *q, int64_t idx)
{
    size_t lo = 0, hi = q->n_groups;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (q->gidx[mid] < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < q->n_groups && q->gidx[lo] == idx ? (long)lo : -1;
}

size_t query_group_size(const struct query_rows *q, long g)
{
    return g >= 0 && (size_t)g < q->n_groups ? q->start[g + 1] - q->start[g] : 0;
}

/* Append metric m of group g's rows to q->tmp from position k; returns the new k. */
static size_t query__collect(struct query_rows *q, long g, int m, size_t k)
{
    if (g < 0 || (size_t)g >= q->n_groups)
        return k;
    for (size_t i = q->start[g]; i < q->start[g + 1]; i++)
        q->tmp[k++] = q->v[i * MLP_M_N + m];
    return k;
}

size_t query_count_flag(const struct query_rows *q, long g, int m)
{
    size_t k = 0;
    if (g < 0 || (size_t)g >= q->n_groups || m < 0 || m >= MLP_M_N)
        return 0;
    for (size_t i = q->start[g]; i < q->start[g + 1]; i++) {
        double v = q->v[i * MLP_M_N + m];
        if (isfinite(v) && v != 0)
            k++;
    }
    return k;
}

void query_clip(int m, struct stat_summary *s)
{
    if (m < 0 || m >= MLP_M_N)
        return;
    enum metric_kind k = metric_info(m)->kind;
    double lo = 0, hi = k == METRIC_ACCURACY ? 1 : INFINITY;
    if (k != METRIC_ACCURACY && k != METRIC_LOSS && k != METRIC_MSE)
        return;
    if (isfinite(s->ci_low) && s->ci_low < lo) {
        s->ci_low = lo;
        s->clipped = true;
    }
    if (isfinite(s->ci_high) && s->ci_high > hi) {
        s->ci_high = hi;
        s->clipped = true;
    }
}

void query_stat(struct query_rows *q, long g, int m, struct stat_summary *s)
{
    query_stat_groups(q, &g, 1, m, s);
}

void query_stat_groups(struct query_rows *q, const long *groups, size_t n, int m,
                       struct stat_summary *s)
{
    size_t k = 0;
    for (size_t i = 0; q->tmp && i < n; i++)
        k = query__collect(q, groups[i], m, k);
    stats_summarize(q->tmp, k, QUERY_LEVEL, s);
    query_clip(m, s);
}

static int query__tier(const struct stat_summary *s)
{
    return s->n == 0 ? 2 : s->n_nonfinite > 0 ? 1 : 0;
}

bool query_better(const struct query_ranked *a, const struct query_ranked *b, bool maximize)
{
    if (a->tier != b->tier)
        return a->tier < b->tier;
    if (a->tier < 2 && a->s.mean != b->s.mean)
        return maximize ? a->s.mean > b->s.mean : a->s.mean < b->s.mean;
    return a->idx < b->idx;
}

static int query__cmp(const void *x, const void *y, void *arg)
{
    const struct query_ranked *a = x, *b = y;
    bool maximize = *(const bool *)arg;
    if (query_better(a, b, maximize))
        return -1;
    if (query_better(b, a, maximize))
        return 1;
    return 0;
}

int query_rank(struct query_rows *q, int m, bool maximize, int min_seeds, struct query_ranked **out,
               size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (q->n_groups == 0)
        return 0;
    struct query_ranked *r = calloc(q->n_groups, sizeof *r);
    if (!r)
        return MLP_ENOMEM;
    size_t k = 0;
    for (size_t g = 0; g < q->n_groups; g++) {
        struct query_ranked x = {.idx = q->gidx[g], .group = (long)g};
        query_stat(q, (long)g, m, &x.s);
        if (x.s.n + x.s.n_nonfinite < min_seeds)
            continue;
        x.tier = query__tier(&x.s);
        r[k++] = x;
    }
    qsort_r(r, k, sizeof *r, query__cmp, &maximize);
    *out = r;
    *n_out = k;
    return 0;
}

void query_ranked_from_moments(int64_t idx, int64_t rows, int64_t n, double mean, double sumsq,
                               struct query_ranked *out)
{
    memset(out, 0, sizeof *out);
    out->idx = idx;
    out->group = -1;
    stats_from_moments((int)n, mean, sumsq, (int)(rows - n), 0, &out->s);
    out->tier = query__tier(&out->s);
}

bool query_compare(const struct query_ranked *r, size_t n, struct welch *w)
{
    return n >= 2 && r[0].tier == 0 && r[1].tier < 2 && r[0].s.n >= 2 && r[1].s.n >= 2 &&
           stats_welch(&r[0].s, &r[1].s, w) == 0;
}

int query_cmp_run(const int64_t *seed_a, const double *a, size_t na, const int64_t *seed_b,
                  const double *b, size_t nb, struct query_cmp *out)
{
    memset(out, 0, sizeof *out);
    out->diff = out->ci_low = out->ci_high = NAN;
    stats_summarize(a, na, QUERY_LEVEL, &out->a);
    stats_summarize(b, nb, QUERY_LEVEL, &out->b);
    if (out->a.n > 0 && out->b.n > 0)
        out->diff = out->a.mean - out->b.mean;
    if (out->a.n >= 2 && out->b.n >= 2 && stats_welch(&out->a, &out->b, &out->welch) == 0) {
        out->has_welch = true;
        stats_welch_ci(&out->a, &out->b, &out->welch, QUERY_LEVEL, &out->ci_low, &out->ci_high);
    }
    size_t cap = na < nb ? na : nb;
    double *pa = malloc((cap + 1) * sizeof *pa), *pb = malloc((cap + 1) * sizeof *pb);
    out->seeds = malloc((cap + 1) * sizeof *out->seeds);
    if (!pa || !pb || !out->seeds) {
        free(pa);
        free(pb);
        return MLP_ENOMEM;
    }
    /* Seeds are unique within a configuration (one trial per seed). */
    for (size_t i = 0; i < na; i++) {
        if (!isfinite(a[i]))
            continue;
        for (size_t j = 0; j < nb; j++) {
            if (seed_b[j] != seed_a[i])
                continue;
            if (isfinite(b[j]) && out->n_pairs < cap) {
                pa[out->n_pairs] = a[i];
                pb[out->n_pairs] = b[j];
                out->seeds[out->n_pairs++] = seed_a[i];
            }
            break;
        }
    }
    out->has_paired =
        stats_paired(pa, pb, out->n_pairs, QUERY_LEVEL, &out->paired) == 0 && out->n_pairs >= 2;
    free(pa);
    free(pb);
    return 0;
}

void query_cmp_release(struct query_cmp *c)
{
    free(c->seeds);
    c->seeds = NULL;
    c->n_pairs = 0;
}

int query_confusion_add(struct query_confusion *q, int k, const double *m)
{
    if (k < 1 || (q->n > 0 && k != q->k))
        return MLP_EINVALID_REQUEST;
    size_t kk = (size_t)k * (size_t)k;
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 8;
        double *c = realloc(q->counts, cap * kk * sizeof *c);
        if (!c)
            return MLP_ENOMEM;
        q->counts = c;
        double *t = realloc(q->tmp, cap * sizeof *t);
        if (!t)
            return MLP_ENOMEM;
        q->tmp = t;
        q->cap = cap;
    }
    q->k = k;
    memcpy(q->counts + q->n * kk, m, kk * sizeof *m);
    q->n++;
    return 0;
}

void query_confusion_release(struct query_confusion *q)
{
    free(q->counts);
    free(q->tmp);
    memset(q, 0, sizeof *q);
}

/* Cell (t, p) of every matrix into tmp, as counts or rates; the number of values. */
static size_t confusion_cells(struct query_confusion *q, int t, int p, bool rate)
{
    size_t k = (size_t)q->k, n = 0;
    if (t < 0 || p < 0 || t >= q->k || p >= q->k)
        return 0;
    for (size_t i = 0; i < q->n; i++) {
        const double *row = q->counts + i * k * k + (size_t)t * k;
        if (!rate) {
            q->tmp[n++] = row[p];
            continue;
        }
        double total = 0;
        for (size_t j = 0; j < k; j++)
            total += row[j];
        if (total > 0)
            q->tmp[n++] = row[p] / total;
    }
    return n;
}

void query_confusion_count(struct query_confusion *q, int t, int p, struct stat_summary *s)
{
    stats_summarize(q->tmp, confusion_cells(q, t, p, false), QUERY_LEVEL, s);
}

void query_confusion_rate(struct query_confusion *q, int t, int p, struct stat_summary *s)
{
    stats_summarize(q->tmp, confusion_cells(q, t, p, true), QUERY_LEVEL, s);
    /* A rate is an accuracy: the one clipping rule, to [0, 1]. */
    query_clip(MLP_M_TEST_ACCURACY, s);
}
