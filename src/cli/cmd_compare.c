/* qsearch compare --config S.toml --model MODEL [--data DATA] [--samplers LIST] [--repeats R]
 *                 [--trials N] [--seed S] [--jobs J] [--study S.db] [-o DIR] [--json]
 * Sample efficiency of samplers (MASE lab 3 task 4): one exhaustive pass, then
 * every sampler replayed against the table with R seeds (compare.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qsearch/compare.h"

#define MAX_SAMPLERS 8

typedef struct {
    cli_search_inputs in;
    const char *samplers, *duplicates;
    int trials, repeats, jobs, as_json;
    uint64_t seed, max_configs;
    double within;
    qs_sampler_kind kinds[MAX_SAMPLERS];
    size_t n_kinds;
} compare_args;

typedef struct {
    int tty;
    double last;
} progress_state;

static void progress(void *ctx, const qs_search_progress *p)
{
    progress_state *s = ctx;
    if (!cli_progress_due(&s->last, s->tty, p))
        return;
    int last = p->done >= p->target;
    double rate = p->elapsed_s > 0 ? (double)p->done_here / p->elapsed_s : 0;
    cli_info(s->tty ? "\rexhaustive pass: %zu/%zu configurations, %.0f/s\033[K%s"
                    : "exhaustive pass: %zu/%zu configurations, %.0f/s%s\n",
             p->done, p->target, rate, s->tty && last ? "\n" : "");
}

/* Refuses a space too large for the exhaustive table before the data is
 * loaded or a study touched (a cli_setup_hook). */
static qs_status check_space_size(void *ctx, cli_search_setup *s, qs_error *err)
{
    const compare_args *a = ctx;
    double size = qs_search_space_size(&s->space);
    if (size > (double)a->max_configs)
        return qs_error_set(err, QS_ERR_INPUT,
                            "compare: the space has %.6g configurations, more than --max-configs %llu; the "
                            "exhaustive table is what makes replays exact and gives the optimum",
                            size, (unsigned long long)a->max_configs);
    return QS_OK;
}

static void cell(char *buf, size_t cap, double m, double lo, double hi)
{
    if (isnan(m))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.4f [%.4f, %.4f]", m, lo, hi);
}

static void print_table(const qs_compare_result *r, const compare_args *a)
{
    size_t N = r->opt.n_trials;
    cli_info("\nbest-so-far objective, median [q1, q3] over %zu repeats (seeds %llu..%llu; duplicates %s):\n",
             r->opt.repeats, (unsigned long long)r->opt.seed, (unsigned long long)(r->opt.seed + r->opt.repeats - 1),
             r->opt.count_duplicates ? "counted" : "skipped");
    cli_info("%7s", "trials");
    for (size_t k = 0; k < r->n_samplers; k++)
        cli_info("  %-26s", qs_sampler_kind_name(r->s[k].kind));
    cli_info("\n");
    const size_t marks[] = {1, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
    size_t rows[sizeof marks / sizeof marks[0] + 1], n_rows = 0;
    for (size_t m = 0; m < sizeof marks / sizeof marks[0] && marks[m] < N; m++)
        rows[n_rows++] = marks[m];
    rows[n_rows++] = N;
    for (size_t j = 0; j < n_rows; j++) {
        size_t t = rows[j];
        cli_info("%7zu", t);
        for (size_t k = 0; k < r->n_samplers; k++) {
            char b[64];
            cell(b, sizeof b, r->s[k].median[t - 1], r->s[k].q1[t - 1], r->s[k].q3[t - 1]);
            cli_info("  %-26s", b);
        }
        cli_info("\n");
    }
    cli_info("\ntrials to within %g%% of the exhaustive optimum %.6g (median [q1, q3]; 'inf': not reached):\n",
             100 * a->within, r->optimum);
    for (size_t k = 0; k < r->n_samplers; k++) {
        const qs_compare_sampler *s = &r->s[k];
        cli_info("  %-11s %6.1f [%.1f, %.1f]   not within in %zu trials: %zu/%zu repeats\n",
                 qs_sampler_kind_name(s->kind), s->within_median, s->within_q1, s->within_q3, N, s->never,
                 r->opt.repeats);
    }
    if (r->opt.count_duplicates)
        return;
    cli_info("repeated proposals replaced (as qsearch search does; all repeats together):\n");
    for (size_t k = 0; k < r->n_samplers; k++) {
        const qs_compare_sampler *s = &r->s[k];
        cli_info("  %-11s %zu of %zu trials: %zu by telling the sampler the repeat and asking again, %zu by a "
                 "uniform draw, %zu by the first free configuration\n", qs_sampler_kind_name(s->kind),
                 s->dups.duplicates, N * r->opt.repeats, s->dups.by_repeat, s->dups.by_uniform,
                 s->dups.by_first_free);
    }
}

static qs_status run_compare(compare_args *a, json_t **out, qs_error *err)
{
    cli_search_setup s;
    const cli_setup_steps steps = {.name = "compare", .on_space = check_space_size, .ctx = a};
    qs_status st = cli_search_setup_open(&s, &a->in, &steps, err);
    progress_state ps = {cli_stderr_is_tty(), 0};
    qs_search_options o = cli_search_setup_options(&s, &a->in, a->jobs, progress, &ps);
    qs_compare_table t = {0};
    qs_search_result sres = {0};
    qs_compare_result cres = {0};
    if (st == QS_OK) {
        cli_info("compare: %zu searched parameters, %.6g configurations; exhaustive pass into %s (%d job(s); "
                 "configurations already in the study are not evaluated again)\n",
                 s.space.n_params, qs_search_space_size(&s.space), s.study_path, o.jobs);
        cli_catch_stop();
        double t0 = cli_now_s();
        st = qs_compare_exhaustive(&o, a->max_configs, &t, &sres, err);
        if (st && cli_stop_requested())
            st = qs_error_set(err, QS_ERR_IO, "compare: interrupted during the exhaustive pass (resume with --study %s)",
                              s.study_path);
        if (st == QS_OK)
            cli_info("exhaustive pass: %zu evaluated here, %zu complete, %zu pruned, %zu failed, %.2f s\n",
                     sres.evaluated_here, sres.n_complete, sres.n_pruned, sres.n_failed, cli_now_s() - t0);
    }
    if (st == QS_OK) {
        qs_compare_options co = {.n_samplers = a->n_kinds, .samplers = a->kinds, .repeats = (size_t)a->repeats,
                                 .n_trials = (size_t)a->trials, .seed = a->seed,
                                 .count_duplicates = strcmp(a->duplicates, "count") == 0, .rel = a->within};
        double t0 = cli_now_s();
        st = qs_compare_run(&t, &co, &cres, err);
        if (st == QS_OK)
            cli_info("replayed %zu sampler(s) x %d repeats x %d trials in %.2f s\n", a->n_kinds, a->repeats, a->trials,
                     cli_now_s() - t0);
    }
    if (st == QS_OK)
        st = qs_compare_store_curves(&cres, s.study, err);
    if (st == QS_OK)
        st = qs_compare_write_outputs(&cres, &t, &s.space, s.out_dir, err);
    if (st == QS_OK) {
        print_table(&cres, a);
        cli_info("outputs: %s/{compare.json,curves.csv,runs.csv,within.csv,table.csv}; curves in %s\n", s.out_dir,
                 s.study_path);
        *out = qs_compare_json(&cres, &t, &s.space);
    }
    qs_compare_result_free(&cres);
    qs_search_result_free(&sres);
    qs_compare_table_free(&t);
    cli_search_setup_close(&s);
    return st;
}

/* Parses the comma-separated sampler list (no repeats). */
static int parse_samplers(compare_args *a)
{
    char buf[256];
    if (strlen(a->samplers) >= sizeof buf)
        return cli_usage_error("compare: --samplers list too long");
    snprintf(buf, sizeof buf, "%s", a->samplers);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        qs_error err;
        qs_sampler_kind k;
        if (qs_sampler_kind_parse(tok, &k, &err) != QS_OK)
            return cli_usage_error("compare: --samplers: %s", err.msg);
        for (size_t i = 0; i < a->n_kinds; i++)
            if (a->kinds[i] == k)
                return cli_usage_error("compare: --samplers: '%s' given twice", tok);
        if (a->n_kinds == MAX_SAMPLERS)
            return cli_usage_error("compare: --samplers: too many");
        a->kinds[a->n_kinds++] = k;
    }
    if (!a->n_kinds)
        return cli_usage_error("compare: --samplers needs at least one sampler");
    return CLI_EXIT_OK;
}

static int check_args(compare_args *a)
{
    if (!a->in.config)
        return cli_usage_error("compare: --config S.toml is required (see --help)");
    if (!a->in.model)
        return cli_usage_error("compare: --model MODEL is required (see --help)");
    if (a->trials < 1 || a->trials > 10000000)
        return cli_usage_error("compare: --trials must be 1..10000000");
    if (a->repeats < 1 || a->repeats > 10000)
        return cli_usage_error("compare: --repeats must be 1..10000");
    if (a->jobs < 0 || a->jobs > 256)
        return cli_usage_error("compare: --jobs must be 1..256");
    if (a->max_configs < 1)
        return cli_usage_error("compare: --max-configs must be positive");
    if (!(a->within >= 0 && a->within < 1))
        return cli_usage_error("compare: --within must be in [0, 1)");
    if (strcmp(a->duplicates, "skip") != 0 && strcmp(a->duplicates, "count") != 0)
        return cli_usage_error("compare: --duplicates must be 'skip' or 'count'");
    return parse_samplers(a);
}

int cmd_compare(int argc, char **argv)
{
    compare_args a = {.samplers = "bruteforce,random,tpe,nsgaii", .duplicates = "skip", .trials = 100, .repeats = 20,
                      .max_configs = QS_COMPARE_MAX_CONFIGS_DEFAULT, .within = 0.01};
    const cli_option opts[] = {
        {"config", 'c', CLI_STRING, &a.in.config, "S.toml", "search config (MASE's [search] section)"},
        {"model", 'm', CLI_STRING, &a.in.model, "MODEL", "float model (.safetensors) written by qsearch train"},
        {"data", 'd', CLI_STRING, &a.in.data, "DATA", "dataset (default: the one the model was trained on)"},
        {"samplers", 0, CLI_STRING, &a.samplers, "LIST", "comma-separated (default bruteforce,random,tpe,nsgaii)"},
        {"repeats", 'r', CLI_INT, &a.repeats, "R", "seeds per sampler: S, S+1, ... (default 20)"},
        {"trials", 0, CLI_INT, &a.trials, "N", "trials per run (default 100)"},
        {"seed", 0, CLI_U64, &a.seed, "S", "first seed (default 0)"},
        {"jobs", 'j', CLI_INT, &a.jobs, "J", "threads for the exhaustive pass"},
        {"study", 0, CLI_STRING, &a.in.study, "S.db", "exhaustive trials and curves; reused (default DIR/study.db)"},
        {"output", 'o', CLI_STRING, &a.in.out, "DIR", "output directory (default: next to --study, else out/compare-TIME)"},
        {"max-configs", 0, CLI_U64, &a.max_configs, "N", "largest space accepted (default 100000)"},
        {"duplicates", 0, CLI_STRING, &a.duplicates, "MODE",
         "skip: repeats replaced as qsearch search does (default); count: as Optuna"},
        {"within", 0, CLI_DOUBLE, &a.within, "X", "relative tolerance for 'trials to within' (default 0.01)"},
        {"json", 0, CLI_FLAG, &a.as_json, NULL, "print compare.json on stdout"},
    };
    const cli_spec spec = {
        .usage = "qsearch compare --config S.toml --model MODEL [--data DATA] [--samplers LIST] [--repeats R]\n"
                 "                       [--trials N] [--seed S] [--jobs J] [--study S.db] [-o DIR] [--json]",
        .description = "Sample efficiency of samplers (MASE lab 3 task 4). Every configuration of the space is\n"
                       "evaluated once (an exhaustive bruteforce pass on the validation split, recorded in the\n"
                       "study), then each sampler is replayed against that table with R seeds: exact, because\n"
                       "the objective is deterministic (latency and cpu_util are refused). Reports the best-so-far\n"
                       "objective per trial (median, quartiles) and the trials needed to get within 1% of the\n"
                       "exhaustive optimum; writes compare.json, curves.csv, runs.csv, within.csv, table.csv to\n"
                       "DIR and the curves into the study (qsearch report draws them). See docs/search.md.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .epilog = "example:\n  qsearch compare --config configs/search-jsc-toy-64k.toml --model jsc-toy.safetensors "
                  "--samplers random,tpe,nsgaii --trials 200 --jobs 2 -o out/cmp",
    };
    int rc = cli_parse(&spec, argc, argv, NULL, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if ((rc = check_args(&a)))
        return rc;
    json_t *doc = NULL;
    qs_error err;
    qs_status st = run_compare(&a, &doc, &err);
    return cli_finish(st, &err, doc, a.as_json);
}
