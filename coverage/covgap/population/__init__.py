"""People-per-cell helpers that do not depend on how a raster was read.

Rules (GUIDE §2): population counts are never interpolated; every person of the source raster ends
up in exactly one destination cell / admin unit or in an explicitly reported remainder.

- :func:`clean_population` turns a raw band into float64 people with nodata = 0, and says
  what it did (declared nodata, an *undeclared* −99999 sentinel, NaN).
- :func:`regrid_population_sum_preserving` moves people onto another grid in the same CRS:
  block sums when the destination is coarser and aligned, otherwise each source cell's people
  are split by the exact (spherical on geographic grids) area fraction that falls in each
  destination cell.
- :func:`pad_population` grows the grid by whole cells on every side with zero people in the pad
  (the analysis grid padded past the border by the model's reach, ``[study] pad_km``).
- :func:`snap_outside_cells` gives populated cells whose centre fell just outside every unit
  (coast, national outline) to the nearest unit within a few cells, and reports what moved.
- :func:`find_overlaps` finds admin polygons that overlap (people would be counted twice).
- :func:`settlement_check` is a data-quality lens: settlement points (hamlets) on cells without people,
  and populated cells far from any settlement point.
- :func:`adjust_to_totals` rescales the people inside each unit so that the unit's sum equals an
  official total, keeping the grid's pattern inside the unit.
"""

from .cells import NODATA_SENTINELS, aligned_blocks, clean_population, pad_population, regrid_population_sum_preserving
from .settlements import SettlementCheck, settlement_check
from .totals import ADJUSTMENT_COLUMNS, adjust_to_totals
from .units import find_overlaps, fractional_unit_sums, fractional_unit_weights, snap_outside_cells

__all__ = [
    "NODATA_SENTINELS",
    "clean_population",
    "regrid_population_sum_preserving",
    "aligned_blocks",
    "pad_population",
    "snap_outside_cells",
    "fractional_unit_weights",
    "fractional_unit_sums",
    "find_overlaps",
    "adjust_to_totals",
    "ADJUSTMENT_COLUMNS",
    "SettlementCheck",
    "settlement_check",
]
