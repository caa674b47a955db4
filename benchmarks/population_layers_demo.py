"""SYNTHETIC demo: people without signal per province under three population layers, same coverage.

The demo's own people (``as generated``), its settlement-constrained variant and its unconstrained (spread)
variant (:func:`covgap.demo.make_demo_inputs`; every commune keeps its people, only where they live changes)
under one coverage (radius model by default), compared by :func:`covgap.compare.compare_population_layers`
for "no signal at all" and "no 4G". Writes ``OUT/population_layers_demo.json``, ``.md`` and ``.xlsx``
(not a timing benchmark; ``run_all.py`` does not run it)::

    .venv/bin/python benchmarks/population_layers_demo.py --out out/bench [--model radius|hata|terrain]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, write_result  # noqa: E402

NAME = "population_layers_demo"


def _md(cmp, what: str) -> list[str]:
    names = cmp.layers
    out = [f"### People without {what} per province", "",
           "| province | " + " | ".join(names) + " | spread | spread / mean | ranks |",
           "| --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: | --- |"]
    for r in cmp.units.to_dict("records"):
        ranks = "/".join(str(r[f"rank_{n}"]) for n in names)
        out.append(f"| {r['name']} | " + " | ".join(f"{r[f'uncovered_{n}']:,.0f}" for n in names)
                   + f" | {r['spread']:,.0f} | {100 * r['spread_rel']:.0f} % | {ranks} |")
    t = cmp.totals
    out += ["", "| layer | people | without | share | zones ≥ min | rank corr. vs first |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    out += [f"| {r.layer} | {r.population:,.0f} | {r.uncovered:,.0f} | {100 * r.uncovered_share:.1f} % | "
            f"{r.gap_clusters} | {r.rank_correlation:.2f} |" for r in t.itertuples()]
    z = cmp.clusters
    if len(z):
        out += ["", f"Gap zones (of the first layer) with ≥ {cmp.notes['min_population']:g} people under some layer: "
                f"{len(z)}; median spread / mean {100 * z['spread_rel'].median():.0f} %, largest spread "
                f"{z['spread'].max():,.0f} people (zone {int(z.loc[z['spread'].idxmax(), 'zone_id'])})."]
    return out + [""]


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="radius", choices=("radius", "hata", "terrain"))
    args = p.parse_args(argv)
    from covgap.compare import compare_population_layers
    from covgap.config import load_config
    from covgap.demo import DEMO_ATTRIBUTION, make_demo_inputs
    from covgap.io import read_population
    from covgap.pipeline import analyse_config, demo_config_text
    from covgap.report.population_layers import write_population_comparison

    tmp = Path(tempfile.mkdtemp(prefix="covgap-layers-"))
    paths = make_demo_inputs(tmp / "inputs")
    (tmp / "covgap.toml").write_text(demo_config_text(model_kind=args.model), encoding="utf-8")
    analysis = analyse_config(load_config(tmp / "covgap.toml"), model_kind=args.model)
    layers = {"as generated": analysis.study.population}
    for k in ("constrained", "unconstrained"):
        layers[k] = read_population(paths[f"population_{k}"])[:2]
    record = {"benchmark": NAME, "title": "SYNTHETIC demo: people without signal under three population layers",
              "quick": bool(args.quick), "params": {"model": args.model}, "comparisons": {},
              "notes": [DEMO_ATTRIBUTION]}
    md = [f"# {record['title']} ({args.model} model)", "", DEMO_ATTRIBUTION, ""]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for tech, what in (("any", "any signal"), ("4G", "4G")):
        cmp = compare_population_layers(analysis, layers, technology=tech, min_population=50)
        record["comparisons"][tech] = {"totals": cmp.totals.to_dict("records"), "units": cmp.units.to_dict("records"),
                                       "zones": int(len(cmp.clusters)),
                                       "zone_spread_rel_median": float(cmp.clusters["spread_rel"].median())
                                       if len(cmp.clusters) else None}
        md += _md(cmp, what)
        write_population_comparison(cmp, out / f"{NAME}_{tech}.xlsx", synthetic=True)
    # settlement-points lens: hamlets on cells without people, populated cells > 2 km from any hamlet
    import numpy as np
    import pandas as pd

    from covgap.population import settlement_check

    hamlets = pd.read_csv(paths["hamlets"])
    prov = analysis.study.admin[0]
    md += ["### Settlement points (hamlets) against each layer", "",
           f"{len(hamlets)} hamlet points; 'far' = populated cell more than 2 km from every hamlet point.", "",
           "| layer | hamlets on cells without people | populated cells | far cells | people far | share |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    record["settlement_check"] = {}
    for name, layer in layers.items():
        pop = layer[0] if isinstance(layer, tuple) else layer
        chk = settlement_check(np.asarray(pop), analysis.study.grid, hamlets["lon"], hamlets["lat"], far_km=2.0,
                               labels=prov.labels, codes=prov.units["code"], names=prov.units["name"])
        t = chk.totals
        record["settlement_check"][name] = {"totals": t, "units": chk.units.to_dict("records")}
        md.append(f"| {name} | {t['points_on_empty_cells']} | {t['populated_cells']:,} | {t['populated_cells_far']:,} "
                  f"| {t['people_far']:,.0f} | {100 * t['people_far_share']:.1f} % |")
    md.append("")
    write_result(out, NAME, record)
    (out / f"{NAME}.md").write_text("\n".join(md), encoding="utf-8")
    print(out / f"{NAME}.md")


if __name__ == "__main__":
    main()
