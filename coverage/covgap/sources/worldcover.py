"""ESA WorldCover 10 m land cover for a bounding box: the 3°×3° map tiles, cached with manifests.

The map is a set of Cloud-Optimised GeoTIFFs (uint8 class codes 10 … 100, 0 = no data,
EPSG:4326, 1/12000° pixels) named by their south-west corner on whole multiples of 3°
(``ESA_WorldCover_10m_2021_v200_N21E105_Map.tif``; see :mod:`covgap.sources.catalog`).
Tiles exist over land only: a tile of open sea answers **HTTP 404**, which is not an error —
it is counted and reported as "no tile" (the run treats such cells as unmapped, i.e. sea at
0 m, see :func:`covgap.landcover.radio_climatic_zone`). The tiles answered 404 are written
down in the cache (``…_absent.json``), so an offline check later does not list them as missing.

The tiles are kept whole in one folder of the cache; ``[landcover] path`` points at that
folder and :func:`covgap.io.read_landcover_onto` reduces them to the analysis grid by
majority (no national 10 m mosaic is written: Viet Nam's would be ~16 billion pixels).

Licence: CC BY 4.0, attribution "© ESA WorldCover project 2021 / Contains modified
Copernicus Sentinel data (2021) processed by ESA WorldCover consortium".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FetchError
from . import validate as _v
from .cache import Cache, OfflineMissingError
from .catalog import SOURCES, WORLDCOVER_CHECKED, WORLDCOVER_RELEASES, worldcover_tile_id, worldcover_tile_path
from .copernicus import _check_bbox

__all__ = ["WORLDCOVER_TILE_DEG", "worldcover_tiles_for_bbox", "worldcover_folder", "LandCoverFetch",
           "fetch_worldcover"]

#: Tile size of the WorldCover map [degrees].
WORLDCOVER_TILE_DEG = 3


def worldcover_tiles_for_bbox(bbox) -> list[tuple[int, int]]:
    """``(lat_south, lon_west)`` of every 3° WorldCover tile that touches ``bbox`` (west, south, east, north).

    Examples
    --------
    >>> worldcover_tiles_for_bbox((105.2, 20.5, 106.0, 21.3))
    [(18, 105), (21, 105)]
    """
    w, s, e, n = _check_bbox(bbox)
    d = WORLDCOVER_TILE_DEG
    lats = range(math.floor(s / d) * d, math.ceil(n / d) * d, d)
    lons = range(math.floor(w / d) * d, math.ceil(e / d) * d, d)
    return [(la, lo) for la in lats for lo in lons]


def worldcover_folder(year: int = 2021) -> Path:
    """The cache folder (relative to the cache root) holding one release's tiles.

    >>> worldcover_folder().as_posix()
    'landcover/worldcover_2021_v200'
    """
    return Path("landcover") / f"worldcover_{year}_{WORLDCOVER_RELEASES[year]}"


@dataclass
class LandCoverFetch:
    """What :func:`fetch_worldcover` did: tiles cached, tiles with no file (open sea), the folder."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    absent_404: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        return {"folder": str(self.folder), "tiles": len(self.files), "no_tile_404": list(self.absent_404),
                "missing_offline": list(self.missing)}


def fetch_worldcover(cache: Cache, bbox, *, year: int = 2021) -> LandCoverFetch:
    """Download (or find in the cache) every WorldCover map tile over ``bbox``.

    Parameters
    ----------
    cache : Cache
    bbox : (west, south, east, north)
        Degrees, WGS 84 — already padded by the model's reach (``covgap fetch`` does it).
    year : {2021, 2020}
        2021 = v200 (default), 2020 = v100.

    Returns
    -------
    LandCoverFetch
        The cached tiles (each with a manifest: URL, bytes, sha256, licence, attribution), the
        tiles the bucket has no file for (HTTP 404: open sea), and — offline — the tiles missing.

    Raises
    ------
    OfflineMissingError
        Offline and at least one tile is neither cached nor known to be absent (every such tile
        is recorded in ``cache.missing`` first, so ``covgap fetch --offline`` lists them all).
    FetchError
        A download failed for another reason than 404.
    """
    if year not in WORLDCOVER_RELEASES:
        from ..errors import ConfigError

        raise ConfigError(f"[sources.landcover] year = {year!r}; expected one of {sorted(WORLDCOVER_RELEASES)}.")
    folder = worldcover_folder(year)
    info_src = SOURCES["esa_worldcover"]
    absent_rel = folder.parent / f"{folder.name}_absent.json"
    known_absent: set[str] = set()
    if cache.path(absent_rel).is_file():
        try:
            known_absent = set(json.loads(cache.path(absent_rel).read_text(encoding="utf-8")).get("no_tile_404", []))
        except (OSError, ValueError):
            known_absent = set()
    res = LandCoverFetch(folder=cache.path(folder))
    for la, lo in worldcover_tiles_for_bbox(bbox):
        tile = worldcover_tile_id(la, lo)
        path = worldcover_tile_path(la, lo, year=year)
        name = path.rsplit("/", 1)[1]
        if tile in known_absent and not cache.has(folder / name):
            res.absent_404.append(tile)
            continue
        try:
            res.files.append(cache.fetch(
                cache.endpoints.url("esa_worldcover", path), folder / name, validate=_v.geotiff(),
                info={"source": info_src.name, "product": f"ESA WorldCover 10 m {year} {WORLDCOVER_RELEASES[year]}",
                      "tile": tile, "licence": info_src.licence, "attribution": info_src.attribution,
                      "citation": info_src.citation, "release": f"{year} {WORLDCOVER_RELEASES[year]}",
                      "pattern_checked": WORLDCOVER_CHECKED}))
        except OfflineMissingError:
            res.missing.append(tile)
        except FetchError as exc:
            if "HTTP 404" not in str(exc):
                raise
            res.absent_404.append(tile)
    new_absent = sorted(set(res.absent_404) - known_absent)
    if new_absent and not cache.offline:
        everything = sorted(known_absent | set(res.absent_404))

        def make(tmp: Path) -> None:
            tmp.write_text(json.dumps({"no_tile_404": everything, "note": "tiles the bucket answered HTTP 404 "
                                       "for: open sea, no land to map"}, indent=1), encoding="utf-8")

        cache.write_derived(absent_rel, make=make, info={"source": info_src.name, "licence": info_src.licence})
    if res.missing:
        raise OfflineMissingError(f"{len(res.missing)} WorldCover tile(s) missing from the cache")
    return res
