"""The demo region's land cover: ESA WorldCover class codes, SYNTHETIC, from the demo's own terrain and people.

Rules, in order (later rules win), on the demo grid:

* everything on land starts as **cropland (40)** — the valley floors and coastal plain;
* **tree cover (10)** on the slopes: above 120 m or steeper than 8° (with a smooth random
  edge so the forest line is not a contour), **shrubland (20)** in a band where the
  forest thins out, **grassland (30)** on the highest ridges (above 1,500 m);
* **built-up (50)** where the demo's people are dense (at least 8 people per 90 m cell, about 1,000 per km²:
  the towns and the large hamlets);
* **mangroves (95)** on the lowest coastal fringe (at most 5 m, within 1 km of the sea);
* **water (80)** over the sea and along the rivers (one cell wide).

The random edge comes from its own stream (``seed + 1``), so adding the land cover did not
change any other demo file.
"""

from __future__ import annotations

import numpy as np

from ._common import _cell_km, _fbm, _rasterize, _Shapes

__all__: list[str] = []  # private: covgap.demo.make_demo_inputs writes it

#: People per cell from which a demo cell is built-up.
BUILT_UP_MIN_PEOPLE = 8.0


def _landcover(seed: int, shapes: _Shapes, elev: np.ndarray, rivers: list[np.ndarray],
               pop: np.ndarray) -> np.ndarray:
    """Class codes (uint8) on the demo grid."""
    from scipy.ndimage import distance_transform_edt
    from shapely.geometry import LineString

    rng = np.random.default_rng(seed + 1)
    dy_km, dx_km = _cell_km()
    land = _rasterize([shapes.land])
    gy, gx = np.gradient(elev.astype("f8"), dy_km * 1000.0, dx_km * 1000.0)
    slope_deg = np.degrees(np.arctan(np.hypot(gx, gy)))
    edge = _fbm(rng, beta=3.0)  # smooth, std 1
    forest_line = 120.0 + 60.0 * edge
    lc = np.full(elev.shape, 40, dtype=np.uint8)
    forest = (elev > forest_line) | (slope_deg > 8.0 + 2.0 * edge)
    shrub = forest & (elev < forest_line + 40.0) & (slope_deg < 12.0)
    lc[forest] = 10
    lc[shrub] = 20
    lc[elev > 1500.0 + 80.0 * edge] = 30
    people = np.where(np.isfinite(pop), pop, 0.0)
    lc[people >= BUILT_UP_MIN_PEOPLE] = 50
    d_sea = distance_transform_edt(land, sampling=(dy_km, dx_km))
    lc[land & (elev <= 5.0) & (d_sea <= 1.0)] = 95
    river_cells = _rasterize([LineString(p) for p in rivers if len(p) >= 2], all_touched=True)
    lc[river_cells & land] = 80
    lc[~land] = 80
    return lc
