"""Private numba kernels of the zonal sums (:mod:`covgap.overlay`). Pure: arrays in, arrays out.

* :func:`_zonal_sum_parallel` is a one-layer parallel zonal sum;
* :func:`_zonal_layers` sums population per admin label for several coverage layers in one pass.

Each kernel has a slow NumPy reference in the tests (``tests/test_tiles.py``, ``tests/test_overlay.py``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _zonal_layers(labels, population, bits, n_units, out):
    """Σ population per label: total, per technology (bits[t] != 0) and any technology.

    labels (ny, nx) integer 0..n_units; population (ny, nx) float; bits (n_tech, ny, nx)
    uint32; out (n_units + 1, n_tech + 2) float64 accumulated in place: column 0 total,
    1..n_tech per technology, n_tech + 1 any. Returns (cells with a label out of range,
    cells with non-finite population); such cells are not summed.
    """
    ny, nx = labels.shape
    nt = bits.shape[0]
    bad_label = 0
    bad_value = 0
    for i in range(ny):
        for j in range(nx):
            lab = labels[i, j]
            if lab < 0 or lab > n_units:
                bad_label += 1
                continue
            p = np.float64(population[i, j])
            if not math.isfinite(p):
                bad_value += 1
                continue
            out[lab, 0] += p
            anyc = False
            for t in range(nt):
                if bits[t, i, j] != 0:
                    out[lab, 1 + t] += p
                    anyc = True
            if anyc:
                out[lab, nt + 1] += p
    return bad_label, bad_value


_N_CHUNKS = 64
_LANES = 4


@nb.njit(cache=True, parallel=True)
def _zonal_sum_parallel(labels, values, n_units):
    """Σ values per label 0..n_units over fixed chunks of the flat arrays (C-contiguous).

    Each chunk keeps ``_LANES`` interleaved accumulators, so consecutive cells of one unit
    do not wait on each other's additions; the order of the sums is fixed (the result does
    not depend on the thread count). Returns (sums float64 (n_units + 1,), cells with a
    label out of range, which are not summed).
    """
    lab = labels.ravel()
    val = values.ravel()
    n = lab.size
    part = np.zeros((_N_CHUNKS, _LANES, n_units + 1), dtype=np.float64)
    bad = np.zeros(_N_CHUNKS, dtype=np.int64)
    for c in nb.prange(_N_CHUNKS):
        i0 = (n * c) // _N_CHUNKS
        i1 = (n * (c + 1)) // _N_CHUNKS
        acc = part[c]
        nbad = 0
        k = i0
        while k + _LANES <= i1:
            for u in range(_LANES):
                lb = np.int64(lab[k + u])
                if lb < 0 or lb > n_units:
                    nbad += 1
                else:
                    acc[u, lb] += val[k + u]
            k += _LANES
        while k < i1:
            lb = np.int64(lab[k])
            if lb < 0 or lb > n_units:
                nbad += 1
            else:
                acc[0, lb] += val[k]
            k += 1
        bad[c] = nbad
    out = np.zeros(n_units + 1, dtype=np.float64)
    for c in range(_N_CHUNKS):
        for u in range(_LANES):
            for q in range(n_units + 1):
                out[q] += part[c, u, q]
    return out, bad.sum()
