"""Per-unit sums over a tiled coverage, tile by tile (memory bounded by the tile size)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..overlay import zonal_layer_sums, zonal_sum
from .executors import run_tasks
from .plan import Tile
from .run import TiledCoverage
from .store import RasterSource, core_source, read_window

__all__ = ["tiled_zonal_sums", "fast_zonal_sum"]


def fast_zonal_sum(values: np.ndarray, labels: np.ndarray, n_units: int) -> np.ndarray:
    """Σ ``values`` per label ``1..n_units`` (index 0 = outside all units), parallel.

    The same function as :func:`covgap.overlay.zonal_sum` (kept under this name for the
    benchmarks): one parallel pass, float64 accumulators, fixed summation order.

    Examples
    --------
    >>> fast_zonal_sum(np.array([[1., 2.], [3., 4.]]), np.array([[1, 1], [0, 2]]), 2)
    array([3., 3., 4.])
    """
    return zonal_sum(values, labels, n_units)


def _zonal_task(spec: dict[str, Any]) -> dict[str, Any]:
    tc: TiledCoverage = spec["coverage"]
    tile: Tile = spec["tile"]
    cov = tc.read_tile(tile)
    lab = read_window(spec["labels"], tile.row0, tile.row1, tile.col0, tile.col1)
    pop = read_window(spec["population"], tile.row0, tile.row1, tile.col0, tile.col1)
    techs = list(tc.technologies)
    bits = (np.stack([cov.technologies[t].operator_bits for t in techs]) if techs
            else np.zeros((0, *tile.shape), np.uint32))
    out, bad_label, bad_value = zonal_layer_sums(lab, pop, bits, spec["n_units"])
    return {"tile": tile.name, "sums": out, "bad_label": int(bad_label), "bad_value": int(bad_value)}


def tiled_zonal_sums(coverage: TiledCoverage, *, population: RasterSource, labels: RasterSource, n_units: int,
                     executor: Any = None, max_in_flight: int = 8, progress: bool = False) -> pd.DataFrame:
    """People per admin unit, covered per technology and by any, tile by tile.

    Parameters
    ----------
    coverage : TiledCoverage
    population, labels : array-like or callable
        People per cell and unit labels (``0`` outside, ``k + 1`` for unit ``k``, as
        :func:`covgap.overlay.rasterize_units` makes them) on the coverage grid; callables
        are called ``source(r0, r1, c0, c1)`` per tile.
    n_units : int
    executor, max_in_flight
        As in :func:`compute_coverage_tiled`.

    Returns
    -------
    DataFrame
        One row per label ``0..n_units`` (row 0 = outside all units) with columns
        ``population``, ``covered_<tech>``…, ``covered_any``, ``uncovered``.

    Raises
    ------
    InputError
        When labels fall outside ``0..n_units`` or population is not finite (counted).
    """
    tiles = coverage.plan.tiles()
    specs = ({"coverage": coverage, "tile": t, "labels": core_source(labels, t),
              "population": core_source(population, t), "n_units": int(n_units)} for t in tiles)
    results = run_tasks(_zonal_task, specs, len(tiles), executor, desc="tiles: zonal sums", progress=progress,
                   max_in_flight=max_in_flight)
    techs = list(coverage.technologies)
    total = np.zeros((int(n_units) + 1, len(techs) + 2))
    for res in sorted(results, key=lambda d: d["tile"]):
        total += res["sums"]
    bad_label = sum(r["bad_label"] for r in results)
    bad_value = sum(r["bad_value"] for r in results)
    if bad_label or bad_value:
        raise InputError(f"{bad_label} cell(s) have labels outside 0..{n_units} and {bad_value} cell(s) have "
                         "non-finite population. Fix: rasterise the units with covgap.overlay.rasterize_units "
                         "and replace population nodata by 0 (covgap.population).")
    cols = ["population"] + [f"covered_{t}" for t in techs] + ["covered_any"]
    df = pd.DataFrame(total, columns=cols)
    df["uncovered"] = df["population"] - df["covered_any"]
    df.index.name = "label"
    return df

