"""Benchmark b1: one site (and 1,000 sites) with the terrain model, side by side with peers.

Run:  .venv/bin/python benchmarks/b1_single_site.py --out out/bench

In one run, on SYNTHETIC fractal terrain:

1. **Line of sight vs GDAL** (``gdal_viewshed``, python3-gdal 3.6, system Python): one
   antenna (30 m) on a 30 m UTM 48N DEM, 20 km radius, k = 4/3 (``-cc 0.75``), receiver
   1.5 m. Per-site times of ``gdal.ViewshedGenerate`` to a MEM dataset and of covgap's
   :func:`covgap.models.terrain.line_of_sight`; agreement (cells that agree, IoU of the visible
   sets) within the 20 km disc; and both against the slow exact reference
   (``tests/naive.py``) on a random sample of cells. GDAL (kept running in a process of its
   own) and covgap are timed call by call, alternating (``--rounds`` × ``--reps`` calls each),
   so that the shared machine's changes of speed during the run fall on both; the report
   gives the median of the per-call ratios and the ratios of each block of ``--reps`` calls.
2. **Full single-site footprint** (path loss + Bullington diffraction + link budget) on
   the same window: covgap's time (sweep, and radials for comparison), to compare with
   the 20 ms target and with GDAL's line of sight alone.
3. **Coverage footprint vs SPLAT!** (Debian ``splat`` 1.4.2, Longley–Rice ``-olditm``):
   the same site on a 3-arc-second geographic DEM written as SRTM tiles; footprint =
   EIRP − path loss ≥ threshold (2G defaults: 900 MHz, EIRP 57 dBm, −95 dBm), 20 km.
   Area of each, IoU, cells agreeing, time (SPLAT! whole process; covgap warm).
4. **1,000 sites** over a 100 km × 100 km 30 m DEM with the 4G defaults.

Figures go to ``OUT/b1_single_site.json`` and ``OUT/b1_single_site.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import covgap  # noqa: E402
from b1_data import GDAL_SCRIPT, SYS_PYTHON, fractal_dem, gdal_on_grid, write_dem_tif, write_hgt_tiles  # noqa: E402
from covgap.errors import ModelRangeWarning  # noqa: E402
from covgap.grid import Grid  # noqa: E402
from covgap.sites import validate_sites  # noqa: E402
from covgap.models.terrain import TerrainModel, line_of_sight, site_footprint  # noqa: E402



def _stats(times) -> dict:
    t = np.asarray(times)
    return {"min_s": float(t.min()), "median_s": float(np.median(t)), "n": int(t.size)}


def _time(fn, reps: int) -> tuple[list[float], object]:
    out = None
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return ts, out


def _sites(lon, lat, tech="4G", height=30.0, **cols) -> pd.DataFrame:
    df = pd.DataFrame({"site_id": [f"s{i}" for i in range(np.size(lon))], "operator": "A", "technology": tech,
                       "lon": np.atleast_1d(lon), "lat": np.atleast_1d(lat), "antenna_height_m": height})
    for k, v in cols.items():
        df[k] = v
    return validate_sites(df)[0]


# --------------------------------------------------------------------------- 1 + 2: GDAL
def bench_gdal(work: Path, reps: int, relief_m: float, rounds: int = 3) -> dict:
    n = 1401
    res = 30.0
    x0, y_top = 500_000.0, 2_400_000.0
    grid = Grid.from_bounds(x0, y_top - n * res, x0 + n * res, y_top, res=(res, res), crs="EPSG:32648")
    dem = fractal_dem(grid.shape, seed=11, relief_m=relief_m)
    tif = write_dem_tif(work / "dem_utm30.tif", grid, dem)
    ci = 700
    ox, oy = x0 + (ci + 0.5) * res, y_top - (ci + 0.5) * res
    lon, lat = (float(v) for v in grid.to_lonlat(ox, oy))
    h_tx, h_rx, radius_km = 30.0, 1.5, 20.0

    out: dict = {"grid": {"crs": "EPSG:32648", "cell_m": res, "shape": list(grid.shape),
                          "relief_m": relief_m, "radius_km": radius_km, "antenna_m": h_tx, "receiver_m": h_rx,
                          "k_factor": 4 / 3}}
    # GDAL (per-site times from the bindings, in a process of its own) and covgap call by call,
    # alternating, so that the shared machine's changes of speed fall on both sides alike
    npz = work / "gdal_vs.npz"
    sites = _sites(lon, lat, height=h_tx)
    model = TerrainModel(max_radius_km=radius_km, link_budgets={"4G": {"eirp_dbm": 60.0}})
    line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=h_tx, radius_km=radius_km)  # compile/warm
    site_footprint(grid, dem, sites, 0, model=model)
    gdal_proc = subprocess.Popen([SYS_PYTHON, str(GDAL_SCRIPT), str(tif), str(ox), str(oy),
                                  str(h_tx), str(h_rx), "0.75", str(radius_km * 1000), "serve", str(npz)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def gdal_once() -> float:
        gdal_proc.stdin.write("run\n")
        gdal_proc.stdin.flush()
        return float(gdal_proc.stdout.readline())

    gdal_once()  # warm
    t_gdal, t_los, t_fp, per_round = [], [], [], []
    for _ in range(rounds * reps):
        t_gdal.append(gdal_once())
        ts_l, los = _time(lambda: line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=h_tx,
                                                radius_km=radius_km, receiver_height_m=h_rx), 1)
        ts_f, fp = _time(lambda: site_footprint(grid, dem, sites, 0, model=model), 1)
        t_los += ts_l
        t_fp += ts_f
    gdal_proc.stdin.write("save\nquit\n")
    gdal_proc.stdin.flush()
    gdal_proc.wait(timeout=120)
    g = np.load(npz)
    for r in range(rounds):
        sl = slice(r * reps, (r + 1) * reps)
        per_round.append({"gdal_min_s": min(t_gdal[sl]), "covgap_los_min_s": min(t_los[sl]),
                          "covgap_footprint_min_s": min(t_fp[sl])})
    out["pairwise_ratio_median"] = {
        "covgap_los_over_gdal": float(np.median(np.array(t_los) / np.array(t_gdal))),
        "covgap_footprint_over_gdal": float(np.median(np.array(t_fp) / np.array(t_gdal)))}
    out["rounds"] = per_round
    out["gdal"] = {"version": str(g["version"]), **_stats(t_gdal)}
    # GDAL whole process (CLI), once
    t0 = time.perf_counter()
    subprocess.run(["gdal_viewshed", "-q", "-ox", str(ox), "-oy", str(oy), "-oz", str(h_tx), "-tz", str(h_rx),
                    "-cc", "0.75", "-md", str(radius_km * 1000), str(tif), str(work / "vs_cli.tif")], check=True)
    out["gdal"]["cli_whole_process_s"] = time.perf_counter() - t0
    out["covgap_los"] = {**_stats(t_los), "n_rays": los.n_rays, "cells_in_radius": int(los.in_radius.sum())}
    out["covgap_footprint"] = {**_stats(t_fp), "cells_in_radius": int(np.isfinite(fp.signal_dbm).sum()),
                               "radius_m": fp.radius_m, "what": "Hata (COST-231 1800 MHz) + Bullington over two "
                               "obstacles (sweep) + link budget, one site, all threads"}
    # the same with the radial traversal (Bullington over the whole profile), fewer repetitions
    reps_r = max(2, reps // 3)
    line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=h_tx, radius_km=radius_km, algorithm="radials")
    ts, los_r = _time(lambda: line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=h_tx,
                                            radius_km=radius_km, receiver_height_m=h_rx, algorithm="radials"), reps_r)
    out["covgap_los_radials"] = {**_stats(ts), "n_rays": los_r.n_rays}
    model_r = TerrainModel(max_radius_km=radius_km, link_budgets={"4G": {"eirp_dbm": 60.0}}, algorithm="radials")
    site_footprint(grid, dem, sites, 0, model=model_r)
    ts, fp_r = _time(lambda: site_footprint(grid, dem, sites, 0, model=model_r), reps_r)
    both = np.isfinite(fp.signal_dbm) & np.isfinite(fp_r.signal_dbm)
    cov_s, cov_r = fp.covered[both], fp_r.covered[both]
    out["covgap_footprint_radials"] = {
        **_stats(ts), "what": "as above with algorithm='radials' (Bullington over the whole profile)",
        "coverage_agree_with_sweep": float((cov_s == cov_r).mean()),
        "covered_fraction_sweep": float(cov_s.mean()), "covered_fraction_radials": float(cov_r.mean()),
        "signal_difference_sweep_minus_radials_db": {
            q: float(np.percentile(fp.signal_dbm[both] - fp_r.signal_dbm[both], p))
            for q, p in (("p5", 5), ("median", 50), ("p95", 95))},
    }

    # the same on one thread (GDAL 3.6 is single-threaded; on a loaded machine one thread can win)
    import numba

    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        ts1, _ = _time(lambda: line_of_sight(grid, dem, lon=lon, lat=lat, antenna_height_m=h_tx,
                                             radius_km=radius_km, receiver_height_m=h_rx), reps)
        ts2, _ = _time(lambda: site_footprint(grid, dem, sites, 0, model=model), reps)
    finally:
        numba.set_num_threads(threads)
    out["covgap_los_1thread"] = _stats(ts1)
    out["covgap_footprint_1thread"] = _stats(ts2)

    # agreement with GDAL within the disc
    full_g = gdal_on_grid(grid, g["visible"], g["geotransform"])
    full_c = np.zeros(grid.shape, dtype=bool)
    inr = np.zeros(grid.shape, dtype=bool)
    sl = (slice(los.row0, los.row0 + los.visible.shape[0]), slice(los.col0, los.col0 + los.visible.shape[1]))
    full_c[sl] = los.visible
    inr[sl] = los.in_radius
    full_r = np.zeros(grid.shape, dtype=bool)
    full_r[sl] = los_r.visible
    a, b = full_c[inr], full_g[inr]
    out["agreement_covgap_vs_gdal"] = {
        "cells": int(inr.sum()), "agree_fraction": float((a == b).mean()),
        "iou_visible": float((a & b).sum() / max((a | b).sum(), 1)),
        "visible_fraction_covgap": float(a.mean()), "visible_fraction_gdal": float(b.mean()),
    }
    # both against the exact reference (slow: every sampled cell along its own line)
    rng = np.random.default_rng(0)
    ii, jj = np.nonzero(inr)
    pick = rng.choice(ii.size, size=min(1500, ii.size), replace=False)
    ref = _reference_sample(grid, dem, lon, lat, h_tx, h_rx, radius_km * 1000, ii[pick], jj[pick])
    out["exact_reference_sample"] = {
        "cells": int(pick.size),
        "covgap_agree_fraction": float((full_c[ii[pick], jj[pick]] == ref).mean()),
        "covgap_radials_agree_fraction": float((full_r[ii[pick], jj[pick]] == ref).mean()),
        "gdal_agree_fraction": float((full_g[ii[pick], jj[pick]] == ref).mean()),
        "reference": "tests/naive.py los_reference: straight line to each cell centre, terrain bilinear, "
                     "sampled every 0.05 cell",
    }
    return out


def _reference_sample(grid, dem, lon, lat, h_tx, h_rx, radius_m, rows, cols) -> np.ndarray:
    """Exact line of sight (tests/naive.py) of the sampled cells only."""
    from naive import los_reference

    vis, _ = los_reference(grid, dem, lon, lat, antenna_height_m=h_tx, receiver_height_m=h_rx, k_factor=4 / 3,
                           radius_m=radius_m, targets=list(zip(rows.tolist(), cols.tolist(), strict=True)))
    return vis[rows, cols]


# --------------------------------------------------------------------------- 3: SPLAT!
def bench_splat(work: Path, relief_m: float) -> dict:
    if shutil.which("splat") is None or shutil.which("srtm2sdf") is None:
        return {"skipped": "splat / srtm2sdf not installed (Debian package 'splat')"}
    sdir = work / "splat"
    sdir.mkdir(exist_ok=True)
    res = 3.0 / 3600.0
    lat_n, lon_w = 23, 104  # tiles N20..N22 x E104..E106
    dem = fractal_dem((3601, 3601), seed=7, relief_m=relief_m)
    write_hgt_tiles(dem, lat_n, lon_w, sdir)
    for hgt in sorted(sdir.glob("*.hgt")):
        subprocess.run(["srtm2sdf", hgt.name], cwd=sdir, check=True, capture_output=True)
    # our grid: cell centres on the SRTM samples
    grid = Grid.from_bounds(lon_w - res / 2, lat_n - 3 - res / 2, lon_w + 3 + res / 2, lat_n + res / 2,
                            res=(res, res), crs="EPSG:4326")
    assert grid.shape == dem.shape
    lat, lon = 21.5, 105.5
    h_tx, h_rx, radius_km = 30.0, 1.5, 20.0
    eirp, thr, f = 57.0, -95.0, 900.0
    (sdir / "tx.qth").write_text(f"tx\n{lat:.6f}\n{360.0 - lon:.6f}\n{h_tx:.1f}m\n")
    (sdir / "tx.lrp").write_text(
        "15.000 ; Earth Dielectric Constant\n0.005 ; Earth Conductivity\n301.000 ; Atmospheric Bending Constant\n"
        f"{f:.3f} ; Frequency in MHz\n1 ; Radio Climate (1 = Equatorial)\n1 ; Polarization (1 = Vertical)\n"
        "0.50 ; Fraction of situations\n0.50 ; Fraction of time\n")
    t0 = time.perf_counter()
    proc = subprocess.run(["splat", "-t", "tx.qth", "-L", str(h_rx), "-R", str(radius_km), "-metric", "-olditm",
                           "-ano", "pl.ano", "-o", "map.ppm", "-ngs"], cwd=sdir, capture_output=True, text=True)
    t_splat = time.perf_counter() - t0
    if proc.returncode != 0 or not (sdir / "pl.ano").exists():
        return {"failed": proc.stdout[-2000:] + proc.stderr[-2000:]}
    rows, cols, loss, obstructed = _read_ano(sdir / "pl.ano", grid)

    window = _disc_window(grid, lon, lat, radius_km)
    sub = grid.window(*window)
    sub_dem = dem[window[0]:window[1], window[2]:window[3]]
    sites = _sites(lon, lat, tech="2G", height=h_tx)
    model = TerrainModel(link_budgets={"2G": {"eirp_dbm": eirp, "threshold_dbm": thr, "frequency_mhz": f}},
                         max_radius_km=radius_km)
    model.compute(sub, sites, dem=sub_dem)
    ts, cov = _time(lambda: model.compute(sub, sites, dem=sub_dem), 5)
    tc = cov.technologies["2G"]
    los = line_of_sight(sub, sub_dem, lon=lon, lat=lat, antenna_height_m=h_tx, radius_km=radius_km)

    ours = tc.covered
    in_disc = np.isfinite(tc.signal_dbm)
    splat_cov = np.zeros(sub.shape, dtype=bool)
    splat_has = np.zeros(sub.shape, dtype=bool)
    splat_obs = np.zeros(sub.shape, dtype=bool)
    r = rows - window[0]
    c = cols - window[2]
    ok = (r >= 0) & (r < sub.ny) & (c >= 0) & (c < sub.nx)
    splat_has[r[ok], c[ok]] = True
    splat_cov[r[ok], c[ok]] = eirp - loss[ok] >= thr
    splat_obs[r[ok], c[ok]] = obstructed[ok]
    both = in_disc & splat_has
    area = sub.cell_area_km2()
    area_full = np.broadcast_to(area, sub.shape)
    a, b = ours & both, splat_cov & both
    vis_c = np.zeros(sub.shape, bool)
    vis_c[los.row0:los.row0 + los.visible.shape[0], los.col0:los.col0 + los.visible.shape[1]] = los.visible
    return {
        "grid": {"crs": "EPSG:4326", "cell": "3 arc-seconds", "site": [lon, lat], "relief_m": relief_m,
                 "radius_km": radius_km, "frequency_mhz": f, "eirp_dbm": eirp, "threshold_dbm": thr,
                 "antenna_m": h_tx, "receiver_m": h_rx},
        "splat": {"version": _splat_version(), "model": "Longley-Rice ITM (-olditm), climate 1 equatorial, "
                  "50 % / 50 %", "whole_process_s": t_splat, "cells_reported": int(ok.sum())},
        "covgap": {**_stats(ts), "model": "terrain: Okumura-Hata rural + Bullington, k = 4/3",
                   "cells_in_radius": int(in_disc.sum())},
        "footprint": {
            "cells_compared": int(both.sum()),
            "area_km2_covgap": float(area_full[a].sum()), "area_km2_splat": float(area_full[b].sum()),
            "iou": float((a & b).sum() / max((a | b).sum(), 1)),
            "agree_fraction": float((a == b)[both].mean()),
        },
        "line_of_sight_vs_splat": {
            "agree_fraction": float((vis_c == ~splat_obs)[both].mean()),
            "visible_fraction_covgap": float(vis_c[both].mean()),
            "visible_fraction_splat": float((~splat_obs)[both].mean()),
        },
    }


def _splat_version() -> str:
    try:
        p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "splat"], capture_output=True, text=True)
        return p.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _disc_window(grid: Grid, lon: float, lat: float, radius_km: float) -> tuple[int, int, int, int]:
    t = grid.transform
    dlat = radius_km / 111.19 + 3 * t.a
    dlon = dlat / math.cos(math.radians(lat))
    r0 = int((lat + dlat - t.f) / t.e)
    r1 = int(math.ceil((lat - dlat - t.f) / t.e))
    c0 = int((lon - dlon - t.c) / t.a)
    c1 = int(math.ceil((lon + dlon - t.c) / t.a))
    return max(r0, 0), min(r1, grid.ny), max(c0, 0), min(c1, grid.nx)


def _read_ano(path: Path, grid: Grid):
    """Rows, cols, path loss (dB) and obstructed flag of a SPLAT! ``-ano`` file."""
    lats, lons, loss, obs = [], [], [], []
    with open(path) as fh:
        for line in fh:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) < 5:
                continue
            try:
                la, lo, val = float(parts[0]), float(parts[1]), float(parts[4].split()[0])
            except ValueError:
                continue
            lats.append(la)
            lons.append(lo)
            loss.append(val)
            obs.append("*" in line)
    lat = np.array(lats)
    lon_w = np.array(lons)
    lon = np.where(lon_w > 180.0, 360.0 - lon_w, -lon_w)
    t = grid.transform
    rows = np.floor((lat - t.f) / t.e).astype(int)
    cols = np.floor((lon - t.c) / t.a).astype(int)
    return rows, cols, np.array(loss), np.array(obs)


# --------------------------------------------------------------------------- 4: 1,000 sites
def bench_many(n_sites: int, relief_m: float) -> dict:
    res = 30.0
    n = 3334  # 100 km
    grid = Grid.from_bounds(500_000.0, 2_300_000.0, 500_000.0 + n * res, 2_300_000.0 + n * res,
                            res=(res, res), crs="EPSG:32648")
    dem = fractal_dem(grid.shape, seed=3, relief_m=relief_m)
    rng = np.random.default_rng(1)
    xs = rng.uniform(grid.bounds[0] + 100, grid.bounds[2] - 100, n_sites)
    ys = rng.uniform(grid.bounds[1] + 100, grid.bounds[3] - 100, n_sites)
    lon, lat = grid.to_lonlat(xs, ys)
    sites = _sites(lon, lat)
    sites["operator"] = np.array(["A", "B", "C"])[rng.integers(0, 3, n_sites)]
    model = TerrainModel()
    # warm-up (compile the batch kernels) on a small copy
    small = grid.window(0, 500, 0, 500)
    sx, sy = small.x_centres()[250], small.y_centres()[250]
    wl, wa = small.to_lonlat(np.full(8, sx), np.full(8, sy))
    model.compute(small, _sites(wl, wa), dem=dem[:500, :500])
    t0 = time.perf_counter()
    cov = model.compute(grid, sites, dem=dem)
    dt = time.perf_counter() - t0
    tc = cov.technologies["4G"]
    model_r = TerrainModel(algorithm="radials")
    model_r.compute(small, _sites(wl, wa), dem=dem[:500, :500])
    t0 = time.perf_counter()
    cov_r = model_r.compute(grid, sites, dem=dem)
    dt_r = time.perf_counter() - t0
    cr = cov_r.technologies["4G"].covered
    return {"time_s_radials": dt_r, "covered_fraction_radials": float(cr.mean()),
            "coverage_agree_with_radials": float((cr == tc.covered).mean()),
            "grid": {"crs": "EPSG:32648", "cell_m": res, "shape": list(grid.shape), "relief_m": relief_m},
            "sites": n_sites, "technology": "4G defaults (1800 MHz, RSRP EIRP 29 dBm, -105 dBm, rural)",
            "radius_km": _radius_4g_km(),
            "time_s": dt, "covered_fraction": float(tc.covered.mean()),
            "mean_operators_where_covered": float(tc.n_operators()[tc.covered].mean())}


def _radius_4g_km() -> float:
    from covgap.models.pathloss import hata_coefficients

    a, b = hata_coefficients(1800.0, 30.0, 1.5, environment="rural")
    return float(10 ** ((29.0 + 105.0 - a) / b))


# --------------------------------------------------------------------------- report
def _best(g: dict, key: str) -> float:
    """Smallest min time of ``key`` over the thread settings measured."""
    return min(g[k]["min_s"] for k in (key, key + "_1thread") if k in g)


def write_report(res: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "b1_single_site.json").write_text(json.dumps(res, indent=2, default=float))
    L = ["# b1 — single-site terrain model vs GDAL viewshed and SPLAT! (SYNTHETIC fractal terrain)", ""]
    L.append(f"Machine: {res['machine']}. covgap {res['covgap_version']}. Command: `{res['command']}`.")
    la = res.get("load_average_at_start")
    if la:
        L.append(f"Load average (1/5/15 min) at start: {la[0]:.1f} / {la[1]:.1f} / {la[2]:.1f} on "
                 f"{os.cpu_count()} CPUs (shared machine: other work was running).")
    L.append("")
    g = res.get("gdal_los")
    if g:
        gd, cl, cf = g["gdal"], g["covgap_los"], g["covgap_footprint"]
        L += ["## 1. Line of sight, one antenna, 20 km radius, 30 m UTM grid (1401 × 1401)", "",
              "| | per-site time (min / median) | notes |", "|---|---|---|",
              f"| GDAL {gd['version']} `ViewshedGenerate` (MEM) | {gd['min_s']*1e3:.1f} / {gd['median_s']*1e3:.1f} ms"
              f" | CLI whole process {gd['cli_whole_process_s']*1e3:.0f} ms |",
              f"| covgap `line_of_sight` (sweep) | {cl['min_s']*1e3:.1f} / {cl['median_s']*1e3:.1f} ms | "
              f"{cl['cells_in_radius']:,} cells in the disc |",
              f"| covgap full footprint (path loss + Bullington + link budget, sweep) | {cf['min_s']*1e3:.1f} / "
              f"{cf['median_s']*1e3:.1f} ms | target ≤ 20 ms |"]
        if "covgap_los_radials" in g:
            rl, rf = g["covgap_los_radials"], g["covgap_footprint_radials"]
            L += [f"| covgap `line_of_sight`, radials | {rl['min_s']*1e3:.1f} / {rl['median_s']*1e3:.1f} ms | "
                  f"{rl['n_rays']} rays |",
                  f"| covgap full footprint, radials | {rf['min_s']*1e3:.1f} / {rf['median_s']*1e3:.1f} ms | "
                  f"coverage agrees with the sweep on {rf['coverage_agree_with_sweep']*100:.1f} % of cells |"]
        if "covgap_los_1thread" in g:
            c1, f1 = g["covgap_los_1thread"], g["covgap_footprint_1thread"]
            L += [f"| covgap `line_of_sight`, 1 thread | {c1['min_s']*1e3:.1f} / {c1['median_s']*1e3:.1f} ms | |",
                  f"| covgap full footprint, 1 thread | {f1['min_s']*1e3:.1f} / {f1['median_s']*1e3:.1f} ms | |"]
        L += ["",
              f"Ratio covgap LOS / GDAL (min times, best of covgap's thread settings): "
              f"**{_best(g, 'covgap_los')/gd['min_s']:.2f}×**; covgap full footprint / GDAL LOS: "
              f"**{_best(g, 'covgap_footprint')/gd['min_s']:.2f}×**.", ""]
        if "pairwise_ratio_median" in g:
            pr = g["pairwise_ratio_median"]
            L += [f"Call by call (GDAL, covgap line of sight, covgap footprint, repeated), median of the "
                  f"per-call ratios: covgap LOS / GDAL **{pr['covgap_los_over_gdal']:.2f}×**, full footprint / "
                  f"GDAL LOS **{pr['covgap_footprint_over_gdal']:.2f}×**.", ""]
        if "rounds" in g:
            L += [f"Per block of calls ({len(g['rounds'])} blocks; min times): covgap LOS / "
                  "GDAL " + ", ".join(f"{r['covgap_los_min_s']/r['gdal_min_s']:.2f}×" for r in g["rounds"])
                  + "; full footprint / GDAL LOS " + ", ".join(
                      f"{r['covgap_footprint_min_s']/r['gdal_min_s']:.2f}×" for r in g["rounds"]) + ".", ""]
        a = g["agreement_covgap_vs_gdal"]
        e = g["exact_reference_sample"]
        L += [f"Agreement covgap vs GDAL inside the disc: **{a['agree_fraction']*100:.2f} %** of "
              f"{a['cells']:,} cells, IoU of visible sets **{a['iou_visible']:.3f}** (visible: covgap "
              f"{a['visible_fraction_covgap']*100:.1f} %, GDAL {a['visible_fraction_gdal']*100:.1f} %).", "",
              f"Against the exact per-cell reference on {e['cells']} random cells: covgap sweep "
              f"**{e['covgap_agree_fraction']*100:.2f} %**, covgap radials "
              f"**{e.get('covgap_radials_agree_fraction', float('nan'))*100:.2f} %**, "
              f"GDAL **{e['gdal_agree_fraction']*100:.2f} %** "
              f"({e['reference']}).", ""]
    s = res.get("splat")
    if s and "footprint" in s:
        fp = s["footprint"]
        L += ["## 2. Coverage footprint vs SPLAT!, 3″ geographic DEM (SRTM tiles), 20 km", "",
              "| | time | covered area |", "|---|---|---|",
              f"| SPLAT! {s['splat']['version']} ({s['splat']['model']}) | {s['splat']['whole_process_s']:.2f} s "
              f"(whole process) | {fp['area_km2_splat']:.1f} km² |",
              f"| covgap terrain model (warm, min/median) | {s['covgap']['min_s']*1e3:.1f} / "
              f"{s['covgap']['median_s']*1e3:.1f} ms | {fp['area_km2_covgap']:.1f} km² |", "",
              f"Footprint IoU **{fp['iou']:.3f}**, cells agreeing **{fp['agree_fraction']*100:.1f} %** of "
              f"{fp['cells_compared']:,}. Line of sight vs SPLAT!'s obstruction flag: "
              f"{s['line_of_sight_vs_splat']['agree_fraction']*100:.1f} % agree.", ""]
    elif s:
        L += ["## 2. SPLAT!", "", f"Not run: {s}", ""]
    m = res.get("many")
    if m:
        L += ["## 3. 1,000 sites, 100 km × 100 km, 30 m (3334 × 3334)", "",
              f"{m['sites']} sites, {m['technology']}: sweep **{m['time_s']:.1f} s** (target ≤ 30 s); "
              f"{m['covered_fraction']*100:.1f} % of cells covered. Radials (same run): "
              f"{m['time_s_radials']:.1f} s, {m['covered_fraction_radials']*100:.1f} % covered; coverage "
              f"agrees on {m['coverage_agree_with_radials']*100:.2f} % of cells.", ""]
    L += ["## Notes", "", *[f"- {n}" for n in res.get("notes", [])], ""]
    (out / "b1_single_site.md").write_text("\n".join(L))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/bench")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3, help="blocks of --reps alternating GDAL / covgap calls")
    ap.add_argument("--relief-m", type=float, default=400.0)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--skip", nargs="*", default=[], choices=["gdal", "splat", "many"])
    args = ap.parse_args(argv)
    out = Path(args.out)
    import numba

    res: dict = {
        "command": "benchmarks/b1_single_site.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}",
        "load_average_at_start": list(os.getloadavg()),
        "covgap_version": covgap.__version__,
        "notes": [
            "SYNTHETIC terrain: fractal DEMs (b1_data.fractal_dem), no real data.",
            "Timings are wall-clock on a shared machine; min of repetitions is the least disturbed.",
            "covgap line of sight (default algorithm 'sweep'): one pass over the cells outward from the "
            "antenna, each cell's horizon interpolated from its neighbours nearer the antenna plus the terrain "
            "where the line crosses their centre line (covgap.models._sweep_kernels); 'radials': rays from the "
            "antenna, each cell interpolated between the two bracketing rays. GDAL 3.6: reference-plane "
            "algorithm over the raster lines (Wang et al. 2000).",
            "SPLAT! footprint uses Longley-Rice, covgap Okumura-Hata + Bullington diffraction: different "
            "propagation models, so the footprints differ by model as much as by terrain handling.",
            "The full footprint costs more than line of sight alone: per cell the base path loss and, for "
            "obstructed cells, the two Bullington obstacles carried cell to cell and J(nu).",
        ],
    }
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)
        work = Path(tmp)
        if "gdal" not in args.skip:
            res["gdal_los"] = bench_gdal(work, args.reps, args.relief_m, args.rounds)
            write_report(res, out)
        if "splat" not in args.skip:
            res["splat"] = bench_splat(work, args.relief_m)
            write_report(res, out)
        if "many" not in args.skip:
            res["many"] = bench_many(args.sites, args.relief_m)
    res["load_average_at_end"] = list(os.getloadavg())
    write_report(res, out)
    print((out / "b1_single_site.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
