/* Run-time measurement: latency of a callback with a distribution-free
 * confidence interval of its median, and CPU utilisation / peak RSS over a
 * region. Definitions are in docs/metrics.md ("Latency", "CPU utilisation").
 *
 * The latency machinery is generic over `void run(void *ctx)`: one call is
 * one forward pass at some batch (the caller's choice). Calls shorter than
 * opt.min_block_ns are timed in blocks of k calls (k calibrated during
 * warm-up) and every figure is reported per call. */
#ifndef QSEARCH_MEASURE_H
#define QSEARCH_MEASURE_H

#include <stddef.h>

#include "qsearch/status.h"

typedef void (*qs_latency_fn)(void *ctx);

typedef struct {
    double warmup_s;     /* warm-up lasts at least this long (default 0.1 s) */
    int warmup_runs;     /* ... and at least this many calls (default 10) */
    double budget_s;     /* measuring stops when this much time is spent (default 2 s) */
    double rel_ci;       /* ... or when the 95% CI of the median is within rel_ci of it (0.01) */
    double min_time_s;   /* ... but not before this much measuring time (default 0.2 s) */
    int min_samples;     /* timing samples taken even past the budget (default 20, >= 1) */
    int max_samples;     /* capacity for samples; measuring stops there (default 100000) */
    double min_block_ns; /* a timed block lasts at least this long (default 10000 ns) */
    int batch;           /* inputs per call, for per-sample time and throughput (default 1) */
    int pin_cpu;         /* pin the calling thread to this core while measuring; -1: no (default) */
} qs_latency_options;

typedef struct {
    /* Per-call figures, in nanoseconds, over the timing samples. */
    double median_ns, p95_ns;     /* linear-interpolation quantiles (numpy's default) */
    double ci95_lo_ns, ci95_hi_ns; /* order-statistic 95% CI of the median */
    double ci_coverage;           /* exact binomial coverage of that interval (>= 0.95 when n >= 6) */
    double mean_ns, min_ns, max_ns, stddev_ns;
    double per_sample_ns;         /* median_ns / batch */
    double throughput_sps;        /* batch * 1e9 / median_ns, inputs per second */
    int runs;                     /* timing samples taken (the n of the statistics) */
    int block;                    /* calls per timing sample (k) */
    long long calls;              /* calls timed in all: runs * block */
    long long warmup_calls;       /* calls made during warm-up and calibration */
    int batch;
    double measure_s;             /* wall time of the measuring phase */
    double clock_overhead_ns;     /* median cost of one clock read (included once per sample) */
    double clock_res_ns;          /* clock_getres of the clock used */
    int noisy;                    /* 1: the CI was still wider than rel_ci when measuring stopped */
    int pinned_cpu;               /* core the thread was pinned to, -1 if not pinned */
    double *sample_ns;            /* [runs]: per-call time of each sample, in measurement order */
} qs_latency_result;

/* Fills opt with the defaults listed above. */
void qs_latency_options_default(qs_latency_options *opt);

/* Measures run(ctx): warm-up and block calibration, then timing samples until
 * the CI criterion, the budget or max_samples ends it. opt may be NULL
 * (defaults). Logs a message when the result is noisy. Bad options or an
 * impossible pinning are QS_ERR_USAGE. res is filled on success; release it
 * with qs_latency_result_free. Nothing is allocated while timing. */
qs_status qs_latency_measure(qs_latency_fn run, void *ctx, const qs_latency_options *opt,
                             qs_latency_result *res, qs_error *err);

/* Releases res->sample_ns; res may be NULL. */
void qs_latency_result_free(qs_latency_result *res);

/* 0-based indices [*lo, *hi] into n ascending values whose order statistics
 * form the shortest symmetric interval covering the median with probability
 * >= conf (binomial(n, 1/2)); returns the exact coverage. When n is too small
 * for conf, returns [0, n-1] and its coverage (< conf). n = 0 returns 0. */
double qs_latency_median_ci(size_t n, double conf, size_t *lo, size_t *hi);

/* Quantile p in [0,1] of n ascending values by linear interpolation between
 * order statistics (h = (n-1)p); NaN when n = 0. */
double qs_latency_quantile(const double *sorted, size_t n, double p);

/* CPU time and wall time over a region, and the process's peak RSS. */
typedef struct {
    double wall0_s, cpu0_s, user0_s, sys0_s; /* readings at begin */
    int threads;                             /* threads the region may use */
} qs_usage_region;

typedef struct {
    double wall_s;          /* monotonic wall time of the region */
    double cpu_s;           /* process CPU time (user + sys) spent in the region */
    double user_s, sys_s;   /* the split, from getrusage (microsecond resolution) */
    int threads;
    double cpu_util;        /* cpu_s / (wall_s * threads); 1.0 = every allowed thread busy */
    long long peak_rss_bytes; /* qs_usage_peak_rss_bytes() at the end of the region */
} qs_usage;

/* Starts a region that may use `threads` threads (>= 1; < 1 counts as 1). */
void qs_usage_begin(qs_usage_region *r, int threads);

/* Ends the region begun with r and fills u. */
qs_status qs_usage_end(const qs_usage_region *r, qs_usage *u, qs_error *err);

/* Peak resident set size of this process in bytes since it started or since
 * the last qs_usage_reset_peak_rss: VmHWM of /proc/self/status, else
 * ru_maxrss x 1024 (not resettable); -1 if unknown. */
long long qs_usage_peak_rss_bytes(void);

/* Resets the peak RSS to the current RSS (writes "5" to /proc/self/clear_refs,
 * Linux >= 4.0), for a per-trial peak; QS_ERR_UNSUPPORTED when not possible. */
qs_status qs_usage_reset_peak_rss(qs_error *err);

#endif
