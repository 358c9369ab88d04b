/*
 * json — helpers over cJSON.  See json.h.
 *
 * Kept deliberately small: the project's JSON is parsed and built with cJSON;
 * this file adds integer checks, type names and short renderings for error
 * messages, the "did you mean" distance, and json_line(), a compact printer
 * whose numbers are exact.  cJSON's own printer compares doubles with a
 * tolerance (values one ulp apart print the same), so it cannot give the
 * canonical text that identifies a configuration; json_line can.
 */
#include "json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable string for json_line. */
struct jbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jb_str(struct jbuf *b, const char *s)
{
    jb_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc) {
            jb_put(b, run, (size_t)(s - run));
            jb_put(b, esc, strlen(esc));
            run = s + 1;
        }
    }
    jb_put(b, run, (size_t)(s - run));
    jb_put(b, "\"", 1);
}

static void jb_value(struct jbuf *b, const cJSON *v, int depth)
{
    char num[40];
    if (depth > 1000) { /* cJSON's own nesting limit is lower; never reached */
        b->failed = true;
        return;
    }
    if (cJSON_IsNumber(v)) {
        json_print_double(num, sizeof num, v->valuedouble);
        jb_put(b, num, strlen(num));
    } else if (cJSON_IsString(v)) {
        jb_str(b, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsTrue(v)) {
        jb_put(b, "true", 4);
    } else if (cJSON_IsFalse(v)) {
        jb_put(b, "false", 5);
    } else if (cJSON_IsRaw(v)) {
        jb_put(b, v->valuestring ? v->valuestring : "",
               v->valuestring ? strlen(v->valuestring) : 0);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        jb_put(b, obj ? "{" : "[", 1);
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child)
                jb_put(b, ",", 1);
            if (obj) {
                jb_str(b, c->string ? c->string : "");
                jb_put(b, ":", 1);
            }
            jb_value(b, c, depth + 1);
        }
        jb_put(b, obj ? "}" : "]", 1);
    } else {
        jb_put(b, "null", 4);
    }
}

char *json_line(const cJSON *v)
{
    if (!v)
        return NULL;
    struct jbuf b = {0};
    jb_value(&b, v, 0);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Turn every number under v (v's items, at any depth) into raw text from json_print_double. */
static bool numbers_exact(cJSON *v)
{
    for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsNumber(c)) {
            char buf[40];
            json_print_double(buf, sizeof buf, c->valuedouble);
            char *t = strdup(buf);
            if (!t)
                return false;
            c->type = (c->type & ~0xFF) | cJSON_Raw;
            c->valuestring = t;
        } else if (!numbers_exact(c)) {
            return false;
        }
    }
    return true;
}

char *json_print_exact(const cJSON *v, bool formatted)
{
    if (!v)
        return NULL;
    if (cJSON_IsNumber(v)) {
        char buf[40];
        json_print_double(buf, sizeof buf, v->valuedouble);
        return strdup(buf);
    }
    cJSON *copy = cJSON_Duplicate(v, true);
    char *text = NULL;
    if (copy && numbers_exact(copy))
        text = formatted ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    return text;
}

bool json_is_int(const cJSON *v, int64_t *out)
{
    if (!v || !cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    /* -2^63 is exact in double; 2^63 is not an int64. */
    if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return false;
    if (out)
        *out = (int64_t)d;
    return true;
}

const char *json_type_name(const cJSON *v)
{
    if (!v)
        return "nothing";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsArray(v))
        return "a list";
    if (cJSON_IsObject(v))
        return "an object";
    return "an invalid value";
}

int json_print_double(char *buf, size_t n, double d)
{
    if (!isfinite(d))
        return snprintf(buf, n, "null");
    if (d == 0)
        return snprintf(buf, n, "0"); /* also -0: JSON readers disagree on "-0" */
    if (d == floor(d) && fabs(d) <= 9007199254740992.0)
        return snprintf(buf, n, "%.0f", d);
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    return snprintf(buf, n, "%s", tmp);
}

cJSON *json_double(double d)
{
    if (!isfinite(d))
        return cJSON_CreateNull();
    return cJSON_CreateNumber(d == 0 ? 0.0 : d);
}

const char *json_brief(const cJSON *v, char *buf, size_t n)
{
    if (n == 0)
        return buf;
    buf[0] = '\0';
    if (!v) {
        snprintf(buf, n, "nothing");
        return buf;
    }
    char *s = NULL;
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) {
        snprintf(buf, n, "%s", isnan(v->valuedouble) ? "nan" : v->valuedouble > 0 ? "inf" : "-inf");
        return buf;
    }
    s = cJSON_PrintUnformatted(v);
    if (!s) {
        snprintf(buf, n, "%s", json_type_name(v));
        return buf;
    }
    size_t len = strlen(s), lim = n - 1 < 60 ? n - 1 : 60;
    if (len > lim && lim > 3) {
        memcpy(buf, s, lim - 3);
        memcpy(buf + lim - 3, "...", 4);
    } else {
        snprintf(buf, n, "%s", s);
    }
    free(s);
    return buf;
}

cJSON *json_get(const cJSON *obj, const char *key)
{
    if (!obj || !cJSON_IsObject(obj))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

size_t json_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) /* names are short; long input is never a typo of one */
        return la > lb ? la : lb;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *json_suggest(const char *key, const char *const *candidates)
{
    if (!key || !candidates)
        return NULL;
    size_t len = strlen(key);
    size_t limit = len >= 8 ? 3 : 2;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    bool tie = false;
    for (size_t i = 0; candidates[i]; i++) {
        size_t d = json_edit_distance(key, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
            tie = false;
        } else if (d == best_d) {
            tie = true;
        }
    }
    if (best && !tie && best_d <= limit && best_d < len)
        return best;
    return NULL;
}

void json_add_num(cJSON *obj, const char *key, double v)
{
    cJSON_AddItemToObject(obj, key, json_double(v));
}

void json_add_int(cJSON *obj, const char *key, int64_t v)
{
    cJSON_AddNumberToObject(obj, key, (double)v);
}

void json_add_time(cJSON *obj, const char *key, double t)
{
    if (isnan(t))
        cJSON_AddNullToObject(obj, key);
    else
        cJSON_AddNumberToObject(obj, key, floor(t));
}

long json_find_comment(const char *text, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '/' && i + 1 < len && (text[i + 1] == '/' || text[i + 1] == '*')) {
            return (long)i;
        }
    }
    return -1;
}

#define JSON__COMMENT_HINT "JSON does not allow comments; remove them"

struct cJSON *json_parse_one(const char *text, size_t len, size_t *where, const char **why)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!v) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
        long cm = json_find_comment(text, len);
        if (cm >= 0 && (size_t)cm <= at) {
            *where = (size_t)cm;
            *why = "not valid JSON (" JSON__COMMENT_HINT ")";
        } else {
            *where = at;
            *why = "not valid JSON";
        }
        return NULL;
    }
    size_t i = (size_t)(end - text);
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i == len)
        return v;
    cJSON_Delete(v);
    *where = i;
    if (text[i] == '/' && i + 1 < len && (text[i + 1] == '/' || text[i + 1] == '*'))
        *why = "text after the JSON value: a comment (" JSON__COMMENT_HINT ")";
    else
        *why = "text after the JSON value (only one value is allowed)";
    return NULL;
}

void json_line_col(const char *text, size_t at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}
