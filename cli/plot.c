/*
 * plot — `mlpctl plot`: the kind table, the verb, the shared frame of every
 * plot (titles, notes, row layout) and the atomic file writer.  Each kind's
 * requests and renderer live in plot_<kind>.c (see plot.h, PLOT_KINDS).
 *
 * The renderers read the daemon's responses as they come off the wire
 * (daemon/PROTOCOL.md): `best` for the ranking, `best` + `results` with
 * curves for learning curves, `show` for the train/validation gap, `show`
 * with `by` for the marginal effect of one key.  Each renderer first
 * gathers and checks everything it needs and only then writes, so a
 * failure (an empty sweep, no curves) leaves its FILE* untouched.
 *
 * Layout: horizontal dot plots (configuration labels on the left, one row
 * per configuration, best on top) for ranking and gap, because labels such
 * as "hidden=[256,128] lr=0.1 l2=0.0001" only fit horizontally; x/y line
 * and point plots for curves and `by`.  Error bars are ± one standard error
 * over seeds; a point with n = 1 has none and says "n=1".  Non-finite means
 * (diverged trials) are skipped and the number skipped is noted under the
 * plot.  Colours are the Okabe–Ito palette; train and validation also
 * differ in marker shape or dash so that nothing rests on colour alone.
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "importance.h"
#include "metric.h"
#include "resp.h"
#include "svg.h"

/* ---- small helpers ---------------------------------------------------- */

void plot__why(char *why, size_t n, const char *fmt, ...)
{
    if (!why || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

/* The sweep's display name from a response's "sweep" summary. */
const char *plot__sweep_name(const cJSON *resp, char *buf, size_t n)
{
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(resp, "sweep");
    const char *name = resp_str(sw, "name", NULL);
    if (name)
        return name;
    double id = resp_num(sw, "id");
    if (isfinite(id))
        snprintf(buf, n, "%.0f", id);
    else
        snprintf(buf, n, "?");
    return buf;
}

/* Extend [*lo, *hi] by v when finite. */
void plot__widen(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

/* Title and subtitle at the top of every plot. */
void plot__titles(FILE *out, double w, const char *title, const char *subtitle)
{
    svg_text(out, w / 2, 26, "middle", 16, "font-weight=\"bold\"", title);
    if (subtitle)
        svg_text(out, w / 2, 46, "middle", 12, "fill=\"" COL_NOTE "\"", subtitle);
}

double plot__text_need(const char *title, const char *subtitle, const char *const *notes,
                       int nnotes)
{
    double need = 0;
    if (title)
        need = fmax(need, svg_text_width(title, 16, true) + 24);
    if (subtitle)
        need = fmax(need, svg_text_width(subtitle, 12, false) + 24);
    for (int i = 0; i < nnotes; i++)
        if (notes[i])
            need = fmax(need, 12 + svg_text_width(notes[i], 11.5, false) + 12);
    return need;
}

/* Notes under a plot, one per line, starting at y. */
void plot__notes(FILE *out, double x, double y, const char *const *notes, int n)
{
    for (int i = 0; i < n; i++)
        if (notes[i] && *notes[i])
            svg_text(out, x, y + 16 * i, "start", 11.5, "fill=\"" COL_NOTE "\"", notes[i]);
}

/* A configuration row's text: "#1 lr=0.1 hidden=[256,128]", " (n=1)" after a single seed. */
static void row_text(char *buf, size_t n, int rank, const char *label, int seeds)
{
    if (rank > 0)
        snprintf(buf, n, "#%d %s%s", rank, label, seeds == 1 ? " (n=1)" : "");
    else
        snprintf(buf, n, "%s%s", label, seeds == 1 ? " (n=1)" : "");
}

void plot__row_label(FILE *out, double x, double y, const struct plot__row *r, int n, bool bold)
{
    char text[PLOT_LABEL_BUF];
    row_text(text, sizeof text, r->rank, r->label, n);
    fprintf(out, "<g><title>");
    svg_escape(out, r->full ? r->full : text);
    fprintf(out, "</title><text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"12\"%s>", x,
            y + 4, bold ? " font-weight=\"bold\"" : "");
    svg_escape(out, text);
    fputs("</text></g>\n", out);
}

/* ---- labels: the keys that vary ------------------------------------------------ */

/* The object holding an item's grid values: item.config.grid, or the item itself (flat). */
static const cJSON *item_values(const cJSON *item, bool flat)
{
    return flat ? item : resp_config_grid(cJSON_GetObjectItemCaseSensitive(item, "config"));
}

/* Does key take two different values (or is it missing somewhere) among items? */
static bool key_varies(const cJSON *items, bool flat, const char *key)
{
    const cJSON *it, *first = NULL;
    bool seen = false;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item_values(it, flat), key);
        if (!seen) {
            first = v;
            seen = true;
        } else if (!v != !first || (v && !cJSON_Compare(first, v, true)))
            return true;
    }
    return false;
}

static bool has_key(const cJSON *arr, const char *key)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, arr) if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0) return true;
    return false;
}

cJSON *plot__varying_keys(const cJSON *items, bool flat, const cJSON *candidates, const char *skip)
{
    cJSON *out = cJSON_CreateArray();
    if (!out)
        return NULL;
    const cJSON *it, *k;
    /* The candidates in their order, else every key of any item's grid in first-seen order. */
    cJSON *cand = candidates ? cJSON_Duplicate(candidates, true) : cJSON_CreateArray();
    if (!cand)
        goto fail;
    if (!candidates)
        cJSON_ArrayForEach(it, items)
        {
            cJSON_ArrayForEach(k, item_values(it, flat))
            {
                if (k->string && !has_key(cand, k->string) &&
                    !cJSON_AddItemToArray(cand, cJSON_CreateString(k->string)))
                    goto fail;
            }
        }
    cJSON_ArrayForEach(k, cand)
    {
        if (!cJSON_IsString(k) || (skip && strcmp(k->valuestring, skip) == 0))
            continue;
        if (key_varies(items, flat, k->valuestring) &&
            !cJSON_AddItemToArray(out, cJSON_CreateString(k->valuestring)))
            goto fail;
    }
    cJSON_Delete(cand);
    return out;
fail:
    cJSON_Delete(cand);
    cJSON_Delete(out);
    return NULL;
}

char *plot__label(const cJSON *values, const cJSON *keys, const char *none)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    int parts = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k))
            continue;
        char *t = resp_value_text(cJSON_GetObjectItemCaseSensitive(values, k->valuestring));
        fprintf(m, "%s%s=%s", parts++ ? " " : "", k->valuestring, t ? t : "?");
        free(t);
    }
    if (!parts)
        fputs(none, m);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

char *plot__config_full(const cJSON *config)
{
    char *label = resp_config_label(config), *out = NULL;
    if (!label)
        return NULL;
    const cJSON *grid = resp_config_grid(config);
    size_t n = strlen(label) + 48;
    if ((out = malloc(n)))
        snprintf(out, n, cJSON_GetArraySize(grid) > 0 ? "%s (config %d)" : "%s",
                 label, resp_config_id(config));
    free(label);
    return out;
}

void plot__metric_parts(const char *metric, struct plot__metric *m)
{
    int i = metric_index(metric);
    int v = metric_sibling(i, METRIC_VAL), t = metric_sibling(i, METRIC_TRAIN),
        s = metric_sibling(i, METRIC_TEST);
    if (v >= 0 && t >= 0 && s >= 0) {
        snprintf(m->base, sizeof m->base, "%s", metric_kind_name(metric_info(i)->kind));
        snprintf(m->val, sizeof m->val, "%s", metric_name(v));
        snprintf(m->train, sizeof m->train, "%s", metric_name(t));
        snprintf(m->test, sizeof m->test, "%s", metric_name(s));
        return;
    }
    const char *base = strchr(metric, '_') ? strchr(metric, '_') + 1 : metric;
    snprintf(m->base, sizeof m->base, "%s", base);
    snprintf(m->val, sizeof m->val, "val_%s", base);
    snprintf(m->train, sizeof m->train, "train_%s", base);
    snprintf(m->test, sizeof m->test, "test_%s", base);
}

/* The public renderers' tail: on failure, `why` on stderr.  Returns rc. */
int plot__say_why(int rc, const char *why)
{
    if (rc != CLI_OK)
        fprintf(stderr, "mlpctl plot: %s\n", why);
    return rc;
}

/* ---- row plots (ranking, gap): one row per configuration -------------------- */

void plot__free_rows(struct plot__row *rows, int n)
{
    for (int i = 0; rows && i < n; i++) {
        free(rows[i].label);
        free(rows[i].full);
    }
    free(rows);
}

/* Width in pixels that the widest row label needs (the best row is bold). */
static double label_width(const struct plot__row *rows, int n)
{
    double widest = 60;
    for (int i = 0; i < n; i++) {
        char text[PLOT_LABEL_BUF];
        /* (n=1) may follow any label: measure with it. */
        row_text(text, sizeof text, rows[i].rank, rows[i].label, 1);
        double w = svg_text_width(text, 12, i == 0 || rows[i].rank == 1);
        if (w > widest)
            widest = w;
    }
    return widest;
}

/*
 * Width of a row plot: labels, then a plotw-wide plot area, then `right`;
 * at least 760, the extra going to the label column.  *left: the plot's left edge.
 */
double plot__row_plot_width(const struct plot__row *rows, int n, double plotw, double right,
                            double *left)
{
    *left = 16 + label_width(rows, n);
    double w = *left + plotw + right;
    if (w < 760) {
        *left += 760 - w;
        w = 760;
    }
    return w;
}

void plot__pruned_row(FILE *out, double label_x, double value_x, double y,
                      const struct plot__row *r)
{
    fputs("<g class=\"pruned\" fill=\"" COL_NOTE "\">", out);
    plot__row_label(out, label_x, y, r, 0, false);
    svg_textf(out, value_x, y + 4, "start", 11.5, "font-style=\"italic\"",
              "pruned at epoch %d (not ranked)", r->pruned);
    fputs("</g>\n", out);
}

/* The note for configurations left out of a row plot: no finite metric. */
void plot__note_skipped(char *buf, size_t n, int skipped, const char *metric)
{
    snprintf(buf, n, "%d configuration(s) not shown: no finite %s (diverged or unfinished)",
             skipped, metric);
}

/* Grey stripes behind every other row of a row plot w wide, rows from y = top. */
void plot__stripes(FILE *out, int n, double top, double rowh, double w)
{
    for (int i = 0; i < n; i += 2)
        fprintf(out,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#f6f6f6\"/>\n",
                8.0, top + rowh * i, w - 16, rowh);
}

/* Close a row plot (ranking, gap): its rows group, notes, the document; frees rows.  CLI_OK. */
int plot__end_row_plot(FILE *out, struct plot__row *rows, int n, double plot_bot,
                       const char *const *notes, int nnotes)
{
    fprintf(out, "</g>\n");
    plot__notes(out, 12, plot_bot + 58, notes, nnotes);
    svg_end(out);
    plot__free_rows(rows, n);
    return CLI_OK;
}
static int cmp_rank(const void *a, const void *b)
{
    const struct plot__row *x = a, *y = b;
    int rx = x->rank > 0 ? x->rank : 1 << 30, ry = y->rank > 0 ? y->rank : 1 << 30;
    if (rx == ry) /* pruned: by configuration */
        return (x->id > y->id) - (x->id < y->id);
    return (rx > ry) - (rx < ry);
}

/*
 * Two configurations must never read the same: labels that still collide
 * (configurations equal on every grid key) get their ids.  0, or -1 on ENOMEM.
 */
static int distinguish(struct plot__row *rows, int n)
{
    bool *dup = calloc((size_t)n, sizeof *dup);
    if (!dup)
        return -1;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(rows[i].label, rows[j].label) == 0)
                dup[i] = dup[j] = true;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (!dup[i])
            continue;
        size_t len = strlen(rows[i].label) + 32;
        char *l = malloc(len);
        if (!l) {
            rc = -1;
            break;
        }
        snprintf(l, len, "%s (config %d)", rows[i].label, rows[i].id);
        free(rows[i].label);
        rows[i].label = l;
    }
    free(dup);
    return rc;
}

/*
 * Rows of the configurations in resp's "configs" with a finite mean, sorted
 * by rank; *skipped counts those without.  with_train also reads "train"
 * and "gap" (show responses).  Returns the row count, -1 on ENOMEM.
 */
static int gather_rows(const cJSON *resp, bool with_train, const cJSON *all,
                       struct plot__row **out, int *skipped, int *total)
{
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(resp, "configs");
    const cJSON *every = cJSON_GetObjectItemCaseSensitive(all ? all : resp, "configs");
    int cap = cJSON_GetArraySize(configs) + (all ? cJSON_GetArraySize(every) : 0), n = 0;
    *skipped = 0;
    *total = cap;
    *out = NULL;
    if (cap == 0)
        return 0;
    struct plot__row *rows = calloc((size_t)cap, sizeof *rows);
    cJSON *vary = plot__varying_keys(every, false, NULL, NULL);
    if (!rows || !vary) {
        free(rows);
        cJSON_Delete(vary);
        return -1;
    }
    const cJSON *c;
    int pos = 0;
    /* The ranked configurations of resp, then the pruned ones (of all, else resp): not ranked. */
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *list = pass == 0 ? configs : every;
        cJSON_ArrayForEach(c, list)
        {
            pos++;
            struct plot__row r = {0};
            double pr = resp_num(c, "pruned");
            if ((pass == 1) != isfinite(pr))
                continue;
            resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "stat"), &r.st);
            if (pass == 1) {
                r.pruned = pr >= 1 && pr < 1e9 ? (int)pr : 1;
                r.st.mean = NAN;
            } else if (!isfinite(r.st.mean)) {
                (*skipped)++;
                continue;
            }
            double rank = resp_num(c, "rank");
            r.rank = r.pruned ? 0 : isfinite(rank) && rank >= 1 && rank < 1e9 ? (int)rank : pos;
            if (with_train) {
                resp_stat_get(cJSON_GetObjectItemCaseSensitive(c, "train"), &r.tr);
                r.gap = resp_num(c, "gap");
                if (!isfinite(r.gap))
                    r.gap = r.tr.mean - r.st.mean;
                if (r.pruned) /* its trials are left out of every statistic */
                    r.tr.mean = r.gap = NAN;
            }
            const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "config");
            r.id = resp_config_id(cfg);
            char none[32];
            snprintf(none, sizeof none, "config %d", r.id);
            r.label = plot__label(resp_config_grid(cfg), vary, none);
            r.full = plot__config_full(cfg);
            rows[n++] = r;
            if (!r.label || !r.full) {
                plot__free_rows(rows, n);
                cJSON_Delete(vary);
                return -1;
            }
        }
    }
    cJSON_Delete(vary);
    if (n == 0) {
        free(rows);
        return 0;
    }
    if (distinguish(rows, n) < 0) {
        plot__free_rows(rows, n);
        return -1;
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_rank);
    *out = rows;
    return n;
}

/*
 * gather_rows for a plot of sweep `name`: the row count, or 0 with `why` set
 * (out of memory, or nothing to draw: no finite `metric`).
 */
int plot__rows(const cJSON *resp, bool with_train, const cJSON *all, struct plot__row **rows,
               int *skipped, const char *name, const char *metric, char *why, size_t whylen)
{
    int total;
    int n = gather_rows(resp, with_train, all, rows, skipped, &total);
    if (n < 0)
        plot__why(why, whylen, "out of memory");
    else if (n == 0 && *skipped)
        plot__why(why, whylen,
                  "sweep %s: none of its %d configuration(s) has a finite %s yet "
                  "(diverged or unfinished): nothing to plot",
                  name, *skipped, metric);
    else if (n == 0)
        plot__why(why, whylen, "sweep %s has no finished trials yet: nothing to plot", name);
    return n > 0 ? n : 0;
}

/* ---- files and the daemon -------------------------------------------------- */

int plot__write_file(const char *path, plot__render_fn render, void *ctx, char *why, size_t whylen)
{
    if (strcmp(path, "-") == 0) {
        int rc = render(stdout, ctx, why, whylen);
        if (rc == CLI_OK && fflush(stdout) != 0) {
            plot__why(why, whylen, "cannot write to stdout: %s", strerror(errno));
            rc = CLI_FAILED;
        }
        return rc;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        plot__why(why, whylen, "out of memory");
        return CLI_FAILED;
    }
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        plot__why(why, whylen, "cannot create %s: %s", path, strerror(errno));
        free(tmp);
        return CLI_FAILED;
    }
    /* mkstemp makes 0600; a plot is an ordinary file, so honour the umask like fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        plot__why(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    int rc = render(f, ctx, why, whylen);
    if (rc != CLI_OK) {
        fclose(f);
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        plot__why(why, whylen, "cannot write %s: %s", path, strerror(errno));
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0) {
        plot__why(why, whylen, "cannot write %s: %s", path, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        plot__why(why, whylen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto fail;
    }
    free(tmp);
    return CLI_OK;
fail:
    unlink(tmp);
    free(tmp);
    return CLI_FAILED;
}

/* ---- the kinds and the verb ----------------------------------------------------- */

#define KIND_ROW(k) &plot_kind_##k,
static const struct plot_kind *const kinds[] = {PLOT_KINDS(KIND_ROW)};
#undef KIND_ROW
#define N_KINDS (sizeof kinds / sizeof kinds[0])

cJSON *plot__sweep_req(const char *op, const struct plot_args *a)
{
    return cmd_add_sweep(cmd_req(op), a->sweep);
}

static const struct plot_kind *find_kind(const char *name)
{
    for (size_t k = 0; k < N_KINDS; k++)
        if (strcmp(kinds[k]->name, name) == 0)
            return kinds[k];
    return NULL;
}

/*
 * The names of the kinds for which takes(kind) == want, joined: "a, b or c"
 * (last_sep " or ") or "a and b" (last_sep " and ").  Returns buf.
 */
static char *kind_list(char *buf, size_t n, int which, bool want, const char *last_sep)
{
    const struct plot_kind *pick[N_KINDS];
    size_t np = 0, len = 0;
    for (size_t k = 0; k < N_KINDS; k++) {
        bool t = which == 0 ? true : which == 1 ? kinds[k]->takes_key : kinds[k]->takes_metric;
        if (t == want)
            pick[np++] = kinds[k];
    }
    buf[0] = '\0';
    for (size_t k = 0; k < np && len < n; k++) {
        const char *sep = k == 0 ? "" : k + 1 == np ? last_sep : ", ";
        int w = snprintf(buf + len, n - len, "%s%s", sep, pick[k]->name);
        len = w > 0 ? len + (size_t)w : len;
    }
    return buf;
}

/* A positive integer option value, or -1. */
static int parse_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno == 0 && *s && *end == '\0' && v >= 1 && v <= 1000000 ? (int)v : -1;
}

#define PLOT_USAGE                                                                                 \
    "plot SWEEP --out FILE.svg [--kind ranking|curves|gap|by|learning|confusion|importance|"       \
    "parallel] [--key K] [--top K] [--metric M] [--method anova|fanova] [--config N]; "            \
    "plot SWEEP --kind heatmap --keys A,B --out FILE.svg; "                                        \
    "plot --kind boundary --trial N --out FILE.svg"

/*
 * Parse plot's arguments into *a, *outp and *kind.  Returns CLI_OK or
 * CLI_USAGE (printed).
 */
static int plot_parse(const char *verb, struct cli *cli, int argc, char **argv, struct plot_args *a,
                      const char **outp, const struct plot_kind **kind)
{
    const char *kind_s = NULL, *top_s = NULL, *config_s = NULL, *trial_s = NULL;
    bool json = false;
    char *pos[2];
    int npos;
    struct opt opts[] = {
        {"out", OPT_STRING, outp},
        {"kind", OPT_STRING, &kind_s},
        {"key", OPT_STRING, &a->key},
        {"metric", OPT_STRING, &a->metric},
        {"top", OPT_STRING, &top_s},
        {"config", OPT_STRING, &config_s},
        {"trial", OPT_STRING, &trial_s},
        {"method", OPT_STRING, &a->method},
        {"keys", OPT_STRING, &a->keys},
        {"json", OPT_FLAG, &json},
        {NULL, 0, NULL},
    };
    int rc = opts_parse(verb, argc, argv, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    cli->json = cli->json || json;
    if (top_s && (a->top = parse_count(top_s)) < 0)
        return cli_usage(verb, "--top: expected a positive integer, got \"%s\"", top_s);
    if (config_s && (a->config = parse_count(config_s)) < 0)
        return cli_usage(verb,
                         "--config: expected a configuration id (a positive integer), got "
                         "\"%s\"",
                         config_s);
    if (trial_s && (a->trial = parse_count(trial_s)) < 0)
        return cli_usage(verb, "--trial: expected a trial id (a positive integer), got \"%s\"",
                         trial_s);
    if (npos == 2)
        return cli_usage(verb, "one sweep at a time (got \"%s\" and \"%s\")", pos[0], pos[1]);
    a->sweep = npos ? pos[0] : NULL;
    if (!*outp || !**outp)
        return cli_usage(verb, "--out FILE.svg is required; usage: " PLOT_USAGE);

    char list[256], other[256];
    *kind = kinds[0];
    for (size_t k = 0; a->key && k < N_KINDS; k++)
        if (kinds[k]->needs_key) {
            *kind = kinds[k];
            break;
        }
    if (kind_s && !(*kind = find_kind(kind_s)))
        return cli_usage(verb, "--kind: expected %s, got \"%s\"",
                         kind_list(list, sizeof list, 0, true, " or "), kind_s);
    if ((*kind)->needs_key && !a->key)
        return cli_usage(verb,
                         "--kind %s needs --key K (a hyperparameter that varies in the sweep)",
                         (*kind)->name);
    if (a->key && !(*kind)->takes_key)
        return cli_usage(verb, "--key applies to --kind %s only",
                         kind_list(list, sizeof list, 1, true, " and "));
    if (a->metric && !(*kind)->takes_metric)
        return cli_usage(verb, "--metric applies to --kind %s (%s use the sweep's metric)",
                         kind_list(list, sizeof list, 2, true, " and "),
                         kind_list(other, sizeof other, 2, false, " and "));
    enum importance_method m;
    if (a->method && !(*kind)->takes_method)
        return cli_usage(verb, "--method applies to --kind importance only");
    if (a->method && !importance_method_parse(a->method, &m))
        return cli_usage(verb, "--method: expected anova or fanova, got \"%s\"", a->method);
    if ((*kind)->needs_keys != (a->keys != NULL))
        return cli_usage(verb,
                         (*kind)->needs_keys
                             ? "--kind %s needs --keys A,B (two keys that vary in the sweep)"
                             : "--keys does not apply to --kind %s",
                         (*kind)->name);
    if ((*kind)->needs_config != (a->config > 0))
        return cli_usage(verb,
                         (*kind)->needs_config ? "--kind %s needs --config N"
                                               : "--config does not apply to --kind %s",
                         (*kind)->name);
    if ((*kind)->needs_trial != (a->trial > 0))
        return cli_usage(verb,
                         (*kind)->needs_trial ? "--kind %s needs --trial N"
                                              : "--trial does not apply to --kind %s",
                         (*kind)->name);
    if (!a->sweep && !(*kind)->needs_trial)
        return cli_usage(verb, "which sweep? usage: " PLOT_USAGE);
    return CLI_OK;
}

struct plot_job {
    const struct plot_kind *kind;
    const struct plot_args *args;
    cJSON *resp[PLOT_MAX_REQ]; /* the responses, in request order */
};

static int render_job(FILE *out, void *ctx, char *why, size_t whylen)
{
    const struct plot_job *j = ctx;
    return j->kind->render(out, j->args, j->resp, why, whylen);
}

/* "wrote FILE (KIND)", or with --json {"ok": true, "out", "kind"}; nothing for "-". */
static void say_written(struct cli *cli, const char *outp, const char *kind)
{
    if (strcmp(outp, "-") == 0) /* stdout holds the document */
        return;
    if (!cli->json) {
        printf("wrote %s (%s)\n", outp, kind);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    if (doc && cJSON_AddTrueToObject(doc, "ok") && cJSON_AddStringToObject(doc, "out", outp) &&
        cJSON_AddStringToObject(doc, "kind", kind))
        cli_print_json(doc);
    cJSON_Delete(doc);
}

int cmd_plot(struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "plot";
    struct plot_args a = {0};
    const char *outp = NULL;
    const struct plot_kind *kind = NULL;
    int rc = plot_parse(verb, cli, argc, argv, &a, &outp, &kind);
    if (rc != CLI_OK)
        return rc;

    if ((rc = cli_connect(cli)) != CLI_OK)
        return rc;
    struct plot_job job = {kind, &a, {NULL}};
    if (kind->fetch && (rc = kind->fetch(cli, &a, job.resp)) != CLI_OK)
        goto out;
    for (int i = 0; !kind->fetch && i < kind->nreq; i++) {
        if (kind->wants && !kind->wants(&a, i))
            continue;
        cJSON *req = kind->request(&a, i);
        if (!req) {
            fprintf(stderr, "mlpctl %s: out of memory\n", verb);
            rc = CLI_FAILED;
            goto out;
        }
        if ((rc = cmd_request(cli, req, &job.resp[i], NULL)) != CLI_OK)
            goto out;
    }
    char why[768] = "";
    rc = plot__write_file(outp, render_job, &job, why, sizeof why);
    if (rc != CLI_OK)
        fprintf(stderr, "mlpctl %s: %s\n", verb, why);
    else
        say_written(cli, outp, kind->name);
out:
    for (int i = 0; i < PLOT_MAX_REQ; i++)
        cJSON_Delete(job.resp[i]);
    return rc;
}
