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

__all__ = ["MemberStreams", "member_streams", "location_field", "move_sites"]

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


def location_field(rng: np.random.Generator, grid: Grid, correlation_m: float) -> np.ndarray:
    """A standard normal field on ``grid`` (float32), correlated over ``correlation_m``, clipped at ±4.

    White noise filtered by a Gaussian of standard deviation ``correlation_m / 2`` (its
    autocorrelation ``exp(-d² / correlation_m²)`` falls to 1/e at ``correlation_m``), scaled back
    to unit variance exactly (by the kernel's norm). Where the correlation distance is under
    half a cell, cells are independent. Cell sizes are taken at the grid's central row.

    Examples
    --------
    >>> from covgap.grid import Grid
    >>> g = Grid.from_bounds(0, 0, 20000, 20000, res=(100, 100), crs="EPSG:32648")
    >>> f = location_field(np.random.default_rng(1), g, 1000.0)
    >>> f.shape, f.dtype.name, abs(float(f.std()) - 1) < 0.2
    ((200, 200), 'float32', True)
    """
    dx, dy = grid.cell_size_m()
    mid = grid.ny // 2
    sx = float(correlation_m) / 2.0 / float(dx[mid])
    sy = float(correlation_m) / 2.0 / float(dy[mid])
    noise = rng.standard_normal(grid.shape, dtype=np.float32)
    if max(sx, sy) >= 0.25:
        sx, sy = max(sx, 1e-3), max(sy, 1e-3)
        noise = ndimage.gaussian_filter(noise, sigma=(sy, sx), mode="reflect", truncate=4.0)
        noise /= np.float32(_kernel_norm(sy, sx))
    np.clip(noise, -LOCATION_CLIP_SIGMA, LOCATION_CLIP_SIGMA, out=noise)
    return noise


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
