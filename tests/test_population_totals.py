"""Official totals: adjust_to_totals on tiny grids, the totals reader, [population] in the config, outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from covgap.config import parse_config
from covgap.errors import ConfigError, DataFileError, InputError
from covgap.io import read_population_totals
from covgap.population import ADJUSTMENT_COLUMNS, adjust_to_totals


def _totals(**kw) -> pd.DataFrame:
    return pd.DataFrame({"code": list(kw), "population": list(kw.values())})


# --------------------------------------------------------------------------- hand-computed
def test_hand_computed_2x3():
    # unit A = cells 1, 3, 2 (sum 6) → official 12: factor 2; unit B = 5, 7 (sum 12) → 6: factor 0.5;
    # the outside cell (label 0, 4 people) is left alone.
    pop = np.array([[1.0, 3.0, 5.0], [4.0, 2.0, 7.0]])
    lab = np.array([[1, 1, 2], [0, 1, 2]])
    adj, tab = adjust_to_totals(pop, lab, _totals(A=12.0, B=6.0), codes=["A", "B"], names=["Alpha", "Beta"])
    assert adj.tolist() == [[2.0, 6.0, 2.5], [4.0, 4.0, 3.5]]
    assert list(tab.columns) == list(ADJUSTMENT_COLUMNS)
    assert tab[["code", "name", "grid_population", "factor", "adjusted_population", "status"]].to_dict("records") == [
        {"code": "A", "name": "Alpha", "grid_population": 6.0, "factor": 2.0, "adjusted_population": 12.0,
         "status": "adjusted"},
        {"code": "B", "name": "Beta", "grid_population": 12.0, "factor": 0.5, "adjusted_population": 6.0,
         "status": "adjusted"},
    ]
    assert tab.attrs["grid_total_before"] == 22.0 and tab.attrs["grid_total_after"] == 22.0
    assert tab.attrs["outside_population"] == 4.0


def test_units_without_total_are_left_and_listed():
    pop = np.array([[1.0, 3.0], [2.0, 7.0]])
    lab = np.array([[1, 2], [1, 2]])
    adj, tab = adjust_to_totals(pop, lab, _totals(A=9.0), codes=["A", "B"])
    assert adj.tolist() == [[3.0, 3.0], [6.0, 7.0]]
    row = tab.set_index("code").loc["B"]
    assert row["status"] == "no_total" and row["factor"] == 1.0 and np.isnan(row["official_population"])
    assert tab.attrs["units_without_total"] == ["B"] and tab.attrs["units_adjusted"] == 1


def test_zero_grid_unit_is_reported_and_keeps_zero():
    pop = np.array([[0.0, 0.0, 5.0]])
    lab = np.array([[1, 1, 2]])
    adj, tab = adjust_to_totals(pop, lab, _totals(A=100.0, B=10.0), codes=["A", "B"])
    assert adj.tolist() == [[0.0, 0.0, 10.0]]
    row = tab.set_index("code").loc["A"]
    assert row["status"] == "zero_grid" and np.isnan(row["factor"])
    assert row["adjusted_population"] == 0.0 and row["difference"] == 100.0
    assert tab.attrs["units_zero_grid"] == ["A"]


def test_codes_not_in_layer_are_listed_and_a_total_mismatch_is_an_error():
    pop = np.ones((1, 2))
    lab = np.array([[1, 1]])
    _, tab = adjust_to_totals(pop, lab, _totals(A=4.0, Z=7.0), codes=["A"])
    assert tab.attrs["codes_not_in_layer"] == ["Z"]
    assert tab.iloc[-1]["status"] == "not_in_layer" and tab.iloc[-1]["official_population"] == 7.0
    with pytest.raises(InputError, match=r"none of the 1 codes.*'Z'.*'A'"):
        adjust_to_totals(pop, lab, _totals(Z=7.0), codes=["A"])


@pytest.mark.parametrize(
    ("totals", "codes", "match"),
    [
        (pd.DataFrame({"code": ["A", "A"], "population": [1, 2]}), ["A"], "more than once"),
        (_totals(A=-1.0), ["A"], "expected a number of people"),
        (_totals(A=1.0), ["A", "A"], "appear more than once"),
        (pd.DataFrame({"code": ["A"]}), ["A"], "column 'population'"),
    ],
)
def test_bad_totals(totals, codes, match):
    with pytest.raises(InputError, match=match):
        adjust_to_totals(np.ones((1, 2)), np.array([[1, 0]]), totals, codes=codes)


def test_bad_people_and_labels():
    with pytest.raises(InputError, match="clean_population"):
        adjust_to_totals(np.array([[-1.0]]), np.array([[1]]), _totals(A=1.0), codes=["A"])
    with pytest.raises(InputError, match=r"expected 0\.\.1"):
        adjust_to_totals(np.ones((1, 2)), np.array([[1, 2]]), _totals(A=1.0), codes=["A"])


# --------------------------------------------------------------------------- conservation (property)
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_units=st.integers(1, 6),
    scale=st.sampled_from([1.0, 1e3, 1e6]),
)
def test_conservation(seed, n_units, scale):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 30)), int(rng.integers(1, 30)))
    pop = rng.gamma(0.5, 50.0, shape) * (rng.random(shape) > 0.3)
    lab = rng.integers(0, n_units + 1, shape)
    codes = [f"U{k}" for k in range(n_units)]
    given_codes = [c for c in codes if rng.random() < 0.7]
    totals = pd.DataFrame({"code": given_codes, "population": rng.random(len(given_codes)) * scale * 1e3})
    adj, tab = adjust_to_totals(pop, lab, totals, codes=codes)
    t = tab.set_index("code")
    moved = 0.0
    for k, c in enumerate(codes):
        inside = lab == k + 1
        if c in given_codes and pop[inside].sum() > 0:
            official = t.loc[c, "official_population"]
            assert abs(adj[inside].sum() - official) <= 1e-6 * max(1.0, official / 1e7)
            moved += official - pop[inside].sum()
            assert (adj[inside] >= 0).all()
        else:  # no total, or nothing to scale: bit for bit
            assert np.array_equal(adj[inside], pop[inside])
    assert np.array_equal(adj[lab == 0], pop[lab == 0])
    assert adj.sum() == pytest.approx(pop.sum() + moved, rel=1e-12, abs=1e-6)


def test_pattern_kept_inside_a_unit():
    rng = np.random.default_rng(3)
    pop = rng.random((20, 20)) * 10
    lab = np.ones((20, 20), int)
    adj, tab = adjust_to_totals(pop, lab, _totals(A=12345.678), codes=["A"])
    f = tab.loc[0, "factor"]
    # every cell scaled by the same factor (the one cell that took the rounding residual within 1e-9)
    np.testing.assert_allclose(adj, pop * f, rtol=1e-12, atol=1e-9)
    assert abs(adj.sum() - 12345.678) <= 1e-9


# --------------------------------------------------------------------------- reader
def test_read_totals_real_file(tmp_path):
    p = tmp_path / "totals.csv"
    p.write_text("# official totals\ncode,population,year,source\n01,8246600,2020,GSO\n"
                 "02,870200,2020,GSO\n", encoding="utf-8")
    t = read_population_totals(p)
    assert t["code"].tolist() == ["01", "02"] and t["population"].tolist() == [8246600.0, 870200.0]
    assert t["line"].tolist() == [3, 4] and t["source"].tolist() == ["GSO", "GSO"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("code,population,year\n01,5,2020\n", r"line 1.*lacks \['source'\]"),
        ("code,population,year,source\n01,5,2020,G\n01,6,2020,G\n", r"line 3: code '01' already given on line 2"),
        ("code,population,year,source\n01,\"8,246,600\",2020,G\n", r"line 2: population '8,246,600'"),
        ("code,population,year,source\n,5,2020,G\n", r"line 2: empty code"),
    ],
)
def test_read_totals_errors_name_the_line(tmp_path, body, match):
    p = tmp_path / "t.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(DataFileError, match=match):
        read_population_totals(p)


# --------------------------------------------------------------------------- config
_BASE = {"inputs": {"population": "p.tif", "towers": "t.csv"},
         "admin": [{"level": "province", "path": "a.gpkg", "code_field": "code", "name_field": "name"},
                   {"level": "commune", "path": "a.gpkg", "code_field": "code", "name_field": "name"}]}


def test_config_population_section(tmp_path):
    cfg = parse_config({**_BASE, "population": {"adjust_to": "totals.csv"}}, base=tmp_path)
    assert cfg.population_adjust.level == "province"
    assert cfg.population_adjust.totals.path == tmp_path / "totals.csv"
    assert "population_totals" in cfg.inputs()
    cfg = parse_config({**_BASE, "population": {"adjust_to": {"path": "x.csv", "source": "GSO"}, "level": "commune"}},
                       base=tmp_path)
    assert cfg.population_adjust.level == "commune" and cfg.population_adjust.totals.source == "GSO"
    assert parse_config(_BASE, base=tmp_path).population_adjust is None


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ({"adjust_too": "x.csv"}, "Did you mean 'adjust_to'"),
        ({"adjust_to": "x.csv", "level": "district"}, r"level = 'district'; expected one of"),
        ({"level": "province"}, "needs 'adjust_to'"),
    ],
)
def test_config_population_errors(tmp_path, section, match):
    with pytest.raises(ConfigError, match=match):
        parse_config({**_BASE, "population": section}, base=tmp_path)


# --------------------------------------------------------------------------- end to end on the demo
def test_demo_adjusted_to_totals_summary_and_xlsx(tmp_path):
    import geopandas as gpd

    from covgap.demo import make_demo_inputs
    from covgap.io import load_study_area, read_population
    from covgap.config import load_config
    from covgap.models import make_model
    from covgap.analysis import analyse
    from covgap.pipeline import demo_config_text
    from covgap.report import write_summary, write_xlsx

    make_demo_inputs(tmp_path / "inputs")
    prov = gpd.read_file(tmp_path / "inputs" / "admin.gpkg", layer="provinces")
    codes = prov["code"].astype(str).tolist()
    # official totals for all provinces but the last, at 1.1 × a round number
    rows = [f"{c},{(k + 1) * 10000},2020,test figures" for k, c in enumerate(codes[:-1])] + ["ZZ,5,2020,nowhere"]
    (tmp_path / "totals.csv").write_text("code,population,year,source\n" + "\n".join(rows) + "\n", encoding="utf-8")
    text = demo_config_text(model_kind="radius") + '\n[population]\nadjust_to = "totals.csv"\nlevel = "province"\n'
    (tmp_path / "covgap.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "covgap.toml")
    raw, _, _ = read_population(cfg.population)
    study = load_study_area(cfg)
    lvl = study.level("province")
    for k, c in enumerate(codes):
        inside = lvl.labels == k + 1
        if k < len(codes) - 1:
            assert abs(study.population[inside].sum() - (k + 1) * 10000) <= 1e-6
        else:
            assert np.array_equal(study.population[inside], raw[inside])
    assert np.array_equal(study.population[lvl.labels == 0], raw[lvl.labels == 0])
    note = study.notes["population_adjustment"]
    assert note["units_without_total"] == [codes[-1]] and note["codes_not_in_layer"] == ["ZZ"]
    analysis = analyse(study, make_model(cfg.model, has_dem=True, kind="radius"))
    s = json.loads(write_summary(analysis, tmp_path / "summary.json").read_text(encoding="utf-8"))
    units = {u["code"]: u for u in s["notes"]["population_adjustment"]["units"]}
    assert units[codes[0]]["status"] == "adjusted" and units[codes[0]]["adjusted_population"] == pytest.approx(10000)
    assert units["ZZ"]["factor"] is None  # NaN written as null
    assert any(e["role"] == "population_totals" for e in s["inputs"])
    wb = load_workbook(write_xlsx(analysis, tmp_path / "r.xlsx"))
    ws = wb["Population adjustment"]
    header = [c.value for c in ws[2]]  # row 1 is the SYNTHETIC banner
    assert header == list(ADJUSTMENT_COLUMNS)
    first = {h: c.value for h, c in zip(header, ws[3], strict=True)}
    assert first["code"] == codes[0] and first["factor"] == pytest.approx(10000 / first["grid_population"])
