/* Number formats as data: the traits table, parameter names, spec defaults,
 * setting parameters from text, validation, and storage bits. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/format_impl.h"

#define P(x) (1u << (x))
#define FRAC_MIN -64
#define FRAC_MAX 64
/* 2^e of every exponent a format can produce must be float32-representable
 * (subnormals included), or +inf at 128 as torch gives for 8 exponent bits */
#define EXP_LO -149
#define EXP_HI 128

static const qs_format_traits TRAITS[QS_FMT_COUNT] = {
    [QS_FMT_INTEGER] = {
        .name = "integer",
        .params = P(QS_P_WIDTH) | P(QS_P_FRAC_WIDTH) | P(QS_P_IS_SIGNED) | P(QS_P_ROUND) |
                  P(QS_P_OVERFLOW),
        .required = P(QS_P_WIDTH),
        .width_min = 1, .width_max = 32,
        .quantize = qs_fmt_quantize_integer,
        .to_int = qs_quantize_to_int,
        .from_int = qs_dequantize_int,
    },
    [QS_FMT_MINIFLOAT_DENORM] = {
        .name = "minifloat_denorm",
        .params = P(QS_P_WIDTH) | P(QS_P_EXPONENT_WIDTH) | P(QS_P_EXPONENT_BIAS),
        .required = P(QS_P_WIDTH) | P(QS_P_EXPONENT_WIDTH),
        .width_min = 2, .width_max = 32,
        .quantize = qs_fmt_quantize_minifloat_denorm,
    },
    [QS_FMT_MINIFLOAT_IEEE] = {
        .name = "minifloat_ieee",
        .params = P(QS_P_WIDTH) | P(QS_P_EXPONENT_WIDTH) | P(QS_P_EXPONENT_BIAS),
        .required = P(QS_P_WIDTH) | P(QS_P_EXPONENT_WIDTH),
        .width_min = 2, .width_max = 32,
        .quantize = qs_fmt_quantize_minifloat_ieee,
    },
    [QS_FMT_LOG] = {
        .name = "log",
        .params = P(QS_P_WIDTH) | P(QS_P_EXPONENT_BIAS),
        .required = P(QS_P_WIDTH),
        .width_min = 2, .width_max = 9, /* 1 sign bit + up to 8 exponent bits */
        .quantize = qs_fmt_quantize_log,
    },
    [QS_FMT_BLOCK_FP] = {
        .name = "block_fp",
        .params = P(QS_P_WIDTH) | P(QS_P_EXPONENT_WIDTH) | P(QS_P_EXPONENT_BIAS) |
                  P(QS_P_BLOCK_SIZE) | P(QS_P_SKIP_FIRST_DIM),
        .required = 0,
        .width_min = 1, .width_max = 32,
        .default_width = 12, .default_exponent_width = 8, /* MASE's block_fp_quantizer */
        .quantize = qs_fmt_quantize_block_fp,
    },
    [QS_FMT_BINARY] = {
        .name = "binary",
        .params = P(QS_P_WIDTH) | P(QS_P_BIPOLAR) | P(QS_P_STOCHASTIC),
        .required = 0,
        .width_min = 1, .width_max = 1, .default_width = 1, .fixed_bits = 1,
        .quantize = qs_fmt_quantize_binary,
    },
    [QS_FMT_TERNARY] = {
        .name = "ternary",
        .params = P(QS_P_WIDTH) | P(QS_P_SCALING_FACTOR) | P(QS_P_MEAN) | P(QS_P_MEDIAN) |
                  P(QS_P_MAX),
        .required = 0,
        .width_min = 2, .width_max = 2, .default_width = 2, .fixed_bits = 2,
        .quantize = qs_fmt_quantize_ternary,
    },
};
static_assert(sizeof(TRAITS) / sizeof(TRAITS[0]) == QS_FMT_COUNT, "one traits row per format");

static const char *const PARAM_NAMES[QS_P_COUNT] = {
    [QS_P_WIDTH] = "width",
    [QS_P_FRAC_WIDTH] = "frac_width",
    [QS_P_EXPONENT_WIDTH] = "exponent_width",
    [QS_P_EXPONENT_BIAS] = "exponent_bias",
    [QS_P_BLOCK_SIZE] = "block_size",
    [QS_P_SKIP_FIRST_DIM] = "skip_first_dim",
    [QS_P_IS_SIGNED] = "is_signed",
    [QS_P_ROUND] = "round",
    [QS_P_OVERFLOW] = "overflow",
    [QS_P_BIPOLAR] = "bipolar",
    [QS_P_STOCHASTIC] = "stochastic",
    [QS_P_SCALING_FACTOR] = "scaling_factor",
    [QS_P_MEAN] = "mean",
    [QS_P_MEDIAN] = "median",
    [QS_P_MAX] = "max",
};
static_assert(sizeof(PARAM_NAMES) / sizeof(PARAM_NAMES[0]) == QS_P_COUNT, "param names");

static const char *const ROUND_NAMES[QS_ROUND_COUNT] = {
    [QS_RND_CONV] = "RND_CONV", [QS_TRN] = "TRN", [QS_TRN_ZERO] = "TRN_ZERO",
    [QS_RND] = "RND", [QS_RND_ZERO] = "RND_ZERO", [QS_RND_INF] = "RND_INF",
    [QS_RND_MIN_INF] = "RND_MIN_INF",
};
static_assert(sizeof(ROUND_NAMES) / sizeof(ROUND_NAMES[0]) == QS_ROUND_COUNT, "round names");

static const char *const OVERFLOW_NAMES[QS_OVERFLOW_COUNT] = {
    [QS_SAT] = "SAT", [QS_SAT_SYM] = "SAT_SYM", [QS_WRAP] = "WRAP", [QS_SAT_ZERO] = "SAT_ZERO",
};
static_assert(sizeof(OVERFLOW_NAMES) / sizeof(OVERFLOW_NAMES[0]) == QS_OVERFLOW_COUNT,
              "overflow names");

const qs_format_traits *qs_format_get(qs_format f)
{
    QS_ASSERT((unsigned)f < QS_FMT_COUNT);
    return &TRAITS[f];
}

qs_status qs_format_from_name(const char *name, qs_format *out, qs_error *err)
{
    for (int f = 0; f < QS_FMT_COUNT; f++)
        if (name && strcmp(name, TRAITS[f].name) == 0) {
            *out = (qs_format)f;
            return QS_OK;
        }
    return qs_error_set(err, QS_ERR_INPUT,
                        "unknown format '%s' (expected integer, minifloat_denorm, "
                        "minifloat_ieee, log, block_fp, binary or ternary)",
                        name ? name : "");
}

const char *qs_format_param_name(qs_format_param p)
{
    return (unsigned)p < QS_P_COUNT ? PARAM_NAMES[p] : "?";
}

int qs_format_param_from_name(const char *name)
{
    for (int p = 0; p < QS_P_COUNT; p++)
        if (name && strcmp(name, PARAM_NAMES[p]) == 0)
            return p;
    return -1;
}

const char *qs_round_mode_name(qs_round_mode m)
{
    return (unsigned)m < QS_ROUND_COUNT ? ROUND_NAMES[m] : "?";
}

const char *qs_overflow_mode_name(qs_overflow_mode m)
{
    return (unsigned)m < QS_OVERFLOW_COUNT ? OVERFLOW_NAMES[m] : "?";
}

void qs_format_spec_init(qs_format_spec *s, qs_format f)
{
    const qs_format_traits *t = qs_format_get(f);
    memset(s, 0, sizeof *s);
    s->format = f;
    s->width = t->default_width ? t->default_width : QS_WIDTH_UNSET;
    s->frac_width = QS_FRAC_NA;
    s->exponent_width = t->default_exponent_width;
    s->exponent_bias = QS_BIAS_DEFAULT;
    s->block_size[0] = 16; /* MASE's default block_size [16] */
    s->block_ndim = 1;
    s->is_signed = true;
    s->round = QS_RND_CONV;
    s->overflow = QS_SAT;
}

int qs_format_spec_frac_width(const qs_format_spec *s)
{
    return s->frac_width == QS_FRAC_NA ? s->width / 2 : s->frac_width;
}

int qs_format_spec_exponent_bias(const qs_format_spec *s)
{
    if (s->exponent_bias != QS_BIAS_DEFAULT)
        return s->exponent_bias;
    int ew = s->format == QS_FMT_LOG ? s->width - 1 : s->exponent_width;
    return ew >= 1 ? (1 << (ew - 1)) - 1 : 0;
}

/* ----------------------------------------------------------- setting params */

static int is_na(const char *v)
{
    return strcmp(v, "NA") == 0 || strcmp(v, "na") == 0 || strcmp(v, "None") == 0 ||
           strcmp(v, "none") == 0;
}

static int parse_ll(const char *v, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || errno != 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return -1;
    *out = x;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

/* "16", "4x8", "[4, 8]", "[-1, 8]" */
static int parse_block_size(const char *v, int out[QS_BLOCK_DIMS_MAX], int *ndim)
{
    int k = 0;
    const char *p = v;
    while (isspace((unsigned char)*p))
        p++;
    int bracket = *p == '[';
    if (bracket)
        p++;
    for (;;) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || k == QS_BLOCK_DIMS_MAX || x < INT_MIN || x > INT_MAX)
            return -1;
        out[k++] = (int)x;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',' || *p == 'x') {
            p++;
            continue;
        }
        break;
    }
    if (bracket && *p++ != ']')
        return -1;
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return -1;
    *ndim = k;
    return 0;
}

static qs_status check_param(const qs_format_spec *s, const char *key, int *param,
                             qs_error *err)
{
    int p = qs_format_param_from_name(key);
    const qs_format_traits *t = qs_format_get(s->format);
    if (p < 0 || !(t->params & P(p))) {
        char list[200] = "";
        for (int q = 0; q < QS_P_COUNT; q++)
            if (t->params & P(q)) {
                strncat(list, list[0] ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, PARAM_NAMES[q], sizeof list - strlen(list) - 1);
            }
        return qs_error_set(err, QS_ERR_INPUT, "%s: %s parameter for format %s (it takes %s)",
                            key, p < 0 ? "unknown" : "not a", t->name, list);
    }
    *param = p;
    return QS_OK;
}

qs_status qs_format_spec_set_int(qs_format_spec *s, const char *key, long long v,
                                 qs_error *err)
{
    int p;
    QS_TRY(check_param(s, key, &p, err));
    int is_bool = p == QS_P_SKIP_FIRST_DIM || p == QS_P_IS_SIGNED || p == QS_P_BIPOLAR ||
                  p == QS_P_STOCHASTIC || p == QS_P_SCALING_FACTOR;
    if (is_bool && v != 0 && v != 1)
        return qs_error_set(err, QS_ERR_INPUT, "%s: %lld is not a boolean (0 or 1)", key, v);
    if (!is_bool && (v < -100000 || v > 100000))
        return qs_error_set(err, QS_ERR_INPUT, "%s: %lld is out of range", key, v);
    int iv = (int)v;
    switch (p) {
    case QS_P_WIDTH: s->width = iv; break;
    case QS_P_FRAC_WIDTH: s->frac_width = iv; break;
    case QS_P_EXPONENT_WIDTH: s->exponent_width = iv; break;
    case QS_P_EXPONENT_BIAS: s->exponent_bias = iv; break;
    case QS_P_BLOCK_SIZE: s->block_size[0] = iv; s->block_ndim = 1; break;
    case QS_P_SKIP_FIRST_DIM: s->skip_first_dim = iv; break;
    case QS_P_IS_SIGNED: s->is_signed = iv; break;
    case QS_P_BIPOLAR: s->bipolar = iv; break;
    case QS_P_STOCHASTIC: s->stochastic = iv; break;
    case QS_P_SCALING_FACTOR: s->scaling_factor = iv; break;
    case QS_P_MEAN:
    case QS_P_MEDIAN:
    case QS_P_MAX: break; /* ignored, as MASE's ternary ops ignore the threshold */
    default:
        return qs_error_set(err, QS_ERR_INPUT, "%s: expects a mode name, not a number", key);
    }
    return QS_OK;
}

static qs_status set_mode(qs_format_spec *s, int p, const char *key, const char *v,
                          qs_error *err)
{
    const char *const *names = p == QS_P_ROUND ? ROUND_NAMES : OVERFLOW_NAMES;
    int count = p == QS_P_ROUND ? QS_ROUND_COUNT : QS_OVERFLOW_COUNT;
    char up[32];
    size_t i = 0;
    for (; v[i] && i + 1 < sizeof up; i++)
        up[i] = (char)toupper((unsigned char)v[i]);
    up[i] = 0;
    const char *u = strncmp(up, "AP_", 3) == 0 ? up + 3 : up; /* AP_RND_CONV too */
    for (int m = 0; m < count; m++)
        if (strcmp(u, names[m]) == 0) {
            if (p == QS_P_ROUND)
                s->round = (qs_round_mode)m;
            else
                s->overflow = (qs_overflow_mode)m;
            return QS_OK;
        }
    return qs_error_set(err, QS_ERR_INPUT, "%s: unknown mode '%s' (expected %s)", key, v,
                        p == QS_P_ROUND
                            ? "RND_CONV, TRN, TRN_ZERO, RND, RND_ZERO, RND_INF or RND_MIN_INF"
                            : "SAT, SAT_SYM, WRAP or SAT_ZERO");
}

qs_status qs_format_spec_set(qs_format_spec *s, const char *key, const char *v, qs_error *err)
{
    int p;
    QS_TRY(check_param(s, key, &p, err));
    if (p == QS_P_ROUND || p == QS_P_OVERFLOW)
        return set_mode(s, p, key, v, err);
    if (p == QS_P_BLOCK_SIZE) {
        if (parse_block_size(v, s->block_size, &s->block_ndim) != 0)
            return qs_error_set(err, QS_ERR_INPUT,
                                "block_size: '%s' is not a list of 1 to 3 integers", v);
        return QS_OK;
    }
    if (p == QS_P_MEAN || p == QS_P_MEDIAN || p == QS_P_MAX) {
        char *end;
        (void)strtod(v, &end);
        if (!is_na(v) && (end == v || *end))
            return qs_error_set(err, QS_ERR_INPUT, "%s: '%s' is not a number or \"NA\"", key, v);
        return QS_OK; /* ignored, as MASE's ternary ops ignore the threshold */
    }
    if ((p == QS_P_FRAC_WIDTH || p == QS_P_EXPONENT_BIAS) && is_na(v)) {
        if (p == QS_P_FRAC_WIDTH)
            s->frac_width = QS_FRAC_NA;
        else
            s->exponent_bias = QS_BIAS_DEFAULT;
        return QS_OK;
    }
    bool b;
    long long x;
    int is_bool = p == QS_P_SKIP_FIRST_DIM || p == QS_P_IS_SIGNED || p == QS_P_BIPOLAR ||
                  p == QS_P_STOCHASTIC || p == QS_P_SCALING_FACTOR;
    if (is_bool) {
        if (parse_bool(v, &b) != 0)
            return qs_error_set(err, QS_ERR_INPUT, "%s: '%s' is not a boolean", key, v);
        return qs_format_spec_set_int(s, key, b, err);
    }
    if (parse_ll(v, &x) != 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: '%s' is not an integer%s", key, v,
                            (p == QS_P_FRAC_WIDTH || p == QS_P_EXPONENT_BIAS) ? " or \"NA\""
                                                                               : "");
    return qs_format_spec_set_int(s, key, x, err);
}

/* -------------------------------------------------------------- validation */

static qs_status check_exponent_range(const qs_format_spec *s, int ew, qs_error *err)
{
    int bias = qs_format_spec_exponent_bias(s);
    long emin = -(long)bias, emax = (1L << ew) - 1 - bias;
    if (emin < EXP_LO || emax > EXP_HI)
        return qs_error_set(err, QS_ERR_INPUT,
                            "exponent_bias: %d gives exponents %ld..%ld, outside float32's "
                            "%d..%d",
                            bias, emin, emax, EXP_LO, EXP_HI);
    return QS_OK;
}

static qs_status validate_params(const qs_format_spec *s, const qs_format_traits *t,
                                 qs_error *err)
{
    switch (s->format) {
    case QS_FMT_INTEGER:
        if (s->frac_width != QS_FRAC_NA && (s->frac_width < FRAC_MIN || s->frac_width > FRAC_MAX))
            return qs_error_set(err, QS_ERR_INPUT, "frac_width: %d is out of range %d..%d",
                                s->frac_width, FRAC_MIN, FRAC_MAX);
        if ((unsigned)s->round >= QS_ROUND_COUNT || (unsigned)s->overflow >= QS_OVERFLOW_COUNT)
            return qs_error_set(err, QS_ERR_INPUT, "round/overflow: invalid mode");
        return QS_OK;
    case QS_FMT_MINIFLOAT_DENORM:
    case QS_FMT_MINIFLOAT_IEEE:
    case QS_FMT_BLOCK_FP:
        if (s->exponent_width < 1 || s->exponent_width > 8)
            return qs_error_set(err, QS_ERR_INPUT,
                                "exponent_width: %d is out of range 1..8 for %s",
                                s->exponent_width, t->name);
        if (s->format != QS_FMT_BLOCK_FP && s->exponent_width >= s->width)
            return qs_error_set(err, QS_ERR_INPUT,
                                "exponent_width: %d must be less than width %d (one sign bit)",
                                s->exponent_width, s->width);
        if (s->format == QS_FMT_BLOCK_FP) {
            if (s->block_ndim < 1 || s->block_ndim > QS_BLOCK_DIMS_MAX)
                return qs_error_set(err, QS_ERR_INPUT, "block_size: needs 1 to 3 entries");
            for (int k = 0; k < s->block_ndim; k++)
                if (s->block_size[k] < 1 && s->block_size[k] != -1)
                    return qs_error_set(err, QS_ERR_INPUT,
                                        "block_size: entry %d is %d (expected >= 1, or -1 "
                                        "for the whole dimension)",
                                        k, s->block_size[k]);
        }
        return check_exponent_range(s, s->exponent_width, err);
    case QS_FMT_LOG:
        return check_exponent_range(s, s->width - 1, err);
    case QS_FMT_BINARY:
        if (s->stochastic)
            return qs_error_set(err, QS_ERR_INPUT,
                                "stochastic: stochastic binarisation is not supported (it "
                                "draws random numbers per call)");
        return QS_OK;
    default:
        return QS_OK;
    }
}

qs_status qs_format_spec_validate(const qs_format_spec *s, qs_error *err)
{
    if (!s || (unsigned)s->format >= QS_FMT_COUNT)
        return qs_error_set(err, QS_ERR_USAGE, "format spec: invalid format");
    const qs_format_traits *t = &TRAITS[s->format];
    if (s->width == QS_WIDTH_UNSET)
        return qs_error_set(err, QS_ERR_INPUT, "width: missing (required for %s)", t->name);
    if ((t->required & P(QS_P_EXPONENT_WIDTH)) && s->exponent_width == 0)
        return qs_error_set(err, QS_ERR_INPUT, "exponent_width: missing (required for %s)",
                            t->name);
    if (s->width < t->width_min || s->width > t->width_max) {
        if (t->width_min == t->width_max)
            return qs_error_set(err, QS_ERR_INPUT, "width: %d, but %s has width %d", s->width,
                                t->name, t->width_min);
        return qs_error_set(err, QS_ERR_INPUT, "width: %d is out of range %d..%d for %s",
                            s->width, t->width_min, t->width_max, t->name);
    }
    return validate_params(s, t, err);
}

qs_status qs_format_spec_parse(qs_format_spec *s, const char *text, qs_error *err)
{
    char buf[512];
    if (!text || strlen(text) >= sizeof buf)
        return qs_error_set(err, QS_ERR_INPUT, "format: text missing or too long");
    strcpy(buf, text);
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = 0;
    qs_format f = QS_FMT_INTEGER;
    QS_TRY(qs_format_from_name(buf, &f, err));
    qs_format_spec_init(s, f);
    char *p = colon ? colon + 1 : NULL;
    while (p && *p) {
        char *next = p;
        int depth = 0; /* commas inside [..] belong to block_size */
        while (*next && (depth || *next != ',')) {
            depth += *next == '[' ? 1 : (*next == ']' ? -1 : 0);
            next++;
        }
        if (*next)
            *next++ = 0;
        else
            next = NULL;
        char *eq = strchr(p, '=');
        if (!eq)
            return qs_error_set(err, QS_ERR_INPUT, "format %s: '%s' is not key=value", buf, p);
        *eq = 0;
        QS_TRY(qs_format_spec_set(s, p, eq + 1, err));
        p = next;
    }
    return qs_format_spec_validate(s, err);
}

char *qs_format_spec_str(const qs_format_spec *s, char *buf, size_t cap)
{
    const qs_format_traits *t = qs_format_get(s->format);
    size_t used = (size_t)snprintf(buf, cap, "%s(width=%d", t->name, s->width);
#define ADD(...)                                                              \
    do {                                                                      \
        if (used < cap)                                                       \
            used += (size_t)snprintf(buf + used, cap - used, __VA_ARGS__);    \
    } while (0)
    if (t->params & P(QS_P_FRAC_WIDTH))
        ADD(", frac_width=%d", qs_format_spec_frac_width(s));
    if (t->params & P(QS_P_EXPONENT_WIDTH))
        ADD(", exponent_width=%d", s->exponent_width);
    if (t->params & P(QS_P_EXPONENT_BIAS))
        ADD(", exponent_bias=%d", qs_format_spec_exponent_bias(s));
    if (t->params & P(QS_P_BLOCK_SIZE)) {
        ADD(", block_size=[");
        for (int k = 0; k < s->block_ndim; k++)
            ADD("%s%d", k ? ", " : "", s->block_size[k]);
        ADD("]%s", s->skip_first_dim ? ", skip_first_dim=true" : "");
    }
    if (s->format == QS_FMT_INTEGER && !s->is_signed)
        ADD(", is_signed=false");
    if (s->format == QS_FMT_INTEGER && (s->round != QS_RND_CONV || s->overflow != QS_SAT))
        ADD(", round=%s, overflow=%s", ROUND_NAMES[s->round], OVERFLOW_NAMES[s->overflow]);
    if (s->format == QS_FMT_BINARY)
        ADD(", bipolar=%s", s->bipolar ? "true" : "false");
    if (s->format == QS_FMT_TERNARY)
        ADD(", scaling_factor=%s", s->scaling_factor ? "true" : "false");
    ADD(")");
#undef ADD
    return buf;
}

/* ------------------------------------------------------------ storage bits */

int qs_format_element_bits(const qs_format_spec *s)
{
    const qs_format_traits *t = qs_format_get(s->format);
    return t->fixed_bits ? t->fixed_bits : s->width;
}

uint64_t qs_format_tensor_bits(const qs_format_spec *s, const size_t *shape, int ndim)
{
    uint64_t numel = 1;
    for (int d = 0; d < ndim; d++)
        numel *= shape[d];
    uint64_t bits = numel * (uint64_t)qs_format_element_bits(s);
    if (s->format != QS_FMT_BLOCK_FP || numel == 0)
        return bits;
    size_t dims[3], bs[3];
    const char *why;
    qs_format_spec t = *s;
    if (ndim == 1)
        t.skip_first_dim = false; /* as qs_quantize */
    if (qs_fmt_block_geometry(&t, shape, ndim, dims, bs, &why) != 0)
        return 0;
    uint64_t blocks = 1;
    for (int d = 0; d < 3; d++)
        blocks *= (dims[d] + bs[d] - 1) / bs[d];
    return bits + blocks * (uint64_t)s->exponent_width;
}
