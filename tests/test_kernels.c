/* Kernels: packing round trips, every variant against its _ref twin and the
 * ref against a naive matmul on unpacked weights, odd sizes, extreme values,
 * every width 1..16, both accumulator widths, the accumulator rule, dispatch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "qsearch/kernels.h"
#include "qsearch/rng.h"

/* 5, 10, 11 and 14 reach the 4-, 3- and 2-row tail tiles after 6- and 12-row tiles. */
static const int ms[] = {1, 2, 3, 5, 7, 10, 11, 14, 64};
static const int sizes[] = {1, 3, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))
#define NMS ((int)(sizeof ms / sizeof ms[0]))

static const qs_kernel_fmt s8_fmts[] = {QS_KFMT_INT8, QS_KFMT_INT4,    QS_KFMT_INT2,
                                        QS_KFMT_INT1, QS_KFMT_TERNARY, QS_KFMT_BINARY};
#define NS8 ((int)(sizeof s8_fmts / sizeof s8_fmts[0]))

static qs_kernel_s8_fn *const s8_paths[QS_KPATH_COUNT] = {qs_kernel_s8_ref, qs_kernel_s8_avx2,
                                                          qs_kernel_s8_avx512};
static qs_kernel_s16_fn *const s16_paths[QS_KPATH_COUNT] = {qs_kernel_s16_ref, qs_kernel_s16_avx2,
                                                            qs_kernel_s16_avx512};
static qs_kernel_s16w_fn *const s16w_paths[QS_KPATH_COUNT] = {
    qs_kernel_s16_i64_ref, qs_kernel_s16_i64_avx2, qs_kernel_s16_i64_avx512};
static qs_kernel_xnor_fn *const xnor_paths[QS_KPATH_COUNT] = {
    qs_kernel_xnor_ref, qs_kernel_xnor_avx2, qs_kernel_xnor_avx512};

static qs_rng rng;

/* A random weight in fmt's range (BINARY: -1 or +1). */
static int32_t rand_w(qs_kernel_fmt fmt)
{
    int32_t lo, hi;
    qs_kernel_fmt_range(fmt, &lo, &hi);
    if (fmt == QS_KFMT_BINARY) return qs_rng_below(&rng, 2) ? 1 : -1;
    return lo + (int32_t)qs_rng_below(&rng, (uint64_t)(hi - lo + 1));
}

/* Packs w into a fresh aligned buffer (returned; caller frees). */
static void *pack(qs_kernel_weights *pw, qs_kernel_fmt fmt, int n, int k, const int32_t *w)
{
    size_t sz = qs_kernel_pack_size(fmt, n, k);
    void *buf = aligned_alloc(64, (sz + 63) / 64 * 64);
    qs_error err;
    qs_error_clear(&err);
    qs_status st = qs_kernel_pack_weights(pw, fmt, n, k, w, buf, sz, &err);
    CHECK_INT(st, QS_OK);
    if (st != QS_OK) fprintf(stderr, "    pack: %s\n", err.msg);
    return buf;
}

static int64_t naive_dot8(const int32_t *w, const int8_t *x, int k)
{
    int64_t s = 0;
    for (int c = 0; c < k; c++) s += (int64_t)w[c] * x[c];
    return s;
}

/* Runs every available s8 path on one problem; checks ref == naive and path == ref. */
static int check_s8(qs_kernel_fmt fmt, int m, int n, int k, const int32_t *w, const int8_t *x)
{
    qs_kernel_weights pw;
    void *buf = pack(&pw, fmt, n, k, w);
    int32_t *ref = malloc(sizeof *ref * (size_t)m * (size_t)n);
    int32_t *out = malloc(sizeof *out * (size_t)m * (size_t)n);
    int bad = 0;
    qs_kernel_s8_ref(&pw, x, m, ref);
    for (int r = 0; r < m && !bad; r++)
        for (int c = 0; c < n && !bad; c++)
            if (ref[(size_t)r * n + c] != (int32_t)naive_dot8(w + (size_t)c * k, x + (size_t)r * k, k)) {
                fprintf(stderr, "    %s ref != naive at m=%d n=%d k=%d [%d][%d]\n",
                        qs_kernel_fmt_name(fmt), m, n, k, r, c);
                bad = 1;
            }
    for (int p = 1; p < QS_KPATH_COUNT && !bad; p++) {
        if (!qs_kernels_path_available((qs_kernel_path)p)) continue;
        memset(out, 0x5a, sizeof *out * (size_t)m * (size_t)n);
        s8_paths[p](&pw, x, m, out);
        if (memcmp(out, ref, sizeof *out * (size_t)m * (size_t)n) != 0) {
            fprintf(stderr, "    %s %s != ref at m=%d n=%d k=%d\n", qs_kernel_fmt_name(fmt),
                    qs_kernels_path_name((qs_kernel_path)p), m, n, k);
            bad = 1;
        }
    }
    free(ref);
    free(out);
    free(buf);
    return bad;
}

static void test_width_mapping(void)
{
    CHECK_INT(qs_kernel_fmt_for_width(1), QS_KFMT_INT1);
    CHECK_INT(qs_kernel_fmt_for_width(2), QS_KFMT_INT2);
    CHECK_INT(qs_kernel_fmt_for_width(3), QS_KFMT_INT4);
    CHECK_INT(qs_kernel_fmt_for_width(4), QS_KFMT_INT4);
    for (int wd = 5; wd <= 8; wd++) CHECK_INT(qs_kernel_fmt_for_width(wd), QS_KFMT_INT8);
    for (int wd = 9; wd <= 16; wd++) CHECK_INT(qs_kernel_fmt_for_width(wd), QS_KFMT_INT16);
    CHECK_INT(qs_kernel_fmt_for_width(0), QS_KFMT_COUNT);
    CHECK_INT(qs_kernel_fmt_for_width(17), QS_KFMT_COUNT);
    CHECK_STR(qs_kernel_fmt_name(QS_KFMT_TERNARY), "ternary");
}

/* Every width 1..16: random values of that width and its extremes -2^(w-1),
 * 2^(w-1)-1 survive packing into its container, and the kernels agree. */
static void test_every_width(void)
{
    const int n = 17, k = 33, m = 3;
    int32_t w[17 * 33];
    int8_t x8[3 * 33];
    int16_t x16[3 * 33];
    for (int i = 0; i < m * k; i++) {
        x8[i] = (int8_t)(qs_rng_below(&rng, 256) - 128);
        x16[i] = x8[i];
    }
    for (int wd = 1; wd <= 16; wd++) {
        qs_kernel_fmt fmt = qs_kernel_fmt_for_width(wd);
        int32_t lo = -(1 << (wd - 1)), hi = (1 << (wd - 1)) - 1;
        for (int i = 0; i < n * k; i++)
            w[i] = i % 5 == 0 ? lo : i % 5 == 1 ? hi : lo + (int32_t)qs_rng_below(&rng, (uint64_t)(hi - lo + 1));
        qs_kernel_weights pw;
        void *buf = pack(&pw, fmt, n, k, w);
        int same = 1;
        for (int r = 0; r < n; r++)
            for (int c = 0; c < k; c++) same &= qs_kernel_weight_at(&pw, r, c) == w[r * k + c];
        CHECK(same);
        if (fmt == QS_KFMT_INT16) {
            int64_t ref[3 * 17], out[3 * 17];
            qs_kernel_s16_i64_ref(&pw, x16, m, ref);
            for (int r = 0; r < m; r++)
                for (int c = 0; c < n; c++) {
                    int64_t s = 0;
                    for (int j = 0; j < k; j++) s += (int64_t)w[c * k + j] * x16[r * k + j];
                    CHECK_INT(ref[r * n + c], s);
                }
            for (int p = 1; p < QS_KPATH_COUNT; p++)
                if (qs_kernels_path_available((qs_kernel_path)p)) {
                    s16w_paths[p](&pw, x16, m, out);
                    CHECK(memcmp(out, ref, sizeof ref) == 0);
                }
        } else {
            CHECK_INT(check_s8(fmt, m, n, k, w, x8), 0);
        }
        free(buf);
    }
}

static void test_pack_errors(void)
{
    qs_error err;
    qs_kernel_weights pw;
    int32_t w[6] = {0, 1, 2, 3, 8, 0};
    _Alignas(64) uint8_t buf[256];
    qs_error_clear(&err);
    CHECK_INT(qs_kernel_pack_weights(&pw, QS_KFMT_INT4, 2, 3, w, buf, sizeof buf, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "weight [1][1] = 8");
    CHECK_CONTAINS(err.msg, "int4");
    int32_t b[2] = {1, 0};
    CHECK_INT(qs_kernel_pack_weights(&pw, QS_KFMT_BINARY, 1, 2, b, buf, sizeof buf, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "weight [0][1] = 0");
    int32_t ok[6] = {0};
    CHECK_INT(qs_kernel_pack_weights(&pw, QS_KFMT_INT8, 2, 3, ok, buf, 10, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "need 64");
    CHECK_INT(qs_kernel_pack_weights(&pw, QS_KFMT_INT8, 2, 3, ok, buf + 1, 200, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "aligned");
    CHECK_INT(qs_kernel_pack_size(QS_KFMT_INT8, 0, 3), 0);
    CHECK_INT(qs_kernel_pack_size(QS_KFMT_INT8, 17, 5), 2 * 2 * 64);
    CHECK_INT(qs_kernel_pack_size(QS_KFMT_BINARY, 17, 65), 2 * 3 * 64 + 24 * 2 * 8);
}

/* All s8 formats, all m, n and k of the grid, random values, every path. */
static void test_s8_random_grid(void)
{
    int fails = 0;
    int8_t *x = malloc(64 * 257);
    int32_t *w = malloc(sizeof *w * 257 * 257);
    for (int f = 0; f < NS8; f++)
        for (int a = 0; a < NSIZES; a++)
            for (int b = 0; b < NSIZES; b++) {
                int n = sizes[a], k = sizes[b];
                for (int i = 0; i < n * k; i++) w[i] = rand_w(s8_fmts[f]);
                for (int mi = 0; mi < NMS; mi++) {
                    int m = ms[mi];
                    /* the large m only on a subset, to keep the suite fast */
                    if (m == 64 && (a + b) % 3 != 0) continue;
                    for (int i = 0; i < m * k; i++) x[i] = (int8_t)(qs_rng_below(&rng, 256) - 128);
                    fails += check_s8(s8_fmts[f], m, n, k, w, x);
                }
            }
    CHECK_INT(fails, 0);
    free(x);
    free(w);
}

/* Extreme activations and weights: every combination of x in {-128, 127}
 * and w at its format's lowest and highest value. */
static void test_s8_extremes(void)
{
    int fails = 0;
    const int m = 3, n = 33, k = 257;
    int8_t *x = malloc((size_t)m * k);
    int32_t *w = malloc(sizeof *w * n * k);
    for (int f = 0; f < NS8; f++) {
        int32_t lo, hi;
        qs_kernel_fmt_range(s8_fmts[f], &lo, &hi);
        for (int xe = 0; xe < 3; xe++)
            for (int we = 0; we < 3; we++) {
                for (int i = 0; i < m * k; i++)
                    x[i] = (int8_t)(xe == 0 ? -128 : xe == 1 ? 127 : (i % 2 ? -128 : 127));
                for (int i = 0; i < n * k; i++) w[i] = we == 0 ? lo : we == 1 ? hi : (i % 3 ? lo : hi);
                fails += check_s8(s8_fmts[f], m, n, k, w, x);
            }
    }
    CHECK_INT(fails, 0);
    free(x);
    free(w);
}

/* Long rows, with extreme and random values: many k slabs in batched calls;
 * for INT4 the 16384-chunk slabs that keep its x16 accumulators from
 * wrapping (x = -128 with w = 7 overflows without them); for INT2 the
 * periodic fold of the split accumulators in single-row calls. */
static void test_s8_long_k(void)
{
    const int n = 65, k = 70001, mmax = 7;
    int fails = 0;
    int8_t *x = malloc((size_t)mmax * k);
    int32_t *w = malloc(sizeof *w * (size_t)n * k);
    const qs_kernel_fmt fmts[3] = {QS_KFMT_INT8, QS_KFMT_INT4, QS_KFMT_INT2};
    for (int f = 0; f < 3; f++) {
        int32_t lo, hi;
        qs_kernel_fmt_range(fmts[f], &lo, &hi);
        for (int e = 0; e < 3; e++) { /* x = -128 with w = hi, then w = lo, then random */
            for (int i = 0; i < mmax * k; i++) x[i] = (int8_t)(e == 2 ? (int)qs_rng_below(&rng, 256) - 128 : -128);
            for (int i = 0; i < n * k; i++) w[i] = e == 2 ? rand_w(fmts[f]) : e ? lo : hi;
            fails += check_s8(fmts[f], 1, n, k, w, x);
            fails += check_s8(fmts[f], mmax, n, k, w, x);
        }
    }
    CHECK_INT(fails, 0);
    free(x);
    free(w);
}

/* INT16 with int32 accumulators (values where sums fit) and with int64. */
static void test_s16_random_grid(void)
{
    int fails = 0;
    int16_t *x = malloc(sizeof *x * 64 * 257);
    int32_t *w = malloc(sizeof *w * 257 * 257);
    int32_t *r32 = malloc(sizeof *r32 * 64 * 257), *o32 = malloc(sizeof *o32 * 64 * 257);
    int64_t *r64 = malloc(sizeof *r64 * 64 * 257), *o64 = malloc(sizeof *o64 * 64 * 257);
    for (int a = 0; a < NSIZES; a++)
        for (int b = 0; b < NSIZES; b++) {
            int n = sizes[a], k = sizes[b];
            int full = (a + b) % 2; /* full 16-bit range (int64 only) or 11-bit values */
            int32_t lim = full ? 32768 : 1024;
            for (int i = 0; i < n * k; i++) w[i] = (int32_t)qs_rng_below(&rng, 2 * (uint64_t)lim) - lim;
            qs_kernel_weights pw;
            void *buf = pack(&pw, QS_KFMT_INT16, n, k, w);
            for (int mi = 0; mi < NMS; mi++) {
                int m = ms[mi];
                if (m == 64 && (a + b) % 3 != 0) continue;
                for (int i = 0; i < m * k; i++) x[i] = (int16_t)((int32_t)qs_rng_below(&rng, 2 * (uint64_t)lim) - lim);
                size_t ny = (size_t)m * n;
                qs_kernel_s16_i64_ref(&pw, x, m, r64);
                qs_kernel_s16_ref(&pw, x, m, r32);
                for (int r = 0; r < m; r++)
                    for (int c = 0; c < n; c++) {
                        int64_t s = 0;
                        for (int j = 0; j < k; j++) s += (int64_t)w[c * k + j] * x[r * k + j];
                        fails += r64[r * n + c] != s;
                        if (!full) fails += r32[r * n + c] != (int32_t)s;
                    }
                for (int p = 1; p < QS_KPATH_COUNT; p++) {
                    if (!qs_kernels_path_available((qs_kernel_path)p)) continue;
                    s16w_paths[p](&pw, x, m, o64);
                    s16_paths[p](&pw, x, m, o32);
                    int bad64 = memcmp(o64, r64, sizeof *o64 * ny) != 0;
                    int bad32 = memcmp(o32, r32, sizeof *o32 * ny) != 0; /* both wrap alike */
                    if (bad64 || bad32)
                        fprintf(stderr, "    int16 %s m=%d n=%d k=%d: %s\n",
                                qs_kernels_path_name((qs_kernel_path)p), m, n, k,
                                bad64 ? "int64 differs" : "int32 differs");
                    fails += bad64 + bad32;
                }
            }
            free(buf);
        }
    CHECK_INT(fails, 0);
    free(x), free(w), free(r32), free(o32), free(r64), free(o64);
}

/* -32768 x -32768 everywhere: pair sums of exactly 2^31, the one case that
 * wraps in VPMADDWD; the int64 paths must still be exact. */
static void test_s16_extremes(void)
{
    const int m = 2, n = 17, k = 65;
    int16_t x[2 * 65];
    int32_t w[17 * 65];
    int64_t ref[2 * 17], out[2 * 17];
    for (int e = 0; e < 3; e++) {
        for (int i = 0; i < m * k; i++) x[i] = e == 1 ? 32767 : -32768;
        for (int i = 0; i < n * k; i++) w[i] = e == 2 ? 32767 : -32768;
        qs_kernel_weights pw;
        void *buf = pack(&pw, QS_KFMT_INT16, n, k, w);
        int64_t want = (int64_t)k * (int64_t)w[0] * x[0];
        qs_kernel_s16_i64_ref(&pw, x, m, ref);
        for (int i = 0; i < m * n; i++) CHECK_INT(ref[i], want);
        for (int p = 1; p < QS_KPATH_COUNT; p++)
            if (qs_kernels_path_available((qs_kernel_path)p)) {
                s16w_paths[p](&pw, x, m, out);
                CHECK(memcmp(out, ref, sizeof ref) == 0);
            }
        free(buf);
    }
}

static void test_xnor(void)
{
    int fails = 0;
    int8_t *x = malloc(64 * 257);
    int32_t *w = malloc(sizeof *w * 257 * 257);
    uint64_t *xb = malloc(sizeof *xb * 64 * 5);
    int32_t *ref = malloc(sizeof *ref * 64 * 257), *out = malloc(sizeof *out * 64 * 257);
    for (int a = 0; a < NSIZES; a++)
        for (int b = 0; b < NSIZES; b++) {
            int n = sizes[a], k = sizes[b], m = ms[(a + b) % NMS];
            for (int i = 0; i < n * k; i++) w[i] = qs_rng_below(&rng, 2) ? 1 : -1;
            for (int i = 0; i < m * k; i++) x[i] = qs_rng_below(&rng, 2) ? 1 : -1;
            qs_kernel_weights pw;
            void *buf = pack(&pw, QS_KFMT_BINARY, n, k, w);
            qs_kernel_pack_act_bits(x, m, k, xb);
            qs_kernel_xnor_ref(&pw, xb, m, ref);
            for (int r = 0; r < m; r++)
                for (int c = 0; c < n; c++)
                    fails += ref[r * n + c] != (int32_t)naive_dot8(w + c * k, x + r * k, k);
            for (int p = 1; p < QS_KPATH_COUNT; p++)
                if (qs_kernels_path_available((qs_kernel_path)p)) {
                    xnor_paths[p](&pw, xb, m, out);
                    fails += memcmp(out, ref, sizeof *out * (size_t)m * n) != 0;
                }
            free(buf);
        }
    CHECK_INT(fails, 0);
    free(x), free(w), free(xb), free(ref), free(out);
}

/* The rule: int64 when width_w + width_a + ceil(log2(fan_in)) > 31. */
static void test_acc_rule(void)
{
    CHECK_INT(qs_kernel_acc_bits(8, 8, 32768), 32);  /* 8 + 8 + 15 = 31 */
    CHECK_INT(qs_kernel_acc_bits(8, 8, 32769), 64);  /* ceil(log2) = 16 */
    CHECK_INT(qs_kernel_acc_bits(16, 15, 1), 32);
    CHECK_INT(qs_kernel_acc_bits(16, 16, 1), 64);
    CHECK_INT(qs_kernel_acc_bits(12, 12, 128), 32);
    CHECK_INT(qs_kernel_acc_bits(12, 12, 129), 64);
    qs_kernel_plan plan;
    qs_error err;
    CHECK_INT(qs_kernel_plan_layer(&plan, 4, 8, 64, &err), QS_OK);
    CHECK_INT(plan.op, QS_KOP_S8);
    CHECK_INT(plan.wfmt, QS_KFMT_INT4);
    CHECK_INT(plan.acc_bits, 32);
    CHECK_INT(qs_kernel_plan_layer(&plan, 12, 8, 64, &err), QS_OK);
    CHECK_INT(plan.op, QS_KOP_S16);
    CHECK_INT(plan.act_bits, 16);
    CHECK_INT(qs_kernel_plan_layer(&plan, 0, 8, 64, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "weight width 0");

    /* 16 x 16 bits, fan_in 4, all -32768: the sum is 2^32, which int32 cannot hold. */
    const int k = 4, n = 3;
    CHECK_INT(qs_kernel_plan_layer(&plan, 16, 16, k, &err), QS_OK);
    CHECK_INT(plan.op, QS_KOP_S16_I64);
    CHECK_INT(plan.acc_bits, 64);
    int32_t w[12];
    int16_t x[4];
    for (int i = 0; i < n * k; i++) w[i] = -32768;
    for (int i = 0; i < k; i++) x[i] = -32768;
    qs_kernel_weights pw;
    void *buf = pack(&pw, plan.wfmt, n, k, w);
    int64_t y64[3];
    int32_t y32[3];
    qs_kernel_s16_i64(&pw, x, 1, y64);
    for (int i = 0; i < n; i++) CHECK_INT(y64[i], 4294967296ll);
    qs_kernel_s16(&pw, x, 1, y32); /* the int32 kernel wraps: why the rule exists */
    CHECK_INT(y32[0], 0);
    free(buf);
}

static void test_dispatch(void)
{
    qs_error err;
    qs_error_clear(&err);
    CHECK(qs_kernels_path_available(QS_KPATH_REF));
    for (int p = 0; p < QS_KPATH_COUNT; p++) {
        if (!qs_kernels_path_available((qs_kernel_path)p)) {
            CHECK_INT(qs_kernels_select((qs_kernel_path)p, &err), QS_ERR_UNSUPPORTED);
            CHECK_CONTAINS(err.msg, "lacks");
            continue;
        }
        CHECK_INT(qs_kernels_select((qs_kernel_path)p, &err), QS_OK);
        CHECK_STR(qs_kernels_active(), qs_kernels_path_name((qs_kernel_path)p));
        /* the dispatched entry point runs the selected variant */
        int32_t w[2 * 5] = {1, -2, 3, -4, 5, 127, -128, 0, 1, 2};
        int8_t x[5] = {-128, 127, 3, 4, 5};
        qs_kernel_weights pw;
        void *buf = pack(&pw, QS_KFMT_INT8, 2, 5, w);
        int32_t y[2];
        qs_kernel_s8(&pw, x, 1, y);
        CHECK_INT(y[0], -128 - 254 + 9 - 16 + 25);
        CHECK_INT(y[1], 127 * -128 + -128 * 127 + 0 + 4 + 10);
        free(buf);
    }
    CHECK_INT(qs_kernels_select(QS_KPATH_COUNT, &err), QS_ERR_USAGE);

    setenv("QS_KERNELS", "bogus", 1);
    CHECK_INT(qs_kernels_init(&err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "QS_KERNELS=bogus");
    setenv("QS_KERNELS", "ref", 1);
    CHECK_INT(qs_kernels_init(&err), QS_OK);
    CHECK_STR(qs_kernels_active(), "ref");
    if (!qs_kernels_path_available(QS_KPATH_AVX512)) {
        setenv("QS_KERNELS", "avx512", 1);
        CHECK_INT(qs_kernels_init(&err), QS_ERR_UNSUPPORTED);
    }
    unsetenv("QS_KERNELS");
    CHECK_INT(qs_kernels_init(&err), QS_OK);
}

int main(void)
{
    qs_rng_seed(&rng, 7);
    for (int p = 0; p < QS_KPATH_COUNT; p++)
        fprintf(stderr, "  path %s: %s\n", qs_kernels_path_name((qs_kernel_path)p),
                qs_kernels_path_available((qs_kernel_path)p) ? "available" : "not on this CPU");
    RUN(test_width_mapping);
    RUN(test_pack_errors);
    RUN(test_every_width);
    RUN(test_s8_random_grid);
    RUN(test_s8_extremes);
    RUN(test_s8_long_k);
    RUN(test_s16_random_grid);
    RUN(test_s16_extremes);
    RUN(test_xnor);
    RUN(test_acc_rule);
    RUN(test_dispatch);
    return qs_test_summary();
}
