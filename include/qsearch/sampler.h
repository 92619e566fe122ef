/* Search samplers over a categorical space: a pure ask interface. The driver
 * keeps the history of trials (a plain struct of arrays) and asks a sampler for
 * the next configuration; the sampler keeps no hidden state that changes its
 * answers: the same seed and the same history give the same proposal, so a
 * resumed study proposes what an uninterrupted one would have.
 *
 * Kinds: bruteforce (alias grid), random, tpe (Optuna 3.1's TPESampler for
 * categorical parameters), nsgaii (Optuna 3.1's NSGAIISampler). Algorithms,
 * defaults and differences from Optuna: docs/samplers.md. */
#ifndef QSEARCH_SAMPLER_H
#define QSEARCH_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qsearch/pareto.h"
#include "qsearch/status.h"

/* A categorical space: parameter i takes a choice index in [0, n_choices[i]). */
typedef struct {
    size_t n_params;
    const char *const *names;  /* [n_params] e.g. "seq_blocks_2/config/weight_width"; may be NULL */
    const uint32_t *n_choices; /* [n_params], each >= 1 */
} qs_sampler_space;

/* Trial states; the numbers equal study.h's qs_trial_state so a driver can copy them. */
typedef enum {
    QS_SAMPLER_RUNNING = 0,  /* proposed, being evaluated */
    QS_SAMPLER_COMPLETE = 1, /* evaluated: values[] valid */
    QS_SAMPLER_PRUNED = 2,   /* not evaluated or stopped (e.g. statically infeasible) */
    QS_SAMPLER_FAILED = 3    /* evaluation failed */
} qs_sampler_state;

/* The trials so far, in trial-number order. Filled by the driver (or with
 * qs_history_push, which owns the arrays; then release with qs_history_free). */
typedef struct {
    size_t n_trials, n_params, n_objectives, n_constraints;
    qs_direction *directions;  /* [n_objectives] */
    uint32_t *choices;         /* [n_trials][n_params] choice indices */
    qs_sampler_state *states;  /* [n_trials] */
    double *values;            /* [n_trials][n_objectives]; read for COMPLETE trials only */
    double *constraints;       /* [n_trials][n_constraints] or NULL; <= 0 feasible, NaN = not computed */
    size_t capacity;           /* rows allocated by qs_history_push (0 if driver-owned) */
} qs_history;

typedef enum {
    QS_SAMPLER_BRUTEFORCE = 0,
    QS_SAMPLER_RANDOM = 1,
    QS_SAMPLER_TPE = 2,
    QS_SAMPLER_NSGAII = 3
} qs_sampler_kind;

typedef struct {
    uint64_t seed;
    /* tpe */
    size_t n_startup_trials;   /* random proposals until this many COMPLETE+PRUNED trials: 10 */
    size_t n_ei_candidates;    /* candidates drawn from l(x): 24 */
    double prior_weight;       /* weight of the uniform prior kernel: 1.0 */
    bool multivariate;         /* joint kernels over all parameters: false */
    /* tpe and nsgaii: use history constraints (constraints_func in Optuna): true */
    bool use_constraints;
    /* nsgaii */
    size_t population_size;    /* 50 (>= 2) */
    double crossover_prob;     /* 0.9 */
    double swapping_prob;      /* 0.5 (uniform crossover) */
    double mutation_prob;      /* < 0: 1 / n_params (Optuna's default for None) */
    /* bruteforce: false = last parameter varies fastest (itertools.product order) */
    bool first_fastest;
} qs_sampler_options;

typedef struct qs_sampler qs_sampler;

/* Fills o with the defaults above (seed 0). */
void qs_sampler_options_default(qs_sampler_options *o);

/* "bruteforce", "random", "tpe", "nsgaii". */
const char *qs_sampler_kind_name(qs_sampler_kind k);

/* Parses a sampler name (also "grid", "nsga2", "nsga-ii"; case-insensitive);
 * QS_ERR_INPUT listing the known names otherwise. */
qs_status qs_sampler_kind_parse(const char *name, qs_sampler_kind *out, qs_error *err);

/* Number of configurations as a double (may be huge); *exact receives it as an
 * integer when it fits in 64 bits, else *overflow = true (both may be NULL). */
double qs_sampler_space_size(const qs_sampler_space *sp, uint64_t *exact, bool *overflow);

/* Mixed-radix index of a configuration in bruteforce order (first_fastest as in
 * the options); QS_ERR_USAGE if the space has 2^64 or more configurations. */
qs_status qs_sampler_config_index(const qs_sampler_space *sp, bool first_fastest,
                                  const uint32_t *choices, uint64_t *index, qs_error *err);

/* The configuration choices_out[n_params] with mixed-radix index idx. */
qs_status qs_sampler_config_at(const qs_sampler_space *sp, bool first_fastest, uint64_t idx,
                               uint32_t *choices_out, qs_error *err);

/* Canonical 64-bit hash of a configuration (for "never evaluate twice"); depends
 * only on n_params and the choice indices, stable across runs and machines. */
uint64_t qs_sampler_config_hash(size_t n_params, const uint32_t *choices);

/* Checks the space and options and creates a sampler (copies the space).
 * QS_ERR_INPUT for an empty parameter (0 choices) or bad option values. */
qs_status qs_sampler_new(qs_sampler_kind kind, const qs_sampler_space *sp,
                         const qs_sampler_options *opt, qs_sampler **out, qs_error *err);

/* Frees the sampler (NULL ok). */
void qs_sampler_delete(qs_sampler *s);

/* The kind the sampler was created with. */
qs_sampler_kind qs_sampler_kind_of(const qs_sampler *s);

/* Proposes the configuration of trial number h->n_trials into choices_out[n_params].
 * Bruteforce returns the first configuration (in its order) that no trial of h
 * holds, whatever its state, so workers that record RUNNING trials before asking
 * again get distinct configurations; when every configuration is taken it sets
 * *exhausted = true and writes nothing (with exhausted NULL that is QS_ERR_USAGE).
 * Other kinds never exhaust (they may repeat a configuration; the driver's hash
 * check skips it). QS_ERR_INPUT if h does not match the space (choice out of
 * range, wrong n_params) or a kind needs objectives that h lacks.
 * Caches (bruteforce's taken set, NSGA-II's elite) live in s: one ask at a time
 * per sampler (serialise asks across threads). */
qs_status qs_sampler_ask(qs_sampler *s, const qs_history *h, uint32_t *choices_out,
                         bool *exhausted, qs_error *err);

/* How qs_sampler_ask_fresh resolved proposals that were already taken. */
typedef struct {
    size_t duplicates;    /* proposals that repeated a taken configuration */
    size_t by_repeat;     /* resolved by telling the sampler the repeat and asking again */
    size_t by_uniform;    /* resolved by a uniform draw */
    size_t by_first_free; /* resolved by the first free configuration in bruteforce order */
} qs_sampler_dup_stats;

/* Nonzero when the configuration choices[n_params] is already taken (in the study). */
typedef int (*qs_config_taken_fn)(void *ctx, const uint32_t *choices);

#define QS_SAMPLER_DUP_REPEATS 32 /* repeats told to the sampler before drawing uniformly */
#define QS_SAMPLER_DUP_UNIFORM 64 /* uniform draws before the first free configuration */

/* A proposal that is not taken: a configuration is never evaluated twice.
 * Asks s; when the proposal is taken and h holds it, the repeat is told to the
 * sampler as a new observation with that trial's state and values (what Optuna
 * would have seen had it evaluated the configuration again), in a scratch copy
 * of h, and s is asked again, up to QS_SAMPLER_DUP_REPEATS times; then uniform
 * draws seeded by the trial number; then the first free configuration in
 * bruteforce order (*exhausted when none is left). Deterministic for a seed
 * and a history. stats (may be NULL) counts how proposals were resolved. */
qs_status qs_sampler_ask_fresh(qs_sampler *s, const qs_history *h, qs_config_taken_fn taken, void *ctx,
                               uint32_t *out, bool *exhausted, qs_sampler_dup_stats *stats, qs_error *err);

/* History with no trials and owned arrays; directions[n_objectives] copied (NULL: minimize). */
qs_status qs_history_init(qs_history *h, size_t n_params, size_t n_objectives,
                          const qs_direction *directions, size_t n_constraints, qs_error *err);

/* Appends a trial: choices[n_params], values[n_objectives] (may be NULL unless
 * COMPLETE), constraints[n_constraints] (NULL: NaN, not computed). */
qs_status qs_history_push(qs_history *h, const uint32_t *choices, qs_sampler_state state,
                          const double *values, const double *constraints, qs_error *err);

/* Releases the owned arrays (NULL ok; does nothing for driver-owned arrays). */
void qs_history_free(qs_history *h);

/* Best COMPLETE trial of a single-objective history (first on ties, NaN never
 * best); with use_constraints only feasible trials (all constraints <= 0)
 * qualify. *found = false when none does. */
void qs_history_best(const qs_history *h, bool use_constraints, size_t *best, bool *found);

/* Pareto front of the COMPLETE (and, with use_constraints, feasible) trials:
 * their trial indices in increasing order into idx_out[n_trials], the count in *n_out. */
qs_status qs_history_front(const qs_history *h, bool use_constraints, size_t *idx_out,
                           size_t *n_out, qs_error *err);

/* ---- TPE internals, exposed for tests and the docs' worked example ---- */

/* Optuna's default_gamma: min(ceil(0.1 * n), 25), computed in double as Optuna does. */
size_t qs_tpe_gamma(size_t n);

/* Optuna's default_weights(n) into w[n]: ones for n < 25, else a linear ramp from
 * 1/n to 1 over the oldest n - 25 trials followed by 25 ones. */
void qs_tpe_default_weights(size_t n, double *w);

/* Splits the observations of h into below (1) and above (0) as Optuna 3.1 does:
 * one objective: COMPLETE and PRUNED trials (pruned rank last), by value;
 * several: COMPLETE trials, by non-domination rank then greedy hypervolume
 * subset selection; constraints first when used. below_out[n_trials] (2 for
 * trials that are not observations); *n_obs the number of observations. */
qs_status qs_tpe_split(const qs_history *h, bool use_constraints, unsigned char *below_out,
                       size_t *n_obs, qs_error *err);

/* log l(x) and log g(x) for every choice x of parameter p, as the
 * independent TPE computes them for trial h->n_trials: log_l[n_choices[p]],
 * log_g[n_choices[p]]. Requires at least n_startup_trials observations. */
qs_status qs_tpe_log_densities(const qs_sampler *s, const qs_history *h, size_t p, double *log_l,
                               double *log_g, qs_error *err);

#endif
