/*
 * meta — tags and notes as JSON.  See meta.h.
 */
#include "meta.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "store_meta.h"

cJSON *meta_note_json(const char *text, int64_t version, double updated)
{
    cJSON *n = cJSON_CreateObject();
    if (!n)
        return NULL;
    cJSON_AddStringToObject(n, "text", text);
    json_add_int(n, "version", version);
    json_add_time(n, "updated", updated);
    return n;
}

static int tag_into(void *ud, const struct store_tag_row *r)
{
    cJSON *tags = ud;
    return cJSON_AddStringToObject(tags, r->key, r->value) ? 0 : MLP_ENOMEM;
}

int meta_add_fields(struct store *st, int64_t sweep_id, int64_t config_idx, cJSON *obj,
                    struct err *e)
{
    cJSON *tags = cJSON_AddObjectToObject(obj, "tags");
    if (!tags)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    int rc = store_tags_each(st, sweep_id, config_idx, tag_into, tags, e);
    if (rc < 0)
        return rc == MLP_ENOMEM ? err_set(e, rc, NULL, "out of memory") : rc;
    struct store_note n;
    if (store_note_get(st, sweep_id, config_idx, &n, e) < 0)
        return e->code;
    if (n.text[0]) {
        cJSON *nj = meta_note_json(n.text, n.version, n.updated);
        if (!nj) {
            store_note_release(&n);
            return err_set(e, MLP_ENOMEM, NULL, "out of memory");
        }
        cJSON_AddItemToObject(obj, "note", nj);
    } else {
        cJSON_AddNullToObject(obj, "note");
    }
    store_note_release(&n);
    return 0;
}

/* The object of configs whose "config" is idx, or NULL. */
static cJSON *config_obj(cJSON *configs, int64_t idx)
{
    cJSON *c;
    cJSON_ArrayForEach(c, configs)
    {
        const cJSON *cfg = json_get(c, "config");
        int64_t v;
        if (cJSON_IsObject(cfg))
            cfg = json_get(cfg, "id");
        if (json_is_int(cfg, &v) && v == idx)
            return c;
    }
    return NULL;
}

static int config_tag(void *ud, const struct store_tag_row *r)
{
    cJSON *c = config_obj(ud, r->config_idx);
    cJSON *tags = c ? json_get(c, "tags") : NULL;
    if (c && !tags && !(tags = cJSON_AddObjectToObject(c, "tags")))
        return MLP_ENOMEM;
    return !c || cJSON_AddStringToObject(tags, r->key, r->value) ? 0 : MLP_ENOMEM;
}

static int config_note(void *ud, const struct store_note *n)
{
    cJSON *c = config_obj(ud, n->config_idx);
    if (!c)
        return 0;
    cJSON *nj = meta_note_json(n->text, n->version, n->updated);
    if (!nj)
        return MLP_ENOMEM;
    cJSON_AddItemToObject(c, "note", nj);
    return 0;
}

int meta_add_config_fields(struct store *st, int64_t sweep_id, cJSON *configs, struct err *e)
{
    cJSON *c;
    cJSON_ArrayForEach(c, configs)
    {
        if (!json_get(c, "tags") && !cJSON_AddObjectToObject(c, "tags"))
            return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    int rc = store_tags_each(st, sweep_id, -1, config_tag, configs, e);
    if (rc == 0)
        rc = store_notes_each(st, sweep_id, config_note, configs, e);
    if (rc == MLP_ENOMEM)
        return err_set(e, rc, NULL, "out of memory");
    return rc;
}

int meta_check_key(const char *key, const char *path, struct err *e)
{
    size_t n = strlen(key);
    if (n == 0 || n > META_KEY_MAX)
        return err_set(e, MLP_EINVALID_REQUEST, path, "a tag key has 1 to %d bytes (got %zu)",
                       META_KEY_MAX, n);
    if (!isalnum((unsigned char)key[0]))
        return err_set(e, MLP_EINVALID_REQUEST, path,
                       "a tag key starts with a letter or a digit (got \"%.64s\")", key);
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_-.:", *p))
            return err_set(e, MLP_EINVALID_REQUEST, path,
                           "a tag key holds letters, digits, '_', '-', '.' and ':' only "
                           "(\"%.64s\" has '%c')",
                           key, isprint((unsigned char)*p) ? *p : '?');
    return 0;
}

int meta_check_value(const char *value, const char *path, struct err *e)
{
    size_t n = strlen(value);
    if (n > META_VALUE_MAX)
        return err_set(e, MLP_EINVALID_REQUEST, path, "a tag value has at most %d bytes (got %zu)",
                       META_VALUE_MAX, n);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return err_set(e, MLP_EINVALID_REQUEST, path,
                           "a tag value cannot hold control characters");
    return 0;
}
