/* Sample-efficiency comparison: the objective table, replaying samplers
 * against it, and the statistics over repeats (compare.h). */
#include "qsearch/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/rng.h"

qs_status qs_compare_table_init(qs_compare_table *t, size_t n_params, const uint32_t *n_choices,
                                qs_direction direction, size_t n_cons, uint64_t max_configs, qs_error *err)
{
    memset(t, 0, sizeof *t);
    if (n_params == 0)
        return qs_error_set(err, QS_ERR_INPUT, "compare: the space has no searched parameter");
    uint64_t size = 1;
    for (size_t i = 0; i < n_params; i++) {
        if (n_choices[i] == 0)
            return qs_error_set(err, QS_ERR_INPUT, "compare: parameter %zu has no choices", i);
        if (size > max_configs / n_choices[i])
            return qs_error_set(err, QS_ERR_INPUT,
                                "compare: the space has more than %llu configurations (%zu parameters); an exhaustive "
                                "table is needed to replay samplers exactly: shrink the space or raise --max-configs",
                                (unsigned long long)max_configs, n_params);
        size *= n_choices[i];
    }
    t->n_params = n_params;
    t->size = size;
    t->direction = direction;
    t->n_cons = n_cons;
    t->n_choices = malloc(n_params * sizeof *t->n_choices);
    t->state = malloc(size * sizeof *t->state);
    t->value = malloc(size * sizeof *t->value);
    t->filled = calloc(size, 1);
    t->cons = n_cons ? malloc(size * n_cons * sizeof *t->cons) : NULL;
    if (!t->n_choices || !t->state || !t->value || !t->filled || (n_cons && !t->cons)) {
        qs_compare_table_free(t);
        return qs_error_set(err, QS_ERR_NOMEM, "compare: out of memory for a table of %llu configurations",
                            (unsigned long long)size);
    }
    memcpy(t->n_choices, n_choices, n_params * sizeof *n_choices);
    for (uint64_t i = 0; i < size; i++) {
        t->state[i] = QS_SAMPLER_FAILED;
        t->value[i] = NAN;
    }
    for (uint64_t i = 0; i < size * n_cons; i++)
        t->cons[i] = NAN;
    return QS_OK;
}

void qs_compare_table_free(qs_compare_table *t)
{
    if (!t)
        return;
    free(t->n_choices);
    free(t->state);
    free(t->value);
    free(t->cons);
    free(t->filled);
    memset(t, 0, sizeof *t);
}

static qs_sampler_space table_space(const qs_compare_table *t)
{
    qs_sampler_space sp = {t->n_params, NULL, t->n_choices};
    return sp;
}

qs_status qs_compare_table_set(qs_compare_table *t, const uint32_t *choices, qs_sampler_state state,
                               double value, const double *cons, qs_error *err)
{
    qs_sampler_space sp = table_space(t);
    uint64_t idx;
    for (size_t i = 0; i < t->n_params; i++)
        if (choices[i] >= t->n_choices[i])
            return qs_error_set(err, QS_ERR_INPUT, "compare: parameter %zu: choice %u out of range (%u choices)", i,
                                (unsigned)choices[i], (unsigned)t->n_choices[i]);
    QS_TRY(qs_sampler_config_index(&sp, false, choices, &idx, err));
    t->state[idx] = state;
    t->value[idx] = state == QS_SAMPLER_COMPLETE ? value : NAN;
    for (size_t k = 0; k < t->n_cons; k++)
        t->cons[idx * t->n_cons + k] = cons ? cons[k] : NAN;
    t->filled[idx] = 1;
    return QS_OK;
}

int qs_compare_table_feasible(const qs_compare_table *t, uint64_t idx)
{
    if (t->state[idx] != QS_SAMPLER_COMPLETE || isnan(t->value[idx]))
        return 0;
    for (size_t k = 0; k < t->n_cons; k++)
        if (!(t->cons[idx * t->n_cons + k] <= 0))
            return 0;
    return 1;
}

static int better(qs_direction d, double a, double b)
{
    return d == QS_MAXIMIZE ? a > b : a < b;
}

qs_status qs_compare_table_finish(qs_compare_table *t, qs_error *err)
{
    uint64_t missing = 0, first = 0;
    for (uint64_t i = 0; i < t->size; i++)
        if (!t->filled[i] && missing++ == 0)
            first = i;
    if (missing)
        return qs_error_set(err, QS_ERR_INPUT,
                            "compare: the exhaustive table lacks %llu of %llu configurations (first: index %llu); "
                            "finish the exhaustive search first", (unsigned long long)missing,
                            (unsigned long long)t->size, (unsigned long long)first);
    t->have_optimum = 0;
    for (uint64_t i = 0; i < t->size; i++)
        if (qs_compare_table_feasible(t, i) && (!t->have_optimum || better(t->direction, t->value[i], t->optimum))) {
            t->have_optimum = 1;
            t->optimum = t->value[i];
            t->optimum_index = i;
        }
    if (!t->have_optimum)
        return qs_error_set(err, QS_ERR_INPUT, "compare: no configuration is complete and feasible");
    return QS_OK;
}

/* ---- replay ---- */

typedef struct {
    const qs_compare_table *t;
    qs_sampler *s;
    qs_history h;
    unsigned char *taken; /* [size] */
    uint64_t seed;
    size_t n_trials;
    qs_compare_dup_stats dups;
} replay_state;

static uint64_t index_of(const qs_compare_table *t, const uint32_t *c)
{
    uint64_t idx = 0;
    for (size_t i = 0; i < t->n_params; i++)
        idx = idx * t->n_choices[i] + c[i];
    return idx;
}

static int taken_in_replay(void *ctx, const uint32_t *choices)
{
    const replay_state *r = ctx;
    return r->taken[index_of(r->t, choices)];
}

static qs_status replay_loop(replay_state *r, int count_duplicates, double *value, double *best, qs_error *err)
{
    const qs_compare_table *t = r->t;
    uint32_t *c = malloc(t->n_params * sizeof *c);
    if (!c)
        return qs_error_set(err, QS_ERR_NOMEM, "compare: out of memory");
    qs_status st = QS_OK;
    double b = NAN;
    bool exhausted = false;
    for (size_t i = 0; i < r->n_trials; i++) {
        if (!exhausted) {
            if (count_duplicates) {
                st = qs_sampler_ask(r->s, &r->h, c, &exhausted, err);
            } else {
                st = qs_sampler_ask_fresh(r->s, &r->h, taken_in_replay, r, c, &exhausted, &r->dups, err);
            }
        }
        if (st)
            break;
        value[i] = NAN;
        if (!exhausted) {
            uint64_t idx = index_of(t, c);
            r->taken[idx] = 1;
            double v = t->value[idx];
            st = qs_history_push(&r->h, c, t->state[idx], t->state[idx] == QS_SAMPLER_COMPLETE ? &v : NULL,
                                 t->n_cons ? t->cons + idx * t->n_cons : NULL, err);
            if (st)
                break;
            if (qs_compare_table_feasible(t, idx)) {
                value[i] = v;
                if (isnan(b) || better(t->direction, v, b))
                    b = v;
            }
        }
        best[i] = b;
    }
    free(c);
    return st;
}

qs_status qs_compare_replay(const qs_compare_table *t, qs_sampler_kind kind, uint64_t seed, size_t n_trials,
                            int count_duplicates, double *value, double *best, qs_compare_dup_stats *dups,
                            qs_error *err)
{
    replay_state r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.seed = seed;
    r.n_trials = n_trials;
    qs_sampler_space sp = table_space(t);
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.seed = seed;
    qs_status st = qs_sampler_new(kind, &sp, &o, &r.s, err);
    if (st == QS_OK)
        st = qs_history_init(&r.h, t->n_params, 1, &t->direction, t->n_cons, err);
    if (st == QS_OK && !(r.taken = calloc(t->size, 1)))
        st = qs_error_set(err, QS_ERR_NOMEM, "compare: out of memory");
    if (st == QS_OK)
        st = replay_loop(&r, count_duplicates, value, best, err);
    if (dups)
        *dups = r.dups;
    free(r.taken);
    qs_history_free(&r.h);
    qs_sampler_delete(r.s);
    return st;
}

/* ---- statistics ---- */

double qs_compare_quantile(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo >= n - 1)
        return sorted[n - 1];
    double f = pos - (double)lo, a = sorted[lo], b = sorted[lo + 1];
    if (isinf(a) || isinf(b)) /* never reached: inf, unless exactly on a finite one */
        return f == 0 ? a : INFINITY;
    return a + f * (b - a);
}

size_t qs_compare_trials_to_within(const double *best, size_t n, double optimum, double rel)
{
    double tol = rel * fabs(optimum);
    for (size_t i = 0; i < n; i++)
        if (!isnan(best[i]) && fabs(best[i] - optimum) <= tol)
            return i + 1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median and quartiles of best over repeats at each trial; within counts. */
static void summarise(qs_compare_sampler *s, const qs_compare_options *o, double optimum, double *tmp)
{
    size_t R = o->repeats, N = o->n_trials;
    for (size_t i = 0; i < N; i++) {
        int any_nan = 0;
        for (size_t r = 0; r < R; r++) {
            tmp[r] = s->best[r * N + i];
            any_nan |= isnan(tmp[r]);
        }
        if (any_nan) { /* some repeat has no feasible trial yet: no honest median */
            s->median[i] = s->q1[i] = s->q3[i] = NAN;
            continue;
        }
        qsort(tmp, R, sizeof *tmp, cmp_double);
        s->median[i] = qs_compare_quantile(tmp, R, 0.5);
        s->q1[i] = qs_compare_quantile(tmp, R, 0.25);
        s->q3[i] = qs_compare_quantile(tmp, R, 0.75);
    }
    s->never = 0;
    for (size_t r = 0; r < R; r++) {
        s->within[r] = qs_compare_trials_to_within(s->best + r * N, N, optimum, o->rel);
        s->never += s->within[r] == 0;
        tmp[r] = s->within[r] ? (double)s->within[r] : INFINITY;
    }
    qsort(tmp, R, sizeof *tmp, cmp_double);
    s->within_median = qs_compare_quantile(tmp, R, 0.5);
    s->within_q1 = qs_compare_quantile(tmp, R, 0.25);
    s->within_q3 = qs_compare_quantile(tmp, R, 0.75);
}

static qs_status alloc_sampler(qs_compare_sampler *s, size_t R, size_t N, qs_error *err)
{
    s->value = malloc(R * N * sizeof *s->value);
    s->best = malloc(R * N * sizeof *s->best);
    s->median = malloc(N * sizeof *s->median);
    s->q1 = malloc(N * sizeof *s->q1);
    s->q3 = malloc(N * sizeof *s->q3);
    s->within = calloc(R, sizeof *s->within);
    if (!s->value || !s->best || !s->median || !s->q1 || !s->q3 || !s->within)
        return qs_error_set(err, QS_ERR_NOMEM, "compare: out of memory");
    return QS_OK;
}

qs_status qs_compare_run(const qs_compare_table *t, const qs_compare_options *o, qs_compare_result *r,
                         qs_error *err)
{
    memset(r, 0, sizeof *r);
    if (!t->have_optimum)
        return qs_error_set(err, QS_ERR_USAGE, "compare: table not finished (qs_compare_table_finish)");
    if (o->n_samplers == 0 || o->repeats == 0 || o->n_trials == 0)
        return qs_error_set(err, QS_ERR_USAGE, "compare: need at least one sampler, repeat and trial");
    if (!(o->rel >= 0))
        return qs_error_set(err, QS_ERR_USAGE, "compare: the tolerance must be >= 0");
    r->opt = *o;
    r->optimum = t->optimum;
    r->optimum_index = t->optimum_index;
    r->size = t->size;
    r->kinds = malloc(o->n_samplers * sizeof *r->kinds);
    r->s = calloc(o->n_samplers, sizeof *r->s);
    double *tmp = malloc(o->repeats * sizeof *tmp);
    qs_status st = r->kinds && r->s && tmp ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "compare: out of memory");
    if (st == QS_OK) {
        memcpy(r->kinds, o->samplers, o->n_samplers * sizeof *r->kinds);
        r->opt.samplers = r->kinds;
        r->n_samplers = o->n_samplers;
    }
    for (size_t k = 0; st == QS_OK && k < o->n_samplers; k++) {
        qs_compare_sampler *s = &r->s[k];
        s->kind = o->samplers[k];
        st = alloc_sampler(s, o->repeats, o->n_trials, err);
        for (size_t rep = 0; st == QS_OK && rep < o->repeats; rep++) {
            qs_compare_dup_stats d;
            st = qs_compare_replay(t, s->kind, o->seed + rep, o->n_trials, o->count_duplicates,
                                   s->value + rep * o->n_trials, s->best + rep * o->n_trials, &d, err);
            s->dups.duplicates += d.duplicates;
            s->dups.by_repeat += d.by_repeat;
            s->dups.by_uniform += d.by_uniform;
            s->dups.by_first_free += d.by_first_free;
        }
        if (st == QS_OK)
            summarise(s, o, t->optimum, tmp);
    }
    free(tmp);
    if (st)
        qs_compare_result_free(r);
    return st;
}

void qs_compare_result_free(qs_compare_result *r)
{
    if (!r)
        return;
    for (size_t k = 0; r->s && k < r->n_samplers; k++) {
        qs_compare_sampler *s = &r->s[k];
        free(s->value), free(s->best), free(s->median), free(s->q1), free(s->q3), free(s->within);
    }
    free(r->s);
    free(r->kinds);
    memset(r, 0, sizeof *r);
}
