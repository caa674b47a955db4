"""`covgap fetch` of the 2025 units (vietnamese-provinces-database) against a loopback GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _sources_server import LocalServer, Route, cache_files, local_cache, shared_vnm
from test_vn2025 import _tree

from covgap.errors import ConfigError, FetchError
from covgap.sources import OfflineMissingError, fetch_vn2025
from covgap.sources.fetch import fetch_all, parse_sources
from covgap.vietnam import units_2025

REPO = "thanglequoc/vietnamese-provinces-database"
SHA = "0123456789abcdef0123456789abcdef01234567"
COMMIT = f"/api.github.com/repos/{REPO}/commits/master"
RAW = f"/raw.githubusercontent.com/{REPO}/{SHA}"


def serve_tree(srv: LocalServer, root: Path) -> dict[str, Route]:
    """Serve a tree in the upstream layout like raw.githubusercontent.com at SHA, and the commit API."""
    index = json.loads((root / "units_2025.json").read_text(encoding="utf-8"))
    gdir = root / "json" / "geojson"
    for p in index:  # the tiny tree's index has no slugs: take them from the folder and file names
        folder = next(d for d in gdir.iterdir() if d.name.startswith(p["Code"] + "_"))
        p.setdefault("CodeName", folder.name[3:])
        for w in p["Wards"]:
            if "CodeName" not in w:
                w["CodeName"] = next((folder / "wards").glob(w["Code"] + "_*.geojson")).stem[6:]
    srv.add(COMMIT, Route(json.dumps({"sha": SHA, "commit": {"message": "data"}}).encode(),
                          content_type="application/json"))
    srv.add(f"{RAW}/LICENSE", Route(b"MIT License\n\nCopyright (c) thanglequoc\n", content_type="text/plain"))
    srv.add(f"{RAW}/json/full_json_generated_data_vn_units.json",
            Route(json.dumps(index, ensure_ascii=False).encode(), content_type="text/plain; charset=utf-8"))
    routes = {}
    for f in gdir.rglob("*.geojson"):
        rel = f.relative_to(root).as_posix()
        routes[rel] = srv.add(f"{RAW}/{rel}", Route(f.read_bytes(), content_type="text/plain; charset=utf-8"))
    return routes


@pytest.fixture()
def srv():
    with LocalServer() as s:
        yield s


def test_fetch_in_upstream_layout_with_commit_and_licence(srv, tmp_path):
    serve_tree(srv, _tree(tmp_path / "upstream"))
    cache = local_cache(srv, tmp_path / "raw")
    root = fetch_vn2025(cache, communes=["04"])
    assert root == tmp_path / "raw" / "vn2025"
    files = cache_files(root)
    assert "json/geojson/04_cao_bang/wards/01768_phan_thanh.geojson" in files
    assert "json/geojson/22_quang_ninh/22_quang_ninh.geojson" in files
    assert not any("07192" in f for f in files)  # communes only of the provinces asked for
    man = cache.manifest("vn2025/json/geojson/04_cao_bang/wards/01273_thuc_phan.geojson")
    assert man["licence"] == "MIT" and man["commit"] == SHA and man["repository"] == REPO
    assert f"/{SHA}/json/geojson/04_cao_bang/wards/01273_thuc_phan.geojson" in man["url"]
    assert (root / "LICENSE").read_text().startswith("MIT License")
    # the cache reads like a clone (index = upstream's own file)
    c = units_2025(root, "commune")
    assert c["code"].tolist() == ["01273", "01768"] and c["name"].iloc[1] == "Phan Thanh Đức"
    assert len(units_2025(root, "province")) == 2
    # again: nothing is downloaded, the commit is not asked again
    n = len(srv.log)
    assert fetch_vn2025(cache, communes=["04"]) == root
    assert len(srv.log) == n


def test_provenance_of_a_fetched_tree_names_the_commit(srv, tmp_path):
    from covgap.config import InputRef
    from covgap.io.load import _provenance

    serve_tree(srv, _tree(tmp_path / "upstream"))
    root = fetch_vn2025(local_cache(srv, tmp_path / "raw"), communes=[])
    entry = _provenance("admin:province", InputRef(path=root, source="vietnamese-provinces-database"), tmp_path)
    assert entry["path"] == "raw/vn2025" and entry["commit"] == SHA and entry["licence"] == "MIT"
    assert SHA[:12] in entry["release"] and entry["fetched_utc"]


def test_offline_lists_what_is_missing_then_succeeds_once_fetched(srv, tmp_path):
    serve_tree(srv, _tree(tmp_path / "upstream"))
    off = local_cache(srv, tmp_path / "raw", offline=True)
    with pytest.raises(OfflineMissingError):
        fetch_vn2025(off, communes="all")
    shown = [str(m) for m in off.missing]
    assert any("commits/master" in m for m in shown) and len(srv.log) == 0
    fetch_vn2025(local_cache(srv, tmp_path / "raw"), communes=["04"])
    off = local_cache(srv, tmp_path / "raw", offline=True)
    with pytest.raises(OfflineMissingError):  # now also asks for Quảng Ninh's communes
        fetch_vn2025(off, communes="all")
    assert [m.path.name for m in off.missing] == ["07192_co_to.geojson"]
    off = local_cache(srv, tmp_path / "raw", offline=True)
    assert fetch_vn2025(off, communes=["04"]).is_dir() and off.missing == []


def test_offline_without_index_names_the_folders(srv, tmp_path):
    off = local_cache(srv, tmp_path / "raw", offline=True)
    with pytest.raises(OfflineMissingError):
        fetch_vn2025(off, ref=SHA, communes=["04", "11"])
    shown = "\n".join(str(m) for m in off.missing)
    assert "full_json_generated_data_vn_units.json" in shown and "LICENSE" in shown
    assert "34 province outlines and the communes of provinces ['04', '11']" in shown


def test_wrong_or_missing_files_are_errors(srv, tmp_path):
    routes = serve_tree(srv, _tree(tmp_path / "upstream"))
    routes["json/geojson/04_cao_bang/wards/01273_thuc_phan.geojson"].body = b'{"error": "rate limited"}'
    with pytest.raises(FetchError, match="expected a GeoJSON FeatureCollection"):
        fetch_vn2025(local_cache(srv, tmp_path / "raw"), communes=["04"])
    del srv.routes[f"{RAW}/json/geojson/22_quang_ninh/22_quang_ninh.geojson"]
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_vn2025(local_cache(srv, tmp_path / "raw2"), communes=[])
    with pytest.raises(ConfigError, match=r"\['11'\] are not province codes"):
        fetch_vn2025(local_cache(srv, tmp_path / "raw3"), communes=["11"])
    srv.add(COMMIT, Route(b'{"message": "API rate limit exceeded"}', content_type="application/json"))
    with pytest.raises(FetchError, match="expected a GitHub commit answer"):
        fetch_vn2025(local_cache(srv, tmp_path / "raw4"))


def test_fetch_step_from_a_config(srv, tmp_path):
    serve_tree(srv, _tree(tmp_path / "upstream"))
    cfg = parse_sources({"sources": {"iso3": "VNM", "vn2025": {"communes": ["04"]}}}, base=tmp_path)
    assert cfg.steps() == ["vn2025"]
    res = fetch_all(cfg, local_cache(srv, tmp_path / "raw"))
    assert res.ok and res.files["vn2025"] == [tmp_path / "raw" / "vn2025"]
    with pytest.raises(ConfigError, match="communes = 'some'"):
        parse_sources({"sources": {"iso3": "VNM", "vn2025": {"communes": "some"}}}, base=tmp_path)


@pytest.mark.skipif(not (shared_vnm() / "vn2025" / "units_2025.json").exists(),
                    reason=f"real Vietnam files not found in {shared_vnm()}")
def test_real_tree_round_trip(srv, tmp_path):
    """The shared snapshot served as GitHub would: the fetched communes read the same as the original."""
    real = shared_vnm() / "vn2025"
    serve_tree(srv, real)
    root = fetch_vn2025(local_cache(srv, tmp_path / "raw"), communes=["04", "11"])
    a = units_2025(root, "commune", provinces=["04", "11"])
    b = units_2025(real, "commune", provinces=["04", "11"])
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert a.geometry.geom_equals(b.geometry).all()
    assert len(units_2025(root, "province")) == 34
