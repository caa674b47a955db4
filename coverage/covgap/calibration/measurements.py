"""Measured signal: which measurements can calibrate the model, and why the others cannot.

A measurement is a point ``lon, lat, operator, technology, signal_dbm`` (optional ``time``,
``source``), read by :func:`covgap.io.read_measurements`. :func:`clean_measurements` keeps the
ones a model prediction can be compared with and counts every other one under exactly one
reason (the first that applies, in the order of :data:`DROP_REASONS`); nothing is dropped
silently. :func:`opencellid_measurements` turns OpenCelliD's ``averageSignal`` into weak
measurements (see its docstring for what that figure is and how it is biased).

Which measure is expected per technology, and the range a receiver can report
(:data:`SIGNAL_RANGES_DBM`; a value outside it is an impossible reading, counted and left out):

=====  =========================  ==============  ==========================================
tech   measure                    range (dBm)     source (reporting range of the measure)
=====  =========================  ==============  ==========================================
2G     RxLev (BCCH carrier)       −113 … −48      3GPP TS 45.008 §8.1.4 (RXLEV_00 < −110 …
                                                  RXLEV_63 > −48 dBm); phones' +CSQ scale of
                                                  TS 27.007 §8.5 starts at −113 dBm
3G     CPICH RSCP                 −120 … −25      3GPP TS 25.133 §9.1.1 (CPICH_RSCP_LEV)
4G     RSRP                       −140 … −44      3GPP TS 36.133 §9.1.4 (RSRP_00 … RSRP_97)
5G     SS-RSRP                    −156 … −31      3GPP TS 38.133 §10.1.6 (SS-RSRP report mapping)
=====  =========================  ==============  ==========================================

The ranges are the reporting ranges as recalled from the specifications named (not re-checked
against the documents when this module was written: no network access); a reading at the end of
a range is kept (the report saturates there). Pass ``signal_ranges_dbm`` to use others, e.g. for
a scanner that measures RSSI. A technology is accepted as ``2G``–``5G`` or by its radio's name
(:data:`TECHNOLOGY_ALIASES`: GSM, UMTS/WCDMA, LTE, NR).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..sites import TECHNOLOGIES
from ..study import StudyArea

__all__ = [
    "SIGNAL_RANGES_DBM",
    "SIGNAL_MEASURES",
    "TECHNOLOGY_ALIASES",
    "DROP_REASONS",
    "MeasurementsReport",
    "clean_measurements",
    "opencellid_measurements",
]

#: Lowest and highest reportable level per technology, dBm (see the module docstring for sources).
SIGNAL_RANGES_DBM: dict[str, tuple[float, float]] = {
    "2G": (-113.0, -48.0),
    "3G": (-120.0, -25.0),
    "4G": (-140.0, -44.0),
    "5G": (-156.0, -31.0),
}

#: The measure a ``signal_dbm`` is expected to hold per technology (the one the models predict,
#: :mod:`covgap.models.linkbudget`).
SIGNAL_MEASURES: dict[str, str] = {"2G": "RxLev (BCCH carrier level)", "3G": "CPICH RSCP", "4G": "RSRP",
                                   "5G": "SS-RSRP"}

#: Radio names accepted as technologies (case-insensitive).
TECHNOLOGY_ALIASES: dict[str, str] = {"GSM": "2G", "UMTS": "3G", "WCDMA": "3G", "LTE": "4G", "NR": "5G",
                                      **{t: t for t in TECHNOLOGIES}}

#: Why a measurement is not used, in the order they are checked (each row counted once, under the first).
DROP_REASONS: tuple[str, ...] = (
    "unknown_technology",      # not 2G-5G nor a radio name of TECHNOLOGY_ALIASES
    "impossible_signal",       # outside SIGNAL_RANGES_DBM of its technology
    "outside_study_area",      # off the grid, or in a cell of no admin unit
    "unknown_operator",        # no site of that operator in the towers table
    "no_sites_of_technology",  # the operator has no site of that technology
    "duplicate",               # same operator, technology, place (1e-6 degree) and time as an earlier row
    "no_prediction",           # no transmitter of that operator x technology reaches the cell in the model
)

_SHOW = 10


@dataclass
class MeasurementsReport:
    """What happened to the measurements: rows read, rows used, rows left out per reason.

    ``first_rows[reason]`` lists the first file lines (or layer features) of each reason.
    """

    source: str = ""
    rows_in: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    first_rows: dict[str, list[int]] = field(default_factory=dict)
    where: str = "line"
    notes: list[str] = field(default_factory=list)

    def drop(self, reason: str, lines: np.ndarray) -> None:
        """Count the rows at file ``lines`` under ``reason`` (one of :data:`DROP_REASONS`)."""
        if reason not in DROP_REASONS:
            raise ValueError(f"unknown drop reason {reason!r}")
        if len(lines) == 0:
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + int(len(lines))
        self.first_rows.setdefault(reason, [])
        self.first_rows[reason] = (self.first_rows[reason] + [int(v) for v in lines[:_SHOW]])[:_SHOW]

    @property
    def rows_dropped(self) -> int:
        """Σ rows left out."""
        return int(sum(self.dropped.values()))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: counts in :data:`DROP_REASONS` order."""
        return {"source": self.source, "rows_in": self.rows_in, "rows_used": self.rows_used,
                "rows_dropped": self.rows_dropped,
                "dropped": {r: self.dropped[r] for r in DROP_REASONS if r in self.dropped},
                f"first_{self.where}s": {r: self.first_rows[r] for r in DROP_REASONS if r in self.first_rows},
                "notes": list(self.notes)}


def _normalise_technology(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.upper().map(TECHNOLOGY_ALIASES)


def clean_measurements(table: pd.DataFrame, study: StudyArea, *, line_of: np.ndarray | None = None,
                       where: str = "line", source: str = "measurements",
                       signal_ranges_dbm: Mapping[str, tuple[float, float]] | None = None,
                       ) -> tuple[pd.DataFrame, pd.DataFrame, MeasurementsReport]:
    """Keep the measurements a prediction can be compared with; count every other one.

    Parameters
    ----------
    table : DataFrame
        ``lon, lat, operator, technology, signal_dbm`` (floats for the numbers, as
        :func:`covgap.io.read_measurements` returns them), optional ``time``, ``source``.
    study : StudyArea
        The grid, the admin units (a cell in no unit is outside the study area) and the sites
        (operators and technologies that exist).
    line_of : ndarray, optional
        File line (or feature) of each row, for the report; default ``row + 2`` (a CSV with a header).
    signal_ranges_dbm : mapping, optional
        Overrides of :data:`SIGNAL_RANGES_DBM`.

    Returns
    -------
    kept : DataFrame
        The rows kept, with ``line``, ``technology`` normalised to ``2G``…``5G`` and the grid
        cell ``row``, ``col``.
    dropped : DataFrame
        ``line, reason, operator, technology, lon, lat, signal_dbm`` of every row left out.
    report : MeasurementsReport

    Examples
    --------
    See ``tests/test_calibration.py::test_bad_rows_counted_once``.
    """
    missing = [c for c in ("lon", "lat", "operator", "technology", "signal_dbm") if c not in table.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {missing}; expected lon, lat, operator, technology, "
                         "signal_dbm. Fix: rename the columns.")
    df = table.reset_index(drop=True).copy()
    n = len(df)
    lines = np.asarray(line_of, dtype=np.int64) if line_of is not None else np.arange(n, dtype=np.int64) + 2
    if len(lines) != n:
        raise ValueError("line_of must have one entry per row")
    df["line"] = lines
    rep = MeasurementsReport(source=source, rows_in=n, where=where)
    reason = np.full(n, "", dtype=object)

    def mark(mask: np.ndarray, why: str) -> None:
        m = np.asarray(mask, dtype=bool) & (reason == "")
        reason[m] = why

    tech = _normalise_technology(df["technology"])
    mark(tech.isna().to_numpy(), "unknown_technology")
    df["technology"] = tech.fillna(df["technology"].astype(str)).to_numpy()
    ranges = {**SIGNAL_RANGES_DBM, **dict(signal_ranges_dbm or {})}
    sig = df["signal_dbm"].to_numpy(dtype="f8")
    lo = np.array([ranges.get(t, (np.nan, np.nan))[0] for t in df["technology"]], dtype="f8")
    hi = np.array([ranges.get(t, (np.nan, np.nan))[1] for t in df["technology"]], dtype="f8")
    with np.errstate(invalid="ignore"):
        mark(~np.isfinite(sig) | (sig < lo) | (sig > hi), "impossible_signal")

    grid = study.grid
    lon = df["lon"].to_numpy(dtype="f8")
    lat = df["lat"].to_numpy(dtype="f8")
    x, y = grid.from_lonlat(lon, lat)
    row, col = grid.rowcol(np.asarray(x, dtype="f8"), np.asarray(y, dtype="f8"))
    row = np.asarray(row, dtype=np.int64)
    col = np.asarray(col, dtype=np.int64)
    on_grid = np.asarray(grid.contains_rowcol(row, col), dtype=bool)
    rr, cc = np.where(on_grid, row, 0), np.where(on_grid, col, 0)
    in_unit = np.zeros(n, dtype=bool)
    for a in study.admin:
        in_unit |= a.labels[rr, cc] > 0
    mark(~(on_grid & in_unit), "outside_study_area")
    df["row"], df["col"] = rr, cc

    ops = df["operator"].astype(str).str.strip()
    df["operator"] = ops.to_numpy()
    site_ops = set(study.sites["operator"].astype(str))
    mark(~ops.isin(site_ops).to_numpy(), "unknown_operator")
    pairs = set(zip(study.sites["operator"].astype(str), study.sites["technology"].astype(str), strict=True))
    mark(np.array([(o, t) not in pairs for o, t in zip(ops, df["technology"], strict=True)], dtype=bool),
         "no_sites_of_technology")

    time = df["time"].astype(str) if "time" in df.columns else pd.Series([""] * n)
    key = pd.DataFrame({"o": ops.to_numpy(), "t": df["technology"].to_numpy(), "x": np.round(lon, 6),
                        "y": np.round(lat, 6), "time": time.to_numpy()})
    ok_so_far = reason == ""
    dup = np.zeros(n, dtype=bool)
    dup[ok_so_far] = key[ok_so_far].duplicated(keep="first").to_numpy()
    mark(dup, "duplicate")

    at_end = (reason == "") & ((sig == lo) | (sig == hi))
    if at_end.any():
        rep.notes.append(f"{int(at_end.sum())} reading(s) sit exactly at an end of their technology's reporting range "
                         "(saturated reports: the true level may lie beyond); kept, they pull the offset toward "
                         "the range")
    for r in DROP_REASONS:
        rep.drop(r, lines[reason == r])
    keep = reason == ""
    rep.rows_used = int(keep.sum())
    dropped = df.loc[~keep, ["line", "operator", "technology", "lon", "lat", "signal_dbm"]].copy()
    dropped.insert(1, "reason", reason[~keep])
    return df.loc[keep].reset_index(drop=True), dropped.reset_index(drop=True), rep


def opencellid_measurements(cells: pd.DataFrame | str | Path, *, operators: Mapping[tuple[int, int], str] | None = None,
                            mccs=(452,)) -> tuple[pd.DataFrame, dict[str, int]]:
    """OpenCelliD's ``averageSignal`` as weak measurements (rows for :func:`clean_measurements`).

    What the figure is: for each cell, OpenCelliD stores ``averageSignal``, the mean of the
    signal levels (dBm) that the phones which saw the cell reported, **0 when unknown** (most
    rows). Its position (``lon, lat``) is the average of those phones' positions, not the mast.
    So each row says "phones near here heard this cell at about this level on average".

    Its bias, and why the rows are flagged ``weak``:

    * **where people are**: phones report from roads, towns and homes, not from the empty
      slopes where gaps are, so the sample is thin exactly where coverage is in doubt;
    * **toward good signal**: a phone without service reports nothing, and a phone camps on the
      strongest cell, so weak readings near the edge of a cell are under-represented and the
      mean is too high for the cell's footprint as a whole;
    * **the place is a mean**: the averaged fix lies between the mast and the users, often
      hundreds of metres from either, and the mean of dBm values over a spread of distances
      is not the signal at that mean distance;
    * **mixed measures**: apps report RSRP, RSSI or ASU depending on the phone; positive values
      (ASU, not dBm) are left out here and counted.

    Use them to check the order of magnitude, never alone to fit offsets that decide coverage.

    Parameters
    ----------
    cells : DataFrame or path
        An OpenCelliD export (the columns of :data:`covgap.towers.OPENCELLID_COLUMNS`).
    operators, mccs
        As :func:`covgap.towers.clean_cells` (MCC/MNC → operator; default Vietnam, MCC 452).

    Returns
    -------
    measurements : DataFrame
        ``lon, lat, operator, technology, signal_dbm, time, source, weak, samples`` (``weak`` True).
    counts : dict
        ``cells_in`` (after OpenCelliD cleaning), ``no_average_signal`` (0 or empty),
        ``not_dbm`` (positive values), ``used``.

    Examples
    --------
    >>> raw = pd.DataFrame({"radio": ["LTE", "LTE", "GSM"], "mcc": [452] * 3, "net": [4, 4, 1],
    ...                     "area": [1] * 3, "cell": [1, 2, 3], "lon": [105.0, 105.1, 105.2],
    ...                     "lat": [21.0] * 3, "range": [1000] * 3, "samples": [5, 5, 5],
    ...                     "changeable": [1] * 3, "updated": [1.7e9] * 3,
    ...                     "averageSignal": [-97, 0, -81]})
    >>> m, counts = opencellid_measurements(raw)
    >>> m["signal_dbm"].tolist(), counts["no_average_signal"]
    ([-97.0, -81.0], 1)
    """
    from ..towers import CellFilter, clean_cells, read_cells

    raw = read_cells(cells) if isinstance(cells, str | Path) else cells
    if "averageSignal" not in raw.columns:
        raise InputError("OpenCelliD table has no 'averageSignal' column; expected the OpenCelliD export's "
                         "columns (radio, mcc, net, area, cell, unit, lon, lat, range, samples, changeable, "
                         "created, updated, averageSignal). Fix: use the full export.")
    # keep cells of any age and sample count: the figure is weak anyway, and its samples are carried along
    clean, _ = clean_cells(raw, filters=CellFilter(min_samples=1, max_age_days=None), operators=operators, mccs=mccs)
    avg = pd.to_numeric(clean["averageSignal"], errors="coerce").to_numpy(dtype="f8")
    unknown = ~np.isfinite(avg) | (avg == 0)
    not_dbm = np.isfinite(avg) & (avg > 0)
    use = ~unknown & ~not_dbm
    out = pd.DataFrame({
        "lon": pd.to_numeric(clean["lon"], errors="coerce").to_numpy(dtype="f8")[use],
        "lat": pd.to_numeric(clean["lat"], errors="coerce").to_numpy(dtype="f8")[use],
        "operator": clean["operator"].astype(str).to_numpy()[use],
        "technology": clean["technology"].astype(str).to_numpy()[use],
        "signal_dbm": avg[use],
        "time": clean["updated"].astype(str).to_numpy()[use] if "updated" in clean.columns else "",
        "source": "OpenCelliD averageSignal (weak)",
        "weak": True,
        "samples": (pd.to_numeric(clean["samples"], errors="coerce").to_numpy()[use]
                    if "samples" in clean.columns else np.nan),
    })
    counts = {"cells_in": int(len(clean)), "no_average_signal": int(unknown.sum()), "not_dbm": int(not_dbm.sum()),
              "used": int(use.sum())}
    return out, counts
