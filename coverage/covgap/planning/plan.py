"""Where to build next: a ranked plan of candidate sites chosen greedily by people newly covered.

:func:`plan_sites` checks the candidates (dropping and counting bad ones), computes each
candidate's footprint once with the analysis' coverage model, then runs the lazy greedy of
:mod:`covgap.planning.greedy` on the people not yet covered (by any signal, or by one
technology such as 4G), nationally or within one admin unit, under a budget in sites, in
cost, or until a target share of the people is covered.

The resulting :class:`Plan` lists each chosen site with its marginal people, hamlets newly
covered, cumulative people, cost per newly covered person and the province/commune it lies
in, plus the curve of sites vs people covered. ``covered_population`` is summed exactly as
:meth:`covgap.analysis.Analysis.summary` (or the per-unit tables) sums it, so
``what_if(analysis, add=plan)`` gives the same number to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..analysis import SYNTHETIC_LABEL, Analysis
from ..errors import InputError
from ..models.base import CoverageModel
from ..models.radius import RadiusModel
from ..overlay import zonal_sum
from ..sites import TECHNOLOGIES, normalise_technology
from .candidates import CandidateReport, _target_covered, candidates_to_sites, check_candidates
from .footprints import Footprints, candidate_footprints, footprint_bounds, footprint_method
from .greedy import GREEDY_BOUND, check_budget, greedy_max_coverage

__all__ = ["Plan", "plan_sites", "plan_by_unit", "model_of", "PLAN_COLUMNS"]

#: Columns of the ranked plan table, in order (admin columns are inserted before ``source``).
PLAN_COLUMNS = ("rank", "candidate_id", "kind", "technology", "operator", "site_id", "lon", "lat", "elevation_m",
                "antenna_height_m", "cost", "marginal_population", "hamlets_newly_covered",
                "cumulative_new_population", "covered_population", "covered_share", "cumulative_cost",
                "cost_per_person", "footprint_km2")


@dataclass
class Plan:
    """A ranked list of sites to build and what each buys.

    Attributes
    ----------
    sites : DataFrame
        One row per chosen site, in the order chosen (:data:`PLAN_COLUMNS` + admin columns).
    curve : DataFrame
        ``n_sites`` 0…K with ``covered_population``, ``covered_share``, ``new_population``,
        ``cumulative_cost``, ``hamlets_newly_covered``.
    footprints : Footprints
        Full footprints (every covered cell) of the chosen sites, in rank order.
    summary : dict
        Target, unit, budgets, stop reason, totals, model, candidate counts, timings.
    report : CandidateReport
        Candidates dropped and why.
    candidates : DataFrame
        The candidates evaluated (after checking), in the order of ``candidate_footprints``.
    candidate_footprints : Footprints
        Their footprints restricted to cells with people not yet covered (upper bounds when
        ``lazy_footprints`` was used), e.g. to rerun :func:`greedy_max_coverage` with
        another budget without recomputing them.
    weights : ndarray
        People per cell counted by the plan (flat): not yet covered, inside the unit.
    """

    sites: pd.DataFrame
    curve: pd.DataFrame
    footprints: Footprints
    summary: dict[str, Any]
    report: CandidateReport
    grid: Any = None
    synthetic: bool = False
    sources: list[dict[str, Any]] = field(default_factory=list)
    candidates: pd.DataFrame | None = None
    candidate_footprints: Footprints | None = None
    weights: np.ndarray | None = None

    def added_sites(self) -> pd.DataFrame:
        """The chosen sites as a validated sites table, for :func:`covgap.planning.what_if`."""
        if len(self.sites) == 0:
            return candidates_to_sites(self.sites.assign(source=""))[0:0]
        return candidates_to_sites(self.sites.assign(source=""))

    def __len__(self) -> int:
        return len(self.sites)


def _resolve_unit(analysis: Analysis, level: str | None, unit: str | None):
    study = analysis.study
    if unit is None:
        return None, None, None
    if not study.admin:
        raise InputError("plan: unit= needs admin levels in the study area; it has none.")
    a = study.level(level) if level is not None else study.admin[0]
    codes = a.units["code"].astype(str).tolist()
    names = a.units["name"].astype(str).tolist()
    if str(unit) in codes:
        k = codes.index(str(unit))
    elif str(unit) in names:
        k = names.index(str(unit))
    else:
        raise InputError(f"plan: unit {unit!r} is neither a code nor a name of level {a.level!r}; known codes: "
                         f"{codes[:20]}{' …' if len(codes) > 20 else ''}.")
    return a, k, a.labels == k + 1



def model_of(analysis: Analysis) -> CoverageModel:
    """The model an analysis used: ``analysis.model`` when it was kept, else rebuilt from the
    recorded parameters (radius model only; other models must be passed explicitly)."""
    if getattr(analysis, "model", None) is not None:
        return analysis.model
    params = analysis.coverage.parameters or {}
    if analysis.coverage.model == "radius":
        radii = {k: v for k, v in (params.get("radius_km") or {}).items() if v is not None}
        return RadiusModel(radius_km=radii)
    raise InputError(f"what_if: cannot rebuild the {analysis.coverage.model!r} model from the analysis. "
                     "Fix: pass model=... (the same model object the analysis was made with).")

def plan_sites(analysis: Analysis, candidates: pd.DataFrame, *, model: CoverageModel | None = None,
               target: str = "any", budget_sites: int | None = None, budget_cost: float | None = None,
               target_share: float | None = None, unit: str | None = None, level: str | None = None,
               candidates_in_unit: bool = True, lazy: bool = True, rule: str = "auto",
               lazy_footprints: bool = False,
               report: CandidateReport | None = None, progress: bool = False) -> Plan:
    """Choose sites greedily by newly covered people (CELF lazy evaluation).

    Parameters
    ----------
    analysis : Analysis
        The situation today (from :func:`covgap.analysis.analyse`).
    candidates : DataFrame
        Candidates table (:func:`~covgap.planning.read_candidates`,
        :func:`~covgap.planning.generate_candidates`, :func:`~covgap.planning.upgrade_candidates`,
        concatenated as you like). Bad rows are dropped and counted (``plan.report``).
    model : CoverageModel, optional
        The model of the analysis (rebuilt automatically for the radius model).
    target : str
        ``any`` (people without any signal) or a technology (``4G``: people without 4G; only
        candidates bringing that technology count).
    budget_sites, budget_cost, target_share : optional
        Stop after that many sites, when the cost budget is spent, or once that share of the
        population (of the unit, or of the whole grid) is covered. At least one is needed;
        zero or negative values are an error.
    unit, level : str, optional
        Plan for one admin unit (code or name) of ``level`` (default: the first level): only
        its people count; with ``candidates_in_unit`` only candidates inside it are used
        (the others are counted in the report).
    lazy : bool
        CELF lazy greedy (default) or the plain greedy (same choice, slower).
    rule : {"auto", "gain", "ratio"}
        See :func:`~covgap.planning.greedy_max_coverage`.
    lazy_footprints : bool
        Terrain model only: start from cheap upper-bound footprints (the link-budget disc) and
        compute a candidate's terrain footprint only when it reaches the top of the queue
        (same plan). Pays off when most candidates never come near the top; on the demo's
        near-gap hilltops most do, so the default computes every footprint once, in parallel.
    candidates_in_unit : bool
        With ``unit``: use only candidates inside the unit (default) or all of them.
    report : CandidateReport, optional
        A report from reading the candidates, merged into the plan's.
    progress : bool
        Show a progress bar while computing footprints.

    Returns
    -------
    Plan
    """
    import time

    t0 = time.perf_counter()
    check_budget(budget_sites=budget_sites, budget_cost=budget_cost, target_share=target_share)
    study = analysis.study
    if target != "any":
        tech = normalise_technology(target)
        if tech is None:
            raise InputError(f"plan: target {target!r}; expected 'any' or one of {TECHNOLOGIES}.")
        target = tech
    if model is None:
        model = model_of(analysis)
    clean, rep = check_candidates(candidates, study, source="candidates")
    if report is not None:
        rep = report.merge(rep)
    if target != "any":
        wrong = clean["technology"] != target
        rep.drop(f"bring another technology than the plan's target {target}",
                 clean.loc[wrong, "candidate_id"].astype(str).tolist(),
                 f"set their technology to {target} or plan for target='any'.")
        clean = clean[~wrong].reset_index(drop=True)
    a_unit, k_unit, unit_mask = _resolve_unit(analysis, level, unit)
    if unit_mask is not None and candidates_in_unit:
        out = clean[f"{a_unit.level}_code"].astype(str) != str(a_unit.units["code"].iloc[k_unit])
        ids = clean.loc[out, "candidate_id"].astype(str).tolist()
        if ids:
            rep.dropped["outside the planned unit (not an error)"] = len(ids)
            rep.examples["outside the planned unit (not an error)"] = ids[:10]
        clean = clean[~out].reset_index(drop=True)
    rep.rows_out = len(clean)
    if len(clean) == 0:
        raise InputError("plan: no candidate is left to plan with. " + " ".join(rep.messages))
    pop = study.population
    baseline = _target_covered(analysis.coverage, target)
    weights = np.where(baseline, 0.0, pop)
    if unit_mask is not None:
        weights = np.where(unit_mask, weights, 0.0)
        total = float(zonal_sum(pop, a_unit.labels, a_unit.n_units)[k_unit + 1])
    else:
        total = float(pop.sum(dtype=np.float64))

    def covered_sum(mask: np.ndarray) -> float:
        if unit_mask is not None:
            return float(zonal_sum(np.where(mask, pop, 0.0), a_unit.labels, a_unit.n_units)[k_unit + 1])
        return float(pop[mask].sum(dtype=np.float64))

    covered0 = covered_sum(baseline)
    t1 = time.perf_counter()
    bounded = footprint_bounds(study, clean, model, mask=weights > 0) if (lazy and lazy_footprints) else None
    if bounded is not None:
        fp, refine = bounded
    else:
        fp, refine = candidate_footprints(study, clean, model, mask=weights > 0, progress=progress), None
    t2 = time.perf_counter()
    target_gain = None
    already = False
    if target_share is not None:
        target_gain = target_share * total - covered0
        already = target_gain <= 0
    costs = clean["cost"].to_numpy(dtype="f8")
    if already:
        from .greedy import GreedyResult

        res = GreedyResult(order=np.zeros(0, np.int64), gains=np.zeros(0), costs=np.zeros(0),
                           stop_reason="target share already reached", evaluations=0, rule="gain", lazy=lazy)
    else:
        res = greedy_max_coverage(fp, weights, costs=costs, budget_sites=budget_sites, budget_cost=budget_cost,
                                  target_gain=target_gain, lazy=lazy, rule=rule, refine=refine)
    t3 = time.perf_counter()
    chosen = clean.iloc[res.order].reset_index(drop=True)
    full = candidate_footprints(study, chosen, model) if len(chosen) else Footprints(
        np.zeros(1, np.int64), np.zeros(0, np.int64), study.grid.shape, False, footprint_method(model))
    # exact cumulative figures and hamlets, site by site
    mask = baseline.ravel().copy()
    covered_k = [covered0]
    hamlet_cells, hamlet_cov = _hamlet_cells(analysis, baseline, unit_mask)
    n_h0 = int(hamlet_cov.sum()) if hamlet_cov is not None else 0
    h_unc0 = int((~hamlet_cov).sum()) if hamlet_cov is not None else None
    hamlets_new = []
    area = np.broadcast_to(study.grid.cell_area_km2(), study.grid.shape).ravel()
    fp_km2 = []
    for i in range(len(chosen)):
        cells = full.cells(i)
        fp_km2.append(float(area[cells].sum()))
        mask[cells] = True
        covered_k.append(covered_sum(mask.reshape(study.grid.shape)))
        if hamlet_cells is not None:
            hit = np.zeros(mask.size, dtype=bool)
            hit[cells] = True
            newly = hit[hamlet_cells] & ~hamlet_cov
            hamlets_new.append(int(newly.sum()))
            hamlet_cov |= newly
        else:
            hamlets_new.append(0)
    covered_k_arr = np.asarray(covered_k)
    table = pd.DataFrame({
        "rank": np.arange(1, len(chosen) + 1),
        "candidate_id": chosen["candidate_id"].astype(str), "kind": chosen["kind"],
        "technology": chosen["technology"], "operator": chosen["operator"], "site_id": chosen["site_id"].astype(str),
        "lon": chosen["lon"].astype("f8"), "lat": chosen["lat"].astype("f8"),
        "elevation_m": chosen["elevation_m"].astype("f8"), "antenna_height_m": chosen["antenna_height_m"].astype("f8"),
        "cost": chosen["cost"].astype("f8"), "marginal_population": res.gains,
        "hamlets_newly_covered": np.asarray(hamlets_new, dtype=np.int64),
        "cumulative_new_population": covered_k_arr[1:] - covered0, "covered_population": covered_k_arr[1:],
        "covered_share": covered_k_arr[1:] / total if total > 0 else 0.0,
        "cumulative_cost": np.cumsum(chosen["cost"].to_numpy(dtype="f8")),
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        table["cost_per_person"] = np.where(res.gains > 0, table["cost"] / res.gains, np.inf)
    table["footprint_km2"] = np.asarray(fp_km2, dtype="f8")
    for a in study.admin:
        for suffix in ("code", "name"):
            col = f"{a.level}_{suffix}"
            table[col] = chosen[col].to_numpy() if col in chosen else ""
    table["source"] = chosen["source"].astype(str).to_numpy()
    curve = pd.DataFrame({
        "n_sites": np.arange(len(chosen) + 1), "covered_population": covered_k_arr,
        "covered_share": covered_k_arr / total if total > 0 else 0.0,
        "new_population": covered_k_arr - covered0,
        "cumulative_cost": np.concatenate([[0.0], table["cumulative_cost"].to_numpy()]),
        "hamlets_newly_covered": np.concatenate([[0], np.cumsum(hamlets_new)]).astype(np.int64),
    })
    mp = model.parameters() if hasattr(model, "parameters") else {"model": getattr(model, "name", "?")}
    summary = {
        "title": (f"{SYNTHETIC_LABEL} — " if study.synthetic else "") + f"Where to build: {study.name}",
        "synthetic": bool(study.synthetic),
        "target": target,
        "unit": None if unit_mask is None else {"level": a_unit.level, "code": str(a_unit.units["code"].iloc[k_unit]),
                                                "name": str(a_unit.units["name"].iloc[k_unit])},
        "budget_sites": budget_sites, "budget_cost": budget_cost, "target_share": target_share,
        "rule": res.rule, "lazy": bool(res.lazy), "stop_reason": res.stop_reason,
        "population_total": total, "covered_before": covered0, "covered_after": float(covered_k_arr[-1]),
        "covered_share_before": covered0 / total if total > 0 else 0.0,
        "covered_share_after": float(covered_k_arr[-1]) / total if total > 0 else 0.0,
        "new_population": float(covered_k_arr[-1] - covered0), "sites_chosen": int(len(chosen)),
        "cost_total": float(table["cost"].sum()),
        "hamlets_uncovered_before": h_unc0,
        "hamlets_newly_covered": int(np.sum(hamlets_new)), "hamlets_covered_before": n_h0,
        "candidates": {"evaluated": int(len(clean)), **rep.as_dict()},
        "gain_evaluations": int(res.evaluations),
        "footprints_computed": int(res.log.get("footprints_refined", len(clean) - fp.skipped)),
        "footprints_skipped_out_of_reach": int(fp.skipped),
        "footprint_bounds": None if refine is None else fp.method,
        "greedy_guarantee": (f"≥ {GREEDY_BOUND:.3f} of the optimum (budget in sites)" if budget_cost is None
                             else f"≥ {GREEDY_BOUND / 2:.3f} of the optimum (cost budget, best of two greedy rules)"),
        "model": mp, "footprints": footprint_method(model),
        "cost_unit": str(clean.attrs.get("cost_unit", "relative cost units (see CandidateCosts)")),
        "timings_s": {"check": t1 - t0, "footprints": t2 - t1, "greedy": t3 - t2, "tables": time.perf_counter() - t3},
        "covgap_version": __version__,
    }
    return Plan(sites=table, curve=curve, footprints=full, summary=summary, report=rep, grid=study.grid,
                synthetic=bool(study.synthetic), sources=list(study.sources), candidates=clean,
                candidate_footprints=fp, weights=weights.ravel())


def _hamlet_cells(analysis: Analysis, baseline: np.ndarray, unit_mask: np.ndarray | None):
    """Flat cell index of each hamlet inside the grid (and unit), and whether it is covered today."""
    h = analysis.hamlets if analysis.hamlets is not None else analysis.study.hamlets
    if h is None or len(h) == 0:
        return None, None
    grid = analysis.study.grid
    x, y = grid.from_lonlat(h["lon"].to_numpy(dtype="f8"), h["lat"].to_numpy(dtype="f8"))
    r, c = grid.rowcol(x, y)
    inside = grid.contains_rowcol(r, c)
    flat = (r[inside] * grid.nx + c[inside]).astype(np.int64)
    if unit_mask is not None:
        flat = flat[unit_mask.ravel()[flat]]
    return flat, baseline.ravel()[flat].copy()


def plan_by_unit(analysis: Analysis, candidates: pd.DataFrame, *, level: str | None = None, **options) -> dict[str, Plan]:
    """One plan per unit of ``level`` (same options for each), keyed by unit code.

    Units without any candidate inside get no plan (listed in the log of the returned
    dict's ``attrs``-less form: check ``set(units) - set(result)``).
    """
    study = analysis.study
    a = study.level(level) if level is not None else study.admin[0]
    out: dict[str, Plan] = {}
    for code in a.units["code"].astype(str):
        try:
            out[code] = plan_sites(analysis, candidates, level=a.level, unit=code, **options)
        except InputError as exc:
            if "no candidate is left" in str(exc) or "were dropped" in str(exc):
                continue
            raise
    return out
