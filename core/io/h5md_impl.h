/*
 * h5md_impl.h — what h5md.c (creating, writing) and h5md_append.c (reopening, truncating) share. Private to
 * core/io.
 */
#ifndef FS_H5MD_IMPL_H
#define FS_H5MD_IMPL_H

#include <hdf5.h>

#include "h5md.h"

#define NAME_MAX_LEN 64

struct fs_h5md {
    char *path;
    hid_t file;
    int natoms;
    int has_velocity, has_force;
    hid_t step, time;                       /* position/step and position/time (shared with box, velocity, force) */
    hid_t position, velocity, force, edges; /* value datasets; -1 when absent */
    long nframes, last_step;
    int nobs;
    char (*obs_names)[NAME_MAX_LEN];
    hid_t obs_step, obs_time; /* shared by every observable */
    hid_t *obs_value;
    long nrows, last_obs_step;
    int flush_interval, unflushed_frames, unflushed_rows;
    double *buf; /* 3 N doubles: one frame in H5MD's [N][3] order */
};

/* File access properties for every open of an H5MD file: metadata-cache evictions off (see h5md.c). */
fs_status fs_h5md_fapl_(const char *file, hid_t *out);

/* Validates the arguments of fs_h5md_create / fs_h5md_append. */
fs_status fs_h5md_check_args_(const char *path, const fs_topology *top, const fs_state *s, const fs_h5md_options *o);

/* Allocates a handle with everything but HDF5 identifiers (all -1); *out is set even on failure (free it). */
fs_status fs_h5md_new_(const char *path, const fs_topology *top, const fs_h5md_options *o, fs_h5md **out);

/* Closes every identifier and frees the handle (NULL allowed), keeping the first error in *st. */
void fs_h5md_free_(fs_h5md *h, fs_status *st);

#endif
