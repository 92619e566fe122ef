/* Weight packing, format helpers and the accumulator rule (slow paths; the
 * kernels that read these layouts are in ref.c, avx2.c and avx512.c). */
#include <stdint.h>
#include <string.h>

#include "kernels/kern_internal.h"
#include "qsearch/kernels.h"

static const char *const fmt_names[QS_KFMT_COUNT] = {
    [QS_KFMT_INT16] = "int16", [QS_KFMT_INT8] = "int8",       [QS_KFMT_INT4] = "int4",
    [QS_KFMT_INT2] = "int2",   [QS_KFMT_INT1] = "int1",       [QS_KFMT_TERNARY] = "ternary",
    [QS_KFMT_BINARY] = "binary",
};

const char *qs_kernel_fmt_name(qs_kernel_fmt fmt)
{
    return (unsigned)fmt < QS_KFMT_COUNT ? fmt_names[fmt] : "unknown";
}

qs_kernel_fmt qs_kernel_fmt_for_width(int width)
{
    if (width < 1 || width > 16) return QS_KFMT_COUNT;
    if (width == 1) return QS_KFMT_INT1;
    if (width == 2) return QS_KFMT_INT2;
    if (width <= 4) return QS_KFMT_INT4;
    if (width <= 8) return QS_KFMT_INT8;
    return QS_KFMT_INT16;
}

void qs_kernel_fmt_range(qs_kernel_fmt fmt, int32_t *lo, int32_t *hi)
{
    int32_t l = 0, h = -1;
    switch (fmt) {
    case QS_KFMT_INT16: l = -32768; h = 32767; break;
    case QS_KFMT_INT8: l = -128; h = 127; break;
    case QS_KFMT_INT4: l = -8; h = 7; break;
    case QS_KFMT_INT2: l = -2; h = 1; break;
    case QS_KFMT_INT1: l = -1; h = 0; break;
    case QS_KFMT_TERNARY: l = -1; h = 1; break;
    case QS_KFMT_BINARY: l = -1; h = 1; break;
    default: break;
    }
    if (lo) *lo = l;
    if (hi) *hi = h;
}

static int kchunk_of(qs_kernel_fmt fmt)
{
    return fmt == QS_KFMT_INT16 ? 2 : 4 * qs_kern_traits_of(fmt).groups;
}

size_t qs_kernel_pack_size(qs_kernel_fmt fmt, int n, int k)
{
    if ((unsigned)fmt >= QS_KFMT_COUNT || n < 1 || k < 1) return 0;
    size_t nblocks = ((size_t)n + QS_KERNEL_NBLOCK - 1) / QS_KERNEL_NBLOCK;
    if (fmt == QS_KFMT_INT4) nblocks = (nblocks + 1) / 2; /* pairs share chunks */
    size_t kc = (size_t)kchunk_of(fmt);
    size_t bytes = nblocks * (((size_t)k + kc - 1) / kc) * QS_KERNEL_CHUNK;
    if (fmt == QS_KFMT_BINARY) bytes += ((size_t)n + 7) / 8 * 8 * (((size_t)k + 63) / 64) * 8;
    return bytes;
}

/* Unsigned code stored for weight value v (see kern_internal.h). */
static unsigned code_of(qs_kernel_fmt fmt, int32_t v)
{
    if (fmt == QS_KFMT_INT1) return v == -1;
    if (fmt == QS_KFMT_BINARY) return v == 1;
    return (unsigned)(v + qs_kern_traits_of(fmt).offset);
}

/* Byte offset of the chunk holding (row, col) and the code's position in it:
 * *byte is the byte index, *shift the bit shift within that byte. */
static size_t locate(const qs_kernel_weights *w, int row, int col, int *byte, int *shift)
{
    int blk = row / QS_KERNEL_NBLOCK, nl = row % QS_KERNEL_NBLOCK;
    int chunk = col / w->kchunk, kc = col % w->kchunk;
    size_t base = (size_t)(qs_kern_chunk(w, blk, chunk) - w->data);
    if (w->fmt == QS_KFMT_INT16) {
        *byte = (nl * 2 + kc) * 2;
        *shift = 0;
        return base;
    }
    qs_kern_traits t = qs_kern_traits_of(w->fmt);
    int g = kc / 4, kin = kc % 4, pos = nl * 4 + kin;
    if (t.bits == 1) {
        *byte = g * 8 + pos / 8;
        *shift = pos % 8;
    } else {
        *byte = pos;
        *shift = g * t.bits + (w->fmt == QS_KFMT_INT4 ? 4 * (blk % 2) : 0);
    }
    return base;
}

int32_t qs_kernel_weight_at(const qs_kernel_weights *w, int row, int col)
{
    int byte, shift;
    const uint8_t *p = w->data + locate(w, row, col, &byte, &shift);
    if (w->fmt == QS_KFMT_INT16) {
        int16_t v;
        memcpy(&v, p + byte, sizeof v);
        return v;
    }
    qs_kern_traits t = qs_kern_traits_of(w->fmt);
    int32_t code = (p[byte] >> shift) & ((1 << t.bits) - 1);
    if (w->fmt == QS_KFMT_INT1) return -code;
    if (w->fmt == QS_KFMT_BINARY) return 2 * code - 1;
    return code - t.offset;
}

static qs_status check_range(qs_kernel_fmt fmt, int n, int k, const int32_t *w, qs_error *err)
{
    int32_t lo, hi;
    qs_kernel_fmt_range(fmt, &lo, &hi);
    for (int r = 0; r < n; r++)
        for (int c = 0; c < k; c++) {
            int32_t v = w[(size_t)r * (size_t)k + (size_t)c];
            if (v < lo || v > hi || (fmt == QS_KFMT_BINARY && v == 0))
                return qs_error_set(err, QS_ERR_INPUT,
                                    "weight [%d][%d] = %ld: out of range for %s (%ld..%ld%s)",
                                    r, c, (long)v, qs_kernel_fmt_name(fmt), (long)lo, (long)hi,
                                    fmt == QS_KFMT_BINARY ? ", not 0" : "");
        }
    return QS_OK;
}

qs_status qs_kernel_pack_weights(qs_kernel_weights *out, qs_kernel_fmt fmt, int n, int k,
                                 const int32_t *w, void *buf, size_t buf_size, qs_error *err)
{
    size_t need = qs_kernel_pack_size(fmt, n, k);
    if (!out || !w || !buf || need == 0)
        return qs_error_set(err, QS_ERR_USAGE, "pack_weights: bad arguments (fmt %d, %d x %d)",
                            (int)fmt, n, k);
    if (buf_size < need)
        return qs_error_set(err, QS_ERR_USAGE, "pack_weights: buffer of %zu bytes, need %zu",
                            buf_size, need);
    if ((uintptr_t)buf % 64 != 0)
        return qs_error_set(err, QS_ERR_USAGE, "pack_weights: buffer not 64-byte aligned");
    QS_TRY(check_range(fmt, n, k, w, err));

    memset(buf, 0, need);
    memset(out, 0, sizeof *out);
    out->fmt = fmt;
    out->n = n;
    out->k = k;
    out->kchunk = kchunk_of(fmt);
    out->nblocks = (n + QS_KERNEL_NBLOCK - 1) / QS_KERNEL_NBLOCK;
    out->nchunks = (k + out->kchunk - 1) / out->kchunk;
    out->data = buf;
    uint8_t *data = buf;
    int rows = out->nblocks * QS_KERNEL_NBLOCK, cols = out->nchunks * out->kchunk;
    /* Padding rows and columns hold the code of weight 0 (-1 for BINARY,
     * which has no 0: harmless, since padded activations are 0 and padded
     * rows are never stored). */
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int32_t v = (r < n && c < k) ? w[(size_t)r * (size_t)k + (size_t)c] : 0;
            int byte, shift;
            uint8_t *p = data + locate(out, r, c, &byte, &shift);
            if (fmt == QS_KFMT_INT16) {
                int16_t v16 = (int16_t)v;
                memcpy(p + byte, &v16, sizeof v16);
            } else {
                p[byte] |= (uint8_t)(code_of(fmt, v) << shift);
            }
        }
    if (fmt == QS_KFMT_BINARY) {
        uint64_t *bits = (uint64_t *)(void *)(data + (size_t)out->nblocks * (size_t)out->nchunks *
                                                         QS_KERNEL_CHUNK);
        out->kwords = (k + 63) / 64;
        for (int r = 0; r < n; r++)
            for (int c = 0; c < k; c++)
                if (w[(size_t)r * (size_t)k + (size_t)c] == 1)
                    bits[qs_kern_rowbit_word(out, r, c / 64)] |= 1ull << (c % 64);
        out->rowbits = bits;
    }
    return QS_OK;
}

void qs_kernel_pack_act_bits(const int8_t *x, int m, int k, uint64_t *out)
{
    int kw = (k + 63) / 64;
    memset(out, 0, (size_t)m * (size_t)kw * sizeof *out);
    for (int r = 0; r < m; r++)
        for (int c = 0; c < k; c++)
            if (x[(size_t)r * (size_t)k + (size_t)c] >= 0)
                out[(size_t)r * (size_t)kw + (size_t)(c / 64)] |= 1ull << (c % 64);
}

static int ceil_log2(int v)
{
    int b = 0;
    while ((1ll << b) < (long long)v) b++;
    return b;
}

int qs_kernel_acc_bits(int width_w, int width_a, int fan_in)
{
    return width_w + width_a + ceil_log2(fan_in) > 31 ? 64 : 32;
}

qs_status qs_kernel_plan_layer(qs_kernel_plan *plan, int width_w, int width_a, int fan_in,
                               qs_error *err)
{
    if (width_w < 1 || width_w > 16 || width_a < 1 || width_a > 16 || fan_in < 1)
        return qs_error_set(err, QS_ERR_INPUT,
                            "integer layer: weight width %d, data_in width %d, fan_in %d "
                            "(widths must be 1..16 for the integer kernels)",
                            width_w, width_a, fan_in);
    plan->acc_bits = qs_kernel_acc_bits(width_w, width_a, fan_in);
    if (plan->acc_bits == 64) {
        plan->op = QS_KOP_S16_I64;
        plan->wfmt = QS_KFMT_INT16;
        plan->act_bits = 16;
    } else if (width_w <= 8 && width_a <= 8) {
        plan->op = QS_KOP_S8;
        plan->wfmt = qs_kernel_fmt_for_width(width_w);
        plan->act_bits = 8;
    } else {
        plan->op = QS_KOP_S16;
        plan->wfmt = QS_KFMT_INT16;
        plan->act_bits = 16;
    }
    return QS_OK;
}
