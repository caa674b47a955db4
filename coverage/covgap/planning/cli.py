"""The ``covgap plan`` subcommand: analyse a config, then choose where to build.

The lead's :mod:`covgap.cli` calls :func:`register` with its subparsers::

    from .planning.cli import register as register_plan
    register_plan(sub)

``covgap plan CONFIG --out DIR --budget N`` writes ``plan.xlsx``, ``plan.gpkg``,
``plan.kml``, ``plan_map.html`` and ``plan.json`` into ``DIR`` (atomically). ``DIR`` is a plan's own
folder: it never replaces a run's output folder (see :mod:`covgap.outdir`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..constants import DEFAULT_ANTENNA_HEIGHT_M, MODEL_KINDS

__all__ = ["register", "run_plan"]


def run_plan(args: argparse.Namespace) -> int:
    """Run the ``plan`` subcommand (arguments as :func:`register` defines them)."""
    from ..config import load_config
    from ..outdir import check_out_dir
    from ..pipeline import analyse_config, protected_paths, staging_dir
    from .candidates import CandidateCosts, generate_candidates, read_candidates, upgrade_candidates
    from .greedy import check_budget
    from .outputs import (
        plan_map,
        write_plan_geopackage,
        write_plan_json,
        write_plan_kml,
        write_plan_xlsx,
    )
    from .plan import plan_sites

    check_budget(budget_sites=args.budget, budget_cost=args.budget_cost, target_share=args.target_share,
                 where="covgap plan")  # before the (long) analysis
    cfg = load_config(args.config)
    protect = protected_paths(cfg, ("candidates file (--candidates)", args.candidates))
    check_out_dir(args.out, command="plan", protect=protect)  # before the (long) analysis, again when writing
    analysis = analyse_config(cfg, model_kind=args.model, progress=not args.quiet)
    from ..models import make_model

    model = make_model(cfg.model, has_dem=analysis.study.dem is not None, kind=args.model,
                       landcover=analysis.study.landcover)
    costs = CandidateCosts(new_site=args.cost_new_site, upgrade=args.cost_upgrade, user=args.cost_user)
    tech = args.technology
    frames = []
    report = None
    if args.candidates:
        user, report = read_candidates(args.candidates, costs=costs, technology=tech)
        frames.append(user)
    if not args.no_generate:
        frames.append(generate_candidates(analysis, target=args.target, within_km=args.within_km,
                                          min_spacing_km=args.spacing_km, technology=tech, costs=costs,
                                          antenna_height_m=args.antenna_height_m or DEFAULT_ANTENNA_HEIGHT_M))
    if not args.no_upgrades:
        frames.append(upgrade_candidates(analysis, technology=tech, costs=costs))
    frames = [f for f in frames if len(f)]
    cands = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    plan = plan_sites(analysis, cands, model=model, target=args.target, budget_sites=args.budget,
                      budget_cost=args.budget_cost, target_share=args.target_share, unit=args.unit,
                      level=args.level, report=report, progress=not args.quiet)
    with staging_dir(args.out, command="plan", protect=protect) as tmp:
        write_plan_xlsx(plan, tmp / "plan.xlsx")
        write_plan_geopackage(plan, tmp / "plan.gpkg")
        write_plan_kml(plan, tmp / "plan.kml")
        plan_map(plan).save(str(tmp / "plan_map.html"))
        write_plan_json(plan, tmp / "plan.json")
    s = plan.summary
    if s["synthetic"]:
        print("*** SYNTHETIC DEMO — not real data ***")
    print(f"plan for {'any signal' if s['target'] == 'any' else s['target']}: {s['sites_chosen']} sites "
          f"({s['stop_reason']}), {s['new_population']:,.0f} people newly covered, "
          f"share covered {100 * s['covered_share_before']:.2f} % → {100 * s['covered_share_after']:.2f} %")
    dropped = s["candidates"]["dropped"]
    if dropped:
        print("candidates dropped: " + "; ".join(f"{k}: {v}" for k, v in dropped.items()))
    for r in plan.sites.head(10).itertuples():
        print(f"  #{r.rank:<3} {r.candidate_id:<14} {r.marginal_population:>10,.0f} people  "
              f"{r.lon:.5f}, {r.lat:.5f}")
    print(f"outputs in {Path(args.out).resolve()}: plan.xlsx, plan.gpkg, plan.kml, plan_map.html, plan.json")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``plan`` subcommand to the ``covgap`` command line; returns its parser."""
    p = subparsers.add_parser("plan", help="choose where to build new sites (greedy by people newly covered)")
    p.add_argument("config", help="TOML config file (as for `covgap run`)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--budget", type=int, default=None, help="number of sites to choose")
    p.add_argument("--budget-cost", type=float, default=None, help="cost budget (in the candidates' cost unit)")
    p.add_argument("--target-share", type=float, default=None, help="stop when this share (0–1) is covered")
    p.add_argument("--target", default="any", help="'any' signal (default) or a technology such as 4G")
    p.add_argument("--technology", default="4G", help="technology new sites and upgrades bring (default 4G)")
    p.add_argument("--candidates", default=None, help="CSV or point layer of candidate sites (lon, lat, ...)")
    p.add_argument("--no-generate", action="store_true", help="do not generate hilltop candidates near gaps")
    p.add_argument("--no-upgrades", action="store_true", help="do not consider upgrades of existing sites")
    p.add_argument("--within-km", type=float, default=5.0, help="hilltops within this distance of a gap (km)")
    p.add_argument("--spacing-km", type=float, default=1.0, help="minimum spacing of generated candidates (km)")
    p.add_argument("--antenna-height-m", type=float, default=None, help="antenna height of generated sites (m)")
    p.add_argument("--cost-new-site", type=float, default=1.0, help="cost of a new site (default 1 unit)")
    p.add_argument("--cost-upgrade", type=float, default=0.25, help="cost of an upgrade (default 0.25 unit)")
    p.add_argument("--cost-user", type=float, default=1.0, help="default cost of a user candidate")
    p.add_argument("--unit", default=None, help="plan for one admin unit (code or name)")
    p.add_argument("--level", default=None, help="admin level of --unit (default: the first level)")
    p.add_argument("--model", choices=["auto", *MODEL_KINDS], default=None,
                   help="override [model] kind")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_plan)
    return p
