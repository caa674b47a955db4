"""Reading and writing files: the only module that opens them.

Readers check what would make the numbers wrong (no CRS, nodata, swapped coordinates,
unknown encodings) and raise errors that name the file, the row or field, and the fix.
:func:`load_study_area` builds a validated :class:`~covgap.study.StudyArea` from a config.
"""

from ..sources.http import sha256_file
from .load import load_study_area
from .rasters import landcover_files, read_dem_onto, read_landcover_onto, read_population, read_raster, write_geotiff
from .tables import (
    check_names_repaired,
    read_foreign_towers,
    read_hamlets,
    read_landcover_table,
    read_measurements,
    read_points_table,
    read_population_totals,
    read_towers,
)
from .vectors import read_lines, read_polygons

__all__ = [
    "sha256_file",
    "read_raster",
    "read_population",
    "read_dem_onto",
    "read_landcover_onto",
    "read_landcover_table",
    "landcover_files",
    "read_polygons",
    "read_lines",
    "read_points_table",
    "read_towers",
    "read_foreign_towers",
    "read_hamlets",
    "read_measurements",
    "read_population_totals",
    "check_names_repaired",
    "write_geotiff",
    "load_study_area",
]
