"""The ``covgap`` command line: ``demo``, ``run``, ``fetch``, ``plan`` and ``calibrate``.

Thin: it parses options, calls the library and prints a short summary. One handler serves
every subcommand (``demo``, ``run``, ``fetch``, ``plan``, ``calibrate``):

- a covgap error (bad input, config, file) prints its message: exit status 2, no traceback;
- the machine refusing (permission denied, disk full) prints the file and the reason: exit 2;
- Ctrl-C prints ``interrupted, nothing written``: exit 130; SIGTERM likewise, exit 143
  (staging folders are removed on the way out);
- any other exception is a bug: one line saying so, with the path of a log file holding
  the traceback (in ``$COVGAP_LOG_DIR``, else the user's state folder): exit 70.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import errno
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

from . import __version__
from .analysis import Analysis
from .constants import DEMO_MODEL_KIND, MODEL_KINDS
from .errors import CovgapError

__all__ = ["main", "build_parser", "Terminated", "EXIT_ERROR", "EXIT_BUG", "EXIT_INTERRUPTED", "EXIT_TERMINATED"]

#: Exit status of a covgap error (bad input, config or file).
EXIT_ERROR = 2
#: Exit status of an unexpected exception (a bug; traceback in a log file). BSD sysexits ``EX_SOFTWARE``.
EXIT_BUG = 70
#: Exit status after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
#: Exit status after SIGTERM (128 + SIGTERM).
EXIT_TERMINATED = 143

#: OS errors that come from the machine or the paths given (not from a bug): reported as messages.
_ENVIRONMENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EMFILE,
                       errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG}


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (so clean-up runs as for Ctrl-C)."""


def _on_sigterm(signum, frame):  # pragma: no cover - exercised through a subprocess
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _log_dir() -> Path:
    env = os.environ.get("COVGAP_LOG_DIR")
    if env:
        return Path(env)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "covgap" / "logs"


def _write_bug_log(argv: list[str]) -> Path:
    """Write the current exception's traceback to a new log file; return its path."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = (f"covgap {__version__}, python {sys.version.split()[0]}, {stamp}\n"
            f"command: covgap {' '.join(argv)}\n\n{traceback.format_exc()}")
    for folder in (_log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"covgap-bug-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("<no writable log folder>")


def _summary_lines(analysis: Analysis, out: Path) -> list[str]:
    from .report.i18n import model_title

    s = analysis.summary()
    lines = []
    if s["synthetic"]:
        lines.append("*** SYNTHETIC DEMO — not real data ***")
    lines += [
        f"study area:        {s['study_area']}",
        f"model:             {model_title(s['model'])}",
        f"population:        {s['population_total']:,.0f}",
        f"without any signal:{s['population_uncovered']:>12,.0f}  ({100 * s['uncovered_share']:.1f} %)",
        *([f"  P10–P90 ({s['uncertainty']['spec']['members']} members): "
           f"{s['uncertainty']['population_uncovered']['p10']:,.0f}–"
           f"{s['uncertainty']['population_uncovered']['p90']:,.0f} without any signal"]
          if s.get("uncertainty") else []),
        f"without 4G:        {s['population_without_4G']:,.0f}",
        f"gap clusters:      {s['gap_clusters']['count']}",
    ]
    cal = s["model"].get("calibration") if isinstance(s["model"], dict) else None
    if cal:
        offs = ", ".join(f"{k} {v:+.1f}" for k, v in cal["offsets_db"].items())
        lines.append(f"calibration:       {cal['source']} (dB: {offs})")
    if isinstance(s["model"], dict) and s["model"].get("land_cover"):  # P.1812: which clutter, or none
        lines.append(f"land cover:        {s['model']['land_cover']}")
    for note in s["notes"].get("model_warnings", []):
        lines.append(f"model note:        {note}")
    if s["hamlets"]:
        lines.append("hamlets:           " + ", ".join(f"{k}: {v}" for k, v in s["hamlets"].items()))
    first = next(iter(analysis.units))
    top = analysis.units[first].sort_values("uncovered", ascending=False).head(5)
    lines.append(f"most people without signal, by {first}:")
    for r in top.itertuples():
        rng = (f"  (P10–P90 {r.uncovered_p10:,.0f}–{r.uncovered_p90:,.0f})" if hasattr(r, "uncovered_p10") else "")
        lines.append(f"  {r.name:<30} {r.uncovered:>10,.0f} of {r.population:>10,.0f}{rng}")
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
    from .sources.fetch import load_fetch_config

    cfg = load_config(args.config)
    if cfg.has_sources:  # what `covgap fetch` downloads: checked here too, so typos surface in `covgap run`
        load_fetch_config(args.config)
    ctx = contextlib.nullcontext(None)
    if args.scheduler or args.workers:
        from .tiling.dask import dask_client

        ctx = dask_client(scheduler=args.scheduler, workers=args.workers)
    with ctx as client:
        tiling = None
        if client is not None or args.tile_size or args.tile_dir:
            from .tiling import DEFAULT_TILE_SIZE

            tiling = {"tile_size": args.tile_size or DEFAULT_TILE_SIZE, "executor": client, "workdir": args.tile_dir,
                      "numba_threads": 1 if args.workers else None}
        analysis = run(cfg, args.out, model_kind=args.model, progress=not args.quiet, tiling=tiling)
    print("\n".join(_summary_lines(analysis, Path(args.out).resolve())))
    return 0


def _cmd_calibrate(args) -> int:
    from .calibration import calibrate_config
    from .config import load_config

    cfg = load_config(args.config)
    res = calibrate_config(cfg, args.measurements, args.out, model_kind=args.model, folds=args.folds,
                           block_km=args.block_km, seed=args.seed, layer=args.layer, encoding=args.encoding,
                           apply_spread=not args.keep_model_spread, fit_slope=not args.no_slope,
                           progress=not args.quiet)
    out = Path(args.out).resolve()
    rep = res.report
    lines = ["*** SYNTHETIC DEMO — not real data ***"] if cfg.synthetic else []
    lines += [f"model:             {res.model}",
              f"measurements:      {rep.rows_in:,} read, {rep.rows_used:,} used, {rep.rows_dropped:,} left out"]
    for reason, n in rep.as_dict()["dropped"].items():
        lines.append(f"  left out, {reason + ':':<24}{n:>8,}")
    if rep.notes:
        lines.append(f"notes:             {len(rep.notes)} (model range, saturated readings…: see calibration.json)")
    lines.append("operator x technology   n      offset dB  spread dB  RMSE before  RMSE after (cross-validated)")
    cv = res.cv.set_index(["operator", "technology"])
    for r in res.groups.itertuples(index=False):
        c = cv.loc[(r.operator, r.technology)]
        off = f"{r.offset_db:+9.2f}" if r.fitted else "      n/a"
        spr = f"{r.spread_db:9.2f}" if r.fitted else "      n/a"
        lines.append(f"  {r.operator + ' ' + r.technology:<20} {r.n:>6,} {off}  {spr}  {c.rmse_before_db:11.2f}  "
                     f"{c.rmse_after_db:10.2f}")
    a = cv.loc[("ALL", "ALL")]
    lines.append(f"  {'ALL':<20} {int(a.n):>6,}                      {a.rmse_before_db:11.2f}  {a.rmse_after_db:10.2f}")
    lines.append(f"outputs in {out}: calibration.toml (use it: [model] calibration = \"{out / 'calibration.toml'}\"), "
                 "calibration_errors.csv, calibration.json, predicted_vs_measured.png, measurements_used.csv, "
                 "measurements_dropped.csv")
    print("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    p = argparse.ArgumentParser(prog="covgap", description="Find and count people without mobile signal.")
    p.add_argument("--version", action="version", version=f"covgap {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    models = ["auto", *MODEL_KINDS]
    d = sub.add_parser("demo", help="generate the embedded SYNTHETIC demo region and analyse it")
    d.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    d.add_argument("--model", choices=models, default=DEMO_MODEL_KIND,
                   help=f"coverage model (default {DEMO_MODEL_KIND}: ITU-R P.1812-6; auto: terrain when a DEM is given)")
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
    c = sub.add_parser("calibrate", help="fit the model to measured signal (offset and spread per operator x "
                                         "technology) and write a calibration file for `covgap run`")
    c.add_argument("config", help="TOML config file of the study area")
    c.add_argument("measurements", help="CSV or point layer: lon, lat, operator, technology, signal_dbm "
                                        "(optional time, source)")
    c.add_argument("--out", required=True, help="output folder")
    c.add_argument("--model", choices=[m for m in models if m != "radius"], default=None,
                   help="signal model to calibrate (default: the config's)")
    c.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    c.add_argument("--block-km", type=float, default=10.0,
                   help="side of the spatial blocks dealt to the folds, km (default 10)")
    c.add_argument("--seed", type=int, default=0, help="seed of the block-to-fold assignment (default 0)")
    c.add_argument("--layer", default=None, help="layer of a GeoPackage of measurements")
    c.add_argument("--encoding", default=None, help="text encoding of a CSV that is not UTF-8")
    c.add_argument("--keep-model-spread", action="store_true",
                   help="write location_std_db as a comment: runs keep the model's location spread")
    c.add_argument("--no-slope", action="store_true",
                   help="fit no distance slope (offsets only); needed for p1812, which cannot apply one")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    c.set_defaults(func=_cmd_calibrate)
    from .planning.cli import register as register_plan
    from .sources.cli import register as register_fetch

    register_fetch(sub)
    register_plan(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``covgap`` console script (see the module docstring for exit statuses)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    with _sigterm_raises():
        try:
            return int(args.func(args) or 0)
        except CovgapError as exc:
            print(f"covgap: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print(f"covgap: interrupted, {_left_behind(args)}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Terminated:
            print(f"covgap: terminated (SIGTERM), {_left_behind(args)}", file=sys.stderr)
            return EXIT_TERMINATED
        except OSError as exc:
            if exc.errno not in _ENVIRONMENT_ERRNOS:
                return _bug(argv, exc)
            where = f" {exc.filename}" if exc.filename else ""
            print(f"covgap: error: cannot use{where}: {exc.strerror}. Fix: check that path, its permissions and "
                  "the free space there, or choose another path.", file=sys.stderr)
            return EXIT_ERROR
        except MemoryError:
            print("covgap: error: out of memory. Fix: use --tile-size (memory bounded) or a smaller study area.",
                  file=sys.stderr)
            return EXIT_ERROR
        except Exception as exc:
            return _bug(argv, exc)


def _left_behind(args: argparse.Namespace) -> str:
    if getattr(args, "command", None) == "fetch":  # the cache keeps finished files and resumable downloads
        return "finished downloads stay in the cache; an unfinished one resumes at the next `covgap fetch`"
    return "nothing written"


def _bug(argv: list[str], exc: BaseException) -> int:
    log = _write_bug_log(argv)
    msg = " ".join(str(exc).split())[:200]
    print(f"covgap: internal error (this is a bug in covgap; please report it with the log): "
          f"{type(exc).__name__}: {msg}; traceback in {log}", file=sys.stderr)
    return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
