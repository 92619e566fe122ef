/* Private to src/data: the raw table every loader fills, and the helpers the
 * loaders, the preprocessing and the fetcher share. Not installed. */
#ifndef QSEARCH_DATA_INTERNAL_H
#define QSEARCH_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/data.h"
#include "qsearch/status.h"

/* Integer labels (CSV, IDX) are class indices and must lie in 0..this. */
#define QS_DATA_MAX_INT_LABEL 1023

/* Rows as read, before deduplication, split and standardisation. */
typedef struct {
    size_t n, cap;          /* rows, allocated rows */
    size_t features;
    float *x;               /* [cap][features]; -0.0 stored as +0.0 so equal rows compare equal bytewise */
    int32_t *y;             /* [cap] class index */
    size_t classes;
    char **class_names;     /* [classes], heap strings */
    size_t fixed_test;      /* > 0: the last fixed_test rows are an official test set (fashion-mnist) */
} qs_data_raw;

void qs_data_raw_free(qs_data_raw *raw);
/* Makes room for `more` rows past raw->n (features must be set). */
qs_status qs_data_raw_reserve(qs_data_raw *raw, size_t more, qs_error *err);
/* Sets class names "0".."classes-1". */
qs_status qs_data_raw_numeric_names(qs_data_raw *raw, size_t classes, qs_error *err);

/* Dedup, split, standardise raw (consumed: its arrays move into ds or are freed). */
qs_status qs_data_prepare(qs_dataset *ds, qs_data_raw *raw, const qs_data_options *opt, qs_error *err);
/* Frees what qs_dataset.storage points at (may be NULL). */
void qs_data_storage_delete(void *storage);

/* csv.c: reads PATH (plain or gzipped); label = column name, 0-based index,
 * or NULL for the last column. */
qs_status qs_data_csv_read(qs_data_raw *raw, const char *path, const char *label, qs_error *err);

/* idx.c: appends the records of an IDX images file and its labels file. */
qs_status qs_data_idx_read(qs_data_raw *raw, const char *images, const char *labels, qs_error *err);
/* The conventional labels file next to an images file, if it exists (caller frees), else NULL. */
char *qs_data_idx_sibling(const char *images);

/* jsc.c: MASE's JSC HDF5 (dataset t_allpar_new). */
qs_status qs_data_jsc_read(qs_data_raw *raw, const char *path, qs_error *err);

/* fetch.c: the cache directory (caller frees). */
qs_status qs_data_cache_dir(const qs_data_options *opt, char **dir, qs_error *err);
/* The cached path of a named dataset (a file, or fashion-mnist's directory),
 * whether or not it exists yet (caller frees). */
qs_status qs_data_cached_path(const char *name, const qs_data_options *opt, char **path, qs_error *err);
/* The local path of a named dataset if present (system copy or cache), else
 * *path = NULL; QS_OK either way unless the name is unknown. */
qs_status qs_data_locate(const char *name, const qs_data_options *opt, char **path, qs_error *err);
/* 1 when a path exists as a regular file (or directory for dirs). */
int qs_data_file_exists(const char *path);

/* printf into a fresh heap string (NULL when out of memory). */
char *qs_data_strfmt(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
