/* Run-time dispatch: the one global of the kernels module, a table of the
 * variants to call, resolved once from the CPU's features and QS_KERNELS. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kern_internal.h"
#include "qsearch/kernels.h"
#include "qsearch/log.h"

typedef struct {
    qs_kernel_path path;
    qs_kernel_s8_fn *s8;
    qs_kernel_s16_fn *s16;
    qs_kernel_s16w_fn *s16w;
    qs_kernel_xnor_fn *xnor;
} kernel_table;

static const kernel_table tables[QS_KPATH_COUNT] = {
    [QS_KPATH_REF] = {QS_KPATH_REF, qs_kernel_s8_ref, qs_kernel_s16_ref, qs_kernel_s16_i64_ref,
                      qs_kernel_xnor_ref},
    [QS_KPATH_AVX2] = {QS_KPATH_AVX2, qs_kernel_s8_avx2, qs_kernel_s16_avx2,
                       qs_kernel_s16_i64_avx2, qs_kernel_xnor_avx2},
    [QS_KPATH_AVX512] = {QS_KPATH_AVX512, qs_kernel_s8_avx512, qs_kernel_s16_avx512,
                         qs_kernel_s16_i64_avx512, qs_kernel_xnor_avx512},
};

static const char *const path_names[QS_KPATH_COUNT] = {"ref", "avx2", "avx512"};

static const kernel_table *active;
static pthread_once_t once = PTHREAD_ONCE_INIT;

const char *qs_kernels_path_name(qs_kernel_path path)
{
    return (unsigned)path < QS_KPATH_COUNT ? path_names[path] : "unknown";
}

int qs_kernels_path_available(qs_kernel_path path)
{
    __builtin_cpu_init();
    switch (path) {
    case QS_KPATH_REF: return 1;
    case QS_KPATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    case QS_KPATH_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("popcnt");
    default: return 0;
    }
}

static qs_kernel_path best_path(void)
{
    for (int p = QS_KPATH_COUNT - 1; p > 0; p--)
        if (qs_kernels_path_available((qs_kernel_path)p)) return (qs_kernel_path)p;
    return QS_KPATH_REF;
}

qs_status qs_kernels_select(qs_kernel_path path, qs_error *err)
{
    if ((unsigned)path >= QS_KPATH_COUNT)
        return qs_error_set(err, QS_ERR_USAGE, "kernel path %d: no such path", (int)path);
    if (!qs_kernels_path_available(path))
        return qs_error_set(err, QS_ERR_UNSUPPORTED,
                            "kernel path %s: this CPU lacks the instructions it needs",
                            path_names[path]);
    active = &tables[path];
    return QS_OK;
}

/* Path named by QS_KERNELS, or the best one when unset or empty. */
static qs_status env_path(qs_kernel_path *out, qs_error *err)
{
    const char *e = getenv("QS_KERNELS");
    *out = best_path();
    if (!e || !*e) return QS_OK;
    for (int p = 0; p < QS_KPATH_COUNT; p++)
        if (strcmp(e, path_names[p]) == 0) {
            if (!qs_kernels_path_available((qs_kernel_path)p))
                return qs_error_set(err, QS_ERR_UNSUPPORTED,
                                    "QS_KERNELS=%s: this CPU lacks the instructions it needs "
                                    "(available: %s)",
                                    e, path_names[best_path()]);
            *out = (qs_kernel_path)p;
            return QS_OK;
        }
    return qs_error_set(err, QS_ERR_USAGE, "QS_KERNELS=%s: unknown path (ref, avx2 or avx512)", e);
}

qs_status qs_kernels_init(qs_error *err)
{
    qs_kernel_path p;
    qs_status st = env_path(&p, err);
    active = &tables[st == QS_OK ? p : best_path()];
    return st;
}

static void init_once(void)
{
    if (active) return; /* already chosen by qs_kernels_init/select */
    qs_error err;
    qs_error_clear(&err);
    if (qs_kernels_init(&err) != QS_OK)
        qs_log("kernels: %s; using %s", err.msg, path_names[active->path]);
}

static const kernel_table *table(void)
{
    pthread_once(&once, init_once);
    return active;
}

const char *qs_kernels_active(void)
{
    return path_names[table()->path];
}

void qs_kernel_s8(const qs_kernel_weights *w, const int8_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S8(w);
    table()->s8(w, x, m, y);
}

void qs_kernel_s16(const qs_kernel_weights *w, const int16_t *x, int m, int32_t *y)
{
    QS_KERN_CHECK_S16(w);
    table()->s16(w, x, m, y);
}

void qs_kernel_s16_i64(const qs_kernel_weights *w, const int16_t *x, int m, int64_t *y)
{
    QS_KERN_CHECK_S16(w);
    table()->s16w(w, x, m, y);
}

void qs_kernel_xnor(const qs_kernel_weights *w, const uint64_t *xbits, int m, int32_t *y)
{
    QS_KERN_CHECK_XNOR(w);
    table()->xnor(w, xbits, m, y);
}
