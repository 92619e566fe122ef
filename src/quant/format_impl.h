/* Private to src/quant/format*.c (and tests/test_format.c): the per-format
 * quantizers the traits table points at, block geometry, integer kernels. */
#ifndef QSEARCH_FORMAT_IMPL_H
#define QSEARCH_FORMAT_IMPL_H

#include "qsearch/format.h"

void qs_fmt_quantize_integer(const qs_format_spec *s, const float *in, float *out,
                             const size_t *shape, int ndim);
void qs_fmt_quantize_minifloat_denorm(const qs_format_spec *s, const float *in, float *out,
                                      const size_t *shape, int ndim);
void qs_fmt_quantize_minifloat_ieee(const qs_format_spec *s, const float *in, float *out,
                                    const size_t *shape, int ndim);
void qs_fmt_quantize_log(const qs_format_spec *s, const float *in, float *out,
                         const size_t *shape, int ndim);
void qs_fmt_quantize_block_fp(const qs_format_spec *s, const float *in, float *out,
                              const size_t *shape, int ndim);
void qs_fmt_quantize_binary(const qs_format_spec *s, const float *in, float *out,
                            const size_t *shape, int ndim);
void qs_fmt_quantize_ternary(const qs_format_spec *s, const float *in, float *out,
                             const size_t *shape, int ndim);

/* Blocks of block_fp for a tensor, as MASE forms them: the shape seen as 3-D
 * dims[0..2] (leading 1s) and the block extent bs[0..2] in each. Returns 0, or
 * -1 with a reason in *why when MASE cannot block this tensor. */
int qs_fmt_block_geometry(const qs_format_spec *s, const size_t *shape, int ndim,
                          size_t dims[3], size_t bs[3], const char **why);

/* MASE's integer quantizer (round half to even, saturate) on n floats:
 * out = clamp(rint(in * scale), lo, hi) * inv_scale in float32, NaN kept.
 * _ref is the scalar reference; the other dispatches to AVX2 when present. */
void qs_fmt_int_kernel_ref(const float *in, float *out, size_t n, float scale,
                           float inv_scale, float lo, float hi);
void qs_fmt_int_kernel(const float *in, float *out, size_t n, float scale,
                       float inv_scale, float lo, float hi);

/* floor/ceil/round-half-even of log2(v) rounded to float32, as torch gets
 * them (fast paths from the exponent bits; exposed for the tests). */
float qs_fmt_floor_log2(float v);
float qs_fmt_ceil_log2(float v);
float qs_fmt_round_log2(float v);

#endif
