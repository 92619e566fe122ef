/* NumPy .npy (format 1.0 written; 1.0 and 2.0 read), little-endian float32
 * and int32 (int64 read and narrowed when in range), 1-D or 2-D, C order. */
#include "qsearch/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/fs.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER 65535u

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Writes header + data atomically (qs_fs_atomic): no partial file on failure. */
static qs_status write_npy(const char *path, const char *descr, const void *data,
                           size_t elem_size, int ndim, size_t rows, size_t cols, qs_error *err)
{
    if (!host_is_le())
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s: big-endian hosts are not supported",
                            path);
    char dict[256];
    int len = ndim == 1
                  ? snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }",
                             descr, rows)
                  : snprintf(dict, sizeof dict,
                             "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }",
                             descr, rows, cols);
    /* Pad with spaces so magic + version + length + dict + '\n' is a multiple of 64. */
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) / 64 * 64;
    unsigned char head[10 + 256 + 64];
    memcpy(head, NPY_MAGIC, 6);
    head[6] = 1;
    head[7] = 0;
    size_t hlen = padded - 10;
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)len);
    memset(head + 10 + len, ' ', padded - total);
    head[padded - 1] = '\n';

    qs_fs_atomic w;
    QS_TRY(qs_fs_atomic_open(&w, path, err));
    size_t count = ndim == 1 ? rows : rows * cols;
    if (fwrite(head, 1, padded, w.f) == padded && count)
        fwrite(data, elem_size, count, w.f); /* a short write is caught by the commit */
    return qs_fs_atomic_commit(&w, err);
}

qs_status qs_npy_write_f32(const char *path, const float *data, size_t rows, size_t cols,
                           qs_error *err)
{
    return write_npy(path, "<f4", data, sizeof(float), 2, rows, cols, err);
}

qs_status qs_npy_write_f32_1d(const char *path, const float *data, size_t n, qs_error *err)
{
    return write_npy(path, "<f4", data, sizeof(float), 1, n, 1, err);
}

qs_status qs_npy_write_i32_1d(const char *path, const int32_t *data, size_t n, qs_error *err)
{
    return write_npy(path, "<i4", data, sizeof(int32_t), 1, n, 1, err);
}

qs_status qs_npy_write_i32(const char *path, const int32_t *data, size_t rows, size_t cols,
                           qs_error *err)
{
    return write_npy(path, "<i4", data, sizeof(int32_t), 2, rows, cols, err);
}

/* Finds 'key': in the header dict and returns the text after it. */
static const char *dict_value(const char *dict, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(dict, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\":", key);
        p = strstr(dict, pat);
    }
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    return p;
}

/* Parses "(R,)" or "(R, C)" into shape. */
static int parse_shape(const char *p, int *ndim, size_t shape[2])
{
    if (*p++ != '(')
        return 0;
    int n = 0;
    while (1) {
        while (*p == ' ')
            p++;
        if (*p == ')')
            break;
        if (*p < '0' || *p > '9' || n == 2)
            return 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v > ((size_t)1 << 40))
            return 0;
        shape[n++] = (size_t)v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p != ')')
            return 0;
    }
    if (n == 0)
        return 0;
    if (n == 1)
        shape[1] = 1;
    *ndim = n;
    return 1;
}

static qs_status parse_header(const char *path, const char *dict, qs_npy_array *a, int *elem,
                              int *is_i64, qs_error *err)
{
    const char *d = dict_value(dict, "descr");
    if (!d)
        return qs_error_set(err, QS_ERR_INPUT, "%s: header: no 'descr'", path);
    *is_i64 = 0;
    if (strncmp(d, "'<f4'", 5) == 0)
        a->dtype = QS_NPY_F32, *elem = 4;
    else if (strncmp(d, "'<i4'", 5) == 0)
        a->dtype = QS_NPY_I32, *elem = 4;
    else if (strncmp(d, "'<i8'", 5) == 0)
        a->dtype = QS_NPY_I32, *elem = 8, *is_i64 = 1;
    else {
        int len = 0; /* the quoted dtype, for the message */
        while (len < 16 && d[len] && (len == 0 || d[len] != d[0]))
            len++;
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: header: descr %.*s not supported (want '<f4', '<i4' or '<i8')",
                            path, len + (d[len] == d[0]), d);
    }
    const char *fo = dict_value(dict, "fortran_order");
    if (!fo || strncmp(fo, "False", 5) != 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: header: fortran_order must be False", path);
    const char *sh = dict_value(dict, "shape");
    if (!sh || !parse_shape(sh, &a->ndim, a->shape))
        return qs_error_set(err, QS_ERR_INPUT, "%s: header: shape must be (rows,) or (rows, cols)",
                            path);
    return QS_OK;
}

static qs_status read_body(FILE *f, const char *path, qs_npy_array *a, int elem, int is_i64,
                           qs_error *err)
{
    size_t count = a->shape[0] * a->shape[1];
    if (a->shape[1] && count / a->shape[1] != a->shape[0])
        return qs_error_set(err, QS_ERR_INPUT, "%s: header: shape too large", path);
    unsigned char *raw = malloc(count * (size_t)elem + 1);
    if (!raw)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory for %zu values", path, count);
    if (fread(raw, (size_t)elem, count, f) != count) {
        free(raw);
        return qs_error_set(err, QS_ERR_INPUT, "%s: truncated: expected %zu values", path, count);
    }
    if (fgetc(f) != EOF) {
        free(raw);
        return qs_error_set(err, QS_ERR_INPUT, "%s: trailing bytes after %zu values", path, count);
    }
    if (is_i64) {
        int32_t *out = (int32_t *)raw; /* narrowing in place runs front to back safely */
        for (size_t i = 0; i < count; i++) {
            int64_t v;
            memcpy(&v, raw + 8 * i, 8);
            if (v < INT32_MIN || v > INT32_MAX) {
                free(raw);
                return qs_error_set(err, QS_ERR_INPUT, "%s: value %zu (%lld) does not fit int32",
                                    path, i, (long long)v);
            }
            out[i] = (int32_t)v;
        }
    }
    a->data = raw;
    return QS_OK;
}

qs_status qs_npy_read(const char *path, qs_npy_array *a, qs_error *err)
{
    memset(a, 0, sizeof *a);
    if (!host_is_le())
        return qs_error_set(err, QS_ERR_UNSUPPORTED, "%s: big-endian hosts are not supported",
                            path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return qs_error_set(err, QS_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    unsigned char pre[12];
    qs_status st = QS_OK;
    char *dict = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, NPY_MAGIC, 6) != 0) {
        st = qs_error_set(err, QS_ERR_INPUT, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            st = qs_error_set(err, QS_ERR_INPUT, "%s: truncated header", path);
            goto done;
        }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        st = qs_error_set(err, QS_ERR_INPUT, "%s: unsupported .npy version %d", path, pre[6]);
        goto done;
    }
    if (hlen > 16 * NPY_MAX_HEADER || !(dict = malloc(hlen + 1))) {
        st = qs_error_set(err, QS_ERR_INPUT, "%s: header length %zu too large", path, hlen);
        goto done;
    }
    if (fread(dict, 1, hlen, f) != hlen) {
        st = qs_error_set(err, QS_ERR_INPUT, "%s: truncated header", path);
        goto done;
    }
    dict[hlen] = '\0';
    int elem = 0, is_i64 = 0;
    st = parse_header(path, dict, a, &elem, &is_i64, err);
    if (st == QS_OK)
        st = read_body(f, path, a, elem, is_i64, err);
done:
    free(dict);
    fclose(f);
    return st;
}

void qs_npy_free(qs_npy_array *a)
{
    if (!a)
        return;
    free(a->data);
    a->data = NULL;
}
