/* Private to src/io/toml.c (structure, tables) and src/io/toml_lex.c
 * (strings, numbers, dates): the parser state and its cursor helpers. */
#ifndef QSEARCH_TOML_PARSER_H
#define QSEARCH_TOML_PARSER_H

#include "io/toml_internal.h"

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

/* "NAME:LINE:COL: message" as QS_ERR_INPUT; returns it. */
qs_status qs_toml_perr_at(parser *p, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
#define PERR(p, ...) qs_toml_perr_at((p), (p)->line, (p)->col, __VA_ARGS__)

/* QS_ERR_NOMEM naming the document. */
qs_status qs_toml_nomem(parser *p);

/* A new node of type t at line:col (NULL on OOM); qs_toml_value_free frees a subtree. */
qs_toml_value *qs_toml_new_value(parser *p, qs_toml_type t, int line, int col);
void qs_toml_value_free(qs_toml_value *v);

/* toml_lex.c: the string at p (any of the 4 forms; multi-line ones only when
 * allow_multi) decoded into p->buf[0..p->buf_len). */
qs_status qs_toml_lex_string(parser *p, int allow_multi);
/* toml_lex.c: a string value, a number (integer/float/inf/nan), a date/time
 * (has_date: starts with YYYY-MM-DD; else HH:MM:SS). */
qs_status qs_toml_lex_string_value(parser *p, qs_toml_value **out);
qs_status qs_toml_lex_number(parser *p, qs_toml_value **out);
qs_status qs_toml_lex_datetime(parser *p, int has_date, qs_toml_value **out);

static inline int peek_at(const parser *p, size_t k)
{
    return p->pos + k < p->n ? (unsigned char)p->s[p->pos + k] : -1;
}

static inline int peek(const parser *p) { return peek_at(p, 0); }

static inline void advance(parser *p)
{
    unsigned char c = (unsigned char)p->s[p->pos++];
    if (c == '\n') {
        p->line++;
        p->col = 1;
    } else if ((c & 0xC0) != 0x80) {
        p->col++;
    }
}

static inline void advance_n(parser *p, size_t k)
{
    while (k--)
        advance(p);
}

static inline int is_digit(int c) { return c >= '0' && c <= '9'; }

static inline int is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
}

static inline int at_newline(const parser *p)
{
    return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

static inline void skip_newline(parser *p)
{
    if (peek(p) == '\r')
        advance(p);
    advance(p);
}

static inline int is_value_end(int c)
{
    return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' ||
           c == '}' || c == '#';
}

#endif
