"""Rasters in and out: population (nodata = 0 people, said), the DEM warped onto the grid, GeoTIFFs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.warp
from rasterio.enums import Resampling

from ..config import InputRef
from ..errors import CRSError, DataFileError
from ..grid import Grid
from ..population import clean_population


def _exists(path: Path, what: str) -> None:
    if not path.exists():
        raise DataFileError(f"{what} file {path} does not exist. Fix: check the path in the config.")


def read_raster(path: str | Path, *, what: str = "raster", band: int = 1) -> tuple[np.ndarray, Grid, float | None, dict]:
    """Read one band with its grid and declared nodata.

    Returns ``(array, grid, nodata, info)``; ``info`` has ``area_or_point`` and ``dtype``.
    Raises :class:`~covgap.errors.CRSError` when the file has no CRS (never guessed).
    """
    path = Path(path)
    _exists(path, what)
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise CRSError(
                    f"{what} {path} has no coordinate reference system; covgap never guesses one. "
                    f"Fix: assign the right CRS, e.g. `gdal_edit.py -a_srs EPSG:4326 {path.name}`."
                )
            arr = ds.read(band)
            grid = Grid(crs=ds.crs.to_wkt(), transform=ds.transform, shape=(ds.height, ds.width))
            info = {"area_or_point": ds.tags().get("AREA_OR_POINT", "Area"), "dtype": str(ds.dtypes[band - 1])}
            return arr, grid, ds.nodata, info
    except rasterio.errors.RasterioIOError as exc:
        raise DataFileError(f"{what} {path} cannot be read as a raster: {exc}. Fix: check it is a GeoTIFF.") from exc


def read_population(ref: InputRef | str | Path) -> tuple[np.ndarray, Grid, dict[str, Any]]:
    """Read a people-per-cell raster; nodata → 0 people, said in the returned notes.

    A raster whose nodata is unset but that holds a known sentinel (−99999, −FLT_MAX) is
    handled: those cells become 0 and the notes say how many. Other negative values are an
    error (people cannot be negative).
    """
    path = Path(ref.path if isinstance(ref, InputRef) else ref)
    arr, grid, nodata, info = read_raster(path, what="population raster")
    a, notes = clean_population(arr, nodata, source=str(path))
    notes["area_or_point"] = info["area_or_point"]
    return a, grid, notes


def read_dem_onto(ref: InputRef | str | Path, grid: Grid) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a DEM onto ``grid`` (float32 metres, NaN = unknown terrain).

    When the DEM is on another grid it is warped with bilinear resampling (elevations are
    not counts, so interpolation is right here) and the notes say so.
    """
    path = Path(ref.path if isinstance(ref, InputRef) else ref)
    arr, dgrid, nodata, info = read_raster(path, what="DEM")
    notes: dict[str, Any] = {"area_or_point": info["area_or_point"]}
    a = arr.astype(np.float32)
    if nodata is not None:
        a[a == nodata] = np.nan
    if dgrid.same_as(grid):
        out = a
        notes["resampled"] = False
    else:
        out = np.full(grid.shape, np.nan, dtype=np.float32)
        rasterio.warp.reproject(
            a, out, src_transform=dgrid.transform, src_crs=dgrid.crs.to_wkt(), src_nodata=np.nan,
            dst_transform=grid.transform, dst_crs=grid.crs.to_wkt(), dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
        notes["resampled"] = "bilinear onto the population grid"
    notes["nodata_cells"] = int(np.isnan(out).sum())
    return out, notes




def write_geotiff(path: str | Path, array: np.ndarray, grid: Grid, *, nodata=None, tags: dict | None = None,
                  band_description: str | None = None) -> Path:
    """Write one band as a compressed, tiled GeoTIFF on ``grid``."""
    path = Path(path)
    profile = dict(driver="GTiff", height=grid.ny, width=grid.nx, count=1, dtype=array.dtype,
                   crs=grid.crs.to_wkt(), transform=grid.transform, compress="deflate", tiled=True,
                   blockxsize=256, blockysize=256, nodata=nodata)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array, 1)
        if tags:
            ds.update_tags(**{k: str(v) for k, v in tags.items()})
        if band_description:
            ds.set_band_description(1, band_description)
    return path
