/*
 * server — socket, clients, dispatch, waiters and watchers.  See server.h.
 *
 * Each client owns two handles (its pipe and a timer used only to space watch
 * events) and is freed when both have closed.  Reading never stops for a parked
 * client unless it keeps sending (more than CLIENT_MAX_BUFFERED bytes), so a
 * client that hangs up while waiting is noticed at once.  A response that must
 * be the last one (permission refused, a line too large) is written, then the
 * stream is shut down and closed in the shutdown callback, so the line is
 * delivered before the close.
 */
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "bulk.h"
#include "json.h"
#include "line.h"
#include "hooks.h"
#include "log.h"
#include "mlpd.h"
#include "store.h"
#include "view.h"

#define CLIENT_MAX_BUFFERED (1u << 20) /* parked client: stop reading past this */
#define WATCH_INTERVAL_MS 500          /* at most two watch events per second */
#define DOOMED_MAX_BYTES (16u << 20)   /* rest of an oversize line we swallow before closing */
#define DOOMED_MAX_MS 1000             /* ... or for this long, whichever comes first */

enum client_mode { CM_IDLE, CM_WAIT, CM_WATCH, CM_JOB };

struct client {
    uv_pipe_t pipe;
    uv_timer_t timer; /* spaces watch events */
    uv_shutdown_t sreq;
    int n_closed;       /* handles closed, of 2 */
    int jobs;           /* queries running on the thread pool for this client */
    struct job *stream; /* a streamed answer between chunks (or producing one) */
    bool closing;
    bool flushing; /* shutdown requested: nothing more is sent or read */
    bool reading;
    bool doomed;         /* refused an oversize line: close once it has ended */
    bool refused;        /* another uid: error sent, close after its first line */
    size_t doomed_bytes; /* bytes discarded since */
    struct server *srv;
    struct client *prev, *next;
    struct line_buf lb;
    enum client_mode mode;
    int64_t sweep_id;   /* parked on this sweep (0: every sweep, watch only) */
    uint64_t last_emit; /* uv_now of the last watch event */
    int64_t *dirty;     /* watch-all: sweeps changed since the last event */
    size_t n_dirty, cap_dirty;
};

struct server {
    struct mlpd *d;
    uv_pipe_t listener;
    bool closing;
    bool listener_closed;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct client *clients;
    int n_clients; /* open connections (max_clients caps them) */
    int n_queries; /* heavy-op jobs alive (start_job), streams included */
    bool trim;     /* a streamed answer ended since the heap was last trimmed */
    /* Watch fan-out: each event is built and encoded once per sweep and its bytes
     * shared (refcounted) by every watcher's write, until the sweep changes again
     * or WATCH_INTERVAL_MS has passed (the ETA moves with time). */
    struct watch_cached *wcache;
    size_t n_wcache, cap_wcache;
    int any_active;          /* -1: unknown since the last change, else view_any_active */
    uint64_t any_active_at;  /* uv_now when it was computed */
    struct shared_line *end_all; /* the watch-all "end" event, built once */
    uint64_t watch_encoded;  /* watch events built and encoded */
    uint64_t watch_sent;     /* watch events written to watchers */
};

/* Bytes of one response line (newline included) shared by several writes. */
struct shared_line {
    unsigned refs;
    size_t len;
    char data[];
};

struct watch_cached {
    int64_t sweep_id;
    uint64_t made;                  /* uv_now when built */
    bool ended;                     /* the sweep had no queued or running trial */
    struct shared_line *as_is;      /* event as built ("progress" or "end"): watch SWEEP */
    struct shared_line *as_progress; /* "event":"progress" always: watch-all */
};

struct job;
static void client_process(struct client *c);
static void job_free(struct job *j);
static void stream_pump(struct client *c);
static void park(struct client *c, int64_t sweep_id, bool watch);
static void on_listener_closed(uv_handle_t *h);
static void on_refused_timer(uv_timer_t *t);
static void request_timer_update(struct client *c);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Clients and the server ---------------------------------------------------------- */

static void watch_cache_free(struct server *srv);

static void maybe_free_server(struct server *srv)
{
    if (srv->closing && srv->listener_closed && !srv->clients) {
        watch_cache_free(srv);
        free(srv);
    }
}

static void client_free(struct client *c)
{
    struct server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_clients--;
    if (c->stream) /* waiting for the socket to drain when the client went away */
        job_free(c->stream);
    line_buf_release(&c->lb);
    free(c->dirty);
    free(c);
    maybe_free_server(srv);
}

static void on_client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    if (++c->n_closed == 2 && c->jobs == 0)
        client_free(c);
}

static void client_close(struct client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->mode = CM_IDLE;
    uv_close((uv_handle_t *)&c->pipe, on_client_closed);
    uv_close((uv_handle_t *)&c->timer, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    client_close(req->data);
}

/* Close after what was written has been delivered. */
static void client_close_after_flush(struct client *c)
{
    if (c->closing || c->flushing)
        return;
    c->flushing = true;
    uv_timer_stop(&c->timer);
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = false;
    }
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->pipe, on_shutdown) != 0)
        client_close(c);
}

struct wbuf {
    uv_write_t req;
    char data[];
};

static void on_written(uv_write_t *req, int status)
{
    struct wbuf *w = (struct wbuf *)req;
    struct client *c = req->data;
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        client_close(c);
    else if (c->stream)
        stream_pump(c); /* the output drained: maybe time for the next chunk */
}

/*
 * Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes there are
 * not valid UTF-8 (overlongs, surrogates and code points past U+10FFFF included).
 */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || n > left || c > 0xF4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* Replace every byte that is not part of valid UTF-8 with '?', in place. */
static void utf8_scrub(char *s, size_t n)
{
    unsigned char *p = (unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0) {
            p[i++] = '?';
            continue;
        }
        i += k;
    }
}

/* Send n bytes of text (a line without its newline). */
static void client_send_text(struct client *c, const char *text, size_t n)
{
    if (c->closing || c->flushing)
        return;
    struct wbuf *w = malloc(sizeof *w + n + 1);
    if (!w) {
        client_close(c);
        return;
    }
    memcpy(w->data, text, n);
    w->data[n] = '\n';
    /* Strings from workers or stored names could hold bytes that are not UTF-8:
     * never let them make a response line invalid JSON text. */
    if (!utf8_valid(w->data, n))
        utf8_scrub(w->data, n);
    w->req.data = c;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)(n + 1));
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0) {
        free(w);
        client_close(c);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > SERVER_MAX_PENDING) {
        log_warn("server: dropping a client that does not read its responses");
        client_close(c);
    }
}

static void shared_line_release(struct shared_line *l)
{
    if (l && --l->refs == 0)
        free(l);
}

/* v encoded once as a line (scrubbed to UTF-8, newline included), one reference held. */
static struct shared_line *shared_line_of(const cJSON *v)
{
    char *text = json_line(v);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    struct shared_line *l = malloc(sizeof *l + n + 1);
    if (l) {
        memcpy(l->data, text, n);
        if (!utf8_valid(l->data, n))
            utf8_scrub(l->data, n);
        l->data[n] = '\n';
        l->len = n + 1;
        l->refs = 1;
    }
    free(text);
    return l;
}

struct swrite {
    uv_write_t req;
    struct shared_line *line;
};

static void on_shared_written(uv_write_t *req, int status)
{
    struct swrite *w = (struct swrite *)req;
    struct client *c = req->data;
    shared_line_release(w->line);
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        client_close(c);
    else if (c->stream)
        stream_pump(c);
}

/* Write a shared line: the client holds a reference until its write completes. */
static void client_send_shared(struct client *c, struct shared_line *l)
{
    if (c->closing || c->flushing)
        return;
    struct swrite *w = malloc(sizeof *w);
    if (!w) {
        client_close(c);
        return;
    }
    w->line = l;
    l->refs++;
    w->req.data = c;
    uv_buf_t b = uv_buf_init(l->data, (unsigned)l->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_shared_written) != 0) {
        shared_line_release(l);
        free(w);
        client_close(c);
        return;
    }
    c->srv->watch_sent++;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > SERVER_MAX_PENDING) {
        log_warn("server: dropping a client that does not read its responses");
        client_close(c);
    }
}

/* Send one JSON value as a line.  The client is dropped when it falls too far behind. */
static void client_send(struct client *c, const cJSON *v)
{
    if (c->closing || c->flushing)
        return;
    char *text = json_line(v);
    if (!text) {
        log_error("server: out of memory printing a response");
        client_close(c);
        return;
    }
    client_send_text(c, text, strlen(text));
    free(text);
}

static void send_error(struct client *c, const struct err *e)
{
    cJSON *r = cJSON_CreateObject();
    if (!r) {
        client_close(c);
        return;
    }
    cJSON_AddFalseToObject(r, "ok");
    cJSON *eo = cJSON_AddObjectToObject(r, "error");
    if (eo) {
        cJSON_AddStringToObject(eo, "code", err_name(e->code));
        cJSON_AddStringToObject(eo, "message", e->msg[0] ? e->msg : err_default_msg(e->code));
        if (e->path[0])
            cJSON_AddStringToObject(eo, "path", e->path);
    }
    client_send(c, r);
    cJSON_Delete(r);
}

/* Dispatch ------------------------------------------------------------------------- */

static const char *type_name(enum op_type t)
{
    switch (t) {
    case OT_INT:
        return "an integer";
    case OT_STR:
        return "a string";
    case OT_BOOL:
        return "a boolean";
    case OT_OBJ:
        return "an object";
    case OT_SWEEP:
        return "a sweep id or name";
    }
    return "?";
}

static bool type_ok(const cJSON *v, enum op_type t)
{
    switch (t) {
    case OT_INT:
        return json_is_int(v, NULL);
    case OT_STR:
        return cJSON_IsString(v);
    case OT_BOOL:
        return cJSON_IsBool(v);
    case OT_OBJ:
        return cJSON_IsObject(v);
    case OT_SWEEP:
        return json_is_int(v, NULL) || (cJSON_IsString(v) && v->valuestring[0]);
    }
    return false;
}

/* Check a request against the table; the op, or NULL with *e filled. */
static const struct op *check_request(const cJSON *req, struct err *e)
{
    if (!cJSON_IsObject(req)) {
        err_set(e, MLP_EINVALID_REQUEST, NULL, "a request must be a JSON object, got %s",
                json_type_name(req));
        return NULL;
    }
    const cJSON *opv = json_get(req, "op");
    if (!cJSON_IsString(opv)) {
        err_set(e, MLP_EINVALID_REQUEST, "op", "\"op\" must be a string, got %s",
                json_type_name(opv));
        return NULL;
    }
    const struct op *op = NULL;
    for (int i = 0; i < ops_count; i++)
        if (strcmp(ops_table[i].name, opv->valuestring) == 0)
            op = &ops_table[i];
    if (!op) {
        const char *names[64];
        int k = 0;
        for (int i = 0; i < ops_count && k < 63; i++)
            names[k++] = ops_table[i].name;
        names[k] = NULL;
        const char *s = json_suggest(opv->valuestring, names);
        char brief[80];
        json_brief(opv, brief, sizeof brief);
        if (s)
            err_set(e, MLP_EUNKNOWN_OP, "op", "unknown op %s (did you mean \"%s\"?)", brief, s);
        else
            err_set(e, MLP_EUNKNOWN_OP, "op", "unknown op %s", brief);
        return NULL;
    }
    for (int i = 0; i < OP_MAX_FIELDS && op->fields[i].name; i++) {
        const struct op_field *f = &op->fields[i];
        const cJSON *v = json_get(req, f->name);
        if (!v || cJSON_IsNull(v)) {
            if (f->required) {
                err_set(e, MLP_EINVALID_REQUEST, f->name, "%s: missing field \"%s\" (%s)", op->name,
                        f->name, type_name(f->type));
                return NULL;
            }
            continue;
        }
        if (!type_ok(v, f->type)) {
            char brief[80];
            err_set(e, MLP_EINVALID_REQUEST, f->name, "%s: \"%s\" must be %s, got %s", op->name,
                    f->name, type_name(f->type), json_brief(v, brief, sizeof brief));
            return NULL;
        }
    }
    return op;
}

/* Queries on the thread pool ------------------------------------------------------ */

/*
 * A heavy op runs on the pool with its own read-only connection.  Its answer is one
 * line, or a stream: then the job (with the connection) outlives the first run, each
 * chunk read in its own snapshot (none is held between chunks, so a stalled reader never
 * pins the WAL; the cursors resume by key), and each further chunk is produced by another
 * pool run queued once the client's unsent output has fallen to STREAM_LOW_WATER
 * (on_written calls stream_pump), so a slow reader holds at most a chunk or two.
 */
#define STREAM_LOW_WATER (2u << 20)
#define MORE_HEAD "{\"ok\":true,\"more\":true"

struct job {
    uv_work_t work;
    struct client *c;
    const struct op *op;
    cJSON *req, *resp;        /* owned */
    struct mlpd copy;         /* the daemon context with a read-only store */
    struct op_stream *stream; /* the answer's producer, NULL for one line */
    bool more;                /* the stream has more chunks after text */
    bool running;             /* queued on the pool */
    bool counted;             /* in srv->n_queries */
    struct err e;
    int rc;
    char *text; /* the next line, printed on the pool thread */
    size_t text_len;
    uint64_t t0;
    struct bulk_task task;  /* a bulk op (ops.h): queued behind the other bulk tasks */
    struct op_intent it;    /* what the bulk op asked for */
    int64_t changed_on_loop; /* it.changed after exec (already acted on) */
};

/*
 * Give the heap's free pages back to the system.  A streamed answer's chunks, the
 * writes a stalled reader left queued and its read connection's page cache are
 * freed when it ends, but glibc keeps freed memory in its arenas (one per pool
 * thread), so without this mlpd's RSS would stay at its largest burst of exports
 * (tests/integration/test_exportabort.py).  Done once no query is running.
 */
static void release_memory(struct server *srv)
{
    if (srv->n_queries > 0 || !srv->trim)
        return;
    srv->trim = false;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void job_free(struct job *j)
{
    if (j->counted) {
        struct server *srv = j->c->srv;
        srv->n_queries--;
        srv->trim |= j->stream != NULL;
        release_memory(srv);
    }
    if (j->stream)
        j->stream->free(j->stream);
    if (j->copy.st)
        store_close(j->copy.st);
    cJSON_Delete(j->req);
    cJSON_Delete(j->resp);
    free(j->text);
    free(j);
}

/* Produce the stream's next line into j->text (pool thread). */
static void stream_produce(struct job *j)
{
    struct op_buf b = {0};
    int rc = j->stream->next(j->stream, &j->copy, &b, &j->e);
    if (rc < 0) {
        free(b.p);
        j->rc = j->e.code ? j->e.code : rc;
        j->more = false;
        return;
    }
    j->more = rc > 0;
    struct op_buf line = {0};
    char *head = j->more ? NULL : json_line(j->resp);
    int brc;
    if (j->more) {
        brc = ops_buf_add(&line, MORE_HEAD, strlen(MORE_HEAD));
    } else if (!head) {
        brc = MLP_ENOMEM;
    } else { /* the handler's answer without its closing brace */
        brc = ops_buf_add(&line, head, strlen(head) - 1);
    }
    free(head);
    if (brc == 0 && b.len > 0)
        brc = ops_buf_add(&line, ",", 1);
    if (brc == 0 && b.len > 0)
        brc = ops_buf_add(&line, b.p, b.len);
    if (brc == 0)
        brc = ops_buf_add(&line, "}", 1);
    free(b.p);
    if (brc < 0) {
        free(line.p);
        j->more = false;
        j->rc = err_set(&j->e, MLP_ENOMEM, NULL, "out of memory printing the response");
        return;
    }
    j->text = line.p;
    j->text_len = line.len;
}

static void job_work(uv_work_t *w)
{
    struct job *j = w->data;
    if (j->stream) { /* a further chunk */
        stream_produce(j);
        store_end_read(j->copy.st);
        return;
    }
    j->copy.st = store_open_reader(j->copy.db_path, &j->e);
    if (!j->copy.st) {
        j->rc = j->e.code ? j->e.code : MLP_ESTORAGE;
        return;
    }
    struct op_intent it = OP_INTENT_INIT; /* a heavy op only replies or streams */
    j->rc = ops_call(j->op, &j->copy, j->req, j->resp, &it, &j->e);
    if (j->rc >= 0 && it.next == OP_STREAM && it.stream) {
        j->stream = it.stream;
        stream_produce(j);
        store_end_read(j->copy.st); /* no snapshot is held while the client reads */
        return;
    }
    if (it.stream)
        it.stream->free(it.stream);
    if (j->rc >= 0 && !(j->text = json_line(j->resp)))
        j->rc = err_set(&j->e, MLP_ENOMEM, NULL, "out of memory printing the response");
    else if (j->text)
        j->text_len = strlen(j->text);
}

static void job_done(uv_work_t *w, int status);

/* Queue the next chunk of c's stream once its output has drained enough. */
static void stream_pump(struct client *c)
{
    struct job *j = c->stream;
    if (!j || j->running || c->closing || c->flushing)
        return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > STREAM_LOW_WATER)
        return;
    free(j->text);
    j->text = NULL;
    j->running = true;
    if (uv_queue_work(c->pipe.loop, &j->work, job_work, job_done) != 0) {
        j->running = false;
        c->stream = NULL;
        struct err e = ERR_INIT;
        err_set(&e, MLP_EINTERNAL, NULL, "cannot queue the next chunk");
        send_error(c, &e);
        job_free(j);
        c->mode = CM_IDLE;
        client_process(c);
        return;
    }
    c->jobs++;
}

static void job_done(uv_work_t *w, int status)
{
    struct job *j = w->data;
    struct client *c = j->c;
    c->jobs--;
    j->running = false;
    if (c->closing) {
        if (c->stream == j)
            c->stream = NULL;
        job_free(j);
        if (c->n_closed == 2 && c->jobs == 0)
            client_free(c);
        return;
    }
    if (status < 0)
        j->rc = err_set(&j->e, MLP_EINTERNAL, NULL, "query cancelled: %s", uv_strerror(status));
    if (j->rc < 0) {
        if (j->e.code == 0)
            err_set(&j->e, j->rc, NULL, "%s", err_default_msg(j->rc));
        send_error(c, &j->e);
        j->more = false;
    } else {
        client_send_text(c, j->text, j->text_len);
    }
    if (j->more && !c->closing) {
        c->stream = j;
        stream_pump(c);
        return;
    }
    c->stream = NULL;
    double ms = (double)(uv_hrtime() - j->t0) / 1e6;
    if (ms > 100)
        log_info("op %s took %.0f ms (thread pool)", j->op->name, ms);
    job_free(j);
    c->mode = CM_IDLE;
    client_process(c);
}

/* Run a heavy op on the pool; takes req and resp.  false when it could not start. */
static bool start_job(struct client *c, const struct op *op, cJSON *req, cJSON *resp)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(req);
        cJSON_Delete(resp);
        struct err e = ERR_INIT;
        err_set(&e, MLP_ENOMEM, NULL, "out of memory");
        send_error(c, &e);
        return false;
    }
    j->c = c;
    j->op = op;
    j->req = req;
    j->resp = resp;
    j->copy = *c->srv->d;
    j->copy.st = NULL;
    j->t0 = uv_hrtime();
    j->work.data = j;
    j->running = true;
    j->counted = true;
    c->srv->n_queries++;
    if (uv_queue_work(c->pipe.loop, &j->work, job_work, job_done) != 0) {
        job_free(j);
        struct err e = ERR_INIT;
        err_set(&e, MLP_EINTERNAL, NULL, "cannot queue the query");
        send_error(c, &e);
        return false;
    }
    c->jobs++;
    c->mode = CM_JOB;
    return true;
}

/* Bulk ops ------------------------------------------------------------------------ */

static struct job *job_of_task(struct bulk_task *t)
{
    return (struct job *)(void *)((char *)t - offsetof(struct job, task));
}

/* Pool thread: the op's exec with a read-write connection of its own. */
static void bulk_job_run(struct bulk_task *t)
{
    struct job *j = job_of_task(t);
    j->copy.st = store_open_bulk(j->copy.db_path, &j->e);
    if (!j->copy.st) {
        j->rc = j->e.code ? j->e.code : MLP_ESTORAGE;
        return;
    }
    j->rc = j->op->pool(&j->copy, j->req, j->resp, &j->it, &j->e);
    store_close(j->copy.st);
    j->copy.st = NULL;
}

/* Loop thread: finish the answer (op->after), tell waiters and watchers, reply. */
static void bulk_job_done(struct bulk_task *t, int status)
{
    struct job *j = job_of_task(t);
    struct client *c = j->c;
    struct server *srv = c->srv;
    struct mlpd *d = srv->d;
    c->jobs--;
    if (status < 0 && j->rc == 0)
        j->rc = err_set(&j->e, MLP_ESHUTTING_DOWN, NULL, "mlpd is shutting down");
    if (j->rc >= 0 && j->op->after)
        j->rc = j->op->after(d, j->req, j->resp, &j->it, &j->e);
    if (j->it.changed > 0 && j->it.changed != j->changed_on_loop) { /* even if after failed */
        server_notify(srv, j->it.changed);
        hooks_sweep_changed(d->hooks, j->it.changed);
    }
    double ms = (double)(uv_hrtime() - j->t0) / 1e6;
    if (ms > 100)
        log_info("op %s took %.0f ms (bulk, off the loop)", j->op->name, ms);
    if (c->closing) {
        job_free(j);
        if (c->n_closed == 2 && c->jobs == 0)
            client_free(c);
        return;
    }
    if (j->rc < 0) {
        if (j->e.code == 0)
            err_set(&j->e, j->rc, NULL, "%s", err_default_msg(j->rc));
        send_error(c, &j->e);
    } else {
        client_send(c, j->resp);
    }
    job_free(j);
    c->mode = CM_IDLE;
    client_process(c);
}

/* Queue a bulk op's pool stage; takes req and resp.  The client waits (CM_JOB) for its answer. */
static void start_bulk_job(struct client *c, const struct op *op, cJSON *req, cJSON *resp,
                           const struct op_intent *it)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(req);
        cJSON_Delete(resp);
        struct err e = ERR_INIT;
        err_set(&e, MLP_ENOMEM, NULL, "out of memory");
        send_error(c, &e);
        return;
    }
    j->c = c;
    j->op = op;
    j->req = req;
    j->resp = resp;
    j->copy = *c->srv->d;
    j->copy.st = NULL;
    j->t0 = uv_hrtime();
    j->it = *it;
    j->changed_on_loop = it->changed;
    j->task.run = bulk_job_run;
    j->task.done = bulk_job_done;
    c->jobs++;
    c->mode = CM_JOB;
    bulk_push(c->srv->d->bulk, &j->task);
}

/*
 * C strings end at NUL, so a "\u0000" escape would silently cut a string
 * ("status\u0000x" would read as "status").  Turn each such escape inside a
 * string into "\ufffd" (the replacement character) in place: same length.
 */
static void nul_escapes_to_fffd(char *s, size_t n)
{
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        if (!in_str) {
            in_str = s[i] == '"';
            continue;
        }
        if (s[i] == '"') {
            in_str = false;
        } else if (s[i] == '\\' && i + 1 < n) {
            if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
                memcpy(s + i + 2, "fffd", 4);
            i++; /* skip the escaped character */
        }
    }
}

cJSON *server_parse_request(char *line, size_t len, const struct op **op, struct err *e)
{
    *op = NULL;
    if (memchr(line, '\0', len)) {
        err_set(e, MLP_EINVALID_REQUEST, NULL, "a request line may not contain NUL bytes");
        return NULL;
    }
    if (!utf8_valid(line, len)) {
        err_set(e, MLP_EINVALID_REQUEST, NULL, "a request must be UTF-8 text (RFC 8259)");
        return NULL;
    }
    nul_escapes_to_fffd(line, len);
    /* The whole line must be one JSON value: trailing text is an error, with its column. */
    size_t where;
    const char *why;
    cJSON *req = json_parse_one(line, len, &where, &why);
    if (!req) {
        int ln, col;
        json_line_col(line, where, &ln, &col);
        err_set(e, MLP_EINVALID_REQUEST, NULL, "column %d: %s%s", col, why,
                strncmp(why, "not valid", 9) == 0 ? " (or nested too deep)" : "");
        return NULL;
    }
    *op = check_request(req, e);
    if (!*op) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

/* Handle one request line; true when the client may go on with the next line. */
static bool handle_line(struct client *c, char *line, size_t len)
{
    struct err e = ERR_INIT;
    const struct op *op;
    cJSON *req = server_parse_request(line, len, &op, &e);
    if (!req) {
        send_error(c, &e);
        return true;
    }
    cJSON *resp = cJSON_CreateObject();
    if (!resp || !cJSON_AddTrueToObject(resp, "ok")) {
        cJSON_Delete(resp);
        cJSON_Delete(req);
        err_set(&e, MLP_ENOMEM, NULL, "out of memory");
        send_error(c, &e);
        return true;
    }
    if (op->heavy)
        return !start_job(c, op, req, resp);
    uint64_t t0 = uv_hrtime();
    struct op_intent it = OP_INTENT_INIT;
    int rc = ops_call(op, c->srv->d, req, resp, &it, &e);
    if (rc >= 0 && op->pool && c->srv->d->bulk) {
        if (it.changed > 0) {
            server_notify(c->srv, it.changed);
            hooks_sweep_changed(c->srv->d->hooks, it.changed);
        }
        start_bulk_job(c, op, req, resp, &it);
        return c->mode != CM_JOB;
    }
    if (rc >= 0 && op->pool) { /* no bulk queue (tests of the dispatcher): here */
        rc = op->pool(c->srv->d, req, resp, &it, &e);
        if (rc >= 0 && op->after)
            rc = op->after(c->srv->d, req, resp, &it, &e);
    }
    bool parked = false;
    if (rc < 0) {
        if (e.code == 0)
            err_set(&e, rc, NULL, "%s", err_default_msg(rc));
        send_error(c, &e);
    } else if (it.next == OP_REPLY) {
        client_send(c, resp);
    }
    if (rc >= 0 && it.changed > 0) {
        server_notify(c->srv, it.changed);
        hooks_sweep_changed(c->srv->d->hooks, it.changed);
    }
    if (rc >= 0 && it.next != OP_REPLY) {
        park(c, it.sweep_id, it.next == OP_WATCH);
        parked = true;
    }
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    if (ms > 100)
        log_info("op %s took %.0f ms", op->name, ms);
    cJSON_Delete(resp);
    cJSON_Delete(req);
    return !parked;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char slab[65536]; /* one loop thread; every read is consumed at once */
    *buf = uv_buf_init(slab, sizeof slab);
}

static void client_process(struct client *c)
{
    char *line;
    size_t len;
    if (c->doomed || c->refused || c->flushing)
        return;
    while (!c->closing && c->mode == CM_IDLE && line_buf_next(&c->lb, &line, &len) == 1)
        if (!handle_line(c, line, len))
            break;
    if (!c->closing && !c->reading && line_buf_pending(&c->lb) < CLIENT_MAX_BUFFERED) {
        if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read) == 0)
            c->reading = true;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;
    if (n < 0) {
        client_close(c);
        return;
    }
    if (n == 0)
        return;
    if (c->refused) {
        /* Read the refused client's request before closing, so that closing with
         * unread input does not reset the connection and lose our error line. */
        if (memchr(buf->base, '\n', (size_t)n) || (c->doomed_bytes += (size_t)n) > 65536)
            client_close_after_flush(c);
        return;
    }
    if (c->doomed) {
        /* Swallow the rest of the oversize line so the client can read our error
         * (closing with unread input would reset the connection and lose it). */
        c->doomed_bytes += (size_t)n;
        line_buf_feed(&c->lb, buf->base, (size_t)n);
        if (!c->lb.discarding || c->doomed_bytes > DOOMED_MAX_BYTES)
            client_close_after_flush(c);
        return;
    }
    int rc = line_buf_feed(&c->lb, buf->base, (size_t)n);
    if (rc < 0) {
        /* Answer the complete lines before the oversize one, then refuse it. */
        if (c->mode == CM_IDLE)
            client_process(c);
        struct err e = ERR_INIT;
        err_set(&e, rc == MLP_ETOO_LARGE ? MLP_ETOO_LARGE : MLP_ENOMEM, NULL,
                rc == MLP_ETOO_LARGE ? "request line longer than %u bytes; closing the connection"
                                     : "out of memory reading a request%u",
                rc == MLP_ETOO_LARGE ? LINE_MAX_BYTES : 0u);
        send_error(c, &e);
        c->doomed = true;
        c->mode = CM_IDLE;
        uv_timer_stop(&c->timer);
        if (!c->lb.discarding)
            client_close_after_flush(c);
        else
            uv_timer_start(&c->timer, on_refused_timer, DOOMED_MAX_MS, 0);
        return;
    }
    if (c->mode == CM_IDLE)
        client_process(c);
    request_timer_update(c);
    if (c->reading && c->lb.len - c->lb.start > CLIENT_MAX_BUFFERED && c->mode != CM_IDLE) {
        uv_read_stop(s);
        c->reading = false;
    }
}

static bool peer_allowed(struct client *c)
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return false;
    return cred.uid == getuid();
}

static void on_refused_timer(uv_timer_t *t)
{
    client_close_after_flush(t->data);
}

/* A request line begun request_timeout seconds ago and still not ended. */
static void on_request_timer(uv_timer_t *t)
{
    struct client *c = t->data;
    if (c->closing || c->flushing || c->mode != CM_IDLE || line_buf_pending(&c->lb) == 0)
        return;
    struct err e = ERR_INIT;
    err_set(&e, MLP_ETIMEOUT, NULL,
            "request line unfinished after %g s (request_timeout); closing the connection",
            c->srv->d->cfg.request_timeout);
    send_error(c, &e);
    client_close_after_flush(c);
}

/* Time an unfinished request line from its first byte; nothing when none is pending. */
static void request_timer_update(struct client *c)
{
    if (c->closing || c->flushing || c->mode != CM_IDLE)
        return;
    if (line_buf_pending(&c->lb) == 0) {
        uv_timer_stop(&c->timer);
    } else if (!uv_is_active((uv_handle_t *)&c->timer)) {
        double sec = c->srv->d->cfg.request_timeout;
        uv_timer_start(&c->timer, on_request_timer, (uint64_t)(sec > 0 ? sec * 1000 : 30000), 0);
    }
}

static void on_connection(uv_stream_t *ls, int status)
{
    struct server *srv = ls->data;
    if (status < 0 || srv->closing)
        return;
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
        log_error("server: out of memory accepting a client");
        return;
    }
    c->srv = srv;
    line_buf_init(&c->lb, LINE_MAX_BYTES);
    uv_pipe_init(ls->loop, &c->pipe, 0);
    uv_timer_init(ls->loop, &c->timer);
    c->pipe.data = c->timer.data = c;
    c->next = srv->clients;
    if (c->next)
        c->next->prev = c;
    srv->clients = c;
    srv->n_clients++;
    if (uv_accept(ls, (uv_stream_t *)&c->pipe) != 0) {
        client_close(c);
        return;
    }
    if (!peer_allowed(c)) {
        struct err e = ERR_INIT;
        err_set(&e, MLP_EPERMISSION, NULL,
                "this mlpd serves only the user that started it (uid %u)", (unsigned)getuid());
        log_warn("server: refused a client of another user");
        send_error(c, &e);
        c->refused = true;
        /* Close after its first line, or after a second if it sends nothing. */
        uv_timer_start(&c->timer, on_refused_timer, 1000, 0);
        if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read) == 0)
            c->reading = true;
        else
            client_close(c);
        return;
    }
    int cap = srv->d->cfg.max_clients;
    if (cap > 0 && srv->n_clients > cap) {
        struct err e = ERR_INIT;
        err_set(&e, MLP_ETOO_LARGE, NULL,
                "too many connections: mlpd serves at most %d at once (max_clients); try again "
                "when one has ended",
                cap);
        log_warn("server: refused a connection: %d open (max_clients %d)", srv->n_clients - 1, cap);
        send_error(c, &e);
        c->refused = true;
        uv_timer_start(&c->timer, on_refused_timer, 1000, 0);
        if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read) == 0)
            c->reading = true;
        else
            client_close(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read) == 0)
        c->reading = true;
    else
        client_close(c);
}

/* Waiters and watchers ----------------------------------------------------------- */

static void unpark(struct client *c)
{
    c->mode = CM_IDLE;
    c->n_dirty = 0;
    uv_timer_stop(&c->timer);
    client_process(c);
}

static void send_storage_error(struct client *c, const struct err *e)
{
    send_error(c, e);
    unpark(c);
}

static void watch_cached_drop(struct server *srv, size_t i)
{
    shared_line_release(srv->wcache[i].as_is);
    shared_line_release(srv->wcache[i].as_progress);
    srv->wcache[i] = srv->wcache[--srv->n_wcache];
}

static void watch_cache_free(struct server *srv)
{
    while (srv->n_wcache)
        watch_cached_drop(srv, srv->n_wcache - 1);
    free(srv->wcache);
    srv->wcache = NULL;
    srv->cap_wcache = 0;
    shared_line_release(srv->end_all);
    srv->end_all = NULL;
}

/* The sweep changed: its next watch event is built afresh. */
static void watch_cache_invalidate(struct server *srv, int64_t sweep_id)
{
    for (size_t i = 0; i < srv->n_wcache; i++)
        if (srv->wcache[i].sweep_id == sweep_id) {
            watch_cached_drop(srv, i);
            break;
        }
    srv->any_active = -1;
}

/*
 * The current watch event of a sweep, built and encoded at most once per change
 * (and per WATCH_INTERVAL_MS) however many watchers send it.  NULL with e set
 * when the store fails or the sweep is gone; NULL with e unset when out of memory.
 */
static const struct watch_cached *watch_event(struct server *srv, int64_t sweep_id, struct err *e)
{
    uint64_t now = uv_now(srv->listener.loop);
    for (size_t i = 0; i < srv->n_wcache; i++) {
        if (srv->wcache[i].sweep_id != sweep_id)
            continue;
        if (now - srv->wcache[i].made < WATCH_INTERVAL_MS)
            return &srv->wcache[i];
        watch_cached_drop(srv, i);
        break;
    }
    if (srv->n_wcache == srv->cap_wcache) {
        size_t cap = srv->cap_wcache ? 2 * srv->cap_wcache : 8;
        struct watch_cached *p = realloc(srv->wcache, cap * sizeof *p);
        if (!p)
            return NULL;
        srv->wcache = p;
        srv->cap_wcache = cap;
    }
    bool ended = false;
    cJSON *ev = view_progress_event(srv->d, sweep_id, &ended, e);
    if (!ev)
        return NULL;
    srv->watch_encoded++;
    struct shared_line *as_is = shared_line_of(ev), *as_progress = NULL;
    if (as_is && ended) {
        cJSON *kind = json_get(ev, "event");
        if (kind)
            cJSON_SetValuestring(kind, "progress");
        as_progress = shared_line_of(ev);
    } else if (as_is) {
        as_progress = as_is;
        as_is->refs++;
    }
    cJSON_Delete(ev);
    if (!as_is || !as_progress) {
        shared_line_release(as_is);
        shared_line_release(as_progress);
        return NULL;
    }
    struct watch_cached *wc = &srv->wcache[srv->n_wcache++];
    *wc = (struct watch_cached){.sweep_id = sweep_id, .made = now, .ended = ended,
                                .as_is = as_is, .as_progress = as_progress};
    return wc;
}

static bool watch_any_active(struct server *srv)
{
    uint64_t now = uv_now(srv->listener.loop);
    if (srv->any_active < 0 || now - srv->any_active_at >= WATCH_INTERVAL_MS) {
        srv->any_active = view_any_active(srv->d) ? 1 : 0;
        srv->any_active_at = now;
    }
    return srv->any_active == 1;
}

static struct shared_line *watch_end_all(struct server *srv)
{
    if (!srv->end_all) {
        cJSON *end = cJSON_CreateObject();
        cJSON_AddTrueToObject(end, "ok");
        cJSON_AddStringToObject(end, "event", "end");
        cJSON_AddNullToObject(end, "sweep");
        cJSON_AddNullToObject(end, "eta");
        srv->end_all = shared_line_of(end);
        cJSON_Delete(end);
    }
    return srv->end_all;
}

/* Emit a watch event now. */
static void watch_emit(struct client *c)
{
    struct server *srv = c->srv;
    struct err e = ERR_INIT;
    c->last_emit = uv_now(c->timer.loop);
    if (c->sweep_id > 0) {
        const struct watch_cached *wc = watch_event(srv, c->sweep_id, &e);
        if (!wc) {
            if (e.code == 0) {
                log_error("server: out of memory building a watch event");
                client_close(c);
            } else {
                send_storage_error(c, &e);
            }
            return;
        }
        bool ended = wc->ended;
        client_send_shared(c, wc->as_is);
        if (ended)
            unpark(c);
        return;
    }
    for (size_t i = 0; i < c->n_dirty && !c->closing; i++) {
        err_clear(&e);
        const struct watch_cached *wc = watch_event(srv, c->dirty[i], &e);
        if (!wc)
            continue; /* a sweep that vanished */
        client_send_shared(c, wc->as_progress);
    }
    c->n_dirty = 0;
    if (!c->closing && !watch_any_active(srv)) {
        struct shared_line *end = watch_end_all(srv);
        if (!end) {
            client_close(c);
            return;
        }
        client_send_shared(c, end);
        unpark(c);
    }
}

static void on_watch_timer(uv_timer_t *t)
{
    struct client *c = t->data;
    if (c->mode == CM_WATCH && !c->closing)
        watch_emit(c);
}

static void watch_schedule(struct client *c)
{
    uint64_t now = uv_now(c->timer.loop);
    uint64_t since = now - c->last_emit;
    if (since >= WATCH_INTERVAL_MS) {
        watch_emit(c);
    } else if (!uv_is_active((uv_handle_t *)&c->timer)) {
        uv_timer_start(&c->timer, on_watch_timer, WATCH_INTERVAL_MS - since, 0);
    }
}

static void mark_dirty(struct client *c, int64_t sweep_id)
{
    for (size_t i = 0; i < c->n_dirty; i++)
        if (c->dirty[i] == sweep_id)
            return;
    if (c->n_dirty == c->cap_dirty) {
        size_t cap = c->cap_dirty ? 2 * c->cap_dirty : 8;
        int64_t *p = realloc(c->dirty, cap * sizeof *p);
        if (!p)
            return;
        c->dirty = p;
        c->cap_dirty = cap;
    }
    c->dirty[c->n_dirty++] = sweep_id;
}

static void wait_check(struct client *c)
{
    struct err e = ERR_INIT;
    bool ended = false;
    if (view_sweep_ended(c->srv->d, c->sweep_id, &ended, &e) < 0) {
        send_storage_error(c, &e);
        return;
    }
    if (!ended)
        return;
    cJSON *sum = view_sweep_summary(c->srv->d, c->sweep_id, &ended, &e);
    if (!sum) {
        send_storage_error(c, &e);
        return;
    }
    if (ended) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddTrueToObject(r, "ok");
        cJSON_AddItemToObject(r, "sweep", sum);
        client_send(c, r);
        cJSON_Delete(r);
        unpark(c);
    } else {
        cJSON_Delete(sum);
    }
}

static void park(struct client *c, int64_t sweep_id, bool watch)
{
    c->mode = watch ? CM_WATCH : CM_WAIT;
    c->sweep_id = sweep_id;
    c->n_dirty = 0;
    if (watch) {
        if (sweep_id == 0) {
            /* Start with every sweep that still has work. */
            int64_t *ids = NULL;
            size_t n = 0;
            if (view_active_sweeps(c->srv->d, &ids, &n) == 0) {
                for (size_t i = 0; i < n; i++)
                    mark_dirty(c, ids[i]);
                free(ids);
            }
        }
        watch_emit(c);
    } else {
        wait_check(c);
    }
}

void server_notify(struct server *srv, int64_t sweep_id)
{
    if (!srv)
        return;
    watch_cache_invalidate(srv, sweep_id);
    for (struct client *c = srv->clients, *next; c; c = next) {
        next = c->next;
        if (c->closing || c->mode == CM_IDLE)
            continue;
        if (c->mode == CM_WAIT) {
            if (c->sweep_id == sweep_id)
                wait_check(c);
        } else if (c->mode == CM_WATCH && (c->sweep_id == 0 || c->sweep_id == sweep_id)) {
            if (c->sweep_id == 0)
                mark_dirty(c, sweep_id);
            watch_schedule(c);
        }
    }
}

/* Listening -------------------------------------------------------------------- */

/* Whether a daemon answers on the socket path. */
static bool socket_alive(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    bool alive = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return alive;
}

struct server *server_open(struct mlpd *d, const char *path, struct err *e)
{
    struct server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    srv->any_active = -1;
    srv->d = d;
    if (strlen(path) >= sizeof srv->path) {
        err_set(e, MLP_EIO, path, "socket path too long (%zu bytes, at most %zu): %s", strlen(path),
                sizeof srv->path - 1, path);
        free(srv);
        return NULL;
    }
    snprintf(srv->path, sizeof srv->path, "%s", path);
    struct stat stb;
    if (lstat(path, &stb) == 0) {
        if (!S_ISSOCK(stb.st_mode)) {
            err_set(e, MLP_EIO, path, "%s exists and is not a socket; not touching it", path);
            free(srv);
            return NULL;
        }
        if (socket_alive(path)) {
            err_set(e, MLP_EIO, path, "another daemon answers on %s", path);
            free(srv);
            return NULL;
        }
        log_info("removing stale socket %s", path);
        unlink(path);
    }
    uv_pipe_init(d->loop, &srv->listener, 0);
    srv->listener.data = srv;
    /* Created 0600 from the start: no window where another user could connect. */
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&srv->listener, path);
    umask(old);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 64, on_connection);
    if (rc != 0) {
        err_set(e, MLP_EIO, path, "cannot listen on %s: %s", path, uv_strerror(rc));
        srv->closing = true;
        srv->path[0] = '\0';
        uv_close((uv_handle_t *)&srv->listener, on_listener_closed); /* frees srv */
        return NULL;
    }
    chmod(path, 0600);
    return srv;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct server *srv = h->data;
    srv->listener_closed = true;
    maybe_free_server(srv);
}

void server_close(struct server *srv)
{
    if (!srv || srv->closing)
        return;
    srv->closing = true;
    if (srv->path[0])
        unlink(srv->path);
    log_info("server: %llu watch events sent to watchers, %llu built and encoded",
             (unsigned long long)srv->watch_sent, (unsigned long long)srv->watch_encoded);
    struct err e = ERR_INIT;
    err_set(&e, MLP_ESHUTTING_DOWN, NULL, "mlpd is shutting down");
    for (struct client *c = srv->clients; c; c = c->next) {
        if (c->closing)
            continue;
        if (c->mode != CM_IDLE) {
            send_error(c, &e);
            c->mode = CM_IDLE;
            uv_timer_stop(&c->timer);
            client_close_after_flush(c);
        } else {
            client_close_after_flush(c);
        }
    }
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
}
