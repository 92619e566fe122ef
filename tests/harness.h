/* Tiny test harness: CHECK macros count failures; RUN runs one test function
 * and counts it as passed when it recorded no failed check. Each test program
 * ends with qs_test_summary(), which prints "N passed, N failed". */
#ifndef QSEARCH_TEST_HARNESS_H
#define QSEARCH_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int qs_test_failed_checks;
static int qs_test_passed, qs_test_failed;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            qs_test_failed_checks++;                                            \
        }                                                                       \
    } while (0)

#define CHECK_INT(a, b)                                                         \
    do {                                                                        \
        long long qs_a_ = (long long)(a), qs_b_ = (long long)(b);               \
        if (qs_a_ != qs_b_) {                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",   \
                    __FILE__, __LINE__, #a, #b, qs_a_, qs_b_);                  \
            qs_test_failed_checks++;                                            \
        }                                                                       \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                   \
    do {                                                                        \
        double qs_a_ = (double)(a), qs_b_ = (double)(b);                        \
        if (!(fabs(qs_a_ - qs_b_) <= (tol))) {                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s ~ %s (%.9g vs %.9g, tol %g)\n", \
                    __FILE__, __LINE__, #a, #b, qs_a_, qs_b_, (double)(tol));   \
            qs_test_failed_checks++;                                            \
        }                                                                       \
    } while (0)

#define CHECK_STR(a, b)                                                         \
    do {                                                                        \
        const char *qs_a_ = (a), *qs_b_ = (b);                                  \
        if (!qs_a_ || !qs_b_ || strcmp(qs_a_, qs_b_) != 0) {                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" vs \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b, qs_a_ ? qs_a_ : "(null)",      \
                    qs_b_ ? qs_b_ : "(null)");                                  \
            qs_test_failed_checks++;                                            \
        }                                                                       \
    } while (0)

/* Checks that haystack contains needle (for error messages). */
#define CHECK_CONTAINS(haystack, needle)                                        \
    do {                                                                        \
        const char *qs_h_ = (haystack), *qs_n_ = (needle);                      \
        if (!qs_h_ || !strstr(qs_h_, qs_n_)) {                                  \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" contains \"%s\"\n",   \
                    __FILE__, __LINE__, qs_h_ ? qs_h_ : "(null)", qs_n_);       \
            qs_test_failed_checks++;                                            \
        }                                                                       \
    } while (0)

static void qs_test_run(const char *name, void (*fn)(void))
{
    int before = qs_test_failed_checks;
    fn();
    if (qs_test_failed_checks == before) {
        qs_test_passed++;
        fprintf(stderr, "  ok   %s\n", name);
    } else {
        qs_test_failed++;
        fprintf(stderr, "  FAIL %s\n", name);
    }
}

#define RUN(fn) qs_test_run(#fn, fn)

static int qs_test_summary(void)
{
    printf("%d passed, %d failed\n", qs_test_passed, qs_test_failed);
    return qs_test_failed ? 1 : 0;
}

#endif
