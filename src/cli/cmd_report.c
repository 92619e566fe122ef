/* qsearch report --study S.db -o report.html [--plots DIR] [--json] */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "qsearch/report.h"
#include "qsearch/study.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_report(int argc, char **argv)
{
    const char *study_path = NULL, *out = NULL, *plots = NULL, *title = NULL;
    int as_json = 0, top = 0, max_points = 0;
    const cli_option opts[] = {
        {"study", 0, CLI_STRING, &study_path, "S.db", "the study to report (read only)"},
        {"output", 'o', CLI_STRING, &out, "FILE", "the HTML file to write"},
        {"plots", 0, CLI_STRING, &plots, "DIR", "also write each plot as DIR/NAME.svg"},
        {"title", 0, CLI_STRING, &title, "TEXT", "page title (default: qsearch report: STUDY)"},
        {"top", 0, CLI_INT, &top, "K", "configurations in the table, heat map and latency plot (default 12)"},
        {"max-points", 0, CLI_INT, &max_points, "N", "points per scatter/history plot before thinning (default 4000)"},
        {"json", 0, CLI_FLAG, &as_json, NULL, "print {report, plots, trials, bytes, seconds} on stdout"},
    };
    const cli_spec spec = {
        .usage = "qsearch report --study S.db -o report.html [--plots DIR] [options]",
        .description = "Writes one self-contained HTML file (inline SVG and CSS, no scripts or\n"
                       "external resources) describing a study: summary, best trials or Pareto\n"
                       "front, each metric against the configurations, accuracy against latency,\n"
                       "size, BitOPs and energy with the Pareto front, objective history, a\n"
                       "per-layer precision heat map, sample-efficiency curves and latency\n"
                       "distributions. What the study lacks is left out with a note.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .min_positional = 0, .max_positional = 0,
        .epilog = "example: qsearch report --study out/study.db -o out/report.html --plots out/plots",
    };
    int rc = cli_parse(&spec, argc, argv, NULL, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!study_path || !out)
        return cli_usage_error("report: --study S.db and -o FILE are required");
    if (top < 0 || top > 200 || max_points < 0)
        return cli_usage_error("report: --top takes 1..200 and --max-points a positive count");
    qs_study_options so;
    qs_study_options_default(&so);
    so.readonly = 1;
    qs_study *s = NULL;
    qs_error err;
    qs_status st = qs_study_open_ex(study_path, &so, &s, &err);
    if (st)
        return cli_fail(st, &err);
    qs_report_options o;
    qs_report_options_default(&o);
    o.plots_dir = plots;
    o.title = title;
    o.top_k = (size_t)top;
    o.max_points = (size_t)max_points;
    qs_report_stats stats;
    double t0 = now_s();
    st = qs_report_write(s, out, &o, &stats, &err);
    double dt = now_s() - t0;
    qs_study_close(s);
    if (st)
        return cli_fail(st, &err);
    cli_info("report: %s (%zu trials, %zu plots, %.1f kB, %.2f s)%s%s\n", out, stats.n_trials, stats.n_plots,
             stats.html_bytes / 1e3, dt, plots ? "; plots in " : "", plots ? plots : "");
    if (as_json)
        return cli_print_json(json_pack("{s:s, s:I, s:I, s:I, s:f}", "report", out, "plots", (json_int_t)stats.n_plots,
                                        "trials", (json_int_t)stats.n_trials, "bytes", (json_int_t)stats.html_bytes,
                                        "seconds", dt));
    return CLI_EXIT_OK;
}
