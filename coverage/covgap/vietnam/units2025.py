r"""Vietnam's administrative units since 1 July 2025: 34 provinces and 3,321 communes.

Reads a folder in the layout of the *vietnamese-provinces-database* project
(github.com/thanglequoc/vietnamese-provinces-database, MIT; boundaries from the official reference
map sapnhap.bando.com.vn, codes and names from the General Statistics Office)::

    <root>/json/geojson/<code>_<slug>/<code>_<slug>.geojson          one province (2-digit code)
    <root>/json/geojson/<code>_<slug>/wards/<code>_<slug>.geojson    one commune (5-digit code)
    <root>/json/full_json_generated_data_vn_units.json               optional index: every unit, no geometry
                                                                     (or ``<root>/units_2025.json``)

``covgap fetch`` (``[sources.vn2025]``) writes exactly this layout into its cache, and a clone of the
upstream repository is read as it is. :func:`units_2025` yields either level as a GeoDataFrame;
:func:`nest_labels` makes the commune and province label grids agree cell by cell, so that the
people of a province are exactly the sum of its communes' (the rule is in :func:`nest_labels`).

Commune-level units are *xã* (commune), *phường* (ward) and *đặc khu* (special zone: 13 island
districts such as Phú Quốc, Côn Đảo, Trường Sa), each a unit of its own.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from ..errors import DataFileError, InputError
from .provinces import provinces_34

__all__ = ["UNIT_TYPES", "LEVELS", "vn2025_geojson_dir", "units_2025", "nest_labels"]

#: The two levels :func:`units_2025` reads.
LEVELS = ("province", "commune")

#: Unit types: machine name → (Vietnamese short name, English). Provincial level: ``municipality``
#: (thành phố trực thuộc trung ương, 6) and ``province`` (tỉnh, 28); commune level: ``ward``
#: (phường), ``commune`` (xã) and ``special_zone`` (đặc khu).
UNIT_TYPES: dict[str, tuple[str, str]] = {
    "municipality": ("Thành phố", "City"),
    "province": ("Tỉnh", "Province"),
    "ward": ("Phường", "Ward"),
    "commune": ("Xã", "Commune"),
    "special_zone": ("Đặc khu", "Special administrative region"),
}
_BY_VI = {vi.lower(): k for k, (vi, _) in UNIT_TYPES.items()}
_BY_EN = {en.lower(): k for k, (_, en) in UNIT_TYPES.items()}
_DIR = re.compile(r"^(\d{2})_[a-z0-9_]+$")
_FILE = re.compile(r"^(\d{5})_[a-z0-9_]+\.geojson$")
_COLUMNS = ["code", "name", "name_en", "unit_type", "province_code", "full_name", "area_km2"]


def vn2025_geojson_dir(root: str | Path) -> Path:
    """Return the ``json/geojson`` folder of a vietnamese-provinces-database tree.

    ``root`` may be the tree's top (holding ``json/geojson``) or that folder itself.
    Raises :class:`~covgap.errors.DataFileError` when neither holds province folders.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataFileError(
            f"2025 units folder {root} does not exist. Expected a folder in the layout of "
            "thanglequoc/vietnamese-provinces-database (json/geojson/<code>_<slug>/...). Fix: run "
            "`covgap fetch` with a [sources.vn2025] section, or point the path at a clone of that repository."
        )
    for cand in (root / "json" / "geojson", root):
        if cand.is_dir() and any(_DIR.match(p.name) for p in cand.iterdir() if p.is_dir()):
            return cand
    raise DataFileError(
        f"2025 units folder {root}: no province folders (<2-digit code>_<slug>, e.g. 04_cao_bang) in "
        f"{root / 'json' / 'geojson'} or in {root}. Fix: point the path at the repository's top folder "
        "(the one holding json/geojson/)."
    )


def _province_dirs(gdir: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(gdir.iterdir()):
        m = _DIR.match(p.name)
        if p.is_dir() and m:
            if m.group(1) in out:
                raise DataFileError(
                    f"{gdir}: two folders for province {m.group(1)} ({out[m.group(1)].name}, {p.name}). "
                    "Fix: remove the stale one."
                )
            out[m.group(1)] = p
    return out


def _wanted(provinces: Iterable[str | int] | None, available: dict[str, Path], gdir: Path) -> list[str]:

    if provinces is None:
        return sorted(available)
    if isinstance(provinces, str | int):
        provinces = [provinces]
    valid = dict(zip(provinces_34()["code"], provinces_34()["name_vi"], strict=True))
    codes = []
    for c in provinces:
        code = str(c).strip().zfill(2)
        if code not in valid:
            raise InputError(
                f"province {c!r} is not a 2025 province code; expected one of {sorted(valid)} "
                "(e.g. '04' Cao Bằng, '11' Điện Biên). Fix: use the 2-digit GSO code."
            )
        if code not in available:
            raise DataFileError(
                f"2025 units folder {gdir}: province {code} ({valid[code]}) has no folder {code}_<slug>/. "
                f"Present: {sorted(available)}. Fix: fetch it (`covgap fetch` with [sources.vn2025] "
                f"provinces including \"{code}\") or drop it from `provinces`."
            )
        codes.append(code)
    return list(dict.fromkeys(codes))


def _load_index(gdir: Path) -> tuple[dict[str, dict], dict[str, dict], str] | None:
    """The tree's index of units (``units_2025.json`` or upstream's own), if present."""
    cands = (gdir.parent.parent / "units_2025.json", gdir / "units_2025.json",
             gdir.parent / "full_json_generated_data_vn_units.json")  # the last: upstream's own index
    for cand in cands:
        if cand.is_file():
            try:
                data = json.loads(cand.read_text(encoding="utf-8"))
                prov = {str(p["Code"]): p for p in data}
                wards = {str(w["Code"]): w for p in data for w in p.get("Wards", [])}
            except (ValueError, KeyError, TypeError) as exc:
                raise DataFileError(
                    f"{cand}: not the expected list of provinces with 'Code' and 'Wards' ({exc}). "
                    "Fix: fetch it again or delete it (it is optional)."
                ) from exc
            return prov, wards, cand.name
    return None


def _unit_type(full_name: str, short_en: str | None, path: Path) -> str:
    if short_en:
        key = short_en.strip().lower()
        if key in _BY_EN:
            return _BY_EN[key]
    low = unicodedata.normalize("NFC", full_name).lower()
    for vi, k in sorted(_BY_VI.items(), key=lambda kv: -len(kv[0])):
        if low.startswith(vi + " "):
            return k
    raise DataFileError(
        f"{path}: cannot tell the unit type of {full_name!r}; expected a full name starting with one of "
        f"{[v for v, _ in UNIT_TYPES.values()]}. Fix: check the file (or fetch the index, json/full_json_generated_data_vn_units.json)."
    )


def _read_unit(path: Path, code_len: int) -> tuple[dict[str, Any], Any]:
    """Properties and (single) geometry of one unit file."""
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types
        raise DataFileError(f"{path} cannot be read as GeoJSON: {exc}. Fix: fetch the file again.") from exc
    if len(gdf) == 0:
        raise DataFileError(f"{path} has no features. Fix: fetch the file again.")
    for col in ("code", "name"):
        if col not in gdf.columns:
            raise DataFileError(
                f"{path}: features have no {col!r} property; properties are "
                f"{[c for c in gdf.columns if c != 'geometry']}. Fix: fetch the file again from "
                "vietnamese-provinces-database (its features carry code, name, nameEn, fullName)."
            )
    codes = set(gdf["code"].astype(str).str.zfill(code_len))
    want = path.name[:code_len]
    if codes != {want}:
        raise DataFileError(
            f"{path}: feature code(s) {sorted(codes)} differ from the file name's {want!r}. "
            "Fix: fetch the file again."
        )
    bad = ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        raise DataFileError(f"{path}: a feature is a {gdf.geom_type[bad].iloc[0]}; expected polygons.")
    geom = gdf.geometry.iloc[0] if len(gdf) == 1 else gdf.geometry.union_all()
    if not geom.is_valid:
        geom = geom.buffer(0) if geom.geom_type == "Polygon" else gpd.GeoSeries([geom]).make_valid().iloc[0]
    return gdf.iloc[0].drop(labels="geometry").to_dict(), geom


def _nfc(v: object) -> str:
    return unicodedata.normalize("NFC", str(v)).strip() if v is not None and v == v else ""


def units_2025(
    root: str | Path,
    level: str = "province",
    provinces: Iterable[str | int] | str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read the 2025 provinces or communes from a folder in the vietnamese-provinces-database layout.

    Parameters
    ----------
    root : path
        The tree's top folder (holding ``json/geojson/``) or the ``geojson`` folder itself.
    level : {"province", "commune"}
        Provinces (2-digit GSO codes, one file per province) or communes (5-digit codes, the
        ``wards/`` folder of each province).
    provinces : iterable of str, optional
        2-digit codes of the provinces to read (their outlines, or their communes). Default: every
        province folder present; for ``"commune"``, every province folder that has a ``wards/``
        folder (the others are listed in ``attrs["provinces_without_communes"]``).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, ordered by code, columns ``code`` (str), ``name`` (Vietnamese, NFC), ``name_en``,
        ``unit_type`` (a key of :data:`UNIT_TYPES`), ``province_code`` (the province's own code at
        province level; the commune's province at commune level, taken from the folder holding its
        file and checked against ``units_2025.json``), ``full_name``, ``area_km2`` (as published),
        ``geometry``. ``attrs["source_dir"]`` is the geojson folder read.

    Raises
    ------
    InputError
        ``level`` or a province code is not valid.
    DataFileError
        The folder, a province, a ``wards/`` folder or a commune file is missing (when
        index (``units_2025.json`` or upstream's ``json/full_json_generated_data_vn_units.json``) is
        present every commune it lists must have a file), or a file contradicts its name or the index.

    Examples
    --------
    >>> from conftest import shared_vnm  # doctest: +SKIP
    >>> units_2025(shared_vnm() / "vn2025", "commune", provinces=["04"]).shape[0]  # doctest: +SKIP
    56

    """
    if level not in LEVELS:
        raise InputError(f"level = {level!r}; expected one of {LEVELS}.")
    gdir = vn2025_geojson_dir(root)
    dirs = _province_dirs(gdir)
    index = _load_index(gdir)
    pidx, widx, iname = index if index is not None else ({}, {}, "the index")
    codes = _wanted(provinces, dirs, gdir)
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    without: list[str] = []
    for pc in codes:
        pdir = dirs[pc]
        if level == "province":
            f = pdir / f"{pdir.name}.geojson"
            if not f.is_file():
                raise DataFileError(
                    f"2025 units folder {gdir}: province {pc} has no outline file {f.name} in {pdir}. "
                    "Fix: fetch it again (`covgap fetch`)."
                )
            props, g = _read_unit(f, 2)
            ref = pidx.get(pc)
            rows.append(_row(props, f, pc, ref, pidx, iname))
            geoms.append(g)
            continue
        wdir = pdir / "wards"
        if not wdir.is_dir():
            if provinces is None:
                without.append(pc)
                continue
            raise DataFileError(
                f"2025 units folder {gdir}: province {pc} has no communes folder {wdir}. Fix: fetch the "
                f"communes of {pc} (`covgap fetch` with [sources.vn2025] communes = [\"{pc}\"] or \"all\")."
            )
        files = {}
        for f in sorted(wdir.glob("*.geojson")):
            m = _FILE.match(f.name)
            if m:
                files[m.group(1)] = f
        if pidx:
            listed = [str(w["Code"]) for w in pidx.get(pc, {}).get("Wards", [])]
            missing = [c for c in listed if c not in files]
            extra = [c for c in files if c not in set(listed)]
            if missing or extra:
                raise DataFileError(
                    f"{wdir}: the communes of province {pc} do not match {iname}: "
                    + (f"{len(missing)} listed without a file ({missing[:10]}{' …' if len(missing) > 10 else ''})"
                       if missing else "")
                    + ("; " if missing and extra else "")
                    + (f"{len(extra)} file(s) not listed ({extra[:10]})" if extra else "")
                    + f". Fix: fetch the communes again (`covgap fetch`), or remove {iname} if it "
                    "belongs to another snapshot."
                )
        if not files:
            raise DataFileError(f"{wdir}: no commune files (<5-digit code>_<slug>.geojson). Fix: fetch them again.")
        for cc, f in files.items():
            props, g = _read_unit(f, 5)
            ref = widx.get(cc)
            if ref is not None and str(ref.get("ProvinceCode", pc)).zfill(2) != pc:
                raise DataFileError(
                    f"{f}: commune {cc} lies in the folder of province {pc}, but {iname} puts it in "
                    f"province {ref['ProvinceCode']}. Fix: fetch the tree again (mixed snapshots)."
                )
            rows.append(_row(props, f, pc, ref, widx, iname))
            geoms.append(g)
    if level == "commune" and not rows:
        raise DataFileError(
            f"2025 units folder {gdir}: no province has a wards/ folder of communes. Fix: fetch the communes "
            "(`covgap fetch` with [sources.vn2025] communes = \"all\" or a list of province codes)."
        )
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=_COLUMNS), geometry=geoms, crs="EPSG:4326")
    out = out.sort_values("code", kind="stable").reset_index(drop=True)
    dup = out["code"].duplicated()
    if dup.any():
        raise DataFileError(f"{gdir}: unit code(s) {sorted(set(out.loc[dup, 'code']))} appear in two files.")
    out.attrs["source_dir"] = str(gdir)
    out.attrs["provinces_without_communes"] = without
    return out


def _row(props: dict, path: Path, pc: str, ref: dict | None, index: dict, iname: str) -> dict[str, Any]:
    n = 2 if len(path.name.split("_")[0]) == 2 else 5
    code = str(props["code"]).zfill(n)
    name = _nfc(props.get("name"))
    name_en = _nfc(props.get("nameEn"))
    full = _nfc(props.get("fullName")) or name
    if index and ref is None:
        raise DataFileError(
            f"{path}: code {code} is not in {iname}. Fix: fetch the tree again (mixed snapshots)."
        )
    if ref is not None:
        for mine, theirs, what in ((name, _nfc(ref.get("Name")), "name"), (name_en, _nfc(ref.get("NameEn")), "nameEn")):
            if theirs and mine and mine != theirs:
                raise DataFileError(
                    f"{path}: {what} {mine!r} differs from {iname}'s {theirs!r} for code {code}. "
                    "Fix: fetch the tree again (mixed snapshots)."
                )
        name = name or _nfc(ref.get("Name"))
        name_en = name_en or _nfc(ref.get("NameEn"))
    utype = _unit_type(full, ref.get("AdministrativeUnitShortNameEn") if ref else None, path)
    area = props.get("areaKm2")
    return {"code": code, "name": name, "name_en": name_en, "unit_type": utype, "province_code": pc,
            "full_name": full, "area_km2": float(area) if area is not None and area == area else np.nan}


def nest_labels(
    child_labels: np.ndarray, child_parent: np.ndarray, parent_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Make a child level (communes) and its parent level (provinces) agree cell by cell.

    Both label grids come from cell-centre rasterisation (:func:`covgap.overlay.rasterize_units`).
    The rule, for every parent that has children in ``child_labels``:

    1. a cell whose centre lies in a child unit belongs to that child, and to that child's parent
       (the finer, full-detail commune outlines decide over a simplified province outline);
    2. a cell the parent level gives to that parent but whose centre lies in none of its children
       (a sliver between the outlines) goes to the nearest child of the same parent (Euclidean
       distance in cells).

    Parents without children keep their cells as they are. Afterwards Σ people of a parent's
    children = the parent's people exactly, since both are sums over the same cells.

    Parameters
    ----------
    child_labels : numpy.ndarray of int
        ``k + 1`` = child unit ``k``, 0 = none.
    child_parent : numpy.ndarray of int
        Length ``n_children + 1``: the parent label of child label ``j`` at index ``j`` (index 0 is 0).
    parent_labels : numpy.ndarray of int
        ``k + 1`` = parent unit ``k``, 0 = none; same shape as ``child_labels``.

    Returns
    -------
    child, parent : numpy.ndarray of int32
        The new label grids.
    report : dict
        ``moved_cells`` (cells whose parent the child decided differently), ``filled_cells``
        (cells given to the nearest child by rule 2), ``unfilled_cells`` (cells of a parent none of
        whose children has a cell centre: they stay with the parent only).

    Examples
    --------
    Two communes of province 1; the last cell's centre lies in commune 2 but in province 2's
    (simplified) outline, and two cells of province 1 lie in no commune:

    >>> c = np.array([[1, 0, 0, 2, 2]]); p = np.array([[1, 1, 1, 1, 2]])
    >>> child, parent, rep = nest_labels(c, np.array([0, 1, 1]), p)
    >>> child.tolist(), parent.tolist(), rep
    ([[1, 1, 2, 2, 2]], [[1, 1, 1, 1, 1]], {'moved_cells': 1, 'filled_cells': 2, 'unfilled_cells': 0})

    """
    c = np.asarray(child_labels)
    p = np.asarray(parent_labels)
    cp = np.asarray(child_parent, dtype=np.int64)
    if c.shape != p.shape:
        raise InputError(f"child labels {c.shape} and parent labels {p.shape} differ in shape.")
    if cp.ndim != 1 or len(cp) < int(c.max(initial=0)) + 1 or (len(cp) and cp[0] != 0):
        raise InputError(
            f"child_parent must have one entry per child label plus index 0 (= 0); got length {len(cp)} "
            f"for child labels up to {int(c.max(initial=0))}."
        )
    n_parent = max(int(p.max(initial=0)), int(cp.max(initial=0)))
    has_children = np.zeros(n_parent + 1, dtype=bool)
    has_children[cp[1:]] = True
    has_children[0] = False
    child = c.astype(np.int32, copy=True)
    in_child = child > 0
    parent = np.where(in_child, cp[child], p).astype(np.int32)
    moved = int((in_child & (p > 0) & (parent != p)).sum())
    fill = ~in_child & has_children[parent]
    filled = unfilled = 0
    for k in np.unique(parent[fill]):
        rows, cols = np.nonzero(parent == k)
        r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        win_c = child[r0:r1, c0:c1]
        own = (win_c > 0) & (cp[win_c] == k)
        f = fill[r0:r1, c0:c1] & (parent[r0:r1, c0:c1] == k)
        if not own.any():  # none of its children has a cell centre: the cells stay with the parent only
            unfilled += int(f.sum())
            continue
        _, (ir, ic) = ndi.distance_transform_edt(~own, return_indices=True)
        win_c[f] = win_c[ir[f], ic[f]]
        filled += int(f.sum())
    return child, parent, {"moved_cells": moved, "filled_cells": filled, "unfilled_cells": unfilled}
