"""People per cell: nodata cleaning and sum-preserving regridding (never interpolated)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import CRSError, InputError
from ..grid import Grid

#: Values used as nodata by common population rasters even when the file does not declare them:
#: WorldPop (−99999), GHS-POP / many GDAL outputs (−3.4028235e38 = −FLT_MAX), −9999.
NODATA_SENTINELS: tuple[float, ...] = (-99999.0, -9999.0, -3.4028234663852886e38)


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


def pad_population(population: np.ndarray, grid: Grid, n_cells: int) -> tuple[np.ndarray, Grid]:
    """``population`` and its ``grid`` grown by ``n_cells`` cells on every side, with **zero people**
    in the added cells (people are never invented: the sum is unchanged, the original cells keep
    their values exactly). See :meth:`covgap.grid.Grid.padded`.

    Examples
    --------
    >>> g = Grid.from_bounds(0, 0, 200, 100, res=(100, 100), crs="EPSG:32648")
    >>> p, pg = pad_population(np.array([[3.0, 4.5]]), g, 1)
    >>> p.tolist(), pg.shape, float(p.sum())
    ([[0.0, 0.0, 0.0, 0.0], [0.0, 3.0, 4.5, 0.0], [0.0, 0.0, 0.0, 0.0]], (3, 4), 7.5)
    """
    pop = np.asarray(population)
    if pop.shape != grid.shape:
        raise InputError(f"population has shape {pop.shape}, its grid {grid.shape}; they must match.")
    padded = grid.padded(n_cells)
    n = (padded.ny - grid.ny) // 2
    if n == 0:
        return pop, grid
    return np.pad(pop, n, mode="constant", constant_values=0), padded
