/*
 * dynamics.c — the default integration parameters (dynamics.h).
 *
 * Where GROMACS has the .mdp option the default follows common practice for a 2 fs step with constrained
 * hydrogens (dt 0.002 ps, ref-t 298.15 K, tau-t 0.1 ps, ref-p 1 bar, comm-mode linear every 100 steps), and the
 * couplings are off until asked for (tcoupl = no, pcoupl = no), as in GROMACS. The seed is a fixed 0 rather than
 * GROMACS's "-1 = pick one", so that two runs of the same deck are identical unless the deck sets ld-seed.
 */
#include "dynamics.h"

fs_dynamics fs_dynamics_default(void)
{
    fs_dynamics d = {
        .integrator = FS_INTEGRATOR_MD,
        .dt = 0.002,
        .tcoupl = FS_TCOUPL_NO,
        .ref_t = 298.15,
        .tau_t = 0.1,
        .pcoupl = FS_PCOUPL_NO,
        .ref_p = 1.0,
        .nstpcouple = 25,
        .comm_mode = FS_COMM_LINEAR,
        .nstcomm = 100,
        .shake_tol = 1e-10,
        .seed = 0,
    };
    return d;
}
