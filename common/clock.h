/*
 * clock — the two clocks of the project, one definition each.
 *
 * now_s: unix time in seconds with fractions (CLOCK_REALTIME), for times that
 * are stored or shown (created, started, finished, uptime).  mono_s: seconds
 * on CLOCK_MONOTONIC, for durations and time limits (immune to clock steps).
 */
#ifndef MLP_CLOCK_H
#define MLP_CLOCK_H

#include <time.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
