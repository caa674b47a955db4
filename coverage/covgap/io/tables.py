"""Point tables (towers, hamlets, candidates, measurements) and official totals: one reader, rows named as
file lines."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import InputRef
from ..errors import DataFileError, InputError
from ..sites import SitesReport, validate_sites
from .rasters import _exists
from .vectors import _VECTOR_SUFFIXES, _layer, _read_vector


def read_points_table(path: str | Path, *, what: str, encoding: str | None = None, layer: str | None = None,
                      sep: str = ",") -> tuple[pd.DataFrame, np.ndarray, str]:
    r"""Read a table of points (UTF-8 CSV, or a point layer of any OGR format) for validation.

    The one reader of user tables (towers, hamlets, candidates). Returns ``(table, line_of,
    where)``: ``line_of[k]`` is the 1-based line in the file where record ``k`` starts (header
    = line 1, blank lines and quoted line breaks counted), or the feature number of a layer,
    and ``where`` is ``"line"`` or ``"feature"``. A layer's points become ``lon``/``lat``
    (WGS 84) unless it has those columns. ``what`` starts every message (e.g. ``"towers
    file"``); ``sep`` is ``","`` (CSV) or ``"\\t"`` (a ``.tsv`` file).

    Raises
    ------
    DataFileError
        Missing, 0-byte, not UTF-8 (without ``encoding``), not comma-separated (a semicolon
        or tab separated file is named as such), unreadable.
    InputError
        A header line and no data rows; a layer that is not points.

    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{what} {path} does not exist. Fix: check the path (in the config, relative paths "
                            "start in the config file's folder).")
    if path.is_dir():
        raise DataFileError(f"{what} {path} is a folder, not a file. Fix: point the config at the file.")
    if path.stat().st_size == 0:
        raise DataFileError(f"{what} {path} is empty (0 bytes). Fix: export the table again, or point the config "
                            "at the right file.")
    if path.suffix.lower() in _VECTOR_SUFFIXES:
        return _read_point_layer(path, what=what, layer=layer, encoding=encoding)
    raw = path.read_bytes()
    enc = encoding
    if enc is None:
        try:
            raw.decode("utf-8")
            enc = "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise DataFileError(
                f"{what} {path}: not UTF-8 (undecodable byte {raw[exc.start:exc.start + 1]!r} at line "
                f"{line}); covgap does not guess encodings. Fix: save the file as UTF-8, or set "
                "`encoding = \"cp1258\"` (or the right one) for this input in the config."
            ) from exc
    try:
        text = raw.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataFileError(f"{what} {path}: cannot be decoded as {enc}: {exc}. "
                            "Fix: give the file's encoding.") from exc
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    if not first:
        raise DataFileError(f"{what} {path} holds only blank lines. Fix: export the table again (header line, then "
                            "one row per line).")
    if sep not in first:
        for other, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")):
            if other != sep and other in first:
                expected = "comma-separated CSV" if sep == "," else "tab-separated text (.tsv)"
                raise DataFileError(
                    f"{what} {path}: the header line is {name}-separated ({first[:80]!r}); covgap reads "
                    f"{expected} and does not guess delimiters. Fix: save the file as CSV with commas (e.g. in "
                    "LibreOffice: Save As → Text CSV, field delimiter ','), or convert it: python -c \"import "
                    f"pandas as p; p.read_csv('{path.name}', sep='{other if other != chr(9) else chr(92) + 't'}')"
                    f".to_csv('{path.stem}_comma.csv', index=False)\".")
    import warnings
    from io import StringIO

    try:
        with warnings.catch_warnings():
            # a row longer than the header would silently become an index or lose fields
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(StringIO(text), sep=sep, index_col=False,
                             dtype={"site_id": str, "hamlet_id": str, "candidate_id": str, "operator": str,
                                    "name": str})
    except pd.errors.EmptyDataError as exc:
        raise DataFileError(f"{what} {path}: no columns could be read ({exc}). Fix: export the table again.") from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataFileError(f"{what} {path}: cannot be read as CSV: {_ragged(text, sep) or exc}. Fix: check that "
                            "every line has as many fields as the header (quote text that holds commas).") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{what} {path}: a header line ({', '.join(df.columns)}) and no data rows. Fix: add the "
                         "rows, or leave this input out of the config.")
    return df, _record_lines(text, len(df), sep), "line"


def _ragged(text: str, sep: str) -> str:
    """Describe the first line whose number of fields differs from the header's ('' if none)."""
    import csv
    from io import StringIO

    reader = csv.reader(StringIO(text), delimiter=sep)
    header = None
    prev = 0
    for rec in reader:
        line = prev + 1
        prev = reader.line_num
        if not rec:
            continue
        if header is None:
            header = len(rec)
        elif len(rec) != header:
            return f"line {line} has {len(rec)} fields, the header line has {header}"
    return ""


def _record_lines(text: str, n: int, sep: str = ",") -> np.ndarray:
    """1-based file line where each of the ``n`` CSV records starts (blank lines skipped as pandas does)."""
    if '"' not in text and "\n\n" not in text.replace("\r\n", "\n") and not text.startswith("\n"):
        return np.arange(n, dtype=np.int64) + 2
    import csv
    from io import StringIO

    reader = csv.reader(StringIO(text), delimiter=sep)
    starts: list[int] = []
    prev = 0
    for rec in reader:
        line = prev + 1
        prev = reader.line_num
        if not rec or all(not f.strip() for f in rec) and len(rec) <= 1:
            continue
        starts.append(line)
    out = np.asarray(starts[1:], dtype=np.int64)  # the first record is the header
    if len(out) != n:  # a layout pandas reads differently: fall back to header + row number
        return np.arange(n, dtype=np.int64) + 2
    return out


def _read_point_layer(path: Path, *, what: str, layer: str | None, encoding: str | None):
    ref = InputRef(path=path, layer=layer, encoding=encoding)
    gdf = _read_vector(ref, what)
    geom = gdf.geom_type
    bad = ~geom.isin(["Point"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{what} {path}{_layer(ref)}: feature {i + 1} is a {geom.iloc[i]}; expected points "
            f"({int(bad.sum())} of {len(gdf)} features are not). Fix: give a point layer (one point per "
            "row), e.g. the centroids: ogr2ogr -dialect sqlite -sql \"SELECT *, ST_Centroid(geom) FROM layer\"."
        )
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df.columns = [str(c).strip() for c in df.columns]
    if "lon" not in df.columns or "lat" not in df.columns:
        df["lon"] = gdf.geometry.x.to_numpy()
        df["lat"] = gdf.geometry.y.to_numpy()
    for col in ("site_id", "hamlet_id", "candidate_id"):
        if col in df.columns:
            df[col] = df[col].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return df, np.arange(len(df), dtype=np.int64) + 1, "feature"


#: Columns of an official-totals CSV (``[population] adjust_to``).
TOTALS_COLUMNS = ("code", "population", "year", "source")


def read_population_totals(ref: InputRef | str | Path) -> pd.DataFrame:
    """Read official population totals per unit: a UTF-8 CSV with ``code, population, year, source``.

    Lines starting with ``#`` are comments. Codes are text (leading zeros kept: ``"01"``).
    The returned frame has those four columns and ``line`` (the 1-based file line of each row).

    Raises
    ------
    DataFileError
        Missing file, not UTF-8, missing column, a population that is not a number ≥ 0, an empty
        or duplicate code (each message names the file line).
    """
    ref = ref if isinstance(ref, InputRef) else InputRef(path=Path(ref))
    what = "official population totals"
    _exists(ref.path, what)
    import csv

    try:
        text = ref.path.read_text(encoding=ref.encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{what} {ref.path}: not UTF-8 ({exc}). Fix: save the file as UTF-8.") from exc
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise DataFileError(f"{what} {ref.path}: no header and no rows. Fix: first line `code,population,year,source`.")
    rows = list(csv.reader([ln for _, ln in lines]))
    header = [h.strip() for h in rows[0]]
    missing = [c for c in TOTALS_COLUMNS if c not in header]
    if missing:
        raise DataFileError(
            f"{what} {ref.path} line {lines[0][0]}: header {header} lacks {missing}; expected columns "
            f"{list(TOTALS_COLUMNS)} (unit code, people, year of the figure, who published it)."
        )
    col = {c: header.index(c) for c in TOTALS_COLUMNS}
    out, seen = [], {}
    for (line, _), r in zip(lines[1:], rows[1:], strict=True):
        vals = {c: (r[j].strip() if j < len(r) else "") for c, j in col.items()}
        if not vals["code"]:
            raise DataFileError(f"{what} {ref.path} line {line}: empty code. Fix: give the unit's code.")
        if vals["code"] in seen:
            raise DataFileError(
                f"{what} {ref.path} line {line}: code {vals['code']!r} already given on line {seen[vals['code']]}. "
                "Fix: one total per unit."
            )
        seen[vals["code"]] = line
        try:
            pop = float(vals["population"].replace("_", ""))
        except ValueError:
            pop = float("nan")
        if not np.isfinite(pop) or pop < 0:
            raise DataFileError(
                f"{what} {ref.path} line {line}: population {vals['population']!r} for code {vals['code']!r}; "
                "expected a number of people ≥ 0 (no thousands separators)."
            )
        out.append({"code": vals["code"], "population": pop, "year": vals["year"], "source": vals["source"],
                    "line": line})
    return pd.DataFrame(out, columns=[*TOTALS_COLUMNS, "line"])


def read_towers(ref: InputRef, *, study_bounds_lonlat=None) -> tuple[pd.DataFrame, SitesReport]:
    """Read a sites table (CSV or point layer) and validate it (see :func:`covgap.sites.validate_sites`).

    Rows are numbered as file lines (header = line 1) or layer features in every message.
    """
    df, line_of, where = read_points_table(ref.path, what="towers file", encoding=ref.encoding, layer=ref.layer)
    # (read_points_table: 0-byte, header-only, wrong delimiter, non-point layers are errors)
    return validate_sites(df, source=f"towers file {ref.path}", study_bounds_lonlat=study_bounds_lonlat,
                          line_of=line_of, where=where)


def read_foreign_towers(ref: InputRef, *, domestic_operators: pd.Series | None = None
                        ) -> tuple[pd.DataFrame, SitesReport]:
    """Read the sites table of neighbouring countries' networks (same schema as :func:`read_towers`).

    Adds ``country`` when missing (from ``mcc``, else ``"foreign"``). An operator name that is
    also a domestic operator's gets `` (<country>)`` appended, so the two are never merged.
    """
    sites, rep = read_towers(ref)
    if "country" not in sites.columns:
        sites["country"] = sites["mcc"].astype(str) if "mcc" in sites.columns else "foreign"
    sites["country"] = sites["country"].astype(str)
    if domestic_operators is not None:
        clash = sites["operator"].isin(set(domestic_operators.astype(str)))
        sites.loc[clash, "operator"] = sites.loc[clash, "operator"] + " (" + sites.loc[clash, "country"] + ")"
    return sites, rep


#: Mojibake left after :func:`covgap.vietnam.repair_names`: a lost byte (U+FFFD) or the
#: lead byte of a UTF-8 sequence read as cp1252/latin-1 followed by a continuation byte.
_MOJIBAKE_LEFT = re.compile("\ufffd|[ÃÂÄÅÆ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                            "\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|á[º»]")


def check_names_repaired(names: pd.Series, *, source: str, field: str, line_of=None, where: str = "line") -> None:
    """Refuse names still garbled after repair (the message names the row and the fix)."""
    bad = names.map(lambda v: isinstance(v, str) and _MOJIBAKE_LEFT.search(v) is not None)
    if bad.any():
        idx = np.flatnonzero(bad.to_numpy())
        i = int(idx[0])
        loc = f"{'row' if where == 'line' else where} {int(line_of[i]) if line_of is not None else i + 1}"
        raise InputError(
            f"{source}: {loc}, field {field!r} is {names.iloc[i]!r}: garbled text (mojibake) that cannot be repaired "
            f"(a byte was lost when the file was re-saved). {len(idx)} value(s) affected. Fix: export the layer again "
            "from the original source as UTF-8, or give the file's true encoding (`encoding = ...` in the config)."
        )


def read_hamlets(ref: InputRef, *, study_bounds_lonlat=None) -> gpd.GeoDataFrame:
    """Read hamlet points (CSV with ``lon``, ``lat``, ``name`` or a point layer).

    Rows with missing or out-of-range coordinates, a blank name or a name whose mojibake
    cannot be repaired are an error naming the rows (file lines). Repaired names are
    counted in ``attrs["names_repaired"]``; hamlets outside ``study_bounds_lonlat`` in
    ``attrs["outside_study_area"]`` (kept and flagged by :mod:`covgap.hamlets`).
    """
    df, line_of, where = read_points_table(ref.path, what="hamlets file", encoding=ref.encoding, layer=ref.layer)
    src = f"hamlets file {ref.path}"
    for col in ("name", "lon", "lat"):
        if col not in df.columns:
            raise InputError(f"{src}: missing column {col!r}; found {list(df.columns)}. Fix: rename the columns "
                             "(name, lon, lat).")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    bad = lon.isna() | lat.isna() | (lat.abs() > 90) | (lon.abs() > 180)
    if bad.any():
        rows = [int(line_of[i]) for i in np.flatnonzero(bad.to_numpy())[:10]]
        raise InputError(
            f"{src}: {int(bad.sum())} row(s) with missing or invalid coordinates (file lines {rows}"
            f"{' …' if bad.sum() > 10 else ''}). Fix: fill lon/lat (WGS 84 degrees) or remove those rows."
        )
    blank = df["name"].isna() | df["name"].astype(str).str.strip().eq("")
    if blank.any():
        idx = np.flatnonzero(blank.to_numpy())
        raise InputError(f"{src}: {len(idx)} row(s) with an empty 'name' (file lines "
                         f"{[int(line_of[i]) for i in idx[:10]]}). Fix: fill the hamlet names or remove those rows.")
    from ..vietnam import repair_names

    names, n_fixed = repair_names(df["name"].astype(str))
    check_names_repaired(names, source=src, field="name", line_of=line_of, where=where)
    df["name"] = names.to_numpy()
    if "hamlet_id" not in df.columns:
        df["hamlet_id"] = [f"H{i + 1:05d}" for i in range(len(df))]
    df["hamlet_id"] = df["hamlet_id"].astype(str)
    gdf = gpd.GeoDataFrame(df.assign(lon=lon, lat=lat), geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    gdf.attrs["names_repaired"] = int(n_fixed)
    if study_bounds_lonlat is not None:
        w, s, e, n = study_bounds_lonlat
        gdf.attrs["outside_study_area"] = int((~((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))).sum())
    return gdf


def read_landcover_table(ref: InputRef | str | Path):
    """Read a land-cover mapping table (CSV ``code,name,category,height_m``; see
    :func:`covgap.landcover.parse_table`, which checks every row) from a user's file."""
    from ..landcover import parse_table

    path = Path(ref.path if isinstance(ref, InputRef) else ref)
    if not path.is_file():
        raise DataFileError(f"land-cover table {path} does not exist. Fix: check [landcover] table in the config "
                            "(paths are relative to the config file), or remove it to use covgap's default table.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(f"land-cover table {path} is not UTF-8 text. Fix: save it as UTF-8 CSV.") from None
    return parse_table(text, source=str(path))


#: Columns a measurements table must have (``covgap calibrate``); ``time`` and ``source`` are optional.
MEASUREMENT_COLUMNS = ("lon", "lat", "operator", "technology", "signal_dbm")


def read_measurements(path: str | Path, *, encoding: str | None = None, layer: str | None = None
                      ) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Read signal measurements (drive tests, crowdsourced samples): a UTF-8 CSV or a point layer.

    Columns ``lon, lat, operator, technology, signal_dbm`` (WGS 84 degrees; dBm of the measure
    of :data:`covgap.calibration.SIGNAL_RANGES_DBM`), optional ``time`` and ``source``. Returns
    ``(table, line_of, where)`` as :func:`read_points_table`, with ``lon``, ``lat`` and
    ``signal_dbm`` as floats, ``operator``/``technology``/``time``/``source`` as text (``""``
    where empty). Values that are readable but not usable (outside the study area, impossible
    levels, duplicates) are kept here and counted by :func:`covgap.calibration.clean_measurements`.

    Raises
    ------
    DataFileError
        Missing, empty or unreadable file (see :func:`read_points_table`).
    InputError
        A missing column; a coordinate or signal that is empty or not a number, or a coordinate
        out of range (the message names the file lines, the field, the value and the fix).
    """
    path = Path(path)
    what = "measurements file"
    df, line_of, where = read_points_table(path, what=what, encoding=encoding, layer=layer)
    src = f"{what} {path}"
    missing = [c for c in MEASUREMENT_COLUMNS if c not in df.columns]
    if missing:
        close = {c: [k for k in df.columns if k.lower().replace(" ", "_") in (c, c.replace("_dbm", ""), "rsrp",
                                                                                "rscp", "rxlev", "dbm")]
                 for c in missing}
        hint = "; ".join(f"{c}: maybe {v[0]!r}" for c, v in close.items() if v)
        raise InputError(f"{src}: missing column(s) {missing}; found {list(df.columns)}. Expected "
                         f"{list(MEASUREMENT_COLUMNS)} (+ optional time, source). Fix: rename the columns"
                         f"{' (' + hint + ')' if hint else ''}.")
    label = "line" if where == "line" else "feature"
    for col, expect in (("lon", "a longitude in degrees (WGS 84), -180 to 180"),
                        ("lat", "a latitude in degrees (WGS 84), -90 to 90"),
                        ("signal_dbm", "a signal level in dBm, e.g. -95.5")):
        raw = df[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() | ~np.isfinite(num.to_numpy(dtype="f8", na_value=np.nan))
        if col == "lon":
            bad |= num.abs() > 180
        elif col == "lat":
            bad |= num.abs() > 90
        if bad.any():
            idx = np.flatnonzero(bad.to_numpy())
            i = int(idx[0])
            shown = [int(line_of[j]) for j in idx[:10]]
            v = raw.iloc[i]
            v = float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else v
            raise InputError(
                f"{src}: {label} {int(line_of[i])}, field {col!r} is {v!r}; expected {expect}. "
                f"{len(idx)} row(s) affected ({label}s {shown}{' …' if len(idx) > 10 else ''}). Fix: correct or "
                "remove those rows (use a point, not a comma, for decimals)."
            )
        df[col] = num.astype("f8")
    for col in ("operator", "technology", "time", "source"):
        if col in df.columns:
            df[col] = df[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                  else str(v).strip())
        else:
            df[col] = ""
    return df.reset_index(drop=True), np.asarray(line_of), where
