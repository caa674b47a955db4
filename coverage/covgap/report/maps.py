"""Interactive folium map of an analysis; the builder returns a :class:`folium.Map`.

Layers: coverage per technology (image overlays, never one feature per cell), admin
choropleths of the uncovered share with tooltips, gap clusters, towers by operator,
layer control, legend and scale. Text from data is HTML-escaped.
"""

from __future__ import annotations

import html

import branca.colormap as cm
import folium
import numpy as np
import rasterio.warp
from folium.plugins import MarkerCluster
from rasterio.enums import Resampling

from ..analysis import SYNTHETIC_LABEL, Analysis
from ..grid import Grid

__all__ = ["coverage_map", "raster_overlay_rgba"]

_OPERATOR_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
_TECH_COLOURS = {"2G": (255, 190, 60), "3G": (70, 160, 255), "4G": (40, 170, 80), "5G": (160, 60, 200)}
_MAX_PIXELS = 1600


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def _to_lonlat_grid(arr: np.ndarray, grid: Grid) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Array on a lon/lat grid (warped with nearest neighbour when the grid is projected)."""
    if grid.is_geographic:
        return arr, grid.bounds
    dst_t, w, h = rasterio.warp.calculate_default_transform(grid.crs.to_wkt(), "EPSG:4326", grid.nx, grid.ny,
                                                            *grid.bounds)
    out = np.zeros((h, w), dtype=arr.dtype)
    rasterio.warp.reproject(arr, out, src_transform=grid.transform, src_crs=grid.crs.to_wkt(), dst_transform=dst_t,
                            dst_crs="EPSG:4326", resampling=Resampling.nearest)
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


def coverage_map(analysis: Analysis, *, level: str | None = None, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """Build the interactive gap map (the caller saves or shows it).

    Parameters
    ----------
    analysis : Analysis
        Result of :func:`covgap.analysis.analyse`.
    level : str, optional
        Admin level for the choropleth shown first (default: the finest level).
    tiles : str or None
        Base map tiles; ``None`` for none (works offline).
    """
    s = analysis.study
    w, so, e, n = _bounds_ll(s.grid)
    m = folium.Map(location=[(so + n) / 2, (w + e) / 2], zoom_start=9, tiles=tiles, control_scale=True)
    m.fit_bounds([[so, w], [n, e]])
    title = (f"{SYNTHETIC_LABEL} — " if s.synthetic else "") + f"covgap: mobile coverage gaps — {s.name}"
    m.get_root().html.add_child(folium.Element(
        f'<div id="covgap-title" style="position:fixed;top:8px;left:50px;z-index:9999;background:white;'
        f'padding:4px 10px;border:1px solid #999;font:bold 14px sans-serif">{_esc(title)}</div>'))
    m.get_root().header.add_child(folium.Element(f"<title>{_esc(title)}</title>"))
    n_ops = max(len(analysis.coverage.operators), 1)
    for tech, tc in sorted(analysis.coverage.technologies.items()):
        arr, b = _to_lonlat_grid(tc.n_operators(), s.grid)
        img = raster_overlay_rgba(arr, _TECH_COLOURS.get(tech, (120, 120, 120)), max_level=n_ops)
        folium.raster_layers.ImageOverlay(image=img, bounds=[[b[1], b[0]], [b[3], b[2]]], mercator_project=True,
                                          name=f"{tech} coverage (darker = more operators)", show=tech == "4G",
                                          opacity=1.0).add_to(m)
    levels = list(analysis.units)
    first = level or (levels[-1] if levels else None)
    cmap = cm.LinearColormap(["#ffffcc", "#fd8d3c", "#bd0026"], vmin=0.0, vmax=1.0,
                             caption="Share of people without any mobile signal")
    for lvl in levels:
        tab = analysis.units[lvl]
        g = tab[["code", "name", "population", "uncovered", "uncovered_share", "without_4G", "geometry"]].copy()
        g["geometry"] = g.geometry.simplify(0.002, preserve_topology=True)
        g["name"] = g["name"].map(_esc)
        g["code"] = g["code"].map(_esc)
        g["population"] = g["population"].round(0)
        g["uncovered"] = g["uncovered"].round(0)
        g["without_4G"] = g["without_4G"].round(0)
        g["uncovered_pct"] = (100 * g["uncovered_share"]).round(1)
        folium.GeoJson(
            g.drop(columns="uncovered_share").to_json(), name=f"Uncovered share by {lvl}", show=lvl == first,
            style_function=lambda f, _c=cmap: {"fillColor": _c(f["properties"]["uncovered_pct"] / 100),
                                              "color": "#555", "weight": 1, "fillOpacity": 0.55},
            tooltip=folium.GeoJsonTooltip(fields=["name", "code", "population", "uncovered", "uncovered_pct", "without_4G"],
                                          aliases=["Name", "Code", "Population", "No signal", "No signal (%)", "Without 4G"]),
        ).add_to(m)
    cmap.add_to(m)
    cl = analysis.clusters
    if len(cl):
        cg = cl[["rank", "population", "area_km2", "distance_to_nearest_site_km", "geometry"]].copy()
        for c in cl.columns:
            if c.endswith("_name"):
                cg[c] = cl[c].map(_esc)
        cg["population"] = cg["population"].round(0)
        cg["area_km2"] = cg["area_km2"].round(2)
        cg["distance_to_nearest_site_km"] = cg["distance_to_nearest_site_km"].round(1)
        fields = [c for c in cg.columns if c != "geometry"]
        folium.GeoJson(cg.to_json(), name="Gap clusters (no signal)",
                       style_function=lambda f: {"color": "#7a0177", "weight": 1.5, "fillColor": "#f768a1", "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(fields=fields)).add_to(m)
    sites = analysis.coverage.sites
    for k, op in enumerate(analysis.coverage.operators):
        fg = folium.FeatureGroup(name=f"Towers: {_esc(op)}", show=True)
        cluster = MarkerCluster(disable_clustering_at_zoom=12).add_to(fg)
        sub = sites[sites["operator"] == op].groupby("site_id", sort=True).agg(
            lon=("lon", "first"), lat=("lat", "first"), technologies=("technology", lambda t: ", ".join(sorted(set(t)))))
        colour = _OPERATOR_COLOURS[k % len(_OPERATOR_COLOURS)]
        for sid, r in sub.iterrows():
            folium.CircleMarker([r.lat, r.lon], radius=5, color=colour, fill=True, fill_opacity=0.9,
                                tooltip=f"{_esc(op)} {_esc(sid)}: {_esc(r.technologies)}").add_to(cluster)
        fg.add_to(m)
    if analysis.hamlets is not None and len(analysis.hamlets):
        fg = folium.FeatureGroup(name="Hamlets without signal", show=True)
        for r in analysis.hamlets[analysis.hamlets["status"].isin(["no signal", "2G only"])].itertuples():
            folium.CircleMarker([r.lat, r.lon], radius=3, color="#000", fill=True, fill_color="#ffff00",
                                tooltip=f"{_esc(r.name)}: {_esc(r.status)}").add_to(fg)
        fg.add_to(m)
    legend = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:rgb{c};margin-right:4px"></span>{t}</div>'
        for t, c in _TECH_COLOURS.items() if t in analysis.coverage.technologies)
    m.get_root().html.add_child(folium.Element(
        f'<div id="covgap-legend" style="position:fixed;bottom:30px;left:10px;z-index:9999;background:white;padding:6px;'
        f'border:1px solid #999;font:12px sans-serif"><b>Coverage</b>{legend}'
        f'<div><span style="display:inline-block;width:12px;height:12px;background:#f768a1;margin-right:4px"></span>'
        f'Gap cluster</div></div>'))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _bounds_ll(grid: Grid) -> tuple[float, float, float, float]:
    w, s, e, n = grid.bounds
    if grid.is_geographic:
        return w, s, e, n
    lon, lat = grid.to_lonlat(np.array([w, e, w, e]), np.array([s, s, n, n]))
    return float(min(lon)), float(min(lat)), float(max(lon)), float(max(lat))
