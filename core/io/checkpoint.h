/*
 * checkpoint.h — the whole state of a run in one HDF5 file, written atomically and read back bit for bit.
 *
 * A checkpoint holds what a restarted run needs to continue exactly as if it had not stopped: positions,
 * velocities, box (lengths and periodic flags), step, time, the stable atom ids, and any number of named scalars for
 * the integrator, thermostat and barostat (thermostat work, MC barostat step size and counters, the RNG seed, ...).
 * Doubles are stored as IEEE float64 and integers as 64-bit, so every value reads back bit-identical. Forces are not
 * stored: they are a function of the positions and are recomputed.
 *
 * The file also records a format version, the topology's atom count and a fingerprint of the topology (a hash of
 * every atom's type, charge, mass and names), so that restarting with another system is a clear error rather than
 * a silently wrong run. A header in the HDF5 user block holds the file's length and a hash of all its bytes, checked
 * before HDF5 parses anything: a truncated or corrupted file is an error, never other numbers (and never a crash
 * inside HDF5). The file is an ordinary HDF5 file for h5py or h5dump.
 *
 * Writing is atomic: the file is built in memory, written to "<path>.tmp", fsync'ed, and renamed over `path` (then
 * the directory is fsync'ed). A failure at any point removes the temporary file and leaves an existing checkpoint
 * at `path` untouched. Reading loads the whole file into memory (checkpoints are small: 56 bytes per atom, about 60
 * more with a device backend's history).
 *
 * Errors: FS_OK or a status with a message naming the file (and the HDF5 call or the item at fault); nothing is
 * printed.
 */
#ifndef FS_CHECKPOINT_H
#define FS_CHECKPOINT_H

#include <stdint.h>

#include "../state.h"
#include "../status.h"
#include "../topology.h"

#define FS_CHECKPOINT_VERSION 1

typedef enum { FS_CKPT_DOUBLE, FS_CKPT_INT64, FS_CKPT_UINT64 } fs_ckpt_type;

/* A named scalar: {.name = "seed", .type = FS_CKPT_UINT64, .u = seed}. Names are non-empty, at most 63 characters,
 * without '/' and unique within one checkpoint. */
typedef struct {
    const char *name;
    fs_ckpt_type type;
    union {
        double d;
        int64_t i;
        uint64_t u;
    };
} fs_ckpt_scalar;

/* The backend's history (backend.h, save_history): an opaque block of bytes tagged with the backend's name, stored
 * as the dataset "backend_history" (uint8) with the file attribute "history_backend". */
typedef struct {
    char backend[32]; /* "opencl", ...; "" with no history */
    void *data;       /* read: malloc'ed, the caller frees it; NULL with no history */
    size_t bytes;
} fs_ckpt_history;

/* Writes the state (s->natoms atoms; must equal top->natoms) and the n scalars to `path` atomically.
 * FS_ERR_INVALID for a bad scalar name or type or an atom-count mismatch (nothing is written), FS_ERR_IO when the
 * file cannot be written (the previous file at `path`, if any, is intact). */
fs_status fs_checkpoint_write(const char *path, const fs_topology *top, const fs_state *s,
                              const fs_ckpt_scalar *scalars, int n);

/* Reads `path` into a new state (*out, owned by the caller: fs_state_destroy; capacity = natoms) and fills the value
 * of each of the n scalars by name; each scalar's `type` must be set by the caller and match the stored one.
 * Errors, with *out = NULL: FS_ERR_IO (cannot read; missing, truncated or corrupted file), FS_ERR_PARSE (an HDF5 file
 * that is not a ferrosolv checkpoint, unknown format version, a scalar missing or of another type: the message names
 * it), FS_ERR_INVALID (written for a topology with another atom count or another fingerprint than `top`). */
fs_status fs_checkpoint_read(const char *path, const fs_topology *top, fs_state **out, fs_ckpt_scalar *scalars, int n);

/* The same with the backend's history: written when `history` is non-NULL with bytes > 0; read into *history
 * (zeroed, data NULL, when the file holds none; FS_ERR_IO for a damaged one). */
fs_status fs_checkpoint_write_history(const char *path, const fs_topology *top, const fs_state *s,
                                      const fs_ckpt_scalar *scalars, int n, const fs_ckpt_history *history);
fs_status fs_checkpoint_read_history(const char *path, const fs_topology *top, fs_state **out, fs_ckpt_scalar *scalars,
                                     int n, fs_ckpt_history *history);

/* The fingerprint stored in checkpoints: FNV-1a (64 bit) over every atom's type index, charge and mass (as
 * float64 bit patterns), atom name and residue name. */
uint64_t fs_checkpoint_topology_hash(const fs_topology *top);

#endif
