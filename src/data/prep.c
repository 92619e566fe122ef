/* Preprocessing shared by every source (docs/data.md states it exactly):
 * drop exact duplicate rows (keep the first), seeded shuffle, test = the first
 * round(test_fraction * n) shuffled rows, val = the next round(val_fraction *
 * rest), train = the remainder, standardise with train's mean/std. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"
#include "qsearch/rng.h"

/* What ds->storage points at: owns every array of the dataset. */
typedef struct {
    float *x;           /* [train+val+test][features] */
    int32_t *y;         /* [train+val+test] */
    float *mean, *std;  /* [features] */
    char **class_names; /* [classes] */
    size_t classes;
} data_storage;

static uint64_t row_hash(const float *x, size_t features, int32_t y)
{
    /* FNV-1a style over 32-bit words (the float bit patterns), then a final mix. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < features; i++) {
        uint32_t w;
        memcpy(&w, x + i, sizeof w);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    h = (h ^ (uint32_t)y) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

/* Compacts raw in place to its first occurrences; returns rows dropped
 * (fixed_test shrinks by the dropped rows that were in the test block). */
static qs_status drop_duplicates(qs_data_raw *raw, size_t *dropped, qs_error *err)
{
    size_t cap = 16;
    while (cap < 2 * raw->n)
        cap *= 2;
    size_t *table = malloc(cap * sizeof *table); /* row index + 1; 0 = empty */
    if (!table)
        return qs_error_set(err, QS_ERR_NOMEM, "out of memory (duplicate table, %zu rows)", raw->n);
    memset(table, 0, cap * sizeof *table);
    size_t f = raw->features, kept = 0, test_start = raw->n - raw->fixed_test, test_dropped = 0;
    for (size_t i = 0; i < raw->n; i++) {
        const float *row = raw->x + i * f;
        size_t slot = (size_t)row_hash(row, f, raw->y[i]) & (cap - 1);
        int dup = 0;
        for (; table[slot]; slot = (slot + 1) & (cap - 1)) {
            size_t j = table[slot] - 1; /* index among the kept rows */
            if (raw->y[j] == raw->y[i] && memcmp(raw->x + j * f, row, f * sizeof(float)) == 0) {
                dup = 1;
                break;
            }
        }
        if (dup) {
            test_dropped += i >= test_start;
            continue;
        }
        if (kept != i) {
            memmove(raw->x + kept * f, row, f * sizeof(float));
            raw->y[kept] = raw->y[i];
        }
        table[slot] = ++kept;
    }
    free(table);
    *dropped = raw->n - kept;
    raw->n = kept;
    raw->fixed_test -= test_dropped;
    return QS_OK;
}

static size_t round_count(double frac, size_t n)
{
    double v = floor(frac * (double)n + 0.5);
    return v < 0 ? 0 : v > (double)n ? n : (size_t)v;
}

/* Standardises rows [0, n) of x with the statistics of rows [0, n_train);
 * acc is scratch of 2 * f doubles. Row-major passes keep memory access linear. */
static void standardise(float *x, size_t n, size_t n_train, size_t f, float *mean, float *std, double *acc)
{
    double *sum = acc, *ss = acc + f;
    memset(acc, 0, 2 * f * sizeof *acc);
    for (size_t i = 0; i < n_train; i++)
        for (size_t j = 0; j < f; j++)
            sum[j] += x[i * f + j];
    for (size_t j = 0; j < f; j++)
        sum[j] = n_train ? sum[j] / (double)n_train : 0.0; /* now the mean */
    for (size_t i = 0; i < n_train; i++)
        for (size_t j = 0; j < f; j++) {
            double d = x[i * f + j] - sum[j];
            ss[j] += d * d;
        }
    for (size_t j = 0; j < f; j++) {
        double sd = n_train ? sqrt(ss[j] / (double)n_train) : 0.0; /* population std, as StandardScaler */
        mean[j] = (float)sum[j];
        std[j] = sd > 0 ? (float)sd : 1.0f;
        ss[j] = 1.0 / std[j];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++)
            x[i * f + j] = (float)(((double)x[i * f + j] - mean[j]) * ss[j]);
}

static qs_status check_options(const qs_data_options *opt, qs_error *err)
{
    if (!(opt->test_fraction >= 0 && opt->test_fraction < 1))
        return qs_error_set(err, QS_ERR_USAGE, "test fraction %g is not in [0, 1)", opt->test_fraction);
    if (!(opt->val_fraction >= 0 && opt->val_fraction < 1))
        return qs_error_set(err, QS_ERR_USAGE, "validation fraction %g is not in [0, 1)", opt->val_fraction);
    return QS_OK;
}

/* order[] receives the row order train, val, test; sets the split sizes. */
static void make_order(const qs_data_raw *raw, const qs_data_options *opt, size_t *order,
                       size_t *n_train, size_t *n_val, size_t *n_test)
{
    size_t n = raw->n;
    size_t pool = n - raw->fixed_test; /* rows that may go to train/val (and test) */
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qs_rng rng;
    qs_rng_seed(&rng, opt->seed);
    qs_rng_shuffle(&rng, order, pool);
    size_t t = raw->fixed_test ? 0 : round_count(opt->test_fraction, pool);
    size_t v = round_count(opt->val_fraction, pool - t);
    /* Shuffled pool: [test t][val v][train]; rotate to [train][val][test]. */
    size_t *tmp = order + n; /* caller gave 2n slots */
    memcpy(tmp, order + t + v, (pool - t - v) * sizeof *order);
    memcpy(tmp + (pool - t - v), order + t, v * sizeof *order);
    memcpy(tmp + (pool - t), order, t * sizeof *order);
    memcpy(order, tmp, pool * sizeof *order);
    *n_train = pool - t - v;
    *n_val = v;
    *n_test = t + raw->fixed_test;
}

static void storage_free(data_storage *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->y);
    free(s->mean);
    free(s->std);
    if (s->class_names)
        for (size_t c = 0; c < s->classes; c++)
            free(s->class_names[c]);
    free(s->class_names);
    free(s);
}

void qs_data_storage_delete(void *storage) { storage_free(storage); }

static void fill_splits(qs_dataset *ds, data_storage *s, const qs_data_raw *raw, const size_t *order,
                        size_t nt, size_t nv, size_t ne)
{
    size_t f = raw->features, n = nt + nv + ne;
    for (size_t i = 0; i < n; i++) {
        memcpy(s->x + i * f, raw->x + order[i] * f, f * sizeof(float));
        s->y[i] = raw->y[order[i]];
    }
    ds->train = (qs_split){nt, s->x, s->y};
    ds->val = (qs_split){nv, s->x + nt * f, s->y + nt};
    ds->test = (qs_split){ne, s->x + (nt + nv) * f, s->y + nt + nv};
}

qs_status qs_data_prepare(qs_dataset *ds, qs_data_raw *raw, const qs_data_options *opt, qs_error *err)
{
    qs_status st = check_options(opt, err);
    if (st)
        return st;
    ds->raw_samples = raw->n;
    ds->duplicates = 0;
    if (opt->drop_duplicates && (st = drop_duplicates(raw, &ds->duplicates, err)))
        return st;
    size_t n = raw->n, f = raw->features;
    data_storage *s = calloc(1, sizeof *s);
    size_t *order = malloc(2 * (n ? n : 1) * sizeof *order);
    if (s) {
        s->x = malloc((n ? n : 1) * f * sizeof(float));
        s->y = malloc((n ? n : 1) * sizeof(int32_t));
        s->mean = calloc(f, sizeof(float));
        s->std = calloc(f, sizeof(float));
    }
    if (!s || !order || !s->x || !s->y || !s->mean || !s->std) {
        storage_free(s);
        free(order);
        return qs_error_set(err, QS_ERR_NOMEM, "out of memory (%zu rows x %zu features)", n, f);
    }
    size_t nt, nv, ne;
    make_order(raw, opt, order, &nt, &nv, &ne);
    if (nt == 0) {
        storage_free(s);
        free(order);
        return qs_error_set(err, QS_ERR_INPUT, "%s: %zu rows after dropping duplicates leave no training rows",
                            ds->source, n);
    }
    fill_splits(ds, s, raw, order, nt, nv, ne);
    free(order);
    if (opt->standardise) {
        double *acc = malloc(2 * f * sizeof *acc);
        if (!acc) {
            storage_free(s);
            return qs_error_set(err, QS_ERR_NOMEM, "out of memory");
        }
        standardise(s->x, n, nt, f, s->mean, s->std, acc);
        free(acc);
    } else {
        for (size_t j = 0; j < f; j++)
            s->std[j] = 1.0f;
    }
    s->classes = raw->classes;
    s->class_names = raw->class_names;
    raw->class_names = NULL;
    ds->features = f;
    ds->classes = s->classes;
    ds->class_names = s->class_names;
    ds->mean = s->mean;
    ds->std = s->std;
    ds->storage = s;
    qs_data_raw_free(raw);
    return QS_OK;
}
