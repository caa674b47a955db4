"""Tiled coverage: tiled == untiled exactly, halo, resume, memory bound, reductions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from covgap.tiling import _kernels as tk
from covgap.errors import ConfigError, InputError
from covgap.grid import Grid
from covgap.overlay import zonal_sum
from covgap.models.radius import RadiusModel
from covgap.sites import validate_sites
from covgap.tiling import (
    TiledModel,
    compute_coverage_tiled,
    fast_zonal_sum,
    model_reach_m,
    plan_tiles,
    tiled_zonal_sums,
)

FIELDS = ("operator_bits", "n_sites", "serving_site", "signal_dbm")


def _sites(n, *, seed, bounds, techs=("2G", "3G", "4G"), ops=("A", "B", "C")):
    rng = np.random.default_rng(seed)
    w, s, e, nn = bounds
    df = pd.DataFrame({"site_id": [f"s{i}" for i in range(n)], "operator": rng.choice(ops, n),
                       "technology": rng.choice(techs, n), "lon": rng.uniform(w, e, n), "lat": rng.uniform(s, nn, n)})
    return validate_sites(df)[0]


def assert_same(a, b):
    assert set(a.technologies) == set(b.technologies)
    assert a.operators == b.operators
    for tech in a.technologies:
        for f in FIELDS:
            x, y = getattr(a.technologies[tech], f), getattr(b.technologies[tech], f)
            if x is None or y is None:
                assert x is None and y is None, (tech, f)
                continue
            assert x.dtype == y.dtype and x.shape == y.shape, (tech, f)
            assert np.array_equal(x, y, equal_nan=(f == "signal_dbm")), (tech, f, int((x != y).sum()))


GEO = Grid.from_bounds(105.0, 21.0, 105.3, 21.2, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")  # 240 x 360


@pytest.mark.parametrize("tile_size", [37, (50, 90), 1000])
def test_radius_tiled_equals_untiled_geographic(tmp_path, tile_size):
    sites = _sites(150, seed=1, bounds=(104.97, 20.97, 105.33, 21.23))  # some sites off the grid
    model = RadiusModel(radius_km={"2G": 3.0, "3G": 1.5, "4G": 1.0})
    tc = compute_coverage_tiled(GEO, sites, model, tile_size=tile_size, workdir=tmp_path / "w")
    assert_same(model.compute(GEO, sites), tc.to_coverage())


def test_radius_tiled_equals_untiled_projected_with_ties(tmp_path):
    # metric grid, sites on a lattice: many cells exactly equidistant from two sites (ties)
    g = Grid.from_bounds(500_000, 2_300_000, 530_000, 2_320_000, res=(100, 100), crs="EPSG:32648")
    xs, ys = np.meshgrid(np.arange(502_050, 530_000, 2_000.0), np.arange(2_301_050, 2_320_000, 2_000.0))
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(xs.ravel(), ys.ravel())
    n = lon.size
    df = pd.DataFrame({"site_id": [f"s{i}" for i in range(n)], "operator": np.where(np.arange(n) % 3, "X", "Y"),
                       "technology": "4G", "lon": lon, "lat": lat, "radius_km": 1.5})
    sites = validate_sites(df)[0]
    model = RadiusModel()
    tc = compute_coverage_tiled(g, sites, model, tile_size=23, workdir=tmp_path / "w")
    full = model.compute(g, sites)
    assert_same(full, tc.to_coverage())
    assert (full.technologies["4G"].n_sites >= 2).any()  # overlaps really happen


def test_halo_site_at_tile_edge_covers_neighbour_once(tmp_path):
    g = Grid.from_bounds(0, 0, 4_000, 2_000, res=(100, 100), crs="EPSG:32648")  # 20 x 40 cells
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(1_950.0, 1_050.0)
    sites = validate_sites(pd.DataFrame({"site_id": ["edge"], "operator": ["A"], "technology": ["4G"], "lon": [lon],
                                         "lat": [lat], "radius_km": [0.6]}))[0]
    spy = Spy(RadiusModel())
    tc = compute_coverage_tiled(g, sites, spy, tile_size=20, workdir=tmp_path / "w")  # tiles: cols 0-19, 20-39
    cov = tc.to_coverage()
    bits = cov.technologies["4G"].operator_bits
    assert bits[:, 20:].any() and bits[:, :20].any()  # the site (column 19) reaches the next tile
    assert_same(RadiusModel().compute(g, sites), cov)
    assert spy.site_calls == ["edge"]  # computed once


@dataclass
class Spy:
    """Wraps a model; records the window shapes and sites it is asked to compute."""

    inner: object
    fail_after: int | None = None
    shapes: list = field(default_factory=list)
    site_calls: list = field(default_factory=list)

    @property
    def name(self):
        return self.inner.name

    def parameters(self):
        return self.inner.parameters()

    costly_footprints = False

    def reach_m(self, grid, sites):
        return self.inner.reach_m(grid, sites)

    def footprints(self, grid, sites, rows, *, dem=None):  # pragma: no cover - not used by tiling
        return self.inner.footprints(grid, sites, rows, dem=dem)

    def compute(self, grid, sites, *, dem=None, progress=False):
        if self.fail_after is not None and len(self.shapes) >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.shapes.append(grid.shape)
        self.site_calls += list(sites["site_id"])
        return self.inner.compute(grid, sites, dem=dem, progress=progress)


def test_memory_bound_windows_sized_by_tile(tmp_path):
    g = Grid.from_bounds(105.0, 21.0, 105.5, 21.5, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")  # 600 x 600
    sites = _sites(80, seed=3, bounds=(105.0, 21.0, 105.5, 21.5))
    spy = Spy(RadiusModel(radius_km={"2G": 1.0, "3G": 1.0, "4G": 1.0}))
    tc = compute_coverage_tiled(g, sites, spy, tile_size=100, workdir=tmp_path / "w")
    plan = tc.plan
    limit = (100 + 2 * plan.halo_rows, 100 + 2 * plan.halo_cols)
    assert plan.halo_rows < 30 and len(spy.shapes) == tc.parameters["tiling"]["tiles_with_sites"] > 25
    assert all(s[0] <= limit[0] and s[1] <= limit[1] for s in spy.shapes)
    assert max(s[0] * s[1] for s in spy.shapes) < g.ny * g.nx / 20  # a window is a small part of the grid
    assert sorted(spy.site_calls) == sorted(sites["site_id"])  # each site computed exactly once
    for t in plan.tiles():
        cov = tc.read_tile(t)
        assert cov.grid.shape == t.shape and cov.technologies["4G"].operator_bits.shape == t.shape
    # tile results sit on disk, not in the result object
    assert 0 < len(list((tmp_path / "w" / "tiles").glob("*.bin"))) <= 36


def test_resume_after_interruption(tmp_path):
    sites = _sites(120, seed=4, bounds=(105.0, 21.0, 105.3, 21.2))
    model = RadiusModel(radius_km={"2G": 2.0, "3G": 1.0, "4G": 1.0})
    work = tmp_path / "w"
    with pytest.raises(KeyboardInterrupt):
        compute_coverage_tiled(GEO, sites, Spy(model, fail_after=4), tile_size=60, workdir=work)
    spy = Spy(model)
    tc = compute_coverage_tiled(GEO, sites, spy, tile_size=60, workdir=work)
    assert tc.stats["windows_skipped"] == 4 and tc.stats["windows_computed"] == len(spy.shapes) == 24 - 4
    assert_same(model.compute(GEO, sites), tc.to_coverage())
    # nothing changed: nothing recomputed or merged again
    again = compute_coverage_tiled(GEO, sites, Spy(model), tile_size=60, workdir=work)
    assert again.stats["windows_computed"] == 0 and again.stats["tiles_merged"] == 0
    # one site moves within its tile: only that tile's window is recomputed
    moved = sites.copy()
    moved.loc[0, "lon"] += 0.001
    spy2 = Spy(model)
    tc2 = compute_coverage_tiled(GEO, moved, spy2, tile_size=60, workdir=work)
    assert tc2.stats["windows_computed"] == 1
    assert_same(model.compute(GEO, moved), tc2.to_coverage())
    # other parameters: a fresh result, not stale tiles
    other = RadiusModel(radius_km={"2G": 2.5, "3G": 1.0, "4G": 1.0})
    tc3 = compute_coverage_tiled(GEO, sites, other, tile_size=60, workdir=work)
    assert tc3.stats["windows_skipped"] == 0
    assert_same(other.compute(GEO, sites), tc3.to_coverage())
    # resume=False starts from nothing
    tc4 = compute_coverage_tiled(GEO, sites, model, tile_size=60, workdir=work, resume=False)
    assert tc4.stats["windows_skipped"] == 0


def test_sites_outside_grid_and_removed_tiles(tmp_path):
    sites = _sites(40, seed=5, bounds=(104.95, 20.95, 105.35, 21.25))
    model = RadiusModel(radius_km={"2G": 4.0, "3G": 2.0, "4G": 2.0})
    work = tmp_path / "w"
    compute_coverage_tiled(GEO, sites, model, tile_size=80, workdir=work)
    fewer = sites.iloc[::2].reset_index(drop=True)  # whole tiles lose all their sites
    tc = compute_coverage_tiled(GEO, fewer, model, tile_size=80, workdir=work)
    assert_same(model.compute(GEO, fewer), tc.to_coverage())
    # a tile no site reaches any more has no stale result
    one = sites.iloc[[0]].reset_index(drop=True).assign(lon=105.01, lat=21.19, radius_km=0.2)
    tc1 = compute_coverage_tiled(GEO, one, RadiusModel(), tile_size=80, workdir=work)
    assert_same(RadiusModel().compute(GEO, one), tc1.to_coverage())
    assert len(list((work / "tiles").glob("*.bin"))) == 1


def test_signal_models_tiled_equal_untiled(tmp_path):
    terrain = pytest.importorskip("covgap.models.terrain", reason="terrain model not in this build")
    g = Grid.from_bounds(105.0, 21.0, 105.15, 21.1, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")  # 120 x 180
    yy, xx = np.mgrid[0:g.ny, 0:g.nx]
    dem = (300 + 150 * np.sin(xx / 17.0) * np.cos(yy / 11.0) + 40 * np.sin(xx / 5.0 + yy / 3.0)).astype("f4")
    sites = _sites(25, seed=6, bounds=(105.005, 21.005, 105.145, 21.095), techs=("2G", "4G"))
    # Hata: no terrain, exact
    hata = pytest.importorskip("covgap.models.hata").HataModel(max_radius_km=3)
    tc = compute_coverage_tiled(g, sites, hata, dem=dem, tile_size=45, workdir=tmp_path / "hata")
    assert tc.plan.halo_rows >= 3000 / 92.7
    assert_same(hata.compute(g, sites, dem=dem), tc.to_coverage())
    # terrain: its per-cell values depend on the grid origin at the 1e-2 dB level (a window shifted by one
    # row changes interior cells by up to 0.004 dB), so tiles agree with one run to that tolerance
    model = terrain.TerrainModel(max_radius_km=3)
    tiled = compute_coverage_tiled(g, sites, model, dem=dem, tile_size=45, workdir=tmp_path / "terrain").to_coverage()
    full = model.compute(g, sites, dem=dem)
    n = g.ny * g.nx
    for tech in full.technologies:
        a, b = full.technologies[tech], tiled.technologies[tech]
        np.testing.assert_allclose(a.signal_dbm, b.signal_dbm, rtol=0, atol=0.01, equal_nan=True)
        near = np.abs(a.signal_dbm - a.threshold_dbm) <= 0.01
        assert np.array_equal(a.operator_bits[~near], b.operator_bits[~near])
        assert (a.n_sites != b.n_sites).sum() <= n * 1e-3
        assert (a.serving_site != b.serving_site).sum() <= n * 1e-3


def test_tiled_model_in_analysis_matches():
    from conftest import tiny_study

    from covgap.analysis import analyse

    g = Grid.from_bounds(105.0, 21.0, 105.1, 21.1, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")
    pop = np.random.default_rng(7).gamma(1.0, 3.0, g.shape)
    sites = _sites(12, seed=7, bounds=(105.0, 21.0, 105.1, 21.1))
    study = tiny_study(pop, g, sites)
    model = RadiusModel(radius_km={"2G": 1.0, "3G": 0.5, "4G": 0.5})
    a = analyse(study, model)
    tm = TiledModel(model, tile_size=31)
    b = analyse(study, tm)
    assert tm.last is not None and tm.last.stats["windows_computed"] > 1
    assert_same(a.coverage, b.coverage)
    pd.testing.assert_frame_equal(a.units["province"].drop(columns="geometry"),
                                  b.units["province"].drop(columns="geometry"))


def test_tiled_zonal_sums_match_untiled(tmp_path):
    sites = _sites(60, seed=8, bounds=(105.0, 21.0, 105.3, 21.2))
    model = RadiusModel(radius_km={"2G": 2.0, "3G": 1.0, "4G": 1.0})
    rng = np.random.default_rng(8)
    pop = rng.gamma(0.5, 4.0, GEO.shape).astype("f4")
    labels = (np.arange(GEO.nx)[None, :] // 100 + 3 * (np.arange(GEO.ny)[:, None] // 120)).astype("i2")
    labels[:10] = 0
    tc = compute_coverage_tiled(GEO, sites, model, tile_size=70, workdir=tmp_path / "w")
    table = tiled_zonal_sums(tc, population=pop, labels=labels, n_units=int(labels.max()))
    full = model.compute(GEO, sites)
    n = int(labels.max())
    np.testing.assert_allclose(table["population"], zonal_sum(pop, labels, n), rtol=1e-12)
    for tech in full.technologies:
        np.testing.assert_allclose(table[f"covered_{tech}"], zonal_sum(np.where(full.covered(tech), pop, 0), labels, n),
                                   rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(table["covered_any"], zonal_sum(np.where(full.any_covered(), pop, 0), labels, n),
                               rtol=1e-12, atol=1e-9)
    # callables work as sources too
    t2 = tiled_zonal_sums(tc, population=lambda r0, r1, c0, c1: pop[r0:r1, c0:c1],
                          labels=lambda r0, r1, c0, c1: labels[r0:r1, c0:c1], n_units=n)
    pd.testing.assert_frame_equal(table, t2)
    bad = labels.copy()
    bad[50, 50] = 99
    with pytest.raises(InputError, match="labels outside"):
        tiled_zonal_sums(tc, population=pop, labels=bad, n_units=n)


# --------------------------------------------------------------------------- kernels vs references
def test_merge_piece_against_reference():
    rng = np.random.default_rng(9)
    shape = (7, 9)
    for higher in (True, False):
        bits = rng.integers(0, 8, shape).astype(np.uint32)
        n = rng.integers(65530, 65536, shape).astype(np.uint16)
        serv = rng.integers(-1, 5, shape).astype(np.int32)
        key = np.where(serv >= 0, rng.integers(0, 3, shape), np.nan).astype("f8")
        pb = rng.integers(0, 8, shape).astype(np.uint32)
        pn = rng.integers(0, 4, shape).astype(np.uint16)
        ps = rng.integers(-1, 5, shape).astype(np.int32)
        pk = np.where(ps >= 0, rng.integers(0, 3, shape), np.nan).astype("f8")
        exp_bits = bits | pb
        exp_n = np.minimum(n.astype(np.int64) + pn, 65535).astype(np.uint16)
        exp_s, exp_k = serv.copy(), key.copy()
        for i in range(shape[0]):
            for j in range(shape[1]):
                if ps[i, j] < 0:
                    continue
                better_key = pk[i, j] > key[i, j] if higher else pk[i, j] < key[i, j]
                if serv[i, j] < 0 or better_key or (pk[i, j] == key[i, j] and ps[i, j] < serv[i, j]):
                    exp_s[i, j], exp_k[i, j] = ps[i, j], pk[i, j]
        tk._merge_piece(bits, n, serv, key, pb, pn, ps, pk, higher)
        assert np.array_equal(bits, exp_bits) and np.array_equal(n, exp_n)
        assert np.array_equal(serv, exp_s) and np.array_equal(key, exp_k, equal_nan=True)


def test_radius_d2_matches_haversine():
    from covgap.grid import haversine_m

    xc = np.array([105.0, 105.01, 105.02])
    yc = np.array([21.0, 20.99])
    sx, sy = np.array([105.005, 104.9]), np.array([21.001, 21.05])
    serving = np.array([[0, 1, -1], [1, 0, 0]], dtype=np.int32)
    d2 = tk._radius_d2(serving, xc, yc, True, sx, sy)
    for (i, j), s in np.ndenumerate(serving):
        if s < 0:
            assert np.isinf(d2[i, j])
        else:
            assert d2[i, j] == pytest.approx(float(haversine_m(sx[s], sy[s], xc[j], yc[i])) ** 2, rel=1e-9)


def test_fast_zonal_sum_equals_bincount():
    rng = np.random.default_rng(10)
    labels = rng.integers(0, 6, (301, 77)).astype(np.int16)
    values = rng.gamma(1.0, 2.0, labels.shape).astype("f4")
    reference = np.bincount(labels.ravel().astype(np.int64), weights=values.ravel().astype(np.float64), minlength=6)
    np.testing.assert_allclose(fast_zonal_sum(values, labels, 5), reference, rtol=1e-12)
    np.testing.assert_allclose(fast_zonal_sum(values, labels.astype(np.uint8), 5), reference, rtol=1e-12)
    assert fast_zonal_sum(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1, 1], [0, 2]]), 2).tolist() == [3, 3, 4]
    with pytest.raises(InputError, match="outside 0..5"):
        fast_zonal_sum(values, labels + 1, 5)


# --------------------------------------------------------------------------- plans and errors
def test_plan_and_halo():
    g = Grid.from_bounds(0, 0, 10_000, 5_000, res=(100, 100), crs="EPSG:32648")
    p = plan_tiles(g, tile_size=40, halo_m=500)
    assert p.n_tiles == (2, 3) and (p.halo_rows, p.halo_cols) == (9, 9)
    tiles = p.tiles()
    assert sum(t.shape[0] * t.shape[1] for t in tiles) == g.ny * g.nx  # cores partition the grid
    assert tiles[-1].shape == (10, 20) and tiles[0].window_shape == (49, 49)
    assert [t.name for t in p.reaching(tiles[0])] == ["r0000_c0000", "r0000_c0001", "r0001_c0000", "r0001_c0001"]
    # geographic: the halo in columns grows towards the pole side of the grid
    pg = plan_tiles(GEO, tile_size=100, halo_m=10_000)
    assert pg.halo_cols > pg.halo_rows
    with pytest.raises(ConfigError, match="tile_size"):
        plan_tiles(g, tile_size=0, halo_m=1)
    with pytest.raises(ConfigError, match="halo"):
        plan_tiles(g, tile_size=10, halo_m=float("nan"))


def test_model_reach():
    sites = _sites(5, seed=11, bounds=(105.0, 21.0, 105.1, 21.1), techs=("2G",))
    assert model_reach_m(RadiusModel(), GEO, sites) == 12_000.0

    class Opaque:
        name = "opaque"

        def parameters(self):
            return {}

        def compute(self, grid, sites, *, dem=None, progress=False):  # pragma: no cover
            raise AssertionError

    with pytest.raises(ConfigError, match="halo_m"):
        compute_coverage_tiled(GEO, sites, Opaque())
    with pytest.raises(InputError, match="empty"):
        compute_coverage_tiled(GEO, sites.iloc[:0], RadiusModel())
    with pytest.raises(InputError, match="DEM array"):
        compute_coverage_tiled(GEO, sites, RadiusModel(), dem=np.zeros((2, 2)))
