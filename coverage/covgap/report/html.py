"""Single-file HTML report, national or for one province, that works offline.

Everything is inside the one file: static maps as embedded PNG (matplotlib), tables, the
interactive folium map (offline Leaflet, in an ``<iframe srcdoc>`` so its full-page styles do not
touch the report), sources and licences, and the SYNTHETIC DEMO banner for demo data. Every text
that comes from data is escaped with :func:`covgap.report.maps.escape_text`.
"""

from __future__ import annotations

import base64
import html as _html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import SYNTHETIC_LABEL, Analysis
from .figures import figure_png, plot_choropleth, plot_coverage_bars, plot_gap_map
from .i18n import (
    check_lang,
    column_label,
    data_notes,
    fmt_int,
    fmt_pct,
    fmt_range,
    label,
    level_label,
    location_sentence,
    model_title,
    status_label,
    synthetic_banner,
)
from .maps import coverage_map, escape_text
from .tables import province_view, ranked_units, with_range_text

__all__ = ["html_report", "write_html_report", "html_table"]

_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;line-height:1.4}
h1{font-size:24px;margin-bottom:4px} h2{font-size:18px;border-bottom:2px solid #dde5f0;padding-bottom:3px;margin-top:28px}
.banner{background:#fde9e7;color:#c00000;border:2px solid #c00000;padding:8px 12px;font-weight:bold;margin:8px 0}
.kf{display:flex;flex-wrap:wrap;gap:10px} .kf div{background:#f3f6fa;border:1px solid #dde5f0;padding:8px 12px;min-width:180px}
.kf b{display:block;font-size:20px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th{background:#dde5f0;text-align:left;padding:4px 6px;position:sticky;top:0}
td{padding:3px 6px;border-bottom:1px solid #eee} td.n{text-align:right;font-variant-numeric:tabular-nums}
img.fig{max-width:100%;border:1px solid #ddd;margin:6px 0}
iframe.map{width:100%;height:640px;border:1px solid #999}
.small{font-size:12px;color:#555} .mono{font-family:monospace;font-size:11px}
@media print{iframe.map,#map-status{display:none} h2{page-break-after:avoid} table{page-break-inside:auto}}
"""

# Tells the reader whether the embedded interactive map loaded (and lets a test see it).
_MAP_STATUS_JS = """
<script>
(function () {
  var f = document.getElementById("covgap-map"), s = document.getElementById("map-status");
  if (!f || !s) { return; }
  f.addEventListener("load", function () {
    var ok = false;
    try { ok = !!f.contentDocument.querySelector(".leaflet-control-layers"); } catch (e) { ok = false; }
    f.setAttribute("data-layer-control", ok ? "present" : "missing");
    s.textContent = ok ? s.getAttribute("data-ok") : s.getAttribute("data-fail");
  });
})();
</script>
"""


def _range_note(ens: dict, lang: str) -> str:
    """One sentence on what the P10–P90 ranges are and which inputs the ensemble varied."""
    spec = ens["spec"]
    inputs = []
    if any(v > 0 for v in spec["link_budget_db"].values()):
        inputs.append("link budget ±" + "/".join(f"{v:g}" for v in spec["link_budget_db"].values()) + " dB")
    if spec["location_db"] == "model" or spec["location_db"] > 0:
        inputs.append(f"location {spec['location_db']}" + ("" if spec["location_db"] == "model" else " dB"))
    if spec["tower_position_m"] > 0:
        inputs.append(f"tower position {spec['tower_position_m']:g} m")
    if len(spec["population"]) > 1:
        inputs.append("population grids " + ", ".join(spec["population"]))
    rng = label("people_no_signal_range", lang, members=spec["members"])
    return label("range_note", lang, range=rng, inputs="; ".join(inputs) or "none")


def _num(v, lang: str, col: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return ("yes" if v else "no") if lang == "en" else ("có" if v else "không")
    if col == "p_no_signal":
        return fmt_pct(float(v), lang, digits=0)
    if col.endswith("share"):
        return fmt_pct(float(v), lang)
    if col in ("lon", "lat") or col.endswith(("_lon", "_lat")):
        return f"{float(v):.5f}"
    if col.endswith(("_km", "_km2")):
        s = f"{float(v):,.1f}"
        return s.replace(",", " ").replace(".", ",").replace(" ", ".") if lang == "vi" else s
    return fmt_int(float(v), lang)


def html_table(df: pd.DataFrame, columns: list[str], *, lang: str = "en", max_rows: int | None = None,
               status_cols: tuple[str, ...] = ("status",)) -> str:
    """An escaped HTML table of ``columns`` of ``df`` with human labels and formatted numbers."""
    cols = [c for c in columns if c in df.columns]
    head = "".join(f"<th>{escape_text(column_label(c, lang))}</th>" for c in cols)
    body = []
    shown = df if max_rows is None else df.head(max_rows)
    for row in shown[cols].itertuples(index=False):
        cells = []
        for c, v in zip(cols, row):
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
                cells.append(f'<td class="n">{escape_text(_num(v, lang, c))}</td>')
            elif c in status_cols and isinstance(v, str):
                cells.append(f"<td>{escape_text(status_label(v, lang))}</td>")
            else:
                cells.append(f"<td>{escape_text('' if v is None else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(df) > max_rows:
        more = f'<p class="small">{escape_text(label("more_rows", lang, n=len(df) - max_rows))}</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _img(fig, alt: str) -> str:
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return f'<img class="fig" alt="{escape_text(alt)}" src="data:image/png;base64,{data}">'


def _key_figures(items: list[tuple[str, str]]) -> str:
    return '<div class="kf">' + "".join(f"<div>{escape_text(k)}<b>{escape_text(v)}</b></div>" for k, v in items) + "</div>"


def _sources_html(analysis: Analysis, lang: str) -> str:
    s = analysis.summary()
    rows = pd.DataFrame([{"role": e.get("role", ""), "path": e.get("path", ""), "source": e.get("source", ""),
                          "release": e.get("release", ""), "licence": e.get("licence", ""),
                          "sha256": (e.get("sha256") or "")[:16]} for e in s["inputs"]])
    out = [f"<h2>{escape_text(label('sources', lang))}</h2>",
           html_table(rows, list(rows.columns), lang=lang) if len(rows) else "",
           f"<p><b>{escape_text(label('model_parameters', lang))}</b>: "
           f'<span class="mono">{escape_text(json.dumps(s["model"], ensure_ascii=False, default=str))}</span></p>',
           f"<p><b>{escape_text(label('notes', lang))}</b>: "
           f'<span class="mono">{escape_text(json.dumps(s["notes"], ensure_ascii=False, default=str))}</span></p>',
           f'<p class="small">{escape_text(label("population_note", lang))} {escape_text(label("method_note", lang))}'
           f" {escape_text(location_sentence(s, lang))}"
           + "".join(f" {escape_text(n)}" for n in data_notes(s, lang)) +
           f"<br>{escape_text(label('generated_by', lang, version=s['covgap_version']))}. "
           "Leaflet (BSD-2-Clause), Leaflet.markercluster (MIT).</p>"]
    return "\n".join(out)


def _map_iframe(analysis: Analysis, lang: str, bounds_lonlat=None) -> str:
    doc = coverage_map(analysis, tiles=None, lang=lang, bounds_lonlat=bounds_lonlat).get_root().render()
    ok = "Interactive map loaded." if lang == "en" else "Đã tải bản đồ tương tác."
    fail = ("The interactive map did not load here: open map.html instead." if lang == "en"
            else "Không tải được bản đồ tương tác: hãy mở tệp map.html.")
    return (f'<p id="map-status" class="small" data-ok="{escape_text(ok)}" data-fail="{escape_text(fail)}"></p>'
            f'<iframe id="covgap-map" class="map" title="{escape_text(label("interactive_map", lang))}" '
            f'srcdoc="{_html.escape(doc, quote=True)}"></iframe>' + _MAP_STATUS_JS)


def html_report(analysis: Analysis, *, province: str | None = None, lang: str = "en", interactive_map: bool = True,
                max_rows: int = 50) -> str:
    """The report as one HTML string (UTF-8 text, no external resources).

    Parameters
    ----------
    analysis : Analysis
    province : str, optional
        Code or name of one top-level unit for a province report; default the whole study area.
    lang : {"en", "vi"}
    interactive_map : bool
        Embed the interactive map (adds about 1–3 MB).
    max_rows : int
        Longest table shown (the XLSX has every row).
    """
    check_lang(lang)
    s = analysis.summary()
    st = analysis.study
    levels = list(analysis.units)
    parts: list[str] = []
    if province is None:
        heading = label("national_report", lang)
        place = st.name
        total, unc = s["population_total"], s["population_uncovered"]
        share, w4 = s["uncovered_share"], s["population_without_4G"]
        hamlets = analysis.hamlets
        clusters = analysis.clusters
        bounds = None
        rank_level = levels[0] if levels else None
        ranked = ranked_units(analysis, rank_level) if rank_level else None
        unit = None
        sub_units = None
    else:
        v = province_view(analysis, province)
        heading = label("province_report", lang)
        place = v.name
        unit = v.unit
        total, unc = float(unit["population"]), float(unit["uncovered"])
        share = float(unit["uncovered_share"])
        w4 = float(unit["without_4G"]) if "without_4G" in unit.index else float("nan")
        hamlets, clusters, bounds = v.hamlets, v.clusters, v.bounds_lonlat
        rank_level, ranked = v.sublevel, v.subunits
        sub_units = analysis.units[v.sublevel][analysis.units[v.sublevel]["code"].isin(v.subunits["code"])] \
            if v.sublevel else None
    title = f"{label('report_title', lang)} — {heading}: {place}"
    parts.append(f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
                 f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                 f"<title>{escape_text(((SYNTHETIC_LABEL + ' — ') if st.synthetic else '') + title)}</title>"
                 f"<style>{_CSS}</style></head><body>")
    if st.synthetic:
        parts.append(f'<div class="banner" id="synthetic-banner">{escape_text(synthetic_banner(lang))}</div>')
    parts.append(f"<h1>{escape_text(title)}</h1>")
    parts.append(f'<p class="small">{escape_text(label("study_area", lang))}: {escape_text(st.name)} · '
                 f"{escape_text(label('model', lang))}: {escape_text(model_title(s['model']))} · "
                 f"{escape_text(label('generated_by', lang, version=s['covgap_version']))}</p>")
    unc_text = fmt_int(unc, lang)
    ens = s.get("uncertainty")
    if ens is not None:
        lo, hi = ((ens["population_uncovered"]["p10"], ens["population_uncovered"]["p90"]) if unit is None
                  else (float(unit["uncovered_p10"]), float(unit["uncovered_p90"])))
        unc_text = fmt_range(unc, lo, hi, lang)
    kf = [(label("population", lang), fmt_int(total, lang)),
          (label("people_no_signal", lang), unc_text),
          (label("share_no_signal", lang), fmt_pct(share, lang)),
          (label("people_without_4G", lang), fmt_int(w4, lang) if np.isfinite(w4) else "–")]
    if hamlets is not None:
        kf.append((label("hamlets_no_signal", lang), fmt_int(int((hamlets["status"] == "no signal").sum()), lang)))
        kf.append((label("hamlets_2g_only", lang), fmt_int(int((hamlets["status"] == "2G only").sum()), lang)))
    kf.append((label("gap_clusters", lang), fmt_int(len(clusters), lang)))
    if unit is not None and "border_belt_uncovered" in unit.index:
        kf.append((column_label("border_belt_uncovered", lang), fmt_int(float(unit["border_belt_uncovered"]), lang)))
    elif unit is None and "border_belt" in (s.get("lenses") or {}):
        kf.append((column_label("border_belt_uncovered", lang), fmt_int(s["lenses"]["border_belt"]["uncovered"], lang)))
    parts.append(f"<h2>{escape_text(label('key_figures', lang))}</h2>" + _key_figures(kf))
    if ens is not None:
        parts.append(f'<p class="small" id="ensemble-note">{escape_text(_range_note(ens, lang))}</p>')

    parts.append(f"<h2>{escape_text(label('static_maps', lang))}</h2>")
    parts.append(_img(plot_gap_map(analysis, bounds_lonlat=bounds, lang=lang, clusters=clusters, hamlets=hamlets,
                                   subunits=rank_level if province else None, units=sub_units),
                      label("uncovered_map", lang)))
    if rank_level:
        parts.append(_img(plot_choropleth(analysis, rank_level, units=sub_units, lang=lang),
                          label("share_axis", lang)))
    parts.append(_img(plot_coverage_bars(analysis, lang=lang, unit=unit), label("coverage_by_technology", lang)))

    if ranked is not None and rank_level:
        parts.append(f"<h2>{escape_text(label('ranked_units', lang, levels=level_label(rank_level, lang, plural=True)))}</h2>")
        cols = ["rank", "name", "code", "population", "uncovered", "uncovered_share", "without_4G",
                "border_belt_uncovered", "missing_technologies", "sites"]
        parts.append(html_table(with_range_text(ranked, lang=lang), cols + ["top_n_share"], lang=lang,
                                max_rows=max_rows))
    parts.append(f"<h2>{escape_text(label('top_clusters', lang))}</h2>")
    if len(clusters):
        ccols = ["rank", "population", "area_km2", "distance_to_nearest_site_km", "province_name", "commune_name",
                 "missing_technologies", "elevation_mean_m", "distance_to_border_km"]
        parts.append(html_table(with_range_text(pd.DataFrame(clusters.drop(columns="geometry")).sort_values("rank"),
                                                "population", lang=lang), ccols, lang=lang, max_rows=max_rows))
    else:
        parts.append(f"<p>{escape_text(label('none', lang))}</p>")
    if hamlets is not None:
        parts.append(f"<h2>{escape_text(label('hamlets_without_signal', lang))}</h2>")
        bad = pd.DataFrame(hamlets.drop(columns="geometry"))
        bad = bad[bad["status"].isin(["no signal", "2G only"])]
        bad = bad.assign(_o=bad["status"].map({"no signal": 0, "2G only": 1})).sort_values(
            ["_o", "distance_to_nearest_site_km"], ascending=[True, False])
        hcols = ["name", "status", "p_no_signal",
                 "province_name", "commune_name", "distance_to_nearest_site_km", "elevation_m",
                 "lon", "lat"]
        parts.append(html_table(bad, hcols, lang=lang, max_rows=max_rows) if len(bad)
                     else f"<p>{escape_text(label('none', lang))}</p>")
    if interactive_map:
        parts.append(f"<h2>{escape_text(label('interactive_map', lang))}</h2>")
        parts.append(_map_iframe(analysis, lang, bounds))
    parts.append(_sources_html(analysis, lang))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_html_report(analysis: Analysis, path: str | Path, *, province: str | None = None, lang: str = "en",
                      interactive_map: bool = True) -> Path:
    """Write :func:`html_report` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(html_report(analysis, province=province, lang=lang, interactive_map=interactive_map),
                    encoding="utf-8")
    return path
