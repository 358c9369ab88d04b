/*
 * ops_meta — the ops that annotate a sweep or one of its configurations:
 * tag (set and remove key=value tags) and note (a free text with a version,
 * so that an edit that raced another is refused instead of lost).  Part of
 * the ops module (ops.h; shared helpers in ops_int.h); the JSON shapes and
 * the key rules are meta.c's, the rows store_meta.c's.  Both ops change
 * what a summary shows, so they notify the sweep's watchers.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "meta.h"
#include "mlpd.h"
#include "ops.h"
#include "ops_int.h"
#include "store.h"
#include "store_meta.h"

/* The optional req.config of sweep (0 when absent; it must exist). */
static int target(struct mlpd *d, const cJSON *req, const char *op, int64_t sweep, int64_t *config,
                  struct err *e)
{
    *config = 0;
    const cJSON *c = json_get(req, "config");
    if (!c)
        return 0;
    if (!json_is_int(c, config) || *config < 1)
        return err_set(e, MLP_EINVALID_REQUEST, "config", "%s: \"config\" must be an id >= 1", op);
    struct cfgs cf = {0};
    if (ops__cfgs_load(d, sweep, *config, &cf, e) < 0)
        return e->code;
    bool found = cf.n > 0;
    ops__cfgs_free(&cf);
    if (!found)
        return err_set(e, MLP_ENOT_FOUND, "config", "%s: sweep %lld has no configuration %lld", op,
                       (long long)sweep, (long long)*config);
    return 0;
}

int op_tag(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
           struct op_intent *it, struct err *e)
{
    int64_t sweep = sw->id, config;
    if (target(d, req, "tag", sweep, &config, e) < 0)
        return e->code;
    const cJSON *tags = json_get(req, "tags");
    int n = cJSON_GetArraySize(tags);
    if (n > STORE_TAGS_MAX)
        return err_set(e, MLP_EINVALID_REQUEST, "tags", "tag: at most %d tags at once",
                       STORE_TAGS_MAX);
    const char *keys[STORE_TAGS_MAX], *values[STORE_TAGS_MAX];
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        char path[META_KEY_MAX + 16];
        snprintf(path, sizeof path, "tags.%.*s", META_KEY_MAX, t->string);
        if (meta_check_key(t->string, path, e) < 0)
            return e->code;
        if (cJSON_IsString(t)) {
            if (meta_check_value(t->valuestring, path, e) < 0)
                return e->code;
            values[i] = t->valuestring;
        } else if (cJSON_IsNull(t)) {
            values[i] = NULL;
        } else {
            return err_set(e, MLP_EINVALID_REQUEST, path,
                           "tag: a value is a string (or null to remove the tag), got %s",
                           json_type_name(t));
        }
        keys[i++] = t->string;
    }
    if (store_tags_set(d->st, sweep, config, (size_t)n, keys, values, e) < 0)
        return e->code;
    it->changed = sweep;
    if (config > 0)
        json_add_int(resp, "config", config);
    if (meta_add_fields(d->st, sweep, config, resp, e) < 0)
        return e->code;
    return ops__add_summary(d, resp, sweep, e);
}

int op_note(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e)
{
    int64_t sweep = sw->id, config;
    if (target(d, req, "note", sweep, &config, e) < 0)
        return e->code;
    const char *text = json_get(req, "text")->valuestring;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return err_set(e, MLP_EINVALID_REQUEST, "text",
                           "note: the text cannot hold control characters (newlines and tabs "
                           "are fine)");
    bool append = cJSON_IsTrue(json_get(req, "append"));
    const cJSON *ver = json_get(req, "version");
    int64_t base = 0;
    if (ver && !json_is_int(ver, &base))
        return err_set(e, MLP_EINVALID_REQUEST, "version", "note: \"version\" must be an integer");
    if (ver && base < 0)
        return err_set(e, MLP_EINVALID_REQUEST, "version", "note: \"version\" must be >= 0");
    if (append && !text[0])
        return err_set(e, MLP_EINVALID_REQUEST, "text", "note: nothing to append");
    struct store_note n;
    int rc = store_note_put(d->st, sweep, config, text, append, base, &n, e);
    if (rc == MLP_ECONFLICT && !ver)
        err_set(e, MLP_ECONFLICT, "version",
                "note: %s %lld already has a note (version %lld); replace it by giving the "
                "version it replaces, or append to it",
                config ? "configuration" : "sweep", (long long)(config ? config : sweep),
                (long long)n.version);
    if (rc < 0) {
        store_note_release(&n);
        return rc;
    }
    it->changed = sweep;
    if (config > 0)
        json_add_int(resp, "config", config);
    cJSON *nj = meta_note_json(n.text, n.version, n.updated);
    store_note_release(&n);
    if (!nj)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    cJSON_AddItemToObject(resp, "note", nj);
    return ops__add_summary(d, resp, sweep, e);
}
