"""Private numba kernels for the radius model. Pure: arrays in, arrays out (in place).

Each kernel has a slow NumPy reference in ``tests/naive.py`` and is tested against it.
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
    ny = yc.shape[0]
    nx = xc.shape[0]
    x0 = xc[0]
    y0 = yc[0]
    ddx = xc[1] - xc[0] if nx > 1 else 1.0
    ddy = yc[1] - yc[0] if ny > 1 else -1.0
    for s in range(sx.shape[0]):
        r = radius_m[s]
        r2 = r * r
        # window in rows/cols (generous by one cell)
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
        r0 = max(int(math.floor(rc - rr)), 0)
        r1 = min(int(math.ceil(rc + rr)) + 1, ny)
        c0 = max(int(math.floor(ccn - cc)), 0)
        c1 = min(int(math.ceil(ccn + cc)) + 1, nx)
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


def disc_fill(bits, n_sites, serving, best_d2, xc, yc, geographic, sx, sy, radius_m, op_bit, site_row):
    """Typed entry to :func:`_disc_fill` (arguments as documented there)."""
    _disc_fill(bits, n_sites, serving, best_d2,
               np.ascontiguousarray(xc, dtype=np.float64), np.ascontiguousarray(yc, dtype=np.float64),
               bool(geographic),
               np.ascontiguousarray(sx, dtype=np.float64), np.ascontiguousarray(sy, dtype=np.float64),
               np.ascontiguousarray(radius_m, dtype=np.float64),
               np.ascontiguousarray(op_bit, dtype=np.uint32), np.ascontiguousarray(site_row, dtype=np.int32),
               0.0, 0.0)
