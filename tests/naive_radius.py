"""Slow, obviously-correct reference for the radius model (tests only)."""

from __future__ import annotations

import numpy as np

from covgap.grid import Grid, haversine_m


def covered_reference(grid: Grid, lon: float, lat: float, radius_m: float) -> np.ndarray:
    """Cells whose centre lies within ``radius_m`` of the point (checked cell by cell)."""
    xs, ys = grid.x_centres(), grid.y_centres()
    out = np.zeros(grid.shape, dtype=bool)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            if grid.is_geographic:
                d = float(haversine_m(lon, lat, x, y))
            else:
                px, py = grid.from_lonlat(lon, lat)
                d = float(np.hypot(x - px, y - py))
            out[i, j] = d <= radius_m
    return out
