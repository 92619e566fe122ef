/* Latency of a callback: warm-up, block calibration for very short calls,
 * then timing samples until the order-statistic 95% CI of the median is
 * narrow enough or the budget ends. See docs/metrics.md, "Latency". */
#define _GNU_SOURCE /* sched_setaffinity, cpu_set_t, CLOCK_MONOTONIC_RAW */
#include "qsearch/measure.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qsearch/log.h"

#ifdef CLOCK_MONOTONIC_RAW
#define QS_LAT_CLOCK CLOCK_MONOTONIC_RAW /* not slewed by NTP */
#else
#define QS_LAT_CLOCK CLOCK_MONOTONIC
#endif

#define QS_LAT_MAX_BLOCK (1LL << 26)

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(QS_LAT_CLOCK, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void qs_latency_options_default(qs_latency_options *opt)
{
    opt->warmup_s = 0.1;
    opt->warmup_runs = 5;
    opt->budget_s = 2.0;
    opt->rel_ci = 0.01;
    opt->min_time_s = 0.2;
    opt->min_samples = 20;
    opt->max_samples = 100000;
    opt->min_block_ns = 10000.0;
    opt->batch = 1;
    opt->pin_cpu = -1;
}

void qs_latency_result_free(qs_latency_result *res)
{
    if (!res)
        return;
    free(res->sample_ns);
    res->sample_ns = NULL;
}

double qs_latency_median_ci(size_t n, double conf, size_t *lo, size_t *hi)
{
    *lo = 0;
    *hi = n ? n - 1 : 0;
    if (n == 0)
        return 0.0;
    /* j values are left out on each side: coverage = 1 - 2 P(B <= j), B ~ Bin(n, 1/2).
     * The pmf is stepped in log space so large n does not underflow 2^-n. */
    double alpha = 1.0 - conf;
    double lp = -(double)n * log(2.0);
    double cdf = exp(lp);
    double best_cdf = -1.0;
    size_t best = 0;
    for (size_t j = 0; 2 * j + 1 <= n; j++) {
        if (2.0 * cdf > alpha * (1.0 + 1e-12))
            break;
        best = j;
        best_cdf = cdf;
        lp += log((double)(n - j) / (double)(j + 1));
        cdf += exp(lp);
    }
    if (best_cdf < 0) /* n too small for conf: the whole range */
        return 1.0 - 2.0 * exp(-(double)n * log(2.0));
    *lo = best;
    *hi = n - 1 - best;
    return 1.0 - 2.0 * best_cdf;
}

double qs_latency_quantile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    if (p <= 0)
        return sorted[0];
    if (p >= 1)
        return sorted[n - 1];
    double h = (double)(n - 1) * p;
    size_t i = (size_t)floor(h);
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (h - (double)i) * (sorted[i + 1] - sorted[i]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts a copy of the n samples into scratch; returns the CI's relative
 * half-width max(median - lo, hi - median) / median (inf when n is too small). */
static double ci_rel_halfwidth(const double *samples, double *scratch, size_t n, double *median,
                               double *lo, double *hi, double *coverage)
{
    memcpy(scratch, samples, n * sizeof *scratch);
    qsort(scratch, n, sizeof *scratch, cmp_double);
    size_t il, ih;
    *coverage = qs_latency_median_ci(n, 0.95, &il, &ih);
    *median = qs_latency_quantile(scratch, n, 0.5);
    *lo = scratch[il];
    *hi = scratch[ih];
    if (*coverage < 0.95 || !(*median > 0))
        return INFINITY;
    double w = fmax(*median - *lo, *hi - *median);
    return w / *median;
}

static qs_status check_options(const qs_latency_options *o, qs_error *err)
{
    if (!(o->warmup_s >= 0) || o->warmup_runs < 0)
        return qs_error_set(err, QS_ERR_USAGE, "latency: warm-up must be >= 0");
    if (!(o->budget_s >= 0) || !(o->rel_ci >= 0) || !(o->min_time_s >= 0))
        return qs_error_set(err, QS_ERR_USAGE,
                            "latency: budget_s, min_time_s and rel_ci must be >= 0");
    if (o->min_samples < 1 || o->max_samples < o->min_samples)
        return qs_error_set(err, QS_ERR_USAGE,
                            "latency: need 1 <= min_samples (%d) <= max_samples (%d)",
                            o->min_samples, o->max_samples);
    if (!(o->min_block_ns >= 0) || o->min_block_ns > 1e10)
        return qs_error_set(err, QS_ERR_USAGE, "latency: min_block_ns must be in [0, 1e10]");
    if (o->batch < 1)
        return qs_error_set(err, QS_ERR_USAGE, "latency: batch must be >= 1 (got %d)", o->batch);
    if (o->pin_cpu < -1 || o->pin_cpu >= CPU_SETSIZE)
        return qs_error_set(err, QS_ERR_USAGE, "latency: pin_cpu %d out of range", o->pin_cpu);
    return QS_OK;
}

static qs_status pin_thread(int cpu, cpu_set_t *saved, qs_error *err)
{
    if (sched_getaffinity(0, sizeof *saved, saved) != 0)
        return qs_error_set(err, QS_ERR_USAGE, "latency: sched_getaffinity: %s", strerror(errno));
    if (!CPU_ISSET(cpu, saved))
        return qs_error_set(err, QS_ERR_USAGE,
                            "latency: core %d is not in this thread's allowed set", cpu);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        return qs_error_set(err, QS_ERR_USAGE, "latency: pinning to core %d: %s", cpu,
                            strerror(errno));
    return QS_OK;
}

/* Mean cost of one clock read, from back-to-back reads. */
static double clock_overhead_ns(void)
{
    const int reps = 1000;
    int64_t t0 = now_ns();
    int64_t last = t0;
    for (int i = 0; i < reps; i++)
        last = now_ns();
    return (double)(last - t0) / reps;
}

/* Warm-up, then the block size k: estimated (at most x64 per step) until the
 * fastest of 3 blocks of k calls lasts >= min_block_ns. Returns the calls made. */
static long long warm_and_calibrate(qs_latency_fn run, void *ctx, const qs_latency_options *o,
                                    long long *k_out)
{
    long long calls = 0;
    int64_t t0 = now_ns(), wu = (int64_t)(o->warmup_s * 1e9);
    while (calls < o->warmup_runs || now_ns() - t0 < wu) {
        run(ctx);
        calls++;
    }
    long long k = 1;
    for (int it = 0; it < 40 && k < QS_LAT_MAX_BLOCK; it++) {
        /* The fastest of 3 blocks: preemption only adds time, so one preempted
         * block cannot end the calibration with k too small. */
        double b = INFINITY;
        for (int rep = 0; rep < 3; rep++) {
            int64_t a = now_ns();
            for (long long i = 0; i < k; i++)
                run(ctx);
            b = fmin(b, (double)(now_ns() - a));
            calls += k;
        }
        if (b >= o->min_block_ns)
            break;
        double est = ceil((double)k * o->min_block_ns * 1.25 / fmax(b, 1.0));
        long long kn = est > (double)QS_LAT_MAX_BLOCK ? QS_LAT_MAX_BLOCK : (long long)est;
        if (kn <= k)
            kn = k + 1;
        if (kn > 64 * k) /* a noisy first block must not blow k up */
            kn = 64 * k;
        k = kn > QS_LAT_MAX_BLOCK ? QS_LAT_MAX_BLOCK : kn;
    }
    *k_out = k;
    return calls;
}

static void summarise(qs_latency_result *r, const double *sorted, size_t n,
                      const qs_latency_options *o)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += sorted[i];
    r->mean_ns = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (sorted[i] - r->mean_ns) * (sorted[i] - r->mean_ns);
    r->stddev_ns = n > 1 ? sqrt(sq / (double)(n - 1)) : 0.0;
    r->min_ns = sorted[0];
    r->max_ns = sorted[n - 1];
    r->p95_ns = qs_latency_quantile(sorted, n, 0.95);
    r->batch = o->batch;
    r->per_sample_ns = r->median_ns / o->batch;
    r->throughput_sps = r->median_ns > 0 ? o->batch * 1e9 / r->median_ns : 0.0;
}

/* Takes timing samples of k calls each into samples[] until the CI
 * criterion (after min_samples and min_time_s), the budget (after
 * min_samples) or max_samples ends it. Returns the number of samples. */
static size_t sample_loop(qs_latency_fn run, void *ctx, const qs_latency_options *o,
                          long long k, double *samples, double *scratch, int *converged,
                          double *seconds)
{
    size_t n = 0, cap = (size_t)o->max_samples, next_check = (size_t)o->min_samples;
    double med, lo, hi, cov;
    int64_t start = now_ns(), budget = (int64_t)(o->budget_s * 1e9), end = start;
    /* A CI from a few ms of samples misses slower drift (frequency, other load):
     * the criterion may end measuring only after min_time_s (capped by the budget). */
    int64_t min_time = (int64_t)(fmin(o->min_time_s, o->budget_s) * 1e9);
    *converged = 0;
    while (n < cap) {
        /* The timed region: two clock reads around k calls, a store; nothing else. */
        int64_t a = now_ns();
        for (long long i = 0; i < k; i++)
            run(ctx);
        end = now_ns();
        samples[n++] = (double)(end - a) / (double)k;
        if (n >= next_check && end - start >= min_time) {
            if (ci_rel_halfwidth(samples, scratch, n, &med, &lo, &hi, &cov) <= o->rel_ci) {
                *converged = 1;
                break;
            }
            next_check = n + (n / 10 > 0 ? n / 10 : 1); /* geometric: O(n log n) sorting in all */
        }
        if (end - start >= budget && n >= (size_t)o->min_samples)
            break;
    }
    *seconds = (double)(end - start) / 1e9;
    return n;
}

qs_status qs_latency_measure(qs_latency_fn run, void *ctx, const qs_latency_options *opt,
                             qs_latency_result *res, qs_error *err)
{
    qs_latency_options o;
    if (opt)
        o = *opt;
    else
        qs_latency_options_default(&o);
    memset(res, 0, sizeof *res);
    res->pinned_cpu = -1;
    if (!run)
        return qs_error_set(err, QS_ERR_USAGE, "latency: no run function");
    QS_TRY(check_options(&o, err));

    size_t cap = (size_t)o.max_samples;
    double *samples = malloc(cap * sizeof *samples);
    double *scratch = malloc(cap * sizeof *scratch);
    if (!samples || !scratch) {
        free(samples);
        free(scratch);
        return qs_error_set(err, QS_ERR_NOMEM, "latency: %zu samples", cap);
    }
    cpu_set_t saved;
    if (o.pin_cpu >= 0) {
        qs_status st = pin_thread(o.pin_cpu, &saved, err);
        if (st != QS_OK) {
            free(samples);
            free(scratch);
            return st;
        }
        res->pinned_cpu = o.pin_cpu;
    }
    struct timespec rs;
    res->clock_res_ns = clock_getres(QS_LAT_CLOCK, &rs) == 0 ? rs.tv_sec * 1e9 + rs.tv_nsec : NAN;
    res->clock_overhead_ns = clock_overhead_ns();

    long long k;
    res->warmup_calls = warm_and_calibrate(run, ctx, &o, &k);

    int converged = 0;
    double seconds = 0;
    size_t n = sample_loop(run, ctx, &o, k, samples, scratch, &converged, &seconds);
    if (o.pin_cpu >= 0)
        sched_setaffinity(0, sizeof saved, &saved);

    double med, lo, hi, cov;
    double relw = ci_rel_halfwidth(samples, scratch, n, &med, &lo, &hi, &cov);
    res->median_ns = med;
    res->ci95_lo_ns = lo;
    res->ci95_hi_ns = hi;
    res->ci_coverage = cov;
    summarise(res, scratch, n, &o);
    res->runs = (int)n;
    res->block = (int)k;
    res->calls = (long long)n * k;
    res->measure_s = seconds;
    res->noisy = !converged && relw > o.rel_ci;
    res->sample_ns = samples;
    free(scratch);
    if (res->noisy)
        qs_log("latency: the 95%% CI of the median [%.1f, %.1f] ns is +-%.2f%% of %.1f ns, wider "
               "than the %.2f%% asked, after %.2f s and %zu samples: the machine looks noisy",
               lo, hi, isfinite(relw) ? 100.0 * relw : INFINITY, med, 100.0 * o.rel_ci,
               res->measure_s, n);
    return QS_OK;
}
