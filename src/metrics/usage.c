/* CPU utilisation over a region and peak RSS. See docs/metrics.md. */
#include "qsearch/measure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return -1.0;
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void rusage_times(double *user, double *sys)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        *user = *sys = 0.0;
        return;
    }
    *user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

void qs_usage_begin(qs_usage_region *r, int threads)
{
    r->threads = threads < 1 ? 1 : threads;
    rusage_times(&r->user0_s, &r->sys0_s);
    r->cpu0_s = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    r->wall0_s = clock_s(CLOCK_MONOTONIC);
}

/* VmHWM of /proc/self/status in bytes, -1 when unavailable. */
static long long proc_hwm_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            char *end;
            long long v = strtoll(line + 6, &end, 10);
            if (end != line + 6 && v >= 0)
                kib = v;
            break;
        }
    fclose(f);
    return kib < 0 ? -1 : kib * 1024LL;
}

qs_status qs_usage_reset_peak_rss(qs_error *err)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "/proc/self/clear_refs: %s",
                            strerror(errno));
    int bad = fputs("5", f) < 0;
    bad |= fclose(f) != 0;
    if (bad || proc_hwm_bytes() < 0)
        return qs_error_set(err, QS_ERR_UNSUPPORTED,
                            "/proc/self/clear_refs: resetting the peak RSS is not supported");
    return QS_OK;
}

long long qs_usage_peak_rss_bytes(void)
{
    long long hwm = proc_hwm_bytes();
    if (hwm >= 0)
        return hwm;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (long long)ru.ru_maxrss * 1024LL; /* Linux reports KiB */
}

qs_status qs_usage_end(const qs_usage_region *r, qs_usage *u, qs_error *err)
{
    double wall = clock_s(CLOCK_MONOTONIC);
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double user, sys;
    rusage_times(&user, &sys);
    memset(u, 0, sizeof *u);
    if (wall < 0 || cpu < 0 || r->wall0_s < 0 || r->cpu0_s < 0)
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "usage: clock_gettime failed: %s",
                            strerror(errno));
    u->wall_s = wall - r->wall0_s;
    u->cpu_s = cpu - r->cpu0_s;
    u->user_s = user - r->user0_s;
    u->sys_s = sys - r->sys0_s;
    u->threads = r->threads;
    u->cpu_util = u->wall_s > 0 ? u->cpu_s / (u->wall_s * r->threads) : 0.0;
    u->peak_rss_bytes = qs_usage_peak_rss_bytes();
    return QS_OK;
}
