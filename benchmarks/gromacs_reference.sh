#!/bin/sh
# gromacs_reference.sh: regenerates the GROMACS single-point reference energies in tests/data/gromacs_reference/.
#
# For every case below this script runs GROMACS in double precision (gmx_d) on the same .top/.gro/.mdp that
# tests/test_gromacs_agreement.c feeds to ferrosolv, and writes <case>.ref: '#' comment lines (the exact commands and
# the GROMACS version), one "#files<TAB>top<TAB>gro<TAB>mdp" line (paths relative to the repository root), then
# "<GROMACS term name><TAB><value>" for every energy term GROMACS reports, at full precision (gmx energy -dp).
# GROMACS is never a runtime or test dependency: run this by hand when an input changes, and commit the .ref files.
#
# Per case:
#   run.mdp = the case's mdp with nsteps = 0, nstcalcenergy = 1, nstenergy = 1 (keys replaced, not appended, since
#             grompp rejects a key given twice)
#   gmx_d grompp -f run.mdp -c <gro> -p <top> -o x.tpr -maxwarn 10
#   gmx_d mdrun -s x.tpr -rerun <gro> -nt 1 -e x.edr -g x.log         (a rerun leaves the coordinates unconstrained)
#   gmx_d energy -f x.edr -dp -o x.xvg                                 (every term; values read from x.xvg)
# A rerun writes no pressure terms, so "Pres. DC (bar)" (DispCorr = EnerPres only) comes from a second, ordinary
# zero-step run of the same system with continuation = yes (no initial constraining: the same coordinates) and
# gen-vel = no (grompp refuses to generate velocities for a continuation):
#   gmx_d grompp -f run0.mdp ... -o y.tpr; gmx_d mdrun -s y.tpr -nt 1 -e y.edr -g y.log; gmx_d energy -f y.edr -dp
# and the script checks that this run's Potential equals the rerun's.
#
# Cases (the variant .mdp files are written to tests/data/gromacs_reference/ by this script):
#   water-23k            benchmarks/inputs/water-23k/gromacs.mdp as is (DispCorr = no)
#   water-23k-enerpres   the same with DispCorr = EnerPres
#   water-23k-rc12       the same with rcoulomb = rvdw = 1.2, pme-order = 6, ewald-rtol = 1e-6 (rlist and the
#                        Verlet buffer left at their defaults)
#   ec-dmc               benchmarks/inputs/ec-dmc/grompp.mdp (100 EC + 100 DMC, OPLS-AA; see make_box.sh there)
#   water-charged        tests/data/charged: a 376-molecule water cube with a net charge of +4.6624 e (the
#                        neutralizing-background term that GROMACS adds to "Coul. recip.")
#
# Usage: sh benchmarks/gromacs_reference.sh [case ...]     (default: all cases; about a minute on 2 cores)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
gmx=${GMX:-gmx_d}
outdir=$root/tests/data/gromacs_reference
mkdir -p "$outdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$($gmx --version 2>/dev/null | sed -n 's/^GROMACS version: *//p')
precision=$($gmx --version 2>/dev/null | sed -n 's/^Precision: *//p')

# setkeys FILE "key=value ..." : prints FILE without the lines that set any of the keys (matched as grompp matches
# them: case-insensitive, '-' and '_' equivalent), then "key = value" for each.
setkeys() {
    awk -v keys="$2" '
        BEGIN { n = split(keys, k, " "); for (i = 1; i <= n; i++) { split(k[i], kv, "="); val[kv[1]] = kv[2]; order[i] = kv[1] } }
        { line = $0; sub(/;.*/, "", line)
          if (index(line, "=")) { key = substr(line, 1, index(line, "=") - 1); gsub(/[ \t]/, "", key)
                                  key = tolower(key); gsub(/_/, "-", key); if (key in val) next }
          print }
        END { for (i = 1; i <= n; i++) print order[i] " = " val[order[i]] }' "$1"
}

# energies EDR XVG : selects every term of EDR with gmx energy and writes them to XVG.
energies() {
    nterms=$($gmx -quiet energy -f "$1" < /dev/null 2>&1 | awk '/^ *[0-9]+  +[A-Za-z]/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/ && $i + 0 > m) m = $i + 0 } END { print m }')
    seq 1 "$nterms" | { cat; echo; } | $gmx -quiet energy -f "$1" -dp -o "$2" > /dev/null 2>&1
}

# xvgterm XVG NAME : the value of term NAME at the first frame of XVG (empty if absent).
xvgterm() {
    awk -v want="$2" '
        /^@ s[0-9]+ legend/ { s = $2; sub(/^s/, "", s); name = $0; sub(/^[^"]*"/, "", name); sub(/".*$/, "", name); col[name] = s + 2 }
        /^[ \t]*[-0-9.]/ && !done { if (want in col) print $(col[want]); done = 1 }' "$1"
}

reference() {
    name=$1 top=$2 gro=$3 mdp=$4
    echo "gromacs_reference.sh: $name"
    d=$work/$name
    mkdir -p "$d"
    setkeys "$root/$mdp" "nsteps=0 nstcalcenergy=1 nstenergy=1" > "$d/run.mdp"
    setkeys "$root/$mdp" "nsteps=0 nstcalcenergy=1 nstenergy=1 continuation=yes gen-vel=no" > "$d/run0.mdp"
    (
        cd "$d"
        $gmx -quiet grompp -f run.mdp -c "$root/$gro" -p "$root/$top" -o x.tpr -po x_out.mdp -maxwarn 10 > grompp.log 2>&1
        $gmx -quiet mdrun -s x.tpr -rerun "$root/$gro" -nt 1 -e x.edr -g x.log > mdrun.log 2>&1
        energies x.edr x.xvg
        $gmx -quiet grompp -f run0.mdp -c "$root/$gro" -p "$root/$top" -o y.tpr -po y_out.mdp -maxwarn 10 > grompp0.log 2>&1
        $gmx -quiet mdrun -s y.tpr -nt 1 -e y.edr -g y.log -c y.gro -o y.trr > mdrun0.log 2>&1
        energies y.edr y.xvg
    )
    p1=$(xvgterm "$d/x.xvg" Potential)
    p2=$(xvgterm "$d/y.xvg" Potential)
    if ! awk -v a="$p1" -v b="$p2" 'BEGIN { d = a - b; if (d < 0) d = -d; s = (b < 0 ? -b : b); exit !(d <= 1e-9 * s + 1e-9) }'; then
        echo "gromacs_reference.sh: $name: rerun Potential $p1 differs from the zero-step run's $p2" >&2
        exit 1
    fi
    grid=$(sed -n 's/^Using a fourier grid of \([0-9x]*\).*/\1/p' "$d/grompp.log")
    beta=$(sed -n 's/^Using a Gaussian width (1\/beta) of \([0-9.e+-]*\) nm.*/\1/p' "$d/x.log" | head -1)
    {
        echo "# GROMACS single-point reference energies, case $name (kJ/mol; Pres. DC in bar)."
        echo "# Written by benchmarks/gromacs_reference.sh on $(date -u +%Y-%m-%d); GROMACS $version ($precision precision)."
        echo "# run.mdp = $mdp with nsteps = 0, nstcalcenergy = 1, nstenergy = 1 (keys replaced)"
        echo "# $gmx grompp -f run.mdp -c $gro -p $top -o x.tpr -maxwarn 10"
        echo "# $gmx mdrun -s x.tpr -rerun $gro -nt 1 -e x.edr -g x.log"
        echo "# $gmx energy -f x.edr -dp -o x.xvg   (all terms selected; values from x.xvg)"
        echo "# Pres. DC (bar): same with run.mdp + continuation = yes, gen-vel = no, $gmx mdrun -s y.tpr -nt 1 (no rerun); Potential checked equal"
        echo "# grompp chose the PME grid $grid; mdrun used the Gaussian width 1/beta = $beta nm"
        printf '#files\t%s\t%s\t%s\n' "$top" "$gro" "$mdp"
        for term in "LJ (SR)" "Disper. corr." "Coulomb (SR)" "Coul. recip." "Bond" "Angle" "U-B" "Proper Dih." \
                    "Ryckaert-Bell." "Improper Dih." "Per. Imp. Dih." "LJ-14" "Coulomb-14" "Potential"; do
            v=$(xvgterm "$d/x.xvg" "$term")
            if [ -n "$v" ]; then printf '%s\t%s\n' "$term" "$v"; fi
        done
        v=$(xvgterm "$d/y.xvg" "Pres. DC")
        if [ -n "$v" ]; then printf '%s\t%s\n' "Pres. DC (bar)" "$v"; fi
    } > "$outdir/$name.ref"
}

variant() { # variant NAME "key=value ..." : writes tests/data/gromacs_reference/NAME.mdp from the water mdp
    {
        echo "; $1: benchmarks/inputs/water-23k/gromacs.mdp with $2"
        echo "; (written by benchmarks/gromacs_reference.sh; the reference energies are in $1.ref)"
        setkeys "$root/benchmarks/inputs/water-23k/gromacs.mdp" "$2"
    } > "$outdir/$1.mdp"
}

cases=${*:-water-23k water-23k-enerpres water-23k-rc12 ec-dmc water-charged}
W=benchmarks/inputs/water-23k
R=tests/data/gromacs_reference
for c in $cases; do
    case $c in
    water-23k) reference water-23k $W/topol.top $W/conf.gro $W/gromacs.mdp ;;
    water-23k-enerpres)
        variant water-23k-enerpres "DispCorr=EnerPres"
        reference water-23k-enerpres $W/topol.top $W/conf.gro $R/water-23k-enerpres.mdp ;;
    water-23k-rc12)
        variant water-23k-rc12 "rcoulomb=1.2 rvdw=1.2 pme-order=6 ewald-rtol=1e-6"
        reference water-23k-rc12 $W/topol.top $W/conf.gro $R/water-23k-rc12.mdp ;;
    ec-dmc)
        E=benchmarks/inputs/ec-dmc
        reference ec-dmc $E/topol.top $E/conf.gro $E/grompp.mdp ;;
    water-charged)
        reference water-charged tests/data/charged/topol.top tests/data/cli/water.gro tests/data/charged/run.mdp ;;
    *) echo "gromacs_reference.sh: unknown case '$c'" >&2; exit 2 ;;
    esac
done
echo "gromacs_reference.sh: wrote $outdir"
