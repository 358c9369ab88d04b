/*
 * spec — reading and checking a trial spec (see spec.h).
 *
 * The whole spec is read into memory (at most SPEC_MAX bytes) and handed to
 * trialwire_spec_read, which allows nothing after the object and checks it
 * top-down.  Relative dataset paths are taken from the current directory.
 */
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define SPEC_MAX (16u << 20)

/* Read all of f into a NUL-terminated buffer (caller frees); NULL with *e on failure. */
static char *read_all(FILE *f, const char *what, struct err *e)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        goto nomem;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= SPEC_MAX) {
                free(buf);
                err_set(e, MLP_EINVALID_SPEC, NULL, "%s: spec larger than %u bytes", what,
                        SPEC_MAX);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                goto nomem;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                err_set(e, MLP_EIO, NULL, "%s: read error: %s", what, strerror(errno));
                return NULL;
            }
            break;
        }
    }
    buf[len] = '\0';
    return buf;
nomem:
    free(buf);
    err_set(e, MLP_ENOMEM, NULL, "out of memory reading the spec");
    return NULL;
}

int spec_read(struct trial_spec *s, const char *path, struct err *e)
{
    char *text = NULL;
    memset(s, 0, sizeof *s);
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f)
            return err_set(e, MLP_EINVALID_SPEC, NULL, "cannot open spec file %s: %s", path,
                           strerror(errno));
        text = read_all(f, path, e);
        fclose(f);
    } else {
        text = read_all(stdin, "stdin", e);
    }
    if (!text)
        return e->code;
    /* Up to the first NUL, as a text file ends. */
    int rc = trialwire_spec_read(s, text, strlen(text), NULL, e);
    free(text);
    return rc;
}

struct dataset *spec_load_data(const struct trial_spec *s, struct err *e)
{
    /* Data directories: the prepared-data cache lives in <data dir>/cache;
     * MLP_NO_DATA_CACHE=1 (a non-empty value other than 0) prepares in memory
     * instead, as a check that the cache changes nothing.  A cache that
     * cannot be created is simply not used. */
    char data_dir[CONFIG_PATH_MAX], cache_dir[CONFIG_PATH_MAX + 8];
    struct dataset_dirs dirs = {NULL, DS_SYSTEM_DIR, NULL};
    const char *off = getenv("MLP_NO_DATA_CACHE");
    bool use_cache = !(off && off[0] && strcmp(off, "0") != 0);
    if (config_data_dir(data_dir, sizeof data_dir) == 0) {
        dirs.data_dir = data_dir;
        snprintf(cache_dir, sizeof cache_dir, "%s/cache", data_dir);
        if (use_cache)
            dirs.cache_dir = cache_dir;
    }
    return data_open(&s->ds, &dirs, s->hp.split_seed, e);
}
