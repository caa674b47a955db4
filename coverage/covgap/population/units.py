"""People and admin units: coast/outline cells snapped to units, fractional assignment, overlaps."""

from __future__ import annotations

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

from ..errors import CRSError, InputError
from ..grid import Grid

_GEOD = Geod(ellps="WGS84")


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
