"""The radius model: each transmitter covers a disc whose radius depends on its technology.

This is the model of last resort when nothing is known about a transmitter but its
position and technology. Defaults follow the *Mobile Coverage Explorer* (Collins
Bartholomew / GSMA) fallback radii for cells with no operator-submitted coverage:
**12 km for 2G (GSM)** and **4 km for 3G and 4G**. There is no published fallback for 5G;
covgap refuses to guess one: set ``radius_km["5G"]`` when your sites include 5G.

A per-row ``radius_km`` in the sites table overrides the technology radius. Distances are
great-circle on geographic grids and Euclidean on projected (metric) grids; a cell is
covered when its centre lies within the radius.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..grid import Grid
from ..sites import TECHNOLOGIES
from ._disc_kernels import disc_fill
from .base import Coverage, FootprintWindow, empty_technology, operator_index

__all__ = ["RadiusModel", "DEFAULT_RADIUS_KM", "disc_footprints"]

#: Mobile Coverage Explorer fallback radii (km); no published 5G value.
DEFAULT_RADIUS_KM: dict[str, float | None] = {"2G": 12.0, "3G": 4.0, "4G": 4.0, "5G": None}


@dataclass
class RadiusModel:
    """Disc coverage with a radius per technology.

    Parameters
    ----------
    radius_km : mapping of technology to km
        Overrides of :data:`DEFAULT_RADIUS_KM`.

    Examples
    --------
    >>> RadiusModel(radius_km={"4G": 5}).radii()["4G"]
    5.0
    """

    radius_km: Mapping[str, float] = field(default_factory=dict)
    name: str = "radius"
    #: A footprint is a disc: as cheap as its bound (see :class:`~covgap.models.base.CoverageModel`).
    costly_footprints: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for tech, r in self.radius_km.items():
            if tech not in TECHNOLOGIES:
                raise ConfigError(f"model.radius_km: unknown technology {tech!r}; expected one of {TECHNOLOGIES}.")
            if not (isinstance(r, (int, float)) and r > 0):
                raise ConfigError(f"model.radius_km.{tech} = {r!r}; expected a radius in km > 0.")

    def radii(self) -> dict[str, float | None]:
        """Radius per technology after overrides (km)."""
        out = dict(DEFAULT_RADIUS_KM)
        out.update({k: float(v) for k, v in self.radius_km.items()})
        return out

    def parameters(self) -> dict[str, Any]:
        """Model parameters for provenance."""
        return {"model": self.name, "radius_km": self.radii(),
                "source": "Mobile Coverage Explorer fallback radii (GSM 12 km, 3G/4G 4 km)"}

    def site_radius_m(self, sites: pd.DataFrame) -> np.ndarray:
        """Radius in metres for each row (row override, else technology radius)."""
        radii = self.radii()
        tech_r = sites["technology"].map(radii).astype("f8")
        r = sites["radius_km"].astype("f8") if "radius_km" in sites else pd.Series(np.nan, index=sites.index)
        r = r.where(r.notna(), tech_r)
        if r.isna().any():
            i = int(np.flatnonzero(r.isna().to_numpy())[0])
            tech = sites["technology"].iloc[i]
            raise ConfigError(
                f"no radius for technology {tech} (transmitter {i + 1} of the sites table, site "
                f"{sites['site_id'].iloc[i]!s}; {int(r.isna().sum())} transmitter(s) affected): "
                f"there is no published default. Fix: set [model.radius_km] {tech} = <km> in the config "
                "or give a 'radius_km' column."
            )
        return r.to_numpy() * 1000.0

    def reach_m(self, grid: Grid, sites: pd.DataFrame) -> np.ndarray:
        """Per row, the disc radius in metres (:meth:`site_radius_m`): nothing is covered beyond it."""
        return self.site_radius_m(sites)

    def footprints(self, grid: Grid, sites: pd.DataFrame, rows: np.ndarray, *,
                   dem: np.ndarray | None = None) -> Iterator[FootprintWindow]:
        """Yield ``(k, row0, col0, covered)`` per row ``k`` of ``rows``: the same disc kernel as
        :meth:`compute`, on the window of the disc (identical cells)."""
        yield from disc_footprints(grid, sites, self.site_radius_m(sites), rows)

    def compute(self, grid: Grid, sites: pd.DataFrame, *, dem: np.ndarray | None = None,
                progress: bool = False) -> Coverage:
        """Compute disc coverage for every technology present in ``sites``."""
        if len(sites) == 0:
            raise InputError("sites table is empty: nothing to compute coverage from.")
        ops, op_idx = operator_index(sites)
        radius_m = self.site_radius_m(sites)
        x, y = grid.from_lonlat(sites["lon"].to_numpy(), sites["lat"].to_numpy())
        xc, yc = grid.x_centres(), grid.y_centres()
        techs: dict = {}
        for tech in TECHNOLOGIES:
            sel = np.flatnonzero((sites["technology"] == tech).to_numpy())
            if sel.size == 0:
                continue
            tc = empty_technology(tech, grid.shape, signal=False)
            best = np.full(grid.shape, np.inf)
            disc_fill(tc.operator_bits, tc.n_sites, tc.serving_site, best, xc, yc, grid.is_geographic,
                      np.asarray(x)[sel], np.asarray(y)[sel], radius_m[sel],
                      (np.uint32(1) << op_idx[sel].astype(np.uint32)), sel.astype(np.int32))
            techs[tech] = tc
        return Coverage(grid=grid, operators=ops, technologies=techs, sites=sites.reset_index(drop=True),
                        model=self.name, parameters=self.parameters())


def disc_footprints(grid: Grid, sites: pd.DataFrame, radius_m: np.ndarray,
                    rows: np.ndarray | None = None) -> Iterator[FootprintWindow]:
    """Yield ``(k, row0, col0, covered)``: the cells whose centre lies within ``radius_m[k]`` of row
    ``k`` of ``sites`` (the radius model's own kernel and distance), for each ``k`` of ``rows``
    (default: all rows).

    Also the planner's upper bound of a footprint for models whose :meth:`reach_m` bounds it.
    """
    x, y = (np.asarray(v, dtype="f8") for v in grid.from_lonlat(sites["lon"].to_numpy(dtype="f8"),
                                                                    sites["lat"].to_numpy(dtype="f8")))
    radius_m = np.asarray(radius_m, dtype="f8")
    xc_all, yc_all = grid.x_centres(), grid.y_centres()
    one = np.ones(1, dtype=np.uint32)
    row0 = np.zeros(1, dtype=np.int32)
    for k in (range(len(sites)) if rows is None else np.asarray(rows, dtype=np.int64)):
        k = int(k)
        r0, r1, c0, c1 = grid.window_around(float(x[k]), float(y[k]), float(radius_m[k]))
        shape = (r1 - r0, c1 - c0)
        bits = np.zeros(shape, dtype=np.uint32)
        if shape[0] > 0 and shape[1] > 0:
            disc_fill(bits, np.zeros(shape, np.uint16), np.full(shape, -1, np.int32), np.full(shape, np.inf),
                      xc_all[c0:c1], yc_all[r0:r1], grid.is_geographic, x[k:k + 1], y[k:k + 1],
                      radius_m[k:k + 1], one, row0)
        yield k, r0, c0, bits != 0
