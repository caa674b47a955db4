"""Static maps and charts (matplotlib) of an analysis, for notebooks, the HTML report and the PDF.

Every plotting function draws on a given ``ax`` (or a new figure) and returns the
:class:`matplotlib.figure.Figure`; nothing is saved or shown here. Rasters are drawn through
:func:`display_window`, which crops to the area asked for and strides so that an image never has
more than about 1,500 pixels a side: national grids stay cheap to draw. Text uses DejaVu Sans
(shipped with matplotlib), which has every Vietnamese glyph.
"""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib.colors as mcolors
import matplotlib.ticker as mticker
import numpy as np
from affine import Affine
from matplotlib.figure import Figure

from ..analysis import SYNTHETIC_LABEL, Analysis
from ..errors import InputError
from ..grid import Grid
from .i18n import column_label, fmt_pct, label, level_label

__all__ = [
    "hillshade",
    "display_window",
    "plot_population",
    "plot_terrain",
    "plot_coverage",
    "plot_coverage_probability",
    "plot_landcover",
    "plot_choropleth",
    "plot_gap_map",
    "plot_coverage_bars",
    "figure_png",
    "OPERATOR_COLOURS",
    "TECH_COLOURS",
]

#: Colours of operators (in the order of ``Coverage.operators``) and technologies, shared with the web map.
OPERATOR_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
TECH_COLOURS = {"2G": "#ffbe3c", "3G": "#46a0ff", "4G": "#28aa50", "5G": "#a03cc8"}
_MAX_PIXELS = 1500
_FONT = "DejaVu Sans"


def hillshade(elevation_m: np.ndarray, grid: Grid, *, azimuth_deg: float = 315.0, altitude_deg: float = 45.0,
              z_factor: float = 1.0) -> np.ndarray:
    """Analytical hillshade in ``[0, 1]`` (Horn 1981 slopes, sun at ``azimuth_deg``/``altitude_deg``).

    Uses the standard formula of Burrough & McDonnell (1998, *Principles of GIS*, §9.3; also GDAL
    ``gdaldem hillshade``): ``cos(zenith)·cos(slope) + sin(zenith)·sin(slope)·cos(azimuth − aspect)``,
    with cell sizes in metres from :meth:`Grid.cell_size_m` (right on geographic grids). The default
    sun (north-west, 45° high) is the cartographic convention. NaN elevation gives NaN.

    Examples
    --------
    >>> g = Grid.from_bounds(0, 0, 3, 3, res=(1, 1), crs="EPSG:32648")
    >>> float(hillshade(np.zeros((3, 3)), g)[1, 1])  # flat ground: sin(45°)
    0.7071...
    """
    z = np.asarray(elevation_m, dtype=np.float64) * z_factor
    if z.shape != grid.shape:
        raise InputError(f"elevation shape {z.shape} != grid shape {grid.shape}.")
    dx, dy = grid.cell_size_m()
    zp = np.pad(z, 1, mode="edge")
    a, b, c = zp[:-2, :-2], zp[:-2, 1:-1], zp[:-2, 2:]
    d, f = zp[1:-1, :-2], zp[1:-1, 2:]
    g, h, i = zp[2:, :-2], zp[2:, 1:-1], zp[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * dx[:, None])
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * dy[:, None])  # rows run south: + = downhill to north
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    zen = np.radians(90.0 - altitude_deg)
    az = np.radians((360.0 - azimuth_deg + 90.0) % 360.0)
    hs = np.cos(zen) * np.cos(slope) + np.sin(zen) * np.sin(slope) * np.cos(az - aspect)
    hs[~np.isfinite(z)] = np.nan
    return np.clip(hs, 0.0, 1.0)


def display_window(grid: Grid, bounds_lonlat: tuple[float, float, float, float] | None = None, *,
                   max_pixels: int = _MAX_PIXELS) -> tuple[tuple[slice, slice], tuple[float, float, float, float]]:
    """Index (row, column slices with a stride) and imshow extent (grid CRS) of the part of ``grid``
    inside ``bounds_lonlat`` (all of it by default), with at most ``max_pixels`` per side."""
    if bounds_lonlat is None:
        r0, r1, c0, c1 = 0, grid.ny, 0, grid.nx
    else:
        w, s, e, n = bounds_lonlat
        x, y = grid.from_lonlat(np.array([w, e, w, e]), np.array([s, s, n, n]))
        rows, cols = grid.rowcol(np.asarray(x), np.asarray(y))
        r0, r1 = max(int(np.min(rows)), 0), min(int(np.max(rows)) + 1, grid.ny)
        c0, c1 = max(int(np.min(cols)), 0), min(int(np.max(cols)) + 1, grid.nx)
        if r1 <= r0 or c1 <= c0:
            raise InputError(f"bounds {bounds_lonlat} lie outside the grid {grid.bounds}.")
    step = max(1, int(np.ceil(max(r1 - r0, c1 - c0) / max_pixels)))
    t = grid.transform
    extent = (t.c + t.a * c0, t.c + t.a * c1, t.f + t.e * r1, t.f + t.e * r0)
    return (slice(r0, r1, step), slice(c0, c1, step)), extent


def _hillshade_window(dem: np.ndarray, grid: Grid, idx: tuple[slice, slice]) -> np.ndarray:
    """Hillshade of the (strided) display window only, not of the whole grid."""
    rs, cs = idx
    step = rs.step or 1
    win = grid.window(rs.start, rs.stop, cs.start, cs.stop)
    sub = dem[idx]
    g = Grid(crs=win.crs, transform=win.transform @ Affine.scale(step, step), shape=sub.shape)
    return hillshade(sub, g)


def _new_ax(ax, figsize=(7.5, 6.0)):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _title(analysis: Analysis, text: str) -> str:
    return f"{SYNTHETIC_LABEL} — {text}" if analysis.study.synthetic else text


def _vector(gdf, grid: Grid):
    return gdf if grid.is_geographic else gdf.to_crs(grid.crs)


def _frame(ax, grid: Grid, extent, *, lang: str) -> None:
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if grid.is_geographic:
        mid = np.radians((extent[2] + extent[3]) / 2)
        ax.set_aspect(1.0 / max(np.cos(mid), 1e-6))
        ax.set_xlabel(label("lon_lat", lang).split(",")[0], fontsize=8)
        ax.set_ylabel(label("lon_lat", lang).split(",")[1].strip(), fontsize=8)
    else:
        ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(5))
    ax.yaxis.set_major_locator(mticker.MaxNLocator(6))


def _admin_outline(ax, analysis: Analysis, grid: Grid, *, level: str | None = None, lw: float = 0.8,
                   colour: str = "#333") -> None:
    levels = list(analysis.units)
    if not levels:
        return
    g = analysis.units[level or levels[0]]
    _vector(g[["geometry"]], grid).boundary.plot(ax=ax, color=colour, linewidth=lw)


def plot_population(analysis: Analysis, *, ax=None, bounds_lonlat=None, lang: str = "en") -> Figure:
    """People per cell (log colour scale) with the coarsest admin level outlined."""
    s = analysis.study
    fig, ax = _new_ax(ax)
    idx, ext = display_window(s.grid, bounds_lonlat)
    pop = s.population[idx]
    pos = pop[pop > 0]
    vmax = float(np.percentile(pos, 99.5)) if pos.size else 1.0
    im = ax.imshow(np.where(pop > 0, pop, np.nan), extent=ext, cmap="YlOrBr", interpolation="nearest",
                   norm=mcolors.LogNorm(vmin=max(vmax / 1e3, 1e-3), vmax=max(vmax, 1e-2)))
    fig.colorbar(im, ax=ax, shrink=0.7, label=label("population_density", lang))
    _admin_outline(ax, analysis, s.grid)
    _frame(ax, s.grid, ext, lang=lang)
    ax.set_title(_title(analysis, label("population", lang)), fontsize=10)
    return fig


def plot_terrain(analysis: Analysis, *, ax=None, bounds_lonlat=None, lang: str = "en",
                 towers: bool = True) -> Figure:
    """Elevation over hillshade, admin outlines and (optionally) the sites, coloured by operator."""
    s = analysis.study
    if s.dem is None:
        raise InputError("this study area has no DEM; terrain cannot be drawn. Fix: add inputs.dem to the config.")
    fig, ax = _new_ax(ax)
    idx, ext = display_window(s.grid, bounds_lonlat)
    hs = _hillshade_window(s.dem, s.grid, idx)
    ax.imshow(hs, extent=ext, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    im = ax.imshow(s.dem[idx], extent=ext, cmap="terrain", alpha=0.45, interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.7, label=label("elevation", lang))
    _admin_outline(ax, analysis, s.grid)
    if towers:
        _plot_sites(ax, analysis, s.grid, lang=lang)
    _frame(ax, s.grid, ext, lang=lang)
    ax.set_title(_title(analysis, label("hillshade", lang)), fontsize=10)
    return fig


def _plot_sites(ax, analysis: Analysis, grid: Grid, *, lang: str, sites=None, size: float = 10) -> None:
    sites = analysis.coverage.sites if sites is None else sites
    for k, op in enumerate(analysis.coverage.operators):
        sub = sites[sites["operator"] == op].drop_duplicates("site_id")
        if not len(sub):
            continue
        x, y = grid.from_lonlat(sub["lon"].to_numpy(), sub["lat"].to_numpy())
        ax.scatter(x, y, s=size, marker="^", color=OPERATOR_COLOURS[k % len(OPERATOR_COLOURS)],
                   edgecolor="k", linewidth=0.3, label=f"{label('towers', lang)}: {op}", zorder=5)


def plot_coverage(analysis: Analysis, technology: str, *, ax=None, bounds_lonlat=None, lang: str = "en") -> Figure:
    """Number of operators covering each cell with ``technology`` (0 = no signal)."""
    cov = analysis.coverage
    if technology not in cov.technologies:
        raise InputError(f"no {technology} coverage in this analysis; it has {sorted(cov.technologies)}.")
    s = analysis.study
    fig, ax = _new_ax(ax)
    idx, ext = display_window(s.grid, bounds_lonlat)
    n = cov.technologies[technology].n_operators()[idx]
    n_ops = max(len(cov.operators), 1)
    base = mcolors.to_rgb(TECH_COLOURS.get(technology, "#777777"))
    colours = [(0.93, 0.93, 0.93)] + [tuple(1 - (1 - c) * (0.35 + 0.65 * k / n_ops) for c in base)
                                      for k in range(1, n_ops + 1)]
    cmap = mcolors.ListedColormap(colours)
    im = ax.imshow(n, extent=ext, cmap=cmap, vmin=-0.5, vmax=n_ops + 0.5, interpolation="nearest")
    cb = fig.colorbar(im, ax=ax, shrink=0.7, ticks=range(n_ops + 1))
    cb.set_label(f"{label('operators', lang)} ({technology}); 0 = {label('no_signal', lang).lower()}")
    _admin_outline(ax, analysis, s.grid)
    _frame(ax, s.grid, ext, lang=lang)
    ax.set_title(_title(analysis, label("coverage_layer", lang, tech=technology)), fontsize=10)
    return fig


def plot_coverage_probability(analysis: Analysis, technology: str, *, coverage: Any = None, ax=None,
                              bounds_lonlat=None, lang: str = "en") -> Figure:
    """Share of each cell's locations where the best ``technology`` server reaches the threshold,
    Φ((median signal − threshold)/σL) (:meth:`TechnologyCoverage.coverage_probability`): 0 white to 1
    dark, with the contour at the run's location percentage (the edge of "covered" in the tables).
    Models without a signal (radius) give 0/1. ``coverage``: another model's coverage of the same
    study grid (e.g. from :func:`covgap.compare.compare_models`) instead of the analysis' own."""
    cov = coverage if coverage is not None else analysis.coverage
    if cov.grid.shape != analysis.study.grid.shape:
        raise InputError(f"coverage grid {cov.grid.shape} != the study grid {analysis.study.grid.shape}.")
    if technology not in cov.technologies:
        raise InputError(f"no {technology} coverage in this analysis; it has {sorted(cov.technologies)}.")
    tc = cov.technologies[technology]
    s = analysis.study
    fig, ax = _new_ax(ax)
    idx, ext = display_window(s.grid, bounds_lonlat)
    prob = tc.coverage_probability()[idx]
    base = mcolors.to_rgb(TECH_COLOURS.get(technology, "#777777"))
    cmap = mcolors.LinearSegmentedColormap.from_list("prob", [(0.97, 0.97, 0.97), base])
    im = ax.imshow(prob, extent=ext, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    cb = fig.colorbar(im, ax=ax, shrink=0.7)
    cb.set_label(label("coverage_probability", lang))
    frac = tc.location_percent / 100.0
    finite = prob[np.isfinite(prob)]
    if finite.size and finite.min() < frac < finite.max():  # a contour needs values on both sides
        ax.contour(prob, levels=[frac], extent=(ext[0], ext[1], ext[3], ext[2]), colors="k", linewidths=0.5)
    _admin_outline(ax, analysis, s.grid)
    _frame(ax, s.grid, ext, lang=lang)
    ax.set_title(_title(analysis, f"{cov.model}: " + label("coverage_probability_layer", lang, tech=technology,
                                                          pct=tc.location_percent, frac=frac)), fontsize=10)
    return fig


#: ESA WorldCover map legend colours (Product User Manual v2.0), by class code.
WORLDCOVER_COLOURS = {10: "#006400", 20: "#ffbb22", 30: "#ffff4c", 40: "#f096ff", 50: "#fa0000", 60: "#b4b4b4",
                      70: "#f0f0f0", 80: "#0064c8", 90: "#0096a0", 95: "#00cf75", 100: "#fae6a0"}


def plot_landcover(analysis: Analysis, landcover: Any = None, *, ax=None, bounds_lonlat=None,
                   lang: str = "en") -> Figure:
    """Land-cover classes as the P.1812 model reads them (``landcover``, a
    :class:`covgap.landcover.LandCover` on the study grid; default the analysis' own), in the
    WorldCover legend colours, each class labelled with its P.1812 clutter height R."""
    lc = landcover if landcover is not None else analysis.study.landcover
    if lc is None:
        raise InputError("this analysis has no land cover: it is read for the p1812 model from [landcover]. "
                         "Fix: add [landcover] to the config, or pass a LandCover.")
    s = analysis.study
    if lc.classes.shape != s.grid.shape:
        raise InputError(f"land cover shape {lc.classes.shape} != the study grid's {s.grid.shape}.")
    fig, ax = _new_ax(ax)
    idx, ext = display_window(s.grid, bounds_lonlat)
    classes = np.asarray(lc.classes)[idx]
    present = [int(c) for c in np.unique(classes) if int(c) in lc.table.classes]
    rgb = np.ones(classes.shape + (3,))
    for code in present:
        rgb[classes == code] = mcolors.to_rgb(WORLDCOVER_COLOURS.get(code, "#777777"))
    ax.imshow(rgb, extent=ext, interpolation="nearest")
    from matplotlib.patches import Patch

    handles = [Patch(color=WORLDCOVER_COLOURS.get(c, "#777777"),
                     label=f"{lc.table[c].name} (R {lc.table[c].height_m:g} m)") for c in present]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.85)
    _admin_outline(ax, analysis, s.grid)
    _frame(ax, s.grid, ext, lang=lang)
    ax.set_title(_title(analysis, label("landcover_layer", lang)), fontsize=10)
    return fig


def plot_choropleth(analysis: Analysis, level: str, column: str = "uncovered_share", *, ax=None, units=None,
                    lang: str = "en", annotate: bool = True) -> Figure:
    """Admin units of ``level`` (or the given ``units`` rows) coloured by ``column``."""
    if level not in analysis.units:
        raise InputError(f"no admin level {level!r}; this analysis has {list(analysis.units)}.")
    g = analysis.units[level] if units is None else units
    fig, ax = _new_ax(ax)
    g = _vector(g, analysis.study.grid)
    share = column.endswith("share")
    g.plot(column=column, ax=ax, cmap="YlOrRd", edgecolor="#555", linewidth=0.5, legend=True,
           vmin=0 if share else None,
           legend_kwds={"shrink": 0.7, "label": column_label(column, lang),
                        **({"format": mticker.PercentFormatter(1.0)} if share else {})})
    if annotate and len(g) <= 60:
        for r in g.itertuples():
            p = r.geometry.representative_point()
            ax.annotate(str(r.name), (p.x, p.y), fontsize=6, ha="center", family=_FONT)
    w, s_, e, n = g.total_bounds
    _frame(ax, analysis.study.grid, (w, e, s_, n), lang=lang)
    ax.set_title(_title(analysis, f"{column_label(column, lang)} — {level_label(level, lang, plural=True)}"),
                 fontsize=10)
    return fig


def plot_gap_map(analysis: Analysis, *, ax=None, bounds_lonlat=None, lang: str = "en", clusters=None, hamlets=None,
                 sites=None, subunits: str | None = None, units=None) -> Figure:
    """Where the people without signal are: hillshade, uncovered people per cell, gap clusters,
    hamlets without signal (red) or with 2G only (orange), sites by operator and admin outlines."""
    s = analysis.study
    fig, ax = _new_ax(ax)
    idx, ext = display_window(s.grid, bounds_lonlat)
    if s.dem is not None:
        ax.imshow(_hillshade_window(s.dem, s.grid, idx), extent=ext, cmap="gray", vmin=0, vmax=1, alpha=0.6,
                  interpolation="nearest")
    unc = analysis.uncovered_population[idx]
    pos = unc[unc > 0]
    if pos.size:
        vmax = float(np.percentile(pos, 99.5))
        im = ax.imshow(np.where(unc > 0, unc, np.nan), extent=ext, cmap="Reds", interpolation="nearest",
                       norm=mcolors.LogNorm(vmin=max(vmax / 1e3, 1e-3), vmax=max(vmax, 1e-2)))
        cb = fig.colorbar(im, ax=ax, shrink=0.7)
        cb.set_label(f"{label('uncovered_map', lang)} ({label('population_density', lang).lower()})", fontsize=7)
        cb.ax.tick_params(labelsize=7)
    cl = analysis.clusters if clusters is None else clusters
    if len(cl):
        cv = _vector(cl[["rank", "geometry"]], s.grid)
        cv.plot(ax=ax, facecolor="#7a0177", edgecolor="none", alpha=0.25)
        for r in cv.head(20).itertuples():
            p = r.geometry.representative_point()
            ax.annotate(f"#{r.rank}", (p.x, p.y), fontsize=7, color="#4a0047", weight="bold", zorder=7)
    levels = list(analysis.units)
    if subunits and subunits in analysis.units:
        sub = analysis.units[subunits] if units is None else units
        if len(sub):  # a partial sub-level (communes of some provinces only) leaves other provinces without
            _vector(sub[["geometry"]], s.grid).boundary.plot(ax=ax, color="#777", linewidth=0.4)
    if levels:
        _admin_outline(ax, analysis, s.grid, lw=1.0)
    _plot_sites(ax, analysis, s.grid, lang=lang, sites=sites, size=14)
    hm = analysis.hamlets if hamlets is None else hamlets
    if hm is not None and len(hm):
        for status, colour in (("no signal", "#d00000"), ("2G only", "#ff9900")):
            sub = hm[hm["status"] == status]
            if len(sub):
                x, y = s.grid.from_lonlat(sub["lon"].to_numpy(), sub["lat"].to_numpy())
                name = label("hamlets_no_signal" if status == "no signal" else "hamlets_2g_only", lang)
                ax.scatter(x, y, s=12, marker="o", color=colour, edgecolor="k", linewidth=0.3, zorder=6,
                           label=name)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="lower right", framealpha=0.85)
    _frame(ax, s.grid, ext, lang=lang)
    ax.set_title(_title(analysis, label("uncovered_map", lang)), fontsize=10)
    return fig


def plot_coverage_bars(analysis: Analysis, *, ax=None, lang: str = "en", unit: Any = None) -> Figure:
    """Population covered by each technology and by any signal (bars), for the study area or one unit row."""
    fig, ax = _new_ax(ax, figsize=(6.0, 3.0))
    if unit is None:
        smry = analysis.summary()
        total = smry["population_total"]
        vals = dict(smry["population_covered_by_technology"])
        vals["any"] = smry["population_covered"]
    else:
        total = float(unit["population"])
        vals = {c[len("covered_"):]: float(unit[c]) for c in unit.index if re.fullmatch(r"covered_([2-5]G|any)", c)}
    names = [k for k in vals if k != "any"] + ["any"]
    shares = [vals[k] / total if total > 0 else 0.0 for k in names]
    colours = [TECH_COLOURS.get(k, "#555555") for k in names]
    shown = [k if k != "any" else label("covered", lang) for k in names]
    ax.barh(shown, shares, color=colours)
    for y, v in enumerate(shares):
        ax.text(min(v, 0.98), y, f" {fmt_pct(v, lang)} ", va="center", ha="right" if v > 0.85 else "left", fontsize=7)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0))
    ax.set_title(label("coverage_by_technology", lang), fontsize=10)
    ax.tick_params(labelsize=7)
    return fig


def figure_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """PNG bytes of ``fig``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
