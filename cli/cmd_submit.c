/*
 * submit — validate a grid file locally, then queue it in mlpd.
 *
 * The file is parsed and expanded here first with the same grid module the
 * daemon uses, so a typo is reported at once with the exact place
 * (`grid.json: grid.lr[1]: expected a number > 0, got "fast"`, exit 4)
 * without a daemon round trip; mlpd validates again (datasets included) when
 * it receives the grid.  The request carries the grid document unchanged,
 * the absolute directory relative dataset paths refer to, and the sweep name
 * decided here (--name, else the file's "name", else its base name).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "err.h"
#include "grid.h"
#include "json.h"
#include "names.h"
#include "prune.h"
#include "race.h"
#include "table.h"

#define SUBMIT_FIRST 5              /* configurations shown by --dry-run */
#define SUBMIT_MAX_FILE (64u << 20) /* grid files are small; refuse anything absurd */

/* Read a whole stream; NULL with errno on failure.  *len gets the size. */
static char *read_stream(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return NULL;
    for (;;) {
        if (n == cap) {
            if (cap >= SUBMIT_MAX_FILE) {
                free(buf);
                errno = EFBIG;
                return NULL;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                free(buf);
                errno = EIO;
                return NULL;
            }
            break;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* "configs/fashion-reg.json" → "fashion-reg". */
static void base_name(char *buf, size_t n, const char *path)
{
    const char *slash = strrchr(path, '/');
    snprintf(buf, n, "%s", slash ? slash + 1 : path);
    size_t l = strlen(buf);
    if (l > 5 && strcmp(buf + l - 5, ".json") == 0)
        buf[l - 5] = '\0';
}

/* The absolute directory holding path (the file itself must exist). */
static int dir_of(char *buf, size_t n, const char *path)
{
    char *abs = realpath(path, NULL);
    if (!abs)
        return -1;
    char *slash = strrchr(abs, '/');
    if (slash == abs)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    snprintf(buf, n, "%s", abs);
    free(abs);
    return 0;
}

/* A local failure: one line on stderr, an error document with --json. */
static int local_error(struct cli *cli, int rc, const char *label, const char *code,
                       const char *path, const char *msg)
{
    if (path && *path && strncmp(msg, path, strlen(path)) != 0)
        fprintf(stderr, "%s: %s: %s\n", label, path, msg);
    else
        fprintf(stderr, "%s: %s\n", label, msg);
    if (cli->json)
        cmd_print_error_json(code, msg, path && *path ? path : NULL);
    return rc;
}

/* Human lines for the first configurations of a local expansion (all: every one). */
static void print_first(const struct grid *g, bool all)
{
    size_t n = grid_n_configs(g), show = all || n < SUBMIT_FIRST ? n : SUBMIT_FIRST;
    if (grid_n_keys(g) == 0) {
        printf("one configuration (no grid keys vary)\n");
        return;
    }
    printf(all ? "configurations:\n" : "first configurations:\n");
    for (size_t i = 0; i < show; i++) {
        cJSON *v = grid_config_varying(g, i);
        char cfg[1024], line[TABLE_WIDTH * 4];
        resp_fmt_config(cfg, sizeof cfg, v);
        table_elide(line, sizeof line, cfg, TABLE_WIDTH - 8);
        printf("  %3zu  %s\n", i + 1, line);
        cJSON_Delete(v);
    }
    if (n > show)
        printf("  ...  and %zu more\n", n - show);
}

/*
 * Every configuration of a local expansion, in the "first" shape.  The
 * expansion (search points included) is a pure function of the file, so it
 * is exactly what mlpd stores.  NULL on ENOMEM.
 */
static cJSON *all_configs(const struct grid *g, size_t max)
{
    cJSON *arr = cJSON_CreateArray();
    size_t n = grid_n_configs(g);
    for (size_t i = 0; arr && i < n && i < max; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "id", (double)(i + 1));
        cJSON_AddItemToObject(c, "params", grid_config_params(g, i));
        cJSON_AddItemToObject(c, "grid", grid_config_varying(g, i));
        cJSON_AddItemToArray(arr, c);
    }
    return arr;
}

/* --json dry run without a daemon: the same keys as mlpd's dry-run answer. */
static void print_local_json(const struct grid *g, const char *name, bool all)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddNumberToObject(doc, "trials", (double)(grid_n_configs(g) * grid_n_first_seeds(g)));
    cJSON_AddNumberToObject(doc, "configs", (double)grid_n_configs(g));
    cJSON_AddNumberToObject(doc, "seeds", (double)grid_n_first_seeds(g));
    if (grid_race(g) || grid_confirm(g))
        cJSON_AddNumberToObject(doc, "trials_max", (double)grid_n_trials_max(g));
    cJSON_AddItemToObject(doc, "first", all_configs(g, all ? (size_t)-1 : SUBMIT_FIRST));
    cJSON_AddBoolToObject(doc, "checked_by_daemon", false);
    cli_print_json(doc);
    cJSON_Delete(doc);
}

/* A grid file read into memory, with what the daemon needs to know of where it came from. */
struct grid_src {
    const char *label;       /* how errors name it: the path, or "<stdin>" */
    char *text;              /* its contents (owned), NULL until read */
    size_t len;              /* bytes in text */
    char base_dir[PATH_MAX]; /* relative dataset paths are resolved here */
    char default_name[256];  /* the sweep name when neither --name nor the grid gives one */
};

/* Read FILE ('-': standard input) into src.  Returns CLI_OK, or the exit code (printed). */
static int read_grid(struct cli *cli, const char *file, struct grid_src *src)
{
    char msg[1024];
    bool is_stdin = strcmp(file, "-") == 0;
    src->label = is_stdin ? "<stdin>" : file;
    if (is_stdin) {
        if (!getcwd(src->base_dir, sizeof src->base_dir)) {
            snprintf(msg, sizeof msg, "cannot get the current directory: %s", strerror(errno));
            return local_error(cli, CLI_FAILED, "mlpctl submit", "io", NULL, msg);
        }
        src->text = read_stream(stdin, &src->len);
        snprintf(src->default_name, sizeof src->default_name, "stdin");
    } else {
        FILE *f = fopen(file, "rb");
        if (f) {
            src->text = read_stream(f, &src->len);
            fclose(f);
        }
        base_name(src->default_name, sizeof src->default_name, file);
        if (src->text && dir_of(src->base_dir, sizeof src->base_dir, file) != 0) {
            free(src->text);
            src->text = NULL;
        }
    }
    if (!src->text) {
        snprintf(msg, sizeof msg, "cannot read the grid file: %s", strerror(errno));
        return local_error(cli, CLI_INVALID, src->label, "io", NULL, msg);
    }
    return CLI_OK;
}

static char *count_text(char *buf, size_t n, double configs, double seeds, double trials);

/*
 * Parse and validate the grid text as mlpd will (grid_parse): *doc the JSON
 * (caller deletes), *g the expanded grid (caller frees).  Returns CLI_OK or
 * the exit code (printed).
 */
static int check_grid(struct cli *cli, const struct grid_src *src, bool force, cJSON **doc,
                      struct grid **g)
{
    char msg[1024];
    struct err e = ERR_INIT;
    size_t where;
    const char *why;
    *doc = json_parse_one(src->text, src->len, &where, &why);
    if (!*doc) {
        int line, col;
        json_line_col(src->text, where, &line, &col);
        snprintf(msg, sizeof msg, "line %d, column %d: %s", line, col, why);
        return local_error(cli, CLI_INVALID, src->label, "invalid_grid", NULL, msg);
    }
    if (!cJSON_IsObject(*doc)) {
        snprintf(msg, sizeof msg, "expected a JSON object, got %s", json_type_name(*doc));
        return local_error(cli, CLI_INVALID, src->label, "invalid_grid", NULL, msg);
    }
    struct grid_opts go = {
        .default_name = src->default_name,
        .base_dir = src->base_dir,
        .max_trials = 0,
        .force = force,
    };
    int grc = grid_parse(*doc, &go, g, &e);
    if (grc == MLP_ETOO_LARGE && !force) {
        /* The expansion stopped at the limit: count the real size (up to the hard
           limit) so the message, dry run included, says how large it is. */
        struct grid *full = NULL;
        struct err fe = ERR_INIT;
        go.force = true;
        if (grid_parse(*doc, &go, &full, &fe) == 0) {
            char cb[256];
            /* mlpd's own ceiling (its max_trials) is unknown here: past its default,
               --force alone is not enough. */
            bool past = grid_n_trials(full) > (size_t)GRID_DEFAULT_CEILING;
            snprintf(msg, sizeof msg,
                     "the grid expands to %s, more than the limit of %ld trials; %s",
                     count_text(cb, sizeof cb, (double)grid_n_configs(full),
                                (double)grid_n_seeds(full), (double)grid_n_trials(full)),
                     GRID_DEFAULT_MAX_TRIALS,
                     past ? "mlpd refuses it even with --force unless its max_trials "
                            "(mlpd.conf, default 1000000) is raised to that"
                          : "pass --force to queue it anyway");
            grid_free(full);
            return local_error(cli, CLI_INVALID, src->label, err_name(grc), e.path, msg);
        }
        /* Over the hard limit too: that message (fe) says what is accepted at most. */
        e = fe;
    }
    if (grc != 0) {
        if (grc == MLP_ETOO_LARGE)
            snprintf(msg, sizeof msg, "%s", e.msg); /* it says whether --force helps */
        else
            snprintf(msg, sizeof msg, "%s", e.msg[0] ? e.msg : err_default_msg(grc));
        return local_error(cli, grc == MLP_ENOMEM ? CLI_FAILED : CLI_INVALID, src->label,
                           err_name(grc), e.path, msg);
    }
    return CLI_OK;
}

int cmd_grid_load(struct cli *cli, const char *file, bool force, struct grid **g)
{
    struct grid_src src = {0};
    cJSON *doc = NULL;
    *g = NULL;
    int rc = read_grid(cli, file, &src);
    if (rc == CLI_OK)
        rc = check_grid(cli, &src, force, &doc, g);
    cJSON_Delete(doc);
    free(src.text);
    return rc;
}

/* What `submit` asked for beyond the file. */
struct submit_opts {
    const char *name; /* --name, or NULL */
    bool have_priority;
    long priority; /* --priority when have_priority */
    bool dry_run;  /* --dry-run */
    bool all;      /* --all: the dry run lists every configuration */
    bool force;    /* --force */
};

/* The submit request; takes ownership of doc.  NULL on ENOMEM. */
static cJSON *submit_req(cJSON *doc, const struct grid_src *src, const struct submit_opts *o)
{
    cJSON *req = cmd_req("submit");
    if (!req) {
        cJSON_Delete(doc);
        return NULL;
    }
    cJSON_AddItemToObject(req, "grid", doc);
    cJSON_AddStringToObject(req, "base_dir", src->base_dir);
    /* Only --name is binding; otherwise mlpd derives a free name from the
       grid's "name" or the file's base name (adding -2, -3, ...). */
    if (o->name)
        cJSON_AddStringToObject(req, "name", o->name);
    else
        cJSON_AddStringToObject(req, "default_name", src->default_name);
    if (o->have_priority)
        cJSON_AddNumberToObject(req, "priority", (double)o->priority);
    if (o->dry_run)
        cJSON_AddBoolToObject(req, "dry_run", true);
    if (o->force)
        cJSON_AddBoolToObject(req, "force", true);
    return req;
}

/* "1 configuration × 3 seeds = 3 trials", each noun in its number. */
static char *count_text(char *buf, size_t n, double configs, double seeds, double trials)
{
    char c[64], s[64], t[64];
    snprintf(buf, n, "%s × %s = %s", resp_fmt_count(c, sizeof c, configs, "configuration", NULL),
             resp_fmt_count(s, sizeof s, seeds, "seed", NULL),
             resp_fmt_count(t, sizeof t, trials, "trial", NULL));
    return buf;
}

/*
 * What racing and confirmation add to a submit (common/race.h): which seeds
 * run first, which may follow and on what rule, and what runs at the end.
 */
static void print_adaptive(const struct grid *g)
{
    const struct race *ra = grid_race(g);
    const struct race_confirm *co = grid_confirm(g);
    const struct prune *pr = grid_prune(g);
    char t[64];
    if (ra && ra->max > ra->min)
        printf("racing on seeds: every configuration runs seeds 1..%lld first; one still tied "
               "with the best (one-sided paired t-test over shared seeds, alpha %g) gets seeds "
               "%lld..%lld one at a time until it separates or reaches %lld seeds\n",
               (long long)ra->min, pr ? pr->alpha : RACE_ALPHA, (long long)ra->min + 1,
               (long long)ra->max, (long long)ra->max);
    if (co)
        printf("confirmation: when the search ends, the top %lld configurations run again on "
               "%lld fresh seeds (%lld..%lld), never used in selection\n",
               (long long)co->top, (long long)co->seeds,
               (long long)race_confirm_seed(grid_max_seed(g), 0),
               (long long)race_confirm_seed(grid_max_seed(g), co->seeds - 1));
    if (ra || co)
        printf("at most %s\n",
               resp_fmt_count(t, sizeof t, (double)grid_n_trials_max(g), "trial", NULL));
}

/* The human answer to a submit (or its dry run) from mlpd's response. */
static void print_submitted(const cJSON *resp, const struct grid *g, const char *sweep_name,
                            bool dry_run, bool all)
{
    char cb[256];
    double trials = resp_num(resp, "trials"), configs = resp_num(resp, "configs");
    if (!isfinite(trials))
        trials = (double)(grid_n_configs(g) * grid_n_first_seeds(g));
    if (!isfinite(configs))
        configs = (double)grid_n_configs(g);
    if (dry_run) {
        /* mlpd's answer has the name the sweep would really get (base-2 when base is taken). */
        sweep_name = resp_str(resp, "name", sweep_name);
        printf("%s: %s (dry run, nothing queued)\n", sweep_name,
               count_text(cb, sizeof cb, configs, (double)grid_n_first_seeds(g), trials));
        print_adaptive(g);
        print_first(g, all);
    } else {
        const cJSON *s = json_get(resp, "sweep");
        const cJSON *nm = json_get(s, "name");
        printf("submitted sweep %.0f \"%s\": %s\n", resp_num(s, "id"),
               cJSON_IsString(nm) ? nm->valuestring : sweep_name,
               count_text(cb, sizeof cb, configs, (double)grid_n_first_seeds(g), trials));
        print_adaptive(g);
    }
}

int cmd_submit(struct cli *cli, int argc, char **argv)
{
    struct submit_opts o = {0};
    const char *priority_text = NULL;
    struct opt opts[] = {
        {"name", OPT_STRING, &o.name},     {"priority", OPT_STRING, &priority_text},
        {"dry-run", OPT_FLAG, &o.dry_run}, {"all", OPT_FLAG, &o.all},
        {"force", OPT_FLAG, &o.force},     {NULL, 0, NULL},
    };
    const char *file;
    int rc = cmd_parse_one(argc, argv, opts, "a grid file (or '-' for standard input)", &file);
    if (rc != CLI_OK)
        return rc;
    if (priority_text) {
        char *end;
        errno = 0;
        o.priority = strtol(priority_text, &end, 10);
        if (errno || end == priority_text || *end || !priority_valid(o.priority))
            return cli_usage(argv[0], "--priority expects an integer in %d..%d, got '%s'",
                             PRIORITY_MIN, PRIORITY_MAX, priority_text);
        o.have_priority = true;
    }
    if (o.all && !o.dry_run)
        return cli_usage(argv[0], "--all lists configurations of a --dry-run; add --dry-run");
    struct err ne = ERR_INIT;
    if (o.name && name_valid(o.name, NAME_FINAL, MLP_EINVALID_REQUEST, "--name", &ne) < 0)
        return cli_usage(argv[0], "--name: %s", ne.msg);

    struct grid_src src = {0};
    cJSON *doc = NULL, *resp = NULL;
    struct grid *g = NULL;
    if ((rc = read_grid(cli, file, &src)) != CLI_OK ||
        (rc = check_grid(cli, &src, o.force, &doc, &g)) != CLI_OK)
        goto out;
    char derived[NAME_MAX_BYTES + 1];
    const char *sweep_name =
        o.name ? o.name : name_derive(derived, sizeof derived, grid_name(g), 1);

    if (o.dry_run && !cli_reachable(cli)) {
        /* Still useful without a daemon: the expansion is the same one mlpd does. */
        fprintf(stderr, "mlpctl: mlpd is not reachable at %s; datasets were not checked\n",
                cli->socket_path);
        if (cli->json) {
            print_local_json(g, sweep_name, o.all);
        } else {
            char cb[256];
            printf("%s: %s (dry run, nothing queued)\n", sweep_name,
                   count_text(cb, sizeof cb, (double)grid_n_configs(g),
                              (double)grid_n_first_seeds(g),
                              (double)(grid_n_configs(g) * grid_n_first_seeds(g))));
            print_adaptive(g);
            print_first(g, o.all);
        }
        rc = CLI_OK;
        goto out;
    }

    cJSON *req = submit_req(doc, &src, &o);
    doc = NULL; /* owned by req now (or freed) */
    rc = cmd_request(cli, req, &resp, src.label);
    if (rc != CLI_OK)
        goto out;
    if (cli->json && o.all) {
        /* mlpd sends the first few; the local expansion is the same, in full. */
        cJSON *all = all_configs(g, (size_t)-1);
        if (all)
            cJSON_ReplaceItemInObjectCaseSensitive(resp, "first", all);
    }
    if (cli->json)
        cmd_print_resp(cli, resp, rc);
    else
        print_submitted(resp, g, sweep_name, o.dry_run, o.all);
out:
    cJSON_Delete(resp);
    cJSON_Delete(doc);
    grid_free(g);
    free(src.text);
    return rc;
}
