/*
 * plot_confusion — `--kind confusion --config N`: the test confusion matrix of
 * one configuration as a heat map, from the `show` op with `config` and
 * `confusion: true` (PROTO9: each seed's matrix is row-normalised, then the
 * rates are averaged over seeds with their standard error).  Rows are the
 * true class, columns the predicted one; each cell is shaded by its mean rate
 * on a white-to-blue scale (a legend bar beside the matrix) and annotated
 * with the mean, and ± SE when n ≥ 2 and the cell is large enough; the
 * tooltip always has both, with the mean count.  Fashion-MNIST gets its class
 * names, any other data set the class numbers.
 */
#include "plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "resp.h"
#include "svg.h"

#define CONF_MAX_CLASSES 100

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

const char *const *plot__class_names(const char *dataset, int classes)
{
    if (dataset && classes == 10 && strncmp(dataset, "fashion", 7) == 0)
        return fashion_names;
    return NULL;
}

/* Element [i][j] of a K×K array of arrays; NaN when missing. */
static double cell(const cJSON *m, int i, int j)
{
    const cJSON *v = cJSON_GetArrayItem(cJSON_GetArrayItem(m, i), j);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The shade of a rate in [0, 1]: white to Okabe–Ito blue (#0072B2). */
static void shade(char *buf, size_t n, double r)
{
    if (!isfinite(r))
        r = 0;
    r = r < 0 ? 0 : r > 1 ? 1 : r;
    int cr = (int)lround(255 + (0x00 - 255) * r), cg = (int)lround(255 + (0x72 - 255) * r),
        cb = (int)lround(255 + (0xB2 - 255) * r);
    snprintf(buf, n, "#%02x%02x%02x", cr, cg, cb);
}

/* A K×K matrix of numbers? */
static bool is_matrix(const cJSON *m, int K)
{
    if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) != K)
        return false;
    const cJSON *row;
    cJSON_ArrayForEach(row,
                       m) if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != K) return false;
    return true;
}

static void class_label(char *buf, size_t n, const char *const *names, int c)
{
    if (names)
        snprintf(buf, n, "%s", names[c]);
    else
        snprintf(buf, n, "%d", c);
}

/* The colour scale legend: a bar of 40 steps from 0 (bottom) to 1 (top) with ticks. */
static void draw_scale(FILE *out, double x, double top, double h)
{
    fprintf(out, "<g class=\"scale\">\n");
    const int steps = 40;
    for (int s = 0; s < steps; s++) {
        char col[16];
        shade(col, sizeof col, (s + 0.5) / steps);
        fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"16\" height=\"%.2f\" fill=\"%s\"/>\n", x,
                top + h - (s + 1) * h / steps, h / steps + 0.5, col);
    }
    fprintf(out,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"16\" height=\"%.2f\" fill=\"none\" "
            "stroke=\"#555\"/>\n",
            x, top, h);
    for (int t = 0; t <= 4; t++) {
        double y = top + h - t * h / 4;
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>",
                x + 16, y, x + 21, y);
        svg_textf(out, x + 24, y + 4, "start", 11, NULL, "%.2f", t / 4.0);
    }
    fprintf(out, "</g>\n");
    svg_text(out, x + 8, top - 10, "middle", 11.5, "fill=\"" COL_NOTE "\"", "rate");
}

int plot__confusion(FILE *out, const cJSON *resp, char *why, size_t whylen)
{
    char idbuf[32];
    const char *name = plot__sweep_name(resp, idbuf, sizeof idbuf);
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(resp, "confusion");
    double kd = resp_num(cf, "classes"), nd = resp_num(cf, "n"), cfg = resp_num(cf, "config");
    const cJSON *rates = cJSON_GetObjectItemCaseSensitive(cf, "rates");
    const cJSON *rm = cJSON_GetObjectItemCaseSensitive(rates, "mean");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(rates, "se");
    const cJSON *cm =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cf, "counts"), "mean");
    if (!cf) {
        plot__why(why, whylen, "the show response has no \"confusion\" section");
        return CLI_FAILED;
    }
    if (!isfinite(kd) || kd < 2 || kd > CONF_MAX_CLASSES || kd != floor(kd) ||
        !is_matrix(rm, (int)kd)) {
        plot__why(why, whylen,
                  "sweep %s: the confusion section has no %s×%s matrix of rates (classes: %s)",
                  name, "K", "K", isfinite(kd) ? "out of 2..100" : "missing");
        return CLI_FAILED;
    }
    const int K = (int)kd, n = isfinite(nd) ? (int)nd : 0;
    const char *dataset =
        resp_str(cJSON_GetObjectItemCaseSensitive(resp, "sweep"), "dataset", NULL);
    const char *const *names = plot__class_names(dataset, K);

    double cs = 560.0 / K;
    cs = cs > 64 ? 64 : cs < 14 ? 14 : cs;
    const bool show_se = n >= 2 && cs >= 46, show_text = cs >= 26;
    const double fs = cs >= 40 ? 11 : cs >= 24 ? 9.5 : 8;
    /*
     * Class names stand tilted by 35° above the columns: the matrix starts
     * below the longest of them (about 0.58 em per character, times
     * sin 35°), and "predicted" sits above them, clear of the subtitle.
     */
    size_t longest = 0;
    for (int c = 0; names && c < K; c++)
        if (strlen(names[c]) > longest)
            longest = strlen(names[c]);
    const double tilt_h = (double)longest * fs * 0.58 * 0.574;
    const double label_w = names ? 96 : 40, left = 40 + label_w,
                 top = names && tilt_h + 90 > 96 ? tilt_h + 90 : 96;
    const double pred_y = names ? top - 6 - tilt_h - 10 : top - 30;
    const double mw = cs * K, h = top + mw + 90;
    double w = left + mw + 110 < 640 ? 640 : left + mw + 110;
    char title[512], sub[400];
    snprintf(title, sizeof title, "Sweep %s \xE2\x80\x94 confusion matrix of configuration %.0f",
             name, cfg);
    snprintf(sub, sizeof sub,
             "Test split; each row (true class) normalised per seed, mean%s over n=%d seed%s",
             n >= 2 ? " \xC2\xB1 SE" : "", n, n == 1 ? "" : "s");
    const char *notes[1] = {names ? "Class names: Fashion-MNIST"
                                  : "Classes are the data set's label numbers"};
    if (!show_text || (n >= 2 && !show_se))
        notes[0] = "Hover a cell for its mean rate \xC2\xB1 SE and mean count";
    w = fmax(w, plot__text_need(title, sub, notes, 1));

    svg_begin(out, w, h);
    plot__titles(out, w, title, sub);

    /* Axis titles: predicted across the top, true down the left. */
    svg_text(out, left + mw / 2, pred_y, "middle", 12.5, "font-weight=\"bold\"", "predicted");
    fprintf(out,
            "<text x=\"14\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"12.5\" "
            "font-weight=\"bold\" transform=\"rotate(-90 14 %.2f)\">true</text>\n",
            top + mw / 2, top + mw / 2);
    char lab[64];
    fprintf(out, "<g class=\"labels\">\n");
    for (int c = 0; c < K; c++) {
        class_label(lab, sizeof lab, names, c);
        /* column labels tilted when they are names, so long ones do not overlap */
        double cx = left + cs * (c + 0.5);
        if (names)
            fprintf(out,
                    "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"start\" "
                    "transform=\"rotate(-35 %.2f %.2f)\">",
                    cx - 2, top - 6, fs, cx - 2, top - 6);
        else
            fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"middle\">",
                    cx, top - 8, fs);
        svg_escape(out, lab);
        fputs("</text>\n", out);
        svg_text(out, left - 6, top + cs * (c + 0.5) + 4, "end", fs, NULL, lab);
    }
    fprintf(out, "</g>\n<g class=\"cells\">\n");
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double m = cell(rm, i, j), se = cell(rs, i, j), cnt = cell(cm, i, j);
            char col[16], ms[32], ss[32], cs_[32], tl[64], pl[64];
            shade(col, sizeof col, m);
            double x = left + cs * j, y = top + cs * i;
            fprintf(out,
                    "<g><rect class=\"cell\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                    "height=\"%.2f\" fill=\"%s\" stroke=\"#fff\"/>",
                    x, y, cs, cs, col);
            class_label(tl, sizeof tl, names, i);
            class_label(pl, sizeof pl, names, j);
            resp_fmt_short(ms, sizeof ms, m);
            resp_fmt_se(ss, sizeof ss, se);
            resp_fmt_short(cs_, sizeof cs_, cnt);
            svg_titlef(out, "true %s, predicted %s: rate %s%s%s, count %s (n=%d)", tl, pl, ms,
                       isfinite(se) ? " \xC2\xB1 " : "", isfinite(se) ? ss : "", cs_, n);
            if (show_text && isfinite(m)) {
                const char *fill = m > 0.55 ? "#fff" : "#222";
                char attrs[64];
                snprintf(attrs, sizeof attrs, "fill=\"%s\"%s", fill,
                         i == j ? " font-weight=\"bold\"" : "");
                double ty = y + cs / 2 + (show_se && isfinite(se) ? -1 : 4);
                svg_textf(out, x + cs / 2, ty, "middle", cs >= 40 ? 11.5 : 9, attrs, "%.2f", m);
                if (show_se && isfinite(se))
                    svg_textf(out, x + cs / 2, ty + 13, "middle", 9.5, attrs, "\xC2\xB1%.2f", se);
            }
            fputs("</g>\n", out);
        }
    fprintf(out, "</g>\n");
    draw_scale(out, left + mw + 30, top + 10, mw - 20 > 100 ? mw - 20 : 100);
    plot__notes(out, 12, top + mw + 50, notes, 1);
    svg_end(out);
    return CLI_OK;
}

int plot_confusion(FILE *out, const cJSON *show_resp)
{
    char why[512] = "";
    return plot__say_why(plot__confusion(out, show_resp, why, sizeof why), why);
}

/* ---- the kind ---------------------------------------------------------------- */

static cJSON *confusion_request(const struct plot_args *a, int i)
{
    (void)i;
    cJSON *req = plot__sweep_req("show", a);
    if (req && (!cJSON_AddNumberToObject(req, "config", (double)a->config) ||
                !cJSON_AddBoolToObject(req, "confusion", 1))) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int confusion_render(FILE *out, const struct plot_args *a, cJSON *const *resp, char *why,
                            size_t whylen)
{
    (void)a;
    return plot__confusion(out, resp[0], why, whylen);
}

const struct plot_kind plot_kind_confusion = {
    .name = "confusion",
    .needs_config = true,
    .nreq = 1,
    .request = confusion_request,
    .render = confusion_render,
};
