/*
 * check — the tiny test helper shared by every test executable.
 *
 * A test is a main() that calls CHECK* macros and ends with
 * `return check_report();`.  A failed check prints file:line and both values,
 * bumps a counter and continues, so one run shows every failure.  The counters
 * are static per translation unit: include this header from one .c per test.
 */
#ifndef MLP_CHECK_H
#define MLP_CHECK_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures_;
static int check_count_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count_++;                                                                            \
        if (!(cond)) {                                                                             \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long ca_ = (long long)(a), cb_ = (long long)(b);                                      \
        check_count_++;                                                                            \
        if (ca_ != cb_) {                                                                          \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK_EQ_INT(%s, %s) failed: %lld != %lld\n", __FILE__,        \
                    __LINE__, #a, #b, ca_, cb_);                                                   \
        }                                                                                          \
    } while (0)

/* Strings; NULL compares equal only to NULL. */
#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *ca_ = (a), *cb_ = (b);                                                         \
        check_count_++;                                                                            \
        if ((ca_ == NULL || cb_ == NULL) ? ca_ != cb_ : strcmp(ca_, cb_) != 0) {                   \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK_EQ_STR(%s, %s) failed: \"%s\" != \"%s\"\n", __FILE__,    \
                    __LINE__, #a, #b, ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                 \
        }                                                                                          \
    } while (0)

/* |a - b| <= tol; NaN fails unless both are NaN. */
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double ca_ = (double)(a), cb_ = (double)(b), ct_ = (double)(tol);                          \
        check_count_++;                                                                            \
        if (!((isnan(ca_) && isnan(cb_)) || ca_ == cb_ || fabs(ca_ - cb_) <= ct_)) {               \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK_NEAR(%s, %s, %g) failed: %.17g vs %.17g\n", __FILE__,    \
                    __LINE__, #a, #b, ct_, ca_, cb_);                                              \
        }                                                                                          \
    } while (0)

/* Relative tolerance: |a - b| <= rtol * max(|a|, |b|). */
#define CHECK_REL(a, b, rtol)                                                                      \
    do {                                                                                           \
        double ra_ = (double)(a), rb_ = (double)(b);                                               \
        double rm_ = fabs(ra_) > fabs(rb_) ? fabs(ra_) : fabs(rb_);                                \
        CHECK_NEAR(ra_, rb_, (rtol)*rm_);                                                          \
    } while (0)

/* Print a summary and give main()'s exit status. */
static inline int check_report(void)
{
    if (check_failures_)
        fprintf(stderr, "%d of %d checks failed\n", check_failures_, check_count_);
    else
        fprintf(stderr, "all %d checks passed\n", check_count_);
    return check_failures_ ? 1 : 0;
}

#endif
