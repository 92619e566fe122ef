/* Scaled sum (MASE) and forgiving factor (AutoQKeras). Pure functions. */
#include "qsearch/combine.h"

#include <math.h>
#include <string.h>

static double term_sign(const qs_metric_term *t, qs_direction sum_direction,
                        qs_scaled_sum_mode mode)
{
    if (mode == QS_SCALED_SUM_SIGNED && t->direction != sum_direction)
        return -1.0;
    return 1.0;
}

double qs_combine_scaled_sum(const qs_metric_term *terms, size_t n, qs_direction sum_direction,
                             qs_scaled_sum_mode mode, double *scaled)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = term_sign(&terms[i], sum_direction, mode) * terms[i].scale * terms[i].value;
        if (scaled)
            scaled[i] = s;
        sum += s; /* NaN propagates: a failed metric fails the objective */
    }
    return sum;
}

size_t qs_combine_direction_conflicts(const qs_metric_term *terms, size_t n,
                                      qs_direction sum_direction, qs_scaled_sum_mode mode)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        /* The effective weight of the metric in the sum, in the sum's direction. */
        double w = term_sign(&terms[i], sum_direction, mode) * terms[i].scale;
        /* The sum pushes the metric up when w * sum_direction > 0. */
        double push = w * qs_direction_sign(sum_direction);
        if ((push > 0 && terms[i].direction == QS_MINIMIZE) ||
            (push < 0 && terms[i].direction == QS_MAXIMIZE))
            bad++;
    }
    return bad;
}

void qs_forgiving_options_default(qs_forgiving_options *opt)
{
    opt->delta_p = 8.0;
    opt->delta_n = 8.0;
    opt->rate = 2.0;
    opt->stress = 1.0;
}

qs_status qs_combine_forgiving(double metric, double ref_cost, double trial_cost,
                               const qs_forgiving_options *opt, double *score, double *factor,
                               qs_error *err)
{
    qs_forgiving_options o;
    if (opt)
        o = *opt;
    else
        qs_forgiving_options_default(&o);
    if (!isfinite(metric))
        return qs_error_set(err, QS_ERR_INPUT, "forgiving factor: metric %g is not finite", metric);
    if (!isfinite(ref_cost) || ref_cost <= 0 || !isfinite(trial_cost) || trial_cost <= 0)
        return qs_error_set(err, QS_ERR_INPUT,
                            "forgiving factor: costs must be finite and > 0 (reference %g, "
                            "trial %g)", ref_cost, trial_cost);
    if (!isfinite(o.rate) || o.rate <= 0 || o.rate == 1.0)
        return qs_error_set(err, QS_ERR_INPUT, "forgiving factor: rate %g must be > 0 and != 1",
                            o.rate);
    if (!isfinite(o.stress) || o.stress <= 0 || !isfinite(o.delta_p) || !isfinite(o.delta_n))
        return qs_error_set(err, QS_ERR_INPUT,
                            "forgiving factor: stress must be > 0 and deltas finite");
    double ref = o.stress * ref_cost;
    double d = (trial_cost < ref ? o.delta_p : o.delta_n) / 100.0;
    double f = d * log(ref / trial_cost) / log(o.rate);
    if (factor)
        *factor = f;
    *score = metric * (1.0 + f);
    return QS_OK;
}
