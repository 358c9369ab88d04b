/*
 * plot_boundary — `--kind boundary --trial N`: the decision boundary of one
 * trial on a 2-feature data set (circles, moons, spirals, xor, a 2-column
 * CSV), with its data.  The worker wrote boundary.csv (the kept model's
 * prediction on a 120×120 lattice over the data's box, x1 fastest) and
 * points.csv (training and test rows) when the trial saved its model
 * (SPEC.md "Artifacts"); both are fetched with the `artifact` op
 * (artifact_fetch), the `trial` op names the configuration.
 *
 * Drawing: each lattice row is cut into runs of equal predicted class and
 * confidence band (p_max in four steps), one rectangle per run, tinted with
 * the class's Okabe–Ito colour (paler where the model is less sure);
 * regression grids are shaded by value on a white-to-blue scale in 16 steps.
 * Training points are dots, test points diamonds, both coloured by label.
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "artifact.h"
#include "cmd.h"
#include "resp.h"
#include "svg.h"

#define BND_MAX_CLASSES 32
#define BND_LEVELS 16 /* regression shades */

struct bgrid {
    double *x1, *x2, *v; /* per lattice point; v: predicted class or value */
    double *p;           /* p_max (classification) */
    size_t n;
    int cols; /* points per lattice row */
    bool regression;
};

/* Parse numbers from "a,b,c[,d]" lines after the header.  Returns rows, -1 on a bad line. */
static long parse_rows(const char *text, int ncol, int skip_word, double **cols, size_t *cap,
                       bool **is_test)
{
    const char *s = strchr(text, '\n');
    long n = 0;
    if (!s)
        return -1;
    for (s++; *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s)) {
        if (*s == '\n' || *s == '\r')
            continue;
        if ((size_t)n == *cap) {
            size_t nc = *cap ? *cap * 2 : 1024;
            for (int c = 0; c < ncol; c++) {
                double *d = realloc(cols[c], nc * sizeof *d);
                if (!d)
                    return -1;
                cols[c] = d;
            }
            if (is_test) {
                bool *b = realloc(*is_test, nc * sizeof *b);
                if (!b)
                    return -1;
                *is_test = b;
            }
            *cap = nc;
        }
        char *end;
        const char *p = s;
        if (skip_word) {
            if (is_test)
                (*is_test)[n] = strncmp(p, "test,", 5) == 0;
            p = strchr(p, ',');
            if (!p)
                return -1;
            p++;
        }
        for (int c = 0; c < ncol; c++) {
            cols[c][n] = strtod(p, &end);
            if (end == p || (c + 1 < ncol && *end != ','))
                return -1;
            p = end + 1;
        }
        n++;
    }
    return n;
}

/* A light tint of a palette colour: mix with white, weight a of the colour. */
static void tint(char *buf, size_t n, const char *hex, double a)
{
    unsigned r, g, b;
    if (sscanf(hex, "#%2x%2x%2x", &r, &g, &b) != 3)
        r = g = b = 128;
    snprintf(buf, n, "#%02x%02x%02x", (unsigned)lround(255 - (255 - r) * a),
             (unsigned)lround(255 - (255 - g) * a), (unsigned)lround(255 - (255 - b) * a));
}

static void value_shade(char *buf, size_t n, double t)
{
    tint(buf, n, "#0072B2", 0.08 + 0.62 * (t < 0 ? 0 : t > 1 ? 1 : t));
}

/* The fill of lattice point i as a comparable key (class × band, or shade level). */
static int cell_key(const struct bgrid *g, size_t i, double vlo, double vhi, int K)
{
    if (g->regression) {
        double t = vhi > vlo ? (g->v[i] - vlo) / (vhi - vlo) : 0.5;
        int l = (int)(t * BND_LEVELS);
        return l < 0 ? 0 : l >= BND_LEVELS ? BND_LEVELS - 1 : l;
    }
    double chance = 1.0 / (K > 1 ? K : 2), p = isfinite(g->p[i]) ? g->p[i] : chance;
    int band = (int)((p - chance) / (1 - chance) * 4);
    band = band < 0 ? 0 : band > 3 ? 3 : band;
    return (int)g->v[i] * 4 + band;
}

static void key_fill(char *buf, size_t n, int key, bool regression)
{
    if (regression)
        value_shade(buf, n, (key + 0.5) / BND_LEVELS);
    else
        tint(buf, n, svg_color(key / 4), 0.16 + 0.10 * (key % 4));
}

/* Both files parsed: the lattice, the points and what colours them. */
struct bdata {
    struct bgrid g;
    double *gc[4], *pc[3]; /* boundary.csv and points.csv columns (owned) */
    bool *is_test;         /* per point: a test row */
    long pn;               /* points */
    int rows, K;           /* lattice rows; classes (predicted or labelled) */
    double vlo, vhi;       /* regression: the predicted values' range */
};

static void bdata_free(struct bdata *d)
{
    for (int c = 0; c < 4; c++)
        free(d->gc[c]);
    for (int c = 0; c < 3; c++)
        free(d->pc[c]);
    free(d->is_test);
}

/* Parse and check boundary.csv (bcsv) and points.csv (pcsv) into d.  0, or -1 with why set. */
static int read_boundary(struct bdata *d, const char *bcsv, const char *pcsv, char *why,
                         size_t whylen)
{
    struct bgrid *g = &d->g;
    size_t gcap = 0, pcap = 0;
    if (!bcsv || !pcsv) {
        plot__why(why, whylen, "no boundary.csv / points.csv to draw");
        return -1;
    }
    g->regression = strncmp(bcsv, "x1,x2,value", 11) == 0;
    if (!g->regression && strncmp(bcsv, "x1,x2,predicted,p_max", 21) != 0) {
        plot__why(why, whylen,
                  "boundary.csv: unexpected header (expected x1,x2,predicted,p_max "
                  "or x1,x2,value)");
        return -1;
    }
    long gn = parse_rows(bcsv, g->regression ? 3 : 4, 0, d->gc, &gcap, NULL);
    d->pn = parse_rows(pcsv, 3, 1, d->pc, &pcap, &d->is_test);
    if (gn < 4 || d->pn < 0 || strncmp(pcsv, "split,x1,x2,label", 17) != 0) {
        plot__why(why, whylen, "%s: malformed file (a line is not numbers)",
                  gn < 4 ? "boundary.csv" : "points.csv");
        return -1;
    }
    g->x1 = d->gc[0];
    g->x2 = d->gc[1];
    g->v = d->gc[2];
    g->p = d->gc[3];
    g->n = (size_t)gn;
    while ((size_t)g->cols < g->n && g->x2[g->cols] == g->x2[0])
        g->cols++;
    if (g->cols < 2 || g->n % (size_t)g->cols != 0 || g->n / (size_t)g->cols < 2) {
        plot__why(why, whylen, "boundary.csv: not a lattice (x1 varying fastest)");
        return -1;
    }
    d->rows = (int)(g->n / (size_t)g->cols);
    d->K = 0;
    d->vlo = INFINITY;
    d->vhi = -INFINITY;
    for (size_t i = 0; i < g->n; i++) {
        if (g->regression) {
            plot__widen(&d->vlo, &d->vhi, g->v[i]);
        } else {
            if (!(g->v[i] >= 0 && g->v[i] < BND_MAX_CLASSES)) {
                plot__why(why, whylen, "boundary.csv: predicted class out of 0..%d",
                          BND_MAX_CLASSES - 1);
                return -1;
            }
            if ((int)g->v[i] + 1 > d->K)
                d->K = (int)g->v[i] + 1;
        }
    }
    for (long i = 0; i < d->pn && !g->regression; i++)
        if (d->pc[2][i] >= 0 && d->pc[2][i] < BND_MAX_CLASSES && (int)d->pc[2][i] + 1 > d->K)
            d->K = (int)d->pc[2][i] + 1;
    return 0;
}

/* Background cells: runs of equal fill along each lattice row, clipped to the frame. */
static void draw_cells(FILE *out, const struct bdata *d, const struct svg_scale *sx,
                       const struct svg_scale *sy)
{
    const struct bgrid *g = &d->g;
    double left = sx->p0, right = sx->p1, top = sy->p1, bottom = sy->p0;
    double cw = (right - left) / (g->cols - 1), ch = (bottom - top) / (d->rows - 1);
    fprintf(out, "<g class=\"cells\" shape-rendering=\"crispEdges\">\n");
    for (int r = 0; r < d->rows; r++) {
        int c = 0;
        while (c < g->cols) {
            size_t i0 = (size_t)r * g->cols + c;
            int key = cell_key(g, i0, d->vlo, d->vhi, d->K), c1 = c + 1;
            while (c1 < g->cols && cell_key(g, i0 + (c1 - c), d->vlo, d->vhi, d->K) == key)
                c1++;
            double x0 = svg_map(sx, g->x1[i0]) - cw / 2, x1 = x0 + cw * (c1 - c);
            double y0 = svg_map(sy, g->x2[i0]) - ch / 2;
            x0 = x0 < left ? left : x0;
            x1 = x1 > right ? right : x1;
            double yt = y0 < top ? top : y0, yb = y0 + ch > bottom ? bottom : y0 + ch;
            char col[16];
            key_fill(col, sizeof col, key, g->regression);
            fprintf(out,
                    "<rect class=\"cell\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                    "fill=\"%s\"/>\n",
                    x0, yt, x1 - x0, yb - yt, col);
            c = c1;
        }
    }
    fprintf(out, "</g>\n");
}

/* The data: training dots first, test diamonds on top, coloured by label.  Counts each. */
static void draw_points(FILE *out, const struct bdata *d, const struct svg_scale *sx,
                        const struct svg_scale *sy, int *ntrain, int *ntest)
{
    const double *const *pc = (const double *const *)d->pc;
    fprintf(out, "<g class=\"points\">\n");
    *ntrain = *ntest = 0;
    for (int pass = 0; pass < 2; pass++) /* training points first, test on top */
        for (long i = 0; i < d->pn; i++) {
            if (d->is_test[i] != (pass == 1))
                continue;
            double x = svg_map(sx, pc[0][i]), y = svg_map(sy, pc[1][i]);
            char col[16];
            if (d->g.regression)
                value_shade(col, sizeof col,
                            d->vhi > d->vlo ? (pc[2][i] - d->vlo) / (d->vhi - d->vlo) * 1.4 : 0.5);
            else
                snprintf(col, sizeof col, "%s", svg_color((int)pc[2][i]));
            if (pass == 0) {
                fprintf(out,
                        "<circle class=\"train\" cx=\"%.2f\" cy=\"%.2f\" r=\"2.6\" fill=\"%s\" "
                        "stroke=\"#222\" stroke-width=\"0.4\"/>\n",
                        x, y, col);
                (*ntrain)++;
            } else {
                fprintf(out,
                        "<polygon class=\"test\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f "
                        "%.2f,%.2f\" fill=\"%s\" stroke=\"#000\" stroke-width=\"0.9\"/>\n",
                        x, y - 4, x + 4, y, x, y + 4, x - 4, y, col);
                (*ntest)++;
            }
        }
    fprintf(out, "</g>\n");
}

/* The legend at (lx, ly): classes (or the value scale), then the two markers. */
static void draw_legend(FILE *out, double lx, double ly, const struct bdata *d, int ntrain,
                        int ntest)
{
    fprintf(out, "<g class=\"legend\">\n");
    if (!d->g.regression) {
        svg_text(out, lx, ly, "start", 12, "font-weight=\"bold\"", "class");
        ly += 22;
        for (int c = 0; c < d->K; c++, ly += 20) {
            char tc[16], txt[32];
            tint(tc, sizeof tc, svg_color(c), 0.46);
            fprintf(out,
                    "<rect x=\"%.2f\" y=\"%.2f\" width=\"18\" height=\"12\" fill=\"%s\"/>"
                    "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\"/>\n",
                    lx, ly - 10, tc, lx + 9, ly - 4, svg_color(c));
            snprintf(txt, sizeof txt, "%d", c);
            svg_text(out, lx + 26, ly, "start", 12, NULL, txt);
        }
    } else {
        char a[32], b[32];
        svg_text(out, lx, ly, "start", 12, "font-weight=\"bold\"", "predicted value");
        resp_fmt_short(a, sizeof a, d->vlo);
        resp_fmt_short(b, sizeof b, d->vhi);
        char ca[16], cb[16];
        value_shade(ca, sizeof ca, 0);
        value_shade(cb, sizeof cb, 1);
        fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"18\" height=\"12\" fill=\"%s\"/>", lx,
                ly + 12, ca);
        svg_text(out, lx + 26, ly + 22, "start", 12, NULL, a);
        fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"18\" height=\"12\" fill=\"%s\"/>", lx,
                ly + 32, cb);
        svg_text(out, lx + 26, ly + 42, "start", 12, NULL, b);
        ly += 64;
    }
    ly += 10;
    fprintf(out,
            "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"#999\" stroke=\"#222\" "
            "stroke-width=\"0.4\"/>\n",
            lx + 9, ly - 4);
    svg_textf(out, lx + 26, ly, "start", 12, NULL, "training (%d)", ntrain);
    ly += 20;
    fprintf(out,
            "<polygon points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"#999\" "
            "stroke=\"#000\" stroke-width=\"0.9\"/>\n",
            lx + 9, ly - 8, lx + 13, ly - 4, lx + 9, ly, lx + 5, ly - 4);
    svg_textf(out, lx + 26, ly, "start", 12, NULL, "test (%d)", ntest);
    fprintf(out, "</g>\n");
}

int plot__boundary(FILE *out, const cJSON *trial_resp, const char *bcsv, const char *pcsv,
                   char *why, size_t whylen)
{
    struct bdata d = {0};
    if (read_boundary(&d, bcsv, pcsv, why, whylen) < 0) {
        bdata_free(&d);
        return CLI_FAILED;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(trial_resp, "trial");
    const struct bgrid *g = &d.g;
    const double top = 64, pw = 520, ph = 520, h = top + ph + 70;
    struct svg_scale sy = {g->x2[0], g->x2[g->n - 1], top + ph, top, false};
    const double left = fmax(70, svg_axis_y_margin(&sy, "x2"));
    double w = left + pw + 200;
    struct svg_scale sx = {g->x1[0], g->x1[g->cols - 1], left, left + pw, false};
    char title[256], sub[1400];
    snprintf(title, sizeof title, "Trial %.0f \xE2\x80\x94 decision %s", resp_num(t, "id"),
             g->regression ? "surface" : "boundary");
    char *label = resp_config_label(cJSON_GetObjectItemCaseSensitive(t, "config"));
    snprintf(sub, sizeof sub, "%s%s%s seed %.0f; background: the kept model's %s",
             resp_str(t, "sweep_name", ""), label ? " \xC2\xB7 " : "", label ? label : "",
             resp_num(t, "seed"),
             g->regression ? "predicted value" : "predicted class (paler: less sure)");
    free(label);
    w = fmax(w, plot__text_need(title, sub, NULL, 0));
    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);
    draw_cells(out, &d, &sx, &sy);
    svg_axis_x(out, &sx, top, top + ph, 0, "x1");
    svg_axis_y(out, &sy, left, left + pw, "x2");
    int ntrain, ntest;
    draw_points(out, &d, &sx, &sy, &ntrain, &ntest);
    draw_legend(out, left + pw + 24, top + 10, &d, ntrain, ntest);
    svg_end(out);
    bdata_free(&d);
    return CLI_OK;
}

/* ---- the kind ---------------------------------------------------------------- */

/* resp[0]: the trial; resp[1]: {"boundary": text, "points": text}. */
static int boundary_fetch(struct cli *cli, const struct plot_args *a, cJSON **resp)
{
    cJSON *req = cmd_req("trial");
    if (req && !cJSON_AddNumberToObject(req, "id", (double)a->trial)) {
        cJSON_Delete(req);
        req = NULL;
    }
    int rc = cmd_request(cli, req, &resp[0], NULL);
    if (rc != CLI_OK)
        return rc;
    struct artifact_data b = {0}, p = {0};
    if ((rc = artifact_fetch(cli, a->trial, "boundary.csv", &b)) != CLI_OK) {
        fprintf(stderr,
                "mlpctl plot: trial %ld has no boundary.csv: it is written for data sets with "
                "two features when the grid sets \"save\": \"model\" or \"both\"\n",
                a->trial);
        return rc;
    }
    if ((rc = artifact_fetch(cli, a->trial, "points.csv", &p)) == CLI_OK) {
        resp[1] = cJSON_CreateObject();
        if (!resp[1] || !cJSON_AddStringToObject(resp[1], "boundary", (char *)b.data) ||
            !cJSON_AddStringToObject(resp[1], "points", (char *)p.data)) {
            fprintf(stderr, "mlpctl plot: out of memory\n");
            rc = CLI_FAILED;
        }
    }
    free(b.data);
    free(p.data);
    return rc;
}

static int boundary_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                           size_t whylen)
{
    (void)a;
    return plot__boundary(out, resp[0], resp_str(resp[1], "boundary", NULL),
                          resp_str(resp[1], "points", NULL), why, whylen);
}

const struct plot_kind plot_kind_boundary = {
    .name = "boundary",
    .needs_trial = true,
    .nreq = 2,
    .fetch = boundary_fetch,
    .render = boundary_render,
};
