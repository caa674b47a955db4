"""Tiled coverage: national runs in memory bounded by the tile size, resumable, on any executor.

:func:`compute_coverage_tiled` cuts the grid into tiles (:mod:`.plan`), runs any
:class:`~covgap.models.base.CoverageModel` once per tile on the tile grown by the model's reach
(:mod:`.merge`), stores pieces and merged tiles on disk (:mod:`.store`), and sums population per
unit tile by tile (:mod:`.sums`). Executors: this process, ``concurrent.futures``, or Dask
(:mod:`.dask`).
"""

from .plan import DEFAULT_TILE_SIZE, HALO_MARGIN_CELLS, Tile, TilePlan, model_reach_m, plan_tiles
from .run import TiledCoverage, TiledModel, compute_coverage_tiled
from .store import RasterSource
from .sums import fast_zonal_sum, tiled_zonal_sums

__all__ = [
    "Tile",
    "TilePlan",
    "TiledCoverage",
    "TiledModel",
    "RasterSource",
    "plan_tiles",
    "model_reach_m",
    "compute_coverage_tiled",
    "tiled_zonal_sums",
    "fast_zonal_sum",
    "DEFAULT_TILE_SIZE",
    "HALO_MARGIN_CELLS",
]
