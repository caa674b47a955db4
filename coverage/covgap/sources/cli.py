"""``covgap fetch CONFIG``: download and cache the real inputs named in a config's ``[sources]``.

Plugged into the main parser by ``covgap.cli`` through :func:`register`.
Exit status: 0 all fetched; 1 offline and something is missing (listed); 2 a step failed
(each failure printed, the others still run).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .fetch import STEPS, fetch_all, load_fetch_config, make_cache, missing_run_inputs

__all__ = ["register", "run_fetch"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``fetch`` subcommand to an argparse ``subparsers`` object; return its parser."""
    f = subparsers.add_parser(
        "fetch",
        help="download and cache WorldPop, Copernicus DEM, ESA WorldCover, boundaries and OpenCelliD for a config",
        description="Fetch the sources named in CONFIG's [sources] section into the cache (default data/raw), "
        "with a manifest per file (URL, release, date, bytes, sha256, licence, attribution). "
        "The OpenCelliD token is read from $OPENCELLID_TOKEN.",
    )
    f.add_argument("config", help="TOML config with a [sources] section (e.g. data/vietnam.toml)")
    f.add_argument(
        "--offline", action="store_true", help="use only the cache; list what is missing"
    )
    f.add_argument("--only", default=None, help=f"comma-separated steps to run: {','.join(STEPS)}")
    f.add_argument("--cache-dir", default=None, help="cache folder (overrides [sources] cache_dir)")
    f.add_argument(
        "--base-url",
        default=None,
        help="serve every source from BASE/<real host>/… (a mirror or a test server); "
        "also $COVGAP_SOURCES_BASE_URL",
    )
    f.add_argument(
        "--verify",
        action="store_true",
        help="re-check the sha256 of every cached file against its manifest",
    )
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    f.add_argument(
        "--json", dest="json_out", default=None, help="also write the result as JSON to this file"
    )
    f.set_defaults(func=run_fetch)
    return f


def run_fetch(args: argparse.Namespace) -> int:
    """Run ``covgap fetch``: print a summary and return the exit status."""
    cfg = load_fetch_config(args.config)
    cache = make_cache(
        cfg,
        cache_dir=args.cache_dir,
        offline=args.offline,
        base_url=args.base_url,
        progress=not args.quiet,
        verify=args.verify,
    )
    only = args.only.split(",") if args.only else None
    res = fetch_all(cfg, cache, only=only)
    for step, files in res.files.items():
        for p in files:
            print(f"{step:<11} {p}")
    if "towers" in res.notes:
        t = res.notes["towers"]
        print(
            f"towers      {t['rows_in']} cells in, dropped {t['dropped']}, {t['sites']} sites, "
            f"{t['transmitters']} site×technology rows"
        )
    if "landcover" in res.notes:
        lc = res.notes["landcover"]
        absent = lc["no_tile_404"]
        print(f"landcover   {lc['tiles']} ESA WorldCover tile(s) in {lc['folder']}"
              + (f"; {len(absent)} with no tile on the bucket (HTTP 404: open sea, mapped as sea): "
                 f"{', '.join(absent)}" if absent else ""))
    for step, err in res.errors.items():
        print(f"covgap fetch: {step} failed: {err}", file=sys.stderr)
    if res.missing:
        print(cache.missing_report(), file=sys.stderr)
    run_missing = missing_run_inputs(args.config) if args.offline else []
    if run_missing:  # what `covgap run` will open, whichever step makes it (downloads, extracts, derived)
        print(f"{len(run_missing)} input(s) of `covgap run {args.config}` not there yet:", file=sys.stderr)
        for m in run_missing:
            print(f"  - {m}", file=sys.stderr)
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(
                {
                    "files": {k: [str(p) for p in v] for k, v in res.files.items()},
                    "errors": res.errors,
                    "missing": res.missing,
                    "run_inputs_missing": run_missing,
                    "notes": res.notes,
                },
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
    if res.errors:
        return 2
    if res.missing or run_missing:
        return 1
    return 0
