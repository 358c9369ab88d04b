/*
 * notify — hook commands: splitting, checking.  See notify.h.
 */
#include "notify.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

const char *const notify_event_keys[NOTIFY_N] = {"on_sweep_end", "on_trial_failed",
                                                 "on_sweep_blocked"};
const char *const notify_event_names[NOTIFY_N] = {"sweep_end", "trial_failed", "sweep_blocked"};

void notify_argv_free(char **argv)
{
    for (char **p = argv; p && *p; p++)
        free(*p);
    free(argv);
}

int notify_split(const char *text, const char *path, char ***argv, struct err *e)
{
    size_t len = strlen(text);
    char **v = calloc(NOTIFY_ARGS_MAX + 1, sizeof *v);
    char *word = malloc(len + 1);
    int n = 0;
    if (!v || !word) {
        free(v);
        free(word);
        return err_set(e, MLP_ENOMEM, path, "out of memory");
    }
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t k = 0;
        char quote = 0;
        while (*p && (quote || (*p != ' ' && *p != '\t'))) {
            if (quote && *p == quote) {
                quote = 0;
            } else if (!quote && (*p == '\'' || *p == '"')) {
                quote = *p;
            } else if (*p == '\\' && quote != '\'' && p[1]) {
                word[k++] = *++p;
            } else {
                word[k++] = *p;
            }
            p++;
        }
        if (quote) {
            err_set(e, MLP_EINVALID_REQUEST, path, "unclosed %c quote in \"%.200s\"", quote, text);
            goto fail;
        }
        if (n == NOTIFY_ARGS_MAX) {
            err_set(e, MLP_EINVALID_REQUEST, path, "more than %d words", NOTIFY_ARGS_MAX);
            goto fail;
        }
        word[k] = '\0';
        if (!(v[n++] = strdup(word))) {
            err_set(e, MLP_ENOMEM, path, "out of memory");
            goto fail;
        }
    }
    free(word);
    if (n == 0) {
        notify_argv_free(v);
        return err_set(e, MLP_EINVALID_REQUEST, path, "an empty command");
    }
    *argv = v;
    return n;
fail:
    free(word);
    notify_argv_free(v);
    return e->code;
}

int notify_argv(const cJSON *v, const char *path, char ***argv, struct err *e)
{
    if (cJSON_IsString(v))
        return notify_split(v->valuestring, path, argv, e);
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    if (n < 1 || n > NOTIFY_ARGS_MAX)
        return err_set(e, MLP_EINVALID_REQUEST, path,
                       "expected a command: a string or a list of 1 to %d strings (argv)",
                       NOTIFY_ARGS_MAX);
    char **a = calloc((size_t)n + 1, sizeof *a);
    if (!a)
        return err_set(e, MLP_ENOMEM, path, "out of memory");
    int i = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, v)
    {
        if (!cJSON_IsString(w) || (i == 0 && !w->valuestring[0])) {
            notify_argv_free(a);
            return err_set(e, MLP_EINVALID_REQUEST, path, "word %d: expected a%s string", i,
                           i == 0 ? " non-empty" : "");
        }
        if (!(a[i++] = strdup(w->valuestring))) {
            notify_argv_free(a);
            return err_set(e, MLP_ENOMEM, path, "out of memory");
        }
    }
    *argv = a;
    return n;
}

static bool executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int notify_find_program(const char *prog, char *out, size_t n)
{
    if (strchr(prog, '/')) {
        snprintf(out, n, "%s", prog);
        return executable(out) ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t k = strcspn(p, ":");
        if (k > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)k, p, prog) < n && executable(out))
            return 0;
        p += k + (p[k] == ':');
    }
    snprintf(out, n, "%s", prog);
    return -1;
}

int notify_grid_check(const cJSON *v, struct err *e)
{
    if (!cJSON_IsObject(v))
        return err_set(e, MLP_EINVALID_GRID, "notify",
                       "expected an object such as {\"on_sweep_end\": [\"/usr/bin/notify-send\", "
                       "\"sweep done\"]}");
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        int k = 0;
        while (k < NOTIFY_N && strcmp(it->string, notify_event_keys[k]) != 0)
            k++;
        char path[96];
        snprintf(path, sizeof path, "notify.%.64s", it->string);
        if (k == NOTIFY_N) {
            static const char *const keys[] = {"on_sweep_end", "on_trial_failed",
                                               "on_sweep_blocked", NULL};
            const char *guess = json_suggest(it->string, keys);
            return err_set(e, MLP_EINVALID_GRID, path,
                           "unknown event (one of on_sweep_end, on_trial_failed, "
                           "on_sweep_blocked)%s%s%s",
                           guess ? "; did you mean \"" : "", guess ? guess : "", guess ? "\"?" : "");
        }
        char **argv = NULL;
        int rc = notify_argv(it, path, &argv, e);
        if (rc < 0) {
            e->code = rc == MLP_ENOMEM ? rc : MLP_EINVALID_GRID;
            return e->code;
        }
        char found[4096];
        bool ok = notify_find_program(argv[0], found, sizeof found) == 0;
        if (!ok)
            err_set(e, MLP_EINVALID_GRID, path,
                    "%s: no such executable file%s", argv[0],
                    strchr(argv[0], '/') ? "" : " in $PATH (give its absolute path)");
        notify_argv_free(argv);
        if (!ok)
            return e->code;
    }
    return 0;
}
