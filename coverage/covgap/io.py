"""Reading and writing files: the only module that opens them.

Readers check what would make the numbers wrong (no CRS, nodata, swapped coordinates,
unknown encodings) and raise errors that name the file, the row or field, and the fix.
:func:`load_study_area` builds a validated :class:`~covgap.study.StudyArea` from a config.
"""

from __future__ import annotations

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
    "read_towers",
    "read_hamlets",
    "read_population_totals",
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
        raise InputError(f"{what} {ref.path}{_layer(ref)}: feature {i} is a {gdf.geom_type.iloc[i]}; expected polygons.")
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
        raise DataFileError(f"{what} {ref.path}{_layer(ref)} cannot be read: {exc}") from exc
    if gdf.crs is None:
        raise CRSError(
            f"{what} {ref.path}{_layer(ref)} has no CRS; covgap never guesses one. Fix: add a .prj "
            "(shapefile) or set the layer's CRS (ogr2ogr -a_srs EPSG:4326)."
        )
    if len(gdf) == 0:
        raise InputError(f"{what} {ref.path}{_layer(ref)} has no features.")
    return gdf.to_crs("EPSG:4326")


def _read_table(ref: InputRef, what: str) -> pd.DataFrame:
    _exists(ref.path, what)
    suffix = ref.path.suffix.lower()
    if suffix in (".gpkg", ".shp", ".geojson", ".json", ".fgb"):
        gdf = _read_vector(ref, what)
        df = pd.DataFrame(gdf.drop(columns="geometry"))
        if "lon" not in df.columns:
            df["lon"] = gdf.geometry.x
            df["lat"] = gdf.geometry.y
        return df
    raw = ref.path.read_bytes()
    enc = ref.encoding
    if enc is None:
        try:
            raw.decode("utf-8")
            enc = "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise DataFileError(
                f"{what} {ref.path}: not UTF-8 (undecodable byte {raw[exc.start:exc.start + 1]!r} at line "
                f"{line}); covgap does not guess encodings. Fix: save the file as UTF-8, or set "
                "`encoding = \"cp1258\"` (or the right one) for this input in the config."
            ) from exc
    try:
        from io import StringIO

        return pd.read_csv(StringIO(raw.decode(enc)), dtype={"site_id": str, "hamlet_id": str})
    except (UnicodeDecodeError, LookupError, pd.errors.ParserError) as exc:
        raise DataFileError(f"{what} {ref.path}: cannot be read as CSV with encoding {enc}: {exc}") from exc


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
    """Read a sites table (CSV or point layer) and validate it (see :mod:`covgap.sites`)."""
    df = _read_table(ref, "towers")
    return validate_sites(df, source=f"towers file {ref.path}", study_bounds_lonlat=study_bounds_lonlat)


def read_hamlets(ref: InputRef) -> gpd.GeoDataFrame:
    """Read hamlet points (CSV with ``lon``, ``lat``, ``name`` or a point layer).

    Rows with missing or out-of-range coordinates are an error naming the rows.
    """
    df = _read_table(ref, "hamlets")
    src = f"hamlets file {ref.path}"
    for col in ("name", "lon", "lat"):
        if col not in df.columns:
            raise InputError(f"{src}: missing column {col!r}; found {list(df.columns)}. Fix: rename the columns.")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    bad = lon.isna() | lat.isna() | (lat.abs() > 90) | (lon.abs() > 180)
    if bad.any():
        rows = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())[:10]]
        raise InputError(
            f"{src}: {int(bad.sum())} row(s) with missing or invalid coordinates (file lines {rows}"
            f"{' …' if bad.sum() > 10 else ''}). Fix: fill lon/lat (WGS 84 degrees) or remove those rows."
        )
    if "hamlet_id" not in df.columns:
        df["hamlet_id"] = [f"H{i + 1:05d}" for i in range(len(df))]
    df["hamlet_id"] = df["hamlet_id"].astype(str)
    return gpd.GeoDataFrame(df.assign(lon=lon, lat=lat), geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


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
    hamlets = read_hamlets(cfg.hamlets) if cfg.hamlets is not None else None
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

    names, n_fixed = repair_names(gdf[a.name_field].astype(str))
    if n_fixed:
        notes["names_repaired"] = n_fixed
    units = gpd.GeoDataFrame(
        {"code": gdf[a.code_field].astype(str), "name": names.to_numpy()}
        | ({"parent_code": gdf[a.parent_field].astype(str)} if a.parent_field else {}),
        geometry=gdf.geometry.values, crs="EPSG:4326",
    )
    dup = units["code"].duplicated(keep=False)
    if dup.any():
        units = units.dissolve(by="code", as_index=False, aggfunc="first", sort=False)[units.columns]
        notes["multi_part_codes_merged"] = int(dup.sum())
    return units, notes


def _vn2025_units(a) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """A level of the 2025 units (:func:`covgap.vn2025.units_2025`): ``code, name, name_en, unit_type``
    (``parent_code`` = the province for communes)."""
    from .vn2025 import units_2025

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
    """Province and commune labels from one rule (:func:`covgap.vn2025.nest_labels`), in place."""
    pair = _vn2025_pair(cfg)
    if pair is None:
        return
    from .study import AdminLevel
    from .vn2025 import nest_labels

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
