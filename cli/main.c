/*
 * mlpctl — the command-line client of mlpd.
 *
 * main() takes the global options (--socket, --json, --help, --version)
 * wherever they appear, looks the verb up in verbs[] — one row per verb with
 * its function, whether it talks to mlpd, its usage text and a one-line
 * summary (git's commands[]) — and runs it.  The verbs themselves live in
 * cmd_*.c (and plot.c/report.c); they parse their own options with
 * opts_parse() (cmd.c), which is table-driven too.  Adding a verb is one
 * file (or function) and one row below.  Usage errors exit 2 with the
 * verb's usage (cli_usage, here beside the table); an unknown verb gets a
 * "did you mean" suggestion.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "json.h"
#include "mlp_version.h"

#include "plot.h"

struct verb {
    const char *name;    /* the word on the command line */
    cli_verb_fn fn;      /* what runs it */
    bool needs_daemon;   /* talks to mlpd (needs the socket path) */
    const char *usage;   /* full usage text, printed by --help and on usage errors */
    const char *summary; /* one line for `mlpctl help` */
};

static const struct verb verbs[] = {
    {"submit", cmd_submit, true,
     "usage: mlpctl submit FILE|- [--name N] [--priority P] [--dry-run [--all]] [--force]\n"
     "\n"
     "Validate a grid file (SPEC.md \"The grid file\"), expand it and queue its trials.\n"
     "FILE '-' reads standard input.  Relative dataset paths are resolved against the\n"
     "file's directory (the current directory for stdin).  The sweep is named by\n"
     "--name, else the file's \"name\", else the file's base name without .json.\n"
     "\n"
     "  --name N       sweep name: 1 to 200 bytes of UTF-8, no control characters, not all digits\n"
     "  --priority P   integer; higher runs first (default 0)\n"
     "  --dry-run      validate and print the count and first configurations; queue nothing\n"
     "  --all          with --dry-run: list every configuration (a \"search\" draws exactly "
     "these)\n"
     "  --force        accept grids larger than the daemon's trial limit\n"
     "\n"
     "Exit 4 when the file is invalid (the message names the place, e.g. grid.lr[1]).\n",
     "validate a grid file and queue its trials"},
    {"status", cmd_status, true,
     "usage: mlpctl status\n"
     "\n"
     "Daemon version, uptime, workers busy/total, trials queued/running/done/failed,\n"
     "why no trial starts when dispatch is paused (a full disk: \"dispatch   PAUSED: ...\"),\n"
     "and the running trials (id, sweep, config, seed, attempt, elapsed, executor).\n",
     "daemon and queue status"},
    {"list", cmd_list, true,
     "usage: mlpctl list [--wide] [--state S[,S...]]... [--tag KEY[=VALUE]]... [--limit N]\n"
     "\n"
     "Every sweep, newest first: id, name, state, priority, created, done/total, failed,\n"
     "best metric so far.  --wide: full names (never cut), the metric, executor and Slurm\n"
     "job ids.\n"
     "--state: only sweeps in these states (queued running paused done failed cancelled;\n"
     "repeatable).  --tag KEY=VALUE: only sweeps with this tag (KEY alone: with any value;\n"
     "repeatable, all must match).  --limit N: the N newest.  A SWEEP argument may be its id,\n"
     "its name, or a prefix of the name that only one sweep has.\n",
     "list sweeps"},
    {"show", cmd_show, true,
     "usage: mlpctl show SWEEP [--by KEY]\n"
     "       mlpctl show SWEEP --config N --confusion [--counts]\n"
     "\n"
     "One row per configuration: its varying hyperparameters, seeds done/total, the\n"
     "sweep's metric as mean ± standard error over seeds, the train−validation gap and\n"
     "the rank.  The gap is flagged with \"!\" (possible overfitting) when the training\n"
     "accuracy exceeds the validation accuracy by more than 0.05, or, for loss and MSE\n"
     "metrics, when the validation value exceeds the training value by more than 25%.\n"
     "\n"
     "  --by KEY   instead, the marginal effect of one hyperparameter: for each of its\n"
     "             values, the metric's mean ± SE over all configurations and seeds\n"
     "  --config N --confusion\n"
     "             instead, configuration N's test confusion matrix over seeds: each\n"
     "             cell as % of its true class's rows, mean ± SE (--counts: mean test\n"
     "             rows per cell ± SE), then per-class accuracy with 95% intervals\n"
     "\n"
     "SWEEP is a sweep id or its unique name.\n",
     "per-configuration results of a sweep"},
    {"best", cmd_best, true,
     "usage: mlpctl best SWEEP [--metric M] [--top K | --bottom K] [--min-seeds N]\n"
     "\n"
     "The best configuration(s) by the sweep's metric (or M): mean, sample sd, standard\n"
     "error, 95% Student-t interval and n over seeds, the train and test metric at each,\n"
     "and Welch's t-test of the best against the runner-up.  Works while the sweep runs.\n"
     "--bottom K lists the K worst instead, worst first, with their overall rank.\n"
     "Pruned configurations are listed after the ranking with the epoch they were\n"
     "stopped at, never ranked; a sweep with confirm also shows the confirmed ranking.\n"
     "\n"
     "  --metric M      rank by M (val_accuracy, val_loss, train_accuracy, ...; not test_*)\n"
     "  --top K         show the K best (default 1; the comparison always uses #1 vs #2)\n"
     "  --min-seeds N   ignore configurations with fewer than N finished seeds\n",
     "the best configuration with its statistics"},
    {"importance", cmd_importance, true,
     "usage: mlpctl importance SWEEP [--metric M] [--method anova|fanova] [--trees N] [--seed S]\n"
     "\n"
     "Which key mattered, on the configuration means (their seeds averaged).\n"
     "anova (the default for grids): a multi-way ANOVA (main effects) of a complete\n"
     "grid, each key's F-test against the seed variance (within configurations) with\n"
     "its p-value, and omega squared (the share of the metric's variance the key\n"
     "explains, 0 when not above noise); keys ranked by omega squared.  A design that\n"
     "is not a complete grid (a random/Sobol search, a grid thinned by pruning) is\n"
     "refused (exit 1).\n"
     "fanova (the default for random/Sobol searches): functional ANOVA on a random\n"
     "forest fitted over the search space (log-scaled keys in log space, choices and\n"
     "grid keys as categories): each key's share of the variance of the forest's\n"
     "prediction, mean over trees normalised to sum 1, with its SD over trees.\n"
     "Configurations with a pruned trial are left out.\n"
     "\n"
     "  --metric M      analyse M (val_accuracy, val_loss, train_accuracy, ...; not test_*)\n"
     "  --method NAME   anova or fanova (default: fanova for a search, else anova)\n"
     "  --trees N       fanova: trees in the forest (default 64, at most 10000)\n"
     "  --seed S        fanova: seed of the trees' bootstrap samples (default 0)\n",
     "which hyperparameter mattered (ANOVA with p-values, or fANOVA for searches)"},
    {"results", cmd_results, true,
     "usage: mlpctl results SWEEP [--format csv|json] [--trials] [--curves] [--out FILE]\n"
     "\n"
     "Export results.  Default: one row per configuration with n and, for every metric,\n"
     "<metric>_mean, _sd and _se.  Hyperparameters appear under their grid keys (hidden\n"
     "as [256,128]).  CSV follows RFC 4180 (header row, CRLF, quoted fields).  Rows are\n"
     "written as they arrive, so memory stays small whatever the sweep's size.\n"
     "\n"
     "  --format F   csv (default) or json (the default with --json)\n"
     "  --trials     one row per trial: trial, config, keys, seed, state, attempts, metrics\n"
     "  --curves     one row per trial and epoch: trial, config, keys, seed, epoch, losses,\n"
     "               accuracies, seconds\n"
     "  --out FILE   write to FILE instead of standard output (renamed into place once\n"
     "               complete; not created when the export fails)\n",
     "export results as CSV or JSON"},
    {"compare", cmd_compare, true,
     "usage: mlpctl compare SWEEP A B [--metric M]\n"
     "\n"
     "Configuration A against B (numbers as in show) on the sweep's metric or M (any\n"
     "train/val/test loss, accuracy or mse): each side's mean ± SE and 95% interval, the\n"
     "paired t-test of A − B over the seeds both finished, Welch's t-test over all their\n"
     "seeds, the difference with its 95% intervals, and a sentence at the 0.05 level.\n",
     "test whether one configuration beats another"},
    {"trial", cmd_trial, true,
     "usage: mlpctl trial ID [--follow]\n"
     "\n"
     "One trial: configuration, seed, state, metrics, its test confusion matrix,\n"
     "per-epoch curve, saved artifacts, the tail of its log.\n"
     "\n"
     "  --follow   print the trial's new epochs and log lines as they come (polled\n"
     "             once a second) until it ends; exit 0 when it ends done, 1 when\n"
     "             failed or cancelled. With --json: one JSON object per line,\n"
     "             {\"event\": \"epoch\"|\"log\"|\"end\", ...}.\n",
     "one trial in detail"},
    {"watch", cmd_watch, true,
     "usage: mlpctl watch [SWEEP]\n"
     "\n"
     "Live progress until the sweep ends (without SWEEP: every active sweep).  On a\n"
     "terminal a redrawn line with a bar, done/total, running, failed, ETA and the best\n"
     "so far; otherwise one plain line per progress event (with --json: one JSON object\n"
     "per line).  Exits like wait: 0 when every trial succeeded, 1 otherwise.\n",
     "live progress of a sweep"},
    {"dashboard", cmd_dashboard, true,
     "usage: mlpctl dashboard [--port P] [--bind ADDR] [--redraw SECONDS]\n"
     "\n"
     "Serve a read-only web view of mlpd (sweeps, ranking, trials, live progress) on\n"
     "loopback (default 127.0.0.1, port P or a free one) and print its URL with a random\n"
     "token, required on every request.  From another machine: ssh -L P:127.0.0.1:P host.\n"
     "While a sweep runs, its page's ranking and plots are drawn again at most every\n"
     "SECONDS (default: ten times as long as drawing them took).\n"
     "Runs until interrupted.  Needs a build with libmicrohttpd.\n",
     "serve a live read-only web dashboard"},
    {"wait", cmd_wait, true,
     "usage: mlpctl wait SWEEP [--timeout SECONDS]\n"
     "\n"
     "Block until the sweep ends.  Exit 0 if every trial succeeded, 1 otherwise.\n"
     "With --timeout, give up after SECONDS: exit 1 with \"has not ended after ...\"\n"
     "on stderr (the sweep goes on).\n",
     "block until a sweep ends"},
    {"cancel", cmd_control, true,
     "usage: mlpctl cancel SWEEP\n\nCancel the sweep's queued and running trials.\n",
     "cancel a sweep"},
    {"pause", cmd_control, true,
     "usage: mlpctl pause SWEEP\n\nStart no new trials of the sweep (running ones finish).\n",
     "pause a sweep"},
    {"resume", cmd_control, true,
     "usage: mlpctl resume SWEEP\n\nLet a paused sweep start trials again.\n",
     "resume a paused sweep"},
    {"retry", cmd_control, true,
     "usage: mlpctl retry SWEEP [--cancelled]\n\nRe-queue the sweep's failed trials; with "
     "--cancelled its cancelled trials too\n(a cancelled sweep is revived; 'resume' does the "
     "same for a cancelled sweep).\n",
     "re-queue failed trials"},
    {"delete", cmd_delete, true,
     "usage: mlpctl delete SWEEP [--force]\n"
     "\n"
     "Remove the sweep with its configurations, trials, results, curves, logs and\n"
     "artifacts.  Refused while trials run, unless --force (they are stopped first).\n",
     "delete a sweep"},
    {"shutdown", cmd_shutdown, true,
     "usage: mlpctl shutdown [--now]\n"
     "\n"
     "Stop mlpd: running trials finish first; with --now they are stopped and re-queued\n"
     "(they run again when mlpd starts).\n",
     "stop the daemon"},
    {"data", cmd_data, false,
     "usage: mlpctl data list\n"
     "       mlpctl data fetch NAME\n"
     "       mlpctl data verify\n"
     "\n"
     "list: the datasets available on this machine and where they are.\n"
     "fetch: install a dataset into the data dir ($MLPD_DATA, else <state dir>/data).\n"
     "verify: check every entry of the prepared-data cache (<data dir>/cache) in full\n"
     "(header, size, checksum of the arrays, source files unchanged) and remove the bad\n"
     "ones, which the next trial builds again; exit 1 when any was bad.  The cache may\n"
     "be deleted at any time (rm -r <data dir>/cache): running trials keep their copy.\n"
     "All run locally; mlpd need not be running.\n",
     "list, install or verify datasets"},
    {"artifact", cmd_artifact, true,
     "usage: mlpctl artifact TRIAL [--list] [--name FILE] [--out DIR]\n"
     "\n"
     "Fetch the files a trial saved (grid \"save\": model.npz, predictions.csv, and for\n"
     "2-feature data boundary.csv and points.csv) from mlpd.  Without options every file\n"
     "is written into ./trial-<TRIAL>/ and its path printed.\n"
     "\n"
     "  --list       list the files and their sizes instead\n"
     "  --name FILE  only this file\n"
     "  --out DIR    write into DIR (created if missing); with --name, '-' is stdout\n",
     "fetch a trial's saved model and predictions"},
    {"gradcheck", cmd_gradcheck, false,
     "usage: mlpctl gradcheck FILE --config N [--seed S] [--human]\n"
     "\n"
     "Check the gradients of configuration N (1-based, as submit --dry-run numbers them)\n"
     "of a grid file: the file is validated and expanded locally, and mlp-worker\n"
     "--gradcheck runs on the trial spec (seed 1, or S).  Prints the worst relative error\n"
     "per layer and parameter kind, then of the training steps' updates per optimizer\n"
     "path and batch size (with --json one document).  mlpd need not run.\n"
     "Exit 0 when every error is under the tolerance, 1 otherwise, 2 for a bad --config,\n"
     "4 for an invalid grid file.\n",
     "check a configuration's gradients by finite differences"},
    {"plot", cmd_plot, true,
     "usage: mlpctl plot SWEEP --out FILE.svg [--kind K] [--key K] [--top K] [--metric M]\n"
     "       mlpctl plot SWEEP --kind importance [--metric M] [--method anova|fanova] --out F\n"
     "       mlpctl plot SWEEP --kind heatmap --keys A,B [--metric M] --out FILE.svg\n"
     "       mlpctl plot SWEEP --kind confusion --config N --out FILE.svg\n"
     "       mlpctl plot --kind boundary --trial N --out FILE.svg\n"
     "\n"
     "Draw a self-contained SVG: ranking (metric ± SE per configuration), curves (mean\n"
     "learning curves ± SE bands; test dashed-dotted when recorded; --metric lr: the\n"
     "learning rate of every epoch), gap (train vs\n"
     "validation), by (marginal effect of --key), learning (train/validation/test vs a\n"
     "numeric --key such as train_size, log axis, one line group per other key's values),\n"
     "confusion (seed-averaged confusion matrix of configuration N), boundary (decision\n"
     "boundary of a trial on 2-feature data that saved its model).  ranking --metric\n"
     "test_accuracy: the test mean ± SE and every seed's value, in validation order (the\n"
     "test split is never used for selection).  parallel: parallel coordinates, one axis\n"
     "per varying key (log axes for log-scale keys, categories for shapes and names) and\n"
     "one for --metric, a line per configuration (mean over seeds) coloured by it.\n"
     "importance: a bar per key, as 'mlpctl importance' (ANOVA omega^2 with F and p for a\n"
     "grid, fANOVA for a random/Sobol search).  heatmap: the mean ± SE of --metric over\n"
     "two varying keys A (columns) and B (rows); blank where nothing finished.  ranking\n"
     "of a sweep with confirm: each confirmed configuration's test mean ± SE on the\n"
     "fresh seeds and its confirmed rank beside its selection estimate.\n"
     "Configurations are labelled by the keys that vary between them; pruned ones are\n"
     "shown as pruned, not ranked.\n",
     "draw a plot of a sweep (SVG)"},
    {"report", cmd_report, true,
     "usage: mlpctl report SWEEP --out FILE.html\n"
     "\n"
     "One self-contained HTML file with the sweep's tables and every plot: importance\n"
     "of each key, parallel coordinates, the heat map of the two keys that vary (else of\n"
     "the two most important), the confirmed ranking of a sweep with confirm, and the\n"
     "decision boundaries of the three best configurations when the trials saved models\n"
     "of 2-feature data.\n",
     "HTML report of a sweep"},
    {"tag", cmd_tag, true,
     "usage: mlpctl tag SWEEP [--config N] [KEY=VALUE]... [--remove KEY[,KEY...]]\n"
     "\n"
     "Set tags on the sweep (or on its configuration N): KEY=VALUE labels shown by show,\n"
     "list and report, and matched by 'list --tag KEY=VALUE'.  A KEY has letters, digits,\n"
     "'_', '-', '.' and ':' (up to 64 bytes); a VALUE up to 256 bytes.  Setting a KEY\n"
     "again replaces its value.  Prints the tags after the change (without KEY=VALUE:\n"
     "the current tags).\n"
     "\n"
     "  --config N          tag configuration N instead of the sweep\n"
     "  --remove KEY,...    remove these tags\n",
     "label a sweep or configuration with KEY=VALUE tags"},
    {"note", cmd_note, true,
     "usage: mlpctl note SWEEP [--config N] [TEXT|-] [--if-version V | --append | --clear]\n"
     "\n"
     "Without TEXT, print the note of the sweep (or configuration N) with its version.\n"
     "With TEXT ('-' reads standard input), write it: the first note needs nothing more;\n"
     "replacing a note needs --if-version V, the version it replaces (as printed), so an\n"
     "edit made meanwhile by someone else is never overwritten: mlpd refuses (exit 1) and\n"
     "leaves the note as it is.  --append adds TEXT as a new line (no version needed).\n"
     "\n"
     "  --config N       the note of configuration N instead of the sweep's\n"
     "  --if-version V   replace the note only if it is still at version V\n"
     "  --append         add TEXT after the current note\n"
     "  --clear          empty the note (with --if-version V)\n",
     "write or read the note of a sweep or configuration"},
    {"help", NULL, false, "usage: mlpctl help [VERB]\n", "show help for mlpctl or a verb"},
};

#define N_VERBS (sizeof verbs / sizeof verbs[0])

static const struct verb *find_verb(const char *name)
{
    for (size_t i = 0; i < N_VERBS; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

const char *cli_verb_usage(const char *verb)
{
    const struct verb *v = find_verb(verb);
    return v ? v->usage : NULL;
}

static void print_main_usage(FILE *out)
{
    fprintf(out, "usage: mlpctl [--socket PATH] [--json] VERB [ARGS]\n"
                 "       mlpctl help [VERB] | --version\n"
                 "\n"
                 "Verbs:\n");
    for (size_t i = 0; i < N_VERBS; i++)
        fprintf(out, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out,
            "\n"
            "Options (before or after the verb):\n"
            "  --socket PATH  mlpd's socket (default $MLPD_SOCKET, else <state dir>/mlpd.sock)\n"
            "  --json         one JSON document on stdout, for scripts\n"
            "  --help         this text, or the verb's usage after a verb\n"
            "  --version      print mlpctl's version\n"
            "\n"
            "A SWEEP is named by its id, its name, or a prefix of its name that only one\n"
            "sweep has.  Exit codes: 0 success, 1 the operation failed (or a waited-for sweep\n"
            "had failures), 2 usage error, 3 mlpd unreachable, 4 invalid input.\n");
}

/* A verb's usage, and for verbs that take a SWEEP how one may be named (one text for all). */
static void print_verb_usage(const struct verb *v)
{
    fputs(v->usage, stdout);
    const char *nl = strchr(v->usage, '\n');
    size_t first = nl ? (size_t)(nl - v->usage) : strlen(v->usage);
    if (memmem(v->usage, first, "SWEEP", 5) && !strstr(v->usage, "prefix"))
        fputs("\nSWEEP: its id, its name, or a prefix of its name that only one sweep has.\n",
              stdout);
}

/* Text for roff: backslashes doubled, a leading '.' or '\'' protected. */
static void roff_text(FILE *out, const char *s)
{
    bool bol = true;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
        bol = *s == '\n';
    }
}

/*
 * mlpctl(1), written from the verb table (the same text as --help), so the
 * man page cannot drift from the program: meson builds it with --help-roff.
 */
static void print_roff(FILE *out)
{
    fprintf(out, ".TH MLPCTL 1 \"\" \"mlpsweep %s\" \"User Commands\"\n", MLP_VERSION);
    fputs(
        ".SH NAME\nmlpctl \\- submit, watch and query hyperparameter sweeps run by mlpd\n"
        ".SH SYNOPSIS\n.B mlpctl\n[\\-\\-socket PATH] [\\-\\-json] VERB [ARGS]\n"
        ".SH DESCRIPTION\nmlpctl is the command-line client of\n.BR mlpd (8).\n"
        "A SWEEP is named by its id, its name, or a prefix of its name that only one sweep "
        "has.\n.SH GLOBAL OPTIONS\n"
        ".TP\n\\-\\-socket PATH\nmlpd's socket (default $MLPD_SOCKET, else <state dir>/mlpd.sock)\n"
        ".TP\n\\-\\-json\none JSON document on stdout, for scripts\n"
        ".TP\n\\-\\-help\nthe usage, or the verb's usage after a verb\n"
        ".TP\n\\-\\-version\nprint mlpctl's version\n.SH VERBS\n",
        out);
    for (size_t i = 0; i < N_VERBS; i++) {
        fprintf(out, ".SS %s\n", verbs[i].name);
        roff_text(out, verbs[i].summary);
        fputs(".\n.PP\n.nf\n", out);
        roff_text(out, verbs[i].usage);
        fputs(".fi\n", out);
    }
    fputs(".SH EXIT STATUS\n0 success, 1 the operation failed (or a waited-for sweep had "
          "failures), 2 usage error, 3 mlpd unreachable, 4 invalid input.\n"
          ".SH ENVIRONMENT\n.TP\nMLPD_SOCKET\nthe socket path\n.TP\nMLPD_HOME\nthe state "
          "dir (default ${XDG_STATE_HOME:\\-$HOME/.local/state}/mlpd)\n"
          ".SH SEE ALSO\n.BR mlpd (8),\n.BR mlp-worker (1)\n",
          out);
}

/*
 * A bash completion script from the verb table: the verbs, each verb's
 * options (every --word of its usage text) and, where the usage names a
 * SWEEP, the sweep names mlpd knows (asked at completion time).
 */
static void print_completion(FILE *out)
{
    fputs("# bash completion for mlpctl, generated by mlpctl --completion-bash\n"
          "_mlpctl_sweeps() { mlpctl list --wide 2>/dev/null | awk 'NR > 1 { print $1; print $2 "
          "}'; }\n"
          "_mlpctl() {\n  local cur verb i\n  cur=${COMP_WORDS[COMP_CWORD]}\n  verb=\n"
          "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "    case ${COMP_WORDS[i]} in --socket) ((i++));; -*) ;; *) verb=${COMP_WORDS[i]}; "
          "break;; esac\n"
          "  done\n",
          out);
    /* The values of plot's --kind (the kind table) and --method. */
#define KIND_WORD(k) #k " "
    fputs("  case $verb:${COMP_WORDS[COMP_CWORD-1]} in\n"
          "    plot:--kind) COMPREPLY=($(compgen -W '" PLOT_KINDS(KIND_WORD) "' -- \"$cur\"))"
          "; return;;\n"
          "    plot:--method) COMPREPLY=($(compgen -W 'anova fanova' -- \"$cur\")); return;;\n"
          "  esac\n"
          "  if [[ -z $verb ]]; then\n    COMPREPLY=($(compgen -W '",
          out);
#undef KIND_WORD
    for (size_t i = 0; i < N_VERBS; i++)
        fprintf(out, "%s ", verbs[i].name);
    fputs("--socket --json --help --version' -- \"$cur\"))\n    return\n  fi\n"
          "  case $verb in\n",
          out);
    for (size_t i = 0; i < N_VERBS; i++) {
        fprintf(out, "    %s) local opts='", verbs[i].name);
        const char *seen[64];
        size_t seen_len[64], ns = 0;
        for (const char *p = verbs[i].usage; (p = strstr(p, "--")) != NULL;) {
            size_t k = 2;
            while (p[k] && (islower((unsigned char)p[k]) || p[k] == '-'))
                k++;
            bool dup = k <= 2;
            for (size_t j = 0; j < ns && !dup; j++)
                dup = seen_len[j] == k && strncmp(seen[j], p, k) == 0;
            if (!dup && ns < 64) {
                seen_len[ns] = k;
                seen[ns++] = p;
                fprintf(out, "%.*s ", (int)k, p);
            }
            p += k;
        }
        fprintf(out, "--json --help'; %s;;\n",
                strstr(verbs[i].usage, "SWEEP")
                    ? "COMPREPLY=($(compgen -W \"$opts $(_mlpctl_sweeps)\" -- \"$cur\"))"
                    : "COMPREPLY=($(compgen -f -W \"$opts\" -- \"$cur\"))");
    }
    fputs("  esac\n}\ncomplete -F _mlpctl mlpctl\n", out);
}

static int unknown_verb(const char *name)
{
    const char *names[N_VERBS + 1];
    for (size_t i = 0; i < N_VERBS; i++)
        names[i] = verbs[i].name;
    names[N_VERBS] = NULL;
    const char *guess = json_suggest(name, names);
    fprintf(stderr, "mlpctl: unknown verb '%s'", name);
    if (guess)
        fprintf(stderr, " (did you mean '%s'?)", guess);
    fprintf(stderr, "\nRun 'mlpctl help' for the list of verbs.\n");
    return CLI_USAGE;
}

static int help(int argc, char **argv)
{
    if (argc < 2) {
        print_main_usage(stdout);
        return CLI_OK;
    }
    const struct verb *v = find_verb(argv[1]);
    if (!v)
        return unknown_verb(argv[1]);
    print_verb_usage(v);
    return CLI_OK;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mlpctl%s%s: ", verb ? " " : "", verb ? verb : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    const char *u = verb ? cli_verb_usage(verb) : NULL;
    if (u)
        fprintf(stderr, "%s", u);
    else
        fprintf(stderr, "Run 'mlpctl help' for the list of verbs.\n");
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    char sockbuf[CONFIG_PATH_MAX];
    struct cli cli = {.socket_path = NULL, .json = false, .fd = -1, .rbuf_ = NULL};
    bool want_help = false, want_version = false, want_roff = false, want_completion = false;
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    int nargs = 0, rc;
    if (!args) {
        fprintf(stderr, "mlpctl: out of memory\n");
        return CLI_FAILED;
    }
    signal(SIGPIPE, SIG_IGN);

    /* Global options anywhere before a "--"; the rest goes to the verb in order. */
    bool rest = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (rest) {
            args[nargs++] = a;
        } else if (strcmp(a, "--") == 0) {
            rest = true;
            args[nargs++] = a;
        } else if (strcmp(a, "--json") == 0) {
            cli.json = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            want_help = true;
        } else if (strcmp(a, "--version") == 0) {
            want_version = true;
        } else if (strcmp(a, "--help-roff") == 0) {
            want_roff = true;
        } else if (strcmp(a, "--completion-bash") == 0) {
            want_completion = true;
        } else if (strcmp(a, "--socket") == 0) {
            if (i + 1 >= argc) {
                rc = cli_usage(NULL, "option '--socket' needs a value");
                goto out;
            }
            cli.socket_path = argv[++i];
        } else if (strncmp(a, "--socket=", 9) == 0) {
            cli.socket_path = a + 9;
        } else {
            args[nargs++] = a;
        }
    }

    if (nargs == 0 && (want_roff || want_completion)) {
        if (want_roff)
            print_roff(stdout);
        else
            print_completion(stdout);
        rc = CLI_OK;
        goto out;
    }
    if (want_version) {
        printf("mlpctl %s\n", MLP_VERSION);
        rc = CLI_OK;
        goto out;
    }
    if (nargs == 0) {
        print_main_usage(want_help ? stdout : stderr);
        rc = want_help ? CLI_OK : CLI_USAGE;
        goto out;
    }
    const struct verb *v = find_verb(args[0]);
    if (!v) {
        rc = unknown_verb(args[0]);
        goto out;
    }
    if (want_help) {
        print_verb_usage(v);
        rc = CLI_OK;
        goto out;
    }
    if (!v->fn) {
        rc = help(nargs, args);
        goto out;
    }
    if (!cli.socket_path) {
        if (config_socket_path(sockbuf, sizeof sockbuf) != 0) {
            if (v->needs_daemon) {
                fprintf(stderr, "mlpctl: cannot tell where mlpd's socket is ($HOME is not set); "
                                "set MLPD_SOCKET or MLPD_HOME, or pass --socket PATH.\n");
                rc = CLI_UNREACHABLE;
                goto out;
            }
            sockbuf[0] = '\0';
        }
        cli.socket_path = sockbuf;
    }
    rc = v->fn(&cli, nargs, args);
    if (fflush(stdout) != 0 && errno != EPIPE && rc == CLI_OK) {
        fprintf(stderr, "mlpctl: writing output failed: %s\n", strerror(errno));
        rc = CLI_FAILED;
    }
out:
    cli_disconnect(&cli);
    free(args);
    return rc;
}
