"""OSM hamlets through an Overpass-shaped loopback server: tiles, de-duplication, manifest, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from _sources_server import LocalServer, Route, cache_files, local_cache

from covgap.config import InputRef
from covgap.errors import ConfigError, FetchError
from covgap.io import read_hamlets
from covgap.sources import OfflineMissingError, fetch_osm_hamlets
from covgap.sources.fetch import fetch_all, parse_sources

BBOX = (103.0, 21.0, 105.0, 22.0)  # two 1° × 1° tiles with tile_deg = 1
ELEMENTS = [
    # a hamlet with a Vietnamese name, and the same place mapped again as an area 120 m away
    {"type": "node", "id": 11, "lat": 21.50, "lon": 103.50,
     "tags": {"place": "hamlet", "name": "Ban Na Sang", "name:vi": "Bản Nà Sang", "name:en": "Na Sang"}},
    {"type": "way", "id": 901, "center": {"lat": 21.501, "lon": 103.5005},
     "tags": {"place": "hamlet", "name": "Bản Nà Sang"}},
    # the same name 5 km away is another hamlet
    {"type": "node", "id": 12, "lat": 21.545, "lon": 103.50, "tags": {"place": "hamlet", "name": "Bản Nà Sang"}},
    {"type": "node", "id": 13, "lat": 21.30, "lon": 103.80, "tags": {"place": "village", "name": "Thôn 1"}},
    {"type": "node", "id": 14, "lat": 21.70, "lon": 103.20, "tags": {"place": "isolated_dwelling", "name": "Lán Pa"}},
    {"type": "node", "id": 15, "lat": 21.20, "lon": 103.30, "tags": {"place": "locality"}},  # no name: dropped
    # on the shared edge of the two tiles: answered by both, kept once
    {"type": "node", "id": 16, "lat": 21.40, "lon": 104.00, "tags": {"place": "hamlet", "name": "Bản Biên"}},
    {"type": "node", "id": 17, "lat": 21.60, "lon": 104.60, "tags": {"place": "village", "name": "Thôn 1"}},
    {"type": "relation", "id": 5, "center": {"lat": 21.9, "lon": 104.9}, "tags": {"place": "village", "name": "Xóm Mới"}},
]


def _overpass(elements, *, remark: str | None = None):
    """Answer like overpass-api.de/api/interpreter: the elements inside the query's bbox."""

    def handler(path: str):
        q = unquote(path.split("data=", 1)[1])
        assert 'place"~"^(hamlet|village|isolated_dwelling|locality)$' in q and "out center tags" in q
        s, w, n, e = (float(v) for v in re.search(r"\(([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)\)", q).groups())
        inside = []
        for el in elements:
            lat = el.get("lat", (el.get("center") or {}).get("lat"))
            lon = el.get("lon", (el.get("center") or {}).get("lon"))
            if s <= lat <= n and w <= lon <= e:
                inside.append(el)
        body = {"version": 0.6, "generator": "Overpass API", "osm3s": {"copyright": "ODbL"}, "elements": inside}
        if remark:
            body["remark"] = remark
        return 200, json.dumps(body, ensure_ascii=False).encode(), "application/json"

    return Route(handler)


@pytest.fixture()
def srv():
    with LocalServer() as s:
        yield s


def test_hamlets_table_deduplicated_with_manifest(srv, tmp_path):
    srv.add("/overpass-api.de/api/interpreter", _overpass(ELEMENTS))
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_osm_hamlets(cache, BBOX, out="osm/vnm_hamlets.csv", tile_deg=1.0)
    assert len([r for r in srv.log if "interpreter" in r[1]]) == 2
    h = read_hamlets(InputRef(path=p))  # the format covgap run reads
    assert h["hamlet_id"].tolist() == ["osm_n11", "osm_n12", "osm_n13", "osm_n14", "osm_n16", "osm_n17", "osm_r5"]
    assert h.loc[0, "name"] == "Bản Nà Sang" and h.loc[0, "name_en"] == "Na Sang"  # name:vi first
    assert h["name"].tolist().count("Thôn 1") == 2 and h["name"].tolist().count("Bản Nà Sang") == 2
    man = cache.manifest("osm/vnm_hamlets.csv")
    assert man["licence"] == "ODbL 1.0" and "OpenStreetMap contributors" in man["attribution"]
    assert man["counts"] == {"elements": 10, "unnamed": 1, "same_element": 1, "same_place": 1, "hamlets": 7}
    assert len(man["derived_from"]) == 2
    # again: nothing asked of the server; offline: complete
    n = len(srv.log)
    assert fetch_osm_hamlets(cache, BBOX, out="osm/vnm_hamlets.csv", tile_deg=1.0) == p and len(srv.log) == n
    off = local_cache(srv, tmp_path / "raw", offline=True)
    assert fetch_osm_hamlets(off, BBOX, out="osm/vnm_hamlets.csv", tile_deg=1.0) == p and off.missing == []


def test_overpass_error_inside_a_200_answer_is_not_cached(srv, tmp_path):
    srv.add("/overpass-api.de/api/interpreter",
            _overpass(ELEMENTS, remark="runtime error: Query timed out in \"query\" at line 2 after 600 seconds."))
    with pytest.raises(FetchError, match="Overpass answered with an error.*smaller tile_deg"):
        fetch_osm_hamlets(local_cache(srv, tmp_path / "raw"), BBOX, tile_deg=1.0)
    assert cache_files(tmp_path / "raw") == []


def test_offline_lists_every_tile(srv, tmp_path):
    off = local_cache(srv, tmp_path / "raw", offline=True)
    with pytest.raises(OfflineMissingError):
        fetch_osm_hamlets(off, BBOX, tile_deg=0.5)
    assert len(off.missing) == 8 and all("interpreter?data=" in m.url for m in off.missing)


def test_hamlets_step_from_a_config(srv, tmp_path):
    srv.add("/overpass-api.de/api/interpreter", _overpass(ELEMENTS))
    cfg = parse_sources({"sources": {"iso3": "VNM", "bbox": list(BBOX),
                                     "hamlets": {"provider": "osm", "tile_deg": 1}}}, base=tmp_path)
    res = fetch_all(cfg, local_cache(srv, tmp_path / "raw"))
    assert res.ok and res.files["hamlets"] == [tmp_path / "raw" / "osm" / "vnm_hamlets.csv"]
    with pytest.raises(ConfigError, match=r"\[sources.hamlets\] needs \[sources\] bbox"):
        parse_sources({"sources": {"iso3": "VNM", "hamlets": {}}}, base=tmp_path)
    with pytest.raises(ConfigError, match="unknown key 'tile'"):
        parse_sources({"sources": {"iso3": "VNM", "bbox": list(BBOX), "hamlets": {"tile": 1}}}, base=tmp_path)
    assert Path(res.files["hamlets"][0]).read_text(encoding="utf-8").startswith("hamlet_id,name,lon,lat")
