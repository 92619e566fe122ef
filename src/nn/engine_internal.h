/* Private plan of the integer engine: a list of steps over row chunks. Shared
 * by engine.c (building the plan) and engine_run.c (executing it). */
#ifndef QSEARCH_NN_ENGINE_INTERNAL_H
#define QSEARCH_NN_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/engine.h"
#include "qsearch/format.h"

/* MASE's integer quantizer (round half to even, saturate) as float constants:
 * q = clamp(rint(x * s), lo, hi); the float value is q * inv. */
typedef struct {
    float s, inv, lo, hi;
} qs_eng_mq;

typedef enum {
    QS_ENG_EW = 0,   /* fused elementwise: [affine] [quantize] [relu] -> float or ints */
    QS_ENG_QUANT,    /* any quantizer through qs_quantize_shaped (float -> float) */
    QS_ENG_TOINT,    /* any integer quantizer through qs_quantize_to_int (float -> ints) */
    QS_ENG_LIN_INT,  /* ints -> integer kernel -> bias, rescale -> float */
    QS_ENG_LIN_FLOAT /* float GEMM with the emulation's quantized weights */
} qs_eng_step_kind;

typedef struct {
    qs_eng_step_kind kind;
    size_t width, out;         /* input width; output width (Linear) */
    /* EW */
    const float *scale, *shift; /* affine [width] (BN), or NULL */
    int has_q, relu, toint;    /* stages present */
    qs_eng_mq q;               /* quantizer before relu (ReLU's data_in) */
    qs_eng_mq qi;              /* quantizer to ints (next Linear's data_in) */
    int act16;                 /* ints are int16 (else int8) */
    /* EW to ints, composed (SIMD paths): q = clamp(rint(v * fs) * fm, flo, fhi) equals
     * [quantize] [relu] [to ints] when fm = 2^(f_i - f_q) >= 1 (see compose_ew in engine.c) */
    int fast;
    float fs, fm, flo, fhi;
    /* QUANT / TOINT */
    qs_format_spec spec;
    /* LIN_INT */
    size_t layer;              /* the model's layer index */
    qs_format_spec wspec;      /* weight format the packing was made with */
    double *wabs;              /* [out] sum_k |q_w[o][k]| (for the accumulator bound) */
    size_t packed_bytes;
    qs_kernel_weights pw;      /* packed weights (view into `packed`) */
    qs_kernel_op op;
    int fast32;                /* acc + bias fits int32 and no accumulator shift */
    int64_t acc_mul;           /* 2^(F - f_w - f_a): accumulator shift as a factor */
    float out_scale;           /* 2^-F */
    int32_t *bias32;           /* [out] bias at scale 2^-F (fast32) */
    int64_t *bias64;           /* [out] the same in int64 */
    /* LIN_FLOAT */
    float *wt;                 /* [width][out] quantized weight, transposed */
    float *bias;               /* [out] quantized bias */
    /* owned memory */
    void *packed;
    float *table;              /* [2][width] BN scale, shift */
} qs_eng_step;

/* The kernels the engine calls, fixed at creation. */
typedef struct {
    qs_kernel_s8_fn *s8;
    qs_kernel_s16_fn *s16;
    qs_kernel_s16w_fn *s16w;
    const char *name;
} qs_eng_kernels;

/* Elementwise pass over rows x width floats (AVX2 or scalar, fixed at creation). */
typedef void qs_eng_ew_fn(const qs_eng_step *s, const float *x, size_t rows, float *y, void *ints);
/* Linear epilogue: acc [rows][out] (int32 or int64) -> y [rows][out] floats. */
typedef void qs_eng_combine_fn(const qs_eng_step *s, const void *acc, size_t rows, float *y);

struct qs_engine {
    const void *source;          /* identity of the model it was built from (never dereferenced) */
    size_t n_layers, n_linear, n_int;
    size_t in_features, classes, max_width;
    qs_engine_layer_info *info;  /* [n_layers] */
    char (*names)[32];           /* [n_layers] */
    size_t (*shapes)[2];         /* [n_layers] in, out widths */
    qs_eng_step *steps;          /* [n_steps] */
    size_t n_steps;
    qs_eng_kernels k;
    qs_eng_ew_fn *ew;
    qs_eng_combine_fn *combine32;
    size_t scratch_bytes;
};

/* Picks the elementwise and epilogue implementations for this CPU. */
void qs_eng_select_simd(qs_engine *e);

/* Scalar twins (tests compare against them). */
void qs_eng_ew_ref(const qs_eng_step *s, const float *x, size_t rows, float *y, void *ints);
void qs_eng_combine32_ref(const qs_eng_step *s, const void *acc, size_t rows, float *y);
void qs_eng_combine64(const qs_eng_step *s, const void *acc, size_t rows, float *y);

#endif
