"""WorldPop people-per-cell rasters (100 m or 1 km) for one country and year.

Releases: ``R2025A`` and ``R2024B`` (2015–2030, constrained or unconstrained) and the
2000–2020 series (``release="2020"``: unconstrained 100 m and 1 km, optionally UN-adjusted;
constrained 100 m for 2020). Values are **people per cell** (counts, not density), float32,
nodata −99999 in the files seen so far; constrained rasters put people only on cells with
mapped buildings, unconstrained ones spread them over all land — the choice changes
uncovered-population figures in sparsely built areas (question 5 of the guide).
See :func:`covgap.sources.catalog.worldpop_path` for the URL layouts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import FetchError
from . import validate as _v
from .cache import Cache
from .catalog import CHECKED, SOURCES, worldpop_api_path, worldpop_path

__all__ = ["worldpop_url", "fetch_worldpop", "worldpop_listing"]


def worldpop_url(cache: Cache, iso3: str, year: int, **kw: Any) -> str:
    """Full URL of the raster :func:`fetch_worldpop` would download (keywords as there)."""
    return cache.endpoints.url("worldpop_data", worldpop_path(iso3, year, **kw))


def fetch_worldpop(
    cache: Cache,
    iso3: str,
    year: int,
    *,
    release: str = "R2025A",
    constrained: bool = True,
    resolution: str = "100m",
    un_adjusted: bool = False,
    constrained_variant: str = "BSGM",
) -> Path:
    """Fetch (or find in the cache) one WorldPop raster; return its path.

    The file is kept under its WorldPop name in ``worldpop/{ISO3}/`` and verified as a
    GeoTIFF with a CRS that rasterio can read to the last row.

    Examples
    --------
    >>> from covgap.sources.catalog import Endpoints
    >>> c = Cache("/tmp/covgap-none", offline=True, endpoints=Endpoints())
    >>> worldpop_url(c, "VNM", 2020, release="R2024B", constrained=False).rsplit("/", 1)[1]
    'vnm_pop_2020_UC_100m_R2024B_v1.tif'

    """
    path = worldpop_path(
        iso3,
        year,
        release=release,
        constrained=constrained,
        resolution=resolution,
        un_adjusted=un_adjusted,
        constrained_variant=constrained_variant,
    )
    url = cache.endpoints.url("worldpop_data", path)
    src = SOURCES["worldpop"]
    info = {
        "source": src.name,
        "product": "population (people per cell)",
        "release": release,
        "year": int(year),
        "iso3": iso3.upper(),
        "constrained": bool(constrained),
        "resolution": resolution,
        "un_adjusted": bool(un_adjusted) or release.startswith("R"),
        "licence": src.licence,
        "attribution": src.attribution,
        "citation": src.citation,
        "pattern_checked": CHECKED,
    }
    rel = Path("worldpop") / iso3.upper() / path.rsplit("/", 1)[1]
    return cache.fetch(url, rel, validate=_v.geotiff(), info=info)


def worldpop_listing(cache: Cache, iso3: str, *, alias: str = "wpgp") -> list[dict[str, Any]]:
    """Return the WorldPop REST listing for ``iso3`` (cached): entries with ``popyear`` and ``files``.

    Useful to discover what exists (the 2000–2020 series); the Global2 releases are
    addressed by pattern (:func:`fetch_worldpop`).
    """

    def check(obj: object) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
            raise FetchError(
                "expected a WorldPop listing {'data': [...]}; got another JSON document."
            )

    url = cache.endpoints.url("worldpop_api", worldpop_api_path(iso3, alias))
    rel = Path("worldpop") / iso3.upper() / f"api_{alias}_{iso3.upper()}.json"
    p = cache.fetch(
        url,
        rel,
        validate=_v.json_document(check),
        info={
            "source": "WorldPop REST API",
            "licence": SOURCES["worldpop"].licence,
            "attribution": SOURCES["worldpop"].attribution,
            "pattern_checked": CHECKED,
        },
    )
    return list(json.loads(p.read_text(encoding="utf-8"))["data"])
