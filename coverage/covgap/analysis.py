"""The analysis: study area + model → coverage → population overlay → gaps → hamlets.

:func:`analyse` is the one library call behind ``covgap run`` and ``covgap demo``; it
returns an :class:`Analysis` holding every table the reports need, and
:meth:`Analysis.summary` builds the machine-readable summary (``summary.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__
from .engine import Coverage, CoverageModel, compute_coverage
from .gaps import gap_clusters
from .hamlets import hamlet_counts, hamlet_status
from .overlay import unit_table
from .study import StudyArea

__all__ = ["Analysis", "analyse", "SYNTHETIC_LABEL"]

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
    options: dict[str, Any] = field(default_factory=dict)

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
                units.append({"code": row.code, "name": row.name, "level": level,
                              "population": float(row.population), "uncovered": float(row.uncovered),
                              "covered_any": float(row.covered_any)})
        out = {
            "title": (f"{SYNTHETIC_LABEL} — " if s.synthetic else "") + s.name,
            "synthetic": bool(s.synthetic),
            "study_area": s.name,
            "population_total": total,
            "population_covered": covered_any,
            "population_uncovered": total - covered_any,
            "uncovered_share": (total - covered_any) / total if total > 0 else 0.0,
            "population_covered_by_technology": per_tech,
            "population_without_4G": total - per_tech.get("4G", 0.0),
            "population_outside_units": {lvl: float(tab.attrs["outside"]["population"]) for lvl, tab in self.units.items()},
            "units": units,
            "gap_clusters": {"count": int(len(self.clusters)),
                             "population": float(self.clusters["population"].sum()) if len(self.clusters) else 0.0,
                             "below_min_population": self.clusters.attrs.get("below_min", {})},
            "hamlets": hamlet_counts(self.hamlets["status"]) if self.hamlets is not None else {},
            "operators": list(cov.operators),
            "sites": {"transmitters": int(len(cov.sites)), "sites": int(cov.sites["site_id"].nunique())},
            "grid": {"crs": s.grid.crs.to_string(), "shape": list(s.grid.shape), "res": list(s.grid.res),
                     "bounds": list(s.grid.bounds)},
            "model": cov.parameters,
            "options": self.options,
            "inputs": s.sources,
            "notes": s.notes,
            "covgap_version": __version__,
        }
        return out


def analyse(study: StudyArea, model: CoverageModel, *, min_population: float = 10.0, connectivity: int = 8,
            progress: bool = False) -> Analysis:
    """Run coverage, overlay, gap clusters and hamlet status on a study area.

    Examples
    --------
    >>> from covgap.demo_small import tiny_study  # doctest: +SKIP
    """
    cov = compute_coverage(study.grid, study.sites, model, dem=study.dem, progress=progress)
    area = study.grid.cell_area_km2()
    units = {}
    for a in study.admin:
        tab = unit_table(a.level, a.units, a.labels, study.population, cov, area)
        g = gpd.GeoDataFrame(tab, geometry=a.units.geometry.values, crs="EPSG:4326")
        g.attrs = tab.attrs
        units[a.level] = g
    uncovered = ~cov.any_covered()
    clusters = gap_clusters(study.population, uncovered, study.grid, admin=study.admin, sites=study.sites,
                            min_population=min_population, connectivity=connectivity)
    hamlets = None
    if study.hamlets is not None:
        hamlets = hamlet_status(study.hamlets, cov, admin=study.admin, dem=study.dem)
    return Analysis(study=study, coverage=cov, units=units, clusters=clusters, hamlets=hamlets,
                    options={"min_population": min_population, "connectivity": connectivity})


def units_frame(analysis: Analysis, level: str) -> pd.DataFrame:
    """The per-unit table of one level without geometry."""
    return pd.DataFrame(analysis.units[level].drop(columns="geometry"))
