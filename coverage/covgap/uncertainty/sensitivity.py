"""Which input drives the spread: one-at-a-time sensitivity of an ensemble."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..analysis import Analysis
from ..models.base import CoverageModel
from ..study import StudyArea
from .ensemble import EnsembleResult, run_ensemble
from .spec import EnsembleSpec

__all__ = ["sensitivity", "INPUTS"]

#: The inputs an ensemble can vary, in the order :func:`sensitivity` reports them.
INPUTS = ("link_budget", "location", "tower_position", "population")


def _only(spec: EnsembleSpec, name: str) -> EnsembleSpec:
    """``spec`` with every spread but ``name``'s set to none (same seed and members)."""
    keep = {"link_budget": {"link_budget_db": spec.link_budget_db},
            "location": {"location_db": spec.location_db},
            "tower_position": {"tower_position_m": spec.tower_position_m},
            "population": {"population": spec.population}}[name]
    base = replace(spec, link_budget_db={}, location_db=0.0, tower_position_m=0.0, population={})
    return replace(base, **keep)


def _active(spec: EnsembleSpec, name: str) -> bool:
    if name == "link_budget":
        return any(v > 0 for v in spec.link_budget_db.values())
    if name == "location":
        return spec.location_db == "model" or float(spec.location_db) > 0
    if name == "tower_position":
        return spec.tower_position_m > 0
    return len(spec.population) > 0


def sensitivity(study: StudyArea, model: CoverageModel, spec: EnsembleSpec, *, analysis: Analysis | None = None,
                level: str | None = None, inputs: tuple[str, ...] | None = None,
                full: EnsembleResult | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One-at-a-time sensitivity: the ensemble with only one input's spread, for each input.

    Every run uses the same seed and members as ``spec`` (so the draws of an input are the
    same alone and together, :mod:`covgap.uncertainty.draws`) and the signal margin fields of
    the full ensemble (computed once).

    Parameters
    ----------
    study, model, spec, analysis
        As for :func:`run_ensemble`.
    level : str, optional
        Admin level of the per-unit table (default: the finest).
    inputs : tuple of str, optional
        Subset of :data:`INPUTS` (default: those with a spread in ``spec``).
    full : EnsembleResult, optional
        The ensemble of ``spec`` when already run.

    Returns
    -------
    totals : DataFrame
        One row per input plus ``all``: ``input, uncovered_p10, uncovered_p50, uncovered_p90,
        range`` (P90 − P10 of the whole grid's people without signal) and ``range_share`` (the
        input's range over the sum of the one-at-a-time ranges).
    units : DataFrame
        Per unit of ``level``: ``code, name`` and ``range_<input>`` per input and ``range_all``,
        then ``main_driver`` (the input with the widest range there; "none" where every range is 0).
    """
    full = full if full is not None else run_ensemble(study, model, spec, analysis=analysis)
    lvl = level or study.admin[-1].level
    names = [n for n in (inputs or INPUTS) if n in INPUTS and (inputs is not None or _active(spec, n))]
    rows = []
    ut = full.units[lvl][["code", "name"]].copy()
    results = {n: run_ensemble(study, model, _only(spec, n), analysis=analysis, margins=full.margins) for n in names}
    for n, r in [*results.items(), ("all", full)]:
        t = r.totals
        rows.append({"input": n, "uncovered_p10": t["p10"], "uncovered_p50": t["p50"], "uncovered_p90": t["p90"],
                     "range": t["p90"] - t["p10"]})
        u = r.units[lvl]
        ut[f"range_{n}"] = (u["uncovered_p90"] - u["uncovered_p10"]).to_numpy()
    tot = pd.DataFrame(rows)
    one = tot["input"] != "all"
    s = float(tot.loc[one, "range"].sum())
    tot["range_share"] = np.where(one, tot["range"] / s if s > 0 else 0.0, np.nan)
    if names:
        rng = ut[[f"range_{n}" for n in names]].to_numpy()
        ut["main_driver"] = np.where(rng.max(axis=1) > 0, np.array(names, dtype=object)[rng.argmax(axis=1)], "none")
    else:
        ut["main_driver"] = "none"
    return tot, ut
