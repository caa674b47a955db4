"""End to end on the embedded demo: outputs exist, read back, agree, and say SYNTHETIC DEMO."""

import json
import subprocess
import sys

import numpy as np
import pyogrio
import pytest
import rasterio
from openpyxl import load_workbook

from covgap.config import load_config
from covgap.io import read_population


def test_demo_writes_every_output(demo_run):
    _, out = demo_run
    for name in ("summary.json", "gap_report.xlsx", "gaps.gpkg", "map.html", "report.html", "report.pdf", "covgap.toml",
                 "coverage_4G_operators.tif", "uncovered_population.tif", "inputs/population.tif"):
        assert (out / name).is_file(), name
    assert not list(out.parent.glob(".*partial*")), "staging folder left behind"


def test_summary_is_synthetic_and_conserves_population(demo_run):
    analysis, out = demo_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["synthetic"] is True and s["title"].startswith("SYNTHETIC DEMO")
    pop, _, _ = read_population(out / "inputs" / "population.tif")
    assert s["population_total"] == pytest.approx(pop.sum(), rel=1e-6)
    assert s["population_covered"] + s["population_uncovered"] == pytest.approx(s["population_total"], rel=1e-12)
    for level in ("province", "commune"):
        units = [u for u in s["units"] if u["level"] == level]
        tot = sum(u["population"] for u in units) + s["population_outside_units"][level]
        assert tot == pytest.approx(s["population_total"], rel=1e-6)
        for u in units:
            assert u["covered_any"] + u["uncovered"] == pytest.approx(u["population"], rel=1e-9, abs=1e-6)
    provinces = [u for u in s["units"] if u["level"] == "province"]
    communes = [u for u in s["units"] if u["level"] == "commune"]
    assert len(provinces) >= 4 and len(communes) >= 30
    assert sum(u["population"] for u in provinces) == pytest.approx(sum(u["population"] for u in communes), rel=1e-9)
    assert set(s["population_covered_by_technology"]) >= {"2G", "3G", "4G"}
    assert s["covgap_version"] and s["model"]["model"] == "radius"
    roles = {i["role"] for i in s["inputs"]}
    assert {"population", "towers", "admin:province", "admin:commune"} <= roles
    assert all(len(i.get("sha256", "")) == 64 for i in s["inputs"])
    assert any(ch in json.dumps(s, ensure_ascii=False) for ch in "Đđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def test_xlsx_reads_back_and_agrees_with_summary(demo_run):
    _, out = demo_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    wb = load_workbook(out / "gap_report.xlsx")
    assert wb.sheetnames == ["Summary", "Provinces", "Communes", "Gap clusters", "Hamlets", "Sources"]
    ws = wb["Provinces"]
    assert "SYNTHETIC DEMO" in ws["A1"].value
    header = [c.value for c in ws[2]]
    assert ws.freeze_panes == "A3"
    rows = [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=3)]
    by_code = {u["code"]: u for u in s["units"] if u["level"] == "province"}
    assert {r["code"] for r in rows} == set(by_code)
    for r in rows:
        assert r["uncovered"] == pytest.approx(by_code[r["code"]]["uncovered"], rel=1e-9, abs=1e-6)
    src = wb["Sources"]
    assert [c.value for c in src[2]][:4] == ["role", "path", "layer", "source"]


def test_geopackage_reads_back_and_agrees_with_summary(demo_run):
    _, out = demo_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    layers = {name for name, _ in pyogrio.list_layers(out / "gaps.gpkg")}
    assert {"admin_province", "admin_commune", "gap_clusters", "towers", "hamlets"} <= layers
    prov = pyogrio.read_dataframe(out / "gaps.gpkg", layer="admin_province")
    assert prov["uncovered"].sum() == pytest.approx(sum(u["uncovered"] for u in s["units"] if u["level"] == "province"))
    cl = pyogrio.read_dataframe(out / "gaps.gpkg", layer="gap_clusters")
    assert len(cl) == s["gap_clusters"]["count"]
    assert prov.crs.to_epsg() == 4326


def test_uncovered_raster_sums_to_summary(demo_run):
    _, out = demo_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with rasterio.open(out / "uncovered_population.tif") as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.tags()["synthetic"] == "True"
        assert float(ds.read(1).astype("f8").sum()) == pytest.approx(s["population_uncovered"], rel=1e-5)


def test_map_html_says_synthetic_and_has_layers(demo_run):
    _, out = demo_run
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DEMO" in html
    assert "L.control.layers" in html
    assert "Gap clusters" in html and "Towers: Viettel" in html


def test_written_config_runs_again_with_covgap_run(demo_run, tmp_path):
    _, out = demo_run
    cfg = load_config(out / "covgap.toml")
    assert cfg.synthetic and cfg.model.kind in ("auto", "radius")
    res = subprocess.run([sys.executable, "-m", "covgap.cli", "run", str(out / "covgap.toml"), "--out",
                          str(tmp_path / "again"), "--model", "radius", "-q"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "SYNTHETIC DEMO" in res.stdout
    a = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "again" / "summary.json").read_text(encoding="utf-8"))
    assert a["population_uncovered"] == b["population_uncovered"]
    assert np.isclose(a["population_total"], b["population_total"])


@pytest.mark.slow
def test_demo_default_model_is_p1812_with_signal_rasters(tmp_path):
    from covgap.pipeline import run_demo

    out = tmp_path / "p1812"
    analysis = run_demo(out)  # the demo's default model: ITU-R P.1812-6 over the demo's land cover
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["model"]["model"] == "p1812" and s["synthetic"] is True
    assert 'kind = "p1812"' in (out / "covgap.toml").read_text(encoding="utf-8")
    # what the figures rest on: the Recommendation and its version, the location percentage, the land cover
    assert s["model"]["method"].startswith("ITU-R P.1812-6") and s["model"]["p1812_method"] == "fast"
    assert s["location_percent"] == 50.0 and s["model"]["location_percent"] == 50.0
    assert s["model"]["land_cover"].startswith("covgap synthetic demo (WorldCover class codes)")
    # the demo's headline with P.1812 (README, docs/design.md "Which model is the default")
    assert s["population_uncovered"] == pytest.approx(44_646.33, abs=0.01)
    # the reports name the Recommendation with the model
    title = "p1812 (ITU-R P.1812-6, fast)"
    assert title in (out / "report.html").read_text(encoding="utf-8")
    assert title in [c.value for row in load_workbook(out / "gap_report.xlsx")["Summary"].iter_rows() for c in row]
    for tech in ("2G", "3G", "4G"):
        with rasterio.open(out / f"signal_{tech}_dbm.tif") as ds:
            sig = ds.read(1)
        tc = analysis.coverage.technologies[tech]
        covered = np.isfinite(sig) & (sig >= tc.threshold_dbm)
        assert np.array_equal(covered, tc.covered)
    # model-range notes (e.g. 2,100 MHz beyond COST-231's fitted range) are reported, not raised
    assert isinstance(s["notes"].get("model_warnings", []), list)
    hamlets = analysis.hamlets
    covered_rows = hamlets[hamlets["covered_4G"]]
    assert (covered_rows["signal_margin_db_4G"] >= 0).all()
    assert s["population_covered"] + s["population_uncovered"] == pytest.approx(s["population_total"], rel=1e-12)


def test_model_range_notes_reach_the_workbook(demo_run, tmp_path):
    from covgap.report.exports import write_xlsx

    analysis, _ = demo_run
    note = "3G transmitters: 1 value(s) of frequency_mhz outside the cost231-hata validity range (test)"
    analysis.study.notes.setdefault("model_warnings", []).append(note)
    try:
        path = write_xlsx(analysis, tmp_path / "r.xlsx")
    finally:
        analysis.study.notes["model_warnings"].remove(note)
    ws = load_workbook(path)["Summary"]
    assert note in [c.value for row in ws.iter_rows() for c in row]
