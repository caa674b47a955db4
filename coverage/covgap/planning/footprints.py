"""Candidate footprints: the cells each candidate would cover, computed once, stored sparse.

A :class:`Footprints` holds, for candidate ``k``, the flat cell indices
``indices[indptr[k]:indptr[k + 1]]`` (``row * nx + col`` on the study grid, sorted) that
the coverage model says the candidate covers — the CSR layout of a sparse
candidates × cells matrix. :func:`candidate_footprints` builds it with the model the
analysis used, so the planner and :func:`covgap.planning.what_if` agree cell for cell:

* the **radius model**: the same disc kernel as :class:`covgap.radius.RadiusModel`, run on a
  window around each candidate (identical cells, tested);
* the **terrain and Hata models** (:mod:`covgap.terrain`): their single-site footprint (the
  same ray kernel that ``compute`` merges, run in parallel batches), covered where the signal
  reaches the technology's threshold — identical cells to ``compute`` (tested);
* any model with a ``site_footprints(grid, sites, *, dem)`` method yielding
  ``(row0, col0, covered_window)`` per row: used as is;
* any other :class:`covgap.engine.CoverageModel`: ``model.compute`` on a one-row sites table
  per candidate (on a window of ``reach_km`` around it when given, else on the whole grid —
  slow, but exact for any model).

``mask`` keeps only cells where it is True (the planner passes "has people not yet
covered"), which cuts memory by the share of empty or already covered cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._kernels import disc_fill
from ..engine import CoverageModel
from ..errors import InputError
from ..grid import EARTH_RADIUS_M, Grid
from ..radius import RadiusModel
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


def _is_signal_model(model) -> bool:
    try:
        from ..terrain import HataModel, TerrainModel
    except ImportError:  # pragma: no cover - only while the terrain engine is absent
        return False
    return isinstance(model, (HataModel, TerrainModel))


def _is_terrain(model) -> bool:
    try:
        from ..terrain import TerrainModel
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, TerrainModel)


def footprint_method(model: CoverageModel) -> str:
    """Which way :func:`candidate_footprints` computes footprints for ``model``."""
    if isinstance(model, RadiusModel):
        return "radius disc (RadiusModel kernel on a window per candidate)"
    if _is_signal_model(model):
        return f"{model.name} model single-site footprints (covgap.terrain kernels), signal ≥ threshold"
    if callable(getattr(model, "site_footprints", None)):
        return f"{model.name} model single-site footprints"
    return f"{model.name} model compute() per candidate"


def candidate_footprints(study: StudyArea, candidates: pd.DataFrame, model: CoverageModel, *,
                         mask: np.ndarray | None = None, reach_km: float | None = None,
                         progress: bool = False) -> Footprints:
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
        Keep only cells where True (shape of the grid).
    reach_km : float, optional
        For generic models: compute each candidate on a window of this radius.
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
    skipped = 0
    if isinstance(model, RadiusModel):
        windows = _radius_windows(grid, sites, model.site_radius_m(sites))
    elif _is_signal_model(model):
        active = _reachable(study, sites, model, mask)
        skipped = int((~active).sum())
        windows = _with_empty(grid, len(sites), active,
                              _signal_windows(study, sites, model, np.flatnonzero(active)))
    elif callable(getattr(model, "site_footprints", None)):
        windows = model.site_footprints(grid, sites, dem=study.dem)
    else:
        windows = _generic_windows(study, sites, model, reach_km)
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


def _window_bounds(grid: Grid, x: float, y: float, lat: float, radius_m: float) -> tuple[int, int, int, int]:
    """Row/col window (clipped) that holds every cell centre within ``radius_m`` (2 cells spare)."""
    dx, dy = grid.res
    if grid.is_geographic:
        dlat = math.degrees(radius_m / EARTH_RADIUS_M)
        lat_far = min(abs(lat) + dlat, 89.9)
        dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat_far)), 1e-6)))
        rr, cc = dlat / dy + 2.0, dlon / dx + 2.0
    else:
        rr, cc = radius_m / dy + 2.0, radius_m / dx + 2.0
    t = grid.transform
    rc = (y - t.f) / t.e
    ccn = (x - t.c) / t.a
    r0 = max(int(math.floor(rc - rr)), 0)
    r1 = min(int(math.ceil(rc + rr)) + 1, grid.ny)
    c0 = max(int(math.floor(ccn - cc)), 0)
    c1 = min(int(math.ceil(ccn + cc)) + 1, grid.nx)
    return r0, max(r1, r0), c0, max(c1, c0)


def _radius_windows(grid: Grid, sites: pd.DataFrame, radius_m: np.ndarray):
    """Yield (row0, col0, covered window) per site with the radius model's own kernel."""
    x, y = (np.asarray(v, dtype="f8") for v in grid.from_lonlat(sites["lon"].to_numpy(), sites["lat"].to_numpy()))
    lat = sites["lat"].to_numpy(dtype="f8")
    xc_all, yc_all = grid.x_centres(), grid.y_centres()
    one = np.ones(1, dtype=np.uint32)
    row0 = np.zeros(1, dtype=np.int32)
    for k in range(len(sites)):
        r0, r1, c0, c1 = _window_bounds(grid, x[k], y[k], lat[k], radius_m[k])
        shape = (r1 - r0, c1 - c0)
        bits = np.zeros(shape, dtype=np.uint32)
        if shape[0] > 0 and shape[1] > 0:
            disc_fill(bits, np.zeros(shape, np.uint16), np.full(shape, -1, np.int32), np.full(shape, np.inf),
                      xc_all[c0:c1], yc_all[r0:r1], grid.is_geographic, x[k:k + 1], y[k:k + 1],
                      radius_m[k:k + 1], one, row0)
        yield r0, c0, bits != 0


def _thresholds(model, sites: pd.DataFrame) -> np.ndarray:
    from ..linkbudget import technology_defaults

    d = technology_defaults(model.link_budgets, model.thresholds_dbm)
    return np.array([float(d[t].threshold_dbm) for t in sites["technology"].astype(str)])


def _signal_windows(study: StudyArea, sites: pd.DataFrame, model, ks: np.ndarray):
    """Yield (k, row0, col0, covered window) for rows ``ks`` with the terrain/Hata kernels.

    The terrain model runs its batch kernel (one thread per transmitter) — the very kernel
    its ``compute`` merges — when the internals are there; otherwise the public
    :func:`covgap.terrain.site_footprint` is called per row. Covered = finite signal ≥ the
    technology threshold (as ``compute`` merges it).
    """
    from .. import terrain as T

    grid = study.grid
    sites = sites.reset_index(drop=True)
    ks = np.asarray(ks, dtype=np.int64)
    if _is_terrain(model) and hasattr(model, "_prepare") and hasattr(model, "_batches"):
        thr = _thresholds(model, sites)
        dem_a = T._as_dem(study.dem, grid)
        prep = model._prepare(grid, sites, dem_a, need_ground=True, invalid_sites="error")
        if prep.rows.size != len(sites):  # pragma: no cover - invalid_sites="error" keeps every row
            raise InputError("terrain model left out candidate rows; check them with check_candidates first.")
        counters = {"nodata": 0, "unhit": 0}
        for k, sig, r0, c0 in model._batches(grid, dem_a, prep, ks, counters):
            with np.errstate(invalid="ignore"):
                cov = np.isfinite(sig) & (sig >= thr[k])
            yield int(k), r0, c0, cov
        if counters["unhit"]:
            from ..errors import CovgapError

            raise CovgapError(f"internal error: {counters['unhit']} cell(s) inside a radius not reached by a radial.")
        return
    for k in ks:
        f = T.site_footprint(grid, study.dem, sites, int(k), model=model)
        yield int(k), f.row0, f.col0, f.covered


def _reachable(study: StudyArea, sites: pd.DataFrame, model, mask: np.ndarray | None) -> np.ndarray:
    """Rows whose reach (link-budget radius + 2 cells, as a window) holds any masked cell.

    A row whose window holds none has an empty masked footprint: computing it is skipped
    (exact: the ray kernel writes no cell beyond its radius). Without a mask, all rows.
    """
    n = len(sites)
    if mask is None or not hasattr(model, "_prepare"):
        return np.ones(n, dtype=bool)
    from .. import terrain as T

    grid = study.grid
    need_ground = _is_terrain(model)
    prep = model._prepare(grid, sites, T._as_dem(study.dem, grid) if need_ground else None,
                          need_ground=need_ground, invalid_sites="error")
    if prep.rows.size != n:  # pragma: no cover - invalid_sites="error" keeps every row
        return np.ones(n, dtype=bool)
    dxm, dym = grid.cell_size_m()
    margin = 2.0 * float(np.hypot(dxm.max(), dym.max()))
    cum = np.zeros((grid.ny + 1, grid.nx + 1), dtype=np.int64)
    cum[1:, 1:] = np.cumsum(np.cumsum(mask, axis=0, dtype=np.int64), axis=1)
    x, y = (np.asarray(v, dtype="f8") for v in grid.from_lonlat(sites["lon"].to_numpy(), sites["lat"].to_numpy()))
    lat = sites["lat"].to_numpy(dtype="f8")
    out = np.zeros(n, dtype=bool)
    for k in range(n):
        r0, r1, c0, c1 = _window_bounds(grid, x[k], y[k], lat[k], float(prep.radius_m[k]) + margin)
        out[k] = (cum[r1, c1] - cum[r0, c1] - cum[r1, c0] + cum[r0, c0]) > 0
    return out


def _with_empty(grid: Grid, n: int, active: np.ndarray, windows):
    """Yield (row0, col0, window) for all ``n`` rows: computed ones in order, empty for the rest."""
    it = iter(windows)
    empty = np.zeros((0, 0), dtype=bool)
    for k in range(n):
        if active[k]:
            kk, r0, c0, win = next(it)
            if kk != k:  # pragma: no cover - the generators keep the order
                raise InputError("internal error: footprints out of order.")
            yield r0, c0, win
        else:
            yield 0, 0, empty


def footprint_bounds(study: StudyArea, candidates: pd.DataFrame, model: CoverageModel, *,
                     mask: np.ndarray | None = None):
    """Cheap upper-bound footprints and an exact refiner, for models where exact ones are costly.

    For the terrain model the bound of a candidate is the disc of its link-budget radius plus
    two cells: terrain only ever adds loss to the base model, and the ray kernel writes no
    cell beyond its radius, so the exact footprint lies inside (checked at every refinement).
    Returns ``(bounds, refine)`` where ``refine(ks)`` gives the exact masked cells of rows
    ``ks``, or ``None`` when the model's exact footprints are as cheap as a bound.
    """
    if not (_is_terrain(model) and hasattr(model, "_prepare")):
        return None
    from .. import terrain as T

    grid = study.grid
    sites = candidates_to_sites(candidates)
    prep = model._prepare(grid, sites, T._as_dem(study.dem, grid), need_ground=True, invalid_sites="error")
    dxm, dym = grid.cell_size_m()
    margin = 2.0 * float(np.hypot(dxm.max(), dym.max()))
    flat_mask = None if mask is None else mask.ravel()
    nx = grid.nx

    def collect(windows):
        parts = []
        for r0, c0, win in windows:
            wr, wc = np.nonzero(win)
            flat = (wr.astype(np.int64) + int(r0)) * nx + (wc.astype(np.int64) + int(c0))
            parts.append(flat if flat_mask is None else flat[flat_mask[flat]])
        return parts

    parts = collect(_radius_windows(grid, sites, prep.radius_m + margin))
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    bounds = Footprints(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                        np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64),
                        grid.shape, mask is not None, "disc of the link-budget radius + 2 cells (upper bound)")

    def refine(ks) -> list[np.ndarray]:
        ks = np.asarray(ks, dtype=np.int64)
        got = {k: (r0, c0, win) for k, r0, c0, win in _signal_windows(study, sites, model, ks)}
        out = collect(got[int(k)] for k in ks)
        for k, cells in zip(ks, out, strict=True):
            if not np.isin(cells, bounds.cells(int(k)), assume_unique=True).all():
                from ..errors import CovgapError

                raise CovgapError(f"internal error: the exact footprint of candidate row {int(k)} leaves its "
                                  "upper bound; plan with lazy=False and report this.")
        return out

    return bounds, refine


def _generic_windows(study: StudyArea, sites: pd.DataFrame, model: CoverageModel, reach_km: float | None):
    grid = study.grid
    x, y = (np.asarray(v, dtype="f8") for v in grid.from_lonlat(sites["lon"].to_numpy(), sites["lat"].to_numpy()))
    lat = sites["lat"].to_numpy(dtype="f8")
    for k in range(len(sites)):
        if reach_km is None:
            r0, r1, c0, c1 = 0, grid.ny, 0, grid.nx
        else:
            r0, r1, c0, c1 = _window_bounds(grid, x[k], y[k], lat[k], reach_km * 1000.0)
        sub = grid.window(r0, r1, c0, c1)
        dem = None if study.dem is None else study.dem[r0:r1, c0:c1]
        cov = model.compute(sub, sites.iloc[k:k + 1].reset_index(drop=True), dem=dem)
        yield r0, c0, cov.any_covered()
