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
- :func:`settlement_check` is a data-quality lens: settlement points (hamlets) on cells without people,
  and populated cells far from any settlement point.
- :func:`adjust_to_totals` rescales the people inside each unit so that the unit's sum equals an
  official total, keeping the grid's pattern inside the unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.ndimage as ndi
import scipy.sparse as sp
from affine import Affine
from pyproj import Geod
from rasterio import features
from shapely import STRtree

from .errors import CRSError, InputError
from .grid import EARTH_RADIUS_M, Grid, unit_vectors

__all__ = [
    "NODATA_SENTINELS",
    "clean_population",
    "regrid_population_sum_preserving",
    "aligned_blocks",
    "snap_outside_cells",
    "fractional_unit_weights",
    "fractional_unit_sums",
    "find_overlaps",
    "adjust_to_totals",
    "ADJUSTMENT_COLUMNS",
    "SettlementCheck",
    "settlement_check",
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


def aligned_blocks(src_grid: Grid, dst_grid: Grid) -> tuple[int, int] | None:
    """``(fy, fx)`` when every destination cell is a whole block of ``fy × fx`` source cells (same CRS,
    aligned origins), so that :func:`regrid_population_sum_preserving` uses exact block sums; else ``None``.

    Examples
    --------
    >>> aligned_blocks(Grid.from_bounds(0, 0, 4, 2, res=(1, 1), crs="EPSG:32648"),
    ...                Grid.from_bounds(0, 0, 4, 2, res=(2, 2), crs="EPSG:32648"))
    (2, 2)
    """
    if not src_grid.crs.equals(dst_grid.crs):
        return None
    al = _aligned_factor(src_grid, dst_grid)
    return None if al is None else (al[0], al[1])


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


# --------------------------------------------------------------------------- official totals
#: Columns of the per-unit table returned by :func:`adjust_to_totals`.
ADJUSTMENT_COLUMNS: tuple[str, ...] = (
    "code", "name", "grid_population", "official_population", "factor", "adjusted_population",
    "difference", "year", "source", "status",
)


def adjust_to_totals(
    people: np.ndarray,
    labels: np.ndarray,
    totals: pd.DataFrame,
    *,
    codes: Any,
    names: Any = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rescale the people inside each unit so that the unit's sum equals its official total.

    Inside unit ``u`` every cell is multiplied by ``factor_u = official_u / grid_u``: the grid's
    pattern inside the unit is kept, the unit's sum becomes the official total (the last float
    rounding residual is put on the unit's most populated cell, so ``Σ unit == official`` to
    ~1 ulp of the total). Cells outside all units (label 0) and units without a total are returned
    unchanged, bit for bit.

    Parameters
    ----------
    people : numpy.ndarray
        People per cell (float, no NaN, no negative value: :func:`clean_population` first).
    labels : numpy.ndarray of int
        Unit label per cell, same shape: ``k + 1`` for unit ``codes[k]``, 0 outside all units.
    totals : pandas.DataFrame
        Official totals: columns ``code`` (str) and ``population`` (people, ≥ 0), optionally
        ``year`` and ``source`` (copied into the table). One row per code.
    codes : sequence of str
        Unit codes in label order.
    names : sequence of str, optional
        Unit names in label order (copied into the table).

    Returns
    -------
    adjusted : numpy.ndarray
        float64 people per cell.
    table : pandas.DataFrame
        One row per unit of the label grid, then one per code of ``totals`` that is not a unit;
        columns :data:`ADJUSTMENT_COLUMNS`. ``status`` is

        - ``adjusted``: scaled by ``factor``;
        - ``no_total``: no official total given; left as it is (``factor`` 1);
        - ``zero_grid``: an official total > 0 but no people on the grid inside the unit. Nothing
          can be scaled: the unit keeps 0 people and ``difference`` (official − adjusted) says how
          many people the grid misses there (``factor`` NaN);
        - ``not_in_layer``: a code of ``totals`` that is no unit of the label grid (ignored).

        ``table.attrs`` holds ``grid_total_before``, ``grid_total_after``, ``outside_population``
        (label 0, unchanged), ``units_adjusted``, ``units_without_total`` (codes),
        ``units_zero_grid`` (codes) and ``codes_not_in_layer``.

    Raises
    ------
    InputError
        On shape mismatch, negative or non-finite people or totals, duplicate codes, labels
        outside ``0..len(codes)``, or when no code of ``totals`` matches a unit (wrong level?).

    Examples
    --------
    >>> pop = np.array([[1.0, 3.0, 5.0], [0.0, 2.0, 7.0]])
    >>> lab = np.array([[1, 1, 2], [0, 1, 2]])
    >>> tot = pd.DataFrame({"code": ["A"], "population": [12.0]})
    >>> adj, tab = adjust_to_totals(pop, lab, tot, codes=["A", "B"])
    >>> adj.tolist()
    [[2.0, 6.0, 5.0], [0.0, 4.0, 7.0]]
    >>> tab[["code", "factor", "status"]].to_dict("records")
    [{'code': 'A', 'factor': 2.0, 'status': 'adjusted'}, {'code': 'B', 'factor': 1.0, 'status': 'no_total'}]

    """
    pop = np.asarray(people, dtype=np.float64)
    lab = np.asarray(labels)
    if pop.shape != lab.shape:
        raise InputError(f"people {pop.shape} and labels {lab.shape} must have the same shape.")
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise InputError(
            "people hold NaN, infinite or negative values. Fix: clean_population() first."
        )
    codes = [str(c) for c in codes]
    n = len(codes)
    if len(set(codes)) != n:
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise InputError(f"unit codes {dup} appear more than once; each unit needs a unique code.")
    names = [""] * n if names is None else [str(v) for v in names]
    if len(names) != n:
        raise InputError(f"{len(names)} names for {n} unit codes.")
    if lab.size and (lab.min() < 0 or lab.max() > n):
        raise InputError(f"labels run from {lab.min()} to {lab.max()}; expected 0..{n} (0 = outside all units).")
    for col in ("code", "population"):
        if col not in totals.columns:
            raise InputError(f"official totals need a column {col!r}; columns are {list(totals.columns)}.")
    tcode = totals["code"].astype(str).to_numpy()
    tval = pd.to_numeric(totals["population"], errors="coerce").to_numpy(dtype=np.float64)
    if pd.Series(tcode).duplicated().any():
        dup = sorted(set(pd.Series(tcode)[pd.Series(tcode).duplicated()]))
        raise InputError(f"official totals give codes {dup} more than once; give one total per unit.")
    bad = ~np.isfinite(tval) | (tval < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"official total for code {tcode[i]!r} is {totals['population'].iloc[i]!r}; expected a number of "
            "people ≥ 0."
        )
    year = totals["year"].astype(str).to_numpy() if "year" in totals.columns else np.full(len(tcode), "")
    source = totals["source"].astype(str).to_numpy() if "source" in totals.columns else np.full(len(tcode), "")
    index = {c: i for i, c in enumerate(tcode)}
    if tcode.size and not any(c in index for c in codes):
        raise InputError(
            f"none of the {len(tcode)} codes of the official totals (e.g. {list(tcode[:3])}) is a unit code of "
            f"this admin level (e.g. {codes[:3]}). Fix: give totals for this level's codes, or name the level "
            "they belong to."
        )
    flat_lab = lab.ravel()
    flat_pop = pop.ravel()
    grid = np.bincount(flat_lab, weights=flat_pop, minlength=n + 1)
    factor = np.ones(n + 1)
    rows = []
    for k, c in enumerate(codes):
        g = float(grid[k + 1])
        row = {"code": c, "name": names[k], "grid_population": g, "official_population": np.nan,
               "factor": 1.0, "year": "", "source": "", "status": "no_total"}
        if c in index:
            i = index[c]
            t = float(tval[i])
            row.update(official_population=t, year=year[i], source=source[i])
            if g > 0:
                factor[k + 1] = t / g
                row.update(factor=t / g, status="adjusted")
            elif t > 0:
                row.update(factor=np.nan, status="zero_grid")
            else:
                row.update(factor=1.0, status="adjusted")
        rows.append(row)
    out = np.where(flat_lab > 0, flat_pop * factor[flat_lab], flat_pop)
    adjusted_sum = np.bincount(flat_lab, weights=out, minlength=n + 1)
    # put the rounding residual on each adjusted unit's most populated cell (exact Σ = official)
    order = np.argsort(flat_lab, kind="stable")
    starts = np.searchsorted(flat_lab[order], np.arange(n + 2))
    for k, row in enumerate(rows):
        if row["status"] != "adjusted" or row["grid_population"] <= 0:
            continue
        cells = order[starts[k + 1] : starts[k + 2]]
        top = cells[np.argmax(out[cells])]
        out[top] = max(0.0, out[top] + (row["official_population"] - adjusted_sum[k + 1]))
        adjusted_sum[k + 1] = out[cells].sum()
    out = out.reshape(pop.shape)
    for k, row in enumerate(rows):
        row["adjusted_population"] = float(adjusted_sum[k + 1])
        row["difference"] = (
            row["official_population"] - row["adjusted_population"] if row["status"] != "no_total" else np.nan
        )
    unit_set = set(codes)
    for i, c in enumerate(tcode):
        if c not in unit_set:
            rows.append({"code": c, "name": "", "grid_population": np.nan, "official_population": float(tval[i]),
                         "factor": np.nan, "adjusted_population": np.nan, "difference": np.nan,
                         "year": year[i], "source": source[i], "status": "not_in_layer"})
    table = pd.DataFrame(rows, columns=list(ADJUSTMENT_COLUMNS))
    table.attrs.update(
        grid_total_before=float(pop.sum()),
        grid_total_after=float(out.sum()),
        outside_population=float(grid[0]),
        units_adjusted=int((table["status"] == "adjusted").sum()),
        units_without_total=table.loc[table["status"] == "no_total", "code"].tolist(),
        units_zero_grid=table.loc[table["status"] == "zero_grid", "code"].tolist(),
        codes_not_in_layer=table.loc[table["status"] == "not_in_layer", "code"].tolist(),
    )
    return out, table


# --------------------------------------------------------------------------- settlement points lens
@dataclass
class SettlementCheck:
    """Result of :func:`settlement_check`.

    Attributes
    ----------
    totals : dict
        ``points``, ``points_outside_grid``, ``points_on_empty_cells`` (points whose cell has no
        people), ``populated_cells``, ``population``, ``far_km``, ``populated_cells_far`` (cells with
        people whose centre is more than ``far_km`` from every point), ``people_far``,
        ``people_far_share``.
    units : pandas.DataFrame or None
        The same counts per unit (``code, name, points, points_on_empty_cells, populated_cells,
        populated_cells_far, population, people_far, people_far_share``) when labels were given.
    point_on_empty_cell : numpy.ndarray of bool
        Per point: its cell holds no people (False for points outside the grid).
    far : numpy.ndarray of bool
        Per cell: populated and more than ``far_km`` from every point.
    """

    totals: dict[str, Any]
    units: pd.DataFrame | None
    point_on_empty_cell: np.ndarray
    far: np.ndarray


def settlement_check(
    population: np.ndarray,
    grid: Grid,
    lon: Any,
    lat: Any,
    *,
    far_km: float = 2.0,
    labels: np.ndarray | None = None,
    codes: Any = None,
    names: Any = None,
) -> SettlementCheck:
    """Compare a population grid with settlement points (hamlets): where do they disagree?

    Two counts, a data-quality lens on the people layer (neither is an error by itself):

    * a settlement point on a cell with **no people**: the grid misses a hamlet (or the point is
      misplaced);
    * a **populated cell farther than** ``far_km`` (great-circle, from the cell centre) from every
      point: people the grid puts where no hamlet is known (an unconstrained grid's spread, or a
      hamlet list that is incomplete).

    Parameters
    ----------
    population : numpy.ndarray
        People per cell on ``grid`` (cleaned).
    grid : covgap.grid.Grid
    lon, lat : array-like
        Settlement points, degrees (WGS 84).
    far_km : float
        Distance beyond which a populated cell counts as far from any point.
    labels, codes, names : optional
        A unit label grid (``k + 1`` = unit ``codes[k]``) for the per-unit table.

    Returns
    -------
    SettlementCheck

    Examples
    --------
    >>> g = Grid.from_bounds(105.0, 21.0, 105.03, 21.01, res=(0.01, 0.01), crs="EPSG:4326")
    >>> chk = settlement_check(np.array([[5.0, 0.0, 3.0]]), g, [105.015], [21.005], far_km=1.5)
    >>> chk.totals["points_on_empty_cells"], chk.totals["populated_cells_far"]
    (1, 0)
    >>> settlement_check(np.array([[5.0, 0.0, 3.0]]), g, [105.015], [21.005], far_km=0.5).totals["people_far"]
    8.0
    """
    from scipy.spatial import cKDTree

    pop = np.asarray(population, dtype=np.float64)
    if pop.shape != grid.shape:
        raise InputError(f"population {pop.shape} and grid {grid.shape} differ in shape.")
    if far_km <= 0:
        raise InputError(f"far_km = {far_km}; expected a distance in km > 0.")
    lon = np.atleast_1d(np.asarray(lon, dtype="f8"))
    lat = np.atleast_1d(np.asarray(lat, dtype="f8"))
    if lon.shape != lat.shape or not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise InputError("settlement points need finite lon and lat of the same length.")
    x, y = grid.from_lonlat(lon, lat)
    row, col = grid.rowcol(x, y)
    inside = grid.contains_rowcol(row, col)
    on_empty = np.zeros(lon.shape, bool)
    on_empty[inside] = pop[row[inside], col[inside]] <= 0
    populated = pop > 0
    far = np.zeros(pop.shape, bool)
    if populated.any():
        if lon.size == 0:
            far = populated.copy()
        else:
            clon, clat = grid.lonlat_centres()
            tree = cKDTree(unit_vectors(lon, lat))
            chord, _ = tree.query(unit_vectors(clon[populated], clat[populated]))
            dist_km = 2 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2, 0, 1)) / 1000.0
            far[populated] = dist_km > far_km
    total = float(pop.sum())
    people_far = float(pop[far].sum())
    totals = {"points": int(lon.size), "points_outside_grid": int((~inside).sum()),
              "points_on_empty_cells": int(on_empty.sum()), "populated_cells": int(populated.sum()),
              "population": total, "far_km": float(far_km), "populated_cells_far": int(far.sum()),
              "people_far": people_far, "people_far_share": people_far / total if total > 0 else 0.0}
    units = None
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape != pop.shape:
            raise InputError(f"labels {lab.shape} and population {pop.shape} differ in shape.")
        codes = [str(c) for c in codes]
        n = len(codes)
        pl = np.zeros(lon.shape, dtype=np.int64)
        pl[inside] = lab[row[inside], col[inside]]
        f = lab.ravel()
        units = pd.DataFrame({"code": codes, "name": [str(v) for v in names] if names is not None else [""] * n})
        units["points"] = np.bincount(pl, minlength=n + 1)[1:]
        units["points_on_empty_cells"] = np.bincount(pl, weights=on_empty, minlength=n + 1)[1:].astype(int)
        units["populated_cells"] = np.bincount(f, weights=populated.ravel(), minlength=n + 1)[1:].astype(int)
        units["populated_cells_far"] = np.bincount(f, weights=far.ravel(), minlength=n + 1)[1:].astype(int)
        units["population"] = np.bincount(f, weights=pop.ravel(), minlength=n + 1)[1:]
        units["people_far"] = np.bincount(f, weights=(pop * far).ravel(), minlength=n + 1)[1:]
        units["people_far_share"] = np.divide(units["people_far"], units["population"],
                                              out=np.zeros(n), where=units["population"].to_numpy() > 0)
    return SettlementCheck(totals=totals, units=units, point_on_empty_cell=on_empty, far=far)
