#!/bin/sh
# run_densities.sh — density and energy-drift validation of ferrosolv against GROMACS and experiment.
#
# Three neat liquids, each built once, minimized once, and then run by BOTH codes from the same topology and the
# same minimized structure:
#
#   system  molecules                    T (K)   experiment (g/cm3)
#   ec      150 ethylene carbonate       313.15  1.32   (K. Xu, Chem. Rev. 104, 4303 (2004), Table 1)
#   dmc     150 dimethyl carbonate       298.15  1.06   (same source)
#   water   510 SPC/E (gmx solvate)      298.15  0.997  (SPC/E itself: ~0.998-1.00 in the literature)
#
# EC and DMC are OPLS-AA (forcefields/data, packed by `ferrosolv build`, decks build_ec.ini and build_dmc.ini);
# water uses the SPC/E topology of benchmarks/inputs/water-23k with GROMACS's spc216.gro tiled into a 2.5 nm cube.
# Every box is larger than 2 (rc + verlet-buffer) = 2.2 nm at rc = 1.0 nm.
#
# Stages (one per subcommand; `all`, the default, runs them in this order):
#   prepare    build the box (system.gro, system.top) and minimize it with ferrosolv (fs_em.ini) -> em/em.gro
#   ferrosolv  NPT: sd (BAOAB), tau-t 1 ps, Monte Carlo barostat at 1 bar every 25 steps, EQ + PROD ps in one run
#              (fs_npt.ini); then NVE (velocity Verlet, fs_nve.ini) from its final positions and velocities
#   gromacs    the same with GROMACS: sd, tau-t 1 ps, C-rescale barostat at 1 bar (gmx_npt.mdp); then NVE
#              (leap-frog md, gmx_nve.mdp) from the NPT checkpoint
#   table      analyze_densities.py: mean production density with a block-averaged standard error (5 blocks) per
#              code, GROMACS also over ferrosolv's (shorter) window, NVE drift in kT/ns per degree of freedom,
#              wall time per step -> $OUT/densities.md and $OUT/densities.json
# Common to both codes: PME (rc 1.0 nm, fourierspacing 0.12, order 4, ewald-rtol 1e-5), LJ cut at 1.0 nm with
# potential-shift, DispCorr EnerPres, h-bonds constrained (water: SETTLE), dt 2 fs, pair-list radius 1.1 nm.
#
# Length: full = 200 ps equilibration + 300 ps production (250,000 steps) per system and code, then NVE_PS of NVE.
#   LENGTH=f       scales equilibration and production of both codes (LENGTH=0.1: 20 ps + 30 ps)
#   FS_LENGTH=f    the same for ferrosolv only (default LENGTH);  GMX_LENGTH=f  for GROMACS only (default LENGTH)
#   FS_EQ_PS, FS_PROD_PS, GMX_EQ_PS, GMX_PROD_PS   lengths in ps per code, instead of the factors
#   NVE_PS=p       NVE length in ps (default 10);  FS_NVE_PS, GMX_NVE_PS per code (default NVE_PS)
# Other settings (environment):
#   SYSTEMS="ec dmc water"   which systems          OUT=build/validation   where everything is written
#   FERROSOLV=build/ferrosolv                       GMX=gmx (GROMACS 2022; single precision is fine)
#   GMX_NT=1       GROMACS threads                  SEED=1  ld-seed/gen-seed of both codes
#   FERROSOLV_BACKEND=opencl   ferrosolv's backend (default auto; on a 2-core CPU, opencl through PoCL runs these
#                  boxes in ~6 ms/step, ~30 min per system, the cpu reference in 30-40 ms/step)
#   FORCE=1        rerun stages whose outputs exist (otherwise a stage is skipped when its outputs exist for the
#                  same length: the script can be re-run, or run per code and per system in parallel after
#                  `prepare`; a killed or lengthened ferrosolv NPT run continues from its checkpoint)
#
# Examples:
#   benchmarks/validation/run_densities.sh                        # everything at full length (hours for ferrosolv)
#   LENGTH=0.05 benchmarks/validation/run_densities.sh            # a 25 ps smoke run of both codes
#   benchmarks/validation/run_densities.sh prepare
#   SYSTEMS=ec benchmarks/validation/run_densities.sh ferrosolv &  # one process per system and code, in parallel
#   SYSTEMS=dmc benchmarks/validation/run_densities.sh ferrosolv &
#   benchmarks/validation/run_densities.sh gromacs; wait; benchmarks/validation/run_densities.sh table
#
# Needs: the ferrosolv program, GROMACS (`gmx grompp/mdrun/energy/solvate`), /usr/bin/python3 with numpy and h5py.
# GROMACS is a reference here only; ferrosolv never needs it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LENGTH=${LENGTH:-1}
FS_LENGTH=${FS_LENGTH:-$LENGTH}
GMX_LENGTH=${GMX_LENGTH:-$LENGTH}
NVE_PS=${NVE_PS:-10}
FS_NVE_PS=${FS_NVE_PS:-$NVE_PS}
GMX_NVE_PS=${GMX_NVE_PS:-$NVE_PS}
SYSTEMS=${SYSTEMS:-"ec dmc water"}
OUT=${OUT:-$root/build/validation}
FERROSOLV=${FERROSOLV:-$root/build/ferrosolv}
GMX=${GMX:-gmx}
GMX_NT=${GMX_NT:-1}
SEED=${SEED:-1}
FORCE=${FORCE:-0}
PYTHON=${PYTHON:-/usr/bin/python3}
EQ_FULL_PS=200
PROD_FULL_PS=300
DT=0.002

die() {
    echo "run_densities.sh: $*" >&2
    exit 1
}

# ps x factor -> ps (3 decimals), and ps -> steps of DT
scaled_ps() { awk -v p="$1" -v f="$2" 'BEGIN { printf "%.3f", p * f }'; }
steps_of() { awk -v p="$1" -v dt="$DT" 'BEGIN { printf "%d", p / dt + 0.5 }'; }

temperature_of() {
    case $1 in
    ec) echo 313.15 ;;
    dmc | water) echo 298.15 ;;
    *) die "unknown system '$1' (ec, dmc, water)" ;;
    esac
}

# done_marker FILE TEXT: true when FILE exists with exactly TEXT (the stage ran with these settings) and FORCE=0
is_done() { [ "$FORCE" != 1 ] && [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

prepare() {
    sys=$1
    d=$OUT/$sys
    mkdir -p "$d/em"
    if [ -f "$d/em/em.gro" ] && [ "$FORCE" != 1 ]; then
        echo "[$sys] prepare: $d/em/em.gro exists, kept"
        return
    fi
    [ -x "$FERROSOLV" ] || die "no ferrosolv program at $FERROSOLV (set FERROSOLV=)"
    case $sys in
    ec | dmc)
        cp "$here/build_$sys.ini" "$d/build.ini"
        "$FERROSOLV" build "$d/build.ini" >"$d/build.out" 2>&1 || die "[$sys] ferrosolv build failed: $d/build.out"
        ;;
    water)
        (cd "$d" && "$GMX" -quiet solvate -cs spc216.gro -box 2.5 2.5 2.5 -o system.gro >solvate.out 2>&1) ||
            die "[$sys] gmx solvate failed: $d/solvate.out"
        natoms=$(sed -n 2p "$d/system.gro" | tr -d ' ')
        nmol=$((natoms / 3))
        [ "$nmol" -ge 400 ] || die "[$sys] only $nmol waters"
        sed -e "s/^SOL  *7754\$/SOL  $nmol/" -e "s/^SPC\/E water, 23,262 atoms\$/SPC\/E water, $nmol molecules/" \
            "$root/benchmarks/inputs/water-23k/topol.top" >"$d/system.top"
        grep -q "^SOL  $nmol\$" "$d/system.top" || die "[$sys] could not set the molecule count in system.top"
        ;;
    esac
    cp "$here/fs_em.ini" "$d/em/em.ini"
    "$FERROSOLV" run "$d/em/em.ini" >"$d/em/em.out" 2>&1 || die "[$sys] minimization failed: $d/em/em.out"
    echo "[$sys] prepare: $(grep '^summary' "$d/em/em.out")"
}

run_ferrosolv() {
    sys=$1
    t=$(temperature_of "$sys")
    d=$OUT/$sys/ferrosolv
    [ -f "$OUT/$sys/em/em.gro" ] || prepare "$sys"
    [ -x "$FERROSOLV" ] || die "no ferrosolv program at $FERROSOLV (set FERROSOLV=)"
    mkdir -p "$d"
    eq=${FS_EQ_PS:-$(scaled_ps $EQ_FULL_PS "$FS_LENGTH")}
    prod=${FS_PROD_PS:-$(scaled_ps $PROD_FULL_PS "$FS_LENGTH")}
    n=$(steps_of "$(awk -v a="$eq" -v b="$prod" 'BEGIN { print a + b }')")
    nnve=$(steps_of "$FS_NVE_PS")
    meta="eq_ps=$eq prod_ps=$prod nve_ps=$FS_NVE_PS npt_steps=$n nve_steps=$nnve ref_t=$t seed=$SEED"
    if is_done "$d/done" "$meta"; then
        echo "[$sys] ferrosolv: done earlier ($meta)"
        return
    fi
    rm -f "$d/done"
    [ "$FORCE" != 1 ] || rm -f "$d/npt.done"
    # An NPT run that was killed, or one being lengthened (a larger FS_LENGTH, FS_EQ_PS or FS_PROD_PS with the same
    # temperature, seed and deck), continues from its checkpoint (ferrosolv run --continue: bit for bit the run it
    # would have been; equilibration and production are one run, split only by the analysis); anything else starts
    # afresh.
    base="ref_t=$t seed=$SEED"
    cont=""
    if [ "$FORCE" != 1 ] && [ -f "$d/npt.cpt" ] && [ -f "$d/npt.base" ] && [ "$(cat "$d/npt.base")" = "$base" ] &&
        cmp -s "$here/fs_npt.ini" "$d/npt.ini"; then
        cont=--continue
    fi
    cp "$here/fs_npt.ini" "$d/npt.ini"
    cp "$here/fs_nve.ini" "$d/nve.ini"
    if is_done "$d/npt.done" "$base npt_steps=$n" && [ -n "$cont" ]; then
        echo "[$sys] ferrosolv NPT: done earlier ($base npt_steps=$n)"
    elif [ -n "$cont" ]; then
        echo "[$sys] ferrosolv NPT: continued from its checkpoint to $eq ps + $prod ps ($n steps) at $t K"
        "$FERROSOLV" run "$d/npt.ini" --continue --nsteps "$n" --ref-t "$t" --gen-temp "$t" --ld-seed "$SEED" \
            >>"$d/npt.out" 2>&1 || die "[$sys] ferrosolv NPT failed: $d/npt.out"
    else
        echo "$base" >"$d/npt.base"
        echo "[$sys] ferrosolv NPT: $eq ps + $prod ps ($n steps) at $t K"
        "$FERROSOLV" run "$d/npt.ini" --nsteps "$n" --ref-t "$t" --gen-temp "$t" --ld-seed "$SEED" >"$d/npt.out" 2>&1 ||
            die "[$sys] ferrosolv NPT failed: $d/npt.out"
    fi
    echo "$base npt_steps=$n" >"$d/npt.done"
    echo "[$sys] ferrosolv NVE: $FS_NVE_PS ps ($nnve steps)"
    "$FERROSOLV" run "$d/nve.ini" --nsteps "$nnve" --ref-t "$t" >"$d/nve.out" 2>&1 ||
        die "[$sys] ferrosolv NVE failed: $d/nve.out"
    echo "$meta" >"$d/done"
}

run_gromacs() {
    sys=$1
    t=$(temperature_of "$sys")
    d=$OUT/$sys/gromacs
    [ -f "$OUT/$sys/em/em.gro" ] || prepare "$sys"
    mkdir -p "$d"
    eq=${GMX_EQ_PS:-$(scaled_ps $EQ_FULL_PS "$GMX_LENGTH")}
    prod=${GMX_PROD_PS:-$(scaled_ps $PROD_FULL_PS "$GMX_LENGTH")}
    n=$(steps_of "$(awk -v a="$eq" -v b="$prod" 'BEGIN { print a + b }')")
    nnve=$(steps_of "$GMX_NVE_PS")
    meta="eq_ps=$eq prod_ps=$prod nve_ps=$GMX_NVE_PS npt_steps=$n nve_steps=$nnve ref_t=$t seed=$SEED"
    if is_done "$d/done" "$meta"; then
        echo "[$sys] gromacs: done earlier ($meta)"
        return
    fi
    rm -f "$d/done"
    sed -e "s/@NSTEPS@/$n/" -e "s/@REF_T@/$t/" -e "s/@SEED@/$SEED/" "$here/gmx_npt.mdp" >"$d/npt.mdp"
    sed -e "s/@NSTEPS@/$nnve/" "$here/gmx_nve.mdp" >"$d/nve.mdp"
    echo "[$sys] GROMACS NPT: $eq ps + $prod ps ($n steps) at $t K"
    (
        cd "$d"
        "$GMX" -quiet grompp -f npt.mdp -c ../em/em.gro -p ../system.top -po npt.out.mdp -o npt.tpr >grompp_npt.out 2>&1 ||
            die "[$sys] grompp (NPT) failed: $d/grompp_npt.out"
        "$GMX" -quiet mdrun -s npt.tpr -deffnm npt -nt "$GMX_NT" -pin off >mdrun_npt.out 2>&1 ||
            die "[$sys] mdrun (NPT) failed: $d/mdrun_npt.out"
        printf 'Potential\nTemperature\nPressure\nDensity\n\n' |
            "$GMX" -quiet energy -f npt.edr -o npt_energy.xvg >energy_npt.out 2>&1 ||
            die "[$sys] gmx energy (NPT) failed: $d/energy_npt.out"
        echo "[$sys] GROMACS NVE: $GMX_NVE_PS ps ($nnve steps)"
        "$GMX" -quiet grompp -f nve.mdp -c npt.gro -t npt.cpt -p ../system.top -po nve.out.mdp -o nve.tpr \
            >grompp_nve.out 2>&1 || die "[$sys] grompp (NVE) failed: $d/grompp_nve.out"
        "$GMX" -quiet mdrun -s nve.tpr -deffnm nve -nt "$GMX_NT" -pin off >mdrun_nve.out 2>&1 ||
            die "[$sys] mdrun (NVE) failed: $d/mdrun_nve.out"
        printf 'Kinetic-En.\nTemperature\nTotal-Energy\n\n' |
            "$GMX" -quiet energy -f nve.edr -o nve_energy.xvg >energy_nve.out 2>&1 ||
            die "[$sys] gmx energy (NVE) failed: $d/energy_nve.out"
    )
    echo "$meta" >"$d/done"
}

table() {
    # shellcheck disable=SC2086
    "$PYTHON" "$here/analyze_densities.py" "$OUT" $SYSTEMS
}

cmd=${1:-all}
case $cmd in
prepare) for s in $SYSTEMS; do prepare "$s"; done ;;
ferrosolv) for s in $SYSTEMS; do run_ferrosolv "$s"; done ;;
gromacs) for s in $SYSTEMS; do run_gromacs "$s"; done ;;
table) table ;;
all)
    for s in $SYSTEMS; do prepare "$s"; done
    for s in $SYSTEMS; do run_gromacs "$s"; done
    for s in $SYSTEMS; do run_ferrosolv "$s"; done
    table
    ;;
-h | --help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
*) die "unknown stage '$cmd' (prepare, ferrosolv, gromacs, table, all; --help)" ;;
esac
