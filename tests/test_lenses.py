"""Lenses: distance to the land border, border belt, islands, terrain, density class, lens tables."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from covgap.errors import CRSError, InputError
from covgap.grid import Grid, haversine_m
from covgap.lenses import (
    DENSITY_CLASSES,
    border_belt,
    border_belt_table,
    density_class,
    density_per_km2,
    distance_to_border_km,
    distance_to_border_points_km,
    elevation_std_m,
    island_mask,
    land_border_lines,
    lens_table,
    ruggedness_tri_m,
)


# --------------------------------------------------------------------------- distance to border
def _brute_force_km(grid: Grid, line: LineString, step_deg: float = 0.0005) -> np.ndarray:
    pts = shapely.get_coordinates(shapely.segmentize(line, step_deg))
    lon, lat = grid.lonlat_centres()
    d = haversine_m(lon[..., None], lat[..., None], pts[:, 0], pts[:, 1]).min(axis=-1)
    return d / 1000.0


@pytest.mark.parametrize("lat0", [8.5, 16.0, 23.0])
def test_distance_matches_great_circle_reference(lat0):
    res = 1 / 120  # ~1 km
    grid = Grid.from_bounds(104.0, lat0, 104.3, lat0 + 0.3, res=(res, res), crs="EPSG:4326")
    line = LineString([(104.05, lat0 - 0.1), (104.12, lat0 + 0.17), (104.31, lat0 + 0.42)])
    d = distance_to_border_km(grid, line)
    ref = _brute_force_km(grid, line)
    cell_km = 0.93
    assert (
        np.abs(d - ref).max() < cell_km / 4 + 0.06
    )  # densified at half a cell, reference at ~55 m
    assert np.abs(d - ref).max() < cell_km


def test_distance_on_projected_grid_equals_geographic():
    g_utm = Grid.from_bounds(
        500_000, 2_300_000, 520_000, 2_320_000, res=(1000, 1000), crs="EPSG:32648"
    )
    line = gpd.GeoSeries(
        [LineString([(500_000, 2_300_000), (520_000, 2_320_000)])], crs="EPSG:32648"
    )
    d = distance_to_border_km(g_utm, line, spacing_m=50)
    # bottom-left centre (500.5, 2300.5 km) lies on the diagonal; top-left (500.5, 2319.5 km) is
    # |Δx − Δy| / √2 = 19 / √2 km from it in the UTM plane (UTM scale 0.9996 here: within 0.5 %)
    assert d[-1, 0] == pytest.approx(0.0, abs=0.05)
    assert d[0, 0] == pytest.approx(19 / np.sqrt(2), rel=0.005)


def test_distance_max_km_and_errors():
    grid = Grid.from_bounds(105.0, 20.0, 106.0, 21.0, res=(0.1, 0.1), crs="EPSG:4326")
    d = distance_to_border_km(grid, LineString([(105.0, 19.0), (105.0, 22.0)]), max_km=30)
    assert (
        np.isinf(d[:, -1]).all() and np.isfinite(d[:, 0]).all() and (d[np.isfinite(d)] <= 30).all()
    )
    with pytest.raises(CRSError):
        distance_to_border_km(grid, gpd.GeoSeries([LineString([(0, 0), (1, 1)])]))
    with pytest.raises(InputError):
        distance_to_border_km(grid, [])


def test_land_border_excludes_coast():
    country = box(105.0, 20.0, 106.0, 21.0)
    neighbour = box(104.0, 19.5, 105.0005, 21.5)  # shares the west edge (not vertex-exact)
    border = land_border_lines(country, [neighbour], snap_m=500)
    assert border.length == pytest.approx(1.0, abs=0.01)  # the 1° west edge only, no coast
    grid = Grid.from_bounds(105.0, 20.0, 106.0, 21.0, res=(0.05, 0.05), crs="EPSG:4326")
    d = distance_to_border_km(grid, border)
    # east column centre is 0.975° of longitude from the border at ~20.5°N
    assert d[10, -1] == pytest.approx(0.975 * 111.195 * np.cos(np.radians(20.525)), rel=0.005)
    belt = border_belt(d, 20)
    assert belt[:, 0].all() and not belt[:, -1].any()


def test_border_belt_validation():
    assert border_belt(np.array([np.nan, 5.0]), 10).tolist() == [False, True]
    with pytest.raises(InputError):
        border_belt(np.array([1.0]), 0)


# --------------------------------------------------------------------------- islands
def test_island_mask():
    r = 0.01
    grid = Grid.from_bounds(106.0, 10.0, 106.2, 10.1, res=(r, r), crs="EPSG:4326")
    mainland = box(106.0, 10.0, 106.1, 10.1)
    islet = box(
        106.141, 10.041, 106.144, 10.044
    )  # smaller than a cell, inside cell (row 5, col 14)
    attached = box(106.1, 10.0, 106.11, 10.01)  # shares an edge with the mainland → mainland
    near = box(106.115, 10.08, 106.125, 10.09)  # 0.015° ≈ 1.6 km off the mainland
    gdf = gpd.GeoDataFrame(geometry=[mainland, islet, attached, near], crs="EPSG:4326")
    m = island_mask(grid, gdf)
    assert m[5, 14]  # the islet is kept although smaller than a cell
    assert not m[:, :11].any()  # mainland and the attached part
    assert m[1:3, 11:13].any()  # the near islet counts as island by default
    m2 = island_mask(grid, gdf, mainland_gap_m=2000.0)
    assert m2[5, 14] and not m2[1:3, 11:13].any()
    m3 = island_mask(grid, gdf, all_touched=False)
    assert not m3[5, 14]  # its cell centre (106.145, 10.045) is outside the islet
    assert m3.sum() < m.sum()
    utm = Grid.from_bounds(
        800_000, 1_100_000, 810_000, 1_110_000, res=(1000, 1000), crs="EPSG:32648"
    )
    assert island_mask(utm, gpd.GeoSeries([box(0, 0, 1, 1)], crs="EPSG:4326")).sum() == 0


def test_island_mask_no_islands():
    grid = Grid.from_bounds(105, 10, 106, 11, res=(0.1, 0.1), crs="EPSG:4326")
    assert not island_mask(grid, box(105, 10, 106, 11)).any()


# --------------------------------------------------------------------------- terrain
def test_tri_hand_computed():
    z = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    tri = ruggedness_tri_m(z)
    assert tri[1, 1] == pytest.approx(np.sqrt(16 + 9 + 4 + 1 + 1 + 4 + 9 + 16))
    assert np.isnan(tri[0, 0]) and np.isnan(tri[2, 1])
    flat = ruggedness_tri_m(np.full((4, 4), 250.0))
    assert flat[1:3, 1:3].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_tri_unknown_terrain_propagates():
    z = np.ones((5, 5))
    z[2, 2] = np.nan
    tri = ruggedness_tri_m(z)
    assert np.isnan(tri[1:4, 1:4]).all() and np.isfinite(tri[1:4, 1:4]).sum() == 0
    assert ruggedness_tri_m(np.ones((5, 5)))[2, 2] == 0.0


def test_elevation_std():
    z = np.zeros((3, 3))
    z[1, 1] = 9.0
    s = elevation_std_m(z)
    assert s[1, 1] == pytest.approx(np.std([0] * 8 + [9]))
    assert np.isnan(s[0, 0])


# --------------------------------------------------------------------------- density
def test_density_thresholds_per_cell():
    grid = Grid.from_bounds(0, 0, 4000, 1000, res=(1000, 1000), crs="EPSG:32648")
    pop = np.array([[299.9, 300.0, 1499.0, 1500.0]])
    assert density_per_km2(pop, grid).tolist() == [[299.9, 300.0, 1499.0, 1500.0]]
    assert density_class(pop, grid).tolist() == [[0, 1, 1, 2]]
    assert DENSITY_CLASSES[2] == "urban centre"
    with pytest.raises(InputError):
        density_per_km2(np.ones((2, 2)), grid)


def test_density_on_geographic_grid_uses_cell_area():
    grid = Grid.from_bounds(
        105, 21, 105 + 1 / 120, 21 + 1 / 120, res=(1 / 120, 1 / 120), crs="EPSG:4326"
    )
    area = float(grid.cell_area_km2()[0, 0])  # ~0.81 km² at 21°N
    assert density_class(np.array([[1500 * area * 0.999]]), grid)[0, 0] == 1
    assert density_class(np.array([[1500 * area * 1.001]]), grid)[0, 0] == 2


def test_density_cluster_rules():
    grid = Grid.from_bounds(0, 0, 10_000, 10_000, res=(1000, 1000), crs="EPSG:32648")
    pop = np.zeros((10, 10))
    pop[1:5, 1:5] = 4000.0  # 16 cells × 4,000 = 64,000 ≥ 50,000: urban centre
    pop[7, 7] = 2000.0  # lone dense cell: 2,000 < 5,000 → rural with cluster rules
    pop[7:9, 1:4] = 1000.0  # 6 cells × 1,000 = 6,000 ≥ 5,000: urban cluster
    c = density_class(pop, grid, cluster_rules=True)
    assert (c[1:5, 1:5] == 2).all()
    assert c[7, 7] == 0
    assert (c[7:9, 1:4] == 1).all()
    assert density_class(pop, grid)[7, 7] == 2  # without the rules it is dense


# --------------------------------------------------------------------------- tables
def test_lens_table_conservation_and_values():
    lab = np.array([[1, 1, 2], [0, 2, 2]])
    pop = np.array([[10.0, 20.0, 30.0], [5.0, 1.0, 4.0]])
    unc = np.array([[True, False, False], [True, True, False]])
    belt = np.array([[True, False, True], [True, True, False]])
    t = lens_table(lab, 2, pop, unc, {"border_20km": belt}, unit_codes=["A", "B"])
    assert t.code.tolist() == [None, "A", "B"]
    assert t.population.tolist() == [5.0, 30.0, 35.0]
    assert t.uncovered.tolist() == [5.0, 10.0, 1.0]
    assert t.border_20km_population.tolist() == [5.0, 10.0, 31.0]
    assert t.border_20km_uncovered.tolist() == [5.0, 10.0, 1.0]
    assert (t.covered + t.uncovered == t.population).all()
    assert t.attrs["totals"]["population"] == pop.sum() == t.attrs["raster_total"]
    t2 = lens_table(lab, 2, pop, unc, {}, include_outside=False)
    assert t2.label.tolist() == [1, 2] and t2.code.tolist() == [1, 2]


def test_lens_table_input_errors():
    lab = np.array([[1, 3]])
    with pytest.raises(InputError, match="labels range"):
        lens_table(lab, 2, np.ones((1, 2)), np.zeros((1, 2), bool), {})
    with pytest.raises(InputError, match="integer"):
        lens_table(lab.astype(float), 3, np.ones((1, 2)), np.zeros((1, 2), bool), {})
    with pytest.raises(InputError, match="lens 'x'"):
        lens_table(
            np.array([[1, 1]]),
            1,
            np.ones((1, 2)),
            np.zeros((1, 2), bool),
            {"x": np.ones((2, 2), bool)},
        )
    with pytest.raises(InputError, match="unit codes"):
        lens_table(
            np.array([[1, 1]]),
            1,
            np.ones((1, 2)),
            np.zeros((1, 2), bool),
            {},
            unit_codes=["a", "b"],
        )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_lens_table_invariants(n_units, seed):
    rng = np.random.default_rng(seed)
    shape = (7, 9)
    lab = rng.integers(0, n_units + 1, shape)
    pop = rng.random(shape) * 100
    unc = rng.random(shape) < 0.4
    lenses = {"a": rng.random(shape) < 0.5, "b": rng.random(shape) < 0.2}
    t = lens_table(lab, n_units, pop, unc, lenses)
    assert t.population.sum() == pytest.approx(pop.sum(), rel=1e-12)
    for p in ("", "a_", "b_"):
        np.testing.assert_allclose(
            t[f"{p}covered"] + t[f"{p}uncovered"], t[f"{p}population"], rtol=1e-12
        )
        assert (t[f"{p}uncovered"] <= t[f"{p}population"] + 1e-9).all()
    for name, m in lenses.items():
        assert t[f"{name}_population"].sum() == pytest.approx(pop[m].sum(), rel=1e-12)
        assert (t[f"{name}_population"] <= t.population + 1e-9).all()


def test_border_belt_table():
    lab = np.array([[1, 1, 2, 2, 3]])
    pop = np.array([[10.0, 20.0, 30.0, 40.0, 50.0]])
    unc = np.array([[True, True, False, True, True]])
    dist = np.array([[5.0, 25.0, 1.0, 19.0, 100.0]])
    t = border_belt_table(
        lab,
        3,
        pop,
        unc,
        dist,
        belt_km=20,
        unit_codes=["01", "02", "03"],
        unit_names=["Hà Nội", "Hà Giang", "Cà Mau"],
    )
    assert t.code.tolist() == ["02", "01", "03"]  # by belt_uncovered, descending
    assert t.name.tolist() == ["Hà Giang", "Hà Nội", "Cà Mau"]
    assert t.belt_uncovered.tolist() == [40.0, 10.0, 0.0]
    assert t.belt_population.tolist() == [70.0, 10.0, 0.0]
    assert t.belt_uncovered_share.tolist() == pytest.approx([40 / 70, 1.0, 0.0])
    assert t.attrs["belt_km"] == 20


def test_distance_points_agree_with_grid_and_haversine():
    grid = Grid.from_bounds(104.0, 22.0, 104.2, 22.2, res=(0.02, 0.02), crs="EPSG:4326")
    line = LineString([(104.03, 21.9), (104.21, 22.31)])
    lon, lat = grid.lonlat_centres()
    pts = distance_to_border_points_km(lon, lat, line, spacing_m=10)
    grd = distance_to_border_km(grid, line, spacing_m=10)
    np.testing.assert_allclose(pts, grd, atol=1e-9)
    ref = _brute_force_km(grid, line, step_deg=0.00005)
    assert np.abs(pts - ref).max() < 0.01
    assert distance_to_border_points_km([104.5], [22.1], line, max_km=5).tolist() == [np.inf]
    with pytest.raises(InputError):
        distance_to_border_points_km([1.0, 2.0], [1.0], line)
