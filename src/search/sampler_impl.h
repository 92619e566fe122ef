/* Private to src/search/sampler*.c, tpe.c and nsga2.c: the sampler struct and
 * the helpers the algorithm files share. Not installed. */
#ifndef QSEARCH_SAMPLER_IMPL_H
#define QSEARCH_SAMPLER_IMPL_H

#include "qsearch/rng.h"
#include "qsearch/sampler.h"

struct qs_sampler {
    qs_sampler_kind kind;
    qs_sampler_options opt;
    qs_sampler_space space; /* points at the copies below */
    uint32_t *n_choices;    /* [n_params] */
    char **names;           /* [n_params] or NULL */
    /* bruteforce: indices taken by the trials seen so far (open addressing,
     * empty = UINT64_MAX), the first index not known to be taken, and which
     * prefix of the history has been read (checked by the hash of its last row). */
    uint64_t size;
    bool size_overflow;
    uint64_t *taken;
    size_t taken_cap, taken_len;
    uint64_t cursor;
    size_t seen;
    uint64_t seen_last_hash;
    /* nsgaii: the elite after the last closed generation seen, valid while the
     * rows [0, nsga_close] hash to nsga_hash (rows may change state later). */
    size_t nsga_close; /* trial index that closed it; SIZE_MAX: none cached */
    uint64_t nsga_hash;
    size_t *nsga_elite; /* [population_size] */
    size_t nsga_n_elite;
};

/* 64-bit mixer (splitmix64's finaliser). */
uint64_t qs_sampler_mix64(uint64_t z);

/* The generator for trial number trial_no: depends only on the seed, the trial
 * number and the stream (0: uniform draws shared by random, TPE start-up and
 * NSGA-II's first generation and mutation; 1, 2: algorithm streams). */
void qs_sampler_trial_rng(const qs_sampler *s, size_t trial_no, uint64_t stream, qs_rng *r);

/* Independent uniform choice for every parameter. */
void qs_sampler_uniform(const qs_sampler *s, qs_rng *r, uint32_t *choices_out);

/* Checks h against the space (n_params, choice ranges, objectives when needed). */
qs_status qs_sampler_check_history(const qs_sampler *s, const qs_history *h, size_t from,
                                   bool need_objectives, qs_error *err);

qs_status qs_tpe_ask(qs_sampler *s, const qs_history *h, uint32_t *choices_out, qs_error *err);
qs_status qs_nsga2_ask(qs_sampler *s, const qs_history *h, uint32_t *choices_out, qs_error *err);

#endif
