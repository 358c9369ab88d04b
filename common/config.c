/*
 * config — default paths and the daemon's settings table.  See config.h.
 *
 * The table (config_table[]) is the single description of every setting:
 * name, type, range, default, offset into struct mlpd_config and help text.
 * config_set() parses a value by the row's type and checks its range;
 * config_load_file() and config_parse_args() only split text into key and
 * value; config_usage() prints the table.  Flag names accept '-' for '_'
 * (--max-attempts and --max_attempts are the same setting).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

enum cfg_type { CFG_PATH, CFG_INT, CFG_LONG, CFG_DOUBLE, CFG_BOOL, CFG_LEVEL, CFG_STR, CFG_EXEC };

struct cfg_row {
    const char *name;
    enum cfg_type type;
    double min, max;
    const char *def; /* default as text; NULL: computed (see config_defaults) */
    size_t off;
    const char *help;
};

#define OFF(f) offsetof(struct mlpd_config, f)

static const struct cfg_row config_table[] = {
    {"state_dir", CFG_PATH, 0, 0, "", OFF(state_dir),
     "state directory (default $MLPD_HOME, else ${XDG_STATE_HOME:-~/.local/state}/mlpd)"},
    {"socket", CFG_PATH, 0, 0, "", OFF(socket),
     "socket path (default $MLPD_SOCKET, else <state_dir>/mlpd.sock)"},
    {"data_dir", CFG_PATH, 0, 0, "", OFF(data_dir),
     "dataset directory (default $MLPD_DATA, else <state_dir>/data)"},
    {"log_file", CFG_PATH, 0, 0, "", OFF(log_file), "daemon log (default <state_dir>/mlpd.log)"},
    {"worker", CFG_PATH, 0, 0, "", OFF(worker),
     "mlp-worker executable (default $MLPD_WORKER, else found by mlpd)"},
    {"workers", CFG_INT, 1, 1024, NULL, OFF(workers), "trials run at once (default: online CPUs)"},
    {"threads", CFG_INT, 1, 256, "1", OFF(threads), "OpenBLAS threads per trial"},
    {"max_attempts", CFG_INT, 1, 100, "3", OFF(max_attempts),
     "attempts of a trial whose worker crashes (one killed by the kernel's OOM killer fails "
     "at once, \"out of memory\")"},
    {"max_trials", CFG_LONG, 1, 10000000, "1000000", OFF(max_trials),
     "largest sweep (trials) accepted, even with --force; over 100000 (or this, if lower) "
     "needs --force"},
    {"max_dataset_bytes", CFG_LONG, 1024, 1099511627776.0, "2G", OFF(max_dataset_bytes),
     "largest dataset file a submit reads to check it (suffixes k, M, G); larger is refused"},
    {"max_params", CFG_LONG, 1, 1e12, "100000000", OFF(max_params),
     "most weights and biases one configuration's network may have"},
    {"worker_memory", CFG_LONG, 268435456.0, 1099511627776.0, "4G", OFF(worker_memory),
     "memory each local worker may allocate (RLIMIT_AS beyond its start-up mappings; suffixes "
     "k, M, G); a trial past it fails \"out of memory\" at once"},
    {"stall_seconds", CFG_DOUBLE, 0, 86400, "600", OFF(stall_seconds),
     "seconds without output from a local worker (epoch lines, heartbeats, log) before it is "
     "killed and its trial re-queued as a crash; 0 never"},
    {"min_free_space", CFG_LONG, 0, 1099511627776.0, "64M", OFF(min_free_space),
     "free bytes the state, artifacts and data dirs need for trials to start (at most an "
     "eighth of their filesystem); below it, or on a write refused for lack of space, "
     "dispatch pauses, attempts uncounted (suffixes k, M, G)"},
    {"log_max_bytes", CFG_LONG, 1024, 1099511627776.0, "1048576", OFF(log_max_bytes),
     "cap on one trial's stderr log (suffixes k, M, G)"},
    {"kill_grace", CFG_DOUBLE, 0, 3600, "5", OFF(kill_grace),
     "seconds between SIGTERM and SIGKILL at a timeout"},
    {"max_clients", CFG_INT, 1, 100000, "1000", OFF(max_clients),
     "connections served at once; one more is refused with too_large and closed"},
    {"request_timeout", CFG_DOUBLE, 0.1, 86400, "30", OFF(request_timeout),
     "seconds a connection may hold a half-sent request line before it is closed"},
    {"foreground", CFG_BOOL, 0, 0, "false", OFF(foreground),
     "stay in the foreground, log to stderr"},
    {"log_level", CFG_LEVEL, 0, 0, "info", OFF(log_level), "error, warn, info or debug"},
    {"executor", CFG_EXEC, 0, 0, "local", OFF(executor),
     "where sweeps run unless their grid says: local or slurm"},
    {"slurm_partition", CFG_STR, 0, 0, "", OFF(slurm_partition),
     "Slurm partition (sbatch --partition; default the cluster's)"},
    {"slurm_account", CFG_STR, 0, 0, "", OFF(slurm_account), "Slurm account (sbatch --account)"},
    {"slurm_time", CFG_STR, 0, 0, "", OFF(slurm_time),
     "time limit of one trial's Slurm task (sbatch --time, e.g. 30 or 1:00:00)"},
    {"slurm_sbatch_args", CFG_STR, 0, 0, "", OFF(slurm_sbatch_args),
     "more sbatch arguments, separated by blanks (e.g. --qos=short --mem=2G)"},
    {"slurm_spool", CFG_PATH, 0, 0, "", OFF(slurm_spool),
     "spool dir on a filesystem shared with the compute nodes (default <state_dir>/spool)"},
    {"slurm_worker", CFG_PATH, 0, 0, "", OFF(slurm_worker),
     "mlp-worker path on the compute nodes (default the daemon's worker)"},
    {"slurm_bin", CFG_PATH, 0, 0, "", OFF(slurm_bin),
     "directory of sbatch, squeue and scancel (default: found in $PATH)"},
    {"slurm_array_limit", CFG_INT, 1, 100000, "100", OFF(slurm_array_limit),
     "tasks of one job array running at once (sbatch --array=...%N)"},
    {"slurm_max_tasks", CFG_INT, 1, 1000000, "1000", OFF(slurm_max_tasks),
     "trials submitted to Slurm and not yet finished, at most"},
    {"slurm_poll", CFG_DOUBLE, 0.05, 3600, "2", OFF(slurm_poll),
     "seconds between polls of squeue and the spool files"},
    {"slurm_grace", CFG_DOUBLE, 0, 86400, "60", OFF(slurm_grace),
     "seconds an ended Slurm task's files may take to show on this host (>= the spool mount's "
     "acregmax/acdirmax)"},
    {"slurm_submit_tries", CFG_INT, 1, 1000, "10", OFF(slurm_submit_tries),
     "sbatch refusals of a sweep (bad partition, account, option) before its queued trials fail "
     "(counted across restarts)"},
    {"slurm_spool_keep", CFG_DOUBLE, -1, 36500, "7", OFF(slurm_spool_keep),
     "days the spool keeps a finished batch's directory (its outputs); -1 forever"},
    {"on_sweep_end", CFG_STR, 0, 0, "", OFF(on_sweep_end),
     "command run (no shell) when a sweep ends; env MLP_* and a JSON summary on stdin"},
    {"on_trial_failed", CFG_STR, 0, 0, "", OFF(on_trial_failed),
     "command run when trials of a sweep fail (at most once per hook_interval per sweep)"},
    {"on_sweep_blocked", CFG_STR, 0, 0, "", OFF(on_sweep_blocked),
     "command run when a sweep cannot proceed (Slurm refuses it, or its first trials all fail)"},
    {"hook_timeout", CFG_DOUBLE, 0.1, 86400, "60", OFF(hook_timeout),
     "seconds a hook may run before it is killed (SIGTERM, then SIGKILL 2 s later)"},
    {"hook_interval", CFG_DOUBLE, 0, 86400, "60", OFF(hook_interval),
     "minimum seconds between two on_trial_failed hooks of one sweep"},
    {"hook_max_running", CFG_INT, 1, 256, "4", OFF(hook_max_running),
     "hooks running at once; an event beyond is dropped and logged"},
};

#define CFG_NROWS (sizeof config_table / sizeof config_table[0])

static const char *const config_names[] = {
    "state_dir",
    "socket",
    "data_dir",
    "log_file",
    "worker",
    "workers",
    "threads",
    "max_attempts",
    "max_trials",
    "max_dataset_bytes",
    "max_params",
    "worker_memory",
    "stall_seconds",
    "min_free_space",
    "log_max_bytes",
    "kill_grace",
    "max_clients",
    "request_timeout",
    "foreground",
    "log_level",
    "executor",
    "slurm_partition",
    "slurm_account",
    "slurm_time",
    "slurm_sbatch_args",
    "slurm_spool",
    "slurm_worker",
    "slurm_bin",
    "slurm_array_limit",
    "slurm_max_tasks",
    "slurm_poll",
    "slurm_grace",
    "slurm_submit_tries",
    "slurm_spool_keep",
    "on_sweep_end",
    "on_trial_failed",
    "on_sweep_blocked",
    "hook_timeout",
    "hook_interval",
    "hook_max_running",
    NULL,
};

/* ---- paths ---- */

static int config__join(char *buf, size_t n, const char *a, const char *b)
{
    int k = snprintf(buf, n, "%s%s%s", a, b && *b ? "/" : "", b ? b : "");
    return k < 0 || (size_t)k >= n ? MLP_EIO : 0;
}

static const char *config__env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int config_state_dir(char *buf, size_t n)
{
    const char *v = config__env("MLPD_HOME");
    if (v)
        return config__join(buf, n, v, NULL);
    v = config__env("XDG_STATE_HOME");
    if (v && v[0] == '/') /* XDG: relative values are invalid and ignored */
        return config__join(buf, n, v, "mlpd");
    v = config__env("HOME");
    if (!v)
        return MLP_EIO;
    return config__join(buf, n, v, ".local/state/mlpd");
}

int config_socket_path(char *buf, size_t n)
{
    const char *v = config__env("MLPD_SOCKET");
    if (v)
        return config__join(buf, n, v, NULL);
    char dir[CONFIG_PATH_MAX];
    int rc = config_state_dir(dir, sizeof dir);
    return rc < 0 ? rc : config__join(buf, n, dir, "mlpd.sock");
}

int config_data_dir(char *buf, size_t n)
{
    const char *v = config__env("MLPD_DATA");
    if (v)
        return config__join(buf, n, v, NULL);
    char dir[CONFIG_PATH_MAX];
    int rc = config_state_dir(dir, sizeof dir);
    return rc < 0 ? rc : config__join(buf, n, dir, "data");
}

int config_mkdir_p(const char *dir, unsigned mode, struct err *e)
{
    char p[CONFIG_PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof p)
        return err_set(e, MLP_EIO, dir, "invalid directory path");
    memcpy(p, dir, len + 1);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (*s == '/' || end) {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) < 0) {
                int errnum = errno;
                struct stat st;
                if (errnum != EEXIST || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                    return err_set(e, MLP_EIO, p, "cannot create directory: %s",
                                   errnum == EEXIST ? "exists and is not a directory"
                                                    : strerror(errnum));
            }
            *s = c;
        }
        if (end)
            break;
    }
    return 0;
}

/* ---- the table ---- */

static const struct cfg_row *config__row(const char *key, char *norm, size_t n)
{
    size_t i;
    for (i = 0; key[i] && i + 1 < n; i++)
        norm[i] = key[i] == '-' ? '_' : key[i];
    norm[i] = '\0';
    for (size_t r = 0; r < CFG_NROWS; r++)
        if (strcmp(config_table[r].name, norm) == 0)
            return &config_table[r];
    return NULL;
}

/* Parse an integer with an optional k/M/G (binary) suffix. */
static bool config__int(const char *s, bool suffix, double *out)
{
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno)
        return false;
    double mult = 1;
    if (suffix && *end) {
        switch (*end) {
        case 'k':
        case 'K':
            mult = 1024.0;
            break;
        case 'm':
        case 'M':
            mult = 1048576.0;
            break;
        case 'g':
        case 'G':
            mult = 1073741824.0;
            break;
        default:
            return false;
        }
        end++;
    }
    if (*end)
        return false;
    *out = (double)v * mult;
    return true;
}

static int config__bad(struct err *e, const struct cfg_row *r, const char *value)
{
    switch (r->type) {
    case CFG_INT:
    case CFG_LONG:
        return err_set(e, MLP_EINVALID_REQUEST, r->name,
                       "expected an integer in [%.0f, %.0f], got \"%s\"", r->min, r->max, value);
    case CFG_DOUBLE:
        return err_set(e, MLP_EINVALID_REQUEST, r->name,
                       "expected a number in [%g, %g], got \"%s\"", r->min, r->max, value);
    case CFG_BOOL:
        return err_set(e, MLP_EINVALID_REQUEST, r->name, "expected true or false, got \"%s\"",
                       value);
    case CFG_LEVEL:
        return err_set(e, MLP_EINVALID_REQUEST, r->name,
                       "expected error, warn, info or debug, got \"%s\"", value);
    case CFG_EXEC:
        return err_set(e, MLP_EINVALID_REQUEST, r->name, "expected local or slurm, got \"%s\"",
                       value);
    case CFG_PATH:
    case CFG_STR:
        break;
    }
    return err_set(e, MLP_EINVALID_REQUEST, r->name, "invalid value \"%s\"", value);
}

int config_set(struct mlpd_config *c, const char *key, const char *value, struct err *e)
{
    char norm[64];
    const struct cfg_row *r = key ? config__row(key, norm, sizeof norm) : NULL;
    if (!r) {
        const char *s = key ? json_suggest(norm, config_names) : NULL;
        if (s)
            return err_set(e, MLP_EINVALID_REQUEST, key, "unknown setting (did you mean \"%s\"?)",
                           s);
        return err_set(e, MLP_EINVALID_REQUEST, key ? key : "", "unknown setting");
    }
    if (!value)
        return err_set(e, MLP_EINVALID_REQUEST, r->name, "missing value");
    void *f = (char *)c + r->off;
    double d;
    char *end;
    switch (r->type) {
    case CFG_PATH:
        if (strlen(value) >= CONFIG_PATH_MAX)
            return err_set(e, MLP_EINVALID_REQUEST, r->name, "path too long (limit %d bytes)",
                           CONFIG_PATH_MAX - 1);
        snprintf((char *)f, CONFIG_PATH_MAX, "%s", value);
        return 0;
    case CFG_STR:
        if (strlen(value) >= CONFIG_STR_MAX)
            return err_set(e, MLP_EINVALID_REQUEST, r->name, "value too long (limit %d bytes)",
                           CONFIG_STR_MAX - 1);
        for (const char *p = value; *p; p++)
            if ((unsigned char)*p < 0x20)
                return err_set(e, MLP_EINVALID_REQUEST, r->name, "control character in value");
        snprintf((char *)f, CONFIG_STR_MAX, "%s", value);
        return 0;
    case CFG_EXEC:
        if (strcmp(value, "local") != 0 && strcmp(value, "slurm") != 0)
            return config__bad(e, r, value);
        snprintf(c->executor, sizeof c->executor, "%s", value);
        return 0;
    case CFG_INT:
    case CFG_LONG:
        if (!config__int(value, r->type == CFG_LONG, &d) || d < r->min || d > r->max)
            return config__bad(e, r, value);
        if (r->type == CFG_INT)
            *(int *)f = (int)d;
        else
            *(long *)f = (long)d;
        return 0;
    case CFG_DOUBLE:
        errno = 0;
        d = strtod(value, &end);
        if (end == value || *end || errno || !isfinite(d) || d < r->min || d > r->max)
            return config__bad(e, r, value);
        *(double *)f = d;
        return 0;
    case CFG_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on") ||
            !strcmp(value, "1"))
            *(bool *)f = true;
        else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off") ||
                 !strcmp(value, "0"))
            *(bool *)f = false;
        else
            return config__bad(e, r, value);
        return 0;
    case CFG_LEVEL: {
        int lv = log_level_from_name(value);
        if (lv < 0)
            return config__bad(e, r, value);
        static const char *const canon[] = {"error", "warn", "info", "debug"};
        snprintf(c->log_level, sizeof c->log_level, "%s", canon[lv]);
        return 0;
    }
    }
    return err_set(e, MLP_EINTERNAL, r->name, "unhandled setting type");
}

void config_defaults(struct mlpd_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < CFG_NROWS; i++)
        if (config_table[i].def && config_table[i].type != CFG_PATH &&
            config_table[i].type != CFG_STR)
            config_set(c, config_table[i].name, config_table[i].def, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = ncpu < 1 ? 1 : ncpu > 1024 ? 1024 : (int)ncpu;
}

static char *config__trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int config_load_file(struct mlpd_config *c, const char *path, struct err *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, MLP_EIO, path, "cannot read config file: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    char where[CONFIG_PATH_MAX + 32];
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        /* '#' starts a comment at the start of a line or after blanks. */
        for (char *p = line; *p; p++)
            if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
                *p = '\0';
                break;
            }
        char *s = config__trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = err_set(e, MLP_EINVALID_REQUEST, where, "expected \"key = value\", got \"%.80s\"",
                         s);
            break;
        }
        *eq = '\0';
        char *key = config__trim(s), *val = config__trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        rc = config_set(c, key, val, e);
        if (rc < 0) {
            if (e) {
                char msg[sizeof e->msg + sizeof e->path + 4];
                snprintf(msg, sizeof msg, "%s: %s", e->path, e->msg);
                err_set(e, rc, where, "%s", msg);
            }
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

int config_parse_args(struct mlpd_config *c, int argc, char **argv, int *used, struct err *e)
{
    int i = 0;
    char norm[64];
    while (i < argc) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            break;
        char key[64];
        const char *eq = strchr(a + 2, '=');
        size_t kl = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (kl >= sizeof key)
            break;
        memcpy(key, a + 2, kl);
        key[kl] = '\0';
        const struct cfg_row *r = config__row(key, norm, sizeof norm);
        if (!r)
            break;
        const char *val;
        int step = 1;
        if (eq)
            val = eq + 1;
        else if (r->type == CFG_BOOL)
            val = "true";
        else if (i + 1 < argc)
            val = argv[i + 1], step = 2;
        else {
            if (used)
                *used = i;
            return err_set(e, MLP_EINVALID_REQUEST, r->name, "missing value after --%s", key);
        }
        int rc = config_set(c, r->name, val, e);
        if (rc < 0) {
            if (used)
                *used = i;
            return rc;
        }
        i += step;
    }
    if (used)
        *used = i;
    return 0;
}

/* Make a relative path absolute against the working directory. */
static int config__absolute(char *path, struct err *e, const char *name)
{
    if (!*path || path[0] == '/')
        return 0;
    char cwd[CONFIG_PATH_MAX], out[CONFIG_PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || config__join(out, sizeof out, cwd, path) < 0)
        return err_set(e, MLP_EIO, name, "cannot make \"%s\" absolute", path);
    memcpy(path, out, sizeof out);
    return 0;
}

int config_finish(struct mlpd_config *c, struct err *e)
{
    if (!c->state_dir[0] && config_state_dir(c->state_dir, sizeof c->state_dir) < 0)
        return err_set(
            e, MLP_EIO, "state_dir",
            "cannot find the state directory: set $MLPD_HOME or $HOME, or use --state-dir");
    const char *v;
    if (!c->socket[0]) {
        int rc = (v = config__env("MLPD_SOCKET"))
                     ? config__join(c->socket, sizeof c->socket, v, NULL)
                     : config__join(c->socket, sizeof c->socket, c->state_dir, "mlpd.sock");
        if (rc < 0)
            return err_set(e, MLP_EIO, "socket", "path too long");
    }
    if (!c->data_dir[0]) {
        int rc = (v = config__env("MLPD_DATA"))
                     ? config__join(c->data_dir, sizeof c->data_dir, v, NULL)
                     : config__join(c->data_dir, sizeof c->data_dir, c->state_dir, "data");
        if (rc < 0)
            return err_set(e, MLP_EIO, "data_dir", "path too long");
    }
    if (!c->log_file[0] &&
        config__join(c->log_file, sizeof c->log_file, c->state_dir, "mlpd.log") < 0)
        return err_set(e, MLP_EIO, "log_file", "path too long");
    if (!c->slurm_spool[0] &&
        config__join(c->slurm_spool, sizeof c->slurm_spool, c->state_dir, "spool") < 0)
        return err_set(e, MLP_EIO, "slurm_spool", "path too long");
    if (!c->worker[0] && (v = config__env("MLPD_WORKER")))
        snprintf(c->worker, sizeof c->worker, "%s", v);
    struct {
        char *p;
        const char *name;
    } paths[] = {
        {c->state_dir, "state_dir"},
        {c->socket, "socket"},
        {c->data_dir, "data_dir"},
        {c->log_file, "log_file"},
        {c->worker, "worker"},
        {c->slurm_spool, "slurm_spool"},
        {c->slurm_worker, "slurm_worker"},
        {c->slurm_bin, "slurm_bin"},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        /* A bare worker name ("mlp-worker") is looked up in $PATH: keep it. */
        if ((paths[i].p == c->worker || paths[i].p == c->slurm_worker) && !strchr(paths[i].p, '/'))
            continue;
        int rc = config__absolute(paths[i].p, e, paths[i].name);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void config_usage(FILE *out)
{
    struct mlpd_config d;
    config_defaults(&d);
    for (size_t i = 0; i < CFG_NROWS; i++) {
        const struct cfg_row *r = &config_table[i];
        char flag[64], def[64] = "", range[64] = "";
        const char *arg = r->type == CFG_PATH    ? " PATH"
                          : r->type == CFG_BOOL  ? ""
                          : r->type == CFG_LEVEL ? " LEVEL"
                          : r->type == CFG_EXEC  ? " NAME"
                          : r->type == CFG_STR   ? " TEXT"
                                                 : " N";
        size_t k = (size_t)snprintf(flag, sizeof flag, "--");
        for (const char *p = r->name; *p && k + 1 < sizeof flag; p++)
            flag[k++] = *p == '_' ? '-' : *p;
        flag[k] = '\0';
        snprintf(flag + k, sizeof flag - k, "%s", arg);
        const void *f = (const char *)&d + r->off;
        switch (r->type) {
        case CFG_INT:
            snprintf(def, sizeof def, " (default %d)", *(const int *)f);
            snprintf(range, sizeof range, " [%.0f..%.0f]", r->min, r->max);
            break;
        case CFG_LONG:
            snprintf(def, sizeof def, " (default %ld)", *(const long *)f);
            snprintf(range, sizeof range, " [%.0f..%.0f]", r->min, r->max);
            break;
        case CFG_DOUBLE:
            snprintf(def, sizeof def, " (default %g)", *(const double *)f);
            snprintf(range, sizeof range, " [%g..%g]", r->min, r->max);
            break;
        case CFG_BOOL:
            snprintf(def, sizeof def, " (default %s)", *(const bool *)f ? "true" : "false");
            break;
        case CFG_LEVEL:
            snprintf(def, sizeof def, " (default %s)", d.log_level);
            break;
        case CFG_EXEC:
            snprintf(def, sizeof def, " (default %s)", d.executor);
            break;
        case CFG_PATH:
        case CFG_STR:
            break;
        }
        fprintf(out, "  %-22s %s%s%s\n", flag, r->help, def, range);
    }
}

/* name in the directories of $PATH. */
static int config__in_path(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)len, path, name) < n &&
            access(out, X_OK) == 0)
            return 0;
        path += len + (path[len] == ':');
    }
    snprintf(out, n, "%s", name);
    return -1;
}

/* name beside the running binary, or in its build-tree sibling ../<sibling>/. */
static int config__beside_self(const char *name, const char *sibling, char *out, size_t n)
{
    char self[CONFIG_PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0)
        return -1;
    self[k] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if ((size_t)snprintf(out, n, "%s/%s", self, name) < n && access(out, X_OK) == 0)
        return 0;
    if (sibling && (size_t)snprintf(out, n, "%s/../%s/%s", self, sibling, name) < n &&
        access(out, X_OK) == 0) {
        char real[CONFIG_PATH_MAX];
        if (realpath(out, real) && strlen(real) < n)
            memcpy(out, real, strlen(real) + 1);
        return 0;
    }
    return -1;
}

int config_find_program(const char *want, const char *name, const char *dir, const char *sibling,
                        char *out, size_t n)
{
    if (want && want[0] && strchr(want, '/')) {
        snprintf(out, n, "%s", want);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *prog = want && want[0] ? want : name;
    if (dir && dir[0]) {
        snprintf(out, n, "%s/%s", dir, prog);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    if (!(want && want[0]) && config__beside_self(prog, sibling, out, n) == 0)
        return 0;
    return config__in_path(prog, out, n);
}
