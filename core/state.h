/*
 * state.h — the dynamic state of a system: positions, velocities, forces, box, step and time.
 *
 * Structure of arrays: r[d][i] is coordinate d (0 = x, 1 = y, 2 = z) of atom i, and likewise v and f. This is the
 * layout the device backends use, so uploads and downloads are plain copies. `capacity` is kept apart from
 * `natoms` because reaction chemistry adds and removes molecules during a run; `id` holds a stable identifier per
 * atom that survives such changes (it is the index at creation time).
 */
#ifndef FS_STATE_H
#define FS_STATE_H

#include "box.h"
#include "status.h"

typedef struct {
    int natoms, capacity;
    double *r[3]; /* positions, nm */
    double *v[3]; /* velocities, nm/ps */
    double *f[3]; /* forces, kJ mol^-1 nm^-1 */
    long *id;     /* stable atom identifiers */
    fs_box box;
    long step;
    double time; /* ps */
} fs_state;

/* Allocates a zeroed state for `natoms` atoms with room for `capacity` (>= natoms). ids are 0..natoms-1. */
fs_status fs_state_create(int natoms, int capacity, fs_state **out);

/* Frees; accepts NULL and a pointer to NULL; sets *s = NULL. */
void fs_state_destroy(fs_state **s);

/* Grows the capacity to at least `capacity`, keeping the contents. */
fs_status fs_state_reserve(fs_state *s, int capacity);

/* Sets every force component to zero. */
void fs_state_zero_forces(fs_state *s);

#endif
