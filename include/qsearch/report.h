/* The HTML report of a study (`qsearch report`, docs/report.md): one
 * self-contained file (inline SVG and CSS, no scripts, fonts or links) with
 * the summary, the best trials (or Pareto front), each metric against the
 * configurations, accuracy against each hardware metric with the front,
 * objective history, a per-layer precision heat map, sample-efficiency curves
 * and latency distributions; whatever the study lacks is omitted with a note. */
#ifndef QSEARCH_REPORT_H
#define QSEARCH_REPORT_H

#include <stddef.h>

#include "qsearch/status.h"
#include "qsearch/study.h"

typedef struct {
    const char *plots_dir; /* also write each plot as DIR/NAME.svg (created if missing); NULL: no */
    size_t max_points;     /* points per scatter/history plot before decimation (0: 4000) */
    size_t max_configs;    /* configurations in the per-configuration plots (0: 120) */
    size_t top_k;          /* configurations in the heat map, table and latency plot (0: 12) */
    const char *title;     /* page title (NULL: "qsearch report: STUDY") */
} qs_report_options;

/* What a report holds, for callers and tests. */
typedef struct {
    size_t n_trials, n_plots, n_notes;
    size_t html_bytes;
} qs_report_stats;

/* Defaults (all zero: built-in limits, no plots directory). */
void qs_report_options_default(qs_report_options *o);

/* Renders the report of study s into *html (malloc'd, NUL-terminated; caller frees).
 * Bad study content is QS_ERR_INPUT naming the trial or key. stats may be NULL. */
qs_status qs_report_html(qs_study *s, const qs_report_options *o, char **html, qs_report_stats *stats,
                         qs_error *err);

/* Renders and writes the report to path (temp file + rename), and the plots to
 * o->plots_dir when set. stats may be NULL. */
qs_status qs_report_write(qs_study *s, const char *path, const qs_report_options *o, qs_report_stats *stats,
                          qs_error *err);

#endif
