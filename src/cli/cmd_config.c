/* qsearch config show FILE.toml [--json] [--typed] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qsearch/toml.h"

static int config_show(int argc, char **argv)
{
    int as_json = 0, typed = 0;
    const cli_option opts[] = {
        {"json", 0, CLI_FLAG, &as_json, NULL, "print the document as JSON (integers stay integers,\n"
                                             "                             floats reals, dates RFC 3339 strings)"},
        {"typed", 0, CLI_FLAG, &typed, NULL, "with --json: toml-test's tagged form {\"type\", \"value\"}"},
    };
    const cli_spec spec = {
        .usage = "qsearch config show FILE.toml [--json [--typed]]",
        .description = "Parses FILE.toml (TOML 1.0) and prints the document as understood: as\n"
                       "canonical TOML on stdout, or as JSON with --json. Errors name\n"
                       "FILE:LINE:COLUMN.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .min_positional = 1, .max_positional = 1,
    };
    const char *pos[1];
    int rc = cli_parse(&spec, argc, argv, pos, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (typed && !as_json)
        return cli_usage_error("config show: --typed goes with --json");
    qs_toml_doc *doc;
    qs_error err;
    qs_status st = qs_toml_parse_file(pos[0], &doc, &err);
    if (st)
        return cli_fail(st, &err);
    if (as_json) {
        json_t *j = typed ? qs_toml_to_tagged_json(doc->root) : qs_toml_to_json(doc->root);
        qs_toml_free(doc);
        return cli_print_json(j);
    }
    st = qs_toml_write(doc->root, stdout, &err);
    qs_toml_free(doc);
    if (st == QS_OK && fflush(stdout) != 0)
        st = qs_error_set(&err, QS_ERR_IO, "cannot write to stdout");
    return st ? cli_fail(st, &err) : CLI_EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
    static const char *help = "usage: qsearch config show FILE.toml [--json [--typed]]\n\n"
                              "  show   print a TOML config as parsed (canonical TOML or JSON)\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "show") == 0)
        return config_show(argc - 1, argv + 1);
    return cli_usage_error("config: unknown action '%s' (show)", argv[1]);
}
