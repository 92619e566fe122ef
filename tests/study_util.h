/* Helpers shared by the study store tests (test_study.c, test_study_kill.c):
 * a scratch directory, opening, stand-in configuration hashes, trial listing. */
#ifndef QSEARCH_TEST_STUDY_UTIL_H
#define QSEARCH_TEST_STUDY_UTIL_H

#include <dirent.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/study.h"

static char tmpdir[512];

static inline void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Runs SQL directly on a file (to build foreign or damaged databases). */
static inline void raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "raw_sql: %s\n", msg ? msg : "?");
    CHECK_INT(rc, SQLITE_OK);
    sqlite3_free(msg);
    sqlite3_close(db);
}

static inline qs_study *open_ok(const char *path)
{
    qs_error err;
    qs_error_clear(&err);
    qs_study *s = NULL;
    qs_status st = qs_study_open(path, &s, &err);
    if (st != QS_OK)
        fprintf(stderr, "open %s: %s\n", path, err.msg);
    CHECK_INT(st, QS_OK);
    return s;
}

static inline void choices_of(uint64_t k, char *buf, size_t cap)
{
    snprintf(buf, cap, "[%u, %u, %u]", (unsigned)(k % 4), (unsigned)(k / 4 % 5),
             (unsigned)(k / 20));
}

/* A stand-in for the space's canonical hash: distinct per k, top bit often set. */
static inline uint64_t hash_of(uint64_t k) { return (k + 1) * 0x9E3779B97F4A7C15ull; }

static inline qs_trial_result result_complete(double v)
{
    static char values[64]; /* valid until the next call */
    snprintf(values, sizeof values, "[%.17g]", v);
    qs_trial_result r = {.state = QS_TRIAL_COMPLETE, .values_json = values,
                         .metrics_json = "{\"accuracy\": 0.5}", .duration_s = -1};
    return r;
}

/* ---- collecting trials ---- */

typedef struct {
    int n;
    int64_t number[4096];
    uint64_t hash[4096];
    qs_trial_state state[4096];
    int stale[4096];
} trial_list;

static inline int collect(void *ctx, const qs_trial_record *t)
{
    trial_list *l = ctx;
    if (l->n < 4096) {
        l->number[l->n] = t->number;
        l->hash[l->n] = t->config_hash;
        l->state[l->n] = t->state;
        l->stale[l->n] = t->stale;
        l->n++;
    }
    return 0;
}

static inline void list_trials(qs_study *s, trial_list *l)
{
    qs_error err;
    l->n = 0;
    CHECK_INT(qs_study_trials(s, collect, l, &err), QS_OK);
}

typedef struct {
    int n;
    qs_trial_record rec[8];
    char choices[8][64], values[8][64], metrics[8][64], error[8][64], host[8][64];
} full_list;

static inline int collect_full(void *ctx, const qs_trial_record *t)
{
    full_list *l = ctx;
    if (l->n >= 8)
        return 1;
    int i = l->n++;
    l->rec[i] = *t;
    snprintf(l->choices[i], 64, "%s", t->choices_json ? t->choices_json : "NULL");
    snprintf(l->values[i], 64, "%s", t->values_json ? t->values_json : "NULL");
    snprintf(l->metrics[i], 64, "%s", t->metrics_json ? t->metrics_json : "NULL");
    snprintf(l->error[i], 64, "%s", t->error ? t->error : "NULL");
    snprintf(l->host[i], 64, "%s", t->host ? t->host : "NULL");
    return 0;
}

static inline void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

/* Makes the test's scratch directory under $QS_TEST_TMP (or /tmp). */
static inline int make_tmpdir(const char *tag)
{
    const char *base = getenv("QS_TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/qs-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

#endif
