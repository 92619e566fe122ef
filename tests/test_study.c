/* Study store, one process: create/open/reopen, metadata, claim/finish/list,
 * batches, duplicate and space-mismatch refusal, bad files, samples, curves,
 * re-entrant callbacks, release and the stale rules. Concurrency and kill -9
 * are in test_study_kill.c. */
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/study.h"
#include "study_util.h"

static void test_create_reopen(void)
{
    char path[600];
    path_in(path, sizeof path, "create.db");
    qs_error err;
    qs_study *s = open_ok(path);
    if (!s)
        return;
    CHECK_STR(qs_study_path(s), path);
    qs_study_counts c;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.total, 0);
    char *v = NULL;
    CHECK_INT(qs_study_meta_get(s, "schema_version", &v, &err), QS_OK);
    CHECK_STR(v, "1");
    free(v);
    CHECK_INT(qs_study_meta_get(s, "qsearch_version", &v, &err), QS_OK);
    CHECK(v != NULL && *v);
    free(v);
    qs_study_close(s);

    s = open_ok(path);
    CHECK(s != NULL);
    qs_study_close(s);

    /* The file is WAL mode and carries our id and version. */
    sqlite3 *db;
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_INT(sqlite3_column_int64(st, 0), QS_STUDY_APPLICATION_ID);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* Read-only opening of an existing study works; full_sync opening too. */
    qs_study_options opt;
    qs_study_options_default(&opt);
    opt.readonly = 1;
    CHECK_INT(qs_study_open_ex(path, &opt, &s, &err), QS_OK);
    qs_trial_result r = result_complete(1);
    int64_t number;
    int claimed;
    CHECK(qs_study_claim(s, 1, "[0]", 0, &number, &claimed, &err) != QS_OK);
    CHECK_CONTAINS(err.msg, path);
    qs_study_close(s);
    qs_study_options_default(&opt);
    opt.full_sync = 1;
    CHECK_INT(qs_study_open_ex(path, &opt, &s, &err), QS_OK);
    CHECK_INT(qs_study_claim(s, 1, "[0]", 0, &number, &claimed, &err), QS_OK);
    CHECK_INT(qs_study_finish(s, number, &r, &err), QS_OK);
    qs_study_close(s);
    qs_study_close(NULL);
}

typedef struct {
    char keys[8][32];
    int n;
} meta_seen;

static int meta_cb(void *ctx, const char *key, const char *value)
{
    meta_seen *m = ctx;
    (void)value;
    if (m->n < 8)
        snprintf(m->keys[m->n++], sizeof m->keys[0], "%s", key);
    return 0;
}

static void test_meta_roundtrip(void)
{
    char path[600];
    path_in(path, sizeof path, "meta.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    const char *config = "[search.strategy.setup]\nn_trials = 20\nsampler = \"tpe\" # 'quoted'\n"
                         "name = \"caf\xc3\xa9\"\n";
    CHECK_INT(qs_study_meta_set(s, "config", config, &err), QS_OK);
    CHECK_INT(qs_study_meta_set(s, "model", "jsc-tiny", &err), QS_OK);
    CHECK_INT(qs_study_meta_set(s, "seed", "42", &err), QS_OK);
    CHECK_INT(qs_study_meta_set(s, "seed", "7", &err), QS_OK); /* replaces */
    CHECK_INT(qs_study_meta_set(s, "", "x", &err), QS_ERR_USAGE);
    qs_study_close(s);

    s = open_ok(path);
    if (!s)
        return;
    char *v = NULL;
    CHECK_INT(qs_study_meta_get(s, "config", &v, &err), QS_OK);
    CHECK_STR(v, config);
    free(v);
    CHECK_INT(qs_study_meta_get(s, "seed", &v, &err), QS_OK);
    CHECK_STR(v, "7");
    free(v);
    v = (char *)1;
    CHECK_INT(qs_study_meta_get(s, "absent", &v, &err), QS_OK);
    CHECK(v == NULL);
    meta_seen m = {.n = 0};
    CHECK_INT(qs_study_meta_list(s, meta_cb, &m, &err), QS_OK);
    /* created_at, qsearch_version, schema_version are written at creation. */
    CHECK_INT(m.n, 6);
    CHECK_STR(m.keys[0], "config");
    CHECK_STR(m.keys[1], "created_at");
    CHECK_STR(m.keys[2], "model");
    qs_study_close(s);
}

static void test_claim_finish_list(void)
{
    char path[600];
    path_in(path, sizeof path, "claim.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    int64_t n[4];
    int claimed;
    const uint64_t big = 0xFEDCBA9876543210ull; /* above INT64_MAX: stored as its bit pattern */
    CHECK_INT(qs_study_claim(s, big, "[2, 1, 0]", 0, &n[0], &claimed, &err), QS_OK);
    CHECK_INT(claimed, 1);
    CHECK_INT(qs_study_claim(s, 2, "[0, 0, 1]", 1, &n[1], &claimed, &err), QS_OK);
    CHECK_INT(qs_study_claim(s, 3, "[1, 0, 1]", 0, &n[2], &claimed, &err), QS_OK);
    CHECK_INT(qs_study_claim(s, 4, "[1, 1, 1]", 1, &n[3], &claimed, &err), QS_OK);
    CHECK_INT(n[0], 0);
    CHECK_INT(n[3], 3);

    qs_trial_result r = {.state = QS_TRIAL_COMPLETE, .values_json = "[0.75, 3.5]",
                         .metrics_json = "{\"accuracy\": 0.75, \"latency\": {\"median_ns\": 812}}",
                         .constraints_json = "[-0.01]", .has_seed = 1, .seed = 1234,
                         .duration_s = 0.25};
    CHECK_INT(qs_study_finish(s, n[0], &r, &err), QS_OK);
    qs_trial_result pr = {.state = QS_TRIAL_PRUNED, .error = "model_size_bits 900 > 800",
                          .duration_s = -1};
    CHECK_INT(qs_study_finish(s, n[1], &pr, &err), QS_OK);
    qs_trial_result fr = {.state = QS_TRIAL_FAILED, .error = "q.toml: bad width", .duration_s = -1};
    CHECK_INT(qs_study_finish(s, n[2], &fr, &err), QS_OK);
    qs_study_close(s);

    s = open_ok(path); /* n[3] stays running: this process is alive */
    if (!s)
        return;
    full_list l = {.n = 0};
    CHECK_INT(qs_study_trials(s, collect_full, &l, &err), QS_OK);
    CHECK_INT(l.n, 4);
    CHECK(l.rec[0].config_hash == big);
    CHECK_STR(l.choices[0], "[2, 1, 0]");
    CHECK_INT(l.rec[0].state, QS_TRIAL_COMPLETE);
    CHECK_STR(l.values[0], "[0.75, 3.5]");
    CHECK_CONTAINS(l.metrics[0], "median_ns");
    CHECK_INT(l.rec[0].has_seed, 1);
    CHECK_INT(l.rec[0].seed, 1234);
    CHECK_NEAR(l.rec[0].duration_s, 0.25, 1e-12);
    CHECK_INT(l.rec[0].pid, getpid());
    CHECK(strcmp(l.host[0], "NULL") != 0);
    CHECK(l.rec[0].finished_at >= l.rec[0].started_at);
    CHECK(l.rec[0].started_at > 1.6e9);
    CHECK_INT(l.rec[1].state, QS_TRIAL_PRUNED);
    CHECK_INT(l.rec[1].worker, 1);
    CHECK_STR(l.error[1], "model_size_bits 900 > 800");
    CHECK(l.rec[1].duration_s >= 0 && l.rec[1].duration_s < 60);
    CHECK_INT(l.rec[2].state, QS_TRIAL_FAILED);
    CHECK_INT(l.rec[2].stale, 0);
    CHECK_INT(l.rec[3].state, QS_TRIAL_RUNNING);
    CHECK(isnan(l.rec[3].finished_at));
    CHECK_STR(l.values[3], "NULL");

    int found = 0;
    l.n = 0;
    CHECK_INT(qs_study_trial(s, 2, collect_full, &l, &found, &err), QS_OK);
    CHECK_INT(found, 1);
    CHECK_INT(l.rec[0].number, 2);
    CHECK_INT(qs_study_trial(s, 99, collect_full, &l, &found, &err), QS_OK);
    CHECK_INT(found, 0);

    qs_study_counts c;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.complete, 1);
    CHECK_INT(c.pruned, 1);
    CHECK_INT(c.failed, 1);
    CHECK_INT(c.running, 1);
    CHECK_INT(c.stale, 0);
    CHECK_INT(c.total, 4);
    qs_study_close(s);
}

static void test_duplicate_refused(void)
{
    char path[600];
    path_in(path, sizeof path, "dup.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    int64_t a, b;
    int claimed;
    CHECK_INT(qs_study_claim(s, 77, "[1, 2]", 0, &a, &claimed, &err), QS_OK);
    CHECK_INT(claimed, 1);
    /* Running: refused, the existing number is returned. */
    CHECK_INT(qs_study_claim(s, 77, "[1,2]", 1, &b, &claimed, &err), QS_OK);
    CHECK_INT(claimed, 0);
    CHECK_INT(b, a);
    qs_trial_result r = result_complete(0.5);
    CHECK_INT(qs_study_finish(s, a, &r, &err), QS_OK);
    /* Finished (also after reopening): still refused. */
    qs_study_close(s);
    s = open_ok(path);
    if (!s)
        return;
    CHECK_INT(qs_study_claim(s, 77, "[1, 2]", 0, &b, &claimed, &err), QS_OK);
    CHECK_INT(claimed, 0);
    CHECK_INT(b, a);
    /* A failed (not stale) trial is not retried either. */
    CHECK_INT(qs_study_claim(s, 78, "[0, 2]", 0, &a, &claimed, &err), QS_OK);
    qs_trial_result fr = {.state = QS_TRIAL_FAILED, .error = "boom", .duration_s = -1};
    CHECK_INT(qs_study_finish(s, a, &fr, &err), QS_OK);
    CHECK_INT(qs_study_claim(s, 78, "[0, 2]", 0, &b, &claimed, &err), QS_OK);
    CHECK_INT(claimed, 0);
    /* Same hash, other choices: a hash bug, reported. */
    CHECK_INT(qs_study_claim(s, 77, "[2, 1]", 0, &b, &claimed, &err), QS_ERR_INTERNAL);
    CHECK_CONTAINS(err.msg, "hash collision");
    CHECK_INT(claimed, 0);
    /* Choices must be a JSON array. */
    CHECK_INT(qs_study_claim(s, 79, "{\"a\": 1}", 0, &b, &claimed, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "JSON array");
    CHECK_INT(qs_study_claim(s, 79, "[1, 2", 0, &b, &claimed, &err), QS_ERR_USAGE);
    qs_study_counts c;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.total, 2);
    qs_study_close(s);
}

static void test_batches(void)
{
    char path[600];
    path_in(path, sizeof path, "batch.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    uint64_t h[4] = {hash_of(0), hash_of(1), hash_of(0), hash_of(2)};
    const char *c[4] = {"[0]", "[1]", "[0]", "[2]"};
    int64_t num[4];
    int claimed[4];
    CHECK_INT(qs_study_claim_many(s, 4, h, c, 3, num, claimed, &err), QS_OK);
    CHECK_INT(claimed[0] + claimed[1] + claimed[2] + claimed[3], 3);
    CHECK_INT(claimed[2], 0); /* the same configuration twice in one batch */
    CHECK_INT(num[2], num[0]);
    CHECK_INT(num[3], 2);
    /* A bad entry rolls the whole batch back. */
    uint64_t h2[2] = {hash_of(7), hash_of(8)};
    const char *c2[2] = {"[7]", "{}"};
    CHECK_INT(qs_study_claim_many(s, 2, h2, c2, 0, num, claimed, &err), QS_ERR_USAGE);
    CHECK_INT(claimed[0], 0);
    qs_trial_result r[3] = {result_complete(1), result_complete(2), result_complete(3)};
    int64_t fin[3] = {0, 1, 7};
    CHECK_INT(qs_study_finish_many(s, 3, fin, r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "no trial 7");
    qs_study_counts cnt;
    CHECK_INT(qs_study_count(s, &cnt, &err), QS_OK);
    CHECK_INT(cnt.running, 3); /* all or nothing */
    CHECK_INT(cnt.total, 3);
    fin[2] = 2;
    CHECK_INT(qs_study_finish_many(s, 3, fin, r, &err), QS_OK);
    CHECK_INT(qs_study_count(s, &cnt, &err), QS_OK);
    CHECK_INT(cnt.complete, 3);
    qs_study_close(s);
}

static void test_finish_errors(void)
{
    char path[600];
    path_in(path, sizeof path, "finish.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    int64_t a;
    int claimed;
    CHECK_INT(qs_study_claim(s, 5, "[0]", 0, &a, &claimed, &err), QS_OK);
    qs_trial_result bad = result_complete(1);
    bad.values_json = "{\"acc\": 1}";
    CHECK_INT(qs_study_finish(s, a, &bad, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "objective values is not a JSON array");
    bad = result_complete(1);
    bad.metrics_json = "[1]";
    CHECK_INT(qs_study_finish(s, a, &bad, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "metrics");
    bad = result_complete(1);
    bad.state = QS_TRIAL_RUNNING;
    CHECK_INT(qs_study_finish(s, a, &bad, &err), QS_ERR_USAGE);
    qs_trial_result r = result_complete(1);
    CHECK_INT(qs_study_finish(s, a, &r, &err), QS_OK);
    CHECK_INT(qs_study_finish(s, a, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "is not running (state complete)");
    CHECK_CONTAINS(err.msg, path);
    CHECK_INT(qs_study_finish(s, 42, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "no trial 42");
    CHECK_INT(qs_study_heartbeat(s, a, &err), QS_ERR_USAGE);
    qs_study_close(s);
}

static void test_space_mismatch(void)
{
    char path[600];
    path_in(path, sizeof path, "space.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    const char *space = "{\"seq_blocks_2/config/weight_width\": [2, 4, 8]}";
    CHECK_INT(qs_study_bind_space(s, "sha1:abc", space, &err), QS_OK);
    CHECK_INT(qs_study_bind_space(s, "sha1:abc", space, &err), QS_OK);
    CHECK_INT(qs_study_bind_space(s, "sha1:def", NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, "another search space");
    CHECK_CONTAINS(err.msg, "sha1:abc");
    qs_study_close(s);
    s = open_ok(path);
    if (!s)
        return;
    CHECK_INT(qs_study_bind_space(s, "sha1:def", NULL, &err), QS_ERR_INPUT);
    char *v = NULL;
    CHECK_INT(qs_study_meta_get(s, "space", &v, &err), QS_OK);
    CHECK_STR(v, space);
    free(v);
    CHECK_INT(qs_study_meta_get(s, "space_signature", &v, &err), QS_OK);
    CHECK_STR(v, "sha1:abc");
    free(v);
    qs_study_close(s);
}

static void expect_open_fails(const char *path, int readonly, const char *needle)
{
    qs_study_options opt;
    qs_study_options_default(&opt);
    opt.readonly = readonly;
    qs_error err;
    qs_error_clear(&err);
    qs_study *s = (qs_study *)1;
    CHECK_INT(qs_study_open_ex(path, &opt, &s, &err), QS_ERR_INPUT);
    CHECK(s == NULL);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, needle);
}

static void test_bad_files(void)
{
    char path[600], wal[640];
    path_in(path, sizeof path, "text.db");
    write_file(path, "letter,x-box,y-box\nT,2,8\nI,5,12\nD,4,11\nN,7,11\nG,2,1\nS,4,11\n"
                     "this is certainly not an SQLite file, just some text for the header\n");
    expect_open_fails(path, 0, "not an SQLite database");

    path_in(path, sizeof path, "foreign.db");
    raw_sql(path, "CREATE TABLE studies(id INTEGER PRIMARY KEY, name TEXT);");
    expect_open_fails(path, 0, "not a qsearch study");
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat sb;
    CHECK(stat(wal, &sb) != 0); /* the foreign file was not switched to WAL */

    path_in(path, sizeof path, "future.db");
    qs_study *s = open_ok(path);
    qs_study_close(s);
    raw_sql(path, "PRAGMA user_version = 99;");
    expect_open_fails(path, 0, "schema version 99");

    path_in(path, sizeof path, "missing.db");
    expect_open_fails(path, 1, "unable to open");
    CHECK(stat(path, &sb) != 0); /* read-only opening never creates */

    path_in(path, sizeof path, "empty.db");
    write_file(path, "");
    expect_open_fails(path, 1, "not a qsearch study");
    s = open_ok(path); /* an empty file becomes a study when opened for writing */
    qs_study_close(s);

    path_in(path, sizeof path, "no-such-dir/x.db");
    expect_open_fails(path, 0, "unable to open");
}

static void test_samples(void)
{
    char path[600];
    path_in(path, sizeof path, "samples.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    int64_t a;
    int claimed, found;
    CHECK_INT(qs_study_claim(s, 9, "[0]", 0, &a, &claimed, &err), QS_OK);
    const double lat[5] = {812.5, 790.0, -0.0, 1e300, 815.25};
    const int64_t ns[3] = {812, INT64_C(1) << 52, -3};
    CHECK_INT(qs_study_put_samples_f64(s, a, "latency_ns", lat, 5, &err), QS_OK);
    CHECK_INT(qs_study_put_samples_i64(s, a, "raw_ns", ns, 3, &err), QS_OK);
    CHECK_INT(qs_study_put_samples_f64(s, a, "empty", NULL, 0, &err), QS_OK);
    double *v = NULL;
    size_t n = 0;
    CHECK_INT(qs_study_get_samples(s, a, "latency_ns", &v, &n, &found, &err), QS_OK);
    CHECK_INT(found, 1);
    CHECK_INT(n, 5);
    for (size_t i = 0; v && i < 5 && i < n; i++)
        CHECK(memcmp(&v[i], &lat[i], sizeof(double)) == 0);
    free(v);
    CHECK_INT(qs_study_get_samples(s, a, "raw_ns", &v, &n, &found, &err), QS_OK);
    CHECK_INT(n, 3);
    if (v && n == 3) {
        CHECK_NEAR(v[0], 812, 0);
        CHECK_NEAR(v[1], 4503599627370496.0, 0);
        CHECK_NEAR(v[2], -3, 0);
    }
    free(v);
    CHECK_INT(qs_study_get_samples(s, a, "empty", &v, &n, &found, &err), QS_OK);
    CHECK_INT(found, 1);
    CHECK_INT(n, 0);
    CHECK(v == NULL);
    CHECK_INT(qs_study_get_samples(s, a, "absent", &v, &n, &found, &err), QS_OK);
    CHECK_INT(found, 0);
    /* Replacing keeps one row per (trial, name). */
    CHECK_INT(qs_study_put_samples_f64(s, a, "latency_ns", lat, 2, &err), QS_OK);
    CHECK_INT(qs_study_get_samples(s, a, "latency_ns", &v, &n, &found, &err), QS_OK);
    CHECK_INT(n, 2);
    free(v);
    /* No such trial: refused by the foreign key. */
    CHECK(qs_study_put_samples_f64(s, 1000, "latency_ns", lat, 2, &err) != QS_OK);
    CHECK_CONTAINS(err.msg, "trial 1000");
    qs_study_close(s);
    /* A damaged blob is reported, not read past its end. */
    raw_sql(path, "UPDATE trial_samples SET data = x'0102' WHERE name = 'latency_ns';");
    s = open_ok(path);
    if (!s)
        return;
    CHECK_INT(qs_study_get_samples(s, a, "latency_ns", &v, &n, &found, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "blob of 2 bytes, expected 8 x 2");
    CHECK_CONTAINS(err.msg, path);
    qs_study_close(s);
}

typedef struct {
    int n;
    char sampler[16][16];
    int repeat[16];
    int64_t index[16];
    double value[16], best[16];
} curve_list;

static int curve_cb(void *ctx, const char *sampler, int repeat, int64_t seed, int64_t trial_index,
                    double value, double best)
{
    curve_list *l = ctx;
    (void)seed;
    if (l->n >= 16)
        return 1;
    snprintf(l->sampler[l->n], 16, "%s", sampler);
    l->repeat[l->n] = repeat;
    l->index[l->n] = trial_index;
    l->value[l->n] = value;
    l->best[l->n] = best;
    l->n++;
    return 0;
}

static void test_curves(void)
{
    char path[600];
    path_in(path, sizeof path, "curves.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    const double value[3] = {NAN, 0.5, 0.4}, best[3] = {NAN, 0.5, 0.5};
    const double best2[2] = {0.1, 0.7};
    CHECK_INT(qs_study_put_curve(s, "tpe", 1, 11, value, best, 3, &err), QS_OK);
    CHECK_INT(qs_study_put_curve(s, "tpe", 0, 10, NULL, best2, 2, &err), QS_OK);
    CHECK_INT(qs_study_put_curve(s, "random", 0, 10, NULL, best2, 1, &err), QS_OK);
    CHECK_INT(qs_study_put_curve(s, "random", 0, 10, NULL, best2, 2, &err), QS_OK); /* replaces */
    curve_list l = {.n = 0};
    CHECK_INT(qs_study_curves(s, curve_cb, &l, &err), QS_OK);
    CHECK_INT(l.n, 7);
    CHECK_STR(l.sampler[0], "random");
    CHECK_STR(l.sampler[2], "tpe");
    CHECK_INT(l.repeat[2], 0);
    CHECK_INT(l.repeat[4], 1);
    CHECK_INT(l.index[4], 0);
    CHECK(isnan(l.value[4]) && isnan(l.best[4]));
    CHECK_NEAR(l.best[6], 0.5, 0);
    CHECK_NEAR(l.value[6], 0.4, 0);
    CHECK(isnan(l.value[0]));
    qs_study_close(s);
}

static int reenter_cb(void *ctx, const qs_trial_record *t)
{
    qs_study *s = ctx;
    qs_error err;
    qs_study_counts c;
    (void)t;
    CHECK_INT(qs_study_count(s, &c, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "callback");
    return 1;
}

static void test_reentrant_callback_refused(void)
{
    char path[600];
    path_in(path, sizeof path, "reenter.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    int64_t a;
    int claimed;
    CHECK_INT(qs_study_claim(s, 1, "[0]", 0, &a, &claimed, &err), QS_OK);
    CHECK_INT(qs_study_trials(s, reenter_cb, s, &err), QS_OK);
    qs_study_counts c;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK); /* usable again afterwards */
    CHECK_INT(c.running, 1);
    qs_study_close(s);
}

static void test_release_and_stale_rules(void)
{
    char path[600];
    path_in(path, sizeof path, "release.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    int64_t a, b;
    int claimed;
    CHECK_INT(qs_study_claim(s, 21, "[3]", 0, &a, &claimed, &err), QS_OK);
    CHECK_INT(qs_study_heartbeat(s, a, &err), QS_OK);
    CHECK_INT(qs_study_release(s, a, "interrupted", &err), QS_OK);
    CHECK_INT(qs_study_release(s, a, "again", &err), QS_ERR_USAGE);
    CHECK_INT(qs_study_claim(s, 21, "[3]", 0, &b, &claimed, &err), QS_OK);
    CHECK_INT(claimed, 1);
    CHECK_INT(b, a + 1);
    /* The released trial can no longer be finished. */
    qs_trial_result r = result_complete(2);
    CHECK_INT(qs_study_finish(s, a, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "stale");
    qs_study_close(s);

    /* Trials of another host: only the heartbeat rule applies (10: silent since 2001,
     * 11: fresh); our own running trial b is judged by its pid alone. */
    raw_sql(path, "INSERT INTO trials(number, config_hash, choices, state, worker, pid, host, "
                  "started_at, heartbeat_at) VALUES "
                  "(10, 500, '[5]', 'running', 0, 1, 'some-other-host', 1e9, 1e9), "
                  "(11, 501, '[6]', 'running', 0, 1, 'some-other-host', 1e9, "
                  "CAST(strftime('%s', 'now') AS REAL)); "
                  "UPDATE trials SET heartbeat_at = 1e9 WHERE number = 1;");
    qs_study_options opt;
    qs_study_options_default(&opt);
    opt.stale_after_s = 0;
    CHECK_INT(qs_study_open_ex(path, &opt, &s, &err), QS_OK);
    if (!s)
        return;
    qs_study_counts c;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.running, 3);
    int64_t marked = -1;
    CHECK_INT(qs_study_recover_stale(s, 0, &marked, &err), QS_OK);
    CHECK_INT(marked, 0);
    qs_study_close(s);
    s = open_ok(path); /* default: 600 s without a heartbeat */
    if (!s)
        return;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.running, 2);
    CHECK_INT(c.stale, 2);
    full_list l = {.n = 0};
    int found;
    CHECK_INT(qs_study_trial(s, 10, collect_full, &l, &found, &err), QS_OK);
    CHECK_CONTAINS(l.error[0], "no heartbeat");
    CHECK_CONTAINS(l.error[0], "some-other-host");
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    CHECK_INT(qs_study_recover_stale(s, 0.01, &marked, &err), QS_OK);
    CHECK_INT(marked, 1); /* 11; never b, whose process (this one) is alive */
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.running, 1);
    qs_study_close(s);
}

/* A running trial whose pid is alive but belongs to another process now (its
 * start time differs) is stale; this process's own trial is not. */
static void test_pid_reuse_detected(void)
{
    char path[600], host[256] = "", sql[1024];
    path_in(path, sizeof path, "reuse.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    qs_error err;
    int64_t a;
    int claimed;
    CHECK_INT(qs_study_claim(s, 1, "[1]", 0, &a, &claimed, &err), QS_OK);
    qs_study_close(s);
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return; /* no /proc: the start-time rule does not apply */
    fclose(f);
    gethostname(host, sizeof host - 1);
    snprintf(sql, sizeof sql,
             "INSERT INTO trials(number, config_hash, choices, state, worker, pid, pid_start, "
             "host, started_at, heartbeat_at) VALUES (1, 2, '[2]', 'running', 0, %lld, 1, '%s', "
             "1e9, 1e9);",
             (long long)getpid(), host);
    raw_sql(path, sql);
    s = open_ok(path);
    if (!s)
        return;
    qs_study_counts c;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.running, 1);
    CHECK_INT(c.stale, 1);
    full_list l = {.n = 0};
    int found;
    CHECK_INT(qs_study_trial(s, 1, collect_full, &l, &found, &err), QS_OK);
    CHECK_INT(l.rec[0].stale, 1);
    CHECK_INT(qs_study_trial(s, a, collect_full, &l, &found, &err), QS_OK);
    CHECK_INT(l.rec[1].state, QS_TRIAL_RUNNING);
    qs_study_close(s);
}

int main(void)
{
    if (make_tmpdir("study") != 0)
        return 1;
    RUN(test_create_reopen);
    RUN(test_meta_roundtrip);
    RUN(test_claim_finish_list);
    RUN(test_duplicate_refused);
    RUN(test_batches);
    RUN(test_finish_errors);
    RUN(test_space_mismatch);
    RUN(test_bad_files);
    RUN(test_samples);
    RUN(test_curves);
    RUN(test_reentrant_callback_refused);
    RUN(test_release_and_stale_rules);
    RUN(test_pid_reuse_detected);
    remove_tmpdir();
    return qs_test_summary();
}
