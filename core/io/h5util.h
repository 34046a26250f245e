/*
 * h5util.h — the one checking macro for HDF5 calls, and the few helpers every HDF5 file of core/io shares.
 *
 * HDF5 is used only in core/io (DESIGN.md). Every HDF5 call there goes through FS_H5(), which turns a negative
 * return (HDF5's failure value for herr_t, hid_t, htri_t and ssize_t alike) into an fs_status with a message that
 * names the file, the call as written in the source, and HDF5's own innermost error description. HDF5's automatic
 * printing of its error stack is switched off (fs_h5_quiet), so library code never prints.
 *
 * Private to core/io: not a public header.
 */
#ifndef FS_H5UTIL_H
#define FS_H5UTIL_H

#include <hdf5.h>

#include "../status.h"

/* Switches HDF5's automatic error printing off. Idempotent and cheap; every public function of core/io that calls
 * HDF5 calls it first. */
void fs_h5_quiet(void);

/* Records "FILE: HDF5 call CALL failed: <HDF5's innermost message>" as FS_ERR_IO, clears HDF5's error stack and
 * returns FS_ERR_IO. */
fs_status fs_h5_fail(const char *file, const char *call);

/* The checking macro. Evaluates `call`; if its value is negative, records the failure (fs_h5_fail with `file`),
 * stores the status in the enclosing function's `fs_status st`, and jumps to its label `fail`. */
#define FS_H5(file, call)                                                                                              \
    do {                                                                                                               \
        if ((call) < 0) {                                                                                              \
            st = fs_h5_fail((file), #call);                                                                            \
            goto fail;                                                                                                 \
        }                                                                                                              \
    } while (0)

/* Closes any HDF5 identifier (file, group, dataset, dataspace, datatype, attribute, property list) and sets *id to
 * -1; a negative *id is ignored. A failure is recorded in *st only if *st is still FS_OK (so the first error of a
 * function is the one reported). */
void fs_h5_close(const char *file, hid_t *id, fs_status *st);

/* The size in bytes of datatype t (H5Tget_size, which signals failure by 0 rather than a negative value). */
fs_status fs_h5_type_size(const char *file, hid_t t, size_t *size);

/* Attribute helpers on object `loc` (a group or dataset). Each returns FS_OK or the FS_H5 failure. */
fs_status fs_h5_attr_vlstr(const char *file, hid_t loc, const char *name, const char *value);  /* VL ASCII string */
fs_status fs_h5_attr_fixstr(const char *file, hid_t loc, const char *name, const char *value); /* fixed-length */
fs_status fs_h5_attr_fixstrs(const char *file, hid_t loc, const char *name, const char *const *values, int n);
/* n int32 values as a rank-1 attribute, or for n <= 0 a scalar attribute holding values[0]. */
fs_status fs_h5_attr_ints(const char *file, hid_t loc, const char *name, const int *values, int n);

#endif
