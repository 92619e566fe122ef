/* Bump allocator for per-trial scratch: one block, reset between uses, not freed. */
#ifndef QSEARCH_ARENA_H
#define QSEARCH_ARENA_H

#include <stddef.h>

#include "qsearch/status.h"

typedef struct {
    unsigned char *base; /* [capacity] bytes, 64-byte aligned */
    size_t capacity;
    size_t used;
} qs_arena;

/* Allocates a block of capacity bytes. */
qs_status qs_arena_init(qs_arena *a, size_t capacity, qs_error *err);
/* Returns 64-byte aligned memory of n bytes, or NULL when the arena is full. */
void *qs_arena_alloc(qs_arena *a, size_t n);
/* Same, zero-filled. */
void *qs_arena_calloc(qs_arena *a, size_t n);
/* Forgets every allocation; the block is kept. */
void qs_arena_reset(qs_arena *a);
/* Releases the block; a may be NULL. */
void qs_arena_free(qs_arena *a);

#endif
