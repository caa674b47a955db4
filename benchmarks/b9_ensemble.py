"""B9 — uncertainty ensemble on the SYNTHETIC demo: 50 members vs one deterministic run, in one process.

One run = :func:`covgap.analysis.analyse` of the demo with its own model (terrain; ``--model``): coverage
(domestic and foreign networks), overlay, lenses, gap clusters, hamlets — what ``covgap run`` computes
before writing files. The ensemble = :func:`covgap.uncertainty.run_ensemble` around that run with 50
members drawing a link-budget offset (3 dB, 1-sigma), a location field (the model's σL, correlated over
120 m) and a population grid (the run's, the constrained or the unconstrained variant): the signal
computed once with the headroom of the largest draw, then per member a comparison and zonal sums.
Members with tower-position error (300 m, 1-sigma) recompute coverage and are timed separately, per member.

Target (issue 19): the 50-member ensemble ≤ 5 × one run. ``--quick``: 6 members, 1 tower member.
The national B4 with 20 members on the tiled path is not run here (see docs/design.md, "Uncertainty
ensembles", for the estimate).

    .venv/bin/python benchmarks/b9_ensemble.py --out out/bench [--model terrain|hata] [--members 50]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, timed, vm_hwm_bytes, write_result  # noqa: E402

NAME = "b9_ensemble"


def _cpu() -> str:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Model name")), "")


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="terrain", choices=("terrain", "hata"))
    p.add_argument("--members", type=int, default=None, help="ensemble members (default 50; quick 6)")
    p.add_argument("--tower-members", type=int, default=None, help="members with tower error (default 3; quick 1)")
    args = p.parse_args(argv)
    from covgap.analysis import analyse
    from covgap.compare import layer_on_grid
    from covgap.config import load_config
    from covgap.demo import make_demo_inputs
    from covgap.io import load_study_area, read_population
    from covgap.models import make_model
    from covgap.pipeline import demo_config_text
    from covgap.uncertainty import EnsembleSpec, run_ensemble

    warnings.simplefilter("ignore")  # model-range notes: said by the run, not timed here
    members = args.members or (6 if args.quick else 50)
    tower_members = args.tower_members or (1 if args.quick else 3)
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="covgap-b9-") as tmp:
        d = Path(tmp)
        make_demo_inputs(d / "inputs")
        (d / "covgap.toml").write_text(demo_config_text(model_kind=args.model), encoding="utf-8")
        study = load_study_area(load_config(d / "covgap.toml"))
        model = make_model(load_config(d / "covgap.toml").model, has_dem=True)
        alts = {}
        for k in ("constrained", "unconstrained"):
            arr, g, _ = read_population(d / "inputs" / f"population_{k}.tif")
            alts[k] = layer_on_grid(arr, g, study.grid)[0]
        analyse(study, model)  # warm-up: numba kernels compiled or loaded from cache, not timed
        t_run, analysis = timed(lambda: analyse(study, model))
        spec = EnsembleSpec(members=members, seed=2021, link_budget_db={"*": 3.0}, location_db="model",
                            location_correlation_m=120.0, population=alts, top_n=3)
        t_ens, ens = timed(lambda: run_ensemble(study, model, spec, analysis=analysis))
        tspec = EnsembleSpec(members=tower_members, seed=2021, tower_position_m=300.0)
        t_tow, tow = timed(lambda: run_ensemble(study, model, tspec, analysis=analysis))
    one, e = t_run[0], t_ens[0]
    per_tower = tow.timings.get("tower_members", 0.0) / tower_members
    t = ens.totals
    rows = [
        {"case": f"one deterministic run ({model.name}, demo {study.grid.shape[0]}×{study.grid.shape[1]} cells)",
         "seconds": one},
        {"case": f"ensemble, {members} members (link budget 3 dB, location σL, 3 population grids)", "seconds": e,
         "ratio_to_one_run": e / one},
        {"case": "  of which: signal computed once (with headroom)", "seconds": ens.timings["signal"]},
        {"case": "  of which: members (comparisons, location fields, zonal sums)", "seconds": ens.timings["members"],
         "per_member_s": ens.timings["members"] / members},
        {"case": f"tower-position members (300 m), {tower_members} member(s)", "seconds": t_tow[0],
         "per_member_s": per_tower, "ratio_to_one_run": per_tower / one},
    ]
    targets = [{"target": f"{members} members <= 5 x one run", "value": e / one, "unit": "x one run",
                "met": bool(e <= 5 * one)}]
    notes = [f"people without any signal: one run {t['deterministic']:,.1f}; ensemble P10 {t['p10']:,.1f}, "
             f"P50 {t['p50']:,.1f}, P90 {t['p90']:,.1f}",
             *ens.notes,
             f"load average before/after: {load0} / {os.getloadavg()}; CPU {_cpu()}; peak RSS "
             f"{vm_hwm_bytes() / 1e9:.2f} GB",
             "national B4 with 20 members on the tiled path: not run (estimate in docs/design.md)"]
    rec = {"benchmark": "B9", "title": "Uncertainty ensemble vs one run (SYNTHETIC demo)", "quick": bool(args.quick),
           "params": {"model": model.name, "members": members, "tower_members": tower_members, "seed": 2021},
           "rows": rows, "targets": targets, "notes": notes}
    path = write_result(args.out, NAME, rec)
    for r in rows:
        print(f"{r['case']}: {r['seconds']:.2f} s" + (f" ({r['ratio_to_one_run']:.2f} x one run)"
                                                      if "ratio_to_one_run" in r else ""))
    for n in notes:
        print(n)
    print(path)


if __name__ == "__main__":
    main()
