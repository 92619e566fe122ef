/* Search outputs: log.json (every trial), best.json (best trial or Pareto
 * front with test figures), trials.csv; each written atomically. */
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/fs.h"
#include "search_driver.h"

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* A choice as JSON: an integer when it reads as one, else its text. */
static json_t *choice_json(const char *text)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*text && !*end && !errno)
        return json_integer(v);
    return json_string(text);
}

json_t *qs_search_params_json(const qs_search_space *sp, const uint32_t *choices)
{
    json_t *o = json_object();
    for (size_t i = 0; i < sp->n_params; i++) {
        const qs_search_param *p = &sp->all[sp->searched[i]];
        json_object_set_new(o, p->name, choice_json(p->choices[choices[i]]));
    }
    return o;
}

/* ---- compact configuration text ---- */

/* Appends to buf[cap] at *len; *len counts what was needed (as snprintf). */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

/* One searched value: a width followed by its frac width reads "w6.4"
 * (*used_next = 1: the next parameter was consumed); others "key=value". */
static void compact_param(char *buf, size_t cap, size_t *len, const char *key, const char *value,
                          const char *next_key, const char *next_value, int *used_next)
{
    static const struct { const char *width, *frac, *tag; } roles[] = {
        {"data_in_width", "data_in_frac_width", "in"},
        {"weight_width", "weight_frac_width", "w"},
        {"bias_width", "bias_frac_width", "b"},
    };
    *used_next = 0;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(key, roles[i].width) != 0)
            continue;
        if (next_key && strcmp(next_key, roles[i].frac) == 0) {
            *used_next = 1;
            put(buf, cap, len, "%s%s.%s", roles[i].tag, value, next_value);
        } else {
            put(buf, cap, len, "%s%s", roles[i].tag, value);
        }
        return;
    }
    put(buf, cap, len, "%s=%s", key, value);
}

/* Length of the entry part of a flattened name ("seq_blocks_2" of
 * "seq_blocks_2/config/weight_width"; 0 when it has no "/config/"), and its key. */
static size_t split_name(const char *name, const char **key)
{
    const char *slash = strstr(name, "/config/");
    *key = slash ? slash + 8 : name;
    return slash ? (size_t)(slash - name) : 0;
}

static int same_entry(const char *a, const char *b)
{
    const char *ka, *kb;
    size_t ga = split_name(a, &ka), gb = split_name(b, &kb);
    return ga == gb && strncmp(a, b, ga) == 0;
}

size_t qs_search_config_text_names(size_t n, const char *const *names, const char *const *values, char *buf,
                                   size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t p = 0; p < n; p++) {
        const char *key;
        size_t group = split_name(names[p], &key);
        if (p == 0 || !same_entry(names[p - 1], names[p]))
            put(buf, cap, &len, "%s%.*s[", p ? "] " : "", (int)group, names[p]);
        else
            put(buf, cap, &len, " ");
        const char *next_key = NULL, *next_value = NULL;
        if (p + 1 < n && same_entry(names[p + 1], names[p])) {
            split_name(names[p + 1], &next_key);
            next_value = values[p + 1];
        }
        int used_next;
        compact_param(buf, cap, &len, key, values[p], next_key, next_value, &used_next);
        p += (size_t)used_next;
    }
    if (n)
        put(buf, cap, &len, "]");
    return len;
}

size_t qs_search_config_text(const qs_search_space *sp, const uint32_t *choices, char *buf, size_t cap)
{
    const char **vals = malloc((sp->n_params + 1) * sizeof *vals);
    if (!vals) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    for (size_t p = 0; p < sp->n_params; p++)
        vals[p] = sp->all[sp->searched[p]].choices[choices[p]];
    size_t len = qs_search_config_text_names(sp->n_params, sp->names, vals, buf, cap);
    free(vals);
    return len;
}

const char *qs_search_config_text_legend(void)
{
    return "layer[in6.3 w8.5 b8]: data_in width 6 with 3 fractional bits, weight width 8 with 5 fractional "
           "bits, bias width 8 (\".N\" appears when the fractional width is searched too); other searched "
           "keys read key=value. Only searched parameters are listed; the rest are as the config fixes them.";
}

/* config text of a trial, malloc'd (NULL on failure) */
static char *config_string(const qs_search_space *sp, const uint32_t *choices)
{
    char small[512];
    size_t need = qs_search_config_text(sp, choices, small, sizeof small);
    char *s = malloc(need + 1);
    if (s)
        qs_search_config_text(sp, choices, s, need + 1);
    return s;
}

static json_t *metrics_obj(const double *m)
{
    json_t *o = json_object();
    for (int k = 0; k < QS_SM_COUNT; k++)
        if (!isnan(m[k]))
            json_object_set_new(o, qs_search_metric_name((qs_search_metric)k), num(m[k]));
    return o;
}

static json_t *trial_json(const qs_search_result *r, const qs_search_options *opt, const qs_search_trial *x)
{
    json_t *vals = json_array();
    for (size_t k = 0; k < r->n_objectives; k++)
        json_array_append_new(vals, num(x->values[k]));
    json_t *cons = json_object();
    for (int k = 0; k < QS_SC_COUNT; k++)
        if (!isnan(opt->cfg->limit[k]))
            json_object_set_new(cons, qs_search_constraint_name((qs_search_constraint)k), num(x->constraints[k]));
    char *cfg = config_string(opt->space, x->choices);
    json_t *t = json_pack("{s:I, s:s, s:s?, s:o, s:o, s:o, s:o, s:b, s:o}", "number", (json_int_t)x->number, "state",
                          qs_trial_state_name(x->state), "config", cfg, "params", qs_search_params_json(opt->space, x->choices),
                          "metrics",
                          metrics_obj(x->metrics), "objectives", vals, "constraints", cons, "feasible", x->feasible,
                          "duration_s", num(x->duration_s));
    free(cfg);
    if (x->error)
        json_object_set_new(t, "error", json_string(x->error));
    if (x->has_test)
        json_object_set_new(t, "test", json_pack("{s:o, s:o, s:o, s:I}", "accuracy", num(x->test_accuracy),
                                                 "accuracy_macro", num(x->test_accuracy_macro), "loss",
                                                 num(x->test_loss), "samples", (json_int_t)r->test_samples));
    return t;
}

static json_t *objectives_json(const qs_search_result *r, const qs_search_config *c)
{
    json_t *a = json_array();
    if (c->sum_scaled) {
        json_t *terms = json_array();
        for (size_t i = 0; i < c->n_terms; i++)
            json_array_append_new(terms, json_pack("{s:s, s:f}", "metric", c->terms[i].name, "scale",
                                                   c->terms[i].scale));
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "name", "objective", "direction",
                                           qs_direction_name(r->directions[0]), "sum",
                                           c->signed_sum ? "signed" : "mase", "terms", terms));
        return a;
    }
    for (size_t i = 0; i < c->n_terms; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:f}", "name", c->terms[i].name, "direction",
                                           qs_direction_name(c->terms[i].direction), "scale", c->terms[i].scale));
    return a;
}

static json_t *summary_json(const qs_search_result *r, const qs_search_options *opt)
{
    const qs_search_config *c = opt->cfg;
    json_t *lat = json_null();
    if (r->latency_measured)
        lat = json_pack("{s:s, s:s, s:s, s:i, s:f}", "how", "serially after each parallel batch, batch 1",
                        "engine", "int (integer layers on integer kernels, the rest emulated)", "kernels",
                        qs_kernels_active(), "batch", 1, "budget_s", c->latency_budget_s);
    return json_pack("{s:s?, s:s?, s:s?, s:s, s:I, s:f, s:o, s:{s:f, s:f, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, "
                     "s:f, s:I, s:o}",
                     "study", opt->study ? qs_study_path(opt->study) : NULL, "model", opt->model_name, "dataset",
                     opt->data_spec, "sampler", qs_sampler_kind_name(c->sampler), "seed", (json_int_t)c->seed,
                     "space_size", r->space_size, "objectives", objectives_json(r, c), "float_baseline",
                     "val_accuracy", r->float_val_accuracy, "test_accuracy", r->float_test_accuracy, "val_samples",
                     (json_int_t)r->val_samples, "test_samples", (json_int_t)r->test_samples, "trials", "total",
                     (json_int_t)r->n_trials, "complete", (json_int_t)r->n_complete, "pruned",
                     (json_int_t)r->n_pruned, "failed", (json_int_t)r->n_failed, "running",
                     (json_int_t)r->n_running, "wall_s", r->wall_s, "evaluated_here",
                     (json_int_t)r->evaluated_here, "latency", lat);
}

json_t *qs_search_best_json(const qs_search_result *r, const qs_search_options *opt)
{
    json_t *doc = summary_json(r, opt);
    json_t *best = json_array();
    for (size_t i = 0; i < r->n_best; i++)
        json_array_append_new(best, trial_json(r, opt, &r->trials[r->best[i]]));
    json_object_set_new(doc, "mode", json_string(r->n_objectives == 1 ? "single" : "pareto"));
    json_object_set_new(doc, "best", best);
    return doc;
}

/* Writes text to dir/name atomically (qs_fs_write_atomic). */
static qs_status write_atomic(const char *dir, const char *name, const char *text, size_t len, qs_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return qs_fs_write_atomic(path, text, len, err);
}

static qs_status write_json(const char *dir, const char *name, json_t *doc, qs_error *err)
{
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return qs_error_set(err, QS_ERR_NOMEM, "search: cannot format %s", name);
    size_t len = strlen(text);
    qs_status st = write_atomic(dir, name, text, len, err);
    free(text);
    return st;
}

/* A growing text buffer for the CSV. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_add(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0 || b->oom)
            return;
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void csv_num(sbuf *b, double v)
{
    if (isnan(v))
        sb_add(b, ",");
    else
        sb_add(b, ",%.10g", v);
}

static qs_status write_csv(const qs_search_result *r, const qs_search_options *opt, const char *dir, qs_error *err)
{
    const qs_search_space *sp = opt->space;
    int used[QS_SM_COUNT] = {0};
    for (size_t i = 0; i < r->n_trials; i++)
        for (int k = 0; k < QS_SM_COUNT; k++)
            used[k] |= !isnan(r->trials[i].metrics[k]);
    sbuf b = {0};
    sb_add(&b, "number,state");
    for (size_t i = 0; i < sp->n_params; i++)
        sb_add(&b, ",%s", sp->names[i]);
    for (int k = 0; k < QS_SM_COUNT; k++)
        if (used[k])
            sb_add(&b, ",%s", qs_search_metric_name((qs_search_metric)k));
    if (r->n_objectives == 1)
        sb_add(&b, ",objective");
    else
        for (size_t k = 0; k < r->n_objectives; k++)
            sb_add(&b, ",objective_%s", opt->cfg->terms[k].name);
    sb_add(&b, ",feasible,duration_s\n");
    for (size_t i = 0; i < r->n_trials; i++) {
        const qs_search_trial *x = &r->trials[i];
        sb_add(&b, "%lld,%s", (long long)x->number, qs_trial_state_name(x->state));
        for (size_t p = 0; p < sp->n_params; p++)
            sb_add(&b, ",%s", sp->all[sp->searched[p]].choices[x->choices[p]]);
        for (int k = 0; k < QS_SM_COUNT; k++)
            if (used[k])
                csv_num(&b, x->metrics[k]);
        for (size_t k = 0; k < r->n_objectives; k++)
            csv_num(&b, x->values[k]);
        sb_add(&b, ",%d", x->feasible);
        csv_num(&b, x->duration_s);
        sb_add(&b, "\n");
    }
    qs_status st = b.oom ? qs_error_set(err, QS_ERR_NOMEM, "search: out of memory")
                         : write_atomic(dir, "trials.csv", b.s ? b.s : "", b.len, err);
    free(b.s);
    return st;
}

/* log.json streamed trial by trial (one compact line each): memory stays
 * O(one trial) for 64,000-trial studies. */
static qs_status write_log(const qs_search_result *r, const qs_search_options *opt, const char *dir, qs_error *err)
{
    json_t *log = summary_json(r, opt);
    json_t *names = json_array();
    for (size_t i = 0; i < opt->space->n_params; i++)
        json_array_append_new(names, json_string(opt->space->names[i]));
    json_object_set_new(log, "params", names);
    char *head = log ? json_dumps(log, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(log);
    char *close = head ? strrchr(head, '}') : NULL;
    if (!close) {
        free(head);
        return qs_error_set(err, QS_ERR_NOMEM, "search: cannot format log.json");
    }
    *close = 0; /* reopen the object to append "trials" */
    char path[4096];
    snprintf(path, sizeof path, "%s/log.json", dir);
    qs_fs_atomic w;
    qs_status st = qs_fs_atomic_open(&w, path, err);
    if (st) {
        free(head);
        return st;
    }
    int bad = fprintf(w.f, "%s,\n  \"trials\": [\n", head) < 0;
    free(head);
    for (size_t i = 0; !bad && i < r->n_trials; i++) {
        json_t *t = trial_json(r, opt, &r->trials[i]);
        char *line = t ? json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(t);
        bad = !line || fprintf(w.f, "    %s%s\n", line, i + 1 < r->n_trials ? "," : "") < 0;
        free(line);
    }
    if (bad) {
        qs_fs_atomic_abort(&w);
        return qs_error_set(err, QS_ERR_IO, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
    }
    fprintf(w.f, "  ]\n}\n");
    return qs_fs_atomic_commit(&w, err);
}

qs_status qs_search_write_outputs(const qs_search_result *r, const qs_search_options *opt, const char *dir,
                                  qs_error *err)
{
    QS_TRY(qs_fs_mkdirs(dir, err));
    QS_TRY(write_log(r, opt, dir, err));
    QS_TRY(write_json(dir, "best.json", qs_search_best_json(r, opt), err));
    return write_csv(r, opt, dir, err);
}
