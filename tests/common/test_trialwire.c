/*
 * test_trialwire — the mlpd <-> mlp-worker line protocol: spec and event
 * round trips (write then read gives the same struct), lines written by hand
 * as SPEC.md shows them, the reader's refusals (bad confusion matrices,
 * out-of-range epochs and counts, trailing text after a spec), and the
 * per-class accuracy against hand-computed values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "err.h"
#include "trialwire.h"

static struct trial_spec a, b; /* big (paths): not on the stack */

static void test_spec_round_trip(void)
{
    struct err e = ERR_INIT;
    CHECK_EQ_INT(trialwire_spec_init(&a, "{\"name\":\"moons\",\"n\":300,\"noise\":0.2}",
                                     "{\"hidden\":[16,8],\"lr\":0.05,\"epochs\":3,"
                                     "\"max_seconds\":12.5}",
                                     7, 42, "/tmp/art/42", &e),
                 0);
    CHECK_EQ_INT(a.seed, 7);
    CHECK_EQ_INT(a.trial, 42);
    CHECK_NEAR(a.hp.lr, 0.05, 1e-12);
    CHECK_NEAR(a.hp.max_seconds, 12.5, 1e-12);
    CHECK_EQ_STR(a.ds.name, "moons");
    char *line = trialwire_spec_write(&a, &e);
    CHECK(line != NULL);
    if (!line)
        return;
    CHECK(strchr(line, '\n') == NULL);
    CHECK_EQ_INT(trialwire_spec_read(&b, line, strlen(line), "/", &e), 0);
    CHECK_EQ_INT(b.seed, a.seed);
    CHECK_EQ_INT(b.trial, a.trial);
    CHECK_EQ_STR(b.artifacts_dir, "/tmp/art/42");
    CHECK_EQ_STR(b.ds.name, a.ds.name);
    CHECK_EQ_INT(b.ds.n, 300);
    CHECK_NEAR(b.ds.noise, 0.2, 1e-12);
    CHECK_EQ_INT(b.hp.n_hidden, 2);
    CHECK_EQ_INT(b.hp.hidden[0], 16);
    CHECK_EQ_INT(b.hp.hidden[1], 8);
    CHECK_EQ_INT(b.hp.epochs, 3);
    /* Writing what was read gives the same line again. */
    char *again = trialwire_spec_write(&b, &e);
    CHECK(again && strcmp(again, line) == 0);
    free(again);
    free(line);
}

static void test_spec_refusals(void)
{
    struct err e = ERR_INIT;
    const char *ok = "{\"dataset\":\"xor\",\"seed\":3,\"params\":{\"lr\":0.1}}";
    CHECK_EQ_INT(trialwire_spec_read(&b, ok, strlen(ok), "/", &e), 0);
    CHECK_EQ_INT(b.seed, 3);
    CHECK_EQ_INT(b.trial, 0);
    CHECK_EQ_STR(b.artifacts_dir, "");
    const char *trailing = "{\"dataset\":\"xor\"} {}";
    CHECK_EQ_INT(trialwire_spec_read(&b, trailing, strlen(trailing), "/", &e), MLP_EINVALID_SPEC);
    const char *spaces = "{\"dataset\":\"xor\"}\n \t";
    CHECK_EQ_INT(trialwire_spec_read(&b, spaces, strlen(spaces), "/", &e), 0);
    CHECK_EQ_INT(b.seed, 1); /* the default */
    err_clear(&e);
    const char *typo = "{\"dataset\":\"xor\",\"sede\":3}";
    CHECK_EQ_INT(trialwire_spec_read(&b, typo, strlen(typo), "/", &e), MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.path, "sede");
    CHECK(strstr(e.msg, "did you mean \"seed\"") != NULL);
    err_clear(&e);
    const char *hp = "{\"dataset\":\"xor\",\"lr\":0.1}";
    CHECK_EQ_INT(trialwire_spec_read(&b, hp, strlen(hp), "/", &e), MLP_EINVALID_SPEC);
    CHECK(strstr(e.msg, "go in \"params\"") != NULL);
    err_clear(&e);
    const char *badlr = "{\"dataset\":\"xor\",\"params\":{\"lr\":-1}}";
    CHECK_EQ_INT(trialwire_spec_read(&b, badlr, strlen(badlr), "/", &e), MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.path, "params.lr");
}

static void test_event_round_trip(void)
{
    struct trial_event w, r;
    trialwire_event_init(&w, TRIAL_EV_RESULT);
    w.v[MLP_M_TRAIN_LOSS] = 0.25;
    w.v[MLP_M_VAL_ACCURACY] = 0.875;
    w.v[MLP_M_TEST_LOSS] = NAN; /* written as null, read as NaN */
    w.v[MLP_M_EPOCHS_RUN] = 12;
    w.v[MLP_M_DIVERGED] = 1;
    w.has = 1u << MLP_M_TRAIN_LOSS | 1u << MLP_M_VAL_ACCURACY | 1u << MLP_M_TEST_LOSS |
            1u << MLP_M_EPOCHS_RUN | 1u << MLP_M_DIVERGED;
    snprintf(w.normalize, sizeof w.normalize, "global");
    int64_t c[4] = {5, 1, 0, 7};
    w.n_classes = 2;
    w.confusion = c;
    w.n_artifacts = 2;
    snprintf(w.artifacts[0], sizeof w.artifacts[0], "model.npz");
    snprintf(w.artifacts[1], sizeof w.artifacts[1], "predictions \"q\".csv");
    char *line = trialwire_event_write(&w);
    CHECK(line != NULL);
    if (!line)
        return;
    CHECK(strstr(line, "\"test_loss\":null") != NULL);
    CHECK(strstr(line, "\"diverged\":true") != NULL);
    CHECK(strstr(line, "\"epochs_run\":12") != NULL);
    CHECK(strstr(line, "\"confusion\":[[5,1],[0,7]]") != NULL);
    CHECK(strstr(line, "\"class_accuracy\":[0.8333333333333334,1]") != NULL);
    CHECK_EQ_INT(trialwire_event_read(line, strlen(line), &r), TRIAL_EV_RESULT);
    CHECK_EQ_INT((long long)r.has, (long long)w.has);
    CHECK_NEAR(r.v[MLP_M_TRAIN_LOSS], 0.25, 0);
    CHECK_NEAR(r.v[MLP_M_VAL_ACCURACY], 0.875, 0);
    CHECK(isnan(r.v[MLP_M_TEST_LOSS]));
    CHECK(isnan(r.v[MLP_M_VAL_LOSS])); /* absent */
    CHECK_NEAR(r.v[MLP_M_EPOCHS_RUN], 12, 0);
    CHECK_NEAR(r.v[MLP_M_DIVERGED], 1, 0);
    CHECK_EQ_STR(r.normalize, "global");
    CHECK_EQ_INT(r.n_classes, 2);
    CHECK(r.confusion && memcmp(r.confusion, c, sizeof c) == 0);
    CHECK_EQ_INT(r.n_artifacts, 2);
    CHECK_EQ_STR(r.artifacts[1], "predictions \"q\".csv");
    trialwire_event_release(&r);
    free(line);

    trialwire_event_init(&w, TRIAL_EV_EPOCH);
    w.epoch = 3;
    w.iteration = 1500;
    w.lr = 0.0125;
    w.v[MLP_M_VAL_LOSS] = 1.5;
    w.v[MLP_M_SECONDS] = 0.5;
    w.has = 1u << MLP_M_VAL_LOSS | 1u << MLP_M_SECONDS;
    line = trialwire_event_write(&w);
    CHECK(line && strcmp(line, "{\"event\":\"epoch\",\"epoch\":3,\"iteration\":1500,"
                               "\"val_loss\":1.5,\"lr\":0.0125,\"seconds\":0.5}") == 0);
    CHECK_EQ_INT(trialwire_event_read(line, strlen(line), &r), TRIAL_EV_EPOCH);
    CHECK_EQ_INT(r.epoch, 3);
    CHECK_EQ_INT(r.iteration, 1500);
    CHECK_NEAR(r.lr, 0.0125, 0);
    CHECK_NEAR(r.v[MLP_M_VAL_LOSS], 1.5, 0);
    free(line);

    trialwire_event_init(&w, TRIAL_EV_ERROR);
    snprintf(w.code, sizeof w.code, "timeout");
    snprintf(w.message, sizeof w.message, "trial exceeded max_seconds (2 s)");
    snprintf(w.path, sizeof w.path, "params.max_seconds");
    line = trialwire_event_write(&w);
    CHECK_EQ_INT(line ? trialwire_event_read(line, strlen(line), &r) : -1, TRIAL_EV_ERROR);
    CHECK_EQ_STR(r.code, "timeout");
    CHECK_EQ_STR(r.message, w.message);
    CHECK_EQ_STR(r.path, "params.max_seconds");
    free(line);

    /* A heartbeat: "seconds" only, read back as the same event. */
    trialwire_event_init(&w, TRIAL_EV_HEARTBEAT);
    w.v[MLP_M_SECONDS] = 12.5;
    w.has = (uint64_t)1 << MLP_M_SECONDS;
    line = trialwire_event_write(&w);
    CHECK(line && strcmp(line, "{\"event\":\"heartbeat\",\"seconds\":12.5}") == 0);
    CHECK_EQ_INT(line ? trialwire_event_read(line, strlen(line), &r) : -1, TRIAL_EV_HEARTBEAT);
    CHECK_NEAR(r.v[MLP_M_SECONDS], 12.5, 0);
    CHECK(r.has == (uint64_t)1 << MLP_M_SECONDS);
    free(line);
    char hbuf[64];
    int hn = trialwire_heartbeat_line(hbuf, sizeof hbuf, 12.5);
    CHECK(hn > 0 && hbuf[hn - 1] == '\n' && strncmp(hbuf, "{\"event\":\"heartbeat\",\"seconds\":12.5}", (size_t)hn - 1) == 0);
    CHECK_EQ_INT(trialwire_heartbeat_line(hbuf, 10, 12.5), -1);
    const char *hb = "{\"event\":\"heartbeat\"}";
    CHECK_EQ_INT(trialwire_event_read(hb, strlen(hb), &r), TRIAL_EV_HEARTBEAT);
    CHECK(isnan(r.v[MLP_M_SECONDS]) && r.has == 0);
    line = trialwire_event_write(&r);
    CHECK(line && strcmp(line, hb) == 0);
    free(line);
    hb = "{\"event\":\"heartbeat\",\"seconds\":\"x\",\"val_loss\":1}";
    CHECK_EQ_INT(trialwire_event_read(hb, strlen(hb), &r), TRIAL_EV_HEARTBEAT);
    CHECK(isnan(r.v[MLP_M_SECONDS]) && isnan(r.v[MLP_M_VAL_LOSS]));
}

static void test_event_refusals(void)
{
    struct trial_event r;
    const char *l;
    l = "epoch 3: loss 0.5";
    CHECK_EQ_INT(trialwire_event_read(l, strlen(l), &r), TRIAL_EV_NONE);
    l = "{\"event\":\"epoch\",\"epoch\":0,\"val_loss\":1}";
    CHECK_EQ_INT(trialwire_event_read(l, strlen(l), &r), TRIAL_EV_OTHER);
    l = "{\"event\":\"epoch\",\"epoch\":1e300}";
    CHECK_EQ_INT(trialwire_event_read(l, strlen(l), &r), TRIAL_EV_OTHER);
    l = "{\"event\":\"progress\"}";
    CHECK_EQ_INT(trialwire_event_read(l, strlen(l), &r), TRIAL_EV_OTHER);
    /* Not K x K, negative, fractional: dropped, the metrics kept. */
    const char *bad[] = {
        "{\"event\":\"result\",\"val_loss\":1,\"confusion\":[[1,2],[3]]}",
        "{\"event\":\"result\",\"val_loss\":1,\"confusion\":[[1,-2],[3,4]]}",
        "{\"event\":\"result\",\"val_loss\":1,\"confusion\":[[1,2.5],[3,4]]}",
        "{\"event\":\"result\",\"val_loss\":1,\"confusion\":[]}",
        "{\"event\":\"result\",\"val_loss\":1,\"confusion\":\"[[1]]\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(trialwire_event_read(bad[i], strlen(bad[i]), &r), TRIAL_EV_RESULT);
        CHECK_EQ_INT(r.n_classes, 0);
        CHECK(r.confusion == NULL);
        CHECK_NEAR(r.v[MLP_M_VAL_LOSS], 1, 0);
        CHECK_NEAR(r.v[MLP_M_DIVERGED], 0, 0); /* absent reads 0 */
        trialwire_event_release(&r);
    }
    l = "{\"event\":\"result\",\"epochs_run\":1e300,\"best_epoch\":true}";
    CHECK_EQ_INT(trialwire_event_read(l, strlen(l), &r), TRIAL_EV_RESULT);
    CHECK(isnan(r.v[MLP_M_EPOCHS_RUN]));
    CHECK_NEAR(r.v[MLP_M_BEST_EPOCH], 1, 0);
}

static void test_confusion(void)
{
    int64_t c[9] = {3, 1, 0, 0, 0, 0, 2, 2, 4}, *p = NULL;
    double acc[3];
    trialwire_class_accuracy(3, c, acc);
    CHECK_NEAR(acc[0], 0.75, 1e-15); /* 3 of 4 */
    CHECK(isnan(acc[1]));            /* no test row of class 1 */
    CHECK_NEAR(acc[2], 0.5, 1e-15);  /* 4 of 8 */
    char *t = trialwire_confusion_text(3, c);
    CHECK(t && strcmp(t, "[[3,1,0],[0,0,0],[2,2,4]]") == 0);
    int k = 0;
    CHECK_EQ_INT(t ? trialwire_confusion_parse(t, strlen(t), &k, &p) : -1, 0);
    CHECK_EQ_INT(k, 3);
    CHECK(p && memcmp(p, c, sizeof c) == 0);
    free(p);
    free(t);
    CHECK_EQ_INT(trialwire_confusion_parse("[[1,2]]", 7, &k, &p), MLP_EINVALID_REQUEST);
    CHECK(p == NULL);
}

int main(void)
{
    test_spec_round_trip();
    test_spec_refusals();
    test_event_round_trip();
    test_event_refusals();
    test_confusion();
    return check_report();
}
