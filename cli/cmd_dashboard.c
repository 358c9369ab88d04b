/*
 * mlpctl dashboard — a read-only web view of mlpd, served on loopback by
 * libmicrohttpd.  It is a client of mlpd over its Unix socket like every other
 * verb: each page is built from one or two protocol requests on a fresh
 * connection, and one `watch` connection per dashboard feeds every browser's
 * server-sent-event stream.  A random token (getrandom) is required on every
 * request (compared in constant time); nothing is sent with CORS headers and
 * every string from the daemon is HTML-escaped (control characters shown as their
 * Unicode pictures).  A sweep page's ranking and plots read every result of the
 * sweep, so they are cached per sweep under its summary (analysis_html): a big
 * finished sweep's page costs mlpd one page of its trial table.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

#ifndef HAVE_MHD
int cmd_dashboard(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    fprintf(stderr, "mlpctl dashboard: this mlpctl was built without libmicrohttpd "
                    "(install libmicrohttpd-dev and rebuild)\n");
    return CLI_FAILED;
}
#else
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <stdarg.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "importance.h"
#include "json.h"
#include "plot.h"
#include "resp.h"

static double json_num(const cJSON *v, double dflt) { return cJSON_IsNumber(v) ? v->valuedouble : dflt; }
static const char *json_str(const cJSON *v, const char *dflt) { return cJSON_IsString(v) ? v->valuestring : dflt; }

/* ---- a growing string ---- */
struct buf {
    char *s;
    size_t n, cap;
    bool oom;
};

static void b_put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void b_str(struct buf *b, const char *s) { b_put(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void b_fmt(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    b_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* HTML-escape (text and attribute values alike); control characters but newline and tab as
 * their pictures (U+2400...), so a log's escape sequences show instead of vanishing. */
static void b_esc(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': b_str(b, "&lt;"); break;
        case '>': b_str(b, "&gt;"); break;
        case '&': b_str(b, "&amp;"); break;
        case '"': b_str(b, "&quot;"); break;
        case '\'': b_str(b, "&#39;"); break;
        case '\n':
        case '\t': b_put(b, s, 1); break;
        default:
            if ((unsigned char)*s < 0x20 || *s == 0x7f) /* a control character: its picture (U+2400...) */
                b_fmt(b, "&#x%x;", *s == 0x7f ? 0x2421 : 0x2400 + (unsigned char)*s);
            else
                b_put(b, s, 1);
        }
    }
}

static void b_num(struct buf *b, const cJSON *v, const char *fmt)
{
    if (cJSON_IsNumber(v))
        b_fmt(b, fmt, v->valuedouble);
    else
        b_str(b, "–");
}

/* ---- state ---- */
static const char *g_socket;
static char g_token[33];
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static unsigned long g_seq;   /* events received from the watch stream */
static char *g_event;         /* the latest one, as JSON text */
static volatile sig_atomic_t g_stop;

/* The latest ETA mlpd sent per sweep (watch events), for the sweeps list. */
#define ETA_SLOTS 256
static struct {
    double id, eta, when;
} g_eta[ETA_SLOTS];

static void eta_note(const cJSON *ev)
{
    double id = json_num(json_get(json_get(ev, "sweep"), "id"), -1);
    if (id < 0)
        return;
    int slot = (int)((unsigned long)id % ETA_SLOTS);
    g_eta[slot].id = id;
    g_eta[slot].eta = json_num(json_get(ev, "eta"), NAN);
    g_eta[slot].when = (double)time(NULL);
}

/* Seconds left for sweep id by mlpd's last estimate, counted down since; NaN when unknown. */
static double eta_of(double id)
{
    pthread_mutex_lock(&g_mu);
    int slot = (int)((unsigned long)id % ETA_SLOTS);
    double v = g_eta[slot].id == id ? g_eta[slot].eta - ((double)time(NULL) - g_eta[slot].when) : NAN;
    pthread_mutex_unlock(&g_mu);
    return isfinite(v) ? fmax(v, 0) : NAN;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* One request on a fresh connection (pages are served from several threads). */
static cJSON *ask(cJSON *req)
{
    struct cli c = {.socket_path = g_socket, .fd = -1};
    cJSON *resp = NULL;
    int rc = cli_request(&c, req, &resp);
    cli_disconnect(&c);
    if (rc != CLI_OK && rc != CLI_FAILED && rc != CLI_INVALID) {
        cJSON_Delete(resp);
        return NULL;
    }
    return resp;
}

/* The watch connection: follows every active sweep; reconnects when it ends. */
static void *watch_main(void *arg)
{
    (void)arg;
    while (!g_stop) {
        /* Reads give up after a second (nothing printed) so that a stop is seen even
           while a quiet sweep sends nothing (a paused one may not for hours). */
        struct cli c = {.socket_path = g_socket, .fd = -1, .timeout = 1.0};
        cJSON *ev = NULL;
        int rc = cli_request(&c, cmd_req("watch"), &ev);
        while (!g_stop) {
            if (rc != CLI_OK || !ev) {
                if (!c.timed_out)
                    break;
                c.timed_out = false;
                rc = cli_read_event(&c, &ev);
                continue;
            }
            /*
             * Events about a sweep are relayed; the stream's end ({"event": "end",
             * "sweep": null}: nothing active) is not, and mlpd keeps the connection
             * open after it for further requests, so it is closed and opened again.
             */
            bool end = !strcmp(json_str(json_get(ev, "event"), ""), "end");
            bool about = cJSON_IsObject(json_get(ev, "sweep"));
            char *txt = about ? cJSON_PrintUnformatted(ev) : NULL;
            pthread_mutex_lock(&g_mu);
            eta_note(ev);
            if (txt) {
                free(g_event);
                g_event = txt;
                g_seq++;
                pthread_cond_broadcast(&g_cv);
            }
            pthread_mutex_unlock(&g_mu);
            cJSON_Delete(ev);
            ev = NULL;
            if (end)
                break;
            rc = cli_read_event(&c, &ev);
        }
        cJSON_Delete(ev);
        cli_disconnect(&c);
        for (int i = 0; i < 10 && !g_stop; i++)
            usleep(100000); /* nothing active: ask again in a second for a new sweep */
    }
    return NULL;
}

/* ---- pages ---- */
static const char *CSS =
    "<style>body{font:14px sans-serif;margin:1em 2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}"
    "td.l,th.l{text-align:left}.live{color:#070}a{color:#036}pre{background:#f4f4f4;padding:.5em;"
    "white-space:pre-wrap}.plots{display:flex;flex-wrap:wrap;gap:1em}.plots figure{margin:0}"
    ".plots svg{max-width:100%;height:auto}.note{background:#ffd;padding:.3em .6em;white-space:pre-wrap}"
    ".err{color:#a00}.plots figcaption{font-size:12px;color:#555;max-width:60em}"
    "tr.pruned td{color:#777;font-style:italic}</style>";

/*
 * Subscribes to /events (the dashboard's relay of mlpd's watch stream) and
 * records each event in the DOM (#live data-events).  The sweeps list updates
 * the changed sweep's row from the event itself; a sweep page whose sweep the
 * event concerns fetches its own URL again (at most one fetch at a time) and
 * swaps #content, so the ranking, plots and table follow without polling.
 * A page showing an earlier drawing of a running sweep's ranking and plots
 * (#analysis-age) also fetches itself again when that drawing may be redrawn
 * (data-redraw-in seconds), so it is not left stale until the next event.
 */
static const char *JS =
    "<script>(function(){var t=new URLSearchParams(location.search).get('token');"
    "var es=new EventSource('/events?token='+encodeURIComponent(t));var n=0,busy=false,again=false;"
    "var me=document.body.getAttribute('data-sweep');"
    "function refresh(){if(busy){again=true;return}busy=true;"
    "fetch(location.href,{cache:'no-store'}).then(function(r){return r.text()}).then(function(h){"
    "var d=new DOMParser().parseFromString(h,'text/html');var c=d.getElementById('content');"
    "if(c){document.getElementById('content').replaceWith(document.adoptNode(c));"
    "var b=document.body;b.setAttribute('data-refreshes',1+(+b.getAttribute('data-refreshes')||0));arm()}"
    "}).catch(function(){}).finally(function(){busy=false;if(again){again=false;setTimeout(refresh,500)}})}"
    "var tm=null;function arm(){clearTimeout(tm);var a=document.getElementById('analysis-age');"
    "if(a)tm=setTimeout(refresh,1000*(+a.getAttribute('data-redraw-in')||0)+250)}arm();"
    "es.onmessage=function(e){n++;var d;try{d=JSON.parse(e.data)}catch(x){return}"
    "var s=d.sweep||{};var l=document.getElementById('live');"
    "l.textContent='live: '+n+' event(s); sweep '+s.id+' '+s.state+' '+s.done+'/'+s.total;"
    "l.setAttribute('data-events',n);var r=document.getElementById('sw-'+s.id);"
    "if(r){r.querySelector('.st').textContent=s.state;"
    "r.querySelector('.pr').textContent=s.done+'/'+s.total;"
    "r.querySelector('.eta').textContent=d.eta==null?'\\u2013':Math.round(d.eta)+' s';"
    "if(s.best&&s.best.mean!=null)r.querySelector('.best').textContent="
    "'config '+s.best.config+': '+s.best.mean.toFixed(4)+(s.best.se!=null?' \\u00b1 '+s.best.se.toFixed(4):'')}"
    "if(me&&String(s.id)===me)refresh()};"
    "document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('#trials-part a.pg');"
    "if(!a)return;e.preventDefault();fetch(a.href.replace('/sweep?','/trials?'),{cache:'no-store'})"
    ".then(function(r){return r.text()}).then(function(h){document.getElementById('trials-part').innerHTML=h;"
    "history.replaceState(null,'',a.href)})});})();</script>";

static void page_head(struct buf *b, const char *title, double sweep)
{
    b_str(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
    b_esc(b, title);
    b_str(b, "</title>");
    b_str(b, CSS);
    b_str(b, "</head><body");
    if (sweep > 0)
        b_fmt(b, " data-sweep=\"%.0f\"", sweep);
    b_str(b, "><p><a href=\"/?token=");
    b_str(b, g_token);
    b_str(b, "\">mlpsweep</a> <span id=\"live\" class=\"live\" data-events=\"0\">live: waiting</span></p>"
             "<div id=\"content\">");
}

static void page_tail(struct buf *b)
{
    b_str(b, "</div>");
    b_str(b, JS);
    b_str(b, "</body></html>");
}

static void b_err(struct buf *b, const cJSON *resp)
{
    b_str(b, "<p class=err>");
    if (!resp)
        b_str(b, "mlpd cannot be reached");
    else {
        const cJSON *e = json_get(resp, "error");
        b_esc(b, json_str(json_get(e, "message"), "error"));
    }
    b_str(b, "</p>");
}

static void stat_cell(struct buf *b, const cJSON *st)
{
    b_str(b, "<td>");
    b_num(b, json_get(st, "mean"), "%.4f");
    b_str(b, " ± ");
    b_num(b, json_get(st, "se"), "%.4f");
    b_str(b, "</td><td>[");
    b_num(b, json_get(st, "ci_low"), "%.4f");
    b_str(b, ", ");
    b_num(b, json_get(st, "ci_high"), "%.4f");
    b_str(b, "]</td>");
}

/* A summary's tags and note, escaped. */
static void tags_note(struct buf *b, const cJSON *sw)
{
    const cJSON *tags = json_get(sw, "tags"), *t;
    if (cJSON_GetArraySize(tags) > 0) {
        b_str(b, "<p id=\"tags\">tags:");
        cJSON_ArrayForEach(t, tags)
        {
            b_str(b, " <code>");
            b_esc(b, t->string);
            b_str(b, "=");
            b_esc(b, json_str(t, ""));
            b_str(b, "</code>");
        }
        b_str(b, "</p>");
    }
    const char *note = json_str(json_get(json_get(sw, "note"), "text"), NULL);
    if (note && *note) {
        b_str(b, "<div id=\"note\" class=\"note\">");
        b_esc(b, note);
        b_str(b, "</div>");
    }
}

static void eta_cell(struct buf *b, double id, const char *state)
{
    double eta = eta_of(id);
    if (!strcmp(state, "running") && isfinite(eta)) {
        char d[32];
        b_esc(b, resp_fmt_duration(d, sizeof d, eta));
    } else
        b_str(b, "–");
}

static void best_text(struct buf *b, const cJSON *best)
{
    if (cJSON_IsObject(best) && cJSON_IsNumber(json_get(best, "mean"))) {
        b_fmt(b, "config %.0f: ", json_num(json_get(best, "config"), 0));
        b_num(b, json_get(best, "mean"), "%.4f");
        if (cJSON_IsNumber(json_get(best, "se"))) {
            b_str(b, " ± ");
            b_num(b, json_get(best, "se"), "%.4f");
        }
    } else
        b_str(b, "–");
}

static void page_index(struct buf *b)
{
    page_head(b, "mlpsweep sweeps", 0);
    b_str(b, "<h1>Sweeps</h1>");
    cJSON *resp = ask(cmd_req("list"));
    cJSON *st = ask(cmd_req("status"));
    if (!cJSON_IsTrue(json_get(resp, "ok")))
        b_err(b, resp);
    b_str(b, "<table id=\"sweeps\"><tr><th>id</th><th class=l>name</th><th class=l>state</th>"
             "<th>progress</th><th>failed</th><th>ETA</th><th class=l>best so far (mean ± SE)</th></tr>");
    const cJSON *s;
    cJSON_ArrayForEach(s, json_get(resp, "sweeps"))
    {
        double id = json_num(json_get(s, "id"), 0);
        const char *state = json_str(json_get(s, "state"), "");
        b_fmt(b, "<tr id=\"sw-%.0f\"><td>%.0f</td><td class=l><a href=\"/sweep?id=%.0f&amp;token=%s\">",
              id, id, id, g_token);
        b_esc(b, json_str(json_get(s, "name"), ""));
        b_str(b, "</a></td><td class=\"l st\">");
        b_esc(b, state);
        b_fmt(b, "</td><td class=pr>%.0f/%.0f</td><td>%.0f</td><td class=eta>", json_num(json_get(s, "done"), 0),
              json_num(json_get(s, "total"), 0), json_num(json_get(s, "failed"), 0));
        eta_cell(b, id, state);
        b_str(b, "</td><td class=\"l best\">");
        best_text(b, json_get(s, "best"));
        b_str(b, "</td></tr>");
    }
    b_str(b, "</table>");
    if (st)
        b_fmt(b, "<p>workers %.0f/%.0f busy</p>",
              json_num(json_get(json_get(st, "workers"), "busy"), 0),
              json_num(json_get(json_get(st, "workers"), "total"), 0));
    cJSON_Delete(resp);
    cJSON_Delete(st);
    page_tail(b);
}

/*
 * One of the project's SVG plots (cli/plot*.c, the renderers of `mlpctl plot`
 * and `report`), captured in memory and inlined in a <figure>; when it cannot
 * be drawn, the renderer's reason instead.
 */
typedef int (*dash_render)(FILE *out, const cJSON *a, const cJSON *b, char *why, size_t n);
static int r_ranking(FILE *o, const cJSON *a, const cJSON *b, char *w, size_t n)
{
    return plot__ranking(o, a, b, w, n); /* show (b) adds the pruned configurations */
}
/*
 * Importance as the report draws it: the default method (the ANOVA of a grid),
 * else, when the ANOVA cannot be computed (pruning thinned the grid), the
 * functional ANOVA's bars with a caption saying why.
 */
static int r_importance(FILE *o, const cJSON *trials, const cJSON *unused, char *w, size_t n)
{
    (void)unused;
    struct importance_opts opt = IMPORTANCE_OPTS_INIT;
    cJSON *doc = NULL;
    char why[512] = "";
    const char *method = NULL;
    if (importance_analyse(trials, &opt, &doc, why, sizeof why) != CLI_OK &&
        !cJSON_IsObject(json_get(trials, "search")))
        method = "fanova";
    cJSON_Delete(doc);
    int rc = plot__importance(o, trials, NULL, method, w, n);
    if (rc == CLI_OK && method) {
        struct buf t = {0};
        b_str(&t, "<figcaption id=\"importance-method\">The ANOVA could not be computed: ");
        b_esc(&t, why);
        b_str(&t, ". The bars are the functional ANOVA's (random forest) instead.</figcaption>");
        if (t.s)
            fputs(t.s, o);
        free(t.s);
    }
    return rc;
}
/* a: per-configuration rows (config_rows), b: show. */
static int r_parallel(FILE *o, const cJSON *a, const cJSON *b, char *w, size_t n)
{
    int rc = plot__parallel(o, a, b, plot__metric_of(NULL, b, a), w, n);
    if (rc == CLI_OK)
        fputs("<figcaption id=\"parallel-how\">One line per configuration through its mean over its "
              "seeds (mlpd's per-configuration figures, not each trial), so every configuration is drawn "
              "at any sweep size; pruned configurations faint and dashed, not ranked.</figcaption>",
              o);
    return rc;
}
static int r_curves(FILE *o, const cJSON *a, const cJSON *b, char *w, size_t n)
{
    return plot__curves(o, a, b, 5, w, n);
}
static int r_gap(FILE *o, const cJSON *a, const cJSON *b, char *w, size_t n)
{
    (void)b;
    return plot__gap(o, a, w, n);
}
static int r_confusion(FILE *o, const cJSON *a, const cJSON *b, char *w, size_t n)
{
    (void)b;
    return plot__confusion(o, a, w, n);
}

static void figure(struct buf *b, const char *id, dash_render fn, const cJSON *x, const cJSON *y)
{
    char *mem = NULL;
    size_t mn = 0;
    char why[512] = "";
    FILE *f = open_memstream(&mem, &mn);
    int rc = CLI_FAILED;
    if (f) {
        rc = fn(f, x, y, why, sizeof why);
        fclose(f);
    }
    b_fmt(b, "<figure id=\"%s\">", id);
    if (rc == CLI_OK && mem)
        b_put(b, mem, mn); /* svg.c escapes every text it writes */
    else {
        b_str(b, "<figcaption class=err>");
        b_esc(b, why[0] ? why : "cannot draw this plot");
        b_str(b, "</figcaption>");
    }
    b_str(b, "</figure>");
    free(mem);
}

/* Sweeps up to this many trials get learning curves (every epoch row is read). */
#define CURVES_MAX_TRIALS 5000

static const char *TRIAL_COLS[] = {"trial", "config", "seed", "state", "val_accuracy", "val_loss",
                                   "train_accuracy", "test_accuracy", "epochs_run", "seconds"};
static const char *TRIAL_COLS_REG[] = {"trial", "config", "seed", "state", "val_mse", "val_loss",
                                       "train_mse", "test_mse", "epochs_run", "seconds"};
#define NCOLS (sizeof TRIAL_COLS / sizeof *TRIAL_COLS)
#define PER_PAGE 50

/*
 * The trial table of sweep `id`: one page of PER_PAGE rows, ordered and cut by
 * mlpd (results with sort/desc/offset/limit), so its cost does not grow with
 * the sweep.  Served inside the sweep page and alone as /trials (the page's
 * paging and sorting links swap it in place).
 */
static void trial_table(struct buf *b, const char *id, const char *sort, const char *dir, long page,
                        cJSON **head)
{
    int sdir = dir && !strcmp(dir, "desc") ? -1 : 1;
    const char *key = "trial";
    for (size_t i = 0; i < NCOLS; i++)
        if (sort && (!strcmp(sort, TRIAL_COLS[i]) || !strcmp(sort, TRIAL_COLS_REG[i])))
            key = sort;
    if (page < 0)
        page = 0;
    cJSON *res = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        cJSON *req = cmd_req("results");
        cmd_add_sweep(req, id);
        cJSON_AddBoolToObject(req, "trials", true);
        cJSON_AddStringToObject(req, "sort", key);
        cJSON_AddBoolToObject(req, "desc", sdir < 0);
        cJSON_AddNumberToObject(req, "offset", (double)(page * PER_PAGE));
        cJSON_AddNumberToObject(req, "limit", PER_PAGE);
        res = ask(req);
        if (!cJSON_IsTrue(json_get(res, "ok"))) {
            b_err(b, res);
            cJSON_Delete(res);
            return;
        }
        if (page == 0 || cJSON_GetArraySize(json_get(res, "rows")) > 0)
            break;
        cJSON_Delete(res); /* past the last page: the first one */
        res = NULL;
        page = 0;
    }
    if (!res)
        return;
    const cJSON *sw = json_get(res, "sweep");
    if (head && cJSON_IsObject(sw)) { /* the answer but its rows: summary, task, keys, search */
        cJSON *rows = cJSON_DetachItemFromObjectCaseSensitive(res, "rows");
        *head = cJSON_Duplicate(res, true);
        cJSON_AddItemToObject(res, "rows", rows);
    }
    double sid = json_num(json_get(sw, "id"), 0), total = json_num(json_get(sw, "total"), 0);
    bool regression = !strcmp(json_str(json_get(res, "task"), ""), "regression");
    const char *const *cols = regression ? TRIAL_COLS_REG : TRIAL_COLS;
    long pages = ((long)total + PER_PAGE - 1) / PER_PAGE;
    b_fmt(b, "<h2>Trials</h2><p id=\"trials-info\" data-total=\"%.0f\" data-page=\"%ld\" data-pages=\"%ld\">"
             "%.0f trials, page %ld of %ld, sorted by %s %s. ",
          total, page + 1, pages, total, page + 1, pages > 0 ? pages : 1, key, sdir < 0 ? "desc" : "asc");
    for (int pass = 0; pass < 2; pass++) {
        long p = pass == 0 ? page - 1 : page + 1;
        if (p < 0 || p >= pages)
            continue;
        b_fmt(b, "<a class=pg id=\"%s\" href=\"/sweep?id=%.0f&amp;sort=%s&amp;dir=%s&amp;page=%ld&amp;token=%s\">%s</a> ",
              pass == 0 ? "prev" : "next", sid, key, sdir < 0 ? "desc" : "asc", p, g_token,
              pass == 0 ? "previous" : "next");
    }
    b_str(b, "</p><table id=\"trials\"><tr>");
    for (size_t i = 0; i < NCOLS; i++) {
        bool cur = !strcmp(key, cols[i]);
        b_fmt(b, "<th><a class=pg href=\"/sweep?id=%.0f&amp;sort=%s&amp;dir=%s&amp;token=%s\">%s%s</a></th>", sid,
              cols[i], cur && sdir > 0 ? "desc" : "asc", g_token, cols[i],
              cur ? (sdir > 0 ? " ▲" : " ▼") : "");
    }
    b_str(b, "</tr>");
    const cJSON *r;
    cJSON_ArrayForEach(r, json_get(res, "rows"))
    {
        b_str(b, "<tr>");
        for (size_t j = 0; j < NCOLS; j++) {
            const cJSON *x = json_get(r, cols[j]);
            b_str(b, "<td>");
            if (j == 0)
                b_fmt(b, "<a href=\"/trial?id=%.0f&amp;token=%s\">%.0f</a>", json_num(x, 0), g_token,
                      json_num(x, 0));
            else if (cJSON_IsString(x))
                b_esc(b, x->valuestring);
            else
                b_num(b, x, j <= 2 || j == 8 ? "%.0f" : "%.4f");
            b_str(b, "</td>");
        }
        b_str(b, "</tr>");
    }
    b_str(b, "</table>");
    cJSON_Delete(res);
}

/* Pruned configurations listed under the ranking, at most. */
#define PRUNED_ROWS_MAX 20

static void mean_se_cell(struct buf *b, const cJSON *st)
{
    b_str(b, "<td>");
    b_num(b, json_get(st, "mean"), "%.4f");
    if (cJSON_IsNumber(json_get(st, "se"))) {
        b_str(b, " ± ");
        b_num(b, json_get(st, "se"), "%.4f");
    }
    b_str(b, "</td>");
}

/* One row of best's ranking, or (confirmed) of its confirmed ranking. */
static void rank_row(struct buf *b, const cJSON *c, bool confirmed)
{
    const cJSON *st = json_get(c, "stat"), *tr = json_get(c, "train"), *cfg = json_get(c, "config");
    char label[512];
    b_fmt(b, "<tr><td>%.0f</td><td>%.0f</td><td class=l>", json_num(json_get(c, "rank"), 0),
          resp_config_num(cfg));
    b_esc(b, resp_fmt_config(label, sizeof label, resp_config_grid(cfg)));
    b_str(b, "</td>");
    if (confirmed) {
        b_str(b, "<td>");
        b_num(b, json_get(c, "selection_rank"), "%.0f");
        b_str(b, "</td>");
    }
    b_fmt(b, "<td>%.0f</td>", json_num(json_get(st, "n"), 0));
    stat_cell(b, st);
    if (!confirmed) {
        b_str(b, "<td>");
        b_num(b, json_get(tr, "mean"), "%.4f");
        b_str(b, "</td><td>");
        if (cJSON_IsNumber(json_get(tr, "mean")) && cJSON_IsNumber(json_get(st, "mean")))
            b_fmt(b, "%+.4f", json_get(tr, "mean")->valuedouble - json_get(st, "mean")->valuedouble);
        else
            b_str(b, "–");
        b_str(b, "</td>");
    }
    mean_se_cell(b, json_get(c, "test"));
    b_str(b, "</tr>");
}

/* The configurations a prune rule stopped (show's rows with "pruned"): listed, not ranked. */
static void pruned_rows(struct buf *b, const cJSON *show)
{
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, json_get(show, "configs"))
    {
        double rung = json_num(json_get(c, "pruned"), NAN);
        if (!isfinite(rung) || n++ >= PRUNED_ROWS_MAX)
            continue;
        const cJSON *cfg = json_get(c, "config");
        char label[512];
        b_fmt(b, "<tr class=pruned><td>pruned</td><td>%.0f</td><td class=l>", resp_config_num(cfg));
        b_esc(b, resp_fmt_config(label, sizeof label, resp_config_grid(cfg)));
        b_fmt(b, "</td><td>–</td><td colspan=5 class=l>stopped at epoch %.0f by the prune rule: "
                 "not ranked</td></tr>",
              rung);
    }
    if (n > PRUNED_ROWS_MAX)
        b_fmt(b, "<tr class=pruned><td colspan=9 class=l>and %d more pruned configurations</td></tr>",
              n - PRUNED_ROWS_MAX);
}

/* best's "confirmed": the ranking of the confirmation trials (fresh seeds), when any finished. */
static void confirmed_table(struct buf *b, const cJSON *best)
{
    const cJSON *co = json_get(best, "confirmed"), *s, *c;
    if (!cJSON_IsObject(co))
        return;
    b_str(b, "<h2>Confirmed ranking</h2><p id=\"confirmed-seeds\">The top configurations run again on "
             "seeds never used in selection (");
    int i = 0;
    cJSON_ArrayForEach(s, json_get(co, "seeds")) b_fmt(b, "%s%.0f", i++ ? ", " : "", json_num(s, 0));
    b_str(b, "), ranked on those trials alone: the figures to report.</p><table id=\"confirmed\"><tr>"
             "<th>rank</th><th>config</th><th class=l>configuration</th><th>selection rank</th>"
             "<th>n</th><th>mean ± SE</th><th>95% CI</th><th>test mean ± SE</th></tr>");
    cJSON_ArrayForEach(c, json_get(co, "configs")) rank_row(b, c, true);
    b_str(b, "</table>");
}

static void ranking_html(struct buf *b, const cJSON *best, const cJSON *show)
{
    b_str(b, "<h2>Ranking</h2><p id=\"significance\">");
    const cJSON *cmp = json_get(best, "comparison");
    if (cJSON_IsObject(cmp)) {
        char sentence[256];
        b_esc(b, resp_significance_sentence(sentence, sizeof sentence, "#1", "#2",
                                            json_num(json_get(cmp, "t"), NAN), json_num(json_get(cmp, "df"), NAN),
                                            json_num(json_get(cmp, "p"), NAN), RESP_ALPHA));
        b_str(b, ".");
    } else
        b_str(b, "No comparison yet: fewer than two configurations have two or more finished seeds.");
    b_str(b, "</p><table id=\"ranking\"><tr><th>rank</th><th>config</th><th class=l>configuration</th>"
             "<th>n</th><th>mean ± SE</th><th>95% CI</th><th>train mean</th><th>gap (train − val)</th>"
             "<th>test mean ± SE</th></tr>");
    const cJSON *c;
    cJSON_ArrayForEach(c, json_get(best, "configs")) rank_row(b, c, false);
    pruned_rows(b, show);
    b_str(b, "</table>");
    confirmed_table(b, best);
}

/* Drop show's configurations ranked below 20 (the gap plot of a sweep of thousands). */
static void show_keep_top(cJSON *show)
{
    cJSON *cf = json_get(show, "configs");
    for (int i = cJSON_GetArraySize(cf) - 1; i >= 0; i--) {
        double rk = json_num(json_get(cJSON_GetArrayItem(cf, i), "rank"), 0);
        if (rk < 1 || rk > 20)
            cJSON_DeleteItemFromArray(cf, i);
    }
}

/*
 * show's configurations as per-configuration rows (importance.h): grid values,
 * n, the metric's mean and sd, done seeds, diverged, pruned rung; under head's
 * summary, keys and search, as the parallel-coordinates and importance code
 * read them.  NULL when out of memory.
 */
static cJSON *config_rows(const cJSON *show, const cJSON *head)
{
    cJSON *out = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(out, "rows");
    static const char *const from_head[] = {"sweep", "task", "search"};
    for (size_t i = 0; out && i < sizeof from_head / sizeof *from_head; i++) {
        const cJSON *v = json_get(head, from_head[i]);
        cJSON_AddItemToObject(out, from_head[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    cJSON_AddItemToObject(out, "keys", cJSON_Duplicate(json_get(show, "keys"), true));
    char mk[96], sk[96];
    const char *metric = json_str(json_get(show, "metric"), "val_accuracy");
    snprintf(mk, sizeof mk, "%s_mean", metric);
    snprintf(sk, sizeof sk, "%s_sd", metric);
    const cJSON *c, *kv;
    cJSON_ArrayForEach(c, json_get(show, "configs"))
    {
        const cJSON *st = json_get(c, "stat");
        cJSON *r = cJSON_CreateObject();
        if (!r || !cJSON_AddItemToArray(rows, r)) {
            cJSON_Delete(r);
            break;
        }
        cJSON_AddNumberToObject(r, "config", resp_config_id(json_get(c, "config")));
        cJSON_ArrayForEach(kv, json_get(json_get(c, "config"), "grid"))
            cJSON_AddItemToObject(r, kv->string, cJSON_Duplicate(kv, true));
        cJSON_AddNumberToObject(r, "n", json_num(json_get(st, "n"), 0));
        cJSON_AddItemToObject(r, mk, cJSON_Duplicate(json_get(st, "mean"), true));
        cJSON_AddItemToObject(r, sk, cJSON_Duplicate(json_get(st, "sd"), true));
        cJSON_AddNumberToObject(r, "seeds_done", json_num(json_get(c, "seeds_done"), 0));
        cJSON_AddNumberToObject(r, "diverged", json_num(json_get(c, "diverged"), 0));
        cJSON_AddNumberToObject(r, "pruned", json_num(json_get(c, "pruned"), 0));
    }
    return cJSON_GetArraySize(rows) == cJSON_GetArraySize(json_get(show, "configs")) ? out
                                                                                       : (cJSON_Delete(out), NULL);
}

/*
 * Parallel coordinates and importance, from each configuration's mean and sd
 * over its seeds as show gives them (mlpd's per-configuration aggregates): one
 * line per configuration at any sweep size, without reading every trial.
 */
static void config_plots(struct buf *b, const cJSON *show, const cJSON *head)
{
    cJSON *rows = show ? config_rows(show, head) : NULL;
    if (!rows) {
        b_str(b, "<figure id=\"plot-parallel\"><figcaption class=err>");
        b_str(b, show ? "out of memory" : "mlpd did not answer show");
        b_str(b, "</figcaption></figure>");
        return;
    }
    figure(b, "plot-parallel", r_parallel, rows, show);
    figure(b, "plot-importance", r_importance, rows, NULL);
    cJSON_Delete(rows);
}

/* best's answer, asked on another thread while the page asks show. */
struct ask_job {
    cJSON *req, *resp;
};

static void *ask_main(void *arg)
{
    struct ask_job *j = arg;
    j->resp = ask(j->req);
    return NULL;
}

/*
 * show of sweep id, with the confusion matrix of configuration cfg when cfg > 0
 * (one reading of the sweep's results for both); asked again without it when
 * refused (*none: cfg has no recorded matrix).  NULL unless ok.
 */
static cJSON *ask_show(const char *id, int cfg, bool *none)
{
    *none = false;
    for (int pass = cfg > 0 ? 0 : 1; pass < 2; pass++) {
        cJSON *req = cmd_req("show");
        cmd_add_sweep(req, id);
        if (pass == 0) {
            cJSON_AddNumberToObject(req, "config", cfg);
            cJSON_AddBoolToObject(req, "confusion", true);
        }
        cJSON *show = ask(req);
        if (cJSON_IsTrue(json_get(show, "ok")))
            return show;
        const cJSON *e = json_get(show, "error");
        *none = pass == 0 && !strcmp(json_str(json_get(e, "code"), ""), "not_found") &&
                !strcmp(json_str(json_get(e, "path"), ""), "config");
        cJSON_Delete(show);
    }
    return NULL;
}

/* Learning curves (sweeps of up to CURVES_MAX_TRIALS: every epoch row is read). */
static void curves_plot(struct buf *b, const char *id, double total, const cJSON *best)
{
    if (total > CURVES_MAX_TRIALS) {
        b_fmt(b, "<figure id=\"plot-curves\"><figcaption>Learning curves are drawn for sweeps of up to %d "
                 "trials (mlpctl plot --kind curves draws any).</figcaption></figure>",
              CURVES_MAX_TRIALS);
        return;
    }
    cJSON *req = cmd_req("results");
    cmd_add_sweep(req, id);
    cJSON_AddBoolToObject(req, "curves", true);
    cJSON *curves = ask(req);
    if (cJSON_IsTrue(json_get(curves, "ok")))
        figure(b, "plot-curves", r_curves, best, curves);
    cJSON_Delete(curves);
}

/*
 * The confusion matrix of best's #1 (classification with a recorded matrix):
 * show's when it is of that one; none when show was refused it for that one.
 */
static void confusion_plot(struct buf *b, const char *id, const cJSON *best, const cJSON *show, int none)
{
    const cJSON *top = cJSON_GetArrayItem(json_get(best, "configs"), 0);
    int top_id = top ? resp_config_id(json_get(top, "config")) : 0;
    if (top_id <= 0 || top_id == none)
        return;
    const cJSON *have = json_get(show, "confusion");
    if (have && (int)json_num(json_get(have, "config"), -1) == top_id) {
        figure(b, "plot-confusion", r_confusion, show, NULL);
        return;
    }
    cJSON *req = cmd_req("show");
    cmd_add_sweep(req, id);
    cJSON_AddNumberToObject(req, "config", top_id);
    cJSON_AddBoolToObject(req, "confusion", true);
    cJSON *conf = ask(req);
    if (cJSON_IsTrue(json_get(conf, "ok")))
        figure(b, "plot-confusion", r_confusion, conf, NULL);
    cJSON_Delete(conf);
}

/*
 * The sweep-wide part of the sweep page: ranking, pruned and confirmed
 * configurations, plots.  best and show each read every result of the sweep
 * (about 0.2 s of mlpd's CPU apiece at 100k trials), so they are asked at
 * once, on two connections (mlpd answers them on its worker threads), and
 * show brings the confusion matrix of the summary's best configuration along
 * (best's #1 but for a tie; then it is asked apart).  The page caches this
 * part (analysis_cached).  head: the trial table's answer but its rows.
 * Returns malloc'ed HTML, NULL when out of memory.
 */
static char *analysis_build(const char *id, const cJSON *head)
{
    struct buf b = {0};
    const cJSON *sum = json_get(head, "sweep");
    struct ask_job bj = {.req = cmd_req("best")};
    cmd_add_sweep(bj.req, id);
    cJSON_AddNumberToObject(bj.req, "top", 20);
    pthread_t th;
    bool threaded = pthread_create(&th, NULL, ask_main, &bj) == 0;
    bool classify = strcmp(json_str(json_get(head, "task"), ""), "regression") != 0;
    int guess = classify ? (int)json_num(json_get(json_get(sum, "best"), "config"), 0) : 0;
    bool refused;
    cJSON *show = ask_show(id, guess, &refused);
    if (threaded)
        pthread_join(th, NULL);
    else
        ask_main(&bj);
    cJSON *best = bj.resp;
    if (!cJSON_IsTrue(json_get(best, "ok"))) {
        b_err(&b, best);
        goto out;
    }
    ranking_html(&b, best, show);

    /* Plots, drawn by the same code as `mlpctl plot` and `report`. */
    b_str(&b, "<h2>Plots</h2><div class=\"plots\" id=\"plots\">");
    figure(&b, "plot-ranking", r_ranking, best, show);
    curves_plot(&b, id, json_num(json_get(sum, "total"), 0), best);
    config_plots(&b, show, head);
    if (show) {
        show_keep_top(show);
        figure(&b, "plot-gap", r_gap, show, NULL);
    }
    confusion_plot(&b, id, best, show, refused ? guess : 0);
    b_str(&b, "</div>");
out:
    cJSON_Delete(show);
    cJSON_Delete(best);
    if (b.oom || !b.s) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/*
 * The sweep-wide part, cached per sweep under its summary (any change of
 * counts, state, best, finish time, tags or note draws it again).  While the
 * sweep runs, every result changes the summary; a big sweep's part is then
 * kept for ten times what drawing it took (--redraw: that many seconds), so a
 * dashboard left open spends at most about a tenth of mlpd's time on it.  The
 * page says when it shows a part drawn at an earlier count, and its script
 * fetches the page again when the part may be drawn anew (JS: arm).
 */
#define ANALYSIS_SLOTS 8
#define ANALYSIS_REUSE 10.0 /* times the drawing's own duration */
static double g_redraw = NAN; /* --redraw: seconds instead */
static struct analysis {
    double sid, made, cost, done;
    char *key, *html;
} g_analysis[ANALYSIS_SLOTS];
static pthread_mutex_t g_analysis_mu = PTHREAD_MUTEX_INITIALIZER;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Cached HTML of sweep sid's analysis (malloc'ed copy) or NULL; when it is of an
 * earlier summary, *stale: the done count it shows, *left: seconds until it may
 * be drawn again.
 */
static char *analysis_cached(double sid, const char *key, bool running, double *stale, double *left)
{
    char *html = NULL;
    pthread_mutex_lock(&g_analysis_mu);
    for (int i = 0; i < ANALYSIS_SLOTS; i++) {
        struct analysis *a = &g_analysis[i];
        if (a->sid != sid || !a->html)
            continue;
        bool same = key && a->key && !strcmp(a->key, key);
        double keep = isfinite(g_redraw) ? g_redraw : ANALYSIS_REUSE * a->cost, age = mono_s() - a->made;
        if (same || (running && age < keep)) {
            html = strdup(a->html);
            *stale = same ? NAN : a->done;
            *left = keep - age;
        }
        break;
    }
    pthread_mutex_unlock(&g_analysis_mu);
    return html;
}

static void analysis_store(double sid, char *key, const char *html, double made, double cost, double done)
{
    char *copy = strdup(html);
    pthread_mutex_lock(&g_analysis_mu);
    int k = 0;
    for (int i = 0; i < ANALYSIS_SLOTS; i++) {
        if (g_analysis[i].sid == sid) {
            k = i;
            break;
        }
        if (g_analysis[i].made < g_analysis[k].made)
            k = i;
    }
    struct analysis *a = &g_analysis[k];
    free(a->key);
    free(a->html);
    *a = (struct analysis){.sid = sid, .made = made, .cost = cost, .done = done, .key = key, .html = copy};
    pthread_mutex_unlock(&g_analysis_mu);
}

static void analysis_html(struct buf *b, const char *id, const cJSON *head)
{
    const cJSON *sum = json_get(head, "sweep");
    double sid = json_num(json_get(sum, "id"), 0), done = json_num(json_get(sum, "done"), 0);
    bool running = !strcmp(json_str(json_get(sum, "state"), ""), "running");
    char *key = cJSON_PrintUnformatted(sum);
    double stale = NAN, left = 0;
    char *html = analysis_cached(sid, key, running, &stale, &left);
    if (!html) {
        double t0 = mono_s();
        html = analysis_build(id, head);
        if (html) {
            double t1 = mono_s();
            analysis_store(sid, key, html, t1, t1 - t0, done);
            key = NULL;
        }
    }
    free(key);
    if (isfinite(stale)) { /* the page's script fetches it again when left has passed */
        char every[64];
        if (isfinite(g_redraw))
            snprintf(every, sizeof every, "%g s (--redraw)", g_redraw);
        else
            snprintf(every, sizeof every, "ten times as long as a drawing takes");
        b_fmt(b, "<p id=\"analysis-age\" class=note data-done=\"%.0f\" data-redraw-in=\"%.1f\">Ranking and "
                 "plots as of %.0f done trials: while this sweep runs they are drawn again at most every "
                 "%s, as each drawing reads all its results; this page shows the next one in %.0f s.</p>",
              stale, left, stale, every, ceil(left));
    }
    if (html)
        b_str(b, html);
    else
        b_str(b, "<p class=err>out of memory</p>");
    free(html);
}

static void page_sweep(struct buf *b, const char *id, const char *sort, const char *dir, long page)
{
    /* The trial table's answer carries the sweep's summary: the head and the cache key. */
    struct buf table = {0};
    cJSON *head = NULL;
    trial_table(&table, id, sort, dir, page, &head);
    const cJSON *sum = json_get(head, "sweep");
    double sid = json_num(json_get(sum, "id"), 0);
    page_head(b, json_str(json_get(sum, "name"), "sweep"), sid);
    if (!cJSON_IsObject(sum)) {
        b_put(b, table.s ? table.s : "", table.n);
        free(table.s);
        page_tail(b);
        return;
    }
    const char *state = json_str(json_get(sum, "state"), "");
    double total = json_num(json_get(sum, "total"), 0);
    b_str(b, "<h1 id=\"name\">");
    b_esc(b, json_str(json_get(sum, "name"), ""));
    b_str(b, "</h1><p id=\"summary\">state <b id=\"state\">");
    b_esc(b, state);
    b_fmt(b, "</b>, <span id=\"progress\" data-done=\"%.0f\">%.0f/%.0f done</span>, %.0f failed, ETA ",
          json_num(json_get(sum, "done"), 0), json_num(json_get(sum, "done"), 0), total,
          json_num(json_get(sum, "failed"), 0));
    eta_cell(b, sid, state);
    b_str(b, "; ranked on ");
    b_esc(b, json_str(json_get(sum, "metric"), ""));
    b_str(b, " (validation), test reported</p>");
    tags_note(b, sum);
    analysis_html(b, id, head);
    b_str(b, "<div id=\"trials-part\">");
    b_put(b, table.s ? table.s : "", table.n);
    b_str(b, "</div>");
    free(table.s);
    cJSON_Delete(head);
    page_tail(b);
}

/*
 * A trial's curve, drawn by the sweep page's curves plot (plot__curves): a
 * ranking of one configuration (this trial's, its value as the mean) and the
 * trial's epoch rows as the curves of that configuration.
 */
static int r_trial_curve(FILE *o, const cJSON *t, const cJSON *unused, char *w, size_t n)
{
    (void)unused;
    const cJSON *cfg = json_get(t, "config");
    int cid = resp_config_id(cfg);
    cJSON *best = cJSON_CreateObject(), *curves = cJSON_CreateObject();
    cJSON *sw = cJSON_AddObjectToObject(best, "sweep");
    char name[320];
    snprintf(name, sizeof name, "%s, trial %.0f (seed %.0f)", json_str(json_get(t, "sweep_name"), "?"),
             json_num(json_get(t, "id"), 0), json_num(json_get(t, "seed"), 0));
    cJSON_AddStringToObject(sw, "name", name);
    const cJSON *first = cJSON_GetArrayItem(json_get(t, "curve"), 0);
    const char *metric = json_get(first, "val_accuracy") ? "val_accuracy"
                         : json_get(first, "val_mse")    ? "val_mse"
                                                         : "val_loss";
    cJSON_AddStringToObject(best, "metric", metric);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "rank", 1);
    cJSON_AddItemToObject(c, "config", cfg ? cJSON_Duplicate(cfg, true) : cJSON_CreateNumber(cid));
    cJSON *st = cJSON_AddObjectToObject(c, "stat");
    const cJSON *v = json_get(json_get(t, "metrics"), metric);
    cJSON_AddNumberToObject(st, "n", 1);
    cJSON_AddItemToObject(st, "mean", cJSON_IsNumber(v) ? cJSON_CreateNumber(v->valuedouble) : cJSON_CreateNull());
    cJSON_AddItemToArray(cJSON_AddArrayToObject(best, "configs"), c);
    cJSON *rows = cJSON_AddArrayToObject(curves, "rows");
    const cJSON *e;
    cJSON_ArrayForEach(e, json_get(t, "curve"))
    {
        cJSON *r = cJSON_Duplicate(e, true);
        if (!r)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(r, "config");
        cJSON_AddNumberToObject(r, "config", cid);
        cJSON_AddItemToArray(rows, r);
    }
    int rc = plot__curves(o, best, curves, 1, w, n);
    cJSON_Delete(best);
    cJSON_Delete(curves);
    return rc;
}

static void page_trial(struct buf *b, const char *id)
{
    cJSON *req = cmd_req("trial");
    char *end;
    long tid = strtol(id, &end, 10);
    cJSON_AddNumberToObject(req, "id", (double)(*end ? -1 : tid));
    cJSON *resp = ask(req);
    const cJSON *t = json_get(resp, "trial");
    page_head(b, "trial", 0);
    if (!cJSON_IsObject(t)) {
        b_err(b, resp);
    } else {
        b_fmt(b, "<h1>Trial %.0f</h1><p>sweep <a href=\"/sweep?id=%.0f&amp;token=%s\">", json_num(json_get(t, "id"), 0),
              json_num(json_get(t, "sweep"), 0), g_token);
        b_esc(b, json_str(json_get(t, "sweep_name"), ""));
        b_fmt(b, "</a>, config %.0f, seed %.0f, state ", resp_config_num(json_get(t, "config")),
              json_num(json_get(t, "seed"), 0));
        b_esc(b, json_str(json_get(t, "state"), ""));
        b_str(b, "</p>");
        const char *err = json_str(json_get(t, "error"), NULL);
        if (err && *err) {
            b_str(b, "<p class=err id=\"error\">");
            b_esc(b, err);
            b_str(b, "</p>");
        }
        b_str(b, "<h2>Curve</h2><div class=\"plots\">");
        if (cJSON_GetArraySize(json_get(t, "curve")) > 0)
            figure(b, "plot-trial-curve", r_trial_curve, t, NULL);
        else
            b_str(b, "<p id=\"plot-trial-curve\">No epoch recorded.</p>");
        b_str(b, "</div><h2>Log tail</h2><pre id=\"log\">");
        b_esc(b, json_str(json_get(t, "log_tail"), ""));
        b_str(b, "</pre>");
    }
    cJSON_Delete(resp);
    page_tail(b);
}

/* ---- server-sent events ---- */
struct sse {
    unsigned long seen;
    size_t off;
    struct buf pending;
};

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct sse *s = cls;
    if (s->off >= s->pending.n) {
        s->off = s->pending.n = 0;
        pthread_mutex_lock(&g_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 15;
        while (g_seq == s->seen && !g_stop)
            if (pthread_cond_timedwait(&g_cv, &g_mu, &until) == ETIMEDOUT)
                break;
        if (g_seq != s->seen && g_event) {
            s->seen = g_seq;
            b_str(&s->pending, "data: ");
            b_str(&s->pending, g_event);
            b_str(&s->pending, "\n\n");
        } else
            b_str(&s->pending, ": keepalive\n\n");
        pthread_mutex_unlock(&g_mu);
        if (g_stop || s->pending.oom)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = s->pending.n - s->off < max ? s->pending.n - s->off : max;
    memcpy(out, s->pending.s + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse *s = cls;
    free(s->pending.s);
    free(s);
}

/* ---- dispatch ---- */
static bool token_ok(const char *t)
{
    if (!t || strlen(t) != 32)
        return false;
    unsigned char d = 0;
    for (int i = 0; i < 32; i++)
        d |= (unsigned char)(t[i] ^ g_token[i]);
    return d == 0;
}

/*
 * Only peers on loopback are served (the socket is bound to 127.x already;
 * this holds even if that ever changes).
 */
static enum MHD_Result accept_loopback(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)cls;
    if (addr->sa_family != AF_INET || len < (socklen_t)sizeof(struct sockaddr_in))
        return MHD_NO;
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127 ? MHD_YES : MHD_NO;
}

/*
 * The Host header must name loopback (127.x.x.x or localhost, any port: ssh -L
 * may forward another one), so a page of another site whose name was made to
 * resolve to 127.0.0.1 (DNS rebinding) is refused even before the token.
 */
static bool host_ok(const char *host)
{
    if (!host)
        return true; /* HTTP/1.0 */
    size_t n = strcspn(host, ":");
    if (n == 9 && !strncasecmp(host, "localhost", 9))
        return true;
    char ip[INET_ADDRSTRLEN];
    struct in_addr a;
    if (n == 0 || n >= sizeof ip)
        return false;
    memcpy(ip, host, n);
    ip[n] = 0;
    return inet_pton(AF_INET, ip, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, struct buf *b)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b->n, b->s ? b->s : (char *)"", MHD_RESPMEM_MUST_FREE);
    if (!b->s)
        r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                            "connect-src 'self'; img-src 'self'");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **state)
{
    (void)cls;
    (void)version;
    (void)data;
    (void)data_size;
    (void)state;
    struct buf b = {0};
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        b_str(&b, "read-only: GET only\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", &b);
    }
    if (!host_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"))) {
        b_str(&b, "forbidden: the Host header names no loopback address (use 127.0.0.1 or localhost)\n");
        return reply(c, MHD_HTTP_FORBIDDEN, "text/plain", &b);
    }
    if (!token_ok(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"))) {
        b_str(&b, "forbidden: the URL needs the token mlpctl dashboard printed\n");
        return reply(c, MHD_HTTP_FORBIDDEN, "text/plain", &b);
    }
    const char *id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
    if (!strcmp(url, "/events")) {
        struct sse *s = calloc(1, sizeof *s);
        if (!s)
            return MHD_NO;
        pthread_mutex_lock(&g_mu);
        s->seen = g_seq ? g_seq - 1 : 0; /* the latest event at once */
        pthread_mutex_unlock(&g_mu);
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/"))
        page_index(&b);
    else if (!strcmp(url, "/sweep") && id) {
        const char *pg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page");
        page_sweep(&b, id, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort"),
                   MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dir"), pg ? atol(pg) : 0);
    } else if (!strcmp(url, "/trials") && id) {
        const char *pg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page");
        trial_table(&b, id, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort"),
                    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dir"), pg ? atol(pg) : 0, NULL);
    } else if (!strcmp(url, "/trial") && id)
        page_trial(&b, id);
    else {
        b_str(&b, "not found\n");
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", &b);
    }
    if (b.oom) {
        free(b.s);
        b = (struct buf){0};
        b_str(&b, "out of memory\n");
        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", &b);
    }
    return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", &b);
}

int cmd_dashboard(struct cli *cli, int argc, char **argv)
{
    const char *port_s = NULL, *bind_s = NULL, *redraw_s = NULL;
    struct opt opts[] = {{"port", OPT_STRING, &port_s},
                         {"bind", OPT_STRING, &bind_s},
                         {"redraw", OPT_STRING, &redraw_s},
                         {NULL, 0, NULL}};
    int rc = cmd_parse_opts(argc, argv, opts);
    if (rc != CLI_OK)
        return rc;
    if (redraw_s) {
        char *end;
        g_redraw = strtod(redraw_s, &end);
        if (end == redraw_s || *end || !isfinite(g_redraw) || g_redraw < 0)
            return cli_usage("dashboard", "--redraw: %s is not a number of seconds (0 or more)", redraw_s);
    }
    long port = 0;
    if (port_s) {
        char *end;
        port = strtol(port_s, &end, 10);
        if (*end || port < 0 || port > 65535)
            return cli_usage("dashboard", "--port: %s is not a port (0 to 65535)", port_s);
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind_s ? bind_s : "127.0.0.1", &sa.sin_addr) != 1)
        return cli_usage("dashboard", "--bind: %s is not an IPv4 address", bind_s);
    if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127)
        return cli_usage("dashboard", "--bind: %s is not a loopback address (127.x.x.x): the "
                                      "dashboard is served on loopback only; use ssh -L to reach it",
                         bind_s);
    if ((rc = cli_connect(cli)) != CLI_OK)
        return rc;
    cli_disconnect(cli);
    g_socket = cli->socket_path;
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        fprintf(stderr, "mlpctl dashboard: getrandom: %s\n", strerror(errno));
        return CLI_FAILED;
    }
    for (int i = 0; i < 16; i++)
        snprintf(g_token + 2 * i, 3, "%02x", raw[i]);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                                            (uint16_t)port, accept_loopback, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
                                            (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mlpctl dashboard: cannot listen on %s:%ld: %s\n", bind_s ? bind_s : "127.0.0.1", port,
                strerror(errno));
        return CLI_FAILED;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : (unsigned)port;
    pthread_t w;
    if (pthread_create(&w, NULL, watch_main, NULL) != 0) {
        MHD_stop_daemon(d);
        return CLI_FAILED;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    printf("mlpctl dashboard: http://%s:%u/?token=%s\n", host, bound, g_token);
    fflush(stdout);
    while (!g_stop)
        pause();
    pthread_mutex_lock(&g_mu);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    MHD_stop_daemon(d);
    pthread_join(w, NULL);
    free(g_event);
    return CLI_OK;
}
#endif
