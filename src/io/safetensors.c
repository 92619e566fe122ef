/* Model files in the safetensors format (8-byte LE header length, JSON header,
 * raw LE tensor data), with names as the PyTorch state_dict of MASE's JSC
 * models. Loading validates every field before anything is trusted. */
#include "qsearch/safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qsearch/fs.h"

#ifndef QS_VERSION
#define QS_VERSION "unknown"
#endif

#define MAX_FILE_BYTES ((size_t)2 << 30)

/* One tensor of a model: its state_dict name, where its values live, its shape. */
typedef struct {
    char name[64];
    const char *dtype;      /* "F32" or "I64" */
    float *f32;             /* F32 values, or NULL */
    int64_t *i64;           /* I64 scalar, or NULL */
    size_t ndim;
    size_t shape[2];
    size_t numel;
} tensor_ref;

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Lists the tensors the model's state_dict has, in layer order. Returns the count. */
static size_t list_tensors(const qs_model *m, tensor_ref *t, size_t cap)
{
    size_t n = 0;
#define ADD(suffix, dt, fp, ip, nd, s0, s1)                                              \
    do {                                                                                \
        QS_ASSERT(n < cap);                                                             \
        snprintf(t[n].name, sizeof t[n].name, "seq_blocks.%zu.%s", i, suffix);          \
        t[n].dtype = dt, t[n].f32 = fp, t[n].i64 = ip, t[n].ndim = nd;                  \
        t[n].shape[0] = s0, t[n].shape[1] = s1;                                         \
        t[n].numel = nd == 0 ? 1 : nd == 1 ? (size_t)(s0) : (size_t)(s0) * (size_t)(s1); \
        n++;                                                                            \
    } while (0)
    for (size_t i = 0; i < m->n_layers; i++) {
        qs_layer *l = &m->layers[i];
        if (l->kind == QS_LAYER_LINEAR) {
            ADD("weight", "F32", l->weight, NULL, 2, l->out.c, l->in.c);
            ADD("bias", "F32", l->bias, NULL, 1, l->out.c, 0);
        } else if (l->kind == QS_LAYER_BATCHNORM1D) {
            ADD("weight", "F32", l->gamma, NULL, 1, l->in.c, 0);
            ADD("bias", "F32", l->beta, NULL, 1, l->in.c, 0);
            ADD("running_mean", "F32", l->running_mean, NULL, 1, l->in.c, 0);
            ADD("running_var", "F32", l->running_var, NULL, 1, l->in.c, 0);
            ADD("num_batches_tracked", "I64", NULL, &l->num_batches_tracked, 0, 0, 0);
        }
    }
#undef ADD
    return n;
}

static size_t max_tensors(const qs_model *m) { return 5 * m->n_layers + 1; }

/* ---- saving ---- */

static char *json_text_floats(const float *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    char *s = a ? json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(a);
    return s;
}

static char *json_text_strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

static json_t *build_metadata(const qs_model *m, const qs_model_meta *meta)
{
    json_t *md = json_object();
    char num[32];
    json_object_set_new(md, "format", json_string("qsearch-model"));
    json_object_set_new(md, "qsearch_version", json_string(QS_VERSION));
    json_object_set_new(md, "arch", json_string(m->arch));
    snprintf(num, sizeof num, "%zu", m->in_features);
    json_object_set_new(md, "in_features", json_string(num));
    snprintf(num, sizeof num, "%zu", m->classes);
    json_object_set_new(md, "classes", json_string(num));
    if (meta && meta->class_names && meta->classes) {
        char *s = json_text_strings(meta->class_names, meta->classes);
        json_object_set_new(md, "class_names", json_string(s ? s : "[]"));
        free(s);
    }
    if (meta && meta->input_mean && meta->input_std && meta->features) {
        char *s = json_text_floats(meta->input_mean, meta->features);
        json_object_set_new(md, "input_mean", json_string(s ? s : "[]"));
        free(s);
        s = json_text_floats(meta->input_std, meta->features);
        json_object_set_new(md, "input_std", json_string(s ? s : "[]"));
        free(s);
    }
    if (meta && meta->dataset[0])
        json_object_set_new(md, "dataset", json_string(meta->dataset));
    if (meta && meta->training)
        json_object_set_new(md, "training", json_string(meta->training));
    return md;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes as safetensors does. */
static char *build_header(const qs_model *m, const qs_model_meta *meta, const tensor_ref *t,
                          size_t nt, size_t *len)
{
    json_t *h = json_object();
    json_object_set_new(h, "__metadata__", build_metadata(m, meta));
    size_t off = 0;
    for (size_t i = 0; i < nt; i++) {
        json_t *shape = json_array();
        for (size_t d = 0; d < t[i].ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)t[i].shape[d]));
        size_t bytes = t[i].numel * (t[i].i64 ? 8 : 4);
        json_object_set_new(h, t[i].name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", t[i].dtype, "shape", shape,
                                      "data_offsets", (json_int_t)off, (json_int_t)(off + bytes)));
        off += bytes;
    }
    char *s = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    if (!s)
        return NULL;
    size_t n = strlen(s), padded = (n + 7) / 8 * 8;
    char *p = realloc(s, padded + 1);
    if (!p) {
        free(s);
        return NULL;
    }
    memset(p + n, ' ', padded - n);
    p[padded] = '\0';
    *len = padded;
    return p;
}

static int write_all(FILE *f, const qs_model *m, const char *header, size_t hlen,
                     const tensor_ref *t, size_t nt)
{
    (void)m;
    unsigned char lenle[8];
    for (int b = 0; b < 8; b++)
        lenle[b] = (unsigned char)((uint64_t)hlen >> (8 * b));
    if (fwrite(lenle, 1, 8, f) != 8 || fwrite(header, 1, hlen, f) != hlen)
        return 0;
    for (size_t i = 0; i < nt; i++) {
        if (t[i].i64 ? fwrite(t[i].i64, 8, 1, f) != 1
                     : (t[i].numel && fwrite(t[i].f32, 4, t[i].numel, f) != t[i].numel))
            return 0;
    }
    return 1;
}

qs_status qs_safetensors_save_model(const char *path, const qs_model *m, const qs_model_meta *meta,
                                    qs_error *err)
{
    if (!host_is_le())
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s: big-endian hosts are not supported",
                            path);
    size_t cap = max_tensors(m), nt, hlen = 0;
    tensor_ref *t = calloc(cap, sizeof *t);
    char *header = NULL;
    qs_status st = QS_OK;
    if (!t) {
        st = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    nt = list_tensors((qs_model *)m, t, cap);
    if (!(header = build_header(m, meta, t, nt, &hlen))) {
        st = qs_error_set(err, QS_ERR_NOMEM, "%s: cannot build the JSON header", path);
        goto done;
    }
    /* Write beside the target and rename: readers never see a partial file. */
    qs_fs_atomic w;
    st = qs_fs_atomic_open(&w, path, err);
    if (st == QS_OK) {
        (void)write_all(w.f, m, header, hlen, t, nt); /* a failed write is reported by the commit */
        st = qs_fs_atomic_commit(&w, err);
    }
done:
    free(header);
    free(t);
    return st;
}

/* ---- loading ---- */

typedef struct {
    const char *name;       /* key in the header (owned by the JSON document) */
    int i64;                /* 1: I64, 0: F32 */
    size_t ndim;
    size_t shape[8];
    size_t numel;
    size_t begin, end;      /* byte offsets into the data area */
} entry;

static qs_status read_file(const char *path, unsigned char **buf, size_t *size, qs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return qs_error_set(err, errno == ENOENT ? QS_ERR_INPUT : QS_ERR_IO, "%s: cannot open: %s",
                            path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return qs_error_set(err, QS_ERR_INPUT, "%s: not a regular file", path);
    }
    if ((unsigned long long)sb.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return qs_error_set(err, QS_ERR_INPUT, "%s: %lld bytes is too large for a model file",
                            path, (long long)sb.st_size);
    }
    *size = (size_t)sb.st_size;
    *buf = malloc(*size + 1);
    if (!*buf) {
        fclose(f);
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(*buf, 1, *size, f);
    fclose(f);
    if (got != *size) {
        free(*buf);
        *buf = NULL;
        return qs_error_set(err, QS_ERR_IO, "%s: read failed", path);
    }
    return QS_OK;
}

static int dtype_size(const char *d)
{
    static const struct {
        const char *name;
        int size;
    } known[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
                 {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
                 {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(d, known[i].name) == 0)
            return known[i].size;
    return 0;
}

/* Reads a JSON integer in 0..limit into *v. */
static int get_size(json_t *j, size_t limit, size_t *v)
{
    if (!json_is_integer(j) || json_integer_value(j) < 0 ||
        (unsigned long long)json_integer_value(j) > limit)
        return 0;
    *v = (size_t)json_integer_value(j);
    return 1;
}

static qs_status parse_entry(const char *path, const char *name, json_t *v, size_t dsize,
                             entry *e, qs_error *err)
{
    e->name = name;
    if (!json_is_object(v))
        return qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': entry is not an object", path,
                            name);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
            return qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': unexpected field '%s'", path,
                                name, k);
    }
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
           *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt))
        return qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': dtype missing or not a string",
                            path, name);
    const char *d = json_string_value(dt);
    int esize = dtype_size(d);
    if (!esize)
        return qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': unknown dtype '%s'", path, name, d);
    if (strcmp(d, "F32") != 0 && strcmp(d, "I64") != 0)
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: tensor '%s': dtype %s not supported (qsearch reads F32 and I64)",
                            path, name, d);
    e->i64 = d[0] == 'I';
    if (!json_is_array(sh) || json_array_size(sh) > 8)
        return qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': shape must be an array of at most 8 sizes",
                            path, name);
    e->ndim = json_array_size(sh);
    e->numel = 1;
    for (size_t i = 0; i < e->ndim; i++) {
        if (!get_size(json_array_get(sh, i), (size_t)1 << 40, &e->shape[i]))
            return qs_error_set(err, QS_ERR_INPUT,
                                "%s: tensor '%s': shape[%zu] is not a non-negative integer", path,
                                name, i);
        e->numel *= e->shape[i];
        if (e->numel > ((size_t)1 << 40))
            return qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': shape too large", path, name);
    }
    if (!json_is_array(off) || json_array_size(off) != 2 ||
        !get_size(json_array_get(off, 0), (size_t)1 << 50, &e->begin) ||
        !get_size(json_array_get(off, 1), (size_t)1 << 50, &e->end))
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: tensor '%s': data_offsets must be [begin, end] non-negative integers",
                            path, name);
    if (e->end < e->begin || e->end > dsize)
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: tensor '%s': data_offsets [%zu, %zu] outside the data area of %zu bytes",
                            path, name, e->begin, e->end, dsize);
    if (e->end - e->begin != e->numel * (size_t)esize)
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: tensor '%s': data_offsets span %zu bytes but shape and dtype need %zu",
                            path, name, e->end - e->begin, e->numel * (size_t)esize);
    return QS_OK;
}

static int cmp_begin(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The spec requires the data area to be fully indexed: no overlap, no gap. */
static qs_status check_coverage(const char *path, entry *e, size_t n, size_t dsize, qs_error *err)
{
    qsort(e, n, sizeof *e, cmp_begin);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].begin < pos)
            return qs_error_set(err, QS_ERR_INPUT,
                                "%s: tensor '%s': data_offsets [%zu, %zu] overlap tensor '%s'", path,
                                e[i].name, e[i].begin, e[i].end, e[i - 1].name);
        if (e[i].begin > pos)
            return qs_error_set(err, QS_ERR_INPUT,
                                "%s: tensor '%s': gap of %zu unindexed bytes before it", path,
                                e[i].name, e[i].begin - pos);
        pos = e[i].end;
    }
    if (pos != dsize)
        return qs_error_set(err, QS_ERR_INPUT, "%s: %zu trailing data bytes not indexed by any tensor",
                            path, dsize - pos);
    return QS_OK;
}

/* A metadata value: must be a string when present. */
static qs_status md_string(const char *path, json_t *md, const char *key, int required,
                           const char **out, qs_error *err)
{
    json_t *v = md ? json_object_get(md, key) : NULL;
    *out = NULL;
    if (!v) {
        if (required)
            return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.%s is missing", path, key);
        return QS_OK;
    }
    if (!json_is_string(v))
        return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.%s is not a string", path, key);
    *out = json_string_value(v);
    return QS_OK;
}

static qs_status md_count(const char *path, json_t *md, const char *key, size_t *out,
                          qs_error *err)
{
    const char *s;
    QS_TRY(md_string(path, md, key, 1, &s, err));
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || v == 0 || v > (1u << 20))
        return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.%s: '%s' is not a count in 1..%u",
                            path, key, s, 1u << 20);
    *out = (size_t)v;
    return QS_OK;
}

/* Parses a JSON-array-in-a-string metadata value of n numbers (positive when
 * positive is set) into a new float array. */
static qs_status md_floats(const char *path, const char *key, const char *text, size_t n,
                           int positive, float **out, qs_error *err)
{
    json_error_t je;
    json_t *a = json_loads(text, 0, &je);
    qs_status st = QS_OK;
    if (!json_is_array(a) || json_array_size(a) != n) {
        st = qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.%s: expected a JSON array of %zu numbers",
                          path, key, n);
        goto done;
    }
    *out = malloc(n * sizeof **out);
    if (!*out) {
        st = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        double d = json_number_value(v);
        if (!json_is_number(v) || !isfinite(d) || (positive && !(d > 0))) {
            st = qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.%s[%zu]: not a %snumber", path,
                              key, i, positive ? "positive " : "finite ");
            goto done;
        }
        (*out)[i] = (float)d;
    }
done:
    json_decref(a);
    return st;
}

static qs_status md_class_names(const char *path, const char *text, size_t classes,
                                qs_model_meta *meta, qs_error *err)
{
    json_error_t je;
    json_t *a = json_loads(text, 0, &je);
    qs_status st = QS_OK;
    if (!json_is_array(a) || json_array_size(a) != classes) {
        st = qs_error_set(err, QS_ERR_INPUT,
                          "%s: __metadata__.class_names: expected a JSON array of %zu strings", path,
                          classes);
        goto done;
    }
    meta->class_names = calloc(classes, sizeof *meta->class_names);
    if (!meta->class_names) {
        st = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    meta->classes = classes;
    for (size_t i = 0; i < classes; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v)) {
            st = qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.class_names[%zu]: not a string",
                              path, i);
            goto done;
        }
        size_t len = strlen(json_string_value(v)) + 1;
        if (!(meta->class_names[i] = malloc(len))) {
            st = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        memcpy(meta->class_names[i], json_string_value(v), len);
    }
done:
    json_decref(a);
    return st;
}

static qs_status read_meta(const char *path, json_t *md, const qs_model *m, qs_model_meta *meta,
                           qs_error *err)
{
    const char *s;
    QS_TRY(md_string(path, md, "class_names", 0, &s, err));
    if (s)
        QS_TRY(md_class_names(path, s, m->classes, meta, err));
    const char *mean, *std;
    QS_TRY(md_string(path, md, "input_mean", 0, &mean, err));
    QS_TRY(md_string(path, md, "input_std", 0, &std, err));
    if (!mean != !std)
        return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__: input_mean and input_std come together",
                            path);
    if (mean) {
        QS_TRY(md_floats(path, "input_mean", mean, m->in_features, 0, &meta->input_mean, err));
        QS_TRY(md_floats(path, "input_std", std, m->in_features, 1, &meta->input_std, err));
        meta->features = m->in_features;
    }
    QS_TRY(md_string(path, md, "dataset", 0, &s, err));
    if (s)
        snprintf(meta->dataset, sizeof meta->dataset, "%s", s);
    QS_TRY(md_string(path, md, "qsearch_version", 0, &s, err));
    if (s)
        snprintf(meta->version, sizeof meta->version, "%s", s);
    QS_TRY(md_string(path, md, "training", 0, &s, err));
    if (s) {
        json_error_t je;
        json_t *t = json_loads(s, 0, &je);
        int ok = json_is_object(t);
        json_decref(t);
        if (!ok)
            return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.training: not a JSON object",
                                path);
        size_t len = strlen(s) + 1;
        if (!(meta->training = malloc(len)))
            return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
        memcpy(meta->training, s, len);
    }
    return QS_OK;
}

/* Builds the model the metadata names. */
static qs_status model_from_meta(const char *path, json_t *md, qs_model **out, qs_error *err)
{
    if (!md)
        return qs_error_set(err, QS_ERR_INPUT, "%s: no __metadata__ (not a qsearch model file)",
                            path);
    if (!json_is_object(md))
        return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__ is not an object", path);
    const char *k;
    json_t *v;
    json_object_foreach(md, k, v) {
        if (!json_is_string(v))
            return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.%s is not a string", path, k);
    }
    const char *format, *arch;
    QS_TRY(md_string(path, md, "format", 1, &format, err));
    if (strcmp(format, "qsearch-model") != 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: __metadata__.format is '%s', not 'qsearch-model'",
                            path, format);
    QS_TRY(md_string(path, md, "arch", 1, &arch, err));
    size_t in, classes;
    QS_TRY(md_count(path, md, "in_features", &in, err));
    QS_TRY(md_count(path, md, "classes", &classes, err));
    qs_status st = qs_model_build(out, arch, in, classes, 0, err);
    if (st != QS_OK)
        qs_error_prefix(err, "%s: __metadata__.arch", path);
    return st;
}

/* Matches the file's tensors with the model's and copies the values in. */
static qs_status fill_tensors(const char *path, qs_model *m, const entry *e, size_t ne,
                              const unsigned char *data, qs_error *err)
{
    size_t cap = max_tensors(m);
    tensor_ref *t = calloc(cap, sizeof *t);
    if (!t)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
    size_t nt = list_tensors(m, t, cap);
    qs_status st = QS_OK;
    for (size_t i = 0; i < ne && st == QS_OK; i++) {
        size_t j = 0;
        while (j < nt && strcmp(t[j].name, e[i].name) != 0)
            j++;
        if (j == nt)
            st = qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': unexpected for arch %s", path,
                              e[i].name, m->arch);
    }
    for (size_t j = 0; j < nt && st == QS_OK; j++) {
        const entry *f = NULL;
        for (size_t i = 0; i < ne && !f; i++)
            if (strcmp(t[j].name, e[i].name) == 0)
                f = &e[i];
        if (!f) {
            st = qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s' is missing (arch %s needs it)",
                              path, t[j].name, m->arch);
            break;
        }
        int same = f->ndim == t[j].ndim && f->i64 == (t[j].i64 != NULL);
        for (size_t d = 0; same && d < f->ndim; d++)
            same = f->shape[d] == t[j].shape[d];
        if (!same) {
            char want[64];
            if (t[j].ndim == 2)
                snprintf(want, sizeof want, "%s [%zu, %zu]", t[j].dtype, t[j].shape[0], t[j].shape[1]);
            else if (t[j].ndim == 1)
                snprintf(want, sizeof want, "%s [%zu]", t[j].dtype, t[j].shape[0]);
            else
                snprintf(want, sizeof want, "%s []", t[j].dtype);
            st = qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': expected %s for arch %s", path,
                              t[j].name, want, m->arch);
            break;
        }
        if (t[j].i64) {
            memcpy(t[j].i64, data + f->begin, 8);
            if (*t[j].i64 < 0)
                st = qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': negative count", path,
                                  t[j].name);
            continue;
        }
        memcpy(t[j].f32, data + f->begin, t[j].numel * sizeof(float));
        for (size_t k = 0; k < t[j].numel; k++)
            if (!isfinite(t[j].f32[k])) {
                st = qs_error_set(err, QS_ERR_INPUT, "%s: tensor '%s': value %zu is %s", path,
                                  t[j].name, k, isnan(t[j].f32[k]) ? "NaN" : "infinite");
                break;
            }
    }
    free(t);
    return st;
}

/* Checks the framing (length, JSON object) and parses every tensor entry. */
static qs_status parse_header_json(const char *path, const unsigned char *buf, size_t size,
                                   json_t **root, entry **ents, size_t *ne, qs_error *err)
{
    if (size < 8)
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: file too short (%zu bytes; a safetensors file starts with an 8-byte header length)",
                            path, size);
    uint64_t hlen = 0;
    for (int b = 7; b >= 0; b--)
        hlen = hlen << 8 | buf[b];
    if (hlen > size - 8)
        return qs_error_set(err, QS_ERR_INPUT, "%s: header length %llu exceeds the file's %zu bytes",
                            path, (unsigned long long)hlen, size - 8);
    if (hlen > QS_SAFETENSORS_MAX_HEADER)
        return qs_error_set(err, QS_ERR_INPUT, "%s: header length %llu exceeds the 100 MB limit",
                            path, (unsigned long long)hlen);
    json_error_t je;
    *root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!*root)
        return qs_error_set(err, QS_ERR_INPUT, "%s: header is not valid JSON: %d:%d: %s", path,
                            je.line, je.column, je.text);
    if (!json_is_object(*root))
        return qs_error_set(err, QS_ERR_INPUT, "%s: header is not a JSON object", path);
    size_t dsize = size - 8 - (size_t)hlen, n = 0;
    *ents = calloc(json_object_size(*root) + 1, sizeof **ents);
    if (!*ents)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
    const char *k;
    json_t *v;
    json_object_foreach(*root, k, v) {
        if (strcmp(k, "__metadata__") == 0)
            continue;
        QS_TRY(parse_entry(path, k, v, dsize, &(*ents)[n], err));
        n++;
    }
    *ne = n;
    return check_coverage(path, *ents, n, dsize, err);
}

qs_status qs_safetensors_load_model(const char *path, qs_model **out, qs_model_meta *meta,
                                    qs_error *err)
{
    *out = NULL;
    if (meta)
        qs_model_meta_init(meta);
    if (!host_is_le())
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s: big-endian hosts are not supported",
                            path);
    unsigned char *buf = NULL;
    size_t size = 0, ne = 0;
    QS_TRY(read_file(path, &buf, &size, err));
    json_t *root = NULL;
    entry *ents = NULL;
    qs_model *m = NULL;
    qs_status st = parse_header_json(path, buf, size, &root, &ents, &ne, err);
    json_t *md = root ? json_object_get(root, "__metadata__") : NULL;
    if (st == QS_OK)
        st = model_from_meta(path, md, &m, err);
    if (st == QS_OK) {
        uint64_t hlen = 0;
        for (int b = 7; b >= 0; b--)
            hlen = hlen << 8 | buf[b];
        st = fill_tensors(path, m, ents, ne, buf + 8 + hlen, err);
    }
    if (st == QS_OK && meta)
        st = read_meta(path, md, m, meta, err);
    if (st != QS_OK) {
        qs_model_delete(m);
        qs_model_meta_free(meta);
        m = NULL;
    }
    free(ents);
    json_decref(root);
    free(buf);
    *out = m;
    return st;
}
