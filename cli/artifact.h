/*
 * artifact — reading a trial's saved files from mlpd (the `artifact` op), for
 * the `mlpctl artifact` verb (cmd_trial.c) and the plot verbs.
 *
 * Wire (daemon/PROTOCOL.md, issue 9): {"op":"artifact","id":TRIAL} answers
 * {"files":[{"name","bytes"}]}; with "name" the file comes as base64 chunks,
 * lines {"ok":true,"more":true,"data":"…"} and then a final
 * {"ok":true,"name":…,"bytes":N} (which may itself carry "data": a small
 * file is one line).
 */
#ifndef MLP_CLI_ARTIFACT_H
#define MLP_CLI_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* A fetched file: len bytes at data, NUL-terminated for text (owned; free(data)). */
struct artifact_data {
    unsigned char *data;
    size_t len;
};

/*
 * Fetch file `name` of `trial` over cli (connecting if needed): every chunk
 * line is decoded and appended, and the total is checked against the final
 * line's "bytes".  Returns CLI_OK with *out filled (caller frees out->data),
 * or an exit code with the problem printed on stderr (an error reply as
 * cmd_request words it, e.g. not_found → CLI_FAILED; a malformed chunk or a
 * size mismatch → CLI_FAILED); *out is then empty.
 */
int artifact_fetch(struct cli *cli, int64_t trial, const char *name, struct artifact_data *out);

/*
 * Decode base64 text (RFC 4648, padding optional, no whitespace) and append
 * it to *out.  Returns 0, or -1 on a character outside the alphabet or out
 * of memory (out unchanged).
 */
int artifact_b64_append(const char *text, size_t n, struct artifact_data *out);

#endif
