"""Candidate footprints: the cells each candidate would cover, computed once, stored sparse.

A :class:`Footprints` holds, for candidate ``k``, the flat cell indices
``indices[indptr[k]:indptr[k + 1]]`` (``row * nx + col`` on the study grid, sorted) that
the coverage model says the candidate covers — the CSR layout of a sparse
candidates × cells matrix. :func:`candidate_footprints` builds it with the model the
analysis used, through the model protocol only
(:meth:`~covgap.models.base.CoverageModel.footprints` and
:meth:`~covgap.models.base.CoverageModel.reach_m`), so the planner and
:func:`covgap.planning.what_if` agree cell for cell with ``compute`` for any model (tested with
the radius, Hata and terrain models and with a model the planner has never seen).

``mask`` keeps only cells where it is True (the planner passes "has people not yet
covered"), which cuts memory by the share of empty or already covered cells.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import CovgapError, InputError
from ..grid import Grid
from ..models.base import CoverageModel
from ..models.radius import disc_footprints
from ..study import StudyArea
from .candidates import candidates_to_sites

__all__ = ["Footprints", "candidate_footprints", "footprint_method", "footprint_bounds"]


@dataclass
class Footprints:
    """Sparse candidate × cell coverage (CSR).

    Attributes
    ----------
    indptr : ndarray of int64, shape (n + 1,)
    indices : ndarray of int64
        Flat cell indices (``row * nx + col``), sorted within each candidate.
    shape : tuple of int
        The grid shape ``(ny, nx)``.
    masked : bool
        True when only cells of a mask were kept (see :func:`candidate_footprints`).
    method : str
        How the footprints were computed.
    skipped : int
        Candidates whose reach holds no masked cell: footprint empty, not computed.
    """

    indptr: np.ndarray
    indices: np.ndarray
    shape: tuple[int, int]
    masked: bool = False
    method: str = ""
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def cells(self, k: int) -> np.ndarray:
        """Flat cell indices of candidate ``k``."""
        return self.indices[self.indptr[k]:self.indptr[k + 1]]

    def sizes(self) -> np.ndarray:
        """Number of cells per candidate."""
        return np.diff(self.indptr)

    def subset(self, sel) -> Footprints:
        """Footprints of the candidates ``sel`` (in that order)."""
        sel = np.asarray(sel, dtype=np.int64)
        parts = [self.cells(int(k)) for k in sel]
        sizes = np.array([len(p) for p in parts], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        indices = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        return Footprints(indptr, indices, self.shape, self.masked, self.method)

    def union_mask(self, sel=None) -> np.ndarray:
        """Boolean ``(ny, nx)``: cells covered by any of ``sel`` (default: all)."""
        out = np.zeros(self.shape[0] * self.shape[1], dtype=bool)
        for k in (range(len(self)) if sel is None else sel):
            out[self.cells(int(k))] = True
        return out.reshape(self.shape)

    @classmethod
    def from_sorted(cls, parts: list[np.ndarray], shape: tuple[int, int], *, masked: bool = False,
                    method: str = "") -> Footprints:
        """Build from per-candidate sorted, unique flat cell index arrays."""
        sizes = np.array([len(p) for p in parts], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        indices = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        return cls(indptr, indices, (int(shape[0]), int(shape[1])), masked, method)

    @classmethod
    def from_lists(cls, lists: Iterable[Iterable[int]], shape: tuple[int, int], *, method: str = "lists") -> Footprints:
        """Build from per-candidate lists of flat cell indices (tests, small problems)."""
        parts = [np.unique(np.asarray(list(x), dtype=np.int64)) for x in lists]
        sizes = np.array([len(p) for p in parts], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        indices = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return cls(indptr, indices, (int(shape[0]), int(shape[1])), False, method)


def footprint_method(model: CoverageModel) -> str:
    """How :func:`candidate_footprints` computes footprints for ``model`` (for the plan's provenance)."""
    how = "disc upper bounds, exact footprints on demand" if model.costly_footprints else "exact footprints"
    return f"{model.name} model footprints ({how}; {type(model).__name__}.footprints)"


def candidate_footprints(study: StudyArea, candidates: pd.DataFrame, model: CoverageModel, *,
                         mask: np.ndarray | None = None, progress: bool = False) -> Footprints:
    """Cells each candidate would cover with ``model`` (see the module docstring).

    Parameters
    ----------
    study : StudyArea
        Grid and DEM.
    candidates : DataFrame
        Candidates table (:mod:`covgap.planning.candidates`); each row is one transmitter.
    model : CoverageModel
        The coverage model.
    mask : ndarray of bool, optional
        Keep only cells where True (shape of the grid). Candidates whose reach holds no such
        cell are not computed (their footprint is empty; counted in ``skipped``).
    progress : bool
        Show a progress bar.
    """
    grid = study.grid
    if mask is not None and mask.shape != grid.shape:
        raise InputError(f"footprint mask has shape {mask.shape}; the grid has {grid.shape}.")
    if len(candidates) == 0:
        return Footprints(np.zeros(1, np.int64), np.zeros(0, np.int64), grid.shape, mask is not None,
                          footprint_method(model))
    sites = candidates_to_sites(candidates)
    flat_mask = None if mask is None else mask.ravel()
    active = _reachable(grid, sites, model, mask)
    skipped = int((~active).sum())
    windows = _with_empty(len(sites), active, model.footprints(grid, sites, np.flatnonzero(active), dem=study.dem))
    parts = []
    nx = grid.nx
    for r0, c0, win in tqdm(windows, total=len(sites), desc="candidate footprints", disable=not progress,
                            leave=False):
        wr, wc = np.nonzero(win)
        flat = (wr.astype(np.int64) + int(r0)) * nx + (wc.astype(np.int64) + int(c0))
        if flat_mask is not None:
            flat = flat[flat_mask[flat]]
        parts.append(flat)  # np.nonzero is row-major: already sorted
    if len(parts) != len(sites):
        raise InputError(f"the {model.name} model returned {len(parts)} footprints for {len(sites)} candidates.")
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    indices = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return Footprints(indptr, indices, grid.shape, mask is not None, footprint_method(model), skipped)


def _reachable(grid: Grid, sites: pd.DataFrame, model: CoverageModel, mask: np.ndarray | None) -> np.ndarray:
    """Rows whose reach (:meth:`~covgap.models.base.CoverageModel.reach_m`, as a window) holds any
    masked cell. A row whose window holds none has an empty masked footprint: computing it is
    skipped (exact, since the reach is a bound). Without a mask, all rows."""
    n = len(sites)
    if mask is None:
        return np.ones(n, dtype=bool)
    reach = np.asarray(model.reach_m(grid, sites), dtype="f8")
    cum = np.zeros((grid.ny + 1, grid.nx + 1), dtype=np.int64)
    cum[1:, 1:] = np.cumsum(np.cumsum(mask, axis=0, dtype=np.int64), axis=1)
    x, y = (np.asarray(v, dtype="f8") for v in grid.from_lonlat(sites["lon"].to_numpy(), sites["lat"].to_numpy()))
    out = np.zeros(n, dtype=bool)
    for k in range(n):
        r0, r1, c0, c1 = grid.window_around(float(x[k]), float(y[k]), float(reach[k]))
        out[k] = (cum[r1, c1] - cum[r0, c1] - cum[r1, c0] + cum[r0, c0]) > 0
    return out


def _with_empty(n: int, active: np.ndarray, windows):
    """Yield (row0, col0, window) for all ``n`` rows: computed ones in order, empty for the rest."""
    it = iter(windows)
    empty = np.zeros((0, 0), dtype=bool)
    for k in range(n):
        if active[k]:
            kk, r0, c0, win = next(it)
            if kk != k:
                raise CovgapError(f"internal error: the model gave the footprint of row {kk} where row {k} was due.")
            yield r0, c0, win
        else:
            yield 0, 0, empty


def footprint_bounds(study: StudyArea, candidates: pd.DataFrame, model: CoverageModel, *,
                     mask: np.ndarray | None = None):
    """Cheap upper-bound footprints and an exact refiner, for models whose exact footprints are costly.

    The bound of a candidate is the disc of the model's
    :meth:`~covgap.models.base.CoverageModel.reach_m` (the exact footprint lies inside: checked at
    every refinement). Returns ``(bounds, refine)`` where ``refine(ks)`` gives the exact masked
    cells of rows ``ks``, or ``None`` when the model's exact footprints are as cheap as a bound
    (``model.costly_footprints`` is false).
    """
    if not model.costly_footprints:
        return None
    grid = study.grid
    sites = candidates_to_sites(candidates)
    flat_mask = None if mask is None else mask.ravel()
    nx = grid.nx

    def collect(windows):
        parts = []
        for _, r0, c0, win in windows:
            wr, wc = np.nonzero(win)
            flat = (wr.astype(np.int64) + int(r0)) * nx + (wc.astype(np.int64) + int(c0))
            parts.append(flat if flat_mask is None else flat[flat_mask[flat]])
        return parts

    parts = collect(disc_footprints(grid, sites, np.asarray(model.reach_m(grid, sites), dtype="f8")))
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    bounds = Footprints(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                        np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64),
                        grid.shape, mask is not None, "disc of the model's reach (upper bound)")

    def refine(ks) -> list[np.ndarray]:
        ks = np.asarray(ks, dtype=np.int64)
        got = {k: (k, r0, c0, win) for k, r0, c0, win in model.footprints(grid, sites, ks, dem=study.dem)}
        out = collect(got[int(k)] for k in ks)
        for k, cells in zip(ks, out, strict=True):
            if not np.isin(cells, bounds.cells(int(k)), assume_unique=True).all():
                raise CovgapError(f"internal error: the exact footprint of candidate row {int(k)} leaves its "
                                  "upper bound (the model's reach_m); plan with lazy=False and report this.")
        return out

    return bounds, refine
