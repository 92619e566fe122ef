/* Private to src/search/search*.c and space.c. Not installed.
 * combine.h and pareto.h both name a type qs_direction, so the scaled sum is
 * reached through this plain-typed bridge (search_combine.c includes only
 * combine.h). */
#ifndef QSEARCH_SEARCH_INTERNAL_H
#define QSEARCH_SEARCH_INTERNAL_H

#include <stddef.h>

/* MASE's scaled sum of values[n] with scales[n]; maximize[n] and sum_maximize
 * are 1/0; signed_mode flips terms against their own direction (combine.h's
 * QS_SCALED_SUM_SIGNED). NaN when any value is NaN. */
double qs_search_combine_sum(const double *values, const double *scales, const int *maximize, size_t n,
                             int sum_maximize, int signed_mode);

/* Terms whose contribution works against their own direction. */
size_t qs_search_combine_conflicts(const double *scales, const int *maximize, size_t n, int sum_maximize,
                                   int signed_mode);

#endif
