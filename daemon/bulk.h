/*
 * bulk — work proportional to a sweep, run off the event loop.
 *
 * Inserting a large sweep and removing a deleted one take seconds (a million
 * trials); the loop must keep answering meanwhile.  Such work is a bulk task:
 * run on libuv's thread pool with its own read-write store connection
 * (store_open_bulk), in batches of short transactions (store.h, "Large
 * sweeps") separated by bulk_yield, so the loop's own writes (claims,
 * results) wait at most about one batch for SQLite's write lock.  Tasks run
 * one at a time, in the order they were pushed: two bulk writers would only
 * contend for the same lock, and a submit sees every earlier one committed.
 *
 * A task's run() is called on a pool thread; its done() on the loop thread
 * once run() has returned (status < 0 when libuv cancelled it before it ran).
 * done() may free the task.  bulk_stop() asks the running task to end early
 * (bulk_stopping() turns true; a stopped insert or purge leaves its sweep
 * hidden, and the next start purges it) and cancels the queued ones.
 */
#ifndef MLP_BULK_H
#define MLP_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define BULK_BATCH_ROWS 4000 /* rows per transaction of a bulk insert or purge */

struct bulk;

struct bulk_task {
    uv_work_t work; /* libuv's; private */
    void (*run)(struct bulk_task *t);
    void (*done)(struct bulk_task *t, int status);
    struct bulk *owner; /* set by bulk_push */
    struct bulk_task *next;
};

struct bulk *bulk_new(uv_loop_t *loop);
/* Free the queue (after the loop has run every task's done). */
void bulk_free(struct bulk *b);
/* Queue t; it runs after every task pushed before it. */
void bulk_push(struct bulk *b, struct bulk_task *t);
/* Ask the running task to stop and drop the queued ones (their done gets UV_ECANCELED). */
void bulk_stop(struct bulk *b);
/* For run(): whether bulk_stop was called (check between batches). */
bool bulk_stopping(const struct bulk *b);
/* For run(): pause between two batches so the loop's connection gets the write lock. */
void bulk_yield(void);
/*
 * A removal failed (e.g. on a full disk) and left a sweep hidden: ask for the
 * hidden sweeps to be purged again (main.c does, when no task is pending).
 * Callable from run() or the loop.
 */
void bulk_purge_again(struct bulk *b);
/* Whether bulk_purge_again was called since the last bulk_purge_taken. */
bool bulk_purge_wanted(const struct bulk *b);
void bulk_purge_taken(struct bulk *b);
/* Tasks queued or running. */
size_t bulk_pending(const struct bulk *b);

#endif
