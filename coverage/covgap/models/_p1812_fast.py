"""Fast area mode of ITU-R P.1812-6: the profile reductions carried outward along radials (numba).

Private to :mod:`covgap.models.p1812_area`. Pure: arrays in, arrays out. The reductions of one
profile (hulls, scans, Bullington slopes) are in :mod:`._p1812_reductions`.

The exact area mode samples one profile per cell and reduces it (:func:`._p1812_batch.
profile_quantities`) to about twenty numbers, from which :func:`._p1812_batch.
loss_from_quantities` computes Lb. Here the same numbers come from radials: the transmitter
casts ``n_rad`` straight radials (about one per cell at the largest radius); each cell belongs
to the radial nearest its azimuth. Its profile is the exact mode's profile (``npts`` points at
``d k / (npts - 1)`` on the straight line to the cell centre) with the first part replaced by
the radial: the radial's terrain sampled at equal steps ``s`` (bilinear DEM heights, clutter and
zone of the DEM cell under each sample) up to the last sample at least ``s / 2`` before the
cell's own last ``n_tail`` inner points, which are sampled on the cell's line where the exact
mode samples them (the terrain next to the receiver decides its horizon), then the cell centre
(the receiver). With ``n_tail`` at least the profile length the profile is the exact one. The
cells of a radial are visited in order of distance, so every prefix reduction is carried outward
(the receiver's own points are added per cell, by a short loop):

* running maxima with their first index: the Tx horizon angle (Attachment 1 §5.1), the Tx-side
  slope of the obstruction line a_t (§5.6.2) and Bullington's Tx-side slope Stim (Eq (13),
  rewritten as ``max[(g_i - htc) / d_i - 500 d_i / ap] + 500 d / ap``);
* prefix sums of the least-squares smooth earth (v1, v2 of §5.6.1) and of the zone sections;
* upper convex hulls of ``(d_i, h_i)``, ``(d_i, h_i - 500 d_i² / ae)`` and of the clutter profile
  ``(d_i, g_i - 500 d_i² / ap)``, grown point by point along the radial (monotone chain). The
  receiver-side maxima are not running quantities (they depend on the receiver), but each is a
  query on such a hull: the Rx horizon angle and Bullington's Srim (Eq (17)) are tangents from
  the receiver ``(d, hrs - 500 d² / ap)``; hobs and a_r of §5.6.2 a linear functional and a
  tangent on the plain-terrain hull. Binary search: O(log n) per cell.

Each maximum's index is found on the hull and the value recomputed there with the exact mode's
own expression, so a cell on the radial gets the exact mode's numbers for its profile.
What is not a hull query is scanned, only where needed: the diffraction parameter ν on
line-of-sight paths (Eq (15) and the Bullington point of Attachment 1), skipped for Bullington
where an upper bound already puts ν at or below −0.78 (where J(ν) = 0); the smooth-profile
Bullington of Eq (37) (g = 0) has closed-form candidates (its slopes are concave in d_i); the
roughness hm (§5.6.3) is a maximum over the points between the two horizons.

The differences to the exact mode are therefore only the profile's geometry before the
receiver's own points: the radial's azimuth differs from the cell's by at most half the radial
spacing, and its samples sit at multiples of ``s`` instead of ``d k / (npts - 1)``. Status per cell: 0 done, 1 no inner point
(the caller evaluates it exactly), 2 DEM nodata on the profile (the caller's exact path decides).
"""

from __future__ import annotations

import contextvars
import math
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from ._p1812_batch import loss_from_quantities
from ._p1812_reductions import (
    _at,
    _bilinear,
    _bull_actual,
    _bull_smooth,
    _bullington_point,
    _hull_linear,
    _hull_push,
    _hull_tangent,
    _roughness,
    _zone_add,
)
from ._p1812_profile import C_GM, EARTH_RADIUS_KM, K_BETA
from .p1812 import _path_centre_latitudes

__all__: list[str] = []

#: ``n_tail`` that takes every profile point from the cell's own line: the exact mode's profile.
WHOLE_PROFILE = 1 << 40

#: Columns of the per-cell output of :func:`radial_quantities`.
QUANTITIES = ("dtot", "h1", "hn", "zone1", "zonen", "omega", "dtm", "dlm", "hst_n", "hsr_n", "hstd", "hsrd",
              "theta_t", "theta_r", "dlt", "dlr", "hm",
              "a50_stim", "a50_srim", "a50_numax", "s50_stim", "s50_srim", "s50_numax",
              "ab_stim", "ab_srim", "ab_numax", "sb_stim", "sb_srim", "sb_numax")
# their column numbers (numba reads module-level ints as constants)
_DTOT = 0
_H1 = 1
_HN = 2
_ZONE1 = 3
_ZONEN = 4
_OMEGA = 5
_DTM = 6
_DLM = 7
_HST_N = 8
_HSR_N = 9
_HSTD = 10
_HSRD = 11
_THETA_T = 12
_THETA_R = 13
_DLT = 14
_DLR = 15
_HM = 16
_A50_STIM = 17
_A50_SRIM = 18
_A50_NUMAX = 19
_S50_STIM = 20
_S50_SRIM = 21
_S50_NUMAX = 22
_AB_STIM = 23
_AB_SRIM = 24
_AB_NUMAX = 25
_SB_STIM = 26
_SB_SRIM = 27
_SB_NUMAX = 28
_NEG = -np.inf
#: Cells per chunk of ``loss_from_quantities`` (measured: docs/design.md, "P.1812 fast area mode").
LOSS_CHUNK = 131072
_MIN_CHUNK = 8192  # floor on the chunk size: the per-chunk Python overhead (~100 numpy calls) stays small


@nb.njit(cache=True)
def _one_radial(j, n_rad, first, stop, dem, clutter, zone, row_s, col_s, dx_m, dy_m, s, cell_d, cell_r, cell_c,
                cell_h, cell_z, n_tail, htg, hrg, lam, ae, ab, with_beta, has_clutter, out, status):
    """All cells of radial ``j``: positions ``first..stop - 1`` of the cell arrays (sorted by radial,
    then distance, so that the cells' inputs and outputs are read and written in order)."""
    ncell = stop - first
    ny, nx = dem.shape
    n_last = int(math.floor(cell_d[stop - 1] / s - 0.5))
    K = max(n_last, 0) + 1
    if n_tail >= max(3, int(math.ceil(cell_d[stop - 1] / s)) + 1) - 2:
        K = 1  # every cell's inner points are its own (n1 = 0 below): the radial's samples are not used
    ang = 2.0 * math.pi * j / n_rad
    dr = math.sin(ang) * 1000.0 / dy_m  # grid rows per km
    dc = math.cos(ang) * 1000.0 / dx_m
    dk = np.empty(K)
    hk = np.empty(K)
    gk = np.empty(K)
    zk = np.empty(K)
    for k in range(K):
        d = k * s
        r = row_s + d * dr
        c = col_s + d * dc
        dk[k] = d
        h = _bilinear(dem, r, c)
        hk[k] = h
        ri = min(max(int(math.floor(r)), 0), ny - 1)
        ci = min(max(int(math.floor(c)), 0), nx - 1)
        gk[k] = h + clutter[ri, ci] if k > 0 else h
        zk[k] = zone[ri, ci]
    # hulls: plain terrain (P), terrain with ae curvature (C), clutter profile with ae (A) and ab (B)
    px = np.empty(K)
    py = np.empty(K)
    pk = np.empty(K, np.int64)
    cx = np.empty(K)
    cy = np.empty(K)
    ck = np.empty(K, np.int64)
    ax = np.empty(K)
    ay = np.empty(K)
    ak = np.empty(K, np.int64)
    bx = np.empty(K)
    by = np.empty(K)
    bk = np.empty(K, np.int64)
    npn = 0
    ncn = 0
    nan_ = 0
    nbn = 0
    # the receiver's own points (at most n_tail) and its zone bookkeeping
    n_cap = min(n_tail, int(math.ceil(cell_d[stop - 1] / s)) + 1)  # no cell has more inner points
    td = np.empty(n_cap + 1)
    th_ = np.empty(n_cap + 1)
    tg = np.empty(n_cap + 1)
    tz = np.empty(n_cap + 1)
    zs = np.zeros(5)
    zq = np.zeros(5)
    h1 = hk[0]
    z1 = zk[0]
    hts = h1 + htg
    nan_seen = not math.isfinite(h1)
    v1 = 0.0
    v2 = 0.0
    th_best = _NEG
    it_run = 0
    at_best = _NEG
    at_k = 0
    sa_best = _NEG
    sa_k = 0
    sb_best = _NEG
    sb_k = 0
    n_in = 0  # radial samples 1..n_in added so far
    for ci_ in range(ncell):
        cell = first + ci_
        D = cell_d[cell]
        # the exact mode's profile of this cell: npts points at D k / (npts - 1); its last n_tail
        # inner points are sampled on the cell's own line, the ones before come from the radial
        npts = max(3, int(math.ceil(D / s)) + 1)
        nt = min(n_tail, npts - 2)
        k_t0 = npts - 1 - nt
        n1 = 0 if k_t0 <= 1 else int(math.floor((k_t0 / (npts - 1.0)) * D / s - 0.5))
        n1 = min(max(n1, 0), K - 1)
        if n1 < n_in:
            status[cell] = 1  # never expected (n1 grows with D): the caller evaluates it exactly
            continue
        while n_in < n1:
            k = n_in + 1
            _zone_add(zk[k - 1], 0.5 * s if k == 1 else s, zs)  # point k - 1 with its whole span
            d = dk[k]
            h = hk[k]
            if not math.isfinite(h) or not math.isfinite(gk[k]):
                nan_seen = True
            dd = d - dk[k - 1]
            v1 += dd * (h + hk[k - 1])
            v2 += dd * (h * (2.0 * d + dk[k - 1]) + hk[k - 1] * (d + 2.0 * dk[k - 1]))
            th = (h - hts) / (1000.0 * d) - d / (2.0 * ae)
            if th > th_best:
                th_best = th
                it_run = k
            at = (h - hts) / d
            if at > at_best:
                at_best = at
                at_k = k
            sa = (gk[k] - hts) / d - 500.0 * d / ae
            if sa > sa_best:
                sa_best = sa
                sa_k = k
            if with_beta:
                sb = (gk[k] - hts) / d - 500.0 * d / ab
                if sb > sb_best:
                    sb_best = sb
                    sb_k = k
            npn = _hull_push(px, py, pk, npn, d, h, k)
            ncn = _hull_push(cx, cy, ck, ncn, d, h - 500.0 * d * d / ae, k)
            if has_clutter:
                nan_ = _hull_push(ax, ay, ak, nan_, d, gk[k] - 500.0 * d * d / ae, k)
            if with_beta:
                nbn = _hull_push(bx, by, bk, nbn, d, gk[k] - 500.0 * d * d / ab, k)
            n_in = k
        hn = cell_h[cell]
        zn = cell_z[cell]
        if nan_seen or not math.isfinite(hn):
            status[cell] = 2
            continue
        # the receiver's own points, where the exact mode puts them
        rc = cell_r[cell] + 0.5
        cc = cell_c[cell] + 0.5
        bad = False
        for t in range(nt):
            frac = (k_t0 + t) / (npts - 1.0)
            r = row_s + frac * (rc - row_s)
            c = col_s + frac * (cc - col_s)
            td[t] = frac * D
            h = _bilinear(dem, r, c)
            th_[t] = h
            ri = min(max(int(math.floor(r)), 0), ny - 1)
            ci = min(max(int(math.floor(c)), 0), nx - 1)
            tg[t] = h + clutter[ri, ci]
            tz[t] = zone[ri, ci]
            if not math.isfinite(tg[t]):
                bad = True
        if bad:
            status[cell] = 2
            continue
        ni = n1 + nt  # inner points 1..ni
        if ni < 1:
            status[cell] = 1
            continue
        o = out[:, cell]
        hrs = hn + hrg
        # zone sections: the last radial point, the receiver's points and the receiver
        for q in range(5):
            zq[q] = zs[q]
        d_prev = dk[n1]
        lo = 0.0 if n1 == 0 else (n1 - 0.5) * s
        z_prev = zk[n1]
        for t in range(nt + 1):
            d_next = td[t] if t < nt else D
            mid = 0.5 * (d_prev + d_next)
            _zone_add(z_prev, mid - lo, zq)
            lo = mid
            d_prev = d_next
            z_prev = tz[t] if t < nt else zn
        _zone_add(zn, D - lo, zq)
        o[_DTOT] = D
        o[_H1] = h1
        o[_HN] = hn
        o[_ZONE1] = z1
        o[_ZONEN] = zn
        o[_OMEGA] = zq[4] / D
        o[_DTM] = zq[1]
        o[_DLM] = zq[3]
        # least-squares smooth earth (Attachment 1 §5.6.1): the radial's sums, then the last segments
        w1 = v1
        w2 = v2
        d0 = dk[n1]
        h0 = hk[n1]
        for t in range(nt + 1):
            d = td[t] if t < nt else D
            h = th_[t] if t < nt else hn
            dd = d - d0
            w1 += dd * (h + h0)
            w2 += dd * (h * (2.0 * d + d0) + h0 * (d + 2.0 * d0))
            d0 = d
            h0 = h
        hst_n = (2.0 * w1 * D - w2) / D**2
        hsr_n = (w2 - w1 * D) / D**2
        o[_HST_N] = hst_n
        o[_HSR_N] = hsr_n
        # §5.6.2: the highest obstruction above the Tx-Rx line lowers the smooth surface
        hobs = _NEG
        a_t = _NEG
        a_rr = _NEG
        if n1 >= 1:
            i = _hull_linear(px, py, pk, npn, (hrs - hts) / D)
            d = dk[i]
            hobs = hk[i] - (hts * (D - d) + hrs * d) / D
            d = dk[at_k]
            a_t = (hk[at_k] - (hts * (D - d) + hrs * d) / D) / d
            i = _hull_tangent(px, py, pk, npn, D, hrs)
            d = dk[i]
            a_rr = (hk[i] - (hts * (D - d) + hrs * d) / D) / (D - d)
        for t in range(nt):
            d = td[t]
            H = th_[t] - (hts * (D - d) + hrs * d) / D
            hobs = max(hobs, H)
            a_t = max(a_t, H / d)
            a_rr = max(a_rr, H / (D - d))
        if hobs <= 0.0:
            hstp, hsrp = hst_n, hsr_n
        else:
            hstp = hst_n - hobs * a_t / (a_t + a_rr)
            hsrp = hsr_n - hobs * a_rr / (a_t + a_rr)
        hstd = min(hstp, h1)
        hsrd = min(hsrp, hn)
        o[_HSTD] = hstd
        o[_HSRD] = hsrd
        # horizons (§5.1-5.3): indices over the whole profile, 1..n1 radial, n1 + 1.. the receiver's
        # (maxima of the arctan arguments: arctan is monotone, one arctan per maximum)
        arg = _NEG
        it = 1
        if n1 >= 1:
            arg = th_best
            it = it_run
        for t in range(nt):
            d = td[t]
            v = (th_[t] - hts) / (1000.0 * d) - d / (2.0 * ae)
            if v > arg:
                arg = v
                it = n1 + 1 + t
        th_max = 1000.0 * math.atan(arg)
        th_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * D) - D / (2.0 * ae))
        th_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * D) - D / (2.0 * ae))
        if th_max > th_td:
            theta_t = th_max
            arg = _NEG
            ir = 1
            if n1 >= 1:
                ir = _hull_tangent(cx, cy, ck, ncn, D, hrs - 500.0 * D * D / ae)
                d = dk[ir]
                arg = (hk[ir] - hrs) / (1000.0 * (D - d)) - (D - d) / (2.0 * ae)
            for t in range(nt):
                d = td[t]
                v = (th_[t] - hrs) / (1000.0 * (D - d)) - (D - d) / (2.0 * ae)
                if v >= arg:
                    arg = v
                    ir = n1 + 1 + t
            theta_r = 1000.0 * math.atan(arg)
        else:
            it = _bullington_point(dk, hk, n1, td, th_, nt, D, hts, hrs, ae, lam)
            ir = it
            theta_t = th_td
            theta_r = th_rd
        o[_THETA_T] = theta_t
        o[_THETA_R] = theta_r
        o[_DLT] = _at(dk, td, n1, it)
        o[_DLR] = D - _at(dk, td, n1, ir)
        # roughness between the horizons (§5.6.3)
        hst = min(hst_n, h1)
        hsr = min(hsr_n, hn)
        slope = (hsr - hst) / D
        o[_HM] = _roughness(dk, hk, n1, td, th_, min(it, ir), max(it, ir), hst, slope)
        # Bullington reductions: clutter profile and smooth profile, radii ae and ab
        htc1 = hts - hstd
        hrc1 = hrs - hsrd
        if has_clutter:
            _bull_actual(dk, gk, n1, td, tg, nt, D, hts, hrs, ae, lam, sa_k, ax, ay, ak, nan_, o, _A50_STIM)
        else:
            _bull_actual(dk, gk, n1, td, tg, nt, D, hts, hrs, ae, lam, sa_k, cx, cy, ck, ncn, o, _A50_STIM)
        _bull_smooth(dk, n1, td, nt, D, s, htc1, hrc1, ae, lam, o, _S50_STIM)
        if with_beta:
            _bull_actual(dk, gk, n1, td, tg, nt, D, hts, hrs, ab, lam, sb_k, bx, by, bk, nbn, o, _AB_STIM)
            _bull_smooth(dk, n1, td, nt, D, s, htc1, hrc1, ab, lam, o, _SB_STIM)
        status[cell] = 0


@nb.njit(cache=True)
def _sort_cells(radial, dist, n_rad):
    """Cells grouped by radial (counting sort), each group in order of distance; group starts."""
    m = radial.size
    counts = np.zeros(n_rad + 1, np.int64)
    for i in range(m):
        counts[radial[i] + 1] += 1
    for j in range(n_rad):
        counts[j + 1] += counts[j]
    order = np.empty(m, np.int64)
    fill = counts[:-1].copy()
    for i in range(m):
        r = radial[i]
        order[fill[r]] = i
        fill[r] += 1
    for j in range(n_rad):
        a, b = counts[j], counts[j + 1]
        if b - a > 1:
            seg = order[a:b]
            order[a:b] = seg[np.argsort(dist[seg], kind="mergesort")]
    return order, counts


@nb.njit(cache=True, parallel=True)
def _all_radials(starts, n_rad, dem, clutter, zone, row_s, col_s, dx_m, dy_m, s, cell_d, cell_r, cell_c,
                 cell_h, cell_z, n_tail, htg, hrg, lam, ae, ab, with_beta, has_clutter, out, status):
    for j in nb.prange(n_rad):
        a, b = starts[j], starts[j + 1]
        if b > a:
            _one_radial(j, n_rad, a, b, dem, clutter, zone, row_s, col_s, dx_m, dy_m, s, cell_d, cell_r,
                        cell_c, cell_h, cell_z, n_tail, htg, hrg, lam, ae, ab, with_beta, has_clutter, out, status)


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` grown by ``k`` cells in each direction (a (2k+1)² square)."""
    out = mask.copy()
    ny, nx = mask.shape
    for dy in range(-k, k + 1):
        for dx in range(-k, k + 1):
            out[max(dy, 0):ny + min(dy, 0), max(dx, 0):nx + min(dx, 0)] |= \
                mask[max(-dy, 0):ny + min(-dy, 0), max(-dx, 0):nx + min(-dx, 0)]
    return out


def _radial_sorted(*, dem, clutter, zone, row_s, col_s, dx_m, dy_m, step_km, rows, cols, dist_km, htg, hrg, f_ghz,
                   ae, ab, with_beta, n_rad, n_tail):
    """The kernel's output in its own cell order: ``(out, status, order)``, ``out[:, i]`` and
    ``status[i]`` for the cell ``order[i]`` of the arguments."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    east = (cols + 0.5 - col_s) * dx_m
    south = (rows + 0.5 - row_s) * dy_m
    ang = np.arctan2(south, east) % (2.0 * np.pi)
    radial = np.rint(ang / (2.0 * np.pi / n_rad)).astype(np.int64) % n_rad
    dist = np.asarray(dist_km, dtype=np.float64)
    order, starts = _sort_cells(radial, dist, n_rad)
    m = rows.size
    out = np.empty((len(QUANTITIES), m))  # one row per quantity
    status = np.full(m, 3, dtype=np.int8)
    clutter_f = np.ascontiguousarray(clutter, dtype=np.float64)
    zone_f = np.ascontiguousarray(zone, dtype=np.float64)
    r_o, c_o = rows[order], cols[order]
    dem_k = np.array(dem, dtype=np.float64)
    if np.isnan(dem_k).any():
        # nodata: widened by 2 cells, so that a radial passing near a nodata cell that the cell's
        # own line touches sees it too; such cells go to the exact path, which decides on the DEM
        dem_k[_dilate(np.isnan(dem_k), 2)] = np.nan
    _all_radials(starts, n_rad, dem_k, clutter_f, zone_f,
                 float(row_s), float(col_s), float(dx_m), float(dy_m), float(step_km), dist[order], r_o, c_o,
                 np.ascontiguousarray(dem[r_o, c_o], dtype=np.float64), zone_f[r_o, c_o], int(n_tail),
                 float(htg), float(hrg), C_GM / float(f_ghz), float(ae), float(ab), bool(with_beta),
                 bool(np.any(clutter_f != 0.0)), out, status)
    return out, status, order


def radial_quantities(*, dem, clutter, zone, row_s, col_s, dx_m, dy_m, step_km, rows, cols, dist_km, htg, hrg,
                      f_ghz, ae, ab, with_beta, n_rad, n_tail):
    """Profile reductions of the cells ``(rows, cols)`` of one transmitter, from ``n_rad`` radials.

    ``dem`` (m amsl, NaN unknown), ``clutter`` (R per DEM cell, m) and ``zone`` (1, 3, 4 per DEM
    cell) share one shape; ``(row_s, col_s)`` is the transmitter in fractional grid coordinates,
    ``dx_m, dy_m`` the cell sides, ``step_km`` the sample step ``s``. Returns ``(q, status)``:
    ``q`` the dict of :func:`._p1812_batch.profile_quantities` for the cells with status 0, in
    the order of the arguments.
    """
    out, status_o, order = _radial_sorted(dem=dem, clutter=clutter, zone=zone, row_s=row_s, col_s=col_s, dx_m=dx_m,
                                          dy_m=dy_m, step_km=step_km, rows=rows, cols=cols, dist_km=dist_km,
                                          htg=htg, hrg=hrg, f_ghz=f_ghz, ae=ae, ab=ab, with_beta=with_beta,
                                          n_rad=n_rad, n_tail=n_tail)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    status = status_o[inverse]
    keep = inverse[status == 0]
    return {k: out[i, keep] for i, k in enumerate(QUANTITIES)}, status


def fast_losses(*, dem, clutter, zone, row_s, col_s, dx_m, dy_m, step_km, rows, cols, dist_km, htg, hrg, f_ghz,
                p, pol, DN, N0, phi_t, lam_t, phi_r, lam_r, n_rad, n_tail, chunk=LOSS_CHUNK, threads=None):
    """Basic transmission loss Lb [dB] of the cells ``(rows, cols)`` from one transmitter (median
    over locations, pL = 50, sigmaL = 0, as the exact area mode), and the status per cell (0 done;
    else NaN and the caller evaluates the cell exactly). ``phi_r, lam_r``: the cells' latitudes
    and longitudes. Equations after the profile reductions: :func:`._p1812_batch.loss_from_quantities`,
    on chunks of at most ``chunk`` cells run on ``threads`` threads (default numba's thread count;
    numpy's ufuncs release the GIL). Every equation is element-wise per cell, so the values do not
    depend on the chunking or the threads.
    """
    ae = EARTH_RADIUS_KM * 157.0 / (157.0 - DN)  # Eqs (6), (7a)
    ab = EARTH_RADIUS_KM * K_BETA  # Eq (7b)
    with_beta = p != 50.0
    out, status_o, order = _radial_sorted(dem=dem, clutter=clutter, zone=zone, row_s=row_s, col_s=col_s, dx_m=dx_m,
                                          dy_m=dy_m, step_km=step_km, rows=rows, cols=cols, dist_km=dist_km,
                                          htg=htg, hrg=hrg, f_ghz=f_ghz, ae=ae, ab=ab, with_beta=with_beta,
                                          n_rad=n_rad, n_tail=n_tail)
    ok = np.flatnonzero(status_o == 0)  # positions in the kernel's order
    status = np.empty_like(status_o)
    status[order] = status_o
    lb = np.full(status.size, np.nan)
    cells = order[ok]
    phi_r = np.asarray(phi_r, dtype=np.float64)[cells]
    lam_r = np.asarray(lam_r, dtype=np.float64)[cells]
    all_ok = ok.size == status.size

    def one_chunk(a: int, b: int) -> None:
        m = b - a
        qq = {k: (out[i, a:b] if all_ok else out[i, ok[a:b]]) for i, k in enumerate(QUANTITIES)}
        qq["htg"] = np.full(m, float(htg))
        qq["hrg"] = np.full(m, float(hrg))
        qq["hts"] = qq["h1"] + htg
        qq["hrs"] = qq["hn"] + hrg
        qq["bull"] = {key: (qq[key + "_stim"], qq[key + "_srim"], qq[key + "_numax"])
                      for key in (("a50", "s50", "ab", "sb") if with_beta else ("a50", "s50"))}
        phi = _path_centre_latitudes(phi_t, lam_t, phi_r[a:b], lam_r[a:b], 0.5 * qq["dtot"])
        lb[cells[a:b]] = loss_from_quantities(qq, f=f_ghz, p=p, pol=pol, phi=phi, pL=50.0, sigmaL=0.0, DN=DN, N0=N0,
                                              dct=500.0, dcr=500.0)["Lb"]

    n_thr = max(1, int(nb.get_num_threads() if threads is None else threads))
    size = max(1, min(int(chunk), max(_MIN_CHUNK, -(-ok.size // n_thr))))  # at least one chunk per thread
    bounds = [(a, min(a + size, ok.size)) for a in range(0, ok.size, size)]
    if n_thr == 1 or len(bounds) <= 1:
        for a, b in bounds:
            one_chunk(a, b)
    else:
        with ThreadPoolExecutor(max_workers=min(n_thr, len(bounds))) as pool:
            # each chunk in a copy of the caller's context: numpy's error state (np.errstate) as in one thread
            for fut in [pool.submit(contextvars.copy_context().run, one_chunk, a, b) for a, b in bounds]:
                fut.result()
    return lb, status
