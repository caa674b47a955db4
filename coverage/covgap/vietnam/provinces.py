"""The 63 former and 34 current provinces (package data), the crosswalk, and official population 2020."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ..errors import DataFileError, InputError

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
