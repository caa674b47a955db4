"""File exports of an :class:`~covgap.analysis.Analysis`.

Every export says where it came from (inputs, model, version) and, for the demo, that it
is SYNTHETIC DEMO data.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..analysis import SYNTHETIC_LABEL, Analysis
from ..io import write_geotiff

__all__ = ["write_summary", "write_xlsx", "write_geopackage", "write_rasters", "sheet_name"]

_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_INT_COLS = ("population", "covered", "uncovered", "without", "sites", "cells", "rank", "cluster_id")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def write_summary(analysis: Analysis, path: str | Path) -> Path:
    """Write ``summary.json`` (UTF-8, names unescaped)."""
    path = Path(path)
    path.write_text(json.dumps(analysis.summary(), ensure_ascii=False, indent=2, default=_json_default),
                    encoding="utf-8")
    return path


def sheet_name(level: str) -> str:
    """Sheet title for an admin level: ``province`` → ``Provinces``."""
    t = level.replace("_", " ").capitalize()
    return t if t.endswith("s") else t + "s"


def _frame(gdf: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    for c in df.columns:
        if df[c].dtype == bool:
            df[c] = df[c].map({True: "yes", False: "no"})
    return df


def _write_sheet(wb: Workbook, title: str, df: pd.DataFrame, *, banner: str | None) -> None:
    ws = wb.create_sheet(title)
    row0 = 1
    if banner:
        ws.cell(row=1, column=1, value=banner).font = Font(bold=True, color="C00000")
        row0 = 2
    for j, col in enumerate(df.columns, start=1):
        cell = ws.cell(row=row0, column=j, value=str(col))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(df.itertuples(index=False), start=row0 + 1):
        for j, v in enumerate(row, start=1):
            if isinstance(v, (np.floating, float)) and not np.isfinite(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            ws.cell(row=i, column=j, value=v)
    for j, col in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        name = str(col)
        if name.endswith("share"):
            fmt = "0.0%"
        elif any(k in name for k in _INT_COLS):
            fmt = "#,##0"
        elif name.endswith(("_km2", "_km", "_m", "_db", "_lon", "_lat")) or name.startswith("signal_margin"):
            fmt = "0.000" if name.endswith(("_lon", "_lat")) else "#,##0.0"
        else:
            fmt = None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=row0 + 1, min_col=j, max_col=j):
                if isinstance(cell.value, (int, float)):
                    cell.number_format = fmt
        width = max([len(name)] + [len(str(v)) for v in df[col].head(200)]) + 2
        ws.column_dimensions[letter].width = min(max(width, 8), 45)
    ws.freeze_panes = ws.cell(row=row0 + 1, column=1)
    ws.auto_filter.ref = f"A{row0}:{get_column_letter(max(len(df.columns), 1))}{row0 + max(len(df), 1)}"


def write_xlsx(analysis: Analysis, path: str | Path) -> Path:
    """Write ``gap_report.xlsx``: Summary, one sheet per admin level, Gap clusters, Hamlets, Sources."""
    path = Path(path)
    s = analysis.summary()
    banner = f"{SYNTHETIC_LABEL}: not real data" if s["synthetic"] else None
    wb = Workbook()
    wb.remove(wb.active)
    rows = [("Study area", s["title"]), ("Population (total)", s["population_total"]),
            ("Population without any signal", s["population_uncovered"]),
            ("Share without any signal", s["uncovered_share"]),
            ("Population without 4G", s["population_without_4G"])]
    rows += [(f"Population covered by {t}", v) for t, v in s["population_covered_by_technology"].items()]
    rows += [(f"Population outside all {lvl} units", v) for lvl, v in s["population_outside_units"].items()]
    rows += [("Gap clusters (≥ min population)", s["gap_clusters"]["count"]),
             ("Model", s["model"].get("model", "")), ("covgap version", s["covgap_version"]),
             ("Population nodata rule", "nodata cells counted as 0 people")]
    _write_sheet(wb, "Summary", pd.DataFrame(rows, columns=["item", "value"]), banner=banner)
    ws = wb["Summary"]
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        if isinstance(cell.value, float):
            cell.number_format = "0.0%" if cell.value <= 1 and "Share" in str(ws.cell(cell.row, 1).value) else "#,##0"
    for level, tab in analysis.units.items():
        _write_sheet(wb, sheet_name(level), _frame(tab), banner=banner)
    _write_sheet(wb, "Gap clusters", _frame(analysis.clusters), banner=banner)
    if analysis.hamlets is not None:
        _write_sheet(wb, "Hamlets", _frame(analysis.hamlets), banner=banner)
    _write_sheet(wb, "Sources", _sources_frame(s), banner=banner)
    wb.save(path)
    return path


def _sources_frame(s: dict) -> pd.DataFrame:
    cols = ["role", "path", "layer", "source", "release", "licence", "url", "sha256", "bytes"]
    return pd.DataFrame([{c: e.get(c, "") for c in cols} for e in s["inputs"]], columns=cols)


def write_geopackage(analysis: Analysis, path: str | Path) -> Path:
    """Write ``gaps.gpkg``: one layer per admin level, gap_clusters, towers, hamlets."""
    path = Path(path)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for level, tab in analysis.units.items():
        layers[f"admin_{level}"] = tab
    layers["gap_clusters"] = analysis.clusters
    sites = analysis.coverage.sites
    layers["towers"] = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326")
    if analysis.hamlets is not None:
        layers["hamlets"] = analysis.hamlets
    for name, gdf in layers.items():
        gdf = gdf.copy()
        gdf.attrs = {}
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def write_rasters(analysis: Analysis, directory: str | Path) -> list[Path]:
    """Coverage GeoTIFFs: per technology the number of operators (0 = no signal), best
    signal (dBm, signal models only), and the uncovered population per cell."""
    directory = Path(directory)
    grid = analysis.study.grid
    tags = {"covgap_model": analysis.coverage.model, "synthetic": analysis.study.synthetic}
    if analysis.study.synthetic:
        tags["note"] = SYNTHETIC_LABEL
    out = []
    for tech, tc in analysis.coverage.technologies.items():
        out.append(write_geotiff(directory / f"coverage_{tech}_operators.tif", tc.n_operators(), grid, nodata=None,
                                 tags=tags, band_description=f"operators covering ({tech}); 0 = no signal"))
        if tc.signal_dbm is not None:
            out.append(write_geotiff(directory / f"signal_{tech}_dbm.tif", tc.signal_dbm.astype(np.float32), grid,
                                     nodata=np.nan, tags=tags, band_description=f"best signal {tech} (dBm)"))
    out.append(write_geotiff(directory / "uncovered_population.tif", analysis.uncovered_population.astype(np.float32),
                             grid, nodata=None, tags=tags, band_description="people per cell without any signal"))
    return out
