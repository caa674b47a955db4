"""Uncertainty ensembles on the demo region: exact reuse of the signal fields, the P10–P90 range
widens with the link-budget spread, and every report shows the ranges (XLSX read back, JSON, HTML)."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest
import rasterio
from _corpus import assert_clean_error, cli
from conftest import quiet
from openpyxl import load_workbook

from covgap.analysis import analyse
from covgap.config import load_config
from covgap.demo import make_demo_inputs
from covgap.errors import ModelRangeWarning
from covgap.io import load_study_area
from covgap.models import make_model
from covgap.models.base import compute_coverage
from covgap.pipeline import demo_config_text
from covgap.report.i18n import fmt_range
from covgap.uncertainty import EnsembleSpec, attach_ensemble, run_ensemble, signal_margins

pytestmark = pytest.mark.slow

ENSEMBLE = """
[uncertainty]
members = 8
seed = 2021
link_budget_db = 3.0
location_db = "model"
population = ["inputs/population_constrained.tif", "inputs/population_unconstrained.tif"]
top_n = 3
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("ens")
    make_demo_inputs(d / "inputs")
    (d / "covgap.toml").write_text(demo_config_text(model_kind="hata"), encoding="utf-8")
    (d / "ensemble.toml").write_text(demo_config_text(model_kind="hata") + ENSEMBLE, encoding="utf-8")
    cfg = load_config(d / "covgap.toml")
    study = load_study_area(cfg)
    model = make_model(cfg.model, has_dem=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)
        analysis = analyse(study, model)
    return d, study, model, analysis


@pytest.mark.parametrize("kind", ["hata", "terrain"])
def test_signal_computed_once_with_headroom_is_the_deterministic_coverage(demo, kind):
    _, study, _, _ = demo
    model = make_model(load_config(demo[0] / "covgap.toml").model, has_dem=True, kind=kind)
    cov = quiet(compute_coverage, study.grid, study.sites, model, dem=study.dem)
    sm = quiet(signal_margins, study.grid, study.sites, model, dem=study.dem, headroom_db=12.0)
    for t, tc in cov.technologies.items():
        assert np.array_equal(sm.covered(t), tc.covered), t


def test_demo_zero_spread_every_member_is_the_deterministic_run(demo):
    _, study, model, a = demo
    r = run_ensemble(study, model, EnsembleSpec(members=3, seed=4), analysis=a)
    for level, tab in a.units.items():
        for m in range(3):
            assert np.array_equal(r.member_units[level]["uncovered"][m], tab["uncovered"].to_numpy())
    cl = r.clusters.set_index("cluster_id")
    assert np.array_equal(cl.loc[a.clusters["cluster_id"], "uncovered_p50"].to_numpy(),
                          a.clusters["population"].to_numpy())
    assert np.array_equal(r.hamlets["p_no_signal"].to_numpy() == 1.0, ~a.hamlets["covered_any"].to_numpy())


@pytest.fixture(scope="module")
def terrain(demo):
    """The demo with its own model (terrain): with Hata, every person without signal is beyond the 20 km
    radius cap of the nearest 2G site, so no link-budget draw moves them."""
    d, study, _, _ = demo
    model = make_model(load_config(d / "covgap.toml").model, has_dem=True, kind="terrain")
    return study, model, quiet(analyse, study, model)


def test_demo_larger_link_budget_spread_never_narrows_the_range(terrain):
    study, model, a = terrain
    wide = quiet(run_ensemble, study, model, EnsembleSpec(members=20, seed=9, link_budget_db={"*": 4.0}), analysis=a)
    for sigma in (1.0, 2.0, 3.0):
        narrow = run_ensemble(study, model, EnsembleSpec(members=20, seed=9, link_budget_db={"*": sigma}), analysis=a,
                              margins=wide.margins)
        for level in a.units:
            w, n = wide.units[level], narrow.units[level]
            rw = (w["uncovered_p90"] - w["uncovered_p10"]).to_numpy()
            rn = (n["uncovered_p90"] - n["uncovered_p10"]).to_numpy()
            assert (rw >= rn - 1e-9).all(), (level, sigma)
            for m in range(20):  # conservation in every member
                mu = narrow.member_units[level]
                np.testing.assert_allclose(mu["covered"][m] + mu["uncovered"][m], mu["population"][m],
                                           rtol=1e-12, atol=1e-9)
        assert wide.totals["p90"] - wide.totals["p10"] >= narrow.totals["p90"] - narrow.totals["p10"]
    assert wide.totals["p90"] > wide.totals["p10"]


def test_attaching_an_ensemble_moves_no_deterministic_figure(demo):
    _, study, model, a = demo
    before = json.loads(json.dumps(a.summary(), default=str))
    b = copy.copy(a)
    b.units = {k: v.copy() for k, v in a.units.items()}
    b.clusters = a.clusters.copy()
    b.hamlets = a.hamlets.copy()
    attach_ensemble(b, quiet(run_ensemble, study, model, EnsembleSpec(members=4, link_budget_db={"*": 2.0}),
                              analysis=a))
    after = json.loads(json.dumps(b.summary(), default=str))
    assert after.pop("uncertainty")["spec"]["members"] == 4
    for u in after["units"]:
        for k in ("uncovered_p10", "uncovered_p50", "uncovered_p90", "top_n_share"):
            u.pop(k)
    assert after == before


def test_reports_show_the_ranges(demo, tmp_path, capsys):
    d = demo[0]
    out = tmp_path / "out"
    rc, stdout, err = quiet(cli, ["run", d / "ensemble.toml", "--out", out, "--model", "hata"], capsys)
    assert rc == 0, err
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["population_uncovered"] == pytest.approx(1515.0414984005038, abs=1e-6)  # the demo's hata figure
    ens = s["uncertainty"]
    assert ens["spec"]["members"] == 8 and ens["spec"]["population"] == [
        "run", "population_constrained", "population_unconstrained"]
    lo, mid, hi = (ens["population_uncovered"][k] for k in ("p10", "p50", "p90"))
    assert lo <= mid <= hi and hi > lo
    assert f"P10–P90 (8 members): {lo:,.0f}–{hi:,.0f} without any signal" in stdout
    for u in s["units"]:
        assert u["uncovered_p10"] <= u["uncovered_p50"] <= u["uncovered_p90"]
        assert 0.0 <= u["top_n_share"] <= 1.0
    roles = [i["role"] for i in s["inputs"]]
    assert "uncertainty_population:1" in roles and "uncertainty_population:2" in roles
    # XLSX: the range columns sit right after "uncovered", and hold the JSON's numbers
    wb = load_workbook(out / "gap_report.xlsx")
    ws = wb["Provinces"]
    hdr_row = next(r for r in range(1, 4) if ws.cell(r, 1).value == "code")
    head = [c.value for c in ws[hdr_row]]
    i = head.index("uncovered")
    assert head[i + 1:i + 5] == ["uncovered_p10", "uncovered_p50", "uncovered_p90", "top_n_share"]
    json_units = {u["code"]: u for u in s["units"] if u["level"] == "province"}
    for r in range(hdr_row + 1, ws.max_row + 1):
        code = ws.cell(r, head.index("code") + 1).value
        for k in ("uncovered_p10", "uncovered_p90"):
            assert ws.cell(r, head.index(k) + 1).value == pytest.approx(json_units[code][k])
            assert ws.cell(r, head.index(k) + 1).number_format == "#,##0"
    cl = wb["Gap clusters"]
    chead = [c.value for c in cl[hdr_row]]
    j = chead.index("population")
    assert chead[j + 1:j + 4] == ["uncovered_p10", "uncovered_p50", "uncovered_p90"]
    hm = wb["Hamlets"]
    hhead = [c.value for c in hm[hdr_row]]
    assert hhead[hhead.index("covered_any") + 1] == "p_no_signal"
    probs = [hm.cell(r, hhead.index("p_no_signal") + 1).value for r in range(hdr_row + 1, hm.max_row + 1)]
    assert all(p is None or 0.0 <= p <= 1.0 for p in probs) and any(p not in (None, 0.0) for p in probs)
    summary_items = [wb["Summary"].cell(r, 1).value for r in range(1, wb["Summary"].max_row + 1)]
    assert any(isinstance(v, str) and "P10–P90 of 8 ensemble members: P90" in v for v in summary_items)
    # HTML: "1,515 (P10–P90: a–b)" and the note
    html = (out / "report.html").read_text(encoding="utf-8")
    assert fmt_range(s["population_uncovered"], lo, hi) in html
    assert 'id="ensemble-note"' in html and "(P10–P90: " in html
    top = max(json_units.values(), key=lambda u: u["uncovered"])
    assert fmt_range(top["uncovered"], top["uncovered_p10"], top["uncovered_p90"]) in html
    # the map of the probability of no signal: GeoTIFF and a map layer
    with rasterio.open(out / "no_signal_probability.tif") as src:
        p = src.read(1)
        assert src.tags()["ensemble_members"] == "8"
    assert p.dtype == np.float32 and p.min() >= 0.0 and p.max() <= 1.0 and 0 < p.mean() < 1
    assert "Probability of no signal (ensemble)" in (out / "map.html").read_text(encoding="utf-8")
    assert (out / "report.pdf").stat().st_size > 10_000


def test_bad_uncertainty_section_is_a_clean_error(demo, tmp_path, capsys):
    d = demo[0]
    bad = tmp_path / "bad.toml"
    text = (d / "ensemble.toml").read_text(encoding="utf-8").replace('location_db = "model"', 'location_db = "modle"')
    bad.write_text(text.replace('"inputs/', f'"{d}/inputs/'), encoding="utf-8")
    rc, _, err = cli(["run", bad, "--out", tmp_path / "o", "-q"], capsys)
    assert_clean_error(rc, err, must=(str(bad), "location_db", '"model"'))
    assert not (tmp_path / "o").exists()
