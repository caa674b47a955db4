"""ITU-R P.1812-6 for many paths at once: numpy over padded ``(m, n)`` profile arrays.

Private to :mod:`covgap.models.p1812`. Row ``i`` holds path ``i``'s first ``npts[i]``
profile points; the rest is padding and is masked out. Every step is the scalar code's
equation written element-wise over the rows (the same equation numbers, ITU-R P.1812-6);
branches become ``np.where`` over both sides. Inputs are validated by the caller.
"""

from __future__ import annotations

import numpy as np

from ._p1812_profile import C_GM, EARTH_RADIUS_KM, K_BETA

__all__: list[str] = []

_NEG = -np.inf


def _rows(x, m):
    return np.broadcast_to(np.asarray(x, dtype=float), (m,)).astype(float)


def _take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.take_along_axis(a, idx[:, None], axis=1)[:, 0]


def _argmax_first(x: np.ndarray) -> np.ndarray:
    return np.argmax(x, axis=1)


def _argmax_last(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    return n - 1 - np.argmax(x[:, ::-1], axis=1)


def inverse_normal_tail(x: np.ndarray) -> np.ndarray:
    """I(x) of Attachment 2 to Annex 1 (Eqs (96)-(97)), element-wise."""
    x = np.clip(np.asarray(x, dtype=float), 1e-6, 0.999999)
    y = np.where(x <= 0.5, x, 1.0 - x)
    t = np.sqrt(-2.0 * np.log(y))
    xi = ((0.010328 * t + 0.802853) * t + 2.515516698) / (((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0)
    return np.where(x <= 0.5, t - xi, -(t - xi))


def _knife_edge(nu: np.ndarray) -> np.ndarray:
    out = 6.9 + 20.0 * np.log10(np.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)  # Eq (12)
    return np.where(nu > -0.78, out, 0.0)


def _longest_run(length: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Longest sum of ``length`` over consecutive True of ``mask``, per row."""
    cs = np.cumsum(np.where(mask, length, 0.0), axis=1)
    reset = np.maximum.accumulate(np.where(mask, 0.0, cs), axis=1)
    return np.where(mask, cs - reset, 0.0).max(axis=1)


def bullington_slopes(d, g, inner, dtot, htc, hrc, ap, lam):
    """The profile reductions of Bullington (Eqs (13), (15), (17)): ``(stim, srim, numax)`` per row."""
    dt = dtot[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        gi = g + 500.0 * d * (dt - d) / ap[:, None]
        stim = np.where(inner, (gi - htc[:, None]) / d, _NEG).max(axis=1)  # Eq (13)
        srim = np.where(inner, (gi - hrc[:, None]) / (dt - d), _NEG).max(axis=1)  # Eq (17)
        nu = (gi - (htc[:, None] * (dt - d) + hrc[:, None] * d) / dt) * np.sqrt(
            0.002 * dt / (lam * d * (dt - d))
        )
        numax = np.where(inner, nu, _NEG).max(axis=1)  # Eq (15)
    return stim, srim, numax


def bullington_from_slopes(stim, srim, numax, dtot, htc, hrc, lam):
    """Lbull (Eqs (14), (16), (18)-(21)) from the reductions of :func:`bullington_slopes`.

    ``numax`` is used only on line-of-sight rows (``stim < s_tr``); elsewhere it may be anything.
    """
    s_tr = (hrc - htc) / dtot  # Eq (14)
    with np.errstate(divide="ignore", invalid="ignore"):
        dbp = (hrc - htc + srim * dtot) / (stim + srim)  # Eq (18)
        nub = (htc + stim * dbp - (htc * (dtot - dbp) + hrc * dbp) / dtot) * np.sqrt(
            0.002 * dtot / (lam * dbp * (dtot - dbp))
        )  # Eq (19)
    los = (stim < s_tr) | (stim + srim <= 0.0)
    luc = _knife_edge(np.where(los, numax, np.where(np.isfinite(nub), nub, -1.0)))  # Eqs (16), (20)
    return luc + (1.0 - np.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)  # Eq (21)


def _bullington(d, g, inner, dtot, htc, hrc, ap, lam):
    """Lbull (Eqs (13)-(21)) per row."""
    return bullington_from_slopes(*bullington_slopes(d, g, inner, dtot, htc, hrc, ap, lam), dtot, htc, hrc, lam)


def _first_term(epsr, sigma, d, hte, hre, adft, f, pol):
    s = (18.0 * sigma / f) ** 2
    k = 0.036 * (adft * f) ** (-1.0 / 3.0) * ((epsr - 1.0) ** 2 + s) ** -0.25  # Eq (29a)
    if pol == 2:
        k = k * np.sqrt(epsr**2 + s)  # Eq (29b)
    beta = (1.0 + 1.6 * k**2 + 0.67 * k**4) / (1.0 + 4.5 * k**2 + 1.53 * k**4)  # Eq (30)
    x = 21.88 * beta * (f / adft**2) ** (1.0 / 3.0) * d  # Eq (31)
    fx = np.where(x >= 1.6, 11.0 + 10.0 * np.log10(x) - 17.6 * x, -20.0 * np.log10(x) - 5.6488 * x**1.425)  # (33)
    gmin = 2.0 + 20.0 * np.log10(k)
    out = -fx
    for hh in (hte, hre):
        b = beta * 0.9575 * beta * (f**2 / adft) ** (1.0 / 3.0) * hh  # Eqs (32), (35)
        with np.errstate(invalid="ignore", divide="ignore"):
            gb = np.where(
                b > 2.0,
                17.6 * np.sqrt(np.maximum(b - 1.1, 0.0)) - 5.0 * np.log10(np.maximum(b - 1.1, 1e-300)) - 8.0,
                20.0 * np.log10(b + 0.1 * b**3),
            )  # Eq (34)
        out = out - np.maximum(gb, gmin)
    return out  # Eq (36)


def _spherical(d, hte, hre, ap, f, omega, pol):
    """Ldsph (Eqs (22)-(28)) per row, for polarisation ``pol`` (arrays of one length).

    The first-term loss (Eq (28)) is evaluated only on the rows that use it: with ``ap`` beyond
    the smooth-earth horizon, with ``aem`` before it where Eq (27) is not 0 (element-wise, so the
    values are those of evaluating it on every row and selecting).
    """
    lam = C_GM / f

    def ldft(adft, rows):
        dr, te, re, om = d[rows], hte[rows], hre[rows], omega[rows]
        land = _first_term(22.0, 0.003, dr, te, re, adft, f, pol)
        if not np.any(om):  # omega = 0 on every row: Eq (28) is the land term (the sea term is finite)
            return land
        sea = _first_term(80.0, 5.0, dr, te, re, adft, f, pol)
        return om * sea + (1.0 - om) * land  # Eq (28)

    dlos = np.sqrt(2.0 * ap) * (np.sqrt(0.001 * hte) + np.sqrt(0.001 * hre))  # Eq (22)
    c = (hte - hre) / (hte + hre)  # Eq (24d)
    m = 250.0 * d * d / (ap * (hte + hre))  # Eq (24e)
    arg = np.clip(1.5 * c * np.sqrt(3.0 * m / (m + 1.0) ** 3), -1.0, 1.0)
    b = 2.0 * np.sqrt((m + 1.0) / (3.0 * m)) * np.cos(np.pi / 3.0 + np.arccos(arg) / 3.0)  # Eq (24c)
    dse1 = 0.5 * d * (1.0 + b)  # Eq (24a)
    dse2 = d - dse1  # Eq (24b)
    hse = ((hte - 500.0 * dse1**2 / ap) * dse2 + (hre - 500.0 * dse2**2 / ap) * dse1) / d  # Eq (23)
    hreq = 17.456 * np.sqrt(np.maximum(dse1 * dse2 * lam / d, 0.0))  # Eq (25)
    aem = 500.0 * (d / (np.sqrt(hte) + np.sqrt(hre))) ** 2  # Eq (26)
    beyond = d >= dlos
    out = np.zeros_like(d)  # Eq (27) where hse > hreq
    rows = np.flatnonzero(~beyond & ~(hse > hreq))
    if rows.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rows] = (1.0 - hse[rows] / hreq[rows]) * np.maximum(ldft(aem[rows], rows), 0.0)  # Eq (27)
    rows = np.flatnonzero(beyond)
    if rows.size:
        out[rows] = ldft(ap[rows], rows)
    return out


def profile_quantities(*, d, h, R, zone, npts, htg, hrg, f, DN, with_beta=True) -> dict[str, np.ndarray]:
    """The profile reductions of ``m`` padded paths: everything the loss needs from the profile.

    Returns per-row arrays: ``dtot, htg, hrg, h1, hn, hts, hrs, zone1, zonen, omega, dtm, dlm, hst_n, hsr_n, hstd,
    hsrd, theta_t, theta_r, dlt, dlr, hm`` and ``bull``, a dict of Bullington reductions
    ``(stim, srim, numax)`` (:func:`bullington_slopes`) for the actual profile (``"a50"``, ``"ab"``)
    and the smooth one (``"s50"``, ``"sb"``) with the median radius ae and the beta0 radius ab
    (the ``ab`` pair only where ``with_beta``). :func:`loss_from_quantities` takes it from there;
    the fast area kernel (``_p1812_fast``) builds the same dict from quantities carried along radials.
    """
    m, n = d.shape
    j = np.arange(n)[None, :]
    last = npts - 1
    valid = j < npts[:, None]
    inner = (j >= 1) & (j < last[:, None])
    dtot = _take(d, last)
    htg, hrg = _rows(htg, m), _rows(hrg, m)
    h1 = h[:, 0]
    hn = _take(h, last)
    zone1 = zone[:, 0]
    zonen = _take(zone, last)
    # padding repeats each path's last point (keeps every masked-out term finite)
    d = np.where(valid, d, dtot[:, None])
    h = np.where(valid, h, hn[:, None])
    R = np.where(valid, R, 0.0)
    zone = np.where(valid, zone, zonen[:, None])
    lam = C_GM / f

    # §3: zone sections (each point spans the mid-points to its neighbours)
    dpad = np.where(valid, d, dtot[:, None])
    mid = 0.5 * (dpad[:, 1:] + dpad[:, :-1])
    lo = np.concatenate([np.zeros((m, 1)), mid], axis=1)
    hi = np.concatenate([mid, dtot[:, None]], axis=1)
    span = np.where(valid, hi - lo, 0.0)
    omega = np.where(valid & (zone == 1), span, 0.0).sum(axis=1) / dtot
    dtm = _longest_run(span, valid & ((zone == 3) | (zone == 4)))
    dlm = _longest_run(span, valid & (zone == 4))
    ae = EARTH_RADIUS_KM * 157.0 / (157.0 - DN)  # Eqs (6), (7a)
    ab = EARTH_RADIUS_KM * K_BETA  # Eq (7b)

    # Attachment 1: smooth earth, horizons, roughness (terrain h, no clutter)
    seg = valid[:, 1:]
    dd = np.where(seg, np.diff(d, axis=1), 0.0)
    v1 = (dd * (h[:, 1:] + h[:, :-1])).sum(axis=1)
    v2 = (dd * (h[:, 1:] * (2.0 * d[:, 1:] + d[:, :-1]) + h[:, :-1] * (d[:, 1:] + 2.0 * d[:, :-1]))).sum(axis=1)
    hst_n = (2.0 * v1 * dtot - v2) / dtot**2
    hsr_n = (v2 - v1 * dtot) / dtot**2
    hts = h1 + htg
    hrs = hn + hrg
    dt = dtot[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        H = h - (hts[:, None] * (dt - d) + hrs[:, None] * d) / dt
        hobs = np.where(inner, H, _NEG).max(axis=1)
        a_t = np.where(inner, H / d, _NEG).max(axis=1)
        a_r = np.where(inner, H / (dt - d), _NEG).max(axis=1)
        hstp = np.where(hobs <= 0.0, hst_n, hst_n - hobs * a_t / (a_t + a_r))
        hsrp = np.where(hobs <= 0.0, hsr_n, hsr_n - hobs * a_r / (a_t + a_r))
        hstd = np.minimum(hstp, h1)
        hsrd = np.minimum(hsrp, hn)

        th_i = np.where(inner, 1000.0 * np.arctan((h - hts[:, None]) / (1000.0 * d) - d / (2.0 * ae)), _NEG)
        tr_i = np.where(inner, 1000.0 * np.arctan((h - hrs[:, None]) / (1000.0 * (dt - d)) - (dt - d) / (2.0 * ae)),
                        _NEG)
        nu = np.where(
            inner,
            (h + 500.0 * d * (dt - d) / ae - (hts[:, None] * (dt - d) + hrs[:, None] * d) / dt)
            * np.sqrt(0.002 * dt / (lam * d * (dt - d))),
            _NEG,
        )
    th_td = 1000.0 * np.arctan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae))
    th_rd = 1000.0 * np.arctan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
    th_max = th_i.max(axis=1)
    trans = th_max > th_td
    i_nu = _argmax_last(nu)
    it = np.where(trans, _argmax_first(th_i), i_nu)
    ir = np.where(trans, _argmax_last(tr_i), i_nu)
    theta_t = np.where(trans, th_max, th_td)
    theta_r = np.where(trans, tr_i.max(axis=1), th_rd)
    dlt = _take(d, it)
    dlr = dtot - _take(d, ir)
    hst = np.minimum(hst_n, h1)
    hsr = np.minimum(hsr_n, hn)
    slope = (hsr - hst) / dtot
    i0, i1 = np.minimum(it, ir), np.maximum(it, ir)
    in_seg = (j >= i0[:, None]) & (j <= i1[:, None])
    hm = np.where(in_seg, h - (hst[:, None] + slope[:, None] * d), _NEG).max(axis=1)

    # §4.3 the Bullington reductions (clutter on the intermediate points)
    g = np.where(inner, h + R, h)
    zeros = np.zeros_like(g)
    htc1 = hts - hstd  # Eq (37a)
    hrc1 = hrs - hsrd  # Eq (37b)
    bull = {}
    for key, ap in (("50", ae), ("b", ab)) if with_beta else (("50", ae),):
        apr = _rows(ap, m)
        bull["a" + key] = bullington_slopes(d, g, inner, dtot, hts, hrs, apr, lam)
        bull["s" + key] = bullington_slopes(d, zeros, inner, dtot, htc1, hrc1, apr, lam)
    return {"dtot": dtot, "htg": htg, "hrg": hrg, "h1": h1, "hn": hn, "hts": hts, "hrs": hrs, "zone1": zone1,
            "zonen": zonen,
            "omega": omega, "dtm": dtm, "dlm": dlm, "hst_n": hst_n, "hsr_n": hsr_n, "hstd": hstd, "hsrd": hsrd,
            "theta_t": theta_t, "theta_r": theta_r, "dlt": dlt, "dlr": dlr, "hm": hm, "bull": bull}


def loss_from_quantities(q, *, f, p, pol, phi, pL, sigmaL, DN, N0, dct, dcr) -> dict[str, np.ndarray]:
    """Lb and the main intermediates from the profile reductions ``q`` of :func:`profile_quantities`.

    Every equation after the profile analysis (§3 beta0, §4.1-4.9): one place, used by the
    batched exact path and by the fast area kernel. ``q["bull"]`` may lack the beta0-radius
    pair only where ``p == 50`` (Ldp = Ld50 then, Eq (41)).
    """
    dtot, hts, hrs, omega = q["dtot"], q["hts"], q["hrs"], q["omega"]
    m = dtot.shape[0]
    phi, sigmaL = _rows(phi, m), _rows(sigmaL, m)
    zone1, zonen = q["zone1"], q["zonen"]
    dct = np.where(zone1 == 1, 0.0, _rows(dct, m))
    dcr = np.where(zonen == 1, 0.0, _rows(dcr, m))
    lam = C_GM / f
    dlm, dtm = q["dlm"], q["dtm"]
    tau = 1.0 - np.exp(-4.12e-4 * dlm**2.41)  # Eq (3)
    mu1 = np.minimum((10.0 ** (-dtm / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2, 1.0)
    aphi = np.abs(phi)
    b0 = np.where(
        aphi <= 70.0,
        10.0 ** (-0.015 * aphi + 1.67) * mu1 * mu1 ** (-0.935 + 0.0176 * aphi),
        4.17 * mu1 * mu1**0.3,
    )  # Eqs (4), (5)
    ae = EARTH_RADIUS_KM * 157.0 / (157.0 - DN)  # Eqs (6), (7a)
    ab = EARTH_RADIUS_KM * K_BETA  # Eq (7b)
    dlt, dlr, theta_t, theta_r, hm = q["dlt"], q["dlr"], q["theta_t"], q["theta_r"], q["hm"]
    theta = 1e3 * dtot / ae + theta_t + theta_r
    hst = np.minimum(q["hst_n"], q["h1"])
    hsr = np.minimum(q["hsr_n"], q["hn"])
    hte = q["htg"] + q["h1"] - hst
    hre = q["hrg"] + q["hn"] - hsr

    # §4.1 line of sight
    lbfs = 92.4 + 20.0 * np.log10(f) + 10.0 * np.log10(dtot**2 + ((hts - hrs) / 1000.0) ** 2)  # Eq (8)
    near = 1.0 - np.exp(-0.1 * (dlt + dlr))
    lb0p = lbfs + 2.6 * near * np.log10(p / 50.0)  # Eq (10)
    lb0b = lbfs + 2.6 * near * np.log10(b0 / 50.0)  # Eq (11)

    # §4.3 diffraction
    htc1 = hts - q["hstd"]  # Eq (37a)
    hrc1 = hrs - q["hsrd"]  # Eq (37b)
    bull = q["bull"]

    def delta_b(key, ap):
        apr = _rows(ap, m)
        lbulla = bullington_from_slopes(*bull["a" + key], dtot, hts, hrs, lam)
        lbulls = bullington_from_slopes(*bull["s" + key], dtot, htc1, hrc1, lam)
        ldsph = _spherical(dtot, htc1, hrc1, apr, f, omega, pol)
        return lbulla + np.maximum(ldsph - lbulls, 0.0)  # Eq (39)

    ld50 = delta_b("50", ae)
    if p == 50.0:
        ldb = ld50  # not used: Ldp = Ld50 (Eq (41)) and Fi multiplies no Ldb term
    else:
        if "ab" not in bull:
            raise ValueError("the beta0-radius Bullington reductions are needed where p != 50")
        ldb = delta_b("b", ab)
    fi = np.where(p > b0, inverse_normal_tail(p / 100.0) / inverse_normal_tail(b0 / 100.0), 1.0)  # Eq (40)
    ldp = ld50 if p == 50.0 else ld50 + fi * (ldb - ld50)  # Eq (41)
    lbd50 = lbfs + ld50  # Eq (42)
    lbd = lb0p + ldp  # Eq (43)

    # §4.4 troposcatter
    lf = 25.0 * np.log10(f) - 2.5 * np.log10(f / 2.0) ** 2  # Eq (45)
    lbs = 190.1 + lf + 20.0 * np.log10(dtot) + 0.573 * theta - 0.15 * N0 - 10.125 * np.log10(50.0 / p) ** 0.7  # (44)

    # §4.5 ducting / layer reflection
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0  # Eq (47a)

    def shield(th, dl):
        th2 = th - 0.1 * dl  # Eq (48a)
        with np.errstate(invalid="ignore"):
            a = 20.0 * np.log10(1.0 + 0.361 * th2 * np.sqrt(f * dl)) + 0.264 * th2 * f ** (1.0 / 3.0)
        return np.where(th2 > 0.0, a, 0.0)  # Eq (48)

    def coupling(dc, dl, hs):
        ok = np.flatnonzero((omega >= 0.75) & (dc <= dl) & (dc <= 5.0))
        out = np.zeros(m)  # evaluated only on the rows it applies to (element-wise: the same values)
        if ok.size:
            out[ok] = -3.0 * np.exp(-0.25 * dc[ok] * dc[ok]) * (1.0 + np.tanh(0.07 * (50.0 - hs[ok])))  # Eq (49)
        return out

    af = (102.45 + 20.0 * np.log10(f) + 20.0 * np.log10(dlt + dlr) + alf + shield(theta_t, dlt)
          + shield(theta_r, dlr) + coupling(dct, dlt, hts) + coupling(dcr, dlr, hrs))  # Eq (47)
    gamma_d = 5e-5 * ae * f ** (1.0 / 3.0)  # Eq (51)
    theta1 = 1e3 * dtot / ae + np.minimum(theta_t, 0.1 * dlt) + np.minimum(theta_r, 0.1 * dlr)  # Eq (52)
    d_i = np.minimum(dtot - dlt - dlr, 40.0)  # Eq (56a)
    mu3 = np.where(hm > 10.0, np.exp(-4.6e-5 * (hm - 10.0) * (43.0 + 6.0 * d_i)), 1.0)  # Eq (56)
    alpha = np.maximum(-0.6 - 3.5e-9 * dtot**3.1 * tau, -3.4)  # Eq (55a)
    mu2 = np.minimum((500.0 / ae * dtot**2 / (np.sqrt(hte) + np.sqrt(hre)) ** 2) ** alpha, 1.0)  # Eq (55)
    beta = b0 * mu2 * mu3  # Eq (54)
    lgb = np.log10(beta)
    gam = 1.076 / (2.0058 - lgb) ** 1.012 * np.exp(-(9.51 - 4.8 * lgb + 0.198 * lgb * lgb) * 1e-6 * dtot**1.13)
    ap_ = -12.0 + (1.2 + 3.7e-3 * dtot) * np.log10(p / beta) + 12.0 * (p / beta) ** gam  # Eq (53)
    lba = af + gamma_d * theta1 + ap_  # Eqs (46), (50)

    # §4.6 combination
    fj = 1.0 - 0.5 * (1.0 + np.tanh(3.0 * 0.8 * (theta - 0.3) / 0.3))  # Eq (57)
    fk = 1.0 - 0.5 * (1.0 + np.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))  # Eq (58)
    lminb0p = np.where(p < b0, lb0p + (1.0 - omega) * ldp, lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * fi)  # (59)
    lminbap = 2.5 * np.logaddexp(lba / 2.5, lb0p / 2.5)  # Eq (60)
    lbda = np.where(lminbap > lbd, lbd, lminbap + (lbd - lminbap) * fk)  # Eq (61)
    lbam = lbda + (lminb0p - lbda) * fj  # Eq (62)
    lbc = -5.0 * np.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))  # Eq (63)

    # §4.8-4.9 location variability (none at sea), outdoor
    sigma = np.where(zonen == 1, 0.0, sigmaL)
    lb = np.maximum(lb0p, lbc - float(inverse_normal_tail(pL / 100.0)) * sigma)  # Eq (69), Lloc = 0
    return {"Lb": lb, "Lbc": lbc, "Lbfs": lbfs, "Ld50": ld50, "Lba": lba, "Lbs": lbs, "b0": b0, "th": theta}


def batch_loss(
    *, f, p, d, h, R, zone, npts, htg, hrg, pol, phi, pL, sigmaL, DN, N0, dct, dcr
) -> dict[str, np.ndarray]:
    """Lb and the main intermediates for ``m`` paths (arrays of shape ``(m,)``)."""
    q = profile_quantities(d=d, h=h, R=R, zone=zone, npts=npts, htg=htg, hrg=hrg, f=f, DN=DN, with_beta=p != 50.0)
    return loss_from_quantities(q, f=f, p=p, pol=pol, phi=phi, pL=pL, sigmaL=sigmaL, DN=DN, N0=N0, dct=dct,
                                dcr=dcr)
