"""Per-profile pieces of the fast P.1812 kernel (numba): hulls, scans, Bullington slopes, zone runs.

Private to :mod:`covgap.models._p1812_fast` (the radial sweep, where the method is described).
Every function reduces points of one profile: the radial's samples ``1..n1`` (arrays ``dk``,
``hk``, ``gk``) followed by the receiver's own points (``td``, ``th_``, ``tg``, ``nt`` of them).
Expressions are those of :func:`._p1812_batch.profile_quantities`, term for term.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__: list[str] = []

_NEG = -np.inf


@nb.njit(cache=True, inline="always")
def _bilinear(dem, r, c):
    """DEM height at the fractional grid position (r, c) (centres at +0.5, edges clamped)."""
    ny, nx = dem.shape
    rr = min(max(r - 0.5, 0.0), ny - 1.0)
    cc = min(max(c - 0.5, 0.0), nx - 1.0)
    r0 = min(int(math.floor(rr)), max(ny - 2, 0))
    c0 = min(int(math.floor(cc)), max(nx - 2, 0))
    r1 = min(r0 + 1, ny - 1)
    c1 = min(c0 + 1, nx - 1)
    fr = rr - r0
    fc = cc - c0
    top = dem[r0, c0] * (1.0 - fc) + dem[r0, c1] * fc
    bot = dem[r1, c0] * (1.0 - fc) + dem[r1, c1] * fc
    return top * (1.0 - fr) + bot * fr


@nb.njit(cache=True, inline="always")
def _hull_push(hx, hy, hk, size, x, y, k):
    """Add (x, y) (x larger than every point so far) to the upper hull of ``size`` points."""
    while size >= 2:
        x1 = hx[size - 2]
        y1 = hy[size - 2]
        if (hx[size - 1] - x1) * (y - y1) - (hy[size - 1] - y1) * (x - x1) >= 0.0:
            size -= 1  # the last vertex is on or below the chord: not on the upper hull
        else:
            break
    hx[size] = x
    hy[size] = y
    hk[size] = k
    return size + 1


@nb.njit(cache=True, inline="always")
def _hull_tangent(hx, hy, hk, size, X, Y):
    """Index (of the profile) of the hull vertex maximising (y - Y) / (X - x), X beyond every x.

    Along an upper hull this ratio rises then falls; ties go to the vertex nearest X.
    """
    lo = 0
    hi = size - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if (hy[mid + 1] - Y) * (X - hx[mid]) >= (hy[mid] - Y) * (X - hx[mid + 1]):
            lo = mid + 1
        else:
            hi = mid
    return hk[lo]


@nb.njit(cache=True, inline="always")
def _hull_linear(hx, hy, hk, size, c):
    """Index of the hull vertex maximising y - c x."""
    lo = 0
    hi = size - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if hy[mid + 1] - hy[mid] >= c * (hx[mid + 1] - hx[mid]):
            lo = mid + 1
        else:
            hi = mid
    return hk[lo]


@nb.njit(cache=True, inline="always")
def _nu(gi, d, D, htc, hrc, lam):
    """Bullington's ν of one profile point with curvature already in ``gi`` (Eq (15))."""
    return (gi - (htc * (D - d) + hrc * d) / D) * math.sqrt(0.002 * D / (lam * d * (D - d)))


@nb.njit(cache=True, inline="always")
def _smooth_slopes(D, s, n, htc, hrc, ap):
    """Stim and Srim (Eqs (13), (17)) of the smooth profile g = 0 over inner points k s, k = 1..n.

    (500 d (D - d) / ap - htc) / d and (500 d (D - d) / ap - hrc) / (D - d) are concave in d
    (for htc, hrc > 0; else monotone): their maxima over the samples are at the ends or next
    to the continuous optimum.
    """
    stim = _NEG
    srim = _NEG
    for which in range(2):
        if which == 0:
            opt = math.sqrt(htc * ap / 500.0) / s if htc > 0.0 else 1.0
        else:
            opt = (D - math.sqrt(hrc * ap / 500.0)) / s if hrc > 0.0 else float(n)
        k0 = int(math.floor(opt))
        for kc in (1, n, k0, k0 + 1):
            k = min(max(kc, 1), n)
            d = k * s
            gi = 500.0 * d * (D - d) / ap
            if which == 0:
                stim = max(stim, (gi - htc) / d)
            else:
                srim = max(srim, (gi - hrc) / (D - d))
    return stim, srim


@nb.njit(cache=True, inline="always")
def _smooth_hmax(D, s, n, htc, hrc, ap):
    """Largest height of the smooth profile above the Tx-Rx line over the samples (a concave quadratic)."""
    opt = (0.5 * D + (htc - hrc) * ap / (1000.0 * D)) / s
    k0 = int(math.floor(opt))
    best = _NEG
    for kc in (1, n, k0, k0 + 1):
        k = min(max(kc, 1), n)
        d = k * s
        best = max(best, 500.0 * d * (D - d) / ap - (htc * (D - d) + hrc * d) / D)
    return best


@nb.njit(cache=True, inline="always")
def _at(radial, tail, n1, i):
    """Profile point ``i``: the radial's sample ``i`` up to ``n1``, then the receiver's own points."""
    return radial[i] if i <= n1 else tail[i - n1 - 1]


_FM = {"nnan", "ninf", "nsz"}  # finite values only; no reassociation, so values equal the plain loop's


@nb.njit(cache=True, fastmath=_FM)
def _numax(dk, gk, n1, td, tg, nt, D, htc, hrc, ap, lam):
    """Largest ν (Eq (15)) over the inner points of the profile g (radial part, then the receiver's points)."""
    numax = _NEG
    for k in range(1, n1 + 1):  # contiguous: vectorised
        d = dk[k]
        numax = max(numax, _nu(gk[k] + 500.0 * d * (D - d) / ap, d, D, htc, hrc, lam))
    for t in range(nt):
        d = td[t]
        numax = max(numax, _nu(tg[t] + 500.0 * d * (D - d) / ap, d, D, htc, hrc, lam))
    return numax


_BLOCK = 16  # points per block of the pruned smooth-profile scan


@nb.njit(cache=True, inline="always")
def _smooth_nu_bound(da, db, D, htc, hrc, ap, lam):
    """An upper bound of ν (Eq (15), smooth profile g = 0) over the distances [da, db].

    ν = H(d) w(d): H the height of the smooth profile above the Tx-Rx line (a concave quadratic,
    largest at d = D/2 + (htc - hrc) ap / (1000 D)), w = sqrt(0.002 D / (λ d (D - d))) (> 0, convex,
    smallest at D/2). Where max H < 0, ν ≤ max H · min w; else ν ≤ max H · max w (w at an end).
    """
    dh = min(max(0.5 * D + (htc - hrc) * ap / (1000.0 * D), da), db)
    hmax = 500.0 * dh * (D - dh) / ap - (htc * (D - dh) + hrc * dh) / D
    if hmax < 0.0:
        dw = min(max(0.5 * D, da), db)
        return hmax * math.sqrt(0.002 * D / (lam * dw * (D - dw)))
    wa = math.sqrt(0.002 * D / (lam * da * (D - da)))
    wb = math.sqrt(0.002 * D / (lam * db * (D - db)))
    return hmax * max(wa, wb)


@nb.njit(cache=True, fastmath={"nnan", "nsz"})  # -inf is a value here (no "ninf")
def _numax_smooth_part(dd, lo, hi, D, htc, hrc, ap, lam, best):
    """max(best, largest ν of the smooth profile over the points dd[lo..hi - 1] (increasing d)).

    Blocks of ``_BLOCK`` points whose bound (:func:`_smooth_nu_bound`) lies below the best value so
    far by more than any rounding (1e-9 relative) cannot hold the maximum and are not evaluated;
    every other point is evaluated with the same expression as a full scan, so the maximum is the
    full scan's, bit for bit. The block with the largest bound is evaluated first.
    """
    if hi - lo <= _BLOCK:
        for i in range(lo, hi):
            d = dd[i]
            best = max(best, _nu(500.0 * d * (D - d) / ap, d, D, htc, hrc, lam))
        return best
    top = lo
    top_ub = _NEG
    for a in range(lo, hi, _BLOCK):
        ub = _smooth_nu_bound(dd[a], dd[min(a + _BLOCK, hi) - 1], D, htc, hrc, ap, lam)
        if ub > top_ub:
            top_ub = ub
            top = a
    for i in range(top, min(top + _BLOCK, hi)):
        d = dd[i]
        best = max(best, _nu(500.0 * d * (D - d) / ap, d, D, htc, hrc, lam))
    for a in range(lo, hi, _BLOCK):
        if a == top:
            continue
        b = min(a + _BLOCK, hi)
        if _smooth_nu_bound(dd[a], dd[b - 1], D, htc, hrc, ap, lam) < best - 1e-9 * (abs(best) + 1.0):
            continue
        for i in range(a, b):
            d = dd[i]
            best = max(best, _nu(500.0 * d * (D - d) / ap, d, D, htc, hrc, lam))
    return best


@nb.njit(cache=True, fastmath=_FM)
def _numax_smooth(dk, n1, td, nt, D, htc, hrc, ap, lam):
    """Largest ν over the inner points of the smooth profile g = 0 (pruned scan, the full scan's value)."""
    numax = _numax_smooth_part(dk, 1, n1 + 1, D, htc, hrc, ap, lam, _NEG)
    return _numax_smooth_part(td, 0, nt, D, htc, hrc, ap, lam, numax)


@nb.njit(cache=True, fastmath=_FM)
def _bullington_point(dk, hk, n1, td, th_, nt, D, hts, hrs, ae, lam):
    """Index of the last maximum of ν over the terrain (the LoS Bullington point of Attachment 1)."""
    best = _NEG
    idx = 1
    for k in range(1, n1 + 1):
        d = dk[k]
        v = _nu(hk[k] + 500.0 * d * (D - d) / ae, d, D, hts, hrs, lam)
        if v >= best:  # the last index of the largest value
            best = v
            idx = k
    for t in range(nt):
        d = td[t]
        v = _nu(th_[t] + 500.0 * d * (D - d) / ae, d, D, hts, hrs, lam)
        if v >= best:
            best = v
            idx = n1 + 1 + t
    return idx


@nb.njit(cache=True, fastmath=_FM)
def _roughness(dk, hk, n1, td, th_, i0, i1, hst, slope):
    """hm (§5.6.3): the largest height above the smooth surface over the profile points i0..i1."""
    hm = _NEG
    for i in range(i0, min(i1, n1) + 1):  # the radial's part: one contiguous loop (vectorised)
        hm = max(hm, hk[i] - (hst + slope * dk[i]))
    for i in range(max(i0, n1 + 1), i1 + 1):
        hm = max(hm, th_[i - n1 - 1] - (hst + slope * td[i - n1 - 1]))
    return hm


@nb.njit(cache=True)
def _bull_actual(dk, gk, n1, td, tg, nt, D, hts, hrs, ap, lam, kst, hx, hy, hk, size, out, col):
    """Stim, Srim, νmax (Eqs (13), (15), (17)) of the clutter profile for radius ``ap`` into out[col:col + 3]."""
    stim = _NEG
    srim = _NEG
    hmax = _NEG
    ctr = (hrs - hts) / D - 500.0 * D / ap
    if n1 >= 1:
        d = dk[kst]
        stim = (gk[kst] + 500.0 * d * (D - d) / ap - hts) / d
        i = _hull_tangent(hx, hy, hk, size, D, hrs - 500.0 * D * D / ap)
        d = dk[i]
        srim = (gk[i] + 500.0 * d * (D - d) / ap - hrs) / (D - d)
        i = _hull_linear(hx, hy, hk, size, ctr)
        d = dk[i]
        hmax = gk[i] + 500.0 * d * (D - d) / ap - (hts * (D - d) + hrs * d) / D
    for t in range(nt):
        d = td[t]
        gi = tg[t] + 500.0 * d * (D - d) / ap
        stim = max(stim, (gi - hts) / d)
        srim = max(srim, (gi - hrs) / (D - d))
        hmax = max(hmax, gi - (hts * (D - d) + hrs * d) / D)
    numax = _NEG
    if stim < (hrs - hts) / D or stim + srim <= 0.0:  # line of sight: Eq (15)
        # every H_i < 0 there, so nu_i = H_i w_i <= Hmax min(w), min(w) >= sqrt(0.008 / (lam D))
        bound = hmax * math.sqrt(0.008 / (lam * D))
        if hmax < 0.0 and bound <= -0.78:
            numax = bound  # J(nu) = 0 at every point (Eq (12)): the value is not needed
        else:
            numax = _numax(dk, gk, n1, td, tg, nt, D, hts, hrs, ap, lam)
    out[col] = stim
    out[col + 1] = srim
    out[col + 2] = numax


@nb.njit(cache=True)
def _bull_smooth(dk, n1, td, nt, D, s, htc1, hrc1, ap, lam, out, col):
    """Stim, Srim, νmax of the smooth profile (g = 0, Eq (37)) into out[col:col + 3]."""
    stim = _NEG
    srim = _NEG
    hmax = _NEG
    if n1 >= 1:
        stim, srim = _smooth_slopes(D, s, n1, htc1, hrc1, ap)
        hmax = _smooth_hmax(D, s, n1, htc1, hrc1, ap)
    for t in range(nt):
        d = td[t]
        gi = 500.0 * d * (D - d) / ap
        stim = max(stim, (gi - htc1) / d)
        srim = max(srim, (gi - hrc1) / (D - d))
        hmax = max(hmax, gi - (htc1 * (D - d) + hrc1 * d) / D)
    numax = _NEG
    if stim < (hrc1 - htc1) / D or stim + srim <= 0.0:
        bound = hmax * math.sqrt(0.008 / (lam * D))
        if hmax < 0.0 and bound <= -0.78:
            numax = bound
        else:
            numax = _numax_smooth(dk, n1, td, nt, D, htc1, hrc1, ap, lam)
    out[col] = stim
    out[col + 1] = srim
    out[col + 2] = numax


@nb.njit(cache=True, inline="always")
def _zone_add(z, a, state):
    """Add a profile point of zone ``z`` spanning ``a`` km to the running zone sections (§3.6).

    ``state``: current land run, longest land run, current inland run, longest inland run, sea.
    """
    if z == 3 or z == 4:
        state[0] += a
        state[1] = max(state[1], state[0])
    else:
        state[0] = 0.0
    if z == 4:
        state[2] += a
        state[3] = max(state[3], state[2])
    else:
        state[2] = 0.0
    if z == 1:
        state[4] += a
