/* IDX loader (the MNIST format), raw or gzipped: big-endian header
 * (0, 0, type code, dims), dims as big-endian u32, then the values. Every
 * field is validated; records are read one at a time so a bogus count in a
 * header costs nothing until data backs it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data_internal.h"

#define IDX_MAX_DIMS 8

typedef struct {
    const char *path;
    gzFile gz;
    int type;          /* 0x08 ubyte, 0x09 sbyte, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64 */
    size_t elem;       /* bytes per value */
    int ndims;
    size_t dims[IDX_MAX_DIMS];
    size_t n;          /* dims[0] */
    size_t per;        /* values per record: product of dims[1..] */
    size_t header;     /* bytes */
} idx_file;

static size_t type_size(int type)
{
    switch (type) {
    case 0x08:
    case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C:
    case 0x0D: return 4;
    case 0x0E: return 8;
    }
    return 0;
}

static qs_status read_exact(idx_file *f, void *buf, size_t len, size_t *got, qs_error *err)
{
    *got = 0;
    while (*got < len) {
        unsigned chunk = len - *got > (1u << 30) ? (1u << 30) : (unsigned)(len - *got);
        int r = gzread(f->gz, (char *)buf + *got, chunk);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f->gz, &zerr);
            if (zerr == Z_BUF_ERROR) /* gzip stream cut short: report it as the truncation it is */
                break;
            return qs_error_set(err, QS_ERR_INPUT, "%s: read failed: %s", f->path, msg);
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return QS_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static qs_status open_idx(idx_file *f, const char *path, qs_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return qs_error_set(err, QS_ERR_INPUT, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    unsigned char h[4 + 4 * IDX_MAX_DIMS];
    size_t got;
    QS_TRY(read_exact(f, h, 4, &got, err));
    if (got < 4)
        return qs_error_set(err, QS_ERR_INPUT, "%s: truncated header (%zu of 4 magic bytes)", path, got);
    if (h[0] || h[1])
        return qs_error_set(err, QS_ERR_INPUT, "%s: not an IDX file (magic %02x %02x %02x %02x)", path, h[0], h[1],
                            h[2], h[3]);
    f->type = h[2];
    f->elem = type_size(f->type);
    if (!f->elem)
        return qs_error_set(err, QS_ERR_INPUT, "%s: unknown IDX type code 0x%02x", path, f->type);
    f->ndims = h[3];
    if (f->ndims < 1 || f->ndims > IDX_MAX_DIMS)
        return qs_error_set(err, QS_ERR_INPUT, "%s: %d dimensions (expected 1..%d)", path, f->ndims, IDX_MAX_DIMS);
    QS_TRY(read_exact(f, h + 4, 4 * (size_t)f->ndims, &got, err));
    if (got < 4 * (size_t)f->ndims)
        return qs_error_set(err, QS_ERR_INPUT, "%s: truncated header (dimension %zu)", path, got / 4);
    f->per = 1;
    for (int d = 0; d < f->ndims; d++) {
        f->dims[d] = be32(h + 4 + 4 * d);
        if (d > 0) {
            if (f->dims[d] == 0 || f->per > ((size_t)1 << 28) / f->dims[d])
                return qs_error_set(err, QS_ERR_INPUT, "%s: dimension %d is %zu (record size 0 or over 2^28 values)",
                                    path, d, f->dims[d]);
            f->per *= f->dims[d];
        }
    }
    f->n = f->dims[0];
    f->header = 4 + 4 * (size_t)f->ndims;
    if (f->n == 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: no records (dimension 0 is 0)", path);
    return QS_OK;
}

/* For an uncompressed file the size must match the header exactly. */
static qs_status check_size(const idx_file *f, qs_error *err)
{
    struct stat sb;
    if (!gzdirect(f->gz) || stat(f->path, &sb) != 0)
        return QS_OK;
    size_t rec = f->per * f->elem, size = (size_t)sb.st_size, data = size - f->header;
    if (data / rec < f->n)
        return qs_error_set(err, QS_ERR_INPUT, "%s: truncated at record %zu of %zu (file is %zu bytes, header says %zu)",
                            f->path, data / rec, f->n, size, f->header + f->n * rec);
    if (data / rec > f->n || data % rec)
        return qs_error_set(err, QS_ERR_INPUT, "%s: %zu bytes after the last record (header says %zu records)", f->path,
                            data - f->n * rec, f->n);
    return QS_OK;
}

static double value(const unsigned char *p, int type)
{
    uint32_t u;
    switch (type) {
    case 0x08: return p[0];
    case 0x09: return (signed char)p[0];
    case 0x0B: return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
    case 0x0C: return (int32_t)be32(p);
    case 0x0D: {
        float v;
        u = be32(p);
        memcpy(&v, &u, 4);
        return v;
    }
    default: {
        uint64_t w = (uint64_t)be32(p) << 32 | be32(p + 4);
        double v;
        memcpy(&v, &w, 8);
        return v;
    }
    }
}

/* Reads record k into out[f->per]; bytes is scratch of per*elem. */
static qs_status read_record(idx_file *f, size_t k, unsigned char *bytes, double *out, qs_error *err)
{
    size_t got, len = f->per * f->elem;
    QS_TRY(read_exact(f, bytes, len, &got, err));
    if (got < len)
        return qs_error_set(err, QS_ERR_INPUT, "%s: truncated at record %zu of %zu (%zu of its %zu bytes present)",
                            f->path, k, f->n, got, len);
    if (f->type == 0x08) { /* the common case: unsigned bytes */
        for (size_t i = 0; i < f->per; i++)
            out[i] = bytes[i];
        return QS_OK;
    }
    for (size_t i = 0; i < f->per; i++) {
        out[i] = value(bytes + i * f->elem, f->type);
        if (!isfinite(out[i]) || !isfinite((float)out[i]))
            return qs_error_set(err, QS_ERR_INPUT, "%s: record %zu: value %zu is not a finite float", f->path, k, i);
    }
    return QS_OK;
}

static qs_status check_end(idx_file *f, qs_error *err)
{
    unsigned char extra;
    size_t got;
    QS_TRY(read_exact(f, &extra, 1, &got, err));
    if (got)
        return qs_error_set(err, QS_ERR_INPUT, "%s: data after the last of %zu records (file longer than its header says)",
                            f->path, f->n);
    return QS_OK;
}

static qs_status read_images(qs_data_raw *raw, idx_file *im, qs_error *err)
{
    if (im->ndims < 2)
        return qs_error_set(err, QS_ERR_INPUT, "%s: an images file needs 2 or more dimensions, this one has 1", im->path);
    if (raw->features && raw->features != im->per)
        return qs_error_set(err, QS_ERR_INPUT, "%s: %zu values per record, expected %zu as in the other file",
                            im->path, im->per, raw->features);
    raw->features = im->per;
    QS_TRY(check_size(im, err));
    unsigned char *bytes = malloc(im->per * im->elem);
    double *vals = malloc(im->per * sizeof *vals);
    qs_status st = bytes && vals ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", im->path);
    for (size_t k = 0; !st && k < im->n; k++) {
        st = qs_data_raw_reserve(raw, 1, err);
        if (!st)
            st = read_record(im, k, bytes, vals, err);
        if (st)
            break;
        float *x = raw->x + raw->n * raw->features;
        for (size_t i = 0; i < im->per; i++)
            x[i] = (float)vals[i] + 0.0f; /* -0 -> +0 */
        raw->y[raw->n++] = 0;             /* the labels file fills y */
    }
    if (!st)
        st = check_end(im, err);
    free(bytes);
    free(vals);
    return st;
}

static qs_status read_labels(qs_data_raw *raw, idx_file *lb, size_t first, size_t count, const char *images,
                             size_t *max_label, qs_error *err)
{
    if (lb->ndims != 1)
        return qs_error_set(err, QS_ERR_INPUT, "%s: a labels file has 1 dimension, this one has %d", lb->path,
                            lb->ndims);
    if (lb->type == 0x0D || lb->type == 0x0E)
        return qs_error_set(err, QS_ERR_INPUT, "%s: labels must be integers (type code 0x%02x is a float)", lb->path,
                            lb->type);
    if (lb->n != count)
        return qs_error_set(err, QS_ERR_INPUT, "%s: %zu labels for %zu images in %s", lb->path, lb->n, count, images);
    QS_TRY(check_size(lb, err));
    unsigned char bytes[8];
    double v;
    for (size_t k = 0; k < count; k++) {
        QS_TRY(read_record(lb, k, bytes, &v, err));
        if (v < 0 || v > QS_DATA_MAX_INT_LABEL)
            return qs_error_set(err, QS_ERR_INPUT, "%s: record %zu: label %.0f out of range (0..%d)", lb->path, k, v,
                                QS_DATA_MAX_INT_LABEL);
        raw->y[first + k] = (int32_t)v;
        if ((size_t)v > *max_label)
            *max_label = (size_t)v;
    }
    return check_end(lb, err);
}

qs_status qs_data_idx_read(qs_data_raw *raw, const char *images, const char *labels, qs_error *err)
{
    idx_file im, lb;
    size_t first = raw->n, max_label = 0;
    if (raw->classes) /* appending: keep the classes seen so far */
        max_label = raw->classes - 1;
    qs_status st = open_idx(&im, images, err);
    if (!st)
        st = open_idx(&lb, labels, err);
    else
        lb.gz = NULL;
    if (!st)
        st = read_images(raw, &im, err);
    if (!st)
        st = read_labels(raw, &lb, first, raw->n - first, images, &max_label, err);
    if (im.gz)
        gzclose(im.gz);
    if (lb.gz)
        gzclose(lb.gz);
    if (st) {
        raw->n = first;
        return st;
    }
    if (raw->class_names) {
        for (size_t c = 0; c < raw->classes; c++)
            free(raw->class_names[c]);
        free(raw->class_names);
        raw->class_names = NULL;
    }
    return qs_data_raw_numeric_names(raw, max_label + 1, err);
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

char *qs_data_idx_sibling(const char *images)
{
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *im = strstr(base, "images");
    const char *idx = im ? strstr(im, "idx") : NULL;
    if (!im || !idx || idx[3] < '1' || idx[3] > '9')
        return NULL;
    char *s = qs_data_strfmt("%s", images);
    if (!s)
        return NULL;
    size_t a = (size_t)(im - images), b = (size_t)(idx - images);
    memcpy(s + a, "labels", 6);
    s[b + 3] = '1';
    if (exists(s))
        return s;
    /* The same name with the .gz suffix toggled. */
    size_t len = strlen(s);
    char *t = len > 3 && !strcmp(s + len - 3, ".gz") ? qs_data_strfmt("%.*s", (int)(len - 3), s)
                                                       : qs_data_strfmt("%s.gz", s);
    free(s);
    if (t && exists(t))
        return t;
    free(t);
    return NULL;
}
