/*
 * test_png — proof that the SVG draws: render a plot from the fixtures,
 * screenshot it with headless Chromium, decode the PNG (zlib, all five
 * filter types) and check that it has the SVG's size and real content:
 * several distinct colours, a fair share of non-white pixels, and some of
 * the palette's blue.  Exits 77 (skipped) when chromium is not installed.
 *
 * Usage: test_plot_png FIXTURE_DIR [OUTDIR]
 * With OUTDIR, renders every kind (ranking, curves, gap, by lr, by hidden,
 * confusion, learning, boundary, curves with test curves) to
 * OUTDIR/<kind>.svg and .png and keeps them; without, renders the ranking,
 * confusion, learning and boundary plots in a temporary directory and
 * removes it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../check.h"
#include "cli/plot.h"
#include "fake_cli.h"

struct image {
    uint32_t w, h;
    int channels;      /* 3 (RGB) or 4 (RGBA) */
    unsigned char *px; /* h rows of w*channels bytes */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes). 0 or -1. */
static int png_read(const char *path, struct image *img)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n || n < 8 ||
        memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0) {
        free(b);
        fclose(f);
        return -1;
    }
    fclose(f);
    unsigned char *z = NULL;
    size_t zlen = 0;
    int depth = 0, ctype = -1, interlace = 0, rc = -1;
    for (long off = 8; off + 12 <= n;) {
        uint32_t len = be32(b + off);
        const unsigned char *type = b + off + 4, *data = b + off + 8;
        if (off + 12 + (long)len > n)
            break;
        if (memcmp(type, "IHDR", 4) == 0) {
            img->w = be32(data);
            img->h = be32(data + 4);
            depth = data[8];
            ctype = data[9];
            interlace = data[12];
        } else if (memcmp(type, "IDAT", 4) == 0) {
            unsigned char *nz = realloc(z, zlen + len);
            if (!nz)
                goto out;
            z = nz;
            memcpy(z + zlen, data, len);
            zlen += len;
        }
        off += 12 + (long)len;
    }
    if (depth != 8 || (ctype != 2 && ctype != 6) || interlace || !img->w || !img->h)
        goto out;
    img->channels = ctype == 6 ? 4 : 3;
    size_t stride = (size_t)img->w * img->channels;
    uLongf rawlen = (uLongf)((stride + 1) * img->h);
    unsigned char *raw = malloc(rawlen);
    if (!raw || uncompress(raw, &rawlen, z, zlen) != Z_OK || rawlen != (stride + 1) * img->h) {
        free(raw);
        goto out;
    }
    img->px = malloc(stride * img->h);
    int bpp = img->channels;
    for (uint32_t y = 0; y < img->h; y++) {
        unsigned char ft = raw[y * (stride + 1)], *in = raw + y * (stride + 1) + 1;
        unsigned char *row = img->px + y * stride, *up = y ? row - stride : NULL;
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)bpp ? row[x - bpp] : 0, u = up ? up[x] : 0,
                c = up && x >= (size_t)bpp ? up[x - bpp] : 0;
            int v = in[x];
            switch (ft) {
            case 1:
                v += a;
                break;
            case 2:
                v += u;
                break;
            case 3:
                v += (a + u) / 2;
                break;
            case 4:
                v += paeth(a, u, c);
                break;
            default:
                break;
            }
            row[x] = (unsigned char)v;
        }
    }
    free(raw);
    rc = 0;
out:
    free(z);
    free(b);
    return rc;
}

/* The SVG's width and height attributes. */
static void svg_size(const char *path, int *w, int *h)
{
    *w = 900;
    *h = 600;
    FILE *f = fopen(path, "r");
    char head[512] = "";
    if (!f)
        return;
    size_t got = fread(head, 1, sizeof head - 1, f);
    head[got] = '\0';
    fclose(f);
    const char *p = strstr(head, "width=\""), *q = strstr(head, "height=\"");
    if (p)
        *w = atoi(p + 7);
    if (q)
        *h = atoi(q + 8);
}

/* Screenshot svg into png at the SVG's own size; the PNG's properties are checked. */
static void shoot(const char *svg, const char *png)
{
    int w, h;
    svg_size(svg, &w, &h);
    char profile[] = "/tmp/test_plot_chromium_XXXXXX";
    CHECK(mkdtemp(profile) != NULL);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic "
             "--no-first-run --disable-background-networking --disable-component-update "
             "--disable-sync --hide-scrollbars --user-data-dir=%s --screenshot=%s "
             "--window-size=%d,%d file://%s >/dev/null 2>&1",
             profile, png, w, h, svg);
    int rc = system(cmd);
    CHECK_EQ_INT(rc, 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", profile);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", profile);

    struct image img = {0};
    CHECK_EQ_INT(png_read(png, &img), 0);
    if (!img.px)
        return;
    CHECK_EQ_INT(img.w, w);
    CHECK_EQ_INT(img.h, h);
    /* Distinct colours (coarsely, 4 bits per channel) and ink coverage. */
    static unsigned char seen[4096];
    memset(seen, 0, sizeof seen);
    int distinct = 0;
    size_t ink = 0, blue = 0, total = (size_t)img.w * img.h;
    for (size_t i = 0; i < total; i++) {
        const unsigned char *p = img.px + i * img.channels;
        int key = (p[0] >> 4) << 8 | (p[1] >> 4) << 4 | (p[2] >> 4);
        if (!seen[key]++)
            distinct++;
        if (p[0] < 235 || p[1] < 235 || p[2] < 235)
            ink++;
        /* Okabe–Ito blue #0072B2 (0, 114, 178), allowing for anti-aliasing. */
        if (p[0] < 40 && abs(p[1] - 114) < 30 && abs(p[2] - 178) < 30)
            blue++;
    }
    fprintf(stderr, "%s: %ux%u, %d colours, %.1f%% ink, %zu blue pixels\n", png, img.w, img.h,
            distinct, 100.0 * ink / total, blue);
    CHECK(distinct >= 8);
    CHECK(ink > total / 100);   /* more than 1% drawn */
    CHECK(ink < total * 3 / 4); /* and not a solid block */
    CHECK(blue > 20);
    free(img.px);
}

/* A fixture file's text; NULL with a failed check when missing. */
static char *slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) == (size_t)n)
        b[n] = '\0';
    else {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

/* The fixtures every kind is drawn from. */
struct fixtures {
    cJSON *best, *show, *curves, *bylr, *byh, *conf, *results, *trial, *lc_best, *lc_curves;
    char *boundary, *points;
};

/* Draw kind k into f: CLI_OK or CLI_FAILED. */
static int draw(FILE *f, int k, const struct fixtures *x)
{
    char why[512] = "";
    switch (k) {
    case 0:
        return plot_ranking(f, x->best);
    case 1:
        return plot_curves(f, x->best, x->curves, 5);
    case 2:
        return plot_gap(f, x->show);
    case 3:
        return plot_by(f, x->bylr);
    case 4:
        return plot_by(f, x->byh);
    case 5:
        return plot_confusion(f, x->conf);
    case 6:
        return plot_learning(f, x->results, "train_size");
    case 7:
        return plot__boundary(f, x->trial, x->boundary, x->points, why, sizeof why);
    default:
        return plot_curves(f, x->lc_best, x->lc_curves, 5);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR [OUTDIR]\n", argv[0]);
        return 2;
    }
    if (system("command -v chromium >/dev/null 2>&1") != 0) {
        fprintf(stderr, "chromium is not installed: skipped\n");
        return 77;
    }
    const char *fx = argv[1];
    char tmp[] = "/tmp/test_plot_png_XXXXXX";
    const char *dir = argc > 2 ? argv[2] : mkdtemp(tmp);
    CHECK(dir != NULL);
    if (!dir)
        return check_report();
    mkdir(dir, 0755);
    struct fixtures x = {
        .best = fixture_load(fx, "best.json"),
        .show = fixture_load(fx, "show.json"),
        .curves = fixture_load(fx, "curves.json"),
        .bylr = fixture_load(fx, "show_by_lr.json"),
        .byh = fixture_load(fx, "show_by_hidden.json"),
        .conf = fixture_load(fx, "show_confusion.json"),
        .results = fixture_load(fx, "results.json"),
        .trial = fixture_load(fx, "trial.json"),
        .lc_best = fixture_load(fx, "fashion-lc/best.json"),
        .lc_curves = fixture_load(fx, "fashion-lc/curves.json"),
        .boundary = slurp(fx, "boundary.csv"),
        .points = slurp(fx, "points.csv"),
    };
    CHECK(x.best && x.show && x.curves && x.bylr && x.byh && x.conf && x.results && x.trial &&
          x.lc_best && x.lc_curves && x.boundary && x.points);
    static const char *const kinds[] = {"ranking",  "curves",    "gap",
                                        "by_lr",    "by_hidden", "confusion",
                                        "learning", "boundary",  "curves_test"};
    /* Without OUTDIR: the ranking and the issue-9 kinds (each shot takes a second or two). */
    static const int quick[] = {0, 5, 6, 7};
    int nk = argc > 2 ? 9 : 4;
    for (int i = 0; i < nk; i++) {
        int k = argc > 2 ? i : quick[i];
        char svg[1024], png[1024];
        snprintf(svg, sizeof svg, "%s/%s.svg", dir, kinds[k]);
        snprintf(png, sizeof png, "%s/%s.png", dir, kinds[k]);
        FILE *f = fopen(svg, "w");
        CHECK(f != NULL);
        if (!f)
            break;
        int rc = draw(f, k, &x);
        fclose(f);
        CHECK_EQ_INT(rc, CLI_OK);
        shoot(svg, png);
    }
    cJSON *docs[] = {x.best, x.show,    x.curves, x.bylr,    x.byh,
                     x.conf, x.results, x.trial,  x.lc_best, x.lc_curves};
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        cJSON_Delete(docs[i]);
    free(x.boundary);
    free(x.points);
    int rc = check_report();
    if (argc <= 2 && rc == 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
