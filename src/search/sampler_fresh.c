/* Proposals that the study does not hold yet (the "never evaluate twice" rule). */
#include <stdlib.h>
#include <string.h>

#include "qsearch/rng.h"
#include "sampler_impl.h"

/* Streams of qs_sampler_trial_rng for the uniform draws (0..2 are the samplers'). */
#define QS_SAMPLER_STREAM_FRESH 16

/* Row of h holding exactly these choices, or SIZE_MAX. */
static size_t find_row(const qs_history *h, const uint32_t *c)
{
    for (size_t t = h->n_trials; t-- > 0;)
        if (memcmp(h->choices + t * h->n_params, c, h->n_params * sizeof *c) == 0)
            return t;
    return SIZE_MAX;
}

/* A copy of h with owned arrays, room for `extra` more rows. */
static qs_status history_copy(qs_history *dst, const qs_history *src, qs_error *err)
{
    QS_TRY(qs_history_init(dst, src->n_params, src->n_objectives, src->directions, src->n_constraints, err));
    for (size_t t = 0; t < src->n_trials; t++) {
        qs_status st = qs_history_push(dst, src->choices + t * src->n_params, src->states[t],
                                       src->values + t * src->n_objectives,
                                       src->constraints ? src->constraints + t * src->n_constraints : NULL, err);
        if (st) {
            qs_history_free(dst);
            return st;
        }
    }
    return QS_OK;
}

/* Tells the sampler the repeat (as Optuna would have evaluated it again and got
 * the same values) in a scratch history and asks again, up to
 * QS_SAMPLER_DUP_REPEATS times. *found = 1 when a free proposal came back. */
static qs_status ask_after_repeats(qs_sampler *s, const qs_history *h, qs_config_taken_fn taken, void *ctx,
                                   uint32_t *out, int *found, qs_error *err)
{
    *found = 0;
    /* Bruteforce never repeats; random learns nothing from a repeat, and its
     * next trial would draw what a scratch ask at that trial number drew. */
    size_t row = find_row(h, out);
    if (row == SIZE_MAX || s->kind == QS_SAMPLER_BRUTEFORCE || s->kind == QS_SAMPLER_RANDOM)
        return QS_OK;
    qs_history scratch;
    QS_TRY(history_copy(&scratch, h, err));
    qs_status st = QS_OK;
    for (int a = 0; st == QS_OK && a < QS_SAMPLER_DUP_REPEATS && !*found; a++) {
        st = qs_history_push(&scratch, out, h->states[row], h->values + row * h->n_objectives,
                             h->constraints ? h->constraints + row * h->n_constraints : NULL, err);
        bool ex = false;
        if (st == QS_OK)
            st = qs_sampler_ask(s, &scratch, out, &ex, err);
        if (st == QS_OK && !ex && !taken(ctx, out))
            *found = 1;
        else if (st == QS_OK && (row = find_row(h, out)) == SIZE_MAX)
            break; /* taken but not in h (another process's running trial): stop repeating */
    }
    qs_history_free(&scratch);
    return st;
}

/* Uniform draws seeded by the trial number, then the first free configuration. */
static qs_status ask_uniform_then_first_free(qs_sampler *s, const qs_history *h, qs_config_taken_fn taken,
                                             void *ctx, uint32_t *out, bool *exhausted,
                                             qs_sampler_dup_stats *stats, qs_error *err)
{
    for (int a = 1; a <= QS_SAMPLER_DUP_UNIFORM; a++) {
        qs_rng r;
        qs_sampler_trial_rng(s, h->n_trials, QS_SAMPLER_STREAM_FRESH + (uint64_t)a, &r);
        for (size_t i = 0; i < s->space.n_params; i++)
            out[i] = (uint32_t)qs_rng_below(&r, s->space.n_choices[i]);
        if (!taken(ctx, out)) {
            stats->by_uniform++;
            return QS_OK;
        }
    }
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    qs_sampler *first_free;
    QS_TRY(qs_sampler_new(QS_SAMPLER_BRUTEFORCE, &s->space, &o, &first_free, err));
    qs_status st = qs_sampler_ask(first_free, h, out, exhausted, err);
    qs_sampler_delete(first_free);
    stats->by_first_free += st == QS_OK && !*exhausted;
    return st;
}

qs_status qs_sampler_ask_fresh(qs_sampler *s, const qs_history *h, qs_config_taken_fn taken, void *ctx,
                               uint32_t *out, bool *exhausted, qs_sampler_dup_stats *stats, qs_error *err)
{
    qs_sampler_dup_stats ignored;
    if (!stats)
        stats = &ignored;
    *exhausted = false;
    QS_TRY(qs_sampler_ask(s, h, out, exhausted, err));
    if (*exhausted || !taken(ctx, out))
        return QS_OK;
    stats->duplicates++;
    int found;
    QS_TRY(ask_after_repeats(s, h, taken, ctx, out, &found, err));
    if (found) {
        stats->by_repeat++;
        return QS_OK;
    }
    return ask_uniform_then_first_free(s, h, taken, ctx, out, exhausted, stats, err);
}
