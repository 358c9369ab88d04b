/*
 * fixture — helpers the data tests share: a private temp dir, writing files
 * (plain and gzip), synthetic IDX images/labels with known values, and a
 * hyperparameter struct with SPEC.md's data-related defaults.
 */
#ifndef MLP_TEST_DATA_FIXTURE_H
#define MLP_TEST_DATA_FIXTURE_H

#include <stddef.h>

#include "data.h"

/* A fresh directory under $MLP_TEST_TMP (or /tmp) into buf; exits on failure. */
void fx_tmpdir(char *buf, size_t n);
/* rm -rf dir. */
void fx_rmtree(const char *dir);
/* dir + "/" + name into buf (size DS_PATH_MAX); returns buf. */
char *fx_join(char *buf, const char *dir, const char *name);
/* Write n bytes to path, plain or gzip-compressed (zlib); 0 or -1. */
int fx_write(const char *path, const void *data, size_t n);
int fx_write_gz(const char *path, const void *data, size_t n);
int fx_write_str(const char *path, const char *text);

/* Pixel j of image i in fixture IDX files. */
unsigned char fx_pixel(long i, long j);
/* Label of item i with k classes. */
unsigned char fx_label(long i, int k);
/* An IDX image file (n x rows x cols) or label file (n, k classes); malloc'd, *len set. */
unsigned char *fx_idx_images(long n, int rows, int cols, size_t *len);
unsigned char *fx_idx_labels(long n, int k, size_t *len);

/* hparams_default(), checked to have SPEC.md's data defaults (val_fraction 0.1,
   split_seed 0, train_size 0, normalize auto); exits otherwise. */
void fx_hparams(struct hparams *hp);

#endif
