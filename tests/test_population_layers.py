"""Several population layers under one coverage: aggregation onto the analysis grid, per-unit and per-zone
people without signal, spread and rank changes; the demo's constrained / unconstrained variants."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import make_sites, tiny_study
from rasterio.features import rasterize

from covgap.analysis import analyse
from covgap.compare import compare_population_layers, layer_on_grid
from covgap.errors import InputError
from covgap.grid import Grid
from covgap.io import read_population
from covgap.models.radius import RadiusModel

RES = 30 / 3600


def _grid(res=RES, ny=3, nx=9):
    return Grid.from_bounds(105.0, 21.0, 105.0 + nx * res, 21.0 + ny * res, res=(res, res), crs="EPSG:4326")


@pytest.fixture(scope="module")
def hand_analysis():
    g = _grid()
    x, y = g.x_centres(), g.y_centres()
    # one 4G site at (row 1, col 1); 1.2 km reaches its 4 edge neighbours: covered (1,0) (1,1) (1,2) (0,1) (2,1)
    sites = make_sites([("a", "A", "4G", x[1], y[1])])
    study = tiny_study(np.ones(g.shape), g, sites, unit_cols=4)  # W = columns 0-3, E = 4-8
    return analyse(study, RadiusModel(radius_km={"4G": 1.2}), min_population=0)


# --------------------------------------------------------------------------- aggregation onto the grid
def test_layer_on_same_grid_is_passed_through():
    g = _grid()
    a = np.arange(27.0).reshape(3, 9)
    out, meta = layer_on_grid(a, None, g)
    assert np.array_equal(out, a) and meta == {"aggregation": "same grid", "outside_grid": 0.0}
    with pytest.raises(InputError, match=r"shape \(1, 2\).*\(array, grid\)"):
        layer_on_grid(np.ones((1, 2)), None, g)


def test_finer_aligned_layer_is_block_summed_exactly():
    coarse, fine = _grid(), _grid(RES / 3, ny=9, nx=27)
    rng = np.random.default_rng(5)
    people = rng.integers(0, 50, fine.shape).astype(float)  # whole people: every sum is exact in float64
    out, meta = layer_on_grid(people, fine, coarse)
    assert meta["aggregation"] == "block sums of 3×3 cells" and meta["outside_grid"] == 0.0
    assert out.sum() == people.sum()  # conserved exactly
    assert out[0, 0] == people[:3, :3].sum() and out[2, 8] == people[6:, 24:].sum()


def test_unaligned_layer_conserves_people_with_the_outside_reported():
    target = _grid()
    shifted = Grid.from_bounds(105.0 + RES / 2, 21.0, 105.0 + 9.5 * RES, 21.0 + 3 * RES, res=(RES, RES),
                               crs="EPSG:4326")
    people = np.full(shifted.shape, 4.0)
    out, meta = layer_on_grid(people, shifted, target)
    assert meta["aggregation"].startswith("split by overlapped area")
    assert out.sum() + meta["outside_grid"] == pytest.approx(people.sum(), rel=1e-12)
    assert meta["outside_grid"] == pytest.approx(3 * 2.0)  # the half column beyond the east edge
    assert out[0, 0] == pytest.approx(2.0) and out[0, 1] == pytest.approx(4.0)


# --------------------------------------------------------------------------- hand-computed comparison
def test_hand_computed_units_zones_spread_and_ranks(hand_analysis):
    g = hand_analysis.study.grid
    a = np.ones(g.shape)                           # uncovered: W 12 cells − 5 covered = 7; E 15
    b = np.zeros(g.shape)
    b[1, 0], b[0, 3], b[2, 8] = 4.0, 3.0, 1.0      # covered 4; uncovered W 3, E 1
    fine = _grid(RES / 3, ny=9, nx=27)
    c = np.ones(fine.shape)                        # 9 per coarse cell: uncovered W 63, E 135
    cmp = compare_population_layers(hand_analysis, {"A": a, "B": b, "C": (c, fine)}, min_population=0)
    u = cmp.units.set_index("code")
    assert u.loc["W", ["uncovered_A", "uncovered_B", "uncovered_C"]].tolist() == [7.0, 3.0, 63.0]
    assert u.loc["E", ["uncovered_A", "uncovered_B", "uncovered_C"]].tolist() == [15.0, 1.0, 135.0]
    assert u.loc["W", ["rank_A", "rank_B", "rank_C"]].tolist() == [2, 1, 2]
    assert u.loc["W", "spread"] == 60.0 and u.loc["E", "spread"] == 134.0
    assert u.loc["E", "spread_rel"] == pytest.approx(134.0 / ((15 + 1 + 135) / 3))
    assert (u["rank_range"] == 1).all()
    t = cmp.totals.set_index("layer")
    assert t["uncovered"].tolist() == [22.0, 4.0, 198.0]
    assert t.loc["B", "units_rank_changed"] == 2 and t.loc["B", "rank_correlation"] == pytest.approx(-1.0)
    assert t.loc["C", "aggregation"] == "block sums of 3×3 cells" and t.loc["C", "population"] == 243.0
    # zones of the reference (A, 8-connectivity): the corners (0,0) and (2,0) are cut off by the covered cross
    z = cmp.clusters
    assert sorted(z["cells"].tolist()) == [1, 1, 20]
    big = z.set_index("cells").loc[20]
    assert big[["uncovered_A", "uncovered_B", "uncovered_C"]].tolist() == [20.0, 4.0, 180.0]
    assert t["outside_zones"].tolist() == [0.0, 0.0, 0.0]
    # zone ids are the analysis' own gap-cluster ids when the analysis' population is the reference
    assert set(z["zone_id"]) == set(hand_analysis.clusters["cluster_id"])


def test_union_zones_and_bad_arguments(hand_analysis):
    g = hand_analysis.study.grid
    a = np.zeros(g.shape)
    a[0, 8] = 5.0
    b = np.zeros(g.shape)
    b[2, 4] = 2.0
    ref = compare_population_layers(hand_analysis, {"a": a, "b": b}, min_population=0)
    assert len(ref.clusters) == 1 and ref.totals.set_index("layer").loc["b", "outside_zones"] == 2.0
    uni = compare_population_layers(hand_analysis, {"a": a, "b": b}, min_population=0, zones="union")
    assert len(uni.clusters) == 2 and (uni.totals["outside_zones"] == 0).all()
    with pytest.raises(InputError, match="at least two"):
        compare_population_layers(hand_analysis, {"a": a})
    with pytest.raises(InputError, match="technology '3G'"):
        compare_population_layers(hand_analysis, {"a": a, "b": b}, technology="3G")
    with pytest.raises(InputError, match="negative"):
        compare_population_layers(hand_analysis, {"a": a, "b": -b})


# --------------------------------------------------------------------------- the demo's variants
def test_demo_variants_keep_commune_totals_and_move_people(tmp_path):
    from covgap.demo import make_demo_inputs

    paths = make_demo_inputs(tmp_path)
    pops = {k: read_population(paths[k]) for k in ("population", "population_constrained",
                                                   "population_unconstrained")}
    g = pops["population"][1]
    communes = gpd.read_file(paths["admin"], layer="communes")
    lab = rasterize([(geom, k + 1) for k, geom in enumerate(communes.geometry)], out_shape=g.shape,
                    transform=g.transform, dtype="int32")
    sums = {k: np.bincount(lab.ravel(), weights=v[0].ravel(), minlength=len(communes) + 1) for k, v in pops.items()}
    for k in ("population_constrained", "population_unconstrained"):
        np.testing.assert_allclose(sums[k][1:], sums["population"][1:], rtol=1e-5, atol=1e-2)
        assert pops[k][1].same_as(g)
    populated = {k: int((v[0] > 0).sum()) for k, v in pops.items()}
    assert populated["population_constrained"] < populated["population"] / 3
    assert populated["population_unconstrained"] > populated["population"]


def test_comparison_xlsx_read_back(hand_analysis, tmp_path):
    from openpyxl import load_workbook

    from covgap.report.population_layers import write_population_comparison

    g = hand_analysis.study.grid
    b = np.zeros(g.shape)
    b[0, 3] = 3.0
    cmp = compare_population_layers(hand_analysis, {"A": np.ones(g.shape), "B": b}, min_population=0)
    wb = load_workbook(write_population_comparison(cmp, tmp_path / "layers.xlsx", synthetic=True))
    assert wb.sheetnames == ["Layers", "Units", "Gap zones", "About"]
    ws = wb["Units"]
    assert str(ws["A1"].value).startswith("SYNTHETIC DEMO")
    header = [c.value for c in ws[2]]
    row = {h: c.value for h, c in zip(header, ws[3], strict=True)}
    assert row["code"] == "E" and row["uncovered_A"] == 15 and row["spread"] == 15


# --------------------------------------------------------------------------- settlement-points lens
def test_settlement_check_hand_computed():
    from covgap.population import settlement_check

    g = Grid.from_bounds(105.0, 21.0, 105.05, 21.01, res=(0.01, 0.01), crs="EPSG:4326")  # 1 × 5 cells, ~1.04 km
    pop = np.array([[4.0, 0.0, 2.0, 0.0, 7.0]])
    lab = np.array([[1, 1, 1, 2, 2]])
    # hamlets at cell 1 (empty), cell 2 (populated), one outside the grid
    chk = settlement_check(pop, g, [105.015, 105.025, 106.0], [21.005, 21.005, 21.005], far_km=1.5,
                           labels=lab, codes=["A", "B"], names=["Alpha", "Beta"])
    t = chk.totals
    assert t["points"] == 3 and t["points_outside_grid"] == 1 and t["points_on_empty_cells"] == 1
    assert chk.point_on_empty_cell.tolist() == [True, False, False]
    # cell 0 is ~1.04 km from the hamlet at cell 1: near; cell 4 is ~2.1 km from cell 2's hamlet: far
    assert chk.far.tolist() == [[False, False, False, False, True]]
    assert t["populated_cells"] == 3 and t["populated_cells_far"] == 1 and t["people_far"] == 7.0
    assert t["people_far_share"] == pytest.approx(7 / 13)
    u = chk.units.set_index("code")
    assert u.loc["A", ["points", "points_on_empty_cells", "populated_cells_far"]].tolist() == [2, 1, 0]
    assert u.loc["B", ["people_far", "people_far_share"]].tolist() == [7.0, 1.0]
    with pytest.raises(InputError, match="far_km"):
        settlement_check(pop, g, [], [], far_km=0)
    none = settlement_check(pop, g, [], [], far_km=1.0)
    assert none.totals["populated_cells_far"] == 3 and none.totals["people_far"] == 13.0


def test_settlement_check_on_demo_layers(tmp_path):
    import pandas as pd

    from covgap.demo import make_demo_inputs
    from covgap.population import settlement_check

    paths = make_demo_inputs(tmp_path)
    hamlets = pd.read_csv(paths["hamlets"])
    res = {}
    for k in ("population", "population_constrained", "population_unconstrained"):
        pop, g, _ = read_population(paths[k])
        res[k] = settlement_check(pop, g, hamlets["lon"], hamlets["lat"], far_km=2.0).totals
    # the spread layer puts more people far from every hamlet than the generated one, the constrained fewer
    far = {k: v["people_far"] for k, v in res.items()}
    assert far["population_constrained"] < far["population"] < far["population_unconstrained"]
    assert all(v["points"] == len(hamlets) for v in res.values())
