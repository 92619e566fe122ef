/* Shared pieces of the command-line tool: option parsing, error reporting,
 * JSON output. Only src/cli/ prints to stdout or decides exit codes. */
#ifndef QSEARCH_CLI_H
#define QSEARCH_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

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

/* 1 when stderr is a terminal and NO_COLOR is unset (colour and progress bars allowed). */
int cli_stderr_is_tty(void);

/* Installs the library's log sink (stderr, prefixed). */
void cli_init_logging(void);

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
