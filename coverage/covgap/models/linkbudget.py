"""Link budgets: technology defaults and per-transmitter values with fallbacks counted.

Signal-based models (:class:`covgap.models.hata.HataModel`, :class:`covgap.models.terrain.TerrainModel`)
compute, per cell, the received level of each technology's *reference signal* and compare
it with a coverage threshold on the same basis:

=====  ================================  ============  =========  ==========  ===========
tech   signal compared with threshold    frequency     EIRP       threshold   beamwidth
=====  ================================  ============  =========  ==========  ===========
2G     BCCH carrier level (RxLev)        900 MHz       57 dBm     −95 dBm     65°
3G     CPICH RSCP                        2100 MHz      47 dBm     −100 dBm    65°
4G     RSRP (per resource element)       1800 MHz      29 dBm     −105 dBm    65°
5G     SS-RSRP (per resource element)    3500 MHz      41 dBm     −105 dBm    65°
=====  ================================  ============  =========  ==========  ===========

So ``eirp_dbm`` in the sites table means *the EIRP of that reference signal* (BCCH carrier,
CPICH, one LTE/NR resource element), antenna gain and feeder loss included.

Where the numbers come from (typical macro-cell planning values; override them in the
config when an operator gives you better ones):

* **Frequencies.** Vietnam's main bands: GSM 900 (3GPP TS 45.005 band P-GSM 900), UMTS
  band I 2100 MHz (TS 25.104), LTE band 3 1800 MHz (TS 36.104), NR band n78 3300–3800 MHz
  (TS 38.104).
* **EIRP.** Transmitter power per carrier from the base-station classes of TS 45.005 §4.1.2
  (2G: 20 W = 43 dBm per TRX), TS 25.104 §6.2 (3G: 20 W with 10 % on CPICH = 33 dBm),
  TS 36.104 §6.2 (4G: 40 W = 46 dBm over 1200 subcarriers of 20 MHz → 15.2 dBm per
  resource element), TS 38.104 §6.2 (5G: 200 W = 53 dBm over 3276 subcarriers of 100 MHz
  at 30 kHz → 17.9 dBm per resource element); plus a 17 dBi sector antenna with 3 dB feeder
  loss (2G/3G/4G) or 23 dBi array gain without feeder (5G active antenna). Typical values
  from GSMA / operator planning practice, e.g. Holma & Toskala, *LTE for UMTS* (2011) ch. 9
  link budget tables.
* **Thresholds.** 3GPP minimum reference sensitivities are −102 dBm (GSM MS, TS 45.005 §6.2),
  −117 dBm CPICH-related (UMTS, TS 25.101 §7.3) and about −100 dBm RSSI-equivalent for LTE
  (TS 36.101 §7.3); coverage regulators add fading, body and penetration margins. covgap
  uses outdoor thresholds of the order regulators use for "outdoor coverage" (ECC Report
  231, "Mobile coverage obligations", 2015, surveys them): −95 dBm (2G), −100 dBm RSCP
  (3G), −105 dBm RSRP (4G and 5G).
* **Receiver height** 1.5 m: Hata's reference mobile height (Hata 1980) and ITU-R P.1546's
  representative receiving height for mobile services.
* **Sector beamwidth** 65°, when a row has an azimuth but no beamwidth: 3GPP TR 36.942 §4.2.1
  (horizontal pattern ``−min(12 (φ/φ3dB)², 20 dB)``, φ3dB = 65°).
* **Antenna height** (when a row has none): :data:`covgap.sites.DEFAULT_ANTENNA_HEIGHT_M`.

Caveat: the EIRP and threshold figures are typical planning values assembled from the
specifications named above; they were not re-checked against the primary documents when
this module was written (no network access). Confirm them with the operators or the
regulator before publishing numbers, and override them in the config.

Missing per-row values fall back to these defaults, and :class:`LinkBudget` counts how
many rows did so per field (``defaulted``), so that reports can say it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..sites import DEFAULT_ANTENNA_HEIGHT_M, TECHNOLOGIES

__all__ = [
    "TechnologyDefaults",
    "DEFAULT_LINK_BUDGETS",
    "RECEIVER_HEIGHT_M",
    "DEFAULT_BEAMWIDTH_DEG",
    "SIDELOBE_ATTENUATION_DB",
    "LinkBudget",
    "technology_defaults",
    "resolve_link_budget",
    "sector_gain_db",
]

#: Receiver (mobile) antenna height above ground, metres (Hata 1980; ITU-R P.1546).
RECEIVER_HEIGHT_M = 1.5

#: Horizontal half-power beamwidth for sectors without one (3GPP TR 36.942 §4.2.1).
DEFAULT_BEAMWIDTH_DEG = 65.0

#: Maximum attenuation of the horizontal sector pattern (3GPP TR 36.942 §4.2.1: A_m = 20 dB).
SIDELOBE_ATTENUATION_DB = 20.0


@dataclass(frozen=True)
class TechnologyDefaults:
    """Link-budget defaults of one technology (see the module docstring for sources)."""

    technology: str
    signal: str
    frequency_mhz: float
    eirp_dbm: float
    threshold_dbm: float
    beamwidth_deg: float = DEFAULT_BEAMWIDTH_DEG
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for provenance."""
        return asdict(self)


_SRC = "covgap.models.linkbudget module docstring (3GPP TS 45.005/25.104/36.104/38.104, ECC Report 231)"

#: Defaults per technology.
DEFAULT_LINK_BUDGETS: dict[str, TechnologyDefaults] = {
    "2G": TechnologyDefaults("2G", "RxLev (BCCH)", 900.0, 57.0, -95.0, source=_SRC),
    "3G": TechnologyDefaults("3G", "CPICH RSCP", 2100.0, 47.0, -100.0, source=_SRC),
    "4G": TechnologyDefaults("4G", "RSRP", 1800.0, 29.0, -105.0, source=_SRC),
    "5G": TechnologyDefaults("5G", "SS-RSRP", 3500.0, 41.0, -105.0, source=_SRC),
}


def technology_defaults(overrides: Mapping[str, Mapping[str, float]] | None = None,
                        thresholds_dbm: Mapping[str, float] | None = None) -> dict[str, TechnologyDefaults]:
    """Defaults after config overrides.

    Parameters
    ----------
    overrides : mapping of technology to {field: value}
        Fields of :class:`TechnologyDefaults` (``frequency_mhz``, ``eirp_dbm``,
        ``threshold_dbm``, ``beamwidth_deg``).
    thresholds_dbm : mapping of technology to dBm
        Shortcut for threshold overrides.

    Examples
    --------
    >>> technology_defaults(thresholds_dbm={"4G": -110})["4G"].threshold_dbm
    -110.0
    """
    out = dict(DEFAULT_LINK_BUDGETS)
    allowed = {"frequency_mhz", "eirp_dbm", "threshold_dbm", "beamwidth_deg"}
    merged: dict[str, dict[str, float]] = {}
    for tech, vals in (overrides or {}).items():
        merged.setdefault(tech, {}).update(dict(vals))
    for tech, thr in (thresholds_dbm or {}).items():
        merged.setdefault(tech, {})["threshold_dbm"] = thr
    for tech, vals in merged.items():
        if tech not in TECHNOLOGIES:
            raise ConfigError(f"link budget: unknown technology {tech!r}; expected one of {TECHNOLOGIES}.")
        bad = set(vals) - allowed
        if bad:
            raise ConfigError(f"link budget {tech}: unknown field(s) {sorted(bad)}; allowed {sorted(allowed)}.")
        clean: dict[str, float] = {}
        for k, v in vals.items():
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise ConfigError(f"link budget {tech}.{k} = {v!r}; expected a number.") from None
            if not np.isfinite(fv):
                raise ConfigError(f"link budget {tech}.{k} = {v!r}; expected a finite number.")
            if k in ("frequency_mhz", "beamwidth_deg") and fv <= 0:
                raise ConfigError(f"link budget {tech}.{k} = {fv}; expected a value > 0.")
            clean[k] = fv
        out[tech] = replace(out[tech], **clean)
    return out


@dataclass
class LinkBudget:
    """Per-transmitter link budget (arrays aligned with the sites rows).

    Attributes
    ----------
    eirp_dbm, frequency_mhz, antenna_height_m, threshold_dbm : ndarray of float64
    azimuth_deg : ndarray of float64
        NaN for omnidirectional transmitters.
    beamwidth_deg : ndarray of float64
        Horizontal half-power beamwidth (only used where ``azimuth_deg`` is set).
    defaulted : dict
        Number of rows that fell back to the technology default, per field.
    defaults : dict
        The technology defaults used (for provenance).
    """

    eirp_dbm: np.ndarray
    frequency_mhz: np.ndarray
    antenna_height_m: np.ndarray
    threshold_dbm: np.ndarray
    azimuth_deg: np.ndarray
    beamwidth_deg: np.ndarray
    defaulted: dict[str, int] = field(default_factory=dict)
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Summary for ``Coverage.parameters`` (counts and defaults, not the arrays)."""
        return {"defaulted": dict(self.defaulted), "defaults": self.defaults}


def resolve_link_budget(sites: pd.DataFrame, *,
                        defaults: Mapping[str, TechnologyDefaults] | None = None,
                        source: str = "sites table") -> LinkBudget:
    """Per-row link budget: the row's value where given, else the technology default.

    Raises :class:`~covgap.errors.InputError` naming the row for values that would make the
    numbers wrong: antenna height ≤ 0, frequency ≤ 0, beamwidth outside (0, 360].

    Examples
    --------
    >>> df = pd.DataFrame({"technology": ["4G", "4G"], "eirp_dbm": [35.0, np.nan]})
    >>> lb = resolve_link_budget(df)
    >>> lb.eirp_dbm.tolist(), lb.defaulted["eirp_dbm"]
    ([35.0, 29.0], 1)
    """
    d = dict(defaults) if defaults is not None else dict(DEFAULT_LINK_BUDGETS)
    tech = sites["technology"].astype(str).to_numpy()
    n = len(sites)
    unknown = sorted(set(tech) - set(d))
    if unknown:
        raise InputError(f"{source}: technologies {unknown} have no link-budget defaults; expected {sorted(d)}.")

    def col(name: str) -> np.ndarray:
        if name not in sites.columns:
            return np.full(n, np.nan)
        v = sites[name]
        if pd.api.types.is_float_dtype(v.dtype) and not isinstance(v.dtype, pd.api.extensions.ExtensionDtype):
            return v.to_numpy(dtype="f8", copy=True)  # already numbers (the common case; 3x faster)
        return pd.to_numeric(v, errors="coerce").to_numpy(dtype="f8").copy()

    defaulted: dict[str, int] = {}

    def fill(name: str, attr: str) -> np.ndarray:
        v = col(name)
        miss = ~np.isfinite(v)
        if miss.any():
            defaulted[name] = int(miss.sum())
            v[miss] = np.array([getattr(d[t], attr) for t in tech[miss]], dtype="f8")
        return v

    eirp = fill("eirp_dbm", "eirp_dbm")
    freq = fill("frequency_mhz", "frequency_mhz")
    thr = np.array([d[t].threshold_dbm for t in tech], dtype="f8")
    h = col("antenna_height_m")
    miss_h = ~np.isfinite(h)
    if miss_h.any():
        defaulted["antenna_height_m"] = int(miss_h.sum())
        h[miss_h] = DEFAULT_ANTENNA_HEIGHT_M
    az = col("azimuth_deg")
    bw = col("beamwidth_deg")
    sector = np.isfinite(az)
    miss_bw = sector & ~np.isfinite(bw)
    if miss_bw.any():
        defaulted["beamwidth_deg"] = int(miss_bw.sum())
        bw[miss_bw] = np.array([d[t].beamwidth_deg for t in tech[miss_bw]], dtype="f8")
    az = np.where(sector, np.mod(az, 360.0), np.nan)

    for name, v, ok, expect in (
        ("antenna_height_m", h, h > 0, "a height above ground > 0 m"),
        ("frequency_mhz", freq, freq > 0, "a frequency > 0 MHz"),
        ("beamwidth_deg", bw, ~sector | ((bw > 0) & (bw <= 360)), "a beamwidth in (0, 360] degrees"),
    ):
        bad = ~ok
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            sid = sites["site_id"].iloc[i] if "site_id" in sites.columns else i
            raise InputError(
                f"{source}: row {i} (site {sid!r}), field {name!r} is {v[i]}; expected {expect}. "
                f"{int(bad.sum())} row(s) affected. Fix: correct the value or leave it empty to use "
                "the technology default."
            )
    return LinkBudget(
        eirp_dbm=eirp, frequency_mhz=freq, antenna_height_m=h, threshold_dbm=thr,
        azimuth_deg=az, beamwidth_deg=bw, defaulted=defaulted,
        defaults={t: d[t].as_dict() for t in sorted(set(tech))},
    )


def sector_gain_db(bearing_deg, azimuth_deg, beamwidth_deg=DEFAULT_BEAMWIDTH_DEG,
                   max_attenuation_db: float = SIDELOBE_ATTENUATION_DB):
    """Horizontal sector pattern ``−min(12 (φ/φ3dB)², A_m)`` relative to boresight, dB.

    3GPP TR 36.942 §4.2.1 (A_m = 20 dB; TR 36.814 Table A.2.1.1-2 uses 25 dB).
    ``φ`` is the bearing difference folded into [−180°, 180°]. NaN azimuth → 0 dB (omni).

    Examples
    --------
    >>> float(sector_gain_db(32.5, 0.0, 65.0)), float(sector_gain_db(180.0, 0.0, 65.0))
    (-3.0, -20.0)
    """
    b = np.asarray(bearing_deg, dtype="f8")
    a = np.asarray(azimuth_deg, dtype="f8")
    phi = (b - a + 180.0) % 360.0 - 180.0
    g = -np.minimum(12.0 * (phi / np.asarray(beamwidth_deg, dtype="f8")) ** 2, max_attenuation_db)
    return np.where(np.isfinite(a), g, 0.0)
