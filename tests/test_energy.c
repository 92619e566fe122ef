/* Energy: the RAPL reader on fake powercap trees written here (two packages,
 * sub-domains, one wrap-around, unreadable and malformed files, psys), the
 * energy meter's choice of source and its model fallback, NVML absent and
 * NVML through a fake libnvidia-ml compiled here, and the per-operation
 * model's arithmetic against hand-computed values. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/energy.h"

static char tmp_root[512];

static void make_dir(const char *fmt, const char *a)
{
    char p[768];
    snprintf(p, sizeof p, fmt, tmp_root, a);
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        fprintf(stderr, "mkdir %s: %s\n", p, strerror(errno));
}

/* Writes text to tmp_root/<rel>. */
static void put(const char *rel, const char *text)
{
    char p[768];
    snprintf(p, sizeof p, "%s/%s", tmp_root, rel);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void put_u64(const char *rel, unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu\n", v);
    put(rel, buf);
}

/* A fresh directory under $QS_TEST_TMP (or /tmp) named after the test. */
static void new_root(const char *name)
{
    const char *base = getenv("QS_TEST_TMP");
    snprintf(tmp_root, sizeof tmp_root, "%s/qs_energy_%s_%ld", base ? base : "/tmp", name,
             (long)getpid());
    make_dir("%s%s", "");
}

static void remove_root(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
}

static void domain(const char *rel, const char *name, unsigned long long e, unsigned long long max)
{
    char p[256];
    make_dir("%s/%s", rel);
    snprintf(p, sizeof p, "%s/name", rel);
    put(p, name);
    snprintf(p, sizeof p, "%s/energy_uj", rel);
    put_u64(p, e);
    snprintf(p, sizeof p, "%s/max_energy_range_uj", rel);
    put_u64(p, max);
}

#define MAXR 262143328850ULL

/* Two packages (package-1 wraps), core and dram under package-0, and a dram
 * under package-1 whose energy_uj cannot be read (a directory). */
static void build_tree(void)
{
    new_root("tree");
    make_dir("%s/%s", "intel-rapl"); /* the control type: not a domain */
    domain("intel-rapl:0", "package-0\n", 1000000, MAXR);
    domain("intel-rapl:0/intel-rapl:0:0", "core\n", 500000, MAXR);
    domain("intel-rapl:0/intel-rapl:0:1", "dram\n", 200000, MAXR);
    domain("intel-rapl:1", "package-1\n", MAXR - 1000000, MAXR);
    make_dir("%s/%s", "intel-rapl:1/intel-rapl:1:0");
    put("intel-rapl:1/intel-rapl:1:0/name", "dram\n");
    put_u64("intel-rapl:1/intel-rapl:1:0/max_energy_range_uj", MAXR);
    make_dir("%s/%s", "intel-rapl:1/intel-rapl:1:0/energy_uj"); /* reading it fails: EISDIR */
}

static void test_rapl_fake_tree(void)
{
    build_tree();
    qs_rapl r;
    qs_error err;
    CHECK_INT(qs_rapl_open(&r, tmp_root, &err), QS_OK);
    CHECK_INT(r.available, 1);
    CHECK_INT(r.n, 4);
    CHECK_STR(r.dom[0].name, "package-0");
    CHECK_STR(r.dom[1].name, "core");
    CHECK_STR(r.dom[2].name, "dram");
    CHECK_STR(r.dom[3].name, "package-1");
    CHECK_INT(r.dom[0].counted, 1);
    CHECK_INT(r.dom[1].counted, 0); /* core is inside the package */
    CHECK_INT(r.dom[2].counted, 1);
    CHECK_INT(r.dom[2].parent, 0);
    CHECK_INT(r.dom[3].parent, -1);
    CHECK_CONTAINS(r.reason, "intel-rapl:1:0/energy_uj");
    CHECK_INT(r.dom[3].max_range_uj, MAXR);

    CHECK_INT(qs_rapl_start(&r, &err), QS_OK);
    /* +2.5 J package-0, +1 J core (not counted), +0.5 J dram, package-1 wraps: +3 J. */
    put_u64("intel-rapl:0/energy_uj", 3500000);
    put_u64("intel-rapl:0/intel-rapl:0:0/energy_uj", 1500000);
    put_u64("intel-rapl:0/intel-rapl:0:1/energy_uj", 700000);
    put_u64("intel-rapl:1/energy_uj", 2000000);
    CHECK_INT(qs_rapl_poll(&r, &err), QS_OK);
    CHECK_NEAR(r.dom[3].joules, 3.0, 1e-9);
    /* A second interval accumulates: +1 J on package-0. */
    put_u64("intel-rapl:0/energy_uj", 4500000);
    double j, s;
    CHECK_INT(qs_rapl_stop(&r, &j, &s, &err), QS_OK);
    CHECK_NEAR(j, 2.5 + 1.0 + 0.5 + 3.0, 1e-9);
    CHECK_NEAR(r.dom[1].joules, 1.0, 1e-9);
    CHECK(s >= 0);

    /* A counter that turns into garbage mid-run is an I/O error naming the file. */
    put("intel-rapl:0/energy_uj", "abc\n");
    CHECK_INT(qs_rapl_poll(&r, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, "intel-rapl:0/energy_uj:1: not an unsigned integer");
    remove_root();
}

static void test_rapl_not_available(void)
{
    qs_rapl r;
    qs_error err;
    /* No such root. */
    CHECK_INT(qs_rapl_open(&r, "/nonexistent/powercap", &err), QS_OK);
    CHECK_INT(r.available, 0);
    CHECK_CONTAINS(r.reason, "RAPL not available");
    CHECK_CONTAINS(r.reason, "/nonexistent/powercap");
    CHECK_INT(qs_rapl_start(&r, &err), QS_ERR_UNSUPPORTED);

    /* An empty powercap (a VM). */
    new_root("empty");
    CHECK_INT(qs_rapl_open(&r, tmp_root, &err), QS_OK);
    CHECK_INT(r.available, 0);
    CHECK_CONTAINS(r.reason, "no intel-rapl:N domain");
    remove_root();

    /* A package whose counter cannot be read: not available, naming the file. */
    new_root("unreadable");
    domain("intel-rapl:0", "package-0\n", 1, MAXR);
    make_dir("%s/%s", "intel-rapl:1");
    put("intel-rapl:1/name", "package-1\n");
    put_u64("intel-rapl:1/max_energy_range_uj", MAXR);
    CHECK_INT(qs_rapl_open(&r, tmp_root, &err), QS_OK);
    CHECK_INT(r.available, 0);
    CHECK_CONTAINS(r.reason, "intel-rapl:1/energy_uj");
    remove_root();

    /* Malformed counter. */
    new_root("malformed");
    domain("intel-rapl:0", "package-0\n", 1, MAXR);
    put("intel-rapl:0/energy_uj", "-5\n");
    CHECK_INT(qs_rapl_open(&r, tmp_root, &err), QS_OK);
    CHECK_INT(r.available, 0);
    CHECK_CONTAINS(r.reason, "not an unsigned integer");
    remove_root();

    /* Only psys: overlaps everything, nothing to count. */
    new_root("psys");
    domain("intel-rapl:0", "psys\n", 1, MAXR);
    CHECK_INT(qs_rapl_open(&r, tmp_root, &err), QS_OK);
    CHECK_INT(r.available, 0);
    CHECK_CONTAINS(r.reason, "no package domain");
    remove_root();
}

static void test_meter_rapl_and_model(void)
{
    build_tree();
    qs_energy_meter_options o = {0};
    o.rapl_root = tmp_root;
    qs_energy_meter *m;
    qs_error err;
    CHECK_INT(qs_energy_meter_new(&m, &o, &err), QS_OK);
    CHECK_INT(qs_energy_meter_source(m, NULL), QS_ENERGY_RAPL);
    CHECK_INT(qs_energy_meter_start(m, &err), QS_OK);
    put_u64("intel-rapl:0/energy_uj", 3000000); /* +2 J */
    put_u64("intel-rapl:1/energy_uj", 1000000); /* wrap: +2 J */
    qs_energy e;
    CHECK_INT(qs_energy_meter_stop(m, 100, 1e-9, &e, &err), QS_OK);
    CHECK_INT(e.source, QS_ENERGY_RAPL);
    CHECK_STR(qs_energy_source_name(e.source), "rapl");
    CHECK_NEAR(e.joules, 4.0, 1e-9);
    CHECK_NEAR(e.joules_per_sample, 0.04, 1e-12);
    CHECK(e.seconds > 0);
    CHECK_NEAR(e.watts, e.joules / e.seconds, 1e-6 * e.watts);
    CHECK_CONTAINS(e.note, "2 package(s) + 1 dram");
    CHECK_INT(qs_energy_meter_stop(m, 100, 1e-9, &e, &err), QS_ERR_USAGE); /* not started */
    qs_energy_meter_delete(m);
    remove_root();

    /* No RAPL: the model, with the reason in the note. */
    o.rapl_root = "/nonexistent/powercap";
    CHECK_INT(qs_energy_meter_new(&m, &o, &err), QS_OK);
    const char *note;
    CHECK_INT(qs_energy_meter_source(m, &note), QS_ENERGY_NONE);
    CHECK_CONTAINS(note, "RAPL not available");
    CHECK_INT(qs_energy_meter_start(m, &err), QS_OK);
    CHECK_INT(qs_energy_meter_stop(m, 0, 1e-9, &e, &err), QS_ERR_USAGE);
    CHECK_INT(qs_energy_meter_start(m, &err), QS_OK);
    CHECK_INT(qs_energy_meter_stop(m, 1000, 2e-9, &e, &err), QS_OK);
    CHECK_INT(e.source, QS_ENERGY_MODEL);
    CHECK_STR(qs_energy_source_name(e.source), "model");
    CHECK_NEAR(e.joules, 2e-6, 1e-18);
    CHECK_NEAR(e.joules_per_sample, 2e-9, 1e-21);
    CHECK_CONTAINS(e.note, "Horowitz");
    CHECK_CONTAINS(e.note, "RAPL not available");
    /* No model either: "none", NaN. */
    CHECK_INT(qs_energy_meter_start(m, &err), QS_OK);
    CHECK_INT(qs_energy_meter_stop(m, 1000, NAN, &e, &err), QS_OK);
    CHECK_INT(e.source, QS_ENERGY_NONE);
    CHECK(isnan(e.joules));
    qs_energy_meter_delete(m);
    qs_energy_meter_delete(NULL);

    /* Model only, even where RAPL exists. */
    qs_energy_meter_options mo = {0};
    mo.model_only = 1;
    CHECK_INT(qs_energy_meter_new(&m, &mo, &err), QS_OK);
    CHECK_INT(qs_energy_meter_source(m, NULL), QS_ENERGY_NONE);
    qs_energy_meter_delete(m);
}

static void test_nvml_absent(void)
{
    qs_nvml *h;
    qs_error err;
    CHECK_INT(qs_nvml_new(&h, "libqsearch-no-such-nvml.so.1", &err), QS_OK);
    const char *why;
    CHECK_INT(qs_nvml_available(h, &why), 0);
    CHECK_CONTAINS(why, "NVML not available");
    CHECK_CONTAINS(why, "libqsearch-no-such-nvml.so.1");
    CHECK_INT(qs_nvml_device_count(h), 0);
    CHECK_STR(qs_nvml_device_name(h, 0), "");
    CHECK_INT(qs_nvml_start(h, &err), QS_ERR_UNSUPPORTED);
    qs_nvml_delete(h);
    qs_nvml_delete(NULL);

    /* The real library, if this machine has one: either way it must not fail. */
    CHECK_INT(qs_nvml_new(&h, NULL, &err), QS_OK);
    if (qs_nvml_available(h, &why)) {
        fprintf(stderr, "  (NVML present: %u GPU(s), %s)\n", qs_nvml_device_count(h),
                qs_nvml_device_name(h, 0));
        qs_nvml_reading rd;
        CHECK_INT(qs_nvml_start(h, &err), QS_OK);
        CHECK_INT(qs_nvml_stop(h, &rd, &err), QS_OK);
        CHECK(rd.joules >= 0 && rd.devices >= 1);
    } else {
        CHECK_CONTAINS(why, "NVML not available");
    }
    qs_nvml_delete(h);

    /* A GPU-target meter without NVML falls back to the model. */
    qs_energy_meter_options o = {0};
    o.target = QS_ENERGY_TARGET_GPU;
    o.nvml_lib = "libqsearch-no-such-nvml.so.1";
    qs_energy_meter *m;
    CHECK_INT(qs_energy_meter_new(&m, &o, &err), QS_OK);
    CHECK_INT(qs_energy_meter_source(m, NULL), QS_ENERGY_NONE);
    qs_energy e;
    CHECK_INT(qs_energy_meter_start(m, &err), QS_OK);
    CHECK_INT(qs_energy_meter_stop(m, 10, 1e-9, &e, &err), QS_OK);
    CHECK_INT(e.source, QS_ENERGY_MODEL);
    CHECK_CONTAINS(e.note, "NVML not available");
    qs_energy_meter_delete(m);
}

/* A fake libnvidia-ml: device 1 has a total-energy counter that grows by
 * 500 mJ per read, device 2 has none (power 50 W, constant); FAIL_INIT makes
 * nvmlInit fail. Compiled at test time with cc; skipped when cc is missing. */
static const char *fake_nvml_src =
    "#include <stdio.h>\n#include <stdint.h>\n"
    "static unsigned long long e1 = 1000;\n"
    "int nvmlInit_v2(void) {\n#ifdef FAIL_INIT\n return 18;\n#endif\n return 0; }\n"
    "int nvmlShutdown(void) { return 0; }\n"
    "const char *nvmlErrorString(int r) { return r ? \"fake failure\" : \"ok\"; }\n"
    "int nvmlDeviceGetCount_v2(unsigned *c) { *c = 2; return 0; }\n"
    "int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **d) { *d = (void *)(uintptr_t)(i + 1); "
    "return 0; }\n"
    "int nvmlDeviceGetName(void *d, char *n, unsigned len) { snprintf(n, len, \"Fake GPU %d\", "
    "(int)(uintptr_t)d); return 0; }\n"
    "int nvmlDeviceGetPowerUsage(void *d, unsigned *mw) { *mw = (uintptr_t)d == 1 ? 100000 : "
    "50000; return 0; }\n"
    "int nvmlDeviceGetTotalEnergyConsumption(void *d, unsigned long long *e) {\n"
    " if ((uintptr_t)d != 1) return 3;\n *e = e1; e1 += 500; return 0; }\n"
    "typedef struct { unsigned gpu, memory; } util;\n"
    "int nvmlDeviceGetUtilizationRates(void *d, util *u) { (void)d; u->gpu = 42; u->memory = 7; "
    "return 0; }\n";

/* Builds the fake library into tmp_root/name.so; 0 on success. */
static int build_fake_nvml(const char *name, const char *defines)
{
    char src[700], cmd[2200];
    snprintf(src, sizeof src, "%s/fake_nvml.c", tmp_root);
    FILE *f = fopen(src, "w");
    if (!f)
        return -1;
    fputs(fake_nvml_src, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC %s -o '%s/%s.so' '%s' 2>/dev/null", defines,
             tmp_root, name, src);
    return system(cmd);
}

static void test_nvml_fake_library(void)
{
    new_root("nvml");
    if (build_fake_nvml("ok", "") != 0 || build_fake_nvml("badinit", "-DFAIL_INIT") != 0) {
        fprintf(stderr, "  (no cc: fake NVML test skipped)\n");
        remove_root();
        return;
    }
    char lib[700];
    snprintf(lib, sizeof lib, "%s/ok.so", tmp_root);
    qs_nvml *h;
    qs_error err;
    CHECK_INT(qs_nvml_new(&h, lib, &err), QS_OK);
    CHECK_INT(qs_nvml_available(h, NULL), 1);
    CHECK_INT(qs_nvml_device_count(h), 2);
    CHECK_STR(qs_nvml_device_name(h, 1), "Fake GPU 2");
    CHECK_INT(qs_nvml_start(h, &err), QS_OK);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    CHECK_INT(qs_nvml_poll(h, &err), QS_OK);
    nanosleep(&ts, NULL);
    qs_nvml_reading rd;
    CHECK_INT(qs_nvml_stop(h, &rd, &err), QS_OK);
    CHECK_INT(rd.devices, 2);
    CHECK_INT(rd.energy_counter, 0); /* device 2 had no counter */
    CHECK(rd.seconds >= 0.04);
    /* Device 1: counter 1500 -> 2000 mJ; device 2: 50 W integrated over the region. */
    CHECK_NEAR(rd.joules, 0.5 + 50.0 * rd.seconds, 1e-9);
    CHECK_NEAR(rd.watts, rd.joules / rd.seconds, 1e-9);
    CHECK_NEAR(rd.gpu_util[0], 42, 0);
    CHECK_NEAR(rd.mem_util[1], 7, 0);
    CHECK_NEAR(rd.power_w[0], 100, 1e-12);
    CHECK_CONTAINS(rd.note, "2 GPU(s)");
    qs_nvml_delete(h);

    /* The meter with a GPU target measures through it. */
    qs_energy_meter_options o = {0};
    o.target = QS_ENERGY_TARGET_GPU;
    o.nvml_lib = lib;
    qs_energy_meter *m;
    CHECK_INT(qs_energy_meter_new(&m, &o, &err), QS_OK);
    CHECK_INT(qs_energy_meter_source(m, NULL), QS_ENERGY_NVML);
    CHECK_INT(qs_energy_meter_start(m, &err), QS_OK);
    qs_energy e;
    CHECK_INT(qs_energy_meter_stop(m, 10, 1e-9, &e, &err), QS_OK);
    CHECK_INT(e.source, QS_ENERGY_NVML);
    CHECK_STR(qs_energy_source_name(e.source), "nvml");
    CHECK_NEAR(e.joules, 0.5 + 50.0 * e.seconds, 1e-9);
    CHECK_NEAR(e.joules_per_sample, e.joules / 10, 1e-12);
    qs_energy_meter_delete(m);

    /* nvmlInit failing: not available, with NVML's message. */
    snprintf(lib, sizeof lib, "%s/badinit.so", tmp_root);
    CHECK_INT(qs_nvml_new(&h, lib, &err), QS_OK);
    const char *why;
    CHECK_INT(qs_nvml_available(h, &why), 0);
    CHECK_CONTAINS(why, "nvmlInit: fake failure");
    qs_nvml_delete(h);
    remove_root();
}

static void test_model_table_and_scaling(void)
{
    /* Table points are exact. */
    CHECK_NEAR(qs_energy_int_mult_pj(8, 8), 0.2, 1e-12);
    CHECK_NEAR(qs_energy_int_mult_pj(32, 32), 3.1, 1e-12);
    CHECK_NEAR(qs_energy_int_add_pj(8), 0.03, 1e-12);
    CHECK_NEAR(qs_energy_int_add_pj(32), 0.1, 1e-12);
    CHECK_NEAR(qs_energy_fp_mult_pj(16), 1.1, 1e-12);
    CHECK_NEAR(qs_energy_fp_mult_pj(32), 3.7, 1e-12);
    CHECK_NEAR(qs_energy_fp_add_pj(16), 0.4, 1e-12);
    CHECK_NEAR(qs_energy_fp_add_pj(32), 0.9, 1e-12);
    CHECK_NEAR(qs_energy_mem_pj_per_bit(QS_MEM_SRAM), 5.0 / 32, 1e-12);
    CHECK_NEAR(qs_energy_mem_pj_per_bit(QS_MEM_DRAM), 20.0, 1e-12);
    /* Between: 8x32 is the geometric mean of 8x8 and 32x32: sqrt(0.2 x 3.1). */
    CHECK_NEAR(qs_energy_int_mult_pj(8, 32), sqrt(0.2 * 3.1), 1e-12);
    CHECK_NEAR(qs_energy_int_mult_pj(32, 8), qs_energy_int_mult_pj(8, 32), 1e-15);
    CHECK_NEAR(qs_energy_int_mult_pj(16, 16), sqrt(0.2 * 3.1), 1e-12);
    CHECK_NEAR(qs_energy_int_add_pj(16), sqrt(0.03 * 0.1), 1e-12);
    /* Extrapolated: 4x4 is to 8x8 what 8x8 is to 16x16. */
    CHECK_NEAR(qs_energy_int_mult_pj(4, 4), 0.2 * 0.2 / sqrt(0.2 * 3.1), 1e-12);
    CHECK_NEAR(qs_energy_fp_mult_pj(8), 1.1 * 1.1 / 3.7, 1e-12);
    CHECK(qs_energy_int_mult_pj(1, 8) < qs_energy_int_mult_pj(2, 8));
}

static void test_model_layers(void)
{
    qs_energy_layer_ops l[2];
    memset(l, 0, sizeof l);
    /* Linear(16,5), int8 x int8 into int32, bias adds in int32, all in SRAM. */
    l[0].name = "seq_blocks_2";
    l[0].int_macs = 80;
    l[0].weight_bits = 8;
    l[0].act_bits = 8;
    l[0].acc_bits = 32;
    l[0].int_adds = 5;
    l[0].add_bits = 32;
    l[0].param_bits_read = 80 * 8 + 5 * 32; /* 800 bits */
    l[0].act_bits_moved = 16 * 8 + 5 * 32;  /* 288 bits */
    /* BN(16) in fp32 (2 ops/elem: a mult and an add) and ReLU (an add), params from DRAM. */
    l[1].name = "seq_blocks_0";
    l[1].fp_mults = 16;
    l[1].fp_adds = 32;
    l[1].fp_bits = 32;
    l[1].param_bits_read = 64 * 32;
    l[1].param_mem = QS_MEM_DRAM;
    qs_energy_layer_result r[2];
    double j;
    qs_error err;
    CHECK_INT(qs_energy_model(l, 2, r, &j, &err), QS_OK);
    /* 80 x (0.2 + 0.1) + 5 x 0.1 = 24.5 pJ; (800 + 288) x 5/32 = 170 pJ. */
    CHECK_NEAR(r[0].compute_j, 24.5e-12, 1e-24);
    CHECK_NEAR(r[0].memory_j, 170e-12, 1e-24);
    CHECK_NEAR(r[0].joules, 194.5e-12, 1e-24);
    /* 16 x 3.7 + 32 x 0.9 = 88 pJ; 2048 bits x 20 pJ = 40960 pJ. */
    CHECK_NEAR(r[1].compute_j, 88e-12, 1e-24);
    CHECK_NEAR(r[1].memory_j, 40960e-12, 1e-21);
    CHECK_NEAR(j, (194.5 + 88 + 40960) * 1e-12, 1e-21);
    /* fp MACs: a mult and an add each; fp16. */
    qs_energy_layer_ops f = {0};
    f.name = "fp";
    f.fp_macs = 10;
    f.fp_bits = 16;
    CHECK_INT(qs_energy_model(&f, 1, NULL, &j, &err), QS_OK);
    CHECK_NEAR(j, 10 * (1.1 + 0.4) * 1e-12, 1e-24);
    CHECK_INT(qs_energy_model(NULL, 0, NULL, &j, &err), QS_OK);
    CHECK_NEAR(j, 0, 0);
}

static void test_model_bad_input(void)
{
    qs_energy_layer_ops l = {0};
    double j;
    qs_error err;
    l.name = "seq_blocks_4";
    l.int_macs = 10;
    l.weight_bits = 0;
    l.act_bits = 8;
    l.acc_bits = 32;
    CHECK_INT(qs_energy_model(&l, 1, NULL, &j, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "seq_blocks_4");
    CHECK_CONTAINS(err.msg, "weight_bits");
    l.weight_bits = 65;
    CHECK_INT(qs_energy_model(&l, 1, NULL, &j, &err), QS_ERR_INPUT);
    l.weight_bits = 4;
    l.act_bits_moved = -1;
    CHECK_INT(qs_energy_model(&l, 1, NULL, &j, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "act_bits_moved");
    l.act_bits_moved = NAN;
    CHECK_INT(qs_energy_model(&l, 1, NULL, &j, &err), QS_ERR_INPUT);
    l.act_bits_moved = 0;
    l.fp_adds = 3;
    l.fp_bits = 1;
    CHECK_INT(qs_energy_model(&l, 1, NULL, &j, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "fp_bits");
    l.fp_bits = 32;
    l.param_mem = (qs_mem_level)7;
    CHECK_INT(qs_energy_model(&l, 1, NULL, &j, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "memory level");
    /* Widths are not checked for operations that are absent. */
    qs_energy_layer_ops z = {0};
    CHECK_INT(qs_energy_model(&z, 1, NULL, &j, &err), QS_OK);
}

int main(void)
{
    RUN(test_rapl_fake_tree);
    RUN(test_rapl_not_available);
    RUN(test_meter_rapl_and_model);
    RUN(test_nvml_absent);
    RUN(test_nvml_fake_library);
    RUN(test_model_table_and_scaling);
    RUN(test_model_layers);
    RUN(test_model_bad_input);
    return qs_test_summary();
}
