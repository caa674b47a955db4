"""Outputs: summary.json, XLSX, GeoPackage, GeoTIFF rasters and the interactive map."""

from __future__ import annotations

from .exports import write_geopackage, write_rasters, write_summary, write_xlsx
from .maps import coverage_map

__all__ = ["write_summary", "write_xlsx", "write_geopackage", "write_rasters", "coverage_map"]
