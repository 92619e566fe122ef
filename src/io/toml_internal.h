/* Private to src/io/toml*.c: the node wrapped around each public value. */
#ifndef QSEARCH_TOML_INTERNAL_H
#define QSEARCH_TOML_INTERNAL_H

#include "qsearch/toml.h"

enum {
    QS_TOML_F_EXPLICIT = 1, /* table defined by a [header] or an [[array]] element */
    QS_TOML_F_INLINE = 2,   /* inline table: closed to every later addition */
    QS_TOML_F_DOTTED = 4,   /* table created or extended by dotted keys (in section sec) */
    QS_TOML_F_AOT = 8       /* array created by [[header]] (otherwise a static array) */
};

/* The public value is the first member, so a value pointer is a node pointer. */
typedef struct {
    qs_toml_value v;
    unsigned flags;
    int sec;    /* section (header count) in which dotted keys last touched the table */
    size_t cap; /* capacity of v.u.arr.items or v.u.tab.items */
    /* tables of 16+ keys: open-addressing index of entry positions + 1 (0 = empty),
     * so that documents with huge tables parse in linear time */
    uint32_t *index;
    size_t index_cap; /* a power of two, at least twice the entries */
} qs_toml_node;

static inline unsigned qs_toml_flags(const qs_toml_value *v)
{
    return ((const qs_toml_node *)(const void *)v)->flags;
}

/* The entry of key[0..len) in table t, or NULL. */
qs_toml_entry *qs_toml_table_entry(const qs_toml_value *t, const char *key, size_t len);

/* True when a key may be written bare (A-Za-z0-9_- only, non-empty). */
int qs_toml_key_is_bare(const char *k, size_t len);

/* Shortest text of f that reads back exactly, TOML syntax ("1.0", "1e+300",
 * "inf", "-nan"), into buf[32]; returns buf. */
char *qs_toml_format_float(double f, char *buf);

#endif
