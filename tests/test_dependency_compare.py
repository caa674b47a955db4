"""Single-operator / single-site dependency (question 3) and model comparison (question 5)."""

import numpy as np
import pytest

from conftest import make_sites, tiny_study
from covgap.analysis import analyse
from covgap.compare import compare_cells, compare_units
from covgap.grid import Grid
from covgap.overlay import dependency_masks
from covgap.models.radius import RadiusModel

RES = 30 / 3600


def _grid():
    return Grid.from_bounds(105.0, 21.0, 105.0 + 9 * RES, 21.0 + 3 * RES, res=(RES, RES), crs="EPSG:4326")


def test_dependency_masks_hand_case():
    g = _grid()
    x, y = g.x_centres(), g.y_centres()
    # site a (2G+4G, operator A) at column 1; site b (4G, operator B) at column 3; 1.2 km reaches 1 cell around
    sites = make_sites([("a", "A", "2G", x[1], y[1]), ("a", "A", "4G", x[1], y[1]), ("b", "B", "4G", x[3], y[1])])
    cov = RadiusModel(radius_km={"2G": 1.2, "4G": 1.2}).compute(g, sites)
    single_op, single_site = dependency_masks(cov)
    # column 2 (row 1) is reached by both sites → neither dependent; column 0 only by site a (two techs) → both
    assert single_op[1, 0] and single_site[1, 0]
    assert not single_op[1, 2] and not single_site[1, 2]
    assert single_op[1, 4] and single_site[1, 4]
    assert not single_op[1, 7] and not single_site[1, 7]  # uncovered


def test_two_sites_same_operator_are_single_operator_not_single_site():
    g = _grid()
    x, y = g.x_centres(), g.y_centres()
    sites = make_sites([("a", "A", "4G", x[1], y[1]), ("c", "A", "4G", x[3], y[1])])
    cov = RadiusModel(radius_km={"4G": 1.2}).compute(g, sites)
    single_op, single_site = dependency_masks(cov)
    assert single_op[1, 2] and not single_site[1, 2]
    study = tiny_study(np.ones(g.shape), g, sites)
    t = analyse(study, RadiusModel(radius_km={"4G": 1.2}), min_population=0).units["province"]
    assert (t["single_site"] <= t["single_operator"] + 1e-9).all()
    assert (t["single_operator"] <= t["covered_any"] + 1e-9).all()


def test_compare_bigger_radius_covers_more_everywhere():
    rng = np.random.default_rng(1)
    g = Grid.from_bounds(105.0, 21.0, 105.2, 21.2, res=(6 / 3600, 6 / 3600), crs="EPSG:4326")
    pop = rng.gamma(0.5, 10.0, g.shape)
    sites = make_sites([(f"s{i}", "A", "4G", 105.02 + 0.04 * i, 21.1) for i in range(5)])
    study = tiny_study(pop, g, sites)
    a = analyse(study, RadiusModel(radius_km={"4G": 2.0}), min_population=0)
    b = analyse(study, RadiusModel(radius_km={"4G": 3.0}), min_population=0)
    t = compare_units(a, b, level="province", labels=("r2", "r3"))
    assert (t["uncovered_change"] <= 1e-9).all() and (t["population_change"] == 0).all()
    c = compare_cells(a, b)
    assert c["people_only_a"] == 0 and c["people_only_b"] > 0 and 0 < c["iou_area"] < 1
    assert c["people_covered_both_a"] + c["people_only_a"] == pytest.approx(pop[a.coverage.any_covered()].sum())
