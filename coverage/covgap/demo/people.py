"""The demo region's people: towns, hamlet clusters, the population grid and its variants, the hamlets table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import (
    _KM_PER_DEG,
    DEMO_SHAPE,
    DEMO_TRANSFORM,
    POPULATION_NODATA,
    _cell_area_km2,
    _centres,
    _elev_at,
    _gaussian_blob,
    _in_country,
    _km,
    _NamePool,
    _rasterize,
    _Shapes,
    _Town,
)
from .region import _province_of


# --------------------------------------------------------------------------- settlements
def _towns(
    rng: np.random.Generator,
    shapes: _Shapes,
    rivers: list[np.ndarray],
    elev: np.ndarray,
    names: _NamePool,
) -> list[_Town]:
    """Towns: a coastal city, market towns in the lower valleys, fishing towns, an island town."""
    towns: list[_Town] = []

    def far_enough(lon: float, lat: float, km: float) -> bool:
        return all(_km(t.lon, t.lat, lon, lat) > km for t in towns)

    def add(
        lon: float, lat: float, pop: float, sigma_km: float, *, spacing_km: float = 7.0
    ) -> None:
        if (
            _in_country(shapes, lon, lat)
            and _elev_at(elev, lon, lat) < 250
            and far_enough(lon, lat, spacing_km)
        ):
            towns.append(_Town(names.take(), float(lon), float(lat), float(pop), float(sigma_km)))

    # The provincial city on the coast (Hạ Long-like), 45–55 thousand people.
    for _ in range(50):
        lon = rng.uniform(107.2, 107.55)
        lat = float(np.interp(lon, shapes.coast_lon, shapes.coast_lat)) + 0.02
        add(lon, lat, rng.uniform(45_000, 55_000), 2.4)
        if towns:
            break
    # Market towns in the lower part of each valley.
    for pts in rivers:
        for frac in (rng.uniform(0.55, 0.9), rng.uniform(0.3, 0.5)):
            lon, lat = pts[int(frac * (len(pts) - 1))]
            pop = float(np.clip(rng.lognormal(np.log(15_000), 0.5), 4_000, 35_000))
            if frac < 0.5:
                pop = float(rng.uniform(2_500, 6_000))
            add(lon, lat, pop, 0.6 + 1.4 * np.sqrt(pop / 50_000))
    # Fishing towns along the coast.
    for lon in np.sort(rng.uniform(107.05, 107.9, 6)):
        lat = float(np.interp(lon, shapes.coast_lon, shapes.coast_lat)) + 0.012
        pop = float(rng.uniform(5_000, 25_000))
        add(lon, lat, pop, 0.6 + 1.4 * np.sqrt(pop / 50_000))
    # The island town.
    ix, iy = shapes.island.representative_point().coords[0]
    towns.append(_Town(names.take(), float(ix), float(iy), float(rng.uniform(800, 1_800)), 0.8))
    return towns


def _hamlet_centres(
    rng: np.random.Generator,
    shapes: _Shapes,
    elev: np.ndarray,
    towns: list[_Town],
    names_up: _NamePool,
    names_low: _NamePool,
) -> pd.DataFrame:
    """Hamlet clusters away from towns: many on low slopes, some remote uplands, a few very high."""
    lon_c, lat_c = _centres()
    mask = _rasterize([shapes.country])
    island = _rasterize([shapes.island])
    rows, cols = np.nonzero(mask & ~island)
    e = elev[rows, cols]
    lon, lat = lon_c[cols], lat_c[rows]
    near_town = np.zeros(len(rows), dtype=bool)
    for t in towns:
        near_town |= _km(t.lon, t.lat, lon, lat) < 3.0 + 2 * t.sigma_km
    groups = (  # (kind, count, elevation range m, weight as a function of elevation)
        ("lowland", 95, (5.0, 450.0), lambda z: np.exp(-z / 250.0)),
        ("upland", 50, (450.0, 900.0), lambda z: np.ones_like(z)),
        ("high", 5, (1100.0, 1500.0), lambda z: np.ones_like(z)),
    )
    chosen: list[tuple[str, float, float, float]] = []
    for kind, count, (lo, hi), weight in groups:
        ok = np.flatnonzero((e >= lo) & (e < hi) & ~near_town)
        if ok.size == 0:
            continue
        p = weight(e[ok])
        picks = rng.choice(ok, size=min(ok.size, count * 4), replace=False, p=p / p.sum())
        n = 0
        for k in picks:
            if all(_km(c[1], c[2], lon[k], lat[k]) > 1.5 for c in chosen):
                chosen.append((kind, float(lon[k]), float(lat[k]), float(e[k])))
                n += 1
                if n == count:
                    break
    # One hamlet on the island, away from its town.
    irows, icols = np.nonzero(island)
    t_isl = towns[-1]
    far = _km(t_isl.lon, t_isl.lat, lon_c[icols], lat_c[irows]) > 1.5
    k = int(rng.choice(np.flatnonzero(far))) if far.any() else int(rng.integers(len(irows)))
    chosen.append(
        ("island", float(lon_c[icols[k]]), float(lat_c[irows[k]]), float(elev[irows[k], icols[k]]))
    )

    recs = []
    for kind, x, y, z in chosen:
        prefix = "Bản" if z > 300 else "Thôn"
        name = f"{prefix} {(names_up if z > 300 else names_low).take()}"
        pop = float(np.clip(rng.lognormal(np.log(220.0), 0.6), 50.0, 600.0))
        sigma_km = float(rng.uniform(0.09, 0.22))
        recs.append(
            {
                "kind": kind,
                "name": name,
                "lon": x,
                "lat": y,
                "elevation_m": z,
                "population": pop,
                "sigma_km": sigma_km,
            }
        )
    return pd.DataFrame.from_records(recs)


def _population(
    rng: np.random.Generator,
    shapes: _Shapes,
    elev: np.ndarray,
    towns: list[_Town],
    hamlets: pd.DataFrame,
) -> np.ndarray:
    """People per cell (float32); :data:`POPULATION_NODATA` outside the country's land."""
    mask = _rasterize([shapes.country])
    area = _cell_area_km2()
    # Background: scattered farms, denser low down, none on the empty uplands above 1,100 m.
    density = 150.0 * np.exp(-elev / 200.0) * rng.lognormal(0.0, 0.9, DEMO_SHAPE)
    density[rng.random(DEMO_SHAPE) < 0.35] = 0.0
    density[elev > 1100.0] = 0.0
    density[_rasterize([shapes.island])] *= 0.3  # the island is mostly forest
    pop = density * area * mask
    weight = mask.astype("f8")
    for t in towns:
        _gaussian_blob(pop, t.lon, t.lat, t.sigma_km, weight, t.population)
    for h in hamlets.itertuples(index=False):
        _gaussian_blob(pop, h.lon, h.lat, h.sigma_km, weight, h.population)
    out = np.where(mask, pop, POPULATION_NODATA).astype(np.float32)
    return out


#: Demo "constrained" variant: a cell is a settlement where the towns' and hamlets' own people
#: (without the scattered background) reach this many people per cell.
SETTLEMENT_MIN_PEOPLE = 1.0
#: Demo "unconstrained" variant: share of each commune's people spread evenly over its land.
UNCONSTRAINED_SPREAD_SHARE = 0.6


def _population_variants(
    pop: np.ndarray, towns: list[_Town], hamlets: pd.DataFrame, shapes: _Shapes, communes: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Constrained and unconstrained variants of ``pop`` with the same people per commune.

    No random numbers: the base demo's bytes do not depend on the variants.
    """
    from rasterio.features import rasterize

    mask = _rasterize([shapes.country])
    base = np.where(mask, pop.astype("f8"), 0.0)
    settled = np.zeros(DEMO_SHAPE)
    weight = mask.astype("f8")
    for t in towns:
        _gaussian_blob(settled, t.lon, t.lat, t.sigma_km, weight, t.population)
    for h in hamlets.itertuples(index=False):
        _gaussian_blob(settled, h.lon, h.lat, h.sigma_km, weight, h.population)
    settlement = settled >= SETTLEMENT_MIN_PEOPLE
    labels = rasterize(
        [(g, k + 1) for k, g in enumerate(communes["geometry"])],
        out_shape=DEMO_SHAPE, transform=DEMO_TRANSFORM, fill=0, dtype="int32",
    ) * mask
    n = len(communes) + 1
    total = np.bincount(labels.ravel(), weights=base.ravel(), minlength=n)
    # constrained: each commune's people onto its settlement cells, in proportion to the base grid
    in_set = np.bincount(labels.ravel(), weights=(base * settlement).ravel(), minlength=n)
    f = np.divide(total, in_set, out=np.zeros(n), where=in_set > 0)
    constrained = np.where(settlement, base * f[labels], 0.0)
    keep = (in_set <= 0)[labels] | (labels == 0)  # no settlement in the commune, or outside: as it is
    constrained = np.where(keep, base, constrained)
    # unconstrained: a share of each commune's people spread evenly over its land area
    area = np.broadcast_to(_cell_area_km2(), DEMO_SHAPE) * (labels > 0)
    land = np.bincount(labels.ravel(), weights=area.ravel(), minlength=n)
    even = np.divide(total, land, out=np.zeros(n), where=land > 0)[labels] * area
    s = UNCONSTRAINED_SPREAD_SHARE
    unconstrained = np.where(labels > 0, (1 - s) * base + s * even, base)
    return {
        name: np.where(mask, a, POPULATION_NODATA).astype(np.float32)
        for name, a in (("population_constrained", constrained), ("population_unconstrained", unconstrained))
    }




def _hamlets(
    rng: np.random.Generator,
    hamlets: pd.DataFrame,
    towns: list[_Town],
    provinces: pd.DataFrame,
    shapes: _Shapes,
    names_low: _NamePool,
) -> pd.DataFrame:
    """Build the hamlet table: every hamlet cluster plus a few named quarters in each town."""
    recs = [{"name": h.name, "lon": h.lon, "lat": h.lat} for h in hamlets.itertuples(index=False)]
    for t in towns:
        n = 1 if t.population < 5_000 else 2 if t.population < 20_000 else 4
        for _ in range(n):
            for _try in range(20):
                dlon = rng.normal(0, t.sigma_km * 0.6) / (_KM_PER_DEG * np.cos(np.radians(t.lat)))
                dlat = rng.normal(0, t.sigma_km * 0.6) / _KM_PER_DEG
                if _in_country(shapes, t.lon + dlon, t.lat + dlat):
                    recs.append(
                        {
                            "name": f"Khu phố {names_low.take()}",
                            "lon": t.lon + dlon,
                            "lat": t.lat + dlat,
                        }
                    )
                    break
    df = pd.DataFrame.from_records(recs)
    df["lon"] = df["lon"].round(6)
    df["lat"] = df["lat"].round(6)
    df.insert(0, "hamlet_id", [f"H{i + 1:04d}" for i in range(len(df))])
    df["province_code"] = _province_of(provinces, df["lon"], df["lat"])
    return df[["hamlet_id", "name", "lon", "lat", "province_code"]]
