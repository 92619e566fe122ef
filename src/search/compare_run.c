/* Sample-efficiency comparison: the exhaustive pass through the search
 * driver, curves into the study, compare.json and the CSV files (compare.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/compare.h"
#include "qsearch/fs.h"

/* ---- exhaustive pass ---- */

/* Refuses what a replay cannot reproduce: measured metrics vary between runs. */
static qs_status check_replayable(const qs_search_config *c, qs_error *err)
{
    if (qs_search_n_objectives(c) != 1)
        return qs_error_set(err, QS_ERR_INPUT,
                            "compare: needs a single objective (setup.sum_scaled_metrics = true); a Pareto "
                            "search has no best-so-far curve");
    for (size_t i = 0; i < c->n_terms; i++)
        if (c->terms[i].metric == QS_SM_LATENCY || c->terms[i].metric == QS_SM_CPU_UTIL)
            return qs_error_set(err, QS_ERR_INPUT,
                                "compare: metric '%s' is measured and varies between runs, so replaying a table of "
                                "it would not be exact; compare on quality and static metrics",
                                c->terms[i].name);
    if (!isnan(c->limit[QS_SC_LATENCY]))
        return qs_error_set(err, QS_ERR_INPUT,
                            "compare: constraint latency_ns_max is measured and varies between runs; remove it");
    return QS_OK;
}

static qs_status fill_table(const qs_search_result *res, const qs_search_config *c, qs_compare_table *t,
                            qs_error *err)
{
    double cons[QS_SC_COUNT];
    for (size_t i = 0; i < res->n_trials; i++) {
        const qs_search_trial *x = &res->trials[i];
        if (x->state == QS_TRIAL_RUNNING)
            continue; /* another process is on it: the table will say it is missing */
        size_t n = 0;
        for (int k = 0; k < QS_SC_COUNT; k++)
            if (!isnan(c->limit[k]))
                cons[n++] = x->constraints[k];
        QS_TRY(qs_compare_table_set(t, x->choices, (qs_sampler_state)x->state,
                                    x->values ? x->values[0] : NAN, cons, err));
    }
    return qs_compare_table_finish(t, err);
}

qs_status qs_compare_exhaustive(const qs_search_options *opt, uint64_t max_configs, qs_compare_table *t,
                                qs_search_result *res, qs_error *err)
{
    memset(t, 0, sizeof *t);
    memset(res, 0, sizeof *res);
    const qs_search_space *sp = opt->space;
    QS_TRY(check_replayable(opt->cfg, err));
    size_t n_cons = 0;
    for (int k = 0; k < QS_SC_COUNT; k++)
        n_cons += !isnan(opt->cfg->limit[k]);
    QS_TRY(qs_compare_table_init(t, sp->n_params, sp->n_choices, opt->cfg->sum_direction, n_cons, max_configs, err));
    qs_search_config ec = *opt->cfg;
    ec.sampler = QS_SAMPLER_BRUTEFORCE;
    ec.n_trials = (size_t)t->size;
    qs_search_options eo = *opt;
    eo.cfg = &ec;
    qs_status st = qs_search_run(&eo, res, err);
    if (st == QS_OK && res->n_objectives == 1)
        t->direction = res->directions[0];
    if (st == QS_OK)
        st = fill_table(res, opt->cfg, t, err);
    if (st) {
        qs_compare_table_free(t);
        qs_search_result_free(res);
    }
    return st;
}

/* ---- study ---- */

qs_status qs_compare_store_curves(const qs_compare_result *r, qs_study *study, qs_error *err)
{
    size_t N = r->opt.n_trials;
    for (size_t k = 0; k < r->n_samplers; k++) {
        /* replays that count duplicates are another experiment: their own curve name */
        char name[64];
        snprintf(name, sizeof name, "%s%s", qs_sampler_kind_name(r->s[k].kind),
                 r->opt.count_duplicates ? " (duplicates counted)" : "");
        for (size_t rep = 0; rep < r->opt.repeats; rep++)
            QS_TRY(qs_study_put_curve(study, name, (int)rep, (int64_t)(r->opt.seed + rep), r->s[k].value + rep * N,
                                      r->s[k].best + rep * N, N, err));
    }
    return QS_OK;
}

/* ---- JSON ---- */

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *num_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, num(v[i]));
    return a;
}

/* A choice as JSON: an integer when it reads as one, else its text. */
static json_t *optimum_json(const qs_compare_result *r, const qs_compare_table *t, const qs_search_space *sp)
{
    json_t *params = NULL;
    uint32_t c[64];
    qs_sampler_space ssp = {t->n_params, NULL, t->n_choices};
    if (sp && t->n_params <= 64 && sp->n_params == t->n_params &&
        qs_sampler_config_at(&ssp, false, r->optimum_index, c, NULL) == QS_OK)
        params = qs_search_params_json(sp, c);
    if (!params)
        params = json_object();
    return json_pack("{s:o, s:I, s:o}", "value", num(r->optimum), "index", (json_int_t)r->optimum_index, "params",
                     params);
}

static json_t *sampler_json(const qs_compare_result *r, const qs_compare_sampler *s)
{
    size_t R = r->opt.repeats, N = r->opt.n_trials;
    json_t *per = json_array(), *seeds = json_array();
    for (size_t rep = 0; rep < R; rep++) {
        json_array_append_new(per, s->within[rep] ? json_integer((json_int_t)s->within[rep]) : json_null());
        json_array_append_new(seeds, json_integer((json_int_t)(r->opt.seed + rep)));
    }
    json_t *within = json_pack("{s:o, s:o, s:o, s:I, s:I, s:o}", "median", num(s->within_median), "q1",
                               num(s->within_q1), "q3", num(s->within_q3), "never", (json_int_t)s->never, "reached",
                               (json_int_t)(R - s->never), "per_repeat", per);
    json_t *curve = json_pack("{s:o, s:o, s:o}", "median", num_array(s->median, N), "q1", num_array(s->q1, N), "q3",
                              num_array(s->q3, N));
    json_t *dups = json_pack("{s:I, s:I, s:I, s:I}", "replaced", (json_int_t)s->dups.duplicates, "by_repeat",
                             (json_int_t)s->dups.by_repeat, "by_uniform", (json_int_t)s->dups.by_uniform,
                             "by_first_free", (json_int_t)s->dups.by_first_free);
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "sampler", qs_sampler_kind_name(s->kind), "seeds", seeds,
                     "trials_to_within", within, "best_so_far", curve, "duplicates", dups);
}

json_t *qs_compare_json(const qs_compare_result *r, const qs_compare_table *t, const qs_search_space *sp)
{
    json_t *samplers = json_array();
    for (size_t k = 0; k < r->n_samplers; k++)
        json_array_append_new(samplers, sampler_json(r, &r->s[k]));
    return json_pack("{s:I, s:s, s:o, s:I, s:I, s:I, s:s, s:f, s:s, s:o}", "space_size", (json_int_t)r->size,
                     "direction", t->direction == QS_MAXIMIZE ? "maximize" : "minimize", "optimum",
                     optimum_json(r, t, sp), "repeats", (json_int_t)r->opt.repeats, "trials",
                     (json_int_t)r->opt.n_trials, "seed", (json_int_t)r->opt.seed, "duplicates",
                     r->opt.count_duplicates ? "count" : "skip", "tolerance", r->opt.rel, "table", "exhaustive",
                     "samplers", samplers);
}

/* ---- files ---- */

/* Opens dir/name for an atomic write (qs_fs_atomic). */
static qs_status out_open(qs_fs_atomic *o, const char *dir, const char *name, qs_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return qs_fs_atomic_open(o, path, err);
}

/* Puts the file in place, or drops it when st (what happened while writing) failed. */
static qs_status out_close(qs_fs_atomic *o, qs_status st, qs_error *err)
{
    if (st == QS_OK)
        return qs_fs_atomic_commit(o, err);
    qs_fs_atomic_abort(o);
    return st;
}

static void csv_num(FILE *f, double v)
{
    if (isnan(v))
        return; /* empty field */
    fprintf(f, "%.17g", v);
}

static qs_status write_curves(const qs_compare_result *r, const char *dir, qs_error *err)
{
    qs_fs_atomic o;
    QS_TRY(out_open(&o, dir, "curves.csv", err));
    fprintf(o.f, "sampler,trial,median,q1,q3\n");
    for (size_t k = 0; k < r->n_samplers; k++)
        for (size_t i = 0; i < r->opt.n_trials; i++) {
            const qs_compare_sampler *s = &r->s[k];
            fprintf(o.f, "%s,%zu,", qs_sampler_kind_name(s->kind), i + 1);
            csv_num(o.f, s->median[i]), fputc(',', o.f);
            csv_num(o.f, s->q1[i]), fputc(',', o.f);
            csv_num(o.f, s->q3[i]), fputc('\n', o.f);
        }
    return out_close(&o, QS_OK, err);
}

static qs_status write_runs(const qs_compare_result *r, const char *dir, qs_error *err)
{
    qs_fs_atomic o;
    QS_TRY(out_open(&o, dir, "runs.csv", err));
    size_t N = r->opt.n_trials;
    fprintf(o.f, "sampler,repeat,seed,trial,value,best\n");
    for (size_t k = 0; k < r->n_samplers; k++)
        for (size_t rep = 0; rep < r->opt.repeats; rep++)
            for (size_t i = 0; i < N; i++) {
                fprintf(o.f, "%s,%zu,%" PRIu64 ",%zu,", qs_sampler_kind_name(r->s[k].kind), rep, r->opt.seed + rep,
                        i + 1);
                csv_num(o.f, r->s[k].value[rep * N + i]), fputc(',', o.f);
                csv_num(o.f, r->s[k].best[rep * N + i]), fputc('\n', o.f);
            }
    QS_TRY(out_close(&o, QS_OK, err));
    QS_TRY(out_open(&o, dir, "within.csv", err));
    fprintf(o.f, "sampler,repeat,seed,trials\n");
    for (size_t k = 0; k < r->n_samplers; k++)
        for (size_t rep = 0; rep < r->opt.repeats; rep++) {
            fprintf(o.f, "%s,%zu,%" PRIu64 ",", qs_sampler_kind_name(r->s[k].kind), rep, r->opt.seed + rep);
            if (r->s[k].within[rep])
                fprintf(o.f, "%zu", r->s[k].within[rep]);
            fputc('\n', o.f);
        }
    return out_close(&o, QS_OK, err);
}

/* table.csv: choice indices then the objective (empty when the trial was
 * pruned, failed or infeasible), in bruteforce order. */
static qs_status write_table(const qs_compare_table *t, const qs_search_space *sp, const char *dir, qs_error *err)
{
    qs_fs_atomic o;
    QS_TRY(out_open(&o, dir, "table.csv", err));
    for (size_t i = 0; i < t->n_params; i++)
        fprintf(o.f, "%s,", sp && i < sp->n_params ? sp->names[i] : "p");
    fprintf(o.f, "value\n");
    uint32_t *c = calloc(t->n_params, sizeof *c);
    if (!c)
        return out_close(&o, qs_error_set(err, QS_ERR_NOMEM, "compare: out of memory"), err);
    for (uint64_t idx = 0; idx < t->size; idx++) {
        for (size_t i = 0; i < t->n_params; i++)
            fprintf(o.f, "%u,", (unsigned)c[i]);
        csv_num(o.f, qs_compare_table_feasible(t, idx) ? t->value[idx] : NAN);
        fputc('\n', o.f);
        for (size_t i = t->n_params; i-- > 0;) { /* next index, last parameter fastest */
            if (++c[i] < t->n_choices[i])
                break;
            c[i] = 0;
        }
    }
    free(c);
    return out_close(&o, QS_OK, err);
}

qs_status qs_compare_write_outputs(const qs_compare_result *r, const qs_compare_table *t, const qs_search_space *sp,
                                   const char *dir, qs_error *err)
{
    QS_TRY(qs_fs_mkdirs(dir, err));
    json_t *doc = qs_compare_json(r, t, sp);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return qs_error_set(err, QS_ERR_NOMEM, "compare: cannot format compare.json");
    qs_fs_atomic o;
    qs_status st = out_open(&o, dir, "compare.json", err);
    if (st == QS_OK) {
        fputs(text, o.f);
        fputc('\n', o.f);
        st = out_close(&o, QS_OK, err);
    }
    free(text);
    QS_TRY(st);
    QS_TRY(write_curves(r, dir, err));
    QS_TRY(write_runs(r, dir, err));
    return write_table(t, sp, dir, err);
}
