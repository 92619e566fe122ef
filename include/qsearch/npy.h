/* NumPy .npy files (format 1.0), little-endian float32 and int32, 1-D or 2-D,
 * C order: for `qsearch eval --logits F.npy` and for exporting splits to the
 * PyTorch peer scripts. */
#ifndef QSEARCH_NPY_H
#define QSEARCH_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/status.h"

typedef enum { QS_NPY_F32, QS_NPY_I32 } qs_npy_dtype;

typedef struct {
    qs_npy_dtype dtype;
    int ndim;               /* 1 or 2 */
    size_t shape[2];        /* [rows] or [rows, cols]; shape[1] is 1 when ndim is 1 */
    void *data;             /* [shape[0] * shape[1]] floats or int32s */
} qs_npy_array;

/* Writes rows x cols float32 values (ndim 2) atomically (temp file + rename). */
qs_status qs_npy_write_f32(const char *path, const float *data, size_t rows, size_t cols,
                           qs_error *err);
/* Writes n float32 values as a 1-D array. */
qs_status qs_npy_write_f32_1d(const char *path, const float *data, size_t n, qs_error *err);
/* Writes n int32 values as a 1-D array. */
qs_status qs_npy_write_i32_1d(const char *path, const int32_t *data, size_t n, qs_error *err);
/* Writes rows x cols int32 values (ndim 2). */
qs_status qs_npy_write_i32(const char *path, const int32_t *data, size_t rows, size_t cols,
                           qs_error *err);

/* Reads a 1-D or 2-D '<f4' or '<i4' C-order array; anything else -> QS_ERR_INPUT
 * naming the file and the header field. Caller frees with qs_npy_free. */
qs_status qs_npy_read(const char *path, qs_npy_array *a, qs_error *err);

/* Releases a's data; a may be NULL. */
void qs_npy_free(qs_npy_array *a);

#endif
