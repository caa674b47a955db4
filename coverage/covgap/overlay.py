"""Population overlay: who is covered, summed per admin unit.

Boundary rule: a cell belongs to the unit that contains its **centre** (rasterised with
``all_touched=False``), so every person on the grid is in exactly one unit's total or in
the reported *outside all units* remainder. Sums use ``numpy.bincount`` on the label grid
(exact, no interpolation). Cell-centre assignment moves whole border cells; the per-unit
difference from a fractional method (exactextract) is measured in the tests.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio import features

from ._zonal_kernels import _zonal_layers, _zonal_sum_parallel
from .errors import InputError
from .grid import Grid
from .models.base import Coverage
from .models.location import REPORTED_LOCATION_PERCENTS

__all__ = ["rasterize_units", "zonal_sum", "zonal_layer_sums", "unit_table", "dependency_masks", "UNIT_COLUMNS"]

#: Columns of a per-unit coverage table, in order (technology columns are inserted).
UNIT_COLUMNS = ("code", "name", "level", "population", "covered_any", "uncovered", "uncovered_share",
                "uncovered_area_km2", "sites")


def rasterize_units(units: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """Label grid: ``k + 1`` where the cell centre lies in ``units.iloc[k]``, 0 elsewhere.

    Where polygons overlap, the later one wins (detect overlaps before: people must not
    be counted twice — see :func:`covgap.population.find_overlaps`).
    """
    geoms = units.to_crs(grid.crs.to_wkt()).geometry.values
    shapes = ((g, k + 1) for k, g in enumerate(geoms) if g is not None and not g.is_empty)
    return features.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0,
                              all_touched=False, dtype="int32")


def zonal_sum(values: np.ndarray, labels: np.ndarray, n_units: int) -> np.ndarray:
    """Σ ``values`` per label ``1..n_units`` (index 0 of the result = outside all units).

    One parallel pass with float64 accumulators in a fixed order (the result does not depend
    on the thread count); the same sums as ``numpy.bincount`` without its int64/float64
    copies of the grids (benchmark B3). Labels outside ``0..n_units`` are an error.

    Examples
    --------
    >>> zonal_sum(np.array([[1., 2.], [3., 4.]]), np.array([[1, 1], [0, 2]]), 2)
    array([3., 3., 4.])
    """
    v = np.ascontiguousarray(values)
    lab = np.ascontiguousarray(labels)
    if v.shape != lab.shape:
        raise InputError(f"values {v.shape} and labels {lab.shape} must have the same shape.")
    if v.dtype == bool:
        v = v.astype(np.float64)
    out, bad = _zonal_sum_parallel(lab, v, int(n_units))
    if bad:
        raise InputError(f"{int(bad)} label cell(s) outside 0..{n_units}. Fix: labels must come from "
                         "covgap.overlay.rasterize_units with the same units table.")
    return out


def zonal_layer_sums(labels: np.ndarray, population: np.ndarray, bits: np.ndarray,
                     n_units: int) -> tuple[np.ndarray, int, int]:
    """People per label and per coverage layer in one pass.

    Parameters
    ----------
    labels : ndarray of int, shape (ny, nx)
        ``0`` outside all units, ``k + 1`` for unit ``k``.
    population : ndarray of float, shape (ny, nx)
    bits : ndarray of uint32, shape (n_layers, ny, nx)
        Operator bits per layer (technology); a cell counts as covered in a layer when non-zero.
    n_units : int

    Returns
    -------
    sums : ndarray of float64, shape (n_units + 1, n_layers + 2)
        Per label: population, covered per layer, covered by any layer.
    bad_label, bad_value : int
        Cells with a label outside ``0..n_units`` and cells with non-finite population (not summed).
    """
    out = np.zeros((int(n_units) + 1, bits.shape[0] + 2))
    bad_label, bad_value = _zonal_layers(np.ascontiguousarray(labels), np.ascontiguousarray(population),
                                         np.ascontiguousarray(bits), int(n_units), out)
    return out, int(bad_label), int(bad_value)


def unit_table(level: str, units: gpd.GeoDataFrame, labels: np.ndarray, population: np.ndarray,
               coverage: Coverage, cell_area_km2: np.ndarray) -> pd.DataFrame:
    """Per-unit population and coverage table (one row per unit, plus nothing else).

    Columns: ``code, name, level, population, covered_<tech>… , without_4G, covered_any,
    uncovered, uncovered_share, uncovered_area_km2, single_operator, single_site, sites`` where
    *uncovered* means no signal from any technology of any operator, *uncovered_area_km2* is the
    area of cells (populated or not) without any signal, *single_operator* / *single_site* are the
    people who would lose all signal if that one operator / site failed (see
    :func:`dependency_masks`), and *sites* counts distinct ``site_id`` located in the unit.
    Then ``covered_any_p50, covered_any_p90, covered_<tech>_p50, covered_<tech>_p90``: people
    covered at 50 % and at 90 % of locations (the best server's signal exceeded at that share of
    the cell's locations reaches the threshold, :meth:`Coverage.covered_at`), whatever location
    percentage the model's own ``covered_*`` columns use; for the radius model they equal
    ``covered_any`` / ``covered_<tech>``.
    The remainder outside all units is in ``table.attrs["outside"]``.
    """
    n = len(units)
    area = np.broadcast_to(cell_area_km2, population.shape)
    covered_any = coverage.any_covered()
    out = pd.DataFrame({"code": units["code"].to_numpy(), "name": units["name"].to_numpy(), "level": level})
    tot = zonal_sum(population, labels, n)
    out["population"] = tot[1:]
    outside = {"population": float(tot[0])}
    for tech in sorted(coverage.technologies):
        s = zonal_sum(np.where(coverage.covered(tech), population, 0.0), labels, n)
        out[f"covered_{tech}"] = s[1:]
        outside[f"covered_{tech}"] = float(s[0])
    cov4 = out["covered_4G"] if "covered_4G" in out else 0.0
    out["without_4G"] = out["population"] - cov4
    s = zonal_sum(np.where(covered_any, population, 0.0), labels, n)
    out["covered_any"] = s[1:]
    out["uncovered"] = out["population"] - out["covered_any"]
    outside["covered_any"] = float(s[0])
    outside["uncovered"] = outside["population"] - outside["covered_any"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["uncovered_share"] = np.where(out["population"] > 0, out["uncovered"] / out["population"], 0.0)
    out["uncovered_area_km2"] = zonal_sum(np.where(covered_any, 0.0, area), labels, n)[1:]
    single_op, single_site = dependency_masks(coverage)
    out["single_operator"] = zonal_sum(np.where(single_op, population, 0.0), labels, n)[1:]
    out["single_site"] = zonal_sum(np.where(single_site, population, 0.0), labels, n)[1:]
    out["sites"] = _sites_per_unit(coverage, labels, n)
    for pct in REPORTED_LOCATION_PERCENTS:
        s = zonal_sum(np.where(coverage.any_covered_at(pct), population, 0.0), labels, n)
        out[f"covered_any_p{pct}"] = s[1:]
        outside[f"covered_any_p{pct}"] = float(s[0])
    for tech in sorted(coverage.technologies):
        for pct in REPORTED_LOCATION_PERCENTS:
            s = zonal_sum(np.where(coverage.covered_at(tech, pct), population, 0.0), labels, n)
            out[f"covered_{tech}_p{pct}"] = s[1:]
            outside[f"covered_{tech}_p{pct}"] = float(s[0])
    out.attrs["outside"] = outside
    return out


def dependency_masks(coverage: Coverage) -> tuple[np.ndarray, np.ndarray]:
    """Cells that lose all signal if one operator, or one site, fails.

    *single operator*: covered, and exactly one operator serves the cell (any technology).
    *single site*: covered, and every technology that reaches the cell does so from exactly one
    transmitter, all at the same site (``site_id``).
    """
    bits = coverage.operator_bits_any()
    single_op = (bits != 0) & ((bits & (bits - np.uint32(1))) == 0)
    site_codes = pd.factorize(coverage.sites["site_id"])[0].astype(np.int64)
    site = np.full(coverage.grid.shape, -1, dtype=np.int64)
    ok = np.ones(coverage.grid.shape, dtype=bool)
    for tc in coverage.technologies.values():
        cov = tc.covered
        ok &= ~cov | (tc.n_sites == 1)
        this = np.where(cov, site_codes[np.maximum(tc.serving_site, 0)], -1)
        clash = cov & (site >= 0) & (site != this)
        ok &= ~clash
        site = np.where(cov & (site < 0), this, site)
    return single_op, ok & (site >= 0)


def _sites_per_unit(coverage: Coverage, labels: np.ndarray, n: int) -> np.ndarray:
    sites = coverage.sites.drop_duplicates("site_id")
    grid = coverage.grid
    x, y = grid.from_lonlat(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    r, c = grid.rowcol(x, y)
    inside = grid.contains_rowcol(r, c)
    lab = labels[r[inside], c[inside]]
    return np.bincount(lab, minlength=n + 1)[1 : n + 1].astype(np.int64)
