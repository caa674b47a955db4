import numpy as np
import pytest
from affine import Affine

from covgap.errors import CRSError, InputError
from covgap.grid import EARTH_RADIUS_M, Grid, haversine_m


def test_cell_areas_sum_to_spherical_box_area():
    g = Grid.from_bounds(104.0, 20.0, 105.0, 21.0, res=(30 / 3600, 30 / 3600), crs="EPSG:4326")
    exact = EARTH_RADIUS_M**2 * np.radians(1.0) * (np.sin(np.radians(21)) - np.sin(np.radians(20))) / 1e6
    total = float(np.broadcast_to(g.cell_area_km2(), g.shape).sum())
    assert total == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("lat", [8.5, 16.0, 23.4])
def test_cell_width_shrinks_with_latitude(lat):
    g = Grid.from_bounds(105.0, lat - 0.01, 105.01, lat + 0.01, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")
    dx, dy = g.cell_size_m()
    mid = g.ny // 2
    assert dx[mid] == pytest.approx(float(haversine_m(105.0, g.y_centres()[mid], 105.0 + 3 / 3600, g.y_centres()[mid])), rel=1e-6)
    assert dy[mid] == pytest.approx(EARTH_RADIUS_M * np.radians(3 / 3600), rel=1e-12)


def test_rowcol_and_window_round_trip():
    g = Grid.from_bounds(0, 0, 1000, 500, res=(10, 10), crs="EPSG:32648")
    r, c = g.rowcol([5.0, 995.0], [495.0, 5.0])
    assert list(r) == [0, 49] and list(c) == [0, 99]
    w = g.window(10, 20, 30, 40)
    assert w.shape == (10, 10) and w.bounds == (300.0, 300.0, 400.0, 400.0)


def test_rotated_grid_is_refused():
    with pytest.raises(InputError, match="rotated"):
        Grid(crs="EPSG:4326", transform=Affine(1, 0.1, 0, 0, -1, 0), shape=(2, 2))


def test_projected_crs_in_feet_is_refused():
    with pytest.raises(CRSError, match="metres"):
        Grid(crs="EPSG:2263", transform=Affine(1, 0, 0, 0, -1, 0), shape=(2, 2))


def test_check_same_names_what_differs():
    a = Grid.from_bounds(0, 0, 10, 10, res=(1, 1), crs="EPSG:32648")
    b = Grid.from_bounds(0, 0, 10, 11, res=(1, 1), crs="EPSG:32648")
    with pytest.raises(InputError, match="DEM is on a different grid"):
        a.check_same(b, what="DEM")
