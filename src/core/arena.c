#include "qsearch/arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64

qs_status qs_arena_init(qs_arena *a, size_t capacity, qs_error *err)
{
    a->used = 0;
    a->capacity = (capacity + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    a->base = aligned_alloc(ARENA_ALIGN, a->capacity ? a->capacity : ARENA_ALIGN);
    if (!a->base) {
        a->capacity = 0;
        return qs_error_set(err, QS_ERR_NOMEM, "arena: cannot allocate %zu bytes", capacity);
    }
    return QS_OK;
}

void *qs_arena_alloc(qs_arena *a, size_t n)
{
    size_t rounded = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (rounded < n || rounded > a->capacity - a->used)
        return NULL;
    void *p = a->base + a->used;
    a->used += rounded;
    return p;
}

void *qs_arena_calloc(qs_arena *a, size_t n)
{
    void *p = qs_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void qs_arena_reset(qs_arena *a) { a->used = 0; }

void qs_arena_free(qs_arena *a)
{
    if (!a)
        return;
    free(a->base);
    a->base = NULL;
    a->capacity = a->used = 0;
}
