/*
 * gemm — the matrix products alone of one epoch of mini-batch SGD on an MLP.
 *
 * This is the floor a training core can approach: for a network d-h1-...-k, batch
 * B and N training rows, one epoch is ceil(N/B) steps (the last one holds the
 * N mod B remaining rows), and each step of an L-layer network does exactly
 *   forward   Z_l = H_{l-1} · W_l               (L GEMMs)
 *   backward  dW_l = H_{l-1}ᵀ · dZ_l            (L GEMMs)
 *             dH_{l-1} = dZ_l · W_lᵀ, l >= 2    (L-1 GEMMs: dX0 is not needed)
 * i.e. 8 cblas_sgemm per step for two hidden layers.  Nothing else is timed: no
 * bias, activation, softmax, gather, or update.  The operands live in per-layer
 * buffers allocated once, so the batch input is the same cached B×d block every
 * step, as it is after a core has gathered a shuffled batch into its buffer.
 *
 * Usage: gemm [--epochs E] NET BATCH [N]
 *   NET   layer widths joined by '-', e.g. 784-256-128-10
 *   N     training rows per epoch (default 60000)
 * Prints one JSON line: {"bench":"gemm","net":...,"batch":B,"n":N,"epochs":E,
 * "openblas_config":...,"openblas_core":...,"epoch_seconds":[...],"median_seconds":...}
 * (the OpenBLAS build and the kernel it picked for this CPU, for the report).  The epochs are timed one by one
 * after one untimed warm-up epoch; the median is over the timed epochs.  Run it
 * with OPENBLAS_NUM_THREADS=1 to compare with single-threaded training.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LAYERS 34

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Parse "784-256-128-10" into widths[]; returns the number of widths or -1. */
static int parse_net(const char *s, int *widths)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1000000 || n == MAX_LAYERS)
            return -1;
        widths[n++] = (int)v;
        if (*end == '-')
            end++;
        else if (*end != '\0')
            return -1;
        p = end;
    }
    return n >= 2 ? n : -1;
}

static float *alloc_filled(size_t n, unsigned *state)
{
    float *a = malloc(n * sizeof *a);
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;   /* values in [-0.5, 0.5) */
        a[i] = (float)(*state >> 8) / 16777216.0f - 0.5f;
    }
    return a;
}

/* The GEMMs of one SGD step on a batch of b rows. */
static void step(int nl, const int *w, int b, float *const *h, float *const *dz,
                 float *const *wt, float *const *dw)
{
    /* forward: Z_l[b×w_l] = H_{l-1}[b×w_{l-1}] · W_l[w_{l-1}×w_l]; Z_l doubles as H_l */
    for (int l = 1; l <= nl; l++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, w[l], w[l - 1], 1.0f,
                    h[l - 1], w[l - 1], wt[l], w[l], 0.0f, h[l], w[l]);
    /* backward, from the output layer down */
    for (int l = nl; l >= 1; l--) {
        /* dW_l[w_{l-1}×w_l] = H_{l-1}ᵀ · dZ_l */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, w[l - 1], w[l], b, 1.0f,
                    h[l - 1], w[l - 1], dz[l], w[l], 0.0f, dw[l], w[l]);
        /* dH_{l-1}[b×w_{l-1}] = dZ_l · W_lᵀ; dH_{l-1} doubles as dZ_{l-1} */
        if (l > 1)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, w[l - 1], w[l], 1.0f,
                        dz[l], w[l], wt[l], w[l], 0.0f, dz[l - 1], w[l - 1]);
    }
}

int main(int argc, char **argv)
{
    int epochs = 5, argi = 1, rc = 1;
    int w[MAX_LAYERS];
    float *h[MAX_LAYERS] = {0}, *dz[MAX_LAYERS] = {0}, *wt[MAX_LAYERS] = {0},
          *dw[MAX_LAYERS] = {0};
    double *secs = NULL;

    if (argi + 1 < argc && strcmp(argv[argi], "--epochs") == 0) {
        epochs = atoi(argv[argi + 1]);
        argi += 2;
    }
    if (argc - argi < 2 || argc - argi > 3 || epochs < 1) {
        fprintf(stderr, "usage: gemm [--epochs E] NET BATCH [N]   e.g. gemm 784-256-128-10 128\n");
        return 2;
    }
    int nw = parse_net(argv[argi], w);
    long batch = strtol(argv[argi + 1], NULL, 10);
    long n = argc - argi == 3 ? strtol(argv[argi + 2], NULL, 10) : 60000;
    if (nw < 0 || batch < 1 || batch > 1000000 || n < 1) {
        fprintf(stderr, "gemm: bad NET, BATCH or N\n");
        return 2;
    }
    int nl = nw - 1;   /* weight layers */
    int b = (int)(batch < n ? batch : n);

    unsigned seed = 12345u;
    for (int l = 0; l <= nl; l++) {
        h[l] = alloc_filled((size_t)b * w[l], &seed);
        dz[l] = alloc_filled((size_t)b * w[l], &seed);
        if (!h[l] || !dz[l])
            goto fail;
        if (l >= 1) {
            wt[l] = alloc_filled((size_t)w[l - 1] * w[l], &seed);
            dw[l] = alloc_filled((size_t)w[l - 1] * w[l], &seed);
            if (!wt[l] || !dw[l])
                goto fail;
            /* small weights keep activations far from overflow and denormals */
            for (size_t i = 0; i < (size_t)w[l - 1] * w[l]; i++)
                wt[l][i] *= 0.05f;
        }
    }
    secs = malloc((size_t)epochs * sizeof *secs);
    if (!secs)
        goto fail;

    long steps = (n + b - 1) / b;
    int last = (int)(n - (steps - 1) * b);
    for (int e = -1; e < epochs; e++) {   /* e = -1: warm-up, not timed */
        double t0 = now_seconds();
        for (long s = 0; s < steps; s++)
            step(nl, w, s == steps - 1 ? last : b, h, dz, wt, dw);
        if (e >= 0)
            secs[e] = now_seconds() - t0;
    }

    printf("{\"bench\":\"gemm\",\"net\":\"%s\",\"batch\":%d,\"n\":%ld,\"epochs\":%d,"
           "\"openblas_config\":\"%s\",\"openblas_core\":\"%s\",\"epoch_seconds\":[",
           argv[argi], b, n, epochs, openblas_get_config(), openblas_get_corename());
    for (int e = 0; e < epochs; e++)
        printf("%s%.6f", e ? "," : "", secs[e]);
    qsort(secs, (size_t)epochs, sizeof *secs, cmp_double);
    double med = epochs % 2 ? secs[epochs / 2]
                            : 0.5 * (secs[epochs / 2 - 1] + secs[epochs / 2]);
    printf("],\"median_seconds\":%.6f}\n", med);
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "gemm: out of memory\n");
    for (int l = 0; l < MAX_LAYERS; l++) {
        free(h[l]);
        free(dz[l]);
        free(wt[l]);
        free(dw[l]);
    }
    free(secs);
    return rc;
}
