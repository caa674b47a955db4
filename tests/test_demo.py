"""The SYNTHETIC demo region: deterministic, self-consistent, with realistic gaps."""

from __future__ import annotations

import hashlib
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.features import rasterize

from covgap.demo import (
    DEM_NODATA,
    DEMO_ATTRIBUTION,
    DEMO_SHAPE,
    DEMO_TRANSFORM,
    POPULATION_NODATA,
    demo_grid,
    make_demo_inputs,
)
from covgap.models.radius import RadiusModel
from covgap.sites import validate_sites

KEYS = {"dem", "population", "admin", "hamlets", "towers", "foreign_towers", "population_constrained", "population_unconstrained",
        "landcover"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_inputs(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def arrays(demo):
    with rasterio.open(demo["dem"]) as src:
        dem = src.read(1)
        dem_meta = (src.nodata, src.crs.to_epsg(), src.transform, src.tags())
    with rasterio.open(demo["population"]) as src:
        pop = src.read(1)
        pop_meta = (src.nodata, src.crs.to_epsg(), src.transform, src.tags())
    return dem, dem_meta, pop, pop_meta


@pytest.fixture(scope="module")
def admin(demo):
    return {
        layer: gpd.read_file(demo["admin"], layer=layer)
        for layer in ("country", "neighbour", "land_border", "provinces", "communes")
    }


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_returns_all_files(demo):
    assert set(demo) == KEYS
    assert all(p.is_file() and p.stat().st_size > 0 for p in demo.values())


def test_deterministic_bytes(demo, tmp_path):
    again = make_demo_inputs(tmp_path / "again")
    for key in sorted(KEYS):
        assert _digest(demo[key]) == _digest(again[key]), key


def test_seed_changes_the_region(demo, tmp_path):
    other = make_demo_inputs(tmp_path / "other", seed=7)
    assert _digest(demo["population"]) != _digest(other["population"])
    assert _digest(demo["towers"]) != _digest(other["towers"])


def test_landcover_grid(demo, arrays):
    """WorldCover codes on the demo grid: forest on the slopes, fields low down, towns where people are, water."""
    from covgap.landcover import WORLDCOVER_CLASSES

    dem, _, pop, _ = arrays
    with rasterio.open(demo["landcover"]) as src:
        lc = src.read(1)
        assert src.nodata == 0 and src.dtypes[0] == "uint8" and src.crs.to_epsg() == 4326
        assert src.transform.almost_equals(DEMO_TRANSFORM, precision=1e-12)
        assert src.tags()["ATTRIBUTION"] == DEMO_ATTRIBUTION
    assert lc.shape == DEMO_SHAPE
    assert set(np.unique(lc).tolist()) <= set(WORLDCOVER_CLASSES)
    assert (lc[dem == 0.0] == 80).all()  # the sea is water
    land = dem > 0
    assert (lc[land & (dem > 400)] == 10).mean() > 0.8  # slopes and uplands: tree cover
    low = land & (dem < 60)
    assert (lc[low] == 40).mean() > 0.5  # valleys and plain: cropland
    dense = np.where(pop > 0, pop, 0) >= 8
    assert ((lc[dense] == 50) | (lc[dense] == 80)).all() and (lc == 50).sum() > 5000  # towns are built-up
    assert {10, 20, 30, 40, 50, 80, 95} <= set(np.unique(lc).tolist())


def test_grid_and_nodata_tags(arrays):
    dem, dem_meta, pop, pop_meta = arrays
    assert dem.shape == pop.shape == DEMO_SHAPE == (960, 1200)
    assert dem.dtype == pop.dtype == np.float32
    for _nodata, epsg, transform, tags in (dem_meta, pop_meta):
        assert epsg == 4326
        assert transform.almost_equals(DEMO_TRANSFORM, precision=1e-12)
        assert tags["ATTRIBUTION"] == DEMO_ATTRIBUTION
    assert dem_meta[0] == DEM_NODATA == -32768
    assert pop_meta[0] == POPULATION_NODATA == -99999
    assert DEMO_TRANSFORM.c == 107.0 and DEMO_TRANSFORM.f == 22.2 and DEMO_TRANSFORM.a == 3 / 3600


def test_dem_values(arrays, admin):
    dem, *_ = arrays
    assert np.isfinite(dem).all()
    assert (dem != DEM_NODATA).all()
    assert dem.min() == 0.0  # the sea
    assert 1500 <= dem.max() <= 2000
    island = min(admin["country"].geometry[0].geoms, key=lambda g: g.area)
    top = dem[_mask([island])].max()
    assert 100 <= top <= 300


def _mask(geoms):
    return rasterize(
        [(g, 1) for g in geoms],
        out_shape=DEMO_SHAPE,
        transform=DEMO_TRANSFORM,
        fill=0,
        dtype="uint8",
    ).astype(bool)


def test_population_values_and_total(arrays):
    _, _, pop, _ = arrays
    valid = pop != POPULATION_NODATA
    assert np.isfinite(pop).all()
    assert (pop[valid] >= 0).all()
    assert 3e5 <= pop[valid].sum(dtype="f8") <= 8e5
    assert (pop[valid] == 0).any()  # some empty cells


def test_population_mask_matches_country(arrays, admin):
    _, _, pop, _ = arrays
    country = _mask(admin["country"].geometry)
    np.testing.assert_array_equal(pop != POPULATION_NODATA, country)


def test_country_neighbour_border(admin):
    country = admin["country"].geometry[0]
    neighbour = admin["neighbour"].geometry[0]
    assert admin["country"].loc[0, "code"] == "VN"
    assert admin["country"].loc[0, "name"] == "Việt Nam (demo)"
    assert len(country.geoms) == 2  # mainland + island
    assert shapely.intersection(country, neighbour).area < 1e-12
    border = admin["land_border"].geometry[0]
    assert border.geom_type == "LineString"
    # the border lies on both countries' boundaries
    assert country.boundary.distance(shapely.Point(border.coords[len(border.coords) // 2])) < 1e-9
    assert neighbour.boundary.distance(shapely.Point(border.coords[len(border.coords) // 2])) < 1e-9
    for gdf in admin.values():
        assert gdf.crs.to_epsg() == 4326


@pytest.mark.parametrize("layer", ["provinces", "communes"])
def test_units_partition_country(admin, layer):
    country = admin["country"].geometry[0]
    units = admin[layer]
    assert units.geometry.is_valid.all()
    union = shapely.union_all(units.geometry.to_numpy())
    area_sum = float(shapely.area(units.geometry.to_numpy()).sum())
    assert abs(area_sum - union.area) < 1e-9  # no overlaps
    assert shapely.symmetric_difference(union, country).area < 1e-9  # no gaps
    assert units["code"].is_unique


def test_unit_counts_and_names(admin):
    prov, com = admin["provinces"], admin["communes"]
    assert len(prov) >= 4 and len(com) >= 30
    assert set(com["province_code"]) == set(prov["code"])
    assert all(c.startswith(p) for c, p in zip(com["code"], com["province_code"], strict=True))
    assert all(n.startswith("Tỉnh ") for n in prov["name"])
    assert any(not n.isascii() for n in prov["name"]) and all(n.isascii() for n in prov["name_en"])
    assert all(not n.isascii() for n in com["name"])  # "Xã", "Phường" carry diacritics


def test_every_commune_in_exactly_one_province(admin):
    prov = admin["provinces"].set_index("code").geometry
    for row in admin["communes"].itertuples():
        inside = [
            code
            for code, g in prov.items()
            if shapely.intersection(row.geometry, g).area > row.geometry.area * (1 - 1e-9)
        ]
        assert inside == [row.province_code], row.code


def test_island_in_one_province_and_commune(admin, arrays):
    _, _, pop, _ = arrays
    island = min(admin["country"].geometry[0].geoms, key=lambda g: g.area)
    for layer in ("provinces", "communes"):
        hits = [g for g in admin[layer].geometry if shapely.intersection(g, island).area > 1e-12]
        assert len(hits) == 1, layer
    assert pop[_mask([island])].sum() > 300


def test_hamlets_table(demo, admin):
    raw = demo["hamlets"].read_bytes()
    raw.decode("utf-8")  # valid UTF-8
    df = pd.read_csv(demo["hamlets"], encoding="utf-8")
    assert list(df.columns) == ["hamlet_id", "name", "lon", "lat", "province_code"]
    assert 100 <= len(df) <= 250
    assert df["hamlet_id"].is_unique and df["name"].is_unique
    assert all(not n.isascii() for n in df["name"])
    assert all(unicodedata.is_normalized("NFC", n) for n in df["name"])
    assert set(df["province_code"]) <= set(admin["provinces"]["code"])
    island = min(admin["country"].geometry[0].geoms, key=lambda g: g.area)
    assert shapely.contains_xy(island, df["lon"], df["lat"]).sum() >= 1


def test_hamlets_reach_remote_uplands(demo):
    df = pd.read_csv(demo["hamlets"])
    with rasterio.open(demo["dem"]) as src:
        elev = np.array([v[0] for v in src.sample(zip(df["lon"], df["lat"], strict=True))])
    assert (elev > 600).sum() >= 5
    assert (elev < 100).sum() >= 20


def test_towers_table(demo):
    df = pd.read_csv(demo["towers"])
    assert list(df.columns) == [
        "site_id",
        "operator",
        "mnc",
        "technology",
        "lon",
        "lat",
        "antenna_height_m",
    ]
    assert set(df["operator"]) == {"Viettel", "VinaPhone", "MobiFone"}
    assert dict(df.groupby("operator")["mnc"].first()) == {
        "Viettel": 4,
        "VinaPhone": 2,
        "MobiFone": 1,
    }
    assert set(df["technology"]) == {"2G", "3G", "4G"}
    sites = df.groupby("site_id").agg(
        n_op=("operator", "nunique"),
        n_lon=("lon", "nunique"),
        n_lat=("lat", "nunique"),
        n_tech=("technology", "nunique"),
        rows=("technology", "size"),
    )
    assert 100 <= len(sites) <= 200
    assert (sites[["n_op", "n_lon", "n_lat"]] == 1).all().all()
    assert (sites["n_tech"] == sites["rows"]).all()  # one row per technology
    per_op = df.groupby("operator")["site_id"].nunique()
    assert per_op.idxmax() == "Viettel"
    assert df["lon"].between(107.0, 108.0).all() and df["lat"].between(21.4, 22.2).all()
    h = df["antenna_height_m"]
    assert h.dropna().between(15, 60).all()
    assert 0 < df.groupby("site_id")["antenna_height_m"].first().isna().mean() <= 0.1
    clean, rep = validate_sites(df, source="demo towers.csv")
    assert rep.rows_out == len(df) and rep.defaulted["antenna_height_m"] == int(h.isna().sum())


def test_gap_shares_under_default_radius_model(demo, arrays):
    _, _, pop, _ = arrays
    people = np.where(pop == POPULATION_NODATA, 0.0, pop).astype("f8")
    sites, _ = validate_sites(pd.read_csv(demo["towers"]))
    cov = RadiusModel().compute(demo_grid(), sites)
    total = people.sum()
    no_signal = people[~cov.any_covered()].sum() / total
    no_4g = people[~cov.covered("4G")].sum() / total
    assert 0.01 <= no_signal <= 0.10
    assert 0.10 <= no_4g <= 0.40


def test_foreign_towers_lie_in_the_neighbour(demo, admin):
    f = pd.read_csv(demo["foreign_towers"])
    assert set(f["country"]) == {"NB"} and set(f["mcc"]) == {1} and f["site_id"].nunique() == 5
    pts = gpd.GeoSeries(gpd.points_from_xy(f["lon"], f["lat"]), crs="EPSG:4326")
    assert pts.within(admin["neighbour"].geometry.iloc[0]).all()
