"""Boundary features matched to the official codes of the 63 former provinces, and dissolved into the 34."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from ..errors import InputError
from .names import _name_index, name_key, repair_names
from .provinces import _tables, current_code_of


# --------------------------------------------------------------------------- matching and
# dissolving
def match_former_provinces(
    gdf: gpd.GeoDataFrame,
    *,
    name_field: str = "shapeName",
    iso_field: str | None = None,
    aliases: Mapping[str, str] | None = None,
    require_all: bool = False,
    source: str = "admin layer",
) -> gpd.GeoDataFrame:
    """Give each feature of a former-province (63-scheme) layer its official GSO code.

    Names are matched after repair and normalisation (:func:`name_key`): any diacritics, spelling
    variant (Hòa/Hoà, Đắk/Đắc), prefix (Tỉnh, Thành phố, TP.), or mojibake. Several features may
    share a code (geoBoundaries has *Côn Đảo* as a second feature of Bà Rịa–Vũng Tàu);
    :func:`dissolve_former` merges them.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The boundary layer.
    name_field : str
        Field with the province name.
    iso_field : str, optional
        Field with ISO 3166-2 codes (geoBoundaries ``shapeISO``); when given, every matched name is
        cross-checked against it, and features whose name does not match are matched by ISO code.
    aliases : mapping, optional
        Extra ``{name: former_code}`` pairs for unusual spellings.
    require_all : bool
        Also require that all 63 former provinces are present.
    source : str
        What the layer is (file name), for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with columns ``code`` (former GSO code), ``name_vi``, ``slug``, ``current_code``
        added and ``name_field`` repaired to proper UTF-8 (``attrs["names_repaired"]`` counts the
        repairs).

    Raises
    ------
    InputError
        Listing every feature whose name (and ISO code) matches no former province, or whose name
        and ISO code disagree, with the fix.

    """
    if name_field not in gdf.columns:
        raise InputError(
            f"{source}: no field {name_field!r}; fields are {[c for c in gdf.columns if c != 'geometry']}. "
            "Fix: pass name_field= the field holding the province name."
        )
    t63 = _tables()[0]
    index = dict(_name_index())
    for n, c in (aliases or {}).items():
        c = str(c).zfill(2)
        if c not in set(t63["code"]):
            raise InputError(f"alias {n!r} → {c!r}: {c!r} is not a former GSO code.")
        index[name_key(n)] = c
    iso_to_code = dict(zip(t63["gb_shape_iso"], t63["code"], strict=True))
    code_to_iso = dict(zip(t63["code"], t63["gb_shape_iso"], strict=True))
    repaired, n_repaired = repair_names(gdf[name_field].astype(str))
    codes: list[str | None] = []
    unmatched: list[str] = []
    conflicts: list[str] = []
    for i, name in enumerate(repaired):
        code = index.get(name_key(name))
        iso = str(gdf[iso_field].iloc[i]).strip() if iso_field is not None else None
        if (
            code is not None
            and iso_field is not None
            and iso in iso_to_code
            and code_to_iso[code] != iso
        ):
            conflicts.append(
                f"row {i}: name {name!r} → {code} ({code_to_iso[code]}) but {iso_field}={iso!r}"
            )
        if code is None and iso_field is not None:
            code = iso_to_code.get(iso)
        if code is None:
            raw = gdf[name_field].iloc[i]
            unmatched.append(
                f"row {i}: {raw!r}"
                + (f" (repaired {name!r})" if name != raw else "")
                + (f", {iso_field}={iso!r}" if iso_field is not None else "")
            )
        codes.append(code)
    if unmatched or conflicts:
        msg = [
            f"{source}: {len(unmatched)} of {len(gdf)} features match no former Vietnamese province"
            f" by field {name_field!r}"
        ]
        if unmatched:
            msg.append("unmatched: " + "; ".join(unmatched))
        if conflicts:
            msg.append("name/ISO conflicts: " + "; ".join(conflicts))
        msg.append(
            "Fix: pass aliases={'<name as in the file>': '<2-digit GSO code>'} (codes in "
            "covgap.vietnam.provinces_63()), or check that the layer is the 63-province (ADM1) level."
        )
        raise InputError(". ".join(msg))
    if require_all:
        missing = sorted(set(t63["code"]) - set(codes))  # type: ignore[arg-type]
        if missing:
            names = dict(zip(t63["code"], t63["name_vi"], strict=True))
            raise InputError(
                f"{source}: {len(missing)} former provinces have no feature: "
                + ", ".join(f"{c} {names[c]}" for c in missing)
                + ". Fix: use a complete ADM1 layer, or require_all=False for a partial study area."
            )
    out = gdf.copy()
    out[name_field] = repaired.to_numpy()
    t = t63.set_index("code")
    out["code"] = codes
    out["name_vi"] = t.loc[codes, "name_vi"].to_numpy()
    out["slug"] = t.loc[codes, "slug"].to_numpy()
    out["current_code"] = t.loc[codes, "current_code"].to_numpy()
    out.attrs["names_repaired"] = n_repaired
    return out


def _dissolve(gdf: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    geoms = gdf.groupby(key, sort=True).geometry.apply(lambda s: s.union_all())
    return gpd.GeoDataFrame(
        {"code": geoms.index.to_numpy()}, geometry=geoms.to_numpy(), crs=gdf.crs
    )


def dissolve_former(gdf_matched: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve to one feature per former province (e.g. Côn Đảo into Bà Rịa–Vũng Tàu).

    Parameters
    ----------
    gdf_matched : geopandas.GeoDataFrame
        Output of :func:`match_former_provinces` (needs column ``code``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code, name, name_vi, name_ascii, slug, kind, current_code, geometry`` (``name`` =
        ``name_vi``, the Vietnamese name in UTF-8), ordered by code.

    """
    _need(gdf_matched, "code")
    out = _dissolve(gdf_matched, "code")
    t = _tables()[0].set_index("code")
    for col in ("name_vi", "name_ascii", "slug", "kind", "current_code"):
        out.insert(len(out.columns) - 1, col, t.loc[out["code"], col].to_numpy())
    out.insert(1, "name", out["name_vi"].to_numpy())
    return out


def dissolve_to_current(
    gdf_former: gpd.GeoDataFrame, *, code_field: str = "code", require_all: bool = False
) -> gpd.GeoDataFrame:
    """Dissolve former-province polygons into the current (34-scheme) provinces.

    Parameters
    ----------
    gdf_former : geopandas.GeoDataFrame
        Polygons with former GSO codes in ``code_field`` (from :func:`match_former_provinces`).
    code_field : str
        Column with the former code.
    require_all : bool
        Require that all 34 current provinces come out complete (every former part present).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per current province: ``code, name, name_vi, name_ascii, slug, kind, former_codes,
        geometry`` (``name`` = ``name_vi``, UTF-8 Vietnamese), ordered by code.
        ``attrs["incomplete"]`` lists current provinces for which some former parts were absent
        (partial study areas).

    """
    _need(gdf_former, code_field)
    tmp = gpd.GeoDataFrame(
        {"current": current_code_of(gdf_former[code_field])},
        geometry=gdf_former.geometry.to_numpy(),
        crs=gdf_former.crs,
    )
    present = set(str(c).zfill(2) for c in gdf_former[code_field])
    out = _dissolve(tmp, "current")
    t = _tables()[1].set_index("code")
    for col in ("name_vi", "name_ascii", "slug", "kind", "former_codes"):
        out.insert(len(out.columns) - 1, col, t.loc[out["code"], col].to_numpy())
    out.insert(1, "name", out["name_vi"].to_numpy())
    incomplete = [c for c in out["code"] if not set(t.loc[c, "former_codes"].split(";")) <= present]
    missing34 = sorted(set(t.index) - set(out["code"]))
    if require_all and (incomplete or missing34):
        raise InputError(
            f"dissolving to the 34 provinces: incomplete {incomplete}, absent {missing34}. Fix: give every "
            "former province (63 features), or require_all=False for a partial study area."
        )
    out.attrs["incomplete"] = incomplete
    return out


def _need(gdf: pd.DataFrame, col: str) -> None:
    if col not in gdf.columns:
        raise InputError(
            f"expected a column {col!r} of former GSO codes; columns are {list(gdf.columns)}. "
            "Fix: run covgap.vietnam.match_former_provinces first."
        )
