"""Planning: candidates, footprints, lazy greedy vs naive vs exact optimum, what-if, outputs, bad input."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import make_sites
from openpyxl import Workbook, load_workbook
from shapely.geometry import box

from covgap.analysis import analyse
from covgap.errors import DataFileError, InputError
from covgap.grid import Grid
from covgap.overlay import rasterize_units
from covgap.planning import (
    GREEDY_BOUND,
    CandidateCosts,
    Footprints,
    add_plan_layer,
    append_plan_sheet,
    candidate_footprints,
    candidates_to_sites,
    check_budget,
    check_candidates,
    exact_max_coverage,
    generate_candidates,
    greedy_max_coverage,
    make_candidates,
    plan_frame,
    plan_sites,
    read_candidates,
    upgrade_candidates,
    what_if,
    write_plan_geopackage,
    write_plan_kml,
    write_plan_xlsx,
)
from covgap.models.radius import RadiusModel
from covgap.study import AdminLevel, StudyArea

MODEL = RadiusModel(radius_km={"2G": 2.5, "3G": 1.2, "4G": 1.2})


# ------------------------------------------------------------------------------------------ fixtures
def _study(*, seed: int = 3, with_hamlets: bool = True) -> StudyArea:
    """A 90 × 120 cell (≈ 220 m) study area: hills, a lake (DEM 0), a nodata patch, two provinces."""
    grid = Grid.from_bounds(105.0, 21.0, 105.24, 21.18, res=(0.002, 0.002), crs="EPSG:4326")
    rng = np.random.default_rng(seed)
    ny, nx = grid.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    dem = (300 + 250 * np.sin(xx / 9.0) * np.cos(yy / 7.0) + 40 * rng.random(grid.shape)).astype(np.float32)
    dem[5:20, 5:25] = 0.0  # a lake
    dem[70:80, 100:110] = np.nan  # unknown terrain
    pop = rng.gamma(0.6, 8.0, grid.shape) * (rng.random(grid.shape) < 0.5)
    pop[5:20, 5:25] = 0.0
    w, s, e, n = grid.bounds
    units = gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West & Co", "East <x>"]},
                             geometry=[box(w, s, 105.12, 21.17), box(105.12, s, e, 21.17)], crs="EPSG:4326")
    labels = rasterize_units(units, grid)
    pop[labels == 0] = 0.0  # outside the country: population nodata → 0
    sites = make_sites([("S1", "Op1", "2G", 105.05, 21.05), ("S1", "Op1", "4G", 105.05, 21.05),
                        ("S2", "Op2", "2G", 105.20, 21.12), ("S3", "Op1", "3G", 105.15, 21.03)])
    hamlets = None
    if with_hamlets:
        hx = rng.uniform(105.01, 105.23, 40)
        hy = rng.uniform(21.01, 21.165, 40)
        hamlets = gpd.GeoDataFrame({"hamlet_id": [f"H{i}" for i in range(40)], "name": [f"Thôn {i}" for i in range(40)],
                                    "lon": hx, "lat": hy}, geometry=gpd.points_from_xy(hx, hy), crs="EPSG:4326")
    return StudyArea(name="tiny plan", grid=grid, population=pop, admin=[AdminLevel("province", units, labels)],
                     sites=sites, dem=dem, hamlets=hamlets)


@pytest.fixture(scope="module")
def study() -> StudyArea:
    return _study()


@pytest.fixture(scope="module")
def analysis(study):
    return analyse(study, MODEL)


@pytest.fixture(scope="module")
def candidates(analysis):
    gen = generate_candidates(analysis, within_km=3.0, min_spacing_km=0.8, max_per_cluster=12)
    up = upgrade_candidates(analysis)
    return pd.concat([gen.drop(columns=["cluster_id", "elevation_m"]), up], ignore_index=True)


def _random_instance(rng, n_cand: int, n_cells: int, *, p: float):
    lists = [np.flatnonzero(rng.random(n_cells) < p * rng.uniform(0.3, 1.7)) for _ in range(n_cand)]
    w = rng.gamma(0.8, 10.0, n_cells) * (rng.random(n_cells) < 0.8)
    return Footprints.from_lists(lists, (1, n_cells)), w


def _value(fp: Footprints, w: np.ndarray, sel) -> float:
    sel = list(sel)
    if not sel:
        return 0.0
    return float(w[np.unique(np.concatenate([fp.cells(k) for k in sel]))].sum())


# ------------------------------------------------------------------------------------------ greedy
def test_greedy_tiny_hand_case():
    # cells 0..5 with weights; A covers {0,1,2} = 6, B {2,3} = 7, C {4,5} = 11
    fp = Footprints.from_lists([[0, 1, 2], [2, 3], [4, 5]], (1, 6))
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    res = greedy_max_coverage(fp, w, budget_sites=2)
    assert res.order.tolist() == [2, 1]
    assert res.gains.tolist() == [11.0, 7.0]
    assert res.stop_reason == "site budget reached"
    # after C and B, A adds only cells 0 and 1
    res3 = greedy_max_coverage(fp, w, budget_sites=3)
    assert res3.gains.tolist() == [11.0, 7.0, 3.0]


def test_greedy_can_be_suboptimal_but_within_bound():
    # classic: two disjoint halves (optimum) vs one set that takes a bit more than each half
    left, right = list(range(0, 8)), list(range(8, 16))
    middle = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    fp = Footprints.from_lists([left, right, middle], (1, 16))
    w = np.ones(16)
    res = greedy_max_coverage(fp, w, budget_sites=2)
    _, opt = exact_max_coverage(fp, w, budget_sites=2)
    assert res.order[0] == 2  # greedy takes the middle first
    assert opt == 16.0 and res.total_gain == 13.0
    assert res.total_gain / opt >= GREEDY_BOUND


def test_exact_matches_exhaustive_search():
    rng = np.random.default_rng(7)
    for _ in range(5):
        fp, w = _random_instance(rng, 10, 60, p=0.12)
        for k in (1, 3, 4):
            best = max(_value(fp, w, s) for s in itertools.combinations(range(10), k))
            sel, val = exact_max_coverage(fp, w, budget_sites=k)
            assert len(sel) <= k
            assert val == pytest.approx(best, rel=1e-12)


WORST: dict[str, float] = {}


@pytest.mark.parametrize("seed", range(12))
def test_greedy_vs_optimum_small_instances(seed):
    """≤ 30 candidates: greedy ≥ (1 − 1/e)·optimum (sites), ≥ (1 − 1/e)/2 (cost, best of two rules)."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(8, 31))
    fp, w = _random_instance(rng, n, int(rng.integers(60, 300)), p=float(rng.uniform(0.03, 0.2)))
    for k in (2, 3, 5, 8):
        res = greedy_max_coverage(fp, w, budget_sites=k)
        _, opt = exact_max_coverage(fp, w, budget_sites=k)
        ratio = res.total_gain / opt if opt > 0 else 1.0
        assert ratio >= GREEDY_BOUND - 1e-12
        assert ratio <= 1.0 + 1e-9
        assert res.total_gain == pytest.approx(_value(fp, w, res.order))
        WORST["sites"] = min(WORST.get("sites", 1.0), ratio)
    costs = rng.uniform(0.25, 2.0, n)
    for budget in (1.5, 3.0, 5.0):
        res = greedy_max_coverage(fp, w, costs=costs, budget_cost=budget)
        assert costs[res.order].sum() <= budget + 1e-9
        _, opt = exact_max_coverage(fp, w, costs=costs, budget_cost=budget)
        ratio = res.total_gain / opt if opt > 0 else 1.0
        assert ratio >= GREEDY_BOUND / 2 - 1e-12
        WORST["cost"] = min(WORST.get("cost", 1.0), ratio)


def test_report_worst_ratio(capsys):
    """Print the measured worst greedy/optimum ratio of the instances above (runs after them)."""
    if not WORST:
        pytest.skip("ratio tests did not run in this session")
    with capsys.disabled():
        print(f"\n[planning] worst greedy/optimum ratio: sites {WORST['sites']:.4f}, cost {WORST.get('cost', 1):.4f} "
              f"(bound {GREEDY_BOUND:.4f} / {GREEDY_BOUND / 2:.4f})")
    assert WORST["sites"] >= GREEDY_BOUND


@pytest.mark.parametrize("seed", range(6))
def test_lazy_equals_naive(seed):
    rng = np.random.default_rng(seed)
    fp, w = _random_instance(rng, 60, 400, p=0.05)
    # many ties: integer weights
    w = np.round(w)
    costs = rng.choice([0.5, 1.0, 2.0], 60)
    for kw in ({"budget_sites": 15}, {"budget_cost": 6.0, "costs": costs}, {"target_gain": 0.8 * w.sum()}):
        a = greedy_max_coverage(fp, w, lazy=True, **kw)
        b = greedy_max_coverage(fp, w, lazy=False, **kw)
        assert a.order.tolist() == b.order.tolist()
        assert a.gains.tolist() == b.gains.tolist()
        assert a.stop_reason == b.stop_reason
    assert a.evaluations <= b.evaluations


def test_lazy_refinement_equals_eager():
    """Upper-bound footprints refined on demand give the same choice as exact footprints."""
    rng = np.random.default_rng(5)
    fp, w = _random_instance(rng, 40, 300, p=0.06)
    bounds = [np.union1d(fp.cells(k), rng.choice(300, 15)) for k in range(40)]
    bfp = Footprints.from_lists(bounds, fp.shape)
    calls = []

    def refine(ks):
        calls.append(len(ks))
        return [fp.cells(int(k)) for k in ks]

    a = greedy_max_coverage(bfp, w, budget_sites=8, refine=refine, refine_batch=4)
    b = greedy_max_coverage(fp, w, budget_sites=8, lazy=False)
    assert a.order.tolist() == b.order.tolist() and a.gains.tolist() == b.gains.tolist()
    assert sum(calls) == a.log["footprints_refined"] <= 40


def test_budget_validation():
    fp = Footprints.from_lists([[0]], (1, 1))
    for kw, word in (({"budget_sites": 0}, "budget_sites"), ({"budget_sites": -3}, "budget_sites"),
                     ({"budget_sites": 2.5}, "budget_sites"), ({"budget_cost": 0.0}, "budget_cost"),
                     ({"budget_cost": -1.0}, "budget_cost"), ({}, "no budget")):
        with pytest.raises(InputError, match=word):
            greedy_max_coverage(fp, np.ones(1), **kw)
    with pytest.raises(InputError, match="target_share"):
        check_budget(target_share=1.5)


# ------------------------------------------------------------------------------------------ footprints
def test_radius_footprints_equal_model_coverage(study, candidates):
    fp = candidate_footprints(study, candidates, MODEL)
    sites = candidates_to_sites(candidates)
    for k in range(0, len(candidates), max(1, len(candidates) // 12)):
        cov = MODEL.compute(study.grid, sites.iloc[[k]].reset_index(drop=True))
        expect = np.flatnonzero(cov.any_covered().ravel())
        assert np.array_equal(fp.cells(k), expect)


def test_masked_footprints_are_subsets(study, candidates):
    mask = study.population > 0
    full = candidate_footprints(study, candidates, MODEL)
    part = candidate_footprints(study, candidates, MODEL, mask=mask)
    for k in range(len(candidates)):
        assert np.array_equal(part.cells(k), full.cells(k)[mask.ravel()[full.cells(k)]])


# ------------------------------------------------------------------------------------------ plans + what-if
def test_plan_table_and_curve(analysis, candidates):
    plan = plan_sites(analysis, candidates, budget_sites=6)
    t = plan.sites
    assert len(t) == 6 and t["rank"].tolist() == list(range(1, 7))
    assert (np.diff(t["marginal_population"]) <= 1e-9).all()  # greedy gains never grow
    assert np.allclose(t["cumulative_new_population"], np.cumsum(t["marginal_population"]), rtol=1e-12, atol=1e-6)
    assert (t["cost_per_person"] == t["cost"] / t["marginal_population"]).all()
    assert set(t["province_code"]) <= {"W", "E"}
    assert plan.curve["covered_population"].iloc[0] == plan.summary["covered_before"]
    assert plan.curve["covered_population"].iloc[-1] == plan.summary["covered_after"]
    assert plan.summary["hamlets_newly_covered"] == int(t["hamlets_newly_covered"].sum())


def test_what_if_gives_exactly_the_plan(analysis, candidates):
    plan = plan_sites(analysis, candidates, budget_sites=5)
    new = what_if(analysis, add=plan)
    s = new.summary()
    assert s["population_covered"] == plan.summary["covered_after"]  # exact, not approx
    # each prefix of the plan, too
    for k in (1, 3):
        sub = what_if(analysis, add=plan.added_sites().iloc[:k])
        assert sub.summary()["population_covered"] == plan.sites["covered_population"].iloc[k - 1]
    # hamlets newly covered agree with the recomputed hamlet status
    before = int((analysis.hamlets["status"] == "no signal").sum())
    after = int((new.hamlets["status"] == "no signal").sum())
    assert before - after == plan.summary["hamlets_newly_covered"]


def test_what_if_4g_target_and_unit(analysis, candidates):
    plan = plan_sites(analysis, candidates, target="4G", budget_sites=4, unit="E")
    assert (plan.sites["province_code"] == "E").all()
    new = what_if(analysis, add=plan)
    units = new.units["province"].set_index("code")
    assert units.loc["E", "covered_4G"] == plan.summary["covered_after"]
    assert plan.summary["unit"]["name"] == "East <x>"
    assert plan.report.dropped.get("outside the planned unit (not an error)", 0) > 0


def test_target_share_stops(analysis, candidates):
    s0 = analysis.summary()
    share0 = s0["population_covered"] / s0["population_total"]
    best = plan_sites(analysis, candidates, budget_sites=len(candidates)).summary["covered_share_after"]
    goal = share0 + 0.5 * (best - share0)
    plan = plan_sites(analysis, candidates, target_share=goal)
    assert plan.summary["stop_reason"] == "target share reached"
    assert plan.summary["covered_share_after"] >= goal
    assert plan.sites["covered_share"].iloc[-2] < goal if len(plan) > 1 else True
    done = plan_sites(analysis, candidates, target_share=share0 * 0.5)
    assert len(done) == 0 and done.summary["stop_reason"] == "target share already reached"


def test_cost_budget_plan(analysis, candidates):
    c = candidates.copy()
    plan = plan_sites(analysis, c, budget_cost=2.0)
    assert plan.sites["cost"].sum() <= 2.0 + 1e-12
    assert plan.summary["rule"] in ("gain", "ratio")


def test_what_if_remove(analysis):
    new = what_if(analysis, remove=["S2"])
    assert new.summary()["population_uncovered"] >= analysis.summary()["population_uncovered"]
    assert "S2" not in set(new.coverage.sites["site_id"])
    with pytest.raises(InputError, match="not in the sites table"):
        what_if(analysis, remove=["nope"])
    with pytest.raises(InputError, match="model="):
        what_if(analysis.study, add=None)


def test_plan_by_unit(analysis, candidates):
    from covgap.planning import plan_by_unit

    plans = plan_by_unit(analysis, candidates, budget_sites=2)
    assert set(plans) <= {"W", "E"} and plans
    for code, p in plans.items():
        assert p.summary["unit"]["code"] == code
        assert (p.sites["province_code"] == code).all()
        units = what_if(analysis, add=p).units["province"].set_index("code")
        assert units.loc[code, "covered_any"] == p.summary["covered_after"]


def test_rerun_greedy_on_kept_footprints(analysis, candidates):
    plan = plan_sites(analysis, candidates, budget_sites=5)
    again = greedy_max_coverage(plan.candidate_footprints, plan.weights, budget_sites=5,
                                costs=plan.candidates["cost"].to_numpy())
    assert plan.candidates["candidate_id"].to_numpy()[again.order].tolist() == plan.sites["candidate_id"].tolist()


def test_more_sites_never_cover_fewer(analysis, candidates):
    plan = plan_sites(analysis, candidates, budget_sites=8, rule="gain")
    assert (np.diff(plan.curve["covered_population"]) >= 0).all()


# ------------------------------------------------------------------------------------------ candidates
def test_generated_candidates_on_land_near_gaps(analysis):
    study = analysis.study
    gen = generate_candidates(analysis, within_km=3.0, min_spacing_km=0.8, max_per_cluster=12)
    assert len(gen) > 0 and (gen["kind"] == "new_site").all()
    clean, rep = check_candidates(gen, study)
    assert rep.dropped == {}  # generator never proposes water, nodata or outside points
    assert (clean["elevation_m"] > 0).all()
    # spacing inside each cluster
    from covgap.grid import haversine_m

    for _, g in gen.groupby("cluster_id"):
        lon, lat = g["lon"].to_numpy(), g["lat"].to_numpy()
        for i in range(len(g)):
            d = haversine_m(lon[i], lat[i], np.delete(lon, i), np.delete(lat, i))
            assert (d >= 800 - 1e-6).all()
    with pytest.raises(InputError, match="within_km"):
        generate_candidates(analysis, within_km=0)


def test_upgrade_candidates(study):
    up = upgrade_candidates(study, technology="4G", costs=CandidateCosts(upgrade=0.3))
    assert sorted(up["site_id"]) == ["S2", "S3"]  # S1 already has 4G
    assert (up["kind"] == "upgrade").all() and (up["cost"] == 0.3).all()
    assert set(up["operator"]) == {"Op1", "Op2"}


def test_check_candidates_counts_every_drop(study):
    lon = [105.1, 105.1, 105.03, 106.5, 105.205, 105.1, 105.239]
    lat = [21.1, 21.1, 21.975 - 0.95, 21.1, 21.025 + 0.0, 21.1, 21.175]
    # row 3 (index 2) in the lake, index 3 outside the grid, index 4 on nodata, index 5 duplicate position,
    # index 6 outside both provinces (north strip beyond 21.17)
    ids = ["a", "a", "lake", "far", "hole", "dup", "north"]
    c = make_candidates(lon, lat, candidate_id=ids)
    c.loc[4, ["lon", "lat"]] = study.grid.x_centres()[104], study.grid.y_centres()[74]
    c.loc[2, ["lon", "lat"]] = study.grid.x_centres()[10], study.grid.y_centres()[10]
    clean, rep = check_candidates(c, study)
    assert clean["candidate_id"].tolist() == ["a"]
    assert rep.rows_in == 7 and rep.rows_out == 1
    d = rep.dropped
    assert d["outside the study area"] == 1
    assert d["on water (DEM ≤ 0 m)"] == 1
    assert d["on unknown terrain (DEM nodata)"] == 1
    assert d["duplicate candidate_id (first kept)"] == 1
    assert d[next(k for k in d if k.startswith("duplicate position"))] == 1
    assert d[next(k for k in d if k.startswith("outside every admin unit"))] == 1
    assert any("far" in m and "Fix:" in m for m in rep.messages)
    with pytest.raises(InputError, match="outside the study area"):
        check_candidates(c, study, strict=True)
    with pytest.raises(InputError, match="all 1 candidates were dropped"):
        check_candidates(c.iloc[[3]], study)


def test_plan_reports_dropped_candidates(analysis, candidates, study):
    bad = make_candidates([106.5, candidates["lon"].iloc[0]], [21.1, candidates["lat"].iloc[0]],
                          candidate_id=["far", "twin"])
    plan = plan_sites(analysis, pd.concat([candidates, bad], ignore_index=True), budget_sites=2)
    dropped = plan.summary["candidates"]["dropped"]
    assert dropped["outside the study area"] == 1
    assert sum(v for k, v in dropped.items() if k.startswith("duplicate position")) == 1
    with pytest.raises(InputError, match="budget_sites"):
        plan_sites(analysis, candidates, budget_sites=0)
    with pytest.raises(InputError, match="budget_cost"):
        plan_sites(analysis, candidates, budget_cost=-5.0)


# ------------------------------------------------------------------------------------------ reading files
def test_read_candidates_csv(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("name,lon,lat,kind,cost,antenna_height_m\nĐồi A,105.1,21.1,user,2.5,40\nB,105.11,21.1,,,\n",
                 encoding="utf-8")
    df, rep = read_candidates(p)
    assert df["candidate_id"].tolist() == ["Đồi A", "B"]
    assert df["cost"].tolist() == [2.5, 1.0] and df["antenna_height_m"].tolist() == [40.0, 30.0]
    assert rep.defaulted == {"antenna_height_m": 1, "cost": 1}
    assert df["source"].tolist() == ["c.csv line 2", "c.csv line 3"]


@pytest.mark.parametrize("body, pattern", [
    ("lon,lat\n105.1,21.1\nabc,21.2\n", r"c\.csv: line 3, field 'lon' is 'abc'"),
    ("lon,lat,kind\n105.1,21.1,tower\n", r"line 2, field 'kind' is 'tower'"),
    ("lon,lat,cost\n105.1,21.1,0\n", r"line 2, field 'cost' is 0.0; expected a cost > 0"),
    ("lon,lat,cost\n105.1,21.1,-3\n", r"field 'cost' is -3.0"),
    ("lon,lat,antenna_height_m\n105.1,21.1,-1\n", r"'antenna_height_m' is -1.0"),
    ("x1,y1\n105.1,21.1\n", r"missing column\(s\) \['lon', 'lat'\]"),
    ("lon,lat\n21.1,105.1\n", r"look like lat and lon swapped"),
    ("lon,lat,technology\n105.1,21.1,6G\n", r"field 'technology' is '6G'"),
])
def test_read_candidates_bad_csv(tmp_path, body, pattern):
    p = tmp_path / "c.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=pattern):
        read_candidates(p)


def test_read_candidates_missing_and_gpkg(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_candidates(tmp_path / "none.csv")
    g = gpd.GeoDataFrame({"name": ["P1", "P2"], "cost": [1.5, None]},
                         geometry=gpd.points_from_xy([105.1, 105.12], [21.1, 21.11]), crs="EPSG:4326")
    g.to_crs("EPSG:32648").to_file(tmp_path / "c.gpkg", layer="cands", driver="GPKG", engine="pyogrio")
    df, rep = read_candidates(tmp_path / "c.gpkg", layer="cands")
    assert df["lon"].to_numpy() == pytest.approx([105.1, 105.12], abs=1e-9)
    assert df["cost"].tolist() == [1.5, 1.0] and df["source"].iloc[1] == "c.gpkg feature 2"


# ------------------------------------------------------------------------------------------ outputs
@pytest.fixture(scope="module")
def small_plan(analysis, candidates):
    c = candidates.copy()
    c.loc[0, "candidate_id"] = 'Đồi "A" & <B>'
    return plan_sites(analysis, c, budget_sites=4)


def test_xlsx_outputs(small_plan, tmp_path):
    p = write_plan_xlsx(small_plan, tmp_path / "plan.xlsx")
    wb = load_workbook(p)
    assert wb.sheetnames == ["Summary", "Where to build", "Plan curve", "Candidates dropped", "Sources"]
    ws = wb["Where to build"]
    assert ws.freeze_panes == "A2"
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["rank", "candidate", "kind"] and "people newly covered" in headers
    col = headers.index("people newly covered") + 1
    assert ws.cell(2, col).number_format == "#,##0"
    assert ws.cell(2, col).value == pytest.approx(small_plan.sites["marginal_population"].iloc[0])
    # append to an existing workbook (object and file)
    other = Workbook()
    append_plan_sheet(other, small_plan)
    assert "Where to build" in other.sheetnames
    other.save(tmp_path / "report.xlsx")
    append_plan_sheet(tmp_path / "report.xlsx", small_plan)
    assert load_workbook(tmp_path / "report.xlsx").sheetnames.count("Where to build") == 1
    assert list(plan_frame(small_plan).columns)[:2] == ["rank", "candidate"]


def test_kml_escapes_names(small_plan, tmp_path):
    p = write_plan_kml(small_plan, tmp_path / "plan.kml")
    text = p.read_text(encoding="utf-8")
    assert "&amp;" in text and "&lt;B&gt;" in text or 'Đồi "A" & <B>' not in text
    root = ET.parse(p).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    names = [e.text for e in root.iterfind(".//k:Folder/k:Placemark/k:name", ns)]
    assert len([n for n in names if "footprint" not in n]) == len(small_plan)
    if (small_plan.sites["candidate_id"] == 'Đồi "A" & <B>').any():
        assert any('Đồi "A" & <B>' in n for n in names)


def test_geopackage_and_map(small_plan, tmp_path):
    p = write_plan_geopackage(small_plan, tmp_path / "plan.gpkg")
    pts = gpd.read_file(p, layer="plan_sites")
    fps = gpd.read_file(p, layer="plan_footprints")
    assert len(pts) == len(fps) == len(small_plan)
    assert fps.geometry.is_valid.all()
    # footprint area from polygons ≈ from cells (same cells)
    area = fps.to_crs("EPSG:32648").geometry.area.to_numpy() / 1e6
    assert area == pytest.approx(small_plan.sites["footprint_km2"].to_numpy(), rel=0.01)
    m = folium.Map(location=[21.1, 105.1])
    out = add_plan_layer(m, small_plan)
    assert out is m
    html = m.get_root().render()
    assert "people newly covered" in html and "<B>" not in html


def test_cli_register(tmp_path):
    import argparse

    from covgap.planning.cli import register

    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    register(sub)
    a = p.parse_args(["plan", "x.toml", "--out", str(tmp_path), "--budget", "5", "--target", "4G"])
    assert a.budget == 5 and a.target == "4G" and callable(a.func)


# ------------------------------------------------------------------------------------------ terrain model
@pytest.mark.slow
def test_terrain_footprints_and_what_if():
    terrain = pytest.importorskip("covgap.models.terrain", reason="terrain model not in this build")
    study = _study(seed=11, with_hamlets=False)
    study.dem[np.isnan(study.dem)] = 500.0  # no nodata: no warnings in this test
    study.sites = study.sites[study.sites["technology"] != "3G"].reset_index(drop=True)  # 2100 MHz: range warning
    model = terrain.TerrainModel(max_radius_km=3.0)
    an = analyse(study, model)
    cands = generate_candidates(an, within_km=2.0, min_spacing_km=1.0, max_per_cluster=6)
    assert len(cands) >= 4
    fp = candidate_footprints(study, cands, model)
    sites = candidates_to_sites(cands)
    for k in range(min(len(cands), 5)):
        cov = model.compute(study.grid, sites.iloc[[k]].reset_index(drop=True), dem=study.dem)
        assert np.array_equal(fp.cells(k), np.flatnonzero(cov.any_covered().ravel()))
    # masked footprints: out-of-reach candidates are skipped, the rest equal full ∩ mask
    mask = np.zeros(study.grid.shape, dtype=bool)
    mask[:20, :30] = True
    far = make_candidates([105.22], [21.02], candidate_id=["far"])
    both = pd.concat([cands, far], ignore_index=True)
    part = candidate_footprints(study, both, model, mask=mask)
    full = candidate_footprints(study, both, model)
    assert part.skipped >= 1 and part.cells(len(both) - 1).size == 0
    for k in range(len(both)):
        assert np.array_equal(part.cells(k), full.cells(k)[mask.ravel()[full.cells(k)]])
    eager = plan_sites(an, cands, model=model, budget_sites=3)
    lazy_fp = plan_sites(an, cands, model=model, budget_sites=3, lazy_footprints=True)
    assert eager.sites["candidate_id"].tolist() == lazy_fp.sites["candidate_id"].tolist()
    new = what_if(an, add=eager, model=model)
    assert new.summary()["population_covered"] == eager.summary["covered_after"]
    # the analysis keeps the model it was made with, so what_if can reuse it
    again = what_if(an, add=eager)
    assert again.summary()["population_covered"] == eager.summary["covered_after"]


@pytest.mark.slow
def test_cli_plan_on_demo(demo_run, tmp_path, capsys):
    """`covgap plan` on the demo's config writes every output and says SYNTHETIC."""
    import argparse

    from covgap.planning.cli import register

    _, out = demo_run
    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command"))
    a = p.parse_args(["plan", str(out / "covgap.toml"), "--out", str(tmp_path / "plan"), "--budget", "3",
                      "--model", "radius", "-q"])
    assert a.func(a) == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC DEMO" in text and "3 sites" in text
    names = {q.name for q in (tmp_path / "plan").iterdir()}
    assert {"plan.xlsx", "plan.gpkg", "plan.kml", "plan_map.html", "plan.json"} <= names
    bad = p.parse_args(["plan", str(out / "covgap.toml"), "--out", str(tmp_path / "p2"), "--budget", "0",
                        "--model", "radius", "-q"])
    with pytest.raises(InputError, match="covgap plan: budget_sites = 0"):
        bad.func(bad)
