/*
 * svg — see svg.h.  Coordinates are written with two decimals, which is
 * far below a pixel and keeps the files small.  Tick positions are computed
 * as integer multiples of the step (never by repeated addition) so that
 * labels read "0.3" and not "0.30000000000000004".
 */
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "svg_font.h"

/* Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
 * deficiencies. */
static const char *const palette[SVG_NCOLORS] = {
    "#0072B2", /* blue */
    "#E69F00", /* orange */
    "#009E73", /* bluish green */
    "#CC79A7", /* reddish purple */
    "#56B4E9", /* sky blue */
    "#D55E00", /* vermillion */
    "#F0E442", /* yellow */
    "#000000", /* black */
};

const char *svg_color(int i)
{
    if (i < 0)
        i = -i;
    return palette[i % SVG_NCOLORS];
}

double svg_map(const struct svg_scale *s, double v)
{
    double a = s->d0, b = s->d1;
    if (s->log) {
        a = log10(a);
        b = log10(b);
        v = log10(v);
    }
    if (b == a)
        return (s->p0 + s->p1) / 2;
    return s->p0 + (v - a) / (b - a) * (s->p1 - s->p0);
}

double svg_nice_step(double range, int target)
{
    if (!(range > 0) || !isfinite(range))
        return 1;
    if (target < 1)
        target = 1;
    double raw = range / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
    return nice * mag;
}

void svg_nice_domain(double *lo, double *hi, int target)
{
    double a = *lo, b = *hi;
    if (!isfinite(a) || !isfinite(b)) {
        *lo = 0;
        *hi = 1;
        return;
    }
    if (b < a) {
        double t = a;
        a = b;
        b = t;
    }
    double big = fmax(fabs(a), fabs(b));
    if (b - a <= 1e-12 * big || b == a) {
        double d = big * 0.05;
        if (d == 0)
            d = 1;
        a -= d;
        b += d;
    }
    double step = svg_nice_step(b - a, target);
    *lo = floor(a / step + 1e-9) * step;
    *hi = ceil(b / step - 1e-9) * step;
}

int svg_ticks(double lo, double hi, int target, double min_step, double *out, int max, double *step)
{
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    double st = svg_nice_step(hi - lo, target);
    if (min_step > 0 && st < min_step)
        st = min_step;
    if (step)
        *step = st;
    if (!isfinite(lo) || !isfinite(hi))
        return 0;
    double first = ceil(lo / st - 1e-9), last = floor(hi / st + 1e-9);
    int n = 0;
    for (double i = first; i <= last && n < max; i++) {
        double v = i * st;
        if (fabs(v) < st * 1e-9)
            v = 0;
        out[n++] = v;
    }
    return n;
}

int svg_log_ticks(double lo, double hi, double *out, int max)
{
    if (!(lo > 0) || !(hi > lo) || !isfinite(hi))
        return 0;
    static const double all[] = {1, 2, 5};
    int nmult = log10(hi / lo) <= 3 ? 3 : 1;
    int n = 0;
    for (int k = (int)floor(log10(lo)); k <= (int)ceil(log10(hi)) && n < max; k++) {
        for (int m = 0; m < nmult && n < max; m++) {
            double v = all[m] * pow(10, k);
            if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
                out[n++] = v;
        }
    }
    return n;
}

void svg_fmt_tick(char *buf, size_t n, double v, double step)
{
    if (step <= 0 || step < 1e-4 || fabs(v) >= 1e6) {
        snprintf(buf, n, "%g", v);
        return;
    }
    if (fabs(v) < step * 1e-9)
        v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, n, "%.*f", dec, v);
}

/*
 * Length in bytes of the valid UTF-8 sequence at s that XML 1.0 allows,
 * or 0 when the bytes there are not one.
 */
static size_t utf8_valid_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    /* U+FFFE and U+FFFF are not XML characters. */
    if (len == 3 && c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
        return 0;
    return len;
}

/* Escape at most max code points of s (SIZE_MAX: all); returns the code points consumed. */
static size_t escape_n(FILE *out, const char *str, size_t max)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t count = 0;
    while (*s && count < max) {
        size_t len = utf8_valid_len(s);
        count++;
        if (len == 0) {
            fputs("\xEF\xBF\xBD", out);
            s++;
            continue;
        }
        if (len > 1) {
            fwrite(s, 1, len, out);
            s += len;
            continue;
        }
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            if (*s >= 0x20 || *s == '\t' || *s == '\n')
                fputc(*s, out);
            else
                count--; /* dropped */
        }
        s++;
    }
    return count;
}

size_t svg_strlen(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = 0;
    if (!s)
        return 0;
    while (*s) {
        size_t len = utf8_valid_len(s);
        s += len ? len : 1;
        n++;
    }
    return n;
}

/* Advance of code point cp in 1/2048 em: the table's, else a wide 1.25 em (an unknown glyph). */
static unsigned glyph_width(unsigned cp, bool bold)
{
    size_t lo = 0, hi = sizeof svg_font_widths / sizeof svg_font_widths[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (svg_font_widths[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sizeof svg_font_widths / sizeof svg_font_widths[0] && svg_font_widths[lo].cp == cp)
        return bold ? svg_font_widths[lo].bold : svg_font_widths[lo].w;
    return 2560;
}

double svg_text_width(const char *str, double size, bool bold)
{
    const unsigned char *s = (const unsigned char *)str;
    double units = 0;
    while (s && *s) {
        size_t len = utf8_valid_len(s);
        unsigned cp;
        if (len == 0) { /* written as U+FFFD */
            cp = 0xFFFD;
            len = 1;
        } else if (len == 1)
            cp = *s;
        else {
            cp = s[0] & (0x7F >> len);
            for (size_t i = 1; i < len; i++)
                cp = cp << 6 | (s[i] & 0x3F);
        }
        s += len;
        if (cp < 0x20 && cp != '\t') /* dropped by svg_escape */
            continue;
        units += glyph_width(cp == '\t' ? ' ' : cp, bold);
    }
    return units / 2048.0 * size;
}

void svg_escape(FILE *out, const char *s)
{
    if (s)
        escape_n(out, s, SIZE_MAX);
}

void svg_escape_cut(FILE *out, const char *s, size_t max)
{
    if (!s)
        return;
    if (max < 2 || svg_strlen(s) <= max) {
        escape_n(out, s, max);
        return;
    }
    escape_n(out, s, max - 1);
    fputs("\xE2\x80\xA6", out); /* … */
}

void svg_begin(FILE *out, double w, double h)
{
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
            "fill=\"#222\">\n",
            w, h, w, h);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", w, h);
}

void svg_end(FILE *out)
{
    fputs("</svg>\n", out);
}

void svg_text(FILE *out, double x, double y, const char *anchor, double size, const char *attrs,
              const char *text)
{
    fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\" font-size=\"%g\"%s%s>", x, y,
            anchor, size, attrs ? " " : "", attrs ? attrs : "");
    svg_escape(out, text);
    fputs("</text>\n", out);
}

void svg_textf(FILE *out, double x, double y, const char *anchor, double size, const char *attrs,
               const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    svg_text(out, x, y, anchor, size, attrs, buf);
}

void svg_titlef(FILE *out, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("<title>", out);
    svg_escape(out, buf);
    fputs("</title>", out);
}

/* Ticks of an axis (linear or log) and the step used to format them (0 for log). */
static int axis_ticks(const struct svg_scale *s, double min_step, double *t, int max, double *step)
{
    double lo = fmin(s->d0, s->d1), hi = fmax(s->d0, s->d1);
    if (s->log) {
        *step = 0;
        return svg_log_ticks(lo, hi, t, max);
    }
    return svg_ticks(lo, hi, 6, min_step, t, max, step);
}

/* The x axis with ticks t[0..n), labelled with svg_fmt_tick(step). */
static void axis_x_draw(FILE *out, const struct svg_scale *sx, double y_top, double y_bot,
                        const double *t, int n, double step, const char *label)
{
    fputs("<g class=\"axis-x\">\n", out);
    for (int i = 0; i < n; i++) {
        double x = svg_map(sx, t[i]);
        char buf[64];
        svg_fmt_tick(buf, sizeof buf, t[i], step);
        fprintf(out,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>"
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>\n",
                x, y_top, x, y_bot, x, y_bot, x, y_bot + 5);
        svg_text(out, x, y_bot + 18, "middle", 11, NULL, buf);
    }
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>\n",
            sx->p0, y_bot, sx->p1, y_bot);
    if (label)
        svg_text(out, (sx->p0 + sx->p1) / 2, y_bot + 38, "middle", 12, NULL, label);
    fputs("</g>\n", out);
}

void svg_axis_x(FILE *out, const struct svg_scale *sx, double y_top, double y_bot, double min_step,
                const char *label)
{
    double t[64], step;
    int n = axis_ticks(sx, min_step, t, 64, &step);
    axis_x_draw(out, sx, y_top, y_bot, t, n, step, label);
}

void svg_axis_x_at(FILE *out, const struct svg_scale *sx, double y_top, double y_bot,
                   const double *ticks, int n, const char *label)
{
    axis_x_draw(out, sx, y_top, y_bot, ticks, n, 0, label);
}

/* Width of the widest tick label of sy. */
static double widest_y_tick(const struct svg_scale *sy)
{
    double t[64], step, widest = 0;
    int n = axis_ticks(sy, 0, t, 64, &step);
    for (int i = 0; i < n; i++) {
        char buf[64];
        svg_fmt_tick(buf, sizeof buf, t[i], step);
        widest = fmax(widest, svg_text_width(buf, 11, false));
    }
    return widest;
}

double svg_axis_y_margin(const struct svg_scale *sy, const char *label)
{
    /* Tick labels end 8 px left of the axis; the rotated label's centre line is 16 px
       left of the widest, its glyphs rise 0.93 em (DejaVu Sans' ascent) further left. */
    return (label ? 16 + 12 * 0.93 : 8) + widest_y_tick(sy) + 2;
}

void svg_axis_y(FILE *out, const struct svg_scale *sy, double x_left, double x_right,
                const char *label)
{
    double t[64], step;
    int n = axis_ticks(sy, 0, t, 64, &step);
    double widest = 0;
    fputs("<g class=\"axis-y\">\n", out);
    for (int i = 0; i < n; i++) {
        double y = svg_map(sy, t[i]);
        char buf[64];
        svg_fmt_tick(buf, sizeof buf, t[i], step);
        widest = fmax(widest, svg_text_width(buf, 11, false));
        fprintf(out,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>"
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>\n",
                x_left, y, x_right, y, x_left - 5, y, x_left, y);
        svg_text(out, x_left - 8, y + 4, "end", 11, NULL, buf);
    }
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#555\"/>\n",
            x_left, sy->p0, x_left, sy->p1);
    if (label) {
        double x = x_left - 16 - widest, y = (sy->p0 + sy->p1) / 2;
        char attrs[96];
        snprintf(attrs, sizeof attrs, "transform=\"rotate(-90 %.2f %.2f)\"", x, y);
        svg_text(out, x, y, "middle", 12, attrs, label);
    }
    fputs("</g>\n", out);
}

void svg_legend_item(FILE *out, double x, double y, const char *color, const char *dash,
                     const char *text)
{
    if (!dash)
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"%s\"/>", x + 9, y - 4, color);
    else
        fprintf(out,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                "stroke-width=\"2.5\"%s%s%s/>",
                x, y - 4, x + 22, y - 4, color, *dash ? " stroke-dasharray=\"" : "", dash,
                *dash ? "\"" : "");
    svg_text(out, x + 28, y, "start", 12, NULL, text);
}

void svg_errbar(FILE *out, double x0, double y0, double x1, double y1, double cap,
                const char *color)
{
    double dx = x1 - x0, dy = y1 - y0, len = hypot(dx, dy);
    double px = 0, py = cap;
    if (len > 0) {
        px = -dy / len * cap;
        py = dx / len * cap;
    }
    fprintf(out,
            "<g class=\"errbar\" stroke=\"%s\" stroke-width=\"1.6\">"
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>"
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>"
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/></g>\n",
            color, x0, y0, x1, y1, x0 - px, y0 - py, x0 + px, y0 + py, x1 - px, y1 - py, x1 + px,
            y1 + py);
}
