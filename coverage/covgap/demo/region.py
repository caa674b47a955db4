"""The demo region's outlines (country, neighbour, island, land border, coast) and its admin units."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import (
    _EAST,
    _NORTH,
    _PROVINCE_NAMES,
    _SOUTH,
    _SYLLABLES_LOWLAND,
    _SYLLABLES_UPLAND,
    _WEST,
    _ascii,
    _km,
    _NamePool,
    _Shapes,
    _Town,
    _wiggle,
)


# --------------------------------------------------------------------------- geometry
def _country_shapes(rng: np.random.Generator) -> _Shapes:
    """Coastline, land border, island; the two countries' land polygons."""
    import shapely
    from shapely.geometry import LineString, MultiPolygon, Polygon, box

    # Coastline: sea to the south, rising slightly to the east, with bays and headlands.
    coast_lon = np.linspace(_WEST - 0.01, _EAST + 0.01, 1021)
    coast_lat = (
        21.505
        + 0.055 * (coast_lon - _WEST)
        + _wiggle(rng, coast_lon, amplitude=0.05, n=5, base_freq=1.0, decay=0.6)
    )

    # Land border: from the west edge in the north, east then south-east down to the coast.
    ctrl_lon = np.array([_WEST - 0.01, 107.25, 107.5, 107.72, 107.95, 108.1])
    ctrl_lat = np.array([22.12, 22.09, 22.00, 21.82, 21.58, 21.40])
    ctrl_lat = ctrl_lat + np.r_[0.0, rng.uniform(-0.02, 0.02, 4), 0.0]
    b_lon = np.linspace(_WEST - 0.01, 108.1, 2222)
    taper = np.sin(np.pi * np.clip((b_lon - _WEST) / 0.95, 0, 1))
    b_lat = np.interp(b_lon, ctrl_lon, ctrl_lat) + taper * _wiggle(
        rng, b_lon, amplitude=0.025, n=5, base_freq=2.0, decay=0.7
    )
    c_at_b = np.interp(b_lon, coast_lon, coast_lat)
    below = np.flatnonzero((b_lat <= c_at_b) & (b_lon > _WEST + 0.5))
    i = int(below[0])  # first crossing of the coast
    d0, d1 = b_lat[i - 1] - c_at_b[i - 1], b_lat[i] - c_at_b[i]
    f = d0 / (d0 - d1)
    end_lon = float(b_lon[i - 1] + f * (b_lon[i] - b_lon[i - 1]))
    end_lat = float(np.interp(end_lon, coast_lon, coast_lat))
    keep = b_lon < end_lon
    border_pts = np.column_stack([b_lon[keep], b_lat[keep]])
    border_pts = np.vstack([border_pts, [end_lon, end_lat]])
    # the exported border starts exactly on the west edge of the grid
    start_lat = float(np.interp(_WEST, b_lon, b_lat))
    border_line = LineString(np.vstack([[_WEST, start_lat], border_pts[border_pts[:, 0] > _WEST]]))

    # Insert the border's end point into the coastline so both share it exactly.
    ci = int(np.searchsorted(coast_lon, end_lon))
    coast_lon = np.r_[coast_lon[:ci], end_lon, coast_lon[ci:]]
    coast_lat = np.r_[coast_lat[:ci], end_lat, coast_lat[ci:]]

    frame = box(_WEST, _SOUTH, _EAST, _NORTH)
    above_coast = Polygon(
        np.vstack(
            [
                np.column_stack([coast_lon, coast_lat]),
                [[_EAST + 0.01, _NORTH + 0.01], [_WEST - 0.01, _NORTH + 0.01]],
            ]
        )
    )
    # Neighbour side of the border: border, then out to sea, then round the north.
    north_side = Polygon(
        np.vstack(
            [
                [[_WEST - 0.01, _NORTH + 0.01]],
                border_pts,
                [[_EAST + 0.01, end_lat - 0.15]],
                [[_EAST + 0.01, _NORTH + 0.01]],
            ]
        )
    )

    # Island: a wobbly, slightly rotated ellipse 4–6 km offshore.
    cx = float(rng.uniform(107.55, 107.7))
    near = np.abs(coast_lon - cx) < 0.08
    cy = max(float(coast_lat[near].min()) - 0.07, _SOUTH + 0.035)
    t = np.linspace(0, 2 * np.pi, 181)[:-1]
    rad = (
        1.0
        + 0.12 * np.sin(3 * t + rng.uniform(0, 2 * np.pi))
        + 0.06 * np.sin(5 * t + rng.uniform(0, 2 * np.pi))
    )
    ax, ay, rot = 0.05, 0.016, np.radians(rng.uniform(-15, 15))
    ex, ey = ax * rad * np.cos(t), ay * rad * np.sin(t)
    island = Polygon(
        np.column_stack(
            [cx + ex * np.cos(rot) - ey * np.sin(rot), cy + ex * np.sin(rot) + ey * np.cos(rot)]
        )
    )
    island = island.intersection(frame).difference(above_coast.buffer(0.01))
    if island.geom_type != "Polygon":  # (never for the seeds tested; keep one clean part)
        island = max(getattr(island, "geoms", []), key=lambda g: g.area)

    land_main = frame.intersection(above_coast)
    land = shapely.union(land_main, island)
    mainland_parts = land_main.difference(north_side)
    parts = list(getattr(mainland_parts, "geoms", [mainland_parts]))
    parts = [p for p in parts if p.area > 1e-6]
    mainland = max(parts, key=lambda p: p.area)
    neighbour = land_main.intersection(north_side)
    country = MultiPolygon([mainland, island])
    return _Shapes(
        land=land,
        country=country,
        mainland=mainland,
        island=island,
        neighbour=neighbour,
        border=border_line,
        coast_lon=coast_lon,
        coast_lat=coast_lat,
    )




# --------------------------------------------------------------------------- admin units
def _spread_points(rng: np.random.Generator, geom, n: int, *, candidates: int = 600) -> np.ndarray:
    """``n`` well-spread points inside ``geom`` (farthest-point sampling of random candidates)."""
    from shapely import contains_xy

    w, s, e, nn = geom.bounds
    pts = np.empty((0, 2))
    while len(pts) < candidates:
        x = rng.uniform(w, e, candidates)
        y = rng.uniform(s, nn, candidates)
        inside = contains_xy(geom, x, y)
        pts = np.vstack([pts, np.column_stack([x[inside], y[inside]])])
    pts = pts[:candidates]
    chosen = [0]
    d = _km(pts[0, 0], pts[0, 1], pts[:, 0], pts[:, 1])
    while len(chosen) < n:
        k = int(np.argmax(d))
        chosen.append(k)
        d = np.minimum(d, _km(pts[k, 0], pts[k, 1], pts[:, 0], pts[:, 1]))
    return pts[chosen]


def _voronoi_split(geom, seeds: np.ndarray) -> list:
    """Split ``geom`` into the Voronoi cells of ``seeds`` (same order as ``seeds``)."""
    import shapely
    from shapely.geometry import MultiPoint, box

    w, s, e, n = geom.bounds
    cells = shapely.voronoi_polygons(
        MultiPoint(seeds), extend_to=box(w - 1, s - 1, e + 1, n + 1), ordered=True
    )
    return [shapely.intersection(c, geom) for c in cells.geoms]


def _as_multi(geom):
    from shapely.geometry import MultiPolygon, Polygon

    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(parts)


def _admin(
    rng: np.random.Generator, shapes: _Shapes, towns: list[_Town]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Provinces (Voronoi of spread seeds in the mainland) and communes (Voronoi inside each)."""
    import shapely

    n_prov = 5
    seeds = _spread_points(rng, shapes.mainland, n_prov)
    seeds = seeds[np.argsort(seeds[:, 0], kind="stable")]  # codes run west → east
    prov_main = _voronoi_split(shapes.mainland, seeds)
    ic = shapes.island.centroid
    island_prov = int(np.argmin(_km(seeds[:, 0], seeds[:, 1], ic.x, ic.y)))
    prov_names = [_PROVINCE_NAMES[i] for i in rng.permutation(len(_PROVINCE_NAMES))[:n_prov]]
    commune_names = _NamePool(rng, _SYLLABLES_UPLAND + _SYLLABLES_LOWLAND)

    prov_rows, com_rows = [], []
    for p in range(n_prov):
        code = f"D{p + 1:02d}"
        geom = prov_main[p]
        if p == island_prov:
            geom = shapely.union(geom, shapes.island)
        prov_rows.append(
            {
                "code": code,
                "name": f"Tỉnh {prov_names[p]}",
                "name_en": _ascii(prov_names[p]),
                "geometry": _as_multi(geom),
            }
        )
        n_com = int(rng.integers(8, 11))
        cseeds = _spread_points(rng, prov_main[p], n_com)
        cseeds = cseeds[np.lexsort((cseeds[:, 0], -np.round(cseeds[:, 1], 2)))]  # north → south
        cells = _voronoi_split(prov_main[p], cseeds)
        if p == island_prov:
            cells.append(shapes.island)
        for k, cell in enumerate(cells):
            is_island = p == island_prov and k == len(cells) - 1
            big_town = any(
                t.population >= 10_000 and cell.contains(shapely.Point(t.lon, t.lat)) for t in towns
            )
            kind = "Xã đảo" if is_island else ("Phường" if big_town else "Xã")
            com_rows.append(
                {
                    "code": f"{code}{k + 1:03d}",
                    "name": f"{kind} {commune_names.take()}",
                    "province_code": code,
                    "geometry": _as_multi(cell),
                }
            )
    return pd.DataFrame.from_records(prov_rows), pd.DataFrame.from_records(com_rows)


def _province_of(provinces: pd.DataFrame, lon, lat) -> np.ndarray:
    from shapely import contains_xy

    out = np.full(len(np.atleast_1d(lon)), "", dtype=object)
    for row in provinces.itertuples(index=False):
        inside = contains_xy(row.geometry, np.asarray(lon, "f8"), np.asarray(lat, "f8"))
        out[inside & (out == "")] = row.code
    return out
