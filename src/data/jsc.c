/* JSC loader: MASE's jet-substructure HDF5 file (hls4ml LHC jet data).
 * Dataset t_allpar_new is a 1-D compound array; the 16 input fields and the
 * 5 one-hot label fields are read through a memory compound type of doubles,
 * so any numeric field type converts. HDF5's own error printing is silenced
 * for the duration of the call (and restored after). */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#define JSC_DATASET "t_allpar_new"
#define JSC_INPUTS 16
#define JSC_CLASSES 5
#define JSC_FIELDS (JSC_INPUTS + JSC_CLASSES)
#define JSC_CHUNK 65536

static const char *const jsc_fields[JSC_FIELDS] = {
    "j_zlogz",      "j_c1_b0_mmdt", "j_c1_b1_mmdt",    "j_c1_b2_mmdt",    "j_c2_b1_mmdt", "j_c2_b2_mmdt",
    "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt", "j_m2_b2_mmdt",
    "j_n2_b1_mmdt", "j_n2_b2_mmdt", "j_mass_mmdt",     "j_multiplicity",  /* inputs */
    "j_g",          "j_q",          "j_w",             "j_z",             "j_t",          /* one-hot labels */
};
static const char *const jsc_class_names[JSC_CLASSES] = {"g", "q", "w", "z", "t"};

typedef struct {
    hid_t file, dset, ftype, space, mtype;
} jsc_handles;

static void close_all(jsc_handles *h)
{
    if (h->mtype >= 0)
        H5Tclose(h->mtype);
    if (h->space >= 0)
        H5Sclose(h->space);
    if (h->ftype >= 0)
        H5Tclose(h->ftype);
    if (h->dset >= 0)
        H5Dclose(h->dset);
    if (h->file >= 0)
        H5Fclose(h->file);
}

static qs_status open_dataset(jsc_handles *h, const char *path, hsize_t *n, qs_error *err)
{
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return qs_error_set(err, QS_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: not an HDF5 file", path);
    if ((h->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: cannot open as HDF5", path);
    if (H5Lexists(h->file, JSC_DATASET, H5P_DEFAULT) <= 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: no dataset '" JSC_DATASET "' (not a JSC file)", path);
    if ((h->dset = H5Dopen2(h->file, JSC_DATASET, H5P_DEFAULT)) < 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: '" JSC_DATASET "' is not a dataset", path);
    if ((h->ftype = H5Dget_type(h->dset)) < 0 || H5Tget_class(h->ftype) != H5T_COMPOUND)
        return qs_error_set(err, QS_ERR_INPUT, "%s: dataset '" JSC_DATASET "' is not a compound (table) type", path);
    if ((h->space = H5Dget_space(h->dset)) < 0 || H5Sget_simple_extent_ndims(h->space) != 1)
        return qs_error_set(err, QS_ERR_INPUT, "%s: dataset '" JSC_DATASET "' is not 1-dimensional", path);
    H5Sget_simple_extent_dims(h->space, n, NULL);
    if (*n == 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: dataset '" JSC_DATASET "' has no records", path);
    return QS_OK;
}

/* Checks every field is there and numeric; builds the memory type. */
static qs_status build_memtype(jsc_handles *h, const char *path, qs_error *err)
{
    for (int i = 0; i < JSC_FIELDS; i++) {
        int idx = H5Tget_member_index(h->ftype, jsc_fields[i]);
        if (idx < 0)
            return qs_error_set(err, QS_ERR_INPUT, "%s: dataset '" JSC_DATASET "': missing field '%s'", path,
                                jsc_fields[i]);
        H5T_class_t c = H5Tget_member_class(h->ftype, (unsigned)idx);
        if (c != H5T_INTEGER && c != H5T_FLOAT)
            return qs_error_set(err, QS_ERR_INPUT, "%s: dataset '" JSC_DATASET "': field '%s' is not numeric", path,
                                jsc_fields[i]);
    }
    if ((h->mtype = H5Tcreate(H5T_COMPOUND, JSC_FIELDS * sizeof(double))) < 0)
        return qs_error_set(err, QS_ERR_INTERNAL, "%s: H5Tcreate failed", path);
    for (int i = 0; i < JSC_FIELDS; i++)
        if (H5Tinsert(h->mtype, jsc_fields[i], (size_t)i * sizeof(double), H5T_NATIVE_DOUBLE) < 0)
            return qs_error_set(err, QS_ERR_INTERNAL, "%s: H5Tinsert failed", path);
    return QS_OK;
}

/* Appends one record of converted values to raw. */
static qs_status add_record(qs_data_raw *raw, const double *v, const char *path, size_t rec, qs_error *err)
{
    float *x = raw->x + raw->n * JSC_INPUTS;
    for (int i = 0; i < JSC_INPUTS; i++) {
        if (!isfinite(v[i]) || !isfinite((float)v[i]))
            return qs_error_set(err, QS_ERR_INPUT, "%s: record %zu: field '%s': not a finite number", path, rec,
                                jsc_fields[i]);
        x[i] = (float)v[i] + 0.0f;
    }
    int ones = 0, cls = 0, bad = 0;
    for (int c = 0; c < JSC_CLASSES; c++) {
        double l = v[JSC_INPUTS + c];
        if (l == 1.0) {
            ones++;
            cls = c;
        } else if (l != 0.0) {
            bad = 1;
        }
    }
    if (bad || ones != 1) {
        const double *l = v + JSC_INPUTS;
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: record %zu: labels (j_g, j_q, j_w, j_z, j_t) = (%g, %g, %g, %g, %g) are not one-hot",
                            path, rec, l[0], l[1], l[2], l[3], l[4]);
    }
    raw->y[raw->n++] = cls;
    return QS_OK;
}

static qs_status read_rows(jsc_handles *h, qs_data_raw *raw, hsize_t n, const char *path, qs_error *err)
{
    hsize_t chunk = n < JSC_CHUNK ? n : JSC_CHUNK;
    double *buf = malloc((size_t)chunk * JSC_FIELDS * sizeof *buf);
    if (!buf)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
    raw->features = JSC_INPUTS;
    qs_status st = qs_data_raw_reserve(raw, (size_t)n, err);
    for (hsize_t start = 0; !st && start < n; start += chunk) {
        hsize_t count = n - start < chunk ? n - start : chunk;
        hid_t mspace = H5Screate_simple(1, &count, NULL);
        herr_t rc = mspace < 0 ? -1 : H5Sselect_hyperslab(h->space, H5S_SELECT_SET, &start, NULL, &count, NULL);
        if (rc >= 0)
            rc = H5Dread(h->dset, h->mtype, mspace, h->space, H5P_DEFAULT, buf);
        if (mspace >= 0)
            H5Sclose(mspace);
        if (rc < 0) {
            st = qs_error_set(err, QS_ERR_INPUT, "%s: reading records %llu..%llu failed (corrupt file?)", path,
                              (unsigned long long)start, (unsigned long long)(start + count - 1));
            break;
        }
        for (hsize_t k = 0; !st && k < count; k++)
            st = add_record(raw, buf + k * JSC_FIELDS, path, (size_t)(start + k), err);
    }
    free(buf);
    return st;
}

qs_status qs_data_jsc_read(qs_data_raw *raw, const char *path, qs_error *err)
{
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    jsc_handles h = {-1, -1, -1, -1, -1};
    hsize_t n = 0;
    qs_status st = open_dataset(&h, path, &n, err);
    if (!st)
        st = build_memtype(&h, path, err);
    if (!st)
        st = read_rows(&h, raw, n, path, err);
    close_all(&h);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    if (st)
        return st;
    raw->class_names = calloc(JSC_CLASSES, sizeof(char *));
    if (!raw->class_names)
        return qs_error_set(err, QS_ERR_NOMEM, "out of memory (class names)");
    raw->classes = JSC_CLASSES;
    for (int c = 0; c < JSC_CLASSES; c++)
        if (!(raw->class_names[c] = qs_data_strfmt("%s", jsc_class_names[c])))
            return qs_error_set(err, QS_ERR_NOMEM, "out of memory (class names)");
    return QS_OK;
}
