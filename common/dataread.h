/*
 * dataread — reading dataset files, shared by the worker's loaders
 * (worker/data*.c, which decode them into float arrays) and mlpd's
 * submit-time check (dataset_check_grid), so the daemon links no worker code.
 *
 * What is here: resolving a parsed spec (common/dataset.h) to its files
 * through the catalogue and the data dirs; IDX headers and payloads (plain or
 * gzip, detected by content); CIFAR-10 record counts and records; CSV parsing
 * (every cell a finite number, errors naming file:line:column).  The checks
 * read headers only (CSV: every cell, without keeping them), so they are fast
 * enough for the daemon.  Every error is MLP_EINVALID_DATASET (MLP_ENOMEM)
 * with *e naming the file and the problem.
 */
#ifndef MLP_DATAREAD_H
#define MLP_DATAREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "dataset.h"
#include "err.h"

/* Whether p names a regular file (following links). */
bool dataread_is_file(const char *p);

/*
 * Open a dataset file for reading: O_NONBLOCK (a FIFO or device swapped in
 * after a stat() never blocks the open) and O_NOFOLLOW (never through a
 * symbolic link), then fstat: only a regular file is accepted, and with
 * max_bytes > 0 only one of at most that many bytes.  The descriptor (blocking
 * again) is returned, *size (may be NULL) set; or MLP_EINVALID_DATASET with *e
 * naming the file and why ("is a FIFO (named pipe), expected a regular file").
 */
int dataread_open(const char *path, int64_t max_bytes, int64_t *size, struct err *e);

/* The longest CSV line read; a longer one (or a file without newlines) is refused. */
#define DATAREAD_LINE_MAX (1 << 20)

/* The last component of a path, for messages. */
const char *dataread_base_name(const char *p);

/* The files a dataset is read from, resolved from the spec and the data dirs. */
struct dataread_sources {
    int n; /* paths in use: 4 for IDX, 2 for CSV, 2..6 for CIFAR-10, 0 for synthetic */
    char path[DS_CIFAR_BATCHES + 1][DS_PATH_MAX];
};

/*
 * Find spec's files: a named dataset in dirs->data_dir/<name>/ then
 * dirs->system_dir/<name>/ (IDX files plain or .gz; CIFAR-10: any training
 * batch and the test batch), explicit files as given (each must be a regular
 * file).  dirs may be NULL (named datasets are then not found).  Returns 0 or
 * MLP_EINVALID_DATASET saying where it looked and what to do.
 */
int dataread_find(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                  struct dataread_sources *src, struct err *e);

/* ---- IDX ---------------------------------------------------------------- */

struct dataread_idx {
    gzFile gz; /* open after dataread_idx_open, positioned at the payload */
    int64_t n; /* items */
    int64_t d; /* values per item (rows*cols; 1 for labels) */
};

/*
 * Open the four IDX files of src (train images, train labels, test images,
 * test labels) and read their headers: magics, dimensions, a plain file's
 * length against its header, image and label counts agreeing, train and test
 * images of one size.  Returns 0 with f[0..3] open (close with
 * dataread_idx_close), or the error with all closed.
 */
int dataread_idx_open4(const struct dataread_sources *src, struct dataread_idx f[4], struct err *e);
/* The same, refusing a file of more than max_bytes (0: any size). */
int dataread_idx_open4_max(const struct dataread_sources *src, int64_t max_bytes,
                           struct dataread_idx f[4], struct err *e);

/*
 * Read f's payload (n*d bytes) into dst as floats; with max_label (labels) also
 * raise *max_label to the largest value.  Trailing bytes are an error.
 */
int dataread_idx_read(struct dataread_idx *f, const char *path, float *dst, int *max_label,
                      struct err *e);

/* Close the files dataread_idx_open4 left open (idempotent). */
void dataread_idx_close(struct dataread_idx f[4]);

/* ---- CIFAR-10 (binary version) ------------------------------------------ */

#define DATAREAD_CIFAR_RECORD 3073 /* 1 label byte + 3072 pixel bytes */
#define DATAREAD_CIFAR_D 3072      /* R, G, B planes of 32x32, kept in that order */

/* Records in a CIFAR-10 batch file: its size must be a whole number of them. */
int dataread_cifar_size(const char *path, int64_t *records, struct err *e);

/* Read `records` records: pixels into x (records*3072), labels (0..9) into y. */
int dataread_cifar_read(const char *path, int64_t records, float *x, float *y, struct err *e);

/* ---- CSV ---------------------------------------------------------------- */

struct dataread_csv {
    float *v; /* rows * cols values, row-major, all columns (owned; free(v)) */
    int64_t rows, cap;
    double max_label; /* largest value of the label column (-1 when no row) */
};

/*
 * Parse spec's train and test CSV files (src->path[0], [1]) into c[0], c[1]:
 * blank lines skipped, the optional header line, surrounding spaces and one
 * pair of double quotes around a cell tolerated; every cell a finite number;
 * classification labels integers; both files with the same number of columns,
 * stored in *cols.  With keep false each file is parsed into one reused row (a
 * check: rows counted, v holds the last row only).  On error both are freed.
 */
int dataread_csv_pair(const struct ds_spec *spec, const struct dataread_sources *src, bool keep,
                      struct dataread_csv c[2], int *cols, struct err *e);
/* The same, refusing a file of more than max_bytes (0: any size). */
int dataread_csv_pair_max(const struct ds_spec *spec, const struct dataread_sources *src,
                          bool keep, int64_t max_bytes, struct dataread_csv c[2], int *cols,
                          struct err *e);

/* ---- submit-time checks -------------------------------------------------- */

struct dataset_info { /* what dataset_check learnt without decoding pixels */
    int64_t n_train;  /* rows in the training file(s) */
    int64_t n_test;   /* rows in the test file(s) */
    int64_t inputs;   /* values per example (0 when unknown) */
    int64_t outputs;  /* classes (CSV: largest label + 1; 10 for IDX and CIFAR-10), 1 for regression */
};

/* mlpd's submit-time ceilings (mlpd.conf); 0: none. */
struct dataset_limits {
    int64_t max_bytes;  /* max_dataset_bytes: a larger dataset file is refused unread */
    int64_t max_params; /* max_params: weights and biases of one configuration's network */
};

/*
 * Check that the dataset can be found, its files are regular files ("is a
 * directory" otherwise), their headers parse and, for CSV, that every cell of
 * both files is a number (errors name file:line:column).  Image payloads are
 * not decoded, so this is fast enough for the daemon at submit time (a CSV is
 * read once in full).  *info (may be NULL) receives the row counts.  Returns
 * 0 or MLP_EINVALID_DATASET (MLP_ENOMEM) with *e filled.
 */
int dataset_check(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                  struct dataset_info *info, struct err *e);
/* dataset_check within lim's max_bytes (lim may be NULL). */
int dataset_check_max(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                      const struct dataset_limits *lim, struct dataset_info *info, struct err *e);

struct grid;

/*
 * The daemon's submit-time check of a whole grid: dataset_check() on its
 * dataset, then dataset_split() for every configuration (train_size larger
 * than the training split is an error naming the configuration) and, with
 * lim (may be NULL), the ceilings: dataset files of at most max_bytes, networks
 * of at most max_params weights and biases.  Returns 0 or the first error
 * (MLP_EINVALID_DATASET, MLP_EINVALID_SPEC, MLP_ETOO_LARGE) with *e filled.
 */
int dataset_check_grid(const struct grid *g, const struct dataset_dirs *dirs,
                       const struct dataset_limits *lim, struct err *e);

/* Weights and biases of an MLP inputs -> hp's hidden layers -> outputs (a double: no overflow). */
struct hparams;
double dataset_n_params(const struct hparams *hp, int64_t inputs, int64_t outputs);

#endif
