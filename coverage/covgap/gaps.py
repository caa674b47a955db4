"""Gap clusters: connected groups of populated cells with no signal, as ranked polygons.

A *gap cluster* is a connected component (8- or 4-connectivity) of cells that have people
(> 0) and no coverage from any technology of any operator. Each becomes a polygon with its
population, area, population-weighted centre (``centroid_lon``/``centroid_lat``: where its
people are, which is where a new site should look), the admin unit holding most of its
people, ``distance_to_nearest_site_km`` (great-circle, from the cluster's closest cell centre
to the nearest site: "lies more than 5 km from any site" means this is > 5) and
``centre_distance_to_nearest_site_km`` (from the population-weighted centre).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio import features
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry import shape
from shapely.ops import unary_union

from .grid import EARTH_RADIUS_M, Grid, unit_vectors
from .models.base import Coverage
from .study import AdminLevel

__all__ = ["label_gaps", "gap_clusters", "nearest_site_km"]


def label_gaps(population: np.ndarray, uncovered: np.ndarray, *, connectivity: int = 8) -> tuple[np.ndarray, int]:
    """Label connected populated uncovered cells; returns ``(labels, n)`` (0 = not a gap).

    Examples
    --------
    >>> pop = np.array([[5., 0., 1.], [5., 0., 1.]]); unc = np.ones_like(pop, bool)
    >>> label_gaps(pop, unc)[1]
    2
    """
    structure = np.ones((3, 3), bool) if connectivity == 8 else ndimage.generate_binary_structure(2, 1)
    return ndimage.label((population > 0) & uncovered, structure=structure)


def nearest_site_km(lon, lat, site_lon, site_lat) -> np.ndarray:
    """Great-circle distance (km) from each point to the nearest of the sites (inf if none)."""
    lon = np.atleast_1d(np.asarray(lon, dtype="f8"))
    if len(site_lon) == 0:
        return np.full(lon.shape, np.inf)
    tree = cKDTree(unit_vectors(site_lon, site_lat))
    chord, _ = tree.query(unit_vectors(lon, lat))
    return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2, 0, 1)) / 1000.0


def gap_clusters(population: np.ndarray, uncovered: np.ndarray, grid: Grid, *, admin: list[AdminLevel],
                 sites: pd.DataFrame, min_population: float = 10.0, connectivity: int = 8,
                 coverage: Coverage | None = None,
                 cell_stats: dict[str, tuple[np.ndarray, str]] | None = None) -> gpd.GeoDataFrame:
    """Gap cluster polygons ranked by population (largest first).

    Clusters below ``min_population`` are not returned; their number and people are in
    ``result.attrs["below_min"]`` so nothing disappears unreported.

    ``coverage`` adds ``technologies_present`` / ``operators_present`` (signal found somewhere in
    the cluster, e.g. 2G in a cluster without 4G) and ``missing_technologies`` /
    ``missing_operators``. ``cell_stats`` maps a column name to ``(per-cell array, how)`` with
    ``how`` one of ``min``, ``max``, ``mean``, ``popmean`` (population-weighted), ``any``.
    """
    labels, n = label_gaps(population, uncovered, connectivity=connectivity)
    cols = ["rank", "cluster_id", "population", "cells", "area_km2", "centroid_lon", "centroid_lat",
            "distance_to_nearest_site_km"] + [f"{a.level}_code" for a in admin] + [f"{a.level}_name" for a in admin]
    if n == 0:
        empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs="EPSG:4326")
        empty.attrs["below_min"] = {"clusters": 0, "population": 0.0}
        return empty
    lab = labels.ravel()
    pop = np.bincount(lab, weights=population.ravel(), minlength=n + 1)
    cells = np.bincount(lab, minlength=n + 1)
    area = np.bincount(lab, weights=np.broadcast_to(grid.cell_area_km2(), grid.shape).ravel(), minlength=n + 1)
    xx = np.broadcast_to(grid.x_centres()[None, :], grid.shape).ravel()
    yy = np.broadcast_to(grid.y_centres()[:, None], grid.shape).ravel()
    w = population.ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.bincount(lab, weights=xx * w, minlength=n + 1) / pop
        cy = np.bincount(lab, weights=yy * w, minlength=n + 1) / pop
    keep = np.flatnonzero(pop[1:] >= min_population) + 1
    below = np.setdiff1d(np.arange(1, n + 1), keep)
    clon, clat = grid.to_lonlat(cx[keep], cy[keep])
    df = pd.DataFrame({"cluster_id": keep.astype(np.int64), "population": pop[keep], "cells": cells[keep],
                       "area_km2": area[keep], "centroid_lon": np.asarray(clon), "centroid_lat": np.asarray(clat)})
    uniq = sites.drop_duplicates("site_id")
    slon, slat = uniq["lon"].to_numpy(), uniq["lat"].to_numpy()
    df["distance_to_nearest_site_km"] = _min_cell_distance(labels, keep, grid, slon, slat)
    df["centre_distance_to_nearest_site_km"] = nearest_site_km(df["centroid_lon"], df["centroid_lat"], slon, slat)
    for a in admin:
        major = _majority_unit(lab, a.labels.ravel(), w, n)[keep]
        codes = np.concatenate([[""], a.units["code"].to_numpy(dtype=object)])
        names = np.concatenate([["(outside all units)"], a.units["name"].to_numpy(dtype=object)])
        df[f"{a.level}_code"] = codes[major]
        df[f"{a.level}_name"] = names[major]
    if coverage is not None:
        _presence_columns(df, labels, keep, coverage)
    for name, (values, how) in (cell_stats or {}).items():
        df[name] = _cell_stat(values, how, labels, keep, population)
    df["geometry"] = _polygons(labels, keep, grid)
    df = df.sort_values(["population", "cluster_id"], ascending=[False, True]).reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=grid.crs.to_wkt()).to_crs("EPSG:4326")
    gdf.attrs["below_min"] = {"clusters": int(below.size), "population": float(pop[below].sum())}
    return gdf


def _min_cell_distance(labels: np.ndarray, keep: np.ndarray, grid: Grid, slon, slat) -> np.ndarray:
    """Per kept cluster: the smallest distance (km) from any of its cell centres to a site."""
    if len(slon) == 0:
        return np.full(len(keep), np.inf)
    sel = np.isin(labels, keep)
    rows, cols = np.nonzero(sel)
    x = grid.x_centres()[cols]
    y = grid.y_centres()[rows]
    lon, lat = grid.to_lonlat(x, y)
    d = nearest_site_km(lon, lat, slon, slat)
    s = pd.Series(d).groupby(labels[rows, cols]).min()
    return s.reindex(keep).to_numpy()


def _presence_columns(df: pd.DataFrame, labels: np.ndarray, keep: np.ndarray, coverage: Coverage) -> None:
    present_t = [[] for _ in keep]
    all_techs = sorted(coverage.technologies)
    for tech in all_techs:
        hit = ndimage.maximum(coverage.covered(tech).astype(np.uint8), labels, index=keep)
        for i in np.flatnonzero(np.asarray(hit) > 0):
            present_t[i].append(tech)
    bits_any = coverage.operator_bits_any()
    present_o = [[] for _ in keep]
    for k, op in enumerate(coverage.operators):
        hit = ndimage.maximum(((bits_any >> np.uint32(k)) & 1).astype(np.uint8), labels, index=keep)
        for i in np.flatnonzero(np.asarray(hit) > 0):
            present_o[i].append(op)
    df["technologies_present"] = [", ".join(t) for t in present_t]
    df["missing_technologies"] = [", ".join(t for t in all_techs if t not in p) for p in present_t]
    df["operators_present"] = [", ".join(o) for o in present_o]
    df["missing_operators"] = [", ".join(o for o in coverage.operators if o not in p) for p in present_o]


def _cell_stat(values: np.ndarray, how: str, labels: np.ndarray, keep: np.ndarray, pop: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if how == "min":
        return np.asarray(ndimage.minimum(v, labels, index=keep), dtype=np.float64)
    if how == "max":
        return np.asarray(ndimage.maximum(v, labels, index=keep), dtype=np.float64)
    if how == "mean":
        return np.asarray(ndimage.mean(v, labels, index=keep), dtype=np.float64)
    if how == "any":
        return np.asarray(ndimage.maximum(v.astype(np.uint8), labels, index=keep)) > 0
    if how == "popmean":
        w = ndimage.sum(pop, labels, index=keep)
        return np.asarray(ndimage.sum(np.nan_to_num(v) * pop, labels, index=keep)) / np.asarray(w)
    raise ValueError(f"unknown statistic {how!r}")


def _majority_unit(cluster_lab: np.ndarray, unit_lab: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """For each cluster 0..n, the unit label holding most of its people."""
    sel = cluster_lab > 0
    if not sel.any():
        return np.zeros(n + 1, dtype=np.int64)
    key = pd.DataFrame({"c": cluster_lab[sel], "u": unit_lab[sel], "w": w[sel]})
    s = key.groupby(["c", "u"], sort=True)["w"].sum().reset_index()
    s = s.sort_values(["c", "w", "u"], ascending=[True, False, True]).drop_duplicates("c")
    out = np.zeros(n + 1, dtype=np.int64)
    out[s["c"].to_numpy()] = s["u"].to_numpy()
    return out


def _polygons(labels: np.ndarray, keep: np.ndarray, grid: Grid) -> list:
    mask = np.isin(labels, keep)
    parts: dict[int, list] = {}
    for geom, val in features.shapes(labels.astype(np.int32), mask=mask, transform=grid.transform, connectivity=8):
        parts.setdefault(int(val), []).append(shape(geom))
    return [unary_union(parts[int(k)]) for k in keep]
