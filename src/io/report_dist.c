/* Report plots of distributions: sample-efficiency curves (median and quartile
 * band of the best-so-far over repeats, per sampler) and latency distributions
 * of the top configurations (median with its 95% confidence interval). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of sorted v[n] (linear interpolation between order statistics, as numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

/* ---- sample-efficiency curves ---- */

/* Median M, lower L and upper H quartile over the repeats of cv at each index < n
 * (NAN where no repeat is known); col[n_repeats] is scratch. */
static void curve_quartiles(const rep_curves *cv, size_t n, double *col, double *M, double *L, double *H)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t r = 0; i < cv->n && r < cv->n_repeats; r++)
            if (isfinite(cv->best[r * cv->n + i]))
                col[k++] = cv->best[r * cv->n + i];
        qsort(col, k, sizeof *col, cmp_double);
        M[i] = quantile(col, k, 0.5);
        L[i] = quantile(col, k, 0.25);
        H[i] = quantile(col, k, 0.75);
    }
}

void rep_plot_curves(rep_ctx *c)
{
    rep_data *d = c->d;
    if (!d->n_curves) {
        rep_note(c, SEC_CURVES, "The study holds no sample-efficiency curves (they come from qsearch compare).");
        return;
    }
    size_t nmax = 0, maxr = 0;
    for (size_t s = 0; s < d->n_curves; s++) {
        nmax = d->curves[s].n_known > nmax ? d->curves[s].n_known : nmax;
        maxr = d->curves[s].n_repeats > maxr ? d->curves[s].n_repeats : maxr;
    }
    size_t cap = nmax ? nmax : 1;
    double *x = malloc(cap * sizeof *x), *med = malloc(cap * sizeof *med), *q1 = malloc(cap * sizeof *q1);
    double *q3 = malloc(cap * sizeof *q3), *col = malloc((maxr ? maxr : 1) * sizeof *col);
    double *all = malloc(d->n_curves * 3 * cap * sizeof *all);
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    if (!x || !med || !q1 || !q3 || !col || !all) {
        c->oom = 1;
        goto out;
    }
    /* Quartiles of the best-so-far across repeats at each trial index (plotted thinned to <= 500 indices). */
    size_t every = nmax > 500 ? (nmax + 499) / 500 : 1, npts = 0;
    for (size_t s = 0; s < d->n_curves; s++)
        curve_quartiles(&d->curves[s], nmax, col, all + s * 3 * cap, all + s * 3 * cap + cap,
                        all + s * 3 * cap + 2 * cap);
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, "sample efficiency: best objective so far (median, quartile band)", "trials evaluated",
                     d->obj_names[0]);
    p.id = "curves";
    p.x.lo = 1;
    p.x.hi = (double)(nmax ? nmax : 1);
    if (p.x.hi <= p.x.lo)
        p.x.hi = p.x.lo + 1;
    qs_svg_axis_fit(&p.y, all, d->n_curves * 3 * cap, 0);
    for (size_t s = 0; s < d->n_curves; s++) {
        char lab[96];
        snprintf(lab, sizeof lab, "%.60s (%zu runs)", d->curves[s].sampler, d->curves[s].n_repeats);
        qs_svg_legend(&p, QS_SVG_KIND_LINE, (int)s, lab);
    }
    qs_svg_legend(&p, QS_SVG_KIND_BAND, 6, "quartiles (25-75%)");
    qs_svg_begin(&p);
    for (size_t s = 0; s < d->n_curves; s++) {
        const double *M = all + s * 3 * cap, *L = M + cap, *H = L + cap;
        npts = 0;
        for (size_t i = 0; i < nmax; i++)
            if (i % every == 0 || i + 1 == nmax) {
                x[npts] = (double)i + 1;
                med[npts] = M[i];
                q1[npts] = L[i];
                q3[npts] = H[i];
                npts++;
            }
        qs_svg_band(&p, (int)s, npts, x, q1, q3);
        qs_svg_line(&p, (int)s, npts, x, med, 0, 0, "median");
        /* The medians as readable points: data-x trial count, data-y median best. */
        qs_svg_printf(&b, "<g class=\"curve\" data-sampler=\"");
        qs_svg_escape(&b, d->curves[s].sampler);
        qs_svg_printf(&b, "\" fill=\"none\">");
        for (size_t i = 0; i < npts; i++)
            if (isfinite(med[i]))
                qs_svg_printf(&b, "<circle r=\"0\" cx=\"%.1f\" cy=\"%.1f\" data-x=\"%.17g\" data-y=\"%.17g\" "
                                  "data-q1=\"%.17g\" data-q3=\"%.17g\"/>",
                              qs_svg_px(&p, x[i]), qs_svg_py(&p, med[i]), x[i], med[i], q1[i], q3[i]);
        qs_svg_printf(&b, "</g>\n");
    }
    qs_svg_end(&p);
    rep_add_plot(c, SEC_CURVES, "curves",
                 "Best objective found after each number of trials: the line is the median over the repeated runs "
                 "of each sampler, the band their interquartile range.",
                 &b);
out:
    qs_svg_buf_free(&b);
    free(x), free(med), free(q1), free(q3), free(col), free(all);
}

/* ---- latency distributions ---- */

typedef struct {
    int64_t number;
    size_t n;
    double q05, q25, med, q75, q95, ci_lo, ci_hi;
} lat_row;

/* Distribution-free 95% CI of the median: order statistics at n/2 -+ 1.96 sqrt(n)/2. */
static void summarise(lat_row *r, double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    r->n = n;
    r->q05 = quantile(v, n, 0.05);
    r->q25 = quantile(v, n, 0.25);
    r->med = quantile(v, n, 0.5);
    r->q75 = quantile(v, n, 0.75);
    r->q95 = quantile(v, n, 0.95);
    double h = 1.96 * sqrt((double)n) / 2;
    long lo = (long)floor((double)n / 2 - h), hi = (long)ceil((double)n / 2 + h);
    r->ci_lo = v[lo < 0 ? 0 : (size_t)lo];
    r->ci_hi = v[hi >= (long)n ? n - 1 : (size_t)hi];
}

static void latency_svg(rep_ctx *c, const lat_row *rows, size_t nr, int from_samples)
{
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    double *x = malloc(nr * sizeof *x), *y = malloc(nr * sizeof *y), *all = malloc(nr * 3 * sizeof *all);
    int64_t *ids = malloc(nr * sizeof *ids);
    char (*lab)[32] = malloc(nr * sizeof *lab);
    const char **labels = malloc(nr * sizeof *labels);
    if (!x || !y || !all || !ids || !lab || !labels) {
        c->oom = 1;
        goto out;
    }
    for (size_t i = 0; i < nr; i++) {
        x[i] = (double)i + 1;
        y[i] = rows[i].med;
        ids[i] = rows[i].number;
        all[3 * i] = from_samples ? rows[i].q05 : rows[i].ci_lo;
        all[3 * i + 1] = from_samples ? rows[i].q95 : rows[i].ci_hi;
        all[3 * i + 2] = rows[i].med;
        snprintf(lab[i], sizeof lab[i], "#%lld", (long long)rows[i].number);
        labels[i] = lab[i];
    }
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, "latency of the best configurations (batch 1)",
                     "configuration (trial number), best first", "latency (ns)");
    p.id = "latency";
    p.x.lo = 0.3;
    p.x.hi = (double)nr + 0.7;
    p.x.n_cat = nr;
    p.x.cat_pos = x;
    p.x.cat_labels = labels;
    qs_svg_axis_fit(&p.y, all, 3 * nr, 1);
    if (from_samples)
        qs_svg_legend(&p, QS_SVG_KIND_BAND, 0, "25-75% of runs (box), 5-95% (whiskers)");
    qs_svg_legend(&p, QS_SVG_KIND_POINT, 3, "median");
    qs_svg_legend(&p, QS_SVG_KIND_LINE, 6, "95% CI of the median");
    qs_svg_begin(&p);
    double bw = (qs_svg_px(&p, 2) - qs_svg_px(&p, 1)) * 0.35;
    bw = bw > 30 ? 30 : bw;
    for (size_t i = 0; from_samples && i < nr; i++) {
        double X = qs_svg_px(&p, x[i]), t = qs_svg_py(&p, rows[i].q75), u = qs_svg_py(&p, rows[i].q25);
        qs_svg_printf(&b, "<path class=\"whisker\" stroke=\"%s\" d=\"M%.1f %.1fV%.1fM%.1f %.1fV%.1f\"/>\n",
                      qs_svg_color(0), X, qs_svg_py(&p, rows[i].q95), t, X, u, qs_svg_py(&p, rows[i].q05));
        qs_svg_printf(&b, "<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                          "fill-opacity=\"0.25\" stroke=\"%s\" data-trial=\"%lld\" data-n=\"%zu\" data-q1=\"%.17g\" "
                          "data-q3=\"%.17g\"/>\n",
                      X - bw, t, 2 * bw, u - t, qs_svg_color(0), qs_svg_color(0), (long long)rows[i].number,
                      rows[i].n, rows[i].q25, rows[i].q75);
    }
    for (size_t i = 0; i < nr; i++)
        qs_svg_interval(&p, 6, x[i] + (from_samples ? bw / (qs_svg_px(&p, 2) - qs_svg_px(&p, 1)) + 0.06 : 0),
                        rows[i].ci_lo, rows[i].ci_hi);
    qs_svg_points(&p, 3, nr, x, y, ids, NULL, "median");
    qs_svg_end(&p);
    rep_add_plot(c, SEC_LATENCY, "latency",
                 from_samples ? "Per-run latency of the best configurations: box = interquartile range, whiskers = 5th "
                                "to 95th percentile, point = median, bar beside it = distribution-free 95% confidence "
                                "interval of the median."
                              : "Median latency of the best configurations with the 95% confidence interval the "
                                "search measured (no per-run samples stored).",
                 &b);
out:
    qs_svg_buf_free(&b);
    free(x), free(y), free(all), free(ids), free(lab), free(labels);
}

qs_status rep_plot_latency(rep_ctx *c, qs_error *err)
{
    rep_data *d = c->d;
    size_t k = c->opt->top_k ? c->opt->top_k : 12, nr = 0, nci = 0;
    if (k > 40)
        k = 40;
    lat_row rows[40], cis[40];
    for (size_t i = 0; i < d->n_ranked && (nr < k || nci < k); i++) {
        const rep_trial *t = &d->trials[d->ranked[i]];
        double *v = NULL;
        size_t n = 0;
        int found = 0;
        QS_TRY(qs_study_get_samples(d->study, t->number, "latency_ns", &v, &n, &found, err));
        if (found && n > 0 && nr < k) {
            rows[nr].number = t->number;
            summarise(&rows[nr++], v, n);
        }
        free(v);
        if (nci < k && isfinite(t->m[RM_LATENCY]) && isfinite(t->lat_ci[0])) {
            cis[nci] = (lat_row){.number = t->number, .med = t->m[RM_LATENCY], .ci_lo = t->lat_ci[0],
                                 .ci_hi = t->lat_ci[1]};
            nci++;
        }
    }
    if (nr)
        latency_svg(c, rows, nr, 1);
    else if (nci)
        latency_svg(c, cis, nci, 0);
    else
        rep_note(c, SEC_LATENCY, d->have_metric[RM_LATENCY]
                                     ? "The study stores median latencies only (no per-run samples or confidence "
                                       "intervals): no distribution plot; the medians are plotted above."
                                     : "The study holds no latency measurements: no latency distribution plot.");
    return QS_OK;
}
