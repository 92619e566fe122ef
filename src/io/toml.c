/* TOML 1.0.0 parser: recursive descent over the bytes with line/column
 * tracking; table definition rules follow the spec (and agree with Python's
 * tomllib): see define_header() and descend_dotted(). */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io/toml_internal.h"

#define MAX_DEPTH 128

typedef struct {
    const char *s;
    size_t n, pos;
    int line, col; /* of s[pos] */
    const char *name;
    qs_error *err;
    int section; /* number of [headers] seen */
    char *buf;   /* scratch for decoded strings */
    size_t buf_len, buf_cap;
} parser;

typedef struct {
    char *s;
    size_t len;
    int line, col;
} keypart;

typedef struct {
    keypart *parts;
    size_t n, cap;
} keypath;

/* ---- errors, positions ---- */

static qs_status perr_at(parser *p, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static qs_status perr_at(parser *p, int line, int col, const char *fmt, ...)
{
    char msg[QS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qs_error_set(p->err, QS_ERR_INPUT, "%s:%d:%d: %s", p->name, line, col, msg);
}

#define PERR(p, ...) perr_at((p), (p)->line, (p)->col, __VA_ARGS__)

static qs_status nomem(parser *p)
{
    return qs_error_set(p->err, QS_ERR_NOMEM, "%s: out of memory", p->name);
}

static int peek_at(const parser *p, size_t k)
{
    return p->pos + k < p->n ? (unsigned char)p->s[p->pos + k] : -1;
}

static int peek(const parser *p) { return peek_at(p, 0); }

static void advance(parser *p)
{
    unsigned char c = (unsigned char)p->s[p->pos++];
    if (c == '\n') {
        p->line++;
        p->col = 1;
    } else if ((c & 0xC0) != 0x80) {
        p->col++;
    }
}

static void advance_n(parser *p, size_t k)
{
    while (k--)
        advance(p);
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
           c == '-';
}

static void skip_ws(parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        advance(p);
}

static int at_newline(const parser *p)
{
    return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

static void skip_newline(parser *p)
{
    if (peek(p) == '\r')
        advance(p);
    advance(p);
}

static void skip_comment(parser *p)
{
    while (peek(p) != -1 && !at_newline(p))
        advance(p);
}

/* Skips whitespace, newlines and comments (inside arrays). */
static void skip_ws_nl_comments(parser *p)
{
    for (;;) {
        skip_ws(p);
        if (peek(p) == '#')
            skip_comment(p);
        if (!at_newline(p))
            return;
        skip_newline(p);
    }
}

/* ---- whole-document checks: UTF-8 and control characters ---- */

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid; *cp gets the code point. */
static int utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    int len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if ((size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static qs_status check_text(parser *p)
{
    const unsigned char *s = (const unsigned char *)p->s;
    int line = 1, col = 1;
    for (size_t i = p->pos; i < p->n;) {
        unsigned cp;
        int len = utf8_len(s + i, p->n - i, &cp);
        if (!len)
            return perr_at(p, line, col, "invalid UTF-8 byte 0x%02X", s[i]);
        if (cp == '\r' && !(i + 1 < p->n && s[i + 1] == '\n'))
            return perr_at(p, line, col, "carriage return not followed by a line feed");
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F)
            return perr_at(p, line, col, "control character U+%04X is not allowed", cp);
        if (cp == '\n')
            line++, col = 1;
        else
            col++;
        i += (size_t)len;
    }
    return QS_OK;
}

/* ---- nodes ---- */

static qs_toml_value *new_value(parser *p, qs_toml_type t, int line, int col)
{
    qs_toml_node *nd = calloc(1, sizeof *nd);
    if (!nd)
        return NULL;
    nd->v.type = t;
    nd->v.line = line;
    nd->v.col = col;
    nd->v.file = p->name;
    return &nd->v;
}

static qs_toml_node *node(qs_toml_value *v) { return (qs_toml_node *)(void *)v; }

static void value_free(qs_toml_value *v)
{
    if (!v)
        return;
    if (v->type == QS_TOML_STRING) {
        free(v->u.s.ptr);
    } else if (v->type == QS_TOML_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            value_free(v->u.arr.items[i]);
        free(v->u.arr.items);
    } else if (v->type == QS_TOML_TABLE) {
        for (size_t i = 0; i < v->u.tab.len; i++) {
            free(v->u.tab.items[i].key);
            value_free(v->u.tab.items[i].value);
        }
        free(v->u.tab.items);
        free(node(v)->index);
    }
    free(node(v));
}

static int grow(void **items, size_t *cap, size_t len, size_t size)
{
    if (len < *cap)
        return 1;
    size_t nc = *cap ? *cap * 2 : 4;
    void *q = realloc(*items, nc * size);
    if (!q)
        return 0;
    *items = q;
    *cap = nc;
    return 1;
}

static qs_status array_push(parser *p, qs_toml_value *arr, qs_toml_value *v)
{
    qs_toml_node *nd = node(arr);
    void *items = arr->u.arr.items;
    if (!grow(&items, &nd->cap, arr->u.arr.len, sizeof(qs_toml_value *))) {
        value_free(v);
        return nomem(p);
    }
    arr->u.arr.items = items;
    arr->u.arr.items[arr->u.arr.len++] = v;
    v->parent = arr;
    return QS_OK;
}

#define INDEX_MIN 16

static uint64_t key_hash(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211u;
    return h;
}

qs_toml_entry *qs_toml_table_entry(const qs_toml_value *t, const char *key, size_t len)
{
    const qs_toml_node *nd = (const qs_toml_node *)(const void *)t;
    if (nd->index) {
        size_t mask = nd->index_cap - 1;
        for (size_t i = key_hash(key, len) & mask; nd->index[i]; i = (i + 1) & mask) {
            qs_toml_entry *e = &t->u.tab.items[nd->index[i] - 1];
            if (e->key_len == len && memcmp(e->key, key, len) == 0)
                return e;
        }
        return NULL;
    }
    for (size_t i = 0; i < t->u.tab.len; i++) {
        qs_toml_entry *e = &t->u.tab.items[i];
        if (e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

static qs_toml_entry *table_find(qs_toml_value *t, const keypart *k)
{
    return qs_toml_table_entry(t, k->s, k->len);
}

static void index_put(qs_toml_node *nd, size_t pos)
{
    const qs_toml_entry *e = &nd->v.u.tab.items[pos];
    size_t mask = nd->index_cap - 1, i = key_hash(e->key, e->key_len) & mask;
    while (nd->index[i])
        i = (i + 1) & mask;
    nd->index[i] = (uint32_t)(pos + 1);
}

/* Keeps the index of a table of INDEX_MIN+ keys at most half full; 0 on OOM. */
static int index_update(qs_toml_node *nd)
{
    size_t len = nd->v.u.tab.len;
    if (len < INDEX_MIN || len >= UINT32_MAX)
        return 1;
    if (nd->index && 2 * len <= nd->index_cap) {
        index_put(nd, len - 1);
        return 1;
    }
    size_t cap = 64;
    while (cap < 4 * len)
        cap *= 2;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return 0;
    free(nd->index);
    nd->index = idx;
    nd->index_cap = cap;
    for (size_t i = 0; i < len; i++)
        index_put(nd, i);
    return 1;
}

/* Appends key -> v (takes v; the key is copied). */
static qs_status table_add(parser *p, qs_toml_value *t, const keypart *k, qs_toml_value *v)
{
    qs_toml_node *nd = node(t);
    void *items = t->u.tab.items;
    char *key = malloc(k->len + 1);
    if (!key || !grow(&items, &nd->cap, t->u.tab.len, sizeof(qs_toml_entry))) {
        free(key);
        value_free(v);
        return nomem(p);
    }
    memcpy(key, k->s, k->len);
    key[k->len] = '\0';
    t->u.tab.items = items;
    t->u.tab.items[t->u.tab.len++] = (qs_toml_entry){key, k->len, k->line, k->col, v};
    v->parent = t;
    return index_update(nd) ? QS_OK : nomem(p);
}

/* ---- strings ---- */

static int buf_put(parser *p, const char *s, size_t len)
{
    if (p->buf_len + len + 1 > p->buf_cap) {
        size_t nc = p->buf_cap ? p->buf_cap : 64;
        while (nc < p->buf_len + len + 1)
            nc *= 2;
        char *q = realloc(p->buf, nc);
        if (!q)
            return 0;
        p->buf = q;
        p->buf_cap = nc;
    }
    memcpy(p->buf + p->buf_len, s, len);
    p->buf_len += len;
    p->buf[p->buf_len] = '\0';
    return 1;
}

static int buf_put_cp(parser *p, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    return buf_put(p, u, n);
}

/* Escape after a backslash (p at the character after '\'). */
static qs_status parse_escape(parser *p)
{
    int line = p->line, col = p->col - 1;
    int c = peek(p);
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case 'u':
    case 'U': break;
    default:
        if (c == -1 || c == '\n' || c == '\r')
            return perr_at(p, line, col, "backslash at the end of a line in a single-line string");
        return perr_at(p, line, col, "invalid escape sequence '\\%c'", c);
    }
    advance(p);
    if (simple)
        return buf_put(p, simple, 1) ? QS_OK : nomem(p);
    int digits = c == 'u' ? 4 : 8;
    unsigned cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = peek(p);
        int d = is_digit(h) ? h - '0'
                : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
        if (d < 0)
            return perr_at(p, line, col, "\\%c needs %d hexadecimal digits", c, digits);
        cp = cp * 16 + (unsigned)d;
        advance(p);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return perr_at(p, line, col, "\\%c escape U+%X is not a Unicode scalar value", c, cp);
    return buf_put_cp(p, cp) ? QS_OK : nomem(p);
}

/* Copies the character at p (possibly multi-byte) into the buffer. */
static qs_status take_char(parser *p)
{
    size_t start = p->pos;
    advance(p);
    while (p->pos < p->n && ((unsigned char)p->s[p->pos] & 0xC0) == 0x80)
        advance(p);
    return buf_put(p, p->s + start, p->pos - start) ? QS_OK : nomem(p);
}

/* At a run of quote characters q inside a multi-line string: returns 1 when
 * it closes the string (adding up to 2 quotes as content), 0 when the quotes
 * are content. */
static qs_status multiline_quotes(parser *p, int q, int *closed)
{
    size_t run = 0;
    while (peek_at(p, run) == q)
        run++;
    *closed = 0;
    if (run < 3) {
        while (run--)
            QS_TRY(take_char(p));
        return QS_OK;
    }
    if (run > 5)
        return PERR(p, "too many quotes: at most 2 may precede the closing %c%c%c", q, q, q);
    for (size_t i = 0; i < run - 3; i++)
        QS_TRY(take_char(p));
    advance_n(p, 3);
    *closed = 1;
    return QS_OK;
}

/* Parses any of the 4 string forms at p into the scratch buffer. */
static qs_status parse_string_raw(parser *p, int allow_multi)
{
    int q = peek(p), line = p->line, col = p->col;
    int multi = peek_at(p, 1) == q && peek_at(p, 2) == q;
    p->buf_len = 0;
    if (!buf_put(p, "", 0))
        return nomem(p);
    if (multi && !allow_multi)
        return PERR(p, "a multi-line string cannot be a key");
    advance_n(p, multi ? 3 : 1);
    if (multi && at_newline(p))
        skip_newline(p); /* a newline right after the opening quotes is trimmed */
    for (;;) {
        int c = peek(p);
        if (c == -1)
            return perr_at(p, line, col, "unterminated string");
        if (c == q) {
            if (!multi) {
                advance(p);
                return QS_OK;
            }
            int closed;
            QS_TRY(multiline_quotes(p, q, &closed));
            if (closed)
                return QS_OK;
            continue;
        }
        if (at_newline(p)) {
            if (!multi)
                return PERR(p, "newline in a single-line string (unterminated string)");
            skip_newline(p);
            if (!buf_put(p, "\n", 1))
                return nomem(p);
            continue;
        }
        if (c == '\\' && q == '"') {
            advance(p);
            if (multi) {
                /* line-ending backslash: trims whitespace and newlines up to the next character */
                size_t k = 0;
                while (peek_at(p, k) == ' ' || peek_at(p, k) == '\t')
                    k++;
                int nl = peek_at(p, k) == '\n' || (peek_at(p, k) == '\r' && peek_at(p, k + 1) == '\n');
                if (nl) {
                    while (peek(p) == ' ' || peek(p) == '\t' || at_newline(p))
                        advance(p);
                    continue;
                }
            }
            QS_TRY(parse_escape(p));
            continue;
        }
        QS_TRY(take_char(p));
    }
}

static qs_status parse_string_value(parser *p, qs_toml_value **out)
{
    int line = p->line, col = p->col;
    QS_TRY(parse_string_raw(p, 1));
    qs_toml_value *v = new_value(p, QS_TOML_STRING, line, col);
    char *s = malloc(p->buf_len + 1);
    if (!v || !s) {
        free(s);
        value_free(v);
        return nomem(p);
    }
    memcpy(s, p->buf, p->buf_len + 1);
    v->u.s.ptr = s;
    v->u.s.len = p->buf_len;
    *out = v;
    return QS_OK;
}

/* ---- keys ---- */

static void keypath_free(keypath *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->parts[i].s);
    free(k->parts);
    k->parts = NULL;
    k->n = k->cap = 0;
}

static qs_status parse_simple_key(parser *p, keypath *k)
{
    int line = p->line, col = p->col, c = peek(p);
    const char *src;
    size_t len;
    if (c == '"' || c == '\'') {
        QS_TRY(parse_string_raw(p, 0));
        src = p->buf, len = p->buf_len;
    } else if (is_bare(c)) {
        size_t start = p->pos;
        while (is_bare(peek(p)))
            advance(p);
        src = p->s + start, len = p->pos - start;
    } else if (c == -1 || at_newline(p) || c == ']' || c == '#') {
        return PERR(p, "expected a key");
    } else if (c == '=') {
        return PERR(p, "expected a key before '='");
    } else {
        return PERR(p, "invalid character '%c' in a key (quote keys that are not A-Za-z0-9_-)",
                    c < 0x80 ? c : '?');
    }
    void *parts = k->parts;
    char *s = malloc(len + 1);
    if (!s || !grow(&parts, &k->cap, k->n, sizeof(keypart))) {
        free(s);
        return nomem(p);
    }
    k->parts = parts;
    memcpy(s, src, len);
    s[len] = '\0';
    k->parts[k->n++] = (keypart){s, len, line, col};
    return QS_OK;
}

static qs_status parse_key(parser *p, keypath *k)
{
    for (;;) {
        QS_TRY(parse_simple_key(p, k));
        skip_ws(p);
        if (peek(p) != '.')
            return QS_OK;
        advance(p);
        skip_ws(p);
    }
}

/* ---- numbers, dates, times ---- */

static int is_value_end(int c)
{
    return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' ||
           c == '}' || c == '#';
}

/* Digits of base (with '_' only between digits) at s[*i..e); returns count, -1 on a bad '_'. */
static int scan_digits(const char *s, size_t *i, size_t e, int base)
{
    int count = 0, prev_digit = 0;
    while (*i < e) {
        int c = (unsigned char)s[*i];
        int d = is_digit(c) ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (c == '_') {
            if (!prev_digit || *i + 1 >= e)
                return -1;
            int n = (unsigned char)s[*i + 1];
            int nd = is_digit(n) || (base == 16 && ((n >= 'a' && n <= 'f') || (n >= 'A' && n <= 'F')));
            if (!nd || (base < 10 && n - '0' >= base))
                return -1;
            prev_digit = 0;
        } else if (d >= 0 && d < base) {
            count++;
            prev_digit = 1;
        } else {
            break;
        }
        (*i)++;
    }
    return count;
}

static qs_status parse_int_base(parser *p, const char *t, size_t len, int base, int64_t *out)
{
    static const char *names[17] = {[2] = "binary", [8] = "octal", [16] = "hexadecimal"};
    size_t i = 2;
    int nd = scan_digits(t, &i, len, base);
    if (nd <= 0 || i != len)
        return PERR(p, "invalid %s integer", names[base]);
    uint64_t v = 0;
    for (size_t k = 2; k < len; k++) {
        int c = (unsigned char)t[k];
        if (c == '_')
            continue;
        int d = is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
        if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base)
            return PERR(p, "integer out of range (64-bit signed)");
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = (int64_t)v;
    return QS_OK;
}

/* Decimal integer or float text t[0..len) (already known to be one token). */
static qs_status parse_decimal(parser *p, const char *t, size_t len, qs_toml_value **out)
{
    int line = p->line, col = p->col;
    size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
    size_t int_start = i;
    int nd = scan_digits(t, &i, len, 10);
    if (nd < 0)
        return PERR(p, "'_' must be between digits");
    if (nd == 0)
        return PERR(p, "invalid number");
    if (t[int_start] == '0' && i - int_start > 1)
        return PERR(p, "leading zeros are not allowed");
    int is_float = 0;
    if (i < len && t[i] == '.') {
        i++;
        is_float = 1;
        nd = scan_digits(t, &i, len, 10);
        if (nd <= 0)
            return PERR(p, nd < 0 ? "'_' must be between digits" : "a digit must follow '.'");
    }
    if (i < len && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        is_float = 1;
        if (i < len && (t[i] == '+' || t[i] == '-'))
            i++;
        nd = scan_digits(t, &i, len, 10);
        if (nd <= 0)
            return PERR(p, nd < 0 ? "'_' must be between digits" : "a digit must follow the exponent");
    }
    if (i != len)
        return PERR(p, "invalid number");
    char tmp[512];
    size_t k = 0;
    char dp = localeconv()->decimal_point[0];
    for (size_t j = 0; j < len && k < sizeof tmp - 1; j++)
        if (t[j] != '_')
            tmp[k++] = t[j] == '.' ? dp : t[j];
    tmp[k] = '\0';
    if (len >= sizeof tmp)
        return PERR(p, "number too long");
    qs_toml_value *v = new_value(p, is_float ? QS_TOML_FLOAT : QS_TOML_INTEGER, line, col);
    if (!v)
        return nomem(p);
    errno = 0;
    if (is_float) {
        v->u.f = strtod(tmp, NULL);
    } else {
        v->u.i = strtoll(tmp, NULL, 10);
        if (errno == ERANGE) {
            value_free(v);
            return PERR(p, "integer out of range (64-bit signed)");
        }
    }
    *out = v;
    return QS_OK;
}

static qs_status parse_number(parser *p, qs_toml_value **out)
{
    size_t e = p->pos;
    while (e < p->n && (is_bare((unsigned char)p->s[e]) || p->s[e] == '+' || p->s[e] == '.'))
        e++;
    const char *t = p->s + p->pos;
    size_t len = e - p->pos;
    if (len == 0)
        return PERR(p, "expected a value");
    if (e < p->n && !is_value_end((unsigned char)p->s[e]))
        return perr_at(p, p->line, p->col + (int)len, "invalid character after a value");
    size_t sign = (t[0] == '+' || t[0] == '-') ? 1 : 0;
    const char *r = t + sign;
    size_t rlen = len - sign;
    if (rlen == 3 && (memcmp(r, "inf", 3) == 0 || memcmp(r, "nan", 3) == 0)) {
        qs_toml_value *v = new_value(p, QS_TOML_FLOAT, p->line, p->col);
        if (!v)
            return nomem(p);
        v->u.f = r[0] == 'i' ? HUGE_VAL : NAN;
        if (t[0] == '-')
            v->u.f = -v->u.f;
        *out = v;
        advance_n(p, len);
        return QS_OK;
    }
    if (rlen >= 2 && r[0] == '0' && (r[1] == 'x' || r[1] == 'o' || r[1] == 'b')) {
        if (sign)
            return PERR(p, "a sign is not allowed on hexadecimal, octal or binary integers");
        int64_t iv = 0;
        QS_TRY(parse_int_base(p, r, rlen, r[1] == 'x' ? 16 : r[1] == 'o' ? 8 : 2, &iv));
        qs_toml_value *v = new_value(p, QS_TOML_INTEGER, p->line, p->col);
        if (!v)
            return nomem(p);
        v->u.i = iv;
        *out = v;
        advance_n(p, len);
        return QS_OK;
    }
    if (rlen == 0 || !is_digit((unsigned char)r[0]))
        return PERR(p, "invalid value (strings must be quoted)");
    QS_TRY(parse_decimal(p, t, len, out));
    advance_n(p, len);
    return QS_OK;
}

/* Reads exactly n digits at s[p->pos + off]; -1 if not all digits. */
static int fixed_digits(const parser *p, size_t off, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        int c = peek_at(p, off + (size_t)i);
        if (!is_digit(c))
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* Checks field ranges; the column of each field is col0 + its offset. */
static qs_status check_field(parser *p, int val, int lo, int hi, size_t off, const char *what)
{
    if (val < lo || val > hi)
        return perr_at(p, p->line, p->col + (int)off, "%s %d out of range %d..%d", what, val, lo, hi);
    return QS_OK;
}

/* HH:MM:SS[.frac] at offset off; advances nothing, returns the length in *len. */
static qs_status parse_time_part(parser *p, size_t off, qs_toml_datetime *dt, size_t *len)
{
    int h = fixed_digits(p, off, 2), m = fixed_digits(p, off + 3, 2), s = fixed_digits(p, off + 6, 2);
    if (h < 0 || peek_at(p, off + 2) != ':' || m < 0 || peek_at(p, off + 5) != ':' || s < 0)
        return perr_at(p, p->line, p->col + (int)off, "invalid time (expected HH:MM:SS)");
    QS_TRY(check_field(p, h, 0, 23, off, "hour"));
    QS_TRY(check_field(p, m, 0, 59, off + 3, "minute"));
    QS_TRY(check_field(p, s, 0, 59, off + 6, "second"));
    dt->hour = h, dt->minute = m, dt->second = s;
    size_t k = off + 8;
    if (peek_at(p, k) == '.') {
        k++;
        if (!is_digit(peek_at(p, k)))
            return perr_at(p, p->line, p->col + (int)k, "a digit must follow '.' in a time");
        int nd = 0, ns = 0;
        for (; is_digit(peek_at(p, k)); k++, nd++)
            if (nd < 9)
                ns = ns * 10 + (peek_at(p, k) - '0');
        dt->frac_digits = nd < 9 ? nd : 9;
        for (int i = dt->frac_digits; i < 9; i++)
            ns *= 10;
        dt->nanosecond = ns;
    }
    *len = k - off;
    return QS_OK;
}

static qs_status parse_offset(parser *p, size_t off, qs_toml_datetime *dt, size_t *len)
{
    int c = peek_at(p, off);
    if (c == 'Z' || c == 'z') {
        dt->offset_z = 1;
        *len = 1;
        return QS_OK;
    }
    int h = fixed_digits(p, off + 1, 2), m = fixed_digits(p, off + 4, 2);
    if (h < 0 || peek_at(p, off + 3) != ':' || m < 0)
        return perr_at(p, p->line, p->col + (int)off, "invalid time offset (expected +HH:MM)");
    QS_TRY(check_field(p, h, 0, 23, off + 1, "offset hour"));
    QS_TRY(check_field(p, m, 0, 59, off + 4, "offset minute"));
    dt->offset_minutes = (c == '-' ? -1 : 1) * (h * 60 + m);
    *len = 6;
    return QS_OK;
}

static qs_status parse_datetime(parser *p, int has_date, qs_toml_value **out)
{
    qs_toml_datetime dt = {0};
    qs_toml_type type = QS_TOML_LOCAL_TIME;
    size_t k = 0, len;
    if (has_date) {
        dt.year = fixed_digits(p, 0, 4), dt.month = fixed_digits(p, 5, 2), dt.day = fixed_digits(p, 8, 2);
        if (dt.month < 0 || peek_at(p, 7) != '-' || dt.day < 0)
            return PERR(p, "invalid date (expected YYYY-MM-DD)");
        QS_TRY(check_field(p, dt.month, 1, 12, 5, "month"));
        QS_TRY(check_field(p, dt.day, 1, days_in_month(dt.year, dt.month), 8, "day"));
        k = 10;
        type = QS_TOML_LOCAL_DATE;
        int c = peek_at(p, k);
        if (c == 'T' || c == 't' ||
            (c == ' ' && is_digit(peek_at(p, k + 1)) && is_digit(peek_at(p, k + 2)) &&
             peek_at(p, k + 3) == ':')) {
            QS_TRY(parse_time_part(p, k + 1, &dt, &len));
            k += 1 + len;
            type = QS_TOML_LOCAL_DATETIME;
            c = peek_at(p, k);
            if (c == 'Z' || c == 'z' || c == '+' || c == '-') {
                QS_TRY(parse_offset(p, k, &dt, &len));
                k += len;
                type = QS_TOML_OFFSET_DATETIME;
            }
        }
    } else {
        QS_TRY(parse_time_part(p, 0, &dt, &len));
        k = len;
    }
    if (!is_value_end(peek_at(p, k)))
        return perr_at(p, p->line, p->col + (int)k, "invalid character in a date or time");
    qs_toml_value *v = new_value(p, type, p->line, p->col);
    if (!v)
        return nomem(p);
    v->u.dt = dt;
    advance_n(p, k);
    *out = v;
    return QS_OK;
}

/* ---- values ---- */

static qs_status parse_value(parser *p, int depth, qs_toml_value **out);
static qs_status parse_keyval(parser *p, qs_toml_value *table, int depth);

static qs_status parse_array(parser *p, int depth, qs_toml_value **out)
{
    qs_toml_value *arr = new_value(p, QS_TOML_ARRAY, p->line, p->col);
    if (!arr)
        return nomem(p);
    advance(p); /* [ */
    for (;;) {
        skip_ws_nl_comments(p);
        if (peek(p) == ']')
            break;
        qs_toml_value *v = NULL;
        qs_status st = parse_value(p, depth + 1, &v);
        if (st == QS_OK)
            st = array_push(p, arr, v);
        if (st != QS_OK) {
            value_free(arr);
            return st;
        }
        skip_ws_nl_comments(p);
        if (peek(p) == ',') {
            advance(p);
            continue;
        }
        if (peek(p) == ']')
            break;
        value_free(arr);
        return PERR(p, peek(p) == -1 ? "unterminated array" : "expected ',' or ']' in an array");
    }
    advance(p);
    *out = arr;
    return QS_OK;
}

static qs_status parse_inline_table(parser *p, int depth, qs_toml_value **out)
{
    qs_toml_value *t = new_value(p, QS_TOML_TABLE, p->line, p->col);
    if (!t)
        return nomem(p);
    qs_status st = QS_OK;
    advance(p); /* { */
    skip_ws(p);
    if (peek(p) != '}') {
        for (;;) {
            skip_ws(p);
            if (peek(p) == '}') {
                st = PERR(p, "trailing comma in an inline table");
                break;
            }
            if (at_newline(p)) {
                st = PERR(p, "newline in an inline table");
                break;
            }
            if ((st = parse_keyval(p, t, depth + 1)) != QS_OK)
                break;
            skip_ws(p);
            if (peek(p) == ',') {
                advance(p);
                continue;
            }
            if (peek(p) == '}')
                break;
            st = at_newline(p) ? PERR(p, "newline in an inline table")
                 : peek(p) == -1 ? PERR(p, "unterminated inline table")
                                 : PERR(p, "expected ',' or '}' in an inline table");
            break;
        }
    }
    if (st != QS_OK) {
        value_free(t);
        return st;
    }
    advance(p); /* } */
    node(t)->flags |= QS_TOML_F_INLINE;
    *out = t;
    return QS_OK;
}

static qs_status parse_value(parser *p, int depth, qs_toml_value **out)
{
    if (depth >= MAX_DEPTH)
        return PERR(p, "arrays and inline tables nest deeper than %d", MAX_DEPTH);
    int c = peek(p);
    if (c == '"' || c == '\'')
        return parse_string_value(p, out);
    if (c == '[')
        return parse_array(p, depth, out);
    if (c == '{')
        return parse_inline_table(p, depth, out);
    if (c == 't' || c == 'f') {
        size_t len = c == 't' ? 4 : 5;
        if (p->n - p->pos >= len && memcmp(p->s + p->pos, c == 't' ? "true" : "false", len) == 0 &&
            is_value_end(peek_at(p, len))) {
            qs_toml_value *v = new_value(p, QS_TOML_BOOLEAN, p->line, p->col);
            if (!v)
                return nomem(p);
            v->u.b = c == 't';
            advance_n(p, len);
            *out = v;
            return QS_OK;
        }
        return PERR(p, "invalid value (strings must be quoted)");
    }
    if (c == -1 || at_newline(p) || c == '#')
        return PERR(p, "expected a value");
    if (is_digit(c) && is_digit(peek_at(p, 1))) {
        if (is_digit(peek_at(p, 2)) && is_digit(peek_at(p, 3)) && peek_at(p, 4) == '-')
            return parse_datetime(p, 1, out);
        if (peek_at(p, 2) == ':')
            return parse_datetime(p, 0, out);
    }
    return parse_number(p, out);
}

/* ---- key/value pairs and table rules ---- */

static const char *kind_name(const qs_toml_value *v)
{
    return v->type == QS_TOML_ARRAY && (node((qs_toml_value *)v)->flags & QS_TOML_F_AOT)
               ? "an array of tables"
           : v->type == QS_TOML_TABLE && (node((qs_toml_value *)v)->flags & QS_TOML_F_INLINE)
               ? "an inline table"
           : v->type == QS_TOML_ARRAY ? "an array"
           : v->type == QS_TOML_TABLE ? "a table"
                                      : "a value";
}

/* One dotted-key step from t into key k (creating a table when absent). A
 * dotted key may not enter an inline table, a table defined by a header, or
 * one that dotted keys defined in an earlier section. */
static qs_status descend_dotted(parser *p, qs_toml_value **t, const keypart *k)
{
    qs_toml_entry *e = table_find(*t, k);
    if (!e) {
        qs_toml_value *nt = new_value(p, QS_TOML_TABLE, k->line, k->col);
        if (!nt)
            return nomem(p);
        QS_TRY(table_add(p, *t, k, nt));
        node(nt)->flags |= QS_TOML_F_DOTTED;
        node(nt)->sec = p->section;
        *t = nt;
        return QS_OK;
    }
    qs_toml_value *v = e->value;
    qs_toml_node *nd = node(v);
    if (v->type != QS_TOML_TABLE || (nd->flags & QS_TOML_F_INLINE) ||
        (nd->flags & QS_TOML_F_EXPLICIT) ||
        ((nd->flags & QS_TOML_F_DOTTED) && nd->sec != p->section))
        return perr_at(p, k->line, k->col, "cannot add keys to '%s': already defined as %s at %d:%d",
                       k->s, kind_name(v), e->line, e->col);
    nd->flags |= QS_TOML_F_DOTTED;
    nd->sec = p->section;
    *t = v;
    return QS_OK;
}

static qs_status parse_keyval(parser *p, qs_toml_value *table, int depth)
{
    keypath k = {0};
    qs_status st = parse_key(p, &k);
    if (st == QS_OK && peek(p) != '=')
        st = PERR(p, at_newline(p) || peek(p) == -1 ? "expected '=' after the key"
                                                     : "expected '=' after the key (keys with spaces must be quoted)");
    if (st == QS_OK) {
        advance(p);
        skip_ws(p);
    }
    for (size_t i = 0; st == QS_OK && i + 1 < k.n; i++)
        st = descend_dotted(p, &table, &k.parts[i]);
    keypart *last = k.n ? &k.parts[k.n - 1] : NULL;
    qs_toml_entry *e = st == QS_OK ? table_find(table, last) : NULL;
    if (e)
        st = perr_at(p, last->line, last->col, "duplicate key '%s' (first defined at %d:%d)",
                     last->s, e->line, e->col);
    qs_toml_value *v = NULL;
    if (st == QS_OK)
        st = parse_value(p, depth, &v);
    if (st == QS_OK)
        st = table_add(p, table, last, v);
    keypath_free(&k);
    return st;
}

/* One header step into k: through tables (not inline ones) and the last element of arrays of tables. */
static qs_status descend_header(parser *p, qs_toml_value **t, const keypart *k)
{
    qs_toml_entry *e = table_find(*t, k);
    if (!e) {
        qs_toml_value *nt = new_value(p, QS_TOML_TABLE, k->line, k->col);
        if (!nt)
            return nomem(p);
        QS_TRY(table_add(p, *t, k, nt));
        *t = nt;
        return QS_OK;
    }
    qs_toml_value *v = e->value;
    unsigned f = node(v)->flags;
    if (v->type == QS_TOML_ARRAY && (f & QS_TOML_F_AOT)) {
        *t = v->u.arr.items[v->u.arr.len - 1];
        return QS_OK;
    }
    if (v->type == QS_TOML_TABLE && !(f & QS_TOML_F_INLINE)) {
        *t = v;
        return QS_OK;
    }
    return perr_at(p, k->line, k->col, "cannot extend '%s': already defined as %s at %d:%d",
                   k->s, kind_name(v), e->line, e->col);
}

/* Applies [k] or [[k]]: sets *cur to the table that following keys go into. */
static qs_status define_header(parser *p, qs_toml_value *root, const keypath *k, int aot,
                               qs_toml_value **cur)
{
    qs_toml_value *t = root;
    for (size_t i = 0; i + 1 < k->n; i++)
        QS_TRY(descend_header(p, &t, &k->parts[i]));
    const keypart *last = &k->parts[k->n - 1];
    qs_toml_entry *e = table_find(t, last);
    qs_toml_value *v = e ? e->value : NULL;
    if (aot) {
        if (v && !(v->type == QS_TOML_ARRAY && (node(v)->flags & QS_TOML_F_AOT)))
            return perr_at(p, last->line, last->col,
                           "cannot define '%s' as an array of tables: already defined as %s at %d:%d",
                           last->s, kind_name(v), e->line, e->col);
        if (!v) {
            if (!(v = new_value(p, QS_TOML_ARRAY, last->line, last->col)))
                return nomem(p);
            node(v)->flags |= QS_TOML_F_AOT;
            QS_TRY(table_add(p, t, last, v));
        }
        qs_toml_value *elem = new_value(p, QS_TOML_TABLE, last->line, last->col);
        if (!elem)
            return nomem(p);
        node(elem)->flags |= QS_TOML_F_EXPLICIT;
        QS_TRY(array_push(p, v, elem));
        *cur = elem;
        return QS_OK;
    }
    if (!v) {
        if (!(v = new_value(p, QS_TOML_TABLE, last->line, last->col)))
            return nomem(p);
        QS_TRY(table_add(p, t, last, v));
    } else if (v->type != QS_TOML_TABLE || node(v)->flags) {
        const char *how = v->type == QS_TOML_TABLE && (node(v)->flags & QS_TOML_F_DOTTED)
                              ? "a table by dotted keys" : kind_name(v);
        if (v->type == QS_TOML_TABLE && (node(v)->flags & QS_TOML_F_EXPLICIT))
            return perr_at(p, last->line, last->col, "table '%s' defined twice (first at %d:%d)",
                           last->s, v->line, v->col);
        return perr_at(p, last->line, last->col, "cannot define table '%s': already defined as %s at %d:%d",
                       last->s, how, e->line, e->col);
    } else {
        v->line = last->line; /* an implicit table now gets its own header's position */
        v->col = last->col;
    }
    node(v)->flags |= QS_TOML_F_EXPLICIT;
    *cur = v;
    return QS_OK;
}

static qs_status parse_header(parser *p, qs_toml_value *root, qs_toml_value **cur)
{
    int aot = peek_at(p, 1) == '[';
    advance_n(p, aot ? 2 : 1);
    skip_ws(p);
    keypath k = {0};
    qs_status st = parse_key(p, &k);
    if (st == QS_OK) {
        if (peek(p) != ']' || (aot && peek_at(p, 1) != ']'))
            st = PERR(p, aot ? "expected ']]' to close the array of tables header"
                             : "expected ']' to close the table header");
        else
            advance_n(p, aot ? 2 : 1);
    }
    if (st == QS_OK) {
        p->section++;
        st = define_header(p, root, &k, aot, cur);
    }
    keypath_free(&k);
    return st;
}

static qs_status parse_document(parser *p, qs_toml_value *root)
{
    qs_toml_value *cur = root;
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == -1)
            return QS_OK;
        if (c == '[')
            QS_TRY(parse_header(p, root, &cur));
        else if (c != '#' && !at_newline(p))
            QS_TRY(parse_keyval(p, cur, 0));
        skip_ws(p);
        if (peek(p) == '#')
            skip_comment(p);
        if (peek(p) == -1)
            return QS_OK;
        if (!at_newline(p))
            return PERR(p, "expected a newline after %s", c == '[' ? "a table header" : "a value");
        skip_newline(p);
    }
}

/* ---- public ---- */

qs_status qs_toml_parse_string(const char *text, size_t len, const char *name,
                               qs_toml_doc **out, qs_error *err)
{
    *out = NULL;
    if (!name)
        name = "<string>";
    qs_toml_doc *doc = calloc(1, sizeof *doc);
    if (doc)
        doc->name = strdup(name);
    parser p = {.s = text, .n = len, .line = 1, .col = 1, .err = err};
    if (!doc || !doc->name) {
        qs_toml_free(doc);
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", name);
    }
    p.name = doc->name;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3; /* UTF-8 byte order mark */
    qs_status st = check_text(&p);
    if (st == QS_OK) {
        doc->root = new_value(&p, QS_TOML_TABLE, 1, 1);
        st = doc->root ? parse_document(&p, doc->root) : nomem(&p);
    }
    free(p.buf);
    if (st != QS_OK) {
        qs_toml_free(doc);
        return st;
    }
    *out = doc;
    return QS_OK;
}

qs_status qs_toml_parse_file(const char *path, qs_toml_doc **out, qs_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return qs_error_set(err, QS_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    qs_status st = QS_OK;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *q = realloc(text, cap);
            if (!q) {
                st = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            text = q;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = qs_error_set(err, QS_ERR_INPUT, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == QS_OK)
        st = qs_toml_parse_string(text ? text : "", len, path, out, err);
    free(text);
    return st;
}

void qs_toml_free(qs_toml_doc *doc)
{
    if (!doc)
        return;
    value_free(doc->root);
    free(doc->name);
    free(doc);
}
