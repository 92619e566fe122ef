/* Datasets: CSV (quoted, CRLF, header, string/integer labels, gzip), IDX (raw,
 * gzipped, sibling labels), JSC HDF5 (written here with libhdf5), split sizes
 * and determinism, no overlap, dedup, standardisation on train only, the
 * fetch path through a fake apt-get and tiny .debs, and malformed inputs. */
#define _GNU_SOURCE /* setenv, mkdtemp in a test program */
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "qsearch/data.h"
#include "qsearch/log.h"

static char tmpdir[512];

static const char *tpath(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static void write_bytes(const char *path, const void *b, size_t n, int gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        gzwrite(g, b, (unsigned)n);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

static qs_data_options opts(void)
{
    qs_data_options o;
    qs_data_options_default(&o);
    o.allow_fetch = 0;
    o.cache_dir = tpath("cache");
    return o;
}

/* Loads spec expecting failure; returns the message (static). */
static const char *load_fail(const char *spec, qs_status want)
{
    static qs_error err;
    qs_data_options o = opts();
    qs_dataset ds;
    qs_status st = qs_data_load(&ds, spec, &o, &err);
    CHECK_INT(st, want);
    if (st == QS_OK)
        qs_data_free(&ds);
    return err.msg;
}

static void test_csv_letter_like(void)
{
    /* Label first, 3 features, one exact duplicate, one same-features-other-label row. */
    write_file(tpath("l.data"), "B,1,2,3\nA,4,5,6\nB,1,2,3\nC,7,8,9\nA,1,2,3\nC,0,0,1\n"
                                "A,2,2,2\nB,3,3,3\nC,4,4,4\nA,5,5,5\nB,6,6,6\n");
    char spec[1100];
    snprintf(spec, sizeof spec, "csv:%s:label=0", tpath("l.data"));
    qs_data_options o = opts();
    o.standardise = 0;
    qs_dataset ds;
    qs_error err;
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_STR(ds.name, "csv");
    CHECK_STR(ds.source, tpath("l.data"));
    CHECK_INT(ds.features, 3);
    CHECK_INT(ds.classes, 3);
    CHECK_STR(ds.class_names[0], "A");
    CHECK_STR(ds.class_names[2], "C");
    CHECK_INT(ds.raw_samples, 11);
    CHECK_INT(ds.duplicates, 1);
    /* 10 rows: test round(2.0) = 2, val round(0.2 * 8) = 2, train 6. */
    CHECK_INT(ds.test.n, 2);
    CHECK_INT(ds.val.n, 2);
    CHECK_INT(ds.train.n, 6);
    /* Every row keeps its label: x[0] = 7 is C, x = (4,5,6) is A. */
    for (int s = 0; s < 3; s++) {
        const qs_split *sp = qs_data_split(&ds, (qs_split_id)s);
        for (size_t i = 0; i < sp->n; i++) {
            const float *x = sp->x + i * 3;
            if (x[0] == 7)
                CHECK_INT(sp->y[i], 2);
            if (x[0] == 4 && x[1] == 5)
                CHECK_INT(sp->y[i], 0);
        }
    }
    size_t counts[3], total = 0;
    for (int s = 0; s < 3; s++) {
        qs_data_class_counts(&ds, (qs_split_id)s, counts);
        total += counts[0] + counts[1] + counts[2];
    }
    CHECK_INT(total, 10);
    qs_data_free(&ds);
    qs_data_free(&ds); /* idempotent */
    qs_data_free(NULL);
}

static void test_csv_quoted_crlf_header(void)
{
    /* Header, CRLF, quoted label with comma and "" escape, quoted number, label by name, BOM. */
    write_file(tpath("q.csv"), "\xEF\xBB\xBF" "a,\"kind, of\",b\r\n"
                               "1,\"x, \"\"quoted\"\"\",2\r\n"
                               "\"3\",plain,4\r\n"
                               "\r\n"
                               "5,\"multi\nline\",6\r\n"
                               "7,plain,8");
    char spec[1100];
    snprintf(spec, sizeof spec, "csv:%s:label=kind, of", tpath("q.csv"));
    qs_data_options o = opts();
    o.standardise = 0;
    o.test_fraction = 0;
    o.val_fraction = 0;
    qs_dataset ds;
    qs_error err;
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_INT(ds.features, 2);
    CHECK_INT(ds.raw_samples, 4);
    CHECK_INT(ds.classes, 3);
    CHECK_STR(ds.class_names[0], "multi\nline");
    CHECK_STR(ds.class_names[1], "plain");
    CHECK_STR(ds.class_names[2], "x, \"quoted\"");
    CHECK_INT(ds.train.n, 4);
    for (size_t i = 0; i < ds.train.n; i++) {
        const float *x = ds.train.x + 2 * i;
        CHECK_NEAR(x[1], x[0] + 1, 0);
        if (x[0] == 1)
            CHECK_INT(ds.train.y[i], 2);
        if (x[0] == 5)
            CHECK_INT(ds.train.y[i], 0);
    }
    qs_data_free(&ds);
    /* The same file, label by index: header detected from the non-numeric feature column. */
    snprintf(spec, sizeof spec, "csv:%s:label=1", tpath("q.csv"));
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_INT(ds.raw_samples, 4);
    qs_data_free(&ds);
}

static void test_csv_gz_integer_labels(void)
{
    /* digits-like: no header, integer labels last, gzipped. */
    char text[4096] = "";
    for (int i = 0; i < 50; i++) {
        char line[64];
        snprintf(line, sizeof line, "%d,%d,%d\n", i, (i * 7) % 13, i % 4);
        strcat(text, line);
    }
    write_bytes(tpath("d.csv.gz"), text, strlen(text), 1);
    char spec[1100];
    snprintf(spec, sizeof spec, "csv:%s", tpath("d.csv.gz"));
    qs_data_options o = opts();
    qs_dataset ds;
    qs_error err;
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_INT(ds.features, 2);
    CHECK_INT(ds.classes, 4);
    CHECK_STR(ds.class_names[3], "3");
    CHECK_INT(ds.test.n, 10);
    CHECK_INT(ds.val.n, 8);
    CHECK_INT(ds.train.n, 32);
    /* Labels survive the split: feature 0 standardised back gives i, label i % 4. */
    for (size_t i = 0; i < ds.test.n; i++) {
        double v = ds.test.x[2 * i] * ds.std[0] + ds.mean[0];
        CHECK_INT(ds.test.y[i], ((long)(v + 0.5)) % 4);
    }
    qs_data_free(&ds);
    /* Integral float labels (as pandas writes them) are class indices too; 2.5 is a string. */
    write_file(tpath("f.csv"), "1,2.0\n2,0.0\n3,1.0\n4,2.0\n5,0\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("f.csv"));
    o.test_fraction = o.val_fraction = 0;
    o.standardise = 0;
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_INT(ds.classes, 3);
    for (size_t i = 0; i < ds.train.n; i++)
        CHECK_INT(ds.train.y[i], (int)"x20120"[(int)ds.train.x[i]] - '0');
    qs_data_free(&ds);
    write_file(tpath("f.csv"), "1,2.5\n2,0\n");
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_INT(ds.classes, 2);
    CHECK_STR(ds.class_names[1], "2.5");
    qs_data_free(&ds);
}

static void test_csv_errors(void)
{
    char spec[1100];
    snprintf(spec, sizeof spec, "csv:%s", tpath("missing.csv"));
    const char *m = load_fail(spec, QS_ERR_INPUT);
    CHECK_CONTAINS(m, "missing.csv");
    CHECK_CONTAINS(m, "No such file");

    write_file(tpath("ragged.csv"), "1,2,3\n4,5,6\n7,8\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("ragged.csv"));
    m = load_fail(spec, QS_ERR_INPUT);
    CHECK_CONTAINS(m, "ragged.csv:3: expected 3 fields, got 2");

    write_file(tpath("nan.csv"), "f1,f2,y\n1,2,0\n1,nan,1\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("nan.csv"));
    m = load_fail(spec, QS_ERR_INPUT);
    CHECK_CONTAINS(m, "nan.csv:3: field 2: not a finite number");

    write_file(tpath("inf.csv"), "1,2,0\n1e400,2,1\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("inf.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "inf.csv:2: field 1: not a finite number");

    write_file(tpath("word.csv"), "1,2,0\n1,two,1\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("word.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "word.csv:2: field 2: not a number: \"two\"");

    write_file(tpath("empty.csv"), "");
    snprintf(spec, sizeof spec, "csv:%s", tpath("empty.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "empty.csv: empty file");

    write_file(tpath("hdr.csv"), "a,b,label\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("hdr.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "hdr.csv: no data rows");

    write_file(tpath("neg.csv"), "1,2,0\n3,4,-1\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("neg.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "neg.csv:2: label -1 out of range");

    snprintf(spec, sizeof spec, "csv:%s:label=5", tpath("neg.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "label column 5 out of range");
    snprintf(spec, sizeof spec, "csv:%s:label=kind", tpath("neg.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "no column named 'kind'");

    write_file(tpath("quote.csv"), "1,2,0\n3,\"4,1\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("quote.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "quote.csv:2: field 2: unterminated quoted field");

    write_file(tpath("after.csv"), "1,\"2\"x,0\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("after.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "after.csv:1: field 2: unexpected character 'x'");

    write_file(tpath("onecol.csv"), "1\n2\n");
    snprintf(spec, sizeof spec, "csv:%s", tpath("onecol.csv"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "need at least 2 columns");

    CHECK_CONTAINS(load_fail("nosuch", QS_ERR_INPUT), "unknown dataset 'nosuch'");
}

/* n rows whose feature 0 is the row id; 3 classes. */
static void make_rows(size_t n, float *x, int32_t *y)
{
    for (size_t i = 0; i < n; i++) {
        x[3 * i] = (float)i;
        x[3 * i + 1] = (float)((i * 37) % 101) * 0.5f - 10;
        x[3 * i + 2] = 5; /* constant */
        y[i] = (int32_t)(i % 3);
    }
}

static void test_split_sizes_and_overlap(void)
{
    enum { N = 1000 };
    static float x[N * 3];
    static int32_t y[N];
    make_rows(N, x, y);
    qs_data_options o = opts();
    o.standardise = 0;
    qs_dataset a, b, c;
    qs_error err;
    CHECK_INT(qs_data_from_arrays(&a, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    CHECK_INT(a.test.n, 200);
    CHECK_INT(a.val.n, 160);
    CHECK_INT(a.train.n, 640);
    CHECK_INT(a.duplicates, 0);
    /* Every row lands in exactly one split, label intact. */
    static int seen[N];
    memset(seen, 0, sizeof seen);
    for (int s = 0; s < 3; s++) {
        const qs_split *sp = qs_data_split(&a, (qs_split_id)s);
        for (size_t i = 0; i < sp->n; i++) {
            size_t id = (size_t)sp->x[3 * i];
            CHECK(id < N);
            seen[id]++;
            CHECK_INT(sp->y[i], (int)(id % 3));
        }
    }
    int once = 1;
    for (int i = 0; i < N; i++)
        once &= seen[i] == 1;
    CHECK(once);
    /* Same seed, same split; another seed, another split. */
    CHECK_INT(qs_data_from_arrays(&b, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    CHECK(memcmp(a.test.x, b.test.x, a.test.n * 3 * sizeof(float)) == 0);
    CHECK(memcmp(a.train.x, b.train.x, a.train.n * 3 * sizeof(float)) == 0);
    o.seed = 43;
    CHECK_INT(qs_data_from_arrays(&c, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    CHECK(memcmp(a.test.x, c.test.x, a.test.n * 3 * sizeof(float)) != 0);
    qs_data_free(&c);
    /* The test split does not depend on val_fraction. */
    o.seed = 42;
    o.val_fraction = 0.5;
    CHECK_INT(qs_data_from_arrays(&c, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    CHECK(memcmp(a.test.x, c.test.x, a.test.n * 3 * sizeof(float)) == 0);
    CHECK_INT(c.val.n, 400);
    qs_data_free(&c);
    /* Bad fractions and labels. */
    o.test_fraction = 1.0;
    CHECK_INT(qs_data_from_arrays(&c, "t", x, y, N, 3, 3, &o, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "test fraction");
    o = opts();
    y[5] = 3;
    CHECK_INT(qs_data_from_arrays(&c, "t", x, y, N, 3, 3, &o, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "record 5: label 3 out of range");
    y[5] = 2;
    qs_data_free(&a);
    qs_data_free(&b);
}

static void test_dedup(void)
{
    enum { N = 300 };
    static float x[N * 3];
    static int32_t y[N];
    make_rows(N, x, y);
    /* Rows 200..249 repeat rows 0..49 exactly; 250..259 repeat features, not labels. */
    for (int i = 200; i < 260; i++) {
        memcpy(x + 3 * i, x + 3 * (i - 200), 3 * sizeof(float));
        y[i] = i < 250 ? y[i - 200] : (y[i - 200] + 1) % 3;
    }
    x[3 * 299] = -0.0f; /* -0 equals +0 ... */
    x[3 * 299 + 1] = x[1];
    x[3 * 299 + 2] = 5;
    y[299] = y[0]; /* ... so row 299 duplicates row 0 */
    qs_data_options o = opts();
    qs_dataset ds;
    qs_error err;
    CHECK_INT(qs_data_from_arrays(&ds, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    CHECK_INT(ds.raw_samples, 300);
    CHECK_INT(ds.duplicates, 51);
    CHECK_INT(ds.train.n + ds.val.n + ds.test.n, 249);
    qs_data_free(&ds);
    o.drop_duplicates = 0;
    CHECK_INT(qs_data_from_arrays(&ds, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    CHECK_INT(ds.duplicates, 0);
    CHECK_INT(ds.train.n + ds.val.n + ds.test.n, 300);
    qs_data_free(&ds);
}

static void split_stats(const qs_split *s, size_t f, size_t j, double *mean, double *sd)
{
    double sum = 0, ss = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->x[i * f + j];
    *mean = sum / (double)s->n;
    for (size_t i = 0; i < s->n; i++)
        ss += (s->x[i * f + j] - *mean) * (s->x[i * f + j] - *mean);
    *sd = sqrt(ss / (double)s->n);
}

static void test_standardise(void)
{
    enum { N = 500 };
    static float x[N * 3];
    static int32_t y[N];
    make_rows(N, x, y);
    qs_data_options o = opts();
    qs_dataset ds, raw;
    qs_error err;
    CHECK_INT(qs_data_from_arrays(&ds, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    o.standardise = 0;
    CHECK_INT(qs_data_from_arrays(&raw, "t", x, y, N, 3, 3, &o, &err), QS_OK);
    double m, sd;
    for (size_t j = 0; j < 2; j++) {
        split_stats(&ds.train, 3, j, &m, &sd);
        CHECK_NEAR(m, 0, 1e-5);
        CHECK_NEAR(sd, 1, 1e-5);
        /* mean/std are train's, and val/test were transformed with them. */
        double rm, rsd;
        split_stats(&raw.train, 3, j, &rm, &rsd);
        CHECK_NEAR(ds.mean[j], rm, 1e-4 * (1 + fabs(rm)));
        CHECK_NEAR(ds.std[j], rsd, 1e-4 * rsd);
        for (size_t i = 0; i < ds.test.n; i++)
            CHECK_NEAR(ds.test.x[3 * i + j], (raw.test.x[3 * i + j] - ds.mean[j]) / ds.std[j], 1e-5);
        for (size_t i = 0; i < ds.val.n; i++)
            CHECK_NEAR(ds.val.x[3 * i + j], (raw.val.x[3 * i + j] - ds.mean[j]) / ds.std[j], 1e-5);
        split_stats(&ds.test, 3, j, &m, &sd);
        CHECK(fabs(m) > 1e-7); /* test is not re-centred on itself */
    }
    /* A constant feature gets std 1 and becomes 0. */
    CHECK_NEAR(ds.std[2], 1, 0);
    CHECK_NEAR(ds.mean[2], 5, 0);
    CHECK_NEAR(ds.test.x[2], 0, 0);
    CHECK_NEAR(raw.std[0], 1, 0);
    CHECK_NEAR(raw.mean[0], 0, 0);
    qs_data_free(&ds);
    qs_data_free(&raw);
}

static void test_split_names(void)
{
    qs_split_id id;
    qs_error err;
    CHECK_INT(qs_split_parse("val", &id, &err), QS_OK);
    CHECK_INT(id, QS_SPLIT_VAL);
    CHECK_STR(qs_split_name(id), "val");
    CHECK_INT(qs_split_parse("train", &id, &err), QS_OK);
    CHECK_STR(qs_split_name(id), "train");
    CHECK_INT(qs_split_parse("dev", &id, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "unknown split 'dev'");
}

/* IDX bytes: header (type, dims) then values as bytes. */
static size_t idx_bytes(unsigned char *out, int type, int ndims, const unsigned *dims, const unsigned char *vals,
                        size_t nvals)
{
    size_t k = 0;
    out[k++] = 0;
    out[k++] = 0;
    out[k++] = (unsigned char)type;
    out[k++] = (unsigned char)ndims;
    for (int d = 0; d < ndims; d++) {
        out[k++] = (unsigned char)(dims[d] >> 24);
        out[k++] = (unsigned char)(dims[d] >> 16);
        out[k++] = (unsigned char)(dims[d] >> 8);
        out[k++] = (unsigned char)dims[d];
    }
    memcpy(out + k, vals, nvals);
    return k + nvals;
}

/* 12 images of 2x3 (pixel = id*6 + p), labels id % 4; image ids unique. */
static void write_idx_pair(const char *images, const char *labels, int gz_images, int gz_labels)
{
    unsigned char vals[72], labs[12], buf[256];
    for (int i = 0; i < 72; i++)
        vals[i] = (unsigned char)i;
    for (int i = 0; i < 12; i++)
        labs[i] = (unsigned char)(i % 4);
    unsigned dims[3] = {12, 2, 3}, ldims[1] = {12};
    write_bytes(images, buf, idx_bytes(buf, 0x08, 3, dims, vals, 72), gz_images);
    write_bytes(labels, buf, idx_bytes(buf, 0x08, 1, ldims, labs, 12), gz_labels);
}

static void test_idx(void)
{
    mkdir(tpath("idx"), 0755);
    write_idx_pair(tpath("idx/train-images-idx3-ubyte"), tpath("idx/train-labels-idx1-ubyte.gz"), 0, 1);
    char spec[1100];
    /* Labels found as the conventional sibling (with .gz toggled). */
    snprintf(spec, sizeof spec, "idx:%s", tpath("idx/train-images-idx3-ubyte"));
    qs_data_options o = opts();
    o.standardise = 0;
    o.test_fraction = 0.25;
    o.val_fraction = 0;
    qs_dataset ds;
    qs_error err;
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_STR(ds.name, "idx");
    CHECK_CONTAINS(ds.source, "train-labels-idx1-ubyte.gz");
    CHECK_INT(ds.features, 6);
    CHECK_INT(ds.classes, 4);
    CHECK_INT(ds.test.n, 3);
    CHECK_INT(ds.train.n, 9);
    for (size_t i = 0; i < ds.train.n; i++) {
        int id = (int)ds.train.x[6 * i] / 6;
        CHECK_INT(ds.train.x[6 * i + 5], id * 6 + 5);
        CHECK_INT(ds.train.y[i], id % 4);
    }
    qs_data_free(&ds);
    /* Gzipped images, explicit labels. */
    write_idx_pair(tpath("idx/a.gz"), tpath("idx/b"), 1, 0);
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/a.gz"), tpath("idx/b"));
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_INT(ds.train.n + ds.test.n, 12);
    qs_data_free(&ds);
}

static void test_idx_errors(void)
{
    unsigned char vals[72] = {0}, labs[12] = {0}, buf[256];
    for (int i = 0; i < 72; i++)
        vals[i] = (unsigned char)i;
    unsigned dims[3] = {12, 2, 3}, ldims[1] = {12}, ldims11[1] = {11};
    size_t n = idx_bytes(buf, 0x08, 3, dims, vals, 72);
    char spec[2200];
    write_bytes(tpath("idx/lab"), buf, idx_bytes(buf, 0x08, 1, ldims, labs, 12), 0);
    /* Truncated raw file: the size check names the record. */
    n = idx_bytes(buf, 0x08, 3, dims, vals, 72);
    write_bytes(tpath("idx/trunc"), buf, n - 10, 0);
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/trunc"), tpath("idx/lab"));
    const char *m = load_fail(spec, QS_ERR_INPUT);
    CHECK_CONTAINS(m, "idx/trunc: truncated at record 10 of 12");
    /* Truncated gzipped file: found while reading. */
    write_bytes(tpath("idx/trunc.gz"), buf, n - 10, 1);
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/trunc.gz"), tpath("idx/lab"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "idx/trunc.gz: truncated at record 10 of 12");
    /* Trailing bytes. */
    n = idx_bytes(buf, 0x08, 3, dims, vals, 72);
    buf[n] = 1;
    write_bytes(tpath("idx/long.gz"), buf, n + 1, 1);
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/long.gz"), tpath("idx/lab"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "idx/long.gz: data after the last of 12 records");
    /* Bad magic, unknown type code. */
    write_file(tpath("idx/magic"), "PK\x03\x04garbage");
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/magic"), tpath("idx/lab"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "idx/magic: not an IDX file");
    n = idx_bytes(buf, 0x07, 3, dims, vals, 72);
    write_bytes(tpath("idx/type"), buf, n, 0);
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/type"), tpath("idx/lab"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "unknown IDX type code 0x07");
    /* Label count mismatch; labels out of range. */
    n = idx_bytes(buf, 0x08, 3, dims, vals, 72);
    write_bytes(tpath("idx/ok"), buf, n, 0);
    write_bytes(tpath("idx/lab11"), buf, idx_bytes(buf, 0x08, 1, ldims11, labs, 11), 0);
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/ok"), tpath("idx/lab11"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "idx/lab11: 11 labels for 12 images");
    unsigned char bigl[48] = {0};
    bigl[4 * 7] = 0x7f; /* int32 label of record 7 is 0x7f000000 */
    write_bytes(tpath("idx/labbig"), buf, idx_bytes(buf, 0x0C, 1, ldims, bigl, 48), 0);
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/ok"), tpath("idx/labbig"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "idx/labbig: record 7: label 2130706432 out of range");
    /* No labels and no sibling; a missing file. */
    snprintf(spec, sizeof spec, "idx:%s", tpath("idx/ok"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "no labels file given");
    snprintf(spec, sizeof spec, "idx:%s:%s", tpath("idx/none"), tpath("idx/lab"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "idx/none: cannot open");
}

static const char *const jsc_names[21] = {
    "j_zlogz",      "j_c1_b0_mmdt", "j_c1_b1_mmdt",    "j_c1_b2_mmdt",    "j_c2_b1_mmdt", "j_c2_b2_mmdt",
    "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt", "j_m2_b2_mmdt",
    "j_n2_b1_mmdt", "j_n2_b2_mmdt", "j_mass_mmdt",     "j_multiplicity",  "j_g",          "j_q",
    "j_w",          "j_z",          "j_t"};

typedef struct {
    double extra;    /* a field the loader ignores, first */
    float f[15];     /* j_zlogz .. j_mass_mmdt */
    int32_t mult;    /* j_multiplicity, an integer field */
    int8_t lab[5];   /* one-hot, as small integers */
} jrow;

/* Writes a JSC-like file of n rows; omit names a field left out; bad_row
 * gets a two-hot label; as_table = 0 writes a plain float dataset instead. */
static void write_jsc(const char *path, const char *dsname, int n, const char *omit, int bad_row, int as_table)
{
    jrow rows[40];
    for (int i = 0; i < n; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        rows[i].extra = -1;
        for (int j = 0; j < 15; j++)
            rows[i].f[j] = (float)(i * 0.5 + j);
        rows[i].mult = i % 7;
        rows[i].lab[i % 5] = 1;
        if (i == bad_row)
            rows[i].lab[(i + 1) % 5] = 1;
    }
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    if (!as_table) {
        hid_t d = H5Dcreate2(file, dsname, H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        float v[40] = {0};
        H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        H5Dclose(d);
    } else {
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(jrow));
        H5Tinsert(t, "extra", offsetof(jrow, extra), H5T_NATIVE_DOUBLE);
        for (int j = 0; j < 21; j++) {
            if (omit && !strcmp(omit, jsc_names[j]))
                continue;
            size_t off = j < 15   ? offsetof(jrow, f) + (size_t)j * sizeof(float)
                         : j == 15 ? offsetof(jrow, mult)
                                   : offsetof(jrow, lab) + (size_t)(j - 16);
            hid_t ft = j < 15 ? H5T_NATIVE_FLOAT : j == 15 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT8;
            H5Tinsert(t, jsc_names[j], off, ft);
        }
        hid_t d = H5Dcreate2(file, dsname, t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
        H5Dclose(d);
        H5Tclose(t);
    }
    H5Sclose(space);
    H5Fclose(file);
}

static void test_jsc(void)
{
    write_jsc(tpath("jsc.h5"), "t_allpar_new", 40, NULL, -1, 1);
    char spec[1100];
    snprintf(spec, sizeof spec, "jsc:%s", tpath("jsc.h5"));
    qs_data_options o = opts();
    o.standardise = 0;
    qs_dataset ds;
    qs_error err;
    CHECK_INT(qs_data_load(&ds, spec, &o, &err), QS_OK);
    CHECK_STR(ds.name, "jsc");
    CHECK_INT(ds.features, 16);
    CHECK_INT(ds.classes, 5);
    CHECK_STR(ds.class_names[0], "g");
    CHECK_STR(ds.class_names[4], "t");
    CHECK_INT(ds.raw_samples, 40);
    CHECK_INT(ds.train.n + ds.val.n + ds.test.n, 40);
    CHECK_INT(ds.test.n, 8);
    for (size_t i = 0; i < ds.train.n; i++) {
        const float *x = ds.train.x + 16 * i;
        int id = (int)(x[0] * 2 + 0.5);
        CHECK_NEAR(x[14], id * 0.5 + 14, 1e-6);
        CHECK_NEAR(x[15], id % 7, 0);
        CHECK_INT(ds.train.y[i], id % 5);
    }
    qs_data_free(&ds);
}

static void test_jsc_errors(void)
{
    char spec[1100];
    write_jsc(tpath("nofield.h5"), "t_allpar_new", 10, "j_mass_mmdt", -1, 1);
    snprintf(spec, sizeof spec, "jsc:%s", tpath("nofield.h5"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "nofield.h5: dataset 't_allpar_new': missing field 'j_mass_mmdt'");
    write_jsc(tpath("nolabel.h5"), "t_allpar_new", 10, "j_t", -1, 1);
    snprintf(spec, sizeof spec, "jsc:%s", tpath("nolabel.h5"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "missing field 'j_t'");
    write_jsc(tpath("name.h5"), "jets", 10, NULL, -1, 1);
    snprintf(spec, sizeof spec, "jsc:%s", tpath("name.h5"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "name.h5: no dataset 't_allpar_new'");
    write_jsc(tpath("flat.h5"), "t_allpar_new", 10, NULL, -1, 0);
    snprintf(spec, sizeof spec, "jsc:%s", tpath("flat.h5"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "flat.h5: dataset 't_allpar_new' is not a compound");
    write_jsc(tpath("twohot.h5"), "t_allpar_new", 10, NULL, 6, 1);
    snprintf(spec, sizeof spec, "jsc:%s", tpath("twohot.h5"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "twohot.h5: record 6: labels (j_g, j_q, j_w, j_z, j_t) = (0, 1, 1, 0, 0) are not one-hot");
    write_file(tpath("text.h5"), "not hdf5\n");
    snprintf(spec, sizeof spec, "jsc:%s", tpath("text.h5"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "text.h5: not an HDF5 file");
    snprintf(spec, sizeof spec, "jsc:%s", tpath("absent.h5"));
    CHECK_CONTAINS(load_fail(spec, QS_ERR_INPUT), "absent.h5: cannot open");
}

/* Every prefix of a valid file: an input error (or, for CSV, a valid shorter
 * file), never a crash (the asan build checks memory too). */
static void test_truncations(void)
{
    unsigned char vals[72], labs[12] = {0}, buf[256];
    for (int i = 0; i < 72; i++)
        vals[i] = (unsigned char)i;
    unsigned dims[3] = {12, 2, 3}, ldims[1] = {12};
    write_bytes(tpath("cut-lab"), buf, idx_bytes(buf, 0x08, 1, ldims, labs, 12), 0);
    size_t n = idx_bytes(buf, 0x08, 3, dims, vals, 72);
    char spec[2200];
    int all_input = 1;
    for (size_t len = 0; len < n; len++) {
        write_bytes(tpath("cut.idx"), buf, len, len % 2);
        snprintf(spec, sizeof spec, "idx:%s:%s", tpath("cut.idx"), tpath("cut-lab"));
        qs_data_options o = opts();
        qs_dataset ds;
        qs_error err;
        all_input &= qs_data_load(&ds, spec, &o, &err) == QS_ERR_INPUT && strstr(err.msg, "cut.idx");
    }
    CHECK(all_input);
    const char *csv = "a,b,\"c\"\r\n1,2,x\r\n3,\"4\",y\r\n5,6,\"z\"\"\"\r\n";
    int ok_or_input = 1;
    for (size_t len = 0; len <= strlen(csv); len++) {
        write_bytes(tpath("cut.csv"), csv, len, 0);
        snprintf(spec, sizeof spec, "csv:%s", tpath("cut.csv"));
        qs_data_options o = opts();
        qs_dataset ds;
        qs_error err;
        qs_status st = qs_data_load(&ds, spec, &o, &err);
        ok_or_input &= st == QS_OK || (st == QS_ERR_INPUT && strstr(err.msg, "cut.csv"));
        qs_data_free(&ds);
    }
    CHECK(ok_or_input);
    write_jsc(tpath("cut-src.h5"), "t_allpar_new", 40, NULL, -1, 1);
    FILE *f = fopen(tpath("cut-src.h5"), "rb");
    static unsigned char h5[1 << 16];
    size_t h5n = fread(h5, 1, sizeof h5, f);
    fclose(f);
    all_input = 1;
    for (size_t len = 0; len < h5n; len += 97) {
        write_bytes(tpath("cut.h5"), h5, len, 0);
        snprintf(spec, sizeof spec, "jsc:%s", tpath("cut.h5"));
        qs_data_options o = opts();
        qs_dataset ds;
        qs_error err;
        all_input &= qs_data_load(&ds, spec, &o, &err) == QS_ERR_INPUT && strstr(err.msg, "cut.h5");
    }
    CHECK(all_input);
}

static char logbuf[4096];
static void capture_log(void *ctx, const char *msg)
{
    (void)ctx;
    strncat(logbuf, msg, sizeof logbuf - strlen(logbuf) - 2);
    strcat(logbuf, "\n");
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

/* Tiny packages laid out as Debian's, built with dpkg-deb, and a fake
 * apt-get first on PATH that "downloads" them (logging each call). */
static void build_fake_archive(void)
{
    char root[600], buf[256];
    snprintf(root, sizeof root, "%s", tpath("debs"));
    mkdir(root, 0755);
    FILE *f = fopen(tpath("debs/apt-get"), "w");
    fprintf(f, "#!/bin/sh\necho \"$*\" >> '%s/calls'\n"
               "[ \"$1\" = download ] || exit 1\n"
               "if [ -f '%s/'\"$2\".deb ]; then cp '%s/'\"$2\".deb ./\"$2\"_1.0_all.deb; echo \"Get:1 fake $2\"; exit 0; fi\n"
               "echo \"E: Unable to locate package $2\" >&2; exit 100\n",
            root, root, root);
    fclose(f);
    chmod(tpath("debs/apt-get"), 0755);
    const char *pkgs[3] = {"opencv-doc", "python3-sklearn", "dataset-fashion-mnist"};
    const char *dirs[3] = {"usr/share/doc/opencv-doc/examples/data", "usr/lib/python3/dist-packages/sklearn/datasets/data",
                           "usr/share/datasets/fashion-mnist"};
    for (int p = 0; p < 3; p++) {
        snprintf(buf, sizeof buf, "pkg-%s", pkgs[p]);
        char dir[1100], ctl[1200];
        snprintf(dir, sizeof dir, "%s/%s", tpath(buf), dirs[p]);
        sh("mkdir -p '%s' '%s/DEBIAN'", dir, tpath(buf));
        snprintf(ctl, sizeof ctl, "%s/DEBIAN/control", tpath(buf));
        f = fopen(ctl, "w");
        fprintf(f, "Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n",
                pkgs[p]);
        fclose(f);
        if (p == 0) { /* letter: 26 classes x 2 rows + 1 duplicate, 16 features */
            snprintf(ctl, sizeof ctl, "%s/letter-recognition.data", dir);
            f = fopen(ctl, "w");
            for (int i = 0; i < 53; i++) {
                int id = i < 52 ? i : 0;
                fprintf(f, "%c", 'A' + id % 26);
                for (int j = 0; j < 16; j++)
                    fprintf(f, ",%d", (id * 3 + j) % 16);
                fprintf(f, "\n");
            }
            fclose(f);
        } else if (p == 1) { /* digits: 30 rows x 64 features, label last, gzipped */
            snprintf(ctl, sizeof ctl, "%s/digits.csv.gz", dir);
            gzFile g = gzopen(ctl, "wb");
            for (int i = 0; i < 30; i++) {
                for (int j = 0; j < 64; j++)
                    gzprintf(g, "%d,", (i + j) % 17);
                gzprintf(g, "%d\n", i % 10);
            }
            gzclose(g);
        } else { /* fashion-mnist: 20 train + 10 test images of 28x28 */
            static unsigned char img[256 + 20 * 784];
            unsigned char lab[20];
            for (int k = 0; k < 2; k++) {
                unsigned n = k == 0 ? 20 : 10, dims[3] = {n, 28, 28}, ld[1] = {n};
                static unsigned char vals[20 * 784];
                for (unsigned i = 0; i < n; i++) {
                    for (int j = 0; j < 784; j++)
                        vals[i * 784 + j] = (unsigned char)((i * 13 + (unsigned)j + 100u * k) % 251);
                    lab[i] = (unsigned char)(i % 10);
                }
                snprintf(ctl, sizeof ctl, "%s/%s-images-idx3-ubyte.gz", dir, k ? "t10k" : "train");
                write_bytes(ctl, img, idx_bytes(img, 0x08, 3, dims, vals, n * 784), 1);
                snprintf(ctl, sizeof ctl, "%s/%s-labels-idx1-ubyte.gz", dir, k ? "t10k" : "train");
                write_bytes(ctl, img, idx_bytes(img, 0x08, 1, ld, lab, n), 1);
            }
        }
        char deb[1100];
        snprintf(deb, sizeof deb, "%s/%s.deb", root, pkgs[p]);
        CHECK_INT(sh("dpkg-deb -Zgzip --root-owner-group --build '%s' '%s' >/dev/null", tpath(buf), deb), 0);
    }
    /* A broken opencv-doc without the data file, kept aside. */
    sh("mkdir -p '%s/DEBIAN'%s", tpath("pkg-broken"), "");
    sh("cp '%s/DEBIAN/control' '%s/DEBIAN/control'", tpath("pkg-opencv-doc"), tpath("pkg-broken"));
    sh("dpkg-deb -Zgzip --root-owner-group --build '%s' '%s/broken.deb' >/dev/null", tpath("pkg-broken"), root);
    char path[4096];
    snprintf(path, sizeof path, "%s:%s", root, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);
}

static void test_fetch(void)
{
    if (system("command -v dpkg-deb >/dev/null 2>&1") != 0) {
        fprintf(stderr, "  (dpkg-deb not found: fetch path not tested)\n");
        return;
    }
    build_fake_archive();
    qs_data_options o = opts();
    o.cache_dir = tpath("fcache/qsearch");
    qs_dataset ds;
    qs_error err;
    /* Without fetching: a clear message saying how. */
    CHECK_INT(qs_data_load(&ds, "letter", &o, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "run `qsearch data fetch letter`");
    /* With fetching: downloads once, says so. */
    o.allow_fetch = 1;
    qs_log_set(capture_log, NULL);
    logbuf[0] = '\0';
    CHECK_INT(qs_data_load(&ds, "letter", &o, &err), QS_OK);
    CHECK_CONTAINS(logbuf, "downloading letter (UCI Letter Recognition) from Debian package opencv-doc into");
    CHECK_CONTAINS(ds.source, "fcache/qsearch/letter-recognition.data");
    CHECK_INT(ds.features, 16);
    CHECK_INT(ds.classes, 26);
    CHECK_STR(ds.class_names[25], "Z");
    CHECK_INT(ds.raw_samples, 53);
    CHECK_INT(ds.duplicates, 1);
    qs_data_free(&ds);
    CHECK_INT(qs_data_load(&ds, "letter", &o, &err), QS_OK);
    qs_data_free(&ds);
    CHECK_INT(count_lines(tpath("debs/calls")), 1);
    /* digits: a gzipped member kept gzipped. */
    char *path = NULL;
    CHECK_INT(qs_data_fetch("digits", &o, &path, &err), QS_OK);
    CHECK_CONTAINS(path, "fcache/qsearch/digits.csv.gz");
    free(path);
    CHECK_INT(qs_data_load(&ds, "digits", &o, &err), QS_OK);
    CHECK_INT(ds.features, 64);
    CHECK_INT(ds.classes, 10);
    CHECK_INT(ds.raw_samples, 30);
    qs_data_free(&ds);
    /* fashion-mnist: the official test set is the test split. */
    CHECK_INT(qs_data_load(&ds, "fashion-mnist", &o, &err), QS_OK);
    CHECK_INT(ds.features, 784);
    CHECK_INT(ds.classes, 10);
    CHECK_STR(ds.class_names[0], "T-shirt/top");
    CHECK_STR(ds.class_names[9], "Ankle boot");
    if (strstr(ds.source, "fcache")) { /* not Debian's installed copy */
        CHECK_INT(ds.raw_samples, 30);
        CHECK_INT(ds.test.n, 10);
        CHECK_INT(ds.val.n, 4);
        CHECK_INT(ds.train.n, 16);
    }
    qs_data_free(&ds);
    CHECK_INT(qs_data_fetch("mnist", &o, &path, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "unknown dataset 'mnist'");
    qs_log_set(NULL, NULL);
}

static void test_fetch_failures(void)
{
    if (system("command -v dpkg-deb >/dev/null 2>&1") != 0)
        return;
    qs_data_options o = opts();
    o.allow_fetch = 1;
    o.cache_dir = tpath("fcache2");
    qs_dataset ds;
    qs_error err;
    /* apt-get fails: its exit status and last words, nothing left behind. */
    rename(tpath("debs/opencv-doc.deb"), tpath("debs/opencv-doc.deb.off"));
    CHECK_INT(qs_data_load(&ds, "letter", &o, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, "fetching letter: apt-get download opencv-doc failed (exit 100): is apt configured");
    CHECK_CONTAINS(err.msg, "E: Unable to locate package opencv-doc");
    /* The package lacks the member: tar fails, nothing left behind. */
    rename(tpath("debs/broken.deb"), tpath("debs/opencv-doc.deb"));
    CHECK_INT(qs_data_load(&ds, "letter", &o, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, "tar -x failed");
    CHECK_CONTAINS(err.msg, "letter-recognition.data");
    CHECK_INT(sh("[ -z \"$(ls -A '%s')\" ]%s", tpath("fcache2"), ""), 0);
    rename(tpath("debs/opencv-doc.deb.off"), tpath("debs/opencv-doc.deb"));
    /* No cache directory at all. */
    o.cache_dir = NULL;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *sx = xdg ? strdup(xdg) : NULL, *sh_ = home ? strdup(home) : NULL;
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    CHECK_INT(qs_data_load(&ds, "letter", &o, &err), QS_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "neither XDG_CACHE_HOME nor HOME");
    if (sx)
        setenv("XDG_CACHE_HOME", sx, 1);
    if (sh_)
        setenv("HOME", sh_, 1);
    free(sx);
    free(sh_);
}

int main(void)
{
    const char *base = getenv("QS_TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/qs-data-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_csv_letter_like);
    RUN(test_csv_quoted_crlf_header);
    RUN(test_csv_gz_integer_labels);
    RUN(test_csv_errors);
    RUN(test_split_sizes_and_overlap);
    RUN(test_dedup);
    RUN(test_standardise);
    RUN(test_split_names);
    RUN(test_idx);
    RUN(test_idx_errors);
    RUN(test_jsc);
    RUN(test_jsc_errors);
    RUN(test_truncations);
    RUN(test_fetch);
    RUN(test_fetch_failures);
    sh("rm -rf '%s'%s", tmpdir, "");
    return qs_test_summary();
}
