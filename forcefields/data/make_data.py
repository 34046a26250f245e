#!/usr/bin/env python3
"""make_data.py: writes the shipped force-field library of ferrosolv (forcefields/data/*.itp) and the starting
geometries of its molecules (<mol>_start.gro, which make_gro.sh minimizes into <mol>.gro).

Pure Python 3, standard library only. Run from anywhere; the files are written next to this script:
    python3 make_data.py && sh make_gro.sh

Every number written to an .itp file is taken from a published parameter set; the .itp files repeat the source on
every line. The sets (see README.md for the full references):

  forcefield.itp  [defaults] 1 3 yes 0.5 0.5 (OPLS-AA and CL&P both: geometric mixing, 1-4 scaled by 1/2) and the
                  [atomtypes] of every molecule below.
  li.itp          Li+: J. Aqvist, J. Phys. Chem. 94, 8021 (1990), as GROMACS's oplsaa.ff opls_406 and CL&P il.ff
                  "lithium cation Aqvist" (sigma 2.126 A, epsilon 0.07648 kJ/mol).
  pf6.itp         PF6-: CL&P il.ff (github.com/agiliopadua/clandp, commit 9c7ac34, il.ff version 2021/05/14)
                  "hexafluorophosphate JCSPerkin2 (1999) 2365" (Kaminski & Jorgensen, J. Chem. Soc. Perkin Trans. 2,
                  2365 (1999)).
  tfsi.itp        TFSI- (bistriflamide, NTf2-): CL&P il.ff 2021/05/14, "bistriflamide JPCB 108 (2004) 16893, PCCP 43
                  (2017) 29617": J. N. Canongia Lopes, A. A. H. Padua, J. Phys. Chem. B 108, 16893 (2004), with the
                  O and F Lennard-Jones parameters as revised in the 2017 PCCP paper il.ff cites.
  fsi.itp         FSI- (bis(fluorosulfonyl)amide): CL&P il.ff 2021/05/14, "bis(fluorosulfonyl)amide PCCP 43 (2017)
                  29617"; S, N, O types shared with TFSI-.
  no3.itp         NO3-: CL&P old.il.ff (same repository, version 2013/10/08) "nitrate JPCB108:2038(2004)"
                  (J. N. Canongia Lopes, J. Deschamps, A. A. H. Padua, J. Phys. Chem. B 108, 2038 (2004)); plus one
                  periodic improper from oplsaa.ff (improper_X_NO_ON_NO) to hold the ion planar (CL&P has none).
  ec.itp, dmc.itp the OPLS-AA parameters of benchmarks/inputs/ec-dmc (its make_molecules.py is imported here, so
                  the numbers and their sources are those of that file).
  dme.itp         1,2-dimethoxyethane, OPLS-AA ethers from GROMACS 2022's oplsaa.ff: opls_180 (O dialkyl ether),
                  opls_181 (C(H3OR) methyl ether), opls_182 (C(H2OR) ethyl ether), opls_185 (H(COR) alpha H ether);
                  Jorgensen, Maxwell, Tirado-Rives, J. Am. Chem. Soc. 118, 11225 (1996); bonded terms from
                  oplsaa.ff ffbonded.itp as cited per line.
  fec.itp         4-fluoro-1,3-dioxolan-2-one (fluoroethylene carbonate): the LigParGen (OPLS-AA/CM1A) output for FEC
                  stored as tests/data/FEC.key in github.com/molssi-seamm/forcefield_step (commit 04b233ac); LigParGen:
                  L. S. Dodda, I. Cabeza de Vaca, J. Tirado-Rives, W. L. Jorgensen, Nucleic Acids Res. 45, W331 (2017).

Unit conversions (stated once, applied in code below): CL&P il.ff gives bonds and angles as k/2 (x - x0)^2 in
kJ/mol/A^2 and kJ/mol/rad^2 (kb[GROMACS] = 100 k), distances in A (/10), and dihedrals in the OPLS Fourier form
E = V1/2 (1 + cos phi) + V2/2 (1 - cos 2phi) + V3/2 (1 + cos 3phi) + V4/2 (1 - cos 4phi) in kJ/mol. The LigParGen
TINKER .key gives E = k (x - x0)^2 in kcal/mol (kb = 2 * 4.184 * 100 k, ktheta = 2 * 4.184 k), sigma in A and
epsilon in kcal/mol, and torsion amplitudes A_n = V_n / 2 in kcal/mol (E = sum A_n (1 + cos(n phi - delta_n))).
OPLS Fourier to Ryckaert-Bellemans (GROMACS manual, "Proper dihedrals: Fourier function"):
C0 = V2 + (V1 + V3)/2, C1 = (-V1 + 3 V3)/2, C2 = -V2 + 4 V4, C3 = -2 V3, C4 = -4 V4, C5 = 0.
"""
import importlib.util
import math
import os
import sys

sys.dont_write_bytecode = True  # importing make_molecules.py below must not leave a __pycache__ in the tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KCAL = 4.184

spec = importlib.util.spec_from_file_location("ecdmc", os.path.join(ROOT, "benchmarks/inputs/ec-dmc/make_molecules.py"))
ecdmc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ecdmc)
place, sub, add, scale, unit, norm, cross = (ecdmc.place, ecdmc.sub, ecdmc.add, ecdmc.scale, ecdmc.unit, ecdmc.norm,
                                             ecdmc.cross)

CLANDP = "il.ff"  # short names used in the per-line comments; README.md and the header of each file expand them
OLDCLANDP = "old.il.ff"
LPG = "FEC.key"
OPLS = "oplsaa.ff"


def rb_from_fourier(v1, v2, v3, v4):
    return (v2 + (v1 + v3) / 2.0, (-v1 + 3.0 * v3) / 2.0, -v2 + 4.0 * v4, -2.0 * v3, -4.0 * v4, 0.0)


# ---------------------------------------------------------------------------------------------------------------
# Atom types: name -> (atomic number, mass, sigma nm, epsilon kJ/mol, source)
# ---------------------------------------------------------------------------------------------------------------
ATOMTYPES = {}


def atomtype(name, z, mass, sigma, eps, src):
    ATOMTYPES[name] = (z, mass, sigma, eps, src)


# OPLS-AA types of EC and DMC: exactly as benchmarks/inputs/ec-dmc/topol.top (oplsaa.ff ffnonbonded.itp).
for name, z, m, s, e, c in (
        ("opls_771", 8, 15.99940, 2.96000e-01, 8.78640e-01, "propylene carbonate O (Luciennes param.)"),
        ("opls_772", 6, 12.01100, 3.75000e-01, 4.39320e-01, "propylene carbonate C=O"),
        ("opls_773", 8, 15.99940, 3.00000e-01, 7.11280e-01, "propylene carbonate OS"),
        ("opls_774", 6, 12.01100, 3.50000e-01, 2.76144e-01, "propylene carbonate C in CH2"),
        ("opls_777", 1, 1.00800, 2.42000e-01, 6.27600e-02, "propylene carbonate H in CH2"),
        ("opls_465", 6, 12.01100, 3.75000e-01, 4.39320e-01, "AA C: esters"),
        ("opls_466", 8, 15.99940, 2.96000e-01, 8.78640e-01, "AA =O: esters"),
        ("opls_467", 8, 15.99940, 3.00000e-01, 7.11280e-01, "AA -OR: ester"),
        ("opls_468", 6, 12.01100, 3.50000e-01, 2.76144e-01, "methoxy C in esters"),
        ("opls_469", 1, 1.00800, 2.42000e-01, 6.27600e-02, "methoxy Hs in esters"),
        ("opls_180", 8, 15.99940, 2.90000e-01, 5.85760e-01, "O: dialkyl ether"),
        ("opls_181", 6, 12.01100, 3.50000e-01, 2.76144e-01, "C(H3OR): methyl ether"),
        ("opls_182", 6, 12.01100, 3.50000e-01, 2.76144e-01, "C(H2OR): ethyl ether"),
        ("opls_185", 1, 1.00800, 2.50000e-01, 1.25520e-01, "H(COR): alpha H ether"),
        ("opls_406", 3, 6.94100, 2.12645e-01, 7.64793e-02, "Li+ (Aqvist 1990; = CL&P il.ff 'Li' 2.126 A, 0.07648)")):
    atomtype(name, z, m, s, e, "oplsaa.ff ffnonbonded.itp %s: %s" % (name, c))

# CL&P types (il.ff 2021/05/14 unless noted): sigma in A / 10, epsilon kJ/mol as given.
atomtype("clp_P", 15, 30.974, 0.374, 0.83680, 'il.ff "P P 30.974 1.34 lj 3.74 0.83680" hexafluorophosphate')
atomtype("clp_FP", 9, 18.998, 0.312, 0.25520, 'il.ff "FP F 18.998 -0.39 lj 3.12 0.25520" hexafluorophosphate')
atomtype("clp_CBT", 6, 12.011, 0.350, 0.27614, 'il.ff "CBT CF 12.011 0.35 lj 3.50 0.27614" bistriflamide')
atomtype("clp_SBT", 16, 32.066, 0.355, 1.04600, 'il.ff "SBT SB 32.066 1.02 lj 3.55 1.04600" bistriflamide')
atomtype("clp_NBT", 7, 14.000, 0.325, 0.71128, 'il.ff "NBT NB 14.000 -0.66 lj 3.25 0.71128" bistriflamide')
atomtype("clp_OBT", 8, 15.999, 0.315, 0.83736, 'il.ff "OBT OB 15.999 -0.53 lj 3.15 0.83736" bistriflamide')
atomtype("clp_F1", 9, 18.998, 0.3118, 0.25540, 'il.ff "F1 FB 18.998 -0.16 lj 3.118 0.25540" bistriflamide')
atomtype("clp_FSI", 9, 18.998, 0.3118, 0.25540, 'il.ff "FSI FB 18.998 -0.13 lj 3.118 0.25540" fluorosulfonylamide')
atomtype("clp_NN", 7, 14.007, 0.306, 0.33800, 'old.il.ff "NN 14.007 0.95 lj 3.06 0.3380" nitrate')
atomtype("clp_ON", 8, 15.999, 0.277, 0.61000, 'old.il.ff "ON 15.999 -0.65 lj 2.77 0.6100" nitrate')

# LigParGen FEC types (FEC.key "vdw" lines: sigma A, epsilon kcal/mol; "atom" lines: mass).
FEC_VDW = {800: (8, 15.999, 2.96, 0.21), 801: (6, 12.011, 3.55, 0.07), 802: (8, 15.999, 2.90, 0.14),
           803: (6, 12.011, 3.50, 0.066), 804: (6, 12.011, 3.50, 0.066), 805: (1, 1.008, 2.50, 0.03),
           806: (9, 18.998, 2.90, 0.06), 807: (8, 15.999, 2.90, 0.14), 808: (1, 1.008, 2.50, 0.03),
           809: (1, 1.008, 2.50, 0.03)}
for t, (z, m, s, e) in FEC_VDW.items():
    atomtype("fec_%d" % t, z, m, s / 10.0, e * KCAL, 'FEC.key "vdw %d %.4f %.4f" (A, kcal/mol)' % (t, s, e))


# ---------------------------------------------------------------------------------------------------------------
# Generic .itp writer: atoms (name, type, bonded type, charge, mass), bonds; angles, proper dihedrals and 1-4 pairs
# derived from the bond graph (ecdmc.derive) and looked up by bonded type in the molecule's tables.
# ---------------------------------------------------------------------------------------------------------------
def lookup(table, key, what):
    if key in table:
        return table[key]
    if tuple(reversed(key)) in table:
        return table[tuple(reversed(key))]
    raise KeyError("%s: no parameters for %s" % (what, key))


def write_itp(stem, mol, header, atoms, bonds, bt_bonds, bt_angles, bt_dihs, impropers=(), skip_angle=None,
              extra_notes=()):
    n = len(atoms)
    angles, dihs, pairs, nb = ecdmc.derive(n, bonds)
    bt = {i + 1: atoms[i][2] for i in range(n)}
    nm = {i + 1: atoms[i][0] for i in range(n)}
    q = sum(a[3] for a in atoms)
    assert abs(q - round(q)) < 1e-9, (mol, q)
    out = [header.rstrip("\n") + "\n"]
    out.append("[ moleculetype ]\n; name  nrexcl\n%s     3\n" % mol)
    out.append("[ atoms ]\n;  nr  type       resnr  res   atom  cgnr  charge     mass      ; bonded type, source")
    for i, (name, typ, btype, charge, mass, src) in enumerate(atoms, 1):
        out.append("%5d  %-10s  1      %-5s %-5s %4d  %9.6f  %8.4f  ; %s, %s" % (i, typ, mol, name, i, charge, mass,
                                                                              btype, src))
    out.append("; total charge %+.6f\n" % q)
    if bonds:
        out.append("[ bonds ]\n;  ai   aj  funct  b0 (nm)   kb (kJ/mol/nm^2)  ; source")
        for i, j in bonds:
            b0, kb, src = lookup(bt_bonds, (bt[i], bt[j]), mol)
            out.append("%5d %5d  1  %8.5f  %10.1f  ; %s-%s %s" % (i, j, b0, kb, nm[i], nm[j], src))
    kept = [a for a in angles if not (skip_angle and skip_angle(a))]
    if kept:
        out.append("\n[ angles ]\n;  ai   aj   ak  funct  theta0 (deg)  k (kJ/mol/rad^2)  ; source")
        for i, j, k in kept:
            th, kk, src = lookup(bt_angles, (bt[i], bt[j], bt[k]), mol)
            out.append("%5d %5d %5d  1  %8.3f  %9.3f  ; %s-%s-%s %s" % (i, j, k, th, kk, nm[i], nm[j], nm[k], src))
    for note in extra_notes:
        out.append("; " + note)
    if dihs:
        out.append("\n[ dihedrals ]\n; proper: Ryckaert-Bellemans (funct 3), C0..C5 in kJ/mol, converted from the OPLS "
                   "Fourier V1..V4 of the source\n;  ai   aj   ak   al  funct  C0 C1 C2 C3 C4 C5  ; source")
        for i, j, k, l in dihs:
            c, src = lookup(bt_dihs, (bt[i], bt[j], bt[k], bt[l]), mol)
            out.append("%5d %5d %5d %5d  3  %s  ; %s-%s-%s-%s %s" % (i, j, k, l, "  ".join("%9.5f" % (v + 0.0) for v in c),
                                                                nm[i], nm[j], nm[k], nm[l], src))
    if impropers:
        out.append("\n[ dihedrals ]\n; improper: periodic (funct 4), phi0 (deg), k (kJ/mol), multiplicity")
        for (i, j, k, l), (phi0, kk, mult, src) in impropers:
            out.append("%5d %5d %5d %5d  4  %7.2f  %8.4f  %d  ; %s-%s-%s-%s %s" % (i, j, k, l, phi0, kk, mult, nm[i],
                                                                               nm[j], nm[k], nm[l], src))
    if pairs:
        out.append("\n[ pairs ]\n; every 1-4 pair (three bonds apart and not closer), LJ and Coulomb scaled by "
                   "[defaults] fudgeLJ/fudgeQQ = 0.5\n;  ai   aj  funct")
        for i, j in pairs:
            out.append("%5d %5d  1  ; %s-%s" % (i, j, nm[i], nm[j]))
    with open(os.path.join(HERE, stem + ".itp"), "w") as f:
        f.write("\n".join(out) + "\n")
    for t in set(a[1] for a in atoms):
        assert t in ATOMTYPES, t


def write_gro(stem, mol, atoms, x, title):
    c = [sum(p[d] for p in x) / len(x) for d in range(3)]
    with open(os.path.join(HERE, stem + "_start.gro"), "w") as f:
        f.write("%s\n%5d\n" % (title, len(atoms)))
        for i, (a, p) in enumerate(zip(atoms, x), 1):
            f.write("%5d%-5s%5s%5d%10.5f%10.5f%10.5f\n" % (1, mol, a[0], i, p[0] - c[0] + 2.5, p[1] - c[1] + 2.5,
                                                          p[2] - c[2] + 2.5))
        f.write("   5.00000   5.00000   5.00000\n")


def zmatrix(rows):
    """rows: (ref_bond, r nm, ref_angle, theta deg, ref_dih, phi deg) with 1-based references, NeRF placement."""
    x = []
    for k, row in enumerate(rows):
        if k == 0:
            x.append([0.0, 0.0, 0.0])
        elif k == 1:
            x.append([row[1], 0.0, 0.0])
        elif k == 2:
            a, b = x[row[0] - 1], x[row[2] - 1]
            th = math.radians(row[3])
            u = unit(sub(b, a))
            v = [-u[1], u[0], 0.0] if abs(u[2]) < 0.9 else [0.0, -u[2], u[1]]
            v = unit(v)
            x.append(add(a, add(scale(u, row[1] * math.cos(th)), scale(v, row[1] * math.sin(th)))))
        else:
            x.append(place(x[row[4] - 1], x[row[2] - 1], x[row[0] - 1], row[1], row[3], row[5]))
    return x


def header(stem, lines):
    return "; %s.itp: %s\n" % (stem, lines[0]) + "".join("; %s\n" % s for s in lines[1:]) + \
        "; Generated by forcefields/data/make_data.py (do not edit; rerun it). Sources in README.md.\n"


# ---------------------------------------------------------------------------------------------------------------
# Li+
# ---------------------------------------------------------------------------------------------------------------
def li():
    atoms = [("LI", "opls_406", "Li", 1.0, 6.941, "charge +1; mass oplsaa.ff opls_406")]
    write_itp("li", "LI", header("li", ["lithium cation Li+.", "Lennard-Jones: J. Aqvist, J. Phys. Chem. 94, 8021 "
                                        "(1990), as oplsaa.ff opls_406 and CL&P il.ff 'Li'."]),
              atoms, [], {}, {}, {})
    write_gro("li", "LI", atoms, [[0.0, 0.0, 0.0]], "Li+ (make_data.py)")


# ---------------------------------------------------------------------------------------------------------------
# CL&P anions
# ---------------------------------------------------------------------------------------------------------------
CLP_BONDS = {
    ("P", "F"): (0.1606, 310000.0, 'il.ff "P F harm 1.606 3100.0" hexafluorophosphate'),
    ("FB", "CF"): (0.1323, 369800.0, 'il.ff "FB CF harm 1.323 3698.0" bistriflamide'),
    ("CF", "SB"): (0.1818, 195000.0, 'il.ff "CF SB harm 1.818 1950.0" bistriflamide'),
    ("SB", "OB"): (0.1437, 533100.0, 'il.ff "SB OB harm 1.437 5331.0" bistriflamide'),
    ("NB", "SB"): (0.1570, 313700.0, 'il.ff "NB SB harm 1.570 3137.0" bistriflamide'),
    ("FB", "SB"): (0.1575, 187900.0, 'il.ff "FB SB harm 1.575 1879.0" bis(fluorosulfonyl)amide'),
    ("NN", "ON"): (0.1226, 530700.0, 'old.il.ff "NN ON harm 1.226 5307" nitrate'),
}
CLP_ANGLES = {
    ("F", "P", "F"): (90.0, 1165.0, 'il.ff "F P F harm 90.0 1165.0" hexafluorophosphate'),
    ("FB", "CF", "FB"): (107.1, 781.0, 'il.ff "FB CF FB harm 107.1 781.0" bistriflamide'),
    ("FB", "CF", "SB"): (111.7, 694.0, 'il.ff "FB CF SB harm 111.7 694.0" bistriflamide'),
    ("OB", "SB", "OB"): (118.5, 969.0, 'il.ff "OB SB OB harm 118.5 969.0" bistriflamide'),
    ("CF", "SB", "OB"): (102.6, 870.0, 'il.ff "CF SB OB harm 102.6 870.0" bistriflamide'),
    ("NB", "SB", "OB"): (113.6, 789.0, 'il.ff "NB SB OB harm 113.6 789.0" bistriflamide'),
    ("NB", "SB", "CF"): (103.5, 764.0, 'il.ff "NB SB CF harm 103.5 764.0" bistriflamide'),
    ("SB", "NB", "SB"): (125.6, 671.0, 'il.ff "SB NB SB harm 125.6 671.0" bistriflamide'),
    ("FB", "SB", "OB"): (104.1, 1077.0, 'il.ff "FB SB OB harm 104.1 1077.0" bis(fluorosulfonyl)amide'),
    ("FB", "SB", "NB"): (103.0, 902.0, 'il.ff "FB SB NB harm 103.0 902.0" bis(fluorosulfonyl)amide'),
    ("ON", "NN", "ON"): (120.0, 1011.0, 'old.il.ff "ON NN ON harm 120.0 1011" nitrate'),
}


def clp_dih(v, src):
    return (rb_from_fourier(*v), 'il.ff "%s opls %s" %s' % (src[0], " ".join("%.4f" % t for t in v), src[1]))


CLP_DIHS = {
    ("OB", "SB", "CF", "FB"): clp_dih((0.0, 0.0, 1.4510, 0.0), ("OB SB CF FB", "bistriflamide")),
    ("NB", "SB", "CF", "FB"): clp_dih((0.0, 0.0, 1.3220, 0.0), ("NB SB CF FB", "bistriflamide")),
    ("OB", "SB", "NB", "SB"): clp_dih((0.0, 0.0, -0.0150, 0.0), ("OB SB NB SB", "bistriflamide")),
    ("SB", "NB", "SB", "CF"): clp_dih((32.7730, -10.4200, -3.1950, 0.0), ("SB NB SB CF", "bistriflamide")),
    ("FB", "SB", "NB", "SB"): clp_dih((11.4450, -15.1860, -3.2120, 0.0), ("FB SB NB SB", "bis(fluorosulfonyl)amide")),
}


def pf6():
    atoms = [("P", "clp_P", "P", 1.34, 30.974, 'il.ff "P" q 1.34')] + \
            [("F%d" % k, "clp_FP", "F", -0.39, 18.998, 'il.ff "FP" q -0.39') for k in range(1, 7)]
    bonds = [(1, k) for k in range(2, 8)]
    # trans pairs: (2,7), (3,6), (4,5) in the geometry below
    trans = {(2, 7), (3, 6), (4, 5)}
    write_itp("pf6", "PF6", header("pf6", [
        "hexafluorophosphate PF6-, CL&P (il.ff 2021/05/14; Kaminski & Jorgensen, J. Chem. Soc. Perkin Trans. 2,",
        "2365 (1999)). Only the 12 cis F-P-F angles (90 deg) are written: they fix the octahedron, and a harmonic",
        "angle at 180 deg (the 3 trans pairs) has no defined force direction at the minimum."]),
        atoms, bonds, CLP_BONDS, CLP_ANGLES, {}, skip_angle=lambda a: (a[0], a[2]) in trans)
    d = 0.1606
    x = [[0, 0, 0], [d, 0, 0], [0, d, 0], [0, 0, d], [0, 0, -d], [0, -d, 0], [-d, 0, 0]]
    write_gro("pf6", "PF6", atoms, x, "PF6- (make_data.py)")


def tfsi():
    q = {"CBT": 0.35, "SBT": 1.02, "NBT": -0.66, "OBT": -0.53, "F1": -0.16}
    bty = {"CBT": "CF", "SBT": "SB", "NBT": "NB", "OBT": "OB", "F1": "FB"}

    def at(name, t):
        return (name, "clp_" + t, bty[t], q[t], ATOMTYPES["clp_" + t][1], 'il.ff "%s" q %+.2f' % (t, q[t]))
    # atom order of ntf2.zmat in the clandp repository
    atoms = [at("C1", "CBT"), at("F1", "F1"), at("F2", "F1"), at("F3", "F1"), at("S1", "SBT"), at("N", "NBT"),
             at("O1", "OBT"), at("O2", "OBT"), at("S2", "SBT"), at("O3", "OBT"), at("O4", "OBT"), at("C2", "CBT"),
             at("F4", "F1"), at("F5", "F1"), at("F6", "F1")]
    bonds = [(1, 2), (1, 3), (1, 4), (1, 5), (5, 6), (5, 7), (5, 8), (6, 9), (9, 10), (9, 11), (9, 12), (12, 13),
             (12, 14), (12, 15)]
    write_itp("tfsi", "TFSI", header("tfsi", [
        "bis(trifluoromethanesulfonyl)imide TFSI- (NTf2-), CL&P: J. N. Canongia Lopes, A. A. H. Padua, J. Phys. Chem.",
        "B 108, 16893 (2004); LJ of O and F as revised in il.ff 2021/05/14 (cited there as PCCP 43 (2017) 29617)."]),
        atoms, bonds, CLP_BONDS, CLP_ANGLES, CLP_DIHS)
    # ntf2.zmat (A, deg) with the S-N bond at its il.ff length 1.570 A
    z = [(0, 0, 0, 0, 0, 0), (1, 1.332, 0, 0, 0, 0), (1, 1.332, 2, 107.1, 0, 0), (1, 1.332, 2, 107.1, 3, 120.0),
         (1, 1.818, 2, 111.8, 3, -120.0), (5, 1.570, 1, 102.6, 3, 60.0), (5, 1.443, 1, 102.6, 6, 120.0),
         (5, 1.443, 1, 102.6, 6, -120.0), (6, 1.570, 5, 120.0, 1, 90.0), (9, 1.443, 6, 102.6, 5, -30.0),
         (9, 1.443, 6, 102.6, 5, -150.0), (9, 1.818, 6, 102.6, 5, 90.0), (12, 1.332, 9, 107.1, 6, 60.0),
         (12, 1.332, 9, 107.1, 6, -60.0), (12, 1.332, 9, 107.1, 6, 180.0)]
    x = zmatrix([(r[0], r[1] / 10.0, r[2], r[3], r[4], r[5]) for r in z])
    write_gro("tfsi", "TFSI", atoms, x, "TFSI- from CL&P ntf2.zmat (make_data.py)")


def fsi():
    q = {"SBT": 1.02, "NBT": -0.66, "OBT": -0.53, "FSI": -0.13}
    bty = {"SBT": "SB", "NBT": "NB", "OBT": "OB", "FSI": "FB"}

    def at(name, t):
        return (name, "clp_" + t, bty[t], q[t], ATOMTYPES["clp_" + t][1], 'il.ff "%s" q %+.2f' % (t, q[t]))
    # atom order of fsi.zmat in the clandp repository
    atoms = [at("F1", "FSI"), at("S1", "SBT"), at("N", "NBT"), at("O1", "OBT"), at("O2", "OBT"), at("S2", "SBT"),
             at("O3", "OBT"), at("O4", "OBT"), at("F2", "FSI")]
    bonds = [(1, 2), (2, 3), (2, 4), (2, 5), (3, 6), (6, 7), (6, 8), (6, 9)]
    write_itp("fsi", "FSI", header("fsi", [
        "bis(fluorosulfonyl)amide FSI-, CL&P il.ff 2021/05/14 'bis(fluorosulfonyl)amide' (cited there as PCCP 43",
        "(2017) 29617); S, N, O types and their terms shared with TFSI- (Canongia Lopes & Padua, JPCB 108, 16893",
        "(2004))."]), atoms, bonds, CLP_BONDS, CLP_ANGLES, CLP_DIHS)
    z = [(0, 0, 0, 0, 0, 0), (1, 1.575, 0, 0, 0, 0), (2, 1.570, 1, 103.0, 0, 0), (2, 1.443, 1, 104.1, 3, 120.0),
         (2, 1.443, 1, 104.1, 3, -120.0), (3, 1.570, 2, 120.0, 1, 90.0), (6, 1.443, 3, 102.6, 2, -30.0),
         (6, 1.443, 3, 102.6, 2, -150.0), (6, 1.575, 3, 103.0, 2, 90.0)]
    x = zmatrix([(r[0], r[1] / 10.0, r[2], r[3], r[4], r[5]) for r in z])
    write_gro("fsi", "FSI", atoms, x, "FSI- from CL&P fsi.zmat (make_data.py)")


def no3():
    atoms = [("N", "clp_NN", "NN", 0.95, 14.007, 'old.il.ff "NN" q +0.95')] + \
            [("O%d" % k, "clp_ON", "ON", -0.65, 15.999, 'old.il.ff "ON" q -0.65') for k in range(1, 4)]
    bonds = [(1, 2), (1, 3), (1, 4)]
    imp = [((2, 1, 3, 4), (180.0, 43.932, 2, 'oplsaa.ff ffbonded.itp "#define improper_X_NO_ON_NO 180.0 43.93200 2" '
                                            '(nitro; added to CL&P nitrate to keep it planar)'))]
    write_itp("no3", "NO3", header("no3", [
        "nitrate NO3-, CL&P old.il.ff 2013/10/08 'nitrate JPCB108:2038(2004)' (Canongia Lopes, Deschamps, Padua,",
        "J. Phys. Chem. B 108, 2038 (2004)); one improper from oplsaa.ff added (see the [ dihedrals ] line)."]),
        atoms, bonds, CLP_BONDS, CLP_ANGLES, {}, impropers=imp)
    d = 0.1226
    x = [[0, 0, 0]] + [[d * math.cos(math.radians(120 * k)), d * math.sin(math.radians(120 * k)), 0.0]
                       for k in range(3)]
    write_gro("no3", "NO3", atoms, x, "NO3- (make_data.py)")


# ---------------------------------------------------------------------------------------------------------------
# EC and DMC: benchmarks/inputs/ec-dmc/make_molecules.py
# ---------------------------------------------------------------------------------------------------------------
EC_DMC_HEADER = {
    "EC": header("ec", [
        "ethylene carbonate (1,3-dioxolan-2-one), OPLS-AA: the parameters of benchmarks/inputs/ec-dmc,",
        "written through its make_molecules.py (which cites every value). Charges: oplsaa.ff opls_771..777",
        "('propylene carbonate, Luciennes param.'; cf. Silva and Freitas, THEOCHEM 806, 23 (2007)); LJ: the opls",
        "types in forcefield.itp (Jorgensen et al., JACS 118, 11225 (1996)); bonded: oplsaa.ff ffbonded.itp as",
        "cited per line."]),
    "DMC": header("dmc", [
        "dimethyl carbonate, cis-cis, OPLS-AA: the parameters of benchmarks/inputs/ec-dmc, written through",
        "its make_molecules.py (which cites every value). Charges: LigParGen 1.14*CM1A (Dodda et al., NAR 45, W331",
        "(2017); JPCB 121, 3864 (2017)); LJ: the opls types in forcefield.itp (Jorgensen et al., JACS 118, 11225",
        "(1996)); bonded: oplsaa.ff ffbonded.itp as cited per line."]),
}


def ec_dmc():
    for build, stem in ((ecdmc.ec, "ec"), (ecdmc.dmc, "dmc")):
        mol, atoms, bonds, x = build()
        hdr = EC_DMC_HEADER[mol]
        ecdmc.write_itp(os.path.join(HERE, stem + ".itp"), mol, atoms, bonds, hdr)
        write_gro(stem, mol, [(a[0],) for a in atoms], x, "%s (benchmarks/inputs/ec-dmc/make_molecules.py)" % mol)


# ---------------------------------------------------------------------------------------------------------------
# DME: OPLS-AA ethers (oplsaa.ff)
# ---------------------------------------------------------------------------------------------------------------
DME_BONDS = {
    ("CT", "OS"): (0.14100, 267776.0, 'oplsaa.ff ffbonded.itp "CT OS 1 0.14100 267776.0"'),
    ("CT", "CT"): (0.15290, 224262.4, 'oplsaa.ff ffbonded.itp "CT CT 1 0.15290 224262.4 ; CHARMM 22 parameter file"'),
    ("CT", "HC"): (0.10900, 284512.0, 'oplsaa.ff ffbonded.itp "CT HC 1 0.10900 284512.0 ; CHARMM 22 parameter file"'),
}
DME_ANGLES = {
    ("CT", "OS", "CT"): (109.500, 502.080, 'oplsaa.ff ffbonded.itp "CT OS CT 1 109.500 502.080"'),
    ("CT", "CT", "OS"): (109.500, 418.400, 'oplsaa.ff ffbonded.itp "CT CT OS 1 109.500 418.400"'),
    ("HC", "CT", "OS"): (109.500, 292.880, 'oplsaa.ff ffbonded.itp "HC CT OS 1 109.500 292.880 ; SUG"'),
    ("CT", "CT", "HC"): (110.700, 313.800, 'oplsaa.ff ffbonded.itp "CT CT HC 1 110.700 313.800 ; CHARMM 22"'),
    ("HC", "CT", "HC"): (107.800, 276.144, 'oplsaa.ff ffbonded.itp "HC CT HC 1 107.800 276.144 ; CHARMM 22"'),
}
DME_DIHS = {
    ("CT", "OS", "CT", "HC"): ((1.58992, 4.76976, 0.0, -6.35968, 0.0, 0.0),
                               'oplsaa.ff ffbonded.itp "CT OS CT HC 3 ... ; ethers AA"'),
    ("CT", "CT", "OS", "CT"): ((1.71544, 2.84512, 1.04600, -5.60656, 0.0, 0.0),
                               'oplsaa.ff ffbonded.itp "CT CT OS CT 3 ... ; ethers AA"'),
    ("OS", "CT", "CT", "OS"): ((-1.15060, 1.15060, 0.0, 0.0, 0.0, 0.0),
                               'oplsaa.ff ffbonded.itp "OS CT CT OS 3 ... ; polyethers, crown ethers"'),
    ("HC", "CT", "CT", "OS"): ((0.97905, 2.93716, 0.0, -3.91622, 0.0, 0.0),
                               'oplsaa.ff ffbonded.itp "HC CT CT OS 3 ... ; alcohols, ethers AA"'),
    ("HC", "CT", "CT", "HC"): ((0.62760, 1.88280, 0.0, -2.51040, 0.0, 0.0),
                               'oplsaa.ff ffbonded.itp "HC CT CT HC 3 ... ; hydrocarbon *new* 11/99"'),
}


def dme():
    def at(name, t, b, q, m):
        return (name, t, b, q, m, "oplsaa.ff %s q %+.2f" % (t, q))
    # CH3(C1)-O1-CH2(C2)-CH2(C3)-O2-CH3(C4)
    atoms = [at("C1", "opls_181", "CT", 0.11, 12.011), at("O1", "opls_180", "OS", -0.40, 15.9994),
             at("C2", "opls_182", "CT", 0.14, 12.011), at("C3", "opls_182", "CT", 0.14, 12.011),
             at("O2", "opls_180", "OS", -0.40, 15.9994), at("C4", "opls_181", "CT", 0.11, 12.011)]
    hs = []
    for c, label, n in ((1, "1", 3), (3, "2", 2), (4, "3", 2), (6, "4", 3)):
        for k in range(1, n + 1):
            hs.append(("H%s%d" % (label, k), c))
    for name, c in hs:
        atoms.append(at(name, "opls_185", "HC", 0.03, 1.008))
    bonds = [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)] + [(c, 7 + k) for k, (name, c) in enumerate(hs)]
    write_itp("dme", "DME", header("dme", [
        "1,2-dimethoxyethane (DME, glyme), OPLS-AA ethers (Jorgensen, Maxwell, Tirado-Rives, JACS 118, 11225",
        "(1996)): charges and LJ of oplsaa.ff opls_180/181/182/185; bonded terms from oplsaa.ff ffbonded.itp.",
        "Starting conformer trans-gauche-trans (C-O-C-C 180, O-C-C-O 70 deg)."]),
        atoms, bonds, DME_BONDS, DME_ANGLES, DME_DIHS)
    x = zmatrix([(0, 0, 0, 0, 0, 0), (1, 0.141, 0, 0, 0, 0), (2, 0.141, 1, 109.5, 0, 0),
                 (3, 0.1529, 2, 109.5, 1, 180.0), (4, 0.141, 3, 109.5, 2, 70.0), (5, 0.141, 4, 109.5, 3, 180.0)])
    # hydrogens: methyls staggered against the next heavy atom; CH2 hydrogens at +-120 deg from the O-C-C-O gauche
    for dih in (180.0, 60.0, -60.0):
        x.append(place(x[2], x[1], x[0], 0.109, 109.5, dih))  # C2-O1-C1-H
    for dih in (70.0 + 120.0, 70.0 - 120.0):
        x.append(place(x[4], x[3], x[2], 0.109, 109.5, dih))  # O2-C3-C2-H
    for dih in (70.0 + 120.0, 70.0 - 120.0):
        x.append(place(x[1], x[2], x[3], 0.109, 109.5, dih))  # O1-C2-C3-H
    for dih in (180.0, 60.0, -60.0):
        x.append(place(x[3], x[4], x[5], 0.109, 109.5, dih))  # C3-O2-C4-H
    write_gro("dme", "DME", atoms, x, "DME tgt (make_data.py)")


# ---------------------------------------------------------------------------------------------------------------
# FEC: LigParGen .key (TINKER format, kcal/mol)
# ---------------------------------------------------------------------------------------------------------------
def fec():
    # FEC.key atom order: O00 C01 O02 C03 C04 H05 F06 O07 H08 H09, types 800..809 (each atom its own type).
    charges = {800: -0.3533, 801: 0.5611, 802: -0.3118, 803: -0.0837, 804: 0.1953, 805: 0.1512, 806: -0.1246,
               807: -0.3389, 808: 0.1523, 809: 0.1523}
    # The ten LigParGen charges sum to -0.0001 (4-decimal rounding); the carbonyl C carries the +0.0001 that makes
    # the molecule neutral.
    fix = {801: 0.0001}
    names = {800: "O1", 801: "C1", 802: "O2", 803: "C2", 804: "C3", 805: "H31", 806: "F", 807: "O3", 808: "H21",
             809: "H22"}
    order = [801, 800, 802, 807, 803, 804, 806, 808, 809, 805]  # C1 O1 O2 O3 C2 C3 F H21 H22 H31
    atoms = []
    for t in order:
        q = charges[t] + fix.get(t, 0.0)
        src = 'FEC.key "charge %d %.4f"' % (t, charges[t]) + (" +0.0001 (neutrality)" if t in fix else "")
        atoms.append((names[t], "fec_%d" % t, str(t), round(q, 4), FEC_VDW[t][1], src))
    idx = {t: k + 1 for k, t in enumerate(order)}
    key_bonds = [(801, 800, 570.00, 1.2290), (802, 801, 214.00, 1.3270), (803, 802, 320.00, 1.4100),
                 (804, 803, 268.00, 1.5290), (805, 804, 340.00, 1.0900), (806, 804, 367.00, 1.3600),
                 (807, 801, 214.00, 1.3270), (808, 803, 340.00, 1.0900), (809, 803, 340.00, 1.0900),
                 (807, 804, 320.00, 1.4100)]
    key_angles = [(800, 801, 802, 83.00, 123.40), (801, 802, 803, 83.00, 116.90), (802, 803, 804, 50.00, 109.50),
                  (803, 804, 805, 37.50, 110.70), (803, 804, 806, 50.00, 109.50), (800, 801, 807, 83.00, 123.40),
                  (802, 803, 808, 35.00, 109.50), (802, 803, 809, 35.00, 109.50), (804, 803, 808, 37.50, 110.70),
                  (805, 804, 806, 40.00, 107.00), (803, 804, 807, 50.00, 109.50), (808, 803, 809, 33.00, 107.80),
                  (804, 803, 809, 37.50, 110.70), (805, 804, 807, 35.00, 109.50), (801, 807, 804, 83.00, 116.90),
                  (802, 801, 807, 69.90, 118.18), (806, 804, 807, 51.65, 110.58)]
    key_tors = [(803, 802, 801, 800, 0.000, 2.562, 0.000), (804, 803, 802, 801, -0.610, -0.063, 0.211),
                (805, 804, 803, 802, 0.000, 0.000, 0.234), (808, 803, 804, 807, 0.000, 0.000, 0.234),
                (809, 803, 804, 805, 0.000, 0.000, 0.150), (808, 803, 804, 806, 0.000, 0.000, 0.200),
                (807, 801, 802, 803, 2.334, 2.562, 0.000), (808, 803, 802, 801, 0.000, 0.000, 0.099),
                (804, 807, 801, 800, 0.000, 2.562, 0.000), (807, 804, 803, 802, -0.275, 0.000, 0.000),
                (806, 804, 803, 802, 0.000, 0.000, 0.270), (809, 803, 804, 807, 0.000, 0.000, 0.234),
                (809, 803, 802, 801, 0.000, 0.000, 0.099), (805, 804, 807, 801, 0.000, 0.000, 0.099),
                (803, 804, 807, 801, -0.610, -0.063, 0.211), (809, 803, 804, 806, 0.000, 0.000, 0.200),
                (806, 804, 807, 801, 0.000, 0.000, 0.099), (808, 803, 804, 805, 0.000, 0.000, 0.150),
                (804, 807, 801, 802, 2.334, 2.562, 0.000)]
    bt_b = {(str(a), str(b)): (r0 / 10.0, 2 * KCAL * 100 * k, 'FEC.key "bond %d %d %.2f %.4f"' % (a, b, k, r0))
            for a, b, k, r0 in key_bonds}
    bt_a = {(str(a), str(b), str(c)): (th, 2 * KCAL * k, 'FEC.key "angle %d %d %d %.2f %.2f"' % (a, b, c, k, th))
            for a, b, c, k, th in key_angles}
    bt_d = {}
    for a, b, c, d, a1, a2, a3 in key_tors:
        v = (2 * a1 * KCAL, 2 * a2 * KCAL, 2 * a3 * KCAL, 0.0)
        bt_d[(str(a), str(b), str(c), str(d))] = (
            rb_from_fourier(*v), 'FEC.key "torsion %d %d %d %d %.3f 0 1 %.3f 180 2 %.3f 0 3"' % (a, b, c, d, a1, a2,
                                                                                              a3))
    bonds = [(idx[a], idx[b]) for a, b, _, _ in key_bonds]
    imp = [((idx[802], idx[801], idx[807], idx[800]),
            (180.0, 10.5 * KCAL, 2, 'FEC.key "imptors 800 802 801 807 10.500 180.0 2" (centre C01), written X C Y O '
                                    'as ec.itp'))]
    write_itp("fec", "FEC", header("fec", [
        "4-fluoro-1,3-dioxolan-2-one (fluoroethylene carbonate, FEC), OPLS-AA/CM1A from the LigParGen server",
        "(Dodda, Cabeza de Vaca, Tirado-Rives, Jorgensen, Nucleic Acids Res. 45, W331 (2017); Jorgensen & Tirado-",
        "Rives, PNAS 102, 6665 (2005)): every number from the LigParGen TINKER output for FEC stored as",
        "tests/data/FEC.key in github.com/molssi-seamm/forcefield_step (commit 04b233ac), converted as stated in",
        "make_data.py. The .key's impropers with zero amplitude are left out."]),
        atoms, bonds, bt_b, bt_a, bt_d, impropers=imp)
    # geometry: the EC ring of ecdmc.ec() with H31 replaced by F (C-F 0.136 nm)
    _, ec_atoms, _, ex = ecdmc.ec()
    # ec order: C1 O1 O2 O3 C2 C3 H21 H22 H31 H32 -> FEC: C1 O1 O2 O3 C2 C3 F(on C3, was H31) H21 H22 H31(was H32)
    c3 = ex[5]
    f = add(c3, scale(unit(sub(ex[8], c3)), 0.136))
    x = [ex[0], ex[1], ex[2], ex[3], ex[4], ex[5], f, ex[6], ex[7], ex[9]]
    write_gro("fec", "FEC", atoms, x, "FEC from the EC ring of make_molecules.py (make_data.py)")


def forcefield_itp():
    out = ["; forcefield.itp: [defaults] and [atomtypes] of every molecule in forcefields/data.",
           "; Generated by forcefields/data/make_data.py (do not edit; rerun it). Sources in README.md.",
           "; The charge column is a placeholder: charges are given per atom in each molecule's [ atoms ].",
           "",
           "[ defaults ]",
           "; nbfunc  comb-rule  gen-pairs  fudgeLJ  fudgeQQ   ; OPLS-AA and CL&P: geometric mixing, 1-4 scaled by 1/2",
           "1         3          yes        0.5      0.5",
           "",
           "[ atomtypes ]",
           "; name       at.num  mass      charge  ptype  sigma (nm)    epsilon (kJ/mol)  ; source"]
    for name in sorted(ATOMTYPES):
        z, m, s, e, src = ATOMTYPES[name]
        out.append("%-11s  %3d   %9.5f   0.000   A    %.5e   %.5e      ; %s" % (name, z, m, s, e, src))
    with open(os.path.join(HERE, "forcefield.itp"), "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    li()
    pf6()
    tfsi()
    fsi()
    no3()
    ec_dmc()
    dme()
    fec()
    forcefield_itp()


if __name__ == "__main__":
    main()
