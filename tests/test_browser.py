"""map.html and the HTML report in headless Chromium: no JavaScript errors, layer control present,
screenshot not blank. Offline: every host name resolves to nothing, so the test proves the pages
need no network (Leaflet is inlined; base-map tiles simply stay blank)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("headless Chromium not installed (apt-get install chromium)", allow_module_level=True)

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
          "--virtual-time-budget=10000", "--window-size=1200,800"]
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\]\s*\"(?P<msg>.*)\", source: (?P<src>.*)$")


def _chromium(tmp_path: Path, url: str, *extra: str) -> tuple[str, list[str]]:
    """Run headless Chromium on ``url``: (stdout, console messages)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    res = subprocess.run([CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *extra, url],
                         capture_output=True, text=True, timeout=180)
    console = [m.group("msg") + " @ " + m.group("src") for line in res.stderr.splitlines()
               if (m := _CONSOLE.search(line))]
    return res.stdout, console


def _js_errors(console: list[str]) -> list[str]:
    # Every console message counts: the pages log nothing when all is well. Only failed tile
    # requests (no network in the test) are allowed.
    return [c for c in console if "Failed to load resource" not in c]


def _screenshot_not_blank(path: Path) -> None:
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    assert img.shape[:2] == (800, 1200)
    assert img.std() > 20, f"screenshot looks blank (std {img.std():.1f})"
    colours = np.unique(img.reshape(-1, 3)[::37], axis=0)
    assert len(colours) > 50


@pytest.fixture(scope="module")
def pages(demo_run):
    return demo_run[1]


def test_map_html_runs_without_js_errors_and_shows_layer_control(pages, tmp_path):
    dom, console = _chromium(tmp_path, (pages / "map.html").as_uri(), "--dump-dom")
    assert not _js_errors(console), console
    assert "leaflet-control-layers" in dom  # built by Leaflet's JS at run time
    labels = re.findall(r'<span>\s*(.*?)</span>', dom)
    assert any("Gap clusters" in s for s in labels) and any("Towers: Viettel" in s for s in labels)
    assert dom.count('class="leaflet-image-layer') >= 1  # the 4G coverage overlay is on by default
    assert "leaflet-marker-icon marker-cluster" in dom or "leaflet-interactive" in dom
    shot = tmp_path / "map.png"
    _chromium(tmp_path, (pages / "map.html").as_uri(), f"--screenshot={shot}")
    _screenshot_not_blank(shot)


def test_html_report_runs_and_its_embedded_map_has_layer_control(pages, tmp_path):
    dom, console = _chromium(tmp_path, (pages / "report.html").as_uri(), "--dump-dom")
    assert not _js_errors(console), console
    assert 'data-layer-control="present"' in dom  # set by the report once the map in the iframe has loaded
    assert 'id="synthetic-banner"' in dom
    shot = tmp_path / "report.png"
    _chromium(tmp_path, (pages / "report.html").as_uri(), f"--screenshot={shot}")
    _screenshot_not_blank(shot)


def test_map_with_hostile_names_runs_without_js_errors(demo_run, tmp_path):
    from test_reports import injected_analysis

    from covgap.report.maps import coverage_map

    a, _ = injected_analysis(demo_run[0])
    path = tmp_path / "hostile.html"
    coverage_map(a, tiles=None).save(str(path))
    dom, console = _chromium(tmp_path, path.as_uri(), "--dump-dom")
    assert not _js_errors(console), console
    assert "leaflet-control-layers" in dom
    assert "<script>alert" not in dom
