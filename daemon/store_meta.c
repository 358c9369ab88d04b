/*
 * store_meta — tags and notes.  See store_meta.h.
 *
 * These statements run when a user tags or annotates a sweep and when a
 * summary is built (two indexed lookups), so they are prepared per call like
 * store_slurm.c's; writes go through store_int.h's transaction wrappers.
 */
#include "store_meta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

static int db_err(struct store *st, struct err *e, const char *what)
{
    return err_set(e, MLP_ESTORAGE, NULL, "%s: %s", what, sqlite3_errmsg(store__db(st)));
}

/* Prepare sql; NULL with *e filled. */
static sqlite3_stmt *prep(struct store *st, const char *sql, struct err *e)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(store__db(st), sql, -1, &s, NULL) != SQLITE_OK) {
        db_err(st, e, "prepare");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

int store_tags_each(struct store *st, int64_t sweep_id, int64_t config_idx,
                    int (*cb)(void *ud, const struct store_tag_row *r), void *ud, struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT config_idx, key, value FROM tags WHERE sweep_id = ?1 AND "
                           "(?2 < 0 OR config_idx = ?2) ORDER BY config_idx, key",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    sqlite3_bind_int64(s, 2, config_idx);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_tag_row r = {.config_idx = sqlite3_column_int64(s, 0),
                                  .key = col_text(s, 1),
                                  .value = col_text(s, 2)};
        if ((ret = cb(ud, &r)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, "tags");
    sqlite3_finalize(s);
    return ret;
}

int store_tags_set(struct store *st, int64_t sweep_id, int64_t config_idx, size_t n,
                   const char *const *keys, const char *const *values, struct err *e)
{
    sqlite3_stmt *put = NULL, *del = NULL, *cnt = NULL;
    if (store__begin(st, true, e) < 0)
        return e->code;
    put = prep(st,
               "INSERT INTO tags(sweep_id, config_idx, key, value) VALUES (?1, ?2, ?3, ?4) "
               "ON CONFLICT(sweep_id, config_idx, key) DO UPDATE SET value = excluded.value",
               e);
    del = prep(st, "DELETE FROM tags WHERE sweep_id = ?1 AND config_idx = ?2 AND key = ?3", e);
    cnt = prep(st, "SELECT count(*) FROM tags WHERE sweep_id = ?1 AND config_idx = ?2", e);
    if (!put || !del || !cnt)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = values[i] ? put : del;
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, sweep_id);
        sqlite3_bind_int64(s, 2, config_idx);
        sqlite3_bind_text(s, 3, keys[i], -1, SQLITE_STATIC);
        if (values[i])
            sqlite3_bind_text(s, 4, values[i], -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) {
            db_err(st, e, "tag");
            goto fail;
        }
    }
    sqlite3_bind_int64(cnt, 1, sweep_id);
    sqlite3_bind_int64(cnt, 2, config_idx);
    if (sqlite3_step(cnt) != SQLITE_ROW) {
        db_err(st, e, "tag count");
        goto fail;
    }
    int64_t have = sqlite3_column_int64(cnt, 0);
    if (have > STORE_TAGS_MAX) {
        err_set(e, MLP_ECONFLICT, "tags", "tag: at most %d tags per %s (this would make %lld)",
                STORE_TAGS_MAX, config_idx ? "configuration" : "sweep", (long long)have);
        goto fail;
    }
    sqlite3_finalize(put);
    sqlite3_finalize(del);
    sqlite3_finalize(cnt);
    return store__commit(st, e);
fail:
    sqlite3_finalize(put);
    sqlite3_finalize(del);
    sqlite3_finalize(cnt);
    store__rollback(st);
    return e->code;
}

void store_note_release(struct store_note *n)
{
    free(n->text);
    n->text = NULL;
}

/* Read one note into *out (text strdup'ed): 0, or MLP_ENOMEM / MLP_ESTORAGE. */
static int note_read(struct store *st, int64_t sweep_id, int64_t config_idx,
                     struct store_note *out, struct err *e)
{
    *out = (struct store_note){.config_idx = config_idx, .updated = NAN};
    sqlite3_stmt *s = prep(st,
                           "SELECT text, version, updated FROM notes WHERE sweep_id = ?1 AND "
                           "config_idx = ?2",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    sqlite3_bind_int64(s, 2, config_idx);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        out->text = strdup(col_text(s, 0));
        out->version = sqlite3_column_int64(s, 1);
        out->updated = sqlite3_column_double(s, 2);
    } else if (rc == SQLITE_DONE) {
        out->text = strdup("");
    } else {
        ret = db_err(st, e, "note");
    }
    sqlite3_finalize(s);
    if (ret == 0 && !out->text)
        ret = err_set(e, MLP_ENOMEM, NULL, "out of memory");
    return ret;
}

int store_note_get(struct store *st, int64_t sweep_id, int64_t config_idx, struct store_note *out,
                   struct err *e)
{
    return note_read(st, sweep_id, config_idx, out, e);
}

int store_notes_each(struct store *st, int64_t sweep_id,
                     int (*cb)(void *ud, const struct store_note *n), void *ud, struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT config_idx, text, version, updated FROM notes WHERE "
                           "sweep_id = ?1 AND config_idx > 0 AND text <> '' ORDER BY config_idx",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_note n = {.config_idx = sqlite3_column_int64(s, 0),
                               .text = (char *)col_text(s, 1),
                               .version = sqlite3_column_int64(s, 2),
                               .updated = sqlite3_column_double(s, 3)};
        if ((ret = cb(ud, &n)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_err(st, e, "notes");
    sqlite3_finalize(s);
    return ret;
}

int store_note_put(struct store *st, int64_t sweep_id, int64_t config_idx, const char *text,
                   bool append, int64_t base, struct store_note *out, struct err *e)
{
    char *joined = NULL;
    sqlite3_stmt *s = NULL;
    *out = (struct store_note){.config_idx = config_idx, .updated = NAN};
    if (store__begin(st, true, e) < 0)
        return e->code;
    /* Read and write in one IMMEDIATE transaction: no other edit can come between. */
    if (note_read(st, sweep_id, config_idx, out, e) < 0)
        goto fail;
    if (!append && out->version != base) {
        err_set(e, MLP_ECONFLICT, "version",
                "note: the note was changed by another edit (it is at version %lld, this "
                "edit was based on version %lld); nothing was written",
                (long long)out->version, (long long)base);
        goto fail;
    }
    const char *newtext = text;
    if (append && out->text[0]) {
        size_t a = strlen(out->text), b = strlen(text);
        if (!(joined = malloc(a + b + 2))) {
            err_set(e, MLP_ENOMEM, NULL, "out of memory");
            goto fail;
        }
        memcpy(joined, out->text, a);
        joined[a] = '\n';
        memcpy(joined + a + 1, text, b + 1);
        newtext = joined;
    }
    if (strlen(newtext) > STORE_NOTE_MAX) {
        err_set(e, MLP_ETOO_LARGE, "text", "note: a note holds at most %d bytes (this would be %zu)",
                STORE_NOTE_MAX, strlen(newtext));
        goto fail;
    }
    double now = store__now();
    s = prep(st,
             "INSERT INTO notes(sweep_id, config_idx, text, version, updated) "
             "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(sweep_id, config_idx) DO UPDATE SET "
             "text = excluded.text, version = excluded.version, updated = excluded.updated",
             e);
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, sweep_id);
    sqlite3_bind_int64(s, 2, config_idx);
    sqlite3_bind_text(s, 3, newtext, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, out->version + 1);
    sqlite3_bind_double(s, 5, now);
    if (sqlite3_step(s) != SQLITE_DONE) {
        db_err(st, e, "note");
        goto fail;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (store__commit(st, e) < 0)
        goto fail;
    char *keep = strdup(newtext);
    if (!keep) {
        free(joined);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    free(out->text);
    out->text = keep;
    out->version++;
    out->updated = now;
    free(joined);
    return 0;
fail:
    sqlite3_finalize(s);
    store__rollback(st);
    free(joined);
    return e->code;
}

int store_last_failed(struct store *st, int64_t sweep_id, int64_t *trial_id, char **error,
                      struct err *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT id, error FROM trials WHERE sweep_id = ?1 AND state = 'failed' "
                           "ORDER BY finished DESC, id DESC LIMIT 1",
                           e);
    if (!s)
        return e->code;
    sqlite3_bind_int64(s, 1, sweep_id);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        *trial_id = sqlite3_column_int64(s, 0);
        *error = strdup(col_text(s, 1));
        ret = *error ? 1 : err_set(e, MLP_ENOMEM, NULL, "out of memory");
    } else if (rc != SQLITE_DONE) {
        ret = db_err(st, e, "last failed trial");
    }
    sqlite3_finalize(s);
    return ret;
}
