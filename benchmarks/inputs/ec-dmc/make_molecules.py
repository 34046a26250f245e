#!/usr/bin/env python3
"""make_molecules.py: writes ec.itp, dmc.itp and single-molecule geometries (ec1.gro, dmc1.gro) for the EC/DMC box.

Pure Python 3 (no numpy). Run from anywhere; files are written next to this script unless a directory is given:
    python3 make_molecules.py [outdir]

Where every number comes from
-----------------------------
Lennard-Jones (sigma, epsilon) of every atom type: OPLS-AA, W. L. Jorgensen, D. S. Maxwell, J. Tirado-Rives,
J. Am. Chem. Soc. 118, 11225 (1996), as shipped in GROMACS 2022's oplsaa.ff/ffnonbonded.itp (Debian package,
/usr/share/gromacs/top/oplsaa.ff); the opls_NNN numbers are given on each [atomtypes] line of topol.top.

Charges:
  EC  : oplsaa.ff ffnonbonded.itp opls_771 (O=, -0.50), opls_772 (C=O, +0.86), opls_773 (ring OS, -0.45),
        opls_774 (CH2, +0.21), opls_777 (H on CH2, +0.03), the values exactly as in oplsaa.ff. oplsaa.ff labels
        these types "propylene carbonate (Luciennes param.)", which we take to refer to Luciene B. Silva's OPLS-based
        cyclic-carbonate work (L. B. Silva, L. C. G. Freitas, J. Mol. Struct. THEOCHEM 806, 23 (2007): EC and PC
        with OPLS LJ); oplsaa.ff itself gives no citation. EC has exactly the atoms of PC's ring (C=O, two OS, a CH2,
        and the CH2 that carries PC's methyl, here with a second H), so the PC ring types transfer with opls_774 for
        both ring carbons and the set sums to zero: 0.86 - 0.50 - 2(0.45) + 2(0.21) + 4(0.03) = 0.
  DMC : 1.14*CM1A charges from the LigParGen server (Jorgensen lab): L. S. Dodda, I. Cabeza de Vaca,
        J. Tirado-Rives, W. L. Jorgensen, Nucleic Acids Res. 45, W331 (2017); charge model L. S. Dodda,
        J. Z. Vilseck, J. Tirado-Rives, W. L. Jorgensen, J. Phys. Chem. B 121, 3864 (2017). Values as in the
        LigParGen output for dimethyl carbonate published in github.com/Skibidi1162/NaPF6---EC---DMC (dmc.itp,
        commit 8840e13b), kept to all 6 decimals so that they sum to zero exactly. The methyl H with the larger
        charge (0.076551) is the in-plane H of each methyl (anti to the carbonyl C); the two out-of-plane H of a
        methyl carry 0.035715/0.035720 and 0.035718/0.035717 as LigParGen gave them.
        (OPLS-AA's own ester types opls_465..469 are not neutral for a carbonate: 0.51-0.43-2(0.33)+2(0.16)+6(0.03)
        = -0.08, which is why a carbonate-specific set is needed.)

Bonded terms: oplsaa.ff/ffbonded.itp, looked up by the OPLS bond types of the atoms (EC: C O OS CT HC, the bond
types of opls_771..777; DMC: C_2 O_2 OS CT HC, those of opls_465..469), as grompp would look them up. The line of
ffbonded.itp and its own comment are cited on every parameter. Two terms of the carbonate group have no entry in
oplsaa.ff and are taken from LigParGen (same references as the DMC charges), which assigns them by analogy:
  angle OS-C-OS      118.18 deg, 584.923 kJ mol^-1 rad^-2 (LigParGen carbonate O-C-O)
  torsion OS-C-OS-CT RB 31.20637 -9.76754 -21.43881 0 0 0 = oplsaa.ff "CT C OS CT ; esters" (LigParGen uses the
                     ester C(=O)-O torsion for it)
Improper at the carbonyl C: oplsaa.ff "#define improper_O_C_X_Y 180.0 43.93200 2", written as funct 4 (periodic
improper) with the carbonyl C second and the carbonyl O last: X C Y O.

Geometry: built here from the equilibrium bond lengths and angles above (ring atoms of EC on a regular pentagon
scaled to the bond lengths, DMC planar cis-cis, methyl groups staggered); make_box.sh then minimizes in the box.
"""
import math
import os
import sys

# ---------------------------------------------------------------------------------------------------------------
# Parameters by OPLS bond type. Keys are tuples of bond types; a key matches its reverse too.
# ---------------------------------------------------------------------------------------------------------------
BONDS = {
    ("C", "O"): (0.12290, 476976.0, 'ffbonded.itp "C O 1 0.12290 476976.0 ; URAGUA,CYT,AA"'),
    ("C_2", "O_2"): (0.12290, 476976.0, 'ffbonded.itp "C_2 O_2 1 0.12290 476976.0"'),
    ("C", "OS"): (0.13270, 179075.2, 'ffbonded.itp "C OS 1 0.13270 179075.2 ; J.Comp.Chem.1990,11,1181 SKF8"'),
    ("C_2", "OS"): (0.13270, 179075.2, 'ffbonded.itp "C_2 OS 1 0.13270 179075.2 ; J.Comp.Chem.1990,11,1181 SKF8"'),
    ("CT", "OS"): (0.14100, 267776.0, 'ffbonded.itp "CT OS 1 0.14100 267776.0"'),
    ("CT", "CT"): (0.15290, 224262.4, 'ffbonded.itp "CT CT 1 0.15290 224262.4 ; CHARMM 22 parameter file"'),
    ("CT", "HC"): (0.10900, 284512.0, 'ffbonded.itp "CT HC 1 0.10900 284512.0 ; CHARMM 22 parameter file"'),
}

ANGLES = {
    ("O", "C", "OS"): (123.400, 694.544, 'ffbonded.itp "O C OS 1 123.400 694.544 ; J.Comp.Chem.1990,11,1181"'),
    ("O_2", "C_2", "OS"): (123.400, 694.544, 'ffbonded.itp "O_2 C_2 OS 1 123.400 694.544 ; J.Comp.Chem.1990,11,1181"'),
    ("OS", "C", "OS"): (118.180, 584.923, "LigParGen carbonate O-C-O (not in oplsaa.ff)"),
    ("OS", "C_2", "OS"): (118.180, 584.923, "LigParGen carbonate O-C-O (not in oplsaa.ff)"),
    ("C", "OS", "CT"): (116.900, 694.544, 'ffbonded.itp "C OS CT 1 116.900 694.544"'),
    ("C_2", "OS", "CT"): (116.900, 694.544, 'ffbonded.itp "C_2 OS CT 1 116.900 694.544"'),
    ("CT", "CT", "OS"): (109.500, 418.400, 'ffbonded.itp "CT CT OS 1 109.500 418.400"'),
    ("HC", "CT", "OS"): (109.500, 292.880, 'ffbonded.itp "HC CT OS 1 109.500 292.880 ; SUG"'),
    ("CT", "CT", "HC"): (110.700, 313.800, 'ffbonded.itp "CT CT HC 1 110.700 313.800 ; CHARMM 22"'),
    ("HC", "CT", "HC"): (107.800, 276.144, 'ffbonded.itp "HC CT HC 1 107.800 276.144 ; CHARMM 22"'),
}

RB = {
    ("CT", "OS", "C", "O"): ((20.92000, 0.0, -20.92000, 0.0, 0.0, 0.0),
                             'ffbonded.itp "CT OS C O 3 ... ; benzoic acids & esters"'),
    ("CT", "OS", "C_2", "O_2"): ((21.43881, 0.0, -21.43881, 0.0, 0.0, 0.0),
                                 'ffbonded.itp "CT OS C_2 O_2 3 ... ; esters"'),
    ("CT", "OS", "C", "OS"): ((31.20637, -9.76754, -21.43881, 0.0, 0.0, 0.0),
                              'as ffbonded.itp "CT C OS CT 3 ... ; esters" (LigParGen analogy; not in oplsaa.ff)'),
    ("CT", "OS", "C_2", "OS"): ((31.20637, -9.76754, -21.43881, 0.0, 0.0, 0.0),
                                'as ffbonded.itp "CT C_2 OS CT 3 ... ; esters" (LigParGen analogy; not in oplsaa.ff)'),
    ("C", "OS", "CT", "CT"): ((-2.19660, 5.20071, 0.52719, -3.53130, 0.0, 0.0),
                              'ffbonded.itp "C OS CT CT 3 ... ; esters"'),
    ("C", "OS", "CT", "HC"): ((0.41421, 1.24265, 0.0, -1.65686, 0.0, 0.0),
                              'ffbonded.itp "C OS CT HC 3 ... ; esters"'),
    ("C_2", "OS", "CT", "HC"): ((0.41421, 1.24265, 0.0, -1.65686, 0.0, 0.0),
                                'ffbonded.itp "C_2 OS CT HC 3 ... ; esters"'),
    ("OS", "CT", "CT", "OS"): ((-1.15060, 1.15060, 0.0, 0.0, 0.0, 0.0),
                               'ffbonded.itp "OS CT CT OS 3 ... ; polyethers, crown ethers"'),
    ("HC", "CT", "CT", "OS"): ((0.97905, 2.93716, 0.0, -3.91622, 0.0, 0.0),
                               'ffbonded.itp "HC CT CT OS 3 ... ; alcohols, ethers AA"'),
    ("HC", "CT", "CT", "HC"): ((0.62760, 1.88280, 0.0, -2.51040, 0.0, 0.0),
                               'ffbonded.itp "HC CT CT HC 3 ... ; hydrocarbon *new* 11/99"'),
}

IMPROPER = (180.0, 43.932, 2, 'ffbonded.itp "#define improper_O_C_X_Y 180.0 43.93200 2"')


def lookup(table, key):
    if key in table:
        return table[key]
    if tuple(reversed(key)) in table:
        return table[tuple(reversed(key))]
    raise KeyError("no parameters for %s" % (key,))


# ---------------------------------------------------------------------------------------------------------------
# Small vector helpers and NeRF placement (atom d from c, b, a with bond length, angle, dihedral).
# ---------------------------------------------------------------------------------------------------------------
def sub(a, b): return [a[i] - b[i] for i in range(3)]
def add(a, b): return [a[i] + b[i] for i in range(3)]
def scale(a, s): return [a[i] * s for i in range(3)]
def dot(a, b): return sum(a[i] * b[i] for i in range(3))
def cross(a, b): return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
def norm(a): return math.sqrt(dot(a, a))
def unit(a): return scale(a, 1.0 / norm(a))


def place(a, b, c, bond, angle_deg, dih_deg):
    """Position of d bonded to c with |cd| = bond, angle b-c-d, dihedral a-b-c-d (IUPAC)."""
    th, ph = math.radians(angle_deg), math.radians(dih_deg)
    bc = unit(sub(c, b))
    n = unit(cross(sub(b, a), bc))
    m = cross(n, bc)
    d2 = [-bond * math.cos(th), bond * math.sin(th) * math.cos(ph), bond * math.sin(th) * math.sin(ph)]
    return add(c, add(scale(bc, d2[0]), add(scale(m, d2[1]), scale(n, d2[2]))))


# ---------------------------------------------------------------------------------------------------------------
# Molecules: atoms (name, opls type, bond type, charge, mass), bonds, coordinates.
# ---------------------------------------------------------------------------------------------------------------
MASS = {"C": 12.01100, "O": 15.99940, "H": 1.00800}  # oplsaa.ff atomtypes.atp


def ec():
    # ring: C1 (carbonyl) - O2 - C2 - C3 - O3 - C1; O1 on C1; H21 H22 on C2, H31 H32 on C3.
    atoms = [
        ("C1", "opls_772", "C", 0.86, MASS["C"]),
        ("O1", "opls_771", "O", -0.50, MASS["O"]),
        ("O2", "opls_773", "OS", -0.45, MASS["O"]),
        ("O3", "opls_773", "OS", -0.45, MASS["O"]),
        ("C2", "opls_774", "CT", 0.21, MASS["C"]),
        ("C3", "opls_774", "CT", 0.21, MASS["C"]),
        ("H21", "opls_777", "HC", 0.03, MASS["H"]),
        ("H22", "opls_777", "HC", 0.03, MASS["H"]),
        ("H31", "opls_777", "HC", 0.03, MASS["H"]),
        ("H32", "opls_777", "HC", 0.03, MASS["H"]),
    ]
    bonds = [(1, 2), (1, 3), (1, 4), (3, 5), (5, 6), (6, 4), (5, 7), (5, 8), (6, 9), (6, 10)]
    # Regular pentagon in the xy plane, circumradius for a mean ring bond of 0.140 nm; C1 on +x.
    r = 0.140 / (2 * math.sin(math.pi / 5))
    ring = {}
    for k, idx in enumerate([1, 3, 5, 6, 4]):  # C1, O2, C2, C3, O3 around the ring
        phi = 2 * math.pi * k / 5
        ring[idx] = [r * math.cos(phi), r * math.sin(phi), 0.0]
    x = {i: ring[i] for i in ring}
    x[2] = [r + 0.1229, 0.0, 0.0]  # carbonyl O radially outward
    # H on C2 and C3: along the outward bisector tilted above/below the ring plane (tetrahedral-like).
    for c, (ha, hb) in ((5, (7, 8)), (6, (9, 10))):
        out = unit([x[c][0], x[c][1], 0.0])
        for h, s in ((ha, 1.0), (hb, -1.0)):
            d = unit(add(scale(out, math.cos(math.radians(54.75))), [0.0, 0.0, s * math.sin(math.radians(54.75))]))
            x[h] = add(x[c], scale(d, 0.1090))
    return "EC", atoms, bonds, [x[i] for i in range(1, len(atoms) + 1)]


def dmc():
    # C1 carbonyl C, O1 carbonyl O, O2 O3 ester O, C2 C3 methyl C; H2x on C2, H3x on C3.
    # LigParGen numbering (dmc.itp): C00=C2, O01=O2, C02=C1, O03=O1, O04=O3, C05=C3; H08 and H0B (0.076551) are
    # the in-plane H (H21, H31 here); H06, H07 -> H22, H23; H09, H0A -> H32, H33.
    atoms = [
        ("C1", "opls_465", "C_2", 1.004995, MASS["C"]),
        ("O1", "opls_466", "O_2", -0.597267, MASS["O"]),
        ("O2", "opls_467", "OS", -0.449998, MASS["O"]),
        ("O3", "opls_467", "OS", -0.449998, MASS["O"]),
        ("C2", "opls_468", "CT", 0.098148, MASS["C"]),
        ("C3", "opls_468", "CT", 0.098148, MASS["C"]),
        ("H21", "opls_469", "HC", 0.076551, MASS["H"]),
        ("H22", "opls_469", "HC", 0.035715, MASS["H"]),
        ("H23", "opls_469", "HC", 0.035720, MASS["H"]),
        ("H31", "opls_469", "HC", 0.076551, MASS["H"]),
        ("H32", "opls_469", "HC", 0.035718, MASS["H"]),
        ("H33", "opls_469", "HC", 0.035717, MASS["H"]),
    ]
    bonds = [(1, 2), (1, 3), (1, 4), (3, 5), (4, 6), (5, 7), (5, 8), (5, 9), (6, 10), (6, 11), (6, 12)]
    x = {}
    x[1] = [0.0, 0.0, 0.0]
    x[2] = [0.0, 0.1229, 0.0]
    a = math.radians(123.4)
    x[3] = [0.1327 * math.sin(a), 0.1327 * math.cos(a), 0.0]
    x[4] = [-0.1327 * math.sin(a), 0.1327 * math.cos(a), 0.0]
    # cis-cis: the methyl C eclipses the carbonyl O (O1-C1-O2-C2 = 0)
    x[5] = place(x[2], x[1], x[3], 0.1410, 116.9, 0.0)
    x[6] = place(x[2], x[1], x[4], 0.1410, 116.9, 0.0)
    for c, o, hs in ((5, 3, (7, 8, 9)), (6, 4, (10, 11, 12))):
        for h, dih in zip(hs, (180.0, 60.0, -60.0)):  # C1-O-C-H: in-plane H anti to C1, then staggered
            x[h] = place(x[1], x[o], x[c], 0.1090, 109.5, dih)
    return "DMC", atoms, bonds, [x[i] for i in range(1, len(atoms) + 1)]


# ---------------------------------------------------------------------------------------------------------------
# Topology derivation: angles, proper dihedrals and 1-4 pairs from the bond graph.
# ---------------------------------------------------------------------------------------------------------------
def derive(n, bonds):
    nb = {i: set() for i in range(1, n + 1)}
    for i, j in bonds:
        nb[i].add(j)
        nb[j].add(i)
    angles = sorted({tuple(t) if t[0] < t[2] else tuple(reversed(t))
                     for j in nb for i in nb[j] for k in nb[j] if i != k for t in [[i, j, k]]})
    dihs = set()
    for j, k in bonds:
        for i in nb[j] - {k}:
            for l in nb[k] - {j}:
                if i != l:
                    t = (i, j, k, l)
                    dihs.add(t if t[0] < t[3] else tuple(reversed(t)))
    # graph distances
    dist = {}
    for s in nb:
        d = {s: 0}
        front = [s]
        while front:
            nxt = []
            for u in front:
                for v in nb[u]:
                    if v not in d:
                        d[v] = d[u] + 1
                        nxt.append(v)
            front = nxt
        dist[s] = d
    pairs = sorted((i, j) for i in nb for j in nb if i < j and dist[i][j] == 3)
    return angles, sorted(dihs), pairs, nb


def write_itp(path, mol, atoms, bonds, header):
    n = len(atoms)
    angles, dihs, pairs, nb = derive(n, bonds)
    bt = {i + 1: atoms[i][2] for i in range(n)}
    nm = {i + 1: atoms[i][0] for i in range(n)}
    q = sum(a[3] for a in atoms)
    assert abs(q) < 1e-9, (mol, q)
    out = [header]
    out.append("[ moleculetype ]\n; name  nrexcl\n%s     3\n" % mol)
    out.append("[ atoms ]\n;  nr  type      resnr  res  atom  cgnr  charge     mass      ; opls type, bond type")
    for i, (name, typ, btype, charge, mass) in enumerate(atoms, 1):
        out.append("%5d  %-8s  1      %-4s %-5s %4d  %9.6f  %8.5f  ; %s" % (i, typ, mol, name, i, charge, mass, btype))
    out.append("; total charge %.6f\n" % q)
    out.append("[ bonds ]\n;  ai   aj  funct  b0 (nm)   kb (kJ/mol/nm^2)  ; source (oplsaa.ff = GROMACS 2022 share/top)")
    for i, j in bonds:
        b0, kb, src = lookup(BONDS, (bt[i], bt[j]))
        out.append("%5d %5d  1  %8.5f  %10.1f  ; %s-%s %s" % (i, j, b0, kb, nm[i], nm[j], src))
    out.append("\n[ angles ]\n;  ai   aj   ak  funct  theta0 (deg)  k (kJ/mol/rad^2)  ; source")
    for i, j, k in angles:
        th, kk, src = lookup(ANGLES, (bt[i], bt[j], bt[k]))
        out.append("%5d %5d %5d  1  %8.3f  %9.3f  ; %s-%s-%s %s" % (i, j, k, th, kk, nm[i], nm[j], nm[k], src))
    out.append("\n[ dihedrals ]\n; proper: Ryckaert-Bellemans (funct 3), C0..C5 in kJ/mol (OPLS Fourier in RB form, "
               "as oplsaa.ff gives them)\n;  ai   aj   ak   al  funct  C0 C1 C2 C3 C4 C5  ; source")
    for i, j, k, l in dihs:
        c, src = lookup(RB, (bt[i], bt[j], bt[k], bt[l]))
        out.append("%5d %5d %5d %5d  3  %s  ; %s-%s-%s-%s %s" % (i, j, k, l, "  ".join("%9.5f" % v for v in c),
                                                            nm[i], nm[j], nm[k], nm[l], src))
    out.append("\n[ dihedrals ]\n; improper at the carbonyl C: periodic improper (funct 4), X C Y O, "
               "phi0 (deg), k (kJ/mol), multiplicity")
    c1 = 1
    x, y = sorted(v for v in nb[c1] if bt[v] == "OS")
    o = [v for v in nb[c1] if bt[v] in ("O", "O_2")][0]
    out.append("%5d %5d %5d %5d  4  %7.2f  %8.4f  %d  ; %s-%s-%s-%s %s" % (x, c1, y, o, IMPROPER[0], IMPROPER[1],
                                                                       IMPROPER[2], nm[x], nm[c1], nm[y], nm[o],
                                                                       IMPROPER[3]))
    out.append("\n[ pairs ]\n; every 1-4 pair (three bonds apart and not closer), LJ and Coulomb scaled by "
               "[defaults] fudgeLJ/fudgeQQ = 0.5 (OPLS-AA)\n;  ai   aj  funct")
    for i, j in pairs:
        out.append("%5d %5d  1  ; %s-%s" % (i, j, nm[i], nm[j]))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def write_gro(path, mol, atoms, x):
    # centre at the origin + 1 nm so the molecule sits inside a small box
    c = [sum(p[d] for p in x) / len(x) for d in range(3)]
    with open(path, "w") as f:
        f.write("%s single molecule (make_molecules.py)\n%5d\n" % (mol, len(atoms)))
        for i, (a, p) in enumerate(zip(atoms, x), 1):
            f.write("%5d%-5s%5s%5d%8.3f%8.3f%8.3f\n" % (1, mol, a[0], i, p[0] - c[0] + 1.0, p[1] - c[1] + 1.0,
                                                       p[2] - c[2] + 1.0))
        f.write("   2.00000   2.00000   2.00000\n")


HEADER = {
    "EC": "; ec.itp: ethylene carbonate (1,3-dioxolan-2-one), OPLS-AA. Generated by make_molecules.py (do not edit;\n"
          "; rerun it). Charges: oplsaa.ff opls_771..777 ('propylene carbonate, Luciennes param.'; cf. Silva and\n"
          "; Freitas, THEOCHEM 806, 23 (2007)); LJ: opls types in topol.top (Jorgensen et al., JACS 118, 11225 (1996));\n"
          "; bonded: oplsaa.ff ffbonded.itp as cited per line.\n",
    "DMC": "; dmc.itp: dimethyl carbonate, cis-cis, OPLS-AA. Generated by make_molecules.py (do not edit; rerun it).\n"
           "; Charges: LigParGen 1.14*CM1A (Dodda et al., NAR 45, W331 (2017); JPCB 121, 3864 (2017)); LJ: opls types in\n"
           "; topol.top (Jorgensen et al., JACS 118, 11225 (1996)); bonded: oplsaa.ff ffbonded.itp as cited per line.\n",
}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for build, stem in ((ec, "ec"), (dmc, "dmc")):
        mol, atoms, bonds, x = build()
        write_itp(os.path.join(outdir, stem + ".itp"), mol, atoms, bonds, HEADER[mol])
        write_gro(os.path.join(outdir, stem + "1.gro"), mol, atoms, x)


if __name__ == "__main__":
    main()
