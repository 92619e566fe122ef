/* TOML 1.0.0 parser, document structure: recursive descent over the bytes
 * with line/column tracking (scalars are lexed in toml_lex.c); the table
 * definition rules follow the spec and agree with Python's tomllib: see
 * define_header() and descend_dotted(). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io/toml_parser.h"

/* Deepest nesting of arrays, inline tables and key parts (bounds the recursion). */
#define MAX_DEPTH 128

typedef struct {
    char *s;
    size_t len;
    int line, col;
} keypart;

typedef struct {
    keypart *parts;
    size_t n, cap;
} keypath;

qs_status qs_toml_perr_at(parser *p, int line, int col, const char *fmt, ...)
{
    char msg[QS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qs_error_set(p->err, QS_ERR_INPUT, "%s:%d:%d: %s", p->name, line, col, msg);
}

qs_status qs_toml_nomem(parser *p)
{
    return qs_error_set(p->err, QS_ERR_NOMEM, "%s: out of memory", p->name);
}

static void skip_ws(parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
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
            return qs_toml_perr_at(p, line, col, "invalid UTF-8 byte 0x%02X", s[i]);
        if (cp == '\r' && !(i + 1 < p->n && s[i + 1] == '\n'))
            return qs_toml_perr_at(p, line, col, "carriage return not followed by a line feed");
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F)
            return qs_toml_perr_at(p, line, col, "control character U+%04X is not allowed", cp);
        if (cp == '\n')
            line++, col = 1;
        else
            col++;
        i += (size_t)len;
    }
    return QS_OK;
}

/* ---- nodes ---- */

qs_toml_value *qs_toml_new_value(parser *p, qs_toml_type t, int line, int col)
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

void qs_toml_value_free(qs_toml_value *v)
{
    if (!v)
        return;
    if (v->type == QS_TOML_STRING) {
        free(v->u.s.ptr);
    } else if (v->type == QS_TOML_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            qs_toml_value_free(v->u.arr.items[i]);
        free(v->u.arr.items);
    } else if (v->type == QS_TOML_TABLE) {
        for (size_t i = 0; i < v->u.tab.len; i++) {
            free(v->u.tab.items[i].key);
            qs_toml_value_free(v->u.tab.items[i].value);
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
        qs_toml_value_free(v);
        return qs_toml_nomem(p);
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
        qs_toml_value_free(v);
        return qs_toml_nomem(p);
    }
    memcpy(key, k->s, k->len);
    key[k->len] = '\0';
    t->u.tab.items = items;
    t->u.tab.items[t->u.tab.len++] = (qs_toml_entry){key, k->len, k->line, k->col, v};
    v->parent = t;
    return index_update(nd) ? QS_OK : qs_toml_nomem(p);
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
        QS_TRY(qs_toml_lex_string(p, 0));
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
        return qs_toml_nomem(p);
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

/* ---- values ---- */

static qs_status parse_value(parser *p, int depth, qs_toml_value **out);
static qs_status parse_keyval(parser *p, qs_toml_value *table, int depth);

static qs_status parse_array(parser *p, int depth, qs_toml_value **out)
{
    qs_toml_value *arr = qs_toml_new_value(p, QS_TOML_ARRAY, p->line, p->col);
    if (!arr)
        return qs_toml_nomem(p);
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
            qs_toml_value_free(arr);
            return st;
        }
        skip_ws_nl_comments(p);
        if (peek(p) == ',') {
            advance(p);
            continue;
        }
        if (peek(p) == ']')
            break;
        qs_toml_value_free(arr);
        return PERR(p, peek(p) == -1 ? "unterminated array" : "expected ',' or ']' in an array");
    }
    advance(p);
    *out = arr;
    return QS_OK;
}

static qs_status parse_inline_table(parser *p, int depth, qs_toml_value **out)
{
    qs_toml_value *t = qs_toml_new_value(p, QS_TOML_TABLE, p->line, p->col);
    if (!t)
        return qs_toml_nomem(p);
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
            st = at_newline(p)   ? PERR(p, "newline in an inline table")
                 : peek(p) == -1 ? PERR(p, "unterminated inline table")
                                 : PERR(p, "expected ',' or '}' in an inline table");
            break;
        }
    }
    if (st != QS_OK) {
        qs_toml_value_free(t);
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
        return PERR(p, "keys, arrays and inline tables nest deeper than %d", MAX_DEPTH);
    int c = peek(p);
    if (c == '"' || c == '\'')
        return qs_toml_lex_string_value(p, out);
    if (c == '[')
        return parse_array(p, depth, out);
    if (c == '{')
        return parse_inline_table(p, depth, out);
    if (c == 't' || c == 'f') {
        size_t len = c == 't' ? 4 : 5;
        if (p->n - p->pos >= len && memcmp(p->s + p->pos, c == 't' ? "true" : "false", len) == 0 &&
            is_value_end(peek_at(p, len))) {
            qs_toml_value *v = qs_toml_new_value(p, QS_TOML_BOOLEAN, p->line, p->col);
            if (!v)
                return qs_toml_nomem(p);
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
            return qs_toml_lex_datetime(p, 1, out);
        if (peek_at(p, 2) == ':')
            return qs_toml_lex_datetime(p, 0, out);
    }
    return qs_toml_lex_number(p, out);
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
        qs_toml_value *nt = qs_toml_new_value(p, QS_TOML_TABLE, k->line, k->col);
        if (!nt)
            return qs_toml_nomem(p);
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
        return qs_toml_perr_at(p, k->line, k->col,
                               "cannot add keys to '%s': already defined as %s at %d:%d", k->s,
                               kind_name(v), e->line, e->col);
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
        st = PERR(p, at_newline(p) || peek(p) == -1
                         ? "expected '=' after the key"
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
        st =
            qs_toml_perr_at(p, last->line, last->col, "duplicate key '%s' (first defined at %d:%d)",
                            last->s, e->line, e->col);
    if (st == QS_OK && depth + k.n > MAX_DEPTH)
        st = qs_toml_perr_at(p, last->line, last->col,
                             "keys, arrays and inline tables nest deeper than %d", MAX_DEPTH);
    qs_toml_value *v = NULL;
    if (st == QS_OK)
        st = parse_value(p, depth + (int)k.n - 1, &v);
    if (st == QS_OK)
        st = table_add(p, table, last, v);
    keypath_free(&k);
    return st;
}

/* One header step into k: through tables (not inline ones) and the last element of arrays of
 * tables. */
static qs_status descend_header(parser *p, qs_toml_value **t, const keypart *k)
{
    qs_toml_entry *e = table_find(*t, k);
    if (!e) {
        qs_toml_value *nt = qs_toml_new_value(p, QS_TOML_TABLE, k->line, k->col);
        if (!nt)
            return qs_toml_nomem(p);
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
    return qs_toml_perr_at(p, k->line, k->col, "cannot extend '%s': already defined as %s at %d:%d",
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
            return qs_toml_perr_at(
                p, last->line, last->col,
                "cannot define '%s' as an array of tables: already defined as %s at %d:%d", last->s,
                kind_name(v), e->line, e->col);
        if (!v) {
            if (!(v = qs_toml_new_value(p, QS_TOML_ARRAY, last->line, last->col)))
                return qs_toml_nomem(p);
            node(v)->flags |= QS_TOML_F_AOT;
            QS_TRY(table_add(p, t, last, v));
        }
        qs_toml_value *elem = qs_toml_new_value(p, QS_TOML_TABLE, last->line, last->col);
        if (!elem)
            return qs_toml_nomem(p);
        node(elem)->flags |= QS_TOML_F_EXPLICIT;
        QS_TRY(array_push(p, v, elem));
        *cur = elem;
        return QS_OK;
    }
    if (!v) {
        if (!(v = qs_toml_new_value(p, QS_TOML_TABLE, last->line, last->col)))
            return qs_toml_nomem(p);
        QS_TRY(table_add(p, t, last, v));
    } else if (v->type != QS_TOML_TABLE || node(v)->flags) {
        const char *how = v->type == QS_TOML_TABLE && (node(v)->flags & QS_TOML_F_DOTTED)
                              ? "a table by dotted keys"
                              : kind_name(v);
        if (v->type == QS_TOML_TABLE && (node(v)->flags & QS_TOML_F_EXPLICIT))
            return qs_toml_perr_at(p, last->line, last->col,
                                   "table '%s' defined twice (first at %d:%d)", last->s, v->line,
                                   v->col);
        return qs_toml_perr_at(p, last->line, last->col,
                               "cannot define table '%s': already defined as %s at %d:%d", last->s,
                               how, e->line, e->col);
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
    if (st == QS_OK && k.n > MAX_DEPTH)
        st = qs_toml_perr_at(p, k.parts[MAX_DEPTH].line, k.parts[MAX_DEPTH].col,
                             "a table header of more than %d keys", MAX_DEPTH);
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

qs_status qs_toml_parse_string(const char *text, size_t len, const char *name, qs_toml_doc **out,
                               qs_error *err)
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
        doc->root = qs_toml_new_value(&p, QS_TOML_TABLE, 1, 1);
        st = doc->root ? parse_document(&p, doc->root) : qs_toml_nomem(&p);
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
    qs_toml_value_free(doc->root);
    free(doc->name);
    free(doc);
}
