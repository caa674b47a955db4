"""A corpus of bad input tables, rasters and admin layers (issue 16, input side).

Each case copies the demo's inputs, breaks one thing the way a new user would, runs
``covgap run`` (the library call behind it; candidates: :func:`read_candidates`, the reader
behind ``covgap plan --candidates``) and checks that:

* the error has the expected type and says what is wrong where (file, line/feature, field),
* the message holds a fix (``Fix:``),
* no output folder or staging folder is left,
* no input file changed (SHA-256 of every file before and after).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import box

from covgap.config import load_config
from covgap.errors import CovgapError, CRSError, DataFileError, InputError
from covgap.pipeline import run
from covgap.planning import read_candidates


@dataclass(frozen=True)
class Case:
    """One bad input: how to break the study folder, what must be raised, what the message names."""

    id: str
    file: str  # the file the message must name (relative to the study folder)
    mutate: Callable[[Path], None]
    exc: type[CovgapError]
    pattern: str  # regex the message must match (row/field/range)


# ----------------------------------------------------------------------------- helpers to break inputs
def _csv(name: str, fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        p = d / "inputs" / name
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        out = fn(df)
        (df if out is None else out).to_csv(p, index=False)
    return mutate


def _cell(name: str, row: int, col: str, value) -> Callable[[Path], None]:
    def fn(df):
        if col not in df.columns:
            df[col] = ""
        df.loc[row, col] = str(value)
    return _csv(name, fn)


def _text(name: str, fn: Callable[[str], str | bytes]) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        p = d / "inputs" / name
        out = fn(p.read_text(encoding="utf-8"))
        if isinstance(out, bytes):
            p.write_bytes(out)
        else:
            p.write_text(out, encoding="utf-8")
    return mutate


def _config(old: str, new: str) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        cfg = d / "covgap.toml"
        text = cfg.read_text(encoding="utf-8")
        assert old in text
        cfg.write_text(text.replace(old, new, 1), encoding="utf-8")
    return mutate


def _both(*fns: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        for f in fns:
            f(d)
    return mutate


def _write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """Write a layer; one without a CRS is written on purpose (pyogrio's warning about it expected)."""
    if gdf.crs is None:
        with pytest.warns(UserWarning, match="crs"):
            gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    else:
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def _towers_layer(geom: str, *, crs: str | None = "EPSG:4326") -> Callable[[Path], None]:
    """Towers as a GeoPackage of points/polygons/lines (the config pointed at it)."""
    def mutate(d: Path) -> None:
        df = pd.read_csv(d / "inputs" / "towers.csv")
        pts = gpd.points_from_xy(df["lon"], df["lat"])
        if geom == "polygon":
            g = [p.buffer(0.001) for p in pts]
        elif geom == "line":
            from shapely.geometry import LineString
            g = [LineString([(p.x, p.y), (p.x + 0.001, p.y)]) for p in pts]
        else:
            g = pts
        gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=g, crs=crs)
        _write_layer(gdf, d / "inputs" / "towers.gpkg", "towers")
        _config('path = "inputs/towers.csv"', 'path = "inputs/towers.gpkg", layer = "towers"')(d)
    return mutate


def _hamlets_polygons(d: Path) -> None:
    df = pd.read_csv(d / "inputs" / "hamlets.csv")
    g = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                         geometry=[box(x - 0.001, y - 0.001, x + 0.001, y + 0.001)
                                   for x, y in zip(df.lon, df.lat, strict=True)],
                         crs="EPSG:4326")
    g.to_file(d / "inputs" / "hamlets.gpkg", layer="hamlets", driver="GPKG", engine="pyogrio")
    _config('path = "inputs/hamlets.csv"', 'path = "inputs/hamlets.gpkg", layer = "hamlets"')(d)


def _admin(layer: str, fn: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame | None]) -> Callable[[Path], None]:
    """Rewrite one layer of admin.gpkg (all layers written back into a fresh file)."""
    def mutate(d: Path) -> None:
        import pyogrio

        p = d / "inputs" / "admin.gpkg"
        layers = {name: gpd.read_file(p, layer=name, engine="pyogrio") for name, _ in pyogrio.list_layers(p)}
        out = fn(layers[layer])
        layers[layer] = layers[layer] if out is None else out
        p.unlink()
        for name, gdf in layers.items():
            _write_layer(gdf, p, name)
    return mutate


def _raster(name: str, fn: Callable[[np.ndarray, dict], tuple[np.ndarray, dict]]) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        p = d / "inputs" / name
        with rasterio.open(p) as ds:
            arr, profile = ds.read(1), ds.profile
        arr, profile = fn(arr, dict(profile))
        p.unlink()
        with rasterio.open(p, "w", **profile) as ds:
            ds.write(arr, 1)
    return mutate


def _no_crs(arr, profile):
    profile.pop("crs", None)
    return arr, profile


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        (d / "inputs" / name).write_bytes(data)
    return mutate


def _folder(name: str) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        p = d / "inputs" / name
        p.unlink()
        p.mkdir()
    return mutate


def _remove(name: str) -> Callable[[Path], None]:
    return lambda d: (d / "inputs" / name).unlink()


MOJIBAKE_LOST = "Th\u00c3\u00b4n T\u00c3\u00a2n C\u00e1\u00ba\ufffd"  # 'Thôn Tân Cẩ…' read as cp1252, one byte lost
def SEMI(t: str) -> str:  # noqa: N802 - used like a constant in the table below
    return t.replace(",", ";")


def TAB(t: str) -> str:  # noqa: N802
    return t.replace(",", "\t")


def _header_only(t: str) -> str:
    return t.splitlines()[0] + "\n"


def _move_east(df):
    df["lon"] = (df["lon"].astype(float) + 10.0).astype(str)


def _site_two_places(df):
    first = df["site_id"].iloc[0]
    rows = df.index[df["site_id"] == first]
    df.loc[rows[-1], "lat"] = str(float(df.loc[rows[-1], "lat"]) + 0.28)  # ~31 km north


def _dup_province_code(g):
    g.loc[1, "code"] = g.loc[0, "code"]


CASES: list[Case] = [
    # ---- towers: text in numeric columns (never replaced by defaults)
    Case("towers-radius-text", "towers.csv", _cell("towers.csv", 3, "radius_km", "abc"), InputError,
         r"row 5, field 'radius_km' is 'abc'; expected a number"),
    Case("towers-height-text", "towers.csv", _cell("towers.csv", 0, "antenna_height_m", "thirty"), InputError,
         r"row 2, field 'antenna_height_m' is 'thirty'"),
    Case("towers-eirp-text", "towers.csv", _cell("towers.csv", 6, "eirp_dbm", "high"), InputError,
         r"row 8, field 'eirp_dbm' is 'high'"),
    Case("towers-frequency-unit", "towers.csv", _cell("towers.csv", 1, "frequency_mhz", "900MHz"), InputError,
         r"row 3, field 'frequency_mhz' is '900MHz'"),
    Case("towers-azimuth-text", "towers.csv", _cell("towers.csv", 2, "azimuth_deg", "north"), InputError,
         r"row 4, field 'azimuth_deg' is 'north'"),
    Case("towers-beamwidth-comma-decimal", "towers.csv", _cell("towers.csv", 2, "beamwidth_deg", "65,5"),
         InputError, r"row 4, field 'beamwidth_deg' is '65,5'"),
    Case("towers-height-inf", "towers.csv", _cell("towers.csv", 4, "antenna_height_m", "inf"), InputError,
         r"row 6, field 'antenna_height_m' is inf; expected a number"),
    # ---- towers: plausible ranges (the message gives the range)
    Case("towers-radius-negative", "towers.csv", _cell("towers.csv", 0, "radius_km", -5), InputError,
         r"row 2, field 'radius_km' is -5; expected a value > 0 and ≤ 120 km"),
    Case("towers-radius-zero", "towers.csv", _cell("towers.csv", 9, "radius_km", 0), InputError,
         r"row 11, field 'radius_km' is 0; expected a value > 0 and ≤ 120 km"),
    Case("towers-radius-metres", "towers.csv", _cell("towers.csv", 9, "radius_km", 4000), InputError,
         r"row 11, field 'radius_km' is 4000; .*≤ 120 km"),
    Case("towers-eirp-huge", "towers.csv", _cell("towers.csv", 5, "eirp_dbm", 1e6), InputError,
         r"row 7, field 'eirp_dbm' is 1e\+06; expected a value ≥ 0 and ≤ 90 dBm"),
    Case("towers-eirp-negative", "towers.csv", _cell("towers.csv", 5, "eirp_dbm", -20), InputError,
         r"row 7, field 'eirp_dbm' is -20; expected a value ≥ 0 and ≤ 90 dBm"),
    Case("towers-height-zero", "towers.csv", _cell("towers.csv", 7, "antenna_height_m", 0), InputError,
         r"row 9, field 'antenna_height_m' is 0; expected a value > 0 and ≤ 500 m"),
    Case("towers-height-negative", "towers.csv", _cell("towers.csv", 7, "antenna_height_m", -3), InputError,
         r"row 9, field 'antenna_height_m' is -3"),
    Case("towers-height-feet", "towers.csv", _cell("towers.csv", 7, "antenna_height_m", 1200), InputError,
         r"row 9, field 'antenna_height_m' is 1200; expected a value > 0 and ≤ 500 m"),
    Case("towers-frequency-ghz", "towers.csv", _cell("towers.csv", 8, "frequency_mhz", 1.8), InputError,
         r"row 10, field 'frequency_mhz' is 1.8; expected a value ≥ 300 and ≤ 100000 MHz"),
    Case("towers-frequency-hz", "towers.csv", _cell("towers.csv", 8, "frequency_mhz", 1.8e9), InputError,
         r"row 10, field 'frequency_mhz' is 1.8e\+09"),
    Case("towers-azimuth-over-360", "towers.csv", _cell("towers.csv", 8, "azimuth_deg", 400), InputError,
         r"row 10, field 'azimuth_deg' is 400; expected a value ≥ 0 and ≤ 360"),
    Case("towers-beamwidth-zero", "towers.csv", _cell("towers.csv", 8, "beamwidth_deg", 0), InputError,
         r"row 10, field 'beamwidth_deg' is 0; expected a value > 0"),
    # ---- towers: identities
    Case("towers-blank-operator", "towers.csv", _cell("towers.csv", 4, "operator", ""), InputError,
         r"row 6, field 'operator' is empty.*file lines \[6\]"),
    Case("towers-spaces-operator", "towers.csv", _cell("towers.csv", 4, "operator", "   "), InputError,
         r"row 6, field 'operator' is empty"),
    Case("towers-blank-site-id", "towers.csv", _cell("towers.csv", 10, "site_id", ""), InputError,
         r"row 12, field 'site_id' is empty"),
    Case("towers-site-two-places", "towers.csv", _csv("towers.csv", _site_two_places), InputError,
         r"site_id '.*' is at two places 3\d\.\d km apart \(row 2: .*; row 4: "),
    Case("towers-unknown-technology", "towers.csv", _cell("towers.csv", 0, "technology", "6G"), InputError,
         r"row 2 .*field 'technology' is '6G'"),
    Case("towers-lon-text", "towers.csv", _cell("towers.csv", 12, "lon", "107,2"), InputError,
         r"row 14, field 'lon' is '107,2'; expected a number in degrees"),
    Case("towers-lat-empty", "towers.csv", _cell("towers.csv", 12, "lat", ""), InputError,
         r"row 14, field 'lat' is empty"),
    Case("towers-lat-out-of-range", "towers.csv", _cell("towers.csv", 3, "lat", 107.2), InputError,
         r"row 5, lon=.*lat=107\.2 is out of range"),
    Case("towers-swapped", "towers.csv", _csv("towers.csv", lambda df: df.rename(columns={"lon": "lat", "lat": "lon"})),
         InputError, r"row 2, .*look like lat and lon swapped"),
    Case("towers-all-outside-study-area", "towers.csv", _csv("towers.csv", _move_east), InputError,
         r"none of its 309 transmitters lies in the study area.*lon 1\d\d\.\d+…"),
    Case("towers-missing-column", "towers.csv", _csv("towers.csv", lambda df: df.drop(columns="technology")),
         InputError, r"missing column\(s\) \['technology'\]"),
    Case("towers-lng-column", "towers.csv", _csv("towers.csv", lambda df: df.rename(columns={"lon": "lng"})),
         InputError, r"missing column\(s\) \['lon'\].*'lng'→'lon'"),
    # ---- towers: file shape
    Case("towers-semicolon", "towers.csv", _text("towers.csv", SEMI), DataFileError,
         r"header line is semicolon-separated.*field delimiter ','"),
    Case("towers-tab", "towers.csv", _text("towers.csv", TAB), DataFileError, r"header line is tab-separated"),
    Case("towers-zero-bytes", "towers.csv", _bytes("towers.csv", b""), DataFileError, r"is empty \(0 bytes\)"),
    Case("towers-header-only", "towers.csv", _text("towers.csv", _header_only), InputError,
         r"a header line \(site_id, operator.*\) and no data rows"),
    Case("towers-blank-lines-only", "towers.csv", _bytes("towers.csv", b"\n\n  \n"), DataFileError,
         r"holds only blank lines"),
    Case("towers-ragged-line", "towers.csv", _text("towers.csv", lambda t: t.replace("\n", "\nX,Y,1,2,3,4,5,6,7\n", 1)),
         DataFileError, r"line 2 has 9 fields, the header line has 7"),
    Case("towers-cp1258", "towers.csv", _text("towers.csv", lambda t: (t + "VTL-9,Viettel,4,4G,107.3,21.6,30,Đà\n")
                                               .encode("cp1258")), DataFileError,
         r"not UTF-8 \(undecodable byte .* at line 311\)"),
    Case("towers-folder", "towers.csv", _folder("towers.csv"), DataFileError, r"is a folder, not a file"),
    Case("towers-missing-file", "towers.csv", _remove("towers.csv"), DataFileError, r"does not exist"),
    Case("towers-blank-line-numbering", "towers.csv",
         _both(_text("towers.csv", lambda t: t.replace("\n", "\n\n", 3)), _cell("towers.csv", 0, "radius_km", "x")),
         InputError, r"row 2, field 'radius_km' is 'x'"),
    Case("towers-gpkg-polygons", "towers.gpkg", _towers_layer("polygon"), InputError,
         r"feature 1 is a Polygon; expected points \(309 of 309"),
    Case("towers-gpkg-lines", "towers.gpkg", _towers_layer("line"), InputError, r"feature 1 is a LineString"),
    Case("towers-gpkg-no-crs", "towers.gpkg", _towers_layer("point", crs=None), CRSError, r"has no CRS"),
    Case("towers-gpkg-wrong-layer", "towers.gpkg",
         _both(_towers_layer("point"), _config('layer = "towers"', 'layer = "sites"')), DataFileError,
         r"\(layer 'sites'\) cannot be read.*its layers: \['towers'\]"),
    # ---- hamlets
    Case("hamlets-zero-bytes", "hamlets.csv", _bytes("hamlets.csv", b""), DataFileError, r"is empty \(0 bytes\)"),
    Case("hamlets-header-only", "hamlets.csv", _text("hamlets.csv", _header_only), InputError,
         r"a header line \(hamlet_id, name, lon, lat.*\) and no data rows"),
    Case("hamlets-semicolon", "hamlets.csv", _text("hamlets.csv", SEMI), DataFileError,
         r"header line is semicolon-separated"),
    Case("hamlets-missing-name", "hamlets.csv", _csv("hamlets.csv", lambda df: df.drop(columns="name")), InputError,
         r"missing column 'name'"),
    Case("hamlets-blank-name", "hamlets.csv", _cell("hamlets.csv", 3, "name", ""), InputError,
         r"1 row\(s\) with an empty 'name' \(file lines \[5\]\)"),
    Case("hamlets-unrepairable-mojibake", "hamlets.csv", _cell("hamlets.csv", 6, "name", MOJIBAKE_LOST), InputError,
         r"row 8, field 'name' is .*mojibake.*cannot be repaired"),
    Case("hamlets-lon-text", "hamlets.csv", _cell("hamlets.csv", 2, "lon", "abc"), InputError,
         r"1 row\(s\) with missing or invalid coordinates \(file lines \[4\]\)"),
    Case("hamlets-lat-out-of-range", "hamlets.csv", _cell("hamlets.csv", 9, "lat", 210.5), InputError,
         r"file lines \[11\]"),
    Case("hamlets-cp1258", "hamlets.csv", _text("hamlets.csv", lambda t: t.encode("cp1258", errors="replace")),
         DataFileError,
         r"not UTF-8 .* at line 2\)"),
    Case("hamlets-gpkg-polygons", "hamlets.gpkg", _hamlets_polygons, InputError, r"feature 1 is a Polygon"),
    Case("hamlets-folder", "hamlets.csv", _folder("hamlets.csv"), DataFileError, r"is a folder"),
    # ---- rasters
    Case("population-all-zero", "population.tif", _raster("population.tif", lambda a, p: (a * 0, p)), InputError,
         r"every cell is 0 or nodata"),
    Case("population-all-nodata", "population.tif",
         _raster("population.tif", lambda a, p: (np.full_like(a, -99999), {**p, "nodata": -99999})), InputError,
         r"every cell is 0 or nodata"),
    Case("population-negative", "population.tif",
         _raster("population.tif", lambda a, p: (np.where(np.arange(a.size).reshape(a.shape) == 5, -3, a)
                                                 .astype(a.dtype), p)), InputError,
         r"negative or infinite values.*row 0, col 5"),
    Case("population-no-crs", "population.tif", _raster("population.tif", _no_crs), CRSError,
         r"has no coordinate reference system"),
    Case("population-zero-bytes", "population.tif", _bytes("population.tif", b""), DataFileError,
         r"cannot be read as a raster"),
    Case("population-text", "population.tif", _bytes("population.tif", b"lon,lat,people\n1,2,3\n"), DataFileError,
         r"cannot be read as a raster"),
    Case("dem-no-crs", "dem.tif", _raster("dem.tif", _no_crs), CRSError, r"DEM .*dem\.tif has no coordinate"),
    Case("dem-zero-bytes", "dem.tif", _bytes("dem.tif", b""), DataFileError, r"DEM .*cannot be read as a raster"),
    # ---- admin layers
    Case("admin-duplicate-code", "admin.gpkg", _admin("provinces", _dup_province_code), InputError,
         r"layer 'provinces'.*code '.*' \(field 'code'\) is shared by units with different names \['.*', '.*'\]"),
    Case("admin-empty-code", "admin.gpkg", _admin("provinces", lambda g: g.assign(code=[None] + list(g.code[1:]))),
         InputError, r"field 'code' is empty in 1 feature\(s\) \(features \[1\]"),
    Case("admin-empty-name", "admin.gpkg", _admin("communes", lambda g: g.assign(name=[""] + list(g.name[1:]))),
         InputError, r"layer 'communes'.*field 'name' is empty"),
    Case("admin-unrepairable-mojibake", "admin.gpkg",
         _admin("communes", lambda g: g.assign(name=list(g.name[:2]) + [MOJIBAKE_LOST] + list(g.name[3:]))),
         InputError, r"feature 3, field 'name' .*cannot be repaired"),
    Case("admin-points", "admin.gpkg", _admin("provinces", lambda g: g.set_geometry(g.representative_point())),
         InputError, r"feature 1 is a Point; expected polygons"),
    Case("admin-no-crs", "admin.gpkg", _admin("provinces", lambda g: g.set_crs(None, allow_override=True)), CRSError,
         r"layer 'provinces'.* has no CRS"),
    Case("admin-wrong-code-field", "admin.gpkg", _config('code_field = "code"', 'code_field = "ma_tinh"'),
         InputError, r"missing field\(s\) \['ma_tinh'\]"),
    Case("admin-wrong-layer", "admin.gpkg", _config('layer = "provinces"', 'layer = "province"'), DataFileError,
         r"\(layer 'province'\) cannot be read.*its layers: \["),
    Case("admin-zero-bytes", "admin.gpkg", _bytes("admin.gpkg", b""), DataFileError, r"cannot be read"),
]


@pytest.fixture
def study(demo_run, tmp_path):
    """A writable copy of the demo inputs and config."""
    _, out = demo_run
    d = tmp_path / "study"
    shutil.copytree(out / "inputs", d / "inputs")
    shutil.copy(out / "covgap.toml", d / "covgap.toml")
    return d


def _checksums(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(d.rglob("*"))}


def _assert_message(msg: str, case_file: str, pattern: str) -> None:
    assert case_file in msg, f"the message does not name the file {case_file}: {msg}"
    assert re.search(r"\bFix\b", msg), f"the message gives no fix: {msg}"
    assert re.search(pattern, msg, flags=re.S), f"pattern {pattern!r} not in: {msg}"
    assert "np.float64" not in msg and "Traceback" not in msg


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_file_row_and_fix(case, study, tmp_path):
    case.mutate(study)
    before = _checksums(study)
    out = tmp_path / "out"
    with pytest.raises(case.exc) as info:
        run(load_config(study / "covgap.toml"), out, model_kind="radius")
    _assert_message(str(info.value), case.file, case.pattern)
    assert not out.exists(), "a failed run must leave no output folder"
    assert not list(out.parent.glob(f".{out.name}.partial-*")), "staging folder left behind"
    assert _checksums(study) == before, "an input file changed"


# ----------------------------------------------------------------------------- candidates (covgap plan)
CANDIDATE_CASES = [
    ("zero-bytes", b"", DataFileError, r"is empty \(0 bytes\)"),
    ("header-only", b"lon,lat,name\n", InputError, r"a header line \(lon, lat, name\) and no data rows"),
    ("semicolon", b"lon;lat;name\n107.1;21.5;A\n", DataFileError, r"header line is semicolon-separated"),
    ("lon-text", b"lon,lat\n107.1,21.5\nabc,21.6\n", InputError, r"line 3, field 'lon' is 'abc'"),
    ("height-too-tall", b"lon,lat,antenna_height_m\n107.1,21.5,900\n", InputError,
     r"line 2, field 'antenna_height_m' is 900.0; expected a height above ground > 0 and ≤ 500 m"),
    ("cost-zero", b"lon,lat,cost\n107.1,21.5,0\n", InputError, r"line 2, field 'cost' is 0.0"),
    ("kind-unknown", b"lon,lat,kind\n107.1,21.5,tower\n", InputError, r"line 2, field 'kind' is 'tower'"),
    ("cp1258", "lon,lat,name\n107.1,21.5,Đà\n".encode("cp1258"), DataFileError, r"not UTF-8"),
    ("blank-line-numbering", b"lon,lat\n\n107.1,21.5\n\nabc,21.6\n", InputError, r"line 5, field 'lon' is 'abc'"),
]


@pytest.mark.parametrize("body, exc, pattern", [c[1:] for c in CANDIDATE_CASES], ids=[c[0] for c in CANDIDATE_CASES])
def test_bad_candidates_file(body, exc, pattern, tmp_path):
    p = tmp_path / "candidates.csv"
    p.write_bytes(body)
    with pytest.raises(exc) as info:
        read_candidates(p)
    _assert_message(str(info.value), "candidates.csv", pattern)
    assert p.read_bytes() == body


def test_candidates_layer_of_polygons(tmp_path):
    g = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(107.0, 21.0, 107.1, 21.1)], crs="EPSG:4326")
    p = tmp_path / "candidates.gpkg"
    g.to_file(p, layer="c", driver="GPKG", engine="pyogrio")
    before = p.read_bytes()
    with pytest.raises(InputError) as info:
        read_candidates(p, layer="c")
    _assert_message(str(info.value), "candidates.gpkg", r"feature 1 is a Polygon; expected points")
    assert p.read_bytes() == before


def test_corpus_size():
    """Issue 16 asks for at least 65 bad inputs on the input side."""
    assert len(CASES) + len(CANDIDATE_CASES) + 1 >= 65


# ----------------------------------------------------------------------------- what is dropped is counted
def test_dropped_rows_and_inputs_outside_the_study_area_are_counted(study, tmp_path):
    """Duplicate rows are dropped and counted; towers and hamlets outside the area are counted apart."""
    import json

    from openpyxl import load_workbook

    towers = pd.read_csv(study / "inputs" / "towers.csv", dtype=str, keep_default_na=False)
    moved_sites = towers["site_id"].unique()[:2]
    moved = towers["site_id"].isin(moved_sites)
    towers.loc[moved, "lon"] = (towers.loc[moved, "lon"].astype(float) + 1.5).astype(str)  # east of the grid
    towers = pd.concat([towers, towers.iloc[[5, 6, 7]]], ignore_index=True)  # three exact duplicates
    towers.to_csv(study / "inputs" / "towers.csv", index=False)
    hamlets = pd.read_csv(study / "inputs" / "hamlets.csv", dtype=str, keep_default_na=False)
    hamlets.loc[0, "lat"] = "25.0"  # north of the grid
    hamlets.to_csv(study / "inputs" / "hamlets.csv", index=False)
    out = tmp_path / "out"
    run(load_config(study / "covgap.toml"), out, model_kind="radius")
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    dropped = s["notes"]["dropped"]
    assert dropped["towers"] == {"duplicate_rows": 3}
    assert s["notes"]["sites"]["duplicate_lines"] == [len(towers) - 1, len(towers), len(towers) + 1]
    assert dropped["outside_study_area"] == {"transmitters": int(moved.sum()), "hamlets": 1}
    assert s["sites"]["transmitters"] == len(towers) - 3 - int(moved.sum())
    assert s["sites"]["sites"] == towers["site_id"].nunique() - 2
    assert s["sites"]["outside_study_area"] == {"transmitters": int(moved.sum())}
    ws = load_workbook(out / "gap_report.xlsx")["Sources"]
    cells = {c.value: ws.cell(c.row, 2).value for (c,) in ws.iter_rows(min_col=1, max_col=1) if c.value}
    assert json.loads(cells["Dropped or outside the study area"]) == dropped
