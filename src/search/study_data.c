/* Study store: per-trial sample vectors (little-endian 64-bit blobs) and the
 * sample-efficiency curves of qsearch compare. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/study.h"
#include "search/study_internal.h"

/* ---- samples ------------------------------------------------------------ */

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Stores n 64-bit words (already as raw bits) little-endian under dtype. */
static qs_status put_samples(qs_study *s, int64_t trial, const char *name, const char *dtype,
                             const void *v, size_t n, qs_error *err)
{
    if (!name || !*name || (n && !v))
        return qs_error_set(err, QS_ERR_USAGE, "study: samples need a name and data");
    if (n > (size_t)INT32_MAX / 8)
        return qs_error_set(err, QS_ERR_USAGE, "study: %zu samples are too many", n);
    unsigned char *blob = malloc(n ? n * 8 : 1);
    if (!blob)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", s->path);
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, (const unsigned char *)v + 8 * i, 8);
        put_le64(blob + 8 * i, bits);
    }
    char op[160];
    snprintf(op, sizeof op, "storing samples '%.100s' of trial %lld", name, (long long)trial);
    qs_status res = qs_study_i_lock(s, err);
    if (res == QS_OK) {
        sqlite3_stmt *st = NULL;
        res = qs_study_i_prep(s, Q_SAMPLES_PUT, &st, err);
        if (res == QS_OK) {
            sqlite3_bind_int64(st, 1, trial);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, dtype, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, (int64_t)n);
            sqlite3_bind_blob(st, 5, blob, (int)(n * 8), SQLITE_STATIC);
            res = qs_study_i_run_done(s, st, op, err);
        }
        qs_study_i_unlock(s);
    }
    free(blob);
    return res;
}

qs_status qs_study_put_samples_f64(qs_study *s, int64_t trial, const char *name, const double *v,
                                   size_t n, qs_error *err)
{
    return put_samples(s, trial, name, "f64", v, n, err);
}

qs_status qs_study_put_samples_i64(qs_study *s, int64_t trial, const char *name, const int64_t *v,
                                   size_t n, qs_error *err)
{
    return put_samples(s, trial, name, "i64", v, n, err);
}

/* Decodes the current row of Q_SAMPLES_GET into a malloc'd double array. */
static qs_status decode_samples(qs_study *s, sqlite3_stmt *st, int64_t trial, const char *name,
                                double **v, size_t *n, qs_error *err)
{
    const char *dtype = (const char *)sqlite3_column_text(st, 0);
    int64_t count = sqlite3_column_int64(st, 1);
    const unsigned char *blob = sqlite3_column_blob(st, 2);
    int64_t bytes = sqlite3_column_bytes(st, 2);
    int is_f64 = dtype && strcmp(dtype, "f64") == 0, is_i64 = dtype && strcmp(dtype, "i64") == 0;
    if (!is_f64 && !is_i64)
        return qs_error_set(err, QS_ERR_INPUT, "%s: trial %lld samples '%s': unknown dtype '%s'",
                            s->path, (long long)trial, name, dtype ? dtype : "NULL");
    if (count < 0 || bytes != count * 8)
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: trial %lld samples '%s': blob of %lld bytes, expected 8 x %lld",
                            s->path, (long long)trial, name, (long long)bytes, (long long)count);
    if (count == 0)
        return QS_OK;
    double *out = malloc((size_t)count * sizeof *out);
    if (!out)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", s->path);
    for (int64_t i = 0; i < count; i++) {
        uint64_t bits = get_le64(blob + 8 * i);
        if (is_f64) {
            memcpy(&out[i], &bits, sizeof bits);
        } else {
            int64_t iv;
            memcpy(&iv, &bits, sizeof iv);
            out[i] = (double)iv;
        }
    }
    *v = out;
    *n = (size_t)count;
    return QS_OK;
}

qs_status qs_study_get_samples(qs_study *s, int64_t trial, const char *name, double **v, size_t *n,
                               int *found, qs_error *err)
{
    *v = NULL;
    *n = 0;
    if (found)
        *found = 0;
    if (!name)
        return qs_error_set(err, QS_ERR_USAGE, "study: samples need a name");
    QS_TRY(qs_study_i_lock(s, err));
    sqlite3_stmt *st = NULL;
    qs_status res = qs_study_i_prep(s, Q_SAMPLES_GET, &st, err);
    if (res == QS_OK) {
        sqlite3_bind_int64(st, 1, trial);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            res = decode_samples(s, st, trial, name, v, n, err);
            if (found && res == QS_OK)
                *found = 1;
        } else if (rc != SQLITE_DONE) {
            res = qs_study_i_fail(s, rc, "reading samples", err);
        }
        qs_study_i_done(st);
    }
    qs_study_i_unlock(s);
    return res;
}

/* ---- sample-efficiency curves ------------------------------------------- */

static qs_status put_curve_locked(qs_study *s, const char *sampler, int repeat, int64_t seed,
                                  const double *value, const double *best, size_t n,
                                  const char *op, qs_error *err)
{
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_CURVE_DEL, &st, err));
    sqlite3_bind_text(st, 1, sampler, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, repeat);
    QS_TRY(qs_study_i_run_done(s, st, op, err));
    QS_TRY(qs_study_i_prep(s, Q_CURVE_PUT, &st, err));
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, sampler, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, repeat);
        sqlite3_bind_int64(st, 3, seed);
        sqlite3_bind_int64(st, 4, (int64_t)i);
        bind_real_or_null(st, 5, value ? value[i] : NAN);
        bind_real_or_null(st, 6, best[i]);
        QS_TRY(qs_study_i_run_done(s, st, op, err));
    }
    return QS_OK;
}

qs_status qs_study_put_curve(qs_study *s, const char *sampler, int repeat, int64_t seed,
                             const double *value, const double *best, size_t n, qs_error *err)
{
    if (!sampler || !*sampler || (n && !best))
        return qs_error_set(err, QS_ERR_USAGE, "study: a curve needs a sampler name and values");
    QS_TRY(qs_study_i_lock(s, err));
    char op[160];
    snprintf(op, sizeof op, "storing the curve of %.100s repeat %d", sampler, repeat);
    qs_status res = qs_study_i_begin(s, op, err);
    if (res == QS_OK) {
        res = put_curve_locked(s, sampler, repeat, seed, value, best, n, op, err);
        res = qs_study_i_finish_tx(s, res, op, err);
    }
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_curves(qs_study *s, qs_study_curve_fn fn, void *ctx, qs_error *err)
{
    QS_TRY(qs_study_i_lock(s, err));
    sqlite3_stmt *st = NULL;
    qs_status res = qs_study_i_prep(s, Q_CURVES, &st, err);
    if (res == QS_OK) {
        int rc;
        qs_study_i_callback(s);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
                   sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                   column_real_or_nan(st, 4), column_real_or_nan(st, 5)))
                break;
        }
        qs_study_i_callback(NULL);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            res = qs_study_i_fail(s, rc, "listing curves", err);
        qs_study_i_done(st);
    }
    qs_study_i_unlock(s);
    return res;
}
