"""The steps of ``covgap fetch``, one function per ``[sources.*]`` section: population, DEM, land
cover, boundaries, 2025 units, towers (with the neighbours' networks), masts and hamlets.

Each step takes the parsed section (:class:`~covgap.sources.fetch.FetchConfig`), the cache, the
run's :class:`~covgap.sources.fetch.FetchResult` (notes and counts), the secrets to redact and the
environment, and returns the files it wrote or found in the cache. :func:`~covgap.sources.fetch.
fetch_all` runs them in order (:data:`STEP_FUNCS`); the section's keys are documented in
:mod:`covgap.sources.fetch`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..towers import CellFilter, ClusterParams, opencellid_to_sites, read_cells
from .boundaries import fetch_cod_ab, fetch_geoboundaries
from .cache import OfflineMissingError
from .copernicus import fetch_dem
from .hamlets import fetch_osm_hamlets
from .http import read_manifest
from .opencellid import TOKEN_ENV, fetch_opencellid, resolve_token
from .osm import fetch_osm_masts
from .population_grids import fetch_ghs_pop, fetch_hrsl
from .vn2025 import fetch_vn2025
from .worldcover import fetch_worldcover
from .worldpop import fetch_worldpop

if TYPE_CHECKING:
    from .cache import Cache
    from .fetch import FetchConfig, FetchResult

__all__ = ["STEP_FUNCS"]


def _population(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    p = dict(cfg.population or {})
    provider = p.pop("provider", "worldpop")
    if provider not in ("worldpop", "ghs_pop", "hrsl"):
        raise ConfigError(
            f"{cfg.src}: [sources.population] provider = {provider!r}; expected 'worldpop', 'ghs_pop' or 'hrsl'."
        )
    if provider != "worldpop":
        return _population_other(cfg, cache, provider, p)
    if "year" not in p:
        raise ConfigError(f"{cfg.src}: [sources.population] needs year = ….")
    return [fetch_worldpop(cache, cfg.iso3, int(p.pop("year")), **p)]


def _population_other(cfg: FetchConfig, cache: Cache, provider: str, p: dict[str, Any]) -> list[Path]:
    """GHS-POP (``epoch``, ``tiles = [[row, col], …]``) or HRSL (``[sources] bbox``)."""
    where = f"{cfg.src}: [sources.population] provider = {provider!r}"
    if provider == "ghs_pop":
        extra = sorted(set(p) - {"epoch", "tiles"})
        tiles = p.get("tiles")
        if extra or "epoch" not in p or not isinstance(tiles, list) or not tiles or not all(
                isinstance(t, list) and len(t) == 2 and all(isinstance(v, int) for v in t) for t in tiles):
            raise ConfigError(f"{where} takes epoch = 2020 and tiles = [[row, col], …] (GHSL tiling schema); "
                              f"got {dict(p)}.")
        return [fetch_ghs_pop(cache, epoch=int(p["epoch"]), row=r, col=c) for r, c in tiles]
    extra = sorted(set(p) - {"dataset", "version"})
    if extra or cfg.bbox is None:
        raise ConfigError(f"{where} takes dataset and version only, and needs [sources] bbox; got {dict(p)}.")
    return fetch_hrsl(cache, cfg.bbox, **p)


def _dem(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    d = dict(cfg.dem or {})
    if d.pop("provider", "copernicus") != "copernicus":
        raise ConfigError(f"{cfg.src}: [sources.dem] provider must be 'copernicus'.")
    return [fetch_dem(cache, cfg.padded_bbox(), **d)]


def _landcover(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    got = fetch_worldcover(cache, cfg.padded_bbox(), year=int((cfg.landcover or {}).get("year", 2021)))
    res.notes["landcover"] = got.as_dict()
    return got.files


def _boundaries(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    b = dict(cfg.boundaries or {})
    out: list[Path] = []
    missing_before = len(cache.missing)
    for level in b.get("geoboundaries", []):
        try:
            out.append(
                fetch_geoboundaries(
                    cache, cfg.iso3, level, release_type=b.get("release_type", "gbOpen")
                )
            )
        except OfflineMissingError:
            pass
    if b.get("cod_ab", False):
        try:
            out.append(fetch_cod_ab(cache, cfg.iso3))
        except OfflineMissingError:
            pass
    if len(cache.missing) > missing_before and not out:
        raise OfflineMissingError("boundaries missing from the cache")
    return out


def _vn2025(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    v = dict(cfg.vn2025 or {})
    return [fetch_vn2025(cache, ref=str(v.get("ref", "master")), communes=v.get("communes", "all"))]


def _towers(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    t = dict(cfg.towers or {})
    if t.get("provider", "opencellid") != "opencellid":
        raise ConfigError(f"{cfg.src}: [sources.towers] provider must be 'opencellid'.")
    sites_rel = Path(t.get("sites_out", f"derived/{cfg.iso3.lower()}_sites_opencellid.csv"))
    mccs = [int(m) for m in (t.get("mcc") or [452])]
    token: list[str] = []

    def get(mcc: int) -> Path:
        if not cache.has(Path("opencellid") / f"{mcc}.csv.gz") and not cache.offline and not token:
            token.append(resolve_token(t.get("token"), env_var=t.get("token_env", TOKEN_ENV),
                                       environ=os.environ if environ is None else environ))
            secrets.append(token[0])
        return fetch_opencellid(cache, mcc, token=token[0] if token else None,
                                fallback_full=bool(t.get("fallback_full", True)))

    if cache.offline:  # list every missing country file (ours and the neighbours'), not only the first
        lost = False
        for mcc in [*mccs, *(int(m) for m in t.get("foreign_mcc") or [])]:
            try:
                get(mcc)
            except OfflineMissingError:
                lost = True
        if lost:
            raise OfflineMissingError("OpenCelliD files missing from the cache")
    cells = [get(mcc) for mcc in mccs]
    foreign = _foreign_towers(cfg, cache, res, t, get) if t.get("foreign_mcc") else []
    params_now = _tower_params(t, cfg)
    if (
        cache.has(sites_rel)
        and (read_manifest(cache.path(sites_rel)) or {}).get("params") == params_now
    ):
        return [*cells, cache.path(sites_rel), *foreign]
    max_age = t.get("max_age_days", 730)
    max_range = t.get("max_range_m", 20000.0)
    filt = CellFilter(
        min_samples=int(t.get("min_samples", 2)),
        max_range_m=float(max_range) if max_range else None,
        max_age_days=float(max_age) if max_age else None,
    )
    params = ClusterParams(
        radius_m=float(t.get("cluster_radius_m", 250.0)),
        use_enb=bool(t.get("use_enb", True)),
        enb_max_spread_m=float(t.get("enb_max_spread_m", 3000.0)),
    )
    raw = pd.concat([read_cells(c) for c in cells], ignore_index=True)
    sites, rep = opencellid_to_sites(
        raw,
        filters=filt,
        params=params,
        mccs=mccs,
        study_bbox=cfg.bbox if t.get("clip_to_bbox", True) else None,
    )
    rep.source = ", ".join(str(c.name) for c in cells)
    res.notes["towers"] = rep.as_dict()

    def make(tmp: Path) -> None:
        sites.to_csv(tmp, index=False, encoding="utf-8")

    out = cache.write_derived(
        sites_rel,
        make=make,
        derived_from=cells,
        info={
            "source": "OpenCelliD → covgap sites",
            "params": params_now,
            "report": rep.as_dict(),
            "licence": "CC BY-SA 4.0",
            "attribution": "Cell locations: OpenCelliD Project (opencellid.org) by Unwired Labs, CC BY-SA 4.0.",
        },
    )
    return [*cells, out, *foreign]


#: ISO 3166-1 alpha-3 of the neighbours' mobile country codes (ITU-T E.212): China, Laos, Cambodia.
FOREIGN_COUNTRY = {460: "CHN", 457: "LAO", 456: "KHM"}


def _cell_filter(t: Mapping[str, Any]) -> tuple[CellFilter, ClusterParams]:
    max_age = t.get("max_age_days", 730)
    max_range = t.get("max_range_m", 20000.0)
    return (CellFilter(min_samples=int(t.get("min_samples", 2)), max_range_m=float(max_range) if max_range else None,
                       max_age_days=float(max_age) if max_age else None),
            ClusterParams(radius_m=float(t.get("cluster_radius_m", 250.0)), use_enb=bool(t.get("use_enb", True)),
                          enb_max_spread_m=float(t.get("enb_max_spread_m", 3000.0))))


def _foreign_towers(cfg: FetchConfig, cache: Cache, res: FetchResult, t: Mapping[str, Any], get) -> list[Path]:
    """Neighbouring countries' cells (``foreign_mcc``) within ``foreign_margin_km`` of the bbox → a sites table.

    Operators keep their PLMN code as name (``460-00``): which company holds which MNC is not
    checked here. Columns ``mcc`` and ``country`` (ISO3 where known) mark the rows as foreign.
    """
    fmccs = [int(m) for m in t.get("foreign_mcc") or []]
    rel = Path(t.get("foreign_sites_out", f"derived/{cfg.iso3.lower()}_foreign_sites_opencellid.csv"))
    cells = [get(m) for m in fmccs]
    params_now = {**_tower_params(t, cfg), "role": "foreign"}
    if cache.has(rel) and (read_manifest(cache.path(rel)) or {}).get("params") == params_now:
        return [*cells, cache.path(rel)]
    raw = pd.concat([read_cells(c) for c in cells], ignore_index=True)
    mcc = pd.to_numeric(raw["mcc"], errors="coerce")
    net = pd.to_numeric(raw["net"], errors="coerce")
    ok = mcc.notna() & net.notna()
    ops = {(int(a), int(b)): f"{int(a)}-{int(b):02d}" for a, b in set(zip(mcc[ok], net[ok], strict=True))}
    bbox = None
    if cfg.bbox is not None and t.get("clip_to_bbox", True):
        margin_km = float(t.get("foreign_margin_km", 30.0))
        w, s_, e, n = cfg.bbox
        dlat = margin_km / 111.195
        dlon = margin_km / (111.195 * float(np.cos(np.radians(max(abs(s_), abs(n))))))
        bbox = (w - dlon, s_ - dlat, e + dlon, n + dlat)
    filt, params = _cell_filter(t)
    sites, rep = opencellid_to_sites(raw, filters=filt, params=params, operators=ops, mccs=fmccs, study_bbox=bbox)
    sites["mcc"] = sites["operator"].str.split("-").str[0].astype("int64")
    sites["country"] = sites["mcc"].map(lambda m: FOREIGN_COUNTRY.get(int(m), str(m)))
    rep.source = ", ".join(str(c.name) for c in cells)
    res.notes["foreign_towers"] = rep.as_dict()
    return [*cells, cache.write_derived(
        rel, make=lambda tmp: sites.to_csv(tmp, index=False, encoding="utf-8"), derived_from=cells,
        info={"source": "OpenCelliD (neighbouring countries) → covgap sites", "params": params_now,
              "report": rep.as_dict(), "licence": "CC BY-SA 4.0",
              "attribution": "Cell locations: OpenCelliD Project (opencellid.org) by Unwired Labs, CC BY-SA 4.0."})]


def _tower_params(t: Mapping[str, Any], cfg: FetchConfig) -> dict[str, Any]:
    keep = {k: v for k, v in t.items() if k not in ("token", "token_env", "fallback_full")}
    return json.loads(json.dumps({**keep, "bbox": list(cfg.bbox) if cfg.bbox else None}))


def _masts(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    m = dict(cfg.masts or {})
    if m.get("provider", "osm") != "osm":
        raise ConfigError(
            f"{cfg.src}: [sources.masts] provider must be 'osm' (OpenStreetMap via Overpass)."
        )
    return [fetch_osm_masts(cache, cfg.bbox, name=str(m.get("name", "masts")))]


def _hamlets(cfg: FetchConfig, cache: Cache, res: FetchResult, secrets, environ) -> list[Path]:
    h = dict(cfg.hamlets or {})
    if h.pop("provider", "osm") != "osm":
        raise ConfigError(f"{cfg.src}: [sources.hamlets] provider must be 'osm' (OpenStreetMap via Overpass).")
    out = h.pop("out", f"osm/{cfg.iso3.lower()}_hamlets.csv")
    return [fetch_osm_hamlets(cache, cfg.bbox, out=out, **{k: float(v) for k, v in h.items()})]


STEP_FUNCS = {
    "population": _population,
    "dem": _dem,
    "landcover": _landcover,
    "boundaries": _boundaries,
    "vn2025": _vn2025,
    "towers": _towers,
    "masts": _masts,
    "hamlets": _hamlets,
}
