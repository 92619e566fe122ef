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

/* Tiles of TR output rows x TC output columns are kept in vector registers. */
#define TR 4
#define TC 16
#define PANEL_MAX 512 /* inner sizes up to this pack partial tiles into a padded panel */

/* GCC vector extension: one TC-float row of a tile (one zmm, two ymm or four xmm). */
typedef float qs_v16 __attribute__((vector_size(TC * sizeof(float))));

/* Full tile: c[r][0..TC) (row stride cs) = sum_k A(r, k) * b[k * bs + 0..TC) + bias,
 * A(r, k) = a[r * ars + k * aks], r < TR. bias has TC entries or is NULL. */
QS_INLINE void tile_full(const float *restrict a, size_t ars, size_t aks, const float *restrict b,
                         size_t bs, size_t inner, const float *restrict bias, float *restrict c,
                         size_t cs)
{
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
}

/* One row of a tile: c[0..TC) = sum_k a[k * aks] * b[k * bs + 0..TC) + bias. */
QS_INLINE void tile_row(const float *restrict a, size_t aks, const float *restrict b, size_t bs,
                        size_t inner, const float *restrict bias, float *restrict c)
{
    qs_v16 acc = {0}, bk;
    if (bias)
        memcpy(&acc, bias, sizeof acc);
    for (size_t k = 0; k < inner; k++) {
        memcpy(&bk, b + k * bs, sizeof bk);
        acc += a[k * aks] * bk;
    }
    memcpy(c, &acc, sizeof acc);
}

/* Any tile: rows <= TR, cols <= TC. Partial column tiles are packed into a
 * zero-padded panel so they run the same vector code (same sums in the same
 * order, so the result does not depend on where a column falls). */
QS_INLINE void tile(const float *restrict a, size_t ars, size_t aks, const float *restrict b,
                    size_t bs, size_t inner, const float *restrict bias, float *restrict c,
                    size_t cs, size_t rows, size_t cols)
{
    if (cols == TC) {
        if (rows == TR) {
            tile_full(a, ars, aks, b, bs, inner, bias, c, cs);
        } else {
            for (size_t r = 0; r < rows; r++)
                tile_row(a + r * ars, aks, b, bs, inner, bias, c + r * cs);
        }
        return;
    }
    if (inner <= PANEL_MAX) {
        float panel[PANEL_MAX * TC], pb[TC] = {0}, out[TR * TC];
        for (size_t k = 0; k < inner; k++)
            for (size_t t = 0; t < TC; t++)
                panel[k * TC + t] = t < cols ? b[k * bs + t] : 0.0f;
        for (size_t t = 0; bias && t < cols; t++)
            pb[t] = bias[t];
        if (rows == TR) {
            tile_full(a, ars, aks, panel, TC, inner, bias ? pb : NULL, out, TC);
        } else {
            for (size_t r = 0; r < rows; r++)
                tile_row(a + r * ars, aks, panel, TC, inner, bias ? pb : NULL, out + r * TC);
        }
        for (size_t r = 0; r < rows; r++)
            for (size_t t = 0; t < cols; t++)
                c[r * cs + t] = out[r * TC + t];
        return;
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < cols; t++) {
            float acc = bias ? bias[t] : 0.0f;
            for (size_t k = 0; k < inner; k++)
                acc += a[r * ars + k * aks] * b[k * bs + t];
            c[r * cs + t] = acc;
        }
}

QS_CLONES
void qs_nn_gemm_nn(const float *a, const float *b, const float *bias, float *c, size_t n,
                   size_t K, size_t N)
{
    for (size_t j = 0; j < N; j += TC) {
        size_t cols = N - j < TC ? N - j : TC;
        for (size_t i = 0; i < n; i += TR) {
            size_t rows = n - i < TR ? n - i : TR;
            tile(a + i * K, K, 1, b + j, N, K, bias ? bias + j : NULL, c + i * N + j, N, rows,
                 cols);
        }
    }
}

QS_CLONES
void qs_nn_gemm_tn(const float *a, const float *b, float *c, size_t n, size_t N, size_t K)
{
    for (size_t j = 0; j < K; j += TC) {
        size_t cols = K - j < TC ? K - j : TC;
        for (size_t o = 0; o < N; o += TR) {
            size_t rows = N - o < TR ? N - o : TR;
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

/* The BN kernels work on blocks of up to TC features (columns j0..j0+cols of
 * [n][f] arrays); called with cols == TC the loops have constant bounds and
 * become vector code. Sums run over samples in order on every path. */
QS_INLINE void bn_fwd_block(const float *restrict x, size_t n, size_t f, size_t cols,
                            const float *restrict gamma, const float *restrict beta, float eps,
                            float *restrict xhat, float *restrict invstd, float *restrict y,
                            float *restrict mean, float *restrict var)
{
    float s[TC] = {0}, q[TC] = {0}, is[TC];
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < cols; t++)
            s[t] += x[i * f + t];
    for (size_t t = 0; t < cols; t++)
        s[t] /= (float)n;
    /* Two passes (mean, then squared deviations) keep the variance accurate. */
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < cols; t++) {
            float d = x[i * f + t] - s[t];
            q[t] += d * d;
        }
    for (size_t t = 0; t < cols; t++) {
        q[t] /= (float)n;
        is[t] = 1.0f / sqrtf(q[t] + eps);
        mean[t] = s[t], var[t] = q[t], invstd[t] = is[t];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < cols; t++) {
            float h = (x[i * f + t] - s[t]) * is[t];
            xhat[i * f + t] = h;
            y[i * f + t] = h * gamma[t] + beta[t];
        }
}

QS_CLONES
void qs_nn_bn_train_forward(const float *x, size_t n, size_t f, const float *gamma,
                            const float *beta, float eps, float *xhat, float *invstd, float *y,
                            float *mean, float *var)
{
    for (size_t j = 0; j < f; j += TC) {
        size_t cols = f - j < TC ? f - j : TC;
        if (cols == TC)
            bn_fwd_block(x + j, n, f, TC, gamma + j, beta + j, eps, xhat + j, invstd + j, y + j,
                         mean + j, var + j);
        else
            bn_fwd_block(x + j, n, f, cols, gamma + j, beta + j, eps, xhat + j, invstd + j, y + j,
                         mean + j, var + j);
    }
}

QS_INLINE void bn_bwd_block(const float *restrict xhat, const float *restrict invstd,
                            const float *restrict gamma, const float *restrict dy, size_t n,
                            size_t f, size_t cols, float *restrict dx, float *restrict dgamma,
                            float *restrict dbeta)
{
    float sb[TC] = {0}, sg[TC] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < cols; t++) {
            float d = dy[i * f + t];
            sb[t] += d;
            sg[t] += d * xhat[i * f + t];
        }
    for (size_t t = 0; t < cols; t++)
        dbeta[t] = sb[t], dgamma[t] = sg[t];
    if (!dx)
        return;
    /* dx = gamma * invstd / n * (n * dy - sum(dy) - xhat * sum(dy * xhat)) */
    float inv_n = 1.0f / (float)n;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < cols; t++) {
            float g = dy[i * f + t] - (sb[t] + xhat[i * f + t] * sg[t]) * inv_n;
            dx[i * f + t] = g * gamma[t] * invstd[t];
        }
}

QS_CLONES
void qs_nn_bn_backward(const float *xhat, const float *invstd, const float *gamma,
                       const float *dy, size_t n, size_t f, float *dx, float *dgamma,
                       float *dbeta)
{
    for (size_t j = 0; j < f; j += TC) {
        size_t cols = f - j < TC ? f - j : TC;
        float *dxj = dx ? dx + j : NULL;
        if (cols == TC)
            bn_bwd_block(xhat + j, invstd + j, gamma + j, dy + j, n, f, TC, dxj, dgamma + j,
                         dbeta + j);
        else
            bn_bwd_block(xhat + j, invstd + j, gamma + j, dy + j, n, f, cols, dxj, dgamma + j,
                         dbeta + j);
    }
}

/* Branch-free, 16 lanes at a time: ReLU inputs are positive about half the
 * time, so a scalar branch would mispredict constantly. */
QS_CLONES
void qs_nn_relu_forward(const float *restrict x, size_t count, float *restrict y)
{
    size_t i = 0;
    for (; i + TC <= count; i += TC)
        for (size_t t = 0; t < TC; t++) /* NaN passes through, as torch.relu */
            y[i + t] = x[i + t] < 0.0f ? 0.0f : x[i + t];
    for (; i < count; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

QS_CLONES
void qs_nn_relu_backward(const float *restrict y, const float *restrict dy, size_t count,
                         float *restrict dx)
{
    size_t i = 0;
    for (; i + TC <= count; i += TC)
        for (size_t t = 0; t < TC; t++) {
            float d = dy[i + t]; /* loaded unconditionally so the select vectorises */
            dx[i + t] = y[i + t] > 0.0f ? d : 0.0f;
        }
    for (; i < count; i++)
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

/* ---- Adam update (same operation order on every path, so the vector paths
 * give bit-identical results to the scalar one) ---- */

#define ADAM_SCALAR_STEP(i)                                                   \
    do {                                                                      \
        float g_ = grad[i];                                                   \
        if (wd != 0.0f)                                                       \
            g_ += wd * p[i];                                                  \
        m[i] = b1 * m[i] + (1.0f - b1) * g_;                                  \
        v[i] = b2 * v[i] + (1.0f - b2) * g_ * g_;                             \
        float denom_ = sqrtf(v[i]) / bc2_sqrt + eps;                          \
        p[i] -= step_size * m[i] / denom_;                                    \
    } while (0)

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
#define QS_HAVE_X86 1

__attribute__((target("avx512f"))) static size_t adam_avx512(float *p, const float *grad,
                                                              float *m, float *v, size_t n,
                                                              const float k[7])
{
    __m512 ss = _mm512_set1_ps(k[0]), bc = _mm512_set1_ps(k[1]), b1 = _mm512_set1_ps(k[2]);
    __m512 b2 = _mm512_set1_ps(k[3]), eps = _mm512_set1_ps(k[4]), wd = _mm512_set1_ps(k[5]);
    __m512 c1 = _mm512_set1_ps(1.0f - k[2]), c2 = _mm512_set1_ps(1.0f - k[3]);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(grad + i), pv = _mm512_loadu_ps(p + i);
        if (k[6] != 0.0f)
            g = _mm512_add_ps(g, _mm512_mul_ps(wd, pv));
        __m512 mv = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(c1, g));
        __m512 vv = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)),
                                  _mm512_mul_ps(_mm512_mul_ps(c2, g), g));
        __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vv), bc), eps);
        pv = _mm512_sub_ps(pv, _mm512_div_ps(_mm512_mul_ps(ss, mv), den));
        _mm512_storeu_ps(m + i, mv);
        _mm512_storeu_ps(v + i, vv);
        _mm512_storeu_ps(p + i, pv);
    }
    return i;
}

__attribute__((target("avx2"))) static size_t adam_avx2(float *p, const float *grad, float *m,
                                                         float *v, size_t n, const float k[7])
{
    __m256 ss = _mm256_set1_ps(k[0]), bc = _mm256_set1_ps(k[1]), b1 = _mm256_set1_ps(k[2]);
    __m256 b2 = _mm256_set1_ps(k[3]), eps = _mm256_set1_ps(k[4]), wd = _mm256_set1_ps(k[5]);
    __m256 c1 = _mm256_set1_ps(1.0f - k[2]), c2 = _mm256_set1_ps(1.0f - k[3]);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(grad + i), pv = _mm256_loadu_ps(p + i);
        if (k[6] != 0.0f)
            g = _mm256_add_ps(g, _mm256_mul_ps(wd, pv));
        __m256 mv = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, g));
        __m256 vv = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                                  _mm256_mul_ps(_mm256_mul_ps(c2, g), g));
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vv), bc), eps);
        pv = _mm256_sub_ps(pv, _mm256_div_ps(_mm256_mul_ps(ss, mv), den));
        _mm256_storeu_ps(m + i, mv);
        _mm256_storeu_ps(v + i, vv);
        _mm256_storeu_ps(p + i, pv);
    }
    return i;
}
#endif

void qs_nn_adam_update_ref(float *p, const float *grad, float *m, float *v, size_t n,
                           float step_size, float bc2_sqrt, float b1, float b2, float eps,
                           float wd)
{
    for (size_t i = 0; i < n; i++)
        ADAM_SCALAR_STEP(i);
}

void qs_nn_adam_update(float *p, const float *grad, float *m, float *v, size_t n,
                       float step_size, float bc2_sqrt, float b1, float b2, float eps, float wd)
{
    size_t i = 0;
#ifdef QS_HAVE_X86
    const float k[7] = {step_size, bc2_sqrt, b1, b2, eps, wd, wd};
    if (__builtin_cpu_supports("avx512f"))
        i = adam_avx512(p, grad, m, v, n, k);
    else if (__builtin_cpu_supports("avx2"))
        i = adam_avx2(p, grad, m, v, n, k);
#endif
    for (; i < n; i++)
        ADAM_SCALAR_STEP(i);
}
