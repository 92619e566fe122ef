/* TOML lookups, key paths and typed getters whose errors name the file,
 * line, column and full key path of the value at fault. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io/toml_internal.h"

const char *qs_toml_type_name(qs_toml_type t)
{
    switch (t) {
    case QS_TOML_STRING: return "string";
    case QS_TOML_INTEGER: return "integer";
    case QS_TOML_FLOAT: return "float";
    case QS_TOML_BOOLEAN: return "boolean";
    case QS_TOML_OFFSET_DATETIME: return "offset date-time";
    case QS_TOML_LOCAL_DATETIME: return "local date-time";
    case QS_TOML_LOCAL_DATE: return "local date";
    case QS_TOML_LOCAL_TIME: return "local time";
    case QS_TOML_ARRAY: return "array";
    case QS_TOML_TABLE: return "table";
    }
    return "unknown";
}

/* "an integer", "a string": the type name with its article. */
static const char *with_article(qs_toml_type t)
{
    switch (t) {
    case QS_TOML_STRING: return "a string";
    case QS_TOML_INTEGER: return "an integer";
    case QS_TOML_FLOAT: return "a float";
    case QS_TOML_BOOLEAN: return "a boolean";
    case QS_TOML_OFFSET_DATETIME: return "an offset date-time";
    case QS_TOML_LOCAL_DATETIME: return "a local date-time";
    case QS_TOML_LOCAL_DATE: return "a local date";
    case QS_TOML_LOCAL_TIME: return "a local time";
    case QS_TOML_ARRAY: return "an array";
    case QS_TOML_TABLE: return "a table";
    }
    return "a value";
}

int qs_toml_key_is_bare(const char *k, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = k[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const qs_toml_value *qs_toml_table_getn(const qs_toml_value *table, const char *key, size_t key_len)
{
    if (!table || table->type != QS_TOML_TABLE || !key)
        return NULL;
    const qs_toml_entry *e = qs_toml_table_entry(table, key, key_len);
    return e ? e->value : NULL;
}

const qs_toml_value *qs_toml_table_get(const qs_toml_value *table, const char *key)
{
    return key ? qs_toml_table_getn(table, key, strlen(key)) : NULL;
}

const qs_toml_value *qs_toml_path_get(const qs_toml_value *table, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n && table; i++)
        table = qs_toml_table_get(table, keys[i]);
    return table;
}

/* Next part of a dotted path at *s into buf[cap]; returns its length, -1 if malformed. */
static long next_part(const char **s, char *buf, size_t cap)
{
    const char *c = *s;
    size_t n = 0;
    while (*c == ' ' || *c == '\t')
        c++;
    if (*c == '"' || *c == '\'') {
        char q = *c++;
        while (*c && *c != q) {
            if (q == '"' && *c == '\\' && (c[1] == '"' || c[1] == '\\'))
                c++;
            if (n + 1 >= cap)
                return -1;
            buf[n++] = *c++;
        }
        if (*c != q)
            return -1;
        c++;
    } else {
        while (qs_toml_key_is_bare(c, 1)) {
            if (n + 1 >= cap)
                return -1;
            buf[n++] = *c++;
        }
        if (n == 0)
            return -1;
    }
    while (*c == ' ' || *c == '\t')
        c++;
    if (*c == '.') {
        c++;
        if (!*c)
            return -1; /* a trailing dot */
    } else if (*c) {
        return -1;
    }
    buf[n] = '\0';
    *s = c;
    return (long)n;
}

const qs_toml_value *qs_toml_find(const qs_toml_value *table, const char *dotted)
{
    if (!dotted)
        return NULL;
    char part[1024];
    const char *s = dotted;
    do {
        long n = next_part(&s, part, sizeof part);
        if (n < 0)
            return NULL;
        table = qs_toml_table_getn(table, part, (size_t)n);
    } while (*s && table);
    return table;
}

/* Appends to buf[cap] at *at (tracking the full length like snprintf). */
static void put(char *buf, size_t cap, size_t *at, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++, (*at)++)
        if (*at + 1 < cap)
            buf[*at] = s[i];
}

static void put_key(char *buf, size_t cap, size_t *at, const char *k, size_t len)
{
    if (qs_toml_key_is_bare(k, len)) {
        put(buf, cap, at, k, len);
        return;
    }
    put(buf, cap, at, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)k[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            put(buf, cap, at, esc, 2);
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04X", c);
            put(buf, cap, at, esc, 6);
        } else {
            put(buf, cap, at, (const char *)&k[i], 1);
        }
    }
    put(buf, cap, at, "\"", 1);
}

static void path_rec(const qs_toml_value *v, char *buf, size_t cap, size_t *at)
{
    const qs_toml_value *par = v->parent;
    if (!par)
        return;
    path_rec(par, buf, cap, at);
    if (par->type == QS_TOML_ARRAY) {
        char idx[32];
        for (size_t i = 0; i < par->u.arr.len; i++)
            if (par->u.arr.items[i] == v) {
                int n = snprintf(idx, sizeof idx, "[%zu]", i);
                put(buf, cap, at, idx, (size_t)n);
            }
        return;
    }
    for (size_t i = 0; i < par->u.tab.len; i++)
        if (par->u.tab.items[i].value == v) {
            if (*at > 0)
                put(buf, cap, at, ".", 1);
            put_key(buf, cap, at, par->u.tab.items[i].key, par->u.tab.items[i].key_len);
        }
}

size_t qs_toml_path_str(const qs_toml_value *v, char *buf, size_t cap)
{
    size_t at = 0;
    if (v)
        path_rec(v, buf, cap, &at);
    if (cap)
        buf[at < cap ? at : cap - 1] = '\0';
    return at;
}

qs_status qs_toml_error_at(qs_error *err, const qs_toml_value *v, const char *fmt, ...)
{
    char msg[QS_ERROR_MSG_MAX], path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!v)
        return qs_error_set(err, QS_ERR_INPUT, "%s", msg);
    qs_toml_path_str(v, path, sizeof path);
    return qs_error_set(err, QS_ERR_INPUT, "%s:%d:%d: %s%s%s", v->file ? v->file : "<toml>",
                        v->line, v->col, path, path[0] ? ": " : "", msg);
}

static qs_status wrong_type(const qs_toml_value *v, const char *want, qs_error *err)
{
    return qs_toml_error_at(err, v, "expected %s, got %s", want, with_article(v->type));
}

qs_status qs_toml_as_int(const qs_toml_value *v, int64_t *out, qs_error *err)
{
    if (v->type != QS_TOML_INTEGER)
        return wrong_type(v, "an integer", err);
    *out = v->u.i;
    return QS_OK;
}

qs_status qs_toml_as_float(const qs_toml_value *v, double *out, qs_error *err)
{
    if (v->type == QS_TOML_INTEGER)
        *out = (double)v->u.i;
    else if (v->type == QS_TOML_FLOAT)
        *out = v->u.f;
    else
        return wrong_type(v, "a number", err);
    return QS_OK;
}

qs_status qs_toml_as_bool(const qs_toml_value *v, int *out, qs_error *err)
{
    if (v->type != QS_TOML_BOOLEAN)
        return wrong_type(v, "a boolean", err);
    *out = v->u.b;
    return QS_OK;
}

qs_status qs_toml_as_string(const qs_toml_value *v, const char **out, qs_error *err)
{
    if (v->type != QS_TOML_STRING)
        return wrong_type(v, "a string", err);
    if (strlen(v->u.s.ptr) != v->u.s.len)
        return qs_toml_error_at(err, v, "string contains a NUL character");
    *out = v->u.s.ptr;
    return QS_OK;
}

qs_status qs_toml_get(const qs_toml_value *table, const char *dotted, const qs_toml_value **out,
                      qs_error *err)
{
    *out = NULL;
    if (!table || table->type != QS_TOML_TABLE)
        return qs_error_set(err, QS_ERR_USAGE, "qs_toml_get: not a table");
    const qs_toml_value *v = qs_toml_find(table, dotted);
    if (!v) {
        if (table->parent)
            return qs_toml_error_at(err, table, "missing key '%s'", dotted);
        return qs_error_set(err, QS_ERR_INPUT, "%s: missing key '%s'",
                            table->file ? table->file : "<toml>", dotted);
    }
    *out = v;
    return QS_OK;
}

qs_status qs_toml_get_int(const qs_toml_value *table, const char *dotted, int64_t *out,
                          qs_error *err)
{
    const qs_toml_value *v;
    QS_TRY(qs_toml_get(table, dotted, &v, err));
    return qs_toml_as_int(v, out, err);
}

qs_status qs_toml_get_int_range(const qs_toml_value *table, const char *dotted, int64_t lo,
                                int64_t hi, int64_t *out, qs_error *err)
{
    const qs_toml_value *v;
    QS_TRY(qs_toml_get(table, dotted, &v, err));
    QS_TRY(qs_toml_as_int(v, out, err));
    if (*out < lo || *out > hi)
        return qs_toml_error_at(err, v, "must be %" PRId64 "..%" PRId64 ", got %" PRId64, lo, hi,
                                *out);
    return QS_OK;
}

qs_status qs_toml_get_float(const qs_toml_value *table, const char *dotted, double *out,
                            qs_error *err)
{
    const qs_toml_value *v;
    QS_TRY(qs_toml_get(table, dotted, &v, err));
    return qs_toml_as_float(v, out, err);
}

qs_status qs_toml_get_bool(const qs_toml_value *table, const char *dotted, int *out, qs_error *err)
{
    const qs_toml_value *v;
    QS_TRY(qs_toml_get(table, dotted, &v, err));
    return qs_toml_as_bool(v, out, err);
}

qs_status qs_toml_get_string(const qs_toml_value *table, const char *dotted, const char **out,
                             qs_error *err)
{
    const qs_toml_value *v;
    QS_TRY(qs_toml_get(table, dotted, &v, err));
    return qs_toml_as_string(v, out, err);
}

static qs_status get_typed(const qs_toml_value *table, const char *dotted, qs_toml_type t,
                           const qs_toml_value **out, qs_error *err)
{
    const qs_toml_value *v;
    QS_TRY(qs_toml_get(table, dotted, &v, err));
    if (v->type != t)
        return wrong_type(v, with_article(t), err);
    *out = v;
    return QS_OK;
}

qs_status qs_toml_get_table(const qs_toml_value *table, const char *dotted,
                            const qs_toml_value **out, qs_error *err)
{
    return get_typed(table, dotted, QS_TOML_TABLE, out, err);
}

qs_status qs_toml_get_array(const qs_toml_value *table, const char *dotted,
                            const qs_toml_value **out, qs_error *err)
{
    return get_typed(table, dotted, QS_TOML_ARRAY, out, err);
}

size_t qs_toml_datetime_str(const qs_toml_value *v, char *buf, size_t cap)
{
    const qs_toml_datetime *d = &v->u.dt;
    char date[16] = "", time[32] = "", off[8] = "";
    int has_date = v->type != QS_TOML_LOCAL_TIME;
    int has_time = v->type != QS_TOML_LOCAL_DATE;
    if (v->type < QS_TOML_OFFSET_DATETIME || v->type > QS_TOML_LOCAL_TIME) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    if (has_date)
        snprintf(date, sizeof date, "%04d-%02d-%02d%s", d->year % 10000, d->month % 100,
                 d->day % 100, has_time ? "T" : "");
    if (has_time) {
        int n = snprintf(time, sizeof time, "%02d:%02d:%02d", d->hour % 100, d->minute % 100,
                         d->second % 100);
        if (d->frac_digits > 0) {
            char frac[16];
            snprintf(frac, sizeof frac, "%09d", d->nanosecond % 1000000000);
            snprintf(time + n, sizeof time - (size_t)n, ".%.*s", d->frac_digits % 10, frac);
        }
    }
    if (v->type == QS_TOML_OFFSET_DATETIME) {
        int m = d->offset_minutes;
        if (d->offset_z)
            snprintf(off, sizeof off, "Z");
        else
            snprintf(off, sizeof off, "%c%02d:%02d", m < 0 ? '-' : '+', (abs(m) / 60) % 100,
                     abs(m) % 60);
    }
    int n = snprintf(buf, cap, "%s%s%s", date, time, off);
    return n < 0 ? 0 : (size_t)n;
}
