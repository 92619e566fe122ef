/* RAPL energy counters through Linux powercap (intel-rapl:N, intel-rapl:N:M).
 * Packages and DRAM sub-domains are counted (core/uncore lie inside the
 * package; psys overlaps everything). See docs/metrics.md, "Energy". */
#include "qsearch/energy.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAPL_DEFAULT_ROOT "/sys/class/powercap"

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* snprintf that truncates silently (paths are bounded; a cut message is fine). */
static void sfmt(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void sfmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* Appends a printf-style clause to a note, separated by "; ". */
static void note_add(char *note, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(note);
    if (len + 3 >= cap)
        return;
    if (len) {
        memcpy(note + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note + len, cap - len, fmt, ap);
    va_end(ap);
}

/* Reads the first line of dir/file into buf (newline removed). */
static int read_line(const char *dir, const char *file, char *buf, size_t cap, char *why,
                     size_t whycap)
{
    char path[640];
    sfmt(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        sfmt(why, whycap, "%s: %s", path, strerror(errno));
        return -1;
    }
    errno = 0;
    char *got = fgets(buf, (int)cap, f);
    int e = errno;
    fclose(f);
    if (!got) {
        sfmt(why, whycap, "%s: %s", path, e ? strerror(e) : "empty");
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/* Reads dir/file as an unsigned decimal counter. */
static int read_u64(const char *dir, const char *file, uint64_t *v, char *why, size_t whycap)
{
    char buf[64];
    if (read_line(dir, file, buf, sizeof buf, why, whycap) != 0)
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (buf[0] < '0' || buf[0] > '9' || *end != '\0' || errno) {
        sfmt(why, whycap, "%s/%s:1: not an unsigned integer: \"%.20s\"", dir, file, buf);
        return -1;
    }
    *v = x;
    return 0;
}

/* Parses "intel-rapl:N" (colons = 1) or "intel-rapl:N:M" (colons = 2). */
static int rapl_entry(const char *name, int colons, int *idx)
{
    const char *pre = "intel-rapl:";
    size_t pl = strlen(pre);
    if (strncmp(name, pre, pl) != 0)
        return 0;
    const char *p = name + pl;
    int seen = 1, last = -1;
    while (*p) {
        if (*p == ':') {
            seen++;
            last = -1;
        } else if (*p >= '0' && *p <= '9') {
            last = (last < 0 ? 0 : last * 10) + (*p - '0');
            if (last > 100000)
                return 0;
        } else {
            return 0;
        }
        p++;
    }
    if (seen != colons || last < 0)
        return 0;
    *idx = last;
    return 1;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorted indices of the entries of dir that are rapl domains with `colons` colons. */
static int list_domains(const char *dir, int colons, int *idx, int cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int i;
        if (n < cap && rapl_entry(e->d_name, colons, &i))
            idx[n++] = i;
    }
    closedir(d);
    qsort(idx, (size_t)n, sizeof *idx, cmp_int);
    return n;
}

/* Fills dom from dir; returns -1 with why when a counter cannot be read. */
static int domain_init(qs_rapl_domain *dom, const char *dir, int parent, char *why, size_t whycap)
{
    memset(dom, 0, sizeof *dom);
    sfmt(dom->path, sizeof dom->path, "%s", dir);
    dom->parent = parent;
    char ignore[256];
    if (read_line(dir, "name", dom->name, sizeof dom->name, ignore, sizeof ignore) != 0) {
        const char *base = strrchr(dir, '/');
        sfmt(dom->name, sizeof dom->name, "%s", base ? base + 1 : dir);
    }
    if (read_u64(dir, "max_energy_range_uj", &dom->max_range_uj, why, whycap) != 0)
        return -1;
    if (read_u64(dir, "energy_uj", &dom->last_uj, why, whycap) != 0)
        return -1;
    return 0;
}

static void add_subdomains(qs_rapl *r, int parent, int pkg_idx)
{
    int sub[QS_RAPL_MAX_DOMAINS];
    int ns = list_domains(r->dom[parent].path, 2, sub, QS_RAPL_MAX_DOMAINS);
    for (int s = 0; s < ns; s++) {
        if (r->n >= QS_RAPL_MAX_DOMAINS) {
            note_add(r->reason, sizeof r->reason, "more than %d domains: rest ignored",
                     QS_RAPL_MAX_DOMAINS);
            return;
        }
        char dir[600], why[400];
        sfmt(dir, sizeof dir, "%s/intel-rapl:%d:%d", r->dom[parent].path, pkg_idx, sub[s]);
        qs_rapl_domain *d = &r->dom[r->n];
        if (domain_init(d, dir, parent, why, sizeof why) != 0) {
            note_add(r->reason, sizeof r->reason, "sub-domain left out: %s", why);
            continue;
        }
        d->counted = strcmp(d->name, "dram") == 0; /* core/uncore are inside the package */
        r->n++;
    }
}

qs_status qs_rapl_open(qs_rapl *r, const char *root, qs_error *err)
{
    (void)err;
    memset(r, 0, sizeof *r);
    if (!root)
        root = RAPL_DEFAULT_ROOT;
    int pk[QS_RAPL_MAX_DOMAINS];
    int np = list_domains(root, 1, pk, QS_RAPL_MAX_DOMAINS);
    if (np < 0) {
        sfmt(r->reason, sizeof r->reason, "RAPL not available: %s: %s", root, strerror(errno));
        return QS_OK;
    }
    if (np == 0) {
        sfmt(r->reason, sizeof r->reason,
                 "RAPL not available: no intel-rapl:N domain under %s (no driver, or a VM)", root);
        return QS_OK;
    }
    int counted = 0;
    for (int p = 0; p < np && r->n < QS_RAPL_MAX_DOMAINS; p++) {
        char dir[600], why[400];
        sfmt(dir, sizeof dir, "%s/intel-rapl:%d", root, pk[p]);
        int at = r->n;
        if (domain_init(&r->dom[at], dir, -1, why, sizeof why) != 0) {
            /* A missing package would make the total silently low: refuse instead. */
            sfmt(r->reason, sizeof r->reason,
                     "RAPL not available: %s (energy_uj is root-only since Linux 5.10)", why);
            r->n = 0;
            return QS_OK;
        }
        /* psys (platform) overlaps the packages: only real packages are counted. */
        r->dom[at].counted = strncmp(r->dom[at].name, "package", 7) == 0;
        counted += r->dom[at].counted;
        r->n++;
        add_subdomains(r, at, pk[p]);
    }
    if (!counted) {
        sfmt(r->reason, sizeof r->reason,
                 "RAPL not available: no package domain under %s", root);
        r->n = 0;
        return QS_OK;
    }
    r->available = 1;
    return QS_OK;
}

qs_status qs_rapl_start(qs_rapl *r, qs_error *err)
{
    if (!r->available)
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s", r->reason);
    char why[400];
    for (int i = 0; i < r->n; i++) {
        if (read_u64(r->dom[i].path, "energy_uj", &r->dom[i].last_uj, why, sizeof why) != 0)
            return qs_error_set(err, QS_ERR_IO, "RAPL: %s", why);
        r->dom[i].joules = 0.0;
    }
    r->t0_s = mono_s();
    r->t_s = 0.0;
    return QS_OK;
}

qs_status qs_rapl_poll(qs_rapl *r, qs_error *err)
{
    if (!r->available)
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s", r->reason);
    char why[400];
    for (int i = 0; i < r->n; i++) {
        qs_rapl_domain *d = &r->dom[i];
        uint64_t now;
        if (read_u64(d->path, "energy_uj", &now, why, sizeof why) != 0)
            return qs_error_set(err, QS_ERR_IO, "RAPL: %s", why);
        if (now < d->last_uj && d->last_uj > d->max_range_uj)
            return qs_error_set(err, QS_ERR_IO,
                                "RAPL: %s/energy_uj: %llu above max_energy_range_uj %llu",
                                d->path, (unsigned long long)d->last_uj,
                                (unsigned long long)d->max_range_uj);
        /* The counter runs 0..max_range and wraps to 0: one wrap since the last read. */
        uint64_t delta = now >= d->last_uj ? now - d->last_uj : (d->max_range_uj - d->last_uj) + now;
        d->joules += (double)delta * 1e-6;
        d->last_uj = now;
    }
    r->t_s = mono_s() - r->t0_s;
    return QS_OK;
}

qs_status qs_rapl_stop(qs_rapl *r, double *joules, double *seconds, qs_error *err)
{
    QS_TRY(qs_rapl_poll(r, err));
    double j = 0.0;
    for (int i = 0; i < r->n; i++)
        if (r->dom[i].counted)
            j += r->dom[i].joules;
    *joules = j;
    *seconds = r->t_s;
    return QS_OK;
}
