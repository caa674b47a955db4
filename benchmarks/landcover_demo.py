"""SYNTHETIC demo: people without signal with the P.1812 model, with and without the demo's land cover.

The demo region (:func:`covgap.demo.make_demo_inputs`, its ``landcover.tif`` of WorldCover codes) is run
with ``[model] kind = "p1812"`` at a small ``max_radius_km`` (the demo's 309 sites at the default 10 km
take tens of CPU minutes in the exact mode), once with its ``[landcover]`` section and once without it
(open/rural, inland everywhere). Not a timing benchmark (``run_all.py`` does not run it); the seconds are
reported with the machine's load. Writes ``OUT/landcover_demo.json``::

    .venv/bin/python benchmarks/landcover_demo.py --out out/bench [--radius-km 5] [--quick: 2 km]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, write_result  # noqa: E402

NAME = "landcover_demo"


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--radius-km", type=float, default=5.0, help="[model.p1812] max_radius_km (default 5)")
    args = p.parse_args()
    from covgap.config import load_config
    from covgap.demo import make_demo_inputs
    from covgap.pipeline import analyse_config, demo_config_text

    radius = 2.0 if args.quick else args.radius_km
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        make_demo_inputs(Path(tmp) / "inputs")
        (Path(tmp) / "covgap.toml").write_text(demo_config_text(model_kind="p1812"), encoding="utf-8")
        cfg = load_config(Path(tmp) / "covgap.toml")
        cfg = replace(cfg, model=replace(cfg.model, options={"p1812": {"max_radius_km": radius}}))
        for label, c in (("with land cover", cfg), ("open/rural (no [landcover])", replace(cfg, landcover=None))):
            t0 = time.perf_counter()
            s = analyse_config(c).summary()
            rows.append({"run": label, "max_radius_km": radius, "uncovered": s["population_uncovered"],
                         "covered_by_technology": s["population_covered_by_technology"],
                         "land_cover": s["model"]["land_cover"], "seconds": time.perf_counter() - t0,
                         "load_1min": os.getloadavg()[0]})
            print(f"{label}: {s['population_uncovered']:,.2f} people without signal "
                  f"({rows[-1]['seconds']:.0f} s, load {rows[-1]['load_1min']:.1f})", flush=True)
    write_result(args.out, NAME, {"benchmark": NAME, "quick": bool(args.quick), "rows": rows,
                                  "synthetic": True})


if __name__ == "__main__":
    main()
