/*
 * store_meta — the tags and notes users attach to a sweep or to one of its
 * configurations (schema/008-meta.sql).  Part of the store module: only the
 * store speaks SQL.  config_idx 0 means the sweep itself.
 *
 * A note carries a version (1 for its first text, +1 per edit, never reset:
 * a cleared note keeps its row with text "").  An edit states the version it
 * was based on and is refused when another edit came first, so no text is
 * lost to a race; an append needs no version (nothing is overwritten).
 * Functions return 0 or a negative MLP_E* code with *e filled.
 */
#ifndef MLP_STORE_META_H
#define MLP_STORE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store;

#define STORE_TAGS_MAX 64          /* tags per sweep or configuration */
#define STORE_NOTE_MAX (64 * 1024) /* bytes of a note's text */

struct store_tag_row {
    int64_t config_idx; /* 0: the sweep */
    const char *key, *value;
};
/*
 * Tags of a sweep, by config then key: only config_idx's when it is >= 0,
 * every target's when it is -1.  Pointers are valid during the callback.
 */
int store_tags_each(struct store *st, int64_t sweep_id, int64_t config_idx,
                    int (*cb)(void *ud, const struct store_tag_row *r), void *ud, struct err *e);

/*
 * Set (value non-NULL) or remove (value NULL) n tags of one target in one
 * transaction.  MLP_ECONFLICT (path "tags") when the target would hold more
 * than STORE_TAGS_MAX tags (nothing changes then).
 */
int store_tags_set(struct store *st, int64_t sweep_id, int64_t config_idx, size_t n,
                   const char *const *keys, const char *const *values, struct err *e);

struct store_note {
    int64_t config_idx;
    char *text;      /* owned (store_note_release); "" when none */
    int64_t version; /* 0: never written */
    double updated;  /* NaN when never written */
};
void store_note_release(struct store_note *n);

/* The note of one target (version 0 and text "" when it has none). */
int store_note_get(struct store *st, int64_t sweep_id, int64_t config_idx, struct store_note *out,
                   struct err *e);

/* Every non-empty note of a sweep's configurations (config_idx > 0), by config. */
int store_notes_each(struct store *st, int64_t sweep_id,
                     int (*cb)(void *ud, const struct store_note *n), void *ud, struct err *e);

/*
 * Write a note in one transaction.  append: add text as a new line after the
 * current text (any version).  Otherwise replace it, only when the current
 * version is base (0: the target has never had a note); else MLP_ECONFLICT
 * (path "version") and *out holds the current note, which stays as it was.
 * MLP_ETOO_LARGE when the result exceeds STORE_NOTE_MAX.  On success *out
 * holds the note as written.  Release *out in both cases.
 */
int store_note_put(struct store *st, int64_t sweep_id, int64_t config_idx, const char *text,
                   bool append, int64_t base, struct store_note *out, struct err *e);

/*
 * The most recently finished failed trial of a sweep (for the on_trial_failed
 * hook): 1 with *trial_id and *error (malloc'ed, "" when none; caller frees),
 * 0 when the sweep has no failed trial, or <0.
 */
int store_last_failed(struct store *st, int64_t sweep_id, int64_t *trial_id, char **error,
                      struct err *e);

#endif
