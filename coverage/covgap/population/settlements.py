"""Settlement points lens: hamlet points on cells without people, populated cells far from any."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..grid import EARTH_RADIUS_M, Grid, unit_vectors


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
