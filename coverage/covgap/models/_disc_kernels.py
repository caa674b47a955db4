"""Private numba kernels for the radius model. Pure: arrays in, arrays out (in place).

Each kernel has a slow NumPy reference in ``tests/naive.py`` and is tested against it.
:func:`_disc_fill` is the one-transmitter-at-a-time kernel (kept as the reference of
:func:`_disc_fill_binned`, which gives bit-identical results; see docs/design.md,
"Hardening: input tables").
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..constants import EARTH_RADIUS_M as _R


@nb.njit(cache=True, inline="always")
def _d2(i, j, s, xc, yc, geographic, sx, sy):
    """Squared distance (m²) from cell (i, j) to site ``s``: great-circle on geographic grids.

    The one distance formula of the radius model; the tile merge uses it too, so tiled and
    untiled runs break ties identically.
    """
    if geographic:
        la1 = math.radians(sy[s])
        la2 = math.radians(yc[i])
        dla = la2 - la1
        dlo = math.radians(xc[j] - sx[s])
        a = math.sin(dla / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlo / 2) ** 2
        d = 2.0 * _R * math.asin(math.sqrt(min(a, 1.0)))
        return d * d
    ex = xc[j] - sx[s]
    ey = yc[i] - sy[s]
    return ex * ex + ey * ey


@nb.njit(cache=True)
def _disc_fill(bits, n_sites, serving, best_d2, xc, yc, geographic,
               sx, sy, radius_m, op_bit, site_row, dx_min_m, dy_m):
    """Mark every cell whose centre lies within ``radius_m`` of each site.

    bits (ny, nx) uint32, n_sites uint16, serving int32, best_d2 float64 (in/out).
    xc (nx,), yc (ny,) cell centres (degrees when ``geographic``, else metres).
    sx, sy, radius_m, op_bit (uint32), site_row (int32): per transmitter.
    dx_min_m: smallest cell width in metres over the grid (bounds the column window).
    """
    win = _windows(xc, yc, geographic, sx, sy, radius_m)
    for s in range(sx.shape[0]):
        r2 = radius_m[s] * radius_m[s]
        r0, r1, c0, c1 = win[s, 0], win[s, 1], win[s, 2], win[s, 3]
        for i in range(r0, r1):
            for j in range(c0, c1):
                d2 = _d2(i, j, s, xc, yc, geographic, sx, sy)
                if d2 <= r2:
                    bits[i, j] |= op_bit[s]
                    if n_sites[i, j] < 65535:
                        n_sites[i, j] += 1
                    if d2 < best_d2[i, j]:
                        best_d2[i, j] = d2
                        serving[i, j] = site_row[s]


@nb.njit(cache=True)
def _windows(xc, yc, geographic, sx, sy, radius_m):
    """Row/column window ``(r0, r1, c0, c1)`` of each transmitter: the bounds of :func:`_disc_fill`."""
    ny = yc.shape[0]
    nx = xc.shape[0]
    x0 = xc[0]
    y0 = yc[0]
    ddx = xc[1] - xc[0] if nx > 1 else 1.0
    ddy = yc[1] - yc[0] if ny > 1 else -1.0
    n = sx.shape[0]
    win = np.empty((n, 4), dtype=np.int64)
    for s in range(n):
        r = radius_m[s]
        if geographic:
            lat_s = math.radians(sy[s])
            dlat = math.degrees(r / _R)
            coslat = max(math.cos(lat_s + math.radians(dlat) * (1.0 if sy[s] >= 0 else -1.0)), 1e-6)
            dlon = math.degrees(r / (_R * coslat))
            rr = dlat / abs(ddy) + 1.0
            cc = dlon / abs(ddx) + 1.0
        else:
            rr = r / abs(ddy) + 1.0
            cc = r / abs(ddx) + 1.0
        rc = (sy[s] - y0) / ddy
        ccn = (sx[s] - x0) / ddx
        win[s, 0] = max(int(math.floor(rc - rr)), 0)
        win[s, 1] = min(int(math.ceil(rc + rr)) + 1, ny)
        win[s, 2] = max(int(math.floor(ccn - cc)), 0)
        win[s, 3] = min(int(math.ceil(ccn + cc)) + 1, nx)
    return win


@nb.njit(cache=True, inline="always")
def _d2_of_a(a):
    """Squared great-circle distance (m²) from the haversine term ``a``: the last step of :func:`_d2`."""
    d = 2.0 * _R * math.asin(math.sqrt(min(a, 1.0)))
    return d * d


#: Relative margin around the exact disc edge in haversine terms: cells whose ``a`` lies
#: within it are decided by the exact distance of :func:`_d2` (rounding of asin/sqrt is
#: ~1e-16 relative, so 1e-9 is far outside any rounding and costs a thin ring of cells).
_EDGE_MARGIN = 1e-9
#: Relative margin below which two haversine terms may round to the same distance: closer
#: pairs are compared by their exact distances (lowest transmitter index wins a tie).
_TIE_MARGIN = 1e-12
#: ``blk_hi`` is float32 (half the memory); this factor keeps it above the float64 values
#: it bounds after rounding to float32 (relative rounding ≤ 6e-8).
_HI32 = 1.0 + 1e-6
#: Columns per block of ``blk_hi`` (the serving-site test skips whole blocks).
_BLOCK = 16


@nb.njit(cache=True, inline="always")
def _nearer(best_a, best_s, serving, i, j, a, s, row_s, geographic):
    """Make transmitter ``s`` the cell's serving site when it is nearer (ties: the lowest index).

    Compares haversine terms (monotone in distance); only terms within ``_TIE_MARGIN`` of
    each other are compared by their exact distances, as :func:`_disc_fill` would.
    """
    ba = best_a[i, j]
    if a < ba - ba * _TIE_MARGIN:
        take = True
    elif a > ba + ba * _TIE_MARGIN:
        take = False
    else:
        dn = _d2_of_a(a) if geographic else a
        db = _d2_of_a(ba) if geographic else ba
        take = dn < db or (dn == db and s < best_s[i, j])
    if take:
        best_a[i, j] = a
        best_s[i, j] = s
        serving[i, j] = row_s
    return take


@nb.njit(cache=True, inline="always")
def _block_max(best_a, blk_hi, i, b):
    """Refresh ``blk_hi[i, b]``: an upper bound of the row's block ``b`` of ``best_a`` (+ tie margin)."""
    nx = best_a.shape[1]
    m = best_a[i, b * _BLOCK]
    for j in range(b * _BLOCK + 1, min((b + 1) * _BLOCK, nx)):
        if best_a[i, j] > m:
            m = best_a[i, j]
    blk_hi[i, b] = (m + m * _TIE_MARGIN) * _HI32


@nb.njit(cache=True, inline="always")
def _a(colb, ai, ci, geographic, j):
    """Haversine term of cell (i, j) from its row terms and column term (the operations of :func:`_d2`)."""
    if geographic:
        return ai + ci * colb[j]
    return colb[j] + ai


@nb.njit(cache=True)
def _first_at_most(colb, ai, ci, geographic, lo, hi, t):
    """First column in [lo, hi) whose ``a`` is <= t (``a`` non-increasing there), else hi."""
    while lo < hi:
        mid = (lo + hi) // 2
        if _a(colb, ai, ci, geographic, mid) <= t:
            hi = mid
        else:
            lo = mid + 1
    return lo


@nb.njit(cache=True)
def _first_above(colb, ai, ci, geographic, lo, hi, t):
    """First column in [lo, hi) whose ``a`` is > t (``a`` non-decreasing there), else hi."""
    while lo < hi:
        mid = (lo + hi) // 2
        if _a(colb, ai, ci, geographic, mid) > t:
            hi = mid
        else:
            lo = mid + 1
    return lo


@nb.njit(cache=True, inline="always")
def _edge(bits, n_sites, serving, best_a, blk_hi, best_s, i, j, a, r2, geographic, ob, s, row_s):
    """One cell in the disc's edge band: the exact distance decides whether it is covered."""
    d2 = _d2_of_a(a) if geographic else a
    if d2 > r2:
        return
    bits[i, j] |= ob
    if n_sites[i, j] < 65535:
        n_sites[i, j] += 1
    if _nearer(best_a, best_s, serving, i, j, a, s, row_s, geographic):
        _block_max(best_a, blk_hi, i, j // _BLOCK)


@nb.njit(cache=True)
def _disc_fill_binned(bits, n_sites, serving, best_d2, best_a, blk_hi, best_s, xc, yc, geographic,
                      sx, sy, radius_m, op_bit, site_row, win, order):
    """:func:`_disc_fill` over many transmitters, visited in ``order`` (binned by window).

    Same outputs, bit for bit, as :func:`_disc_fill` visiting transmitters 0, 1, 2 … from
    empty outputs (``best_d2`` all +inf): the haversine term ``a = A_i + C_i · B_j`` is
    built from row terms (``A_i``, ``C_i``) and column terms (``B_j``) computed once per
    transmitter with exactly the operations of :func:`_d2`; each row's run of cells inside
    the disc is found from ``a`` and marked in one pass; the distance itself (asin, sqrt)
    is evaluated only in a thin ring at the disc's edge, for near-ties, and once per cell at
    the end for ``best_d2``. The serving site is the one with the least ``a`` (monotone in
    distance), ties to the lowest transmitter index, as in the sequential kernel.
    Scratch: ``best_a`` (float64, +inf), ``best_s`` (int64, max), ``blk_hi`` (float32,
    +inf; one per row and block of ``_BLOCK`` columns: a bound on the block's ``best_a``,
    so blocks where a transmitter cannot be nearest are skipped). ``win`` comes from
    :func:`_windows`.
    """
    ny = yc.shape[0]
    nx = xc.shape[0]
    la2 = np.empty(ny)
    cla2 = np.empty(ny)
    for i in range(ny):
        la2[i] = math.radians(yc[i])
        cla2[i] = math.cos(la2[i])
    rowa = np.empty(ny)
    rowc = np.empty(ny)
    colb = np.empty(nx)
    for k in range(order.shape[0]):
        s = order[k]
        r0 = win[s, 0]
        r1 = win[s, 1]
        c0 = win[s, 2]
        c1 = win[s, 3]
        if r1 <= r0 or c1 <= c0:
            continue
        r = radius_m[s]
        r2 = r * r
        ob = op_bit[s]
        row_s = site_row[s]
        if geographic:
            half = r / (2.0 * _R)
            if half >= 0.5 * math.pi:
                a_in = np.inf
                a_out = np.inf
            else:
                a_r = math.sin(half) ** 2
                a_in = a_r * (1.0 - _EDGE_MARGIN)
                a_out = a_r * (1.0 + _EDGE_MARGIN)
            la1 = math.radians(sy[s])
            cla1 = math.cos(la1)
            for i in range(r0, r1):
                dla = la2[i] - la1
                rowa[i] = math.sin(dla / 2) ** 2
                rowc[i] = cla1 * cla2[i]
            for j in range(c0, c1):
                dlo = math.radians(xc[j] - sx[s])
                colb[j] = math.sin(dlo / 2) ** 2
        else:
            a_in = r2 * (1.0 - _EDGE_MARGIN)
            a_out = r2 * (1.0 + _EDGE_MARGIN)
            for i in range(r0, r1):
                ey = yc[i] - sy[s]
                rowa[i] = ey * ey
                rowc[i] = 1.0
            for j in range(c0, c1):
                ex = xc[j] - sx[s]
                colb[j] = ex * ex
        jc = c0  # the column nearest the transmitter: least ``a`` on every row
        for j in range(c0 + 1, c1):
            if colb[j] < colb[jc]:
                jc = j
        for i in range(r0, r1):
            ai = rowa[i]
            ci = rowc[i]
            # along a row ``a`` falls to column jc then rises (monotone on each side, also in
            # floating point): binary searches give the run [jlo, jhi) surely inside and the
            # edge band [e0, jlo) + [jhi, e1) where the exact distance decides
            jlo = _first_at_most(colb, ai, ci, geographic, c0, jc + 1, a_in)
            jhi = _first_above(colb, ai, ci, geographic, jc, c1, a_in)
            e0 = _first_at_most(colb, ai, ci, geographic, c0, jc + 1, a_out)
            e1 = _first_above(colb, ai, ci, geographic, jc, c1, a_out)
            if jhi <= jlo:  # nothing surely inside on this row
                jlo = e1
                jhi = e1
            for j in range(e0, jlo):
                _edge(bits, n_sites, serving, best_a, blk_hi, best_s, i, j, _a(colb, ai, ci, geographic, j), r2,
                      geographic, ob, s, row_s)
            for j in range(jhi, e1):
                _edge(bits, n_sites, serving, best_a, blk_hi, best_s, i, j, _a(colb, ai, ci, geographic, j), r2,
                      geographic, ob, s, row_s)
            if jhi <= jlo:
                continue
            for j in range(jlo, jhi):
                bits[i, j] |= ob
            for j in range(jlo, jhi):
                n = n_sites[i, j]
                n_sites[i, j] = n + np.uint16(n < 65535)
            # may this transmitter serve cells of the run? By blocks: the least ``a`` within
            # the block (at the column nearest the transmitter) against the block's bound
            for b in range(jlo // _BLOCK, (jhi - 1) // _BLOCK + 1):
                b0 = max(b * _BLOCK, jlo)
                b1 = min((b + 1) * _BLOCK, jhi)
                if _a(colb, ai, ci, geographic, min(max(jc, b0), b1 - 1)) > blk_hi[i, b]:
                    continue
                changed = False
                for j in range(b0, b1):
                    a = _a(colb, ai, ci, geographic, j)
                    if a <= best_a[i, j] + best_a[i, j] * _TIE_MARGIN:
                        changed |= _nearer(best_a, best_s, serving, i, j, a, s, row_s, geographic)
                if changed:
                    _block_max(best_a, blk_hi, i, b)
    for i in range(ny):
        for j in range(nx):
            if best_s[i, j] >= 0 and best_s[i, j] < order.shape[0]:
                best_d2[i, j] = _d2_of_a(best_a[i, j]) if geographic else best_a[i, j]
    return 0


def window_order(win: np.ndarray, *, bin_cells: int = 64) -> np.ndarray:
    """Visiting order of transmitters: by bins of ``bin_cells`` rows, then columns, of their window start.

    Transmitters whose windows overlap are visited together, so the per-cell arrays they
    update stay in cache.
    """
    rb = win[:, 0] // bin_cells
    cb = win[:, 2] // bin_cells
    return np.lexsort((cb, rb)).astype(np.int64)


def disc_fill(bits, n_sites, serving, best_d2, xc, yc, geographic, sx, sy, radius_m, op_bit, site_row):
    """Mark the discs of many transmitters (arguments as documented at :func:`_disc_fill`).

    Runs :func:`_disc_fill_binned` (windows binned, row and column terms precomputed);
    outputs identical to :func:`_disc_fill`.
    """
    xc = np.ascontiguousarray(xc, dtype=np.float64)
    yc = np.ascontiguousarray(yc, dtype=np.float64)
    sx = np.ascontiguousarray(sx, dtype=np.float64)
    sy = np.ascontiguousarray(sy, dtype=np.float64)
    radius_m = np.ascontiguousarray(radius_m, dtype=np.float64)
    if sx.shape[0] == 0:
        return
    if np.isfinite(best_d2).any():  # continuing earlier results: the sequential kernel
        disc_fill_sequential(bits, n_sites, serving, best_d2, xc, yc, geographic, sx, sy, radius_m, op_bit,
                             site_row)
        return
    win = _windows(xc, yc, bool(geographic), sx, sy, radius_m)
    order = window_order(win)
    best_a = np.full(bits.shape, np.inf)
    best_s = np.full(bits.shape, np.iinfo(np.int64).max, dtype=np.int64)
    blk_hi = np.full((bits.shape[0], -(-bits.shape[1] // _BLOCK)), np.inf, dtype=np.float32)
    _disc_fill_binned(bits, n_sites, serving, best_d2, best_a, blk_hi, best_s, xc, yc, bool(geographic),
                      sx, sy, radius_m, np.ascontiguousarray(op_bit, dtype=np.uint32),
                      np.ascontiguousarray(site_row, dtype=np.int32), win, order)


def disc_fill_sequential(bits, n_sites, serving, best_d2, xc, yc, geographic, sx, sy, radius_m, op_bit, site_row):
    """Typed entry to :func:`_disc_fill` (one transmitter after another; the reference path)."""
    _disc_fill(bits, n_sites, serving, best_d2,
               np.ascontiguousarray(xc, dtype=np.float64), np.ascontiguousarray(yc, dtype=np.float64),
               bool(geographic),
               np.ascontiguousarray(sx, dtype=np.float64), np.ascontiguousarray(sy, dtype=np.float64),
               np.ascontiguousarray(radius_m, dtype=np.float64),
               np.ascontiguousarray(op_bit, dtype=np.uint32), np.ascontiguousarray(site_row, dtype=np.int32),
               0.0, 0.0)
