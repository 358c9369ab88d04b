/*
 * bulk — one bulk task at a time on libuv's pool.  See bulk.h.
 */
#include "bulk.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct bulk {
    uv_loop_t *loop;
    struct bulk_task *head, *tail; /* queued, not yet started */
    struct bulk_task *running;
    size_t pending;
    atomic_bool stop;
    atomic_bool purge; /* bulk_purge_again */
};

struct bulk *bulk_new(uv_loop_t *loop)
{
    struct bulk *b = calloc(1, sizeof *b);
    if (b) {
        b->loop = loop;
        atomic_init(&b->stop, false);
        atomic_init(&b->purge, false);
    }
    return b;
}

void bulk_free(struct bulk *b)
{
    free(b);
}

static void on_work(uv_work_t *w)
{
    struct bulk_task *t = w->data;
    t->run(t);
}

static void start_next(struct bulk *b);

static void on_after(uv_work_t *w, int status)
{
    struct bulk_task *t = w->data;
    struct bulk *b = t->owner;
    b->running = NULL;
    b->pending--;
    t->done(t, status);
    start_next(b);
}

static void start_next(struct bulk *b)
{
    while (!b->running && b->head) {
        struct bulk_task *t = b->head;
        b->head = t->next;
        if (!b->head)
            b->tail = NULL;
        t->next = NULL;
        t->work.data = t;
        if (!atomic_load(&b->stop) && uv_queue_work(b->loop, &t->work, on_work, on_after) == 0) {
            b->running = t;
            return;
        }
        b->pending--;
        t->done(t, UV_ECANCELED);
    }
}

void bulk_push(struct bulk *b, struct bulk_task *t)
{
    t->owner = b;
    t->next = NULL;
    if (b->tail)
        b->tail->next = t;
    else
        b->head = t;
    b->tail = t;
    b->pending++;
    start_next(b);
}

void bulk_stop(struct bulk *b)
{
    if (!b)
        return;
    atomic_store(&b->stop, true);
    while (b->head) {
        struct bulk_task *t = b->head;
        b->head = t->next;
        if (!b->head)
            b->tail = NULL;
        b->pending--;
        t->done(t, UV_ECANCELED);
    }
}

bool bulk_stopping(const struct bulk *b)
{
    return atomic_load(&((struct bulk *)b)->stop);
}

void bulk_yield(void)
{
    /* Longer than SQLite's first busy-handler sleeps (1, 2, 5 ms), so a loop
     * statement waiting for the lock takes it before the next batch does. */
    struct timespec ts = {0, 8 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

size_t bulk_pending(const struct bulk *b)
{
    return b ? b->pending : 0;
}

void bulk_purge_again(struct bulk *b)
{
    atomic_store(&b->purge, true);
}

bool bulk_purge_wanted(const struct bulk *b)
{
    return atomic_load(&((struct bulk *)b)->purge);
}

void bulk_purge_taken(struct bulk *b)
{
    atomic_store(&b->purge, false);
}
