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

    def as_dict(self) -> dict:
        """Plain dict for summary.json."""
        return {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "dropped": dict(self.dropped),
            "defaulted": dict(self.defaulted),
        }


def validate_sites(
    df: pd.DataFrame,
    *,
    source: str = "sites table",
    study_bounds_lonlat: tuple[float, float, float, float] | None = None,
    default_antenna_height_m: float = DEFAULT_ANTENNA_HEIGHT_M,
) -> tuple[pd.DataFrame, SitesReport]:
    """Check a sites table and return a clean copy plus a report of what was changed.

    Raises :class:`~covgap.errors.InputError` naming ``source``, the row and the field for
    anything that would make the numbers wrong: missing columns, unknown technologies,
    coordinates out of range or apparently swapped (lat/lon), non-positive antenna heights.
    Missing antenna heights are filled with the default and counted in the report.

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
    out["site_id"] = out["site_id"].astype(str)
    out["operator"] = out["operator"].astype(str).str.strip()
    tech = out["technology"].map(normalise_technology)
    bad = tech.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{source}: row {i + 2} (line in file, header = line 1), field 'technology' is "
            f"{out['technology'].iloc[i]!r}; expected one of 2G/3G/4G/5G or GSM/UMTS/LTE/NR. "
            f"{int(bad.sum())} row(s) affected. Fix: correct or remove those rows."
        )
    out["technology"] = tech
    for col in ("lon", "lat"):
        vals = pd.to_numeric(out[col], errors="coerce")
        nan = vals.isna()
        if nan.any():
            i = int(np.flatnonzero(nan.to_numpy())[0])
            raise InputError(
                f"{source}: row {i + 2}, field {col!r} is {out[col].iloc[i]!r}; expected a number in "
                f"degrees (WGS 84). {int(nan.sum())} row(s) affected. Fix: fill or remove them."
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
            f"{source}: row {i + 2}, lon={lon[i]}, lat={lat[i]} is out of range "
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
    h = pd.to_numeric(out["antenna_height_m"], errors="coerce")
    nonpos = h <= 0
    if nonpos.any():
        i = int(np.flatnonzero(nonpos.to_numpy())[0])
        raise InputError(
            f"{source}: row {i + 2}, field 'antenna_height_m' is {h.iloc[i]}; expected a height above "
            f"ground > 0 m. {int(nonpos.sum())} row(s) affected. Fix: correct it or leave it empty "
            f"to use the default ({default_antenna_height_m} m)."
        )
    n_default = int(h.isna().sum())
    if n_default:
        rep.defaulted["antenna_height_m"] = n_default
    out["antenna_height_m"] = h.fillna(default_antenna_height_m).astype("f8")
    for col in OPTIONAL_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
        else:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("f8")
    rep.rows_out = len(out)
    return out, rep
