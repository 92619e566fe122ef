/* Canonical TOML writer: per table, its plain keys (scalars, arrays, inline
 * tables) first, then its [sub.tables] and [[arrays.of.tables]] in document
 * order. Strings are written as basic strings with escapes, floats in their
 * shortest exact form, so the output parses back to the same tree. */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/toml_internal.h"

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} wbuf;

typedef struct {
    const qs_toml_entry **keys; /* the header path so far */
    size_t n, cap;
} hpath;

static void put(wbuf *w, const char *s, size_t len)
{
    if (w->oom)
        return;
    if (w->len + len + 1 > w->cap) {
        size_t nc = w->cap ? w->cap : 256;
        while (nc < w->len + len + 1)
            nc *= 2;
        char *q = realloc(w->s, nc);
        if (!q) {
            w->oom = 1;
            return;
        }
        w->s = q;
        w->cap = nc;
    }
    memcpy(w->s + w->len, s, len);
    w->len += len;
    w->s[w->len] = '\0';
}

static void puts_(wbuf *w, const char *s) { put(w, s, strlen(s)); }

char *qs_toml_format_float(double f, char *buf)
{
    if (isnan(f)) {
        strcpy(buf, signbit(f) ? "-nan" : "nan");
        return buf;
    }
    if (isinf(f)) {
        strcpy(buf, f < 0 ? "-inf" : "inf");
        return buf;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, f);
        if (strtod(buf, NULL) == f)
            break;
    }
    char dp = localeconv()->decimal_point[0];
    for (char *c = buf; *c; c++)
        if (*c == dp)
            *c = '.';
    if (!strchr(buf, '.') && !strchr(buf, 'e'))
        strcat(buf, ".0");
    return buf;
}

static void put_quoted(wbuf *w, const char *s, size_t len)
{
    put(w, "\"", 1);
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\f': esc = "\\f"; break;
        case '\r': esc = "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                snprintf(u, sizeof u, "\\u%04X", c);
                esc = u;
            }
        }
        if (esc) {
            put(w, s + i - run, run);
            run = 0;
            puts_(w, esc);
        } else {
            run++;
        }
    }
    put(w, s + len - run, run);
    put(w, "\"", 1);
}

static void put_key(wbuf *w, const qs_toml_entry *e)
{
    if (qs_toml_key_is_bare(e->key, e->key_len))
        put(w, e->key, e->key_len);
    else
        put_quoted(w, e->key, e->key_len);
}

static void put_value(wbuf *w, const qs_toml_value *v);

static void put_inline(wbuf *w, const qs_toml_value *v)
{
    if (v->type == QS_TOML_ARRAY) {
        put(w, "[", 1);
        for (size_t i = 0; i < v->u.arr.len; i++) {
            if (i)
                put(w, ", ", 2);
            put_value(w, v->u.arr.items[i]);
        }
        put(w, "]", 1);
        return;
    }
    if (v->u.tab.len == 0) {
        put(w, "{}", 2);
        return;
    }
    put(w, "{ ", 2);
    for (size_t i = 0; i < v->u.tab.len; i++) {
        if (i)
            put(w, ", ", 2);
        put_key(w, &v->u.tab.items[i]);
        put(w, " = ", 3);
        put_value(w, v->u.tab.items[i].value);
    }
    put(w, " }", 2);
}

static void put_value(wbuf *w, const qs_toml_value *v)
{
    char buf[64];
    switch (v->type) {
    case QS_TOML_STRING: put_quoted(w, v->u.s.ptr, v->u.s.len); break;
    case QS_TOML_INTEGER:
        snprintf(buf, sizeof buf, "%" PRId64, v->u.i);
        puts_(w, buf);
        break;
    case QS_TOML_FLOAT: puts_(w, qs_toml_format_float(v->u.f, buf)); break;
    case QS_TOML_BOOLEAN: puts_(w, v->u.b ? "true" : "false"); break;
    case QS_TOML_OFFSET_DATETIME:
    case QS_TOML_LOCAL_DATETIME:
    case QS_TOML_LOCAL_DATE:
    case QS_TOML_LOCAL_TIME:
        qs_toml_datetime_str(v, buf, sizeof buf);
        puts_(w, buf);
        break;
    case QS_TOML_ARRAY:
    case QS_TOML_TABLE: put_inline(w, v); break;
    }
}

/* A [section] of its own: a non-inline table, or an array of tables. */
static int is_section(const qs_toml_value *v)
{
    unsigned f = qs_toml_flags(v);
    return (v->type == QS_TOML_TABLE && !(f & QS_TOML_F_INLINE)) ||
           (v->type == QS_TOML_ARRAY && (f & QS_TOML_F_AOT));
}

static void put_header(wbuf *w, const hpath *h, int aot)
{
    if (w->len)
        put(w, "\n", 1);
    puts_(w, aot ? "[[" : "[");
    for (size_t i = 0; i < h->n; i++) {
        if (i)
            put(w, ".", 1);
        put_key(w, h->keys[i]);
    }
    puts_(w, aot ? "]]\n" : "]\n");
}

static void put_body(wbuf *w, const qs_toml_value *t, hpath *h)
{
    for (size_t i = 0; i < t->u.tab.len; i++) {
        const qs_toml_entry *e = &t->u.tab.items[i];
        if (is_section(e->value))
            continue;
        put_key(w, e);
        put(w, " = ", 3);
        put_value(w, e->value);
        put(w, "\n", 1);
    }
    for (size_t i = 0; i < t->u.tab.len && !w->oom; i++) {
        const qs_toml_entry *e = &t->u.tab.items[i];
        if (!is_section(e->value))
            continue;
        if (h->n == h->cap) {
            size_t nc = h->cap ? h->cap * 2 : 8;
            const qs_toml_entry **q = realloc(h->keys, nc * sizeof *q);
            if (!q) {
                w->oom = 1;
                return;
            }
            h->keys = q;
            h->cap = nc;
        }
        h->keys[h->n++] = e;
        const qs_toml_value *v = e->value;
        if (v->type == QS_TOML_ARRAY) {
            for (size_t k = 0; k < v->u.arr.len; k++) {
                put_header(w, h, 1);
                put_body(w, v->u.arr.items[k], h);
            }
        } else {
            /* a table holding only sub-tables is implied by their headers */
            size_t own = 0;
            for (size_t k = 0; k < v->u.tab.len; k++)
                own += !is_section(v->u.tab.items[k].value);
            if (own > 0 || v->u.tab.len == 0)
                put_header(w, h, 0);
            put_body(w, v, h);
        }
        h->n--;
    }
}

char *qs_toml_write_string(const qs_toml_value *table, size_t *len_out)
{
    wbuf w = {0};
    hpath h = {0};
    put(&w, "", 0);
    if (table && table->type == QS_TOML_TABLE)
        put_body(&w, table, &h);
    free(h.keys);
    if (w.oom) {
        free(w.s);
        return NULL;
    }
    if (len_out)
        *len_out = w.len;
    return w.s;
}

qs_status qs_toml_write(const qs_toml_value *table, FILE *f, qs_error *err)
{
    size_t len;
    char *s = qs_toml_write_string(table, &len);
    if (!s)
        return qs_error_set(err, QS_ERR_NOMEM, "toml writer: out of memory");
    size_t put_n = fwrite(s, 1, len, f);
    free(s);
    if (put_n != len || fflush(f) != 0)
        return qs_error_set(err, QS_ERR_IO, "toml writer: write error");
    return QS_OK;
}
