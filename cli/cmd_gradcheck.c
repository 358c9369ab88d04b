/*
 * cmd_gradcheck — `mlpctl gradcheck FILE --config N [--seed S] [--human]`:
 * check the gradients of one configuration of a grid file without mlpd.
 *
 * The file is validated and expanded locally exactly as `submit` does
 * (cmd_grid_load); configuration N (1-based, the numbering of `submit
 * --dry-run`) becomes a trial spec {"dataset", "seed", "params"} written to a
 * temporary file, and `mlp-worker --gradcheck --spec FILE` runs on it (found
 * as mlpd finds it: $MLPD_WORKER, next to mlpctl, the build tree's
 * ../worker/, then $PATH).  Without --json its table (--human) goes straight
 * to standard output; with --json its JSON lines are gathered into one
 * document {"config", "seed", "layers": [gradcheck lines], "result": line}.
 * Exit status: the worker's (0 every error under the tolerance, 1 one over
 * it or a failure), 4 for an invalid grid, 2 for a bad --config or --seed.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "grid.h"
#include "json.h"
#include "resp.h"

/* The mlp-worker to run: $MLPD_WORKER, beside this binary, ../worker/, $PATH.  0 or -1. */
static int find_worker(char *out, size_t n)
{
    return config_find_program(getenv("MLPD_WORKER"), "mlp-worker", NULL, "worker", out, n);
}

/* The spec of configuration idx (0-based) with seed, written to a new temporary file. */
static int write_spec(const struct grid *g, size_t idx, long long seed, char *path, size_t n)
{
    cJSON *spec = cJSON_CreateObject();
    cJSON *ds = grid_dataset_json(g), *params = grid_config_params(g, idx);
    char *text = NULL;
    int rc = -1;
    if (!spec || !ds || !params)
        goto out;
    cJSON_AddItemToObject(spec, "dataset", ds);
    ds = NULL;
    cJSON_AddNumberToObject(spec, "seed", (double)seed);
    cJSON_AddItemToObject(spec, "params", params);
    params = NULL;
    if (!(text = json_line(spec))) /* exact numbers: the spec the worker gets */
        goto out;
    const char *tmpdir = getenv("TMPDIR");
    snprintf(path, n, "%s/mlpctl-gradcheck.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        goto out;
    size_t len = strlen(text);
    rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc < 0)
        unlink(path);
out:
    free(text);
    cJSON_Delete(spec);
    cJSON_Delete(ds);
    cJSON_Delete(params);
    return rc;
}

/* Run the worker; with `capture`, its stdout goes to *captured (caller frees).  Exit status or -1.
 */
static int run_worker(const char *worker, const char *spec, bool capture, char **captured)
{
    int pfd[2] = {-1, -1};
    if (capture && pipe(pfd) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (capture) {
            dup2(pfd[1], 1);
            close(pfd[0]);
            close(pfd[1]);
        }
        execl(worker, worker, "--gradcheck", "--spec", spec, capture ? NULL : "--human",
              (char *)NULL);
        fprintf(stderr, "mlpctl gradcheck: cannot run %s: %s\n", worker, strerror(errno));
        _exit(1);
    }
    size_t len = 0, cap = 0;
    char *buf = NULL;
    if (capture) {
        close(pfd[1]);
        for (;;) {
            if (len + 4096 + 1 > cap) {
                cap = cap ? cap * 2 : 65536;
                char *nb = realloc(buf, cap);
                if (!nb)
                    break;
                buf = nb;
            }
            ssize_t r = read(pfd[0], buf + len, cap - len - 1);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            len += (size_t)r;
        }
        close(pfd[0]);
        if (buf)
            buf[len] = '\0';
        *captured = buf;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : CLI_FAILED;
}

/* The worker's JSON lines as one document. */
static void print_json(const char *text, size_t config, long long seed)
{
    cJSON *doc = cJSON_CreateObject(), *layers = cJSON_CreateArray();
    cJSON *steps = cJSON_CreateArray();
    cJSON_AddNumberToObject(doc, "config", (double)config);
    cJSON_AddNumberToObject(doc, "seed", (double)seed);
    cJSON_AddItemToObject(doc, "layers", layers);
    cJSON_AddItemToObject(doc, "steps", steps);
    for (const char *s = text; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        cJSON *line = cJSON_ParseWithLength(s, n);
        const char *ev = resp_str(line, "event", "");
        if (strcmp(ev, "gradcheck") == 0 || strcmp(ev, "gradcheck_step") == 0) {
            cJSON *to = ev[9] ? steps : layers; /* ev dies with "event" */
            cJSON_DeleteItemFromObjectCaseSensitive(line, "event");
            cJSON_AddItemToArray(to, line);
        } else if (line) {
            /* ev lives in line's "event" member: decide before deleting it. */
            const char *key = strcmp(ev, "error") == 0 ? "error" : "result";
            cJSON_DeleteItemFromObjectCaseSensitive(line, "event");
            cJSON_AddItemToObject(doc, key, line);
        }
        s += n + (nl != NULL);
    }
    cli_print_json(doc);
    cJSON_Delete(doc);
}

int cmd_gradcheck(struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "gradcheck";
    long config = 0, seed = 1;
    bool human = false, json = false;
    struct opt opts[] = {
        {"config", OPT_INT, &config}, {"seed", OPT_INT, &seed}, {"human", OPT_FLAG, &human},
        {"json", OPT_FLAG, &json},    {NULL, 0, NULL},
    };
    const char *file;
    int rc = cmd_parse_one(argc, argv, opts, "a grid file (or '-' for standard input)", &file);
    if (rc != CLI_OK)
        return rc;
    cli->json = (cli->json || json) && !human;
    if (config < 1)
        return cli_usage(verb, "--config N is required: the configuration's number (1-based, "
                               "as submit --dry-run lists them)");
    struct grid *g = NULL;
    char spec[PATH_MAX] = "", worker[PATH_MAX];
    if ((rc = cmd_grid_load(cli, file, true, &g)) != CLI_OK)
        return rc;
    if ((size_t)config > grid_n_configs(g)) {
        char cb[64];
        rc = cli_usage(
            verb, "--config %ld: %s has %s", config, file,
            resp_fmt_count(cb, sizeof cb, (double)grid_n_configs(g), "configuration", NULL));
        goto out;
    }
    if (find_worker(worker, sizeof worker) != 0) {
        fprintf(stderr,
                "mlpctl gradcheck: cannot find the mlp-worker executable (tried \"%s\"); "
                "set MLPD_WORKER or put it on PATH\n",
                worker);
        rc = CLI_FAILED;
        goto out;
    }
    if (write_spec(g, (size_t)config - 1, seed, spec, sizeof spec) != 0) {
        fprintf(stderr, "mlpctl gradcheck: cannot write the trial spec: %s\n", strerror(errno));
        spec[0] = '\0';
        rc = CLI_FAILED;
        goto out;
    }
    char *captured = NULL;
    int st = run_worker(worker, spec, cli->json, &captured);
    if (st < 0) {
        fprintf(stderr, "mlpctl gradcheck: cannot run %s: %s\n", worker, strerror(errno));
        rc = CLI_FAILED;
    } else {
        if (cli->json)
            print_json(captured, (size_t)config, seed);
        rc = st;
    }
    free(captured);
out:
    if (spec[0])
        unlink(spec);
    grid_free(g);
    return rc;
}
