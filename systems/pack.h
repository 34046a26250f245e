/*
 * pack.h — random packing of rigid molecules into a periodic box with a minimum-distance tolerance.
 *
 * The packer places copies of rigid templates (reference geometries) at random positions and orientations, rejecting
 * any trial that puts an atom closer than `tolerance` to an atom of an already placed molecule (minimum image in a
 * fully periodic orthorhombic box). Draws come from the counter-based Philox generator (core/rng.h, stream
 * FS_RNG_STREAM_BUILDER), so a packing is a pure function of its inputs and seed.
 */
#ifndef FS_PACK_H
#define FS_PACK_H

#include <stdint.h>

#include "../core/box.h"
#include "../core/status.h"

/* One rigid molecule: natoms reference positions, x[3*a + d] in nm (any origin; the packer uses the centroid). */
typedef struct {
    int natoms;
    const double *x;
} fs_pack_template;

typedef struct {
    double box[3];    /* edge lengths, nm; periodic in x, y and z */
    double tolerance; /* minimum distance between atoms of different molecules, nm (> 0) */
    uint64_t seed;    /* Philox key */
    int max_attempts; /* random trials per molecule in the sequential addition (> 0) */
    int relax_steps;  /* most overlap-removal steps for the molecules that found no free place (0: none, such a
                         molecule is then an error) */
    double grid;      /* > 0: round every placed coordinate to a multiple of this (0.001 nm = a .gro file's
                         resolution, so the written file keeps the tolerance exactly); 0: no rounding */
} fs_pack_options;

typedef struct {
    long attempts;    /* random trials made in all */
    int max_attempts; /* most trials one molecule made */
    int misfits;      /* molecules that found no free place by random addition */
    int relax_steps;  /* overlap-removal steps made to fit them */
} fs_pack_report;

/* Packs nmol molecules; molecule m is a copy of templates[tmpl_of[m]]. Its atoms are written, in template order, to
 * r[d][first + a] where first = the sum of the atom counts of molecules 0..m-1 (so r has room for that total).
 * Phase 1 adds molecules one by one in order of decreasing size (the largest are the hardest to fit) at random:
 * molecule m's trial k draws from Philox counter (seed, step = m, index = 2k + {0, 1}, stream FS_RNG_STREAM_BUILDER)
 * three uniforms for a uniform random rotation (Shoemake's quaternion) and three for the centroid, uniform in the
 * box; a trial with an atom closer than the tolerance to a placed atom is rejected. A molecule that finds no free
 * place in max_attempts trials is put where its trials overlapped least, and phase 2 moves the rigid molecules down
 * the gradient of an overlap energy until no pair is too close (pack.c explains both). On success every pair of atoms
 * of different molecules is at least `tolerance` apart (minimum image), after rounding to `grid`; centroids lie in
 * [0, L), atoms may lie outside (molecules are kept whole).
 * Errors: FS_ERR_INVALID for bad options or when the overlaps cannot be removed (the message suggests a lower density
 * or a larger box); FS_ERR_NOMEM. `rep` may be NULL. */
fs_status fs_pack(const fs_pack_template *templates, int ntemplates, const int *tmpl_of, int nmol,
                  const fs_pack_options *opt, double *r[3], fs_pack_report *rep);

/* The smallest distance between two atoms of different molecules (minimum image), looked for up to `cutoff` with a
 * cell list; mol[i] is the molecule of atom i. *dmin is set to `cutoff` when no such pair is closer than that, and
 * (*ai, *aj) to the pair found (-1 if none; either may be NULL). */
fs_status fs_pack_min_distance(double *const r[3], const int *mol, int natoms, const fs_box *box, double cutoff,
                               double *dmin, int *ai, int *aj);

#endif
