"""Interactive folium map of an analysis; the builder returns a :class:`folium.Map`.

Layers: hillshade and coverage per technology (PNG image overlays, never one feature per cell),
admin choropleths of the uncovered share with tooltips (population, uncovered, share, missing
technologies), gap clusters (simplified polygons), towers clustered by operator, hamlets without
signal, layer control, legend and scale.

Offline by default: Leaflet 1.9.3 and Leaflet.markercluster are inlined from the
``xstatic-leaflet`` / ``xstatic-leaflet-markercluster`` packages (BSD-2-Clause / MIT), and the
CDN scripts folium would load (jQuery, Bootstrap, Font Awesome, d3) are left out because this map
does not use them. Only base-map tiles need a network; pass ``tiles=None`` for none.

Every text that comes from data (unit, tower, operator, hamlet names) goes through :func:`escape_text`
before it reaches HTML or a JavaScript string.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from functools import lru_cache
from pathlib import Path

import folium
import numpy as np
import rasterio.warp
import shapely
from affine import Affine
from folium.plugins import FastMarkerCluster
from jinja2 import Template
from PIL import Image
from rasterio.enums import Resampling

from ..analysis import SYNTHETIC_LABEL, Analysis
from ..grid import Grid
from .figures import OPERATOR_COLOURS, TECH_COLOURS, hillshade
from .i18n import check_lang, column_label, label, level_label, status_label
from .tables import missing_technologies

__all__ = ["coverage_map", "raster_overlay_rgba", "escape_text", "mercator_rows", "png_data_uri", "offline_assets", "share_colour"]

_MAX_PIXELS = 1600
_SHARE_COLOURS = ["#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026"]
_SHARE_BREAKS = [0.01, 0.05, 0.15, 0.30]


def escape_text(value: object) -> str:
    """HTML-escape text from data so it is safe in HTML, attributes and JS string/template literals.

    Besides ``& < > " '`` this escapes backslash, backtick and ``$`` (folium puts tooltips in JS
    template literals) and turns line breaks into spaces.

    Examples
    --------
    >>> escape_text("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> escape_text("a`${x}`\\\\")
    'a&#96;&#36;{x}&#96;&#92;'
    """
    s = html.escape(str(value), quote=True)
    s = s.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
    return re.sub(r"[\r\n\u2028\u2029]+", " ", s)


def mercator_rows(image: np.ndarray, south: float, north: float) -> np.ndarray:
    """Resample the rows of a lon/lat image (north-up, ``south``..``north`` degrees) so that rows are
    evenly spaced in Web Mercator, as Leaflet stretches an image overlay (nearest row).

    Examples
    --------
    >>> img = np.arange(4)[:, None]
    >>> mercator_rows(img, -1.0, 1.0).ravel().tolist()  # near the equator rows barely move
    [0, 1, 2, 3]
    """
    ny = image.shape[0]

    def merc(lat):
        return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))

    y = merc(north) + (np.arange(ny) + 0.5) / ny * (merc(south) - merc(north))
    lat = np.degrees(2 * np.arctan(np.exp(y)) - np.pi / 2)
    src = np.clip(((north - lat) / (north - south) * ny).astype(np.int64), 0, ny - 1)
    return image[src]


def png_data_uri(rgba: np.ndarray) -> str:
    """``data:image/png;base64,…`` of an RGBA (or grey) uint8 image.

    Images with at most 256 distinct colours (coverage levels) are written as palette PNGs with a
    transparency table, which are several times smaller and faster to encode.
    """
    arr = np.ascontiguousarray(rgba)
    img = None
    if arr.ndim == 3 and arr.shape[2] == 4:
        flat = arr.reshape(-1, 4).view(np.uint32).ravel()
        colours, idx = np.unique(flat, return_inverse=True)
        if len(colours) <= 256:
            pal = colours.view(np.uint8).reshape(-1, 4)
            img = Image.fromarray(idx.reshape(arr.shape[:2]).astype(np.uint8), mode="P")
            img.putpalette(pal[:, :3].ravel().tolist())
            img.info["transparency"] = bytes(pal[:, 3].tolist())
    if img is None:
        img = Image.fromarray(arr)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6, **({"transparency": img.info["transparency"]}
                                                     if "transparency" in img.info else {}))
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def share_colour(share: float) -> str:
    """Choropleth colour of an uncovered share (five classes: <1 %, 1–5 %, 5–15 %, 15–30 %, ≥30 %)."""
    return _SHARE_COLOURS[int(np.searchsorted(_SHARE_BREAKS, share, side="right"))]


@lru_cache(maxsize=1)
def offline_assets() -> str:
    """Inline ``<style>``/``<script>`` of Leaflet and Leaflet.markercluster (images as data URIs)."""
    import xstatic.pkg.leaflet as xl
    import xstatic.pkg.leaflet_markercluster as xm

    ld, md = Path(xl.BASE_DIR), Path(xm.BASE_DIR)
    css = (ld / "leaflet.css").read_text(encoding="utf-8")

    def _img(m: re.Match) -> str:
        p = ld / "images" / m.group(1)
        if not p.is_file():
            return m.group(0)
        return "url(data:image/png;base64," + base64.b64encode(p.read_bytes()).decode("ascii") + ")"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", _img, css)
    css += (md / "MarkerCluster.css").read_text(encoding="utf-8")
    css += (md / "MarkerCluster.Default.css").read_text(encoding="utf-8")
    js = (ld / "leaflet.js").read_text(encoding="utf-8") + "\n" + (md / "leaflet.markercluster.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js).replace("</script", "<\\/script")
    return (f"<!-- Leaflet {xl.VERSION} (BSD-2-Clause) and Leaflet.markercluster {xm.VERSION} (MIT), inlined -->\n"
            f"<style>{css}</style>\n<script>{js}</script>\n")


def _to_lonlat_grid(arr: np.ndarray, grid: Grid, resampling=Resampling.nearest
                    ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Array on a lon/lat grid (warped when the grid is projected)."""
    if grid.is_geographic:
        return arr, grid.bounds
    dst_t, w, h = rasterio.warp.calculate_default_transform(grid.crs.to_wkt(), "EPSG:4326", grid.nx, grid.ny,
                                                            *grid.bounds)
    out = np.zeros((h, w), dtype=arr.dtype)
    rasterio.warp.reproject(arr, out, src_transform=grid.transform, src_crs=grid.crs.to_wkt(), dst_transform=dst_t,
                            dst_crs="EPSG:4326", resampling=resampling)
    west, north = dst_t.c, dst_t.f
    return out, (west, north + dst_t.e * h, west + dst_t.a * w, north)


def raster_overlay_rgba(mask_levels: np.ndarray, colour: tuple[int, int, int], *, max_level: int) -> np.ndarray:
    """RGBA image (uint8) where alpha grows with ``mask_levels`` (e.g. operators covering)."""
    step = max(1, int(np.ceil(max(mask_levels.shape) / _MAX_PIXELS)))
    lv = mask_levels[::step, ::step].astype(np.float32)
    rgba = np.zeros(lv.shape + (4,), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = colour
    rgba[..., 3] = np.where(lv > 0, 70 + 110 * np.clip(lv / max(max_level, 1), 0, 1), 0).astype(np.uint8)
    return rgba


def _hillshade_rgba(analysis: Analysis) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
    s = analysis.study
    if s.dem is None:
        return None
    step = max(1, int(np.ceil(max(s.grid.shape) / _MAX_PIXELS)))
    g = Grid(crs=s.grid.crs, transform=s.grid.transform @ Affine.scale(step, step),
             shape=s.dem[::step, ::step].shape)
    dem = np.nan_to_num(s.dem[::step, ::step].astype(np.float64), nan=float(np.nanmean(s.dem)) if np.isfinite(s.dem).any() else 0.0)
    hs, b = _to_lonlat_grid(hillshade(dem, g).astype(np.float32), g, Resampling.bilinear)
    grey = (255 * hs).astype(np.uint8)
    return np.stack([grey, np.full_like(grey, 150)], axis=-1), b  # grey + alpha (PNG "LA")


def _geojson(gdf, tolerance: float) -> dict:
    g = gdf.copy()
    geoms = shapely.simplify(g.geometry.values, tolerance, preserve_topology=True)
    g["geometry"] = shapely.set_precision(geoms, 1e-5)
    return json.loads(g.to_json(drop_id=True))


def _legend_html(analysis: Analysis, lang: str) -> str:
    def sw(colour: str, text: str, shape: str = "") -> str:
        return (f'<div><span style="display:inline-block;width:12px;height:12px;background:{colour};'
                f'margin-right:4px;{shape}"></span>{text}</div>')

    techs = [t for t in TECH_COLOURS if t in analysis.coverage.technologies]
    rows = [f"<b>{escape_text(label('coverage', lang))}</b>"] + [sw(TECH_COLOURS[t], t) for t in techs]
    rows.append(f"<b>{escape_text(label('share_no_signal', lang))}</b>")
    edges = [0.0] + _SHARE_BREAKS + [1.0]
    for k, c in enumerate(_SHARE_COLOURS):
        rows.append(sw(c, f"{100 * edges[k]:.0f}–{100 * edges[k + 1]:.0f} %"))
    rows.append(sw("#f768a1", escape_text(label("gap_cluster", lang))))
    if analysis.hamlets is not None and len(analysis.hamlets):
        rows.append(sw("#d00000", escape_text(label("hamlets_no_signal", lang)), "border-radius:6px"))
        rows.append(sw("#ff9900", escape_text(label("hamlets_2g_only", lang)), "border-radius:6px"))
    for k, op in enumerate(analysis.coverage.operators):
        rows.append(sw(OPERATOR_COLOURS[k % len(OPERATOR_COLOURS)], escape_text(label("towers_of", lang, operator=op)),
                       "border-radius:6px"))
    return ('<div id="covgap-legend" style="position:fixed;bottom:30px;right:10px;z-index:9999;background:white;'
            'padding:6px;border:1px solid #999;font:12px sans-serif;max-height:45%;overflow:auto">'
            + "".join(rows) + "</div>")


_POINT_CALLBACK = """function (row) {
    var m = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: row[3], weight: 1, fillColor: row[3], fillOpacity: 0.9});
    m.bindTooltip(row[2]);
    return m;
}"""


def coverage_map(analysis: Analysis, *, level: str | None = None, tiles: str | None = "OpenStreetMap",
                 lang: str = "en", offline: bool = True, bounds_lonlat: tuple[float, float, float, float] | None = None,
                 max_clusters: int = 2000) -> folium.Map:
    """Build the interactive gap map (the caller saves or shows it).

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`covgap.analysis.analyse`.
    level : str, optional
        Admin level whose choropleth is shown first (default: the finest level).
    tiles : str or None
        Base map tiles; ``None`` for none. Tiles are the only part that needs a network.
    lang : {"en", "vi"}
        Language of layer names, tooltips and legend.
    offline : bool
        Inline Leaflet and its plugins (default) instead of loading them from CDNs.
    bounds_lonlat : tuple, optional
        ``(west, south, east, north)`` to zoom to (e.g. one province); default the whole grid.
    max_clusters : int
        Draw at most this many gap clusters (the most populous); the layer name says how many of
        how many. Keeps a national map light: cluster outlines follow grid cells.

    Notes
    -----
    Sizes stay bounded at national scale: raster layers are PNGs of at most 1,600 pixels a side,
    polygons are simplified to the grid resolution with coordinates rounded to 1e-5°, towers and
    hamlets are plain JSON arrays drawn by one loop (no per-marker code).
    """
    check_lang(lang)
    s = analysis.study
    w, so, e, n = bounds_lonlat or _bounds_ll(s.grid)
    m = folium.Map(location=[(so + n) / 2, (w + e) / 2], zoom_start=9, tiles=tiles, control_scale=True,
                   max_zoom=18)
    m.options["maxZoom"] = 18  # MarkerCluster needs it on the map when there is no tile layer
    if offline:
        m.default_js = []
        m.default_css = []
        m.get_root().header.add_child(folium.Element(offline_assets()), name="covgap_offline_assets")
    m.fit_bounds([[so, w], [n, e]])
    title = (f"{SYNTHETIC_LABEL} — " if s.synthetic else "") + f"covgap: {label('report_title', lang)} — {s.name}"
    m.get_root().html.add_child(folium.Element(
        f'<div id="covgap-title" style="position:fixed;top:8px;left:50px;z-index:9999;background:white;'
        f'padding:4px 10px;border:1px solid #999;font:bold 14px sans-serif">{escape_text(title)}</div>'))
    m.get_root().header.add_child(folium.Element(f"<title>{escape_text(title)}</title>"))

    hs = _hillshade_rgba(analysis)
    if hs is not None:
        img, b = hs
        folium.raster_layers.ImageOverlay(image=png_data_uri(mercator_rows(img, b[1], b[3])),
                                          bounds=[[b[1], b[0]], [b[3], b[2]]], name=escape_text(label("hillshade", lang)),
                                          show=tiles is None, opacity=0.8).add_to(m)
    n_ops = max(len(analysis.coverage.operators), 1)
    for tech, tc in sorted(analysis.coverage.technologies.items()):
        arr, b = _to_lonlat_grid(tc.n_operators(), s.grid)
        rgb = tuple(int(TECH_COLOURS.get(tech, "#787878")[i:i + 2], 16) for i in (1, 3, 5))
        img = raster_overlay_rgba(arr, rgb, max_level=n_ops)
        folium.raster_layers.ImageOverlay(image=png_data_uri(mercator_rows(img, b[1], b[3])),
                                          bounds=[[b[1], b[0]], [b[3], b[2]]], name=escape_text(label("coverage_layer", lang, tech=tech)),
                                          show=tech == "4G", opacity=1.0).add_to(m)

    if analysis.no_signal_probability is not None:
        prob = np.rint(np.clip(analysis.no_signal_probability, 0.0, 1.0) * 10).astype(np.uint8)
        arr, b = _to_lonlat_grid(prob, s.grid)
        img = raster_overlay_rgba(arr, (200, 0, 0), max_level=10)
        folium.raster_layers.ImageOverlay(image=png_data_uri(mercator_rows(img, b[1], b[3])),
                                          bounds=[[b[1], b[0]], [b[3], b[2]]],
                                          name=escape_text(label("no_signal_probability", lang)),
                                          show=False, opacity=1.0).add_to(m)

    levels = list(analysis.units)
    first = level or (levels[-1] if levels else None)
    tol = 0.5 * float(min(abs(s.grid.res[0]), abs(s.grid.res[1]))) if s.grid.is_geographic else 0.002
    tol = max(tol, 1e-4)
    # admin outlines: also no finer than ~1/3000 of the map width (≈ 300 m for all of Vietnam)
    admin_tol = max(tol, (e - w) / 3000.0) if s.grid.is_geographic else tol
    for lvl in levels:
        tab = analysis.units[lvl]
        g = tab[["geometry"]].copy()
        g["name"] = tab["name"].map(escape_text)
        g["code"] = tab["code"].map(escape_text)
        g["population"] = tab["population"].round(0)
        g["uncovered"] = tab["uncovered"].round(0)
        g["uncovered_pct"] = (100 * tab["uncovered_share"]).round(1)
        g["missing"] = missing_technologies(tab, lang=lang).map(escape_text)
        g["fill"] = tab["uncovered_share"].map(share_colour)
        fields = ["name", "code", "population", "uncovered", "uncovered_pct", "missing"]
        aliases = [label("name", lang), label("code", lang), label("population", lang),
                   column_label("uncovered", lang), column_label("uncovered_share", lang) + " (%)",
                   label("missing_technologies", lang)]
        if "without_4G" in tab.columns:
            g["without_4G"] = tab["without_4G"].round(0)
            fields.append("without_4G")
            aliases.append(column_label("without_4G", lang))
        for c in ("uncovered_p10", "uncovered_p90"):
            if c in tab.columns:
                g[c] = tab[c].round(0)
                fields.append(c)
                aliases.append(column_label(c, lang))
        folium.GeoJson(
            _geojson(g, admin_tol), name=escape_text(label("uncovered_share_by", lang, level=level_label(lvl, lang).lower())),
            show=lvl == first,
            style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555", "weight": 1,
                                      "fillOpacity": 0.55},
            highlight_function=lambda f: {"weight": 3, "color": "#000"},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[escape_text(a) for a in aliases], localize=True),
        ).add_to(m)

    cl = analysis.clusters
    n_all = len(cl)
    if n_all > max_clusters:
        cl = cl.nlargest(max_clusters, "population")
    if len(cl):
        cg = cl[["geometry"]].copy()
        cg["rank"] = cl["rank"]
        cg["population"] = cl["population"].round(0)
        cg["area_km2"] = cl["area_km2"].round(2)
        cg["distance_to_nearest_site_km"] = cl["distance_to_nearest_site_km"].round(1)
        for c in ("uncovered_p10", "uncovered_p90"):
            if c in cl.columns:
                cg[c] = cl[c].round(0)
        for c in cl.columns:
            if c.endswith("_name"):
                cg[c] = cl[c].map(escape_text)
        fields = [c for c in cg.columns if c != "geometry"]
        name = label("gap_clusters", lang) + (f" ({len(cl)} / {n_all})" if n_all > len(cl) else "")
        folium.GeoJson(_geojson(cg, 2 * tol), name=escape_text(name),
                       style_function=lambda f: {"color": "#7a0177", "weight": 1.5, "fillColor": "#f768a1",
                                                 "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(fields=fields, localize=True,
                                                     aliases=[escape_text(column_label(c, lang)) for c in fields]),
                       ).add_to(m)

    sites = analysis.coverage.sites
    for k, op in enumerate(analysis.coverage.operators):
        sub = sites[sites["operator"] == op].groupby("site_id", sort=True).agg(
            lon=("lon", "first"), lat=("lat", "first"), technologies=("technology", lambda t: ", ".join(sorted(set(t)))))
        colour = OPERATOR_COLOURS[k % len(OPERATOR_COLOURS)]
        data = [[round(float(r.lat), 6), round(float(r.lon), 6),
                 f"{escape_text(op)} {escape_text(sid)}: {escape_text(r.technologies)}", colour]
                for sid, r in sub.iterrows()]
        FastMarkerCluster(data, callback=_POINT_CALLBACK, name=escape_text(label("towers_of", lang, operator=op)),
                          options={"disableClusteringAtZoom": 12}).add_to(m)
    hm = analysis.hamlets
    if hm is not None and len(hm):
        bad = hm[hm["status"].isin(["no signal", "2G only"])]
        if len(bad):
            fg = folium.FeatureGroup(name=escape_text(label("hamlets_without_signal", lang)), show=True)
            data = [[round(float(r.lat), 6), round(float(r.lon), 6),
                     f"{escape_text(r.name)}: {escape_text(status_label(r.status, lang))}",
                     "#d00000" if r.status == "no signal" else "#ff9900"] for r in bad.itertuples()]
            _PointLayer(data).add_to(fg)
            fg.add_to(m)
    m.get_root().html.add_child(folium.Element(_legend_html(analysis, lang)))
    folium.LayerControl(collapsed=False).add_to(m)
    if offline:
        _strip_cdn(m)
    return m


class _PointLayer(folium.MacroElement):
    """Circle markers from a JSON array ``[lat, lon, tooltip_html, colour]`` (no clustering)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var data = {{ this.data|tojson }};
            for (var i = 0; i < data.length; i++) {
                var r = data[i];
                L.circleMarker([r[0], r[1]], {radius: 4, color: "#000", weight: 1, fillColor: r[3],
                                              fillOpacity: 1}).bindTooltip(r[2]).addTo({{ this._parent.get_name() }});
            }
        })();
        {% endmacro %}
    """)

    def __init__(self, data):
        super().__init__()
        self._name = "PointLayer"
        self.data = data


def _strip_cdn(m: folium.Map) -> None:
    """Drop the CDN links of every element (their code is inlined by :func:`offline_assets`)."""
    for child in _walk(m):
        if hasattr(child, "default_js"):
            child.default_js = []
        if hasattr(child, "default_css"):
            child.default_css = []


def _walk(el):
    yield el
    for c in list(getattr(el, "_children", {}).values()):
        yield from _walk(c)


def _bounds_ll(grid: Grid) -> tuple[float, float, float, float]:
    w, s, e, n = grid.bounds
    if grid.is_geographic:
        return w, s, e, n
    lon, lat = grid.to_lonlat(np.array([w, e, w, e]), np.array([s, s, n, n]))
    return float(min(lon)), float(min(lat)), float(max(lon)), float(max(lat))
