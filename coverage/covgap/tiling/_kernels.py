"""Private numba kernels for tiled coverage (:mod:`covgap.tiling`). Pure: arrays in, arrays out.

* :func:`_radius_d2` recomputes, per cell, the squared distance to the serving site with
  *exactly* the formula of :func:`covgap.models._disc_kernels._disc_fill` (same operations, same
  order), so that "nearest site wins, lower row on a tie" merges across tiles give the
  bit-for-bit result of one untiled run.
* :func:`_merge_piece` merges one window piece into a tile: OR of operator bits, sum of
  transmitter counts (saturating at 65535 like the models), best key wins, lower site row
  on an exact tie.

Each kernel has a slow NumPy reference in ``tests/test_tiles.py``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..models._disc_kernels import _d2


@nb.njit(cache=True)
def _radius_d2(serving, xc, yc, geographic, sx, sy):
    """Squared distance (m²) from each cell centre to its serving site; +inf where none.

    serving (ny, nx) int32 rows into sx/sy; xc (nx,), yc (ny,) cell centres (degrees when
    ``geographic``); sx, sy site coordinates in the grid's CRS.
    """
    ny, nx = serving.shape
    out = np.empty((ny, nx), dtype=np.float64)
    for i in range(ny):
        for j in range(nx):
            s = serving[i, j]
            if s < 0:
                out[i, j] = np.inf
                continue
            d2 = _d2(i, j, s, xc, yc, geographic, sx, sy)
            out[i, j] = d2
    return out


@nb.njit(cache=True, inline="always")
def _merge_counts(bits, n_sites, pbits, pn, i, j):
    """Cell ``(i, j)``: the piece's operators OR-ed in, its transmitter count added (saturating at 65535)."""
    bits[i, j] |= pbits[i, j]
    n = np.int64(n_sites[i, j]) + np.int64(pn[i, j])
    n_sites[i, j] = 65535 if n > 65535 else n


@nb.njit(cache=True)
def _merge_piece_radius(bits, n_sites, serving, pbits, pn, pserv, xc, yc, geographic, sx, sy):
    """Merge a radius-model piece into a tile in place: nearest site wins, lower row on a tie.

    Distances are computed only where both the tile and the piece have a serving site.
    xc, yc: centres of the tile's columns / rows (full-grid values).
    """
    ny, nx = bits.shape
    for i in range(ny):
        for j in range(nx):
            _merge_counts(bits, n_sites, pbits, pn, i, j)
            ps = pserv[i, j]
            if ps < 0:
                continue
            s = serving[i, j]
            if s < 0:
                serving[i, j] = ps
                continue
            dp = _d2(i, j, ps, xc, yc, geographic, sx, sy)
            ds = _d2(i, j, s, xc, yc, geographic, sx, sy)
            if dp < ds or (dp == ds and ps < s):
                serving[i, j] = ps


@nb.njit(cache=True)
def _merge_piece(bits, n_sites, serving, key, pbits, pn, pserv, pkey, higher_better):
    """Merge a piece (p*) into a tile's arrays in place (same shapes).

    ``key`` is the serving site's merit: signal in dBm (``higher_better``) or squared
    distance (lower is better); NaN/inf where no site serves.
    """
    ny, nx = bits.shape
    for i in range(ny):
        for j in range(nx):
            _merge_counts(bits, n_sites, pbits, pn, i, j)
            ps = pserv[i, j]
            if ps < 0:
                continue
            s = serving[i, j]
            pk = pkey[i, j]
            k = key[i, j]
            if s < 0:
                better = True
            elif higher_better:
                better = pk > k or (pk == k and ps < s)
            else:
                better = pk < k or (pk == k and ps < s)
            if better:
                serving[i, j] = ps
                key[i, j] = pk
