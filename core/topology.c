/*
 * topology.c — building and finishing a topology.
 *
 * Readers append atoms, molecules and terms one at a time; lists grow geometrically (capacity doubles), so
 * appending n items costs O(n). Exclusions are first collected as unordered pairs and then turned into a compressed
 * sparse row (CSR) table by fs_topology_finalize(): a counting pass sizes each atom's row, a fill pass writes both
 * directions, then each row is sorted and deduplicated in place. The CSR form is what the non-bonded code needs: the
 * atoms excluded from i, sorted, in one contiguous run.
 *
 * The h-bond conversion follows GROMACS's grompp (topshake.cpp): a bond is constrained when one of its atoms is a
 * hydrogen, and grompp decides that from the first letter of the atom name.
 */
#include "topology.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int fs_list_grow_(void **data, int *cap, int need, size_t elem_size)
{
    if (need <= *cap) return 0;
    int ncap = *cap > 0 ? *cap : 8;
    while (ncap < need) ncap *= 2;
    void *p = realloc(*data, (size_t)ncap * elem_size);
    if (!p) return 1;
    *data = p;
    *cap = ncap;
    return 0;
}

fs_status fs_topology_create(fs_topology **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return fs_fail(FS_ERR_NOMEM, "out of memory allocating a topology");
    (*out)->nbfunc = 1;
    (*out)->comb_rule = 1;
    (*out)->fudge_lj = 1.0;
    (*out)->fudge_qq = 1.0;
    return FS_OK;
}

void fs_topology_destroy(fs_topology **top)
{
    if (!top || !*top) return;
    fs_topology *t = *top;
    free(t->atoms);
    free(t->types);
    free(t->c6);
    free(t->c12);
    free(t->molecules);
    fs_list_free(&t->bonds);
    fs_list_free(&t->angles);
    fs_list_free(&t->ub_angles);
    fs_list_free(&t->propers);
    fs_list_free(&t->per_impropers);
    fs_list_free(&t->impropers);
    fs_list_free(&t->rbs);
    fs_list_free(&t->pairs);
    fs_list_free(&t->constraints);
    fs_list_free(&t->settles);
    fs_list_free(&t->excl_pending);
    free(t->excl_start);
    free(t->excl_list);
    free(t);
    *top = NULL;
}

fs_status fs_topology_add_atom(fs_topology *top, const fs_atom *atom, int *index)
{
    if (fs_list_grow_((void **)&top->atoms, &top->atoms_cap, top->natoms + 1, sizeof *top->atoms))
        return fs_fail(FS_ERR_NOMEM, "out of memory adding atom %d", top->natoms + 1);
    top->atoms[top->natoms] = *atom;
    if (index) *index = top->natoms;
    top->natoms++;
    return FS_OK;
}

fs_status fs_topology_add_molecule(fs_topology *top, const fs_molecule *mol)
{
    if (mol->first_atom < 0 || mol->natoms < 0 || mol->first_atom + mol->natoms > top->natoms)
        return fs_fail(FS_ERR_INVALID, "molecule '%s' refers to atoms %d..%d beyond the %d atoms present", mol->name,
                       mol->first_atom + 1, mol->first_atom + mol->natoms, top->natoms);
    if (fs_list_grow_((void **)&top->molecules, &top->molecules_cap, top->nmolecules + 1, sizeof *top->molecules))
        return fs_fail(FS_ERR_NOMEM, "out of memory adding molecule %d", top->nmolecules + 1);
    top->molecules[top->nmolecules++] = *mol;
    return FS_OK;
}

fs_status fs_topology_set_types(fs_topology *top, int ntypes, const fs_atomtype *types, const double *c6,
                                const double *c12)
{
    size_t nn = (size_t)ntypes * (size_t)ntypes;
    fs_atomtype *t = malloc((size_t)(ntypes > 0 ? ntypes : 1) * sizeof *t);
    double *a = malloc((nn > 0 ? nn : 1) * sizeof *a);
    double *b = malloc((nn > 0 ? nn : 1) * sizeof *b);
    if (!t || !a || !b) {
        free(t);
        free(a);
        free(b);
        return fs_fail(FS_ERR_NOMEM, "out of memory for %d atom types", ntypes);
    }
    if (ntypes > 0) {
        memcpy(t, types, (size_t)ntypes * sizeof *t);
        memcpy(a, c6, nn * sizeof *a);
        memcpy(b, c12, nn * sizeof *b);
    }
    free(top->types);
    free(top->c6);
    free(top->c12);
    top->types = t;
    top->c6 = a;
    top->c12 = b;
    top->ntypes = ntypes;
    return FS_OK;
}

fs_status fs_topology_add_exclusion(fs_topology *top, int i, int j)
{
    if (i == j) return FS_OK;
    if (fs_list_grow_((void **)&top->excl_pending.data, &top->excl_pending.cap, top->excl_pending.n + 2, sizeof(int)))
        return fs_fail(FS_ERR_NOMEM, "out of memory adding exclusions");
    top->excl_pending.data[top->excl_pending.n++] = i;
    top->excl_pending.data[top->excl_pending.n++] = j;
    return FS_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

fs_status fs_topology_finalize(fs_topology *top)
{
    int n = top->natoms;
    int npair = top->excl_pending.n / 2;
    /* keep the exclusions already in CSR form */
    int nold = top->excl_start ? top->excl_start[n] : 0;
    if (top->excl_start && nold > 0) {
        for (int i = 0; i < n; ++i)
            for (int k = top->excl_start[i]; k < top->excl_start[i + 1]; ++k)
                if (top->excl_list[k] > i) npair++;
    }
    int *start = calloc((size_t)n + 1, sizeof *start);
    int *list = malloc((size_t)(2 * npair > 0 ? 2 * npair : 1) * sizeof *list);
    int *fill = calloc((size_t)n + 1, sizeof *fill);
    if (!start || !list || !fill) {
        free(start);
        free(list);
        free(fill);
        return fs_fail(FS_ERR_NOMEM, "out of memory building the exclusion table");
    }
    const int *p = top->excl_pending.data;
    for (int k = 0; k < top->excl_pending.n; k += 2) {
        if (p[k] < 0 || p[k] >= n || p[k + 1] < 0 || p[k + 1] >= n) {
            free(start);
            free(list);
            free(fill);
            return fs_fail(FS_ERR_INVALID, "exclusion between atoms %d and %d, but there are %d atoms", p[k] + 1,
                           p[k + 1] + 1, n);
        }
        start[p[k] + 1]++;
        start[p[k + 1] + 1]++;
    }
    if (nold > 0)
        for (int i = 0; i < n; ++i) start[i + 1] += top->excl_start[i + 1] - top->excl_start[i];
    for (int i = 0; i < n; ++i) start[i + 1] += start[i];
    for (int k = 0; k < top->excl_pending.n; k += 2) {
        int i = p[k], j = p[k + 1];
        list[start[i] + fill[i]++] = j;
        list[start[j] + fill[j]++] = i;
    }
    if (nold > 0)
        for (int i = 0; i < n; ++i)
            for (int k = top->excl_start[i]; k < top->excl_start[i + 1]; ++k)
                list[start[i] + fill[i]++] = top->excl_list[k];
    /* sort and deduplicate each row, compacting in place */
    int w = 0;
    for (int i = 0; i < n; ++i) {
        int b = start[i], e = start[i + 1];
        qsort(list + b, (size_t)(e - b), sizeof *list, cmp_int);
        start[i] = w;
        for (int k = b; k < e; ++k)
            if (k == b || list[k] != list[k - 1]) list[w++] = list[k];
    }
    start[n] = w;
    free(fill);
    free(top->excl_start);
    free(top->excl_list);
    top->excl_start = start;
    top->excl_list = list;
    top->excl_pending.n = 0;
    return FS_OK;
}

static int is_hydrogen(const fs_atom *a)
{
    return toupper((unsigned char)a->name[0]) == 'H';
}

static fs_status constrain_bonds(fs_topology *top, int only_h)
{
    int keep = 0;
    for (int k = 0; k < top->bonds.n; ++k) {
        fs_bond b = top->bonds.data[k];
        if (!only_h || is_hydrogen(&top->atoms[b.ai]) || is_hydrogen(&top->atoms[b.aj])) {
            fs_constraint c = {b.ai, b.aj, b.b0};
            if (fs_list_push(&top->constraints, c) != FS_OK)
                return fs_fail(FS_ERR_NOMEM, "out of memory adding constraints");
        } else {
            top->bonds.data[keep++] = b;
        }
    }
    top->bonds.n = keep;
    return FS_OK;
}

fs_status fs_topology_constrain_h_bonds(fs_topology *top)
{
    return constrain_bonds(top, 1);
}

fs_status fs_topology_constrain_all_bonds(fs_topology *top)
{
    return constrain_bonds(top, 0);
}

double fs_topology_total_charge(const fs_topology *top)
{
    double q = 0.0;
    for (int i = 0; i < top->natoms; ++i) q += top->atoms[i].charge;
    return q;
}

double fs_topology_total_mass(const fs_topology *top)
{
    double m = 0.0;
    for (int i = 0; i < top->natoms; ++i) m += top->atoms[i].mass;
    return m;
}
