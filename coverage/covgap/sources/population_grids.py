"""Population grids other than WorldPop: GHS-POP R2023A tiles and the High Resolution Settlement Layer.

Both are **people per cell** (counts), like WorldPop; covgap never interpolates them. A grid on
another resolution than the analysis grid is aggregated onto it by sums
(:func:`covgap.compare.layer_on_grid`, :func:`covgap.population.regrid_population_sum_preserving`).

* GHS-POP R2023A (JRC, CC BY 4.0): WGS 84 tiles at 3 arc-seconds, one zip per tile and epoch; the
  GeoTIFF inside is extracted next to it with its own manifest. The tile row/column come from the GHSL
  tiling schema (``GHSL_data_4326_shapefile.zip``); covgap does not compute them.
* HRSL (Meta Data for Good and CIESIN, CC BY 4.0): 10°×10° cloud-optimised GeoTIFFs at 1 arc-second
  (settlement-constrained: people only on cells with detected buildings; nodata NaN).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import FetchError
from . import validate as _v
from .cache import Cache
from .catalog import CHECKED, SOURCES, ghs_pop_tile_path, hrsl_tile_path, hrsl_tiles_for_bbox

__all__ = ["fetch_ghs_pop", "fetch_hrsl", "GHS_POP_EPOCHS"]

#: GHS-POP R2023A epochs (1975–2030 every 5 years).
GHS_POP_EPOCHS: tuple[int, ...] = tuple(range(1975, 2031, 5))


def fetch_ghs_pop(cache: Cache, *, epoch: int, row: int, col: int) -> Path:
    """Fetch one GHS-POP R2023A 3″ tile (zip) and return the path of its extracted GeoTIFF.

    The zip is kept as downloaded (``ghs_pop/…zip`` + manifest); the ``.tif`` member is written beside
    it with a manifest naming the zip it came from.
    """
    if int(epoch) not in GHS_POP_EPOCHS:
        raise FetchError(f"GHS-POP epoch {epoch}; R2023A has {GHS_POP_EPOCHS[0]}–{GHS_POP_EPOCHS[-1]} every 5 years.")
    path = ghs_pop_tile_path(int(epoch), int(row), int(col))
    name = path.rsplit("/", 1)[1]
    src = SOURCES["ghs_pop"]
    info = {"source": src.name, "product": "population (people per cell)", "release": "R2023A",
            "epoch": int(epoch), "tile": [int(row), int(col)], "resolution": "3 arc-seconds",
            "licence": src.licence, "attribution": src.attribution, "citation": src.citation,
            "pattern_checked": CHECKED}
    z = cache.fetch(cache.endpoints.url("ghsl", path), Path("ghs_pop") / name, validate=_v.zip_with([".tif"]),
                    info=info)
    tif_rel = Path("ghs_pop") / (name[: -len(".zip")] + ".tif")
    if cache.has(tif_rel):
        return cache.path(tif_rel)
    with zipfile.ZipFile(z) as zf:
        members = [m for m in zf.namelist() if m.lower().endswith(".tif")]
    if len(members) != 1:
        raise FetchError(f"GHS-POP tile {z}: expected one .tif member, found {members}.")

    def make(tmp: Path) -> None:
        with zipfile.ZipFile(z) as zf, zf.open(members[0]) as fin, tmp.open("wb") as fout:
            while chunk := fin.read(1 << 20):
                fout.write(chunk)
        _v.geotiff()(tmp)

    return cache.write_derived(tif_rel, make=make, derived_from=[z], info={**info, "member": members[0]})


def fetch_hrsl(cache: Cache, bbox: tuple[float, float, float, float], *, dataset: str = "general",
               version: str = "1.5.4") -> list[Path]:
    """Fetch the HRSL tiles (10°×10°, 1″) covering a lon/lat ``bbox``; return their paths.

    Each tile is large (a 36,000 × 36,000 cell COG); clip it to the study area before analysis
    (``gdal_translate -projwin``) and aggregate it onto the analysis grid by sums.
    """
    src = SOURCES["hrsl"]
    out = []
    for lat, lon in hrsl_tiles_for_bbox(bbox):
        path = hrsl_tile_path(lat, lon, dataset=dataset, version=version)
        info = {"source": src.name, "product": f"population (people per cell), {dataset}", "release": f"v{version}",
                "tile": [lat, lon], "resolution": "1 arc-second", "licence": src.licence,
                "attribution": src.attribution, "citation": src.citation, "pattern_checked": CHECKED,
                "pattern_note": "tile name seen in public code, not in the provider's documentation"}
        out.append(cache.fetch(cache.endpoints.url("hrsl", path), Path("hrsl") / path.rsplit("/", 1)[1],
                               validate=_v.geotiff(), info=info))
    return out
