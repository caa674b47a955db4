"""ESA WorldCover tiles: served at the bucket's paths on 127.0.0.1, cached with manifests, 404 = no tile (sea)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import rasterio
from _sources_server import LocalServer, Route, cache_files, local_cache
from affine import Affine

from covgap.errors import FetchError
from covgap.grid import Grid
from covgap.io import read_landcover_onto
from covgap.sources import OfflineMissingError, fetch_worldcover, worldcover_tiles_for_bbox
from covgap.sources.catalog import worldcover_tile_path
from covgap.sources.fetch import load_fetch_config

HOST = "/esa-worldcover.s3.eu-central-1.amazonaws.com"
BBOX = (105.2, 20.5, 106.0, 21.3)  # tiles N18E105 (absent: "open sea") and N21E105
RES = 1 / 12000 * 300  # a coarse stand-in for the 10 m map (1/40 degree), same layout


def _tile_bytes(tmp_path, la, lo) -> bytes:
    n = 120  # 3 degrees at 1/40 degree
    data = np.full((n, n), 40, dtype="uint8")  # cropland ...
    data[:, : n // 2] = 10  # ... with tree cover in the west half
    p = tmp_path / f"wc_{la}_{lo}.tif"
    with rasterio.open(p, "w", driver="GTiff", width=n, height=n, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=Affine(RES, 0, lo, 0, -RES, la + 3), nodata=0, tiled=True, blockxsize=64,
                       blockysize=64, compress="deflate") as ds:
        ds.write(data, 1)
    b = p.read_bytes()
    p.unlink()
    return b


@pytest.fixture()
def srv(tmp_path_factory):
    body = _tile_bytes(tmp_path_factory.mktemp("wc"), 21, 105)
    with LocalServer() as s:
        s.add(HOST + worldcover_tile_path(21, 105), Route(body, content_type="image/tiff"))
        yield s


def test_tile_names_follow_the_bucket():
    assert worldcover_tile_path(21, 105) == "/v200/2021/map/ESA_WorldCover_10m_2021_v200_N21E105_Map.tif"
    assert worldcover_tile_path(6, 102, year=2020).endswith("/v100/2020/map/ESA_WorldCover_10m_2020_v100_N06E102_Map.tif")
    assert worldcover_tiles_for_bbox(BBOX) == [(18, 105), (21, 105)]
    # Viet Nam's bbox padded by 20 km: 6 rows (6-24 N) x 4 columns (99-111 E) of 3-degree tiles
    assert len(worldcover_tiles_for_bbox((101.9, 8.2, 109.7, 23.6))) == 24


def test_fetch_caches_tiles_and_counts_the_sea_tile(srv, tmp_path):
    cache = local_cache(srv, tmp_path / "raw")
    got = fetch_worldcover(cache, BBOX)
    assert [p.name for p in got.files] == ["ESA_WorldCover_10m_2021_v200_N21E105_Map.tif"]
    assert got.absent_404 == ["N18E105"]  # 404: open sea, reported, not an error
    man = cache.manifest(got.files[0].relative_to(cache.root))
    assert man["licence"] == "CC BY 4.0" and "ESA WorldCover project 2021" in man["attribution"]
    assert man["tile"] == "N21E105" and man["sha256"] and man["url"].endswith("N21E105_Map.tif")
    assert "landcover/worldcover_2021_v200_absent.json" in cache_files(tmp_path / "raw")
    # offline, server gone: served from the cache, the sea tile still known as "no tile", nothing missing
    srv.routes.clear()
    n = len(srv.log)
    off = local_cache(srv, tmp_path / "raw", offline=True)
    again = fetch_worldcover(off, BBOX)
    assert again.files == got.files and again.absent_404 == ["N18E105"] and not off.missing
    assert len(srv.log) == n
    # the run reads the folder: majority of the tile's pixels onto a 0.1-degree grid
    grid = Grid(crs="EPSG:4326", transform=Affine(0.1, 0, 105.2, 0, -0.1, 21.3), shape=(8, 8))
    classes, notes = read_landcover_onto(got.folder, grid)
    assert notes["files"] == ["ESA_WorldCover_10m_2021_v200_N21E105_Map.tif"]
    assert (classes[:3] == 10).all()  # 21.0-21.3 N, in the tile's tree-covered west half (105-106.5 E)
    assert (classes[3:] == 0).all()  # south of 21 N: no tile, no data (sea)


def test_offline_lists_every_missing_tile(srv, tmp_path):
    off = local_cache(srv, tmp_path / "empty", offline=True)
    with pytest.raises(OfflineMissingError, match="2 WorldCover tile"):
        fetch_worldcover(off, BBOX)
    shown = "\n".join(str(m) for m in off.missing)
    assert "N18E105_Map.tif" in shown and "N21E105_Map.tif" in shown and not srv.log


def test_server_error_is_an_error(srv, tmp_path):
    srv.add(HOST + worldcover_tile_path(18, 105), Route(b"<Error>SlowDown</Error>", status=503))
    with pytest.raises(FetchError, match="503"):
        fetch_worldcover(local_cache(srv, tmp_path / "raw"), BBOX)


def test_fetch_command_pads_the_bbox_and_reports(srv, tmp_path, capsys):
    from covgap.sources.cli import run_fetch

    cfg = tmp_path / "c.toml"
    cfg.write_text('[sources]\niso3 = "VNM"\ncache_dir = "cache"\nbbox = [105.3, 21.1, 105.9, 21.8]\n'
                   "[sources.landcover]\n[sources.http]\nretries = 1\nbackoff_s = 0.001\ntimeout_s = 5\n"
                   "[model.p1812]\nmax_radius_km = 40.0\n", encoding="utf-8")
    fc = load_fetch_config(cfg)
    assert fc.reach_km == 40.0 and fc.steps() == ["landcover"]
    w, s, e, n = fc.padded_bbox()
    assert s < 21.0 and w < 105.0  # 40 km reaches into the tiles south (N18E105) and west (N21E102)

    def args(**kw):
        base = dict(config=str(cfg), offline=False, only=None, cache_dir=None, base_url=srv.base, quiet=True,
                    verify=False, json_out=str(tmp_path / "r.json"))
        return argparse.Namespace(**{**base, **kw})

    assert run_fetch(args()) == 0
    out = capsys.readouterr().out
    assert "1 ESA WorldCover tile(s)" in out and "3 with no tile on the bucket" in out
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["notes"]["landcover"]["no_tile_404"] == ["N18E102", "N18E105", "N21E102"]
    # offline afterwards: exit 0, nothing missing
    assert run_fetch(args(offline=True, base_url=None)) == 0
