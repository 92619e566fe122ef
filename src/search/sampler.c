/* Sampler front end: options, kinds, space arithmetic, configuration hash,
 * history arrays, and the two simple samplers (bruteforce, random). */
#include "sampler_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qs_sampler_options_default(qs_sampler_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 0;
    o->n_startup_trials = 10;
    o->n_ei_candidates = 24;
    o->prior_weight = 1.0;
    o->multivariate = false;
    o->use_constraints = true;
    o->population_size = 50;
    o->crossover_prob = 0.9;
    o->swapping_prob = 0.5;
    o->mutation_prob = -1.0;
    o->first_fastest = false;
}

static const char *const kind_names[] = {"bruteforce", "random", "tpe", "nsgaii"};

const char *qs_sampler_kind_name(qs_sampler_kind k)
{
    return (unsigned)k < 4 ? kind_names[k] : "unknown";
}

qs_status qs_sampler_kind_parse(const char *name, qs_sampler_kind *out, qs_error *err)
{
    static const struct {
        const char *name;
        qs_sampler_kind kind;
    } table[] = {
        {"bruteforce", QS_SAMPLER_BRUTEFORCE}, {"brute_force", QS_SAMPLER_BRUTEFORCE},
        {"grid", QS_SAMPLER_BRUTEFORCE},       {"random", QS_SAMPLER_RANDOM},
        {"tpe", QS_SAMPLER_TPE},               {"nsgaii", QS_SAMPLER_NSGAII},
        {"nsga2", QS_SAMPLER_NSGAII},          {"nsga-ii", QS_SAMPLER_NSGAII},
        {"nsga_ii", QS_SAMPLER_NSGAII},
    };
    char low[32];
    size_t n = name ? strlen(name) : 0;
    if (name && n < sizeof low) {
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)tolower((unsigned char)name[i]);
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (!strcmp(low, table[i].name)) {
                *out = table[i].kind;
                return QS_OK;
            }
    }
    return qs_error_set(err, QS_ERR_INPUT,
                        "unknown sampler \"%s\": expected bruteforce (grid), random, tpe or nsgaii",
                        name ? name : "(null)");
}

double qs_sampler_space_size(const qs_sampler_space *sp, uint64_t *exact, bool *overflow)
{
    double d = 1.0;
    uint64_t e = 1;
    bool ovf = false;
    for (size_t i = 0; i < sp->n_params; i++) {
        d *= (double)sp->n_choices[i];
        uint64_t c = sp->n_choices[i];
        if (c == 0) {
            e = 0;
        } else if (!ovf && e != 0) {
            if (e > UINT64_MAX / c)
                ovf = true;
            else
                e *= c;
        }
    }
    if (ovf && e == 0)
        ovf = false; /* a zero factor makes the space empty */
    if (exact)
        *exact = ovf ? 0 : e;
    if (overflow)
        *overflow = ovf;
    return d;
}

qs_status qs_sampler_config_index(const qs_sampler_space *sp, bool first_fastest,
                                  const uint32_t *choices, uint64_t *index, qs_error *err)
{
    bool ovf;
    qs_sampler_space_size(sp, NULL, &ovf);
    if (ovf)
        return qs_error_set(err, QS_ERR_USAGE, "space too large for a 64-bit configuration index");
    uint64_t idx = 0;
    size_t n = sp->n_params;
    for (size_t k = 0; k < n; k++) {
        size_t i = first_fastest ? n - 1 - k : k; /* most significant digit first */
        if (choices[i] >= sp->n_choices[i])
            return qs_error_set(err, QS_ERR_INPUT, "parameter %zu: choice %u out of range [0, %u)",
                                i, choices[i], sp->n_choices[i]);
        idx = idx * sp->n_choices[i] + choices[i];
    }
    *index = idx;
    return QS_OK;
}

qs_status qs_sampler_config_at(const qs_sampler_space *sp, bool first_fastest, uint64_t idx,
                               uint32_t *choices_out, qs_error *err)
{
    uint64_t size;
    bool ovf;
    qs_sampler_space_size(sp, &size, &ovf);
    if (!ovf && idx >= size)
        return qs_error_set(err, QS_ERR_USAGE, "configuration index %llu out of range (%llu)",
                            (unsigned long long)idx, (unsigned long long)size);
    size_t n = sp->n_params;
    for (size_t k = 0; k < n; k++) {
        size_t i = first_fastest ? k : n - 1 - k; /* least significant digit first */
        choices_out[i] = (uint32_t)(idx % sp->n_choices[i]);
        idx /= sp->n_choices[i];
    }
    return QS_OK;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t qs_sampler_mix64(uint64_t z) { return mix64(z); }

uint64_t qs_sampler_config_hash(size_t n_params, const uint32_t *choices)
{
    /* Sponge over splitmix's finaliser: order-sensitive, length-sensitive, no
     * dependence on struct layout or endianness. */
    uint64_t h = mix64(0x7173736561726368ULL ^ (uint64_t)n_params);
    for (size_t i = 0; i < n_params; i++)
        h = mix64(h ^ ((uint64_t)choices[i] + 0x9e3779b97f4a7c15ULL * (i + 1)));
    return h;
}

void qs_sampler_trial_rng(const qs_sampler *s, size_t trial_no, uint64_t stream, qs_rng *r)
{
    uint64_t k = mix64(s->opt.seed ^ 0x5eed5eed5eed5eedULL);
    k = mix64(k ^ ((uint64_t)trial_no * 0x9e3779b97f4a7c15ULL));
    qs_rng_seed(r, k ^ mix64(stream + 1));
}

void qs_sampler_uniform(const qs_sampler *s, qs_rng *r, uint32_t *choices_out)
{
    for (size_t i = 0; i < s->space.n_params; i++)
        choices_out[i] = (uint32_t)qs_rng_below(r, s->n_choices[i]);
}

static const char *pname(const qs_sampler *s, size_t i, char *buf, size_t n)
{
    if (s->names && s->names[i])
        return s->names[i];
    snprintf(buf, n, "#%zu", i);
    return buf;
}

qs_status qs_sampler_check_history(const qs_sampler *s, const qs_history *h, size_t from,
                                   bool need_objectives, qs_error *err)
{
    if (h->n_params != s->space.n_params)
        return qs_error_set(err, QS_ERR_INPUT, "history has %zu parameters, the space %zu",
                            h->n_params, s->space.n_params);
    if (h->n_trials > 0 && (!h->choices || !h->states))
        return qs_error_set(err, QS_ERR_USAGE, "history: %zu trials but no choices/states arrays",
                            h->n_trials);
    if (need_objectives && (h->n_objectives == 0 || (h->n_trials > 0 && !h->values)))
        return qs_error_set(err, QS_ERR_INPUT, "%s needs at least one objective value per trial",
                            qs_sampler_kind_name(s->kind));
    for (size_t t = from; t < h->n_trials; t++) {
        if ((unsigned)h->states[t] > QS_SAMPLER_FAILED)
            return qs_error_set(err, QS_ERR_INPUT, "history trial %zu: bad state %d", t,
                                (int)h->states[t]);
        const uint32_t *c = h->choices + t * h->n_params;
        for (size_t i = 0; i < h->n_params; i++)
            if (c[i] >= s->n_choices[i]) {
                char buf[32];
                return qs_error_set(err, QS_ERR_INPUT,
                                    "history trial %zu: parameter %s: choice %u out of range "
                                    "[0, %u)", t, pname(s, i, buf, sizeof buf), c[i],
                                    s->n_choices[i]);
            }
    }
    return QS_OK;
}

static qs_status check_options(qs_sampler_kind kind, const qs_sampler_options *o, qs_error *err)
{
    if ((unsigned)kind > QS_SAMPLER_NSGAII)
        return qs_error_set(err, QS_ERR_USAGE, "unknown sampler kind %d", (int)kind);
    if (!(o->prior_weight > 0) || !isfinite(o->prior_weight))
        return qs_error_set(err, QS_ERR_INPUT, "tpe: prior_weight must be > 0 (got %g)",
                            o->prior_weight);
    if (o->n_ei_candidates < 1)
        return qs_error_set(err, QS_ERR_INPUT, "tpe: n_ei_candidates must be >= 1");
    if (o->population_size < 2)
        return qs_error_set(err, QS_ERR_INPUT, "nsgaii: population_size must be >= 2 (got %zu)",
                            o->population_size);
    if (!(o->crossover_prob >= 0 && o->crossover_prob <= 1))
        return qs_error_set(err, QS_ERR_INPUT, "nsgaii: crossover_prob must be in [0, 1] (got %g)",
                            o->crossover_prob);
    if (!(o->swapping_prob >= 0 && o->swapping_prob <= 1))
        return qs_error_set(err, QS_ERR_INPUT, "nsgaii: swapping_prob must be in [0, 1] (got %g)",
                            o->swapping_prob);
    if (isnan(o->mutation_prob) || o->mutation_prob > 1)
        return qs_error_set(err, QS_ERR_INPUT,
                            "nsgaii: mutation_prob must be in [0, 1], or < 0 for 1/n_params");
    return QS_OK;
}

qs_status qs_sampler_new(qs_sampler_kind kind, const qs_sampler_space *sp,
                         const qs_sampler_options *opt, qs_sampler **out, qs_error *err)
{
    *out = NULL;
    qs_sampler_options def;
    if (!opt) {
        qs_sampler_options_default(&def);
        opt = &def;
    }
    QS_TRY(check_options(kind, opt, err));
    if (sp->n_params == 0)
        return qs_error_set(err, QS_ERR_INPUT, "search space has no parameters");
    for (size_t i = 0; i < sp->n_params; i++)
        if (sp->n_choices[i] == 0)
            return qs_error_set(err, QS_ERR_INPUT, "parameter %s has no choices",
                                sp->names && sp->names[i] ? sp->names[i] : "(unnamed)");
    qs_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return qs_error_set(err, QS_ERR_NOMEM, "sampler: out of memory");
    s->kind = kind;
    s->opt = *opt;
    s->n_choices = malloc(sp->n_params * sizeof *s->n_choices);
    if (!s->n_choices)
        goto nomem;
    memcpy(s->n_choices, sp->n_choices, sp->n_params * sizeof *s->n_choices);
    if (sp->names) {
        s->names = calloc(sp->n_params, sizeof *s->names);
        if (!s->names)
            goto nomem;
        for (size_t i = 0; i < sp->n_params; i++)
            if (sp->names[i] && !(s->names[i] = strdup(sp->names[i])))
                goto nomem;
    }
    s->space.n_params = sp->n_params;
    s->space.n_choices = s->n_choices;
    s->space.names = (const char *const *)s->names;
    s->nsga_close = SIZE_MAX;
    qs_sampler_space_size(sp, &s->size, &s->size_overflow);
    *out = s;
    return QS_OK;
nomem:
    qs_sampler_delete(s);
    return qs_error_set(err, QS_ERR_NOMEM, "sampler: out of memory");
}

void qs_sampler_delete(qs_sampler *s)
{
    if (!s)
        return;
    if (s->names)
        for (size_t i = 0; i < s->space.n_params; i++)
            free(s->names[i]);
    free(s->names);
    free(s->n_choices);
    free(s->taken);
    free(s->nsga_elite);
    free(s);
}

qs_sampler_kind qs_sampler_kind_of(const qs_sampler *s) { return s->kind; }

/* ---- bruteforce: a hash set of taken indices and a monotone cursor ---- */

static bool taken_has(const qs_sampler *s, uint64_t idx)
{
    if (!s->taken_cap)
        return false;
    size_t mask = s->taken_cap - 1;
    for (size_t j = (size_t)mix64(idx) & mask;; j = (j + 1) & mask) {
        if (s->taken[j] == idx)
            return true;
        if (s->taken[j] == UINT64_MAX)
            return false;
    }
}

static qs_status taken_add(qs_sampler *s, uint64_t idx, qs_error *err)
{
    if (taken_has(s, idx))
        return QS_OK;
    if (2 * (s->taken_len + 1) > s->taken_cap) {
        size_t cap = s->taken_cap ? 2 * s->taken_cap : 1024;
        uint64_t *t = malloc(cap * sizeof *t);
        if (!t)
            return qs_error_set(err, QS_ERR_NOMEM, "bruteforce: out of memory");
        memset(t, 0xff, cap * sizeof *t);
        uint64_t *old = s->taken;
        size_t old_cap = s->taken_cap;
        s->taken = t;
        s->taken_cap = cap;
        s->taken_len = 0;
        for (size_t j = 0; j < old_cap; j++)
            if (old[j] != UINT64_MAX)
                taken_add(s, old[j], err); /* cannot fail: capacity suffices */
        free(old);
    }
    size_t mask = s->taken_cap - 1;
    size_t j = (size_t)mix64(idx) & mask;
    while (s->taken[j] != UINT64_MAX)
        j = (j + 1) & mask;
    s->taken[j] = idx;
    s->taken_len++;
    return QS_OK;
}

static qs_status bruteforce_ask(qs_sampler *s, const qs_history *h, uint32_t *choices_out,
                                bool *exhausted, qs_error *err)
{
    if (s->size_overflow)
        return qs_error_set(err, QS_ERR_UNSUPPORTED,
                            "bruteforce: the space has %.3g configurations, too many to enumerate",
                            qs_sampler_space_size(&s->space, NULL, NULL));
    size_t np = s->space.n_params;
    /* The history is read incrementally; if it is not an extension of what was
     * read before, start over. */
    if (h->n_trials < s->seen ||
        (s->seen > 0 &&
         qs_sampler_config_hash(np, h->choices + (s->seen - 1) * np) != s->seen_last_hash)) {
        s->seen = 0;
        s->cursor = 0;
        s->taken_len = 0;
        if (s->taken)
            memset(s->taken, 0xff, s->taken_cap * sizeof *s->taken);
    }
    QS_TRY(qs_sampler_check_history(s, h, s->seen, false, err));
    for (size_t t = s->seen; t < h->n_trials; t++) {
        uint64_t idx;
        QS_TRY(qs_sampler_config_index(&s->space, s->opt.first_fastest, h->choices + t * np, &idx,
                                       err));
        QS_TRY(taken_add(s, idx, err));
    }
    s->seen = h->n_trials;
    if (s->seen > 0)
        s->seen_last_hash = qs_sampler_config_hash(np, h->choices + (s->seen - 1) * np);
    while (s->cursor < s->size && taken_has(s, s->cursor))
        s->cursor++;
    if (s->cursor >= s->size) {
        if (!exhausted)
            return qs_error_set(err, QS_ERR_USAGE, "bruteforce: all %llu configurations are taken",
                                (unsigned long long)s->size);
        *exhausted = true;
        return QS_OK;
    }
    return qs_sampler_config_at(&s->space, s->opt.first_fastest, s->cursor, choices_out, err);
}

qs_status qs_sampler_ask(qs_sampler *s, const qs_history *h, uint32_t *choices_out,
                         bool *exhausted, qs_error *err)
{
    if (exhausted)
        *exhausted = false;
    switch (s->kind) {
    case QS_SAMPLER_BRUTEFORCE:
        return bruteforce_ask(s, h, choices_out, exhausted, err);
    case QS_SAMPLER_RANDOM: {
        QS_TRY(qs_sampler_check_history(s, h, h->n_trials, false, err));
        qs_rng r;
        qs_sampler_trial_rng(s, h->n_trials, 0, &r);
        qs_sampler_uniform(s, &r, choices_out);
        return QS_OK;
    }
    case QS_SAMPLER_TPE:
        return qs_tpe_ask(s, h, choices_out, err);
    case QS_SAMPLER_NSGAII:
        return qs_nsga2_ask(s, h, choices_out, err);
    }
    return qs_error_set(err, QS_ERR_INTERNAL, "unknown sampler kind %d", (int)s->kind);
}

/* ---- owned history arrays ---- */

static qs_status grow(void **p, size_t n, size_t elem)
{
    if (n == 0)
        return QS_OK;
    void *q = realloc(*p, n * elem);
    if (!q)
        return QS_ERR_NOMEM;
    *p = q;
    return QS_OK;
}

static qs_status reserve(qs_history *h, size_t cap, qs_error *err)
{
    if (grow((void **)&h->choices, cap * h->n_params, sizeof *h->choices) ||
        grow((void **)&h->states, cap, sizeof *h->states) ||
        grow((void **)&h->values, cap * h->n_objectives, sizeof *h->values) ||
        grow((void **)&h->constraints, cap * h->n_constraints, sizeof *h->constraints))
        return qs_error_set(err, QS_ERR_NOMEM, "history: out of memory at %zu trials",
                            h->n_trials);
    h->capacity = cap;
    return QS_OK;
}

qs_status qs_history_init(qs_history *h, size_t n_params, size_t n_objectives,
                          const qs_direction *directions, size_t n_constraints, qs_error *err)
{
    memset(h, 0, sizeof *h);
    h->n_params = n_params;
    h->n_objectives = n_objectives;
    h->n_constraints = n_constraints;
    if (n_objectives) {
        h->directions = malloc(n_objectives * sizeof *h->directions);
        if (!h->directions)
            return qs_error_set(err, QS_ERR_NOMEM, "history: out of memory");
        for (size_t k = 0; k < n_objectives; k++)
            h->directions[k] = directions ? directions[k] : QS_MINIMIZE;
    }
    qs_status st = reserve(h, 64, err); /* capacity > 0 marks the arrays as owned */
    if (st != QS_OK) {
        free(h->directions);
        free(h->choices);
        free(h->states);
        free(h->values);
        free(h->constraints);
        memset(h, 0, sizeof *h);
    }
    return st;
}

qs_status qs_history_push(qs_history *h, const uint32_t *choices, qs_sampler_state state,
                          const double *values, const double *constraints, qs_error *err)
{
    if (h->capacity == 0 && h->n_trials > 0)
        return qs_error_set(err, QS_ERR_USAGE, "history: push on driver-owned arrays");
    if (h->n_trials == h->capacity)
        QS_TRY(reserve(h, h->capacity ? 2 * h->capacity : 64, err));
    if (state == QS_SAMPLER_COMPLETE && h->n_objectives && !values)
        return qs_error_set(err, QS_ERR_USAGE, "history: a COMPLETE trial needs values");
    size_t t = h->n_trials;
    if (h->n_params) /* a history of results only may have no parameters */
        memcpy(h->choices + t * h->n_params, choices, h->n_params * sizeof *choices);
    h->states[t] = state;
    for (size_t k = 0; k < h->n_objectives; k++)
        h->values[t * h->n_objectives + k] = values ? values[k] : NAN;
    for (size_t k = 0; k < h->n_constraints; k++)
        h->constraints[t * h->n_constraints + k] = constraints ? constraints[k] : NAN;
    h->n_trials++;
    return QS_OK;
}

void qs_history_free(qs_history *h)
{
    if (!h || h->capacity == 0)
        return;
    free(h->directions);
    free(h->choices);
    free(h->states);
    free(h->values);
    free(h->constraints);
    memset(h, 0, sizeof *h);
}

static bool qualifies(const qs_history *h, size_t t, bool use_constraints)
{
    if (h->states[t] != QS_SAMPLER_COMPLETE)
        return false;
    if (!use_constraints || h->n_constraints == 0)
        return true;
    return qs_pareto_violation(h->constraints ? h->constraints + t * h->n_constraints : NULL,
                               h->n_constraints) == 0;
}

void qs_history_best(const qs_history *h, bool use_constraints, size_t *best, bool *found)
{
    *found = false;
    *best = 0;
    if (h->n_objectives == 0)
        return;
    bool max = h->directions && h->directions[0] == QS_MAXIMIZE;
    double bv = 0;
    for (size_t t = 0; t < h->n_trials; t++) {
        double v = h->values[t * h->n_objectives];
        if (!qualifies(h, t, use_constraints) || isnan(v))
            continue;
        if (!*found || (max ? v > bv : v < bv)) {
            *found = true;
            *best = t;
            bv = v;
        }
    }
}

qs_status qs_history_front(const qs_history *h, bool use_constraints, size_t *idx_out,
                           size_t *n_out, qs_error *err)
{
    *n_out = 0;
    size_t m = h->n_objectives, n = 0;
    if (m == 0)
        return qs_error_set(err, QS_ERR_INPUT, "history: no objectives");
    double *vals = malloc((h->n_trials * m + 1) * sizeof *vals);
    size_t *map = malloc((h->n_trials + 1) * sizeof *map);
    if (!vals || !map) {
        free(vals);
        free(map);
        return qs_error_set(err, QS_ERR_NOMEM, "history: out of memory");
    }
    for (size_t t = 0; t < h->n_trials; t++)
        if (qualifies(h, t, use_constraints)) {
            memcpy(vals + n * m, h->values + t * m, m * sizeof *vals);
            map[n++] = t;
        }
    size_t k = qs_pareto_front(vals, n, m, h->directions, idx_out);
    for (size_t i = 0; i < k; i++)
        idx_out[i] = map[idx_out[i]];
    *n_out = k;
    free(vals);
    free(map);
    return QS_OK;
}
