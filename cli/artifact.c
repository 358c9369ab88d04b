/*
 * artifact — see artifact.h.  The verb:
 *
 *   mlpctl artifact TRIAL [--list] [--name FILE] [--out DIR]
 *
 * --list prints the trial's files and sizes; otherwise every file (or only
 * --name FILE) is fetched and written into DIR (default ./trial-<id>/,
 * created), each through a temporary file renamed into place, and the paths
 * are printed; --name FILE --out - writes that file to standard output.
 * File names from the daemon are used only when they are plain names (no
 * '/', not starting with '.'), so a reply can never write outside DIR.
 * Exit codes as every verb: 0, 1 (e.g. no such trial or file), 2 usage,
 * 3 mlpd unreachable.
 */
#include "artifact.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "resp.h"

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int artifact_b64_append(const char *text, size_t n, struct artifact_data *out)
{
    while (n > 0 && text[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    size_t add = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    unsigned char *d = realloc(out->data, out->len + add + 1);
    if (!d)
        return -1;
    out->data = d;
    size_t o = out->len;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)text[i]);
        if (v < 0) {
            d[out->len] = '\0';
            return -1;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out->len = o;
    d[o] = '\0';
    return 0;
}

/* Append the "data" of one line, if any.  CLI_OK or CLI_FAILED (printed). */
static int take_chunk(const cJSON *line, const char *name, struct artifact_data *out)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(line, "data");
    if (!data)
        return CLI_OK;
    if (!cJSON_IsString(data) ||
        artifact_b64_append(data->valuestring, strlen(data->valuestring), out) < 0) {
        fprintf(stderr, "mlpctl: artifact %s: mlpd sent a chunk that is not base64\n", name);
        return CLI_FAILED;
    }
    return CLI_OK;
}

int artifact_fetch(struct cli *cli, int64_t trial, const char *name, struct artifact_data *out)
{
    out->data = NULL;
    out->len = 0;
    cJSON *req = cmd_req("artifact"), *line = NULL;
    if (req && (!cJSON_AddNumberToObject(req, "id", (double)trial) ||
                !cJSON_AddStringToObject(req, "name", name))) {
        cJSON_Delete(req);
        req = NULL;
    }
    /* cmd_request reads the answer through the one streamed-answer reader
     * (client.c), which hands back the chunks' data joined in order. */
    int rc = cmd_request(cli, req, &line, NULL);
    if (rc == CLI_OK)
        rc = take_chunk(line, name, out);
    if (rc == CLI_OK) {
        double bytes = resp_num(line, "bytes");
        if (!isfinite(bytes) || bytes != (double)out->len) {
            fprintf(stderr, "mlpctl: artifact %s of trial %lld: got %zu bytes, mlpd announced %s\n",
                    name, (long long)trial, out->len, isfinite(bytes) ? "another size" : "none");
            rc = CLI_FAILED;
        } else if (!out->data && !(out->data = calloc(1, 1))) { /* an empty file */
            rc = CLI_FAILED;
        }
    }
    cJSON_Delete(line);
    if (rc != CLI_OK) {
        free(out->data);
        out->data = NULL;
        out->len = 0;
    }
    return rc;
}

/* ---- the verb ------------------------------------------------------------------ */

/* A plain file name: no '/', no leading '.', not empty. */
static bool plain_name(const char *s)
{
    return s && *s && *s != '.' && !strchr(s, '/');
}

/* Write d to dir/name through a temporary file.  CLI_OK or CLI_FAILED (printed). */
static int write_file(const char *dir, const char *name, const struct artifact_data *d, char *path,
                      size_t pathlen)
{
    char tmp[4200];
    snprintf(path, pathlen, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "mlpctl artifact: cannot create %s: %s\n", tmp, strerror(errno));
        return CLI_FAILED;
    }
    bool ok = fwrite(d->data, 1, d->len, f) == d->len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "mlpctl artifact: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* The trial's file list ({"files": [...]}).  Returns the exit code; *resp set on CLI_OK. */
static int list_files(struct cli *cli, int64_t trial, cJSON **resp)
{
    cJSON *req = cmd_req("artifact");
    if (req && !cJSON_AddNumberToObject(req, "id", (double)trial)) {
        cJSON_Delete(req);
        req = NULL;
    }
    return cmd_request(cli, req, resp, NULL);
}

/* Fetch and write one file; adds {"name","bytes","path"} to done (may be NULL). */
static int save_one(struct cli *cli, int64_t trial, const char *name, const char *dir, cJSON *done)
{
    if (!plain_name(name)) {
        fprintf(stderr, "mlpctl artifact: refusing file name \"%s\" (not a plain name)\n", name);
        return CLI_FAILED;
    }
    struct artifact_data d;
    int rc = artifact_fetch(cli, trial, name, &d);
    if (rc != CLI_OK)
        return rc;
    if (strcmp(dir, "-") == 0) {
        rc = fwrite(d.data, 1, d.len, stdout) == d.len ? CLI_OK : CLI_FAILED;
        free(d.data);
        return rc;
    }
    char path[4200];
    rc = write_file(dir, name, &d, path, sizeof path);
    if (rc == CLI_OK && done) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddNumberToObject(o, "bytes", (double)d.len);
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddItemToArray(done, o);
    }
    free(d.data);
    return rc;
}

int cmd_artifact(struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "artifact";
    const char *out = NULL, *name = NULL, *id_s;
    bool list = false;
    struct opt opts[] = {
        {"out", OPT_STRING, &out},
        {"name", OPT_STRING, &name},
        {"list", OPT_FLAG, &list},
        {NULL, 0, NULL},
    };
    int rc = cmd_parse_one(argc, argv, opts, "a trial ID", &id_s);
    if (rc != CLI_OK)
        return rc;
    char *end;
    errno = 0;
    long long id = strtoll(id_s, &end, 10);
    if (errno || end == id_s || *end || id < 1)
        return cli_usage(verb, "expected a trial ID (a positive integer), got \"%s\"", id_s);
    if (list && (out || name))
        return cli_usage(verb, "--list takes no --out or --name");
    if (name && !plain_name(name))
        return cli_usage(verb, "--name: expected a file name such as model.npz, got \"%s\"", name);
    if (out && strcmp(out, "-") == 0 && !name)
        return cli_usage(verb, "--out - (standard output) needs --name FILE");

    cJSON *resp = NULL, *done = NULL;
    if (!name || list) {
        if ((rc = list_files(cli, id, &resp)) != CLI_OK)
            goto fin;
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(resp, "files"), *f;
    if (list) {
        if (cli->json) {
            rc = cmd_print_resp(cli, resp, rc);
            goto fin;
        }
        if (cJSON_GetArraySize(files) == 0)
            printf("trial %lld has no saved files (set \"save\" in the grid)\n", id);
        cJSON_ArrayForEach(f, files)
        {
            char b[32];
            printf("%-20s %12s bytes\n", resp_str(f, "name", "?"),
                   resp_fmt_int(b, sizeof b, resp_num(f, "bytes")));
        }
        goto fin;
    }
    char dirbuf[64];
    if (!out) {
        snprintf(dirbuf, sizeof dirbuf, "trial-%lld", id);
        out = dirbuf;
    }
    if (strcmp(out, "-") != 0 && mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "mlpctl artifact: cannot create %s: %s\n", out, strerror(errno));
        rc = CLI_FAILED;
        goto fin;
    }
    done = cJSON_CreateArray();
    if (name) {
        rc = save_one(cli, id, name, out, done);
    } else {
        if (cJSON_GetArraySize(files) == 0) {
            fprintf(stderr,
                    "mlpctl artifact: trial %lld has no saved files (set \"save\" in the "
                    "grid)\n",
                    id);
            rc = CLI_FAILED;
        }
        cJSON_ArrayForEach(f, files) if (rc == CLI_OK) rc =
            save_one(cli, id, resp_str(f, "name", ""), out, done);
    }
    if (strcmp(out, "-") != 0) {
        if (cli->json) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddNumberToObject(doc, "trial", (double)id);
            cJSON_AddStringToObject(doc, "dir", out);
            cJSON_AddItemToObject(doc, "files", done);
            done = NULL;
            if (rc == CLI_OK)
                cli_print_json(doc);
            cJSON_Delete(doc);
        } else {
            cJSON_ArrayForEach(f, done) printf("%s\n", resp_str(f, "path", "?"));
        }
    }
fin:
    cJSON_Delete(done);
    cJSON_Delete(resp);
    return rc;
}
