/* Number formats: goldens from PyTorch (tests/gen_format_golden.py) compared
 * bit for bit, hand-computed values per format, NaN/inf/-0, validation
 * messages, parsing, storage bits, and the integer kernel against its _ref. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "qsearch/format.h"
#include "qsearch/rng.h"
#include "quant/format_impl.h"

#define MAX_ELEMS 4096

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int same_bits(float a, float b)
{
    return (isnan(a) && isnan(b)) || bits_of(a) == bits_of(b);
}

static const char *golden_dir(void)
{
    const char *d = getenv("QS_GOLDEN_DIR");
    return d ? d : "tests/golden/format";
}

static int read_floats(FILE *f, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b[4];
        if (fread(b, 1, 4, f) != 4)
            return -1;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        memcpy(&dst[i], &u, 4);
    }
    return 0;
}

/* Parses one manifest line into spec and shape; returns 0 or -1. */
static int parse_case(char *line, qs_format_spec *s, size_t shape[4], int *ndim, int *reuse,
                      qs_error *err)
{
    char *tok = strtok(line, " \n");
    qs_format f;
    if (!tok || qs_format_from_name(tok, &f, err) != QS_OK)
        return -1;
    qs_format_spec_init(s, f);
    *ndim = 0;
    *reuse = 0;
    while ((tok = strtok(NULL, " \n"))) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return -1;
        *eq = 0;
        char *v = eq + 1;
        if (!strcmp(tok, "shape")) {
            char *p = v;
            while (*p && *ndim < 4) {
                shape[(*ndim)++] = (size_t)strtoul(p, &p, 10);
                if (*p == 'x')
                    p++;
            }
        } else if (!strcmp(tok, "input")) {
            *reuse = 1;
        } else if (qs_format_spec_set(s, tok, v, err) != QS_OK) {
            return -1;
        }
    }
    return qs_format_spec_validate(s, err) == QS_OK ? 0 : -1;
}

/* Checks to_int against the float result: q * 2^-f rounds to the output. */
static int check_to_int(const qs_format_spec *s, const float *in, const float *want, size_t n,
                        char *why, size_t cap)
{
    if (s->width > (s->is_signed ? 32 : 31))
        return 0;
    static int32_t q[MAX_ELEMS];
    static float back[MAX_ELEMS];
    qs_error err;
    const qs_format_traits *t = qs_format_get(s->format);
    if (t->to_int(s, in, q, n, &err) != QS_OK) {
        snprintf(why, cap, "to_int failed: %.200s", err.msg);
        return -1;
    }
    t->from_int(s, q, back, n);
    long long lo = s->is_signed ? -(1LL << (s->width - 1)) : 0;
    long long hi = s->is_signed ? (1LL << (s->width - 1)) - 1 : (1LL << s->width) - 1;
    for (size_t i = 0; i < n; i++) {
        int ok = q[i] >= lo && q[i] <= hi &&
                 (isnan(want[i]) ? (isnan(in[i]) && q[i] == 0) : back[i] == want[i]);
        if (!ok) {
            snprintf(why, cap, "to_int[%zu]: in %.9g q %d, float result %.9g", i, (double)in[i],
                     q[i], (double)want[i]);
            return -1;
        }
    }
    return 0;
}

/* Quantizes one golden case out of place and in place, compares bit for bit
 * (and to_int for integer); returns 1 and reports (when verbose) on failure. */
static int check_case(const char *where, const qs_format_spec *s, const size_t *shape,
                      int ndim, const float *in, const float *want, size_t n, int verbose)
{
    static float got[MAX_ELEMS], inplace[MAX_ELEMS];
    qs_error err;
    qs_error_clear(&err);
    qs_status st = qs_quantize_shaped(s, in, got, shape, ndim, &err);
    size_t bad = n;
    for (size_t i = 0; st == QS_OK && i < n && bad == n; i++)
        if (!same_bits(got[i], want[i]))
            bad = i;
    memcpy(inplace, in, n * sizeof(float));
    if (st == QS_OK && bad == n &&
        (st = qs_quantize_shaped(s, inplace, inplace, shape, ndim, &err)) == QS_OK)
        for (size_t i = 0; i < n && bad == n; i++)
            if (!same_bits(inplace[i], want[i]))
                bad = i; /* in place differs: reported with the out-of-place values */
    char why[512] = "";
    if (st == QS_OK && bad == n && s->format == QS_FMT_INTEGER &&
        check_to_int(s, in, want, n, why, sizeof why) != 0)
        bad = 0;
    if (st == QS_OK && bad == n)
        return 0;
    if (!verbose)
        return 1;
    if (st != QS_OK)
        fprintf(stderr, "%s: error %s\n", where, err.msg);
    else if (why[0])
        fprintf(stderr, "%s: %s\n", where, why);
    else
        fprintf(stderr,
                "%s: first mismatch at [%zu]: in %.9g (0x%08x) got %.9g (0x%08x) want %.9g "
                "(0x%08x)\n",
                where, bad, (double)in[bad], bits_of(in[bad]), (double)got[bad],
                bits_of(got[bad]), (double)want[bad], bits_of(want[bad]));
    return 1;
}

/* Runs every case of one golden family; returns the number of failed cases. */
static int run_golden(const char *family)
{
    char path[512], line[1024], saved[1024];
    snprintf(path, sizeof path, "%s/%s.txt", golden_dir(), family);
    FILE *mf = fopen(path, "r");
    snprintf(path, sizeof path, "%s/%s.bin", golden_dir(), family);
    FILE *bf = fopen(path, "rb");
    if (!mf || !bf) {
        fprintf(stderr, "cannot open goldens %s/%s.{txt,bin}\n", golden_dir(), family);
        if (mf)
            fclose(mf);
        if (bf)
            fclose(bf);
        return 1;
    }
    static float in[MAX_ELEMS], want[MAX_ELEMS];
    int lineno = 0, cases = 0, failed = 0;
    while (fgets(line, sizeof line, mf)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        strcpy(saved, line);
        saved[strcspn(saved, "\n")] = 0;
        qs_format_spec s;
        size_t shape[4];
        int ndim, reuse;
        qs_error err;
        qs_error_clear(&err);
        if (parse_case(line, &s, shape, &ndim, &reuse, &err) != 0 || ndim == 0) {
            fprintf(stderr, "%s.txt:%d: bad case '%s': %s\n", family, lineno, saved, err.msg);
            failed++;
            break;
        }
        size_t n = 1;
        for (int d = 0; d < ndim; d++)
            n *= shape[d];
        if (n > MAX_ELEMS || (!reuse && read_floats(bf, in, n)) || read_floats(bf, want, n)) {
            fprintf(stderr, "%s.bin: truncated at case of line %d\n", family, lineno);
            failed++;
            break;
        }
        cases++;
        char where[1100];
        snprintf(where, sizeof where, "%s.txt:%d: %s", family, lineno, saved);
        failed += check_case(where, &s, shape, ndim, in, want, n, failed < 5);
    }
    fclose(mf);
    fclose(bf);
    fprintf(stderr, "  %s: %d golden cases, %d failed\n", family, cases, failed);
    return cases == 0 ? 1 : failed;
}

static void test_golden_integer(void) { CHECK_INT(run_golden("integer"), 0); }
static void test_golden_minifloat_denorm(void) { CHECK_INT(run_golden("minifloat_denorm"), 0); }
static void test_golden_minifloat_ieee(void) { CHECK_INT(run_golden("minifloat_ieee"), 0); }
static void test_golden_log(void) { CHECK_INT(run_golden("log"), 0); }
static void test_golden_block_fp(void) { CHECK_INT(run_golden("block_fp"), 0); }
static void test_golden_binary_ternary(void) { CHECK_INT(run_golden("binary_ternary"), 0); }

/* ------------------------------------------------------------ hand values */

static qs_format_spec spec_of(const char *text)
{
    qs_format_spec s;
    qs_error err;
    qs_error_clear(&err);
    if (qs_format_spec_parse(&s, text, &err) != QS_OK)
        fprintf(stderr, "spec_of(%s): %s\n", text, err.msg);
    return s;
}

static float q1(const char *text, float x)
{
    qs_format_spec s = spec_of(text);
    float y = -12345.0f;
    qs_error err;
    if (qs_quantize(&s, &x, &y, 1, &err) != QS_OK)
        fprintf(stderr, "q1(%s): %s\n", text, err.msg);
    return y;
}

static void test_integer_by_hand(void)
{
    /* width 8, frac 4: step 1/16, range [-8, 7.9375] */
    CHECK(q1("integer:width=8,frac_width=4", 0.03125f) == 0.0f);   /* 0.5 step: tie to even 0 */
    CHECK(q1("integer:width=8,frac_width=4", 0.09375f) == 0.125f); /* 1.5 steps -> 2 */
    CHECK(q1("integer:width=8,frac_width=4", -0.09375f) == -0.125f);
    CHECK(q1("integer:width=8,frac_width=4", 100.0f) == 7.9375f);
    CHECK(q1("integer:width=8,frac_width=4", -100.0f) == -8.0f);
    CHECK(q1("integer:width=8,frac_width=4", INFINITY) == 7.9375f);
    CHECK(q1("integer:width=8,frac_width=4", -INFINITY) == -8.0f);
    CHECK(isnan(q1("integer:width=8,frac_width=4", NAN)));
    float z = q1("integer:width=8,frac_width=4", -0.01f); /* torch: -0 */
    CHECK(z == 0.0f && signbit(z));
    /* "NA" frac -> width/2: width 6 -> frac 3 */
    CHECK(q1("integer:width=6,frac_width=NA", 1.3f) == 1.25f);
    CHECK(q1("integer:width=6", 1.3f) == 1.25f);
    /* unsigned */
    CHECK(q1("integer:width=4,frac_width=0,is_signed=false", -3.0f) == 0.0f);
    CHECK(q1("integer:width=4,frac_width=0,is_signed=false", 20.0f) == 15.0f);
    /* negative frac: steps of 4 */
    CHECK(q1("integer:width=4,frac_width=-2", 9.0f) == 8.0f);
    CHECK(q1("integer:width=4,frac_width=-2", 10.0f) == 8.0f); /* tie 2.5 -> 2 */
    CHECK(q1("integer:width=4,frac_width=-2", 100.0f) == 28.0f);
    /* ap_fixed modes at 2.5 and -2.5 steps (frac 0) */
    const char *base = "integer:width=8,frac_width=0,round=";
    struct { const char *m; float pos, neg; } r[] = {
        {"RND_CONV", 2, -2}, {"TRN", 2, -3}, {"TRN_ZERO", 2, -2}, {"RND", 3, -2},
        {"RND_ZERO", 2, -2}, {"RND_INF", 3, -3}, {"RND_MIN_INF", 2, -3},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        char t[128];
        snprintf(t, sizeof t, "%s%s,overflow=WRAP", base, r[i].m);
        CHECK(q1(t, 2.5f) == r[i].pos);
        CHECK(q1(t, -2.5f) == r[i].neg);
        CHECK(q1(t, 2.7f) == (!strncmp(r[i].m, "TRN", 3) ? 2.0f : 3.0f));
    }
    /* overflow modes, width 4 signed [-8, 7] */
    CHECK(q1("integer:width=4,frac_width=0,overflow=SAT", -9.0f) == -8.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=SAT_SYM", -9.0f) == -7.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=SAT_SYM", -8.0f) == -7.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=WRAP", 9.0f) == -7.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=WRAP", -9.0f) == 7.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=WRAP", 16.0f) == 0.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=WRAP", INFINITY) == 7.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=SAT_ZERO", 8.0f) == 0.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=SAT_ZERO", 7.0f) == 7.0f);
    CHECK(q1("integer:width=4,frac_width=0,overflow=SAT_ZERO", -INFINITY) == 0.0f);
    CHECK(q1("integer:width=4,frac_width=0,is_signed=0,overflow=WRAP", 17.0f) == 1.0f);
    CHECK(q1("integer:width=4,frac_width=0,is_signed=0,overflow=WRAP", -1.0f) == 15.0f);
    /* width 32: the upper bound is float(2^31 - 1) = 2^31, as torch.clamp */
    CHECK(q1("integer:width=32,frac_width=0", 1e12f) == 2147483648.0f);
}

static void test_to_int(void)
{
    qs_format_spec s = spec_of("integer:width=8,frac_width=4");
    float in[] = {0.5f, -0.5f, 0.03125f, 100.0f, -100.0f, INFINITY, -INFINITY, NAN, -0.0f};
    int32_t want[] = {8, -8, 0, 127, -128, 127, -128, 0, 0};
    int32_t q[9];
    qs_error err;
    CHECK_INT(qs_quantize_to_int(&s, in, q, 9, &err), QS_OK);
    for (int i = 0; i < 9; i++)
        CHECK_INT(q[i], want[i]);
    CHECK(qs_format_int_scale(&s) == 0.0625f);
    s = spec_of("integer:width=32,frac_width=0");
    float big = 1e12f;
    CHECK_INT(qs_quantize_to_int(&s, &big, q, 1, &err), QS_OK);
    CHECK_INT(q[0], 2147483647);
    s = spec_of("integer:width=32,frac_width=0,is_signed=false");
    CHECK_INT(qs_quantize_to_int(&s, &big, q, 1, &err), QS_ERR_UNSUPPORTED);
    s = spec_of("integer:width=4,frac_width=0,overflow=SAT_ZERO");
    float inf = INFINITY;
    CHECK_INT(qs_quantize_to_int(&s, &inf, q, 1, &err), QS_OK);
    CHECK_INT(q[0], 0);
    s = spec_of("log:width=4");
    CHECK_INT(qs_quantize_to_int(&s, &big, q, 1, &err), QS_ERR_USAGE);
}

static void test_minifloat_by_hand(void)
{
    /* MASE's docstring examples: 8 bits, 4 exponent, bias 7 (default) */
    const char *ieee = "minifloat_ieee:width=8,exponent_width=4";
    const char *den = "minifloat_denorm:width=8,exponent_width=4";
    CHECK(q1(ieee, 1.0f) == 1.0f);
    CHECK(q1(ieee, 1.0625f) == 1.0f);  /* tie between 1 and 1.125 -> even mantissa */
    CHECK(q1(ieee, 1.1875f) == 1.25f); /* tie 1.125/1.25 -> 1.25 */
    CHECK(q1(ieee, -3.3f) == -3.25f);
    CHECK(q1(ieee, 1e6f) == 480.0f);   /* 2^8 * 1.875: saturates */
    CHECK(q1(ieee, 0.0f) == 0.0f);
    CHECK(isnan(q1(ieee, INFINITY)));  /* 0 * inf in MASE's mask arithmetic */
    CHECK(isnan(q1(ieee, NAN)));
    CHECK(q1(den, 1.0f) == 0.875f); /* exponent 0, mantissa 8/8 clamps to 7/8 */
    CHECK(q1(den, 0.75f) == 0.75f);
    CHECK(q1(den, 1e6f) == 256.0f * 0.875f); /* 2^8 * 7/8 */
    float z = q1(den, -0.0f);                /* is_close_to_0: +0 (0*y + 1*(-0)) */
    CHECK(z == 0.0f && !signbit(z));
    CHECK(q1(den, -5e-9f) == -5e-9f); /* |x| <= 1e-8 passes through unchanged */
    CHECK(isnan(q1(den, -INFINITY)));
}

static void test_log_by_hand(void)
{
    const char *lg = "log:width=4"; /* 3 exponent bits, bias 3: 2^-3 .. 2^4 */
    CHECK(q1(lg, 1.0f) == 1.0f);
    CHECK(q1(lg, 1.4f) == 1.0f);
    CHECK(q1(lg, 1.5f) == 2.0f);
    CHECK(q1(lg, -3.0f) == -4.0f);
    CHECK(q1(lg, 1000.0f) == 16.0f);
    CHECK(q1(lg, 0.0f) == 0.125f); /* log cannot represent 0: sign(0 + eps) = 1 */
    CHECK(q1(lg, INFINITY) == 16.0f);
    CHECK(q1(lg, -INFINITY) == -16.0f);
    CHECK(isnan(q1(lg, NAN)));
}

static void test_block_fp_by_hand(void)
{
    qs_format_spec s = spec_of("block_fp:width=4,exponent_width=8,block_size=4");
    /* block 1: max 3 -> exponent 2, 3 mantissa bits: steps of 0.5, max 3.5 */
    float in[8] = {3.0f, 1.2f, -0.7f, 0.2f, 0.0f, 0.0f, -0.0f, 0.0f};
    float out[8];
    qs_error err;
    CHECK_INT(qs_quantize(&s, in, out, 8, &err), QS_OK);
    CHECK(out[0] == 3.0f && out[1] == 1.0f && out[2] == -0.5f && out[3] == 0.0f);
    for (int i = 4; i < 8; i++)
        CHECK(out[i] == 0.0f && !signbit(out[i]));
    /* a NaN block max makes MASE's zero-block replacement NaN: zero blocks give NaN */
    in[1] = NAN;
    CHECK_INT(qs_quantize(&s, in, out, 8, &err), QS_OK);
    CHECK(isnan(out[1]) && isnan(out[4]));
    /* 2-D weight [2, 4] with block_size [16]: one block of everything */
    size_t shape[2] = {2, 4};
    float w[8] = {8, 1, 1, 1, 1, 1, 1, -1};
    CHECK_INT(qs_quantize_shaped(&s, w, out, shape, 2, &err), QS_OK);
    CHECK(out[0] == 7.0f && out[1] == 1.0f && out[7] == -1.0f); /* 8 saturates to 7/8 * 8 */
    /* activations [2, 4], skip_first_dim: each row its own block */
    s.skip_first_dim = true;
    CHECK_INT(qs_quantize_shaped(&s, w, out, shape, 2, &err), QS_OK);
    CHECK(out[4] == 0.875f && out[0] == 7.0f); /* row 2: max 1, mantissa clamps to 7/8 */
    size_t shape3[4] = {1, 2, 3, 4};
    CHECK_INT(qs_quantize_shaped(&s, w, out, shape3, 4, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "1 to 3 dimensions");
    s.skip_first_dim = false;
    CHECK_INT(qs_quantize_shaped(&s, w, out, shape3 + 1, 3, &err), QS_ERR_INPUT);
}

static void test_binary_ternary_by_hand(void)
{
    qs_format_spec b = spec_of("binary:bipolar=true");
    float x[6] = {0.5f, -0.25f, 0.0f, -0.0f, NAN, 2.0f};
    float y[6];
    qs_error err;
    CHECK_INT(qs_quantize(&b, x, y, 6, &err), QS_OK);
    float wantb[6] = {1, -1, 1, 1, -1, 1};
    for (int i = 0; i < 6; i++)
        CHECK(y[i] == wantb[i]);
    b = spec_of("binary");
    size_t shape[2] = {2, 3};
    float r[6] = {1, -2, 3, -1, -1, 4};
    CHECK_INT(qs_quantize_shaped(&b, r, y, shape, 2, &err), QS_OK);
    CHECK(y[0] == 2.0f && y[1] == 0.0f && y[2] == 2.0f); /* mean |row| = 2 */
    CHECK(y[3] == 0.0f && y[5] == 2.0f);
    qs_format_spec t = spec_of("ternary");
    float tx[4] = {1.0f, -1.0f, 0.1f, 0.3f}; /* delta = 0.75 * 2.4 / 4 = 0.45 */
    CHECK_INT(qs_quantize(&t, tx, y, 4, &err), QS_OK);
    CHECK(y[0] == 1.0f && y[1] == -1.0f && y[2] == 0.0f && y[3] == 0.0f);
    t = spec_of("ternary:scaling_factor=true");
    float tx2[4] = {1.0f, -2.0f, 0.1f, 0.3f}; /* delta 0.6375, alpha = 1.5 */
    CHECK_INT(qs_quantize(&t, tx2, y, 4, &err), QS_OK);
    CHECK(y[0] == 1.5f && y[1] == -1.5f && y[2] == 0.0f);
    float zeros[3] = {0, 0, 0}; /* MASE: no element above delta -> alpha 0/0 = NaN */
    CHECK_INT(qs_quantize(&t, zeros, y, 3, &err), QS_OK);
    CHECK(isnan(y[0]));
}

/* ------------------------------------------------------ spec and validation */

static void expect_invalid(const char *text, const char *needle)
{
    qs_format_spec s;
    qs_error err;
    qs_error_clear(&err);
    CHECK_INT(qs_format_spec_parse(&s, text, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, needle);
}

static void test_validation(void)
{
    expect_invalid("integer", "width: missing");
    expect_invalid("integer:width=0", "width: 0 is out of range 1..32");
    expect_invalid("integer:width=33", "width: 33 is out of range 1..32");
    expect_invalid("integer:width=8,frac_width=65", "frac_width: 65 is out of range");
    expect_invalid("integer:width=8,frac_width=abc", "frac_width: 'abc' is not an integer");
    expect_invalid("integer:width=8,exponent_width=3", "exponent_width: not a parameter for format integer");
    expect_invalid("integer:width=8,bogus=3", "bogus: unknown parameter");
    expect_invalid("integer:width=8,round=NEAREST", "round: unknown mode 'NEAREST'");
    expect_invalid("integer:width=8,overflow=CLIP", "overflow: unknown mode");
    expect_invalid("integer:width=8,is_signed=maybe", "is_signed: 'maybe' is not a boolean");
    expect_invalid("minifloat_ieee:width=8", "exponent_width: missing");
    expect_invalid("minifloat_ieee:width=8,exponent_width=8", "exponent_width: 8 must be less than width 8");
    expect_invalid("minifloat_denorm:width=12,exponent_width=9", "exponent_width: 9 is out of range 1..8");
    expect_invalid("minifloat_denorm:width=8,exponent_width=4,exponent_bias=-200", "exponent_bias: -200 gives exponents");
    expect_invalid("log:width=10", "width: 10 is out of range 2..9");
    expect_invalid("block_fp:width=8,block_size=0", "block_size: entry 0 is 0");
    expect_invalid("block_fp:width=8,block_size=[1,2,3,4]", "block_size: '[1,2,3,4]'");
    expect_invalid("binary:stochastic=true", "stochastic: stochastic binarisation is not supported");
    expect_invalid("binary:width=2", "width: 2, but binary has width 1");
    expect_invalid("fixed:width=8", "unknown format 'fixed'");
    qs_format_spec s;
    qs_error err;
    CHECK_INT(qs_format_spec_validate(NULL, &err), QS_ERR_USAGE);
    float x = 1.0f;
    qs_format_spec_init(&s, QS_FMT_MINIFLOAT_IEEE);
    CHECK_INT(qs_quantize(&s, &x, &x, 1, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "width: missing (required for minifloat_ieee)");
}

static void test_spec_parse_and_str(void)
{
    char buf[256];
    qs_format_spec s = spec_of("integer:width=8");
    CHECK_STR(qs_format_spec_str(&s, buf, sizeof buf), "integer(width=8, frac_width=4)");
    CHECK_INT(qs_format_spec_frac_width(&s), 4);
    s = spec_of("integer:width=8,frac_width=3,is_signed=false,round=ap_trn,overflow=WRAP");
    CHECK_STR(qs_format_spec_str(&s, buf, sizeof buf),
              "integer(width=8, frac_width=3, is_signed=false, round=TRN, overflow=WRAP)");
    s = spec_of("minifloat_ieee:width=8,exponent_width=4,exponent_bias=None");
    CHECK_INT(qs_format_spec_exponent_bias(&s), 7);
    CHECK_STR(qs_format_spec_str(&s, buf, sizeof buf),
              "minifloat_ieee(width=8, exponent_width=4, exponent_bias=7)");
    s = spec_of("log:width=5");
    CHECK_INT(qs_format_spec_exponent_bias(&s), 7);
    s = spec_of("block_fp");
    CHECK_STR(qs_format_spec_str(&s, buf, sizeof buf),
              "block_fp(width=12, exponent_width=8, exponent_bias=127, block_size=[16])");
    s = spec_of("block_fp:width=6,block_size=[-1, 8],skip_first_dim=1");
    CHECK_INT(s.block_ndim, 2);
    CHECK_INT(s.block_size[0], -1);
    CHECK_INT(s.block_size[1], 8);
    CHECK(s.skip_first_dim);
    s = spec_of("ternary:width=2,scaling_factor=1,mean=NA,median=0.5,max=3");
    CHECK(s.scaling_factor); /* MASE's threshold statistics are accepted and ignored */
    expect_invalid("ternary:mean=abc", "mean: 'abc' is not a number");
    s = spec_of("block_fp:width=6,block_size=4x8");
    CHECK_INT(s.block_ndim, 2);
    qs_error err;
    CHECK_INT(qs_format_spec_set_int(&s, "width", 5, &err), QS_OK);
    CHECK_INT(s.width, 5);
    CHECK_INT(qs_format_spec_set_int(&s, "skip_first_dim", 2, &err), QS_ERR_INPUT);
    CHECK_INT(qs_format_param_from_name("exponent_bias"), QS_P_EXPONENT_BIAS);
    CHECK_INT(qs_format_param_from_name("nope"), -1);
    CHECK_STR(qs_format_param_name(QS_P_FRAC_WIDTH), "frac_width");
    CHECK_STR(qs_round_mode_name(QS_RND_MIN_INF), "RND_MIN_INF");
    CHECK_STR(qs_overflow_mode_name(QS_SAT_SYM), "SAT_SYM");
    for (int f = 0; f < QS_FMT_COUNT; f++) {
        qs_format g;
        CHECK_INT(qs_format_from_name(qs_format_get((qs_format)f)->name, &g, &err), QS_OK);
        CHECK_INT(g, f);
        CHECK(qs_format_get((qs_format)f)->quantize != NULL);
        CHECK((qs_format_get((qs_format)f)->to_int != NULL) == (f == QS_FMT_INTEGER));
    }
}

static void test_storage_bits(void)
{
    size_t w[2] = {32, 16}, b1[1] = {37};
    qs_format_spec s = spec_of("integer:width=6");
    CHECK_INT(qs_format_tensor_bits(&s, w, 2), 32 * 16 * 6);
    s = spec_of("binary");
    CHECK_INT(qs_format_element_bits(&s), 1);
    s = spec_of("ternary");
    CHECK_INT(qs_format_tensor_bits(&s, b1, 1), 74);
    s = spec_of("block_fp:width=8,exponent_width=8,block_size=16");
    CHECK_INT(qs_format_tensor_bits(&s, b1, 1), 37 * 8 + 3 * 8); /* 3 blocks of 16 */
    CHECK_INT(qs_format_tensor_bits(&s, w, 2), 32 * 16 * 8 + 1 * 8); /* [32,16] one block */
    s = spec_of("block_fp:width=8,exponent_width=5,block_size=[4,8]");
    CHECK_INT(qs_format_tensor_bits(&s, w, 2), 32 * 16 * 8 + 8 * 2 * 5);
}

/* ------------------------------------------------------------- the kernel */

static void test_int_kernel_matches_ref(void)
{
    qs_rng r;
    qs_rng_seed(&r, 7);
    static float in[1031], a[1031], b[1031];
    for (size_t i = 0; i < 1031; i++)
        in[i] = (float)(qs_rng_normal(&r) * 20.0);
    in[5] = NAN;
    in[6] = -0.0f;
    in[7] = INFINITY;
    in[8] = -0.01f;
    in[9] = 2.5f;
    for (size_t n = 0; n <= 1031; n += (n < 40 ? 1 : 97)) {
        qs_fmt_int_kernel_ref(in, a, n, 16.0f, 0.0625f, -128.0f, 127.0f);
        qs_fmt_int_kernel(in, b, n, 16.0f, 0.0625f, -128.0f, 127.0f);
        int same = 1;
        for (size_t i = 0; i < n; i++)
            same &= same_bits(a[i], b[i]);
        CHECK(same);
    }
}

/* The exponent-bit fast paths equal floor/ceil/rint of the float32-rounded
 * log2 on every exponent, around every boundary, and on random patterns. */
static void test_log2_fast_paths(void)
{
    long bad = 0, count = 0;
    qs_rng r;
    qs_rng_seed(&r, 11);
    uint32_t centers[3] = {0, 0x7fffff, 0x3504f3};
    for (uint32_t ex = 0; ex < 256; ex++)
        for (int c = 0; c < 4; c++)
            for (int32_t off = -8400; off <= 8400; off += (off > -70 && off < 70) ? 1 : 37) {
                uint32_t u;
                if (c < 3) {
                    int64_t man = (int64_t)centers[c] + off;
                    if (man < 0 || man > 0x7fffff)
                        continue;
                    u = ex << 23 | (uint32_t)man;
                } else {
                    u = (uint32_t)qs_rng_u64(&r) & 0x7fffffffu;
                }
                float v;
                memcpy(&v, &u, 4);
                float l = (float)log2((double)v);
                float fl = qs_fmt_floor_log2(v), ce = qs_fmt_ceil_log2(v), ro = qs_fmt_round_log2(v);
                /* == rather than bits: a -0 exponent (ceil of -0.3) is the same 2**e */
                int differ = !(fl == floorf(l) || (isnan(fl) && isnan(l))) ||
                             !(ce == ceilf(l) || (isnan(ce) && isnan(l))) ||
                             !(ro == rintf(l) || (isnan(ro) && isnan(l)));
                if (differ && bad < 3)
                    fprintf(stderr, "  log2 of %a: %g %g %g vs %g %g %g\n", (double)v, (double)fl,
                            (double)ce, (double)ro, (double)floorf(l), (double)ceilf(l),
                            (double)rintf(l));
                bad += differ;
                count++;
            }
    fprintf(stderr, "  log2 fast paths: %ld values, %ld differ\n", count, bad);
    CHECK_INT(bad, 0);
}

static void test_int_speed(void)
{
    /* informational (noisy, shared machine): the bound only catches gross regressions */
    static float in[4096], out[4096];
    for (int i = 0; i < 4096; i++)
        in[i] = (float)(i - 2048) * 0.013f;
    qs_format_spec s = spec_of("integer:width=8,frac_width=4");
    qs_error err;
    struct timespec t0, t1;
    int reps = 2000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int k = 0; k < reps; k++)
        qs_quantize(&s, in, out, 4096, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / reps;
    fprintf(stderr, "  integer quantize of 4096 floats: %.2f us per call\n", us);
    CHECK(us < 200.0);
}

int main(void)
{
    RUN(test_golden_integer);
    RUN(test_golden_minifloat_denorm);
    RUN(test_golden_minifloat_ieee);
    RUN(test_golden_log);
    RUN(test_golden_block_fp);
    RUN(test_golden_binary_ternary);
    RUN(test_integer_by_hand);
    RUN(test_to_int);
    RUN(test_minifloat_by_hand);
    RUN(test_log_by_hand);
    RUN(test_block_fp_by_hand);
    RUN(test_binary_ternary_by_hand);
    RUN(test_validation);
    RUN(test_spec_parse_and_str);
    RUN(test_storage_bits);
    RUN(test_int_kernel_matches_ref);
    RUN(test_log2_fast_paths);
    RUN(test_int_speed);
    return qs_test_summary();
}
