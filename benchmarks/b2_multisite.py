"""B2 — a multi-site coverage field: one Dask worker vs two (and untiled, in-process).

A SYNTHETIC 1° × 1° region at 3 arc-seconds (1200 × 1200 cells; ``--quick``: 0.2°) with
1,000 transmitters (``--quick``: 80, radii ≤ 3 km) at link-budget radii, over SYNTHETIC terrain, computed
by the terrain model (the radius model with ``--model radius``, or when the terrain model
is not in this build). Runs, each on the same inputs:

* untiled: ``model.compute`` on the whole grid in this process (numba threads: all cores);
* tiled, in process (:func:`covgap.tiling.compute_coverage_tiled`, executor ``None``);
* tiled on a Dask ``LocalCluster`` with 1 worker, then with 2 workers (one thread and one
  numba thread each; cluster start-up and numba loading are excluded by a warm-up job).

Target: two workers ≥ 1.7 × one worker. Results of every run are checked identical.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import (  # noqa: E402
    SyntheticDEM,
    link_budget_radius_km,
    parser,
    ratio,
    summary,
    synthetic_sites,
    timed,
    write_result,
)

NAME = "b2_multisite"


def pick_model(kind: str, cap_km: float):
    if kind in ("auto", "terrain"):
        try:
            from covgap.models.terrain import TerrainModel

            return TerrainModel(max_radius_km=cap_km), "terrain"
        except ImportError:
            if kind == "terrain":
                raise
    from covgap.models.radius import RadiusModel

    return RadiusModel(), "radius"


def same(a, b) -> bool:
    for tech in a.technologies:
        for f in ("operator_bits", "n_sites", "serving_site"):
            if not np.array_equal(getattr(a.technologies[tech], f), getattr(b.technologies[tech], f)):
                return False
    return True


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", choices=["auto", "terrain", "radius"], default="auto")
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--tile-size", type=int, default=None, help="tile edge in cells (default 200; quick 100)")
    args = p.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    from covgap.tiling.dask import dask_client
    from covgap.grid import Grid
    from covgap.tiling import compute_coverage_tiled

    size_deg = 0.2 if args.quick else 1.0
    n_sites = 80 if args.quick else 1000
    tile = args.tile_size or (100 if args.quick else 200)
    repeat = args.repeat or (1 if args.quick else 2)
    grid = Grid.from_bounds(104.5, 21.0, 104.5 + size_deg, 21.0 + size_deg, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")
    dem = SyntheticDEM(grid.transform)(0, grid.ny, 0, grid.nx)
    rng = np.random.default_rng(3)
    m = 0.02 * size_deg
    sites = synthetic_sites(n_sites, lon=rng.uniform(104.5 + m, 104.5 + size_deg - m, 4 * n_sites),
                            lat=rng.uniform(21.0 + m, 21.0 + size_deg - m, 4 * n_sites), seed=3,
                            radius_km=lambda df: link_budget_radius_km(df, cap_km=3.0 if args.quick else 20.0))
    model, kind = pick_model(args.model, 3.0 if args.quick else 20.0)
    warnings.simplefilter("ignore")  # model-range notes are the same in every run; not the subject here
    work = Path(tempfile.mkdtemp(prefix="covgap-b2-"))
    rows, checks = [], {}
    try:
        t_un, full = timed(lambda: model.compute(grid, sites, dem=dem), repeat=repeat)
        rows.append({"case": "untiled, in process (numba: all cores)", **_s(t_un)})

        def tiled(executor=None, threads=None, tag="x"):
            return compute_coverage_tiled(grid, sites, model, dem=dem if kind == "terrain" else None,
                                      tile_size=tile, executor=executor,
                                          numba_threads=threads, workdir=work / tag, resume=False, max_in_flight=4)

        t_tp, tc = timed(lambda: tiled(tag="proc"), repeat=repeat)
        rows.append({"case": "tiled, in process", **_s(t_tp)})
        checks["tiled == untiled"] = same(full, tc.to_coverage())
        per_worker, phases = {}, {}
        for nw in (1, 2):
            with dask_client(workers=nw, threads_per_worker=1, processes=True) as client:
                small = sites.iloc[:4]
                compute_coverage_tiled(grid, small, model, dem=dem if kind == "terrain" else None, tile_size=tile,
                                       executor=client, numba_threads=1,
                                       workdir=work / "warm", resume=False)  # warm-up: imports, numba cache
                t, tcd = timed(lambda c=client, k=nw: tiled(c, 1, f"dask{k}"), repeat=repeat)
                per_worker[nw] = t
                rows.append({"case": f"tiled, Dask LocalCluster {nw} worker(s) x 1 thread", **_s(t)})
                phases[nw] = {**tcd.stats["wall_seconds"], **tcd.stats["task_seconds"]}
                checks[f"dask {nw} worker(s) == untiled"] = same(full, tcd.to_coverage())
        speedup = ratio(min(per_worker[1]), min(per_worker[2]))
        for r in rows:
            r["untiled / this"] = ratio(min(t_un), r["seconds"])
        targets = [{"target": "two workers >= 1.7x one worker", "value": speedup, "unit": "x",
                    "met": (speedup or 0) >= 1.7}]
        for k, v in checks.items():
            targets.append({"target": f"identical results: {k}", "value": v, "met": bool(v)})
        notes = [f"model: {kind}" + (" (terrain model not available in this build)" if kind == "radius"
                                      and args.model == "auto" else ""),
                 f"grid {grid.shape[0]} x {grid.shape[1]} cells (3 arc-seconds), {n_sites} transmitters, "
                 f"tiles of {tile} cells; SYNTHETIC sites and terrain; radii from link budgets "
                 f"(max {sites['radius_km'].max():.1f} km).",
                 f"best of {repeat} run(s) per case; machine shared by several developers (2 cores): noisy.",
                 "identical = operator bits, transmitter counts and serving sites equal cell by cell."]
        for nw, ph in phases.items():
            notes.append(f"{nw} worker(s), last run, seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in ph.items())
                         + " (wall: windows, merge; then time inside tasks summed over workers)")
        rec = {"benchmark": "B2", "title": "multi-site coverage field, 1 vs 2 workers", "quick": args.quick,
               "params": {"model": kind, "cells": grid.ny * grid.nx, "transmitters": n_sites, "tile_size": tile},
               "rows": rows, "targets": targets, "notes": notes, "speedup_2_vs_1": speedup}
        print(write_result(args.out, NAME, rec))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _s(times):
    s = summary(times)
    return {"seconds": s["min_s"], "median_s": s["median_s"], "runs": s["runs"]}


if __name__ == "__main__":
    sys.exit(main())
