"""Neighbouring networks and tower-data confidence: a hand-computed 3×4 case, the config keys, the demo."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import make_sites, tiny_study
from covgap.analysis import analyse
from covgap.config import parse_config
from covgap.errors import ConfigError
from covgap.grid import Grid
from covgap.models.radius import RadiusModel
from covgap.neighbours import confidence_unit_columns, foreign_cell_masks, merge_coverage, thin_data_columns

RES = 30 / 3600  # ~0.9 km cells: a 1.2 km disc covers its cell and the 4 edge neighbours (as in test_overlay)
POP = np.array([[1., 2., 3., 4.],
                [5., 6., 7., 8.],
                [9., 10., 11., 12.]])


def _grid():
    return Grid.from_bounds(105.0, 21.0, 105.0 + 4 * RES, 21.0 + 3 * RES, res=(RES, RES), crs="EPSG:4326")


def _study(foreign_cell=(1, 2)):
    g = _grid()
    dom = make_sites([("a", "Op", "4G", g.x_centres()[1], g.y_centres()[1])])  # covers (1,1) + 4 neighbours
    r, c = foreign_cell
    fsites = make_sites([("f", "Far", "2G", g.x_centres()[c], g.y_centres()[r])])
    fsites["country"] = "NB"
    study = tiny_study(POP, g, dom, unit_cols=2)  # West = columns 0–1, East = columns 2–3
    study.foreign_sites = fsites
    return study


def test_foreign_only_is_not_covered_hand_computed():
    # domestic: (1,1),(0,1),(2,1),(1,0),(1,2); foreign at (1,2): (1,2),(0,2),(2,2),(1,1),(1,3)
    res = analyse(_study(), RadiusModel(radius_km={"4G": 1.2, "2G": 1.2}), min_population=0)
    t = res.units["province"].set_index("code")
    # nothing domestic changes: West covered 2+5+6+10 = 23, East 7 (as in test_overlay)
    assert t.loc["W", "covered_any"] == 23 and t.loc["E", "covered_any"] == 7
    # foreign only: (0,2)=3, (2,2)=11, (1,3)=8 → East 22; West none
    assert t.loc["E", "foreign_only"] == 22 and t.loc["W", "foreign_only"] == 0
    # both: (1,1)=6 in West, (1,2)=7 in East
    assert t.loc["W", "domestic_and_foreign"] == 6 and t.loc["E", "domestic_and_foreign"] == 7
    # no network at all: East 4+12 = 16, West 1+9 = 10
    assert t.loc["E", "no_network"] == 16 and t.loc["W", "no_network"] == 10
    for code in ("W", "E"):
        assert t.loc[code, "covered_any"] + t.loc[code, "foreign_only"] + t.loc[code, "no_network"] \
            == t.loc[code, "population"]
        assert t.loc[code, "uncovered"] == t.loc[code, "foreign_only"] + t.loc[code, "no_network"]
    s = res.summary()
    assert s["population_uncovered"] == 10 + 38
    fn = s["foreign_networks"]
    assert (fn["foreign_only"], fn["domestic_and_foreign"], fn["no_network"]) == (22, 13, 26)
    assert fn["count_foreign"] is False and fn["sites_by_country"] == {"NB": 1}
    # the gap clusters are those of the domestic networks alone (foreign-only cells stay gaps)
    assert res.clusters["population"].sum() == 48


def test_count_foreign_true_counts_them_as_covered():
    res = analyse(_study(), RadiusModel(radius_km={"4G": 1.2, "2G": 1.2}), min_population=0, count_foreign=True)
    t = res.units["province"].set_index("code")
    assert t.loc["E", "covered_any"] == 7 + 22 and t.loc["E", "uncovered"] == 16
    assert t.loc["E", "foreign_only"] == 22  # still reported, relative to the domestic networks
    assert res.coverage.operators == ("Op", "Far") and res.domestic_coverage.operators == ("Op",)
    assert res.summary()["foreign_networks"]["count_foreign"] is True


def test_merge_coverage_bits_and_sites():
    g = _grid()
    m = RadiusModel(radius_km={"4G": 1.2})
    d = m.compute(g, make_sites([("a", "Op", "4G", g.x_centres()[0], g.y_centres()[0])]))
    f = m.compute(g, make_sites([("f", "Far", "4G", g.x_centres()[3], g.y_centres()[2])]))
    both = merge_coverage(d, f)
    tc = both.technologies["4G"]
    assert tc.operator_bits[0, 0] == 1 and tc.operator_bits[2, 3] == 2
    assert tc.serving_site[2, 3] == 1 and list(both.sites["site_id"]) == ["a", "f"]
    assert both.any_covered().sum() == d.any_covered().sum() + f.any_covered().sum()


def test_cell_masks_partition():
    rng = np.random.default_rng(1)
    d, f = rng.random((5, 6)) < 0.5, rng.random((5, 6)) < 0.5
    m = foreign_cell_masks(d, f)
    # each cell is in exactly one of: domestic, foreign only, no network
    assert np.array_equal(d.astype(int) + m["foreign_only"] + m["no_network"], np.ones((5, 6), int))


def test_confidence_columns_hand_computed():
    g = _grid()
    labels = np.array([[1, 1, 2, 2]] * 3)
    sites = pd.DataFrame({"site_id": ["a", "a", "b", "c"], "lon": [g.x_centres()[0]] * 2 + [g.x_centres()[1],
                                                                                             g.x_centres()[3]],
                          "lat": [g.y_centres()[0]] * 4, "samples": [4.0, 6.0, 1.0, 2.0],
                          "cells_seen_once": [0, 0, 1, 0]})
    sites.loc[:, "lon"] = sites["lon"].astype(float)
    t = confidence_unit_columns(labels, 2, g, sites)
    area = g.cell_area_km2()
    a_w = float(np.broadcast_to(area, g.shape)[:, :2].sum())
    a_e = float(np.broadcast_to(area, g.shape)[:, 2:].sum())
    assert t["sites_per_1000km2"].tolist() == pytest.approx([2000 / a_w, 1000 / a_e])
    assert t["samples_per_1000km2"].tolist() == pytest.approx([11000 / a_w, 2000 / a_e])
    assert t["cells_seen_once"].tolist() == [1, 0]
    # an operator's list without samples: NaN, not 0
    t2 = confidence_unit_columns(labels, 2, g, sites.drop(columns=["samples", "cells_seen_once"]))
    assert t2["samples_per_1000km2"].isna().all() and t2["cells_seen_once"].isna().all()


def test_thin_data_rule():
    # three sites 1, 10 and 19.9 km east of the first gap; none near the second
    lat = 21.0
    km = 1 / (111.195 * np.cos(np.radians(lat)))
    s = pd.DataFrame({"site_id": ["a", "b", "c", "c"], "lon": [105 + km, 105 + 10 * km, 105 + 19.9 * km] * 1
                      + [105 + 19.9 * km], "lat": [lat] * 4})
    cl = pd.DataFrame({"centroid_lon": [105.0, 107.0], "centroid_lat": [lat, lat]})
    t = thin_data_columns(cl, s, radius_km=20.0, min_sites=3)
    assert t["sites_within_km"].tolist() == [3, 0] and t["tower_data_thin"].tolist() == [False, True]
    assert thin_data_columns(cl, s, radius_km=5.0, min_sites=3)["sites_within_km"].tolist() == [1, 0]


def test_config_keys_typed():
    base = {"inputs": {"population": "p.tif", "towers": "t.csv", "foreign_towers": "f.csv"},
            "admin": [{"level": "p", "path": "a.gpkg", "code_field": "c", "name_field": "n"}]}
    cfg = parse_config({**base, "gaps": {"count_foreign": True, "thin_radius_km": 15.0, "thin_min_sites": 2}}, base=Path("."))
    assert cfg.gaps.count_foreign and cfg.gaps.thin_min_sites == 2 and "foreign_towers" in cfg.inputs()
    with pytest.raises(ConfigError, match="count_foreign"):
        parse_config({**base, "gaps": {"count_foreign": "yes"}}, base=Path("."))
    with pytest.raises(ConfigError, match="thin_radius_km"):
        parse_config({**base, "gaps": {"thin_radius_km": -1.0}}, base=Path("."))


def test_demo_foreign_networks_end_to_end(demo_run):
    analysis, out = demo_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # domestic figures as quoted in the README: foreign networks are excluded by default
    assert s["population_uncovered"] == pytest.approx(13350.70, abs=0.01)
    fn = s["foreign_networks"]
    assert fn["foreign_only"] > 0 and fn["sites_by_country"] == {"NB": 5} and not fn["count_foreign"]
    assert fn["foreign_only"] + fn["no_network"] == pytest.approx(s["population_uncovered"], rel=1e-9)
    assert fn["border_belt_foreign_only"] == pytest.approx(fn["foreign_only"])  # all of it near the border
    for tab in analysis.units.values():
        np.testing.assert_allclose(tab["covered_any"] + tab["foreign_only"] + tab["no_network"], tab["population"],
                                   rtol=1e-9)
        assert (tab["sites_per_1000km2"] >= 0).all()
    assert "tower_data_thin" in analysis.clusters.columns and "foreign_only" in analysis.hamlets.columns
    wb = load_workbook(out / "gap_report.xlsx")
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "Tower data thin" in text and "Foreign only" in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "may be missing tower data" in html
