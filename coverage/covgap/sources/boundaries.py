"""Administrative boundaries: geoBoundaries (ADM0/1/2 per ISO3) and OCHA COD-AB.

* **geoBoundaries** (gbOpen): the API ``/api/current/gbOpen/{ISO3}/{ADM}/`` answers JSON
  metadata (``boundaryLicense``, ``boundaryYearRepresented``, ``staticDownloadLink`` to a
  zip holding the shapefile and GeoJSON; when that zip cannot be fetched, the ``gjDownloadURL``
  GeoJSON is fetched instead and written as the same shapefile). For Vietnam its ADM1 has the **63 former
  provinces** (64 features: Côn Đảo is separate), i.e. the boundaries before 1 July 2025.
* **OCHA COD-AB** on HDX: Vietnam's ``cod-ab-vnm`` (v02) has the **34 provinces** in force
  since 1 July 2025 (Resolution 202/2025/QH15), fields ``adm1_pcode`` / ``adm1_name``.
  The CKAN API lists the package's resources; covgap picks the GeoJSON zip (falling back
  to the resource URL recorded in the catalog when the API cannot be queried).

Both are extracted next to their archive in the cache, each extracted file with its own
manifest pointing back to the archive.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from ..errors import ConfigError, FetchError
from . import validate as _v
from .cache import Cache, OfflineMissingError
from .catalog import CHECKED, HDX_COD_AB, SOURCES, geoboundaries_api_path, hdx_package_path

__all__ = ["fetch_geoboundaries", "fetch_cod_ab", "extract_members"]


def extract_members(
    cache: Cache,
    archive_rel: Path,
    dest_rel: Path,
    *,
    suffixes: tuple[str, ...],
    info: dict[str, Any],
) -> list[Path]:
    """Extract the members of a cached zip whose names end in ``suffixes`` into ``dest_rel``.

    Member names are flattened (no folders) and checked (no ``..``). Each extracted file
    gets a manifest naming the archive. Already extracted, manifest-matching files are kept.
    """
    archive = cache.path(archive_rel)
    out: list[Path] = []
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            base = Path(member).name
            if not base or not base.lower().endswith(suffixes) or base.startswith("."):
                continue
            rel = dest_rel / base
            if cache.has(rel):
                out.append(cache.path(rel))
                continue

            def make(tmp: Path, member: str = member) -> None:
                with zf.open(member) as src, open(tmp, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)

            out.append(
                cache.write_derived(
                    rel,
                    make=make,
                    derived_from=[archive],
                    info={**info, "extracted_from": archive.name, "member": member},
                )
            )
    if not out:
        raise FetchError(
            f"{archive}: no member ending in {list(suffixes)}. Fix: delete the archive and fetch again."
        )
    return out


def fetch_geoboundaries(
    cache: Cache, iso3: str, level: str, *, release_type: str = "gbOpen"
) -> Path:
    """Fetch one geoBoundaries layer; return the path of its shapefile (``.shp``) in the cache.

    The API answer is cached too (``api.json``), so ``--offline`` works afterwards.
    """
    iso, lvl = iso3.upper(), level.upper()
    folder = Path("boundaries") / "geoboundaries" / release_type / iso / lvl
    api_url = cache.endpoints.url("geoboundaries", geoboundaries_api_path(iso, lvl, release_type))

    def check_meta(obj: object) -> None:
        if isinstance(obj, list) and len(obj) == 1:
            obj = obj[0]
        if not isinstance(obj, dict) or not (
            obj.get("staticDownloadLink") or obj.get("gjDownloadURL")
        ):
            raise FetchError(
                "expected geoBoundaries metadata with 'staticDownloadLink'; got another JSON answer "
                f"(keys {sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__})."
            )

    src = SOURCES["geoboundaries"]
    meta_p = cache.fetch(
        api_url,
        folder / "api.json",
        validate=_v.json_document(check_meta),
        info={
            "source": "geoBoundaries API",
            "licence": src.licence,
            "attribution": src.attribution,
            "pattern_checked": CHECKED,
        },
    )
    meta = json.loads(meta_p.read_text(encoding="utf-8"))
    if isinstance(meta, list):
        meta = meta[0]
    zip_url = meta.get("staticDownloadLink")
    info = {
        "source": src.name,
        "release_type": release_type,
        "iso3": iso,
        "level": lvl,
        "release": f"{meta.get('boundaryID', '')} (year represented {meta.get('boundaryYearRepresented', '?')}, "
        f"built {meta.get('buildDate', '?')})",
        "boundary_source": meta.get("boundarySource", ""),
        "licence": meta.get("boundaryLicense") or src.licence,
        "attribution": src.attribution,
        "citation": src.citation,
        "pattern_checked": CHECKED,
    }
    want = f"geoBoundaries-{iso}-{lvl}.shp"
    archive_rel = folder / f"geoBoundaries-{iso}-{lvl}-all.zip"
    zip_error = f"{api_url}: the answer has no 'staticDownloadLink'"
    if cache.has(folder / want) and cache.has(folder / want.replace(".shp", ".geojson")):
        return cache.path(folder / want)  # fetched earlier through the GeoJSON fall-back
    if zip_url:
        try:
            cache.fetch(zip_url, archive_rel, validate=_v.zip_with((".shp",)), info=info)
        except OfflineMissingError:
            raise
        except FetchError as exc:
            zip_error = str(exc)
        else:
            files = extract_members(
                cache, archive_rel, folder, suffixes=(".shp", ".shx", ".dbf", ".prj", ".cpg"), info=info
            )
            shp = [p for p in files if p.name == want] or [
                p for p in files if p.suffix.lower() == ".shp" and "simplified" not in p.name
            ]
            if not shp:
                raise FetchError(
                    f"{cache.path(archive_rel)}: no shapefile {want} inside. Fix: delete it and fetch again."
                )
            return shp[0]
    gj_url = meta.get("gjDownloadURL")
    if not gj_url:
        raise FetchError(f"{zip_error}; and the answer has no 'gjDownloadURL' to fall back to. Fix: try again later.")
    try:
        return _shapefile_from_geojson(cache, gj_url, folder, want, info)
    except OfflineMissingError:
        raise
    except FetchError as exc:
        raise FetchError(
            f"{zip_error}; the fall-back to the GeoJSON (gjDownloadURL) failed too: {exc}. Fix: try again later."
        ) from None


def _shapefile_from_geojson(cache: Cache, url: str, folder: Path, shp_name: str, info: dict[str, Any]) -> Path:
    """Fetch a geoBoundaries GeoJSON (``gjDownloadURL``) and write the shapefile the zip would have held.

    The shapefile (UTF-8, with ``.cpg``) keeps the layer's path the same whichever way it came, so a
    run config naming ``geoBoundaries-<ISO>-<ADM>.shp`` works after either download.
    """
    import shutil
    import tempfile

    import geopandas as gpd

    def check(obj: object) -> None:
        if not (isinstance(obj, dict) and obj.get("type") == "FeatureCollection" and obj.get("features")):
            raise FetchError("expected a GeoJSON FeatureCollection with features.")

    gj_rel = folder / shp_name.replace(".shp", ".geojson")
    gj = cache.fetch(url, gj_rel, validate=_v.json_document(check),
                     info={**info, "note": "GeoJSON fall-back (gjDownloadURL): the zip could not be fetched"})
    shp_rel = folder / shp_name
    if cache.has(shp_rel):
        return cache.path(shp_rel)
    gdf = gpd.read_file(gj, engine="pyogrio")
    with tempfile.TemporaryDirectory(dir=cache.path(folder)) as td:
        gdf.to_file(Path(td) / shp_name, engine="pyogrio", encoding="utf-8")
        members = sorted(Path(td).iterdir(), key=lambda f: f.suffix != ".shp")[::-1]  # the .shp last
        for f in members:
            cache.write_derived(folder / f.name, make=lambda tmp, f=f: shutil.copyfile(f, tmp), derived_from=[gj],
                                info={**info, "converted_from": gj.name})
    return cache.path(shp_rel)


def fetch_cod_ab(cache: Cache, iso3: str = "VNM", *, level: int = 1, use_api: bool = True) -> Path:
    """Fetch OCHA's COD-AB for ``iso3`` from HDX; return the path of the ``admin{level}`` GeoJSON.

    For Vietnam (v02) this is the 34 provinces in force since 1 July 2025; code field
    ``adm1_pcode``, name field ``adm1_name``.
    """
    iso = iso3.upper()
    if iso not in HDX_COD_AB:
        raise ConfigError(
            f"COD-AB: no HDX package recorded for {iso}; known: {sorted(HDX_COD_AB)}. "
            "Fix: add it to covgap/sources/catalog.py (HDX_COD_AB)."
        )
    entry = HDX_COD_AB[iso]
    folder = Path("boundaries") / "cod-ab" / iso
    src = SOURCES["cod_ab"]
    zip_url = cache.endpoints.url("hdx", entry["resource_path"])
    licence = src.licence
    modified = ""
    if use_api:

        def check_pkg(obj: object) -> None:
            if not (
                isinstance(obj, dict) and obj.get("success") and isinstance(obj.get("result"), dict)
            ):
                raise FetchError("expected a CKAN answer {'success': true, 'result': {...}}.")

        pkg_p = cache.fetch(
            cache.endpoints.url("hdx", hdx_package_path(entry["package"])),
            folder / "package.json",
            validate=_v.json_document(check_pkg),
            info={"source": "HDX CKAN API", "licence": src.licence, "pattern_checked": CHECKED},
        )
        result = json.loads(pkg_p.read_text(encoding="utf-8"))["result"]
        licence = result.get("license_title") or licence
        chosen = [
            r
            for r in result.get("resources", [])
            if str(r.get("url", "")).lower().endswith(".geojson.zip")
            or str(r.get("name", "")).lower().endswith(".geojson.zip")
        ]
        if chosen:
            zip_url = chosen[0]["url"]
            modified = str(chosen[0].get("last_modified", ""))
    info = {
        "source": src.name,
        "iso3": iso,
        "release": entry["release"] + (f"; resource modified {modified}" if modified else ""),
        "licence": licence,
        "attribution": src.attribution,
        "code_field": entry["code_field"],
        "name_field": entry["name_field"],
        "pattern_checked": CHECKED,
    }
    archive_rel = (
        folder / "vnm_admin_boundaries.geojson.zip"
        if iso == "VNM"
        else folder / f"{iso.lower()}_cod_ab.geojson.zip"
    )
    cache.fetch(zip_url, archive_rel, validate=_v.zip_with((".geojson", ".json")), info=info)
    files = extract_members(cache, archive_rel, folder, suffixes=(".geojson", ".json"), info=info)
    want = f"admin{level}.geojson"
    hit = [p for p in files if p.name.lower().endswith(want)]
    if not hit:
        raise FetchError(
            f"{cache.path(archive_rel)}: no *{want} inside (found {[p.name for p in files]}). "
            "Fix: check the COD-AB release; the member names may have changed."
        )
    return hit[0]
