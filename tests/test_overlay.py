"""Population overlay: a 3×4 hand-computed case and the conservation invariants."""

import numpy as np
import pytest

from conftest import make_sites, tiny_study
from covgap.analysis import analyse
from covgap.grid import Grid
from covgap.overlay import zonal_sum
from covgap.models.radius import RadiusModel

RES = 30 / 3600  # ~0.9 km cells so a 1.2 km disc covers the centre cell and its 4 edge neighbours


def _grid():
    return Grid.from_bounds(105.0, 21.0, 105.0 + 4 * RES, 21.0 + 3 * RES, res=(RES, RES), crs="EPSG:4326")


def test_hand_computed_three_by_four():
    g = _grid()
    pop = np.array([[1., 2., 3., 4.],
                    [5., 6., 7., 8.],
                    [9., 10., 11., 12.]])
    # one tower at the centre of cell (1, 1); 1.2 km reaches the 4 edge neighbours (~0.86–0.93 km away)
    # but not the diagonals (~1.27 km)
    x, y = g.x_centres()[1], g.y_centres()[1]
    sites = make_sites([("a", "Op", "4G", x, y)])
    study = tiny_study(pop, g, sites, unit_cols=2)  # West = columns 0–1, East = columns 2–3
    res = analyse(study, RadiusModel(radius_km={"4G": 1.2}), min_population=0)
    covered = res.coverage.covered("4G")
    expected = np.zeros((3, 4), bool)
    expected[1, 1] = expected[0, 1] = expected[2, 1] = expected[1, 0] = expected[1, 2] = True
    np.testing.assert_array_equal(covered, expected)
    t = res.units["province"].set_index("code")
    # West: population 1+2+5+6+9+10 = 33, covered 2+5+6+10 = 23
    assert t.loc["W", "population"] == 33 and t.loc["W", "covered_any"] == 23 and t.loc["W", "uncovered"] == 10
    # East: 3+4+7+8+11+12 = 45, covered 7
    assert t.loc["E", "population"] == 45 and t.loc["E", "covered_4G"] == 7 and t.loc["E", "uncovered"] == 38
    assert t.loc["E", "uncovered_share"] == pytest.approx(38 / 45)
    assert t.loc["W", "sites"] == 1 and t.loc["E", "sites"] == 0
    # gap clusters (8-connectivity): (0,0) and (2,0) are isolated by covered cells (people 1 and 9);
    # (0,2),(0,3),(1,3),(2,3),(2,2) form one cluster of 3+4+8+12+11 = 38
    cl = res.clusters
    assert list(cl["population"]) == [38, 9, 1]
    assert list(cl["cells"]) == [5, 1, 1]
    assert list(cl["rank"]) == [1, 2, 3]
    assert list(cl["province_code"]) == ["E", "W", "W"]
    assert cl["population"].is_monotonic_decreasing


def test_zonal_sum_outside_index_zero():
    v = np.array([[1.0, 2.0], [3.0, 4.0]])
    lab = np.array([[0, 1], [1, 2]])
    np.testing.assert_array_equal(zonal_sum(v, lab, 2), [1.0, 5.0, 4.0])


def test_conservation_on_random_study():
    rng = np.random.default_rng(42)
    g = Grid.from_bounds(105.0, 21.0, 105.2, 21.2, res=(6 / 3600, 6 / 3600), crs="EPSG:4326")
    pop = rng.gamma(0.3, 30.0, g.shape) * (rng.random(g.shape) > 0.3)
    sites = make_sites([(f"s{i}", "ABC"[i % 3], "234"[i % 3] + "G", 105.0 + rng.random() * 0.2, 21.0 + rng.random() * 0.2)
                        for i in range(8)])
    study = tiny_study(pop, g, sites)
    res = analyse(study, RadiusModel(), min_population=50)
    t = res.units["province"]
    np.testing.assert_allclose(t["covered_any"] + t["uncovered"], t["population"], rtol=1e-12)
    total = t["population"].sum() + t.attrs["outside"]["population"]
    assert total == pytest.approx(pop.sum(), rel=1e-9)
    for tech in ("2G", "3G", "4G"):
        assert (t[f"covered_{tech}"] <= t["covered_any"] + 1e-9).all()
    s = res.summary()
    assert s["population_covered"] + s["population_uncovered"] == pytest.approx(s["population_total"], rel=1e-12)
    # clusters listed + clusters below the minimum = uncovered people on populated cells
    below = res.clusters.attrs["below_min"]["population"]
    assert res.clusters["population"].sum() + below == pytest.approx(s["population_uncovered"], rel=1e-9)
