"""Private numba kernels for the Hata and terrain models. Pure: arrays in, arrays out.

One transmitter's *footprint* is computed on a window of the grid around it by casting
``n_rays`` radials from the transmitter and following each one outward from one crossing of
a line through cell centres to the next (rows ``Y = i`` and columns ``X = j`` in centre
coordinates). There the terrain is exactly linear between the two centres on the line, so
the profile along a ray is the bilinear DEM surface sampled where it is exact. Along a ray
the kernel keeps

* the steepest elevation angle seen so far from the transmitter (line of sight, with the
  effective-earth-radius curvature ``d² / (2 k R)``), and
* the upper convex hull of the terrain profile in the transmitter's tangent-plane frame
  ``(d, z − d²/(2kR))`` (straight rays are straight lines there), so that the steepest
  obstacle seen *from a receiver* is a tangent query on the hull (galloping search).

A cell is evaluated as a receiver at the first crossing inside it, against the terrain
before it — the exact per-cell reference in ``tests/naive.py`` samples the straight line to
the cell centre the same way, excluding the transmitter's and the receiver's own cells.

**Two rays per cell.** Each cell takes its value from the two rays whose azimuths bracket
the azimuth of its centre, weighted by angular proximity (``w = 1 − tan|φ − θ| / tan Δ``,
Δ the ray spacing): a linear interpolation across the ray fan that approximates the straight
line to the cell centre far better than the nearest ray alone. Rays add ``w·v`` and ``w``
into two window buffers; the two rays bracketing a cell are neighbours, and the parallel
driver never runs neighbouring rays at once, so no locks are needed and the sums are
deterministic. A ray contributes only to cells where it crosses one of the cell's centre
lines. With ``n_rays ≥ 1.45 · 2π R / cell`` the nearer bracketing ray passes within
``c / (2√2)`` of the centre and so always does, and every cell is reached
(:func:`_finish_rows` counts the cells inside the radius that no ray reached: must be 0,
tested); with the default 1.5 the other ray does too for most cells.

**Receiver value.** ``signal = eirp − max(L_fs(d), A + B log10 d_km) − L_diff + G_sector``:
``A, B`` are the base model's coefficients, ``L_fs`` free space (the empirical model is never
allowed below free-space loss), ``L_diff`` the Bullington equivalent knife-edge loss
``J(ν_b)`` of ITU-R P.526-15 §4.5.1 / eq. (31) when the path is obstructed (0 on line of
sight): obstruction is decided by the horizon margin interpolated between the two rays,
``ν_b`` comes from the ray nearest to the cell centre (at least 0, grazing, where the
interpolated margin says obstructed); ``G_sector`` is the horizontal sector pattern.

Cells on DEM nodata (NaN) never block and, as receivers, get the base-model value without
terrain loss; they are counted.

Each kernel has a slow reference in ``tests/naive.py``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..constants import EARTH_RADIUS_M

_R_EARTH = EARTH_RADIUS_M
#: Oversampling of the outer ring: rays per cell at the radius.
RAY_OVERSAMPLING = 1.5
#: Minimum oversampling: the nearest ray then passes within c/(2√2) of every cell centre,
#: so it crosses one of the cell's centre lines inside the cell (tested).
MIN_RAY_OVERSAMPLING = 1.45
#: Oversampling when each cell takes its nearest ray only, and its minimum.
RAY_OVERSAMPLING_NEAREST = 1.45
MIN_RAY_OVERSAMPLING_NEAREST = 1.45
#: Fewest rays per transmitter (keeps tan(Δ) ≈ Δ so the bracketing guarantee holds).
MIN_RAYS = 32
#: ν stored for unobstructed paths: J(ν) = 0 at and below it (ITU-R P.526 eq. 31).
NU_LOS = -0.78
#: Number of ray chunks of the single-site parallel driver (fixed → deterministic).
N_CHUNKS = 8


@nb.njit(cache=True, inline="always")
def _knife_edge(nu):
    if nu <= -0.78:
        return 0.0
    x = nu - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(x * x + 1.0) + x)


#: Lowest plausible land elevation (m); the Dead Sea shore is about −430 m. Lower values are an
#: unmasked nodata value (e.g. −32768).
DEM_MIN_M = -500.0

#: The table of log10(d / 1 km) behind the base path loss: 1 m steps below LOG_FINE_MAX_M, then
#: LOG_COARSE_STEP_M steps up to LOG_MAX_M; linear interpolation, error < 0.0003 in log10 from
#: LOG_EXACT_BELOW_M on (< 0.01 dB of Hata loss); exact below it and past the table.
LOG_FINE_MAX_M = 1024
LOG_COARSE_STEP_M = 16
LOG_MAX_M = 204_800
LOG_EXACT_BELOW_M = 16.0


def log10_km_table() -> np.ndarray:
    """log10(d / 1 km) at the table's distances (entry 0 unused)."""
    fine = np.arange(LOG_FINE_MAX_M, dtype=np.float64)
    fine[0] = 1.0
    coarse = np.arange(LOG_FINE_MAX_M, LOG_MAX_M + 2 * LOG_COARSE_STEP_M, LOG_COARSE_STEP_M, dtype=np.float64)
    return np.log10(np.concatenate([fine, coarse]) / 1000.0)


#: A module constant, so that numba freezes it into the kernels (and LLVM knows that no store
#: can change it, which lets the sweep's row loop run in SIMD).
LOG10_KM = log10_km_table()
#: Last valid interpolation position in LOG10_KM.
LOG10_KM_LAST = float(LOG10_KM.shape[0] - 2)


@nb.njit(cache=True, inline="always")
def _log10_km_pos(d):
    """Fractional position of distance ``d`` (m) in :data:`LOG10_KM`."""
    if d < LOG_FINE_MAX_M:
        return d
    return d * (1.0 / LOG_COARSE_STEP_M) + (LOG_FINE_MAX_M - LOG_FINE_MAX_M / LOG_COARSE_STEP_M)


@nb.njit(cache=True, inline="always")
def _log10_km(d):
    """log10(d / 1000) from :data:`LOG10_KM`; exact below LOG_EXACT_BELOW_M and past the table."""
    x = _log10_km_pos(d)
    if d < LOG_EXACT_BELOW_M or x > LOG10_KM_LAST:
        return math.log10(d * 1e-3)
    q = int(x)
    f = x - q
    return LOG10_KM[q] + f * (LOG10_KM[q + 1] - LOG10_KM[q])


@nb.njit(cache=True, inline="always")
def _base_signal(d, ec, er, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db):
    """EIRP minus the base loss ``max(fa + fb L, pa + pb L)`` (L = log10 d_km: the empirical model,
    never below free space) plus the horizontal sector gain (3GPP TR 36.942), at distance ``d``
    and offsets ``ec`` east, ``er`` south of the transmitter (m)."""
    lg = _log10_km(d)
    pl = fa + fb * lg
    pl2 = pa + pb * lg
    if pl2 > pl:
        pl = pl2
    g = 0.0
    if sector:
        phi = math.atan2(ec, -er) - az_rad
        phi = (phi + math.pi) % (2.0 * math.pi) - math.pi
        g = -min(12.0 * (phi / bw_rad) ** 2, am_db)
    return eirp - pl + g


@nb.njit(cache=True, inline="always")
def _bilinear(dem, y, x):
    """Elevation at fractional (row, col) *centre* coordinates (cell centres at integers),
    bilinear between the four surrounding cells, clamped at the grid edge; NaN if any is NaN."""
    ny, nx = dem.shape
    i0 = int(math.floor(y))
    j0 = int(math.floor(x))
    fy = y - i0
    fx = x - j0
    if i0 < 0:
        i0 = 0
        fy = 0.0
    elif i0 >= ny - 1:
        i0 = ny - 2 if ny > 1 else 0
        fy = 1.0 if ny > 1 else 0.0
    if j0 < 0:
        j0 = 0
        fx = 0.0
    elif j0 >= nx - 1:
        j0 = nx - 2 if nx > 1 else 0
        fx = 1.0 if nx > 1 else 0.0
    i1 = i0 + 1 if ny > 1 else i0
    j1 = j0 + 1 if nx > 1 else j0
    top = dem[i0, j0] + fx * (dem[i0, j1] - dem[i0, j0])
    bot = dem[i1, j0] + fx * (dem[i1, j1] - dem[i1, j0])
    return top + fy * (bot - top)


@nb.njit(cache=True)
def _bullington_nu(hx, hz, m, d, zr, z_tx, s_tim, s_tr, two_over_lambda):
    """Bullington ν for a receiver at (d, zr) behind the profile hull hx[:m], hz[:m] (NLOS).

    The transmitter's steepest ray has slope ``s_tim`` (the running horizon; its sample is
    on the hull); the receiver's steepest ray is the tangent from the receiver to the same
    hull (binary search). ν of the intersection point (ITU-R P.526-15 §4.5.1), at least
    :data:`NU_LOS`.
    """
    # tangent vertex = first k whose outgoing edge is not steeper than the line k → receiver;
    # usually near the end of the hull (the last ridge), so gallop from the end, then bisect
    hi = m - 1
    step = 1
    lo = hi - step
    while lo >= 0 and (hz[lo + 1] - hz[lo]) * (d - hx[lo]) <= (zr - hz[lo]) * (hx[lo + 1] - hx[lo]):
        hi = lo
        step *= 2
        lo = hi - step
    lo = lo + 1 if lo >= 0 else 0
    while lo < hi:
        mid = (lo + hi) // 2
        if (hz[mid + 1] - hz[mid]) * (d - hx[mid]) <= (zr - hz[mid]) * (hx[mid + 1] - hx[mid]):
            hi = mid
        else:
            lo = mid + 1
    dd = d - hx[lo]
    if dd <= 1e-9:
        dd = 1e-9
    s_r = (hz[lo] - zr) / dd
    den = s_tim + s_r
    if den > 0.0:
        db = (zr - z_tx + s_r * d) / den
    else:
        db = hx[lo]
    lo_b = 1e-3 * d
    hi_b = d - 1e-3 * d
    if db < lo_b:
        db = lo_b
    elif db > hi_b:
        db = hi_b
    h = (s_tim - s_tr) * db
    nu = h * math.sqrt(two_over_lambda * d / (db * (d - db)))
    return nu if nu > NU_LOS else NU_LOS


@nb.njit(cache=True)
def _walk_rays(dem, r0, c0, vbuf, wbuf, nbuf, kx, kxs, dy, row_f, col_f, z_tx, h_rx, inv2kr,
               radius_m, two_over_lambda, ray_mode, n_rays, k0, k1, t_end, hx, hz, nearest):
    """Walk rays ``k0 .. k1-1`` of one transmitter, accumulating into the cells they bracket.

    A ray is followed from one crossing of a line through cell centres (a row-centre line
    ``Y = i`` or a column-centre line ``X = j``, centre coordinates) to the next. At each
    crossing, (1) the cell containing the crossing point is evaluated as a receiver — once per
    ray, at the first crossing inside it, i.e. against the terrain *before* the cell — and
    (2) the terrain there, exactly linear between the two centres on that line, joins the
    profile (running horizon slope and, for Bullington, the upper hull). A ray passing
    within ``c / (2√2)`` of a cell centre crosses one of its centre lines inside the cell.

    dem (ny, nx) float32, NaN = nodata. vbuf, wbuf (wny, wnx) float64 windows whose [0, 0]
    is grid cell (r0, c0): each ray adds ``w·v`` and ``w`` for every cell it evaluates whose
    centre's azimuth lies within one ray spacing Δ of the ray's, with
    ``w = 1 − tan|φ − θ| / tan Δ`` (or ``w = 1`` for the nearest ray when ``nearest``).
    ``v`` is the line-of-sight margin ``d·s_horizon − (z_receiver − z_tx)`` (m, ≤ 0 visible). With
    ``ray_mode`` 1 the ray nearest to the cell centre also writes the Bullington ν into
    ``nbuf`` (:data:`NU_LOS` where that ray sees the antenna). kx (wny,) metres per column
    for the window's rows; kxs metres per column at the site; dy metres per row; row_f,
    col_f the site's fractional grid index; z_tx the antenna height above datum (m);
    inv2kr = 1 / (2 k R). Receivers on DEM nodata keep the unobstructed value.
    """
    wny, wnx = vbuf.shape
    ny_d, nx_d = dem.shape
    r2 = radius_m * radius_m
    dth = 2.0 * math.pi / n_rays
    inv_tan = 1.0 / math.tan(dth)
    u_max = 0.5 * (1.0 + 1e-9) if nearest else 1.0
    i_site = int(math.floor(row_f))
    j_site = int(math.floor(col_f))
    inf = np.inf
    yy = row_f - 0.5
    xx = col_f - 0.5
    for k in range(k0, k1):
        th = dth * k
        st = math.sin(th)
        ct = math.cos(th)
        dcol = st / kxs
        drow = -ct / dy
        if drow > 1e-15:
            tci = (math.floor(yy) + 1.0 - yy) / drow
            tdi = 1.0 / drow
        elif drow < -1e-15:
            tci = (math.ceil(yy) - 1.0 - yy) / drow
            tdi = -1.0 / drow
        else:
            tci = inf
            tdi = inf
        if dcol > 1e-15:
            tcj = (math.floor(xx) + 1.0 - xx) / dcol
            tdj = 1.0 / dcol
        elif dcol < -1e-15:
            tcj = (math.ceil(xx) - 1.0 - xx) / dcol
            tdj = -1.0 / dcol
        else:
            tcj = inf
            tdj = inf
        m = 0
        s_tim = -inf
        i_last = i_site
        j_last = j_site
        i_sc = -1
        sc = 1.0
        while True:
            # next crossing: of a row-centre line (exact row ic) or a column-centre line
            if tci < tcj:
                tc = tci
                tci += tdi
                yc = yy + drow * tc
                xc = xx + dcol * tc
                ic = int(math.floor(yc + 0.5))
                jc = int(math.floor(xc + 0.5))
                row_line = True
            else:
                tc = tcj
                tcj += tdj
                yc = yy + drow * tc
                xc = xx + dcol * tc
                ic = int(math.floor(yc + 0.5))
                jc = int(math.floor(xc + 0.5))
                row_line = False
            if tc > t_end:
                break
            ii = ic - r0
            jj = jc - c0
            if ii < 0 or ii >= wny or jj < 0 or jj >= wnx:
                break
            if ic == i_site and jc == j_site:
                continue  # the transmitter's own cell: neither receiver nor obstacle
            # (1) receiver: the cell containing this crossing, once per ray
            if ic != i_last or jc != j_last:
                i_last = ic
                j_last = jc
                ecs = (jc + 0.5 - col_f) * kxs
                er = (ic + 0.5 - row_f) * dy
                along = ecs * st - er * ct
                cross = ecs * ct + er * st
                acr = abs(cross) * inv_tan
                if along > 0.0 and acr < along * u_max:
                    ec = (jc + 0.5 - col_f) * kx[ii]
                    d2 = ec * ec + er * er
                    if d2 <= r2:
                        if nearest:
                            w = 1.0
                        else:
                            w = 1.0 - acr / along
                        z = dem[ic, jc]
                        v = -1e9
                        nu = NU_LOS
                        if z == z and m > 0:
                            d = math.sqrt(d2)
                            zr = z + h_rx - d2 * inv2kr
                            # height of the horizon ray above the receiver (m): the slope margin
                            # times d, the same d for both rays of the cell, so sums keep the sign
                            v = s_tim * d - (zr - z_tx)
                            if v < -1e9:
                                v = -1e9
                            # diffraction from the ray nearest to the cell centre only
                            if ray_mode != 0 and v > 0.0 and acr <= 0.5 * (1.0 + 1e-9) * along:
                                nu = _bullington_nu(hx, hz, m, d, zr, z_tx, s_tim, (zr - z_tx) / d,
                                                    two_over_lambda)
                        vbuf[ii, jj] += w * v
                        wbuf[ii, jj] += w
                        if ray_mode != 0 and acr <= 0.5 * (1.0 + 1e-9) * along:
                            nbuf[ii, jj] = nu
            # (2) obstacle: terrain at the crossing, linear between the two centres on the line
            if row_line:
                j0 = int(math.floor(xc))
                f = xc - j0
                if j0 < 0:
                    z = dem[ic, 0]
                elif j0 >= nx_d - 1:
                    z = dem[ic, nx_d - 1]
                else:
                    z = dem[ic, j0] + f * (dem[ic, j0 + 1] - dem[ic, j0])
            else:
                i0 = int(math.floor(yc))
                f = yc - i0
                if i0 < 0:
                    z = dem[0, jc]
                elif i0 >= ny_d - 1:
                    z = dem[ny_d - 1, jc]
                else:
                    z = dem[i0, jc] + f * (dem[i0 + 1, jc] - dem[i0, jc])
            if ic != i_sc:
                rho = kx[ii] / kxs
                sc = math.sqrt(ct * ct + st * st * rho * rho)
                i_sc = ic
            dc_ = tc * sc
            dz = z - z_tx
            # a new horizon needs dz / d > s_tim (the curvature term only lowers it), which
            # spares the division at most crossings; NaN (nodata) never compares greater
            if dz > s_tim * dc_:
                s = dz / dc_ - dc_ * inv2kr
                if s > s_tim:
                    s_tim = s
            if dz == dz:
                if ray_mode != 0:
                    zm = z - dc_ * dc_ * inv2kr
                    xm = dc_
                    if m > 0 and xm <= hx[m - 1]:
                        xm = hx[m - 1] + 1e-6
                    while m >= 2 and ((hx[m - 1] - hx[m - 2]) * (zm - hz[m - 2])
                                      - (hz[m - 1] - hz[m - 2]) * (xm - hx[m - 2])) >= 0.0:
                        m -= 1
                    hx[m] = xm
                    hz[m] = zm
                    m += 1
                elif m == 0:
                    m = 1  # marks "some obstacle seen" for the line-of-sight mode


@nb.njit(cache=True)
def _finish_rows(dem, vbuf, wbuf, nbuf, ia, ib, r0, c0, kx, dy, row_f, col_f, radius_m, out_mode, eirp, fa, fb,
                 pa, pb, sector, az_rad, bw_rad, am_db):
    """Turn accumulated ray values into the output for window rows ``ia .. ib-1`` (in place).

    ``vbuf`` (summed margins) becomes: +inf outside the radius; inside, for ``out_mode`` 0
    (line of sight) 0.0 where visible and NaN where not; 1 (signal with loss)
    ``eirp − max(fa + fb L, pa + pb L) − L_d + G`` with ``L_d = 0`` where visible and
    ``J(max(ν, 0))`` (ν from ``nbuf``; at least grazing) where not; 2 (signal, line of sight
    only) the same without ``L_d`` where visible and NaN where not. Returns the number of cells inside the
    radius that no ray reached (must be 0) and the number of cells inside it on DEM nodata.
    """
    wnx = vbuf.shape[1]
    r2 = radius_m * radius_m
    r2_in = r2 * (1.0 - 1e-9)
    i_site = int(math.floor(row_f)) - r0
    j_site = int(math.floor(col_f)) - c0
    unhit = 0
    nodata = 0
    for ii in range(ia, ib):
        er = (r0 + ii + 0.5 - row_f) * dy
        kxi = kx[ii]
        for jj in range(wnx):
            ec = (c0 + jj + 0.5 - col_f) * kxi
            d2 = ec * ec + er * er
            site = ii == i_site and jj == j_site
            if d2 > r2 and not site:
                vbuf[ii, jj] = np.inf
                continue
            w = wbuf[ii, jj]
            if not (w > 0.0):
                if d2 <= r2_in:
                    unhit += 1
                vbuf[ii, jj] = np.inf
                continue
            v = vbuf[ii, jj] / w
            zc = dem[r0 + ii, c0 + jj]
            if zc != zc:
                nodata += 1
            if out_mode == 0:
                vbuf[ii, jj] = 0.0 if v <= 0.0 else np.nan
                continue
            if out_mode == 2 and v > 0.0:
                vbuf[ii, jj] = np.nan
                continue
            sig = _base_signal(max(math.sqrt(d2), 1.0), ec, er, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad,
                               am_db)
            if out_mode == 1 and v > 0.0:
                nu = nbuf[ii, jj]
                sig -= _knife_edge(nu if nu > 0.0 else 0.0)
            vbuf[ii, jj] = sig
    return unhit, nodata


@nb.njit(cache=True)
def _row_scale(geographic, lat_rows_rad, r0, wny, lat_s_rad, dlon_r, dx):
    """Metres per column for window rows (mean-latitude equirectangular on geographic grids)."""
    kx = np.empty(wny)
    for ii in range(wny):
        if geographic:
            kx[ii] = dlon_r * math.cos(0.5 * (lat_s_rad + lat_rows_rad[r0 + ii]))
        else:
            kx[ii] = dx
    return kx


@nb.njit(cache=True)
def _seed_site(vbuf, wbuf, nbuf, r0, c0, row_f, col_f):
    """The transmitter's own cell: visible, no terrain loss."""
    vbuf[int(math.floor(row_f)) - r0, int(math.floor(col_f)) - c0] = -1e9
    nbuf[int(math.floor(row_f)) - r0, int(math.floor(col_f)) - c0] = NU_LOS
    wbuf[int(math.floor(row_f)) - r0, int(math.floor(col_f)) - c0] = 1.0


@nb.njit(cache=True, parallel=True)
def _footprint_parallel(dem, geographic, lat_rows_rad, dlon_r, dx, dy, r0, c0, vbuf, wbuf, nbuf,
                        row_f, col_f, lat_s_rad, kxs, z_tx, h_rx, inv2kr, radius_m, two_over_lambda,
                        ray_mode, out_mode, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db,
                        n_rays, t_end, nearest):
    """One transmitter; rays split into N_CHUNKS chunks run in two passes (even, odd chunks).

    Adjacent chunks never run at once, so the two rays that bracket a cell never write it
    concurrently and the sums are the same whatever the thread count. ``vbuf`` and
    ``wbuf`` must be zero-filled. Returns (nodata cells, unhit cells).
    """
    wny = vbuf.shape[0]
    kx = _row_scale(geographic, lat_rows_rad, r0, wny, lat_s_rad, dlon_r, dx)
    nmax = vbuf.shape[0] + vbuf.shape[1] + 8
    _seed_site(vbuf, wbuf, nbuf, r0, c0, row_f, col_f)
    for p in range(2):
        for q in nb.prange(N_CHUNKS // 2):
            c = 2 * q + p
            k0 = (n_rays * c) // N_CHUNKS
            k1 = (n_rays * (c + 1)) // N_CHUNKS
            hx = np.empty(nmax)
            hz = np.empty(nmax)
            _walk_rays(dem, r0, c0, vbuf, wbuf, nbuf, kx, kxs, dy, row_f, col_f, z_tx, h_rx,
                                 inv2kr, radius_m, two_over_lambda, ray_mode, n_rays, k0, k1, t_end, hx, hz,
                                 nearest)
    nblk = 16
    unhit = np.zeros(nblk, dtype=np.int64)
    nodb = np.zeros(nblk, dtype=np.int64)
    for b in nb.prange(nblk):
        ia = (wny * b) // nblk
        ib = (wny * (b + 1)) // nblk
        unhit[b], nodb[b] = _finish_rows(dem, vbuf, wbuf, nbuf, ia, ib, r0, c0, kx, dy, row_f, col_f, radius_m, out_mode,
                                eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db)
    return nodb.sum(), unhit.sum()


@nb.njit(cache=True, parallel=True)
def _footprints_batch(dem, geographic, lat_rows_rad, dlon_r, dx, dy, vflat, wflat, nflat, offsets,
                      r0, c0, wny, wnx, row_f, col_f, lat_s_rad, kxs, z_tx, h_rx, inv2kr, radius_m,
                      two_over_lambda, ray_mode, out_mode, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad,
                      am_db, n_rays, t_end, nodata, unhit, nearest):
    """Many transmitters in parallel (one thread per transmitter, its rays in order).

    Site ``s`` uses ``vflat/wflat[offsets[s] : offsets[s] + wny[s]*wnx[s]]`` (zeroed here);
    its output is left in the ``vflat`` slice. Per-site counts go to ``nodata`` / ``unhit``.
    """
    for s in nb.prange(row_f.shape[0]):
        n = wny[s] * wnx[s]
        vb = vflat[offsets[s]:offsets[s] + n].reshape((wny[s], wnx[s]))
        wb = wflat[offsets[s]:offsets[s] + n].reshape((wny[s], wnx[s]))
        nb_ = nflat[offsets[s]:offsets[s] + n].reshape((wny[s], wnx[s]))
        vb[:, :] = 0.0
        wb[:, :] = 0.0
        nb_[:, :] = NU_LOS
        kx = _row_scale(geographic, lat_rows_rad, r0[s], wny[s], lat_s_rad[s], dlon_r, dx)
        nmax = wny[s] + wnx[s] + 8
        hx = np.empty(nmax)
        hz = np.empty(nmax)
        _seed_site(vb, wb, nb_, r0[s], c0[s], row_f[s], col_f[s])
        _walk_rays(dem, r0[s], c0[s], vb, wb, nb_, kx, kxs[s], dy, row_f[s], col_f[s], z_tx[s], h_rx,
                               inv2kr, radius_m[s], two_over_lambda[s], ray_mode, n_rays[s], 0, n_rays[s],
                               t_end[s], hx, hz, nearest)
        unhit[s], nodata[s] = _finish_rows(dem, vb, wb, nb_, 0, wny[s], r0[s], c0[s], kx, dy, row_f[s], col_f[s], radius_m[s],
                                out_mode, eirp[s], fa[s], fb[s], pa[s], pb[s], sector[s], az_rad[s], bw_rad[s],
                                am_db)


@nb.njit(cache=True)
def _merge(sig, r0, c0, best, serving, bits, n_sites, threshold, op_bit, site_row):
    """Merge one footprint window into a technology's rasters (best signal wins).

    Non-finite window values (outside the radius, or obstructed in line-of-sight-only
    mode) are skipped. Returns the number of cells at or above ``threshold``.
    """
    wny, wnx = sig.shape
    n_cov = 0
    for ii in range(wny):
        i = r0 + ii
        for jj in range(wnx):
            s = sig[ii, jj]
            if not (s > -np.inf and s < np.inf):
                continue
            j = c0 + jj
            b = best[i, j]
            if not (s <= b):  # also true when b is NaN
                best[i, j] = s
                serving[i, j] = site_row
            if s >= threshold:
                bits[i, j] |= op_bit
                if n_sites[i, j] < 65535:
                    n_sites[i, j] += 1
                n_cov += 1
    return n_cov


@nb.njit(cache=True, parallel=True)
def _disc_signal(sig, r0, c0, geographic, lat_rows_rad, dlon_r, dx, dy, row_f, col_f, lat_s_rad,
                 radius_m, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db):
    """Terrain-free signal on a window (Hata model): NaN outside ``radius_m``.

    Same path-loss form and sector pattern as :func:`_walk_rays`, evaluated at every cell
    centre directly (the bearing of each cell from ``atan2``); the transmitter may lie
    outside the window.
    """
    wny, wnx = sig.shape
    r2 = radius_m * radius_m
    for ii in nb.prange(wny):
        i = r0 + ii
        if geographic:
            kx = dlon_r * math.cos(0.5 * (lat_s_rad + lat_rows_rad[i]))
        else:
            kx = dx
        er = (i + 0.5 - row_f) * dy
        for jj in range(wnx):
            ec = (c0 + jj + 0.5 - col_f) * kx
            d2 = ec * ec + er * er
            if d2 > r2:
                sig[ii, jj] = np.nan
                continue
            d = max(math.sqrt(d2), 1.0)
            lg = math.log10(d * 1e-3)
            pl = max(fa + fb * lg, pa + pb * lg)
            g = 0.0
            if sector:
                phi = math.atan2(ec, -er) - az_rad
                phi = (phi + math.pi) % (2.0 * math.pi) - math.pi
                g = -min(12.0 * (phi / bw_rad) ** 2, am_db)
            sig[ii, jj] = eirp - pl + g


@nb.njit(cache=True, parallel=True)
def los_masks(out):
    """(visible, in_radius) from a line-of-sight window (±inf beyond the radius, NaN hidden,
    finite visible), in one pass instead of numpy's four."""
    ny, nx = out.shape
    visible = np.empty((ny, nx), dtype=np.bool_)
    in_radius = np.empty((ny, nx), dtype=np.bool_)
    for i in nb.prange(ny):
        for j in range(nx):
            v = out[i, j]
            inside = abs(v) != np.inf
            in_radius[i, j] = inside
            visible[i, j] = inside & (v == v)
    return visible, in_radius
