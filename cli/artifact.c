/*
 * artifact — see artifact.h: fetching a trial's saved file over the streamed
 * `artifact` op and decoding its base64 chunks.  The `mlpctl artifact` verb
 * that writes the files out is in cmd_trial.c; the plot verbs use
 * artifact_fetch directly.
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
