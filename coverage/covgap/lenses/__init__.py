"""Lenses: kinds of place (land-border belt, islands, mountains, rural) and the people in them.

:mod:`.masks` computes the per-cell masks and values from the grid, DEM, population and border
lines; :mod:`.tables` decides which lenses apply to a study area and turns them into per-unit
columns and tables.
"""

from .masks import (
    DENSITY_CLASSES,
    URBAN_CENTRE_DENSITY_PER_KM2,
    URBAN_CLUSTER_DENSITY_PER_KM2,
    border_belt,
    density_class,
    density_per_km2,
    distance_to_border_km,
    distance_to_border_points_km,
    elevation_std_m,
    island_mask,
    land_border_arc,
    land_border_lines,
    mountain_mask,
    ruggedness_tri_m,
)
from .tables import CellLenses, border_belt_table, compute_lenses, lens_columns, lens_table

__all__ = [
    "DENSITY_CLASSES",
    "URBAN_CENTRE_DENSITY_PER_KM2",
    "URBAN_CLUSTER_DENSITY_PER_KM2",
    "land_border_lines",
    "land_border_arc",
    "distance_to_border_km",
    "distance_to_border_points_km",
    "border_belt",
    "island_mask",
    "mountain_mask",
    "ruggedness_tri_m",
    "elevation_std_m",
    "density_per_km2",
    "density_class",
    "CellLenses",
    "compute_lenses",
    "lens_columns",
    "lens_table",
    "border_belt_table",
]
