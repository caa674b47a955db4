"""The random draws of an ensemble member: one stream per member, split per input.

Member ``m`` of seed ``s`` uses ``SeedSequence(s).spawn(members)[m]``, spawned again into one
generator per input (link budget, population, tower positions, location), so switching one
input's spread on or off, or changing its size, leaves every other input's draws unchanged;
the same seed and spec give the same members in any order and on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage

from ..grid import EARTH_RADIUS_M, Grid
from .spec import LOCATION_CLIP_SIGMA

__all__ = ["MemberStreams", "member_streams", "location_field", "field_key", "move_sites", "NOISE_BLOCK"]

_INPUTS = ("link_budget", "population", "tower_position", "location")


@dataclass
class MemberStreams:
    """One :class:`numpy.random.Generator` per input of one member."""

    link_budget: np.random.Generator
    population: np.random.Generator
    tower_position: np.random.Generator
    location: np.random.Generator


def member_streams(seed: int, members: int) -> list[MemberStreams]:
    """The generators of every member (see the module docstring).

    Examples
    --------
    >>> a = member_streams(7, 3); b = member_streams(7, 3)
    >>> float(a[2].link_budget.standard_normal()) == float(b[2].link_budget.standard_normal())
    True
    """
    out = []
    for child in np.random.SeedSequence(int(seed)).spawn(int(members)):
        gens = [np.random.default_rng(s) for s in child.spawn(len(_INPUTS))]
        out.append(MemberStreams(*gens))
    return out


#: Edge (cells) of the blocks the location field's white noise is drawn in: block ``(i, j)`` of a
#: member's field comes from ``SeedSequence([key, i, j])``, so any window of the field can be drawn
#: alone and equals the same cells of the whole-grid field (tiles agree across their seams).
NOISE_BLOCK = 256


def field_key(rng: np.random.Generator | int) -> int:
    """The 63-bit key of a member's location field (drawn once from its location stream)."""
    if isinstance(rng, (int, np.integer)):
        return int(rng)
    return int(rng.integers(0, 2**63 - 1))


def location_field(rng: np.random.Generator | int, grid: Grid, correlation_m: float, *,
                   window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """A standard normal field on ``grid`` (float32), correlated over ``correlation_m``, clipped at ±4.

    White noise filtered by a Gaussian of standard deviation ``correlation_m / 2`` (its
    autocorrelation ``exp(-d² / correlation_m²)`` falls to 1/e at ``correlation_m``), scaled back
    to unit variance exactly (by the kernel's norm). Where the correlation distance is under
    half a cell, cells are independent. Cell sizes are taken at the grid's central row.

    ``rng``: the member's location generator (one key is drawn from it, :func:`field_key`) or
    that key. The noise is drawn in blocks of :data:`NOISE_BLOCK` cells keyed by the block's
    global position, so ``window=(r0, r1, c0, c1)`` returns exactly (bit for bit) those rows and
    columns of the whole-grid field, drawing and filtering only the window grown by the
    filter's radius (tested): a tiled run sees one continuous field across tile seams.

    Examples
    --------
    >>> from covgap.grid import Grid
    >>> g = Grid.from_bounds(0, 0, 20000, 20000, res=(100, 100), crs="EPSG:32648")
    >>> f = location_field(np.random.default_rng(1), g, 1000.0)
    >>> f.shape, f.dtype.name, abs(float(f.std()) - 1) < 0.2
    ((200, 200), 'float32', True)
    >>> part = location_field(7, g, 1000.0, window=(50, 90, 10, 30))
    >>> bool((part == location_field(7, g, 1000.0)[50:90, 10:30]).all())
    True
    """
    key = field_key(rng)
    ny, nx = grid.shape
    r0, r1, c0, c1 = window if window is not None else (0, ny, 0, nx)
    if not (0 <= r0 <= r1 <= ny and 0 <= c0 <= c1 <= nx):
        raise ValueError(f"window {window!r} is not inside the grid of shape {grid.shape}")
    dx, dy = grid.cell_size_m()
    mid = grid.ny // 2
    sx = float(correlation_m) / 2.0 / float(dx[mid])
    sy = float(correlation_m) / 2.0 / float(dy[mid])
    if max(sx, sy) >= 0.25:
        sx, sy = max(sx, 1e-3), max(sy, 1e-3)
        hy, hx = int(4.0 * sy + 0.5), int(4.0 * sx + 0.5)  # gaussian_filter's radius (truncate 4)
        wr0, wr1, wc0, wc1 = max(r0 - hy, 0), min(r1 + hy, ny), max(c0 - hx, 0), min(c1 + hx, nx)
        noise = _block_noise(key, wr0, wr1, wc0, wc1)
        noise = ndimage.gaussian_filter(noise, sigma=(sy, sx), mode="reflect", truncate=4.0)
        noise = np.ascontiguousarray(noise[r0 - wr0:r1 - wr0, c0 - wc0:c1 - wc0])
        noise /= np.float32(_kernel_norm(sy, sx))
    else:
        noise = _block_noise(key, r0, r1, c0, c1)
    np.clip(noise, -LOCATION_CLIP_SIGMA, LOCATION_CLIP_SIGMA, out=noise)
    return noise


def _block_noise(key: int, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Standard normal float32 noise of rows ``r0:r1``, columns ``c0:c1`` (blocks keyed by position)."""
    out = np.empty((r1 - r0, c1 - c0), dtype=np.float32)
    b = NOISE_BLOCK
    for bi in range(r0 // b, -(-r1 // b)):
        for bj in range(c0 // b, -(-c1 // b)):
            blk = np.random.default_rng(np.random.SeedSequence([key, bi, bj])).standard_normal((b, b),
                                                                                               dtype=np.float32)
            ra, rb = max(r0, bi * b), min(r1, (bi + 1) * b)
            ca, cb = max(c0, bj * b), min(c1, (bj + 1) * b)
            out[ra - r0:rb - r0, ca - c0:cb - c0] = blk[ra - bi * b:rb - bi * b, ca - bj * b:cb - bj * b]
    return out


def _kernel_norm(sy: float, sx: float) -> float:
    """sqrt(Σ k²) of the separable Gaussian kernel ``gaussian_filter`` applies (truncate 4)."""
    out = 1.0
    for s in (sy, sx):
        r = int(4.0 * s + 0.5)
        x = np.arange(-r, r + 1, dtype="f8")
        k = np.exp(-0.5 * (x / s) ** 2)
        k /= k.sum()
        out *= float(np.sqrt((k**2).sum()))
    return out


def move_sites(rng: np.random.Generator, sites: pd.DataFrame, sigma_m: np.ndarray,
               grid: Grid) -> tuple[pd.DataFrame, int]:
    """The sites table with every site moved by a normal draw (east, north), the same for all its rows.

    ``sigma_m`` is per row (:func:`covgap.uncertainty.tower_sigma_m`); a site takes the largest
    sigma of its rows. A site that starts inside the grid's lon/lat bounds is kept inside them
    (clipped: the terrain model needs the ground under the mast). Returns the moved table and
    the number of sites that were clipped.
    """
    out = sites.copy()
    sid = out["site_id"].astype(str).to_numpy()
    uniq, inv = np.unique(sid, return_inverse=True)
    sig = np.zeros(len(uniq))
    np.maximum.at(sig, inv, np.asarray(sigma_m, dtype="f8"))
    d = rng.standard_normal((len(uniq), 2)) * sig[:, None]
    lon = out["lon"].to_numpy(dtype="f8")
    lat = out["lat"].to_numpy(dtype="f8")
    dlat = np.degrees(d[inv, 1] / EARTH_RADIUS_M)
    dlon = np.degrees(d[inv, 0] / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    nlon, nlat = lon + dlon, lat + dlat
    west, south, east, north = _lonlat_bounds(grid)
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    clon = np.clip(nlon, west, east)
    clat = np.clip(nlat, south, north)
    clipped = inside & ((clon != nlon) | (clat != nlat))
    out["lon"] = np.where(inside, clon, nlon)
    out["lat"] = np.where(inside, clat, nlat)
    return out, int(len(np.unique(inv[clipped])))


def _lonlat_bounds(grid: Grid) -> tuple[float, float, float, float]:
    """Lon/lat bounds of the grid's cell centres (the grid's corners, one cell in)."""
    xs, ys = grid.x_centres(), grid.y_centres()
    x = np.array([xs[0], xs[-1], xs[0], xs[-1]])
    y = np.array([ys[0], ys[0], ys[-1], ys[-1]])
    lon, lat = grid.to_lonlat(x, y)
    lon, lat = np.asarray(lon), np.asarray(lat)
    if grid.is_geographic:
        return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    lo, la = np.sort(lon), np.sort(lat)  # a projected grid: the box inside its four corners
    return float(lo[1]), float(la[1]), float(lo[2]), float(la[2])
