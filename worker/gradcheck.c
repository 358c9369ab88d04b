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
 * Output: one JSON line per (layer, kind) and a summary line; --human a table.
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
#include "rng.h"
#include "spec.h"

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
static int run_check(const struct spec *sp, const struct data_prepared *prep, bool human,
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
    bool ok = worst_all < GC_TOLERANCE;
    if (human) {
        printf("%d rows, step %g, tolerance %g: %s (worst %.3e)\n", B, GC_STEP, GC_TOLERANCE,
               ok ? "ok" : "FAILED", worst_all);
    } else {
        char num[64];
        json_print_double(num, sizeof num, worst_all);
        printf("{\"event\":\"gradcheck_result\",\"rows\":%d,\"step\":%g,\"tolerance\":%g,"
               "\"worst_rel_error\":%s,\"ok\":%s}\n",
               B, GC_STEP, GC_TOLERANCE, isfinite(worst_all) ? num : "null", ok ? "true" : "false");
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
    static struct spec sp;
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
