"""ITU-R P.1812-6: path-specific prediction for point-to-area terrestrial services.

One path at a time, from a terrain profile with representative clutter heights and
radio-climatic zones: line of sight with the time-percentage terms, delta-Bullington
diffraction (Bullington over the profile plus the spherical-earth correction),
troposcatter, ducting/layer reflection, their combination, and location variability.
Written from the equations of Recommendation ITU-R P.1812-6 (09/2021), Annex 1; the
equation numbers in comments are that edition's. Building entry loss (outdoor-to-indoor)
is not modelled: Lloc = 0 (Eq (67a), outdoor receivers).

Symbols and units are the Recommendation's: f in GHz, distances in km, heights in m,
angles in mrad, losses in dB, field strength Ep in dB(uV/m) for ``Ptx`` kW e.r.p.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ._p1812_anomalous import anomalous_db, troposcatter_db
from ._p1812_batch import batch_loss
from ._p1812_diffraction import delta_bullington_db
from ._p1812_profile import (
    EARTH_RADIUS_KM,
    beta0_percent,
    effective_radii_km,
    path_centre_latitude,
    path_geometry,
    zone_lengths,
)

__all__ = [
    "P1812_VERSION",
    "CLUTTER_CATEGORIES",
    "P1812Details",
    "transmission_loss",
    "transmission_loss_details",
    "transmission_loss_many",
    "location_std_db",
    "inverse_normal_tail",
]

#: The edition whose equations this module follows (the ITU validation data used in the
#: tests were made with the reference implementation "P1812 v6.1", which implements it).
P1812_VERSION = "ITU-R P.1812-6 (09/2021)"

#: Clutter categories of P.1812-6 Table 2: code -> (name, default representative clutter
#: height R [m]). The defaults are used where no representative height is given.
CLUTTER_CATEGORIES: dict[int, tuple[str, float]] = {
    1: ("water/sea", 0.0),
    2: ("open/rural", 0.0),
    3: ("suburban", 10.0),
    4: ("urban/trees/forest", 15.0),
    5: ("dense urban", 20.0),
}

# Radio-climatic zones (§3.6): 1 sea, 3 coastal land, 4 inland.
_ZONES = (1, 3, 4)


def inverse_normal_tail(x: float) -> float:
    """I(x): the normal deviate exceeded with probability ``x`` (Attachment 2 to Annex 1).

    The Recommendation's rational approximation (Eqs (96)-(97), error below 0.00054),
    used for 0.000001 <= x <= 0.999999 (x is clipped to that range).

    Examples
    --------
    >>> round(inverse_normal_tail(0.1), 3)
    1.282
    """
    x = min(max(float(x), 1e-6), 0.999999)

    def _t(y: float) -> float:
        return math.sqrt(-2.0 * math.log(y))

    def _i(y: float) -> float:  # y <= 0.5
        t = _t(y)
        xi = ((0.010328 * t + 0.802853) * t + 2.515516698) / (((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0)
        return t - xi

    return _i(x) if x <= 0.5 else -_i(1.0 - x)


def location_std_db(f: float, hrg: float, R: float, *, wa_m: float = 100.0) -> float:
    """Return the standard deviation of location variability sigma_L [dB], outdoors (§4.8).

    ``(0.024 f + 0.52) wa**0.28`` for a square of side ``wa_m`` metres (the prediction's
    resolution; 100 m by default), scaled by u(h): 1 when the receiving antenna ``hrg`` is
    in the clutter (below R), falling linearly to 0 at 10 m above it.

    Examples
    --------
    >>> round(location_std_db(0.9, 1.5, 10.0, wa_m=100.0), 2)
    1.97
    """
    if not (wa_m > 0 and math.isfinite(wa_m)):
        raise InputError(f"wa_m must be a positive width in metres; got {wa_m!r}.")
    sigma = (0.024 * f + 0.52) * wa_m**0.28
    if hrg < R:
        uh = 1.0
    elif hrg >= R + 10.0:
        uh = 0.0
    else:
        uh = 1.0 - (hrg - R) / 10.0
    return sigma * uh


@dataclass(frozen=True)
class P1812Details:
    """Every intermediate quantity of one prediction, in the order the method computes them.

    Names follow the Recommendation (and the ITU validation results): distances km,
    heights m, angles mrad, losses dB. ``hst_n``/``hsr_n`` are the least-squares
    smooth-earth heights before correction; ``hst``/``hsr`` those of the ducting model;
    ``htc1``/``hrc1`` are htc'/hrc' of Eq (37). Polarisation-dependent losses are for the
    requested ``pol``. ``Ep`` is for 1 kW e.r.p. (Eq (70)); ``Ep_Ptx`` for ``Ptx``.
    """

    d: float
    dlt: float
    dlr: float
    th_t: float
    th_r: float
    th: float
    hts: float
    hrs: float
    htc: float
    hrc: float
    w: float
    dtm: float
    dlm: float
    phi: float
    b0: float
    ae: float
    hst_n: float
    hsr_n: float
    hst: float
    hsr: float
    hstd: float
    hsrd: float
    htc1: float
    hrc1: float
    hte: float
    hre: float
    hm: float
    Fi: float
    Fj: float
    Fk: float
    Lbfs: float
    Lb0p: float
    Lb0b: float
    Lbulla: float
    Lbulls: float
    Ldsph: float
    Ld50: float
    Ldb: float
    Ldp: float
    Lbd50: float
    Lbd: float
    Lminb0p: float
    Lba: float
    Lminbap: float
    Lbda: float
    Lbam: float
    Lbs: float
    Lbc: float
    Lloc: float
    sigmaL: float
    Lb: float
    Ep: float
    Ep_Ptx: float

    def as_dict(self) -> dict[str, float]:
        """Return the quantities as an ordered ``{name: value}`` dict."""
        return asdict(self)


def _fail(name: str, expected: str, got: Any, fix: str = "") -> InputError:
    shown = got if isinstance(got, str) else repr(got)
    msg = f"P.1812: {name} must be {expected}; got {shown}."
    return InputError(msg + (f" {fix}" if fix else ""))


def _scalar(name: str, value: Any, lo: float | None = None, hi: float | None = None, unit: str = "") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _fail(name, "a number", value) from None
    if not math.isfinite(v):
        raise _fail(name, "a finite number", value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        if lo is not None and hi is not None:
            rng = f"in [{lo}, {hi}]{unit}"
        else:
            rng = f">= {lo}{unit}" if lo is not None else f"<= {hi}{unit}"
        raise _fail(name, rng + " (the range of ITU-R P.1812-6)", value)
    return v


def _profile(name: str, value: Any, n: int | None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise _fail(name, "a 1-D array of numbers", type(value).__name__) from None
    if arr.ndim != 1:
        raise _fail(name, "a 1-D array over the profile points", f"an array of shape {arr.shape}")
    if n is not None and arr.size != n:
        raise _fail(name, f"one value per profile point ({n}, as d)", f"{arr.size} values")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise _fail(name, "finite everywhere", f"{arr[bad[0]]} at profile point {bad[0]} (0-based)")
    return arr


def _check_inputs(
    f, p, d, h, R, Ct, zone, htg, hrg, pol, phi_t, phi_r, lam_t, lam_r, pL, sigmaL, Ptx, DN, N0, dct, dcr
):
    f = _scalar("f (frequency, GHz)", f, 0.03, 6.0, " GHz")
    p = _scalar("p (time percentage)", p, 1.0, 50.0, " %")
    pL = _scalar("pL (location percentage)", pL, 1.0, 99.0, " %")
    htg = _scalar("htg (Tx antenna height above ground)", htg, 1.0, 3000.0, " m")
    hrg = _scalar("hrg (Rx antenna height above ground)", hrg, 1.0, 3000.0, " m")
    if pol not in (1, 2):
        raise _fail("pol", "1 (horizontal) or 2 (vertical)", pol)
    phi_t = _scalar("phi_t (Tx latitude, deg)", phi_t, -90.0, 90.0)
    phi_r = _scalar("phi_r (Rx latitude, deg)", phi_r, -90.0, 90.0)
    lam_t = _scalar("lam_t (Tx longitude, deg)", lam_t, -360.0, 360.0)
    lam_r = _scalar("lam_r (Rx longitude, deg)", lam_r, -360.0, 360.0)
    sigmaL = _scalar("sigmaL (location variability, dB)", sigmaL, 0.0)
    Ptx = _scalar("Ptx (kW e.r.p.)", Ptx)
    if Ptx <= 0:
        raise _fail("Ptx (kW e.r.p.)", "positive", Ptx)
    DN = _scalar("DN (refractivity lapse rate, N-units/km)", DN, 0.0)
    if DN >= 157.0:
        raise _fail("DN (refractivity lapse rate, N-units/km)", "below 157 (k50 = 157/(157 - DN), Eq (6))", DN)
    N0 = _scalar("N0 (sea-level surface refractivity, N-units)", N0, 0.0)
    dct = _scalar("dct (Tx distance to the coast, km)", dct, 0.0)
    dcr = _scalar("dcr (Rx distance to the coast, km)", dcr, 0.0)

    d = _profile("d (profile distances, km)", d, None)
    n = d.size
    if n < 3:
        raise _fail(
            "d (profile distances, km)", "at least 3 profile points (both terminals and one between)", f"{n} points"
        )
    if d[0] != 0.0:
        raise _fail("d[0]", "0 (the first profile point is the transmitter)", float(d[0]))
    steps = np.diff(d)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise _fail("d (profile distances, km)", "strictly increasing", f"d[{i}] = {d[i]} then d[{i + 1}] = {d[i + 1]}")
    if not 0.25 <= d[-1] <= 3000.0:
        raise _fail("the path length d[-1]", "in [0.25, 3000] km (the range of ITU-R P.1812-6)", float(d[-1]))
    h = _profile("h (terrain heights amsl, m)", h, n)
    zone = _profile("zone (radio-climatic zones)", zone, n)
    bad = ~np.isin(zone, _ZONES)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail("zone", "1 (sea), 3 (coastal land) or 4 (inland) at every point", f"{zone[i]} at point {i}")
    if Ct is None:
        Ct = np.full(n, 2.0)  # open/rural
    else:
        Ct = _profile("Ct (clutter categories of Table 2)", np.broadcast_to(np.asarray(Ct, dtype=float), (n,)), n)
        bad = ~np.isin(Ct, list(CLUTTER_CATEGORIES))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            cats = sorted(CLUTTER_CATEGORIES)
            raise _fail("Ct", f"a clutter category of P.1812-6 Table 2 {cats}", f"{Ct[i]} at point {i}")
    if R is None:
        R = np.array([CLUTTER_CATEGORIES[int(c)][1] for c in Ct])
    else:
        R = _profile("R (representative clutter heights, m)", np.broadcast_to(np.asarray(R, dtype=float), (n,)), n)
        if np.any(R < 0):
            i = int(np.flatnonzero(R < 0)[0])
            raise _fail("R (representative clutter heights, m)", ">= 0", f"{R[i]} at point {i}")
    return dict(f=f, p=p, d=d, h=h, R=R, Ct=Ct, zone=zone, htg=htg, hrg=hrg, pol=int(pol), phi_t=phi_t,
                phi_r=phi_r, lam_t=lam_t, lam_r=lam_r, pL=pL, sigmaL=sigmaL, Ptx=Ptx, DN=DN, N0=N0,
                dct=dct, dcr=dcr)


def transmission_loss_details(
    f: float, p: float, d: Any, h: Any, R: Any, Ct: Any, zone: Any, htg: float, hrg: float, pol: int, *,
    phi_t: float, phi_r: float, lam_t: float, lam_r: float, pL: float = 50.0, sigmaL: float = 0.0,
    Ptx: float = 1.0, DN: float = 45.0, N0: float = 325.0, dct: float = 500.0, dcr: float = 500.0,
) -> P1812Details:
    """Compute the basic transmission loss of one path with every intermediate quantity.

    Parameters are those of :func:`transmission_loss`.

    Returns
    -------
    P1812Details
        Lb [dB], Ep [dB(uV/m)] and every quantity the method computes on the way.
    """
    a = _check_inputs(
        f, p, d, h, R, Ct, zone, htg, hrg, pol, phi_t, phi_r, lam_t, lam_r, pL, sigmaL, Ptx, DN, N0, dct, dcr
    )
    f, p, d, h, R, zone = a["f"], a["p"], a["d"], a["h"], a["R"], a["zone"]
    htg, hrg, ipol = a["htg"], a["hrg"], a["pol"] - 1
    dct = 0.0 if zone[0] == 1 else a["dct"]  # a terminal at sea is on the coast (§4.5)
    dcr = 0.0 if zone[-1] == 1 else a["dcr"]
    dtot = float(d[-1])

    # §3: path parameters.
    phi = path_centre_latitude(a["phi_t"], a["lam_t"], a["phi_r"], a["lam_r"], 0.5 * dtot)
    dtm, dlm, omega = zone_lengths(d, zone)
    b0 = beta0_percent(phi, dtm, dlm)
    ae, ab = effective_radii_km(a["DN"])
    geo = path_geometry(d, h, htg, hrg, ae, f)
    hts = float(h[0]) + htg
    hrs = float(h[-1]) + hrg
    htc, hrc = hts, hrs  # antennas above the terminal ground (Table 5)
    # The diffraction profile: ground plus representative clutter, terminals at ground (§3.2).
    g = h + R
    g[0], g[-1] = h[0], h[-1]

    # §4.1: line of sight with multipath/focusing corrections.
    dfs = math.sqrt(dtot**2 + ((hts - hrs) / 1000.0) ** 2)  # Eq (8a)
    lbfs = 92.4 + 20.0 * math.log10(f) + 20.0 * math.log10(dfs)  # Eq (8)
    near = 1.0 - math.exp(-0.1 * (geo.dlt + geo.dlr))
    lb0p = lbfs + 2.6 * near * math.log10(p / 50.0)  # Eqs (9a), (10)
    lb0b = lbfs + 2.6 * near * math.log10(b0 / 50.0)  # Eqs (9b), (11)

    # §4.3: diffraction for the median (ae) and the beta0 % (ab) effective earth radii.
    ld50, lbulla, lbulls, ldsph = delta_bullington_db(d, g, htc, hrc, geo.hstd, geo.hsrd, ae, f, omega)
    ldb = delta_bullington_db(d, g, htc, hrc, geo.hstd, geo.hsrd, ab, f, omega)[0]
    # Eq (40): interpolation factor between the median and the beta0 % diffraction losses
    fi = inverse_normal_tail(p / 100.0) / inverse_normal_tail(b0 / 100.0) if p > b0 else 1.0
    ldp = ld50 if p == 50.0 else ld50 + fi * (ldb - ld50)  # Eq (41)
    lbd50 = lbfs + ld50  # Eq (42)
    lbd = lb0p + ldp  # Eq (43)

    # §4.4: troposcatter.
    lbs = troposcatter_db(dtot, geo.theta, f, p, a["N0"])

    # §4.5: ducting/layer reflection.
    lba = anomalous_db(
        dtot=dtot, dlt=geo.dlt, dlr=geo.dlr, dct=dct, dcr=dcr, dlm=dlm, hts=hts, hrs=hrs, hte=geo.hte,
        hre=geo.hre, hm=geo.hm, theta_t=geo.theta_t, theta_r=geo.theta_r, f=f, p=p, omega=omega, ae=ae, b0=b0,
    )

    # §4.6: combination.
    fj = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (geo.theta - 0.3) / 0.3))  # Eq (57): Theta 0.3 mrad, xi 0.8
    fk = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))  # Eq (58): dsw 20 km, kappa 0.5
    if p < b0:
        lminb0p = lb0p + (1.0 - omega) * ldp  # Eq (59)
    else:
        lminb0p = lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * fi  # Eq (59)
    eta = 2.5
    xa, xb = lba / eta, lb0p / eta
    lminbap = eta * (max(xa, xb) + math.log1p(math.exp(-abs(xa - xb))))  # Eq (60), overflow-free form
    lbda = np.where(lminbap > lbd, lbd, lminbap + (lbd - lminbap) * fk)  # Eq (61)
    lbam = lbda + (lminb0p - lbda) * fj  # Eq (62)
    lbc = -5.0 * np.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))  # Eq (63)

    # §4.8-4.9: location variability (none for a receiver at sea), outdoor receivers.
    lloc = 0.0  # Eq (67a): mean building entry loss, outdoors
    sigma = a["sigmaL"] if zone[-1] != 1 else 0.0
    lb_all = np.maximum(lb0p, lbc + lloc - inverse_normal_tail(a["pL"] / 100.0) * sigma)  # Eq (69)
    lb = float(lb_all[ipol])
    ep = 199.36 + 20.0 * math.log10(f) - lb  # Eq (70), 1 kW e.r.p.

    return P1812Details(
        d=dtot, dlt=geo.dlt, dlr=geo.dlr, th_t=geo.theta_t, th_r=geo.theta_r, th=geo.theta, hts=hts, hrs=hrs,
        htc=htc, hrc=hrc, w=omega, dtm=dtm, dlm=dlm, phi=phi, b0=b0, ae=ae, hst_n=geo.hst_n, hsr_n=geo.hsr_n,
        hst=geo.hst, hsr=geo.hsr, hstd=geo.hstd, hsrd=geo.hsrd, htc1=htc - geo.hstd, hrc1=hrc - geo.hsrd,
        hte=geo.hte, hre=geo.hre, hm=geo.hm, Fi=fi, Fj=fj, Fk=fk, Lbfs=lbfs, Lb0p=lb0p, Lb0b=lb0b,
        Lbulla=lbulla, Lbulls=lbulls, Ldsph=float(ldsph[ipol]), Ld50=float(ld50[ipol]), Ldb=float(ldb[ipol]),
        Ldp=float(ldp[ipol]), Lbd50=float(lbd50[ipol]), Lbd=float(lbd[ipol]), Lminb0p=float(lminb0p[ipol]),
        Lba=lba, Lminbap=lminbap, Lbda=float(lbda[ipol]), Lbam=float(lbam[ipol]), Lbs=lbs,
        Lbc=float(lbc[ipol]), Lloc=lloc, sigmaL=sigma, Lb=lb, Ep=ep, Ep_Ptx=ep + 10.0 * math.log10(a["Ptx"]),
    )


def transmission_loss(
    f: float, p: float, d: Any, h: Any, R: Any, Ct: Any, zone: Any, htg: float, hrg: float, pol: int, *,
    phi_t: float, phi_r: float, lam_t: float, lam_r: float, pL: float = 50.0, sigmaL: float = 0.0,
    Ptx: float = 1.0, DN: float = 45.0, N0: float = 325.0, dct: float = 500.0, dcr: float = 500.0,
) -> tuple[float, float]:
    """Compute the basic transmission loss not exceeded for p % time and pL % locations (P.1812-6).

    Parameters
    ----------
    f : float
        Frequency [GHz], 0.03-6.
    p : float
        Time percentage [%] for which Lb is not exceeded, 1-50.
    d, h : array_like
        Profile distances from the transmitter [km] (``d[0] == 0``, strictly increasing,
        path 0.25-3000 km, at least 3 points) and terrain heights amsl [m].
    R : array_like or None
        Representative clutter height per profile point [m]; ``None`` takes Table 2's
        default for each point's category ``Ct``. Added to the terrain of the
        intermediate points for diffraction (the terminals stand on the ground).
    Ct : array_like or None
        Clutter category per point (Table 2: 1 water/sea, 2 open/rural, 3 suburban,
        4 urban/trees/forest, 5 dense urban); ``None`` means open/rural.
    zone : array_like
        Radio-climatic zone per point: 1 sea, 3 coastal land, 4 inland.
    htg, hrg : float
        Antenna heights above ground [m], 1-3000.
    pol : {1, 2}
        Polarisation: 1 horizontal, 2 vertical.
    phi_t, phi_r, lam_t, lam_r : float
        Latitudes and longitudes of Tx and Rx [deg] (the path centre's latitude sets beta0).
    pL : float
        Location percentage [%], 1-99.
    sigmaL : float
        Standard deviation of location variability [dB] (see :func:`location_std_db`);
        0 gives the median over locations. Not applied to a receiver at sea.
    Ptx : float
        Transmitter power [kW e.r.p.].
    DN, N0 : float
        Path-centre refractivity lapse rate [N-units/km] and sea-level surface
        refractivity [N-units]. The Recommendation reads them from its digital maps at the
        path centre (not shipped with covgap); the defaults 45 and 325 are typical
        mid-latitude values (45 is the value of the ITU validation profiles) for when no
        map value is at hand.
    dct, dcr : float
        Distances over land from Tx and Rx to the coast [km]; 0 where the terminal's
        profile point is at sea.

    Returns
    -------
    Lb : float
        Basic transmission loss [dB] (Eq (69)).
    Ep : float
        Field strength [dB(uV/m)] for ``Ptx`` kW e.r.p. (Eq (70) plus 10 log10 Ptx).

    Raises
    ------
    covgap.errors.InputError
        An input is outside the Recommendation's range or malformed.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.linspace(0.0, 10.0, 101)
    >>> Lb, Ep = transmission_loss(0.9, 50, d, np.zeros_like(d), None, None, np.full(101, 4), 30, 1.5, 2,
    ...                            phi_t=21.0, phi_r=21.09, lam_t=105.8, lam_r=105.8)
    >>> bool(Lb > 92.4 + 20 * np.log10(0.9 * 10))  # more than free space over flat earth
    True
    """
    det = transmission_loss_details(
        f, p, d, h, R, Ct, zone, htg, hrg, pol, phi_t=phi_t, phi_r=phi_r, lam_t=lam_t, lam_r=lam_r,
        pL=pL, sigmaL=sigmaL, Ptx=Ptx, DN=DN, N0=N0, dct=dct, dcr=dcr,
    )
    return det.Lb, det.Ep_Ptx


def _path_centre_latitudes(phi_t, lam_t, phi_r, lam_r, dpnt_km):
    """Element-wise :func:`._p1812_profile.path_centre_latitude` (same great-circle formulae)."""
    pt, pr = np.radians(phi_t), np.radians(phi_r)
    dlon = np.radians(lam_r - lam_t)
    y = np.cos(pr) * np.sin(dlon)
    x = np.cos(pt) * np.sin(pr) - np.sin(pt) * np.cos(pr) * np.cos(dlon)
    bearing = np.where((np.abs(x) > 1e-12) | (np.abs(y) > 1e-12), np.arctan2(y, x), 0.0)
    delta = dpnt_km / EARTH_RADIUS_KM
    s = np.sin(pt) * np.cos(delta) + np.cos(pt) * np.sin(delta) * np.cos(bearing)
    return np.degrees(np.arcsin(np.clip(s, -1.0, 1.0)))


def _many_array(name: str, value: Any, shape: tuple[int, ...], valid: np.ndarray | None) -> np.ndarray:
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=float), shape)
    except (TypeError, ValueError):
        raise _fail(name, f"numbers broadcastable to shape {shape}", type(value).__name__) from None
    bad = ~np.isfinite(arr) if valid is None else (~np.isfinite(arr) & valid)
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        raise _fail(name, "finite everywhere (on the valid profile points)", f"{arr[i]} at index {i}")
    return arr


def transmission_loss_many(
    f: float, p: float, d: Any, h: Any, R: Any, Ct: Any, zone: Any, npts: Any, htg: Any, hrg: Any, pol: int, *,
    phi_t: Any, phi_r: Any, lam_t: Any, lam_r: Any, pL: float = 50.0, sigmaL: Any = 0.0, Ptx: Any = 1.0,
    DN: float = 45.0, N0: float = 325.0, dct: Any = 500.0, dcr: Any = 500.0,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`transmission_loss` for ``m`` paths at once (numpy over padded profiles).

    Parameters
    ----------
    d, h, R, Ct, zone : array_like, shape (m, n)
        Row ``i`` holds path ``i``'s first ``npts[i]`` profile points (same meaning and
        units as in :func:`transmission_loss`); entries beyond are ignored. ``R`` may be
        ``None`` (Table 2 defaults from ``Ct``; ``Ct`` ``None`` means open/rural).
    npts : array_like of int, shape (m,)
        Number of profile points of each path (3 to n).
    htg, hrg, phi_t, phi_r, lam_t, lam_r, sigmaL, Ptx, dct, dcr : float or array_like (m,)
        Per path, or one value for all.
    f, p, pol, pL, DN, N0 :
        One value for all paths.

    Returns
    -------
    Lb, Ep : ndarray, shape (m,)
        As :func:`transmission_loss`, per path. Equal to it to rounding (tested).

    Examples
    --------
    >>> d = np.linspace(0.0, 10.0, 101)[None, :].repeat(2, axis=0)
    >>> Lb, Ep = transmission_loss_many(0.9, 50, d, np.zeros_like(d), None, None, np.full(d.shape, 4), [101, 51],
    ...                                 30.0, 1.5, 2, phi_t=21.0, phi_r=21.09, lam_t=105.8, lam_r=105.8)
    >>> bool(Lb[0] > Lb[1])  # 10 km loses more than 5 km
    True
    """
    f = _scalar("f (frequency, GHz)", f, 0.03, 6.0, " GHz")
    p = _scalar("p (time percentage)", p, 1.0, 50.0, " %")
    pL = _scalar("pL (location percentage)", pL, 1.0, 99.0, " %")
    if pol not in (1, 2):
        raise _fail("pol", "1 (horizontal) or 2 (vertical)", pol)
    DN = _scalar("DN (refractivity lapse rate, N-units/km)", DN, 0.0)
    if DN >= 157.0:
        raise _fail("DN (refractivity lapse rate, N-units/km)", "below 157 (k50 = 157/(157 - DN), Eq (6))", DN)
    N0 = _scalar("N0 (sea-level surface refractivity, N-units)", N0, 0.0)
    d = np.asarray(d, dtype=float)
    if d.ndim != 2:
        raise _fail("d (profile distances, km)", "a 2-D array (paths x points)", f"shape {d.shape}")
    m, n = d.shape
    npts = np.broadcast_to(np.asarray(npts), (m,))
    if not np.issubdtype(npts.dtype, np.integer) or np.any(npts < 3) or np.any(npts > n):
        raise _fail("npts", f"integers from 3 to {n} (points per path)", npts.tolist()[:5])
    valid = np.arange(n)[None, :] < npts[:, None]
    d = _many_array("d (profile distances, km)", d, (m, n), valid)
    if np.any(d[:, 0] != 0.0):
        raise _fail("d[:, 0]", "0 (the first profile point is the transmitter)", float(d[d[:, 0] != 0.0, 0][0]))
    steps_bad = (np.diff(d, axis=1) <= 0) & valid[:, 1:]
    if steps_bad.any():
        i, k = (int(v) for v in np.argwhere(steps_bad)[0])
        raise _fail("d (profile distances, km)", "strictly increasing along each path", f"path {i}: d[{k}] = "
                    f"{d[i, k]} then d[{k + 1}] = {d[i, k + 1]}")
    dtot = np.take_along_axis(d, (npts - 1)[:, None], axis=1)[:, 0]
    if np.any((dtot < 0.25) | (dtot > 3000.0)):
        i = int(np.flatnonzero((dtot < 0.25) | (dtot > 3000.0))[0])
        raise _fail("the path length", "in [0.25, 3000] km (the range of ITU-R P.1812-6)", f"{dtot[i]} (path {i})")
    h = _many_array("h (terrain heights amsl, m)", h, (m, n), valid)
    zone = _many_array("zone (radio-climatic zones)", zone, (m, n), valid)
    if np.any(~np.isin(zone, _ZONES) & valid):
        raise _fail("zone", "1 (sea), 3 (coastal land) or 4 (inland) at every point", "other codes")
    if Ct is None:
        Ct = np.full((m, n), 2.0)
    Ct = _many_array("Ct (clutter categories of Table 2)", Ct, (m, n), valid)
    if np.any(~np.isin(Ct, list(CLUTTER_CATEGORIES)) & valid):
        raise _fail("Ct", f"a clutter category of P.1812-6 Table 2 {sorted(CLUTTER_CATEGORIES)}", "other codes")
    if R is None:
        lut = np.zeros(max(CLUTTER_CATEGORIES) + 1)
        for code, (_, r) in CLUTTER_CATEGORIES.items():
            lut[code] = r
        R = lut[np.where(valid, Ct, 2).astype(int)]
    R = _many_array("R (representative clutter heights, m)", R, (m, n), valid)
    if np.any((R < 0) & valid):
        raise _fail("R (representative clutter heights, m)", ">= 0", "negative values")
    per_path = {}
    ranges = (
        ("htg", htg, 1.0, 3000.0), ("hrg", hrg, 1.0, 3000.0), ("phi_t", phi_t, -90.0, 90.0),
        ("phi_r", phi_r, -90.0, 90.0), ("lam_t", lam_t, -360.0, 360.0), ("lam_r", lam_r, -360.0, 360.0),
        ("sigmaL", sigmaL, 0.0, np.inf), ("Ptx", Ptx, 0.0, np.inf), ("dct", dct, 0.0, np.inf),
        ("dcr", dcr, 0.0, np.inf),
    )
    for name, v, lo, hi in ranges:
        arr = _many_array(name, v, (m,), None)
        out = (arr < lo) | (arr > hi) | ((arr <= 0) if name == "Ptx" else False)
        if out.any():
            i = int(np.flatnonzero(out)[0])
            raise _fail(name, f"in [{lo}, {hi}] (the range of ITU-R P.1812-6)", f"{arr[i]} (path {i})")
        per_path[name] = arr
    phi = _path_centre_latitudes(per_path["phi_t"], per_path["lam_t"], per_path["phi_r"], per_path["lam_r"],
                                 0.5 * dtot)
    out = batch_loss(
        f=f, p=p, d=d, h=h, R=R, zone=zone, npts=npts, htg=per_path["htg"], hrg=per_path["hrg"], pol=int(pol),
        phi=phi, pL=pL, sigmaL=per_path["sigmaL"], DN=DN, N0=N0, dct=per_path["dct"], dcr=per_path["dcr"],
    )
    lb = out["Lb"]
    return lb, 199.36 + 20.0 * math.log10(f) - lb + 10.0 * np.log10(per_path["Ptx"])  # Eq (70)
