"""B5 — the radius model over many transmitters on the demo grid (issue 16).

The demo grid (960 × 1,200 cells at 3″, Quảng Ninh-like, SYNTHETIC) with 100,000 and
1,000,000 transmitters at uniform random positions, the demo's technology mix (about a third
each of 2G at 12 km, 3G and 4G at 4 km, Mobile Coverage Explorer radii) and its four
operators, through the public :meth:`covgap.models.radius.RadiusModel.compute`.

The old path (one transmitter after another, the full haversine per cell:
``covgap.models._disc_kernels.disc_fill_sequential``) is timed on a smaller count, with the new path on
the same transmitters: the outputs must be identical, and the per-transmitter times give
the ratio (and the old path's time for 1,000,000, extrapolated linearly: its cost per
transmitter does not depend on the count).

Writes ``OUT/b5_radius_many.json`` and ``OUT/b5_radius_many.md`` with the CPU model and
flags (``lscpu``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt, machine, parser, ratio, timed, vm_hwm_bytes, write_result  # noqa: E402

NAME = "b5_radius_many"


def lscpu() -> dict[str, str]:
    """CPU model and flags as lscpu reports them (empty where lscpu is missing)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    out = {}
    for line in text.splitlines():
        key, _, val = line.partition(":")
        if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "L2 cache", "L3 cache", "Flags"):
            out[key.strip()] = val.strip()
    return out


def transmitters(n: int, grid, *, seed: int):
    """``n`` SYNTHETIC transmitters uniform over ``grid``, the demo's technology mix and operators."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    w, s, e, nn = grid.bounds
    return pd.DataFrame({
        "site_id": np.char.add("S", np.arange(n).astype(str)),
        "operator": rng.choice(["Viettel", "VinaPhone", "MobiFone", "Vietnamobile"], n, p=[0.4, 0.25, 0.25, 0.1]),
        "technology": rng.choice(["2G", "3G", "4G"], n, p=[112 / 309, 86 / 309, 111 / 309]),
        "lon": rng.uniform(w, e, n), "lat": rng.uniform(s, nn, n),
        "antenna_height_m": 30.0, "radius_km": np.nan,
    })


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import covgap.models.radius as radius_mod
    from covgap.models._disc_kernels import disc_fill, disc_fill_sequential
    from covgap.demo import DEMO_SHAPE, DEMO_TRANSFORM
    from covgap.grid import Grid
    from covgap.models.radius import RadiusModel

    grid = Grid(crs="EPSG:4326", transform=DEMO_TRANSFORM, shape=DEMO_SHAPE)
    model = RadiusModel()
    sizes = [2_000, 10_000] if args.quick else [100_000, 1_000_000]
    n_old = 200 if args.quick else 3_000
    model.compute(grid, transmitters(50, grid, seed=0))  # compile (numba cache) outside the timings
    rows = []
    # old and new path on the same transmitters
    small = transmitters(n_old, grid, seed=1)
    radius_mod.disc_fill = disc_fill_sequential
    try:
        t_old, cov_old = timed(lambda: model.compute(grid, small))
    finally:
        radius_mod.disc_fill = disc_fill
    t_new, cov_new = timed(lambda: model.compute(grid, small), repeat=3)
    identical = all(
        np.array_equal(getattr(cov_old.technologies[t], f), getattr(cov_new.technologies[t], f))
        for t in cov_old.technologies for f in ("operator_bits", "n_sites", "serving_site"))
    old_per_tx = t_old[0] / n_old
    rows.append({"case": f"old path (sequential), {n_old:,} transmitters", "transmitters": n_old, "wall_s": t_old[0],
                 "us_per_transmitter": old_per_tx * 1e6})
    new_small = min(t_new) / n_old
    rows.append({"case": f"new path (binned), same {n_old:,} transmitters", "transmitters": n_old, "wall_s": min(t_new),
                 "us_per_transmitter": new_small * 1e6, "speed_up": ratio(old_per_tx, new_small),
                 "identical_to_old": identical})
    measured = {}
    for n in sizes:
        sites = transmitters(n, grid, seed=2)
        t, _ = timed(lambda sites=sites: model.compute(grid, sites))
        measured[n] = t[0]
        rows.append({"case": f"new path (binned), {n:,} transmitters", "transmitters": n, "wall_s": t[0],
                     "us_per_transmitter": t[0] / n * 1e6, "speed_up": ratio(old_per_tx * n, t[0]),
                     "old_path_extrapolated_s": old_per_tx * n})
    big, mid = max(sizes), min(sizes)
    targets = [] if args.quick else [
        {"target": "1,000,000 transmitters <= 60 s", "value": measured[big], "unit": "s", "met": measured[big] <= 60},
        {"target": "100,000 transmitters <= 10 s", "value": measured[mid], "unit": "s", "met": measured[mid] <= 10},
    ]
    targets.append({"target": "outputs identical to the sequential kernel", "value": identical, "met": identical})
    cpu = lscpu()
    notes = [f"grid {grid.shape[0]} x {grid.shape[1]} cells at 3 arc-seconds (the demo grid), geographic",
             "ratio = old path's time per transmitter x count / new path's time (old path timed on the smaller count)",
             f"CPU: {cpu.get('Model name', '?')}, {cpu.get('CPU(s)', '?')} CPUs; L2 {cpu.get('L2 cache', '?')}, "
             f"L3 {cpu.get('L3 cache', '?')}; single-threaded kernel",
             f"peak memory (VmHWM) {vm_hwm_bytes() / 2**30:.2f} GiB"]
    record = {"benchmark": "B5", "title": "radius model over many transmitters (demo grid)", "quick": args.quick,
              "params": {"sizes": sizes, "old_path_transmitters": n_old}, "rows": rows, "targets": targets,
              "notes": notes, "lscpu": cpu}
    write_result(args.out, NAME, record)
    m = machine()
    lines = ["# B5: radius model over many transmitters (demo grid)", "",
             f"Measured {m['time_utc']}, load average at start {m['load_average_at_start']}."
             + (" **Quick mode: figures not meaningful.**" if args.quick else ""), "",
             "| case | transmitters | wall s | µs / transmitter | speed-up vs old | identical |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {fmt(r['transmitters'])} | {fmt(r['wall_s'])} | "
                     f"{fmt(r['us_per_transmitter'])} | "
                     f"{fmt(r.get('speed_up'))} | {fmt(r.get('identical_to_old'))} |")
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['target']} | {fmt(t['value'])} {t.get('unit', '')} | {fmt(t['met'])} |" for t in targets]
    lines += [""] + [f"- {n}" for n in notes] + ["", f"CPU flags: {cpu.get('Flags', '?')}", ""]
    (Path(args.out) / f"{NAME}.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[:12 + len(rows)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
