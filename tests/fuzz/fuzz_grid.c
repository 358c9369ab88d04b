/*
 * fuzz_grid — grid_parse() and the expansion on arbitrary bytes.
 *
 * The input is parsed as JSON (cJSON, nesting-limited); any value is handed to
 * grid_parse() with a small trial limit (so the fuzzer cannot ask for a
 * multi-million expansion) and, on success, every configuration is rendered
 * to canonical JSON the way the daemon stores it.  With force on every
 * second input the limit is lifted, but only for grids whose product the
 * limit check already proved small.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "grid.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (!doc)
        return 0;
    struct grid_opts o = {
        .default_name = "fuzz",
        .base_dir = "/nonexistent/base",
        .max_trials = 2000,
        .force = false,
    };
    struct grid *g = NULL;
    struct err e = ERR_INIT;
    if (grid_parse(doc, &o, &g, &e) == 0) {
        size_t nc = grid_n_configs(g);
        for (size_t i = 0; i < nc; i++) {
            cJSON *p = grid_config_params(g, i);
            cJSON *v = grid_config_varying(g, i);
            free(json_line(p));
            free(json_line(v));
            cJSON_Delete(p);
            cJSON_Delete(v);
        }
        cJSON *ds = grid_dataset_json(g);
        free(json_line(ds));
        cJSON_Delete(ds);
        for (size_t k = 0; k < grid_n_keys(g); k++)
            (void)strlen(grid_key(g, k));
        for (size_t k = 0; k < grid_n_seeds(g); k++)
            (void)grid_seed(g, k);
        (void)grid_name(g);
        (void)grid_metric_maximize(g);
        grid_free(g);
    } else if (g) {
        abort(); /* grid_parse must leave *out NULL on error */
    } else if (!e.msg[0]) {
        abort(); /* every error carries a message */
    }
    cJSON_Delete(doc);
    return 0;
}
