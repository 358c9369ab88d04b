/*
 * npz — writing NumPy .npz archives (a zip of .npy files) that numpy.load opens.
 *
 * Each array is one stored (uncompressed) zip member NAME.npy in .npy format
 * version 1.0: the magic "\x93NUMPY", version 1 0, a little-endian u16 header
 * length, a Python-literal header {'descr': '<f4', 'fortran_order': False,
 * 'shape': (R, C), } padded with spaces to a multiple of 64 bytes and ended by
 * a newline, then the data in C (row-major) order, little-endian.  The zip
 * holds local headers, data and a central directory; CRC-32 from zlib.  At
 * most 65535 members and 4 GiB per member (no zip64): far beyond a model.
 */
#ifndef MLP_NPZ_H
#define MLP_NPZ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct npz;

/* Element types: "<f4" float32, "<f8" float64, "<i8" int64, "|u1" uint8. */
enum npz_dtype { NPZ_F4, NPZ_F8, NPZ_I8, NPZ_U1 };

/* Create (truncate) the archive at path.  NULL with *e filled (MLP_EIO). */
struct npz *npz_open(const char *path, struct err *e);

/*
 * Add the array `name` (without ".npy") of ndim (0..2) dimensions shape[] and
 * type t from data (shape product elements, host order = little-endian on the
 * platforms we build for).  Returns 0 or a negative code with *e filled.
 */
int npz_add(struct npz *z, const char *name, enum npz_dtype t, int ndim, const int64_t *shape,
            const void *data, struct err *e);

/* Write the central directory and close; frees z either way.  0 or MLP_EIO. */
int npz_close(struct npz *z, struct err *e);

#endif
