"""WorldPop fetch against a local server serving the real Vietnam raster at WorldPop's paths."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import rasterio
from _sources_server import LocalServer, Route, cache_files, local_cache, shared_vnm

from covgap.errors import ConfigError, FetchError
from covgap.sources import OfflineMissingError, fetch_worldpop, worldpop_listing
from covgap.sources.catalog import worldpop_path

REAL_TIF = shared_vnm() / "vnm_ppp_2020_1km_Aggregated_UNadj.tif"
needs_real = pytest.mark.skipif(
    not REAL_TIF.exists(), reason=f"real data folder absent: {REAL_TIF.parent}"
)


@pytest.fixture()
def srv():
    with LocalServer() as s:
        yield s


@pytest.mark.realdata
@needs_real
def test_real_worldpop_raster_resumed_after_drop_has_same_sha(srv, tmp_path):
    data = REAL_TIF.read_bytes()
    path = "/data.worldpop.org" + worldpop_path(
        "VNM", 2020, release="2020", resolution="1km", un_adjusted=True, constrained=False
    )
    assert path.endswith(
        "/Global_2000_2020_1km_UNadj/2020/VNM/vnm_ppp_2020_1km_Aggregated_UNadj.tif"
    )
    srv.add(path, Route(data, content_type="image/tiff", drop_after=len(data) // 3))
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_worldpop(
        cache, "VNM", 2020, release="2020", resolution="1km", un_adjusted=True, constrained=False
    )
    assert hashlib.sha256(p.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    man = cache.manifest(p.relative_to(cache.root))
    assert (
        man["resumed"] is True
        and man["licence"] == "CC BY 4.0"
        and "WorldPop" in man["attribution"]
    )
    assert man["release"] == "2020" and man["year"] == 2020 and man["url"] == srv.url(path)
    with rasterio.open(p) as ds:
        pop = ds.read(1, masked=True)
        assert ds.crs.to_epsg() == 4326
    total = float(pop.sum())
    assert 90e6 < total < 105e6  # Vietnam 2020, UN-adjusted: ~97 million people
    assert cache_files(tmp_path / "raw") == [
        "worldpop/VNM/vnm_ppp_2020_1km_Aggregated_UNadj.tif",
        "worldpop/VNM/vnm_ppp_2020_1km_Aggregated_UNadj.tif.manifest.json",
    ]
    # second run, offline, server gone: served from the cache without a request
    n = len(srv.log)
    off = local_cache(srv, tmp_path / "raw", offline=True)
    assert (
        fetch_worldpop(
            off, "VNM", 2020, release="2020", resolution="1km", un_adjusted=True, constrained=False
        )
        == p
    )
    assert len(srv.log) == n and off.missing == []


def _tif_bytes(tmp_path, nodata=-99999.0) -> bytes:
    from affine import Affine

    p = tmp_path / "t.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        width=40,
        height=30,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(1 / 1200, 0, 105.0, 0, -1 / 1200, 21.0),
        nodata=nodata,
    ) as ds:
        ds.write(np.full((30, 40), 2.5, dtype="float32"), 1)
    b = p.read_bytes()
    p.unlink()
    return b


def test_global2_release_layout_and_html_error(srv, tmp_path):
    tif = _tif_bytes(tmp_path)
    path = "/data.worldpop.org" + worldpop_path("VNM", 2025)
    assert path.endswith("R2025A/2025/VNM/v1/100m/constrained/vnm_pop_2025_CN_100m_R2025A_v1.tif")
    srv.add(path, Route(b"<html><body>maintenance</body></html>", content_type="text/html"))
    cache = local_cache(srv, tmp_path / "raw")
    with pytest.raises(FetchError, match="expected a GeoTIFF, got an HTML page"):
        fetch_worldpop(cache, "VNM", 2025)
    assert cache_files(tmp_path / "raw") == []
    srv.add(path, Route(tif))
    p = fetch_worldpop(cache, "VNM", 2025)
    assert p.name == "vnm_pop_2025_CN_100m_R2025A_v1.tif" and p.read_bytes() == tif


def test_unconstrained_r2024b_and_404(srv, tmp_path):
    cache = local_cache(srv, tmp_path / "raw")
    with pytest.raises(
        FetchError, match=r"vnm_pop_2030_UC_100m_R2024B_v1\.tif: not found \(HTTP 404\)"
    ):
        fetch_worldpop(cache, "VNM", 2030, release="R2024B", constrained=False)
    assert cache_files(tmp_path / "raw") == []


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="covers 2015–2030; year 2010"):
        worldpop_path("VNM", 2010, release="R2025A")
    with pytest.raises(ConfigError, match="constrained estimates exist for 2020 at 100 m only"):
        worldpop_path("VNM", 2015, release="2020", constrained=True)
    with pytest.raises(ConfigError, match="3-letter ISO"):
        worldpop_path("Vietnam", 2020)


def test_offline_lists_what_is_missing(srv, tmp_path):
    cache = local_cache(srv, tmp_path / "raw", offline=True)
    with pytest.raises(OfflineMissingError, match="not in the cache"):
        fetch_worldpop(cache, "VNM", 2025)
    assert len(cache.missing) == 1
    assert "vnm_pop_2025_CN_100m_R2025A_v1.tif" in str(cache.missing[0])
    assert "missing from the cache" in cache.missing_report()
    assert srv.log == []


def test_rest_listing_is_cached(srv, tmp_path):
    srv.add(
        "/hub.worldpop.org/rest/data/pop/wpgp?iso3=VNM",
        Route(
            b'{"data": [{"popyear": "2020", "files": ["https://data.worldpop.org/x.tif"]}]}',
            content_type="application/json",
        ),
    )
    cache = local_cache(srv, tmp_path / "raw")
    rows = worldpop_listing(cache, "vnm")
    assert rows[0]["popyear"] == "2020"
    assert worldpop_listing(local_cache(srv, tmp_path / "raw", offline=True), "VNM") == rows
    srv.add("/hub.worldpop.org/rest/data/pop/wpgpunadj?iso3=VNM", Route(b'{"error": "x"}'))
    with pytest.raises(FetchError, match="expected a WorldPop listing"):
        worldpop_listing(cache, "VNM", alias="wpgpunadj")
