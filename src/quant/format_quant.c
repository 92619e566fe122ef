/* Quantizers of every number format, bit-exact with MASE's PyTorch code.
 *
 * Each element function repeats torch's float32 operations in torch's order
 * (see docs/formats.md). The details that make it exact:
 *  - torch.round is round-half-even: rintf in the default rounding mode;
 *  - clamp keeps NaN and -0 (a < lo ? lo : a, then a > hi ? hi : a);
 *  - torch.sign(NaN) is 0; isclose(v, 0) is |v| <= 1e-8f for finite v;
 *  - masks multiply: (float)!c * y + (float)c * x, so 0 * inf gives NaN as in torch;
 *  - log2 is rounded to float32 from a double log2 (torch's Sleef and glibc
 *    log2f differ by an ulp at times, but never in floor/ceil/round of it);
 *  - 2**e of an integer-valued float is exact (built from its bits).
 * Kernels here are pure: no allocation, no I/O. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QS_FMT_X86 1
#endif

#include "quant/format_impl.h"

static inline float clampf(float a, float lo, float hi)
{
    a = a < lo ? lo : a;
    return a > hi ? hi : a;
}

static inline float sgnf(float a)
{
    return (float)((0.0f < a) - (a < 0.0f));
}

static inline float log2_f32(float v)
{
    return (float)log2((double)v);
}

static inline uint32_t f32_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

/* floor, ceil and round-half-even of log2_f32(v) without the log: from the
 * exponent bits, except within 2^-10 of the points where float32 rounding of
 * log2 could move the result (mantissa near 1, 2 or sqrt 2; there the log2
 * changes by at least 1e-3, far above its rounding error of 1e-5), and
 * except zero, subnormals, inf and NaN. Equal to the log2 forms always
 * (tested on every exponent and around every boundary). */
#define MAN_WIN (1u << 13)
#define MAN_MAX 0x7fffffu
#define MAN_SQRT2 0x3504f3u /* mantissa bits of sqrt(2) */

static inline float floor_log2(float v)
{
    uint32_t u = f32_bits(v), ex = (u >> 23) & 0xff, man = u & MAN_MAX;
    if (ex == 0 || ex == 255 || (u >> 31) || man > MAN_MAX - MAN_WIN)
        return floorf(log2_f32(v));
    return (float)((int)ex - 127);
}

static inline float ceil_log2(float v)
{
    uint32_t u = f32_bits(v), ex = (u >> 23) & 0xff, man = u & MAN_MAX;
    if (ex == 0 || ex == 255 || (u >> 31) || (man != 0 && man < MAN_WIN))
        return ceilf(log2_f32(v));
    return (float)((int)ex - 127 + (man != 0));
}

static inline float round_log2(float v)
{
    uint32_t u = f32_bits(v), ex = (u >> 23) & 0xff, man = u & MAN_MAX;
    uint32_t d = man > MAN_SQRT2 ? man - MAN_SQRT2 : MAN_SQRT2 - man;
    if (ex == 0 || ex == 255 || (u >> 31) || d < MAN_WIN)
        return rintf(log2_f32(v));
    return (float)((int)ex - 127 + (man > MAN_SQRT2));
}

float qs_fmt_floor_log2(float v) { return floor_log2(v); }
float qs_fmt_ceil_log2(float v) { return ceil_log2(v); }
float qs_fmt_round_log2(float v) { return round_log2(v); }

/* 2**e for e an integer-valued float (after clamping), NaN kept; exact,
 * subnormal below 2^-126, inf from 2^128 (as torch.pow in float32). */
static inline float pow2f(float e)
{
    if (isnan(e))
        return e;
    if (e >= 128.0f)
        return INFINITY;
    if (e < -149.0f)
        return 0.0f;
    int k = (int)e;
    uint32_t u = k >= -126 ? (uint32_t)(k + 127) << 23 : 1u << (k + 149);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline int isclose0(float v)
{
    return fabsf(v) <= 1e-8f; /* false for NaN and inf, as torch.isclose */
}

static size_t numel_of(const size_t *shape, int ndim)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    return n;
}

/* ------------------------------------------------------------------ integer */

void qs_fmt_int_kernel_ref(const float *in, float *out, size_t n, float scale,
                           float inv_scale, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        out[i] = clampf(rintf(in[i] * scale), lo, hi) * inv_scale;
}

#ifdef QS_FMT_X86
__attribute__((target("avx2"))) static void int_kernel_avx2(const float *in, float *out,
                                                              size_t n, float scale,
                                                              float inv_scale, float lo,
                                                              float hi)
{
    const __m256 vs = _mm256_set1_ps(scale), vi = _mm256_set1_ps(inv_scale);
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(in + i), vs);
        v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        /* compare + blend rather than min/max: keeps NaN and -0 like torch.clamp */
        v = _mm256_blendv_ps(v, vlo, _mm256_cmp_ps(v, vlo, _CMP_LT_OQ));
        v = _mm256_blendv_ps(v, vhi, _mm256_cmp_ps(v, vhi, _CMP_GT_OQ));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(v, vi));
    }
    qs_fmt_int_kernel_ref(in + i, out + i, n - i, scale, inv_scale, lo, hi);
}
#endif

void qs_fmt_int_kernel(const float *in, float *out, size_t n, float scale, float inv_scale,
                       float lo, float hi)
{
#ifdef QS_FMT_X86
    if (__builtin_cpu_supports("avx2")) {
        int_kernel_avx2(in, out, n, scale, inv_scale, lo, hi);
        return;
    }
#endif
    qs_fmt_int_kernel_ref(in, out, n, scale, inv_scale, lo, hi);
}

static void int_range(const qs_format_spec *s, double *lo, double *hi)
{
    if (s->is_signed) {
        *lo = -ldexp(1.0, s->width - 1);
        *hi = ldexp(1.0, s->width - 1) - 1.0;
    } else {
        *lo = 0.0;
        *hi = ldexp(1.0, s->width) - 1.0;
    }
}

/* ap_fixed rounding of the exact product xd = x * 2^f (double). */
static double round_mode(double xd, qs_round_mode m)
{
    double fl = floor(xd);
    if (xd == fl || isnan(xd))
        return xd; /* integer already (huge values, inf), or NaN */
    if (m == QS_TRN)
        return fl;
    if (m == QS_TRN_ZERO)
        return trunc(xd);
    double half = fl + 0.5; /* exact: |fl| < 2^52 here */
    if (xd > half)
        return fl + 1.0;
    if (xd < half)
        return fl;
    int up; /* exact tie */
    switch (m) {
    case QS_RND: up = 1; break;
    case QS_RND_ZERO: up = fl < 0; break;
    case QS_RND_INF: up = fl >= 0; break;
    case QS_RND_MIN_INF: up = 0; break;
    default: up = fmod(fl, 2.0) != 0.0; break; /* RND_CONV: to even */
    }
    return up ? fl + 1.0 : fl;
}

static double overflow_mode(double q, const qs_format_spec *s, double lo, double hi)
{
    if (isnan(q))
        return q;
    switch (s->overflow) {
    case QS_SAT_SYM:
        if (s->is_signed)
            lo = -hi;
        return q < lo ? lo : (q > hi ? hi : q);
    case QS_SAT_ZERO:
        return (q < lo || q > hi) ? 0.0 : q;
    case QS_WRAP: {
        if (isinf(q))
            return q > 0 ? hi : lo; /* defined: inf saturates */
        double m = ldexp(1.0, s->width), t;
        if (fabs(q) < 0x1p62) { /* the low bits in integer arithmetic */
            uint64_t bits = (uint64_t)(int64_t)q & (((uint64_t)1 << s->width) - 1);
            t = (double)bits;
        } else {
            t = fmod(q, m); /* exact */
            if (t < 0)
                t += m;
        }
        if (s->is_signed && t > hi)
            t -= m;
        return t;
    }
    default:
        return q < lo ? lo : (q > hi ? hi : q);
    }
}

static int int_is_mase_path(const qs_format_spec *s)
{
    return s->round == QS_RND_CONV && s->overflow == QS_SAT;
}

void qs_fmt_quantize_integer(const qs_format_spec *s, const float *in, float *out,
                             const size_t *shape, int ndim)
{
    size_t n = numel_of(shape, ndim);
    int f = qs_format_spec_frac_width(s);
    double lo, hi;
    int_range(s, &lo, &hi);
    if (int_is_mase_path(s)) {
        qs_fmt_int_kernel(in, out, n, ldexpf(1.0f, f), ldexpf(1.0f, -f), (float)lo,
                          (float)hi);
        return;
    }
    double sc = ldexp(1.0, f), inv = ldexp(1.0, -f);
    for (size_t i = 0; i < n; i++) {
        double q = overflow_mode(round_mode((double)in[i] * sc, s->round), s, lo, hi);
        out[i] = (float)((q + 0.0) * inv); /* + 0.0: integers have no -0 */
    }
}

qs_status qs_quantize_to_int(const qs_format_spec *s, const float *in, int32_t *q, size_t n,
                             qs_error *err)
{
    QS_TRY(qs_format_spec_validate(s, err));
    if (s->format != QS_FMT_INTEGER)
        return qs_error_set(err, QS_ERR_USAGE, "to_int: format %s is not integer",
                            qs_format_get(s->format)->name);
    if (s->width > (s->is_signed ? 32 : 31))
        return qs_error_set(err, QS_ERR_UNSUPPORTED,
                            "to_int: width %d %s does not fit in int32", s->width,
                            s->is_signed ? "signed" : "unsigned");
    int f = qs_format_spec_frac_width(s);
    double lo, hi;
    int_range(s, &lo, &hi);
    int mase = int_is_mase_path(s);
    float sf = ldexpf(1.0f, f);
    double sd = ldexp(1.0, f);
    for (size_t i = 0; i < n; i++) {
        double v;
        if (mase) { /* torch's float32 product, exact integer bounds */
            v = rintf(in[i] * sf);
            v = v < lo ? lo : (v > hi ? hi : v);
        } else {
            v = overflow_mode(round_mode((double)in[i] * sd, s->round), s, lo, hi);
        }
        q[i] = isnan(v) ? 0 : (int32_t)v;
    }
    return QS_OK;
}

void qs_dequantize_int(const qs_format_spec *s, const int32_t *q, float *out, size_t n)
{
    double scale = ldexp(1.0, -qs_format_spec_frac_width(s));
    for (size_t i = 0; i < n; i++)
        out[i] = (float)((double)q[i] * scale); /* exact in double, one rounding */
}

float qs_format_int_scale(const qs_format_spec *s)
{
    return ldexpf(1.0f, -qs_format_spec_frac_width(s));
}

/* --------------------------------------------------------------- minifloat */

typedef struct {
    float emin, emax, shift, mmax, bias;
} fp_params;

static fp_params fp_params_of(const qs_format_spec *s, int exponent_width, int mantissa_bits)
{
    int bias = qs_format_spec_exponent_bias(s);
    fp_params p;
    p.bias = (float)bias;
    p.emin = (float)-bias;
    p.emax = (float)((1 << exponent_width) - 1 - bias);
    p.shift = ldexpf(1.0f, mantissa_bits);
    p.mmax = p.shift - 1.0f;
    return p;
}

static inline float mf_denorm1(float x, const fp_params *p)
{
    float sign = sgnf(x + 1e-9f);
    float value = fabsf(x);
    float e = clampf(ceil_log2(value + 1e-9f), p->emin, p->emax);
    float pe = pow2f(e);
    float sm = clampf(rintf(value / pe * p->shift), 0.0f, p->mmax);
    float y = sign * pe * (sm / p->shift);
    int c = isclose0(value);
    return (float)!c * y + (float)c * x;
}

static inline float mf_ieee1(float x, const fp_params *p)
{
    float sign = sgnf(x + 1e-9f);
    float value = fabsf(x);
    float e = clampf(floor_log2(value + 1e-9f), p->emin, p->emax);
    float pe = pow2f(e);
    float mant = value / pe;
    float normal = (float)!(e == -p->bias); /* the clamped exponent is the subnormal one */
    float a = clampf(rintf(mant * p->shift - p->shift), 0.0f, p->mmax);
    float b = clampf(rintf(mant * p->shift / 2.0f), 0.0f, p->mmax);
    float sm = normal * a + (1.0f - normal) * b;
    mant = normal * (1.0f + sm / p->shift) + (1.0f - normal) * (sm / p->shift * 2.0f);
    int c = isclose0(value);
    return (float)!c * (sign * pe * mant) + (float)c * x;
}

void qs_fmt_quantize_minifloat_denorm(const qs_format_spec *s, const float *in, float *out,
                                      const size_t *shape, int ndim)
{
    fp_params p = fp_params_of(s, s->exponent_width, s->width - s->exponent_width - 1);
    size_t n = numel_of(shape, ndim);
    for (size_t i = 0; i < n; i++)
        out[i] = mf_denorm1(in[i], &p);
}

void qs_fmt_quantize_minifloat_ieee(const qs_format_spec *s, const float *in, float *out,
                                    const size_t *shape, int ndim)
{
    fp_params p = fp_params_of(s, s->exponent_width, s->width - s->exponent_width - 1);
    size_t n = numel_of(shape, ndim);
    for (size_t i = 0; i < n; i++)
        out[i] = mf_ieee1(in[i], &p);
}

/* --------------------------------------------------------------------- log */

void qs_fmt_quantize_log(const qs_format_spec *s, const float *in, float *out,
                         const size_t *shape, int ndim)
{
    fp_params p = fp_params_of(s, s->width - 1, 0);
    /* MASE adds min_pos * 0.1, a Python double, cast to float32 by torch */
    float eps = (float)(ldexp(1.0, (int)p.emin) * 0.1);
    size_t n = numel_of(shape, ndim);
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float sign = sgnf(x + eps);
        float e = clampf(round_log2(fabsf(x) + eps), p.emin, p.emax);
        out[i] = sign * pow2f(e);
    }
}

/* ---------------------------------------------------------------- block_fp */

int qs_fmt_block_geometry(const qs_format_spec *s, const size_t *shape, int ndim,
                          size_t dims[3], size_t bs[3], const char **why)
{
    if (ndim < 1 || ndim > 3) {
        *why = "block_fp blocks tensors of 1 to 3 dimensions";
        return -1;
    }
    if (ndim == 1 && s->skip_first_dim) {
        *why = "skip_first_dim needs a tensor of 2 or 3 dimensions";
        return -1;
    }
    if (ndim == 3 && !s->skip_first_dim) {
        *why = "a 3-D tensor is blocked only with skip_first_dim (MASE)";
        return -1;
    }
    int first = s->skip_first_dim ? 1 : 0; /* blocked dims: first..ndim-1 */
    int nb = ndim - first;
    for (int d = 0; d < 3; d++) {
        dims[d] = 1;
        bs[d] = 1;
    }
    for (int d = 0; d < ndim; d++)
        dims[3 - ndim + d] = shape[d];
    /* right-align block_size with the blocked dims; missing entries are -1 */
    for (int k = 0; k < nb; k++) {
        int bi = k - (nb - s->block_ndim); /* index into block_size */
        long b = bi >= 0 ? s->block_size[bi] : -1;
        size_t dim = shape[first + k];
        size_t *out = &bs[3 - nb + k];
        *out = (b == -1 || (size_t)b > dim) ? dim : (size_t)b;
        if (*out == 0)
            *out = 1; /* empty dim */
    }
    return 0;
}

/* Abs max over one block, NaN propagating like torch.max(dim). */
static float block_absmax(const float *x, const size_t dims[3], size_t a0, size_t b0,
                          size_t c0, const size_t bs[3])
{
    float m = 0.0f;
    size_t a1 = a0 + bs[0] < dims[0] ? a0 + bs[0] : dims[0];
    size_t b1 = b0 + bs[1] < dims[1] ? b0 + bs[1] : dims[1];
    size_t c1 = c0 + bs[2] < dims[2] ? c0 + bs[2] : dims[2];
    for (size_t a = a0; a < a1; a++)
        for (size_t b = b0; b < b1; b++)
            for (size_t c = c0; c < c1; c++) {
                float v = fabsf(x[(a * dims[1] + b) * dims[2] + c]);
                m = (v > m || isnan(v)) && !isnan(m) ? v : m;
            }
    return m;
}

/* fold: MASE unblocks 2-D weights and 3-D activations with F.fold, which
 * adds each value into a zeroed tensor, so -0 becomes +0 there. */
static void block_quant(const float *in, float *out, const size_t dims[3], size_t a0,
                        size_t b0, size_t c0, const size_t bs[3], float pbm,
                        const fp_params *p, int fold)
{
    float e = clampf(ceil_log2(pbm), p->emin, p->emax);
    float pe = pow2f(e);
    size_t a1 = a0 + bs[0] < dims[0] ? a0 + bs[0] : dims[0];
    size_t b1 = b0 + bs[1] < dims[1] ? b0 + bs[1] : dims[1];
    size_t c1 = c0 + bs[2] < dims[2] ? c0 + bs[2] : dims[2];
    for (size_t a = a0; a < a1; a++)
        for (size_t b = b0; b < b1; b++)
            for (size_t c = c0; c < c1; c++) {
                size_t i = (a * dims[1] + b) * dims[2] + c;
                float x = in[i];
                float sign = sgnf(x + 1e-9f);
                float mi = clampf(rintf((fabsf(x) + 1e-9f) / pe * p->shift), 0.0f, p->mmax);
                float y = sign * pe * (mi / p->shift);
                if (fold)
                    y = y + 0.0f;
                int cl = isclose0(x);
                out[i] = (float)!cl * y + (float)cl * x;
            }
}

void qs_fmt_quantize_block_fp(const qs_format_spec *s, const float *in, float *out,
                              const size_t *shape, int ndim)
{
    size_t dims[3], bs[3];
    const char *why;
    if (qs_fmt_block_geometry(s, shape, ndim, dims, bs, &why) != 0 ||
        numel_of(shape, ndim) == 0)
        return; /* checked by qs_quantize_shaped */
    fp_params p = fp_params_of(s, s->exponent_width, s->width - 1);
    int fold = (ndim == 2 && !s->skip_first_dim) || ndim == 3;
    /* pass 1: MASE gives all-zero blocks the smallest nonzero block max
     * (a NaN max makes it NaN), or 1 when every block is zero */
    float zmax = INFINITY;
    int any_nonzero = 0;
    for (size_t a = 0; a < dims[0]; a += bs[0])
        for (size_t b = 0; b < dims[1]; b += bs[1])
            for (size_t c = 0; c < dims[2]; c += bs[2]) {
                float m = block_absmax(in, dims, a, b, c, bs);
                if (m != 0.0f) {
                    any_nonzero = 1;
                    zmax = (m < zmax || isnan(m)) && !isnan(zmax) ? m : zmax;
                }
            }
    if (!any_nonzero)
        zmax = 1.0f;
    /* pass 2: quantize each block with its shared exponent (in == out is fine:
     * a block's max is taken before it is overwritten) */
    for (size_t a = 0; a < dims[0]; a += bs[0])
        for (size_t b = 0; b < dims[1]; b += bs[1])
            for (size_t c = 0; c < dims[2]; c += bs[2]) {
                float m = block_absmax(in, dims, a, b, c, bs);
                block_quant(in, out, dims, a, b, c, bs, m == 0.0f ? zmax : m, &p, fold);
            }
}

/* ---------------------------------------------------------- binary/ternary */

/* Rows as MASE forms them: the first dim (a 1-D tensor is one row). */
static void rows_of(const size_t *shape, int ndim, size_t *rows, size_t *len)
{
    size_t n = numel_of(shape, ndim);
    *rows = ndim >= 2 ? shape[0] : 1;
    *len = *rows ? n / *rows : 0;
}

/* Sum of |x| over a row in double, rounded once to float32 (torch sums in
 * float32 in its own order: equal whenever the sum is exact, see docs). */
static float row_abs_sum(const float *x, size_t len)
{
    double acc = 0.0;
    for (size_t i = 0; i < len; i++)
        acc += fabsf(x[i]);
    return (float)acc;
}

void qs_fmt_quantize_binary(const qs_format_spec *s, const float *in, float *out,
                            const size_t *shape, int ndim)
{
    size_t rows, len;
    rows_of(shape, ndim, &rows, &len);
    for (size_t r = 0; r < rows; r++) {
        const float *x = in + r * len;
        float *y = out + r * len;
        if (s->bipolar) {
            for (size_t i = 0; i < len; i++)
                y[i] = x[i] >= 0.0f ? 1.0f : -1.0f;
            continue;
        }
        float alpha = row_abs_sum(x, len) / (float)len; /* torch: sum(...).div_(n) */
        for (size_t i = 0; i < len; i++)
            y[i] = (x[i] > 0.0f ? 1.0f : 0.0f) * alpha;
    }
}

void qs_fmt_quantize_ternary(const qs_format_spec *s, const float *in, float *out,
                             const size_t *shape, int ndim)
{
    size_t rows, len;
    rows_of(shape, ndim, &rows, &len);
    for (size_t r = 0; r < rows; r++) {
        const float *x = in + r * len;
        float *y = out + r * len;
        float delta = 0.75f * row_abs_sum(x, len) / (float)len;
        float alpha = 1.0f;
        if (s->scaling_factor) {
            double kept = 0.0, count = 0.0;
            for (size_t i = 0; i < len; i++) {
                float a = fabsf(x[i]);
                float t = a > delta ? 1.0f : 0.0f;
                kept += t * a; /* 0 * inf is NaN, as in torch */
                count += t;
            }
            alpha = (float)kept / (float)count; /* no kept element: 0/0 = NaN, as MASE */
        }
        for (size_t i = 0; i < len; i++) {
            float t = (x[i] > delta ? 1.0f : 0.0f) + (x[i] < -delta ? -1.0f : 0.0f);
            y[i] = s->scaling_factor ? t * alpha : t;
        }
    }
}

/* ------------------------------------------------------------------ public */

qs_status qs_quantize_shaped(const qs_format_spec *s, const float *in, float *out,
                             const size_t *shape, int ndim, qs_error *err)
{
    QS_TRY(qs_format_spec_validate(s, err));
    if (ndim < 1 || !shape)
        return qs_error_set(err, QS_ERR_USAGE, "quantize: a tensor needs at least 1 dimension");
    if (s->format == QS_FMT_BLOCK_FP) {
        size_t dims[3], bs[3];
        const char *why;
        if (qs_fmt_block_geometry(s, shape, ndim, dims, bs, &why) != 0)
            return qs_error_set(err, QS_ERR_INPUT, "block_fp: %s (tensor has %d dims)", why,
                                ndim);
    }
    qs_format_get(s->format)->quantize(s, in, out, shape, ndim);
    return QS_OK;
}

qs_status qs_quantize(const qs_format_spec *s, const float *in, float *out, size_t n,
                      qs_error *err)
{
    if (s && s->format == QS_FMT_INTEGER && s->round == QS_RND_CONV && s->overflow == QS_SAT &&
        s->width >= 1 && s->width <= 32) {
        /* hot path: skip the generic checks beyond what the kernel needs */
        int f = qs_format_spec_frac_width(s);
        if (f >= -64 && f <= 64) {
            double lo, hi;
            int_range(s, &lo, &hi);
            qs_fmt_int_kernel(in, out, n, ldexpf(1.0f, f), ldexpf(1.0f, -f), (float)lo,
                              (float)hi);
            return QS_OK;
        }
    }
    size_t shape[1] = {n};
    if (s && s->format == QS_FMT_BLOCK_FP && s->skip_first_dim) {
        qs_format_spec t = *s; /* a 1-D tensor has no batch dim to skip */
        t.skip_first_dim = false;
        return qs_quantize_shaped(&t, in, out, shape, 1, err);
    }
    return qs_quantize_shaped(s, in, out, shape, 1, err);
}
