"""Coverage results and the model interface.

A coverage *model* turns a grid, a sites table (see :mod:`covgap.sites`) and optionally a
DEM into a :class:`Coverage`: per technology, which operators serve each cell, how many
transmitters do, which one serves best, and (for signal models) the best received signal.

Models implement :class:`CoverageModel`; :func:`compute_coverage` validates the inputs
once and dispatches. The models live beside this module: :mod:`covgap.models.radius`,
:mod:`covgap.models.terrain` (Hata and terrain); :func:`covgap.models.make_model` builds one
from the config.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..errors import InputError
from ..grid import Grid
from ..sites import TECHNOLOGIES
from .location import coverage_probability, covered_at

__all__ = [
    "TechnologyCoverage",
    "Coverage",
    "CoverageModel",
    "FootprintWindow",
    "footprints_by_compute",
    "compute_coverage",
    "operator_index",
    "popcount32",
]

#: At most this many operators fit the uint32 bit field.
MAX_OPERATORS = 32


def popcount32(bits: np.ndarray) -> np.ndarray:
    """Number of set bits per element of a uint32 array (as uint8)."""
    b = bits.astype(np.uint32, copy=False)
    return np.unpackbits(b.view(np.uint8).reshape(*b.shape, 4), axis=-1).sum(axis=-1, dtype=np.uint8)


@dataclass
class TechnologyCoverage:
    """Coverage of one technology on a grid.

    Attributes
    ----------
    technology : str
        ``2G`` … ``5G``.
    operator_bits : ndarray of uint32, shape (ny, nx)
        Bit ``k`` is set where operator ``Coverage.operators[k]`` covers the cell.
    n_sites : ndarray of uint16
        Number of transmitters of this technology covering the cell (any operator).
    serving_site : ndarray of int32
        Row index into ``Coverage.sites`` of the best server (nearest for the radius
        model, strongest for signal models); ``-1`` where none.
    signal_dbm : ndarray of float32 or None
        Best received signal (dBm); NaN where no transmitter reaches. ``None`` for models
        without a signal (radius).
    threshold_dbm : float or None
        Coverage threshold used for ``signal_dbm``.
    location_std_db : float
        σL [dB] of the location variability around ``signal_dbm`` (the median over the
        locations of a cell); 0 for models without a location spread (radius).
    location_percent : float
        The location percentage ``operator_bits`` and ``n_sites`` were computed at: a
        transmitter covers a cell when its signal exceeded at this percentage of locations
        reaches the threshold (see :mod:`covgap.models.location`).
    """

    technology: str
    operator_bits: np.ndarray
    n_sites: np.ndarray
    serving_site: np.ndarray
    signal_dbm: np.ndarray | None = None
    threshold_dbm: float | None = None
    location_std_db: float = 0.0
    location_percent: float = 50.0

    @property
    def covered(self) -> np.ndarray:
        """Boolean ``(ny, nx)``: some operator covers the cell."""
        return self.operator_bits != 0

    def n_operators(self) -> np.ndarray:
        """Number of operators covering each cell (uint8)."""
        return popcount32(self.operator_bits)

    def coverage_probability(self) -> np.ndarray:
        """float32 ``(ny, nx)``: share of the cell's locations where the best server's signal reaches
        the threshold, Φ((signal − threshold)/σL); 0/1 (= :attr:`covered`) without a signal or σL."""
        if self.signal_dbm is None or self.threshold_dbm is None:
            return self.covered.astype(np.float32)
        return coverage_probability(self.signal_dbm, self.threshold_dbm, self.location_std_db)

    def covered_at(self, location_percent: float) -> np.ndarray:
        """Boolean ``(ny, nx)``: covered at ``location_percent`` % of locations (the best server's
        signal exceeded there reaches the threshold); :attr:`covered` for models without a signal."""
        if self.signal_dbm is None or self.threshold_dbm is None:
            return self.covered
        return covered_at(self.signal_dbm, self.threshold_dbm, self.location_std_db, location_percent)


@dataclass
class Coverage:
    """Coverage of all technologies on one grid, with the model that made it."""

    grid: Grid
    operators: tuple[str, ...]
    technologies: dict[str, TechnologyCoverage]
    sites: pd.DataFrame
    model: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def covered(self, technology: str) -> np.ndarray:
        """Boolean mask for one technology (all False when no site has it)."""
        tc = self.technologies.get(technology)
        if tc is None:
            return np.zeros(self.grid.shape, dtype=bool)
        return tc.covered

    def covered_at(self, technology: str, location_percent: float) -> np.ndarray:
        """Boolean mask for one technology at a location percentage (see :meth:`TechnologyCoverage.covered_at`)."""
        tc = self.technologies.get(technology)
        if tc is None:
            return np.zeros(self.grid.shape, dtype=bool)
        return tc.covered_at(location_percent)

    def any_covered_at(self, location_percent: float) -> np.ndarray:
        """Boolean mask: some technology is covered at ``location_percent`` % of locations."""
        out = np.zeros(self.grid.shape, dtype=bool)
        for tc in self.technologies.values():
            out |= tc.covered_at(location_percent)
        return out

    def any_covered(self) -> np.ndarray:
        """Boolean mask: covered by at least one technology of at least one operator."""
        out = np.zeros(self.grid.shape, dtype=bool)
        for tc in self.technologies.values():
            out |= tc.covered
        return out

    def operator_bits_any(self) -> np.ndarray:
        """uint32 bits: operators covering the cell with any technology."""
        out = np.zeros(self.grid.shape, dtype=np.uint32)
        for tc in self.technologies.values():
            out |= tc.operator_bits
        return out

    def best_generation(self) -> np.ndarray:
        """uint8 ``(ny, nx)``: highest generation covering the cell (2–5), 0 for none."""
        out = np.zeros(self.grid.shape, dtype=np.uint8)
        for tech, tc in self.technologies.items():
            gen = np.uint8(int(tech[0]))
            out = np.where(tc.covered & (out < gen), gen, out)
        return out

    def operator_names(self, bits: int) -> list[str]:
        """Operator names for a bit field value."""
        return [op for k, op in enumerate(self.operators) if bits >> k & 1]


#: One footprint: ``(k, row0, col0, covered)`` — row ``k`` of the sites table covers the cells of
#: the boolean window ``covered`` whose top-left cell is ``(row0, col0)`` of the grid.
FootprintWindow = tuple[int, int, int, np.ndarray]


@runtime_checkable
class CoverageModel(Protocol):
    """What a coverage model provides: everything planning, tiling and calibration may call.

    A model never needs more than this to be used by :mod:`covgap.tiling` (tiles with a halo of
    :meth:`reach_m`) and :mod:`covgap.planning` (candidate footprints); tests run both with a
    model they have never seen (``tests/test_model_protocol.py``).

    Attributes
    ----------
    name : str
        Short name, written into every output (``radius``, ``hata``, ``terrain``…).
    costly_footprints : bool
        True when one footprint costs much more than a disc of :meth:`reach_m` (the terrain
        model): the planner then ranks candidates by disc upper bounds and computes exact
        footprints only for those that reach the top (lazy greedy).
    """

    name: str
    costly_footprints: bool

    def parameters(self) -> dict[str, Any]:
        """Model parameters for provenance (JSON-serialisable)."""
        ...

    def compute(self, grid: Grid, sites: pd.DataFrame, *, dem: np.ndarray | None = None,
                progress: bool = False) -> Coverage:
        """Compute coverage of validated ``sites`` on ``grid``."""
        ...

    def reach_m(self, grid: Grid, sites: pd.DataFrame) -> np.ndarray:
        """Per sites row, the distance (m) beyond which the transmitter covers no cell centre.

        A bound, not an estimate: tiling uses its maximum as the halo, planning the disc of it
        as an upper bound of a footprint. Must not need the DEM.
        """
        ...

    def footprints(self, grid: Grid, sites: pd.DataFrame, rows: np.ndarray, *,
                   dem: np.ndarray | None = None) -> Iterator[FootprintWindow]:
        """Yield ``(k, row0, col0, covered)`` for each ``k`` of ``rows``, in that order.

        ``covered`` is what :meth:`compute` would mark as covered for row ``k`` alone (same
        cells, same threshold), on a window of ``grid`` that holds all of them.
        """
        ...


def footprints_by_compute(model: CoverageModel, grid: Grid, sites: pd.DataFrame, rows: np.ndarray, *,
                          dem: np.ndarray | None = None) -> Iterator[FootprintWindow]:
    """Footprints from :meth:`CoverageModel.compute` on a one-row table, per row (any model).

    Each row is computed on the window of its :meth:`~CoverageModel.reach_m` (see
    :meth:`covgap.grid.Grid.window_around`): exact for any model whose reach is a bound, and
    slow; models with a faster way override ``footprints``.
    """
    sites = sites.reset_index(drop=True)
    reach = np.asarray(model.reach_m(grid, sites), dtype="f8")
    x, y = (np.asarray(v, dtype="f8") for v in grid.from_lonlat(sites["lon"].to_numpy(dtype="f8"),
                                                                    sites["lat"].to_numpy(dtype="f8")))
    for k in np.asarray(rows, dtype=np.int64):
        r0, r1, c0, c1 = grid.window_around(float(x[k]), float(y[k]), float(reach[k]))
        if r1 <= r0 or c1 <= c0:
            yield int(k), r0, c0, np.zeros((max(r1 - r0, 0), max(c1 - c0, 0)), dtype=bool)
            continue
        sub = grid.window(r0, r1, c0, c1)
        cov = model.compute(sub, sites.iloc[int(k):int(k) + 1].reset_index(drop=True),
                            dem=None if dem is None else dem[r0:r1, c0:c1])
        yield int(k), r0, c0, cov.any_covered()


def operator_index(sites: pd.DataFrame) -> tuple[tuple[str, ...], np.ndarray]:
    """Sorted operator names and, per row, the operator's bit position."""
    ops = tuple(sorted(sites["operator"].astype(str).unique()))
    if len(ops) > MAX_OPERATORS:
        raise InputError(
            f"sites table has {len(ops)} operators; covgap supports at most {MAX_OPERATORS}. "
            "Fix: merge operator names that are the same network (e.g. MNC aliases)."
        )
    lookup = {op: k for k, op in enumerate(ops)}
    return ops, sites["operator"].astype(str).map(lookup).to_numpy(np.int64)


def empty_technology(technology: str, shape: tuple[int, int], *, signal: bool) -> TechnologyCoverage:
    """A TechnologyCoverage with nothing covered (used by models to start from)."""
    return TechnologyCoverage(
        technology=technology,
        operator_bits=np.zeros(shape, dtype=np.uint32),
        n_sites=np.zeros(shape, dtype=np.uint16),
        serving_site=np.full(shape, -1, dtype=np.int32),
        signal_dbm=np.full(shape, np.nan, dtype=np.float32) if signal else None,
    )


def compute_coverage(grid: Grid, sites: pd.DataFrame, model: CoverageModel, *,
                     dem: np.ndarray | None = None, progress: bool = False) -> Coverage:
    """Compute coverage with ``model``; checks shapes and technologies first.

    ``sites`` must already be validated (:func:`covgap.sites.validate_sites`).
    """
    if dem is not None and dem.shape != grid.shape:
        raise InputError(f"DEM array has shape {dem.shape}; the grid has {grid.shape}.")
    unknown = set(sites["technology"]) - set(TECHNOLOGIES)
    if unknown:
        raise InputError(f"sites have unknown technologies {sorted(unknown)}; validate them first.")
    return model.compute(grid, sites, dem=dem, progress=progress)
