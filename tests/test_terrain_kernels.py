"""The terrain kernels' building blocks against their formulas: the tables behind log10 and
J(ν), and the sweep's SIMD row loop against the scalar functions it restates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from covgap import _sweep_kernels as sk
from covgap import _terrain_kernels as tk


def test_log10_table_matches_log10_within_its_stated_error():
    d = np.concatenate([np.linspace(1.0, 2000.0, 20_011), np.geomspace(2000.0, 3e5, 20_000)])
    got = np.array([tk._log10_km(x) for x in d])
    err = np.abs(got - np.log10(d / 1000.0))
    assert err.max() < 3e-4, err.max()
    # exact below LOG_EXACT_BELOW_M and past the table
    for x in (1.0, 7.5, 15.9, tk.LOG_MAX_M + 100.0, 1e6):
        assert tk._log10_km(x) == pytest.approx(math.log10(x / 1000.0), abs=1e-12)


def test_knife_edge_table_matches_p526_within_a_thousandth_of_a_db():
    nu = np.concatenate([np.linspace(0.0, 80.0, 40_001), np.linspace(80.0, 6000.0, 5_001)])
    got = np.array([sk._j_loss(v) for v in nu])
    exact = np.array([tk._knife_edge(v) for v in nu])
    assert np.abs(got - exact).max() < 1e-3
    # grazing incidence: about 6 dB (ITU-R P.526-15 eq. 31 at ν = 0)
    assert sk._j_loss(0.0) == pytest.approx(6.9 + 20 * math.log10(math.sqrt(1.01) - 0.1), abs=1e-9)


def _scratch(rng, n):
    """A row's scratch as the first loop leaves it: distances (some ≤ 0: no receiver, some very
    near the antenna, one past the log table), receivers' slopes (+inf: visible) and obstacles
    (distance < 0: none; some beyond the receiver; some steep and near it, ν past the J table)."""
    D = np.empty((6, n))
    d = rng.uniform(20.0, 30_000.0, n)
    d[rng.random(n) < 0.05] = -1.0
    d[:3] = [3.0, 12.0, 250_000.0]
    s_r = rng.uniform(-0.2, 0.05, n)
    s_r[rng.random(n) < 0.2] = np.inf
    bx = d * rng.uniform(0.05, 1.1, n)
    ex = d * rng.uniform(0.02, 1.1, n)
    bx[rng.random(n) < 0.1] = -1.0
    ex[rng.random(n) < 0.1] = -1.0
    bf = (s_r * d) * (bx / np.maximum(d, 1.0)) + rng.uniform(-50.0, 300.0, n)
    ef = rng.uniform(-100.0, 400.0, n)
    bf = np.where(np.isfinite(bf), bf, rng.uniform(-50.0, 300.0, n))
    steep = rng.random(n) < 0.03  # a cliff just before the receiver
    bx[steep] = d[steep] - 0.5
    bf[steep] = 3000.0
    D[0], D[1], D[2], D[3], D[4], D[5] = bx, bf, ex, ef, s_r, d
    return D


@pytest.mark.parametrize("sector", [False, True])
def test_sweep_row_loop_equals_the_scalar_formulas(sector):
    rng = np.random.default_rng(3)
    n = 4000
    D = _scratch(rng, n)
    cols_dj = np.arange(n) - n / 2.0
    kxi, er, eirp, fa, fb, pa, pb = 30.0, 450.0, 60.0, 120.0, 35.0, 92.4, 20.0
    az, bw, am, tol, outside = 0.7, math.radians(65.0), 20.0, 2.0 / 0.1666, np.nan
    out = np.full(n, -999.0, dtype=np.float32)
    sk._row_signals(out, 0, n - 1, D, cols_dj, kxi, er, eirp, fa, fb, pa, pb, sector, az, bw, am, tol, outside)
    want = np.full(n, np.nan)
    n_big_nu = 0
    for j in range(n):
        d = D[5, j]
        if d <= 0.0:
            continue
        v = tk._base_signal(d, cols_dj[j] * kxi, er, eirp, fa, fb, pa, pb, sector, az, bw, am)
        if D[4, j] < np.inf:
            nu = sk._bullington_nu(D[4, j], d, D[2, j], D[3, j], D[0, j], D[1, j], tol)
            n_big_nu += nu >= sk.J_COARSE_MAX
            v -= sk._j_loss(nu)
        want[j] = v
    assert n_big_nu > 0  # the loop's exact fall-back is exercised
    assert np.array_equal(np.isnan(out), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.abs(out[ok] - want[ok]).max() < 2e-3


def test_los_masks_tell_inside_visible_and_hidden():
    w = np.array([[np.inf, 0.0, np.nan], [-np.inf, -80.0, np.inf]], dtype=np.float32)
    visible, in_radius = tk.los_masks(w)
    assert in_radius.tolist() == [[False, True, True], [False, True, False]]
    assert visible.tolist() == [[False, True, False], [False, True, False]]
