"""Lenses applied to an analysis: per-cell masks and the per-unit / per-cluster columns they add.

The per-cell lenses themselves live in :mod:`covgap.lenses`; this module decides which apply
to a study area (a border needs border lines, terrain needs a DEM) and turns them into table
columns, so that every unit row says how many people (and uncovered people) live in the border
belt, on islands, in rural areas and in the mountains.

Lens definitions used in reports:

* ``border_belt`` — cell centre within ``border_belt_km`` (default 20 km) of the **land** border.
* ``island`` — cells of country parts that do not touch the main landmass.
* ``rural`` — Degree of Urbanisation *rural* class (< 300 people/km²), with density taken over a
  ~1 km² moving window so the 1 km² thresholds apply on fine grids too.
* ``mountain`` — Kapos et al. (2000) mountain classes 1–6 (UNEP-WCMC *Mountain Watch*):
  ≥ 2,500 m; 1,500–2,500 m with slope ≥ 2°; 1,000–1,500 m with slope ≥ 5° or local elevation
  range > 300 m; 300–1,000 m with local elevation range > 300 m (range within a 7 km radius,
  here a 7 km half-width square window).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage

import shapely

from .errors import InputError
from .grid import Grid
from .lenses import border_belt, density_class, distance_to_border_km, island_mask, ruggedness_tri_m
from .overlay import zonal_sum
from .study import StudyArea

__all__ = ["CellLenses", "compute_lenses", "mountain_mask", "lens_columns", "land_border_arc"]


@dataclass
class CellLenses:
    """Per-cell lens masks and values on the study grid."""

    masks: dict[str, np.ndarray] = field(default_factory=dict)
    distance_to_border_km: np.ndarray | None = None
    ruggedness_m: np.ndarray | None = None
    border_belt_km: float = 20.0


def land_border_arc(outline, *, start: tuple[float, float], via: tuple[float, float],
                    end: tuple[float, float]) -> shapely.LineString:
    """The land border as the arc of a country outline between two coastal end points.

    Public boundary files (geoBoundaries ADM0) give the country outline, coast and land border
    together. Where the land border is one continuous stretch, it is the part of the main
    polygon's outline from ``start`` to ``end`` that passes ``via`` (a point on the land
    border); the other arc is the coastline. Points are lon/lat; each is snapped to the nearest
    outline vertex. For Viet Nam: from the Ka Long river mouth at Móng Cái (108.0 E, 21.53 N)
    via Lao Bảo (106.59 E, 16.62 N) to Hà Tiên (104.45 E, 10.42 N).

    Examples
    --------
    >>> sq = shapely.box(0, 0, 10, 10)
    >>> arc = land_border_arc(sq, start=(10, 5), via=(0, 5), end=(5, 0))
    >>> round(arc.length, 6)
    25.0
    """
    geoms = list(shapely.get_parts(outline if not hasattr(outline, "geometry") else shapely.union_all(outline.geometry.values)))
    polys = [g for g in geoms if g.geom_type == "Polygon"]
    if not polys:
        raise InputError("the country outline has no polygon to take the land border from.")
    main = max(polys, key=lambda p: p.area)
    ring = np.asarray(main.exterior.coords)[:-1]
    n = len(ring)

    def nearest(pt):
        return int(np.argmin((ring[:, 0] - pt[0]) ** 2 + (ring[:, 1] - pt[1]) ** 2))

    i0, iv, i1 = nearest(start), nearest(via), nearest(end)
    if len({i0, iv, i1}) < 3:
        raise InputError(f"land border arc: start {start}, via {via} and end {end} snap to the same outline vertex. "
                         "Fix: give three distinct points along the land border.")
    fwd = [(i0 + k) % n for k in range((i1 - i0) % n + 1)]
    arc = fwd if iv in set(fwd) else [(i0 - k) % n for k in range((i0 - i1) % n + 1)]
    return shapely.LineString(ring[arc])


def mountain_mask(dem: np.ndarray, grid: Grid, *, window_km: float = 7.0) -> np.ndarray:
    """Kapos et al. (2000) mountain cells (classes 1–6) from elevation in metres.

    Kapos, V., Rhind, J., Edwards, M., Price, M.F., Ravilious, C. (2000). Developing a map of
    the world's mountain forests. In: Forests in Sustainable Mountain Development, IUFRO
    Research Series 5, CABI, pp. 4–9. NaN elevation is not mountain.

    Examples
    --------
    >>> g = Grid.from_bounds(0, 0, 900, 900, res=(90, 90), crs="EPSG:32648")
    >>> bool(mountain_mask(np.full((10, 10), 3000.0), g).all())
    True
    """
    z = np.asarray(dem, dtype=np.float64)
    known = np.isfinite(z)
    zf = np.where(known, z, np.nanmin(z) if known.any() else 0.0)
    dx, dy = grid.cell_size_m()
    gy, gx = np.gradient(zf)
    slope_deg = np.degrees(np.arctan(np.hypot(gx / dx[:, None], gy / dy[:, None])))
    half_cells_y = max(1, int(round(window_km * 1000 / float(np.mean(dy)))))
    half_cells_x = max(1, int(round(window_km * 1000 / float(np.mean(dx)))))
    size = (2 * half_cells_y + 1, 2 * half_cells_x + 1)
    ler = ndimage.maximum_filter(zf, size=size, mode="nearest") - ndimage.minimum_filter(zf, size=size, mode="nearest")
    m = (zf >= 2500) \
        | ((zf >= 1500) & (slope_deg >= 2)) \
        | ((zf >= 1000) & ((slope_deg >= 5) | (ler > 300))) \
        | ((zf >= 300) & (ler > 300))
    return m & known


def compute_lenses(study: StudyArea, *, border_belt_km: float = 20.0) -> CellLenses:
    """The lenses that apply to ``study`` (each needs its input: border lines, DEM, admin polygons)."""
    out = CellLenses(border_belt_km=border_belt_km)
    if study.border is not None and len(study.border):
        d = distance_to_border_km(study.grid, study.border, max_km=max(border_belt_km * 5, 100.0))
        out.distance_to_border_km = d
        out.masks["border_belt"] = border_belt(d, border_belt_km)
    if study.admin:
        out.masks["island"] = island_mask(study.grid, study.admin[0].units, all_touched=False)
    cell_km2 = float(np.mean(study.grid.cell_area_km2()))
    win = max(1, int(round(1.0 / np.sqrt(cell_km2))))
    pop_1km = ndimage.uniform_filter(study.population, size=win, mode="constant") if win > 1 else study.population
    out.masks["rural"] = density_class(pop_1km, study.grid) == 0
    if study.dem is not None:
        out.masks["mountain"] = mountain_mask(study.dem, study.grid)
        out.ruggedness_m = ruggedness_tri_m(study.dem)
    return out


def _zs(lab: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    return zonal_sum(v, lab, n)[1:]


def lens_columns(labels: np.ndarray, n_units: int, population: np.ndarray, uncovered: np.ndarray,
                 without_4g: np.ndarray, lenses: CellLenses) -> pd.DataFrame:
    """Per-unit columns ``<lens>_population``, ``<lens>_uncovered``, ``<lens>_without_4G``.

    For every lens, ``<lens>_uncovered ≤ <lens>_population`` and the covered part is the
    difference, so covered + uncovered = population holds in every unit and every lens.
    """
    cols: dict[str, np.ndarray] = {}
    for name, m in lenses.masks.items():
        p = np.where(m, population, 0.0)
        cols[f"{name}_population"] = _zs(labels, p, n_units)
        cols[f"{name}_uncovered"] = _zs(labels, np.where(uncovered, p, 0.0), n_units)
        cols[f"{name}_without_4G"] = _zs(labels, np.where(without_4g, p, 0.0), n_units)
    return pd.DataFrame(cols)
