"""Per-cell lenses: border distance and belt, islands, mountains, ruggedness, density class.

A *lens* is a boolean mask on the study grid that selects a kind of place — within 20 km of the land
border, on an island, in the mountains, urban centre — so that every per-unit table can say how many
people, and how many uncovered people, live there (:mod:`covgap.lenses.tables`).

Distances are great-circle distances on the sphere of mean radius :data:`covgap.grid.EARTH_RADIUS_M`
(right at every latitude of the study area), computed exactly to densified border vertices with a
KD-tree on earth-centred unit vectors: the error is at most half the vertex spacing, which defaults
to half a cell.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import scipy.ndimage as ndi
import shapely
from rasterio import features
from scipy.spatial import cKDTree

from ..constants import BORDER_BELT_KM
from ..errors import CRSError, InputError
from ..grid import EARTH_RADIUS_M, Grid, unit_vectors

__all__ = [
    "DENSITY_CLASSES",
    "URBAN_CENTRE_DENSITY_PER_KM2",
    "URBAN_CLUSTER_DENSITY_PER_KM2",
    "land_border_lines",
    "distance_to_border_km",
    "distance_to_border_points_km",
    "border_belt",
    "island_mask",
    "ruggedness_tri_m",
    "elevation_std_m",
    "density_per_km2",
    "density_class",
    "mountain_mask",
    "land_border_arc",
]

#: Degree of Urbanisation (GHSL / Eurostat, UN Statistical Commission 2020) grid-cell density
#: thresholds, inhabitants per km²: urban centre ≥ 1,500, urban cluster ≥ 300, rural below.
#: Source: European Commission & Eurostat (2021), *Applying the Degree of Urbanisation — A
#: methodological manual to define cities, towns and rural areas for international comparisons*,
#: §2 (also Dijkstra et al. 2021, J. Urban Econ. 125:103312).
URBAN_CENTRE_DENSITY_PER_KM2 = 1500.0
URBAN_CLUSTER_DENSITY_PER_KM2 = 300.0
#: Minimum cluster populations of the same manual (urban centre 50,000; urban cluster 5,000).
_URBAN_CENTRE_MIN_POP = 50_000.0
_URBAN_CLUSTER_MIN_POP = 5_000.0

#: Codes returned by :func:`density_class`.
DENSITY_CLASSES: dict[int, str] = {0: "rural", 1: "urban cluster", 2: "urban centre"}


# --------------------------------------------------------------------------- geometry helpers
def _as_geoms_4326(geoms: Any, *, what: str) -> list:
    """Return shapely geometries in EPSG:4326 (a GeoSeries/GeoDataFrame needs a CRS)."""
    if isinstance(geoms, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if geoms.crs is None:
            raise CRSError(
                f"{what} has no CRS; covgap never guesses one. Fix: set it (e.g. EPSG:4326)."
            )
        s = geoms.to_crs("EPSG:4326")
        s = s.geometry if isinstance(s, gpd.GeoDataFrame) else s
        return [g for g in s.to_numpy() if g is not None and not g.is_empty]
    if isinstance(geoms, shapely.Geometry):
        return [geoms]
    return [g for g in geoms if g is not None and not g.is_empty]


def land_border_lines(
    country: Any, neighbours: Any, *, snap_m: float = 1000.0
) -> shapely.MultiLineString:
    """Return the land border: the country outline parts within ``snap_m`` of a neighbour.

    The coastline is the rest of the outline. Boundary files of neighbouring countries rarely share
    vertices, hence the snapping distance.

    Parameters
    ----------
    country : GeoSeries, GeoDataFrame or shapely geometry
        The country polygon(s) (EPSG:4326 when bare shapely geometries).
    neighbours : GeoSeries, GeoDataFrame or iterable of shapely geometries
        Polygons of the neighbouring countries (e.g. geoBoundaries ADM0 of CHN, LAO, KHM).
    snap_m : float
        Outline parts closer than this to a neighbour count as land border.

    Returns
    -------
    shapely.MultiLineString
        In EPSG:4326 degrees.

    """
    c = shapely.union_all(_as_geoms_4326(country, what="country outline"))
    n = shapely.union_all(_as_geoms_4326(neighbours, what="neighbour polygons"))
    buf = n.buffer(snap_m / 111_320.0)  # degrees of latitude; ≤ snap_m in longitude too
    lines = shapely.intersection(c.boundary, buf)
    parts = [g for g in shapely.get_parts(lines) if g.geom_type in ("LineString", "LinearRing")]
    return shapely.MultiLineString([shapely.LineString(p.coords) for p in parts])


# --------------------------------------------------------------------------- distance to border
def distance_to_border_km(
    grid: Grid,
    border_lines: Any,
    *,
    spacing_m: float | None = None,
    max_km: float | None = None,
    chunk_rows: int = 512,
) -> np.ndarray:
    """Compute the great-circle distance (km) from every cell centre to the land border.

    Parameters
    ----------
    grid : covgap.grid.Grid
        The study grid (geographic or projected).
    border_lines : GeoSeries, GeoDataFrame, shapely geometry or iterable of geometries
        The **land** border lines (not the coastline; see :func:`land_border_lines`). Bare shapely
        geometries are taken as EPSG:4326 lon/lat.
    spacing_m : float, optional
        Vertex spacing used to densify the lines; default half the smaller cell side, so the
        distance error is at most half the spacing (a quarter cell), and much less for cells farther
        than a few spacings from the border.
    max_km : float, optional
        Cells farther than this get ``inf``. Much faster: for the border-belt lens pass the belt
        width (national 1 km grid, 1.5 M cells: about 13 s unbounded, 3 s with ``max_km=25`` on one
        core); use :func:`distance_to_border_points_km` for gap centroids and hamlets.
    chunk_rows : int
        Rows per KD-tree query batch (bounds memory).

    Returns
    -------
    numpy.ndarray
        float64 ``(ny, nx)`` distances in km.

    Examples
    --------
    >>> g = Grid.from_bounds(105.0, 21.0, 105.1, 21.1, res=(0.01, 0.01), crs="EPSG:4326")
    >>> d = distance_to_border_km(g, shapely.LineString([(105.0, 20.0), (105.0, 22.0)]), spacing_m=10)
    >>> round(float(d[0, 0]), 2)  # 0.005° of longitude at 21.095°N
    0.52

    """
    if spacing_m is None:
        dx, dy = grid.cell_size_m()
        spacing_m = max(float(min(dx.min(), dy.min())) / 2.0, 1.0)
    # Two stages, same error bound: a coarse tree (vertices every S) is exact to S²/(8d) at distance
    # d, within spacing/2 beyond d_switch = S²/(4·spacing); cells nearer than that are re-queried
    # against the fine tree. Most cells are far from the border, so this is several times faster.
    coarse_m = max(20.0 * spacing_m, 1000.0)
    d_switch_km = coarse_m**2 / (4.0 * spacing_m) / 1000.0 + coarse_m / 2000.0
    coarse = _border_tree(border_lines, coarse_m)
    fine = _border_tree(border_lines, spacing_m)
    out = np.empty(grid.shape, dtype=np.float64)
    xs = grid.x_centres()
    ys = grid.y_centres()
    for r0 in range(0, grid.ny, chunk_rows):
        r1 = min(grid.ny, r0 + chunk_rows)
        xx, yy = np.meshgrid(xs, ys[r0:r1])
        lon, lat = (np.ravel(a) for a in grid.to_lonlat(xx, yy))
        d = _query_km(coarse, lon, lat, np.inf)
        near = d < d_switch_km
        if near.any():
            d[near] = _query_km(fine, lon[near], lat[near], np.inf)
        out[r0:r1] = d.reshape(r1 - r0, grid.nx)
    if max_km is not None:
        out[out > max_km] = np.inf
    return out


def distance_to_border_points_km(
    lon, lat, border_lines: Any, *, spacing_m: float = 50.0, max_km: float | None = None
) -> np.ndarray:
    """Compute the great-circle distance (km) from points (e.g. gap centroids, hamlets) to the border.

    Same method as :func:`distance_to_border_km`, for points given in lon/lat degrees; the error is
    at most ``spacing_m / 2``.

    Examples
    --------
    >>> line = shapely.LineString([(105.0, 20.0), (105.0, 22.0)])
    >>> d = distance_to_border_points_km([105.1, 105.0], [21.0, 21.0], line, spacing_m=1)
    >>> np.round(d, 2).tolist()
    [10.38, 0.0]

    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if lon.shape != lat.shape:
        raise InputError(f"lon has shape {lon.shape}, lat {lat.shape}.")
    tree = _border_tree(border_lines, spacing_m)
    return _query_km(tree, lon.ravel(), lat.ravel(), _chord_bound(max_km)).reshape(lon.shape)


def _border_tree(border_lines: Any, spacing_m: float) -> cKDTree:
    """Return a KD-tree of the border densified every ``spacing_m``, as earth-centred unit vectors."""
    geoms = _as_geoms_4326(border_lines, what="border lines")
    if not geoms:
        raise InputError("border lines are empty. Fix: give the land border as line features.")
    lines = shapely.union_all(
        [shapely.boundary(g) if g.geom_type in ("Polygon", "MultiPolygon") else g for g in geoms]
    )
    pts = shapely.get_coordinates(shapely.segmentize(lines, spacing_m / 111_320.0))
    if len(pts) == 0:
        raise InputError("border lines have no vertices.")
    return cKDTree(unit_vectors(pts[:, 0], pts[:, 1]))


def _chord_bound(max_km: float | None) -> float:
    if max_km is None:
        return np.inf
    return 2.0 * np.sin(min(max_km * 1000.0 / EARTH_RADIUS_M, np.pi) / 2.0)


def _query_km(tree: cKDTree, lon: np.ndarray, lat: np.ndarray, ub: float) -> np.ndarray:
    chord, _ = tree.query(unit_vectors(lon, lat), distance_upper_bound=ub, workers=-1)
    chord = np.asarray(chord)
    d = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)) / 1000.0
    d[~np.isfinite(chord)] = np.inf
    return d


def border_belt(distance_km: np.ndarray, belt_km: float = BORDER_BELT_KM) -> np.ndarray:
    """Mask the cells within ``belt_km`` of the land border.

    Examples
    --------
    >>> border_belt(np.array([0.0, 19.9, 20.0, 25.0, np.inf]), 20).tolist()
    [True, True, True, False, False]

    """
    if not belt_km > 0:
        raise InputError(f"belt_km must be positive, got {belt_km!r}.")
    d = np.asarray(distance_km, dtype=np.float64)
    return np.isfinite(d) & (d <= belt_km)


# --------------------------------------------------------------------------- islands
def island_mask(
    grid: Grid, country_polygons: Any, *, mainland_gap_m: float = 0.0, all_touched: bool = True
) -> np.ndarray:
    """Mask cells on islands: polygon parts of the country that do not touch the main landmass.

    The main landmass is the largest part (geodesic area) of the union of ``country_polygons``;
    parts within ``mainland_gap_m`` of it count as mainland. Island cells are those touched by an
    island part (``all_touched=True`` keeps islands smaller than a cell) and whose centre is not on
    the mainland.

    Parameters
    ----------
    grid : covgap.grid.Grid
        The study grid.
    country_polygons : GeoSeries, GeoDataFrame, shapely geometry or iterable of geometries
        The country outline or its admin units (EPSG:4326 when bare geometries).
    mainland_gap_m : float
        Parts closer than this to the mainland are mainland.
    all_touched : bool
        Rasterise island parts with all touched cells (default) or cell centres.

    Returns
    -------
    numpy.ndarray
        bool ``(ny, nx)``.

    """
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    parts = list(
        shapely.get_parts(
            shapely.union_all(_as_geoms_4326(country_polygons, what="country polygons"))
        )
    )
    parts = [p for p in parts if p.geom_type == "Polygon"]
    if not parts:
        raise InputError("country polygons are empty.")
    areas = [abs(geod.geometry_area_perimeter(p)[0]) for p in parts]
    main = parts[int(np.argmax(areas))]
    gap_deg = mainland_gap_m / 111_320.0
    mainland = [p for p in parts if p is main or (gap_deg > 0 and p.distance(main) <= gap_deg)]
    islands = [p for p in parts if not any(p is m for m in mainland)]
    if not islands:
        return np.zeros(grid.shape, dtype=bool)
    to_grid = _to_grid_crs(grid)
    isl = features.rasterize(
        ((to_grid(p), 1) for p in islands),
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        all_touched=all_touched,
        dtype="uint8",
    ).astype(bool)
    mnl = features.rasterize(
        ((to_grid(p), 1) for p in mainland),
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        all_touched=False,
        dtype="uint8",
    ).astype(bool)
    return isl & ~mnl


def _to_grid_crs(grid: Grid):
    if grid.is_geographic:
        return lambda g: g
    return lambda g: shapely.transform(
        g, lambda xy: np.column_stack(grid.from_lonlat(xy[:, 0], xy[:, 1]))
    )


# --------------------------------------------------------------------------- terrain
def _neighbours(z: np.ndarray) -> np.ndarray:
    """Return the 8 neighbours of every cell, NaN beyond the edge: shape (8, ny, nx)."""
    p = np.pad(z.astype(np.float64), 1, constant_values=np.nan)
    ny, nx = z.shape
    return np.stack(
        [
            p[1 + dr : 1 + dr + ny, 1 + dc : 1 + dc + nx]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (dr, dc) != (0, 0)
        ]
    )


def ruggedness_tri_m(elevation_m: np.ndarray) -> np.ndarray:
    """Terrain Ruggedness Index (Riley, DeGloria & Elliot 1999), metres.

    ``TRI = sqrt(Σ (z_n − z_0)²)`` over the 8 neighbours n of cell 0 (Riley et al. 1999,
    Intermountain J. Sci. 5:23–27). Depends on the cell size: compare values only on the same grid.
    NaN where the cell or any neighbour is NaN (unknown terrain, grid edge).

    Examples
    --------
    >>> z = np.zeros((3, 3)); z[1, 1] = 10.0
    >>> float(ruggedness_tri_m(z)[1, 1]) == float(np.sqrt(8 * 100))
    True

    """
    z = np.asarray(elevation_m, dtype=np.float64)
    nb = _neighbours(z)
    return np.sqrt(((nb - z[None]) ** 2).sum(axis=0))


def elevation_std_m(elevation_m: np.ndarray) -> np.ndarray:
    """Compute the standard deviation of elevation in the 3×3 window (population std), metres.

    NaN at the grid edge and next to unknown terrain.

    Examples
    --------
    >>> z = np.arange(9.0).reshape(3, 3)
    >>> round(float(elevation_std_m(z)[1, 1]), 4) == round(float(np.std(z)), 4)
    True

    """
    z = np.asarray(elevation_m, dtype=np.float64)
    win = np.concatenate([_neighbours(z), z[None]], axis=0)
    return win.std(axis=0)


# --------------------------------------------------------------------------- density
def density_per_km2(population: np.ndarray, grid: Grid) -> np.ndarray:
    """Return people per km² of each cell (exact cell areas, see :meth:`Grid.cell_area_km2`)."""
    pop = np.asarray(population, dtype=np.float64)
    if pop.shape != grid.shape:
        raise InputError(f"population has shape {pop.shape}, the grid {grid.shape}.")
    return pop / grid.cell_area_km2()


def density_class(
    population: np.ndarray,
    grid: Grid,
    *,
    cluster_rules: bool = False,
    urban_centre_per_km2: float = URBAN_CENTRE_DENSITY_PER_KM2,
    urban_cluster_per_km2: float = URBAN_CLUSTER_DENSITY_PER_KM2,
) -> np.ndarray:
    """Classify cells by density: 0 rural, 1 urban cluster, 2 urban centre (:data:`DENSITY_CLASSES`).

    Default: density thresholds only (per cell: ≥ 1,500/km² urban centre, ≥ 300/km² urban cluster,
    else rural), the grid-cell thresholds of the Degree of Urbanisation (see
    :data:`URBAN_CENTRE_DENSITY_PER_KM2`). With ``cluster_rules=True`` the manual's contiguity and
    size rules are applied too — urban centres are 4-connected high-density cells totalling ≥ 50,000
    people, urban clusters 8-connected ≥ 300/km² cells totalling ≥ 5,000 — which is meaningful on 1
    km² cells only (gap filling and smoothing of the manual are not applied).

    Examples
    --------
    >>> g = Grid.from_bounds(0, 0, 3000, 1000, res=(1000, 1000), crs="EPSG:32648")
    >>> density_class(np.array([[100.0, 400.0, 2000.0]]), g).tolist()
    [[0, 1, 2]]

    """
    dens = density_per_km2(population, grid)
    pop = np.asarray(population, dtype=np.float64)
    hi = dens >= urban_centre_per_km2
    mid = dens >= urban_cluster_per_km2
    if not cluster_rules:
        return np.where(hi, 2, np.where(mid, 1, 0)).astype(np.int8)
    four = ndi.generate_binary_structure(2, 1)
    eight = ndi.generate_binary_structure(2, 2)
    lab, n = ndi.label(hi, structure=four)
    sums = np.bincount(lab.ravel(), weights=pop.ravel(), minlength=n + 1)
    centre = (lab > 0) & (sums[lab] >= _URBAN_CENTRE_MIN_POP)
    lab, n = ndi.label(mid, structure=eight)
    sums = np.bincount(lab.ravel(), weights=pop.ravel(), minlength=n + 1)
    cluster = (lab > 0) & (sums[lab] >= _URBAN_CLUSTER_MIN_POP)
    return np.where(centre, 2, np.where(cluster, 1, 0)).astype(np.int8)


def land_border_arc(outline, *, start: tuple[float, float], via: tuple[float, float],
                    end: tuple[float, float]) -> shapely.LineString:
    """The land border as the arc of a country outline between two coastal end points.

    Public boundary files (geoBoundaries ADM0) give the country outline, coast and land border
    together. Where the land border is one continuous stretch, it is the part of the main
    polygon's outline from ``start`` to ``end`` that passes ``via`` (a point on the land
    border); the other arc is the coastline. Points are lon/lat; each is snapped to the nearest
    outline vertex. For Viet Nam: from the Ka Long river mouth at Móng Cái (108.0 E, 21.53 N)
    via Lao Bảo (106.59 E, 16.62 N) to Hà Tiên (104.45 E, 10.42 N).

    Examples
    --------
    >>> sq = shapely.box(0, 0, 10, 10).segmentize(1.0)  # a vertex every unit
    >>> arc = land_border_arc(sq, start=(10, 5), via=(0, 5), end=(5, 0))  # 5 + 10 + 10 + 5
    >>> round(arc.length, 6)
    30.0
    """
    geoms = list(shapely.get_parts(outline if not hasattr(outline, "geometry") else shapely.union_all(outline.geometry.values)))
    polys = [g for g in geoms if g.geom_type == "Polygon"]
    if not polys:
        raise InputError("the country outline has no polygon to take the land border from.")
    main = max(polys, key=lambda p: p.area)
    ring = np.asarray(main.exterior.coords)[:-1]
    n = len(ring)

    def nearest(pt):
        return int(np.argmin((ring[:, 0] - pt[0]) ** 2 + (ring[:, 1] - pt[1]) ** 2))

    i0, iv, i1 = nearest(start), nearest(via), nearest(end)
    if len({i0, iv, i1}) < 3:
        raise InputError(f"land border arc: start {start}, via {via} and end {end} snap to the same outline vertex. "
                         "Fix: give three distinct points along the land border.")
    fwd = [(i0 + k) % n for k in range((i1 - i0) % n + 1)]
    arc = fwd if iv in set(fwd) else [(i0 - k) % n for k in range((i0 - i1) % n + 1)]
    return shapely.LineString(ring[arc])


def mountain_mask(dem: np.ndarray, grid: Grid, *, window_km: float = 7.0) -> np.ndarray:
    """Kapos et al. (2000) mountain cells (classes 1–6) from elevation in metres.

    Kapos, V., Rhind, J., Edwards, M., Price, M.F., Ravilious, C. (2000). Developing a map of
    the world's mountain forests. In: Forests in Sustainable Mountain Development, IUFRO
    Research Series 5, CABI, pp. 4–9. NaN elevation is not mountain.

    Examples
    --------
    >>> g = Grid.from_bounds(0, 0, 900, 900, res=(90, 90), crs="EPSG:32648")
    >>> bool(mountain_mask(np.full((10, 10), 3000.0), g).all())
    True
    """
    z = np.asarray(dem, dtype=np.float64)
    known = np.isfinite(z)
    zf = np.where(known, z, np.nanmin(z) if known.any() else 0.0)
    dx, dy = grid.cell_size_m()
    gy, gx = np.gradient(zf)
    slope_deg = np.degrees(np.arctan(np.hypot(gx / dx[:, None], gy / dy[:, None])))
    half_cells_y = max(1, int(round(window_km * 1000 / float(np.mean(dy)))))
    half_cells_x = max(1, int(round(window_km * 1000 / float(np.mean(dx)))))
    size = (2 * half_cells_y + 1, 2 * half_cells_x + 1)
    ler = ndi.maximum_filter(zf, size=size, mode="nearest") - ndi.minimum_filter(zf, size=size, mode="nearest")
    m = (zf >= 2500) \
        | ((zf >= 1500) & (slope_deg >= 2)) \
        | ((zf >= 1000) & ((slope_deg >= 5) | (ler > 300))) \
        | ((zf >= 300) & (ler > 300))
    return m & known
