r"""Vietnam's provincial units: the 63 former provinces, the 34 current ones, and the crosswalk.

Since 1 July 2025 Vietnam has 34 provincial-level units (Resolution 202/2025/QH15: 6 centrally-run
cities and 28 provinces; 23 formed from *whole* former provinces, 11 unchanged). Most public
boundary files (geoBoundaries, GADM) still carry the 63 former provinces. This module ships the two
lists and the crosswalk as package data (``covgap/data/vn_provinces_63.csv``,
``vn_provinces_34.csv``; sources in that folder's README), matches boundary features to the official
codes whatever spelling or text encoding the file used, and dissolves former-province polygons into
current provinces.

Because every former province lies wholly inside one current province, any per-former-province sum
can be re-aggregated to the 34 scheme exactly (:func:`aggregate_to_current`): the totals are the
same in both schemes by construction.

Text encoding: shapefiles without a ``.cpg`` are often read as latin-1, turning UTF-8 names into
mojibake (``"HÃ  Ná»\x99i"`` for ``"Hà Nội"``). :func:`repair_text` undoes that with the standard
library only (re-encode with the wrong codec, decode as UTF-8, keep the result only if it is valid
and shorter — the heuristic of *ftfy*), and :func:`decode_legacy` decodes raw bytes in a Vietnamese
legacy code page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import DataFileError, InputError
from .vn2025 import units_2025

__all__ = [
    "provinces_63",
    "provinces_34",
    "crosswalk",
    "repair_text",
    "decode_legacy",
    "repair_names",
    "is_mojibake",
    "name_key",
    "match_former_provinces",
    "dissolve_former",
    "dissolve_to_current",
    "current_code_of",
    "aggregate_to_current",
    "population_2020",
    "population_2020_path",
    "units_2025",
]

_DATA_63 = "vn_provinces_63.csv"
_DATA_34 = "vn_provinces_34.csv"

#  Extra spellings seen in boundary files and reports (normalised keys, see :func:`name_key`) →
# former code.
_ALIASES_63: dict[str, str] = {
    "hochiminh": "79",
    "hochiminhcity": "79",
    "hcm": "79",
    "tphcm": "79",
    "hcmc": "79",
    "saigon": "79",
    "hue": "46",
    "thuathien": "46",
    "thuathienhue": "46",
    "bariavungtau": "77",
    "baria": "77",
    "vungtau": "77",
    "condao": "77",  # geoBoundaries: separate feature of Bà Rịa–Vũng Tàu
    "daclac": "66",
    "daklak": "66",
    "daclak": "66",
    "darlac": "66",
    "dacnong": "67",
    "baccan": "06",
    "hanoicity": "01",
    "haiphongcity": "31",
    "danangcity": "48",
    "canthocity": "92",
}

_PREFIXES = (
    "thanhphotructhuoctrunguong",
    "thanhpho",
    "tinh",
    "tp",
    "cityof",
    "provinceof",
    "province",
)
_SUFFIXES = ("municipality", "province", "city", "tinh")


# --------------------------------------------------------------------------- tables
def _read_csv(name: str) -> pd.DataFrame:
    try:
        with resources.files("covgap").joinpath("data", name).open("r", encoding="utf-8") as fh:
            return pd.read_csv(fh, comment="#", dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:  # broken installation
        raise DataFileError(
            f"package data covgap/data/{name} is missing. Fix: reinstall covgap (pip install -e .)."
        ) from exc


@lru_cache(maxsize=1)
def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    t63 = _read_csv(_DATA_63)
    t34 = _read_csv(_DATA_34)
    _check_tables(t63, t34)
    return t63, t34


def _check_tables(t63: pd.DataFrame, t34: pd.DataFrame) -> None:
    problems = []
    if len(t63) != 63 or t63["code"].nunique() != 63:
        problems.append(f"63-table has {len(t63)} rows / {t63['code'].nunique()} codes")
    if len(t34) != 34 or t34["code"].nunique() != 34:
        problems.append(f"34-table has {len(t34)} rows / {t34['code'].nunique()} codes")
    unknown = set(t63["current_code"]) - set(t34["code"])
    if unknown:
        problems.append(f"current codes {sorted(unknown)} of the 63-table are not in the 34-table")
    parts = [c for s in t34["former_codes"] for c in s.split(";")]
    if sorted(parts) != sorted(t63["code"]):
        problems.append("former_codes of the 34-table do not list each former code exactly once")
    back = {c: row.code for row in t34.itertuples() for c in row.former_codes.split(";")}
    bad = [c for c, cur in zip(t63["code"], t63["current_code"], strict=True) if back.get(c) != cur]
    if bad:
        problems.append(f"63-table current_code disagrees with 34-table former_codes for {bad}")
    for t, what in ((t63, "63"), (t34, "34")):
        if t["slug"].duplicated().any():
            problems.append(f"{what}-table has duplicate slugs")
    if problems:
        raise DataFileError(
            "covgap Vietnam province tables are inconsistent: " + "; ".join(problems)
        )


def provinces_63() -> pd.DataFrame:
    """Return the 63 former provincial units (until 30 June 2025).

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (2-digit GSO code, str), ``name_vi`` (Vietnamese, UTF-8), ``name_ascii``,
        ``slug``, ``kind`` (``city``/``province``), ``gb_shape_name``, ``gb_shape_iso``
        (geoBoundaries ADM1) and ``current_code`` (the 34-scheme unit it belongs to).

    Examples
    --------
    >>> t = provinces_63()
    >>> len(t), t.loc[t.code == "96", "name_vi"].item()
    (63, 'Cà Mau')

    """
    return _tables()[0].copy()


def provinces_34() -> pd.DataFrame:
    """Return the 34 provincial units in force since 1 July 2025 (Resolution 202/2025/QH15).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name_vi``, ``name_ascii``, ``slug``, ``kind``, ``former_codes``
        (``;``-separated) and ``seat_former_code``.

    Examples
    --------
    >>> t = provinces_34()
    >>> len(t), int((t.kind == "city").sum())
    (34, 6)

    """
    return _tables()[1].copy()


def crosswalk() -> pd.DataFrame:
    """Return the former → current crosswalk: one row per former province.

    Columns ``former_code, former_name_vi, current_code, current_name_vi``.

    Examples
    --------
    >>> cw = crosswalk()
    >>> cw.loc[cw.former_code == "02", "current_name_vi"].item()  # Hà Giang
    'Tuyên Quang'

    """
    t63, t34 = _tables()
    names34 = dict(zip(t34["code"], t34["name_vi"], strict=True))
    return pd.DataFrame(
        {
            "former_code": t63["code"].to_numpy(),
            "former_name_vi": t63["name_vi"].to_numpy(),
            "current_code": t63["current_code"].to_numpy(),
            "current_name_vi": [names34[c] for c in t63["current_code"]],
        }
    )


def current_code_of(former_codes: Iterable[str]) -> np.ndarray:
    """Return the current (34-scheme) code of each former code.

    Raises :class:`~covgap.errors.InputError` naming codes that are not former GSO codes.

    Examples
    --------
    >>> current_code_of(["10", "15", "01"]).tolist()
    ['15', '15', '01']

    """
    t63 = _tables()[0]
    m = dict(zip(t63["code"], t63["current_code"], strict=True))
    codes = [str(c).zfill(2) for c in former_codes]
    unknown = sorted({c for c in codes if c not in m})
    if unknown:
        raise InputError(
            f"codes {unknown} are not former GSO province codes (expected two digits such as '01' Hà Nội … "
            "'96' Cà Mau). Fix: match the features first with covgap.vietnam.match_former_provinces."
        )
    return np.array([m[c] for c in codes], dtype=object)


def aggregate_to_current(
    table: pd.DataFrame, *, code_field: str = "code", value_columns: Iterable[str] | None = None
) -> pd.DataFrame:
    """Sum a per-former-province table into the 34 current provinces (exact: whole provinces merge).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per former province (or per feature: several rows with the same code are summed).
    code_field : str
        Column holding the former GSO code.
    value_columns : iterable of str, optional
        Columns to sum; default every numeric column.

    Returns
    -------
    pandas.DataFrame
        One row per current province present, columns ``code, name_vi, slug`` then the sums, ordered
        by code.

    """
    if code_field not in table.columns:
        raise InputError(f"table has no column {code_field!r}; columns are {list(table.columns)}.")
    cols = (
        list(value_columns)
        if value_columns is not None
        else [
            c for c in table.columns if c != code_field and pd.api.types.is_numeric_dtype(table[c])
        ]
    )
    cur = current_code_of(table[code_field])
    out = table[cols].groupby(cur).sum()
    out.index.name = "code"
    t34 = _tables()[1].set_index("code")
    out = out.reset_index()
    out.insert(1, "name_vi", t34.loc[out["code"], "name_vi"].to_numpy())
    out.insert(2, "slug", t34.loc[out["code"], "slug"].to_numpy())
    return out.sort_values("code").reset_index(drop=True)


# --------------------------------------------------------------------------- text repair
def _encode_sloppy(text: str, codec: str) -> bytes:
    """Encode like ``codec`` but pass code points < 256 that it cannot map as single bytes.

    Readers that decode bytes 0x80–0x9F as C1 controls (latin-1) or that left undefined cp125x bytes
    as they were produce such characters; this reverses either.
    """
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode(codec)
        except UnicodeEncodeError:
            if ord(ch) < 256:
                out.append(ord(ch))
            elif codec == "cp1258":  # a letter + tone mark that a normaliser composed
                out += _cp1258_form(ch).encode(codec)
            else:
                raise
    return bytes(out)


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258_form(text: str) -> str:
    """Return the Windows-1258 form: circumflex/breve/horn precomposed, tone marks combining."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if out and unicodedata.combining(ch) and ch not in _TONES:
            composed = unicodedata.normalize("NFC", out[-1] + ch)
            if len(composed) == 1:
                out[-1] = composed
                continue
        out.append(ch)
    return "".join(out)


def _redecode(s: str) -> str | None:
    """``s`` re-encoded with a wrong codec and decoded as UTF-8, if valid and shorter; else None."""
    best = None
    for codec in ("cp1252", "cp1258", "latin-1"):
        try:
            fixed = _encode_sloppy(s, codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if len(fixed) < len(s) and (best is None or len(fixed) < len(best)):
            best = fixed
    return best


def repair_text(text: str) -> str:
    r"""Repair one name: undo UTF-8-read-as-latin-1/cp1252/cp1258 mojibake, strip controls, NFC.

    The repair is kept only when the text re-encoded with the wrong codec is valid UTF-8 *and* the
    decoded result is shorter (multi-byte sequences collapse), so correct Vietnamese text is left as
    it is. Applied up to three times (double-encoded text).

    Examples
    --------
    >>> repair_text("HÃ\xa0 Ná»\x99i\t")
    'Hà Nội'
    >>> repair_text("Ä\x90Ã\xa0 Náºµng")
    'Đà Nẵng'
    >>> repair_text("Đà Nẵng")
    'Đà Nẵng'

    """
    if not isinstance(text, str):
        raise InputError(f"expected a name as text, got {type(text).__name__} {text!r}.")
    s = text
    for _ in range(3):
        fixed = _redecode(s)
        if (
            fixed is None
        ):  # a byte was lost somewhere (e.g. decoded with errors="replace"): word by word
            parts = re.split(r"( )", s)
            words = [_redecode(w) for w in parts]
            if all(w is None for w in words):
                break
            fixed = "".join(w if w is not None else p for w, p in zip(words, parts, strict=True))
        s = fixed
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Cc" or ch == " ")
    s = re.sub(r"\s+", " ", s).strip()
    return unicodedata.normalize("NFC", s)


def is_mojibake(text: str) -> bool:
    r"""Tell whether ``text`` looks like UTF-8 decoded with a wrong single-byte code page.

    Examples
    --------
    >>> is_mojibake("CÃ\xa0 Mau"), is_mojibake("Cà Mau")
    (True, False)

    """
    return _redecode(text) is not None or any(
        w is not None for w in (_redecode(p) for p in text.split(" "))
    )


def decode_legacy(raw: bytes, *, encoding: str | None = None) -> str:
    r"""Decode raw bytes of a name: UTF-8 if valid, else the given (or Windows-1258) code page.

    Examples
    --------
    >>> decode_legacy("Hà Nội".encode("utf-8"))
    'Hà Nội'
    >>> decode_legacy(b"\xd0a\xcc N\xe3\xdeng")  # Windows-1258: base letters + combining tones
    'Đà Nẵng'

    """
    if encoding is None:
        try:
            return unicodedata.normalize("NFC", raw.decode("utf-8"))
        except UnicodeDecodeError:
            encoding = "cp1258"
    try:
        return unicodedata.normalize("NFC", raw.decode(encoding))
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(
            f"cannot decode {raw!r} as {encoding}: {exc}. Fix: give the file's encoding "
            "(e.g. encoding='utf-8', 'cp1258'); a shapefile takes it from its .cpg file."
        ) from exc


def repair_names(names: pd.Series) -> tuple[pd.Series, int]:
    """Apply :func:`repair_text` to a column; return it and how many values changed."""
    fixed = names.map(lambda v: repair_text(v) if isinstance(v, str) else v)
    changed = sum(1 for a, b in zip(names, fixed, strict=True) if isinstance(a, str) and a != b)
    return fixed, changed


def name_key(text: str) -> str:
    r"""Return the matching key: repaired, no accents (đ → d), lower case, no prefix or punctuation.

    Examples
    --------
    >>> name_key("Thành phố Hồ Chí Minh"), name_key("Bà Rịa–Vũng Tàu"), name_key("Ä\x90Ã\xa0 Náºµng")
    ('hochiminh', 'bariavungtau', 'danang')

    """
    s = repair_text(text).replace("Đ", "D").replace("đ", "d")
    s = "".join(ch for ch in unicodedata.normalize("NFD", s) if not unicodedata.combining(ch))
    s = re.sub(r"[^a-z0-9]", "", s.lower())
    for p in _PREFIXES:
        if s.startswith(p) and len(s) > len(p) + 2:
            s = s[len(p) :]
            break
    for p in _SUFFIXES:
        if s.endswith(p) and len(s) > len(p) + 2:
            s = s[: -len(p)]
            break
    return s


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    t63 = _tables()[0]
    index: dict[str, str] = {}
    for row in t63.itertuples():
        for n in (row.name_vi, row.name_ascii, row.gb_shape_name, row.slug):
            k = name_key(n)
            if index.get(k, row.code) != row.code:
                raise DataFileError(
                    f"province name key {k!r} is ambiguous ({index[k]} vs {row.code})."
                )
            index[k] = row.code
    for k, c in _ALIASES_63.items():
        index.setdefault(k, c)
    return index


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


# --------------------------------------------------------------------------- official population
_POPULATION_2020 = {"63": "vn_population_2020_63.csv", "34": "vn_population_2020_34.csv"}


def population_2020_path(scheme: str = "34"):
    """Path of the shipped official-totals CSV (``code, population, year, source, …``) for ``scheme``.

    Usable as ``[population] adjust_to`` (copy it next to the config). ``"63"``: GSO average
    population 2020 of the former provinces; ``"34"``: the same 2020 figures regrouped into the 2025
    provinces through the crosswalk (a sum of GSO figures, not a GSO figure of its own).
    """
    if scheme not in _POPULATION_2020:
        raise InputError(f"scheme {scheme!r}; expected '63' (former provinces) or '34' (since 1 July 2025).")
    return resources.files("covgap").joinpath("data", _POPULATION_2020[scheme])


def population_2020(scheme: str = "34") -> pd.DataFrame:
    """Average population 2020 per province (GSO), for the 63 former or the 34 current provinces.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (str), ``population`` (people, int), ``year``, ``source``, ``name_vi``
        (and ``former_codes`` for ``"34"``). The 34-scheme rows are sums of the 63-scheme rows
        ("2020 figures regrouped into 2025 provinces").

    Examples
    --------
    >>> int(population_2020("63")["population"].sum()), int(population_2020("34")["population"].sum())
    (97582600, 97582600)
    >>> row = population_2020("34").set_index("code").loc["08"]  # Tuyên Quang = former 02 Hà Giang + 08
    >>> int(row["population"]), row["former_codes"]
    (1663100, '02;08')

    """
    t = _read_csv(population_2020_path(scheme).name)
    t["population"] = t["population"].astype("int64")
    return t
