/* qsearch: hardware-aware mixed-precision quantization search (DESIGN.md section 3). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"data", cmd_data, "fetch a dataset into the cache, describe or export one"},
    {"train", cmd_train, "train a model of the JSC family on a dataset"},
    {"eval", cmd_eval, "evaluate a model (optionally quantized) on a split"},
    {"profile", cmd_profile, "every metric of a model and config: quality, size, BitOPs, latency, energy"},
    {"config", cmd_config, "show a TOML config as parsed"},
    {"search", cmd_search, "search per-layer quantization (MASE search config), resumable study"},
    {"report", cmd_report, "write the HTML report of a study (inline SVG plots, no scripts)"},
    {"compare", cmd_compare, "sample efficiency of samplers: exhaustive table, seeded replays, curves"},
};

static void print_usage(FILE *f)
{
    fprintf(f, "usage: qsearch COMMAND [options]   (qsearch COMMAND --help for details)\n\n"
               "Hardware-aware mixed-precision quantization search for neural networks.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nDATA is letter (default), digits, fashion-mnist, jsc:PATH.h5, csv:PATH[:label=COL]\n"
               "or idx:IMAGES[:LABELS]. Exit status: 0 ok, 1 runtime failure, 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("qsearch %s\n", QS_VERSION);
        return CLI_EXIT_OK;
    }
    cli_init_logging();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return cli_usage_error("unknown command '%s' (qsearch --help lists them)", argv[1]);
}
