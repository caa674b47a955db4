"""Synthetic terrain for benchmark b1 (SYNTHETIC: fractal DEMs, no real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def fractal_dem(shape: tuple[int, int], *, seed: int, relief_m: float, beta: float = 2.2,
                base_m: float = 10.0) -> np.ndarray:
    """Fractal terrain (power spectrum ∝ f^-(beta+1) in 2-D, i.e. ∝ f^-beta along a profile).

    Rounded to whole metres (SRTM stores int16 metres), at least ``base_m`` (SPLAT!'s
    ``srtm2sdf`` treats 0 m as sea).
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    fy = np.fft.fftfreq(ny)[:, None]
    fx = np.fft.rfftfreq(nx)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    amp = f ** (-beta / 2.0 - 0.5)
    amp[0, 0] = 0.0
    z = np.fft.irfft2(amp * np.exp(1j * rng.uniform(0, 2 * np.pi, amp.shape)), s=shape)
    z = (z - z.min()) / (z.max() - z.min()) * relief_m + base_m
    return np.round(z).astype(np.float32)


def write_hgt_tiles(dem: np.ndarray, lat_north: int, lon_west: int, folder: Path) -> list[Path]:
    """Cut a 3-arc-second DEM whose row 0 / column 0 sample lies at (lat_north, lon_west) into
    SRTM ``.hgt`` tiles (1201 × 1201 big-endian int16, shared edges)."""
    ny, nx = dem.shape
    n_lat = (ny - 1) // 1200
    n_lon = (nx - 1) // 1200
    out = []
    for a in range(n_lat):
        for b in range(n_lon):
            tile = dem[a * 1200:a * 1200 + 1201, b * 1200:b * 1200 + 1201]
            lat_s = lat_north - a - 1
            lon_w = lon_west + b
            name = f"{'N' if lat_s >= 0 else 'S'}{abs(lat_s):02d}{'E' if lon_w >= 0 else 'W'}{abs(lon_w):03d}.hgt"
            p = folder / name
            tile.astype(">i2").tofile(p)
            out.append(p)
    return out
