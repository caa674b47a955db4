"""Private numba kernels for the Hata and terrain models. Pure: arrays in, arrays out.

One transmitter's *footprint* is computed on a window of the grid around it by casting
``n_rays`` radials from the transmitter and walking each one outward through every cell it
crosses (Amanatides–Woo traversal). Along a ray the kernel keeps

* the steepest elevation angle seen so far from the transmitter (line of sight, with the
  effective-earth-radius curvature ``d² / (2 k R)``), taken at the entry and the exit of each
  crossed cell, and
* the upper convex hull of the terrain profile in the transmitter's tangent-plane frame
  ``(d, z − d²/(2kR))`` (straight rays are straight lines there), so that the steepest
  obstacle seen *from a receiver* is a tangent query on the hull, O(log n).

**Cell ownership.** Every cell is *owned* by the ray whose azimuth is nearest to the cell
centre's azimuth (measured in the window's local metric frame). Only the owner writes the
cell, so no two rays write the same cell (apart from exact ties, settled deterministically),
rays can run in parallel without locks, and each cell's value comes from the ray that passes
closest to its centre. With ``n_rays ≥ 1.1 · 2π R / cell`` the owning ray passes within
0.46 cell of the centre, hence through the cell: every cell within the radius is written
(counted by :func:`_count_unhit`, tested).

**Receiver value.** ``signal = eirp − max(L_fs(d), A + B log10 d_km) − L_diff + G_sector``:
``A, B`` are the base model's coefficients, ``L_fs`` free space (the empirical model is never
allowed below free-space loss), ``L_diff`` the Bullington equivalent knife-edge loss
``J(ν_b)`` of ITU-R P.526-15 §4.5.1 / eq. (31) when the path is obstructed (0 on line of
sight), and ``G_sector`` the horizontal sector pattern of the owning ray's azimuth.

Cells on DEM nodata (NaN) never block and, as receivers, get the base-model value without
terrain loss; they are counted.

Each kernel has a slow reference in ``tests/naive.py``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_R_EARTH = 6_371_008.8
#: Relative tolerance on the ownership test (both neighbours claim an exact tie).
_TIE = 1e-9
#: Oversampling of the outer ring: rays per cell at the radius.
RAY_OVERSAMPLING = 2.0
#: Minimum oversampling that still guarantees every cell is reached (tested).
MIN_RAY_OVERSAMPLING = 1.05
#: Number of ray chunks of the single-site parallel driver (fixed → deterministic).
N_CHUNKS = 8


@nb.njit(cache=True, inline="always")
def _knife_edge(nu):
    if nu <= -0.78:
        return 0.0
    x = nu - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(x * x + 1.0) + x)


@nb.njit(cache=True, inline="always")
def _log10_km(d, lut, inv_step):
    """log10(d / 1000) from a table of log10 at 1/inv_step metre steps (linear interpolation;
    error < 0.0003 in log10 from 16 steps on), exact below 16 steps or past the table."""
    x = d * inv_step
    q = int(x)
    if q < 16 or q + 1 >= lut.shape[0]:
        return math.log10(d * 1e-3)
    f = x - q
    return lut[q] + f * (lut[q + 1] - lut[q])


def log10_table(max_distance_m: float, step_m: float = 1.0) -> np.ndarray:
    """Table ``log10(q · step_m / 1000)`` for q = 0 … max/step + 2 (entry 0 unused)."""
    n = int(math.ceil(max_distance_m / step_m)) + 3
    q = np.arange(n, dtype=np.float64)
    q[0] = 1.0
    return np.log10(q * step_m / 1000.0)


@nb.njit(cache=True)
def _bullington(hx, hz, m, d, zr, z_tx, s_tr, two_over_lambda):
    """Bullington loss for a receiver at (d, zr) over the profile hull hx[:m], hz[:m].

    Both the transmitter's and the receiver's steepest rays are tangents to the same hull
    (binary searches), so the construction is consistent and monotone in the heights.
    """
    # transmitter-side tangent: first vertex whose outgoing edge is not steeper than the ray to it
    lo = 0
    hi = m - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if (hz[mid + 1] - hz[mid]) * hx[mid] <= (hz[mid] - z_tx) * (hx[mid + 1] - hx[mid]):
            hi = mid
        else:
            lo = mid + 1
    s_t = (hz[lo] - z_tx) / hx[lo]
    # receiver-side tangent: edge slope from mid to mid+1 <= slope from mid to the receiver
    lo = 0
    hi = m - 1
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
    den = s_t + s_r
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
    h = (s_t - s_tr) * db
    nu = h * math.sqrt(two_over_lambda * d / (db * (d - db)))
    return _knife_edge(nu)


@nb.njit(cache=True)
def _walk_rays(dem, terrain, r0, c0, sig, kx, kxs, dy, row_f, col_f, z_tx, h_rx, inv2kr,
               radius_m, two_over_lambda, diffraction, eirp, fa, fb, pa, pb,
               sector, az_rad, bw_rad, am_db, n_rays, k0, k1, t_end, hx, hz, lut, inv_step):
    """Walk rays ``k0 .. k1-1`` of one transmitter, writing the cells they own into ``sig``.

    dem (ny, nx) float32 (NaN = nodata; unused when ``terrain`` is False); sig (wny, wnx)
    float32 window whose [0, 0] is grid cell (r0, c0); kx (wny,) metres per column for the
    window's rows; kxs metres per column at the site (ray directions); dy metres per row;
    row_f, col_f the site's fractional grid index; z_tx transmitter height above datum (m);
    inv2kr = 1 / (2 k R); diffraction 0 = line of sight only (obstructed → NaN),
    1 = Bullington knife edge. Path loss ``max(fa + fb L, pa + pb L)``, ``L = log10(d_km)``.
    Returns the number of owned cells on DEM nodata.
    """
    wny, wnx = sig.shape
    r2 = radius_m * radius_m
    n_nodata = 0
    half = math.pi / n_rays
    tan_h = math.tan(half) * (1.0 + _TIE) + 1e-12
    i_site = int(math.floor(row_f))
    j_site = int(math.floor(col_f))
    for k in range(k0, k1):
        th = 2.0 * math.pi * k / n_rays
        st = math.sin(th)
        ct = math.cos(th)
        g = 0.0
        if sector:
            phi = th - az_rad
            phi = (phi + math.pi) % (2.0 * math.pi) - math.pi
            g = -min(12.0 * (phi / bw_rad) ** 2, am_db)
        dcol = st / kxs
        drow = -ct / dy
        i = i_site
        j = j_site
        inf = np.inf
        if dcol > 1e-15:
            stepj = 1
            tmj = (j + 1 - col_f) / dcol
            tdj = 1.0 / dcol
        elif dcol < -1e-15:
            stepj = -1
            tmj = (j - col_f) / dcol
            tdj = -1.0 / dcol
        else:
            stepj = 0
            tmj = inf
            tdj = inf
        if drow > 1e-15:
            stepi = 1
            tmi = (i + 1 - row_f) / drow
            tdi = 1.0 / drow
        elif drow < -1e-15:
            stepi = -1
            tmi = (i - row_f) / drow
            tdi = -1.0 / drow
        else:
            stepi = 0
            tmi = inf
            tdi = inf
        t_in = 0.0
        m = 0
        s_tim = -inf
        first = True
        i_sc = -1
        sc = 1.0
        d_in = 0.0
        inv_in = 0.0
        while True:
            t_out = tmi if tmi < tmj else tmj
            ii = i - r0
            jj = j - c0
            if not first:
                ecs = (j + 0.5 - col_f) * kxs
                er = (i + 0.5 - row_f) * dy
                along = ecs * st - er * ct
                cross = ecs * ct + er * st
                if along > 0.0 and abs(cross) <= along * tan_h:
                    ec = (j + 0.5 - col_f) * kx[ii]
                    d2 = ec * ec + er * er
                    if d2 <= r2:
                        d = math.sqrt(d2)
                        loss = 0.0
                        if terrain:
                            z = dem[i, j]
                            if math.isnan(z):
                                n_nodata += 1
                            elif m > 0:
                                zr = z + h_rx - d2 * inv2kr
                                s_tr = (zr - z_tx) / d
                                if s_tim > s_tr:
                                    if diffraction == 0:
                                        loss = inf
                                    else:
                                        loss = _bullington(hx, hz, m, d, zr, z_tx, s_tr, two_over_lambda)
                        if loss == inf:
                            sig[ii, jj] = np.nan
                        else:
                            lg = _log10_km(d, lut, inv_step)
                            pl = fa + fb * lg
                            pl2 = pa + pb * lg
                            if pl2 > pl:
                                pl = pl2
                            sig[ii, jj] = eirp - pl - loss + g
            # obstacle update (this cell blocks the cells behind it)
            if terrain:
                if i != i_sc:
                    rho = kx[ii] / kxs
                    sc = math.sqrt(ct * ct + st * st * rho * rho)
                    i_sc = i
                d_out = t_out * sc
                inv_out = 1.0 / d_out
                if not first:
                    z = dem[i, j]
                    dz = z - z_tx
                    # NaN elevation (nodata) gives NaN slopes, which never compare greater
                    s = dz * inv_out - d_out * inv2kr
                    if s > s_tim:
                        s_tim = s
                    s = dz * inv_in - d_in * inv2kr
                    if s > s_tim:
                        s_tim = s
                    if dz == dz:
                        if diffraction != 0:
                            xm = 0.5 * (d_in + d_out)
                            zm = z - xm * xm * inv2kr
                            if m > 0 and xm <= hx[m - 1]:
                                xm = hx[m - 1] + 1e-6
                            while m >= 2 and ((hx[m - 1] - hx[m - 2]) * (zm - hz[m - 2])
                                              - (hz[m - 1] - hz[m - 2]) * (xm - hx[m - 2])) >= 0.0:
                                m -= 1
                            hx[m] = xm
                            hz[m] = zm
                            m += 1
                        elif m == 0:
                            m = 1  # marks "some obstacle seen" for the line-of-sight-only mode
                d_in = d_out
                inv_in = inv_out
            first = False
            # advance to the next cell
            if tmi < tmj:
                i += stepi
                t_in = tmi
                tmi += tdi
            else:
                j += stepj
                t_in = tmj
                tmj += tdj
            if t_in > t_end:
                break
            if i < r0 or i >= r0 + wny or j < c0 or j >= c0 + wnx:
                break
    return n_nodata


@nb.njit(cache=True)
def _site_cell(sig, r0, c0, kx, dy, row_f, col_f, eirp, fa, fb, pa, pb):
    """Signal in the transmitter's own cell (distance to its centre, at least 1 m)."""
    i = int(math.floor(row_f))
    j = int(math.floor(col_f))
    ec = (j + 0.5 - col_f) * kx[i - r0]
    er = (i + 0.5 - row_f) * dy
    d = max(math.sqrt(ec * ec + er * er), 1.0)
    lg = math.log10(d * 1e-3)
    pl = max(fa + fb * lg, pa + pb * lg)
    sig[i - r0, j - c0] = eirp - pl


@nb.njit(cache=True)
def _count_unhit(sig, r0, c0, kx, dy, row_f, col_f, radius_m):
    """Cells within ``radius_m`` that no ray wrote (still +inf). Must be 0."""
    wny, wnx = sig.shape
    r2 = radius_m * radius_m * (1.0 - 1e-9)
    n = 0
    for ii in range(wny):
        er = (r0 + ii + 0.5 - row_f) * dy
        for jj in range(wnx):
            ec = (c0 + jj + 0.5 - col_f) * kx[ii]
            if ec * ec + er * er <= r2 and sig[ii, jj] == np.inf:
                n += 1
    return n


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


@nb.njit(cache=True, parallel=True)
def _footprint_parallel(dem, terrain, geographic, lat_rows_rad, dlon_r, dx, dy,
                        r0, c0, sig, row_f, col_f, lat_s_rad, kxs, z_tx, h_rx, inv2kr, radius_m,
                        two_over_lambda, diffraction, eirp, fa, fb, pa, pb,
                        sector, az_rad, bw_rad, am_db, n_rays, t_end, check, lut, inv_step):
    """One transmitter, rays split into N_CHUNKS chunks run in two passes (even, odd chunks).

    Adjacent chunks never run at once, so an exact ownership tie is settled the same way
    whatever the thread count. ``sig`` must be filled with +inf. Returns
    (nodata cells, unhit cells if ``check`` else -1).
    """
    wny = sig.shape[0]
    kx = _row_scale(geographic, lat_rows_rad, r0, wny, lat_s_rad, dlon_r, dx)
    nmax = sig.shape[0] + sig.shape[1] + 8
    nod = np.zeros(N_CHUNKS, dtype=np.int64)
    for p in range(2):
        for q in nb.prange(N_CHUNKS // 2):
            c = 2 * q + p
            k0 = (n_rays * c) // N_CHUNKS
            k1 = (n_rays * (c + 1)) // N_CHUNKS
            hx = np.empty(nmax)
            hz = np.empty(nmax)
            nod[c] += _walk_rays(dem, terrain, r0, c0, sig, kx, kxs, dy, row_f, col_f, z_tx, h_rx,
                                 inv2kr, radius_m, two_over_lambda, diffraction, eirp, fa, fb, pa, pb,
                                 sector, az_rad, bw_rad, am_db, n_rays, k0, k1, t_end, hx, hz, lut, inv_step)
    _site_cell(sig, r0, c0, kx, dy, row_f, col_f, eirp, fa, fb, pa, pb)
    unhit = _count_unhit(sig, r0, c0, kx, dy, row_f, col_f, radius_m) if check else -1
    return nod.sum(), unhit


@nb.njit(cache=True, parallel=True)
def _footprints_batch(dem, terrain, geographic, lat_rows_rad, dlon_r, dx, dy, buf, offsets,
                      r0, c0, wny, wnx, row_f, col_f, lat_s_rad, kxs, z_tx, h_rx, inv2kr, radius_m,
                      two_over_lambda, diffraction, eirp, fa, fb, pa, pb,
                      sector, az_rad, bw_rad, am_db, n_rays, t_end, nodata, unhit, check, lut, inv_step):
    """Many transmitters in parallel (one thread per transmitter, rays in order).

    Site ``s`` writes ``buf[offsets[s] : offsets[s] + wny[s]*wnx[s]]`` (filled with +inf
    here). Per-site nodata / unhit counts go to ``nodata`` / ``unhit``.
    """
    for s in nb.prange(row_f.shape[0]):
        sig = buf[offsets[s]:offsets[s] + wny[s] * wnx[s]].reshape((wny[s], wnx[s]))
        sig[:, :] = np.inf
        kx = _row_scale(geographic, lat_rows_rad, r0[s], wny[s], lat_s_rad[s], dlon_r, dx)
        nmax = wny[s] + wnx[s] + 8
        hx = np.empty(nmax)
        hz = np.empty(nmax)
        nodata[s] = _walk_rays(dem, terrain, r0[s], c0[s], sig, kx, kxs[s], dy, row_f[s], col_f[s],
                               z_tx[s], h_rx, inv2kr, radius_m[s], two_over_lambda[s], diffraction,
                               eirp[s], fa[s], fb[s], pa[s], pb[s], sector[s], az_rad[s], bw_rad[s],
                               am_db, n_rays[s], 0, n_rays[s], t_end[s], hx, hz, lut, inv_step)
        _site_cell(sig, r0[s], c0[s], kx, dy, row_f[s], col_f[s], eirp[s], fa[s], fb[s], pa[s], pb[s])
        if check:
            unhit[s] = _count_unhit(sig, r0[s], c0[s], kx, dy, row_f[s], col_f[s], radius_m[s])


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
