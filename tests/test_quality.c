/* Quality metrics: accuracy, macro recall, Wilson interval, cross-entropy, confusion. */
#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "qsearch/quality.h"

static void test_hand_example(void)
{
    /* 3 classes, 5 samples: true 0,0,1,2,2; predicted 0,1,1,2,0. */
    const float logits[] = {
        2, 0, 0,   0, 1, 0,   0, 3, 1,   0, 0, 5,   1, 0, 0,
    };
    const int32_t y[] = {0, 0, 1, 2, 2};
    qs_quality q;
    qs_error err;
    CHECK_INT(qs_quality_compute(&q, logits, y, 5, 3, &err), QS_OK);
    CHECK_INT(q.correct, 3);
    CHECK_NEAR(q.accuracy, 0.6, 1e-12);
    /* recall: class 0 1/2, class 1 1/1, class 2 1/2 -> mean 2/3 */
    CHECK_NEAR(q.accuracy_macro, 2.0 / 3.0, 1e-12);
    CHECK_INT(q.confusion[0 * 3 + 1], 1);
    CHECK_INT(q.confusion[2 * 3 + 0], 1);
    /* loss of sample 0: -log(e^2 / (e^2 + 2)) */
    double l0 = log(exp(2.0) + 2.0) - 2.0;
    double l1 = log(exp(1.0) + 2.0) - 0.0;
    double l2 = log(1.0 + exp(3.0) + exp(1.0)) - 3.0;
    double l3 = log(2.0 + exp(5.0)) - 5.0;
    double l4 = log(exp(1.0) + 2.0) - 0.0;
    CHECK_NEAR(q.loss, (l0 + l1 + l2 + l3 + l4) / 5.0, 1e-9);
    qs_quality_free(&q);
}

static void test_macro_ignores_absent_classes(void)
{
    const float logits[] = {1, 0, 0, 0, 1, 0};
    const int32_t y[] = {0, 0};
    qs_quality q;
    CHECK_INT(qs_quality_compute(&q, logits, y, 2, 3, NULL), QS_OK);
    CHECK_NEAR(q.accuracy_macro, 0.5, 1e-12); /* only class 0 present, recall 1/2 */
    qs_quality_free(&q);
}

static void test_wilson(void)
{
    double lo, hi;
    /* 81 of 100 at z=1.96: known interval (0.7222, 0.8749) */
    qs_quality_wilson(81, 100, 1.959963984540054, &lo, &hi);
    CHECK_NEAR(lo, 0.72225, 1e-4);
    CHECK_NEAR(hi, 0.87485, 1e-4);
    qs_quality_wilson(0, 10, 1.96, &lo, &hi);
    CHECK_NEAR(lo, 0.0, 1e-12);
    CHECK(hi > 0.2 && hi < 0.35);
    qs_quality_wilson(0, 0, 1.96, &lo, &hi);
    CHECK(lo == 0.0 && hi == 1.0);
}

static void test_nonfinite_and_bad_label(void)
{
    const float logits[] = {NAN, 0, 1, 0};
    const int32_t y[] = {0, 0};
    qs_quality q;
    CHECK_INT(qs_quality_compute(&q, logits, y, 2, 2, NULL), QS_OK);
    CHECK_INT(q.nonfinite, 1);
    CHECK_INT(q.correct, 1);
    CHECK_NEAR(q.accuracy_macro, 0.5, 1e-12);
    CHECK(isnan(q.loss));
    qs_quality_free(&q);

    const int32_t bad[] = {0, 7};
    qs_error err;
    CHECK_INT(qs_quality_compute(&q, logits, bad, 2, 2, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "sample 1");
    qs_quality_free(&q);
}

static void test_argmax_ties(void)
{
    const float row[] = {1, 3, 3, NAN};
    CHECK_INT(qs_quality_argmax(row, 4), 1);
    const float nan_row[] = {NAN, NAN};
    CHECK_INT(qs_quality_argmax(nan_row, 2), -1);
}

int main(void)
{
    RUN(test_hand_example);
    RUN(test_macro_ignores_absent_classes);
    RUN(test_wilson);
    RUN(test_nonfinite_and_bad_label);
    RUN(test_argmax_ties);
    return qs_test_summary();
}
