/* NVIDIA GPU power, energy and utilisation through NVML, loaded at run time
 * (no NVML header or library needed to build; absent library = not available).
 * Only the few NVML types and entry points used are declared here. */
#include "qsearch/energy.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvml_ret;                    /* nvmlReturn_t: 0 = NVML_SUCCESS */
typedef struct nvml_device_st *nvml_dev; /* nvmlDevice_t, opaque */
typedef struct {
    unsigned int gpu, memory;            /* nvmlUtilization_t, percent */
} nvml_util;

typedef struct {
    nvml_ret (*init)(void);
    nvml_ret (*shutdown)(void);
    const char *(*error_string)(nvml_ret);
    nvml_ret (*count)(unsigned int *);
    nvml_ret (*handle)(unsigned int, nvml_dev *);
    nvml_ret (*name)(nvml_dev, char *, unsigned int);
    nvml_ret (*power)(nvml_dev, unsigned int *);                   /* milliwatts */
    nvml_ret (*energy)(nvml_dev, unsigned long long *);            /* millijoules, Volta+ */
    nvml_ret (*util)(nvml_dev, nvml_util *);
} nvml_api;

struct qs_nvml {
    void *lib;
    int initialised;
    int available;
    char reason[QS_ENERGY_NOTE_MAX];
    nvml_api api;
    unsigned n;
    nvml_dev dev[QS_NVML_MAX_DEVICES];
    char name[QS_NVML_MAX_DEVICES][96];
    int has_energy[QS_NVML_MAX_DEVICES];
    unsigned long long e0_mj[QS_NVML_MAX_DEVICES];
    double integ_j[QS_NVML_MAX_DEVICES]; /* trapezoid-integrated power, for devices without a counter */
    double last_w[QS_NVML_MAX_DEVICES];
    double t0_s, last_s;
    int polls;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* dlsym into a function pointer without the object-to-function cast ISO C forbids. */
static int sym(void *lib, const char *name, void *fnptr, size_t size)
{
    void *p = dlsym(lib, name);
    if (!p)
        return -1;
    memcpy(fnptr, &p, size);
    return 0;
}

static void unavailable(qs_nvml *h, const char *fmt, ...)
{
    h->available = 0;
    int len = snprintf(h->reason, sizeof h->reason, "NVML not available: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->reason + len, sizeof h->reason - (size_t)len, fmt, ap);
    va_end(ap);
}

static const char *nvml_err(const qs_nvml *h, nvml_ret rc)
{
    const char *s = h->api.error_string ? h->api.error_string(rc) : NULL;
    return s ? s : "unknown NVML error";
}

static int load_api(qs_nvml *h)
{
    nvml_api *a = &h->api;
#define QS_SYM(field, name)                                               \
    if (sym(h->lib, name, &a->field, sizeof a->field) != 0) {             \
        unavailable(h, "%s lacks %s", "the NVML library", name);          \
        return -1;                                                        \
    }
    QS_SYM(init, "nvmlInit_v2")
    QS_SYM(shutdown, "nvmlShutdown")
    QS_SYM(error_string, "nvmlErrorString")
    QS_SYM(count, "nvmlDeviceGetCount_v2")
    QS_SYM(handle, "nvmlDeviceGetHandleByIndex_v2")
    QS_SYM(name, "nvmlDeviceGetName")
    QS_SYM(power, "nvmlDeviceGetPowerUsage")
    QS_SYM(util, "nvmlDeviceGetUtilizationRates")
#undef QS_SYM
    /* Optional: older drivers/GPUs have no total-energy counter. */
    if (sym(h->lib, "nvmlDeviceGetTotalEnergyConsumption", &a->energy, sizeof a->energy) != 0)
        a->energy = NULL;
    return 0;
}

static void find_devices(qs_nvml *h)
{
    unsigned int count = 0;
    nvml_ret rc = h->api.count(&count);
    if (rc != 0) {
        unavailable(h, "nvmlDeviceGetCount: %s", nvml_err(h, rc));
        return;
    }
    if (count == 0) {
        unavailable(h, "no GPU found by NVML");
        return;
    }
    for (unsigned i = 0; i < count && h->n < QS_NVML_MAX_DEVICES; i++) {
        nvml_dev d;
        if (h->api.handle(i, &d) != 0)
            continue; /* e.g. no permission for this device */
        unsigned k = h->n++;
        h->dev[k] = d;
        if (h->api.name(d, h->name[k], sizeof h->name[k]) != 0)
            snprintf(h->name[k], sizeof h->name[k], "GPU %u", i);
        unsigned long long e;
        h->has_energy[k] = h->api.energy && h->api.energy(d, &e) == 0;
    }
    if (h->n == 0) {
        unavailable(h, "no GPU handle could be opened");
        return;
    }
    h->available = 1;
}

qs_status qs_nvml_new(qs_nvml **out, const char *libname, qs_error *err)
{
    qs_nvml *h = calloc(1, sizeof *h);
    *out = h;
    if (!h)
        return qs_error_set(err, QS_ERR_NOMEM, "NVML handle");
    if (!libname)
        libname = "libnvidia-ml.so.1";
    h->lib = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
    if (!h->lib) {
        const char *e = dlerror();
        unavailable(h, "%s", e ? e : libname);
        return QS_OK;
    }
    if (load_api(h) != 0)
        return QS_OK;
    nvml_ret rc = h->api.init();
    if (rc != 0) {
        unavailable(h, "nvmlInit: %s", nvml_err(h, rc));
        return QS_OK;
    }
    h->initialised = 1;
    find_devices(h);
    return QS_OK;
}

void qs_nvml_delete(qs_nvml *h)
{
    if (!h)
        return;
    if (h->initialised)
        h->api.shutdown();
    if (h->lib)
        dlclose(h->lib);
    free(h);
}

int qs_nvml_available(const qs_nvml *h, const char **reason)
{
    if (reason)
        *reason = h ? h->reason : "NVML not available: no handle";
    return h && h->available;
}

unsigned qs_nvml_device_count(const qs_nvml *h)
{
    return h && h->available ? h->n : 0;
}

const char *qs_nvml_device_name(const qs_nvml *h, unsigned i)
{
    return h && h->available && i < h->n ? h->name[i] : "";
}

static qs_status sample_power(qs_nvml *h, double *w, qs_error *err)
{
    for (unsigned i = 0; i < h->n; i++) {
        unsigned int mw;
        nvml_ret rc = h->api.power(h->dev[i], &mw);
        if (rc != 0)
            return qs_error_set(err, QS_ERR_IO, "NVML: %s: power: %s", h->name[i], nvml_err(h, rc));
        w[i] = mw / 1000.0;
    }
    return QS_OK;
}

qs_status qs_nvml_start(qs_nvml *h, qs_error *err)
{
    if (!h || !h->available)
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s", h ? h->reason : "NVML: no handle");
    for (unsigned i = 0; i < h->n; i++) {
        h->integ_j[i] = 0.0;
        if (h->has_energy[i] && h->api.energy(h->dev[i], &h->e0_mj[i]) != 0)
            h->has_energy[i] = 0;
    }
    QS_TRY(sample_power(h, h->last_w, err));
    h->t0_s = h->last_s = mono_s();
    h->polls = 1;
    return QS_OK;
}

qs_status qs_nvml_poll(qs_nvml *h, qs_error *err)
{
    if (!h || !h->available)
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s", h ? h->reason : "NVML: no handle");
    double w[QS_NVML_MAX_DEVICES];
    QS_TRY(sample_power(h, w, err));
    double t = mono_s();
    for (unsigned i = 0; i < h->n; i++) {
        h->integ_j[i] += 0.5 * (w[i] + h->last_w[i]) * (t - h->last_s);
        h->last_w[i] = w[i];
    }
    h->last_s = t;
    h->polls++;
    return QS_OK;
}

qs_status qs_nvml_stop(qs_nvml *h, qs_nvml_reading *out, qs_error *err)
{
    memset(out, 0, sizeof *out);
    QS_TRY(qs_nvml_poll(h, err));
    out->devices = h->n;
    out->seconds = h->last_s - h->t0_s;
    out->energy_counter = 1;
    for (unsigned i = 0; i < h->n; i++) {
        unsigned long long e1;
        if (h->has_energy[i] && h->api.energy(h->dev[i], &e1) == 0 && e1 >= h->e0_mj[i]) {
            out->joules += (double)(e1 - h->e0_mj[i]) / 1000.0;
        } else {
            out->joules += h->integ_j[i];
            out->energy_counter = 0;
        }
        nvml_util u;
        if (h->api.util(h->dev[i], &u) == 0) {
            out->gpu_util[i] = u.gpu;
            out->mem_util[i] = u.memory;
        } else {
            out->gpu_util[i] = out->mem_util[i] = -1.0;
        }
        out->power_w[i] = h->last_w[i];
    }
    out->watts = out->seconds > 0 ? out->joules / out->seconds : 0.0;
    snprintf(out->note, sizeof out->note, "NVML: %u GPU(s) (%s%s), %s", h->n, h->name[0],
             h->n > 1 ? ", ..." : "",
             out->energy_counter ? "total-energy counters (mJ, updated by the driver)"
                                 : "power samples integrated (trapezoid)");
    return QS_OK;
}
