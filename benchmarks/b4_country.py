"""B4 — end to end on a Vietnam-sized SYNTHETIC country: wall time and peak memory.

The country is Vietnam's outline and its 63 former provinces (geoBoundaries ADM1, real
polygons; the far offshore archipelagos east of 109.5° E fall outside the grid), on a
3-arc-second grid (≈ 160 M cells over the bounding box, ≈ 42 M on land), with
SYNTHETIC terrain (:class:`_common.SyntheticDEM`, a 90 m DEM on the same grid), SYNTHETIC
population on land and 100,000 SYNTHETIC transmitters on land with link-budget radii
(2G 20 km cap, 3G ≈ 16 km, 4G ≈ 7 km). ``--quick``: a 0.4° region, 150 transmitters, radii ≤ 3 km.

End to end = tiled coverage (:func:`covgap.tiling.compute_coverage_tiled`, tiles of 2048
cells, on a 2-worker Dask ``LocalCluster``) + people covered per technology and uncovered
per province (:func:`covgap.tiling.tiled_zonal_sums`). Input generation is timed apart.
Peak memory = the sum of the VmHWM (resident high-water mark) of this process, the Dask
workers and their nannies.

Targets (issue 7): ≤ 10 minutes with the terrain model on a 90 m DEM; peak ≤ 8 GB.

``--members N`` (issue 19): after the deterministic run, an ensemble of N members with
link-budget (``--link-db``) and location (``--location-db`` over ``--location-corr-m``) spreads on
the tiled path (:func:`covgap.uncertainty.ensemble_sums_tiled`: the signal once with headroom
into a tile store, every member evaluated per tile, per-member sums per province added across
tiles, the no-signal share written per tile), on the same Dask workers; its wall time and the
peak RSS over both phases are recorded next to the deterministic figures. ``--bounds W S E N``
runs a part of the country (give ``--sites`` in proportion to its land).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import (  # noqa: E402
    SHARED_VNM,
    SyntheticDEM,
    SyntheticPopulation,
    UnitLabels,
    link_budget_radius_km,
    parser,
    synthetic_sites,
    vm_hwm_bytes,
    write_result,
)

NAME = "b4_country"
GIB = 2**30


def load_units(bounds):
    import geopandas as gpd

    path = SHARED_VNM / "geoBoundaries-VNM-ADM1.shp"
    if not path.exists():
        raise SystemExit(f"B4 needs {path} (geoBoundaries VNM ADM1); set COVGAP_SHARED_DATA to its folder.")
    g = gpd.read_file(path).set_crs("EPSG:4326", allow_override=True)
    g = g.dissolve(by="shapeISO", as_index=False, aggfunc="first").sort_values("shapeISO").reset_index(drop=True)
    g = g.clip(bounds).reset_index(drop=True)
    return g[~g.geometry.is_empty].reset_index(drop=True)


def land_points(units, grid, n, seed):
    """``n`` random points on land: random land cells of a 30″ label grid, jittered inside the cell."""
    from covgap.grid import Grid
    from covgap.overlay import rasterize_units

    w, s, e, nn = grid.bounds
    coarse = Grid.from_bounds(w, s, e, nn, res=(30 / 3600, 30 / 3600), crs="EPSG:4326")
    lab = rasterize_units(units, coarse)
    rr, cc = np.nonzero(lab)
    rng = np.random.default_rng(seed)
    k = rng.integers(0, rr.size, n)
    xc, yc = coarse.x_centres(), coarse.y_centres()
    half = 15 / 3600
    return xc[cc[k]] + rng.uniform(-half, half, n), yc[rr[k]] + rng.uniform(-half, half, n)


def pick_model(kind: str, cap_km: float, p1812_radius_km: float = 10.0):
    if kind == "p1812":
        from covgap.models.p1812_area import P1812Model

        return P1812Model(max_radius_km=p1812_radius_km), "p1812"
    if kind in ("auto", "terrain"):
        try:
            from covgap.models.terrain import TerrainModel

            return TerrainModel(max_radius_km=cap_km, invalid_sites="skip"), "terrain"
        except ImportError:
            if kind == "terrain":
                raise
    from covgap.models.radius import RadiusModel

    return RadiusModel(), "radius"


def p1812_cells(sites, radius_km: float) -> float:
    """Cells within ``radius_km`` of every transmitter, summed: π r² over the 3″ cell's area at its latitude."""
    cell_m = 3 / 3600 * np.pi / 180 * 6_371_008.8
    area = cell_m * cell_m * np.cos(np.radians(sites["lat"].to_numpy(dtype=float)))
    return float(np.sum(np.pi * (radius_km * 1000.0) ** 2 / area))


def peak_rss(client) -> tuple[int, int, int]:
    """Peak resident memory (VmHWM, bytes) of this process, of the Dask workers and of their nannies."""
    if client is None:
        return vm_hwm_bytes(), 0, 0
    return (vm_hwm_bytes(), sum(client.run(vm_hwm_bytes).values()),
            sum(client.run(vm_hwm_bytes, nanny=True).values()))


def run_members(args, grid, sites, model, dem, population, labels, n_units, work, client):
    """The ensemble on the tiled path (timed; peak RSS read after it, over both phases)."""
    from covgap.uncertainty import EnsembleSpec, ensemble_sums_tiled, member_draws

    spec = EnsembleSpec(members=args.members, seed=19, link_budget_db={"*": args.link_db},
                        location_db=args.location_db, location_correlation_m=args.location_corr_m)
    techs = sorted(sites["technology"].unique())
    t0 = time.perf_counter()
    draws, headroom = member_draws(spec, techs)
    sums, tcov = ensemble_sums_tiled(grid, sites, model, draws, headroom_db=headroom, technologies=techs,
                                     population=[population], levels={"province": (labels, n_units)}, workdir=work,
                                     dem=dem, tile_size=args.tile_size, executor=client,
                                     numba_threads=1 if client else None, max_in_flight=2 * max(args.workers, 1))
    wall = time.perf_counter() - t0
    hwm_driver, hwm_workers, hwm_nannies = peak_rss(client)
    disk = int(subprocess.run(["du", "-sb", str(work)], capture_output=True, text=True).stdout.split()[0])
    unc = sums.population["province"][0][1:].sum() - sums.covered["province"][:, 1:].sum(axis=1)
    q = np.percentile(unc, [10, 50, 90])
    return {"headroom_db": headroom, "signal_s": sums.stats["signal_s"], "members_s": wall - sums.stats["signal_s"],
            "wall_s": wall, "hwm_driver": hwm_driver, "hwm_workers": hwm_workers, "hwm_nannies": hwm_nannies,
            "peak_bytes": hwm_driver + hwm_workers + hwm_nannies, "disk": disk,
            "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]), "tiles": sums.tiles}


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", choices=["auto", "terrain", "radius", "p1812"], default="auto")
    p.add_argument("--p1812-radius-km", type=float, default=10.0,
                   help="p1812: max_radius_km of every transmitter (default 10, the model's default)")
    p.add_argument("--sites", type=int, default=None, help="number of transmitters (default 100,000; quick 150)")
    p.add_argument("--workers", type=int, default=2, help="Dask workers (0 = in this process)")
    p.add_argument("--tile-size", type=int, default=2048)
    p.add_argument("--workdir", default=None, help="tile folder (default: a temporary folder, removed)")
    p.add_argument("--members", type=int, default=0, help="ensemble members after the run (0 = none)")
    p.add_argument("--link-db", type=float, default=3.0, help="ensemble link-budget spread (dB)")
    p.add_argument("--location-db", type=float, default=5.5, help="ensemble location spread (dB)")
    p.add_argument("--location-corr-m", type=float, default=120.0, help="location field correlation (m)")
    p.add_argument("--bounds", type=float, nargs=4, default=None, metavar=("W", "S", "E", "N"),
                   help="part of the country to run (lon/lat); default the whole country")
    p.add_argument("--tag", default="", help="suffix of the result file (b4_country_TAG.json)")
    args = p.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    from covgap.tiling.dask import dask_client
    from covgap.grid import Grid
    from covgap.tiling import compute_coverage_tiled, tiled_zonal_sums

    t_start = time.perf_counter()
    if args.bounds:
        bounds = tuple(args.bounds)
    elif args.quick:
        bounds = (105.3, 21.6, 105.7, 22.0)
    else:
        bounds = (102.1, 8.4, 109.5, 23.4)
    n_sites = args.sites or (150 if args.quick else 100_000)
    grid = Grid.from_bounds(*bounds, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")
    units = load_units(bounds)
    land_km2 = float(units.to_crs("EPSG:6933").area.sum() / 1e6)
    lon, lat = land_points(units, grid, n_sites, seed=11)
    cap_km = 3.0 if args.quick else 20.0
    sites = synthetic_sites(n_sites, lon=lon, lat=lat, seed=11,
                            radius_km=lambda df: link_budget_radius_km(df, cap_km=cap_km))
    dem = SyntheticDEM(grid.transform)
    labels = UnitLabels(units.geometry.values, grid.transform)
    population = SyntheticPopulation(labels)
    model, kind = pick_model(args.model, cap_km, args.p1812_radius_km)
    n_off = 0
    if kind == "p1812":  # P.1812 needs each transmitter's ground height: drop the few jittered past the grid
        w, s_, e, n = grid.bounds
        on = sites["lon"].between(w, e) & sites["lat"].between(s_, n)
        n_off = int((~on).sum())
        sites = sites[on].reset_index(drop=True)
    t_inputs = time.perf_counter() - t_start
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="covgap-b4-"))
    warnings.simplefilter("ignore")  # model-range notes are reported once per kind in the tiled result
    try:
        import contextlib

        ctx = dask_client(workers=args.workers, threads_per_worker=1, processes=True) if args.workers else \
            contextlib.nullcontext(None)
        with ctx as client:
            t0 = time.perf_counter()
            tc = compute_coverage_tiled(grid, sites, model, dem=dem if kind in ("terrain", "p1812") else None,
                                        tile_size=args.tile_size, workdir=work,
                                        resume=bool(args.workdir), executor=client,
                                        numba_threads=1 if client else None, max_in_flight=2 * max(args.workers, 1))
            t_cov = time.perf_counter() - t0
            t0 = time.perf_counter()
            table = tiled_zonal_sums(tc, population=population, labels=labels, n_units=len(units), executor=client,
                                     max_in_flight=2 * max(args.workers, 1))
            t_zonal = time.perf_counter() - t0
            hwm_driver, hwm_workers, hwm_nannies = peak_rss(client)
            ens = None
            if args.members:
                ens = run_members(args, grid, sites, model, dem if kind == "terrain" else None, population, labels,
                                  len(units), work / "ensemble", client)
        disk = int(subprocess.run(["du", "-sb", str(work)], capture_output=True, text=True).stdout.split()[0])
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    wall = t_cov + t_zonal
    peak = hwm_driver + hwm_workers + hwm_nannies
    pop_total = float(table["population"].sum())
    unc = float(table["uncovered"].iloc[1:].sum())
    rows = [
        {"stage": f"inputs: units, {n_sites:,} synthetic sites, link budgets (not in end to end)", "seconds": t_inputs},
        {"stage": f"coverage, tiled ({kind} model), {args.workers or 'no'} Dask workers", "seconds": t_cov},
        {"stage": "people per province: covered per technology, uncovered (tiled)", "seconds": t_zonal},
        {"stage": "end to end (coverage + sums)", "seconds": wall},
    ]
    tiling = tc.parameters["tiling"]
    targets = [
        {"target": "end to end <= 10 minutes" + ("" if kind == "terrain" else f" (terrain target; {kind} model ran)"),
         "value": wall / 60, "unit": "min", "met": wall <= 600},
        {"target": "peak memory <= 8 GB (driver + workers + nannies)", "value": peak / 1e9, "unit": "GB",
         "met": peak <= 8e9},
    ]
    notes = [
        f"model: {kind}" + ("" if kind == "terrain" else " — the terrain model was not used"
                            + (" (not available in this build)" if args.model == "auto" else "")
                            + (f"; ITU-R P.1812-6 fast mode, max_radius_km {args.p1812_radius_km:g} for every "
                               f"transmitter; ≈ {p1812_cells(sites, args.p1812_radius_km):,.0f} cell evaluations "
                               "(π r² per transmitter over its cell area; sites near the grid's edge have fewer); "
                               f"{n_off} transmitter(s) jittered past the grid's edge dropped (no ground height)"
                               if kind == "p1812" else "")),
        f"grid {grid.shape[0]:,} x {grid.shape[1]:,} = {grid.ny * grid.nx:,} cells (3 arc-seconds); land "
        f"{land_km2:,.0f} km² ({len(units)} provinces, geoBoundaries ADM1 clipped to {bounds}); "
        f"{n_sites:,} SYNTHETIC transmitters ({', '.join(f'{k} {v:,}' for k, v in sites['technology'].value_counts().sort_index().items())}), "
        f"radius max {sites['radius_km'].max():.1f} km; SYNTHETIC terrain and population.",
        f"tiles {tiling['tile_rows']} cells, halo {tiling['halo_rows']} x {tiling['halo_cols']} cells "
        f"({tiling['halo_m'] / 1000:.1f} km), {tiling['n_tiles'][0]} x {tiling['n_tiles'][1]} tiles, "
        f"{tiling['tiles_with_sites']} with sites; tile folder {disk / GIB:.2f} GiB on disk.",
        f"peak RSS (VmHWM): driver {hwm_driver / GIB:.2f} GiB, workers {hwm_workers / GIB:.2f} GiB, "
        f"nannies {hwm_nannies / GIB:.2f} GiB.",
        f"result: population {pop_total:,.0f} (synthetic), without any signal {unc:,.0f} "
        f"({100 * unc / max(pop_total, 1):.2f} %); outside all provinces {float(table['population'].iloc[0]):,.0f}.",
        "time inside tile tasks, summed over workers (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in tc.stats.get("task_seconds", {}).items()) + ".",
        "machine shared by several developers (2 cores): timings are noisy.",
    ]
    title = f"Vietnam-sized synthetic country, end to end ({kind} model, {n_sites:,} transmitters)"
    if ens is not None:
        rows += [
            {"stage": f"ensemble: signal once with {ens['headroom_db']:.1f} dB headroom (tiled)",
             "seconds": ens["signal_s"]},
            {"stage": f"ensemble: {args.members} members per tile (sums per province, no-signal share)",
             "seconds": ens["members_s"]},
            {"stage": f"ensemble of {args.members} members in all", "seconds": ens["wall_s"]},
        ]
        targets.append({"target": f"peak memory <= 8 GB with the {args.members}-member ensemble (driver + workers + "
                                  "nannies, over the deterministic run and the ensemble)",
                        "value": ens["peak_bytes"] / 1e9, "unit": "GB", "met": ens["peak_bytes"] <= 8e9})
        notes.append(
            f"ensemble: {args.members} members, link budget {args.link_db} dB, location {args.location_db} dB over "
            f"{args.location_corr_m:.0f} m; people without any signal P10 {ens['p10']:,.0f}, P50 {ens['p50']:,.0f}, "
            f"P90 {ens['p90']:,.0f} (deterministic {unc:,.0f}); peak RSS after the ensemble: driver "
            f"{ens['hwm_driver'] / GIB:.2f} GiB, workers {ens['hwm_workers'] / GIB:.2f} GiB, nannies "
            f"{ens['hwm_nannies'] / GIB:.2f} GiB; ensemble folder {ens['disk'] / GIB:.2f} GiB on disk (signal tiles "
            "+ no-signal share).")
    rec = {"benchmark": "B4", "title": title, "quick": args.quick,
           "params": {"model": kind, "cells": grid.ny * grid.nx, "transmitters": n_sites, "tile_size": args.tile_size,
                      "workers": args.workers, "land_km2": round(land_km2)},
           "rows": rows, "targets": targets, "notes": notes,
           "peak_bytes": peak, "end_to_end_s": wall}
    if ens is not None:
        rec["ensemble"] = {k: v for k, v in ens.items()}
        rec["params"].update(members=args.members, link_db=args.link_db, location_db=args.location_db,
                             location_corr_m=args.location_corr_m, bounds=list(bounds))
    rec["command"] = "python benchmarks/b4_country.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(write_result(args.out, NAME + (f"_{args.tag}" if args.tag else ""), rec, script=NAME))
    return 0


if __name__ == "__main__":
    sys.exit(main())
