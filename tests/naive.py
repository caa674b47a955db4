"""Slow, obviously-correct references for the terrain kernels (``covgap.models._terrain_kernels``).

Each function checks every cell on its own, along the straight line from the antenna to the
cell centre, with plain NumPy and great-circle (haversine) distances on geographic grids.
"""

from __future__ import annotations

import numpy as np

from covgap.grid import EARTH_RADIUS_M, Grid, haversine_m
from covgap.models.pathloss import FREE_SPACE_CONSTANT_DB, knife_edge_loss_db


def _site_index(grid: Grid, lon: float, lat: float) -> tuple[float, float, float, float]:
    x, y = grid.from_lonlat(lon, lat)
    t = grid.transform
    return float((np.asarray(y) - t.f) / t.e), float((np.asarray(x) - t.c) / t.a), float(x), float(y)


def _dist_m(grid: Grid, x0: float, y0: float, x, y):
    """Distance from (x0, y0) to points (x, y) in grid coordinates (haversine if geographic)."""
    if grid.is_geographic:
        return haversine_m(x0, y0, x, y)
    return np.hypot(np.asarray(x) - x0, np.asarray(y) - y0)


def distances_m(grid: Grid, lon: float, lat: float) -> np.ndarray:
    """Distance (m) from a point to every cell centre."""
    _, _, x0, y0 = _site_index(grid, lon, lat)
    xx, yy = np.meshgrid(grid.x_centres(), grid.y_centres())
    return _dist_m(grid, x0, y0, xx, yy)


def los_reference(grid: Grid, dem: np.ndarray, lon: float, lat: float, *, antenna_height_m: float,
                  receiver_height_m: float, k_factor: float, radius_m: float,
                  step_cells: float = 0.05, targets=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact-ish line of sight: for every cell within ``radius_m``, sample the straight line
    from the antenna to the cell centre every ``step_cells`` cells, the terrain interpolated
    bilinearly between cell centres; the target is visible when no sample (outside the
    antenna's and the target's own cells) rises above the line, all heights corrected by
    ``d² / (2 k R)``. NaN elevations never block.

    Returns ``(visible, in_radius)`` boolean arrays on the whole grid. ``targets`` (a list of
    (row, col)) restricts the check to those cells.
    """
    rf, cf, x0, y0 = _site_index(grid, lon, lat)
    t = grid.transform
    i_s, j_s = int(np.floor(rf)), int(np.floor(cf))
    inv2kr = 0.0 if not np.isfinite(k_factor) else 1.0 / (2.0 * k_factor * EARTH_RADIUS_M)
    z_tx = float(dem[i_s, j_s]) + antenna_height_m
    dist = distances_m(grid, lon, lat)
    in_radius = dist <= radius_m
    visible = np.zeros(grid.shape, dtype=bool)
    cells = zip(*np.nonzero(in_radius), strict=True) if targets is None else [(i, j) for i, j in targets if in_radius[i, j]]
    for i, j in cells:
        if i == i_s and j == j_s:
            visible[i, j] = True
            continue
        d_t = dist[i, j]
        zr = dem[i, j] + receiver_height_m - d_t * d_t * inv2kr
        if not np.isfinite(zr):
            visible[i, j] = True
            continue
        n = int(np.ceil(np.hypot(i + 0.5 - rf, j + 0.5 - cf) / step_cells)) + 1
        f = np.linspace(0.0, 1.0, n)[1:-1]
        rr = rf + f * (i + 0.5 - rf)
        cc = cf + f * (j + 0.5 - cf)
        ri = np.floor(rr).astype(int)
        ci = np.floor(cc).astype(int)
        keep = ~(((ri == i_s) & (ci == j_s)) | ((ri == i) & (ci == j)))
        if not keep.any():
            visible[i, j] = True
            continue
        rr, cc = rr[keep], cc[keep]
        xs = t.c + t.a * cc
        ys = t.f + t.e * rr
        d = _dist_m(grid, x0, y0, xs, ys)
        z = bilinear(dem, rr - 0.5, cc - 0.5)
        with np.errstate(invalid="ignore"):
            s = (z - z_tx) / d - d * inv2kr
        s_max = np.nanmax(s) if np.isfinite(s).any() else -np.inf
        visible[i, j] = (zr - z_tx) / d_t >= s_max
    return visible, in_radius


def bilinear(dem: np.ndarray, y, x) -> np.ndarray:
    """Bilinear elevation at fractional (row, col) centre coordinates (cell centres at
    integers), clamped at the edges; NaN where any of the four cells is NaN."""
    ny, nx = dem.shape
    y = np.clip(np.asarray(y, dtype="f8"), 0.0, ny - 1.0)
    x = np.clip(np.asarray(x, dtype="f8"), 0.0, nx - 1.0)
    i0 = np.minimum(np.floor(y).astype(int), ny - 2)
    j0 = np.minimum(np.floor(x).astype(int), nx - 2)
    fy = y - i0
    fx = x - j0
    z00, z01 = dem[i0, j0].astype("f8"), dem[i0, j0 + 1].astype("f8")
    z10, z11 = dem[i0 + 1, j0].astype("f8"), dem[i0 + 1, j0 + 1].astype("f8")
    top = z00 + fx * (z01 - z00)
    bot = z10 + fx * (z11 - z10)
    return top + fy * (bot - top)


def base_signal_reference(grid: Grid, lon: float, lat: float, *, eirp_dbm: float, a: float, b: float,
                          frequency_mhz: float, radius_m: float) -> np.ndarray:
    """``eirp − max(free space, a + b log10 d_km)`` at every cell centre within ``radius_m`` (NaN
    elsewhere), distances by haversine on geographic grids; at least 1 m."""
    d = np.maximum(distances_m(grid, lon, lat), 1.0)
    lg = np.log10(d / 1000.0)
    fs = FREE_SPACE_CONSTANT_DB + 20.0 * np.log10(frequency_mhz) + 20.0 * lg
    sig = eirp_dbm - np.maximum(fs, a + b * lg)
    return np.where(distances_m(grid, lon, lat) <= radius_m, sig, np.nan)


def fractal_dem(shape: tuple[int, int], *, seed: int, relief_m: float = 300.0, beta: float = 2.2) -> np.ndarray:
    """Random fractal (power-law spectrum ``1/f^beta``) terrain in metres, float32, min 0."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    fy = np.fft.fftfreq(ny)[:, None]
    fx = np.fft.rfftfreq(nx)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    amp = f ** (-beta / 2.0 - 0.5)
    amp[0, 0] = 0.0
    phase = rng.uniform(0, 2 * np.pi, amp.shape)
    z = np.fft.irfft2(amp * np.exp(1j * phase), s=shape)
    z = (z - z.min()) / (z.max() - z.min()) * relief_m
    return z.astype(np.float32)


def bullington_reference(grid: Grid, dem: np.ndarray, lon: float, lat: float, *, antenna_height_m: float,
                         receiver_height_m: float, k_factor: float, frequency_mhz: float, targets,
                         step_cells: float = 0.05) -> np.ndarray:
    """Bullington knife-edge loss ``Luc = J(ν_b)`` of ITU-R P.526-15 §4.5.1 (Stim, Str, Srim, db, νb; without the
    section's smooth-earth and LoS sub-path terms) for each target cell (row, col): the profile
    sampled as in :func:`los_reference` (bilinear heights, every ``step_cells``, the antenna's and
    the target's own cells left out), heights less ``d²/(2kR)`` (the tangent-plane frame, in which
    ν equals P.526's with the earth bulge). NaN where the target sees the antenna (Stim < Str)."""
    rf, cf, x0, y0 = _site_index(grid, lon, lat)
    t = grid.transform
    i_s, j_s = int(np.floor(rf)), int(np.floor(cf))
    inv2kr = 0.0 if not np.isfinite(k_factor) else 1.0 / (2.0 * k_factor * EARTH_RADIUS_M)
    lam = 299_792_458.0 / (frequency_mhz * 1e6)
    hts = float(dem[i_s, j_s]) + antenna_height_m
    dist = distances_m(grid, lon, lat)
    out = np.full(len(targets), np.nan)
    for k, (i, j) in enumerate(targets):
        d = dist[i, j]
        hrs = dem[i, j] + receiver_height_m - d * d * inv2kr
        n = int(np.ceil(np.hypot(i + 0.5 - rf, j + 0.5 - cf) / step_cells)) + 1
        f = np.linspace(0.0, 1.0, n)[1:-1]
        rr = rf + f * (i + 0.5 - rf)
        cc = cf + f * (j + 0.5 - cf)
        ri = np.floor(rr).astype(int)
        ci = np.floor(cc).astype(int)
        keep = ~(((ri == i_s) & (ci == j_s)) | ((ri == i) & (ci == j)))
        if not keep.any():
            continue
        rr, cc = rr[keep], cc[keep]
        di = _dist_m(grid, x0, y0, t.c + t.a * cc, t.f + t.e * rr)
        hi = bilinear(dem, rr - 0.5, cc - 0.5) - di * di * inv2kr
        stim = np.max((hi - hts) / di)
        str_ = (hrs - hts) / d
        if stim < str_:
            continue
        srim = np.max((hi - hrs) / (d - di))
        db = (hrs - hts + srim * d) / (stim + srim)
        nub = (hts + stim * db - (hts * (d - db) + hrs * db) / d) * np.sqrt(2.0 * d / (lam * db * (d - db)))
        out[k] = float(knife_edge_loss_db(nub)) if nub > -0.78 else 0.0
    return out
