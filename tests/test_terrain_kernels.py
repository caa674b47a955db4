"""The terrain kernels' building blocks against their formulas: the tables behind log10 and
J(ν), and the sweep's SIMD row loop against the scalar functions it restates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from covgap.models import _sweep_kernels as sk
from covgap.models import _sweep_obstacles as so
from covgap.models import _terrain_kernels as tk


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
    got = np.array([so._j_loss(v) for v in nu])
    exact = np.array([tk._knife_edge(v) for v in nu])
    assert np.abs(got - exact).max() < 1e-3
    # grazing incidence: about 6 dB (ITU-R P.526-15 eq. 31 at ν = 0)
    assert so._j_loss(0.0) == pytest.approx(6.9 + 20 * math.log10(math.sqrt(1.01) - 0.1), abs=1e-9)


@pytest.mark.parametrize("name", ["J", "LOG"])
def test_packed_tables_interpolate_as_the_tables_do(name):
    """One int64 per interval (value and step in fixed point) gives the same linear
    interpolation as the float table, to 2**-bits per entry."""
    table, packed, bits, offset = {
        "J": (so.J_TABLE, so.J_PACKED, so.J_PACKED_BITS, 0.0),
        "LOG": (tk.LOG10_KM, so.LOG_PACKED, so.LOG_PACKED_BITS, so.LOG_PACKED_OFFSET)}[name]
    assert packed.dtype == np.int64 and packed.shape[0] == table.shape[0] - 1
    rng = np.random.default_rng(0)
    q = rng.integers(0, packed.shape[0], 50_000)
    f = rng.random(q.shape[0])
    f[:3] = [0.0, 1.0, 0.5]
    want = table[q] + f * (table[q + 1] - table[q])
    got = np.array([so._packed_lerp(p, x, bits) for p, x in zip(packed[q], f, strict=True)]) - offset
    assert np.abs(got - want).max() <= 2.0 ** -bits
    with pytest.raises(ValueError, match="packed range"):
        so.packed_table(np.array([0.0, -1.0]), 0.0, 20)


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
            nu = so._bullington_nu(D[4, j], d, D[2, j], D[3, j], D[0, j], D[1, j], tol)
            n_big_nu += nu >= so.J_COARSE_MAX
            v -= so._j_loss(nu)
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


def _window_call(dem, out, mode, row_f, col_f, outside):
    kx = np.full(out.shape[0], 30.0)
    return sk.sweep_window(dem, out, 0, 0, kx, 30.0, row_f, col_f, float(dem[int(row_f), int(col_f)]) + 25.0, 1.5,
                           1.0 / (2 * 4.0 / 3.0 * 6_371_000.0), 1_400.0, 2.0 / 0.1666, mode, 60.0, 120.0, 35.0,
                           92.4, 20.0, False, 0.0, 1.0, 20.0, outside)


@pytest.mark.parametrize("seed", [0, 1])
def test_steep_cells_simd_loop_sees_what_the_scalar_loop_sees(seed):
    """Line of sight (mode 0) takes the steep cells through the SIMD loop (_steep_cells);
    mode 2 (signal where visible) still takes them through the scalar loop of _sweep_row: both
    must see exactly the same cells and count the same nodata."""
    from naive import fractal_dem

    dem = fractal_dem((101, 101), seed=seed, relief_m=150.0)
    dem[70:73, 20:24] = np.nan  # a hole: never blocks, counted
    row_f, col_f = 50.3, 49.8
    los = np.empty(dem.shape, np.float32)
    sig = np.empty(dem.shape, np.float32)
    nod0, z0 = _window_call(dem, los, 0, row_f, col_f, np.inf)
    nod2, z2 = _window_call(dem, sig, 2, row_f, col_f, np.inf)
    inside = ~np.isinf(los)
    assert inside.sum() > 5000 and np.array_equal(inside, ~np.isinf(sig))
    visible = los == 0.0
    assert 0.05 < visible[inside].mean() < 0.95  # rough terrain: both visible and hidden cells
    assert np.array_equal(visible, np.isfinite(sig))
    assert nod0 == nod2 == 12 and z0 == z2 == 0  # no cell below sk.DEM_MIN_M
    dem[30, 60] = dem[50, 52] = -32768.0  # unmasked nodata: a steep and a shallow cell, counted
    for mode in (0, 1, 2):
        assert _window_call(dem, sig, mode, row_f, col_f, np.inf)[1] == 2


def test_steep_cells_arrays_are_marked_noalias():
    """The SIMD loop needs LLVM to know its arrays never overlap (numba's private ``noalias``
    flag, switched on by ``_sweep_kernels._noalias_option``): without it the loop silently runs
    scalar, a third slower."""
    if not so._NOALIAS:
        pytest.skip("this numba has no target option mapping for 'noalias' (the kernel is correct, only slower)")
    import numba as nb

    assert sk._steep_cells.targetoptions.get("_noalias") is True

    def add(a, b):
        for i in range(a.shape[0]):
            a[i] += b[i]

    def noalias_args(**opts) -> int:
        f = nb.njit(**opts)(add)
        f(np.zeros(3), np.ones(3))
        ir = next(iter(f.inspect_llvm().values()))
        return ir.split("define", 2)[1].split("\n", 1)[0].count("noalias")

    # numba marks its own return and exception pointers noalias; the option adds the arrays'
    assert noalias_args(_noalias=True) >= noalias_args() + 2
