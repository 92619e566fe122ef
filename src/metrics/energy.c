/* Per-operation energy model (Horowitz, ISSCC 2014, 45 nm) and the energy
 * meter that prefers a measurement (RAPL on CPU, NVML on GPU) over it.
 * Scaling rules between table entries are in docs/metrics.md, "Energy model". */
#include "qsearch/energy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Horowitz 45 nm, pJ per operation. */
#define PJ_INT8_ADD 0.03
#define PJ_INT32_ADD 0.1
#define PJ_INT8_MULT 0.2
#define PJ_INT32_MULT 3.1
#define PJ_FP16_ADD 0.4
#define PJ_FP16_MULT 1.1
#define PJ_FP32_ADD 0.9
#define PJ_FP32_MULT 3.7
#define PJ_SRAM_READ32 5.0   /* 32-bit read, 8 KB SRAM */
#define PJ_DRAM_READ32 640.0 /* 32-bit DRAM read */

/* Power laws through the two table points of each operation:
 * E(x) = E(x0) * (x / x0)^p with p = ln(E(x1)/E(x0)) / ln(x1/x0). */
double qs_energy_int_mult_pj(int bits_a, int bits_b)
{
    /* x = a*b (operand product: ~quadratic in width); x0 = 8*8, x1 = 32*32. */
    double p = log(PJ_INT32_MULT / PJ_INT8_MULT) / log(16.0);
    return PJ_INT8_MULT * pow((double)bits_a * bits_b / 64.0, p);
}

double qs_energy_int_add_pj(int bits)
{
    double p = log(PJ_INT32_ADD / PJ_INT8_ADD) / log(4.0);
    return PJ_INT8_ADD * pow(bits / 8.0, p);
}

double qs_energy_fp_mult_pj(int bits)
{
    double p = log(PJ_FP32_MULT / PJ_FP16_MULT) / log(2.0);
    return PJ_FP16_MULT * pow(bits / 16.0, p);
}

double qs_energy_fp_add_pj(int bits)
{
    double p = log(PJ_FP32_ADD / PJ_FP16_ADD) / log(2.0);
    return PJ_FP16_ADD * pow(bits / 16.0, p);
}

double qs_energy_mem_pj_per_bit(qs_mem_level level)
{
    return (level == QS_MEM_DRAM ? PJ_DRAM_READ32 : PJ_SRAM_READ32) / 32.0;
}

static qs_status check_count(const char *layer, size_t i, const char *field, double v,
                             qs_error *err)
{
    if (!isfinite(v) || v < 0)
        return qs_error_set(err, QS_ERR_INPUT, "energy model: layer %zu (%s): %s = %g: "
                            "must be a finite count >= 0", i, layer, field, v);
    return QS_OK;
}

static qs_status check_bits(const char *layer, size_t i, const char *field, int b, int lo,
                            qs_error *err)
{
    if (b < lo || b > 64)
        return qs_error_set(err, QS_ERR_INPUT, "energy model: layer %zu (%s): %s = %d: "
                            "must be in %d..64", i, layer, field, b, lo);
    return QS_OK;
}

static qs_status check_layer(const qs_energy_layer_ops *l, size_t i, qs_error *err)
{
    const char *nm = l->name ? l->name : "?";
    QS_TRY(check_count(nm, i, "int_macs", l->int_macs, err));
    QS_TRY(check_count(nm, i, "int_adds", l->int_adds, err));
    QS_TRY(check_count(nm, i, "fp_macs", l->fp_macs, err));
    QS_TRY(check_count(nm, i, "fp_adds", l->fp_adds, err));
    QS_TRY(check_count(nm, i, "fp_mults", l->fp_mults, err));
    QS_TRY(check_count(nm, i, "param_bits_read", l->param_bits_read, err));
    QS_TRY(check_count(nm, i, "act_bits_moved", l->act_bits_moved, err));
    if (l->int_macs > 0) {
        QS_TRY(check_bits(nm, i, "weight_bits", l->weight_bits, 1, err));
        QS_TRY(check_bits(nm, i, "act_bits", l->act_bits, 1, err));
        QS_TRY(check_bits(nm, i, "acc_bits", l->acc_bits, 1, err));
    }
    if (l->int_adds > 0)
        QS_TRY(check_bits(nm, i, "add_bits", l->add_bits, 1, err));
    if (l->fp_macs > 0 || l->fp_adds > 0 || l->fp_mults > 0)
        QS_TRY(check_bits(nm, i, "fp_bits", l->fp_bits, 2, err));
    if ((l->param_mem != QS_MEM_SRAM && l->param_mem != QS_MEM_DRAM) ||
        (l->act_mem != QS_MEM_SRAM && l->act_mem != QS_MEM_DRAM))
        return qs_error_set(err, QS_ERR_INPUT, "energy model: layer %zu (%s): memory level "
                            "must be SRAM or DRAM", i, nm);
    return QS_OK;
}

static qs_energy_layer_result layer_energy(const qs_energy_layer_ops *l)
{
    double pj = 0.0;
    if (l->int_macs > 0)
        pj += l->int_macs * (qs_energy_int_mult_pj(l->weight_bits, l->act_bits) +
                             qs_energy_int_add_pj(l->acc_bits));
    if (l->int_adds > 0)
        pj += l->int_adds * qs_energy_int_add_pj(l->add_bits);
    if (l->fp_macs > 0 || l->fp_adds > 0 || l->fp_mults > 0) {
        double a = qs_energy_fp_add_pj(l->fp_bits), m = qs_energy_fp_mult_pj(l->fp_bits);
        pj += l->fp_macs * (a + m) + l->fp_adds * a + l->fp_mults * m;
    }
    double mem = l->param_bits_read * qs_energy_mem_pj_per_bit(l->param_mem) +
                 l->act_bits_moved * qs_energy_mem_pj_per_bit(l->act_mem);
    qs_energy_layer_result r;
    r.compute_j = pj * 1e-12;
    r.memory_j = mem * 1e-12;
    r.joules = r.compute_j + r.memory_j;
    return r;
}

qs_status qs_energy_model(const qs_energy_layer_ops *layers, size_t n,
                          qs_energy_layer_result *layer_out, double *joules_per_sample,
                          qs_error *err)
{
    *joules_per_sample = 0.0;
    if (n > 0 && !layers)
        return qs_error_set(err, QS_ERR_USAGE, "energy model: no layers");
    for (size_t i = 0; i < n; i++)
        QS_TRY(check_layer(&layers[i], i, err));
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        qs_energy_layer_result r = layer_energy(&layers[i]);
        if (layer_out)
            layer_out[i] = r;
        total += r.joules;
    }
    *joules_per_sample = total;
    return QS_OK;
}

const char *qs_energy_source_name(qs_energy_source s)
{
    switch (s) {
    case QS_ENERGY_RAPL: return "rapl";
    case QS_ENERGY_NVML: return "nvml";
    case QS_ENERGY_MODEL: return "model";
    default: return "none";
    }
}

/* ---- meter ---------------------------------------------------------------- */

struct qs_energy_meter {
    qs_energy_meter_options opt;
    qs_energy_source source; /* RAPL, NVML or NONE (then the model, if given) */
    char note[QS_ENERGY_NOTE_MAX];
    qs_rapl rapl;
    qs_nvml *nvml;
    double t0_s;
    int started;
};

/* snprintf that truncates silently (a cut note is fine). */
static void sfmt(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void sfmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

qs_status qs_energy_meter_new(qs_energy_meter **out, const qs_energy_meter_options *opt,
                              qs_error *err)
{
    qs_energy_meter *m = calloc(1, sizeof *m);
    *out = m;
    if (!m)
        return qs_error_set(err, QS_ERR_NOMEM, "energy meter");
    if (opt)
        m->opt = *opt;
    m->source = QS_ENERGY_NONE;
    if (m->opt.model_only) {
        sfmt(m->note, sizeof m->note, "measurement turned off");
        return QS_OK;
    }
    if (m->opt.target == QS_ENERGY_TARGET_GPU) {
        qs_status st = qs_nvml_new(&m->nvml, m->opt.nvml_lib, err);
        if (st != QS_OK)
            return st;
        const char *why;
        if (qs_nvml_available(m->nvml, &why))
            m->source = QS_ENERGY_NVML;
        sfmt(m->note, sizeof m->note, "%s", why);
        return QS_OK;
    }
    /* CPU work: RAPL only. A GPU's power says nothing about a CPU forward pass. */
    QS_TRY(qs_rapl_open(&m->rapl, m->opt.rapl_root, err));
    if (m->rapl.available)
        m->source = QS_ENERGY_RAPL;
    sfmt(m->note, sizeof m->note, "%s", m->rapl.reason);
    return QS_OK;
}

void qs_energy_meter_delete(qs_energy_meter *m)
{
    if (!m)
        return;
    qs_nvml_delete(m->nvml);
    free(m);
}

qs_energy_source qs_energy_meter_source(const qs_energy_meter *m, const char **note)
{
    if (note)
        *note = m->note;
    return m->source;
}

qs_status qs_energy_meter_start(qs_energy_meter *m, qs_error *err)
{
    if (m->source == QS_ENERGY_RAPL)
        QS_TRY(qs_rapl_start(&m->rapl, err));
    else if (m->source == QS_ENERGY_NVML)
        QS_TRY(qs_nvml_start(m->nvml, err));
    m->t0_s = mono_s();
    m->started = 1;
    return QS_OK;
}

static void model_result(const qs_energy_meter *m, double samples, double jps, qs_energy *out)
{
    if (isfinite(jps) && jps >= 0) {
        out->source = QS_ENERGY_MODEL;
        out->joules_per_sample = jps;
        out->joules = jps * samples;
        out->watts = out->seconds > 0 ? out->joules / out->seconds : 0.0;
        sfmt(out->note, sizeof out->note,
                 "estimated with the per-operation model (Horowitz 45 nm)%s%s",
                 m->note[0] ? "; " : "", m->note);
    } else {
        out->source = QS_ENERGY_NONE;
        out->joules = out->joules_per_sample = out->watts = NAN;
        sfmt(out->note, sizeof out->note, "no measurement and no model%s%s",
                 m->note[0] ? ": " : "", m->note);
    }
}

qs_status qs_energy_meter_stop(qs_energy_meter *m, double samples, double model_j_per_sample,
                               qs_energy *out, qs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!m->started)
        return qs_error_set(err, QS_ERR_USAGE, "energy meter: stop without start");
    if (!(samples > 0))
        return qs_error_set(err, QS_ERR_USAGE, "energy meter: samples must be > 0");
    m->started = 0;
    out->seconds = mono_s() - m->t0_s;
    if (m->source == QS_ENERGY_RAPL) {
        QS_TRY(qs_rapl_stop(&m->rapl, &out->joules, &out->seconds, err));
        out->source = QS_ENERGY_RAPL;
        int pk = 0, dram = 0;
        for (int i = 0; i < m->rapl.n; i++) {
            pk += m->rapl.dom[i].counted && m->rapl.dom[i].parent < 0;
            dram += m->rapl.dom[i].counted && m->rapl.dom[i].parent >= 0;
        }
        sfmt(out->note, sizeof out->note,
                 "RAPL: %d package(s) + %d dram domain(s), whole sockets (other work on them "
                 "included)%s%s", pk, dram, m->note[0] ? "; " : "", m->note);
    } else if (m->source == QS_ENERGY_NVML) {
        qs_nvml_reading r;
        QS_TRY(qs_nvml_stop(m->nvml, &r, err));
        out->source = QS_ENERGY_NVML;
        out->joules = r.joules;
        out->seconds = r.seconds;
        sfmt(out->note, sizeof out->note, "%s", r.note);
    } else {
        model_result(m, samples, model_j_per_sample, out);
        return QS_OK;
    }
    out->joules_per_sample = out->joules / samples;
    out->watts = out->seconds > 0 ? out->joules / out->seconds : 0.0;
    return QS_OK;
}
