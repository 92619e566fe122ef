/* The HTML report of a study (include/qsearch/report.h, docs/report.md):
 * summary, best-trials table, plot sections, and writing the file and the
 * standalone SVG plots. */
#include "qsearch/report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "qsearch/fs.h"
#include "qsearch/search.h"
#include "report_internal.h"

#ifndef QS_VERSION
#define QS_VERSION "unknown"
#endif

void qs_report_options_default(qs_report_options *o) { memset(o, 0, sizeof *o); }

static const char *const css =
    "body{font-family:'DejaVu Sans',Arial,Helvetica,sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;"
    "color:#1a1a1a;background:#fff;line-height:1.4}\n"
    "h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #0072B2;"
    "padding-bottom:3px}\n"
    "nav{font-size:13px;margin:6px 0 12px}nav a{margin-right:14px;color:#0072B2}\n"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #ccc;padding:3px 8px;"
    "text-align:left;vertical-align:top}th{background:#f0f4f8}td.n{text-align:right;font-variant-numeric:"
    "tabular-nums;white-space:nowrap}\n"
    "table.summary th{width:190px}tr.best td{background:#fff4dc}\n"
    "td.cfg{font-family:'DejaVu Sans Mono',monospace;font-size:11px}td.cfg span{white-space:nowrap}"
    "td.test{background:#f4f8fb}tr.best td.test{background:#f7eccd}th small{font-weight:normal;color:#555}th.grp,th.sub{text-align:center}\n"
    "figure{margin:14px 0 22px}figcaption{font-size:13px;color:#444;max-width:800px}\n"
    "figure svg{max-width:100%;height:auto;border:1px solid #e5e5e5}\n"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:8px;font-size:12px;overflow:auto;max-height:420px}\n"
    "p.note{color:#555;font-size:13px;margin:4px 0}\n";

static const char *const section_title[SEC_COUNT] = {
    [SEC_CONFIGS] = "Each metric against the configurations",
    [SEC_SCATTER] = "Accuracy against hardware metrics",
    [SEC_HISTORY] = "Objective per trial",
    [SEC_HEATMAP] = "Per-layer precision of the best configurations",
    [SEC_CURVES] = "Sample efficiency",
    [SEC_LATENCY] = "Latency distributions",
};
static const char *const section_id[SEC_COUNT] = {"sec-configs", "sec-scatter", "sec-history", "sec-heatmap",
                                                   "sec-curves", "sec-latency"};

static void esc(qs_svg_buf *b, const char *s) { qs_svg_escape(b, s); }

static void row_text(qs_svg_buf *b, const char *name, const char *value)
{
    qs_svg_printf(b, "<tr><th>");
    esc(b, name);
    qs_svg_printf(b, "</th><td>");
    esc(b, value && *value ? value : "unknown");
    qs_svg_printf(b, "</td></tr>\n");
}

static void num_text(double v, char *out, size_t cap)
{
    if (!isfinite(v))
        snprintf(out, cap, "-");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, cap, "%.0f", v);
    else if (fabs(v) >= 1e5 || fabs(v) < 1e-3)
        snprintf(out, cap, "%.4g", v);
    else if (fabs(v) >= 100)
        snprintf(out, cap, "%.1f", v);
    else
        snprintf(out, cap, "%.4f", v);
}

/* Reads one field of a JSON metadata value ("machine" -> "cpu"); NULL when absent. */
static const char *json_field(json_t *o, const char *key, char *buf, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_number(v)) {
        num_text(json_number_value(v), buf, cap);
        return buf;
    }
    return NULL;
}

static void summary_machine(qs_svg_buf *b, const rep_data *d)
{
    const char *text = rep_meta(d, "machine");
    json_t *m = text ? json_loads(text, 0, NULL) : NULL;
    char tmp[3][64], line[512];
    if (json_is_object(m)) {
        const char *cpu = json_field(m, "cpu", tmp[0], sizeof tmp[0]);
        const char *cores = json_field(m, "cores", tmp[1], sizeof tmp[1]);
        if (!cores)
            cores = json_field(m, "online_cpus", tmp[1], sizeof tmp[1]);
        const char *simd = json_field(m, "simd", tmp[2], sizeof tmp[2]);
        const char *host = json_string_value(json_object_get(m, "host"));
        const char *kern = json_string_value(json_object_get(m, "kernels"));
        snprintf(line, sizeof line, "CPU %s; %s cores; SIMD %s%s%s%s; host %s", cpu ? cpu : "unknown",
                 cores ? cores : "unknown", simd ? simd : "unknown", kern ? " (integer kernels: " : "",
                 kern ? kern : "", kern ? ")" : "", host ? host : "unknown");
        row_text(b, "machine", line);
    } else {
        row_text(b, "machine", text); /* free text, or unknown */
    }
    json_decref(m);
}

static void summary_trials(qs_svg_buf *b, const rep_data *d)
{
    const qs_study_counts *c = &d->counts;
    char line[256];
    snprintf(line, sizeof line, "%lld run: %lld complete, %lld pruned, %lld failed, %lld running; %lld stale (re-run)",
             (long long)(c->total - c->stale), (long long)c->complete, (long long)c->pruned, (long long)c->failed,
             (long long)c->running, (long long)c->stale);
    row_text(b, "trials", line);
    const char *w = rep_meta(d, "wall_s");
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < d->n_trials; i++) {
        lo = fmin(lo, d->trials[i].started_at);
        if (isfinite(d->trials[i].finished_at))
            hi = fmax(hi, d->trials[i].finished_at);
    }
    size_t runs = 0;
    for (size_t i = 0; i < d->n_meta; i++)
        runs += strncmp(d->meta_key[i], "run:", 4) == 0;
    if (w && runs > 1)
        snprintf(line, sizeof line, "%s s (search loop; %zu runs, overlapping time counted once)", w, runs);
    else if (w)
        snprintf(line, sizeof line, "%s s (search loop)", w);
    else if (hi >= lo)
        snprintf(line, sizeof line, "%.3f s (first claim to last finish)", hi - lo);
    else
        line[0] = 0;
    row_text(b, "wall time", line);
}

static void summary(qs_svg_buf *b, const rep_data *d, const char *study_path)
{
    char line[512];
    qs_svg_printf(b, "<h2 id=\"summary\">Summary</h2>\n<table class=\"summary\">\n");
    row_text(b, "study", study_path);
    const char *model = rep_meta(d, "model"), *arch = rep_meta(d, "arch");
    snprintf(line, sizeof line, "%s%s%s%s", model && *model ? model : "", arch && *arch ? " (architecture " : "",
             arch && *arch ? arch : "", arch && *arch ? ")" : "");
    row_text(b, "model", line);
    row_text(b, "dataset", rep_meta(d, "dataset"));
    const char *splits = rep_meta(d, "splits");
    const char *fb = rep_meta(d, "float_baseline");
    json_t *f = fb ? json_loads(fb, 0, NULL) : NULL;
    char tmp[64];
    const char *vs = json_field(f, "val_samples", tmp, sizeof tmp);
    if (!splits && vs) {
        snprintf(line, sizeof line, "search selects on the validation split (%s samples)", vs);
        splits = line;
    }
    row_text(b, "splits", splits);
    char acc[64];
    num_text(d->float_accuracy, acc, sizeof acc);
    const char *ta = json_field(f, "test_accuracy", tmp, sizeof tmp);
    if (isfinite(d->float_accuracy) && ta) {
        snprintf(line, sizeof line, "%s (val), %s (test)", acc, ta);
        row_text(b, "float model accuracy", line);
    } else {
        row_text(b, "float baseline (val accuracy)", isfinite(d->float_accuracy) ? acc : NULL);
    }
    json_decref(f);
    if (isfinite(d->space_size))
        snprintf(line, sizeof line, "%.6g configurations (%zu searched parameters)", d->space_size, d->n_params);
    row_text(b, "search space", isfinite(d->space_size) ? line : rep_meta(d, "space_size"));
    line[0] = 0;
    const char *smp = rep_meta(d, "sampler");
    size_t len = (size_t)snprintf(line, sizeof line, "%s", smp ? smp : "");
    for (size_t s = 0; s < d->n_curves && len < sizeof line; s++)
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", len ? ", " : "", d->curves[s].sampler);
    row_text(b, "sampler(s)", line);
    row_text(b, "seed", rep_meta(d, "seed"));
    len = 0;
    for (size_t k = 0; k < d->n_obj && len < sizeof line; k++)
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", k ? "; " : "", d->obj_names[k]);
    snprintf(line + (len < sizeof line ? len : sizeof line - 1), sizeof line - (len < sizeof line ? len : sizeof line - 1),
             "%s", d->n_obj > 1 ? " (Pareto front)" : "");
    row_text(b, "objective(s)", line);
    summary_trials(b, d);
    summary_machine(b, d);
    row_text(b, "qsearch version (study)", rep_meta(d, "qsearch_version"));
    const char *ca = rep_meta(d, "created_at");
    if (ca) {
        time_t t = (time_t)strtod(ca, NULL);
        struct tm tm;
        if (gmtime_r(&t, &tm) && strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S UTC", &tm))
            ca = line;
    }
    row_text(b, "study created", ca);
    row_text(b, "report by", "qsearch " QS_VERSION);
    qs_svg_printf(b, "</table>\n<p class=\"note\">The search configuration is at the <a href=\"#config\">end of the "
                     "page</a>.</p>\n");
}

static void config_text(qs_svg_buf *b, const rep_data *d)
{
    qs_svg_printf(b, "<h2 id=\"config\">Search configuration</h2>\n");
    const char *cfg = rep_meta(d, "config");
    if (cfg && *cfg) {
        qs_svg_printf(b, "<pre>");
        esc(b, cfg);
        qs_svg_printf(b, "</pre>\n");
    } else {
        qs_svg_printf(b, "<p class=\"note\">unknown (the study does not hold the configuration text)</p>\n");
    }
}

/* Columns of the best-trials table: metrics some shown row has; the quality
 * metrics are followed by their test-split figures when the study holds them. */
static const rep_metric_id table_metrics[] = {RM_ACCURACY, RM_ACCURACY_MACRO, RM_LOSS, RM_LATENCY, RM_MODEL_SIZE,
                                               RM_AVG_BITWIDTH, RM_BITOPS, RM_ENERGY};
#define N_TABLE_METRICS (sizeof table_metrics / sizeof table_metrics[0])

typedef struct {
    int kind;      /* 0: objective idx, 1: metric table_metrics[idx], 2: test figure idx (0..2) */
    size_t idx;
    char head[64]; /* column (or group) title */
    char note[32]; /* under the title: "objective, maximize" */
    char sub[8];   /* second header row: "val" / "test", or "" */
} table_col;

static const char *const table_label[RM_COUNT] = {
    [RM_ACCURACY] = "accuracy", [RM_ACCURACY_MACRO] = "macro accuracy", [RM_LOSS] = "loss",
    [RM_LATENCY] = "latency (ns)", [RM_MODEL_SIZE] = "model size (bits)", [RM_AVG_BITWIDTH] = "avg bit width",
    [RM_BITOPS] = "BitOPs", [RM_ENERGY] = "energy (J)"};

/* Objective k equals metric column j on every shown row (a multi-objective
 * term with scale 1): the table shows that number once. */
static int same_numbers(const rep_data *d, size_t rows, size_t k, rep_metric_id m)
{
    for (size_t r = 0; r < rows; r++) {
        const rep_trial *t = &d->trials[d->ranked[r]];
        double a = t->values[k], b = t->m[m];
        if (!(a == b || (isnan(a) && isnan(b))))
            return 0;
    }
    return 1;
}

static size_t table_columns(const rep_data *d, size_t rows, table_col *col)
{
    int show[N_TABLE_METRICS] = {0}, test = 0;
    size_t obj_of[N_TABLE_METRICS], n = 0;
    for (size_t r = 0; r < rows; r++) {
        const rep_trial *t = &d->trials[d->ranked[r]];
        for (size_t k = 0; k < N_TABLE_METRICS; k++)
            show[k] |= isfinite(t->m[table_metrics[k]]);
        test |= t->has_test;
    }
    int merged[16] = {0};
    for (size_t j = 0; j < N_TABLE_METRICS; j++) {
        obj_of[j] = SIZE_MAX;
        for (size_t k = 0; show[j] && d->n_obj > 1 && k < d->n_obj && obj_of[j] == SIZE_MAX; k++)
            if (!merged[k] && same_numbers(d, rows, k, table_metrics[j])) {
                obj_of[j] = k;
                merged[k] = 1;
            }
    }
    for (size_t k = 0; k < d->n_obj; k++)
        if (!merged[k]) {
            col[n] = (table_col){.kind = 0, .idx = k};
            snprintf(col[n].head, sizeof col[n].head, "%s", d->obj_names[k]);
            n++;
        }
    for (size_t j = 0; j < N_TABLE_METRICS; j++) {
        rep_metric_id m = table_metrics[j];
        int quality = m == RM_ACCURACY || m == RM_ACCURACY_MACRO || m == RM_LOSS;
        table_col c = {.kind = 1, .idx = j};
        snprintf(c.head, sizeof c.head, "%s", table_label[m]);
        if (obj_of[j] != SIZE_MAX)
            snprintf(c.note, sizeof c.note, "objective, %s", qs_direction_name(d->dirs[obj_of[j]]));
        if (show[j]) {
            col[n] = c;
            snprintf(col[n++].sub, sizeof c.sub, "%s", quality && test ? "val" : "");
        }
        if (quality && test) {
            col[n] = c;
            col[n].kind = 2;
            col[n].idx = (size_t)(m - RM_ACCURACY);
            snprintf(col[n++].sub, sizeof c.sub, "test");
        }
    }
    return n;
}

/* One or two header rows: a quality metric with test figures heads a val | test pair. */
static void table_head(qs_svg_buf *b, const table_col *col, size_t nc)
{
    int two = 0;
    for (size_t c = 0; c < nc; c++)
        two |= col[c].sub[0] != 0;
    qs_svg_printf(b, "<tr><th%s>rank</th><th%s>trial</th>", two ? " rowspan=\"2\"" : "", two ? " rowspan=\"2\"" : "");
    for (size_t c = 0; c < nc;) {
        size_t span = 1;
        while (col[c].sub[0] && c + span < nc && col[c + span].sub[0] && strcmp(col[c + span].head, col[c].head) == 0)
            span++;
        if (col[c].sub[0])
            qs_svg_printf(b, "<th colspan=\"%zu\" class=\"grp\">", span);
        else
            qs_svg_printf(b, "<th%s>", two ? " rowspan=\"2\"" : "");
        esc(b, col[c].head);
        if (col[c].note[0]) {
            qs_svg_printf(b, "<br/><small>");
            esc(b, col[c].note);
            qs_svg_printf(b, "</small>");
        }
        qs_svg_printf(b, "</th>");
        c += span;
    }
    qs_svg_printf(b, "<th%s>configuration</th></tr>\n", two ? " rowspan=\"2\"" : "");
    if (!two)
        return;
    qs_svg_printf(b, "<tr>");
    for (size_t c = 0; c < nc; c++)
        if (col[c].sub[0])
            qs_svg_printf(b, "<th class=\"sub\">%s</th>", col[c].sub);
    qs_svg_printf(b, "</tr>\n");
}

/* The configuration cell: one nowrap span per layer, so a long one wraps between layers only. */
static void config_cell(qs_svg_buf *b, const rep_data *d, const rep_trial *t)
{
    qs_svg_printf(b, "<td class=\"cfg\">");
    char *text = rep_config_text(d, t);
    const char *p = text ? text : "(configuration unknown)", *q;
    for (int first = 1;; first = 0) {
        q = strstr(p, "] ");
        size_t len = q ? (size_t)(q + 1 - p) : strlen(p);
        char *part = strndup(p, len);
        qs_svg_printf(b, "%s<span>", first ? "" : " ");
        esc(b, part ? part : "");
        qs_svg_printf(b, "</span>");
        free(part);
        if (!q)
            break;
        p = q + 2;
    }
    free(text);
    qs_svg_printf(b, "</td>");
}

static void best_table(qs_svg_buf *b, const rep_data *d, size_t top_k)
{
    size_t rows = d->n_obj > 1 ? d->n_best : (d->n_ranked < top_k ? d->n_ranked : top_k);
    if (rows > 200)
        rows = 200;
    qs_svg_printf(b, "<h2 id=\"best\">%s</h2>\n", d->n_obj > 1 ? "Pareto front" : "Best trials");
    if (!rows) {
        qs_svg_printf(b, "<p class=\"note\">No completed feasible trial%s.</p>\n",
                      d->counts.complete ? " (every completed trial violates a constraint)" : "");
        return;
    }
    table_col col[16 + 2 * N_TABLE_METRICS];
    size_t nc = table_columns(d, rows, col);
    qs_svg_printf(b, "<p class=\"note\">%s Quality figures are on the validation split (what the search selected "
                     "on) and, headed test, on the held-out test split. Configuration: ",
                  d->n_obj > 1 ? "Non-dominated feasible trials, by the first objective."
                               : "Feasible completed trials, best first; the first row is the chosen configuration.");
    esc(b, qs_search_config_text_legend());
    qs_svg_printf(b, "</p>\n<table class=\"best\">");
    table_head(b, col, nc);
    for (size_t r = 0; r < rows; r++) {
        const rep_trial *t = &d->trials[d->ranked[r]];
        char s[64];
        qs_svg_printf(b, "<tr%s><td class=\"n\">%zu</td><td class=\"n\">#%lld</td>", r == 0 ? " class=\"best\"" : "",
                      r + 1, (long long)t->number);
        for (size_t c = 0; c < nc; c++) {
            double v = col[c].kind == 0   ? t->values[col[c].idx]
                       : col[c].kind == 1 ? t->m[table_metrics[col[c].idx]]
                       : t->has_test      ? t->test[col[c].idx]
                                          : NAN;
            num_text(v, s, sizeof s);
            qs_svg_printf(b, "<td class=\"n%s\">%s</td>", col[c].kind == 2 ? " test" : "", s);
        }
        config_cell(b, d, t);
        qs_svg_printf(b, "</tr>\n");
    }
    qs_svg_printf(b, "</table>\n");
}

/* Failed and pruned trials with their reasons (the first 20). */
static void problems(qs_svg_buf *b, const rep_data *d)
{
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < d->n_trials; i++) {
        const rep_trial *t = &d->trials[i];
        if (t->state != QS_TRIAL_FAILED && t->state != QS_TRIAL_PRUNED)
            continue;
        if (total++ == 0)
            qs_svg_printf(b, "<h2 id=\"problems\">Failed and pruned trials</h2>\n<table><tr><th>trial</th><th>state"
                             "</th><th>reason</th></tr>\n");
        if (shown >= 20)
            continue;
        shown++;
        qs_svg_printf(b, "<tr><td class=\"n\">#%lld</td><td>%s%s</td><td>", (long long)t->number,
                      qs_trial_state_name(t->state), t->stale ? " (stale)" : "");
        esc(b, t->error ? t->error : "(no reason stored)");
        qs_svg_printf(b, "</td></tr>\n");
    }
    if (total)
        qs_svg_printf(b, "</table>\n%s", total > shown ? "<p class=\"note\">(first 20 shown)</p>\n" : "");
}

static void sections(qs_svg_buf *b, const rep_ctx *c)
{
    for (int s = 0; s < SEC_COUNT; s++) {
        qs_svg_printf(b, "<h2 id=\"%s\">%s</h2>\n", section_id[s], section_title[s]);
        for (size_t i = 0; i < c->n_plots; i++) {
            const rep_plot *p = &c->plots[i];
            if ((int)p->section != s)
                continue;
            if (!p->svg) {
                qs_svg_printf(b, "<p class=\"note\">");
                esc(b, p->caption);
                qs_svg_printf(b, "</p>\n");
                continue;
            }
            qs_svg_printf(b, "<figure>\n");
            qs_svg_append(b, p->svg, p->len);
            qs_svg_printf(b, "<figcaption>");
            esc(b, p->caption);
            qs_svg_printf(b, "</figcaption>\n</figure>\n");
        }
    }
}

static void free_ctx(rep_ctx *c)
{
    for (size_t i = 0; i < c->n_plots; i++)
        free(c->plots[i].svg);
    free(c->plots);
}

static qs_status render(rep_ctx *c, qs_study *s, const qs_report_options *o, qs_svg_buf *b, qs_error *err)
{
    rep_data *d = c->d;
    QS_TRY(rep_load(d, s, err));
    rep_plot_metric_configs(c);
    rep_plot_accuracy_vs_hw(c);
    rep_plot_history(c);
    rep_plot_heatmap(c);
    rep_plot_curves(c);
    QS_TRY(rep_plot_latency(c, err));
    const char *path = qs_study_path(s), *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    qs_svg_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>");
    if (o->title)
        esc(b, o->title);
    else {
        qs_svg_printf(b, "qsearch report: ");
        esc(b, base);
    }
    qs_svg_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", css);
    if (o->title)
        esc(b, o->title);
    else {
        qs_svg_printf(b, "qsearch report: ");
        esc(b, base);
    }
    qs_svg_printf(b, "</h1>\n<nav><a href=\"#summary\">summary</a><a href=\"#best\">best trials</a>");
    for (int sec = 0; sec < SEC_COUNT; sec++)
        qs_svg_printf(b, "<a href=\"#%s\">%s</a>", section_id[sec], section_title[sec]);
    qs_svg_printf(b, "<a href=\"#config\">configuration</a></nav>\n");
    summary(b, d, path);
    best_table(b, d, o->top_k ? o->top_k : 12);
    problems(b, d);
    sections(b, c);
    config_text(b, d);
    qs_svg_printf(b, "</body>\n</html>\n");
    if (b->oom || c->oom)
        return qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
    return QS_OK;
}

static qs_status html_ctx(qs_study *s, const qs_report_options *o, rep_ctx *c, rep_data *d, char **html,
                          qs_report_stats *stats, qs_error *err)
{
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    memset(c, 0, sizeof *c);
    c->opt = o;
    c->d = d;
    qs_status st = render(c, s, o, &b, err);
    if (st != QS_OK) {
        qs_svg_buf_free(&b);
        return st;
    }
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->n_trials = d->n_trials;
        for (size_t i = 0; i < c->n_plots; i++)
            c->plots[i].svg ? stats->n_plots++ : stats->n_notes++;
        stats->html_bytes = b.len;
    }
    *html = b.s;
    return QS_OK;
}

qs_status qs_report_html(qs_study *s, const qs_report_options *o, char **html, qs_report_stats *stats, qs_error *err)
{
    qs_report_options dflt;
    qs_report_options_default(&dflt);
    rep_ctx c;
    rep_data d;
    *html = NULL;
    qs_status st = html_ctx(s, o ? o : &dflt, &c, &d, html, stats, err);
    free_ctx(&c);
    rep_free(&d);
    return st;
}

/* Writes len bytes (with an optional prefix) to path atomically (qs_fs_atomic). */
static qs_status write_atomic(const char *path, const char *prefix, const char *text, size_t len, qs_error *err)
{
    qs_fs_atomic w;
    QS_TRY(qs_fs_atomic_open(&w, path, err));
    if (prefix)
        fputs(prefix, w.f);
    fwrite(text, 1, len, w.f); /* a failed write is reported by the commit */
    return qs_fs_atomic_commit(&w, err);
}

static qs_status write_plots(const rep_ctx *c, const char *dir, qs_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return qs_error_set(err, QS_ERR_IO, "%s: cannot create the plots directory: %s", dir, strerror(errno));
    for (size_t i = 0; i < c->n_plots; i++) {
        const rep_plot *p = &c->plots[i];
        if (!p->svg)
            continue;
        size_t n = strlen(dir) + strlen(p->name) + 8;
        char *path = malloc(n);
        if (!path)
            return qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
        snprintf(path, n, "%s/%s.svg", dir, p->name);
        qs_status st = write_atomic(path, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", p->svg, p->len, err);
        free(path);
        QS_TRY(st);
    }
    return QS_OK;
}

qs_status qs_report_write(qs_study *s, const char *path, const qs_report_options *o, qs_report_stats *stats,
                          qs_error *err)
{
    qs_report_options dflt;
    qs_report_options_default(&dflt);
    if (!o)
        o = &dflt;
    rep_ctx c;
    rep_data d;
    char *html = NULL;
    qs_status st = html_ctx(s, o, &c, &d, &html, stats, err);
    if (st == QS_OK)
        st = write_atomic(path, NULL, html, strlen(html), err);
    if (st == QS_OK && o->plots_dir)
        st = write_plots(&c, o->plots_dir, err);
    free(html);
    free_ctx(&c);
    rep_free(&d);
    return st;
}
