/*
 * dataread — reading dataset files (see dataread.h): finding a spec's files,
 * IDX headers and payloads, CIFAR-10 records, CSV cells, and the submit-time
 * checks built on them.  The worker's loaders (worker/data_*.c) decode with
 * these functions; mlpd calls dataset_check_grid at submit.  Nothing here
 * allocates the decoded arrays: the loaders own that layout.
 */
#include "dataread.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "grid.h"

const char *dataread_base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---- sources --------------------------------------------------------------- */

int dataread_open(const char *path, int64_t max_bytes, int64_t *size, struct err *e)
{
    const char *bn = dataread_base_name(path);
    /* O_NONBLOCK: opening a FIFO (or a device) swapped in after a stat() must not
     * wait for a writer; O_NOFOLLOW: never read through a planted symlink. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP)
            return err_set(e, MLP_EINVALID_DATASET, path,
                           "%s: is a symbolic link; dataset files are opened only as regular "
                           "files (give the path of the file itself)",
                           bn);
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: cannot open: %s", bn,
                       errno == ENOENT ? "no such file" : strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: %s", bn, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: %s, expected a regular file", bn,
                       S_ISDIR(st.st_mode)    ? "is a directory"
                       : S_ISFIFO(st.st_mode) ? "is a FIFO (named pipe)"
                                              : "not a regular file");
    }
    if (max_bytes > 0 && st.st_size > max_bytes) {
        close(fd);
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "%s: %lld bytes, more than the %lld a submit reads to check a dataset "
                       "(mlpd.conf max_dataset_bytes)",
                       bn, (long long)st.st_size, (long long)max_bytes);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (size)
        *size = st.st_size;
    return fd;
}

bool dataread_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * An explicit path must be a regular file: a directory (a common slip when
 * giving the data folder instead of the file) or a missing file is named
 * with the reason.
 */
static int need_file(const char *p, struct err *e)
{
    struct stat st;
    if (stat(p, &st) != 0)
        return err_set(e, MLP_EINVALID_DATASET, p, "%s: %s", p,
                       errno == ENOENT ? "no such file" : strerror(errno));
    if (S_ISDIR(st.st_mode))
        return err_set(e, MLP_EINVALID_DATASET, p, "%s: is a directory, expected a file", p);
    if (!S_ISREG(st.st_mode))
        return err_set(e, MLP_EINVALID_DATASET, p, "%s: not a regular file", p);
    return 0;
}

/* <dir>/<name>/<file> or <file>.gz into out; false when neither exists. */
static bool find_one(const char *dir, const char *name, const char *file, bool gz_too, char *out)
{
    int k = snprintf(out, DS_PATH_MAX, "%s/%s/%s", dir, name, file);
    if (k > 0 && k < DS_PATH_MAX && dataread_is_file(out))
        return true;
    if (!gz_too)
        return false;
    k = snprintf(out, DS_PATH_MAX, "%s/%s/%s.gz", dir, name, file);
    return k > 0 && k < DS_PATH_MAX && dataread_is_file(out);
}

/* A catalogue dataset's files in one base dir; true when complete. */
static bool find_in(const struct ds_entry *c, const char *base, struct dataread_sources *src)
{
    memset(src, 0, sizeof *src);
    if (c->format == DS_FMT_CIFAR) {
        /* Any of the training batches present (at least one), and the test batch. */
        for (int i = 0; i < DS_CIFAR_BATCHES; i++)
            if (find_one(base, c->name, c->files[i], false, src->path[src->n]))
                src->n++;
        if (src->n > 0 &&
            find_one(base, c->name, c->files[DS_CIFAR_BATCHES], false, src->path[src->n])) {
            src->n++;
            return true;
        }
        return false;
    }
    for (int i = 0; i < 4; i++)
        if (!find_one(base, c->name, c->files[i], true, src->path[i]))
            return false;
    src->n = 4;
    return true;
}

static int find_named(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                      struct dataread_sources *src, struct err *e)
{
    const char *bases[2] = {dirs ? dirs->data_dir : NULL, dirs ? dirs->system_dir : NULL};
    const struct ds_entry *c = ds_catalogue_find(spec->name);
    char looked[1024] = "";
    size_t used = 0;
    if (!c || !c->files)
        return err_set(e, MLP_EINTERNAL, "dataset", "%s has no files to find", spec->name);
    for (int b = 0; b < 2; b++) {
        if (!bases[b] || !bases[b][0])
            continue;
        int k = snprintf(looked + used, sizeof looked - used, "%s%s/%s/", used ? " and " : "",
                         bases[b], spec->name);
        if (k > 0 && (size_t)k < sizeof looked - used)
            used += (size_t)k;
        if (find_in(c, bases[b], src))
            return 0;
    }
    if (c->fetch == DS_FETCH_BY_HAND)
        return err_set(e, MLP_EINVALID_DATASET, "dataset",
                       "%s not found: looked in %s for %s (%s; place the files there)", spec->name,
                       used ? looked : "(no data dir configured)", c->files_text, c->source);
    return err_set(e, MLP_EINVALID_DATASET, "dataset",
                   "%s not found: looked in %s for %s (run `mlpctl data fetch %s`)", spec->name,
                   used ? looked : "(no data dir configured)", c->files_text, spec->name);
}

int dataread_find(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                  struct dataread_sources *src, struct err *e)
{
    int rc;
    memset(src, 0, sizeof *src);
    switch (spec->kind) {
    case DS_NAMED:
        return find_named(spec, dirs, src, e);
    case DS_IDX: {
        const char *p[4] = {spec->train_images, spec->train_labels, spec->test_images,
                            spec->test_labels};
        for (int i = 0; i < 4; i++) {
            if ((rc = need_file(p[i], e)))
                return rc;
            snprintf(src->path[i], DS_PATH_MAX, "%s", p[i]);
        }
        src->n = 4;
        return 0;
    }
    case DS_CSV: {
        const char *p[2] = {spec->train, spec->test};
        for (int i = 0; i < 2; i++) {
            if ((rc = need_file(p[i], e)))
                return rc;
            snprintf(src->path[i], DS_PATH_MAX, "%s", p[i]);
        }
        src->n = 2;
        return 0;
    }
    case DS_SYNTHETIC:
        return 0;
    }
    return err_set(e, MLP_EINTERNAL, NULL, "unknown dataset kind %d", (int)spec->kind);
}

/* ---- IDX ------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int gz_fail(gzFile gz, const char *path, const char *what, int64_t got, int64_t want,
                   struct err *e)
{
    int zerr = Z_OK;
    const char *zmsg = gz ? gzerror(gz, &zerr) : "";
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: cannot read %s: %s",
                       dataread_base_name(path), what, zmsg);
    return err_set(e, MLP_EINVALID_DATASET, path, "%s: truncated: %s has %lld of %lld bytes",
                   dataread_base_name(path), what, (long long)got, (long long)want);
}

/*
 * Open an IDX file and read its header.  images: magic 0x00000803, else labels
 * 0x00000801.  For a plain file the length must match the header exactly
 * (checked here); for gzip the payload length is checked while reading.
 */
static int idx_open(struct dataread_idx *f, const char *path, bool images, int64_t max_bytes,
                    struct err *e)
{
    unsigned char h[16];
    uint32_t want = images ? 0x00000803u : 0x00000801u;
    int ndims = images ? 3 : 1;
    size_t hlen = 4 + 4 * (size_t)ndims;
    memset(f, 0, sizeof *f);
    int64_t size = 0;
    int fd = dataread_open(path, max_bytes, &size, e);
    if (fd < 0)
        return fd;
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        return err_set(e, MLP_ENOMEM, path, "%s: out of memory", dataread_base_name(path));
    }
    gzbuffer(f->gz, 1 << 17);
    int got = gzread(f->gz, h, 4);
    if (got != 4) {
        gz_fail(f->gz, path, "the IDX header", got < 0 ? 0 : got, (int64_t)hlen, e);
        goto fail;
    }
    uint32_t magic = be32(h);
    if (magic != want) {
        err_set(e, MLP_EINVALID_DATASET, path,
                "%s: not an IDX %s file: magic 0x%08x, expected 0x%08x (unsigned bytes, %s)",
                dataread_base_name(path), images ? "image" : "label", magic, want,
                images ? "3 dimensions" : "1 dimension");
        goto fail;
    }
    got = gzread(f->gz, h + 4, (unsigned)(hlen - 4));
    if (got != (int)(hlen - 4)) {
        gz_fail(f->gz, path, "the IDX header", 4 + (got < 0 ? 0 : got), (int64_t)hlen, e);
        goto fail;
    }
    f->n = be32(h + 4);
    f->d = 1;
    /* Stop multiplying once past the limit checked below: two 32-bit dimensions
     * would overflow int64_t (undefined behaviour; found by tests/fuzz fuzz-data).
     * Before each product f->d <= 2^24, so it stays below 2^56. */
    for (int i = 1; i < ndims && f->d <= (1 << 24); i++)
        f->d *= be32(h + 4 + 4 * i);
    if (f->n == 0 || f->d == 0 || f->d > (1 << 24)) {
        err_set(e, MLP_EINVALID_DATASET, path, "%s: bad IDX dimensions (%lld items of %lld values)",
                dataread_base_name(path), (long long)f->n, (long long)f->d);
        goto fail;
    }
    if (gzdirect(f->gz)) {
        int64_t expect = (int64_t)hlen + f->n * f->d;
        if (size != expect) {
            err_set(e, MLP_EINVALID_DATASET, path,
                    "%s: file is %lld bytes but its header describes %lld (%lld x %lld values)%s",
                    dataread_base_name(path), (long long)size, (long long)expect,
                    (long long)f->n, (long long)f->d, size < expect ? ": truncated" : "");
            goto fail;
        }
    }
    return 0;
fail:
    gzclose(f->gz);
    f->gz = NULL;
    return e->code;
}

int dataread_idx_read(struct dataread_idx *f, const char *path, float *dst, int *max_label,
                      struct err *e)
{
    unsigned char buf[1 << 16];
    int64_t total = f->n * f->d, done = 0;
    while (done < total) {
        int64_t want = total - done < (int64_t)sizeof buf ? total - done : (int64_t)sizeof buf;
        int got = gzread(f->gz, buf, (unsigned)want);
        if (got <= 0)
            return gz_fail(f->gz, path, "the data", done, total, e);
        for (int i = 0; i < got; i++) {
            dst[done + i] = (float)buf[i];
            if (max_label && buf[i] > *max_label)
                *max_label = buf[i];
        }
        done += got;
    }
    if (gzread(f->gz, buf, 1) > 0)
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "%s: trailing data after the %lld values its header describes",
                       dataread_base_name(path), (long long)total);
    return 0;
}

static int idx_pair_check(struct dataread_idx *im, struct dataread_idx *lb, const char *pim,
                          const char *plb, struct err *e)
{
    if (im->n != lb->n)
        return err_set(e, MLP_EINVALID_DATASET, plb, "%s has %lld labels but %s has %lld images",
                       dataread_base_name(plb), (long long)lb->n, dataread_base_name(pim),
                       (long long)im->n);
    return 0;
}

int dataread_idx_open4(const struct dataread_sources *src, struct dataread_idx f[4], struct err *e)
{
    return dataread_idx_open4_max(src, 0, f, e);
}

int dataread_idx_open4_max(const struct dataread_sources *src, int64_t max_bytes,
                           struct dataread_idx f[4], struct err *e)
{
    int rc = 0;
    memset(f, 0, 4 * sizeof *f);
    for (int i = 0; i < 4; i++)
        if ((rc = idx_open(&f[i], src->path[i], i % 2 == 0, max_bytes, e)))
            goto fail;
    if ((rc = idx_pair_check(&f[0], &f[1], src->path[0], src->path[1], e)) ||
        (rc = idx_pair_check(&f[2], &f[3], src->path[2], src->path[3], e)))
        goto fail;
    if (f[0].d != f[2].d) {
        rc = err_set(e, MLP_EINVALID_DATASET, src->path[2],
                     "%s has %lld values per image but %s has %lld",
                     dataread_base_name(src->path[2]), (long long)f[2].d,
                     dataread_base_name(src->path[0]), (long long)f[0].d);
        goto fail;
    }
    return 0;
fail:
    dataread_idx_close(f);
    return rc;
}

void dataread_idx_close(struct dataread_idx f[4])
{
    for (int i = 0; i < 4; i++)
        if (f[i].gz) {
            gzclose(f[i].gz);
            f[i].gz = NULL;
        }
}

/* ---- CIFAR-10 -------------------------------------------------------------- */

int dataread_cifar_size(const char *path, int64_t *records, struct err *e)
{
    int64_t size = 0;
    int fd = dataread_open(path, 0, &size, e);
    if (fd < 0)
        return fd;
    close(fd);
    if (size == 0 || size % DATAREAD_CIFAR_RECORD != 0)
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "%s: %lld bytes is not a whole number of %d-byte CIFAR-10 records "
                       "(partial record or not the binary version)",
                       dataread_base_name(path), (long long)size, DATAREAD_CIFAR_RECORD);
    *records = size / DATAREAD_CIFAR_RECORD;
    return 0;
}

int dataread_cifar_read(const char *path, int64_t records, float *x, float *y, struct err *e)
{
    unsigned char rec[DATAREAD_CIFAR_RECORD];
    int fd = dataread_open(path, 0, NULL, e);
    if (fd < 0)
        return fd;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return err_set(e, MLP_ENOMEM, path, "%s: out of memory", dataread_base_name(path));
    }
    for (int64_t r = 0; r < records; r++) {
        if (fread(rec, 1, sizeof rec, fp) != sizeof rec) {
            fclose(fp);
            return err_set(e, MLP_EINVALID_DATASET, path, "%s: truncated at record %lld",
                           dataread_base_name(path), (long long)r);
        }
        if (rec[0] > 9) {
            fclose(fp);
            return err_set(e, MLP_EINVALID_DATASET, path,
                           "%s: record %lld has label %d, expected 0..9", dataread_base_name(path),
                           (long long)r, rec[0]);
        }
        y[r] = rec[0];
        for (int i = 0; i < DATAREAD_CIFAR_D; i++)
            x[r * DATAREAD_CIFAR_D + i] = rec[1 + i];
    }
    fclose(fp);
    return 0;
}

/* ---- CSV ------------------------------------------------------------------- */

/*
 * Lines of a file read through a buffer that never grows past
 * DATAREAD_LINE_MAX: a file without newlines (a binary or sparse file given as
 * a CSV) is refused after that many bytes instead of being read into memory.
 */
struct line_rd {
    int fd;
    char *buf;
    size_t cap, start, end;
    bool eof;
};

#define LINE_RD_CHUNK 65536

/* The next line, NUL-terminated, newline removed: 1, 0 at the end, MLP_ETOO_LARGE, MLP_EIO. */
static int line_rd_next(struct line_rd *r, char **line, size_t *len)
{
    for (;;) {
        /* buf is NULL until the first read: no offset on a null pointer. */
        char *base = r->buf ? r->buf + r->start : NULL;
        char *nl = r->end > r->start ? memchr(base, '\n', r->end - r->start) : NULL;
        if (nl) {
            *nl = '\0';
            *line = base;
            *len = (size_t)(nl - base);
            r->start = (size_t)(nl + 1 - r->buf);
            return 1;
        }
        if (r->end - r->start > DATAREAD_LINE_MAX)
            return MLP_ETOO_LARGE;
        if (r->eof) {
            if (r->end == r->start)
                return 0;
            r->buf[r->end] = '\0';
            *line = base;
            *len = r->end - r->start;
            r->start = r->end;
            return 1;
        }
        if (r->start > 0) {
            memmove(r->buf, base, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < LINE_RD_CHUNK + 1) {
            size_t cap = r->cap ? 2 * r->cap : 4 * LINE_RD_CHUNK;
            if (cap > DATAREAD_LINE_MAX + LINE_RD_CHUNK + 2)
                cap = DATAREAD_LINE_MAX + LINE_RD_CHUNK + 2;
            if (cap > r->cap) {
                char *p = realloc(r->buf, cap);
                if (!p)
                    return MLP_ENOMEM;
                r->buf = p;
                r->cap = cap;
            }
        }
        ssize_t k = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return MLP_EIO;
        if (k == 0)
            r->eof = true;
        r->end += (size_t)k;
    }
}

/*
 * The shape of a CSV line: no NUL byte, as many fields as *cols (set from
 * the first line when 0, which needs two fields at least) and the label
 * column inside them (*lab).  Returns the field count, or a negative code
 * with e set.
 */
static int csv_line_shape(const char *path, const char *bn, long lineno, const char *line,
                          ssize_t len, const struct ds_spec *spec, int *cols, int *lab,
                          struct err *e)
{
    if ((ssize_t)strlen(line) != len)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s:%ld: NUL byte in line (not a text file?)",
                       bn, lineno);
    int nf = 1;
    for (const char *p = line; *p; p++)
        nf += *p == ',';
    if (*cols == 0) {
        if (nf < 2)
            return err_set(e, MLP_EINVALID_DATASET, path,
                           "%s:%ld: only one field: expected features and a label separated "
                           "by commas",
                           bn, lineno);
        *cols = nf;
    }
    if (nf != *cols)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s:%ld: expected %d fields, got %d", bn,
                       lineno, *cols, nf);
    *lab = spec->label_col < 0 ? *cols - 1 : spec->label_col;
    if (*lab >= *cols)
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "%s:%ld: label column %d does not exist (the file has %d columns, "
                       "numbered from 0)",
                       bn, lineno, *lab, *cols);
    return nf;
}

/*
 * The nf fields of line into row (line is cut up in place): spaces and one
 * pair of double quotes around a cell dropped, each a finite float, the
 * label (field lab) an integer for classification; raises c->max_label.
 * 0, or a negative code with e set.
 */
static int csv_row_values(const char *path, const char *bn, long lineno, char *line, int nf,
                          int lab, const struct ds_spec *spec, float *row, struct dataread_csv *c,
                          struct err *e)
{
    char *p = line;
    for (int f = 0; f < nf; f++) {
        char *end = strchr(p, ',');
        if (end)
            *end = '\0';
        char *s = p + strspn(p, " \t"), *t = s + strlen(s);
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            *--t = '\0';
        if (t - s >= 2 && s[0] == '"' && t[-1] == '"') {
            *--t = '\0';
            s++;
        }
        char *stop;
        errno = 0;
        double v = *s ? strtod(s, &stop) : 0;
        if (!*s || *stop || !isfinite(v) || fabs(v) > FLT_MAX)
            return err_set(e, MLP_EINVALID_DATASET, path, "%s:%ld:%d: not a number: \"%.60s\"", bn,
                           lineno, f + 1, s);
        if (f == lab && spec->task == DS_CLASSIFICATION && (v != floor(v) || fabs(v) > 16777216.0))
            return err_set(e, MLP_EINVALID_DATASET, path,
                           "%s:%ld:%d: class label must be an integer, got %s (use \"task\": "
                           "\"regression\" for real-valued targets)",
                           bn, lineno, f + 1, s);
        if (f == lab && v > c->max_label)
            c->max_label = v;
        row[f] = (float)v;
        p = end ? end + 1 : p + strlen(p);
    }
    return 0;
}

/*
 * Room for the next row of cols values: with keep, c->v doubles when full;
 * without, one row is made once and reused.  0, or MLP_ENOMEM with e set.
 */
static int csv_room(const char *path, const char *bn, bool keep, int cols, struct dataread_csv *c,
                    struct err *e)
{
    if (keep ? c->rows == c->cap : c->cap == 0) {
        int64_t ncap = c->cap ? c->cap * 2 : 256;
        float *nv = realloc(c->v, (size_t)ncap * (size_t)cols * sizeof(float));
        if (!nv)
            return err_set(e, MLP_ENOMEM, path, "%s: out of memory", bn);
        c->v = nv;
        c->cap = ncap;
    }
    return 0;
}

/*
 * The end of the file: the line reader's last answer lrc as an error (a
 * line too long, out of memory, a read error), else no data rows.  0 when
 * the file is good.
 */
static int csv_end(const char *path, const char *bn, long lineno, int lrc, int cols,
                   const struct ds_spec *spec, const struct dataread_csv *c, struct err *e)
{
    if (lrc == MLP_ETOO_LARGE)
        return err_set(e, MLP_EINVALID_DATASET, path,
                       "%s:%ld: line longer than %d bytes (no newline): not a CSV text file?", bn,
                       lineno + 1, DATAREAD_LINE_MAX);
    if (lrc == MLP_ENOMEM)
        return err_set(e, MLP_ENOMEM, path, "%s: out of memory", bn);
    if (lrc < 0)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: read error: %s", bn, strerror(errno));
    if (c->rows == 0)
        return err_set(e, MLP_EINVALID_DATASET, path, "%s: no data rows%s", bn,
                       cols && spec->header ? " after the header" : " (empty file)");
    return 0;
}

/*
 * Parse a CSV file.  *cols is the expected field count (0 = take it from the
 * first line).  label_col < 0 means the last column.  With keep false every
 * row is parsed into one reused row (a check: c->rows counts, c->v holds only
 * the last row).  For classification the label field must be an integer.
 */
static int csv_parse(const char *path, const struct ds_spec *spec, int *cols, bool keep,
                     int64_t max_bytes, struct dataread_csv *c, struct err *e)
{
    const char *bn = dataread_base_name(path);
    char *line = NULL;
    size_t ulen;
    ssize_t len;
    long lineno = 0;
    bool header_left = spec->header;
    int rc = 0, lrc;
    memset(c, 0, sizeof *c);
    c->max_label = -1;
    struct line_rd rd = {.fd = dataread_open(path, max_bytes, NULL, e)};
    if (rd.fd < 0)
        return rd.fd;
    while ((lrc = line_rd_next(&rd, &line, &ulen)) == 1) {
        len = (ssize_t)ulen;
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (strspn(line, " \t") == (size_t)len)
            continue;
        int lab = 0, nf = csv_line_shape(path, bn, lineno, line, len, spec, cols, &lab, e);
        if (nf < 0) {
            rc = nf;
            goto out;
        }
        if (header_left) {
            header_left = false;
            continue;
        }
        if ((rc = csv_room(path, bn, keep, *cols, c, e)))
            goto out;
        float *row = c->v + (keep ? (size_t)c->rows * (size_t)*cols : 0);
        if ((rc = csv_row_values(path, bn, lineno, line, nf, lab, spec, row, c, e)))
            goto out;
        c->rows++;
    }
    rc = csv_end(path, bn, lineno, lrc, *cols, spec, c, e);
out:
    free(rd.buf);
    close(rd.fd);
    if (rc) {
        free(c->v);
        c->v = NULL;
    }
    return rc;
}

int dataread_csv_pair(const struct ds_spec *spec, const struct dataread_sources *src, bool keep,
                      struct dataread_csv c[2], int *cols, struct err *e)
{
    return dataread_csv_pair_max(spec, src, keep, 0, c, cols, e);
}

int dataread_csv_pair_max(const struct ds_spec *spec, const struct dataread_sources *src,
                          bool keep, int64_t max_bytes, struct dataread_csv c[2], int *cols,
                          struct err *e)
{
    int rc, train_cols;
    memset(c, 0, 2 * sizeof *c);
    *cols = 0;
    if ((rc = csv_parse(src->path[0], spec, cols, keep, max_bytes, &c[0], e)))
        return rc;
    train_cols = *cols;
    *cols = 0;
    if ((rc = csv_parse(src->path[1], spec, cols, keep, max_bytes, &c[1], e)))
        goto fail;
    if (*cols != train_cols) {
        rc = err_set(e, MLP_EINVALID_DATASET, src->path[1],
                     "%s has %d columns but %s has %d: train and test must have the same columns",
                     dataread_base_name(src->path[1]), *cols, dataread_base_name(src->path[0]),
                     train_cols);
        goto fail;
    }
    return 0;
fail:
    free(c[0].v);
    free(c[1].v);
    memset(c, 0, 2 * sizeof *c);
    return rc;
}

/* ---- submit-time checks ----------------------------------------------------- */

/* The row counts of spec's files, reading headers only (CSV: every cell, kept nowhere). */
static int check_sources(const struct ds_spec *spec, const struct dataread_sources *src,
                         int64_t max_bytes, struct dataset_info *info, struct err *e)
{
    const struct ds_entry *c;
    switch (spec->kind) {
    case DS_SYNTHETIC:
        info->n_train = info->n_test = spec->n;
        info->inputs = 0; /* a few features: small next to any hidden layer */
        info->outputs = spec->task == DS_REGRESSION ? 1 : 2;
        return 0;
    case DS_CSV: {
        struct dataread_csv v[2];
        int cols, rc = dataread_csv_pair_max(spec, src, false, max_bytes, v, &cols, e);
        if (rc)
            return rc;
        info->n_train = v[0].rows;
        info->n_test = v[1].rows;
        info->inputs = cols - 1;
        double ml = v[0].max_label > v[1].max_label ? v[0].max_label : v[1].max_label;
        info->outputs = spec->task == DS_REGRESSION ? 1 : ml >= 1 ? (int64_t)ml + 1 : 2;
        free(v[0].v);
        free(v[1].v);
        return 0;
    }
    case DS_IDX:
    case DS_NAMED:
        c = spec->kind == DS_NAMED ? ds_catalogue_find(spec->name) : NULL;
        if (c && c->format == DS_FMT_CIFAR) {
            int64_t recs;
            info->n_train = 0;
            info->inputs = DATAREAD_CIFAR_D;
            info->outputs = 10;
            for (int i = 0; i < src->n; i++) {
                int rc = dataread_cifar_size(src->path[i], &recs, e);
                if (rc)
                    return rc;
                if (i < src->n - 1)
                    info->n_train += recs;
                else
                    info->n_test = recs;
            }
            return 0;
        } else {
            struct dataread_idx f[4];
            int rc = dataread_idx_open4_max(src, max_bytes, f, e);
            if (rc)
                return rc;
            info->n_train = f[0].n;
            info->n_test = f[2].n;
            info->inputs = f[0].d;
            info->outputs = 10;
            dataread_idx_close(f);
            return 0;
        }
    }
    return err_set(e, MLP_EINTERNAL, NULL, "unknown dataset kind %d", (int)spec->kind);
}

int dataset_check(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                  struct dataset_info *info, struct err *e)
{
    return dataset_check_max(spec, dirs, NULL, info, e);
}

int dataset_check_max(const struct ds_spec *spec, const struct dataset_dirs *dirs,
                      const struct dataset_limits *lim, struct dataset_info *info, struct err *e)
{
    struct dataread_sources *src = calloc(1, sizeof *src);
    struct dataset_info got = {0, 0, 0, 0};
    int rc;
    if (!src)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    if ((rc = dataread_find(spec, dirs, src, e)) ||
        (rc = check_sources(spec, src, lim ? lim->max_bytes : 0, &got, e)))
        goto out;
    if (info)
        *info = got;
out:
    free(src);
    return rc;
}

double dataset_n_params(const struct hparams *hp, int64_t inputs, int64_t outputs)
{
    double n = 0, prev = (double)inputs;
    for (int l = 0; l < hp->n_hidden; l++) {
        n += prev * hp->hidden[l] + hp->hidden[l];
        prev = hp->hidden[l];
    }
    return n + prev * (double)outputs + (double)outputs;
}

int dataset_check_grid(const struct grid *g, const struct dataset_dirs *dirs,
                       const struct dataset_limits *lim, struct err *e)
{
    struct dataset_info info;
    int rc = dataset_check_max(grid_dataset(g), dirs, lim, &info, e);
    if (rc) {
        if (!e->path[0])
            snprintf(e->path, sizeof e->path, "dataset");
        return rc;
    }
    for (size_t i = 0; i < grid_n_configs(g); i++) {
        const struct hparams *hp = grid_config(g, i);
        if ((rc = dataset_split(info.n_train, hp->val_fraction, hp->train_size, NULL, NULL, e))) {
            /* Name the configuration: the grid's params are the user's words. */
            size_t len = strlen(e->msg);
            snprintf(e->msg + len, sizeof e->msg - len, " (configuration %zu of %zu)", i + 1,
                     grid_n_configs(g));
            return rc;
        }
        double np = dataset_n_params(hp, info.inputs, info.outputs);
        if (lim && lim->max_params > 0 && np > (double)lim->max_params) {
            char widths[160] = "";
            size_t used = 0;
            for (int l = 0; l < hp->n_hidden && used + 16 < sizeof widths; l++)
                used += (size_t)snprintf(widths + used, sizeof widths - used, "%s%d",
                                         l ? ", " : "", hp->hidden[l]);
            return err_set(e, MLP_ETOO_LARGE, "grid",
                           "configuration %zu of %zu: a network %lld -> [%s] -> %lld has %.0f "
                           "weights and biases, more than max_params %lld (mlpd.conf)",
                           i + 1, grid_n_configs(g), (long long)info.inputs, widths,
                           (long long)info.outputs, np, (long long)lim->max_params);
        }
    }
    return 0;
}
