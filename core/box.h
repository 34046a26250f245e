/*
 * box.h — the simulation cell.
 *
 * An orthorhombic box with edge lengths L[3] (nm) and a periodic flag per axis. Bulk liquids are periodic in x, y
 * and z; the interface slabs of later builders are periodic in x and y only, so the flag is part of the model from
 * the start. Minimum-image displacement applies only along periodic axes.
 */
#ifndef FS_BOX_H
#define FS_BOX_H

#include <math.h>

typedef struct {
    double len[3];   /* edge lengths, nm */
    int periodic[3]; /* 1 if the axis is periodic */
} fs_box;

/* A fully periodic orthorhombic box. */
static inline fs_box fs_box_make(double lx, double ly, double lz)
{
    fs_box b = {{lx, ly, lz}, {1, 1, 1}};
    return b;
}

static inline double fs_box_volume(const fs_box *b)
{
    return b->len[0] * b->len[1] * b->len[2];
}

/* Replaces d (a difference of two positions) by its minimum image along every periodic axis. */
static inline void fs_box_min_image(const fs_box *b, double d[3])
{
    for (int k = 0; k < 3; ++k) {
        if (b->periodic[k]) d[k] -= b->len[k] * nearbyint(d[k] / b->len[k]);
    }
}

#endif
