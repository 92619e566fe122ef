/* Best-so-far curves of qsearch's samplers on a lookup objective, in the same
 * CSV as bench/optuna_peer.py prints for Optuna (impl,sampler,trial,median,q1,q3),
 * so the two can be compared side by side. Built and run by bench/sampler_peer.sh.
 *
 *   sampler_curve --table T.csv [--samplers tpe,random,nsgaii,bruteforce]
 *                 [--trials N] [--repeats R] [--direction maximize|minimize]
 *                 [--population P] [--multivariate]
 *
 * Every ask counts as a trial, duplicates included, as in the Optuna loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/sampler.h"

#define MAXP 64

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "sampler_curve: %s%s\n", msg, arg ? arg : "");
    exit(2);
}

typedef struct {
    size_t np;
    uint32_t nc[MAXP];
    double *value; /* [space size], NaN where the table has no row */
    uint64_t size;
} table;

static void read_table(const char *path, table *t)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open ", path);
    char line[4096];
    if (!fgets(line, sizeof line, f))
        die("empty table ", path);
    t->np = 0;
    for (char *p = line; (p = strchr(p, ',')); p++)
        t->np++;
    if (t->np == 0 || t->np > MAXP)
        die("bad header in ", path);
    size_t cap = 1024, n = 0;
    uint32_t *rows = malloc(cap * t->np * sizeof *rows);
    double *vals = malloc(cap * sizeof *vals);
    memset(t->nc, 0, sizeof t->nc);
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            rows = realloc(rows, cap * t->np * sizeof *rows);
            vals = realloc(vals, cap * sizeof *vals);
        }
        char *p = line, *end;
        for (size_t i = 0; i < t->np; i++) {
            long v = strtol(p, &end, 10);
            if (end == p || *end != ',' || v < 0)
                die("bad row in ", path);
            rows[n * t->np + i] = (uint32_t)v;
            if ((uint32_t)v + 1 > t->nc[i])
                t->nc[i] = (uint32_t)v + 1;
            p = end + 1;
        }
        vals[n++] = strtod(p, &end);
        if (end == p)
            die("bad value in ", path);
    }
    fclose(f);
    qs_sampler_space sp = {t->np, NULL, t->nc};
    bool ovf;
    qs_sampler_space_size(&sp, &t->size, &ovf);
    if (ovf || t->size > 100000000)
        die("table space too large", NULL);
    t->value = malloc(t->size * sizeof *t->value);
    for (uint64_t i = 0; i < t->size; i++)
        t->value[i] = NAN;
    for (size_t r = 0; r < n; r++) {
        uint64_t idx;
        qs_sampler_config_index(&sp, false, rows + r * t->np, &idx, NULL);
        t->value[idx] = vals[r];
    }
    free(rows);
    free(vals);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy.percentile's default (linear interpolation between order statistics). */
static double pct(const double *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    if (pos == (double)lo || sorted[lo] == sorted[hi])
        return sorted[lo];
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - (double)lo);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *samplers = "tpe,random,nsgaii";
    size_t trials = 100, repeats = 20, pop = 50;
    bool maximize = true, mv = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--multivariate")) {
            mv = true;
            continue;
        }
        if (!v)
            die("missing value for ", a);
        i++;
        if (!strcmp(a, "--table"))
            path = v;
        else if (!strcmp(a, "--samplers"))
            samplers = v;
        else if (!strcmp(a, "--trials"))
            trials = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--repeats"))
            repeats = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--population"))
            pop = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--direction"))
            maximize = !strcmp(v, "maximize");
        else
            die("unknown option ", a);
    }
    if (!path || trials == 0 || repeats == 0)
        die("usage: sampler_curve --table T.csv [--samplers ...] [--trials N] [--repeats R]", NULL);
    table t;
    read_table(path, &t);
    double opt = maximize ? -INFINITY : INFINITY;
    for (uint64_t i = 0; i < t.size; i++)
        if (!isnan(t.value[i]))
            opt = maximize ? fmax(opt, t.value[i]) : fmin(opt, t.value[i]);
    qs_direction dir = maximize ? QS_DIRECTION_MAXIMIZE : QS_DIRECTION_MINIMIZE;
    qs_sampler_space sp = {t.np, NULL, t.nc};
    double *curves = malloc(repeats * trials * sizeof *curves), *col = malloc(repeats * sizeof *col);
    printf("impl,sampler,trial,median,q1,q3\n");
    char list[256];
    snprintf(list, sizeof list, "%s", samplers);
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        qs_sampler_kind kind;
        qs_error err;
        if (qs_sampler_kind_parse(name, &kind, &err) != QS_OK)
            die(err.msg, NULL);
        for (size_t r = 0; r < repeats; r++) {
            qs_sampler_options o;
            qs_sampler_options_default(&o);
            o.seed = r;
            o.population_size = pop;
            o.multivariate = mv;
            qs_sampler *s;
            qs_history h;
            if (qs_sampler_new(kind, &sp, &o, &s, &err) != QS_OK ||
                qs_history_init(&h, t.np, 1, &dir, 0, &err) != QS_OK)
                die(err.msg, NULL);
            double best = maximize ? -INFINITY : INFINITY;
            uint32_t c[MAXP];
            for (size_t k = 0; k < trials; k++) {
                bool done = false;
                if (qs_sampler_ask(s, &h, c, &done, &err) != QS_OK)
                    die(err.msg, NULL);
                double v = best;
                if (!done) {
                    uint64_t idx;
                    qs_sampler_config_index(&sp, false, c, &idx, NULL);
                    v = t.value[idx];
                    if (isnan(v))
                        die("configuration missing from the table", NULL);
                    qs_history_push(&h, c, QS_SAMPLER_COMPLETE, &v, NULL, &err);
                }
                best = maximize ? fmax(best, v) : fmin(best, v);
                curves[r * trials + k] = best;
            }
            qs_history_free(&h);
            qs_sampler_delete(s);
        }
        for (size_t k = 0; k < trials; k++) {
            for (size_t r = 0; r < repeats; r++)
                col[r] = curves[r * trials + k];
            qsort(col, repeats, sizeof *col, cmp_d);
            printf("qsearch,%s%s,%zu,%.6g,%.6g,%.6g\n", name, mv && kind == QS_SAMPLER_TPE ? "-mv" : "",
                   k + 1, pct(col, repeats, 0.5), pct(col, repeats, 0.25), pct(col, repeats, 0.75));
        }
        /* trials needed to get within 1% of the table's optimum, median over repeats */
        size_t reached = 0;
        for (size_t r = 0; r < repeats; r++) {
            col[r] = INFINITY;
            for (size_t k = 0; k < trials; k++)
                if (fabs(curves[r * trials + k] - opt) <= 0.01 * fabs(opt)) {
                    col[r] = (double)(k + 1);
                    reached++;
                    break;
                }
        }
        qsort(col, repeats, sizeof *col, cmp_d);
        fprintf(stderr, "qsearch %s: median trials to within 1%% of the optimum %g "
                "(reached in %zu/%zu repeats)\n", name, pct(col, repeats, 0.5), reached, repeats);
    }
    free(curves);
    free(col);
    free(t.value);
    return 0;
}
