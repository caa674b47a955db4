"""B6 — the fast P.1812 area mode: time vs GDAL's line of sight, accuracy vs the exact mode.

Run:  .venv/bin/python benchmarks/b6_p1812_fast.py --out out/bench   [--quick] [--timing-only]

``--timing-only`` skips part 2 (the accuracy samples); ``--quick`` shrinks every window.

On b1's SYNTHETIC fractal DEM (``b1_data.fractal_dem``: 30 m UTM 48N grid, 1401 × 1401, relief
400 m, seed 11; and the same with relief 150 m), one transmitter (30 m, 900 MHz, e.i.r.p. 57 dBm,
threshold −95 dBm, receiver 1.5 m, location 50 %) in the centre, radius 20 km (``--quick``: 401
cells, 5 km):

1. **Time**: :class:`covgap.models.p1812_area.P1812Model` with ``method = "fast"`` (radials +
   exact re-evaluation of the cells within ``recheck_margin_db`` of the threshold), warm, called
   alternately with GDAL's ``ViewshedGenerate`` (line of sight, k = 4/3, same window, kept in a
   process of its own as in b1); median of the per-call ratios. The exact mode's time is
   extrapolated from its time per cell on the sample below (its full run is ~50 s a site).
2. **Accuracy**: the exact mode (``benchmarks/_p1812_reference.exact_signal``, the same
   evaluation as ``method = "exact"``) on a random sample of cells of the disc (``--sample``),
   against the fast mode without re-evaluation (``recheck_margin_db = 0``: the algorithm's own
   error) and as delivered (default margin): signal difference, share within 1 dB, coverage
   agreement on all sampled cells and on a second sample drawn from the populated cells of a
   SYNTHETIC population layer (settlements on the lowest 30 % of the terrain).
3. **B4 estimate**: the Vietnam-sized B4 (100,000 transmitters, link-budget radii, 3″ ≈ 90 m)
   with P.1812 is not run; its time is estimated from the fast mode's measured time per cell on a
   90 m window, B4's radii and 2 workers.

Figures go to ``OUT/b6_p1812_fast.json`` and ``.md``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import fmt, machine, parser, synthetic_sites, link_budget_radius_km, write_result  # noqa: E402
from _p1812_reference import (  # noqa: E402
    EIRP, F_MHZ, HRX, HTX, LB, THR, compared_cells, exact_signal, synthetic_population, site_window,
)
from b1_data import GDAL_SCRIPT, SYS_PYTHON, fractal_dem, write_dem_tif  # noqa: E402
from b5_radius_many import lscpu  # noqa: E402

import covgap  # noqa: E402
from covgap.grid import Grid  # noqa: E402
from covgap.models.base import compute_coverage  # noqa: E402
from covgap.models.p1812_area import P1812Model  # noqa: E402
from covgap.sites import validate_sites  # noqa: E402

NAME = "b6_p1812_fast"


def _gdal_server(work, grid, dem, ox, oy, radius_km):
    if not Path(SYS_PYTHON).exists():
        return None, "system python3 with GDAL bindings not found (apt-get install python3-gdal)"
    tif = write_dem_tif(work / "b6_dem.tif", grid, dem)
    proc = subprocess.Popen([SYS_PYTHON, str(GDAL_SCRIPT), str(tif), str(ox), str(oy), str(HTX), str(HRX), "0.75",
                             str(radius_km * 1000), "serve", str(work / "b6_gdal.npz")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def once() -> float:
        proc.stdin.write("run\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("GDAL viewshed process ended")
        return float(line)

    try:
        once()
    except (RuntimeError, ValueError) as exc:
        proc.kill()
        return None, f"GDAL viewshed failed: {exc}"
    return (proc, once), None


def timing(work, quick: bool, rounds: int) -> dict:
    n, radius = (401, 5.0) if quick else (1401, 20.0)
    grid, dem, sites, (ox, oy, lon, lat) = site_window(n, 30.0, 400.0)
    model = P1812Model(max_radius_km=radius, link_budgets=LB)
    t0 = time.perf_counter()
    cov = compute_coverage(grid, sites, model, dem=dem)  # compiles (or loads) the kernel
    first = time.perf_counter() - t0
    server, err = _gdal_server(work, grid, dem, ox, oy, radius)
    t_fast, t_gdal = [], []
    for _ in range(rounds):
        if server:
            t_gdal.append(server[1]())
        t0 = time.perf_counter()
        cov = compute_coverage(grid, sites, model, dem=dem)
        t_fast.append(time.perf_counter() - t0)
    if server:
        server[0].stdin.write("quit\n")
        server[0].stdin.flush()
        server[0].wait(timeout=60)
    p = cov.parameters
    out = {"window": f"{n} x {n} cells of 30 m, radius {radius:g} km, relief 400 m", "cells": p["cells_evaluated"],
           "fast_first_call_s": first, "fast_s": t_fast, "cells_fast": p["cells_fast"],
           "cells_rechecked_exact": p["cells_rechecked_exact"], "recheck_margin_db": model.recheck_margin_db,
           "fast_us_per_cell": min(t_fast) / p["cells_evaluated"] * 1e6}
    if server:
        out["gdal_s"] = t_gdal
        out["ratio_fast_over_gdal_median"] = float(np.median(np.array(t_fast) / np.array(t_gdal)))
        out["ratio_min_over_min"] = min(t_fast) / min(t_gdal)
    else:
        out["gdal_error"] = err
    return out


def accuracy(relief: float, quick: bool, sample: int, seed: int) -> dict:
    n, radius = (401, 5.0) if quick else (1401, 20.0)
    grid, dem, sites, (_, _, lon, lat) = site_window(n, 30.0, relief)
    raw = compute_coverage(grid, sites, P1812Model(max_radius_km=radius, link_budgets=LB, recheck_margin_db=0.0),
                           dem=dem).technologies["2G"]
    model = P1812Model(max_radius_km=radius, link_budgets=LB)
    cov = compute_coverage(grid, sites, model, dem=dem)
    tc = cov.technologies["2G"]
    disc = compared_cells(grid, lon, lat, radius) & np.isfinite(tc.signal_dbm)
    people = synthetic_population(dem, seed=seed)
    rng = np.random.default_rng(seed)
    out = {"relief_m": relief, "cells_in_disc": int(disc.sum()),
           "covered_share_fast": float(tc.covered[disc].mean()),
           "cells_rechecked_exact": cov.parameters["cells_rechecked_exact"]}
    for label, pool in (("all", disc), ("populated", disc & (people > 0))):
        ii, jj = np.nonzero(pool)
        pick = rng.choice(ii.size, size=min(sample, ii.size), replace=False)
        r, c = ii[pick], jj[pick]
        t0 = time.perf_counter()
        ref = exact_signal(grid, dem, lon, lat, r, c, eirp_dbm=EIRP, frequency_mhz=F_MHZ, htg=HTX, hrg=HRX)
        t_ref = time.perf_counter() - t0
        ok = np.isfinite(ref)
        ref, r, c = ref[ok], r[ok], c[ok]
        d_raw = raw.signal_dbm[r, c] - ref
        d_del = tc.signal_dbm[r, c] - ref
        cov_ref = ref >= THR
        rec = {"cells_sampled": int(ok.sum()), "exact_us_per_cell": t_ref / max(int(ok.sum()), 1) * 1e6,
               "raw_p5_db": float(np.percentile(d_raw, 5)), "raw_median_db": float(np.median(d_raw)),
               "raw_p95_db": float(np.percentile(d_raw, 95)), "raw_max_abs_db": float(np.abs(d_raw).max()),
               "raw_within_1db": float(np.mean(np.abs(d_raw) <= 1.0)),
               "delivered_within_1db": float(np.mean(np.abs(d_del) <= 1.0)),
               "raw_coverage_agree": float(np.mean((raw.signal_dbm[r, c] >= THR) == cov_ref)),
               "delivered_coverage_agree": float(np.mean(tc.covered[r, c] == cov_ref))}
        if label == "populated":
            w = people[r, c]
            rec["delivered_people_agree"] = float(w[tc.covered[r, c] == cov_ref].sum() / w.sum())
        out[label] = rec
    return out


def b4_estimate(quick: bool, seed: int) -> dict:
    """Fast-mode time per cell on a 90 m window, times B4's cells (100,000 sites, link-budget radii)."""
    n, radius = (201, 5.0) if quick else (601, 20.0)
    grid, dem, sites, _ = site_window(n, 90.0, 400.0, seed=3)
    model = P1812Model(max_radius_km=radius, link_budgets=LB)
    compute_coverage(grid, sites, model, dem=dem)
    t0 = time.perf_counter()
    cov = compute_coverage(grid, sites, model, dem=dem)
    dt = time.perf_counter() - t0
    us_cell = dt / cov.parameters["cells_evaluated"] * 1e6
    # national-like site: 3-arc-second geographic cells at 16° N, B4's mean radius (12.7 km)
    ng, r_geo = (101, 4.0) if quick else (321, 12.7)
    res = 3.0 / 3600.0
    w, nth = 105.8 - ng * res / 2, 16.0 + ng * res / 2
    ggrid = Grid.from_bounds(w, nth - ng * res, w + ng * res, nth, res=(res, res), crs="EPSG:4326")
    gdem = fractal_dem(ggrid.shape, seed=3, relief_m=400.0)
    gsites = validate_sites(pd.DataFrame({"site_id": ["s"], "operator": ["A"], "technology": ["2G"],
                                          "lon": [w + (ng // 2 + 0.5) * res], "lat": [nth - (ng // 2 + 0.5) * res],
                                          "antenna_height_m": [HTX]}))[0]
    gmodel = P1812Model(max_radius_km=r_geo, link_budgets=LB)
    compute_coverage(ggrid, gsites, gmodel, dem=gdem)
    t_geo = []
    for _ in range(5):
        t0 = time.perf_counter()
        gcov = compute_coverage(ggrid, gsites, gmodel, dem=gdem)
        t_geo.append(time.perf_counter() - t0)
    us_geo = min(t_geo) / gcov.parameters["cells_evaluated"] * 1e6
    rng = np.random.default_rng(seed)
    n_sites = 100_000
    s = synthetic_sites(n_sites, lon=rng.uniform(103.0, 108.0, 5000), lat=rng.uniform(10.0, 22.0, 5000), seed=11,
                        radius_km=lambda df: link_budget_radius_km(df, cap_km=20.0))
    r = s["radius_km"].to_numpy()
    cell_km2 = (3 / 3600 * 111.195) ** 2 * math.cos(math.radians(16.0))
    cells = float(np.sum(np.pi * r**2) / cell_km2)
    workers = 2
    est = cells * us_cell * 1e-6 / workers
    return {"window": f"{n} x {n} cells of 90 m, radius {radius:g} km", "fast_s_one_site": dt,
            "fast_us_per_cell_90m": us_cell, "b4_sites": n_sites, "b4_cells_evaluated": cells,
            "geo_window": f"{ng} x {ng} cells of 3 arc-seconds at 16° N, radius {r_geo:g} km",
            "geo_cells": gcov.parameters["cells_evaluated"], "geo_s_one_site": t_geo,
            "fast_us_per_cell_geo": us_geo, "b4_p1812_estimate_geo_s": cells * us_geo * 1e-6 / workers,
            "b4_mean_radius_km": float(r.mean()), "workers": workers, "b4_p1812_estimate_s": est,
            "note": "estimate: P.1812 coverage only (tiling overhead and zonal sums not included); "
                    "B4's 3-arc-second cells ≈ 92 × 89 m at 16° N; 2 Dask workers as in B4"}


def markdown(rec: dict) -> str:
    t, m = rec["timing"], rec["machine"]
    cpu = rec["lscpu"]
    L = [f"# B6 — fast P.1812 area mode vs GDAL line of sight and vs the exact mode (SYNTHETIC terrain)", "",
         f"covgap {rec['covgap_version']}; {cpu.get('Model name', '?')}, {m['cpus']} CPUs; load average at start "
         f"{m['load_average_at_start']}; command `{rec['command']}`.", "",
         "| | time per site | notes |", "|---|---|---|"]
    if "gdal_s" in t:
        L.append(f"| GDAL `ViewshedGenerate` (line of sight) | min {min(t['gdal_s'])*1e3:.0f} ms, median "
                 f"{np.median(t['gdal_s'])*1e3:.0f} ms | {t['window']} |")
    L.append(f"| covgap P.1812 fast (+ exact near the threshold) | min {min(t['fast_s']):.2f} s, median "
             f"{np.median(t['fast_s']):.2f} s | {t['cells']:,} cells; {t['cells_rechecked_exact']:,} re-evaluated "
             f"exactly (±{t['recheck_margin_db']:g} dB); {t['fast_us_per_cell']:.2f} µs per cell |")
    if rec["accuracy"]:
        ex = rec["accuracy"][0]["all"]["exact_us_per_cell"]
        L.append(f"| covgap P.1812 exact (extrapolated) | ≈ {ex * t['cells'] / 1e6:.0f} s | {ex:.0f} µs per cell "
                 "on the sample |")
    L.append("")
    if "ratio_fast_over_gdal_median" in t:
        L.append(f"Fast / GDAL, median of per-call ratios: **{t['ratio_fast_over_gdal_median']:.1f}×** "
                 f"(min / min {t['ratio_min_over_min']:.1f}×; target ≤ 4×).")
    else:
        L.append(f"GDAL not measured: {t.get('gdal_error')}.")
    if rec["accuracy"]:
        L += ["", "| relief | sample | fast − exact p5 / median / p95 (dB) | max | within 1 dB (raw / delivered) | "
              "same coverage (raw / delivered) | people agreeing |", "|---|---|---|---|---|---|---|"]
    else:
        L += ["", "Accuracy against the exact mode not measured (`--timing-only`)."]
    for a in rec["accuracy"]:
        for label in ("all", "populated"):
            s = a[label]
            L.append(f"| {a['relief_m']:g} m | {label}: {s['cells_sampled']:,} cells | {s['raw_p5_db']:+.2f} / "
                     f"{s['raw_median_db']:+.2f} / {s['raw_p95_db']:+.2f} | {s['raw_max_abs_db']:.1f} | "
                     f"{s['raw_within_1db']*100:.1f} % / {s['delivered_within_1db']*100:.1f} % | "
                     f"{s['raw_coverage_agree']*100:.2f} % / {s['delivered_coverage_agree']*100:.2f} % | "
                     f"{s.get('delivered_people_agree', float('nan'))*100:.2f} % |")
    b4 = rec["b4"]
    L += ["", f"B4 with P.1812 (estimate, not run): {b4['b4_cells_evaluated']/1e9:.2f} G cell evaluations × "
          f"{b4['fast_us_per_cell_90m']:.2f} µs / {b4['workers']} workers ≈ "
          f"**{b4['b4_p1812_estimate_s']/60:.0f} min** "
          f"({b4['note']}). National-like site ({b4['geo_window']}, {b4['geo_cells']:,} cells): "
          f"{b4['fast_us_per_cell_geo']:.2f} µs per cell (min of {len(b4['geo_s_one_site'])}) ≈ "
          f"{b4['b4_p1812_estimate_geo_s']/60:.0f} min with the same formula.", "",
          "| target | measured | met |", "|---|---|---|"]
    L += [f"| {x['target']} | {fmt(x['value'])} {x.get('unit', '')} | {fmt(x['met'])} |" for x in rec["targets"]]
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="alternating GDAL / covgap calls")
    p.add_argument("--sample", type=int, default=6000, help="cells per sample for the exact reference")
    p.add_argument("--timing-only", action="store_true",
                   help="time and B4 estimate only: skip the accuracy samples against the exact mode")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sample = min(args.sample, 1500) if args.quick else args.sample
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tim = timing(Path(tmp), args.quick, max(1, args.rounds))
    acc = [] if args.timing_only else [accuracy(relief, args.quick, sample, seed=k + 1)
                                       for k, relief in enumerate((400.0, 150.0))]
    b4 = b4_estimate(args.quick, seed=5)
    ratio = tim.get("ratio_fast_over_gdal_median")
    targets = [
        {"target": "one 20 km site at 30 m ≤ 4 × GDAL line of sight (median per-call ratio)", "value": ratio,
         "unit": "×", "met": bool(ratio is not None and ratio <= 4.0)}]
    if acc:
        within = min(a["all"]["raw_within_1db"] for a in acc)
        agree = min(a["populated"]["delivered_coverage_agree"] for a in acc)
        targets += [
            {"target": "fast within 1 dB of exact for ≥ 95 % of cells (worst DEM, before re-evaluation)",
             "value": within, "met": bool(within >= 0.95)},
            {"target": "same coverage on ≥ 99.5 % of populated cells (worst DEM, as delivered)", "value": agree,
             "met": bool(agree >= 0.995)}]
    targets += [
        {"target": "B4 with P.1812 ≤ 15 min (ESTIMATE from the time per cell, not run)",
         "value": b4["b4_p1812_estimate_s"] / 60.0, "unit": "min", "met": bool(b4["b4_p1812_estimate_s"] <= 900.0)},
    ]
    rows = [{"case": f"time: {tim['window']}", "fast_min_s": min(tim["fast_s"]),
             "gdal_min_s": min(tim["gdal_s"]) if "gdal_s" in tim else None, "ratio_median": ratio}]
    rows += [{"case": f"accuracy: relief {a['relief_m']:g} m, {label}", "within_1db_raw": a[label]["raw_within_1db"],
              "p5_db": a[label]["raw_p5_db"], "p95_db": a[label]["raw_p95_db"],
              "coverage_agree_delivered": a[label]["delivered_coverage_agree"]}
             for a in acc for label in ("all", "populated")]
    cpu = lscpu()
    rec = {"benchmark": "B6", "title": "fast P.1812 area mode: time vs GDAL, accuracy vs exact", "quick": args.quick,
           "command": " ".join(["python", "benchmarks/b6_p1812_fast.py"]
                               + (argv if argv is not None else sys.argv[1:])),
           "covgap_version": covgap.__version__, "timing": tim, "accuracy": acc, "b4": b4, "rows": rows,
           "targets": targets, "lscpu": cpu,
           "notes": [f"CPU: {cpu.get('Model name', '?')}; flags include "
                     + ", ".join(f for f in ("avx2", "avx512f", "fma") if f in cpu.get("Flags", "").split()),
                     "numba threads: the default (all CPUs); GDAL's viewshed is single-threaded",
                     "SYNTHETIC terrain and population; exact reference on random samples of cells"]}
    write_result(out, NAME, rec)
    rec["machine"] = machine()
    (out / f"{NAME}.md").write_text(markdown(rec), encoding="utf-8")
    print(out / f"{NAME}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
