#!/usr/bin/python3
"""Checks an H5MD file written by ferrosolv with the tools our users read it with: h5py and MDAnalysis.

Usage: check_h5md.py FILE GRO N

FILE is the H5MD trajectory, GRO the structure written beside it (the topology for MDAnalysis), N the number of
frames the file must hold. Checks, with h5py: the H5MD 1.1 metadata (/h5md version [1, 1], author, creator), the
box (dimension 3, boundary "periodic"/"none" per axis), the units of every element, the hard links that share step
and time between position, box, velocity and force, and that every time series has N rows. With MDAnalysis
(Universe(GRO, FILE)): N frames; frame 0 equals the structure in GRO (to its 0.001 nm precision); per frame the positions equal 10 x the stored nm values (Angstrom), the box equals
10 x the stored edges with 90 degree angles, time and step match, velocities and forces are converted the same way,
and every observable is in ts.data. Exits 0 if everything matches, 1 (printing what differs) otherwise.
"""
import sys
import warnings

warnings.filterwarnings("ignore")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def same_object(f, a, b):
    return h5py.h5o.get_info(f[a].id).addr == h5py.h5o.get_info(f[b].id).addr


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    path, gro, nframes = sys.argv[1], sys.argv[2], int(sys.argv[3])

    with h5py.File(path, "r") as f:
        check(list(f["h5md"].attrs["version"]) == [1, 1], "/h5md version is not [1, 1]")
        check("name" in f["h5md/author"].attrs, "/h5md/author has no name")
        check(text(f["h5md/creator"].attrs["name"]) == "ferrosolv", "/h5md/creator name is not ferrosolv")
        check("version" in f["h5md/creator"].attrs, "/h5md/creator has no version")
        box = f["particles/all/box"]
        check(int(box.attrs["dimension"]) == 3, "box dimension is not 3")
        boundary = [text(b) for b in box.attrs["boundary"]]
        check(len(boundary) == 3 and all(b in ("periodic", "none") for b in boundary), f"box boundary {boundary}")
        all_ = "particles/all/"
        units = {"position/value": "nm", "position/time": "ps", "box/edges/value": "nm",
                 "velocity/value": "nm ps-1", "force/value": "kJ mol-1 nm-1", "charge": "e", "mass": "u"}
        for name, unit in units.items():
            if all_ + name in f:
                check(f[all_ + name].attrs.get("unit") == unit, f"{name} unit {f[all_ + name].attrs.get('unit')!r}")
        for elem in ("box/edges", "velocity", "force"):
            if all_ + elem in f:
                for series in ("step", "time"):
                    check(same_object(f, f"{all_}{elem}/{series}", f"{all_}position/{series}"),
                          f"{elem}/{series} is not a hard link to position/{series}")
                check(f[all_ + elem + "/value"].shape[0] == nframes, f"{elem}/value rows != {nframes}")
        for series in ("step", "time", "value"):
            check(f[all_ + "position/" + series].shape[0] == nframes, f"position/{series} rows != {nframes}")
        natoms = f[all_ + "position/value"].shape[1]
        for fixed in ("species", "charge", "mass", "id"):
            check(f[all_ + fixed].shape == (natoms,), f"{fixed} shape {f[all_ + fixed].shape}")
        pos = f[all_ + "position/value"][()]
        edges = f[all_ + "box/edges/value"][()]
        steps = f[all_ + "position/step"][()]
        times = f[all_ + "position/time"][()]
        vel = f[all_ + "velocity/value"][()] if all_ + "velocity" in f else None
        frc = f[all_ + "force/value"][()] if all_ + "force" in f else None
        obs = {}
        if "observables" in f:
            for name, g in f["observables"].items():
                check(g["value"].shape[0] == nframes, f"observable {name} rows != {nframes}")
                check(g["step"].shape[0] == g["value"].shape[0], f"observable {name}: step and value differ in length")
                obs[name] = g["value"][()]

    if failures:
        return report()

    # MDAnalysis 2.4 prints a DeprecationWarning (xdrlib) while importing, whatever the warning filters say
    import io
    import contextlib
    with contextlib.redirect_stderr(io.StringIO()):
        import MDAnalysis as mda

    u = mda.Universe(gro, path, format="H5MD")
    check(u.trajectory.n_frames == nframes, f"MDAnalysis sees {u.trajectory.n_frames} frames, expected {nframes}")
    check(len(u.atoms) == natoms, f"MDAnalysis sees {len(u.atoms)} atoms, the file has {natoms}")
    if failures:
        return report()
    # GRO holds frame 0 (the structure the run started from) with 3 decimals in nm: MDAnalysis's view of frame 0
    # must agree with it to half a grid step
    import MDAnalysis.coordinates.GRO as GRO
    with GRO.GROReader(gro) as g:
        gro_pos = g.ts.positions.copy()
    u.trajectory[0]
    err = np.max(np.abs(u.trajectory.ts.positions - gro_pos))
    check(err <= 0.005 + 1e-4, f"frame 0 differs from {gro} by {err:.4g} Angstrom")
    for i, ts in enumerate(u.trajectory):
        # MDAnalysis keeps float32 coordinates: compare at float32 precision
        check(np.allclose(ts.positions, 10.0 * pos[i], rtol=1e-6, atol=1e-5), f"frame {i}: positions != 10 x nm")
        diag = np.array([edges[i][d][d] for d in range(3)])
        check(np.allclose(ts.dimensions[:3], 10.0 * diag, rtol=1e-6), f"frame {i}: box {ts.dimensions} vs {diag} nm")
        check(np.allclose(ts.dimensions[3:], 90.0), f"frame {i}: box angles {ts.dimensions[3:]}")
        check(abs(ts.time - times[i]) <= 1e-12 * max(1.0, abs(times[i])), f"frame {i}: time {ts.time} != {times[i]}")
        check(int(ts.data["step"]) == int(steps[i]), f"frame {i}: step {ts.data['step']} != {steps[i]}")
        if vel is not None:
            check(np.allclose(ts.velocities, 10.0 * vel[i], rtol=1e-6, atol=1e-5), f"frame {i}: velocities")
        if frc is not None:
            check(np.allclose(ts.forces, 0.1 * frc[i], rtol=1e-6, atol=1e-5), f"frame {i}: forces")
        for name, values in obs.items():
            check(name in ts.data and ts.data[name] == values[i], f"frame {i}: observable {name}")
        if failures:
            break
    return report()


def report():
    for msg in failures:
        print("check_h5md:", msg)
    if not failures:
        print("check_h5md: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
