"""covgap.sources.http against a real HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import numpy as np
import pytest
from _sources_server import LocalServer, Route

from covgap.errors import FetchError
from covgap.sources import validate as v
from covgap.sources.http import HttpOptions, download, read_manifest, redact

FAST = HttpOptions(
    timeout_s=5, retries=3, backoff_s=0.001, backoff_factor=1.0, chunk_bytes=8192, progress=False
)


def _blob(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture()
def srv():
    with LocalServer() as s:
        yield s


def test_download_writes_file_and_manifest(srv, tmp_path):
    data = _blob(50_000)
    srv.add("/files/a.bin", Route(data))
    man = download(
        srv.url("/files/a.bin"),
        tmp_path / "a.bin",
        options=FAST,
        info={
            "source": "Test",
            "release": "R1",
            "licence": "CC BY 4.0",
            "attribution": "Test data",
        },
    )
    assert (tmp_path / "a.bin").read_bytes() == data
    assert man["sha256"] == _sha(data) and man["bytes"] == len(data)
    assert man == read_manifest(tmp_path / "a.bin")
    assert man["url"] == srv.url("/files/a.bin")
    assert (
        man["licence"] == "CC BY 4.0"
        and man["release"] == "R1"
        and man["attribution"] == "Test data"
    )
    assert man["fetched_utc"].endswith("+00:00")
    assert man["attempts"] == 1 and man["resumed"] is False
    assert _leftovers(tmp_path) == ["a.bin", "a.bin.manifest.json"]


def test_dropped_connection_is_resumed_with_range_and_same_sha(srv, tmp_path):
    data = _blob(300_000, seed=1)
    srv.add("/big.bin", Route(data, drop_after=100_000, drop_times=1))
    waits = []
    man = download(srv.url("/big.bin"), tmp_path / "big.bin", options=FAST, sleep=waits.append)
    assert _sha((tmp_path / "big.bin").read_bytes()) == _sha(data) == man["sha256"]
    ranges = [h.get("Range") for _, _, h in srv.requests_for("/big.bin")]
    assert ranges[0] is None and ranges[1] == "bytes=100000-"
    assert man["resumed"] is True and man["attempts"] == 2
    assert waits == [FAST.wait_s(0)]
    assert _leftovers(tmp_path) == ["big.bin", "big.bin.manifest.json"]


def test_resume_survives_several_drops(srv, tmp_path):
    data = _blob(120_000, seed=2)
    srv.add("/f.bin", Route(data, drop_after=30_000, drop_times=3))
    man = download(srv.url("/f.bin"), tmp_path / "f.bin", options=FAST, sleep=lambda s: None)
    assert man["sha256"] == _sha(data) and man["attempts"] == 4


def test_server_that_ignores_range_restarts_cleanly(srv, tmp_path):
    data = _blob(90_000, seed=3)
    srv.add("/n.bin", Route(data, drop_after=40_000, ignore_range=True))
    man = download(srv.url("/n.bin"), tmp_path / "n.bin", options=FAST, sleep=lambda s: None)
    assert man["sha256"] == _sha(data) and man["resumed"] is False


def test_partial_from_an_earlier_run_is_resumed(srv, tmp_path):
    data = _blob(80_000, seed=4)
    srv.add("/p.bin", Route(data, drop_after=20_000, drop_times=10))
    with pytest.raises(FetchError, match="gave up after 2 attempt"):
        download(
            srv.url("/p.bin"),
            tmp_path / "p.bin",
            options=HttpOptions(
                retries=1, backoff_s=0, progress=False, chunk_bytes=4096, timeout_s=5
            ),
            sleep=lambda s: None,
        )
    assert not (tmp_path / "p.bin").exists()
    assert (tmp_path / "p.bin.partial").stat().st_size == 40_000  # kept for the next run
    srv.routes["/p.bin"].drop_times = 0
    man = download(srv.url("/p.bin"), tmp_path / "p.bin", options=FAST)
    assert man["sha256"] == _sha(data) and man["resumed"] is True
    assert _leftovers(tmp_path) == ["p.bin", "p.bin.manifest.json"]


def test_complete_partial_answered_416_is_accepted(srv, tmp_path):
    data = _blob(20_000, seed=5)
    srv.add("/c.bin", Route(data))
    (tmp_path / "c.bin.partial").write_bytes(data)
    (tmp_path / "c.bin.partial.json").write_text(json.dumps({"url": srv.url("/c.bin")}))
    man = download(srv.url("/c.bin"), tmp_path / "c.bin", options=FAST)
    assert man["sha256"] == _sha(data)


def test_partial_of_another_url_is_discarded(srv, tmp_path):
    data = _blob(20_000, seed=6)
    srv.add("/new.bin", Route(data))
    (tmp_path / "x.bin.partial").write_bytes(b"garbage from another file")
    (tmp_path / "x.bin.partial.json").write_text('{"url": "http://elsewhere/old.bin"}')
    download(srv.url("/new.bin"), tmp_path / "x.bin", options=FAST)
    assert (tmp_path / "x.bin").read_bytes() == data
    assert srv.requests_for("/new.bin")[0][2].get("Range") is None


def test_404_is_a_clear_error_and_leaves_nothing(srv, tmp_path):
    with pytest.raises(FetchError, match=r"not found \(HTTP 404\).*Fix"):
        download(srv.url("/missing.tif"), tmp_path / "m.tif", options=FAST)
    assert _leftovers(tmp_path) == []
    assert len(srv.requests_for("/missing.tif")) == 1  # 404 is not retried


def test_500_then_success(srv, tmp_path):
    data = _blob(10_000, seed=7)
    srv.add("/flaky.bin", Route(data, fail_statuses=[500, 503]))
    waits = []
    man = download(srv.url("/flaky.bin"), tmp_path / "flaky.bin", options=FAST, sleep=waits.append)
    assert man["sha256"] == _sha(data) and man["attempts"] == 3
    assert len(waits) == 2


def test_backoff_grows_and_is_capped():
    o = HttpOptions(backoff_s=1.0, backoff_factor=3.0, max_backoff_s=5.0)
    assert [o.wait_s(k) for k in range(4)] == [1.0, 3.0, 5.0, 5.0]


def test_persistent_500_gives_up_with_message(srv, tmp_path):
    srv.add("/down.bin", Route(b"x", fail_statuses=[500] * 10))
    with pytest.raises(FetchError, match=r"gave up after 4 attempt\(s\); last error: HTTP 500"):
        download(srv.url("/down.bin"), tmp_path / "down.bin", options=FAST, sleep=lambda s: None)
    assert not (tmp_path / "down.bin").exists()


def test_truncated_transfer_never_becomes_the_file(srv, tmp_path):
    data = _blob(64_000, seed=8)
    srv.add("/t.bin", Route(data, drop_after=1000, drop_times=100, ignore_range=True))
    with pytest.raises(FetchError, match="connection dropped after 1000 of 64000 bytes"):
        download(srv.url("/t.bin"), tmp_path / "t.bin", options=FAST, sleep=lambda s: None)
    assert not (tmp_path / "t.bin").exists()
    assert not (tmp_path / "t.bin.manifest.json").exists()


def _tiny_tif(path) -> bytes:
    import rasterio
    from affine import Affine

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(0.01, 0, 105, 0, -0.01, 21),
    ) as ds:
        ds.write(np.arange(64 * 64, dtype="float32").reshape(64, 64), 1)
    return path.read_bytes()


def test_html_instead_of_geotiff_is_rejected_and_deleted(srv, tmp_path):
    srv.add(
        "/pop.tif",
        Route(
            b"<!DOCTYPE html><html><body>Service unavailable</body></html>",
            content_type="text/html",
        ),
    )
    with pytest.raises(FetchError, match="expected a GeoTIFF, got an HTML page"):
        download(srv.url("/pop.tif"), tmp_path / "pop.tif", options=FAST, validate=v.geotiff())
    assert _leftovers(tmp_path) == []


def test_truncated_geotiff_served_whole_is_rejected(srv, tmp_path):
    good = _tiny_tif(tmp_path / "src.tif")
    (tmp_path / "src.tif").unlink()
    srv.add("/cut.tif", Route(good[: len(good) // 2]))  # server's own copy is cut: sizes agree
    with pytest.raises(FetchError, match="truncated or corrupt"):
        download(srv.url("/cut.tif"), tmp_path / "cut.tif", options=FAST, validate=v.geotiff())
    assert _leftovers(tmp_path) == []
    srv.add("/ok.tif", Route(good))
    man = download(srv.url("/ok.tif"), tmp_path / "ok.tif", options=FAST, validate=v.geotiff())
    assert man["sha256"] == _sha(good)


def test_cache_under_a_file_is_a_clear_error(srv, tmp_path):
    srv.add("/a.bin", Route(b"abc"))
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(FetchError, match=r"not_a_folder.* is not writable.*Fix"):
        download(srv.url("/a.bin"), blocker / "raw" / "a.bin", options=FAST)
    assert srv.log == []  # refused before any network traffic


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write to read-only folders"
)
def test_read_only_cache_is_a_clear_error(srv, tmp_path):
    srv.add("/a.bin", Route(b"abc"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(FetchError, match="is not writable.*Fix"):
            download(srv.url("/a.bin"), ro / "a.bin", options=FAST)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(stat.S_IRWXU)


def test_secrets_never_appear_in_errors_or_manifests(srv, tmp_path):
    tok = "pk.SECRET123"
    with pytest.raises(FetchError) as ei:
        download(
            srv.url(f"/dl?token={tok}&file=x.gz"), tmp_path / "x.gz", options=FAST, secrets=[tok]
        )
    assert tok not in str(ei.value) and "token=***" in str(ei.value)
    srv.add(f"/dl?token={tok}&file=y.gz", Route(b"payload"))
    man = download(
        srv.url(f"/dl?token={tok}&file=y.gz"),
        tmp_path / "y.gz",
        options=FAST,
        secrets=[tok],
        info={"note": f"fetched with {tok}"},
    )
    text = (tmp_path / "y.gz.manifest.json").read_text()
    assert tok not in text and tok not in str(man)
    assert "token=***" in man["url"]


def test_redact_masks_query_secrets():
    assert redact("GET https://a/b?key=abc&x=1 failed") == "GET https://a/b?key=*** failed".replace(
        " failed", "&x=1 failed"
    )
    assert redact("token pk.1 bad", ["pk.1"]) == "token *** bad"


@pytest.mark.parametrize("drop_at", [1, 8191, 8192, 8193, 49_999])
def test_resume_is_exact_at_any_drop_point(srv, tmp_path, drop_at):
    data = _blob(50_000, seed=drop_at)
    srv.add("/d.bin", Route(data, drop_after=drop_at))
    man = download(srv.url("/d.bin"), tmp_path / "d.bin", options=FAST, sleep=lambda s: None)
    assert man["sha256"] == _sha(data) and man["resumed"] is True
    assert srv.requests_for("/d.bin")[1][2]["Range"] == f"bytes={drop_at}-"
