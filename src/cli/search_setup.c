/* The set-up that qsearch search and qsearch compare share: one code path,
 * so the two commands load, default and name things the same way. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "qsearch/fs.h"
#include "qsearch/safetensors.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

void cli_catch_stop(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
}

int cli_stop_requested(void)
{
    return stop_flag;
}

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cli_progress_due(double *last_t, int tty, const qs_search_progress *p)
{
    double t = cli_now_s();
    if (p->done < p->target && t - *last_t < (tty ? 0.2 : 5.0))
        return 0;
    *last_t = t;
    return 1;
}

/* --output, else the study's directory, else out/NAME-TIME; the study is
 * --study, else DIR/study.db. */
static void choose_paths(cli_search_setup *s, const cli_search_inputs *in, const char *name)
{
    if (in->out) {
        snprintf(s->out_dir, sizeof s->out_dir, "%s", in->out);
    } else if (in->study) { /* next to the study */
        snprintf(s->out_dir, sizeof s->out_dir, "%s", in->study);
        char *slash = strrchr(s->out_dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(s->out_dir, sizeof s->out_dir, ".");
    } else {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(s->out_dir, sizeof s->out_dir, "out/%s-%s", name, stamp);
    }
    if (in->study)
        snprintf(s->study_path, sizeof s->study_path, "%s", in->study);
    else
        snprintf(s->study_path, sizeof s->study_path, "%s/study.db", s->out_dir);
}

static qs_status open_study(cli_search_setup *s, qs_error *err)
{
    char dir[sizeof s->study_path];
    snprintf(dir, sizeof dir, "%s", s->study_path);
    char *slash = strrchr(dir, '/');
    if (slash) { /* the study's directory must exist before SQLite opens it */
        *slash = 0;
        QS_TRY(qs_fs_mkdirs(dir, err));
    }
    return qs_study_open(s->study_path, &s->study, err);
}

qs_status cli_search_setup_open(cli_search_setup *s, cli_search_inputs *in, const cli_setup_steps *steps,
                                qs_error *err)
{
    memset(s, 0, sizeof *s);
    qs_model_meta_init(&s->meta);
    QS_TRY(qs_fs_read_text(in->config, &s->text, NULL, err));
    QS_TRY(qs_toml_parse_string(s->text, strlen(s->text), in->config, &s->doc, err));
    QS_TRY(qs_search_config_from_toml(&s->cfg, s->doc->root, err));
    if (steps->on_config)
        QS_TRY(steps->on_config(steps->ctx, s, err));
    QS_TRY(qs_safetensors_load_model(in->model, &s->model, &s->meta, err));
    QS_TRY(qs_search_space_from_toml(&s->space, s->model, s->doc->root, err));
    if (steps->on_space)
        QS_TRY(steps->on_space(steps->ctx, s, err));
    if (!in->data)
        in->data = s->meta.dataset[0] ? s->meta.dataset : "letter";
    qs_data_options dopt;
    qs_data_options_default(&dopt);
    QS_TRY(qs_data_load(&s->ds, in->data, &dopt, err));
    choose_paths(s, in, steps->name);
    return open_study(s, err);
}

void cli_search_setup_close(cli_search_setup *s)
{
    qs_study_close(s->study);
    qs_search_space_free(&s->space);
    qs_data_free(&s->ds);
    qs_model_delete(s->model);
    qs_model_meta_free(&s->meta);
    qs_toml_free(s->doc);
    free(s->text);
}

qs_search_options cli_search_setup_options(cli_search_setup *s, const cli_search_inputs *in, int jobs,
                                           qs_search_progress_fn progress, void *progress_ctx)
{
    qs_search_options o = {.cfg = &s->cfg, .space = &s->space, .model = s->model, .meta = &s->meta, .ds = &s->ds,
                           .model_name = in->model, .data_spec = in->data, .config_text = s->text,
                           .study = s->study, .jobs = jobs > 0 ? jobs : s->cfg.n_jobs, .progress = progress,
                           .progress_ctx = progress_ctx, .stop = &stop_flag};
    return o;
}
