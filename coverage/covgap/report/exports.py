"""File exports of an :class:`~covgap.analysis.Analysis`.

Every export says where it came from (inputs, model, version) and, for the demo, that it
is SYNTHETIC DEMO data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..analysis import SYNTHETIC_LABEL, Analysis
from ..io import write_geotiff
from .i18n import (
    check_lang,
    column_label,
    data_notes,
    label,
    level_label,
    location_sentence,
    model_title,
    status_label,
    synthetic_banner,
)
from .tables import missing_technologies, province_view

__all__ = ["write_summary", "write_xlsx", "write_geopackage", "write_rasters", "sheet_name", "sources_frame",
           "write_province_package", "write_sheet", "defuse_formulas", "save_workbook", "FORMULA_PREFIXES"]

#: First characters that make a spreadsheet read a text cell as a formula (OWASP "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_BANNER_FILL = PatternFill("solid", fgColor="FDE9E7")
_INT_COLS = ("population", "covered", "uncovered", "without", "sites", "cells", "rank", "cluster_id", "bytes",
             "n_operators")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


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


def sheet_name(level: str, lang: str = "en") -> str:
    """Sheet title for an admin level: ``province`` → ``Provinces`` (en) / ``Các tỉnh`` (vi)."""
    if lang == "en":
        t = level.replace("_", " ").capitalize()
        return t if t.endswith("s") else t + "s"
    return _safe_sheet(level_label(level, lang, plural=True))


def _safe_sheet(title: str) -> str:
    """Excel sheet titles: at most 31 characters, none of ``[]:*?/\\``."""
    return _BAD_SHEET_CHARS.sub(", ", title)[:31]


def _frame(gdf: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    df = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    yes, no = ("yes", "no") if lang == "en" else ("có", "không")
    for c in df.columns:
        if df[c].dtype == bool:
            df[c] = df[c].map({True: yes, False: no})
    if "level" in df.columns and lang != "en":
        df["level"] = df["level"].map(lambda v: level_label(v, lang) if isinstance(v, str) else v)
    if "status" in df.columns and lang != "en":
        df["status"] = df["status"].map(lambda v: status_label(v, lang) if isinstance(v, str) else v)
    return df


def _number_format(name: str) -> str | None:
    if name == "p_no_signal":
        return "0%"
    if name.endswith("share"):
        return "0.0%"
    if any(k in name for k in _INT_COLS):
        return "#,##0"
    if name.endswith(("_lon", "_lat")) or name in ("lon", "lat"):
        return "0.00000"
    if name.endswith(("_km2", "_km", "_m", "_db", "_dbm", "_mhz", "_deg")) or name.startswith("signal_margin"):
        return "#,##0.0"
    return None


def write_sheet(wb: Workbook, title: str, df: pd.DataFrame, *, banner: str | None, lang: str = "en",
                number_format=None) -> None:
    """One table per sheet: optional banner row, a bold frozen header row, number formats, widths, filter.

    The header row holds the stable column names in English (the same names as the GeoPackage
    fields and summary.json, so scripts can read either) and the Vietnamese labels in Vietnamese;
    each header cell carries the other form as a comment. ``number_format(column_name)`` returns
    an Excel format or ``None`` (default: covgap's rules for its own column names).
    """
    number_format = number_format or _number_format
    ws = wb.create_sheet(_safe_sheet(title))
    row0 = 1
    if banner:
        c = ws.cell(row=1, column=1, value=banner)
        c.font = Font(bold=True, color="C00000")
        c.fill = _BANNER_FILL
        row0 = 2
    for j, col in enumerate(df.columns, start=1):
        name = str(col)
        human = column_label(name, lang)
        cell = ws.cell(row=row0, column=j, value=name if lang == "en" else human)
        other = column_label(name, "en") if lang == "en" else name
        if other != cell.value:
            cell.comment = Comment(other, "covgap")
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(df.itertuples(index=False), start=row0 + 1):
        for j, v in enumerate(row, start=1):
            if isinstance(v, (np.floating, float)) and not np.isfinite(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            elif isinstance(v, (list, dict)):
                v = json.dumps(v, ensure_ascii=False)
            elif v is not None and not isinstance(v, (str, int, float, bool)):
                v = str(v)
            ws.cell(row=i, column=j, value=v)
    for j, col in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        name = str(col)
        fmt = number_format(name)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=row0 + 1, min_col=j, max_col=j):
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = fmt
        head = str(ws.cell(row=row0, column=j).value)
        values = [len(str(v)) for v in df[col].head(200)]
        if fmt and values:
            values = [min(v, 14) for v in values]
        width = max([min(len(head), 28)] + values) + 2
        ws.column_dimensions[letter].width = min(max(width, 8), 50)
    ws.row_dimensions[row0].height = 45
    ws.freeze_panes = ws.cell(row=row0 + 1, column=1)
    ws.auto_filter.ref = f"A{row0}:{get_column_letter(max(len(df.columns), 1))}{row0 + max(len(df), 1)}"
    ws.print_title_rows = f"{row0}:{row0}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    _defuse_sheet(ws)  # text from data is text, never a formula (also for callers that save the workbook)
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _summary_rows(s: dict, lang: str) -> list[tuple[str, object]]:
    L = label
    rows: list[tuple[str, object]] = [
        (L("study_area", lang), s["title"]),
        (L("population_total", lang), s["population_total"]),
        (L("people_no_signal", lang), s["population_uncovered"]),
        (L("share_no_signal", lang), s["uncovered_share"]),
        (L("people_without_4G", lang), s["population_without_4G"]),
    ]
    rows += [(column_label(f"covered_{t}", lang), v) for t, v in s["population_covered_by_technology"].items()]
    for key, by_tech in (s.get("location_probability") or {}).get("population_covered_at", {}).items():
        rows += [(column_label(f"covered_{t}_{key}", lang), v) for t, v in by_tech.items()]
    rows += [(f"{L('outside_units', lang)} ({level_label(lvl, lang).lower()})", v)
             for lvl, v in s["population_outside_units"].items()]
    for lens, v in (s.get("lenses") or {}).items():
        if isinstance(v, dict):
            for k in ("population", "uncovered", "without_4G"):
                if k in v:
                    rows.append((column_label(f"{lens}_{k}", lang), v[k]))
    for k in ("foreign_only", "domestic_and_foreign", "no_network", "border_belt_foreign_only"):
        if k in (s.get("foreign_networks") or {}):
            rows.append((column_label(k, lang), s["foreign_networks"][k]))
    ens = s.get("uncertainty")
    if ens is not None:
        rng = L("people_no_signal_range", lang, members=ens["spec"]["members"])
        u = ens["population_uncovered"]
        rows += [(f"{rng}: P10", u["p10"]), (f"{rng}: P50", u["p50"]), (f"{rng}: P90", u["p90"])]
    rows += [(L("gap_clusters", lang), s["gap_clusters"]["count"])]
    for status, n in (s.get("hamlets") or {}).items():
        rows.append((f"{L('hamlets', lang)}: {status_label(status, lang)}", n))
    rows += [(L("model", lang), model_title(s["model"])),
             (L("generated_by", lang, version=s["covgap_version"]), ""),
             (L("notes", lang), L("population_note", lang)),
             ("", L("method_note", lang)),
             ("", location_sentence(s, lang))]
    rows += [("", note) for note in data_notes(s, lang)]
    rows += [("", note) for note in (s.get("notes") or {}).get("model_warnings", [])]
    return rows


def _subset(analysis: Analysis, province: str | None):
    """(units per level, clusters, hamlets) for the whole study area or one top-level unit."""
    if province is None:
        return dict(analysis.units), analysis.clusters, analysis.hamlets
    v = province_view(analysis, province)
    units = {v.level: analysis.units[v.level][analysis.units[v.level]["code"] == v.unit["code"]]}
    if v.sublevel is not None:
        codes = set(v.subunits["code"])
        sub = analysis.units[v.sublevel]
        units[v.sublevel] = sub[sub["code"].isin(codes)]
    return units, v.clusters.sort_values("rank"), v.hamlets


def defuse_formulas(wb: Workbook) -> int:
    """Make every text cell of ``wb`` that a spreadsheet could run as a formula plain text; return how many.

    A cell whose text starts with one of :data:`FORMULA_PREFIXES` (openpyxl stores a string
    starting with ``=`` as a formula) is stored as a string with Excel's quote prefix, so
    Excel and LibreOffice show it literally and keep it text when edited. Numbers stay
    numbers. covgap writes no formula of its own, so every formula cell came from data.
    """
    return sum(_defuse_sheet(ws) for ws in wb.worksheets)


def _defuse_sheet(ws) -> int:
    n = 0
    for row in ws.iter_rows():
        for cell in row:
            v = cell.value
            if isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
                cell.data_type = "s"
                cell.quotePrefix = True
                n += 1
    return n


def save_workbook(wb: Workbook, path: str | Path) -> Path:
    """Save ``wb`` to ``path`` after :func:`defuse_formulas`: the one way covgap writes a workbook."""
    defuse_formulas(wb)
    wb.save(path)
    return Path(path)


def write_xlsx(analysis: Analysis, path: str | Path, *, lang: str = "en", province: str | None = None) -> Path:
    """Write ``gap_report.xlsx``: Summary, one sheet per admin level, Gap clusters, Hamlets, Sources.

    Parameters
    ----------
    lang : {"en", "vi"}
        Sheet names, header labels and summary items in English or Vietnamese.
    province : str, optional
        Code or name of one top-level unit: only its rows (its sub-units, clusters, hamlets).

    Every sheet has a bold header row frozen under an optional SYNTHETIC DEMO banner, number
    formats (people ``#,##0``, shares ``0.0%``), column widths, an auto-filter and print titles;
    the sources sheet lists every input with its source, release, licence and SHA-256.
    """
    check_lang(lang)
    path = Path(path)
    s = analysis.summary()
    banner = synthetic_banner(lang) if s["synthetic"] else None
    units, clusters, hamlets = _subset(analysis, province)
    wb = Workbook()
    wb.remove(wb.active)
    summary_title = "Summary" if lang == "en" else label("summary_sheet", lang)
    write_sheet(wb, summary_title, pd.DataFrame(_summary_rows(s, lang), columns=["item", "value"]), banner=banner,
                 lang=lang)
    ws = wb[summary_title]
    share_key = label("share_no_signal", lang)
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        if isinstance(cell.value, float):
            cell.number_format = "0.0%" if ws.cell(cell.row, 1).value == share_key else "#,##0"
    ws.column_dimensions["A"].width = 55
    ws.column_dimensions["B"].width = 60
    for level, tab in units.items():
        df = _frame(tab, lang)
        if "missing_technologies" not in df.columns:
            df["missing_technologies"] = missing_technologies(tab, lang=lang).to_numpy()
        write_sheet(wb, sheet_name(level, lang), df, banner=banner, lang=lang)
    write_sheet(wb, "Gap clusters" if lang == "en" else label("gap_clusters", lang), _frame(clusters, lang),
                 banner=banner, lang=lang)
    if hamlets is not None:
        write_sheet(wb, "Hamlets" if lang == "en" else level_label("hamlet", lang, plural=True),
                     _frame(hamlets, lang), banner=banner, lang=lang)
    adjustment = (s.get("notes") or {}).get("population_adjustment")
    if adjustment:  # [population] adjust_to: factor per unit
        write_sheet(wb, "Population adjustment" if lang == "en" else "Điều chỉnh dân số",
                    pd.DataFrame(adjustment["units"]), banner=banner, lang=lang)
    write_sheet(wb, "Sources" if lang == "en" else label("sources", lang), sources_frame(s), banner=banner, lang=lang)
    src = wb.worksheets[-1]
    r = src.max_row + 2
    src.cell(row=r, column=1, value=label("model_parameters", lang)).font = Font(bold=True)
    src.cell(row=r, column=2, value=json.dumps(s["model"], ensure_ascii=False, default=_json_default))
    src.cell(row=r + 1, column=1, value=label("generated_by", lang, version=s["covgap_version"])).font = Font(bold=True)
    src.cell(row=r + 2, column=1, value=label("population_note", lang))
    src.cell(row=r + 3, column=1, value=label("method_note", lang))
    dropped = (s.get("notes") or {}).get("dropped")
    if dropped:  # rows dropped by validation and inputs outside the study area (io's notes.dropped)
        title = "Dropped or outside the study area" if lang == "en" else "Bị loại hoặc nằm ngoài vùng nghiên cứu"
        src.cell(row=r + 4, column=1, value=title).font = Font(bold=True)
        src.cell(row=r + 4, column=2, value=json.dumps(dropped, ensure_ascii=False, default=_json_default))
    return save_workbook(wb, path)


def sources_frame(summary: dict) -> pd.DataFrame:
    """Provenance of every input (role, path, layer, source, release, licence, url, sha256, bytes)."""
    cols = ["role", "path", "layer", "source", "release", "licence", "url", "sha256", "bytes"]
    return pd.DataFrame([{c: e.get(c, "") for c in cols} for e in summary["inputs"]], columns=cols)


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
    signal (median over locations, dBm, signal models only) and the coverage probability
    (``coverage_probability_<tech>.tif``, 0-1; 0/1 for the radius model), and the uncovered
    population per cell."""
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
                                     nodata=np.nan, tags=tags,
                                     band_description=f"best signal {tech} (dBm), median over locations"))
        ptags = {**tags, "location_std_db": f"{tc.location_std_db:g}", "threshold_dbm": f"{tc.threshold_dbm}"}
        out.append(write_geotiff(
            directory / f"coverage_probability_{tech}.tif", tc.coverage_probability(), grid, nodata=None, tags=ptags,
            band_description=(f"{tech}: share of locations where the best server reaches the threshold, "
                              f"Phi((median - threshold) / {tc.location_std_db:g} dB)" if tc.signal_dbm is not None
                              and tc.location_std_db > 0 else f"{tech}: covered 1 / not covered 0 (no location "
                              "spread in this model)")))
    out.append(write_geotiff(directory / "uncovered_population.tif", analysis.uncovered_population.astype(np.float32),
                             grid, nodata=None, tags=tags, band_description="people per cell without any signal"))
    if analysis.no_signal_probability is not None:
        spec = (analysis.uncertainty or {}).get("spec", {})
        etags = {**tags, "ensemble_members": str(spec.get("members", "")), "ensemble_seed": str(spec.get("seed", ""))}
        out.append(write_geotiff(directory / "no_signal_probability.tif", analysis.no_signal_probability, grid,
                                 nodata=None, tags=etags,
                                 band_description="share of the uncertainty ensemble's members without any signal "
                                                  "in the cell (0-1)"))
    return out


def write_province_package(analysis: Analysis, directory: str | Path, province: str, *,
                           lang: str = "vi") -> dict[str, Path]:
    """Everything a provincial planner gets, in ``directory``: ``report_<code>.xlsx`` (its communes,
    gap clusters and hamlets), ``report_<code>.pdf`` (one A4 page) and ``report_<code>.html``
    (single file, offline). Returns the paths by kind (``xlsx``, ``pdf``, ``html``)."""
    from .html import write_html_report
    from .pdf import write_pdf_report

    check_lang(lang)
    code = province_view(analysis, province).code
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", code)
    return {
        "xlsx": write_xlsx(analysis, d / f"report_{safe}.xlsx", lang=lang, province=code),
        "pdf": write_pdf_report(analysis, d / f"report_{safe}.pdf", provinces=[code], national=False, lang=lang),
        "html": write_html_report(analysis, d / f"report_{safe}.html", province=code, lang=lang),
    }
