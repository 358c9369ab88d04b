/*
 * notify — the commands mlpd runs when a sweep ends, a trial fails or a sweep
 * is blocked (hooks; daemon/hooks.c runs them).  A command is given in
 * mlpd.conf (on_sweep_end = /path/prog arg 'two words') or in a grid's
 * "notify" object, as a string or as a JSON list of strings (argv).  Either
 * way it is run without a shell: a string is split into words at blanks,
 * with '...' and "..." quoting and backslash escapes, and nothing else
 * (no variables, globs, pipes or redirections).
 */
#ifndef MLP_NOTIFY_H
#define MLP_NOTIFY_H

#include <stddef.h>

#include "err.h"

struct cJSON;

/* The events, in the order of notify_event_names. */
enum notify_event { NOTIFY_SWEEP_END, NOTIFY_TRIAL_FAILED, NOTIFY_SWEEP_BLOCKED, NOTIFY_N };

/* "on_sweep_end", "on_trial_failed", "on_sweep_blocked" (the keys in mlpd.conf and grids). */
extern const char *const notify_event_keys[NOTIFY_N];
/* "sweep_end", "trial_failed", "sweep_blocked" (MLP_EVENT and the JSON's "event"). */
extern const char *const notify_event_names[NOTIFY_N];

#define NOTIFY_ARGS_MAX 64 /* words of one command */

/*
 * Split text into words as described above.  Returns the number of words
 * (>= 1) with *argv a NULL-terminated malloc'ed array of malloc'ed strings
 * (free with notify_argv_free), or <0 (MLP_EINVALID_REQUEST at path: empty,
 * an unclosed quote, too many words; MLP_ENOMEM).
 */
int notify_split(const char *text, const char *path, char ***argv, struct err *e);

/* The argv of a command value: a string (split) or a non-empty list of strings. */
int notify_argv(const struct cJSON *v, const char *path, char ***argv, struct err *e);

void notify_argv_free(char **argv);

/*
 * Check a grid's "notify" object: only the three event keys, each a command
 * whose program is an absolute path or a name found in $PATH, executable.
 * 0 or MLP_EINVALID_GRID at "notify.on_sweep_end" (or its word).
 */
int notify_grid_check(const struct cJSON *v, struct err *e);

/*
 * Find argv[0]: as given when it holds a '/', else in $PATH.  out gets the
 * path.  0 when it is an executable file, -1 otherwise.
 */
int notify_find_program(const char *prog, char *out, size_t n);

#endif
