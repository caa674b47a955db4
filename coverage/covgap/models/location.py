"""Location variability: coverage at a location percentage and the coverage probability.

A signal model predicts the *median* signal of a cell (exceeded at 50 % of the locations in
it). Within the cell the signal varies from place to place (buildings, trees, small terrain
features); the Recommendations model it as log-normal: the signal in dB is normal with the
median as mean and standard deviation σL (ITU-R P.1546-6 §12, ITU-R P.1812-6 §4.8).

* The signal exceeded at ``pL`` % of the locations is ``median − σL·Φ⁻¹(pL/100)`` (Φ the
  standard normal distribution function). A cell is *covered at location percentage pL*
  when that signal reaches the threshold, i.e. ``median ≥ threshold + location_margin_db``.
* The *coverage probability* of a cell is the share of its locations where the signal reaches
  the threshold: ``Φ((median − threshold)/σL) = Q((threshold − median)/σL)``; exactly 0.5 at
  the threshold; with σL = 0 it is 1 where the median reaches the threshold, else 0.

So a cell is covered at ``pL`` exactly when its coverage probability is at least ``pL/100``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from ..errors import ConfigError

__all__ = [
    "DEFAULT_LOCATION_STD_DB",
    "DEFAULT_LOCATION_PERCENT",
    "REPORTED_LOCATION_PERCENTS",
    "check_location_percent",
    "location_margin_db",
    "coverage_probability",
    "covered_at",
]

#: σL [dB] of the Hata and terrain models: ITU-R P.1546-6 §12 (location variability), "for
#: digital systems having a bandwidth of 1 MHz or greater, a standard deviation of 5.5 dB
#: should be used at all frequencies" (outdoor receivers; 3G/4G/5G carriers are 5-100 MHz wide).
DEFAULT_LOCATION_STD_DB = 5.5

#: Default location percentage: the median over locations (covgap's figures before location
#: probability existed).
DEFAULT_LOCATION_PERCENT = 50.0

#: The location percentages every per-unit table reports (``covered_any_p50``, ``covered_any_p90``…).
REPORTED_LOCATION_PERCENTS = (50, 90)


def check_location_percent(value: Any, *, where: str = "[model] location_percent") -> float:
    """Return ``value`` as a float if it is a location percentage in [1, 99], else raise ConfigError.

    Examples
    --------
    >>> check_location_percent(90)
    90.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (1.0 <= value <= 99.0):
        raise ConfigError(f"{where} = {value!r}; expected a location percentage from 1 to 99 "
                          "(ITU-R P.1812-6 pL). Fix: e.g. location_percent = 50 (the median) or 90.")
    return float(value)


def location_margin_db(location_percent: float, location_std_db: float) -> float:
    """σL·Φ⁻¹(pL/100) [dB]: how far above the threshold the median must be to cover pL % of locations.

    0 at ``pL = 50`` (exactly) or ``σL = 0``; positive above 50 %, negative below.

    Examples
    --------
    >>> round(location_margin_db(90, 5.5), 3)
    7.049
    >>> location_margin_db(50, 5.5)
    0.0
    """
    pl = check_location_percent(location_percent, where="location_percent")
    if not (math.isfinite(location_std_db) and location_std_db >= 0):
        raise ConfigError(f"location_std_db = {location_std_db!r}; expected dB >= 0.")
    if pl == 50.0 or location_std_db == 0:
        return 0.0
    return float(location_std_db * ndtri(pl / 100.0))


def coverage_probability(signal_dbm: np.ndarray, threshold_dbm: float, location_std_db: float) -> np.ndarray:
    """Share of locations where the signal reaches the threshold: Φ((median − threshold)/σL).

    Parameters
    ----------
    signal_dbm : ndarray
        Median signal [dBm]; NaN where no transmitter reaches (probability 0).
    threshold_dbm : float
    location_std_db : float
        σL [dB]; 0 gives 1 where ``signal_dbm >= threshold_dbm`` and 0 elsewhere.

    Returns
    -------
    ndarray of float32 in [0, 1], the shape of ``signal_dbm``.

    Examples
    --------
    >>> [round(float(v), 3) for v in coverage_probability(np.array([-100.0, -110.0, np.nan]), -100.0, 5.5)]
    [0.5, 0.035, 0.0]
    """
    s = np.asarray(signal_dbm, dtype="f8")
    finite = np.isfinite(s)
    if location_std_db == 0:
        with np.errstate(invalid="ignore"):
            return (finite & (s >= threshold_dbm)).astype(np.float32)
    p = ndtr((np.where(finite, s, -np.inf) - threshold_dbm) / location_std_db)
    return p.astype(np.float32)


def covered_at(signal_dbm: np.ndarray, threshold_dbm: float, location_std_db: float,
               location_percent: float) -> np.ndarray:
    """Boolean: the signal exceeded at ``location_percent`` % of locations reaches the threshold.

    The same comparison the signal models make per transmitter (``median ≥ threshold + margin``),
    so at the model's own location percentage it marks the cells it covers.

    Examples
    --------
    >>> covered_at(np.array([-100.0, -95.0]), -100.0, 5.5, 90).tolist()
    [False, False]
    >>> covered_at(np.array([-100.0, -92.0]), -100.0, 5.5, 90).tolist()
    [False, True]
    """
    thr = float(threshold_dbm) + location_margin_db(location_percent, location_std_db)
    s = np.asarray(signal_dbm, dtype="f8")  # compared in float64, as the models' merge does
    with np.errstate(invalid="ignore"):
        return np.isfinite(s) & (s >= thr)
