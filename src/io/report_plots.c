/* The report's plots: each metric against the configurations, accuracy against
 * the hardware metrics with the 2-D Pareto front, objective history, precision
 * heat map, sample-efficiency curves, latency distributions. Plots with too
 * many points are decimated deterministically, always keeping the front and
 * the chosen trial (docs/report.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static size_t opt_or(size_t v, size_t dflt) { return v ? v : dflt; }

void rep_add_plot(rep_ctx *c, rep_section sec, const char *name, const char *caption, qs_svg_buf *b)
{
    if (b && b->oom) {
        c->oom = 1;
        qs_svg_buf_free(b);
        return;
    }
    if (c->n_plots == c->cap_plots) {
        size_t cap = c->cap_plots ? 2 * c->cap_plots : 32;
        rep_plot *p = realloc(c->plots, cap * sizeof *p);
        if (!p) {
            c->oom = 1;
            qs_svg_buf_free(b);
            return;
        }
        c->plots = p;
        c->cap_plots = cap;
    }
    rep_plot *p = &c->plots[c->n_plots++];
    memset(p, 0, sizeof *p);
    p->section = sec;
    snprintf(p->name, sizeof p->name, "%s", name ? name : "");
    snprintf(p->caption, sizeof p->caption, "%s", caption ? caption : "");
    if (b) {
        p->svg = b->s;
        p->len = b->len;
        b->s = NULL; /* the plot owns the text now */
        qs_svg_buf_free(b);
    }
}

void rep_note(rep_ctx *c, rep_section sec, const char *text) { rep_add_plot(c, sec, NULL, text, NULL); }

static int usable(const rep_trial *t) { return t->state == QS_TRIAL_COMPLETE && !t->stale; }

/* The chosen trial (best, or the first of the front), or NULL. */
static const rep_trial *chosen(const rep_data *d) { return d->n_best ? &d->trials[d->best[0]] : NULL; }

/* Tooltip "trial #N: label=value; config" into a malloc'd string. */
static char *tip(const rep_data *d, const rep_trial *t, const char *what, double v)
{
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    char s[32];
    qs_svg_format(v, s, sizeof s);
    qs_svg_printf(&b, "trial #%lld: %s = %s (%.10g)\n", (long long)t->number, what, s, v);
    rep_config_label(d, t, &b, "\n");
    return b.s; /* NULL on failure: the point just has no tooltip */
}

static void free_tips(char **tips, size_t n)
{
    for (size_t i = 0; tips && i < n; i++)
        free(tips[i]);
    free(tips);
}

/* ---- each metric against the configurations (the seed lab's plot) ---- */

typedef struct {
    double key;
    size_t idx;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The configurations of one per-configuration plot, in rank order. */
typedef struct {
    size_t n;              /* shown */
    double *x, *y;         /* [n] rank (1-based) and metric value */
    int64_t *ids;          /* [n] trial numbers */
    char **tips;           /* [n] tooltips */
    const char **labels;   /* [n] tick labels, pointing into lab */
    char (*lab)[24];
} config_series;

/* Rank of shown position j when n ranks are thinned evenly to shown (first and last kept). */
static size_t even_rank(size_t j, size_t n, size_t shown)
{
    return shown >= n ? j : (size_t)llround((double)j * (double)(n - 1) / (double)(shown - 1));
}

static void draw_configs(rep_ctx *c, int k, size_t n, const config_series *s, const rep_trial *ch, double chx,
                         double chy)
{
    char title[160], xl[160], name[64], cap[256];
    snprintf(title, sizeof title, "%s of each configuration, sorted", rep_metrics[k].key);
    snprintf(xl, sizeof xl, "configuration rank by %s (tick: trial number; hover a point for its configuration)",
             rep_metrics[k].key);
    snprintf(name, sizeof name, "configs_%s", rep_metrics[k].key);
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, title, xl, rep_metrics[k].label);
    p.id = name;
    p.x.lo = 0;
    p.x.hi = (double)n + 1;
    p.x.n_cat = s->n;
    p.x.cat_pos = s->x;
    p.x.cat_labels = s->labels;
    qs_svg_axis_fit(&p.y, s->y, s->n, 1);
    qs_svg_legend(&p, QS_SVG_KIND_POINT, 0, "configuration (trial)");
    if (ch && isfinite(chx))
        qs_svg_legend(&p, QS_SVG_KIND_MARK, 0, "chosen configuration");
    qs_svg_begin(&p);
    qs_svg_line(&p, 0, s->n, s->x, s->y, 0, 0, "trend");
    qs_svg_points(&p, 0, s->n, s->x, s->y, s->ids, (const char *const *)s->tips, "trials");
    if (ch && isfinite(chx)) {
        char l[48];
        snprintf(l, sizeof l, "chosen #%lld", (long long)ch->number);
        qs_svg_mark(&p, chx, chy, ch->number, l);
    }
    if (s->n < n) {
        char note[96];
        snprintf(note, sizeof note, "showing %zu of %zu configurations, evenly by rank", s->n, n);
        qs_svg_note(&p, note);
    }
    qs_svg_end(&p);
    snprintf(cap, sizeof cap, "%s of the %zu completed configurations, in increasing order%s.", rep_metrics[k].key, n,
             s->n < n ? " (thinned evenly by rank; the chosen one is kept)" : "");
    rep_add_plot(c, SEC_CONFIGS, name, cap, &b);
}

static void metric_configs_one(rep_ctx *c, int k, size_t *idx, keyed *kv)
{
    rep_data *d = c->d;
    size_t n = 0, maxc = opt_or(c->opt->max_configs, 120);
    for (size_t i = 0; i < d->n_trials; i++)
        if (usable(&d->trials[i]) && isfinite(d->trials[i].m[k]))
            kv[n++] = (keyed){d->trials[i].m[k], i};
    qsort(kv, n, sizeof *kv, cmp_keyed); /* ascending; ties by trial order */
    for (size_t i = 0; i < n; i++)
        idx[i] = kv[i].idx;
    if (kv[0].key == kv[n - 1].key) {
        char v[32], msg[256];
        qs_svg_format(kv[0].key, v, sizeof v);
        snprintf(msg, sizeof msg, "%s: the same for every configuration (%s); not plotted.", rep_metrics[k].key, v);
        rep_note(c, SEC_CONFIGS, msg);
        return;
    }
    config_series s = {.n = n <= maxc ? n : maxc};
    s.x = malloc(s.n * sizeof *s.x), s.y = malloc(s.n * sizeof *s.y), s.ids = malloc(s.n * sizeof *s.ids);
    s.tips = calloc(s.n, sizeof *s.tips), s.labels = calloc(s.n, sizeof *s.labels), s.lab = calloc(s.n, sizeof *s.lab);
    const rep_trial *ch = chosen(d);
    if (!s.x || !s.y || !s.ids || !s.tips || !s.labels || !s.lab) {
        c->oom = 1;
        goto out;
    }
    /* The chosen configuration replaces the shown rank nearest to its own. */
    size_t rc = n, near = 0;
    for (size_t q = 0; ch && q < n; q++)
        if (&d->trials[idx[q]] == ch)
            rc = q;
    for (size_t j = 0; rc < n && j < s.n; j++)
        if (llabs((long long)even_rank(j, n, s.n) - (long long)rc) < llabs((long long)near - (long long)rc))
            near = even_rank(j, n, s.n);
    double chx = NAN, chy = NAN;
    for (size_t j = 0; j < s.n; j++) {
        size_t r = even_rank(j, n, s.n);
        r = rc < n && r == near ? rc : r;
        const rep_trial *t = &d->trials[idx[r]];
        s.x[j] = (double)r + 1;
        s.y[j] = t->m[k];
        s.ids[j] = t->number;
        s.tips[j] = tip(d, t, rep_metrics[k].key, s.y[j]);
        snprintf(s.lab[j], sizeof s.lab[j], "#%lld", (long long)t->number);
        s.labels[j] = s.lab[j];
        if (t == ch)
            chx = s.x[j], chy = s.y[j];
    }
    draw_configs(c, k, n, &s, ch, chx, chy);
out:
    free(s.x), free(s.y), free(s.ids), free(s.labels), free(s.lab);
    free_tips(s.tips, s.n);
}

void rep_plot_metric_configs(rep_ctx *c)
{
    rep_data *d = c->d;
    size_t *idx = malloc((d->n_trials ? d->n_trials : 1) * sizeof *idx);
    keyed *kv = malloc((d->n_trials ? d->n_trials : 1) * sizeof *kv);
    int any = 0;
    for (int k = 0; idx && kv && k < RM_COUNT; k++)
        if (d->have_metric[k]) {
            metric_configs_one(c, k, idx, kv);
            any = 1;
        }
    if (!idx || !kv)
        c->oom = 1;
    else if (!any)
        rep_note(c, SEC_CONFIGS, "No completed trial with metrics: nothing to plot.");
    free(idx), free(kv);
}

/* Reorders points so the feasible ones (feas[i]) come first, keeping order within each
 * group; returns their count (n, unchanged order, when out of memory). tips may be NULL. */
static size_t feasible_first(double *x, double *y, int64_t *ids, char **tips, const unsigned char *feas, size_t n)
{
    double *tx = malloc((n ? n : 1) * sizeof *tx), *ty = malloc((n ? n : 1) * sizeof *ty);
    int64_t *tid = malloc((n ? n : 1) * sizeof *tid);
    char **tt = malloc((n ? n : 1) * sizeof *tt);
    size_t m = 0;
    if (tx && ty && tid && tt) {
        for (int pass = 1; pass >= 0; pass--)
            for (size_t i = 0; i < n; i++)
                if ((feas[i] != 0) == pass) {
                    tx[m] = x[i], ty[m] = y[i], tid[m] = ids[i], tt[m] = tips ? tips[i] : NULL;
                    m++;
                }
        size_t nf = 0;
        for (size_t i = 0; i < n; i++)
            nf += feas[i] != 0;
        memcpy(x, tx, n * sizeof *x), memcpy(y, ty, n * sizeof *y), memcpy(ids, tid, n * sizeof *ids);
        if (tips)
            memcpy(tips, tt, n * sizeof *tips);
        m = nf;
    } else {
        m = n;
    }
    free(tx), free(ty), free(tid), free(tt);
    return m;
}

/* Draws points [0, nfeas) as feasible trials and [nfeas, n) as constraint violators. */
static void draw_trials(qs_svg_plot *p, size_t n, size_t nfeas, const double *x, const double *y, const int64_t *ids,
                        const char *const *tips)
{
    qs_svg_points(p, 0, nfeas, x, y, ids, tips, "trials");
    if (nfeas < n)
        qs_svg_points(p, 4, n - nfeas, x + nfeas, y + nfeas, ids + nfeas, tips ? tips + nfeas : NULL, "infeasible");
}

/* ---- accuracy against each hardware metric ---- */

/* Keeps at most max of the n candidates: all with keep[i], then an even stride of the rest. */
static size_t decimate(const int *keep, size_t n, size_t max, size_t *out)
{
    size_t nk = 0, m = 0;
    for (size_t i = 0; i < n; i++)
        nk += keep[i] != 0;
    size_t rest = n - nk, room = max > nk ? max - nk : 0;
    size_t every = room >= rest ? 1 : (rest + room - 1) / (room ? room : 1);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i])
            out[m++] = i;
        else if (room && seen++ % every == 0)
            out[m++] = i;
    }
    return m;
}

/* Draws one accuracy-against-metric scatter: the ns sampled points x/y/ids[0..ns), then
 * the nf front points at [ns..ns+nf), the chosen trial ringed. */
static void draw_scatter(rep_ctx *c, int k, size_t n, size_t ns, size_t nfeas, size_t nf, const double *x,
                         const double *y, const int64_t *ids, const char *const *tips)
{
    const rep_trial *ch = chosen(c->d);
    char title[160], name[64], cap[320], lab[48];
    snprintf(title, sizeof title, "accuracy against %s", rep_metrics[k].key);
    snprintf(name, sizeof name, "accuracy_vs_%s", rep_metrics[k].key);
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, title, rep_metrics[k].label, rep_metrics[RM_ACCURACY].label);
    p.id = name;
    qs_svg_axis_fit(&p.x, x, ns, 1);
    qs_svg_axis_fit(&p.y, y, ns, 0);
    qs_svg_legend(&p, QS_SVG_KIND_POINT, 0, nfeas < ns ? "trial (feasible)" : "trial");
    if (nfeas < ns)
        qs_svg_legend(&p, QS_SVG_KIND_POINT, 4, "violates a constraint");
    qs_svg_legend(&p, QS_SVG_KIND_LINE, 3, "2-D Pareto front");
    if (ch && isfinite(ch->m[k]) && isfinite(ch->m[RM_ACCURACY]))
        qs_svg_legend(&p, QS_SVG_KIND_MARK, 0, "chosen configuration");
    qs_svg_begin(&p);
    draw_trials(&p, ns, nfeas, x, y, ids, tips);
    qs_svg_line(&p, 3, nf, x + ns, y + ns, 1, 0, "front-line");
    qs_svg_points(&p, 3, nf, x + ns, y + ns, ids + ns, NULL, "front");
    if (ch && isfinite(ch->m[k]) && isfinite(ch->m[RM_ACCURACY])) {
        snprintf(lab, sizeof lab, "chosen #%lld", (long long)ch->number);
        qs_svg_mark(&p, ch->m[k], ch->m[RM_ACCURACY], ch->number, lab);
    }
    if (ns < n) {
        char note[128];
        snprintf(note, sizeof note, "showing %zu of %zu trials (front and chosen always kept)", ns, n);
        qs_svg_note(&p, note);
    }
    qs_svg_end(&p);
    snprintf(cap, sizeof cap, "Accuracy against %s for %zu completed trials; %zu on the 2-D Pareto front%s.",
             rep_metrics[k].key, n, nf, ns < n ? " (the other points are an even sample)" : "");
    rep_add_plot(c, SEC_SCATTER, name, cap, &b);
}

static void scatter_one(rep_ctx *c, int k, size_t *idx, double *xy, size_t *fr, int *keep, size_t *sel)
{
    rep_data *d = c->d;
    size_t n = 0, maxp = opt_or(c->opt->max_points, 4000);
    for (size_t i = 0; i < d->n_trials; i++) {
        const rep_trial *t = &d->trials[i];
        if (usable(t) && isfinite(t->m[k]) && isfinite(t->m[RM_ACCURACY])) {
            xy[2 * n] = t->m[k];
            xy[2 * n + 1] = -t->m[RM_ACCURACY];
            idx[n++] = i;
        }
    }
    if (n == 0) {
        char cap[160];
        snprintf(cap, sizeof cap, "accuracy against %s: no completed trial has both; not plotted.", rep_metrics[k].key);
        rep_note(c, SEC_SCATTER, cap);
        return;
    }
    size_t nf = rep_front(xy, n, 2, fr);
    const rep_trial *ch = chosen(d);
    memset(keep, 0, n * sizeof *keep);
    for (size_t j = 0; j < nf; j++)
        keep[fr[j]] = 1;
    for (size_t i = 0; i < n; i++)
        keep[i] |= &d->trials[idx[i]] == ch;
    size_t ns = decimate(keep, n, maxp, sel);
    double *x = malloc((ns + nf) * sizeof *x), *y = malloc((ns + nf) * sizeof *y);
    int64_t *ids = malloc((ns + nf) * sizeof *ids);
    char **tips = calloc(ns, sizeof *tips);
    if (!x || !y || !ids || !tips) {
        c->oom = 1;
        goto out;
    }
    int with_tips = ns <= 1500; /* tooltips cost ~150 bytes a point */
    for (size_t j = 0; j < ns; j++) {
        const rep_trial *t = &d->trials[idx[sel[j]]];
        x[j] = t->m[k];
        y[j] = t->m[RM_ACCURACY];
        ids[j] = t->number;
        keep[j] = t->feasible; /* keep[] is free again: reused as the feasibility flags */
        if (with_tips)
            tips[j] = tip(d, t, "accuracy", y[j]);
    }
    unsigned char *feas = malloc(ns ? ns : 1);
    for (size_t j = 0; feas && j < ns; j++)
        feas[j] = (unsigned char)keep[j];
    size_t nfeas = feas ? feasible_first(x, y, ids, tips, feas, ns) : ns;
    free(feas);
    /* The front after the sample, sorted by the hardware metric (rep_front's lexicographic order). */
    for (size_t j = 0; j < nf; j++) {
        x[ns + j] = xy[2 * fr[j]];
        y[ns + j] = -xy[2 * fr[j] + 1];
        ids[ns + j] = d->trials[idx[fr[j]]].number;
    }
    draw_scatter(c, k, n, ns, nfeas, nf, x, y, ids, with_tips ? (const char *const *)tips : NULL);
out:
    free(x), free(y), free(ids);
    free_tips(tips, ns);
}

void rep_plot_accuracy_vs_hw(rep_ctx *c)
{
    rep_data *d = c->d;
    if (!d->have_metric[RM_ACCURACY]) {
        rep_note(c, SEC_SCATTER, "The study holds no accuracy: no accuracy-against-hardware plots.");
        return;
    }
    size_t n = d->n_trials ? d->n_trials : 1;
    size_t *idx = malloc(n * sizeof *idx), *fr = malloc(n * sizeof *fr), *sel = malloc(n * sizeof *sel);
    double *xy = malloc(2 * n * sizeof *xy);
    int *keep = malloc(n * sizeof *keep);
    static const rep_metric_id hw[] = {RM_LATENCY, RM_MODEL_SIZE, RM_BITOPS, RM_ENERGY};
    for (size_t h = 0; idx && fr && sel && xy && keep && h < sizeof hw / sizeof hw[0]; h++) {
        if (d->have_metric[hw[h]]) {
            scatter_one(c, hw[h], idx, xy, fr, keep, sel);
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "accuracy against %s: the study holds no %s; not plotted.",
                     rep_metrics[hw[h]].key, rep_metrics[hw[h]].key);
            rep_note(c, SEC_SCATTER, msg);
        }
    }
    if (!idx || !fr || !sel || !xy || !keep)
        c->oom = 1;
    free(idx), free(fr), free(sel), free(xy), free(keep);
}

/* ---- objective per trial with best so far ---- */

static void history_one(rep_ctx *c, size_t k, double *x, double *y, int64_t *ids, int *keep, size_t *sel,
                        unsigned char *feas)
{
    rep_data *d = c->d;
    size_t n = 0, maxp = opt_or(c->opt->max_points, 4000);
    int maxi = d->dirs[k] == QS_MAXIMIZE;
    double best = NAN;
    /* Best-so-far over feasible trials, as a step line through the improvements. */
    size_t nb = 0;
    double *bx = x + d->n_trials, *by = y + d->n_trials;
    for (size_t i = 0; i < d->n_trials; i++) {
        const rep_trial *t = &d->trials[i];
        if (!usable(t) || !isfinite(t->values[k]))
            continue;
        x[n] = (double)t->number;
        y[n] = t->values[k];
        ids[n] = t->number;
        keep[n] = 0;
        feas[n] = (unsigned char)t->feasible;
        if (t->feasible && (isnan(best) || (maxi ? y[n] > best : y[n] < best))) {
            best = y[n];
            keep[n] = 1;
            bx[nb] = x[n];
            by[nb++] = best;
        }
        n++;
    }
    char title[160], name[64], cap[256];
    snprintf(title, sizeof title, "%s per trial, with the best so far", d->obj_names[k]);
    snprintf(name, sizeof name, "history_%zu", k);
    if (n == 0) {
        rep_note(c, SEC_HISTORY, "No completed trial with an objective value: no history plot.");
        return;
    }
    if (nb) { /* extend the best-so-far line to the last trial */
        bx[nb] = (double)d->trials[d->n_trials - 1].number;
        by[nb] = by[nb - 1];
        nb++;
    }
    size_t ns = decimate(keep, n, maxp, sel);
    for (size_t j = 0; j < ns; j++) { /* compact in place (sel is increasing) */
        x[j] = x[sel[j]];
        y[j] = y[sel[j]];
        ids[j] = ids[sel[j]];
        feas[j] = feas[sel[j]];
    }
    size_t nfeas = feasible_first(x, y, ids, NULL, feas, ns);
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, title, "trial number", d->obj_names[k]);
    p.id = name;
    qs_svg_axis_fit(&p.x, x, ns, 0);
    qs_svg_axis_fit(&p.y, y, ns, 1);
    qs_svg_legend(&p, QS_SVG_KIND_POINT, 0, nfeas < ns ? "trial objective (feasible)" : "trial objective");
    if (nfeas < ns)
        qs_svg_legend(&p, QS_SVG_KIND_POINT, 4, "violates a constraint");
    qs_svg_legend(&p, QS_SVG_KIND_LINE, 3, "best so far (feasible)");
    qs_svg_begin(&p);
    draw_trials(&p, ns, nfeas, x, y, ids, NULL);
    qs_svg_line(&p, 3, nb, bx, by, 1, 0, "best-so-far");
    if (ns < n) {
        char note[128];
        snprintf(note, sizeof note, "showing %zu of %zu trials (every improvement kept)", ns, n);
        qs_svg_note(&p, note);
    }
    qs_svg_end(&p);
    snprintf(cap, sizeof cap, "%s of each completed trial in trial order (%s is better); the line is the best feasible "
                              "value so far.",
             d->obj_names[k], maxi ? "higher" : "lower");
    rep_add_plot(c, SEC_HISTORY, name, cap, &b);
}

void rep_plot_history(rep_ctx *c)
{
    rep_data *d = c->d;
    size_t n = d->n_trials + 1;
    double *x = malloc(2 * n * sizeof *x), *y = malloc(2 * n * sizeof *y);
    int64_t *ids = malloc(n * sizeof *ids);
    int *keep = malloc(n * sizeof *keep);
    size_t *sel = malloc(n * sizeof *sel);
    unsigned char *feas = malloc(n);
    for (size_t k = 0; x && y && ids && keep && sel && feas && k < d->n_obj && k < 4; k++)
        history_one(c, k, x, y, ids, keep, sel, feas);
    if (!x || !y || !ids || !keep || !sel || !feas)
        c->oom = 1;
    free(x), free(y), free(ids), free(keep), free(sel), free(feas);
}

/* ---- per-layer precision heat map of the top configurations ---- */

void rep_plot_heatmap(rep_ctx *c)
{
    rep_data *d = c->d;
    size_t rows = d->n_ranked < opt_or(c->opt->top_k, 12) ? d->n_ranked : opt_or(c->opt->top_k, 12);
    size_t cols = d->n_params;
    if (!cols && rows)
        cols = d->trials[d->ranked[0]].n_choices;
    if (!rows || !cols) {
        rep_note(c, SEC_HEATMAP, rows ? "The study's search space is unknown: no precision heat map."
                                      : "No completed feasible trial: no precision heat map.");
        return;
    }
    double *v = malloc(rows * cols * sizeof *v);
    char **text = calloc(rows * cols, sizeof *text), **rl = calloc(rows, sizeof *rl), **cl = calloc(cols, sizeof *cl);
    int ok = v && text && rl && cl;
    for (size_t r = 0; ok && r < rows; r++) {
        const rep_trial *t = &d->trials[d->ranked[r]];
        char buf[96];
        snprintf(buf, sizeof buf, "#%lld%s", (long long)t->number, r < d->n_best ? " (best)" : "");
        ok &= (rl[r] = strdup(buf)) != NULL;
        for (size_t j = 0; ok && j < cols; j++) {
            if (!t->choices || j >= t->n_choices) {
                v[r * cols + j] = NAN;
                continue;
            }
            rep_choice_text(d, j, t->choices[j], buf, sizeof buf);
            char *end;
            double x = strtod(buf, &end);
            v[r * cols + j] = end != buf && *end == 0 ? x : NAN;
            ok &= (text[r * cols + j] = strdup(buf)) != NULL;
        }
    }
    for (size_t j = 0; ok && j < cols; j++) {
        char buf[96];
        rep_param_short(d, j, buf, sizeof buf);
        ok &= (cl[j] = strdup(buf)) != NULL;
    }
    if (ok) {
        qs_svg_buf b;
        qs_svg_buf_init(&b);
        qs_svg_heatmap(&b, "per-layer precision of the best configurations", "precision_heatmap", rows, cols,
                       (const char *const *)rl, (const char *const *)cl, v, (const char *const *)text,
                       "bits (numeric choices)");
        char cap[200];
        snprintf(cap, sizeof cap, "Searched parameters (columns) of the %zu best configurations (rows, best first%s); "
                                  "colour follows the numeric value, text is the choice.",
                 rows, d->n_obj > 1 ? ", Pareto front first" : "");
        rep_add_plot(c, SEC_HEATMAP, "precision_heatmap", cap, &b);
    } else {
        c->oom = 1;
    }
    for (size_t i = 0; text && i < rows * cols; i++)
        free(text[i]);
    for (size_t i = 0; rl && i < rows; i++)
        free(rl[i]);
    for (size_t i = 0; cl && i < cols; i++)
        free(cl[i]);
    free(v), free(text), free(rl), free(cl);
}
