/*
 * cmd — what mlpctl's verb files share beyond cli.h: the verb functions the
 * table in main.c points to, a table-driven option parser, and helpers that
 * build requests and print responses the same way in every verb (cmd.c,
 * which sits on cli.h alone: it knows neither the socket nor the table).
 *
 * Output conventions: with --json a verb prints exactly one JSON document on
 * stdout — the daemon's response without "ok", or {"error": {...}} on
 * failure — and errors also go to stderr as one human line.  Without --json
 * it prints tables and sentences; errors go to stderr as "mlpctl: ...".
 */
#ifndef MLP_CLI_CMD_H
#define MLP_CLI_CMD_H

#include <stdbool.h>

#include "cli.h"

struct cJSON;

/* Verbs (argv[0] is the verb name).  Each returns an exit code of cli.h. */
int cmd_submit(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_best(struct cli *cli, int argc, char **argv);
int cmd_results(struct cli *cli, int argc, char **argv);
int cmd_trial(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);
int cmd_dashboard(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_control(struct cli *cli, int argc, char **argv); /* cancel pause resume retry */
int cmd_shutdown(struct cli *cli, int argc, char **argv);
int cmd_delete(struct cli *cli, int argc, char **argv); /* cmd_control.c */
int cmd_data(struct cli *cli, int argc, char **argv);
int cmd_gradcheck(struct cli *cli, int argc, char **argv); /* cmd_gradcheck.c */
int cmd_artifact(struct cli *cli, int argc, char **argv);  /* cmd_trial.c */
int cmd_compare(struct cli *cli, int argc, char **argv);   /* cmd_compare.c */
int cmd_tag(struct cli *cli, int argc, char **argv);       /* cmd_meta.c */
int cmd_note(struct cli *cli, int argc, char **argv);      /* cmd_meta.c */
int cmd_importance(struct cli *cli, int argc, char **argv); /* cmd_importance.c */

/*
 * Print the "confusion" of a show response (cmd_compare.c): rates as
 * percentages ± SE, or mean counts ± SE when counts, then per-class accuracy.
 * Returns CLI_OK, or CLI_FAILED when resp has no confusion.
 */
int cmd_show_confusion(const struct cJSON *resp, bool counts);

struct grid;
/*
 * Read a grid file (FILE, '-' for standard input) and validate and expand it
 * locally exactly as `submit` does before sending it (common/grid.h; relative
 * dataset paths resolved against the file's directory).  Returns CLI_OK with
 * *g set (free with grid_free), or the exit code with the problem printed
 * (CLI_INVALID for an unreadable or invalid file, naming the place).
 */
int cmd_grid_load(struct cli *cli, const char *file, bool force, struct grid **g);

/* The usage text of a verb from the table in main.c, or NULL for an unknown verb. */
const char *cli_verb_usage(const char *verb);

/* Option kinds for opts_parse. */
enum opt_type {
    OPT_FLAG,   /* bool *: set true when present */
    OPT_STRING, /* const char **: the next argument or the text after '=' */
    OPT_INT,    /* long *: an integer */
};

struct opt {
    const char *name;   /* long name without "--" */
    enum opt_type type; /* what follows it */
    void *dst;          /* where the value goes (see enum opt_type) */
};

/*
 * Parse a verb's argv[1..argc): options (--name, --name VALUE, --name=VALUE)
 * anywhere, other arguments ("-" included; everything after "--") stored in
 * pos[0..maxpos) with their count in *npos.  The opts list ends with a
 * {NULL} row.  Returns 0, or CLI_USAGE after printing the problem and the
 * verb's usage (unknown option, missing or bad value, too many arguments).
 */
int opts_parse(const char *verb, int argc, char **argv, const struct opt *opts, char **pos,
               int maxpos, int *npos);

/*
 * opts_parse for a verb that takes options only; CLI_USAGE (printed) on any
 * other argument.
 */
int cmd_parse_opts(int argc, char **argv, const struct opt *opts);

/*
 * opts_parse for a verb that takes exactly one other argument, stored in *arg;
 * otherwise CLI_USAGE after "expected <what>" (e.g. "a trial ID") and the usage.
 */
int cmd_parse_one(int argc, char **argv, const struct opt *opts, const char *what,
                  const char **arg);

/* cmd_parse_one for verbs that take one SWEEP (its id or name). */
int cmd_parse_sweep(int argc, char **argv, const struct opt *opts, const char **sweep);

/* A request {"op": op}; NULL on ENOMEM. */
struct cJSON *cmd_req(const char *op);

/*
 * Add "sweep" to req from a command-line word: an integer id when the word is
 * all digits, else the name as a string.  Returns req.
 */
struct cJSON *cmd_add_sweep(struct cJSON *req, const char *word);

/*
 * Like cli_request, but errors are printed with `prefix` (e.g. the grid
 * file's name) instead of "mlpctl", and with --json the error document is
 * printed on stdout too.  Returns the exit code; *resp as in cli_request.
 */
int cmd_request(struct cli *cli, struct cJSON *req, struct cJSON **resp, const char *prefix);

/*
 * cmd_request for verbs with a human form: on an error, or with --json (the
 * response then printed by cmd_print_resp), the response is freed and *resp
 * left NULL.  Returns the exit code; when *resp is set the caller prints it
 * as text and frees it.
 */
int cmd_request_text(struct cli *cli, struct cJSON *req, struct cJSON **resp);

/*
 * A verb whose only argument is one SWEEP (no options): parse argv, then
 * cmd_request {"op": op, "sweep": ...}.  Returns the exit code (CLI_USAGE
 * included); *resp as in cmd_request, NULL when nothing was sent.
 */
int cmd_request_sweep(struct cli *cli, int argc, char **argv, const char *op, struct cJSON **resp);

/* With --json, print resp without its "ok" member.  Returns rc unchanged. */
int cmd_print_resp(struct cli *cli, const struct cJSON *resp, int rc);

/* Print {"error": {"code", "message", "path"?}} on stdout (for --json). */
void cmd_print_error_json(const char *code, const char *message, const char *path);

/* One line describing a sweep summary: `sweep 3 "fashion-reg" (running)`.  Returns buf. */
char *cmd_sweep_title(char *buf, unsigned long n, const struct cJSON *summary);

/*
 * The note of a Slurm sweep whose submission fails (its "blocked" object):
 * "blocked: Slurm refuses its submission (2 of 10 tries): <sbatch's message>".
 * Returns buf, or NULL when the summary (or the status answer's entry) has none.
 */
char *cmd_blocked_note(char *buf, unsigned long n, const struct cJSON *blocked);

#endif
