"""Private numba kernels of the terrain model's *sweep* algorithm. Pure: arrays in, arrays out.

One transmitter's footprint is computed on a window of the grid around it in one pass over
the cells, outward from the transmitter, touching each cell once (the approach of GDAL's
``gdal_viewshed`` and of Franklin & Ray's XDraw, here carrying diffraction state as well):

* rows are processed outward from the transmitter's row (the rows above and the rows below
  are independent, so the two halves run on two threads); within a row, the cells right of
  the transmitter's column go rightward and then the cells left of it go leftward;
* each cell keeps the **horizon** of the straight path from the transmitter to its centre:
  ``S`` the steepest elevation slope of the terrain so far, in the transmitter's
  tangent-plane frame ``(d, z − d²/(2kR))`` where straight rays are straight lines;
* a cell's horizon *before* itself is interpolated where the line back to the transmitter
  crosses the nearest centre line already done — the previous row (between two of its cells)
  when the line is steep, or the previous column (between this row's and the previous row's
  cell) when it is shallow — and the terrain there (exactly linear between the two centres
  on that line) is added. Cells next to the transmitter see it directly.

Receiver value, as for the radial algorithm (:mod:`covgap.models._terrain_kernels`):
``signal = eirp − max(L_fs(d), A + B log10 d_km) − J(ν) + G_sector``; a receiver at
``z + h_rx`` sees the antenna when its slope is at least the horizon ``S`` (then ``J = 0``).

**Diffraction** (``out_mode`` 1): the Bullington equivalent knife edge of ITU-R P.526-15
§4.5.1, over two obstacles carried cell to cell (interpolated like the horizon):

* the *reference-horizon obstacle*: the one at the steepest angle from a point
  :data:`REFERENCE_MAST_M` above the transmitter's ground (for a 30 m mast, the antenna's own
  horizon obstacle), interpolated between the neighbours like the horizon;
* the *back-horizon obstacle* of the cell's ground: the two neighbours' ones blended towards
  the one seen at the steeper angle from the cell's ground (:func:`_back_blend`: the steeper
  one except near a tie or where a neighbour's weight is small: a neighbour of weight 0 has
  no say), then of that, the terrain at the crossing and the reference-horizon obstacle, the
  one seen at the steepest angle from the cell's ground.

Every choice between two obstacles is continuous (:func:`_back_blend`, :func:`_soft_pick`:
within 0.01 mrad of a tie a point between them), and the cells next to the transmitter carry
its foot (:data:`FOOT_M`) rather than "nothing", so that the output is continuous in the
transmitter's position: a site moved by 1 mm off a cell centre changes no cell by more than
0.5 dB (tested; see docs/design.md, "Terrain sweep: the jump at cell centres").

The transmitter's horizon line is the steeper of the lines from the antenna to the two, the
receiver's the steeper from the receiver; ν of their intersection, at least 0 (grazing, 6 dB)
where the receiver is obstructed. Neither obstacle depends on the antenna height, so raising
an antenna never lowers a signal (tested), as for Bullington over a whole profile. With one
ridge whose top lies on the centre lines the paths cross, this is the single knife edge; a
ridge crossed at an angle is seen only where the paths cross the rows or columns, at a
distance interpolated between the neighbours' paths, so it is the knife edge approximately
(against ITU-R P.526 Bullington over the exact profile, one straight ridge at 0–63°: median
0.6 to 2.1 dB more loss, single cells up to 6.3 dB; tested). With several ridges it keeps two.

Each row takes three loops. The first (:func:`_steep_cells`) does the steep cells, whose
neighbours all lie on the previous row: independent of each other, in SIMD (gathers from the
previous row; the arrays are declared ``noalias``, see :func:`_noalias_option`). The second
walks the shallow cells outward, one by one (each needs the previous cell of its own row). Both
leave each receiver's slope, distance and two obstacles in a scratch; the third
(:func:`_row_signals`) turns them into signals over independent cells, in SIMD (the tables it
reads are module constants). Why three loops, and what was tried instead: docs/design.md,
"Terrain sweep".

Cells on DEM nodata (NaN) never block and, as receivers, get the base-model value without
terrain loss; they are counted.

The slow exact reference is ``tests/naive.py`` (every cell along its own straight line).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._sweep_obstacles import (
    FOOT_M,
    J_COARSE_MAX,
    J_FINE_MAX,
    J_FINE_STEPS,
    J_PACKED,
    J_PACKED_BITS,
    J_TABLE_LAST,
    LOG_PACKED,
    LOG_PACKED_BITS,
    LOG_PACKED_OFFSET,
    MARGIN_CELLS,
    REFERENCE_MAST_M,
    _FM,
    _NOALIAS,
    _back_blend,
    _back_blend_scalar,
    _bullington_nu,
    _j_loss,
    _lerp,
    _lerp_point,
    _packed_lerp,
    _soft_pick,
    _soft_pick_simd,
    _two_obstacles,
)
from ._terrain_kernels import (
    DEM_MIN_M,
    LOG10_KM_LAST,
    LOG_EXACT_BELOW_M,
    _base_signal,
    _log10_km_pos,
)


@nb.njit(cache=True, fastmath=_FM, error_model="numpy")
def _row_signals(orow, ja, jb, D, cols_dj, kxi, er, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db,
                 two_over_lambda, outside):
    """Signals with diffraction of a row's cells ``ja .. jb`` into ``orow``, from the row's
    scratch ``D`` (see :func:`_sweep_row`; distance ≤ 0: no receiver, ``outside`` is written).

    Written for LLVM's loop vectoriser: no branches (selects), no stores but the output, tables
    that are module constants (packed, :func:`packed_table`), no exceptions
    (``error_model="numpy"``). The same arithmetic as :func:`_bullington_nu`, :func:`_j_loss`
    and :func:`~covgap.models._terrain_kernels._base_signal`; the rare cells those treat exactly (very
    near the antenna, past the tables, sectors) are redone with them after the loop.
    """
    coarse_off = J_FINE_MAX * J_FINE_STEPS - J_FINE_MAX
    redo = False
    # row slices indexed from 0: LLVM then sees unit-stride loads (an index that might be negative
    # would be wrapped around by numba, and the loads would become gathers)
    n = jb + 1 - ja
    bx_row = D[0, ja:jb + 1]
    bf_row = D[1, ja:jb + 1]
    ex_row = D[2, ja:jb + 1]
    ef_row = D[3, ja:jb + 1]
    sr_row = D[4, ja:jb + 1]
    d_row = D[5, ja:jb + 1]
    out_row = orow[ja:jb + 1]
    for k in range(n):
        d = d_row[k]
        s_r = sr_row[k]
        bx = bx_row[k]
        bf = bf_row[k]
        ex = ex_row[k]
        ef = ef_row[k]
        # the base loss (_base_signal without the sector gain)
        x = _log10_km_pos(d)
        xc = min(max(x, 1.0), LOG10_KM_LAST)
        q = int(xc)
        f = xc - q
        # LOG10_KM[q] and its step, packed: one gather instead of two
        lg = _packed_lerp(LOG_PACKED[q], f, LOG_PACKED_BITS) - LOG_PACKED_OFFSET
        pl = max(fa + fb * lg, pa + pb * lg)
        # ν (_bullington_nu with slopes compared by cross-multiplication and the intersection kept
        # as a fraction: one division instead of six)
        obstructed = s_r < np.inf
        s_r = s_r if obstructed else 0.0
        hr = s_r * d
        ve = (ex > 0.0) & (ex < d)
        vb = (bx > 0.0) & (bx < d)
        some = ve | vb
        ex, ef = (ex, ef) if ve else (bx, bf)
        bx, bf = (bx, bf) if vb else (ex, ef)
        ex = ex if some else 0.5 * d
        bx = bx if some else 0.5 * d
        te = ef * bx >= bf * ex
        xt = ex if te else bx
        nt = ef if te else bf  # s_tim = nt / xt
        tr = (ef - hr) * (d - bx) >= (bf - hr) * (d - ex)
        xr = ex if tr else bx
        br = d - xr
        nr = (ef if tr else bf) - hr  # s_rim = nr / br
        # xb = (hr + s_rim d) / (s_tim + s_rim) = num / dn, kept as a fraction (one division in all)
        dn = nt * br + nr * xt
        pos = dn > 0.0
        num = (hr * br + nr * d) * xt if pos else xr
        dn = dn if pos else 1.0
        lo = min(xt, xr)
        hi = min(max(xt, xr), 0.999 * d)
        low = num < lo * dn
        num = lo if low else num
        dn = 1.0 if low else dn
        high = num > hi * dn
        num = hi if high else num
        dn = 1.0 if high else dn
        # ν = (s_tim − s_r) sqrt(2/λ · d · xb / (d − xb))
        nu = max(nt - s_r * xt, 0.0) * math.sqrt(two_over_lambda * d * num / (xt * xt * (d * dn - num)))
        nu = nu if some else 0.0
        # J(ν) (_j_loss)
        xj = nu * J_FINE_STEPS if nu < J_FINE_MAX else nu + coarse_off
        xj = min(xj, J_TABLE_LAST)
        xj = xj if xj > 0.0 else 0.0
        qj = int(xj)
        fj = xj - qj
        jl = _packed_lerp(J_PACKED[qj], fj, J_PACKED_BITS)  # J_TABLE[qj] and its step, packed
        jl = jl if obstructed else 0.0
        out_row[k] = eirp - pl - jl if d > 0.0 else outside
        redo |= (d > 0.0) & ((d < LOG_EXACT_BELOW_M) | (x > LOG10_KM_LAST) | (nu >= J_COARSE_MAX) | sector)
    if redo:
        for jj in range(ja, jb + 1):
            d = D[5, jj]
            if d > 0.0:
                s_r = D[4, jj]
                nu = -1.0
                if s_r < np.inf:
                    nu = _bullington_nu(s_r, d, D[2, jj], D[3, jj], D[0, jj], D[1, jj], two_over_lambda)
                if d < LOG_EXACT_BELOW_M or _log10_km_pos(d) > LOG10_KM_LAST or nu >= J_COARSE_MAX or sector:
                    v = _base_signal(d, cols_dj[jj] * kxi, er, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db)
                    if nu >= 0.0:
                        v -= _j_loss(nu)
                    orow[jj] = v


@nb.njit(cache=True, fastmath=_FM, error_model="numpy", **_NOALIAS)
def _steep_cells(dem, out, pS, pD, cS, cD, cols_dj, ka, kb, jb, i, ip, ii, c0, xs, js, kxi, er2, t_r, inv_tr,
                 prev_is_site_row, z_tx, h_rx, inv2kr, r2, track, h_ref, outside):
    """The steep cells ``ka .. kb`` of row ``ii`` (grid row ``i``, previous row ``ip``): what
    the first loop of :func:`_sweep_row` does for them, in a loop LLVM runs in SIMD (gathers
    from the previous row). Each cell depends on the previous row only; the arrays never overlap
    and are declared so (``noalias``), else LLVM could not vectorise the gathers. Branches are
    selects. Returns the number of receivers on nodata and of cells read below :data:`DEM_MIN_M`."""
    nod = 0
    nlow = 0
    uc0 = np.uint64(c0)
    uka = np.uint64(ka)
    uip = np.uint64(ip)
    ui = np.uint64(i)
    uii = np.uint64(ii)
    for k in range(kb + 1 - ka):
        uj = uka + np.uint64(k)
        dj = cols_dj[uj]
        ec = dj * kxi
        d2 = ec * ec + er2
        d = math.sqrt(d2)
        inv_d = 1.0 / d
        x = xs + dj * t_r
        q = int(math.floor(x))
        f = x - q
        neg = q < 0  # the transmitter on the window's first column
        q = 0 if neg else q
        f = 0.0 if neg else f
        q2 = q if ((q + 1 > jb) | (f == 0.0)) else q + 1
        uq = np.uint64(q)
        uq2 = np.uint64(q2)
        sa = pS[uq]
        sb2 = pS[uq2]
        sb = sa + f * (sb2 - sa)
        sb = sb2 if sa == -np.inf else sb
        sb = sa if sb2 == -np.inf else sb
        dq = dem[uip, uc0 + uq]
        zx = dq + f * (dem[uip, uc0 + uq2] - dq)
        px = d * t_r
        pf = zx - z_tx - px * px * inv2kr
        sx = pf * inv_d * inv_tr
        pxv = not (prev_is_site_row & (int(math.floor(x + 0.5)) == js))
        sb = sx if (pxv & (sx > sb)) else sb
        cS[uj] = sb
        z = dem[ui, uc0 + uj]
        nlow += z < DEM_MIN_M  # a count, not a min: LLVM vectorises it (a float min needs no-NaN math)
        gr = z - z_tx - d2 * inv2kr
        gv = gr  # the back horizon is chosen from the ground
        inside = d2 <= r2
        zn = z != z
        s_r = 0.0 if zn else (gr + h_rx) * inv_d
        visible = zn | (s_r >= sb)
        nod += inside & zn
        if track:
            bx = pD[0, uq]
            bf = pD[1, uq]
            ex = pD[2, uq]
            ef = pD[3, uq]
            bx2 = pD[0, uq2]
            bf2 = pD[1, uq2]
            ex2 = pD[2, uq2]
            ef2 = pD[3, uq2]
            # the obstacles carried on: the same choice as in the scalar loop of _sweep_row, written
            # in selects for SIMD (a shared select-only function made that loop 5 % slower: there,
            # the rare cases are branches that predict well). First _lerp_point(ex, ef, ex2, ef2, f)
            lx = ex + f * (ex2 - ex)
            lf = ef + f * (ef2 - ef)
            lx = ex if ex2 < 0.0 else lx
            lf = ef if ex2 < 0.0 else lf
            lx = ex2 if ex < 0.0 else lx
            lf = ef2 if ex < 0.0 else lf
            ex = lx
            ef = lf
            bx, bf = _back_blend(bx, bf, bx2, bf2, f, gv, d)
            cand = pxv & (pf == pf)
            nx, nf = _soft_pick_simd(ex, ef, px, pf, ef - h_ref, ex, pf - h_ref, px)
            ex = nx if cand else ex
            ef = nf if cand else ef
            nx, nf = _soft_pick_simd(bx, bf, px, pf, bf - gv, d - bx, pf - gv, d - px)
            bx = nx if cand else bx
            bf = nf if cand else bf
            nx, nf = _soft_pick_simd(bx, bf, ex, ef, bf - gv, d - bx, ef - gv, d - ex)
            bx = nx if ex > 0.0 else bx
            bf = nf if ex > 0.0 else bf
            cD[0, uj] = bx
            cD[1, uj] = bf
            cD[2, uj] = ex
            cD[3, uj] = ef
            cD[4, uj] = np.inf if visible else s_r
            cD[5, uj] = d if inside else -1.0
        else:
            out[uii, uj] = (0.0 if visible else np.nan) if inside else outside
    return nod, nlow


@nb.njit(cache=True, inline="always", fastmath=_FM)
def _row_span(ii, ys, xs, dy, kxi, r2m, wnx):
    """Window columns (ja, jb) whose centres lie within the radius (+margin) on row ``ii``;
    ja > jb when the row lies beyond it."""
    er = (ii - ys) * dy
    rest = r2m - er * er
    if rest < 0.0:
        return 0, -1
    half = math.sqrt(rest) / kxi
    ja = int(math.floor(xs - half))
    jb = int(math.ceil(xs + half))
    if ja < 0:
        ja = 0
    if jb > wnx - 1:
        jb = wnx - 1
    return ja, jb


@nb.njit(cache=True, fastmath=_FM)
def _sweep_row(dem, out, ii, r0, c0, kxi, dy, ys, xs, js, is_site_row, pS, pD, cS, cD, ja, jb,
               cols_dj, cols_tc, cols_itc, z_tx, h_rx, inv2kr, r2, two_over_lambda, out_mode, eirp, fa, fb, pa,
               pb, sector, az_rad, bw_rad, am_db, outside):
    """One window row ``ii`` (cells ``ja .. jb``), given the previous row's horizons ``pS, pD``
    (the row one step nearer the transmitter; for the transmitter's own row pass ``cS, cD``).

    Writes the horizon slope *before* each cell into ``cS`` and, with diffraction, its two
    obstacles into ``cD`` (shape (6, width), one row per quantity so that the second loop reads
    each contiguously: back-horizon distance and height, reference-horizon distance and height
    (distance < 0: none); rows 4 and 5 are the scratch of :func:`_row_signals`: the receiver's
    slope, +inf where it sees the antenna, and its distance, ≤ 0 where there is no receiver)
    and the output value into ``out`` (see :func:`sweep_window`). Cells right of the
    transmitter's column go rightward, then the cells left of it leftward. Returns the number
    of receivers on DEM nodata and of cells read below :data:`DEM_MIN_M`.
    """
    di = ii - ys
    adi = abs(di)
    sgn_i = 1.0 if di > 0 else -1.0
    er = di * dy
    er2 = er * er
    has_row = adi > 1.0 and not is_site_row
    t_r = 1.0 - 1.0 / adi if has_row else 0.0
    inv_tr = 1.0 / t_r if has_row else 0.0
    di_prev = di - sgn_i
    i = r0 + ii
    ip = i - int(sgn_i)
    i_site_g = int(math.floor(ys + 0.5)) + r0
    prev_is_site_row = ip == i_site_g
    track = out_mode == 1  # diffraction needs the receivers' back horizons
    # the reference point of the diffraction obstacles, in the antenna's frame
    h_ref = dem[i_site_g, c0 + js] + REFERENCE_MAST_M - z_tx
    # the antenna's foot, FOOT_M out: the horizon and obstacles of the transmitter's cell and of
    # the cells that see it directly (no terrain in between), so that a neighbour of weight 0
    # never hands on "nothing" (a missing neighbour would take the other whole: a jump)
    foot_f = h_ref - REFERENCE_MAST_M
    foot_s = foot_f / FOOT_M
    nod = 0
    nlow = 0
    j_start = js
    if is_site_row:
        # the transmitter's own cell: visible, no terrain loss; its horizon and obstacles are the
        # antenna's foot (below every line from the antenna that matters)
        cS[js] = foot_s
        cD[0, js] = FOOT_M
        cD[1, js] = foot_f
        cD[2, js] = FOOT_M
        cD[3, js] = foot_f
        cD[5, js] = -1.0
        dj = cols_dj[js]
        ec = dj * kxi
        if out_mode == 0:
            out[ii, js] = 0.0
        else:
            out[ii, js] = _base_signal(max(math.sqrt(ec * ec + er2), 1.0), ec, er, eirp, fa, fb, pa, pb, sector,
                                az_rad, bw_rad, am_db)
        j_start = js + 1
    # the steep cells (ka .. kb, around the transmitter's column) first, in SIMD: they depend on
    # the previous row only (line of sight −10 %, full footprint −15 to −20 % in an A/B timing); then
    # the shallow ones outward, rightward from kb + 1 and leftward from ka − 1
    ka = js
    if has_row and out_mode != 2:
        ka = max(ja, int(math.ceil(xs - adi)))
        kb = min(jb, int(math.floor(xs + adi)))
        while ka > ja and adi >= abs(cols_dj[ka - 1]):
            ka -= 1
        while ka <= js and adi < abs(cols_dj[ka]):
            ka += 1
        while kb < jb and adi >= abs(cols_dj[kb + 1]):
            kb += 1
        while kb >= js and adi < abs(cols_dj[kb]):
            kb -= 1
        nod, nlow = _steep_cells(dem, out, pS, pD, cS, cD, cols_dj, ka, kb, jb, i, ip, ii, c0, xs, js, kxi, er2,
                                 t_r, inv_tr, prev_is_site_row, z_tx, h_rx, inv2kr, r2, track, h_ref, outside)
        j_start = kb + 1
    n_right = jb + 1 - j_start
    # array indices as unsigned integers (u…): numba wraps a negative signed index around, a compare
    # and a select on every access of this loop; these are never negative (−6 to −17 % of the time)
    uip = np.uint64(ip)
    ui = np.uint64(i)
    uii = np.uint64(ii)
    # the previous row, clamped into the grid: the transmitter's own row on the grid's first or
    # last row has none, and its shallow crossings then read this row only
    uipc = np.uint64(min(max(ip, 0), dem.shape[0] - 1))
    # a shallow crossing exactly half-way between the rows is nearest the row below (as
    # math.floor(y + 0.5) rounds), which is the previous row when the sweep goes up
    tie_prev = sgn_i < 0
    for k in range(n_right + ka - ja):
        if k < n_right:
            jj = j_start + k
            step = 1
        else:
            jj = ka - 1 - (k - n_right)
            step = -1
        uj = np.uint64(jj)
        dj = cols_dj[uj]
        adj = abs(dj)
        ec = dj * kxi
        d2 = ec * ec + er2
        d = math.sqrt(d2)
        inv_d = 1.0 / d
        # ---- horizon before this cell: interpolated at the nearest centre line already done,
        # plus the terrain there (exactly linear between the two centres on that line)
        bx = -1.0  # back-horizon candidate from the neighbours (distance, frame height); < 0: none
        bf = 0.0
        px = -1.0  # the terrain at the crossing as a candidate
        pf = 0.0
        ex = -1.0  # the obstacle on the reference horizon (distance, frame height); < 0: none
        ef = 0.0
        wf = 0.0
        bx2 = -1.0  # the other neighbour's two obstacles
        bf2 = 0.0
        ex2 = -1.0
        ef2 = 0.0
        if has_row and adi >= adj:
            # steep: the previous row's centre line, between its columns q and q + 1
            x = xs + dj * t_r
            q = int(math.floor(x))
            f = x - q
            if q < 0:  # the transmitter on the window's first column
                q = 0
                f = 0.0
            q2 = q if (q + 1 > jb or f == 0.0) else q + 1  # one neighbour when on a centre
            uq = np.uint64(q)
            uq2 = np.uint64(q2)
            dq = dem[uip, np.uint64(c0 + q)]
            sb = _lerp(pS[uq], pS[uq2], f)
            zx = dq + f * (dem[uip, np.uint64(c0 + q2)] - dq)
            if track:
                bx, bf, ex, ef, bx2, bf2, ex2, ef2 = _two_obstacles(pD, uq, pD, uq2)
                wf = f
            if not (prev_is_site_row and int(math.floor(x + 0.5)) == js):
                px = d * t_r
                pf = zx - z_tx - px * px * inv2kr
                sx = pf * inv_d * inv_tr
                if sx > sb:
                    sb = sx
        elif adj > 1.0:
            # shallow: column jn's centre line, a fraction g of the way from the previous row to
            # this one
            jn = jj - step
            t_c = cols_tc[uj]
            yc = di * t_c
            g = (yc - di_prev) * sgn_i
            if g < 0.0:
                g = 0.0
            elif g > 1.0:
                g = 1.0
            ujn = np.uint64(jn)
            sb = _lerp(pS[ujn], cS[ujn], g)
            if track:
                bx, bf, ex, ef, bx2, bf2, ex2, ef2 = _two_obstacles(pD, ujn, cD, ujn)
                wf = g
            # the terrain there: between the previous row (g = 0) and this one (g = 1), at the
            # same fraction g (fewer instructions than locating the crossing's row again: line of
            # sight 9 %, full footprint 3 % faster, benchmarks/ab_revisions.py a658689 c6d6471)
            ucn = np.uint64(c0 + jn)
            zp = dem[uipc, ucn]
            zx = zp + g * (dem[ui, ucn] - zp)
            near_prev = (g < 0.5) | (tie_prev & (g == 0.5))  # the crossing's nearest row
            if not (jn == js and (prev_is_site_row if near_prev else is_site_row)):
                px = d * t_c
                pf = zx - z_tx - px * px * inv2kr
                sx = pf * inv_d * cols_itc[uj]
                if sx > sb:
                    sb = sx
        else:
            # next to the transmitter: nothing in between but its foot
            sb = foot_s
            bx = FOOT_M
            bf = foot_f
            ex = FOOT_M
            ef = foot_f
        cS[uj] = sb
        z = dem[ui, np.uint64(c0 + jj)]
        nlow += z < DEM_MIN_M
        gr = z - z_tx - d2 * inv2kr  # this cell's ground in the transmitter's frame
        gv = gr  # the back horizon is chosen from the ground
        if track:
            # the neighbours' obstacles: the reference-horizon one interpolated like the horizon;
            # of the two back-horizon ones, the real one seen steepest from this cell's ground
            # (measured against the radials: interpolating both overstates coverage on rough
            # terrain, taking the steeper of both understates it)
            ex, ef = _lerp_point(ex, ef, ex2, ef2, wf)
            bx, bf = _back_blend_scalar(bx, bf, bx2, bf2, wf, gv, d)
            if px > 0.0 and pf == pf:
                # the reference horizon, seen from REFERENCE_MAST_M above the transmitter's ground
                # (slopes compared by cross-multiplication; `|` and selects, not `or` and branches:
                # a short-circuit is a branch that rough terrain makes unpredictable: 14 % of the footprint time)
                ex, ef = _soft_pick(ex, ef, px, pf, ef - h_ref, ex, pf - h_ref, px)
                # the back horizon of this cell's ground: the neighbours', the terrain at the
                # crossing or the reference-horizon obstacle, whichever it sees at the steepest angle
                bx, bf = _soft_pick(bx, bf, px, pf, bf - gv, d - bx, pf - gv, d - px)
            if ex > 0.0:
                bx, bf = _soft_pick(bx, bf, ex, ef, bf - gv, d - bx, ef - gv, d - ex)
            cD[0, uj] = bx
            cD[1, uj] = bf
            cD[2, uj] = ex
            cD[3, uj] = ef
        if track:
            cD[5, uj] = -1.0  # no diffraction to add (see the second loop below)
        if d2 > r2:
            out[uii, uj] = outside
            continue
        # ---- this cell as a receiver
        if z != z:
            nod += 1
            visible = True
            s_r = 0.0
        else:
            s_r = (gr + h_rx) * inv_d
            visible = s_r >= sb
        if track:
            cD[4, uj] = np.inf if visible else s_r
            cD[5, uj] = d
        elif out_mode == 0:
            out[uii, uj] = 0.0 if visible else np.nan
        elif out_mode == 2 and not visible:
            out[uii, uj] = np.nan
        else:
            out[uii, uj] = _base_signal(d, ec, er, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db)
    if track:
        # the signals of the row's receivers, in a loop of their own over independent cells (SIMD)
        _row_signals(out[ii], ja, jb, cD, cols_dj, kxi, er, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db,
                     two_over_lambda, outside)
        if is_site_row:
            dj = cols_dj[js]
            ec = dj * kxi
            out[ii, js] = _base_signal(max(math.sqrt(ec * ec + er2), 1.0), ec, er, eirp, fa, fb, pa, pb, sector,
                                       az_rad, bw_rad, am_db)
    return nod, nlow


@nb.njit(cache=True, fastmath=_FM)
def _sweep_half(dem, out, half, r0, c0, kx, dy, ys, xs, js, i_site, S0, D0, pS, pD, cS, cD, ja0, jb0,
                cols_dj, cols_tc, cols_itc, z_tx, h_rx, inv2kr, r2, r2m, two_over_lambda, out_mode, eirp, fa,
                fb, pa, pb, sector, az_rad, bw_rad, am_db, outside):
    """Rows below (half 0) or above (half 1) the transmitter's row, outward, starting from the
    transmitter row's horizons ``S0, D0`` over columns ``ja0 .. jb0``. Returns nodata receivers
    and cells read below :data:`DEM_MIN_M`."""
    wny, wnx = out.shape
    pS[:] = S0
    pD[:, :] = D0
    pa_ = ja0
    pb_ = jb0
    nod = 0
    nlow = 0
    if half == 0:
        rows = range(i_site + 1, wny)
    else:
        rows = range(i_site - 1, -1, -1)
    for ii in rows:
        ja, jb = _row_span(ii, ys, xs, dy, kx[ii], r2m, wnx)
        # never wider than the previous row (its horizons are the ones interpolated)
        if ja < pa_:
            ja = pa_
        if jb > pb_:
            jb = pb_
        if ja > jb or ja > js or jb < js:
            out[ii, :] = outside
            continue
        out[ii, :ja] = outside
        out[ii, jb + 1:] = outside
        n_r, z_r = _sweep_row(dem, out, ii, r0, c0, kx[ii], dy, ys, xs, js, False, pS, pD, cS, cD, ja, jb,
                          cols_dj, cols_tc, cols_itc, z_tx, h_rx, inv2kr, r2, two_over_lambda, out_mode, eirp,
                          fa, fb, pa, pb, sector, az_rad, bw_rad, am_db, outside)
        nod += n_r
        nlow += z_r
        pS, cS = cS, pS
        pD, cD = cD, pD
        pa_ = ja
        pb_ = jb
    return nod, nlow


@nb.njit(cache=True, fastmath=_FM)
def _prepare_columns(wnx, xs):
    """Per-column offsets from the transmitter and the shallow-crossing fractions."""
    cols_dj = np.empty(wnx)
    cols_tc = np.zeros(wnx)
    cols_itc = np.zeros(wnx)
    for jj in range(wnx):
        dj = jj - xs
        cols_dj[jj] = dj
        adj = abs(dj)
        if adj > 1.0:
            cols_tc[jj] = 1.0 - 1.0 / adj
            cols_itc[jj] = adj / (adj - 1.0)
    return cols_dj, cols_tc, cols_itc


@nb.njit(cache=True, fastmath=_FM)
def _margin_r2(radius_m, kx, dy):
    """Squared radius plus :data:`MARGIN_CELLS` of the larger cell side."""
    cell = dy
    for v in kx:
        if v > cell:
            cell = v
    rm = radius_m + MARGIN_CELLS * cell
    return rm * rm


@nb.njit(cache=True, fastmath=_FM)
def _site_row_setup(dem, out, r0, c0, kx, dy, row_f, col_f, z_tx, h_rx, inv2kr, radius_m, two_over_lambda,
                    out_mode, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db, outside):
    """What :func:`sweep_window` and :func:`sweep_batch` share before the two halves: the
    window's geometry and the transmitter's own row."""
    wnx = out.shape[1]
    ys = row_f - 0.5 - r0
    xs = col_f - 0.5 - c0
    i_site = int(math.floor(row_f)) - r0
    js = int(math.floor(col_f)) - c0
    r2 = radius_m * radius_m
    r2m = _margin_r2(radius_m, kx, dy)
    cols_dj, cols_tc, cols_itc = _prepare_columns(wnx, xs)
    S0 = np.empty(wnx)
    D0 = np.empty((6, wnx))
    ja0, jb0 = _row_span(i_site, ys, xs, dy, kx[i_site], r2m, wnx)
    ja0 = min(ja0, js)
    jb0 = max(jb0, js)
    out[i_site, :ja0] = outside
    out[i_site, jb0 + 1:] = outside
    nod, nlow = _sweep_row(dem, out, i_site, r0, c0, kx[i_site], dy, ys, xs, js, True, S0, D0, S0, D0, ja0, jb0,
                     cols_dj, cols_tc, cols_itc, z_tx, h_rx, inv2kr, r2, two_over_lambda, out_mode, eirp, fa, fb,
                     pa, pb, sector, az_rad, bw_rad, am_db, outside)
    return nod, nlow, i_site, js, ys, xs, r2, r2m, cols_dj, cols_tc, cols_itc, S0, D0, ja0, jb0


@nb.njit(cache=True, parallel=True)
def sweep_window(dem, out, r0, c0, kx, dy, row_f, col_f, z_tx, h_rx, inv2kr, radius_m, two_over_lambda,
                 out_mode, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db, outside):
    """One transmitter on the window ``out`` (grid cell (r0, c0) at out[0, 0]); the halves
    of the window above and below the transmitter on two threads.

    ``out`` receives ``outside`` beyond the radius (+inf when the caller must tell it from
    NaN); inside, for ``out_mode`` 0 (line of sight) 0.0 where visible and NaN where not;
    1 (signal with diffraction) the signal; 2 (signal, line of sight only) the signal where
    visible and NaN where not. ``kx`` metres per column of the window's rows, ``dy`` metres
    per row, ``row_f, col_f`` the transmitter's fractional grid index, ``z_tx`` antenna height
    above datum, ``inv2kr`` = 1/(2kR). Returns the number of receivers on DEM nodata and of
    cells read below :data:`DEM_MIN_M` (an unmasked nodata value: the caller raises).
    """
    wnx = out.shape[1]
    (nod0, nlow0, i_site, js, ys, xs, r2, r2m, cols_dj, cols_tc, cols_itc, S0, D0, ja0,
     jb0) = _site_row_setup(dem, out, r0, c0, kx, dy, row_f, col_f, z_tx, h_rx, inv2kr, radius_m, two_over_lambda,
                   out_mode, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db, outside)
    nods = np.zeros(2, dtype=np.int64)
    nlows = np.zeros(2, dtype=np.int64)
    for half in nb.prange(2):
        pS = np.empty(wnx)
        pD = np.empty((6, wnx))
        cS = np.empty(wnx)
        cD = np.empty((6, wnx))
        nods[half], nlows[half] = _sweep_half(dem, out, half, r0, c0, kx, dy, ys, xs, js, i_site, S0, D0, pS, pD, cS, cD,
                                 ja0, jb0, cols_dj, cols_tc, cols_itc, z_tx, h_rx, inv2kr, r2, r2m, two_over_lambda,
                                 out_mode, eirp, fa, fb, pa, pb, sector, az_rad, bw_rad, am_db,
                                 outside)
    return nod0 + nods[0] + nods[1], nlow0 + nlows[0] + nlows[1]


@nb.njit(cache=True, parallel=True)
def sweep_batch(dem, geographic, lat_rows_rad, dlon_r, dx, dy, vflat, offsets, r0, c0, wny, wnx, row_f, col_f,
                lat_s_rad, z_tx, h_rx, inv2kr, radius_m, two_over_lambda, out_mode, eirp, fa, fb, pa, pb,
                sector, az_rad, bw_rad, am_db, nodata, outside):
    """Many transmitters in parallel (one thread per transmitter). Site ``s`` writes its window
    into ``vflat[offsets[s] : offsets[s] + wny[s]*wnx[s]]``; nodata receivers go to ``nodata``."""
    for s in nb.prange(row_f.shape[0]):
        n = wny[s] * wnx[s]
        out = vflat[offsets[s]:offsets[s] + n].reshape((wny[s], wnx[s]))
        kx = np.empty(wny[s])
        for ii in range(wny[s]):
            if geographic:
                kx[ii] = dlon_r * math.cos(0.5 * (lat_s_rad[s] + lat_rows_rad[r0[s] + ii]))
            else:
                kx[ii] = dx
        (nod, _z, i_site, js, ys, xs, r2, r2m, cols_dj, cols_tc, cols_itc, S0, D0, ja0,
         jb0) = _site_row_setup(dem, out, r0[s], c0[s], kx, dy, row_f[s], col_f[s], z_tx[s], h_rx, inv2kr, radius_m[s],
                       two_over_lambda[s], out_mode, eirp[s], fa[s], fb[s], pa[s], pb[s], sector[s], az_rad[s],
                       bw_rad[s], am_db, outside)
        m = wnx[s]
        pS = np.empty(m)
        pD = np.empty((6, m))
        cS = np.empty(m)
        cD = np.empty((6, m))
        for half in range(2):
            n_h, _z = _sweep_half(dem, out, half, r0[s], c0[s], kx, dy, ys, xs, js, i_site, S0, D0, pS, pD, cS,
                                  cD, ja0, jb0, cols_dj, cols_tc, cols_itc, z_tx[s], h_rx, inv2kr, r2, r2m,
                                  two_over_lambda[s], out_mode, eirp[s], fa[s], fb[s], pa[s], pb[s], sector[s],
                                  az_rad[s], bw_rad[s], am_db, outside)
            nod += n_h
        nodata[s] = nod
