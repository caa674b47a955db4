"""The analysis: study area + model → coverage → population overlay → gaps → hamlets.

:func:`analyse` is the one library call behind ``covgap run`` and ``covgap demo``; it
returns an :class:`Analysis` holding every table the reports need, and
:meth:`Analysis.summary` builds the machine-readable summary (``summary.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__
from .constants import BORDER_BELT_KM
from .errors import InputError
from .gaps import gap_clusters
from .hamlets import hamlet_counts, hamlet_status
from .lenses import CellLenses, compute_lenses, lens_columns
from .models.base import Coverage, CoverageModel, compute_coverage
from .models.location import DEFAULT_LOCATION_PERCENT, REPORTED_LOCATION_PERCENTS
from .neighbours import (
    THIN_MIN_SITES,
    THIN_RADIUS_KM,
    confidence_unit_columns,
    foreign_cell_masks,
    foreign_hamlet_columns,
    foreign_unit_columns,
    merge_coverage,
    thin_data_columns,
)
from .overlay import unit_table, zonal_sum
from .sites import TECHNOLOGIES
from .study import StudyArea

__all__ = ["Analysis", "analyse", "ENSEMBLE_UNIT_COLUMNS", "gap_mask", "lens_totals", "location_columns", "location_percent_of",
           "location_summary", "LOCATION_DEFINITION", "SYNTHETIC_LABEL"]

#: Per-unit columns an uncertainty ensemble adds (``covgap.uncertainty``), written to summary.json's units.
ENSEMBLE_UNIT_COLUMNS = ("uncovered_p10", "uncovered_p50", "uncovered_p90", "top_n_share")

#: Said by every output made from the embedded demo region.
SYNTHETIC_LABEL = "SYNTHETIC DEMO"


@dataclass
class Analysis:
    """Everything one run computed."""

    study: StudyArea
    coverage: Coverage
    units: dict[str, gpd.GeoDataFrame]
    clusters: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    lenses: CellLenses = field(default_factory=CellLenses)
    options: dict[str, Any] = field(default_factory=dict)
    model: CoverageModel | None = None
    foreign_coverage: Coverage | None = None
    domestic_coverage: Coverage | None = None
    #: Summary of an uncertainty ensemble (``covgap.uncertainty.attach_ensemble``); None without one.
    uncertainty: dict[str, Any] | None = None
    #: Per cell, the share of ensemble members without any signal (float32); None without an ensemble.
    no_signal_probability: np.ndarray | None = None

    @property
    def uncovered_population(self) -> np.ndarray:
        """People per cell without any signal."""
        return np.where(self.coverage.any_covered(), 0.0, self.study.population)

    def summary(self) -> dict[str, Any]:
        """Machine-readable summary: totals, per-technology coverage, units, inputs, model."""
        s = self.study
        pop = s.population
        total = float(pop.sum(dtype=np.float64))
        cov = self.coverage
        covered_any = float(pop[cov.any_covered()].sum(dtype=np.float64))
        per_tech = {t: float(pop[cov.covered(t)].sum(dtype=np.float64)) for t in sorted(cov.technologies)}
        units = []
        for level, tab in self.units.items():
            for row in tab.itertuples(index=False):
                d = row._asdict()
                units.append({"code": row.code, "name": row.name, "level": level,
                              "population": float(row.population), "uncovered": float(row.uncovered),
                              "covered_any": float(row.covered_any),
                              **{k: float(d[k]) for k in location_columns(d)},
                              **{k: float(d[k]) for k in ENSEMBLE_UNIT_COLUMNS if k in d}})
        out = {
            "title": (f"{SYNTHETIC_LABEL} — " if s.synthetic else "") + s.name,
            "synthetic": bool(s.synthetic),
            "study_area": s.name,
            "population_total": total,
            "population_covered": covered_any,
            "population_uncovered": total - covered_any,
            "uncovered_share": (total - covered_any) / total if total > 0 else 0.0,
            "population_covered_by_technology": per_tech,
            "location_percent": location_percent_of(cov),
            "location_probability": location_summary(cov, pop),
            "population_without_4G": total - per_tech.get("4G", 0.0),
            "population_outside_units": {lvl: float(tab.attrs["outside"]["population"]) for lvl, tab in self.units.items()},
            "units": units,
            "lenses": lens_totals(self),
            "gap_clusters": {"count": int(len(self.clusters)),
                             "population": float(self.clusters["population"].sum()) if len(self.clusters) else 0.0,
                             "below_min_population": self.clusters.attrs.get("below_min", {})},
            "hamlets": hamlet_counts(self.hamlets["status"]) if self.hamlets is not None else {},
            "tower_data": _tower_data_summary(self),
            "operators": list(cov.operators),
            "sites": _site_counts(cov.sites, s.notes.get("sites", {})),
            "grid": {"crs": s.grid.crs.to_string(), "shape": list(s.grid.shape), "res": list(s.grid.res),
                     "bounds": list(s.grid.bounds)},
            "model": cov.parameters,
            "options": self.options,
            "inputs": s.sources,
            "notes": s.notes,
            "covgap_version": __version__,
        }
        if self.foreign_coverage is not None:
            out["foreign_networks"] = _foreign_summary(self)
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty
        return out


def _foreign_summary(analysis: Analysis) -> dict[str, Any]:
    """Whole-grid people by domestic/foreign coverage (``covered_any + foreign_only + no_network = total``)."""
    pop = analysis.study.population
    dom = (analysis.domestic_coverage or analysis.coverage).any_covered()
    m = foreign_cell_masks(dom, analysis.foreign_coverage.any_covered())
    fs = analysis.foreign_coverage.sites
    out: dict[str, Any] = {k: float(pop[v].sum(dtype=np.float64)) for k, v in m.items()}
    out["domestic_covered"] = float(pop[dom].sum(dtype=np.float64))
    out["count_foreign"] = bool(analysis.options.get("count_foreign", False))
    out["operators"] = list(analysis.foreign_coverage.operators)
    out["sites"] = int(fs["site_id"].nunique())
    if "country" in fs.columns:
        out["sites_by_country"] = {str(k): int(v) for k, v in fs.groupby("country")["site_id"].nunique().items()}
    if "border_belt" in analysis.lenses.masks:
        out["border_belt_foreign_only"] = float(pop[m["foreign_only"] & analysis.lenses.masks["border_belt"]].sum())
    if analysis.hamlets is not None and "foreign_only" in analysis.hamlets.columns:
        out["hamlets_foreign_only"] = int(analysis.hamlets["foreign_only"].sum())
    return out


def _tower_data_summary(analysis: Analysis) -> dict[str, Any]:
    """The thin-data rule and how many gap clusters (and people) it flags."""
    cl = analysis.clusters
    thin = cl["tower_data_thin"].astype(bool) if "tower_data_thin" in cl.columns else pd.Series(dtype=bool)
    return {"thin_radius_km": analysis.options.get("thin_radius_km", THIN_RADIUS_KM),
            "thin_min_sites": analysis.options.get("thin_min_sites", THIN_MIN_SITES),
            "clusters_thin": int(thin.sum()),
            "population_in_thin_clusters": float(cl.loc[thin.to_numpy(), "population"].sum()) if len(cl) else 0.0}


def location_columns(columns) -> list[str]:
    """The per-unit columns of people covered at a reported location percentage (``covered_any_p90``…)."""
    return [c for c in columns if re.fullmatch(r"covered_(any|[2-5]G)_p\d+", str(c))]


def location_percent_of(coverage: Coverage) -> float:
    """The location percentage the coverage (``covered_*``, ``uncovered``) was computed at (50 without a spread)."""
    p = coverage.parameters.get("location_percent")
    if p is None:
        pcts = [tc.location_percent for tc in coverage.technologies.values()]
        p = pcts[0] if pcts else DEFAULT_LOCATION_PERCENT
    return float(p)


def location_summary(coverage: Coverage, population: np.ndarray) -> dict[str, Any]:
    """Which definition each figure uses, σL per technology, and people covered at 50 % and 90 % of locations."""
    covered = {}
    for pct in REPORTED_LOCATION_PERCENTS:
        row = {"any": float(population[coverage.any_covered_at(pct)].sum(dtype=np.float64))}
        for t in sorted(coverage.technologies):
            row[t] = float(population[coverage.covered_at(t, pct)].sum(dtype=np.float64))
        covered[f"p{pct}"] = row
    spread = any(tc.signal_dbm is not None and tc.location_std_db > 0 for tc in coverage.technologies.values())
    return {
        "definition": LOCATION_DEFINITION,
        "location_std_db": {t: float(tc.location_std_db) for t, tc in sorted(coverage.technologies.items())},
        "model_has_location_spread": bool(spread),
        "population_covered_at": covered,
        "probability_raster": "coverage_probability_<tech>.tif: Phi((median signal - threshold) / sigma_L) of "
                              "the best server (strongest median); 0/1 without a location spread",
    }


#: One sentence on what "covered at p %" means (the reports say it in their language).
LOCATION_DEFINITION = ("covered at p % of locations: the best server's signal exceeded at p % of the locations of "
                       "a cell (median minus sigma_L * Phi^-1(p/100), log-normal location variability) reaches the "
                       "threshold; 'covered' and 'without signal' use the model's location_percent, the p50/p90 "
                       "figures use 50 % and 90 %")


def _site_counts(sites, notes: dict) -> dict:
    """Transmitters and sites in the study area (those outside it are counted apart, from the io notes)."""
    n_tx, n_sites = int(len(sites)), int(sites["site_id"].nunique())
    if "transmitters_in_study_area" not in notes:
        return {"transmitters": n_tx, "sites": n_sites}
    inside_tx, inside_sites = int(notes["transmitters_in_study_area"]), int(notes["sites_in_study_area"])
    return {"transmitters": inside_tx, "sites": inside_sites,
            "outside_study_area": {"transmitters": n_tx - inside_tx}}


def gap_mask(coverage: Coverage, gap_technology: str = "any") -> np.ndarray:
    """Cells that count as a gap: no signal at all (``any``) or no signal of one technology."""
    if gap_technology == "any":
        return ~coverage.any_covered()
    if gap_technology not in TECHNOLOGIES:
        raise InputError(f"gap technology {gap_technology!r}; expected 'any' or one of {TECHNOLOGIES}.")
    return ~coverage.covered(gap_technology)


def analyse(study: StudyArea, model: CoverageModel, *, min_population: float = 10.0, connectivity: int = 8,
            gap_technology: str = "any", border_belt_km: float = BORDER_BELT_KM, progress: bool = False,
            coverage: Coverage | None = None, count_foreign: bool = False,
            thin_radius_km: float = THIN_RADIUS_KM, thin_min_sites: int = THIN_MIN_SITES) -> Analysis:
    """Run coverage, overlay, lenses, gap clusters and hamlet status on a study area.

    Parameters
    ----------
    study : StudyArea
    model : CoverageModel
        E.g. :class:`covgap.models.radius.RadiusModel` or :class:`covgap.models.terrain.TerrainModel`.
    min_population : float
        Smallest gap cluster listed (smaller ones are counted in ``clusters.attrs``).
    connectivity : {8, 4}
    gap_technology : str
        ``any`` → clusters of cells with no signal at all; ``4G`` → cells without 4G, etc.
    border_belt_km : float
        Width of the land-border belt lens.
    coverage : Coverage, optional
        Precomputed coverage (e.g. from a tiled or distributed run); ``model`` then only
        documents how it was made.
    count_foreign : bool
        Count people covered only by a neighbouring country's network (``study.foreign_sites``)
        as covered. Default False: they are counted in ``foreign_only`` and stay uncovered.
    thin_radius_km, thin_min_sites : float, int
        A gap cluster is ``tower_data_thin`` when fewer than ``thin_min_sites`` domestic sites
        lie within ``thin_radius_km`` of its centre (:mod:`covgap.neighbours`).
    """
    cov = coverage if coverage is not None else compute_coverage(study.grid, study.sites, model, dem=study.dem,
                                                                  progress=progress)
    foreign = None
    domestic = cov
    if study.foreign_sites is not None and len(study.foreign_sites):
        foreign = compute_coverage(study.grid, study.foreign_sites, model, dem=study.dem, progress=progress)
        if count_foreign:
            cov = merge_coverage(domestic, foreign)
    area = study.grid.cell_area_km2()
    lenses = compute_lenses(study, border_belt_km=border_belt_km)
    uncovered = ~cov.any_covered()
    without_4g = ~cov.covered("4G")
    units = {}
    for a in study.admin:
        tab = unit_table(a.level, a.units, a.labels, study.population, cov, area)
        extra = lens_columns(a.labels, a.n_units, study.population, uncovered, without_4g, lenses)
        attrs = tab.attrs
        parts = [tab, extra, confidence_unit_columns(a.labels, a.n_units, study.grid, study.sites)]
        if foreign is not None:
            belt = {k: v for k, v in lenses.masks.items() if k == "border_belt"}
            parts.append(foreign_unit_columns(a.labels, a.n_units, study.population, domestic.any_covered(),
                                              foreign.any_covered(), lens_masks=belt))
        tab = pd.concat(parts, axis=1)
        if study.dem is not None:
            w = zonal_sum(study.population, a.labels, a.n_units)[1:]
            zw = zonal_sum(np.nan_to_num(study.dem) * study.population, a.labels, a.n_units)[1:]
            with np.errstate(invalid="ignore", divide="ignore"):
                tab["elevation_popmean_m"] = np.where(w > 0, zw / w, np.nan)
        g = gpd.GeoDataFrame(tab, geometry=a.units.geometry.values, crs="EPSG:4326")
        g.attrs = attrs
        units[a.level] = g
    stats: dict[str, tuple[np.ndarray, str]] = {}
    if study.dem is not None:
        stats.update(elevation_min_m=(study.dem, "min"), elevation_mean_m=(study.dem, "popmean"),
                     elevation_max_m=(study.dem, "max"))
    if lenses.ruggedness_m is not None:
        stats["ruggedness_mean_m"] = (np.nan_to_num(lenses.ruggedness_m), "mean")
    if lenses.distance_to_border_km is not None:
        stats["distance_to_border_km"] = (lenses.distance_to_border_km, "min")
    for name in ("island", "mountain"):
        if name in lenses.masks:
            stats[f"on_{name}" if name == "island" else "in_mountains"] = (lenses.masks[name], "any")
    clusters = gap_clusters(study.population, gap_mask(cov, gap_technology), study.grid, admin=study.admin,
                            sites=study.sites, min_population=min_population, connectivity=connectivity,
                            coverage=cov, cell_stats=stats)
    thin = thin_data_columns(clusters, study.sites, radius_km=thin_radius_km, min_sites=thin_min_sites)
    clusters["sites_within_km"] = thin["sites_within_km"].to_numpy()
    clusters["tower_data_thin"] = thin["tower_data_thin"].to_numpy()
    hamlets = None
    if study.hamlets is not None:
        hamlets = hamlet_status(study.hamlets, cov, admin=study.admin, dem=study.dem)
        if foreign is not None:
            dom_h = hamlet_status(study.hamlets, domestic, admin=[])["covered_any"] if count_foreign \
                else hamlets["covered_any"]
            fh = foreign_hamlet_columns(hamlets, foreign, dom_h.to_numpy())
            for c in fh.columns:
                hamlets[c] = fh[c].to_numpy()
        if lenses.distance_to_border_km is not None:
            x, y = study.grid.from_lonlat(hamlets["lon"].to_numpy(), hamlets["lat"].to_numpy())
            r, c = study.grid.rowcol(x, y)
            inside = study.grid.contains_rowcol(r, c)
            hamlets["distance_to_border_km"] = np.where(
                inside, lenses.distance_to_border_km[np.where(inside, r, 0), np.where(inside, c, 0)], np.nan)
    return Analysis(study=study, coverage=cov, units=units, clusters=clusters, hamlets=hamlets, lenses=lenses,
                    model=model, foreign_coverage=foreign, domestic_coverage=domestic,
                    options={"min_population": min_population, "connectivity": connectivity,
                             "gap_technology": gap_technology, "border_belt_km": border_belt_km,
                             "count_foreign": count_foreign, "thin_radius_km": thin_radius_km,
                             "thin_min_sites": thin_min_sites})


def lens_totals(analysis: Analysis) -> dict[str, dict[str, float]]:
    """Whole-grid population, uncovered and without-4G people inside each lens."""
    pop = analysis.study.population
    unc = ~analysis.coverage.any_covered()
    no4 = ~analysis.coverage.covered("4G")
    out = {}
    for name, m in analysis.lenses.masks.items():
        out[name] = {"population": float(pop[m].sum()), "uncovered": float(pop[m & unc].sum()),
                     "without_4G": float(pop[m & no4].sum())}
    if "border_belt" in out:
        out["border_belt"]["belt_km"] = analysis.lenses.border_belt_km
    return out


def units_frame(analysis: Analysis, level: str) -> pd.DataFrame:
    """The per-unit table of one level without geometry."""
    return pd.DataFrame(analysis.units[level].drop(columns="geometry"))
