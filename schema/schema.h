/*
 * schema — the database migrations schema/NNN-name.sql, embedded at build time
 * by schema/embed.py into the generated schema_sql.c (which includes this
 * header, so definitions and the store's uses are checked against one
 * declaration).  Migrations are applied in increasing NNN; numbers are
 * assigned ahead of landing, so a number may be missing for a while, and the
 * store applies every migration a database lacks (table schema_applied).
 */
#ifndef MLP_SCHEMA_H
#define MLP_SCHEMA_H

extern const char *const schema_names[]; /* "001-init.sql", ...: schema_count names */
extern const char *const schema_sql[];   /* each migration's SQL text, in order */
extern const int schema_numbers[];       /* each migration's NNN, increasing (gaps allowed) */
extern const int schema_count;           /* how many migrations there are */
extern const int schema_version;         /* the highest NNN: PRAGMA user_version once migrated */

#endif
