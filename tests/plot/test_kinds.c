/*
 * test_kinds — the plot kind table and the metric naming the renderers use:
 * every kind in PLOT_KINDS builds the requests its renderer reads (op,
 * sweep, and the options that apply), and plot__metric_parts derives a
 * metric's quantity and its validation/training members from common/metric.h.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "../check.h"
#include "cli/plot.h"

static const char *op_of(const cJSON *req)
{
    return resp_str(req, "op", "?");
}

static void test_metric_parts(void)
{
    struct plot__metric m;
    plot__metric_parts("val_accuracy", &m);
    CHECK_EQ_STR(m.base, "accuracy");
    CHECK_EQ_STR(m.val, "val_accuracy");
    CHECK_EQ_STR(m.train, "train_accuracy");
    plot__metric_parts("train_loss", &m);
    CHECK_EQ_STR(m.base, "loss");
    CHECK_EQ_STR(m.val, "val_loss");
    CHECK_EQ_STR(m.train, "train_loss");
    plot__metric_parts("test_mse", &m);
    CHECK_EQ_STR(m.val, "val_mse");
    CHECK_EQ_STR(m.train, "train_mse");
    /* A name metric.h does not know keeps the old text rule. */
    plot__metric_parts("val_f1", &m);
    CHECK_EQ_STR(m.base, "f1");
    CHECK_EQ_STR(m.train, "train_f1");
    plot__metric_parts("seconds", &m);
    CHECK_EQ_STR(m.base, "seconds");
}

static void test_kinds(void)
{
    const struct plot_kind *kinds[] = {&plot_kind_ranking, &plot_kind_curves, &plot_kind_gap,
                                       &plot_kind_by};
    struct plot_args a = {.sweep = "12", .key = "lr", .metric = "val_loss", .top = 3};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        const struct plot_kind *pk = kinds[k];
        CHECK(pk->name && pk->request && pk->render);
        CHECK(pk->nreq >= 1 && pk->nreq <= PLOT_MAX_REQ);
        CHECK(!pk->needs_key || pk->takes_key);
        for (int i = 0; i < pk->nreq; i++) {
            cJSON *req = pk->request(&a, i);
            CHECK(req != NULL);
            /* The sweep goes as other verbs send it: digits as an id. */
            CHECK_NEAR(resp_num(req, "sweep"), 12, 0);
            CHECK_EQ_INT(resp_str(req, "metric", NULL) != NULL, pk->takes_metric && i == 0);
            CHECK_EQ_INT(resp_str(req, "by", NULL) != NULL, pk->takes_key);
            cJSON_Delete(req);
        }
    }
    cJSON *r = plot_kind_ranking.request(&a, 0);
    CHECK_EQ_STR(op_of(r), "best");
    CHECK_NEAR(resp_num(r, "top"), 3, 0);
    cJSON_Delete(r);
    r = plot_kind_curves.request(&a, 1);
    CHECK_EQ_STR(op_of(r), "results");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "curves")));
    cJSON_Delete(r);
    r = plot_kind_by.request(&a, 0);
    CHECK_EQ_STR(op_of(r), "show");
    CHECK_EQ_STR(resp_str(r, "by", ""), "lr");
    cJSON_Delete(r);
}

int main(void)
{
    test_metric_parts();
    test_kinds();
    return check_report();
}
