/* Integer matmul kernels: y[m][n] = sum_k x[m][k] * w[n][k].
 *
 * Weights are packed once (slowly) into a layout of 16-row blocks and 64-byte
 * chunks that the SIMD kernels read with one load per chunk; activations are
 * plain row-major integers; outputs are caller-owned row-major int32 (or int64).
 * Every SIMD kernel has a scalar _ref twin with the same signature and result.
 * Kernels are pure: no allocation, no I/O, no globals except the dispatch
 * table, which is resolved once (QS_KERNELS=ref|avx2|avx512 forces a path).
 * See docs/kernels.md for the layouts and the accumulator rule. */
#ifndef QSEARCH_KERNELS_H
#define QSEARCH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/status.h"

/* Weight container formats. Integer widths map to the next container:
 * 1 -> INT1, 2 -> INT2, 3..4 -> INT4, 5..8 -> INT8, 9..16 -> INT16. */
typedef enum {
    QS_KFMT_INT16 = 0, /* signed 16-bit, [-32768, 32767], int16 activations */
    QS_KFMT_INT8,      /* signed 8-bit [-128, 127] */
    QS_KFMT_INT4,      /* signed 4-bit [-8, 7], nibbles */
    QS_KFMT_INT2,      /* signed 2-bit [-2, 1] */
    QS_KFMT_INT1,      /* signed 1-bit integer {-1, 0}, one bit */
    QS_KFMT_TERNARY,   /* {-1, 0, +1}, 2-bit codes */
    QS_KFMT_BINARY,    /* {-1, +1}, one bit (also row-major sign bits for XNOR) */
    QS_KFMT_COUNT
} qs_kernel_fmt;

/* Rows of W per block (one 512-bit vector of int32 accumulators). */
#define QS_KERNEL_NBLOCK 16
/* Bytes per chunk (one block's slice of W along k). */
#define QS_KERNEL_CHUNK 64

/* Packed weights: a caller-owned view into the caller's packing buffer. */
typedef struct {
    qs_kernel_fmt fmt;
    int n, k;                /* logical shape of W: [n][k] */
    int nblocks;             /* ceil(n / 16) */
    int nchunks;             /* chunks per block along k */
    int kchunk;              /* k values per chunk: INT16 2, INT8/INT4 4, INT2/TERNARY 16, INT1/BINARY 32 */
    const uint8_t *data;     /* panels of 4 blocks, each [nchunks][4][64] (INT4: [nchunks][2 pairs][64]);
                              * 64-byte aligned; see docs/kernels.md */
    int kwords;              /* BINARY: 64-bit words per row of rowbits: ceil(k / 64) */
    const uint64_t *rowbits; /* BINARY: [ceil(n/8)][kwords][8]: word i of rows 8g..8g+7
                              * side by side, bit c%64 of word c/64 = (w == +1); else NULL */
} qs_kernel_weights;

/* Name of a format ("int8", "ternary", ...). */
const char *qs_kernel_fmt_name(qs_kernel_fmt fmt);

/* Container for a signed integer width 1..16; QS_KFMT_COUNT if out of range. */
qs_kernel_fmt qs_kernel_fmt_for_width(int width);

/* Smallest and largest weight value a format stores. */
void qs_kernel_fmt_range(qs_kernel_fmt fmt, int32_t *lo, int32_t *hi);

/* Bytes of caller memory qs_kernel_pack_weights needs for W [n][k] in fmt
 * (0 if n or k is not positive or the format is unknown). */
size_t qs_kernel_pack_size(qs_kernel_fmt fmt, int n, int k);

/* Packs integer weights w [n][k] (row-major, each in fmt's range) into buf
 * (64-byte aligned, buf_size >= qs_kernel_pack_size) and fills out, which
 * points into buf. A value out of range is QS_ERR_INPUT naming [row][col]. */
qs_status qs_kernel_pack_weights(qs_kernel_weights *out, qs_kernel_fmt fmt, int n, int k,
                                 const int32_t *w, void *buf, size_t buf_size, qs_error *err);

/* Weight value at [row][col] read back from the packed layout. */
int32_t qs_kernel_weight_at(const qs_kernel_weights *w, int row, int col);

/* ---- Accumulator rule and kernel choice for one layer ---- */

/* 64 if width_w + width_a + ceil(log2(fan_in)) > 31, else 32. */
int qs_kernel_acc_bits(int width_w, int width_a, int fan_in);

typedef enum {
    QS_KOP_S8 = 0, /* int8 activations, weights in INT8/INT4/INT2/INT1/TERNARY/BINARY, int32 out */
    QS_KOP_S16,    /* int16 activations, INT16 weights, int32 out */
    QS_KOP_S16_I64 /* int16 activations, INT16 weights, int64 out */
} qs_kernel_op;

/* Kernel, weight container and accumulator for an integer layer with
 * signed weight width width_w, activation width width_a (1..16) and fan_in. */
typedef struct {
    qs_kernel_op op;
    qs_kernel_fmt wfmt; /* container to pack the weights in */
    int act_bits;       /* activation container: 8 or 16 */
    int acc_bits;       /* 32 or 64 */
} qs_kernel_plan;

/* Fills plan for the layer; QS_ERR_INPUT for widths outside 1..16 or fan_in < 1. */
qs_status qs_kernel_plan_layer(qs_kernel_plan *plan, int width_w, int width_a, int fan_in,
                               qs_error *err);

/* ---- Kernels. x: [m][k] row-major, y: [m][n] row-major, m >= 1 ----
 * int32 results wrap modulo 2^32 (exact whenever the true sum fits, which the
 * accumulator rule guarantees). */

/* int8 activations x any s8-format weights (INT8, INT4, INT2, INT1, TERNARY, BINARY). */
typedef void qs_kernel_s8_fn(const qs_kernel_weights *w, const int8_t *x, int m, int32_t *y);
/* int16 activations x INT16 weights, int32 accumulators. */
typedef void qs_kernel_s16_fn(const qs_kernel_weights *w, const int16_t *x, int m, int32_t *y);
/* int16 activations x INT16 weights, int64 accumulators (never overflows for k < 2^31). */
typedef void qs_kernel_s16w_fn(const qs_kernel_weights *w, const int16_t *x, int m, int64_t *y);
/* BINARY weights x binary activations xbits [m][w->kwords] (bit set = +1, pad bits 0):
 * y = k - 2 * popcount(x xor w). */
typedef void qs_kernel_xnor_fn(const qs_kernel_weights *w, const uint64_t *xbits, int m,
                               int32_t *y);

/* Dispatched entry points (resolve the path on first use). */
qs_kernel_s8_fn qs_kernel_s8;
qs_kernel_s16_fn qs_kernel_s16;
qs_kernel_s16w_fn qs_kernel_s16_i64;
qs_kernel_xnor_fn qs_kernel_xnor;

/* Scalar twins (any x86-64). */
qs_kernel_s8_fn qs_kernel_s8_ref;
qs_kernel_s16_fn qs_kernel_s16_ref;
qs_kernel_s16w_fn qs_kernel_s16_i64_ref;
qs_kernel_xnor_fn qs_kernel_xnor_ref;

/* AVX2 path: call only when qs_kernels_path_available(QS_KPATH_AVX2). */
qs_kernel_s8_fn qs_kernel_s8_avx2;
qs_kernel_s16_fn qs_kernel_s16_avx2;
qs_kernel_s16w_fn qs_kernel_s16_i64_avx2;
qs_kernel_xnor_fn qs_kernel_xnor_avx2;

/* AVX-512 (F, BW, VL, VNNI) path: call only when qs_kernels_path_available(QS_KPATH_AVX512).
 * The XNOR kernel uses VPOPCNTDQ when the CPU has it. */
qs_kernel_s8_fn qs_kernel_s8_avx512;
qs_kernel_s16_fn qs_kernel_s16_avx512;
qs_kernel_s16w_fn qs_kernel_s16_i64_avx512;
qs_kernel_xnor_fn qs_kernel_xnor_avx512;

/* Packs binary activations (x >= 0 -> +1 bit set, x < 0 -> -1) x [m][k] into
 * out [m][ceil(k/64)] words with zero pad bits. */
void qs_kernel_pack_act_bits(const int8_t *x, int m, int k, uint64_t *out);

/* ---- Dispatch ---- */

typedef enum { QS_KPATH_REF = 0, QS_KPATH_AVX2, QS_KPATH_AVX512, QS_KPATH_COUNT } qs_kernel_path;

/* Whether this CPU can run path. */
int qs_kernels_path_available(qs_kernel_path path);

/* Resolves the dispatch table: QS_KERNELS (ref|avx2|avx512) if set, else the
 * best available path. An unknown name is QS_ERR_USAGE, a path this CPU lacks
 * QS_ERR_UNSUPPORTED; the table is then left on the best available path. */
qs_status qs_kernels_init(qs_error *err);

/* Forces path (for tests and benchmarks; not thread-safe with running kernels). */
qs_status qs_kernels_select(qs_kernel_path path, qs_error *err);

/* Name of the path in use: "ref", "avx2" or "avx512" (resolves it if needed). */
const char *qs_kernels_active(void);

/* Name of a path. */
const char *qs_kernels_path_name(qs_kernel_path path);

#endif
