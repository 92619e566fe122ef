#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qsearch/log.h"

static const cli_option *find_long(const cli_spec *spec, const char *name, size_t len)
{
    for (size_t i = 0; i < spec->n_options; i++)
        if (strlen(spec->options[i].name) == len && strncmp(spec->options[i].name, name, len) == 0)
            return &spec->options[i];
    return NULL;
}

static const cli_option *find_short(const cli_spec *spec, char c)
{
    for (size_t i = 0; i < spec->n_options; i++)
        if (spec->options[i].short_name == c)
            return &spec->options[i];
    return NULL;
}

/* Stores value into opt->dest, checking the number's syntax and range. */
static int store_value(const cli_option *opt, const char *value)
{
    char *end = NULL;
    errno = 0;
    switch (opt->kind) {
    case CLI_FLAG:
        *(int *)opt->dest = 1;
        return CLI_EXIT_OK;
    case CLI_STRING:
        *(const char **)opt->dest = value;
        return CLI_EXIT_OK;
    case CLI_INT: {
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < -2147483647L || v > 2147483647L)
            return cli_usage_error("--%s: '%s' is not an integer", opt->name, value);
        *(int *)opt->dest = (int)v;
        return CLI_EXIT_OK;
    }
    case CLI_U64: {
        if (value[0] == '-')
            return cli_usage_error("--%s: '%s' must not be negative", opt->name, value);
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end)
            return cli_usage_error("--%s: '%s' is not a non-negative integer", opt->name, value);
        *(uint64_t *)opt->dest = (uint64_t)v;
        return CLI_EXIT_OK;
    }
    case CLI_DOUBLE: {
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            return cli_usage_error("--%s: '%s' is not a finite number", opt->name, value);
        *(double *)opt->dest = v;
        return CLI_EXIT_OK;
    }
    }
    return CLI_EXIT_USAGE;
}

/* Handles argv[*i], an option; may consume the next argument as its value. */
static int parse_option(const cli_spec *spec, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    const cli_option *opt;
    const char *value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        opt = find_long(spec, name, len);
        if (!opt)
            return cli_usage_error("unknown option '--%.*s' (see --help)", (int)len, name);
        if (eq)
            value = eq + 1;
    } else {
        opt = arg[2] ? NULL : find_short(spec, arg[1]);
        if (!opt)
            return cli_usage_error("unknown option '%s' (see --help)", arg);
    }
    if (opt->kind == CLI_FLAG) {
        if (value)
            return cli_usage_error("--%s takes no value", opt->name);
        return store_value(opt, NULL);
    }
    if (!value) {
        if (*i + 1 >= argc)
            return cli_usage_error("--%s needs a value (%s)", opt->name, opt->metavar ? opt->metavar : "VALUE");
        value = argv[++*i];
    }
    return store_value(opt, value);
}

int cli_parse(const cli_spec *spec, int argc, char **argv, const char **positional, size_t *n_positional)
{
    size_t npos = 0;
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_positional && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            cli_print_help(spec);
            return -1;
        }
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = 1;
        } else if (!only_positional && arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_option(spec, argc, argv, &i);
            if (rc != CLI_EXIT_OK)
                return rc;
        } else {
            if (npos >= spec->max_positional)
                return cli_usage_error("unexpected argument '%s' (see --help)", arg);
            positional[npos++] = arg;
        }
    }
    if (npos < spec->min_positional)
        return cli_usage_error("missing argument; usage: %s", spec->usage);
    if (n_positional)
        *n_positional = npos;
    return CLI_EXIT_OK;
}

void cli_print_help(const cli_spec *spec)
{
    printf("usage: %s\n\n%s\n", spec->usage, spec->description);
    if (spec->n_options)
        printf("\noptions:\n");
    for (size_t i = 0; i < spec->n_options; i++) {
        const cli_option *o = &spec->options[i];
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        printf("  %-26s %s\n", left, o->help);
    }
    printf("  %-26s %s\n", "-h, --help", "show this help");
    if (spec->epilog)
        printf("\n%s\n", spec->epilog);
}

int cli_fail(qs_status st, const qs_error *err)
{
    fprintf(stderr, "qsearch: %s\n", err && err->msg[0] ? err->msg : qs_status_str(st));
    return qs_status_exit_code(st);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("qsearch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

void cli_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

int cli_print_json(json_t *doc)
{
    if (!doc) {
        fprintf(stderr, "qsearch: out of memory building JSON output\n");
        return CLI_EXIT_FAIL;
    }
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "qsearch: cannot write JSON to stdout\n");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_finish(qs_status st, const qs_error *err, json_t *doc, int as_json)
{
    if (st) {
        json_decref(doc);
        return cli_fail(st, err);
    }
    if (as_json)
        return cli_print_json(doc);
    json_decref(doc);
    return CLI_EXIT_OK;
}

int cli_stderr_is_tty(void)
{
    const char *no_color = getenv("NO_COLOR");
    return isatty(STDERR_FILENO) && !(no_color && no_color[0]);
}

static void log_to_stderr(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s\n", msg);
}

void cli_init_logging(void) { qs_log_set(log_to_stderr, NULL); }
