"""Lenses applied to an analysis: which apply, and the per-unit columns and tables they give.

The per-cell lenses themselves live in :mod:`covgap.lenses.masks`; this module decides which apply
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

All per-unit sums are :func:`covgap.overlay.zonal_sum` on the admin label grid, so
``covered + uncovered = population`` holds in every unit and every lens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from ..constants import BORDER_BELT_KM
from ..errors import InputError
from ..overlay import zonal_sum
from ..study import StudyArea
from .masks import border_belt, density_class, distance_to_border_km, island_mask, mountain_mask, ruggedness_tri_m

__all__ = ["CellLenses", "compute_lenses", "lens_columns", "lens_table", "border_belt_table"]


@dataclass
class CellLenses:
    """Per-cell lens masks and values on the study grid."""

    masks: dict[str, np.ndarray] = field(default_factory=dict)
    distance_to_border_km: np.ndarray | None = None
    ruggedness_m: np.ndarray | None = None
    border_belt_km: float = BORDER_BELT_KM


def compute_lenses(study: StudyArea, *, border_belt_km: float = BORDER_BELT_KM) -> CellLenses:
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


def lens_columns(labels: np.ndarray, n_units: int, population: np.ndarray, uncovered: np.ndarray,
                 without_4g: np.ndarray, lenses: CellLenses) -> pd.DataFrame:
    """Per-unit columns ``<lens>_population``, ``<lens>_uncovered``, ``<lens>_without_4G``.

    For every lens, ``<lens>_uncovered ≤ <lens>_population`` and the covered part is the
    difference, so covered + uncovered = population holds in every unit and every lens.
    """
    cols: dict[str, np.ndarray] = {}
    for name, m in lenses.masks.items():
        p = np.where(m, population, 0.0)
        cols[f"{name}_population"] = zonal_sum(p, labels, n_units)[1:]
        cols[f"{name}_uncovered"] = zonal_sum(np.where(uncovered, p, 0.0), labels, n_units)[1:]
        cols[f"{name}_without_4G"] = zonal_sum(np.where(without_4g, p, 0.0), labels, n_units)[1:]
    return pd.DataFrame(cols)


def _check_labels(labels: np.ndarray, n_units: int, shape: tuple[int, ...]) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != shape:
        raise InputError(f"label grid has shape {lab.shape}, population {shape}.")
    if not np.issubdtype(lab.dtype, np.integer):
        raise InputError(f"label grid must be integer, got {lab.dtype}.")
    if lab.size and (lab.min() < 0 or lab.max() > n_units):
        raise InputError(
            f"labels range {lab.min()}..{lab.max()}, expected 0..{n_units} (0 = outside all units)."
        )
    return lab.ravel()


def _zsum(lab: np.ndarray, values: np.ndarray, n_units: int) -> np.ndarray:
    return zonal_sum(np.ascontiguousarray(values, dtype=np.float64).ravel(), lab, n_units)


def lens_table(
    labels: np.ndarray,
    n_units: int,
    population: np.ndarray,
    uncovered_mask: np.ndarray,
    lens_masks: Mapping[str, np.ndarray],
    *,
    unit_codes: Sequence[Any] | None = None,
    include_outside: bool = True,
) -> pd.DataFrame:
    """Sum population and uncovered population per unit, overall and inside each lens.

    Parameters
    ----------
    labels : numpy.ndarray of int
        Unit label per cell, ``1..n_units``; 0 = outside all units.
    n_units : int
        Number of units (labels run 1..n_units).
    population : numpy.ndarray
        People per cell.
    uncovered_mask : numpy.ndarray of bool
        Cells without signal (in whatever sense the caller chose: no 4G, no signal at all, …).
    lens_masks : mapping of str to bool array
        E.g. ``{"border_20km": border_belt(d), "island": island_mask(...), "urban_centre": cls ==
        2}``.
    unit_codes : sequence, optional
        Code of unit ``k`` at position ``k − 1``; default the label numbers.
    include_outside : bool
        Add a first row ``unit = 0`` / code ``None`` with the people outside all units.

    Returns
    -------
    pandas.DataFrame
        Columns ``label, code, population, uncovered, covered`` and for every lens ``L``:
        ``L_population, L_uncovered, L_covered``. ``covered = population − uncovered`` in every unit
        and every lens; ``attrs["totals"]`` holds the column sums including the outside row.

    Examples
    --------
    >>> lab = np.array([[1, 1, 2, 0]]); pop = np.array([[1.0, 2.0, 3.0, 4.0]])
    >>> unc = np.array([[True, False, True, True]]); lens = {"belt": np.array([[True, True, False, True]])}
    >>> t = lens_table(lab, 2, pop, unc, lens, unit_codes=["a", "b"])
    >>> t.code.tolist()
    [None, 'a', 'b']
    >>> t[["population", "uncovered", "belt_population", "belt_uncovered"]].values.tolist()
    [[4.0, 4.0, 4.0, 4.0], [3.0, 1.0, 3.0, 1.0], [3.0, 3.0, 0.0, 0.0]]

    """
    pop = np.asarray(population, dtype=np.float64)
    lab = _check_labels(labels, n_units, pop.shape)
    unc = np.asarray(uncovered_mask, dtype=bool)
    if unc.shape != pop.shape:
        raise InputError(f"uncovered mask has shape {unc.shape}, population {pop.shape}.")
    if unit_codes is not None and len(unit_codes) != n_units:
        raise InputError(f"{len(unit_codes)} unit codes for {n_units} units.")
    codes = list(unit_codes) if unit_codes is not None else list(range(1, n_units + 1))
    cols: dict[str, Any] = {
        "label": np.arange(n_units + 1),
        "code": pd.Series([None] + codes, dtype=object),
    }
    p_all = _zsum(lab, pop, n_units)
    u_all = _zsum(lab, np.where(unc, pop, 0.0), n_units)
    cols.update(population=p_all, uncovered=u_all, covered=p_all - u_all)
    for name, m in lens_masks.items():
        m = np.asarray(m, dtype=bool)
        if m.shape != pop.shape:
            raise InputError(f"lens {name!r} has shape {m.shape}, population {pop.shape}.")
        p = _zsum(lab, np.where(m, pop, 0.0), n_units)
        u = _zsum(lab, np.where(m & unc, pop, 0.0), n_units)
        cols[f"{name}_population"], cols[f"{name}_uncovered"], cols[f"{name}_covered"] = p, u, p - u
    out = pd.DataFrame(cols)
    out.attrs["totals"] = {k: float(v.sum()) for k, v in cols.items() if k not in ("label", "code")}
    out.attrs["raster_total"] = float(pop.sum())
    return out if include_outside else out.iloc[1:].reset_index(drop=True)


def border_belt_table(
    labels: np.ndarray,
    n_units: int,
    population: np.ndarray,
    uncovered_mask: np.ndarray,
    distance_km: np.ndarray,
    *,
    belt_km: float = BORDER_BELT_KM,
    unit_codes: Sequence[Any] | None = None,
    unit_names: Sequence[str] | None = None,
    include_outside: bool = False,
) -> pd.DataFrame:
    """Tabulate uncovered people within ``belt_km`` of the land border, by unit.

    Returns
    -------
    pandas.DataFrame
        ``code, name, population, uncovered, belt_population, belt_uncovered, belt_covered,
        belt_uncovered_share`` (share of the unit's belt population that is uncovered), sorted by
        ``belt_uncovered`` descending; ``attrs["belt_km"]``. Units with no belt cell have zeros.

    """
    t = lens_table(
        labels,
        n_units,
        population,
        uncovered_mask,
        {"belt": border_belt(distance_km, belt_km)},
        unit_codes=unit_codes,
        include_outside=True,
    )
    names: Iterable[Any] = [None] + (
        list(unit_names) if unit_names is not None else [None] * n_units
    )
    t.insert(2, "name", pd.Series(list(names), dtype=object))
    with np.errstate(invalid="ignore", divide="ignore"):
        t["belt_uncovered_share"] = np.where(
            t["belt_population"] > 0, t["belt_uncovered"] / t["belt_population"], 0.0
        )
    if not include_outside:
        t = t.iloc[1:]
    t = t.sort_values("belt_uncovered", ascending=False, kind="stable").reset_index(drop=True)
    t.attrs["belt_km"] = belt_km
    return t
