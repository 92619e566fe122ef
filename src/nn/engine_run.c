/* Integer engine: executing the plan. Rows go through the steps in chunks of
 * QS_ENGINE_CHUNK; scratch is the caller's; nothing is allocated.
 *
 * Float operations repeat the emulation's exactly (separate multiply and add,
 * no FMA contraction: the build is ISO C11, so -ffp-contract=off; rintf in the
 * default rounding mode is round half to even, as torch.round). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QS_ENG_X86 1
#endif

#include "nn/engine_internal.h"
#include "nn/layers.h"

/* ---- elementwise pass: [affine] [quantize] [relu] -> float, or -> ints ---- */

static inline float clampq(float t, const qs_eng_mq *q)
{
    t = t < q->lo ? q->lo : t; /* keeps NaN, as torch.clamp */
    return t > q->hi ? q->hi : t;
}

/* One element through the float stages. */
static inline float ew_one(const qs_eng_step *s, float v, size_t j)
{
    if (s->scale)
        v = v * s->scale[j] + s->shift[j];
    if (s->has_q)
        v = clampq(rintf(v * s->q.s), &s->q) * s->q.inv;
    if (s->relu)
        v = v < 0.0f ? 0.0f : v;
    return v;
}

/* The integer a MASE quantizer stores for v (NaN -> 0, as qs_quantize_to_int). */
static inline int32_t toint_one(const qs_eng_mq *q, float v)
{
    float t = clampq(rintf(v * q->s), q);
    return t == t ? (int32_t)t : 0;
}

void qs_eng_ew_ref(const qs_eng_step *s, const float *x, size_t rows, float *y, void *ints)
{
    size_t w = s->width;
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < w; j++) {
            float v = ew_one(s, x[r * w + j], j);
            if (!s->toint)
                y[r * w + j] = v;
            else if (s->act16)
                ((int16_t *)ints)[r * w + j] = (int16_t)toint_one(&s->qi, v);
            else
                ((int8_t *)ints)[r * w + j] = (int8_t)toint_one(&s->qi, v);
        }
}

/* ---- Linear epilogue: bias at the accumulator's scale, then exact rescale ---- */

void qs_eng_combine32_ref(const qs_eng_step *s, const void *acc, size_t rows, float *y)
{
    const int32_t *a = acc;
    size_t n = s->out;
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < n; o++)
            y[r * n + o] = (float)(a[r * n + o] + s->bias32[o]) * s->out_scale;
}

void qs_eng_combine64(const qs_eng_step *s, const void *acc, size_t rows, float *y)
{
    size_t n = s->out;
    int wide = s->op == QS_KOP_S16_I64;
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < n; o++) {
            int64_t a = wide ? ((const int64_t *)acc)[r * n + o] : ((const int32_t *)acc)[r * n + o];
            /* one rounding (int64 -> float, to nearest even), then an exact power of 2 */
            y[r * n + o] = (float)(a * s->acc_mul + s->bias64[o]) * s->out_scale;
        }
}

#ifdef QS_ENG_X86
/* Flags and pointers are read into locals once: the int8 stores may alias anything,
 * so the compiler would otherwise reload them from *s in every iteration. */
__attribute__((target("avx2"))) static void ew_avx2(const qs_eng_step *s, const float *x, size_t rows,
                                                    float *y, void *ints)
{
    const size_t w = s->width, v8 = w / 8 * 8;
    const float *const scale = s->scale, *const shift = s->shift;
    const int has_q = s->has_q, relu = s->relu, toint = s->toint, act16 = s->act16;
    const __m256 qs = _mm256_set1_ps(s->q.s), qinv = _mm256_set1_ps(s->q.inv);
    const __m256 qlo = _mm256_set1_ps(s->q.lo), qhi = _mm256_set1_ps(s->q.hi);
    const __m256 is = _mm256_set1_ps(s->qi.s), ilo = _mm256_set1_ps(s->qi.lo), ihi = _mm256_set1_ps(s->qi.hi);
    const __m256 zero = _mm256_setzero_ps();
    int8_t *const i8 = ints;
    int16_t *const i16 = ints;
    const int fast = s->fast, mul = s->fm != 1.0f;
    const __m256 fs = _mm256_set1_ps(s->fs), fm = _mm256_set1_ps(s->fm);
    const __m256 flo = _mm256_set1_ps(s->flo), fhi = _mm256_set1_ps(s->fhi);
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * w;
        for (size_t j = 0; j < v8; j += 8) {
            __m256 v = _mm256_loadu_ps(xr + j);
            if (fast) { /* the composed pass (compose_ew in engine.c) */
                if (scale)
                    v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(scale + j)), _mm256_loadu_ps(shift + j));
                __m256 t = _mm256_round_ps(_mm256_mul_ps(v, fs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                if (mul)
                    t = _mm256_mul_ps(t, fm);
                t = _mm256_and_ps(t, _mm256_cmp_ps(t, t, _CMP_ORD_Q)); /* NaN -> 0 */
                __m256i q = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(t, flo), fhi));
                __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
                if (act16)
                    _mm_storeu_si128((__m128i *)(i16 + r * w + j), h);
                else
                    _mm_storel_epi64((__m128i *)(i8 + r * w + j), _mm_packs_epi16(h, h));
                continue;
            }
            if (scale)
                v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(scale + j)), _mm256_loadu_ps(shift + j));
            if (has_q) {
                __m256 t = _mm256_round_ps(_mm256_mul_ps(v, qs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                t = _mm256_blendv_ps(t, qlo, _mm256_cmp_ps(t, qlo, _CMP_LT_OQ));
                t = _mm256_blendv_ps(t, qhi, _mm256_cmp_ps(t, qhi, _CMP_GT_OQ));
                v = _mm256_mul_ps(t, qinv);
            }
            if (relu)
                v = _mm256_blendv_ps(v, zero, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
            if (!toint) {
                _mm256_storeu_ps(y + r * w + j, v);
                continue;
            }
            __m256 t = _mm256_round_ps(_mm256_mul_ps(v, is), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            t = _mm256_and_ps(t, _mm256_cmp_ps(t, t, _CMP_ORD_Q)); /* NaN -> 0 */
            t = _mm256_min_ps(_mm256_max_ps(t, ilo), ihi);
            __m256i q = _mm256_cvtps_epi32(t);
            __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
            if (act16)
                _mm_storeu_si128((__m128i *)(i16 + r * w + j), h);
            else
                _mm_storel_epi64((__m128i *)(i8 + r * w + j), _mm_packs_epi16(h, h));
        }
        for (size_t j = v8; j < w; j++) {
            float v = ew_one(s, xr[j], j);
            if (!toint)
                y[r * w + j] = v;
            else if (act16)
                i16[r * w + j] = (int16_t)toint_one(&s->qi, v);
            else
                i8[r * w + j] = (int8_t)toint_one(&s->qi, v);
        }
    }
}

#define QS_ENG_AVX512 "avx512f,avx512bw,avx512vl"

/* The composed pass to ints (compose_ew in engine.c): affine, one rounding, one clamp. */
__attribute__((target(QS_ENG_AVX512))) static void ew_fast_avx512(const qs_eng_step *s, const float *x,
                                                                  size_t rows, void *ints)
{
    const size_t w = s->width;
    const float *const scale = s->scale, *const shift = s->shift;
    const int act16 = s->act16, mul = s->fm != 1.0f;
    const __m512 fs = _mm512_set1_ps(s->fs), fm = _mm512_set1_ps(s->fm);
    const __m512 lo = _mm512_set1_ps(s->flo), hi = _mm512_set1_ps(s->fhi);
    int8_t *const i8 = ints;
    int16_t *const i16 = ints;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * w;
        for (size_t j = 0; j < w; j += 16) {
            __mmask16 k = w - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (w - j)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(k, xr + j);
            if (scale)
                v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_maskz_loadu_ps(k, scale + j)),
                                  _mm512_maskz_loadu_ps(k, shift + j));
            __m512 t = _mm512_mul_ps(v, fs);
            if (mul) /* round first: rint(t) * 2^d is not rint(t * 2^d) */
                t = _mm512_mul_ps(_mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), fm);
            t = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, t, _CMP_ORD_Q), t); /* NaN -> 0 */
            /* clamping to integer bounds before rounding gives the same integer */
            __m512i q = _mm512_cvt_roundps_epi32(_mm512_min_ps(_mm512_max_ps(t, lo), hi),
                                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            if (act16)
                _mm512_mask_cvtsepi32_storeu_epi16(i16 + r * w + j, k, q);
            else
                _mm512_mask_cvtsepi32_storeu_epi8(i8 + r * w + j, k, q);
        }
    }
}

/* As ew_avx2 on 16 lanes, masked tails (no scalar remainder), mask blends for the
 * clamps (NaN kept as torch.clamp does) and saturating down-converts to int8/int16. */
__attribute__((target(QS_ENG_AVX512))) static void ew_avx512(const qs_eng_step *s, const float *x, size_t rows,
                                                             float *y, void *ints)
{
    const size_t w = s->width;
    const float *const scale = s->scale, *const shift = s->shift;
    const int has_q = s->has_q, relu = s->relu, toint = s->toint, act16 = s->act16;
    const __m512 qs = _mm512_set1_ps(s->q.s), qinv = _mm512_set1_ps(s->q.inv);
    const __m512 qlo = _mm512_set1_ps(s->q.lo), qhi = _mm512_set1_ps(s->q.hi);
    const __m512 is = _mm512_set1_ps(s->qi.s), ilo = _mm512_set1_ps(s->qi.lo), ihi = _mm512_set1_ps(s->qi.hi);
    const __m512 zero = _mm512_setzero_ps();
    int8_t *const i8 = ints;
    int16_t *const i16 = ints;
    if (s->fast) {
        ew_fast_avx512(s, x, rows, ints);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * w;
        for (size_t j = 0; j < w; j += 16) {
            __mmask16 k = w - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (w - j)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(k, xr + j);
            if (scale)
                v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_maskz_loadu_ps(k, scale + j)),
                                  _mm512_maskz_loadu_ps(k, shift + j));
            if (has_q) {
                __m512 t = _mm512_roundscale_ps(_mm512_mul_ps(v, qs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                t = _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(t, qlo, _CMP_LT_OQ), qlo);
                t = _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(t, qhi, _CMP_GT_OQ), qhi);
                v = _mm512_mul_ps(t, qinv);
            }
            if (relu)
                v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
            if (!toint) {
                _mm512_mask_storeu_ps(y + r * w + j, k, v);
                continue;
            }
            __m512 t = _mm512_roundscale_ps(_mm512_mul_ps(v, is), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            t = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, t, _CMP_ORD_Q), t); /* NaN -> 0 */
            __m512i q = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(t, ilo), ihi));
            if (act16)
                _mm512_mask_cvtsepi32_storeu_epi16(i16 + r * w + j, k, q);
            else
                _mm512_mask_cvtsepi32_storeu_epi8(i8 + r * w + j, k, q);
        }
    }
}

__attribute__((target(QS_ENG_AVX512))) static void combine32_avx512(const qs_eng_step *s, const void *acc,
                                                                    size_t rows, float *y)
{
    const int32_t *a = acc;
    const int32_t *const bias = s->bias32;
    const size_t n = s->out;
    const __m512 sc = _mm512_set1_ps(s->out_scale);
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < n; o += 16) {
            __mmask16 k = n - o >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - o)) - 1);
            __m512i t = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, a + r * n + o), _mm512_maskz_loadu_epi32(k, bias + o));
            _mm512_mask_storeu_ps(y + r * n + o, k, _mm512_mul_ps(_mm512_cvtepi32_ps(t), sc));
        }
}

__attribute__((target("avx2"))) static void combine32_avx2(const qs_eng_step *s, const void *acc, size_t rows,
                                                           float *y)
{
    const int32_t *a = acc;
    size_t n = s->out, v8 = n / 8 * 8;
    const __m256 sc = _mm256_set1_ps(s->out_scale);
    for (size_t r = 0; r < rows; r++) {
        for (size_t o = 0; o < v8; o += 8) {
            __m256i t = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + r * n + o)),
                                         _mm256_loadu_si256((const __m256i *)(s->bias32 + o)));
            _mm256_storeu_ps(y + r * n + o, _mm256_mul_ps(_mm256_cvtepi32_ps(t), sc));
        }
        for (size_t o = v8; o < n; o++)
            y[r * n + o] = (float)(a[r * n + o] + s->bias32[o]) * s->out_scale;
    }
}
#endif

void qs_eng_select_simd(qs_engine *e)
{
    e->ew = qs_eng_ew_ref;
    e->combine32 = qs_eng_combine32_ref;
#ifdef QS_ENG_X86
    /* The same path as the kernels, so QS_KERNELS=ref|avx2 also tests these. */
    __builtin_cpu_init();
    if (strcmp(e->k.name, "avx512") == 0 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        e->ew = ew_avx512;
        e->combine32 = combine32_avx512;
    } else if (strcmp(e->k.name, "ref") != 0 && __builtin_cpu_supports("avx2")) {
        e->ew = ew_avx2;
        e->combine32 = combine32_avx2;
    }
#endif
}

/* ---- forward ---- */

typedef struct {
    float *f[2];     /* [CHUNK][max_width] floats each */
    void *act;       /* [CHUNK][max_width] int8 or int16 */
    void *acc;       /* [CHUNK][max_width] int32 or int64 */
    int32_t *tmp;    /* [CHUNK][max_width] */
} eng_bufs;

static size_t align64(size_t n) { return (n + 63) / 64 * 64; }

static eng_bufs carve(const qs_engine *e, void *scratch)
{
    size_t rw = (size_t)QS_ENGINE_CHUNK * e->max_width;
    char *p = scratch;
    eng_bufs b;
    b.f[0] = (float *)p, p += align64(rw * sizeof(float));
    b.f[1] = (float *)p, p += align64(rw * sizeof(float));
    b.act = p, p += align64(rw * sizeof(int16_t));
    b.acc = p, p += align64(rw * sizeof(int64_t));
    b.tmp = (int32_t *)p;
    return b;
}

/* A float buffer other than cur (cur may be the caller's input). */
static float *other(const eng_bufs *b, const float *cur) { return cur == b->f[0] ? b->f[1] : b->f[0]; }
/* Where an elementwise step writes: in place unless cur is the caller's input. */
static float *inplace(const eng_bufs *b, const float *cur)
{
    return cur == b->f[0] || cur == b->f[1] ? (float *)cur : b->f[0];
}

static void lin_int(const qs_engine *e, const qs_eng_step *s, const eng_bufs *b, size_t rows, float *dst)
{
    int m = (int)rows;
    if (s->op == QS_KOP_S8)
        e->k.s8(&s->pw, b->act, m, b->acc);
    else if (s->op == QS_KOP_S16)
        e->k.s16(&s->pw, b->act, m, b->acc);
    else
        e->k.s16w(&s->pw, b->act, m, b->acc);
    if (s->fast32)
        e->combine32(s, b->acc, rows, dst);
    else
        qs_eng_combine64(s, b->acc, rows, dst);
}

static qs_status toint_generic(const qs_eng_step *s, const float *cur, const eng_bufs *b, size_t rows,
                               qs_error *err)
{
    size_t n = rows * s->width;
    QS_TRY(qs_quantize_to_int(&s->spec, cur, b->tmp, n, err));
    for (size_t i = 0; i < n; i++) { /* in the container's range by construction of the plan */
        if (s->act16)
            ((int16_t *)b->act)[i] = (int16_t)b->tmp[i];
        else
            ((int8_t *)b->act)[i] = (int8_t)b->tmp[i];
    }
    return QS_OK;
}

static qs_status run_chunk(const qs_engine *e, const eng_bufs *b, const float *x, size_t rows, float *logits,
                           qs_error *err)
{
    const float *cur = x;
    for (size_t i = 0; i < e->n_steps; i++) {
        const qs_eng_step *s = &e->steps[i];
        float *dst;
        switch (s->kind) {
        case QS_ENG_EW:
            dst = s->toint ? NULL : inplace(b, cur);
            e->ew(s, cur, rows, dst, b->act);
            if (dst)
                cur = dst;
            break;
        case QS_ENG_QUANT: {
            size_t shape[2] = {rows, s->width};
            dst = inplace(b, cur);
            QS_TRY(qs_quantize_shaped(&s->spec, cur, dst, shape, 2, err));
            cur = dst;
            break;
        }
        case QS_ENG_TOINT:
            QS_TRY(toint_generic(s, cur, b, rows, err));
            break;
        case QS_ENG_LIN_INT:
            dst = other(b, cur);
            lin_int(e, s, b, rows, dst);
            cur = dst;
            break;
        case QS_ENG_LIN_FLOAT:
            dst = other(b, cur);
            qs_nn_gemm_nn(cur, s->wt, s->bias, dst, rows, s->width, s->out);
            cur = dst;
            break;
        }
    }
    memcpy(logits, cur, rows * e->classes * sizeof *logits);
    return QS_OK;
}

qs_status qs_engine_forward(const qs_engine *e, const float *x, size_t n, float *logits, void *scratch,
                            qs_error *err)
{
    eng_bufs b = carve(e, scratch);
    for (size_t s = 0; s < n; s += QS_ENGINE_CHUNK) {
        size_t rows = n - s < QS_ENGINE_CHUNK ? n - s : QS_ENGINE_CHUNK;
        QS_TRY(run_chunk(e, &b, x + s * e->in_features, rows, logits + s * e->classes, err));
    }
    return QS_OK;
}

qs_status qs_engine_forward_alloc(const qs_engine *e, const float *x, size_t n, float *logits, qs_error *err)
{
    void *scratch = aligned_alloc(64, e->scratch_bytes);
    if (!scratch)
        return qs_error_set(err, QS_ERR_NOMEM, "engine: cannot allocate %zu bytes of scratch", e->scratch_bytes);
    qs_status st = qs_engine_forward(e, x, n, logits, scratch, err);
    free(scratch);
    return st;
}
