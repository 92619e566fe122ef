/* Kernel benchmark: GOP/s of each qsearch kernel for W 1024 x 1024 at batch
 * 1, 64 and 1024, against oneDNN's int8 matmul (u8 x s8 -> s32) and f32
 * matmul run in the same process on the same problem, and as a fraction of
 * this core's measured peak int8 MAC rate. Not part of `make test`; built and
 * run by bench/run.sh kernels. Single-threaded (run.sh sets OMP_NUM_THREADS=1
 * so oneDNN uses one core too).
 *
 * Usage: kernels [--quick]   (--quick: fewer repeats, for a smoke run) */
#include <dnnl.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qsearch/kernels.h"
#include "qsearch/rng.h"

#define N 1024
#define K 1024

static int quick;

/* This thread's CPU time: on a shared machine it leaves out the time other
 * processes hold the core (oneDNN runs in this thread with OMP_NUM_THREADS=1). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void bench_fn(void *ctx);

/* Calls per timed sample so that a sample lasts about 2 ms. */
static int calibrate(bench_fn *fn, void *ctx)
{
    fn(ctx); /* warm-up: caches, page faults, oneDNN's first-run work */
    double t0 = now();
    fn(ctx);
    double one = now() - t0;
    return one > 2e-3 ? 1 : (int)(2e-3 / (one > 1e-8 ? one : 1e-8)) + 1;
}

/* Seconds per call, averaged over one sample of iters calls. */
static double sample(bench_fn *fn, void *ctx, int iters)
{
    double a = now();
    for (int i = 0; i < iters; i++) fn(ctx);
    return (now() - a) / iters;
}

/* Fastest of a few samples: for the peak and the clock, where noise only slows. */
static double time_best(bench_fn *fn, void *ctx)
{
    int iters = calibrate(fn, ctx);
    double best = 1e30;
    for (int s = 0; s < 7; s++) {
        double t = sample(fn, ctx, iters);
        if (t < best) best = t;
    }
    return best;
}

/* ---- peak: independent VPDPBUSD on zmm, and the clock from a dependent add chain ---- */

static __attribute__((target("avx512f,avx512vnni"), noinline)) void vnni_loop(long n, int32_t *out)
{
    __m512i a0 = _mm512_set1_epi32(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
            a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(2);
    for (long i = 0; i < n; i++) {
        __asm__ volatile("" : "+v"(u), "+v"(s)); /* keep operands opaque */
        a0 = _mm512_dpbusd_epi32(a0, u, s);
        a1 = _mm512_dpbusd_epi32(a1, u, s);
        a2 = _mm512_dpbusd_epi32(a2, u, s);
        a3 = _mm512_dpbusd_epi32(a3, u, s);
        a4 = _mm512_dpbusd_epi32(a4, u, s);
        a5 = _mm512_dpbusd_epi32(a5, u, s);
        a6 = _mm512_dpbusd_epi32(a6, u, s);
        a7 = _mm512_dpbusd_epi32(a7, u, s);
        a8 = _mm512_dpbusd_epi32(a8, u, s);
        a9 = _mm512_dpbusd_epi32(a9, u, s);
        a10 = _mm512_dpbusd_epi32(a10, u, s);
        a11 = _mm512_dpbusd_epi32(a11, u, s);
    }
    __m512i t = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                                 _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
    t = _mm512_add_epi32(t, _mm512_add_epi32(_mm512_add_epi32(a8, a9), _mm512_add_epi32(a10, a11)));
    *out = _mm512_reduce_add_epi32(t);
}

static __attribute__((noinline)) long add_chain(long n)
{
    long x = 0;
    long one = 1;
    /* 8 dependent register-register adds per iteration (1 cycle each; add of an
     * immediate would not do: recent cores fold those chains at rename) */
    for (long i = 0; i < n; i++)
        __asm__ volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                         "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
                         : "+r"(x)
                         : "r"(one));
    return x;
}

typedef struct {
    long n;
    int32_t sink;
    long lsink;
} peak_ctx;
static void run_vnni(void *c) { peak_ctx *p = c; vnni_loop(p->n, &p->sink); }
static void run_chain(void *c) { peak_ctx *p = c; p->lsink += add_chain(p->n); }

/* ---- oneDNN matmul, primitive created once ---- */

#define DN(call)                                                                    \
    do {                                                                            \
        dnnl_status_t st_ = (call);                                                 \
        if (st_ != dnnl_success) {                                                  \
            fprintf(stderr, "oneDNN: %s failed (%d)\n", #call, (int)st_);           \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

typedef struct {
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, dst;
} dnnl_mm;

/* C[M][N] = A[M][K] x B[K][N] with B given as W[N][K] (tag ba), weights reordered
 * once into the primitive's preferred layout. */
static void dnnl_mm_init(dnnl_mm *mm, int m, dnnl_data_type_t at, dnnl_data_type_t wt,
                         dnnl_data_type_t ct, void *a, void *w, void *c)
{
    DN(dnnl_engine_create(&mm->eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&mm->stream, mm->eng, dnnl_stream_default_flags));
    dnnl_memory_desc_t amd, wmd_user, wmd_any, cmd;
    dnnl_dims_t ad = {m, K}, wd = {K, N}, cd = {m, N};
    DN(dnnl_memory_desc_init_by_tag(&amd, 2, ad, at, dnnl_ab));
    DN(dnnl_memory_desc_init_by_tag(&wmd_user, 2, wd, wt, dnnl_ba));
    DN(dnnl_memory_desc_init_by_tag(&wmd_any, 2, wd, wt, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&cmd, 2, cd, ct, dnnl_ab));
    dnnl_matmul_desc_t desc;
    DN(dnnl_matmul_desc_init(&desc, &amd, &wmd_any, NULL, &cmd));
    dnnl_primitive_desc_t pd;
    DN(dnnl_primitive_desc_create(&pd, &desc, NULL, mm->eng, NULL));
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DN(dnnl_primitive_create(&mm->prim, pd));
    DN(dnnl_memory_create(&mm->src, &amd, mm->eng, a));
    DN(dnnl_memory_create(&mm->dst, &cmd, mm->eng, c));
    dnnl_memory_t wuser;
    DN(dnnl_memory_create(&wuser, &wmd_user, mm->eng, w));
    DN(dnnl_memory_create(&mm->wei, wmd, mm->eng, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t reorder;
    DN(dnnl_reorder_primitive_desc_create(&rpd, &wmd_user, mm->eng, wmd, mm->eng, NULL));
    DN(dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wuser}, {DNNL_ARG_TO, mm->wei}};
    DN(dnnl_primitive_execute(reorder, mm->stream, 2, rargs));
    DN(dnnl_stream_wait(mm->stream));
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(wuser);
    dnnl_primitive_desc_destroy(pd);
}

static void dnnl_mm_run(void *ctx)
{
    dnnl_mm *mm = ctx;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, mm->src}, {DNNL_ARG_WEIGHTS, mm->wei},
                               {DNNL_ARG_DST, mm->dst}};
    dnnl_primitive_execute(mm->prim, mm->stream, 3, args);
    dnnl_stream_wait(mm->stream);
}

static void dnnl_mm_free(dnnl_mm *mm)
{
    dnnl_primitive_destroy(mm->prim);
    dnnl_memory_destroy(mm->src);
    dnnl_memory_destroy(mm->wei);
    dnnl_memory_destroy(mm->dst);
    dnnl_stream_destroy(mm->stream);
    dnnl_engine_destroy(mm->eng);
}

/* ---- qsearch kernels ---- */

typedef enum { OP_S8, OP_S16, OP_S16W, OP_XNOR } op_kind;

typedef struct {
    const char *name;
    op_kind op;
    qs_kernel_fmt fmt;
    qs_kernel_path path;
} kernel_case;

static const kernel_case cases[] = {
    {"int8 avx512-vnni", OP_S8, QS_KFMT_INT8, QS_KPATH_AVX512},
    {"int8 avx2", OP_S8, QS_KFMT_INT8, QS_KPATH_AVX2},
    {"int16 avx512 (i32 acc)", OP_S16, QS_KFMT_INT16, QS_KPATH_AVX512},
    {"int16 avx512 (i64 acc)", OP_S16W, QS_KFMT_INT16, QS_KPATH_AVX512},
    {"int4 avx512", OP_S8, QS_KFMT_INT4, QS_KPATH_AVX512},
    {"int2 avx512", OP_S8, QS_KFMT_INT2, QS_KPATH_AVX512},
    {"ternary avx512", OP_S8, QS_KFMT_TERNARY, QS_KPATH_AVX512},
    {"binary avx512", OP_S8, QS_KFMT_BINARY, QS_KPATH_AVX512},
    {"binary x binary xnor", OP_XNOR, QS_KFMT_BINARY, QS_KPATH_AVX512},
    {"int4 avx2", OP_S8, QS_KFMT_INT4, QS_KPATH_AVX2},
    {"binary avx2", OP_S8, QS_KFMT_BINARY, QS_KPATH_AVX2},
    {"int8 ref (scalar)", OP_S8, QS_KFMT_INT8, QS_KPATH_REF},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

typedef struct {
    const kernel_case *kc;
    qs_kernel_weights w;
    int m;
    const int8_t *x8;
    const int16_t *x16;
    const uint64_t *xb;
    int32_t *y32;
    int64_t *y64;
} run_ctx;

static void run_kernel(void *ctx)
{
    run_ctx *r = ctx;
    qs_kernel_path p = r->kc->path;
    switch (r->kc->op) {
    case OP_S8:
        (p == QS_KPATH_AVX512 ? qs_kernel_s8_avx512 : p == QS_KPATH_AVX2 ? qs_kernel_s8_avx2
                                                                         : qs_kernel_s8_ref)(
            &r->w, r->x8, r->m, r->y32);
        break;
    case OP_S16:
        (p == QS_KPATH_AVX512 ? qs_kernel_s16_avx512 : qs_kernel_s16_avx2)(&r->w, r->x16, r->m, r->y32);
        break;
    case OP_S16W:
        (p == QS_KPATH_AVX512 ? qs_kernel_s16_i64_avx512 : qs_kernel_s16_i64_avx2)(&r->w, r->x16, r->m,
                                                                                   r->y64);
        break;
    case OP_XNOR:
        (p == QS_KPATH_AVX512 ? qs_kernel_xnor_avx512 : qs_kernel_xnor_avx2)(&r->w, r->xb, r->m, r->y32);
        break;
    }
}

typedef struct {
    const qs_kernel_weights *w;
    const int8_t *x;
    int32_t *y;
} small_ctx;
static void run_small(void *c)
{
    small_ctx *sc = c;
    qs_kernel_s8(sc->w, sc->x, 1, sc->y);
}

static qs_rng rng;

static void *pack_random(qs_kernel_weights *pw, qs_kernel_fmt fmt, int32_t *wbuf)
{
    int32_t lo, hi;
    qs_kernel_fmt_range(fmt, &lo, &hi);
    for (int i = 0; i < N * K; i++) {
        wbuf[i] = lo + (int32_t)qs_rng_below(&rng, (uint64_t)(hi - lo + 1));
        if (fmt == QS_KFMT_BINARY && wbuf[i] == 0) wbuf[i] = 1;
    }
    size_t sz = qs_kernel_pack_size(fmt, N, K);
    void *buf = aligned_alloc(64, (sz + 63) / 64 * 64);
    qs_error err;
    if (qs_kernel_pack_weights(pw, fmt, N, K, wbuf, buf, sz, &err) != QS_OK) {
        fprintf(stderr, "pack: %s\n", err.msg);
        exit(1);
    }
    return buf;
}

int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    qs_rng_seed(&rng, 1);
    int avx512 = qs_kernels_path_available(QS_KPATH_AVX512);
    if (!avx512) fprintf(stderr, "note: no AVX-512 VNNI on this CPU: AVX-512 rows skipped\n");

    /* peak */
    double peak_macs = 0, ghz;
    {
        peak_ctx pc = {.n = 1000000};
        double tc = time_best(run_chain, &pc);
        ghz = 8.0 * (double)pc.n / tc / 1e9;
        if (avx512) {
            pc.n = 200000;
            double tv = time_best(run_vnni, &pc);
            peak_macs = 12.0 * 64.0 * (double)pc.n / tv;
        }
        printf("clock (dependent add chain, 1/cycle): %.2f GHz\n", ghz);
        printf("peak int8 MAC rate (12 independent VPDPBUSD zmm per iteration): %.1f GMAC/s = "
               "%.1f MAC/cycle at that clock (theory: 2 ports x 64 = 128 MAC/cycle = %.1f GMAC/s)\n",
               peak_macs / 1e9, peak_macs / 1e9 / ghz, 128.0 * ghz);
    }

    int8_t *x8 = aligned_alloc(64, (size_t)1024 * K);
    uint8_t *xu8 = aligned_alloc(64, (size_t)1024 * K);
    int16_t *x16 = aligned_alloc(64, sizeof *x16 * 1024 * K);
    uint64_t *xb = aligned_alloc(64, sizeof *xb * 1024 * (K / 64));
    float *xf = aligned_alloc(64, sizeof *xf * 1024 * K);
    int32_t *y32 = aligned_alloc(64, sizeof *y32 * 1024 * N);
    int32_t *yd = aligned_alloc(64, sizeof *yd * 1024 * N);
    float *yf = aligned_alloc(64, sizeof *yf * 1024 * N);
    int64_t *y64 = aligned_alloc(64, sizeof *y64 * 1024 * N);
    int32_t *wbuf = malloc(sizeof *wbuf * N * K);
    int8_t *w8 = malloc((size_t)N * K);
    float *wf = malloc(sizeof *wf * N * K);
    for (int i = 0; i < 1024 * K; i++) {
        x8[i] = (int8_t)(qs_rng_below(&rng, 256) - 128);
        xu8[i] = (uint8_t)(x8[i] + 128);
        x16[i] = (int16_t)((int32_t)qs_rng_below(&rng, 65536) - 32768);
        xf[i] = (float)x8[i];
    }
    qs_kernel_pack_act_bits(x8, 1024, K, xb);

    /* oneDNN int8 weights: the same INT8 values our int8 rows use. */
    qs_kernel_weights w_int8;
    void *int8buf = pack_random(&w_int8, QS_KFMT_INT8, wbuf);
    int64_t colsum[N];
    for (int n = 0; n < N; n++) {
        colsum[n] = 0;
        for (int k = 0; k < K; k++) {
            w8[(size_t)n * K + k] = (int8_t)wbuf[(size_t)n * K + k];
            wf[(size_t)n * K + k] = (float)wbuf[(size_t)n * K + k];
            colsum[n] += wbuf[(size_t)n * K + k];
        }
    }

    const int batches[3] = {1, 64, 1024};
    double gops[3][NCASES + 2];
    for (int bi = 0; bi < 3; bi++) {
        int m = batches[bi];
        double ops = 2.0 * m * N * K;
        dnnl_mm mm, mf;
        dnnl_mm_init(&mm, m, dnnl_u8, dnnl_s8, dnnl_s32, xu8, w8, yd);
        dnnl_mm_init(&mf, m, dnnl_f32, dnnl_f32, dnnl_f32, xf, wf, yf);
        /* check: oneDNN's u8 result = ours on s8 activations + 128 * colsum */
        if (avx512) {
            dnnl_mm_run(&mm);
            qs_kernel_s8_avx512(&w_int8, x8, m, y32);
            long bad = 0;
            for (int r = 0; r < m; r++)
                for (int n = 0; n < N; n++)
                    bad += (int64_t)yd[(size_t)r * N + n] != (int64_t)y32[(size_t)r * N + n] + 128 * colsum[n];
            if (bad) printf("WARNING: %ld outputs differ from oneDNN at batch %d\n", bad, m);
        }
        /* every entry: our cases, then oneDNN int8 and f32 */
        bench_fn *fns[NCASES + 2];
        void *ctxs[NCASES + 2];
        run_ctx rcs[NCASES];
        void *bufs[NCASES] = {0};
        int iters[NCASES + 2];
        for (int c = 0; c < NCASES; c++) {
            const kernel_case *kc = &cases[c];
            fns[c] = NULL;
            if (!qs_kernels_path_available(kc->path)) continue;
            if (kc->path == QS_KPATH_REF && m > 64) continue; /* too slow to matter */
            rcs[c] = (run_ctx){.kc = kc, .m = m, .x8 = x8, .x16 = x16, .xb = xb, .y32 = y32, .y64 = y64};
            if (kc->fmt == QS_KFMT_INT8)
                rcs[c].w = w_int8;
            else
                bufs[c] = pack_random(&rcs[c].w, kc->fmt, wbuf);
            fns[c] = run_kernel;
            ctxs[c] = &rcs[c];
        }
        fns[NCASES] = dnnl_mm_run, ctxs[NCASES] = &mm;
        fns[NCASES + 1] = dnnl_mm_run, ctxs[NCASES + 1] = &mf;
        for (int c = 0; c < NCASES + 2; c++)
            if (fns[c]) iters[c] = calibrate(fns[c], ctxs[c]);
        /* rounds interleave all entries so that load from other processes
         * hits them alike; the median over rounds is reported */
        int rounds = quick ? 3 : m >= 1024 ? 9 : 21;
        double t[NCASES + 2][32];
        for (int rd = 0; rd < rounds; rd++)
            for (int c = 0; c < NCASES + 2; c++)
                if (fns[c]) t[c][rd] = sample(fns[c], ctxs[c], iters[c]);
        for (int c = 0; c < NCASES + 2; c++) {
            gops[bi][c] = 0;
            if (!fns[c]) continue;
            qsort(t[c], (size_t)rounds, sizeof t[c][0], cmp_dbl);
            gops[bi][c] = ops / t[c][rounds / 2] / 1e9;
        }
        for (int c = 0; c < NCASES; c++) free(bufs[c]);
        dnnl_mm_free(&mm);
        dnnl_mm_free(&mf);
    }

    printf("\nW %d x %d, single thread; GOP/s (1 MAC = 2 ops), median over interleaved rounds of thread CPU time\n", N, K);
    printf("%-24s", "kernel");
    for (int bi = 0; bi < 3; bi++) printf(" | batch %-4d GOP/s  /dnnl  /peak", batches[bi]);
    printf("\n");
    for (int c = 0; c < NCASES + 2; c++) {
        const char *name = c < NCASES ? cases[c].name
                           : c == NCASES ? "oneDNN int8 u8*s8->s32" : "oneDNN f32 (float ref)";
        printf("%-24s", name);
        for (int bi = 0; bi < 3; bi++) {
            double g = gops[bi][c];
            if (g <= 0) {
                printf(" | %10s %6s %6s %5s", "-", "", "", "");
                continue;
            }
            printf(" | %16.1f %6.2f %5.2f", g, g / gops[bi][NCASES],
                   peak_macs > 0 ? g / 2.0 / (peak_macs / 1e9) : 0.0);
        }
        printf("\n");
    }
    /* jsc-s's Linear layers at batch 1 (int8 weights and activations): the
     * per-call cost that bounds a whole integer forward pass */
    if (avx512) {
        static const int shapes[5][2] = {{64, 16}, {32, 64}, {32, 32}, {32, 32}, {5, 32}};
        double total = 0;
        printf("\njsc-s Linear layers, batch 1, int8 avx512 (dispatched entry point, %s):\n",
               qs_kernels_active());
        for (int l = 0; l < 5; l++) {
            qs_kernel_weights lw;
            int n = shapes[l][0], k = shapes[l][1];
            for (int i = 0; i < n * k; i++) wbuf[i] = (int32_t)qs_rng_below(&rng, 256) - 128;
            size_t sz = qs_kernel_pack_size(QS_KFMT_INT8, n, k);
            void *lbuf = aligned_alloc(64, (sz + 63) / 64 * 64);
            qs_error err;
            if (qs_kernel_pack_weights(&lw, QS_KFMT_INT8, n, k, wbuf, lbuf, sz, &err) != QS_OK) exit(1);
            small_ctx sc = {&lw, x8, y32};
            int it = calibrate(run_small, &sc);
            double t[21];
            for (int rd = 0; rd < 21; rd++) t[rd] = sample(run_small, &sc, it);
            qsort(t, 21, sizeof t[0], cmp_dbl);
            printf("  Linear(%d, %d): %.1f ns\n", k, n, t[10] * 1e9);
            total += t[10];
            free(lbuf);
        }
        printf("  sum of the 5 matmuls: %.1f ns (with 5 output classes)\n", total * 1e9);
    }

    printf("\nbatch-1 ratios to int8 avx512-vnni: int4 %.2fx, int2 %.2fx, binary %.2fx, "
           "binary x binary %.2fx\n",
           gops[0][4] / gops[0][0], gops[0][5] / gops[0][0], gops[0][7] / gops[0][0],
           gops[0][8] / gops[0][0]);
    if (gops[0][1] > 0)
        printf("batch-1 ratios to int8 avx2: int4 %.2fx, binary %.2fx\n", gops[0][9] / gops[0][1],
               gops[0][10] / gops[0][1]);
    printf("(shared 2-core machine: figures are noisy; rerun to see the spread)\n");
    free(int8buf);
    free(x8), free(xu8), free(x16), free(xb), free(xf), free(y32), free(yd), free(yf), free(y64);
    free(wbuf), free(w8), free(wf);
    return 0;
}
