/* TOML lexing of scalars: the 4 string forms with every escape, integers in
 * 4 bases, floats, and the 4 date/time forms with field range checks. */
#include <locale.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/toml_parser.h"

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
            return qs_toml_perr_at(p, line, col,
                                   "backslash at the end of a line in a single-line string");
        return qs_toml_perr_at(p, line, col, "invalid escape sequence '\\%c'", c);
    }
    advance(p);
    if (simple)
        return buf_put(p, simple, 1) ? QS_OK : qs_toml_nomem(p);
    int digits = c == 'u' ? 4 : 8;
    unsigned cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = peek(p);
        int d = is_digit(h)              ? h - '0'
                : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                         : -1;
        if (d < 0)
            return qs_toml_perr_at(p, line, col, "\\%c needs %d hexadecimal digits", c, digits);
        cp = cp * 16 + (unsigned)d;
        advance(p);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return qs_toml_perr_at(p, line, col, "\\%c escape U+%X is not a Unicode scalar value", c,
                               cp);
    return buf_put_cp(p, cp) ? QS_OK : qs_toml_nomem(p);
}

/* Copies the character at p (possibly multi-byte) into the buffer. */
static qs_status take_char(parser *p)
{
    size_t start = p->pos;
    advance(p);
    while (p->pos < p->n && ((unsigned char)p->s[p->pos] & 0xC0) == 0x80)
        advance(p);
    return buf_put(p, p->s + start, p->pos - start) ? QS_OK : qs_toml_nomem(p);
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
qs_status qs_toml_lex_string(parser *p, int allow_multi)
{
    int q = peek(p), line = p->line, col = p->col;
    int multi = peek_at(p, 1) == q && peek_at(p, 2) == q;
    p->buf_len = 0;
    if (!buf_put(p, "", 0))
        return qs_toml_nomem(p);
    if (multi && !allow_multi)
        return PERR(p, "a multi-line string cannot be a key");
    advance_n(p, multi ? 3 : 1);
    if (multi && at_newline(p))
        skip_newline(p); /* a newline right after the opening quotes is trimmed */
    for (;;) {
        int c = peek(p);
        if (c == -1)
            return qs_toml_perr_at(p, line, col, "unterminated string");
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
                return qs_toml_nomem(p);
            continue;
        }
        if (c == '\\' && q == '"') {
            advance(p);
            if (multi) {
                /* line-ending backslash: trims whitespace and newlines up to the next character */
                size_t k = 0;
                while (peek_at(p, k) == ' ' || peek_at(p, k) == '\t')
                    k++;
                int nl =
                    peek_at(p, k) == '\n' || (peek_at(p, k) == '\r' && peek_at(p, k + 1) == '\n');
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

qs_status qs_toml_lex_string_value(parser *p, qs_toml_value **out)
{
    int line = p->line, col = p->col;
    QS_TRY(qs_toml_lex_string(p, 1));
    qs_toml_value *v = qs_toml_new_value(p, QS_TOML_STRING, line, col);
    char *s = malloc(p->buf_len + 1);
    if (!v || !s) {
        free(s);
        qs_toml_value_free(v);
        return qs_toml_nomem(p);
    }
    memcpy(s, p->buf, p->buf_len + 1);
    v->u.s.ptr = s;
    v->u.s.len = p->buf_len;
    *out = v;
    return QS_OK;
}

/* ---- numbers, dates, times ---- */

/* Digits of base (with '_' only between digits) at s[*i..e); returns count, -1 on a bad '_'. */
static int scan_digits(const char *s, size_t *i, size_t e, int base)
{
    int count = 0, prev_digit = 0;
    while (*i < e) {
        int c = (unsigned char)s[*i];
        int d = is_digit(c)              ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (c == '_') {
            if (!prev_digit || *i + 1 >= e)
                return -1;
            int n = (unsigned char)s[*i + 1];
            int nd =
                is_digit(n) || (base == 16 && ((n >= 'a' && n <= 'f') || (n >= 'A' && n <= 'F')));
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
            return PERR(p,
                        nd < 0 ? "'_' must be between digits" : "a digit must follow the exponent");
    }
    if (i != len)
        return PERR(p, "invalid number");
    /* strtod/strtoll need the digits without '_' (and the locale's decimal point) */
    char small[128], *tmp = len < sizeof small ? small : malloc(len + 1);
    if (!tmp)
        return qs_toml_nomem(p);
    size_t k = 0;
    char dp = localeconv()->decimal_point[0];
    for (size_t j = 0; j < len; j++)
        if (t[j] != '_')
            tmp[k++] = t[j] == '.' ? dp : t[j];
    tmp[k] = '\0';
    qs_toml_value *v = qs_toml_new_value(p, is_float ? QS_TOML_FLOAT : QS_TOML_INTEGER, line, col);
    errno = 0;
    if (v && is_float)
        v->u.f = strtod(tmp, NULL);
    else if (v)
        v->u.i = strtoll(tmp, NULL, 10);
    int range = errno == ERANGE && !is_float;
    if (tmp != small)
        free(tmp);
    if (!v)
        return qs_toml_nomem(p);
    if (range) {
        qs_toml_value_free(v);
        return PERR(p, "integer out of range (64-bit signed)");
    }
    *out = v;
    return QS_OK;
}

qs_status qs_toml_lex_number(parser *p, qs_toml_value **out)
{
    size_t e = p->pos;
    while (e < p->n && (is_bare((unsigned char)p->s[e]) || p->s[e] == '+' || p->s[e] == '.'))
        e++;
    const char *t = p->s + p->pos;
    size_t len = e - p->pos;
    if (len == 0)
        return PERR(p, "expected a value");
    if (e < p->n && !is_value_end((unsigned char)p->s[e]))
        return qs_toml_perr_at(p, p->line, p->col + (int)len, "invalid character after a value");
    size_t sign = (t[0] == '+' || t[0] == '-') ? 1 : 0;
    const char *r = t + sign;
    size_t rlen = len - sign;
    if (rlen == 3 && (memcmp(r, "inf", 3) == 0 || memcmp(r, "nan", 3) == 0)) {
        qs_toml_value *v = qs_toml_new_value(p, QS_TOML_FLOAT, p->line, p->col);
        if (!v)
            return qs_toml_nomem(p);
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
        qs_toml_value *v = qs_toml_new_value(p, QS_TOML_INTEGER, p->line, p->col);
        if (!v)
            return qs_toml_nomem(p);
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
        return qs_toml_perr_at(p, p->line, p->col + (int)off, "%s %d out of range %d..%d", what,
                               val, lo, hi);
    return QS_OK;
}

/* HH:MM:SS[.frac] at offset off; advances nothing, returns the length in *len. */
static qs_status parse_time_part(parser *p, size_t off, qs_toml_datetime *dt, size_t *len)
{
    int h = fixed_digits(p, off, 2), m = fixed_digits(p, off + 3, 2),
        s = fixed_digits(p, off + 6, 2);
    if (h < 0 || peek_at(p, off + 2) != ':' || m < 0 || peek_at(p, off + 5) != ':' || s < 0)
        return qs_toml_perr_at(p, p->line, p->col + (int)off, "invalid time (expected HH:MM:SS)");
    QS_TRY(check_field(p, h, 0, 23, off, "hour"));
    QS_TRY(check_field(p, m, 0, 59, off + 3, "minute"));
    QS_TRY(check_field(p, s, 0, 59, off + 6, "second"));
    dt->hour = h, dt->minute = m, dt->second = s;
    size_t k = off + 8;
    if (peek_at(p, k) == '.') {
        k++;
        if (!is_digit(peek_at(p, k)))
            return qs_toml_perr_at(p, p->line, p->col + (int)k,
                                   "a digit must follow '.' in a time");
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
        return qs_toml_perr_at(p, p->line, p->col + (int)off,
                               "invalid time offset (expected +HH:MM)");
    QS_TRY(check_field(p, h, 0, 23, off + 1, "offset hour"));
    QS_TRY(check_field(p, m, 0, 59, off + 4, "offset minute"));
    dt->offset_minutes = (c == '-' ? -1 : 1) * (h * 60 + m);
    *len = 6;
    return QS_OK;
}

qs_status qs_toml_lex_datetime(parser *p, int has_date, qs_toml_value **out)
{
    qs_toml_datetime dt = {0};
    qs_toml_type type = QS_TOML_LOCAL_TIME;
    size_t k = 0, len;
    if (has_date) {
        dt.year = fixed_digits(p, 0, 4), dt.month = fixed_digits(p, 5, 2),
        dt.day = fixed_digits(p, 8, 2);
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
        return qs_toml_perr_at(p, p->line, p->col + (int)k, "invalid character in a date or time");
    qs_toml_value *v = qs_toml_new_value(p, type, p->line, p->col);
    if (!v)
        return qs_toml_nomem(p);
    v->u.dt = dt;
    advance_n(p, k);
    *out = v;
    return QS_OK;
}
