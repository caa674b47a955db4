"""Tile plans: a grid cut into tiles of ``tile_size`` cells, each with a halo of the models' reach.

Every transmitter belongs to the one tile containing its cell (sites off the grid go to the
nearest edge tile) and is computed once, on its tile grown by the halo, so the whole footprint
lies in that window (:func:`model_reach_m`: the model's own
:meth:`~covgap.models.base.CoverageModel.reach_m`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..grid import EARTH_RADIUS_M, Grid
from ..models.base import CoverageModel

__all__ = ["Tile", "TilePlan", "plan_tiles", "model_reach_m", "DEFAULT_TILE_SIZE", "HALO_MARGIN_CELLS"]

#: Default tile edge in cells (2048² cells ≈ 4.2 M; a window with a 20 km halo at 90 m ≈ 6.3 M).
DEFAULT_TILE_SIZE = 2048

#: Cells added to the halo beyond the reach: models grow their footprint windows by up to
#: 3 cells around the disc (the terrain model: ``floor(row - r) - 1 … ceil(row + r) + 2``).
HALO_MARGIN_CELLS = 4


# =========================================================================== tiling
@dataclass(frozen=True)
class Tile:
    """One tile: its core ``[row0:row1, col0:col1]`` and its window with halo (clipped)."""

    ti: int
    tj: int
    row0: int
    row1: int
    col0: int
    col1: int
    wrow0: int
    wrow1: int
    wcol0: int
    wcol1: int

    @property
    def name(self) -> str:
        """File-name-safe identifier, e.g. ``r0003_c0012``."""
        return f"r{self.ti:04d}_c{self.tj:04d}"

    @property
    def shape(self) -> tuple[int, int]:
        """Core shape ``(ny, nx)``."""
        return (self.row1 - self.row0, self.col1 - self.col0)

    @property
    def window_shape(self) -> tuple[int, int]:
        """Window (core + halo) shape ``(ny, nx)``."""
        return (self.wrow1 - self.wrow0, self.wcol1 - self.wcol0)


@dataclass(frozen=True)
class TilePlan:
    """A grid cut into tiles of ``tile_rows × tile_cols`` cells with a halo in cells."""

    grid: Grid
    tile_rows: int
    tile_cols: int
    halo_rows: int
    halo_cols: int

    @property
    def n_tiles(self) -> tuple[int, int]:
        """Number of tiles along rows and columns."""
        return (-(-self.grid.ny // self.tile_rows), -(-self.grid.nx // self.tile_cols))

    def tile(self, ti: int, tj: int) -> Tile:
        """The tile at tile-row ``ti``, tile-column ``tj``."""
        ny, nx = self.grid.shape
        r0, c0 = ti * self.tile_rows, tj * self.tile_cols
        r1, c1 = min(r0 + self.tile_rows, ny), min(c0 + self.tile_cols, nx)
        return Tile(ti, tj, r0, r1, c0, c1, max(r0 - self.halo_rows, 0), min(r1 + self.halo_rows, ny),
                    max(c0 - self.halo_cols, 0), min(c1 + self.halo_cols, nx))

    def tiles(self) -> list[Tile]:
        """All tiles, row-major."""
        nti, ntj = self.n_tiles
        return [self.tile(i, j) for i in range(nti) for j in range(ntj)]

    def tile_index_of(self, row, col) -> tuple[np.ndarray, np.ndarray]:
        """Tile indices of grid cells (positions off the grid are clamped to the edge tiles)."""
        nti, ntj = self.n_tiles
        ti = np.clip(np.asarray(row, dtype=np.int64) // self.tile_rows, 0, nti - 1)
        tj = np.clip(np.asarray(col, dtype=np.int64) // self.tile_cols, 0, ntj - 1)
        return ti, tj

    def reaching(self, tile: Tile) -> list[Tile]:
        """Tiles whose window overlaps the core of ``tile`` (the tile itself included)."""
        nti, ntj = self.n_tiles
        di = -(-self.halo_rows // self.tile_rows)
        dj = -(-self.halo_cols // self.tile_cols)
        out = []
        for i in range(max(tile.ti - di, 0), min(tile.ti + di, nti - 1) + 1):
            for j in range(max(tile.tj - dj, 0), min(tile.tj + dj, ntj - 1) + 1):
                t = self.tile(i, j)
                if t.wrow0 < tile.row1 and t.wrow1 > tile.row0 and t.wcol0 < tile.col1 and t.wcol1 > tile.col0:
                    out.append(t)
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (for the manifest)."""
        return {"shape": list(self.grid.shape), "transform": list(tuple(self.grid.transform)[:6]),
                "crs": self.grid.crs.to_wkt(), "tile_rows": self.tile_rows, "tile_cols": self.tile_cols,
                "halo_rows": self.halo_rows, "halo_cols": self.halo_cols}


def _halo_cells(grid: Grid, halo_m: float) -> tuple[int, int]:
    """Halo (rows, cols) covering ``halo_m`` everywhere on the grid, plus the margin."""
    if halo_m < 0 or not math.isfinite(halo_m):
        raise ConfigError(f"tile halo = {halo_m!r} m; expected a finite distance >= 0.")
    if grid.is_geographic:
        t = grid.transform
        dy_m = math.radians(-t.e) * EARTH_RADIUS_M
        w, s, e, n = grid.bounds
        lat_max = min(max(abs(s), abs(n)) + math.degrees(halo_m / EARTH_RADIUS_M), 89.0)
        dx_m = math.radians(t.a) * EARTH_RADIUS_M * math.cos(math.radians(lat_max))
    else:
        dx_m, dy_m = grid.res
    return (int(math.ceil(halo_m / dy_m)) + HALO_MARGIN_CELLS, int(math.ceil(halo_m / dx_m)) + HALO_MARGIN_CELLS)


def plan_tiles(grid: Grid, *, tile_size: int | tuple[int, int] = DEFAULT_TILE_SIZE, halo_m: float) -> TilePlan:
    """Cut ``grid`` into tiles of ``tile_size`` cells with a halo of at least ``halo_m`` metres.

    Examples
    --------
    >>> g = Grid.from_bounds(0, 0, 10_000, 5_000, res=(100, 100), crs="EPSG:32648")
    >>> p = plan_tiles(g, tile_size=40, halo_m=500)
    >>> p.n_tiles, p.halo_rows
    ((2, 3), 9)
    """
    tr, tc = (tile_size, tile_size) if isinstance(tile_size, (int, np.integer)) else tile_size
    if int(tr) < 1 or int(tc) < 1:
        raise ConfigError(f"tile_size = {tile_size!r}; expected a positive number of cells (e.g. 2048).")
    hr, hc = _halo_cells(grid, float(halo_m))
    return TilePlan(grid=grid, tile_rows=int(tr), tile_cols=int(tc), halo_rows=hr, halo_cols=hc)


def model_reach_m(model: CoverageModel, grid: Grid, sites: pd.DataFrame) -> float:
    """Largest distance (m) at which ``model`` can give any transmitter of ``sites`` coverage.

    The maximum of the model's :meth:`~covgap.models.base.CoverageModel.reach_m` (0 for no sites).
    """
    if not callable(getattr(model, "reach_m", None)):
        raise ConfigError(
            f"model {getattr(model, 'name', type(model).__name__)!r} does not say how far its coverage reaches "
            "(no reach_m(grid, sites): see covgap.models.base.CoverageModel). Fix: implement it, or pass "
            "halo_m=<metres> (the largest coverage radius) to the tiled computation.")
    if len(sites) == 0:
        return 0.0
    r = np.asarray(model.reach_m(grid, sites), dtype="f8")
    if r.shape != (len(sites),) or not np.isfinite(r).all() or (r < 0).any():
        raise ConfigError(
            f"model {model.name!r} gave reach_m of shape {r.shape} with values {r[:3].tolist()}...; expected one "
            "finite distance >= 0 per sites row. Fix the model's reach_m(), or pass halo_m=<metres>.")
    return float(r.max())
