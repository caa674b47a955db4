"""Radius model: hand-computable discs, kernel vs slow reference, invariants."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_sites
from covgap.errors import ConfigError
from covgap.grid import Grid
from covgap.models.radius import RadiusModel
from naive_radius import covered_reference

RES = 3 / 3600


def _grid(lat0=21.0, size=0.2, res=RES):
    return Grid.from_bounds(105.0, lat0, 105.0 + size, lat0 + size, res=(res, res), crs="EPSG:4326")


@pytest.mark.parametrize("lat0", [8.4, 16.0, 23.2])
def test_one_tower_on_uniform_population_covers_pi_r2_density(lat0):
    g = _grid(lat0)
    density = 250.0  # people per km²
    area = np.broadcast_to(g.cell_area_km2(), g.shape)
    pop = density * area
    lon, lat = 105.1, lat0 + 0.1
    sites = make_sites([("s1", "A", "4G", lon, lat)])
    cov = RadiusModel().compute(g, sites)
    covered = float(pop[cov.covered("4G")].sum())
    r_km = 4.0
    expected = np.pi * r_km**2 * density
    # tolerance: one ring of cells = perimeter × cell size × density
    cell_km = float(np.sqrt(area.mean()))
    ring = 2 * np.pi * r_km * cell_km * density
    assert abs(covered - expected) <= ring
    assert abs(covered - expected) / expected < 0.02


def test_kernel_matches_slow_reference_geographic_and_projected():
    g = _grid(21.0, size=0.05)
    sites = make_sites([("s1", "A", "3G", 105.02, 21.03)])
    cov = RadiusModel(radius_km={"3G": 1.5}).compute(g, sites)
    np.testing.assert_array_equal(cov.covered("3G"), covered_reference(g, 105.02, 21.03, 1500.0))
    gp = Grid.from_bounds(500000, 2300000, 504000, 2303000, res=(90, 90), crs="EPSG:32648")
    lon, lat = gp.to_lonlat(502000.0, 2301500.0)
    sites = make_sites([("s1", "A", "3G", float(lon), float(lat))])
    cov = RadiusModel(radius_km={"3G": 1.2}).compute(gp, sites)
    np.testing.assert_array_equal(cov.covered("3G"), covered_reference(gp, float(lon), float(lat), 1200.0))


def test_serving_site_is_the_nearest_and_counts_add_up():
    g = _grid(21.0, size=0.1)
    sites = make_sites([("a", "A", "4G", 105.03, 21.05), ("b", "B", "4G", 105.06, 21.05)])
    cov = RadiusModel(radius_km={"4G": 3.0}).compute(g, sites)
    tc = cov.technologies["4G"]
    r, c = g.rowcol(105.031, 21.05)
    assert tc.serving_site[r, c] == 0 and tc.n_sites[r, c] == 2 and tc.n_operators()[r, c] == 2
    assert cov.operator_names(int(tc.operator_bits[r, c])) == ["A", "B"]
    assert (tc.n_sites[tc.covered] >= 1).all() and (tc.serving_site[~tc.covered] == -1).all()


def test_tower_outside_the_area_changes_nothing_beyond_its_radius():
    g = _grid(21.0, size=0.1)
    inside = make_sites([("a", "A", "2G", 105.05, 21.05)])
    outside = make_sites([("a", "A", "2G", 105.05, 21.05), ("z", "A", "2G", 105.2, 21.05)])
    model = RadiusModel(radius_km={"2G": 5.0})
    a = model.compute(g, inside).covered("2G")
    b = model.compute(g, outside).covered("2G")
    from covgap.grid import haversine_m
    lon, lat = g.lonlat_centres()
    far = haversine_m(lon, lat, 105.2, 21.05) > 5000.0
    assert np.array_equal(a[far], b[far])
    assert (b >= a).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(105.0, 105.1), st.floats(21.0, 21.1), st.sampled_from(["2G", "3G", "4G"]),
                          st.sampled_from(["A", "B", "C"])), min_size=1, max_size=6),
       st.tuples(st.floats(104.95, 105.15), st.floats(20.95, 21.15), st.sampled_from(["2G", "3G", "4G"])))
def test_adding_a_tower_never_lowers_covered_population(rows, extra):
    g = _grid(21.0, size=0.1, res=6 / 3600)
    rng = np.random.default_rng(0)
    pop = rng.gamma(0.5, 20.0, g.shape)
    model = RadiusModel(radius_km={"2G": 3.0, "3G": 1.5, "4G": 1.0})
    base = make_sites([(f"s{i}", op, t, x, y) for i, (x, y, t, op) in enumerate(rows)])
    more = pd.concat([base, make_sites([("new", "A", extra[2], extra[0], extra[1])])], ignore_index=True)
    c0, c1 = model.compute(g, base), model.compute(g, more)
    assert pop[c1.any_covered()].sum() >= pop[c0.any_covered()].sum()
    for t in ("2G", "3G", "4G"):
        assert (c1.covered(t) >= c0.covered(t)).all()


def test_larger_radius_never_covers_fewer():
    g = _grid(21.0, size=0.1, res=6 / 3600)
    sites = make_sites([("a", "A", "4G", 105.05, 21.05), ("b", "B", "4G", 105.02, 21.08)])
    prev = None
    for r in (0.5, 1.0, 2.0, 4.0):
        cov = RadiusModel(radius_km={"4G": r}).compute(g, sites).covered("4G")
        if prev is not None:
            assert (cov >= prev).all()
        prev = cov


def test_5g_without_a_radius_is_a_clear_error():
    g = _grid(21.0, size=0.05)
    sites = make_sites([("a", "A", "5G", 105.02, 21.02)])
    with pytest.raises(ConfigError, match=r"no radius for technology 5G.*radius_km"):
        RadiusModel().compute(g, sites)
    cov = RadiusModel(radius_km={"5G": 0.5}).compute(g, sites)
    assert cov.covered("5G").any()


def _fill(fn, grid, sx, sy, radius_m, op_bit):
    out = (np.zeros(grid.shape, np.uint32), np.zeros(grid.shape, np.uint16), np.full(grid.shape, -1, np.int32),
           np.full(grid.shape, np.inf))
    fn(*out, grid.x_centres(), grid.y_centres(), grid.is_geographic, sx, sy, radius_m, op_bit,
       np.arange(len(sx), dtype=np.int32))
    return out


@pytest.mark.parametrize("projected", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binned_kernel_is_bit_identical_to_the_sequential_kernel(projected, seed):
    """Many overlapping discs, duplicated positions (ties), sites on cell centres and outside the grid."""
    from covgap.models._disc_kernels import disc_fill, disc_fill_sequential

    rng = np.random.default_rng(seed)
    if projected:
        g = Grid.from_bounds(500000, 2300000, 530000, 2322000, res=(90, 90), crs="EPSG:32648")
        w, s, e, n = g.bounds
    else:
        g = _grid(21.0, size=0.3)
        w, s, e, n = g.bounds
    k = 400
    sx = rng.uniform(w - 0.05 * (e - w), e + 0.05 * (e - w), k)
    sy = rng.uniform(s - 0.05 * (n - s), n + 0.05 * (n - s), k)
    sx[:40] = g.x_centres()[rng.integers(0, g.nx, 40)]  # exactly on cell centres
    sy[:40] = g.y_centres()[rng.integers(0, g.ny, 40)]
    sx[40:80], sy[40:80] = sx[80:120], sy[80:120]  # the same place twice: distance ties
    radius_m = rng.choice([700.0, 1500.0, 4000.0, 12000.0], k)
    radius_m[40:80] = radius_m[80:120]
    op_bit = (np.uint32(1) << rng.integers(0, 5, k).astype(np.uint32))
    fast = _fill(disc_fill, g, sx, sy, radius_m, op_bit)
    slow = _fill(disc_fill_sequential, g, sx, sy, radius_m, op_bit)
    for a, b, name in zip(fast, slow, ("operator_bits", "n_sites", "serving", "best_d2"), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert fast[1].max() > 20  # the case really overlaps


@pytest.mark.parametrize("lon, lat, radius_m", [(105.02, 21.03, 1500.0), (105.0001, 21.0449, 900.0),
                                                (105.049, 21.001, 2600.0)])
def test_binned_kernel_matches_the_slow_reference(lon, lat, radius_m):
    from covgap.models._disc_kernels import disc_fill

    g = _grid(21.0, size=0.05)
    bits = _fill(disc_fill, g, np.array([lon]), np.array([lat]), np.array([radius_m]), np.ones(1, np.uint32))[0]
    np.testing.assert_array_equal(bits != 0, covered_reference(g, lon, lat, radius_m))
