/* Pareto machinery for multi-objective search: dominance with per-objective
 * directions, constrained domination (Deb's rule, as Optuna 3.1), fast
 * non-dominated sort, crowding distance, front extraction, 2-D hypervolume.
 *
 * Objective values are row-major: values[i * m + k] is objective k of point i
 * (n points, m objectives). Only qs_pareto_sort and qs_pareto_hypervolume allocate. */
#ifndef QSEARCH_PARETO_H
#define QSEARCH_PARETO_H

#include <stddef.h>

#include "qsearch/status.h"

#include "qsearch/direction.h"

/* 1 if a dominates b: no worse in every objective and not equal in all of them
 * (dirs[m], NULL = all minimize). NaN counts as the worst value. */
int qs_pareto_dominates(const double *a, const double *b, size_t m, const qs_direction *dirs);

/* Total violation of constraint values c[nc] (Optuna convention: c <= 0 is
 * feasible): sum of the positive values; +inf if any value is NaN (not computed)
 * or c is NULL with nc > 0. 0 means feasible. */
double qs_pareto_violation(const double *c, size_t nc);

/* Constrained domination on precomputed violations (qs_pareto_violation):
 * both feasible -> plain dominance; one feasible -> it dominates; both
 * infeasible -> the smaller violation dominates. */
int qs_pareto_constrained_dominates(const double *a, double viol_a, const double *b,
                                    double viol_b, size_t m, const qs_direction *dirs);

/* Fast non-dominated sort (Deb et al. 2002). values[n][m]; viol[n] or NULL
 * (NULL: plain dominance, else constrained domination). rank_out[n] receives
 * 0 for the first front, 1 for the next...; *n_fronts (may be NULL) the count. */
qs_status qs_pareto_sort(const double *values, const double *viol, size_t n, size_t m,
                         const qs_direction *dirs, size_t *rank_out, size_t *n_fronts,
                         qs_error *err);

/* Crowding distance of the k points idx[k] of one front (values[..][m]), as
 * Optuna 3.1: per objective, sort; skip the objective if all values are equal;
 * boundary points get +inf; inner points add (next - prev) / (max - min).
 * dist_out[k] is aligned with idx. Needs scratch[2k] (size_t). */
void qs_pareto_crowding(const double *values, size_t m, const size_t *idx, size_t k,
                        double *dist_out, size_t *scratch);

/* Writes the indices of the non-dominated points (plain dominance) in
 * increasing order to idx_out[n]; returns how many. O(n^2 m). */
size_t qs_pareto_front(const double *values, size_t n, size_t m, const qs_direction *dirs,
                       size_t *idx_out);

/* Hypervolume dominated by the points values[n][2] and bounded by ref[2],
 * in the objectives' own directions (points not strictly better than ref in
 * both objectives contribute nothing). Needs scratch[2n] (size_t). */
double qs_pareto_hv2d(const double *values, size_t n, const qs_direction *dirs,
                      const double ref[2], size_t *scratch);

/* Exact hypervolume (WFG algorithm) dominated by values[n][m] and bounded by
 * ref[m], in the objectives' own directions; points not strictly better than
 * ref in every objective contribute nothing. Meant for small sets (tens of
 * points, a few objectives); QS_ERR_NOMEM on allocation failure. */
qs_status qs_pareto_hypervolume(const double *values, size_t n, size_t m, const qs_direction *dirs,
                                const double *ref, double *out, qs_error *err);

#endif
