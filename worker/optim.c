/*
 * optim — sgd, momentum and Adam as flat loops (see optim.h for the rules).
 * The state vectors (velocity; Adam's two moments) are one allocation.
 */
#include "optim.h"

#include <math.h>
#include <stdlib.h>

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8

struct optim {
    enum hp_optimizer kind;
    size_t n;
    mlp_real lr, mu;
    long t;            /* Adam: steps taken */
    double b1t, b2t;   /* Adam: β1ᵗ, β2ᵗ */
    mlp_real *s1, *s2; /* velocity / first moment; second moment */
};

struct optim *optim_new(enum hp_optimizer kind, size_t n, double lr, double momentum, struct err *e)
{
    struct optim *o = calloc(1, sizeof *o);
    if (!o)
        goto nomem;
    o->kind = kind;
    o->n = n;
    o->lr = (mlp_real)lr;
    o->mu = (mlp_real)momentum;
    o->b1t = o->b2t = 1;
    size_t k = kind == HP_ADAM ? 2 : kind == HP_MOMENTUM ? 1 : 0;
    if (k) {
        o->s1 = calloc(k * (n ? n : 1), sizeof(mlp_real));
        if (!o->s1)
            goto nomem;
        if (k == 2)
            o->s2 = o->s1 + n;
    }
    return o;
nomem:
    free(o);
    err_set(e, MLP_ENOMEM, NULL, "out of memory allocating optimiser state");
    return NULL;
}

void optim_free(struct optim *o)
{
    if (!o)
        return;
    free(o->s1);
    free(o);
}

void optim_set_lr(struct optim *o, double lr)
{
    o->lr = (mlp_real)lr;
}

MLP_KERNEL void optim_step(struct optim *o, mlp_real *restrict w, const mlp_real *restrict g)
{
    const size_t n = o->n;
    const mlp_real lr = o->lr;
    switch (o->kind) {
    case HP_SGD:
        for (size_t i = 0; i < n; i++)
            w[i] -= lr * g[i];
        break;
    case HP_MOMENTUM: {
        mlp_real *restrict v = o->s1;
        const mlp_real mu = o->mu;
        for (size_t i = 0; i < n; i++) {
#if defined(MLP_MUTANT) && MLP_MUTANT == 2
            v[i] = 0 * mu - lr * g[i]; /* planted bug for tests/worker/gradcheck_steps.py */
#else
            v[i] = mu * v[i] - lr * g[i];
#endif
            w[i] += v[i];
        }
        break;
    }
    case HP_ADAM: {
        mlp_real *restrict m1 = o->s1, *restrict m2 = o->s2;
        o->t++;
        o->b1t *= ADAM_B1;
        o->b2t *= ADAM_B2;
        /* w −= lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε) */
        const mlp_real c1 = (mlp_real)(1 / (1 - o->b1t));
        const mlp_real c2 = (mlp_real)(1 / (1 - o->b2t));
        const mlp_real b1 = (mlp_real)ADAM_B1, b2 = (mlp_real)ADAM_B2, eps = (mlp_real)ADAM_EPS;
        for (size_t i = 0; i < n; i++) {
            mlp_real gi = g[i];
            m1[i] = b1 * m1[i] + (1 - b1) * gi;
            m2[i] = b2 * m2[i] + (1 - b2) * gi * gi;
#ifdef MLP_DOUBLE
            w[i] -= lr * (m1[i] * c1) / (sqrt(m2[i] * c2) + eps);
#else
            w[i] -= lr * (m1[i] * c1) / (sqrtf(m2[i] * c2) + eps);
#endif
        }
        break;
    }
    }
}
