"""``covgap fetch``: the ``[sources]`` section of a config, and fetching everything it names.

The section (all keys checked; unknown keys are errors naming the closest known key)::

    [sources]
    iso3 = "VNM"
    cache_dir = "raw"                     # relative to the config file; default data/raw
    bbox = [102.1, 8.4, 109.5, 23.4]      # west, south, east, north (DEM; optional tower clip)
    reach_km = 20                         # DEM and land cover reach this far past bbox (default: the
                                          # largest [model.*] max_radius_km, at least 20 km)

    [sources.population]                  # WorldPop (provider = "ghs_pop": epoch, tiles; "hrsl": bbox)
    release = "R2025A"                    # R2025A | R2024B | 2020
    year = 2025
    constrained = true
    resolution = "100m"                   # 100m | 1km
    un_adjusted = false                   # 2000-2020 series only
    constrained_variant = "BSGM"          # 2020 constrained only: BSGM | maxar_v1

    [sources.dem]                         # Copernicus DEM
    product = "GLO-90"                    # GLO-90 | GLO-30
    mode = "download"                     # download | vsicurl
    out = "dem/vnm_copernicus_glo90.tif"  # inside the cache
    use_tile_list = true

    [sources.landcover]                   # ESA WorldCover 10 m map tiles (3°×3°), for the P.1812 model
    year = 2021                           # 2021 (v200) | 2020 (v100)

    [sources.boundaries]
    geoboundaries = ["ADM0", "ADM1"]      # gbOpen levels
    release_type = "gbOpen"
    cod_ab = true                         # OCHA COD-AB (Vietnam: 34 provinces)

    [sources.vn2025]                      # 34 provinces + communes of 2025 (vietnamese-provinces-database)
    ref = "master"                        # branch, tag or commit; resolved once to a commit, then cached
    communes = "all"                      # or ["04", "11"]; [] = province outlines only

    [sources.towers]                      # OpenCelliD → sites table
    mcc = [452]
    fallback_full = true
    token_env = "OPENCELLID_TOKEN"        # the token itself belongs in the environment
    sites_out = "derived/vnm_sites_opencellid.csv"   # inside the cache
    clip_to_bbox = true
    min_samples = 2
    max_range_m = 20000
    max_age_days = 730                    # 0 disables
    cluster_radius_m = 250
    use_enb = true
    enb_max_spread_m = 3000

    [sources.masts]                       # optional: OpenStreetMap communication masts (Overpass)
    provider = "osm"

    [sources.hamlets]                     # optional: OSM place=hamlet|village|… (Overpass) → hamlets table
    provider = "osm"
    out = "osm/vnm_hamlets.csv"           # inside the cache
    tile_deg = 2.0                        # one Overpass query per tile
    dedup_m = 300                         # same name closer than this = one place

    [sources.http]
    timeout_s = 60
    retries = 5
    backoff_s = 2.0

    [sources.urls]                        # optional per-service base URLs (mirrors)
    worldpop_data = "https://data.worldpop.org"
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import model_reach_km
from ..errors import ConfigError, CovgapError
from .cache import DEFAULT_CACHE_DIR, Cache, OfflineMissingError
from .catalog import REAL_BASE_URLS, Endpoints
from .http import HttpOptions, redact
from .steps import STEP_FUNCS

__all__ = ["STEPS", "FetchConfig", "FetchResult", "parse_sources", "load_fetch_config", "fetch_all",
           "missing_run_inputs"]

#: The fetch steps, in the order they run.
STEPS: tuple[str, ...] = ("population", "dem", "landcover", "boundaries", "vn2025", "towers", "masts", "hamlets")

_KEYS: dict[str, set[str]] = {
    "sources": {
        "masts",
        "hamlets",
        "iso3",
        "cache_dir",
        "bbox",
        "reach_km",
        "landcover",
        "population",
        "dem",
        "boundaries",
        "vn2025",
        "towers",
        "http",
        "urls",
    },
    "population": {
        "provider",
        "release",
        "year",
        "constrained",
        "resolution",
        "un_adjusted",
        "constrained_variant",
        "epoch",
        "tiles",
        "dataset",
        "version",
    },
    "dem": {"provider", "product", "mode", "out", "use_tile_list"},
    "landcover": {"provider", "year"},
    "boundaries": {"geoboundaries", "release_type", "cod_ab"},
    "vn2025": {"ref", "communes"},
    "towers": {
        "provider",
        "mcc",
        "fallback_full",
        "token",
        "token_env",
        "sites_out",
        "clip_to_bbox",
        "min_samples",
        "max_range_m",
        "max_age_days",
        "cluster_radius_m",
        "use_enb",
        "enb_max_spread_m",
        "foreign_mcc",
        "foreign_sites_out",
        "foreign_margin_km",
    },
    "masts": {"provider", "name"},
    "hamlets": {"provider", "out", "tile_deg", "dedup_m"},
    "http": {"timeout_s", "retries", "backoff_s", "backoff_factor", "max_backoff_s", "progress"},
}


def _check(table: Mapping[str, Any], where: str, src: str) -> None:
    allowed = _KEYS[where]
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{src}: unknown key {key!r} in [{'sources' if where == 'sources' else 'sources.' + where}]; "
                f"known keys: {sorted(allowed)}.{hint}"
            )


def _table(parent: Mapping[str, Any], key: str, src: str) -> dict[str, Any] | None:
    val = parent.get(key)
    if val is None:
        return None
    if not isinstance(val, dict):
        raise ConfigError(f"{src}: [sources.{key}] must be a table; got {val!r}.")
    _check(val, key, src)
    return dict(val)


@dataclass(frozen=True)
class FetchConfig:
    """The validated ``[sources]`` section."""

    src: str
    iso3: str
    cache_dir: Path
    bbox: tuple[float, float, float, float] | None
    population: dict[str, Any] | None = None
    dem: dict[str, Any] | None = None
    landcover: dict[str, Any] | None = None
    reach_km: float = 20.0
    boundaries: dict[str, Any] | None = None
    vn2025: dict[str, Any] | None = None
    towers: dict[str, Any] | None = None
    masts: dict[str, Any] | None = None
    hamlets: dict[str, Any] | None = None
    http: dict[str, Any] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def steps(self) -> list[str]:
        """List the steps configured in this file, in run order."""
        return [s for s in STEPS if getattr(self, s) is not None]

    def padded_bbox(self) -> tuple[float, float, float, float] | None:
        """``bbox`` grown by ``reach_km`` on every side (terrain and land cover past the study area's
        border, so a mast near it is computed over real ground), clipped to ±180°/±90°.

        >>> FetchConfig(src="c", iso3="VNM", cache_dir=Path("."), bbox=(105.0, 21.0, 106.0, 22.0),
        ...             reach_km=11.1195).padded_bbox()
        (104.8921, 20.9, 106.1079, 22.1)
        """
        if self.bbox is None:
            return None
        w, s, e, n = self.bbox
        dlat = self.reach_km / 111.195  # km per degree of latitude (mean earth radius 6371 km)
        lat_far = min(max(abs(s), abs(n)) + dlat, 89.0)
        dlon = self.reach_km / (111.195 * math.cos(math.radians(lat_far)))
        return (round(max(w - dlon, -180.0), 4), round(max(s - dlat, -90.0), 4), round(min(e + dlon, 180.0), 4),
                round(min(n + dlat, 90.0), 4))


def parse_sources(data: Mapping[str, Any], *, base: Path, src: str = "config") -> FetchConfig:
    """Validate the ``[sources]`` table of a config mapping (as read from TOML).

    ``base`` is the config file's folder (relative ``cache_dir`` is resolved against it).

    Examples
    --------
    >>> cfg = parse_sources({"sources": {"iso3": "vnm", "population": {"year": 2020}}}, base=Path("/d"))
    >>> cfg.iso3, cfg.steps(), cfg.cache_dir.as_posix()
    ('VNM', ['population'], 'data/raw')

    """
    sources = data.get("sources")
    if not isinstance(sources, dict):
        raise ConfigError(
            f"{src}: no [sources] section; `covgap fetch` needs one (see data/vietnam.toml). "
            "Fix: add [sources] with iso3 and the sources to fetch."
        )
    _check(sources, "sources", src)
    iso3 = str(sources.get("iso3", "")).upper()
    if len(iso3) != 3 or not iso3.isalpha():
        raise ConfigError(
            f"{src}: [sources] iso3 = {sources.get('iso3')!r}; expected a 3-letter ISO code like 'VNM'."
        )
    cache_dir = Path(sources["cache_dir"]) if "cache_dir" in sources else DEFAULT_CACHE_DIR
    if "cache_dir" in sources and not cache_dir.is_absolute():
        cache_dir = base / cache_dir
    bbox = None
    if "bbox" in sources:
        b = sources["bbox"]
        if not (isinstance(b, list) and len(b) == 4 and all(isinstance(v, int | float) for v in b)):
            raise ConfigError(
                f"{src}: [sources] bbox = {b!r}; expected [west, south, east, north] in degrees."
            )
        w, s, e, n = (float(v) for v in b)
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise ConfigError(
                f"{src}: [sources] bbox = {b!r}; expected west < east and south < north "
                "(order: west, south, east, north)."
            )
        bbox = (w, s, e, n)
    pop = _table(sources, "population", src)
    dem = _table(sources, "dem", src)
    if dem is not None and bbox is None:
        raise ConfigError(
            f"{src}: [sources.dem] needs [sources] bbox = [west, south, east, north]."
        )
    lcv = _table(sources, "landcover", src)
    if lcv is not None and bbox is None:
        raise ConfigError(f"{src}: [sources.landcover] needs [sources] bbox = [west, south, east, north].")
    if lcv is not None and lcv.get("provider", "esa_worldcover") != "esa_worldcover":
        raise ConfigError(f"{src}: [sources.landcover] provider = {lcv.get('provider')!r}; expected 'esa_worldcover'.")
    if lcv is not None and lcv.get("year", 2021) not in (2020, 2021):
        raise ConfigError(f"{src}: [sources.landcover] year = {lcv.get('year')!r}; expected 2021 (v200) or 2020 (v100).")
    reach_km = _reach_km(sources, data, src)
    bnd = _table(sources, "boundaries", src)
    tow = _table(sources, "towers", src)
    vn25 = _table(sources, "vn2025", src)
    if vn25 is not None:
        com = vn25.get("communes", "all")
        if not (com == "all" or (isinstance(com, list) and all(isinstance(c, str | int) for c in com))):
            raise ConfigError(f"{src}: [sources.vn2025] communes = {com!r}; expected \"all\" or a list of "
                              "2-digit province codes like [\"04\", \"11\"] ([] = province outlines only).")
        if not isinstance(vn25.get("ref", "master"), str):
            raise ConfigError(f"{src}: [sources.vn2025] ref must be a branch, tag or commit (text).")
    masts = _table(sources, "masts", src)
    if masts is not None and bbox is None:
        raise ConfigError(
            f"{src}: [sources.masts] needs [sources] bbox = [west, south, east, north]."
        )
    hamlets = _table(sources, "hamlets", src)
    if hamlets is not None and bbox is None:
        raise ConfigError(
            f"{src}: [sources.hamlets] needs [sources] bbox = [west, south, east, north]."
        )
    http = _table(sources, "http", src) or {}
    urls = sources.get("urls") or {}
    if not isinstance(urls, dict):
        raise ConfigError(f"{src}: [sources.urls] must be a table of service = base URL.")
    for k in urls:
        if k not in REAL_BASE_URLS:
            raise ConfigError(
                f"{src}: [sources.urls] unknown service {k!r}; known: {sorted(REAL_BASE_URLS)}."
            )
    return FetchConfig(
        src=src,
        iso3=iso3,
        cache_dir=cache_dir,
        bbox=bbox,
        population=pop,
        dem=dem,
        landcover=lcv,
        reach_km=reach_km,
        boundaries=bnd,
        vn2025=vn25,
        towers=tow,
        masts=masts,
        hamlets=hamlets,
        http=http,
        urls={k: str(v) for k, v in urls.items()},
    )



def _reach_km(sources: Mapping[str, Any], data: Mapping[str, Any], src: str) -> float:
    """``[sources] reach_km``, else how far the configured models reach (:func:`covgap.config.model_reach_km`)."""
    if "reach_km" in sources:
        r = sources["reach_km"]
        if isinstance(r, bool) or not isinstance(r, int | float) or not 0 <= r <= 3000:
            raise ConfigError(f"{src}: [sources] reach_km = {r!r}; expected kilometres in 0-3000 (how far past bbox "
                              "terrain and land cover are fetched).")
        return float(r)
    return model_reach_km(data)[0]


def load_fetch_config(path: str | Path) -> FetchConfig:
    """Read a TOML config file and validate its ``[sources]`` section."""
    from ..config import read_toml

    path = Path(path)
    data = read_toml(path)
    return parse_sources(data, base=path.resolve().parent, src=str(path))


@dataclass
class FetchResult:
    """What :func:`fetch_all` produced: files per step, errors per step, offline gaps."""

    files: dict[str, list[Path]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every step succeeded and nothing is missing."""
        return not self.errors and not self.missing


def make_cache(
    cfg: FetchConfig,
    *,
    cache_dir: str | Path | None = None,
    offline: bool = False,
    base_url: str | None = None,
    progress: bool = True,
    http: HttpOptions | None = None,
    verify: bool = False,
) -> Cache:
    """Build the :class:`Cache` a config asks for (command-line options win over the file)."""
    if http is None:
        h = dict(cfg.http)
        h.setdefault("progress", progress)
        try:
            http = HttpOptions(**h)
        except TypeError as exc:
            raise ConfigError(f"{cfg.src}: [sources.http]: {exc}.") from None
    ep = Endpoints.with_base(base_url) if base_url else Endpoints.from_env(cfg.urls)
    if base_url and cfg.urls:
        ep = Endpoints({**ep.bases, **{k: v.rstrip("/") for k, v in cfg.urls.items()}})
    return Cache(
        Path(cache_dir) if cache_dir else cfg.cache_dir,
        offline=offline,
        http=http,
        endpoints=ep,
        verify=verify,
    )


def fetch_all(
    cfg: FetchConfig,
    cache: Cache,
    *,
    only: Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> FetchResult:
    """Run every configured step (or those in ``only``); never stop at the first failure.

    Each step's error is kept in :attr:`FetchResult.errors` (already redacted); files an
    offline cache lacks are listed in :attr:`FetchResult.missing`.
    """
    wanted = list(cfg.steps()) if only is None else [s.strip() for s in only if s.strip()]
    for s in wanted:
        if s not in STEPS:
            raise ConfigError(f"--only {s!r}: expected some of {list(STEPS)}.")
        if getattr(cfg, s) is None:
            raise ConfigError(f"{cfg.src}: --only {s} but the config has no [sources.{s}] section.")
    if not cache.offline:
        cache.check_writable()
    res = FetchResult()
    secrets: list[str] = []
    for step in wanted:
        try:
            res.files[step] = STEP_FUNCS[step](cfg, cache, res, secrets, environ)
        except OfflineMissingError:
            pass
        except CovgapError as exc:
            res.errors[step] = redact(str(exc), secrets)
    res.missing = [str(m) for m in cache.missing]
    return res


def missing_run_inputs(config_path: str | Path) -> list[str]:
    """The inputs ``covgap run`` reads from this config (``[inputs]``, ``[[admin]]``) that do not exist yet.

    Each entry is ``"<role>: <path>"``; an empty list when the config has no run part (fetch-only files)
    or everything is in place. A 2025-units folder counts as present when it holds province folders, a land-cover
    folder when it holds a GeoTIFF.
    """
    from ..config import load_config
    from ..errors import ConfigError as _CE

    try:
        cfg = load_config(config_path)
    except _CE:
        return []
    out = []
    for role, ref in cfg.inputs().items():
        p = ref.path
        if role.startswith("admin:") and any(getattr(a, "vn2025", None) and a.ref is ref for a in cfg.admin):
            present = p.is_dir() and any(p.glob("json/geojson/[0-9][0-9]_*"))
        elif role == "landcover" and p.is_dir():  # a folder of WorldCover tiles
            present = any(p.glob("*.tif"))
        else:
            present = p.exists()
        if not present:
            out.append(f"{role}: {p}")
    return list(dict.fromkeys(out))
