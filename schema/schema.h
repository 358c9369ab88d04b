/*
 * schema — the database migrations schema/NNN-name.sql, embedded at build time
 * by schema/embed.py into the generated schema_sql.c (which includes this
 * header, so definitions and the store's uses are checked against one
 * declaration).  Migration i (0-based) takes PRAGMA user_version from i to i + 1.
 */
#ifndef MLP_SCHEMA_H
#define MLP_SCHEMA_H

extern const char *const schema_names[]; /* "001-init.sql", ...: schema_count names */
extern const char *const schema_sql[];   /* each migration's SQL text, in order */
extern const int schema_count;           /* how many migrations there are */

#endif
