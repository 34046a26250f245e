/*
 * nblist.h — the CPU reference's Verlet pair list, built from a cell list.
 *
 * A half list: every non-excluded pair (i, j) with minimum-image distance < rlist appears exactly once, as j in
 * the row of i (i < j). Excluded pairs (topology exclusions) never appear. The list stores the positions it was
 * built from, so the caller can ask whether any atom has moved more than half the buffer since.
 */
#ifndef FS_CPU_NBLIST_H
#define FS_CPU_NBLIST_H

#include "../../core/box.h"
#include "../../core/status.h"
#include "../../core/topology.h"

typedef struct fs_nblist fs_nblist;

struct fs_nblist {
    int natoms;
    double rlist; /* list radius used at the last build, nm */
    int *start;   /* natoms + 1 row offsets into j */
    int *j;       /* neighbour indices, rows i = 0..natoms-1 */
    long npairs;  /* = start[natoms] */
    long j_cap;
    double *ref[3]; /* positions at the last build */
    fs_box ref_box;
    void *cells; /* private cell-list workspace */
};

/* Allocates an empty list for natoms atoms. */
fs_status fs_nblist_create(int natoms, fs_nblist **out);

/* Frees; accepts NULL and a pointer to NULL. */
void fs_nblist_destroy(fs_nblist **nl);

/* (Re)builds the list for positions r (any image; wrapped internally) in box, radius rlist, skipping the topology's
 * exclusions. Fails with FS_ERR_INVALID if rlist exceeds half of a periodic box edge (minimum image would break). */
fs_status fs_nblist_build(fs_nblist *nl, const fs_topology *top, const fs_box *box, double *const r[3], double rlist);

/* 1 when some atom moved more than `half_buffer` (nm) since the last build or the box changed, else 0. */
int fs_nblist_needs_rebuild(const fs_nblist *nl, const fs_box *box, double *const r[3], double half_buffer);

#endif
