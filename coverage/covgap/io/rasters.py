"""Rasters in and out: population (nodata = 0 people, said), the DEM warped onto the grid, land-cover
classes by majority onto the grid, GeoTIFFs."""

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

    When the DEM has the grid's cells shifted by whole cells (the padded analysis grid of
    ``[study] pad_km`` over a DEM on the population raster's grid, or a larger DEM on the same
    cells) the overlap is copied exactly and cells the file does not cover are NaN. On any other
    grid it is warped with bilinear resampling (elevations are not counts, so interpolation is
    right here) and the notes say so.
    """
    path = Path(ref.path if isinstance(ref, InputRef) else ref)
    arr, dgrid, nodata, info = read_raster(path, what="DEM")
    notes: dict[str, Any] = {"area_or_point": info["area_or_point"]}
    a = arr.astype(np.float32)
    if nodata is not None:
        a[a == nodata] = np.nan
    off = grid.cell_offset(dgrid)
    if dgrid.same_as(grid):
        out = a
        notes["resampled"] = False
    elif off is not None:  # same cells, whole-cell shift (e.g. the padded population grid): copied, not warped
        out = np.full(grid.shape, np.nan, dtype=np.float32)
        r0, c0 = off
        dr0, dc0 = max(r0, 0), max(c0, 0)
        dr1, dc1 = min(r0 + dgrid.ny, grid.ny), min(c0 + dgrid.nx, grid.nx)
        if dr1 > dr0 and dc1 > dc0:
            out[dr0:dr1, dc0:dc1] = a[dr0 - r0:dr1 - r0, dc0 - c0:dc1 - c0]
        notes["resampled"] = False
        notes["aligned_window"] = "the DEM's cells are the grid's (whole-cell offset): copied, not resampled"
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


def landcover_files(path: str | Path) -> list[Path]:
    """The class rasters a land-cover input names: the file itself, or every ``*.tif`` in a folder
    (e.g. the ESA WorldCover tiles ``covgap fetch`` caches), sorted by name."""
    path = Path(path)
    _exists(path, "land-cover")
    if path.is_dir():
        files = sorted(p for p in path.glob("*.tif") if p.is_file())
        if not files:
            raise DataFileError(f"land-cover folder {path} holds no *.tif file. Fix: run `covgap fetch` for "
                                "[sources.landcover], or point [landcover] path at a GeoTIFF of class codes.")
        return files
    return [path]


def read_landcover_onto(ref: InputRef | str | Path, grid: Grid, *, nodata: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """Read land-cover class codes onto ``grid`` by **majority** (the most frequent class of the
    source pixels in each cell; classes are categories, never averaged).

    ``ref`` is a GeoTIFF of class codes (0-255) or a folder of them (WorldCover tiles): each
    file that overlaps the grid is warped with ``Resampling.mode`` and fills the cells it
    covers (where tiles meet, a cell takes the majority of the first tile covering it).
    Cells no file covers, and cells whose pixels are all nodata, get ``nodata`` (WorldCover's
    0, "not mapped"), counted in the notes.

    Returns ``(classes uint8, notes)``.
    """
    from rasterio.coords import disjoint_bounds
    from rasterio.warp import transform_bounds

    path = Path(ref.path if isinstance(ref, InputRef) else ref)
    files = landcover_files(path)
    out = np.full(grid.shape, nodata, dtype=np.uint8)
    filled = np.zeros(grid.shape, dtype=bool)
    used, skipped = [], 0
    fill = 255 if nodata != 255 else 254  # "this file does not cover the cell"
    left, bottom, right, top = rasterio.transform.array_bounds(grid.ny, grid.nx, grid.transform)
    for f in files:
        try:
            with rasterio.open(f) as ds:
                if ds.crs is None:
                    raise CRSError(f"land-cover raster {f} has no coordinate reference system; covgap never guesses "
                                   f"one. Fix: e.g. `gdal_edit.py -a_srs EPSG:4326 {f.name}`.")
                if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
                    raise DataFileError(f"land-cover raster {f} holds {ds.dtypes[0]} values; expected integer class "
                                        "codes (ESA WorldCover: uint8). Fix: point [landcover] path at the class map.")
                gb = transform_bounds(grid.crs.to_wkt(), ds.crs, left, bottom, right, top, densify_pts=21)
                if disjoint_bounds(gb, tuple(ds.bounds)):
                    skipped += 1
                    continue
                tmp = np.full(grid.shape, fill, dtype=np.uint8)
                src_nodata = ds.nodata if ds.nodata is not None else nodata
                rasterio.warp.reproject(
                    rasterio.band(ds, 1), tmp, src_nodata=src_nodata, dst_transform=grid.transform,
                    dst_crs=grid.crs.to_wkt(), dst_nodata=fill,
                    resampling=Resampling.mode, init_dest_nodata=True,
                )
        except rasterio.errors.RasterioIOError as exc:
            raise DataFileError(f"land-cover raster {f} cannot be read: {exc}. Fix: check it is a GeoTIFF "
                                "(run `covgap fetch` again for a damaged tile).") from exc
        got = (tmp != fill) & ~filled
        out[got] = tmp[got]
        filled |= got
        used.append(f.name)
    notes = {"files": used, "files_outside_grid": skipped, "resampled": "majority (mode) onto the analysis grid",
             "cells_without_data": int((out == nodata).sum())}
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
