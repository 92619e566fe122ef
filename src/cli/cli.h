/* Shared pieces of the command-line tool: option parsing, error reporting,
 * JSON output. Only src/cli/ prints to stdout or decides exit codes. */
#ifndef QSEARCH_CLI_H
#define QSEARCH_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "qsearch/search.h"
#include "qsearch/status.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

typedef enum { CLI_FLAG, CLI_STRING, CLI_INT, CLI_U64, CLI_DOUBLE } cli_opt_kind;

/* One option: --name VALUE, --name=VALUE, or -s VALUE (short may be 0).
 * dest is int* (flag, set to 1), const char**, int*, uint64_t*, or double*. */
typedef struct {
    const char *name;
    char short_name;
    cli_opt_kind kind;
    void *dest;
    const char *metavar; /* "N", "PATH"; NULL for flags */
    const char *help;
} cli_option;

/* A subcommand's description, used for parsing and for --help. */
typedef struct {
    const char *usage;        /* "qsearch train --model ARCH --data DATA -o MODEL [options]" */
    const char *description;  /* a paragraph */
    const cli_option *options;
    size_t n_options;
    size_t min_positional, max_positional;
    const char *epilog;       /* examples; may be NULL */
} cli_spec;

/* Parses argv[1..argc) (argv[0] is the subcommand's name). Positional arguments go
 * to positional[]. Returns CLI_EXIT_OK to continue, -1 when --help was printed
 * (exit 0), or CLI_EXIT_USAGE after printing the problem to stderr. */
int cli_parse(const cli_spec *spec, int argc, char **argv, const char **positional, size_t *n_positional);

/* Prints the spec's help to stdout. */
void cli_print_help(const cli_spec *spec);

/* Prints "qsearch: MESSAGE" for a library error and returns its exit code. */
int cli_fail(qs_status st, const qs_error *err);

/* Prints "qsearch: MESSAGE" (printf-style) and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Human message on stderr (printf-style); progress and tables go here. */
void cli_info(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Prints one JSON document on stdout (steals the reference). Returns an exit code. */
int cli_print_json(json_t *doc);

/* A command's ending: on failure prints err and returns its exit code; on
 * success prints doc with --json. Always releases doc (may be NULL). */
int cli_finish(qs_status st, const qs_error *err, json_t *doc, int as_json);

/* 1 when stderr is a terminal and NO_COLOR is unset (colour and progress bars allowed). */
int cli_stderr_is_tty(void);

/* Installs the library's log sink (stderr, prefixed). */
void cli_init_logging(void);

/* ---- search and compare: the set-up they share (search_setup.c) ---- */

/* The options the two commands share. */
typedef struct {
    const char *config; /* S.toml */
    const char *model;  /* MODEL.safetensors */
    const char *data;   /* NULL: the model's dataset (else letter), set by cli_search_setup_open */
    const char *study;  /* S.db, or NULL */
    const char *out;    /* output directory, or NULL */
} cli_search_inputs;

/* What the set-up loads and opens, in that order. */
typedef struct {
    char *text; /* the config file's text */
    qs_toml_doc *doc;
    qs_search_config cfg;
    qs_model *model;
    qs_model_meta meta;
    qs_search_space space;
    qs_dataset ds;
    qs_study *study;
    char out_dir[4096], study_path[4200];
} cli_search_setup;

/* A command's own check or change at one step of the set-up; ctx is the command's. */
typedef qs_status (*cli_setup_hook)(void *ctx, cli_search_setup *s, qs_error *err);

typedef struct {
    const char *name;         /* the command: default output directory out/NAME-TIME */
    cli_setup_hook on_config; /* after the config is parsed, before the model loads; may be NULL */
    cli_setup_hook on_space;  /* after the space is built, before the data loads; may be NULL */
    void *ctx;
} cli_setup_steps;

/* Reads and parses in->config (search config), loads in->model and builds the
 * space, loads in->data (defaulted here), chooses the output directory
 * (in->out, else next to in->study, else out/NAME-TIME) and the study (in->study,
 * else DIR/study.db), creates the study's directory and opens the study. s is
 * initialised here; close it even when this fails. */
qs_status cli_search_setup_open(cli_search_setup *s, cli_search_inputs *in, const cli_setup_steps *steps,
                                qs_error *err);
/* Releases everything the set-up opened. */
void cli_search_setup_close(cli_search_setup *s);

/* Search options over s (jobs <= 0: the config's n_jobs); stop is the flag cli_catch_stop sets. */
qs_search_options cli_search_setup_options(cli_search_setup *s, const cli_search_inputs *in, int jobs,
                                           qs_search_progress_fn progress, void *progress_ctx);

/* SIGINT and SIGTERM ask a running search to stop after its batch. */
void cli_catch_stop(void);
/* 1 once SIGINT or SIGTERM arrived after cli_catch_stop. */
int cli_stop_requested(void);

/* Monotonic clock in seconds. */
double cli_now_s(void);

/* Throttles progress lines: 1 when one is due (the last one, or 0.2 s on a
 * terminal, 5 s otherwise, after the previous at *last_t, which is updated). */
int cli_progress_due(double *last_t, int tty, const qs_search_progress *p);

/* Subcommands: each takes argc/argv starting at its own name, returns an exit code. */
int cmd_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);

#endif
