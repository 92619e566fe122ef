/* Pareto utilities: dominance with directions, violations, constrained
 * domination, non-dominated sort, crowding distance, front, 2-D hypervolume. */
#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "qsearch/pareto.h"

static const qs_direction MINMIN[2] = {QS_MINIMIZE, QS_MINIMIZE};
static const qs_direction MAXMIN[2] = {QS_MAXIMIZE, QS_MINIMIZE};

static void test_dominance(void)
{
    double a[2] = {1, 2}, b[2] = {2, 2}, c[2] = {0, 3};
    CHECK(qs_pareto_dominates(a, b, 2, MINMIN));
    CHECK(!qs_pareto_dominates(b, a, 2, MINMIN));
    CHECK(!qs_pareto_dominates(a, a, 2, MINMIN)); /* equal points do not dominate */
    CHECK(!qs_pareto_dominates(a, c, 2, MINMIN) && !qs_pareto_dominates(c, a, 2, MINMIN));
    CHECK(qs_pareto_dominates(a, b, 2, NULL)); /* NULL = minimise everything */
    /* maximise the first objective: b (2) beats a (1), same second value */
    CHECK(qs_pareto_dominates(b, a, 2, MAXMIN));
    CHECK(!qs_pareto_dominates(a, b, 2, MAXMIN));
    double n[2] = {NAN, 2};
    CHECK(qs_pareto_dominates(b, n, 2, MINMIN)); /* NaN is the worst value */
    CHECK(!qs_pareto_dominates(n, b, 2, MINMIN));
    qs_direction d;
    CHECK_INT(qs_direction_parse("maximize", &d, NULL), QS_OK);
    CHECK_INT(d, QS_MAXIMIZE);
    qs_error err;
    CHECK_INT(qs_direction_parse("upward", &d, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "upward");
    CHECK_STR(qs_direction_name(QS_MINIMIZE), "minimize");
}

static void test_violation_and_constrained(void)
{
    double c1[3] = {-1, 0.5, 2}, c2[2] = {0, -3}, c3[2] = {NAN, 0};
    CHECK_NEAR(qs_pareto_violation(c1, 3), 2.5, 1e-15);
    CHECK_NEAR(qs_pareto_violation(c2, 2), 0.0, 0);
    CHECK(isinf(qs_pareto_violation(c3, 2)));
    CHECK(isinf(qs_pareto_violation(NULL, 2)));
    CHECK_NEAR(qs_pareto_violation(NULL, 0), 0.0, 0);
    double good[2] = {1, 1}, bad[2] = {5, 5};
    /* feasible beats infeasible whatever the objectives */
    CHECK(qs_pareto_constrained_dominates(bad, 0.0, good, 0.1, 2, MINMIN));
    CHECK(!qs_pareto_constrained_dominates(good, 0.1, bad, 0.0, 2, MINMIN));
    /* both infeasible: smaller total violation wins */
    CHECK(qs_pareto_constrained_dominates(bad, 0.2, good, 0.3, 2, MINMIN));
    CHECK(!qs_pareto_constrained_dominates(good, 0.3, bad, 0.2, 2, MINMIN));
    /* both feasible: plain dominance */
    CHECK(qs_pareto_constrained_dominates(good, 0.0, bad, 0.0, 2, MINMIN));
    CHECK(!qs_pareto_constrained_dominates(bad, 0.0, good, 0.0, 2, MINMIN));
}

/* A(1,5) B(2,3) C(4,1) D(3,4) E(5,5) F(4,4), both minimised:
 * front 0 = A B C; D is dominated only by B -> 1; F by B and D -> 2; E by F -> 3. */
static const double PTS[12] = {1, 5, 2, 3, 4, 1, 3, 4, 5, 5, 4, 4};

static void test_sort(void)
{
    size_t rank[6], nf;
    CHECK_INT(qs_pareto_sort(PTS, NULL, 6, 2, MINMIN, rank, &nf, NULL), QS_OK);
    CHECK_INT(nf, 4);
    size_t want[6] = {0, 0, 0, 1, 3, 2};
    for (int i = 0; i < 6; i++)
        CHECK_INT(rank[i], want[i]);
    /* Constrained: make A infeasible: it drops behind every feasible point. */
    double viol[6] = {0.5, 0, 0, 0, 0, 0};
    CHECK_INT(qs_pareto_sort(PTS, viol, 6, 2, MINMIN, rank, &nf, NULL), QS_OK);
    size_t want_c[6] = {4, 0, 0, 1, 3, 2};
    for (int i = 0; i < 6; i++)
        CHECK_INT(rank[i], want_c[i]);
    CHECK_INT(qs_pareto_sort(PTS, NULL, 0, 2, MINMIN, rank, &nf, NULL), QS_OK);
    CHECK_INT(nf, 0);
    size_t idx[6];
    CHECK_INT(qs_pareto_front(PTS, 6, 2, MINMIN, idx), 3);
    CHECK_INT(idx[0], 0);
    CHECK_INT(idx[1], 1);
    CHECK_INT(idx[2], 2);
}

static void test_crowding(void)
{
    /* Front A(1,5) B(2,3) C(4,1): boundary points inf; B = (4-1)/3 + (5-1)/4 = 2. */
    size_t idx[3] = {0, 1, 2}, scratch[8];
    double dist[4];
    qs_pareto_crowding(PTS, 2, idx, 3, dist, scratch);
    CHECK(isinf(dist[0]) && isinf(dist[2]));
    CHECK_NEAR(dist[1], 2.0, 1e-12);
    /* (1,4) (2,3) (4,2) (5,1), listed out of order: inner points get
     * (4-1)/4 + (4-2)/3 = 0.75 + 0.6667 and (5-2)/4 + (3-1)/3 = 0.75 + 0.6667. */
    const double q[8] = {4, 2, 1, 4, 5, 1, 2, 3};
    size_t qi[4] = {0, 1, 2, 3};
    qs_pareto_crowding(q, 2, qi, 4, dist, scratch);
    CHECK_NEAR(dist[0], 0.75 + 2.0 / 3.0, 1e-12);
    CHECK_NEAR(dist[3], 0.75 + 2.0 / 3.0, 1e-12);
    CHECK(isinf(dist[1]) && isinf(dist[2]));
    /* An objective on which all points are equal adds nothing. */
    const double flat[6] = {1, 7, 2, 7, 3, 7};
    size_t fi[3] = {0, 1, 2};
    qs_pareto_crowding(flat, 2, fi, 3, dist, scratch);
    CHECK_NEAR(dist[1], (3.0 - 1.0) / 2.0, 1e-12);
    size_t one = 1;
    qs_pareto_crowding(flat, 2, &one, 1, dist, scratch);
    CHECK_NEAR(dist[0], 0.0, 0);
}

static void test_hv2d(void)
{
    /* (1,3) (2,2) (3,1) against ref (4,4): 3 + 2 + 1 = 6. */
    const double p[10] = {2, 2, 1, 3, 3, 1, 3.5, 3.5, 5, 0};
    size_t scratch[10];
    double ref[2] = {4, 4};
    /* (3.5,3.5) is dominated and (5,0) is outside the reference box: no change */
    CHECK_NEAR(qs_pareto_hv2d(p, 5, MINMIN, ref, scratch), 6.0, 1e-12);
    CHECK_NEAR(qs_pareto_hv2d(p, 1, MINMIN, ref, scratch), 4.0, 1e-12);
    /* Maximising both: negate points and reference, same volume. */
    const double m[6] = {-2, -2, -1, -3, -3, -1};
    double mref[2] = {-4, -4};
    const qs_direction maxmax[2] = {QS_MAXIMIZE, QS_MAXIMIZE};
    CHECK_NEAR(qs_pareto_hv2d(m, 3, maxmax, mref, scratch), 6.0, 1e-12);
    CHECK_NEAR(qs_pareto_hv2d(p, 0, MINMIN, ref, scratch), 0.0, 0);
}

static void test_hypervolume(void)
{
    /* 3-D: one box (1,1,1)-(2,2,2) = 1; two points (0,1,1) (1,0,1): 2 + 2 - 1 = 3;
     * three (0,1,1) (1,0,1) (1,1,0): 6 - 3 + 1 = 4 (inclusion-exclusion). */
    const double p3[9] = {0, 1, 1, 1, 0, 1, 1, 1, 0};
    const double one[3] = {1, 1, 1}, ref3[3] = {2, 2, 2};
    double v;
    CHECK_INT(qs_pareto_hypervolume(one, 1, 3, NULL, ref3, &v, NULL), QS_OK);
    CHECK_NEAR(v, 1.0, 1e-12);
    CHECK_INT(qs_pareto_hypervolume(p3, 2, 3, NULL, ref3, &v, NULL), QS_OK);
    CHECK_NEAR(v, 3.0, 1e-12);
    CHECK_INT(qs_pareto_hypervolume(p3, 3, 3, NULL, ref3, &v, NULL), QS_OK);
    CHECK_NEAR(v, 4.0, 1e-12);
    /* 1-D: ref - min. */
    const double p1[3] = {3, 1, 2}, r1 = 5;
    CHECK_INT(qs_pareto_hypervolume(p1, 3, 1, NULL, &r1, &v, NULL), QS_OK);
    CHECK_NEAR(v, 4.0, 1e-12);
    /* 2-D and 3-D on pseudo-random points: agrees with the 2-D sweep, and a 3rd
     * objective constant at 0 with ref 1 gives the same volume. */
    double p2[60], q3[90];
    size_t scratch[60];
    uint64_t x = 12345;
    for (int i = 0; i < 30; i++) {
        for (int k = 0; k < 2; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            p2[2 * i + k] = (double)(x >> 40) / (double)(1ULL << 24);
            q3[3 * i + k] = p2[2 * i + k];
        }
        q3[3 * i + 2] = 0.0;
    }
    const double ref2[2] = {1, 1}, refq[3] = {1, 1, 1};
    double a = qs_pareto_hv2d(p2, 30, NULL, ref2, scratch), b, c;
    CHECK_INT(qs_pareto_hypervolume(p2, 30, 2, NULL, ref2, &b, NULL), QS_OK);
    CHECK_INT(qs_pareto_hypervolume(q3, 30, 3, NULL, refq, &c, NULL), QS_OK);
    CHECK_NEAR(a, b, 1e-12);
    CHECK_NEAR(a, c, 1e-12);
    CHECK(a > 0.5 && a < 1.0);
}

int main(void)
{
    RUN(test_dominance);
    RUN(test_violation_and_constrained);
    RUN(test_sort);
    RUN(test_crowding);
    RUN(test_hv2d);
    RUN(test_hypervolume);
    return qs_test_summary();
}
