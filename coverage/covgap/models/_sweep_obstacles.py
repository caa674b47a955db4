"""Private numba pieces of the terrain sweep (:mod:`._sweep_kernels`): compiler options, the tables
it reads (J(ν), log10 of the distance, packed for SIMD look-ups) and the small inline functions
that choose and blend the diffraction obstacles carried from cell to cell. Pure: numbers in,
numbers out. Why each choice is continuous: :mod:`._sweep_kernels` and docs/design.md, "Terrain
sweep: the jump at cell centres"."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba.core import cpu as _nb_cpu
from numba.core import options as _nb_options

from ._terrain_kernels import LOG10_KM, _knife_edge

#: LLVM fast-math flags: contraction to FMA, approximate reciprocals and functions; NaN and
#: infinity semantics are kept (nodata and "nothing in the way" rely on them).
_FM = {"contract", "arcp", "afn"}


def _noalias_option() -> dict:
    """``{"_noalias": True}`` where this numba can mark array arguments ``noalias``, else ``{}``.

    Numba has the flag (``Flags.noalias``: LLVM's ``noalias`` on every pointer argument) but no
    decorator option for it; this adds the option's mapping to numba's CPU target options. Only
    for kernels whose array arguments never overlap (:func:`_steep_cells`): it lets LLVM
    vectorise loops that gather from one array and store to another, which it otherwise
    refuses ("cannot identify array bounds"). Without it (another numba) the kernel is the
    same, only scalar."""
    opts = getattr(_nb_cpu, "CPUTargetOptions", None)
    if opts is None or not hasattr(_nb_options.TargetOptions, "Mapping"):
        return {}
    if not hasattr(opts, "_noalias"):
        opts._noalias = _nb_options.TargetOptions.Mapping("noalias")
    try:  # check that the option reaches the flag (no compilation)
        from numba.core.compiler import Flags

        ok = opts.parse_as_flags(Flags(), {"_noalias": True}).noalias is True
    except Exception:  # another numba: do without
        ok = False
    return {"_noalias": True} if ok else {}


_NOALIAS = _noalias_option()

#: Height (m) above the transmitter's ground from which the diffraction obstacles are chosen
#: (a typical mast). The choice must not depend on the antenna height, so that raising an
#: antenna never lowers a signal; for a 30 m mast it is the antenna's own horizon.
REFERENCE_MAST_M = 30.0
#: :func:`_back_blend`: the slope by which one neighbour's back-horizon obstacle must be the
#: steeper to be taken whole (0.01 mrad; at a tie the two are interpolated), and the factor R by which a neighbour's weight
#: is raised towards full say (full from a weight of 1/R): the blend's slope in the crossing's
#: fraction is at most R (a site moved by 1 mm moves the fraction by 3e-5 of a 30 m cell).
BACK_BAND = 1e-5
BACK_EDGE_FACTOR = 100.0
#: Half-width (slope) of the band around a tie in which :func:`_soft_pick` blends two obstacles
#: instead of taking the steeper (0.01 mrad: wide enough that a site moved by 1 mm moves a
#: weight by about 1 %, narrow enough to leave the choice alone elsewhere; 0.5 mrad changed
#: the footprint of a 20 km site by more than 0.5 dB on 40 % of its cells).
SOFT_BAND = 1e-5
#: Distance (m) from the antenna at which its foot (the transmitter cell's ground) stands in
#: as the horizon and the obstacle of the cells next to the transmitter.
FOOT_M = 1.0
#: Margin (cells) beyond the radius whose horizons are kept, so that every cell inside the
#: radius interpolates between computed neighbours.
MARGIN_CELLS = 2.0
#: Tables of J(ν) (ITU-R P.526 eq. 31), linear interpolation: 0 ≤ ν < J_FINE_MAX at
#: 1/J_FINE_STEPS steps, then up to J_COARSE_MAX at unit steps (error < 0.001 dB); exact beyond.
J_FINE_MAX = 64
J_FINE_STEPS = 32
J_COARSE_MAX = 4096


def knife_edge_table() -> np.ndarray:
    """J(ν) at ν = q / J_FINE_STEPS for q < J_FINE_MAX · J_FINE_STEPS, then at ν = J_FINE_MAX,
    J_FINE_MAX + 1, … J_COARSE_MAX + 1 (one array, fine part first)."""
    fine = np.arange(J_FINE_MAX * J_FINE_STEPS, dtype=np.float64) / J_FINE_STEPS
    coarse = np.arange(J_FINE_MAX, J_COARSE_MAX + 2, dtype=np.float64)
    nu = np.concatenate([fine, coarse])
    x = nu - 0.1
    return 6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x)


#: A module constant, frozen into the kernels (see :data:`covgap.models._terrain_kernels.LOG10_KM`).
J_TABLE = knife_edge_table()
#: Last valid interpolation position in J_TABLE.
J_TABLE_LAST = float(J_TABLE.shape[0] - 2)


def packed_table(table: np.ndarray, offset: float, bits: int) -> np.ndarray:
    """A table of linear interpolation, one int64 per interval: entry q holds ``table[q]`` and
    the step to ``table[q + 1]`` in fixed point (units of 2**-bits, ``offset`` added to keep
    them positive), ``(value << 32) | step``. The SIMD loop of :func:`_row_signals` then
    gathers one number per look-up instead of two. Exact to 2**-bits per entry."""
    v = np.round((np.asarray(table, dtype=np.float64) + offset) * 2.0 ** bits).astype(np.int64)
    step = np.diff(v)
    if v.min() < 0 or v.max() >= 2 ** 31 or step.min() < 0 or step.max() >= 2 ** 32:
        raise ValueError("table out of the packed range: change offset or bits")
    return (v[:-1] << 32) | step


#: J_TABLE packed (2**-20 dB ≈ 1e-6 dB) and LOG10_KM packed (2**-24 ≈ 6e-8, offset +4), for
#: :func:`_row_signals`; module constants like the tables themselves.
J_PACKED_BITS = 20
J_PACKED = packed_table(J_TABLE, 0.0, J_PACKED_BITS)
LOG_PACKED_BITS = 24
LOG_PACKED_OFFSET = 4.0
LOG_PACKED = packed_table(LOG10_KM, LOG_PACKED_OFFSET, LOG_PACKED_BITS)


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _packed_lerp(p, f, bits):
    """The value a fraction ``f`` into the interval packed in ``p`` (see :func:`packed_table`),
    before the offset is taken off."""
    return ((p >> 32) + f * (p & 0xFFFFFFFF)) * (2.0 ** -bits)


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _j_loss(nu):
    """J(ν) for ν ≥ 0 from the tables (exact past them)."""
    if nu < J_FINE_MAX:
        x = nu * J_FINE_STEPS
        q = int(x)
    elif nu < J_COARSE_MAX:
        x = nu + (J_FINE_MAX * J_FINE_STEPS - J_FINE_MAX)
        q = int(x)
    else:
        return _knife_edge(nu)
    f = x - q
    return J_TABLE[q] + f * (J_TABLE[q + 1] - J_TABLE[q])


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _lerp(s_a, s_b, f):
    """Horizon slope a fraction ``f`` of the way from a to b; a horizon of −inf (nothing in the
    way: the transmitter's own cell) takes the other one."""
    if s_a == -np.inf:
        return s_b
    if s_b == -np.inf:
        return s_a
    return s_a + f * (s_b - s_a)


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _lerp_point(x_a, h_a, x_b, h_b, f):
    """Obstacle (distance, frame height) a fraction ``f`` of the way from a to b; a missing one
    (distance < 0) takes the other."""
    if x_a < 0.0:
        return x_b, h_b
    if x_b < 0.0:
        return x_a, h_a
    return x_a + f * (x_b - x_a), h_a + f * (h_b - h_a)


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _back_weight(n, p, f):
    """Weight of neighbour b in :func:`_back_blend`: ``clamp(f + Δ / BACK_BAND)`` (Δ = ``n / p``
    the slope by which b is the steeper: at a tie the interpolation), held within
    ``[1 − (1 − f) R, f R]`` (R = :data:`BACK_EDGE_FACTOR`): b has no say at weight ``f = 0``,
    a none at ``f = 1``."""
    raw = min(max(f + n / (p * BACK_BAND), 0.0), 1.0)
    return min(max(raw, 1.0 - (1.0 - f) * BACK_EDGE_FACTOR), f * BACK_EDGE_FACTOR)


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _back_blend(ax, af, bx, bf, f, gv, d):
    """Back-horizon obstacle (distance, frame height) of a cell at distance ``d`` whose ground
    is at frame height ``gv``, from its two neighbours' ones, a at weight ``1 − f`` and b at
    ``f`` (distance ≤ 0: none; a missing one takes the other).

    The one seen at the steeper angle from the ground, except within :data:`BACK_BAND` of a tie
    (interpolated at a tie) or where the crossing lies within 1/R of a neighbour's centre
    (R = :data:`BACK_EDGE_FACTOR`): there a point between the two (:func:`_back_weight`), so
    that the result is continuous in ``f`` (a neighbour of weight 0 has no say: no jump when
    the crossing passes a cell centre, as it does when a site moves off a centre by a
    millimetre) and in the slopes. Selects, no branches.
    """
    da = d - ax
    db = d - bx
    w = _back_weight((bf - gv) * da - (af - gv) * db, da * db, f)
    w = 1.0 if ax <= 0.0 else w
    w = 0.0 if bx <= 0.0 else w
    return ax + w * (bx - ax), af + w * (bf - af)


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _back_blend_scalar(ax, af, bx, bf, f, gv, d):
    """:func:`_back_blend` for the scalar loop: the steeper in selects, and the blend (with its
    division, on that loop's serial path) in a branch taken only near a tie or a centre."""
    if ax <= 0.0:
        return bx, bf
    if bx <= 0.0:
        return ax, af
    da = d - ax
    db = d - bx
    n = (bf - gv) * da - (af - gv) * db
    p = da * db
    up = n >= 0.0
    rx = bx if up else ax
    rf = bf if up else af
    if (abs(n) < p * BACK_BAND) | (f * BACK_EDGE_FACTOR < 1.0) | ((1.0 - f) * BACK_EDGE_FACTOR < 1.0):
        w = _back_weight(n, p, f)
        rx = ax + w * (bx - ax)
        rf = af + w * (bf - af)
    return rx, rf


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _soft_pick(ax, af, bx, bf, na, da, nb, db):
    """Of obstacles a and b (distance, frame height; distance ≤ 0 for a: none, which takes b)
    seen from one point at slopes ``na / da`` and ``nb / db`` (``da, db > 0``), the steeper;
    within :data:`SOFT_BAND` of a tie a point between them (on the line from that point when
    they tie), so that the choice does not jump when a tie is crossed. The steeper in selects;
    a branch, rarely taken, for the blend near a tie."""
    if ax <= 0.0:
        return bx, bf
    n = nb * da - na * db
    p = da * db
    # the steeper, in selects (which one depends on the terrain: a branch would be mispredicted)
    up = n >= 0.0
    rx = bx if up else ax
    rf = bf if up else af
    if abs(n) < p * SOFT_BAND:  # near a tie: rare
        w = 0.5 + n / (p * (2.0 * SOFT_BAND))
        rx = ax + w * (bx - ax)
        rf = af + w * (bf - af)
    return rx, rf


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _soft_pick_simd(ax, af, bx, bf, na, da, nb, db):
    """:func:`_soft_pick` in selects, for the SIMD loop of :func:`_steep_cells` (a branch would
    keep LLVM from vectorising it)."""
    n = nb * da - na * db
    p = da * db
    w = min(max(0.5 + n / (p * (2.0 * SOFT_BAND)), 0.0), 1.0)
    w = 1.0 if ax <= 0.0 else w
    return ax + w * (bx - ax), af + w * (bf - af)


@nb.njit(cache=True, inline="always")
def _two_obstacles(a, i, b, j):
    """The carried obstacles (back-horizon distance and height, reference-horizon distance and
    height) of neighbour ``a[i]`` and of neighbour ``b[j]``."""
    return a[0, i], a[1, i], a[2, i], a[3, i], b[0, j], b[1, j], b[2, j], b[3, j]


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _bullington_nu(s_r, d, ex, ef, bx, bf, two_over_lambda):
    """Bullington ν (ITU-R P.526-15 §4.5.1) over two obstacles, (``ex``, ``ef``) and (``bx``,
    ``bf``) (distance, height in the antenna's frame; distance < 0: none), of a receiver at
    distance ``d`` whose straight path to the antenna has slope ``s_r``.

    The transmitter's horizon line is the steeper of the lines from the antenna to the two
    obstacles, the receiver's the steeper from the receiver; ν of their intersection (kept
    between the two tangent points), at least 0 (grazing).
    """
    hr = s_r * d
    ve = ex > 0.0 and ex < d
    vb = bx > 0.0 and bx < d
    if not (ve or vb):
        return 0.0
    if not ve:
        ex = bx
        ef = bf
    elif not vb:
        bx = ex
        bf = ef
    # written with min/max and selects rather than branches (the comparisons depend on the
    # terrain and would be mispredicted half the time)
    st_e = ef / ex
    st_b = bf / bx
    s_tim = max(st_e, st_b)
    xt = ex if st_e >= st_b else bx
    sr_e = (ef - hr) / (d - ex)
    sr_b = (bf - hr) / (d - bx)
    s_rim = max(sr_e, sr_b)
    xr = ex if sr_e >= sr_b else bx
    den = s_tim + s_rim
    xb = (hr + s_rim * d) / den
    xb = xr if not (den > 0.0) else xb
    xb = min(max(xb, min(xt, xr)), max(xt, xr))
    xb = min(xb, 0.999 * d)
    nu = max(s_tim - s_r, 0.0) * math.sqrt(two_over_lambda * d * xb / (d - xb))
    return nu
