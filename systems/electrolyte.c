/*
 * electrolyte.c — from a composition (salts at molarities in a solvent mixture) to exact molecule counts and a box.
 *
 * Mole fractions of the solvents. With volume ratios v_i (parts of pure liquid mixed before the salt is added) the
 * moles are proportional to v_i rho_i / M_i (rho_i the pure-liquid density, M_i the molar mass from the topology);
 * with molar ratios to v_i. x_i is that, normalized.
 *
 * Solvent counts. For N solvent molecules, N_i follows from N x_i by largest-remainder rounding: floor(N x_i) each,
 * then one more to the species with the largest fractional parts (ties to the earlier one) until the counts add up
 * to N exactly. A solvent that rounds to zero is an error (ask for more molecules).
 *
 * Volume (ideal mixing). The volume of the solution is that of the pure solvents plus, for each salt s, n_s times its
 * molar volume V_s (species.c gives the values and where they come from):
 *     V = sum_i N_i M_i / (rho_i N_A) + sum_s n_s V_s / N_A.
 * Molarity c_s is moles per litre of solution, n_s = c_s N_A V, so V depends on the salt it holds:
 *     V = V_solv / (1 - sum_s c_s V_s)          (c in mol/cm^3 here), i.e. the salt-free volume scaled up.
 * With an explicit system density rho the volume is the mass over rho instead, V = (m_solv + sum_s n_s M_s) / rho,
 * and the same self-consistency gives V = (m_solv / rho) / (1 - sum_s c_s M_s / rho).
 * Either way 1 - sum(...) must stay positive (else no volume holds that much salt: an error).
 *
 * Salt counts. n_s = floor(c_s N_A V + 1/2), the nearest integer, as whole ion pairs: one Li+ and one anion per pair,
 * so the system is neutral by construction (each salt's cation and anion charges must add up to zero; each solvent
 * must be neutral). A salt asked for that rounds to zero pairs is an error. The box volume is then recomputed from the
 * integer counts with the same rule (ideal mixing, or mass over the given density) and the box is the cube of that
 * volume; the molarity actually built, n_s / (N_A V), is reported next to the one asked for.
 *
 * Sizing. "molecules = N" uses N solvent molecules. "atoms = A" takes the N (1, 2, ...) whose total atom count is
 * closest to A (the smaller N on a tie). "box = L" takes the N whose volume is closest to L^3 and then uses the box
 * L exactly, so the density is what the counts give in that box.
 *
 * Units: nm^3 per molecule = (M / rho) [cm^3/mol] / 602.214076; c [mol/L] -> 0.602214076 c molecules per nm^3;
 * density [g/cm^3] = 1.66053906660e-3 mass [amu] / V [nm^3].
 */
#include "electrolyte.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/units.h"

#define NM3_PER_CM3_MOL (1e21 / FS_AVOGADRO)    /* (cm^3/mol) -> nm^3 per molecule: 1 / 602.214076 */
#define PER_NM3_PER_MOLAR (FS_AVOGADRO * 1e-24) /* 1 mol/L -> molecules per nm^3: 0.602214076 */

void fs_electrolyte_spec_defaults(fs_electrolyte_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->ratio = FS_RATIO_VOLUME;
    spec->size = FS_SIZE_MOLECULES;
    spec->tolerance = 0.2;
    spec->charge_scale = 1.0;
    spec->seed = 1;
    spec->max_attempts = 100;
    spec->relax_steps = 100000;
}

void fs_electrolyte_destroy(fs_electrolyte **e)
{
    if (!e || !*e) return;
    for (int i = 0; i < (*e)->nspecies; ++i) fs_species_free(&(*e)->species[i]);
    free((*e)->species);
    free((*e)->count);
    free((*e)->stem);
    free(*e);
    *e = NULL;
}

/* The arithmetic of one solvent count N: fills counts (per species) and returns the volume in nm^3 (0 on error). */
typedef struct {
    int nsolv, nsalt;
    double x[FS_ELYTE_MAX];     /* solvent mole fractions */
    double vmol[FS_ELYTE_MAX];  /* nm^3 per solvent molecule (0 if the density is unknown) */
    double msolv[FS_ELYTE_MAX]; /* amu per solvent molecule */
    double kappa[FS_ELYTE_MAX]; /* salt molecules per nm^3 of solution */
    double vsalt[FS_ELYTE_MAX]; /* nm^3 per ion pair */
    double msalt[FS_ELYTE_MAX]; /* amu per ion pair */
    double rho;                 /* given density g/cm^3, or 0 */
} recipe;

static fs_status recipe_counts(const recipe *rc, int n, int *nsolv_out, int *npair_out, double *volume)
{
    double frac[FS_ELYTE_MAX];
    int total = 0;
    for (int i = 0; i < rc->nsolv; ++i) {
        double q = n * rc->x[i];
        nsolv_out[i] = (int)floor(q);
        frac[i] = q - nsolv_out[i];
        total += nsolv_out[i];
    }
    while (total < n) {
        int best = 0;
        for (int i = 1; i < rc->nsolv; ++i)
            if (frac[i] > frac[best]) best = i;
        nsolv_out[best]++;
        frac[best] = -1.0;
        total++;
    }
    double vs = 0, ms = 0, sum = 0;
    for (int i = 0; i < rc->nsolv; ++i) {
        vs += nsolv_out[i] * rc->vmol[i];
        ms += nsolv_out[i] * rc->msolv[i];
    }
    double v;
    if (rc->rho > 0) {
        for (int s = 0; s < rc->nsalt; ++s) sum += rc->kappa[s] * FS_AMU_PER_NM3_TO_G_PER_CM3 * rc->msalt[s] / rc->rho;
        v = FS_AMU_PER_NM3_TO_G_PER_CM3 * ms / rc->rho;
    } else {
        for (int s = 0; s < rc->nsalt; ++s) sum += rc->kappa[s] * rc->vsalt[s];
        v = vs;
    }
    if (!(sum < 1.0))
        return fs_fail(FS_ERR_INVALID, "the molarities are too high: the salts alone would fill more than the "
                                       "whole volume of the solution");
    v /= 1.0 - sum;
    double mtot = ms, vtot = vs;
    for (int s = 0; s < rc->nsalt; ++s) {
        npair_out[s] = (int)floor(rc->kappa[s] * v + 0.5);
        mtot += npair_out[s] * rc->msalt[s];
        vtot += npair_out[s] * rc->vsalt[s];
    }
    *volume = rc->rho > 0 ? FS_AMU_PER_NM3_TO_G_PER_CM3 * mtot / rc->rho : vtot;
    return FS_OK;
}

static fs_status load_species(fs_electrolyte *e, const char *ffdir, const char *ff_itp, const char *stem,
                              const fs_solvent_spec *user)
{
    char itp[FS_SPECIES_PATH + 64], gro[FS_SPECIES_PATH + 64];
    if (user && user->itp[0]) {
        snprintf(itp, sizeof itp, "%s", user->itp);
        snprintf(gro, sizeof gro, "%s", user->gro);
    } else {
        snprintf(itp, sizeof itp, "%s/%s.itp", ffdir, stem);
        snprintf(gro, sizeof gro, "%s/%s.gro", ffdir, stem);
    }
    int k = e->nspecies;
    fs_status st = fs_species_load(ff_itp, itp, gro, &e->species[k]);
    if (st != FS_OK) return st;
    e->species[k].shipped = !(user && user->itp[0]);
    e->stem[k] = e->species[k].shipped ? stem : NULL;
    e->nspecies++;
    return FS_OK;
}

static void make_title(fs_electrolyte *e)
{
    const fs_electrolyte_spec *sp = &e->spec;
    char *t = e->title;
    size_t cap = sizeof e->title, n = 0;
#define ADD(...) (n += (size_t)snprintf(t + n, n < cap ? cap - n : 0, __VA_ARGS__))
    ADD("ferrosolv build:");
    for (int s = 0; s < sp->nsalts; ++s) ADD("%s %g M %s", s ? " +" : "", sp->salt[s].molarity, sp->salt[s].name);
    ADD("%s", sp->nsalts ? " in " : " ");
    for (int i = 0; i < sp->nsolvents; ++i) ADD("%s%s", i ? ":" : "", sp->solvent[i].name);
    if (sp->nsolvents > 1) {
        ADD(" ");
        for (int i = 0; i < sp->nsolvents; ++i) ADD("%s%g", i ? ":" : "", sp->solvent[i].ratio);
        ADD(" (%s)", sp->ratio == FS_RATIO_VOLUME ? "v/v" : "mol/mol");
    }
    ADD(", seed %llu", (unsigned long long)sp->seed);
#undef ADD
}

fs_status fs_electrolyte_plan(const fs_electrolyte_spec *spec, fs_electrolyte **out)
{
    *out = NULL;
    if (spec->nsolvents < 1 || spec->nsolvents > FS_ELYTE_MAX || spec->nsalts < 0 || spec->nsalts > FS_ELYTE_MAX)
        return fs_fail(FS_ERR_INVALID, "a composition needs 1 to %d solvents and 0 to %d salts", FS_ELYTE_MAX,
                       FS_ELYTE_MAX);
    if (!(spec->size_value > 0) || (spec->size != FS_SIZE_BOX && spec->size_value > 1e8))
        return fs_fail(FS_ERR_INVALID, "the system size must be positive (and at most 1e8 molecules or atoms)");
    if (!(spec->tolerance > 0) || !(spec->density >= 0) || !(spec->charge_scale > 0) || spec->max_attempts < 1 ||
        spec->relax_steps < 0)
        return fs_fail(FS_ERR_INVALID, "tolerance and charge scale must be positive, density >= 0");
    fs_electrolyte *e = calloc(1, sizeof *e);
    int cap = 1 + spec->nsalts + spec->nsolvents;
    if (e) {
        e->species = calloc((size_t)cap, sizeof(fs_species));
        e->count = calloc((size_t)cap, sizeof(int));
        e->stem = calloc((size_t)cap, sizeof(char *));
    }
    if (!e || !e->species || !e->count || !e->stem) {
        fs_electrolyte_destroy(&e);
        return fs_fail(FS_ERR_NOMEM, "out of memory");
    }
    e->spec = *spec;
    const char *ffdir = spec->forcefield_dir[0] ? spec->forcefield_dir : fs_forcefield_dir();
    snprintf(e->spec.forcefield_dir, sizeof e->spec.forcefield_dir, "%s", ffdir);
    char ff_itp[FS_SPECIES_PATH + 32];
    snprintf(ff_itp, sizeof ff_itp, "%s/forcefield.itp", ffdir);

    recipe rc;
    memset(&rc, 0, sizeof rc);
    rc.nsolv = spec->nsolvents;
    rc.nsalt = spec->nsalts;
    rc.rho = spec->density;
    fs_status st = FS_OK;
    char known[256];
    int first_anion = 1;
    /* salts: one Li+ species shared by all, then one anion species per salt */
    for (int s = 0; s < spec->nsalts && st == FS_OK; ++s) {
        const fs_salt_info *info = fs_salt_find(spec->salt[s].name);
        if (!info) {
            fs_salt_names(known, sizeof known);
            st = fs_fail(FS_ERR_INVALID, "unknown salt '%s' (known: %s)", spec->salt[s].name, known);
            break;
        }
        if (!(spec->salt[s].molarity > 0) || !(spec->salt[s].molar_volume >= 0)) {
            st = fs_fail(FS_ERR_INVALID, "salt %s: molarity must be positive (got %g mol/L)", info->name,
                         spec->salt[s].molarity);
            break;
        }
        for (int t = 0; t < s; ++t)
            if (fs_salt_find(spec->salt[t].name) == info)
                st = fs_fail(FS_ERR_INVALID, "salt %s is listed twice", info->name);
        if (st == FS_OK && s == 0) st = load_species(e, ffdir, ff_itp, info->cation, NULL);
        if (st == FS_OK) st = load_species(e, ffdir, ff_itp, info->anion, NULL);
        if (st != FS_OK) break;
        double qpair = e->species[0].charge + e->species[first_anion + s].charge;
        if (fabs(qpair) > 1e-6 || fabs(e->species[0].charge) < 1e-6) {
            st = fs_fail(FS_ERR_INVALID, "salt %s: cation charge %g and anion charge %g do not make a neutral pair",
                         info->name, e->species[0].charge, e->species[first_anion + s].charge);
            break;
        }
        rc.kappa[s] = spec->salt[s].molarity * PER_NM3_PER_MOLAR;
        rc.vsalt[s] =
            (spec->salt[s].molar_volume > 0 ? spec->salt[s].molar_volume : info->molar_volume) * NM3_PER_CM3_MOL;
        rc.msalt[s] = e->species[0].mass + e->species[first_anion + s].mass;
    }
    int first_solvent = e->nspecies;
    double wsum = 0;
    for (int i = 0; i < spec->nsolvents && st == FS_OK; ++i) {
        const fs_solvent_spec *sv = &spec->solvent[i];
        const fs_solvent_info *info = sv->itp[0] ? NULL : fs_solvent_find(sv->name);
        if (!sv->itp[0] && !info) {
            fs_solvent_names(known, sizeof known);
            st = fs_fail(FS_ERR_INVALID,
                         "unknown solvent '%s' (known: %s; any other molecule needs a [molecule %s] "
                         "section with its itp, gro and density)",
                         sv->name, known, sv->name);
            break;
        }
        if (!(sv->ratio > 0)) {
            st = fs_fail(FS_ERR_INVALID, "solvent %s: ratio must be positive (got %g)", sv->name, sv->ratio);
            break;
        }
        for (int t = 0; t < i; ++t)
            if (!strcasecmp(spec->solvent[t].name, sv->name))
                st = fs_fail(FS_ERR_INVALID, "solvent %s is listed twice", sv->name);
        if (st == FS_OK) st = load_species(e, ffdir, ff_itp, info ? info->stem : NULL, sv);
        if (st != FS_OK) break;
        const fs_species *sp = &e->species[first_solvent + i];
        if (fabs(sp->charge) > 1e-6) {
            st = fs_fail(FS_ERR_INVALID, "solvent %s (%s) has net charge %g; solvents must be neutral", sv->name,
                         sp->itp, sp->charge);
            break;
        }
        double rho = info ? info->density : sv->density;
        if (!(rho > 0) && (spec->ratio == FS_RATIO_VOLUME || spec->density == 0)) {
            st = fs_fail(FS_ERR_INVALID, "solvent %s: its pure-liquid density is needed (for %s) but not given",
                         sv->name, spec->ratio == FS_RATIO_VOLUME ? "volume ratios" : "the density estimate");
            break;
        }
        rc.vmol[i] = rho > 0 ? sp->mass / rho * NM3_PER_CM3_MOL : 0.0;
        rc.msolv[i] = sp->mass;
        rc.x[i] = spec->ratio == FS_RATIO_VOLUME ? sv->ratio * rho / sp->mass : sv->ratio;
        wsum += rc.x[i];
    }
    for (int i = 0; i < rc.nsolv && st == FS_OK; ++i) rc.x[i] /= wsum;

    /* the number of solvent molecules */
    int nsolv[FS_ELYTE_MAX], npair[FS_ELYTE_MAX], n = 0;
    double volume = 0;
    if (st == FS_OK) {
        if (spec->size == FS_SIZE_MOLECULES) {
            n = (int)floor(spec->size_value + 0.5);
        } else {
            double best = INFINITY, target = spec->size == FS_SIZE_BOX ? pow(spec->size_value, 3) : spec->size_value;
            for (int k = 1; st == FS_OK && k <= 100000000; ++k) {
                double v, q;
                st = recipe_counts(&rc, k, nsolv, npair, &v);
                if (st != FS_OK) break;
                if (spec->size == FS_SIZE_BOX) {
                    q = v;
                } else {
                    q = 0;
                    for (int i = 0; i < rc.nsolv; ++i) q += nsolv[i] * e->species[first_solvent + i].natoms;
                    for (int s = 0; s < rc.nsalt; ++s)
                        q += npair[s] * (e->species[0].natoms + e->species[first_anion + s].natoms);
                }
                if (fabs(q - target) < best) best = fabs(q - target), n = k;
                if (q > target) break;
            }
        }
        if (st == FS_OK && n < 1) st = fs_fail(FS_ERR_INVALID, "the system would hold no solvent molecule");
    }
    if (st == FS_OK) st = recipe_counts(&rc, n, nsolv, npair, &volume);
    for (int i = 0; i < rc.nsolv && st == FS_OK; ++i)
        if (nsolv[i] < 1)
            st = fs_fail(FS_ERR_INVALID, "solvent %s rounds to no molecule among %d: make the system bigger",
                         spec->solvent[i].name, n);
    for (int s = 0; s < rc.nsalt && st == FS_OK; ++s)
        if (npair[s] < 1)
            st = fs_fail(FS_ERR_INVALID, "%g M %s rounds to no ion pair in %.3g nm^3: make the system bigger",
                         spec->salt[s].molarity, spec->salt[s].name, volume);
    if (st != FS_OK) {
        fs_electrolyte_destroy(&e);
        return st;
    }
    if (spec->size == FS_SIZE_BOX) volume = pow(spec->size_value, 3);
    for (int s = 0; s < rc.nsalt; ++s) {
        e->count[0] += npair[s];
        e->count[first_anion + s] = npair[s];
        e->npairs[s] = npair[s];
        e->molarity[s] = npair[s] / (volume * PER_NM3_PER_MOLAR);
    }
    for (int i = 0; i < rc.nsolv; ++i) e->count[first_solvent + i] = nsolv[i];
    for (int k = 0; k < e->nspecies; ++k) {
        e->nmolecules += e->count[k];
        e->natoms += e->count[k] * e->species[k].natoms;
        e->mass += e->count[k] * e->species[k].mass;
        e->charge += e->count[k] * e->species[k].charge;
    }
    e->box = cbrt(volume);
    e->density = FS_AMU_PER_NM3_TO_G_PER_CM3 * e->mass / volume;
    make_title(e);
    *out = e;
    return FS_OK;
}

fs_status fs_electrolyte_pack(const fs_electrolyte *e, fs_state **out, fs_pack_report *rep)
{
    *out = NULL;
    fs_pack_template *t = malloc(sizeof *t * (size_t)e->nspecies);
    int *tmpl_of = malloc(sizeof(int) * (size_t)(e->nmolecules > 0 ? e->nmolecules : 1));
    fs_state *s = NULL;
    fs_status st =
        (!t || !tmpl_of) ? fs_fail(FS_ERR_NOMEM, "out of memory") : fs_state_create(e->natoms, e->natoms, &s);
    if (st == FS_OK) {
        int m = 0;
        for (int k = 0; k < e->nspecies; ++k) {
            t[k].natoms = e->species[k].natoms;
            t[k].x = e->species[k].x;
            for (int c = 0; c < e->count[k]; ++c) tmpl_of[m++] = k;
        }
        s->box = fs_box_make(e->box, e->box, e->box);
        fs_pack_options opt = {.box = {e->box, e->box, e->box},
                               .tolerance = e->spec.tolerance,
                               .seed = e->spec.seed,
                               .max_attempts = e->spec.max_attempts,
                               .relax_steps = e->spec.relax_steps,
                               .grid = 1e-3};
        st = fs_pack(t, e->nspecies, tmpl_of, e->nmolecules, &opt, s->r, rep);
        if (st != FS_OK) st = fs_fail_context(st, "packing at %.4g g/cm^3 in a %.4g nm box", e->density, e->box);
    }
    free(t);
    free(tmpl_of);
    if (st != FS_OK) fs_state_destroy(&s);
    *out = s;
    return st;
}
