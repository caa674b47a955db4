"""Reading and writing files: the only module that opens them.

Readers check what would make the numbers wrong (no CRS, nodata, swapped coordinates,
unknown encodings) and raise errors that name the file, the row or field, and the fix.
:func:`load_study_area` builds a validated :class:`~covgap.study.StudyArea` from a config.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.warp
from rasterio.enums import Resampling

from .config import Config, InputRef
from .errors import CRSError, DataFileError, InputError
from .grid import Grid
from .population import adjust_to_totals, clean_population, find_overlaps, snap_outside_cells
from .sites import SitesReport, validate_sites
from .sources.http import sha256_file

__all__ = [
    "sha256_file",
    "read_raster",
    "read_population",
    "read_dem_onto",
    "read_polygons",
    "read_lines",
    "read_points_table",
    "read_towers",
    "read_foreign_towers",
    "read_hamlets",
    "read_population_totals",
    "check_names_repaired",
    "write_geotiff",
    "load_study_area",
]

def _exists(path: Path, what: str) -> None:
    if not path.exists():
        raise DataFileError(f"{what} file {path} does not exist. Fix: check the path in the config.")


def read_raster(path: str | Path, *, what: str = "raster", band: int = 1) -> tuple[np.ndarray, Grid, float | None, dict]:
    """Read one band with its grid and declared nodata.

    Returns ``(array, grid, nodata, info)``; ``info`` has ``area_or_point`` and ``dtype``.
    Raises :class:`~covgap.errors.CRSError` when the file has no CRS (never guessed).
    """
    path = Path(path)
    _exists(path, what)
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise CRSError(
                    f"{what} {path} has no coordinate reference system; covgap never guesses one. "
                    f"Fix: assign the right CRS, e.g. `gdal_edit.py -a_srs EPSG:4326 {path.name}`."
                )
            arr = ds.read(band)
            grid = Grid(crs=ds.crs.to_wkt(), transform=ds.transform, shape=(ds.height, ds.width))
            info = {"area_or_point": ds.tags().get("AREA_OR_POINT", "Area"), "dtype": str(ds.dtypes[band - 1])}
            return arr, grid, ds.nodata, info
    except rasterio.errors.RasterioIOError as exc:
        raise DataFileError(f"{what} {path} cannot be read as a raster: {exc}. Fix: check it is a GeoTIFF.") from exc


def read_population(ref: InputRef | str | Path) -> tuple[np.ndarray, Grid, dict[str, Any]]:
    """Read a people-per-cell raster; nodata → 0 people, said in the returned notes.

    A raster whose nodata is unset but that holds a known sentinel (−99999, −FLT_MAX) is
    handled: those cells become 0 and the notes say how many. Other negative values are an
    error (people cannot be negative).
    """
    path = Path(ref.path if isinstance(ref, InputRef) else ref)
    arr, grid, nodata, info = read_raster(path, what="population raster")
    a, notes = clean_population(arr, nodata, source=str(path))
    notes["area_or_point"] = info["area_or_point"]
    return a, grid, notes


def read_dem_onto(ref: InputRef | str | Path, grid: Grid) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a DEM onto ``grid`` (float32 metres, NaN = unknown terrain).

    When the DEM is on another grid it is warped with bilinear resampling (elevations are
    not counts, so interpolation is right here) and the notes say so.
    """
    path = Path(ref.path if isinstance(ref, InputRef) else ref)
    arr, dgrid, nodata, info = read_raster(path, what="DEM")
    notes: dict[str, Any] = {"area_or_point": info["area_or_point"]}
    a = arr.astype(np.float32)
    if nodata is not None:
        a[a == nodata] = np.nan
    if dgrid.same_as(grid):
        out = a
        notes["resampled"] = False
    else:
        out = np.full(grid.shape, np.nan, dtype=np.float32)
        rasterio.warp.reproject(
            a, out, src_transform=dgrid.transform, src_crs=dgrid.crs.to_wkt(), src_nodata=np.nan,
            dst_transform=grid.transform, dst_crs=grid.crs.to_wkt(), dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
        notes["resampled"] = "bilinear onto the population grid"
    notes["nodata_cells"] = int(np.isnan(out).sum())
    return out, notes


def read_polygons(ref: InputRef, *, what: str, fields: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Read a polygon layer, require a CRS and the named fields, return it in EPSG:4326."""
    gdf = _read_vector(ref, what)
    missing = [f for f in fields if f not in gdf.columns]
    if missing:
        raise InputError(
            f"{what} {ref.path}{_layer(ref)}: missing field(s) {missing}; the layer has "
            f"{[c for c in gdf.columns if c != 'geometry']}. Fix: set code_field/name_field in the config."
        )
    bad = ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{what} {ref.path}{_layer(ref)}: feature {i + 1} is a {gdf.geom_type.iloc[i]}; expected "
                         f"polygons ({int(bad.sum())} of {len(gdf)} features are not). Fix: point the config at the "
                         "polygon layer of the units (not their centroids or boundaries).")
    invalid = ~gdf.is_valid
    if invalid.any():
        gdf = gdf.copy()
        gdf.loc[invalid, "geometry"] = gdf.loc[invalid, "geometry"].make_valid()
    return gdf


def read_lines(ref: InputRef, *, what: str = "border") -> gpd.GeoDataFrame:
    """Read a line layer (e.g. the land border) in EPSG:4326."""
    gdf = _read_vector(ref, what)
    if not gdf.geom_type.isin(["LineString", "MultiLineString"]).all():
        raise InputError(f"{what} {ref.path}{_layer(ref)}: expected line features (the land border, not polygons).")
    return gdf


def _layer(ref: InputRef) -> str:
    return f" (layer {ref.layer!r})" if ref.layer else ""


def _read_vector(ref: InputRef, what: str) -> gpd.GeoDataFrame:
    _exists(ref.path, what)
    try:
        kw: dict[str, Any] = {}
        if ref.layer:
            kw["layer"] = ref.layer
        if ref.encoding:
            kw["encoding"] = ref.encoding
        gdf = gpd.read_file(ref.path, engine="pyogrio", **kw)
    except Exception as exc:  # pyogrio raises several types
        layers = ""
        try:
            import pyogrio

            layers = f" (its layers: {[str(x[0]) for x in pyogrio.list_layers(ref.path)]})"
        except Exception:  # noqa: BLE001 - the file itself is unreadable
            pass
        raise DataFileError(
            f"{what} {ref.path}{_layer(ref)} cannot be read: {exc}{layers}. Fix: check that the file is a "
            "GeoPackage/shapefile/GeoJSON (not empty or truncated) and that the layer name in the config exists."
        ) from exc
    if gdf.crs is None:
        raise CRSError(
            f"{what} {ref.path}{_layer(ref)} has no CRS; covgap never guesses one. Fix: add a .prj "
            "(shapefile) or set the layer's CRS (ogr2ogr -a_srs EPSG:4326)."
        )
    if len(gdf) == 0:
        raise InputError(f"{what} {ref.path}{_layer(ref)} has no features. Fix: point the config at the layer that "
                         "holds the data.")
    return gdf.to_crs("EPSG:4326")


#: Vector formats read as point layers by :func:`read_points_table`.
_VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb")


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
    from .vietnam import repair_names

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


def write_geotiff(path: str | Path, array: np.ndarray, grid: Grid, *, nodata=None, tags: dict | None = None,
                  band_description: str | None = None) -> Path:
    """Write one band as a compressed, tiled GeoTIFF on ``grid``."""
    path = Path(path)
    profile = dict(driver="GTiff", height=grid.ny, width=grid.nx, count=1, dtype=array.dtype,
                   crs=grid.crs.to_wkt(), transform=grid.transform, compress="deflate", tiled=True,
                   blockxsize=256, blockysize=256, nodata=nodata)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array, 1)
        if tags:
            ds.update_tags(**{k: str(v) for k, v in tags.items()})
        if band_description:
            ds.set_band_description(1, band_description)
    return path


def _provenance(role: str, ref: InputRef, base: Path | None) -> dict[str, Any]:
    path = str(ref.path)
    if base is not None:
        try:
            path = ref.path.relative_to(base).as_posix()
        except ValueError:
            pass
    entry = {"role": role, "path": path, "layer": ref.layer or "", **ref.provenance()}
    if ref.path.exists() and ref.path.is_file():
        entry["sha256"] = sha256_file(ref.path)
        entry["bytes"] = ref.path.stat().st_size
        from .sources import read_manifest

        manifest = read_manifest(ref.path)  # written by `covgap fetch`
        if manifest:
            entry["fetched_utc"] = manifest.get("fetched_utc", "")
            for key in ("url", "release", "licence", "attribution"):
                if not entry.get(key) and manifest.get(key):
                    entry[key] = manifest[key]
            if manifest.get("sha256") and manifest["sha256"] != entry["sha256"]:
                entry["note"] = "file changed since it was fetched (sha256 differs from its manifest)"
    elif ref.path.is_dir():  # a 2025-units tree: its index's manifest names the commit (`covgap fetch`)
        from .sources import read_manifest

        manifest = read_manifest(ref.path / "json" / "full_json_generated_data_vn_units.json") or {}
        for key in ("url", "release", "licence", "attribution", "commit"):
            if not entry.get(key) and manifest.get(key):
                entry[key] = manifest[key]
        if manifest.get("fetched_utc"):
            entry["fetched_utc"] = manifest["fetched_utc"]
    return entry


def load_study_area(cfg: Config):
    """Read every input named in ``cfg`` onto the population grid and validate it.

    Returns a :class:`~covgap.study.StudyArea`. The population grid is the analysis grid
    (people are never resampled); the DEM is warped onto it when needed.
    """
    from .overlay import rasterize_units  # computation; io only supplies the arrays
    from .study import AdminLevel, StudyArea

    notes: dict[str, Any] = {}
    pop, grid, pnotes = read_population(cfg.population)
    notes["population"] = pnotes
    if not (pop > 0).any():
        raise InputError(
            f"population raster {cfg.population.path}: every cell is 0 or nodata ({pop.size:,} cells), so there is "
            "nobody to count. Fix: check the file (the right band, a nodata value that hides the data, a scale "
            "factor) or point the config at the people-per-cell raster."
        )
    bounds_ll = _lonlat_bounds(grid)
    dem = None
    if cfg.dem is not None:
        dem, dnotes = read_dem_onto(cfg.dem, grid)
        notes["dem"] = dnotes
    admin = []
    for a in cfg.admin:
        units, unotes = _admin_units(a)
        if unotes:
            notes.setdefault("admin", {}).setdefault(a.level, {}).update(unotes)
        overlaps = find_overlaps(units, "code", tolerance_km2=cfg.overlap_tolerance_km2)
        if len(overlaps):
            pairs = "; ".join(f"{r.code_a} × {r.code_b}: {r.overlap_km2:.3g} km²" for r in overlaps.head(5).itertuples())
            raise InputError(
                f"admin level {a.level!r} ({a.ref.path}{_layer(a.ref)}): {len(overlaps)} pair(s) of units overlap by "
                f"more than {cfg.overlap_tolerance_km2} km² ({pairs}{' …' if len(overlaps) > 5 else ''}); people there "
                "would belong to two units. Fix: repair the layer (e.g. QGIS 'Check validity' / topology checker), or "
                "raise [study] overlap_tolerance_km2 if these are digitising slivers."
            )
        labels = rasterize_units(units, grid)
        if cfg.snap_cells > 0 and not _nested_in_vn2025(a, cfg):  # nested communes: filled by their province
            labels, snap = snap_outside_cells(labels, pop, max_cells=cfg.snap_cells)
            notes.setdefault("admin", {}).setdefault(a.level, {})["snapped_outside_cells"] = snap
        populated = pop > 0
        if populated.any() and not (labels[populated] > 0).any():
            raise InputError(
                f"admin level {a.level!r} ({a.ref.path}) does not overlap the populated cells of the "
                f"population raster {cfg.population.path} (population bounds lon/lat {tuple(round(v, 3) for v in bounds_ll)}, "
                f"admin bounds {tuple(round(v, 3) for v in units.total_bounds)}). Fix: check both files "
                "cover the same area and have the right CRS."
            )
        if a.dissolve_to_current:
            admin.append(_current_provinces(a.dissolve_to_current, units, labels))
        admin.append(AdminLevel(level=a.level, units=units, labels=labels))
    _nest_vn2025(cfg, admin, notes)
    if cfg.population_adjust is not None:
        pop, notes["population_adjustment"] = _adjust_population(cfg, pop, admin)
    sites, srep = read_towers(cfg.towers, study_bounds_lonlat=bounds_ll)
    notes["sites"] = srep.as_dict()
    w, s_, e, n = bounds_ll
    inside = ((sites["lon"] >= w) & (sites["lon"] <= e) & (sites["lat"] >= s_) & (sites["lat"] <= n)).to_numpy()
    if not inside.any():
        raise InputError(
            f"towers file {cfg.towers.path}: none of its {len(sites)} transmitters lies in the study area (lon "
            f"{w:.3f}…{e:.3f}, lat {s_:.3f}…{n:.3f}, the population raster's extent); the towers span lon "
            f"{sites['lon'].min():.3f}…{sites['lon'].max():.3f}, lat "
            f"{sites['lat'].min():.3f}…{sites['lat'].max():.3f}. "
            "The analysis would call everyone uncovered. Fix: point the config at the towers of this area, or at "
            "the population raster of the towers' area."
        )
    notes["sites"]["transmitters_in_study_area"] = int(inside.sum())
    notes["sites"]["sites_in_study_area"] = int(sites.loc[inside, "site_id"].nunique())
    dropped: dict[str, Any] = {}
    if srep.dropped:
        dropped["towers"] = dict(srep.dropped)
    outside: dict[str, int] = {}
    if (~inside).any():
        outside["transmitters"] = int((~inside).sum())
    foreign_sites = None
    if cfg.foreign_towers is not None:
        foreign_sites, frep = read_foreign_towers(cfg.foreign_towers, domestic_operators=sites["operator"])
        notes["foreign_sites"] = frep.as_dict()
        # Only towers on the analysis grid can be computed over terrain (the DEM is warped onto this
        # grid; a mast outside it has no ground height): the rest are counted, not used.
        on_grid = ((foreign_sites["lon"] >= w) & (foreign_sites["lon"] <= e) & (foreign_sites["lat"] >= s_)
                   & (foreign_sites["lat"] <= n)).to_numpy()
        if (~on_grid).any():
            notes["foreign_sites"]["outside_grid_transmitters"] = int((~on_grid).sum())
            notes["foreign_sites"]["outside_grid_note"] = (
                "foreign transmitters beyond the population raster's extent are not computed (no terrain there); "
                "see docs/design.md 'Neighbouring networks and tower-data confidence'")
            foreign_sites = foreign_sites.loc[on_grid].reset_index(drop=True)
    hamlets = read_hamlets(cfg.hamlets, study_bounds_lonlat=bounds_ll) if cfg.hamlets is not None else None
    if hamlets is not None:
        if hamlets.attrs.get("outside_study_area"):
            outside["hamlets"] = int(hamlets.attrs["outside_study_area"])
        if hamlets.attrs.get("names_repaired"):
            notes["hamlets"] = {"names_repaired": int(hamlets.attrs["names_repaired"])}
    if outside:
        dropped["outside_study_area"] = outside
        dropped["outside_study_area_note"] = (
            "kept: transmitters outside the study area still cover cells inside it near the edge, hamlets "
            "outside it are flagged 'outside study area'; neither is counted among the study area's sites "
            "or hamlets")
    notes["dropped"] = dropped
    border = None
    if cfg.border is not None and cfg.border_arc is not None:
        from .lenses import land_border_arc

        outline = read_polygons(cfg.border, what="country outline (for the land border)")
        start, via, end = cfg.border_arc
        line = land_border_arc(outline, start=start, via=via, end=end)
        border = gpd.GeoDataFrame({"name": ["land border"]}, geometry=[line], crs="EPSG:4326")
        notes["border"] = {"derived": f"arc of the outline from {start} via {via} to {end}"}
    elif cfg.border is not None:
        border = read_lines(cfg.border)
    base = cfg.path.parent if cfg.path is not None else None
    sources = [_provenance(role, ref, base) for role, ref in cfg.inputs().items()]
    return StudyArea(name=cfg.name, grid=grid, population=pop, admin=admin, sites=sites, dem=dem,
                     foreign_sites=foreign_sites,
                     hamlets=hamlets, border=border, synthetic=cfg.synthetic, sources=sources, notes=notes)


def _adjust_population(cfg: Config, pop: np.ndarray, admin: list) -> tuple[np.ndarray, dict[str, Any]]:
    """Rescale ``pop`` to the official totals of ``[population] adjust_to`` (see adjust_to_totals)."""
    adj = cfg.population_adjust
    totals = read_population_totals(adj.totals)
    level = next(a for a in admin if a.level == adj.level)
    try:
        new, table = adjust_to_totals(pop, level.labels, totals, codes=level.units["code"], names=level.units["name"])
    except InputError as exc:
        raise InputError(f"[population] adjust_to {adj.totals.path} (level {adj.level!r}): {exc}") from exc
    records = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
               for r in table.to_dict("records")]  # JSON has no NaN
    note = {"file": str(adj.totals.path), "level": adj.level, **table.attrs, "units": records}
    return new, note


def _admin_units(a) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Units of one admin level as ``code, name[, parent_code], geometry`` (EPSG:4326)."""
    if getattr(a, "vn2025", None):
        return _vn2025_units(a)
    fields = (a.code_field, a.name_field) + ((a.parent_field,) if a.parent_field else ())
    gdf = read_polygons(a.ref, what=f"admin level {a.level!r}", fields=fields)
    notes: dict[str, Any] = {}
    if a.vietnam == "former63":
        from .vietnam import dissolve_former, match_former_provinces

        matched = match_former_provinces(gdf, name_field=a.name_field, source=f"admin level {a.level!r} ({a.ref.path})")
        notes["names_repaired"] = int(matched.attrs.get("names_repaired", 0))
        former = dissolve_former(matched)
        notes["features"] = len(gdf)
        notes["former_provinces"] = len(former)
        units = gpd.GeoDataFrame({"code": former["code"].astype(str), "name": former["name_vi"].astype(str),
                                  "parent_code": former["current_code"].astype(str)},
                                 geometry=former.geometry.values, crs="EPSG:4326")
        return units, notes
    from .vietnam import repair_names

    src = f"admin level {a.level!r} ({a.ref.path}{_layer(a.ref)})"
    for fld in (a.code_field, a.name_field):
        blank = gdf[fld].isna() | gdf[fld].astype(str).str.strip().eq("")
        if blank.any():
            idx = np.flatnonzero(blank.to_numpy())
            raise InputError(
                f"{src}: field {fld!r} is empty in {len(idx)} feature(s) (features {[int(i) + 1 for i in idx[:10]]}"
                f"{' …' if len(idx) > 10 else ''}); every unit needs a code and a name. Fix: fill them in the layer "
                "(e.g. QGIS attribute table) or remove those features."
            )
    names, n_fixed = repair_names(gdf[a.name_field].astype(str))
    check_names_repaired(names, source=src, field=a.name_field, line_of=np.arange(len(gdf)) + 1, where="feature")
    if n_fixed:
        notes["names_repaired"] = n_fixed
    units = gpd.GeoDataFrame(
        {"code": gdf[a.code_field].astype(str).str.strip(), "name": names.to_numpy()}
        | ({"parent_code": gdf[a.parent_field].astype(str)} if a.parent_field else {}),
        geometry=gdf.geometry.values, crs="EPSG:4326",
    )
    dup = units["code"].duplicated(keep=False)
    if dup.any():
        # parts of one unit (same code, same name) are merged and counted; two units sharing
        # one code would merge silently and one would vanish from every table: an error
        per_code = units.loc[dup].groupby("code", sort=False)["name"].unique()
        clash = per_code[per_code.map(len) > 1]
        if len(clash):
            code = clash.index[0]
            feats = [int(i) + 1 for i in np.flatnonzero((units["code"] == code).to_numpy())]
            raise InputError(
                f"{src}: code {code!r} (field {a.code_field!r}) is shared by units with different names "
                f"{[str(x) for x in clash.iloc[0]]} (features {feats[:10]}); {len(clash)} code(s) affected. Merging "
                "them would make one unit vanish from every table. Fix: give each unit its own code in the layer; "
                "if they are parts of one unit, give them the same name."
            )
        units = units.dissolve(by="code", as_index=False, aggfunc="first", sort=False)[units.columns]
        notes["multi_part_codes_merged"] = int(dup.sum())
    return units, notes


def _vn2025_units(a) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """A level of the 2025 units (:func:`covgap.vietnam.units2025.units_2025`): ``code, name, name_en, unit_type``
    (``parent_code`` = the province for communes)."""
    from .vietnam.units2025 import units_2025

    u = units_2025(a.ref.path, a.vn2025, provinces=a.provinces)
    cols = {"code": u["code"], "name": u["name"], "name_en": u["name_en"], "unit_type": u["unit_type"]}
    if a.vn2025 == "commune":
        cols["parent_code"] = u["province_code"]
    notes: dict[str, Any] = {"units": len(u), "source_dir": u.attrs.get("source_dir", "")}
    if u.attrs.get("provinces_without_communes"):
        notes["provinces_without_communes"] = list(u.attrs["provinces_without_communes"])
    return gpd.GeoDataFrame(cols, geometry=u.geometry.values, crs="EPSG:4326"), notes


def _vn2025_pair(cfg: Config):
    """The (province, commune) admin configs read from vn2025 folders, when the config has both."""
    prov = [a for a in cfg.admin if getattr(a, "vn2025", None) == "province"]
    comm = [a for a in cfg.admin if getattr(a, "vn2025", None) == "commune"]
    return (prov[0], comm[0]) if prov and comm else None


def _nested_in_vn2025(a, cfg: Config) -> bool:
    pair = _vn2025_pair(cfg)
    return pair is not None and a is pair[1]


def _nest_vn2025(cfg: Config, admin: list, notes: dict[str, Any]) -> None:
    """Province and commune labels from one rule (:func:`covgap.vietnam.units2025.nest_labels`), in place."""
    pair = _vn2025_pair(cfg)
    if pair is None:
        return
    from .study import AdminLevel
    from .vietnam.units2025 import nest_labels

    by = {lvl.level: i for i, lvl in enumerate(admin)}
    ip, ic = by[pair[0].level], by[pair[1].level]
    prov, comm = admin[ip], admin[ic]
    index = {c: k + 1 for k, c in enumerate(prov.units["code"])}
    child_parent = np.zeros(len(comm.units) + 1, dtype=np.int64)
    child_parent[1:] = [index.get(c, 0) for c in comm.units["parent_code"]]
    child, parent, rep = nest_labels(comm.labels, child_parent, prov.labels)
    admin[ip] = AdminLevel(level=prov.level, units=prov.units, labels=parent)
    admin[ic] = AdminLevel(level=comm.level, units=comm.units, labels=child)
    notes.setdefault("admin", {}).setdefault(comm.level, {})["nested_in"] = {"level": prov.level, **rep}


def _current_provinces(level: str, former_units: gpd.GeoDataFrame, former_labels: np.ndarray):
    """The 34 current provinces from the 63 former ones; labels by lookup so totals match exactly."""
    from .study import AdminLevel
    from .vietnam import dissolve_to_current

    cur = dissolve_to_current(former_units, code_field="code")
    units = gpd.GeoDataFrame({"code": cur["code"].astype(str), "name": cur["name_vi"].astype(str)},
                             geometry=cur.geometry.values, crs="EPSG:4326")
    index = {c: j + 1 for j, c in enumerate(units["code"])}
    lookup = np.zeros(len(former_units) + 1, dtype=np.int32)
    lookup[1:] = [index[c] for c in former_units["parent_code"]]
    return AdminLevel(level=level, units=units, labels=lookup[former_labels])


def _lonlat_bounds(grid: Grid) -> tuple[float, float, float, float]:
    w, s, e, n = grid.bounds
    if grid.is_geographic:
        return (w, s, e, n)
    lon, lat = grid.to_lonlat(np.array([w, e, w, e]), np.array([s, s, n, n]))
    return (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))
