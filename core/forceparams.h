/*
 * forceparams.h — how interactions are computed: cut-offs, electrostatics method, PME grid, dispersion correction.
 *
 * The fields mirror GROMACS .mdp options and have GROMACS's defaults, so that an .mdp file and a ferrosolv run
 * deck mean the same thing. Only the Verlet cut-off scheme exists here. Derived quantities (the Ewald splitting
 * parameter from ewald-rtol, the PME grid from fourierspacing) are computed by the functions in
 * core/ewald_setup.h, which every backend uses so that all backends agree on them.
 */
#ifndef FS_FORCEPARAMS_H
#define FS_FORCEPARAMS_H

typedef enum { FS_COUL_PME, FS_COUL_EWALD } fs_coulombtype;
typedef enum { FS_MOD_POTENTIAL_SHIFT, FS_MOD_NONE } fs_modifier;
typedef enum { FS_DISPCORR_NO, FS_DISPCORR_ENER, FS_DISPCORR_ENERPRES } fs_dispcorr;

typedef struct {
    fs_coulombtype coulombtype;   /* coulombtype: PME (default) or Ewald (plain sum, a reference) */
    fs_modifier coulomb_modifier; /* coulomb-modifier: Potential-shift (default) */
    fs_modifier vdw_modifier;     /* vdw-modifier: Potential-shift (default) */
    double rcoulomb;              /* rcoulomb, nm (1.0) */
    double rvdw;                  /* rvdw, nm (1.0) */
    double verlet_buffer;         /* pair-list buffer added to max(rcoulomb, rvdw), nm (0.1) */
    double fourierspacing;        /* fourierspacing, nm (0.12) */
    int fourier_n[3];             /* fourier-nx/ny/nz; 0 = from fourierspacing */
    int pme_order;                /* pme-order, 4..6 (4); 3..12 accepted */
    double ewald_rtol;            /* ewald-rtol (1e-5) */
    double epsilon_r;             /* epsilon-r (1) */
    fs_dispcorr dispcorr;         /* DispCorr: no (default), Ener, EnerPres */
} fs_forceparams;

/* GROMACS's defaults for every field. */
static inline fs_forceparams fs_forceparams_default(void)
{
    fs_forceparams p = {
        FS_COUL_PME, FS_MOD_POTENTIAL_SHIFT, FS_MOD_POTENTIAL_SHIFT, 1.0, 1.0, 0.1, 0.12, {0, 0, 0}, 4, 1e-5,
        1.0,         FS_DISPCORR_NO};
    return p;
}

#endif
