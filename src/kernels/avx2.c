/* AVX2 kernels (no VNNI). VPMADDUBSW (u8 x s8, pairs summed in saturating
 * int16) is only safe for codes below 16: 2 x 15 x 128 = 3840. So:
 * - INT8 codes (0..255, where 2 x 255 x 128 would saturate) are widened to
 *   int16 and multiplied with VPMADDWD against int16 activations; each
 *   16-row block keeps four accumulators of (row, pair) partial sums that a
 *   horizontal add folds at the end;
 * - sub-byte codes (INT4, INT2, TERNARY, INT1, BINARY) use VPMADDUBSW on the
 *   raw activation bytes, then VPMADDWD with ones, one int32 lane per row. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kern_internal.h"
#include "qsearch/kernels.h"

#define TGT __attribute__((target("avx2,popcnt")))
#define INL static inline __attribute__((always_inline)) TGT

/* INT8 codes for rows 4q..4q+3 (x 4 k) as 16 int16. */
INL __m256i codes16(const uint8_t *p, int q)
{
    return _mm256_cvtepu8_epi16(_mm_load_si128((const __m128i *)(const void *)(p + 16 * q)));
}

INL __m256i bcast4x16(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    __m128i w = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(v));
    return _mm256_broadcastq_epi64(w);
}

/* One INT8 chunk (one group of 4 k) against MR rows. */
INL void chunk2(__m256i acc[2][4], const uint8_t *p, const int8_t *const *xp, int MR)
{
    __m256i xb[2];
#pragma GCC unroll 2
    for (int r = 0; r < MR; r++) xb[r] = bcast4x16(xp[r]);
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        __m256i c = codes16(p, q);
#pragma GCC unroll 2
        for (int r = 0; r < MR; r++)
            acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(c, xb[r]));
    }
}

/* Codes (< 16) of group g for rows 8h..8h+7 (x 4 k) as 32 bytes; sh is
 * the extra shift of an INT4 block's nibble (4 for odd blocks). */
INL __m256i codes8(const uint8_t *p, int bits, int g, int h, int sh)
{
    if (bits == 1) { /* byte i = bit i of the 32-bit mask */
        uint32_t m;
        memcpy(&m, p + 8 * g + 4 * h, sizeof m);
        const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                                2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)m), spread);
        v = _mm256_and_si256(v, _mm256_set1_epi64x((long long)0x8040201008040201ull));
        return _mm256_min_epu8(v, _mm256_set1_epi8(1));
    }
    __m256i v = _mm256_load_si256((const __m256i *)(const void *)(p + 32 * h));
    if (g || sh) v = _mm256_srli_epi16(v, g * bits + sh);
    return _mm256_and_si256(v, _mm256_set1_epi8((char)((1 << bits) - 1)));
}

INL void chunk_ub(__m256i acc[4][2], const uint8_t *p, const int8_t *const *xp, int MR, int bits,
                  int sh)
{
    int groups = bits == 4 ? 1 : 8 / bits; /* INT4: one group of a block pair */
    const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 8
    for (int g = 0; g < groups; g++) {
        __m256i xb[4];
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            int32_t v;
            memcpy(&v, xp[r] + 4 * g, sizeof v);
            xb[r] = _mm256_set1_epi32(v);
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i c = codes8(p, bits, g, h, sh);
#pragma GCC unroll 4
            for (int r = 0; r < MR; r++)
                acc[r][h] = _mm256_add_epi32(
                    acc[r][h], _mm256_madd_epi16(_mm256_maddubs_epi16(c, xb[r]), ones));
        }
    }
}

/* Folds four (row, pair) accumulators into 8 sums each for rows 0..7 and 8..15. */
INL void fold(__m256i a[4], __m256i *lo, __m256i *hi)
{
    *lo = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a[0], a[1]), 0xD8);
    *hi = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a[2], a[3]), 0xD8);
}

INL void store8(int32_t *y, int left, __m256i v)
{
    if (left >= 8) {
        _mm256_storeu_si256((__m256i *)(void *)y, v);
    } else if (left > 0) {
        __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_maskstore_epi32(y, _mm256_cmpgt_epi32(_mm256_set1_epi32(left), idx), v);
    }
}

/* INT8: MR rows x one block. */
INL void tile2(const qs_kernel_weights *w, const int8_t *x, int r0, int b, const int32_t *R,
               int32_t *y, int scale, int MR)
{
    size_t cstride = qs_kern_cstride(w, b);
    const uint8_t *wp = qs_kern_chunk(w, b, 0);
    int kc = w->kchunk, full = w->k / kc;
    __m256i acc[2][4];
    const int8_t *xp[2];
    for (int r = 0; r < MR; r++) {
        xp[r] = x + (size_t)(r0 + r) * (size_t)w->k;
        for (int q = 0; q < 4; q++) acc[r][q] = _mm256_setzero_si256();
    }
    for (int c = 0; c < full; c++) {
        const int8_t *xc[2];
        for (int r = 0; r < MR; r++) xc[r] = xp[r] + (size_t)c * (size_t)kc;
        chunk2(acc, wp + (size_t)c * cstride, xc, MR);
    }
    if (full < w->nchunks) {
        _Alignas(32) int8_t buf[2][64];
        const int8_t *xc[2];
        for (int r = 0; r < MR; r++) {
            memset(buf[r], 0, sizeof buf[r]);
            memcpy(buf[r], xp[r] + (size_t)full * (size_t)kc, (size_t)(w->k - full * kc));
            xc[r] = buf[r];
        }
        chunk2(acc, wp + (size_t)full * cstride, xc, MR);
    }
    int row = b * QS_KERNEL_NBLOCK, left = w->n - row;
    for (int r = 0; r < MR; r++) {
        __m256i h[2], corr = _mm256_set1_epi32(R[r]);
        fold(acc[r], &h[0], &h[1]);
        for (int i = 0; i < 2; i++) {
            __m256i v = h[i];
            if (scale == 2) v = _mm256_add_epi32(v, v);
            else if (scale == -1) v = _mm256_sub_epi32(_mm256_setzero_si256(), v);
            store8(y + (size_t)(r0 + r) * (size_t)w->n + (size_t)row + 8 * (size_t)i, left - 8 * i,
                   _mm256_sub_epi32(v, corr));
        }
    }
}

/* Sub-byte codes: MR rows x one block, one int32 lane per row. */
INL void tile_ub(const qs_kernel_weights *w, const int8_t *x, int r0, int b, const int32_t *R,
                 int32_t *y, int scale, int MR, int bits)
{
    size_t cstride = qs_kern_cstride(w, b);
    const uint8_t *wp = qs_kern_chunk(w, b, 0);
    int kc = w->kchunk, full = w->k / kc, sh = bits == 4 ? 4 * (b % 2) : 0;
    __m256i acc[4][2];
    const int8_t *xp[4];
    for (int r = 0; r < MR; r++) {
        xp[r] = x + (size_t)(r0 + r) * (size_t)w->k;
        acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    }
    for (int c = 0; c < full; c++) {
        const int8_t *xc[4];
        for (int r = 0; r < MR; r++) xc[r] = xp[r] + (size_t)c * (size_t)kc;
        chunk_ub(acc, wp + (size_t)c * cstride, xc, MR, bits, sh);
    }
    if (full < w->nchunks) {
        _Alignas(32) int8_t buf[4][64];
        const int8_t *xc[4];
        for (int r = 0; r < MR; r++) {
            memset(buf[r], 0, sizeof buf[r]);
            memcpy(buf[r], xp[r] + (size_t)full * (size_t)kc, (size_t)(w->k - full * kc));
            xc[r] = buf[r];
        }
        chunk_ub(acc, wp + (size_t)full * cstride, xc, MR, bits, sh);
    }
    int row = b * QS_KERNEL_NBLOCK, left = w->n - row;
    for (int r = 0; r < MR; r++) {
        __m256i corr = _mm256_set1_epi32(R[r]);
        for (int h = 0; h < 2; h++) {
            __m256i v = acc[r][h];
            if (scale == 2) v = _mm256_add_epi32(v, v);
            else if (scale == -1) v = _mm256_sub_epi32(_mm256_setzero_si256(), v);
            store8(y + (size_t)(r0 + r) * (size_t)w->n + (size_t)row + 8 * (size_t)h, left - 8 * h,
                   _mm256_sub_epi32(v, corr));
        }
    }
}

#define TILE_UB(BITS)                                                                          \
    static TGT void run_ub_##BITS(const qs_kernel_weights *w, const int8_t *x, int m,          \
                                  const int32_t *R, int32_t *y, int scale)                    \
    {                                                                                          \
        for (int b = 0; b < w->nblocks; b++) {                                                 \
            int r0 = 0;                                                                        \
            for (; r0 + 4 <= m; r0 += 4) tile_ub(w, x, r0, b, R + r0, y, scale, 4, BITS);     \
            for (; r0 < m; r0++) tile_ub(w, x, r0, b, R + r0, y, scale, 1, BITS);             \
        }                                                                                      \
    }
TILE_UB(4)
TILE_UB(2)
TILE_UB(1)

static TGT void run_8(const qs_kernel_weights *w, const int8_t *x, int m, const int32_t *R,
                      int32_t *y, int scale)
{
    for (int b = 0; b < w->nblocks; b++) {
        int r0 = 0;
        for (; r0 + 2 <= m; r0 += 2) tile2(w, x, r0, b, R + r0, y, scale, 2);
        for (; r0 < m; r0++) tile2(w, x, r0, b, R + r0, y, scale, 1);
    }
}

static TGT int32_t row_sum2(const int8_t *x, int k)
{
    __m256i s = _mm256_setzero_si256(), flip = _mm256_set1_epi8((char)0x80);
    int i = 0;
    int64_t total = 0;
    for (; i + 32 <= k; i += 32) {
        __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)(x + i)), flip);
        s = _mm256_add_epi64(s, _mm256_sad_epu8(v, _mm256_setzero_si256()));
    }
    int64_t part[4];
    _mm256_storeu_si256((__m256i *)(void *)part, s);
    total = part[0] + part[1] + part[2] + part[3] - 128 * (int64_t)i;
    for (; i < k; i++) total += x[i];
    return (int32_t)(uint32_t)(uint64_t)total;
}

#define RSLICE 256

TGT void qs_kernel_s8_avx2(const qs_kernel_weights *w, const int8_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S8(w);
    qs_kern_traits t = qs_kern_traits_of(w->fmt);
    int32_t R[RSLICE];
    for (int s = 0; s < m; s += RSLICE) {
        int ms = m - s < RSLICE ? m - s : RSLICE;
        const int8_t *xs = x + (size_t)s * (size_t)w->k;
        int32_t *ys = y + (size_t)s * (size_t)w->n;
        for (int r = 0; r < ms; r++)
            R[r] = (int32_t)((uint32_t)t.offset * (uint32_t)row_sum2(xs + (size_t)r * (size_t)w->k, w->k));
        switch (t.bits) {
        case 8: run_8(w, xs, ms, R, ys, t.scale); break;
        case 4: run_ub_4(w, xs, ms, R, ys, t.scale); break;
        case 2: run_ub_2(w, xs, ms, R, ys, t.scale); break;
        default: run_ub_1(w, xs, ms, R, ys, t.scale); break;
        }
    }
}

/* INT16: each 32-byte half-chunk is 8 rows x 2 k, so VPMADDWD against a
 * broadcast activation pair gives one partial sum per row directly. With
 * wide = 1 the pair sum minus 1 (always in int32, see avx512.c) is widened
 * and accumulated in int64. */
INL void s16_block(const qs_kernel_weights *w, const int16_t *xr, int b, int32_t *y32,
                   int64_t *y64, int wide)
{
    size_t cstride = qs_kern_cstride(w, b);
    const uint8_t *wp = qs_kern_chunk(w, b, 0);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, l0 = a0, l1 = a0, l2 = a0, l3 = a0;
    __m256i minus1 = _mm256_set1_epi32(-1);
    for (int c = 0; c < w->nchunks; c++) {
        int32_t xv = 0;
        if (2 * c + 2 <= w->k)
            memcpy(&xv, xr + 2 * c, 4);
        else
            memcpy(&xv, xr + 2 * c, 2); /* odd k: the pad activation is 0 */
        __m256i xb = _mm256_set1_epi32(xv);
        const __m256i *p = (const __m256i *)(const void *)(wp + (size_t)c * cstride);
        __m256i p0 = _mm256_madd_epi16(_mm256_load_si256(p), xb);
        __m256i p1 = _mm256_madd_epi16(_mm256_load_si256(p + 1), xb);
        if (!wide) {
            a0 = _mm256_add_epi32(a0, p0);
            a1 = _mm256_add_epi32(a1, p1);
        } else {
            p0 = _mm256_add_epi32(p0, minus1);
            p1 = _mm256_add_epi32(p1, minus1);
            l0 = _mm256_add_epi64(l0, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(p0)));
            l1 = _mm256_add_epi64(l1, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(p0, 1)));
            l2 = _mm256_add_epi64(l2, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(p1)));
            l3 = _mm256_add_epi64(l3, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(p1, 1)));
        }
    }
    int row = b * QS_KERNEL_NBLOCK, left = w->n - row;
    if (!wide) {
        store8(y32 + row, left, a0);
        store8(y32 + row + 8, left - 8, a1);
        return;
    }
    int64_t out[16];
    _mm256_storeu_si256((__m256i *)(void *)out, l0);
    _mm256_storeu_si256((__m256i *)(void *)(out + 4), l1);
    _mm256_storeu_si256((__m256i *)(void *)(out + 8), l2);
    _mm256_storeu_si256((__m256i *)(void *)(out + 12), l3);
    for (int i = 0; i < 16 && i < left; i++) y64[row + i] = out[i] + w->nchunks;
}

TGT void qs_kernel_s16_avx2(const qs_kernel_weights *w, const int16_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S16(w);
    for (int r = 0; r < m; r++)
        for (int b = 0; b < w->nblocks; b++)
            s16_block(w, x + (size_t)r * (size_t)w->k, b, y + (size_t)r * (size_t)w->n, NULL, 0);
}

TGT void qs_kernel_s16_i64_avx2(const qs_kernel_weights *w, const int16_t *x, int m, int64_t *y)
{
    QS_KERN_CHECK_S16(w);
    for (int r = 0; r < m; r++)
        for (int b = 0; b < w->nblocks; b++)
            s16_block(w, x + (size_t)r * (size_t)w->k, b, NULL, y + (size_t)r * (size_t)w->n, 1);
}

TGT void qs_kernel_xnor_avx2(const qs_kernel_weights *w, const uint64_t *xbits, int m, int32_t *y)
{
    QS_KERN_CHECK_XNOR(w);
    int kw = w->kwords;
    for (int r = 0; r < m; r++) {
        const uint64_t *a = xbits + (size_t)r * (size_t)kw;
        for (int g = 0; g < w->n; g += 8) { /* 8 interleaved rows at a time */
            const uint64_t *b = w->rowbits + (size_t)g * (size_t)kw;
            int64_t d[8] = {0};
            for (int i = 0; i < kw; i++)
                for (int j = 0; j < 8; j++) d[j] += __builtin_popcountll(a[i] ^ b[8 * i + j]);
            for (int j = 0; j < 8 && g + j < w->n; j++)
                y[(size_t)r * (size_t)w->n + (size_t)(g + j)] = (int32_t)(w->k - 2 * d[j]);
        }
    }
}
