/*
 * resp — response fields and output formats (see resp.h).
 *
 * Everything here used to be written once per output form (table.c,
 * plot.c, report.c, the cmd_*.c verbs); the formats are unchanged, byte for
 * byte, so that tables, plots and reports read as before.
 */
#include "resp.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "err.h"
#include "json.h"
#include "metric.h"

double resp_num(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? json_get(obj, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *resp_str(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = obj ? json_get(obj, key) : NULL;
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

void resp_stat_get(const cJSON *obj, struct resp_stat *s)
{
    double n = resp_num(obj, "n");
    s->n = isfinite(n) && n > 0 && n < 1e9 ? (int)n : 0;
    s->mean = resp_num(obj, "mean");
    s->sd = resp_num(obj, "sd");
    s->se = resp_num(obj, "se");
    s->ci_low = resp_num(obj, "ci_low");
    s->ci_high = resp_num(obj, "ci_high");
    double nf = resp_num(obj, "nonfinite");
    s->nonfinite = isfinite(nf) && nf > 0 && nf < 1e9 ? (int)nf : 0;
    s->clipped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "clipped"));
}

int resp_config_id(const cJSON *config)
{
    double id = cJSON_IsNumber(config) ? config->valuedouble : resp_num(config, "id");
    return isfinite(id) && id >= 0 && id < 2e9 ? (int)id : -1;
}

double resp_config_num(const cJSON *config)
{
    int id = resp_config_id(config);
    return id < 0 ? NAN : id;
}

const cJSON *resp_config_grid(const cJSON *config)
{
    const cJSON *g = cJSON_IsObject(config) ? json_get(config, "grid") : NULL;
    return cJSON_IsObject(g) ? g : NULL;
}

/* ---- numbers ------------------------------------------------------------------ */

char *resp_fmt_num(char *buf, size_t n, double x)
{
    if (!isfinite(x))
        snprintf(buf, n, "—");
    else
        snprintf(buf, n, "%.4f", x);
    return buf;
}

char *resp_fmt_stat(char *buf, size_t n, double mean, double se)
{
    if (!isfinite(mean))
        snprintf(buf, n, "—");
    else if (!isfinite(se))
        snprintf(buf, n, "%.4f", mean);
    else if (se > 0 && se < 0.00005)
        snprintf(buf, n, "%.4f ± %.1e", mean, se);
    else
        snprintf(buf, n, "%.4f ± %.4f", mean, se);
    return buf;
}

char *resp_fmt_short(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(buf, n, "n/a");
    else if (fabs(v) < 10)
        snprintf(buf, n, "%.4f", v);
    else
        snprintf(buf, n, "%.4g", v);
    return buf;
}

char *resp_fmt_se(char *buf, size_t n, double v)
{
    if (isfinite(v) && v != 0 && fabs(v) < 0.0001)
        snprintf(buf, n, "%.1e", v);
    else
        resp_fmt_short(buf, n, v);
    return buf;
}

char *resp_fmt_mean_se(char *buf, size_t n, const struct resp_stat *s)
{
    char m[32], e[32];
    resp_fmt_short(m, sizeof m, s->mean);
    if (s->n >= 2 && isfinite(s->se)) {
        resp_fmt_se(e, sizeof e, s->se);
        snprintf(buf, n, "%s \xC2\xB1 %s (n=%d)", m, e, s->n);
    } else
        snprintf(buf, n, "%s (n=%d)", m, s->n);
    return buf;
}

char *resp_fmt_count(char *buf, size_t n, double count, const char *one, const char *many)
{
    if (!isfinite(count))
        snprintf(buf, n, "— %s", many ? many : one);
    else if (count == 1)
        snprintf(buf, n, "1 %s", one);
    else if (many)
        snprintf(buf, n, "%.0f %s", count, many);
    else
        snprintf(buf, n, "%.0f %ss", count, one);
    return buf;
}

char *resp_fmt_stat_diverged(char *buf, size_t n, const struct resp_stat *s, double diverged)
{
    int total = s->n + s->nonfinite;
    if (!isfinite(diverged) || diverged < 1 || total < 1)
        return resp_fmt_stat(buf, n, s->mean, s->se);
    if (s->n == 0 || !isfinite(s->mean)) {
        snprintf(buf, n, "diverged (%.0f/%d)", diverged, total);
    } else {
        char st[64];
        snprintf(buf, n, "%s, diverged (%.0f/%d)", resp_fmt_stat(st, sizeof st, s->mean, s->se),
                 diverged, total);
    }
    return buf;
}

char *resp_fmt_p(char *buf, size_t n, double p)
{
    if (!isfinite(p))
        snprintf(buf, n, "p = —");
    else if (p < 0.001)
        snprintf(buf, n, "p < 0.001");
    else
        snprintf(buf, n, "p = %.3f", p);
    return buf;
}

char *resp_significance_sentence(char *buf, size_t n, const char *a, const char *b, double t,
                                 double df, double p, double alpha)
{
    char pt[32];
    if (isnan(t) && p == 1)
        snprintf(buf, n, "%s and %s are identical on every seed", a, b);
    else if (isinf(t) && p == 0)
        snprintf(buf, n,
                 "%s is better than %s on every seed, by the same amount (no spread: no "
                 "test needed)",
                 a, b);
    else if (!isfinite(t) || !isfinite(df) || !isfinite(p))
        snprintf(buf, n, "%s and %s cannot be compared (too few finished seeds)", a, b);
    else
        snprintf(buf, n, "%s is %s better than %s (Welch's t = %.3f, df = %.1f, %s)", a,
                 p < alpha ? "significantly" : "not significantly", b, t, df,
                 resp_fmt_p(pt, sizeof pt, p));
    return buf;
}

char *resp_fmt_int(char *buf, size_t n, double x)
{
    if (isfinite(x))
        snprintf(buf, n, "%.0f", x);
    else
        snprintf(buf, n, "—");
    return buf;
}

/* "1.5e-04" → "1.5e-4", "2e+03" → "2e3". */
static void tidy_exponent(char *s)
{
    char *e = strchr(s, 'e');
    if (!e)
        return;
    char *src = e + 1, *dst = e + 1;
    if (*src == '+')
        src++;
    else if (*src == '-')
        *dst++ = *src++;
    while (*src == '0' && src[1])
        src++;
    memmove(dst, src, strlen(src) + 1);
}

char *resp_fmt_param_num(char *buf, size_t n, double x)
{
    if (!isfinite(x)) {
        snprintf(buf, n, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
        return buf;
    }
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, n, "%.0f", x);
        return buf;
    }
    /* Fewest significant digits (up to 6) that give x back. */
    int p = 1;
    char plain[64], expo[64];
    for (; p < 6; p++) {
        snprintf(plain, sizeof plain, "%.*g", p, x);
        if (strtod(plain, NULL) == x)
            break;
    }
    snprintf(plain, sizeof plain, "%.*g", p, x);
    tidy_exponent(plain);
    snprintf(expo, sizeof expo, "%.*e", p - 1, x);
    tidy_exponent(expo);
    /* The exponent form only when clearly shorter: 0.001 stays, 0.0001 → 1e-4. */
    snprintf(buf, n, "%s", strlen(expo) + 2 <= strlen(plain) ? expo : plain);
    return buf;
}

/* ---- values and configurations -------------------------------------------- */

/* Append compact text of v to buf at *len (bounded). */
static void append_value(char *buf, size_t n, size_t *len, const cJSON *v)
{
    char tmp[256];
    const char *s = tmp;
    char *owned = NULL;
    if (cJSON_IsNumber(v))
        resp_fmt_param_num(tmp, sizeof tmp, v->valuedouble);
    else if (cJSON_IsString(v))
        s = v->valuestring;
    else if (cJSON_IsBool(v))
        s = cJSON_IsTrue(v) ? "true" : "false";
    else if (cJSON_IsNull(v) || !v)
        s = "null";
    else if (cJSON_IsArray(v)) {
        size_t l = 0;
        tmp[l++] = '[';
        tmp[l] = '\0';
        const cJSON *it;
        bool first = true;
        cJSON_ArrayForEach(it, v)
        {
            if (!first && l + 1 < sizeof tmp) {
                tmp[l++] = ',';
                tmp[l] = '\0';
            }
            first = false;
            append_value(tmp, sizeof tmp, &l, it);
        }
        if (l + 1 < sizeof tmp) {
            tmp[l++] = ']';
            tmp[l] = '\0';
        }
    } else {
        owned = json_line(v);
        s = owned ? owned : "?";
    }
    if (*len < n) {
        int w = snprintf(buf + *len, n - *len, "%s", s);
        if (w > 0)
            *len = *len + (size_t)w < n ? *len + (size_t)w : n - 1;
    }
    free(owned);
}

char *resp_fmt_value(char *buf, size_t n, const cJSON *v)
{
    size_t len = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    append_value(buf, n, &len, v);
    return buf;
}

char *resp_fmt_config(char *buf, size_t n, const cJSON *grid)
{
    size_t len = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, grid)
    {
        if (len + 1 >= n)
            break;
        int w = snprintf(buf + len, n - len, "%s%s=", len ? " " : "", it->string);
        if (w < 0)
            break;
        len = len + (size_t)w < n ? len + (size_t)w : n - 1;
        append_value(buf, n, &len, it);
    }
    return buf;
}

char *resp_value_text(const cJSON *v)
{
    if (cJSON_IsString(v) && v->valuestring)
        return strdup(v->valuestring);
    if (!v)
        return strdup("null");
    return json_print_exact(v, false);
}

char *resp_config_label(const cJSON *config)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    const cJSON *grid = cJSON_IsObject(config) ? json_get(config, "grid") : NULL;
    int parts = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, grid)
    {
        char *t = resp_value_text(kv);
        fprintf(m, "%s%s=%s", parts++ ? " " : "", kv->string ? kv->string : "?", t ? t : "?");
        free(t);
    }
    if (!parts)
        fprintf(m, "config %d", resp_config_id(config));
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- time ------------------------------------------------------------------------ */

char *resp_fmt_duration(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "—");
        return buf;
    }
    long long t = llround(s);
    if (s < 9.95)
        snprintf(buf, n, "%.1fs", s);
    else if (t < 60)
        snprintf(buf, n, "%llds", t);
    else if (t < 3600)
        snprintf(buf, n, "%lldm%02llds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(buf, n, "%lldh%02lldm", t / 3600, t % 3600 / 60);
    else
        snprintf(buf, n, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
    return buf;
}

char *resp_fmt_time(char *buf, size_t n, double t, enum resp_tz tz)
{
    if (!isfinite(t) || t <= 0) {
        snprintf(buf, n, "—");
        return buf;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (tz == RESP_LOCAL) {
        localtime_r(&tt, &tm);
        strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
    } else if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, n, "%.0f", t);
    return buf;
}

/* ---- errors ---------------------------------------------------------------------- */

void resp_error_get(const cJSON *resp, struct resp_error *e)
{
    const cJSON *err = json_get(resp, "error");
    const cJSON *code = json_get(err, "code"), *msg = json_get(err, "message"),
                *path = json_get(err, "path");
    e->code = cJSON_IsString(code) ? code->valuestring : "internal";
    e->message = cJSON_IsString(msg) ? msg->valuestring : err_default_msg(err_from_name(e->code));
    e->path = cJSON_IsString(path) && *path->valuestring ? path->valuestring : NULL;
}

void resp_error_print(FILE *f, const struct resp_error *e, const char *prefix)
{
    /* A message that already starts with its path (file errors) is not prefixed twice. */
    bool p_in_m = e->path && strncmp(e->message, e->path, strlen(e->path)) == 0;
    if (e->path && !p_in_m)
        fprintf(f, "%s: %s: %s\n", prefix ? prefix : "mlpctl", e->path, e->message);
    else
        fprintf(f, "%s: %s\n", prefix ? prefix : "mlpctl", e->message);
}

int resp_error_exit(const char *code)
{
    int e = err_from_name(code);
    if (e == MLP_EINVALID_GRID || e == MLP_EINVALID_DATASET || e == MLP_EINVALID_SPEC)
        return CLI_INVALID;
    return CLI_FAILED;
}

cJSON *resp_error_doc(const char *code, const char *message, const char *path)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(doc, "error");
    if (!err || !cJSON_AddStringToObject(err, "code", code) ||
        !cJSON_AddStringToObject(err, "message", message) ||
        (path && !cJSON_AddStringToObject(err, "path", path))) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

char *resp_fmt_ci(char *buf, size_t n, const struct resp_stat *s, double scale,
                  char *(*fmt)(char *, size_t, double), bool *clipped)
{
    char a[32], b[32];
    if (!fmt)
        fmt = resp_fmt_num;
    if (isfinite(s->ci_low) && isfinite(s->ci_high)) {
        snprintf(buf, n, "[%s, %s]%s", fmt(a, sizeof a, s->ci_low * scale),
                 fmt(b, sizeof b, s->ci_high * scale), s->clipped ? " *" : "");
        if (clipped)
            *clipped |= s->clipped;
    } else if (s->n < 2 && s->nonfinite > 0) {
        snprintf(buf, n, "n/a (%d/%d diverged)", s->nonfinite, s->n + s->nonfinite);
    } else if (s->n < 2) {
        snprintf(buf, n, "n/a (n < 2)");
    } else {
        snprintf(buf, n, "—");
    }
    return buf;
}

char *resp_clip_footnote(char *buf, size_t n, const char *metric, double scale)
{
    int m = metric_index(metric);
    bool acc = (m >= 0 && metric_info(m)->kind == METRIC_ACCURACY) || strstr(metric, "accuracy");
    snprintf(buf, n, "*: interval clipped to the range %s can take (%s).", metric,
             !acc           ? "0 or more"
             : scale == 100 ? "0 to 100 %"
                            : "0 to 1");
    return buf;
}
