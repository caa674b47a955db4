"""A/B timing of covgap's terrain engine at two git revisions, in one process (a tool, not a bN benchmark).

Run:  .venv/bin/python benchmarks/ab_revisions.py REV_A REV_B [--reps 30] [--out out/bench]

Extracts ``coverage/covgap`` at each revision (``git archive``) into a temporary folder as the
packages ``covgap_a`` and ``covgap_b`` (the package imports itself relatively, so it runs under
another name), then times :func:`line_of_sight` and :func:`site_footprint` of b1's single site
(one 30 m antenna, 20 km, 30 m UTM grid, SYNTHETIC 400 m-relief fractal DEM) at both, call by
call alternating, so that the shared machine's changes of speed fall on both alike. Writes
``OUT/ab_revisions.json`` and ``.md``: min / p25 / median per revision, the median of the
per-call ratios B / A, and how far the two revisions' outputs differ.

Each revision's kernels are compiled on the first call (numba; a minute or two).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _common import write_result  # noqa: E402
from b1_data import fractal_dem  # noqa: E402


def _extract(rev: str, tag: str, into: Path) -> str:
    """``coverage/covgap`` at ``rev`` as package ``covgap_<tag>`` under ``into``; returns the commit."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", rev], check=True, capture_output=True,
                            text=True).stdout.strip()
    dest = into / f"rev_{tag}"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "coverage/covgap"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    (dest / "coverage" / "covgap").rename(into / f"covgap_{tag}")
    return commit


def _setup(pkg: str):
    """The b1 single-site case with package ``pkg``'s own classes."""
    grid_m = importlib.import_module(f"{pkg}.grid")
    try:  # the terrain model's module moved into the models package (issue 15)
        terrain = importlib.import_module(f"{pkg}.models.terrain")
    except ModuleNotFoundError:
        terrain = importlib.import_module(f"{pkg}.terrain")
    sites_m = importlib.import_module(f"{pkg}.sites")
    errors = importlib.import_module(f"{pkg}.errors")
    warnings.simplefilter("ignore", errors.ModelRangeWarning)
    n, res = 1401, 30.0
    x0, y_top = 500_000.0, 2_400_000.0
    grid = grid_m.Grid.from_bounds(x0, y_top - n * res, x0 + n * res, y_top, res=(res, res), crs="EPSG:32648")
    dem = fractal_dem(grid.shape, seed=11, relief_m=400.0)
    ox, oy = x0 + 700.5 * res, y_top - 700.5 * res
    lon, lat = (float(v) for v in grid.to_lonlat(ox, oy))
    import pandas as pd

    df = pd.DataFrame({"site_id": ["s0"], "operator": "A", "technology": "4G", "lon": [lon], "lat": [lat],
                       "antenna_height_m": 30.0})
    sites = sites_m.validate_sites(df)[0]
    model = terrain.TerrainModel(max_radius_km=20.0, link_budgets={"4G": {"eirp_dbm": 60.0}})

    def los():
        return terrain.line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=30.0, radius_km=20.0)

    def footprint():
        return terrain.site_footprint(grid, dem, sites, 0, model=model)

    return los, footprint


def _stats(ts) -> dict:
    t = np.asarray(ts)
    return {"min_s": float(t.min()), "p25_s": float(np.percentile(t, 25)), "median_s": float(np.median(t)),
            "n": int(t.size)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev_a")
    ap.add_argument("rev_b")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--out", default=str(ROOT / "out" / "bench"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        commits = {tag: _extract(rev, tag, tmp) for tag, rev in (("a", args.rev_a), ("b", args.rev_b))}
        sys.path.insert(0, str(tmp))
        cases = {tag: _setup(f"covgap_{tag}") for tag in ("a", "b")}
        outs = {}
        for tag, (los, fp) in cases.items():  # compile and warm
            outs[tag] = (los(), fp())
        times = {(tag, what): [] for tag in cases for what in ("los", "footprint")}
        for _ in range(args.reps):
            for tag, (los, fp) in cases.items():
                for what, fn in (("los", los), ("footprint", fp)):
                    t0 = time.perf_counter()
                    fn()
                    times[(tag, what)].append(time.perf_counter() - t0)
    (los_a, fp_a), (los_b, fp_b) = outs["a"], outs["b"]
    sa, sb = fp_a.signal_dbm, fp_b.signal_dbm
    both = np.isfinite(sa) & np.isfinite(sb)
    record = {
        "title": "terrain engine at two revisions, b1 single site, call by call alternating",
        "revisions": {"a": {"rev": args.rev_a, "commit": commits["a"]}, "b": {"rev": args.rev_b, "commit": commits["b"]}},
        "params": {"reps": args.reps, "case": "1 antenna 30 m, 20 km, 30 m UTM grid, fractal DEM relief 400 m seed 11"},
        "times": {f"{tag}_{what}": _stats(v) for (tag, what), v in times.items()},
        "median_ratio_b_over_a": {
            what: float(np.median(np.array(times[("b", what)]) / np.array(times[("a", what)])))
            for what in ("los", "footprint")},
        "outputs": {
            "line_of_sight_identical": bool(np.array_equal(los_a.visible, los_b.visible)),
            "footprint_same_cells": bool(np.array_equal(np.isfinite(sa), np.isfinite(sb))),
            "footprint_max_abs_diff_db": float(np.abs(sa[both] - sb[both]).max()) if both.any() else 0.0,
        },
    }
    path = write_result(args.out, "ab_revisions", record)
    r = record["times"]
    lines = [f"# A/B: {args.rev_a} ({commits['a'][:7]}) vs {args.rev_b} ({commits['b'][:7]})", "",
             f"b1 single site; {args.reps} calls of each, alternating. Min / p25 / median in ms.", "",
             "| | A | B | B / A (median of per-call ratios) |", "|---|---|---|---|"]
    for what in ("los", "footprint"):
        a, b = r[f"a_{what}"], r[f"b_{what}"]
        lines.append(f"| {what} | {a['min_s']*1e3:.1f} / {a['p25_s']*1e3:.1f} / {a['median_s']*1e3:.1f} | "
                     f"{b['min_s']*1e3:.1f} / {b['p25_s']*1e3:.1f} / {b['median_s']*1e3:.1f} | "
                     f"{record['median_ratio_b_over_a'][what]:.2f} |")
    o = record["outputs"]
    lines += ["", f"Line of sight identical: {o['line_of_sight_identical']}; footprint same cells: "
              f"{o['footprint_same_cells']}, max |difference| {o['footprint_max_abs_diff_db']:.4f} dB."]
    (path.parent / "ab_revisions.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
