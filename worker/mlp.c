/*
 * mlp — forward and backward passes of a dense network over whole mini-batches.
 *
 * Layout: layer l maps in_l → out_l with W_l[in×out] (row-major) and b_l[out].
 * Activations are kept per layer in h_l[B×out] (after activation and dropout);
 * the GEMM writes Z straight into h_l and one pass per row turns it into the
 * activation in place.  Backward needs only h_l: every activation's derivative
 * is a function of its output a (relu: a > 0; tanh: 1 − a²; elu: a + 1 below 0;
 * ...), and with dropout a = h/keep_scale wherever the mask is non-zero (where
 * it is zero the gradient is zero anyway).  Batch-norm layers also keep x̂[B×out]
 * and 1/σ per feature.  dL/dZ of the output layer is written over its logits by
 * the fused loss pass; two scratch buffers carry dL/dH down the hidden layers.
 *
 * Memory: one aligned block holds parameters, gradients, running statistics and
 * every activation and scratch buffer (one allocation, one free).
 *
 * Speed (bench/RESULTS.md): the GEMMs are the floor, so the passes around them
 * are kept few — bias + activation in one pass, activation derivative + bias
 * gradient in one pass, softmax + loss + dL/dZ in one pass; with plain SGD the
 * weight update rides on the gradient GEMM (mlp_backward_sgd: beta = 1 into W),
 * so no weight gradient is stored and no update pass runs; one-row calls
 * (online SGD) skip BLAS for direct loops.  The hot loops are cloned per ISA
 * (MLP_KERNEL).
 */
#include "mlp.h"

#include <assert.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#ifdef MLP_DOUBLE
#define R_EXP exp
#define R_EXPM1 expm1
#define R_LOG log
#define R_LOG1P log1p
#define R_TANH tanh
#define R_SQRT sqrt
#define R_FABS fabs
#else
#define R_EXP expf
#define R_EXPM1 expm1f
#define R_LOG logf
#define R_LOG1P log1pf
#define R_TANH tanhf
#define R_SQRT sqrtf
#define R_FABS fabsf
#endif

#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1
#define LEAKY_SLOPE ((mlp_real)0.01)
#define SELU_LAMBDA ((mlp_real)1.0507009873554804934193349852946)
#define SELU_ALPHA ((mlp_real)1.6732632423543772848170429916717)
#define ALIGN 64

struct layer {
    int in, out;        /* shape of W */
    size_t w, b;        /* offsets of W and b in params/grads (b unused with bn) */
    bool bn;            /* batch-normalised hidden layer */
    size_t gamma, beta; /* bn: offsets of gamma and beta in params/grads */
    size_t rmean, rvar; /* bn: offsets of the running statistics in params */
    mlp_real *h;        /* B×out: activations (output layer: logits, then dL/dZ) */
    mlp_real *mask;     /* B×out dropout multipliers (0 or 1/(1-p)); NULL without dropout */
    mlp_real *xhat;     /* bn: B×out normalised pre-activations of the last training forward */
    mlp_real *istd;     /* bn: 1/sqrt(var + eps) per feature of the last training forward */
    mlp_real *sc, *sh;  /* bn: per-feature scale and shift scratch */
};

struct mlp {
    int n_layers; /* hidden layers + the output layer */
    struct layer L[HP_MAX_LAYERS + 1];
    enum hp_activation act;
    enum { OUT_SOFTMAX, OUT_SIGMOID, OUT_LINEAR } out;
    mlp_real p_drop, keep_scale; /* dropout probability and 1/(1-p) */
    mlp_real l1, l2;
    int max_batch;
    size_t n_params, n_state;
    mlp_real *params;  /* n_state values */
    mlp_real *grads;   /* n_params values */
    mlp_real *d1, *d2; /* B×max hidden width: dL/dH scratch */
    mlp_real *t;       /* max layer width: small_wgrad scratch */
    void *mem;         /* the one allocation (ALIGN-aligned, inside mem_raw) */
    void *mem_raw;     /* what calloc returned */
};

/* ---- the BLAS seam ---------------------------------------------------------- */

/* C[M×N] = alpha·op(A)·op(B) + beta·C, row-major; the only place that calls BLAS. */
static void mlp_gemm(bool ta, bool tb, int M, int N, int K, mlp_real alpha, const mlp_real *A,
                     int lda, const mlp_real *Bm, int ldb, mlp_real beta, mlp_real *C, int ldc)
{
#ifdef MLP_DOUBLE
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda, Bm, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda, Bm, ldb, beta, C, ldc);
#endif
}

/*
 * Small-batch products (a few rows: see MLP_SMALL_BATCH and MLP_SMALL_WGRAD in
 * mlp.h for the thresholds and the measurements behind them).  sgemm's fixed
 * cost per call (packing both operands, blocking set-up) dominates at one or
 * two rows: these direct loops, which stream each row of W once per call and
 * reuse it from L1 for the B rows, are up to 5x faster there.  KERNEL clones them for
 * AVX-512, AVX2+FMA and baseline x86-64.  Their sums run in a different order
 * than sgemm's, so such a trial's numbers differ from a GEMM core's in the last
 * bits (deterministically: the same binary on the same CPU gives the same bits).
 */
#define SMALL_B MLP_SMALL_BATCH
#define SMALL_WGRAD MLP_SMALL_WGRAD
#define KERNEL MLP_KERNEL

/* Z[B×out] = X[B×in] · W[in×out]: four rows of W per sweep over each row of Z. */
KERNEL static void small_fwd(int B, const mlp_real *restrict X, int in, const mlp_real *restrict W,
                             int out, mlp_real *restrict Z)
{
    const size_t n = (size_t)out;
    for (size_t k = 0; k < (size_t)B * n; k++)
        Z[k] = 0;
    int i = 0;
    for (; i + 4 <= in; i += 4) {
        const mlp_real *restrict w0 = W + (size_t)i * n, *restrict w1 = w0 + n;
        const mlp_real *restrict w2 = w1 + n, *restrict w3 = w2 + n;
        for (int b = 0; b < B; b++) {
            const mlp_real *x = X + (size_t)b * in + i;
            const mlp_real a0 = x[0], a1 = x[1], a2 = x[2], a3 = x[3];
            mlp_real *restrict z = Z + (size_t)b * n;
            for (size_t j = 0; j < n; j++)
                z[j] += a0 * w0[j] + a1 * w1[j] + a2 * w2[j] + a3 * w3[j];
        }
    }
    for (; i < in; i++) {
        const mlp_real *restrict w0 = W + (size_t)i * n;
        for (int b = 0; b < B; b++) {
            const mlp_real a0 = X[(size_t)b * in + i];
            mlp_real *restrict z = Z + (size_t)b * n;
            for (size_t j = 0; j < n; j++)
                z[j] += a0 * w0[j];
        }
    }
}

/*
 * Weight gradient Xᵀ·D of B rows (X[B×in], D[B×out]), row i = Σ_b x_b[i]·d_b:
 * into G (a == 0: G ← Xᵀ·D) or added to it scaled (a != 0: G ← G + a·Xᵀ·D, the
 * fused SGD step with a = −lr); t[out] is scratch.  One row with a == 0 is
 * bit-identical to the GEMM (a single product per entry).
 */
KERNEL static void small_wgrad(int B, const mlp_real *restrict X, int in,
                               const mlp_real *restrict D, int out, mlp_real a,
                               mlp_real *restrict G, mlp_real *restrict t)
{
    const size_t n = (size_t)out;
    if (B == 1 && a != 0) {
        /* one row, one pass: G += (a·x_i)·d */
        for (int i = 0; i < in; i++) {
            mlp_real *restrict g = G + (size_t)i * n;
            const mlp_real ax = a * X[i];
            for (size_t j = 0; j < n; j++)
                g[j] += ax * D[j];
        }
        return;
    }
    for (int i = 0; i < in; i++) {
        mlp_real *restrict g = G + (size_t)i * n;
        mlp_real *restrict acc = a != 0 ? t : g;
        const mlp_real x0 = X[i];
        for (size_t j = 0; j < n; j++)
            acc[j] = x0 * D[j];
        for (int b = 1; b < B; b++) {
            const mlp_real xb = X[(size_t)b * in + i];
            const mlp_real *restrict d = D + (size_t)b * n;
            for (size_t j = 0; j < n; j++)
                acc[j] += xb * d[j];
        }
        if (a != 0)
            for (size_t j = 0; j < n; j++)
                g[j] += a * acc[j];
    }
}

/* DX[B×in] = D[B×out] · Wᵀ: a dot product per (row of W, row of D), 16 partial sums each. */
KERNEL static void small_dx(int B, const mlp_real *restrict D, int out, const mlp_real *restrict W,
                            int in, mlp_real *restrict DX)
{
    const size_t n = (size_t)out;
    for (int i = 0; i < in; i++) {
        const mlp_real *restrict r = W + (size_t)i * n;
        for (int b = 0; b < B; b++) {
            const mlp_real *restrict d = D + (size_t)b * n;
            mlp_real acc[16] = {0};
            size_t j = 0;
            for (; j + 16 <= n; j += 16)
                for (int k = 0; k < 16; k++)
                    acc[k] += r[j + k] * d[j + k];
            mlp_real s = 0;
            for (; j < n; j++)
                s += r[j] * d[j];
            for (int k = 0; k < 16; k++)
                s += acc[k];
            DX[(size_t)b * in + i] = s;
        }
    }
}

/* ---- construction ------------------------------------------------------------ */

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) / ALIGN * ALIGN;
}

struct mlp *mlp_new(const struct mlp_config *c, struct err *e)
{
    if (c->n_in < 1 || c->n_hidden < 0 || c->n_hidden > HP_MAX_LAYERS || c->max_batch < 1 ||
        c->n_classes < 0 || c->n_classes == 1 || c->dropout < 0 || c->dropout >= 1) {
        err_set(e, MLP_EINVALID_SPEC, NULL, "impossible network shape");
        return NULL;
    }
    struct mlp *m = calloc(1, sizeof *m);
    if (!m)
        goto nomem;
    m->n_layers = c->n_hidden + 1;
    m->act = c->activation;
    m->out = c->n_classes == 0 ? OUT_LINEAR : c->n_classes == 2 ? OUT_SIGMOID : OUT_SOFTMAX;
    m->p_drop = (mlp_real)c->dropout;
    m->keep_scale = (mlp_real)(1.0 / (1.0 - c->dropout));
    m->l1 = (mlp_real)c->l1;
    m->l2 = (mlp_real)c->l2;
    m->max_batch = c->max_batch;

    /* Parameter offsets: trainable ones first, running statistics after. */
    size_t off = 0;
    int maxw = 1, maxo = 1;
    for (int l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->L[l];
        bool hidden = l < c->n_hidden;
        L->in = l == 0 ? c->n_in : c->hidden[l - 1];
        L->out = hidden ? c->hidden[l] : (m->out == OUT_SOFTMAX ? c->n_classes : 1);
        if (L->out < 1) {
            free(m);
            err_set(e, MLP_EINVALID_SPEC, NULL, "layer width must be >= 1");
            return NULL;
        }
        L->bn = hidden && c->batch_norm;
        L->w = off;
        off += (size_t)L->in * L->out;
        if (L->bn) {
            L->gamma = off;
            off += L->out;
            L->beta = off;
            off += L->out;
        } else {
            L->b = off;
            off += L->out;
        }
        if (hidden && L->out > maxw)
            maxw = L->out;
        if (L->out > maxo)
            maxo = L->out;
    }
    m->n_params = off;
    for (int l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->L[l];
        if (L->bn) {
            L->rmean = off;
            off += L->out;
            L->rvar = off;
            off += L->out;
        }
    }
    m->n_state = off;

    /* Sizes of every buffer, carved from one block. */
    size_t B = (size_t)c->max_batch, R = sizeof(mlp_real);
    size_t total = round_up(m->n_state * R) + round_up(m->n_params * R) +
                   2 * round_up(B * maxw * R) + round_up((size_t)maxo * R);
    for (int l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->L[l];
        bool hidden = l < c->n_hidden;
        total += round_up(B * L->out * R);
        if (hidden && c->dropout > 0)
            total += round_up(B * L->out * R);
        if (L->bn)
            total += round_up(B * L->out * R) + 3 * round_up(L->out * R);
    }
    /* calloc, not aligned_alloc + memset: a block this size is a fresh
     * mapping that is already zero, so only the pages a trial uses are ever
     * touched (plain SGD never writes the gradient block), which keeps the
     * start of a trial and its private memory small. */
    m->mem_raw = calloc(1, total + ALIGN);
    if (!m->mem_raw)
        goto nomem;
    m->mem = (void *)(((uintptr_t)m->mem_raw + ALIGN - 1) / ALIGN * ALIGN);
    char *p = m->mem;
#define CARVE(ptr, count)                                                                          \
    do {                                                                                           \
        (ptr) = (mlp_real *)p;                                                                     \
        p += round_up((count)*R);                                                                  \
    } while (0)
    CARVE(m->params, m->n_state);
    CARVE(m->grads, m->n_params);
    CARVE(m->d1, B * maxw);
    CARVE(m->d2, B * maxw);
    CARVE(m->t, (size_t)maxo);
    for (int l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->L[l];
        bool hidden = l < c->n_hidden;
        CARVE(L->h, B * L->out);
        if (hidden && c->dropout > 0)
            CARVE(L->mask, B * L->out);
        if (L->bn) {
            CARVE(L->xhat, B * L->out);
            CARVE(L->istd, (size_t)L->out);
            CARVE(L->sc, (size_t)L->out);
            CARVE(L->sh, (size_t)L->out);
        }
    }
#undef CARVE
    assert((size_t)(p - (char *)m->mem) == total);
    return m;

nomem:
    if (m)
        free(m);
    err_set(e, MLP_ENOMEM, NULL, "out of memory allocating the network");
    return NULL;
}

void mlp_free(struct mlp *m)
{
    if (!m)
        return;
    free(m->mem_raw);
    free(m);
}

void mlp_init_params(struct mlp *m, enum hp_init init, double init_scale, struct rng *r)
{
    memset(m->params, 0, m->n_state * sizeof(mlp_real));
    for (int l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->L[l];
        double sigma;
        switch (init) {
        case HP_INIT_HE:
            sigma = sqrt(2.0 / L->in);
            break;
        case HP_INIT_XAVIER:
            sigma = sqrt(2.0 / (L->in + L->out));
            break;
        case HP_INIT_GAUSSIAN:
            sigma = init_scale;
            break;
        default:
            sigma = 0;
            break;
        }
        mlp_real *w = m->params + L->w;
        size_t n = (size_t)L->in * L->out;
        if (sigma > 0)
            for (size_t i = 0; i < n; i++)
                w[i] = (mlp_real)(sigma * rng_gauss(r));
        if (L->bn)
            for (int j = 0; j < L->out; j++) {
                m->params[L->gamma + j] = 1;
                m->params[L->rvar + j] = 1;
            }
    }
}

size_t mlp_n_params(const struct mlp *m)
{
    return m->n_params;
}
size_t mlp_n_state(const struct mlp *m)
{
    return m->n_state;
}
mlp_real *mlp_params(struct mlp *m)
{
    return m->params;
}
mlp_real *mlp_grads(struct mlp *m)
{
    return m->grads;
}
int mlp_max_batch(const struct mlp *m)
{
    return m->max_batch;
}
int mlp_n_out(const struct mlp *m)
{
    return m->L[m->n_layers - 1].out;
}

/* ---- element-wise passes ----------------------------------------------------- */

/*
 * h ← act(h·sc + sh) in place over B×n values, sc and sh per feature (either
 * may be NULL: scale 1, shift 0).  One loop per activation and per affine form,
 * with restrict-qualified pointers, so each inner loop is branch-free straight
 * code that the compiler vectorises (relu, leaky_relu; the exp/tanh ones are
 * bounded by libm).
 */
#define ACT_ROWS(ZEXPR, EXPR)                                                                      \
    for (int i = 0; i < B; i++) {                                                                  \
        mlp_real *restrict r = h + (size_t)i * n;                                                  \
        for (int j = 0; j < n; j++) {                                                              \
            mlp_real z = (ZEXPR);                                                                  \
            r[j] = (EXPR);                                                                         \
        }                                                                                          \
    }
#define ACT_LOOP(EXPR)                                                                             \
    do {                                                                                           \
        if (sc && sh) {                                                                            \
            ACT_ROWS(r[j] * sc[j] + sh[j], EXPR)                                                   \
        } else if (sh) {                                                                           \
            ACT_ROWS(r[j] + sh[j], EXPR)                                                           \
        } else {                                                                                   \
            ACT_ROWS(r[j], EXPR)                                                                   \
        }                                                                                          \
    } while (0)

KERNEL static void affine_act(enum hp_activation act, mlp_real *h, int B, int n,
                              const mlp_real *restrict sc, const mlp_real *restrict sh)
{
    switch (act) {
    case HP_RELU:
        ACT_LOOP(z > 0 ? z : 0);
        break;
    case HP_LEAKY_RELU:
        ACT_LOOP(z > 0 ? z : LEAKY_SLOPE * z);
        break;
    case HP_ELU:
        ACT_LOOP(z > 0 ? z : R_EXPM1(z));
        break;
    case HP_SELU:
        ACT_LOOP(SELU_LAMBDA * (z > 0 ? z : SELU_ALPHA * R_EXPM1(z)));
        break;
    case HP_TANH:
        ACT_LOOP(R_TANH(z));
        break;
    case HP_SIGMOID:
        ACT_LOOP(1 / (1 + R_EXP(-z)));
        break;
    case HP_LINEAR:
        ACT_LOOP(z);
        break;
    }
}
#undef ACT_LOOP
#undef ACT_ROWS

/*
 * g ← g·act'(a) over B rows of n, where a = h·inv is the activation's output
 * before dropout; mask (may be NULL) multiplies g first.  With sum non-NULL the
 * same pass also adds each row of the result into sum[n] (the bias gradient),
 * so dL/dZ is read once.
 */
#define DER_ROWS(AEXPR, GEXPR, EXPR)                                                               \
    for (int i = 0; i < B; i++) {                                                                  \
        mlp_real *restrict gr = g + (size_t)i * n;                                                 \
        const mlp_real *restrict hr = h + (size_t)i * n;                                           \
        const mlp_real *restrict mr = mask ? mask + (size_t)i * n : NULL;                          \
        (void)mr;                                                                                  \
        if (sum) {                                                                                 \
            for (int j = 0; j < n; j++) {                                                          \
                mlp_real a = (AEXPR);                                                              \
                mlp_real dv = (EXPR);                                                              \
                mlp_real v = (GEXPR)*dv;                                                           \
                gr[j] = v;                                                                         \
                sum[j] += v;                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            for (int j = 0; j < n; j++) {                                                          \
                mlp_real a = (AEXPR);                                                              \
                mlp_real dv = (EXPR);                                                              \
                gr[j] = (GEXPR)*dv;                                                                \
            }                                                                                      \
        }                                                                                          \
    }
#define DER_LOOP(EXPR)                                                                             \
    do {                                                                                           \
        if (mask) {                                                                                \
            DER_ROWS(hr[j] * inv, gr[j] * mr[j], EXPR)                                             \
        } else {                                                                                   \
            DER_ROWS(hr[j], gr[j], EXPR)                                                           \
        }                                                                                          \
    } while (0)

KERNEL static void act_backward(enum hp_activation act, mlp_real *restrict g,
                                const mlp_real *restrict h, const mlp_real *restrict mask,
                                mlp_real inv, int B, int n, mlp_real *restrict sum)
{
    if (sum)
        memset(sum, 0, (size_t)n * sizeof *sum);
    switch (act) {
    case HP_RELU:
        DER_LOOP(a > 0 ? (mlp_real)1 : (mlp_real)0);
        break;
    case HP_LEAKY_RELU:
        DER_LOOP(a > 0 ? (mlp_real)1 : LEAKY_SLOPE);
        break;
    case HP_ELU:
        DER_LOOP(a > 0 ? (mlp_real)1 : a + 1);
        break;
    case HP_SELU:
        DER_LOOP(a > 0 ? SELU_LAMBDA : a + SELU_LAMBDA * SELU_ALPHA);
        break;
    case HP_TANH:
        DER_LOOP(1 - a * a);
        break;
    case HP_SIGMOID:
        DER_LOOP(a * (1 - a));
        break;
    case HP_LINEAR:
        DER_LOOP(((void)a, (mlp_real)1));
        break;
    }
}
#undef DER_LOOP
#undef DER_ROWS

/* Inverted dropout: keep with probability 1-p, scaled by 1/(1-p) so eval needs no rescale. */
static void dropout_apply(mlp_real *h, mlp_real *mask, size_t n, mlp_real p, mlp_real s,
                          struct rng *r)
{
    const uint32_t thr =
        (uint32_t)((double)p * 4294967296.0 > 4294967295.0 ? 4294967295.0
                                                           : (double)p * 4294967296.0);
    size_t k = 0;
    /* two 32-bit draws from each 64-bit output */
    for (; k + 1 < n; k += 2) {
        uint64_t u = rng_next(r);
        mlp_real m0 = (uint32_t)u >= thr ? s : 0, m1 = (uint32_t)(u >> 32) >= thr ? s : 0;
        mask[k] = m0;
        mask[k + 1] = m1;
        h[k] *= m0;
        h[k + 1] *= m1;
    }
    if (k < n) {
        mlp_real m0 = (uint32_t)rng_next(r) >= thr ? s : 0;
        mask[k] = m0;
        h[k] *= m0;
    }
}

/* Batch statistics of z[B×n] per feature (mean, 1/sqrt(var+eps) into istd);
 * x̂ = (z − mu)·istd into L->xhat and z overwritten by γ·x̂ + β; running
 * statistics updated. */
static void bn_train(struct mlp *m, struct layer *L, mlp_real *z, int B)
{
    mlp_real *restrict mu = L->sc;  /* scratch */
    mlp_real *restrict var = L->sh; /* scratch */
    mlp_real *restrict is = L->istd;
    int n = L->out;
    memset(mu, 0, n * sizeof *mu);
    memset(var, 0, n * sizeof *var);
    for (int i = 0; i < B; i++) {
        const mlp_real *r = z + (size_t)i * n;
        for (int j = 0; j < n; j++)
            mu[j] += r[j];
    }
    mlp_real invB = (mlp_real)1 / B;
    for (int j = 0; j < n; j++)
        mu[j] *= invB;
    for (int i = 0; i < B; i++) {
        const mlp_real *r = z + (size_t)i * n;
        for (int j = 0; j < n; j++) {
            mlp_real d = r[j] - mu[j];
            var[j] += d * d;
        }
    }
    mlp_real *rm = m->params + L->rmean, *rv = m->params + L->rvar;
    /* running variance uses the unbiased estimate (as PyTorch does) */
    mlp_real unb = B > 1 ? (mlp_real)1 / (B - 1) : invB;
    for (int j = 0; j < n; j++) {
        is[j] = (mlp_real)(1 / sqrt((double)(var[j] * invB) + BN_EPS));
        rm[j] = (mlp_real)((1 - BN_MOMENTUM) * rm[j] + BN_MOMENTUM * mu[j]);
        rv[j] = (mlp_real)((1 - BN_MOMENTUM) * rv[j] + BN_MOMENTUM * (var[j] * unb));
    }
    const mlp_real *restrict gamma = m->params + L->gamma, *restrict beta = m->params + L->beta;
    for (int i = 0; i < B; i++) {
        mlp_real *restrict r = z + (size_t)i * n, *restrict xh = L->xhat + (size_t)i * n;
        for (int j = 0; j < n; j++) {
            mlp_real v = (r[j] - mu[j]) * is[j];
            xh[j] = v;
            r[j] = gamma[j] * v + beta[j];
        }
    }
}

/* ---- forward ----------------------------------------------------------------- */

/* The output layer's fused pass: bias, loss, hits and (train) dL/dZ over z[B×K]. */
static double output_pass(struct mlp *m, struct layer *L, const float *y, int B, bool train,
                          struct mlp_stats *st)
{
    const mlp_real *b = m->params + L->b;
    const int K = L->out;
    const mlp_real invB = (mlp_real)1 / B;
    double loss = 0, hits = 0;
    for (int i = 0; i < B; i++) {
        mlp_real *z = L->h + (size_t)i * K;
        if (m->out == OUT_SOFTMAX) {
            int c = (int)y[i];
            assert(c >= 0 && c < K);
            /* bias and row max (argmax for accuracy) */
            int arg = 0;
            mlp_real mx = z[0] += b[0];
            for (int j = 1; j < K; j++) {
                z[j] += b[j];
                if (z[j] > mx) {
                    mx = z[j];
                    arg = j;
                }
            }
            mlp_real zc = z[c] - mx;
            mlp_real sum = 0;
            for (int j = 0; j < K; j++) {
                z[j] = R_EXP(z[j] - mx);
                sum += z[j];
            }
            /* −log softmax_c = log Σ exp(z_j − max) − (z_c − max) */
            loss += (double)(R_LOG(sum) - zc);
            hits += arg == c;
            if (train) {
                /* dL/dz_j = (p_j − [j = c]) / B */
                mlp_real k = invB / sum;
                for (int j = 0; j < K; j++)
                    z[j] *= k;
                z[c] -= invB;
            }
        } else if (m->out == OUT_SIGMOID) {
            mlp_real t = y[i] > 0.5f ? 1 : 0;
            mlp_real v = z[0] + b[0];
            /* BCE = softplus(v) − t·v, softplus(v) = max(v,0) + log1p(exp(−|v|)) */
            mlp_real sp = (v > 0 ? v : 0) + R_LOG1P(R_EXP(-R_FABS(v)));
            loss += (double)(sp - t * v);
            hits += (v > 0) == (t > 0);
            if (train) {
                mlp_real p = 1 / (1 + R_EXP(-v));
                z[0] = (p - t) * invB; /* dL/dv = (σ(v) − t) / B */
            }
        } else {
            mlp_real d = z[0] + b[0] - (mlp_real)y[i];
            loss += (double)(d * d);
            hits += (double)(d * d);
            if (train)
                z[0] = 2 * d * invB; /* dL/dv = 2(v − t) / B */
        }
    }
    st->loss_sum += loss;
    st->hits += hits;
    st->n += B;
    return loss / B;
}

double mlp_forward(struct mlp *m, const mlp_real *x, const float *y, int B, enum mlp_mode mode,
                   struct rng *drop, struct mlp_stats *st)
{
    assert(B >= 1 && B <= m->max_batch);
    bool train = mode == MLP_TRAIN;
    const mlp_real *in = x;
    for (int l = 0; l < m->n_layers; l++) {
        struct layer *L = &m->L[l];
        const mlp_real *W = m->params + L->w;
        bool last = l == m->n_layers - 1;
        /* Z[B×out] = X[B×in] · W[in×out]   (bias added in the pass after) */
        if (B <= SMALL_B)
            small_fwd(B, in, L->in, W, L->out, L->h);
        else
            mlp_gemm(false, false, B, L->out, L->in, 1, in, L->in, W, L->out, 0, L->h, L->out);
        if (last)
            return output_pass(m, L, y, B, train, st);
        if (L->bn && train) {
            /* x̂ = (z − μ_B)/σ_B kept for backward; h = act(γ·x̂ + β) */
            bn_train(m, L, L->h, B);
            affine_act(m->act, L->h, B, L->out, NULL, NULL);
        } else if (L->bn) {
            /* h = act(γ·(z − μ_run)/σ_run + β) = act(z·sc + sh) */
            const mlp_real *gamma = m->params + L->gamma, *beta = m->params + L->beta;
            const mlp_real *rm = m->params + L->rmean, *rv = m->params + L->rvar;
            for (int j = 0; j < L->out; j++) {
                L->sc[j] = (mlp_real)(gamma[j] / sqrt((double)rv[j] + BN_EPS));
                L->sh[j] = beta[j] - rm[j] * L->sc[j];
            }
            affine_act(m->act, L->h, B, L->out, L->sc, L->sh);
        } else {
            /* h = act(z + b) */
            affine_act(m->act, L->h, B, L->out, NULL, m->params + L->b);
        }
        if (train && L->mask)
            dropout_apply(L->h, L->mask, (size_t)B * L->out, m->p_drop, m->keep_scale, drop);
        in = L->h;
    }
    return 0; /* not reached: the last layer returns */
}

/* ---- backward ---------------------------------------------------------------- */

/* Column sums of d[B×n] into out[n]. */
KERNEL static void col_sums(const mlp_real *restrict d, int B, int n, mlp_real *restrict out)
{
    memset(out, 0, n * sizeof *out);
    for (int i = 0; i < B; i++) {
        const mlp_real *restrict r = d + (size_t)i * n;
        for (int j = 0; j < n; j++)
            out[j] += r[j];
    }
}

/* v[k] −= lr·g[k] over n values (the SGD step of biases, gamma and beta). */
static void sgd_small(mlp_real *restrict v, const mlp_real *restrict g, mlp_real lr, int n)
{
    for (int k = 0; k < n; k++)
        v[k] -= lr * g[k];
}

/*
 * The backward pass.  fused == false: fill the gradient block.  fused == true:
 * plain SGD with step lr applied on the way down — each weight matrix is
 * updated by its gradient GEMM itself (C = W, alpha = −lr, beta = 1), after the
 * layer's dL/dX has been taken with the old W; biases, gamma and beta get their
 * gradients in the block as usual and are stepped from there.
 */
static void backward(struct mlp *m, const mlp_real *x, int B, bool fused, mlp_real lr)
{
    mlp_real *dz = m->L[m->n_layers - 1].h; /* dL/dZ of the output, from output_pass */
    for (int l = m->n_layers - 1; l >= 0; l--) {
        struct layer *L = &m->L[l];
        const mlp_real *in = l == 0 ? x : m->L[l - 1].h;
        mlp_real *W = m->params + L->w;
        mlp_real *gW = m->grads + L->w;
        const int n = L->out;
        if (l == m->n_layers - 1) {
            col_sums(dz, B, n, m->grads + L->b);
        } else if (!L->bn) {
            /* dz holds dL/dH of this hidden layer: through dropout and
             * activation, with the bias gradient summed in the same pass */
            act_backward(m->act, dz, L->h, L->mask, 1 / m->keep_scale, B, n, m->grads + L->b);
        } else {
            act_backward(m->act, dz, L->h, L->mask, 1 / m->keep_scale, B, n, NULL);
            /* dγ = Σ dY·x̂, dβ = Σ dY,
             * dZ = γ·istd·(dY − dβ/B − x̂·dγ/B)   (batch statistics differentiated) */
            mlp_real *gg = m->grads + L->gamma, *gb = m->grads + L->beta;
            const mlp_real *gamma = m->params + L->gamma;
            memset(gg, 0, n * sizeof *gg);
            memset(gb, 0, n * sizeof *gb);
            for (int i = 0; i < B; i++) {
                const mlp_real *d = dz + (size_t)i * n, *xh = L->xhat + (size_t)i * n;
                for (int j = 0; j < n; j++) {
                    gg[j] += d[j] * xh[j];
                    gb[j] += d[j];
                }
            }
            mlp_real invB = (mlp_real)1 / B;
            for (int j = 0; j < n; j++) {
                L->sc[j] = gamma[j] * L->istd[j];
                L->sh[j] = gb[j] * invB;
            }
            for (int i = 0; i < B; i++) {
                mlp_real *d = dz + (size_t)i * n;
                const mlp_real *xh = L->xhat + (size_t)i * n;
                for (int j = 0; j < n; j++)
                    d[j] = L->sc[j] * (d[j] - L->sh[j] - xh[j] * gg[j] * invB);
            }
        }
        /* dX[B×in] = dZ[B×out] · Wᵀ[out×in]   (dL/dH of the layer below) */
        mlp_real *next = dz == m->d1 ? m->d2 : m->d1;
        if (l > 0) {
            if (B <= SMALL_B)
                small_dx(B, dz, n, W, L->in, next);
            else
                mlp_gemm(false, true, B, L->in, n, 1, dz, n, W, n, 0, next, L->in);
        }
        const size_t nw = (size_t)L->in * n;
        const mlp_real l1 = m->l1, l2x2 = 2 * m->l2;
#if defined(MLP_MUTANT) && MLP_MUTANT == 1
        const mlp_real l2f = 0; /* planted bug for tests/worker/gradcheck_steps.py: no L2 when fused */
#else
        const mlp_real l2f = l2x2;
#endif
        if (!fused) {
            /* dW[in×out] = Xᵀ[in×B] · dZ[B×out] (+ penalty gradients) */
            if (B <= SMALL_WGRAD)
                small_wgrad(B, in, L->in, dz, n, 0, gW, NULL);
            else
                mlp_gemm(true, false, L->in, n, B, 1, in, L->in, dz, n, 0, gW, n);
            if (l1 > 0 || l2x2 > 0)
                for (size_t k = 0; k < nw; k++) {
                    mlp_real w = W[k];
                    gW[k] += l1 * (mlp_real)((w > 0) - (w < 0)) + l2x2 * w;
                }
        } else {
            /* W ← W − lr·(penalty gradients) − lr·Xᵀ·dZ */
            if (l1 > 0 || l2f > 0)
                for (size_t k = 0; k < nw; k++) {
                    mlp_real w = W[k];
                    W[k] = w - lr * (l1 * (mlp_real)((w > 0) - (w < 0)) + l2f * w);
                }
            if (B <= SMALL_WGRAD)
                small_wgrad(B, in, L->in, dz, n, -lr, W, m->t);
            else
                mlp_gemm(true, false, L->in, n, B, -lr, in, L->in, dz, n, 1, W, n);
            if (L->bn) {
                sgd_small(m->params + L->gamma, m->grads + L->gamma, lr, n);
                sgd_small(m->params + L->beta, m->grads + L->beta, lr, n);
            } else {
                sgd_small(m->params + L->b, m->grads + L->b, lr, n);
            }
        }
        dz = next;
    }
}

void mlp_backward(struct mlp *m, const mlp_real *x, int B)
{
    backward(m, x, B, false, 0);
}

void mlp_backward_sgd(struct mlp *m, const mlp_real *x, int B, double lr)
{
    backward(m, x, B, true, (mlp_real)lr);
}

double mlp_penalty(const struct mlp *m)
{
    double s = 0;
    if (m->l1 == 0 && m->l2 == 0)
        return 0;
    for (int l = 0; l < m->n_layers; l++) {
        const struct layer *L = &m->L[l];
        const mlp_real *w = m->params + L->w;
        size_t n = (size_t)L->in * L->out;
        for (size_t k = 0; k < n; k++)
            s += (double)m->l1 * fabs((double)w[k]) + (double)m->l2 * (double)w[k] * w[k];
    }
    return s;
}

/* ---- outputs and layout ------------------------------------------------------- */

void mlp_outputs(const struct mlp *m, int B, double *out, int *pred)
{
    const struct layer *L = &m->L[m->n_layers - 1];
    const mlp_real *b = m->params + L->b;
    const int K = L->out;
    for (int i = 0; i < B; i++) {
        const mlp_real *z = L->h + (size_t)i * K;
        if (m->out == OUT_SOFTMAX) {
            /* output_pass left exp(z_j − max): normalise; the first maximum
             * is the prediction, as in the accuracy count */
            double sum = 0;
            int arg = 0;
            for (int j = 0; j < K; j++) {
                sum += (double)z[j];
                if (z[j] > z[arg])
                    arg = j;
            }
            for (int j = 0; j < K; j++)
                out[(size_t)i * K + j] = (double)z[j] / sum;
            pred[i] = arg;
        } else if (m->out == OUT_SIGMOID) {
            /* output_pass left z without the bias */
            double v = (double)(z[0] + b[0]);
            double p1 = 1 / (1 + exp(-v));
            out[(size_t)i * 2] = 1 - p1;
            out[(size_t)i * 2 + 1] = p1;
            pred[i] = v > 0;
        } else {
            out[i] = (double)(z[0] + b[0]);
        }
    }
}

int mlp_n_layers(const struct mlp *m)
{
    return m->n_layers;
}

void mlp_layer_info(const struct mlp *m, int l, struct mlp_layer_info *info)
{
    const struct layer *L = &m->L[l];
    info->in = L->in;
    info->out = L->out;
    info->bn = L->bn;
    info->w = L->w;
    info->b = L->bn ? (size_t)-1 : L->b;
    info->gamma = L->bn ? L->gamma : (size_t)-1;
    info->beta = L->bn ? L->beta : (size_t)-1;
    info->rmean = L->bn ? L->rmean : (size_t)-1;
    info->rvar = L->bn ? L->rvar : (size_t)-1;
}
