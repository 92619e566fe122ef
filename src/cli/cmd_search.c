/* qsearch search --config S.toml --model MODEL [--data DATA] [--study S.db] [--sampler NAME]
 *                [--trials N] [--seed S] [--jobs J] [-o DIR] [--json] */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "qsearch/search.h"

typedef struct {
    cli_search_inputs in;
    const char *sampler;
    int trials, jobs, as_json;
    uint64_t seed;
    int seed_set;
} search_args;

typedef struct {
    int tty;   /* stderr is a terminal: one \r-updated line */
    int color; /* ... and NO_COLOR is unset: bold allowed */
    double last;
} progress_state;

/* A \r-updated line on a terminal; otherwise a plain line every few seconds.
 * Shows the best value (one objective) or the Pareto front's size. */
static void progress(void *ctx, const qs_search_progress *p)
{
    progress_state *s = ctx;
    if (!cli_progress_due(&s->last, s->tty, p))
        return;
    int last = p->done >= p->target;
    double rate = p->elapsed_s > 0 ? (double)p->done_here / p->elapsed_s : 0;
    double eta = rate > 0 && p->target > p->done ? (double)(p->target - p->done) / rate : 0;
    char best[64] = "best -";
    if (p->n_objectives > 1)
        snprintf(best, sizeof best, "front %zu", p->front);
    else if (p->have_best)
        snprintf(best, sizeof best, "best %.6g", p->best);
    if (s->tty)
        fprintf(stderr, "\r%s%zu/%zu%s trials  %s  pruned %zu  failed %zu  %.1f/s  ETA %.0fs\033[K%s",
                s->color ? "\033[1m" : "", p->done, p->target, s->color ? "\033[0m" : "", best, p->pruned,
                p->failed, rate, eta, last ? "\n" : "");
    else
        fprintf(stderr, "search: %zu/%zu trials, %s, pruned %zu, failed %zu, %.1f trials/s, ETA %.0f s\n", p->done,
                p->target, best, p->pruned, p->failed, rate, eta);
}

static const qs_search_result *sort_result;

/* Orders the best trials by the first objective, best first. */
static int by_first_objective(const void *a, const void *b)
{
    double va = sort_result->trials[*(const size_t *)a].values[0];
    double vb = sort_result->trials[*(const size_t *)b].values[0];
    int max = sort_result->directions[0] == QS_MAXIMIZE;
    return (va < vb) ? (max ? 1 : -1) : (va > vb) ? (max ? -1 : 1) : 0;
}

static void print_table(const qs_search_result *r, const qs_search_options *o)
{
    cli_info("\n%s (%zu of %zu trials complete, %zu pruned, %zu failed; float model: val %.4f, test %.4f)\n",
             r->n_objectives == 1 ? "best feasible trial" : "Pareto front (feasible trials)", r->n_complete,
             r->n_trials, r->n_pruned, r->n_failed, r->float_val_accuracy, r->float_test_accuracy);
    if (!r->n_best) {
        cli_info("  no feasible complete trial\n");
        return;
    }
    size_t *order = malloc(r->n_best * sizeof *order);
    if (!order)
        return;
    memcpy(order, r->best, r->n_best * sizeof *order);
    sort_result = r;
    qsort(order, r->n_best, sizeof *order, by_first_objective);
    /* val_acc is shown once: as an objective column when accuracy is one. */
    int acc_is_objective = 0;
    for (size_t k = 0; r->n_objectives > 1 && k < r->n_objectives; k++)
        acc_is_objective |= o->cfg->terms[k].metric == QS_SM_ACCURACY && o->cfg->terms[k].scale == 1.0;
    cli_info("%7s", "trial");
    for (size_t k = 0; k < r->n_objectives; k++)
        cli_info(" %12.12s", r->n_objectives == 1 ? "objective" : o->cfg->terms[k].name);
    if (!acc_is_objective)
        cli_info(" %8s", "val_acc");
    cli_info(" %8s %8s  %s\n", "test_acc", "avg_bits", "configuration (in/w/b = data_in/weight/bias width.frac)");
    char text[2048];
    for (size_t i = 0; i < r->n_best && i < 20; i++) {
        const qs_search_trial *x = &r->trials[order[i]];
        cli_info("%7lld", (long long)x->number);
        for (size_t k = 0; k < r->n_objectives; k++)
            cli_info(" %12.6g", x->values[k]);
        qs_search_config_text(o->space, x->choices, text, sizeof text);
        if (!acc_is_objective)
            cli_info(" %8.4f", x->metrics[QS_SM_ACCURACY]);
        cli_info(" %8.4f %8.3f  %s\n", x->has_test ? x->test_accuracy : NAN, x->metrics[QS_SM_AVG_BITWIDTH], text);
    }
    if (r->n_best > 20)
        cli_info("  ... %zu more in best.json\n", r->n_best - 20);
    free(order);
}

/* Applies the command-line overrides to the config (a cli_setup_hook). */
static qs_status apply_overrides(void *ctx, cli_search_setup *s, qs_error *err)
{
    const search_args *a = ctx;
    qs_search_config *c = &s->cfg;
    if (a->sampler)
        QS_TRY(qs_sampler_kind_parse(a->sampler, &c->sampler, err));
    if (a->trials > 0)
        c->n_trials = (size_t)a->trials;
    else if (a->trials < 0)
        return qs_error_set(err, QS_ERR_USAGE, "--trials must be positive");
    if (a->seed_set)
        c->seed = a->seed;
    return QS_OK;
}

static qs_status run_search(search_args *a, json_t **out, qs_error *err)
{
    cli_search_setup s;
    const cli_setup_steps steps = {.name = "search", .on_config = apply_overrides, .ctx = a};
    qs_status st = cli_search_setup_open(&s, &a->in, &steps, err);
    qs_search_result res = {0};
    progress_state ps = {isatty(STDERR_FILENO), cli_stderr_is_tty(), 0};
    qs_search_options o = cli_search_setup_options(&s, &a->in, a->jobs, progress, &ps);
    if (st == QS_OK) {
        size_t conflicts = qs_search_direction_conflicts(&s.cfg);
        if (conflicts)
            cli_info("warning: %zu metric(s) enter the scaled sum against their own direction; as MASE, the sum "
                     "ignores per-metric directions (give such a metric a negative scale, or set "
                     "setup.scaled_sum = \"signed\")\n", conflicts);
        cli_info("search space: %zu searched parameters (%zu fixed), %.6g configurations; sampler %s, %d job(s)\n",
                 s.space.n_params, s.space.n_all - s.space.n_params, qs_search_space_size(&s.space),
                 qs_sampler_kind_name(s.cfg.sampler), o.jobs);
        cli_info("study %s, outputs in %s\n", s.study_path, s.out_dir);
        cli_catch_stop();
        st = qs_search_run(&o, &res, err);
    }
    if (st == QS_OK)
        st = qs_search_write_outputs(&res, &o, s.out_dir, err);
    if (st == QS_OK) {
        cli_info("%zu trials evaluated here in %.2f s%s\n", res.evaluated_here, res.wall_s,
                 cli_stop_requested() ? " (interrupted: resume with the same --study)" : "");
        print_table(&res, &o);
        *out = qs_search_best_json(&res, &o);
    }
    qs_search_result_free(&res);
    cli_search_setup_close(&s);
    return st;
}

int cmd_search(int argc, char **argv)
{
    search_args a = {0};
    const char *seed_text = NULL;
    const cli_option opts[] = {
        {"config", 'c', CLI_STRING, &a.in.config, "S.toml", "search config (MASE's [search] section)"},
        {"model", 'm', CLI_STRING, &a.in.model, "MODEL", "float model (.safetensors) written by qsearch train"},
        {"data", 'd', CLI_STRING, &a.in.data, "DATA", "dataset (default: the one the model was trained on)"},
        {"study", 0, CLI_STRING, &a.in.study, "S.db", "study file; an existing one is resumed (default DIR/study.db)"},
        {"sampler", 0, CLI_STRING, &a.sampler, "NAME", "bruteforce (grid), random, tpe or nsgaii"},
        {"trials", 0, CLI_INT, &a.trials, "N", "trials in the study (default: setup.n_trials)"},
        {"seed", 0, CLI_STRING, &seed_text, "S", "sampler seed (default: setup.seed or 0)"},
        {"jobs", 'j', CLI_INT, &a.jobs, "J", "configurations evaluated at once on J threads"},
        {"output", 'o', CLI_STRING, &a.in.out, "DIR", "output directory (default: next to --study, else out/search-TIME)"},
        {"json", 0, CLI_FLAG, &a.as_json, NULL, "print best.json on stdout"},
    };
    const cli_spec spec = {
        .usage = "qsearch search --config S.toml --model MODEL [--data DATA] [--study S.db] [--sampler NAME]\n"
                 "                      [--trials N] [--seed S] [--jobs J] [-o DIR] [--json]",
        .description = "Mixed-precision quantization search as MASE's `search` action: the search\n"
                       "space, strategy and metrics come from the config; trials are evaluated on the\n"
                       "validation split, recorded in a SQLite study (resumable, shareable by several\n"
                       "processes) and the best configuration(s) are re-evaluated on the test split.\n"
                       "Writes log.json, best.json and trials.csv to DIR. See docs/search.md.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .epilog = "example:\n  qsearch search --config configs/search-mase-lab3.toml --model jsc-tiny.safetensors "
                  "--sampler bruteforce -o out/lab3",
    };
    int rc = cli_parse(&spec, argc, argv, NULL, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!a.in.config)
        return cli_usage_error("search: --config S.toml is required (see --help)");
    if (!a.in.model)
        return cli_usage_error("search: --model MODEL is required (see --help)");
    if (a.jobs < 0 || a.jobs > 256)
        return cli_usage_error("search: --jobs must be 1..256");
    if (seed_text) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed_text, &end, 10);
        if (!*seed_text || *end || errno || seed_text[0] == '-')
            return cli_usage_error("search: --seed '%s' is not a non-negative integer", seed_text);
        a.seed = v;
        a.seed_set = 1;
    }
    json_t *doc = NULL;
    qs_error err;
    qs_status st = run_search(&a, &doc, &err);
    return cli_finish(st, &err, doc, a.as_json);
}
