"""Benchmark p1812_paths: ITU-R P.1812 per path (one at a time vs batched) and one site's area.

Run:  .venv/bin/python benchmarks/p1812_paths.py --out out/bench   [--quick: small sizes]

Per-path time of :func:`covgap.models.p1812.transmission_loss` (a Python call per path) and
:func:`covgap.models.p1812.transmission_loss_many` (numpy over padded profiles) on SYNTHETIC
hilly profiles of 50, 200 and 700 points (20 km), and the exact area mode
(:class:`covgap.models.p1812_area.P1812Model`) for one site over a SYNTHETIC fractal DEM
(radius 5 km at about 30 m and 90 m cells). Min of the repetitions. Also checks that both
per-path forms agree (largest difference in dB).

Figures go to ``OUT/p1812_paths.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from affine import Affine

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import parser, summary, timed, write_result  # noqa: E402

from covgap.models.base import compute_coverage  # noqa: E402
from covgap.grid import Grid  # noqa: E402
from covgap.models.p1812 import transmission_loss, transmission_loss_many  # noqa: E402
from covgap.models.p1812_area import P1812Model  # noqa: E402
from covgap.sites import validate_sites  # noqa: E402

NAME = "p1812_paths"


def _profiles(m: int, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    d = np.linspace(0.0, 20.0, n)[None, :].repeat(m, axis=0)
    h = 300.0 + np.cumsum(rng.normal(0.0, 8.0, (m, n)), axis=1)
    return d, h


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    rng = np.random.default_rng(0)
    rows = []
    m = 200 if args.quick else 2000
    kw = dict(phi_t=21.0, phi_r=21.18, lam_t=105.0, lam_r=105.0)
    for n in (50, 200, 700):
        d, h = _profiles(m, n, rng)
        z = np.full((m, n), 4.0)
        k = min(m, 300)

        def many(d=d, h=h, z=z, n=n):
            return transmission_loss_many(0.9, 50, d, h, None, None, z, np.full(m, n), 30.0, 1.5, 2, **kw)

        def one_by_one(d=d, h=h, z=z, k=k):
            return [transmission_loss(0.9, 50, d[i], h[i], None, None, z[i], 30.0, 1.5, 2, **kw)[0] for i in range(k)]

        t_many, (lb_many, _) = timed(many, repeat=3)
        t_one, lb_one = timed(one_by_one, repeat=3)
        rows.append({
            "case": f"{n} points, 20 km", "paths": m,
            "one_at_a_time_ms_per_path": min(t_one) / k * 1e3,
            "batched_ms_per_path": min(t_many) / m * 1e3,
            "speed_ratio": (min(t_one) / k) / (min(t_many) / m),
            "max_abs_diff_db": float(np.max(np.abs(np.asarray(lb_one) - lb_many[:k]))),
        })
    # one site, exact area mode, on a fractal-ish DEM in UTM 48N
    for res in (90.0, 30.0) if not args.quick else (90.0,):
        half = 5200.0
        nx = int(2 * half / res)
        grid = Grid(crs="EPSG:32648", transform=Affine(res, 0.0, 600000.0 - half, 0.0, -res, 2350000.0 + half),
                    shape=(nx, nx))
        dem = 200.0 + np.cumsum(np.cumsum(rng.normal(0.0, 1.0, grid.shape), axis=0), axis=1) * (res / 90.0) * 0.5
        dem -= dem.min()
        lon, lat = grid.to_lonlat(np.array([600000.0]), np.array([2350000.0]))
        table = pd.DataFrame({"site_id": ["s"], "operator": ["A"], "technology": ["4G"], "lon": lon, "lat": lat})
        sites = validate_sites(table)[0]
        model = P1812Model(max_radius_km=5.0)
        def area(grid=grid, sites=sites, model=model, dem=dem):
            return compute_coverage(grid, sites, model, dem=dem)

        t, cov = timed(area, repeat=1 if args.quick else 2)
        rows.append({"case": f"area: 1 site, 5 km radius, {res:g} m cells", "cells": cov.parameters["cells_evaluated"],
                     **summary(t), "us_per_cell": min(t) / cov.parameters["cells_evaluated"] * 1e6})
    path = write_result(args.out, NAME, {"benchmark": "P1812", "title": "ITU-R P.1812 per path and per site",
                                         "quick": bool(args.quick), "rows": rows})
    print(path)
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
