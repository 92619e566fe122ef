/* Energy and power: measured with RAPL (Linux powercap) or NVML (NVIDIA GPUs,
 * loaded at run time), or estimated with a per-operation energy model
 * (Horowitz, ISSCC 2014, 45 nm). A meter that cannot measure says why
 * ("not available: ...") instead of failing. See docs/metrics.md, "Energy". */
#ifndef QSEARCH_ENERGY_H
#define QSEARCH_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/status.h"

#define QS_ENERGY_NOTE_MAX 512

/* ---- RAPL through /sys/class/powercap ---------------------------------- */

#define QS_RAPL_MAX_DOMAINS 32

typedef struct {
    char name[64];          /* contents of the domain's `name`: "package-0", "core", "dram" ... */
    char path[512];         /* the domain directory */
    int parent;             /* index of the package domain, -1 for a package itself */
    int counted;            /* 1: part of the total (packages and dram) */
    uint64_t max_range_uj;  /* max_energy_range_uj: the counter wraps after this value */
    uint64_t last_uj;       /* last energy_uj read */
    double joules;          /* energy accumulated since qs_rapl_start */
} qs_rapl_domain;

typedef struct {
    int available;                      /* 0: reason says why */
    char reason[QS_ENERGY_NOTE_MAX];    /* why not available, or what was left out */
    int n;
    qs_rapl_domain dom[QS_RAPL_MAX_DOMAINS];
    double t0_s, t_s;                   /* monotonic start, and seconds at the last read */
} qs_rapl;

/* Discovers intel-rapl:N package domains under root (NULL: /sys/class/powercap)
 * and their core/uncore/dram sub-domains (intel-rapl:N:M inside them), and
 * checks that every one can be read. Absent or unreadable packages make it
 * "not available" (r->available = 0, r->reason) and still return QS_OK; an
 * unreadable sub-domain is left out and named in r->reason. */
qs_status qs_rapl_open(qs_rapl *r, const char *root, qs_error *err);

/* Reads every domain's counter as the starting point. */
qs_status qs_rapl_start(qs_rapl *r, qs_error *err);

/* Reads the counters and adds the increase since the last read (one
 * wrap-around at max_energy_range_uj allowed); call it at least once per
 * wrap period (minutes) in long regions. A read failing now is QS_ERR_IO. */
qs_status qs_rapl_poll(qs_rapl *r, qs_error *err);

/* Polls, then returns the joules of counted domains since start and the seconds elapsed. */
qs_status qs_rapl_stop(qs_rapl *r, double *joules, double *seconds, qs_error *err);

/* ---- NVML (libnvidia-ml.so.1 through dlopen) ----------------------------- */

#define QS_NVML_MAX_DEVICES 16

typedef struct qs_nvml qs_nvml;

typedef struct {
    unsigned devices;
    double joules;           /* all devices, from total-energy counters or integrated power */
    double seconds;
    double watts;            /* joules / seconds */
    double gpu_util[QS_NVML_MAX_DEVICES]; /* percent, as last reported by the driver */
    double mem_util[QS_NVML_MAX_DEVICES];
    double power_w[QS_NVML_MAX_DEVICES];  /* power at stop */
    int energy_counter;      /* 1: every device had a total-energy counter */
    char note[QS_ENERGY_NOTE_MAX];
} qs_nvml_reading;

/* Loads libname (NULL: "libnvidia-ml.so.1"), initialises NVML and finds the
 * devices. Never fails for lack of a GPU or library: *out is then a handle
 * that is not available, with the reason. QS_ERR_NOMEM only. */
qs_status qs_nvml_new(qs_nvml **out, const char *libname, qs_error *err);

/* Shuts NVML down and unloads it; h may be NULL. */
void qs_nvml_delete(qs_nvml *h);

/* 1 when usable; *reason (may be NULL) receives why not, or "". */
int qs_nvml_available(const qs_nvml *h, const char **reason);

/* Number of devices and the name of device i ("" out of range). */
unsigned qs_nvml_device_count(const qs_nvml *h);
const char *qs_nvml_device_name(const qs_nvml *h, unsigned i);

/* Starts a region: energy counters (or a first power sample). */
qs_status qs_nvml_start(qs_nvml *h, qs_error *err);

/* Takes a power sample (for devices without an energy counter); cheap. */
qs_status qs_nvml_poll(qs_nvml *h, qs_error *err);

/* Ends the region: energy, average power, utilisation. */
qs_status qs_nvml_stop(qs_nvml *h, qs_nvml_reading *out, qs_error *err);

/* ---- Per-operation energy model ----------------------------------------- */

typedef enum { QS_MEM_SRAM = 0, QS_MEM_DRAM = 1 } qs_mem_level;

/* Operation counts of one layer, per input sample; the static-metrics code fills these. */
typedef struct {
    const char *name;        /* layer name, for messages and the per-layer result */
    double int_macs;         /* integer multiply-accumulates */
    int weight_bits;         /* multiplier operand widths of int_macs (1..64) */
    int act_bits;
    int acc_bits;            /* accumulator adder width (1..64) */
    double int_adds;         /* other integer additions (bias, requantisation) */
    int add_bits;            /* their width (1..64; ignored when int_adds = 0) */
    double fp_macs;          /* float multiply-accumulates (a mult and an add each) */
    double fp_adds, fp_mults; /* other float operations (bias add, BN, ReLU as an add) */
    int fp_bits;             /* float width of all fp_* (16 or 32 from the table; 2..64 scaled) */
    double param_bits_read;  /* parameter bits read from memory */
    qs_mem_level param_mem;
    double act_bits_moved;   /* activation bits read plus written */
    qs_mem_level act_mem;
} qs_energy_layer_ops;

typedef struct {
    double compute_j;        /* arithmetic */
    double memory_j;         /* parameter and activation traffic */
    double joules;           /* compute_j + memory_j, per sample */
} qs_energy_layer_result;

/* Horowitz 45 nm table (pJ) and the scaling rules of docs/metrics.md. */
double qs_energy_int_mult_pj(int bits_a, int bits_b);
double qs_energy_int_add_pj(int bits);
double qs_energy_fp_mult_pj(int bits);
double qs_energy_fp_add_pj(int bits);
double qs_energy_mem_pj_per_bit(qs_mem_level level);

/* Estimates n layers: per-layer results into layer_out [n] (may be NULL)
 * and the per-sample total into *joules_per_sample. A width out of range or
 * a negative/non-finite count is QS_ERR_INPUT naming the layer and field. */
qs_status qs_energy_model(const qs_energy_layer_ops *layers, size_t n,
                          qs_energy_layer_result *layer_out, double *joules_per_sample,
                          qs_error *err);

/* ---- One result, measured when possible ---------------------------------- */

typedef enum {
    QS_ENERGY_NONE = 0,  /* nothing measured and no model given */
    QS_ENERGY_RAPL,
    QS_ENERGY_NVML,
    QS_ENERGY_MODEL
} qs_energy_source;

typedef struct {
    double joules;            /* over the region (model: per sample x samples) */
    double joules_per_sample; /* joules / samples */
    double watts;             /* joules / seconds */
    double seconds;           /* wall time of the region */
    qs_energy_source source;
    char note[QS_ENERGY_NOTE_MAX]; /* what was measured, or why it was not */
} qs_energy;

/* "rapl" | "nvml" | "model" | "none". */
const char *qs_energy_source_name(qs_energy_source s);

typedef enum {
    QS_ENERGY_TARGET_CPU = 0, /* the work runs on the CPU: RAPL, else the model */
    QS_ENERGY_TARGET_GPU = 1  /* the work runs on a GPU: NVML, else the model */
} qs_energy_target;

typedef struct {
    qs_energy_target target;
    const char *rapl_root;    /* NULL: /sys/class/powercap */
    const char *nvml_lib;     /* NULL: libnvidia-ml.so.1 */
    int model_only;           /* 1: never measure (reproducible numbers) */
} qs_energy_meter_options;

typedef struct qs_energy_meter qs_energy_meter;

/* Opens the meter for opt (NULL: CPU target, default paths). Absent sources are not errors. */
qs_status qs_energy_meter_new(qs_energy_meter **out, const qs_energy_meter_options *opt,
                              qs_error *err);
void qs_energy_meter_delete(qs_energy_meter *m);

/* Source the meter will use when measuring, and the reasons the others were not taken. */
qs_energy_source qs_energy_meter_source(const qs_energy_meter *m, const char **note);

qs_status qs_energy_meter_start(qs_energy_meter *m, qs_error *err);

/* Ends the region in which `samples` inputs were processed (> 0). Measured
 * energy when the meter has a source; otherwise model_j_per_sample (< 0 or
 * NaN: no model, source "none") times samples. */
qs_status qs_energy_meter_stop(qs_energy_meter *m, double samples, double model_j_per_sample,
                               qs_energy *out, qs_error *err);

#endif
