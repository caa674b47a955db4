"""OpenStreetMap communication masts and towers in a bounding box (Overpass API), optional.

OpenStreetMap maps some masts where OpenCelliD only has averaged phone fixes: use them to
check or correct tower positions, never as a complete list (mapping is patchy, and many
masts carry no operator or height). Query (Overpass QL, checked :data:`~.catalog.CHECKED`)::

    node/way["man_made"~"^(mast|tower)$"]["tower:type"="communication"](bbox);
    node/way["communication:mobile_phone"="yes"](bbox);
    out center tags;

Licence: ODbL 1.0 — attribution "© OpenStreetMap contributors"; a database derived from
it (such as a merged sites table) must be shared under the ODbL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from ..errors import FetchError
from . import validate as _v
from .cache import Cache
from .catalog import CHECKED

__all__ = ["overpass_query", "fetch_osm_masts", "MAST_COLUMNS"]

#: Columns of the masts table covgap writes.
MAST_COLUMNS = (
    "osm_type",
    "osm_id",
    "lon",
    "lat",
    "operator",
    "height_m",
    "man_made",
    "mobile_phone",
    "name",
)

_LICENCE = "ODbL 1.0"
_ATTRIBUTION = "Masts: © OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)."


def overpass_query(bbox, *, timeout_s: int = 180) -> str:
    """Overpass QL for communication masts/towers in ``bbox`` (west, south, east, north).

    >>> print(overpass_query((105, 20, 106, 21)).splitlines()[0])
    [out:json][timeout:180];
    """
    w, s, e, n = (float(v) for v in bbox)
    b = f"({s},{w},{n},{e})"
    sel = '["man_made"~"^(mast|tower)$"]["tower:type"="communication"]'
    mob = '["communication:mobile_phone"="yes"]'
    return (
        f"[out:json][timeout:{int(timeout_s)}];\n"
        f"(node{sel}{b};way{sel}{b};node{mob}{b};way{mob}{b};);\n"
        "out center tags;"
    )


def _height_m(tag: object) -> float | None:
    if tag is None:
        return None
    m = re.match(r"\s*([0-9]+(?:[.,][0-9]+)?)\s*(m|metres|meters)?\s*$", str(tag))
    return float(m.group(1).replace(",", ".")) if m else None


def fetch_osm_masts(cache: Cache, bbox, *, name: str = "masts") -> Path:
    """Fetch communication masts in ``bbox`` from Overpass; return the cached CSV (:data:`MAST_COLUMNS`).

    The raw Overpass answer is cached as JSON (with its manifest); the CSV is derived from it.
    Overpass reports a timeout or memory error inside a 200 answer (``"remark": "runtime
    error: …"``); that is raised as a :class:`~covgap.errors.FetchError`, and the answer is
    not cached.
    """
    w, s, e, n = (float(v) for v in bbox)
    tag = f"{name}_{w:.3f}_{s:.3f}_{e:.3f}_{n:.3f}"
    csv_rel = Path("osm") / f"{tag}.csv"
    if cache.has(csv_rel):
        return cache.path(csv_rel)
    url = cache.endpoints.url(
        "overpass", "/api/interpreter?data=" + quote(overpass_query((w, s, e, n)), safe="")
    )

    info = {
        "source": "OpenStreetMap (Overpass API)",
        "licence": _LICENCE,
        "attribution": _ATTRIBUTION,
        "bbox": [w, s, e, n],
        "pattern_checked": CHECKED,
    }
    answer = _v.overpass_answer("try again later or a smaller bbox")
    raw = cache.fetch(url, Path("osm") / f"{tag}.json", validate=answer, info=info)
    elements = json.loads(raw.read_text(encoding="utf-8"))["elements"]
    rows = []
    for el in elements:
        lat = el.get("lat", (el.get("center") or {}).get("lat"))
        lon = el.get("lon", (el.get("center") or {}).get("lon"))
        if lat is None or lon is None:
            continue
        tags = el.get("tags") or {}
        rows.append(
            {
                "osm_type": el.get("type"),
                "osm_id": el.get("id"),
                "lon": float(lon),
                "lat": float(lat),
                "operator": tags.get("operator", ""),
                "height_m": _height_m(tags.get("height")),
                "man_made": tags.get("man_made", ""),
                "mobile_phone": tags.get("communication:mobile_phone", ""),
                "name": tags.get("name", ""),
            }
        )
    table = pd.DataFrame(rows, columns=list(MAST_COLUMNS)).drop_duplicates(["osm_type", "osm_id"])

    def make(tmp: Path) -> None:
        table.to_csv(tmp, index=False, encoding="utf-8")

    return cache.write_derived(
        csv_rel, make=make, derived_from=[raw], info={**info, "masts": len(table)}
    )
