/*
 * optim — update rules over the flat parameter and gradient blocks of an mlp.
 *
 *   sgd:       w ← w − lr·g
 *   momentum:  v ← μ·v − lr·g;  w ← w + v          (classical momentum, v starts at 0)
 *   adam:      m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *              w ← w − lr·m̂/(√v̂ + ε), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)
 *              with β1 = 0.9, β2 = 0.999, ε = 1e-8.
 * Each step is one vectorisable loop over n values.
 */
#ifndef MLP_OPTIM_H
#define MLP_OPTIM_H

#include <stddef.h>

#include "err.h"
#include "hparams.h"
#include "mlp.h"

struct optim;

/*
 * An optimiser for n parameters (state zeroed).  momentum is used by
 * HP_MOMENTUM only.  Returns NULL with *e filled (MLP_ENOMEM).  Free with optim_free().
 */
struct optim *optim_new(enum hp_optimizer kind, size_t n, double lr, double momentum,
                        struct err *e);
void optim_free(struct optim *o);

/* Change the learning rate of the following steps (a schedule); state is kept. */
void optim_set_lr(struct optim *o, double lr);

/* One update of w[n] from the gradient g[n]. */
void optim_step(struct optim *o, mlp_real *w, const mlp_real *g);

#endif
