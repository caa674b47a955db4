"""Uncertainty ensembles: zero spread = the deterministic run, P10 ≤ P50 ≤ P90, conservation in every
member, determinism, monotone range in the link-budget spread, config errors, ranges in every report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from conftest import SMALL_LB, quiet, small_hata_study

from covgap.analysis import analyse
from covgap.config import parse_config
from covgap.errors import ConfigError, InputError
from covgap.grid import Grid
from covgap.models.hata import HataModel
from covgap.models.radius import RadiusModel
from covgap.tiling import TiledModel
from covgap.uncertainty import (
    EnsembleSpec,
    location_field,
    member_streams,
    move_sites,
    run_ensemble,
    sensitivity,
    signal_margins,
    tower_sigma_m,
)

LB = SMALL_LB


def _study():
    return small_hata_study(np.random.default_rng(3))


@pytest.fixture(scope="module")
def tiny():
    study = _study()
    model = HataModel(link_budgets=LB)
    return study, model, quiet(analyse, study, model)


# ------------------------------------------------------------------ tiny, hand-checkable
def test_zero_spread_is_the_deterministic_run(tiny):
    study, model, a = tiny
    r = run_ensemble(study, model, EnsembleSpec(members=4, seed=1), analysis=a)
    det = a.units["province"]["uncovered"].to_numpy()
    for m in range(4):
        assert np.array_equal(r.member_units["province"]["uncovered"][m], det)
    for p in (10, 50, 90):
        assert np.array_equal(r.units["province"][f"uncovered_p{p}"].to_numpy(), det)
    assert np.array_equal(r.no_signal_probability, (~a.coverage.any_covered()).astype(np.float32))
    assert r.totals["p10"] == r.totals["p90"] == pytest.approx(r.totals["deterministic"], rel=1e-12)


def test_margins_with_headroom_reproduce_the_coverage_exactly(tiny):
    study, model, a = tiny
    for h in (0.0, 6.0, 20.0):
        sm = quiet(signal_margins, study.grid, study.sites, model, headroom_db=h)
        assert sm.headroom_db == h
        for t, tc in a.coverage.technologies.items():
            assert np.array_equal(sm.covered(t), tc.covered), (h, t)
    far = quiet(signal_margins, study.grid, study.sites, model, headroom_db=20.0)
    assert (np.isfinite(far.margins["4G"])).sum() > (np.isfinite(
        quiet(signal_margins, study.grid, study.sites, model).margins["4G"])).sum()  # the field reaches further


def _all_spreads(study, members=16, seed=5, **kw):
    alt = {"double": study.population * 2.0, "shifted": np.roll(study.population, 7, axis=1)}
    d = dict(members=members, seed=seed, link_budget_db={"*": 3.0}, location_db="model",
             location_correlation_m=500.0, tower_position_m=150.0, population=alt, top_n=1)
    d.update(kw)
    return EnsembleSpec(**d)


def test_every_member_conserves_people_and_percentiles_are_ordered(tiny):
    study, model, a = tiny
    spec = _all_spreads(study)
    r = quiet(run_ensemble, study, model, spec, analysis=a)
    mu = r.member_units["province"]
    np.testing.assert_allclose(mu["covered"] + mu["uncovered"], mu["population"], rtol=1e-12, atol=1e-9)
    assert (mu["uncovered"] >= -1e-9).all() and (mu["covered"] >= 0).all()
    pops = {"run": study.population, "double": study.population * 2.0,
            "shifted": np.roll(study.population, 7, axis=1)}
    lab = study.admin[0].labels
    for m, layer in enumerate(r.members["population_layer"]):  # each member's totals are its grid's totals
        p = pops[layer]
        assert mu["population"][m] == pytest.approx([p[lab == 1].sum(), p[lab == 2].sum()], rel=1e-12)
    assert set(r.members["population_layer"]) == {"run", "double", "shifted"}
    u = r.units["province"]
    assert (u["uncovered_p10"] <= u["uncovered_p50"]).all() and (u["uncovered_p50"] <= u["uncovered_p90"]).all()
    assert (u["uncovered_p90"] > u["uncovered_p10"]).any()  # there is a spread
    assert (r.totals["p10"] <= r.totals["p50"] <= r.totals["p90"])
    assert ((r.no_signal_probability >= 0) & (r.no_signal_probability <= 1)).all()
    # top 1 of two units: the shares add up to one
    assert u["top_n_share"].sum() == pytest.approx(1.0)
    assert r.timings["tower_members"] > 0


def test_same_seed_same_result_other_seed_other_result(tiny):
    study, model, a = tiny
    r1 = quiet(run_ensemble, study, model, _all_spreads(study, members=6), analysis=a)
    r2 = quiet(run_ensemble, study, model, _all_spreads(study, members=6), analysis=a)
    r3 = quiet(run_ensemble, study, model, _all_spreads(study, members=6, seed=6), analysis=a)
    assert np.array_equal(r1.member_units["province"]["uncovered"], r2.member_units["province"]["uncovered"])
    assert np.array_equal(r1.no_signal_probability, r2.no_signal_probability)
    assert r1.members.equals(r2.members)
    assert not np.array_equal(r1.member_units["province"]["uncovered"], r3.member_units["province"]["uncovered"])


def test_switching_one_input_leaves_the_others_draws_alone(tiny):
    study, model, a = tiny
    s = member_streams(11, 3)
    t = member_streams(11, 3)
    assert [x.link_budget.standard_normal() for x in s] == [x.link_budget.standard_normal() for x in t]
    lb_only = quiet(run_ensemble, study, model, EnsembleSpec(members=5, seed=2, link_budget_db={"*": 4.0}),
                     analysis=a)
    both = quiet(run_ensemble, study, model, EnsembleSpec(members=5, seed=2, link_budget_db={"*": 4.0},
                                                           tower_position_m=100.0), analysis=a)
    assert lb_only.members["link_z"].equals(both.members["link_z"])


def test_radius_model_varies_only_population_and_towers():
    study = _study()
    model = RadiusModel(radius_km={"2G": 2.0, "4G": 1.5})
    a = analyse(study, model)
    r = run_ensemble(study, model, EnsembleSpec(members=5, link_budget_db={"*": 6.0}, location_db=8.0), analysis=a)
    det = a.units["province"]["uncovered"].to_numpy()
    assert np.array_equal(r.units["province"]["uncovered_p90"].to_numpy(), det)
    assert any("has no signal" in n for n in r.notes)
    moved = run_ensemble(study, model, EnsembleSpec(members=5, tower_position_m=400.0), analysis=a)
    assert not np.array_equal(moved.member_units["province"]["uncovered"][0], det)


def test_tiled_ensemble_equals_untiled(tiny, tmp_path):
    study, model, a = tiny
    spec = _all_spreads(study, members=4, population={})
    r = quiet(run_ensemble, study, model, spec, analysis=a)
    tiled = TiledModel(model, tile_size=24)
    rt = quiet(run_ensemble, study, tiled, spec, analysis=a)
    assert np.array_equal(r.member_units["province"]["uncovered"], rt.member_units["province"]["uncovered"])
    assert np.array_equal(r.no_signal_probability, rt.no_signal_probability)


def test_tower_rule_and_moves():
    s = pd.DataFrame({"site_id": ["a", "a", "b"], "lon": [105.0, 105.0, 105.1], "lat": [21.0, 21.0, 21.0],
                      "range": [4000.0, 4000.0, np.nan], "samples": [4.0, 4.0, 9.0]})
    assert tower_sigma_m(s, 0.0).tolist() == [1000.0, 1000.0, 0.0]
    assert tower_sigma_m(s, 300.0)[2] == 300.0
    assert tower_sigma_m(s, 300.0)[0] == pytest.approx(np.hypot(300.0, 1000.0))
    g = Grid(crs="EPSG:4326", transform=Affine(0.01, 0, 104.0, 0, -0.01, 22.0), shape=(200, 200))
    moved, clipped = move_sites(np.random.default_rng(0), s, np.array([1000.0, 1000.0, 0.0]), g)
    assert moved.loc[0, "lon"] == moved.loc[1, "lon"] and moved.loc[0, "lat"] == moved.loc[1, "lat"]  # one site
    assert moved.loc[2, "lon"] == 105.1 and moved.loc[0, "lon"] != 105.0 and clipped == 0
    corner = pd.DataFrame({"site_id": list("efghijkl"), "lon": [104.0051] * 8, "lat": [20.0051] * 8})
    moved, clipped = move_sites(np.random.default_rng(1), corner, np.full(8, 5e4), g)  # 50 km from the SW corner
    assert moved["lon"].between(104.005, 105.995).all() and moved["lat"].between(20.005, 21.995).all()
    assert 1 <= clipped <= 8


def test_location_field_variance_and_correlation():
    g = Grid(crs="EPSG:32648", transform=Affine(100, 0, 0, 0, -100, 0), shape=(400, 400))
    f = location_field(np.random.default_rng(4), g, 1000.0).astype("f8")
    assert abs(f.std() - 1.0) < 0.1 and abs(f.mean()) < 0.1 and np.abs(f).max() <= 4.0
    c = lambda k: np.corrcoef(f[:, :-k].ravel(), f[:, k:].ravel())[0, 1]  # noqa: E731
    assert c(10) == pytest.approx(np.exp(-1.0), abs=0.08)  # 1/e at the correlation distance (10 cells)
    assert c(1) > 0.9
    white = location_field(np.random.default_rng(4), g, 20.0).astype("f8")
    assert abs(np.corrcoef(white[:, :-1].ravel(), white[:, 1:].ravel())[0, 1]) < 0.02


def test_sensitivity_names_the_driver(tiny):
    study, model, a = tiny
    spec = EnsembleSpec(members=8, seed=3, link_budget_db={"*": 6.0}, population={"double": study.population * 2})
    tot, units = quiet(sensitivity, study, model, spec, analysis=a)
    assert list(tot["input"]) == ["link_budget", "population", "all"]
    assert tot.loc[tot["input"] != "all", "range_share"].sum() == pytest.approx(1.0)
    assert set(units["main_driver"]) <= {"link_budget", "population", "none"}
    assert {"range_link_budget", "range_population", "range_all"} <= set(units.columns)


def test_spec_errors():
    with pytest.raises(ConfigError, match="members"):
        EnsembleSpec(members=0)
    with pytest.raises(ConfigError, match="6G"):
        EnsembleSpec(link_budget_db={"6G": 1.0})
    with pytest.raises(ConfigError, match="location_db"):
        EnsembleSpec(location_db="modle")
    with pytest.raises(ConfigError, match="tower_position_m"):
        EnsembleSpec(tower_position_m=-1.0)
    with pytest.raises(InputError, match="'run'"):
        EnsembleSpec(population={"run": np.zeros((2, 2))})


def test_population_layer_of_the_wrong_shape_is_an_error(tiny):
    study, model, a = tiny
    with pytest.raises(InputError, match="shape"):
        run_ensemble(study, model, EnsembleSpec(members=2, population={"x": np.zeros((3, 3))}), analysis=a)


# ------------------------------------------------------------------ config
_BASE = {"inputs": {"population": "p.tif", "towers": "t.csv"},
         "admin": [{"level": "province", "path": "a.gpkg", "code_field": "code", "name_field": "name"}]}


@pytest.mark.parametrize("table,must", [
    ({"members": 0}, ("[uncertainty] members = 0", "≥ 1", "members = 50")),
    ({"members": "5"}, ('[uncertainty] members = "5" (text)', "whole number")),
    ({"memebrs": 5}, ("unknown key 'memebrs' in [uncertainty]", "Did you mean 'members'")),
    ({"seed": 1.5}, ("[uncertainty] seed = 1.5", "whole number")),
    ({"location_db": "modle"}, ('[uncertainty] location_db = "modle"', '"model"', "Fix:")),
    ({"link_budget_db": {"6G": 1.0}}, ("link_budget_db", "unknown technology '6G'", "Fix:")),
    ({"link_budget_db": {"4G": -1.0}}, ("link_budget_db", "dB ≥ 0", "Fix:")),
    ({"link_budget_db": True}, ("[uncertainty] link_budget_db = true", "dB ≥ 0")),
    ({"tower_position_m": -5}, ("[uncertainty] tower_position_m = -5", "≥ 0")),
    ({"location_correlation_m": 0}, ("[uncertainty] location_correlation_m = 0", "> 0")),
    ({"top_n": 0}, ("[uncertainty] top_n = 0", "≥ 1")),
    ({"population": ["a.tif", "a.tif"]}, ("names", "a.tif twice", "Fix: list each file once")),
    ({"population": "a.tif"}, ("[uncertainty] population", "expected a list")),
])
def test_config_errors(table, must):
    with pytest.raises(ConfigError) as e:
        parse_config({**_BASE, "uncertainty": table}, base=Path("/data"), src="run.toml")
    msg = str(e.value)
    assert msg.startswith("run.toml")
    for m in must:
        assert m in msg, (m, msg)


def test_config_parses_every_key():
    cfg = parse_config({**_BASE, "uncertainty": {
        "members": 20, "seed": 3, "link_budget_db": {"4G": 3.0, "2G": 2.0}, "location_db": "model",
        "location_correlation_m": 500.0, "tower_position_m": 250, "population": ["alt.tif"], "top_n": 5}},
        base=Path("/data"), src="run.toml")
    u = cfg.uncertainty
    assert (u.members, u.seed, u.link_budget_db, u.location_db, u.location_correlation_m, u.tower_position_m,
            u.top_n) == (20, 3, {"4G": 3.0, "2G": 2.0}, "model", 500.0, 250.0, 5)
    assert u.population[0].path == Path("/data/alt.tif")
    assert "uncertainty_population:1" in cfg.inputs()
    assert parse_config({**_BASE, "uncertainty": {"link_budget_db": 2.5}}, base=Path("/d")).uncertainty.link_budget_db \
        == {"*": 2.5}
    assert parse_config(_BASE, base=Path("/d")).uncertainty is None


def test_calibrated_model_runs_an_ensemble(tiny):
    """A calibrated model (fitted offsets per operator × technology, `[model] calibration`) draws link-budget and
    location spreads like its inner model: zero spread = its deterministic run, and the margins with headroom
    reproduce its coverage exactly."""
    from covgap.models import CalibratedModel

    study, _, _ = tiny
    cal = CalibratedModel(HataModel(link_budgets=LB), {("OpA", "4G"): 4.0, ("OpB", "4G"): -3.0})
    a = quiet(analyse, study, cal)
    r = quiet(run_ensemble, study, cal, EnsembleSpec(members=3, seed=2), analysis=a)
    det = a.units["province"]["uncovered"].to_numpy()
    assert all(np.array_equal(r.member_units["province"]["uncovered"][m], det) for m in range(3))
    sm = quiet(signal_margins, study.grid, study.sites, cal, headroom_db=6.0)
    for t, tc in a.coverage.technologies.items():
        assert np.array_equal(sm.covered(t), tc.covered), t
    spread = quiet(run_ensemble, study, cal, EnsembleSpec(members=8, seed=2, link_budget_db={"*": 3.0}), analysis=a)
    lo, hi = spread.units["province"]["uncovered_p10"].to_numpy(), spread.units["province"]["uncovered_p90"].to_numpy()
    assert (lo <= hi).all() and (hi - lo).sum() > 0
