"""People-per-cell helpers that do not depend on how a raster was read.

Rules (GUIDE §2): population counts are never interpolated; every person of the source raster ends
up in exactly one destination cell / admin unit or in an explicitly reported remainder.

- :func:`clean_population` turns a raw band into float64 people with nodata = 0, and says
  what it did (declared nodata, an *undeclared* −99999 sentinel, NaN).
- :func:`regrid_population_sum_preserving` moves people onto another grid in the same CRS:
  block sums when the destination is coarser and aligned, otherwise each source cell's people
  are split by the exact (spherical on geographic grids) area fraction that falls in each
  destination cell.
- :func:`snap_outside_cells` gives populated cells whose centre fell just outside every unit
  (coast, national outline) to the nearest unit within a few cells, and reports what moved.
- :func:`find_overlaps` finds admin polygons that overlap (people would be counted twice).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.ndimage as ndi
import scipy.sparse as sp
from pyproj import Geod
from affine import Affine
from rasterio import features
from shapely import STRtree

from .errors import CRSError, InputError
from .grid import Grid

__all__ = [
    "NODATA_SENTINELS",
    "clean_population",
    "regrid_population_sum_preserving",
    "snap_outside_cells",
    "fractional_unit_weights",
    "fractional_unit_sums",
    "find_overlaps",
]

#: Values used as nodata by common population rasters even when the file does not declare them:
#: WorldPop (−99999), GHS-POP / many GDAL outputs (−3.4028235e38 = −FLT_MAX), −9999.
NODATA_SENTINELS: tuple[float, ...] = (-99999.0, -9999.0, -3.4028234663852886e38)

_GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------- nodata
def clean_population(
    array: np.ndarray, nodata: float | None, *, source: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """Return people per cell as float64 with nodata set to 0 people, and a report of what was done.

    Parameters
    ----------
    array : numpy.ndarray
        The raw band.
    nodata : float or None
        The nodata value the file declares (``None`` when unset).
    source : str
        File name or description, used in the report and in errors.

    Returns
    -------
    population : numpy.ndarray
        float64, same shape, no NaN, no negative value.
    report : dict
        ``source``, ``nodata_declared``, ``nodata_cells`` (cells equal to the declared nodata),
        ``sentinel_cells`` (cells holding a known sentinel from :data:`NODATA_SENTINELS` that the
        file did not declare), ``nan_cells``, ``total_population`` and ``note`` (a sentence for the
        report).

    Raises
    ------
    InputError
        When other negative values or infinities remain (people cannot be negative).

    Examples
    --------
    >>> pop, rep = clean_population(np.array([[1.5, -99999.0], [np.nan, 2.0]]), None, source="x.tif")
    >>> pop.tolist(), rep["sentinel_cells"], rep["nan_cells"]
    ([[1.5, 0.0], [0.0, 2.0]], 1, 1)

    """
    a = np.asarray(array, dtype=np.float64).copy()
    declared = nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata))
    nan = np.isnan(a)
    is_nodata = (a == float(nodata)) & ~nan if declared else np.zeros(a.shape, bool)
    sentinel = np.zeros(a.shape, bool)
    for s in NODATA_SENTINELS:
        sentinel |= np.isclose(a, s, rtol=1e-6, atol=0.0)
    sentinel &= ~is_nodata
    bad = (~nan & ~is_nodata & ~sentinel) & ((a < 0) | ~np.isfinite(a))
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(
            f"population raster {source}: {int(bad.sum())} cells hold negative or infinite values that are not "
            f"nodata (first at row {r}, col {c}: {float(a[r, c])}; declared nodata {nodata!r}). People cannot be "
            "negative. Fix: declare the raster's nodata value (gdal_edit.py -a_nodata VALUE FILE)."
        )
    a[nan | is_nodata | sentinel] = 0.0
    n_nodata, n_sent, n_nan = int(is_nodata.sum()), int(sentinel.sum()), int(nan.sum())
    note = f"population nodata counted as 0 people: {n_nodata} cells equal the declared nodata {nodata!r}"
    if n_sent:
        note += (
            f"; {n_sent} cells hold a nodata sentinel ({', '.join(f'{v:g}' for v in NODATA_SENTINELS)}) "
            "that the file does not declare: treated as nodata (0 people)"
        )
    if n_nan:
        note += f"; {n_nan} NaN cells"
    report = {
        "source": source,
        "nodata_declared": float(nodata) if declared else None,
        "nodata_cells": n_nodata,
        "sentinel_cells": n_sent,
        "nan_cells": n_nan,
        "total_population": float(a.sum()),
        "note": note + ".",
    }
    return a, report


# --------------------------------------------------------------------------- regridding
def _aligned_factor(src: Grid, dst: Grid, *, tol: float = 1e-6) -> tuple[int, int, int, int] | None:
    """(fy, fx, row_off, col_off) when dst cells are whole blocks of fy×fx src cells; else None."""
    sx, sy = src.res
    dx, dy = dst.res
    fx, fy = dx / sx, dy / sy
    if (
        abs(fx - round(fx)) > tol * fx
        or abs(fy - round(fy)) > tol * fy
        or round(fx) < 1
        or round(fy) < 1
    ):
        return None
    co = (src.transform.c - dst.transform.c) / sx
    ro = (dst.transform.f - src.transform.f) / sy
    if abs(co - round(co)) > tol or abs(ro - round(ro)) > tol:
        return None
    return int(round(fy)), int(round(fx)), int(round(ro)), int(round(co))


def _overlap_matrix(src_edges: np.ndarray, dst_edges: np.ndarray, measure) -> sp.csr_matrix:
    """Fraction of each source interval (by ``measure``) inside each destination interval.

    Edges are increasing; ``measure(a, b)`` is the size of [a, b] (linear, or sin-latitude for
    areas).
    """
    s0, s1 = src_edges[:-1], src_edges[1:]
    rows, cols, vals = [], [], []
    j0 = np.searchsorted(dst_edges, s0, side="right") - 1
    j1 = np.searchsorted(dst_edges, s1, side="left")
    full = measure(s0, s1)
    for i in range(len(s0)):
        for j in range(max(j0[i], 0), min(j1[i], len(dst_edges) - 1)):
            a = max(s0[i], dst_edges[j])
            b = min(s1[i], dst_edges[j + 1])
            if b > a:
                rows.append(i)
                cols.append(j)
                vals.append(measure(a, b) / full[i])
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(s0), len(dst_edges) - 1))


def regrid_population_sum_preserving(
    pop: np.ndarray, src_grid: Grid, dst_grid: Grid
) -> tuple[np.ndarray, float]:
    """Move people onto another grid (same CRS) without interpolating counts.

    * Destination coarser and aligned (each destination cell is a whole block of source cells):
      block sums, exact.
    * Otherwise: each source cell's people are split among the destination cells it overlaps in
      proportion to the overlapped **area** (exact spherical area on geographic grids, planar on
      projected ones), i.e. people are assumed uniform within a source cell. Exact in total; the
      within-cell uniformity is the only assumption (documented in the returned array's use).

    Parameters
    ----------
    pop : numpy.ndarray
        People per source cell (no nodata: use :func:`clean_population` first).
    src_grid, dst_grid : covgap.grid.Grid
        Source and destination grids; must share the CRS (reproject the *destination* definition,
        not the counts, when they differ).

    Returns
    -------
    dst_pop : numpy.ndarray
        float64 people per destination cell.
    outside : float
        People of source cells (or parts of them) that fall outside the destination grid. Always
        ``dst_pop.sum() + outside == pop.sum()`` up to float rounding.

    Examples
    --------
    >>> src = Grid.from_bounds(0, 0, 4, 2, res=(1, 1), crs="EPSG:32648")
    >>> dst = Grid.from_bounds(0, 0, 4, 2, res=(2, 2), crs="EPSG:32648")
    >>> regrid_population_sum_preserving(np.arange(8.0).reshape(2, 4), src, dst)
    (array([[10., 18.]]), 0.0)

    """
    pop = np.asarray(pop, dtype=np.float64)
    if pop.shape != src_grid.shape:
        raise InputError(
            f"population array has shape {pop.shape}, but its grid has shape {src_grid.shape}."
        )
    if not src_grid.crs.equals(dst_grid.crs):
        raise CRSError(
            f"population grid CRS {src_grid.crs.to_string()} differs from the destination "
            f"{dst_grid.crs.to_string()}; counts cannot be reprojected by resampling. Fix: compute coverage on the "
            "population grid, or define the destination grid in the population raster's CRS."
        )
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise InputError(
            "population array holds NaN, infinite or negative values. Fix: clean_population() first."
        )
    total = float(pop.sum())
    al = _aligned_factor(src_grid, dst_grid)
    if al is not None:
        fy, fx, r0, c0 = al
        # pad the source so that it starts at dst's origin and spans whole blocks
        ny, nx = dst_grid.shape
        canvas = np.zeros((ny * fy, nx * fx))
        # source rows/cols → canvas rows/cols: canvas index = src index + offset
        sr0, sc0 = max(0, -r0), max(0, -c0)
        cr0, cc0 = max(0, r0), max(0, c0)
        h = min(pop.shape[0] - sr0, canvas.shape[0] - cr0)
        w = min(pop.shape[1] - sc0, canvas.shape[1] - cc0)
        if h > 0 and w > 0:
            canvas[cr0 : cr0 + h, cc0 : cc0 + w] = pop[sr0 : sr0 + h, sc0 : sc0 + w]
        out = canvas.reshape(ny, fy, nx, fx).sum(axis=(1, 3))
        return out, total - float(out.sum())
    # general case: separable overlap fractions (both grids are north-up, axis-aligned)
    sx_edges = src_grid.transform.c + src_grid.transform.a * np.arange(src_grid.nx + 1)
    dx_edges = dst_grid.transform.c + dst_grid.transform.a * np.arange(dst_grid.nx + 1)
    sy_edges = (src_grid.transform.f + src_grid.transform.e * np.arange(src_grid.ny + 1))[::-1]
    dy_edges = (dst_grid.transform.f + dst_grid.transform.e * np.arange(dst_grid.ny + 1))[::-1]
    if src_grid.is_geographic:

        def ymeasure(a, b):
            return np.sin(np.radians(b)) - np.sin(np.radians(a))
    else:

        def ymeasure(a, b):
            return np.asarray(b) - np.asarray(a)

    fxm = _overlap_matrix(sx_edges, dx_edges, lambda a, b: np.asarray(b) - np.asarray(a))
    fym = _overlap_matrix(sy_edges, dy_edges, ymeasure)
    # rows were built south→north; flip both axes to north-up row indices
    c = fym.tocoo()
    fym = sp.csr_matrix((c.data, (src_grid.ny - 1 - c.row, dst_grid.ny - 1 - c.col)), shape=c.shape)
    out = np.asarray((fym.T @ sp.csr_matrix(pop) @ fxm).todense())
    return out, total - float(out.sum())


# --------------------------------------------------------------------------- coast / outline cells
def snap_outside_cells(
    labels: np.ndarray, population: np.ndarray, *, max_cells: int = 2
) -> tuple[np.ndarray, dict[str, Any]]:
    """Give populated cells outside every unit to the nearest unit within ``max_cells`` cells.

    Cell-centre assignment leaves out populated cells whose centre lies just outside the admin
    polygons (a coastal cell whose centre is at sea, a border cell of a slightly different national
    outline). Such people are real residents of the nearest unit; this moves them there, and only
    within ``max_cells`` (Euclidean, in cells) of a labelled cell, so that true outliers stay
    *outside* and are reported.

    Parameters
    ----------
    labels : numpy.ndarray of int
        Unit label per cell, 0 = outside all units.
    population : numpy.ndarray
        People per cell, same shape.
    max_cells : int
        Largest distance in cells to the nearest labelled cell.

    Returns
    -------
    labels : numpy.ndarray
        A new label grid (int32).
    report : dict
        ``snapped_cells``, ``snapped_population``, ``outside_cells`` and ``outside_population``
        (populated cells still outside), ``max_cells``.

    Examples
    --------
    >>> lab = np.array([[1, 0, 0, 0]]); pop = np.array([[1.0, 2.0, 0.0, 5.0]])
    >>> new, rep = snap_outside_cells(lab, pop, max_cells=1)
    >>> new.tolist(), rep["snapped_population"], rep["outside_population"]
    ([[1, 1, 0, 0]], 2.0, 5.0)

    """
    labels = np.asarray(labels)
    population = np.asarray(population, dtype=np.float64)
    if labels.shape != population.shape:
        raise InputError(
            f"labels {labels.shape} and population {population.shape} differ in shape."
        )
    out = labels.astype(np.int32, copy=True)
    outside = labels == 0
    populated_out = outside & (population > 0)
    if not (labels > 0).any() or not populated_out.any():
        return out, {
            "snapped_cells": 0,
            "snapped_population": 0.0,
            "outside_cells": int(populated_out.sum()),
            "outside_population": float(population[populated_out].sum()),
            "max_cells": max_cells,
        }
    dist, (ir, ic) = ndi.distance_transform_edt(outside, return_indices=True)
    take = populated_out & (dist <= max_cells)
    out[take] = labels[ir[take], ic[take]]
    still = populated_out & ~take
    return out, {
        "snapped_cells": int(take.sum()),
        "snapped_population": float(population[take].sum()),
        "outside_cells": int(still.sum()),
        "outside_population": float(population[still].sum()),
        "max_cells": max_cells,
    }


# --------------------------------------------------------------------------- fractional assignment
def fractional_unit_weights(
    units: gpd.GeoDataFrame | gpd.GeoSeries,
    grid: Grid,
    *,
    supersample: int = 8,
    chunk_rows: int = 64,
) -> sp.csr_matrix:
    """Return the fraction of every cell that lies in each unit (the fractional alternative to centres).

    Each cell is split into ``supersample × supersample`` sub-cells whose centres are assigned to
    units; the fraction of sub-cells per unit approximates the area fraction (error ≤ one sub-cell
    row/column along a boundary; exact for boundaries on sub-cell edges). Column 0 holds the fraction
    outside all units, so every row sums to 1.

    Parameters
    ----------
    units : GeoDataFrame or GeoSeries
        Unit polygons (any CRS; reprojected to the grid's). Unit ``k`` (0-based) is column ``k + 1``.
    grid : covgap.grid.Grid
        The population grid.
    supersample : int
        Sub-cells per cell side.
    chunk_rows : int
        Grid rows rasterised at once (bounds memory: ``chunk_rows·nx·supersample²`` int32).

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(ny·nx, n_units + 1)``, row-major cell order.

    Examples
    --------
    >>> from shapely import box
    >>> g = Grid.from_bounds(0, 0, 2, 1, res=(1, 1), crs="EPSG:32648")
    >>> u = gpd.GeoSeries([box(0, 0, 1.5, 1)], crs="EPSG:32648")
    >>> fractional_unit_weights(u, g, supersample=2).toarray().tolist()
    [[0.0, 1.0], [0.5, 0.5]]
    """
    if supersample < 1:
        raise InputError(f"supersample must be ≥ 1, got {supersample}.")
    geoms = units.to_crs(grid.crs.to_wkt()) if units.crs is not None else None
    if geoms is None:
        raise CRSError("unit polygons have no CRS; covgap never guesses one.")
    geoms = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    shapes = [
        (g, k + 1) for k, g in enumerate(geoms.to_numpy()) if g is not None and not g.is_empty
    ]
    n = len(geoms)
    k = int(supersample)
    t = grid.transform
    rows, cols, vals = [], [], []
    for r0 in range(0, grid.ny, chunk_rows):
        r1 = min(grid.ny, r0 + chunk_rows)
        sub = Affine(t.a / k, 0.0, t.c, 0.0, t.e / k, t.f + t.e * r0)
        lab = features.rasterize(
            shapes,
            out_shape=((r1 - r0) * k, grid.nx * k),
            transform=sub,
            fill=0,
            all_touched=False,
            dtype="int32",
        )
        lab = lab.reshape(r1 - r0, k, grid.nx, k).transpose(0, 2, 1, 3).reshape(-1, k * k)
        cell = np.repeat(np.arange(r0 * grid.nx, r1 * grid.nx), k * k)
        key = cell * (n + 1) + lab.ravel()
        uniq, counts = np.unique(key, return_counts=True)
        rows.append(uniq // (n + 1))
        cols.append(uniq % (n + 1))
        vals.append(counts / (k * k))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(grid.ny * grid.nx, n + 1),
    )


def fractional_unit_sums(
    population: np.ndarray, weights: sp.csr_matrix, *, keep_coastal_cells: bool = True
) -> np.ndarray:
    """Sum people per unit with fractional cell assignment; index 0 = outside all units.

    With ``keep_coastal_cells`` (default) a cell that lies partly outside every unit (coast,
    national outline) gives *all* its people to the units it touches, in proportion to their
    fractions: its residents live on the land part. Only cells touching no unit stay outside.
    Without it the result is the plain area-weighted sum (what exactextract computes).
    Either way ``result.sum() == population.sum()`` up to rounding.

    Examples
    --------
    >>> from shapely import box
    >>> g = Grid.from_bounds(0, 0, 2, 1, res=(1, 1), crs="EPSG:32648")
    >>> w = fractional_unit_weights(gpd.GeoSeries([box(0, 0, 1.5, 1)], crs="EPSG:32648"), g, supersample=2)
    >>> fractional_unit_sums(np.array([[10.0, 4.0]]), w).tolist()
    [0.0, 14.0]
    >>> fractional_unit_sums(np.array([[10.0, 4.0]]), w, keep_coastal_cells=False).tolist()
    [2.0, 12.0]
    """
    pop = np.asarray(population, dtype=np.float64).ravel()
    if pop.size != weights.shape[0]:
        raise InputError(f"population has {pop.size} cells, the weights {weights.shape[0]}.")
    w = weights.tocoo()
    val = w.data.astype(np.float64)
    if keep_coastal_cells:
        outside = np.zeros(w.shape[0])
        np.add.at(outside, w.row[w.col == 0], val[w.col == 0])
        inside = 1.0 - outside[w.row]
        val = np.where(
            w.col > 0, val / np.where(inside > 0, inside, 1.0), np.where(inside > 1e-12, 0.0, val)
        )
    return np.bincount(w.col, weights=val * pop[w.row], minlength=w.shape[1])


# --------------------------------------------------------------------------- overlaps
def _area_km2(geom, geographic: bool) -> float:
    if geographic:
        return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6
    return geom.area / 1e6


def find_overlaps(
    gdf: gpd.GeoDataFrame, code_field: str, *, tolerance_km2: float = 0.01
) -> pd.DataFrame:
    """Find admin polygons that overlap by more than ``tolerance_km2`` (people would count twice).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Admin polygons with a CRS (geographic → geodesic areas on WGS 84; projected → planar,
        metres).
    code_field : str
        Field identifying each unit (used in the result).
    tolerance_km2 : float
        Overlaps up to this area are digitising slivers and are not reported.

    Returns
    -------
    pandas.DataFrame
        Columns ``code_a, code_b, index_a, index_b, overlap_km2``, largest overlap first; empty when
        the layer is clean.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"code": ["a", "b", "c"]}, geometry=[box(0, 0, 2000, 1000),
    ...     box(1000, 0, 3000, 1000), box(3000, 0, 4000, 1000)], crs="EPSG:32648")
    >>> find_overlaps(g, "code").to_dict("records")
    [{'code_a': 'a', 'code_b': 'b', 'index_a': 0, 'index_b': 1, 'overlap_km2': 1.0}]

    """
    if gdf.crs is None:
        raise CRSError(
            "admin layer has no CRS; covgap never guesses one. Fix: set it (ogr2ogr -a_srs EPSG:4326)."
        )
    if code_field not in gdf.columns:
        raise InputError(
            f"admin layer has no field {code_field!r}; fields are {[c for c in gdf.columns if c != 'geometry']}."
        )
    geoms = gdf.geometry.make_valid().to_numpy()
    geographic = bool(gdf.crs.is_geographic)
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    rows = []
    codes = gdf[code_field].to_numpy()
    for i, j in zip(left[keep], right[keep], strict=True):
        inter = geoms[i].intersection(geoms[j])
        if inter.is_empty or inter.area == 0:
            continue
        a = _area_km2(inter, geographic)
        if a > tolerance_km2:
            rows.append(
                {
                    "code_a": codes[i],
                    "code_b": codes[j],
                    "index_a": int(i),
                    "index_b": int(j),
                    "overlap_km2": float(a),
                }
            )
    out = pd.DataFrame(rows, columns=["code_a", "code_b", "index_a", "index_b", "overlap_km2"])
    return out.sort_values("overlap_km2", ascending=False, ignore_index=True)
