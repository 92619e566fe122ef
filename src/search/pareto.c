/* Pareto utilities: dominance, constrained domination, non-dominated sort,
 * crowding distance, front extraction, 2-D hypervolume. */
#include "qsearch/pareto.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Value turned into "smaller is better"; NaN becomes +inf (the worst). */
static double norm(double v, const qs_direction *dirs, size_t k)
{
    if (isnan(v))
        return INFINITY;
    return (dirs && dirs[k] == QS_MAXIMIZE) ? -v : v;
}

int qs_pareto_dominates(const double *a, const double *b, size_t m, const qs_direction *dirs)
{
    int strictly = 0;
    for (size_t k = 0; k < m; k++) {
        double x = norm(a[k], dirs, k), y = norm(b[k], dirs, k);
        if (x > y)
            return 0;
        if (x < y)
            strictly = 1;
    }
    return strictly;
}

double qs_pareto_violation(const double *c, size_t nc)
{
    if (nc == 0)
        return 0.0;
    if (!c)
        return INFINITY;
    double v = 0.0;
    for (size_t i = 0; i < nc; i++) {
        if (isnan(c[i]))
            return INFINITY;
        if (c[i] > 0)
            v += c[i];
    }
    return v;
}

int qs_pareto_constrained_dominates(const double *a, double viol_a, const double *b,
                                    double viol_b, size_t m, const qs_direction *dirs)
{
    int fa = viol_a <= 0, fb = viol_b <= 0;
    if (fa && fb)
        return qs_pareto_dominates(a, b, m, dirs);
    if (fa)
        return 1;
    if (fb)
        return 0;
    return viol_a < viol_b;
}

static int dom(const double *values, const double *viol, size_t m, const qs_direction *dirs,
               size_t i, size_t j)
{
    if (viol)
        return qs_pareto_constrained_dominates(values + i * m, viol[i], values + j * m, viol[j],
                                               m, dirs);
    return qs_pareto_dominates(values + i * m, values + j * m, m, dirs);
}

/* d[i][j] = 1 if i dominates j; count[j] = how many points dominate j. */
static void dom_matrix(const double *values, const double *viol, size_t n, size_t m,
                       const qs_direction *dirs, unsigned char *d, size_t *count)
{
    for (size_t i = 0; i < n; i++) {
        d[i * n + i] = 0;
        for (size_t j = i + 1; j < n; j++) {
            int ij = dom(values, viol, m, dirs, i, j);
            int ji = !ij && dom(values, viol, m, dirs, j, i);
            d[i * n + j] = (unsigned char)ij;
            d[j * n + i] = (unsigned char)ji;
            count[j] += (size_t)ij;
            count[i] += (size_t)ji;
        }
    }
}

qs_status qs_pareto_sort(const double *values, const double *viol, size_t n, size_t m,
                         const qs_direction *dirs, size_t *rank_out, size_t *n_fronts,
                         qs_error *err)
{
    if (n_fronts)
        *n_fronts = 0;
    if (n == 0)
        return QS_OK;
    /* count[i]: how many points dominate i; dominated-by lists in one n*n bit matrix
     * would be smaller, but n is a population (hundreds), so a byte matrix is fine. */
    size_t *count = calloc(n, sizeof *count);
    size_t *front = malloc(n * sizeof *front);
    unsigned char *d = malloc(n * n);
    if (!count || !front || !d) {
        free(count);
        free(front);
        free(d);
        return qs_error_set(err, QS_ERR_NOMEM, "pareto sort: out of memory for %zu points", n);
    }
    dom_matrix(values, viol, n, m, dirs, d, count);
    size_t nf = 0, len = 0, done = 0;
    for (size_t i = 0; i < n; i++)
        if (count[i] == 0)
            front[len++] = i;
    while (len > 0) {
        size_t next_len = 0;
        for (size_t a = 0; a < len; a++)
            rank_out[front[a]] = nf;
        done += len;
        /* The next front is built in place after the current one is consumed. */
        size_t *cur = malloc(len * sizeof *cur);
        if (!cur) {
            free(count);
            free(front);
            free(d);
            return qs_error_set(err, QS_ERR_NOMEM, "pareto sort: out of memory");
        }
        memcpy(cur, front, len * sizeof *cur);
        for (size_t a = 0; a < len; a++)
            for (size_t j = 0; j < n; j++)
                if (d[cur[a] * n + j] && --count[j] == 0)
                    front[next_len++] = j;
        free(cur);
        len = next_len;
        nf++;
    }
    free(count);
    free(front);
    free(d);
    if (done != n)
        return qs_error_set(err, QS_ERR_INTERNAL, "pareto sort: %zu of %zu points unranked "
                            "(cyclic dominance)", n - done, n);
    if (n_fronts)
        *n_fronts = nf;
    return QS_OK;
}

/* Stable merge sort of idx[n] by key(idx) ascending; tmp[n] scratch. */
typedef int (*less_fn)(const void *ctx, size_t a, size_t b);

static void merge_sort(size_t *idx, size_t *tmp, size_t n, less_fn less, const void *ctx)
{
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = less(ctx, idx[j], idx[i]) ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[o++] = idx[i++];
            while (j < hi)
                tmp[o++] = idx[j++];
        }
        memcpy(idx, tmp, n * sizeof *idx);
    }
}

typedef struct {
    const double *values;
    const size_t *idx;
    size_t m, k;
} col_ctx;

/* Compares positions a, b of idx by objective k. */
static int less_col(const void *ctx, size_t a, size_t b)
{
    const col_ctx *c = ctx;
    return c->values[c->idx[a] * c->m + c->k] < c->values[c->idx[b] * c->m + c->k];
}

void qs_pareto_crowding(const double *values, size_t m, const size_t *idx, size_t k,
                        double *dist_out, size_t *scratch)
{
    /* scratch[0..k): positions into idx sorted by one objective; [k..2k): tmp */
    size_t *ord = scratch, *tmp = scratch + k;
    for (size_t j = 0; j < k; j++)
        dist_out[j] = 0.0;
    if (k == 0)
        return;
    for (size_t obj = 0; obj < m; obj++) {
        for (size_t j = 0; j < k; j++)
            ord[j] = j;
        col_ctx c = {values, idx, m, obj};
        merge_sort(ord, tmp, k, less_col, &c);
#define V(j) values[idx[ord[j]] * m + obj]
        double lo = V(0), hi = V(k - 1);
        if (lo == hi)
            continue;
        double width = hi - lo;
        if (!(width > 0) || isinf(width))
            width = 1.0;
        for (size_t j = 0; j < k; j++) {
            double prev = j == 0 ? -INFINITY : V(j - 1);
            double next = j + 1 == k ? INFINITY : V(j + 1);
            double gap = prev == next ? 0.0 : next - prev;
            dist_out[ord[j]] += gap / width;
        }
#undef V
    }
}

size_t qs_pareto_front(const double *values, size_t n, size_t m, const qs_direction *dirs,
                       size_t *idx_out)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++)
            dominated = j != i && qs_pareto_dominates(values + j * m, values + i * m, m, dirs);
        if (!dominated)
            idx_out[len++] = i;
    }
    return len;
}

typedef struct {
    const double *values;
    const qs_direction *dirs;
} hv_ctx;

static int less_xy(const void *ctx, size_t a, size_t b)
{
    const hv_ctx *c = ctx;
    double xa = norm(c->values[2 * a], c->dirs, 0), xb = norm(c->values[2 * b], c->dirs, 0);
    if (xa != xb)
        return xa < xb;
    return norm(c->values[2 * a + 1], c->dirs, 1) < norm(c->values[2 * b + 1], c->dirs, 1);
}

double qs_pareto_hv2d(const double *values, size_t n, const qs_direction *dirs,
                      const double ref[2], size_t *scratch)
{
    double rx = norm(ref[0], dirs, 0), ry = norm(ref[1], dirs, 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        if (norm(values[2 * i], dirs, 0) < rx && norm(values[2 * i + 1], dirs, 1) < ry)
            scratch[len++] = i;
    if (len == 0)
        return 0.0;
    hv_ctx c = {values, dirs};
    merge_sort(scratch, scratch + n, len, less_xy, &c);
    /* Sweep by increasing x: each point adds the strip between it and the lowest y so far. */
    double area = 0.0, best_y = ry;
    for (size_t a = 0; a < len; a++) {
        double x = norm(values[2 * scratch[a]], dirs, 0), y = norm(values[2 * scratch[a] + 1], dirs, 1);
        if (y < best_y) {
            area += (rx - x) * (best_y - y);
            best_y = y;
        }
    }
    return area;
}

/* ---- hypervolume in any dimension (WFG: While, Bradstreet, Barone 2012) ---- */

/* Sorts rows of pts[n][m] by the first objective, ascending (insertion sort: small n). */
static void sort_rows(double *pts, size_t n, size_t m, double *tmp)
{
    for (size_t i = 1; i < n; i++) {
        memcpy(tmp, pts + i * m, m * sizeof *tmp);
        size_t j = i;
        for (; j > 0 && pts[(j - 1) * m] > tmp[0]; j--)
            memcpy(pts + j * m, pts + (j - 1) * m, m * sizeof *pts);
        memcpy(pts + j * m, tmp, m * sizeof *tmp);
    }
}

/* WFG's limit step: the points q[n][m] clipped to p's box (max(q, p)), keeping
 * only the non-dominated ones, into out; returns how many. */
static size_t limit_set(const double *q, size_t n, size_t m, const double *p, double *out)
{
    size_t len = 0;
    for (size_t j = 0; j < n; j++) {
        double *c = out + len * m;
        for (size_t k = 0; k < m; k++)
            c[k] = q[j * m + k] > p[k] ? q[j * m + k] : p[k];
        int dominated = 0;
        for (size_t a = 0; a < len && !dominated; a++) {
            int le = 1;
            for (size_t k = 0; k < m && le; k++)
                le = out[a * m + k] <= c[k];
            dominated = le;
        }
        if (dominated)
            continue;
        /* drop earlier kept points that c dominates, then append c */
        size_t w = 0;
        for (size_t a = 0; a < len; a++) {
            int ge = 1;
            for (size_t k = 0; k < m && ge; k++)
                ge = out[a * m + k] >= c[k];
            if (!ge) {
                if (w != a)
                    memmove(out + w * m, out + a * m, m * sizeof *out);
                w++;
            }
        }
        if (w != len)
            memmove(out + w * m, c, m * sizeof *out);
        len = w + 1;
    }
    return len;
}

/* Hypervolume of minimisation points pts[n][m] (all strictly below ref); may reorder pts.
 * Returns NAN on allocation failure. */
static double wfg(double *pts, size_t n, size_t m, const double *ref)
{
    if (n == 0)
        return 0.0;
    if (m == 1) {
        double lo = pts[0];
        for (size_t i = 1; i < n; i++)
            lo = pts[i] < lo ? pts[i] : lo;
        return ref[0] - lo;
    }
    double *buf = malloc((n * m + m) * sizeof *buf);
    if (!buf)
        return NAN;
    double *tmp = buf + n * m;
    sort_rows(pts, n, m, tmp);
    double vol = 0.0;
    if (m == 2) {
        double best_y = ref[1];
        for (size_t i = 0; i < n; i++)
            if (pts[2 * i + 1] < best_y) {
                vol += (ref[0] - pts[2 * i]) * (best_y - pts[2 * i + 1]);
                best_y = pts[2 * i + 1];
            }
        free(buf);
        return vol;
    }
    for (size_t i = 0; i < n && !isnan(vol); i++) {
        const double *p = pts + i * m;
        double box = 1.0;
        for (size_t k = 0; k < m; k++)
            box *= ref[k] - p[k];
        size_t len = limit_set(pts + (i + 1) * m, n - i - 1, m, p, buf);
        vol += box - wfg(buf, len, m, ref);
    }
    free(buf);
    return vol;
}

qs_status qs_pareto_hypervolume(const double *values, size_t n, size_t m, const qs_direction *dirs,
                                const double *ref, double *out, qs_error *err)
{
    *out = 0.0;
    if (m == 0)
        return qs_error_set(err, QS_ERR_USAGE, "hypervolume: no objectives");
    double *pts = malloc((n * m + m + 1) * sizeof *pts);
    if (!pts)
        return qs_error_set(err, QS_ERR_NOMEM, "hypervolume: out of memory for %zu points", n);
    double *r = pts + n * m;
    for (size_t k = 0; k < m; k++)
        r[k] = norm(ref[k], dirs, k);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int inside = 1;
        for (size_t k = 0; k < m; k++) {
            pts[len * m + k] = norm(values[i * m + k], dirs, k);
            inside &= pts[len * m + k] < r[k];
        }
        len += (size_t)inside;
    }
    double v = wfg(pts, len, m, r);
    free(pts);
    if (isnan(v))
        return qs_error_set(err, QS_ERR_NOMEM, "hypervolume: out of memory");
    *out = v;
    return QS_OK;
}
