#!/usr/bin/python3
"""analyze_densities.py — the table of run_densities.sh: densities, NVE drift and wall time per step.

Usage: analyze_densities.py OUT [SYSTEM ...]   (systems: ec dmc water; default all three)

Reads, for each system, what run_densities.sh left in OUT/<system>/:
  ferrosolv/done, gromacs/done     the lengths each code ran (eq_ps, prod_ps, nve_ps, steps)
  ferrosolv/npt.h5md               /observables/{density (kg m-3), temperature, pressure, potential_energy}
  ferrosolv/nve.h5md               /observables/{kinetic_energy, temperature, conserved_energy} every 10 steps
  ferrosolv/npt.out, nve.out       the run summaries ("summary: steps 0..N (...), W s wall"; the last one counts)
  gromacs/npt_energy.xvg           gmx energy Potential, Temperature, Pressure, Density (kg m-3) every 50 steps
                                   (npt_density.xvg, Density alone, from earlier versions of the script)
  gromacs/nve_energy.xvg           gmx energy Kinetic-En., Temperature, Total-Energy every 10 steps
  gromacs/npt.log, nve.log         "Time:" core and wall seconds
and writes OUT/densities.md (Markdown tables) and OUT/densities.json, and prints the Markdown.

Density: the mean over the production part (time > eq_ps) of the density series, with the standard error from
block averages: the series is cut into B = 5 equal consecutive blocks, SE = sqrt(sum_b (m_b - m)^2 / (B (B - 1))),
m_b the block means (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989); with 5 blocks the error itself is
uncertain by ~35 %, and it is meaningful only when a block is longer than the density's correlation time).
GROMACS is also averaged over ferrosolv's window (ferrosolv's eq_ps to eq_ps + prod_ps of the GROMACS run) when the
two codes ran different lengths: that is what a run as short as ferrosolv's gives with GROMACS.

Production averages of temperature, pressure and potential energy per molecule (plain means over the same window)
are listed beside the densities: the potential energy is a configurational check that does not depend on how a
code turns velocities into a temperature.

NVE drift per degree of freedom: the slope s (kJ mol-1 ps-1) of a least-squares line through the conserved energy
(GROMACS "Total Energy", ferrosolv conserved_energy; both are Epot + Ekin without thermostat or barostat) over the
whole NVE run, then
    drift = 1000 s / (N_df k_B T_ref)        in kT per ns per degree of freedom,
T_ref the system's temperature (313.15 or 298.15 K, the same for both codes) and N_df the degrees of freedom, read
from each code's own output as N_df = 2 <Ekin> / (k_B <T>) (both codes define T = 2 Ekin / (N_df k_B)), so the two
codes' counts are checked against each other.
"""
import json
import math
import os
import re
import sys

import numpy as np

KB = 0.0083144626181532  # kJ mol-1 K-1 (GROMACS 2022, CODATA 2018)
NBLOCKS = 5
SYSTEMS = {
    "ec": {"name": "EC", "T": 313.15, "exp": 1.32, "exp_src": "1.32 g/cm3 at 313 K (K. Xu, Chem. Rev. 2004)"},
    "dmc": {"name": "DMC", "T": 298.15, "exp": 1.06, "exp_src": "1.06 g/cm3 at 298 K (K. Xu, Chem. Rev. 2004)"},
    "water": {"name": "SPC/E water", "T": 298.15, "exp": 0.997, "exp_src": "0.997 g/cm3 at 298 K (SPC/E ~0.998-1.00)"},
}


def read_meta(path):
    with open(path) as f:
        return {k: float(v) for k, v in (kv.split("=") for kv in f.read().split())}


def read_xvg(path):
    """Columns of a gmx energy .xvg by legend ("time" first): gmx energy writes the terms in its own order."""
    rows, names = [], ["time"]
    with open(path) as f:
        for line in f:
            m = re.match(r'@ s\d+ legend "(.*)"', line)
            if m:
                names.append(m.group(1))
            if line.startswith(("#", "@")) or not line.strip():
                continue
            rows.append([float(x) for x in line.split()])
    x = np.array(rows)
    return {n: x[:, k] for k, n in enumerate(names)}


def block_mean(x):
    """Mean and block-averaged standard error (NBLOCKS consecutive blocks of equal length)."""
    n = len(x) // NBLOCKS * NBLOCKS
    if n < NBLOCKS:
        return float("nan"), float("nan"), len(x)
    x = np.asarray(x[len(x) - n :])  # drop the first few samples so the blocks are equal
    m = np.array([b.mean() for b in np.split(x, NBLOCKS)])
    return float(m.mean()), float(math.sqrt(((m - m.mean()) ** 2).sum() / (NBLOCKS * (NBLOCKS - 1)))), n


def window(series, t0, t1, nmol, eq_ps, prod_ps):
    """Production statistics over t0 < time <= t1 of a dict of series: time, density (g/cm3) and, where present,
    temperature (K), pressure (bar), potential (kJ/mol, reported per molecule)."""
    t = series["time"]
    sel = (t > t0 + 1e-6) & (t <= t1 + 1e-6)
    m, e, n = block_mean(series["density"][sel])
    out = {"eq_ps": eq_ps, "prod_ps": prod_ps, "density": m, "se": e, "samples": n}
    if "temperature" in series:
        out["T"] = float(series["temperature"][sel].mean())
    if "pressure" in series:
        out["P"] = float(series["pressure"][sel].mean())
    if "potential" in series and nmol:
        m, e, _ = block_mean(series["potential"][sel] / nmol)
        out["epot_per_mol"], out["epot_se"] = m, e
    return out


def drift(t, ekin, temp, econs, t_ref):
    """Least-squares slope of econs(t) in kT/ns per degree of freedom, with its standard error: the residuals'
    integrated autocorrelation time tau (ACF summed up to its first negative value) gives N_eff = N / (2 tau + 1)
    independent samples, and SE(slope) = rms(residuals) / sqrt(N_eff var(t))."""
    coef = np.polyfit(t, econs, 1)
    res = econs - np.polyval(coef, t)
    acf = np.correlate(res, res, "full")[len(res) - 1 :] / (res @ res)
    tau = 0.0
    for a in acf[1:]:
        if a <= 0:
            break
        tau += a
    n_eff = len(res) / (2.0 * tau + 1.0)
    se = float(np.std(res) / math.sqrt(n_eff * np.var(t)))
    tm = float(temp.mean())
    ndf = 2.0 * float(ekin.mean()) / (KB * tm)
    per = 1000.0 / (ndf * KB * t_ref)  # kJ mol-1 ps-1 -> kT ns-1 per degree of freedom
    return {
        "slope_kj_mol_ns": 1000.0 * coef[0],
        "ndf": ndf,
        "mean_T": tm,
        "drift_kT_ns_dof": coef[0] * per,
        "drift_se": se * per,
        "econs_rms_about_fit": float(np.std(res)),
        "length_ps": float(t[-1] - t[0]),
    }


def fs_wall(path):
    """Wall seconds and steps from a ferrosolv run summary."""
    with open(path) as f:
        text = f.read()
    m = re.findall(r"summary: steps (\d+)\.\.(\d+) \(.*?\), ([0-9.eE+-]+) s wall", text)
    return (float(m[-1][2]), int(m[-1][1]) - int(m[-1][0])) if m else (float("nan"), 0)


def gmx_wall(path):
    with open(path) as f:
        for line in f:
            if line.strip().startswith("Time:"):
                return float(line.split()[2])
    return float("nan")


def analyze(out, key):
    spec = SYSTEMS[key]
    d = os.path.join(out, key)
    r = {"system": spec["name"], "T": spec["T"], "experiment": spec["exp"]}
    gro = os.path.join(d, "em", "em.gro")
    if os.path.exists(gro):
        with open(gro) as f:
            f.readline()
            r["atoms"] = int(f.readline())
    top = os.path.join(d, "system.top")
    if os.path.exists(top):
        with open(top) as f:
            lines = [ln.split(";")[0].split() for ln in f]
        i = [k for k, ln in enumerate(lines) if ln[:3] == ["[", "molecules", "]"]][0]
        r["molecules"] = sum(int(ln[1]) for ln in lines[i + 1 :] if len(ln) == 2)
    fsd, gxd = os.path.join(d, "ferrosolv"), os.path.join(d, "gromacs")
    fs_meta = read_meta(os.path.join(fsd, "done")) if os.path.exists(os.path.join(fsd, "done")) else None
    gx_meta = read_meta(os.path.join(gxd, "done")) if os.path.exists(os.path.join(gxd, "done")) else None
    nmol = r.get("molecules")
    if fs_meta:
        import h5py

        with h5py.File(os.path.join(fsd, "npt.h5md"), "r") as h:
            o = h["observables"]
            ser = {"time": o["density/time"][:], "density": o["density/value"][:] / 1000.0,
                   "temperature": o["temperature/value"][:], "pressure": o["pressure/value"][:],
                   "potential": o["potential_energy/value"][:]}
        eq, prod = fs_meta["eq_ps"], fs_meta["prod_ps"]
        r["ferrosolv"] = window(ser, eq, eq + prod, nmol, eq, prod)
        with h5py.File(os.path.join(fsd, "nve.h5md"), "r") as h:
            o = h["observables"]
            r["ferrosolv"]["nve"] = drift(o["conserved_energy/time"][:], o["kinetic_energy/value"][:],
                                          o["temperature/value"][:], o["conserved_energy/value"][:], spec["T"])
        w, steps = fs_wall(os.path.join(fsd, "npt.out"))
        r["ferrosolv"]["ms_per_step_npt"] = 1000.0 * w / steps if steps else float("nan")
        w, steps = fs_wall(os.path.join(fsd, "nve.out"))
        r["ferrosolv"]["ms_per_step_nve"] = 1000.0 * w / steps if steps else float("nan")
    if gx_meta:
        path = os.path.join(gxd, "npt_energy.xvg")
        x = read_xvg(path if os.path.exists(path) else os.path.join(gxd, "npt_density.xvg"))
        ser = {"time": x["time"], "density": x["Density"] / 1000.0}
        for key, name in (("temperature", "Temperature"), ("pressure", "Pressure"), ("potential", "Potential")):
            if name in x:
                ser[key] = x[name]
        eq, prod = gx_meta["eq_ps"], gx_meta["prod_ps"]
        r["gromacs"] = window(ser, eq, eq + prod, nmol, eq, prod)
        if fs_meta and (fs_meta["eq_ps"], fs_meta["prod_ps"]) != (eq, prod):
            eq, prod = fs_meta["eq_ps"], fs_meta["prod_ps"]
            r["gromacs_fs_window"] = window(ser, eq, eq + prod, nmol, eq, prod)
        x = read_xvg(os.path.join(gxd, "nve_energy.xvg"))
        r["gromacs"]["nve"] = drift(x["time"], x["Kinetic En."], x["Temperature"], x["Total Energy"], spec["T"])
        r["gromacs"]["ms_per_step_npt"] = 1000.0 * gmx_wall(os.path.join(gxd, "npt.log")) / gx_meta["npt_steps"]
        r["gromacs"]["ms_per_step_nve"] = 1000.0 * gmx_wall(os.path.join(gxd, "nve.log")) / gx_meta["nve_steps"]
    return r


def fmt_rho(c):
    if not c or math.isnan(c["density"]):
        return "—"
    return "%.4f ± %.4f (%g + %g ps)" % (c["density"], c["se"], c["eq_ps"], c["prod_ps"])


def markdown(results):
    out = ["Density (g/cm³): mean over the production part ± block-averaged standard error (5 blocks); in",
           "parentheses the equilibration + production lengths that ran. Deviations from experiment in %.", "",
           "| system | T (K) | molecules (atoms) | experiment | ferrosolv | dev. | GROMACS | dev. | "
           "GROMACS over ferrosolv's window | ferrosolv − GROMACS |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        fs, gx, gw = r.get("ferrosolv"), r.get("gromacs"), r.get("gromacs_fs_window")
        dev = lambda c: "%+.1f %%" % (100.0 * (c["density"] / r["experiment"] - 1.0)) if c else "—"
        diff = "—"
        if fs and gx:
            ref = gw or gx
            diff = "%+.4f ± %.4f" % (fs["density"] - ref["density"], math.hypot(fs["se"], ref["se"]))
            if gw:
                diff += " (same window)"
        out.append("| %s | %.2f | %s (%s) | %.3f | %s | %s | %s | %s | %s | %s |" % (
            r["system"], r["T"], r.get("molecules", "?"), r.get("atoms", "?"), r["experiment"], fmt_rho(fs),
            dev(fs), fmt_rho(gx), dev(gx), fmt_rho(gw) if gw else "(same length)", diff))
    out += ["", "Production averages over the same windows (plain means; Epot ± block-averaged standard error):", "",
            "| system | run | window (ps) | density (g/cm³) | T (K) | P (bar) | Epot (kJ/mol per molecule) |",
            "|---|---|---|---|---|---|---|"]
    for r in results:
        for label, key in (("ferrosolv", "ferrosolv"), ("GROMACS", "gromacs"),
                           ("GROMACS, ferrosolv's window", "gromacs_fs_window")):
            c = r.get(key)
            if not c:
                continue
            f = lambda k, fmt: fmt % c[k] if k in c else "—"
            ep = "%.3f ± %.3f" % (c["epot_per_mol"], c["epot_se"]) if "epot_per_mol" in c else "—"
            out.append("| %s | %s | %g–%g | %.4f | %s | %s | %s |" % (
                r["system"], label, c["eq_ps"], c["eq_ps"] + c["prod_ps"], c["density"], f("T", "%.1f"),
                f("P", "%.0f"), ep))
    out += ["", "NVE energy drift: slope of a least-squares line through the conserved energy over the NVE run,",
            "drift = slope / (N_df k_B T_ref), N_df = 2 <Ekin> / (k_B <T>) from each code's output; SE from the",
            "residuals with their autocorrelation time.", "",
            "| system | code | NVE (ps) | N_df | <T> (K) | slope (kJ/mol/ns) | drift (kT/ns/DOF) ± SE | "
            "rms of E_cons about the line (kJ/mol) |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for code in ("ferrosolv", "gromacs"):
            c = r.get(code)
            if not c or "nve" not in c:
                continue
            v = c["nve"]
            out.append("| %s | %s | %.1f | %.1f | %.1f | %+.3g | %+.4f ± %.4f | %.3g |" % (
                r["system"], code, v["length_ps"], v["ndf"], v["mean_T"], v["slope_kj_mol_ns"],
                v["drift_kT_ns_dof"], v["drift_se"], v["econs_rms_about_fit"]))
    out += ["", "Wall time per step (ms; information only, on a shared machine — not a speed comparison):", "",
            "| system | ferrosolv NPT | ferrosolv NVE | GROMACS NPT | GROMACS NVE |", "|---|---|---|---|---|"]
    for r in results:
        fs, gx = r.get("ferrosolv") or {}, r.get("gromacs") or {}
        g = lambda c, k: "%.2f" % c[k] if k in c else "—"
        out.append("| %s | %s | %s | %s | %s |" % (r["system"], g(fs, "ms_per_step_npt"), g(fs, "ms_per_step_nve"),
                                                   g(gx, "ms_per_step_npt"), g(gx, "ms_per_step_nve")))
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = argv[1]
    keys = argv[2:] or list(SYSTEMS)
    for k in keys:
        if k not in SYSTEMS:
            sys.exit("analyze_densities.py: unknown system '%s' (%s)" % (k, ", ".join(SYSTEMS)))
    results = [analyze(out, k) for k in keys]
    md = markdown(results)
    with open(os.path.join(out, "densities.md"), "w") as f:
        f.write(md)
    with open(os.path.join(out, "densities.json"), "w") as f:
        json.dump(results, f, indent=1)
    sys.stdout.write(md)


if __name__ == "__main__":
    main(sys.argv)
