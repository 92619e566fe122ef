/* Model files in the safetensors format: 8-byte little-endian header length,
 * a JSON header, then raw little-endian tensor data. Tensor names follow the
 * PyTorch state_dict of MASE's JSC models ("seq_blocks.2.weight",
 * "seq_blocks.0.running_mean", "seq_blocks.0.num_batches_tracked" as I64; F32
 * otherwise). __metadata__ (string -> string) holds format "qsearch-model",
 * qsearch_version, arch, in_features, classes, class_names, input_mean,
 * input_std (JSON arrays as strings), dataset and training (JSON as a string). */
#ifndef QSEARCH_SAFETENSORS_H
#define QSEARCH_SAFETENSORS_H

#include "qsearch/model.h"
#include "qsearch/status.h"

/* Header length bound when loading. */
#define QS_SAFETENSORS_MAX_HEADER (100u * 1024u * 1024u)

/* Writes m and meta (may be NULL) to path atomically (temp file + rename; no
 * partial file is left on failure). I/O failures -> QS_ERR_IO. */
qs_status qs_safetensors_save_model(const char *path, const qs_model *m, const qs_model_meta *meta,
                                    qs_error *err);

/* Loads a model file written by qsearch (or by PyTorch with the same names and
 * metadata): validates the header length, JSON, dtypes (F32, I64), shapes,
 * offsets (inside the data area, no overlap, no gap), the arch's tensors all
 * present with their shapes, nothing unexpected, finite values. meta may be
 * NULL; otherwise it is filled (caller frees with qs_model_meta_free). Every
 * failure is QS_ERR_INPUT (QS_ERR_IO when the file cannot be read) with a
 * message naming the file and the tensor or key. */
qs_status qs_safetensors_load_model(const char *path, qs_model **out, qs_model_meta *meta,
                                    qs_error *err);

#endif
