/* NSGA-II for categorical parameters, following Optuna 3.1's NSGAIISampler
 * (samplers/nsgaii/_sampler.py, _crossover.py). Generations are derived from
 * the history instead of stored trial attributes: trials belong to the open
 * generation in trial order, and a generation closes once it holds
 * population_size COMPLETE trials. The first generation is random; each later
 * trial is bred from the elite of (last closed generation + previous elite):
 * binary tournament by (constrained) domination, uniform crossover with
 * probability crossover_prob, then per-parameter mutation to a uniform choice. */
#include "sampler_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const qs_sampler *s;
    const qs_history *h;
    const double *viol; /* [n_trials] or NULL: plain dominance */
} ctx;

static int dominates(const ctx *c, size_t a, size_t b)
{
    const qs_history *h = c->h;
    size_t m = h->n_objectives;
    if (c->viol)
        return qs_pareto_constrained_dominates(h->values + a * m, c->viol[a], h->values + b * m,
                                               c->viol[b], m, h->directions);
    return qs_pareto_dominates(h->values + a * m, h->values + b * m, m, h->directions);
}

/* Elite of pool[n] (trial numbers) into elite[<= pop]; returns its size. */
static qs_status select_elite(const ctx *c, const size_t *pool, size_t n, size_t *elite,
                              size_t *n_elite, qs_error *err)
{
    const qs_history *h = c->h;
    size_t m = h->n_objectives, pop = c->s->opt.population_size;
    double *vals = malloc(n * m * sizeof *vals + n * sizeof(double) * 2);
    size_t *rank = malloc(n * 4 * sizeof *rank);
    if (!vals || !rank) {
        free(vals);
        free(rank);
        return qs_error_set(err, QS_ERR_NOMEM, "nsgaii: out of memory");
    }
    double *viol = vals + n * m, *dist = viol + n;
    size_t *members = rank + n, *scratch = rank + 2 * n;
    for (size_t i = 0; i < n; i++) {
        memcpy(vals + i * m, h->values + pool[i] * m, m * sizeof *vals);
        viol[i] = c->viol ? c->viol[pool[i]] : 0.0;
    }
    size_t nf = 0, len = 0;
    qs_status st = qs_pareto_sort(vals, c->viol ? viol : NULL, n, m, h->directions, rank, &nf, err);
    for (size_t f = 0; st == QS_OK && f < nf && len < pop; f++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (rank[i] == f)
                members[k++] = i;
        if (len + k < pop) {
            for (size_t i = 0; i < k; i++)
                elite[len++] = pool[members[i]];
            continue;
        }
        /* Last front that fits partly: largest crowding distance first (ties keep pool order). */
        qs_pareto_crowding(vals, m, members, k, dist, scratch);
        for (size_t i = 1; i < k; i++) {
            size_t mi = members[i];
            double di = dist[i];
            size_t j = i;
            for (; j > 0 && dist[j - 1] < di; j--) {
                members[j] = members[j - 1];
                dist[j] = dist[j - 1];
            }
            members[j] = mi;
            dist[j] = di;
        }
        for (size_t i = 0; len < pop; i++)
            elite[len++] = pool[members[i]];
    }
    free(vals);
    free(rank);
    *n_elite = len;
    return st;
}

/* Hash of one history row (state, choices, values), chained into h. */
static uint64_t row_hash(const qs_history *h, size_t t, uint64_t acc)
{
    uint64_t x = qs_sampler_mix64(acc ^ (uint64_t)h->states[t]);
    x = qs_sampler_mix64(x ^ qs_sampler_config_hash(h->n_params, h->choices + t * h->n_params));
    if (h->states[t] == QS_SAMPLER_COMPLETE)
        for (size_t k = 0; k < h->n_objectives; k++) {
            uint64_t bits;
            memcpy(&bits, &h->values[t * h->n_objectives + k], sizeof bits);
            x = qs_sampler_mix64(x ^ bits);
        }
    if (h->constraints)
        for (size_t k = 0; k < h->n_constraints; k++) {
            uint64_t bits;
            memcpy(&bits, &h->constraints[t * h->n_constraints + k], sizeof bits);
            x = qs_sampler_mix64(x ^ bits);
        }
    return x;
}

/* Replays the history into generations and returns the parent population (the
 * elite after the last closed generation; *n_parent 0 when none closed yet).
 * Starts from the sampler's cached elite when the rows it depends on are unchanged. */
static qs_status parents_of(qs_sampler *s, const ctx *c, size_t *parent, size_t *n_parent,
                            qs_error *err)
{
    const qs_history *h = c->h;
    size_t pop = s->opt.population_size, start = 0;
    uint64_t acc = 0;
    *n_parent = 0;
    if (s->nsga_close != SIZE_MAX && s->nsga_close < h->n_trials) {
        for (size_t t = 0; t <= s->nsga_close; t++)
            acc = row_hash(h, t, acc);
        if (acc == s->nsga_hash) {
            memcpy(parent, s->nsga_elite, s->nsga_n_elite * sizeof *parent);
            *n_parent = s->nsga_n_elite;
            start = s->nsga_close + 1;
        } else {
            acc = 0;
        }
    }
    size_t *pool = malloc((2 * pop + 1) * sizeof *pool);
    if (!pool)
        return qs_error_set(err, QS_ERR_NOMEM, "nsgaii: out of memory");
    size_t k = 0; /* COMPLETE trials of the open generation, in pool[0..k) */
    qs_status st = QS_OK;
    for (size_t t = start; t < h->n_trials && st == QS_OK; t++) {
        acc = row_hash(h, t, acc);
        if (h->states[t] != QS_SAMPLER_COMPLETE)
            continue;
        pool[k++] = t;
        if (k < pop)
            continue;
        /* Generation closed: elite of its trials followed by the previous elite. */
        memcpy(pool + k, parent, *n_parent * sizeof *pool);
        st = select_elite(c, pool, k + *n_parent, parent, n_parent, err);
        k = 0;
        if (st == QS_OK && s->nsga_elite) {
            s->nsga_close = t;
            s->nsga_hash = acc;
            memcpy(s->nsga_elite, parent, *n_parent * sizeof *parent);
            s->nsga_n_elite = *n_parent;
        }
    }
    free(pool);
    return st;
}

static size_t tournament(const ctx *c, const size_t *cand, size_t n, qs_rng *r)
{
    size_t a = cand[qs_rng_below(r, n)], b = cand[qs_rng_below(r, n)];
    return dominates(c, a, b) ? a : b;
}

static qs_status breed(const ctx *c, const size_t *parent, size_t np_, qs_rng *r, qs_rng *ru,
                       uint32_t *out, qs_error *err)
{
    const qs_sampler *s = c->s;
    const qs_history *h = c->h;
    size_t n = s->space.n_params;
    if (qs_rng_uniform(r) < s->opt.crossover_prob) {
        size_t p0 = tournament(c, parent, np_, r);
        size_t *rest = malloc(np_ * sizeof *rest), k = 0;
        if (!rest)
            return qs_error_set(err, QS_ERR_NOMEM, "nsgaii: out of memory");
        for (size_t i = 0; i < np_; i++)
            if (parent[i] != p0)
                rest[k++] = parent[i];
        size_t p1 = k ? tournament(c, rest, k, r) : p0;
        free(rest);
        /* Uniform crossover: with swapping_prob a parameter comes from parent 0. */
        for (size_t i = 0; i < n; i++) {
            size_t from = qs_rng_uniform(r) >= s->opt.swapping_prob ? p1 : p0;
            out[i] = h->choices[from * n + i];
        }
    } else {
        size_t p = parent[qs_rng_below(r, np_)];
        memcpy(out, h->choices + p * n, n * sizeof *out);
    }
    double mp = s->opt.mutation_prob >= 0 ? s->opt.mutation_prob : 1.0 / (double)n;
    for (size_t i = 0; i < n; i++)
        if (!(qs_rng_uniform(r) >= mp))
            out[i] = (uint32_t)qs_rng_below(ru, s->n_choices[i]);
    return QS_OK;
}

qs_status qs_nsga2_ask(qs_sampler *s, const qs_history *h, uint32_t *choices_out, qs_error *err)
{
    QS_TRY(qs_sampler_check_history(s, h, 0, true, err));
    ctx c = {s, h, NULL};
    size_t pop = s->opt.population_size;
    double *viol = NULL;
    size_t *parent = malloc(pop * sizeof *parent);
    if (!parent)
        return qs_error_set(err, QS_ERR_NOMEM, "nsgaii: out of memory");
    if (s->opt.use_constraints && h->n_constraints > 0) {
        viol = malloc((h->n_trials ? h->n_trials : 1) * sizeof *viol);
        if (!viol) {
            free(parent);
            return qs_error_set(err, QS_ERR_NOMEM, "nsgaii: out of memory");
        }
        for (size_t t = 0; t < h->n_trials; t++)
            viol[t] = qs_pareto_violation(
                h->constraints ? h->constraints + t * h->n_constraints : NULL, h->n_constraints);
        c.viol = viol;
    }
    if (!s->nsga_elite)
        s->nsga_elite = malloc(pop * sizeof *s->nsga_elite); /* cache; optional */
    size_t n_parent = 0;
    qs_status st = parents_of(s, &c, parent, &n_parent, err);
    qs_rng r, ru;
    qs_sampler_trial_rng(s, h->n_trials, 0, &ru);
    if (st == QS_OK && n_parent == 0) {
        qs_sampler_uniform(s, &ru, choices_out); /* first generation */
    } else if (st == QS_OK) {
        qs_sampler_trial_rng(s, h->n_trials, 2, &r);
        st = breed(&c, parent, n_parent, &r, &ru, choices_out, err);
    }
    free(parent);
    free(viol);
    return st;
}
