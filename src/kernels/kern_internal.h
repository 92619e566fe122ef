/* Private to src/kernels: format traits shared by packing and the kernels.
 *
 * Every s8 format stores an unsigned code per weight, code = a * w + o folded
 * so that w = (code - o) / a; the kernels compute S = sum_k code * x (one
 * unsigned x signed product, what VPDPBUSD does) and R = sum_k x, and return
 * y = scale * S - offset * R, which equals sum_k w * x:
 *   INT8    code = w + 128      scale 1   offset 128
 *   INT4    code = w + 8        scale 1   offset 8
 *   INT2    code = w + 2        scale 1   offset 2
 *   TERNARY code = w + 1        scale 1   offset 1
 *   INT1    code = (w == -1)    scale -1  offset 0
 *   BINARY  code = (w == +1)    scale 2   offset 1   (w = 2 code - 1)
 * Chunks hold 16 rows x 4 consecutive k ("a group", VNNI's 4-byte unit) per
 * code plane: byte nl*4 + kin of the 64-byte plane is row nl, k = 4g + kin.
 * INT8 has 1 group per chunk; INT4 1 group of two blocks (a pair): the low
 * nibble is block 2p, the high nibble block 2p+1, same row and k, so that one
 * broadcast of x serves both; INT2/TERNARY 4 (2-bit fields, group 4c+j at
 * bits 2j), INT1/BINARY 8 (bytes 8j..8j+7 are the 64-bit mask of group
 * 8c+j, bit nl*4 + kin). */
#ifndef QSEARCH_KERN_INTERNAL_H
#define QSEARCH_KERN_INTERNAL_H

#include "qsearch/kernels.h"

/* Programmer-error checks at kernel entry: weights packed for another op. */
#define QS_KERN_CHECK_S8(w) QS_ASSERT((unsigned)(w)->fmt < QS_KFMT_COUNT && (w)->fmt != QS_KFMT_INT16)
#define QS_KERN_CHECK_S16(w) QS_ASSERT((w)->fmt == QS_KFMT_INT16)
#define QS_KERN_CHECK_XNOR(w) QS_ASSERT((w)->fmt == QS_KFMT_BINARY && (w)->rowbits)

typedef struct {
    int groups;  /* 4-k groups per 64-byte chunk (s8 formats) */
    int bits;    /* bits per code */
    int scale;   /* y = scale * S - offset * R */
    int offset;
} qs_kern_traits;

/* Blocks are grouped in panels of QS_KERN_PANEL (the last one may be
 * narrower); a panel is stored chunk-major, [nchunks][panel width][64], so the
 * blocks a tile reads for one chunk are adjacent and a k slab of a panel is
 * one contiguous run (no power-of-two strides that alias in L1). */
#define QS_KERN_PANEL 4

/* Blocks per stored 64-byte chunk: 2 for INT4 (paired nibbles), else 1. */
static inline int qs_kern_bpc(const qs_kernel_weights *w)
{
    return w->fmt == QS_KFMT_INT4 ? 2 : 1;
}

/* Bytes from one chunk of block b to its next chunk along k. */
static inline size_t qs_kern_cstride(const qs_kernel_weights *w, int b)
{
    int pw = w->nblocks - b / QS_KERN_PANEL * QS_KERN_PANEL, u = qs_kern_bpc(w);
    pw = pw < QS_KERN_PANEL ? pw : QS_KERN_PANEL;
    return (size_t)((pw + u - 1) / u) * QS_KERNEL_CHUNK;
}

/* The 64-byte chunk c (along k) of block b (rows 16b..16b+15). */
static inline const uint8_t *qs_kern_chunk(const qs_kernel_weights *w, int b, int c)
{
    int u = qs_kern_bpc(w);
    size_t panel = (size_t)(b / QS_KERN_PANEL) * (QS_KERN_PANEL / u) * (size_t)w->nchunks;
    return w->data + panel * QS_KERNEL_CHUNK + (size_t)c * qs_kern_cstride(w, b) +
           (size_t)(b % QS_KERN_PANEL / u) * QS_KERNEL_CHUNK;
}

/* Index in rowbits of word i of row r (8 rows interleaved word by word). */
static inline size_t qs_kern_rowbit_word(const qs_kernel_weights *w, int r, int i)
{
    return ((size_t)(r / 8) * (size_t)w->kwords + (size_t)i) * 8 + (size_t)(r % 8);
}

static inline qs_kern_traits qs_kern_traits_of(qs_kernel_fmt fmt)
{
    switch (fmt) {
    case QS_KFMT_INT8: return (qs_kern_traits){1, 8, 1, 128};
    case QS_KFMT_INT4: return (qs_kern_traits){1, 4, 1, 8};
    case QS_KFMT_INT2: return (qs_kern_traits){4, 2, 1, 2};
    case QS_KFMT_TERNARY: return (qs_kern_traits){4, 2, 1, 1};
    case QS_KFMT_INT1: return (qs_kern_traits){8, 1, -1, 0};
    case QS_KFMT_BINARY: return (qs_kern_traits){8, 1, 2, 1};
    default: return (qs_kern_traits){0, 16, 1, 0}; /* INT16: no code, plain int16 pairs */
    }
}

#endif
