/*
 * h5util.c — checked HDF5 calls: error messages from HDF5's error stack, closing any identifier, string and integer
 * attributes.
 *
 * HDF5 reports errors on a stack of records, innermost (where the problem was detected) first when walked upward;
 * by default it prints that stack to stderr at the API boundary. We switch the printing off (H5Eset_auto2 with a NULL
 * function) and instead copy the innermost record's description into our message, so a failed open reads
 * "run.h5: HDF5 call H5Fopen(...) failed: unable to open file: name = 'run.h5', errno = 2, ...".
 *
 * Strings: H5MD wants fixed-length strings for its metadata attributes (author name, creator, boundary) and the
 * units module wants variable-length ASCII strings for `unit` (h5py hands those to Python as str, which is what
 * MDAnalysis's unit look-up expects; fixed-length ones come back as bytes). Both kinds are written here.
 */
#include "h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fs_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t first_record(unsigned n, const H5E_error2_t *err, void *data)
{
    char *buf = data;
    if (n == 0 && err->desc) snprintf(buf, 512, "%s", err->desc);
    return 0;
}

fs_status fs_h5_fail(const char *file, const char *call)
{
    char desc[512] = "no HDF5 error record";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_record, desc);
    H5Eclear2(H5E_DEFAULT);
    /* Cut the call text at its argument list's first 60 characters: the function name is what matters. */
    return fs_fail(FS_ERR_IO, "%s: HDF5 call %.60s failed: %s", file ? file : "(no file)", call, desc);
}

void fs_h5_close(const char *file, hid_t *id, fs_status *st_out)
{
    fs_status st = FS_OK;
    if (*id < 0) return;
    switch (H5Iget_type(*id)) {
    case H5I_FILE:
        FS_H5(file, H5Fclose(*id));
        break;
    case H5I_GROUP:
        FS_H5(file, H5Gclose(*id));
        break;
    case H5I_DATASET:
        FS_H5(file, H5Dclose(*id));
        break;
    case H5I_DATASPACE:
        FS_H5(file, H5Sclose(*id));
        break;
    case H5I_DATATYPE:
        FS_H5(file, H5Tclose(*id));
        break;
    case H5I_ATTR:
        FS_H5(file, H5Aclose(*id));
        break;
    case H5I_GENPROP_LST:
        FS_H5(file, H5Pclose(*id));
        break;
    default:
        st = fs_fail(FS_ERR_IO, "%s: closing an HDF5 identifier of unexpected kind", file);
        goto fail;
    }
    *id = -1;
    return;
fail:
    *id = -1;
    if (*st_out == FS_OK) *st_out = st;
}

fs_status fs_h5_type_size(const char *file, hid_t t, size_t *size)
{
    *size = H5Tget_size(t);
    return *size > 0 ? FS_OK : fs_h5_fail(file, "H5Tget_size(t)");
}

/* Writes attribute `name` of type `type` and dataspace `space` from `buf`; closes nothing it did not open. */
static fs_status write_attr(const char *file, hid_t loc, const char *name, hid_t type, hid_t space, const void *buf)
{
    fs_status st = FS_OK;
    hid_t a = -1;
    FS_H5(file, a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
    FS_H5(file, H5Awrite(a, type, buf));
fail:
    fs_h5_close(file, &a, &st);
    return st;
}

fs_status fs_h5_attr_vlstr(const char *file, hid_t loc, const char *name, const char *value)
{
    fs_status st = FS_OK;
    hid_t t = -1, sp = -1;
    FS_H5(file, t = H5Tcopy(H5T_C_S1));
    FS_H5(file, H5Tset_size(t, H5T_VARIABLE));
    FS_H5(file, H5Tset_cset(t, H5T_CSET_ASCII));
    FS_H5(file, sp = H5Screate(H5S_SCALAR));
    st = write_attr(file, loc, name, t, sp, &value);
fail:
    fs_h5_close(file, &sp, &st);
    fs_h5_close(file, &t, &st);
    return st;
}

fs_status fs_h5_attr_fixstrs(const char *file, hid_t loc, const char *name, const char *const *values, int n)
{
    fs_status st = FS_OK;
    hid_t t = -1, sp = -1;
    size_t len = 1;
    int count = n > 0 ? n : 1;
    for (int i = 0; i < count; ++i)
        if (strlen(values[i]) + 1 > len) len = strlen(values[i]) + 1;
    char *buf = calloc((size_t)count, len);
    if (!buf) return fs_fail(FS_ERR_NOMEM, "%s: out of memory for attribute %s", file, name);
    for (int i = 0; i < count; ++i) memcpy(buf + (size_t)i * len, values[i], strlen(values[i]));
    FS_H5(file, t = H5Tcopy(H5T_C_S1));
    FS_H5(file, H5Tset_size(t, len));
    FS_H5(file, H5Tset_strpad(t, H5T_STR_NULLTERM));
    FS_H5(file, H5Tset_cset(t, H5T_CSET_ASCII));
    if (n > 0) {
        hsize_t dim = (hsize_t)n;
        FS_H5(file, sp = H5Screate_simple(1, &dim, NULL));
    } else {
        FS_H5(file, sp = H5Screate(H5S_SCALAR));
    }
    st = write_attr(file, loc, name, t, sp, buf);
fail:
    free(buf);
    fs_h5_close(file, &sp, &st);
    fs_h5_close(file, &t, &st);
    return st;
}

fs_status fs_h5_attr_fixstr(const char *file, hid_t loc, const char *name, const char *value)
{
    return fs_h5_attr_fixstrs(file, loc, name, &value, 0);
}

fs_status fs_h5_attr_ints(const char *file, hid_t loc, const char *name, const int *values, int n)
{
    fs_status st = FS_OK;
    hid_t sp = -1;
    if (n > 0) {
        hsize_t dim = (hsize_t)n;
        FS_H5(file, sp = H5Screate_simple(1, &dim, NULL));
    } else {
        FS_H5(file, sp = H5Screate(H5S_SCALAR));
    }
    st = write_attr(file, loc, name, H5T_NATIVE_INT, sp, values);
fail:
    fs_h5_close(file, &sp, &st);
    return st;
}
