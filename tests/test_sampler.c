/* Samplers: names, space arithmetic, hash, bruteforce coverage and resume,
 * random determinism and uniformity, TPE densities against a hand-computed
 * case, TPE vs random on a synthetic objective, NSGA-II generations, elite
 * selection and constrained domination. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "qsearch/sampler.h"

static const qs_direction MIN1[1] = {QS_MINIMIZE};

static qs_sampler *make(qs_sampler_kind k, size_t np, const uint32_t *nc, uint64_t seed,
                        const qs_sampler_options *base)
{
    qs_sampler_options o;
    if (base)
        o = *base;
    else
        qs_sampler_options_default(&o);
    o.seed = seed;
    qs_sampler_space sp = {np, NULL, nc};
    qs_sampler *s = NULL;
    qs_error err;
    if (qs_sampler_new(k, &sp, &o, &s, &err) != QS_OK)
        fprintf(stderr, "sampler_new: %s\n", err.msg);
    return s;
}

static void test_names_and_errors(void)
{
    qs_sampler_kind k;
    qs_error err;
    CHECK_INT(qs_sampler_kind_parse("grid", &k, NULL), QS_OK);
    CHECK_INT(k, QS_SAMPLER_BRUTEFORCE);
    CHECK_INT(qs_sampler_kind_parse("NSGA2", &k, NULL), QS_OK);
    CHECK_INT(k, QS_SAMPLER_NSGAII);
    CHECK_INT(qs_sampler_kind_parse("TPE", &k, NULL), QS_OK);
    CHECK_INT(k, QS_SAMPLER_TPE);
    CHECK_INT(qs_sampler_kind_parse("cmaes", &k, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "unknown sampler \"cmaes\"");
    CHECK_STR(qs_sampler_kind_name(QS_SAMPLER_RANDOM), "random");

    const char *names[2] = {"a/config/weight_width", "b/config/bias_width"};
    uint32_t nc[2] = {3, 0};
    qs_sampler_space sp = {2, names, nc};
    qs_sampler *s = NULL;
    CHECK_INT(qs_sampler_new(QS_SAMPLER_RANDOM, &sp, NULL, &s, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "b/config/bias_width has no choices");
    CHECK(s == NULL);
    nc[1] = 2;
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.population_size = 1;
    CHECK_INT(qs_sampler_new(QS_SAMPLER_NSGAII, &sp, &o, &s, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "population_size");
    qs_sampler_space empty = {0, NULL, NULL};
    CHECK_INT(qs_sampler_new(QS_SAMPLER_TPE, &empty, NULL, &s, &err), QS_ERR_INPUT);

    /* A history that does not fit the space is bad input naming the trial and parameter. */
    CHECK_INT(qs_sampler_new(QS_SAMPLER_TPE, &sp, NULL, &s, &err), QS_OK);
    qs_history h;
    qs_history_init(&h, 2, 1, MIN1, 0, NULL);
    uint32_t bad[2] = {1, 2}, out[2];
    double v = 1.0;
    qs_history_push(&h, bad, QS_SAMPLER_COMPLETE, &v, NULL, NULL);
    CHECK_INT(qs_sampler_ask(s, &h, out, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "trial 0: parameter b/config/bias_width: choice 2 out of range");
    qs_history_free(&h);
    /* TPE and NSGA-II need objectives. */
    qs_history_init(&h, 2, 0, NULL, 0, NULL);
    CHECK_INT(qs_sampler_ask(s, &h, out, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "tpe needs at least one objective");
    qs_history_free(&h);
    qs_sampler_delete(s);
    qs_sampler_delete(NULL);
    qs_history_free(NULL);
}

static void test_space_index_hash(void)
{
    uint32_t nc[3] = {3, 4, 5};
    qs_sampler_space sp = {3, NULL, nc};
    uint64_t exact;
    bool ovf;
    CHECK_NEAR(qs_sampler_space_size(&sp, &exact, &ovf), 60.0, 0);
    CHECK_INT(exact, 60);
    CHECK(!ovf);
    uint32_t big_nc[64];
    for (int i = 0; i < 64; i++)
        big_nc[i] = 4;
    qs_sampler_space big = {64, NULL, big_nc};
    CHECK_NEAR(qs_sampler_space_size(&big, &exact, &ovf) / ldexp(1.0, 128), 1.0, 1e-12);
    CHECK(ovf);
    uint64_t idx;
    qs_error err;
    CHECK_INT(qs_sampler_config_index(&big, false, big_nc, &idx, &err), QS_ERR_USAGE);

    uint32_t c[3];
    CHECK_INT(qs_sampler_config_at(&sp, false, 1, c, NULL), QS_OK); /* last fastest */
    CHECK(c[0] == 0 && c[1] == 0 && c[2] == 1);
    CHECK_INT(qs_sampler_config_at(&sp, true, 1, c, NULL), QS_OK); /* first fastest */
    CHECK(c[0] == 1 && c[1] == 0 && c[2] == 0);
    CHECK_INT(qs_sampler_config_at(&sp, false, 60, c, &err), QS_ERR_USAGE);
    /* index <-> configuration round trip, and no hash collisions in the space */
    uint64_t hashes[60];
    int ok = 1;
    for (uint64_t i = 0; i < 60; i++) {
        for (int ff = 0; ff < 2; ff++) {
            qs_sampler_config_at(&sp, ff, i, c, NULL);
            qs_sampler_config_index(&sp, ff, c, &idx, NULL);
            ok &= idx == i;
        }
        hashes[i] = qs_sampler_config_hash(3, c);
        for (uint64_t j = 0; j < i; j++)
            ok &= hashes[j] != hashes[i];
    }
    CHECK(ok);
    uint32_t z[3] = {0, 0, 0};
    CHECK(qs_sampler_config_hash(3, z) != qs_sampler_config_hash(2, z));
    CHECK(qs_sampler_config_hash(3, z) == qs_sampler_config_hash(3, z));
}

static void test_bruteforce_covers_once(void)
{
    uint32_t nc[3] = {3, 4, 5};
    qs_sampler *s = make(QS_SAMPLER_BRUTEFORCE, 3, nc, 0, NULL);
    qs_history h;
    qs_history_init(&h, 3, 1, MIN1, 0, NULL);
    uint32_t c[3];
    bool done = false;
    int in_order = 1;
    while (1) {
        CHECK_INT(qs_sampler_ask(s, &h, c, &done, NULL), QS_OK);
        if (done)
            break;
        uint64_t idx;
        qs_sampler_space sp = {3, NULL, nc};
        qs_sampler_config_index(&sp, false, c, &idx, NULL);
        in_order &= idx == h.n_trials;
        double v = (double)idx;
        qs_history_push(&h, c, QS_SAMPLER_COMPLETE, &v, NULL, NULL);
        if (h.n_trials > 100)
            break;
    }
    CHECK(done);
    CHECK(in_order);
    CHECK_INT(h.n_trials, 60);
    qs_error err;
    CHECK_INT(qs_sampler_ask(s, &h, c, NULL, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "all 60 configurations");
    qs_history_free(&h);
    qs_sampler_delete(s);
}

static void test_bruteforce_resume_and_workers(void)
{
    uint32_t nc[3] = {3, 4, 5};
    qs_sampler *rnd = make(QS_SAMPLER_RANDOM, 3, nc, 7, NULL);
    qs_history h;
    qs_history_init(&h, 3, 1, MIN1, 0, NULL);
    uint32_t c[3];
    /* A study started with random trials (duplicates included), some failed/pruned/running. */
    for (int i = 0; i < 25; i++) {
        qs_sampler_ask(rnd, &h, c, NULL, NULL);
        double v = i;
        qs_history_push(&h, c, (qs_sampler_state)(i % 4), &v, NULL, NULL);
    }
    qs_sampler *bf = make(QS_SAMPLER_BRUTEFORCE, 3, nc, 0, NULL);
    /* Two workers: each records its proposal as RUNNING before the next ask. */
    bool done = false;
    int guard = 0;
    while (!done && guard++ < 200) {
        CHECK_INT(qs_sampler_ask(bf, &h, c, &done, NULL), QS_OK);
        if (!done)
            qs_history_push(&h, c, QS_SAMPLER_RUNNING, NULL, NULL, NULL);
    }
    /* Every configuration appears; the bruteforce part never repeats one. */
    int seen[60] = {0}, dup_bf = 0;
    qs_sampler_space sp = {3, NULL, nc};
    for (size_t t = 0; t < h.n_trials; t++) {
        uint64_t idx;
        qs_sampler_config_index(&sp, false, h.choices + 3 * t, &idx, NULL);
        if (t >= 25 && seen[idx])
            dup_bf++;
        seen[idx]++;
    }
    int all = 1;
    for (int i = 0; i < 60; i++)
        all &= seen[i] > 0;
    CHECK(all);
    CHECK_INT(dup_bf, 0);
    /* Same sampler given a different (shorter) history starts over from index 0. */
    qs_history h2;
    qs_history_init(&h2, 3, 1, MIN1, 0, NULL);
    CHECK_INT(qs_sampler_ask(bf, &h2, c, &done, NULL), QS_OK);
    CHECK(!done && c[0] == 0 && c[1] == 0 && c[2] == 0);
    qs_history_free(&h2);
    qs_history_free(&h);
    qs_sampler_delete(bf);
    qs_sampler_delete(rnd);
}

/* Runs n asks of sampler s, completing each with objective f (minimised). */
static void run_seq(qs_sampler *s, qs_history *h, size_t n, double (*f)(const uint32_t *))
{
    uint32_t c[16];
    for (size_t i = 0; i < n; i++) {
        qs_error err;
        if (qs_sampler_ask(s, h, c, NULL, &err) != QS_OK) {
            fprintf(stderr, "ask: %s\n", err.msg);
            CHECK(0);
            return;
        }
        double v = f(c);
        qs_history_push(h, c, QS_SAMPLER_COMPLETE, &v, NULL, NULL);
    }
}

/* Separable objective on 5 parameters x 4 choices, optimum 0 at (3, 1, 2, 0, 3). */
static double sep5(const uint32_t *c)
{
    static const int target[5] = {3, 1, 2, 0, 3};
    double v = 0;
    for (int i = 0; i < 5; i++)
        v += (double)((int)c[i] - target[i]) * ((int)c[i] - target[i]) * (1 + i % 2);
    return v;
}

static void test_determinism_all_kinds(void)
{
    uint32_t nc[5] = {4, 4, 4, 4, 4};
    qs_sampler_options mv;
    qs_sampler_options_default(&mv);
    mv.multivariate = true;
    mv.population_size = 8;
    for (int k = 0; k < 5; k++) {
        qs_sampler_kind kind = k == 4 ? QS_SAMPLER_TPE : (qs_sampler_kind)k;
        const qs_sampler_options *o = k >= 3 ? &mv : NULL;
        qs_history a, b, c;
        qs_history_init(&a, 5, 1, MIN1, 0, NULL);
        qs_history_init(&b, 5, 1, MIN1, 0, NULL);
        qs_history_init(&c, 5, 1, MIN1, 0, NULL);
        qs_sampler *s1 = make(kind, 5, nc, 11, o), *s2 = make(kind, 5, nc, 11, o),
                   *s3 = make(kind, 5, nc, 12, o);
        run_seq(s1, &a, 40, sep5);
        run_seq(s2, &b, 40, sep5);
        run_seq(s3, &c, 40, sep5);
        CHECK(memcmp(a.choices, b.choices, 40 * 5 * sizeof *a.choices) == 0);
        if (kind != QS_SAMPLER_BRUTEFORCE)
            CHECK(memcmp(a.choices, c.choices, 40 * 5 * sizeof *a.choices) != 0);
        /* A fresh sampler given the same history proposes the same next configuration. */
        uint32_t x[5], y[5];
        qs_sampler *s4 = make(kind, 5, nc, 11, o);
        qs_sampler_ask(s1, &a, x, NULL, NULL);
        qs_sampler_ask(s4, &a, y, NULL, NULL);
        CHECK(memcmp(x, y, sizeof x) == 0);
        qs_sampler_delete(s1);
        qs_sampler_delete(s2);
        qs_sampler_delete(s3);
        qs_sampler_delete(s4);
        qs_history_free(&a);
        qs_history_free(&b);
        qs_history_free(&c);
    }
}

static void test_random_uniform(void)
{
    uint32_t nc[3] = {3, 5, 7};
    qs_sampler *s = make(QS_SAMPLER_RANDOM, 3, nc, 3, NULL);
    qs_history h;
    qs_history_init(&h, 3, 1, MIN1, 0, NULL);
    const int n = 21000;
    int counts[3][7] = {{0}};
    uint32_t c[3];
    for (int i = 0; i < n; i++) {
        qs_sampler_ask(s, &h, c, NULL, NULL);
        for (int p = 0; p < 3; p++)
            counts[p][c[p]]++;
        qs_history_push(&h, c, QS_SAMPLER_RUNNING, NULL, NULL, NULL);
    }
    /* Pearson chi-square per parameter against the 99.9% critical values
     * (dof 2, 4, 6: 13.8, 18.5, 22.5); the seed is fixed, so this is not flaky. */
    const double crit[3] = {13.8, 18.5, 22.5};
    for (int p = 0; p < 3; p++) {
        double e = (double)n / nc[p], chi = 0;
        for (uint32_t k = 0; k < nc[p]; k++)
            chi += (counts[p][k] - e) * (counts[p][k] - e) / e;
        CHECK(chi < crit[p]);
    }
    qs_history_free(&h);
    qs_sampler_delete(s);
}

/* The hand-computed case: 2 parameters x 3 choices, 12 complete trials,
 * minimise. gamma(12) = ceil(1.2) = 2 -> below = t3 (0,1) 0.1 and t7 (0,2) 0.2.
 *
 * below (n = 2): weights 1, 1, prior 1 -> 1/3 each. Kernel row of an observation
 *   x: v = prior/(n+1) = 1/3 everywhere, +1 at x, normalised by 3v + 1 = 2:
 *   2/3 at x, 1/6 elsewhere; the prior kernel is 1/3 everywhere.
 *   p0 (obs 0, 0): l = 1/3(2/3 + 2/3 + 1/3) = 5/9 at 0; 1/3(1/6 + 1/6 + 1/3) = 2/9 at 1, 2.
 *   p1 (obs 1, 2): l(0) = 1/3(1/6 + 1/6 + 1/3) = 2/9; l(1) = l(2) = 1/3(2/3 + 1/6 + 1/3) = 7/18.
 * above (n = 10): weights 1/11 each incl. prior; v = 1/11; row = (1 + 11[c==x]) / 14;
 *   g(c) = (10 + 11 count_c) / 154 + 1/33.
 *   p0 counts 2, 3, 5 -> g = 5/21, 13/42, 19/42.
 *   p1 counts 4, 4, 2 -> g = 8/21, 8/21, 5/21.
 * l/g: p0 -> 7/3, 0.72, 0.49 (choice 0); p1 -> 0.58, 1.02, 1.63 (choice 2).
 * tests/sampler_golden.py recomputes these numbers with Optuna's own code. */
static const uint32_t HAND_C[12][2] = {{2, 0}, {1, 1}, {2, 0}, {0, 1}, {0, 1}, {2, 2},
                                       {1, 0}, {0, 2}, {2, 1}, {0, 0}, {1, 1}, {2, 2}};
static const double HAND_V[12] = {0.9, 0.5, 0.7, 0.1, 0.8, 0.6, 0.55, 0.2, 0.95, 0.65, 0.75, 0.85};

static void hand_history(qs_history *h, double sign, qs_direction dir)
{
    qs_history_init(h, 2, 1, &dir, 0, NULL);
    for (int t = 0; t < 12; t++) {
        double v = sign * HAND_V[t];
        qs_history_push(h, HAND_C[t], QS_SAMPLER_COMPLETE, &v, NULL, NULL);
    }
}

static void check_hand_densities(const qs_sampler *s, const qs_history *h)
{
    double ll[3], lg[3];
    CHECK_INT(qs_tpe_log_densities(s, h, 0, ll, lg, NULL), QS_OK);
    CHECK_NEAR(exp(ll[0]), 5.0 / 9, 1e-12);
    CHECK_NEAR(exp(ll[1]), 2.0 / 9, 1e-12);
    CHECK_NEAR(exp(ll[2]), 2.0 / 9, 1e-12);
    CHECK_NEAR(exp(lg[0]), 5.0 / 21, 1e-12);
    CHECK_NEAR(exp(lg[1]), 13.0 / 42, 1e-12);
    CHECK_NEAR(exp(lg[2]), 19.0 / 42, 1e-12);
    CHECK_INT(qs_tpe_log_densities(s, h, 1, ll, lg, NULL), QS_OK);
    CHECK_NEAR(exp(ll[0]), 2.0 / 9, 1e-12);
    CHECK_NEAR(exp(ll[1]), 7.0 / 18, 1e-12);
    CHECK_NEAR(exp(ll[2]), 7.0 / 18, 1e-12);
    CHECK_NEAR(exp(lg[0]), 8.0 / 21, 1e-12);
    CHECK_NEAR(exp(lg[1]), 8.0 / 21, 1e-12);
    CHECK_NEAR(exp(lg[2]), 5.0 / 21, 1e-12);
}

static void test_tpe_hand_densities(void)
{
    uint32_t nc[2] = {3, 3};
    qs_sampler *s = make(QS_SAMPLER_TPE, 2, nc, 5, NULL);
    qs_history h;
    hand_history(&h, 1.0, QS_MINIMIZE);
    unsigned char below[12];
    size_t n;
    CHECK_INT(qs_tpe_split(&h, false, below, &n, NULL), QS_OK);
    CHECK_INT(n, 12);
    for (int t = 0; t < 12; t++)
        CHECK_INT(below[t], t == 3 || t == 7);
    check_hand_densities(s, &h);
    uint32_t c[2];
    CHECK_INT(qs_sampler_ask(s, &h, c, NULL, NULL), QS_OK);
    CHECK_INT(c[0], 0);
    CHECK_INT(c[1], 2);
    qs_history_free(&h);
    /* The same study maximising -value splits and proposes the same. */
    hand_history(&h, -1.0, QS_MAXIMIZE);
    check_hand_densities(s, &h);
    /* RUNNING and FAILED trials are not observations; a PRUNED one goes above. */
    uint32_t x[2] = {1, 1};
    double v = 0.0;
    qs_history_push(&h, x, QS_SAMPLER_RUNNING, NULL, NULL, NULL);
    qs_history_push(&h, x, QS_SAMPLER_FAILED, &v, NULL, NULL);
    check_hand_densities(s, &h);
    qs_history_push(&h, x, QS_SAMPLER_PRUNED, NULL, NULL, NULL);
    unsigned char b2[15];
    CHECK_INT(qs_tpe_split(&h, false, b2, &n, NULL), QS_OK);
    CHECK_INT(n, 13);
    CHECK_INT(b2[12], 2);
    CHECK_INT(b2[13], 2);
    CHECK_INT(b2[14], 0);
    qs_history_free(&h);
    qs_sampler_delete(s);
}

static void test_tpe_gamma_weights_constraints(void)
{
    CHECK_INT(qs_tpe_gamma(0), 0);
    CHECK_INT(qs_tpe_gamma(10), 1);
    CHECK_INT(qs_tpe_gamma(12), 2);
    CHECK_INT(qs_tpe_gamma(30), 3);
    CHECK_INT(qs_tpe_gamma(31), 4);
    CHECK_INT(qs_tpe_gamma(1000), 25);
    double w[30];
    qs_tpe_default_weights(24, w);
    CHECK_NEAR(w[0], 1.0, 0);
    qs_tpe_default_weights(30, w); /* linspace(1/30, 1, 5), then 25 ones */
    CHECK_NEAR(w[0], 1.0 / 30, 1e-15);
    CHECK_NEAR(w[1], 1.0 / 30 + (29.0 / 30) / 4, 1e-15);
    CHECK_NEAR(w[4], 1.0, 1e-15);
    CHECK_NEAR(w[29], 1.0, 0);
    /* Constraints: the two best values (t3, t7) violate; the split takes the best
     * feasible ones (t1 0.5, t6 0.55) and sends the infeasible above. */
    qs_history h;
    qs_history_init(&h, 2, 1, MIN1, 1, NULL);
    for (int t = 0; t < 12; t++) {
        double con = (t == 3 || t == 7) ? 1.0 : -1.0;
        qs_history_push(&h, HAND_C[t], QS_SAMPLER_COMPLETE, &HAND_V[t], &con, NULL);
    }
    unsigned char below[12];
    size_t n;
    CHECK_INT(qs_tpe_split(&h, true, below, &n, NULL), QS_OK);
    for (int t = 0; t < 12; t++)
        CHECK_INT(below[t], t == 1 || t == 6);
    CHECK_INT(qs_tpe_split(&h, false, below, &n, NULL), QS_OK);
    CHECK_INT(below[3], 1);
    /* Too few feasible trials: below = the least violating. */
    for (int t = 0; t < 12; t++)
        h.constraints[t] = t == 5 ? 0.0 : 0.1 * (t + 1);
    CHECK_INT(qs_tpe_split(&h, true, below, &n, NULL), QS_OK);
    for (int t = 0; t < 12; t++)
        CHECK_INT(below[t], t == 5 || t == 0);
    qs_history_free(&h);
}

/* Trials until the optimum of sep5 is proposed (cap), for one sampler and seed. */
static size_t trials_to_opt(qs_sampler_kind k, uint64_t seed, bool multivariate, size_t cap)
{
    uint32_t nc[5] = {4, 4, 4, 4, 4};
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.multivariate = multivariate;
    qs_sampler *s = make(k, 5, nc, seed, &o);
    qs_history h;
    qs_history_init(&h, 5, 1, MIN1, 0, NULL);
    uint32_t c[5];
    size_t t = cap;
    for (size_t i = 0; i < cap; i++) {
        qs_sampler_ask(s, &h, c, NULL, NULL);
        double v = sep5(c);
        if (v == 0) {
            t = i + 1;
            break;
        }
        qs_history_push(&h, c, QS_SAMPLER_COMPLETE, &v, NULL, NULL);
    }
    qs_history_free(&h);
    qs_sampler_delete(s);
    return t;
}

static void test_tpe_beats_random(void)
{
    /* 1024 configurations: random needs ~1024 trials on average (capped at 300).
     * Optuna 3.1 on the same objective and seeds 0-19 needs 124 (independent)
     * and 45 (multivariate) trials on average; ours 100 and 43. */
    const size_t cap = 300;
    double tpe = 0, mv = 0, rnd = 0;
    for (uint64_t seed = 0; seed < 20; seed++) {
        tpe += (double)trials_to_opt(QS_SAMPLER_TPE, seed, false, cap);
        mv += (double)trials_to_opt(QS_SAMPLER_TPE, seed, true, cap);
        rnd += (double)trials_to_opt(QS_SAMPLER_RANDOM, seed, false, cap);
    }
    fprintf(stderr, "    mean trials to optimum (cap %zu): tpe %.1f, tpe-mv %.1f, random %.1f\n",
            cap, tpe / 20, mv / 20, rnd / 20);
    CHECK(tpe < 0.6 * rnd);
    CHECK(mv < 0.4 * rnd);
}

static double one_obj(const uint32_t *c) { return (double)(c[0] + c[1] + c[2]); }

/* 4 configurations per generation, values chosen so the elite is known. */
static void nsga_history(qs_history *h, bool constrained)
{
    static const uint32_t cfg[8][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0},
                                       {2, 2, 2}, {3, 3, 3}, {1, 2, 3}, {3, 2, 1}};
    static const double val[8] = {5, 6, 7, 8, 1, 2, 9, 10};
    qs_history_init(h, 3, 1, MIN1, constrained ? 1 : 0, NULL);
    uint32_t junk[3] = {0, 0, 0};
    for (int t = 0; t < 8; t++) {
        double con = (constrained && t == 4) ? 0.5 : -1.0;
        qs_history_push(h, cfg[t], QS_SAMPLER_COMPLETE, &val[t], &con, NULL);
        /* trials that are not COMPLETE never count towards a generation */
        if (t == 2) {
            qs_history_push(h, junk, QS_SAMPLER_FAILED, NULL, NULL, NULL);
            qs_history_push(h, junk, QS_SAMPLER_PRUNED, NULL, NULL, NULL);
        }
    }
}

static void test_nsga2_generations_and_elite(void)
{
    uint32_t nc[3] = {4, 4, 4};
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.population_size = 4;
    o.crossover_prob = 0.0; /* child = copy of a uniformly chosen parent */
    o.mutation_prob = 0.0;
    for (int constrained = 0; constrained < 2; constrained++) {
        qs_sampler *s = make(QS_SAMPLER_NSGAII, 3, nc, 1, &o);
        qs_history h;
        nsga_history(&h, constrained);
        /* Generation 0 closes with trials 0-3 (elite: all four); generation 1
         * with 4-7; elite of {4..7} + {0..3} by value: 4 (1), 5 (2), 0 (5), 1 (6).
         * With trial 4 infeasible: 5, 0, 1, 2. */
        const uint32_t want[2][4] = {{4, 5, 0, 1}, {5, 0, 1, 2}};
        int hits[4] = {0}, other = 0;
        uint32_t c[3];
        size_t base = h.n_trials;
        for (int i = 0; i < 200; i++) {
            qs_sampler_ask(s, &h, c, NULL, NULL);
            int found = 0;
            for (int k = 0; k < 4; k++) {
                size_t t = want[constrained][k];
                t += t >= 3 ? 2 : 0; /* skip the failed and pruned rows */
                if (!memcmp(c, h.choices + 3 * t, sizeof c)) {
                    hits[k]++;
                    found = 1;
                }
            }
            other += !found;
            qs_history_push(&h, c, QS_SAMPLER_RUNNING, NULL, NULL, NULL);
        }
        CHECK_INT(other, 0);
        for (int k = 0; k < 4; k++)
            CHECK(hits[k] > 20);
        CHECK_INT(h.n_trials, base + 200);
        qs_history_free(&h);
        qs_sampler_delete(s);
    }
    /* Before the first generation closes, NSGA-II proposes what random does;
     * so does TPE during its start-up trials. */
    o.population_size = 8;
    qs_sampler *ns = make(QS_SAMPLER_NSGAII, 3, nc, 9, &o), *rn = make(QS_SAMPLER_RANDOM, 3, nc, 9, &o);
    qs_history a, b;
    qs_history_init(&a, 3, 1, MIN1, 0, NULL);
    qs_history_init(&b, 3, 1, MIN1, 0, NULL);
    run_seq(ns, &a, 8, one_obj);
    run_seq(rn, &b, 8, one_obj);
    CHECK(memcmp(a.choices, b.choices, 8 * 3 * sizeof *a.choices) == 0);
    qs_history_free(&a);
    qs_history_free(&b);
    qs_sampler *tp = make(QS_SAMPLER_TPE, 3, nc, 9, NULL);
    qs_history_init(&a, 3, 1, MIN1, 0, NULL);
    run_seq(tp, &a, 10, one_obj);
    qs_history_init(&b, 3, 1, MIN1, 0, NULL);
    run_seq(rn, &b, 10, one_obj);
    CHECK(memcmp(a.choices, b.choices, 10 * 3 * sizeof *a.choices) == 0);
    qs_history_free(&a);
    qs_history_free(&b);
    qs_sampler_delete(tp);
    qs_sampler_delete(ns);
    qs_sampler_delete(rn);
}

static double two_obj_f0(const uint32_t *c) { return (double)(c[0] + c[1] + c[2]); }

static void test_nsga2_multiobjective_progress(void)
{
    /* Two conflicting objectives (size vs error); after 6 generations of 10 the
     * front's hypervolume is at least the first generation's, and a crossover
     * child only carries parent values unless mutated. */
    uint32_t nc[4] = {4, 4, 4, 4};
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.population_size = 10;
    const qs_direction dirs[2] = {QS_MINIMIZE, QS_MAXIMIZE};
    qs_sampler *s = make(QS_SAMPLER_NSGAII, 4, nc, 4, &o);
    qs_history h;
    qs_history_init(&h, 4, 2, dirs, 0, NULL);
    uint32_t c[4];
    for (int i = 0; i < 60; i++) {
        CHECK_INT(qs_sampler_ask(s, &h, c, NULL, NULL), QS_OK);
        double v[2] = {two_obj_f0(c), (double)(c[0] * c[1] + c[2] * c[3]) - 0.1 * c[0]};
        qs_history_push(&h, c, QS_SAMPLER_COMPLETE, v, NULL, NULL);
    }
    size_t scratch[120];
    double ref[2] = {13, -1};
    double hv10 = qs_pareto_hv2d(h.values, 10, dirs, ref, scratch);
    double hv60 = qs_pareto_hv2d(h.values, 60, dirs, ref, scratch);
    fprintf(stderr, "    nsgaii hypervolume: first generation %.2f, after 60 trials %.2f\n", hv10,
            hv60);
    CHECK(hv60 > hv10);
    qs_history_free(&h);
    qs_sampler_delete(s);
}

/* MOTPE split and weights, by hand. 20 trials, 2 objectives minimised:
 * gamma(20) = 2. Rank 0 = t1 (1,5), t4 (2,2), t9 (5,1): 3 points for 2 places,
 * chosen by greedy hypervolume subset selection with ref = max(1.1, 0.9) x worst
 * = (5.5, 5.5): single-point volumes 2.25, 12.25, 2.25 -> t4 first; then
 * t1 and t9 each lose the volume they share with t4 (1.75) -> 0.5 both; the
 * tie goes to the first, t1. Below = {t1, t4}.
 * Weights: ref of the below set (2.2, 5.5); HV = 1.2; without t1: 0.7, without
 * t4: 0.6 -> contributions 0.5, 0.6 -> weights 5/6, 1; with prior 1 normalised:
 * 5/17, 6/17, 6/17. Kernels (n = 2): 2/3 at the observation, 1/6 elsewhere.
 * t1 has choice 1, t4 choice 0 for parameter 0:
 * l(0) = 5/17/6 + 6/17*2/3 + 6/17/3 = 41/102; l(1) = 38/102; l(2) = 23/102.
 * Optuna agrees (tests/sampler_golden.py). */
static void test_motpe_hand(void)
{
    uint32_t nc[2] = {3, 3};
    qs_sampler *s = make(QS_SAMPLER_TPE, 2, nc, 5, NULL);
    qs_history h;
    qs_history_init(&h, 2, 2, NULL, 0, NULL);
    for (int t = 0; t < 20; t++) {
        double v[2] = {6 + t, 6 + t};
        uint32_t c[2] = {2, (uint32_t)(t % 3)};
        if (t == 1)
            v[0] = 1, v[1] = 5, c[0] = 1;
        if (t == 4)
            v[0] = 2, v[1] = 2, c[0] = 0;
        if (t == 9)
            v[0] = 5, v[1] = 1;
        qs_history_push(&h, c, QS_SAMPLER_COMPLETE, v, NULL, NULL);
    }
    unsigned char below[20];
    size_t n;
    CHECK_INT(qs_tpe_split(&h, false, below, &n, NULL), QS_OK);
    CHECK_INT(n, 20);
    for (int t = 0; t < 20; t++)
        CHECK_INT(below[t], t == 1 || t == 4);
    double ll[3], lg[3];
    CHECK_INT(qs_tpe_log_densities(s, &h, 0, ll, lg, NULL), QS_OK);
    CHECK_NEAR(exp(ll[0]), 41.0 / 102, 1e-9);
    CHECK_NEAR(exp(ll[1]), 38.0 / 102, 1e-9);
    CHECK_NEAR(exp(ll[2]), 23.0 / 102, 1e-9);
    /* A multi-objective TPE run: deterministic, and it improves the front. */
    const qs_direction dirs[2] = {QS_MINIMIZE, QS_MAXIMIZE};
    uint32_t nc4[4] = {4, 4, 4, 4};
    qs_history a, b;
    qs_history_init(&a, 4, 2, dirs, 0, NULL);
    qs_history_init(&b, 4, 2, dirs, 0, NULL);
    qs_sampler *s1 = make(QS_SAMPLER_TPE, 4, nc4, 3, NULL), *s2 = make(QS_SAMPLER_TPE, 4, nc4, 3, NULL);
    uint32_t c[4];
    for (int i = 0; i < 60; i++) {
        CHECK_INT(qs_sampler_ask(s1, &a, c, NULL, NULL), QS_OK);
        double v[2] = {two_obj_f0(c), (double)(c[0] * c[1] + c[2] * c[3]) - 0.1 * c[0]};
        qs_history_push(&a, c, QS_SAMPLER_COMPLETE, v, NULL, NULL);
        CHECK_INT(qs_sampler_ask(s2, &b, c, NULL, NULL), QS_OK);
        qs_history_push(&b, c, QS_SAMPLER_COMPLETE, v, NULL, NULL);
    }
    CHECK(memcmp(a.choices, b.choices, 60 * 4 * sizeof *a.choices) == 0);
    size_t scratch[120];
    double ref[2] = {13, -1};
    double hv10 = qs_pareto_hv2d(a.values, 10, dirs, ref, scratch);
    double hv60 = qs_pareto_hv2d(a.values, 60, dirs, ref, scratch);
    fprintf(stderr, "    motpe hypervolume: first 10 trials %.2f, after 60 trials %.2f\n", hv10, hv60);
    CHECK(hv60 > hv10);
    qs_history_free(&a);
    qs_history_free(&b);
    qs_history_free(&h);
    qs_sampler_delete(s);
    qs_sampler_delete(s1);
    qs_sampler_delete(s2);
}

/* NSGA-II caches the last elite; a long-lived sampler must answer as a fresh one
 * would, also when earlier RUNNING rows complete later (which shifts generations). */
static void test_nsga2_cache_matches_fresh(void)
{
    uint32_t nc[4] = {4, 4, 4, 4};
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.population_size = 6;
    const qs_direction dirs[2] = {QS_MINIMIZE, QS_MAXIMIZE};
    qs_sampler *s = make(QS_SAMPLER_NSGAII, 4, nc, 8, &o);
    qs_history h;
    qs_history_init(&h, 4, 2, dirs, 0, NULL);
    uint32_t c[4], d[4];
    int same = 1;
    for (int i = 0; i < 150; i++) {
        CHECK_INT(qs_sampler_ask(s, &h, c, NULL, NULL), QS_OK);
        qs_sampler *fresh = make(QS_SAMPLER_NSGAII, 4, nc, 8, &o);
        qs_sampler_ask(fresh, &h, d, NULL, NULL);
        qs_sampler_delete(fresh);
        same &= !memcmp(c, d, sizeof c);
        double v[2] = {two_obj_f0(c), (double)(c[0] * c[1] + c[2] * c[3])};
        /* every 7th trial stays RUNNING for a while, then completes */
        qs_history_push(&h, c, i % 7 == 3 ? QS_SAMPLER_RUNNING : QS_SAMPLER_COMPLETE, v, NULL, NULL);
        if (i % 7 == 6 && i >= 10) {
            size_t t = h.n_trials - 4;
            h.states[t] = QS_SAMPLER_COMPLETE;
        }
    }
    CHECK(same);
    qs_history_free(&h);
    qs_sampler_delete(s);
}

static void test_history_best_and_front(void)
{
    const qs_direction dirs[2] = {QS_MAXIMIZE, QS_MINIMIZE};
    qs_history h;
    qs_history_init(&h, 1, 2, dirs, 1, NULL);
    /* (accuracy max, bits min, constraint) */
    const double v[6][3] = {{0.9, 8, -1}, {0.95, 8, 1}, {0.9, 4, -1},
                            {0.8, 2, -1}, {NAN, 1, -1}, {0.99, 1, -1}};
    const qs_sampler_state st[6] = {QS_SAMPLER_COMPLETE, QS_SAMPLER_COMPLETE, QS_SAMPLER_COMPLETE,
                                    QS_SAMPLER_COMPLETE, QS_SAMPLER_COMPLETE, QS_SAMPLER_RUNNING};
    for (uint32_t t = 0; t < 6; t++)
        qs_history_push(&h, &t, st[t], v[t], &v[t][2], NULL);
    /* With 2 objectives, best looks at the first one only. */
    size_t best, idx[6], n;
    bool found;
    qs_history_best(&h, true, &best, &found);
    CHECK(found);
    CHECK_INT(best, 0); /* 0.9, first of the ties; 1 infeasible, 4 NaN, 5 running */
    qs_history_best(&h, false, &best, &found);
    CHECK_INT(best, 1);
    CHECK_INT(qs_history_front(&h, true, idx, &n, NULL), QS_OK);
    CHECK_INT(n, 3); /* 2 (0.9, 4), 3 (0.8, 2), 4 (NaN, 1): NaN accuracy is worst but 1 bit is best */
    CHECK(idx[0] == 2 && idx[1] == 3 && idx[2] == 4);
    CHECK_INT(qs_history_front(&h, false, idx, &n, NULL), QS_OK);
    CHECK_INT(n, 4);
    CHECK(idx[0] == 1 && idx[1] == 2 && idx[2] == 3 && idx[3] == 4);
    qs_history_free(&h);
    /* A results-only history (no parameters), as the driver uses for best.json. */
    qs_history_init(&h, 0, 1, dirs, 0, NULL);
    for (int t = 0; t < 3; t++)
        CHECK_INT(qs_history_push(&h, NULL, QS_SAMPLER_COMPLETE, v[t], NULL, NULL), QS_OK);
    qs_history_best(&h, true, &best, &found);
    CHECK(found && best == 1);
    qs_history_free(&h);
}

/* ask_fresh: every kind yields each configuration of a 3x3 space once, then
 * exhausts; TPE's repeats are resolved by telling it the repeat; same seed,
 * same sequence. */
typedef struct {
    const qs_history *h;
} fresh_ctx;

static int fresh_taken(void *ctx, const uint32_t *c)
{
    const qs_history *h = ((const fresh_ctx *)ctx)->h;
    for (size_t t = 0; t < h->n_trials; t++)
        if (h->choices[t * 2] == c[0] && h->choices[t * 2 + 1] == c[1])
            return 1;
    return 0;
}

static size_t fresh_run(qs_sampler_kind kind, uint64_t seed, uint32_t *order, qs_sampler_dup_stats *ds)
{
    static const uint32_t n_choices[2] = {3, 3};
    qs_sampler_space sp = {2, NULL, n_choices};
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.seed = seed;
    o.n_startup_trials = 3;
    qs_sampler *s;
    qs_history h;
    qs_error err;
    qs_direction dir = QS_MINIMIZE;
    CHECK_INT(qs_sampler_new(kind, &sp, &o, &s, &err), QS_OK);
    CHECK_INT(qs_history_init(&h, 2, 1, &dir, 0, &err), QS_OK);
    fresh_ctx ctx = {&h};
    size_t n = 0;
    for (int i = 0; i < 12; i++) {
        uint32_t c[2];
        bool ex = false;
        CHECK_INT(qs_sampler_ask_fresh(s, &h, fresh_taken, &ctx, c, &ex, ds, &err), QS_OK);
        if (ex)
            break;
        CHECK(!fresh_taken(&ctx, c));
        double v = (double)(c[0] + c[1]); /* (0, 0) is best: TPE converges on it */
        CHECK_INT(qs_history_push(&h, c, QS_SAMPLER_COMPLETE, &v, NULL, &err), QS_OK);
        order[2 * n] = c[0];
        order[2 * n + 1] = c[1];
        n++;
    }
    qs_history_free(&h);
    qs_sampler_delete(s);
    return n;
}

static void test_ask_fresh(void)
{
    const qs_sampler_kind kinds[] = {QS_SAMPLER_BRUTEFORCE, QS_SAMPLER_RANDOM, QS_SAMPLER_TPE, QS_SAMPLER_NSGAII};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint32_t a[24], b[24];
        qs_sampler_dup_stats da = {0}, db = {0};
        CHECK_INT(fresh_run(kinds[k], 7, a, &da), 9);
        CHECK_INT(fresh_run(kinds[k], 7, b, &db), 9);
        CHECK(memcmp(a, b, sizeof(uint32_t) * 18) == 0);
        /* every repeat resolved, but for the last ask, which found the space exhausted */
        size_t resolved = da.by_repeat + da.by_uniform + da.by_first_free;
        CHECK(resolved == da.duplicates || resolved + 1 == da.duplicates);
        if (kinds[k] == QS_SAMPLER_TPE)
            CHECK(da.duplicates > 0 && da.by_repeat > 0);
    }
}

int main(void)
{
    RUN(test_names_and_errors);
    RUN(test_space_index_hash);
    RUN(test_bruteforce_covers_once);
    RUN(test_bruteforce_resume_and_workers);
    RUN(test_determinism_all_kinds);
    RUN(test_random_uniform);
    RUN(test_tpe_hand_densities);
    RUN(test_tpe_gamma_weights_constraints);
    RUN(test_tpe_beats_random);
    RUN(test_motpe_hand);
    RUN(test_nsga2_generations_and_elite);
    RUN(test_nsga2_multiobjective_progress);
    RUN(test_nsga2_cache_matches_fresh);
    RUN(test_history_best_and_front);
    RUN(test_ask_fresh);
    return qs_test_summary();
}
