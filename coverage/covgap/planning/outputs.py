"""Plan outputs: XLSX sheet/workbook, GeoPackage layers, KML for field teams, folium layer.

Every output says where it came from (model, covgap version, inputs) and, for the demo,
that it is SYNTHETIC DEMO data. Text from data (names) is escaped: KML is written with
:mod:`xml.etree.ElementTree` (which escapes ``&``, ``<``, ``>`` and quotes), HTML with
:func:`html.escape`.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from rasterio import features
from shapely.geometry import shape
from shapely.ops import unary_union

from ..analysis import SYNTHETIC_LABEL
from ..report.exports import save_workbook, write_sheet
from .plan import Plan

__all__ = ["plan_frame", "curve_frame", "write_plan_xlsx", "append_plan_sheet", "footprint_polygons",
           "write_plan_geopackage", "write_plan_kml", "add_plan_layer", "plan_map", "write_plan_json"]

_KML_NS = "http://www.opengis.net/kml/2.2"

#: Readable headers for the plan sheet (column → header); units in the names.
_HEADERS = {
    "rank": "rank", "candidate_id": "candidate", "kind": "kind", "technology": "technology", "operator": "operator",
    "site_id": "site_id", "lon": "lon", "lat": "lat", "elevation_m": "elevation_m",
    "antenna_height_m": "antenna_height_m", "cost": "cost", "marginal_population": "people newly covered",
    "hamlets_newly_covered": "hamlets newly covered", "cumulative_new_population": "cumulative people newly covered",
    "covered_population": "people covered after this site", "covered_share": "covered share",
    "cumulative_cost": "cumulative cost", "cost_per_person": "cost per newly covered person",
    "footprint_km2": "footprint_km2",
}


def plan_frame(plan: Plan) -> pd.DataFrame:
    """The ranked plan as a plain table (readable headers, no geometry)."""
    df = plan.sites.copy()
    df = df.rename(columns=_HEADERS)
    return df


def curve_frame(plan: Plan) -> pd.DataFrame:
    """Sites vs people covered (row 0 = today)."""
    return plan.curve.copy()


def _fmt(name: str) -> str | None:
    if name.endswith("share"):
        return "0.00%"
    if name in ("lon", "lat"):
        return "0.00000"
    if "people" in name or "population" in name or name in ("rank", "hamlets newly covered", "n_sites",
                                                             "hamlets_newly_covered", "count"):
        return "#,##0"
    if "cost per" in name:
        return "0.000000"
    if "cost" in name or name.endswith(("_m", "_km2")):
        return "#,##0.00"
    return None


def _write_sheet(wb: Workbook, title: str, df: pd.DataFrame, *, banner: str | None) -> None:
    write_sheet(wb, title, df, banner=banner, number_format=_fmt)


def _summary_rows(plan: Plan) -> pd.DataFrame:
    s = plan.summary
    unit = s["unit"]
    rows = [
        ("Title", s["title"]),
        ("Plan for", "people without any signal" if s["target"] == "any" else f"people without {s['target']}"),
        ("Area", f"{unit['level']} {unit['name']} ({unit['code']})" if unit else "whole study area"),
        ("Budget (sites)", s["budget_sites"]), ("Budget (cost)", s["budget_cost"]),
        ("Target share", s["target_share"]), ("Stopped because", s["stop_reason"]),
        ("Sites chosen", s["sites_chosen"]), ("Population (total)", s["population_total"]),
        ("Covered before", s["covered_before"]), ("Covered after", s["covered_after"]),
        ("Share covered before", s["covered_share_before"]), ("Share covered after", s["covered_share_after"]),
        ("People newly covered", s["new_population"]), ("Hamlets newly covered", s["hamlets_newly_covered"]),
        ("Total cost", s["cost_total"]), ("Cost unit", s["cost_unit"]),
        ("Candidates evaluated", s["candidates"]["evaluated"]),
        ("Candidates dropped", sum(s["candidates"]["dropped"].values())),
        ("Selection", f"greedy by {'people newly covered' if s['rule'] == 'gain' else 'people per cost'}"
                      f"{' (lazy, CELF)' if s['lazy'] else ''}; {s['greedy_guarantee']}"),
        ("Model", json.dumps(s["model"], ensure_ascii=False, default=str)),
        ("Footprints", s["footprints"]), ("covgap version", s["covgap_version"]),
        ("Population nodata rule", "nodata cells counted as 0 people"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _dropped_frame(plan: Plan) -> pd.DataFrame:
    r = plan.report
    rows = [{"reason": k, "count": v, "first candidates": ", ".join(r.examples.get(k, []))}
            for k, v in r.dropped.items()]
    rows += [{"reason": f"defaulted: {k}", "count": v, "first candidates": ""} for k, v in r.defaulted.items()]
    return pd.DataFrame(rows, columns=["reason", "count", "first candidates"])


def _sources_frame(plan: Plan) -> pd.DataFrame:
    cols = ["role", "path", "layer", "source", "release", "licence", "url", "sha256", "bytes"]
    return pd.DataFrame([{c: e.get(c, "") for c in cols} for e in plan.sources], columns=cols)


def append_plan_sheet(workbook: Workbook | str | Path, plan: Plan, *, title: str = "Where to build",
                      curve_title: str = "Plan curve") -> Workbook | Path:
    """Add the plan (and its curve) as sheets of an existing workbook (object or file).

    With a path, the file is opened, extended and saved in place; the path is returned.
    An existing sheet of the same title is replaced.
    """
    banner = f"{SYNTHETIC_LABEL}: not real data" if plan.synthetic else None
    path = None
    if not isinstance(workbook, Workbook):
        path = Path(workbook)
        workbook = load_workbook(path)
    for t in (title, curve_title):
        if t in workbook.sheetnames:
            del workbook[t]
    _write_sheet(workbook, title, plan_frame(plan), banner=banner)
    _write_sheet(workbook, curve_title, curve_frame(plan), banner=banner)
    if path is not None:
        return save_workbook(workbook, path)
    return workbook


def write_plan_xlsx(plan: Plan, path: str | Path) -> Path:
    """Standalone planner workbook: Summary, Where to build, Plan curve, Candidates dropped, Sources."""
    path = Path(path)
    banner = f"{SYNTHETIC_LABEL}: not real data" if plan.synthetic else None
    wb = Workbook()
    wb.remove(wb.active)
    _write_sheet(wb, "Summary", _summary_rows(plan), banner=banner)
    ws = wb["Summary"]
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        label = str(ws.cell(cell.row, 1).value)
        if isinstance(cell.value, float):
            cell.number_format = "0.00%" if "share" in label.lower() else "#,##0.00"
    append_plan_sheet(wb, plan)
    _write_sheet(wb, "Candidates dropped", _dropped_frame(plan), banner=banner)
    _write_sheet(wb, "Sources", _sources_frame(plan), banner=banner)
    return save_workbook(wb, path)


def footprint_polygons(plan: Plan) -> gpd.GeoDataFrame:
    """One (multi)polygon per chosen site: the cells it covers (EPSG:4326)."""
    grid = plan.grid
    geoms = []
    nx = grid.nx
    for i in range(len(plan.sites)):
        cells = plan.footprints.cells(i)
        if cells.size == 0:
            geoms.append(None)
            continue
        r, c = np.divmod(cells, nx)
        r0, c0 = int(r.min()), int(c.min())
        win = np.zeros((int(r.max()) - r0 + 1, int(c.max()) - c0 + 1), dtype=np.uint8)
        win[r - r0, c - c0] = 1
        sub = grid.window(r0, r0 + win.shape[0], c0, c0 + win.shape[1])
        parts = [shape(g) for g, v in features.shapes(win, mask=win.astype(bool), transform=sub.transform,
                                                       connectivity=8) if v == 1]
        geoms.append(unary_union(parts))
    cols = ["rank", "candidate_id", "marginal_population", "hamlets_newly_covered", "footprint_km2"]
    gdf = gpd.GeoDataFrame(plan.sites[cols].copy(), geometry=geoms, crs=grid.crs.to_wkt())
    return gdf.to_crs("EPSG:4326")


def _points(plan: Plan) -> gpd.GeoDataFrame:
    df = plan.sites.copy()
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def write_plan_geopackage(plan: Plan, path: str | Path, *, prefix: str = "plan") -> Path:
    """Add layers ``<prefix>_sites`` (points) and ``<prefix>_footprints`` (polygons) to a GeoPackage.

    The file may already exist (e.g. ``gaps.gpkg``): other layers are kept, these two replaced.
    """
    path = Path(path)
    for name, gdf in ((f"{prefix}_sites", _points(plan)), (f"{prefix}_footprints", footprint_polygons(plan))):
        gdf = gdf.copy()
        gdf.attrs = {}
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def write_plan_kml(plan: Plan, path: str | Path, *, footprints: bool = True) -> Path:
    """KML for field teams: one placemark per site (rank, people, place), optional footprints."""
    path = Path(path)
    ET.register_namespace("", _KML_NS)
    k = lambda tag: f"{{{_KML_NS}}}{tag}"  # noqa: E731
    root = ET.Element(k("kml"))
    doc = ET.SubElement(root, k("Document"))
    ET.SubElement(doc, k("name")).text = plan.summary["title"]
    ET.SubElement(doc, k("description")).text = (
        (f"{SYNTHETIC_LABEL}: not real data. " if plan.synthetic else "")
        + f"{len(plan.sites)} sites, {plan.summary['new_population']:,.0f} people newly covered; "
          f"model {plan.summary['model'].get('model', '')}; covgap {plan.summary['covgap_version']}.")
    style = ET.SubElement(doc, k("Style"), id="fp")
    ls = ET.SubElement(style, k("LineStyle"))
    ET.SubElement(ls, k("color")).text = "ff0000ff"
    ps = ET.SubElement(style, k("PolyStyle"))
    ET.SubElement(ps, k("color")).text = "400000ff"
    folder = ET.SubElement(doc, k("Folder"))
    ET.SubElement(folder, k("name")).text = "Sites"
    admin_cols = [c for c in plan.sites.columns if c.endswith("_name") and c != "candidate_id"]
    for row in plan.sites.itertuples(index=False):
        pm = ET.SubElement(folder, k("Placemark"))
        ET.SubElement(pm, k("name")).text = f"#{row.rank} {row.candidate_id}"
        place = ", ".join(str(getattr(row, c)) for c in admin_cols if getattr(row, c))
        ET.SubElement(pm, k("description")).text = (
            f"{row.kind} {row.technology} ({row.operator}); newly covers {row.marginal_population:,.0f} people, "
            f"{row.hamlets_newly_covered} hamlets; cost {row.cost:g}; elevation {row.elevation_m:.0f} m; "
            f"antenna {row.antenna_height_m:.0f} m; {place}")
        pt = ET.SubElement(pm, k("Point"))
        ET.SubElement(pt, k("coordinates")).text = f"{row.lon:.6f},{row.lat:.6f},0"
    if footprints and len(plan.sites):
        ff = ET.SubElement(doc, k("Folder"))
        ET.SubElement(ff, k("name")).text = "Footprints"
        for row, geom in zip(plan.sites.itertuples(index=False), footprint_polygons(plan).geometry, strict=True):
            if geom is None or geom.is_empty:
                continue
            pm = ET.SubElement(ff, k("Placemark"))
            ET.SubElement(pm, k("name")).text = f"#{row.rank} {row.candidate_id} footprint"
            ET.SubElement(pm, k("styleUrl")).text = "#fp"
            mg = ET.SubElement(pm, k("MultiGeometry"))
            for poly in getattr(geom, "geoms", [geom]):
                pe = ET.SubElement(mg, k("Polygon"))
                ob = ET.SubElement(ET.SubElement(pe, k("outerBoundaryIs")), k("LinearRing"))
                ET.SubElement(ob, k("coordinates")).text = " ".join(f"{x:.6f},{y:.6f},0" for x, y in poly.exterior.coords)
                for hole in poly.interiors:
                    ib = ET.SubElement(ET.SubElement(pe, k("innerBoundaryIs")), k("LinearRing"))
                    ET.SubElement(ib, k("coordinates")).text = " ".join(f"{x:.6f},{y:.6f},0" for x, y in hole.coords)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_plan_json(plan: Plan, path: str | Path) -> Path:
    """``plan.json``: the summary, the ranked sites and the curve (UTF-8)."""
    path = Path(path)
    data: dict[str, Any] = {"summary": plan.summary,
                            "sites": json.loads(plan.sites.to_json(orient="records", force_ascii=False)),
                            "curve": json.loads(plan.curve.to_json(orient="records"))}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def add_plan_layer(folium_map: folium.Map, plan: Plan, *, name: str = "Where to build",
                   footprints: bool = True) -> folium.Map:
    """Add the plan (numbered site markers and, optionally, footprints) to a folium map; returns it."""
    fg = folium.FeatureGroup(name=name, show=True)
    if footprints and len(plan.sites):
        polys = footprint_polygons(plan)
        for row, geom in zip(plan.sites.itertuples(index=False), polys.geometry, strict=True):
            if geom is None or geom.is_empty:
                continue
            folium.GeoJson(geom.__geo_interface__, style_function=lambda _f: {
                "color": "#c00000", "weight": 1, "fillColor": "#ff4040", "fillOpacity": 0.15},
                tooltip=html.escape(f"#{row.rank} {row.candidate_id}: footprint")).add_to(fg)
    for row in plan.sites.itertuples(index=False):
        tip = html.escape(f"#{row.rank} {row.candidate_id} ({row.kind} {row.technology}): "
                          f"{row.marginal_population:,.0f} people newly covered, "
                          f"{row.hamlets_newly_covered} hamlets, cost {row.cost:g}")
        folium.CircleMarker([row.lat, row.lon], radius=7, color="#800000", fill=True, fill_color="#ff2020",
                            fill_opacity=0.9, tooltip=tip, popup=folium.Popup(tip, max_width=300)).add_to(fg)
    fg.add_to(folium_map)
    return folium_map


def plan_map(plan: Plan, *, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """A new map showing just the plan (with a layer control); the caller saves or shows it."""
    w, s, e, n = plan.grid.bounds
    if not plan.grid.is_geographic:
        lon, lat = plan.grid.to_lonlat(np.array([w, e]), np.array([s, n]))
        w, e, s, n = float(min(lon)), float(max(lon)), float(min(lat)), float(max(lat))
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=9, tiles=tiles)
    add_plan_layer(m, plan)
    folium.LayerControl().add_to(m)
    m.fit_bounds([[s, w], [n, e]])
    return m
