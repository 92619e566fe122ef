/* AVX-512 (F, BW, VL, VNNI) kernels. One tile routine, inlined with constant
 * parameters, serves every format: it keeps MR x NB vectors of 16 int32
 * accumulators (MR activation rows, NB blocks of 16 weight rows), broadcasts
 * 4 activation bytes per group and issues one VPDPBUSD (u8 codes x s8
 * activations) or VPDPWSSD (int16 pairs) per block and row. Codes narrower
 * than a byte are unpacked in registers: a shift and an AND, or for one-bit
 * codes a mask register that selects bytes of 1. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kern_internal.h"
#include "qsearch/kernels.h"

#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline)) TGT

INL __m512i unpack(const uint8_t *p, int bits, int g)
{
    if (bits >= 8) return _mm512_load_si512((const void *)p);
    if (bits == 1) {
        uint64_t m;
        memcpy(&m, p + 8 * g, sizeof m);
        return _mm512_maskz_set1_epi8((__mmask64)m, 1);
    }
    __m512i v = _mm512_load_si512((const void *)p);
    if (g) v = _mm512_srli_epi16(v, (unsigned)(g * bits));
    return _mm512_and_si512(v, _mm512_set1_epi8((char)((1 << bits) - 1)));
}

INL __m512i bcast4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* One 64-byte chunk of NB blocks (block stride bstride bytes) against MR rows
 * whose chunk-start activations are xp[r]. */
INL void tile_chunk(__m512i acc[4][4], const uint8_t *p, size_t bstride, const int8_t *const *xp,
                    int MR, int NB, int bits)
{
    int groups = bits >= 8 ? 1 : 8 / bits;
#pragma GCC unroll 8
    for (int g = 0; g < groups; g++) {
        __m512i xb[4];
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) xb[r] = bcast4(xp[r] + 4 * g);
#pragma GCC unroll 4
        for (int j = 0; j < NB; j++) {
            __m512i wv = unpack(p + (size_t)j * bstride, bits, g);
#pragma GCC unroll 4
            for (int r = 0; r < MR; r++)
                acc[r][j] = bits == 16 ? _mm512_dpwssd_epi32(acc[r][j], wv, xb[r])
                                       : _mm512_dpbusd_epi32(acc[r][j], wv, xb[r]);
        }
    }
}

/* y rows r0..r0+MR-1, weight blocks b0..b0+NB-1; R[r] is scale/offset's row
 * correction offset * sum(x[r]) (0 for INT16). */
INL void tile(const qs_kernel_weights *w, const int8_t *x, int r0, int b0, const int32_t *R,
              int32_t *y, int scale, int MR, int NB, int bits)
{
    int eb = bits == 16 ? 2 : 1; /* bytes per activation */
    size_t bstride = (size_t)w->nchunks * QS_KERNEL_CHUNK;
    size_t xstride = (size_t)w->k * (size_t)eb;
    const uint8_t *wp = w->data + (size_t)b0 * bstride;
    int kc = w->kchunk, full = w->k / kc;
    __m512i acc[4][4];
    const int8_t *xp[4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
        xp[r] = x + (size_t)(r0 + r) * xstride;
#pragma GCC unroll 4
        for (int j = 0; j < NB; j++) acc[r][j] = _mm512_setzero_si512();
    }
    for (int c = 0; c < full; c++) {
        const int8_t *xc[4];
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) xc[r] = xp[r] + (size_t)c * (size_t)kc * (size_t)eb;
        tile_chunk(acc, wp + (size_t)c * QS_KERNEL_CHUNK, bstride, xc, MR, NB, bits);
    }
    if (full < w->nchunks) { /* partial last chunk: zero-padded copy of x */
        _Alignas(64) int8_t buf[4][64];
        const int8_t *xc[4];
        size_t rest = (size_t)(w->k - full * kc) * (size_t)eb;
        for (int r = 0; r < MR; r++) {
            memset(buf[r], 0, sizeof buf[r]);
            memcpy(buf[r], xp[r] + (size_t)full * (size_t)kc * (size_t)eb, rest);
            xc[r] = buf[r];
        }
        tile_chunk(acc, wp + (size_t)full * QS_KERNEL_CHUNK, bstride, xc, MR, NB, bits);
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
        __m512i corr = _mm512_set1_epi32(R[r]);
#pragma GCC unroll 4
        for (int j = 0; j < NB; j++) {
            __m512i v = acc[r][j];
            if (scale == 2) v = _mm512_add_epi32(v, v);
            else if (scale == -1) v = _mm512_sub_epi32(_mm512_setzero_si512(), v);
            v = _mm512_sub_epi32(v, corr);
            int row = (b0 + j) * QS_KERNEL_NBLOCK, left = w->n - row;
            __mmask16 mk = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            _mm512_mask_storeu_epi32(y + (size_t)(r0 + r) * (size_t)w->n + (size_t)row, mk, v);
        }
    }
}

/* sum of x[0..k) as int32 (wraps like the accumulators). */
static TGT int32_t row_sum(const int8_t *x, int k)
{
    __m512i s = _mm512_setzero_si512(), flip = _mm512_set1_epi8((char)0x80);
    int i = 0, nvec = 0;
    for (; i + 64 <= k; i += 64, nvec++)
        s = _mm512_add_epi64(s, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(x + i), flip),
                                                _mm512_setzero_si512()));
    if (i < k) { /* masked-off lanes read 0, i.e. 128 after the flip */
        __m512i v = _mm512_maskz_loadu_epi8((__mmask64)(~0ull >> (64 - (k - i))), x + i);
        s = _mm512_add_epi64(s, _mm512_sad_epu8(_mm512_xor_si512(v, flip), _mm512_setzero_si512()));
        nvec++;
    }
    int64_t total = _mm512_reduce_add_epi64(s) - 128 * 64 * (int64_t)nvec;
    return (int32_t)(uint32_t)(uint64_t)total;
}

typedef void tile_fn(const qs_kernel_weights *, const int8_t *, int, int, const int32_t *,
                     int32_t *, int);

#define TILE(BITS, MR, NB)                                                                    \
    static TGT void tile_##BITS##_##MR##_##NB(const qs_kernel_weights *w, const int8_t *x,   \
                                              int r0, int b0, const int32_t *R, int32_t *y,  \
                                              int scale)                                     \
    {                                                                                         \
        tile(w, x, r0, b0, R, y, scale, MR, NB, BITS);                                        \
    }
#define TILES(BITS) TILE(BITS, 4, 4) TILE(BITS, 1, 4) TILE(BITS, 4, 1) TILE(BITS, 1, 1)
TILES(16)
TILES(8)
TILES(4)
TILES(2)
TILES(1)

typedef struct {
    tile_fn *t44, *t14, *t41, *t11;
} tile_set;

#define SET(BITS) {tile_##BITS##_4_4, tile_##BITS##_1_4, tile_##BITS##_4_1, tile_##BITS##_1_1}
static const tile_set sets16 = SET(16), sets8 = SET(8), sets4 = SET(4), sets2 = SET(2),
                      sets1 = SET(1);

/* Runs the tiles over the whole problem: blocks in fours, rows in fours. */
static TGT void run_tiles(const tile_set *ts, const qs_kernel_weights *w, const int8_t *x, int m,
                          const int32_t *R, int32_t *y, int scale, size_t xstride)
{
    int b0 = 0;
    for (; b0 + 4 <= w->nblocks; b0 += 4) {
        int r0 = 0;
        for (; r0 + 4 <= m; r0 += 4) ts->t44(w, x, r0, b0, R + r0, y, scale);
        for (; r0 < m; r0++) ts->t14(w, x, r0, b0, R + r0, y, scale);
    }
    for (; b0 < w->nblocks; b0++) {
        int r0 = 0;
        for (; r0 + 4 <= m; r0 += 4) ts->t41(w, x, r0, b0, R + r0, y, scale);
        for (; r0 < m; r0++) ts->t11(w, x, r0, b0, R + r0, y, scale);
    }
    (void)xstride;
}

/* Row corrections are computed in slices of this many rows (stack, no malloc). */
#define RSLICE 256

void qs_kernel_s8_avx512(const qs_kernel_weights *w, const int8_t *x, int m, int32_t *y)
{
    qs_kern_traits t = qs_kern_traits_of(w->fmt);
    const tile_set *ts = t.bits == 8 ? &sets8 : t.bits == 4 ? &sets4 : t.bits == 2 ? &sets2 : &sets1;
    int32_t R[RSLICE];
    for (int s = 0; s < m; s += RSLICE) {
        int ms = m - s < RSLICE ? m - s : RSLICE;
        const int8_t *xs = x + (size_t)s * (size_t)w->k;
        for (int r = 0; r < ms; r++)
            R[r] = (int32_t)((uint32_t)t.offset * (uint32_t)row_sum(xs + (size_t)r * (size_t)w->k, w->k));
        run_tiles(ts, w, xs, ms, R, y + (size_t)s * (size_t)w->n, t.scale, (size_t)w->k);
    }
}

void qs_kernel_s16_avx512(const qs_kernel_weights *w, const int16_t *x, int m, int32_t *y)
{
    static const int32_t zeros[RSLICE];
    for (int s = 0; s < m; s += RSLICE) {
        int ms = m - s < RSLICE ? m - s : RSLICE;
        run_tiles(&sets16, w, (const int8_t *)(const void *)(x + (size_t)s * (size_t)w->k), ms,
                  zeros, y + (size_t)s * (size_t)w->n, 1, (size_t)w->k * 2);
    }
}

/* int64 path: VPMADDWD pair sums lie in [-2^31 + 2^16, 2^31]; only 2^31
 * (both products (-32768)^2) wraps, so the kernel adds pair - 1, which always
 * fits int32, widens it to int64 and adds the nchunks ones back at the end. */
TGT void qs_kernel_s16_i64_avx512(const qs_kernel_weights *w, const int16_t *x, int m, int64_t *y)
{
    __m512i minus1 = _mm512_set1_epi32(-1);
    for (int r = 0; r < m; r++) {
        const int16_t *xr = x + (size_t)r * (size_t)w->k;
        for (int b = 0; b < w->nblocks; b++) {
            const uint8_t *wp = w->data + (size_t)b * (size_t)w->nchunks * QS_KERNEL_CHUNK;
            __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
            for (int c = 0; c < w->nchunks; c++) {
                int32_t xv = 0;
                int left = w->k - 2 * c;
                memcpy(&xv, xr + 2 * c, left >= 2 ? 4 : 2);
                __m512i p = _mm512_madd_epi16(_mm512_load_si512((const void *)(wp + (size_t)c * 64)),
                                              _mm512_set1_epi32(xv));
                p = _mm512_add_epi32(p, minus1);
                lo = _mm512_add_epi64(lo, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(p)));
                hi = _mm512_add_epi64(hi, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(p, 1)));
            }
            __m512i back = _mm512_set1_epi64(w->nchunks);
            lo = _mm512_add_epi64(lo, back);
            hi = _mm512_add_epi64(hi, back);
            int row = b * QS_KERNEL_NBLOCK, left = w->n - row;
            int64_t *yr = y + (size_t)r * (size_t)w->n + (size_t)row;
            __mmask8 mlo = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
            __mmask8 mhi = left >= 16 ? 0xFF : left <= 8 ? 0 : (__mmask8)((1u << (left - 8)) - 1);
            _mm512_mask_storeu_epi64(yr, mlo, lo);
            _mm512_mask_storeu_epi64(yr + 8, mhi, hi);
        }
    }
}

static __attribute__((target("avx512f,avx512vpopcntdq"))) void
xnor_vpopcnt(const qs_kernel_weights *w, const uint64_t *xbits, int m, int32_t *y)
{
    int kw = w->kwords;
    for (int r = 0; r < m; r++) {
        const uint64_t *a = xbits + (size_t)r * (size_t)kw;
        for (int row = 0; row < w->n; row++) {
            const uint64_t *b = w->rowbits + (size_t)row * (size_t)kw;
            __m512i acc = _mm512_setzero_si512();
            int i = 0;
            for (; i + 8 <= kw; i += 8)
                acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(
                                                _mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i))));
            if (i < kw) {
                __mmask8 mk = (__mmask8)((1u << (kw - i)) - 1);
                acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(
                                                _mm512_maskz_loadu_epi64(mk, a + i),
                                                _mm512_maskz_loadu_epi64(mk, b + i))));
            }
            y[(size_t)r * (size_t)w->n + (size_t)row] =
                (int32_t)(w->k - 2 * _mm512_reduce_add_epi64(acc));
        }
    }
}

void qs_kernel_xnor_avx512(const qs_kernel_weights *w, const uint64_t *xbits, int m, int32_t *y)
{
    if (__builtin_cpu_supports("avx512vpopcntdq"))
        xnor_vpopcnt(w, xbits, m, y);
    else
        qs_kernel_xnor_avx2(w, xbits, m, y); /* scalar POPCNT: one word per instruction */
}
