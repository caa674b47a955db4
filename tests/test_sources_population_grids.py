"""GHS-POP and HRSL fetches (and WorldPop's other layouts) against a real HTTP server on 127.0.0.1; a fetched
grid aggregated onto a coarser analysis grid by sums keeps every person."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from _sources_server import LocalServer, Route, cache_files, local_cache, zip_bytes
from affine import Affine

from covgap.compare import layer_on_grid
from covgap.errors import ConfigError, FetchError
from covgap.grid import Grid
from covgap.io import read_population
from covgap.sources import OfflineMissingError, fetch_ghs_pop, fetch_hrsl, fetch_worldpop
from covgap.sources.catalog import ghs_pop_tile_path, hrsl_tile_path, worldpop_path
from covgap.sources.fetch import fetch_all, parse_sources

RES = 3 / 3600


@pytest.fixture()
def srv():
    with LocalServer() as s:
        yield s


def _tif(tmp_path, people: np.ndarray, *, nodata=-200.0, res=RES, west=105.0, north=21.0) -> bytes:
    p = tmp_path / "src.tif"
    with rasterio.open(p, "w", driver="GTiff", width=people.shape[1], height=people.shape[0], count=1,
                       dtype="float32", crs="EPSG:4326", transform=Affine(res, 0, west, 0, -res, north),
                       nodata=nodata) as ds:
        ds.write(people.astype("float32"), 1)
    b = p.read_bytes()
    p.unlink()
    return b


def test_ghs_pop_tile_zip_extracted_with_manifests(srv, tmp_path):
    people = np.arange(200, dtype=float).reshape(10, 20) % 7
    tif = _tif(tmp_path, people)
    path = "/jeodpp.jrc.ec.europa.eu" + ghs_pop_tile_path(2020, 8, 29)
    assert path.endswith("/GHS_POP_E2020_GLOBE_R2023A_4326_3ss/V1-0/tiles/"
                         "GHS_POP_E2020_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.zip")
    srv.add(path, Route(b"<html>busy</html>", content_type="text/html"))
    cache = local_cache(srv, tmp_path / "raw")
    with pytest.raises(FetchError, match="expected a zip archive"):
        fetch_ghs_pop(cache, epoch=2020, row=8, col=29)
    srv.add(path, Route(zip_bytes({"GHS_POP_E2020_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.tif": tif,
                                   "GHSL_Data_Package.pdf": b"%PDF"})))
    p = fetch_ghs_pop(cache, epoch=2020, row=8, col=29)
    assert p.name == "GHS_POP_E2020_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.tif" and p.read_bytes() == tif
    man = cache.manifest(p.relative_to(cache.root))
    assert man["licence"] == "CC BY 4.0" and man["epoch"] == 2020 and man["derived_from"][0]["url"] == srv.url(path)
    assert cache_files(tmp_path / "raw") == [
        "ghs_pop/GHS_POP_E2020_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.tif",
        "ghs_pop/GHS_POP_E2020_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.tif.manifest.json",
        "ghs_pop/GHS_POP_E2020_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.zip",
        "ghs_pop/GHS_POP_E2020_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.zip.manifest.json",
    ]
    n = len(srv.log)
    assert fetch_ghs_pop(local_cache(srv, tmp_path / "raw", offline=True), epoch=2020, row=8, col=29) == p
    assert len(srv.log) == n
    with pytest.raises(FetchError, match="epoch 2021"):
        fetch_ghs_pop(cache, epoch=2021, row=8, col=29)


def test_hrsl_tiles_for_a_bbox_and_offline(srv, tmp_path):
    tif = _tif(tmp_path, np.ones((4, 4)), nodata=np.nan)
    for lat in (10, 20):
        srv.add("/dataforgood-fb-data.s3.amazonaws.com" + hrsl_tile_path(lat, 100),
                Route(tif, content_type="image/tiff"))
    cache = local_cache(srv, tmp_path / "raw")
    paths = fetch_hrsl(cache, (102.1, 15.0, 109.5, 23.4))
    assert [p.name for p in paths] == ["cog_globallat_10_lon_100_general-v1.5.4.tif",
                                       "cog_globallat_20_lon_100_general-v1.5.4.tif"]
    man = cache.manifest(paths[0].relative_to(cache.root))
    assert man["licence"] == "CC BY 4.0" and "not in the provider's documentation" in man["pattern_note"]
    off = local_cache(srv, tmp_path / "raw2", offline=True)
    with pytest.raises(OfflineMissingError):
        fetch_hrsl(off, (102.1, 15.0, 109.5, 23.4))
    with pytest.raises(ConfigError, match="multiples of 10"):
        hrsl_tile_path(21, 105)


def test_fetch_all_population_providers(srv, tmp_path):
    tif = _tif(tmp_path, np.ones((4, 4)))
    srv.add("/jeodpp.jrc.ec.europa.eu" + ghs_pop_tile_path(2025, 7, 29), Route(zip_bytes({"t.tif": tif})))
    cfg = parse_sources({"sources": {"iso3": "VNM", "population": {"provider": "ghs_pop", "epoch": 2025,
                                                                   "tiles": [[7, 29]]}}}, base=tmp_path)
    res = fetch_all(cfg, local_cache(srv, tmp_path / "raw"))
    assert not res.errors and res.files["population"][0].name.endswith("_R7_C29.tif")
    bad = parse_sources({"sources": {"iso3": "VNM", "population": {"provider": "hrsl"}}}, base=tmp_path)
    assert "needs [sources] bbox" in fetch_all(bad, local_cache(srv, tmp_path / "raw")).errors["population"]
    other = parse_sources({"sources": {"iso3": "VNM", "population": {"provider": "landscan", "year": 2020}}},
                          base=tmp_path)
    assert "expected 'worldpop', 'ghs_pop' or 'hrsl'" in fetch_all(other, local_cache(srv, tmp_path / "r")).errors[
        "population"]


@pytest.mark.parametrize(("kw", "tail"), [
    ({"release": "R2025A", "resolution": "1km", "constrained": True},
     "R2025A/2020/VNM/v1/1km_ua/constrained/vnm_pop_2020_CN_1km_R2025A_UA_v1.tif"),
    ({"release": "R2025A", "resolution": "1km", "constrained": False},
     "R2025A/2020/VNM/v1/1km_ua/unconstrained/vnm_pop_2020_UC_1km_R2025A_UA_v1.tif"),
    ({"release": "2020", "resolution": "100m", "constrained": True},
     "Global_2000_2020_Constrained/2020/BSGM/VNM/vnm_ppp_2020_constrained.tif"),
    ({"release": "2020", "resolution": "100m", "constrained": False},
     "Global_2000_2020/2020/VNM/vnm_ppp_2020.tif"),
])
def test_worldpop_constrained_and_unconstrained_layouts_fetch(srv, tmp_path, kw, tail):
    path = "/data.worldpop.org" + worldpop_path("VNM", 2020, **kw)
    assert path.endswith(tail)
    tif = _tif(tmp_path, np.ones((3, 3)))
    srv.add(path, Route(tif, content_type="image/tiff"))
    p = fetch_worldpop(local_cache(srv, tmp_path / "raw"), "VNM", 2020, **kw)
    assert p.read_bytes() == tif


def test_fetched_100m_grid_aggregated_to_1km_by_sums(srv, tmp_path):
    rng = np.random.default_rng(2)
    people = rng.integers(0, 30, (40, 60)).astype(float)  # whole people: sums are exact
    people[0, 0] = -200.0                                 # nodata → 0 people
    path = "/data.worldpop.org" + worldpop_path("VNM", 2025)
    srv.add(path, Route(_tif(tmp_path, people), content_type="image/tiff"))
    p = fetch_worldpop(local_cache(srv, tmp_path / "raw"), "VNM", 2025)
    pop, grid, notes = read_population(p)
    assert notes["nodata_cells"] == 1
    coarse = Grid.from_bounds(105.0, 21.0 - 40 * RES, 105.0 + 60 * RES, 21.0, res=(10 * RES, 10 * RES),
                              crs="EPSG:4326")
    out, meta = layer_on_grid(pop, grid, coarse)
    assert out.shape == (4, 6) and meta["aggregation"] == "block sums of 10×10 cells"
    assert out.sum() == pop.sum() == people[people > 0].sum() and meta["outside_grid"] == 0.0
    assert out[1, 2] == pop[10:20, 20:30].sum()
