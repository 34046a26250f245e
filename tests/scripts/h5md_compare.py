#!/usr/bin/python3
"""Compares two H5MD files written by ferrosolv.

Usage:
  h5md_compare.py same A B           every dataset of A equals B bit for bit (same shapes, same bytes)
  h5md_compare.py prefix A B GRO     A (e.g. a run killed mid-way) opens with h5py and MDAnalysis (Universe(GRO, A)),
                                     holds at least one frame, and its frames (positions, box, step, time) equal the
                                     first frames of B bit for bit
Exits 0 when the files agree, 1 (printing the differences) otherwise.
"""
import sys
import warnings

warnings.filterwarnings("ignore")

import h5py  # noqa: E402
import numpy as np  # noqa: E402


def datasets(group, prefix=""):
    out = {}
    for name, item in group.items():
        if isinstance(item, h5py.Dataset):
            out[prefix + name] = item[()]
        else:
            out.update(datasets(item, prefix + name + "/"))
    return out


def same(a_path, b_path):
    with h5py.File(a_path, "r") as fa, h5py.File(b_path, "r") as fb:
        a, b = datasets(fa), datasets(fb)
    bad = sorted(set(a) ^ set(b))
    for k in sorted(set(a) & set(b)):
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if x.shape != y.shape or x.tobytes() != y.tobytes():
            bad.append(k)
    if bad:
        print("differing datasets:", ", ".join(bad[:20]))
        return 1
    print("identical: %d datasets" % len(a))
    return 0


def prefix(a_path, b_path, gro):
    import MDAnalysis as mda

    with h5py.File(a_path, "r") as fa, h5py.File(b_path, "r") as fb:
        pa, pb = fa["particles/all/position"], fb["particles/all/position"]
        n = len(pa["step"])
        if n < 1 or n > len(pb["step"]):
            print("killed file has %d frames, full run %d" % (n, len(pb["step"])))
            return 1
        for k in ("step", "time"):
            if np.asarray(pa[k][:n]).tobytes() != np.asarray(pb[k][:n]).tobytes():
                print("position/%s differs" % k)
                return 1
        va, vb = pa["value"][:n], pb["value"][:n]
        ea = fa["particles/all/box/edges/value"][:n]
        eb = fb["particles/all/box/edges/value"][:n]
        if va.tobytes() != vb.tobytes() or ea.tobytes() != eb.tobytes():
            print("positions or box differ")
            return 1
    u = mda.Universe(gro, a_path)
    if len(u.trajectory) != n:
        print("MDAnalysis sees %d frames, h5py %d" % (len(u.trajectory), n))
        return 1
    for i, ts in enumerate(u.trajectory):
        if not np.allclose(ts.positions, 10.0 * va[i], rtol=0, atol=1e-4):
            print("MDAnalysis positions of frame %d differ" % i)
            return 1
        if not np.allclose(ts.dimensions[:3], 10.0 * np.diag(ea[i]) if ea[i].ndim == 2 else 10.0 * ea[i], atol=1e-4):
            print("MDAnalysis box of frame %d differs" % i)
            return 1
    print("readable prefix of %d frames" % n)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "same":
        sys.exit(same(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 5 and sys.argv[1] == "prefix":
        sys.exit(prefix(sys.argv[2], sys.argv[3], sys.argv[4]))
    print(__doc__)
    sys.exit(2)
