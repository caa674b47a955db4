"""Smoke test: every benchmark of issue 7 runs in --quick mode and run_all collects it.

Not a timing test: it only checks that the scripts run and write well-formed results.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_run_all_quick(tmp_path):
    vnm = ROOT.parent / "shared" / "data" / "vnm" / "geoBoundaries-VNM-ADM1.shp"
    only = "b2,b3,b4" if vnm.exists() else "b2"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", only,
                           "--out", str(tmp_path), "--timeout", "600"], capture_output=True, text=True, timeout=900)
    res = json.loads((tmp_path / "results.json").read_text())
    names = [r.get("benchmark") for r in res["benchmarks"]]
    failed = [r for r in res["benchmarks"] if r.get("failed")]
    assert not failed, failed[0].get("stderr_tail", "")[-2000:]
    assert proc.returncode == 0
    assert names == ["B2", "B3", "B4"][: len(only.split(","))]
    for r in res["benchmarks"]:
        assert r["quick"] is True and r["rows"] and r["targets"]
        assert all(isinstance(t["met"], bool) for t in r["targets"])
        # every result file says what it was measured on: CPU model and vector extensions (AVX-512 or not)
        assert "cpu_model" in r["machine"] and isinstance(r["machine"]["vector_extensions"], list)
    md = (tmp_path / "results.md").read_text()
    assert "vector extensions:" in md
    assert "## B2" in md and "two workers" in md
    b2 = next(r for r in res["benchmarks"] if r["benchmark"] == "B2")
    assert all(t["value"] is True for t in b2["targets"] if t["target"].startswith("identical"))


@pytest.mark.slow
def test_b5_radius_many_quick(tmp_path):
    """B5 (issue 16) runs in --quick mode through run_all and finds the binned kernel identical to the old one."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", "b5",
                           "--out", str(tmp_path), "--timeout", "600"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads((tmp_path / "results.json").read_text())
    (b5,) = res["benchmarks"]
    assert b5["benchmark"] == "B5" and b5["quick"] is True and len(b5["rows"]) == 4
    assert [t["value"] for t in b5["targets"]] == [True]
    assert b5["lscpu"].get("Model name") and "Flags" in b5["lscpu"]
    assert "| target | measured | met |" in (tmp_path / "b5_radius_many.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_p1812_benchmarks_quick(tmp_path):
    """B6 (fast P.1812 vs GDAL and exact) and B7 (engines vs P.1812 and SPLAT!) run in --quick mode."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", "b6,b7",
                           "--out", str(tmp_path), "--timeout", "900"], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads((tmp_path / "results.json").read_text())
    b6, b7 = res["benchmarks"]
    assert (b6["benchmark"], b7["benchmark"]) == ("B6", "B7")
    assert not b6.get("failed") and not b7.get("failed")
    assert all(isinstance(t["met"], bool) for t in b6["targets"] + b7["targets"])
    for block in b6["accuracy"]:  # the exact reference agrees with the fast mode where it was re-evaluated
        assert block["all"]["raw_within_1db"] > 0.9 and block["populated"]["delivered_coverage_agree"] > 0.99
    engines = {r["engine"] for r in b7["exact"][0]["rows"]}
    assert {"radius (2G fallback disc)", "hata (rural)", "terrain sweep", "terrain radials", "p1812 fast"} <= engines
    assert "| engine |" in (tmp_path / "b7_engines_vs_p1812.md").read_text(encoding="utf-8")
