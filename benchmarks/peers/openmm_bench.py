#!/usr/bin/python3
"""openmm_bench.py — OpenMM on a ferrosolv benchmark input, timed like `ferrosolv bench`; JSON on the last line.

Usage: /usr/bin/python3 openmm_bench.py DIR PLATFORM [STEPS] [WARMUP] [BETA NX NY NZ]
  DIR       a folder with conf.gro and topol.top (benchmarks/inputs/water-23k)
  PLATFORM  OpenCL, CPU, CUDA or Reference (OpenMM 7.7 from Debian: python3-simtk + libopenmm-plugins)

The same model as ferrosolv runs: PME with a 1.0 nm cut-off, LJ cut at 1.0 nm (OpenMM shifts nothing; the cost is
the same), rigid water (SETTLE), hydrogen bonds constrained, 2 fs velocity Verlet. BETA (nm^-1) and the grid
NX NY NZ, when given, are set on OpenMM's NonbondedForce so that its PME is GROMACS's and ferrosolv's (scripts/bench
passes what `ferrosolv energy` reports for the input); otherwise OpenMM derives them from ewaldErrorTolerance 1e-5,
which gives a much finer grid and a larger beta than GROMACS's ewald-rtol 1e-5 and is slower. OpenMM's
default precision on OpenCL is single; pass OPENMM_PRECISION=mixed to compare mixed with mixed. OpenMM is a peer for
timings only; ferrosolv never needs it.
"""
import json
import os
import sys
import tempfile
import time

import openmm as mm
import openmm.app as app
import openmm.unit as u


def main():
    d, platform_name = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    warmup = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    gro = app.GromacsGroFile(os.path.join(d, "conf.gro"))
    # OpenMM 7.7 builds the water's exclusions from [settles] itself and refuses the same pairs again from an
    # [exclusions] section ("Multiple exclusions are specified"), so it reads a copy without that section.
    with open(os.path.join(d, "topol.top")) as f:
        lines, skip = [], False
        for line in f:
            s = line.strip()
            if s.startswith("["):
                skip = s.replace(" ", "") == "[exclusions]"
            if not skip:
                lines.append(line)
    with tempfile.NamedTemporaryFile("w", suffix=".top", dir=d if os.access(d, os.W_OK) else None,
                                     delete=False) as t:
        t.writelines(lines)
    try:
        top = app.GromacsTopFile(t.name, periodicBoxVectors=gro.getPeriodicBoxVectors())
    finally:
        os.unlink(t.name)
    system = top.createSystem(nonbondedMethod=app.PME, nonbondedCutoff=1.0 * u.nanometer, ewaldErrorTolerance=1e-5,
                              constraints=app.HBonds, rigidWater=True)
    if len(sys.argv) > 8:
        beta, grid = float(sys.argv[5]), [int(x) for x in sys.argv[6:9]]
        for f in system.getForces():
            if isinstance(f, mm.NonbondedForce):
                f.setPMEParameters(beta, *grid)
    integrator = mm.VerletIntegrator(0.002 * u.picoseconds)
    platform = mm.Platform.getPlatformByName(platform_name)
    props = {}
    if platform_name in ("OpenCL", "CUDA") and os.environ.get("OPENMM_PRECISION"):
        props["Precision"] = os.environ["OPENMM_PRECISION"]
    sim = app.Simulation(top.topology, system, integrator, platform, props)
    sim.context.setPositions(gro.positions)
    sim.context.setVelocitiesToTemperature(300 * u.kelvin, 1)
    sim.step(warmup)
    sim.context.getState(getEnergy=True)
    t0 = time.perf_counter()
    sim.step(steps)
    sim.context.getState(getEnergy=True)  # waits for the device
    dt = time.perf_counter() - t0
    us = 1e6 * dt / steps
    print(json.dumps({"program": "openmm", "version": mm.__version__, "platform": platform_name,
                      "precision": props.get("Precision", platform.getPropertyDefaultValue("Precision")
                                             if "Precision" in platform.getPropertyNames() else "n/a"),
                      "atoms": system.getNumParticles(), "steps": steps, "seconds": dt, "us_per_step": us,
                      "ns_per_day": 0.002 * 86400 / (us * 1e-6) * 1e-3}))


if __name__ == "__main__":
    main()
