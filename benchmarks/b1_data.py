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


#: The system Python that has GDAL's bindings (Debian python3-gdal); covgap's venv does not.
SYS_PYTHON = "/usr/bin/python3"
GDAL_SCRIPT = Path(__file__).resolve().parent / "b1_gdal_viewshed.py"


def write_dem_tif(path: Path, grid, dem: np.ndarray) -> Path:
    """``dem`` on ``grid`` as a float32 GeoTIFF (what GDAL's viewshed reads)."""
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", width=grid.nx, height=grid.ny, count=1, dtype="float32",
                       crs=grid.crs, transform=grid.transform) as ds:
        ds.write(np.asarray(dem, dtype="float32"), 1)
    return path


def gdal_on_grid(grid, visible: np.ndarray, geotransform) -> np.ndarray:
    """GDAL's viewshed window (255 = visible) placed on the full ``grid`` as booleans."""
    t = grid.transform
    c0 = int(round((geotransform[0] - t.c) / t.a))
    r0 = int(round((geotransform[3] - t.f) / t.e))
    full = np.zeros(grid.shape, dtype=bool)
    full[r0:r0 + visible.shape[0], c0:c0 + visible.shape[1]] = visible == 255
    return full


def gdal_viewshed(work: Path, grid, dem: np.ndarray, x: float, y: float, h_tx: float, h_rx: float,
                  radius_m: float, reps: int = 1) -> dict:
    """GDAL's line of sight (``b1_gdal_viewshed.py`` under the system Python, k = 4/3) of the
    antenna at grid coordinates (x, y): ``{"visible": full-grid booleans, "times": [s],
    "version": str}``, or ``{"error": str}`` when GDAL's bindings are missing or fail."""
    import subprocess

    if not Path(SYS_PYTHON).exists():
        return {"error": f"{SYS_PYTHON} not found (apt-get install python3-gdal)"}
    tif = write_dem_tif(work / "gdal_dem.tif", grid, dem)
    npz = work / "gdal_vs.npz"
    r = subprocess.run([SYS_PYTHON, str(GDAL_SCRIPT), str(tif), str(x), str(y), str(h_tx), str(h_rx), "0.75",
                        str(radius_m), str(reps), str(npz)], capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
    g = np.load(npz)
    return {"visible": gdal_on_grid(grid, g["visible"], g["geotransform"]), "times": [float(v) for v in g["times"]],
            "version": str(g["version"])}
