"""Land cover for ITU-R P.1812: WorldCover classes → clutter heights and radio-climatic zones.

Three steps, each on plain arrays aligned to the DEM grid the model samples:

1. :class:`ClutterTable` maps each ESA WorldCover class code (10 tree cover … 100 moss and
   lichen) to a P.1812-6 Table 2 clutter category and a representative clutter height R [m].
   The default table is ``covgap/data/worldcover_p1812.csv``; a run replaces it
   (``[landcover] table``) or overrides single classes (``[landcover.classes]``).
2. :func:`clutter_arrays` turns a class raster (already on the DEM grid; the 10 m classes
   are reduced to it by majority, see :func:`covgap.io.read_landcover_onto`) into
   ``clutter_height_m`` (float32) and ``category`` (int8).
3. :func:`radio_climatic_zone` gives P.1812's zone per cell (int8: 1 sea, 3 coastal land,
   4 inland) from the land/sea mask and the DEM.

:func:`make_landcover` does all three and returns a :class:`LandCover`, which
:class:`covgap.models.p1812_area.P1812Model` reads per profile point. The reasoning (why
majority, why these heights, the zone rule) is in ``docs/design.md``, "Land cover".
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from .errors import ConfigError, InputError
from .grid import EARTH_RADIUS_M, Grid

__all__ = [
    "WORLDCOVER_CLASSES",
    "WORLDCOVER_NODATA",
    "WATER_CLASS",
    "P1812_CATEGORIES",
    "ClutterClass",
    "ClutterTable",
    "default_table",
    "parse_table",
    "clutter_arrays",
    "radio_climatic_zone",
    "LandCover",
    "make_landcover",
    "ZONE_SEA",
    "ZONE_COASTAL",
    "ZONE_INLAND",
    "COAST_KM",
    "COASTAL_MAX_HEIGHT_M",
]

#: ESA WorldCover 10 m v200 map legend (Product User Manual v2.0): code → name.
WORLDCOVER_CLASSES: dict[int, str] = {
    10: "Tree cover",
    20: "Shrubland",
    30: "Grassland",
    40: "Cropland",
    50: "Built-up",
    60: "Bare / sparse vegetation",
    70: "Snow and ice",
    80: "Permanent water bodies",
    90: "Herbaceous wetland",
    95: "Mangroves",
    100: "Moss and lichen",
}
#: The map's "no data" value (outside the mapped area).
WORLDCOVER_NODATA = 0
#: WorldCover's water class (sea, lakes and rivers alike).
WATER_CLASS = 80
#: P.1812-6 Table 2 clutter categories: code → name (the default heights are in
#: :data:`covgap.models.p1812.CLUTTER_CATEGORIES`).
P1812_CATEGORIES: dict[int, str] = {
    1: "water/sea",
    2: "open/rural",
    3: "suburban",
    4: "urban/trees/forest",
    5: "dense urban",
}
#: Radio-climatic zones of P.1812-6 §3.6 (the zones of ITU-R P.452 Table 3).
ZONE_SEA, ZONE_COASTAL, ZONE_INLAND = 1, 3, 4
#: Coastal land: land within this distance of the sea (P.452-17 Table 3, "A1": up to 50 km) ...
COAST_KM = 50.0
#: ... and up to this altitude above mean sea level (same table: 100 m).
COASTAL_MAX_HEIGHT_M = 100.0
_MAX_HEIGHT_M = 100.0  # a representative clutter height above this is almost surely a unit mistake


@dataclass(frozen=True)
class ClutterClass:
    """One land-cover class: its P.1812 clutter category and representative height R [m]."""

    code: int
    name: str
    category: int
    height_m: float


@dataclass(frozen=True)
class ClutterTable:
    """Land-cover class code → :class:`ClutterClass`, with where the table came from.

    Examples
    --------
    >>> t = default_table()
    >>> t[10].category, t[10].height_m, t[50].height_m
    (4, 15.0, 10.0)
    >>> t.with_overrides({"50": {"category": 5, "height_m": 20}})[50].height_m
    20.0
    """

    classes: Mapping[int, ClutterClass]
    source: str

    def __getitem__(self, code: int) -> ClutterClass:
        return self.classes[int(code)]

    def lookup(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrays indexed by class code (0-255): ``(known, category, height_m)``."""
        known = np.zeros(256, dtype=bool)
        cat = np.full(256, 2, dtype=np.int8)
        hgt = np.zeros(256, dtype=np.float32)
        for code, c in self.classes.items():
            known[code], cat[code], hgt[code] = True, c.category, c.height_m
        return known, cat, hgt

    def with_overrides(self, overrides: Mapping[Any, Mapping[str, Any]] | None, *,
                       where: str = "[landcover.classes]") -> ClutterTable:
        """A copy with some classes replaced (``{code: {"category": 4, "height_m": 12}}``; either key
        may be left out and keeps the table's value). Raises :class:`ConfigError` naming the class."""
        if not overrides:
            return self
        new = dict(self.classes)
        for key, val in overrides.items():
            code = _code(key, where)
            if not isinstance(val, Mapping):
                raise ConfigError(f"{where} {key!r} = {val!r}; expected a table like "
                                  f'"{code}" = {{ category = 4, height_m = 15 }}. Fix: write it as such a table.')
            extra = sorted(set(val) - {"category", "height_m", "name"})
            if extra:
                raise ConfigError(f"{where} {key!r}: unknown key(s) {extra}; known: category, height_m, name. "
                                  "Fix: correct or remove the key.")
            old = new.get(code)
            name = str(val.get("name", old.name if old else WORLDCOVER_CLASSES.get(code, f"class {code}")))
            if old is None and not {"category", "height_m"} <= set(val):
                raise ConfigError(f"{where} {key!r}: class {code} is not in the table, so it needs both "
                                  "category and height_m. Fix: e.g. { category = 2, height_m = 0 }.")
            cat = val.get("category", old.category if old else None)
            hgt = val.get("height_m", old.height_m if old else None)
            new[code] = _clutter_class(code, name, cat, hgt, where=f"{where} {key!r}")
        return ClutterTable(new, source=f"{self.source} with {where} overrides for {sorted(_code(k, where) for k in overrides)}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for provenance."""
        return {"source": self.source,
                "classes": {str(c.code): {"name": c.name, "category": c.category, "height_m": c.height_m}
                            for c in sorted(self.classes.values(), key=lambda c: c.code)}}


def _code(key: Any, where: str) -> int:
    try:
        code = int(str(key).strip())
    except ValueError:
        raise ConfigError(f"{where}: class {key!r} is not a class code; expected a whole number 1-255 "
                          f"(WorldCover: {sorted(WORLDCOVER_CLASSES)}). Fix: write the class's code, e.g. \"10\" for tree cover.") from None
    if not 1 <= code <= 255:
        raise ConfigError(f"{where}: class {code} is outside 1-255 (0 is WorldCover's no data); "
                          f"WorldCover's classes are {sorted(WORLDCOVER_CLASSES)}. Fix: use one of those codes.")
    return code


def _clutter_class(code: int, name: str, category: Any, height: Any, *, where: str) -> ClutterClass:
    if isinstance(category, bool) or not isinstance(category, int | float) or category != int(category) \
            or int(category) not in P1812_CATEGORIES:
        raise ConfigError(f"{where}: category = {category!r}; expected a P.1812-6 Table 2 category "
                          f"{P1812_CATEGORIES}. Fix: pick the Table 2 category closest to the class.")
    if isinstance(height, bool) or not isinstance(height, int | float) or not math.isfinite(height) \
            or not 0 <= height <= _MAX_HEIGHT_M:
        raise ConfigError(f"{where}: height_m = {height!r}; expected a representative clutter height in metres, "
                          f"0-{_MAX_HEIGHT_M:g} (P.1812-6 Table 2 defaults: 0, 10, 15, 20 m). Fix: give the height in metres.")
    if int(category) == 1 and height != 0:
        raise ConfigError(f"{where}: category 1 (water/sea) with height_m = {height!r}; water has no clutter "
                          "height (P.1812-6 Table 2: 0 m). Fix: height_m = 0 or another category.")
    return ClutterClass(code=code, name=name, category=int(category), height_m=float(height))


def parse_table(text: str, *, source: str) -> ClutterTable:
    """Parse a mapping table (CSV ``code,name,category,height_m``; ``#`` lines are comments).

    Every row is checked: a code that is not a whole number 1-255, a category outside
    P.1812-6 Table 2 (1-5) or a height outside 0-100 m is a :class:`ConfigError` naming the
    file and the row. Codes outside WorldCover's legend are allowed (another class raster).

    Examples
    --------
    >>> parse_table("code,name,category,height_m\\n10,Trees,4,12\\n", source="t.csv")[10].height_m
    12.0
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    need = {"code", "category", "height_m"}
    if reader.fieldnames is None or not need <= {f.strip() for f in reader.fieldnames}:
        raise ConfigError(f"land-cover table {source}: expected a CSV header with columns code, name, category, "
                          f"height_m; got {reader.fieldnames}. Fix: start the file with `code,name,category,height_m`.")
    classes: dict[int, ClutterClass] = {}
    for i, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        where = f"land-cover table {source}, row {i} (code {row.get('code')!r})"
        code = _code(row["code"], where)
        if code in classes:
            raise ConfigError(f"{where}: class {code} appears twice. Fix: keep one row per class.")
        vals = []
        for key in ("category", "height_m"):
            try:
                vals.append(float(row[key]))
            except ValueError:
                raise ConfigError(f"{where}: {key} = {row[key]!r} is not a number. Fix: write a plain number.") from None
        name = row.get("name") or WORLDCOVER_CLASSES.get(code, f"class {code}")
        classes[code] = _clutter_class(code, name, vals[0], vals[1], where=where)
    if not classes:
        raise ConfigError(f"land-cover table {source}: no rows. Fix: add one row per land-cover class.")
    return ClutterTable(classes, source=source)


def default_table() -> ClutterTable:
    """The packaged WorldCover → P.1812-6 table (``covgap/data/worldcover_p1812.csv``)."""
    text = (resources.files("covgap") / "data" / "worldcover_p1812.csv").read_text(encoding="utf-8")
    return parse_table(text, source="covgap/data/worldcover_p1812.csv (ESA WorldCover v200 → P.1812-6 Table 2)")


def clutter_arrays(classes: np.ndarray, table: ClutterTable, *,
                   nodata: int | None = WORLDCOVER_NODATA) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Representative clutter height and category per cell from a class raster.

    Parameters
    ----------
    classes : ndarray of int (ny, nx)
        Land-cover class codes on the DEM grid (0-255).
    table : ClutterTable
        Class → category and height.
    nodata : int or None
        Code meaning "not mapped" (WorldCover: 0). Such cells are open/rural (R = 0 m),
        counted in the notes.

    Returns
    -------
    clutter_height_m : ndarray of float32
    category : ndarray of int8
    notes : dict
        ``nodata_cells`` and the cells per class.

    Raises
    ------
    InputError
        The raster holds a code that is neither in the table nor ``nodata`` (names the code,
        how many cells, and the fix).

    Examples
    --------
    >>> h, c, n = clutter_arrays(np.array([[10, 40], [80, 0]]), default_table())
    >>> h.tolist(), c.tolist(), n["nodata_cells"]
    ([[15.0, 0.0], [0.0, 0.0]], [[4, 2], [1, 2]], 1)
    """
    a = np.asarray(classes)
    if a.ndim != 2:
        raise InputError(f"land-cover classes must be a 2-D array; got shape {a.shape}. Fix: pass one band.")
    if a.size and (a.min() < 0 or a.max() > 255):
        raise InputError(f"land-cover classes must be codes 0-255; got values {int(a.min())}..{int(a.max())}. "
                         "Fix: use a class raster such as ESA WorldCover (uint8).")
    codes = a.astype(np.uint8, copy=False)
    known, cat, hgt = table.lookup()
    counts = np.bincount(codes.ravel(), minlength=256)
    is_nodata = np.zeros(256, dtype=bool)
    if nodata is not None:
        is_nodata[int(nodata)] = True
    unknown = np.flatnonzero((counts > 0) & ~known & ~is_nodata)
    if unknown.size:
        shown = ", ".join(f"{int(c)} ({int(counts[c]):,} cells)" for c in unknown[:5])
        raise InputError(f"land-cover raster holds class codes not in the land-cover table ({table.source}): {shown}. "
                         f"The table knows {sorted(table.classes)}. Fix: add a row per class to the table "
                         "([landcover] table or [landcover.classes]), or check the raster is ESA WorldCover.")
    cat = cat.copy()
    hgt = hgt.copy()
    if nodata is not None:
        cat[int(nodata)], hgt[int(nodata)] = 2, 0.0
    notes = {"nodata_cells": int(counts[int(nodata)]) if nodata is not None else 0,
             "cells_per_class": {str(int(c)): int(counts[c]) for c in np.flatnonzero(counts) if known[c]}}
    return hgt[codes], cat[codes], notes


def _cell_size_m(grid: Grid) -> tuple[float, float]:
    """Cell width and height in metres (geographic grids: at the grid's central latitude)."""
    dx, dy = grid.res
    if grid.is_geographic:
        lat = float(np.mean(grid.y_centres()))
        m = math.radians(1.0) * EARTH_RADIUS_M
        return abs(dx) * m * math.cos(math.radians(lat)), abs(dy) * m
    return abs(float(dx)), abs(float(dy))


def radio_climatic_zone(classes: np.ndarray, dem: np.ndarray | None, grid: Grid, *,
                        coast_km: float = COAST_KM, coastal_max_height_m: float = COASTAL_MAX_HEIGHT_M,
                        water_class: int = WATER_CLASS, nodata: int | None = WORLDCOVER_NODATA) -> np.ndarray:
    """P.1812-6 radio-climatic zone per cell (int8: 1 sea, 3 coastal land, 4 inland).

    The rule (P.1812-6 §3.6 refers to the zones of ITU-R P.452 Table 3):

    * **sea (1)**: water (``water_class``) or unmapped (``nodata``) cells whose DEM height is
      at most 0 m or unknown (the Copernicus DEM is 0 m over the sea, and WorldCover leaves
      the open sea unmapped). Lakes and rivers above sea level stay land.
    * **coastal land (3)**: any other cell within ``coast_km`` (50 km) of a sea cell and at
      most ``coastal_max_height_m`` (100 m) above sea level (P.452 zone A1).
    * **inland (4)**: the rest (A2).

    Distances are Euclidean on the grid, in metres (geographic grids: cell sizes at the
    grid's central latitude); the sea must be inside the grid to count (fetch and load the
    land cover past the coast, as ``covgap fetch`` does by the model's reach).

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid(crs="EPSG:32648", transform=Affine(10_000, 0, 0, 0, -10_000, 0), shape=(1, 8))
    >>> radio_climatic_zone(np.array([[80, 80, 40, 40, 40, 40, 40, 40]]),
    ...                     np.array([[0., 0, 5, 5, 5, 150, 5, 5]]), g).tolist()
    [[1, 1, 3, 3, 3, 4, 3, 4]]
    """
    from scipy.ndimage import distance_transform_edt

    a = np.asarray(classes)
    if a.shape != grid.shape:
        raise InputError(f"land-cover classes have shape {a.shape}; the grid has {grid.shape}.")
    if dem is not None and np.shape(dem) != grid.shape:
        raise InputError(f"DEM has shape {np.shape(dem)}; the grid has {grid.shape}.")
    if not (coast_km >= 0 and coastal_max_height_m >= 0):
        raise ConfigError(f"coast_km = {coast_km!r} and coastal_max_height_m = {coastal_max_height_m!r}; "
                          "expected distances/heights >= 0. Fix: use the defaults 50 km and 100 m (P.452 Table 3).")
    water = a == water_class
    if nodata is not None:
        water |= a == nodata
    if dem is None:
        low = np.ones(a.shape, dtype=bool)
        h = np.zeros(a.shape, dtype=np.float32)
    else:
        h = np.asarray(dem, dtype=np.float32)
        low = ~(h > 0.0)  # NaN (unknown) counts as sea level
    sea = water & low
    zone = np.full(a.shape, ZONE_INLAND, dtype=np.int8)
    if sea.any():
        dx, dy = _cell_size_m(grid)
        dist = distance_transform_edt(~sea, sampling=(dy, dx))
        coastal = (~sea) & (dist <= coast_km * 1000.0) & ~(h > coastal_max_height_m)
        zone[coastal] = ZONE_COASTAL
        zone[sea] = ZONE_SEA
    return zone


@dataclass(eq=False)
class LandCover:
    """Land cover on the DEM grid, as P.1812 reads it.

    Attributes
    ----------
    grid : Grid
        The DEM/analysis grid the arrays are on.
    classes : ndarray of uint8
        Class codes (majority of the source pixels per cell).
    clutter_height_m : ndarray of float32
        Representative clutter height R per cell [m].
    category : ndarray of int8
        P.1812-6 Table 2 category per cell.
    zone : ndarray of int8
        Radio-climatic zone per cell (1 sea, 3 coastal land, 4 inland).
    source : str
        What the classes are (file, product, licence) — recorded in the model's parameters.
    table : ClutterTable
    notes : dict
        Cells per class, no-data cells, cells per zone, the zone rule's parameters.
    """

    grid: Grid
    classes: np.ndarray
    clutter_height_m: np.ndarray
    category: np.ndarray
    zone: np.ndarray
    source: str
    table: ClutterTable
    notes: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """Provenance for summary.json: source, table, zone rule, cells per zone."""
        return {"source": self.source, "table": self.table.source, **self.notes}


def make_landcover(classes: np.ndarray, grid: Grid, *, dem: np.ndarray | None = None,
                   table: ClutterTable | None = None, source: str = "land-cover raster",
                   coast_km: float = COAST_KM, coastal_max_height_m: float = COASTAL_MAX_HEIGHT_M,
                   nodata: int | None = WORLDCOVER_NODATA) -> LandCover:
    """Build a :class:`LandCover` from class codes on ``grid`` (and the DEM on the same grid).

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid(crs="EPSG:32648", transform=Affine(100, 0, 0, 0, -100, 0), shape=(1, 3))
    >>> lc = make_landcover(np.array([[80, 10, 50]]), g, dem=np.array([[0.0, 20, 30]]))
    >>> lc.clutter_height_m.tolist(), lc.zone.tolist()
    ([[0.0, 15.0, 10.0]], [[1, 3, 3]])
    """
    table = table or default_table()
    a = np.asarray(classes)
    if a.shape != grid.shape:
        raise InputError(f"land-cover classes have shape {a.shape}; the grid has {grid.shape}.")
    hgt, cat, notes = clutter_arrays(a, table, nodata=nodata)
    zone = radio_climatic_zone(a, dem, grid, coast_km=coast_km, coastal_max_height_m=coastal_max_height_m,
                               nodata=nodata)
    zc = np.bincount(zone.ravel(), minlength=5)
    notes.update(
        cells_per_zone={"sea (1)": int(zc[1]), "coastal land (3)": int(zc[3]), "inland (4)": int(zc[4])},
        zone_rule=(f"sea = water (class {WATER_CLASS}) or no data at DEM <= 0 m; coastal land = within "
                   f"{coast_km:g} km of sea and <= {coastal_max_height_m:g} m; inland = the rest "
                   "(P.1812-6 §3.6, P.452 Table 3)"),
    )
    return LandCover(grid=grid, classes=a.astype(np.uint8, copy=False), clutter_height_m=hgt, category=cat,
                     zone=zone, source=source, table=table, notes=notes)
