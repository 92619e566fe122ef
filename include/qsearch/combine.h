/* Combined quality metrics (pure functions): MASE's scaled sum and
 * AutoQKeras's forgiving factor. Definitions in docs/metrics.md, "Combined". */
#ifndef QSEARCH_COMBINE_H
#define QSEARCH_COMBINE_H

#include <stddef.h>

#include "qsearch/direction.h"
#include "qsearch/status.h"

typedef struct {
    const char *name;       /* metric name, e.g. "accuracy", "average_bitwidth" */
    double value;           /* the trial's metric */
    double scale;           /* [search.strategy.metrics.<name>] scale */
    qs_direction direction; /* [search.strategy.metrics.<name>] direction */
} qs_metric_term;

typedef enum {
    /* As MASE: scaled_m = scale_m * value_m and the objective is their sum,
     * optimised in the setup direction; each metric's own direction is
     * ignored (MASE reads it only without sum_scaled_metrics). A "minimize"
     * metric therefore needs a negative scale in a "maximize" sum. */
    QS_SCALED_SUM_MASE = 0,
    /* qsearch's option: a metric whose direction differs from the sum's
     * enters with its sign flipped: scaled_m = -scale_m * value_m. */
    QS_SCALED_SUM_SIGNED = 1
} qs_scaled_sum_mode;

/* Fills scaled[n] (may be NULL) with each term's contribution and returns
 * their sum (NaN when any value or scale is NaN: a failed metric). */
double qs_combine_scaled_sum(const qs_metric_term *terms, size_t n, qs_direction sum_direction,
                             qs_scaled_sum_mode mode, double *scaled);

/* Number of terms whose contribution works against their own direction in a
 * sum optimised in sum_direction under mode (0 = consistent); for warnings. */
size_t qs_combine_direction_conflicts(const qs_metric_term *terms, size_t n,
                                      qs_direction sum_direction, qs_scaled_sum_mode mode);


typedef struct {
    double delta_p;  /* percent of metric forgiven per `rate`x cheaper (AutoQKeras default 8) */
    double delta_n;  /* percent of metric charged per `rate`x dearer (default 8) */
    double rate;     /* cost ratio that earns delta (default 2) */
    double stress;   /* reference = stress x reference cost (default 1) */
} qs_forgiving_options;

/* Fills opt with AutoQKeras's defaults (8, 8, 2, 1). */
void qs_forgiving_options_default(qs_forgiving_options *opt);

/* AutoQKeras's forgiving factor: ref = stress x ref_cost; d = delta_p/100 when
 * trial_cost < ref, else delta_n/100; factor = d x ln(ref / trial_cost) / ln(rate);
 * *score = metric x (1 + factor). Costs are bits or energy (> 0, finite); rate
 * > 0 and != 1. *factor may be NULL. Bad arguments are QS_ERR_INPUT. */
qs_status qs_combine_forgiving(double metric, double ref_cost, double trial_cost,
                               const qs_forgiving_options *opt, double *score, double *factor,
                               qs_error *err);

#endif
