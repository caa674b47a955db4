"""The one grid object every raster in a study area shares.

A :class:`Grid` is a north-up raster grid: CRS, affine transform and ``shape = (ny, nx)``
(the ``GeoBox`` idea of odc-geo). Alignment between rasters is checked once, at the edge
(:meth:`Grid.check_same`), so computation code can work on bare arrays.

Distances and areas are in metres / km² at every latitude: geographic grids use the
spherical-earth formulas below (mean radius 6,371,008.8 m, IUGG), projected grids use
their linear unit (which must be metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer

from .constants import EARTH_RADIUS_M
from .errors import CRSError, InputError

__all__ = ["Grid", "EARTH_RADIUS_M", "haversine_m", "unit_vectors"]


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres between points given in degrees (broadcasts).

    Examples
    --------
    >>> round(float(haversine_m(105.0, 21.0, 105.0, 22.0)))
    111195
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype="f8")) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def unit_vectors(lon, lat):
    """Earth-centred unit vectors (n, 3) for lon/lat in degrees.

    Euclidean (chord) distance between unit vectors, times the earth radius, is a
    KD-tree-friendly metric that is monotone in great-circle distance everywhere;
    convert a chord ``c`` back with ``2 R asin(c / 2)``.
    """
    lon = np.radians(np.asarray(lon, dtype="f8"))
    lat = np.radians(np.asarray(lat, dtype="f8"))
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: CRS, affine transform and shape ``(ny, nx)``.

    Parameters
    ----------
    crs : pyproj.CRS or anything ``pyproj.CRS.from_user_input`` accepts
        Must be geographic (degrees) or projected in metres.
    transform : affine.Affine
        Pixel-is-area transform of the top-left corner; no rotation, ``e < 0``.
    shape : tuple of int
        ``(ny, nx)``.

    Examples
    --------
    >>> g = Grid.from_bounds(105.0, 21.0, 105.1, 21.1, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")
    >>> g.shape
    (120, 120)
    >>> round(float(g.cell_area_km2()[0, 0]), 4)
    0.008
    """

    crs: CRS
    transform: Affine
    shape: tuple[int, int]
    #: Cell-centre coordinates inherited from a parent grid (set by :meth:`window`), so that a
    #: window's centres are bit-identical to the parent's and per-cell results do not depend on
    #: how a grid was cut.
    parent_x_centres: np.ndarray | None = field(default=None, compare=False, repr=False)
    parent_y_centres: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        crs = self.crs if isinstance(self.crs, CRS) else _to_crs(self.crs)
        object.__setattr__(self, "crs", crs)
        object.__setattr__(self, "shape", (int(self.shape[0]), int(self.shape[1])))
        t = self.transform
        if t.b != 0 or t.d != 0:
            raise InputError(
                f"grid transform {tuple(t)[:6]} is rotated; covgap expects north-up grids. "
                "Fix: warp the raster to a north-up grid first (gdalwarp)."
            )
        if t.a <= 0 or t.e >= 0:
            raise InputError(
                f"grid transform has pixel size ({t.a}, {t.e}); expected x > 0 and y < 0 (north-up). "
                "Fix: flip the raster with gdalwarp."
            )
        if not crs.is_geographic:
            unit = crs.axis_info[0].unit_name if crs.axis_info else "?"
            if unit not in ("metre", "meter"):
                raise CRSError(
                    f"projected CRS {crs.to_string()} has unit {unit!r}; covgap needs metres. "
                    "Fix: reproject to a metric CRS such as UTM 48N (EPSG:32648) or 49N (EPSG:32649)."
                )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_bounds(cls, west, south, east, north, *, res, crs) -> Grid:
        """Grid covering a bounding box at resolution ``res = (dx, dy)`` (snapped outward)."""
        dx, dy = res
        nx = int(np.ceil(round((east - west) / dx, 9)))
        ny = int(np.ceil(round((north - south) / dy, 9)))
        return cls(crs=crs, transform=Affine(dx, 0.0, west, 0.0, -dy, north), shape=(ny, nx))

    # ------------------------------------------------------------------ basic geometry
    @property
    def ny(self) -> int:
        """Number of rows."""
        return self.shape[0]

    @property
    def nx(self) -> int:
        """Number of columns."""
        return self.shape[1]

    @property
    def res(self) -> tuple[float, float]:
        """Cell size ``(dx, dy)`` in CRS units (both positive)."""
        return (self.transform.a, -self.transform.e)

    @property
    def is_geographic(self) -> bool:
        """True when coordinates are degrees of longitude/latitude."""
        return bool(self.crs.is_geographic)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the outer cell edges."""
        t = self.transform
        return (t.c, t.f + t.e * self.ny, t.c + t.a * self.nx, t.f)

    def x_centres(self) -> np.ndarray:
        """Cell-centre x coordinates, one per column (the parent grid's, for a window)."""
        if self.parent_x_centres is not None:
            return self.parent_x_centres
        t = self.transform
        return t.c + t.a * (np.arange(self.nx) + 0.5)

    def y_centres(self) -> np.ndarray:
        """Cell-centre y coordinates, one per row (north to south; the parent grid's, for a window)."""
        if self.parent_y_centres is not None:
            return self.parent_y_centres
        t = self.transform
        return t.f + t.e * (np.arange(self.ny) + 0.5)

    def rowcol(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (int, may lie outside the grid) of points in the grid's CRS."""
        t = self.transform
        col = np.floor((np.asarray(x, dtype="f8") - t.c) / t.a).astype(np.int64)
        row = np.floor((np.asarray(y, dtype="f8") - t.f) / t.e).astype(np.int64)
        return row, col

    def contains_rowcol(self, row, col) -> np.ndarray:
        """Boolean mask: which (row, col) lie inside the grid."""
        row = np.asarray(row)
        col = np.asarray(col)
        return (row >= 0) & (row < self.ny) & (col >= 0) & (col < self.nx)

    # ------------------------------------------------------------------ lon/lat
    @cached_property
    def _to_lonlat(self) -> Transformer | None:
        if self.is_geographic:
            return None
        return Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    @cached_property
    def _from_lonlat(self) -> Transformer | None:
        if self.is_geographic:
            return None
        return Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    def to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Convert grid-CRS coordinates to lon/lat degrees (WGS 84)."""
        if self._to_lonlat is None:
            return np.asarray(x, dtype="f8"), np.asarray(y, dtype="f8")
        return self._to_lonlat.transform(x, y)

    def from_lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Convert lon/lat degrees (WGS 84) to grid-CRS coordinates."""
        if self._from_lonlat is None:
            return np.asarray(lon, dtype="f8"), np.asarray(lat, dtype="f8")
        return self._from_lonlat.transform(lon, lat)

    def lonlat_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Lon and lat of every cell centre, two ``(ny, nx)`` arrays."""
        xx, yy = np.meshgrid(self.x_centres(), self.y_centres())
        return tuple(np.asarray(a) for a in self.to_lonlat(xx, yy))  # type: ignore[return-value]

    # ------------------------------------------------------------------ areas and sizes
    def cell_area_km2(self) -> np.ndarray:
        """Area of each cell in km², broadcastable to ``shape``.

        Geographic grids: exact spherical area ``R² Δλ (sin φ₁ − sin φ₀)`` per row,
        returned as ``(ny, 1)``. Projected grids: ``dx · dy`` as a ``(1, 1)`` array.
        """
        if self.is_geographic:
            t = self.transform
            lat_edges = np.radians(t.f + t.e * np.arange(self.ny + 1))
            dlon = np.radians(t.a)
            area_m2 = EARTH_RADIUS_M**2 * dlon * np.abs(np.sin(lat_edges[:-1]) - np.sin(lat_edges[1:]))
            return (area_m2 / 1e6)[:, None]
        dx, dy = self.res
        return np.array([[dx * dy / 1e6]])

    def cell_size_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell width and height in metres per row, each shaped ``(ny,)``."""
        if self.is_geographic:
            lat = np.radians(self.y_centres())
            dx = np.radians(self.transform.a) * EARTH_RADIUS_M * np.cos(lat)
            dy = np.full(self.ny, np.radians(-self.transform.e) * EARTH_RADIUS_M)
            return dx, dy
        return np.full(self.ny, self.res[0]), np.full(self.ny, self.res[1])

    # ------------------------------------------------------------------ alignment
    def same_as(self, other: Grid, *, rtol: float = 1e-9) -> bool:
        """True when both grids have the same CRS, shape and transform."""
        if self.shape != other.shape or not self.crs.equals(other.crs):
            return False
        a = np.array(tuple(self.transform)[:6])
        b = np.array(tuple(other.transform)[:6])
        scale = max(abs(self.transform.a), abs(self.transform.e))
        return bool(np.all(np.abs(a - b) <= rtol * np.maximum(1.0, np.abs(a)) + 1e-6 * scale))

    def check_same(self, other: Grid, *, what: str) -> None:
        """Raise :class:`InputError` naming ``what`` when ``other`` is not this grid."""
        if not self.same_as(other):
            raise InputError(
                f"{what} is on a different grid: expected shape {self.shape}, "
                f"transform {tuple(self.transform)[:6]}, CRS {self.crs.to_string()}; got shape "
                f"{other.shape}, transform {tuple(other.transform)[:6]}, CRS {other.crs.to_string()}. "
                "Fix: align it with covgap.io.read_raster_onto(path, grid) or gdalwarp -tap."
            )

    def window(self, row0: int, row1: int, col0: int, col1: int) -> Grid:
        """The sub-grid of rows ``row0:row1`` and columns ``col0:col1``.

        The window keeps this grid's cell-centre coordinates exactly (sliced, not recomputed from
        its own origin), so a model run on a window gives the same per-cell values as on the
        whole grid.

        Examples
        --------
        >>> g = Grid.from_bounds(0, 0, 1_000, 1_000, res=(100, 100), crs="EPSG:32648")
        >>> w = g.window(2, 5, 3, 4)
        >>> w.shape, bool((w.x_centres() == g.x_centres()[3:4]).all())
        ((3, 1), True)
        """
        t = self.transform
        return Grid(
            crs=self.crs,
            transform=Affine(t.a, 0.0, t.c + col0 * t.a, 0.0, t.e, t.f + row0 * t.e),
            shape=(row1 - row0, col1 - col0),
            parent_x_centres=np.ascontiguousarray(self.x_centres()[col0:col1]),
            parent_y_centres=np.ascontiguousarray(self.y_centres()[row0:row1]),
        )

    def padded(self, n_cells: int) -> Grid:
        """This grid grown by ``n_cells`` whole cells on every side (same CRS and cell size, origin
        shifted by whole cells), so its cells stay aligned with this grid's: cell ``(r, c)`` here is
        cell ``(r + n_cells, c + n_cells)`` of the padded grid, with the same centre.

        Examples
        --------
        >>> g = Grid.from_bounds(0, 0, 1_000, 500, res=(100, 100), crs="EPSG:32648")
        >>> p = g.padded(2)
        >>> p.shape, p.bounds
        ((9, 14), (-200.0, -200.0, 1200.0, 700.0))
        >>> bool((p.x_centres()[2:-2] == g.x_centres()).all()), g.padded(0) == g
        (True, True)
        """
        n = int(n_cells)
        if n < 0 or n != n_cells:
            raise InputError(f"grid padding must be a whole number of cells >= 0; got {n_cells!r}.")
        if n == 0:
            return self
        t = self.transform
        return Grid(crs=self.crs, transform=Affine(t.a, 0.0, t.c - n * t.a, 0.0, t.e, t.f - n * t.e),
                    shape=(self.ny + 2 * n, self.nx + 2 * n))

    def cell_offset(self, other: Grid, *, tol: float = 1e-6) -> tuple[int, int] | None:
        """``(rows, cols)`` such that cell ``(r, c)`` of ``other`` is cell ``(r + rows, c + cols)`` of
        this grid, when both have the same CRS and cell size and their origins differ by whole cells
        (within ``tol`` of a cell); else ``None``.

        Examples
        --------
        >>> g = Grid.from_bounds(0, 0, 1_000, 500, res=(100, 100), crs="EPSG:32648")
        >>> g.padded(3).cell_offset(g), g.cell_offset(g.padded(3)), g.cell_offset(g.window(1, 2, 0, 5))
        ((3, 3), (-3, -3), (1, 0))
        """
        if not self.crs.equals(other.crs):
            return None
        a, b = self.transform, other.transform
        if abs(a.a - b.a) > tol * abs(a.a) / max(self.nx, 1) or abs(a.e - b.e) > tol * abs(a.e) / max(self.ny, 1):
            return None
        cols = (b.c - a.c) / a.a
        rows = (b.f - a.f) / a.e
        if abs(cols - round(cols)) > tol or abs(rows - round(rows)) > tol:
            return None
        return int(round(rows)), int(round(cols))

    def cells_for_distance(self, distance_m: float) -> int:
        """The fewest whole cells that span at least ``distance_m`` metres both east-west and
        north-south, everywhere within that distance of the grid (on a geographic grid a cell's width
        is taken at the latitude farthest from the equator: the grid's edge plus ``distance_m``).

        Examples
        --------
        >>> Grid.from_bounds(0, 0, 1_000, 1_000, res=(100, 100), crs="EPSG:32648").cells_for_distance(250)
        3
        >>> g = Grid.from_bounds(105.0, 0.0, 106.0, 1.0, res=(0.01, 0.01), crs="EPSG:4326")
        >>> g.cells_for_distance(11_119.5)  # 0.1 degree of latitude; longitude at 1.1 N barely shorter
        11
        """
        d = float(distance_m)
        if not math.isfinite(d) or d < 0:
            raise InputError(f"padding distance must be metres >= 0; got {distance_m!r}.")
        if d == 0:
            return 0
        dx, dy = self.res
        if self.is_geographic:
            dlat = math.degrees(d / EARTH_RADIUS_M)
            _, s, _, n = self.bounds
            lat_far = min(max(abs(s), abs(n)) + dlat, 89.9)
            dx_m = math.radians(dx) * EARTH_RADIUS_M * math.cos(math.radians(lat_far))
            dy_m = math.radians(dy) * EARTH_RADIUS_M
        else:
            dx_m, dy_m = dx, dy
        return int(math.ceil(round(d / min(dx_m, dy_m), 9)))

    def window_around(self, x: float, y: float, radius_m: float, *,
                      margin_cells: float = 2.0) -> tuple[int, int, int, int]:
        """Rows and columns ``(row0, row1, col0, col1)`` (end exclusive, clipped to the grid) of the
        window holding every cell centre within ``radius_m`` metres of ``(x, y)`` (grid CRS),
        plus ``margin_cells`` cells on each side. An empty window has ``row1 == row0`` or
        ``col1 == col0``.

        On a geographic grid the column half-width is taken at the window's latitude farthest
        from the equator (where a degree of longitude is shortest).

        Examples
        --------
        >>> g = Grid.from_bounds(0, 0, 1_000, 1_000, res=(100, 100), crs="EPSG:32648")
        >>> g.window_around(500, 500, 150)
        (1, 10, 1, 10)
        """
        dx, dy = self.res
        lat = float(self.to_lonlat(x, y)[1]) if self.is_geographic else 0.0
        if self.is_geographic:
            dlat = math.degrees(radius_m / EARTH_RADIUS_M)
            lat_far = min(abs(lat) + dlat, 89.9)
            dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat_far)), 1e-6)))
            rr, cc = dlat / dy + margin_cells, dlon / dx + margin_cells
        else:
            rr, cc = radius_m / dy + margin_cells, radius_m / dx + margin_cells
        t = self.transform
        rc = (y - t.f) / t.e
        ccn = (x - t.c) / t.a
        r0 = max(int(math.floor(rc - rr)), 0)
        r1 = min(int(math.ceil(rc + rr)) + 1, self.ny)
        c0 = max(int(math.floor(ccn - cc)), 0)
        c1 = min(int(math.ceil(ccn + cc)) + 1, self.nx)
        return r0, max(r1, r0), c0, max(c1, c0)

    def __repr__(self) -> str:
        return f"Grid(crs={self.crs.to_string()!r}, shape={self.shape}, res={self.res}, bounds={self.bounds})"


def _to_crs(value) -> CRS:
    if value is None:
        raise CRSError("grid has no CRS. Fix: give the CRS explicitly (e.g. 'EPSG:4326').")
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises its own CRSError
        raise CRSError(f"cannot understand CRS {value!r}: {exc}") from exc
