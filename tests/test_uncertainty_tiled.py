"""Ensemble members tile by tile: the same members as the in-memory path, zero spread = the deterministic
run, conservation in every member, and a location field that is one field across tile seams."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from conftest import SMALL_LB, quiet, small_hata_study

from covgap.analysis import analyse
from covgap.grid import Grid
from covgap.models.hata import HataModel
from covgap.tiling import TiledModel
from covgap.uncertainty import NOISE_BLOCK, EnsembleSpec, location_field, run_ensemble

LB = SMALL_LB


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(3)
    study = small_hata_study(rng)
    hx = np.r_[rng.uniform(105.0, 105.12, 30), 104.5]  # the last hamlet lies off the grid
    hy = np.r_[rng.uniform(20.98, 21.1, 30), 21.0]
    study = replace(study, hamlets=gpd.GeoDataFrame(
        {"hamlet_id": [f"H{i}" for i in range(hx.size)], "name": [f"Thôn {i}" for i in range(hx.size)],
         "lon": hx, "lat": hy}, geometry=gpd.points_from_xy(hx, hy), crs="EPSG:4326"))
    model = HataModel(link_budgets=LB)
    return study, model, quiet(analyse, study, model)


def _spec(study, **kw):
    d = dict(members=6, seed=5, link_budget_db={"*": 3.0}, location_db="model", location_correlation_m=500.0,
             population={"double": study.population * 2.0, "shifted": np.roll(study.population, 7, axis=1)})
    d.update(kw)
    return EnsembleSpec(**d)


def test_location_field_windows_are_the_whole_field_bit_for_bit():
    # 300 x 520 cells: windows cross the 256-cell noise blocks and touch every grid edge
    g = Grid(crs="EPSG:32648", transform=Affine(100, 0, 0, 0, -100, 0), shape=(300, 2 * NOISE_BLOCK + 8))
    for corr in (1000.0, 120.0, 20.0):  # filtered (radius 20 cells), barely filtered (3 cells), white
        whole = location_field(11, g, corr)
        for r0, r1, c0, c1 in [(0, 24, 0, 24), (250, 300, 240, 290), (100, 101, 0, 520), (0, 300, 511, 520),
                               (37, 263, 255, 257)]:
            assert np.array_equal(location_field(11, g, corr, window=(r0, r1, c0, c1)), whole[r0:r1, c0:c1])
    # a generator is turned into one key: the same key gives the same field
    assert np.array_equal(location_field(np.random.default_rng(4), g, 500.0),
                          location_field(int(np.random.default_rng(4).integers(0, 2**63 - 1)), g, 500.0))


def test_tiled_members_equal_the_in_memory_members(tiny):
    study, model, a = tiny
    assert len(a.clusters) > 0 and a.hamlets is not None
    spec = _spec(study)
    r = quiet(run_ensemble, study, model, spec, analysis=a)
    for executor in (None, ThreadPoolExecutor(2)):
        rt = quiet(run_ensemble, study, TiledModel(model, tile_size=24, executor=executor), spec, analysis=a)
        assert rt.margins is None  # never assembled on the grid
        # cell by cell exact: the hata signal tiled = untiled bit for bit, the location field is one field
        assert np.array_equal(r.no_signal_probability, rt.no_signal_probability)
        assert np.array_equal(r.hamlets["p_no_signal"].to_numpy(), rt.hamlets["p_no_signal"].to_numpy(),
                              equal_nan=True)
        assert np.isnan(rt.hamlets["p_no_signal"].iloc[-1])
        assert r.members[["link_z", "population_layer"]].equals(rt.members[["link_z", "population_layer"]])
        # sums: the same cells added tile by tile (another float64 summation order)
        for k in ("population", "covered", "uncovered"):
            np.testing.assert_allclose(rt.member_units["province"][k], r.member_units["province"][k],
                                       rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(rt.members["uncovered"], r.members["uncovered"], rtol=1e-12)
        for c in ("uncovered_p10", "uncovered_p50", "uncovered_p90"):
            np.testing.assert_allclose(rt.clusters[c], r.clusters[c], rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(rt.units["province"][c], r.units["province"][c], rtol=1e-12, atol=1e-9)
        assert (rt.units["province"]["top_n_share"] == r.units["province"]["top_n_share"]).all()
        assert r.totals["p90"] > r.totals["p10"]  # there is a spread to agree on


def test_tiled_zero_spread_is_the_deterministic_run(tiny):
    study, model, a = tiny
    r = quiet(run_ensemble, study, TiledModel(model, tile_size=24), EnsembleSpec(members=3, seed=1), analysis=a)
    det = a.units["province"]["uncovered"].to_numpy()
    for m in range(3):
        np.testing.assert_allclose(r.member_units["province"]["uncovered"][m], det, rtol=1e-12)
    assert np.array_equal(r.no_signal_probability, (~a.coverage.any_covered()).astype(np.float32))
    assert np.array_equal(r.hamlets["p_no_signal"].to_numpy()[:-1],
                          (~a.hamlets["covered_any"].to_numpy()[:-1]).astype(float))
    assert r.totals["p10"] == pytest.approx(r.totals["deterministic"], rel=1e-12)
    assert r.totals["p90"] == pytest.approx(r.totals["deterministic"], rel=1e-12)


def test_tiled_members_conserve_people(tiny):
    study, model, a = tiny
    spec = _spec(study, members=8, seed=9)
    r = quiet(run_ensemble, study, TiledModel(model, tile_size=20), spec, analysis=a)
    mu = r.member_units["province"]
    np.testing.assert_allclose(mu["covered"] + mu["uncovered"], mu["population"], rtol=1e-12, atol=1e-9)
    assert (mu["covered"] >= 0).all() and (mu["uncovered"] >= -1e-9).all()
    pops = {"run": study.population, "double": study.population * 2.0,
            "shifted": np.roll(study.population, 7, axis=1)}
    lab = study.admin[0].labels
    assert (lab > 0).all()
    for m, layer in enumerate(r.members["population_layer"]):
        p = pops[layer]
        assert mu["population"][m] == pytest.approx([p[lab == 1].sum(), p[lab == 2].sum()], rel=1e-12)
        # every cell is in a unit here, so the whole-grid figure is the units' sum
        assert r.members["uncovered"][m] == pytest.approx(mu["uncovered"][m].sum(), rel=1e-12)
    u = r.units["province"]
    assert (u["uncovered_p10"] <= u["uncovered_p50"]).all() and (u["uncovered_p50"] <= u["uncovered_p90"]).all()
