"""Population helpers: nodata cleaning, sum-preserving regridding, coast snapping, overlap detection."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from covgap.errors import CRSError, InputError
from covgap.grid import Grid
from covgap.population import (
    clean_population,
    find_overlaps,
    fractional_unit_sums,
    fractional_unit_weights,
    regrid_population_sum_preserving,
    snap_outside_cells,
)

UTM = "EPSG:32648"


# --------------------------------------------------------------------------- clean_population
def test_declared_nodata():
    a = np.array([[1.0, -99999.0], [2.5, 0.0]], dtype=np.float32)
    pop, rep = clean_population(a, -99999.0, source="wp.tif")
    assert pop.dtype == np.float64 and pop.tolist() == [[1.0, 0.0], [2.5, 0.0]]
    assert (
        rep["nodata_cells"] == 1 and rep["sentinel_cells"] == 0 and rep["total_population"] == 3.5
    )
    assert "0 people" in rep["note"]


def test_unset_nodata_holding_sentinel_is_handled_and_said():
    a = np.array([[1.0, -99999.0, -99999.0], [np.nan, 2.0, -3.4028235e38]], dtype=np.float32)
    pop, rep = clean_population(a, None, source="copy.tif")
    assert pop.tolist() == [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    assert rep["nodata_declared"] is None
    assert rep["sentinel_cells"] == 3 and rep["nan_cells"] == 1 and rep["nodata_cells"] == 0
    assert "does not declare" in rep["note"] and "-99999" in rep["note"]


def test_other_negative_values_are_an_error():
    with pytest.raises(InputError, match=r"copy\.tif.*row 0, col 1.*gdal_edit"):
        clean_population(np.array([[1.0, -5.0]]), None, source="copy.tif")
    with pytest.raises(InputError):
        clean_population(np.array([[1.0, np.inf]]), -99999.0, source="x")


def test_clean_does_not_modify_input():
    a = np.array([[-99999.0, 1.0]])
    clean_population(a, -99999.0, source="x")
    assert a[0, 0] == -99999.0


# --------------------------------------------------------------------------- regridding
def test_aligned_block_sums_hand_computed():
    src = Grid.from_bounds(0, 0, 400, 200, res=(100, 100), crs=UTM)
    dst = Grid.from_bounds(0, 0, 400, 200, res=(200, 200), crs=UTM)
    pop = np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])
    out, outside = regrid_population_sum_preserving(pop, src, dst)
    assert out.tolist() == [[14.0, 22.0]] and outside == 0.0


def test_aligned_with_offset_and_padding():
    # destination starts one source cell west and north of the source and is larger
    src = Grid.from_bounds(100, 0, 400, 300, res=(100, 100), crs=UTM)
    dst = Grid.from_bounds(0, 0, 400, 400, res=(200, 200), crs=UTM)
    pop = np.arange(1.0, 10.0).reshape(3, 3)
    out, outside = regrid_population_sum_preserving(pop, src, dst)
    # dst row 0 spans y 200–400 (source row 0, y 200–300); dst col 0 spans x 0–200 (source col 0)
    assert out.tolist() == [[1.0, 2 + 3], [4 + 7, 5 + 6 + 8 + 9]]
    assert outside == 0.0 and out.sum() == pop.sum()


def test_destination_smaller_reports_outside():
    src = Grid.from_bounds(0, 0, 400, 200, res=(100, 100), crs=UTM)
    dst = Grid.from_bounds(0, 0, 200, 200, res=(200, 200), crs=UTM)
    pop = np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])
    out, outside = regrid_population_sum_preserving(pop, src, dst)
    assert out.tolist() == [[14.0]] and outside == 22.0


def test_finer_destination_splits_by_area():
    src = Grid.from_bounds(0, 0, 200, 100, res=(100, 100), crs=UTM)
    dst = Grid.from_bounds(0, 0, 200, 100, res=(50, 50), crs=UTM)
    out, outside = regrid_population_sum_preserving(np.array([[4.0, 8.0]]), src, dst)
    assert out.tolist() == [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]] and outside == 0.0


def test_non_aligned_against_polygon_overlaps():
    """Reference: each source cell's people split by shapely intersection areas."""
    src = Grid.from_bounds(0, 0, 300, 300, res=(100, 100), crs=UTM)
    dst = Grid.from_bounds(-30, -10, 330, 320, res=(70, 110), crs=UTM)
    rng = np.random.default_rng(3)
    pop = rng.random(src.shape) * 100
    out, outside = regrid_population_sum_preserving(pop, src, dst)
    ref = np.zeros(dst.shape)
    for i in range(src.ny):
        for j in range(src.nx):
            x0 = src.transform.c + j * 100
            y1 = src.transform.f - i * 100
            cell = box(x0, y1 - 100, x0 + 100, y1)
            for ii in range(dst.ny):
                for jj in range(dst.nx):
                    X0 = dst.transform.c + jj * 70
                    Y1 = dst.transform.f - ii * 110
                    ref[ii, jj] += (
                        pop[i, j]
                        * cell.intersection(box(X0, Y1 - 110, X0 + 70, Y1)).area
                        / cell.area
                    )
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-9)
    assert out.sum() + outside == pytest.approx(pop.sum(), rel=1e-12)


def test_geographic_split_uses_spherical_area():
    # one 1°×1° cell split into two 0.5° rows at 10–11°N: the southern half is a bit larger
    src = Grid.from_bounds(105, 10, 106, 11, res=(1, 1), crs="EPSG:4326")
    dst = Grid.from_bounds(105, 10, 106, 11, res=(1, 0.5), crs="EPSG:4326")
    out, _ = regrid_population_sum_preserving(np.array([[100.0]]), src, dst)
    north = np.sin(np.radians(11)) - np.sin(np.radians(10.5))
    south = np.sin(np.radians(10.5)) - np.sin(np.radians(10))
    assert out[0, 0] == pytest.approx(100 * north / (north + south), rel=1e-12)
    assert out[1, 0] > out[0, 0] and out.sum() == pytest.approx(100.0, rel=1e-14)


def test_regrid_rejects_crs_mismatch_and_bad_values():
    src = Grid.from_bounds(0, 0, 2, 2, res=(1, 1), crs="EPSG:4326")
    dst = Grid.from_bounds(0, 0, 2, 2, res=(1, 1), crs=UTM)
    with pytest.raises(CRSError, match="compute coverage on the population grid"):
        regrid_population_sum_preserving(np.ones((2, 2)), src, dst)
    with pytest.raises(InputError, match="clean_population"):
        regrid_population_sum_preserving(np.array([[1.0, -99999], [1, 1]]), src, src)
    with pytest.raises(InputError, match="shape"):
        regrid_population_sum_preserving(np.ones((3, 2)), src, src)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.floats(0.3, 4.0),
    st.floats(0.3, 4.0),
    st.floats(-3.0, 3.0),
    st.floats(-3.0, 3.0),
    st.booleans(),
)
def test_regrid_conserves_people(ny, nx, fx, fy, ox, oy, geographic):
    crs = "EPSG:4326" if geographic else UTM
    scale = 0.01 if geographic else 100.0
    x0, y0 = (105.0, 10.0) if geographic else (500_000.0, 1_000_000.0)
    src = Grid.from_bounds(x0, y0, x0 + nx * scale, y0 + ny * scale, res=(scale, scale), crs=crs)
    # destination covers the source fully (padded by one coarse cell on every side)
    res = (fx * scale, fy * scale)
    dst = Grid.from_bounds(
        x0 + ox * scale - 4 * res[0] - 3 * scale,
        y0 + oy * scale - 4 * res[1] - 3 * scale,
        x0 + nx * scale + 4 * res[0] + 3 * scale,
        y0 + ny * scale + 4 * res[1] + 3 * scale,
        res=res,
        crs=crs,
    )
    pop = np.random.default_rng(ny * 100 + nx).random((ny, nx)) * 1000
    out, outside = regrid_population_sum_preserving(pop, src, dst)
    assert out.sum() == pytest.approx(pop.sum(), rel=1e-9)
    assert abs(outside) <= 1e-9 * pop.sum()
    assert (out >= -1e-12).all()


# --------------------------------------------------------------------------- coast snapping
def test_snap_outside_cells_hand_case():
    lab = np.array([[1, 1, 0, 0, 0], [1, 2, 2, 0, 0]])
    pop = np.array([[1.0, 1.0, 3.0, 0.0, 7.0], [1.0, 1.0, 1.0, 5.0, 0.0]])
    new, rep = snap_outside_cells(lab, pop, max_cells=1)
    assert new.tolist() == [[1, 1, 1, 0, 0], [1, 2, 2, 2, 0]]
    assert rep == {
        "snapped_cells": 2,
        "snapped_population": 8.0,
        "outside_cells": 1,
        "outside_population": 7.0,
        "max_cells": 1,
    }
    tot = np.bincount(new.ravel(), weights=pop.ravel())
    assert tot.sum() == pop.sum() and tot[0] == rep["outside_population"]


def test_snap_noop_cases():
    lab = np.zeros((2, 2), int)
    pop = np.ones((2, 2))
    new, rep = snap_outside_cells(lab, pop)
    assert (new == 0).all() and rep["outside_population"] == 4.0
    with pytest.raises(InputError):
        snap_outside_cells(lab, np.ones((3, 3)))


# --------------------------------------------------------------------------- overlaps
def test_find_overlaps_projected():
    g = gpd.GeoDataFrame(
        {"code": ["a", "b", "c", "d"]},
        geometry=[
            box(0, 0, 2000, 1000),
            box(1500, 0, 3000, 1000),
            box(3000, 0, 4000, 1000),
            box(0, 0, 1000, 1000),
        ],
        crs=UTM,
    )
    ov = find_overlaps(g, "code")
    assert ov[["code_a", "code_b"]].values.tolist() == [["a", "d"], ["a", "b"]]
    assert ov.overlap_km2.tolist() == pytest.approx([1.0, 0.5])
    # b and c only touch: not an overlap
    assert not ((ov.code_a == "b") & (ov.code_b == "c")).any()


def test_find_overlaps_geographic_and_tolerance():
    g = gpd.GeoDataFrame(
        {"code": ["a", "b"]},
        geometry=[box(105.0, 10.0, 105.1, 10.1), box(105.09, 10.0, 105.2, 10.1)],
        crs="EPSG:4326",
    )
    ov = find_overlaps(g, "code")
    # 0.01° × 0.1° at 10°N ≈ 1.096 km × 11.06 km
    assert ov.overlap_km2.iloc[0] == pytest.approx(12.1, rel=0.02)
    assert find_overlaps(g, "code", tolerance_km2=20).empty


def test_find_overlaps_clean_and_errors():
    g = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=UTM)
    assert find_overlaps(g, "code").empty
    with pytest.raises(InputError, match="no field"):
        find_overlaps(g, "name")
    with pytest.raises(CRSError):
        find_overlaps(gpd.GeoDataFrame({"code": ["a"]}, geometry=[box(0, 0, 1, 1)]), "code")


# --------------------------------------------------------------------------- fractional assignment
def test_fractional_weights_hand_case():
    g = Grid.from_bounds(0, 0, 400, 200, res=(100, 100), crs=UTM)
    units = gpd.GeoDataFrame(
        {"code": ["a", "b"]},
        geometry=[box(0, 0, 150, 200), box(150, 0, 325, 200)],  # boundaries on quarter-cell edges
        crs=UTM,
    )
    w = fractional_unit_weights(units, g, supersample=4).toarray()
    assert w.shape == (8, 3)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w[:4], [[0, 1, 0], [0, 0.5, 0.5], [0, 0, 1], [0.75, 0, 0.25]])
    np.testing.assert_allclose(w[4:], w[:4])
    pop = np.array([[10.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0]])
    plain = fractional_unit_sums(
        pop, fractional_unit_weights(units, g, supersample=4), keep_coastal_cells=False
    )
    np.testing.assert_allclose(plain, [33.0, 11 + 11, 11 + 33 + 11])
    keep = fractional_unit_sums(pop, fractional_unit_weights(units, g, supersample=4))
    np.testing.assert_allclose(keep, [0.0, 22.0, 33 + 11 + 44])  # the part-outside cell stays in b
    assert keep.sum() == pytest.approx(pop.sum()) and plain.sum() == pytest.approx(pop.sum())


def test_fractional_weights_geographic_and_errors():
    g = Grid.from_bounds(105.0, 10.0, 105.05, 10.03, res=(0.01, 0.01), crs="EPSG:4326")
    u = gpd.GeoSeries(
        [box(105.0, 10.0, 105.025, 10.03), box(105.025, 10.0, 105.05, 10.03)], crs="EPSG:4326"
    )
    w = fractional_unit_weights(u, g, supersample=8)
    pop = np.random.default_rng(2).random(g.shape) * 50
    sums = fractional_unit_sums(pop, w)
    assert sums[0] == pytest.approx(0.0, abs=1e-12)
    assert sums[1:].sum() == pytest.approx(pop.sum(), rel=1e-12)
    # the middle column is split half and half
    assert sums[1] == pytest.approx(pop[:, :2].sum() + pop[:, 2].sum() / 2, rel=1e-12)
    with pytest.raises(InputError):
        fractional_unit_weights(u, g, supersample=0)
    with pytest.raises(InputError):
        fractional_unit_sums(np.ones((2, 2)), w)
    with pytest.raises(CRSError):
        fractional_unit_weights(gpd.GeoSeries([box(0, 0, 1, 1)]), g)
