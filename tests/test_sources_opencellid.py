"""OpenCelliD downloads: token handling, the HTTP-200 bad-token answer, full-file fallback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from _sources_server import LocalServer, Route, cache_files, local_cache

from covgap.errors import ConfigError, FetchError
from covgap.sources import fetch_opencellid, resolve_token
from covgap.sources.opencellid import check_token_answer
from covgap.towers import OPENCELLID_COLUMNS, read_cells

SAMPLE = Path(__file__).parent / "data" / "opencellid_452_sample.csv"
GOOD = "pk.good0123456789"
BAD = "pk.bad9876543210"


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode())


def _ocid_route(per_mcc: bytes | None, full: bytes | None, answers: dict[str, bytes] | None = None):
    """Answer like opencellid.org/ocid/downloads: 200 + gzip for a good token, 200 + JSON otherwise."""

    def handler(path: str):
        q = dict(p.split("=", 1) for p in path.split("?", 1)[1].split("&"))
        tok = q.get("token")
        if tok != GOOD:
            return 200, (answers or {}).get(tok, b"INVALID_TOKEN"), "text/plain"
        if q.get("type") == "mcc":
            return (
                (200, per_mcc, "application/gzip")
                if per_mcc is not None
                else (404, b"no such file", "text/plain")
            )
        return (200, full, "application/gzip") if full is not None else (404, b"", "text/plain")

    return Route(handler)


@pytest.fixture()
def srv():
    with LocalServer() as s:
        yield s


def _no_token_anywhere(root: Path, *tokens: str) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            raw = p.read_bytes()
            data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            for t in tokens:
                assert t.encode() not in data, f"token leaked into {p}"


def test_per_country_file_with_token_from_env(srv, tmp_path, monkeypatch):
    srv.add("/opencellid.org/ocid/downloads", _ocid_route(_gz(SAMPLE.read_text()), None))
    monkeypatch.setenv("OPENCELLID_TOKEN", GOOD)
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_opencellid(cache, 452)
    assert p == tmp_path / "raw" / "opencellid" / "452.csv.gz"
    assert len(read_cells(p)) == 18
    man = cache.manifest("opencellid/452.csv.gz")
    assert (
        "token=***" in man["url"] and "type=mcc" in man["url"] and man["licence"] == "CC BY-SA 4.0"
    )
    _no_token_anywhere(tmp_path / "raw", GOOD)


def test_bad_token_answered_with_200_json(srv, tmp_path, capsys):
    srv.add("/opencellid.org/ocid/downloads", _ocid_route(_gz(SAMPLE.read_text()), None))
    cache = local_cache(srv, tmp_path / "raw")
    with pytest.raises(FetchError, match="OpenCelliD refused the token") as ei:
        fetch_opencellid(cache, 452, token=BAD)
    assert BAD not in str(ei.value) and "token=***" in str(ei.value)
    assert cache_files(tmp_path / "raw") == []  # nothing corrupt left behind
    out = capsys.readouterr()
    assert BAD not in out.out + out.err


def test_rate_limit_answer_is_explained(srv, tmp_path):
    srv.add(
        "/opencellid.org/ocid/downloads",
        _ocid_route(
            None,
            None,
            {BAD: b"RATE_LIMITED"},
        ),
    )
    with pytest.raises(FetchError, match=r"download limit reached \(RATE_LIMITED\)") as ei:
        fetch_opencellid(local_cache(srv, tmp_path / "raw"), 452, token=BAD)
    assert BAD not in str(ei.value)


def test_fallback_to_full_file_filtered_by_mcc(srv, tmp_path):
    header = ",".join(OPENCELLID_COLUMNS) + "\n"
    other = "GSM,404,10,1,1,0,77.2,28.6,1000,30,1,1500000000,1729000000,0\n"
    full = _gz(header + SAMPLE.read_text() + other * 5)
    srv.add("/opencellid.org/ocid/downloads", _ocid_route(None, full))
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_opencellid(cache, 452, token=GOOD)
    cells = read_cells(p)
    assert (
        set(cells["mcc"]) == {452} and len(cells) == 17
    )  # the sample's one MCC-404 row is filtered out too
    man = cache.manifest("opencellid/452.csv.gz")
    assert (
        "filtered to MCC 452" in man["release"]
        and man["derived_from"][0]["file"] == "cell_towers.csv.gz"
    )
    assert "type=full" in cache.manifest("opencellid/cell_towers.csv.gz")["url"]
    _no_token_anywhere(tmp_path / "raw", GOOD)


def test_truncated_gzip_is_rejected(srv, tmp_path):
    body = _gz(SAMPLE.read_text() * 50)
    srv.add("/opencellid.org/ocid/downloads", _ocid_route(body[: len(body) // 2], None))
    with pytest.raises(FetchError, match="truncated or damaged"):
        fetch_opencellid(local_cache(srv, tmp_path / "raw"), 452, token=GOOD)
    assert cache_files(tmp_path / "raw") == []


def test_missing_token_is_a_clear_config_error(monkeypatch, srv, tmp_path):
    monkeypatch.delenv("OPENCELLID_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="export OPENCELLID_TOKEN"):
        fetch_opencellid(local_cache(srv, tmp_path / "raw"), 452)
    with pytest.raises(ConfigError, match="spaces"):
        resolve_token("two words", environ={})
    assert resolve_token("pk.cfg", environ={}) == "pk.cfg"
    assert resolve_token("pk.cfg", environ={"OPENCELLID_TOKEN": "pk.env"}) == "pk.env"


def test_offline_never_needs_the_token(srv, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENCELLID_TOKEN", raising=False)
    cache = local_cache(srv, tmp_path / "raw", offline=True)
    with pytest.raises(FetchError, match="not in the cache"):
        fetch_opencellid(cache, 452)
    assert "token=***" in cache.missing[0].url or "TOKEN" not in cache.missing[0].url


def test_check_token_answer_variants():
    with pytest.raises(FetchError, match=r"refused the token \(INVALID_TOKEN\)"):
        check_token_answer("INVALID_TOKEN\n")
    with pytest.raises(FetchError, match=r"refused the token \(INVALID_TOKEN\)"):
        check_token_answer(json.dumps({"error": "INVALID_TOKEN"}))
    with pytest.raises(FetchError, match=r"limit reached \(RATE_LIMITED\)"):
        check_token_answer(json.dumps({"status": "RATE_LIMITED"}))
    # words are not codes: "invalid", "limit", "token" in other answers are shown as they are
    for body in ("Invalid request: unknown file type", '{"error":"Invalid token"}', "rate limit page", "<html>oops</html>"):
        with pytest.raises(FetchError, match="text instead of gzip") as ei:
            check_token_answer(body, "pk.secret")
        assert "refused" not in str(ei.value)
    with pytest.raises(FetchError) as ei:
        check_token_answer("token pk.secret is INVALID_TOKEN somewhere", "pk.secret")
    assert "pk.secret" not in str(ei.value) and "refused" not in str(ei.value)


def _route(per_mcc, full):
    """Per-country answer as given (status, body, content type); full file as gzip bytes."""

    def handler(path: str):
        q = dict(p.split("=", 1) for p in path.split("?", 1)[1].split("&"))
        if q.get("type") == "mcc":
            return per_mcc
        return 200, full, "application/gzip"

    return Route(handler)


def _full() -> bytes:
    return _gz(",".join(OPENCELLID_COLUMNS) + "\n" + SAMPLE.read_text())


@pytest.mark.parametrize("answer", [
    (404, b"not found", "text/plain"),
    (410, b"gone", "text/plain"),
    (200, b"<!DOCTYPE html><html><body>File not available</body></html>", "text/html"),
    (200, b"No file for this country", "text/plain"),
])
def test_falls_back_to_the_full_file_when_the_country_file_is_not_to_be_had(srv, tmp_path, answer):
    srv.add("/opencellid.org/ocid/downloads", _route(answer, _full()))
    cache = local_cache(srv, tmp_path / "raw")
    p = fetch_opencellid(cache, 452, token=GOOD)
    assert len(read_cells(p)) == 17 and "filtered to MCC 452" in cache.manifest("opencellid/452.csv.gz")["release"]
    assert any("type=full" in r[1] for r in srv.log)


@pytest.mark.parametrize("answer, match", [
    ((200, b"INVALID_TOKEN", "text/plain"), "INVALID_TOKEN"),
    ((200, b"RATE_LIMITED", "text/plain"), "RATE_LIMITED"),
    ((403, b"forbidden", "text/plain"), "HTTP 403"),
    ((503, b"busy", "text/plain"), "gave up after"),
    ((200, _gz(SAMPLE.read_text() * 50)[:300], "application/gzip"), "truncated or damaged"),
])
def test_no_fall_back_when_the_full_file_would_fail_too(srv, tmp_path, answer, match):
    srv.add("/opencellid.org/ocid/downloads", _route(answer, _full()))
    with pytest.raises(FetchError, match=match):
        fetch_opencellid(local_cache(srv, tmp_path / "raw"), 452, token=GOOD)
    assert not any("type=full" in r[1] for r in srv.log)  # the 116 MB file was not asked for
    assert cache_files(tmp_path / "raw") == []


def test_per_country_file_has_no_header_row_and_is_read_as_is(srv, tmp_path):
    body = SAMPLE.read_text()
    assert not body.startswith("radio,")  # the real per-country shape
    srv.add("/opencellid.org/ocid/downloads", _route((200, _gz(body), "application/gzip"), _full()))
    p = fetch_opencellid(local_cache(srv, tmp_path / "raw"), 452, token=GOOD)
    assert gzip.decompress(p.read_bytes()) == body.encode()
    assert len(read_cells(p)) == 18
