"""geoBoundaries and OCHA COD-AB against a local server shaped like the real APIs."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from _sources_server import LocalServer, Route, cache_files, local_cache, shared_vnm, zip_bytes
from shapely.geometry import box, mapping

from covgap.errors import FetchError
from covgap.sources import fetch_cod_ab, fetch_geoboundaries
from covgap.sources.catalog import HDX_COD_AB

SHARED = shared_vnm()
needs_real = pytest.mark.skipif(
    not (SHARED / "geoBoundaries-VNM-ADM1.shp").exists(),
    reason=f"real data folder absent: {SHARED}",
)
ZIP_PATH = "/github.com/wmgeolab/geoBoundaries/raw/9469f09/releaseData/gbOpen/VNM/ADM1/geoBoundaries-VNM-ADM1-all.zip"


@pytest.fixture()
def srv():
    with LocalServer() as s:
        yield s


def _serve_geoboundaries(srv, level="ADM1", zip_body=None):
    if zip_body is None:
        zip_body = zip_bytes(
            {
                f"geoBoundaries-VNM-{level}{ext}": (
                    SHARED / f"geoBoundaries-VNM-{level}{ext}"
                ).read_bytes()
                for ext in (".shp", ".shx", ".dbf", ".prj")
            }
            | {"CITATION-AND-USE-geoBoundaries.txt": b"cite"}
        )
    meta = {
        "boundaryID": "VNM-ADM1-81297802",
        "boundaryName": "Vietnam",
        "boundaryISO": "VNM",
        "boundaryYearRepresented": "2020",
        "boundaryType": level,
        "boundaryLicense": "CC BY 4.0",
        "boundarySource": "OCHA ROAP",
        "buildDate": "Dec 12, 2023",
        "staticDownloadLink": srv.url(ZIP_PATH.replace("ADM1", level)),
        "gjDownloadURL": srv.url("/unused.geojson"),
    }
    srv.add(
        f"/www.geoboundaries.org/api/current/gbOpen/VNM/{level}/",
        Route(json.dumps(meta).encode(), content_type="application/json"),
    )
    return srv.add(
        ZIP_PATH.replace("ADM1", level),
        Route(zip_body, content_type="application/zip", drop_after=len(zip_body) // 2),
    )


@pytest.mark.realdata
@needs_real
def test_real_geoboundaries_adm1_zipped_on_the_fly(srv, tmp_path):
    _serve_geoboundaries(srv)
    cache = local_cache(srv, tmp_path / "raw")
    shp = fetch_geoboundaries(cache, "vnm", "adm1")
    assert shp.name == "geoBoundaries-VNM-ADM1.shp"
    gdf = gpd.read_file(shp)
    assert len(gdf) == 64 and gdf.crs.to_epsg() == 4326  # 63 former provinces + Côn Đảo
    assert (
        shp.with_suffix(".shp").read_bytes() == (SHARED / "geoBoundaries-VNM-ADM1.shp").read_bytes()
    )
    man = cache.manifest(shp.relative_to(cache.root))
    assert man["licence"] == "CC BY 4.0" and "VNM-ADM1-81297802" in man["release"]
    assert (
        man["extracted_from"] == "geoBoundaries-VNM-ADM1-all.zip"
        and man["derived_from"][0]["sha256"]
    )
    zman = cache.manifest("boundaries/geoboundaries/gbOpen/VNM/ADM1/geoBoundaries-VNM-ADM1-all.zip")
    assert zman["resumed"] is True
    files = cache_files(tmp_path / "raw")
    assert "boundaries/geoboundaries/gbOpen/VNM/ADM1/api.json" in files
    assert not [f for f in files if f.endswith(".partial")]
    # offline afterwards: no request
    n = len(srv.log)
    assert (
        fetch_geoboundaries(local_cache(srv, tmp_path / "raw", offline=True), "VNM", "ADM1") == shp
    )
    assert len(srv.log) == n


def test_html_instead_of_zip_leaves_no_archive(srv, tmp_path):
    route = _serve_geoboundaries(srv, zip_body=b"<!doctype html><title>rate limited</title>")
    route.drop_after = None
    cache = local_cache(srv, tmp_path / "raw")
    with pytest.raises(FetchError, match="expected a zip archive, got an HTML page"):
        fetch_geoboundaries(cache, "VNM", "ADM1")
    assert [f for f in cache_files(tmp_path / "raw") if "zip" in f] == []


def _gj() -> bytes:
    feats = [{"type": "Feature", "geometry": mapping(box(105 + i, 20, 106 + i, 21)),
              "properties": {"shapeName": name, "shapeISO": f"VN-0{i}", "shapeID": f"ID{i}",
                             "shapeGroup": "VNM", "shapeType": "ADM1"}}
             for i, name in enumerate(["Hà Nội", "Điện Biên"])]
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False).encode()


@pytest.mark.parametrize("zip_answer", ["html", "404", "missing_link"])
def test_failed_zip_falls_back_to_the_geojson(srv, tmp_path, zip_answer):
    route = _serve_geoboundaries(srv, zip_body=b"<!doctype html><title>busy</title>")
    route.drop_after = None
    if zip_answer == "404":
        del srv.routes[ZIP_PATH]
    srv.add("/unused.geojson", Route(_gj(), content_type="application/json"))
    if zip_answer == "missing_link":
        api = "/www.geoboundaries.org/api/current/gbOpen/VNM/ADM1/"
        meta = json.loads(srv.routes[api].body)
        del meta["staticDownloadLink"]
        srv.routes[api].body = json.dumps(meta).encode()
    cache = local_cache(srv, tmp_path / "raw")
    shp = fetch_geoboundaries(cache, "VNM", "ADM1")
    assert shp.name == "geoBoundaries-VNM-ADM1.shp"  # the same path the zip would have given
    gdf = gpd.read_file(shp)
    assert gdf["shapeName"].tolist() == ["Hà Nội", "Điện Biên"] and gdf.crs.to_epsg() == 4326
    man = cache.manifest(shp.relative_to(cache.root))
    assert man["converted_from"] == "geoBoundaries-VNM-ADM1.geojson" and man["licence"] == "CC BY 4.0"
    assert "gjDownloadURL" in cache.manifest(shp.with_suffix(".geojson").relative_to(cache.root))["note"]
    assert not any(f.endswith(".zip") for f in cache_files(tmp_path / "raw"))
    off = local_cache(srv, tmp_path / "raw", offline=True)  # afterwards the cache is complete offline
    n = len(srv.log)
    assert fetch_geoboundaries(off, "VNM", "ADM1") == shp and off.missing == [] and len(srv.log) == n


def test_api_answer_without_download_link(srv, tmp_path):
    srv.add("/www.geoboundaries.org/api/current/gbOpen/VNM/ADM2/", Route(b'{"error": "not found"}'))
    with pytest.raises(FetchError, match="expected geoBoundaries metadata"):
        fetch_geoboundaries(local_cache(srv, tmp_path / "raw"), "VNM", "ADM2")
    assert cache_files(tmp_path / "raw") == []


def _cod_ab_zip() -> bytes:
    feats = [
        {
            "type": "Feature",
            "geometry": mapping(box(102 + i * 0.2, 10, 102.2 + i * 0.2, 11)),
            "properties": {
                "adm1_pcode": f"VN{i:02d}",
                "adm1_name": f"Province {i}",
                "adm0_pcode": "VN",
            },
        }
        for i in range(34)
    ]
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
        "features": feats,
    }
    adm0 = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": mapping(box(102, 10, 109, 11)),
                "properties": {"adm0_pcode": "VN"},
            }
        ],
    }
    return zip_bytes(
        {
            "vnm_admin1.geojson": json.dumps(fc).encode(),
            "vnm_admin0.geojson": json.dumps(adm0).encode(),
        }
    )


def test_cod_ab_34_provinces_via_ckan(srv, tmp_path):
    body = _cod_ab_zip()
    rpath = "/data.humdata.org/dataset/x/resource/y/download/vnm_admin_boundaries.geojson.zip"
    pkg = {
        "success": True,
        "result": {
            "license_title": "Creative Commons Attribution for Intergovernmental Organisations",
            "resources": [
                {"name": "vnm_admin_boundaries.xlsx", "url": srv.url("/x.xlsx")},
                {
                    "name": "vnm_admin_boundaries.geojson.zip",
                    "url": srv.url(rpath),
                    "last_modified": "2026-01-26",
                },
            ],
        },
    }
    srv.add(
        "/data.humdata.org/api/3/action/package_show?id=cod-ab-vnm", Route(json.dumps(pkg).encode())
    )
    srv.add(rpath, Route(body, fail_statuses=[502]))
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_cod_ab(cache, "VNM")
    gdf = gpd.read_file(p)
    assert p.name == "vnm_admin1.geojson" and len(gdf) == 34
    assert {"adm1_pcode", "adm1_name"} <= set(gdf.columns)
    man = cache.manifest(p.relative_to(cache.root))
    assert man["licence"].startswith("Creative Commons") and "2026-01-26" in man["release"]
    assert man["code_field"] == "adm1_pcode"


def test_cod_ab_without_api_uses_catalog_resource(srv, tmp_path):
    srv.add("/data.humdata.org" + HDX_COD_AB["VNM"]["resource_path"], Route(_cod_ab_zip()))
    p = fetch_cod_ab(local_cache(srv, tmp_path / "raw"), "VNM", use_api=False)
    assert len(gpd.read_file(p)) == 34
