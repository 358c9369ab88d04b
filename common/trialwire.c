/*
 * trialwire — the mlpd <-> mlp-worker line protocol (see trialwire.h).
 *
 * Lines are written with a small growing buffer (numbers in their shortest
 * round-trip form through json_print_double, strings through cJSON's
 * escaping) and read with cJSON.  Reading never trusts a member's type: a
 * value of the wrong type reads as absent.
 */
#include "trialwire.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

_Static_assert(MLP_M_N <= 64, "struct trial_event's has mask holds one bit per metric");

/* ---- a growing line ------------------------------------------------------ */

struct wbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void w_put(struct wbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (b->len + n + 1 > c)
            c *= 2;
        char *p = realloc(b->p, c);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = c;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void w_str(struct wbuf *b, const char *s)
{
    w_put(b, s, strlen(s));
}

static void w_fmt(struct wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_fmt(struct wbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        w_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ,"key":number (null when not finite) */
static void w_num(struct wbuf *b, const char *key, double v)
{
    char num[64];
    json_print_double(num, sizeof num, v);
    w_fmt(b, ",\"%s\":%s", key, num);
}

/* A JSON string, escaped by cJSON. */
static void w_quoted(struct wbuf *b, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *q = j ? cJSON_PrintUnformatted(j) : NULL;
    if (q)
        w_str(b, q);
    else
        b->oom = true;
    free(q);
    cJSON_Delete(j);
}

/* The finished line, or NULL (and nothing leaked) when memory ran out. */
static char *w_done(struct wbuf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    return b->p;
}

/* ---- spec ---------------------------------------------------------------- */

int trialwire_spec_init(struct trial_spec *s, const char *dataset_json, const char *params_json,
                        int64_t seed, int64_t trial, const char *artifacts_dir, struct err *e)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->trial = trial;
    if (artifacts_dir)
        snprintf(s->artifacts_dir, sizeof s->artifacts_dir, "%s", artifacts_dir);
    cJSON *p = cJSON_Parse(params_json), *d = cJSON_Parse(dataset_json);
    int rc;
    if (!p || !d)
        rc = err_set(e, MLP_EINVALID_SPEC, p ? "dataset" : "params", "stored text is not JSON");
    else if ((rc = hparams_from_json(&s->hp, p, "params", e)) == 0)
        rc = ds_spec_parse(&s->ds, d, "dataset", "/", e);
    cJSON_Delete(p);
    cJSON_Delete(d);
    return rc;
}

char *trialwire_spec_write(const struct trial_spec *s, struct err *e)
{
    cJSON *ds = ds_spec_to_json(&s->ds), *hp = hparams_to_json(&s->hp);
    char *dtext = ds ? json_line(ds) : NULL, *ptext = hp ? json_line(hp) : NULL;
    struct wbuf b = {0};
    if (dtext && ptext) {
        w_str(&b, "{\"dataset\":");
        w_str(&b, dtext);
        w_fmt(&b, ",\"seed\":%lld,\"params\":", (long long)s->seed);
        w_str(&b, ptext);
        if (s->trial)
            w_fmt(&b, ",\"trial\":%lld", (long long)s->trial);
        if (s->artifacts_dir[0]) {
            w_str(&b, ",\"artifacts_dir\":");
            w_quoted(&b, s->artifacts_dir);
        }
        w_str(&b, "}");
    } else {
        b.oom = true;
    }
    free(dtext);
    free(ptext);
    cJSON_Delete(ds);
    cJSON_Delete(hp);
    char *line = w_done(&b);
    if (!line)
        err_set(e, MLP_ENOMEM, NULL, "out of memory writing the trial spec");
    return line;
}

/* Check the top level of the spec; fills the three parts (borrowed from root). */
static int check_top(const cJSON *root, const cJSON **dataset, const cJSON **params,
                     struct trial_spec *s, struct err *e)
{
    static const char *const keys[] = {"dataset", "seed", "params", "trial", "artifacts_dir", NULL};
    char brief[96];
    if (!cJSON_IsObject(root))
        return err_set(e, MLP_EINVALID_SPEC, NULL, "expected a JSON object, got %s",
                       json_type_name(root));
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        bool known = false;
        for (int k = 0; keys[k]; k++)
            known |= strcmp(it->string, keys[k]) == 0;
        if (!known) {
            const char *sug = json_suggest(it->string, keys);
            if (!sug && hparams_is_key(it->string))
                return err_set(e, MLP_EINVALID_SPEC, it->string,
                               "unknown key (hyperparameters go in \"params\")");
            if (sug)
                return err_set(e, MLP_EINVALID_SPEC, it->string,
                               "unknown key (did you mean \"%s\"?)", sug);
            return err_set(e, MLP_EINVALID_SPEC, it->string, "unknown key");
        }
        for (const cJSON *p = root->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return err_set(e, MLP_EINVALID_SPEC, it->string, "duplicate key");
    }
    *dataset = json_get(root, "dataset");
    if (!*dataset)
        return err_set(e, MLP_EINVALID_SPEC, "dataset", "missing (a name or an object)");
    *params = json_get(root, "params");
    const cJSON *sd = json_get(root, "seed");
    s->seed = 1;
    if (sd && !json_is_int(sd, &s->seed))
        return err_set(e, MLP_EINVALID_SPEC, "seed", "expected an integer, got %s",
                       json_brief(sd, brief, sizeof brief));
    const cJSON *adir = json_get(root, "artifacts_dir");
    if (adir && (!cJSON_IsString(adir) || !adir->valuestring[0] ||
                 strlen(adir->valuestring) >= sizeof s->artifacts_dir))
        return err_set(e, MLP_EINVALID_SPEC, "artifacts_dir",
                       "expected a directory path (a non-empty string), got %s",
                       json_brief(adir, brief, sizeof brief));
    if (adir)
        snprintf(s->artifacts_dir, sizeof s->artifacts_dir, "%s", adir->valuestring);
    const cJSON *t = json_get(root, "trial");
    if (t && !json_is_int(t, &s->trial))
        return err_set(e, MLP_EINVALID_SPEC, "trial", "expected an integer, got %s",
                       json_brief(t, brief, sizeof brief));
    return 0;
}

int trialwire_spec_read(struct trial_spec *s, const char *text, size_t len, const char *base_dir,
                        struct err *e)
{
    memset(s, 0, sizeof *s);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    const cJSON *jdataset = NULL, *jparams = NULL;
    char cwd[PATH_MAX];
    int rc;
    /* Nothing but white space may follow the object. */
    while (root && end && end < text + len && (unsigned char)*end <= 32)
        end++;
    if (!root || (end && end < text + len)) {
        rc = err_set(e, MLP_EINVALID_SPEC, NULL, "the spec is not one valid JSON object");
        goto out;
    }
    if ((rc = check_top(root, &jdataset, &jparams, s, e)) < 0)
        goto out;
    if ((rc = hparams_from_json(&s->hp, jparams, "params", e)) < 0)
        goto out;
    if (!base_dir) {
        if (!getcwd(cwd, sizeof cwd))
            strcpy(cwd, ".");
        base_dir = cwd;
    }
    rc = ds_spec_parse(&s->ds, jdataset, "dataset", base_dir, e);
out:
    cJSON_Delete(root);
    return rc;
}

/* ---- events: reading ----------------------------------------------------- */

/* A number member, NaN when absent, null or not a number (true/false read 1/0). */
static double ev_num(const cJSON *ev, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1 : 0;
    return NAN;
}

/* A string member into out (size n), "" when absent or not a string. */
static void ev_str(const cJSON *ev, const char *key, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, key);
    snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* A K x K matrix of non-negative integer counts, or 0 (not one) / MLP_ENOMEM. */
static int confusion_from(const cJSON *c, int *k, int64_t **counts)
{
    int n = cJSON_GetArraySize(c);
    *counts = NULL;
    *k = 0;
    if (!cJSON_IsArray(c) || n < 1 || n > TRIALWIRE_MAX_CLASSES)
        return 0;
    int64_t *m = malloc((size_t)n * (size_t)n * sizeof *m);
    if (!m)
        return MLP_ENOMEM;
    const cJSON *row, *x;
    int i = 0;
    cJSON_ArrayForEach(row, c)
    {
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != n)
            goto bad;
        int j = 0;
        cJSON_ArrayForEach(x, row)
        {
            if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= 1e15) ||
                x->valuedouble != floor(x->valuedouble))
                goto bad;
            m[(size_t)i * (size_t)n + (size_t)j++] = (int64_t)x->valuedouble;
        }
        i++;
    }
    *k = n;
    *counts = m;
    return 0;
bad:
    free(m);
    return 0;
}

static void read_metrics(const cJSON *o, struct trial_event *ev, bool epoch_only)
{
    for (int m = 0; m < MLP_M_N; m++) {
        if (epoch_only && !metric_info(m)->per_epoch)
            continue;
        if (cJSON_GetObjectItemCaseSensitive(o, metric_name(m)))
            ev->has |= (uint64_t)1 << m;
        ev->v[m] = ev_num(o, metric_name(m));
    }
}

static int read_result(const cJSON *o, struct trial_event *ev)
{
    read_metrics(o, ev, false);
    for (int m = 0; m < MLP_M_N; m++) {
        enum metric_kind k = metric_info(m)->kind;
        if ((k == METRIC_COUNT || k == METRIC_FLAG) && !(fabs(ev->v[m]) <= 1e15))
            ev->v[m] = NAN;
    }
    if (isnan(ev->v[MLP_M_DIVERGED]))
        ev->v[MLP_M_DIVERGED] = 0;
    const cJSON *nz = cJSON_GetObjectItemCaseSensitive(o, "normalize");
    if (cJSON_IsString(nz) && strlen(nz->valuestring) < sizeof ev->normalize)
        snprintf(ev->normalize, sizeof ev->normalize, "%s", nz->valuestring);
    const cJSON *a, *arts = cJSON_GetObjectItemCaseSensitive(o, "artifacts");
    if (!cJSON_IsArray(arts))
        arts = NULL;
    cJSON_ArrayForEach(a, arts)
    {
        if (cJSON_IsString(a) && strlen(a->valuestring) < sizeof ev->artifacts[0] &&
            ev->n_artifacts < TRIALWIRE_MAX_ARTIFACTS)
            snprintf(ev->artifacts[ev->n_artifacts++], sizeof ev->artifacts[0], "%s",
                     a->valuestring);
    }
    return confusion_from(cJSON_GetObjectItemCaseSensitive(o, "confusion"), &ev->n_classes,
                          &ev->confusion);
}

void trialwire_event_init(struct trial_event *ev, enum trial_event_kind k)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = k;
    for (int m = 0; m < MLP_M_N; m++)
        ev->v[m] = NAN;
    ev->iteration = -1;
    ev->lr = NAN;
}

void trialwire_event_release(struct trial_event *ev)
{
    if (!ev)
        return;
    free(ev->confusion);
    ev->confusion = NULL;
    ev->n_classes = 0;
}

int trialwire_event_read(const char *line, size_t len, struct trial_event *ev)
{
    trialwire_event_init(ev, TRIAL_EV_NONE);
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *kind = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "event") : NULL;
    int rc = 0;
    if (!cJSON_IsString(kind)) {
        cJSON_Delete(o);
        return TRIAL_EV_NONE;
    }
    ev->kind = TRIAL_EV_OTHER;
    if (strcmp(kind->valuestring, "epoch") == 0) {
        /* Casting an out-of-range double to int64_t is undefined: check first. */
        double k = ev_num(o, "epoch"), it = ev_num(o, "iteration");
        if (!isnan(k) && k >= 1 && k <= 1e9 && k == floor(k)) {
            ev->kind = TRIAL_EV_EPOCH;
            ev->epoch = (int64_t)k;
            if (it >= 0 && it <= 1e15 && it == floor(it))
                ev->iteration = (int64_t)it;
            ev->lr = ev_num(o, "lr");
            read_metrics(o, ev, true);
        }
    } else if (strcmp(kind->valuestring, "result") == 0) {
        ev->kind = TRIAL_EV_RESULT;
        rc = read_result(o, ev);
    } else if (strcmp(kind->valuestring, "heartbeat") == 0) {
        ev->kind = TRIAL_EV_HEARTBEAT;
        if (cJSON_GetObjectItemCaseSensitive(o, metric_name(MLP_M_SECONDS)))
            ev->has |= (uint64_t)1 << MLP_M_SECONDS;
        ev->v[MLP_M_SECONDS] = ev_num(o, metric_name(MLP_M_SECONDS));
    } else if (strcmp(kind->valuestring, "error") == 0) {
        ev->kind = TRIAL_EV_ERROR;
        ev_str(o, "code", ev->code, sizeof ev->code);
        ev_str(o, "message", ev->message, sizeof ev->message);
        ev_str(o, "path", ev->path, sizeof ev->path);
    }
    cJSON_Delete(o);
    if (rc < 0) {
        trialwire_event_release(ev);
        return rc;
    }
    return (int)ev->kind;
}

double trialwire_epoch_lr(const struct trial_event *ev)
{
    return ev->lr > 0 && isfinite(ev->lr) ? ev->lr : NAN;
}

/* ---- events: writing ----------------------------------------------------- */

/* A flag that is 0 or 1 as false/true; any other number as itself, so reading gives it back. */
static void write_metric(struct wbuf *b, int m, double v)
{
    const struct metric_info *mi = metric_info(m);
    if (mi->kind == METRIC_FLAG && (v == 0 || v == 1))
        w_fmt(b, ",\"%s\":%s", mi->name, v == 1 ? "true" : "false");
    else
        w_num(b, mi->name, v); /* whole numbers (counts) print without a fraction */
}

/* The metrics in has: the three splits in order, then the rest, each in map order. */
static void write_metrics(struct wbuf *b, const struct trial_event *ev, bool splits)
{
    static const enum metric_split order[] = {METRIC_TRAIN, METRIC_VAL, METRIC_TEST};
    for (int s = 0; s < 3; s++)
        for (int m = 0; splits && m < MLP_M_N; m++)
            if ((ev->has >> m & 1) && metric_info(m)->split == order[s])
                write_metric(b, m, ev->v[m]);
    for (int m = 0; !splits && m < MLP_M_N; m++)
        if ((ev->has >> m & 1) && metric_info(m)->split == METRIC_NONE)
            write_metric(b, m, ev->v[m]);
}

static void write_confusion(struct wbuf *b, int k, const int64_t *c)
{
    w_str(b, "[");
    for (int i = 0; i < k; i++) {
        w_str(b, i ? ",[" : "[");
        for (int j = 0; j < k; j++)
            w_fmt(b, "%s%lld", j ? "," : "", (long long)c[(size_t)i * (size_t)k + (size_t)j]);
        w_str(b, "]");
    }
    w_str(b, "]");
}

char *trialwire_event_write(const struct trial_event *ev)
{
    struct wbuf b = {0};
    switch (ev->kind) {
    case TRIAL_EV_EPOCH:
        w_fmt(&b, "{\"event\":\"epoch\",\"epoch\":%lld", (long long)ev->epoch);
        if (ev->iteration >= 0)
            w_fmt(&b, ",\"iteration\":%lld", (long long)ev->iteration);
        write_metrics(&b, ev, true);
        if (!isnan(ev->lr))
            w_num(&b, "lr", ev->lr);
        write_metrics(&b, ev, false);
        break;
    case TRIAL_EV_RESULT:
        w_str(&b, "{\"event\":\"result\"");
        write_metrics(&b, ev, true);
        write_metrics(&b, ev, false);
        if (ev->normalize[0]) {
            w_str(&b, ",\"normalize\":");
            w_quoted(&b, ev->normalize);
        }
        if (ev->n_classes > 0 && ev->confusion) {
            double *acc = malloc((size_t)ev->n_classes * sizeof *acc);
            if (!acc) {
                b.oom = true;
                break;
            }
            trialwire_class_accuracy(ev->n_classes, ev->confusion, acc);
            w_str(&b, ",\"confusion\":");
            write_confusion(&b, ev->n_classes, ev->confusion);
            w_str(&b, ",\"class_accuracy\":[");
            for (int i = 0; i < ev->n_classes; i++) {
                char num[64];
                json_print_double(num, sizeof num, acc[i]);
                w_fmt(&b, "%s%s", i ? "," : "", num);
            }
            w_str(&b, "]");
            free(acc);
        }
        if (ev->n_artifacts > 0) {
            w_str(&b, ",\"artifacts\":[");
            for (int i = 0; i < ev->n_artifacts; i++) {
                if (i)
                    w_str(&b, ",");
                w_quoted(&b, ev->artifacts[i]);
            }
            w_str(&b, "]");
        }
        break;
    case TRIAL_EV_ERROR:
        w_str(&b, "{\"event\":\"error\",\"code\":");
        w_quoted(&b, ev->code);
        w_str(&b, ",\"message\":");
        w_quoted(&b, ev->message);
        if (ev->path[0]) {
            w_str(&b, ",\"path\":");
            w_quoted(&b, ev->path);
        }
        break;
    case TRIAL_EV_HEARTBEAT:
        w_str(&b, "{\"event\":\"heartbeat\"");
        if (ev->has >> MLP_M_SECONDS & 1)
            w_num(&b, metric_name(MLP_M_SECONDS), ev->v[MLP_M_SECONDS]);
        break;
    case TRIAL_EV_NONE:
    case TRIAL_EV_OTHER:
        w_str(&b, "{\"event\":\"other\"");
        break;
    }
    w_str(&b, "}");
    return w_done(&b);
}

int trialwire_heartbeat_line(char *buf, size_t n, double seconds)
{
    char num[40];
    json_print_double(num, sizeof num, seconds);
    int k = snprintf(buf, n, "{\"event\":\"heartbeat\",\"seconds\":%s}\n", num);
    return k < 0 || (size_t)k >= n ? -1 : k;
}

/* ---- confusion matrices -------------------------------------------------- */

void trialwire_class_accuracy(int k, const int64_t *counts, double *acc)
{
    for (int i = 0; i < k; i++) {
        int64_t row = 0;
        for (int j = 0; j < k; j++)
            row += counts[(size_t)i * (size_t)k + (size_t)j];
        acc[i] = row > 0 ? (double)counts[(size_t)i * (size_t)k + (size_t)i] / (double)row : NAN;
    }
}

char *trialwire_confusion_text(int k, const int64_t *counts)
{
    struct wbuf b = {0};
    write_confusion(&b, k, counts);
    return w_done(&b);
}

int trialwire_confusion_parse(const char *text, size_t len, int *k, int64_t **counts)
{
    cJSON *c = cJSON_ParseWithLength(text, len);
    int rc = confusion_from(c, k, counts);
    cJSON_Delete(c);
    if (rc == 0 && !*counts)
        rc = MLP_EINVALID_REQUEST;
    return rc;
}
