/*
 * fann_bench — FANN 2.2 on Fashion-MNIST, the peer for online (batch 1) SGD.
 *
 * FANN's incremental training (FANN_TRAIN_INCREMENTAL) updates the weights after
 * every example, so one fann_train_epoch() is one epoch of batch-1 SGD.  The
 * recipe follows the other peers where FANN allows: 784-100-100-10, inputs
 * standardised per pixel with training statistics (a pixel with zero spread is
 * only centred), all 60,000 training images (no validation hold-out), one-hot
 * targets, learning rate --lr (default 0.1), shuffled every epoch (fann_shuffle_train_data, which
 * uses rand(): srand(seed) fixes it).  FANN 2.2 has neither ReLU nor softmax, so
 * the hidden layers use FANN_SIGMOID_SYMMETRIC (tanh), the output layer
 * FANN_SIGMOID with FANN's default error function; accuracy is the arg-max of the
 * outputs on the 10,000 test images.
 *
 * The IDX files are read here with zlib (this bench does not depend on the
 * project's loader, so it measures FANN alone).
 *
 * Usage: fann_bench [--epochs E] [--seed S] [--lr LR (0.1)] [--dir DIR]
 * Prints one JSON line: {"bench":"fann","net":"784-100-100-10","batch":1,
 * "epoch_seconds":[...],"test_accuracy":...}.
 */
#include <fann.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

_Static_assert(sizeof(fann_type) == sizeof(float), "the float build of FANN is expected");

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Read a whole IDX file (gzip or plain) of unsigned bytes.  Returns the payload
 * (caller frees) with *count items of *item_size bytes each, or NULL.
 */
static unsigned char *idx_read(const char *path, long *count, long *item_size)
{
    unsigned char hdr[4], dim[4];
    unsigned char *buf = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fann_bench: cannot open %s\n", path);
        return NULL;
    }
    if (gzread(f, hdr, 4) != 4 || hdr[0] || hdr[1] || hdr[2] != 0x08 || hdr[3] < 1)
        goto fail;
    long n = 0, rest = 1;
    for (int i = 0; i < hdr[3]; i++) {
        if (gzread(f, dim, 4) != 4)
            goto fail;
        long v = ((long)dim[0] << 24) | ((long)dim[1] << 16) | ((long)dim[2] << 8) | dim[3];
        if (i == 0)
            n = v;
        else
            rest *= v;
    }
    buf = malloc((size_t)(n * rest));
    if (!buf || gzread(f, buf, (unsigned)(n * rest)) != (int)(n * rest))
        goto fail;
    gzclose(f);
    *count = n;
    *item_size = rest;
    return buf;
fail:
    fprintf(stderr, "fann_bench: %s is not a readable IDX ubyte file\n", path);
    free(buf);
    gzclose(f);
    return NULL;
}

/* Copy images and one-hot labels into a FANN training set, standardised with mean/sd. */
static struct fann_train_data *to_fann(const unsigned char *img, const unsigned char *lab,
                                       long n, long d, const double *mean, const double *sd)
{
    struct fann_train_data *t = fann_create_train((unsigned)n, (unsigned)d, 10);
    if (!t)
        return NULL;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < d; j++)
            t->input[i][j] = (float)((img[i * d + j] - mean[j]) / sd[j]);
        for (int c = 0; c < 10; c++)
            t->output[i][c] = lab[i] == c ? 1.0f : 0.0f;
    }
    return t;
}

int main(int argc, char **argv)
{
    int epochs = 2, rc = 1;
    unsigned seed = 1;
    float lr = 0.1f;
    double *mean = NULL, *sd = NULL, *secs = NULL;
    float *x = NULL;
    struct fann_train_data *train = NULL;
    struct fann *ann = NULL;
    const char *dir = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--epochs") == 0)
            epochs = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--lr") == 0)
            lr = strtof(argv[++i], NULL);
        else if (i + 1 < argc && strcmp(argv[i], "--dir") == 0)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: fann_bench [--epochs E] [--seed S] [--lr LR] [--dir DIR]\n");
            return 2;
        }
    }
    if (epochs < 1 || !(lr > 0.0f)) {
        fprintf(stderr, "fann_bench: --epochs must be >= 1 and --lr > 0\n");
        return 2;
    }

    char p[4][1024];
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    unsigned char *raw[4] = {0};
    long cnt[4], sz[4];
    for (int i = 0; i < 4; i++) {
        snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
        raw[i] = idx_read(p[i], &cnt[i], &sz[i]);
        if (!raw[i])
            goto out;
    }
    long n = cnt[0], d = sz[0], nt = cnt[2];
    if (cnt[1] != n || cnt[3] != nt || sz[2] != d || sz[1] != 1 || sz[3] != 1) {
        fprintf(stderr, "fann_bench: image and label files do not match\n");
        goto out;
    }

    mean = calloc((size_t)d, sizeof *mean);
    sd = calloc((size_t)d, sizeof *sd);
    secs = calloc((size_t)epochs, sizeof *secs);
    x = malloc((size_t)d * sizeof *x);
    if (!mean || !sd || !secs || !x)
        goto out;
    for (long i = 0; i < n; i++)
        for (long j = 0; j < d; j++)
            mean[j] += raw[0][i * d + j];
    for (long j = 0; j < d; j++)
        mean[j] /= (double)n;
    for (long i = 0; i < n; i++)
        for (long j = 0; j < d; j++) {
            double v = raw[0][i * d + j] - mean[j];
            sd[j] += v * v;
        }
    for (long j = 0; j < d; j++) {
        sd[j] = sqrt(sd[j] / (double)n);
        if (sd[j] < 1e-6)
            sd[j] = 1.0;
    }

    train = to_fann(raw[0], raw[1], n, d, mean, sd);
    if (!train)
        goto out;
    srand(seed);
    ann = fann_create_standard(4, (unsigned)d, 100u, 100u, 10u);
    if (!ann)
        goto out;
    fann_set_training_algorithm(ann, FANN_TRAIN_INCREMENTAL);
    fann_set_learning_rate(ann, lr);
    fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_activation_function_output(ann, FANN_SIGMOID);

    for (int e = 0; e < epochs; e++) {
        fann_shuffle_train_data(train);   /* untimed: FANN swaps whole rows, ~1% of an epoch */
        double t0 = now_seconds();
        fann_train_epoch(ann, train);
        secs[e] = now_seconds() - t0;
    }

    long correct = 0;
    for (long i = 0; i < nt; i++) {
        for (long j = 0; j < d; j++)
            x[j] = (float)((raw[2][i * d + j] - mean[j]) / sd[j]);
        fann_type *o = fann_run(ann, x);
        int best = 0;
        for (int c = 1; c < 10; c++)
            if (o[c] > o[best])
                best = c;
        correct += best == raw[3][i];
    }
    printf("{\"bench\":\"fann\",\"net\":\"%ld-100-100-10\",\"batch\":1,\"n\":%ld,"
           "\"seed\":%u,\"lr\":%g,\"epochs\":%d,\"epoch_seconds\":[", d, n, seed, (double)lr, epochs);
    for (int e = 0; e < epochs; e++)
        printf("%s%.6f", e ? "," : "", secs[e]);
    printf("],\"test_accuracy\":%.6f}\n", (double)correct / (double)nt);
    rc = 0;
out:
    if (ann)
        fann_destroy(ann);
    if (train)
        fann_destroy_train(train);
    free(mean);
    free(sd);
    free(secs);
    free(x);
    for (int i = 0; i < 4; i++)
        free(raw[i]);
    return rc;
}
