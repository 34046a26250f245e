#!/bin/sh
# make_box.sh: rebuilds the EC/DMC benchmark box (conf.gro) from scratch with GROMACS tools (gmx_d, double
# precision; GROMACS 2022.5 Debian was used). GROMACS is only a build tool here, never a runtime dependency.
#
#   1. make_molecules.py writes ec.itp and dmc.itp (OPLS-AA; every parameter's source is cited there) and one
#      molecule of each (ec1.gro, dmc1.gro) built from the equilibrium bond lengths and angles.
#   2. gmx_d insert-molecules puts 100 EC and 100 DMC at random positions and orientations into a cube of edge
#      L = 2.911 nm: 100 x (88.063 + 90.079) g/mol in L^3 = 1.200 g/cm^3 (the experimental densities are EC 1.32
#      at 313 K, DMC 1.06 at 298 K). At liquid density random insertion needs a reduced overlap radius (-scale).
#   3. A steepest-descent minimization (minim.mdp below; same interactions as grompp.mdp) removes the overlaps,
#      followed by a short NVT run and a second minimization so that the liquid is relaxed rather than
#      merely unjammed; the result is written as conf.gro (3 decimals, as GROMACS writes .gro files).
#
# Usage: sh make_box.sh            (from any directory; a scratch directory is used and removed)
# Deterministic for a given GROMACS build: fixed seeds everywhere (insert-molecules -seed, gen-seed and ld-seed,
# which v-rescale uses), one thread.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
gmx=${GMX:-gmx_d}
L=2.911
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$here/make_molecules.py" "$here"
cp "$here/topol.top" "$here/ec.itp" "$here/dmc.itp" "$here/ec1.gro" "$here/dmc1.gro" "$work/"
cd "$work"

$gmx -quiet insert-molecules -ci ec1.gro -nmol 100 -box $L $L $L -seed 1997 -try 2000 -scale 0.40 -o ec.gro
$gmx -quiet insert-molecules -f ec.gro -ci dmc1.gro -nmol 100 -seed 2011 -try 2000 -scale 0.40 -o mix.gro
n=$(sed -n 2p mix.gro | tr -d ' ')
if [ "$n" != 2200 ]; then
    echo "make_box.sh: insert-molecules placed $n atoms instead of 2200; raise -try or lower -scale" >&2
    exit 1
fi

cat > minim.mdp <<EOF
integrator     = steep
emtol          = 100
emstep         = 0.001
nsteps         = 5000
cutoff-scheme  = Verlet
coulombtype    = PME
rcoulomb       = 1.0
rvdw           = 1.0
DispCorr       = EnerPres
constraints    = h-bonds
EOF
cat > nvt.mdp <<EOF
integrator     = md
dt             = 0.001
nsteps         = 5000
cutoff-scheme  = Verlet
coulombtype    = PME
rcoulomb       = 1.0
rvdw           = 1.0
DispCorr       = EnerPres
constraints    = h-bonds
tcoupl         = v-rescale
tc-grps        = System
tau-t          = 0.1
ref-t          = 300
gen-vel        = yes
gen-temp       = 300
gen-seed       = 42
ld-seed        = 4242
nstenergy      = 500
nstlog         = 500
EOF

$gmx -quiet grompp -f minim.mdp -c mix.gro -p topol.top -o em1.tpr -maxwarn 2
$gmx -quiet mdrun -s em1.tpr -deffnm em1 -nt 1
$gmx -quiet grompp -f nvt.mdp -c em1.gro -p topol.top -o nvt.tpr -maxwarn 2
$gmx -quiet mdrun -s nvt.tpr -deffnm nvt -nt 1
$gmx -quiet grompp -f minim.mdp -c nvt.gro -p topol.top -o em2.tpr -maxwarn 2
$gmx -quiet mdrun -s em2.tpr -deffnm em2 -nt 1

{
    echo "EC/DMC 100+100 OPLS-AA, 1.2 g/cm3, minimized (benchmarks/inputs/ec-dmc/make_box.sh)"
    sed -n '2,$p' em2.gro
} > "$here/conf.gro"
rm -f "$here/ec1.gro" "$here/dmc1.gro"
echo "make_box.sh: wrote $here/conf.gro"
