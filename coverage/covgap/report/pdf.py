"""Printable PDF report: one A4 page for the study area and one per province.

Drawn with matplotlib's ``PdfPages`` and the DejaVu Sans font matplotlib ships (it has every
Vietnamese glyph, and the PDF embeds it), so no new system or Python dependency is needed.
Each page: title and SYNTHETIC DEMO banner, key figures, a map of where the people without signal
are, coverage by technology, the ranked sub-units, the hamlets without signal, and the sources.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from ..analysis import Analysis
from .figures import plot_coverage_bars, plot_gap_map
from .i18n import (
    check_lang,
    column_label,
    fmt_int,
    fmt_pct,
    label,
    level_label,
    location_sentence,
    model_title,
    status_label,
    synthetic_banner,
)
from .tables import has_ranges, province_view, ranked_units, with_range_text

__all__ = ["province_page", "national_page", "write_pdf_report"]

_A4 = (8.27, 11.69)
_FONT = "DejaVu Sans"


def _clip(text: object, n: int) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


def _cell(v, col: str, lang: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return ("yes" if v else "no") if lang == "en" else ("có" if v else "không")
    if isinstance(v, (int, float, np.integer, np.floating)):
        if col.endswith("share"):
            return fmt_pct(float(v), lang)
        if col.endswith("_km"):
            s = f"{float(v):.1f}"
            return s.replace(".", ",") if lang == "vi" else s
        return fmt_int(float(v), lang)
    if col == "status":
        return status_label(str(v), lang)
    return str(v)


_ROW_H = 0.0155  # table row height, fraction of the page height (about 13 pt)


def _table(ax, df: pd.DataFrame, cols: list[str], *, lang: str, title: str,
           widths: list[float] | None = None, clip: int = 30) -> None:
    """A plain table drawn with text: wrapped header band, zebra rows, numbers right-aligned.

    As many rows as fit in the axes are drawn; a last line says how many more are in the XLSX.
    """
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    cols = [c for c in cols if c in df.columns]
    page_h = ax.get_position().height
    h = _ROW_H / page_h  # one row in axes units
    ax.text(0, 1.0, title, fontsize=9.5, weight="bold", va="top", family=_FONT)
    if not len(df) or not cols:
        ax.text(0, 1.0 - 1.6 * h, label("none", lang), fontsize=8, va="top", family=_FONT)
        return
    widths = widths or [1.0] * len(cols)
    widths = [w / sum(widths) for w in widths]
    x = np.concatenate([[0], np.cumsum(widths)])
    top = 1.0 - 1.4 * h
    head_h = 2 * h
    fit = int((top - head_h) / h) - 1
    max_rows = len(df) if len(df) <= fit + 1 else fit
    rows = df.head(max_rows)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool for c in cols]
    ax.add_patch(_rect(0, top - head_h, 1, head_h, "#dde5f0"))
    ax_w_in = ax.get_position().width * _A4[0]
    for j, c in enumerate(cols):
        chars = max(6, int(widths[j] * ax_w_in * 72 / (6.0 * 0.70)))
        head = "\n".join(textwrap.wrap(column_label(c, lang), chars)[:2])
        ax.text(x[j] + (widths[j] - 0.005 if numeric[j] else 0.005), top - head_h / 2, head, fontsize=6.0,
                weight="bold", va="center", ha="right" if numeric[j] else "left", family=_FONT, linespacing=1.1)
    for i, row in enumerate(rows[cols].itertuples(index=False)):
        y = top - head_h - (i + 1) * h
        if i % 2 == 1:
            ax.add_patch(_rect(0, y, 1, h, "#f5f7fa"))
        for j, (c, v) in enumerate(zip(cols, row)):
            chars = max(6, int(widths[j] * ax_w_in * 72 / (6.8 * 0.58)))
            ax.text(x[j] + (widths[j] - 0.005 if numeric[j] else 0.005), y + h / 2,
                    _clip(_cell(v, c, lang), min(clip, chars)),
                    fontsize=6.8, va="center", ha="right" if numeric[j] else "left", family=_FONT)
    if len(df) > max_rows:
        ax.text(0, top - head_h - (max_rows + 1) * h - 0.2 * h, label("more_rows", lang, n=len(df) - max_rows),
                fontsize=7, style="italic", va="top", family=_FONT)


def _rect(x, y, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="none")


def _header(fig: Figure, analysis: Analysis, title: str, subtitle: str, lang: str) -> None:
    fig.text(0.05, 0.975, title, fontsize=15, weight="bold", va="top", family=_FONT)
    fig.text(0.05, 0.948, subtitle, fontsize=8.5, va="top", color="#444", family=_FONT)
    if analysis.study.synthetic:
        fig.text(0.05, 0.928, synthetic_banner(lang), fontsize=9, weight="bold",
                 color="#c00000", va="top", family=_FONT,
                 bbox={"facecolor": "#fde9e7", "edgecolor": "#c00000", "boxstyle": "square,pad=0.3"})


def _key_figures(fig: Figure, items: list[tuple[str, str]], *, top: float = 0.905) -> None:
    per_row = 4
    w, h = 0.9 / per_row, 0.042
    for k, (name, value) in enumerate(items):
        r, c = divmod(k, per_row)
        x, y = 0.05 + c * w, top - (r + 1) * (h + 0.006)
        ax = fig.add_axes((x + 0.003, y, w - 0.006, h))
        ax.set_axis_off()
        ax.add_patch(_rect(0, 0, 1, 1, "#f3f6fa"))
        ax.text(0.05, 0.78, _clip(name, 44), fontsize=6.5, va="center", family=_FONT)
        ax.text(0.05, 0.32, value, fontsize=12, weight="bold", va="center", family=_FONT)


def _footer(fig: Figure, analysis: Analysis, lang: str, page: int | None) -> None:
    s = analysis.summary()
    srcs = "; ".join(sorted({f"{e.get('source', '')} ({e.get('licence', '') or '?'})" for e in s["inputs"]}))
    lines = [f"{label('sources', lang)}: {_clip(srcs, 170)}",
             f"{label('model', lang)}: {s['model'].get('model', '')} · {location_sentence(s, lang)}",
             f"{label('method_note', lang)} · {label('population_note', lang)} · "
             f"{label('generated_by', lang, version=s['covgap_version'])}"]
    fig.text(0.05, 0.045, "\n".join(lines), fontsize=6.2, va="top", color="#444", family=_FONT, linespacing=1.5)
    if page is not None:
        fig.text(0.95, 0.012, f"{label('page', lang)} {page}", fontsize=7, ha="right", family=_FONT)


def _hamlet_table(hamlets) -> pd.DataFrame:
    if hamlets is None:
        return pd.DataFrame()
    bad = pd.DataFrame(hamlets.drop(columns="geometry"))
    bad = bad[bad["status"].isin(["no signal", "2G only"])]
    order = bad["status"].map({"no signal": 0, "2G only": 1})
    return bad.assign(_o=order).sort_values(["_o", "distance_to_nearest_site_km"], ascending=[True, False])


def _page(analysis: Analysis, *, title: str, subtitle: str, kf: list[tuple[str, str]], bounds, clusters, hamlets,
          unit, ranked: pd.DataFrame | None, rank_level: str | None, sub_units, lang: str, page: int | None) -> Figure:
    fig = Figure(figsize=_A4)
    _header(fig, analysis, title, subtitle, lang)
    _key_figures(fig, kf)
    n_kf_rows = (len(kf) + 3) // 4
    map_top = 0.905 - n_kf_rows * 0.048 - 0.025
    map_h = 0.29
    ax_map = fig.add_axes((0.09, map_top - map_h, 0.54, map_h))
    plot_gap_map(analysis, ax=ax_map, bounds_lonlat=bounds, lang=lang, clusters=clusters, hamlets=hamlets,
                 subunits=rank_level if unit is not None else None, units=sub_units)
    ax_map.set_title(label("uncovered_map", lang), fontsize=9)
    ax_bar = fig.add_axes((0.74, map_top - 0.12, 0.22, 0.11))
    plot_coverage_bars(analysis, ax=ax_bar, lang=lang, unit=unit)
    ax_bar.set_title("\n".join(textwrap.wrap(label("coverage_by_technology", lang), 34)), fontsize=7.5)
    cl = pd.DataFrame(clusters.drop(columns="geometry")).sort_values("rank") if len(clusters) else pd.DataFrame()
    ax_cl = fig.add_axes((0.67, map_top - map_h, 0.29, map_h - 0.16))
    if has_ranges(cl):
        _table(ax_cl, with_range_text(cl, "population", lang=lang), ["rank", "population"], lang=lang,
               title=label("top_clusters", lang), widths=[0.5, 3.0], clip=40)
    else:
        _table(ax_cl, cl, ["rank", "population", "distance_to_nearest_site_km"], lang=lang,
               title=label("top_clusters", lang), widths=[0.6, 1.1, 1.5])
    y_tab = map_top - map_h - 0.035
    tab_h = (y_tab - 0.065 - 0.015) / 2
    if ranked is not None and rank_level:
        ax_t = fig.add_axes((0.05, y_tab - tab_h, 0.90, tab_h))
        ranges = has_ranges(ranked)
        _table(ax_t, with_range_text(ranked, lang=lang), ["rank", "name", "population", "uncovered",
                                                          "uncovered_share", "without_4G", "missing_technologies"],
               lang=lang, title=label("ranked_units", lang, levels=level_label(rank_level, lang, plural=True)),
               widths=[0.45, 2.0, 1.1, 2.6 if ranges else 1.2, 1.0, 1.2, 2.4], clip=40 if ranges else 30)
        y_tab -= tab_h + 0.015
    ax_h = fig.add_axes((0.05, 0.065, 0.90, y_tab - 0.065))
    _table(ax_h, _hamlet_table(hamlets), ["name", "status", "commune_name", "distance_to_nearest_site_km",
                                          "elevation_m"],
           lang=lang, title=label("hamlets_without_signal", lang), widths=[2.0, 1.3, 2.0, 1.6, 1.0])
    _footer(fig, analysis, lang, page)
    return fig


def _range_kf(low: float, high: float, lang: str) -> tuple[str, str]:
    """Key figure: the ensemble's P10–P90 of people without any signal (the box is too narrow for
    "812 (P10–P90: 540–1,130)" on one line; the tables carry that form)."""
    return ("P10–P90 · " + label("people_no_signal", lang), f"{fmt_int(low, lang)}–{fmt_int(high, lang)}")


def _hamlet_kf(hamlets, lang: str) -> list[tuple[str, str]]:
    if hamlets is None:
        return []
    return [(label("hamlets_no_signal", lang), fmt_int(int((hamlets["status"] == "no signal").sum()), lang)),
            (label("hamlets_2g_only", lang), fmt_int(int((hamlets["status"] == "2G only").sum()), lang))]


def province_page(analysis: Analysis, province: str, *, lang: str = "vi", page: int | None = None) -> Figure:
    """One A4 page for one top-level unit (code or name), ready to print."""
    check_lang(lang)
    v = province_view(analysis, province)
    u = v.unit
    unc = fmt_int(float(u["uncovered"]), lang)
    kf = [(label("population", lang), fmt_int(float(u["population"]), lang)),
          (label("people_no_signal", lang), unc),
          (label("share_no_signal", lang), fmt_pct(float(u["uncovered_share"]), lang)),
          (label("people_without_4G", lang), fmt_int(float(u.get("without_4G", np.nan)), lang)
           if "without_4G" in u.index else "–")]
    if "uncovered_p10" in u.index:
        kf.insert(2, _range_kf(float(u["uncovered_p10"]), float(u["uncovered_p90"]), lang))
    kf += _hamlet_kf(v.hamlets, lang)
    kf.append((label("gap_clusters", lang), fmt_int(len(v.clusters), lang)))
    if "border_belt_uncovered" in u.index:
        kf.append((column_label("border_belt_uncovered", lang), fmt_int(float(u["border_belt_uncovered"]), lang)))
    sub_units = None
    if v.sublevel:
        sub = analysis.units[v.sublevel]
        sub_units = sub[sub["code"].isin(v.subunits["code"])]
    s = analysis.summary()
    title = f"{label('province_report', lang)}: {v.name}"
    subtitle = (f"{label('report_title', lang)} · {level_label(v.level, lang)} {v.code} · "
                f"{label('study_area', lang)}: {analysis.study.name} · {label('model', lang)}: "
                f"{model_title(s['model'])}")
    return _page(analysis, title=title, subtitle=subtitle, kf=kf, bounds=v.bounds_lonlat, clusters=v.clusters,
                 hamlets=v.hamlets, unit=u, ranked=v.subunits, rank_level=v.sublevel, sub_units=sub_units, lang=lang,
                 page=page)


def national_page(analysis: Analysis, *, lang: str = "vi", page: int | None = None) -> Figure:
    """One A4 page for the whole study area, with its top-level units ranked."""
    check_lang(lang)
    s = analysis.summary()
    unc = fmt_int(s["population_uncovered"], lang)
    kf = [(label("population", lang), fmt_int(s["population_total"], lang)),
          (label("people_no_signal", lang), unc),
          (label("share_no_signal", lang), fmt_pct(s["uncovered_share"], lang)),
          (label("people_without_4G", lang), fmt_int(s["population_without_4G"], lang))]
    ens = (s.get("uncertainty") or {}).get("population_uncovered")
    if ens:
        kf.insert(2, _range_kf(ens["p10"], ens["p90"], lang))
    kf += _hamlet_kf(analysis.hamlets, lang)
    kf.append((label("gap_clusters", lang), fmt_int(len(analysis.clusters), lang)))
    if "border_belt" in (s.get("lenses") or {}):
        kf.append((column_label("border_belt_uncovered", lang), fmt_int(s["lenses"]["border_belt"]["uncovered"], lang)))
    levels = list(analysis.units)
    top = levels[0] if levels else None
    ranked = ranked_units(analysis, top) if top else None
    title = f"{label('national_report', lang)}: {analysis.study.name}"
    subtitle = f"{label('report_title', lang)} · {label('model', lang)}: {model_title(s['model'])}"
    return _page(analysis, title=title, subtitle=subtitle, kf=kf, bounds=None, clusters=analysis.clusters,
                 hamlets=analysis.hamlets, unit=None, ranked=ranked, rank_level=top, sub_units=None, lang=lang,
                 page=page)


def write_pdf_report(analysis: Analysis, path: str | Path, *, provinces: str | Sequence[str] | None = "all",
                     national: bool = True, lang: str = "vi") -> Path:
    """Write the PDF: a national page (``national=True``) then one page per province.

    Parameters
    ----------
    provinces : "all", a code/name, a list of them, or None
        Which top-level units get a page (``"all"``: every one, ranked by people without signal).
    national : bool
        Start with the study-area page.
    lang : {"en", "vi"}
    """
    check_lang(lang)
    path = Path(path)
    levels = list(analysis.units)
    if provinces == "all":
        codes = list(ranked_units(analysis, levels[0])["code"]) if levels else []
    elif provinces is None:
        codes = []
    elif isinstance(provinces, str):
        codes = [provinces]
    else:
        codes = list(provinces)
    s = analysis.summary()
    with PdfPages(path, metadata={"Title": s["title"], "Creator": f"covgap {s['covgap_version']}",
                                  "Subject": label("report_title", lang)}) as pdf:
        page = 1
        if national:
            pdf.savefig(national_page(analysis, lang=lang, page=page))
            page += 1
        for code in codes:
            pdf.savefig(province_page(analysis, code, lang=lang, page=page))
            page += 1
    return path
