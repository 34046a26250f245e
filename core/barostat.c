/*
 * barostat.c — the Monte Carlo barostat (Chow & Ferguson, Comput. Phys. Commun. 91, 283 (1995); Åqvist et al.,
 * Chem. Phys. Lett. 384, 288 (2004); as in OpenMM's MonteCarloBarostat).
 *
 * Every nstpcouple steps the volume V is changed to V' = V + dV, dV uniform in [-max_dv, max_dv]: isotropically
 * (each edge scaled by (V'/V)^(1/3)) or, for slabs, along z only (x and y fixed). Molecules move rigidly with their
 * centres of mass, so intramolecular geometry and constraints are untouched. The trial is accepted with probability
 * min(1, exp(-w/kT)),
 *     w = E(V') - E(V) + P_ref (V' - V) - N kT ln(V'/V),
 * N the number of molecules that move. This samples the isothermal-isobaric distribution of the molecular centres
 * (an ideal gas of N molecules gives <V> = (N + 1) kT / P exactly). Kinetic energy does not enter: velocities are
 * not scaled. Two uniform numbers per trial come from Philox keyed by (seed, step, 0, FS_RNG_STREAM_BAROSTAT).
 * A trial whose energy cannot be evaluated for a reason other than non-finite numbers (a box below twice the
 * pair-list radius) is reverted and its error returned. Every 10 trials max_dv is adapted towards an acceptance
 * between 25 % and 75 % (x0.9 below, x1.1 above, at most a third of V); the adaptation is part of the state a
 * checkpoint must keep.
 */
#include "barostat.h"

#include <math.h>

#include "rng.h"
#include "units.h"

void fs_mc_barostat_init(fs_mc_barostat *mc, double volume)
{
    mc->max_dv = 0.01 * volume;
    mc->attempts = mc->accepted = mc->window_attempts = mc->window_accepted = 0;
}

int fs_mc_barostat_movers(const fs_topology *top)
{
    int n = 0;
    for (int m = 0; m < top->nmolecules; ++m) {
        const fs_molecule *mol = &top->molecules[m];
        int frozen = 0;
        for (int i = mol->first_atom; i < mol->first_atom + mol->natoms; ++i) frozen |= top->atoms[i].frozen;
        n += !frozen;
    }
    return n;
}

fs_status fs_mc_barostat_trial(fs_mc_barostat *mc, fs_backend *b, const fs_dynamics *d, int nmovers, int *accepted)
{
    fs_observables before;
    fs_status st = b->ops->observe(b, &before);
    if (st != FS_OK) return st;
    double v0 = fs_box_volume(&before.box);
    double u[4];
    fs_rng_uniform4(d->seed, (uint64_t)before.step, 0, FS_RNG_STREAM_BAROSTAT, u);
    double v1 = v0 + (2.0 * u[0] - 1.0) * mc->max_dv;
    *accepted = 0;
    if (v1 > 0.0) {
        double ratio = v1 / v0, s[3] = {1.0, 1.0, ratio};
        if (d->pcoupl == FS_PCOUPL_MC_ISOTROPIC) s[0] = s[1] = s[2] = cbrt(ratio);
        st = b->ops->scale_trial(b, s);
        if (st != FS_OK) return st;
        fs_energies e1;
        st = b->ops->compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY, &e1);
        if (st != FS_OK && st != FS_ERR_NUMERIC) {
            (void)b->ops->scale_revert(b); /* leave the state as it was; the message stays compute()'s */
            return st;
        }
        double kt = FS_BOLTZ * d->ref_t;
        double w = st == FS_OK ? fs_energies_potential(&e1) - fs_energies_potential(&before.pot) +
                                     d->ref_p / FS_PRESFAC * (v1 - v0) - nmovers * kt * log(ratio)
                               : INFINITY;
        *accepted = w <= 0.0 || u[1] < exp(-w / kt);
        if (!*accepted)
            st = b->ops->scale_revert(b);
        else
            st = FS_OK;
        if (st != FS_OK) return st;
    }
    mc->attempts++;
    mc->window_attempts++;
    mc->accepted += *accepted;
    mc->window_accepted += *accepted;
    if (mc->window_attempts >= 10) {
        double rate = (double)mc->window_accepted / (double)mc->window_attempts;
        if (rate < 0.25)
            mc->max_dv *= 0.9;
        else if (rate > 0.75)
            mc->max_dv = fmin(mc->max_dv * 1.1, v0 / 3.0);
        mc->window_attempts = mc->window_accepted = 0;
    }
    return FS_OK;
}
