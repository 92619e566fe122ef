/* Best-so-far curves of qsearch's samplers on a lookup objective, in the same
 * CSV as bench/optuna_peer.py prints for Optuna (impl,sampler,trial,median,q1,q3),
 * so the two can be compared side by side. Built and run by bench/sampler_peer.sh.
 *
 *   sampler_curve --table T.csv [--samplers tpe,random,nsgaii,bruteforce]
 *                 [--trials N] [--repeats R] [--direction maximize|minimize[,...]]
 *                 [--ref R0,R1,...] [--population P] [--multivariate]
 *
 * The table has one column per parameter (choice index) and then one column
 * per objective, named value or value0, value1, ... With one objective the
 * curve is the best value so far; with several it is the hypervolume of the
 * trials so far against --ref. Every ask counts as a trial, duplicates
 * included, as in the Optuna loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/sampler.h"

#define MAXP 64
#define MAXM 8

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "sampler_curve: %s%s\n", msg, arg ? arg : "");
    exit(2);
}

typedef struct {
    size_t np, m;
    uint32_t nc[MAXP];
    double *value; /* [space size][m], NaN where the table has no row */
    uint64_t size;
} table;

static void parse_header(char *line, table *t, const char *path)
{
    t->np = t->m = 0;
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n")) {
        if (!strncmp(tok, "value", 5))
            t->m++;
        else if (t->m == 0)
            t->np++;
        else
            die("parameter column after the value columns in ", path);
    }
    if (t->np == 0 || t->np > MAXP || t->m == 0 || t->m > MAXM)
        die("header needs parameter columns then value columns: ", path);
}

static void read_table(const char *path, table *t)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open ", path);
    char line[4096];
    if (!fgets(line, sizeof line, f))
        die("empty table ", path);
    parse_header(line, t, path);
    size_t cap = 1024, n = 0;
    uint32_t *rows = malloc(cap * t->np * sizeof *rows);
    double *vals = malloc(cap * t->m * sizeof *vals);
    memset(t->nc, 0, sizeof t->nc);
    while (rows && vals && fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            rows = realloc(rows, cap * t->np * sizeof *rows);
            vals = realloc(vals, cap * t->m * sizeof *vals);
            if (!rows || !vals)
                break;
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
        for (size_t k = 0; k < t->m; k++) {
            vals[n * t->m + k] = strtod(p, &end);
            if (end == p)
                die("bad value in ", path);
            p = end + 1;
        }
        n++;
    }
    if (!rows || !vals)
        die("out of memory", NULL);
    fclose(f);
    qs_sampler_space sp = {t->np, NULL, t->nc};
    bool ovf;
    qs_sampler_space_size(&sp, &t->size, &ovf);
    if (ovf || t->size > 100000000)
        die("table space too large", NULL);
    t->value = malloc(t->size * t->m * sizeof *t->value);
    if (!t->value)
        die("out of memory", NULL);
    for (uint64_t i = 0; i < t->size * t->m; i++)
        t->value[i] = NAN;
    for (size_t r = 0; r < n; r++) {
        uint64_t idx;
        qs_sampler_config_index(&sp, false, rows + r * t->np, &idx, NULL);
        memcpy(t->value + idx * t->m, vals + r * t->m, t->m * sizeof *vals);
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

static size_t parse_list(const char *s, double *out, size_t max)
{
    size_t n = 0;
    char *end;
    while (*s && n < max) {
        out[n++] = strtod(s, &end);
        if (end == s)
            die("bad number list: ", s);
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

typedef struct {
    const char *path, *samplers, *dirs, *ref;
    size_t trials, repeats, pop;
    bool mv;
} args;

static void parse_args(int argc, char **argv, args *a)
{
    *a = (args){NULL, "tpe,random,nsgaii", "maximize", NULL, 100, 20, 50, false};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--multivariate")) {
            a->mv = true;
            continue;
        }
        if (!v)
            die("missing value for ", k);
        i++;
        if (!strcmp(k, "--table"))
            a->path = v;
        else if (!strcmp(k, "--samplers"))
            a->samplers = v;
        else if (!strcmp(k, "--trials"))
            a->trials = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--repeats"))
            a->repeats = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--population"))
            a->pop = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--direction"))
            a->dirs = v;
        else if (!strcmp(k, "--ref"))
            a->ref = v;
        else
            die("unknown option ", k);
    }
    if (!a->path || a->trials == 0 || a->repeats == 0)
        die("usage: sampler_curve --table T.csv [--samplers ...] [--trials N] [--repeats R]", NULL);
}

/* One run: curve[trials] of best value (one objective) or hypervolume. */
static void run_one(const table *t, const args *a, qs_sampler_kind kind, uint64_t seed,
                    const qs_direction *dir, const double *ref, double *curve)
{
    qs_sampler_space sp = {t->np, NULL, t->nc};
    qs_sampler_options o;
    qs_sampler_options_default(&o);
    o.seed = seed;
    o.population_size = a->pop;
    o.multivariate = a->mv;
    qs_sampler *s;
    qs_history h;
    qs_error err;
    if (qs_sampler_new(kind, &sp, &o, &s, &err) != QS_OK ||
        qs_history_init(&h, t->np, t->m, dir, 0, &err) != QS_OK)
        die(err.msg, NULL);
    bool maximize = dir[0] == QS_MAXIMIZE;
    double best = maximize ? -INFINITY : INFINITY;
    uint32_t c[MAXP];
    for (size_t k = 0; k < a->trials; k++) {
        bool done = false;
        if (qs_sampler_ask(s, &h, c, &done, &err) != QS_OK)
            die(err.msg, NULL);
        if (!done) {
            uint64_t idx;
            qs_sampler_config_index(&sp, false, c, &idx, NULL);
            const double *v = t->value + idx * t->m;
            if (isnan(v[0]))
                die("configuration missing from the table", NULL);
            if (qs_history_push(&h, c, QS_SAMPLER_COMPLETE, v, NULL, &err) != QS_OK)
                die(err.msg, NULL);
            best = maximize ? fmax(best, v[0]) : fmin(best, v[0]);
        }
        if (t->m == 1)
            curve[k] = best;
        else if (qs_pareto_hypervolume(h.values, h.n_trials, t->m, dir, ref, &curve[k], &err))
            die(err.msg, NULL);
    }
    qs_history_free(&h);
    qs_sampler_delete(s);
}

int main(int argc, char **argv)
{
    args a;
    parse_args(argc, argv, &a);
    table t;
    read_table(a.path, &t);
    qs_direction dir[MAXM];
    char dbuf[256];
    snprintf(dbuf, sizeof dbuf, "%s", a.dirs);
    size_t nd = 0;
    for (char *tok = strtok(dbuf, ","); tok && nd < MAXM; tok = strtok(NULL, ","))
        dir[nd++] = !strcmp(tok, "maximize") ? QS_MAXIMIZE : QS_MINIMIZE;
    for (; nd < t.m; nd++)
        dir[nd] = dir[nd - 1];
    double ref[MAXM];
    if (t.m > 1 && (!a.ref || parse_list(a.ref, ref, MAXM) != t.m))
        die("several objectives need --ref with one value per objective", NULL);
    /* the table's optimum of the first objective, for the 1% summary */
    double opt = dir[0] == QS_MAXIMIZE ? -INFINITY : INFINITY;
    for (uint64_t i = 0; i < t.size; i++)
        if (!isnan(t.value[i * t.m]))
            opt = dir[0] == QS_MAXIMIZE ? fmax(opt, t.value[i * t.m])
                                                  : fmin(opt, t.value[i * t.m]);
    double *curves = malloc(a.repeats * a.trials * sizeof *curves);
    double *col = malloc(a.repeats * sizeof *col);
    if (!curves || !col)
        die("out of memory", NULL);
    printf("impl,sampler,trial,median,q1,q3\n");
    char list[256];
    snprintf(list, sizeof list, "%s", a.samplers);
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        qs_sampler_kind kind;
        qs_error err;
        if (qs_sampler_kind_parse(name, &kind, &err) != QS_OK)
            die(err.msg, NULL);
        for (size_t r = 0; r < a.repeats; r++)
            run_one(&t, &a, kind, r, dir, ref, curves + r * a.trials);
        for (size_t k = 0; k < a.trials; k++) {
            for (size_t r = 0; r < a.repeats; r++)
                col[r] = curves[r * a.trials + k];
            qsort(col, a.repeats, sizeof *col, cmp_d);
            printf("qsearch,%s%s,%zu,%.6g,%.6g,%.6g\n", name,
                   a.mv && kind == QS_SAMPLER_TPE ? "-mv" : "", k + 1, pct(col, a.repeats, 0.5),
                   pct(col, a.repeats, 0.25), pct(col, a.repeats, 0.75));
        }
        if (t.m > 1)
            continue;
        /* trials needed to get within 1% of the table's optimum, median over repeats */
        size_t reached = 0;
        for (size_t r = 0; r < a.repeats; r++) {
            col[r] = INFINITY;
            for (size_t k = 0; k < a.trials; k++)
                if (fabs(curves[r * a.trials + k] - opt) <= 0.01 * fabs(opt)) {
                    col[r] = (double)(k + 1);
                    reached++;
                    break;
                }
        }
        qsort(col, a.repeats, sizeof *col, cmp_d);
        fprintf(stderr, "qsearch %s: median trials to within 1%% of the optimum %g "
                "(reached in %zu/%zu repeats)\n", name, pct(col, a.repeats, 0.5), reached,
                a.repeats);
    }
    free(curves);
    free(col);
    free(t.value);
    return 0;
}
