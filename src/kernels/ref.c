/* Scalar twins of the SIMD kernels: the same packed layouts, read one code at
 * a time, with the same result (int32 outputs wrap modulo 2^32). */
#include <stdint.h>
#include <string.h>

#include "kernels/kern_internal.h"
#include "qsearch/kernels.h"

static int32_t wrap32(int64_t v)
{
    return (int32_t)(uint32_t)(uint64_t)v;
}

static int64_t row_sum8(const int8_t *x, int k)
{
    int64_t s = 0;
    for (int c = 0; c < k; c++) s += x[c];
    return s;
}

/* Code of row nl, k offset kin of group g in a 64-byte chunk; sh is the
 * extra shift of an INT4 block's nibble (4 for odd blocks). */
static int32_t chunk_code(const uint8_t *p, int bits, int g, int nl, int kin, int sh)
{
    int pos = nl * 4 + kin;
    if (bits == 1) return (p[g * 8 + pos / 8] >> (pos % 8)) & 1;
    return (p[pos] >> (g * bits + sh)) & ((1 << bits) - 1);
}

void qs_kernel_s8_ref(const qs_kernel_weights *w, const int8_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S8(w);
    qs_kern_traits t = qs_kern_traits_of(w->fmt);
    for (int r = 0; r < m; r++) {
        const int8_t *xr = x + (size_t)r * (size_t)w->k;
        int64_t R = row_sum8(xr, w->k);
        for (int b = 0; b < w->nblocks; b++) {
            int64_t S[QS_KERNEL_NBLOCK] = {0};
            int sh = w->fmt == QS_KFMT_INT4 ? 4 * (b % 2) : 0;
            for (int c = 0; c < w->nchunks; c++) {
                const uint8_t *p = qs_kern_chunk(w, b, c);
                for (int g = 0; g < t.groups; g++)
                    for (int kin = 0; kin < 4; kin++) {
                        int col = c * w->kchunk + g * 4 + kin;
                        if (col >= w->k) continue;
                        for (int nl = 0; nl < QS_KERNEL_NBLOCK; nl++)
                            S[nl] += chunk_code(p, t.bits, g, nl, kin, sh) * (int64_t)xr[col];
                    }
            }
            for (int nl = 0; nl < QS_KERNEL_NBLOCK; nl++) {
                int row = b * QS_KERNEL_NBLOCK + nl;
                if (row < w->n)
                    y[(size_t)r * (size_t)w->n + (size_t)row] =
                        wrap32(t.scale * S[nl] - t.offset * R);
            }
        }
    }
}

/* Exact int64 dot products of int16 rows with the INT16 layout. */
static void s16_dots(const qs_kernel_weights *w, const int16_t *xr, int b, int64_t *S)
{
    memset(S, 0, QS_KERNEL_NBLOCK * sizeof *S);
    for (int c = 0; c < w->nchunks; c++) {
        const uint8_t *p = qs_kern_chunk(w, b, c);
        for (int kin = 0; kin < 2; kin++) {
            int col = c * 2 + kin;
            if (col >= w->k) continue;
            for (int nl = 0; nl < QS_KERNEL_NBLOCK; nl++) {
                int16_t v;
                memcpy(&v, p + (nl * 2 + kin) * 2, sizeof v);
                S[nl] += (int64_t)v * xr[col];
            }
        }
    }
}

void qs_kernel_s16_ref(const qs_kernel_weights *w, const int16_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S16(w);
    int64_t S[QS_KERNEL_NBLOCK];
    for (int r = 0; r < m; r++)
        for (int b = 0; b < w->nblocks; b++) {
            s16_dots(w, x + (size_t)r * (size_t)w->k, b, S);
            for (int nl = 0; nl < QS_KERNEL_NBLOCK && b * QS_KERNEL_NBLOCK + nl < w->n; nl++)
                y[(size_t)r * (size_t)w->n + (size_t)(b * QS_KERNEL_NBLOCK + nl)] = wrap32(S[nl]);
        }
}

void qs_kernel_s16_i64_ref(const qs_kernel_weights *w, const int16_t *x, int m, int64_t *y)
{
    QS_KERN_CHECK_S16(w);
    int64_t S[QS_KERNEL_NBLOCK];
    for (int r = 0; r < m; r++)
        for (int b = 0; b < w->nblocks; b++) {
            s16_dots(w, x + (size_t)r * (size_t)w->k, b, S);
            for (int nl = 0; nl < QS_KERNEL_NBLOCK && b * QS_KERNEL_NBLOCK + nl < w->n; nl++)
                y[(size_t)r * (size_t)w->n + (size_t)(b * QS_KERNEL_NBLOCK + nl)] = S[nl];
        }
}

void qs_kernel_xnor_ref(const qs_kernel_weights *w, const uint64_t *xbits, int m, int32_t *y)
{
    QS_KERN_CHECK_XNOR(w);
    for (int r = 0; r < m; r++)
        for (int row = 0; row < w->n; row++) {
            const uint64_t *a = xbits + (size_t)r * (size_t)w->kwords;
            int64_t diff = 0;
            for (int i = 0; i < w->kwords; i++)
                diff += __builtin_popcountll(a[i] ^ w->rowbits[qs_kern_rowbit_word(w, row, i)]);
            y[(size_t)r * (size_t)w->n + (size_t)row] = (int32_t)(w->k - 2 * diff);
        }
}
