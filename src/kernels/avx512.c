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
        /* a masked register move (one uop), not a broadcast from a GPR (two) */
        return _mm512_maskz_mov_epi8((__mmask64)m, _mm512_set1_epi8(1));
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

/* One chunk of NB adjacent blocks at p against MR rows whose chunk-start
 * activations are xp[r]. */
INL void tile_chunk(__m512i acc[12][8], const uint8_t *p, size_t pnext, const int8_t *const *xp,
                    int MR, int NB, int bits)
{
    if (bits == 4 && MR > 6) { /* tall tiles: one pair, one broadcast at a time */
        __m512i v = _mm512_load_si512((const void *)p);
        __m512i hi = _mm512_and_si512(v, _mm512_set1_epi8((char)0xF0));
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            __m512i xb = bcast4(xp[r]);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], v, xb);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], hi, xb);
        }
        return;
    }
    if (bits == 4) { /* paired blocks: acc[2i] += v x, acc[2i+1] += (v & 0xF0) x */
        __m512i xb[12];
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) xb[r] = bcast4(xp[r]);
#pragma GCC unroll 4
        for (int i = 0; i < (NB + 1) / 2; i++) {
            __m512i v = _mm512_load_si512((const void *)(p + (i >= 2 ? pnext : 0) +
                                                         (i % 2) * QS_KERNEL_CHUNK));
            __m512i hi = _mm512_and_si512(v, _mm512_set1_epi8((char)0xF0));
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) {
                acc[r][2 * i] = _mm512_dpbusd_epi32(acc[r][2 * i], v, xb[r]);
                acc[r][2 * i + 1] = _mm512_dpbusd_epi32(acc[r][2 * i + 1], hi, xb[r]);
            }
        }
        return;
    }
    int groups = bits >= 8 ? 1 : 8 / bits;
    if (MR > 6) { /* tall tiles: NB weight vectors live, one broadcast at a time */
#pragma GCC unroll 8
        for (int g = 0; g < groups; g++) {
            __m512i wv[2];
#pragma GCC unroll 2
            for (int j = 0; j < NB; j++) wv[j] = unpack(p + (j % 4) * QS_KERNEL_CHUNK, bits, g);
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) {
                __m512i xb = bcast4(xp[r] + 4 * g);
#pragma GCC unroll 2
                for (int j = 0; j < NB; j++)
                    acc[r][j] = bits == 16 ? _mm512_dpwssd_epi32(acc[r][j], wv[j], xb)
                                           : _mm512_dpbusd_epi32(acc[r][j], wv[j], xb);
            }
        }
        return;
    }
#pragma GCC unroll 8
    for (int g = 0; g < groups; g++) {
        __m512i xb[12];
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) xb[r] = bcast4(xp[r] + 4 * g);
#pragma GCC unroll 8
        for (int j = 0; j < NB; j++) {
            __m512i wv = unpack(p + (j >= 4 ? pnext : 0) + (j % 4) * QS_KERNEL_CHUNK, bits, g);
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++)
                acc[r][j] = bits == 16 ? _mm512_dpwssd_epi32(acc[r][j], wv, xb[r])
                                       : _mm512_dpbusd_epi32(acc[r][j], wv, xb[r]);
        }
    }
}

/* Split variant for 2-bit codes: instead of shifting every field down, odd
 * groups are masked in place (0x0C, after a 4-bit shift for groups 2 and 3)
 * and accumulated in acc1, which thus holds 4 times their sum; that saves one
 * shift per two groups. The caller folds acc1 >> 2 into acc0 often enough
 * that acc1 cannot overflow. */
INL void tile_chunk_split(__m512i acc0[12][8], __m512i acc1[12][8], const uint8_t *p, size_t pnext,
                          const int8_t *const *xp, int MR, int NB, int bits)
{
    int groups = 8 / bits;
#pragma GCC unroll 4
    for (int g = 0; g < groups; g++) {
        __m512i xb[12];
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) xb[r] = bcast4(xp[r] + 4 * g);
        int mask = g & 1 ? 0x0C : 0x03;
#pragma GCC unroll 8
        for (int j = 0; j < NB; j++) {
            __m512i v = _mm512_load_si512((const void *)(p + (j >= 4 ? pnext : 0) + (j % 4) * QS_KERNEL_CHUNK));
            if (bits == 2 && g >= 2) v = _mm512_srli_epi16(v, 4);
            __m512i wv = _mm512_and_si512(v, _mm512_set1_epi8((char)mask));
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) {
                if (g & 1)
                    acc1[r][j] = _mm512_dpbusd_epi32(acc1[r][j], wv, xb[r]);
                else
                    acc0[r][j] = _mm512_dpbusd_epi32(acc0[r][j], wv, xb[r]);
            }
        }
    }
}

/* acc0 += acc1 / 4 (exact: acc1 is a multiple of 4), acc1 = 0. */
INL void fold_split(__m512i acc0[12][8], __m512i acc1[12][8], int MR, int NB)
{
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int j = 0; j < NB; j++) {
            acc0[r][j] = _mm512_add_epi32(acc0[r][j], _mm512_srai_epi32(acc1[r][j], 2));
            acc1[r][j] = _mm512_setzero_si512();
        }
}

#ifndef KPF
#define KPF 8
#endif

/* Chunks between folds of the split accumulators: |acc1| <= 12 * 128 * 8 * 4096 < 2^31. */
#define SPLIT_SEG 4096

/* y rows r0..r0+MR-1, weight blocks b0..b0+NB-1, chunks c0..c1-1; R[r] is
 * the row correction offset * sum(x[r]) (0 for INT16), applied by the slab
 * with c0 == 0; later slabs add to y. KS = 2 splits k over two accumulator
 * sets (even and odd chunks) so that a single row still has enough
 * independent VPDPBUSD chains to hide their latency. */
INL void tile(const qs_kernel_weights *w, const int8_t *x, int r0, int b0, int c0, int c1,
              const int32_t *R, int32_t *y, int scale, int MR, int NB, int KS, int bits)
{
    int eb = bits == 16 ? 2 : 1; /* bytes per activation */
    size_t cstride = qs_kern_cstride(w, b0);
    /* blocks 4..7 of an 8-block tile lie in the next panel */
    size_t pnext = (size_t)(qs_kern_chunk(w, b0 + (NB > 4 ? 4 : 0), 0) - qs_kern_chunk(w, b0, 0));
    size_t xstride = (size_t)w->k * (size_t)eb, xc_bytes = (size_t)w->kchunk * (size_t)eb;
    const uint8_t *wp = qs_kern_chunk(w, b0, 0);
    int full = w->k / w->kchunk, c = c0, end = c1 < full ? c1 : full;
    /* INT4 computes both blocks of each pair (acc 2i: S_2i + 16 S_2i+1, acc
     * 2i+1: 16 S_2i+1), so a 1-block tile still needs two accumulators */
    int NA = bits == 4 ? (NB + 1) / 2 * 2 : NB;
    __m512i acc[2][12][8];
    const int8_t *xp[12];
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        xp[r] = x + (size_t)(r0 + r) * xstride;
#pragma GCC unroll 8
        for (int j = 0; j < NA; j++) acc[0][r][j] = acc[1][r][j] = _mm512_setzero_si512();
    }
    int split = KS == 2 && bits == 2;
    for (; split && c < end; c++) {
        const int8_t *xc[12];
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) xc[r] = xp[r] + (size_t)c * xc_bytes;
        tile_chunk_split(acc[0], acc[1], wp + (size_t)c * cstride, pnext, xc, MR, NB, bits);
        if ((c - c0) % SPLIT_SEG == SPLIT_SEG - 1) fold_split(acc[0], acc[1], MR, NB);
    }
    /* batched tiles stream a panel from L2: prefetch PF chunks ahead */
    int PF = MR >= 2 && NB >= 2 ? KPF : 0, lines = bits == 4 ? (NB + 1) / 2 : NB;
    for (; c + KS <= end; c += KS) {
        if (PF)
#pragma GCC unroll 4
            for (int l = 0; l < 4 && l < lines; l++)
                _mm_prefetch((const char *)(wp + (size_t)(c + PF) * cstride) + l * QS_KERNEL_CHUNK, _MM_HINT_T0);
#pragma GCC unroll 2
        for (int s = 0; s < KS; s++) {
            const int8_t *xc[12];
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) xc[r] = xp[r] + (size_t)(c + s) * xc_bytes;
            tile_chunk(acc[s], wp + (size_t)(c + s) * cstride, pnext, xc, MR, NB, bits);
        }
    }
    if (c < end) { /* odd chunk left by KS = 2 */
        const int8_t *xc[12];
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) xc[r] = xp[r] + (size_t)c * xc_bytes;
        tile_chunk(acc[0], wp + (size_t)c * cstride, pnext, xc, MR, NB, bits);
    }
    if (full < c1) { /* partial last chunk: zero-padded copy of x */
        _Alignas(64) int8_t buf[12][64];
        const int8_t *xc[12];
        size_t rest = (size_t)(w->k - full * w->kchunk) * (size_t)eb;
        for (int r = 0; r < MR; r++) {
            memset(buf[r], 0, sizeof buf[r]);
            memcpy(buf[r], xp[r] + (size_t)full * xc_bytes, rest);
            xc[r] = buf[r];
        }
        if (split)
            tile_chunk_split(acc[0], acc[1], wp + (size_t)full * cstride, pnext, xc, MR, NB, bits);
        else
            tile_chunk(acc[0], wp + (size_t)full * cstride, pnext, xc, MR, NB, bits);
    }
    if (split) fold_split(acc[0], acc[1], MR, NB);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        __m512i corr = _mm512_set1_epi32(R[r]), T[8];
#pragma GCC unroll 8
        for (int j = 0; j < NA; j++)
            T[j] = KS == 2 ? _mm512_add_epi32(acc[0][r][j], acc[1][r][j]) : acc[0][r][j];
#pragma GCC unroll 8
        for (int j = 0; j < NB; j++) {
            __m512i v = T[j];
            if (bits == 4) { /* exact: T[odd] is 16 x a sum below 2^27 (k slabs <= 65536) */
                int odd = NB == 1 ? b0 & 1 : j & 1, e = j & ~1;
                v = odd ? _mm512_srai_epi32(T[e + 1], 4) : _mm512_sub_epi32(T[e], T[e + 1]);
            }
            if (scale == 2) v = _mm512_add_epi32(v, v);
            else if (scale == -1) v = _mm512_sub_epi32(_mm512_setzero_si512(), v);
            int row = (b0 + j) * QS_KERNEL_NBLOCK, left = w->n - row;
            __mmask16 mk = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            int32_t *yp = y + (size_t)(r0 + r) * (size_t)w->n + (size_t)row;
            v = c0 == 0 ? _mm512_sub_epi32(v, corr)
                        : _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mk, yp));
            _mm512_mask_storeu_epi32(yp, mk, v);
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

typedef void tile_fn(const qs_kernel_weights *, const int8_t *, int, int, int, int,
                     const int32_t *, int32_t *, int);

#define TILE(BITS, MR, NB, KS)                                                                  \
    static TGT void tile_##BITS##_##MR##_##NB(const qs_kernel_weights *w, const int8_t *x,     \
                                              int r0, int b0, int c0, int c1, const int32_t *R, \
                                              int32_t *y, int scale)                           \
    {                                                                                           \
        tile(w, x, r0, b0, c0, c1, R, y, scale, MR, NB, KS, BITS);                              \
    }
/* Row tiles of 6 and 4 (4 blocks = 64 outputs) and 3 and 2 for row tails,
 * single rows with 8, 4, 2 or 1 blocks and split k, 1-block tiles for the
 * last blocks, and for 2- and 1-bit codes 12 rows x 2 blocks: their unpack
 * (shift and AND, or mask to bytes) competes with VPDPBUSD for the vector
 * ports and is paid once per block and group, so twice the rows per
 * unpacked vector halves it (measured 0.83x -> 1.0x oneDNN at batch 64;
 * INT8 and INT4, with little or no unpacking, were slower with 12 x 2: its
 * 12 activation pointers spill). INT4 has no 6-row tiles: with its unpacked
 * pair (v, v & 0xF0) live next to 24 accumulators and 6 broadcasts it needs
 * more than 32 vector registers. */
#define TILES4(BITS)                                                                            \
    TILE(BITS, 4, 4, 1) TILE(BITS, 3, 4, 1) TILE(BITS, 2, 4, 1) TILE(BITS, 4, 1, 1)             \
    TILE(BITS, 1, 8, 2) TILE(BITS, 1, 4, 2) TILE(BITS, 1, 2, 2) TILE(BITS, 1, 1, 2)
#define TILES(BITS) TILE(BITS, 6, 4, 1) TILE(BITS, 6, 1, 1) TILES4(BITS)
TILES(16)
TILES(8)
TILES4(4)
TILES(2)
TILE(2, 12, 2, 1)
TILES(1)
TILE(1, 12, 2, 1)

typedef struct {
    tile_fn *t64, *t44, *t61, *t41, *t18, *t14, *t12, *t11, *t34, *t24, *tc2;
} tile_set;

#define SET(B, TC2)                                                                             \
    {tile_##B##_6_4, tile_##B##_4_4, tile_##B##_6_1, tile_##B##_4_1, tile_##B##_1_8,           \
     tile_##B##_1_4, tile_##B##_1_2, tile_##B##_1_1, tile_##B##_3_4, tile_##B##_2_4, TC2}
static const tile_set sets16 = SET(16, NULL), sets8 = SET(8, NULL),
                      sets2 = SET(2, tile_2_12_2), sets1 = SET(1, tile_1_12_2);
static const tile_set sets4 = {NULL,         tile_4_4_4, NULL,       tile_4_4_1,
                               tile_4_1_8,   tile_4_1_4, tile_4_1_2, tile_4_1_1,
                               tile_4_3_4,   tile_4_2_4, NULL};

/* Rows r0..r1-1 in sixes (if t6), then fours, then singly, for one range of
 * blocks and chunks. */
static void run_rows(tile_fn *t6, tile_fn *t4, tile_fn *t1, const qs_kernel_weights *w,
                     const int8_t *x, int r0, int r1, const int32_t *R, int32_t *y, int scale,
                     int b0, int c0, int c1)
{
    for (; t6 && r0 + 6 <= r1; r0 += 6) t6(w, x, r0, b0, c0, c1, R + r0, y, scale);
    for (; r0 + 4 <= r1; r0 += 4) t4(w, x, r0, b0, c0, c1, R + r0, y, scale);
    for (; r0 < r1; r0++) t1(w, x, r0, b0, c0, c1, R + r0, y, scale);
}

/* Rows r0..r1-1 of a full 4-block panel: sixes, then the tail (1..5 rows)
 * in one or two tiles of 2..4 rows rather than single rows, which would
 * each pass over the panel again. */
static void run_rows4(const tile_set *ts, const qs_kernel_weights *w, const int8_t *x, int r0,
                      int r1, const int32_t *R, int32_t *y, int scale, int b0, int c0, int c1)
{
    for (; ts->t64 && r0 + 6 <= r1; r0 += 6) ts->t64(w, x, r0, b0, c0, c1, R + r0, y, scale);
    for (; r0 + 4 <= r1 && (r1 - r0) != 5; r0 += 4) ts->t44(w, x, r0, b0, c0, c1, R + r0, y, scale);
    if (r1 - r0 >= 3) {
        ts->t34(w, x, r0, b0, c0, c1, R + r0, y, scale);
        r0 += 3;
    }
    if (r1 - r0 == 2) ts->t24(w, x, r0, b0, c0, c1, R + r0, y, scale);
    else if (r1 - r0 == 1) ts->t14(w, x, r0, b0, c0, c1, R + r0, y, scale);
}

/* Batched calls: each 6-row tile accumulates a whole k slab of a 4-block
 * panel in registers and streams the panel from L2 with prefetches (KPF
 * chunks ahead), so y is written once per slab. Slabs of KSLAB chunks bound
 * a panel's slab to 256 KiB (INT8: 4096 k), so that it stays in L2 while
 * the row tiles of a row panel pass over it; row panels of MPANEL rows keep
 * their activations (MPANEL x k bytes) in L1/L2. Shorter slabs (64 chunks,
 * L1-resident) were measured 10-20% slower at batch 64 and 1024: every slab
 * re-reads and re-writes the tile's outputs, and the tile set-up is paid
 * per slab. */
#ifndef KSLAB
#define KSLAB 1024
#endif
#ifndef MPANEL
#define MPANEL 24
#endif

/* Runs the tiles over the whole problem; maxslab bounds the chunks one tile
 * call accumulates (INT4's scaled accumulators must not wrap). */
static void run_tiles(const tile_set *ts, const qs_kernel_weights *w, const int8_t *x, int m,
                      const int32_t *R, int32_t *y, int scale, int maxslab)
{
    int nc = w->nchunks, b0 = 0, nb = w->nblocks;
    int slab = maxslab < nc ? maxslab : nc;
    if (m < 4) { /* GEMV-like: one pass over W per row, 8 blocks at a time */
        for (int c0 = 0; c0 < nc; c0 += slab) {
            int c1 = nc - c0 > slab ? c0 + slab : nc, b = 0;
            for (; b + 8 <= nb; b += 8)
                for (int r = 0; r < m; r++) ts->t18(w, x, r, b, c0, c1, R + r, y, scale);
            for (; b + 4 <= nb; b += 4)
                run_rows(ts->t64, ts->t44, ts->t14, w, x, 0, m, R, y, scale, b, c0, c1);
            /* the last, partial panel: a pair of blocks in one call (small
             * layers such as jsc-s's 32 outputs are all per-call cost) */
            for (; b + 2 <= nb; b += 2)
                for (int r = 0; r < m; r++) ts->t12(w, x, r, b, c0, c1, R + r, y, scale);
            for (; b < nb; b++) run_rows(ts->t61, ts->t41, ts->t11, w, x, 0, m, R, y, scale, b, c0, c1);
        }
        return;
    }
    int full4 = nb / 4 * 4, ks = KSLAB < slab ? KSLAB : slab;
    for (int p0 = 0; p0 < m; p0 += MPANEL) {
        int p1 = p0 + MPANEL < m ? p0 + MPANEL : m;
        for (int b = 0; b < full4; b += 4)
            for (int c0 = 0; c0 < nc; c0 += ks) {
                int c1 = nc - c0 > ks ? c0 + ks : nc, r = p0;
                for (; ts->tc2 && r + 12 <= p1; r += 12) {
                    ts->tc2(w, x, r, b, c0, c1, R + r, y, scale);
                    ts->tc2(w, x, r, b + 2, c0, c1, R + r, y, scale);
                }
                run_rows4(ts, w, x, r, p1, R, y, scale, b, c0, c1);
            }
    }
    for (b0 = full4; b0 < nb; b0++)
        for (int c0 = 0; c0 < nc; c0 += slab)
            run_rows(ts->t61, ts->t41, ts->t11, w, x, 0, m, R, y, scale, b0, c0,
                     nc - c0 > slab ? c0 + slab : nc);
}

/* INT4 chunks per tile call: |16 S| <= 240 * 128 * 4 * 16384 < 2^31. */
#define INT4_SLAB 16384

/* Row corrections are computed in slices of this many rows (stack, no malloc). */
#define RSLICE 256

void qs_kernel_s8_avx512(const qs_kernel_weights *w, const int8_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S8(w);
    qs_kern_traits t = qs_kern_traits_of(w->fmt);
    const tile_set *ts = t.bits == 8 ? &sets8 : t.bits == 4 ? &sets4 : t.bits == 2 ? &sets2 : &sets1;
    int32_t R[RSLICE];
    for (int s = 0; s < m; s += RSLICE) {
        int ms = m - s < RSLICE ? m - s : RSLICE;
        const int8_t *xs = x + (size_t)s * (size_t)w->k;
        for (int r = 0; r < ms; r++)
            R[r] = (int32_t)((uint32_t)t.offset * (uint32_t)row_sum(xs + (size_t)r * (size_t)w->k, w->k));
        run_tiles(ts, w, xs, ms, R, y + (size_t)s * (size_t)w->n, t.scale,
                  t.bits == 4 ? INT4_SLAB : w->nchunks);
    }
}

void qs_kernel_s16_avx512(const qs_kernel_weights *w, const int16_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S16(w);
    static const int32_t zeros[RSLICE];
    for (int s = 0; s < m; s += RSLICE) {
        int ms = m - s < RSLICE ? m - s : RSLICE;
        run_tiles(&sets16, w, (const int8_t *)(const void *)(x + (size_t)s * (size_t)w->k), ms,
                  zeros, y + (size_t)s * (size_t)w->n, 1, w->nchunks);
    }
}

/* int64 path: VPMADDWD pair sums lie in [-2^31 + 2^16, 2^31]; only 2^31
 * (both products (-32768)^2) wraps, so the kernel adds pair - 1, which always
 * fits int32, widens it to int64 and adds the nchunks ones back at the end. */
TGT void qs_kernel_s16_i64_avx512(const qs_kernel_weights *w, const int16_t *x, int m, int64_t *y)
{
    QS_KERN_CHECK_S16(w);
    __m512i minus1 = _mm512_set1_epi32(-1);
    for (int r = 0; r < m; r++) {
        const int16_t *xr = x + (size_t)r * (size_t)w->k;
        for (int b = 0; b < w->nblocks; b++) {
            const uint8_t *wp = qs_kern_chunk(w, b, 0);
            size_t cstride = qs_kern_cstride(w, b);
            __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
            for (int c = 0; c < w->nchunks; c++) {
                int32_t xv = 0;
                if (2 * c + 2 <= w->k)
                    memcpy(&xv, xr + 2 * c, 4);
                else
                    memcpy(&xv, xr + 2 * c, 2); /* odd k: the pad activation is 0 */
                __m512i p = _mm512_madd_epi16(_mm512_load_si512((const void *)(wp + (size_t)c * cstride)),
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

#define TGTP __attribute__((target("avx512f,avx512vl,avx512vpopcntdq")))

/* Row groups g0, g0+8, ... (NG groups of 8 rows) against MR activation rows:
 * one load serves 8 weight rows (the words are interleaved), so no
 * horizontal sums are needed; NG groups share each activation broadcast. */
static inline __attribute__((always_inline)) TGTP void
xnor_tile(const qs_kernel_weights *w, const uint64_t *xbits, int r0, int g0, int32_t *y, int MR,
          int NG)
{
    int kw = w->kwords;
    size_t gstride = (size_t)kw * 8; /* words from one 8-row group to the next */
    const uint64_t *b = w->rowbits + (size_t)g0 * (size_t)kw;
    __m512i acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int q = 0; q < NG; q++) acc[r][q] = _mm512_setzero_si512();
    for (int i = 0; i < kw; i++) {
        __m512i xv[4];
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++)
            xv[r] = _mm512_set1_epi64((long long)xbits[(size_t)(r0 + r) * (size_t)kw + (size_t)i]);
#pragma GCC unroll 4
        for (int q = 0; q < NG; q++) {
            __m512i wv = _mm512_loadu_si512(b + (size_t)q * gstride + 8 * (size_t)i);
#pragma GCC unroll 4
            for (int r = 0; r < MR; r++)
                acc[r][q] = _mm512_add_epi64(acc[r][q], _mm512_popcnt_epi64(_mm512_xor_si512(wv, xv[r])));
        }
    }
    __m256i kk = _mm256_set1_epi32(w->k);
#pragma GCC unroll 4
    for (int q = 0; q < NG; q++) {
        int left = w->n - (g0 + 8 * q);
        __mmask8 mk = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            __m256i d = _mm512_cvtepi64_epi32(acc[r][q]);
            _mm256_mask_storeu_epi32(y + (size_t)(r0 + r) * (size_t)w->n + (size_t)(g0 + 8 * q), mk,
                                     _mm256_sub_epi32(kk, _mm256_add_epi32(d, d)));
        }
    }
}

static TGTP void xnor_vpopcnt(const qs_kernel_weights *w, const uint64_t *xbits, int m, int32_t *y)
{
    int g = 0;
    if (m < 4) /* GEMV-like: 32 weight rows per pass */
        for (; g + 32 <= w->n; g += 32)
            for (int r = 0; r < m; r++) xnor_tile(w, xbits, r, g, y, 1, 4);
    for (; g < w->n; g += 8) {
        int r = 0;
        for (; r + 4 <= m; r += 4) xnor_tile(w, xbits, r, g, y, 4, 1);
        for (; r < m; r++) xnor_tile(w, xbits, r, g, y, 1, 1);
    }
}

void qs_kernel_xnor_avx512(const qs_kernel_weights *w, const uint64_t *xbits, int m, int32_t *y)
{
    QS_KERN_CHECK_XNOR(w);
    if (__builtin_cpu_supports("avx512vpopcntdq"))
        xnor_vpopcnt(w, xbits, m, y);
    else
        qs_kernel_xnor_avx2(w, xbits, m, y); /* scalar POPCNT: one word per instruction */
}
