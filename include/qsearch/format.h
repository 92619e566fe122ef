/* Number formats: a traits table indexed by qs_format, a format spec with
 * MASE's parameter names, and quantizers that are bit-exact with MASE's
 * PyTorch quantizers in float32 (see docs/formats.md for every formula and
 * the results for NaN, +-inf and -0).
 *
 * Typical use:
 *     qs_format_spec s;
 *     qs_format_spec_init(&s, QS_FMT_INTEGER);
 *     qs_format_spec_set(&s, "width", "8", &err);      // or set_int
 *     qs_format_spec_validate(&s, &err);
 *     qs_quantize(&s, w, wq, n, &err);                 // float -> float
 */
#ifndef QSEARCH_FORMAT_H
#define QSEARCH_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qsearch/status.h"

typedef enum {
    QS_FMT_INTEGER = 0,       /* fixed point: width, frac_width (MASE "integer") */
    QS_FMT_MINIFLOAT_DENORM,  /* minifloat, mantissa without implicit bit */
    QS_FMT_MINIFLOAT_IEEE,    /* minifloat with implicit bit and subnormals */
    QS_FMT_LOG,               /* sign + base-2 exponent */
    QS_FMT_BLOCK_FP,          /* MSFP: shared exponent per block */
    QS_FMT_BINARY,            /* {-1, 1} (bipolar) or {0, mean|x|} per row */
    QS_FMT_TERNARY,           /* {-1, 0, 1}, optionally scaled per row */
    QS_FMT_COUNT
} qs_format;

/* Rounding of x * 2^frac_width to an integer (integer format only). Names as
 * Xilinx ap_fixed; QS_RND_CONV (half to even, torch.round) is MASE's. */
typedef enum {
    QS_RND_CONV = 0, /* nearest, ties to even (default, MASE) */
    QS_TRN,          /* toward -inf (ap_fixed default) */
    QS_TRN_ZERO,     /* toward zero */
    QS_RND,          /* nearest, ties toward +inf */
    QS_RND_ZERO,     /* nearest, ties toward zero */
    QS_RND_INF,      /* nearest, ties away from zero */
    QS_RND_MIN_INF,  /* nearest, ties toward -inf */
    QS_ROUND_COUNT
} qs_round_mode;

/* What happens when the rounded integer is outside the range (integer only). */
typedef enum {
    QS_SAT = 0,  /* clamp to [min, max] (default, MASE) */
    QS_SAT_SYM,  /* clamp to [-max, max] when signed (ap_fixed SAT_SYM) */
    QS_WRAP,     /* keep the low `width` bits, two's complement */
    QS_SAT_ZERO, /* out of range -> 0 */
    QS_OVERFLOW_COUNT
} qs_overflow_mode;

/* Parameters a format can take (MASE's names, see qs_format_param_name). */
typedef enum {
    QS_P_WIDTH = 0,
    QS_P_FRAC_WIDTH,
    QS_P_EXPONENT_WIDTH,
    QS_P_EXPONENT_BIAS,
    QS_P_BLOCK_SIZE,
    QS_P_SKIP_FIRST_DIM,
    QS_P_IS_SIGNED,
    QS_P_ROUND,
    QS_P_OVERFLOW,
    QS_P_BIPOLAR,
    QS_P_STOCHASTIC,
    QS_P_SCALING_FACTOR,
    QS_P_MEAN,   /* ternary: MASE's threshold statistics; accepted and, as in */
    QS_P_MEDIAN, /* MASE's ternary ops, ignored (delta comes from the tensor) */
    QS_P_MAX,
    QS_P_COUNT
} qs_format_param;

#define QS_FRAC_NA INT32_MIN   /* frac_width absent or "NA": width / 2 */
#define QS_BIAS_DEFAULT INT32_MIN /* exponent_bias absent/"NA"/"None": 2^(ew-1)-1 */
#define QS_WIDTH_UNSET -1        /* width not given (required where no default) */
#define QS_BLOCK_DIMS_MAX 3

/* One tensor's number format. Fields not used by the format are ignored. */
typedef struct {
    qs_format format;
    int width;          /* total bits per element (block_fp: sign + mantissa) */
    int frac_width;     /* integer: fractional bits, may be < 0 or > width; QS_FRAC_NA */
    int exponent_width; /* minifloat/block_fp: exponent bits (block_fp: shared) */
    int exponent_bias;  /* minifloat/log/block_fp; QS_BIAS_DEFAULT */
    int block_size[QS_BLOCK_DIMS_MAX]; /* block_fp: MASE block_size list, right-aligned; -1 = whole dim */
    int block_ndim;     /* entries used in block_size (1..3) */
    bool skip_first_dim; /* block_fp: first dim is the batch (activations) */
    bool is_signed;     /* integer: signed (default) or unsigned (ReLU inputs) */
    bool bipolar;       /* binary: {-1,1} instead of {0, alpha} */
    bool stochastic;    /* binary: must be false (MASE's stochastic mode draws random numbers) */
    bool scaling_factor; /* ternary: multiply by the per-row mean of kept |x| */
    qs_round_mode round;     /* integer only */
    qs_overflow_mode overflow; /* integer only */
} qs_format_spec;

/* Quantizes a tensor of the given shape (row-major, ndim >= 1), in == out allowed;
 * the spec must be valid and the shape supported (qs_quantize_shaped checks). */
typedef void (*qs_quantize_fn)(const qs_format_spec *spec, const float *in, float *out,
                               const size_t *shape, int ndim);

/* Integer domain of a format (integer only): stored ints and back. */
typedef qs_status (*qs_to_int_fn)(const qs_format_spec *spec, const float *in, int32_t *q,
                                  size_t n, qs_error *err);
typedef void (*qs_from_int_fn)(const qs_format_spec *spec, const int32_t *q, float *out,
                               size_t n);

/* Static description of one format (one row of the traits table). */
typedef struct {
    const char *name;          /* "integer", "minifloat_denorm", ... (MASE's names) */
    uint32_t params;           /* bit set of (1u << qs_format_param) it accepts */
    uint32_t required;         /* bit set of parameters without a default */
    int width_min, width_max;  /* valid width */
    int default_width;         /* 0 when width is required */
    int default_exponent_width; /* 0 when not applicable */
    int fixed_bits;            /* storage bits per element when independent of width (binary 1, ternary 2), else 0 */
    qs_quantize_fn quantize;
    qs_to_int_fn to_int;       /* NULL when the format has no integer domain */
    qs_from_int_fn from_int;   /* NULL likewise */
} qs_format_traits;

/* Traits of format f (f < QS_FMT_COUNT). */
const qs_format_traits *qs_format_get(qs_format f);

/* Format by MASE name (exact, lower case); QS_ERR_INPUT naming the unknown name. */
qs_status qs_format_from_name(const char *name, qs_format *out, qs_error *err);

/* Name of parameter p ("width", "frac_width", ...). */
const char *qs_format_param_name(qs_format_param p);

/* Parameter by name; -1 when unknown. */
int qs_format_param_from_name(const char *name);

/* Names of rounding / overflow modes ("RND_CONV", "SAT", ...). */
const char *qs_round_mode_name(qs_round_mode m);
const char *qs_overflow_mode_name(qs_overflow_mode m);

/* Fills spec with format f and its defaults (width QS_WIDTH_UNSET when required). */
void qs_format_spec_init(qs_format_spec *spec, qs_format f);

/* Sets parameter `key` from text: integers, "NA"/"None" (frac_width,
 * exponent_bias), true/false/1/0, mode names, block_size as "16", "4x8" or
 * "[4, 8]". QS_ERR_INPUT naming the key for unknown keys, keys the format
 * does not take, or bad values (range is checked by validate). */
qs_status qs_format_spec_set(qs_format_spec *spec, const char *key, const char *value,
                             qs_error *err);

/* Sets an integer (or boolean 0/1) parameter; errors as qs_format_spec_set. */
qs_status qs_format_spec_set_int(qs_format_spec *spec, const char *key, long long value,
                                 qs_error *err);

/* Checks every parameter's range; QS_ERR_INPUT naming the parameter and the range. */
qs_status qs_format_spec_validate(const qs_format_spec *spec, qs_error *err);

/* Builds a spec from "name" or "name:key=value,key=value" and validates it. */
qs_status qs_format_spec_parse(qs_format_spec *spec, const char *text, qs_error *err);

/* Writes e.g. "integer(width=8, frac_width=4)" into buf; returns buf. */
char *qs_format_spec_str(const qs_format_spec *spec, char *buf, size_t cap);

/* frac_width with "NA" resolved to width/2. */
int qs_format_spec_frac_width(const qs_format_spec *spec);

/* exponent_bias with the default resolved (minifloat, block_fp: 2^(ew-1)-1;
 * log: 2^(width-2)-1). */
int qs_format_spec_exponent_bias(const qs_format_spec *spec);

/* Storage bits of a tensor of this shape: numel x element bits plus, for
 * block_fp, exponent_width per block (blocks as qs_quantize_shaped forms them). */
uint64_t qs_format_tensor_bits(const qs_format_spec *spec, const size_t *shape, int ndim);

/* Storage bits per element, block overhead excluded (binary 1, ternary 2). */
int qs_format_element_bits(const qs_format_spec *spec);

/* Quantizes n floats seen as a 1-D tensor [n] (block_fp blocks it like a
 * bias; binary/ternary use one row). in == out allowed. Validates the spec. */
qs_status qs_quantize(const qs_format_spec *spec, const float *in, float *out, size_t n,
                      qs_error *err);

/* Quantizes a row-major tensor of shape[0..ndim-1] (ndim 1..3 for block_fp,
 * any for the others; binary/ternary use shape[0] rows). in == out allowed. */
qs_status qs_quantize_shaped(const qs_format_spec *spec, const float *in, float *out,
                             const size_t *shape, int ndim, qs_error *err);

/* Integer format: the stored integers q (in [-2^(w-1), 2^(w-1)-1] signed, [0,
 * 2^w-1] unsigned) such that out = q * qs_format_int_scale(spec); NaN -> 0,
 * +-inf saturate (SAT_ZERO: 0). Needs width <= 32 signed, <= 31 unsigned. */
qs_status qs_quantize_to_int(const qs_format_spec *spec, const float *in, int32_t *q,
                             size_t n, qs_error *err);

/* Integer format: out = float32(q * 2^-frac_width), the inverse of to_int. */
void qs_dequantize_int(const qs_format_spec *spec, const int32_t *q, float *out, size_t n);

/* Integer format: the scale 2^-frac_width of one integer step. */
float qs_format_int_scale(const qs_format_spec *spec);

#endif
