/*
 * svg — a small SVG writer for mlpctl's plots: XML escaping, "nice" axis
 * ticks (1-2-5 steps, and decades on a log scale), scales from data to
 * pixels, axes with grid lines, and the Okabe–Ito colour-blind-safe palette.
 *
 * Everything writes straight to a FILE*; there is no document object.  The
 * output uses no ids, no external fonts and no scripts, so several documents
 * can be inlined into one HTML page without clashes.  No XML declaration is
 * written: UTF-8 is the default and the same text embeds into HTML as is.
 */
#ifndef MLP_SVG_H
#define MLP_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A map from a data interval [d0, d1] to a pixel interval [p0, p1]; p1 < p0 is allowed (y axes). */
struct svg_scale {
    double d0, d1; /* data domain (both > 0 when log) */
    double p0, p1; /* pixel range */
    bool log;      /* log10 scale */
};

/* Pixel position of data value v (values outside the domain extrapolate). */
double svg_map(const struct svg_scale *s, double v);

/* The 1-2-5 step nearest to range/target (range > 0, target >= 1). */
double svg_nice_step(double range, int target);

/*
 * Widen [*lo, *hi] to multiples of a nice step (about `target` intervals).
 * An empty or degenerate range (lo == hi) is widened around its value first;
 * non-finite input becomes [0, 1].
 */
void svg_nice_domain(double *lo, double *hi, int target);

/*
 * Ticks of a linear axis: the multiples of *step (a nice step for about
 * `target` intervals, never below min_step when min_step > 0) inside
 * [lo, hi].  Writes at most max values to out; returns the count.
 */
int svg_ticks(double lo, double hi, int target, double min_step, double *out, int max,
              double *step);

/*
 * Ticks of a log axis on [lo, hi] (0 < lo < hi): the powers of ten inside it,
 * and also 2·10^k and 5·10^k when the span is at most three decades.
 * Returns the count (at most max).
 */
int svg_log_ticks(double lo, double hi, double *out, int max);

/* Format a tick value with as many decimals as step needs (step <= 0: %g). */
void svg_fmt_tick(char *buf, size_t n, double v, double step);

/* Okabe–Ito colour i (wraps after 8; black is last). */
const char *svg_color(int i);
/* Number of distinct palette colours. */
#define SVG_NCOLORS 8

/*
 * Write s XML-escaped (& < > " ' as entities), usable in text and in
 * attribute values.  Control characters other than tab and newline are
 * dropped and invalid UTF-8 bytes become U+FFFD, so the result is always
 * well-formed XML.  A NULL s writes nothing.
 */
void svg_escape(FILE *out, const char *s);

/* Like svg_escape, at most max characters (UTF-8 aware); cut text ends with "…". */
void svg_escape_cut(FILE *out, const char *s, size_t max);

/* Number of characters (UTF-8 code points) in s. */
size_t svg_strlen(const char *s);

/*
 * Width in pixels of s set in the documents' font (DejaVu Sans, the first of
 * the font-family svg_begin names; Book or Bold) at `size` px: the sum of
 * the glyphs' advances from the font's own tables (svg_font.h, made by
 * scripts/font_widths.py), without kerning, which only narrows.  A character
 * the table lacks counts 1.25 em.  The fallback families (Helvetica, Arial)
 * are narrower, so text measured here fits in them too.  Layouts size their
 * margins with it so that no text is cut or runs past the image.
 */
double svg_text_width(const char *s, double size, bool bold);

/* Open an <svg> document of w×h pixels with a white background and the default font. */
void svg_begin(FILE *out, double w, double h);
/* Close the document opened by svg_begin. */
void svg_end(FILE *out);

/*
 * A <text> element at (x, y): anchor "start" | "middle" | "end", font size
 * in pixels, attrs extra raw attributes (may be NULL, e.g. "font-weight=\"bold\""),
 * text escaped.
 */
void svg_text(FILE *out, double x, double y, const char *anchor, double size, const char *attrs,
              const char *text);
/* svg_text with a printf-formatted text. */
void svg_textf(FILE *out, double x, double y, const char *anchor, double size, const char *attrs,
               const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* A <title> element (a tooltip of its parent) with a printf-formatted, escaped text. */
void svg_titlef(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A horizontal axis at the bottom of the plot area: vertical grid lines from
 * y_top to y_bot at each tick, tick marks and labels below y_bot, the axis
 * label centred under them.  min_step > 0 keeps ticks at least that far apart
 * (1 for epochs).
 */
void svg_axis_x(FILE *out, const struct svg_scale *sx, double y_top, double y_bot, double min_step,
                const char *label);

/* svg_axis_x with the ticks given (the data's own values, say), labelled with %g. */
void svg_axis_x_at(FILE *out, const struct svg_scale *sx, double y_top, double y_bot,
                   const double *ticks, int n, const char *label);

/*
 * A vertical axis on the left of the plot area: horizontal grid lines from
 * x_left to x_right at each tick, labels left of x_left, the axis label
 * rotated along the axis.
 */
void svg_axis_y(FILE *out, const struct svg_scale *sy, double x_left, double x_right,
                const char *label);

/*
 * The room svg_axis_y needs left of x_left for sy's tick labels and, when
 * label is not NULL, its rotated label: plots keep at least this much
 * margin so that nothing runs past the image's left edge.
 */
double svg_axis_y_margin(const struct svg_scale *sy, const char *label);

/*
 * A legend entry at (x, y): a swatch (a dot when dash is NULL, else a short
 * line with that stroke-dasharray, "" for solid) of the colour, then the text.
 */
void svg_legend_item(FILE *out, double x, double y, const char *color, const char *dash,
                     const char *text);

/*
 * An error bar from (x0, y0) to (x1, y1) with caps of half-width cap drawn
 * across it, in a <g class="errbar"> so that tests and styles can find it.
 */
void svg_errbar(FILE *out, double x0, double y0, double x1, double y1, double cap,
                const char *color);

#endif
