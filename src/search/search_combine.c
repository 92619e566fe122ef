/* Bridge from the search driver to combine.h's scaled sum (see search_internal.h). */
#include "qsearch/combine.h"
#include "search_internal.h"

#define MAX_TERMS 64

static size_t fill(qs_metric_term *t, const double *values, const double *scales, const int *maximize, size_t n)
{
    if (n > MAX_TERMS)
        n = MAX_TERMS;
    for (size_t i = 0; i < n; i++) {
        t[i].name = "";
        t[i].value = values ? values[i] : 0.0;
        t[i].scale = scales[i];
        t[i].direction = maximize[i] ? QS_MAXIMIZE : QS_MINIMIZE;
    }
    return n;
}

double qs_search_combine_sum(const double *values, const double *scales, const int *maximize, size_t n,
                             int sum_maximize, int signed_mode)
{
    qs_metric_term t[MAX_TERMS];
    n = fill(t, values, scales, maximize, n);
    return qs_combine_scaled_sum(t, n, sum_maximize ? QS_MAXIMIZE : QS_MINIMIZE,
                                 signed_mode ? QS_SCALED_SUM_SIGNED : QS_SCALED_SUM_MASE, NULL);
}

size_t qs_search_combine_conflicts(const double *scales, const int *maximize, size_t n, int sum_maximize,
                                   int signed_mode)
{
    qs_metric_term t[MAX_TERMS];
    n = fill(t, NULL, scales, maximize, n);
    return qs_combine_direction_conflicts(t, n, sum_maximize ? QS_MAXIMIZE : QS_MINIMIZE,
                                          signed_mode ? QS_SCALED_SUM_SIGNED : QS_SCALED_SUM_MASE);
}
