"""Compare two analyses of the same study area: model against model, source against source.

Answers "how much do the answers change between the radius model and the terrain model, or
between population sources?" per admin unit and overall, and where the cells disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .analysis import Analysis
from .errors import InputError
from .grid import Grid
from .models.base import CoverageModel, compute_coverage
from .overlay import zonal_sum
from .study import StudyArea

__all__ = ["compare_models", "compare_units", "compare_cells", "PopulationLayerComparison", "compare_population_layers",
           "layer_on_grid"]


def compare_models(study: StudyArea, models: Mapping[str, CoverageModel], *, level: str | None = None, progress: bool = False,
                   coverages: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute coverage of one study area with several models and put the answers side by side.

    Only coverage and the population sums are recomputed (no lenses, clusters or hamlets), so a
    comparison costs one coverage run per model.

    Parameters
    ----------
    study : StudyArea
    models : mapping of name → CoverageModel
    level : str, optional
        Admin level of the per-unit comparison (default the coarsest).
    coverages : dict, optional
        When given, filled with each model's :class:`Coverage` (name → coverage), e.g. to draw
        the maps of the models compared without computing them again.

    Returns
    -------
    totals : DataFrame
        One row per model: population covered by each technology, without any signal, its share,
        without 4G.
    per_unit : DataFrame
        People without any signal per unit (rows, by name) and model (columns).
    """
    pop = study.population
    total = float(pop.sum(dtype=np.float64))
    adm = study.level(level) if level else (study.admin[0] if study.admin else None)
    rows, per_unit = [], {}
    for name, model in models.items():
        cov = compute_coverage(study.grid, study.sites, model, dem=study.dem, progress=progress)
        if coverages is not None:
            coverages[name] = cov
        unc = ~cov.any_covered()
        row = {"model": name, "population_uncovered": float(pop[unc].sum(dtype=np.float64))}
        row["uncovered_share"] = row["population_uncovered"] / total if total > 0 else 0.0
        for t in sorted(cov.technologies):
            row[f"covered_{t}"] = float(pop[cov.covered(t)].sum(dtype=np.float64))
        if "4G" in cov.technologies:
            row["without_4G"] = total - row["covered_4G"]
        rows.append(row)
        if adm is not None:
            sums = zonal_sum(np.where(unc, pop, 0.0), adm.labels, adm.n_units)[1:]
            per_unit[name] = pd.Series(sums, index=pd.Index(adm.units["name"].astype(str), name=adm.level))
    return pd.DataFrame(rows).set_index("model"), pd.DataFrame(per_unit)


def compare_units(a: Analysis, b: Analysis, *, level: str, labels: tuple[str, str] = ("a", "b"),
                  columns: tuple[str, ...] = ("population", "uncovered", "without_4G")) -> pd.DataFrame:
    """Per-unit figures side by side with differences (``b − a``) and ratios.

    Units are matched by code; a unit missing from either side is an error (compare like
    with like).
    """
    ta = pd.DataFrame(a.units[level].drop(columns="geometry")).set_index("code")
    tb = pd.DataFrame(b.units[level].drop(columns="geometry")).set_index("code")
    if set(ta.index) != set(tb.index):
        raise InputError(f"the two analyses have different {level} units: only in {labels[0]}: "
                         f"{sorted(set(ta.index) - set(tb.index))[:5]}, only in {labels[1]}: "
                         f"{sorted(set(tb.index) - set(ta.index))[:5]}.")
    out = pd.DataFrame({"name": ta["name"]})
    for col in columns:
        out[f"{col}_{labels[0]}"] = ta[col]
        out[f"{col}_{labels[1]}"] = tb.loc[ta.index, col]
        out[f"{col}_change"] = out[f"{col}_{labels[1]}"] - out[f"{col}_{labels[0]}"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["uncovered_ratio"] = out[f"uncovered_{labels[1]}"] / out[f"uncovered_{labels[0]}"]
    return out.reset_index().sort_values("uncovered_change", key=np.abs, ascending=False, ignore_index=True)


def compare_cells(a: Analysis, b: Analysis, *, technology: str = "any") -> dict[str, float]:
    """Agreement of the two coverage maps on the same grid: cells and people.

    Returns counts of people covered in both, only in ``a``, only in ``b``, in neither, and the
    intersection over union of the covered areas.
    """
    a.study.grid.check_same(b.study.grid, what="second analysis grid")
    ca = a.coverage.any_covered() if technology == "any" else a.coverage.covered(technology)
    cb = b.coverage.any_covered() if technology == "any" else b.coverage.covered(technology)
    pa, pb = a.study.population, b.study.population
    area = np.broadcast_to(a.study.grid.cell_area_km2(), ca.shape)
    inter, union = float(area[ca & cb].sum()), float(area[ca | cb].sum())
    return {
        "people_covered_both_a": float(pa[ca & cb].sum()),
        "people_only_a": float(pa[ca & ~cb].sum()),
        "people_only_b": float(pb[cb & ~ca].sum()),
        "people_neither_a": float(pa[~ca & ~cb].sum()),
        "area_km2_only_a": float(area[ca & ~cb].sum()),
        "area_km2_only_b": float(area[cb & ~ca].sum()),
        "iou_area": inter / union if union > 0 else 1.0,
    }


# --------------------------------------------------------------------------- population layers
@dataclass
class PopulationLayerComparison:
    """People without signal under several population layers, same coverage (see :func:`compare_population_layers`).

    Attributes
    ----------
    layers : list of str
        Layer names, in the order given (the first is the reference for rank changes).
    totals : pandas.DataFrame
        One row per layer: ``layer, population, uncovered, uncovered_share, gap_clusters,
        clusters_population`` (clusters ≥ ``min_population`` under that layer),
        ``rank_correlation`` (Spearman, unit ranks vs the reference), ``units_rank_changed``,
        ``aggregation`` (how the layer reached the analysis grid), ``outside_grid`` (people of the
        layer beyond the analysis grid, not counted).
    units : pandas.DataFrame
        One row per unit of ``level``: ``code, name``, then per layer ``population_<layer>``,
        ``uncovered_<layer>``, ``rank_<layer>`` (1 = most people without signal), then
        ``uncovered_min, uncovered_max, spread`` (max − min people), ``spread_rel`` (spread / mean)
        and ``rank_range`` (largest − smallest rank). Sorted by the reference's uncovered people.
    clusters : pandas.DataFrame
        One row per gap zone, the same zones for every layer: with ``zones="reference"`` the gap
        clusters of the first layer (connected cells without signal that have people under it; with the
        analysis' own population first, ``zone_id`` is the analysis' ``cluster_id``), with
        ``zones="union"`` connected cells without signal that have people under *any* layer.
        Columns ``zone_id, cells, area_km2, <level>_code`` (the unit holding most of its people,
        summed over layers), per layer ``uncovered_<layer>`` and ``rank_<layer>``, then
        ``uncovered_min, uncovered_max, spread, spread_rel, rank_range``. Only zones with
        ≥ ``min_population`` people under at least one layer; sorted by ``uncovered_max``. People
        without signal outside every zone are in ``totals["outside_zones"]``.
    notes : dict
        ``level``, ``technology``, ``min_population``, ``connectivity``, ``zones``.
    """

    layers: list[str]
    totals: pd.DataFrame
    units: pd.DataFrame
    clusters: pd.DataFrame
    notes: dict[str, Any] = field(default_factory=dict)


def layer_on_grid(population: np.ndarray, grid: Grid | None, target: Grid) -> tuple[np.ndarray, dict[str, Any]]:
    """A population layer on the analysis grid ``target``: as it is, or aggregated by sums.

    ``grid`` ``None`` (or equal to ``target``) means the layer is already on ``target``. Otherwise the
    people are moved by :func:`covgap.population.regrid_population_sum_preserving`: block sums when
    each target cell is a whole block of the layer's cells (exact), else split by exact overlapped
    area; never interpolated. People beyond ``target`` are reported (``outside_grid``), not dropped
    silently: ``result.sum() + outside_grid == population.sum()``.

    Returns
    -------
    (numpy.ndarray, dict)
        float64 people per target cell, and ``{"aggregation": str, "outside_grid": float}``.
    """
    from .population import aligned_blocks, regrid_population_sum_preserving

    pop = np.asarray(population, dtype=np.float64)
    if grid is None or grid.same_as(target):
        if pop.shape != target.shape:
            raise InputError(f"population layer has shape {pop.shape}, the analysis grid {target.shape}; "
                             "give the layer's grid as (array, grid) to aggregate it.")
        return pop, {"aggregation": "same grid", "outside_grid": 0.0}
    al = aligned_blocks(grid, target)
    out, outside = regrid_population_sum_preserving(pop, grid, target)
    how = (f"block sums of {al[0]}×{al[1]} cells" if al is not None
           else "split by overlapped area (grids not aligned, or the layer is coarser)")
    return out, {"aggregation": how, "outside_grid": float(outside)}


def _spread_columns(df: pd.DataFrame, names: list[str], what: str) -> None:
    vals = df[[f"{what}_{n}" for n in names]].to_numpy(dtype=float)
    df[f"{what}_min"] = vals.min(axis=1)
    df[f"{what}_max"] = vals.max(axis=1)
    df["spread"] = df[f"{what}_max"] - df[f"{what}_min"]
    mean = vals.mean(axis=1)
    df["spread_rel"] = np.divide(df["spread"].to_numpy(), mean, out=np.zeros(len(df)), where=mean > 0)
    ranks = df[[f"rank_{n}" for n in names]].to_numpy(dtype=float)
    df["rank_range"] = (ranks.max(axis=1) - ranks.min(axis=1)).astype(int) if len(df) else []


def compare_population_layers(
    analysis: Analysis,
    layers: Mapping[str, np.ndarray | tuple[np.ndarray, Grid]],
    *,
    level: str | None = None,
    technology: str = "any",
    min_population: float = 10.0,
    connectivity: int = 8,
    zones: str = "reference",
) -> PopulationLayerComparison:
    """Count people without signal under several population layers with the same coverage.

    Coverage does not depend on people, so ``analysis.coverage`` is reused: only the people under
    it change. Per unit and per gap zone the result gives each layer's people without signal, the
    spread (max − min) and how the units' ranking moves.

    Parameters
    ----------
    analysis : Analysis
        An analysed study area; its grid is the analysis grid and its coverage is used.
    layers : mapping of str to array or (array, Grid)
        Population layers by name (≥ 2). An array is on the analysis grid; ``(array, grid)`` is
        aggregated onto it by sums (:func:`layer_on_grid`). Cleaned people (no nodata).
    level : str, optional
        Admin level of the per-unit table (default: the first, e.g. provinces).
    technology : str
        ``any`` → people with no signal at all; ``4G`` etc. → people without that technology.
    min_population : float
        Smallest gap zone listed (people, under at least one layer).
    connectivity : {8, 4}
        Gap zones' cell connectivity.
    zones : {"reference", "union"}
        Gap zones from the first layer's people, or from anyone's (see
        :class:`PopulationLayerComparison`).

    Returns
    -------
    PopulationLayerComparison

    """
    from .gaps import label_gaps

    if len(layers) < 2:
        raise InputError(f"compare at least two population layers; got {len(layers)} ({list(layers)}).")
    study = analysis.study
    lvl = study.level(level) if level is not None else study.admin[0]
    cov = analysis.coverage
    if technology == "any":
        uncovered = ~cov.any_covered()
    elif technology in cov.technologies:
        uncovered = ~cov.covered(technology)
    else:
        raise InputError(f"technology {technology!r}; expected 'any' or one of {sorted(cov.technologies)}.")
    names = [str(n) for n in layers]
    pops, info = {}, {}
    for name, value in layers.items():
        arr, grid = value if isinstance(value, tuple) else (value, None)
        pop, meta = layer_on_grid(arr, grid, study.grid)
        if not np.isfinite(pop).all() or (pop < 0).any():
            raise InputError(f"population layer {name!r} holds NaN or negative values. Fix: clean_population().")
        pops[str(name)], info[str(name)] = pop, meta
    n = lvl.n_units
    lab = lvl.labels.ravel()
    units = pd.DataFrame({"code": lvl.units["code"].astype(str).to_numpy(), "name": lvl.units["name"].to_numpy()})
    for name in names:
        p = pops[name].ravel()
        units[f"population_{name}"] = np.bincount(lab, weights=p, minlength=n + 1)[1:]
        units[f"uncovered_{name}"] = np.bincount(lab, weights=p * uncovered.ravel(), minlength=n + 1)[1:]
    for name in names:
        units[f"rank_{name}"] = units[f"uncovered_{name}"].rank(ascending=False, method="min").astype(int)
    _spread_columns(units, names, "uncovered")
    units = units.sort_values(f"uncovered_{names[0]}", ascending=False, ignore_index=True)
    # gap zones, the same for every layer
    if zones == "reference":
        basis = pops[names[0]]
    elif zones == "union":
        basis = np.zeros(study.grid.shape)
        for p in pops.values():
            basis = np.maximum(basis, p)
    else:
        raise InputError(f"zones = {zones!r}; expected 'reference' or 'union'.")
    zone_labels, nz = label_gaps(basis, uncovered, connectivity=connectivity)
    zl = zone_labels.ravel()
    area = np.broadcast_to(study.grid.cell_area_km2(), study.grid.shape).ravel()
    clusters = pd.DataFrame({"zone_id": np.arange(1, nz + 1), "cells": np.bincount(zl, minlength=nz + 1)[1:],
                             "area_km2": np.bincount(zl, weights=area, minlength=nz + 1)[1:]})
    for name in names:
        clusters[f"uncovered_{name}"] = np.bincount(zl, weights=pops[name].ravel(), minlength=nz + 1)[1:]
    # the unit holding most of the zone's people (summed over layers)
    w = sum(pops.values()).ravel()
    sel = zl > 0
    key = zl[sel].astype(np.int64) * (n + 1) + lab[sel]
    uk, inv = np.unique(key, return_inverse=True)
    people = np.bincount(inv, weights=w[sel])
    best = pd.DataFrame({"zone": uk // (n + 1), "unit": uk % (n + 1), "people": people})
    best = best.sort_values(["zone", "people"], ascending=[True, False]).drop_duplicates("zone")
    code_of = np.concatenate([[""], lvl.units["code"].astype(str).to_numpy()])
    unit_of = np.zeros(nz + 1, dtype=np.int64)
    unit_of[best["zone"].to_numpy()] = best["unit"].to_numpy()
    clusters[f"{lvl.level}_code"] = code_of[unit_of[1:]]
    vals = clusters[[f"uncovered_{m}" for m in names]].to_numpy()
    clusters = clusters[(vals >= min_population).any(axis=1) if nz else []].reset_index(drop=True)
    for name in names:
        clusters[f"rank_{name}"] = clusters[f"uncovered_{name}"].rank(ascending=False, method="min").astype(int)
    _spread_columns(clusters, names, "uncovered")
    clusters = clusters.sort_values("uncovered_max", ascending=False, ignore_index=True)
    rows = []
    ref_rank = units[f"rank_{names[0]}"]
    for name in names:
        p = pops[name]
        total = float(p.sum())
        unc = float(p[uncovered].sum())
        per_zone = np.bincount(zl, weights=p.ravel(), minlength=nz + 1)[1:]
        big = per_zone >= min_population
        rows.append({"layer": name, "population": total, "uncovered": unc,
                     "uncovered_share": unc / total if total > 0 else 0.0,
                     "gap_clusters": int(big.sum()), "clusters_population": float(per_zone[big].sum()),
                     "outside_zones": float(p[uncovered & (zone_labels == 0)].sum()),
                     "rank_correlation": float(ref_rank.corr(units[f"rank_{name}"], method="spearman"))
                     if n > 1 else 1.0,
                     "units_rank_changed": int((units[f"rank_{name}"] != ref_rank).sum()),
                     **info[name]})
    totals = pd.DataFrame(rows)
    return PopulationLayerComparison(layers=names, totals=totals, units=units, clusters=clusters,
                                     notes={"level": lvl.level, "technology": technology,
                                            "min_population": float(min_population), "connectivity": connectivity,
                                            "zones": zones})
