/* TPE for categorical parameters, following Optuna 3.1's TPESampler
 * (samplers/_tpe/sampler.py, parzen_estimator.py): split the observations into
 * the best gamma(n) ("below", l) and the rest ("above", g), fit a Parzen
 * estimator with one kernel per observation plus a uniform prior kernel to
 * each, draw n_ei_candidates from l and keep the one maximising
 * log l(x) - log g(x). Independent per parameter, or jointly (multivariate). */
#include "sampler_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t qs_tpe_gamma(size_t n)
{
    /* Optuna: min(int(np.ceil(0.1 * x)), 25), computed the same way in double. */
    size_t g = (size_t)ceil(0.1 * (double)n);
    return g < 25 ? g : 25;
}

void qs_tpe_default_weights(size_t n, double *w)
{
    if (n < 25) {
        for (size_t i = 0; i < n; i++)
            w[i] = 1.0;
        return;
    }
    /* np.linspace(1/n, 1, n - 25) then np.ones(25) */
    size_t k = n - 25;
    double a = 1.0 / (double)n;
    for (size_t i = 0; i < k; i++)
        w[i] = k == 1 ? a : a + (1.0 - a) * (double)i / (double)(k - 1);
    for (size_t i = k; i < n; i++)
        w[i] = 1.0;
}

typedef struct {
    int cls;      /* 0: complete, 1: pruned (ranked after every complete trial) */
    double score; /* sign * value, smaller is better; NaN -> +inf */
    double viol;  /* total constraint violation, 0 = feasible */
    size_t trial;
} obs;

static int cmp_loss(const void *pa, const void *pb)
{
    const obs *a = pa, *b = pb;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return a->trial < b->trial ? -1 : a->trial > b->trial;
}

static int cmp_viol(const void *pa, const void *pb)
{
    const obs *a = pa, *b = pb;
    if (a->viol != b->viol)
        return a->viol < b->viol ? -1 : 1;
    return a->trial < b->trial ? -1 : a->trial > b->trial;
}

qs_status qs_tpe_split(const qs_history *h, bool use_constraints, unsigned char *below_out,
                       size_t *n_obs, qs_error *err)
{
    *n_obs = 0;
    if (h->n_objectives != 1)
        return qs_error_set(err, QS_ERR_UNSUPPORTED,
                            "tpe: %zu objectives; multi-objective TPE (MOTPE) is not implemented, "
                            "use nsgaii", h->n_objectives);
    obs *o = malloc((h->n_trials ? h->n_trials : 1) * sizeof *o);
    if (!o)
        return qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
    double sign = h->directions && h->directions[0] == QS_DIRECTION_MAXIMIZE ? -1.0 : 1.0;
    bool cons = use_constraints && h->n_constraints > 0;
    size_t n = 0;
    for (size_t t = 0; t < h->n_trials; t++) {
        below_out[t] = 2;
        qs_sampler_state st = h->states[t];
        if (st != QS_SAMPLER_COMPLETE && st != QS_SAMPLER_PRUNED)
            continue;
        obs *x = &o[n++];
        x->trial = t;
        x->cls = st == QS_SAMPLER_PRUNED;
        x->score = 0.0;
        if (st == QS_SAMPLER_COMPLETE) {
            double v = h->values[t * h->n_objectives];
            x->score = isnan(v) ? INFINITY : sign * v;
        }
        x->viol = cons ? qs_pareto_violation(h->constraints ? h->constraints + t * h->n_constraints
                                                            : NULL, h->n_constraints)
                       : 0.0;
        below_out[t] = 0;
    }
    size_t nb = qs_tpe_gamma(n);
    if (cons) {
        /* Optuna: order by violation; if the best nb are not all feasible with a
         * feasible one to spare, below = the nb least violating; else split the
         * feasible ones by loss and send every infeasible one above. */
        qsort(o, n, sizeof *o, cmp_viol);
        if (nb >= n || o[nb].viol > 0) {
            for (size_t i = 0; i < nb && i < n; i++)
                below_out[o[i].trial] = 1;
        } else {
            size_t nf = 0;
            while (nf < n && o[nf].viol <= 0)
                nf++;
            qsort(o, nf, sizeof *o, cmp_loss);
            for (size_t i = 0; i < nb; i++)
                below_out[o[i].trial] = 1;
        }
    } else {
        qsort(o, n, sizeof *o, cmp_loss);
        for (size_t i = 0; i < nb && i < n; i++)
            below_out[o[i].trial] = 1;
    }
    free(o);
    *n_obs = n;
    return QS_OK;
}

/* Trials of one side (below or above) in trial order, with normalised mixture
 * weights w[n + 1] (the last one is the prior's). */
typedef struct {
    size_t n;
    size_t *trial; /* [n] */
    double *w;     /* [n + 1] */
} side;

static qs_status side_build(const unsigned char *mark, unsigned char want, size_t n_trials,
                            double prior_weight, side *sd, qs_error *err)
{
    size_t n = 0;
    for (size_t t = 0; t < n_trials; t++)
        n += mark[t] == want;
    sd->n = n;
    sd->trial = malloc((n + 1) * sizeof *sd->trial);
    sd->w = malloc((n + 1) * sizeof *sd->w);
    if (!sd->trial || !sd->w)
        return qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
    for (size_t t = 0, i = 0; t < n_trials; t++)
        if (mark[t] == want)
            sd->trial[i++] = t;
    qs_tpe_default_weights(n, sd->w);
    sd->w[n] = prior_weight;
    double sum = 0;
    for (size_t i = 0; i <= n; i++)
        sum += sd->w[i];
    for (size_t i = 0; i <= n; i++)
        sd->w[i] /= sum;
    return QS_OK;
}

static void side_free(side *sd)
{
    free(sd->trial);
    free(sd->w);
}

/* Kernel of component i (i == n: the prior) of a side for parameter p at choice c:
 * Optuna's row (prior_weight / (n + 1) everywhere, +1 at the observed choice),
 * normalised. */
static double kernel(const qs_sampler *s, const qs_history *h, const side *sd, size_t i,
                     size_t p, uint32_t c)
{
    double C = (double)s->n_choices[p];
    if (i == sd->n)
        return 1.0 / C;
    double v = s->opt.prior_weight / (double)(sd->n + 1);
    uint32_t x = h->choices[sd->trial[i] * h->n_params + p];
    return (v + (c == x ? 1.0 : 0.0)) / (v * C + 1.0);
}

/* Marginal mixture density of parameter p: out[c] = sum_i w_i K_i(c). */
static void marginal(const qs_sampler *s, const qs_history *h, const side *sd, size_t p,
                     double *out)
{
    uint32_t C = s->n_choices[p];
    double v = s->opt.prior_weight / (double)(sd->n + 1), norm = v * C + 1.0;
    for (uint32_t c = 0; c < C; c++)
        out[c] = sd->w[sd->n] / C + (sd->n ? (1.0 - sd->w[sd->n]) * v / norm : 0.0);
    for (size_t i = 0; i < sd->n; i++)
        out[h->choices[sd->trial[i] * h->n_params + p]] += sd->w[i] / norm;
}

/* Index drawn from probabilities p[n] as numpy does: count of cumsum < u. */
static size_t draw(const double *p, size_t n, double u)
{
    double cum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        cum += p[i];
        k += cum < u;
    }
    return k < n ? k : n - 1;
}

static qs_status sides(const qs_sampler *s, const qs_history *h, side *below, side *above,
                       size_t *n_obs, qs_error *err)
{
    memset(below, 0, sizeof *below);
    memset(above, 0, sizeof *above);
    unsigned char *mark = malloc(h->n_trials ? h->n_trials : 1);
    if (!mark)
        return qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
    qs_status st = qs_tpe_split(h, s->opt.use_constraints, mark, n_obs, err);
    if (st == QS_OK)
        st = side_build(mark, 1, h->n_trials, s->opt.prior_weight, below, err);
    if (st == QS_OK)
        st = side_build(mark, 0, h->n_trials, s->opt.prior_weight, above, err);
    free(mark);
    return st;
}

qs_status qs_tpe_log_densities(const qs_sampler *s, const qs_history *h, size_t p, double *log_l,
                               double *log_g, qs_error *err)
{
    if (p >= s->space.n_params)
        return qs_error_set(err, QS_ERR_USAGE, "tpe: parameter %zu out of range", p);
    QS_TRY(qs_sampler_check_history(s, h, 0, true, err));
    side below, above;
    size_t n;
    qs_status st = sides(s, h, &below, &above, &n, err);
    if (st == QS_OK) {
        marginal(s, h, &below, p, log_l);
        marginal(s, h, &above, p, log_g);
        for (uint32_t c = 0; c < s->n_choices[p]; c++) {
            log_l[c] = log(log_l[c]);
            log_g[c] = log(log_g[c]);
        }
    }
    side_free(&below);
    side_free(&above);
    return st;
}

/* Independent TPE: per parameter, candidates from l's marginal (the same
 * distribution as Optuna's component-then-kernel draw), best log l - log g. */
static qs_status ask_independent(const qs_sampler *s, const qs_history *h, const side *below,
                                 const side *above, qs_rng *r, uint32_t *out, qs_error *err)
{
    uint32_t cmax = 0;
    for (size_t p = 0; p < s->space.n_params; p++)
        cmax = s->n_choices[p] > cmax ? s->n_choices[p] : cmax;
    double *l = malloc(2 * (size_t)cmax * sizeof *l);
    if (!l)
        return qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
    double *g = l + cmax;
    for (size_t p = 0; p < s->space.n_params; p++) {
        uint32_t C = s->n_choices[p];
        marginal(s, h, below, p, l);
        marginal(s, h, above, p, g);
        double best = -INFINITY;
        out[p] = 0;
        for (size_t k = 0; k < s->opt.n_ei_candidates; k++) {
            uint32_t c = (uint32_t)draw(l, C, qs_rng_uniform(r));
            double score = log(l[c]) - log(g[c]);
            if (score > best) {
                best = score;
                out[p] = c;
            }
        }
    }
    free(l);
    return QS_OK;
}

/* log sum_i w_i prod_p K_ip(x_p) of one side, by log-sum-exp. */
static double joint_log_pdf(const qs_sampler *s, const qs_history *h, const side *sd,
                            const uint32_t *x)
{
    double mx = -INFINITY, sum = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i <= sd->n; i++) {
            double lp = log(sd->w[i]);
            for (size_t p = 0; p < s->space.n_params; p++)
                lp += log(kernel(s, h, sd, i, p, x[p]));
            if (pass == 0)
                mx = lp > mx ? lp : mx;
            else
                sum += exp(lp - mx);
        }
    return mx + log(sum);
}

/* Multivariate TPE: each candidate picks one component of l, then every
 * parameter from that component's kernel; scored by the joint densities. */
static qs_status ask_multivariate(const qs_sampler *s, const qs_history *h, const side *below,
                                  const side *above, qs_rng *r, uint32_t *out, qs_error *err)
{
    size_t np = s->space.n_params;
    uint32_t cmax = 0;
    for (size_t p = 0; p < np; p++)
        cmax = s->n_choices[p] > cmax ? s->n_choices[p] : cmax;
    uint32_t *cand = malloc(np * sizeof *cand);
    double *row = malloc(cmax * sizeof *row);
    if (!cand || !row) {
        free(cand);
        free(row);
        return qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
    }
    double best = -INFINITY;
    for (size_t k = 0; k < s->opt.n_ei_candidates; k++) {
        size_t comp = draw(below->w, below->n + 1, qs_rng_uniform(r));
        for (size_t p = 0; p < np; p++) {
            for (uint32_t c = 0; c < s->n_choices[p]; c++)
                row[c] = kernel(s, h, below, comp, p, c);
            cand[p] = (uint32_t)draw(row, s->n_choices[p], qs_rng_uniform(r));
        }
        double score = joint_log_pdf(s, h, below, cand) - joint_log_pdf(s, h, above, cand);
        if (k == 0 || score > best) {
            best = score;
            memcpy(out, cand, np * sizeof *cand);
        }
    }
    free(cand);
    free(row);
    return QS_OK;
}

qs_status qs_tpe_ask(qs_sampler *s, const qs_history *h, uint32_t *choices_out, qs_error *err)
{
    QS_TRY(qs_sampler_check_history(s, h, 0, true, err));
    if (h->n_objectives != 1)
        return qs_error_set(err, QS_ERR_UNSUPPORTED,
                            "tpe: %zu objectives; multi-objective TPE (MOTPE) is not implemented, "
                            "use nsgaii", h->n_objectives);
    size_t n = 0;
    for (size_t t = 0; t < h->n_trials; t++)
        n += h->states[t] == QS_SAMPLER_COMPLETE || h->states[t] == QS_SAMPLER_PRUNED;
    qs_rng r;
    if (n < s->opt.n_startup_trials || n == 0) {
        qs_sampler_trial_rng(s, h->n_trials, 0, &r);
        qs_sampler_uniform(s, &r, choices_out);
        return QS_OK;
    }
    side below, above;
    qs_status st = sides(s, h, &below, &above, &n, err);
    if (st == QS_OK) {
        qs_sampler_trial_rng(s, h->n_trials, 1, &r);
        st = s->opt.multivariate ? ask_multivariate(s, h, &below, &above, &r, choices_out, err)
                                 : ask_independent(s, h, &below, &above, &r, choices_out, err);
    }
    side_free(&below);
    side_free(&above);
    return st;
}
