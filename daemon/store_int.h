/*
 * store_int — what store.c shares with store_slurm.c, the Slurm half of the
 * same module.  Nothing outside the store includes this header (it would let
 * SQLite escape the store).  Transactions go through these wrappers so the
 * store's cached PRAGMA synchronous mode stays right.
 */
#ifndef MLP_STORE_INT_H
#define MLP_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "store.h"

/* The connection (owned by the store). */
sqlite3 *store__db(struct store *st);
/* BEGIN IMMEDIATE with synchronous FULL (full) or NORMAL: 0 or MLP_ESTORAGE. */
int store__begin(struct store *st, bool full, struct err *e);
int store__commit(struct store *st, struct err *e);
/* Roll back the open transaction, if any. */
void store__rollback(struct store *st);
/* Set PRAGMA synchronous for the next autocommit statement. */
void store__sync(struct store *st, bool full);
/*
 * Inside an open transaction: insert the result row of r (with its confusion
 * matrix) and set the trial 'done'.  Shared by store_trial_done and
 * store_slurm_done so both executors write a result the same way.  0 or
 * MLP_ESTORAGE (the caller rolls back).
 */
int store__result_write(struct store *st, int64_t trial_id, int attempt,
                        const struct store_result *r, struct err *e);
/* Unix time in seconds. */
double store__now(void);

#endif
