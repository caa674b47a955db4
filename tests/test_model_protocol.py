"""Planning and tiling use a coverage model only through its protocol (covgap.models.base.CoverageModel).

The test double below is a model neither has seen: each transmitter covers the square of cells
within ``half_side_m`` (Chebyshev distance, in the grid's metres) of it, and nothing else. Planning
and tiling must give exactly what its own ``compute`` gives, without any change to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from conftest import make_sites

from covgap.analysis import analyse
from covgap.grid import Grid
from covgap.models.base import Coverage, CoverageModel, empty_technology, footprints_by_compute, operator_index
from covgap.planning import candidate_footprints, candidates_to_sites, make_candidates, plan_sites, what_if
from covgap.sites import TECHNOLOGIES
from covgap.tiling import compute_coverage_tiled, model_reach_m
from test_planning import _study


@dataclass
class SquareModel:
    """Each transmitter covers the cells whose centre is within ``half_side_m`` in x and in y."""

    half_side_m: float = 1500.0
    name: str = "square"
    costly_footprints: ClassVar[bool] = True  # exercise the planner's bound-and-refine path too
    calls: int = 0

    def parameters(self):
        return {"model": self.name, "half_side_m": self.half_side_m}

    def reach_m(self, grid, sites):
        return np.full(len(sites), self.half_side_m * np.sqrt(2.0))

    def footprints(self, grid, sites, rows, *, dem=None):
        return footprints_by_compute(self, grid, sites, rows, dem=dem)

    def compute(self, grid, sites, *, dem=None, progress=False):
        self.calls += 1
        sites = sites.reset_index(drop=True)
        ops, op_idx = operator_index(sites)
        x, y = grid.from_lonlat(sites["lon"].to_numpy(), sites["lat"].to_numpy())
        xm, ym = np.meshgrid(grid.x_centres(), grid.y_centres())  # grid coordinates, as x and y
        techs = {}
        for tech in TECHNOLOGIES:
            rows = np.flatnonzero((sites["technology"] == tech).to_numpy())
            if rows.size == 0:
                continue
            tc = empty_technology(tech, grid.shape, signal=False)
            for k in rows:
                if grid.is_geographic:  # metres along the parallel and the meridian
                    dx = (xm - x[k]) * 111_195.0 * np.cos(np.radians(y[k]))
                    dy = (ym - y[k]) * 111_195.0
                else:
                    dx, dy = xm - x[k], ym - y[k]
                inside = (np.abs(dx) <= self.half_side_m) & (np.abs(dy) <= self.half_side_m)
                tc.operator_bits[inside] |= np.uint32(1 << int(op_idx[k]))
                tc.n_sites[inside] += 1
                tc.serving_site[inside & (tc.serving_site < 0)] = k
            techs[tech] = tc
        return Coverage(grid=grid, operators=ops, technologies=techs, sites=sites, model=self.name,
                        parameters=self.parameters())


def test_the_double_is_a_coverage_model():
    assert isinstance(SquareModel(), CoverageModel)


@pytest.fixture(scope="module")
def study():
    return _study(seed=5, with_hamlets=False)


def test_tiling_runs_a_model_it_has_never_seen(tmp_path):
    grid = Grid.from_bounds(500_000, 2_300_000, 520_000, 2_312_000, res=(200, 200), crs="EPSG:32648")
    lon, lat = grid.to_lonlat(np.array([503_000.0, 510_100.0, 517_900.0, 511_000.0]),
                              np.array([2_303_000.0, 2_306_100.0, 2_310_900.0, 2_300_500.0]))
    sites = make_sites([("A", "Op1", "4G", lon[0], lat[0]), ("B", "Op2", "4G", lon[1], lat[1]),
                        ("C", "Op1", "2G", lon[2], lat[2]), ("D", "Op2", "2G", lon[3], lat[3])])
    model = SquareModel()
    assert model_reach_m(model, grid, sites) == pytest.approx(1500.0 * np.sqrt(2.0))
    one = model.compute(grid, sites)
    tiled = compute_coverage_tiled(grid, sites, model, tile_size=17, workdir=tmp_path / "w").to_coverage()
    assert set(tiled.technologies) == set(one.technologies)
    for tech, tc in one.technologies.items():
        assert tc.covered.any()
        np.testing.assert_array_equal(tiled.technologies[tech].operator_bits, tc.operator_bits)
        np.testing.assert_array_equal(tiled.technologies[tech].n_sites, tc.n_sites)


def test_planning_runs_a_model_it_has_never_seen(study):
    model = SquareModel()
    analysis = analyse(study, model)
    w, s, e, n = study.grid.bounds
    rng = np.random.default_rng(0)
    cands = make_candidates(rng.uniform(w + 0.02, e - 0.02, 8), rng.uniform(s + 0.02, n - 0.02, 8), technology="4G",
                            operator="Op1")
    fp = candidate_footprints(study, cands, model)
    # each footprint is what compute() marks for that candidate alone on the whole grid
    for k in range(len(cands)):
        alone = model.compute(study.grid, candidates_to_sites(cands).iloc[k:k + 1])
        np.testing.assert_array_equal(np.sort(fp.cells(k)), np.flatnonzero(alone.any_covered().ravel()))
    plan = plan_sites(analysis, cands, budget_sites=3)
    assert len(plan.added_sites()) == 3
    after = what_if(analysis, add=plan, model=model)
    assert after.summary()["population_covered"] == plan.summary["covered_after"]  # exact
    assert plan.summary["covered_after"] > plan.summary["covered_before"]
