"""What an ensemble varies: :class:`EnsembleSpec` and the tower-position rule.

The spec is plain data (no file is opened here); :func:`spec_from_config` builds one from the
``[uncertainty]`` section of a run configuration, and the alternative population grids arrive
as arrays (the pipeline reads them through :mod:`covgap.io`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import UncertaintyConfig
from ..errors import ConfigError, InputError
from ..sites import TECHNOLOGIES

__all__ = ["EnsembleSpec", "spec_from_config", "tower_sigma_m", "DEFAULT_LOCATION_CORRELATION_M"]

#: Correlation distance [m] of the location (shadow-fading) draw: 3GPP TR 38.901 V17.0.0
#: Table 7.5-6 Part-1, rural macro (RMa) NLOS shadow-fading correlation distance, 120 m (LOS: 37 m).
#: Vietnam's gaps are rural; see docs/design.md "Uncertainty ensembles".
DEFAULT_LOCATION_CORRELATION_M = 120.0

#: Location draws are clipped at this many sigma (a two-sided tail of 6e-5), so the signal field
#: computed once reaches every cell a member can cover.
LOCATION_CLIP_SIGMA = 4.0


@dataclass(frozen=True)
class EnsembleSpec:
    """The spread of each input and the ensemble size.

    Parameters
    ----------
    members : int
        Number of members (≥ 1).
    seed : int
        Seed of :class:`numpy.random.SeedSequence`; same seed and spec, same result.
    link_budget_db : mapping of technology to dB
        1-sigma of a normal offset added to every transmitter's signal of that technology
        (EIRP, losses, receiver threshold: the whole link budget). Key ``"*"`` applies to every
        technology without its own entry. One standard normal per member is shared by the
        technologies (fully correlated; see docs/design.md).
    location_db : float or "model"
        1-sigma [dB] of a spatially correlated normal field added to the median signal of every
        cell (one field per member, shared by the technologies); ``"model"`` takes each
        technology's σL from the model (0 for the radius model).
    location_correlation_m : float
        Correlation distance [m] of that field (where its correlation falls to 1/e).
    tower_position_m : float
        1-sigma [m] per axis of a site's position error that averaging does not remove (see
        :func:`tower_sigma_m`); 0 keeps every site in place.
    population : mapping of name to ndarray
        Alternative people-per-cell grids on the study grid; each member draws uniformly among
        the study's own grid (name ``"run"``) and these.
    top_n : int
        "In the top N": a unit's rank by people without signal, per level and member.
    """

    members: int = 50
    seed: int = 0
    link_budget_db: Mapping[str, float] = field(default_factory=dict)
    location_db: float | str = 0.0
    location_correlation_m: float = DEFAULT_LOCATION_CORRELATION_M
    tower_position_m: float = 0.0
    population: Mapping[str, np.ndarray] = field(default_factory=dict)
    top_n: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.members, bool) or not isinstance(self.members, (int, np.integer)) or self.members < 1:
            raise ConfigError(f"[uncertainty] members = {self.members!r}; expected a whole number ≥ 1. "
                              "Fix: e.g. members = 50.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ConfigError(f"[uncertainty] seed = {self.seed!r}; expected a whole number ≥ 0. "
                              "Fix: e.g. seed = 2021.")
        for tech, v in self.link_budget_db.items():
            if tech != "*" and tech not in TECHNOLOGIES:
                raise ConfigError(f"[uncertainty] link_budget_db has technology {tech!r}; expected one of "
                                  f"{list(TECHNOLOGIES)}. Fix: e.g. link_budget_db = {{ \"4G\" = 3.0 }}.")
            _nonneg(v, f"link_budget_db[{tech!r}]", "3.0")
        if isinstance(self.location_db, str):
            if self.location_db != "model":
                raise ConfigError(f"[uncertainty] location_db = {self.location_db!r}; expected dB ≥ 0 or \"model\" "
                                  "(the model's location spread). Fix: e.g. location_db = \"model\".")
        else:
            _nonneg(self.location_db, "location_db", "5.5")
        if not (isinstance(self.location_correlation_m, (int, float)) and self.location_correlation_m > 0
                and math.isfinite(self.location_correlation_m)):
            raise ConfigError(f"[uncertainty] location_correlation_m = {self.location_correlation_m!r}; expected "
                              "metres > 0. Fix: e.g. location_correlation_m = 120.")
        _nonneg(self.tower_position_m, "tower_position_m", "300.0")
        if isinstance(self.top_n, bool) or not isinstance(self.top_n, (int, np.integer)) or self.top_n < 1:
            raise ConfigError(f"[uncertainty] top_n = {self.top_n!r}; expected a whole number ≥ 1. "
                              "Fix: e.g. top_n = 10.")
        if "run" in self.population:
            raise InputError("population layer name 'run' is the study's own grid; give the alternatives other names.")

    def link_sigma_db(self, technology: str) -> float:
        """1-sigma link-budget offset [dB] of one technology (0 when not given)."""
        return float(self.link_budget_db.get(technology, self.link_budget_db.get("*", 0.0)))

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (population grids by name)."""
        return {"members": int(self.members), "seed": int(self.seed),
                "link_budget_db": {str(k): float(v) for k, v in self.link_budget_db.items()},
                "location_db": self.location_db if isinstance(self.location_db, str) else float(self.location_db),
                "location_correlation_m": float(self.location_correlation_m),
                "tower_position_m": float(self.tower_position_m),
                "population": ["run", *self.population], "top_n": int(self.top_n)}


def _nonneg(v: Any, key: str, example: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise ConfigError(f"[uncertainty] {key} = {v!r}; expected a number ≥ 0 (dB or metres, 1-sigma). "
                          f"Fix: e.g. {key.split('[')[0]} = {example}, or 0 for no spread.")


def spec_from_config(cfg: UncertaintyConfig, population: Mapping[str, np.ndarray] | None = None) -> EnsembleSpec:
    """The spec of a config's ``[uncertainty]`` section with its alternative grids already read.

    ``population``: name → array on the study grid, in the order of ``cfg.population``.
    """
    return EnsembleSpec(members=cfg.members, seed=cfg.seed, link_budget_db=dict(cfg.link_budget_db),
                        location_db=cfg.location_db, location_correlation_m=cfg.location_correlation_m,
                        tower_position_m=cfg.tower_position_m, population=dict(population or {}), top_n=cfg.top_n)


def tower_sigma_m(sites: pd.DataFrame, base_m: float) -> np.ndarray:
    """Per sites row, the 1-sigma position error per axis [m].

    ``sqrt(base_m² + range_m² / (4 · samples))`` where the row carries OpenCelliD's ``range``
    (or ``range_m``: radius of the area the cell was seen in, metres) and ``samples`` (number of
    measurements averaged), else ``base_m``. The second term is the standard error of the mean
    of ``samples`` fixes spread uniformly over a disc of radius ``range`` (per-axis variance of
    such a disc: range²/4); ``base_m`` is the offset averaging does not remove (fixes cluster
    on roads and in villages, not at the mast).

    Examples
    --------
    >>> s = pd.DataFrame({"range": [1000.0, np.nan], "samples": [25.0, 3.0]})
    >>> tower_sigma_m(s, 300.0).round(1).tolist()
    [316.2, 300.0]
    >>> tower_sigma_m(pd.DataFrame({"range": [4000.0], "samples": [4.0]}), 0.0).tolist()
    [1000.0]
    """
    n = len(sites)
    rng_col = "range_m" if "range_m" in sites.columns else "range" if "range" in sites.columns else None
    out = np.full(n, float(base_m) ** 2)
    if rng_col is not None and "samples" in sites.columns:
        r = pd.to_numeric(sites[rng_col], errors="coerce").to_numpy(dtype="f8")
        k = pd.to_numeric(sites["samples"], errors="coerce").to_numpy(dtype="f8")
        ok = np.isfinite(r) & np.isfinite(k) & (r >= 0) & (k >= 1)
        out[ok] += r[ok] ** 2 / (4.0 * k[ok])
    return np.sqrt(out)
