"""Copernicus DEM: tiles served at the bucket's paths, mosaic + clip, ocean tiles, vsicurl windows."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from _sources_server import LocalServer, Route, cache_files, local_cache

from covgap.errors import FetchError
from covgap.sources import fetch_dem
from covgap.sources.catalog import copernicus_tile_path
from covgap.sources.copernicus import DEM_NODATA, snap_bbox, tiles_for_bbox

RES = 1 / 1200  # GLO-90: 3 arc-seconds
PRESENT = [(20, 105), (21, 105), (21, 106)]  # (20, 106) is "ocean": no tile on the bucket
BBOX = (105.9, 20.9, 106.1, 21.1)


def height(lon, lat):
    """Synthetic terrain, exact at the 3″ sample points."""
    return (1000.0 * (np.asarray(lat) - 20.0) + 10.0 * (np.asarray(lon) - 105.0)).astype("float32")


def _tile_bytes(tmp_path, la, lo) -> bytes:
    from affine import Affine

    n = 1200
    cols = lo + np.arange(n) * RES  # pixel centres sit on whole multiples of 3″
    rows = la + 1 - np.arange(n) * RES
    data = height(cols[None, :], rows[:, None])
    p = tmp_path / f"tile_{la}_{lo}.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        width=n,
        height=n,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(RES, 0, lo - RES / 2, 0, -RES, la + 1 + RES / 2),
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        predictor=3,
    ) as ds:
        ds.write(data, 1)
    b = p.read_bytes()
    p.unlink()
    return b


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    t = tmp_path_factory.mktemp("tiles")
    return {(la, lo): _tile_bytes(t, la, lo) for la, lo in PRESENT}


@pytest.fixture()
def srv(tiles):
    with LocalServer() as s:
        names = []
        for (la, lo), body in tiles.items():
            path = copernicus_tile_path("GLO-90", la, lo)
            s.add(
                "/copernicus-dem-90m.s3.amazonaws.com" + path,
                Route(body, content_type="image/tiff"),
            )
            names.append(path.split("/")[1])
        s.add(
            "/copernicus-dem-90m.s3.amazonaws.com/tileList.txt",
            Route(("\n".join(names) + "\n").encode()),
        )
        yield s


def _value_at(ds, lon, lat):
    t = ds.transform
    r, c = int((t.f - lat) // -t.e), int((lon - t.c) // t.a)
    return ds.read(1)[r, c]


def _check_mosaic(p):
    with rasterio.open(p) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.nodata == DEM_NODATA
        assert ds.res == pytest.approx((RES, RES))
        w, s, e, n = snap_bbox(BBOX, RES)
        assert (ds.bounds.left, ds.bounds.top) == pytest.approx((w, n))
        for lon, lat in [(105.95, 21.05), (105.95, 20.95), (106.05, 21.05), (105.90, 21.1)]:
            assert _value_at(ds, lon, lat) == pytest.approx(float(height(lon, lat)), abs=1e-3)
        assert _value_at(ds, 106.05, 20.95) == 0.0  # ocean tile: 0 m as the provider documents
        arr = ds.read(1)
        assert not (arr == DEM_NODATA).any()
        tags = ds.tags()
        assert "EGM2008" in tags["VERTICAL_DATUM"] and "SURFACE" in tags["SURFACE_MODEL"]
        return arr


def test_tiles_for_bbox_and_snap():
    assert tiles_for_bbox(BBOX) == [(20, 105), (20, 106), (21, 105), (21, 106)]
    w, s, e, n = snap_bbox(BBOX, RES)
    assert w <= 105.9 and e >= 106.1 and s <= 20.9 and n >= 21.1
    assert round((w + RES / 2) / RES, 6) == round((w + RES / 2) / RES)


def test_download_mode_mosaic_clip_and_ocean(srv, tmp_path):
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_dem(cache, BBOX, product="GLO-90")
    arr = _check_mosaic(p)
    man = cache.manifest(p.relative_to(cache.root))
    assert man["ocean_tiles"] == ["Copernicus_DSM_COG_30_N20_00_E106_00_DEM"]
    assert len(man["tiles"]) == 3 and len(man["derived_from"]) == 3
    assert "EGM2008" in man["vertical_datum"] and "SURFACE" in man["surface_model"]
    files = cache_files(tmp_path / "raw")
    assert sum(f.endswith("_DEM.tif") for f in files) == 3  # whole tiles kept in the cache
    # offline rebuild from cached tiles (result deleted), no network
    p.unlink()
    n = len(srv.log)
    p2 = fetch_dem(local_cache(srv, tmp_path / "raw", offline=True), BBOX, product="GLO-90")
    assert len(srv.log) == n
    with rasterio.open(p2) as ds:
        np.testing.assert_array_equal(ds.read(1), arr)


def test_vsicurl_mode_reads_windows_only(srv, tmp_path, tiles):
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_dem(cache, BBOX, product="GLO-90", mode="vsicurl", out="dem/v.tif")
    _check_mosaic(p)
    assert not [f for f in cache_files(tmp_path / "raw") if f.endswith("_DEM.tif")]
    ranged = [h.get("Range") for m, path, h in srv.log if path.endswith("_DEM.tif") and m == "GET"]
    assert ranged and all(r is not None for r in ranged)  # only range requests, never a whole tile


def test_missing_listed_tile_is_an_error(srv, tmp_path):
    del srv.routes["/copernicus-dem-90m.s3.amazonaws.com" + copernicus_tile_path("GLO-90", 21, 106)]
    with pytest.raises(FetchError, match=r"N21_00_E106_00_DEM\.tif: not found \(HTTP 404\)"):
        fetch_dem(local_cache(srv, tmp_path / "raw"), BBOX)
    assert not [f for f in cache_files(tmp_path / "raw") if f.startswith("dem/copernicus_glo90_")]


def test_without_tile_list_404_tiles_are_ocean_and_flagged(srv, tmp_path):
    del srv.routes["/copernicus-dem-90m.s3.amazonaws.com/tileList.txt"]
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_dem(cache, BBOX)
    _check_mosaic(p)
    man = cache.manifest(p.relative_to(cache.root))
    assert man["tile_list_used"] is False
    assert man["absent_tiles_404"] == ["Copernicus_DSM_COG_30_N20_00_E106_00_DEM"]


def test_html_tile_is_rejected(srv, tmp_path):
    srv.add(
        "/copernicus-dem-90m.s3.amazonaws.com" + copernicus_tile_path("GLO-90", 20, 105),
        Route(b"<?xml version='1.0'?><Error><Code>SlowDown</Code></Error>"),
    )
    with pytest.raises(FetchError, match="expected a GeoTIFF"):
        fetch_dem(local_cache(srv, tmp_path / "raw"), BBOX)
