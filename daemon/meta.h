/*
 * meta — the protocol's JSON of tags and notes (PROTOCOL.md "Tags and notes")
 * and the rules their keys and values follow.  The rows are store_meta's;
 * the ops tag and note are in ops_meta.c; view.c adds a sweep's own tags and
 * note to its summary, op_show its configurations'.
 */
#ifndef MLP_META_H
#define MLP_META_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct cJSON;
struct store;

#define META_KEY_MAX 64     /* bytes of a tag key */
#define META_VALUE_MAX 256  /* bytes of a tag value */

/*
 * Add "tags" ({key: value}, {} when none) and "note" ({text, version,
 * updated} or null when empty) of target config_idx (0: the sweep) to obj.
 * 0 or <0 with *e filled.
 */
int meta_add_fields(struct store *st, int64_t sweep_id, int64_t config_idx, struct cJSON *obj,
                    struct err *e);

/*
 * The same for every object of configs (an array of objects carrying
 * "config": id or the config shape {id, params, grid}) in one pass over the sweep's tags and notes: "tags" always,
 * "note" only for configurations that have one.  0 or <0 with *e filled.
 */
int meta_add_config_fields(struct store *st, int64_t sweep_id, struct cJSON *configs,
                           struct err *e);

/* The note object {text, version, updated} of a store note; caller frees. */
struct cJSON *meta_note_json(const char *text, int64_t version, double updated);

/*
 * Check a tag key (1..META_KEY_MAX bytes of letters, digits, '_', '-', '.',
 * ':', starting with a letter or digit) or value (at most META_VALUE_MAX
 * bytes, no control characters).  0 or MLP_EINVALID_REQUEST at path.
 */
int meta_check_key(const char *key, const char *path, struct err *e);
int meta_check_value(const char *value, const char *path, struct err *e);

#endif
