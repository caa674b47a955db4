"""From raw cell lists (OpenCelliD, or an operator's CSV) to a covgap sites table.

Steps, each counted in a :class:`TowersReport` (nothing is dropped silently):

1. **Read** an OpenCelliD export (:func:`read_cells`; with or without a header line).
2. **Clean** (:func:`clean_cells`): radio → technology (GSM→2G, UMTS→3G, LTE→4G, NR→5G);
   MCC/MNC → operator (:data:`VIETNAM_OPERATORS`); drop rows that are implausible or stale,
   counting them by the first reason that applies (:class:`CellFilter` documents the
   thresholds and why).
3. **Cluster cells into sites** (:func:`cluster_sites`): LTE cells of one operator with the
   same eNodeB id (``cell // 256``: the 28-bit E-UTRAN cell identity is a 20-bit eNB id
   followed by an 8-bit cell id, 3GPP TS 36.413 §9.2.1.38) form one unit; then units of the
   same operator within ``radius_m`` of a leader are merged into one site (leader
   clustering, strongest-evidence first, so sites never chain along a road). Each site
   keeps its technologies: the output has one row per (site, technology), the schema of
   :mod:`covgap.sites`.

What OpenCelliD positions are, and what that does to the results
-----------------------------------------------------------------
OpenCelliD does not know where masts are. A cell's ``lon``/``lat`` is the **average of the
GPS fixes of the phones that heard it** (``changeable = 1``; only the rare
``changeable = 0`` rows come from an operator). So positions are:

* **off the mast, often by hundreds of metres and sometimes by kilometres**, pulled toward
  where the contributing phones were — **roads**, towns and river valleys;
* **split by sector**: the three sectors of one mast are heard from three sides and so
  appear as three points around the mast (clustering, step 3, merges them back);
* **missing** where few contributors travel (remote uplands), and **stale** where a cell
  was switched off after it was last heard (2G switch-offs since 2024).

Consequences for coverage gaps, which every report built on these sites should state:
modelled footprints are centred on roads and settlements rather than on hilltop masts,
which tends to *overstate* coverage along roads and *understate* it on the far side of
ridges; the terrain model sees the ground height of a valley instead of the hilltop, so
it underestimates the antenna's height advantage; unrecorded cells make remote gaps look
*larger* than they are; stale cells make coverage look *larger*. The clustering radius
trades merging sectors of one mast (too small: one mast counted as several sites) against
merging neighbouring masts (too large: lost sites). Treat results from crowd-sourced cells
as indicative; where an operator supplies mast coordinates, use
:func:`operator_table_to_sites` instead.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .errors import DataFileError, InputError
from .grid import EARTH_RADIUS_M, unit_vectors
from .sites import normalise_technology

__all__ = [
    "OPENCELLID_COLUMNS",
    "RADIO_TECHNOLOGY",
    "VIETNAM_OPERATORS",
    "CellFilter",
    "ClusterParams",
    "TowersReport",
    "read_cells",
    "clean_cells",
    "cluster_sites",
    "opencellid_to_sites",
    "operator_table_to_sites",
]

#: Columns of OpenCelliD exports, in file order (OpenCelliD wiki, "Database format").
OPENCELLID_COLUMNS: tuple[str, ...] = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
)

#: OpenCelliD ``radio`` → covgap technology. Other radios (e.g. CDMA) are dropped and counted.
RADIO_TECHNOLOGY: dict[str, str] = {"GSM": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}

#: Vietnam's public land mobile networks, MCC 452 (ITU-T E.212 list of mobile network codes;
#: the same assignments as the project guide, section 5). 06 was EVN Telecom's code; EVN Telecom
#: was merged into Viettel in 2011, so its cells count as Viettel's. 08 is disputed between
#: sources (it is listed for I-Telecom, an MVNO without radio cells of its own, which could not
#: appear in OpenCelliD as cells); until the rows per MNC of a real file have been counted, cells
#: with MNC 08 keep the neutral label ``"452-08"`` (an operator of their own, never merged).
VIETNAM_OPERATORS: dict[tuple[int, int], str] = {
    (452, 1): "MobiFone",
    (452, 2): "VinaPhone",
    (452, 4): "Viettel",
    (452, 5): "Vietnamobile",
    (452, 6): "Viettel",
    (452, 7): "Gmobile",
    (452, 8): "452-08",
}

_DROP_ORDER = (
    "bad_coordinates",
    "other_mcc",
    "unknown_radio",
    "unknown_operator",
    "duplicate_cell",
    "too_few_samples",
    "range_too_large",
    "no_update_time",
    "stale",
    "outside_bbox",
)


@dataclass(frozen=True)
class CellFilter:
    """Thresholds for dropping implausible or stale OpenCelliD rows (keyword-only, documented).

    Parameters
    ----------
    min_samples : int, default 2
        A cell heard in fewer measurements is dropped: with one sample its "position" is
        a single phone fix, anywhere within the cell's reach. 2 is the smallest value that
        averages anything.
    max_range_m : float, default 20000
        OpenCelliD's ``range`` is the radius (m) of the area the measurements of the cell
        spread over. Above 20 km — beyond the 12 km published fallback radius for GSM
        (Mobile Coverage Explorer) plus position scatter — the cell id is almost always
        re-used or mixed up and the average position is meaningless.
    max_age_days : float, default 730
        Cells not heard for two years before the newest ``updated`` time *in the file*
        (not the wall clock, so results are reproducible) are taken as switched off.
        ``None`` disables the check.
    operator_exact_exempt : bool, default True
        Rows with ``changeable = 0`` (position supplied by the operator) skip the samples
        and range checks.

    """

    min_samples: int = 2
    max_range_m: float | None = 20_000.0
    max_age_days: float | None = 730.0
    operator_exact_exempt: bool = True


@dataclass(frozen=True)
class ClusterParams:
    """How cells become sites.

    Parameters
    ----------
    radius_m : float, default 250
        Units (cells or eNodeBs) of one operator within this distance of a site's leader
        join that site. 250 m sits inside the 100–300 m band where sector positions of one
        mast scatter in OpenCelliD while urban inter-site distances of a few hundred metres
        keep neighbouring masts apart; set 0 to keep every cell a site.
    use_enb : bool, default True
        Group LTE cells by eNodeB id (``cell // 256``) first.
    enb_max_spread_m : float, default 3000
        An LTE cell farther than this from the median position of its eNodeB group is a
        re-used or mislocated id: it is split off (counted) and clustered on its own.

    """

    radius_m: float = 250.0
    use_enb: bool = True
    enb_max_spread_m: float = 3000.0


@dataclass
class TowersReport:
    """What the conversion from cells to sites did (for summary.json and the report)."""

    source: str
    rows_in: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    cells_kept: int = 0
    lte_enb_groups: int = 0
    lte_split_from_enb: int = 0
    sites: int = 0
    transmitters: int = 0
    by_operator_technology: dict[str, dict[str, int]] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    clustering: dict[str, Any] = field(default_factory=dict)
    caveat: str = (
        "OpenCelliD positions are averaged phone GPS fixes, not masts: often hundreds of metres "
        "off and biased toward roads; see covgap.towers."
    )

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


# --------------------------------------------------------------------------- reading
def read_cells(path: str | Path) -> pd.DataFrame:
    """Read an OpenCelliD export (``.csv`` or ``.csv.gz``, header line or none).

    Raises :class:`~covgap.errors.DataFileError` naming the file when it is not such a file.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            first = f.readline()
    except (OSError, EOFError) as exc:
        raise DataFileError(f"{path}: cannot be read as an OpenCelliD export ({exc}).") from exc
    has_header = first.lower().startswith("radio,")
    ncols = first.count(",") + 1
    if not has_header and ncols < len(OPENCELLID_COLUMNS) - 1:
        raise DataFileError(
            f"{path}: line 1 has {ncols} fields; expected the {len(OPENCELLID_COLUMNS)} OpenCelliD columns "
            f"{list(OPENCELLID_COLUMNS)} (with or without a header line). Got {first[:120]!r}."
        )
    try:
        df = pd.read_csv(
            path,
            header=0 if has_header else None,
            names=None if has_header else list(OPENCELLID_COLUMNS)[:ncols],
            dtype={"radio": str},
            low_memory=False,
        )
    except (ValueError, OSError, EOFError) as exc:
        raise DataFileError(f"{path}: cannot be parsed as OpenCelliD CSV ({exc}).") from exc
    missing = [c for c in ("radio", "mcc", "net", "cell", "lon", "lat") if c not in df.columns]
    if missing:
        raise DataFileError(f"{path}: missing column(s) {missing}; header is {list(df.columns)}.")
    return df


# --------------------------------------------------------------------------- cleaning
def clean_cells(
    raw: pd.DataFrame,
    *,
    filters: CellFilter | None = None,
    operators: Mapping[tuple[int, int], str] | None = None,
    mccs: Iterable[int] | None = (452,),
    study_bbox: tuple[float, float, float, float] | None = None,
    source: str = "OpenCelliD",
) -> tuple[pd.DataFrame, TowersReport]:
    """Map radios and operators and drop implausible or stale rows, counting each reason.

    Returns the kept cells (original columns plus ``technology`` and ``operator``) and a
    report whose ``dropped`` counts every removed row exactly once (first failing reason,
    in the order ``bad_coordinates, other_mcc, unknown_radio, unknown_operator,
    duplicate_cell, too_few_samples, range_too_large, no_update_time, stale, outside_bbox``).

    Examples
    --------
    >>> raw = pd.DataFrame({"radio": ["LTE", "GSM", "CDMA"], "mcc": [452] * 3, "net": [4, 1, 4],
    ...                     "area": [1] * 3, "cell": [256, 7, 9], "lon": [105.0, 105.1, 105.2],
    ...                     "lat": [21.0] * 3, "range": [1000] * 3, "samples": [5, 1, 5],
    ...                     "changeable": [1] * 3, "updated": [1.7e9] * 3})
    >>> cells, rep = clean_cells(raw)
    >>> list(cells["operator"]), rep.dropped
    (['Viettel'], {'unknown_radio': 1, 'too_few_samples': 1})

    """
    f = filters or CellFilter()
    ops = dict(VIETNAM_OPERATORS if operators is None else operators)
    rep = TowersReport(source=source, rows_in=len(raw), filters=asdict(f))
    df = raw.copy().reset_index(drop=True)
    n = len(df)
    reason = np.full(n, "", dtype=object)

    def mark(mask: np.ndarray, why: str) -> None:
        m = np.asarray(mask, dtype=bool) & (reason == "")
        reason[m] = why

    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype="f8")
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype="f8")
    bad = (
        ~np.isfinite(lon)
        | ~np.isfinite(lat)
        | (np.abs(lat) > 90)
        | (np.abs(lon) > 180)
        | ((lon == 0) & (lat == 0))
    )
    mark(bad, "bad_coordinates")
    mcc = pd.to_numeric(df["mcc"], errors="coerce").fillna(-1).astype("int64").to_numpy()
    net = pd.to_numeric(df["net"], errors="coerce").fillna(-1).astype("int64").to_numpy()
    if mccs is not None:
        mark(~np.isin(mcc, np.asarray(list(mccs), dtype="int64")), "other_mcc")
    radio = df["radio"].astype(str).str.strip().str.upper()
    tech = radio.map(RADIO_TECHNOLOGY)
    mark(tech.isna().to_numpy(), "unknown_radio")
    plmn = pd.Series(mcc * 100_000 + net)
    operator = plmn.map({int(a) * 100_000 + int(b): name for (a, b), name in ops.items()}).astype(
        object
    )
    mark(operator.isna().to_numpy(), "unknown_operator")

    samples = pd.to_numeric(
        df.get("samples", pd.Series(np.nan, index=df.index)), errors="coerce"
    ).to_numpy(dtype="f8")
    # duplicates: same radio/mcc/net/area/cell; keep the row with the most samples
    key_cols = [c for c in ("radio", "mcc", "net", "area", "cell") if c in df.columns]
    alive = reason == ""
    if alive.any():
        sub = df.loc[alive, key_cols].copy()
        sub["_s"] = np.nan_to_num(samples[alive], nan=-1.0)
        sub["_i"] = np.flatnonzero(alive)
        sub = sub.sort_values(["_s", "_i"], ascending=[False, True], kind="mergesort")
        dup = sub.duplicated(subset=key_cols, keep="first")
        dup_idx = sub.loc[dup, "_i"].to_numpy()
        m = np.zeros(n, dtype=bool)
        m[dup_idx] = True
        mark(m, "duplicate_cell")

    exact = np.zeros(n, dtype=bool)
    if f.operator_exact_exempt and "changeable" in df.columns:
        exact = pd.to_numeric(df["changeable"], errors="coerce").to_numpy() == 0
    if f.min_samples and f.min_samples > 0:
        mark(~exact & ~(np.nan_to_num(samples, nan=0.0) >= f.min_samples), "too_few_samples")
    if f.max_range_m is not None and "range" in df.columns:
        rng = pd.to_numeric(df["range"], errors="coerce").to_numpy(dtype="f8")
        mark(~exact & (rng > f.max_range_m), "range_too_large")
    if f.max_age_days is not None:
        if "updated" not in df.columns:
            raise InputError(
                f"{source}: no 'updated' column, so max_age_days cannot be applied. "
                "Fix: set max_age_days = None (config: max_age_days = 0 disables it)."
            )
        upd = pd.to_numeric(df["updated"], errors="coerce").to_numpy(dtype="f8")
        mark(~np.isfinite(upd), "no_update_time")
        alive = reason == ""
        if alive.any():
            newest = np.nanmax(upd[alive])
            mark(upd < newest - f.max_age_days * 86400.0, "stale")
            rep.filters["reference_updated_unix"] = float(newest)
    if study_bbox is not None:
        w, s, e, nn = study_bbox
        mark(~((lon >= w) & (lon <= e) & (lat >= s) & (lat <= nn)), "outside_bbox")

    keep = reason == ""
    counts = pd.Series(reason[~keep]).value_counts()
    rep.dropped = {k: int(counts[k]) for k in _DROP_ORDER if k in counts.index}
    out = df.loc[keep].copy()
    out["technology"] = tech[keep].to_numpy()
    out["operator"] = operator[keep].to_numpy()
    out["lon"] = lon[keep]
    out["lat"] = lat[keep]
    out["samples"] = np.nan_to_num(samples[keep], nan=1.0)
    rep.cells_kept = int(keep.sum())
    return out.reset_index(drop=True), rep


# --------------------------------------------------------------------------- clustering
def _chord(radius_m: float) -> float:
    return 2.0 * np.sin(radius_m / (2.0 * EARTH_RADIUS_M))


def cluster_sites(
    cells: pd.DataFrame,
    *,
    params: ClusterParams | None = None,
    report: TowersReport | None = None,
) -> tuple[pd.DataFrame, TowersReport]:
    """Cluster cells into sites; return one row per (site, technology).

    ``cells`` needs ``operator``, ``technology`` (2G…5G), ``lon``, ``lat``; optional
    ``samples`` (weights, default 1) and, for eNodeB grouping, ``radio``/``technology``
    and ``cell``. Output columns: ``site_id, operator, technology, lon, lat, n_cells,
    samples, cells_seen_once, site_technologies`` (``cells_seen_once``: cells with one measurement;
    0 unless :class:`CellFilter` ``min_samples`` ≤ 1 let them through) — all rows of a site share its position (the
    sample-weighted mean of its units).

    Examples
    --------
    >>> cells = pd.DataFrame({"operator": ["V", "V", "V"], "technology": ["4G", "4G", "2G"],
    ...                       "lon": [105.0, 105.001, 105.0005], "lat": [21.0, 21.0, 21.0005],
    ...                       "cell": [512, 513, 77], "samples": [4, 4, 2]})
    >>> sites, rep = cluster_sites(cells)
    >>> sites[["site_id", "technology", "n_cells"]].values.tolist(), rep.lte_enb_groups
    ([['V-00001', '2G', 1], ['V-00001', '4G', 2]], 1)

    """
    p = params or ClusterParams()
    rep = report or TowersReport(source="cells", rows_in=len(cells), cells_kept=len(cells))
    rep.clustering = asdict(p)
    for c in ("operator", "technology", "lon", "lat"):
        if c not in cells.columns:
            raise InputError(f"cluster_sites: missing column {c!r}; have {list(cells.columns)}.")
    df = cells.reset_index(drop=True)
    lon = df["lon"].to_numpy(dtype="f8")
    lat = df["lat"].to_numpy(dtype="f8")
    tech = df["technology"].map({v: normalise_technology(v) for v in pd.unique(df["technology"])})
    if tech.isna().any():
        i = int(np.flatnonzero(tech.isna().to_numpy())[0])
        raise InputError(
            f"cluster_sites: row {i}: technology {df['technology'].iloc[i]!r} is not 2G/3G/4G/5G."
        )
    tech = tech.to_numpy()
    w = (
        pd.to_numeric(df["samples"], errors="coerce")
        .fillna(1.0)
        .clip(lower=1.0)
        .to_numpy(dtype="f8")
        if "samples" in df.columns
        else np.ones(len(df))
    )
    ops = df["operator"].astype(str).to_numpy()

    # --- units: LTE eNodeB groups, then single cells
    unit_of = np.full(len(df), -1, dtype="int64")
    n_units = 0
    if p.use_enb and "cell" in df.columns:
        cell = pd.to_numeric(df["cell"], errors="coerce").to_numpy(dtype="f8")
        lte = (tech == "4G") & np.isfinite(cell) & (cell >= 256)
        if lte.any():
            idx_all = np.flatnonzero(lte)
            key = pd.DataFrame({"op": ops[lte], "enb": (cell[lte] // 256).astype("int64")})
            gid = key.groupby(["op", "enb"], sort=True).ngroup().to_numpy()
            med = pd.DataFrame({"g": gid, "lon": lon[lte], "lat": lat[lte]}).groupby("g")
            mlon = med["lon"].transform("median").to_numpy()
            mlat = med["lat"].transform("median").to_numpy()
            far = _haversine(lon[lte], lat[lte], mlon, mlat) > p.enb_max_spread_m
            rep.lte_split_from_enb += int(far.sum())
            kept_g = gid[~far]
            uniq, new_ids = np.unique(kept_g, return_inverse=True)
            unit_of[idx_all[~far]] = new_ids
            n_units = len(uniq)
            rep.lte_enb_groups += n_units
    single = np.flatnonzero(unit_of < 0)
    unit_of[single] = np.arange(n_units, n_units + len(single))
    n_units += len(single)

    # unit positions and weights
    uw = np.bincount(unit_of, weights=w, minlength=n_units)
    vec = unit_vectors(lon, lat) * w[:, None]
    uvec = np.column_stack(
        [np.bincount(unit_of, weights=vec[:, k], minlength=n_units) for k in range(3)]
    )
    uvec /= np.linalg.norm(uvec, axis=1, keepdims=True)
    uop = np.empty(n_units, dtype=object)
    uop[unit_of] = ops

    # --- leader clustering per operator (strongest evidence first; deterministic)
    site_of_unit = np.full(n_units, -1, dtype="int64")
    site_ids: list[str] = []
    site_op: list[str] = []
    r = _chord(p.radius_m)
    for op in sorted(set(uop.tolist())):
        members = np.flatnonzero(uop == op)
        order = members[np.lexsort((members, -uw[members]))]
        if p.radius_m > 0 and len(members) > 1:
            tree = cKDTree(uvec[members])
            local = {int(u): k for k, u in enumerate(members)}
            neigh = tree.query_ball_point(uvec[members], r)
        else:
            local, neigh = (
                {int(u): k for k, u in enumerate(members)},
                [[k] for k in range(len(members))],
            )
        k_site = 0
        slug = _slug(op)
        for u in order:
            if site_of_unit[u] >= 0:
                continue
            k_site += 1
            sid = len(site_ids)
            site_ids.append(f"{slug}-{k_site:05d}")
            site_op.append(op)
            for j in neigh[local[int(u)]]:
                uu = members[j]
                if site_of_unit[uu] < 0:
                    site_of_unit[uu] = sid
    site_of_cell = site_of_unit[unit_of]

    # --- site positions: sample-weighted mean of all its cells
    ns = len(site_ids)
    svec = np.column_stack(
        [np.bincount(site_of_cell, weights=vec[:, k], minlength=ns) for k in range(3)]
    )
    svec /= np.linalg.norm(svec, axis=1, keepdims=True)
    slon = np.degrees(np.arctan2(svec[:, 1], svec[:, 0]))
    slat = np.degrees(np.arcsin(np.clip(svec[:, 2], -1, 1)))

    t = pd.DataFrame({"site": site_of_cell, "technology": tech, "samples": w, "once": (w <= 1.0).astype("int64")})
    agg = t.groupby(["site", "technology"], sort=True).agg(
        n_cells=("samples", "size"), samples=("samples", "sum"), cells_seen_once=("once", "sum")
    )
    agg = agg.reset_index()
    bit = {"2G": 1, "3G": 2, "4G": 4, "5G": 8}
    mask = np.zeros(ns, dtype="int64")
    np.bitwise_or.at(mask, site_of_cell, np.array([bit[x] for x in tech], dtype="int64"))
    names = np.array(
        ["+".join(tc for tc, b in bit.items() if m & b) for m in range(16)], dtype=object
    )
    techs = names[mask]
    out = pd.DataFrame(
        {
            "site_id": [site_ids[s] for s in agg["site"]],
            "operator": [site_op[s] for s in agg["site"]],
            "technology": agg["technology"].to_numpy(),
            "lon": slon[agg["site"]].round(6),
            "lat": slat[agg["site"]].round(6),
            "n_cells": agg["n_cells"].astype("int64").to_numpy(),
            "samples": agg["samples"].to_numpy(),
            "cells_seen_once": agg["cells_seen_once"].astype("int64").to_numpy(),
            "site_technologies": techs[agg["site"].to_numpy()],
        }
    )
    out = out.sort_values(["operator", "site_id", "technology"], kind="mergesort").reset_index(
        drop=True
    )
    rep.sites = ns
    rep.transmitters = len(out)
    rep.by_operator_technology = {
        op: {tc: int(v) for tc, v in grp.groupby("technology")["site_id"].nunique().items()}
        for op, grp in out.groupby("operator")
    }
    return out, rep


def _haversine(lon, lat, lon0, lat0):
    from .grid import haversine_m

    return haversine_m(lon, lat, lon0, lat0)


def _slug(op: str) -> str:
    s = "".join(c if c.isalnum() else "-" for c in op).strip("-")
    return s or "operator"


# --------------------------------------------------------------------------- entry points
def opencellid_to_sites(
    cells: pd.DataFrame | str | Path,
    *,
    filters: CellFilter | None = None,
    params: ClusterParams | None = None,
    operators: Mapping[tuple[int, int], str] | None = None,
    mccs: Iterable[int] | None = (452,),
    study_bbox: tuple[float, float, float, float] | None = None,
) -> tuple[pd.DataFrame, TowersReport]:
    """OpenCelliD export (path or DataFrame) → covgap sites table + report.

    See :func:`clean_cells` and :func:`cluster_sites`; the result passes
    :func:`covgap.sites.validate_sites`.
    """
    source = str(cells) if isinstance(cells, str | Path) else "OpenCelliD table"
    raw = read_cells(cells) if isinstance(cells, str | Path) else cells
    clean, rep = clean_cells(
        raw, filters=filters, operators=operators, mccs=mccs, study_bbox=study_bbox, source=source
    )
    if clean.empty:
        raise InputError(
            f"{source}: no cell is left after cleaning ({rep.rows_in} rows in; dropped {rep.dropped}). "
            "Fix: check the MCC, the study bbox and the thresholds (min_samples, max_range_m, max_age_days)."
        )
    return cluster_sites(clean, params=params, report=rep)


def operator_table_to_sites(
    table: pd.DataFrame,
    *,
    params: ClusterParams | None = None,
    source: str = "operator table",
) -> tuple[pd.DataFrame, TowersReport]:
    """Turn an operator's list of cells or masts into a sites table.

    Needs ``operator``, ``technology`` (or ``radio``), ``lon``, ``lat``. With a ``site_id``
    column the operator's sites are kept as given (one row per site and technology; extra
    columns such as ``antenna_height_m`` or ``eirp_dbm`` are kept from the first row);
    without one, cells are clustered by proximity (and eNodeB id when ``cell`` is given).
    """
    df = table.copy()
    if "technology" not in df.columns and "radio" in df.columns:
        df["technology"] = df["radio"]
    for c in ("operator", "technology", "lon", "lat"):
        if c not in df.columns:
            raise InputError(
                f"{source}: missing column {c!r}; expected operator, technology (or radio), lon, lat. "
                f"Found {list(df.columns)}."
            )
    tech = df["technology"].map(normalise_technology)
    if tech.isna().any():
        i = int(np.flatnonzero(tech.isna().to_numpy())[0])
        raise InputError(
            f"{source}: row {i + 2}, field 'technology' is {df['technology'].iloc[i]!r}; expected "
            "2G/3G/4G/5G or GSM/UMTS/LTE/NR. Fix: correct or remove the row."
        )
    df["technology"] = tech
    rep = TowersReport(
        source=source,
        rows_in=len(df),
        cells_kept=len(df),
        caveat="Positions as supplied by the operator.",
    )
    if "site_id" not in df.columns:
        return cluster_sites(df, params=params, report=rep)
    before = len(df)
    out = df.drop_duplicates(subset=["site_id", "technology"], keep="first").reset_index(drop=True)
    if len(out) < before:
        rep.dropped["duplicate_site_technology"] = before - len(out)
    rep.sites = int(out["site_id"].nunique())
    rep.transmitters = len(out)
    rep.by_operator_technology = {
        op: {tc: int(v) for tc, v in grp.groupby("technology")["site_id"].nunique().items()}
        for op, grp in out.groupby("operator")
    }
    return out, rep
