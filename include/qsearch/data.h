/* Datasets: loading (letter, digits, fashion-mnist, jsc:, csv:, idx:),
 * MASE preprocessing (drop duplicate rows, seeded split, standardise on train)
 * and the validation split carved from train. docs/data.md states the exact
 * rules: shuffle the deduplicated row indices with qs_rng(seed); test = the
 * first round(test_fraction * n), val = the next round(val_fraction * rest),
 * train = the remainder. Exception: fashion-mnist's official 10,000-image test
 * set is the test split; val is carved from its 60,000 training images. */
#ifndef QSEARCH_DATA_H
#define QSEARCH_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/status.h"

/* One split: a view of rows owned by its qs_dataset. */
typedef struct {
    size_t n;      /* samples */
    float *x;      /* [n][features], row-major, standardised */
    int32_t *y;    /* [n], class index in 0..classes-1 */
} qs_split;

typedef enum { QS_SPLIT_TRAIN, QS_SPLIT_VAL, QS_SPLIT_TEST } qs_split_id;

typedef struct {
    uint64_t seed;          /* split seed; 42 as MASE */
    double test_fraction;   /* of the deduplicated samples; 0.2 (unused for fashion-mnist: official test set) */
    double val_fraction;    /* of the training part; 0.2 */
    int drop_duplicates;    /* 1: drop exact duplicate rows (features and label) */
    int standardise;        /* 1: (x - mean) / std with mean, std fitted on train */
    int allow_fetch;        /* 1: download a named dataset into the cache if missing */
    const char *cache_dir;  /* NULL: ${XDG_CACHE_HOME:-$HOME/.cache}/qsearch */
} qs_data_options;

typedef struct {
    char name[64];          /* "letter", "digits", "fashion-mnist", "jsc", "csv", "idx" */
    char source[512];       /* the file(s) read */
    size_t features;        /* input width */
    size_t classes;
    char **class_names;     /* [classes], e.g. "A".."Z" for letter */
    size_t raw_samples;     /* rows read */
    size_t duplicates;      /* rows dropped as exact duplicates */
    float *mean, *std;      /* [features], fitted on train; std 1 where a feature is constant */
    qs_split train, val, test;
    void *storage;          /* owns every array above */
} qs_dataset;

/* Fills opt with the defaults above. */
void qs_data_options_default(qs_data_options *opt);

/* Loads and preprocesses the dataset named by spec (DESIGN.md section 3's DATA
 * grammar). Errors name the file and the line or record. */
qs_status qs_data_load(qs_dataset *ds, const char *spec, const qs_data_options *opt, qs_error *err);

/* Downloads a named dataset (letter, digits, fashion-mnist) into the cache if
 * missing, saying so through qs_log; *path receives the cached file's path
 * (fashion-mnist: its directory) (caller frees). Needs apt-get, dpkg-deb, tar. */
qs_status qs_data_fetch(const char *name, const qs_data_options *opt, char **path, qs_error *err);

/* Builds a dataset from rows in memory (x [n][features], y [n] in
 * 0..classes-1) with the same preprocessing as qs_data_load; class names are
 * "0".."classes-1". Inputs are copied. */
qs_status qs_data_from_arrays(qs_dataset *ds, const char *name, const float *x, const int32_t *y, size_t n,
                              size_t features, size_t classes, const qs_data_options *opt, qs_error *err);

/* counts [classes] receives the number of samples of each class in split id. */
void qs_data_class_counts(const qs_dataset *ds, qs_split_id id, size_t *counts);

/* The split with that id. */
const qs_split *qs_data_split(const qs_dataset *ds, qs_split_id id);

/* Parses "train" | "val" | "test". */
qs_status qs_split_parse(const char *s, qs_split_id *id, qs_error *err);
const char *qs_split_name(qs_split_id id);

/* Releases everything ds owns; ds may be NULL. */
void qs_data_free(qs_dataset *ds);

#endif
