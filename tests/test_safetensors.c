/* safetensors model files: round trip (parameters, buffers, metadata, logits),
 * atomic writes, and malformed files each refused with its message; .npy
 * round trips and malformed .npy files. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include <jansson.h>

#include "harness.h"
#include "qsearch/model.h"
#include "qsearch/npy.h"
#include "qsearch/rng.h"
#include "qsearch/safetensors.h"

static char tmpdir[512];

static const char *tmp_path(const char *name)
{
    static char buf[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Entries of tmpdir that look like the atomic writer's temporaries (".NAME.tmp."). */
static int count_temporaries(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] == '.' && strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

static void randomise(qs_model *m, uint64_t seed)
{
    qs_rng r;
    qs_rng_seed(&r, seed);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = (float)(qs_rng_uniform(&r) + 0.25);
    for (size_t i = 0; i < m->n_layers; i++)
        m->layers[i].num_batches_tracked = 7 + (int64_t)i;
}

static void test_round_trip(void)
{
    qs_error err;
    qs_model *m = NULL, *back = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-s", 16, 26, 1, &err), QS_OK);
    randomise(m, 2);
    qs_model_meta meta, got;
    qs_model_meta_init(&meta);
    snprintf(meta.dataset, sizeof meta.dataset, "letter");
    char *names[26];
    char store[26][4];
    for (int i = 0; i < 26; i++) {
        snprintf(store[i], sizeof store[i], "%c", 'A' + i);
        names[i] = store[i];
    }
    float mean[16], std[16];
    for (int i = 0; i < 16; i++)
        mean[i] = 0.1f * (float)i, std[i] = 1.0f / 3.0f + (float)i;
    meta.classes = 26, meta.class_names = names;
    meta.features = 16, meta.input_mean = mean, meta.input_std = std;
    meta.training = "{\"epochs\":30,\"lr\":0.01}";
    const char *path = tmp_path("m.safetensors");
    CHECK_INT(qs_safetensors_save_model(path, m, &meta, &err), QS_OK);
    CHECK_INT(qs_safetensors_load_model(path, &back, &got, &err), QS_OK);
    if (!back) {
        fprintf(stderr, "%s\n", err.msg);
        qs_model_delete(m);
        return;
    }
    CHECK_STR(back->arch, "jsc-s");
    CHECK_INT(back->n_params, m->n_params);
    CHECK(memcmp(back->params, m->params, m->n_params * sizeof(float)) == 0);
    CHECK_INT(back->layers[12].num_batches_tracked, 19);
    CHECK_STR(got.dataset, "letter");
    CHECK_INT(got.classes, 26);
    CHECK_STR(got.class_names[25], "Z");
    CHECK_INT(got.features, 16);
    int same = 1;
    for (int i = 0; i < 16; i++)
        same &= got.input_mean[i] == mean[i] && got.input_std[i] == std[i];
    CHECK(same); /* %.9g round-trips floats exactly */
    CHECK_STR(got.training, "{\"epochs\":30,\"lr\":0.01}");
    CHECK(got.version[0] != '\0');
    /* same logits */
    float x[3 * 16], l1[3 * 26], l2[3 * 26];
    for (int i = 0; i < 48; i++)
        x[i] = (float)sin(i);
    CHECK_INT(qs_model_forward_alloc(m, x, 3, l1, &err), QS_OK);
    CHECK_INT(qs_model_forward_alloc(back, x, 3, l2, &err), QS_OK);
    CHECK(memcmp(l1, l2, sizeof l1) == 0);
    /* loading without metadata output works too */
    qs_model_delete(back);
    CHECK_INT(qs_safetensors_load_model(path, &back, NULL, &err), QS_OK);
    qs_model_delete(back);
    qs_model_meta_free(&got);
    qs_model_meta_free(NULL);

    /* header: 8-byte aligned, metadata first, PyTorch names */
    FILE *f = fopen(path, "rb");
    unsigned char len[8];
    CHECK(fread(len, 1, 8, f) == 8);
    uint64_t hlen = 0;
    for (int b = 7; b >= 0; b--)
        hlen = hlen << 8 | len[b];
    CHECK_INT(hlen % 8, 0);
    char *h = calloc(hlen + 1, 1);
    CHECK(fread(h, 1, hlen, f) == hlen);
    fclose(f);
    CHECK_CONTAINS(h, "{\"__metadata__\":{\"format\":\"qsearch-model\",");
    CHECK(strncmp(h, "{\"__metadata__\"", 15) == 0 && (h[hlen - 1] == ' ' || h[hlen - 1] == '}'));
    CHECK_CONTAINS(h, "\"seq_blocks.0.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[]");
    CHECK_CONTAINS(h, "\"seq_blocks.2.weight\":{\"dtype\":\"F32\",\"shape\":[64,16]");
    CHECK_CONTAINS(h, "\"class_names\":\"[\\\"A\\\",");
    free(h);
    qs_model_delete(m);
}

static void test_atomic_write(void)
{
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-tiny", 4, 3, 1, &err), QS_OK);
    const char *bad = tmp_path("no-such-dir/m.safetensors");
    CHECK_INT(qs_safetensors_save_model(bad, m, NULL, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, "no-such-dir");
    CHECK(access(bad, F_OK) != 0);
    /* overwrite an existing file; no temporary left behind */
    const char *p = tmp_path("over.safetensors");
    FILE *f = fopen(p, "w");
    fputs("old", f);
    fclose(f);
    CHECK_INT(qs_safetensors_save_model(p, m, NULL, &err), QS_OK);
    qs_model *back = NULL;
    CHECK_INT(qs_safetensors_load_model(p, &back, NULL, &err), QS_OK);
    qs_model_delete(back);
    CHECK_INT(count_temporaries(), 0);
    qs_model_delete(m);
}

/* ---- hand-built files for the malformed cases (jsc-tiny, 3 features, 2 classes) ---- */

typedef struct {
    const char *name, *dtype;
    int ndim;
    long shape[2];
    long begin, end;        /* -1: laid out after the previous entry */
} ent;

static const ent base[] = {
    {"seq_blocks.0.weight", "F32", 1, {3, 0}, -1, -1},
    {"seq_blocks.0.bias", "F32", 1, {3, 0}, -1, -1},
    {"seq_blocks.0.running_mean", "F32", 1, {3, 0}, -1, -1},
    {"seq_blocks.0.running_var", "F32", 1, {3, 0}, -1, -1},
    {"seq_blocks.0.num_batches_tracked", "I64", 0, {0, 0}, -1, -1},
    {"seq_blocks.2.weight", "F32", 2, {2, 3}, -1, -1},
    {"seq_blocks.2.bias", "F32", 1, {2, 0}, -1, -1},
};
#define NBASE (sizeof base / sizeof base[0])

static const char *base_md =
    "{\"format\":\"qsearch-model\",\"arch\":\"jsc-tiny\",\"in_features\":\"3\",\"classes\":\"2\"}";

/* Writes a file from entries (offsets laid out in order unless given), metadata
 * JSON text (NULL: none), extra data bytes, an optional NaN at data float
 * nan_at, and an optional header-length override. Returns the path. */
static const char *write_case(const char *file, const ent *e, size_t n, const char *md,
                              long extra, long nan_at, long long hlen_override)
{
    json_t *h = json_object();
    if (md)
        json_object_set_new(h, "__metadata__", json_loads(md, 0, NULL));
    long pos = 0;
    for (size_t i = 0; i < n; i++) {
        long numel = e[i].ndim == 0 ? 1 : e[i].ndim == 1 ? e[i].shape[0] : e[i].shape[0] * e[i].shape[1];
        long bytes = numel * (strcmp(e[i].dtype, "I64") == 0 ? 8 : 4);
        long b = e[i].begin >= 0 ? e[i].begin : pos, en = e[i].end >= 0 ? e[i].end : b + bytes;
        json_t *shape = json_array();
        for (int d = 0; d < e[i].ndim; d++)
            json_array_append_new(shape, json_integer(e[i].shape[d]));
        json_object_set_new(h, e[i].name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", e[i].dtype, "shape", shape,
                                      "data_offsets", (json_int_t)b, (json_int_t)en));
        if (en > pos)
            pos = en;
    }
    char *text = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    size_t dlen = (size_t)(pos + extra);
    float *data = calloc(dlen / 4 + 2, 4);
    for (size_t i = 0; i < dlen / 4; i++)
        data[i] = 0.5f;
    memset((char *)data + 48, 0, 8); /* num_batches_tracked = 0 in the base layout */
    if (nan_at >= 0)
        data[nan_at] = NAN;
    const char *path = tmp_path(file);
    FILE *f = fopen(path, "wb");
    uint64_t hl = hlen_override >= 0 ? (uint64_t)hlen_override : strlen(text);
    unsigned char len[8];
    for (int b = 0; b < 8; b++)
        len[b] = (unsigned char)(hl >> (8 * b));
    fwrite(len, 1, 8, f);
    fwrite(text, 1, strlen(text), f);
    fwrite(data, 1, dlen, f);
    fclose(f);
    free(text);
    free(data);
    return path;
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
}

/* Expects loading path to fail with QS_ERR_INPUT and a message containing want. */
static void expect_bad(const char *path, const char *want)
{
    qs_error err;
    qs_model *m = (qs_model *)1;
    qs_model_meta meta;
    qs_status st = qs_safetensors_load_model(path, &m, &meta, &err);
    CHECK_INT(st, QS_ERR_INPUT);
    CHECK(m == NULL);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, want);
}

static void test_hand_built_valid(void)
{
    const char *p = write_case("valid.safetensors", base, NBASE, base_md, 0, -1, -1);
    qs_error err;
    qs_model *m = NULL;
    qs_model_meta meta;
    CHECK_INT(qs_safetensors_load_model(p, &m, &meta, &err), QS_OK);
    if (m)
        CHECK(m->layers[2].weight[5] == 0.5f && m->layers[0].num_batches_tracked == 0);
    CHECK_INT(meta.classes, 0);
    qs_model_delete(m);
    qs_model_meta_free(&meta);
}

static void test_malformed_framing(void)
{
    write_bytes(tmp_path("short"), "\x10\0\0\0\0", 5);
    expect_bad(tmp_path("short"), "file too short (5 bytes");
    expect_bad(write_case("hlen-big", base, NBASE, base_md, 0, -1, 100000), "header length 100000 exceeds the file's");
    /* a header length above 100 MB in a sparse file that big */
    const char *huge = write_case("hlen-100mb", base, NBASE, base_md, 0, -1, 101LL << 20);
    CHECK(truncate(huge, (101LL << 20) + 200) == 0);
    expect_bad(huge, "exceeds the 100 MB limit");
    truncate(huge, 0);
    const char *bad_json = "{\"a\": [1, 2}";
    unsigned char buf[64] = {(unsigned char)strlen(bad_json)};
    memcpy(buf + 8, bad_json, strlen(bad_json));
    write_bytes(tmp_path("badjson"), buf, 8 + strlen(bad_json));
    expect_bad(tmp_path("badjson"), "header is not valid JSON: 1:");
    unsigned char utf[16] = {4, 0, 0, 0, 0, 0, 0, 0, '"', 0xff, 0xfe, '"'};
    write_bytes(tmp_path("badutf8"), utf, 12);
    expect_bad(tmp_path("badutf8"), "header is not valid JSON");
    unsigned char arr[16] = {2, 0, 0, 0, 0, 0, 0, 0, '[', ']'};
    write_bytes(tmp_path("array"), arr, 10);
    expect_bad(tmp_path("array"), "header is not a JSON object");
    const char *dup = "{\"__metadata__\":{},\"__metadata__\":{}}";
    memset(buf, 0, sizeof buf);
    buf[0] = (unsigned char)strlen(dup);
    memcpy(buf + 8, dup, strlen(dup));
    write_bytes(tmp_path("dup"), buf, 8 + strlen(dup));
    expect_bad(tmp_path("dup"), "duplicate");
    /* cut the last 4 data bytes: the last tensor's end lies outside */
    const char *cut = write_case("cut", base, NBASE, base_md, -4, -1, -1);
    expect_bad(cut, "'seq_blocks.2.bias': data_offsets [80, 88] outside the data area of 84 bytes");
    qs_error err;
    qs_model *m;
    CHECK_INT(qs_safetensors_load_model(tmp_path("missing-file"), &m, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "cannot open");
}

static void test_malformed_entries(void)
{
    ent e[NBASE + 1];
    memcpy(e, base, sizeof base);
    e[5].dtype = "F16";
    expect_bad(write_case("f16", e, NBASE, base_md, 0, -1, -1),
               "tensor 'seq_blocks.2.weight': dtype F16 not supported (qsearch reads F32 and I64)");
    e[5].dtype = "Q7";
    expect_bad(write_case("q7", e, NBASE, base_md, 0, -1, -1), "unknown dtype 'Q7'");
    memcpy(e, base, sizeof base);
    e[1].begin = 12, e[1].end = 28; /* 3 floats need 12 bytes */
    expect_bad(write_case("span", e, NBASE, base_md, 0, -1, -1),
               "'seq_blocks.0.bias': data_offsets span 16 bytes but shape and dtype need 12");
    memcpy(e, base, sizeof base);
    e[1].begin = 8, e[1].end = 20;
    expect_bad(write_case("overlap", e, NBASE, base_md, 0, -1, -1),
               "'seq_blocks.0.bias': data_offsets [8, 20] overlap tensor 'seq_blocks.0.weight'");
    memcpy(e, base, sizeof base);
    e[6].begin = 84, e[6].end = 92;
    expect_bad(write_case("gap", e, NBASE, base_md, 0, -1, -1),
               "'seq_blocks.2.bias': gap of 4 unindexed bytes before it");
    expect_bad(write_case("trailing", base, NBASE, base_md, 8, -1, -1),
               "8 trailing data bytes not indexed");
    memcpy(e, base, sizeof base);
    e[0].shape[0] = -3;
    expect_bad(write_case("negshape", e, NBASE, base_md, 0, -1, -1),
               "'seq_blocks.0.weight': shape[0] is not a non-negative integer");
}

static void test_malformed_model(void)
{
    ent e[NBASE + 1];
    /* missing tensor: running_var dropped, the rest laid out without a gap */
    memcpy(e, base, sizeof base);
    memmove(&e[3], &e[4], (NBASE - 4) * sizeof *e);
    expect_bad(write_case("missing", e, NBASE - 1, base_md, 0, -1, -1),
               "tensor 'seq_blocks.0.running_var' is missing (arch jsc-tiny needs it)");
    memcpy(e, base, sizeof base);
    e[NBASE] = (ent){"seq_blocks.1.weight", "F32", 1, {3, 0}, -1, -1};
    expect_bad(write_case("extra", e, NBASE + 1, base_md, 0, -1, -1),
               "tensor 'seq_blocks.1.weight': unexpected for arch jsc-tiny");
    memcpy(e, base, sizeof base);
    e[5].shape[0] = 3, e[5].shape[1] = 2;
    expect_bad(write_case("shape", e, NBASE, base_md, 0, -1, -1),
               "tensor 'seq_blocks.2.weight': expected F32 [2, 3] for arch jsc-tiny");
    memcpy(e, base, sizeof base);
    e[4].dtype = "F32", e[4].ndim = 1, e[4].shape[0] = 2;
    expect_bad(write_case("nbt", e, NBASE, base_md, 0, -1, -1),
               "'seq_blocks.0.num_batches_tracked': expected I64 []");
    expect_bad(write_case("nan", base, NBASE, base_md, 0, 15, -1),
               "tensor 'seq_blocks.2.weight': value 1 is NaN");
    expect_bad(write_case("nometa", base, NBASE, NULL, 0, -1, -1), "no __metadata__");
    expect_bad(write_case("arch", base, NBASE,
                          "{\"format\":\"qsearch-model\",\"arch\":\"resnet\",\"in_features\":\"3\",\"classes\":\"2\"}",
                          0, -1, -1),
               "__metadata__.arch: unknown model 'resnet'");
    expect_bad(write_case("arch-s", base, NBASE,
                          "{\"format\":\"qsearch-model\",\"arch\":\"jsc-s\",\"in_features\":\"3\",\"classes\":\"2\"}",
                          0, -1, -1),
               "tensor 'seq_blocks.2.weight': expected F32 [64, 3] for arch jsc-s");
    expect_bad(write_case("noarch", base, NBASE, "{\"format\":\"qsearch-model\",\"in_features\":\"3\",\"classes\":\"2\"}",
                          0, -1, -1),
               "__metadata__.arch is missing");
    expect_bad(write_case("format", base, NBASE,
                          "{\"format\":\"pt\",\"arch\":\"jsc-tiny\",\"in_features\":\"3\",\"classes\":\"2\"}",
                          0, -1, -1),
               "__metadata__.format is 'pt', not 'qsearch-model'");
    expect_bad(write_case("infeat", base, NBASE,
                          "{\"format\":\"qsearch-model\",\"arch\":\"jsc-tiny\",\"in_features\":\"3x\",\"classes\":\"2\"}",
                          0, -1, -1),
               "__metadata__.in_features: '3x' is not a count");
    expect_bad(write_case("names", base, NBASE,
                          "{\"format\":\"qsearch-model\",\"arch\":\"jsc-tiny\",\"in_features\":\"3\",\"classes\":\"2\","
                          "\"class_names\":\"[\\\"a\\\"]\"}",
                          0, -1, -1),
               "__metadata__.class_names: expected a JSON array of 2 strings");
    expect_bad(write_case("std", base, NBASE,
                          "{\"format\":\"qsearch-model\",\"arch\":\"jsc-tiny\",\"in_features\":\"3\",\"classes\":\"2\","
                          "\"input_mean\":\"[0,0,0]\",\"input_std\":\"[1,0,1]\"}",
                          0, -1, -1),
               "__metadata__.input_std[1]: not a positive number");
}

static void test_npy(void)
{
    qs_error err;
    float a[6] = {1.5f, -2, 3, 4, 5, 6.25f};
    int32_t y[5] = {0, 25, -3, 7, 1};
    const char *pf = tmp_path("a.npy"), *pi = tmp_path("y.npy");
    CHECK_INT(qs_npy_write_f32(pf, a, 2, 3, &err), QS_OK);
    CHECK_INT(qs_npy_write_i32_1d(pi, y, 5, &err), QS_OK);
    qs_npy_array r;
    CHECK_INT(qs_npy_read(pf, &r, &err), QS_OK);
    CHECK_INT(r.dtype, QS_NPY_F32);
    CHECK_INT(r.ndim, 2);
    CHECK_INT(r.shape[0], 2);
    CHECK_INT(r.shape[1], 3);
    CHECK(r.data && memcmp(r.data, a, sizeof a) == 0);
    qs_npy_free(&r);
    CHECK_INT(qs_npy_read(pi, &r, &err), QS_OK);
    CHECK_INT(r.dtype, QS_NPY_I32);
    CHECK_INT(r.ndim, 1);
    CHECK_INT(r.shape[0], 5);
    CHECK(r.data && memcmp(r.data, y, sizeof y) == 0);
    qs_npy_free(&r);
    qs_npy_free(NULL);
    /* header layout: magic, version 1.0, data starts at a multiple of 64 */
    FILE *f = fopen(pf, "rb");
    unsigned char h[256];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    CHECK(got == 128 + 24 && memcmp(h, "\x93NUMPY\x01\x00", 8) == 0);
    CHECK_INT(h[8] | h[9] << 8, 118);
    CHECK(memcmp(h + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 59) == 0);
    CHECK(h[127] == '\n' && h[126] == ' ');
    CHECK_INT(qs_npy_write_f32_1d(pf, a, 0, &err), QS_OK); /* empty arrays are fine */
    CHECK_INT(qs_npy_read(pf, &r, &err), QS_OK);
    CHECK_INT(r.shape[0], 0);
    qs_npy_free(&r);
}

static void write_npy_raw(const char *path, const char *dict, const void *data, size_t n)
{
    unsigned char head[128] = "\x93NUMPY\x01\x00";
    size_t len = strlen(dict);
    head[8] = (unsigned char)len;
    memcpy(head + 10, dict, len);
    FILE *f = fopen(path, "wb");
    fwrite(head, 1, 10 + len, f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static void expect_npy_bad(const char *path, const char *want)
{
    qs_error err;
    qs_npy_array r;
    CHECK_INT(qs_npy_read(path, &r, &err), QS_ERR_INPUT);
    CHECK(r.data == NULL);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, want);
}

static void test_npy_malformed(void)
{
    const int64_t big[2] = {3, (int64_t)1 << 40};
    const char *p = tmp_path("bad.npy");
    write_bytes(p, "NUMPY", 5);
    expect_npy_bad(p, "bad magic");
    write_npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", big, 8);
    expect_npy_bad(p, "descr '<f8' not supported");
    write_npy_raw(p, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", big, 8);
    expect_npy_bad(p, "fortran_order must be False");
    write_npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }\n", big, 8);
    expect_npy_bad(p, "shape must be");
    write_npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", big, 8);
    expect_npy_bad(p, "truncated: expected 4 values");
    write_npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", big, 8);
    expect_npy_bad(p, "trailing bytes");
    write_npy_raw(p, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n", big, 16);
    expect_npy_bad(p, "value 1 (1099511627776) does not fit int32");
    write_npy_raw(p, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n", big, 8);
    qs_error err;
    qs_npy_array r;
    CHECK_INT(qs_npy_read(p, &r, &err), QS_OK);
    CHECK(r.dtype == QS_NPY_I32 && ((int32_t *)r.data)[0] == 3);
    qs_npy_free(&r);
}

/* --peer-export DIR: writes, for tests/safetensors_peer.py, model files of
 * several archs with non-trivial parameters and BN statistics, the inputs
 * x.npy and qsearch's logits per model (logits_<arch>.npy). */
static int peer_export(const char *dir)
{
    static const char *archs[] = {"jsc-tiny", "jsc-toy", "jsc-s", "jsc-three-linear",
                                  "mlp:16-64-32-26"};
    enum { N = 300, F = 16, C = 26 };
    static float x[N * F], logits[N * C];
    qs_rng r;
    qs_rng_seed(&r, 99);
    for (size_t i = 0; i < N * F; i++)
        x[i] = (float)qs_rng_normal(&r);
    char path[1024];
    qs_error err;
    snprintf(path, sizeof path, "%s/x.npy", dir);
    if (qs_npy_write_f32(path, x, N, F, &err) != QS_OK)
        goto fail;
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        qs_model *m = NULL;
        if (qs_model_build(&m, archs[a], F, C, a + 1, &err) != QS_OK)
            goto fail;
        for (size_t i = 0; i < m->n_layers; i++) {
            qs_layer *l = &m->layers[i];
            for (size_t j = 0; l->kind == QS_LAYER_BATCHNORM1D && j < l->in.c; j++) {
                l->gamma[j] = (float)(0.5 + qs_rng_uniform(&r));
                l->beta[j] = (float)(qs_rng_uniform(&r) - 0.3);
                l->running_mean[j] = (float)(qs_rng_uniform(&r) - 0.5);
                l->running_var[j] = (float)(0.5 + qs_rng_uniform(&r));
                l->num_batches_tracked = 1234 + (int64_t)i;
            }
        }
        qs_model_meta meta;
        qs_model_meta_init(&meta);
        snprintf(meta.dataset, sizeof meta.dataset, "synthetic");
        snprintf(path, sizeof path, "%s/model_%s.safetensors", dir, archs[a][0] == 'm' ? "mlp" : archs[a]);
        qs_status st = qs_safetensors_save_model(path, m, &meta, &err);
        if (st == QS_OK)
            st = qs_model_forward_alloc(m, x, N, logits, &err);
        snprintf(path, sizeof path, "%s/logits_%s.npy", dir, archs[a][0] == 'm' ? "mlp" : archs[a]);
        if (st == QS_OK)
            st = qs_npy_write_f32(path, logits, N, C, &err);
        qs_model_delete(m);
        if (st != QS_OK)
            goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "peer export: %s\n", err.msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--peer-export") == 0)
        return peer_export(argv[2]);
    const char *base_dir = getenv("QS_TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/qs_safetensors_XXXXXX", base_dir ? base_dir : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_round_trip);
    RUN(test_atomic_write);
    RUN(test_hand_built_valid);
    RUN(test_malformed_framing);
    RUN(test_malformed_entries);
    RUN(test_malformed_model);
    RUN(test_npy);
    RUN(test_npy_malformed);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return qs_test_summary();
}
