"""Ensemble members tile by tile: memory bounded by the tile size, whatever the size of the grid.

A member is ``margin + σ_link·z + σ_loc·F ≥ 0`` per technology, OR over technologies, then sums
of people per unit, per gap cluster and per hamlet. Every part of that is local to a cell except
the location field ``F``, which :func:`~covgap.uncertainty.location_field` draws for any window
exactly as in the whole-grid field (noise keyed by global block position, filtered over the
window grown by the filter's radius). So a tile task reads its margins from a tile store
(:class:`~covgap.tiling.TiledCoverage`, computed once with headroom), its population, labels and
clusters, evaluates every member on the tile and returns small per-member sums
(members × units); the driver adds them across tiles. Peak memory is one tile's arrays times a
few, not the grid. The per-cell share of members without signal is written per tile to disk.

See docs/design.md "Uncertainty ensembles on the tiled path".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..models.location import location_margin_db
from ..overlay import zonal_sum
from ..tiling import TiledCoverage, TilePlan
from ..tiling.executors import run_tasks
from ..tiling.plan import Tile
from ..tiling.store import RasterSource, core_source, load_arrays, read_window, save_arrays
from .draws import location_field

__all__ = ["MemberDraws", "MemberSums", "tiled_member_sums"]


@dataclass
class MemberDraws:
    """What each member draws, decided before any tile is read (so every tile sees the same members).

    Attributes
    ----------
    link_offset_db : dict of technology to ndarray (members,)
        ``σ_link,t · z_m`` [dB] added to the margins of technology ``t``.
    location_sigma_db : dict of technology to float
        ``σ_loc,t`` [dB] (0: no location field for that technology).
    field_keys : ndarray of int or None
        Per member, the key of its location field (:func:`covgap.uncertainty.location_field`);
        None when no technology has a location spread.
    correlation_m : float
        The location field's correlation distance [m].
    population_index : ndarray of int (members,)
        Which population layer each member uses (0 = the run's).
    link_z : ndarray (members,)
        The standard normal link-budget draw of each member (shared by the technologies).
    """

    link_offset_db: dict[str, np.ndarray]
    location_sigma_db: dict[str, float]
    field_keys: np.ndarray | None
    correlation_m: float
    population_index: np.ndarray
    link_z: np.ndarray | None = None

    @property
    def members(self) -> int:
        """Number of members."""
        return int(self.population_index.size)


@dataclass
class MemberSums:
    """Per-member sums of a tiled ensemble (see :func:`tiled_member_sums`); sums are over tiles.

    Attributes
    ----------
    population : dict of level to ndarray (layers, n_units + 1)
        People per unit label (index 0 = outside all units) of each population layer.
    covered : dict of level to ndarray (members, n_units + 1)
        People with some signal per unit label, per member.
    clusters_uncovered : ndarray (members, n_clusters + 1)
        People without signal (of the gap technology) per cluster label (0 = outside clusters).
    hamlets_no_signal : ndarray of bool (members, n_hamlets)
        Whether each hamlet's cell has no signal in each member (False for hamlets off the grid).
    population_total, covered_total : ndarray (members,)
        Whole-grid people and people with some signal per member.
    no_signal_dir : Path or None
        Folder of the per-tile share of members without signal (:meth:`read_no_signal`).
    """

    population: dict[str, np.ndarray]
    covered: dict[str, np.ndarray]
    clusters_uncovered: np.ndarray
    hamlets_no_signal: np.ndarray
    population_total: np.ndarray
    covered_total: np.ndarray
    no_signal_dir: Path | None = None
    tiles: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    def read_no_signal(self, tile: Tile) -> np.ndarray:
        """The share of members without any signal on one tile (float32, the tile's shape)."""
        if self.no_signal_dir is None:
            raise ValueError("no_signal_dir was not given: the no-signal probability was not written.")
        return load_arrays(self.no_signal_dir / f"{tile.name}.bin")["p"]

    def no_signal_probability(self, plan: TilePlan) -> np.ndarray:
        """Assemble the share of members without signal on the whole grid (float32; O(grid) memory)."""
        out = np.zeros(plan.grid.shape, dtype=np.float32)
        for t in plan.tiles():
            out[t.row0:t.row1, t.col0:t.col1] = self.read_no_signal(t)
        return out


def margin_field(tc, thresholds: Mapping[str, float] | None) -> tuple[np.ndarray, float, bool]:
    """(``signal − (threshold + location margin)`` [dB] float32, σL, has a signal) of one
    technology's coverage (a whole grid or one tile); ±inf where a model without signal
    covers / does not cover, −inf where no transmitter reaches."""
    if tc.signal_dbm is None or tc.threshold_dbm is None or thresholds is None:
        return np.where(tc.covered, np.float32(np.inf), np.float32(-np.inf)).astype(np.float32), 0.0, False
    t = thresholds[tc.technology] + location_margin_db(tc.location_percent, tc.location_std_db)
    with np.errstate(invalid="ignore"):
        m64 = tc.signal_dbm.astype("f8") - t
    return np.where(np.isfinite(m64), m64, -np.inf).astype(np.float32), float(tc.location_std_db), True


def _members_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Every member on one tile: per-member sums (small) and the tile's no-signal share (to disk)."""
    cov: TiledCoverage = spec["coverage"]
    tile: Tile = spec["tile"]
    d: MemberDraws = spec["draws"]
    techs: list[str] = spec["technologies"]
    win = (tile.row0, tile.row1, tile.col0, tile.col1)
    tcov = cov.read_tile(tile)
    margins = {t: margin_field(tcov.technologies[t], spec["thresholds"])[0]
               for t in techs if t in tcov.technologies}
    del tcov
    pops = [np.asarray(read_window(p, *win), dtype="f8") for p in spec["population"]]
    labels = {lv: (read_window(src, *win), n) for lv, (src, n) in spec["levels"].items()}
    foreign = {t: np.asarray(read_window(src, *win), dtype=bool) for t, src in (spec["foreign"] or {}).items()}
    cl = None
    if spec["clusters"] is not None:
        src, n_cl = spec["clusters"]
        cl = (np.asarray(read_window(src, *win), dtype=np.int64).ravel(), int(n_cl))
    m_n = d.members
    pop_sums = {lv: np.stack([zonal_sum(p, lab, n) for p in pops]) for lv, (lab, n) in labels.items()}
    covered = {lv: np.zeros((m_n, n + 1)) for lv, (_, n) in labels.items()}
    cl_unc = np.zeros((m_n, cl[1] + 1)) if cl is not None else np.zeros((m_n, 0))
    h_idx, h_r, h_c = spec["hamlets"]
    h_no = np.zeros((m_n, h_idx.size), dtype=bool)
    pop_tot = np.zeros(m_n)
    cov_tot = np.zeros(m_n)
    count = np.zeros(tile.shape, dtype=np.uint16 if m_n < 65535 else np.uint32)
    any_cov = np.zeros(tile.shape, dtype=bool)
    gap_tech = spec["gap_technology"]
    loc_on = d.field_keys is not None and any(v > 0 for v in d.location_sigma_db.values())
    for m in range(m_n):
        pop = pops[int(d.population_index[m])]
        fld = location_field(int(d.field_keys[m]), spec["grid"], d.correlation_m, window=win) if loc_on else None
        any_cov[...] = False
        per_tech: dict[str, np.ndarray] = {}
        for t in techs:
            if t in margins:
                tmp = margins[t] + np.float32(d.link_offset_db[t][m])
                sig = d.location_sigma_db.get(t, 0.0)
                if fld is not None and sig > 0:
                    tmp += fld * np.float32(sig)
                cov_t = tmp >= 0.0
            else:
                cov_t = np.zeros(tile.shape, bool)
            if t in foreign:
                cov_t |= foreign[t]
            per_tech[t] = cov_t
            np.logical_or(any_cov, cov_t, out=any_cov)
        for t, f in foreign.items():
            if t not in per_tech:
                np.logical_or(any_cov, f, out=any_cov)
        w = np.where(any_cov, pop, 0.0)
        for lv, (lab, n) in labels.items():
            covered[lv][m] = zonal_sum(w, lab, n)
        if cl is not None:
            gap = ~any_cov if gap_tech == "any" else ~per_tech.get(gap_tech, np.zeros(tile.shape, bool))
            cl_unc[m] = np.bincount(cl[0], weights=np.where(gap, pop, 0.0).ravel(), minlength=cl[1] + 1)
        if h_idx.size:
            h_no[m] = ~any_cov[h_r, h_c]
        count += ~any_cov
        pop_tot[m] = pop.sum(dtype=np.float64)
        cov_tot[m] = w.sum(dtype=np.float64)
    if spec["no_signal_dir"] is not None:
        save_arrays(Path(spec["no_signal_dir"]) / f"{tile.name}.bin",
                    {"p": (count / np.float32(max(m_n, 1))).astype(np.float32)})
    return {"tile": tile.name, "population": pop_sums, "covered": covered, "clusters": cl_unc,
            "hamlets": (h_idx, h_no), "population_total": pop_tot, "covered_total": cov_tot}


def tiled_member_sums(coverage: TiledCoverage, draws: MemberDraws, *, technologies: Sequence[str],
                      thresholds: Mapping[str, float] | None, population: Sequence[RasterSource],
                      levels: Mapping[str, tuple[RasterSource, int]],
                      clusters: tuple[RasterSource, int] | None = None, gap_technology: str = "any",
                      hamlets_rc: tuple[np.ndarray, np.ndarray] | None = None,
                      foreign: Mapping[str, RasterSource] | None = None,
                      no_signal_dir: str | Path | None = None, executor: Any = None, max_in_flight: int = 8,
                      progress: bool = False) -> MemberSums:
    """Evaluate every member tile by tile and add the per-member sums across tiles.

    Parameters
    ----------
    coverage : TiledCoverage
        The signal computed once, with the ensemble's headroom (thresholds lowered by the largest
        positive draw); its tiles give the margin fields.
    draws : MemberDraws
    technologies : sequence of str
        The technologies of the run (a technology absent from ``coverage`` covers nothing).
    thresholds : dict of technology to dBm, or None
        The run's own thresholds (not lowered): margins are taken against them. None for a
        model without thresholds (radius): coverage is then taken as it is.
    population : sequence of raster sources
        People per cell: the run's layer first, then the alternatives (``draws.population_index``).
    levels : dict of level to (labels source, n_units)
        Unit labels (``0`` outside, ``k + 1`` for unit ``k``) per admin level.
    clusters : (labels source, n_clusters), optional
        Gap-cluster labels of the deterministic run (0 outside clusters).
    gap_technology : str
        ``"any"`` or the technology whose absence makes a cluster cell a gap.
    hamlets_rc : (rows, cols), optional
        Grid row and column of each hamlet (−1 for hamlets off the grid).
    foreign : dict of technology to boolean raster source, optional
        Neighbouring networks' coverage OR-ed into every member (held fixed).
    no_signal_dir : path, optional
        Folder (shared by the workers) where each tile's share of members without any signal is
        written (:meth:`MemberSums.read_no_signal`); not written when None.
    executor, max_in_flight, progress
        As in :func:`covgap.tiling.compute_coverage_tiled`.

    Returns
    -------
    MemberSums
        Sums over tiles (in tile-name order, so the same on any executor). Memory: one tile's
        margins, population layers, labels and a few masks per task, plus members × units.
    """
    plan = coverage.plan
    grid = plan.grid
    techs = list(technologies)
    if hamlets_rc is not None:
        hr = np.asarray(hamlets_rc[0], dtype=np.int64)
        hc = np.asarray(hamlets_rc[1], dtype=np.int64)
    else:
        hr = hc = np.zeros(0, np.int64)
    out_dir = Path(no_signal_dir) if no_signal_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    def specs():
        for t in plan.tiles():
            inside = (hr >= t.row0) & (hr < t.row1) & (hc >= t.col0) & (hc < t.col1)
            idx = np.flatnonzero(inside)
            yield {"coverage": coverage, "tile": t, "draws": draws, "technologies": techs, "grid": grid,
                   "thresholds": None if thresholds is None else dict(thresholds),
                   "population": [core_source(p, t) for p in population],
                   "levels": {lv: (core_source(src, t), int(n)) for lv, (src, n) in levels.items()},
                   "clusters": None if clusters is None else (core_source(clusters[0], t), int(clusters[1])),
                   "foreign": {k: core_source(v, t) for k, v in (foreign or {}).items()},
                   "hamlets": (idx, hr[idx] - t.row0, hc[idx] - t.col0), "gap_technology": gap_technology,
                   "no_signal_dir": None if out_dir is None else str(out_dir)}

    n_tiles = len(plan.tiles())
    results = run_tasks(_members_task, specs(), n_tiles, executor, desc="tiles: ensemble members",
                        progress=progress, max_in_flight=max_in_flight)
    m_n = draws.members
    pop = {lv: np.zeros((len(population), int(n) + 1)) for lv, (_, n) in levels.items()}
    cov = {lv: np.zeros((m_n, int(n) + 1)) for lv, (_, n) in levels.items()}
    cl_unc = np.zeros((m_n, int(clusters[1]) + 1 if clusters is not None else 0))
    h_no = np.zeros((m_n, hr.size), dtype=bool)
    ptot = np.zeros(m_n)
    ctot = np.zeros(m_n)
    for res in sorted(results, key=lambda r: r["tile"]):
        for lv in pop:
            pop[lv] += res["population"][lv]
            cov[lv] += res["covered"][lv]
        if cl_unc.size:
            cl_unc += res["clusters"]
        idx, flags = res["hamlets"]
        h_no[:, idx] = flags
        ptot += res["population_total"]
        ctot += res["covered_total"]
    return MemberSums(population=pop, covered=cov, clusters_uncovered=cl_unc, hamlets_no_signal=h_no,
                      population_total=ptot, covered_total=ctot, no_signal_dir=out_dir, tiles=n_tiles)

