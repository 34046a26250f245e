/*
 * test_pressure.c — the pressure read-out with constraints: an ideal gas of rigid molecules.
 *
 * 64 SETTLE waters with no interactions at all form an ideal gas of rigid rotors, whose pressure is exactly
 * P = N_molecules kT / V. The atomic pressure the engine reports, 2/(3V) (Ekin - Xi), reaches it only if the
 * constraint virial Xi cancels the rotational kinetic energy (2/3 of the 3 rotational degrees of freedom per
 * molecule): without it the read-out is N_atoms-like (about 2x too high). Langevin dynamics (sd) keeps every degree
 * of freedom at the bath temperature (a non-interacting gas under a global rescaling thermostat would keep whatever
 * split between translation and rotation it started with), so <P> is compared with N kT_bath / V.
 *
 * Numbers: 64 molecules, 1.5 nm box, 300 K, dt 2 fs, 20000 steps, the pressure sampled every 10 steps; the
 * standard error comes from 20 block averages. Negative control: the kinetic part alone (the same samples without
 * the constraint virial) must miss N kT / V by many standard errors.
 */
#include "support/fs_test.h"

#include <stdlib.h>
#include <string.h>

#include "core/constraints.h"
#include "core/integrate.h"
#include "core/thermo.h"
#include "core/units.h"
#include "forcefields/gromacs_input.h"
#include "kernels/backend.h"

#define NBLOCKS 20

static void test_rigid_ideal_gas_pressure(void **state)
{
    (void)state;
    fs_mdp m;
    fs_mdp_init(&m);
    m.force.rcoulomb = m.force.rvdw = 0.5;
    m.force.verlet_buffer = 0.1;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    if (fs_gromacs_load(fs_test_path("tests/data/pressure/water64.top"),
                        fs_test_path("tests/data/pressure/water64.gro"), &m, NULL, 0, &top, &s) != FS_OK)
        fail_msg("%s", fs_error_message());
    int n = top->natoms, nmol = top->nmolecules;
    const double temp = 300.0;

    fs_constraints *cons = NULL;
    assert_int_equal(fs_constraints_create(top, 1e-10, &cons), FS_OK);
    assert_int_equal(fs_constrain_positions(cons, &s->box, s->r, s->r, NULL, 1.0, NULL), FS_OK);
    double *invmass = malloc((size_t)n * sizeof *invmass);
    for (int i = 0; i < n; ++i) invmass[i] = 1.0 / top->atoms[i].mass;
    fs_maxwell_velocities(n, s->v, invmass, temp, 11);
    assert_int_equal(fs_constrain_velocities(cons, &s->box, s->r, s->v, 0.002, NULL), FS_OK);

    fs_dynamics d = fs_dynamics_default();
    d.integrator = FS_INTEGRATOR_SD;
    d.ref_t = temp;
    d.tau_t = 0.5;
    d.comm_mode = FS_COMM_NONE;
    d.seed = 2026;
    fs_backend *b = NULL;
    assert_int_equal(fs_cpu_backend.create(top, &m.force, &b), FS_OK);
    assert_int_equal(fs_cpu_backend.upload(b, s), FS_OK);
    assert_int_equal(fs_cpu_backend.set_dynamics(b, &d), FS_OK);
    assert_int_equal(fs_cpu_backend.step(b, 2000), FS_OK); /* equilibrate */

    const int nsamples = 2000, per_block = nsamples / NBLOCKS;
    double block_p[NBLOCKS] = {0}, block_kin[NBLOCKS] = {0};
    double volume = fs_box_volume(&s->box), mass = fs_topology_total_mass(top);
    for (int k = 0; k < nsamples; ++k) {
        if (fs_cpu_backend.step(b, 10) != FS_OK) fail_msg("%s", fs_error_message());
        fs_observables o;
        assert_int_equal(fs_cpu_backend.observe(b, &o), FS_OK);
        fs_thermo_values v = fs_thermo_derive(&o, mass);
        block_p[k / per_block] += v.pressure / per_block;
        block_kin[k / per_block] += 2.0 / (3.0 * volume) * v.kinetic * FS_PRESFAC / per_block;
    }
    double mean = 0, mean_kin = 0, var = 0;
    for (int k = 0; k < NBLOCKS; ++k) {
        mean += block_p[k] / NBLOCKS;
        mean_kin += block_kin[k] / NBLOCKS;
    }
    for (int k = 0; k < NBLOCKS; ++k) var += (block_p[k] - mean) * (block_p[k] - mean) / (NBLOCKS - 1);
    double se = sqrt(var / NBLOCKS);
    double expected = nmol * FS_BOLTZ * temp / volume * FS_PRESFAC;
    print_message("rigid ideal gas: <P> = %.2f +- %.2f bar, N kT/V = %.2f bar; kinetic part alone %.2f bar\n", mean, se,
                  expected, mean_kin);
    assert_true(se < 0.03 * expected); /* the comparison is meaningful */
    if (!(fabs(mean - expected) < 3.0 * se + 0.01 * expected))
        fail_msg("<P> = %g +- %g bar differs from N kT / V = %g bar", mean, se, expected);
    /* negative control: without the constraint virial the read-out is far off */
    assert_false(fabs(mean_kin - expected) < 3.0 * se + 0.01 * expected);

    fs_cpu_backend.destroy(&b);
    fs_constraints_destroy(&cons);
    free(invmass);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rigid_ideal_gas_pressure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
