"""Benchmark b1 (accuracy): line of sight of covgap's sweep and radials and of GDAL's viewshed
against the exact per-cell reference, on the rough fractal DEMs of ``tests/test_terrain.py``.

Run:  .venv/bin/python benchmarks/b1_los_accuracy.py --out out/bench

Per DEM (101 × 101 cells, 150 m relief, antenna 20 m, receiver 1.5 m, k = 4/3, 45-cell radius;
30 m UTM and 3″ geographic grids, seeds 0–4): the share of cells inside the radius on which
each method agrees with ``tests/naive.los_reference`` (every cell along its own straight line,
terrain bilinear, sampled every 0.05 cell). GDAL runs through ``/usr/bin/python3`` (Debian
``python3-gdal``) on UTM grids only (its curvature model is planar); skipped where missing.

Figures go to ``OUT/b1_los_accuracy.json`` and ``OUT/b1_los_accuracy.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from b1_data import gdal_viewshed  # noqa: E402
from naive import fractal_dem, los_reference  # noqa: E402

from covgap.grid import Grid  # noqa: E402
from covgap.models.terrain import line_of_sight  # noqa: E402

K43 = 4.0 / 3.0
N = 101

def _grid(crs: str, seed: int) -> Grid:
    if crs == "utm":
        return Grid.from_bounds(500_000.0, 2_300_000.0, 500_000.0 + N * 30.0, 2_300_000.0 + N * 30.0,
                                res=(30.0, 30.0), crs="EPSG:32648")
    lat0 = 21.0 if seed != 2 else 8.6
    res = 1 / 1200
    return Grid.from_bounds(105.0, lat0, 105.0 + N * res, lat0 + N * res, res=(res, res), crs="EPSG:4326")


def run(seeds) -> list[dict]:
    rows = []
    for crs in ("utm", "geographic"):
        for seed in seeds:
            g = _grid(crs, seed)
            dem = fractal_dem(g.shape, seed=seed, relief_m=150.0)
            rng = np.random.default_rng(seed)
            di, dj = rng.uniform(-0.5, 0.5, 2)
            x = g.x_centres()[50] + dj * g.transform.a
            y = g.y_centres()[50] + di * g.transform.e
            lon, lat = (float(v) for v in g.to_lonlat(x, y))
            radius_m = 45 * 30.0 if crs == "utm" else 45 * 92.0 * math.cos(math.radians(lat))
            vis, inr = los_reference(g, dem, lon, lat, antenna_height_m=20.0, receiver_height_m=1.5,
                                     k_factor=K43, radius_m=radius_m)
            row = {"grid": crs, "seed": seed, "cells": int(inr.sum()), "visible_reference": float(vis[inr].mean())}
            for alg in ("sweep", "radials"):
                los = line_of_sight(g, dem, lon=lon, lat=lat, antenna_height_m=20.0, radius_km=radius_m / 1000,
                                    algorithm=alg)
                full = np.zeros(g.shape, bool)
                full[los.row0:los.row0 + los.visible.shape[0], los.col0:los.col0 + los.visible.shape[1]] = los.visible
                row[alg] = float((full[inr] == vis[inr]).mean())
            gd = None
            if crs == "utm":
                with tempfile.TemporaryDirectory() as td:
                    gd = gdal_viewshed(Path(td), g, dem, float(x), float(y), 20.0, 1.5, radius_m).get("visible")
            row["gdal"] = float((gd[inr] == vis[inr]).mean()) if gd is not None else None
            rows.append(row)
            print(row, flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/bench")
    ap.add_argument("--quick", action="store_true", help="one seed")
    args = ap.parse_args(argv)
    rows = run([0] if args.quick else [0, 1, 2, 3, 4])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {k: {"min": min(r[k] for r in rows if r[k] is not None),
                   "mean": float(np.mean([r[k] for r in rows if r[k] is not None]))}
               for k in ("sweep", "radials", "gdal") if any(r[k] is not None for r in rows)}
    (out / "b1_los_accuracy.json").write_text(json.dumps({"benchmark": "b1_los_accuracy", "rows": rows,
                                                          "summary": summary}, indent=2))
    L = ["# b1 — line of sight vs the exact reference (rough fractal DEMs of the tests)", "",
         "| grid | seed | cells | visible | covgap sweep | covgap radials | GDAL viewshed |",
         "|---|---|---|---|---|---|---|"]
    for r in rows:
        gd = f"{r['gdal']*100:.2f} %" if r["gdal"] is not None else "—"
        L.append(f"| {r['grid']} | {r['seed']} | {r['cells']:,} | {r['visible_reference']*100:.0f} % | "
                 f"{r['sweep']*100:.2f} % | {r['radials']*100:.2f} % | {gd} |")
    L += ["", "Summary (min / mean): " + "; ".join(f"{k} {v['min']*100:.2f} / {v['mean']*100:.2f} %"
                                                   for k, v in summary.items()), ""]
    (out / "b1_los_accuracy.md").write_text("\n".join(L))
    print("\n".join(L))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
