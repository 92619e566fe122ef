/* qsearch data fetch|info|export */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "qsearch/fs.h"
#include "qsearch/data.h"
#include "qsearch/npy.h"

static const char *const split_names[] = {"train", "val", "test"};

static int data_fetch(int argc, char **argv)
{
    static const cli_spec spec = {
        .usage = "qsearch data fetch NAME",
        .description = "Downloads a named dataset (letter, digits, fashion-mnist) from Debian's\n"
                       "package archive into the cache (${XDG_CACHE_HOME:-~/.cache}/qsearch/),\n"
                       "unless it is there already, and prints the cached path.",
        .min_positional = 1, .max_positional = 1,
    };
    const char *pos[1];
    int rc = cli_parse(&spec, argc, argv, pos, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    qs_data_options opt;
    qs_data_options_default(&opt);
    qs_error err;
    char *path = NULL;
    qs_status st = qs_data_fetch(pos[0], &opt, &path, &err);
    if (st)
        return cli_fail(st, &err);
    printf("%s\n", path);
    free(path);
    return CLI_EXIT_OK;
}

/* Per-class sample counts of one split. */
static void count_classes(const qs_split *s, size_t classes, size_t *counts)
{
    memset(counts, 0, classes * sizeof *counts);
    for (size_t i = 0; i < s->n; i++)
        counts[s->y[i]]++;
}

static json_t *info_json(const qs_dataset *ds)
{
    json_t *doc = json_object();
    size_t *counts = calloc(ds->classes, sizeof *counts), *total = calloc(ds->classes, sizeof *total);
    json_t *splits = json_object(), *names = json_array();
    for (size_t c = 0; c < ds->classes; c++)
        json_array_append_new(names, json_string(ds->class_names[c]));
    size_t samples = 0;
    for (int id = QS_SPLIT_TRAIN; id <= QS_SPLIT_TEST; id++) {
        const qs_split *s = qs_data_split(ds, (qs_split_id)id);
        count_classes(s, ds->classes, counts);
        json_t *arr = json_array();
        for (size_t c = 0; c < ds->classes; c++) {
            json_array_append_new(arr, json_integer((json_int_t)counts[c]));
            total[c] += counts[c];
        }
        json_object_set_new(splits, split_names[id],
                            json_pack("{s:I, s:o}", "samples", (json_int_t)s->n, "class_counts", arr));
        samples += s->n;
    }
    json_t *tot = json_array();
    for (size_t c = 0; c < ds->classes; c++)
        json_array_append_new(tot, json_integer((json_int_t)total[c]));
    json_object_set_new(doc, "dataset", json_string(ds->name));
    json_object_set_new(doc, "source", json_string(ds->source));
    json_object_set_new(doc, "raw_samples", json_integer((json_int_t)ds->raw_samples));
    json_object_set_new(doc, "duplicates_dropped", json_integer((json_int_t)ds->duplicates));
    json_object_set_new(doc, "samples", json_integer((json_int_t)samples));
    json_object_set_new(doc, "features", json_integer((json_int_t)ds->features));
    json_object_set_new(doc, "classes", json_integer((json_int_t)ds->classes));
    json_object_set_new(doc, "class_names", names);
    json_object_set_new(doc, "class_counts", tot);
    json_object_set_new(doc, "splits", splits);
    free(counts);
    free(total);
    return doc;
}

static void info_human(json_t *doc)
{
    json_t *splits = json_object_get(doc, "splits");
    cli_info("dataset   %s (%s)\n", json_string_value(json_object_get(doc, "dataset")),
             json_string_value(json_object_get(doc, "source")));
    cli_info("samples   %lld read, %lld exact duplicates dropped, %lld kept\n",
             (long long)json_integer_value(json_object_get(doc, "raw_samples")),
             (long long)json_integer_value(json_object_get(doc, "duplicates_dropped")),
             (long long)json_integer_value(json_object_get(doc, "samples")));
    cli_info("features  %lld\nclasses   %lld\n", (long long)json_integer_value(json_object_get(doc, "features")),
             (long long)json_integer_value(json_object_get(doc, "classes")));
    cli_info("splits    train %lld, val %lld, test %lld\n\n",
             (long long)json_integer_value(json_object_get(json_object_get(splits, "train"), "samples")),
             (long long)json_integer_value(json_object_get(json_object_get(splits, "val"), "samples")),
             (long long)json_integer_value(json_object_get(json_object_get(splits, "test"), "samples")));
    cli_info("%-16s %8s %8s %8s %8s\n", "class", "train", "val", "test", "total");
    json_t *names = json_object_get(doc, "class_names");
    for (size_t c = 0; c < json_array_size(names); c++) {
        long long v[3];
        for (int s = 0; s < 3; s++)
            v[s] = (long long)json_integer_value(
                json_array_get(json_object_get(json_object_get(splits, split_names[s]), "class_counts"), c));
        cli_info("%-16s %8lld %8lld %8lld %8lld\n", json_string_value(json_array_get(names, c)), v[0], v[1],
                 v[2], v[0] + v[1] + v[2]);
    }
}

static int data_info(int argc, char **argv)
{
    int as_json = 0;
    const cli_option opts[] = {
        {"json", 0, CLI_FLAG, &as_json, NULL, "print one JSON document on stdout"},
    };
    static const char *usage = "qsearch data info DATA [--json]";
    const cli_spec spec = {
        .usage = usage,
        .description = "Loads DATA with qsearch's preprocessing (duplicates dropped, seeded 80/20\n"
                       "split, validation carved from train) and describes it: samples, features,\n"
                       "classes, per-class counts and split sizes.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .min_positional = 1, .max_positional = 1,
    };
    const char *pos[1];
    int rc = cli_parse(&spec, argc, argv, pos, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    qs_data_options opt;
    qs_data_options_default(&opt);
    qs_dataset ds;
    qs_error err;
    qs_status st = qs_data_load(&ds, pos[0], &opt, &err);
    if (st)
        return cli_fail(st, &err);
    json_t *doc = info_json(&ds);
    qs_data_free(&ds);
    if (as_json)
        return cli_print_json(doc);
    info_human(doc);
    json_decref(doc);
    return CLI_EXIT_OK;
}

/* Writes DIR/<split>_x.npy and DIR/<split>_y.npy for every split. */
static qs_status export_splits(const qs_dataset *ds, const char *dir, qs_error *err)
{
    char path[4096];
    QS_TRY(qs_fs_mkdirs(dir, err));
    for (int id = QS_SPLIT_TRAIN; id <= QS_SPLIT_TEST; id++) {
        const qs_split *s = qs_data_split(ds, (qs_split_id)id);
        snprintf(path, sizeof path, "%s/%s_x.npy", dir, split_names[id]);
        QS_TRY(qs_npy_write_f32(path, s->x, s->n, ds->features, err));
        snprintf(path, sizeof path, "%s/%s_y.npy", dir, split_names[id]);
        QS_TRY(qs_npy_write_i32_1d(path, s->y, s->n, err));
    }
    return QS_OK;
}

static int data_export(int argc, char **argv)
{
    const char *out = NULL;
    const cli_option opts[] = {
        {"output", 'o', CLI_STRING, &out, "DIR", "directory to write the .npy files into (created if missing)"},
    };
    const cli_spec spec = {
        .usage = "qsearch data export DATA -o DIR",
        .description = "Writes each split of DATA, preprocessed as qsearch uses it (standardised with\n"
                       "train's statistics), as NumPy files: DIR/{train,val,test}_{x,y}.npy\n"
                       "(x float32 [n][features], y int32 [n]). For peers such as PyTorch.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .min_positional = 1, .max_positional = 1,
    };
    const char *pos[1];
    int rc = cli_parse(&spec, argc, argv, pos, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!out)
        return cli_usage_error("data export: -o DIR is required");
    qs_data_options opt;
    qs_data_options_default(&opt);
    qs_dataset ds;
    qs_error err;
    qs_status st = qs_data_load(&ds, pos[0], &opt, &err);
    if (st == QS_OK)
        st = export_splits(&ds, out, &err);
    qs_data_free(&ds);
    return st ? cli_fail(st, &err) : CLI_EXIT_OK;
}

int cmd_data(int argc, char **argv)
{
    static const char *help =
        "usage: qsearch data fetch NAME | info DATA [--json] | export DATA -o DIR\n\n"
        "  fetch   download letter, digits or fashion-mnist into the cache\n"
        "  info    samples, features, classes, class counts and split sizes\n"
        "  export  write the preprocessed splits as .npy files\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "fetch") == 0)
        return data_fetch(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") == 0)
        return data_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0)
        return data_export(argc - 1, argv + 1);
    return cli_usage_error("data: unknown action '%s' (fetch, info or export)", argv[1]);
}
