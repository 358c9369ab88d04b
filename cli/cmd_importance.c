/*
 * cmd_importance — `mlpctl importance SWEEP [--metric M] [--method anova|fanova]`:
 * which key mattered, as a table (or --json: the analysis document of
 * importance.h, which also draws `mlpctl plot --kind importance`).
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "importance.h"
#include "resp.h"

static void print_fanova(const cJSON *doc)
{
    char title[300];
    const char *space = resp_str(doc, "space", "grid");
    printf("%s: importance of each key for %s (functional ANOVA on a random forest over the "
           "%s%s, %.0f trees, seed %.0f)\n\n",
           cmd_sweep_title(title, sizeof title, cJSON_GetObjectItemCaseSensitive(doc, "sweep")),
           resp_str(doc, "metric", ""), space,
           strcmp(space, "grid") == 0 ? "'s values" : " search space", resp_num(doc, "trees"),
           resp_num(doc, "seed"));
    printf("RANK  %-16s %-11s %10s %7s\n", "KEY", "SCALE", "IMPORTANCE", "SD");
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(doc, "keys"))
    {
        double sd = resp_num(k, "sd");
        char sdb[32] = "n/a";
        if (isfinite(sd))
            snprintf(sdb, sizeof sdb, "%.3f", sd);
        printf("%4.0f  %-16s %-11s %10.3f %7s\n", resp_num(k, "rank"), resp_str(k, "key", "?"),
               resp_str(k, "scale", "?"), resp_num(k, "importance"), sdb);
    }
    printf("\nIMPORTANCE: the key's share of the variance of the forest's prediction (its main\n"
           "effect), mean over %.0f trees, normalised to sum 1; SD: over trees.  Main effects\n"
           "explain %.0f%% of that variance, interactions the rest.  %.0f configurations (their\n"
           "means over seeds).\n",
           resp_num(doc, "trees_used"), 100 * resp_num(doc, "main_effects"),
           resp_num(doc, "configs"));
    double pr = resp_num(doc, "pruned"), nv = resp_num(doc, "no_value");
    if (pr > 0 || nv > 0)
        printf("Left out: %.0f pruned configuration(s), %.0f without a finite value.\n", pr, nv);
}

static void print_human(const cJSON *doc)
{
    if (strcmp(resp_str(doc, "method", ""), "fanova") == 0) {
        print_fanova(doc);
        return;
    }
    char title[300], pb[32];
    printf("%s: importance of each key for %s (ANOVA of the configuration means)\n\n",
           cmd_sweep_title(title, sizeof title, cJSON_GetObjectItemCaseSensitive(doc, "sweep")),
           resp_str(doc, "metric", ""));
    printf("RANK  %-16s %6s %4s %10s %9s %8s\n", "KEY", "LEVELS", "DF", "F", "p", "OMEGA2");
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(doc, "keys"))
    {
        double p = resp_num(k, "p");
        printf("%4.0f  %-16s %6.0f %4.0f %10.3g %9s %8.3f\n", resp_num(k, "rank"),
               resp_str(k, "key", "?"), resp_num(k, "levels"), resp_num(k, "df"),
               resp_num(k, "f"), isfinite(p) ? resp_fmt_p(pb, sizeof pb, p) : "n/a",
               resp_num(k, "omega2"));
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(doc, "interactions");
    double ip = resp_num(in, "p");
    if (resp_num(in, "df") > 0)
        printf("      %-16s %6s %4.0f %10.3g %9s %8.3f\n", "(interactions)", "",
               resp_num(in, "df"), resp_num(in, "f"),
               isfinite(ip) ? resp_fmt_p(pb, sizeof pb, ip) : "n/a", resp_num(in, "omega2"));
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(doc, "error");
    bool seeds = strcmp(resp_str(doc, "error_term", ""), "seeds") == 0;
    printf("\nF tests against the %s (df %.0f); %.0f configurations, %.3g seeds each "
           "(harmonic mean).\nomega2: the share of the metric's variance the key explains "
           "(0 when not above noise).\n",
           seeds ? "seed variance within configurations" : "interactions (one seed only)",
           resp_num(er, "df"), resp_num(doc, "configs"), resp_num(doc, "seeds"));
    double pr = resp_num(doc, "pruned"), nv = resp_num(doc, "no_value");
    if (pr > 0 || nv > 0)
        printf("Left out: %.0f pruned configuration(s), %.0f without a finite value.\n", pr, nv);
}

int cmd_importance(struct cli *cli, int argc, char **argv)
{
    const char *sweep = NULL, *method = NULL;
    long trees = LONG_MIN, seed = LONG_MIN; /* LONG_MIN: not given */
    bool json = false;
    struct importance_opts o = IMPORTANCE_OPTS_INIT;
    struct opt opts[] = {
        {"metric", OPT_STRING, &o.metric},
        {"method", OPT_STRING, &method},
        {"trees", OPT_INT, &trees},
        {"seed", OPT_INT, &seed},
        {"json", OPT_FLAG, &json},
        {NULL, 0, NULL},
    };
    int rc = cmd_parse_sweep(argc, argv, opts, &sweep);
    if (rc != CLI_OK)
        return rc;
    if (method && !importance_method_parse(method, &o.method))
        return cli_usage("importance", "--method: expected anova or fanova, got \"%s\"", method);
    if (trees != LONG_MIN && (trees < 1 || trees > FANOVA_MAX_TREES))
        return cli_usage("importance", "--trees: expected 1 to %d, got %ld", FANOVA_MAX_TREES,
                         trees);
    if (seed != LONG_MIN && seed < 0)
        return cli_usage("importance", "--seed: expected an integer >= 0, got %ld", seed);
    o.forest_opts = trees != LONG_MIN || seed != LONG_MIN;
    if (trees != LONG_MIN)
        o.fp.trees = (int)trees;
    if (seed != LONG_MIN)
        o.fp.seed = (uint64_t)seed;
    cli->json = cli->json || json;
    cJSON *req = cmd_add_sweep(cmd_req("results"), sweep), *resp = NULL, *doc = NULL;
    if (!req || !cJSON_AddTrueToObject(req, "trials")) {
        cJSON_Delete(req);
        fprintf(stderr, "mlpctl importance: out of memory\n");
        return CLI_FAILED;
    }
    if ((rc = cmd_request(cli, req, &resp, NULL)) != CLI_OK)
        goto out;
    char why[512] = "";
    rc = importance_analyse(resp, &o, &doc, why, sizeof why);
    if (rc != CLI_OK) {
        if (rc == CLI_USAGE)
            cli_usage("importance", "%s", why);
        else
            fprintf(stderr, "mlpctl importance: %s\n", why);
        if (cli->json)
            cmd_print_error_json(rc == CLI_USAGE ? "invalid_request" : "conflict", why, NULL);
        goto out;
    }
    if (cli->json)
        cli_print_json(doc);
    else
        print_human(doc);
out:
    cJSON_Delete(resp);
    cJSON_Delete(doc);
    return rc;
}
