"""Area prediction with ITU-R P.1812 (exact per-profile mode) on tiny made-up DEMs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine
from conftest import make_sites

from covgap.config import ModelConfig
from covgap.errors import ConfigError, InputError
from covgap.grid import Grid
from covgap.models import make_model
from covgap.models.base import compute_coverage
from covgap.models.p1812 import transmission_loss
from covgap.models.p1812_area import P1812Model

RES_DEG = 0.001  # about 100 m
WEST, NORTH = 105.0, 21.05
N = 41  # 41 x 41 cells, site in the centre cell


def _grid() -> Grid:
    return Grid(crs="EPSG:4326", transform=Affine(RES_DEG, 0.0, WEST, 0.0, -RES_DEG, NORTH), shape=(N, N))


def _site(grid: Grid):
    lon = float(grid.x_centres()[N // 2])
    lat = float(grid.y_centres()[N // 2])
    return make_sites([("s1", "OpA", "4G", lon, lat)]), lon, lat


def _model(**kw) -> P1812Model:
    return P1812Model(max_radius_km=2.0, **kw)


def test_flat_ground_matches_one_path_and_falls_with_distance():
    grid = _grid()
    sites, lon, lat = _site(grid)
    dem = np.full(grid.shape, 100.0)
    cov = compute_coverage(grid, sites, _model(), dem=dem)
    sig = cov.technologies["4G"].signal_dbm
    # east along the site's row: farther cells get less signal
    row = sig[N // 2, N // 2 + 3 : N // 2 + 19]
    assert np.all(np.diff(row) < 0)
    # one cell by hand: the same profile through transmission_loss
    c = N // 2 + 10
    lon_c = float(grid.x_centres()[c])
    p1, p2 = math.radians(lat), math.radians(lat)
    a = math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon_c - lon) / 2) ** 2
    dist_km = 2 * 6371.0 * math.asin(math.sqrt(a))
    step_km = RES_DEG * math.radians(1.0) * 6371.0 * math.cos(math.radians(lat))  # dx is the smaller side
    n = int(math.ceil(dist_km / step_km)) + 1
    d = np.linspace(0.0, dist_km, n)
    lb, _ = transmission_loss(1.8, 50, d, np.full(n, 100.0), np.zeros(n), np.full(n, 2), np.full(n, 4),
                              sites["antenna_height_m"].iloc[0], 1.5, 2, phi_t=lat, phi_r=lat, lam_t=lon,
                              lam_r=lon_c)
    assert sig[N // 2, c] == pytest.approx(29.0 - lb, abs=1e-3)  # 4G default e.i.r.p. 29 dBm
    assert cov.parameters["method"].startswith("ITU-R P.1812-6")
    assert "open/rural" in cov.parameters["land_cover"]
    # outside the radius nothing is computed
    assert np.isnan(sig[0, 0])


def test_ridge_shadows_the_cells_behind_it():
    grid = _grid()
    sites, _, _ = _site(grid)
    dem = np.full(grid.shape, 100.0)
    dem[:, N // 2 + 5] = 300.0  # a north-south wall 500 m east of the site
    sig = compute_coverage(grid, sites, _model(), dem=dem).technologies["4G"].signal_dbm
    east = sig[N // 2, N // 2 + 12]
    west = sig[N // 2, N // 2 - 12]
    assert west - east > 15.0


@pytest.mark.parametrize("method", ["exact", "fast"])
def test_location_percentage_lowers_signal_and_coverage(method):
    grid = _grid()
    sites, _, _ = _site(grid)
    rng = np.random.default_rng(3)
    dem = 100.0 + rng.uniform(0.0, 30.0, grid.shape)
    c50 = compute_coverage(grid, sites, _model(thresholds_dbm={"4G": -80.0}, method=method), dem=dem)
    c90 = compute_coverage(grid, sites, _model(thresholds_dbm={"4G": -80.0}, location_percent=90, method=method),
                           dem=dem)
    s50 = c50.technologies["4G"].signal_dbm
    s90 = c90.technologies["4G"].signal_dbm
    far = np.isfinite(s50)
    if method == "exact":
        # (the fast mode re-evaluates the cells near each coverage level exactly, so its signal
        # raster depends slightly on the level; its coverage still shrinks)
        assert np.all(s90[far] <= s50[far])
    assert c90.covered("4G").sum() < c50.covered("4G").sum()


def test_registry_and_options():
    m = make_model(ModelConfig(kind="p1812", options={"p1812": {"location_percent": 90}}), has_dem=True)
    assert isinstance(m, P1812Model) and m.location_percent == 90
    with pytest.raises(ConfigError, match="needs a DEM"):
        make_model(ModelConfig(kind="p1812"), has_dem=False)
    with pytest.raises(ConfigError, match="unknown key"):
        make_model(ModelConfig(kind="p1812", options={"p1812": {"pL": 90}}), has_dem=True)
    with pytest.raises(ConfigError, match="location_percent"):
        P1812Model(location_percent=100)


def test_frequency_outside_the_recommendation_is_an_error():
    grid = _grid()
    sites, _, _ = _site(grid)
    model = _model(link_budgets={"4G": {"frequency_mhz": 28000.0}})
    with pytest.raises(InputError, match="30-6000 MHz"):
        compute_coverage(grid, sites, model, dem=np.full(grid.shape, 100.0))


def test_config_file_selects_p1812(demo_run, tmp_path):
    """``[model] kind = "p1812"`` with a ``[model.p1812]`` table reaches the model."""
    import re
    import shutil

    from covgap.config import load_config

    _, out = demo_run
    shutil.copytree(out / "inputs", tmp_path / "inputs")
    text = (out / "covgap.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^kind = "[a-z]+"', 'kind = "p1812"', text, count=1)
    text = re.sub(r"(?m)^\[gaps\]", "[model.p1812]\nlocation_percent = 90\nmax_radius_km = 5.0\n\n[gaps]", text, count=1)
    (tmp_path / "covgap.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "covgap.toml")
    assert cfg.model.kind == "p1812"
    model = make_model(cfg.model, has_dem=True)
    assert isinstance(model, P1812Model)
    assert (model.location_percent, model.max_radius_km) == (90, 5.0)
