/*
 * test_shake.c — SHAKE and RATTLE on coupled constraints, frozen atoms, failures (core/constraints.c, core/shake.c;
 * SETTLE is in test_constraints.c).
 *
 * Every check is computed independently of the library (tests/support/constraint_checks.h):
 *   - EC/DMC with constraints = h-bonds (benchmarks/inputs/ec-dmc through fs_gromacs_load; 1000 C-H constraints on
 *     300 carbons, so clusters of 2 and 3 coupled constraints), positions drifted as by 2 fs at 300 K: SHAKE holds
 *     every constraint to 1e-10 relative, each hydrogen moves along its reference bond, molecules keep their centres
 *     of mass, the velocities are corrected by displacement / dt, the virial matches the independent sum; RATTLE
 *     makes velocities orthogonal to the bonds to 1e-10 and keeps the momentum;
 *   - frozen atoms never move (positions and velocities bit-exact), the mobile partner takes the whole correction,
 *     a constraint between two frozen atoms is left alone, a water with a frozen oxygen is handled by SHAKE;
 *   - failures: a bond turned past 90 degrees, an impossible triangle, a too-distorted water, and non-convergence
 *     within the iteration limit are FS_ERR_NUMERIC with messages naming the atoms (1-based); bad inputs are
 *     rejected at creation.
 * Negative controls: a loose tolerance fails the 1e-10 check; one sweep does not converge; the displacement is not
 * along the final bond; uncorrected velocities are not orthogonal; a frozen atom given back its mobility moves;
 * a feasible variant of every failing configuration succeeds.
 */
#include "forcefields/gromacs_input.h"
#include "support/constraint_checks.h"

/* ---------------------------------------------------------------------------------------------------------------
 * EC/DMC with constraints = h-bonds: coupled C-H clusters. */

static void test_ecdmc_h_bonds(void **state)
{
    (void)state;
    fs_mdp m;
    fs_mdp_init(&m);
    m.constraints = FS_CONSTRAIN_H_BONDS;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    if (fs_gromacs_load(fs_test_path("benchmarks/inputs/ec-dmc/topol.top"),
                        fs_test_path("benchmarks/inputs/ec-dmc/conf.gro"), &m, NULL, 0, &top, &s) != FS_OK)
        fail_msg("%s", fs_error_message());
    const int n = top->natoms;
    const fs_box *box = &s->box;
    assert_int_equal(top->constraints.n, 100 * 4 + 100 * 6);
    fs_constraints *c = make(top, 1e-10);
    assert_int_equal(fs_constraints_count(c), 1000);

    coords ref = project(c, box, n, s->r);
    assert_true(max_rel_error(top, box, ref.x) <= 1e-10);
    assert_false(max_rel_error(top, box, s->r) <= 1e-4); /* the .gro's 3 decimals: the projection did something */
    {
        /* r_ref may alias r: projecting in place gives the same numbers */
        coords inplace = coords_copy(n, s->r);
        must(fs_constrain_positions(c, box, inplace.x, inplace.x, NULL, DT, NULL));
        assert_true(max_abs_diff(n, inplace.x, ref.x) == 0.0);
        coords_free(&inplace);
    }
    coords unc = coords_new(n), v0 = coords_new(n);
    thermal(top, ref.x, unc.x, v0.x, 21);
    const double drift_err = max_rel_error(top, box, unc.x);

    coords rs = coords_copy(n, unc.x), vs = coords_copy(n, v0.x);
    double xi[3][3] = {{0}};
    must(fs_constrain_positions(c, box, ref.x, rs.x, vs.x, DT, xi));
    const double err = max_rel_error(top, box, rs.x);
    print_message("ec-dmc: drifted max rel error %.3g, after SHAKE %.3g\n", drift_err, err);
    assert_true(drift_err > 1e-3);
    assert_true(err <= 1e-10);
    assert_true(fs_constraints_max_error(c, box, rs.x) <= 1e-10);
    assert_true(max_com_shift(top, rs.x, unc.x) <= 1e-14);
    assert_true(max_velocity_mismatch(n, vs.x, rs.x, ref.x) <= 1e-10);
    double xi_ind[3][3];
    virial_from_changes(top, box, ref.x, rs.x, unc.x, 1.0 / (DT * DT), xi_ind);
    const double vir_rel = tensor_rel_diff(xi, xi_ind);
    print_message("ec-dmc: virial rel diff to the independent sum %.3g\n", vir_rel);
    assert_true(vir_rel <= 1e-10);

    /* every hydrogen (one constraint each) moved along its reference bond; not along its final one */
    double perp_ref = 0.0, perp_new = 0.0;
    for (int k = 0; k < top->constraints.n; ++k) {
        const fs_constraint *k1 = &top->constraints.data[k];
        const int h = top->atoms[k1->ai].name[0] == 'H' ? k1->ai : k1->aj, heavy = h == k1->ai ? k1->aj : k1->ai;
        double sref[3], snew[3], dx[3], cr[3], cn[3];
        diff(box, ref.x, h, heavy, sref);
        diff(box, rs.x, h, heavy, snew);
        for (int x = 0; x < 3; ++x) dx[x] = rs.x[x][h] - unc.x[x][h];
        for (int x = 0; x < 3; ++x) {
            cr[x] = dx[(x + 1) % 3] * sref[(x + 2) % 3] - dx[(x + 2) % 3] * sref[(x + 1) % 3];
            cn[x] = dx[(x + 1) % 3] * snew[(x + 2) % 3] - dx[(x + 2) % 3] * snew[(x + 1) % 3];
        }
        perp_ref = fmax(perp_ref, norm3(cr) / norm3(sref));
        perp_new = fmax(perp_new, norm3(cn) / norm3(snew));
    }
    print_message("ec-dmc: hydrogen displacement off the reference bond %.3g nm (off the final bond %.3g nm)\n",
                  perp_ref, perp_new);
    assert_true(perp_ref <= 1e-13);
    assert_false(perp_new <= 1e-13); /* negative control */

    /* RATTLE */
    coords vr = coords_new(n);
    thermal(top, rs.x, NULL, vr.x, 22);
    coords va = coords_copy(n, vr.x);
    double xiv[3][3] = {{0}};
    must(fs_constrain_velocities(c, box, rs.x, va.x, DT, xiv));
    const double res_before = max_velocity_residual(top, box, rs.x, vr.x);
    const double res_after = max_velocity_residual(top, box, rs.x, va.x);
    print_message("ec-dmc: velocity residual before %.3g, after RATTLE %.3g\n", res_before, res_after);
    assert_true(res_after <= 1e-10);
    assert_false(res_before <= 1e-10); /* negative control */
    assert_true(max_com_shift(top, va.x, vr.x) <= 1e-14);
    virial_from_changes(top, box, rs.x, va.x, vr.x, 1.0 / DT, xi_ind);
    assert_true(tensor_rel_diff(xiv, xi_ind) <= 1e-10);

    /* negative controls: a loose tolerance fails the check; one sweep is not enough and says so */
    {
        fs_constraints *cl = make(top, 1e-6);
        coords r2 = coords_copy(n, unc.x);
        must(fs_constrain_positions(cl, box, ref.x, r2.x, NULL, DT, NULL));
        assert_false(max_rel_error(top, box, r2.x) <= 1e-10);
        must(fs_constraints_set_max_iterations(cl, 1));
        memcpy(r2.x[0], unc.x[0], (size_t)n * sizeof(double));
        memcpy(r2.x[1], unc.x[1], (size_t)n * sizeof(double));
        memcpy(r2.x[2], unc.x[2], (size_t)n * sizeof(double));
        assert_int_equal(fs_constrain_positions(cl, box, ref.x, r2.x, NULL, DT, NULL), FS_ERR_NUMERIC);
        print_message("ec-dmc: with one sweep: %s\n", fs_error_message());
        assert_non_null(strstr(fs_error_message(), "did not converge in 1 iterations"));
        assert_non_null(strstr(fs_error_message(), "between atoms"));
        assert_int_equal(fs_constraints_set_max_iterations(cl, 0), FS_ERR_INVALID);
        coords_free(&r2);
        fs_constraints_destroy(&cl);
    }

    coords *all[] = {&ref, &unc, &v0, &rs, &vs, &vr, &va};
    for (size_t k = 0; k < sizeof all / sizeof *all; ++k) coords_free(all[k]);
    fs_constraints_destroy(&c);
    fs_topology_destroy(&top);
    fs_state_destroy(&s);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Frozen atoms. */

/* A frozen-carbon methyl (atoms 0-3), a frozen pair with a violated constraint (4-5), a water with a frozen oxygen
 * (6-8) and a free water (9-11). freeze = 0 unfreezes the carbon and the oxygen (for the negative control). */
static fs_topology *frozen_system(int freeze, double *r[3])
{
    fs_topology *t = NULL;
    assert_int_equal(fs_topology_create(&t), FS_OK);
    add_atom(t, "C", 12.011, freeze, 0);
    for (int k = 0; k < 3; ++k) add_atom(t, "H", 1.008, 0, 0);
    add_atom(t, "X1", 30.0, 1, 1);
    add_atom(t, "X2", 30.0, 1, 1);
    add_atom(t, "OW", 15.9994, freeze, 2);
    add_atom(t, "HW1", 1.008, 0, 2);
    add_atom(t, "HW2", 1.008, 0, 2);
    add_atom(t, "OW", 15.9994, 0, 3);
    add_atom(t, "HW1", 1.008, 0, 3);
    add_atom(t, "HW2", 1.008, 0, 3);
    add_mol(t, 0, 4);
    add_mol(t, 4, 2);
    add_mol(t, 6, 3);
    add_mol(t, 9, 3);
    for (int k = 1; k <= 3; ++k) push_constraint(t, 0, k, 0.109);
    push_constraint(t, 4, 5, 0.2);
    push_settle(t, 6);
    push_settle(t, 9);
    const double dir[3][3] = {{1, 1, 1}, {1, -1, -1}, {-1, 1, -1}};
    for (int k = 0; k < 3; ++k) r[k][0] = 1.0;
    for (int h = 0; h < 3; ++h)
        for (int k = 0; k < 3; ++k) r[k][1 + h] = 1.0 + 0.109 * dir[h][k] / sqrt(3.0);
    for (int k = 0; k < 3; ++k) {
        r[k][4] = 2.0;
        r[k][5] = 2.0 + (k == 0 ? 0.15 : 0.0);
    }
    place_water(r, 6, 3.0, 1.0, 1.0);
    place_water(r, 9, 1.0, 3.0, 1.0);
    return t;
}

static void test_frozen_atoms(void **state)
{
    (void)state;
    const fs_box box = fs_box_make(5.0, 5.0, 5.0);
    coords ref = coords_new(12);
    fs_topology *top = frozen_system(1, ref.x);
    fs_constraints *c = make(top, 1e-10);
    assert_int_equal(fs_constraints_count(c), 3 + 1 + 3 + 3);
    assert_true(max_rel_error(top, &box, ref.x) <= 1e-12);

    coords unc = coords_new(12), v0 = coords_new(12);
    thermal(top, ref.x, unc.x, v0.x, 31);
    coords rs = coords_copy(12, unc.x), vs = coords_copy(12, v0.x);
    double xi[3][3] = {{0}};
    must(fs_constrain_positions(c, &box, ref.x, rs.x, vs.x, DT, xi));
    const int frozen[] = {0, 4, 5, 6};
    for (size_t f = 0; f < sizeof frozen / sizeof *frozen; ++f) {
        for (int k = 0; k < 3; ++k) {
            assert_true(rs.x[k][frozen[f]] == ref.x[k][frozen[f]]);
            assert_true(vs.x[k][frozen[f]] == 0.0);
        }
    }
    const double err = max_rel_error(top, &box, rs.x);
    print_message("frozen: max rel error after constraining %.3g\n", err);
    assert_true(err <= 1e-10);
    assert_true(fs_constraints_max_error(c, &box, rs.x) <= 1e-10);
    double d[3];
    diff(&box, rs.x, 5, 4, d);
    assert_true(norm3(d) < 0.151); /* the frozen pair is left alone */
    assert_true(max_velocity_mismatch(12, vs.x, rs.x, ref.x) <= 1e-10);

    coords vr = coords_new(12);
    thermal(top, rs.x, NULL, vr.x, 32);
    must(fs_constrain_velocities(c, &box, rs.x, vr.x, DT, NULL));
    assert_true(max_velocity_residual(top, &box, rs.x, vr.x) <= 1e-10);
    for (size_t f = 0; f < sizeof frozen / sizeof *frozen; ++f)
        for (int k = 0; k < 3; ++k) assert_true(vr.x[k][frozen[f]] == 0.0);

    /* negative control: the same system with the carbon and the oxygen mobile; they move */
    {
        coords r2 = coords_new(12);
        fs_topology *mob = frozen_system(0, r2.x);
        fs_constraints *cm = make(mob, 1e-10);
        memcpy(r2.x[0], unc.x[0], 12 * sizeof(double));
        memcpy(r2.x[1], unc.x[1], 12 * sizeof(double));
        memcpy(r2.x[2], unc.x[2], 12 * sizeof(double));
        must(fs_constrain_positions(cm, &box, ref.x, r2.x, NULL, DT, NULL));
        assert_false(r2.x[0][0] == ref.x[0][0] && r2.x[1][0] == ref.x[1][0] && r2.x[2][0] == ref.x[2][0]);
        assert_false(r2.x[0][6] == ref.x[0][6] && r2.x[1][6] == ref.x[1][6] && r2.x[2][6] == ref.x[2][6]);
        coords_free(&r2);
        fs_constraints_destroy(&cm);
        fs_topology_destroy(&mob);
    }

    coords *all[] = {&ref, &unc, &v0, &rs, &vs, &vr};
    for (size_t k = 0; k < sizeof all / sizeof *all; ++k) coords_free(all[k]);
    fs_constraints_destroy(&c);
    fs_topology_destroy(&top);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Failures. */

static void test_shake_failures(void **state)
{
    (void)state;
    const fs_box box = fs_box_make(3.0, 3.0, 3.0);

    /* a bond turned by 100 degrees in one step */
    fs_topology *t = chain(2, 12.0);
    push_constraint(t, 0, 1, 0.1);
    fs_constraints *c = make(t, 1e-10);
    coords ref = coords_new(2), r = coords_new(2);
    ref.x[0][0] = ref.x[0][1] = 1.0;
    ref.x[0][1] += 0.1;
    for (int deg = 100; deg >= 30; deg -= 70) { /* 100: fails; 30: the negative control, succeeds */
        const double a = deg * FS_DEG2RAD;
        for (int k = 0; k < 3; ++k) r.x[k][0] = ref.x[k][0];
        r.x[0][1] = 1.0 + 0.11 * cos(a); /* turned and stretched by 10% */
        r.x[1][1] = 0.11 * sin(a);
        r.x[2][1] = 0.0;
        fs_status st = fs_constrain_positions(c, &box, ref.x, r.x, NULL, DT, NULL);
        if (deg == 100) {
            assert_int_equal(st, FS_ERR_NUMERIC);
            print_message("failure: %s\n", fs_error_message());
            assert_non_null(strstr(fs_error_message(), "constraint 1 between atoms 1 (C1"));
            assert_non_null(strstr(fs_error_message(), "and 2 (C2"));
        } else {
            must(st);
            assert_true(max_rel_error(t, &box, r.x) <= 1e-10);
        }
    }
    fs_constraints_destroy(&c);
    fs_topology_destroy(&t);
    coords_free(&ref);
    coords_free(&r);

    /* a triangle 0.1, 0.1, 0.5 cannot exist; 0.1, 0.1, 0.15 can (negative control) */
    ref = coords_new(3);
    r = coords_new(3);
    for (int variant = 0; variant < 2; ++variant) {
        t = chain(3, 12.0);
        push_constraint(t, 0, 1, 0.1);
        push_constraint(t, 1, 2, 0.1);
        push_constraint(t, 0, 2, variant == 0 ? 0.5 : 0.15);
        c = make(t, 1e-10);
        const double p[3][3] = {{1.0, 1.0, 1.0}, {1.1, 1.0, 1.0}, {1.05, 1.0 + 0.05 * sqrt(3.0), 1.0}};
        for (int i = 0; i < 3; ++i)
            for (int k = 0; k < 3; ++k) ref.x[k][i] = r.x[k][i] = p[i][k];
        fs_status st = fs_constrain_positions(c, &box, ref.x, r.x, NULL, DT, NULL);
        if (variant == 0) {
            assert_int_equal(st, FS_ERR_NUMERIC);
            print_message("failure: %s\n", fs_error_message());
            assert_non_null(strstr(fs_error_message(), "between atoms"));
            assert_non_null(strstr(fs_error_message(), "SHAKE"));
        } else {
            must(st);
            assert_true(max_rel_error(t, &box, r.x) <= 1e-10);
        }
        fs_constraints_destroy(&c);
        fs_topology_destroy(&t);
    }
    coords_free(&ref);
    coords_free(&r);

    /* a water whose hydrogen jumped 0.3 nm cannot be settled; 0.003 nm is fine (negative control) */
    ref = coords_new(3);
    r = coords_new(3);
    for (int variant = 0; variant < 2; ++variant) {
        t = chain(0, 1.0);
        add_atom(t, "OW", 15.9994, 0, 0);
        add_atom(t, "HW1", 1.008, 0, 0);
        add_atom(t, "HW2", 1.008, 0, 0);
        push_settle(t, 0);
        c = make(t, 1e-10);
        place_water(ref.x, 0, 1.0, 1.0, 1.0);
        for (int k = 0; k < 3; ++k) memcpy(r.x[k], ref.x[k], 3 * sizeof(double));
        r.x[2][1] += variant == 0 ? 0.3 : 0.003;
        fs_status st = fs_constrain_positions(c, &box, ref.x, r.x, NULL, DT, NULL);
        if (variant == 0) {
            assert_int_equal(st, FS_ERR_NUMERIC);
            print_message("failure: %s\n", fs_error_message());
            assert_non_null(strstr(fs_error_message(), "water 1 (atoms 1, 2, 3"));
        } else {
            must(st);
            assert_true(max_rel_error(t, &box, r.x) <= 1e-12);
        }
        fs_constraints_destroy(&c);
        fs_topology_destroy(&t);
    }
    coords_free(&ref);
    coords_free(&r);
}

static void test_create_errors(void **state)
{
    (void)state;
    fs_constraints *c = NULL;
    fs_topology *t = chain(4, 12.0);
    push_constraint(t, 0, 1, 0.1);
    assert_int_equal(fs_constraints_create(t, 0.0, &c), FS_ERR_INVALID);
    assert_null(c);
    assert_int_equal(fs_constraints_create(t, 1e-10, &c), FS_OK); /* negative control */
    coords r = coords_new(4);
    assert_int_equal(fs_constrain_positions(c, &(fs_box){{3, 3, 3}, {1, 1, 1}}, r.x, r.x, r.x, 0.0, NULL),
                     FS_ERR_INVALID);
    coords_free(&r);
    fs_constraints_destroy(&c);
    fs_constraints_destroy(&c); /* NULL is fine */
    fs_constraints_destroy(NULL);

    push_constraint(t, 2, 7, 0.1); /* atom out of range */
    assert_int_equal(fs_constraints_create(t, 1e-10, &c), FS_ERR_INVALID);
    t->constraints.n = 1;
    t->atoms[2].mass = 0.0; /* massless mobile atom in a constraint */
    push_constraint(t, 2, 3, 0.1);
    assert_int_equal(fs_constraints_create(t, 1e-10, &c), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "atom 3"));
    t->atoms[2].frozen = 1; /* negative control: a frozen massless atom is fine */
    assert_int_equal(fs_constraints_create(t, 1e-10, &c), FS_OK);
    fs_constraints_destroy(&c);
    fs_topology_destroy(&t);

    t = chain(0, 1.0);
    add_atom(t, "OW", 15.9994, 0, 0);
    add_atom(t, "HW1", 1.008, 0, 0);
    add_atom(t, "HW2", 1.008, 0, 0);
    add_atom(t, "X", 12.0, 0, 0);
    fs_settle w = {0, 1, 2, 0.1, 0.25}; /* dhh > 2 doh */
    assert_int_equal(fs_list_push(&t->settles, w), FS_OK);
    assert_int_equal(fs_constraints_create(t, 1e-10, &c), FS_ERR_INVALID);
    t->settles.data[0].dhh = DHH; /* negative control */
    assert_int_equal(fs_constraints_create(t, 1e-10, &c), FS_OK);
    fs_constraints_destroy(&c);
    push_constraint(t, 2, 3, 0.1); /* a settle atom in another constraint */
    assert_int_equal(fs_constraints_create(t, 1e-10, &c), FS_ERR_UNSUPPORTED);
    assert_null(c);
    fs_topology_destroy(&t);
}

int main(void)
{
    /* one per line */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdmc_h_bonds),
        cmocka_unit_test(test_frozen_atoms),
        cmocka_unit_test(test_shake_failures),
        cmocka_unit_test(test_create_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
