/*
 * fuzz_trialwire — the mlpd <-> mlp-worker line protocol (common/trialwire.c)
 * on arbitrary bytes, by round trip.
 *
 * The first byte picks the direction: even, the rest is an event line as a
 * worker would print it; odd, a trial spec.  An input that reads is written
 * back, read again and written again: the second reading must equal the
 * first (metrics bit for bit, NaN as NaN), and both written lines must be
 * the same text.  Any difference aborts, so the fuzzer reports it.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "trialwire.h"

#define MUST(c)                                                                                    \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static bool same_num(double x, double y)
{
    return (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0 || (x == 0 && y == 0);
}

static void same_event(const struct trial_event *a, const struct trial_event *b)
{
    MUST(a->kind == b->kind && a->has == b->has);
    for (int m = 0; m < MLP_M_N; m++)
        MUST(!(a->has >> m & 1) || same_num(a->v[m], b->v[m]));
    MUST(a->epoch == b->epoch && a->iteration == b->iteration && same_num(a->lr, b->lr));
    MUST(strcmp(a->normalize, b->normalize) == 0 && a->n_classes == b->n_classes);
    MUST(a->n_classes == 0 ||
         memcmp(a->confusion, b->confusion,
                (size_t)a->n_classes * (size_t)a->n_classes * sizeof *a->confusion) == 0);
    MUST(a->n_artifacts == b->n_artifacts);
    for (int i = 0; i < a->n_artifacts; i++)
        MUST(strcmp(a->artifacts[i], b->artifacts[i]) == 0);
    MUST(strcmp(a->code, b->code) == 0 && strcmp(a->message, b->message) == 0 &&
         strcmp(a->path, b->path) == 0);
}

static void event_round_trip(const char *text, size_t len)
{
    struct trial_event a, b;
    int k = trialwire_event_read(text, len, &a);
    if (k != TRIAL_EV_EPOCH && k != TRIAL_EV_RESULT && k != TRIAL_EV_ERROR &&
        k != TRIAL_EV_HEARTBEAT) {
        trialwire_event_release(&a);
        return;
    }
    char *l1 = trialwire_event_write(&a);
    MUST(l1);
    MUST(trialwire_event_read(l1, strlen(l1), &b) == k);
    /* A metric read as NaN from a value of another type is written as null: still NaN. */
    same_event(&a, &b);
    char *l2 = trialwire_event_write(&b);
    MUST(l2 && strcmp(l1, l2) == 0);
    free(l1);
    free(l2);
    trialwire_event_release(&a);
    trialwire_event_release(&b);
}

static struct trial_spec sa, sb; /* big: not on the stack */

static void spec_round_trip(const char *text, size_t len)
{
    struct err e = ERR_INIT;
    if (trialwire_spec_read(&sa, text, len, "/fuzz", &e) != 0)
        return;
    char *l1 = trialwire_spec_write(&sa, &e);
    MUST(l1);
    MUST(trialwire_spec_read(&sb, l1, strlen(l1), "/elsewhere", &e) == 0);
    MUST(sa.seed == sb.seed && sa.trial == sb.trial);
    MUST(strcmp(sa.artifacts_dir, sb.artifacts_dir) == 0);
    char *l2 = trialwire_spec_write(&sb, &e);
    MUST(l2 && strcmp(l1, l2) == 0);
    free(l1);
    free(l2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    if (data[0] % 2 == 0)
        event_round_trip(text, size - 1);
    else
        spec_round_trip(text, size - 1);
    return 0;
}
