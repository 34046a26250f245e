/*
 * h5md.h — trajectories and observables in H5MD 1.1 files (HDF5), readable by h5py and MDAnalysis.
 *
 * One writer per file. The layout (H5MD 1.1, de Buyl et al., Comput. Phys. Commun. 185, 1546 (2014); the `units`
 * module for the `unit` attributes):
 *
 *   /h5md                      version = [1, 1]
 *     author                   name (, email)
 *     creator                  name = "ferrosolv", version
 *     modules/units            version = [1, 0], system = "SI"
 *   /particles/all
 *     box                      dimension = 3, boundary = "periodic" | "none" per axis
 *       edges/step, edges/time hard links to position/step and position/time
 *       edges/value            float64 [frames][3][3], nm: the diagonal matrix of the edge lengths (see below)
 *     position/step            int64 [frames]
 *     position/time            float64 [frames], ps
 *     position/value           float64 [frames][N][3], nm
 *     (velocity/{step,time})   hard links to position's;  velocity/value  float64 [frames][N][3], nm ps-1
 *     (force/{step,time})      hard links to position's;  force/value     float64 [frames][N][3], kJ mol-1 nm-1
 *     species                  int32 [N]: the atom's LJ type index in the topology (attribute type_names)
 *     charge                   float64 [N], e (attribute type = "effective")
 *     mass                     float64 [N], u (unified atomic mass unit = amu, the units module's symbol)
 *     id                       int64 [N]: fs_state.id, the stable atom identifiers
 *   /observables/<name>/{step, time, value}   value float64 [frames]; step and time of every observable are hard
 *                              links to those of the first, so all observables are sampled together
 *
 * The box edges are stored as a 3x3 matrix (rows = edge vectors) although our boxes are rectangular: H5MD allows
 * both the vector and the matrix form, and the matrix form is the one MDAnalysis 2.4 (Debian 12) reads correctly
 * (it passes the row to triclinic_box() and gets a zero box from a 3-vector); GROMACS writes the matrix form too.
 *
 * Units: H5MD unit strings (units module) as variable-length ASCII attributes named `unit`, which MDAnalysis
 * translates: positions "nm", time "ps", velocities "nm ps-1", forces "kJ mol-1 nm-1". The standard observables
 * (fs_h5md_observable_unit) carry "kJ mol-1", "K", "bar", "nm+3", "kg m-3".
 *
 * Crash safety: every frame (every flush_interval frames) is flushed (H5Fflush), and the file is created so that
 * nothing reaches the disk between two flushes (metadata-cache evictions off, file space never reused). A run killed
 * at any moment outside fs_h5md_write_frame/fs_h5md_write_observables leaves a file that HDF5, h5py and MDAnalysis
 * open, holding exactly the frames written up to the last flush. A kill inside a write may leave one more row in the
 * value datasets than in step (the frame count is len(position/step); fs_h5md_append trims such a row) and, rarely
 * (4 of 2979 such kills measured), damage the last frame (it reads as zeros). The flush does not fsync: this protects
 * against a killed process, not against a power failure. Reading needs HDF5 >= 1.10.
 *
 * MDAnalysis reads /observables/<name>/value[i] as the observables of position frame i, for every frame: when the
 * file is meant for MDAnalysis, write observables at the same steps as frames (nstenergy = nstxout), and at a step
 * with both, the observables first, so that a run killed in between leaves one observable row too many (harmless)
 * rather than one too few (MDAnalysis then fails on the last frame).
 *
 * Errors: every function returns FS_OK or an fs_status with a message (fs_error_message()) that names the file and
 * the HDF5 call that failed; HDF5's own error printing is switched off, nothing is printed.
 */
#ifndef FS_H5MD_H
#define FS_H5MD_H

#include "../state.h"
#include "../status.h"
#include "../topology.h"

typedef struct fs_h5md fs_h5md;

typedef struct {
    const char *author;          /* /h5md/author name; NULL: "unknown" */
    const char *author_email;    /* optional, NULL: not written */
    const char *creator_version; /* /h5md/creator version (the program's version string); NULL: "unknown" */
    int compression;             /* gzip (deflate + shuffle) level 0..9 for the per-atom datasets; 0: none */
    int write_velocities;        /* 1: a velocity element */
    int write_forces;            /* 1: a force element */
    int flush_interval;          /* H5Fflush after every this many frames (and observable rows); <= 0 means 1 */
    int nobservables;            /* number of observables, 0 allowed */
    const char *const
        *observable_names; /* nobservables names: 1..63 characters, no '/', not "." or "..", unique; copied */
    const char *const *observable_units; /* NULL, or per observable a unit string or NULL; NULL entries take
                                            fs_h5md_observable_unit(name) (which may be NULL: no unit attribute) */
} fs_h5md_options;

/* The defaults: author NULL, no compression, positions only, flush every frame, no observables. */
fs_h5md_options fs_h5md_options_default(void);

/* Creates (truncating) the H5MD file `path` for the atoms of `top` and `s` (s->natoms == top->natoms, else
 * FS_ERR_INVALID); writes the time-independent elements (species, charge, mass, id from s->id) and the box boundary
 * from s->box.periodic; writes no frame. The handle owns the open file; close it with fs_h5md_close(). On failure
 * *out is NULL and any partly written file is removed. */
fs_status fs_h5md_create(const char *path, const fs_topology *top, const fs_state *s, const fs_h5md_options *opt,
                         fs_h5md **out);

/* Reopens an existing file written by fs_h5md_create() to continue a run, and truncates every time-dependent dataset
 * (frames and observables) to the rows whose step is <= last_step_to_keep, so that a run restarted from a checkpoint
 * at that step continues the file without duplicate or orphaned frames. The file must match: same atom count, same
 * velocity/force elements as `opt` asks for, the same observables in the same order (FS_ERR_INVALID naming the
 * difference otherwise); the compression is the file's (fixed at creation), opt's flush interval applies. FS_ERR_IO if
 * the file cannot be opened, FS_ERR_PARSE if it is not such a file. */
fs_status fs_h5md_append(const char *path, const fs_topology *top, const fs_state *s, const fs_h5md_options *opt,
                         long last_step_to_keep, fs_h5md **out);

/* Appends one frame: s->step, s->time, s->box edge lengths, positions, and velocities and forces if enabled.
 * s->natoms must equal the file's atom count and s->step must exceed the last frame's step (FS_ERR_INVALID; the
 * file is unchanged). If HDF5 fails (FS_ERR_IO, e.g. a full disk) the handle refuses every further write; the
 * frames flushed before stay readable; close the handle. */
fs_status fs_h5md_write_frame(fs_h5md *h, const fs_state *s);

/* Appends one row of observables: values[k] for the k-th name given at creation. step must exceed the previous
 * row's step (FS_ERR_INVALID). FS_ERR_INVALID if the file has no observables. */
fs_status fs_h5md_write_observables(fs_h5md *h, long step, double time, const double *values);

/* Number of frames and of observable rows written so far (including those kept by fs_h5md_append). */
long fs_h5md_nframes(const fs_h5md *h);
long fs_h5md_nobservable_rows(const fs_h5md *h);

/* Flushes and closes the file and frees the handle; accepts NULL and a pointer to NULL; sets *h = NULL. Returns the
 * status of the final flush/close (the handle is freed in every case). */
fs_status fs_h5md_close(fs_h5md **h);

/* The H5MD unit string of a standard observable name: energy terms and the energies ("lj_sr", ...,
 * "potential_energy", "kinetic_energy", "total_energy", "conserved_energy", "thermostat_work") "kJ mol-1",
 * "temperature" "K", "pressure" "bar", "volume" "nm+3", "density" "kg m-3"; NULL for any other name. */
const char *fs_h5md_observable_unit(const char *name);

/* H5MD observable name of energy term `term` (an fs_term of kernels/backend.h): "lj_sr", "dispersion_correction",
 * "coulomb_sr", "coulomb_recip", "bond", "angle", "urey_bradley", "proper_dihedral", "ryckaert_bellemans",
 * "improper_dihedral", "periodic_improper_dihedral", "lj_14", "coulomb_14"; NULL if out of range. */
const char *fs_h5md_term_name(int term);

#endif
