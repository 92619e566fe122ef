/* compare: quantiles and "trials to within" on hand examples, the objective
 * table (missing configurations, optimum, constraints, size limit), replays
 * (bruteforce order, no repeats when skipping, repeats when counting, same seed
 * same curve), the summary over repeats against a direct computation, curves
 * stored in a study, and the output files. The CLI and the match with a real
 * search are in test_compare.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/compare.h"

/* A table over nc[np] whose value is f(index); no constraints. */
static void make_table(qs_compare_table *t, size_t np, const uint32_t *nc, double (*f)(uint64_t), qs_direction d)
{
    qs_error err;
    CHECK_INT(qs_compare_table_init(t, np, nc, d, 0, 1000000, &err), QS_OK);
    qs_sampler_space sp = {np, NULL, nc};
    uint32_t c[16];
    for (uint64_t i = 0; i < t->size; i++) {
        CHECK_INT(qs_sampler_config_at(&sp, false, i, c, &err), QS_OK);
        CHECK_INT(qs_compare_table_set(t, c, QS_SAMPLER_COMPLETE, f(i), NULL, &err), QS_OK);
    }
    CHECK_INT(qs_compare_table_finish(t, &err), QS_OK);
}

static double f_index(uint64_t i) { return (double)i; }

/* A bumpy objective with one optimum: ((i * 37) mod size) / size. */
static double f_bumpy(uint64_t i) { return (double)((i * 37) % 360) / 360.0; }

static void test_quantile(void)
{
    const double a[4] = {1, 2, 3, 4};
    CHECK_NEAR(qs_compare_quantile(a, 4, 0.5), 2.5, 1e-12);
    CHECK_NEAR(qs_compare_quantile(a, 4, 0.25), 1.75, 1e-12);
    CHECK_NEAR(qs_compare_quantile(a, 4, 0.75), 3.25, 1e-12);
    CHECK_NEAR(qs_compare_quantile(a, 4, 0.0), 1, 0);
    CHECK_NEAR(qs_compare_quantile(a, 4, 1.0), 4, 0);
    CHECK_NEAR(qs_compare_quantile(a, 1, 0.5), 1, 0);
    CHECK(isnan(qs_compare_quantile(a, 0, 0.5)));
    /* never reached = inf: the median is inf once it touches one */
    const double b[4] = {10, 20, INFINITY, INFINITY};
    CHECK(isinf(qs_compare_quantile(b, 4, 0.5)));
    CHECK_NEAR(qs_compare_quantile(b, 4, 0.25), 17.5, 1e-12);
    const double c[5] = {10, 20, 30, INFINITY, INFINITY};
    CHECK_NEAR(qs_compare_quantile(c, 5, 0.5), 30, 0); /* exactly on the third */
    CHECK(isinf(qs_compare_quantile(c, 5, 0.75)));
}

static void test_within(void)
{
    const double best[5] = {NAN, 0.50, 0.60, 0.62, 0.63};
    CHECK_INT(qs_compare_trials_to_within(best, 5, 0.628, 0.01), 5);  /* 0.62 is 0.008 away, tol 0.00628 */
    CHECK_INT(qs_compare_trials_to_within(best, 5, 0.628, 0.02), 4);  /* tol 0.01256 */
    CHECK_INT(qs_compare_trials_to_within(best, 4, 0.628, 0.01), 0);  /* never */
    const double neg[3] = {-0.7, -0.504, -0.5};                       /* minimised loss-like */
    CHECK_INT(qs_compare_trials_to_within(neg, 3, -0.5, 0.01), 2);
    const double exact[2] = {0.1, 0.0};
    CHECK_INT(qs_compare_trials_to_within(exact, 2, 0.0, 0.01), 2);   /* optimum 0: exact only */
}

static void test_table(void)
{
    qs_error err;
    qs_compare_table t;
    const uint32_t nc[2] = {3, 4};
    CHECK_INT(qs_compare_table_init(&t, 2, nc, QS_MAXIMIZE, 1, 11, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "more than 11 configurations");
    CHECK_INT(qs_compare_table_init(&t, 2, nc, QS_MAXIMIZE, 1, 12, &err), QS_OK);
    CHECK_INT(t.size, 12);
    const uint32_t c0[2] = {0, 0}, c1[2] = {2, 3}, c2[2] = {1, 1}, bad[2] = {3, 0};
    const double ok = -1, viol = 0.5;
    CHECK_INT(qs_compare_table_set(&t, bad, QS_SAMPLER_COMPLETE, 1, &ok, &err), QS_ERR_INPUT);
    CHECK_INT(qs_compare_table_set(&t, c0, QS_SAMPLER_COMPLETE, 0.2, &ok, &err), QS_OK);
    CHECK_INT(qs_compare_table_set(&t, c1, QS_SAMPLER_COMPLETE, 0.9, &viol, &err), QS_OK); /* infeasible */
    CHECK_INT(qs_compare_table_set(&t, c2, QS_SAMPLER_PRUNED, 5.0, &viol, &err), QS_OK);
    CHECK_INT(qs_compare_table_finish(&t, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "lacks 9 of 12 configurations");
    qs_sampler_space sp = {2, NULL, nc};
    uint32_t c[2];
    for (uint64_t i = 0; i < 12; i++) {
        qs_sampler_config_at(&sp, false, i, c, &err);
        if (!t.filled[i])
            CHECK_INT(qs_compare_table_set(&t, c, i == 7 ? QS_SAMPLER_FAILED : QS_SAMPLER_COMPLETE, 0.1 * (double)i / 12,
                                           &ok, &err), QS_OK);
    }
    CHECK_INT(qs_compare_table_finish(&t, &err), QS_OK);
    CHECK(!qs_compare_table_feasible(&t, 11)); /* 0.9 but violates */
    CHECK(!qs_compare_table_feasible(&t, 5));  /* pruned */
    CHECK(!qs_compare_table_feasible(&t, 7));  /* failed */
    CHECK(isnan(t.value[5]) && isnan(t.value[7]));
    CHECK_INT(t.optimum_index, 0);             /* 0.2 beats 0.1 * i / 12 for every other feasible i */
    CHECK_NEAR(t.optimum, 0.2, 0);
    /* replay: the infeasible 0.9 never becomes the best */
    double v[12], b[12];
    CHECK_INT(qs_compare_replay(&t, QS_SAMPLER_BRUTEFORCE, 0, 12, 0, v, b, NULL, &err), QS_OK);
    CHECK_NEAR(b[11], 0.2, 0);
    CHECK(isnan(v[5]) && isnan(v[7]) && isnan(v[11]));
    /* TPE copes with pruned, failed and infeasible rows (constraints go to the sampler) */
    CHECK_INT(qs_compare_replay(&t, QS_SAMPLER_TPE, 3, 12, 0, v, b, NULL, &err), QS_OK);
    CHECK_NEAR(b[11], 0.2, 0); /* 12 distinct trials on 12 configurations: all seen */
    qs_compare_table_free(&t);
    qs_compare_table_free(NULL);
    CHECK_INT(qs_compare_table_init(&t, 0, nc, QS_MAXIMIZE, 0, 12, &err), QS_ERR_INPUT);
}

static void test_replay(void)
{
    qs_error err;
    qs_compare_table t;
    const uint32_t nc[3] = {3, 4, 5}; /* 60 configurations, value = index */
    make_table(&t, 3, nc, f_index, QS_MAXIMIZE);
    double v[80], b[80];
    /* bruteforce: bruteforce order, then exhausted: values NAN, best carried */
    CHECK_INT(qs_compare_replay(&t, QS_SAMPLER_BRUTEFORCE, 9, 80, 0, v, b, NULL, &err), QS_OK);
    int order_ok = 1;
    for (int i = 0; i < 60; i++)
        order_ok &= v[i] == i && b[i] == i;
    CHECK(order_ok);
    CHECK(isnan(v[60]) && isnan(v[79]) && b[79] == 59);
    /* random, skipping duplicates: the first 60 trials are all 60 configurations */
    for (int kind = QS_SAMPLER_RANDOM; kind <= QS_SAMPLER_NSGAII; kind++) {
        CHECK_INT(qs_compare_replay(&t, (qs_sampler_kind)kind, 5, 80, 0, v, b, NULL, &err), QS_OK);
        unsigned char seen[60] = {0};
        int distinct = 1, mono = 1;
        for (int i = 0; i < 60; i++) {
            distinct &= !seen[(int)v[i]];
            seen[(int)v[i]] = 1;
            mono &= i == 0 || b[i] >= b[i - 1];
        }
        CHECK(distinct && mono);
        CHECK(b[59] == 59 && isnan(v[60]));
    }
    /* random repeats itself on 60 configurations: skipping replaces those proposals */
    qs_compare_dup_stats d = {99, 99, 99, 99};
    CHECK_INT(qs_compare_replay(&t, QS_SAMPLER_RANDOM, 5, 60, 0, v, b, &d, &err), QS_OK);
    CHECK(d.duplicates > 0 && d.by_repeat <= d.duplicates);
    /* counting duplicates: the repeats are trials */
    CHECK_INT(qs_compare_replay(&t, QS_SAMPLER_RANDOM, 5, 80, 1, v, b, &d, &err), QS_OK);
    CHECK_INT(d.duplicates, 0);
    unsigned char seen[60] = {0};
    int repeats = 0;
    for (int i = 0; i < 80; i++) {
        repeats += seen[(int)v[i]];
        seen[(int)v[i]] = 1;
    }
    CHECK(repeats > 0);
    /* same seed, same curve; another seed, another one */
    double v2[80], b2[80];
    for (int kind = QS_SAMPLER_RANDOM; kind <= QS_SAMPLER_NSGAII; kind++) {
        CHECK_INT(qs_compare_replay(&t, (qs_sampler_kind)kind, 11, 40, 0, v, b, NULL, &err), QS_OK);
        CHECK_INT(qs_compare_replay(&t, (qs_sampler_kind)kind, 11, 40, 0, v2, b2, NULL, &err), QS_OK);
        CHECK(memcmp(v, v2, 40 * sizeof *v) == 0 && memcmp(b, b2, 40 * sizeof *b) == 0);
        CHECK_INT(qs_compare_replay(&t, (qs_sampler_kind)kind, 12, 40, 0, v2, b2, NULL, &err), QS_OK);
        CHECK(memcmp(v, v2, 40 * sizeof *v) != 0);
    }
    qs_compare_table_free(&t);
}

typedef struct {
    size_t n, mismatch;
    const qs_compare_result *r;
} curve_count;

static int count_curve(void *ctx, const char *sampler, int repeat, int64_t seed, int64_t i, double value, double best)
{
    curve_count *c = ctx;
    c->n++;
    for (size_t k = 0; k < c->r->n_samplers; k++)
        if (!strcmp(sampler, qs_sampler_kind_name(c->r->s[k].kind))) {
            size_t at = (size_t)repeat * c->r->opt.n_trials + (size_t)i;
            c->mismatch += c->r->s[k].best[at] != best || c->r->s[k].value[at] != value ||
                           seed != (int64_t)(c->r->opt.seed + (uint64_t)repeat);
            return 0;
        }
    c->mismatch++;
    return 0;
}

static long count_lines(const char *dir, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    long n = 0;
    for (int ch; (ch = fgetc(f)) != EOF;)
        n += ch == '\n';
    fclose(f);
    return n;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_run_summary(void)
{
    qs_error err;
    qs_compare_table t;
    const uint32_t nc[3] = {6, 6, 10}; /* 360 configurations */
    make_table(&t, 3, nc, f_bumpy, QS_MAXIMIZE);
    const qs_sampler_kind kinds[3] = {QS_SAMPLER_RANDOM, QS_SAMPLER_TPE, QS_SAMPLER_BRUTEFORCE};
    qs_compare_options o = {.n_samplers = 3, .samplers = kinds, .repeats = 7, .n_trials = 50, .seed = 100,
                            .count_duplicates = 0, .rel = 0.01};
    qs_compare_result r;
    CHECK_INT(qs_compare_run(&t, &o, &r, &err), QS_OK);
    CHECK_INT(r.n_samplers, 3);
    CHECK_NEAR(r.optimum, 359.0 / 360, 1e-12);
    for (size_t k = 0; k < 3; k++) {
        const qs_compare_sampler *s = &r.s[k];
        CHECK_INT(s->kind, kinds[k]);
        /* each repeat is the replay with seed 100 + rep */
        double v[50], b[50];
        qs_compare_replay(&t, kinds[k], 100 + 3, 50, 0, v, b, NULL, &err);
        CHECK(memcmp(b, s->best + 3 * 50, sizeof b) == 0);
        /* median and quartiles at trial 30 computed directly */
        double x[7];
        for (int rep = 0; rep < 7; rep++)
            x[rep] = s->best[rep * 50 + 29];
        qsort(x, 7, sizeof *x, cmp_d);
        CHECK_NEAR(s->median[29], x[3], 0);
        CHECK_NEAR(s->q1[29], x[1] + 0.5 * (x[2] - x[1]), 1e-15);
        CHECK_NEAR(s->q3[29], x[4] + 0.5 * (x[5] - x[4]), 1e-15);
        /* within counts agree with the curves */
        size_t never = 0;
        for (int rep = 0; rep < 7; rep++) {
            size_t w = qs_compare_trials_to_within(s->best + rep * 50, 50, r.optimum, 0.01);
            CHECK_INT(s->within[rep], w);
            never += w == 0;
        }
        CHECK_INT(s->never, never);
    }
    /* bruteforce reaches index 349 + ... only after 50 trials: never within in 50 */
    CHECK_INT(r.s[2].never, 7);
    CHECK(isinf(r.s[2].within_median));
    /* curves into a study: every repeat of every sampler, trial by trial */
    char path[] = "/tmp/qs_test_compare_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    qs_study *st = NULL;
    CHECK_INT(qs_study_open(path, &st, &err), QS_OK);
    CHECK_INT(qs_compare_store_curves(&r, st, &err), QS_OK);
    curve_count c = {0, 0, &r};
    CHECK_INT(qs_study_curves(st, count_curve, &c, &err), QS_OK);
    CHECK_INT(c.n, 3 * 7 * 50);
    CHECK_INT(c.mismatch, 0);
    qs_study_close(st);
    /* output files */
    char dir[64];
    snprintf(dir, sizeof dir, "%s.d", path);
    CHECK_INT(qs_compare_write_outputs(&r, &t, NULL, dir, &err), QS_OK);
    CHECK_INT(count_lines(dir, "curves.csv"), 1 + 3 * 50);
    CHECK_INT(count_lines(dir, "runs.csv"), 1 + 3 * 7 * 50);
    CHECK_INT(count_lines(dir, "within.csv"), 1 + 3 * 7);
    CHECK_INT(count_lines(dir, "table.csv"), 1 + 360);
    CHECK(count_lines(dir, "compare.json") > 10);
    const char *names[] = {"curves.csv", "runs.csv", "within.csv", "table.csv", "compare.json"};
    for (size_t i = 0; i < 5; i++) {
        char f[128];
        snprintf(f, sizeof f, "%s/%s", dir, names[i]);
        unlink(f);
    }
    rmdir(dir);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char f[128];
        snprintf(f, sizeof f, "%s%s", path, sfx[i]);
        unlink(f);
    }
    qs_compare_result_free(&r);
    /* bad options */
    o.repeats = 0;
    CHECK_INT(qs_compare_run(&t, &o, &r, &err), QS_ERR_USAGE);
    qs_compare_result_free(&r);
    qs_compare_result_free(NULL);
    qs_compare_table_free(&t);
}

int main(void)
{
    RUN(test_quantile);
    RUN(test_within);
    RUN(test_table);
    RUN(test_replay);
    RUN(test_run_summary);
    return qs_test_summary();
}
