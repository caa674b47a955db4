"""Report tables derived from an :class:`~covgap.analysis.Analysis`: ranked units, one province's
subset, missing technologies. Plain pandas in, plain pandas out; the HTML, PDF and XLSX
reports and the notebooks all use these, so they say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..analysis import Analysis
from ..errors import InputError
from .i18n import check_lang, fmt_range

__all__ = ["missing_technologies", "ranked_units", "ProvinceView", "province_view", "find_unit", "technologies_of",
           "remote_clusters", "scheme_tables", "population_by_operator", "without_by_technology", "with_range_text",
           "has_ranges"]


def has_ranges(df: pd.DataFrame) -> bool:
    """True when ``df`` carries an uncertainty ensemble's ``uncovered_p10`` and ``uncovered_p90`` columns."""
    return "uncovered_p10" in df.columns and "uncovered_p90" in df.columns


def with_range_text(df: pd.DataFrame, column: str = "uncovered", *, lang: str = "en") -> pd.DataFrame:
    """``df`` with ``column`` written as text with its ensemble range, ``812 (P10–P90: 540–1,130)``.

    The range is ``uncovered_p10``–``uncovered_p90`` of the same row (an uncertainty ensemble,
    :mod:`covgap.uncertainty`); a table without them comes back unchanged (the same object).

    Examples
    --------
    >>> t = pd.DataFrame({"uncovered": [812.0], "uncovered_p10": [540.0], "uncovered_p90": [1130.0]})
    >>> with_range_text(t)["uncovered"].tolist()
    ['812 (P10–P90: 540–1,130)']
    """
    if not has_ranges(df) or column not in df.columns:
        return df
    out = df.copy()
    out[column] = [fmt_range(float(v), float(lo), float(hi), lang) for v, lo, hi in
                   zip(df[column], df["uncovered_p10"], df["uncovered_p90"], strict=True)]
    return out


def technologies_of(table: pd.DataFrame) -> list[str]:
    """Technologies that have a ``covered_<tech>`` column, in generation order."""
    return sorted(c[len("covered_"):] for c in table.columns if c.startswith("covered_") and c[-1] == "G")


def missing_technologies(table: pd.DataFrame, *, min_share: float = 0.01, lang: str = "en") -> pd.Series:
    """Per unit, the technologies that part of its people lack, with that share.

    For each ``covered_<tech>`` column the share of the unit's population *not* covered by
    ``<tech>`` is ``1 − covered_<tech> / population``; technologies whose share is at least
    ``min_share`` are listed, e.g. ``"3G 52 %, 4G 31 %"``. A unit without people gets ``""``.

    Examples
    --------
    >>> t = pd.DataFrame({"population": [100.0, 0.0], "covered_2G": [100.0, 0.0], "covered_4G": [40.0, 0.0]})
    >>> missing_technologies(t).tolist()
    ['4G 60 %', '']
    """
    check_lang(lang)
    techs = technologies_of(table)
    pop = table["population"].to_numpy(dtype=float)
    parts: list[list[str]] = [[] for _ in range(len(table))]
    with np.errstate(invalid="ignore", divide="ignore"):
        for tech in techs:
            share = np.where(pop > 0, 1.0 - table[f"covered_{tech}"].to_numpy(dtype=float) / pop, 0.0)
            for i in np.flatnonzero(share >= min_share):
                pct = f"{100 * share[i]:.0f} %"
                parts[i].append(f"{tech} {pct.replace('.', ',') if lang == 'vi' else pct}")
    return pd.Series([", ".join(p) for p in parts], index=table.index, name="missing_technologies", dtype=object)


def without_by_technology(table: pd.DataFrame) -> pd.DataFrame:
    """People without each technology (whatever else they receive): ``without_<tech> = population −
    covered_<tech>`` for every ``covered_<tech>`` column, next to ``population``.

    Examples
    --------
    >>> t = pd.DataFrame({"population": [10.0], "covered_2G": [9.0], "covered_4G": [4.0]})
    >>> without_by_technology(t).to_dict("records")
    [{'population': 10.0, 'without_2G': 1.0, 'without_4G': 6.0}]
    """
    out = table[["population"]].copy()
    for tech in technologies_of(table):
        out[f"without_{tech}"] = table["population"] - table[f"covered_{tech}"]
    return out


def ranked_units(analysis: Analysis, level: str, *, parent_code: str | None = None,
                 by: str = "uncovered") -> pd.DataFrame:
    """Units of ``level`` (optionally only those inside ``parent_code``) ranked by ``by`` (descending).

    Returns a plain DataFrame (no geometry) with a ``rank`` column first and a
    ``missing_technologies`` column added.
    """
    if level not in analysis.units:
        raise InputError(f"no admin level {level!r}; this analysis has {list(analysis.units)}.")
    t = pd.DataFrame(analysis.units[level].drop(columns="geometry"))
    if parent_code is not None:
        t = t[_parent_codes(analysis, level, t) == parent_code]
    t = t.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    t["missing_technologies"] = missing_technologies(t).to_numpy()
    return t


def _parent_codes(analysis: Analysis, level: str, table: pd.DataFrame) -> pd.Series:
    """Code of the coarsest level that contains each unit of ``level``."""
    top = next(iter(analysis.units))
    if level == top:
        return table["code"]
    units = analysis.study.level(level).units
    if "parent_code" in units.columns:
        parent = dict(zip(units["code"], units["parent_code"]))
        return table["code"].map(parent)
    raise InputError(f"admin level {level!r} has no parent_code field; cannot select units inside a {top}. "
                     "Fix: set parent_field for that level in the config.")


def find_unit(analysis: Analysis, key: str, *, level: str | None = None) -> pd.Series:
    """The unit whose code or name is ``key`` (the coarsest level by default), as a row with geometry."""
    level = level or next(iter(analysis.units))
    tab = analysis.units[level]
    hit = tab[(tab["code"].astype(str) == str(key)) | (tab["name"].astype(str) == str(key))]
    if len(hit) == 0:
        some = ", ".join(f"{c} ({n})" for c, n in zip(tab["code"].head(8), tab["name"].head(8)))
        raise InputError(f"no {level} with code or name {key!r}; there are {len(tab)}, e.g. {some}. "
                         "Fix: pass one of those codes.")
    return hit.iloc[0]


@dataclass
class ProvinceView:
    """One top-level unit (a province) and everything the reports show about it."""

    level: str
    code: str
    name: str
    unit: pd.Series
    subunits: pd.DataFrame | None
    sublevel: str | None
    clusters: gpd.GeoDataFrame
    hamlets: gpd.GeoDataFrame | None
    sites: pd.DataFrame
    bounds_lonlat: tuple[float, float, float, float]


def province_view(analysis: Analysis, province: str) -> ProvinceView:
    """Select one top-level unit by code or name: its row, ranked sub-units, clusters, hamlets, sites.

    Clusters and hamlets are those assigned to the province (``<level>_code``); sites are those
    inside its bounding box (they serve it whether or not they stand inside it).
    """
    level = next(iter(analysis.units))
    unit = find_unit(analysis, province, level=level)
    code = unit["code"]
    levels = list(analysis.units)
    sublevel = levels[1] if len(levels) > 1 else None
    subunits = ranked_units(analysis, sublevel, parent_code=code) if sublevel else None
    ccol = f"{level}_code"
    cl = analysis.clusters
    clusters = cl[cl[ccol] == code] if ccol in cl.columns else cl.iloc[0:0]
    hamlets = None
    if analysis.hamlets is not None:
        h = analysis.hamlets
        hamlets = h[h[ccol] == code] if ccol in h.columns else h.iloc[0:0]
    w, s, e, n = unit.geometry.bounds
    sites = analysis.coverage.sites
    inside = (sites["lon"] >= w) & (sites["lon"] <= e) & (sites["lat"] >= s) & (sites["lat"] <= n)
    return ProvinceView(level=level, code=str(code), name=str(unit["name"]), unit=unit, subunits=subunits,
                        sublevel=sublevel, clusters=clusters.sort_values("population", ascending=False),
                        hamlets=hamlets, sites=sites[inside], bounds_lonlat=(w, s, e, n))


def remote_clusters(clusters: pd.DataFrame, *, min_population: float = 500.0,
                    min_distance_km: float = 5.0) -> pd.DataFrame:
    """Gap clusters with at least ``min_population`` people whose centre lies more than
    ``min_distance_km`` from any existing site (the candidates no nearby site can cheaply fix).

    Examples
    --------
    >>> c = pd.DataFrame({"population": [600.0, 600.0, 100.0], "distance_to_nearest_site_km": [9.0, 2.0, 9.0]})
    >>> remote_clusters(c).index.tolist()
    [0]
    """
    keep = (clusters["population"] >= min_population) & (clusters["distance_to_nearest_site_km"] > min_distance_km)
    return clusters[keep]


def scheme_tables(analysis: Analysis, level: str | None = None) -> dict[str, pd.DataFrame]:
    """Per-province tables in the scheme the inputs use and, when the codes are the 63 former GSO
    province codes, also summed into today's 34 provinces (Resolution 202/2025/QH15).

    Returns ``{"as_given": table}`` plus ``{"34": table}`` when the aggregation applies. Sums are
    exact because the 34 provinces are unions of whole former provinces.
    """
    from ..vietnam import aggregate_to_current, provinces_63

    level = level or next(iter(analysis.units))
    t = pd.DataFrame(analysis.units[level].drop(columns="geometry"))
    out = {"as_given": t}
    codes63 = set(provinces_63()["code"].astype(str))
    if len(t) and set(t["code"].astype(str)) <= codes63 and len(t) > 34:
        cols = [c for c in t.columns if pd.api.types.is_numeric_dtype(t[c]) and not c.endswith(("share", "_m"))]
        agg = aggregate_to_current(t.assign(code=t["code"].astype(str)), code_field="code", value_columns=cols)
        with np.errstate(invalid="ignore", divide="ignore"):
            agg["uncovered_share"] = np.where(agg["population"] > 0, agg["uncovered"] / agg["population"], 0.0)
        out["34"] = agg.sort_values("uncovered", ascending=False).reset_index(drop=True)
    return out


def population_by_operator(analysis: Analysis) -> pd.DataFrame:
    """People covered per operator (rows) and technology (columns), plus the largest single
    operator per technology (ITU indicator 9.c.1's definition) as a last row."""
    cov = analysis.coverage
    pop = analysis.study.population
    rows = {}
    for tech, tc in sorted(cov.technologies.items()):
        bits = tc.operator_bits
        rows[tech] = {op: float(pop[((bits >> np.uint32(k)) & np.uint32(1)) == 1].sum(dtype=np.float64))
                      for k, op in enumerate(cov.operators)}
    t = pd.DataFrame(rows)
    t.loc["largest single operator (ITU 9.c.1)"] = t.max()
    return t
