"""Outputs: summary.json, XLSX, GeoPackage, GeoTIFF rasters, the interactive map, HTML and PDF reports."""

from __future__ import annotations

from .exports import write_geopackage, write_province_package, write_rasters, write_summary, write_xlsx
from .html import write_html_report
from .maps import coverage_map
from .pdf import write_pdf_report

__all__ = [
    "write_summary",
    "write_xlsx",
    "write_geopackage",
    "write_rasters",
    "coverage_map",
    "write_html_report",
    "write_pdf_report",
    "write_province_package",
]
