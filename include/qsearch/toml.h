/* TOML 1.0.0 documents: parser, lookups with located errors, JSON conversion
 * (plain and toml-test tagged) and a canonical writer.
 *
 * Every value and key records where it was written (1-based line and column;
 * columns count Unicode code points, a tab counts 1), so config validation
 * can report "q.toml:12:5: passes.quantize.default.weight_width: must be 1..32".
 * Parse errors are QS_ERR_INPUT with "FILE:LINE:COLUMN: message".
 *
 * Choices where TOML 1.0 leaves room: CRLF inside multi-line strings becomes
 * LF (as Python's tomllib); fractional seconds keep 9 digits (more are
 * truncated); second 60 is rejected (as tomllib); year 0000 is accepted
 * (RFC 3339; tomllib cannot); a leading UTF-8 BOM is skipped (toml-test
 * allows it; tomllib does not); key parts, arrays and inline tables together
 * nest at most 128 deep, and a [header] has at most 128 keys, which bounds
 * the recursion of every function here. The document is checked for UTF-8
 * and control characters before it is parsed, so such an error is reported
 * even when a syntax error comes earlier. Parsing has no global state. */
#ifndef QSEARCH_TOML_H
#define QSEARCH_TOML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qsearch/status.h"

typedef enum {
    QS_TOML_STRING,
    QS_TOML_INTEGER,
    QS_TOML_FLOAT,
    QS_TOML_BOOLEAN,
    QS_TOML_OFFSET_DATETIME,
    QS_TOML_LOCAL_DATETIME,
    QS_TOML_LOCAL_DATE,
    QS_TOML_LOCAL_TIME,
    QS_TOML_ARRAY,
    QS_TOML_TABLE
} qs_toml_type;

/* Date, time or both; the fields that the type does not carry are 0. */
typedef struct {
    int year, month, day;     /* local date and both date-times */
    int hour, minute, second; /* local time and both date-times */
    int nanosecond;           /* fraction of the second, 0..999999999 */
    int frac_digits;          /* digits of the fraction as written (0..9), for re-emission */
    int offset_minutes;       /* offset date-time: minutes east of UTC, -1439..1439 */
    int offset_z;             /* offset date-time written with "Z": 1 */
} qs_toml_datetime;

typedef struct qs_toml_value qs_toml_value;

/* One key = value of a table, in document order. */
typedef struct {
    char *key;             /* [key_len + 1], NUL-terminated (may also hold NUL from \u0000) */
    size_t key_len;
    int line, col;         /* where the (last part of the) key was written */
    qs_toml_value *value;
} qs_toml_entry;

struct qs_toml_value {
    qs_toml_type type;
    int line, col;         /* where the value starts; a [table]: its header's key */
    const char *file;      /* document name for messages, owned by the document */
    qs_toml_value *parent; /* enclosing table or array; NULL for the root table */
    union {
        struct { char *ptr; size_t len; } s;                 /* STRING: [len + 1], NUL-terminated */
        int64_t i;                                           /* INTEGER */
        double f;                                            /* FLOAT */
        int b;                                               /* BOOLEAN: 0 or 1 */
        qs_toml_datetime dt;                                 /* the 4 date/time types */
        struct { qs_toml_value **items; size_t len; } arr;   /* ARRAY: [len] */
        struct { qs_toml_entry *items; size_t len; } tab;    /* TABLE: [len], document order */
    } u;
};

/* A parsed document (heap handle). */
typedef struct {
    qs_toml_value *root; /* the root table */
    char *name;          /* the name used in messages (the path for files) */
} qs_toml_doc;

/* ---- parsing ---- */

/* Parses the file at path into *out (free with qs_toml_free). */
qs_status qs_toml_parse_file(const char *path, qs_toml_doc **out, qs_error *err);

/* Parses text[0..len) (need not be NUL-terminated); name appears in messages. */
qs_status qs_toml_parse_string(const char *text, size_t len, const char *name,
                               qs_toml_doc **out, qs_error *err);

/* Frees a document (NULL ok). */
void qs_toml_free(qs_toml_doc *doc);

/* ---- lookups (NULL when absent or when table is not a table) ---- */

/* "string", "integer", "float", "boolean", "offset date-time", ... */
const char *qs_toml_type_name(qs_toml_type t);

/* The value of key in table (keys are unique, so document order does not matter). */
const qs_toml_value *qs_toml_table_get(const qs_toml_value *table, const char *key);

/* As qs_toml_table_get for a key of key_len bytes (keys holding NUL). */
const qs_toml_value *qs_toml_table_getn(const qs_toml_value *table, const char *key,
                                        size_t key_len);

/* Follows keys[0..n) from table: {"search", "strategy", "setup"}. */
const qs_toml_value *qs_toml_path_get(const qs_toml_value *table, const char *const *keys,
                                      size_t n);

/* Follows a dotted path written as a TOML key, from table: `search.strategy.setup`,
 * `seed."seq_blocks.2".config` (quoted parts: "..." with \" and \\ escapes, or '...'). */
const qs_toml_value *qs_toml_find(const qs_toml_value *table, const char *dotted);

/* Writes v's full key path ("a.b[2].c", quoted parts where needed; "" for the
 * root) into buf[cap]; returns the length it needed (as snprintf). */
size_t qs_toml_path_str(const qs_toml_value *v, char *buf, size_t cap);

/* ---- typed access with located errors ---- */

/* Records QS_ERR_INPUT "FILE:LINE:COL: PATH: message" for v in err; returns QS_ERR_INPUT. */
qs_status qs_toml_error_at(qs_error *err, const qs_toml_value *v, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* v as an integer; else "expected an integer, got a string" at v. */
qs_status qs_toml_as_int(const qs_toml_value *v, int64_t *out, qs_error *err);
/* v as a float; integers are accepted and converted. */
qs_status qs_toml_as_float(const qs_toml_value *v, double *out, qs_error *err);
qs_status qs_toml_as_bool(const qs_toml_value *v, int *out, qs_error *err);
/* v as a C string (owned by the document); strings holding NUL are rejected. */
qs_status qs_toml_as_string(const qs_toml_value *v, const char **out, qs_error *err);

/* The value at dotted path (see qs_toml_find) under table, typed; a missing key
 * is an error "FILE:L:C: TABLE_PATH: missing key 'k'" located at the table. */
qs_status qs_toml_get(const qs_toml_value *table, const char *dotted,
                      const qs_toml_value **out, qs_error *err);
qs_status qs_toml_get_int(const qs_toml_value *table, const char *dotted, int64_t *out,
                          qs_error *err);
/* As qs_toml_get_int, and "must be LO..HI" when outside [lo, hi]. */
qs_status qs_toml_get_int_range(const qs_toml_value *table, const char *dotted, int64_t lo,
                                int64_t hi, int64_t *out, qs_error *err);
qs_status qs_toml_get_float(const qs_toml_value *table, const char *dotted, double *out,
                            qs_error *err);
qs_status qs_toml_get_bool(const qs_toml_value *table, const char *dotted, int *out,
                           qs_error *err);
qs_status qs_toml_get_string(const qs_toml_value *table, const char *dotted, const char **out,
                             qs_error *err);
qs_status qs_toml_get_table(const qs_toml_value *table, const char *dotted,
                            const qs_toml_value **out, qs_error *err);
qs_status qs_toml_get_array(const qs_toml_value *table, const char *dotted,
                            const qs_toml_value **out, qs_error *err);

/* ---- conversion and writing ---- */

/* RFC 3339 text of a date/time value ("1979-05-27T07:32:00.5-07:00") into buf[cap]
 * (40 bytes always suffice); returns its length. */
size_t qs_toml_datetime_str(const qs_toml_value *v, char *buf, size_t cap);

struct json_t;

/* Plain JSON (new reference; NULL on allocation failure): integers stay integers,
 * floats reals, date/times their RFC 3339 strings, inf/nan the strings
 * "inf", "-inf", "nan". */
struct json_t *qs_toml_to_json(const qs_toml_value *v);

/* toml-test's tagged JSON: every scalar as {"type": "integer", "value": "42"}
 * (types string, integer, float, bool, datetime, datetime-local, date-local,
 * time-local); arrays and tables as JSON arrays and objects. */
struct json_t *qs_toml_to_tagged_json(const qs_toml_value *v);

/* Canonical TOML for a table: its plain keys first, then [sub.tables] and
 * [[arrays.of.tables]]; inline tables and arrays stay inline. Parses back to
 * the same tree. Returns a malloc'd NUL-terminated string (NULL on OOM). */
char *qs_toml_write_string(const qs_toml_value *table, size_t *len_out);

/* As qs_toml_write_string, written to f; QS_ERR_IO on a write error. */
qs_status qs_toml_write(const qs_toml_value *table, FILE *f, qs_error *err);

#endif
