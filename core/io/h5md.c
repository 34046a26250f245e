/*
 * h5md.c — writing trajectories and observables as H5MD 1.1 (layout and conventions in h5md.h).
 *
 * Time series. Every time-dependent element is a group {step, time, value}; value has an unlimited first dimension
 * and grows by one row per sample (H5Dset_extent, then a hyperslab write of the new row). Elements sampled together
 * share one step and one time dataset through HDF5 hard links, as H5MD 1.1 requires for box/edges and allows for
 * velocity and force: extending position/step extends every element's step, because they are the same object.
 * Within a frame the value datasets and time are written first and step last: a frame exists once its step does.
 *
 * Chunking. The per-atom datasets (position, velocity, force) are chunked one frame per chunk ([1][N][3]): a chunk
 * is written once and never rewritten, which keeps gzip compression cheap (each frame is compressed exactly once)
 * and means a flushed frame is never touched again. The small series (step, time, edges, observables) use chunks of
 * 512 rows, uncompressed.
 *
 * Crash safety. H5Fflush writes HDF5's cached metadata (dataset extents, chunk indices) and buffered raw data, so
 * that the file on disk is complete up to that point. Three measures make "up to the last flush" exact rather than
 * likely for a process killed at any moment outside a write call:
 *   - metadata-cache evictions are disabled (H5AC_cache_config_t.evictions_enabled = 0, which requires the
 *     adaptive resizing to be off): HDF5 then writes no metadata between flushes, so the on-disk metadata stay those
 *     of the last flush. The cache keeps what it holds (measured: about 1 KB of writer memory per frame);
 *   - the file-space strategy is H5F_FSPACE_STRATEGY_NONE: space is never reused, every allocation is at the end of
 *     the file, so data written between flushes never land on bytes the flushed metadata still refer to (space
 *     freed by truncation in fs_h5md_append stays unused in the file);
 *   - a frame is committed in two flushes: values and time first, then the step row (which makes the frame count)
 *     and a second flush, so a step never reaches the disk before its values.
 * Measured by killing a writer at random moments (tests/test_h5md.c does this 24 times per run; 6000 kills while
 * developing): every kill between writes left exactly the completed frames; of 2979 kills that landed inside a
 * write, none left a file that does not open, and 4 left the last frame reading as zeros (a torn multi-page write
 * of a chunk-index node during the flush). The price of the file-space setting is HDF5 >= 1.10 to read the file
 * (it is recorded in the superblock extension), which h5py, MDAnalysis and every current HDF5 satisfy. A write
 * costs two flushes: 3.3 ms per frame for 23,262 atoms with velocities, 0.14 ms for 1128 atoms (1.4 ms and
 * 0.1 ms with flush_interval = 100).
 *
 * Appending (a restarted run continuing the file) is in h5md_append.c.
 */
#include "h5md.h"

#include "h5md_impl.h"
#include "h5util.h"

#include <stdlib.h>
#include <string.h>

#include "../../kernels/backend.h"

#define SERIES_CHUNK 512

fs_h5md_options fs_h5md_options_default(void)
{
    fs_h5md_options o = {0};
    o.flush_interval = 1;
    return o;
}

/* ---- names and units ------------------------------------------------------------------------------------- */

static const char *const term_names[] = {
    [FS_TERM_LJ_SR] = "lj_sr",
    [FS_TERM_DISPCORR] = "dispersion_correction",
    [FS_TERM_COUL_SR] = "coulomb_sr",
    [FS_TERM_COUL_RECIP] = "coulomb_recip",
    [FS_TERM_BOND] = "bond",
    [FS_TERM_ANGLE] = "angle",
    [FS_TERM_UB] = "urey_bradley",
    [FS_TERM_PROPER_DIH] = "proper_dihedral",
    [FS_TERM_RB] = "ryckaert_bellemans",
    [FS_TERM_IMPROPER_DIH] = "improper_dihedral",
    [FS_TERM_PER_IMP_DIH] = "periodic_improper_dihedral",
    [FS_TERM_LJ14] = "lj_14",
    [FS_TERM_COUL14] = "coulomb_14",
};
_Static_assert(sizeof term_names / sizeof term_names[0] == FS_TERM_COUNT, "a term without an H5MD name");

const char *fs_h5md_term_name(int term)
{
    return term >= 0 && term < FS_TERM_COUNT ? term_names[term] : NULL;
}

const char *fs_h5md_observable_unit(const char *name)
{
    static const char *const energies[] = {"potential_energy", "kinetic_energy", "total_energy", "conserved_energy",
                                           "thermostat_work"};
    static const struct {
        const char *name, *unit;
    } others[] = {{"temperature", "K"}, {"pressure", "bar"}, {"volume", "nm+3"}, {"density", "kg m-3"}};
    if (!name) return NULL;
    for (int t = 0; t < FS_TERM_COUNT; ++t)
        if (strcmp(name, term_names[t]) == 0) return "kJ mol-1";
    for (size_t k = 0; k < sizeof energies / sizeof energies[0]; ++k)
        if (strcmp(name, energies[k]) == 0) return "kJ mol-1";
    for (size_t k = 0; k < sizeof others / sizeof others[0]; ++k)
        if (strcmp(name, others[k].name) == 0) return others[k].unit;
    return NULL;
}

/* ---- small HDF5 helpers ---------------------------------------------------------------------------------- */

/* Creates an empty time series `name` in `loc`: rank 1 + ntail, first dimension unlimited, chunks of `chunk_rows`
 * rows, deflate + shuffle at `level` if level > 0. */
static fs_status create_series(const char *file, hid_t loc, const char *name, hid_t type, int ntail,
                               const hsize_t *tail, hsize_t chunk_rows, int level, hid_t *out)
{
    fs_status st = FS_OK;
    hid_t sp = -1, dcpl = -1;
    hsize_t dims[4] = {0}, maxdims[4] = {H5S_UNLIMITED}, chunk[4] = {chunk_rows};
    for (int k = 0; k < ntail; ++k) dims[k + 1] = maxdims[k + 1] = chunk[k + 1] = tail[k];
    *out = -1;
    FS_H5(file, sp = H5Screate_simple(1 + ntail, dims, maxdims));
    FS_H5(file, dcpl = H5Pcreate(H5P_DATASET_CREATE));
    FS_H5(file, H5Pset_chunk(dcpl, 1 + ntail, chunk));
    if (level > 0) {
        FS_H5(file, H5Pset_shuffle(dcpl));
        FS_H5(file, H5Pset_deflate(dcpl, (unsigned)level));
    }
    FS_H5(file, *out = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT));
fail:
    fs_h5_close(file, &dcpl, &st);
    fs_h5_close(file, &sp, &st);
    return st;
}

/* Appends one row (the whole tail shape) from `data` to series `d` that currently has `nrows` rows. */
static fs_status append_row(const char *file, hid_t d, hid_t memtype, long nrows, const void *data)
{
    fs_status st = FS_OK;
    hid_t fsp = -1, msp = -1;
    hsize_t dims[4], start[4] = {(hsize_t)nrows}, count[4];
    int rank;
    FS_H5(file, fsp = H5Dget_space(d));
    FS_H5(file, rank = H5Sget_simple_extent_ndims(fsp));
    if (rank < 1 || rank > 4) {
        st = fs_fail(FS_ERR_PARSE, "%s: a time series of rank %d", file, rank);
        goto fail;
    }
    FS_H5(file, H5Sget_simple_extent_dims(fsp, dims, NULL));
    fs_h5_close(file, &fsp, &st);
    if (st != FS_OK) goto fail;
    dims[0] = (hsize_t)nrows + 1;
    FS_H5(file, H5Dset_extent(d, dims));
    count[0] = 1;
    for (int k = 1; k < rank; ++k) start[k] = 0, count[k] = dims[k];
    FS_H5(file, fsp = H5Dget_space(d));
    FS_H5(file, H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL));
    FS_H5(file, msp = H5Screate_simple(rank, count, NULL));
    FS_H5(file, H5Dwrite(d, memtype, msp, fsp, H5P_DEFAULT, data));
fail:
    fs_h5_close(file, &msp, &st);
    fs_h5_close(file, &fsp, &st);
    return st;
}

/* Writes a time-independent rank-1 dataset of n elements. */
static fs_status write_fixed(const char *file, hid_t loc, const char *name, hid_t filetype, hid_t memtype, int n,
                             const void *data, hid_t *keep)
{
    fs_status st = FS_OK;
    hid_t sp = -1, d = -1;
    hsize_t dim = (hsize_t)n;
    FS_H5(file, sp = H5Screate_simple(1, &dim, NULL));
    FS_H5(file, d = H5Dcreate2(loc, name, filetype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    FS_H5(file, H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
fail:
    fs_h5_close(file, &sp, &st);
    if (st == FS_OK && keep)
        *keep = d;
    else
        fs_h5_close(file, &d, &st);
    return st;
}

/* File access: metadata-cache evictions off (see the essay), HDF5 1.8 object formats (checksummed headers). */
fs_status fs_h5md_fapl_(const char *file, hid_t *out)
{
    fs_status st = FS_OK;
    hid_t fapl = -1;
    H5AC_cache_config_t mdc;
    FS_H5(file, fapl = H5Pcreate(H5P_FILE_ACCESS));
    FS_H5(file, H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST));
    mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    FS_H5(file, H5Pget_mdc_config(fapl, &mdc));
    mdc.incr_mode = H5C_incr__off;
    mdc.flash_incr_mode = H5C_flash_incr__off;
    mdc.decr_mode = H5C_decr__off;
    mdc.evictions_enabled = 0;
    FS_H5(file, H5Pset_mdc_config(fapl, &mdc));
    *out = fapl;
    return FS_OK;
fail:
    fs_h5_close(file, &fapl, &st);
    return st;
}

static int valid_name(const char *s)
{
    return s && *s && strlen(s) < NAME_MAX_LEN && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

fs_status fs_h5md_check_args_(const char *path, const fs_topology *top, const fs_state *s, const fs_h5md_options *o)
{
    if (!path || !top || !s || !o) return fs_fail(FS_ERR_INVALID, "fs_h5md: NULL argument");
    if (top->natoms < 1) return fs_fail(FS_ERR_INVALID, "%s: a trajectory needs at least one atom", path);
    if (s->natoms != top->natoms)
        return fs_fail(FS_ERR_INVALID, "%s: the state has %d atoms, the topology %d", path, s->natoms, top->natoms);
    if (o->compression < 0 || o->compression > 9)
        return fs_fail(FS_ERR_INVALID, "%s: compression level %d is not in 0..9", path, o->compression);
    if (o->nobservables < 0 || (o->nobservables > 0 && !o->observable_names))
        return fs_fail(FS_ERR_INVALID, "%s: bad observable list", path);
    for (int k = 0; k < o->nobservables; ++k) {
        if (!valid_name(o->observable_names[k]))
            return fs_fail(FS_ERR_INVALID, "%s: observable name '%s' is not a valid H5MD element name", path,
                           o->observable_names[k] ? o->observable_names[k] : "(null)");
        for (int j = 0; j < k; ++j)
            if (strcmp(o->observable_names[j], o->observable_names[k]) == 0)
                return fs_fail(FS_ERR_INVALID, "%s: observable '%s' is listed twice", path, o->observable_names[k]);
    }
    return FS_OK;
}

/* Allocates the handle with everything but HDF5 identifiers. */
fs_status fs_h5md_new_(const char *path, const fs_topology *top, const fs_h5md_options *o, fs_h5md **out)
{
    fs_h5md *h = calloc(1, sizeof *h);
    if (!h) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    h->file = h->step = h->time = h->position = h->velocity = h->force = h->edges = h->obs_step = h->obs_time = -1;
    h->natoms = top->natoms;
    h->has_velocity = o->write_velocities != 0;
    h->has_force = o->write_forces != 0;
    h->nobs = o->nobservables;
    h->flush_interval = o->flush_interval > 0 ? o->flush_interval : 1;
    h->path = malloc(strlen(path) + 1);
    h->buf = malloc(3 * (size_t)h->natoms * sizeof *h->buf);
    h->obs_names = calloc((size_t)(h->nobs > 0 ? h->nobs : 1), sizeof *h->obs_names);
    h->obs_value = malloc((size_t)(h->nobs > 0 ? h->nobs : 1) * sizeof *h->obs_value);
    *out = h;
    if (!h->path || !h->buf || !h->obs_names || !h->obs_value) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    strcpy(h->path, path);
    for (int k = 0; k < h->nobs; ++k) {
        strcpy(h->obs_names[k], o->observable_names[k]);
        h->obs_value[k] = -1;
    }
    return FS_OK;
}

/* Closes every identifier and frees the handle, keeping the first error in *st. */
void fs_h5md_free_(fs_h5md *h, fs_status *st)
{
    if (!h) return;
    const char *p = h->path ? h->path : "(h5md)";
    hid_t *ids[] = {&h->step, &h->time, &h->position, &h->velocity, &h->force, &h->edges, &h->obs_step, &h->obs_time};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; ++k) fs_h5_close(p, ids[k], st);
    if (h->obs_value)
        for (int k = 0; k < h->nobs; ++k) fs_h5_close(p, &h->obs_value[k], st);
    fs_h5_close(p, &h->file, st);
    free(h->obs_value);
    free(h->obs_names);
    free(h->buf);
    free(h->path);
    free(h);
}

/* ---- creating -------------------------------------------------------------------------------------------- */

static fs_status write_metadata(fs_h5md *h, const fs_h5md_options *o)
{
    const char *p = h->path;
    fs_status st = FS_OK;
    hid_t g = -1, sub = -1, mods = -1;
    const int version[2] = {1, 1}, units_version[2] = {1, 0};
    FS_H5(p, g = H5Gcreate2(h->file, "h5md", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if ((st = fs_h5_attr_ints(p, g, "version", version, 2))) goto fail;
    FS_H5(p, sub = H5Gcreate2(g, "author", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if ((st = fs_h5_attr_fixstr(p, sub, "name", o->author ? o->author : "unknown"))) goto fail;
    if (o->author_email && (st = fs_h5_attr_fixstr(p, sub, "email", o->author_email))) goto fail;
    fs_h5_close(p, &sub, &st);
    FS_H5(p, sub = H5Gcreate2(g, "creator", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if ((st = fs_h5_attr_fixstr(p, sub, "name", "ferrosolv"))) goto fail;
    if ((st = fs_h5_attr_fixstr(p, sub, "version", o->creator_version ? o->creator_version : "unknown"))) goto fail;
    fs_h5_close(p, &sub, &st);
    FS_H5(p, mods = H5Gcreate2(g, "modules", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    FS_H5(p, sub = H5Gcreate2(mods, "units", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if ((st = fs_h5_attr_ints(p, sub, "version", units_version, 2))) goto fail;
    st = fs_h5_attr_vlstr(p, sub, "system", "SI");
fail:
    fs_h5_close(p, &sub, &st);
    fs_h5_close(p, &mods, &st);
    fs_h5_close(p, &g, &st);
    return st;
}

/* The time-independent per-atom elements. */
static fs_status write_atoms(fs_h5md *h, hid_t all, const fs_topology *top, const fs_state *s)
{
    const char *p = h->path;
    fs_status st = FS_OK;
    hid_t d = -1;
    int n = top->natoms;
    int *species = malloc((size_t)n * sizeof *species);
    double *x = malloc((size_t)n * sizeof *x);
    long long *ids = malloc((size_t)n * sizeof *ids);
    const char **tnames = malloc((size_t)(top->ntypes > 0 ? top->ntypes : 1) * sizeof *tnames);
    if (!species || !x || !ids || !tnames) {
        st = fs_fail(FS_ERR_NOMEM, "%s: out of memory", p);
        goto fail;
    }
    for (int i = 0; i < n; ++i) species[i] = top->atoms[i].type, ids[i] = s->id[i];
    if ((st = write_fixed(p, all, "species", H5T_STD_I32LE, H5T_NATIVE_INT, n, species, &d))) goto fail;
    for (int t = 0; t < top->ntypes; ++t) tnames[t] = top->types[t].name;
    if (top->ntypes > 0 && (st = fs_h5_attr_fixstrs(p, d, "type_names", tnames, top->ntypes))) goto fail;
    fs_h5_close(p, &d, &st);
    for (int i = 0; i < n; ++i) x[i] = top->atoms[i].charge;
    if ((st = write_fixed(p, all, "charge", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, x, &d))) goto fail;
    if ((st = fs_h5_attr_vlstr(p, d, "unit", "e"))) goto fail;
    if ((st = fs_h5_attr_fixstr(p, d, "type", "effective"))) goto fail;
    fs_h5_close(p, &d, &st);
    for (int i = 0; i < n; ++i) x[i] = top->atoms[i].mass;
    if ((st = write_fixed(p, all, "mass", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, x, &d))) goto fail;
    if ((st = fs_h5_attr_vlstr(p, d, "unit", "u"))) goto fail;
    fs_h5_close(p, &d, &st);
    st = write_fixed(p, all, "id", H5T_STD_I64LE, H5T_NATIVE_LLONG, n, ids, NULL);
fail:
    fs_h5_close(p, &d, &st);
    free(species);
    free(x);
    free(ids);
    free(tnames);
    return st;
}

/* Creates element `name` in `loc` as a group whose step/time are hard links to (step_src, time_src) when those are
 * given, or new datasets otherwise (returned through step and time). */
static fs_status create_element(fs_h5md *h, hid_t loc, const char *name, hid_t step_src, hid_t time_src, hid_t *step,
                                hid_t *time)
{
    const char *p = h->path;
    fs_status st = FS_OK;
    hid_t g = -1;
    FS_H5(p, g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (step_src >= 0) {
        FS_H5(p, H5Lcreate_hard(step_src, ".", g, "step", H5P_DEFAULT, H5P_DEFAULT));
        FS_H5(p, H5Lcreate_hard(time_src, ".", g, "time", H5P_DEFAULT, H5P_DEFAULT));
    } else {
        if ((st = create_series(p, g, "step", H5T_STD_I64LE, 0, NULL, SERIES_CHUNK, 0, step))) goto fail;
        if ((st = create_series(p, g, "time", H5T_IEEE_F64LE, 0, NULL, SERIES_CHUNK, 0, time))) goto fail;
        if ((st = fs_h5_attr_vlstr(p, *time, "unit", "ps"))) goto fail;
    }
fail:
    fs_h5_close(p, &g, &st);
    return st;
}

/* Creates the value dataset loc/name/value with a unit attribute. */
static fs_status create_value(fs_h5md *h, hid_t loc, const char *name, int ntail, const hsize_t *tail,
                              hsize_t chunk_rows, int level, const char *unit, hid_t *out)
{
    const char *p = h->path;
    fs_status st = FS_OK;
    hid_t g = -1;
    FS_H5(p, g = H5Gopen2(loc, name, H5P_DEFAULT));
    if ((st = create_series(p, g, "value", H5T_IEEE_F64LE, ntail, tail, chunk_rows, level, out))) goto fail;
    if (unit) st = fs_h5_attr_vlstr(p, *out, "unit", unit);
fail:
    fs_h5_close(p, &g, &st);
    return st;
}

static fs_status create_layout(fs_h5md *h, const fs_topology *top, const fs_state *s, const fs_h5md_options *o)
{
    const char *p = h->path;
    fs_status st = FS_OK;
    hid_t parts = -1, all = -1, box = -1, obs = -1, gcpl = -1;
    const hsize_t atoms[2] = {(hsize_t)h->natoms, 3}, mat[2] = {3, 3};
    const int three = 3;
    const char *boundary[3];
    if ((st = write_metadata(h, o))) goto fail;
    FS_H5(p, parts = H5Gcreate2(h->file, "particles", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    FS_H5(p, all = H5Gcreate2(parts, "all", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if ((st = create_element(h, all, "position", -1, -1, &h->step, &h->time))) goto fail;
    if ((st = create_value(h, all, "position", 2, atoms, 1, o->compression, "nm", &h->position))) goto fail;
    FS_H5(p, box = H5Gcreate2(all, "box", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if ((st = fs_h5_attr_ints(p, box, "dimension", &three, 0))) goto fail;
    for (int d = 0; d < 3; ++d) boundary[d] = s->box.periodic[d] ? "periodic" : "none";
    if ((st = fs_h5_attr_fixstrs(p, box, "boundary", boundary, 3))) goto fail;
    if ((st = create_element(h, box, "edges", h->step, h->time, NULL, NULL))) goto fail;
    if ((st = create_value(h, box, "edges", 2, mat, SERIES_CHUNK / 8, 0, "nm", &h->edges))) goto fail;
    if (h->has_velocity) {
        if ((st = create_element(h, all, "velocity", h->step, h->time, NULL, NULL))) goto fail;
        if ((st = create_value(h, all, "velocity", 2, atoms, 1, o->compression, "nm ps-1", &h->velocity))) goto fail;
    }
    if (h->has_force) {
        if ((st = create_element(h, all, "force", h->step, h->time, NULL, NULL))) goto fail;
        if ((st = create_value(h, all, "force", 2, atoms, 1, o->compression, "kJ mol-1 nm-1", &h->force))) goto fail;
    }
    if ((st = write_atoms(h, all, top, s))) goto fail;
    if (h->nobs > 0) {
        /* creation order is tracked so that fs_h5md_append can check the order of the observables */
        FS_H5(p, gcpl = H5Pcreate(H5P_GROUP_CREATE));
        FS_H5(p, H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
        FS_H5(p, obs = H5Gcreate2(h->file, "observables", H5P_DEFAULT, gcpl, H5P_DEFAULT));
        for (int k = 0; k < h->nobs; ++k) {
            const char *name = h->obs_names[k];
            const char *unit =
                o->observable_units && o->observable_units[k] ? o->observable_units[k] : fs_h5md_observable_unit(name);
            if (k == 0)
                st = create_element(h, obs, name, -1, -1, &h->obs_step, &h->obs_time);
            else
                st = create_element(h, obs, name, h->obs_step, h->obs_time, NULL, NULL);
            if (st || (st = create_value(h, obs, name, 0, NULL, SERIES_CHUNK, 0, unit, &h->obs_value[k]))) goto fail;
        }
    }
fail:
    fs_h5_close(p, &gcpl, &st);
    fs_h5_close(p, &obs, &st);
    fs_h5_close(p, &box, &st);
    fs_h5_close(p, &all, &st);
    fs_h5_close(p, &parts, &st);
    return st;
}

fs_status fs_h5md_create(const char *path, const fs_topology *top, const fs_state *s, const fs_h5md_options *opt,
                         fs_h5md **out)
{
    fs_status st;
    fs_h5md *h = NULL;
    hid_t fapl = -1, fcpl = -1;
    *out = NULL;
    fs_h5_quiet();
    if ((st = fs_h5md_check_args_(path, top, s, opt))) return st;
    if ((st = fs_h5md_new_(path, top, opt, &h))) goto fail;
    if (opt->compression > 0) {
        htri_t avail;
        FS_H5(path, avail = H5Zfilter_avail(H5Z_FILTER_DEFLATE));
        if (!avail) {
            st = fs_fail(FS_ERR_UNSUPPORTED, "%s: this HDF5 library has no gzip (deflate) filter", path);
            goto fail;
        }
    }
    if ((st = fs_h5md_fapl_(path, &fapl))) goto fail;
    FS_H5(path, fcpl = H5Pcreate(H5P_FILE_CREATE));
    FS_H5(path, H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, 0, 1));
    FS_H5(path, h->file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl));
    if ((st = create_layout(h, top, s, opt))) goto fail;
    FS_H5(path, H5Fflush(h->file, H5F_SCOPE_LOCAL));
    fs_h5_close(path, &fcpl, &st);
    fs_h5_close(path, &fapl, &st);
    *out = h;
    return st;
fail:
    fs_h5_close(path, &fcpl, &st);
    fs_h5_close(path, &fapl, &st);
    if (h && h->file >= 0) {
        fs_h5md_free_(h, &st);
        remove(path);
    } else {
        fs_h5md_free_(h, &st);
    }
    return st;
}

/* ---- writing --------------------------------------------------------------------------------------------- */

/* Appends `step` as row `row` of the step series `d`, which makes the row count; on a flushing row the values
 * written before are flushed first and the step after, so that a step never reaches the disk before its values. */
static fs_status commit_row(fs_h5md *h, hid_t d, long row, long long step, int *counter)
{
    fs_status st = FS_OK;
    int flush = ++*counter >= h->flush_interval;
    if (flush) FS_H5(h->path, H5Fflush(h->file, H5F_SCOPE_LOCAL));
    if ((st = append_row(h->path, d, H5T_NATIVE_LLONG, row, &step))) goto fail;
    if (flush) FS_H5(h->path, H5Fflush(h->file, H5F_SCOPE_LOCAL));
    if (flush) *counter = 0;
fail:
    return st;
}

static void interleave(double *buf, double *const x[3], int n)
{
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) buf[3 * i + d] = x[d][i];
}

fs_status fs_h5md_write_frame(fs_h5md *h, const fs_state *s)
{
    fs_status st;
    if (!h || !s) return fs_fail(FS_ERR_INVALID, "fs_h5md_write_frame: NULL argument");
    fs_h5_quiet();
    if (h->file < 0) return fs_fail(FS_ERR_IO, "%s: an earlier write failed; the file is closed", h->path);
    if (s->natoms != h->natoms)
        return fs_fail(FS_ERR_INVALID, "%s: a frame of %d atoms in a file of %d", h->path, s->natoms, h->natoms);
    if (h->nframes > 0 && s->step <= h->last_step)
        return fs_fail(FS_ERR_INVALID, "%s: frame at step %ld after a frame at step %ld", h->path, s->step,
                       h->last_step);
    const double edges[9] = {s->box.len[0], 0, 0, 0, s->box.len[1], 0, 0, 0, s->box.len[2]};
    const long long step = s->step;
    interleave(h->buf, s->r, h->natoms);
    if ((st = append_row(h->path, h->position, H5T_NATIVE_DOUBLE, h->nframes, h->buf))) goto fail;
    if (h->has_velocity) {
        interleave(h->buf, s->v, h->natoms);
        if ((st = append_row(h->path, h->velocity, H5T_NATIVE_DOUBLE, h->nframes, h->buf))) goto fail;
    }
    if (h->has_force) {
        interleave(h->buf, s->f, h->natoms);
        if ((st = append_row(h->path, h->force, H5T_NATIVE_DOUBLE, h->nframes, h->buf))) goto fail;
    }
    if ((st = append_row(h->path, h->edges, H5T_NATIVE_DOUBLE, h->nframes, edges))) goto fail;
    if ((st = append_row(h->path, h->time, H5T_NATIVE_DOUBLE, h->nframes, &s->time))) goto fail;
    if ((st = commit_row(h, h->step, h->nframes, step, &h->unflushed_frames))) goto fail;
    h->nframes++;
    h->last_step = s->step;
    return FS_OK;
fail:
    /* the series may now disagree in length: refuse further writes (the flushed frames stay readable) */
    fs_h5_close(h->path, &h->file, &st);
    return st;
}

fs_status fs_h5md_write_observables(fs_h5md *h, long step, double time, const double *values)
{
    fs_status st;
    if (!h || !values) return fs_fail(FS_ERR_INVALID, "fs_h5md_write_observables: NULL argument");
    fs_h5_quiet();
    if (h->file < 0) return fs_fail(FS_ERR_IO, "%s: an earlier write failed; the file is closed", h->path);
    if (h->nobs == 0) return fs_fail(FS_ERR_INVALID, "%s: the file was created without observables", h->path);
    if (h->nrows > 0 && step <= h->last_obs_step)
        return fs_fail(FS_ERR_INVALID, "%s: observables at step %ld after a row at step %ld", h->path, step,
                       h->last_obs_step);
    const long long s = step;
    for (int k = 0; k < h->nobs; ++k)
        if ((st = append_row(h->path, h->obs_value[k], H5T_NATIVE_DOUBLE, h->nrows, &values[k]))) goto fail;
    if ((st = append_row(h->path, h->obs_time, H5T_NATIVE_DOUBLE, h->nrows, &time))) goto fail;
    if ((st = commit_row(h, h->obs_step, h->nrows, s, &h->unflushed_rows))) goto fail;
    h->nrows++;
    h->last_obs_step = step;
    return FS_OK;
fail:
    fs_h5_close(h->path, &h->file, &st);
    return st;
}

long fs_h5md_nframes(const fs_h5md *h)
{
    return h ? h->nframes : 0;
}

long fs_h5md_nobservable_rows(const fs_h5md *h)
{
    return h ? h->nrows : 0;
}

fs_status fs_h5md_close(fs_h5md **hp)
{
    fs_status st = FS_OK;
    if (!hp || !*hp) return FS_OK;
    fs_h5md *h = *hp;
    *hp = NULL;
    fs_h5_quiet();
    if (h->file >= 0) FS_H5(h->path, H5Fflush(h->file, H5F_SCOPE_LOCAL));
fail:
    fs_h5md_free_(h, &st);
    return st;
}
