/*
 * mlp-gradcheck — check a spec's network's gradients by central differences
 * (what `mlp-worker --gradcheck` runs; SPEC.md "Gradient check").
 *
 * Built against the double-precision core (-DMLP_DOUBLE).  The network of the
 * spec's params (layers, activation, output of the dataset's task, batch norm,
 * dropout, L1/L2) is initialised from the spec's seed as a trial would be, and
 * the gradient of f = mean data loss of a small batch (the first GC_ROWS
 * prepared training rows) + the L1/L2 penalty from mlp_backward() is compared
 * with (f(θ+h) − f(θ−h))/2h, h = GC_STEP, entry by entry.  Per layer and
 * parameter kind (W, b, gamma, beta) every entry is checked up to GC_SAMPLE
 * of them, beyond that a fixed random sample of GC_SAMPLE (from the seed).
 * Error of an entry: |a − n| / max(|a|, |n|, 1e-6).  Dropout is held fixed (the
 * dropout stream is restored before every evaluation of f) and batch norm runs
 * in training mode (f depends on θ through the batch statistics too).
 *
 * A kink of relu/leaky_relu (or of |w| under L1) within h of the point can
 * give a large error on one entry although the code is right; the output
 * names the entry, so it can be told apart from a wrong gradient.  A gradient
 * that is 0 in exact arithmetic (beta of a batch-norm layer whose output is
 * batch-normalised again through a linear activation) shows the difference
 * quotient's noise, up to ~1e-5 against the 1e-6 floor: under the tolerance.
 *
 * Then the update training applies is checked (check_steps below): the
 * gradient being right is not enough when plain SGD updates the weights inside
 * the backward pass and small batches run their own loops.
 *
 * Output: one JSON line per (layer, kind), one per (update path, batch size)
 * and a summary line; --human two tables.
 * Exit 0 when every error is below GC_TOLERANCE, 1 otherwise or on a runtime
 * failure, 2 usage, 4 invalid spec or dataset.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <cJSON.h>

#include "data.h"
#include "json.h"
#include "mlp.h"
#include "optim.h"
#include "rng.h"
#include "spec.h"
#include "train.h"

#define GC_ROWS 8 /* on the GEMM path (> MLP_SMALL_BATCH) */
#define GC_STEP 1e-5
#define GC_SAMPLE 64
#define GC_TOLERANCE 1e-4

struct gc_kind {
    int layer;         /* 1-based */
    const char *param; /* "W", "b", "gamma", "beta" */
    size_t off, count; /* entries in the parameter block */
};

struct gc_ctx {
    struct mlp *m;
    const mlp_real *x;
    const float *y;
    int B;
    struct rng drop; /* restored before every evaluation */
};

static double loss_at(struct gc_ctx *c)
{
    struct mlp_stats st = {0, 0, 0};
    struct rng d = c->drop;
    return mlp_forward(c->m, c->x, c->y, c->B, MLP_TRAIN, &d, &st) + mlp_penalty(c->m);
}

/* Worst relative error over (a sample of) one parameter kind; its entry in *worst_i. */
static double check_kind(struct gc_ctx *c, const struct gc_kind *k, const double *ga,
                         struct rng *pick, size_t *checked, size_t *worst_i)
{
    mlp_real *w = mlp_params(c->m);
    size_t n = k->count < GC_SAMPLE ? k->count : GC_SAMPLE;
    double worst = 0;
    *worst_i = 0;
    for (size_t s = 0; s < n; s++) {
        size_t i = k->count <= GC_SAMPLE ? s : (size_t)rng_below(pick, k->count);
        size_t at = k->off + i;
        mlp_real keep = w[at];
        w[at] = keep + GC_STEP;
        double fp = loss_at(c);
        w[at] = keep - GC_STEP;
        double fm = loss_at(c);
        w[at] = keep;
        double gn = (fp - fm) / (2 * GC_STEP);
        double den = fmax(fmax(fabs(ga[at]), fabs(gn)), 1e-6);
        double rel = fabs(ga[at] - gn) / den;
        if (!(rel <= worst)) { /* NaN counts as worst */
            worst = rel;
            *worst_i = i;
        }
    }
    *checked = n;
    return worst;
}

/* ---- the update training applies --------------------------------------------
 *
 * For each update path of the trainer (plain SGD fused into the backward
 * pass, and mlp_backward + optim_step for sgd, momentum and adam) and each
 * batch kernel (1 row: the small forward, dX and weight-gradient loops; 3
 * rows: small forward and dX, GEMM weight gradient; GC_ROWS rows: GEMMs), a
 * fresh network of the spec takes GC_STEPS real steps with train_step(), the
 * function train_run() steps with.  Before each step the gradient of the
 * regularised loss f (as above, with the mask that step will draw) is
 * estimated by central differences at the sampled entries, and the expected
 * change of each entry is computed from it with the documented rule
 * (optim.h): sgd −lr·g; momentum v ← μv − lr·g, Δ = v; adam from its two
 * moments with bias correction.  Error of an entry: |Δ − Δ̂| / max(|Δ|, |Δ̂|,
 * lr·1e-6) (for sgd the gradient's relative error).  Adam's step hardly
 * depends on |g| (Δ ≈ −lr·sign g at first), so adam entries whose estimated
 * gradient is under GC_ADAM_MIN on a step are not compared (their quotient's
 * rounding dominates).  Gradient noise is left out (it is random by design). */

static int list_kinds(struct mlp *m, struct gc_kind *k);

#define GC_STEPS 2
#define GC_ADAM_MIN 1e-6

struct gc_path {
    const char *optimizer; /* as in the grid */
    const char *update;    /* "fused" (mlp_backward_sgd) or "optim_step" */
    enum hp_optimizer kind;
    bool fused;
};

static const struct gc_path gc_paths[] = {
    {"sgd", "fused", HP_SGD, true},
    {"sgd", "optim_step", HP_SGD, false},
    {"momentum", "optim_step", HP_MOMENTUM, false},
    {"adam", "optim_step", HP_ADAM, false},
};

/* Expected changes of n entries from their gradients g (one step), with the
 * optimiser state s1, s2 (zeroed at the start) and step number t (1-based). */
static void expected_step(const struct gc_path *p, double lr, double mu, int t, const double *g,
                          double *s1, double *s2, double *delta, size_t n)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8; /* optim.h */
    for (size_t k = 0; k < n; k++) {
        switch (p->kind) {
        case HP_SGD:
            delta[k] = -lr * g[k];
            break;
        case HP_MOMENTUM:
            s1[k] = mu * s1[k] - lr * g[k];
            delta[k] = s1[k];
            break;
        case HP_ADAM:
            s1[k] = b1 * s1[k] + (1 - b1) * g[k];
            s2[k] = b2 * s2[k] + (1 - b2) * g[k] * g[k];
            delta[k] = -lr * (s1[k] / (1 - pow(b1, t))) / (sqrt(s2[k] / (1 - pow(b2, t))) + eps);
            break;
        }
    }
}

/* GC_STEPS real steps of path p on B rows; the worst error, its entry in *worst_i. */
static double check_step(const struct trial_spec *sp, const struct data_prepared *prep,
                         const struct gc_path *p, int B, size_t *checked, size_t *worst_i,
                         struct err *e)
{
    const struct hparams *hp = &sp->hp;
    const int d = prep->train.d;
    struct mlp_config mc = {
        .n_in = d,
        .n_hidden = hp->n_hidden,
        .hidden = hp->hidden,
        .n_classes = prep->n_classes,
        .activation = hp->activation,
        .dropout = hp->dropout,
        .batch_norm = hp->batch_norm,
        .l1 = hp->l1,
        .l2 = hp->l2,
        .max_batch = B,
    };
    struct mlp *m = mlp_new(&mc, e);
    struct optim *opt = m ? optim_new(p->kind, mlp_n_params(m), hp->lr, hp->momentum, e) : NULL;
    mlp_real *x = malloc((size_t)B * d * sizeof *x);
    struct gc_kind kinds[2 * (HP_MAX_LAYERS + 1) + 1];
    size_t *at = NULL, n = 0;
    double *g = NULL, *s1 = NULL, *s2 = NULL, *want = NULL, *before = NULL, worst = -1;
    bool *skip = NULL;
    if (!m || !opt || !x)
        goto out;
    for (size_t i = 0; i < (size_t)B * d; i++)
        x[i] = prep->train.x[i];
    struct rng r, pick;
    rng_seed(&r, (uint64_t)sp->seed, RNG_INIT);
    mlp_init_params(m, hp->init, hp->init_scale, &r);
    rng_seed(&pick, (uint64_t)sp->seed, RNG_SHUFFLE);
    int nk = list_kinds(m, kinds);
    size_t cap = (size_t)nk * GC_SAMPLE;
    at = malloc(cap * sizeof *at);
    g = malloc(cap * sizeof *g);
    s1 = calloc(cap, sizeof *s1);
    s2 = calloc(cap, sizeof *s2);
    want = malloc(cap * sizeof *want);
    before = malloc(cap * sizeof *before);
    skip = calloc(cap, sizeof *skip);
    if (!at || !g || !s1 || !s2 || !want || !before || !skip)
        goto out;
    for (int k = 0; k < nk; k++) {
        size_t cnt = kinds[k].count < GC_SAMPLE ? kinds[k].count : GC_SAMPLE;
        for (size_t s = 0; s < cnt; s++)
            at[n++] = kinds[k].off + (kinds[k].count <= GC_SAMPLE
                                          ? s
                                          : (size_t)rng_below(&pick, kinds[k].count));
    }
    struct gc_ctx c = {.m = m, .x = x, .y = prep->train.y, .B = B};
    rng_seed(&c.drop, (uint64_t)sp->seed, RNG_DROPOUT);
    mlp_real *w = mlp_params(m);
    worst = 0;
    *worst_i = 0;
    for (int t = 1; t <= GC_STEPS; t++) {
        /* The gradient at the current point, with the mask this step draws. */
        for (size_t k = 0; k < n; k++) {
            mlp_real keep = w[at[k]];
            w[at[k]] = keep + GC_STEP;
            double fp = loss_at(&c);
            w[at[k]] = keep - GC_STEP;
            double fm = loss_at(&c);
            w[at[k]] = keep;
            g[k] = (fp - fm) / (2 * GC_STEP);
            before[k] = keep;
            if (p->kind == HP_ADAM && fabs(g[k]) < GC_ADAM_MIN)
                skip[k] = true;
        }
        expected_step(p, hp->lr, hp->momentum, t, g, s1, s2, want, n);
        double loss = train_step(m, opt, p->fused, x, c.y, B, hp->lr, 0, &c.drop, NULL);
        if (!isfinite(loss)) {
            worst = INFINITY;
            break;
        }
        for (size_t k = 0; k < n; k++) {
            if (skip[k])
                continue;
            double got = (double)w[at[k]] - before[k];
            double den = fmax(fmax(fabs(got), fabs(want[k])), hp->lr * 1e-6);
            double rel = fabs(got - want[k]) / den;
            if (!(rel <= worst)) {
                worst = rel;
                *worst_i = at[k];
            }
        }
    }
    *checked = 0;
    for (size_t k = 0; k < n; k++)
        *checked += !skip[k];
out:
    if (worst < 0 && e->code == 0)
        err_set(e, MLP_ENOMEM, NULL, "out of memory checking the training step");
    free(skip);
    free(before);
    free(want);
    free(s2);
    free(s1);
    free(g);
    free(at);
    free(x);
    optim_free(opt);
    mlp_free(m);
    return worst;
}

/* Every update path on every batch kernel; prints a line each.  Returns the
 * worst error, or a negative code with *e filled. */
static double check_steps(const struct trial_spec *sp, const struct data_prepared *prep, bool human,
                          struct err *e)
{
    const int rows[] = {1, 3, GC_ROWS};
    double worst_all = 0;
    if (human)
        printf("\n%-9s  %-10s  %4s  %7s  %14s  %s\n", "optimizer", "update", "rows", "checked",
               "worst rel err", "at entry");
    for (size_t pi = 0; pi < sizeof gc_paths / sizeof gc_paths[0]; pi++)
        for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
            const int B = rows[ri];
            if (B > prep->train.n)
                continue;
            size_t checked = 0, wi = 0;
            double worst = check_step(sp, prep, &gc_paths[pi], B, &checked, &wi, e);
            if (worst < 0)
                return e->code < 0 ? (double)e->code : (double)MLP_ENOMEM;
            if (!(worst <= worst_all))
                worst_all = worst;
            const bool ok = worst < GC_TOLERANCE;
            if (human) {
                printf("%-9s  %-10s  %4d  %7zu  %14.3e  %zu%s\n", gc_paths[pi].optimizer,
                       gc_paths[pi].update, B, checked, worst, wi, ok ? "" : "  FAIL");
            } else {
                char num[64];
                json_print_double(num, sizeof num, worst);
                printf("{\"event\":\"gradcheck_step\",\"optimizer\":\"%s\",\"update\":\"%s\","
                       "\"rows\":%d,\"steps\":%d,\"checked\":%zu,\"worst_rel_error\":%s,"
                       "\"worst_entry\":%zu,\"ok\":%s}\n",
                       gc_paths[pi].optimizer, gc_paths[pi].update, B, GC_STEPS, checked,
                       isfinite(worst) ? num : "null", wi, ok ? "true" : "false");
            }
        }
    return worst_all;
}

/* The (layer, kind) list of m; returns how many. */
static int list_kinds(struct mlp *m, struct gc_kind *k)
{
    int n = 0;
    for (int l = 0; l < mlp_n_layers(m); l++) {
        struct mlp_layer_info li;
        mlp_layer_info(m, l, &li);
        k[n++] = (struct gc_kind){l + 1, "W", li.w, (size_t)li.in * li.out};
        if (li.bn) {
            k[n++] = (struct gc_kind){l + 1, "gamma", li.gamma, (size_t)li.out};
            k[n++] = (struct gc_kind){l + 1, "beta", li.beta, (size_t)li.out};
        } else {
            k[n++] = (struct gc_kind){l + 1, "b", li.b, (size_t)li.out};
        }
    }
    return n;
}

static int report_error(bool human, const struct err *e)
{
    const char *msg = e->msg[0] ? e->msg : err_default_msg(e->code);
    fprintf(stderr, "mlp-worker --gradcheck: %s%s%s\n", e->path, e->path[0] ? ": " : "", msg);
    if (!human) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "event", "error");
        cJSON_AddStringToObject(j, "code", err_name(e->code));
        cJSON_AddStringToObject(j, "message", msg);
        if (e->path[0])
            cJSON_AddStringToObject(j, "path", e->path);
        char *line = json_line(j);
        printf("%s\n", line ? line : "{\"event\":\"error\"}");
        free(line);
        cJSON_Delete(j);
    }
    return e->code == MLP_EINVALID_SPEC || e->code == MLP_EINVALID_DATASET ? 4 : 1;
}

/* Build the spec's network for B rows and check it; prints as it goes. */
static int run_check(const struct trial_spec *sp, const struct data_prepared *prep, bool human,
                     struct err *e)
{
    const struct hparams *hp = &sp->hp;
    const int B = prep->train.n < GC_ROWS ? (int)prep->train.n : GC_ROWS, d = prep->train.d;
    struct mlp_config mc = {
        .n_in = d,
        .n_hidden = hp->n_hidden,
        .hidden = hp->hidden,
        .n_classes = prep->n_classes,
        .activation = hp->activation,
        .dropout = hp->dropout,
        .batch_norm = hp->batch_norm,
        .l1 = hp->l1,
        .l2 = hp->l2,
        .max_batch = B,
    };
    struct mlp *m = mlp_new(&mc, e);
    mlp_real *x = malloc((size_t)B * d * sizeof *x);
    double *ga = NULL;
    int rc = 1;
    if (!m || !x)
        goto fail;
    for (size_t i = 0; i < (size_t)B * d; i++)
        x[i] = prep->train.x[i];
    struct rng r;
    rng_seed(&r, (uint64_t)sp->seed, RNG_INIT);
    mlp_init_params(m, hp->init, hp->init_scale, &r);
    struct gc_ctx c = {.m = m, .x = x, .y = prep->train.y, .B = B};
    rng_seed(&c.drop, (uint64_t)sp->seed, RNG_DROPOUT);
    const size_t np = mlp_n_params(m);
    ga = malloc(np * sizeof *ga);
    if (!ga)
        goto fail;
    struct rng d0 = c.drop;
    struct mlp_stats st = {0, 0, 0};
    mlp_forward(m, x, c.y, B, MLP_TRAIN, &d0, &st);
    mlp_backward(m, x, B);
    for (size_t i = 0; i < np; i++)
        ga[i] = mlp_grads(m)[i];

    struct gc_kind kinds[2 * (HP_MAX_LAYERS + 1) + 1];
    int nk = list_kinds(m, kinds);
    struct rng pick;
    rng_seed(&pick, (uint64_t)sp->seed, RNG_SHUFFLE);
    double worst_all = 0;
    if (human)
        printf("%5s  %-5s  %9s  %7s  %14s  %s\n", "layer", "param", "entries", "checked",
               "worst rel err", "at entry");
    for (int k = 0; k < nk; k++) {
        size_t checked, wi;
        double worst = check_kind(&c, &kinds[k], ga, &pick, &checked, &wi);
        if (!(worst <= worst_all))
            worst_all = worst;
        if (human) {
            printf("%5d  %-5s  %9zu  %7zu  %14.3e  %zu%s\n", kinds[k].layer, kinds[k].param,
                   kinds[k].count, checked, worst, wi, worst < GC_TOLERANCE ? "" : "  FAIL");
        } else {
            char num[64];
            json_print_double(num, sizeof num, worst);
            printf("{\"event\":\"gradcheck\",\"layer\":%d,\"param\":\"%s\",\"entries\":%zu,"
                   "\"checked\":%zu,\"worst_rel_error\":%s,\"worst_entry\":%zu,\"ok\":%s}\n",
                   kinds[k].layer, kinds[k].param, kinds[k].count, checked,
                   isfinite(worst) ? num : "null", wi, worst < GC_TOLERANCE ? "true" : "false");
        }
    }
    fflush(stdout);
    double worst_step = check_steps(sp, prep, human, e);
    if (worst_step < 0) {
        rc = (int)worst_step;
        goto out;
    }
    bool ok = worst_all < GC_TOLERANCE && worst_step < GC_TOLERANCE;
    if (human) {
        printf("%d rows, step %g, tolerance %g: %s (worst %.3e; training steps %.3e)\n", B,
               GC_STEP, GC_TOLERANCE, ok ? "ok" : "FAILED", worst_all, worst_step);
    } else {
        char num[64], snum[64];
        json_print_double(num, sizeof num, worst_all);
        json_print_double(snum, sizeof snum, worst_step);
        printf("{\"event\":\"gradcheck_result\",\"rows\":%d,\"step\":%g,\"tolerance\":%g,"
               "\"worst_rel_error\":%s,\"worst_step_rel_error\":%s,\"ok\":%s}\n",
               B, GC_STEP, GC_TOLERANCE, isfinite(worst_all) ? num : "null",
               isfinite(worst_step) ? snum : "null", ok ? "true" : "false");
    }
    fflush(stdout);
    rc = ok ? 0 : 1;
    goto out;
fail:
    if (e->code == 0)
        err_set(e, MLP_ENOMEM, NULL, "out of memory building the network");
    rc = e->code;
out:
    free(ga);
    free(x);
    mlp_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    const char *spec_path = NULL;
    bool human = false;
    static struct trial_spec sp;
    struct err e = ERR_INIT;
    struct dataset *ds = NULL;
    struct data_prepared prep;
    bool prepared = false;
    int status;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--human") == 0) {
            human = true;
        } else if (strcmp(argv[i], "--gradcheck") == 0) {
            /* how mlp-worker passes us on */
        } else if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc) {
            spec_path = argv[++i];
        } else if (strncmp(argv[i], "--spec=", 7) == 0) {
            spec_path = argv[i] + 7;
        } else {
            fprintf(stderr, "usage: mlp-worker --gradcheck [--spec FILE] [--human]\n");
            return 2;
        }
    }
    if (!getenv("OPENBLAS_NUM_THREADS") && !getenv("OMP_NUM_THREADS"))
        openblas_set_num_threads(1);
    if (spec_read(&sp, spec_path, &e) < 0 || !(ds = spec_load_data(&sp, &e)) ||
        data_prepare(ds, &sp.hp, &prep, &e) < 0) {
        status = report_error(human, &e);
        goto out;
    }
    prepared = true;
    status = run_check(&sp, &prep, human, &e);
    if (status < 0)
        status = report_error(human, &e);
out:
    if (prepared)
        data_prepared_release(&prep);
    if (ds)
        data_free(ds);
    return status;
}
