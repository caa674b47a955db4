"""`covgap run` applies a fitted distance slope (issue 19): exact on Hata, reach consistent, P.1812 refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from conftest import make_sites

from covgap.config import CalibrationConfig, ModelConfig, load_calibration
from covgap.errors import ConfigError, InputError
from covgap.grid import Grid
from covgap.models import CalibratedModel, make_model
from covgap.models.calibrated import SLOPE_COLUMN, SLOPE_REFERENCE_COLUMN
from covgap.models.hata import HataModel
from covgap.models.terrain import TerrainModel

#: A 30 x 30 km projected grid (UTM 48N, 100 m cells): distances are plain Euclidean.
GRID = Grid(crs="EPSG:32648", transform=Affine(100.0, 0.0, 500_000.0, 0.0, -100.0, 2_400_000.0), shape=(300, 300))


def _sites(*rows):
    """Omni sites at (x, y) metres of GRID: (site_id, operator, technology, x, y)."""
    out = []
    for sid, op, tech, x, y in rows:
        lon, lat = GRID.to_lonlat(np.array([x]), np.array([y]))
        out.append((sid, op, tech, float(lon[0]), float(lat[0])))
    return make_sites(out)


def _distance_km(sites: pd.DataFrame, k: int) -> np.ndarray:
    """Distance (km) from site row ``k`` to every cell centre of GRID."""
    x, y = GRID.from_lonlat(sites["lon"].to_numpy()[[k]], sites["lat"].to_numpy()[[k]])
    xc, yc = np.meshgrid(GRID.x_centres(), GRID.y_centres())
    return np.hypot(xc - x[0], yc - y[0]) / 1000.0


def _f32_tol(v: np.ndarray) -> np.ndarray:
    """1e-6 dB plus two float32 steps at the value (the signal raster is float32)."""
    return 1e-6 + 2.0 * np.spacing(np.abs(v).astype(np.float32)).astype("f8")


SITES = _sites(("a", "OpA", "4G", 515_050.0, 2_385_050.0), ("b", "OpB", "4G", 508_020.0, 2_392_030.0))


@pytest.mark.parametrize("slope,ref_km", [(-6.0, 1.7), (4.5, 0.8), (9.0, 3.0)])
def test_hata_signal_is_offset_plus_slope_times_log_distance(slope, ref_km):
    base = HataModel()
    cal = CalibratedModel(base, {("OpA", "4G"): 2.5}, slopes={("OpA", "4G"): (slope, ref_km)})
    one = SITES.iloc[[0]].reset_index(drop=True)
    a = base.compute(GRID, one).technologies["4G"].signal_dbm.astype("f8")
    b = cal.compute(GRID, one).technologies["4G"].signal_dbm.astype("f8")
    d = _distance_km(one, 0)
    both = np.isfinite(a) & np.isfinite(b)
    assert both.sum() > 1000
    expect = a + 2.5 + slope * (np.log10(np.maximum(d, 1e-3)) - np.log10(ref_km))
    assert (np.abs(b[both] - expect[both]) <= _f32_tol(expect[both])).all()
    # a few cells by hand: 0.5, 2 and 5 km east of the mast (cell centres on the mast's row)
    r, c0 = 149, 150  # the mast sits on this cell's centre
    for k_cells, d_km in ((5, 0.5), (20, 2.0), (50, 5.0)):
        assert d[r, c0 + k_cells] == pytest.approx(d_km, abs=1e-9)
        want = a[r, c0 + k_cells] + 2.5 + slope * (np.log10(d_km) - np.log10(ref_km))
        assert abs(b[r, c0 + k_cells] - want) <= _f32_tol(np.array([want]))[0]


def test_slope_zero_is_offset_only_exactly():
    off = {("OpA", "4G"): 3.0, ("OpB", "4G"): -1.0}
    a = CalibratedModel(HataModel(), off).compute(GRID, SITES)
    b = CalibratedModel(HataModel(), off, slopes={("OpA", "4G"): (0.0, 2.0), ("OpB", "4G"): (0.0, 1.0)}
                        ).compute(GRID, SITES)
    x, y = a.technologies["4G"], b.technologies["4G"]
    assert np.array_equal(x.signal_dbm, y.signal_dbm, equal_nan=True)
    assert np.array_equal(x.serving_site, y.serving_site) and np.array_equal(x.operator_bits, y.operator_bits)
    assert "slopes" not in b.parameters["calibration"]


@pytest.mark.parametrize("slope", [-8.0, 6.0, 9.0])
def test_disc_follows_the_slope(slope):
    """No cell whose calibrated signal reaches the threshold lies outside the disc, and the disc
    holds no cell below it: the radius is where the calibrated signal meets the threshold."""
    base = HataModel()
    ref_km = 1.0
    one = SITES.iloc[[0]].reset_index(drop=True)
    cal = CalibratedModel(base, {}, slopes={("OpA", "4G"): (slope, ref_km)})
    a = base.compute(GRID, one).technologies["4G"]
    b = cal.compute(GRID, one).technologies["4G"]
    thr = b.threshold_dbm
    d = _distance_km(one, 0)
    reach_a = base.reach_m(GRID, one)[0] / 1000.0
    reach_b = cal.reach_m(GRID, one)[0] / 1000.0
    diag_km = 2.0 * np.hypot(0.1, 0.1)
    grew = reach_b > reach_a if slope > 0 else reach_b < reach_a
    assert grew  # the radius is 3.3 km at slope 0: beyond 1 km a positive slope adds signal
    assert reach_b - diag_km < GRID.shape[0] * 0.1 / 2  # the disc fits the grid
    inside = np.isfinite(b.signal_dbm)
    assert (b.signal_dbm[inside] >= thr - 1e-4).all()  # the disc holds no cell below the threshold
    assert (d[inside] <= reach_b - diag_km + 1e-9).all()
    # every cell whose calibrated signal reaches the threshold is inside b's disc: the calibrated
    # signal everywhere = the uncalibrated law (run with a threshold no cell misses) + the slope term
    full = HataModel(thresholds_dbm={"4G": -200.0}).compute(GRID, one).technologies["4G"].signal_dbm
    assert np.isfinite(full[d < 14.0]).all()
    va = full.astype("f8") + slope * (np.log10(np.maximum(d, 1e-3)) - np.log10(ref_km))
    assert (va >= thr + 1e-4).sum() > 100
    assert (inside | ~(np.isfinite(va) & (va >= thr + 1e-4))).all()
    # and the first cells past b's disc fall below the threshold (monotone in distance)
    ring = (d > reach_b - diag_km) & (d < reach_b - diag_km + 0.3)
    assert ring.any() and not inside[ring].any()


def test_terrain_model_applies_the_slope_too():
    dem = np.full(GRID.shape, 20.0, dtype="f4")  # flat: no diffraction
    base = TerrainModel()
    one = SITES.iloc[[0]].reset_index(drop=True)
    cal = CalibratedModel(base, {("OpA", "4G"): 1.0}, slopes={("OpA", "4G"): (-5.0, 2.0)})
    a = base.compute(GRID, one, dem=dem).technologies["4G"].signal_dbm.astype("f8")
    b = cal.compute(GRID, one, dem=dem).technologies["4G"].signal_dbm.astype("f8")
    d = _distance_km(one, 0)
    both = np.isfinite(a) & np.isfinite(b) & (d > 0.2)
    assert both.sum() > 1000
    expect = a + 1.0 - 5.0 * (np.log10(d) - np.log10(2.0))
    # the terrain kernels read log10 d from a table (error < 3e-4 in log10): 5 dB/decade x 3e-4
    assert np.abs(b[both] - expect[both]).max() < 5.0 * 3e-4 + 1e-4


def test_tiled_equals_untiled_with_slope():
    from covgap.tiling import TiledModel

    m = CalibratedModel(HataModel(), {("OpA", "4G"): 2.0}, slopes={("OpA", "4G"): (9.0, 1.0)})
    x = m.compute(GRID, SITES).technologies["4G"]
    y = TiledModel(m, tile_size=64).compute(GRID, SITES).technologies["4G"]
    assert np.array_equal(x.signal_dbm, y.signal_dbm, equal_nan=True)
    assert np.array_equal(x.serving_site, y.serving_site) and np.array_equal(x.operator_bits, y.operator_bits)


def test_p1812_refuses_slopes_with_the_fix(tmp_path):
    cal = CalibrationConfig(path=tmp_path / "calibration.toml", offsets_db={("Viettel", "4G"): 1.0},
                            model="p1812", slopes={("Viettel", "4G"): (-7.0, 2.0), ("MobiFone", "3G"): (3.0, 1.0)})
    with pytest.raises(ConfigError) as e:
        make_model(ModelConfig(kind="p1812", calibration=cal), has_dem=True)
    msg = str(e.value)
    assert str(tmp_path / "calibration.toml") in msg and "MobiFone 3G, Viettel 4G" in msg and "--no-slope" in msg
    # offsets alone are fine
    ok = CalibrationConfig(path=tmp_path / "calibration.toml", offsets_db={("Viettel", "4G"): 1.0}, model="p1812")
    assert isinstance(make_model(ModelConfig(kind="p1812", calibration=ok), has_dem=True), CalibratedModel)


def test_calibration_file_slopes_read_and_checked(tmp_path):
    p = tmp_path / "c.toml"
    head = '[calibration]\nmodel = "hata"\n[[calibration.group]]\noperator = "A"\ntechnology = "4G"\noffset_db = 1.0\n'
    p.write_text(head + "slope_db_per_decade = -4.0\nreference_distance_km = 2.5\n", encoding="utf-8")
    assert load_calibration(p).slopes == {("A", "4G"): (-4.0, 2.5)}
    p.write_text(head + "slope_db_per_decade = -4.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"#1 \(A 4G\) gives slope_db_per_decade without reference_distance_km"):
        load_calibration(p)
    p.write_text(head + "slope_db_per_decade = 25.0\nreference_distance_km = 2.5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="below 20 dB/decade"):
        load_calibration(p)


def test_sites_columns_checked():
    bad = SITES.assign(**{SLOPE_COLUMN: [3.0, np.nan], SLOPE_REFERENCE_COLUMN: [np.nan, np.nan]})
    with pytest.raises(InputError, match=r"1 sites row\(s\).*reference distance > 0 km"):
        HataModel().compute(GRID, bad)


def test_no_slope_option_fits_offsets_only():
    from covgap.calibration import fit_calibration

    rng = np.random.default_rng(1)
    d = 10 ** rng.uniform(-1.0, 1.0, 200)
    t = pd.DataFrame({"operator": "A", "technology": "4G", "distance_km": d,
                      "residual_db": 2.0 - 6.0 * np.log10(d) + rng.normal(0, 1, 200)})
    assert fit_calibration(t).loc[0, "slope_fitted"]
    g = fit_calibration(t, fit_slope=False).loc[0]
    assert not g.slope_fitted and g.fitted and "--no-slope" in g.note
    assert g.offset_db == fit_calibration(t).loc[0, "offset_db"]  # the offset is the mean residual either way

