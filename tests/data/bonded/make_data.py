#!/usr/bin/env python3
"""make_data.py -- writes the made-up GROMACS test systems in tests/data/bonded/.

Two invented molecules (MLA, 12 atoms: an amino-alkenol; MLB, 8 atoms: a formate-like ester) with invented
parameters exercise what the OPLS-AA electrolyte inputs do not: [bondtypes]/[angletypes]/[dihedraltypes] look-ups
(X wildcards, the "most non-wildcard matches, first such line" rule, a funct 9 type spread over three lines),
Urey-Bradley angles (funct 5), dihedrals funct 1, 2, 3, 4 and 9, [pairs] with and without explicit parameters,
[pairtypes], [nonbond_params], [exclusions], [constraints], masses omitted from [atoms] lines, #include of files
in the parent directory and #ifdef. Nothing here is a real force field: every number is made up.

Variants (each a directory with topol.top, conf.gro, run.mdp):
  a/  comb-rule 1 (C6/C12), gen-pairs no, fudgeLJ 1, fudgeQQ 0.5, one [nonbond_params] override, pair parameters
      from [pairtypes] or explicit on the [pairs] line; DispCorr = no.
  b/  comb-rule 2 (sigma/epsilon), gen-pairs yes, fudgeLJ 0.5, fudgeQQ 0.8333, one [pairtypes] entry that
      overrides the generated pair; DispCorr = EnerPres, pme-order 5, fourierspacing 0.10.

Geometry: each molecule is built from internal coordinates drawn at random around the (made-up) equilibrium
values; a draw is rejected unless every listed dihedral and improper is at least 12 degrees away from 0 and 180,
every angle is below 168 degrees, and non-excluded intramolecular atoms are at least 0.22 nm apart. Copies are
rotated at random, placed at least 0.3 nm apart, and wrapped into the box, so that some are broken across the
periodic boundaries. Coordinates are written with 10 decimals (%16.10f: GROMACS derives the field width from the
spacing of the decimal points). Deterministic: random.Random(SEED).

Run from anywhere:  python3 tests/data/bonded/make_data.py
Reference energies: tests/data/bonded/make_refs.sh (needs gmx_d).
"""
import math
import os
import random

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))
BOX = (3.2, 3.3, 3.1)
ATTEMPTS = []

# --------------------------------------------------------------------------------------------------------------
# Atom types: name, atomic number, mass, sigma (nm), epsilon (kJ/mol). Made up.
ATOMTYPES = [
    ("ct", 6, 12.011, 0.350, 0.276),
    ("cm", 6, 12.011, 0.355, 0.293),
    ("c", 6, 12.011, 0.375, 0.439),
    ("oh", 8, 15.999, 0.312, 0.711),
    ("os", 8, 15.999, 0.300, 0.711),
    ("o", 8, 15.999, 0.296, 0.879),
    ("nz", 7, 14.007, 0.325, 0.711),
    ("hc", 1, 1.008, 0.250, 0.126),
    ("hn", 1, 1.008, 0.110, 0.046),
    ("ho", 1, 1.008, 0.000, 0.000),
]
TYPE = {t[0]: t for t in ATOMTYPES}

# Bond types (funct 1): b0 nm, kb kJ/mol/nm^2
BONDTYPES = {
    ("ct", "hc"): (0.1090, 284512.0),
    ("ct", "ct"): (0.1529, 224262.4),
    ("ct", "oh"): (0.1410, 267776.0),
    ("ct", "cm"): (0.1510, 265265.6),
    ("cm", "cm"): (0.1340, 459403.2),
    ("cm", "hc"): (0.1080, 307105.6),
    ("cm", "nz"): (0.1380, 357313.6),
    ("hn", "nz"): (0.1010, 363171.2),
    ("ct", "os"): (0.1430, 267776.0),
    ("c", "os"): (0.1327, 179075.2),
    ("c", "o"): (0.1229, 476976.0),
    ("c", "hc"): (0.1090, 284512.0),
}
# Angle types: funct 1 -> (theta0, k); funct 5 -> (theta0, k, r13, kub)
ANGLETYPES = {
    ("hc", "ct", "hc"): (5, 107.8, 276.144, 0.1802, 4000.0),
    ("hc", "ct", "ct"): (1, 110.7, 313.800),
    ("ct", "ct", "oh"): (1, 109.5, 418.400),
    ("ct", "ct", "cm"): (1, 111.1, 527.184),
    ("cm", "ct", "oh"): (1, 109.5, 418.400),
    ("ct", "oh", "ho"): (1, 108.5, 460.240),
    ("ct", "cm", "cm"): (1, 124.0, 585.760),
    ("ct", "cm", "nz"): (1, 116.0, 585.760),
    ("cm", "cm", "nz"): (1, 120.0, 585.760),
    ("cm", "cm", "hc"): (1, 120.0, 292.880),
    ("cm", "nz", "hn"): (1, 119.8, 292.880),
    ("hn", "nz", "hn"): (1, 113.0, 292.880),
    ("hc", "ct", "os"): (5, 109.5, 292.880, 0.2040, 3000.0),
    ("ct", "os", "c"): (5, 116.9, 694.544, 0.2380, 12000.0),
    ("os", "c", "o"): (5, 123.4, 694.544, 0.2250, 15000.0),
    ("os", "c", "hc"): (5, 111.0, 334.720, 0.2020, 5000.0),
    ("o", "c", "hc"): (5, 121.0, 292.880, 0.2010, 5000.0),
}
BONDED_TYPE_SUFFIX = ""

# Dihedral types, in file order (order matters: GROMACS takes the first line with the most non-wildcard matches,
# and the extra terms of a funct 9 type must be on the lines right after it, with identical atom names).
DIHEDRALTYPES = [
    # wildcard BEFORE the more specific hc-ct-ct-oh below: the specific one must win for H-C1-C2-O1
    ("X", "ct", "ct", "X", 9, [(0.0, 0.6276, 3)]),
    ("hc", "ct", "ct", "oh", 9, [(0.0, 0.9790, 3), (180.0, 0.4184, 1)]),
    ("ct", "ct", "cm", "cm", 9, [(0.0, 1.2552, 1), (180.0, 2.0920, 2), (0.0, 0.8368, 3)]),
    ("ct", "ct", "cm", "nz", 9, [(180.0, 1.6736, 2), (0.0, 0.4602, 3)]),
    ("oh", "ct", "cm", "nz", 1, [(45.0, 3.1380, 2)]),
    ("X", "cm", "cm", "X", 9, [(180.0, 27.8236, 2), (0.0, 0.7500, 4)]),
    ("X", "ct", "oh", "ho", 3, [(-0.4435, 3.8367, 0.7238, -4.1170, 0.0, 0.0)]),
    ("ct", "ct", "oh", "ho", 3, [(1.4644, 1.3807, 0.7322, -3.5773, 0.0, 0.0)]),
    ("X", "cm", "nz", "X", 3, [(5.7530, -1.2552, -4.4978, 0.0, 0.0, 0.0)]),
    ("X", "ct", "os", "X", 3, [(1.5313, 4.5940, 0.0, -6.1254, 0.0, 0.0)]),
    ("ct", "os", "c", "o", 9, [(180.0, 10.4600, 2), (0.0, 2.3012, 1), (0.0, 0.3138, 3)]),
    ("X", "X", "cm", "nz", 4, [(180.0, 4.6024, 2)]),
    ("X", "X", "c", "o", 4, [(180.0, 43.9320, 2)]),
    ("c", "os", "o", "hc", 2, [(15.0, 167.4000)]),
]

# --------------------------------------------------------------------------------------------------------------
# Molecules. atoms: (name, type, charge, write_mass). bonds: (i, j[, explicit params]). 1-based.
MLA = {
    "name": "MLA",
    "nrexcl": 3,
    "atoms": [
        ("C1", "ct", 0.02, True),
        ("H11", "hc", 0.06, False),  # mass from [atomtypes]
        ("H12", "hc", 0.06, True),
        ("C2", "ct", 0.15, True),
        ("O1", "oh", -0.68, True),
        ("HO1", "ho", 0.43, True),
        ("C3", "cm", 0.10, True),
        ("C4", "cm", -0.23, True),
        ("H4", "hc", 0.15, False),
        ("N1", "nz", -0.90, True),
        ("HN1", "hn", 0.42, True),
        ("HN2", "hn", 0.42, True),
    ],
    "bonds": [(1, 2), (1, 3), (1, 4), (4, 5), (4, 7), (7, 8, (0.1345, 450000.0)), (8, 9), (7, 10), (10, 11),
              (10, 12)],
    "constraints": [(5, 6, 0.0945)],
    # angles: (i, j, k) looked up, or (i, j, k, funct, params...) explicit
    "angles": [(2, 1, 3), (2, 1, 4), (3, 1, 4), (1, 4, 5), (1, 4, 7), (5, 4, 7, 1, 107.0, 450.0), (4, 5, 6),
               (4, 7, 8), (4, 7, 10), (8, 7, 10), (7, 8, 9), (7, 10, 11), (7, 10, 12), (11, 10, 12)],
    # dihedrals: (i, j, k, l, funct) looked up, or with explicit params appended
    "dihedrals": [
        (2, 1, 4, 5, 9), (2, 1, 4, 7, 9), (3, 1, 4, 5, 9), (3, 1, 4, 7, 9),
        (1, 4, 5, 6, 3), (7, 4, 5, 6, 3),
        (1, 4, 7, 8, 9), (1, 4, 7, 10, 9),
        (5, 4, 7, 8, 1, 10.0, 2.5, 3),
        (5, 4, 7, 10, 1),
        (4, 7, 8, 9, 9), (10, 7, 8, 9, 9),
        (4, 7, 10, 11, 3), (4, 7, 10, 12, 3), (8, 7, 10, 11, 3), (8, 7, 10, 12, 3),
        (4, 8, 7, 10, 4),                    # periodic improper on C3, looked up with two wildcards
        (10, 7, 11, 12, 2, 35.26, 41.84),    # harmonic improper on N1, explicit
    ],
    "exclusions": [(2, 11, 12)],
    # explicit pair parameters (comb-rule dependent: #ifdef'd in the .itp)
    "pair_explicit": {(2, 5): {"a": (0.0011, 1.1e-06), "b": (0.29, 0.15)}},
}
MLB = {
    "name": "MLB",
    "nrexcl": 3,
    "atoms": [
        ("C1", "ct", 0.16, True),
        ("H1", "hc", 0.03, True),
        ("H2", "hc", 0.03, True),
        ("H3", "hc", 0.03, True),
        ("O1", "os", -0.40, True),
        ("C2", "c", 0.51, True),
        ("O2", "o", -0.43, True),
        ("H4", "hc", 0.07, True),
    ],
    "bonds": [(1, 2), (1, 3), (1, 4), (1, 5), (5, 6), (6, 7), (6, 8, (0.1100, 300000.0))],
    "constraints": [],
    "angles": [(2, 1, 3), (2, 1, 4), (3, 1, 4), (2, 1, 5), (3, 1, 5), (4, 1, 5, 5, 108.0, 300.0, 0.2060, 3500.0),
               (1, 5, 6), (5, 6, 7), (5, 6, 8), (7, 6, 8)],
    "dihedrals": [
        (2, 1, 5, 6, 3), (3, 1, 5, 6, 3), (4, 1, 5, 6, 3),
        (1, 5, 6, 7, 9),
        (1, 5, 6, 8, 1, 180.0, 6.2760, 2),
        (5, 8, 6, 7, 4),                     # periodic improper on C2, X X c o
        (6, 5, 7, 8, 2),                     # harmonic improper on C2, looked up (c os o hc)
    ],
    "exclusions": [],
    "pair_explicit": {(1, 8): {"a": (0.0020, 3.0e-06), "b": (0.31, 0.20)}},
}
MOLECULES = [(MLA, 3), (MLB, 4)]

# Variant-specific non-bonded data
NONBOND_PARAMS_A = [("oh", "nz", 0.0030, 3.5e-06)]  # C6, C12 override
PAIRTYPES_B = [("hc", "oh", 0.2650, 0.1800)]  # sigma, epsilon: replaces the generated (fudged) pair

# --------------------------------------------------------------------------------------------------------------
# Helpers


def c6c12(sig, eps):
    return 4.0 * eps * sig ** 6, 4.0 * eps * sig ** 12


def key2(a, b):
    return (a, b) if (a, b) in BONDTYPES else (b, a)


def bond_params(mol, b):
    if len(b) > 2:
        return b[2]
    ta, tb = mol["atoms"][b[0] - 1][1], mol["atoms"][b[1] - 1][1]
    return BONDTYPES[key2(ta, tb)]


def angle_params(mol, a):
    if len(a) > 3:
        return a[3:]
    t = tuple(mol["atoms"][x - 1][1] for x in a[:3])
    return ANGLETYPES[t] if t in ANGLETYPES else ANGLETYPES[t[::-1]]


def improper_xi0(mol, d):
    t = tuple(mol["atoms"][x - 1][1] for x in d[:4])
    for e in DIHEDRALTYPES:
        if e[4] == 2 and (e[:4] == t or e[:4] == t[::-1]):
            return e[5][0][0]
    raise KeyError(t)


def graph(mol):
    n = len(mol["atoms"])
    adj = {i: set() for i in range(1, n + 1)}
    for b in mol["bonds"]:
        adj[b[0]].add(b[1])
        adj[b[1]].add(b[0])
    for c in mol["constraints"]:
        adj[c[0]].add(c[1])
        adj[c[1]].add(c[0])
    return adj


def distances(mol):
    adj = graph(mol)
    n = len(mol["atoms"])
    dist = {}
    for s in range(1, n + 1):
        d = {s: 0}
        frontier = [s]
        while frontier:
            nxt = []
            for u in frontier:
                for v in adj[u]:
                    if v not in d:
                        d[v] = d[u] + 1
                        nxt.append(v)
            frontier = nxt
        dist[s] = d
    return dist


def pairs14(mol):
    dist = distances(mol)
    n = len(mol["atoms"])
    return [(i, j) for i in range(1, n + 1) for j in range(i + 1, n + 1) if dist[i].get(j) == 3]


def excluded(mol):
    dist = distances(mol)
    n = len(mol["atoms"])
    ex = set()
    for i in range(1, n + 1):
        for j in range(i + 1, n + 1):
            if dist[i].get(j, 99) <= mol["nrexcl"]:
                ex.add((i, j))
    for e in mol["exclusions"]:
        for j in e[1:]:
            ex.add((min(e[0], j), max(e[0], j)))
    return ex


# vector algebra (no numpy)
def sub(a, b):
    return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]


def add(a, b):
    return [a[0] + b[0], a[1] + b[1], a[2] + b[2]]


def scale(a, s):
    return [a[0] * s, a[1] * s, a[2] * s]


def dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def norm(a):
    return math.sqrt(dot(a, a))


def unit(a):
    return scale(a, 1.0 / norm(a))


def place(a, b, c, bond, angle, tors):
    """d bonded to c, angle b-c-d, torsion a-b-c-d (degrees)."""
    bc = unit(sub(c, b))
    n = unit(cross(sub(b, a), bc))
    m = cross(n, bc)
    th, ph = math.radians(angle), math.radians(tors)
    l = [-bond * math.cos(th), bond * math.sin(th) * math.cos(ph), bond * math.sin(th) * math.sin(ph)]
    return add(c, add(scale(bc, l[0]), add(scale(m, l[1]), scale(n, l[2]))))


def angle_deg(a, b, c):
    u, v = sub(a, b), sub(c, b)
    return math.degrees(math.atan2(norm(cross(u, v)), dot(u, v)))


def dihedral_deg(a, b, c, d):
    rij, rkj, rkl = sub(a, b), sub(c, b), sub(c, d)
    m, n = cross(rij, rkj), cross(rkj, rkl)
    return math.degrees(math.atan2(norm(rkj) * dot(rij, n), dot(m, n)))


def build(mol, rng):
    """Random geometry by a spanning-tree walk; retried until the acceptance rules hold."""
    adj = graph(mol)
    n = len(mol["atoms"])
    eq_bond = {}
    for b in mol["bonds"]:
        eq_bond[frozenset(b[:2])] = bond_params(mol, b)[0]
    for c in mol["constraints"]:
        eq_bond[frozenset(c[:2])] = c[2]
    constrained = {frozenset(c[:2]) for c in mol["constraints"]}
    ex = excluded(mol)
    for attempt in range(100000):
        pos = {}
        order = [1]
        parent = {1: None}
        while len(order) < n:  # breadth-first order
            for u in list(order):
                for v in sorted(adj[u]):
                    if v not in parent:
                        parent[v] = u
                        order.append(v)
        for idx, v in enumerate(order):
            p = parent[v]
            r = eq_bond[frozenset((v, p))] if p else 0.0
            if p and frozenset((v, p)) not in constrained:
                r += rng.uniform(-0.006, 0.006)
            if idx == 0:
                pos[v] = [0.0, 0.0, 0.0]
            elif idx == 1:
                pos[v] = [r, 0.0, 0.0]
            else:
                # angle reference q: a placed neighbour of p. Torsion reference: for a branch (p already has
                # another placed neighbour b) the torsion b-q-p-v is set like a tetrahedral (+-120) or a slightly
                # pyramidal trigonal (180 +- 14..28) centre; otherwise a neighbour of q, at a random torsion.
                q = next(x for x in order[:idx] if x in adj[p] and x != v)
                eq = [a for a in mol["angles"] if a[1] == p and {a[0], a[2]} == {q, v}]
                ang = angle_params(mol, eq[0])[1] + rng.uniform(-8.0, 8.0) if eq else rng.uniform(100.0, 125.0)
                br = next((x for x in order[:idx] if x in adj[p] and x not in (q, v)), None)
                if br is not None:
                    ref = pos[br]
                    trig = len(adj[p]) == 3 and sum(
                        angle_params(mol, a)[1] for a in mol["angles"] if a[1] == p) > 345.0
                    sign = rng.choice((-1.0, 1.0))
                    tor = sign * (180.0 - rng.uniform(14.0, 28.0)) if trig else sign * rng.uniform(108.0, 132.0)
                else:
                    s = next((x for x in order[:idx] if x in adj[q] and x not in (p, v)), None)
                    ref = pos[s] if s is not None else [0.0, 1.0, 0.3]
                    tor = rng.uniform(-180.0, 180.0)
                pos[v] = place(ref, pos[q], pos[p], r, ang, tor)
        ok = True
        for d in mol["dihedrals"]:
            phi = dihedral_deg(*(pos[x] for x in d[:4]))
            if abs(phi) < 12.0 or abs(phi) > 168.0:
                ok = False
        for d in mol["dihedrals"]:
            if d[4] == 2:  # harmonic impropers: within 30 degrees of xi0
                xi0 = d[5] if len(d) > 5 else improper_xi0(mol, d)
                dxi = (dihedral_deg(*(pos[x] for x in d[:4])) - xi0 + 180.0) % 360.0 - 180.0
                if abs(dxi) > 30.0:
                    ok = False
        for a in mol["angles"]:
            th = angle_deg(*(pos[x] for x in a[:3]))
            if th > 168.0 or abs(th - angle_params(mol, a)[1]) > 15.0:
                ok = False
        for i, j in pairs14(mol):  # no hard 1-4 clashes
            si, sj = TYPE[mol["atoms"][i - 1][1]][3], TYPE[mol["atoms"][j - 1][1]][3]
            if norm(sub(pos[i], pos[j])) < 0.8 * 0.5 * (si + sj):
                ok = False
        for i in range(1, n + 1):
            for j in range(i + 1, n + 1):
                if (i, j) not in ex and norm(sub(pos[i], pos[j])) < 0.22:
                    ok = False
        if ok:
            ATTEMPTS.append(attempt + 1)
            return [pos[i] for i in range(1, n + 1)], attempt
    raise RuntimeError("no acceptable geometry for " + mol["name"])


def random_rotation(rng):
    q = [rng.gauss(0, 1) for _ in range(4)]
    s = math.sqrt(sum(x * x for x in q))
    w, x, y, z = (c / s for c in q)
    return [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]


def min_image(d):
    return [d[k] - BOX[k] * round(d[k] / BOX[k]) for k in range(3)]


def build_system(rng):
    placed = []  # (molname, atomnames, resnr, positions whole)
    centres_forced = [(0.02, 0.05, 3.05), (3.15, 1.6, 0.03)]  # two copies straddle box edges/corner
    k = 0
    for mol, count in MOLECULES:
        for c in range(count):
            geo, _ = build(mol, rng)
            for attempt in range(10000):
                rot = random_rotation(rng)
                com = scale([sum(p[x] for p in geo) for x in range(3)], 1.0 / len(geo))
                if k < len(centres_forced) and attempt == 0:
                    centre = list(centres_forced[k])
                else:
                    centre = [rng.uniform(0, BOX[x]) for x in range(3)]
                new = []
                for p in geo:
                    d = sub(p, com)
                    new.append(add(centre, [dot(rot[x], d) for x in range(3)]))
                clash = any(norm(min_image(sub(p, q))) < 0.30 for _, _, _, other in placed for p in new for q in other)
                if not clash:
                    break
            else:
                raise RuntimeError("could not place molecule")
            placed.append((mol, c, k, new))
            k += 1
    return placed


def fmt(x):
    return ("%.10g" % x)


# --------------------------------------------------------------------------------------------------------------
# Writers

HEADER = """; {fname} -- part of the made-up test systems of ferrosolv (tests/data/bonded/, written by make_data.py).
; INVENTED PARAMETERS: nothing in this file is a real force field. The numbers only need to be plausible and to
; exercise the GROMACS topology features the bonded and topology-reader tests check.
"""


def write_ffbonded():
    out = [HEADER.format(fname="ffbonded.itp")]
    out.append("[ bondtypes ]\n; i    j    funct  b0 (nm)    kb (kJ/mol/nm^2)   -- made up\n")
    for (a, b), (b0, kb) in BONDTYPES.items():
        out.append("  %-4s %-4s 1      %-10s %s\n" % (a, b, fmt(b0), fmt(kb)))
    out.append("\n[ angletypes ]\n; i    j    k    funct  theta0  k_theta  [r13  k_ub for funct 5]   -- made up\n")
    for (a, b, c), p in ANGLETYPES.items():
        out.append("  %-4s %-4s %-4s %d      %s\n" % (a, b, c, p[0], "  ".join(fmt(x) for x in p[1:])))
    out.append("\n[ dihedraltypes ]\n")
    out.append("; i    j    k    l    funct  parameters   -- made up\n")
    out.append("; X is a wildcard; GROMACS uses the first line with the most non-X matches, and the extra terms\n")
    out.append("; of a funct 9 type are the adjacent lines with the same four names.\n")
    for a, b, c, d, f, terms in DIHEDRALTYPES:
        for t in terms:
            out.append("  %-4s %-4s %-4s %-4s %d      %s\n" % (a, b, c, d, f, "  ".join(fmt(x) for x in t)))
    with open(os.path.join(HERE, "ffbonded.itp"), "w") as fh:
        fh.write("".join(out))


def write_itp(mol):
    fname = mol["name"].lower() + ".itp"
    out = [HEADER.format(fname=fname)]
    out.append("\n[ moleculetype ]\n; name  nrexcl\n  %s   %d\n" % (mol["name"], mol["nrexcl"]))
    out.append("\n[ atoms ]\n;  nr type resnr res  atom  cgnr  charge     mass\n")
    for i, (name, typ, q, wm) in enumerate(mol["atoms"], 1):
        line = "  %3d  %-4s 1  %s  %-4s %3d  %8.4f" % (i, typ, mol["name"], name, i, q)
        if wm:
            line += "  %8.4f" % TYPE[typ][2]
        else:
            line += "            ; mass from [atomtypes]"
        out.append(line + "\n")
    out.append("\n[ bonds ]\n")
    for b in mol["bonds"]:
        if len(b) > 2:
            out.append("  %3d %3d  1   %s  %s   ; explicit\n" % (b[0], b[1], fmt(b[2][0]), fmt(b[2][1])))
        else:
            out.append("  %3d %3d  1\n" % b)
    if mol["constraints"]:
        out.append("\n[ constraints ]\n; funct 1: also a chemical bond for exclusions (nrexcl)\n")
        for c in mol["constraints"]:
            out.append("  %3d %3d  1   %s\n" % (c[0], c[1], fmt(c[2])))
    out.append("\n[ pairs ]\n")
    for p in pairs14(mol):
        if p in mol["pair_explicit"]:
            e = mol["pair_explicit"][p]
            out.append("#ifdef COMB_RULE_1\n  %3d %3d  1   %s  %s   ; explicit C6 C12\n#else\n"
                       "  %3d %3d  1   %s  %s   ; explicit sigma epsilon\n#endif\n"
                       % (p[0], p[1], fmt(e["a"][0]), fmt(e["a"][1]), p[0], p[1], fmt(e["b"][0]), fmt(e["b"][1])))
        else:
            out.append("  %3d %3d  1\n" % p)
    out.append("\n[ angles ]\n")
    for a in mol["angles"]:
        if len(a) > 3:
            out.append("  %3d %3d %3d  %d   %s   ; explicit\n" % (a[0], a[1], a[2], a[3],
                                                                  "  ".join(fmt(x) for x in a[4:])))
        else:
            f = angle_params(mol, a)[0]
            out.append("  %3d %3d %3d  %d\n" % (a[0], a[1], a[2], f))
    out.append("\n[ dihedrals ]\n")
    for d in mol["dihedrals"]:
        if len(d) > 5:
            out.append("  %3d %3d %3d %3d  %d   %s   ; explicit\n" % (d[:5] + ("  ".join(fmt(x) for x in d[5:]),)))
        else:
            out.append("  %3d %3d %3d %3d  %d\n" % d)
    if mol["exclusions"]:
        out.append("\n[ exclusions ]\n")
        for e in mol["exclusions"]:
            out.append("  " + "  ".join("%3d" % x for x in e) + "\n")
    with open(os.path.join(HERE, fname), "w") as fh:
        fh.write("".join(out))


def pair_types_needed():
    need = set()
    for mol, _ in MOLECULES:
        for p in pairs14(mol):
            if p in mol["pair_explicit"]:
                continue
            ta, tb = mol["atoms"][p[0] - 1][1], mol["atoms"][p[1] - 1][1]
            need.add(tuple(sorted((ta, tb))))
    return sorted(need)


def write_top(variant):
    d = os.path.join(HERE, variant)
    os.makedirs(d, exist_ok=True)
    out = [HEADER.format(fname=variant + "/topol.top")]
    if variant == "a":
        out.append("; Variant a: comb-rule 1 (C6, C12), gen-pairs no, one [nonbond_params] override; 1-4 pair\n"
                   "; parameters from [pairtypes] (made up: 0.8 x the combined LJ) or explicit on the [pairs] line.\n")
        out.append("\n#define COMB_RULE_1\n")
        out.append("\n[ defaults ]\n; nbfunc comb-rule gen-pairs fudgeLJ fudgeQQ\n  1      1         no        1.0     0.5\n")
        out.append("\n[ atomtypes ]\n; name at.num  mass     charge ptype  C6            C12   -- made up\n")
        for name, z, m, s, e in ATOMTYPES:
            c6, c12 = c6c12(s, e)
            out.append("  %-4s %3d  %8.4f  0.0000  A   %.8e  %.8e\n" % (name, z, m, c6, c12))
        out.append("\n[ nonbond_params ]\n; i   j   funct  C6  C12   -- made up, replaces the combination rule\n")
        for a, b, c6, c12 in NONBOND_PARAMS_A:
            out.append("  %-4s %-4s 1   %s  %s\n" % (a, b, fmt(c6), fmt(c12)))
        out.append("\n[ pairtypes ]\n; i   j   funct  C6  C12   -- made up\n")
        for a, b in pair_types_needed():
            ca = c6c12(*TYPE[a][3:5])
            cb = c6c12(*TYPE[b][3:5])
            c6 = 0.8 * math.sqrt(ca[0] * cb[0])
            c12 = 0.8 * math.sqrt(ca[1] * cb[1])
            out.append("  %-4s %-4s 1   %.8e  %.8e\n" % (a, b, c6, c12))
    else:
        out.append("; Variant b: comb-rule 2 (sigma, epsilon), gen-pairs yes with fudgeLJ 0.5; one [pairtypes]\n"
                   "; entry (used as given, not scaled by fudgeLJ) overrides the generated pair.\n")
        out.append("\n[ defaults ]\n; nbfunc comb-rule gen-pairs fudgeLJ fudgeQQ\n  1      2         yes       0.5     0.8333\n")
        out.append("\n[ atomtypes ]\n; name at.num  mass     charge ptype  sigma   epsilon   -- made up\n")
        for name, z, m, s, e in ATOMTYPES:
            out.append("  %-4s %3d  %8.4f  0.0000  A   %s  %s\n" % (name, z, m, fmt(s), fmt(e)))
        out.append("\n[ pairtypes ]\n; i   j   funct  sigma  epsilon   -- made up\n")
        for a, b, s, e in PAIRTYPES_B:
            out.append("  %-4s %-4s 1   %s  %s\n" % (a, b, fmt(s), fmt(e)))
    out.append('\n#include "../ffbonded.itp"\n#include "../mla.itp"\n#include "../mlb.itp"\n')
    out.append("\n[ system ]\nmade-up bonded test system, variant %s\n" % variant)
    out.append("\n[ molecules ]\n")
    for mol, count in MOLECULES:
        out.append("%s  %d\n" % (mol["name"], count))
    with open(os.path.join(d, "topol.top"), "w") as fh:
        fh.write("".join(out))


def write_mdp(variant):
    d = os.path.join(HERE, variant)
    lines = [
        "; run.mdp -- single-point energies of the made-up bonded test system, variant %s (gmx_d mdrun -rerun)" % variant,
        "integrator      = md",
        "nsteps          = 0",
        "cutoff-scheme   = Verlet",
        "pbc             = xyz",
        "nstlist         = 10",
        "coulombtype     = PME",
        "rcoulomb        = 1.0",
        "vdwtype         = Cut-off",
        "vdw-modifier    = Potential-shift",
        "rvdw            = 1.0",
        "DispCorr        = %s" % ("no" if variant == "a" else "EnerPres"),
        "fourierspacing  = %s" % ("0.12" if variant == "a" else "0.10"),
        "pme-order       = %d" % (4 if variant == "a" else 5),
        "ewald-rtol      = 1e-5",
        "constraints     = none",
        "continuation    = yes",
        "nstcalcenergy   = 1",
        "nstenergy       = 1",
        "",
    ]
    with open(os.path.join(d, "run.mdp"), "w") as fh:
        fh.write("\n".join(lines))


def write_gro(variant, placed):
    d = os.path.join(HERE, variant)
    out = ["made-up bonded test system, variant %s (make_data.py, seed %d)\n" % (variant, SEED)]
    natoms = sum(len(p[3]) for p in placed)
    out.append("%5d\n" % natoms)
    a = 1
    for mol, _, k, pos in placed:
        for (name, _, _, _), p in zip(mol["atoms"], pos):
            w = [p[x] - BOX[x] * math.floor(p[x] / BOX[x]) for x in range(3)]
            out.append("%5d%-5s%5s%5d%16.10f%16.10f%16.10f\n" % (k + 1, mol["name"], name, a, w[0], w[1], w[2]))
            a += 1
    out.append("%12.8f%12.8f%12.8f\n" % BOX)
    with open(os.path.join(d, "conf.gro"), "w") as fh:
        fh.write("".join(out))


def main():
    rng = random.Random(SEED)
    placed = build_system(rng)
    write_ffbonded()
    write_itp(MLA)
    write_itp(MLB)
    for v in ("a", "b"):
        write_top(v)
        write_mdp(v)
        write_gro(v, placed)
    # report the geometry of the listed dihedrals and angles
    for mol, c, k, pos in placed:
        phis = [dihedral_deg(*(pos[x - 1] for x in d[:4])) for d in mol["dihedrals"]]
        print("%s copy %d: |phi| in [%.1f, %.1f] deg" % (mol["name"], c, min(abs(p) for p in phis),
                                                          max(abs(p) for p in phis)))
    print("attempts per molecule:", ATTEMPTS)


if __name__ == "__main__":
    main()
