"""Diffraction of ITU-R P.1812-6 (Annex 1 §4.3): Bullington, spherical earth, delta-Bullington.

Private to :mod:`covgap.models.p1812`. Equation numbers are those of Recommendation
ITU-R P.1812-6 (09/2021). Losses that depend on polarisation are returned as a
``(horizontal, vertical)`` pair of floats.
"""

from __future__ import annotations

import math

import numpy as np

from ._p1812_profile import C_GM

__all__: list[str] = []

#: Ground electrical constants of the first-term spherical-earth loss (§4.3.3):
#: (relative permittivity, conductivity [S/m]) for land and for sea.
_LAND = (22.0, 0.003)
_SEA = (80.0, 5.0)


def knife_edge_db(nu: float) -> float:
    """Knife-edge loss J(nu) [dB] (Eq (12)); 0 for nu <= -0.78."""
    if nu <= -0.78:
        return 0.0
    return 6.9 + 20.0 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)


def bullington_db(d: np.ndarray, g: np.ndarray, htc: float, hrc: float, ap: float, f: float) -> float:
    """Bullington diffraction loss Lbull [dB] over the profile heights ``g`` (Eqs (13)-(21))."""
    dtot = float(d[-1])
    lam = C_GM / f
    di = d[1:-1]
    gi = g[1:-1] + 500.0 * di * (dtot - di) / ap  # heights over the curved earth, Ce = 1/ap
    stim = float(np.max((gi - htc) / di))  # Eq (13)
    s_tr = (hrc - htc) / dtot  # Eq (14)
    srim = float(np.max((gi - hrc) / (dtot - di)))  # Eq (17)
    if stim < s_tr or stim + srim <= 0.0:  # the second test only guards a grazing ray's 0/0
        # LoS: the point of highest diffraction parameter (Eqs (15), (16))
        nu = (gi - (htc * (dtot - di) + hrc * di) / dtot) * np.sqrt(0.002 * dtot / (lam * di * (dtot - di)))
        luc = knife_edge_db(float(nu.max()))
    else:
        dbp = (hrc - htc + srim * dtot) / (stim + srim)  # Eq (18)
        nub = (htc + stim * dbp - (htc * (dtot - dbp) + hrc * dbp) / dtot) * math.sqrt(
            0.002 * dtot / (lam * dbp * (dtot - dbp))
        )  # Eq (19)
        luc = knife_edge_db(nub)  # Eq (20)
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)  # Eq (21)


def _first_term_one(epsr: float, sigma: float, d: float, hte: float, hre: float, adft: float, f: float) -> np.ndarray:
    """First-term spherical-earth loss for one kind of ground (Eqs (29)-(36)), [H, V]."""
    s = (18.0 * sigma / f) ** 2
    k_h = 0.036 * (adft * f) ** (-1.0 / 3.0) * ((epsr - 1.0) ** 2 + s) ** -0.25  # Eq (29a)
    k_v = k_h * math.sqrt(epsr**2 + s)  # Eq (29b)
    out = np.empty(2)
    for j, k in enumerate((k_h, k_v)):
        beta = (1.0 + 1.6 * k**2 + 0.67 * k**4) / (1.0 + 4.5 * k**2 + 1.53 * k**4)  # Eq (30)
        x = 21.88 * beta * (f / adft**2) ** (1.0 / 3.0) * d  # Eq (31)
        if x >= 1.6:  # Eq (33)
            fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x
        else:
            fx = -20.0 * math.log10(x) - 5.6488 * x**1.425
        g_min = 2.0 + 20.0 * math.log10(k)
        gy = []
        for hh in (hte, hre):
            y = 0.9575 * beta * (f**2 / adft) ** (1.0 / 3.0) * hh  # Eq (32)
            b = beta * y  # Eq (35)
            if b > 2.0:  # Eq (34)
                gb = 17.6 * math.sqrt(b - 1.1) - 5.0 * math.log10(b - 1.1) - 8.0
            else:
                gb = 20.0 * math.log10(b + 0.1 * b**3)
            gy.append(max(gb, g_min))
        out[j] = -fx - gy[0] - gy[1]  # Eq (36)
    return out


def first_term_db(d: float, hte: float, hre: float, adft: float, f: float, omega: float) -> np.ndarray:
    """First-term spherical-earth loss Ldft [dB], mixed land/sea (Eq (28)), [H, V]."""
    land = _first_term_one(*_LAND, d, hte, hre, adft, f)
    sea = _first_term_one(*_SEA, d, hte, hre, adft, f)
    return omega * sea + (1.0 - omega) * land


def spherical_earth_db(d: float, hte: float, hre: float, ap: float, f: float, omega: float) -> np.ndarray:
    """Spherical-earth diffraction loss Ldsph [dB] (Eqs (22)-(27)), [H, V]."""
    lam = C_GM / f
    dlos = math.sqrt(2.0 * ap) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))  # Eq (22)
    if d >= dlos:
        return first_term_db(d, hte, hre, ap, f, omega)
    c = (hte - hre) / (hte + hre)  # Eq (24d)
    m = 250.0 * d * d / (ap * (hte + hre))  # Eq (24e)
    b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(
        math.pi / 3.0 + math.acos(min(1.0, max(-1.0, 1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)))) / 3.0
    )  # Eq (24c)
    dse1 = 0.5 * d * (1.0 + b)  # Eq (24a)
    dse2 = d - dse1  # Eq (24b)
    hse = ((hte - 500.0 * dse1**2 / ap) * dse2 + (hre - 500.0 * dse2**2 / ap) * dse1) / d  # Eq (23)
    hreq = 17.456 * math.sqrt(dse1 * dse2 * lam / d)  # Eq (25)
    if hse > hreq:
        return np.zeros(2)
    aem = 500.0 * (d / (math.sqrt(hte) + math.sqrt(hre))) ** 2  # Eq (26)
    ldft = np.maximum(first_term_db(d, hte, hre, aem, f, omega), 0.0)
    return (1.0 - hse / hreq) * ldft  # Eq (27)


def delta_bullington_db(
    d: np.ndarray, g: np.ndarray, htc: float, hrc: float, hstd: float, hsrd: float, ap: float, f: float, omega: float
) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Delta-Bullington loss Ld [dB] for effective radius ``ap`` (§4.3.4, Eqs (37)-(39)).

    Returns ``(Ld[H, V], Lbulla, Lbulls, Ldsph[H, V])``.
    """
    dtot = float(d[-1])
    lbulla = bullington_db(d, g, htc, hrc, ap, f)
    htc1 = htc - hstd  # Eq (37a)
    hrc1 = hrc - hsrd  # Eq (37b)
    lbulls = bullington_db(d, np.zeros_like(g), htc1, hrc1, ap, f)
    ldsph = spherical_earth_db(dtot, htc1, hrc1, ap, f, omega)  # Eq (38): hte = htc', hre = hrc'
    ld = lbulla + np.maximum(ldsph - lbulls, 0.0)  # Eq (39)
    return ld, lbulla, lbulls, ldsph
