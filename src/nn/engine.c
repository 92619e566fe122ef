/* Integer engine: building the plan (which Linear layers run integer, their
 * packed weights, bias at the accumulator's scale, fused elementwise steps)
 * and describing it. Execution is in engine_run.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/engine_internal.h"
#include "nn/layers.h"

#define MAX_STEPS_PER_LAYER 2

size_t qs_engine_n_layers(const qs_engine *e) { return e->n_layers; }
const qs_engine_layer_info *qs_engine_layer(const qs_engine *e, size_t i)
{
    return i < e->n_layers ? &e->info[i] : NULL;
}
size_t qs_engine_n_linear(const qs_engine *e) { return e->n_linear; }
size_t qs_engine_n_int(const qs_engine *e) { return e->n_int; }
const char *qs_engine_kernel_path(const qs_engine *e) { return e->k.name; }
size_t qs_engine_scratch_bytes(const qs_engine *e) { return e->scratch_bytes; }

void qs_engine_delete(qs_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_steps; i++) {
        qs_eng_step *s = &e->steps[i];
        free(s->packed);
        free(s->wabs);
        free(s->table);
        free(s->bias32);
        free(s->bias64);
        free(s->wt);
        free(s->bias);
    }
    free(e->steps);
    free(e->info);
    free(e->names);
    free(e->shapes);
    free(e);
}

/* The MASE path of the integer quantizer (RND_CONV + SAT) has a float form. */
static int is_mase_int(const qs_format_spec *s)
{
    return s->format == QS_FMT_INTEGER && s->round == QS_RND_CONV && s->overflow == QS_SAT;
}

/* The float constants of a MASE integer quantizer, exactly as format_quant.c forms them. */
static qs_eng_mq mase_consts(const qs_format_spec *s)
{
    int f = qs_format_spec_frac_width(s);
    double lo = s->is_signed ? -ldexp(1.0, s->width - 1) : 0.0;
    double hi = s->is_signed ? ldexp(1.0, s->width - 1) - 1.0 : ldexp(1.0, s->width) - 1.0;
    return (qs_eng_mq){ldexpf(1.0f, f), ldexpf(1.0f, -f), (float)lo, (float)hi};
}

/* Signed bits needed for an integer spec's stored values. */
static int signed_bits(const qs_format_spec *s) { return s->width + (s->is_signed ? 0 : 1); }

/* Largest |value| an integer spec stores. */
static double int_absmax(const qs_format_spec *s)
{
    return s->is_signed ? ldexp(1.0, s->width - 1) : ldexp(1.0, s->width) - 1.0;
}

static void kernels_for_path(qs_eng_kernels *k)
{
    const char *p = qs_kernels_active();
    k->name = p;
    if (strcmp(p, "avx512") == 0)
        *k = (qs_eng_kernels){qs_kernel_s8_avx512, qs_kernel_s16_avx512, qs_kernel_s16_i64_avx512, p};
    else if (strcmp(p, "avx2") == 0)
        *k = (qs_eng_kernels){qs_kernel_s8_avx2, qs_kernel_s16_avx2, qs_kernel_s16_i64_avx2, p};
    else
        *k = (qs_eng_kernels){qs_kernel_s8_ref, qs_kernel_s16_ref, qs_kernel_s16_i64_ref, p};
}

/* Why Linear layer lq cannot run integer (into buf), or NULL when it can. */
static const char *int_blocker(const qs_layer_quant *lq, char *buf, size_t cap)
{
    static const int limit[QS_TENSOR_COUNT] = {16, 16, 32};
    for (int r = 0; r < QS_TENSOR_COUNT; r++) {
        const char *role = qs_tensor_role_name((qs_tensor_role)r);
        if (!lq->quantized[r])
            snprintf(buf, cap, "%s is float", role);
        else if (lq->spec[r].format != QS_FMT_INTEGER)
            snprintf(buf, cap, "%s is %s", role, qs_format_get(lq->spec[r].format)->name);
        else if (signed_bits(&lq->spec[r]) > limit[r])
            snprintf(buf, cap, "%s wider than %d bits", role, limit[r]);
        else
            continue;
        return buf;
    }
    return NULL;
}

/* Scales of an integer layer: F = max(f_w + f_a, f_b), shifts sa (accumulator) and sb (bias),
 * and whether they fit int64 (bounds on |acc| and |bias| given). */
static int plan_scales(const qs_layer_quant *lq, double acc_max, double bias_max, qs_eng_step *s,
                       int *F_out, char *reason, size_t cap)
{
    int fa = qs_format_spec_frac_width(&lq->spec[QS_TENSOR_DATA_IN]);
    int fw = qs_format_spec_frac_width(&lq->spec[QS_TENSOR_WEIGHT]);
    int fb = qs_format_spec_frac_width(&lq->spec[QS_TENSOR_BIAS]);
    int F = fa + fw > fb ? fa + fw : fb, sa = F - fa - fw, sb = F - fb;
    double total = ldexp(acc_max, sa) + ldexp(bias_max, sb);
    if (F < -60 || F > 126 || sa > 62 || sb > 62) {
        snprintf(reason, cap, "output scale 2^-%d outside the engine's range", F);
        return 0;
    }
    if (total >= 0x1p62) {
        snprintf(reason, cap, "bias at scale 2^-%d needs more than 62 bits", F);
        return 0;
    }
    s->acc_mul = (int64_t)1 << sa;
    s->out_scale = ldexpf(1.0f, -F);
    s->fast32 = sa == 0 && total < 0x1p31;
    *F_out = F;
    return 1;
}

/* The LIN_INT step of prev for layer i packed with weight format spec, or NULL. */
static const qs_eng_step *reusable(const qs_engine *prev, size_t i, const qs_format_spec *spec, qs_kernel_fmt fmt)
{
    for (size_t k = 0; prev && k < prev->n_steps; k++) {
        const qs_eng_step *p = &prev->steps[k];
        if (p->kind == QS_ENG_LIN_INT && p->layer == i && p->pw.fmt == fmt &&
            memcmp(&p->wspec, spec, sizeof *spec) == 0)
            return p;
    }
    return NULL;
}

/* Packed weights of layer l in container fmt and the row sums of |q_w|: copied from
 * prev's step when it packed the same weights the same way, else quantized and packed. */
static qs_status pack_layer(const qs_layer *l, const qs_format_spec *sw, qs_kernel_fmt fmt, const qs_eng_step *prev,
                            qs_eng_step *s, qs_error *err)
{
    size_t in = l->in.c, out = l->out.c;
    s->packed_bytes = (qs_kernel_pack_size(fmt, (int)out, (int)in) + 63) / 64 * 64;
    s->packed = aligned_alloc(64, s->packed_bytes);
    s->wabs = malloc(out * sizeof *s->wabs);
    if (!s->packed || !s->wabs)
        return qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    s->wspec = *sw;
    if (prev) {
        memcpy(s->packed, prev->packed, s->packed_bytes);
        memcpy(s->wabs, prev->wabs, out * sizeof *s->wabs);
        s->pw = prev->pw;
        s->pw.data = (const uint8_t *)s->packed + (prev->pw.data - (const uint8_t *)prev->packed);
        return QS_OK;
    }
    int32_t *w = malloc(in * out * sizeof *w);
    qs_status st = w ? qs_quantize_to_int(sw, l->weight, w, in * out, err)
                     : qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    for (size_t o = 0; st == QS_OK && o < out; o++) {
        double row = 0;
        for (size_t k = 0; k < in; k++)
            row += fabs((double)w[o * in + k]);
        s->wabs[o] = row;
    }
    if (st == QS_OK)
        st = qs_kernel_pack_weights(&s->pw, fmt, (int)out, (int)in, w, s->packed, s->packed_bytes, err);
    free(w);
    return st;
}

/* Builds a LIN_INT step for layer i (l); *ok = 0 with info->reason when it must be emulated. */
static qs_status build_int_linear(const qs_layer *l, size_t i, const qs_layer_quant *lq, const qs_engine *prev,
                                  qs_eng_step *s, qs_engine_layer_info *info, int *ok, qs_error *err)
{
    size_t in = l->in.c, out = l->out.c;
    const qs_format_spec *sa = &lq->spec[QS_TENSOR_DATA_IN], *sw = &lq->spec[QS_TENSOR_WEIGHT];
    qs_kernel_plan plan;
    *ok = 0;
    QS_TRY(qs_kernel_plan_layer(&plan, signed_bits(sw), signed_bits(sa), (int)in, err));
    const qs_eng_step *same = reusable(prev, i, sw, plan.wfmt);
    QS_TRY(pack_layer(l, sw, plan.wfmt, same, s, err));
    int32_t *b = malloc(out * sizeof *b);
    qs_status st = b ? qs_quantize_to_int(&lq->spec[QS_TENSOR_BIAS], l->bias, b, out, err)
                     : qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    if (st) {
        free(b);
        return st;
    }
    double acc_max = 0, bias_max = 0, xmax = int_absmax(sa);
    for (size_t o = 0; o < out; o++) {
        acc_max = fmax(acc_max, s->wabs[o] * xmax);
        bias_max = fmax(bias_max, fabs((double)b[o]));
    }
    int F = 0;
    if (plan_scales(lq, acc_max, bias_max, s, &F, info->reason, sizeof info->reason)) {
        s->fast32 = s->fast32 && plan.op != QS_KOP_S16_I64; /* int64 accumulators stay int64 */
        s->bias32 = malloc(out * sizeof *s->bias32);
        s->bias64 = malloc(out * sizeof *s->bias64);
        if (!s->bias32 || !s->bias64)
            st = qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
        int fb = qs_format_spec_frac_width(&lq->spec[QS_TENSOR_BIAS]);
        for (size_t o = 0; st == QS_OK && o < out; o++) {
            s->bias64[o] = (int64_t)b[o] * ((int64_t)1 << (F - fb));
            s->bias32[o] = s->fast32 ? (int32_t)s->bias64[o] : 0; /* fits: see plan_scales */
        }
        if (st == QS_OK) {
            s->kind = QS_ENG_LIN_INT;
            s->layer = i;
            s->op = plan.op;
            s->width = in;
            s->out = out;
            *info = (qs_engine_layer_info){QS_ENGINE_RUN_INT, l->kind, plan.wfmt, plan.act_bits,
                                           plan.acc_bits, 1, F, same != NULL, ""};
            *ok = 1;
        }
    }
    free(b);
    return st;
}

/* Builds a LIN_FLOAT step: the emulation's quantized weight (transposed) and bias. */
static qs_status build_float_linear(const qs_layer *l, const qs_layer_quant *lq, qs_eng_step *s,
                                    qs_error *err)
{
    size_t in = l->in.c, out = l->out.c;
    float *wq = malloc(in * out * sizeof *wq);
    s->kind = QS_ENG_LIN_FLOAT;
    s->width = in;
    s->out = out;
    s->wt = malloc(in * out * sizeof *s->wt);
    s->bias = malloc(out * sizeof *s->bias);
    qs_status st = wq && s->wt && s->bias ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    size_t wshape[2] = {out, in}, bshape[1] = {out};
    if (st == QS_OK) {
        memcpy(wq, l->weight, in * out * sizeof *wq);
        memcpy(s->bias, l->bias, out * sizeof *s->bias);
        if (lq && lq->quantized[QS_TENSOR_WEIGHT])
            st = qs_quantize_shaped(&lq->spec[QS_TENSOR_WEIGHT], l->weight, wq, wshape, 2, err);
    }
    if (st == QS_OK && lq && lq->quantized[QS_TENSOR_BIAS])
        st = qs_quantize_shaped(&lq->spec[QS_TENSOR_BIAS], l->bias, s->bias, bshape, 1, err);
    if (st == QS_OK)
        qs_nn_transpose(wq, out, in, s->wt);
    free(wq);
    return st;
}

/* ---- step list ---- */

typedef struct {
    qs_engine *e;
    size_t cap;
    const qs_engine *prev; /* packings to reuse, or NULL */
} builder;

static qs_eng_step *push(builder *b, qs_eng_step_kind kind, size_t width)
{
    QS_ASSERT(b->e->n_steps < b->cap);
    qs_eng_step *s = &b->e->steps[b->e->n_steps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->width = width;
    return s;
}

/* The last step if it is an elementwise pass that can still take stage `stage`
 * (0 affine, 1 quantize, 2 relu, 3 to ints), in this order; else NULL. */
static qs_eng_step *open_ew(builder *b, int stage)
{
    if (!b->e->n_steps)
        return NULL;
    qs_eng_step *s = &b->e->steps[b->e->n_steps - 1];
    if (s->kind != QS_ENG_EW || s->toint)
        return NULL;
    int last = s->relu ? 2 : s->has_q ? 1 : s->scale ? 0 : -1;
    return stage > last ? s : NULL;
}

/* Quantizes the current floats with spec (fused when it is MASE's integer quantizer). */
static void add_quant(builder *b, const qs_format_spec *spec, size_t width)
{
    if (is_mase_int(spec)) {
        qs_eng_step *s = open_ew(b, 1);
        if (!s)
            s = push(b, QS_ENG_EW, width);
        s->has_q = 1;
        s->q = mase_consts(spec);
    } else {
        push(b, QS_ENG_QUANT, width)->spec = *spec;
    }
}

/* Converts the current floats to the ints of an integer Linear's input. */
static void add_toint(builder *b, const qs_format_spec *spec, size_t width, int act_bits)
{
    qs_eng_step *s;
    if (is_mase_int(spec)) {
        if (!(s = open_ew(b, 3)))
            s = push(b, QS_ENG_EW, width);
        s->toint = 1;
        s->qi = mase_consts(spec);
    } else {
        s = push(b, QS_ENG_TOINT, width);
        s->spec = *spec;
    }
    s->act16 = act_bits == 16;
}

static void free_int_step(qs_eng_step *s)
{
    free(s->packed), free(s->wabs), free(s->bias32), free(s->bias64);
}

static qs_status add_linear(builder *b, const qs_layer *l, size_t i, const qs_layer_quant *lq,
                            qs_engine_layer_info *info, qs_error *err)
{
    char whybuf[sizeof info->reason];
    const char *why = lq ? int_blocker(lq, whybuf, sizeof whybuf) : "data_in is float";
    b->e->n_linear++;
    if (!why) {
        qs_eng_step tmp;
        memset(&tmp, 0, sizeof tmp);
        int ok = 0;
        qs_status st = build_int_linear(l, i, lq, b->prev, &tmp, info, &ok, err);
        if (st) {
            free_int_step(&tmp);
            return st;
        }
        if (ok) {
            add_toint(b, &lq->spec[QS_TENSOR_DATA_IN], l->in.c, info->act_bits);
            *push(b, QS_ENG_LIN_INT, l->in.c) = tmp;
            b->e->n_int++;
            return QS_OK;
        }
        free_int_step(&tmp);
        why = info->reason;
    }
    char reason[sizeof info->reason];
    snprintf(reason, sizeof reason, "%s", why);
    *info = (qs_engine_layer_info){QS_ENGINE_RUN_EMULATE, l->kind, QS_KFMT_COUNT, 0, 0, 0, 0, 0, ""};
    snprintf(info->reason, sizeof info->reason, "%s", reason);
    if (lq && lq->quantized[QS_TENSOR_DATA_IN])
        add_quant(b, &lq->spec[QS_TENSOR_DATA_IN], l->in.c);
    return build_float_linear(l, lq, push(b, QS_ENG_LIN_FLOAT, l->in.c), err);
}

/* BN as the emulation computes it: y = x * scale + shift with model.c's float tables. */
static qs_status add_bn(builder *b, const qs_layer *l, qs_error *err)
{
    size_t c = l->in.c;
    qs_eng_step *s = push(b, QS_ENG_EW, c);
    if (!(s->table = malloc(2 * c * sizeof *s->table)))
        return qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    for (size_t j = 0; j < c; j++) {
        s->table[j] = l->gamma[j] / sqrtf(l->running_var[j] + l->eps);
        s->table[c + j] = l->beta[j] - l->running_mean[j] * s->table[j];
    }
    s->scale = s->table;
    s->shift = s->table + c;
    return QS_OK;
}

static void add_relu(builder *b, const qs_layer *l, const qs_layer_quant *lq)
{
    if (lq && lq->quantized[QS_TENSOR_DATA_IN])
        add_quant(b, &lq->spec[QS_TENSOR_DATA_IN], l->in.c);
    qs_eng_step *s = open_ew(b, 2);
    if (!s)
        s = push(b, QS_ENG_EW, l->in.c);
    s->relu = 1;
}

/* An elementwise pass to ints composes into one rounding and one clamp: with
 * t = rint(v * 2^f_q) (an integer), clamp(t, lo_q, hi_q) * 2^-f_q * 2^f_i is the integer
 * t * 2^(f_i - f_q) clamped to the scaled bounds (exact: a power-of-2 scale of an integer,
 * no rounding when f_i >= f_q), relu is a clamp at 0, and clamps compose into one when
 * their ranges meet. NaN: every form gives 0; -0 gives 0. */
static void compose_ew(qs_eng_step *s)
{
    float fs = s->qi.s, fm = 1.0f, lo = s->qi.lo, hi = s->qi.hi;
    if (s->has_q) {
        fs = s->q.s;
        fm = s->q.inv * s->qi.s; /* 2^(f_i - f_q), exact */
        if (!(fm >= 1.0f && fm <= 0x1p30f))
            return;
        lo = fmaxf(s->q.lo * fm, lo);
        hi = fminf(s->q.hi * fm, hi);
    }
    if (s->relu)
        lo = fmaxf(lo, 0.0f);
    if (!(lo <= hi))
        return;
    s->fast = 1;
    s->fs = fs, s->fm = fm, s->flo = lo, s->fhi = hi;
}

static qs_status check_cfg(const qs_model *m, const qs_quant_config *cfg, qs_error *err)
{
    if (cfg->n_layers != m->n_layers)
        return qs_error_set(err, QS_ERR_INPUT, "engine: config has %zu layers, model %s has %zu",
                            cfg->n_layers, m->arch, m->n_layers);
    for (size_t i = 0; i < m->n_layers; i++)
        for (int r = 0; r < QS_TENSOR_COUNT; r++)
            if (cfg->layers[i].quantized[r]) {
                qs_status st = qs_format_spec_validate(&cfg->layers[i].spec[r], err);
                if (st) {
                    qs_error_prefix(err, "engine: %s %s", m->layers[i].name,
                                    qs_tensor_role_name((qs_tensor_role)r));
                    return st;
                }
            }
    return QS_OK;
}

static size_t align64(size_t n) { return (n + 63) / 64 * 64; }

/* Scratch: two float buffers, one int16 activation buffer, one int64 accumulator buffer,
 * one int32 buffer for generic to-int conversions; each [CHUNK][max_width]. */
static size_t scratch_size(size_t max_width)
{
    size_t rw = (size_t)QS_ENGINE_CHUNK * max_width;
    return 2 * align64(rw * sizeof(float)) + align64(rw * sizeof(int16_t)) +
           align64(rw * sizeof(int64_t)) + align64(rw * sizeof(int32_t));
}

static qs_status build_steps(qs_engine *e, const qs_model *m, const qs_quant_config *cfg,
                             const qs_engine *prev, qs_error *err)
{
    builder b = {e, MAX_STEPS_PER_LAYER * m->n_layers + 1, prev};
    if (!(e->steps = calloc(b.cap, sizeof *e->steps)))
        return qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    for (size_t i = 0; i < m->n_layers; i++) {
        const qs_layer *l = &m->layers[i];
        const qs_layer_quant *lq = cfg ? &cfg->layers[i] : NULL;
        qs_engine_layer_info *info = &e->info[i];
        *info = (qs_engine_layer_info){QS_ENGINE_RUN_EMULATE, l->kind, QS_KFMT_COUNT, 0, 0, 0, 0, 0, ""};
        snprintf(e->names[i], sizeof e->names[i], "%s", l->name);
        e->shapes[i][0] = l->in.c * l->in.h * l->in.w;
        e->shapes[i][1] = l->out.c * l->out.h * l->out.w;
        if (l->in.h * l->in.w != 1 || l->out.h * l->out.w != 1)
            return qs_error_set(err, QS_ERR_UNSUPPORTED, "engine: %s: only 1-D layers", l->name);
        if (l->kind == QS_LAYER_LINEAR)
            QS_TRY(add_linear(&b, l, i, lq, info, err));
        else if (l->kind == QS_LAYER_BATCHNORM1D)
            QS_TRY(add_bn(&b, l, err));
        else if (l->kind == QS_LAYER_RELU)
            add_relu(&b, l, lq);
        else
            return qs_error_set(err, QS_ERR_UNSUPPORTED, "engine: %s: unsupported layer kind", l->name);
    }
    for (size_t i = 0; i < e->n_steps; i++)
        if (e->steps[i].kind == QS_ENG_EW && e->steps[i].toint)
            compose_ew(&e->steps[i]);
    return QS_OK;
}

qs_status qs_engine_new(qs_engine **out, const qs_model *m, const qs_quant_config *cfg,
                        qs_error *err)
{
    return qs_engine_new_reuse(out, m, cfg, NULL, err);
}

qs_status qs_engine_new_reuse(qs_engine **out, const qs_model *m, const qs_quant_config *cfg,
                              const qs_engine *prev, qs_error *err)
{
    *out = NULL;
    if (cfg)
        QS_TRY(check_cfg(m, cfg, err));
    qs_engine *e = calloc(1, sizeof *e);
    if (!e)
        return qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    e->source = m;
    e->n_layers = m->n_layers;
    e->in_features = m->in_features;
    e->classes = m->classes;
    e->max_width = m->max_width;
    e->info = calloc(m->n_layers ? m->n_layers : 1, sizeof *e->info);
    e->names = calloc(m->n_layers ? m->n_layers : 1, sizeof *e->names);
    e->shapes = calloc(m->n_layers ? m->n_layers : 1, sizeof *e->shapes);
    qs_status st = e->info && e->names && e->shapes ? QS_OK
                                                    : qs_error_set(err, QS_ERR_NOMEM, "engine: out of memory");
    if (st == QS_OK) {
        kernels_for_path(&e->k);
        qs_eng_select_simd(e);
        /* only an engine of this very model, on the same kernel path, has packings to share */
        int same = prev && prev->source == (const void *)m && prev->n_layers == m->n_layers &&
                   strcmp(prev->k.name, e->k.name) == 0;
        st = build_steps(e, m, cfg, same ? prev : NULL, err);
    }
    if (st) {
        qs_engine_delete(e);
        return st;
    }
    e->scratch_bytes = scratch_size(e->max_width);
    *out = e;
    return QS_OK;
}

char *qs_engine_describe(const qs_engine *e, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t i = 0; i < e->n_layers && len < cap; i++) {
        const qs_engine_layer_info *f = &e->info[i];
        if (f->kind != QS_LAYER_LINEAR)
            continue;
        int w;
        if (f->run == QS_ENGINE_RUN_INT)
            w = snprintf(buf + len, cap - len,
                         "%s linear %zu->%zu: int (%s weights, int%d acts, int%d acc, 2^-%d, %s)\n",
                         e->names[i], e->shapes[i][0], e->shapes[i][1], qs_kernel_fmt_name(f->wfmt),
                         f->act_bits, f->acc_bits, f->out_shift, e->k.name);
        else
            w = snprintf(buf + len, cap - len, "%s linear %zu->%zu: emulate (%s)\n", e->names[i],
                         e->shapes[i][0], e->shapes[i][1], f->reason);
        if (w < 0)
            break;
        len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    return buf;
}
