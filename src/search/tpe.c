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

#define EPS 1e-12

/* Loss vector of trial t into lv[m], normalised to minimise. */
static void loss_row(const qs_history *h, size_t t, double *lv)
{
    size_t m = h->n_objectives;
    for (size_t k = 0; k < m; k++) {
        double v = h->values[t * m + k];
        lv[k] = h->directions && h->directions[k] == QS_MAXIMIZE ? -v : v;
    }
}

/* Optuna's reference point for a set of loss vectors: max(1.1 w, 0.9 w) of the
 * worst point w, with zeros replaced by EPS. */
static void reference(const double *lv, size_t n, size_t m, double *ref)
{
    for (size_t k = 0; k < m; k++) {
        double w = -INFINITY;
        for (size_t i = 0; i < n; i++)
            w = lv[i * m + k] > w ? lv[i * m + k] : w;
        ref[k] = fmax(1.1 * w, 0.9 * w);
        if (ref[k] == 0)
            ref[k] = EPS;
    }
}

static qs_status hv(const double *lv, size_t n, size_t m, const double *ref, double *out,
                    qs_error *err)
{
    return qs_pareto_hypervolume(lv, n, m, NULL, ref, out, err);
}

/* Greedy hypervolume subset selection (Optuna's _solve_hssp): picks k of the n
 * points lv[n][m]; sel[n] set to 1 for the chosen ones. */
static qs_status hssp(const double *lv, size_t n, size_t m, size_t k, const double *ref,
                      unsigned char *sel, qs_error *err)
{
    double *contrib = malloc(n * sizeof *contrib), *set = malloc((n + 1) * m * sizeof *set);
    qs_status st = QS_OK;
    if (!contrib || !set) {
        st = qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        sel[i] = 0;
        if ((st = hv(lv + i * m, 1, m, ref, &contrib[i], err)) != QS_OK)
            goto out;
    }
    double hv_sel = 0.0;
    for (size_t ns = 0; ns < k; ns++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!sel[i] && (best == n || contrib[i] > contrib[best]))
                best = i;
        sel[best] = 1;
        /* set[0..ns) holds the selected points; each candidate's contribution
         * loses what it shares with the newly selected point. */
        for (size_t j = 0; j < n; j++) {
            if (sel[j])
                continue;
            for (size_t d = 0; d < m; d++)
                set[ns * m + d] = fmax(lv[best * m + d], lv[j * m + d]);
            double v;
            if ((st = hv(set, ns + 1, m, ref, &v, err)) != QS_OK)
                goto out;
            contrib[j] -= v - hv_sel;
        }
        memcpy(set + ns * m, lv + best * m, m * sizeof *set);
        if ((st = hv(set, ns + 1, m, ref, &hv_sel, err)) != QS_OK)
            goto out;
    }
out:
    free(contrib);
    free(set);
    return st;
}

/* Multi-objective split of o[0..n) (Optuna 3.1): whole non-domination ranks
 * while they fit in nb, the rest of nb from the next rank by HSSP. */
static qs_status split_mo(const qs_history *h, const obs *o, size_t n, size_t nb,
                          unsigned char *below_out, qs_error *err)
{
    size_t m = h->n_objectives;
    double *lv = malloc((n * m + n * m + m + 1) * sizeof *lv);
    size_t *rank = malloc((n + 1) * sizeof *rank), nf = 0;
    unsigned char *sel = malloc(n + 1);
    qs_status st = QS_OK;
    if (!lv || !rank || !sel) {
        st = qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
        goto out;
    }
    double *sub = lv + n * m, *ref = sub + n * m;
    for (size_t i = 0; i < n; i++)
        loss_row(h, o[i].trial, lv + i * m);
    if ((st = qs_pareto_sort(lv, NULL, n, m, NULL, rank, &nf, err)) != QS_OK)
        goto out;
    size_t taken = 0;
    for (size_t r = 0; r < nf && taken < nb; r++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++)
            cnt += rank[i] == r;
        if (taken + cnt <= nb) {
            for (size_t i = 0; i < n; i++)
                if (rank[i] == r)
                    below_out[o[i].trial] = 1;
            taken += cnt;
            continue;
        }
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            if (rank[i] == r)
                memcpy(sub + len++ * m, lv + i * m, m * sizeof *sub);
        reference(sub, len, m, ref);
        if ((st = hssp(sub, len, m, nb - taken, ref, sel, err)) != QS_OK)
            goto out;
        for (size_t i = 0, a = 0; i < n; i++)
            if (rank[i] == r && sel[a++])
                below_out[o[i].trial] = 1;
        taken = nb;
    }
out:
    free(lv);
    free(rank);
    free(sel);
    return st;
}

/* Splits the observations o[0..n) by loss: nb best below. */
static qs_status split_loss(const qs_history *h, obs *o, size_t n, size_t nb,
                            unsigned char *below_out, qs_error *err)
{
    if (h->n_objectives > 1)
        return split_mo(h, o, n, nb, below_out, err);
    qsort(o, n, sizeof *o, cmp_loss);
    for (size_t i = 0; i < nb && i < n; i++)
        below_out[o[i].trial] = 1;
    return QS_OK;
}

qs_status qs_tpe_split(const qs_history *h, bool use_constraints, unsigned char *below_out,
                       size_t *n_obs, qs_error *err)
{
    *n_obs = 0;
    if (h->n_objectives == 0)
        return qs_error_set(err, QS_ERR_INPUT, "tpe: the history has no objectives");
    obs *o = malloc((h->n_trials ? h->n_trials : 1) * sizeof *o);
    if (!o)
        return qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
    size_t m = h->n_objectives;
    double sign = h->directions && h->directions[0] == QS_MAXIMIZE ? -1.0 : 1.0;
    bool cons = use_constraints && h->n_constraints > 0;
    size_t n = 0;
    for (size_t t = 0; t < h->n_trials; t++) {
        below_out[t] = 2;
        qs_sampler_state st = h->states[t];
        /* Optuna: pruned trials rank after complete ones; multi-objective skips them
         * (and here also complete trials with a NaN value). */
        if (st != QS_SAMPLER_COMPLETE && (st != QS_SAMPLER_PRUNED || m > 1))
            continue;
        bool has_nan = false;
        for (size_t k = 0; st == QS_SAMPLER_COMPLETE && k < m; k++)
            has_nan |= isnan(h->values[t * m + k]);
        if (m > 1 && has_nan)
            continue;
        obs *x = &o[n++];
        x->trial = t;
        x->cls = st == QS_SAMPLER_PRUNED;
        x->score = 0.0;
        if (st == QS_SAMPLER_COMPLETE)
            x->score = has_nan ? INFINITY : sign * h->values[t * m];
        x->viol = cons ? qs_pareto_violation(h->constraints ? h->constraints + t * h->n_constraints
                                                            : NULL, h->n_constraints)
                       : 0.0;
        below_out[t] = 0;
    }
    size_t nb = qs_tpe_gamma(n);
    qs_status st = QS_OK;
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
            st = split_loss(h, o, nf, nb, below_out, err);
        }
    } else {
        st = split_loss(h, o, n, nb, below_out, err);
    }
    free(o);
    *n_obs = n;
    return st;
}

/* MOTPE weights of the below trials (Optuna's _calculate_weights_below_for_multi_objective):
 * hypervolume contribution of each feasible one, normalised by the largest; EPS
 * for infeasible ones. trial[n] in trial order, w[n] out. */
static qs_status mo_weights(const qs_sampler *s, const qs_history *h, const size_t *trial, size_t n,
                            double *w, qs_error *err)
{
    size_t m = h->n_objectives, nfeas = 0;
    bool cons = s->opt.use_constraints && h->n_constraints > 0;
    size_t *feas = malloc((n + 1) * sizeof *feas);
    double *lv = malloc(((n + 1) * m * 2 + m) * sizeof *lv);
    qs_status st = QS_OK;
    if (!feas || !lv) {
        st = qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        w[i] = EPS;
        double v = cons ? qs_pareto_violation(h->constraints ? h->constraints + trial[i] * h->n_constraints
                                                             : NULL, h->n_constraints)
                        : 0.0;
        if (v == 0)
            feas[nfeas++] = trial[i];
    }
    double *rest = lv + n * m, *ref = rest + n * m;
    for (size_t i = 0; i < nfeas; i++)
        loss_row(h, feas[i], lv + i * m);
    double *c = malloc((nfeas + 1) * sizeof *c), total, cmax = 0;
    if (!c) {
        st = qs_error_set(err, QS_ERR_NOMEM, "tpe: out of memory");
        goto out;
    }
    if (nfeas == 1)
        c[0] = 1.0, cmax = 1.0;
    if (nfeas > 1) {
        reference(lv, nfeas, m, ref);
        if ((st = hv(lv, nfeas, m, ref, &total, err)) != QS_OK)
            goto cout;
        for (size_t i = 0; i < nfeas; i++) {
            size_t len = 0;
            for (size_t j = 0; j < nfeas; j++)
                if (j != i)
                    memcpy(rest + len++ * m, lv + j * m, m * sizeof *rest);
            double without;
            if ((st = hv(rest, len, m, ref, &without, err)) != QS_OK)
                goto cout;
            c[i] = total - without + EPS;
            cmax = c[i] > cmax ? c[i] : cmax;
        }
    }
    for (size_t i = 0, a = 0; i < n && nfeas > 0; i++)
        if (a < nfeas && feas[a] == trial[i])
            w[i] = fmin(fmax(c[a++] / cmax, 0.0), 1.0);
cout:
    free(c);
out:
    free(feas);
    free(lv);
    return st;
}

/* Trials of one side (below or above) in trial order, with normalised mixture
 * weights w[n + 1] (the last one is the prior's). */
typedef struct {
    size_t n;
    size_t *trial; /* [n] */
    double *w;     /* [n + 1] */
} side;

static qs_status side_build(const qs_sampler *s, const qs_history *h, const unsigned char *mark,
                            unsigned char want, side *sd, qs_error *err)
{
    size_t n_trials = h->n_trials;
    double prior_weight = s->opt.prior_weight;
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
    if (want == 1 && h->n_objectives > 1)
        QS_TRY(mo_weights(s, h, sd->trial, n, sd->w, err));
    else
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
        st = side_build(s, h, mark, 1, below, err);
    if (st == QS_OK)
        st = side_build(s, h, mark, 0, above, err);
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
    side below, above;
    size_t n = 0;
    qs_rng r;
    qs_status st = sides(s, h, &below, &above, &n, err);
    if (st == QS_OK && (n < s->opt.n_startup_trials || n == 0)) {
        qs_sampler_trial_rng(s, h->n_trials, 0, &r); /* start-up: as the random sampler */
        qs_sampler_uniform(s, &r, choices_out);
    } else if (st == QS_OK) {
        qs_sampler_trial_rng(s, h->n_trials, 1, &r);
        st = s->opt.multivariate ? ask_multivariate(s, h, &below, &above, &r, choices_out, err)
                                 : ask_independent(s, h, &below, &above, &r, choices_out, err);
    }
    side_free(&below);
    side_free(&above);
    return st;
}
