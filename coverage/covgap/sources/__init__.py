"""Real data sources: fetch and cache WorldPop, Copernicus DEM, ESA WorldCover, boundaries and OpenCelliD.

Everything goes through a :class:`~covgap.sources.cache.Cache` (``data/raw/`` by default):
downloads are resumable, retried, verified and recorded in a manifest beside each file
(URL, release, date fetched, bytes, sha256, licence, attribution); ``offline=True`` uses
only what is cached and lists what is missing. URL patterns live in
:mod:`covgap.sources.catalog`, with the date they were checked.

>>> from covgap.sources import Cache, fetch_worldpop   # doctest: +SKIP
>>> tif = fetch_worldpop(Cache("data/raw"), "VNM", 2025, release="R2025A")   # doctest: +SKIP
"""

from __future__ import annotations

from .boundaries import fetch_cod_ab, fetch_geoboundaries
from .cache import DEFAULT_CACHE_DIR, Cache, MissingFile, OfflineMissingError
from .catalog import CHECKED, Endpoints
from .copernicus import fetch_dem
from .hamlets import fetch_osm_hamlets
from .http import HttpOptions, download, read_manifest, redact
from .opencellid import fetch_opencellid, resolve_token
from .osm import fetch_osm_masts
from .population_grids import fetch_ghs_pop, fetch_hrsl
from .vn2025 import fetch_vn2025
from .worldcover import fetch_worldcover, worldcover_tiles_for_bbox
from .worldpop import fetch_worldpop, worldpop_listing

__all__ = [
    "CHECKED",
    "DEFAULT_CACHE_DIR",
    "Cache",
    "Endpoints",
    "HttpOptions",
    "MissingFile",
    "OfflineMissingError",
    "download",
    "fetch_cod_ab",
    "fetch_dem",
    "fetch_geoboundaries",
    "fetch_ghs_pop",
    "fetch_hrsl",
    "fetch_opencellid",
    "fetch_osm_hamlets",
    "fetch_osm_masts",
    "fetch_vn2025",
    "fetch_worldcover",
    "fetch_worldpop",
    "worldcover_tiles_for_bbox",
    "read_manifest",
    "redact",
    "resolve_token",
    "worldpop_listing",
]
