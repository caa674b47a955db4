"""Troposcatter and anomalous propagation of ITU-R P.1812-6 (Annex 1 §4.4, §4.5).

Private to :mod:`covgap.models.p1812`. Equation numbers are those of Recommendation
ITU-R P.1812-6 (09/2021).
"""

from __future__ import annotations

import math

__all__: list[str] = []


def troposcatter_db(dtot: float, theta: float, f: float, p: float, N0: float) -> float:
    """Return the basic transmission loss due to troposcatter Lbs [dB] (Eqs (44), (45))."""
    lf = 25.0 * math.log10(f) - 2.5 * math.log10(f / 2.0) ** 2  # Eq (45)
    return (
        190.1 + lf + 20.0 * math.log10(dtot) + 0.573 * theta - 0.15 * N0 - 10.125 * math.log10(50.0 / p) ** 0.7
    )  # Eq (44)


def _site_shielding_db(theta: float, dl: float, f: float) -> float:
    """Site-shielding loss Ast or Asr [dB] (Eq (48))."""
    th2 = theta - 0.1 * dl  # Eq (48a)
    if th2 <= 0.0:
        return 0.0
    return 20.0 * math.log10(1.0 + 0.361 * th2 * math.sqrt(f * dl)) + 0.264 * th2 * f ** (1.0 / 3.0)


def _duct_coupling_db(dc: float, dl: float, hs: float, omega: float) -> float:
    """Over-sea surface-duct coupling correction Act or Acr [dB] (Eq (49))."""
    if omega >= 0.75 and dc <= dl and dc <= 5.0:
        return -3.0 * math.exp(-0.25 * dc * dc) * (1.0 + math.tanh(0.07 * (50.0 - hs)))
    return 0.0


def anomalous_db(
    *, dtot: float, dlt: float, dlr: float, dct: float, dcr: float, dlm: float, hts: float, hrs: float,
    hte: float, hre: float, hm: float, theta_t: float, theta_r: float, f: float, p: float, omega: float,
    ae: float, b0: float,
) -> float:
    """Return the basic transmission loss during anomalous propagation Lba [dB] (Eqs (46)-(56))."""
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0  # Eq (47a)
    ast = _site_shielding_db(theta_t, dlt, f)
    asr = _site_shielding_db(theta_r, dlr, f)
    act = _duct_coupling_db(dct, dlt, hts, omega)
    acr = _duct_coupling_db(dcr, dlr, hrs, omega)
    af = 102.45 + 20.0 * math.log10(f) + 20.0 * math.log10(dlt + dlr) + alf + ast + asr + act + acr  # Eq (47)

    gamma_d = 5e-5 * ae * f ** (1.0 / 3.0)  # Eq (51)
    th_t1 = min(theta_t, 0.1 * dlt)  # Eq (52a)
    th_r1 = min(theta_r, 0.1 * dlr)
    theta1 = 1e3 * dtot / ae + th_t1 + th_r1  # Eq (52)

    d_i = min(dtot - dlt - dlr, 40.0)  # Eq (56a)
    mu3 = math.exp(-4.6e-5 * (hm - 10.0) * (43.0 + 6.0 * d_i)) if hm > 10.0 else 1.0  # Eq (56)
    tau = 1.0 - math.exp(-4.12e-4 * dlm**2.41)  # Eq (3)
    alpha = max(-0.6 - 3.5e-9 * dtot**3.1 * tau, -3.4)  # Eq (55a), epsilon = 3.5
    mu2 = min((500.0 / ae * dtot**2 / (math.sqrt(hte) + math.sqrt(hre)) ** 2) ** alpha, 1.0)  # Eq (55)
    beta = b0 * mu2 * mu3  # Eq (54)

    lb = math.log10(beta)
    # Eq (53a)
    gamma = 1.076 / (2.0058 - lb) ** 1.012 * math.exp(-(9.51 - 4.8 * lb + 0.198 * lb * lb) * 1e-6 * dtot**1.13)
    ap = -12.0 + (1.2 + 3.7e-3 * dtot) * math.log10(p / beta) + 12.0 * (p / beta) ** gamma  # Eq (53)
    adp = gamma_d * theta1 + ap  # Eq (50)
    return af + adp  # Eq (46)
