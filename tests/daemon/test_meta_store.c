/*
 * test_meta_store — tags and notes in the store (daemon/store_meta.c) and the
 * migration bookkeeping that lets migrations land out of numeric order
 * (daemon/store.c migrate, schema/embed.py), on real SQLite files.
 *
 *   - tags: set, replace, remove, per configuration; the 64-tag limit refuses
 *     the whole change;
 *   - notes: an edit based on an older version is refused with the winning
 *     text left as it was; append needs no version; a cleared note keeps its
 *     version; the size limit;
 *   - migrations: a database whose user_version is already the highest
 *     number but that lacks a lower migration (it was migrated by a build in
 *     which that number had not landed yet) gets it applied; a database from
 *     before schema_applied counts 1..user_version as applied.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "schema/schema.h"
#include "store.h"
#include "store_meta.h"


static char tmpdir[] = "/tmp/test_meta_store.XXXXXX";

static struct store *open_at(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    struct err e = ERR_INIT;
    struct store *st = store_open(path, &e);
    if (!st)
        fprintf(stderr, "store_open %s: %s\n", path, e.msg);
    return st;
}

static int64_t submit(struct store *st)
{
    const char *params[] = {"{\"lr\":1}", "{\"lr\":2}"};
    int64_t seeds[] = {1};
    struct store_new_sweep ns = {.grid_json = "{}",
                                 .dataset_json = "{\"name\":\"xor\"}",
                                 .keys_json = "[\"lr\"]",
                                 .metric = "val_loss",
                                 .n_configs = 2,
                                 .params_json = params,
                                 .varying_json = params,
                                 .n_seeds = 1,
                                 .seeds = seeds};
    int64_t id = 0;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(store_submit(st, &ns, &id, &e), 0);
    return id;
}

struct tags_seen {
    char text[512];
};
static int tag_cb(void *ud, const struct store_tag_row *r)
{
    struct tags_seen *t = ud;
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof t->text - n, "%lld:%s=%s;", (long long)r->config_idx, r->key,
             r->value);
    return 0;
}
static const char *tags_of(struct store *st, int64_t sweep, int64_t config, struct tags_seen *t)
{
    struct err e = ERR_INIT;
    t->text[0] = '\0';
    CHECK_EQ_INT(store_tags_each(st, sweep, config, tag_cb, t, &e), 0);
    return t->text;
}

static void test_tags(struct store *st, int64_t sw)
{
    struct err e = ERR_INIT;
    struct tags_seen t;
    const char *k1[] = {"owner", "project"}, *v1[] = {"ann", "moons"};
    CHECK_EQ_INT(store_tags_set(st, sw, 0, 2, k1, v1, &e), 0);
    const char *k2[] = {"owner", "project"}, *v2[] = {"bob", NULL};
    CHECK_EQ_INT(store_tags_set(st, sw, 0, 2, k2, v2, &e), 0);
    const char *k3[] = {"keep"}, *v3[] = {"yes"};
    CHECK_EQ_INT(store_tags_set(st, sw, 2, 1, k3, v3, &e), 0);
    CHECK_EQ_STR(tags_of(st, sw, 0, &t), "0:owner=bob;");
    CHECK_EQ_STR(tags_of(st, sw, -1, &t), "0:owner=bob;2:keep=yes;");
    /* 64 more tags would make 65: refused, and none of them is kept. */
    char names[STORE_TAGS_MAX][16];
    const char *k4[STORE_TAGS_MAX], *v4[STORE_TAGS_MAX];
    for (int i = 0; i < STORE_TAGS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        k4[i] = names[i];
        v4[i] = "x";
    }
    CHECK_EQ_INT(store_tags_set(st, sw, 0, STORE_TAGS_MAX, k4, v4, &e), MLP_ECONFLICT);
    CHECK_EQ_STR(tags_of(st, sw, 0, &t), "0:owner=bob;");
    CHECK_EQ_INT(store_tags_set(st, sw, 0, STORE_TAGS_MAX - 1, k4, v4, &e), 0);
}

static void test_notes(struct store *st, int64_t sw)
{
    struct err e = ERR_INIT;
    struct store_note n;
    CHECK_EQ_INT(store_note_get(st, sw, 0, &n, &e), 0);
    CHECK_EQ_INT(n.version, 0);
    CHECK_EQ_STR(n.text, "");
    store_note_release(&n);
    CHECK_EQ_INT(store_note_put(st, sw, 0, "first", false, 0, &n, &e), 0);
    CHECK_EQ_INT(n.version, 1);
    store_note_release(&n);
    /* Two editors both read version 1: the first wins, the second is refused. */
    CHECK_EQ_INT(store_note_put(st, sw, 0, "from A", false, 1, &n, &e), 0);
    CHECK_EQ_INT(n.version, 2);
    store_note_release(&n);
    CHECK_EQ_INT(store_note_put(st, sw, 0, "from B", false, 1, &n, &e), MLP_ECONFLICT);
    CHECK_EQ_STR(e.path, "version");
    CHECK_EQ_STR(n.text, "from A"); /* *out holds the note that stays */
    CHECK_EQ_INT(n.version, 2);
    store_note_release(&n);
    CHECK_EQ_INT(store_note_put(st, sw, 0, "and B's line", true, 0, &n, &e), 0);
    CHECK_EQ_STR(n.text, "from A\nand B's line");
    CHECK_EQ_INT(n.version, 3);
    store_note_release(&n);
    /* Cleared: empty text, the version still grows, so version 1..3 edits stay refused. */
    CHECK_EQ_INT(store_note_put(st, sw, 0, "", false, 3, &n, &e), 0);
    CHECK_EQ_INT(n.version, 4);
    store_note_release(&n);
    CHECK_EQ_INT(store_note_put(st, sw, 0, "stale", false, 0, &n, &e), MLP_ECONFLICT);
    store_note_release(&n);
    char *big = malloc(STORE_NOTE_MAX + 2);
    memset(big, 'x', STORE_NOTE_MAX + 1);
    big[STORE_NOTE_MAX + 1] = '\0';
    CHECK_EQ_INT(store_note_put(st, sw, 0, big, false, 4, &n, &e), MLP_ETOO_LARGE);
    store_note_release(&n);
    free(big);
    CHECK_EQ_INT(store_note_put(st, sw, 2, "config two", false, 0, &n, &e), 0);
    store_note_release(&n);
    CHECK_EQ_INT(store_note_get(st, sw, 2, &n, &e), 0);
    CHECK_EQ_STR(n.text, "config two");
    CHECK_EQ_INT(n.version, 1);
    store_note_release(&n);
    /* The sweep's delete cascades to both tables. */
    CHECK_EQ_INT(store_sweep_delete(st, sw, &e), 0);
    CHECK_EQ_INT(store_note_get(st, sw, 2, &n, &e), 0);
    CHECK_EQ_INT(n.version, 0);
    store_note_release(&n);
    struct tags_seen t;
    CHECK_EQ_STR(tags_of(st, sw, -1, &t), "");
}

static long long one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void test_migration_gaps(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/gap.db", tmpdir);
    struct store *st = open_at("gap.db");
    CHECK(st != NULL);
    if (!st)
        return;
    store_close(st);
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(one_int(db, "PRAGMA user_version"), schema_version);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM schema_applied"), schema_count);
    /*
     * As if the build that migrated this file had lacked 008: its tables and
     * its row are gone, user_version is already the highest number.
     */
    CHECK_EQ_INT(sqlite3_exec(db,
                              "DROP TABLE notes; DROP TABLE tags; "
                              "DELETE FROM schema_applied WHERE number = 8",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    st = open_at("gap.db");
    CHECK(st != NULL);
    if (st)
        store_close(st);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'notes'"), 1);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM schema_applied WHERE number = 8"), 1);
    /*
     * A file from before schema_applied, written by a build whose highest
     * migration was 005: user_version 5, so 1..5 count as applied and only
     * 008 runs.
     */
    CHECK_EQ_INT(sqlite3_exec(db,
                              "DROP TABLE notes; DROP TABLE tags; DROP TABLE schema_applied; "
                              /* and 013's work (on 011's and 012's columns) */
                              "DROP TRIGGER results_means_insert; DROP TRIGGER results_means_update; "
                              "DROP TRIGGER results_means_delete; DROP TRIGGER sweeps_means_delete; "
                              "DROP TABLE config_means; DROP VIEW selection_values; "
                              /* and 011's */
                              "DROP TRIGGER trials_count_insert; DROP TRIGGER trials_count_state; "
                              "DROP TRIGGER trials_count_delete; DROP TRIGGER sweeps_count_delete; "
                              "DROP TABLE sweep_counts; ALTER TABLE sweeps DROP COLUMN hidden; "
                              /* and 012's */
                              "ALTER TABLE sweeps DROP COLUMN trials_max; "
                              "ALTER TABLE configs DROP COLUMN race; "
                              "ALTER TABLE trials DROP COLUMN confirm; "
                              "ALTER TABLE results DROP COLUMN confirm; "
                              "PRAGMA user_version = 5",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    st = open_at("gap.db");
    CHECK(st != NULL);
    if (st)
        store_close(st);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'tags'"), 1);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM schema_applied"), schema_count);
    CHECK_EQ_INT(one_int(db, "PRAGMA user_version"), schema_version);
    sqlite3_close(db);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    struct store *st = open_at("meta.db");
    CHECK(st != NULL);
    if (st) {
        int64_t sw = submit(st);
        test_tags(st, sw);
        test_notes(st, sw);
        store_close(st);
    }
    test_migration_gaps();
    const char *names[] = {"meta.db", "gap.db"};
    for (size_t i = 0; i < 2; i++) {
        const char *sfx[] = {"", "-wal", "-shm"};
        for (int k = 0; k < 3; k++) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s%s", tmpdir, names[i], sfx[k]);
            unlink(p);
        }
    }
    rmdir(tmpdir);
    return check_report();
}
