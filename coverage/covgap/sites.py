"""Transmitter sites: the table schema, technology names and validation.

A *sites table* is a :class:`pandas.DataFrame` with **one row per transmitter**: a site
and one technology (and optionally one sector). Columns:

=================  ========  ===========================================================
column             required  meaning
=================  ========  ===========================================================
``site_id``        yes       identifier of the physical site (mast); shared by its rows
``operator``       yes       operator name (e.g. ``Viettel``)
``technology``     yes       ``2G``, ``3G``, ``4G`` or ``5G`` (GSM/UMTS/LTE/NR accepted)
``lon``, ``lat``   yes       WGS 84 degrees (EPSG:4326)
``antenna_height_m`` no      antenna height above ground; missing → technology default
``radius_km``      no        radius-model override for this transmitter
``eirp_dbm``       no        effective isotropic radiated power (terrain/Hata models)
``frequency_mhz``  no        carrier frequency (terrain/Hata models)
``azimuth_deg``    no        sector azimuth, clockwise from north; missing → omni
``beamwidth_deg``  no        sector half-power beamwidth
=================  ========  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .constants import DEFAULT_ANTENNA_HEIGHT_M
from .errors import InputError

__all__ = [
    "TECHNOLOGIES",
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "normalise_technology",
    "validate_sites",
    "SitesReport",
    "DEFAULT_ANTENNA_HEIGHT_M",
    "VALUE_RANGES",
    "SITE_SPREAD_MAX_M",
]

#: Technologies covgap reports on, oldest first.
TECHNOLOGIES: tuple[str, ...] = ("2G", "3G", "4G", "5G")

_TECH_ALIASES = {
    "2G": "2G", "GSM": "2G", "GPRS": "2G", "EDGE": "2G", "CDMA": "2G",
    "3G": "3G", "UMTS": "3G", "WCDMA": "3G", "HSPA": "3G", "HSPA+": "3G",
    "4G": "4G", "LTE": "4G", "LTE-A": "4G",
    "5G": "5G", "NR": "5G", "5G NR": "5G",
}

REQUIRED_COLUMNS: tuple[str, ...] = ("site_id", "operator", "technology", "lon", "lat")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "antenna_height_m", "radius_km", "eirp_dbm", "frequency_mhz", "azimuth_deg", "beamwidth_deg",
)

#: Antenna height above ground used when a row has none (metres). 30 m is the typical
#: rural macro mast height used by the ITU-R P.1546 reference curves ("representative
#: base antenna height" range 10–75 m) and by Okumura–Hata's reference base height of 30 m
#: (Hata 1980, IEEE Trans. Veh. Technol. VT-29(3)).


def normalise_technology(value: object) -> str | None:
    """Map a radio name (``GSM``, ``UMTS``, ``LTE``, ``NR``, ``4G`` …) to covgap's label.

    Returns ``None`` for names covgap does not know.

    Examples
    --------
    >>> normalise_technology("lte"), normalise_technology("UMTS"), normalise_technology("x")
    ('4G', '3G', None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return _TECH_ALIASES.get(str(value).strip().upper())


@dataclass
class SitesReport:
    """What validation did to a sites table (reported, never silent)."""

    source: str
    rows_in: int
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    defaulted: dict[str, int] = field(default_factory=dict)
    duplicate_lines: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain dict for summary.json."""
        out = {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "dropped": dict(self.dropped),
            "defaulted": dict(self.defaulted),
        }
        if self.duplicate_lines:
            out["duplicate_lines"] = list(self.duplicate_lines)
        return out


#: Accepted ranges of the numeric columns (inclusive bounds; ``lo_open``: the lower bound
#: itself is refused). Wider than any real mobile transmitter, so only typing errors and unit
#: mix-ups (mW for dBm, feet, metres for km) are refused; each bound says why.
VALUE_RANGES: dict[str, tuple[float, float, bool, str]] = {
    # tallest masts carrying cells are broadcast masts of ~600 m; 500 m above ground is beyond
    # any mobile antenna (typical rural macro 20–60 m)
    "antenna_height_m": (0.0, 500.0, True, "m above ground"),
    # GSM extended-range cells reach ~120 km (extended timing advance, 3GPP TS 45.010);
    # no mobile cell reaches further
    "radius_km": (0.0, 120.0, True, "km"),
    # 0 dBm (1 mW) to 90 dBm (1 MW EIRP): macro cells radiate ~55–65 dBm EIRP, small cells ~30 dBm
    "eirp_dbm": (0.0, 90.0, False, "dBm"),
    # mobile bands run from 380 MHz (TETRA/LTE 450 band) to ~71 GHz (NR FR2-2, 3GPP Rel-17)
    "frequency_mhz": (300.0, 100000.0, False, "MHz"),
    "azimuth_deg": (0.0, 360.0, False, "degrees clockwise from north"),
    "beamwidth_deg": (0.0, 360.0, True, "degrees"),
}

#: Positions of one site id farther apart than this are two places, not one mast's sectors
#: (OpenCelliD sector positions of one mast scatter by a few hundred metres; see covgap.towers).
SITE_SPREAD_MAX_M = 1000.0


def _shown(v) -> str:
    """Show a cell value in a message: ``empty`` when missing, else its repr (no numpy type names)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "empty"
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v)


def _header_note(line_of, where: str) -> str:
    return " (line in file, header = line 1)" if line_of is not None and where == "line" else ""


def _where(i: int, line_of, where: str) -> str:
    if line_of is None:
        return f"row {i + 2} (line in file, header = line 1)"
    return f"{'row' if where == 'line' else where} {int(line_of[i])}"


def _lines(idx, line_of, where: str, limit: int = 10) -> str:
    nums = [int(line_of[i]) if line_of is not None else int(i) + 2 for i in idx[:limit]]
    word = "file lines" if where == "line" or line_of is None else f"{where}s"
    return f"{word} {nums}{' …' if len(idx) > limit else ''}"


def _numeric(out: pd.DataFrame, col: str, source: str, line_of, where: str) -> pd.Series:
    """``col`` as float64; text or infinity is an error naming the row (empty → NaN)."""
    raw = out[col]
    vals = pd.to_numeric(raw, errors="coerce").astype("f8")
    text = vals.isna() & raw.notna()  # not a number, not empty: text unless only spaces
    if text.any():
        text[text] = raw[text].map(lambda v: not (isinstance(v, str) and v.strip() == ""))
    bad = text | np.isinf(vals)
    if bad.any():
        idx = np.flatnonzero(bad.to_numpy())
        i = int(idx[0])
        raise InputError(
            f"{source}: {_where(i, line_of, where)}, field {col!r} is {_shown(raw.iloc[i])}; expected a number "
            f"({VALUE_RANGES[col][3] if col in VALUE_RANGES else 'degrees'}) or an empty cell. {len(idx)} row(s) "
            f"affected ({_lines(idx, line_of, where)}). Fix: correct the value (a decimal point, no unit), or "
            "leave the cell empty to use the default."
        )
    return vals


def _site_spread(out: pd.DataFrame, source: str, line_of, where: str) -> None:
    """One site id at two places more than SITE_SPREAD_MAX_M apart is an error naming both rows."""
    from .grid import haversine_m

    ids = out["site_id"].to_numpy()
    first = out.groupby("site_id", sort=False)[["lon", "lat"]].transform("first")
    d = haversine_m(out["lon"].to_numpy(), out["lat"].to_numpy(), first["lon"].to_numpy(), first["lat"].to_numpy())
    far = np.flatnonzero(d > SITE_SPREAD_MAX_M)
    if len(far):
        i = int(far[0])
        j = int(np.flatnonzero(ids == ids[i])[0])
        n_ids = len(set(ids[far].tolist()))
        raise InputError(
            f"{source}: site_id {ids[i]!r} is at two places {d[i] / 1000:.1f} km apart ({_where(j, line_of, where)}: "
            f"lon={out['lon'].iloc[j]}, lat={out['lat'].iloc[j]}; {_where(i, line_of, where)}: "
            f"lon={out['lon'].iloc[i]}, lat={out['lat'].iloc[i]}); rows of one site must be within "
            f"{SITE_SPREAD_MAX_M / 1000:g} km of each other. {n_ids} site id(s) affected. Fix: give the two masts "
            "different site_ids, or correct the coordinates."
        )


def validate_sites(
    df: pd.DataFrame,
    *,
    source: str = "sites table",
    study_bounds_lonlat: tuple[float, float, float, float] | None = None,
    default_antenna_height_m: float = DEFAULT_ANTENNA_HEIGHT_M,
    line_of: np.ndarray | None = None,
    where: str = "line",
    drop_duplicate_rows: bool = True,
) -> tuple[pd.DataFrame, SitesReport]:
    """Check a sites table and return a clean copy plus a report of what was changed.

    Raises :class:`~covgap.errors.InputError` naming ``source``, the row and the field for
    anything that would make the numbers wrong: missing columns, blank site ids or
    operators, unknown technologies, coordinates out of range or apparently swapped
    (lat/lon), text in a numeric column, values outside :data:`VALUE_RANGES` (the message
    gives the range), one site id at two places more than :data:`SITE_SPREAD_MAX_M` apart.
    Missing antenna heights are filled with the default and counted in the report; exact
    duplicate rows are dropped and counted (``dropped["duplicate_rows"]``): they carry no
    information but would count one transmitter twice.

    ``line_of``: the file line (or feature number, ``where="feature"``) of each row, from
    :func:`covgap.io.read_points_table`; without it rows are numbered as lines of a CSV
    with a header line. ``drop_duplicate_rows=False`` keeps one output row per input row
    (for callers that align the result with another table).

    Examples
    --------
    >>> df = pd.DataFrame({"site_id": ["a"], "operator": ["X"], "technology": ["LTE"],
    ...                    "lon": [105.0], "lat": [21.0]})
    >>> clean, rep = validate_sites(df)
    >>> clean.loc[0, "technology"], rep.defaulted
    ('4G', {'antenna_height_m': 1})
    """
    rep = SitesReport(source=source, rows_in=len(df))
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {missing}; expected at least {list(REQUIRED_COLUMNS)}, "
            f"found {list(df.columns)}. Fix: rename the columns (e.g. 'lng'→'lon') or map them in the config."
        )
    out = df.copy().reset_index(drop=True)
    line_of = None if line_of is None else np.asarray(line_of)
    for col in ("site_id", "operator"):
        missing_value = out[col].isna()
        out[col] = out[col].astype(str).str.strip()
        blank = missing_value | out[col].eq("")
        if blank.any():
            idx = np.flatnonzero(blank.to_numpy())
            raise InputError(
                f"{source}: {_where(int(idx[0]), line_of, where)}, field {col!r} is empty; every transmitter needs "
                f"{'a site id' if col == 'site_id' else 'an operator (the network that runs it)'}. {len(idx)} row(s) "
                f"affected ({_lines(idx, line_of, where)}). Fix: fill the {col} or remove those rows."
            )
    tech = out["technology"].map({v: normalise_technology(v) for v in pd.unique(out["technology"])})
    bad = tech.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{source}: {_where(i, line_of, where)}{_header_note(line_of, where)}, field 'technology' is "
            f"{_shown(out['technology'].iloc[i])}; expected one of 2G/3G/4G/5G or GSM/UMTS/LTE/NR. "
            f"{int(bad.sum())} row(s) affected. Fix: correct or remove those rows."
        )
    out["technology"] = tech
    for col in ("lon", "lat"):
        vals = pd.to_numeric(out[col], errors="coerce")
        nan = vals.isna() | np.isinf(vals)
        if nan.any():
            i = int(np.flatnonzero(nan.to_numpy())[0])
            raise InputError(
                f"{source}: {_where(i, line_of, where)}, field {col!r} is {_shown(out[col].iloc[i])}; expected a "
                f"number in degrees (WGS 84). {int(nan.sum())} row(s) affected. Fix: fill or remove them."
            )
        out[col] = vals.astype("f8")
    lon = out["lon"].to_numpy()
    lat = out["lat"].to_numpy()
    bad_lat = np.abs(lat) > 90
    bad_lon = np.abs(lon) > 180
    if bad_lat.any() or bad_lon.any():
        i = int(np.flatnonzero(bad_lat | bad_lon)[0])
        hint = ""
        if bad_lat[i] and abs(lon[i]) <= 90:
            hint = " The values look like lat and lon swapped."
        raise InputError(
            f"{source}: {_where(i, line_of, where)}, lon={lon[i]}, lat={lat[i]} is out of range "
            f"(lon −180…180, lat −90…90).{hint} Fix: check the column order (lon, lat) in the file."
        )
    if study_bounds_lonlat is not None:
        w, s, e, n = study_bounds_lonlat
        inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        swapped_inside = (lat >= w) & (lat <= e) & (lon >= s) & (lon <= n)
        if inside.sum() == 0 and swapped_inside.sum() > 0:
            raise InputError(
                f"{source}: no site lies in the study area ({w:.3f}, {s:.3f}, {e:.3f}, {n:.3f}) but "
                f"{int(swapped_inside.sum())} would if lon and lat were swapped. "
                "Fix: swap the 'lon' and 'lat' columns in the file."
            )
    if "antenna_height_m" not in out.columns:
        out["antenna_height_m"] = np.nan
    for col in OPTIONAL_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
            continue
        vals = _numeric(out, col, source, line_of, where)
        lo, hi, lo_open, unit = VALUE_RANGES[col]
        bad = (vals <= lo if lo_open else vals < lo) | (vals > hi)
        if bad.any():
            idx = np.flatnonzero(bad.to_numpy())
            i = int(idx[0])
            rng = f"{'>' if lo_open else '≥'} {lo:g} and ≤ {hi:g} {unit}"
            default = (f" or leave it empty to use the default ({default_antenna_height_m} m)"
                       if col == "antenna_height_m" else " or leave the cell empty")
            raise InputError(
                f"{source}: {_where(i, line_of, where)}, field {col!r} is {vals.iloc[i]:g}; expected a value "
                f"{rng}. {len(idx)} row(s) affected ({_lines(idx, line_of, where)}). Fix: correct it (check the "
                f"unit){default}."
            )
        out[col] = vals
    h = out["antenna_height_m"]
    n_default = int(h.isna().sum())
    if n_default:
        rep.defaulted["antenna_height_m"] = n_default
    out["antenna_height_m"] = h.fillna(default_antenna_height_m).astype("f8")
    dup = pd.Series(False, index=out.index)
    if drop_duplicate_rows and pd.util.hash_pandas_object(out, index=False).duplicated().any():
        dup = out.duplicated(keep="first")  # equal hashes: compare the rows themselves
    if dup.any():
        rep.dropped["duplicate_rows"] = int(dup.sum())
        rep.duplicate_lines = [int(line_of[i]) if line_of is not None else int(i) + 2
                               for i in np.flatnonzero(dup.to_numpy())[:10]]
        keep = ~dup.to_numpy()
        out = out.loc[keep].reset_index(drop=True)
        line_of = line_of[keep] if line_of is not None else np.flatnonzero(keep) + 2
    _site_spread(out, source, line_of, where)
    rep.rows_out = len(out)
    return out, rep
