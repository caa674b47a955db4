"""Hamlets (thôn/bản) and villages from OpenStreetMap through the Overpass API.

Vietnam counts coverage gaps in hamlets (thôn/bản). OpenStreetMap maps many of them as
``place=hamlet|village|isolated_dwelling|locality``; covgap fetches those in the study bbox, tile by
tile (``tile_deg``, so that no single Overpass query times out), caches each raw answer with a
manifest, and writes one table in the hamlets format of :func:`covgap.io.read_hamlets`
(``hamlet_id, name, lon, lat`` plus ``name_vi, name_en, place, osm_type, osm_id``). Query
(Overpass QL, checked :data:`~.catalog.CHECKED`), per tile::

    [out:json][timeout:600];
    (node["place"~"^(hamlet|village|isolated_dwelling|locality)$"](bbox); way[...](bbox); relation[...](bbox););
    out center tags;

De-duplication: the same element seen in two tiles (on a shared edge) is kept once; a place
mapped twice (a node and an area, or two nodes) with the same name (ignoring case and diacritics)
within ``dedup_m`` metres is
kept once (a node before a way before a relation; then the lower id). Places without any name
are dropped and counted. ``name`` is ``name:vi`` when present, else ``name`` (NFC).

Coverage is patchy: OSM holds the hamlets someone mapped, not the official list; a user's own
hamlet list (``[inputs] hamlets``) is the better input where one exists.

Licence: ODbL 1.0 — attribution "© OpenStreetMap contributors"; a database derived from it
(this table) must be shared under the ODbL.
"""

from __future__ import annotations

import json
import math
import unicodedata
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..constants import EARTH_RADIUS_M
from ..errors import ConfigError, FetchError
from . import validate as _v
from .cache import Cache, OfflineMissingError
from .catalog import CHECKED

__all__ = ["PLACES", "HAMLET_COLUMNS", "hamlets_query", "hamlet_tiles", "osm_hamlets_table", "fetch_osm_hamlets"]

#: OSM ``place`` values taken as hamlets or villages.
PLACES = ("hamlet", "village", "isolated_dwelling", "locality")
#: Columns of the hamlets table covgap writes.
HAMLET_COLUMNS = ("hamlet_id", "name", "lon", "lat", "name_vi", "name_en", "place", "osm_type", "osm_id")
_LICENCE = "ODbL 1.0"
_ATTRIBUTION = "Hamlets: © OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)."
_TYPE_ORDER = {"node": 0, "way": 1, "relation": 2}


def hamlets_query(bbox, *, timeout_s: int = 600) -> str:
    """Overpass QL for places of :data:`PLACES` in ``bbox`` (west, south, east, north).

    >>> print(hamlets_query((105, 20, 106, 21)).splitlines()[0])
    [out:json][timeout:600];
    """
    w, s, e, n = (float(v) for v in bbox)
    b = f"({s},{w},{n},{e})"
    sel = '["place"~"^(' + "|".join(PLACES) + ')$"]'
    return f"[out:json][timeout:{int(timeout_s)}];\n(node{sel}{b};way{sel}{b};relation{sel}{b};);\nout center tags;"


def hamlet_tiles(bbox, tile_deg: float) -> list[tuple[float, float, float, float]]:
    """Split ``bbox`` into tiles of at most ``tile_deg`` degrees (west to east, south to north).

    >>> hamlet_tiles((102.0, 8.0, 105.0, 9.0), 2.0)
    [(102.0, 8.0, 104.0, 9.0), (104.0, 8.0, 105.0, 9.0)]
    """
    if not tile_deg > 0:
        raise ConfigError(f"[sources.hamlets] tile_deg = {tile_deg!r}; expected a positive number of degrees.")
    w, s, e, n = (float(v) for v in bbox)
    nx, ny = max(1, math.ceil((e - w) / tile_deg - 1e-9)), max(1, math.ceil((n - s) / tile_deg - 1e-9))
    out = []
    for j in range(ny):
        for i in range(nx):
            out.append((round(w + i * tile_deg, 6), round(s + j * tile_deg, 6),
                        round(min(e, w + (i + 1) * tile_deg), 6), round(min(n, s + (j + 1) * tile_deg), 6)))
    return out


def _nfc(v: object) -> str:
    return unicodedata.normalize("NFC", str(v)).strip() if v else ""


def _key(name: str) -> str:
    s = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d").lower())
    return "".join(ch for ch in s if ch.isalnum())


def osm_hamlets_table(elements: list[dict], *, dedup_m: float = 300.0) -> tuple[pd.DataFrame, dict[str, int]]:
    """Hamlets table (:data:`HAMLET_COLUMNS`) from Overpass elements, de-duplicated; and counts.

    Examples
    --------
    >>> els = [{"type": "node", "id": 1, "lat": 22.0, "lon": 105.0, "tags": {"place": "hamlet", "name": "Bản Na"}},
    ...        {"type": "way", "id": 9, "center": {"lat": 22.001, "lon": 105.0},
    ...         "tags": {"place": "hamlet", "name": "Bản Nà", "name:vi": "Bản Na"}},
    ...        {"type": "node", "id": 2, "lat": 22.1, "lon": 105.0, "tags": {"place": "locality"}}]
    >>> t, counts = osm_hamlets_table(els)
    >>> t["hamlet_id"].tolist(), counts
    (['osm_n1'], {'elements': 3, 'unnamed': 1, 'same_element': 0, 'same_place': 1, 'hamlets': 1})

    """
    rows = []
    unnamed = 0
    for el in elements:
        tags = el.get("tags") or {}
        if tags.get("place") not in PLACES:
            continue
        lat = el.get("lat", (el.get("center") or {}).get("lat"))
        lon = el.get("lon", (el.get("center") or {}).get("lon"))
        if lat is None or lon is None:
            continue
        name_vi, name = _nfc(tags.get("name:vi")), _nfc(tags.get("name"))
        if not (name_vi or name):
            unnamed += 1
            continue
        t = str(el.get("type", "node"))
        rows.append({"hamlet_id": f"osm_{t[0]}{int(el['id'])}", "name": name_vi or name, "lon": float(lon),
                     "lat": float(lat), "name_vi": name_vi, "name_en": _nfc(tags.get("name:en")),
                     "place": tags["place"], "osm_type": t, "osm_id": int(el["id"])})
    df = pd.DataFrame(rows, columns=list(HAMLET_COLUMNS))
    n0 = len(df)
    df = df.drop_duplicates(["osm_type", "osm_id"]).reset_index(drop=True)
    same_element = n0 - len(df)
    df = df.assign(_o=df["osm_type"].map(_TYPE_ORDER).fillna(3)).sort_values(["_o", "osm_id"], kind="stable")
    df = df.drop(columns="_o").reset_index(drop=True)
    drop = np.zeros(len(df), dtype=bool)
    if len(df) and dedup_m > 0:
        keys = df["name"].map(_key).to_numpy()
        lat0 = np.radians(df["lat"].to_numpy())
        x = np.radians(df["lon"].to_numpy()) * np.cos(lat0) * EARTH_RADIUS_M  # local equirectangular metres
        y = lat0 * EARTH_RADIUS_M
        for _, idx in pd.Series(np.arange(len(df))).groupby(keys):
            ii = idx.to_numpy()
            if len(ii) < 2:
                continue
            for a, b in sorted(cKDTree(np.c_[x[ii], y[ii]]).query_pairs(dedup_m)):
                if not drop[ii[a]]:  # the earlier (node, lower id) of a pair stays
                    drop[ii[b]] = True
    out = df[~drop].reset_index(drop=True)
    counts = {"elements": len(elements), "unnamed": unnamed, "same_element": same_element,
              "same_place": int(drop.sum()), "hamlets": len(out)}
    return out, counts


def fetch_osm_hamlets(cache: Cache, bbox, *, out: str | Path = "osm/hamlets.csv", tile_deg: float = 2.0,
                      dedup_m: float = 300.0) -> Path:
    """Fetch OSM hamlets and villages in ``bbox`` tile by tile; return the cached hamlets CSV.

    Parameters
    ----------
    cache : Cache
        Where the raw answers (``osm/hamlets/<tile>.json``) and the table (``out``) go.
    bbox : tuple of float
        West, south, east, north in degrees.
    out : path
        The table, relative to the cache.
    tile_deg : float
        Largest tile side in degrees (one Overpass query per tile).
    dedup_m : float
        Places of the same name closer than this (metres) are one place.

    Raises
    ------
    OfflineMissingError
        Offline and some tile is not cached (every missing tile is recorded in ``cache.missing``).
    FetchError
        Overpass failed, or answered an error inside a 200 answer (``remark: runtime error``).

    """
    w, s, e, n = (float(v) for v in bbox)
    out_rel = Path(out)
    params = {"bbox": [w, s, e, n], "tile_deg": float(tile_deg), "dedup_m": float(dedup_m), "places": list(PLACES)}
    if cache.has(out_rel) and (cache.manifest(out_rel) or {}).get("params") == params:
        return cache.path(out_rel)

    info = {"source": "OpenStreetMap (Overpass API)", "licence": _LICENCE, "attribution": _ATTRIBUTION,
            "pattern_checked": CHECKED}
    answer = _v.overpass_answer("try again later, or a smaller tile_deg in [sources.hamlets]")
    raws: list[Path] = []
    missing = 0
    for t in hamlet_tiles((w, s, e, n), tile_deg):
        url = cache.endpoints.url("overpass", "/api/interpreter?data=" + quote(hamlets_query(t), safe=""))
        rel = Path("osm") / "hamlets" / ("_".join(f"{v:.3f}" for v in t) + ".json")
        try:
            raws.append(cache.fetch(url, rel, validate=answer, info={**info, "bbox": list(t)}))
        except OfflineMissingError:
            missing += 1
    if missing:
        raise OfflineMissingError(f"{missing} Overpass tile(s) of hamlets missing from the cache")
    elements: list[dict] = []
    for p in raws:
        elements += json.loads(p.read_text(encoding="utf-8"))["elements"]
    table, counts = osm_hamlets_table(elements, dedup_m=dedup_m)
    inside = table["lon"].between(w, e) & table["lat"].between(s, n)
    table = table[inside]

    def make(tmp: Path) -> None:
        table.to_csv(tmp, index=False, encoding="utf-8")

    return cache.write_derived(out_rel, make=make, derived_from=raws,
                               info={**info, "params": params, "counts": counts, "bbox": [w, s, e, n]})
