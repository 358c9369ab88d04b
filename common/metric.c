/*
 * metric — the metric table and lookups derived from MLP_METRIC_MAP.  See metric.h.
 */
#include "metric.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const struct metric_info metric_table[MLP_M_N] = {
#define METRIC__ROW(id, nm, sp, kd, dr, ep)                                                        \
    [MLP_M_##id] = {.name = nm,                                                                    \
                    .split = METRIC_##sp,                                                          \
                    .kind = METRIC_##kd,                                                           \
                    .dir = METRIC__DIR_##dr,                                                       \
                    .per_epoch = (ep) != 0},
#define METRIC__DIR_MAX METRIC_MAX
#define METRIC__DIR_MIN METRIC_MIN
#define METRIC__DIR_NONE METRIC_DIR_NONE
    MLP_METRIC_MAP(METRIC__ROW)
#undef METRIC__ROW
};

const struct metric_info *metric_info(int m)
{
    return m >= 0 && m < MLP_M_N ? &metric_table[m] : NULL;
}

const char *metric_name(int m)
{
    return m >= 0 && m < MLP_M_N ? metric_table[m].name : "?";
}

int metric_index(const char *name)
{
    for (int m = 0; name && m < MLP_M_N; m++)
        if (strcmp(name, metric_table[m].name) == 0)
            return m;
    return -1;
}

static bool metric__is_data(int m)
{
    enum metric_kind k = metric_table[m].kind;
    return k == METRIC_LOSS || k == METRIC_ACCURACY || k == METRIC_MSE;
}

bool metric_rankable(int m)
{
    if (m < 0 || m >= MLP_M_N || !metric__is_data(m))
        return false;
    return metric_table[m].split == METRIC_TRAIN || metric_table[m].split == METRIC_VAL;
}

bool metric_maximize(int m)
{
    return m >= 0 && m < MLP_M_N && metric_table[m].dir == METRIC_MAX;
}

int metric_sibling(int m, enum metric_split split)
{
    if (m < 0 || m >= MLP_M_N || !metric__is_data(m))
        return -1;
    for (int k = 0; k < MLP_M_N; k++)
        if (metric_table[k].kind == metric_table[m].kind && metric_table[k].split == split)
            return k;
    return -1;
}

const char *metric_split_name(enum metric_split s)
{
    switch (s) {
    case METRIC_TRAIN:
        return "train";
    case METRIC_VAL:
        return "val";
    case METRIC_TEST:
        return "test";
    case METRIC_NONE:
        break;
    }
    return "";
}

const char *metric_kind_name(enum metric_kind k)
{
    switch (k) {
    case METRIC_LOSS:
        return "loss";
    case METRIC_ACCURACY:
        return "accuracy";
    case METRIC_MSE:
        return "mse";
    case METRIC_COUNT:
        return "count";
    case METRIC_TIME:
        return "time";
    case METRIC_FLAG:
        return "flag";
    }
    return "";
}

bool metric_for_task(int m, bool regression)
{
    if (m < 0 || m >= MLP_M_N)
        return false;
    if (metric_table[m].kind == METRIC_ACCURACY)
        return !regression;
    if (metric_table[m].kind == METRIC_MSE)
        return regression;
    return true;
}

const char *const *metric_rankable_names(bool regression)
{
    static const char *names[2][MLP_M_N + 1];
    static bool filled[2];
    int r = regression ? 1 : 0;
    if (!filled[r]) {
        int n = 0;
        for (int m = 0; m < MLP_M_N; m++)
            if (metric_rankable(m) && metric_for_task(m, regression))
                names[r][n++] = metric_table[m].name;
        names[r][n] = NULL;
        filled[r] = true;
    }
    return names[r];
}

int metric_task_list(bool regression, int *out)
{
    static const enum metric_split order[] = {METRIC_TRAIN, METRIC_VAL, METRIC_TEST, METRIC_NONE};
    int n = 0;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (int m = 0; m < MLP_M_N; m++)
            if (metric_table[m].split == order[k] && metric_for_task(m, regression))
                out[n++] = m;
    return n;
}

char *metric_rankable_text(char *buf, size_t n)
{
    size_t len = 0;
    if (n > 0)
        buf[0] = '\0';
    for (int m = 0; m < MLP_M_N; m++) {
        if (!metric_rankable(m) || len >= n)
            continue;
        int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", metric_table[m].name);
        len += w > 0 ? (size_t)w : 0;
    }
    return buf;
}
