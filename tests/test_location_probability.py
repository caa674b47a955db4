"""Location probability: coverage at a location percentage, the probability raster, p50/p90 per unit."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import rasterio
from affine import Affine
from conftest import make_sites, tiny_study
from openpyxl import load_workbook
from scipy.stats import norm

from covgap.analysis import analyse
from covgap.config import ModelConfig, load_config
from covgap.errors import ConfigError
from covgap.grid import Grid
from covgap.models import make_model
from covgap.models.base import compute_coverage
from covgap.models.hata import HataModel
from covgap.models.location import coverage_probability, covered_at, location_margin_db
from covgap.models.p1812 import location_std_db
from covgap.models.p1812_area import P1812Model
from covgap.models.radius import RadiusModel
from covgap.models.terrain import TerrainModel

RES = 0.002  # about 210 m
N = 61


def _grid() -> Grid:
    return Grid(crs="EPSG:4326", transform=Affine(RES, 0.0, 105.0, 0.0, -RES, 21.1), shape=(N, N))


def _sites(grid: Grid):
    x, y = grid.x_centres(), grid.y_centres()
    return make_sites([("a", "OpA", "4G", float(x[20]) + 1e-4, float(y[25])),
                       ("b", "OpB", "4G", float(x[42]), float(y[33]) - 1e-4),
                       ("c", "OpA", "2G", float(x[30]), float(y[30]))])


LB = {"4G": {"eirp_dbm": 20.0}, "2G": {"eirp_dbm": 10.0}}


# ---------------------------------------------------------------- hand-computable
def test_probability_by_hand():
    sig = np.array([-100.0, -94.5, -105.5, np.nan], dtype=np.float32)
    p = coverage_probability(sig, -100.0, 5.5)
    assert p[0] == 0.5  # exactly at the threshold
    assert p[1] == pytest.approx(norm.cdf(1.0), abs=1e-7)  # one sigma above
    assert p[2] == pytest.approx(norm.cdf(-1.0), abs=1e-7)
    assert p[3] == 0.0  # no transmitter reaches
    assert coverage_probability(sig, -100.0, 0.0).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert location_margin_db(50, 5.5) == 0.0
    assert location_margin_db(90, 5.5) == pytest.approx(5.5 * norm.ppf(0.9), abs=1e-12)
    assert location_margin_db(10, 5.5) == pytest.approx(-5.5 * norm.ppf(0.9), abs=1e-12)
    # covered at p % <=> probability >= p/100 (away from rounding at the boundary)
    s = np.linspace(-120.0, -80.0, 4001)
    for pct in (10, 50, 75, 90, 99):
        prob = coverage_probability(s, -100.0, 5.5).astype("f8")
        clear = np.abs(prob - pct / 100.0) > 1e-6
        assert np.array_equal(covered_at(s, -100.0, 5.5, pct)[clear], (prob >= pct / 100.0)[clear])


def test_radius_model_has_no_spread():
    grid = _grid()
    cov = RadiusModel(radius_km={"4G": 3.0, "2G": 5.0}).compute(grid, _sites(grid))
    for tc in cov.technologies.values():
        assert tc.signal_dbm is None and tc.location_std_db == 0.0
        p = tc.coverage_probability()
        assert set(np.unique(p).tolist()) <= {0.0, 1.0}
        assert np.array_equal(p == 1.0, tc.covered)
        assert np.array_equal(tc.covered_at(90), tc.covered) and np.array_equal(tc.covered_at(50), tc.covered)


# ---------------------------------------------------------------- signal models
def test_hata_cell_at_threshold_has_probability_half():
    grid = _grid()
    sites = _sites(grid)
    sig = HataModel(link_budgets=LB).compute(grid, sites).technologies["4G"].signal_dbm
    thr = float(sig[25, 30])  # a cell between the two 4G sites, inside their discs
    cov = HataModel(link_budgets={"4G": {"eirp_dbm": 20.0, "threshold_dbm": thr}, "2G": LB["2G"]}).compute(grid, sites)
    tc = cov.technologies["4G"]
    assert tc.signal_dbm[25, 30] == np.float32(thr)
    assert tc.coverage_probability()[25, 30] == 0.5
    assert tc.covered[25, 30] and tc.covered_at(50)[25, 30] and not tc.covered_at(51)[25, 30]


def test_sigma_zero_is_the_deterministic_coverage():
    grid = _grid()
    sites = _sites(grid)
    base = HataModel(link_budgets=LB).compute(grid, sites)
    for pct in (10, 50, 90):
        cov = HataModel(link_budgets=LB, location_std_db=0.0, location_percent=pct).compute(grid, sites)
        for tech, tc in cov.technologies.items():
            b = base.technologies[tech]
            assert np.array_equal(tc.operator_bits, b.operator_bits)
            assert np.array_equal(tc.n_sites, b.n_sites)
            assert np.array_equal(tc.coverage_probability(), b.covered.astype(np.float32))


@pytest.mark.parametrize("cls", [HataModel, TerrainModel])
def test_raising_location_percent_never_covers_more(cls):
    grid = _grid()
    sites = _sites(grid)
    rng = np.random.default_rng(5)
    dem = 200.0 + rng.uniform(0.0, 60.0, grid.shape)
    dem[:, 36] = 400.0  # a ridge between the two 4G sites
    covs = {pct: compute_coverage(grid, sites, cls(link_budgets=LB, location_percent=pct), dem=dem)
            for pct in (10, 30, 50, 70, 90, 99)}
    prev = None
    for pct, cov in covs.items():
        for tech, tc in cov.technologies.items():
            assert tc.location_percent == pct and tc.location_std_db == 5.5
            # the model's own coverage is the one its probability raster gives at pct
            assert np.array_equal(tc.covered, tc.covered_at(pct))
            if prev is not None:
                assert not (tc.covered & ~prev.covered(tech)).any()
        prev = cov
    assert covs[90].any_covered().sum() < covs[50].any_covered().sum() < covs[10].any_covered().sum()
    # a run at 50 % says which cells a run at 90 % covers (the same comparison, afterwards)
    for tech in covs[50].technologies:
        assert np.array_equal(covs[50].covered_at(tech, 90), covs[90].covered(tech))
        assert np.array_equal(covs[50].technologies[tech].signal_dbm, covs[90].technologies[tech].signal_dbm,
                              equal_nan=True)
    # below 50 % the discs reach further: the probability raster is exact down to pct
    for pct in (10, 50, 90):
        tc = covs[pct].technologies["4G"]
        p = tc.coverage_probability().astype("f8")
        clear = np.abs(p - pct / 100.0) > 1e-5
        assert np.array_equal(tc.covered[clear], (p >= pct / 100.0)[clear])


def test_p1812_sigma_from_section_4_8_and_coverage_at_90():
    grid = Grid(crs="EPSG:4326", transform=Affine(0.001, 0.0, 105.0, 0.0, -0.001, 21.05), shape=(41, 41))
    sites = make_sites([("s1", "OpA", "4G", float(grid.x_centres()[20]), float(grid.y_centres()[20]))])
    rng = np.random.default_rng(3)
    dem = 100.0 + rng.uniform(0.0, 30.0, grid.shape)
    # exact mode: the fast mode re-evaluates the cells near the run's own coverage level exactly,
    # so its signal raster (not its coverage) depends slightly on location_percent
    kw = {"max_radius_km": 2.0, "thresholds_dbm": {"4G": -80.0}, "method": "exact"}
    c50 = compute_coverage(grid, sites, P1812Model(**kw), dem=dem)
    c90 = compute_coverage(grid, sites, P1812Model(location_percent=90, **kw), dem=dem)
    t50, t90 = c50.technologies["4G"], c90.technologies["4G"]
    dx, dy = grid.cell_size_m()
    wa = math.sqrt(float(dx[20]) * float(dy[20]))
    f_ghz = c50.parameters["link_budgets"]["4G"]["frequency_mhz"] / 1e3
    assert t50.location_std_db == pytest.approx(location_std_db(f_ghz, 1.5, 0.0, wa_m=wa), rel=1e-3)
    assert np.array_equal(t50.signal_dbm, t90.signal_dbm, equal_nan=True)  # the signal is the median
    assert np.array_equal(c90.covered("4G"), c50.covered_at("4G", 90))
    assert 0 < c90.covered("4G").sum() < c50.covered("4G").sum()


def test_tiled_run_keeps_the_location_spread(tmp_path):
    from covgap.tiling import compute_coverage_tiled

    grid = _grid()
    sites = _sites(grid)
    model = HataModel(link_budgets=LB, location_percent=90)
    whole = model.compute(grid, sites)
    tiled = compute_coverage_tiled(grid, sites, model, tile_size=25, workdir=tmp_path / "w").to_coverage()
    for tech, tc in whole.technologies.items():
        tt = tiled.technologies[tech]
        assert (tt.location_std_db, tt.location_percent) == (5.5, 90.0)
        assert np.array_equal(tt.operator_bits, tc.operator_bits)
        assert np.array_equal(tt.coverage_probability(), tc.coverage_probability())


# ---------------------------------------------------------------- per unit
def test_p50_p90_per_unit_and_totals():
    grid = _grid()
    sites = _sites(grid)
    pop = np.random.default_rng(7).uniform(0.0, 20.0, grid.shape)
    study = tiny_study(pop, grid, sites, unit_cols=30)
    for model in (HataModel(link_budgets=LB), HataModel(link_budgets=LB, location_percent=90),
                  RadiusModel(radius_km={"4G": 3.0, "2G": 4.0})):
        a = analyse(study, model)
        t = a.units["province"]
        assert np.allclose(t["covered_any"] + t["uncovered"], t["population"])
        assert np.all(t["covered_any_p90"] <= t["covered_any_p50"] + 1e-9)
        for tech in ("2G", "4G"):
            assert np.all(t[f"covered_{tech}_p90"] <= t[f"covered_{tech}_p50"] + 1e-9)
            assert np.all(t[f"covered_{tech}_p50"] <= t["covered_any_p50"] + 1e-9)
        own = "covered_any_p90" if getattr(model, "location_percent", 50) == 90 else "covered_any_p50"
        assert np.allclose(t["covered_any"], t[own])
        s = a.summary()
        assert s["location_percent"] == getattr(model, "location_percent", 50.0)
        got = s["location_probability"]["population_covered_at"]
        assert got["p90"]["any"] == pytest.approx(float(t["covered_any_p90"].sum()), rel=1e-9)
        if isinstance(model, RadiusModel):
            assert np.array_equal(t["covered_any_p90"], t["covered_any"])
            assert np.array_equal(t["covered_any_p50"], t["covered_any"])
            assert not s["location_probability"]["model_has_location_spread"]
        else:
            assert float(t["covered_any_p90"].sum()) < float(t["covered_any_p50"].sum())


# ---------------------------------------------------------------- config
def test_config_location_percent(demo_run, tmp_path):
    import shutil

    _, out = demo_run
    shutil.copytree(out / "inputs", tmp_path / "inputs")
    text = (out / "covgap.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^kind = "[a-z]+"', 'kind = "hata"\nlocation_percent = 90', text, count=1)
    (tmp_path / "covgap.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "covgap.toml")
    assert cfg.model.location_percent == 90.0
    m = make_model(cfg.model, has_dem=True)
    assert isinstance(m, HataModel) and m.location_percent == 90.0
    assert make_model(cfg.model, has_dem=True, kind="p1812").location_percent == 90.0
    for bad, msg in (("0", "location_percent"), ("100", "location_percent"), ('"90"', "location_percent")):
        (tmp_path / "covgap.toml").write_text(text.replace("location_percent = 90", f"location_percent = {bad}"),
                                              encoding="utf-8")
        with pytest.raises(ConfigError, match=msg):
            load_config(tmp_path / "covgap.toml")
    with pytest.raises(ConfigError, match="disagree"):
        make_model(ModelConfig(kind="p1812", location_percent=90.0, options={"p1812": {"location_percent": 50}}),
                   has_dem=True)
    with pytest.raises(ConfigError, match="location_std_db"):
        HataModel(location_std_db=-1.0)


# ---------------------------------------------------------------- the demo end to end
@pytest.fixture(scope="module")
def hata_demo(tmp_path_factory):
    from covgap.pipeline import run_demo

    out = tmp_path_factory.mktemp("hata") / "out"
    return run_demo(out, model_kind="hata"), out


def test_demo_hata_end_to_end(hata_demo):
    analysis, out = hata_demo
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["location_percent"] == 50.0
    assert round(s["population_uncovered"], 2) == 1515.04  # unchanged by location probability at 50 %
    assert s["model"]["location_std_db"] == 5.5
    for u in s["units"]:
        assert u["covered_any_p90"] <= u["covered_any_p50"] + 1e-9
        assert u["covered_any_p50"] == pytest.approx(u["covered_any"], rel=1e-12, abs=1e-9)
    for tech, tc in analysis.coverage.technologies.items():
        with rasterio.open(out / f"coverage_probability_{tech}.tif") as ds:
            p = ds.read(1)
            assert ds.transform == analysis.study.grid.transform
        assert p.dtype == np.float32 and float(p.min()) >= 0.0 and float(p.max()) <= 1.0
        assert np.array_equal(p, tc.coverage_probability())
        assert (p[tc.covered] >= 0.5).all() and (p[~tc.covered] < 0.5).all()
        assert (out / f"signal_{tech}_dbm.tif").exists()
    wb = load_workbook(out / "gap_report.xlsx")
    ws = wb["Provinces"]
    header = [c.value for c in ws[2]]
    col = header.index("covered_any_p90")
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] is not None]
    by_code = {u["code"]: u for u in s["units"] if u["level"] == "province"}
    code_col = header.index("code")
    assert ws.cell(2, col + 1).comment.text == "Covered by any signal at 90 % of locations (people)"
    assert rows and all(r[col] == pytest.approx(by_code[r[code_col]]["covered_any_p90"]) for r in rows)
    text = " ".join(str(c.value) for row in wb[wb.sheetnames[0]].iter_rows() for c in row if c.value)
    assert "“Covered” = the signal reaches the threshold at 50 % of locations" in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "at 50 % of locations" in html


def test_vietnamese_xlsx_labels_and_sentence(hata_demo, tmp_path):
    from covgap.report.exports import write_xlsx

    analysis, _ = hata_demo
    wb = load_workbook(write_xlsx(analysis, tmp_path / "vi.xlsx", lang="vi"))
    header = [c.value for c in wb["Các tỉnh"][2]]
    assert "Có sóng di động tại 90 % vị trí (người)" in header
    assert "Được phủ sóng 4G tại 50 % vị trí (người)" in header
    text = " ".join(str(c.value) for row in wb[wb.sheetnames[0]].iter_rows() for c in row if c.value)
    assert "tín hiệu đạt ngưỡng tại 50 % vị trí" in text
