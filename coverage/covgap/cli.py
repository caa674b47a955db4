"""The ``covgap`` command line: ``demo``, ``run`` and ``fetch``.

Thin: it parses options, calls the library and prints a short summary. Errors from bad
input are printed as one clear message (exit status 2), without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from . import __version__
from .analysis import Analysis
from .errors import CovgapError

__all__ = ["main", "build_parser"]


def _summary_lines(analysis: Analysis, out: Path) -> list[str]:
    s = analysis.summary()
    lines = []
    if s["synthetic"]:
        lines.append("*** SYNTHETIC DEMO — not real data ***")
    lines += [
        f"study area:        {s['study_area']}",
        f"model:             {s['model'].get('model')}",
        f"population:        {s['population_total']:,.0f}",
        f"without any signal:{s['population_uncovered']:>12,.0f}  ({100 * s['uncovered_share']:.1f} %)",
        f"without 4G:        {s['population_without_4G']:,.0f}",
        f"gap clusters:      {s['gap_clusters']['count']}",
    ]
    for note in s["notes"].get("model_warnings", []):
        lines.append(f"model note:        {note}")
    if s["hamlets"]:
        lines.append("hamlets:           " + ", ".join(f"{k}: {v}" for k, v in s["hamlets"].items()))
    first = next(iter(analysis.units))
    top = analysis.units[first].sort_values("uncovered", ascending=False).head(5)
    lines.append(f"most people without signal, by {first}:")
    for r in top.itertuples():
        lines.append(f"  {r.name:<30} {r.uncovered:>10,.0f} of {r.population:>10,.0f}")
    lines.append(f"outputs in {out}: map.html, report.html, report.pdf, gap_report.xlsx, gaps.gpkg, "
                 "summary.json, *.tif")
    return lines


def _cmd_demo(args) -> int:
    from .pipeline import run_demo

    analysis = run_demo(args.out, model_kind=args.model, lang=args.lang, progress=not args.quiet)
    print("\n".join(_summary_lines(analysis, Path(args.out).resolve())))
    print(f"config used: {Path(args.out).resolve() / 'covgap.toml'} (copy and edit it for your own data)")
    return 0


def _cmd_run(args) -> int:
    from .config import load_config
    from .pipeline import run

    cfg = load_config(args.config)
    ctx = contextlib.nullcontext(None)
    if args.scheduler or args.workers:
        from .distributed import dask_client

        ctx = dask_client(scheduler=args.scheduler, workers=args.workers)
    with ctx as client:
        tiling = None
        if client is not None or args.tile_size or args.tile_dir:
            from .tiles import DEFAULT_TILE_SIZE

            tiling = {"tile_size": args.tile_size or DEFAULT_TILE_SIZE, "executor": client, "workdir": args.tile_dir,
                      "numba_threads": 1 if args.workers else None}
        analysis = run(cfg, args.out, model_kind=args.model, progress=not args.quiet, tiling=tiling)
    print("\n".join(_summary_lines(analysis, Path(args.out).resolve())))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    p = argparse.ArgumentParser(prog="covgap", description="Find and count people without mobile signal.")
    p.add_argument("--version", action="version", version=f"covgap {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    models = ["auto", "radius", "hata", "terrain", "p1812"]
    d = sub.add_parser("demo", help="generate the embedded SYNTHETIC demo region and analyse it")
    d.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    d.add_argument("--model", choices=models, default="auto", help="coverage model (auto: terrain when a DEM is given)")
    d.add_argument("--lang", choices=["en", "vi"], default="en", help="report language")
    d.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    d.set_defaults(func=_cmd_demo)
    r = sub.add_parser("run", help="analyse the inputs named in a TOML config")
    r.add_argument("config", help="TOML config file (see the one `covgap demo` writes)")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--model", choices=models, default=None, help="override [model] kind")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    r.add_argument("--tile-size", type=int, default=None, metavar="CELLS",
                   help="compute coverage in tiles of CELLS x CELLS (memory bounded; default 2048 with --workers)")
    r.add_argument("--tile-dir", default=None, metavar="PATH",
                   help="keep tiles here; rerunning with the same folder resumes an interrupted run")
    r.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run the tiles on a local Dask cluster of N worker processes")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the tiles on an existing Dask scheduler (e.g. tcp://host:8786); "
                        "--tile-dir must then be a folder all workers share")
    r.set_defaults(func=_cmd_run)
    from .planning.cli import register as register_plan
    from .sources.cli import register as register_fetch

    register_fetch(sub)
    register_plan(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``covgap`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CovgapError as exc:
        print(f"covgap: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
