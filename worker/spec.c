/*
 * spec — reading and checking a trial spec (see spec.h).
 *
 * The whole spec is read into memory (at most SPEC_MAX bytes), parsed with
 * nothing allowed after the object, and checked top-down: the top-level keys,
 * then "params" through the hparams table, then "dataset".  Relative dataset
 * paths are taken from the current directory.
 */
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "json.h"

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

/* Check the top level of the spec; fills the three parts (borrowed from root). */
static int check_top(const cJSON *root, const cJSON **dataset, const cJSON **params, int64_t *seed,
                     const cJSON **adir, struct err *e)
{
    static const char *const keys[] = {"dataset", "seed", "params", "trial", "artifacts_dir", NULL};
    char brief[96];
    if (!cJSON_IsObject(root))
        return err_set(e, MLP_EINVALID_SPEC, NULL, "expected a JSON object, got %s",
                       json_type_name(root));
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        bool known = false;
        for (int k = 0; keys[k]; k++)
            known |= strcmp(it->string, keys[k]) == 0;
        if (!known) {
            const char *s = json_suggest(it->string, keys);
            if (!s && hparams_is_key(it->string))
                return err_set(e, MLP_EINVALID_SPEC, it->string,
                               "unknown key (hyperparameters go in \"params\")");
            if (s)
                return err_set(e, MLP_EINVALID_SPEC, it->string,
                               "unknown key (did you mean \"%s\"?)", s);
            return err_set(e, MLP_EINVALID_SPEC, it->string, "unknown key");
        }
        for (const cJSON *p = root->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return err_set(e, MLP_EINVALID_SPEC, it->string, "duplicate key");
    }
    *dataset = json_get(root, "dataset");
    if (!*dataset)
        return err_set(e, MLP_EINVALID_SPEC, "dataset", "missing (a name or an object)");
    *params = json_get(root, "params");
    const cJSON *s = json_get(root, "seed");
    *seed = 1;
    if (s && !json_is_int(s, seed))
        return err_set(e, MLP_EINVALID_SPEC, "seed", "expected an integer, got %s",
                       json_brief(s, brief, sizeof brief));
    *adir = json_get(root, "artifacts_dir");
    if (*adir && (!cJSON_IsString(*adir) || !(*adir)->valuestring[0] ||
                  strlen((*adir)->valuestring) >= PATH_MAX))
        return err_set(e, MLP_EINVALID_SPEC, "artifacts_dir",
                       "expected a directory path (a non-empty string), got %s",
                       json_brief(*adir, brief, sizeof brief));
    const cJSON *t = json_get(root, "trial");
    if (t && !json_is_int(t, NULL))
        return err_set(e, MLP_EINVALID_SPEC, "trial", "expected an integer, got %s",
                       json_brief(t, brief, sizeof brief));
    return 0;
}

int spec_read(struct spec *s, const char *path, struct err *e)
{
    char *text = NULL;
    cJSON *root = NULL;
    int rc = 0;
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
    root = cJSON_ParseWithOpts(text, NULL, true); /* nothing may follow the object */
    if (!root) {
        rc = err_set(e, MLP_EINVALID_SPEC, NULL, "the spec is not one valid JSON object");
        goto out;
    }
    const cJSON *jdataset = NULL, *jparams = NULL, *adir = NULL;
    char cwd[PATH_MAX];
    if ((rc = check_top(root, &jdataset, &jparams, &s->seed, &adir, e)) < 0)
        goto out;
    if ((rc = hparams_from_json(&s->hp, jparams, "params", e)) < 0)
        goto out;
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, ".");
    if ((rc = ds_spec_parse(&s->ds, jdataset, "dataset", cwd, e)) < 0)
        goto out;
    if (adir)
        snprintf(s->artifacts_dir, sizeof s->artifacts_dir, "%s", adir->valuestring);
out:
    cJSON_Delete(root);
    free(text);
    return rc;
}

struct dataset *spec_load_data(const struct spec *s, struct err *e)
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
