"""Benchmark b1 (radii): one site at 5, 20 and 50 km on 30 m and 90 m grids, covgap vs GDAL.

Run:  .venv/bin/python benchmarks/b1_radii.py --out out/bench   [--quick: 5 km only]

For each radius and cell size, on SYNTHETIC fractal terrain (400 m relief) in UTM 48N, one
antenna (30 m) at the centre of a DEM just covering the disc: GDAL 3.6's
``gdal.ViewshedGenerate`` (python3-gdal, system Python; per-site time without process
start-up), covgap's :func:`covgap.models.terrain.line_of_sight` (sweep) and the full terrain
footprint (:func:`covgap.models.terrain.site_footprint`: Hata + Bullington + link budget, sweep,
all threads) — min of the repetitions — and the agreement of the two lines of sight inside
the disc. Issue 7's B1 table; the 20 km / 30 m case is ``b1_single_site.py``'s, with the
exact reference and SPLAT!.

Figures go to ``OUT/b1_radii.json`` and ``OUT/b1_radii.md``.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import parser, write_result  # noqa: E402
from b1_data import fractal_dem, gdal_viewshed  # noqa: E402

from covgap.errors import ModelRangeWarning  # noqa: E402
from covgap.grid import Grid  # noqa: E402
from covgap.sites import validate_sites  # noqa: E402
from covgap.models.terrain import TerrainModel, line_of_sight, site_footprint  # noqa: E402

NAME = "b1_radii"


def _min_time(fn, reps: int) -> float:
    fn()
    best = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return float(best)


def one(radius_km: float, res: float, reps: int, work: Path) -> dict:
    import pandas as pd
    n = int(np.ceil(2 * radius_km * 1000 / res)) + 3
    n += 1 - n % 2
    x0, y_top = 500_000.0, 2_400_000.0
    grid = Grid.from_bounds(x0, y_top - n * res, x0 + n * res, y_top, res=(res, res), crs="EPSG:32648")
    dem = fractal_dem(grid.shape, seed=11, relief_m=400.0)
    ci = n // 2
    ox, oy = x0 + (ci + 0.5) * res, y_top - (ci + 0.5) * res
    lon, lat = (float(v) for v in grid.to_lonlat(ox, oy))
    row = {"radius_km": radius_km, "cell_m": res, "shape": [n, n]}
    g = gdal_viewshed(work, grid, dem, ox, oy, 30.0, 1.5, radius_km * 1000, reps)
    row["gdal_s"] = min(g["times"]) if "times" in g else None
    if "error" in g:
        row["gdal_error"] = [g["error"]]
    vis_g = g.get("visible")
    los = line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=30.0, radius_km=radius_km)
    row["covgap_los_s"] = _min_time(lambda: line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=30.0,
                                                          radius_km=radius_km), reps)
    sites = validate_sites(pd.DataFrame({"site_id": ["s"], "operator": ["A"], "technology": ["4G"], "lon": [lon],
                                         "lat": [lat], "antenna_height_m": [30.0]}))[0]
    model = TerrainModel(max_radius_km=radius_km, link_budgets={"4G": {"eirp_dbm": 60.0}})
    row["covgap_footprint_s"] = _min_time(lambda: site_footprint(grid, dem, sites, 0, model=model), reps)
    full = np.zeros(grid.shape, bool)
    inr = np.zeros(grid.shape, bool)
    sl = (slice(los.row0, los.row0 + los.visible.shape[0]), slice(los.col0, los.col0 + los.visible.shape[1]))
    full[sl] = los.visible
    inr[sl] = los.in_radius
    row["cells_in_disc"] = int(inr.sum())
    if vis_g is not None:
        row["agree_with_gdal"] = float((full[inr] == vis_g[inr]).mean())
        row["los_over_gdal"] = row["covgap_los_s"] / row["gdal_s"]
        row["footprint_over_gdal_los"] = row["covgap_footprint_s"] / row["gdal_s"]
    print(row, flush=True)
    return row


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    warnings.simplefilter("ignore", ModelRangeWarning)
    radii = [5.0] if args.quick else [5.0, 20.0, 50.0]
    rows = []
    with tempfile.TemporaryDirectory() as td:
        for res in (30.0, 90.0):
            for rk in radii:
                rows.append(one(rk, res, 3 if rk >= 50 else 7, Path(td)))
    write_result(args.out, NAME, {"benchmark": "B1 radii", "rows": rows, "command": " ".join(sys.argv)})
    L = ["# b1 — one site at 5, 20, 50 km on 30 m and 90 m grids: covgap (sweep) vs GDAL viewshed", "",
         "| radius | cell | cells in disc | GDAL LOS | covgap LOS | ratio | covgap footprint | ratio to GDAL LOS "
         "| LOS agreement |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        g = r.get("gdal_s")
        L.append(f"| {r['radius_km']:g} km | {r['cell_m']:g} m | {r['cells_in_disc']:,} | "
                 + (f"{g*1e3:.1f} ms" if g else "—") + f" | {r['covgap_los_s']*1e3:.1f} ms | "
                 + (f"{r['los_over_gdal']:.2f}×" if g else "—") + f" | {r['covgap_footprint_s']*1e3:.1f} ms | "
                 + (f"{r['footprint_over_gdal_los']:.2f}×" if g else "—") + " | "
                 + (f"{r['agree_with_gdal']*100:.2f} %" if g else "—") + " |")
    L += ["", "Min of repetitions; shared 2-core machine (see the JSON for the load average).", ""]
    Path(args.out, f"{NAME}.md").write_text("\n".join(L), encoding="utf-8")
    print("\n".join(L))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
