"""Vietnam's 2025 administrative units: GeoJSON files of vietnamese-provinces-database (GitHub, MIT).

The project (github.com/thanglequoc/vietnamese-provinces-database) publishes one GeoJSON per
province (34, simplified outlines) and per commune (3,321, full detail), drawn from the official
reference map sapnhap.bando.com.vn with GSO codes and names. covgap fetches the raw files from
``raw.githubusercontent.com`` at **one commit**, into the cache in the repository's own layout::

    vn2025/LICENSE
    vn2025/json/full_json_generated_data_vn_units.json          the index: every unit, codes, names, slugs
    vn2025/json/geojson/<code>_<slug>/<code>_<slug>.geojson     34 province outlines
    vn2025/json/geojson/<code>_<slug>/wards/<code>_<slug>.geojson   communes of the provinces asked for

so :func:`covgap.vietnam.units2025.units_2025` reads the cache as it reads a clone. A branch or tag name
(``ref = "master"``) is resolved once to a commit through the GitHub API
(``/repos/{owner}/{repo}/commits/{ref}``); the answer is cached (``vn2025/commit-<ref>.json``), so
later runs — and ``--offline`` — use the same snapshot until that file is deleted. Every manifest
records the repository, the commit, the licence (MIT) and the attribution.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError, FetchError
from . import validate as _v
from .cache import Cache, MissingFile, OfflineMissingError
from .catalog import CHECKED, SOURCES, github_commit_path, github_raw_path

__all__ = ["VN2025_REPO", "VN2025_INDEX", "fetch_vn2025", "vn2025_files"]

#: The upstream repository (owner/name).
VN2025_REPO = "thanglequoc/vietnamese-provinces-database"
#: The index file inside the repository: every province with its communes (codes, names, slugs).
VN2025_INDEX = "json/full_json_generated_data_vn_units.json"
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_WORKERS = 8  # parallel downloads of the small per-unit files


def vn2025_files(index: list[dict[str, Any]], communes: Iterable[str] | str | None) -> list[str]:
    """Repository paths of the province outlines and of the communes of ``communes`` (codes or ``"all"``).

    Examples
    --------
    >>> idx = [{"Code": "04", "CodeName": "cao_bang", "Wards": [{"Code": "01273", "CodeName": "thuc_phan"}]}]
    >>> vn2025_files(idx, ["04"])
    ['json/geojson/04_cao_bang/04_cao_bang.geojson', 'json/geojson/04_cao_bang/wards/01273_thuc_phan.geojson']

    """
    codes = {str(p["Code"]) for p in index}
    if communes == "all":
        want = codes
    else:
        want = {str(c).zfill(2) for c in (communes or [])}
        unknown = sorted(want - codes)
        if unknown:
            raise ConfigError(
                f"[sources.vn2025] communes: {unknown} are not province codes of the 2025 index; "
                f"expected some of {sorted(codes)} or \"all\"."
            )
    out = []
    for p in sorted(index, key=lambda p: str(p["Code"])):
        folder = f"json/geojson/{p['Code']}_{p['CodeName']}"
        out.append(f"{folder}/{p['Code']}_{p['CodeName']}.geojson")
        if str(p["Code"]) in want:
            out += [f"{folder}/wards/{w['Code']}_{w['CodeName']}.geojson"
                    for w in sorted(p.get("Wards", []), key=lambda w: str(w["Code"]))]
    return out


def _check_index(obj: object) -> None:
    ok = isinstance(obj, list) and obj and all(
        isinstance(p, dict) and {"Code", "CodeName", "Wards"} <= set(p) for p in obj)
    if not ok:
        raise FetchError(
            f"expected the units index of {VN2025_REPO} (a list of provinces with Code, CodeName, Wards); "
            "got another JSON document."
        )


def _check_unit(code: str):
    def check(obj: object) -> None:
        feats = obj.get("features") if isinstance(obj, dict) else None
        if not (isinstance(feats, list) and feats):
            raise FetchError("expected a GeoJSON FeatureCollection with features.")
        got = {str((f.get("properties") or {}).get("code", "")) for f in feats}
        if got != {code}:
            raise FetchError(f"expected the features of unit {code}; the file holds code(s) {sorted(got)}.")
    return _v.json_document(check)


def fetch_vn2025(cache: Cache, *, ref: str = "master", communes: Iterable[str] | str | None = "all") -> Path:
    """Fetch the 2025 units at one commit; return the tree's top folder in the cache (``vn2025/``).

    Parameters
    ----------
    cache : Cache
        Where the files go (``vn2025/`` inside it).
    ref : str
        Branch, tag or 40-hex commit of the upstream repository. Branches and tags are resolved to a
        commit once and the answer cached.
    communes : "all", list of str, or None
        Provinces (2-digit codes) whose communes to fetch; ``None`` or ``[]``: outlines only.

    Raises
    ------
    OfflineMissingError
        Offline and something is not cached; every missing file is recorded in ``cache.missing``
        (when the index itself is missing, the communes are listed as one entry per province
        folder, since their file names come from the index).
    FetchError
        A download failed or a file is not what was expected.

    """
    root = Path("vn2025")
    src = SOURCES["vn2025"]
    base_info = {"source": src.name, "repository": VN2025_REPO, "licence": src.licence,
                 "attribution": src.attribution, "pattern_checked": CHECKED}
    sha = ref.lower() if _HEX40.match(ref.lower()) else None
    missing = False
    if sha is None:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", ref)
        def check_commit(obj: object) -> None:
            if not (isinstance(obj, dict) and _HEX40.match(str(obj.get("sha", "")))):
                raise FetchError(f"expected a GitHub commit answer with 'sha' for {VN2025_REPO}@{ref}.")
        try:
            meta = cache.fetch(cache.endpoints.url("github_api", github_commit_path(VN2025_REPO, ref)),
                               root / f"commit-{safe}.json", validate=_v.json_document(check_commit),
                               info={**base_info, "source": "GitHub API (commit of a branch or tag)", "ref": ref})
            sha = json.loads(meta.read_text(encoding="utf-8"))["sha"]
        except OfflineMissingError:  # offline: go on listing what else is missing (URLs name the ref)
            missing, sha = True, ref
    info = {**base_info, "ref": ref, "commit": sha, "release": f"{VN2025_REPO}@{sha[:12]} ({ref})"}

    def url(path: str) -> str:
        return cache.endpoints.url("github_raw", github_raw_path(VN2025_REPO, sha, path))

    small = replace(cache, http=replace(cache.http, progress=False))
    try:
        cache.fetch(url("LICENSE"), root / "LICENSE", info=info)
    except OfflineMissingError:
        missing = True
    try:
        index_p = cache.fetch(url(VN2025_INDEX), root / VN2025_INDEX, validate=_v.json_document(_check_index),
                              info=info)
    except OfflineMissingError:
        folders = "all provinces" if communes == "all" else f"provinces {sorted(communes or [])}"
        cache.missing.append(MissingFile(
            cache.path(root / "json" / "geojson"), url("json/geojson/"),
            f"{src.name}: 34 province outlines and the communes of {folders} (names from the index)"))
        raise
    index = json.loads(index_p.read_text(encoding="utf-8"))
    paths = vn2025_files(index, communes)

    def one(path: str) -> bool:
        code = Path(path).name.split("_", 1)[0]
        try:
            small.fetch(url(path), root / path, validate=_check_unit(code), info={**info, "unit": code})
        except OfflineMissingError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        got = list(pool.map(one, paths))
    if missing or not all(got):
        raise OfflineMissingError(f"{sum(not g for g in got)} vn2025 file(s) missing from the cache")
    return cache.path(root)
