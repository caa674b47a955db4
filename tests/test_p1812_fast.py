"""The fast P.1812 area mode (radials) against the exact per-profile mode, on small made-up DEMs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from affine import Affine

from covgap.config import ModelConfig
from covgap.errors import ConfigError
from covgap.grid import Grid
from covgap.models import make_model
from covgap.models._p1812_batch import profile_quantities
from covgap.models._p1812_fast import QUANTITIES, fast_losses, radial_quantities
from covgap.models.base import compute_coverage
from covgap.models.p1812 import transmission_loss_many
from covgap.models.p1812_area import P1812Model, _bilinear
from covgap.sites import validate_sites

RES = 30.0  # m
S_KM = RES / 1000.0
F_GHZ = 1.8
HTG, HRG = 30.0, 1.5
AE = 6371.0 * 157.0 / (157.0 - 45.0)
AB = 6371.0 * 3.0


def _rough_dem(n: int, *, seed: int, relief_m: float) -> np.ndarray:
    """Fractal terrain (spectrum ~ f^-3.2 in 2-D), whole metres, at least 10 m."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    amp = f ** -1.6
    amp[0, 0] = 0.0
    z = np.fft.irfft2(amp * np.exp(1j * rng.uniform(0, 2 * np.pi, amp.shape)), s=(n, n))
    return np.round((z - z.min()) / (z.max() - z.min()) * relief_m + 10.0)


def _cells(n: int, radius_km: float):
    site = n // 2 + 0.5  # the centre of the middle cell
    rr, cc = np.mgrid[0:n, 0:n]
    dist = np.hypot(rr + 0.5 - site, cc + 0.5 - site) * S_KM
    sel = (dist <= radius_km) & (dist >= 0.25)
    return site, rr[sel], cc[sel], dist[sel]


def _exact_lb(dem, site, rows, cols, dist, p=50.0):
    """Lb of the exact mode's profiles (P1812Model: npts = ceil(d / s) + 1, bilinear on the straight line)."""
    npts = np.maximum(3, np.ceil(dist / S_KM).astype(np.int64) + 1)
    nmax = int(npts.max())
    frac = np.minimum(np.arange(nmax)[None, :] / (npts[:, None] - 1.0), 1.0)
    h = _bilinear(dem, site + frac * (rows + 0.5 - site)[:, None], site + frac * (cols + 0.5 - site)[:, None])
    lb, _ = transmission_loss_many(F_GHZ, p, frac * dist[:, None], h, 0.0, None, np.full(h.shape, 4.0), npts, HTG,
                                   HRG, 2, phi_t=21.0, phi_r=21.0, lam_t=105.0, lam_r=105.0)
    return lb


def _fast_lb(dem, site, rows, cols, dist, *, p=50.0, n_tail=10, radius_km=2.0):
    lb, status = fast_losses(
        dem=dem, clutter=np.zeros_like(dem), zone=np.full(dem.shape, 4.0), row_s=site, col_s=site, dx_m=RES,
        dy_m=RES, step_km=S_KM, rows=rows, cols=cols, dist_km=dist, htg=HTG, hrg=HRG, f_ghz=F_GHZ, p=p, pol=2,
        DN=45.0, N0=325.0, phi_t=21.0, lam_t=105.0, phi_r=np.full(rows.size, 21.0), lam_r=np.full(rows.size, 105.0),
        n_rad=int(math.ceil(2 * math.pi * radius_km / S_KM)), n_tail=n_tail,
    )
    assert (status == 0).all()
    return lb


def test_flat_earth_fast_equals_exact():
    n = 141
    dem = np.full((n, n), 120.0)
    site, rows, cols, dist = _cells(n, 2.0)
    fast = _fast_lb(dem, site, rows, cols, dist)
    exact = _exact_lb(dem, site, rows, cols, dist)
    assert np.max(np.abs(fast - exact)) < 1e-6


@pytest.mark.parametrize("p", [50.0, 10.0])
def test_whole_receiver_profile_is_the_exact_profile(p):
    """With receiver_points covering every profile point, the fast mode's profile is the exact one."""
    n = 101
    dem = _rough_dem(n, seed=3, relief_m=150.0)
    site, rows, cols, dist = _cells(n, 1.4)
    fast = _fast_lb(dem, site, rows, cols, dist, p=p, n_tail=10_000, radius_km=1.4)
    exact = _exact_lb(dem, site, rows, cols, dist, p=p)
    assert np.max(np.abs(fast - exact)) < 1e-9


def test_radial_reductions_equal_the_exact_reductions_of_the_same_profile():
    """The carried quantities (running maxima, prefix sums, hull queries, scans) reproduce
    profile_quantities on the profile the fast mode uses: the radial's samples, then the
    receiver's own last point and the receiver."""
    n = 121
    dem = _rough_dem(n, seed=5, relief_m=200.0)
    site, rows, cols, dist = _cells(n, 1.7)
    n_rad = int(math.ceil(2 * math.pi * 1.7 / S_KM))
    q, status = radial_quantities(dem=dem, clutter=np.zeros_like(dem), zone=np.full(dem.shape, 4.0), row_s=site,
                                  col_s=site, dx_m=RES, dy_m=RES, step_km=S_KM, rows=rows, cols=cols, dist_km=dist,
                                  htg=HTG, hrg=HRG, f_ghz=F_GHZ, ae=AE, ab=AB, with_beta=True, n_rad=n_rad, n_tail=1)
    assert (status == 0).all()
    # rebuild each cell's profile: radial j = round(azimuth / spacing), samples k s, k <= n1
    ang = np.arctan2(rows + 0.5 - site, cols + 0.5 - site) % (2 * np.pi)
    a = np.rint(ang / (2 * np.pi / n_rad)) % n_rad * (2 * np.pi / n_rad)
    npts = np.maximum(3, np.ceil(dist / S_KM).astype(np.int64) + 1)
    k_t = npts - 2  # the receiver's own last inner point (n_tail = 1)
    d_t = (k_t / (npts - 1.0)) * dist
    n1 = np.where(k_t <= 1, 0, np.floor(d_t / S_KM - 0.5).astype(np.int64))
    m, width = rows.size, int(n1.max()) + 3
    d = np.zeros((m, width))
    h = np.zeros((m, width))
    for i in range(m):
        k = np.arange(n1[i] + 1)
        d[i, : k.size] = k * S_KM
        h[i, : k.size] = _bilinear(dem, site + k * S_KM * np.sin(a[i]) / S_KM, site + k * S_KM * np.cos(a[i]) / S_KM)
        frac = k_t[i] / (npts[i] - 1.0)
        d[i, k.size] = d_t[i]
        h[i, k.size] = _bilinear(dem, np.array([site + frac * (rows[i] + 0.5 - site)]),
                                 np.array([site + frac * (cols[i] + 0.5 - site)]))[0]
        d[i, k.size + 1] = dist[i]
        h[i, k.size + 1] = dem[rows[i], cols[i]]
    qe = profile_quantities(d=d, h=h, R=np.zeros_like(h), zone=np.full(h.shape, 4.0), npts=n1 + 3, htg=HTG, hrg=HRG,
                            f=F_GHZ, DN=45.0, with_beta=True)
    for key in QUANTITIES:
        if key.endswith("_numax"):
            continue  # compared through the loss below (used only on line-of-sight rows)
        if "_" in key and key.split("_")[0] in ("a50", "s50", "ab", "sb"):
            b, w = key.split("_")
            ref = qe["bull"][b][("stim", "srim").index(w)]
        else:
            ref = qe[key]
        np.testing.assert_allclose(q[key], ref, rtol=1e-9, atol=1e-9, err_msg=key)


def _site_grid(n: int):
    x0, y_top = 500_000.0, 2_400_000.0
    grid = Grid(crs="EPSG:32648", transform=Affine(RES, 0.0, x0, 0.0, -RES, y_top), shape=(n, n))
    c = n // 2
    lon, lat = grid.to_lonlat(np.array([x0 + (c + 0.5) * RES]), np.array([y_top - (c + 0.5) * RES]))
    sites = validate_sites(pd.DataFrame({"site_id": ["s"], "operator": ["A"], "technology": ["4G"], "lon": lon,
                                         "lat": lat, "antenna_height_m": [HTG]}))[0]
    return grid, sites


def _both(dem, grid, sites, radius_km, **kw):
    out = {}
    for method in ("fast", "exact"):
        model = P1812Model(max_radius_km=radius_km, method=method, **kw)
        out[method] = compute_coverage(grid, sites, model, dem=dem)
    return out["fast"], out["exact"]


def test_single_ridge_fast_close_to_exact():
    n = 121
    dem = np.full((n, n), 100.0)
    dem[:, n // 2 + 12 : n // 2 + 14] = 260.0  # a north-south ridge 360 m east of the site
    grid, sites = _site_grid(n)
    fast, exact = _both(dem, grid, sites, 1.7, recheck_margin_db=0.0)
    a, b = fast.technologies["4G"].signal_dbm, exact.technologies["4G"].signal_dbm
    ok = np.isfinite(b)
    diff = np.abs(a - b)[ok]
    behind = ok[:, n // 2 + 20]
    assert np.isfinite(a[ok]).all()
    assert np.mean(diff <= 0.5) >= 0.97
    assert np.mean(diff <= 1.0) >= 0.99
    # behind the ridge both are deep in its shadow, alike
    assert np.all((b[:, n // 2 + 20] < b[:, n // 2 - 20] - 10.0)[behind])
    assert np.all((a[:, n // 2 + 20] < a[:, n // 2 - 20] - 10.0)[behind])


def test_rough_dem_within_one_db_and_exact_near_the_threshold():
    n = 141
    dem = _rough_dem(n, seed=11, relief_m=250.0)
    grid, sites = _site_grid(n)
    raw, exact = _both(dem, grid, sites, 2.0, recheck_margin_db=0.0)
    a, b = raw.technologies["4G"].signal_dbm, exact.technologies["4G"].signal_dbm
    ok = np.isfinite(b)
    assert np.isfinite(a[ok]).all()
    assert np.mean(np.abs(a - b)[ok] <= 1.0) >= 0.95
    # with the default re-evaluation band, every cell near the coverage level is the exact value
    model = P1812Model(max_radius_km=2.0)
    cov = compute_coverage(grid, sites, model, dem=dem)
    tc, te = cov.technologies["4G"], exact.technologies["4G"]
    level = tc.threshold_dbm  # location_percent 50: the coverage level is the threshold
    near = ok & (np.abs(tc.signal_dbm - level) <= model.recheck_margin_db)
    assert near.sum() > 100
    np.testing.assert_allclose(tc.signal_dbm[near], te.signal_dbm[near], rtol=0, atol=1e-4)  # float32 rasters
    # (the band is decided on the fast value; a re-evaluated cell may leave it)
    assert cov.parameters["cells_rechecked_exact"] >= int(near.sum())
    # coverage differs only where the fast error exceeds the band (a few outliers), on < 0.5 % of cells
    differ = ok & (tc.covered != te.covered)
    assert differ.sum() <= 0.005 * ok.sum()
    assert np.all(np.abs(tc.signal_dbm - te.signal_dbm)[differ] > model.recheck_margin_db)


@pytest.mark.parametrize("p", [50.0, 10.0])
def test_losses_do_not_depend_on_chunks_or_threads(p):
    """loss_from_quantities runs on chunks over threads: every equation is per cell, so the values are
    bit for bit those of one chunk on one thread."""
    n = 121
    dem = _rough_dem(n, seed=5, relief_m=300.0)
    site, rows, cols, dist = _cells(n, 1.7)
    kw = dict(dem=dem, clutter=np.zeros_like(dem), zone=np.full(dem.shape, 4.0), row_s=site, col_s=site, dx_m=RES,
              dy_m=RES, step_km=S_KM, rows=rows, cols=cols, dist_km=dist, htg=HTG, hrg=HRG, f_ghz=F_GHZ, p=p, pol=2,
              DN=45.0, N0=325.0, phi_t=21.0, lam_t=105.0, phi_r=np.full(rows.size, 21.0),
              lam_r=np.full(rows.size, 105.0), n_rad=int(math.ceil(2 * math.pi * 1.7 / S_KM)), n_tail=10)
    one, st1 = fast_losses(**kw, chunk=10**9, threads=1)
    many, st2 = fast_losses(**kw, chunk=1000, threads=3)
    assert rows.size > 8000  # several chunks of 1000 cells
    assert (st1 == 0).all() and (st2 == 0).all()
    assert np.array_equal(one, many)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857"])
def test_cells_evaluated_are_the_great_circle_disc(crs):
    """The cells computed on are those within max_radius_km on the sphere, on a geographic grid and on one
    whose units are not ground metres (Web Mercator at 21° N: 1 grid m = 0.93 m), where the model falls
    back to the whole window."""
    from covgap.models.p1812_area import _haversine_km

    lon0, lat0 = 105.0, 21.0
    if crs == "EPSG:4326":
        res = 3.0 / 3600.0
        grid = Grid.from_bounds(lon0 - 60 * res, lat0 - 60 * res, lon0 + 60 * res, lat0 + 60 * res,
                                res=(res, res), crs=crs)
    else:
        x0, y0 = 11688546.53, 2391878.59  # 105° E, 21° N in Web Mercator
        grid = Grid.from_bounds(x0 - 3000, y0 - 3000, x0 + 3000, y0 + 3000, res=(50.0, 50.0), crs=crs)
    dem = np.full(grid.shape, 50.0)
    sites = validate_sites(pd.DataFrame({"site_id": ["s"], "operator": ["A"], "technology": ["4G"],
                                         "lon": [lon0], "lat": [lat0], "antenna_height_m": [30.0],
                                         "azimuth_deg": [60.0]}))[0]
    model = P1812Model(max_radius_km=2.5)
    cov = compute_coverage(grid, sites, model, dem=dem)
    lon_c, lat_c = grid.lonlat_centres()
    want = _haversine_km(lat0, lon0, np.asarray(lat_c), np.asarray(lon_c)) <= 2.5
    got = np.isfinite(cov.technologies["4G"].signal_dbm)
    # the window computed on is max_radius_km in grid units around the site (on Web Mercator that is
    # 0.93 x 2.5 km on the ground): compare inside it; outside it nothing is computed
    (xs,), (ys,) = grid.from_lonlat(np.array([lon0]), np.array([lat0]))
    col_s, row_s = (xs - grid.transform.c) / grid.transform.a, (ys - grid.transform.f) / grid.transform.e
    rr, cc = np.mgrid[0:grid.ny, 0:grid.nx]
    half = 0.95 * 2500.0 / model._cell_size_m(grid, lat0)[1]
    inner = (np.abs(rr + 0.5 - row_s) <= half) & (np.abs(cc + 0.5 - col_s) <= half)
    assert np.array_equal(got[inner], want[inner])
    assert not (got & ~want).any()
    assert cov.parameters["cells_evaluated"] == int(got.sum()) > 2000


def test_pruned_smooth_nu_scan_is_the_full_scan():
    """The smooth-profile νmax skips blocks whose bound is below the best value: same value as a full scan."""
    import numba as nb

    from covgap.models._p1812_reductions import _nu, _numax_smooth

    @nb.njit
    def full(dk, n1, td, nt, D, htc, hrc, ap, lam):
        best = -np.inf
        for k in range(1, n1 + 1):
            d = dk[k]
            best = max(best, _nu(500.0 * d * (D - d) / ap, d, D, htc, hrc, lam))
        for t in range(nt):
            d = td[t]
            best = max(best, _nu(500.0 * d * (D - d) / ap, d, D, htc, hrc, lam))
        return best

    rng = np.random.default_rng(4)
    for _ in range(400):
        s = rng.choice([0.03, 0.09])
        D = rng.uniform(0.3, 25.0)
        n1 = int(rng.integers(0, max(int(D / s) - 1, 1)))
        nt = int(min(rng.integers(0, 40), max(int(D / s) - n1 - 1, 0)))
        dk = np.arange(n1 + 1) * s
        td = np.sort(rng.uniform(n1 * s + 1e-3, D - 1e-3, nt))
        htc, hrc = rng.uniform(0.5, 300.0, 2)
        ap = rng.choice([AE, AB])
        lam = 0.2998 / rng.uniform(0.03, 6.0)
        assert _numax_smooth(dk, n1, td, nt, D, htc, hrc, ap, lam) == full(dk, n1, td, nt, D, htc, hrc, ap, lam)


def test_dem_nodata_leaves_the_same_cells_unknown_as_the_exact_mode():
    n = 121
    dem = _rough_dem(n, seed=4, relief_m=200.0)
    dem[20:30, 80:95] = np.nan  # a nodata block north-east of the site
    grid, sites = _site_grid(n)
    fast, exact = _both(dem, grid, sites, 1.7)
    a, b = fast.technologies["4G"].signal_dbm, exact.technologies["4G"].signal_dbm
    assert fast.parameters["cells_with_unknown_terrain"] == exact.parameters["cells_with_unknown_terrain"] > 0
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))


def test_more_power_never_covers_fewer_cells():
    n = 121
    dem = _rough_dem(n, seed=2, relief_m=300.0)
    grid, sites = _site_grid(n)
    prev = None
    for eirp in (10.0, 20.0, 25.0, 30.0, 40.0):
        model = P1812Model(max_radius_km=1.7, recheck_margin_db=1.0, link_budgets={"4G": {"eirp_dbm": eirp}})
        cov = compute_coverage(grid, sites, model, dem=dem).technologies["4G"].covered
        if prev is not None:
            assert not np.any(prev & ~cov)
            assert cov.sum() >= prev.sum()
        prev = cov
    assert prev.any()


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [("method", "fastest", "'fast' or 'exact'"), ("recheck_margin_db", -1.0, ">= 0"),
     ("radial_spacing_cells", 0, "> 0"), ("receiver_points", 0, "integer >= 1")],
)
def test_p1812_options_checked_with_a_clear_error(key, value, says):
    with pytest.raises(ConfigError) as err:
        make_model(ModelConfig(kind="p1812", options={"p1812": {key: value}}), has_dem=True)
    assert key in str(err.value) and says in str(err.value)


def test_method_choice_reaches_the_parameters():
    assert P1812Model().parameters()["p1812_method"] == "fast"
    exact = make_model(ModelConfig(kind="p1812", options={"p1812": {"method": "exact"}}), has_dem=True)
    assert exact.parameters()["p1812_method"] == "exact"
    assert exact.parameters()["mode"].startswith("exact")


@pytest.mark.parametrize(("line", "says"), [('method = "fastest"', "'fast' or 'exact'"),
                                            ("method = 1", "text in quotes"),
                                            ("receiver_points = 2.5", "a whole number")])
def test_config_file_p1812_method_errors(demo_run, tmp_path, line, says):
    """A wrong ``[model.p1812]`` method or option in the config file is a ConfigError that names it."""
    import re
    import shutil

    from covgap.config import load_config

    _, out = demo_run
    shutil.copytree(out / "inputs", tmp_path / "inputs")
    text = (out / "covgap.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^kind = "[a-z]+"', 'kind = "p1812"', text, count=1)
    text = re.sub(r"(?m)^\[gaps\]", f"[model.p1812]\n{line}\n\n[gaps]", text, count=1)
    (tmp_path / "covgap.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        make_model(load_config(tmp_path / "covgap.toml").model, has_dem=True)
    assert line.split(" =")[0] in str(err.value) and says in str(err.value)
