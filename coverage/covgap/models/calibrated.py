"""A calibrated model: any signal model with fitted offsets per operator × technology.

:class:`CalibratedModel` wraps a signal model (Hata, terrain, P.1812, or any model that fills
``TechnologyCoverage.signal_dbm`` from a link budget) and adds ``offset_db`` to the predicted
signal of every transmitter of an operator × technology: it raises that transmitter's EIRP by
the offset before the inner model runs. The signal of every model is ``EIRP + gain − loss``, so
this is exactly "predicted signal + offset" at every cell, and everything the model derives
from the signal (best server, operators and transmitters at or above the threshold, coverage
probability, the reach of a transmitter) follows from the calibrated signal. Rows without an
``eirp_dbm`` get the inner model's technology default plus the offset.

A fitted distance slope (``slopes``: dB per decade of distance and its reference distance)
makes the signal ``signal + offset + slope·(log10 d − log10 d_ref)``. It is handed to the inner
model as two per-row sites columns (:data:`SLOPE_COLUMN`, :data:`SLOPE_REFERENCE_COLUMN`) that a
model with a log-distance base loss reads (it says so with ``applies_distance_slope = True``:
Hata and terrain); a slope for a model without that attribute (P.1812) is refused
(:class:`~covgap.errors.ConfigError`) rather than silently dropped.

The offsets come from :func:`covgap.calibration.fit_calibration` (``covgap calibrate``), read
back by ``[model] calibration = "calibration.toml"`` (:func:`covgap.config.load_calibration`);
:func:`covgap.models.make_model` wraps the configured model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..grid import Grid
from ._signal import SLOPE_COLUMN, SLOPE_REFERENCE_COLUMN
from .base import Coverage, CoverageModel, FootprintWindow
from .linkbudget import resolve_link_budget, technology_defaults

__all__ = ["CalibratedModel", "SLOPE_COLUMN", "SLOPE_REFERENCE_COLUMN"]


@dataclass
class CalibratedModel:
    """A signal model whose predicted signal is shifted by a fitted offset per operator × technology.

    Parameters
    ----------
    model : CoverageModel
        The inner signal model (``hata``, ``terrain``, ``p1812``…). The radius model has no
        signal to calibrate (:class:`~covgap.errors.ConfigError`).
    offsets_db : mapping of (operator, technology) to dB
        Added to the predicted signal of that operator's transmitters of that technology
        (measured − predicted, as fitted). Pairs absent from the mapping are left as they are.
    source : str
        Where the offsets come from (written into the parameters for provenance).
    slopes : mapping of (operator, technology) to (dB per decade, reference distance km)
        Distance slopes: that pair's signal gets ``+ slope·(log10 d_km − log10 reference_km)`` on
        top of its offset (d the distance from the transmitter). Needs an inner model with
        ``applies_distance_slope`` true (hata, terrain); slopes below 20 dB/decade.

    Examples
    --------
    >>> from covgap.models.hata import HataModel
    >>> m = CalibratedModel(HataModel(), {("Viettel", "4G"): 3.0})
    >>> m.name, m.parameters()["calibration"]["offsets_db"]
    ('hata', {'Viettel 4G': 3.0})
    """

    model: CoverageModel
    offsets_db: Mapping[tuple[str, str], float] = field(default_factory=dict)
    source: str = ""
    slopes: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if getattr(self.model, "name", "") == "radius":
            raise ConfigError("calibration offsets shift a predicted signal, and the radius model has none. "
                              "Fix: use a signal model ([model] kind = \"hata\", \"terrain\" or \"p1812\") or "
                              "remove [model] calibration.")
        clean: dict[tuple[str, str], float] = {}
        for key, value in dict(self.offsets_db).items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ConfigError(f"calibration offsets: key {key!r}; expected (operator, technology).")
            v = float(value)
            if not math.isfinite(v):
                raise ConfigError(f"calibration offset of {key[0]} {key[1]} is {value!r}; expected a finite number "
                                  "of dB.")
            clean[(str(key[0]), str(key[1]))] = v
        self.offsets_db = clean
        slopes: dict[tuple[str, str], tuple[float, float]] = {}
        for key, value in dict(self.slopes).items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ConfigError(f"calibration slopes: key {key!r}; expected (operator, technology).")
            b, ref = (float(v) for v in value)
            if not (math.isfinite(b) and b < 20.0 and math.isfinite(ref) and ref > 0):
                raise ConfigError(f"calibration slope of {key[0]} {key[1]}: {b!r} dB/decade at reference {ref!r} km; "
                                  "expected a slope below 20 dB/decade (free space) and a reference distance > 0 km. "
                                  "Fix: refit with `covgap calibrate`, or with --no-slope to apply offsets only.")
            if b != 0.0:
                slopes[(str(key[0]), str(key[1]))] = (b, ref)
        self.slopes = slopes
        if slopes and not getattr(self.model, "applies_distance_slope", False):
            pairs = ", ".join(f"{o} {t}" for o, t in sorted(slopes))
            where = f"the calibration {self.source}" if self.source else "the calibration"
            raise ConfigError(f"{where} gives a distance slope (slope_db_per_decade) for {pairs}, and the "
                              f"{self.model.name!r} model has no log-distance path loss to apply it to. Fix: fit "
                              f"again without slopes (`covgap calibrate CONFIG MEASUREMENTS --out DIR --model "
                              f"{self.model.name} --no-slope`), or delete the slope_db_per_decade and "
                              "reference_distance_km lines of those groups (their offsets stay valid: the offset "
                              "is the mean residual with or without a slope).")

    @property
    def applies_distance_slope(self) -> bool:
        """The inner model's (a calibrated model can be wrapped again)."""
        return bool(getattr(self.model, "applies_distance_slope", False))

    @property
    def name(self) -> str:
        """The inner model's name."""
        return self.model.name

    @property
    def costly_footprints(self) -> bool:
        """The inner model's."""
        return self.model.costly_footprints

    def calibrated_sites(self, sites: pd.DataFrame) -> pd.DataFrame:
        """``sites`` with ``eirp_dbm`` raised by the offset of each row's operator × technology.

        Rows of pairs without an offset keep their value (empty stays empty: the inner model's
        default); rows of calibrated pairs without a value get the inner model's technology
        default plus the offset. With ``slopes``, the columns :data:`SLOPE_COLUMN` and
        :data:`SLOPE_REFERENCE_COLUMN` are set (empty for pairs without a slope; sites columns of
        those names are replaced).
        """
        out = sites.copy()
        if len(out) == 0:
            return out
        ops = out["operator"].astype(str).to_numpy()
        tech = out["technology"].astype(str).to_numpy()
        if self.slopes:
            pair = list(zip(ops, tech, strict=True))
            out[SLOPE_COLUMN] = np.array([self.slopes.get(k, (np.nan, np.nan))[0] for k in pair], dtype="f8")
            out[SLOPE_REFERENCE_COLUMN] = np.array([self.slopes.get(k, (np.nan, np.nan))[1] for k in pair],
                                                   dtype="f8")
        if not self.offsets_db:
            return out
        offset = np.array([self.offsets_db.get((o, t), np.nan) for o, t in zip(ops, tech, strict=True)],
                          dtype="f8")
        hit = np.isfinite(offset)
        if not hit.any():
            return out
        defaults = technology_defaults(getattr(self.model, "link_budgets", None),
                                       getattr(self.model, "thresholds_dbm", None))
        eirp = resolve_link_budget(out, defaults=defaults).eirp_dbm  # the row's value, else the default
        if "eirp_dbm" in out.columns:
            given = pd.to_numeric(out["eirp_dbm"], errors="coerce").to_numpy(dtype="f8")
        else:
            given = np.full(len(out), np.nan)
        out["eirp_dbm"] = np.where(hit, eirp + np.where(hit, offset, 0.0), given)
        return out

    def parameters(self) -> dict[str, Any]:
        """The inner model's parameters plus the offsets applied."""
        p = dict(self.model.parameters())
        p["calibration"] = {"offsets_db": {f"{o} {t}": float(v) for (o, t), v in sorted(self.offsets_db.items())},
                            "applied_as": "EIRP of the operator x technology rows + offset_db (= predicted "
                                          "signal + offset_db at every cell)",
                            "source": self.source}
        if self.slopes:
            p["calibration"]["slopes"] = {f"{o} {t}": {"slope_db_per_decade": float(b), "reference_distance_km":
                                                       float(r)} for (o, t), (b, r) in sorted(self.slopes.items())}
            p["calibration"]["slopes_applied_as"] = (
                "base path loss coefficients of the pair's transmitters: A + slope*log10(d_ref), B - slope (both "
                "the empirical and the free-space line) = predicted signal + slope*(log10 d - log10 d_ref)")
        return p

    def reach_m(self, grid: Grid, sites: pd.DataFrame) -> np.ndarray:
        """The inner model's reach for the calibrated link budgets."""
        return self.model.reach_m(grid, self.calibrated_sites(sites))

    def footprints(self, grid: Grid, sites: pd.DataFrame, rows: np.ndarray, *,
                   dem: np.ndarray | None = None) -> Iterator[FootprintWindow]:
        """The inner model's footprints for the calibrated link budgets."""
        return self.model.footprints(grid, self.calibrated_sites(sites), rows, dem=dem)

    def compute(self, grid: Grid, sites: pd.DataFrame, *, dem: np.ndarray | None = None,
                progress: bool = False) -> Coverage:
        """The inner model on the calibrated link budgets; the coverage keeps the sites table as given."""
        sites = sites.reset_index(drop=True)
        cov = self.model.compute(grid, self.calibrated_sites(sites), dem=dem, progress=progress)
        cov.sites = sites
        cov.parameters = {**cov.parameters, "calibration": self.parameters()["calibration"]}
        return cov
