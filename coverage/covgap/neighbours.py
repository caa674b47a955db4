"""Neighbouring countries' networks and how much the tower data can be trusted.

Foreign networks
----------------
Towers of other countries (e.g. OpenCelliD MCC 460 China, 457 Laos, 456 Cambodia for
Vietnam) are computed with the same model as ours into a :class:`~covgap.models.base.Coverage`
of their own (``foreign``). Domestic coverage is never changed by them unless the config says
``[gaps] count_foreign = true`` (then :func:`merge_coverage` adds them to the domestic one).
Per cell, with ``D`` = covered by a domestic network (any technology) and ``F`` = by a foreign
one, every person is in exactly one of::

    covered_any (D)   +   foreign_only (F and not D)   +   no_network (neither)   =   population

and ``domestic_and_foreign`` (D and F) is the part of ``covered_any`` that also hears a
foreign network.

Tower-data confidence
---------------------
Per unit: ``sites_per_1000km2`` (domestic sites whose position lies in the unit, per 1,000 km²
of the unit's grid cells), ``samples_per_1000km2`` (Σ OpenCelliD measurements of those sites,
when the sites table has ``samples``) and ``cells_seen_once`` (cells heard in one measurement,
when it has that column). Per gap cluster: ``sites_within_km`` (distinct domestic sites within
``thin_radius_km`` of its population-weighted centre) and ``tower_data_thin`` (fewer than
``thin_min_sites`` of them): a gap where the tower data are thin may be a gap in the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .errors import InputError
from .grid import EARTH_RADIUS_M, Grid, unit_vectors
from .models.base import MAX_OPERATORS, Coverage, TechnologyCoverage
from .overlay import zonal_sum

__all__ = [
    "THIN_RADIUS_KM",
    "THIN_MIN_SITES",
    "merge_coverage",
    "foreign_cell_masks",
    "foreign_unit_columns",
    "confidence_unit_columns",
    "sites_within_km",
    "thin_data_columns",
    "foreign_hamlet_columns",
]

#: Radius (km) around a gap's centre in which recorded sites are counted: 20 km is
#: :attr:`covgap.towers.CellFilter.max_range_m`, past the 12 km GSM fallback radius of the Mobile
#: Coverage Explorer plus OpenCelliD position scatter — a site farther away could not have served it.
THIN_RADIUS_KM = 20.0
#: Fewer recorded sites than this within :data:`THIN_RADIUS_KM` flags a gap as "tower data thin".
#: A judgement, not a standard (see docs/design.md): one or two sites in a 1,257 km² disc is
#: far below any populated Vietnamese district and is what missing crowd-sourced data looks like.
THIN_MIN_SITES = 3


def merge_coverage(domestic: Coverage, foreign: Coverage) -> Coverage:
    """Domestic and foreign coverage as one (``[gaps] count_foreign = true``).

    Operators are ``domestic.operators + foreign.operators`` (foreign bits shifted), sites are
    concatenated (foreign ``serving_site`` indices shifted), ``n_sites`` added, the best signal
    kept. Both must be on the same grid.
    """
    if domestic.grid.shape != foreign.grid.shape:
        raise InputError(f"foreign coverage grid {foreign.grid.shape} != domestic grid {domestic.grid.shape}.")
    clash = set(domestic.operators) & set(foreign.operators)
    if clash:
        raise InputError(f"operator names {sorted(clash)} are both domestic and foreign. "
                         "Fix: give the foreign operators names of their own (e.g. 'China Mobile (460)').")
    nd = len(domestic.operators)
    if nd + len(foreign.operators) > MAX_OPERATORS:
        raise InputError(f"{nd} domestic + {len(foreign.operators)} foreign operators exceed {MAX_OPERATORS}.")
    shift = len(domestic.sites)
    techs: dict[str, TechnologyCoverage] = {}
    for tech in sorted(set(domestic.technologies) | set(foreign.technologies)):
        d, f = domestic.technologies.get(tech), foreign.technologies.get(tech)
        if f is None:
            techs[tech] = d
            continue
        fbits = (f.operator_bits.astype(np.uint64) << np.uint64(nd)).astype(np.uint32)
        fserve = np.where(f.serving_site >= 0, f.serving_site + shift, -1).astype(np.int32)
        if d is None:
            techs[tech] = TechnologyCoverage(tech, fbits, f.n_sites.copy(), fserve, f.signal_dbm, f.threshold_dbm)
            continue
        sig = None
        if d.signal_dbm is not None and f.signal_dbm is not None:
            sig = np.fmax(d.signal_dbm, f.signal_dbm)
            serve = np.where(np.nan_to_num(f.signal_dbm, nan=-np.inf) > np.nan_to_num(d.signal_dbm, nan=-np.inf),
                             fserve, d.serving_site).astype(np.int32)
        else:
            serve = np.where(d.serving_site >= 0, d.serving_site, fserve).astype(np.int32)
        n = np.minimum(d.n_sites.astype(np.uint32) + f.n_sites, np.iinfo(np.uint16).max).astype(np.uint16)
        techs[tech] = TechnologyCoverage(tech, d.operator_bits | fbits, n, serve, sig, d.threshold_dbm)
    sites = pd.concat([domestic.sites, foreign.sites], ignore_index=True)
    return Coverage(grid=domestic.grid, operators=tuple(domestic.operators) + tuple(foreign.operators),
                    technologies=techs, sites=sites, model=domestic.model,
                    parameters={**domestic.parameters, "foreign_networks_counted": True})


def foreign_cell_masks(domestic_covered: np.ndarray, foreign_covered: np.ndarray) -> dict[str, np.ndarray]:
    """Per cell: ``foreign_only``, ``domestic_and_foreign``, ``no_network`` (boolean arrays).

    Examples
    --------
    >>> m = foreign_cell_masks(np.array([True, True, False, False]), np.array([True, False, True, False]))
    >>> [m[k].tolist() for k in ("foreign_only", "domestic_and_foreign", "no_network")]
    [[False, False, True, False], [True, False, False, False], [False, False, False, True]]
    """
    d = np.asarray(domestic_covered, dtype=bool)
    f = np.asarray(foreign_covered, dtype=bool)
    if d.shape != f.shape:
        raise InputError(f"domestic coverage {d.shape} and foreign coverage {f.shape} differ in shape.")
    return {"foreign_only": f & ~d, "domestic_and_foreign": f & d, "no_network": ~f & ~d}


def foreign_unit_columns(labels: np.ndarray, n_units: int, population: np.ndarray, domestic_covered: np.ndarray,
                         foreign_covered: np.ndarray, *, lens_masks: dict[str, np.ndarray] | None = None
                         ) -> pd.DataFrame:
    """Per unit (rows ``1..n_units``): people in ``foreign_only``, ``domestic_and_foreign``, ``no_network``
    and, per lens ``L`` of ``lens_masks``, ``L_foreign_only``.

    ``covered_any + foreign_only + no_network = population`` in every unit (see the module doc).
    """
    masks = foreign_cell_masks(domestic_covered, foreign_covered)
    pop = np.asarray(population, dtype=np.float64)
    cols = {k: zonal_sum(np.where(m, pop, 0.0), labels, n_units)[1:] for k, m in masks.items()}
    for name, lm in (lens_masks or {}).items():
        cols[f"{name}_foreign_only"] = zonal_sum(np.where(lm & masks["foreign_only"], pop, 0.0), labels, n_units)[1:]
    return pd.DataFrame(cols)


def _site_points(sites: pd.DataFrame) -> pd.DataFrame:
    """One row per site id: lon, lat, Σ samples and Σ cells seen once over its technologies (when present)."""
    agg: dict[str, tuple[str, str]] = {"lon": ("lon", "first"), "lat": ("lat", "first")}
    for c in ("samples", "cells_seen_once"):
        if c in sites.columns:
            agg[c] = (c, "sum")
    df = sites.copy()
    for c in ("samples", "cells_seen_once"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df.groupby("site_id", sort=True).agg(**agg).reset_index()


def confidence_unit_columns(labels: np.ndarray, n_units: int, grid: Grid, sites: pd.DataFrame) -> pd.DataFrame:
    """Per unit: ``sites_per_1000km2``, ``samples_per_1000km2`` and ``cells_seen_once``.

    A site counts in the unit holding the grid cell of its position (sites outside the grid or
    all units count nowhere). ``samples_per_1000km2`` is NaN when the table has no ``samples``
    column (an operator's list), ``cells_seen_once`` NaN when it has no such column. Unit area is
    the area of the unit's grid cells (km²), so densities use the same cells as the people.
    """
    pts = _site_points(sites)
    area = zonal_sum(np.broadcast_to(grid.cell_area_km2(), grid.shape).astype(np.float64), labels, n_units)[1:]
    x, y = grid.from_lonlat(pts["lon"].to_numpy(dtype="f8"), pts["lat"].to_numpy(dtype="f8"))
    r, c = grid.rowcol(x, y)
    inside = grid.contains_rowcol(r, c)
    lab = np.where(inside, labels[np.where(inside, r, 0), np.where(inside, c, 0)], 0).astype(np.int64)
    n_sites = np.bincount(lab, minlength=n_units + 1)[1:].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {"sites_per_1000km2": np.where(area > 0, 1000.0 * n_sites / area, np.nan)}
        if "samples" in pts.columns:
            s = np.bincount(lab, weights=np.nan_to_num(pts["samples"].to_numpy(dtype="f8")), minlength=n_units + 1)[1:]
            out["samples_per_1000km2"] = np.where(area > 0, 1000.0 * s / area, np.nan)
        else:
            out["samples_per_1000km2"] = np.full(n_units, np.nan)
    if "cells_seen_once" in pts.columns:
        out["cells_seen_once"] = np.bincount(lab, weights=np.nan_to_num(pts["cells_seen_once"].to_numpy(dtype="f8")),
                                             minlength=n_units + 1)[1:]
    else:
        out["cells_seen_once"] = np.full(n_units, np.nan)
    return pd.DataFrame(out)


def sites_within_km(lon, lat, sites: pd.DataFrame, radius_km: float) -> np.ndarray:
    """Per point: number of distinct sites (by ``site_id``) within ``radius_km`` (great circle)."""
    lon = np.atleast_1d(np.asarray(lon, dtype="f8"))
    lat = np.atleast_1d(np.asarray(lat, dtype="f8"))
    pts = sites.drop_duplicates("site_id")
    if len(pts) == 0 or len(lon) == 0:
        return np.zeros(len(lon), dtype=np.int64)
    tree = cKDTree(unit_vectors(pts["lon"].to_numpy(dtype="f8"), pts["lat"].to_numpy(dtype="f8")))
    chord = 2.0 * np.sin(radius_km * 1000.0 / (2.0 * EARTH_RADIUS_M))
    return np.asarray(tree.query_ball_point(unit_vectors(lon, lat), chord, return_length=True), dtype=np.int64)


def thin_data_columns(clusters: pd.DataFrame, sites: pd.DataFrame, *, radius_km: float = THIN_RADIUS_KM,
                      min_sites: int = THIN_MIN_SITES) -> pd.DataFrame:
    """``sites_within_km`` and ``tower_data_thin`` for gap clusters (from ``centroid_lon/lat``).

    Examples
    --------
    >>> cl = pd.DataFrame({"centroid_lon": [105.0, 106.0], "centroid_lat": [21.0, 21.0]})
    >>> s = pd.DataFrame({"site_id": ["a", "b", "c"], "lon": [105.01, 105.02, 105.03], "lat": [21.0] * 3})
    >>> thin_data_columns(cl, s).values.tolist()
    [[3, False], [0, True]]
    """
    n = sites_within_km(clusters["centroid_lon"].to_numpy(dtype="f8"), clusters["centroid_lat"].to_numpy(dtype="f8"),
                        sites, radius_km)
    return pd.DataFrame({"sites_within_km": n, "tower_data_thin": n < min_sites}, index=clusters.index)


def foreign_hamlet_columns(hamlets: pd.DataFrame, foreign: Coverage, domestic_covered_any: np.ndarray
                           ) -> pd.DataFrame:
    """Per hamlet: ``foreign_operators`` heard there, ``foreign_signal`` and ``foreign_only`` (no domestic signal).

    ``domestic_covered_any`` is the hamlets' ``covered_any`` column (domestic networks only).
    """
    grid = foreign.grid
    x, y = grid.from_lonlat(hamlets["lon"].to_numpy(dtype="f8"), hamlets["lat"].to_numpy(dtype="f8"))
    r, c = grid.rowcol(x, y)
    inside = grid.contains_rowcol(r, c)
    bits = np.where(inside, foreign.operator_bits_any()[np.where(inside, r, 0), np.where(inside, c, 0)], 0)
    sig = bits != 0
    dom = np.asarray(domestic_covered_any, dtype=bool)
    return pd.DataFrame({"foreign_operators": [", ".join(foreign.operator_names(int(b))) for b in bits],
                         "foreign_signal": sig, "foreign_only": sig & ~dom}, index=hamlets.index)
