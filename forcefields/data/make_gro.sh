#!/bin/sh
# make_gro.sh: the reference geometry of every shipped molecule (<mol>.gro) from its starting geometry
# (<mol>_start.gro, written by make_data.py from the equilibrium bond lengths and angles or, for TFSI- and FSI-, the
# CL&P z-matrices), minimized in vacuum with its own force field (.itp) by GROMACS in double precision (gmx_d;
# GROMACS 2022.5 Debian was used). GROMACS only makes these data files; ferrosolv never runs it.
#
# One molecule in a 5 nm box, plain cut-off of 2.0 nm (every intramolecular pair inside it), steepest descent and
# then L-BFGS to a maximum force of 1 kJ/mol/nm. The result is written with 5 decimals and the start file removed.
#
# Usage: python3 make_data.py && sh make_gro.sh      (from any directory; a scratch directory is used and removed)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
gmx=${GMX:-gmx_d}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/steep.mdp" <<EOF
integrator     = steep
emtol          = 10
emstep         = 0.001
nsteps         = 20000
cutoff-scheme  = Verlet
coulombtype    = cut-off
rcoulomb       = 2.0
rvdw           = 2.0
pbc            = xyz
EOF
sed -e 's/^integrator .*/integrator     = l-bfgs/' -e 's/^emtol .*/emtol          = 1/' \
    "$work/steep.mdp" > "$work/lbfgs.mdp"

for stem in li pf6 tfsi fsi no3 ec dmc dme fec; do
    mol=$(awk '/moleculetype/ {getline; while ($0 ~ /^;/) getline; print $1; exit}' "$here/$stem.itp")
    if [ "$stem" = li ]; then  # one atom: nothing to minimize
        sed -e '1s/.*/Li+ (forcefields\/data\/make_gro.sh)/' "$here/li_start.gro" > "$here/li.gro"
        rm -f "$here/li_start.gro"
        continue
    fi
    cat > "$work/$stem.top" <<EOF
#include "$here/forcefield.itp"
#include "$here/$stem.itp"
[ system ]
$mol in vacuum
[ molecules ]
$mol 1
EOF
    (
        cd "$work"
        $gmx -quiet grompp -f steep.mdp -c "$here/${stem}_start.gro" -p "$stem.top" -o s.tpr -maxwarn 1 \
            >"$stem.log" 2>&1
        $gmx -quiet mdrun -s s.tpr -deffnm s -nt 1 >>"$stem.log" 2>&1
        $gmx -quiet grompp -f lbfgs.mdp -c s.gro -p "$stem.top" -o l.tpr -maxwarn 1 >>"$stem.log" 2>&1
        $gmx -quiet mdrun -s l.tpr -deffnm l -c l.g96 -nt 1 >>"$stem.log" 2>&1
        grep -E "Maximum force" l.log | tail -1
        # .g96 keeps 9 decimals (gmx trjconv -ndec crashes on .g96 input in 2022.5, so awk converts it)
        awk '/^POSITION/ {p = 1; next} /^END/ {p = 0} p {n++; line[n] = sprintf("%5d%-5s%5s%5d%10.5f%10.5f%10.5f",
             $1, $2, $3, $4, $5, $6, $7)} /^BOX/ {getline; box = sprintf("%10.5f%10.5f%10.5f", $1, $2, $3)}
             END {print "x"; printf "%5d\n", n; for (i = 1; i <= n; i++) print line[i]; print box}' l.g96 > out.gro
    ) || { tail -30 "$work/$stem.log"; exit 1; }
    {
        echo "$mol, minimized in vacuum (forcefields/data/make_gro.sh)"
        sed -n '2,$p' "$work/out.gro"
    } > "$here/$stem.gro"
    rm -f "$here/${stem}_start.gro"
    echo "make_gro.sh: wrote $here/$stem.gro"
done
