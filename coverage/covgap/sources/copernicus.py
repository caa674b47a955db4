"""Copernicus DEM GLO-30 / GLO-90 for a bounding box: tiles, windows, mosaic, clip.

The Copernicus DEM on AWS is a set of 1°×1° Cloud-Optimised GeoTIFFs named by their
south-west corner (``Copernicus_DSM_COG_30_N21_00_E105_00_DEM.tif`` for GLO-90,
``…_COG_10_…`` for GLO-30; see :mod:`covgap.sources.catalog`). Two modes:

* ``mode="download"`` (default): whole tiles are downloaded into the cache (resumable,
  verified, with manifests), then mosaicked and clipped locally; works offline afterwards.
* ``mode="vsicurl"``: GDAL reads **only the windows needed** straight from the COGs over
  HTTP range requests (``/vsicurl/``); only the clipped mosaic is stored.

What the heights are — say it in every report that uses them:

* **A surface model (DSM)**, not bare earth: heights include buildings and tree canopy
  (TanDEM-X radar, 2011–2015). In forest the "ground" is the canopy top, so line-of-sight
  and antenna heights above ground are biased where trees are tall.
* **Vertical datum EGM2008** (geoid heights, EPSG:3855), horizontal WGS 84 (EPSG:4326).
* Heights are point samples on a 1″ (GLO-30) or 3″ (GLO-90) lattice; the COGs put each
  sample at a pixel centre (the files' origin is half a pixel west/north of the whole
  degree). The mosaic keeps that lattice exactly (the bounding box is snapped outward to
  it; no resampling).
* Ocean: the buckets have **no tile** over open sea; the provider says to assume 0 m
  there. Tiles absent from the bucket's ``tileList.txt`` are filled with 0 m and listed
  in the manifest (``ocean_tiles``). Pixels that a real tile leaves empty stay nodata
  (−32767, "unknown terrain").
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, FetchError
from . import validate as _v
from .cache import Cache
from .catalog import (
    CHECKED,
    COPERNICUS_PRODUCTS,
    SOURCES,
    copernicus_tile_id,
    copernicus_tile_list_path,
    copernicus_tile_path,
)

__all__ = [
    "DEM_NODATA",
    "VERTICAL_DATUM",
    "tiles_for_bbox",
    "snap_bbox",
    "fetch_dem",
    "fetch_tile_list",
]

#: Nodata written into covgap's DEM mosaics (unknown terrain).
DEM_NODATA = -32767.0
#: Release of the Copernicus DEM copies on AWS (AWS Open Data registry, "copernicus-dem").
COPERNICUS_RELEASE = "Copernicus DEM 2021 release (GLO-30 Public / GLO-90 DGED), COGs on AWS"
#: Vertical datum of Copernicus DEM heights.
VERTICAL_DATUM = "EGM2008 geoid (EPSG:3855)"
_SURFACE_NOTE = (
    "Digital SURFACE model: heights include buildings and vegetation canopy, not bare ground. "
    "Vertical datum EGM2008 (EPSG:3855); horizontal WGS 84."
)


def _check_bbox(bbox) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ConfigError(
            f"bbox = {bbox!r}; expected [west, south, east, north] in degrees."
        ) from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise ConfigError(
            f"bbox = {bbox!r}; expected west < east in −180…180 and south < north in −90…90 "
            "(order: west, south, east, north)."
        )
    return w, s, e, n


def tiles_for_bbox(bbox) -> list[tuple[int, int]]:
    """``(lat_south, lon_west)`` of every 1° tile that touches ``bbox`` (west, south, east, north).

    Examples
    --------
    >>> tiles_for_bbox((105.2, 20.5, 106.0, 21.3))
    [(20, 105), (21, 105)]

    """
    w, s, e, n = _check_bbox(bbox)
    lats = range(math.floor(s), math.ceil(n))
    lons = range(math.floor(w), math.ceil(e))
    return [(la, lo) for la in lats for lo in lons]


def snap_bbox(bbox, res_deg: float) -> tuple[float, float, float, float]:
    """Grow ``bbox`` outward to the Copernicus pixel lattice (edges at whole degrees ± half a pixel).

    >>> [round(v, 6) for v in snap_bbox((105.2, 20.5, 105.3, 20.6), 1 / 1200)]
    [105.199583, 20.499583, 105.300417, 20.600417]
    """
    w, s, e, n = _check_bbox(bbox)
    h = res_deg / 2
    eps = 1e-9
    w2 = math.floor((w + h) / res_deg + eps) * res_deg - h
    e2 = math.ceil((e + h) / res_deg - eps) * res_deg - h
    s2 = math.floor((s - h) / res_deg + eps) * res_deg + h
    n2 = math.ceil((n - h) / res_deg - eps) * res_deg + h
    return w2, s2, e2, n2


def _pname(product: str) -> str:
    return product.lower().replace("-", "")


def fetch_tile_list(cache: Cache, product: str = "GLO-90") -> set[str] | None:
    """Return the names of the tiles on the bucket (``tileList.txt``), or ``None`` if unavailable."""
    key = COPERNICUS_PRODUCTS[product][0]
    url = cache.endpoints.url(key, copernicus_tile_list_path())

    def check(p: Path) -> None:
        text = p.read_text(encoding="utf-8", errors="replace")
        if "Copernicus_DSM" not in text[:4096]:
            raise FetchError(
                f"expected a list of Copernicus tile names, got {_v.describe_start(p)}."
            )

    try:
        p = cache.fetch(
            url,
            Path("dem") / _pname(product) / "tileList.txt",
            validate=check,
            info={"source": "Copernicus DEM", "product": product, "pattern_checked": CHECKED},
        )
    except FetchError as exc:
        if "HTTP 404" in str(exc):
            return None
        raise
    names = set()
    for line in p.read_text(encoding="utf-8").split():
        names.add(line.strip().removesuffix(".tif"))
    return names


def fetch_dem(
    cache: Cache,
    bbox,
    *,
    product: str = "GLO-90",
    mode: str = "download",
    out: str | Path | None = None,
    use_tile_list: bool = True,
) -> Path:
    """Mosaic and clip the Copernicus DEM to ``bbox``; return the cached GeoTIFF's path.

    Parameters
    ----------
    cache : Cache
        Where tiles and the result go.
    bbox : (west, south, east, north)
        Degrees, WGS 84. Grown outward to the DEM's pixel lattice.
    product : {"GLO-90", "GLO-30"}
        3″ (~90 m) or 1″ (~30 m).
    mode : {"download", "vsicurl"}
        Download whole tiles into the cache, or read only the needed windows over HTTP.
    out : path, optional
        Result path inside the cache (default ``dem/copernicus_{glo90}_{w}_{s}_{e}_{n}.tif``).
    use_tile_list : bool
        Use the bucket's ``tileList.txt`` to tell ocean (no tile, 0 m) from a missing tile (error).
        Without it, a tile answering 404 is taken as ocean and flagged in the manifest.

    Returns
    -------
    Path
        Float32 GeoTIFF in EPSG:4326, nodata −32767, tags ``VERTICAL_DATUM`` and ``SURFACE_MODEL``.

    """
    if product not in COPERNICUS_PRODUCTS:
        raise ConfigError(
            f"[sources.dem] product = {product!r}; expected one of {sorted(COPERNICUS_PRODUCTS)}."
        )
    if mode not in ("download", "vsicurl"):
        raise ConfigError(f"[sources.dem] mode = {mode!r}; expected 'download' or 'vsicurl'.")
    w, s, e, n = _check_bbox(bbox)
    key, code, arcsec = COPERNICUS_PRODUCTS[product]
    res = arcsec / 3600.0
    if out is None:
        out = Path("dem") / f"copernicus_{_pname(product)}_{w:.4f}_{s:.4f}_{e:.4f}_{n:.4f}.tif"
    if cache.has(out):
        return cache.path(out)
    if mode == "vsicurl" and cache.offline:
        cache.fetch(
            cache.endpoints.url(key, copernicus_tile_path(product, math.floor(s), math.floor(w))),
            out,
            info={"source": "Copernicus DEM"},
        )  # records it as missing and raises

    listed = fetch_tile_list(cache, product) if use_tile_list else None
    sources: list[tuple[str, str, Path | None]] = []  # (tile name, url, cached path)
    ocean: list[str] = []
    absent_404: list[str] = []
    info_src = SOURCES["copernicus_dem"]
    tile_info = {
        "source": info_src.name,
        "product": product,
        "licence": info_src.licence,
        "attribution": info_src.attribution,
        "vertical_datum": VERTICAL_DATUM,
        "release": COPERNICUS_RELEASE,
        "pattern_checked": CHECKED,
    }
    for la, lo in tiles_for_bbox((w, s, e, n)):
        name = f"Copernicus_DSM_COG_{code}_{copernicus_tile_id(la, lo)}_DEM"
        url = cache.endpoints.url(key, copernicus_tile_path(product, la, lo))
        if listed is not None and name not in listed:
            ocean.append(name)
            continue
        if mode == "vsicurl":
            sources.append((name, url, None))
            continue
        try:
            p = cache.fetch(
                url,
                Path("dem") / _pname(product) / f"{name}.tif",
                validate=_v.geotiff(),
                info={**tile_info, "tile": name},
            )
        except FetchError as exc:
            if listed is None and "HTTP 404" in str(exc):
                absent_404.append(name)
                continue
            raise
        sources.append((name, url, p))

    def make(tmp: Path) -> None:
        _mosaic(tmp, sources, ocean + absent_404, (w, s, e, n), res, product, mode)

    info = {
        "source": info_src.name,
        "product": product,
        "mode": mode,
        "bbox_requested": [w, s, e, n],
        "bbox_snapped": list(snap_bbox((w, s, e, n), res)),
        "tiles": [t[0] for t in sources],
        "tile_urls": [t[1] for t in sources],
        "ocean_tiles": ocean,
        "absent_tiles_404": absent_404,
        "tile_list_used": listed is not None,
        "vertical_datum": VERTICAL_DATUM,
        "release": COPERNICUS_RELEASE,
        "surface_model": _SURFACE_NOTE,
        "nodata": DEM_NODATA,
        "licence": info_src.licence,
        "attribution": info_src.attribution,
        "citation": info_src.citation,
        "pattern_checked": CHECKED,
    }
    return cache.write_derived(
        out, make=make, derived_from=[t[2] for t in sources if t[2] is not None], info=info
    )


def _gdal_env() -> dict[str, Any]:
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif",
        "GDAL_HTTP_MAX_RETRY": "4",
        "GDAL_HTTP_RETRY_DELAY": "1",
        "VSI_CACHE": "TRUE",
    }


def _mosaic(
    tmp: Path, sources, fill_zero: list[str], bbox, res: float, product: str, mode: str
) -> None:
    """Write the mosaic window by window (memory: one tile, not the whole country)."""
    import rasterio
    from affine import Affine
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window

    w2, s2, e2, n2 = snap_bbox(bbox, res)
    width = int(round((e2 - w2) / res))
    height = int(round((n2 - s2) / res))
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": width,
        "height": height,
        "crs": "EPSG:4326",
        "transform": Affine(res, 0.0, w2, 0.0, -res, n2),
        "nodata": DEM_NODATA,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "IF_SAFER",
    }
    if width >= 256 and height >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.Env(**_gdal_env()), rasterio.open(tmp, "w+", **profile) as dst:
        strip = max(1, (1 << 24) // max(width, 1))
        for r0 in range(0, height, strip):
            h = min(strip, height - r0)
            dst.write(
                np.full((h, width), DEM_NODATA, dtype="float32"), 1, window=Window(0, r0, width, h)
            )
        for name, url, path in sources:
            target = str(path) if path is not None else f"/vsicurl/{url}"
            where = f"cached file {path}" if path is not None else "over HTTP"
            try:
                with rasterio.open(target) as ds:
                    _paste(ds, dst, name, (w2, s2, e2, n2), res)
            except RasterioIOError as exc:
                raise FetchError(
                    f"cannot read DEM tile {name} ({where}): {exc}. Fix: run `covgap fetch` again "
                    "(mode = 'download' re-verifies cached tiles)."
                ) from None
        # ocean tiles: the provider says to assume 0 m where no tile exists
        for name in fill_zero:
            la, lo = _parse_tile(name)
            c0 = max(0, int(math.floor((lo - w2) / res + 1e-9)))
            c1 = min(width, int(math.ceil((lo + 1 - w2) / res - 1e-9)))
            r0 = max(0, int(math.floor((n2 - (la + 1)) / res + 1e-9)))
            r1 = min(height, int(math.ceil((n2 - la) / res - 1e-9)))
            if c0 < c1 and r0 < r1:
                win = Window(c0, r0, c1 - c0, r1 - r0)
                block = dst.read(1, window=win)
                block[block == DEM_NODATA] = 0.0
                dst.write(block, 1, window=win)
        dst.update_tags(
            VERTICAL_DATUM=VERTICAL_DATUM,
            SURFACE_MODEL=_SURFACE_NOTE,
            PRODUCT=f"Copernicus DEM {product}",
            MODE=mode,
            AREA_OR_POINT="Area",
        )
        dst.set_band_unit(1, "metre")


def _paste(ds, dst, name: str, bounds, res: float) -> None:
    """Copy the part of tile ``ds`` inside ``bounds`` into ``dst`` (same pixel lattice; no resampling)."""
    from rasterio.windows import Window

    w2, s2, e2, n2 = bounds
    t = ds.transform
    if abs(t.a - res) > 1e-9 * res or abs(-t.e - res) > 1e-9 * res:
        raise FetchError(
            f"DEM tile {name} has pixels of {t.a:.9f}° × {-t.e:.9f}°; expected {res:.9f}° square (Copernicus tiles "
            "north of 50° have wider longitude spacing, which covgap does not mosaic). Fix: use a bbox below 50° "
            "latitude or resample the tiles first."
        )
    shift = (t.c - w2) / res
    if abs(shift - round(shift)) > 1e-3:
        raise FetchError(
            f"DEM tile {name} is not on the 1/{round(1 / res)}° lattice (origin {t.c}); cannot mosaic "
            "without resampling."
        )
    b = ds.bounds
    left, right = max(w2, b.left), min(e2, b.right)
    bottom, top = max(s2, b.bottom), min(n2, b.top)
    if left >= right or bottom >= top:
        return
    width = int(round((right - left) / res))
    height = int(round((top - bottom) / res))
    col_off = int(round((left - t.c) / res))
    row_off = int(round((t.f - top) / res))
    a = ds.read(1, window=Window(col_off, row_off, width, height)).astype("float32")
    if ds.nodata is not None:
        a[a == ds.nodata] = DEM_NODATA
    a[~np.isfinite(a)] = DEM_NODATA
    c0 = int(round((left - w2) / res))
    r0 = int(round((n2 - top) / res))
    h = min(a.shape[0], dst.height - r0)
    w = min(a.shape[1], dst.width - c0)
    dst.write(a[:h, :w], 1, window=Window(c0, r0, w, h))


def _parse_tile(name: str) -> tuple[int, int]:
    # Copernicus_DSM_COG_30_N21_00_E105_00_DEM
    parts = name.split("_")
    ns, ew = parts[4], parts[6]
    la = int(ns[1:]) * (1 if ns[0] == "N" else -1)
    lo = int(ew[1:]) * (1 if ew[0] == "E" else -1)
    return la, lo
