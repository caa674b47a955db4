"""Run every benchmark script ``benchmarks/b*.py`` and collect the figures.

Writes ``OUT/results.json`` (all records) and ``OUT/results.md`` (one table per benchmark,
with the ratios to the peers and the targets). Each script runs in its own process
(``python bN_x.py --out OUT [--quick]``) and writes ``OUT/bN_x.json``; a script that fails
or writes nothing is reported as such, never dropped.

Usage::

    python benchmarks/run_all.py [--out out/bench] [--quick] [--only b3,b4] [--timeout 1800]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt, machine, parser  # noqa: E402

HERE = Path(__file__).resolve().parent


def _is_benchmark(path: Path) -> bool:
    """``bN_name.py`` run as a script with ``--out`` (helpers such as ``b1_data.py`` are not)."""
    if not re.fullmatch(r"b\d+_\w+", path.stem):
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return "__main__" in text and ('"--out"' in text or _uses_common_parser(text))


def _uses_common_parser(text: str) -> bool:
    return bool(re.search(r"from _common import[^\n]*\bparser\b", text)) or (
        "from _common import (" in text and re.search(r"^\s+parser,$", text, re.M) is not None)


def _has_quick(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return '"--quick"' in text or _uses_common_parser(text)


def scripts(only: list[str] | None = None) -> list[Path]:
    """The benchmark scripts, in name order (optionally only those whose name starts with one of ``only``)."""
    found = sorted(p for p in HERE.glob("b*.py") if _is_benchmark(p))
    if only:
        found = [p for p in found if any(p.stem.startswith(o) for o in only)]
    return found


def run_one(script: Path, out: Path, *, quick: bool, timeout: float) -> dict:
    """Run one script; return its record (or a failure record)."""
    if quick and not _has_quick(script):
        return {"benchmark": script.stem, "title": script.stem, "skipped": True, "script_wall_s": 0.0,
                "script": f"benchmarks/{script.name}", "notes": ["skipped in --quick mode: the script has no --quick"]}
    cmd = [sys.executable, str(script), "--out", str(out)] + (["--quick"] if quick else [])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent)
        rc, err = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, err = "timeout", (exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc)
    wall = time.perf_counter() - t0
    path = out / f"{script.stem}.json"
    if rc == 0 and path.exists() and path.stat().st_mtime >= time.time() - wall - 5:
        rec = json.loads(path.read_text(encoding="utf-8"))
        rec.setdefault("benchmark", script.stem)
        md = out / f"{script.stem}.md"
        if not rec.get("rows") and md.exists():
            rec["own_markdown"] = md.read_text(encoding="utf-8")
    else:
        rec = {"benchmark": script.stem, "title": script.stem, "failed": True, "returncode": rc,
               "stderr_tail": (err or "")[-3000:],
               "notes": ["script failed or wrote no result file"]}
    rec["script_wall_s"] = wall
    rec.setdefault("script", f"benchmarks/{script.name}")
    return rec


def markdown(records: list[dict], *, quick: bool) -> str:
    """The Markdown report."""
    m = machine()
    lines = ["# covgap benchmarks", "",
             f"Measured {m['time_utc']} on {m['cpus']} CPUs ({m.get('cpu_model') or 'CPU model unknown'}; vector "
             f"extensions: {', '.join(m.get('vector_extensions') or []) or 'none found'}), "
             f"{fmt((m['memory_bytes'] or 0) / 2**30)} GiB RAM, "
             f"Python {m['python']}, load average at start {m['load_average_at_start']}."
             + (" **Quick mode: sizes are smoke-test sizes, figures not meaningful.**" if quick else ""),
             "", "Ratios > 1 mean covgap is faster. Peers run in the same process run as ours.", ""]
    for rec in records:
        lines.append(f"## {rec.get('benchmark', '?')}: {rec.get('title', '')}")
        lines.append("")
        wall = rec.get("script_wall_s")
        lines.append(f"Script: `{rec.get('script')}`" + (f" ({fmt(wall)} s wall)" if wall else ""))
        if rec.get("command"):
            lines.append(f"Command: `{rec['command']}`")
        lines.append("")
        if rec.get("skipped"):
            lines += [f"- {n}" for n in rec.get("notes", [])] + [""]
            continue
        if rec.get("own_markdown"):
            lines += ["(the script's own report)", "", rec["own_markdown"].strip(), ""]
        if rec.get("failed"):
            lines += [f"**FAILED** (return code {rec.get('returncode')}):", "", "```",
                      rec.get("stderr_tail", "").strip()[-1500:], "```", ""]
            continue
        if rec.get("params"):
            lines.append("Parameters: " + ", ".join(f"{k} = {fmt(v) if not isinstance(v, (list, dict)) else v}"
                                                     for k, v in rec["params"].items()))
            lines.append("")
        rows = rec.get("rows") or []
        if rows:
            cols: list[str] = []
            for r in rows:
                cols += [k for k in r if k not in cols]
            lines.append("| " + " | ".join(cols) + " |")
            lines.append("|" + "---|" * len(cols))
            for r in rows:
                lines.append("| " + " | ".join(fmt(r.get(c)) for c in cols) + " |")
            lines.append("")
        targets = rec.get("targets") or []
        if targets:
            lines.append("| target | measured | met |")
            lines.append("|---|---|---|")
            for t in targets:
                lines.append(f"| {t.get('target')} | {fmt(t.get('value'))} {t.get('unit', '')} | {fmt(t.get('met'))} |")
            lines.append("")
        for n in rec.get("notes") or []:
            lines.append(f"- {n}")
        if rec.get("notes"):
            lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = parser("Run every covgap benchmark and write results.json + results.md.")
    p.add_argument("--only", default="", help="comma-separated name prefixes, e.g. b3,b4")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per script")
    p.add_argument("--reuse", action="store_true",
                   help="also collect result files already in OUT (bN_*.json) from earlier runs of scripts "
                        "not run now (marked with their time)")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for script in scripts([s.strip() for s in args.only.split(",") if s.strip()] or None):
        print(f"running {script.name} ...", flush=True)
        rec = run_one(script, out, quick=args.quick, timeout=args.timeout)
        print(f"  {'FAILED' if rec.get('failed') else 'ok'} in {rec['script_wall_s']:.1f} s", flush=True)
        records.append(rec)
    if args.reuse:
        fresh = {Path(r["script"]).stem for r in records if r.get("script")}
        for path in sorted(out.glob("b[0-9]*.json")):
            if path.stem in fresh:
                continue
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if not isinstance(rec, dict) or "benchmark" not in rec:
                continue
            when = (rec.get("machine") or {}).get("time_utc", "?")
            rec.setdefault("notes", []).append(f"collected from {path.name}, measured {when} (not rerun now)")
            rec.setdefault("script_wall_s", None)
            records.append(rec)
        records.sort(key=lambda r: (str(r.get("benchmark")), str(r.get("title"))))
    (out / "results.json").write_text(json.dumps({"machine": machine(), "quick": args.quick, "benchmarks": records},
                                                 indent=2, default=str), encoding="utf-8")
    (out / "results.md").write_text(markdown(records, quick=args.quick), encoding="utf-8")
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0 if not any(r.get("failed") for r in records) else 1  # skipped scripts are not failures


if __name__ == "__main__":
    sys.exit(main())
