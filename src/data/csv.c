/* CSV loader: RFC 4180 (quoted fields, "" escapes, CRLF or LF), plain or
 * gzipped, optional header row, label column by name or index (default last),
 * integer labels (class indices) or string labels (sorted distinct values). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data_internal.h"

typedef struct {
    char *buf;      /* unescaped fields, each NUL-terminated */
    size_t len, cap;
    size_t *off;    /* [nf] field start offsets into buf */
    size_t nf, fcap;
} record;

typedef struct {
    const char *path;
    const char *b;  /* file contents */
    size_t len, pos;
    size_t line;    /* 1-based line of pos */
} reader;

/* Reads a whole (maybe gzipped) file into a NUL-terminated buffer. */
static qs_status read_all(const char *path, char **out, size_t *len, qs_error *err)
{
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return qs_error_set(err, QS_ERR_INPUT, "%s: cannot open: %s", path,
                            errno ? strerror(errno) : "out of memory");
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (b && n + 1 + (1 << 15) > cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
            cap *= 2;
        }
        if (!b) {
            gzclose(gz);
            return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory reading the file", path);
        }
        int got = gzread(gz, b + n, 1 << 15);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            qs_error_set(err, QS_ERR_INPUT, "%s: read failed after %zu bytes: %s", path, n, msg);
            free(b);
            gzclose(gz);
            return QS_ERR_INPUT;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    gzclose(gz);
    b[n] = '\0';
    *out = b;
    *len = n;
    return QS_OK;
}

static int rec_put(record *r, char c)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        char *nb = realloc(r->buf, cap);
        if (!nb)
            return -1;
        r->buf = nb;
        r->cap = cap;
    }
    r->buf[r->len++] = c;
    return 0;
}

static int rec_field(record *r)
{
    if (r->nf == r->fcap) {
        size_t cap = r->fcap ? 2 * r->fcap : 32;
        size_t *no = realloc(r->off, cap * sizeof *no);
        if (!no)
            return -1;
        r->off = no;
        r->fcap = cap;
    }
    r->off[r->nf++] = r->len;
    return 0;
}

/* At end of line: consumes \n, \r\n or \r; returns 1 if one was there. */
static int eat_eol(reader *rd)
{
    if (rd->pos < rd->len && rd->b[rd->pos] == '\r') {
        rd->pos++;
        if (rd->pos < rd->len && rd->b[rd->pos] == '\n')
            rd->pos++;
    } else if (rd->pos < rd->len && rd->b[rd->pos] == '\n') {
        rd->pos++;
    } else {
        return 0;
    }
    rd->line++;
    return 1;
}

/* Parses one quoted field body (pos after the opening quote). */
static qs_status quoted(reader *rd, record *r, size_t start_line, qs_error *err)
{
    for (;;) {
        if (rd->pos >= rd->len)
            return qs_error_set(err, QS_ERR_INPUT, "%s:%zu: field %zu: unterminated quoted field", rd->path,
                                start_line, r->nf);
        char c = rd->b[rd->pos];
        if (c == '"') {
            if (rd->pos + 1 < rd->len && rd->b[rd->pos + 1] == '"') {
                rd->pos += 2;
            } else {
                rd->pos++;
                break;
            }
        } else {
            rd->pos++;
            if (c == '\n' || (c == '\r' && !(rd->pos < rd->len && rd->b[rd->pos] == '\n')))
                rd->line++;
        }
        if (rec_put(r, c))
            return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", rd->path);
    }
    char n = rd->pos < rd->len ? rd->b[rd->pos] : ',';
    if (n != ',' && n != '\n' && n != '\r')
        return qs_error_set(err, QS_ERR_INPUT, "%s:%zu: field %zu: unexpected character '%c' after a closing quote",
                            rd->path, rd->line, r->nf, n);
    return QS_OK;
}

/* Reads the next record into r; *got = 0 at end of file. Blank lines are skipped. */
static qs_status next_record(reader *rd, record *r, size_t *rec_line, int *got, qs_error *err)
{
    r->len = r->nf = 0;
    while (rd->pos < rd->len && eat_eol(rd)) {
    }
    *got = rd->pos < rd->len;
    if (!*got)
        return QS_OK;
    *rec_line = rd->line;
    for (;;) {
        if (rec_field(r))
            return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", rd->path);
        if (rd->pos < rd->len && rd->b[rd->pos] == '"') {
            rd->pos++;
            QS_TRY(quoted(rd, r, *rec_line, err));
        } else {
            while (rd->pos < rd->len && rd->b[rd->pos] != ',' && rd->b[rd->pos] != '\n' && rd->b[rd->pos] != '\r')
                if (rec_put(r, rd->b[rd->pos++]))
                    return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", rd->path);
        }
        if (rec_put(r, '\0'))
            return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", rd->path);
        if (rd->pos < rd->len && rd->b[rd->pos] == ',') {
            rd->pos++;
            continue;
        }
        eat_eol(rd);
        return QS_OK;
    }
}

static const char *field(const record *r, size_t i) { return r->buf + r->off[i]; }

/* Parses a number with optional surrounding blanks; 0 if it is not one. */
static int parse_num(const char *s, double *v)
{
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    return *end == '\0';
}

static int parse_int(const char *s, long *v)
{
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return 0;
    errno = 0;
    *v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    return *end == '\0' && errno == 0;
}

/* An integer label: integer syntax, or a float with an integral value ("3.0"). */
static int parse_label_int(const char *s, long *v)
{
    double d;
    if (parse_int(s, v))
        return 1;
    if (!parse_num(s, &d) || !(d >= -1e9 && d <= 1e9) || d != floor(d))
        return 0;
    *v = (long)d;
    return 1;
}

typedef struct {
    char *pool;            /* label strings, NUL-separated */
    size_t len, cap;
    size_t *off, *line;    /* [n] start of each row's label in pool, its line */
    size_t n, ncap;
} labels;

static int label_add(labels *L, const char *s, size_t line)
{
    size_t sl = strlen(s) + 1;
    while (L->len + sl > L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 4096;
        char *np = realloc(L->pool, cap);
        if (!np)
            return -1;
        L->pool = np;
        L->cap = cap;
    }
    if (L->n == L->ncap) {
        size_t cap = L->ncap ? 2 * L->ncap : 1024;
        size_t *no = realloc(L->off, cap * sizeof *no), *nl;
        if (no)
            L->off = no;
        nl = no ? realloc(L->line, cap * sizeof *nl) : NULL;
        if (!nl)
            return -1;
        L->line = nl;
        L->ncap = cap;
    }
    memcpy(L->pool + L->len, s, sl);
    L->off[L->n] = L->len;
    L->line[L->n++] = line;
    L->len += sl;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Turns the label strings into class indices and names. */
static qs_status map_labels(qs_data_raw *raw, const labels *L, const char *path, qs_error *err)
{
    int all_int = 1;
    long maxv = -1, v;
    for (size_t i = 0; i < L->n && all_int; i++)
        all_int = parse_label_int(L->pool + L->off[i], &v);
    if (all_int) {
        for (size_t i = 0; i < L->n; i++) {
            parse_label_int(L->pool + L->off[i], &v);
            if (v < 0 || v > QS_DATA_MAX_INT_LABEL)
                return qs_error_set(err, QS_ERR_INPUT,
                                    "%s:%zu: label %ld out of range (integer labels are class indices 0..%d)",
                                    path, L->line[i], v, QS_DATA_MAX_INT_LABEL);
            raw->y[i] = (int32_t)v;
            maxv = v > maxv ? v : maxv;
        }
        return qs_data_raw_numeric_names(raw, (size_t)maxv + 1, err);
    }
    const char **sorted = malloc(L->n * sizeof *sorted);
    if (!sorted)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory (labels)", path);
    for (size_t i = 0; i < L->n; i++)
        sorted[i] = L->pool + L->off[i];
    qsort(sorted, L->n, sizeof *sorted, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < L->n; i++)
        if (k == 0 || strcmp(sorted[k - 1], sorted[i]) != 0)
            sorted[k++] = sorted[i];
    qs_status st = QS_OK;
    raw->class_names = calloc(k, sizeof(char *));
    if (!raw->class_names)
        st = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory (labels)", path);
    for (size_t c = 0; !st && c < k; c++) {
        raw->classes = c + 1;
        if (!(raw->class_names[c] = qs_data_strfmt("%s", sorted[c])))
            st = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory (labels)", path);
    }
    for (size_t i = 0; !st && i < L->n; i++) {
        const char *key = L->pool + L->off[i];
        const char **hit = bsearch(&key, sorted, k, sizeof *sorted, cmp_str);
        raw->y[i] = (int32_t)(hit - sorted);
    }
    free(sorted);
    return st;
}

/* Label column from the spec: a 0-based index, a header name, or NULL (last). */
static qs_status find_label(const record *first, const char *path, const char *label, size_t *col,
                            int *by_name, qs_error *err)
{
    long idx;
    *by_name = 0;
    if (!label) {
        *col = first->nf - 1;
        return QS_OK;
    }
    if (parse_int(label, &idx)) {
        if (idx < 0 || (size_t)idx >= first->nf)
            return qs_error_set(err, QS_ERR_INPUT, "%s: label column %ld out of range (the file has %zu columns)",
                                path, idx, first->nf);
        *col = (size_t)idx;
        return QS_OK;
    }
    for (size_t i = 0; i < first->nf; i++)
        if (strcmp(field(first, i), label) == 0) {
            *col = i;
            *by_name = 1;
            return QS_OK;
        }
    return qs_error_set(err, QS_ERR_INPUT, "%s: no column named '%s' in the header row", path, label);
}

/* Stores one data row: features into raw, label string into L. */
static qs_status add_row(qs_data_raw *raw, labels *L, const record *r, size_t col, const char *path,
                         size_t line, qs_error *err)
{
    QS_TRY(qs_data_raw_reserve(raw, 1, err));
    float *x = raw->x + raw->n * raw->features;
    for (size_t i = 0, j = 0; i < r->nf; i++) {
        if (i == col)
            continue;
        double v;
        const char *s = field(r, i);
        if (!parse_num(s, &v))
            return qs_error_set(err, QS_ERR_INPUT, "%s:%zu: field %zu: not a number: \"%.40s\"", path, line, i + 1, s);
        if (!isfinite(v) || !isfinite((float)v))
            return qs_error_set(err, QS_ERR_INPUT, "%s:%zu: field %zu: not a finite number: \"%.40s\"", path, line,
                                i + 1, s);
        x[j++] = (float)v + 0.0f; /* -0 -> +0 */
    }
    const char *lab = field(r, col);
    if (!*lab)
        return qs_error_set(err, QS_ERR_INPUT, "%s:%zu: field %zu: empty label", path, line, col + 1);
    if (label_add(L, lab, line))
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
    raw->n++;
    return QS_OK;
}

static int is_header(const record *r, size_t col)
{
    double v;
    for (size_t i = 0; i < r->nf; i++)
        if (i != col && !parse_num(field(r, i), &v))
            return 1;
    return 0;
}

static qs_status parse(qs_data_raw *raw, reader *rd, const char *label, qs_error *err)
{
    record r = {0};
    labels L = {0};
    size_t line = 0, col = 0, ncols = 0;
    int got, by_name;
    qs_status st = next_record(rd, &r, &line, &got, err);
    if (!st && !got)
        st = qs_error_set(err, QS_ERR_INPUT, "%s: empty file", rd->path);
    if (!st && r.nf < 2)
        st = qs_error_set(err, QS_ERR_INPUT, "%s:%zu: need at least 2 columns (features and a label), got %zu",
                          rd->path, line, r.nf);
    if (!st)
        st = find_label(&r, rd->path, label, &col, &by_name, err);
    if (!st) {
        ncols = r.nf;
        raw->features = ncols - 1;
        if (!by_name && !is_header(&r, col))
            st = add_row(raw, &L, &r, col, rd->path, line, err);
    }
    while (!st) {
        st = next_record(rd, &r, &line, &got, err);
        if (st || !got)
            break;
        if (r.nf != ncols)
            st = qs_error_set(err, QS_ERR_INPUT, "%s:%zu: expected %zu fields, got %zu", rd->path, line, ncols, r.nf);
        else
            st = add_row(raw, &L, &r, col, rd->path, line, err);
    }
    if (!st && raw->n == 0)
        st = qs_error_set(err, QS_ERR_INPUT, "%s: no data rows (only a header)", rd->path);
    if (!st)
        st = map_labels(raw, &L, rd->path, err);
    free(r.buf);
    free(r.off);
    free(L.pool);
    free(L.off);
    free(L.line);
    return st;
}

qs_status qs_data_csv_read(qs_data_raw *raw, const char *path, const char *label, qs_error *err)
{
    char *b = NULL;
    size_t len = 0;
    QS_TRY(read_all(path, &b, &len, err));
    reader rd = {path, b, len, 0, 1};
    if (len >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0)
        rd.pos = 3; /* UTF-8 byte order mark */
    qs_status st = parse(raw, &rd, label, err);
    free(b);
    return st;
}
