"""Path-loss formulas: free space, Okumura–Hata, COST-231 Hata, knife-edge diffraction.

Every formula here is a plain NumPy function (scalars or arrays, broadcasting) and each
empirical model carries its published validity range. Outside that range the functions
warn with :class:`~covgap.errors.ModelRangeWarning` (they never extrapolate silently);
pass ``check=False`` only after you have warned the user yourself.

Both Hata-type models reduce, for a fixed transmitter, to ``L = A + B·log10(d_km)``;
:func:`hata_coefficients` returns ``(A, B)`` so that propagation kernels evaluate one
logarithm per cell. Free space has the same form with ``B = 20``.

Sources
-------
* Free space: ITU-R P.525-4 (2019), eq. (6): ``L = 32.45 + 20 log f[MHz] + 20 log d[km]``
  (the constant is ``20 log10(4π·10⁹/c) = 32.4478``).
* Okumura–Hata: M. Hata, "Empirical formula for propagation loss in land mobile radio
  services", IEEE Trans. Veh. Technol. VT-29(3), 1980, eqs. (4)–(9); validity 150–1500 MHz,
  base height 30–200 m, mobile height 1–10 m, distance 1–20 km.
* COST-231 Hata: COST Action 231 final report (Damosso & Correia, eds., 1999), §4.4.1;
  validity 1500–2000 MHz, base 30–200 m, mobile 1–10 m, distance 1–20 km.
* Knife-edge: ITU-R P.526-15 (2019), eq. (26) for ν and eq. (31) for ``J(ν)``.

Environments
------------
``"metropolitan"``
    Okumura–Hata: Hata's "large city" mobile-antenna correction (Hata 1980).
    COST-231 Hata: ``C_m = 3 dB`` with the *medium-small city* ``a(h_m)`` of Hata, as for
    ``"urban"``: the COST 231 final report §4.4.1 defines one ``a(h_m)`` for both classes and
    separates them by ``C_m`` only (0 dB medium city, 3 dB metropolitan centres).
``"urban"``
    Hata "medium-small city" correction; COST-231 ``C_m = 0 dB`` (medium city).
``"suburban"``
    Urban (medium city) minus Hata's suburban correction ``2 (log(f/28))² + 5.4``.
``"rural"`` (alias ``"open"``)
    Urban (medium city) minus Hata's open-area correction
    ``4.78 (log f)² − 18.33 log f + 40.94``.

COST-231 defines only the two urban classes; covgap applies Hata's suburban / open-area
corrections (evaluated at the carrier frequency) to COST-231 for ``suburban`` and
``rural``. This is a covgap convention, common in planning tools, and is stated in every
result's parameters.

Examples
--------
>>> round(float(free_space_loss_db(1.0, 2600.0)), 2)
100.75
>>> round(float(hata_loss_db(2.0, 869.0, base_height_m=30.0, mobile_height_m=1.0,
...                          environment="urban")), 2)
137.88
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ModelRangeWarning

__all__ = [
    "ENVIRONMENTS",
    "ValidityRange",
    "VALIDITY",
    "FREE_SPACE_CONSTANT_DB",
    "SPEED_OF_LIGHT_M_S",
    "free_space_loss_db",
    "hata_loss_db",
    "cost231_hata_loss_db",
    "hata_coefficients",
    "mobile_height_correction_db",
    "environment_correction_db",
    "choose_hata_model",
    "check_validity",
    "distance_for_loss_km",
    "fresnel_nu",
    "knife_edge_loss_db",
    "wavelength_m",
]

#: Speed of light in vacuum (m/s).
SPEED_OF_LIGHT_M_S = 299_792_458.0

#: ``20 log10(4π / c)`` with d in km and f in MHz (ITU-R P.525: 32.45).
FREE_SPACE_CONSTANT_DB = 20.0 * math.log10(4.0 * math.pi * 1e9 / SPEED_OF_LIGHT_M_S)

#: Environment names understood by the Hata-type models.
ENVIRONMENTS: tuple[str, ...] = ("metropolitan", "urban", "suburban", "rural", "open")


@dataclass(frozen=True)
class ValidityRange:
    """Published validity range of an empirical path-loss model."""

    model: str
    frequency_mhz: tuple[float, float]
    base_height_m: tuple[float, float]
    mobile_height_m: tuple[float, float]
    distance_km: tuple[float, float]
    source: str


#: Validity ranges (inclusive) of the empirical models.
VALIDITY: dict[str, ValidityRange] = {
    "okumura-hata": ValidityRange(
        "okumura-hata", (150.0, 1500.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0),
        "Hata (1980), IEEE Trans. Veh. Technol. VT-29(3), §III"),
    "cost231-hata": ValidityRange(
        "cost231-hata", (1500.0, 2000.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0),
        "COST 231 final report (1999), §4.4.1"),
}


def _env(environment: str) -> str:
    env = str(environment).lower()
    if env == "open":
        env = "rural"
    if env not in ENVIRONMENTS:
        raise InputError(
            f"unknown propagation environment {environment!r}; expected one of {list(ENVIRONMENTS)}."
        )
    return env


def wavelength_m(frequency_mhz):
    """Wavelength in metres for a frequency in MHz."""
    return SPEED_OF_LIGHT_M_S / (np.asarray(frequency_mhz, dtype="f8") * 1e6)


def free_space_loss_db(distance_km, frequency_mhz):
    """Free-space basic transmission loss (ITU-R P.525-4 eq. 6), dB.

    Parameters
    ----------
    distance_km : float or array
        Path length, km (> 0).
    frequency_mhz : float or array
        Frequency, MHz (> 0).

    Examples
    --------
    >>> round(float(free_space_loss_db(10.0, 900.0)), 2)
    111.53
    """
    d = np.asarray(distance_km, dtype="f8")
    f = np.asarray(frequency_mhz, dtype="f8")
    _positive(d, "distance_km")
    _positive(f, "frequency_mhz")
    return FREE_SPACE_CONSTANT_DB + 20.0 * np.log10(f) + 20.0 * np.log10(d)


def mobile_height_correction_db(frequency_mhz, mobile_height_m, *, large_city: bool = False):
    """Hata's mobile-antenna height correction ``a(h_m)`` in dB (Hata 1980 eqs. 5–6).

    ``large_city=False`` is the medium-small city formula
    ``(1.1 log f − 0.7) h_m − (1.56 log f − 0.8)``; ``True`` is the large-city formula
    (``8.29 (log 1.54 h_m)² − 1.1`` for f ≤ 300 MHz, ``3.2 (log 11.75 h_m)² − 4.97`` above).
    """
    f = np.asarray(frequency_mhz, dtype="f8")
    hm = np.asarray(mobile_height_m, dtype="f8")
    lf = np.log10(f)
    if not large_city:
        return (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)
    low = 8.29 * np.log10(1.54 * hm) ** 2 - 1.1
    high = 3.2 * np.log10(11.75 * hm) ** 2 - 4.97
    return np.where(f <= 300.0, low, high)


def environment_correction_db(frequency_mhz, environment: str):
    """Loss subtracted from the urban (medium city) value for ``environment`` (dB, ≥ 0).

    Hata (1980) eq. (7) (suburban) and eq. (8) (open area); 0 for urban/metropolitan.
    """
    env = _env(environment)
    f = np.asarray(frequency_mhz, dtype="f8")
    lf = np.log10(f)
    if env == "suburban":
        return 2.0 * np.log10(f / 28.0) ** 2 + 5.4
    if env == "rural":
        return 4.78 * lf**2 - 18.33 * lf + 40.94
    return np.zeros_like(f)


def choose_hata_model(frequency_mhz) -> np.ndarray:
    """Per frequency, ``"okumura-hata"`` (≤ 1500 MHz) or ``"cost231-hata"`` (above)."""
    f = np.asarray(frequency_mhz, dtype="f8")
    return np.where(f <= 1500.0, "okumura-hata", "cost231-hata")


def hata_coefficients(frequency_mhz, base_height_m, mobile_height_m=1.5, *,
                      environment: str = "urban", model: str = "auto"):
    """Coefficients ``(A, B)`` with ``L = A + B·log10(d_km)`` for the Hata-type models.

    Parameters
    ----------
    frequency_mhz, base_height_m, mobile_height_m : float or array
        Carrier frequency (MHz), base-station antenna height (m), mobile height (m).
    environment : str
        One of :data:`ENVIRONMENTS`.
    model : {"auto", "okumura-hata", "cost231-hata"}
        ``auto`` picks Okumura–Hata up to 1500 MHz and COST-231 Hata above.

    No validity check is made here; see :func:`check_validity`.
    """
    env = _env(environment)
    f = np.asarray(frequency_mhz, dtype="f8")
    hb = np.asarray(base_height_m, dtype="f8")
    hm = np.asarray(mobile_height_m, dtype="f8")
    _positive(f, "frequency_mhz")
    _positive(hb, "base_height_m")
    _positive(hm, "mobile_height_m")
    lf = np.log10(f)
    lhb = np.log10(hb)
    large = env == "metropolitan"
    # Okumura–Hata: the large-city a(hm) for large cities (Hata 1980). COST-231 Hata: the
    # medium-small city a(hm) of Hata for every class; metropolitan centres differ by
    # C_m = 3 dB only (COST 231 final report, Damosso & Correia 1999, §4.4.1).
    a_hm_oh = mobile_height_correction_db(f, hm, large_city=large)
    a_hm_cost = mobile_height_correction_db(f, hm, large_city=False)
    if model == "auto":
        use_cost = f > 1500.0
    elif model == "okumura-hata":
        use_cost = np.zeros(f.shape, dtype=bool)
    elif model == "cost231-hata":
        use_cost = np.ones(f.shape, dtype=bool)
    else:
        raise InputError(f"unknown Hata model {model!r}; expected 'auto', 'okumura-hata' or 'cost231-hata'.")
    a_oh = 69.55 + 26.16 * lf - a_hm_oh
    a_cost = 46.3 + 33.9 * lf + (3.0 if large else 0.0) - a_hm_cost
    a = np.where(use_cost, a_cost, a_oh) - 13.82 * lhb - environment_correction_db(f, env)
    b = 44.9 - 6.55 * lhb
    a, b = np.broadcast_arrays(a, b)
    return a.astype("f8"), b.astype("f8")


def check_validity(model: str, *, frequency_mhz=None, base_height_m=None, mobile_height_m=None,
                   distance_km=None, warn: bool = True, what: str = "") -> list[str]:
    """List (and by default warn about) inputs outside ``model``'s validity range.

    Returns one message per parameter out of range, each saying how many values are out,
    their extremes and the published range. With ``warn=True`` each message is issued as
    a :class:`~covgap.errors.ModelRangeWarning`.
    """
    rng = VALIDITY[model]
    msgs: list[str] = []
    for name, vals, (lo, hi) in (
        ("frequency_mhz", frequency_mhz, rng.frequency_mhz),
        ("base_height_m", base_height_m, rng.base_height_m),
        ("mobile_height_m", mobile_height_m, rng.mobile_height_m),
        ("distance_km", distance_km, rng.distance_km),
    ):
        if vals is None:
            continue
        v = np.atleast_1d(np.asarray(vals, dtype="f8"))
        v = v[np.isfinite(v)]
        out = (v < lo) | (v > hi)
        if out.any():
            prefix = f"{what}: " if what else ""
            msgs.append(
                f"{prefix}{int(out.sum())} value(s) of {name} outside the {model} validity range "
                f"{lo:g}–{hi:g} (got {v[out].min():g}–{v[out].max():g}; source: {rng.source}). "
                "The formula is applied outside the range it was fitted on; treat those results "
                "as extrapolated."
            )
    if warn:
        for m in msgs:
            warnings.warn(m, ModelRangeWarning, stacklevel=2)
    return msgs


def hata_loss_db(distance_km, frequency_mhz, *, base_height_m, mobile_height_m=1.5,
                 environment: str = "urban", check: bool = True):
    """Okumura–Hata median path loss, dB (Hata 1980).

    Parameters
    ----------
    distance_km, frequency_mhz : float or array
        Path length (km) and carrier frequency (MHz).
    base_height_m : float or array
        Base-station antenna height, m.
    mobile_height_m : float or array
        Mobile antenna height, m (default 1.5).
    environment : str
        See the module docstring.
    check : bool
        Warn (:class:`~covgap.errors.ModelRangeWarning`) for inputs outside 150–1500 MHz,
        30–200 m, 1–10 m, 1–20 km.

    Examples
    --------
    ns-3 reference values (``src/propagation/test/okumura-hata-test-suite.cc``):

    >>> round(float(hata_loss_db(2.0, 869.0, base_height_m=30.0, mobile_height_m=1.0,
    ...                          environment="metropolitan")), 2)
    137.93
    """
    return _hata_form_loss("okumura-hata", distance_km, frequency_mhz, base_height_m, mobile_height_m, environment, check)


def cost231_hata_loss_db(distance_km, frequency_mhz, *, base_height_m, mobile_height_m=1.5,
                         environment: str = "urban", check: bool = True):
    """COST-231 Hata median path loss, dB (COST 231 final report §4.4.1).

    Same parameters as :func:`hata_loss_db`; validity 1500–2000 MHz.

    Examples
    --------
    >>> round(float(cost231_hata_loss_db(2.0, 1800.0, base_height_m=30.0, mobile_height_m=1.5)), 2)
    146.8
    """
    return _hata_form_loss("cost231-hata", distance_km, frequency_mhz, base_height_m, mobile_height_m, environment, check)


def _hata_form_loss(model, distance_km, frequency_mhz, base_height_m, mobile_height_m, environment, check):
    """``a + b·log10(d)`` of ``model`` (its validity checked first when ``check``)."""
    if check:
        check_validity(model, frequency_mhz=frequency_mhz, base_height_m=base_height_m,
                       mobile_height_m=mobile_height_m, distance_km=distance_km)
    a, b = hata_coefficients(frequency_mhz, base_height_m, mobile_height_m, environment=environment, model=model)
    d = np.asarray(distance_km, dtype="f8")
    _positive(d, "distance_km")
    return a + b * np.log10(d)


def distance_for_loss_km(loss_db, a, b):
    """Distance (km) where ``a + b·log10(d) = loss_db`` (the inverse of the Hata form)."""
    return 10.0 ** ((np.asarray(loss_db, dtype="f8") - a) / b)


def fresnel_nu(h_m, d1_m, d2_m, wavelength):
    """Fresnel–Kirchhoff diffraction parameter ``ν = h √(2 (d1+d2) / (λ d1 d2))`` (P.526 eq. 26).

    ``h_m`` is the height of the edge above the straight line between the terminals
    (negative below it).
    """
    h = np.asarray(h_m, dtype="f8")
    d1 = np.asarray(d1_m, dtype="f8")
    d2 = np.asarray(d2_m, dtype="f8")
    return h * np.sqrt(2.0 * (d1 + d2) / (np.asarray(wavelength, dtype="f8") * d1 * d2))


def knife_edge_loss_db(nu):
    """Single knife-edge diffraction loss ``J(ν)`` (ITU-R P.526-15 eq. 31), dB.

    ``J(ν) = 6.9 + 20 log10(√((ν − 0.1)² + 1) + ν − 0.1)`` for ``ν > −0.78``, else 0.

    Examples
    --------
    >>> round(float(knife_edge_loss_db(0.0)), 2)
    6.03
    >>> float(knife_edge_loss_db(-1.0))
    0.0
    """
    v = np.asarray(nu, dtype="f8")
    x = v - 0.1
    out = 6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x)
    return np.where(v > -0.78, out, 0.0)


def _positive(v: np.ndarray, name: str) -> None:
    bad = ~(v > 0)
    if np.any(bad):
        raise InputError(f"{name} must be > 0 (and not NaN); got {np.asarray(v)[bad].ravel()[:3].tolist()}.")
