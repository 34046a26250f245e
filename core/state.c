/*
 * state.c — allocation of the structure-of-arrays state.
 *
 * The nine per-atom coordinate arrays and the id array are allocated separately, each with `capacity` elements,
 * so that growing the state is ten reallocs and never moves one atom's data relative to another's.
 */
#include "state.h"

#include <stdlib.h>
#include <string.h>

static double **component(fs_state *s, int k)
{
    return k < 3 ? &s->r[k] : k < 6 ? &s->v[k - 3] : &s->f[k - 6];
}

fs_status fs_state_reserve(fs_state *s, int capacity)
{
    if (capacity <= s->capacity) return FS_OK;
    for (int k = 0; k < 9; ++k) {
        double **a = component(s, k);
        double *p = realloc(*a, (size_t)capacity * sizeof *p);
        if (!p) return fs_fail(FS_ERR_NOMEM, "out of memory for a state of %d atoms", capacity);
        memset(p + s->capacity, 0, (size_t)(capacity - s->capacity) * sizeof *p);
        *a = p;
    }
    long *id = realloc(s->id, (size_t)capacity * sizeof *id);
    if (!id) return fs_fail(FS_ERR_NOMEM, "out of memory for a state of %d atoms", capacity);
    for (int i = s->capacity; i < capacity; ++i) id[i] = i;
    s->id = id;
    s->capacity = capacity;
    return FS_OK;
}

fs_status fs_state_create(int natoms, int capacity, fs_state **out)
{
    if (capacity < natoms) capacity = natoms;
    fs_state *s = calloc(1, sizeof *s);
    if (!s) return fs_fail(FS_ERR_NOMEM, "out of memory allocating a state");
    fs_status st = fs_state_reserve(s, capacity > 0 ? capacity : 1);
    if (st != FS_OK) {
        fs_state_destroy(&s);
        *out = NULL;
        return st;
    }
    s->natoms = natoms;
    s->box = fs_box_make(0.0, 0.0, 0.0);
    *out = s;
    return FS_OK;
}

void fs_state_destroy(fs_state **s)
{
    if (!s || !*s) return;
    for (int k = 0; k < 9; ++k) free(*component(*s, k));
    free((*s)->id);
    free(*s);
    *s = NULL;
}

void fs_state_zero_forces(fs_state *s)
{
    for (int d = 0; d < 3; ++d) memset(s->f[d], 0, (size_t)s->natoms * sizeof(double));
}
