"""Where every public input lives: URL patterns, formats, licences — in one place.

Each pattern below was checked on **2026-11-27** against the providers' own documentation
and against published code that downloads from them (the machine that wrote this module had
no internet access, so the patterns were not probed live; ``docs/data-sources.md`` lists the
documents each one was taken from). When a provider moves a file, change it here and only
here, and update :data:`CHECKED`.

Base URLs are looked up through :class:`Endpoints`, so tests (and mirrors) can point every
service at another host: set ``COVGAP_SOURCES_BASE_URL=http://127.0.0.1:8000`` and the
service ``https://data.worldpop.org`` becomes ``http://127.0.0.1:8000/data.worldpop.org``;
or override one service with ``COVGAP_URL_<KEY>`` (e.g. ``COVGAP_URL_WORLDPOP_DATA``) or the
config's ``[sources.urls]`` table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import ConfigError

__all__ = [
    "CHECKED",
    "REAL_BASE_URLS",
    "Endpoints",
    "SourceInfo",
    "SOURCES",
    "WORLDPOP_RELEASES",
    "worldpop_path",
    "worldpop_api_path",
    "copernicus_tile_id",
    "copernicus_tile_path",
    "copernicus_tile_list_path",
    "COPERNICUS_PRODUCTS",
    "geoboundaries_api_path",
    "HDX_COD_AB",
    "hdx_package_path",
    "opencellid_path",
    "ghs_pop_tile_path",
    "hrsl_tile_path",
    "hrsl_tiles_for_bbox",
    "github_raw_path",
    "github_commit_path",
    "WORLDCOVER_CHECKED",
    "WORLDCOVER_RELEASES",
    "worldcover_tile_id",
    "worldcover_tile_path",
]

#: Date the URL patterns and formats in this module were last checked (ISO 8601).
CHECKED = "2026-11-27"

#: The real services, by key. Every URL covgap builds starts with one of these.
REAL_BASE_URLS: dict[str, str] = {
    "worldpop_data": "https://data.worldpop.org",
    "worldpop_api": "https://hub.worldpop.org",
    "copernicus_glo30": "https://copernicus-dem-30m.s3.amazonaws.com",
    "copernicus_glo90": "https://copernicus-dem-90m.s3.amazonaws.com",
    "geoboundaries": "https://www.geoboundaries.org",
    "hdx": "https://data.humdata.org",
    "opencellid": "https://opencellid.org",
    "ghsl": "https://jeodpp.jrc.ec.europa.eu",
    "overpass": "https://overpass-api.de",
    "hrsl": "https://dataforgood-fb-data.s3.amazonaws.com",
    "github_raw": "https://raw.githubusercontent.com",
    "github_api": "https://api.github.com",
    "esa_worldcover": "https://esa-worldcover.s3.eu-central-1.amazonaws.com",
}

_ENV_BASE = "COVGAP_SOURCES_BASE_URL"


@dataclass(frozen=True)
class Endpoints:
    """Base URL of each service (no trailing slash).

    Examples
    --------
    >>> ep = Endpoints.with_base("http://127.0.0.1:8000")
    >>> ep.url("worldpop_data", "/GIS/x.tif")
    'http://127.0.0.1:8000/data.worldpop.org/GIS/x.tif'
    >>> Endpoints().url("opencellid", "/ocid/downloads")
    'https://opencellid.org/ocid/downloads'

    """

    bases: Mapping[str, str] = field(default_factory=lambda: dict(REAL_BASE_URLS))

    @classmethod
    def with_base(cls, base: str) -> Endpoints:
        """Every service under one base URL, at ``{base}/{real host name}`` (a mirror or a test server)."""
        base = base.rstrip("/")
        return cls({k: f"{base}/{urlsplit(v).netloc}" for k, v in REAL_BASE_URLS.items()})

    @classmethod
    def from_env(
        cls, overrides: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> Endpoints:
        """Real URLs, then ``COVGAP_SOURCES_BASE_URL``, ``COVGAP_URL_<KEY>``, then ``overrides``."""
        env = os.environ if environ is None else environ
        ep = cls.with_base(env[_ENV_BASE]) if env.get(_ENV_BASE) else cls()
        bases = dict(ep.bases)
        for key in REAL_BASE_URLS:
            val = env.get(f"COVGAP_URL_{key.upper()}")
            if val:
                bases[key] = val.rstrip("/")
        for key, val in (overrides or {}).items():
            if key not in REAL_BASE_URLS:
                raise ConfigError(
                    f"[sources.urls] has unknown service {key!r}; known: {sorted(REAL_BASE_URLS)}. "
                    "Fix: use one of those keys."
                )
            bases[key] = str(val).rstrip("/")
        return cls(bases)

    def url(self, key: str, path: str) -> str:
        """Full URL of ``path`` (starting with ``/``) on service ``key``."""
        return self.bases[key] + path


@dataclass(frozen=True)
class SourceInfo:
    """Licence and attribution text for one provider (goes into every manifest)."""

    name: str
    licence: str
    attribution: str
    homepage: str
    citation: str = ""


SOURCES: dict[str, SourceInfo] = {
    "worldpop": SourceInfo(
        name="WorldPop",
        licence="CC BY 4.0",
        attribution="Population: WorldPop (www.worldpop.org), CC BY 4.0.",
        homepage="https://www.worldpop.org",
        citation="WorldPop (www.worldpop.org - School of Geography and Environmental Science, "
        "University of Southampton). Global 2015-2030 (R2024B/R2025A): "
        "doi:10.5258/SOTON/WP00803 (R2024B); 2000-2020: doi:10.5258/SOTON/WP00671.",
    ),
    "copernicus_dem": SourceInfo(
        name="Copernicus DEM",
        licence="Copernicus DEM licence (free, worldwide, attribution required; GLO-30 Public / GLO-90)",
        attribution="Terrain: Copernicus DEM GLO-30/GLO-90, © DLR e.V. 2010-2014 and © Airbus Defence "
        "and Space GmbH 2014-2018, provided under COPERNICUS by the European Union and ESA; "
        "all rights reserved.",
        homepage="https://registry.opendata.aws/copernicus-dem/",
        citation="ESA (2021). Copernicus DEM GLO-30/GLO-90, doi:10.5270/ESA-c5d3d65.",
    ),
    "geoboundaries": SourceInfo(
        name="geoBoundaries",
        licence="CC BY 4.0 (gbOpen; per-file licence in the API answer's boundaryLicense)",
        attribution="Boundaries: geoBoundaries (www.geoboundaries.org), CC BY 4.0.",
        homepage="https://www.geoboundaries.org",
        citation="Runfola D. et al. (2020) geoBoundaries: A global database of political administrative "
        "boundaries. PLoS ONE 15(4): e0231866.",
    ),
    "cod_ab": SourceInfo(
        name="OCHA COD-AB",
        licence="CC BY 3.0 IGO",
        attribution="Boundaries (34 provinces, from 1 July 2025): General Statistics Office of Viet Nam; "
        "OCHA COD-AB via the Humanitarian Data Exchange (data.humdata.org), CC BY 3.0 IGO.",
        homepage="https://data.humdata.org/dataset/cod-ab-vnm",
    ),
    "opencellid": SourceInfo(
        name="OpenCelliD",
        licence="CC BY-SA 4.0",
        attribution="Cell locations: OpenCelliD Project (opencellid.org) by Unwired Labs, CC BY-SA 4.0.",
        homepage="https://opencellid.org",
    ),
    "vn2025": SourceInfo(
        name="vietnamese-provinces-database",
        licence="MIT",
        attribution="Administrative units 2025: vietnamese-provinces-database (MIT), from the reference map of "
        "the Ministry of Agriculture and Environment (sapnhap.bando.com.vn); codes and names: GSO.",
        homepage="https://github.com/thanglequoc/vietnamese-provinces-database",
    ),
    "esa_worldcover": SourceInfo(
        name="ESA WorldCover",
        licence="CC BY 4.0",
        attribution="Land cover: © ESA WorldCover project 2021 / Contains modified Copernicus Sentinel data "
        "(2021) processed by ESA WorldCover consortium, CC BY 4.0.",
        homepage="https://esa-worldcover.org",
        citation="Zanaga D. et al. (2022). ESA WorldCover 10 m 2021 v200. doi:10.5281/zenodo.7254221.",
    ),
    "ghs_pop": SourceInfo(
        name="GHS-POP",
        licence="CC BY 4.0",
        attribution="Population: GHS-POP R2023A, European Commission JRC, CC BY 4.0.",
        homepage="https://human-settlement.emergency.copernicus.eu/",
        citation="Schiavina M. et al. (2023) GHS-POP R2023A. doi:10.2905/2FF68A52-5B5B-4A22-8F40-C41DA8332CFE.",
    ),
    "hrsl": SourceInfo(
        name="High Resolution Settlement Layer (HRSL)",
        licence="CC BY 4.0",
        attribution="Population: High Resolution Settlement Layer, Meta (Data for Good) and CIESIN, Columbia "
        "University, CC BY 4.0.",
        homepage="https://dataforgood.facebook.com/dfg/tools/high-resolution-population-density-maps",
        citation="Facebook Connectivity Lab and CIESIN, Columbia University (2016). High Resolution Settlement "
        "Layer (HRSL). Source imagery for HRSL © 2016 DigitalGlobe.",
    ),
}

# --------------------------------------------------------------------------- WorldPop
#: WorldPop releases covgap knows: release → (first year, last year).
#: ``R2025A`` and ``R2024B`` are the "Global2" 2015-2030 series; ``2020`` is the 2000-2020 series.
WORLDPOP_RELEASES: dict[str, tuple[int, int]] = {
    "R2025A": (2015, 2030),
    "R2024B": (2015, 2030),
    "2020": (2000, 2020),
}


def worldpop_path(
    iso3: str,
    year: int,
    *,
    release: str = "R2025A",
    constrained: bool = True,
    resolution: str = "100m",
    un_adjusted: bool = False,
    constrained_variant: str = "BSGM",
) -> str:
    """Path (on ``worldpop_data``) of one WorldPop people-per-cell GeoTIFF.

    Layouts (checked :data:`CHECKED`):

    * Global2 (``R2025A``, ``R2024B``), 2015–2030, 100 m::

        /GIS/Population/Global_2015_2030/{rel}/{year}/{ISO}/v1/100m/{constrained|unconstrained}/
            {iso}_pop_{year}_{CN|UC}_100m_{rel}_v1.tif

      and 1 km (UN-adjusted): ``.../v1/1km_ua/{..}/{iso}_pop_{year}_{CN|UC}_1km_{rel}_UA_v1.tif``.
    * 2000–2020 series (``release="2020"``), unconstrained 100 m:
      ``/GIS/Population/Global_2000_2020/{year}/{ISO}/{iso}_ppp_{year}[_UNadj].tif``;
      1 km: ``/GIS/Population/Global_2000_2020_1km[_UNadj]/{year}/{ISO}/{iso}_ppp_{year}_1km_Aggregated[_UNadj].tif``;
      constrained 100 m (2020 only):
      ``/GIS/Population/Global_2000_2020_Constrained/2020/{BSGM|maxar_v1}/{ISO}/{iso}_ppp_2020[_UNadj]_constrained.tif``.

    Examples
    --------
    >>> worldpop_path("VNM", 2025)
    '/GIS/Population/Global_2015_2030/R2025A/2025/VNM/v1/100m/constrained/vnm_pop_2025_CN_100m_R2025A_v1.tif'
    >>> worldpop_path("VNM", 2020, release="2020", resolution="1km", un_adjusted=True, constrained=False)
    '/GIS/Population/Global_2000_2020_1km_UNadj/2020/VNM/vnm_ppp_2020_1km_Aggregated_UNadj.tif'

    """
    ISO, iso = iso3.upper(), iso3.lower()
    if len(ISO) != 3 or not ISO.isalpha():
        raise ConfigError(f"WorldPop: iso3 = {iso3!r}; expected a 3-letter ISO code such as 'VNM'.")
    if release not in WORLDPOP_RELEASES:
        raise ConfigError(
            f"WorldPop: release = {release!r}; expected one of {sorted(WORLDPOP_RELEASES)}."
        )
    first, last = WORLDPOP_RELEASES[release]
    if not first <= int(year) <= last:
        raise ConfigError(
            f"WorldPop release {release} covers {first}–{last}; year {year} is outside it. "
            "Fix: pick a year in range or another release (R2025A/R2024B: 2015–2030; 2020: 2000–2020)."
        )
    if resolution not in ("100m", "1km"):
        raise ConfigError(f"WorldPop: resolution = {resolution!r}; expected '100m' or '1km'.")
    if release.startswith("R"):
        kind, code = ("constrained", "CN") if constrained else ("unconstrained", "UC")
        if resolution == "100m":
            return (
                f"/GIS/Population/Global_2015_2030/{release}/{year}/{ISO}/v1/100m/{kind}/"
                f"{iso}_pop_{year}_{code}_100m_{release}_v1.tif"
            )
        return (
            f"/GIS/Population/Global_2015_2030/{release}/{year}/{ISO}/v1/1km_ua/{kind}/"
            f"{iso}_pop_{year}_{code}_1km_{release}_UA_v1.tif"
        )
    ua = "_UNadj" if un_adjusted else ""
    if constrained:
        if int(year) != 2020 or resolution != "100m":
            raise ConfigError(
                "WorldPop 2000–2020 constrained estimates exist for 2020 at 100 m only. "
                "Fix: set year = 2020 and resolution = '100m', or constrained = false."
            )
        if constrained_variant not in ("BSGM", "maxar_v1"):
            raise ConfigError(
                f"WorldPop: constrained_variant = {constrained_variant!r}; expected 'BSGM' or 'maxar_v1'."
            )
        return (
            f"/GIS/Population/Global_2000_2020_Constrained/2020/{constrained_variant}/{ISO}/"
            f"{iso}_ppp_2020{ua}_constrained.tif"
        )
    if resolution == "100m":
        return f"/GIS/Population/Global_2000_2020/{year}/{ISO}/{iso}_ppp_{year}{ua}.tif"
    return (
        f"/GIS/Population/Global_2000_2020_1km{ua}/{year}/{ISO}/"
        f"{iso}_ppp_{year}_1km_Aggregated{ua}.tif"
    )


def worldpop_api_path(iso3: str, alias: str = "wpgp") -> str:
    """WorldPop REST listing of one product for one country (JSON ``{"data": [{"popyear", "files", ...}]}``).

    ``alias`` ``wpgp`` is the 2000–2020 unconstrained 100 m series; ``wpgpunadj`` its UN-adjusted twin.

    >>> worldpop_api_path("vnm")
    '/rest/data/pop/wpgp?iso3=VNM'
    """
    return f"/rest/data/pop/{alias}?iso3={iso3.upper()}"


# --------------------------------------------------------------------------- Copernicus DEM
#: Copernicus DEM products on AWS: product → (service key, code in the file name, arc-seconds).
COPERNICUS_PRODUCTS: dict[str, tuple[str, str, int]] = {
    "GLO-30": ("copernicus_glo30", "10", 1),
    "GLO-90": ("copernicus_glo90", "30", 3),
}


def copernicus_tile_id(lat_south: int, lon_west: int) -> str:
    """Tile id of the 1°×1° tile whose south-west corner is (``lat_south``, ``lon_west``).

    >>> copernicus_tile_id(21, 105), copernicus_tile_id(-1, -73)
    ('N21_00_E105_00', 'S01_00_W073_00')
    """
    ns = "N" if lat_south >= 0 else "S"
    ew = "E" if lon_west >= 0 else "W"
    return f"{ns}{abs(lat_south):02d}_00_{ew}{abs(lon_west):03d}_00"


def copernicus_tile_path(product: str, lat_south: int, lon_west: int) -> str:
    """Path of one Copernicus DEM COG tile on its bucket.

    >>> copernicus_tile_path("GLO-90", 21, 105)
    '/Copernicus_DSM_COG_30_N21_00_E105_00_DEM/Copernicus_DSM_COG_30_N21_00_E105_00_DEM.tif'
    """
    if product not in COPERNICUS_PRODUCTS:
        raise ConfigError(
            f"Copernicus DEM product {product!r}; expected one of {sorted(COPERNICUS_PRODUCTS)}."
        )
    code = COPERNICUS_PRODUCTS[product][1]
    name = f"Copernicus_DSM_COG_{code}_{copernicus_tile_id(lat_south, lon_west)}_DEM"
    return f"/{name}/{name}.tif"


def copernicus_tile_list_path() -> str:
    """Return the path of the bucket's tile list (one tile name per line; ocean tiles are absent)."""
    return "/tileList.txt"


# --------------------------------------------------------------------------- boundaries
def geoboundaries_api_path(iso3: str, level: str, release_type: str = "gbOpen") -> str:
    """GeoBoundaries API path answering JSON metadata with ``staticDownloadLink`` / ``gjDownloadURL``.

    >>> geoboundaries_api_path("vnm", "adm1")
    '/api/current/gbOpen/VNM/ADM1/'
    """
    lvl = level.upper()
    if lvl not in {f"ADM{i}" for i in range(6)}:
        raise ConfigError(f"geoBoundaries level {level!r}; expected ADM0 … ADM5.")
    if release_type not in ("gbOpen", "gbHumanitarian", "gbAuthoritative"):
        raise ConfigError(
            f"geoBoundaries release type {release_type!r}; expected gbOpen, gbHumanitarian or gbAuthoritative."
        )
    return f"/api/current/{release_type}/{iso3.upper()}/{lvl}/"


#: OCHA COD-AB packages on HDX (CKAN ids). Vietnam: v02, 34 provinces from 1 July 2025 (ADM0, ADM1).
HDX_COD_AB: dict[str, dict[str, str]] = {
    "VNM": {
        "package": "cod-ab-vnm",
        # Fallback when the CKAN API cannot be queried: the GeoJSON zip resource of the v02 release.
        "resource_path": "/dataset/3cb544a9-9d04-4f54-94e2-93230efd8ceb/resource/"
        "048a6012-a8c2-4fa9-be87-cb6c01e9afbf/download/vnm_admin_boundaries.geojson.zip",
        "admin1_member": "vnm_admin1.geojson",
        "admin0_member": "vnm_admin0.geojson",
        "code_field": "adm1_pcode",
        "name_field": "adm1_name",
        "release": "COD-AB v02 (boundaries of 1 July 2025, 34 provinces)",
    },
}


def hdx_package_path(package: str) -> str:
    """CKAN ``package_show`` path (JSON ``{"success": true, "result": {"resources": [...]}}``).

    >>> hdx_package_path("cod-ab-vnm")
    '/api/3/action/package_show?id=cod-ab-vnm'
    """
    return f"/api/3/action/package_show?id={package}"


# --------------------------------------------------------------------------- OpenCelliD
def opencellid_path(token: str, *, mcc: int | None = None) -> str:
    """OpenCelliD download path: per-country file ``{mcc}.csv.gz`` or, with ``mcc=None``, the full file.

    The token is part of the query string: never log this path, use :func:`~covgap.sources.http.redact`.

    >>> opencellid_path("T", mcc=452)
    '/ocid/downloads?token=T&type=mcc&file=452.csv.gz'
    >>> opencellid_path("T")
    '/ocid/downloads?token=T&type=full&file=cell_towers.csv.gz'
    """
    if mcc is None:
        return f"/ocid/downloads?token={token}&type=full&file=cell_towers.csv.gz"
    return f"/ocid/downloads?token={token}&type=mcc&file={int(mcc)}.csv.gz"


# --------------------------------------------------------------------------- GitHub (2025 units)
def github_raw_path(repo: str, commit: str, path: str) -> str:
    """Path (on ``github_raw``) of one file of a repository at a commit, branch or tag.

    >>> github_raw_path("thanglequoc/vietnamese-provinces-database", "master", "json/geojson/x.geojson")
    '/thanglequoc/vietnamese-provinces-database/master/json/geojson/x.geojson'
    """
    return f"/{repo}/{commit}/{path.lstrip('/')}"


def github_commit_path(repo: str, ref: str) -> str:
    """GitHub REST path answering the commit of a branch or tag (JSON with ``sha``).

    >>> github_commit_path("thanglequoc/vietnamese-provinces-database", "master")
    '/repos/thanglequoc/vietnamese-provinces-database/commits/master'
    """
    return f"/repos/{repo}/commits/{ref}"


# --------------------------------------------------------------------------- GHS-POP (optional)
def ghs_pop_tile_path(epoch: int, row: int, col: int) -> str:
    """GHS-POP R2023A tile (WGS 84, 3 arc-seconds) as a zip; ``row``/``col`` from the GHSL tiling schema.

    The tile row/column for an area must be read off the GHSL tiling shapefile
    (``GHSL_data_4326_shapefile.zip``); covgap does not compute it.

    >>> ghs_pop_tile_path(2025, 8, 29).rsplit("/", 1)[1]
    'GHS_POP_E2025_GLOBE_R2023A_4326_3ss_V1_0_R8_C29.zip'
    """
    name = f"GHS_POP_E{epoch}_GLOBE_R2023A_4326_3ss"
    return f"/ftp/jrc-opendata/GHSL/GHS_POP_GLOBE_R2023A/{name}/V1-0/tiles/{name}_V1_0_R{row}_C{col}.zip"


# --------------------------------------------------------------------------- HRSL (Meta / CIESIN)
def hrsl_tile_path(lat_south: int, lon_west: int, *, dataset: str = "general", version: str = "1.5.4") -> str:
    """Path (on ``hrsl``) of one 10°×10° HRSL cloud-optimised GeoTIFF, 1 arc-second, people per cell.

    ``lat_south``/``lon_west``: the tile's south-west corner, multiples of 10. Layout
    ``/hrsl-cogs/hrsl_{dataset}/v1.5/cog_globallat_{lat}_lon_{lon}_{dataset}-v{version}.tif`` as used by
    public code reading the bucket (``docs/data-sources.md``: the bucket and its licence are documented
    by AWS's registry; this tile name was *not* found in the provider's own documentation).

    >>> hrsl_tile_path(20, 100)
    '/hrsl-cogs/hrsl_general/v1.5/cog_globallat_20_lon_100_general-v1.5.4.tif'
    """
    if lat_south % 10 or lon_west % 10:
        raise ConfigError(f"HRSL tiles start at multiples of 10°; got lat {lat_south}, lon {lon_west}.")
    return (f"/hrsl-cogs/hrsl_{dataset}/v1.5/cog_globallat_{int(lat_south)}_lon_{int(lon_west)}_"
            f"{dataset}-v{version}.tif")


def hrsl_tiles_for_bbox(bbox: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """South-west corners ``(lat, lon)`` of the 10° HRSL tiles that a lon/lat ``bbox`` touches.

    >>> hrsl_tiles_for_bbox((102.1, 8.4, 109.5, 23.4))
    [(0, 100), (10, 100), (20, 100)]
    """
    import math

    w, s, e, n = bbox
    lats = range(math.floor(s / 10) * 10, math.ceil(n / 10) * 10, 10)
    lons = range(math.floor(w / 10) * 10, math.ceil(e / 10) * 10, 10)
    return [(la, lo) for la in lats for lo in lons]


# --------------------------------------------------------------------------- ESA WorldCover (land cover)
#: Date the WorldCover URL pattern was checked (product description, AWS registry, public downloaders).
WORLDCOVER_CHECKED = "2026-12-05"
#: WorldCover map releases: year -> algorithm version in the path and file name.
WORLDCOVER_RELEASES: dict[int, str] = {2021: "v200", 2020: "v100"}


def worldcover_tile_id(lat_south: int, lon_west: int) -> str:
    """Id of the 3°×3° WorldCover tile whose south-west corner is (``lat_south``, ``lon_west``).

    >>> worldcover_tile_id(21, 105), worldcover_tile_id(-3, -72)
    ('N21E105', 'S03W072')
    """
    if lat_south % 3 or lon_west % 3:
        raise ConfigError(f"WorldCover tiles start at multiples of 3°; got lat {lat_south}, lon {lon_west}.")
    ns = "N" if lat_south >= 0 else "S"
    ew = "E" if lon_west >= 0 else "W"
    return f"{ns}{abs(lat_south):02d}{ew}{abs(lon_west):03d}"


def worldcover_tile_path(lat_south: int, lon_west: int, *, year: int = 2021) -> str:
    """Path (on ``esa_worldcover``) of one 3°×3° WorldCover map COG (uint8 class codes, 10 m, EPSG:4326).

    Layout ``/{version}/{year}/map/ESA_WorldCover_10m_{year}_{version}_{tile}_Map.tif`` (the AWS
    Open Data bucket ``esa-worldcover``; tiles exist over land only: a tile of open sea answers 404).

    >>> worldcover_tile_path(21, 105)
    '/v200/2021/map/ESA_WorldCover_10m_2021_v200_N21E105_Map.tif'
    """
    if year not in WORLDCOVER_RELEASES:
        raise ConfigError(f"WorldCover year {year!r}; expected one of {sorted(WORLDCOVER_RELEASES)}.")
    v = WORLDCOVER_RELEASES[year]
    return f"/{v}/{year}/map/ESA_WorldCover_10m_{year}_{v}_{worldcover_tile_id(lat_south, lon_west)}_Map.tif"
