/*
 * watch and wait — following a sweep until it ends.
 *
 * watch sends one "watch" request and then reads the event lines mlpd
 * streams (at most two per second) until the "end" event.  On a terminal the
 * progress line is redrawn in place ("\r" + erase-to-end-of-line) and sized
 * to the terminal; when stdout is a pipe or file every event is one plain
 * line, so logs stay readable.  The global watch (no SWEEP) follows every
 * active sweep with one line each: on a terminal the block of lines is
 * redrawn in place (cursor up, erase, redraw), elsewhere a sweep's line is
 * printed only when its counts or best value changed; with --json each event is one compact JSON
 * line (JSON Lines — the one verb whose output is a stream).  wait sends one
 * "wait" request, which mlpd answers when the sweep has ended.  Both exit 0
 * when every trial of the sweep(s) succeeded and 1 otherwise.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "table.h"

#define BAR_MIN 10
#define BAR_MAX 40

/* A sweep succeeded when every trial is done. */
static bool sweep_ok(const cJSON *s)
{
    double done = resp_num(s, "done"), total = resp_num(s, "total");
    return isfinite(done) && done == total;
}

/* Ctrl-C on a terminal: end the redrawn line so the shell prompt starts on its own. */
static void on_interrupt(int sig)
{
    static const char nl[] = "\n";
    ssize_t w = write(STDOUT_FILENO, nl, 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* The blocked note after the fields, when the sweep has one. */
static void add_blocked(char *buf, size_t n, const cJSON *s)
{
    char note[1024];
    size_t len = strlen(buf);
    if (cmd_blocked_note(note, sizeof note, json_get(s, "blocked")) && len + 2 < n)
        snprintf(buf + len, n - len, "  %.400s", note);
}

/* "96/160, 2 running, 0 failed, ETA 3m12s, best 0.8912 ± 0.0011" */
static void progress_fields(char *buf, size_t n, const cJSON *s, double eta, bool tty)
{
    char etab[32], best[64] = "—";
    const cJSON *b = json_get(s, "best");
    if (cJSON_IsObject(b))
        resp_fmt_stat(best, sizeof best, resp_num(b, "mean"), resp_num(b, "se"));
    if (isfinite(eta))
        resp_fmt_duration(etab, sizeof etab, eta);
    else
        snprintf(etab, sizeof etab, "—");
    const char *sep = tty ? "  " : ", ";
    char done[64];
    double pruned = resp_num(s, "pruned");
    if (isfinite(pruned) && pruned > 0) /* pruned trials have ended too */
        snprintf(done, sizeof done, "%.0f+%.0f pruned", resp_num(s, "done"), pruned);
    else
        snprintf(done, sizeof done, "%.0f", resp_num(s, "done"));
    char total[48];
    double most = resp_num(s, "trials_max");
    if (isfinite(most) && most > 0) /* racing: more trials may be added, up to most */
        snprintf(total, sizeof total, "%.0f (max %.0f)", resp_num(s, "total"), most);
    else
        snprintf(total, sizeof total, "%.0f", resp_num(s, "total"));
    if (tty)
        snprintf(buf, n, "%s/%s%s%.0f running%s%.0f failed%sETA %s%sbest %s", done, total, sep,
                 resp_num(s, "running"), sep, resp_num(s, "failed"), sep, etab, sep, best);
    else
        snprintf(buf, n, "%s/%s%s%.0f running%s%.0f failed%sETA %s%sbest %s %s", done, total, sep,
                 resp_num(s, "running"), sep, resp_num(s, "failed"), sep, etab, sep,
                 resp_str(s, "metric", ""), best);
    add_blocked(buf, n, s);
}

static void draw_tty(const cJSON *s, double eta)
{
    char fields[512], line[1024];
    progress_fields(fields, sizeof fields, s, eta, true);
    double done = resp_num(s, "done"), failed = resp_num(s, "failed"),
           cancelled = resp_num(s, "cancelled"), total = resp_num(s, "total"),
           pruned = resp_num(s, "pruned");
    double ended = (isfinite(done) ? done : 0) + (isfinite(failed) ? failed : 0) +
                   (isfinite(cancelled) ? cancelled : 0) + (isfinite(pruned) ? pruned : 0);
    double frac = total > 0 ? ended / total : 0;
    if (frac > 1)
        frac = 1;
    char name[64];
    snprintf(name, sizeof name, "#%.0f", resp_num(s, "id"));
    int width = term_width() - 1;
    /* A bar width that does not change as the numbers do: room for the usual fields. */
    int bar = width - (int)table_text_width(name) - 4 - 60;
    if (bar > BAR_MAX)
        bar = BAR_MAX;
    if (bar < BAR_MIN)
        bar = BAR_MIN;
    char barbuf[BAR_MAX + 1];
    int fill = (int)(frac * bar + 0.5);
    for (int i = 0; i < bar; i++)
        barbuf[i] = i < fill ? '#' : '-';
    barbuf[bar] = '\0';
    snprintf(line, sizeof line, "%s [%s] %s", name, barbuf, fields);
    char el[1024];
    table_elide(el, sizeof el, line, (size_t)width);
    printf("\r\033[K%s", el);
    fflush(stdout);
}

/* A sweep's state without the ETA: what "changed" means for the plain global watch. */
static void state_key(char *buf, size_t n, const cJSON *s)
{
    char best[64] = "";
    const cJSON *b = json_get(s, "best");
    if (cJSON_IsObject(b))
        resp_fmt_stat(best, sizeof best, resp_num(b, "mean"), resp_num(b, "se"));
    snprintf(buf, n, "%.0f/%.0f/%.0f/%.0f/%.0f/%.0f/%s/%s/%.0f", resp_num(s, "done"),
             resp_num(s, "total"), resp_num(s, "running"), resp_num(s, "failed"),
             resp_num(s, "cancelled"), resp_num(s, "pruned"), resp_str(s, "state", ""), best,
             resp_num(json_get(s, "blocked"), "failures"));
}

/*
 * Redraw the global watch's block on a terminal: move up over the *drawn
 * lines of the last redraw, then one erased and rewritten line per sweep in
 * `last` (id → summary).  *drawn becomes the number of lines now on screen.
 */
static void draw_block(const cJSON *last, const cJSON *etas, int *drawn)
{
    if (*drawn > 0)
        printf("\033[%dA", *drawn);
    int width = term_width() - 1, k = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, last)
    {
        char fields[512], title[256], line[1024], el[1024];
        progress_fields(fields, sizeof fields, s, resp_num(etas, s->string), true);
        snprintf(line, sizeof line, "%s  %s", cmd_sweep_title(title, sizeof title, s), fields);
        printf("\r\033[K%s\n", table_elide(el, sizeof el, line, (size_t)width));
        k++;
    }
    *drawn = k;
    fflush(stdout);
}

static void print_end(const cJSON *s)
{
    char title[256], total[64], note[1024];
    printf("%s ended: %.0f/%s done, %.0f failed, %.0f cancelled\n",
           cmd_sweep_title(title, sizeof title, s), resp_num(s, "done"),
           resp_fmt_count(total, sizeof total, resp_num(s, "total"), "trial", NULL),
           resp_num(s, "failed"), resp_num(s, "cancelled"));
    if (isfinite(resp_num(s, "pruned")) && resp_num(s, "pruned") > 0)
        printf("  %.0f trials pruned\n", resp_num(s, "pruned"));
    if (cmd_blocked_note(note, sizeof note, json_get(s, "blocked")))
        printf("  %s\n", note);
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
    struct opt opts[] = {{NULL, 0, NULL}};
    char *pos[1];
    int npos, rc = opts_parse(argv[0], argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    cJSON *req = cmd_req("watch"), *ev = NULL;
    if (npos == 1)
        cmd_add_sweep(req, pos[0]);
    bool tty = !cli->json && isatty(STDOUT_FILENO);
    bool global = npos == 0;
    cJSON *last = cJSON_CreateObject();  /* id → the latest summary of each sweep seen */
    cJSON *etas = cJSON_CreateObject();  /* id → its latest ETA (global watch) */
    cJSON *shown = cJSON_CreateObject(); /* id → state_key of its last plain line */
    if (!last || !etas || !shown) {
        cJSON_Delete(req);
        cJSON_Delete(last);
        cJSON_Delete(etas);
        cJSON_Delete(shown);
        return CLI_FAILED;
    }
    double drawn = NAN; /* sweep id on the terminal line */
    int block = 0;      /* lines of the global watch's block on the terminal */
    if (tty) {
        signal(SIGINT, on_interrupt);
        signal(SIGTERM, on_interrupt);
    }
    rc = cmd_request(cli, req, &ev, NULL);
    while (rc == CLI_OK) {
        const char *kind = resp_str(ev, "event", "");
        const cJSON *s = json_get(ev, "sweep");
        bool end = strcmp(kind, "end") == 0;
        if (cJSON_IsObject(s)) {
            char key[32];
            snprintf(key, sizeof key, "%.0f", resp_num(s, "id"));
            cJSON *copy = cJSON_Duplicate(s, true);
            if (json_get(last, key))
                cJSON_ReplaceItemInObjectCaseSensitive(last, key, copy);
            else
                cJSON_AddItemToObject(last, key, copy);
        }
        if (cli->json) {
            cJSON_DeleteItemFromObjectCaseSensitive(ev, "ok");
            char *text = json_line(ev);
            if (text)
                printf("%s\n", text);
            free(text);
            fflush(stdout);
        } else if (cJSON_IsObject(s) && *kind) {
            double id = resp_num(s, "id"), eta = resp_num(ev, "eta");
            char key[32], st[256], title[256], fields[512];
            snprintf(key, sizeof key, "%.0f", id);
            if (global && tty) {
                cJSON_DeleteItemFromObjectCaseSensitive(etas, key);
                cJSON_AddItemToObject(etas, key, json_double(eta));
                if (!end)
                    draw_block(last, etas, &block);
            } else if (global) {
                state_key(st, sizeof st, s);
                const cJSON *was = json_get(shown, key);
                if (!end && !(cJSON_IsString(was) && strcmp(was->valuestring, st) == 0)) {
                    cJSON_DeleteItemFromObjectCaseSensitive(shown, key);
                    cJSON_AddStringToObject(shown, key, st);
                    progress_fields(fields, sizeof fields, s, eta, false);
                    printf("%s: %s\n", cmd_sweep_title(title, sizeof title, s), fields);
                    fflush(stdout);
                }
            } else if (tty) {
                if (drawn != id) {
                    printf("%swatching %s, best by %s\n", isfinite(drawn) ? "\n" : "",
                           cmd_sweep_title(title, sizeof title, s), resp_str(s, "metric", "?"));
                }
                drawn = id;
                draw_tty(s, eta);
            } else if (!end) {
                progress_fields(fields, sizeof fields, s, eta, false);
                printf("%s: %s\n", cmd_sweep_title(title, sizeof title, s), fields);
                fflush(stdout);
            }
        }
        cJSON_Delete(ev);
        ev = NULL;
        if (end)
            break;
        rc = cli_read_event(cli, &ev);
    }
    cJSON_Delete(ev);
    if (tty && isfinite(drawn))
        printf("\n");
    if (rc == CLI_OK) {
        const cJSON *s;
        cJSON_ArrayForEach(s, last)
        {
            if (!cli->json)
                print_end(s);
            if (!sweep_ok(s))
                rc = CLI_FAILED;
        }
        if (!cli->json && !last->child)
            printf("no active sweeps\n");
    }
    cJSON_Delete(last);
    cJSON_Delete(etas);
    cJSON_Delete(shown);
    return rc;
}

int cmd_wait(struct cli *cli, int argc, char **argv)
{
    cJSON *resp = NULL;
    const char *sweep, *timeout_s = NULL;
    struct opt opts[] = {{"timeout", OPT_STRING, &timeout_s}, {NULL, 0, NULL}};
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    if (timeout_s) {
        char *end;
        double t = strtod(timeout_s, &end);
        if (end == timeout_s || *end || !(t > 0) || t > 1e7)
            return cli_usage(argv[0], "--timeout: expected seconds (a number > 0), got \"%s\"",
                             timeout_s);
        if ((rc = cli_connect(cli)) != CLI_OK) /* the hello is not part of the wait */
            return rc;
        cli->timeout = t;
    }
    rc = cmd_request(cli, cmd_add_sweep(cmd_req("wait"), sweep), &resp, NULL);
    cli->timeout = 0;
    if (cli->timed_out) {
        char msg[256];
        snprintf(msg, sizeof msg, "sweep %s has not ended after %s s (--timeout); it goes on",
                 sweep, timeout_s);
        fprintf(stderr, "mlpctl wait: %s\n", msg);
        if (cli->json)
            cmd_print_error_json("timeout", msg, NULL);
        cJSON_Delete(resp);
        return CLI_FAILED;
    }
    if (rc == CLI_OK) {
        const cJSON *s = json_get(resp, "sweep");
        if (cli->json)
            cmd_print_resp(cli, resp, rc);
        else
            print_end(s);
        if (!sweep_ok(s))
            rc = CLI_FAILED;
    }
    cJSON_Delete(resp);
    return rc;
}
