"""The demo region's rivers and terrain (a mountain belt along the border, valleys, coastal lowlands)."""

from __future__ import annotations

import numpy as np

from ._common import (
    _KM_PER_DEG,
    _NORTH,
    _RES,
    _WEST,
    DEMO_SHAPE,
    _cell_km,
    _centres,
    _fbm,
    _rasterize,
    _Shapes,
    _wiggle,
)


# --------------------------------------------------------------------------- terrain
def _rivers(rng: np.random.Generator, shapes: _Shapes) -> list[np.ndarray]:
    """River centre lines, ``(n, 2)`` lon/lat arrays, from the border mountains to the coast."""
    from shapely import contains_xy

    border = np.asarray(shapes.border.coords)
    rivers = []
    starts = np.linspace(107.08, 107.82, 6) + rng.uniform(-0.03, 0.03, 6)
    for s_lon in starts:
        b_lat = float(np.interp(s_lon, border[:, 0], border[:, 1]))
        s_lat = b_lat - rng.uniform(0.04, 0.08)
        m_lon = s_lon + rng.uniform(0.0, 0.10)
        m_lat = float(np.interp(m_lon, shapes.coast_lon, shapes.coast_lat)) - 0.01
        t = np.linspace(0.0, 1.0, 1500)
        lon = s_lon + (m_lon - s_lon) * t
        lat = s_lat + (m_lat - s_lat) * t
        length = np.hypot(m_lon - s_lon, m_lat - s_lat)
        nx_, ny_ = -(m_lat - s_lat) / length, (m_lon - s_lon) / length  # unit normal
        mean = _wiggle(rng, t, amplitude=0.04, n=4, base_freq=1.0, decay=0.6) * np.sin(np.pi * t)
        lon, lat = lon + nx_ * mean, lat + ny_ * mean
        inside = contains_xy(shapes.mainland, lon, lat)
        if inside.sum() < 100:
            continue
        # keep the river from its source to where it first meets the sea
        last = int(np.flatnonzero(inside)[-1])
        rivers.append(np.column_stack([lon[: last + 2], lat[: last + 2]]))
    return rivers


def _terrain(rng: np.random.Generator, shapes: _Shapes, rivers: list[np.ndarray]) -> np.ndarray:
    """Elevation (m, float32): border mountains, valleys, coastal plain, island hill."""
    from scipy.ndimage import distance_transform_edt

    dy_km, dx_km = _cell_km()
    lon, lat = _centres()
    land = _rasterize([shapes.land])
    border_cells = _rasterize([shapes.border], all_touched=True)
    d_border = distance_transform_edt(~border_cells, sampling=(dy_km, dx_km))
    d_coast = distance_transform_edt(land, sampling=(dy_km, dx_km))

    # Mountains along the border (both sides), rising inland from the coast, with hills
    # everywhere (multiplicative fBm relief); the highest peak is scaled to 1,650–1,950 m.
    belt = 750.0 * np.exp(-((d_border / 12.0) ** 2)) + 450.0 * np.exp(-((d_border / 32.0) ** 2))
    inland = 300.0 * (1.0 - np.exp(-d_coast / 10.0))
    macro = 20.0 + inland + belt
    rough = _fbm(rng, beta=3.2)
    detail = _fbm(rng, beta=2.3)
    elev = macro * np.exp(0.45 * rough) + 0.06 * macro * detail
    elev *= rng.uniform(1650.0, 1950.0) / float(elev[land].max())
    elev = np.maximum(elev, 2.0 + 1.5 * d_coast)

    # River valleys: carve towards a floor that falls from the source to the mouth.
    floor = np.full(DEMO_SHAPE, np.inf)
    width = np.zeros(DEMO_SHAPE)
    for pts in rivers:
        t = np.linspace(0.0, 1.0, len(pts))
        f = 5.0 + rng.uniform(120.0, 220.0) * (1.0 - t) ** 1.5  # floor (m), source → mouth
        w = 0.7 + 2.0 * t  # valley half-width (km), widening downstream
        rows = np.floor((_NORTH - pts[:, 1]) / _RES).astype(int)
        cols = np.floor((pts[:, 0] - _WEST) / _RES).astype(int)
        ok = (rows >= 0) & (rows < DEMO_SHAPE[0]) & (cols >= 0) & (cols < DEMO_SHAPE[1])
        for r, c, fv, wv in zip(rows[ok], cols[ok], f[ok], w[ok], strict=True):
            if fv < floor[r, c]:
                floor[r, c] = fv
                width[r, c] = wv
    river_cells = np.isfinite(floor)
    if river_cells.any():
        d_river, (ir, ic) = distance_transform_edt(
            ~river_cells, sampling=(dy_km, dx_km), return_indices=True
        )
        f_near = floor[ir, ic]
        w_near = width[ir, ic]
        keep = 1.0 - np.exp(-((d_river / w_near) ** 2))
        carved = f_near + (elev - f_near) * keep
        elev = np.where(elev > f_near, np.minimum(elev, carved), elev)

    # The island: one hill of a couple of hundred metres.
    cx, cy = shapes.island.centroid.x, shapes.island.centroid.y
    rx = (lon[None, :] - cx) * _KM_PER_DEG * np.cos(np.radians(cy))
    ry = (lat[:, None] - cy) * _KM_PER_DEG
    hill = rng.uniform(160.0, 280.0) * np.exp(-(rx**2 + ry**2) / (2 * 1.6**2))
    island_cells = _rasterize([shapes.island])
    elev = np.where(island_cells, np.maximum(hill * (1 + 0.15 * rough), 3.0 + d_coast * 8), elev)

    elev = np.where(land, np.maximum(elev, 1.0), 0.0)
    return elev.astype(np.float32)
