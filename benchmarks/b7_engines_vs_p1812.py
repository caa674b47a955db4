"""B7 — covgap's engines measured against exact ITU-R P.1812 and against SPLAT!'s Longley–Rice.

Run:  .venv/bin/python benchmarks/b7_engines_vs_p1812.py --out out/bench   [--quick]

One transmitter (30 m, 900 MHz, e.i.r.p. 57 dBm, threshold −95 dBm, receiver 1.5 m, location
50 %, radius 20 km; ``--quick`` 5 km) through every engine: ``radius`` (the 2G fallback disc),
``hata`` (Okumura–Hata rural), ``terrain`` (Hata + Bullington, sweep and radials) and ``p1812``
fast (radials, exact near the threshold).

1. **Against exact P.1812** on b1's SYNTHETIC fractal DEMs (30 m UTM 48N, relief 400 m and
   150 m): the exact per-profile mode (``_p1812_reference.exact_signal``) on a random sample of
   the disc's cells (``--sample``); per engine the signal difference engine − P.1812 (p5, median,
   p95; the radius model has no signal) and the share of sampled cells with the same
   covered / not covered.
2. **Against SPLAT!** (Debian ``splat``, ``-olditm`` Longley–Rice, climate equatorial, 50 % / 50 %,
   as b1): the same site on a 3-arc-second geographic DEM written as SRTM tiles; footprint IoU of
   each engine (and of exact P.1812 over the whole disc) with SPLAT!'s.

Figures go to ``OUT/b7_engines_vs_p1812.json`` and ``.md``.
"""

from __future__ import annotations

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

from _common import fmt, machine, parser, write_result  # noqa: E402
from _p1812_reference import (  # noqa: E402
    EIRP, F_MHZ, HRX, HTX, LB, THR, compared_cells, exact_signal, one_site, site_window,
)
from b1_data import fractal_dem, write_hgt_tiles  # noqa: E402

import covgap  # noqa: E402
from covgap.errors import ModelRangeWarning  # noqa: E402
from covgap.grid import Grid  # noqa: E402
from covgap.models.base import compute_coverage  # noqa: E402
from covgap.models.hata import HataModel  # noqa: E402
from covgap.models.p1812_area import P1812Model  # noqa: E402
from covgap.models.radius import RadiusModel  # noqa: E402
from covgap.models.terrain import TerrainModel  # noqa: E402

NAME = "b7_engines_vs_p1812"


def engines(radius_km: float) -> dict:
    return {
        "radius (2G fallback disc)": RadiusModel(),
        "hata (rural)": HataModel(link_budgets=LB, max_radius_km=radius_km),
        "terrain sweep": TerrainModel(link_budgets=LB, max_radius_km=radius_km),
        "terrain radials": TerrainModel(link_budgets=LB, max_radius_km=radius_km, algorithm="radials"),
        "p1812 fast": P1812Model(link_budgets=LB, max_radius_km=radius_km),
    }


def against_exact(relief: float, quick: bool, sample: int, seed: int) -> dict:
    n, radius = (401, 5.0) if quick else (1401, 20.0)
    grid, dem, sites, (_, _, lon, lat) = site_window(n, 30.0, relief)
    disc = compared_cells(grid, lon, lat, radius)
    ii, jj = np.nonzero(disc)
    rng = np.random.default_rng(seed)
    pick = rng.choice(ii.size, size=min(sample, ii.size), replace=False)
    r, c = ii[pick], jj[pick]
    t0 = time.perf_counter()
    ref = exact_signal(grid, dem, lon, lat, r, c, eirp_dbm=EIRP, frequency_mhz=F_MHZ, htg=HTX, hrg=HRX)
    t_ref = time.perf_counter() - t0
    ok = np.isfinite(ref)
    ref, r, c = ref[ok], r[ok], c[ok]
    cov_ref = ref >= THR
    rows = []
    for name, model in engines(radius).items():
        compute_coverage(grid, sites, model, dem=dem)  # warm (compile)
        t0 = time.perf_counter()
        cov = compute_coverage(grid, sites, model, dem=dem)
        dt = time.perf_counter() - t0
        tc = cov.technologies["2G"]
        row = {"engine": name, "relief_m": relief, "time_s": dt,
               "coverage_agree": float(np.mean(tc.covered[r, c] == cov_ref)),
               "covered_share": float(tc.covered[r, c].mean()), "covered_share_p1812": float(cov_ref.mean())}
        if tc.signal_dbm is not None:
            d = tc.signal_dbm[r, c].astype("f8") - ref
            fin = np.isfinite(d)
            row.update({"diff_p5_db": float(np.percentile(d[fin], 5)), "diff_median_db": float(np.median(d[fin])),
                        "diff_p95_db": float(np.percentile(d[fin], 95)), "cells_with_signal": int(fin.sum())})
        rows.append(row)
    return {"relief_m": relief, "cells_sampled": int(ok.sum()), "exact_s": t_ref, "rows": rows}


def _read_ano(path: Path, grid: Grid):
    """Rows, cols and path loss (dB) of a SPLAT! ``-ano`` file (as b1)."""
    from b1_single_site import _read_ano as read

    rows, cols, loss, _ = read(path, grid)
    return rows, cols, loss


def against_splat(quick: bool) -> dict:
    if shutil.which("splat") is None or shutil.which("srtm2sdf") is None:
        return {"skipped": "splat / srtm2sdf not installed (Debian package 'splat')"}
    from b1_single_site import _disc_window, _splat_version

    with tempfile.TemporaryDirectory() as tmp:
        sdir = Path(tmp)
        res = 3.0 / 3600.0
        lat_n, lon_w = 23, 104
        dem = fractal_dem((3601, 3601), seed=7, relief_m=400.0)
        write_hgt_tiles(dem, lat_n, lon_w, sdir)
        for hgt in sorted(sdir.glob("*.hgt")):
            subprocess.run(["srtm2sdf", hgt.name], cwd=sdir, check=True, capture_output=True)
        grid = Grid.from_bounds(lon_w - res / 2, lat_n - 3 - res / 2, lon_w + 3 + res / 2, lat_n + res / 2,
                                res=(res, res), crs="EPSG:4326")
        lat, lon = 21.5, 105.5
        radius = 5.0 if quick else 20.0
        (sdir / "tx.qth").write_text(f"tx\n{lat:.6f}\n{360.0 - lon:.6f}\n{HTX:.1f}m\n")
        (sdir / "tx.lrp").write_text(
            "15.000 ; Earth Dielectric Constant\n0.005 ; Earth Conductivity\n301.000 ; Atmospheric Bending "
            f"Constant\n{F_MHZ:.3f} ; Frequency in MHz\n1 ; Radio Climate (1 = Equatorial)\n1 ; Polarization "
            "(1 = Vertical)\n0.50 ; Fraction of situations\n0.50 ; Fraction of time\n")
        t0 = time.perf_counter()
        proc = subprocess.run(["splat", "-t", "tx.qth", "-L", str(HRX), "-R", str(radius), "-metric", "-olditm",
                               "-ano", "pl.ano", "-o", "map.ppm", "-ngs"], cwd=sdir, capture_output=True, text=True)
        t_splat = time.perf_counter() - t0
        if proc.returncode != 0 or not (sdir / "pl.ano").exists():
            return {"failed": (proc.stdout[-1000:] + proc.stderr[-1000:])}
        rows, cols, loss = _read_ano(sdir / "pl.ano", grid)
    window = _disc_window(grid, lon, lat, radius)
    sub = grid.window(*window)
    sub_dem = dem[window[0]:window[1], window[2]:window[3]].astype("f8")
    sites = one_site(lon, lat)
    r = rows - window[0]
    c = cols - window[2]
    ok = (r >= 0) & (r < sub.ny) & (c >= 0) & (c < sub.nx)
    splat_has = np.zeros(sub.shape, bool)
    splat_cov = np.zeros(sub.shape, bool)
    splat_has[r[ok], c[ok]] = True
    splat_cov[r[ok], c[ok]] = EIRP - loss[ok] >= THR
    out = {"splat_version": _splat_version(), "splat_whole_process_s": t_splat, "radius_km": radius,
           "grid": "3 arc-seconds, EPSG:4326, fractal relief 400 m (seed 7)", "rows": []}
    models = engines(radius)
    models["p1812 exact"] = P1812Model(link_budgets=LB, max_radius_km=radius, method="exact")
    for name, model in models.items():
        t0 = time.perf_counter()
        cov = compute_coverage(sub, sites, model, dem=sub_dem)
        dt = time.perf_counter() - t0
        tc = cov.technologies["2G"]
        ours = tc.covered
        inside = np.isfinite(tc.signal_dbm) if tc.signal_dbm is not None else _disc_geo(sub, lon, lat, radius)
        both = inside & splat_has
        a, b = ours & both, splat_cov & both
        out["rows"].append({"engine": name, "time_s": dt, "cells_compared": int(both.sum()),
                            "iou_with_splat": float((a & b).sum() / max((a | b).sum(), 1)),
                            "agree_with_splat": float((a == b)[both].mean()),
                            "covered_share": float(a[both].mean()), "covered_share_splat": float(b[both].mean())})
    return out


def _disc_geo(grid: Grid, lon: float, lat: float, radius_km: float) -> np.ndarray:
    from covgap.models.p1812_area import _haversine_km

    xc, yc = np.meshgrid(grid.x_centres(), grid.y_centres())
    return _haversine_km(lat, lon, yc, xc) <= radius_km


def markdown(rec: dict) -> str:
    m = rec["machine"]
    L = ["# B7 — engines vs exact ITU-R P.1812 and vs SPLAT! (SYNTHETIC terrain)", "",
         f"covgap {rec['covgap_version']}; {m['cpus']} CPUs; load average at start {m['load_average_at_start']}; "
         f"command `{rec['command']}`. One site: 30 m, 900 MHz, e.i.r.p. {EIRP:g} dBm, threshold {THR:g} dBm, "
         "receiver 1.5 m, location 50 %.", "",
         "| engine | DEM relief | signal − P.1812 p5 / median / p95 (dB) | same coverage as P.1812 | covered "
         "(engine / P.1812) | footprint IoU vs SPLAT! (3″ DEM below) |", "|---|---|---|---|---|---|"]
    iou = {r["engine"]: r["iou_with_splat"] for r in rec.get("splat", {}).get("rows", [])}
    for block in rec["exact"]:
        for r in block["rows"]:
            sig = (f"{r['diff_p5_db']:+.1f} / {r['diff_median_db']:+.1f} / {r['diff_p95_db']:+.1f}"
                   if "diff_median_db" in r else "— (no signal)")
            L.append(f"| {r['engine']} | {r['relief_m']:g} m | {sig} | {r['coverage_agree']*100:.1f} % | "
                     f"{r['covered_share']*100:.1f} % / {r['covered_share_p1812']*100:.1f} % | "
                     f"{fmt(iou.get(r['engine']))} |")
    s = rec.get("splat", {})
    if "rows" in s:
        L += ["", f"SPLAT! {s['splat_version']} (Longley–Rice ITM `-olditm`), {s['grid']}, "
              f"radius {s['radius_km']:g} km, "
              f"whole process {s['splat_whole_process_s']:.1f} s. P.1812 exact over the whole disc: IoU "
              f"{fmt(iou.get('p1812 exact'))}.", "",
              "| engine | IoU with SPLAT! | cells agreeing | covered (engine / SPLAT!) | time |",
              "|---|---|---|---|---|"]
        L += [f"| {r['engine']} | {r['iou_with_splat']:.3f} | {r['agree_with_splat']*100:.1f} % | "
              f"{r['covered_share']*100:.1f} % / {r['covered_share_splat']*100:.1f} % | {r['time_s']:.2f} s |"
              for r in s["rows"]]
    else:
        L += ["", f"SPLAT!: {s}"]
    samples = ", ".join(f"{b['cells_sampled']:,} cells (relief {b['relief_m']:g} m)" for b in rec["exact"])
    L += ["", f"Exact P.1812 reference on random samples of the disc: {samples}."]
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sample", type=int, default=6000, help="cells per DEM for the exact reference")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sample = min(args.sample, 1500) if args.quick else args.sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)
        exact = [against_exact(relief, args.quick, sample, seed=k + 1) for k, relief in enumerate((400.0, 150.0))]
        splat = against_splat(args.quick)
    rows = [{k: v for k, v in r.items() if k in ("engine", "relief_m", "diff_p5_db", "diff_median_db", "diff_p95_db",
                                                 "coverage_agree")} for b in exact for r in b["rows"]]
    for r in splat.get("rows", []):
        rows.append({"engine": r["engine"], "relief_m": "SPLAT! 3″", "iou_with_splat": r["iou_with_splat"]})
    fast = [r for b in exact for r in b["rows"] if r["engine"] == "p1812 fast"]
    targets = [{"target": "p1812 fast agrees with exact P.1812 on ≥ 99.5 % of sampled cells",
                "value": min(r["coverage_agree"] for r in fast),
                "met": all(r["coverage_agree"] >= 0.995 for r in fast)}]
    rec = {"benchmark": "B7", "title": "engines vs exact P.1812 and vs SPLAT!", "quick": args.quick,
           "command": " ".join(["python", "benchmarks/b7_engines_vs_p1812.py"]
                               + (argv if argv is not None else sys.argv[1:])),
           "covgap_version": covgap.__version__, "exact": exact, "splat": splat, "rows": rows, "targets": targets,
           "notes": ["SYNTHETIC fractal terrain (b1_data.fractal_dem); one transmitter in the centre",
                     "signal difference = engine's median signal − exact P.1812's, on the sampled cells"]}
    write_result(out, NAME, rec)
    rec["machine"] = machine()
    (out / f"{NAME}.md").write_text(markdown(rec), encoding="utf-8")
    print(out / f"{NAME}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
