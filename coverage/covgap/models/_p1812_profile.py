"""Path-profile analysis of ITU-R P.1812-6 (Annex 1 §3 and Attachment 1 to Annex 1).

Private to :mod:`covgap.models.p1812`: inputs are already validated there. Every function
takes one path profile (1-D numpy arrays over the profile points, point 0 at the
transmitter) and returns plain floats. Equation numbers are those of Recommendation
ITU-R P.1812-6 (09/2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__: list[str] = []

#: Mean earth radius used by P.1812 [km] (§3.5, Eqs (7a), (7b)); also the sphere of the
#: great-circle calculation (P.2001 Attachment H, to which P.1812 refers).
EARTH_RADIUS_KM = 6371.0  # P.1812-6 eqs (7a), (7b) use 6371 km (not covgap.constants.EARTH_RADIUS_M)
#: Effective earth-radius factor exceeded for beta0 % of the time (Eq (7b)).
K_BETA = 3.0
#: Speed of light over 1e9, for the wavelength in m from f in GHz (P.1812-6 uses 0.2998).
C_GM = 0.2998


def path_centre_latitude(phi_t: float, lam_t: float, phi_r: float, lam_r: float, dpnt_km: float) -> float:
    """Latitude [deg] of the point ``dpnt_km`` from the transmitter along the great circle.

    Spherical-earth great-circle formulae (P.1812-6 §3.4 refers to P.2001 Attachment H):
    the bearing from Tx to Rx, then the destination point at angular distance dpnt/Re.
    """
    pt, pr = math.radians(phi_t), math.radians(phi_r)
    dlon = math.radians(lam_r - lam_t)
    # bearing of the Rx seen from the Tx (sine/cosine of the azimuth, not normalised)
    y = math.cos(pr) * math.sin(dlon)
    x = math.cos(pt) * math.sin(pr) - math.sin(pt) * math.cos(pr) * math.cos(dlon)
    bearing = math.atan2(y, x) if (abs(x) > 1e-12 or abs(y) > 1e-12) else 0.0
    delta = dpnt_km / EARTH_RADIUS_KM
    s = math.sin(pt) * math.cos(delta) + math.cos(pt) * math.sin(delta) * math.cos(bearing)
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, stop) index pairs of the runs of True in ``mask``."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _run_lengths_km(d: np.ndarray, mask: np.ndarray) -> list[float]:
    """Lengths [km] of the runs of profile points where ``mask`` holds.

    Each profile point stands for the stretch between the mid-points to its neighbours
    (clipped to the path ends), so a run from point a to point b spans
    ``d[b] - d[a]`` plus half of each gap to the first point outside it.
    """
    out = []
    n = d.size
    for a, b in _runs(mask):
        start = 0.5 * (d[a - 1] + d[a]) if a > 0 else d[0]
        stop = 0.5 * (d[b] + d[b + 1]) if b < n - 1 else d[-1]
        out.append(float(stop - start))
    return out


def zone_lengths(d: np.ndarray, zone: np.ndarray) -> tuple[float, float, float]:
    """``(dtm, dlm, omega)`` of the path (§3.6 and Table 5 of P.1812-6).

    dtm: longest continuous land (coastal 3 + inland 4) section [km]; dlm: longest
    continuous inland (4) section [km]; omega: fraction of the path over sea (zone 1).
    """
    land = _run_lengths_km(d, (zone == 3) | (zone == 4))
    inland = _run_lengths_km(d, zone == 4)
    sea = _run_lengths_km(d, zone == 1)
    dtot = float(d[-1] - d[0])
    return (max(land, default=0.0), max(inland, default=0.0), sum(sea) / dtot)


def beta0_percent(phi_deg: float, dtm_km: float, dlm_km: float) -> float:
    """Time percentage beta0 [%] of refractivity lapse rates over 100 N-units/km (Eqs (2)-(5))."""
    tau = 1.0 - math.exp(-4.12e-4 * dlm_km**2.41)  # Eq (3)
    mu1 = (10.0 ** (-dtm_km / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2  # Eq (2)
    mu1 = min(mu1, 1.0)
    aphi = abs(phi_deg)
    if aphi <= 70.0:
        mu4 = mu1 ** (-0.935 + 0.0176 * aphi)  # Eq (4)
        return 10.0 ** (-0.015 * aphi + 1.67) * mu1 * mu4  # Eq (5)
    mu4 = mu1**0.3  # Eq (4)
    return 4.17 * mu1 * mu4  # Eq (5)


def effective_radii_km(DN: float) -> tuple[float, float]:
    """Median effective earth radius ae and the radius ab exceeded for beta0 % (Eqs (6)-(7b))."""
    k50 = 157.0 / (157.0 - DN)  # Eq (6)
    return EARTH_RADIUS_KM * k50, EARTH_RADIUS_KM * K_BETA  # Eqs (7a), (7b)


@dataclass(frozen=True)
class PathGeometry:
    """Quantities of Attachment 1 to Annex 1 (horizons, smooth-earth heights, roughness)."""

    dlt: float  # Tx horizon distance [km] (or distance to the Bullington point on LoS paths)
    dlr: float  # Rx horizon distance [km]
    theta_t: float  # Tx horizon elevation angle [mrad]
    theta_r: float  # Rx horizon elevation angle [mrad]
    theta: float  # path angular distance [mrad]
    trans_horizon: bool
    hst_n: float  # least-squares smooth-earth height at Tx [m amsl], uncorrected
    hsr_n: float  # same at Rx
    hst: float  # smooth-earth heights for the ducting model [m amsl]
    hsr: float
    hstd: float  # smooth-earth heights for the diffraction model [m amsl]
    hsrd: float
    hte: float  # effective antenna heights for the ducting model [m]
    hre: float
    hm: float  # terrain roughness [m]


def path_geometry(d: np.ndarray, h: np.ndarray, htg: float, hrg: float, ae: float, f: float) -> PathGeometry:
    """Horizons, angular distance and effective heights from the terrain heights ``h``.

    The horizon analysis and the smooth-earth surface use the ground heights ``h``
    (the representative clutter heights enter the diffraction profile only).
    """
    dtot = float(d[-1])
    hts = h[0] + htg
    hrs = h[-1] + hrg
    di = d[1:-1]
    hi = h[1:-1]

    # Least-squares smooth-earth surface through the terrain (Attachment 1 §5.6.1).
    dd = np.diff(d)
    v1 = float(np.sum(dd * (h[1:] + h[:-1])))
    v2 = float(np.sum(dd * (h[1:] * (2.0 * d[1:] + d[:-1]) + h[:-1] * (d[1:] + 2.0 * d[:-1]))))
    hst_n = (2.0 * v1 * dtot - v2) / dtot**2
    hsr_n = (v2 - v1 * dtot) / dtot**2

    # Smooth-surface heights for the diffraction model (§5.6.2): the highest obstruction
    # above the straight line between the antennas lowers the surface at both ends.
    H = hi - (hts * (dtot - di) + hrs * di) / dtot
    hobs = float(H.max())
    if hobs <= 0.0:
        hstp, hsrp = hst_n, hsr_n
    else:
        a_t = float((H / di).max())
        a_r = float((H / (dtot - di)).max())
        hstp = hst_n - hobs * a_t / (a_t + a_r)
        hsrp = hsr_n - hobs * a_r / (a_t + a_r)
    hstd = min(hstp, float(h[0]))
    hsrd = min(hsrp, float(h[-1]))

    # Horizon elevation angles [mrad] and distances (§5.1-5.3).
    th_i = 1000.0 * np.arctan((hi - hts) / (1000.0 * di) - di / (2.0 * ae))
    th_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae))
    th_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
    th_max = float(th_i.max())
    trans = th_max > th_td
    if trans:
        theta_t = th_max
        it = int(np.flatnonzero(th_i == th_max)[0]) + 1  # horizon nearest the Tx
        dlt = float(d[it])
        tr_i = 1000.0 * np.arctan((hi - hrs) / (1000.0 * (dtot - di)) - (dtot - di) / (2.0 * ae))
        theta_r = float(tr_i.max())
        ir = int(np.flatnonzero(tr_i == theta_r)[-1]) + 1  # horizon nearest the Rx
        dlr = dtot - float(d[ir])
    else:
        theta_t, theta_r = th_td, th_rd
        # LoS: both distances to the Bullington point of the 50 % diffraction method,
        # the point of highest diffraction parameter nu over the terrain (Eq (15) form).
        lam = C_GM / f
        nu = (hi + 500.0 * di * (dtot - di) / ae - (hts * (dtot - di) + hrs * di) / dtot) * np.sqrt(
            0.002 * dtot / (lam * di * (dtot - di))
        )
        it = int(np.flatnonzero(nu == nu.max())[-1]) + 1
        ir = it
        dlt = float(d[it])
        dlr = dtot - dlt
    theta = 1e3 * dtot / ae + theta_t + theta_r  # angular distance

    # Ducting/layer-reflection heights (§5.6.3).
    hst = min(hst_n, float(h[0]))
    hsr = min(hsr_n, float(h[-1]))
    m = (hsr - hst) / dtot
    hte = htg + float(h[0]) - hst
    hre = hrg + float(h[-1]) - hsr
    seg = slice(min(it, ir), max(it, ir) + 1)
    hm = float(np.max(h[seg] - (hst + m * d[seg])))
    return PathGeometry(
        dlt=dlt, dlr=dlr, theta_t=theta_t, theta_r=theta_r, theta=theta, trans_horizon=bool(trans),
        hst_n=hst_n, hsr_n=hsr_n, hst=hst, hsr=hsr, hstd=hstd, hsrd=hsrd, hte=hte, hre=hre, hm=hm,
    )
