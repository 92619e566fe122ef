/* Measurement: the median's order-statistic CI on fixed sizes, quantiles,
 * latency of synthetic run functions (never asserting a time tightly),
 * blocks for very short calls, budget/noisy/max_samples stops, pinning,
 * CPU utilisation and peak RSS, and the combined metrics (scaled sum,
 * forgiving factor) against hand-computed values. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* for the pinning test */
#include <sched.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "qsearch/combine.h"
#include "qsearch/log.h"
#include "qsearch/measure.h"

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Busy-waits for *(int64_t *)ctx nanoseconds: a call of known minimum length. */
static void spin(void *ctx)
{
    int64_t ns = *(int64_t *)ctx, t0 = mono_ns();
    while (mono_ns() - t0 < ns) {
    }
}

/* Busy-waits 10..40 us, a different length each call: the median's CI cannot
 * collapse to a point (a fixed spin can: its samples tie at clock-step precision). */
static void spin_varying(void *ctx)
{
    long long *calls = ctx;
    int64_t ns = 10000 + (int64_t)((*calls * 7919) % 30000);
    ++*calls;
    spin(&ns);
}

/* Burns s seconds of this process's CPU time, however loaded the machine. */
static void spin_cpu(double s)
{
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    do
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    while ((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < s);
}

/* A call far below the clock's overhead. */
static void tiny(void *ctx)
{
    volatile long long *count = ctx;
    *count = *count + 1;
}

static char last_log[1024];
static void capture_log(void *ctx, const char *msg)
{
    (void)ctx;
    snprintf(last_log, sizeof last_log, "%s", msg);
}

static void test_median_ci_indices(void)
{
    size_t lo, hi;
    /* n = 10: P(B <= 1) = 11/1024 <= 0.025 < P(B <= 2) = 56/1024. */
    double cov = qs_latency_median_ci(10, 0.95, &lo, &hi);
    CHECK_INT(lo, 1);
    CHECK_INT(hi, 8);
    CHECK_NEAR(cov, 1.0 - 22.0 / 1024.0, 1e-12);
    /* n = 6: the smallest n with a 95% interval: [min, max], 1 - 2/64. */
    cov = qs_latency_median_ci(6, 0.95, &lo, &hi);
    CHECK_INT(lo, 0);
    CHECK_INT(hi, 5);
    CHECK_NEAR(cov, 1.0 - 2.0 / 64.0, 1e-12);
    /* n = 5: impossible at 95%; the whole range with its coverage 1 - 2/32. */
    cov = qs_latency_median_ci(5, 0.95, &lo, &hi);
    CHECK_INT(lo, 0);
    CHECK_INT(hi, 4);
    CHECK_NEAR(cov, 1.0 - 2.0 / 32.0, 1e-12);
    /* n = 20: P(B <= 5) = 21700/2^20 = 0.0207; P(B <= 6) = 0.0577. */
    cov = qs_latency_median_ci(20, 0.95, &lo, &hi);
    CHECK_INT(lo, 5);
    CHECK_INT(hi, 14);
    CHECK_NEAR(cov, 1.0 - 2.0 * 21700.0 / 1048576.0, 1e-12);
    /* n = 100: the textbook interval X(40)..X(61) (1-based), coverage 0.9648. */
    cov = qs_latency_median_ci(100, 0.95, &lo, &hi);
    CHECK_INT(lo, 39);
    CHECK_INT(hi, 60);
    CHECK_NEAR(cov, 0.9648, 1e-4);
    /* Large n does not underflow: near n/2 - 1.96 sqrt(n)/2. */
    cov = qs_latency_median_ci(100000, 0.95, &lo, &hi);
    CHECK(lo >= 49680 && lo <= 49690);
    CHECK_INT(hi, 100000 - 1 - lo);
    CHECK(cov >= 0.95 && cov < 0.951);
    cov = qs_latency_median_ci(1, 0.95, &lo, &hi);
    CHECK_INT(lo, 0);
    CHECK_INT(hi, 0);
    CHECK_NEAR(cov, 0.0, 1e-12);
    CHECK_NEAR(qs_latency_median_ci(0, 0.95, &lo, &hi), 0.0, 0);
}

static void test_quantile(void)
{
    const double x[] = {1, 2, 3, 4};
    CHECK_NEAR(qs_latency_quantile(x, 4, 0.5), 2.5, 1e-12);
    CHECK_NEAR(qs_latency_quantile(x, 4, 0.95), 3.85, 1e-12);
    CHECK_NEAR(qs_latency_quantile(x, 4, 0.0), 1.0, 0);
    CHECK_NEAR(qs_latency_quantile(x, 4, 1.0), 4.0, 0);
    CHECK_NEAR(qs_latency_quantile(x, 1, 0.95), 1.0, 0);
    CHECK(isnan(qs_latency_quantile(x, 0, 0.5)));
}

static void test_latency_busy_loop(void)
{
    qs_latency_options o;
    qs_latency_options_default(&o);
    o.budget_s = 0.3;
    o.warmup_s = 0.01;
    o.rel_ci = 0.05;
    o.batch = 4;
    int64_t ns = 50000; /* 50 us: above min_block_ns, so one call per sample */
    qs_latency_result r;
    qs_error err;
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_OK);
    CHECK_INT(r.block, 1);
    CHECK(r.runs >= o.min_samples);
    CHECK_INT(r.calls, r.runs);
    CHECK(r.median_ns >= 50000.0);     /* it cannot be faster than it spins */
    CHECK(r.median_ns < 50000.0 * 100); /* generous: a shared machine */
    CHECK(r.ci95_lo_ns <= r.median_ns && r.median_ns <= r.ci95_hi_ns);
    CHECK(r.min_ns <= r.ci95_lo_ns && r.ci95_hi_ns <= r.max_ns);
    CHECK(r.median_ns <= r.p95_ns);
    CHECK(r.ci_coverage >= 0.95);
    CHECK_NEAR(r.per_sample_ns, r.median_ns / 4, 1e-9);
    CHECK_NEAR(r.throughput_sps, 4e9 / r.median_ns, 1e-6);
    CHECK(r.sample_ns != NULL);
    int in_range = 1;
    for (int i = 0; i < r.runs; i++)
        in_range &= r.sample_ns[i] >= r.min_ns && r.sample_ns[i] <= r.max_ns;
    CHECK(in_range);
    CHECK(r.measure_s < 5.0);
    CHECK_INT(r.pinned_cpu, -1);
    qs_latency_result_free(&r);
    CHECK(r.sample_ns == NULL);
    qs_latency_result_free(NULL);
}

static void test_latency_blocks_for_tiny_calls(void)
{
    qs_latency_options o;
    qs_latency_options_default(&o);
    o.budget_s = 0.2;
    o.warmup_s = 0.01;
    o.min_block_ns = 20000;
    volatile long long count = 0;
    qs_latency_result r;
    qs_error err;
    CHECK_INT(qs_latency_measure(tiny, (void *)&count, &o, &r, &err), QS_OK);
    CHECK(r.block > 1);
    CHECK_INT(r.calls, (long long)r.runs * r.block);
    CHECK_INT(count, r.calls + r.warmup_calls); /* every call is accounted for */
    CHECK(r.median_ns > 0 && r.median_ns < 20000);
    /* A block lasts about min_block_ns: per-call median x k is of that order. */
    CHECK(r.median_ns * r.block > 20000 * 0.2);
    CHECK(r.clock_overhead_ns > 0);
    qs_latency_result_free(&r);
}

static void test_latency_noisy_and_stops(void)
{
    qs_log_set(capture_log, NULL);
    last_log[0] = '\0';
    qs_latency_options o;
    qs_latency_options_default(&o);
    o.budget_s = 0.05;
    o.warmup_s = 0;
    o.rel_ci = 0; /* not met by varying calls: runs to the budget and reports noisy */
    long long calls = 0;
    qs_latency_result r;
    qs_error err;
    CHECK_INT(qs_latency_measure(spin_varying, &calls, &o, &r, &err), QS_OK);
    CHECK_INT(r.noisy, 1);
    CHECK(r.measure_s >= 0.05);
    CHECK_CONTAINS(last_log, "noisy");
    qs_latency_result_free(&r);

    /* A loose target stops early, not noisy. */
    int64_t ns = 20000;
    o.rel_ci = 0.5;
    o.budget_s = 10;
    o.min_time_s = 0.05; /* ... but not before min_time_s */
    last_log[0] = '\0';
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_OK);
    CHECK_INT(r.noisy, 0);
    CHECK(r.measure_s >= 0.05);
    CHECK(r.measure_s < 5);
    CHECK_STR(last_log, "");
    qs_latency_result_free(&r);

    /* max_samples ends it. */
    o.rel_ci = 0;
    o.min_samples = 5;
    o.max_samples = 25;
    CHECK_INT(qs_latency_measure(spin_varying, &calls, &o, &r, &err), QS_OK);
    CHECK_INT(r.runs, 25);
    qs_latency_result_free(&r);

    /* The budget yields to min_samples. */
    o.max_samples = 1000;
    o.min_samples = 30;
    o.budget_s = 0;
    CHECK_INT(qs_latency_measure(spin_varying, &calls, &o, &r, &err), QS_OK);
    CHECK_INT(r.runs, 30);
    qs_latency_result_free(&r);
    qs_log_set(NULL, NULL);
}

static void test_latency_bad_options(void)
{
    qs_latency_options o;
    qs_latency_result r;
    qs_error err;
    int64_t ns = 1000;
    qs_latency_options_default(&o);
    o.batch = 0;
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "batch");
    qs_latency_options_default(&o);
    o.min_samples = 10;
    o.max_samples = 5;
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "min_samples");
    qs_latency_options_default(&o);
    o.min_time_s = -1;
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "min_time_s");
    qs_latency_options_default(&o);
    o.min_samples = 10;
    o.max_samples = 5;
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "min_samples");
    CHECK_INT(qs_latency_measure(NULL, &ns, NULL, &r, &err), QS_ERR_USAGE);
    qs_latency_options_default(&o);
    o.pin_cpu = CPU_SETSIZE - 1; /* not in any real allowed set */
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "core");
}

static void test_latency_pinning_restores(void)
{
    cpu_set_t before, after;
    CHECK_INT(sched_getaffinity(0, sizeof before, &before), 0);
    int cpu = -1;
    for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
        if (CPU_ISSET(c, &before))
            cpu = c;
    qs_latency_options o;
    qs_latency_options_default(&o);
    o.budget_s = 0.02;
    o.warmup_s = 0;
    o.pin_cpu = cpu;
    int64_t ns = 10000;
    qs_latency_result r;
    qs_error err;
    CHECK_INT(qs_latency_measure(spin, &ns, &o, &r, &err), QS_OK);
    CHECK_INT(r.pinned_cpu, cpu);
    CHECK_INT(sched_getaffinity(0, sizeof after, &after), 0);
    CHECK(CPU_EQUAL(&before, &after));
    qs_latency_result_free(&r);
}

static void test_usage(void)
{
    qs_usage_region reg;
    qs_usage u;
    qs_error err;
    qs_usage_begin(&reg, 1);
    spin_cpu(0.05); /* 50 ms of CPU: the wall time is longer when others share the cores */
    CHECK_INT(qs_usage_end(&reg, &u, &err), QS_OK);
    CHECK(u.cpu_s >= 0.05);
    CHECK(u.wall_s >= u.cpu_s * 0.99);
    CHECK(u.cpu_util > 0 && u.cpu_util <= 1.01);
    CHECK_NEAR(u.cpu_util, u.cpu_s / u.wall_s, 1e-9);
    CHECK_NEAR(u.cpu_s, u.user_s + u.sys_s, 0.02);
    CHECK(u.peak_rss_bytes > 0);

    /* Sleeping uses (almost) no CPU; threads divide. */
    qs_usage_begin(&reg, 2);
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    CHECK_INT(qs_usage_end(&reg, &u, &err), QS_OK);
    CHECK_INT(u.threads, 2);
    CHECK(u.cpu_util < 0.2);

    /* Touching 64 MiB raises the peak RSS by about that much; after unmapping
     * it, a reset brings the peak back down (mmap, not malloc: ASan's
     * quarantine would keep freed memory resident). */
    long long rss0 = qs_usage_peak_rss_bytes();
    size_t big = 64u << 20;
    char *p = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        for (size_t i = 0; i < big; i += 4096)
            ((volatile char *)p)[i] = (char)i;
        long long rss1 = qs_usage_peak_rss_bytes();
        CHECK(rss1 >= rss0 + (long long)(big * 9 / 10) || rss1 >= (long long)big);
        munmap(p, big);
        qs_status st = qs_usage_reset_peak_rss(&err);
        if (st == QS_OK)
            CHECK(qs_usage_peak_rss_bytes() < rss1 - (long long)(big / 2));
        else
            CHECK_INT(st, QS_ERR_UNSUPPORTED); /* an old kernel or no /proc */
    }
}

static void test_scaled_sum_mase(void)
{
    /* The lab's config: accuracy 1.0 max, average_bitwidth 0.2 min, direction maximize. */
    qs_metric_term t[2] = {
        {"accuracy", 0.9, 1.0, QS_MAXIMIZE},
        {"average_bitwidth", 8.0, 0.2, QS_MINIMIZE},
    };
    double scaled[2];
    /* MASE ignores per-metric direction: 0.9 + 1.6. */
    CHECK_NEAR(qs_combine_scaled_sum(t, 2, QS_MAXIMIZE, QS_SCALED_SUM_MASE, scaled), 2.5, 1e-12);
    CHECK_NEAR(scaled[0], 0.9, 1e-12);
    CHECK_NEAR(scaled[1], 1.6, 1e-12);
    /* ... so that config rewards wider bits: one conflict to warn about. */
    CHECK_INT(qs_combine_direction_conflicts(t, 2, QS_MAXIMIZE, QS_SCALED_SUM_MASE), 1);
    /* A negative scale is MASE's way to minimise inside a maximised sum. */
    t[1].scale = -0.2;
    CHECK_NEAR(qs_combine_scaled_sum(t, 2, QS_MAXIMIZE, QS_SCALED_SUM_MASE, NULL), -0.7, 1e-12);
    CHECK_INT(qs_combine_direction_conflicts(t, 2, QS_MAXIMIZE, QS_SCALED_SUM_MASE), 0);
    /* Signed mode flips a metric whose direction differs from the sum's. */
    t[1].scale = 0.2;
    CHECK_NEAR(qs_combine_scaled_sum(t, 2, QS_MAXIMIZE, QS_SCALED_SUM_SIGNED, scaled), -0.7,
               1e-12);
    CHECK_NEAR(scaled[1], -1.6, 1e-12);
    CHECK_INT(qs_combine_direction_conflicts(t, 2, QS_MAXIMIZE, QS_SCALED_SUM_SIGNED), 0);
    /* Minimised sum, signed: accuracy enters negated. */
    CHECK_NEAR(qs_combine_scaled_sum(t, 2, QS_MINIMIZE, QS_SCALED_SUM_SIGNED, NULL), 1.6 - 0.9,
               1e-12);
    t[0].value = NAN;
    CHECK(isnan(qs_combine_scaled_sum(t, 2, QS_MAXIMIZE, QS_SCALED_SUM_MASE, NULL)));
    CHECK_NEAR(qs_combine_scaled_sum(t, 0, QS_MAXIMIZE, QS_SCALED_SUM_MASE, NULL), 0.0, 0);

    qs_direction d;
    qs_error err;
    CHECK_INT(qs_direction_parse("minimize", &d, &err), QS_OK);
    CHECK_INT(d, QS_MINIMIZE);
    CHECK_INT(qs_direction_parse("maximize", &d, &err), QS_OK);
    CHECK_INT(d, QS_MAXIMIZE);
    CHECK_INT(qs_direction_parse("up", &d, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "\"up\"");
}

static void test_forgiving_factor(void)
{
    qs_forgiving_options o;
    qs_forgiving_options_default(&o);
    double s, f;
    qs_error err;
    /* 4x fewer bits at rate 2: log2(4) = 2 steps of 8%: 0.9 x 1.16. */
    CHECK_INT(qs_combine_forgiving(0.9, 32000, 8000, &o, &s, &f, &err), QS_OK);
    CHECK_NEAR(f, 0.16, 1e-12);
    CHECK_NEAR(s, 1.044, 1e-12);
    /* 2x dearer with delta_n = 5%: 0.9 x (1 - 0.05). */
    o.delta_n = 5;
    CHECK_INT(qs_combine_forgiving(0.9, 32000, 64000, &o, &s, &f, &err), QS_OK);
    CHECK_NEAR(f, -0.05, 1e-12);
    CHECK_NEAR(s, 0.855, 1e-12);
    /* Equal cost: no change. */
    CHECK_INT(qs_combine_forgiving(0.9, 1000, 1000, &o, &s, NULL, &err), QS_OK);
    CHECK_NEAR(s, 0.9, 1e-12);
    /* Stress 0.5 halves the reference: 1000 vs 500 reference is 2x dearer. */
    o.stress = 0.5;
    CHECK_INT(qs_combine_forgiving(0.8, 1000, 1000, &o, &s, &f, &err), QS_OK);
    CHECK_NEAR(f, -0.05, 1e-12);
    CHECK_NEAR(s, 0.76, 1e-12);
    /* Rate 10, 10x cheaper energy, delta_p 3%: 0.5 x 1.03. */
    qs_forgiving_options_default(&o);
    o.rate = 10;
    o.delta_p = 3;
    CHECK_INT(qs_combine_forgiving(0.5, 1e-6, 1e-7, &o, &s, &f, &err), QS_OK);
    CHECK_NEAR(s, 0.515, 1e-12);
    /* NULL options: AutoQKeras's defaults. 8x cheaper: 3 x 8%. */
    CHECK_INT(qs_combine_forgiving(1.0, 8, 1, NULL, &s, &f, &err), QS_OK);
    CHECK_NEAR(s, 1.24, 1e-12);
    /* Bad arguments. */
    CHECK_INT(qs_combine_forgiving(0.9, 0, 1, NULL, &s, &f, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "costs");
    o.rate = 1;
    CHECK_INT(qs_combine_forgiving(0.9, 2, 1, &o, &s, &f, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "rate");
    CHECK_INT(qs_combine_forgiving(NAN, 2, 1, NULL, &s, &f, &err), QS_ERR_INPUT);
}

int main(void)
{
    RUN(test_median_ci_indices);
    RUN(test_quantile);
    RUN(test_latency_busy_loop);
    RUN(test_latency_blocks_for_tiny_calls);
    RUN(test_latency_noisy_and_stops);
    RUN(test_latency_bad_options);
    RUN(test_latency_pinning_restores);
    RUN(test_usage);
    RUN(test_scaled_sum_mase);
    RUN(test_forgiving_factor);
    return qs_test_summary();
}
