/* The search driver: ask the sampler for a batch of new configurations, claim
 * them in the study, evaluate them on J threads, measure latency serially,
 * finish them in one commit, repeat. The sampler's history is the study's
 * non-stale trials, so a resumed or shared study proposes what it should. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/log.h"
#include "qsearch/pareto.h"
#include "qsearch/rng.h"
#include "search_driver.h"


/* ---- configuration hash set ---- */

static uint64_t set_key(uint64_t h) { return h ? h : 1; }

static qs_status set_grow(search_driver *d, qs_error *err)
{
    size_t cap = d->set_cap ? d->set_cap * 2 : 1024;
    uint64_t *s = calloc(cap, sizeof *s);
    if (!s)
        return qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    for (size_t i = 0; i < d->set_cap; i++)
        if (d->set[i]) {
            size_t j = d->set[i] & (cap - 1);
            while (s[j])
                j = (j + 1) & (cap - 1);
            s[j] = d->set[i];
        }
    free(d->set);
    d->set = s;
    d->set_cap = cap;
    return QS_OK;
}

static int set_has(const search_driver *d, uint64_t h)
{
    h = set_key(h);
    if (!d->set_cap)
        return 0;
    for (size_t j = h & (d->set_cap - 1); d->set[j]; j = (j + 1) & (d->set_cap - 1))
        if (d->set[j] == h)
            return 1;
    return 0;
}

static qs_status set_add(search_driver *d, uint64_t h, qs_error *err)
{
    if ((d->set_len + 1) * 2 > d->set_cap)
        QS_TRY(set_grow(d, err));
    h = set_key(h);
    size_t j = h & (d->set_cap - 1);
    while (d->set[j]) {
        if (d->set[j] == h)
            return QS_OK;
        j = (j + 1) & (d->set_cap - 1);
    }
    d->set[j] = h;
    d->set_len++;
    return QS_OK;
}

/* ---- history ---- */

char *qs_search_choices_json(const uint32_t *choices, size_t n)
{
    size_t cap = 2 + n * 11, len = 0;
    char *s = malloc(cap + 1);
    if (!s)
        return NULL;
    s[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap + 1 - len, "%s%" PRIu32, i ? "," : "", choices[i]);
    s[len++] = ']';
    s[len] = 0;
    return s;
}

static qs_status push_row(search_driver *d, const uint32_t *choices, qs_sampler_state st, const double *values,
                          const double *cons, int64_t number, qs_error *err)
{
    if (d->h.n_trials == d->numbers_cap) {
        size_t cap = d->numbers_cap ? d->numbers_cap * 2 : 256;
        int64_t *n = realloc(d->numbers, cap * sizeof *n);
        if (!n)
            return qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
        d->numbers = n;
        d->numbers_cap = cap;
    }
    d->numbers[d->h.n_trials] = number;
    QS_TRY(qs_history_push(&d->h, choices, st, values, cons, err));
    return set_add(d, qs_sampler_config_hash(d->n_params, choices), err);
}

/* ---- the best trials so far (progress, and whose latency samples to keep) ---- */

static void best_reset(search_driver *d)
{
    d->n_top = 0;
    d->n_front = 0;
}

/* Adds history row `row` (just finished) to the best-so-far set: single
 * objective, the SEARCH_TOP best feasible values; several, the feasible Pareto
 * front (rows it dominates leave). Returns 1 when the row entered the set: then
 * it may end among the final best, whose latency samples the report draws.
 * A trial in the final top K (or front) always entered it when it finished. */
static int best_add(search_driver *d, size_t row, qs_error *err, qs_status *st)
{
    const qs_history *h = &d->h;
    const double *v = h->values + row * d->n_obj;
    if (h->states[row] != QS_SAMPLER_COMPLETE)
        return 0;
    if (d->n_cons && qs_pareto_violation(h->constraints + row * d->n_cons, d->n_cons) != 0)
        return 0;
    for (size_t k = 0; k < d->n_obj; k++)
        if (isnan(v[k]))
            return 0;
    if (d->n_obj == 1) {
        int max = h->directions[0] == QS_MAXIMIZE;
        size_t i = d->n_top;
        while (i > 0 && (max ? v[0] > d->top[i - 1] : v[0] < d->top[i - 1]))
            i--;
        if (i >= SEARCH_TOP)
            return 0;
        size_t n = d->n_top < SEARCH_TOP ? d->n_top + 1 : SEARCH_TOP;
        memmove(d->top + i + 1, d->top + i, (n - 1 - i) * sizeof *d->top);
        d->top[i] = v[0];
        d->n_top = n;
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < d->n_front; i++) {
        const double *f = h->values + d->front[i] * d->n_obj;
        if (qs_pareto_dominates(f, v, d->n_obj, h->directions))
            return 0;
        if (!qs_pareto_dominates(v, f, d->n_obj, h->directions))
            d->front[k++] = d->front[i];
    }
    if (k == d->front_cap) {
        size_t cap = d->front_cap ? 2 * d->front_cap : 64;
        size_t *f = realloc(d->front, cap * sizeof *f);
        if (!f) {
            *st = qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
            return 0;
        }
        d->front = f;
        d->front_cap = cap;
    }
    d->front[k++] = row;
    d->n_front = k;
    return 1;
}

typedef struct {
    search_driver *d;
    qs_status st;
    qs_error *err;
    int64_t total, done;
} reload_ctx;

/* Reads a JSON array of n numbers (null -> NAN) into out. */
static int json_numbers(const char *text, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
    if (!text)
        return 0;
    json_t *a = json_loads(text, 0, NULL);
    if (!a || !json_is_array(a) || json_array_size(a) != n) {
        json_decref(a);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (json_is_number(json_array_get(a, i)))
            out[i] = json_number_value(json_array_get(a, i));
    json_decref(a);
    return 0;
}

/* Active constraint values from the stored object {"name": value - limit}. */
static void json_constraints(const search_driver *d, const char *text, double *out)
{
    for (size_t k = 0; k < d->n_cons; k++)
        out[k] = NAN;
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    for (size_t k = 0; o && k < d->n_cons; k++) {
        json_t *v = json_object_get(o, qs_search_constraint_name(d->cons_id[k]));
        if (json_is_number(v))
            out[k] = json_number_value(v);
    }
    json_decref(o);
}

qs_status qs_search_parse_choices(const char *text, uint32_t *out, size_t n, int64_t number, qs_error *err)
{
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    qs_status st = QS_OK;
    if (!a || !json_is_array(a) || json_array_size(a) != n)
        st = qs_error_set(err, QS_ERR_INPUT, "study trial %" PRId64 ": choices %s do not match the space's %zu "
                          "parameters", number, text ? text : "(null)", n);
    for (size_t i = 0; st == QS_OK && i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            st = qs_error_set(err, QS_ERR_INPUT, "study trial %" PRId64 ": bad choice index", number);
        else
            out[i] = (uint32_t)json_integer_value(v);
    }
    json_decref(a);
    return st;
}

static int reload_one(void *ctx, const qs_trial_record *t)
{
    reload_ctx *r = ctx;
    search_driver *d = r->d;
    r->total++;
    if (t->state != QS_TRIAL_RUNNING)
        r->done++;
    if (t->stale)
        return 0; /* its worker died: the configuration is free again */
    uint32_t choices[4096];
    double values[QS_SEARCH_MAX_TERMS], cons[QS_SC_COUNT];
    if (d->n_params > 4096)
        r->st = qs_error_set(r->err, QS_ERR_UNSUPPORTED, "search: more than 4096 searched parameters");
    if (r->st == QS_OK)
        r->st = qs_search_parse_choices(t->choices_json, choices, d->n_params, t->number, r->err);
    if (r->st == QS_OK && json_numbers(t->state == QS_TRIAL_COMPLETE ? t->values_json : NULL, values, d->n_obj))
        r->st = qs_error_set(r->err, QS_ERR_INPUT, "study trial %" PRId64 ": values %s do not match %zu objectives",
                             t->number, t->values_json, d->n_obj);
    json_constraints(d, t->constraints_json, cons);
    if (r->st == QS_OK)
        r->st = push_row(d, choices, (qs_sampler_state)t->state, values, d->n_cons ? cons : NULL, t->number, r->err);
    return r->st != QS_OK;
}

/* Rebuilds the history from the study (other processes may have added trials). */
static qs_status reload(search_driver *d, qs_error *err)
{
    qs_direction dirs[QS_SEARCH_MAX_TERMS];
    for (size_t k = 0; k < d->n_obj; k++)
        dirs[k] = d->cfg->sum_scaled ? d->cfg->sum_direction : d->cfg->terms[k].direction;
    qs_history_free(&d->h);
    QS_TRY(qs_history_init(&d->h, d->n_params, d->n_obj, dirs, d->n_cons, err));
    if (d->set)
        memset(d->set, 0, d->set_cap * sizeof *d->set);
    d->set_len = 0;
    reload_ctx r = {.d = d, .st = QS_OK, .err = err};
    QS_TRY(qs_study_trials(d->opt->study, reload_one, &r, err));
    QS_TRY(r.st);
    best_reset(d);
    qs_status st = QS_OK;
    for (size_t i = 0; st == QS_OK && i < d->h.n_trials; i++)
        best_add(d, i, err, &st);
    QS_TRY(st);
    d->expect_total = r.total;
    d->expect_done = r.done;
    return QS_OK;
}

/* Reloads when the study's counts differ from what this process expects. */
static qs_status sync(search_driver *d, qs_error *err)
{
    qs_study_counts c;
    QS_TRY(qs_study_count(d->opt->study, &c, err));
    int64_t done = c.complete + c.pruned + c.failed + c.stale;
    if (c.total != d->expect_total || done != d->expect_done)
        return reload(d, err);
    return QS_OK;
}

/* ---- proposals ---- */

/* A configuration the study does not hold (qs_sampler_ask_fresh's rule). It
 * depends only on the seed and the history, so resumed and uninterrupted runs
 * agree. */
static int taken_in_study(void *ctx, const uint32_t *choices)
{
    const search_driver *d = ctx;
    return set_has(d, qs_sampler_config_hash(d->n_params, choices));
}

static qs_status propose(search_driver *d, uint32_t *out, int *exhausted, qs_error *err)
{
    bool ex = false;
    QS_TRY(qs_sampler_ask_fresh(d->sampler, &d->h, taken_in_study, d, out, &ex, NULL, err));
    *exhausted = ex;
    return QS_OK;
}

/* ---- a batch ---- */

typedef struct {
    const search_driver *d;
    search_worker *w;
    search_task *tasks;
    size_t n, first, stride;
} thread_job;

/* Worker k takes a contiguous share, so consecutive configurations (which
 * share a prefix of layers in bruteforce order) meet its prefix cache. */
static void *run_job(void *arg)
{
    thread_job *j = arg;
    size_t lo = j->n * j->first / j->stride, hi = j->n * (j->first + 1) / j->stride;
    for (size_t i = lo; i < hi; i++)
        qs_search_eval_task(j->d, j->w, &j->tasks[i]);
    return NULL;
}

static void evaluate_all(const search_driver *d, search_worker *w, int jobs, search_task *t, size_t n)
{
    thread_job job[256];
    pthread_t th[256];
    int started[256] = {0};
    if (jobs > 256)
        jobs = 256;
    if ((size_t)jobs > n)
        jobs = n ? (int)n : 1;
    for (int k = 0; k < jobs; k++)
        job[k] = (thread_job){d, &w[k], t, n, (size_t)k, (size_t)jobs};
    for (int k = 1; k < jobs; k++)
        started[k] = pthread_create(&th[k], NULL, run_job, &job[k]) == 0;
    run_job(&job[0]);
    for (int k = 1; k < jobs; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            run_job(&job[k]); /* no thread: do its share here */
    }
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* Every computed metric; latency as DESIGN.md's object (batch 1, ns) when measured. */
static char *metrics_json(const search_task *t)
{
    json_t *o = json_object();
    for (int k = 0; k < QS_SM_COUNT; k++) {
        if (isnan(t->metrics[k]))
            continue;
        json_t *v = num_or_null(t->metrics[k]);
        if (k == QS_SM_LATENCY && t->lat_runs > 0)
            v = json_pack("{s:i, s:o, s:o, s:[o, o], s:i}", "batch", 1, "median_ns", v, "p95_ns",
                          num_or_null(t->lat_p95_ns), "ci95_ns", num_or_null(t->lat_ci_lo_ns),
                          num_or_null(t->lat_ci_hi_ns), "runs", t->lat_runs);
        json_object_set_new(o, qs_search_metric_name((qs_search_metric)k), v);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

static char *cons_json(const search_driver *d, const search_task *t)
{
    if (!d->n_cons)
        return NULL;
    json_t *o = json_object();
    for (size_t k = 0; k < d->n_cons; k++)
        json_object_set_new(o, qs_search_constraint_name(d->cons_id[k]), num_or_null(t->cons[d->cons_id[k]]));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

static char *values_json(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(a, num_or_null(v[k]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* Records the batch's results in the study (one commit) and in the history. */
static qs_status finish_batch(search_driver *d, search_task *t, size_t n, qs_error *err)
{
    qs_trial_result *r = calloc(n ? n : 1, sizeof *r);
    int64_t *num = calloc(n ? n : 1, sizeof *num);
    char **texts = calloc(3 * (n ? n : 1), sizeof *texts);
    double *vals = calloc((n ? n : 1) * d->n_obj, sizeof *vals);
    qs_status st = (r && num && texts && vals) ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    for (size_t i = 0; st == QS_OK && i < n; i++) {
        double *v = vals + i * d->n_obj;
        for (size_t k = 0; k < d->n_obj; k++)
            v[k] = NAN;
        if (t[i].state == QS_TRIAL_COMPLETE)
            qs_search_objectives(d->cfg, t[i].metrics, v);
        num[i] = t[i].number;
        r[i].state = t[i].state;
        r[i].values_json = texts[3 * i] = t[i].state == QS_TRIAL_COMPLETE ? values_json(v, d->n_obj) : NULL;
        r[i].metrics_json = texts[3 * i + 1] = metrics_json(&t[i]);
        r[i].constraints_json = texts[3 * i + 2] = cons_json(d, &t[i]);
        r[i].error = t[i].error[0] ? t[i].error : NULL;
        r[i].has_seed = 1;
        r[i].seed = (int64_t)d->cfg->seed;
        r[i].duration_s = t[i].duration_s;
    }
    if (st == QS_OK)
        st = qs_study_finish_many(d->opt->study, n, num, r, err);
    for (size_t i = 0; st == QS_OK && i < n; i++) { /* the history row of trial number t[i].number */
        size_t lo = 0, hi = d->h.n_trials;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (d->numbers[mid] < t[i].number)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == d->h.n_trials || d->numbers[lo] != t[i].number)
            continue;
        d->h.states[lo] = (qs_sampler_state)t[i].state;
        for (size_t k = 0; k < d->n_obj; k++)
            d->h.values[lo * d->n_obj + k] = vals[i * d->n_obj + k];
        for (size_t k = 0; k < d->n_cons; k++)
            d->h.constraints[lo * d->n_cons + k] = t[i].cons[d->cons_id[k]];
        /* a trial among the best so far keeps its latency samples (for the report) */
        if (best_add(d, lo, err, &st) && t[i].lat_samples && st == QS_OK)
            st = qs_study_put_samples_f64(d->opt->study, t[i].number, "latency_ns", t[i].lat_samples,
                                          (size_t)t[i].lat_runs, err);
    }
    for (size_t i = 0; i < n; i++) {
        free(t[i].lat_samples);
        t[i].lat_samples = NULL;
    }
    if (st == QS_OK) {
        d->expect_done += (int64_t)n;
        d->done_here += n;
    }
    for (size_t i = 0; texts && i < 3 * n; i++)
        free(texts[i]);
    free(texts);
    free(vals);
    free(num);
    free(r);
    return st;
}

/* Proposes up to want configurations, pushes them as running rows and claims them. */
static qs_status claim_batch(search_driver *d, search_task *t, uint32_t *choices, size_t want, size_t *got,
                             int *exhausted, qs_error *err)
{
    size_t n = 0;
    qs_status st = QS_OK;
    char **cj = calloc(want ? want : 1, sizeof *cj);
    uint64_t *hash = calloc(want ? want : 1, sizeof *hash);
    int64_t *num = calloc(want ? want : 1, sizeof *num);
    int *claimed = calloc(want ? want : 1, sizeof *claimed);
    if (!cj || !hash || !num || !claimed)
        st = qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    while (st == QS_OK && n < want && !*exhausted) {
        uint32_t *c = choices + n * d->n_params;
        st = propose(d, c, exhausted, err);
        if (st || *exhausted)
            break;
        hash[n] = qs_sampler_config_hash(d->n_params, c);
        st = push_row(d, c, QS_SAMPLER_RUNNING, NULL, NULL, -1, err);
        if (st == QS_OK && !(cj[n] = qs_search_choices_json(c, d->n_params)))
            st = qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
        n++;
    }
    if (st == QS_OK && n)
        st = qs_study_claim_many(d->opt->study, n, hash, (const char *const *)cj, 0, num, claimed, err);
    size_t k = 0, lost = 0;
    for (size_t i = 0; st == QS_OK && i < n; i++) {
        if (!claimed[i]) {
            lost++; /* another process holds it */
            continue;
        }
        t[k] = (search_task){.number = num[i], .choices = choices + k * d->n_params, .hash = hash[i]};
        if (k != i)
            memmove(t[k].choices, choices + i * d->n_params, d->n_params * sizeof *choices);
        k++;
    }
    if (st == QS_OK) {
        /* Running rows pushed above get their study numbers: reload when another
         * process interfered, else number them in claim order. */
        d->expect_total += (int64_t)k;
        if (lost)
            st = reload(d, err);
        else
            for (size_t i = 0; i < n; i++)
                d->numbers[d->h.n_trials - n + i] = num[i];
    }
    for (size_t i = 0; cj && i < n; i++)
        free(cj[i]);
    free(cj);
    free(hash);
    free(num);
    free(claimed);
    *got = k;
    return st;
}

static size_t target_trials(const search_driver *d)
{
    double size = qs_search_space_size(d->space);
    size_t n = d->cfg->n_trials;
    if (n == 0)
        n = d->cfg->sampler == QS_SAMPLER_BRUTEFORCE && size < 1e12 ? (size_t)size : 20;
    if (size < (double)n)
        n = (size_t)size;
    return n;
}

static void report(const search_driver *d, size_t target, double t0)
{
    if (!d->opt->progress)
        return;
    qs_search_progress p = {.target = target, .elapsed_s = qs_search_now_s() - t0, .done_here = d->done_here};
    for (size_t i = 0; i < d->h.n_trials; i++) {
        qs_sampler_state s = d->h.states[i];
        p.done += s != QS_SAMPLER_RUNNING;
        p.pruned += s == QS_SAMPLER_PRUNED;
        p.failed += s == QS_SAMPLER_FAILED;
    }
    p.n_objectives = d->n_obj;
    p.front = d->n_front;
    if (d->n_obj == 1) {
        size_t b;
        bool found;
        qs_history_best(&d->h, true, &b, &found);
        p.have_best = found;
        p.best = found ? d->h.values[b] : NAN;
    }
    d->opt->progress(d->opt->progress_ctx, &p);
}

/* One batch: claim, evaluate in parallel, latency serially, finish. */
static qs_status run_batch(search_driver *d, search_worker *w, search_task *t, uint32_t *choices, size_t want,
                           int *exhausted, qs_error *err)
{
    size_t n;
    QS_TRY(claim_batch(d, t, choices, want, &n, exhausted, err));
    evaluate_all(d, w, d->opt->jobs, t, n);
    for (size_t i = 0; d->need_latency && i < n; i++)
        if (t[i].state == QS_TRIAL_COMPLETE)
            qs_search_latency_task(d, &w[0], &t[i]);
    return finish_batch(d, t, n, err);
}

#define BATCH_SECONDS 0.25 /* a batch (and so a commit) about this often */
#define BATCH_MAX 1024

/* TPE and NSGA-II learn from each result: ask as late as possible (J at a
 * time). Bruteforce and random do not, so a batch only amortises commits and
 * thread start-up: sized to last about BATCH_SECONDS (results are the same for
 * any batch size and any J). */
static size_t batch_size(const search_driver *d, double per_trial_s)
{
    size_t jobs = (size_t)d->opt->jobs;
    if (d->cfg->sampler == QS_SAMPLER_TPE || d->cfg->sampler == QS_SAMPLER_NSGAII)
        return jobs;
    double b = per_trial_s > 0 ? BATCH_SECONDS / per_trial_s : (double)jobs;
    if (b > BATCH_MAX)
        b = BATCH_MAX;
    return b < (double)jobs ? jobs : (size_t)b;
}

qs_status qs_search_loop(search_driver *d, size_t *target_out, qs_error *err)
{
    size_t target = target_trials(d), B = batch_size(d, 0);
    *target_out = target;
    int jobs = d->opt->jobs;
    search_worker *w = calloc((size_t)jobs, sizeof *w);
    search_task *t = calloc(BATCH_MAX + (size_t)jobs, sizeof *t);
    uint32_t *choices = calloc((BATCH_MAX + (size_t)jobs) * (d->n_params ? d->n_params : 1), sizeof *choices);
    qs_status st = (w && t && choices) ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    for (int k = 0; st == QS_OK && k < jobs; k++)
        st = qs_search_worker_init(&w[k], d->model, d->val.n, d->cache_layer, err);
    double t0 = qs_search_now_s();
    int exhausted = 0;
    if (st == QS_OK)
        st = reload(d, err);
    while (st == QS_OK && !exhausted && !(d->opt->stop && *d->opt->stop)) {
        if (d->cfg->timeout_s > 0 && qs_search_now_s() - t0 > d->cfg->timeout_s) {
            qs_log("search: timeout of %g s reached", d->cfg->timeout_s);
            break;
        }
        st = sync(d, err);
        if (st || d->h.n_trials >= target)
            break;
        size_t want = target - d->h.n_trials;
        size_t before = d->done_here;
        double b0 = qs_search_now_s();
        st = run_batch(d, w, t, choices, want < B ? want : B, &exhausted, err);
        if (st == QS_OK && d->done_here > before)
            B = batch_size(d, (qs_search_now_s() - b0) / (double)(d->done_here - before));
        if (st == QS_OK)
            report(d, target, t0);
        if (st == QS_OK && qs_search_now_s() - d->run_meta_at >= SEARCH_RUN_META_S)
            st = qs_search_run_meta(d, err); /* a killed run still counts in wall_s */
    }
    for (int k = 0; w && k < jobs; k++)
        qs_search_worker_free(&w[k]);
    free(w);
    free(t);
    free(choices);
    return st;
}
