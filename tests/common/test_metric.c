/*
 * test_metric — the metric table and the lookups derived from it.
 */
#include "../check.h"
#include "metric.h"

int main(void)
{
    CHECK_EQ_INT(metric_index("val_accuracy"), MLP_M_VAL_ACCURACY);
    CHECK_EQ_INT(metric_index("diverged"), MLP_M_DIVERGED);
    CHECK_EQ_INT(metric_index("val_acc"), -1);
    CHECK_EQ_INT(metric_index(NULL), -1);
    CHECK_EQ_STR(metric_name(MLP_M_TEST_MSE), "test_mse");
    CHECK_EQ_STR(metric_name(MLP_M_N), "?");

    /* Every name round-trips and is unique. */
    for (int m = 0; m < MLP_M_N; m++)
        CHECK_EQ_INT(metric_index(metric_name(m)), m);

    /* Ranking: train/val data metrics only. */
    CHECK(metric_rankable(MLP_M_VAL_ACCURACY));
    CHECK(metric_rankable(MLP_M_TRAIN_LOSS));
    CHECK(metric_rankable(MLP_M_VAL_MSE));
    CHECK(!metric_rankable(MLP_M_TEST_ACCURACY));
    CHECK(!metric_rankable(MLP_M_SECONDS));
    CHECK(!metric_rankable(-1));

    CHECK(metric_maximize(MLP_M_VAL_ACCURACY));
    CHECK(metric_maximize(MLP_M_TEST_ACCURACY));
    CHECK(!metric_maximize(MLP_M_VAL_LOSS));
    CHECK(!metric_maximize(MLP_M_TRAIN_MSE));

    CHECK_EQ_INT(metric_sibling(MLP_M_VAL_ACCURACY, METRIC_TEST), MLP_M_TEST_ACCURACY);
    CHECK_EQ_INT(metric_sibling(MLP_M_VAL_ACCURACY, METRIC_TRAIN), MLP_M_TRAIN_ACCURACY);
    CHECK_EQ_INT(metric_sibling(MLP_M_TRAIN_MSE, METRIC_VAL), MLP_M_VAL_MSE);
    CHECK_EQ_INT(metric_sibling(MLP_M_VAL_LOSS, METRIC_VAL), MLP_M_VAL_LOSS);
    CHECK_EQ_INT(metric_sibling(MLP_M_SECONDS, METRIC_TEST), -1);

    CHECK(metric_for_task(MLP_M_VAL_ACCURACY, false));
    CHECK(!metric_for_task(MLP_M_VAL_ACCURACY, true));
    CHECK(metric_for_task(MLP_M_VAL_MSE, true));
    CHECK(!metric_for_task(MLP_M_VAL_MSE, false));
    CHECK(metric_for_task(MLP_M_VAL_LOSS, true));

    const char *const *cls = metric_rankable_names(false);
    int n = 0;
    for (; cls[n]; n++)
        CHECK(metric_rankable(metric_index(cls[n])));
    CHECK_EQ_INT(n, 4); /* train/val loss and accuracy */
    const char *const *reg = metric_rankable_names(true);
    for (n = 0; reg[n]; n++)
        CHECK(metric_for_task(metric_index(reg[n]), true));
    CHECK_EQ_INT(n, 4); /* train/val loss and mse */

    CHECK_EQ_STR(metric_split_name(metric_info(MLP_M_TEST_LOSS)->split), "test");
    CHECK_EQ_STR(metric_kind_name(metric_info(MLP_M_VAL_ACCURACY)->kind), "accuracy");
    CHECK(metric_info(MLP_M_SECONDS)->per_epoch);
    CHECK(!metric_info(MLP_M_EPOCHS_RUN)->per_epoch);

    /* Result-field order: split by split, bookkeeping last, one task's metrics only. */
    int list[MLP_M_N];
    int nl = metric_task_list(true, list);
    static const char *const reg_order[] = {"train_loss", "train_mse", "val_loss",   "val_mse",
                                            "test_loss",  "test_mse",  "epochs_run", "best_epoch",
                                            "seconds",    "diverged"};
    CHECK_EQ_INT(nl, 10);
    for (int i = 0; i < nl && i < 10; i++)
        CHECK_EQ_STR(metric_name(list[i]), reg_order[i]);
    nl = metric_task_list(false, list);
    CHECK_EQ_INT(nl, 10);
    CHECK_EQ_STR(metric_name(list[1]), "train_accuracy");
    CHECK_EQ_STR(metric_name(list[5]), "test_accuracy");

    char text[256];
    CHECK_EQ_STR(metric_rankable_text(text, sizeof text),
                 "train_loss, train_accuracy, val_loss, val_accuracy, train_mse, val_mse");
    CHECK_EQ_STR(metric_rankable_text(text, 11), "train_loss");
    return check_report();
}
