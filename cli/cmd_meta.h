/*
 * cmd_meta — printing a sweep's and its configurations' tags and notes
 * (cmd_meta.c, which also holds the verbs tag and note of cmd.h).
 */
#ifndef MLP_CLI_CMD_META_H
#define MLP_CLI_CMD_META_H

#include <stddef.h>

struct cJSON;

#define STORE_TAGS_ARGS 64 /* KEY=VALUE arguments of one `mlpctl tag` (mlpd's limit per target) */

/* "k=v k2=v2" of a tags object into buf (empty when none). */
void cmd_meta_tags_text(char *buf, size_t n, const struct cJSON *tags);
/* The summary's tags and note, as lines ("tags: ...", "note (version N, time):"). */
void cmd_meta_print_sweep(const struct cJSON *summary);
/* The tags and notes of show's configurations, after a blank line; nothing when none. */
void cmd_meta_print_configs(const struct cJSON *configs);

#endif
