"""What-if: add or remove sites and recompute everything — one library call.

:func:`what_if` takes an :class:`~covgap.analysis.Analysis` (or a bare
:class:`~covgap.study.StudyArea`), removes whole sites by ``site_id``, adds transmitters
(a sites table, a candidates table or a :class:`~covgap.planning.Plan`), and reruns
:func:`covgap.analysis.analyse`: coverage, uncovered population, gap clusters, hamlet status
and the per-unit tables, with the same model and options.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..analysis import Analysis, analyse
from ..errors import InputError
from ..models.base import CoverageModel
from ..sites import REQUIRED_COLUMNS, validate_sites
from ..study import StudyArea
from .candidates import CANDIDATE_COLUMNS, candidates_to_sites
from .plan import Plan, model_of

__all__ = ["what_if"]


def _as_sites(add, study: StudyArea) -> pd.DataFrame:
    if isinstance(add, Plan):
        return add.added_sites()
    if not isinstance(add, pd.DataFrame):
        raise InputError(f"what_if: add= must be a sites table, a candidates table or a Plan; got {type(add).__name__}.")
    if len(add) == 0:
        return add.iloc[0:0]
    if all(c in add.columns for c in CANDIDATE_COLUMNS):
        return candidates_to_sites(add)
    missing = [c for c in REQUIRED_COLUMNS if c not in add.columns]
    if missing:
        raise InputError(f"what_if: add= table lacks column(s) {missing}; expected a sites table "
                         f"({list(REQUIRED_COLUMNS)}) or a candidates table ({list(CANDIDATE_COLUMNS)}).")
    return validate_sites(add, source="what_if add=")[0]


def what_if(analysis_or_study: Analysis | StudyArea, *, add=None, remove: Iterable[str] | None = None,
            model: CoverageModel | None = None, min_population: float | None = None,
            connectivity: int | None = None, progress: bool = False) -> Analysis:
    """Recompute the whole analysis with sites added and/or removed.

    Parameters
    ----------
    analysis_or_study : Analysis or StudyArea
        The situation today.
    add : DataFrame or Plan, optional
        Transmitters to add: a sites table (:mod:`covgap.sites`), a candidates table
        (:mod:`covgap.planning.candidates`) or a plan (its chosen sites).
    remove : iterable of str, optional
        ``site_id`` values to remove (every transmitter of those sites). Unknown ids are an error.
    model : CoverageModel, optional
        Needed for a study area, or for an analysis made with a model other than radius.
    min_population, connectivity : optional
        Gap-cluster options (default: those of the analysis, else 10 people and 8).
    progress : bool
        Show progress bars.

    Returns
    -------
    Analysis
        With ``options["what_if"]`` saying what was added and removed.

    Examples
    --------
    >>> new = what_if(analysis, add=plan)  # doctest: +SKIP
    >>> new.summary()["population_uncovered"]  # doctest: +SKIP
    """
    if isinstance(analysis_or_study, Analysis):
        study = analysis_or_study.study
        opts = dict(analysis_or_study.options)
        if model is None:
            model = model_of(analysis_or_study)
    elif isinstance(analysis_or_study, StudyArea):
        study = analysis_or_study
        opts = {}
        if model is None:
            raise InputError("what_if on a StudyArea needs model=... (e.g. covgap.models.radius.RadiusModel()).")
    else:
        raise InputError(f"what_if: expected an Analysis or a StudyArea; got {type(analysis_or_study).__name__}.")
    sites = study.sites
    removed: list[str] = []
    if remove is not None:
        if isinstance(remove, str):
            remove = [remove]
        removed = [str(s) for s in remove]
        known = set(sites["site_id"].astype(str))
        unknown = [s for s in removed if s not in known]
        if unknown:
            raise InputError(f"what_if: remove= names {len(unknown)} site_id(s) not in the sites table: "
                             f"{unknown[:10]}{' …' if len(unknown) > 10 else ''}. Fix: use ids from the towers file.")
        sites = sites[~sites["site_id"].astype(str).isin(removed)]
    n_added = 0
    if add is not None:
        extra = _as_sites(add, study)
        n_added = len(extra)
        if n_added:
            extra = extra.reindex(columns=sites.columns.union(extra.columns, sort=False))
            sites = pd.concat([sites, extra[sites.columns.union(extra.columns, sort=False)]], ignore_index=True)
    sites = sites.reset_index(drop=True)
    if len(sites) == 0:
        raise InputError("what_if: no site would be left; coverage needs at least one transmitter.")
    new_study = dataclasses.replace(study, sites=sites)
    result = analyse(new_study, model,
                     min_population=opts.get("min_population", 10.0) if min_population is None else min_population,
                     connectivity=opts.get("connectivity", 8) if connectivity is None else connectivity,
                     progress=progress)
    info: dict[str, Any] = {"added_transmitters": n_added, "removed_sites": removed,
                            "sites_before": int(study.sites["site_id"].nunique()),
                            "sites_after": int(sites["site_id"].nunique())}
    result.options["what_if"] = info
    return result


