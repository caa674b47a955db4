"""OpenStreetMap masts via an Overpass-shaped local server."""

from __future__ import annotations

import json
from urllib.parse import quote

import pandas as pd
import pytest
from _sources_server import LocalServer, Route, cache_files, local_cache

from covgap.errors import FetchError
from covgap.sources import fetch_osm_masts
from covgap.sources.osm import overpass_query

BBOX = (105.0, 20.0, 106.0, 21.0)
PATH = "/overpass-api.de/api/interpreter?data=" + quote(overpass_query(BBOX), safe="")


def test_masts_table_and_manifest(tmp_path):
    answer = {
        "elements": [
            {
                "type": "node",
                "id": 1,
                "lat": 20.5,
                "lon": 105.5,
                "tags": {
                    "man_made": "mast",
                    "tower:type": "communication",
                    "operator": "Viettel",
                    "height": "42 m",
                },
            },
            {
                "type": "way",
                "id": 7,
                "center": {"lat": 20.6, "lon": 105.6},
                "tags": {
                    "man_made": "tower",
                    "communication:mobile_phone": "yes",
                    "height": "about 30",
                },
            },
            {"type": "node", "id": 1, "lat": 20.5, "lon": 105.5, "tags": {}},
        ]
    }
    with LocalServer() as srv:
        srv.add(PATH, Route(json.dumps(answer).encode(), fail_statuses=[429]))
        cache = local_cache(srv, tmp_path / "raw")
        p = fetch_osm_masts(cache, BBOX)
    t = pd.read_csv(p)
    assert (
        list(t["osm_id"]) == [1, 7]
        and t.loc[0, "height_m"] == 42.0
        and pd.isna(t.loc[1, "height_m"])
    )
    assert t.loc[0, "operator"] == "Viettel" and t.loc[1, "lon"] == 105.6
    man = cache.manifest(p.relative_to(cache.root))
    assert (
        man["licence"] == "ODbL 1.0"
        and "OpenStreetMap contributors" in man["attribution"]
        and man["masts"] == 2
    )


def test_overpass_runtime_error_inside_200_is_not_cached(tmp_path):
    with LocalServer() as srv:
        srv.add(
            PATH,
            Route(b'{"elements": [], "remark": "runtime error: Query timed out in \\"query\\""}'),
        )
        with pytest.raises(FetchError, match="Overpass answered with an error"):
            fetch_osm_masts(local_cache(srv, tmp_path / "raw"), BBOX)
    assert cache_files(tmp_path / "raw") == []


def test_masts_step_in_fetch(tmp_path):
    from covgap.sources.fetch import fetch_all, make_cache, parse_sources

    fc = parse_sources(
        {"sources": {"iso3": "VNM", "bbox": list(BBOX), "cache_dir": "raw", "masts": {}}},
        base=tmp_path,
    )
    assert fc.steps() == ["masts"]
    with LocalServer() as srv:
        srv.add(
            PATH,
            Route(
                b'{"elements": [{"type": "node", "id": 3, "lat": 20.1, "lon": 105.1, "tags": {}}]}'
            ),
        )
        res = fetch_all(fc, make_cache(fc, base_url=srv.base, progress=False))
    assert res.ok and res.files["masts"][0].suffix == ".csv"
