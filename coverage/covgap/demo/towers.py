"""The demo region's towers: three operators' sites placed so that some hamlets stay without signal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import (
    _EAST,
    _KM_PER_DEG,
    _NORTH,
    _OPERATORS,
    _SOUTH,
    _WEST,
    DEMO_SHAPE,
    _centres,
    _in_country,
    _km,
    _rasterize,
    _Shapes,
    _Town,
)

# --------------------------------------------------------------------------- towers
#: Radii (km) the demo's gaps are tuned against: the Mobile Coverage Explorer fallback radii
#: that :class:`covgap.models.radius.RadiusModel` uses by default (GSM 12 km, 3G/4G 4 km).
_TUNING_RADIUS_KM = {"2G": 12.0, "3G": 4.0, "4G": 4.0}
#: Optional (rural and hilltop) sites are only built while at least these shares of the
#: people stay without any signal / without 4G under the radii above, so the demo keeps
#: realistic gaps (a few per cent with no signal at all, a fifth to a third without 4G).
_MIN_SHARE_NO_SIGNAL = 0.03
_MIN_SHARE_NO_4G = 0.22


class _CoverageTally:
    """Population covered by the sites placed so far (radius model, populated cells only)."""

    def __init__(self, pop: np.ndarray, *, block: int = 8) -> None:
        # Tally on 8 × 8-cell blocks (24″, ~0.7 km): fast, and close enough for tuning.
        ny, nx = DEMO_SHAPE
        people = pop.astype("f8").reshape(ny // block, block, nx // block, block).sum(axis=(1, 3))
        lon_c, lat_c = _centres()
        lon_b = lon_c.reshape(-1, block).mean(axis=1)
        lat_b = lat_c.reshape(-1, block).mean(axis=1)
        rows, cols = np.nonzero(people > 0)
        self.lon, self.lat = lon_b[cols], lat_b[rows]
        self.people = people[rows, cols]
        self.total = float(self.people.sum())
        self.any = np.zeros(rows.size, dtype=bool)
        self.g4 = np.zeros(rows.size, dtype=bool)

    def discs(
        self, lon: float, lat: float, techs: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        d = _km(lon, lat, self.lon, self.lat)
        r_any = max(_TUNING_RADIUS_KM[t] for t in techs)
        return d <= r_any, (d <= _TUNING_RADIUS_KM["4G"]) if "4G" in techs else np.zeros_like(
            self.any
        )

    def share_without(self, covered: np.ndarray) -> float:
        return float(self.people[~covered].sum()) / self.total


def _towers(
    rng: np.random.Generator,
    shapes: _Shapes,
    elev: np.ndarray,
    rivers: list[np.ndarray],
    towns: list[_Town],
    hamlets: pd.DataFrame,
    pop: np.ndarray,
) -> pd.DataFrame:
    """Transmitters: dense in towns, along valleys and the coast; thin in the mountains.

    *Core* sites (towns, lower valleys, coast road, island) are always built. *Optional*
    sites (rural programme masts at hamlets, upper valleys, hilltop repeaters) are taken
    in random order and built only while the shares of people without any signal and
    without 4G stay above :data:`_MIN_SHARE_NO_SIGNAL` and :data:`_MIN_SHARE_NO_4G`
    (4G is dropped from a site that would push the no-4G share below its floor).
    """
    sites: list[dict] = []
    counters = {op: 0 for op, _, _ in _OPERATORS}
    tally = _CoverageTally(np.where(pop > 0, pop, 0.0))

    def ok_position(op: str, lon: float, lat: float, spacing_km: float) -> bool:
        if not (_WEST < lon < _EAST and _SOUTH < lat < _NORTH) or not _in_country(shapes, lon, lat):
            return False
        return not (
            spacing_km > 0
            and any(
                s["operator"] == op and _km(s["lon"], s["lat"], lon, lat) < spacing_km
                for s in sites
            )
        )

    def build(op: str, lon: float, lat: float, techs: tuple[str, ...], height: float) -> None:
        counters[op] += 1
        prefix = next(p for o, p, _ in _OPERATORS if o == op)
        sites.append(
            {
                "site_id": f"{prefix}-{counters[op]:04d}",
                "operator": op,
                "lon": float(lon),
                "lat": float(lat),
                "techs": techs,
                "height": height,
            }
        )
        d_any, d_4g = tally.discs(lon, lat, techs)
        tally.any |= d_any
        tally.g4 |= d_4g

    def add(
        op: str,
        lon: float,
        lat: float,
        techs: tuple[str, ...],
        height: tuple[float, float],
        *,
        spacing_km: float = 0.0,
    ) -> bool:
        h = float(rng.uniform(*height))
        if not ok_position(op, lon, lat, spacing_km):
            return False
        build(op, lon, lat, techs, h)
        return True

    def jitter(lon: float, lat: float, km: float) -> tuple[float, float]:
        return (
            lon + rng.normal(0, km) / (_KM_PER_DEG * np.cos(np.radians(lat))),
            lat + rng.normal(0, km) / _KM_PER_DEG,
        )

    all3 = ("2G", "3G", "4G")
    # --- core: towns (every operator, all technologies, more masts in bigger towns)
    per_site = {"Viettel": 8_000, "VinaPhone": 12_000, "MobiFone": 16_000}
    for t in towns[:-1]:
        for op, _, _ in _OPERATORS:
            for _ in range(1 + int(t.population // per_site[op])):
                for _try in range(10):
                    if add(op, *jitter(t.lon, t.lat, 0.6 * t.sigma_km), all3, (20, 40)):
                        break
    # --- core: the island (Viettel 2G+4G, VinaPhone 2G)
    isl = towns[-1]
    add("Viettel", isl.lon, isl.lat, ("2G", "4G"), (30, 45))
    add("VinaPhone", *jitter(isl.lon, isl.lat, 0.3), ("2G",), (30, 45))
    # --- core: valley roads in the lower valleys, coast road
    reach = {"Viettel": (0.7, 8.0), "VinaPhone": (0.75, 12.0), "MobiFone": (0.8, 14.0)}
    for pts in rivers:
        n = len(pts)
        for op, (t_min, step_km) in reach.items():
            for frac in np.arange(1.0, t_min, -step_km / 45.0):
                lon, lat = pts[min(int(frac * (n - 1)), n - 1)]
                add(op, *jitter(lon, lat, 0.4), all3, (25, 45), spacing_km=0.6 * step_km)
    for lon in np.arange(107.05, 107.95, 0.1):
        lat = float(np.interp(lon, shapes.coast_lon, shapes.coast_lat)) + 0.02
        for op in ("Viettel", "MobiFone"):
            add(op, *jitter(lon, lat, 0.5), all3, (25, 45), spacing_km=6.0)

    # --- optional: rural programme sites, upper valleys, hilltop repeaters
    cand: list[tuple[str, float, float, tuple[str, ...], tuple[float, float], float]] = []
    for h in hamlets.itertuples(index=False):
        if h.kind == "lowland":
            op = "Viettel" if rng.random() < 0.75 else "VinaPhone"
            cand.append((op, *jitter(h.lon, h.lat, 0.3), ("2G", "4G"), (30, 45), 4.0))
        elif h.kind in ("upland", "high"):
            cand.append(("Viettel", *jitter(h.lon, h.lat, 0.3), ("2G",), (30, 50), 8.0))
    for pts in rivers:
        for frac in (0.5, 0.35):
            lon, lat = pts[int(frac * (len(pts) - 1))]
            cand.append(("Viettel", *jitter(lon, lat, 0.4), ("2G", "4G"), (30, 45), 6.0))
    lon_c, lat_c = _centres()
    mask = _rasterize([shapes.country])
    rows, cols = np.nonzero(mask & (elev > 600) & (elev < 1100))
    if rows.size:
        for k in rng.choice(rows.size, size=min(rows.size, 12), replace=False):
            op = "Viettel" if rng.random() < 0.7 else "VinaPhone"
            cand.append((op, float(lon_c[cols[k]]), float(lat_c[rows[k]]), ("2G",), (45, 60), 15.0))
    for i in rng.permutation(len(cand)):
        op, lon, lat, techs, height, spacing = cand[i]
        h = float(rng.uniform(*height))
        if not ok_position(op, lon, lat, spacing):
            continue
        d_any, d_4g = tally.discs(lon, lat, techs)
        after = tally.share_without(tally.any | d_any)
        if after < _MIN_SHARE_NO_SIGNAL and after < tally.share_without(tally.any):
            continue
        if "4G" in techs and tally.share_without(tally.g4 | d_4g) < _MIN_SHARE_NO_4G:
            techs = tuple(t for t in techs if t != "4G")
        build(op, lon, lat, techs, h)

    # About 5 % of the sites have no recorded antenna height (exercises the defaults).
    no_height = set(
        rng.choice(len(sites), size=max(1, round(0.05 * len(sites))), replace=False).tolist()
    )
    recs = []
    mnc = {op: m for op, _, m in _OPERATORS}
    for i, s in enumerate(sites):
        height = np.nan if i in no_height else round(s["height"], 1)
        for tech in s["techs"]:
            recs.append(
                {
                    "site_id": s["site_id"],
                    "operator": s["operator"],
                    "mnc": mnc[s["operator"]],
                    "technology": tech,
                    "lon": round(s["lon"], 6),
                    "lat": round(s["lat"], 6),
                    "antenna_height_m": height,
                }
            )
    return pd.DataFrame.from_records(recs)


#: The demo neighbour's networks: (operator, prefix, technologies). MCC 001 is the ITU-T E.212
#: test network code, so no real country's code is borrowed.
_FOREIGN_OPERATORS = (("Neighbour Mobile", "NBM", ("2G", "4G")), ("Neighbour Telecom", "NBT", ("2G",)))
_FOREIGN_MCC = 1


def _foreign_towers(shapes: _Shapes, seed: int) -> pd.DataFrame:
    """A few towers of the neighbouring country, 2–6 km behind the land border.

    Drawn from a random stream of their own (``seed + 1``), so the demo's other files do not
    change. One row per transmitter, the sites schema plus ``mcc`` and ``country``.
    """
    rng = np.random.default_rng(seed + 1)
    line = shapes.border
    recs = []
    k = 0
    for frac in (0.12, 0.3, 0.48, 0.66, 0.84):
        p = line.interpolate(frac, normalized=True)
        q = line.interpolate(min(frac + 0.01, 1.0), normalized=True)
        # unit normal of the border there, pointing into the neighbour (tried both ways)
        dx, dy = q.x - p.x, q.y - p.y
        norm = float(np.hypot(dx, dy)) or 1.0
        depth_km = float(rng.uniform(2.0, 6.0))
        for sign in (1.0, -1.0):
            lon = p.x + sign * (-dy / norm) * depth_km / (_KM_PER_DEG * np.cos(np.radians(p.y)))
            lat = p.y + sign * (dx / norm) * depth_km / _KM_PER_DEG
            if shapes.neighbour.contains(_point(lon, lat)) and _WEST < lon < _EAST and _SOUTH < lat < _NORTH:
                break
        else:
            continue
        op, prefix, techs = _FOREIGN_OPERATORS[k % len(_FOREIGN_OPERATORS)]
        k += 1
        for tech in techs:
            recs.append({"site_id": f"{prefix}-{k:04d}", "operator": op, "mcc": _FOREIGN_MCC, "country": "NB",
                         "technology": tech, "lon": round(float(lon), 6), "lat": round(float(lat), 6),
                         "antenna_height_m": 40.0})
    return pd.DataFrame.from_records(recs)


def _point(lon: float, lat: float):
    from shapely.geometry import Point

    return Point(lon, lat)
