"""Real data: WorldPop 2020 1 km (UN-adjusted) summed per province vs GSO's 2020 totals, before and after
:func:`covgap.population.adjust_to_totals`.

Two layers of provinces, each rasterised onto the WorldPop grid by cell centre (the pipeline's rule), with the
pipeline's coast snapping (populated cells within 2 cells of a province go to the nearest one):

* the 34 provinces in force since 1 July 2025 (``vn2025/json/geojson/*/*.geojson``, one file per province),
  against the shipped ``vn_population_2020_34.csv`` (2020 figures regrouped into 2025 provinces);
* the 63 former provinces (geoBoundaries ADM1, matched to GSO codes by name), against
  ``vn_population_2020_63.csv``.

Writes ``OUT/population_totals.json`` (every row, the conservation checks) and ``OUT/population_totals.md``
(the tables). Not a timing benchmark (``run_all.py`` does not run it)::

    .venv/bin/python benchmarks/population_totals.py --out out/bench
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_VNM, parser, write_result  # noqa: E402

NAME = "population_totals"
ATTRIBUTION = ("Population: WorldPop (www.worldpop.org), CC BY 4.0. Boundaries: geoBoundaries (www.geoboundaries.org), "
               "CC BY 4.0. Administrative units 2025: vietnamese-provinces-database (MIT), from the reference map of "
               "the Ministry of Agriculture and Environment. Totals: GSO average population 2020.")


def units_2025(folder: Path):
    """The 34 provinces of 2025: one GeoJSON per province (``code``, ``name``), EPSG:4326."""
    import geopandas as gpd
    import pandas as pd

    files = sorted(folder.glob("*/*.geojson"))
    gdf = pd.concat([gpd.read_file(f)[["code", "name", "geometry"]] for f in files], ignore_index=True)
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:4326")
    gdf["code"] = gdf["code"].astype(str).str.zfill(2)
    return gdf.dissolve(by="code", as_index=False, aggfunc="first", sort=True)[["code", "name", "geometry"]]


def units_63(path: Path):
    """The 63 former provinces from geoBoundaries ADM1, GSO codes by name (Côn Đảo into Bà Rịa–Vũng Tàu)."""
    import geopandas as gpd

    from covgap.vietnam import dissolve_former, match_former_provinces

    former = dissolve_former(match_former_provinces(gpd.read_file(path), name_field="shapeName"))
    return gpd.GeoDataFrame({"code": former["code"].astype(str), "name": former["name_vi"].astype(str)},
                            geometry=former.geometry.values, crs="EPSG:4326")


def compare(pop, grid, units, totals):
    """Rasterise, snap coast cells, adjust; return (table, checks)."""
    from covgap.overlay import rasterize_units
    from covgap.population import adjust_to_totals, snap_outside_cells

    labels = rasterize_units(units, grid)
    labels, snap = snap_outside_cells(labels, pop, max_cells=2)
    adjusted, table = adjust_to_totals(pop, labels, totals, codes=units["code"], names=units["name"])
    table["diff_before_pct"] = 100.0 * (table["grid_population"] / table["official_population"] - 1.0)
    table["diff_after_pct"] = 100.0 * (table["adjusted_population"] / table["official_population"] - 1.0)
    inside = table["status"] == "adjusted"
    err = (table.loc[inside, "adjusted_population"] - table.loc[inside, "official_population"]).abs()
    moved = float((table.loc[inside, "official_population"] - table.loc[inside, "grid_population"]).sum())
    absd = table.loc[inside, "diff_before_pct"].abs()
    checks = {
        "units": int(len(units)),
        "units_adjusted": int(inside.sum()),
        "units_without_total": table.attrs["units_without_total"],
        "units_zero_grid": table.attrs["units_zero_grid"],
        "codes_not_in_layer": table.attrs["codes_not_in_layer"],
        "grid_total_before": table.attrs["grid_total_before"],
        "grid_total_after": table.attrs["grid_total_after"],
        "official_total": float(table.loc[inside, "official_population"].sum()),
        "outside_population_before": float(pop[labels == 0].sum()),
        "outside_population_after": float(adjusted[labels == 0].sum()),
        "outside_cells_unchanged": bool(np.array_equal(adjusted[labels == 0], pop[labels == 0])),
        "snapped": snap,
        "max_abs_unit_error_people": float(err.max()),
        "grid_total_moved_by_units": moved,
        "grid_total_change_minus_moved": float(table.attrs["grid_total_after"] - table.attrs["grid_total_before"]
                                               - moved),
        "abs_diff_before_pct": {"median": float(absd.median()), "p90": float(absd.quantile(0.9)),
                                "max": float(absd.max())},
    }
    return table, checks


def _md_table(table) -> str:
    rows = ["| code | province | grid 2020 (WorldPop) | GSO 2020 | before % | factor | after | after % |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in table[table["status"] != "not_in_layer"].itertuples():
        rows.append(f"| {r.code} | {r.name} | {r.grid_population:,.0f} | {r.official_population:,.0f} | "
                    f"{r.diff_before_pct:+.1f} | {r.factor:.4f} | {r.adjusted_population:,.0f} | "
                    f"{r.diff_after_pct:+.1e} |")
    return "\n".join(rows)


def main(argv=None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    from covgap.io import read_population
    from covgap.vietnam import population_2020

    tif = SHARED_VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif"
    if not tif.exists():
        raise SystemExit(f"needs {tif}; set COVGAP_SHARED_DATA to the folder with the real Vietnam files.")
    pop, grid, pnotes = read_population(tif)
    layers = {
        "34 provinces (2025 outlines)": (units_2025(SHARED_VNM / "vn2025" / "json" / "geojson"), population_2020("34")),
        "63 former provinces (geoBoundaries ADM1)": (units_63(SHARED_VNM / "geoBoundaries-VNM-ADM1.shp"),
                                                     population_2020("63")),
    }
    record = {"benchmark": "population_totals", "title": "WorldPop 2020 1 km vs GSO 2020 per province, before and "
              "after adjust_to_totals", "quick": bool(args.quick), "params": {"population": tif.name,
              "grid_total": float(pop.sum()), "nodata_note": pnotes["note"]}, "layers": {}, "notes": [ATTRIBUTION]}
    md = [f"# {record['title']}", "", f"WorldPop grid total {pop.sum():,.0f} people; GSO 2020 total 97,582,600.", "",
          ATTRIBUTION, ""]
    for name, (units, totals) in layers.items():
        table, checks = compare(pop, grid, units, totals)
        record["layers"][name] = {"checks": checks, "rows": table.replace({np.nan: None}).to_dict("records")}
        a = checks["abs_diff_before_pct"]
        md += [f"## {name}", "",
               f"|grid − GSO| before: median {a['median']:.1f} %, p90 {a['p90']:.1f} %, max {a['max']:.1f} %. After: "
               f"largest |Σ unit − GSO| = {checks['max_abs_unit_error_people']:.2e} people; grid total "
               f"{checks['grid_total_before']:,.0f} → {checks['grid_total_after']:,.0f} (moved by the units: "
               f"{checks['grid_total_moved_by_units']:+,.0f}; residual {checks['grid_total_change_minus_moved']:.2e}); "
               f"outside all units {checks['outside_population_before']:,.0f} people, unchanged: "
               f"{checks['outside_cells_unchanged']}.", "", _md_table(table), ""]
    path = write_result(args.out, NAME, record)
    (Path(args.out) / f"{NAME}.md").write_text("\n".join(md), encoding="utf-8")
    print(path)


if __name__ == "__main__":
    main()
