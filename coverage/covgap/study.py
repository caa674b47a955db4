"""The study area: every input on one grid, validated once.

A :class:`StudyArea` holds plain arrays and tables; no code downstream opens files.
Build one with :func:`covgap.io.load_study_area` (from a config) or directly from arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputError
from .grid import Grid

__all__ = ["AdminLevel", "StudyArea"]


@dataclass
class AdminLevel:
    """One level of admin units, e.g. provinces or communes.

    ``units`` is a GeoDataFrame in EPSG:4326 with columns ``code``, ``name`` (and
    ``parent_code`` when the level has a parent), in the order of the label values:
    ``labels == k + 1`` marks cells whose centre lies in ``units.iloc[k]``; 0 is outside.
    """

    level: str
    units: gpd.GeoDataFrame
    labels: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.units)


@dataclass
class StudyArea:
    """All inputs of one analysis on one grid.

    Attributes
    ----------
    grid : Grid
        The analysis grid (the population grid: people are never resampled).
    population : ndarray of float64 (ny, nx)
        People per cell; nodata already replaced by 0 (counted in ``notes``).
    admin : list of AdminLevel
        Coarsest level first (e.g. provinces, then communes).
    sites : DataFrame
        Validated sites table (:mod:`covgap.sites`).
    dem : ndarray of float32 or None
        Elevation in metres on ``grid``; NaN is unknown terrain.
    foreign_sites : DataFrame or None
        Validated sites table of neighbouring countries' networks (column ``country``); computed
        like ``sites`` but never counted as domestic coverage (:mod:`covgap.neighbours`).
    landcover : covgap.landcover.LandCover or None
        Land-cover classes, clutter heights and radio-climatic zones on ``grid`` (read by the
        P.1812 model; ``None``: open/rural and inland everywhere).
    hamlets : GeoDataFrame or None
        Points with ``hamlet_id``, ``name``, ``lon``, ``lat``.
    border : GeoDataFrame or None
        Land-border lines (not coastline), EPSG:4326.
    synthetic : bool
        True for the embedded demo: every output says SYNTHETIC DEMO.
    sources : list of dict
        Provenance of every input (role, path, source, release, licence, sha256).
    notes : dict
        What loading did (nodata cells, defaults used, rows dropped), for the report.
    """

    name: str
    grid: Grid
    population: np.ndarray
    admin: list[AdminLevel]
    sites: pd.DataFrame
    dem: np.ndarray | None = None
    foreign_sites: pd.DataFrame | None = None
    landcover: Any = None
    hamlets: gpd.GeoDataFrame | None = None
    border: gpd.GeoDataFrame | None = None
    synthetic: bool = False
    sources: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.population.shape != self.grid.shape:
            raise InputError(f"population shape {self.population.shape} != grid shape {self.grid.shape}.")
        if self.dem is not None and self.dem.shape != self.grid.shape:
            raise InputError(f"DEM shape {self.dem.shape} != grid shape {self.grid.shape}.")
        if self.landcover is not None and self.landcover.clutter_height_m.shape != self.grid.shape:
            raise InputError(f"land cover shape {self.landcover.clutter_height_m.shape} != grid shape {self.grid.shape}.")
        for a in self.admin:
            if a.labels.shape != self.grid.shape:
                raise InputError(f"admin level {a.level!r} labels shape {a.labels.shape} != grid shape.")

    def level(self, name: str) -> AdminLevel:
        """The admin level called ``name``."""
        for a in self.admin:
            if a.level == name:
                return a
        raise InputError(f"no admin level {name!r}; this study area has {[a.level for a in self.admin]}.")

    @property
    def population_total(self) -> float:
        """Σ people on the grid."""
        return float(self.population.sum(dtype=np.float64))
