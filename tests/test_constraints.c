/*
 * test_constraints.c — SETTLE for rigid water, against SHAKE and against independent checks (core/constraints.c,
 * core/settle.c, core/shake.c; SHAKE/RATTLE on their own are in test_shake.c).
 *
 * Every check is computed here independently of the library (tests/support/constraint_checks.h: own minimum image,
 * own distances, own virial sum):
 *   - water (benchmarks/inputs/water-23k, 7754 SPC/E waters): positions drifted as by 2 fs of free flight at 300 K;
 *     after SETTLE every O-H and H-H distance holds to 1e-10 relative; SETTLE agrees with SHAKE run on the same
 *     three distances per water (tolerance 1e-12) to 1e-10 nm, in positions, velocities and virial; each water's
 *     centre of mass does not move (constraint forces sum to zero); the corrected velocities equal
 *     (r_constrained - r_ref) / dt; the virial equals -1/2 sum_i r_i(ref) (x) m_i delta_i / dt^2 summed
 *     independently; after the velocity step r_ij . v_ij = 0 to 1e-10 relative, the momentum is unchanged, the
 *     step is a projection (a second application changes nothing) and SETTLE's exact 3x3 solution agrees with
 *     RATTLE's iteration;
 *   - molecules broken across the periodic boundary give the same result, modulo box vectors, as whole ones
 *     (SETTLE and SHAKE, positions, velocities, virial);
 *   - the virial's physical meaning: for freely rotating rigid waters one velocity-Verlet step gives
 *     trace(2 Xi) = rotational kinetic energy, for the position and the velocity step, SETTLE and SHAKE.
 * Negative controls (each must fail the check it guards): SETTLE with doh off by 0.1%, SHAKE with a loose
 * tolerance, SETTLE with the wrong hydrogen mass (momentum), no velocity correction, the virial taken with the new
 * instead of the reference bond vectors, uncorrected velocities, the wrapped system constrained without
 * periodicity, and the virial without the velocity-Verlet factor 2.
 */
#include "support/constraint_checks.h"

/* ---------------------------------------------------------------------------------------------------------------
 * Water: SETTLE against SHAKE and against the independent checks. */

static void test_water(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &s);
    const int n = top->natoms;
    const fs_box *box = &s->box;
    assert_int_equal(top->settles.n, 7754);

    fs_topology *shake_top = waters_as_shake(top);
    fs_constraints *cs = make(top, 1e-10), *ck = make(shake_top, 1e-12);
    assert_int_equal(fs_constraints_count(cs), 3 * 7754);
    assert_int_equal(fs_constraints_count(ck), 3 * 7754);

    /* the .gro has 3 decimals: the loaded waters are off by up to ~1%; project them first */
    const double loaded_err = max_rel_error(top, box, s->r);
    coords ref = project(cs, box, n, s->r);
    const double ref_err = max_rel_error(top, box, ref.x);
    print_message("water: loaded max rel error %.3g, after SETTLE %.3g\n", loaded_err, ref_err);
    assert_true(loaded_err > 1e-4);
    assert_true(ref_err <= 1e-10);
    {
        /* r_ref may alias r: projecting in place gives the same numbers */
        coords inplace = coords_copy(n, s->r);
        must(fs_constrain_positions(cs, box, inplace.x, inplace.x, NULL, DT, NULL));
        assert_true(max_abs_diff(n, inplace.x, ref.x) == 0.0);
        coords_free(&inplace);
    }

    /* 2 fs of free flight at 300 K */
    coords unc = coords_new(n), v0 = coords_new(n);
    thermal(top, ref.x, unc.x, v0.x, 11);
    const double drift_err = max_rel_error(top, box, unc.x);

    coords rs = coords_copy(n, unc.x), vs = coords_copy(n, v0.x);
    double xis[3][3] = {{0}};
    must(fs_constrain_positions(cs, box, ref.x, rs.x, vs.x, DT, xis));
    const double settle_err = max_rel_error(top, box, rs.x);
    print_message("water: drifted max rel error %.3g, after SETTLE %.3g (library says %.3g)\n", drift_err, settle_err,
                  fs_constraints_max_error(cs, box, rs.x));
    assert_true(drift_err > 1e-3);
    assert_true(settle_err <= 1e-10);
    assert_true(fs_constraints_max_error(cs, box, rs.x) <= 1e-10);
    fs_assert_close(fs_constraints_max_error(cs, box, rs.x), settle_err, 1e-6, 1e-15, "max_error agrees");

    /* SHAKE on the same three distances */
    coords rk = coords_copy(n, unc.x), vk = coords_copy(n, v0.x);
    double xik[3][3] = {{0}};
    must(fs_constrain_positions(ck, box, ref.x, rk.x, vk.x, DT, xik));
    const double dpos = max_abs_diff(n, rs.x, rk.x), dvel = max_abs_diff(n, vs.x, vk.x);
    const double dvir = tensor_rel_diff(xis, xik);
    print_message("water: SETTLE - SHAKE: positions %.3g nm, velocities %.3g nm/ps, virial %.3g relative\n", dpos, dvel,
                  dvir);
    assert_true(dpos <= 1e-10);
    assert_true(dvel <= 1e-10 / DT);
    assert_true(dvir <= 1e-8);
    assert_true(max_rel_error(top, box, rk.x) <= 1e-12);

    /* constraint forces sum to zero: no centre-of-mass shift per water */
    const double com = max_com_shift(top, rs.x, unc.x);
    print_message("water: largest centre-of-mass shift %.3g nm\n", com);
    assert_true(com <= 1e-14);

    /* velocities corrected by the same displacement / dt */
    const double vmis = max_velocity_mismatch(n, vs.x, rs.x, ref.x);
    print_message("water: |v - (r - r_ref)/dt| <= %.3g nm/ps\n", vmis);
    assert_true(vmis <= 1e-10);

    /* virial: -1/2 sum r(ref) (x) m delta / dt^2 */
    double xi_ind[3][3];
    virial_from_changes(top, box, ref.x, rs.x, unc.x, 1.0 / (DT * DT), xi_ind);
    const double vir_rel = tensor_rel_diff(xis, xi_ind);
    print_message("water: virial xx %.6g yy %.6g zz %.6g kJ/mol, rel diff to the independent sum %.3g\n", xis[0][0],
                  xis[1][1], xis[2][2], vir_rel);
    assert_true(vir_rel <= 1e-10);

    /* ---- velocity step at the constrained positions ---- */
    coords vr = coords_new(n);
    thermal(top, rs.x, NULL, vr.x, 12);
    const double res_before = max_velocity_residual(top, box, rs.x, vr.x);
    coords va = coords_copy(n, vr.x), vb = coords_copy(n, vr.x);
    double xiv[3][3] = {{0}}, xivk[3][3] = {{0}};
    must(fs_constrain_velocities(cs, box, rs.x, va.x, DT, xiv));
    must(fs_constrain_velocities(ck, box, rs.x, vb.x, DT, xivk));
    const double res_after = max_velocity_residual(top, box, rs.x, va.x);
    const double res_rattle = max_velocity_residual(top, box, rs.x, vb.x);
    const double dv_sr = max_abs_diff(n, va.x, vb.x);
    print_message("water: velocity residual before %.3g, SETTLE %.3g, RATTLE %.3g; SETTLE - RATTLE %.3g nm/ps\n",
                  res_before, res_after, res_rattle, dv_sr);
    assert_true(res_after <= 1e-10);
    assert_true(res_rattle <= 1e-10);
    assert_true(dv_sr <= 1e-9);
    assert_true(max_com_shift(top, va.x, vr.x) <= 1e-14);
    double xiv_ind[3][3];
    virial_from_changes(top, box, rs.x, va.x, vr.x, 1.0 / DT, xiv_ind);
    assert_true(tensor_rel_diff(xiv, xiv_ind) <= 1e-10);
    assert_true(tensor_rel_diff(xivk, xiv_ind) <= 1e-8);
    /* a projection: applying it again changes nothing */
    coords vc = coords_copy(n, va.x);
    must(fs_constrain_velocities(cs, box, rs.x, vc.x, DT, NULL));
    assert_true(max_abs_diff(n, vc.x, va.x) <= 1e-13);

    /* ---- negative controls ---- */
    /* uncorrected velocities are far from orthogonal */
    assert_false(res_before <= 1e-10);
    /* no velocity correction: the consistency check fails */
    {
        coords r2 = coords_copy(n, unc.x), v2 = coords_copy(n, v0.x);
        must(fs_constrain_positions(cs, box, ref.x, r2.x, NULL, DT, NULL));
        assert_false(max_velocity_mismatch(n, v2.x, r2.x, ref.x) <= 1e-10);
        coords_free(&r2);
        coords_free(&v2);
    }
    /* the virial taken with the constrained instead of the reference bond vectors */
    {
        double xi_bad[3][3];
        virial_from_changes(top, box, rs.x, rs.x, unc.x, 1.0 / (DT * DT), xi_bad);
        assert_false(tensor_rel_diff(xis, xi_bad) <= 1e-10);
    }
    /* SETTLE with doh 0.1% too long: wrong distances, and it no longer agrees with SHAKE */
    {
        fs_topology *bad = waters_variant(top, 1.001, 0.0);
        fs_constraints *cb = make(bad, 1e-10);
        coords r2 = coords_copy(n, unc.x);
        must(fs_constrain_positions(cb, box, ref.x, r2.x, NULL, DT, NULL));
        assert_false(max_rel_error(top, box, r2.x) <= 1e-10);
        assert_false(max_abs_diff(n, r2.x, rk.x) <= 1e-10);
        coords_free(&r2);
        fs_constraints_destroy(&cb);
        fs_topology_destroy(&bad);
    }
    /* SETTLE weighting the hydrogens as deuterium: distances fine, but the true centre of mass moves */
    {
        fs_topology *bad = waters_variant(top, 1.0, 2.016);
        fs_constraints *cb = make(bad, 1e-10);
        coords r2 = coords_copy(n, unc.x);
        must(fs_constrain_positions(cb, box, ref.x, r2.x, NULL, DT, NULL));
        assert_true(max_rel_error(top, box, r2.x) <= 1e-10);
        print_message("water: centre-of-mass shift with deuterium weights %.3g nm\n", max_com_shift(top, r2.x, unc.x));
        assert_false(max_com_shift(top, r2.x, unc.x) <= 1e-14);
        coords_free(&r2);
        fs_constraints_destroy(&cb);
        fs_topology_destroy(&bad);
    }
    /* SHAKE with a loose tolerance fails the 1e-10 check */
    {
        fs_constraints *cl = make(shake_top, 1e-6);
        coords r2 = coords_copy(n, unc.x);
        must(fs_constrain_positions(cl, box, ref.x, r2.x, NULL, DT, NULL));
        assert_false(max_rel_error(top, box, r2.x) <= 1e-10);
        coords_free(&r2);
        fs_constraints_destroy(&cl);
    }

    coords *all[] = {&ref, &unc, &v0, &rs, &vs, &rk, &vk, &vr, &va, &vb, &vc};
    for (size_t k = 0; k < sizeof all / sizeof *all; ++k) coords_free(all[k]);
    fs_constraints_destroy(&cs);
    fs_constraints_destroy(&ck);
    fs_topology_destroy(&shake_top);
    fs_topology_destroy(&top);
    fs_state_destroy(&s);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Molecules across the periodic boundary. */

/* Constrains positions (and then velocities) of the wrapped and the whole copy; returns the largest difference
 * modulo the box in positions, and the differences in velocities and virials through the pointers. */
static fs_status constrain_pair(fs_constraints *c, const fs_box *bw, const fs_box *bu, int n, double *const refw[3],
                                double *const refu[3], double *const uncw[3], double *const uncu[3],
                                double *const v0[3], double *dpos, double *dvel, double *dvir)
{
    coords rw = coords_copy(n, uncw), ru = coords_copy(n, uncu), vw = coords_copy(n, v0), vu = coords_copy(n, v0);
    double xw[3][3] = {{0}}, xu[3][3] = {{0}};
    fs_status st = fs_constrain_positions(c, bw, refw, rw.x, vw.x, DT, xw);
    if (st == FS_OK) st = fs_constrain_velocities(c, bw, rw.x, vw.x, DT, xw);
    must(fs_constrain_positions(c, bu, refu, ru.x, vu.x, DT, xu));
    must(fs_constrain_velocities(c, bu, ru.x, vu.x, DT, xu));
    *dpos = 0.0;
    for (int i = 0; i < n; ++i) {
        double d[3];
        for (int k = 0; k < 3; ++k) d[k] = rw.x[k][i] - ru.x[k][i];
        mi(bu, d);
        for (int k = 0; k < 3; ++k) *dpos = fmax(*dpos, fabs(d[k]));
    }
    if (!(*dpos == *dpos)) *dpos = INFINITY;
    *dvel = max_abs_diff(n, vw.x, vu.x);
    *dvir = tensor_rel_diff(xw, xu);
    coords_free(&rw);
    coords_free(&ru);
    coords_free(&vw);
    coords_free(&vu);
    return st;
}

static void test_periodic_boundary(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &s);
    const int n = top->natoms;
    const fs_box box = s->box;
    fs_topology *shake_top = waters_as_shake(top);
    fs_constraints *cs = make(top, 1e-10), *ck = make(shake_top, 1e-12);

    /* whole molecules shifted by about half a box; the wrapped copy puts every atom back into [0, L) */
    coords refu = project(cs, &box, n, s->r), refw = coords_new(n);
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < n; ++i) {
            refu.x[k][i] += 0.5 * box.len[k] + 0.0371 * (k + 1);
            refw.x[k][i] = refu.x[k][i] - box.len[k] * floor(refu.x[k][i] / box.len[k]);
        }
    int broken = 0;
    for (int w = 0; w < top->settles.n; ++w) {
        const int o = top->settles.data[w].ow;
        int b = 0;
        for (int a = 1; a <= 2; ++a)
            for (int k = 0; k < 3; ++k) b |= fabs(refw.x[k][o + a] - refw.x[k][o]) > 0.5 * box.len[k];
        broken += b;
    }
    print_message("pbc: %d of %d waters straddle the boundary\n", broken, top->settles.n);
    assert_true(broken > 100);

    coords uncu = coords_new(n), v0 = coords_new(n), uncw = coords_new(n);
    thermal(top, refu.x, uncu.x, v0.x, 41);
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < n; ++i) uncw.x[k][i] = refw.x[k][i] + v0.x[k][i] * DT;

    double dpos, dvel, dvir;
    must(constrain_pair(cs, &box, &box, n, refw.x, refu.x, uncw.x, uncu.x, v0.x, &dpos, &dvel, &dvir));
    print_message("pbc: SETTLE wrapped - whole: positions %.3g nm, velocities %.3g nm/ps, virial %.3g\n", dpos, dvel,
                  dvir);
    assert_true(dpos <= 1e-12);
    assert_true(dvel <= 1e-9);
    assert_true(dvir <= 1e-10);
    must(constrain_pair(ck, &box, &box, n, refw.x, refu.x, uncw.x, uncu.x, v0.x, &dpos, &dvel, &dvir));
    print_message("pbc: SHAKE wrapped - whole: positions %.3g nm, velocities %.3g nm/ps, virial %.3g\n", dpos, dvel,
                  dvir);
    assert_true(dpos <= 1e-12);
    assert_true(dvel <= 1e-9);
    assert_true(dvir <= 1e-10);

    /* negative control: the wrapped system without periodicity is not constrained correctly */
    fs_box open = box;
    open.periodic[0] = open.periodic[1] = open.periodic[2] = 0;
    fs_status st = constrain_pair(cs, &open, &box, n, refw.x, refu.x, uncw.x, uncu.x, v0.x, &dpos, &dvel, &dvir);
    assert_false(st == FS_OK && dpos <= 1e-12);
    st = constrain_pair(ck, &open, &box, n, refw.x, refu.x, uncw.x, uncu.x, v0.x, &dpos, &dvel, &dvir);
    assert_false(st == FS_OK && dpos <= 1e-12);

    coords *all[] = {&refu, &refw, &uncu, &v0, &uncw};
    for (size_t k = 0; k < sizeof all / sizeof *all; ++k) coords_free(all[k]);
    fs_constraints_destroy(&cs);
    fs_constraints_destroy(&ck);
    fs_topology_destroy(&shake_top);
    fs_topology_destroy(&top);
    fs_state_destroy(&s);
}

/* ---------------------------------------------------------------------------------------------------------------
 * The virial's physical meaning: freely rotating rigid waters. */

/* Rigid-body velocities v_i = V + omega x (r_i - R) per water (omega ~ 10 rad/ps per component, V ~ 0.5 nm/ps);
 * returns the rotational kinetic energy sum 1/2 m |omega x (r_i - R)|^2. */
static double rigid_rotation(const fs_topology *top, const fs_box *box, double *const r[3], double *v[3], uint64_t seed)
{
    double ekin = 0.0;
    for (int w = 0; w < top->settles.n; ++w) {
        const fs_settle *ws = &top->settles.data[w];
        const int at[3] = {ws->ow, ws->hw1, ws->hw2};
        double rel[3][3], com[3] = {0, 0, 0}, mass = 0.0, om[3], vc[3];
        for (int a = 0; a < 3; ++a) {
            diff(box, r, at[a], ws->ow, rel[a]);
            for (int k = 0; k < 3; ++k) com[k] += top->atoms[at[a]].mass * rel[a][k];
            mass += top->atoms[at[a]].mass;
        }
        for (int k = 0; k < 3; ++k) {
            com[k] /= mass;
            om[k] = 10.0 * gauss(&seed);
            vc[k] = 0.5 * gauss(&seed);
        }
        for (int a = 0; a < 3; ++a) {
            double x[3] = {rel[a][0] - com[0], rel[a][1] - com[1], rel[a][2] - com[2]}, u[3];
            for (int k = 0; k < 3; ++k) u[k] = om[(k + 1) % 3] * x[(k + 2) % 3] - om[(k + 2) % 3] * x[(k + 1) % 3];
            for (int k = 0; k < 3; ++k) v[k][at[a]] = vc[k] + u[k];
            ekin += 0.5 * top->atoms[at[a]].mass * (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
        }
    }
    return ekin;
}

/* For a free rigid body the constraint forces are m_i a_i with sum_i -1/2 r_i . m_i a_i = E_rot (the centripetal
 * part; the angular-acceleration part has r . (alpha x r) = 0). One velocity-Verlet step without other forces,
 * r' = r + v dt + a dt^2 / 2, then RATTLE after the half kick, must therefore give trace(2 Xi) = E_rot for both the
 * position and the velocity virial, to O((omega dt)^2): this pins the convention of constraints.h (f = m delta /
 * dt^2, doubled by a velocity-Verlet caller). Negative control: without the doubling the trace is E_rot / 2. */
static void test_virial_rigid_rotation(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &s);
    const int n = top->natoms;
    const fs_box *box = &s->box;
    const double dt = 1e-4;
    fs_topology *shake_top = waters_as_shake(top);
    fs_constraints *cs = make(top, 1e-10), *ck = make(shake_top, 1e-12);
    coords ref = project(cs, box, n, s->r), v0 = coords_new(n);
    const double erot = rigid_rotation(top, box, ref.x, v0.x, 51);
    assert_true(max_velocity_residual(top, box, ref.x, v0.x) <= 1e-12); /* rigid-body velocities */

    fs_constraints *which[2] = {cs, ck};
    for (int q = 0; q < 2; ++q) {
        coords r = coords_copy(n, ref.x), v = coords_copy(n, v0.x);
        for (int k = 0; k < 3; ++k)
            for (int i = 0; i < n; ++i) r.x[k][i] += v.x[k][i] * dt;
        double xp[3][3] = {{0}}, xv[3][3] = {{0}};
        must(fs_constrain_positions(which[q], box, ref.x, r.x, v.x, dt, xp));
        must(fs_constrain_velocities(which[q], box, r.x, v.x, dt, xv));
        const double tp = 2.0 * (xp[0][0] + xp[1][1] + xp[2][2]), tv = 2.0 * (xv[0][0] + xv[1][1] + xv[2][2]);
        print_message("rotation (%s): E_rot %.8g kJ/mol, 2 tr(Xi) positions %.8g, velocities %.8g\n",
                      q == 0 ? "SETTLE" : "SHAKE", erot, tp, tv);
        fs_assert_close(tp, erot, 1e-5, 0.0, "2 tr(Xi) of the position step = E_rot");
        fs_assert_close(tv, erot, 1e-5, 0.0, "2 tr(Xi) of the velocity step = E_rot");
        assert_false(fs_close(tp / 2.0, erot, 1e-5, 0.0)); /* negative control: GROMACS's leapfrog factor */
        assert_false(fs_close(tv / 2.0, erot, 1e-5, 0.0));
        coords_free(&r);
        coords_free(&v);
    }
    coords_free(&ref);
    coords_free(&v0);
    fs_constraints_destroy(&cs);
    fs_constraints_destroy(&ck);
    fs_topology_destroy(&shake_top);
    fs_topology_destroy(&top);
    fs_state_destroy(&s);
}

int main(void)
{
    /* one per line */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_water),
        cmocka_unit_test(test_periodic_boundary),
        cmocka_unit_test(test_virial_rigid_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
