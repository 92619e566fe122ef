/* Float kernels for the nn module: register-tiled matmuls (compiled for
 * AVX-512, AVX2 and baseline x86-64, picked at run time by target_clones),
 * BatchNorm1d, ReLU and softmax cross-entropy. All pure. */
#include "nn/layers.h"

#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define QS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QS_CLONES
#endif
#define QS_INLINE static inline __attribute__((always_inline))

/* Tile of TR output rows x TC output columns kept in registers. */
#define TR 4
#define TC 16

/* GCC vector extension: one TC-float row of a tile (one zmm, two ymm or four xmm). */
typedef float qs_v16 __attribute__((vector_size(TC * sizeof(float))));

/* c[r][t] (r < rows <= TR, t < cols <= TC, row stride cs) =
 *   sum_k A(r, k) * b[k * bs + t] (+ bias[t]), A(r, k) = a[r * ars + k * aks].
 * The full tile keeps its four accumulator rows in vector registers. */
QS_INLINE void tile(const float *restrict a, size_t ars, size_t aks, const float *restrict b,
                    size_t bs, size_t inner, const float *restrict bias, float *restrict c,
                    size_t cs, size_t rows, size_t cols)
{
    if (rows == TR && cols == TC) {
        qs_v16 acc0 = {0}, acc1, acc2, acc3, bk;
        if (bias)
            memcpy(&acc0, bias, sizeof acc0);
        acc1 = acc2 = acc3 = acc0;
        for (size_t k = 0; k < inner; k++) {
            memcpy(&bk, b + k * bs, sizeof bk);
            const float *ak = a + k * aks;
            acc0 += ak[0] * bk;
            acc1 += ak[ars] * bk;
            acc2 += ak[2 * ars] * bk;
            acc3 += ak[3 * ars] * bk;
        }
        memcpy(c, &acc0, sizeof acc0);
        memcpy(c + cs, &acc1, sizeof acc1);
        memcpy(c + 2 * cs, &acc2, sizeof acc2);
        memcpy(c + 3 * cs, &acc3, sizeof acc3);
        return;
    }
    float acc[TR][TC];
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < cols; t++)
            acc[r][t] = bias ? bias[t] : 0.0f;
    for (size_t k = 0; k < inner; k++) {
        const float *restrict bk = b + k * bs;
        for (size_t r = 0; r < rows; r++) {
            float av = a[r * ars + k * aks];
            for (size_t t = 0; t < cols; t++)
                acc[r][t] += av * bk[t];
        }
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < cols; t++)
            c[r * cs + t] = acc[r][t];
}

QS_CLONES
void qs_nn_gemm_nn(const float *a, const float *b, const float *bias, float *c, size_t n,
                   size_t K, size_t N)
{
    for (size_t i = 0; i < n; i += TR) {
        size_t rows = n - i < TR ? n - i : TR;
        for (size_t j = 0; j < N; j += TC) {
            size_t cols = N - j < TC ? N - j : TC;
            tile(a + i * K, K, 1, b + j, N, K, bias ? bias + j : NULL, c + i * N + j, N, rows,
                 cols);
        }
    }
}

QS_CLONES
void qs_nn_gemm_tn(const float *a, const float *b, float *c, size_t n, size_t N, size_t K)
{
    for (size_t o = 0; o < N; o += TR) {
        size_t rows = N - o < TR ? N - o : TR;
        for (size_t j = 0; j < K; j += TC) {
            size_t cols = K - j < TC ? K - j : TC;
            tile(a + o, 1, N, b + j, K, n, NULL, c + o * K + j, K, rows, cols);
        }
    }
}

void qs_nn_gemm_nn_ref(const float *a, const float *b, const float *bias, float *c, size_t n,
                       size_t K, size_t N)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < N; j++) {
            float s = bias ? bias[j] : 0.0f;
            for (size_t k = 0; k < K; k++)
                s += a[i * K + k] * b[k * N + j];
            c[i * N + j] = s;
        }
}

void qs_nn_gemm_tn_ref(const float *a, const float *b, float *c, size_t n, size_t N, size_t K)
{
    for (size_t o = 0; o < N; o++)
        for (size_t j = 0; j < K; j++) {
            float s = 0.0f;
            for (size_t i = 0; i < n; i++)
                s += a[i * N + o] * b[i * K + j];
            c[o * K + j] = s;
        }
}

void qs_nn_transpose(const float *w, size_t out, size_t in, float *wt)
{
    for (size_t o = 0; o < out; o++)
        for (size_t k = 0; k < in; k++)
            wt[k * out + o] = w[o * in + k];
}

void qs_nn_linear_forward(const float *x, size_t n, size_t in, size_t out, const float *w,
                          const float *b, float *y, float *wt)
{
    qs_nn_transpose(w, out, in, wt);
    qs_nn_gemm_nn(x, wt, b, y, n, in, out);
}

void qs_nn_linear_backward(const float *x, const float *dy, size_t n, size_t in, size_t out,
                           const float *w, float *dx, float *dw, float *db)
{
    qs_nn_gemm_tn(dy, x, dw, n, out, in);
    for (size_t o = 0; o < out; o++)
        db[o] = 0.0f;
    for (size_t i = 0; i < n; i++)
        for (size_t o = 0; o < out; o++)
            db[o] += dy[i * out + o];
    if (dx)
        qs_nn_gemm_nn(dy, w, NULL, dx, n, out, in);
}

void qs_nn_bn_eval(const float *x, size_t n, size_t f, const float *gamma, const float *beta,
                   const float *mean, const float *var, float eps, float *y, float *scale,
                   float *shift)
{
    for (size_t j = 0; j < f; j++) {
        scale[j] = gamma[j] / sqrtf(var[j] + eps);
        shift[j] = beta[j] - mean[j] * scale[j];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++)
            y[i * f + j] = x[i * f + j] * scale[j] + shift[j];
}

void qs_nn_bn_train_forward(const float *x, size_t n, size_t f, const float *gamma,
                            const float *beta, float eps, float *xhat, float *invstd, float *y,
                            float *mean, float *var)
{
    /* Two passes (mean, then squared deviations) keep the variance accurate. */
    for (size_t j = 0; j < f; j++)
        mean[j] = var[j] = 0.0f;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++)
            mean[j] += x[i * f + j];
    for (size_t j = 0; j < f; j++)
        mean[j] /= (float)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++) {
            float d = x[i * f + j] - mean[j];
            var[j] += d * d;
        }
    for (size_t j = 0; j < f; j++) {
        var[j] /= (float)n;
        invstd[j] = 1.0f / sqrtf(var[j] + eps);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++) {
            float h = (x[i * f + j] - mean[j]) * invstd[j];
            xhat[i * f + j] = h;
            y[i * f + j] = h * gamma[j] + beta[j];
        }
}

void qs_nn_bn_backward(const float *xhat, const float *invstd, const float *gamma,
                       const float *dy, size_t n, size_t f, float *dx, float *dgamma,
                       float *dbeta)
{
    for (size_t j = 0; j < f; j++)
        dgamma[j] = dbeta[j] = 0.0f;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++) {
            dbeta[j] += dy[i * f + j];
            dgamma[j] += dy[i * f + j] * xhat[i * f + j];
        }
    if (!dx)
        return;
    /* dx = gamma * invstd / n * (n * dy - sum(dy) - xhat * sum(dy * xhat)) */
    float inv_n = 1.0f / (float)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++) {
            float g = dy[i * f + j] - (dbeta[j] + xhat[i * f + j] * dgamma[j]) * inv_n;
            dx[i * f + j] = g * gamma[j] * invstd[j];
        }
}

void qs_nn_relu_forward(const float *x, size_t count, float *y)
{
    /* NaN passes through, as torch.relu: a diverged model must not look healthy. */
    for (size_t i = 0; i < count; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void qs_nn_relu_backward(const float *y, const float *dy, size_t count, float *dx)
{
    for (size_t i = 0; i < count; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

double qs_nn_softmax_xent(const float *logits, const int32_t *y, size_t n, size_t c,
                          float grad_scale, float *dlogits, size_t *correct)
{
    double total = 0.0;
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        const float *z = logits + i * c;
        size_t arg = 0;
        for (size_t j = 1; j < c; j++)
            if (z[j] > z[arg])
                arg = j;
        hits += (int32_t)arg == y[i];
        /* log-sum-exp around the maximum: no overflow, exact for large logits.
         * The exponentials are computed once (kept in dlogits when wanted). */
        float mx = z[arg], sum = 0.0f;
        float *e = dlogits ? dlogits + i * c : NULL;
        for (size_t j = 0; j < c; j++) {
            float ej = expf(z[j] - mx);
            sum += ej;
            if (e)
                e[j] = ej;
        }
        total += (double)logf(sum) + (double)mx - (double)z[y[i]];
        if (e) {
            float s = grad_scale / sum;
            for (size_t j = 0; j < c; j++)
                e[j] *= s;
            e[y[i]] -= grad_scale;
        }
    }
    if (correct)
        *correct = hits;
    return total;
}
