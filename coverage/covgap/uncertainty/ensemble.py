"""Run an ensemble of members around one analysis, reusing what does not change.

The grid, admin labels, terrain and the deterministic analysis are shared. Per technology the
signal is computed **once** (with the threshold lowered by the largest positive draw, so the
field reaches every cell any member can cover) and kept as a margin field
``signal − (threshold + location margin)`` [dB]. A member then only adds its link-budget
offset and its location field to the margins, compares with 0 and sums people per unit: a
link-budget or location draw moves the threshold, not the terrain. Only members with
tower-position error recompute footprints (their moved sites, through the model's protocol).

See docs/design.md "Uncertainty ensembles" for the choices (correlated link-budget offsets,
a spatially correlated location field, the tower-position rule) and measured costs.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import Analysis, analyse, gap_mask
from ..errors import InputError, ModelRangeWarning
from ..gaps import label_gaps
from ..models.base import Coverage, CoverageModel, compute_coverage
from ..models.calibrated import CalibratedModel
from ..models.linkbudget import technology_defaults
from ..overlay import zonal_sum
from ..study import StudyArea
from ..tiling import TiledModel, compute_coverage_tiled
from .draws import field_key, location_field, member_streams, move_sites
from .spec import LOCATION_CLIP_SIGMA, EnsembleSpec, tower_sigma_m
from .tiled import MemberDraws, margin_field, tiled_member_sums

__all__ = ["EnsembleResult", "SignalMargins", "run_ensemble", "signal_margins", "attach_ensemble",
           "member_draws", "ensemble_sums_tiled",
           "RANGE_COLUMNS", "PERCENTILES"]

#: The percentiles every ensemble reports.
PERCENTILES = (10, 50, 90)

#: Columns an ensemble adds to each per-unit table (and, but for ``top_n_share``, to the gap clusters).
RANGE_COLUMNS = ("uncovered_p10", "uncovered_p50", "uncovered_p90", "top_n_share")


@dataclass
class SignalMargins:
    """Per technology, ``signal − (threshold + location margin)`` [dB] on the grid.

    Attributes
    ----------
    margins : dict of technology to float32 ndarray
        ≥ 0 where the deterministic run covers the cell; −inf where no transmitter reaches;
        +inf where a model without a signal (radius) covers it.
    location_std_db : dict of technology to float
        The model's σL (0 without a signal).
    has_signal : bool
        False for models without a signal (link-budget and location draws then change nothing).
    headroom_db : float
        How far below the threshold the signal field was computed.
    """

    margins: dict[str, np.ndarray]
    location_std_db: dict[str, float]
    has_signal: bool
    headroom_db: float = 0.0

    def covered(self, technology: str, offset_db: float = 0.0, field_db: np.ndarray | None = None,
                out: np.ndarray | None = None) -> np.ndarray:
        """Boolean: ``margin + offset_db (+ field_db) ≥ 0``; with no offset and no field, the
        deterministic coverage exactly."""
        m = self.margins[technology]
        if offset_db == 0.0 and field_db is None:
            return np.greater_equal(m, 0.0, out=out)
        tmp = m + np.float32(offset_db)
        if field_db is not None:
            tmp += field_db
        return np.greater_equal(tmp, 0.0, out=out)


def _thresholds(model: CoverageModel) -> dict[str, float] | None:
    inner = model
    while isinstance(inner, (TiledModel, CalibratedModel)):  # wrappers keep the inner model's thresholds
        inner = inner.model
    if not hasattr(inner, "thresholds_dbm") or not hasattr(inner, "link_budgets"):
        return None
    return {t: float(d.threshold_dbm) for t, d in technology_defaults(inner.link_budgets, inner.thresholds_dbm).items()}


def _with_headroom(model: CoverageModel, headroom_db: float) -> CoverageModel:
    """The same model with every threshold lowered by ``headroom_db`` (signals unchanged, radii larger)."""
    if headroom_db <= 0:
        return model
    if isinstance(model, TiledModel):
        return replace(model, model=_with_headroom(model.model, headroom_db), last=None, workdir=None)
    if isinstance(model, CalibratedModel):  # offsets move the signal, the inner model holds the thresholds
        return replace(model, model=_with_headroom(model.model, headroom_db))
    thr = _thresholds(model)
    if thr is None or not is_dataclass(model):
        raise InputError(f"model {model.name!r} has no per-technology thresholds covgap can lower, so link-budget and "
                         "location spreads cannot be drawn for it. Fix: set link_budget_db and location_db to 0, or "
                         "use the hata, terrain or p1812 model.")
    return replace(model, thresholds_dbm={t: v - headroom_db for t, v in thr.items()})


def signal_margins(grid, sites: pd.DataFrame, model: CoverageModel, *, dem: np.ndarray | None = None,
                   headroom_db: float = 0.0, coverage: Coverage | None = None) -> SignalMargins:
    """Margin fields of ``model`` on ``grid``; the signal computed with ``headroom_db`` of spare link budget.

    ``coverage``: the deterministic coverage, reused when no headroom is needed (nothing is
    recomputed then). Thresholds are the model's own, so with no draw ``margins ≥ 0`` is
    exactly the deterministic coverage (tested). A :class:`~covgap.tiling.TiledModel` computes
    the signal tile by tile and only the margin fields are assembled (4 bytes per cell and
    technology), never a second whole-grid :class:`Coverage`.
    """
    thr = _thresholds(model)
    margins: dict[str, np.ndarray] = {}
    std: dict[str, float] = {}
    has_signal = False
    if isinstance(model, TiledModel) and (coverage is None or headroom_db > 0):
        hm = _with_headroom(model, headroom_db)
        work = Path(tempfile.mkdtemp(prefix="covgap-ensemble-tiles-"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ModelRangeWarning)  # said by the deterministic run
                tcov = compute_coverage_tiled(grid, sites, hm.model, dem=dem, tile_size=hm.tile_size,
                                              halo_m=hm.halo_m, workdir=work, executor=hm.executor,
                                              numba_threads=hm.numba_threads)
            for tile in tcov.plan.tiles():
                sl = (slice(tile.row0, tile.row1), slice(tile.col0, tile.col1))
                for tech, tc in tcov.read_tile(tile).technologies.items():
                    if tech not in margins:
                        margins[tech] = np.full(grid.shape, -np.inf, dtype=np.float32)
                    margins[tech][sl], std[tech], sig = margin_field(tc, thr)
                    has_signal |= sig
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return SignalMargins(margins=margins, location_std_db=std, has_signal=has_signal,
                             headroom_db=float(headroom_db))
    if coverage is None or headroom_db > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelRangeWarning)  # said by the deterministic run
            coverage = compute_coverage(grid, sites, _with_headroom(model, headroom_db), dem=dem)
    for tech, tc in coverage.technologies.items():
        margins[tech], std[tech], sig = margin_field(tc, thr)
        has_signal |= sig
    return SignalMargins(margins=margins, location_std_db=std, has_signal=has_signal, headroom_db=float(headroom_db))


@dataclass
class EnsembleResult:
    """What an ensemble computed (see :func:`run_ensemble`).

    Attributes
    ----------
    spec : EnsembleSpec
    units : dict of level to DataFrame
        ``code, name, level, population_p10/p50/p90, uncovered_p10/p50/p90, uncovered_mean,
        top_n_share`` per unit, in the order of the study's units.
    clusters : DataFrame
        Per gap cluster of the deterministic run (``cluster_id``): ``uncovered_p10/p50/p90`` =
        people in the cluster's cells without signal (of the run's gap technology) per member.
    hamlets : DataFrame or None
        ``p_no_signal`` per hamlet (row order of the analysis' hamlets; NaN outside the grid).
    totals : dict
        Whole-grid people without signal: ``p10, p50, p90, mean, deterministic``.
    no_signal_probability : ndarray of float32
        Per cell, the share of members without any signal there.
    member_units : dict of level to dict of ndarray (members, units)
        ``population``, ``covered``, ``uncovered`` of every member (covered + uncovered = population).
    members : DataFrame
        One row per member: ``member, link_z, population_layer, sites_clipped, uncovered``.
    notes : list of str
    timings : dict of str to float
        Seconds: ``signal`` (margin fields once), ``members`` (all members' comparisons and
        sums), ``tower_members`` (recomputed footprints, when drawn).
    """

    spec: EnsembleSpec
    units: dict[str, pd.DataFrame]
    clusters: pd.DataFrame
    hamlets: pd.DataFrame | None
    totals: dict[str, float]
    no_signal_probability: np.ndarray
    member_units: dict[str, dict[str, np.ndarray]]
    members: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    margins: SignalMargins | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable description: the spec, whole-grid range, notes, timings."""
        return {"spec": self.spec.as_dict(), "percentiles": list(PERCENTILES),
                "population_uncovered": {k: float(v) for k, v in self.totals.items()},
                "definition": ("uncovered_p10/p50/p90: the 10th/50th/90th percentile over the ensemble members of "
                               "the people without any signal (linear interpolation between members); top_n_share: "
                               f"share of members in which the unit is among the {self.spec.top_n} units of its level "
                               "with the most people without signal; p_no_signal: share of members in which the "
                               "hamlet's cell has no signal"),
                "members_table": self.members.to_dict(orient="list"),
                "notes": list(self.notes), "timings_s": {k: round(float(v), 3) for k, v in self.timings.items()}}


def _headroom(spec: EnsembleSpec, techs: list[str], z: np.ndarray, loc_std: dict[str, float]) -> float:
    lb = max((spec.link_sigma_db(t) for t in techs), default=0.0)
    h = max(float(np.max(z)) * lb, 0.0) if z.size else 0.0
    return h + LOCATION_CLIP_SIGMA * max((loc_std.get(t, 0.0) for t in techs), default=0.0)


def _location_sigma(spec: EnsembleSpec, techs: list[str], model_std: dict[str, float]) -> dict[str, float]:
    if spec.location_db == "model":
        return {t: float(model_std.get(t, 0.0)) for t in techs}
    return {t: float(spec.location_db) for t in techs}


def run_ensemble(study: StudyArea, model: CoverageModel, spec: EnsembleSpec, *, analysis: Analysis | None = None,
                 margins: SignalMargins | None = None, progress: bool = False) -> EnsembleResult:
    """Run ``spec.members`` members around the deterministic analysis of ``study`` with ``model``.

    Parameters
    ----------
    study : StudyArea
    model : CoverageModel
        The run's model. A :class:`covgap.tiling.TiledModel` computes the signal tile by tile and,
        unless towers move, evaluates the members tile by tile too (:func:`ensemble_sums_tiled`;
        memory bounded by the tile, the margins are never assembled: ``result.margins`` is None).
    spec : EnsembleSpec
        Spreads, members, seed.
    analysis : Analysis, optional
        The deterministic run of ``study`` with ``model`` (its clusters, hamlets, options and
        foreign coverage are used); computed when not given.
    margins : SignalMargins, optional
        Margin fields of an earlier call (:attr:`EnsembleResult.margins`), reused when they were
        computed with at least the headroom this spec needs (e.g. by :func:`sensitivity`).

    Returns
    -------
    EnsembleResult

    Notes
    -----
    Member ``m`` covers a cell with technology ``t`` when
    ``margin_t + σ_link,t · z_m + σ_loc,t · F_m ≥ 0`` (``z_m`` one standard normal per member,
    ``F_m`` a standard normal field correlated over ``location_correlation_m``), with moved
    sites when ``tower_position_m`` > 0 (or the sites carry OpenCelliD range/samples), on a
    population grid drawn uniformly among the run's and ``spec.population``. With every
    spread 0 each member is the deterministic run exactly (tested).
    """
    if analysis is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelRangeWarning)
            analysis = analyse(study, model)
    grid = study.grid
    pops = [np.asarray(study.population, dtype="f8")]
    names = ["run"]
    for name, arr in spec.population.items():
        a = np.asarray(arr, dtype="f8")
        if a.shape != grid.shape:
            raise InputError(f"population layer {name!r} has shape {a.shape}; the study grid has {grid.shape}. "
                             "Fix: put it on the study grid first (covgap.compare.layer_on_grid).")
        if not np.isfinite(a).all() or (a < 0).any():
            raise InputError(f"population layer {name!r} holds NaN or negative values. Fix: clean_population().")
        pops.append(a)
        names.append(str(name))
    dom = analysis.domestic_coverage or analysis.coverage
    techs = sorted(dom.technologies)
    streams = member_streams(spec.seed, spec.members)
    model_std = {t: float(tc.location_std_db) for t, tc in dom.technologies.items()}
    has_signal = any(tc.signal_dbm is not None for tc in dom.technologies.values())
    notes: list[str] = []
    if not has_signal and (any(spec.link_sigma_db(t) > 0 for t in techs) or spec.location_db not in (0, 0.0)):
        notes.append(f"the {dom.model} model has no signal: link_budget_db and location_db change nothing "
                     "(only population grids and tower positions vary)")
    draws, headroom = member_draws(spec, techs, location_std_db=model_std, n_population=len(pops),
                                   has_signal=has_signal)
    z = draws.link_z
    pop_index = draws.population_index
    loc_on = draws.field_keys is not None
    sigma_site = tower_sigma_m(study.sites, spec.tower_position_m)
    move = bool((sigma_site > 0).any())  # then every member recomputes its own margins
    reuse = margins is not None and margins.headroom_db >= headroom
    per_tile = isinstance(model, TiledModel) and not move and not reuse  # members tile by tile
    t0 = time.perf_counter()
    if reuse:
        base: SignalMargins | None = margins
    elif move or per_tile:
        base = None
    else:
        base = signal_margins(grid, study.sites, model, dem=study.dem, headroom_db=headroom, coverage=dom)
    timings = {"signal": time.perf_counter() - t0}
    opts = analysis.options
    count_foreign = bool(opts.get("count_foreign", False)) and analysis.foreign_coverage is not None
    foreign = analysis.foreign_coverage
    gap_tech = str(opts.get("gap_technology", "any"))
    # gap clusters of the deterministic run: their cells
    clusters = analysis.clusters
    cl_labels, n_cl = label_gaps(study.population, gap_mask(analysis.coverage, gap_tech),
                                 connectivity=int(opts.get("connectivity", 8)))
    cl_lab = cl_labels.ravel()
    cl_ids = clusters["cluster_id"].to_numpy(dtype=np.int64) if len(clusters) else np.zeros(0, np.int64)
    # hamlet cells
    h_rc = None
    if analysis.hamlets is not None:
        x, y = grid.from_lonlat(analysis.hamlets["lon"].to_numpy(), analysis.hamlets["lat"].to_numpy())
        r, c = grid.rowcol(x, y)
        inside = grid.contains_rowcol(r, c)
        h_rc = (np.where(inside, r, 0), np.where(inside, c, 0), inside)
    levels = [a for a in study.admin]
    m_n = spec.members
    mu = {a.level: {k: np.zeros((m_n, a.n_units)) for k in ("population", "covered", "uncovered")} for a in levels}
    if per_tile:
        t1 = time.perf_counter()
        sums = _members_per_tile(study, model, draws, techs=techs, headroom=headroom, pops=pops,
                                 clusters=(cl_labels, n_cl) if cl_ids.size else None, gap_tech=gap_tech, h_rc=h_rc,
                                 foreign=foreign.technologies if count_foreign else None, progress=progress)
        timings["signal"] = float(sums.stats["signal_s"])
        timings["members"] = time.perf_counter() - t1 - timings["signal"]
        return _result_from_sums(spec, analysis, sums, levels, mu, cl_ids, h_rc, pop_index, names, z, notes,
                                 headroom, timings)
    pop_tot: dict[tuple[str, int], np.ndarray] = {}
    cl_unc = np.zeros((m_n, cl_ids.size))
    h_no = np.zeros((m_n, 0 if h_rc is None else h_rc[0].size), dtype=bool)
    count = np.zeros(grid.shape, dtype=np.uint16 if m_n < 65535 else np.uint32)
    rows = []
    any_cov = np.zeros(grid.shape, dtype=bool)
    tmp = np.zeros(grid.shape, dtype=bool)
    t_members = 0.0
    t_towers = 0.0
    from tqdm.auto import tqdm

    for m in tqdm(range(m_n), desc="ensemble members", disable=not progress, leave=False):
        s = streams[m]
        k = int(pop_index[m])
        pop = pops[k]
        mar = base
        clipped = 0
        if move:
            t1 = time.perf_counter()
            moved, clipped = move_sites(s.tower_position, study.sites, sigma_site, grid)
            mar = signal_margins(grid, moved, model, dem=study.dem, headroom_db=headroom)
            t_towers += time.perf_counter() - t1
        t1 = time.perf_counter()
        fld = None
        if loc_on:
            fld = location_field(int(draws.field_keys[m]), grid, spec.location_correlation_m)
        any_cov[...] = False
        per_tech: dict[str, np.ndarray] = {}
        for t in techs:
            off = float(draws.link_offset_db[t][m])
            f_t = None if fld is None or draws.location_sigma_db[t] == 0 else fld * np.float32(
                draws.location_sigma_db[t])
            cov_t = mar.covered(t, off, f_t) if t in mar.margins else np.zeros(grid.shape, bool)
            if count_foreign and t in foreign.technologies:
                cov_t |= foreign.technologies[t].covered
            per_tech[t] = cov_t
            np.logical_or(any_cov, cov_t, out=any_cov)
        if count_foreign:
            for t, tc in foreign.technologies.items():
                if t not in per_tech:
                    np.logical_or(any_cov, tc.covered, out=any_cov)
        w = np.where(any_cov, pop, 0.0)
        for a in levels:
            key = (a.level, k)
            if key not in pop_tot:
                pop_tot[key] = zonal_sum(pop, a.labels, a.n_units)
            tot = pop_tot[key][1:]
            cov = zonal_sum(w, a.labels, a.n_units)[1:]
            mu[a.level]["population"][m] = tot
            mu[a.level]["covered"][m] = cov
            mu[a.level]["uncovered"][m] = tot - cov
        if cl_ids.size:
            np.logical_not(any_cov, out=tmp) if gap_tech == "any" else np.logical_not(
                per_tech.get(gap_tech, np.zeros(grid.shape, bool)), out=tmp)
            sums = np.bincount(cl_lab, weights=np.where(tmp, pop, 0.0).ravel(), minlength=n_cl + 1)
            cl_unc[m] = sums[cl_ids]
        if h_rc is not None:
            h_no[m] = ~any_cov[h_rc[0], h_rc[1]]
        count += ~any_cov
        total_unc = float(pop.sum(dtype=np.float64) - w.sum(dtype=np.float64))
        rows.append({"member": m, "link_z": float(z[m]), "population_layer": names[k], "sites_clipped": clipped,
                     "uncovered": total_unc})
        t_members += time.perf_counter() - t1
    timings["members"] = t_members
    if move:
        timings["tower_members"] = t_towers
    return _finish(spec, analysis, levels, mu, cl_ids, cl_unc, h_rc, h_no, rows, notes, headroom, timings,
                   (count / np.float32(m_n)).astype(np.float32), base)


def _members_per_tile(study: StudyArea, model: TiledModel, draws: MemberDraws, *, techs: list[str], headroom: float,
                      pops: list[np.ndarray], clusters, gap_tech: str, h_rc, foreign, progress: bool):
    """The signal with headroom tile by tile (to a temporary tile store), then every member per tile."""
    work = Path(tempfile.mkdtemp(prefix="covgap-ensemble-tiles-"))
    try:
        hamlets_rc = None
        if h_rc is not None:
            hamlets_rc = (np.where(h_rc[2], h_rc[0], -1), np.where(h_rc[2], h_rc[1], -1))
        sums, tcov = ensemble_sums_tiled(
            study.grid, study.sites, model, draws, headroom_db=headroom, technologies=techs, population=pops,
            levels={a.level: (a.labels, a.n_units) for a in study.admin}, dem=study.dem, workdir=work,
            clusters=clusters, gap_technology=gap_tech, hamlets_rc=hamlets_rc,
            foreign={t: tc.covered for t, tc in foreign.items()} if foreign else None, no_signal=True,
            progress=progress)
        sums.stats["no_signal_probability"] = sums.no_signal_probability(tcov.plan)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sums


def member_draws(spec: EnsembleSpec, technologies: list[str] | tuple[str, ...], *,
                 location_std_db: dict[str, float] | None = None, n_population: int = 1,
                 has_signal: bool = True) -> tuple[MemberDraws, float]:
    """What every member draws (link-budget z, population layer, location-field key), and the headroom [dB].

    ``location_std_db``: the model's σL per technology, needed when ``spec.location_db`` is
    ``"model"``; ``n_population``: the run's layer plus the alternatives; ``has_signal``: False
    for a model without a signal (link-budget and location spreads then draw nothing). The
    headroom is how far below each threshold the signal must be computed so every member's
    coverage lies inside it (the largest positive link draw plus 4 σ_loc).
    """
    techs = sorted(technologies)
    if has_signal and spec.location_db == "model" and location_std_db is None:
        raise InputError('location_db = "model" needs the model\'s location spread (location_std_db per '
                         "technology). Fix: pass location_std_db, or give location_db in dB.")
    streams = member_streams(spec.seed, spec.members)
    z = np.array([s.link_budget.standard_normal() for s in streams])
    loc_sigma = _location_sigma(spec, techs, location_std_db or {}) if has_signal else {t: 0.0 for t in techs}
    link_sigma = {t: spec.link_sigma_db(t) if has_signal else 0.0 for t in techs}
    pop_index = np.array([int(s.population.integers(n_population)) if n_population > 1 else 0 for s in streams],
                         dtype=np.int64)
    loc_on = any(v > 0 for v in loc_sigma.values())
    keys = np.array([field_key(s.location) for s in streams], dtype=np.int64) if loc_on else None
    draws = MemberDraws(link_offset_db={t: link_sigma[t] * z for t in techs}, location_sigma_db=loc_sigma,
                        field_keys=keys, correlation_m=float(spec.location_correlation_m),
                        population_index=pop_index, link_z=z)
    return draws, (_headroom(spec, techs, z, loc_sigma) if has_signal else 0.0)


def ensemble_sums_tiled(grid, sites: pd.DataFrame, model: CoverageModel, draws: MemberDraws, *, headroom_db: float,
                        technologies: list[str] | tuple[str, ...], population: list, levels: dict,
                        workdir: str | Path, dem=None, tile_size: int | tuple[int, int] | None = None,
                        halo_m: float | None = None, executor: Any = None, numba_threads: int | None = None,
                        max_in_flight: int = 8, clusters=None, gap_technology: str = "any", hamlets_rc=None,
                        foreign=None, no_signal: bool = True, progress: bool = False):
    """An ensemble on the tiled path, memory bounded by the tile: signal once with headroom, members per tile.

    The signal of ``model`` (a :class:`~covgap.tiling.TiledModel` gives its tile size, halo,
    executor and threads unless set here) is computed tile by tile with every threshold lowered
    by ``headroom_db`` into ``workdir / "coverage"`` (a tile store, never assembled), then
    :func:`~covgap.uncertainty.tiled_member_sums` evaluates every member on every tile against
    the model's own thresholds. Raster arguments are arrays or callables ``f(r0, r1, c0, c1)``
    (see :func:`~covgap.uncertainty.tiled_member_sums`); with ``no_signal`` the per-tile share
    of members without signal is written to ``workdir / "no_signal"``.

    Returns
    -------
    (MemberSums, TiledCoverage)
        The per-member sums and the tile store of the signal (its ``stats`` time the signal).
    """
    inner = model.model if isinstance(model, TiledModel) else model
    tiled = model if isinstance(model, TiledModel) else TiledModel(model)
    hm = _with_headroom(inner, headroom_db)
    work = Path(workdir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)  # said by the deterministic run
        tcov = compute_coverage_tiled(grid, sites, hm, dem=dem, tile_size=tile_size or tiled.tile_size,
                                      halo_m=halo_m if halo_m is not None else tiled.halo_m,
                                      workdir=work / "coverage",
                                      executor=executor if executor is not None else tiled.executor,
                                      numba_threads=numba_threads if numba_threads is not None else
                                      tiled.numba_threads, max_in_flight=max_in_flight, progress=progress)
    sums = tiled_member_sums(tcov, draws, technologies=technologies, thresholds=_thresholds(inner),
                             population=population, levels=levels, clusters=clusters,
                             gap_technology=gap_technology, hamlets_rc=hamlets_rc, foreign=foreign,
                             no_signal_dir=work / "no_signal" if no_signal else None,
                             executor=executor if executor is not None else tiled.executor,
                             max_in_flight=max_in_flight, progress=progress)
    wall = tcov.stats.get("wall_seconds", {})
    sums.stats["signal_s"] = float(sum(wall.values()))
    return sums, tcov


def _result_from_sums(spec, analysis, sums, levels, mu, cl_ids, h_rc, pop_index, names, z, notes, headroom,
                      timings) -> EnsembleResult:
    """An :class:`EnsembleResult` from per-tile member sums (the same tables as the in-memory path)."""
    for a in levels:
        tot = sums.population[a.level][pop_index][:, 1:]
        cov = sums.covered[a.level][:, 1:]
        mu[a.level]["population"][...] = tot
        mu[a.level]["covered"][...] = cov
        mu[a.level]["uncovered"][...] = tot - cov
    cl_unc = sums.clusters_uncovered[:, cl_ids] if cl_ids.size else np.zeros((spec.members, 0))
    h_no = sums.hamlets_no_signal
    rows = [{"member": m, "link_z": float(z[m]), "population_layer": names[int(pop_index[m])], "sites_clipped": 0,
             "uncovered": float(sums.population_total[m] - sums.covered_total[m])} for m in range(spec.members)]
    prob = sums.stats.pop("no_signal_probability")
    return _finish(spec, analysis, levels, mu, cl_ids, cl_unc, h_rc, h_no, rows, notes, headroom, timings, prob, None)


def _finish(spec, analysis, levels, mu, cl_ids, cl_unc, h_rc, h_no, rows, notes, headroom, timings, prob,
            base) -> EnsembleResult:
    """Percentiles, top-N shares, cluster and hamlet tables from the members' sums."""
    m_n = spec.members
    units = {}
    for a in levels:
        tab = pd.DataFrame({"code": a.units["code"].to_numpy(), "name": a.units["name"].to_numpy(), "level": a.level})
        for what in ("population", "uncovered"):
            q = np.percentile(mu[a.level][what], PERCENTILES, axis=0)
            for p, row in zip(PERCENTILES, q, strict=True):
                tab[f"{what}_p{p}"] = row
        tab["uncovered_mean"] = mu[a.level]["uncovered"].mean(axis=0)
        tab["top_n_share"] = _top_n_share(mu[a.level]["uncovered"], spec.top_n)
        units[a.level] = tab
    cl = pd.DataFrame({"cluster_id": cl_ids})
    if cl_ids.size:
        q = np.percentile(cl_unc, PERCENTILES, axis=0)
        for p, row in zip(PERCENTILES, q, strict=True):
            cl[f"uncovered_p{p}"] = row
    else:
        for p in PERCENTILES:
            cl[f"uncovered_p{p}"] = np.zeros(0)
    ham = None
    if h_rc is not None:
        h_prob = h_no.mean(axis=0) if m_n else np.zeros(h_no.shape[1])
        ham = pd.DataFrame({"p_no_signal": np.where(h_rc[2], h_prob, np.nan)})
    member_tab = pd.DataFrame(rows)
    tq = np.percentile(member_tab["uncovered"].to_numpy(), PERCENTILES)
    det = float(analysis.study.population.sum(dtype=np.float64)
                - analysis.study.population[analysis.coverage.any_covered()].sum(dtype=np.float64))
    totals = {**{f"p{p}": float(v) for p, v in zip(PERCENTILES, tq, strict=True)},
              "mean": float(member_tab["uncovered"].mean()), "deterministic": det}
    if headroom > 0:
        notes.append(f"signal computed once with {headroom:.1f} dB below each threshold (largest draw), radius capped "
                     "by the model's max_radius_km")
    return EnsembleResult(spec=spec, units=units, clusters=cl, hamlets=ham, totals=totals,
                          no_signal_probability=prob,
                          member_units=mu, members=member_tab, notes=notes, timings=timings, margins=base)



def _top_n_share(uncovered: np.ndarray, n: int) -> np.ndarray:
    """Per unit, the share of members (rows) in which it is among the ``n`` largest (ties: earlier unit first)."""
    m, k = uncovered.shape
    hits = np.zeros(k)
    for row in uncovered:
        order = np.argsort(-row, kind="stable")[: min(n, k)]
        hits[order] += 1
    return hits / max(m, 1)


def attach_ensemble(analysis: Analysis, result: EnsembleResult) -> Analysis:
    """Write the ranges into ``analysis`` (in place, returned): per-unit ``uncovered_p10/p50/p90`` and
    ``top_n_share``, per cluster ``uncovered_p10/p50/p90``, per hamlet ``p_no_signal``, and
    ``analysis.uncertainty`` / ``analysis.no_signal_probability`` for the reports."""
    for level, tab in analysis.units.items():
        e = result.units[level]
        if len(e) != len(tab) or not (e["code"].to_numpy() == tab["code"].to_numpy()).all():
            raise InputError(f"ensemble units of level {level!r} do not match the analysis' units.")
        _insert_after(tab, "uncovered", {c: e[c].to_numpy() for c in RANGE_COLUMNS})
    cl = analysis.clusters
    if len(cl):
        e = result.clusters.set_index("cluster_id")
        ids = cl["cluster_id"].to_numpy()
        _insert_after(cl, "population", {c: e.loc[ids, c].to_numpy() for c in RANGE_COLUMNS[:3]})
    if analysis.hamlets is not None and result.hamlets is not None:
        _insert_after(analysis.hamlets, "covered_any", {"p_no_signal": result.hamlets["p_no_signal"].to_numpy()})
    analysis.uncertainty = result.summary()
    analysis.no_signal_probability = result.no_signal_probability
    return analysis


def _insert_after(df: pd.DataFrame, anchor: str, columns: dict[str, np.ndarray]) -> None:
    """Insert ``columns`` right after ``anchor`` (at the end when absent), replacing earlier ones."""
    for c in columns:
        if c in df.columns:
            del df[c]
    at = list(df.columns).index(anchor) + 1 if anchor in df.columns else len(df.columns)
    for k, (c, v) in enumerate(columns.items()):
        df.insert(at + k, c, v)
