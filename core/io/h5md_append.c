/*
 * h5md_append.c — reopening an H5MD file to continue a run (fs_h5md_append).
 *
 * A run restarted from a checkpoint at step S must continue its trajectory as if it had never stopped: the frames
 * and observable rows written after S (the run went on past the checkpoint before it was killed or stopped) are
 * dropped, and the new frames follow. The file is reopened with the same access properties as at creation (h5md.c:
 * metadata evictions off; the file-space strategy is stored in the file), every series is checked against the run
 * (atom count, velocity and force elements, the observables in creation order, which the /observables group
 * tracks), and every time series is truncated with H5Dset_extent to
 *   kept = min(number of rows with step <= S, length of each series of the element group),
 * the minimum dropping the extra value row a kill inside a write can leave (h5md.h). Steps must be increasing;
 * the last kept step becomes the one the next frame must exceed. Space of truncated chunks is not reused (the
 * file-space strategy "none" of h5md.c), so a restart leaves unused bytes in the file, never damaged ones.
 */
#include "h5md_impl.h"
#include "h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 if every component of the relative `path` exists under loc, 0 if not; FS_H5 failure otherwise. */
static fs_status exists(const char *p, hid_t loc, const char *path, int *yes)
{
    fs_status st = FS_OK;
    char buf[256];
    htri_t e = 1;
    *yes = 0;
    if (strlen(path) >= sizeof buf) return fs_fail(FS_ERR_INVALID, "%s: path too long", p);
    strcpy(buf, path);
    for (char *c = buf;; ++c) {
        if (*c == '/' || *c == '\0') {
            char was = *c;
            *c = '\0';
            FS_H5(p, e = H5Lexists(loc, buf, H5P_DEFAULT));
            *c = was;
            if (!e || !was) break;
        }
    }
    *yes = e > 0;
fail:
    return st;
}

/* Opens the time series at `path` under loc, requiring rank 1 + ntail with the given tail dimensions; *rows is its
 * length. A missing or misshapen series is FS_ERR_PARSE. */
static fs_status open_series(const char *p, hid_t loc, const char *path, int ntail, const hsize_t *tail, hid_t *out,
                             long *rows)
{
    fs_status st = FS_OK;
    hid_t sp = -1;
    hsize_t dims[4];
    int rank, yes;
    *out = -1;
    if ((st = exists(p, loc, path, &yes))) return st;
    if (!yes) return fs_fail(FS_ERR_PARSE, "%s: not a ferrosolv H5MD file: %s is missing", p, path);
    FS_H5(p, *out = H5Dopen2(loc, path, H5P_DEFAULT));
    FS_H5(p, sp = H5Dget_space(*out));
    FS_H5(p, rank = H5Sget_simple_extent_ndims(sp));
    if (rank != 1 + ntail) goto shape;
    FS_H5(p, H5Sget_simple_extent_dims(sp, dims, NULL));
    for (int k = 0; k < ntail; ++k)
        if (dims[k + 1] != tail[k]) goto shape;
    *rows = (long)dims[0];
    fs_h5_close(p, &sp, &st);
    return st;
shape:
    st =
        fs_fail(FS_ERR_PARSE, "%s: %s has another shape than this run's (%d atoms)", p, path, ntail ? (int)tail[0] : 0);
fail:
    fs_h5_close(p, &sp, &st);
    fs_h5_close(p, out, &st);
    return st;
}

/* Number of leading entries of the int64 series `d` (of `rows` rows) with step <= last; FS_ERR_PARSE if the steps
 * are not increasing. */
static fs_status count_kept(const char *p, const char *what, hid_t d, long rows, long last, long *kept, long *kept_last)
{
    fs_status st = FS_OK;
    long long *steps = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *steps);
    if (!steps) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", p);
    if (rows > 0) FS_H5(p, H5Dread(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, steps));
    *kept = 0;
    for (long i = 0; i < rows; ++i) {
        if (i > 0 && steps[i] <= steps[i - 1]) {
            st = fs_fail(FS_ERR_PARSE, "%s: %s is not increasing at row %ld", p, what, i);
            goto fail;
        }
        if (steps[i] <= last) *kept = i + 1, *kept_last = (long)steps[i];
    }
fail:
    free(steps);
    return st;
}

/* Reads row `row` of the int64 series d. */
static fs_status read_step(const char *p, hid_t d, long row, long *out)
{
    fs_status st = FS_OK;
    hid_t fsp = -1, msp = -1;
    hsize_t one = 1, at = (hsize_t)row;
    long long v = 0;
    FS_H5(p, fsp = H5Dget_space(d));
    FS_H5(p, H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &at, NULL, &one, NULL));
    FS_H5(p, msp = H5Screate_simple(1, &one, NULL));
    FS_H5(p, H5Dread(d, H5T_NATIVE_LLONG, msp, fsp, H5P_DEFAULT, &v));
    *out = (long)v;
fail:
    fs_h5_close(p, &msp, &st);
    fs_h5_close(p, &fsp, &st);
    return st;
}

static fs_status truncate_rows(const char *p, hid_t d, long rows)
{
    fs_status st = FS_OK;
    hid_t sp = -1;
    hsize_t dims[4];
    FS_H5(p, sp = H5Dget_space(d));
    FS_H5(p, H5Sget_simple_extent_dims(sp, dims, NULL));
    dims[0] = (hsize_t)rows;
    FS_H5(p, H5Dset_extent(d, dims));
fail:
    fs_h5_close(p, &sp, &st);
    return st;
}

typedef struct {
    char (*names)[NAME_MAX_LEN];
    int n, cap;
} name_list;

#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t link_info;
#define ITERATE_LINKS H5Literate2
#else
typedef H5L_info_t link_info;
#define ITERATE_LINKS H5Literate
#endif

static herr_t collect_name(hid_t g, const char *name, const link_info *info, void *data)
{
    (void)g, (void)info;
    name_list *l = data;
    if (l->n < l->cap) snprintf(l->names[l->n], NAME_MAX_LEN, "%s", name);
    l->n++;
    return 0;
}

static fs_status check_observables(fs_h5md *h)
{
    const char *p = h->path;
    fs_status st = FS_OK;
    hid_t obs = -1;
    int yes;
    name_list l = {NULL, 0, h->nobs};
    if ((st = exists(p, h->file, "observables", &yes))) return st;
    if (!yes && h->nobs == 0) return FS_OK;
    if (!yes) return fs_fail(FS_ERR_INVALID, "%s: the file has no observables, this run writes %d", p, h->nobs);
    l.names = calloc((size_t)(h->nobs > 0 ? h->nobs : 1), sizeof *l.names);
    if (!l.names) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", p);
    FS_H5(p, obs = H5Gopen2(h->file, "observables", H5P_DEFAULT));
    FS_H5(p, ITERATE_LINKS(obs, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, collect_name, &l));
    if (l.n != h->nobs) {
        st = fs_fail(FS_ERR_INVALID, "%s: the file has %d observables, this run writes %d", p, l.n, h->nobs);
        goto fail;
    }
    for (int k = 0; k < h->nobs; ++k)
        if (strcmp(l.names[k], h->obs_names[k]) != 0) {
            st = fs_fail(FS_ERR_INVALID, "%s: observable %d is '%s' in the file, '%s' in this run", p, k + 1,
                         l.names[k], h->obs_names[k]);
            goto fail;
        }
fail:
    free(l.names);
    fs_h5_close(p, &obs, &st);
    return st;
}

/* Opens every series of an existing file into the handle and truncates them to the kept rows. */
static fs_status reopen_layout(fs_h5md *h, long last_step)
{
    const char *p = h->path;
    fs_status st = FS_OK;
    const hsize_t atoms[2] = {(hsize_t)h->natoms, 3}, mat[2] = {3, 3};
    long nstep = 0, ntime = 0, n, kept = 0, kept_last = 0;
    int yes;
    hid_t all = -1;
    FS_H5(p, all = H5Gopen2(h->file, "particles/all", H5P_DEFAULT));
    if ((st = open_series(p, all, "position/step", 0, NULL, &h->step, &nstep))) goto fail;
    if ((st = open_series(p, all, "position/time", 0, NULL, &h->time, &ntime))) goto fail;
    if ((st = count_kept(p, "position/step", h->step, nstep, last_step, &kept, &kept_last))) goto fail;
    if (ntime < kept) kept = ntime;
    if ((st = open_series(p, all, "position/value", 2, atoms, &h->position, &n))) goto fail;
    if (n < kept) kept = n;
    if ((st = open_series(p, all, "box/edges/value", 2, mat, &h->edges, &n))) goto fail;
    if (n < kept) kept = n;
    const char *const opt_names[2] = {"velocity", "force"};
    int *const want[2] = {&h->has_velocity, &h->has_force};
    hid_t *const ids[2] = {&h->velocity, &h->force};
    for (int k = 0; k < 2; ++k) {
        if ((st = exists(p, all, opt_names[k], &yes))) goto fail;
        if (yes != *want[k]) {
            st = fs_fail(FS_ERR_INVALID, "%s: the file %s %s, this run %s", p, yes ? "has" : "has no", opt_names[k],
                         *want[k] ? "writes them" : "does not");
            goto fail;
        }
        char path[32];
        snprintf(path, sizeof path, "%s/value", opt_names[k]);
        if (yes && (st = open_series(p, all, path, 2, atoms, ids[k], &n))) goto fail;
        if (yes && n < kept) kept = n;
    }
    /* the last kept step (a shorter value series may have cut the frames) */
    if (kept > 0 && (st = read_step(p, h->step, kept - 1, &kept_last))) goto fail;
    hid_t frame_series[] = {h->step, h->time, h->position, h->edges, h->velocity, h->force};
    for (size_t k = 0; k < sizeof frame_series / sizeof frame_series[0]; ++k)
        if (frame_series[k] >= 0 && (st = truncate_rows(p, frame_series[k], kept))) goto fail;
    h->nframes = kept;
    h->last_step = kept_last;

    if ((st = check_observables(h))) goto fail;
    if (h->nobs > 0) {
        hid_t obs = -1;
        FS_H5(p, obs = H5Gopen2(h->file, "observables", H5P_DEFAULT));
        char path[NAME_MAX_LEN + 16];
        snprintf(path, sizeof path, "%s/step", h->obs_names[0]);
        st = open_series(p, obs, path, 0, NULL, &h->obs_step, &nstep);
        snprintf(path, sizeof path, "%s/time", h->obs_names[0]);
        if (!st) st = open_series(p, obs, path, 0, NULL, &h->obs_time, &ntime);
        for (int k = 0; k < h->nobs && !st; ++k) {
            snprintf(path, sizeof path, "%s/value", h->obs_names[k]);
            st = open_series(p, obs, path, 0, NULL, &h->obs_value[k], &n);
            if (!st && n < ntime) ntime = n;
        }
        fs_h5_close(p, &obs, &st);
        if (st) goto fail;
        kept = kept_last = 0;
        if ((st = count_kept(p, "observable steps", h->obs_step, nstep, last_step, &kept, &kept_last))) goto fail;
        if (ntime < kept) kept = ntime;
        if ((st = truncate_rows(p, h->obs_step, kept)) || (st = truncate_rows(p, h->obs_time, kept))) goto fail;
        for (int k = 0; k < h->nobs; ++k)
            if ((st = truncate_rows(p, h->obs_value[k], kept))) goto fail;
        h->nrows = kept;
        if (kept > 0 && (st = read_step(p, h->obs_step, kept - 1, &h->last_obs_step))) goto fail;
    }
fail:
    fs_h5_close(p, &all, &st);
    return st;
}

fs_status fs_h5md_append(const char *path, const fs_topology *top, const fs_state *s, const fs_h5md_options *opt,
                         long last_step_to_keep, fs_h5md **out)
{
    fs_status st;
    fs_h5md *h = NULL;
    hid_t fapl = -1;
    htri_t is_hdf5;
    *out = NULL;
    fs_h5_quiet();
    if ((st = fs_h5md_check_args_(path, top, s, opt))) return st;
    if ((st = fs_h5md_new_(path, top, opt, &h))) goto fail;
    FS_H5(path, is_hdf5 = H5Fis_hdf5(path));
    if (!is_hdf5) {
        st = fs_fail(FS_ERR_PARSE, "%s: not an HDF5 file", path);
        goto fail;
    }
    if ((st = fs_h5md_fapl_(path, &fapl))) goto fail;
    FS_H5(path, h->file = H5Fopen(path, H5F_ACC_RDWR, fapl));
    if ((st = reopen_layout(h, last_step_to_keep))) goto fail;
    FS_H5(path, H5Fflush(h->file, H5F_SCOPE_LOCAL));
    fs_h5_close(path, &fapl, &st);
    *out = h;
    return st;
fail:
    fs_h5_close(path, &fapl, &st);
    fs_h5md_free_(h, &st);
    return st;
}
