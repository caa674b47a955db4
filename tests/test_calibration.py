"""Calibration against measured signal (issue 19): known truth, slope, bad inputs, the CLI end to end."""

from __future__ import annotations

import json
import re
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from conftest import make_sites, tiny_study

from covgap.calibration import (
    calibrate,
    calibration_toml,
    clean_measurements,
    fit_calibration,
    opencellid_measurements,
    predict_signal,
    spatial_folds,
)
from covgap.cli import main
from covgap.config import load_calibration, load_config
from covgap.errors import ConfigError, DataFileError, InputError, ModelRangeWarning
from covgap.grid import Grid
from covgap.io import load_study_area, read_measurements
from covgap.models import CalibratedModel, make_model
from covgap.models.hata import HataModel

#: The synthetic truth: offset per operator (dB) and the normal spread of the measurements.
TRUE_OFFSET = {"MobiFone": 3.0, "Viettel": -2.0, "VinaPhone": 5.0}
TRUE_SIGMA = 6.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's inputs with a hata config: (folder, config path, study area)."""
    from covgap.demo import make_demo_inputs
    from covgap.pipeline import demo_config_text

    d = tmp_path_factory.mktemp("caldemo")
    make_demo_inputs(d / "inputs")
    cfg = d / "covgap.toml"
    cfg.write_text(demo_config_text(model_kind="hata"), encoding="utf-8")
    return d, cfg, load_study_area(load_config(cfg))


def synthetic_measurements(study, *, per_group: int, seed: int, offsets=TRUE_OFFSET, sigma=TRUE_SIGMA,
                           slope=0.0, max_dbm=-75.0, log_distance=False) -> pd.DataFrame:
    """Measurements generated from the Hata model itself (computed here, independently of the library's
    prediction): measured = predicted + offset of the operator (+ slope·log10(d/1 km)) + N(0, sigma),
    at cells inside the admin units where the prediction lies between the threshold and ``max_dbm``
    (-75 dBm: no reading leaves the reporting range of its technology); ``log_distance``: cells drawn
    with weight 1/d² (uniform in log distance to the serving site, like a drive test along a road
    from the mast) instead of uniformly over the area."""
    from covgap.grid import haversine_m

    rng = np.random.default_rng(seed)
    model = HataModel()
    labels = study.admin[0].labels
    rows = []
    for op, off in offsets.items():
        sites = study.sites[study.sites["operator"] == op].reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelRangeWarning)
            cov = model.compute(study.grid, sites)
        for tech, tc in sorted(cov.technologies.items()):
            sig = tc.signal_dbm
            ok = np.isfinite(sig) & (labels > 0) & (sig >= tc.threshold_dbm) & (sig <= max_dbm)
            cand = np.flatnonzero(ok.ravel())
            weight = None
            if log_distance:
                r, c = np.unravel_index(cand, study.grid.shape)
                lon, lat = study.grid.to_lonlat(study.grid.x_centres()[c], study.grid.y_centres()[r])
                k = tc.serving_site[r, c]
                d = haversine_m(lon, lat, sites["lon"].to_numpy()[k], sites["lat"].to_numpy()[k])
                weight = 1.0 / np.maximum(d, 50.0) ** 2
                weight /= weight.sum()
            pick = rng.choice(cand, size=per_group, replace=False, p=weight)
            r, c = np.unravel_index(pick, study.grid.shape)
            lon, lat = study.grid.to_lonlat(study.grid.x_centres()[c], study.grid.y_centres()[r])
            k = tc.serving_site[r, c]
            d_km = haversine_m(lon, lat, sites["lon"].to_numpy()[k], sites["lat"].to_numpy()[k]) / 1000.0
            meas = (sig[r, c].astype("f8") + off + slope * np.log10(np.maximum(d_km, 0.01))
                    + rng.normal(0.0, sigma, per_group))
            rows.append(pd.DataFrame({"lon": lon, "lat": lat, "operator": op, "technology": tech,
                                      "signal_dbm": meas}))
    return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------- known truth (Must show)
@pytest.fixture(scope="module")
def truth_result(demo):
    _, _, study = demo
    meas = synthetic_measurements(study, per_group=1500, seed=7)
    return calibrate(study, HataModel(), meas, folds=5, block_km=10.0, seed=0), meas


def test_recovers_offsets_spread_and_cv_rmse(truth_result):
    res, meas = truth_result
    assert res.report.rows_in == len(meas) == 9 * 1500
    assert res.report.rows_dropped == 0 and res.report.rows_used == len(meas)
    g = res.groups
    assert len(g) == 9 and g["fitted"].all()
    for r in g.itertuples():
        assert abs(r.offset_db - TRUE_OFFSET[r.operator]) <= 0.5, (r.operator, r.technology, r.offset_db)
        assert abs(r.spread_db / TRUE_SIGMA - 1.0) <= 0.10, (r.operator, r.technology, r.spread_db)
        assert r.dof == r.n - 1 == 1499
    cv = res.cv.set_index(["operator", "technology"])
    for (op, tech), c in cv.iterrows():
        assert abs(c.rmse_after_db / TRUE_SIGMA - 1.0) <= 0.10, (op, tech, c.rmse_after_db)
        assert c.rmse_after_db < c.rmse_before_db
        assert c.uncalibrated == 0
    overall = cv.loc[("ALL", "ALL")]
    assert abs(overall.rmse_after_db / TRUE_SIGMA - 1.0) <= 0.10
    # before: the offsets add to the spread, sqrt(sigma^2 + mean offset^2) about
    expected_before = np.sqrt(TRUE_SIGMA ** 2 + np.mean([v ** 2 for v in TRUE_OFFSET.values()]))
    assert overall.rmse_before_db == pytest.approx(expected_before, rel=0.05)
    assert abs(overall.me_after_db) < 0.2
    assert abs(res.location_std_db / TRUE_SIGMA - 1.0) <= 0.05


def test_cross_validation_uses_whole_spatial_blocks(truth_result):
    res, _ = truth_result
    p = res.points
    assert p.groupby("block")["fold"].nunique().max() == 1  # a block is never split between folds
    assert sorted(p["fold"].unique()) == [0, 1, 2, 3, 4]
    assert res.cv_info["blocks"] == p["block"].nunique() >= 25
    # out of fold: the residual after = residual - offset fitted without the point's fold
    for f in range(5):
        train = p[p["fold"] != f]
        test = p[(p["fold"] == f) & (p["operator"] == "Viettel") & (p["technology"] == "4G")]
        off = train[(train["operator"] == "Viettel") & (train["technology"] == "4G")]["residual_db"].mean()
        assert np.allclose(test["cv_residual_db"], test["residual_db"] - off, atol=1e-9)


def test_prediction_is_the_operators_best_server(demo):
    """predict_signal samples the model's signal of that operator alone at the measurement's cell."""
    _, _, study = demo
    g = study.grid
    pts = pd.DataFrame({"lon": [107.5, 107.3], "lat": [21.8, 21.6], "operator": ["Viettel", "MobiFone"],
                        "technology": ["4G", "2G"], "signal_dbm": [-90.0, -80.0]})
    kept, _, _ = clean_measurements(pts, study)
    out, _ = predict_signal(HataModel(), study, kept)
    for i, (op, tech) in enumerate(zip(pts["operator"], pts["technology"], strict=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelRangeWarning)
            cov = HataModel().compute(g, study.sites[study.sites["operator"] == op].reset_index(drop=True))
        r, c = g.rowcol(*g.from_lonlat(pts["lon"][i], pts["lat"][i]))
        want = float(cov.technologies[tech].signal_dbm[int(r), int(c)])
        assert out["predicted_dbm"][i] == pytest.approx(want, abs=1e-6) or (np.isnan(want) and
                                                                            np.isnan(out["predicted_dbm"][i]))
        if np.isfinite(want):
            assert out["residual_db"][i] == pytest.approx(pts["signal_dbm"][i] - want, abs=1e-6)


def test_deterministic(demo):
    _, _, study = demo
    meas = synthetic_measurements(study, per_group=60, seed=3)
    a = calibrate(study, HataModel(), meas, seed=1)
    b = calibrate(study, HataModel(), meas, seed=1)
    assert calibration_toml(a) == calibration_toml(b)
    pd.testing.assert_frame_equal(a.cv, b.cv)
    pd.testing.assert_frame_equal(a.points, b.points)


# ---------------------------------------------------------------- slope
def test_slope_recovered_where_distance_range_allows():
    rng = np.random.default_rng(11)
    n = 400
    d = 10 ** rng.uniform(np.log10(0.1), np.log10(20.0), n)  # 2.3 decades
    resid = 2.0 - 4.0 * (np.log10(d) - np.log10(d).mean()) + rng.normal(0, 3.0, n)
    near = 10 ** rng.uniform(np.log10(2.0), np.log10(5.0), n)  # 0.4 decade: no slope
    t = pd.DataFrame({"operator": ["A"] * n + ["B"] * n + ["C"] * 20, "technology": "4G",
                      "residual_db": np.r_[resid, rng.normal(1.0, 3.0, n), rng.normal(0, 3.0, 20)],
                      "distance_km": np.r_[d, near, d[:20]]})
    g = fit_calibration(t).set_index("operator")
    a = g.loc["A"]
    assert a.slope_fitted and a.slope_db_per_decade == pytest.approx(-4.0, abs=0.5)
    assert a.offset_db == pytest.approx(np.mean(resid), abs=1e-12)  # the offset stays the mean residual
    assert a.spread_with_slope_db == pytest.approx(3.0, rel=0.1) and a.spread_db > a.spread_with_slope_db
    assert a.distance_decades >= 1.0
    assert a.reference_distance_km == pytest.approx(10 ** np.log10(d).mean())
    b = g.loc["B"]
    assert not b.slope_fitted and b.fitted and "decade" in b.note
    c = g.loc["C"]
    assert not c.slope_fitted and c.fitted and "fewer than 30" in c.note


def test_slope_through_the_model_and_cv(demo):
    _, _, study = demo
    meas = synthetic_measurements(study, per_group=400, seed=5, offsets={"Viettel": 1.0}, sigma=3.0, slope=-8.0,
                                  max_dbm=-55.0, log_distance=True)
    res = calibrate(study, HataModel(), meas)
    assert res.report.rows_dropped <= 3  # a reading above the reporting range near a mast, counted
    g = res.groups.set_index("technology")
    for tech in ("3G", "4G"):  # 2G: -55 dBm is reached kilometres from a 57 dBm mast
        assert g.loc[tech, "slope_fitted"], g.loc[tech, "note"]
        assert g.loc[tech, "slope_db_per_decade"] == pytest.approx(-8.0, abs=1.0)
    cv = res.cv.set_index("operator").loc["ALL"]
    assert cv.rmse_after_slope_db < cv.rmse_after_db  # the slope explains part of the residual
    assert cv.rmse_after_slope_db == pytest.approx(3.0, rel=0.15)
    text = calibration_toml(res)
    assert "slope_db_per_decade = " in text and "reference_distance_km = " in text


def test_run_with_the_fitted_slope_leaves_no_trend(demo, tmp_path):
    """Known truth with a slope: measurements = Hata + 1 dB + (-8 dB/decade)·log10(d/1 km) + N(0, 2 dB)
    -> calibrate -> the calibration file -> `covgap run`'s model -> fresh measurements have residuals
    of mean ~0 and no trend with distance (the offset-only run keeps the -8 dB/decade)."""
    from covgap.calibration import write_calibration_toml
    from covgap.config import ModelConfig

    _, _, study = demo
    kw = {"offsets": {"Viettel": 1.0}, "sigma": 2.0, "slope": -8.0, "max_dbm": -55.0, "log_distance": True}
    res = calibrate(study, HataModel(), synthetic_measurements(study, per_group=1500, seed=5, **kw),
                    slope_min_decades=0.5)  # 2G's points span 0.95 decade
    assert res.groups["slope_fitted"].all()
    cal = load_calibration(write_calibration_toml(res, tmp_path / "calibration.toml"))
    assert sorted(cal.slopes) == [("Viettel", "2G"), ("Viettel", "3G"), ("Viettel", "4G")]
    fresh, _, _ = clean_measurements(synthetic_measurements(study, per_group=1500, seed=11, **kw), study)
    runs = {"with slope": make_model(ModelConfig(kind="hata", calibration=cal), has_dem=False),
            "offset only": CalibratedModel(HataModel(), cal.offsets_db),
            "uncalibrated": HataModel()}
    trend = {}
    for name, model in runs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelRangeWarning)
            pts, _ = predict_signal(model, study, fresh)
        pts = pts[np.isfinite(pts["predicted_dbm"])]
        # -8 dB/decade shrinks the discs: points past them have no prediction (chosen by the
        # prediction, not by the noise, so the residuals left are unbiased)
        assert len(pts) >= 0.95 * len(fresh), (name, len(pts))
        g = fit_calibration(pts, slope_min_decades=0.0).set_index("technology")
        trend[name] = g
    for tech, r in trend["with slope"].iterrows():
        assert abs(r.offset_db) < 0.3, (tech, r.offset_db)  # residual mean (the offset a refit would give)
        assert abs(r.slope_db_per_decade) <= 0.5, (tech, r.slope_db_per_decade)
        assert r.spread_db == pytest.approx(2.0, rel=0.1)
        assert trend["offset only"].loc[tech, "slope_db_per_decade"] == pytest.approx(-8.0, abs=1.0)
        assert trend["uncalibrated"].loc[tech, "slope_db_per_decade"] == pytest.approx(-8.0, abs=1.0)
    # the file's sigma_L is the spread about offset + slope (what the run applies), not about the offset
    assert cal.location_std_db == pytest.approx(2.0, rel=0.05)



def test_cli_no_slope_writes_offsets_only(demo, tmp_path, capsys):
    d, cfg_path, study = demo
    kw = {"offsets": {"Viettel": 1.0}, "sigma": 2.0, "slope": -8.0, "max_dbm": -55.0, "log_distance": True}
    synthetic_measurements(study, per_group=300, seed=3, **kw).to_csv(tmp_path / "m.csv", index=False)
    for flag, sloped in (([], True), (["--no-slope"], False)):
        out = tmp_path / ("slope" if sloped else "noslope")
        assert main(["calibrate", str(cfg_path), str(tmp_path / "m.csv"), "--out", str(out), "-q", *flag]) == 0
        text = (out / "calibration.toml").read_text(encoding="utf-8")
        assert ("\nslope_db_per_decade = " in text) is sloped
        assert bool(load_calibration(out / "calibration.toml").slopes) is sloped
        rules = json.loads((out / "calibration.json").read_text(encoding="utf-8"))["rules"]
        assert rules["fit_slope"] is sloped
    capsys.readouterr()


# ---------------------------------------------------------------- bad inputs
def _tiny():
    res = 0.01
    grid = Grid(crs="EPSG:4326", transform=Affine(res, 0.0, 105.0, 0.0, -res, 21.2), shape=(20, 20))
    sites = make_sites([("s1", "OpA", "4G", 105.05, 21.15), ("s2", "OpA", "2G", 105.15, 21.05),
                        ("s3", "OpB", "4G", 105.12, 21.12)])
    return tiny_study(np.ones(grid.shape), grid, sites)


def test_bad_rows_counted_once():
    study = _tiny()
    t = pd.DataFrame({
        "lon": [105.05, 105.06, 106.00, 105.05, 105.05, 105.07, 105.08, 105.05, 105.09, 105.05],
        "lat": [21.15, 21.14, 21.10, 21.15, 21.15, 21.13, 21.12, 21.15, 21.11, 21.15],
        "operator": ["OpA", "OpA", "OpA", "OpA", "OpA", "OpC", "OpB", "OpA", "OpB", "OpA"],
        "technology": ["4G", "LTE", "4G", "4G", "4G", "4G", "2G", "6G", "4G", "4G"],
        "signal_dbm": [-80.0, -85.0, -80.0, -80.0, -30.0, -80.0, -80.0, -80.0, -90.0, -80.0],
        "time": ["t1", "", "", "t1", "", "", "", "", "", "t2"],
    })
    kept, dropped, rep = clean_measurements(t, study)
    # line = row + 2; row 3 repeats row 0 (same place, operator, technology, time); row 9 differs in time
    assert rep.dropped == {"unknown_technology": 1, "impossible_signal": 1, "outside_study_area": 1,
                           "unknown_operator": 1, "no_sites_of_technology": 1, "duplicate": 1}
    assert rep.first_rows == {"unknown_technology": [9], "impossible_signal": [6], "outside_study_area": [4],
                              "unknown_operator": [7], "no_sites_of_technology": [8], "duplicate": [5]}
    assert rep.rows_in == 10 and rep.rows_used == 4 == len(kept)
    assert rep.rows_used + rep.rows_dropped == rep.rows_in
    assert kept["line"].tolist() == [2, 3, 10, 11] and kept["technology"].tolist() == ["4G"] * 4  # LTE -> 4G
    assert sorted(dropped["line"]) == [4, 5, 6, 7, 8, 9]
    d = rep.as_dict()
    assert list(d["dropped"]) == ["unknown_technology", "impossible_signal", "outside_study_area",
                                  "unknown_operator", "no_sites_of_technology", "duplicate"]


def test_read_measurements_errors(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("lon,lat,operator,technology,rsrp\n105.0,21.0,OpA,4G,-90\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"missing column\(s\) \['signal_dbm'\].*maybe 'rsrp'"):
        read_measurements(p)
    p.write_text("lon,lat,operator,technology,signal_dbm\n105.0,21.0,OpA,4G,-90\n105.1,21.0,OpA,4G,abc\n"
                 "105.2,21.0,OpA,4G,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3, field 'signal_dbm' is 'abc'; expected a signal level in dBm.*"
                                         r"2 row\(s\) affected \(lines \[3, 4\]\)"):
        read_measurements(p)
    p.write_text("lon,lat,operator,technology,signal_dbm\n195.0,21.0,OpA,4G,-90\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2, field 'lon' is 195.0"):
        read_measurements(p)
    p.write_text("lon;lat;operator;technology;signal_dbm\n105.0;21.0;OpA;4G;-90\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="semicolon-separated"):
        read_measurements(p)
    p.write_text("lon,lat,operator,technology,signal_dbm,time\n105.0,21.0, OpA ,4G,-90.5,\n", encoding="utf-8")
    df, line_of, where = read_measurements(p)
    assert df["operator"].tolist() == ["OpA"] and df["time"].tolist() == [""] and line_of.tolist() == [2]
    assert df["signal_dbm"].dtype == "f8" and where == "line"


def test_read_measurements_from_a_point_layer(tmp_path):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({"operator": ["OpA", "OpB"], "technology": ["4G", "2G"], "signal_dbm": [-91.5, -70.0]},
                           geometry=gpd.points_from_xy([105.01, 105.02], [21.01, 21.02]), crs="EPSG:4326")
    gdf.to_file(tmp_path / "m.gpkg", layer="drive", driver="GPKG")
    df, line_of, where = read_measurements(tmp_path / "m.gpkg", layer="drive")
    assert where == "feature" and line_of.tolist() == [1, 2]
    assert df["lon"].tolist() == [105.01, 105.02] and df["signal_dbm"].tolist() == [-91.5, -70.0]
    assert df["time"].tolist() == ["", ""]


def test_nothing_usable_is_an_error():
    study = _tiny()
    t = pd.DataFrame({"lon": [106.0], "lat": [21.1], "operator": ["OpA"], "technology": ["4G"],
                      "signal_dbm": [-80.0]})
    with pytest.raises(InputError, match=r"no measurement can be compared.*outside_study_area': 1"):
        calibrate(study, HataModel(), t)


def test_radius_model_cannot_be_calibrated(demo):
    _, _, study = demo
    from covgap.models.radius import RadiusModel

    t = pd.DataFrame({"lon": [107.5], "lat": [21.8], "operator": ["Viettel"], "technology": ["4G"],
                      "signal_dbm": [-80.0]})
    kept, _, _ = clean_measurements(t, study)
    with pytest.raises(InputError, match="no signal"):
        predict_signal(RadiusModel(), study, kept)
    with pytest.raises(ConfigError, match="radius model has none"):
        CalibratedModel(RadiusModel(), {("Viettel", "4G"): 1.0})


def test_spatial_folds_need_enough_blocks():
    with pytest.raises(InputError, match=r"1 block\(s\) of 10 km, fewer than the 5 folds.*--block-km"):
        spatial_folds(np.array([105.0, 105.01]), np.array([21.0, 21.0]))


# ---------------------------------------------------------------- the calibrated model
def test_calibrated_model_shifts_the_signal_exactly(demo):
    _, _, study = demo
    base = HataModel()
    offs = {("Viettel", "4G"): 4.0, ("MobiFone", "4G"): -3.0}
    cal = CalibratedModel(base, offs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)
        for op, tech, off in (("Viettel", "4G", 4.0), ("MobiFone", "4G", -3.0), ("VinaPhone", "4G", 0.0)):
            sites = study.sites[(study.sites["operator"] == op) & (study.sites["technology"] == tech)]
            sites = sites.reset_index(drop=True)
            a = base.compute(study.grid, sites).technologies[tech]
            b = cal.compute(study.grid, sites).technologies[tech]
            both = np.isfinite(a.signal_dbm) & np.isfinite(b.signal_dbm)
            assert both.any()
            assert np.allclose(b.signal_dbm[both] - a.signal_dbm[both], off, atol=1e-3)
            if off > 0:  # a positive offset covers a superset of cells
                assert (b.covered | ~a.covered).all() and b.covered.sum() > a.covered.sum()
            elif off < 0:
                assert (a.covered | ~b.covered).all() and b.covered.sum() < a.covered.sum()
    # rows without eirp_dbm get the default + offset; the coverage keeps the sites as given
    cs = cal.calibrated_sites(study.sites)
    sel = (study.sites["operator"] == "Viettel") & (study.sites["technology"] == "4G")
    assert np.allclose(cs.loc[sel, "eirp_dbm"], 29.0 + 4.0)
    other = ~sel & ~((study.sites["operator"] == "MobiFone") & (study.sites["technology"] == "4G"))
    assert study.sites["eirp_dbm"].isna().all() and cs.loc[other, "eirp_dbm"].isna().all()  # all defaulted


# ---------------------------------------------------------------- calibration file
def test_calibration_file_round_trip_and_errors(tmp_path, demo):
    _, _, study = demo
    meas = synthetic_measurements(study, per_group=40, seed=2)
    res = calibrate(study, HataModel(), meas, folds=3)
    p = tmp_path / "calibration.toml"
    p.write_text(calibration_toml(res, fitted_from="x.csv"), encoding="utf-8")
    cal = load_calibration(p)
    assert cal.model == "hata" and cal.fitted_from == "x.csv"
    assert set(cal.offsets_db) == set(res.offsets_db)
    for k, v in res.offsets_db.items():
        assert cal.offsets_db[k] == pytest.approx(v, abs=5e-4)
    assert cal.location_std_db == pytest.approx(res.location_std_db, abs=5e-4)
    text = p.read_text(encoding="utf-8")
    for bad, msg in (
        (text.replace("offset_db =", "offset =", 1), r"unknown key 'offset' in \[\[calibration.group\]\] #1.*"
                                                      r"Did you mean 'offset_db'"),
        (re.sub(r"offset_db = [-0-9.]+", 'offset_db = "3"', text, count=1),
         r"\[\[calibration.group\]\] #1 offset_db = \"3\" \(text\); expected a number"),
        (text.replace('technology = "2G"', 'technology = "LTE"', 1), r"technology = \"LTE\".*one of"),
        (text + '\n[[calibration.group]]\noperator = "MobiFone"\ntechnology = "2G"\noffset_db = 1.0\n',
         r"repeats MobiFone 2G \(already group #1\)"),
        ("[calibration]\nlocation_std_db = -1\n", r"location_std_db = -1.*≥ 0"),
    ):
        p.write_text(bad, encoding="utf-8")
        with pytest.raises(ConfigError, match=msg):
            load_calibration(p)
    with pytest.raises(DataFileError, match="does not exist.*covgap calibrate"):
        load_calibration(tmp_path / "none.toml")


def test_config_key_and_model_checks(demo, tmp_path):
    d, cfg_path, _ = demo
    (tmp_path / "cal.toml").write_text('[calibration]\nmodel = "hata"\nlocation_std_db = 7.0\n'
                                       '[[calibration.group]]\noperator = "Viettel"\ntechnology = "4G"\n'
                                       "offset_db = 2.0\n", encoding="utf-8")
    text = cfg_path.read_text(encoding="utf-8").replace('inputs/', str(d / "inputs") + "/")
    text = text.replace('kind = "hata"', 'kind = "hata"\ncalibration = "cal.toml"', 1)
    (tmp_path / "c.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "c.toml")
    assert cfg.model.calibration.offsets_db == {("Viettel", "4G"): 2.0}
    assert cfg.inputs()["calibration"].path == (tmp_path / "cal.toml").resolve()
    m = make_model(cfg.model, has_dem=True)
    assert isinstance(m, CalibratedModel) and m.model.location_std_db == 7.0 and m.name == "hata"
    with pytest.raises(ConfigError, match="fitted with the 'hata' model; this run uses 'terrain'"):
        make_model(cfg.model, has_dem=True, kind="terrain")
    (tmp_path / "c2.toml").write_text(text.replace('calibration = "cal.toml"', 'calibraton = "cal.toml"'),
                                      encoding="utf-8")
    with pytest.raises(ConfigError, match="Did you mean 'calibration'"):
        load_config(tmp_path / "c2.toml")


def test_opencellid_average_signal_as_weak_measurements():
    raw = pd.DataFrame({"radio": ["LTE", "LTE", "GSM", "UMTS", "LTE"], "mcc": [452] * 5, "net": [4, 4, 1, 2, 4],
                        "area": [1] * 5, "cell": [1, 2, 3, 4, 5], "lon": [105.0, 105.1, 105.2, 105.3, 105.4],
                        "lat": [21.0] * 5, "range": [1000] * 5, "samples": [5, 5, 1, 9, 5], "changeable": [1] * 5,
                        "updated": [1.7e9] * 5, "averageSignal": [-97, 0, -81, 25, np.nan]})
    m, counts = opencellid_measurements(raw)
    assert counts == {"cells_in": 5, "no_average_signal": 2, "not_dbm": 1, "used": 2}
    assert m["operator"].tolist() == ["Viettel", "MobiFone"] and m["technology"].tolist() == ["4G", "2G"]
    assert m["weak"].all() and m["signal_dbm"].tolist() == [-97.0, -81.0]


# ---------------------------------------------------------------- the CLI end to end
@pytest.mark.slow
def test_cli_calibrate_then_run(demo, tmp_path, capsys):
    d, cfg_path, study = demo
    work = tmp_path / "w"
    shutil.copytree(d / "inputs", work / "inputs")
    shutil.copy(cfg_path, work / "covgap.toml")
    positive = {"MobiFone": 4.0, "Viettel": 2.0, "VinaPhone": 6.0}
    meas = synthetic_measurements(study, per_group=150, seed=9, offsets=positive)
    # a few bad rows, counted in the summary
    bad = pd.DataFrame({"lon": [110.0, meas["lon"][0]], "lat": [21.5, meas["lat"][0]],
                        "operator": ["Viettel", meas["operator"][0]], "technology": ["4G", meas["technology"][0]],
                        "signal_dbm": [-80.0, meas["signal_dbm"][0]]})
    pd.concat([meas, bad], ignore_index=True).to_csv(work / "meas.csv", index=False)
    out = work / "cal"
    assert main(["calibrate", str(work / "covgap.toml"), str(work / "meas.csv"), "--out", str(out), "-q"]) == 0
    shown = capsys.readouterr().out
    assert "SYNTHETIC DEMO" in shown and "left out, outside_study_area:" in shown
    for name in ("calibration.toml", "calibration.json", "calibration_errors.csv", "measurements_used.csv",
                 "measurements_dropped.csv", "predicted_vs_measured.png", ".covgap-output"):
        assert (out / name).is_file(), name
    s = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert s["measurements"]["rows_in"] == len(meas) + 2
    assert s["measurements"]["dropped"] == {"outside_study_area": 1, "duplicate": 1}
    assert s["measurements"]["first_lines"]["duplicate"] == [len(meas) + 3]
    assert s["synthetic"] is True and s["model"] == "hata"
    errs = pd.read_csv(out / "calibration_errors.csv")
    assert errs.iloc[-1]["operator"] == "ALL" and (errs["rmse_after_db"] < errs["rmse_before_db"]).all()
    assert (out / "predicted_vs_measured.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cal = load_calibration(out / "calibration.toml")
    assert all(v > 0 for v in cal.offsets_db.values())
    # a second calibrate into the same folder replaces it; a folder with a foreign file is refused
    assert main(["calibrate", str(work / "covgap.toml"), str(work / "meas.csv"), "--out", str(out), "-q"]) == 0
    (out / "mine.txt").write_text("x", encoding="utf-8")
    assert main(["calibrate", str(work / "covgap.toml"), str(work / "meas.csv"), "--out", str(out), "-q"]) == 2
    assert "did not write" in capsys.readouterr().err
    (out / "mine.txt").unlink()

    # covgap run with the calibration: positive offsets never uncover anybody
    from covgap.pipeline import analyse_config

    base = analyse_config(load_config(work / "covgap.toml"))
    text = (work / "covgap.toml").read_text(encoding="utf-8")
    (work / "covgap.toml").write_text(text.replace('kind = "hata"', 'kind = "hata"\ncalibration = '
                                                   '"cal/calibration.toml"', 1), encoding="utf-8")
    assert main(["run", str(work / "covgap.toml"), "--out", str(work / "run"), "-q"]) == 0
    s_cal = json.loads((work / "run" / "summary.json").read_text(encoding="utf-8"))
    b = base.summary()
    assert s_cal["population_uncovered"] <= b["population_uncovered"] + 1e-6
    assert s_cal["population_without_4G"] < b["population_without_4G"]  # the 4G offsets are all > 0
    b_units = {(u["level"], u["code"]): u for u in b["units"]}
    for u in s_cal["units"]:
        bu = b_units[(u["level"], u["code"])]
        assert u["covered_any"] >= bu["covered_any"] - 1e-6
        assert u["uncovered"] <= bu["uncovered"] + 1e-6
    assert s_cal["model"]["calibration"]["offsets_db"]["Viettel 4G"] == pytest.approx(
        cal.offsets_db[("Viettel", "4G")])
    assert s_cal["model"]["location_std_db"] == pytest.approx(cal.location_std_db)
    assert any(x["role"] == "calibration" for x in s_cal["inputs"])


def test_cli_bad_measurements_file(demo, tmp_path, capsys):
    _, cfg_path, _ = demo
    p = tmp_path / "m.csv"
    p.write_text("lon,lat,operator,technology\n107.5,21.8,Viettel,4G\n", encoding="utf-8")
    assert main(["calibrate", str(cfg_path), str(p), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "missing column(s) ['signal_dbm']" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert not list(tmp_path.glob(".o.partial-*"))


def test_tiled_calibrated_model_equals_untiled(demo):
    from covgap.tiling import TiledModel

    _, _, study = demo
    sites = study.sites[study.sites["operator"] == "Viettel"].reset_index(drop=True)
    m = CalibratedModel(HataModel(), {("Viettel", "4G"): 4.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)
        a = m.compute(study.grid, sites)
        b = TiledModel(m, tile_size=400).compute(study.grid, sites)
    for tech, x in a.technologies.items():
        y = b.technologies[tech]
        assert np.array_equal(x.signal_dbm, y.signal_dbm, equal_nan=True)
        assert np.array_equal(x.operator_bits, y.operator_bits) and np.array_equal(x.serving_site, y.serving_site)
    assert b.parameters["calibration"]["offsets_db"] == {"Viettel 4G": 4.0}
