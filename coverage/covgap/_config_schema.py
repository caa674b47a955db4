"""Typed schema of the run configuration (pydantic v2), private to :mod:`covgap.config`.

The schema checks names and types (``extra="forbid"``, strict types: ``"no"`` is not a
boolean, ``true`` is not a number, ``"10"`` is not a number). :func:`validate_types` turns
every problem into one line naming the file, the section, the key, what arrived, the
expected type and an example. Semantic checks (file paths, model options, admin levels)
stay in :func:`covgap.config.parse_config`.
"""

from __future__ import annotations

import difflib
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .constants import BORDER_BELT_KM, MODEL_KINDS
from .errors import ConfigError

__all__: list[str] = []  # private module

_Num = Annotated[float, Field(allow_inf_nan=False)]
_PosNum = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_NonNegNum = Annotated[float, Field(ge=0, allow_inf_nan=False)]
_LonLat = Annotated[list[_Num], Field(min_length=2, max_length=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Study(_Strict):
    name: str = "study area"
    synthetic: bool = False
    snap_cells: Annotated[int, Field(ge=0)] = 2
    overlap_tolerance_km2: _NonNegNum = 0.01
    pad_km: Annotated[float, Field(ge=0, le=3000, allow_inf_nan=False)] | Literal["reach"] = 0.0


class _Ref(_Strict):
    path: str
    layer: str | None = None
    source: str = ""
    release: str = ""
    licence: str = ""
    url: str = ""
    encoding: str | None = None


class _BorderRef(_Ref):
    arc_from: _LonLat | None = None
    arc_via: _LonLat | None = None
    arc_to: _LonLat | None = None


class _Inputs(_Strict):
    population: _Ref
    towers: _Ref
    dem: _Ref | None = None
    hamlets: _Ref | None = None
    border: _BorderRef | None = None
    foreign_towers: _Ref | None = None


class _Admin(_Ref):
    level: str
    code_field: str | None = None  # required unless vn2025 is given (checked by covgap.config)
    name_field: str | None = None
    parent_field: str | None = None
    vietnam: Literal["former63"] | None = None
    dissolve_to_current: str | None = None
    vn2025: Literal["province", "commune"] | None = None
    provinces: list[str] | None = None


class _Model(_Strict):
    kind: Literal[("auto", *MODEL_KINDS)] = "auto"  # type: ignore[valid-type]
    radius_km: dict[str, _PosNum] = Field(default_factory=dict)
    location_percent: Annotated[float, Field(ge=1, le=99, allow_inf_nan=False)] | None = None
    hata: dict[str, Any] = Field(default_factory=dict)
    terrain: dict[str, Any] = Field(default_factory=dict)
    p1812: dict[str, Any] = Field(default_factory=dict)
    calibration: str | None = None  # a calibration file written by `covgap calibrate`


class _ClutterClass(_Strict):
    category: Literal[1, 2, 3, 4, 5] | None = None
    height_m: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    name: str | None = None


class _LandCover(_Strict):
    path: str
    source: str = ""
    release: str = ""
    licence: str = ""
    url: str = ""
    table: str | None = None
    classes: dict[str, _ClutterClass] = Field(default_factory=dict)
    coast_km: _NonNegNum = 50.0
    coastal_max_height_m: _NonNegNum = 100.0


class _Population(_Strict):
    adjust_to: str | _Ref  # a path, or a table with path and provenance like the inputs
    level: str | None = None


class _Gaps(_Strict):
    min_population: _NonNegNum = 10.0
    connectivity: Literal[4, 8] = 8
    border_belt_km: _PosNum = BORDER_BELT_KM
    technology: Literal["any", "2G", "3G", "4G", "5G"] = "any"
    count_foreign: bool = False
    thin_radius_km: _PosNum = 20.0
    thin_min_sites: Annotated[int, Field(ge=0)] = 3


class _Report(_Strict):
    lang: Literal["en", "vi"] = "en"
    title: str = ""


class _Uncertainty(_Strict):
    members: Annotated[int, Field(ge=1, le=10_000)] = 50
    seed: int = 0
    link_budget_db: Any = 0.0  # dB or a table of technology = dB: checked by covgap.config
    location_db: Any = 0.0  # dB or "model": checked by covgap.config
    location_correlation_m: _PosNum = 120.0
    tower_position_m: _NonNegNum = 0.0
    population: list[str | _Ref] = Field(default_factory=list)
    top_n: Annotated[int, Field(ge=1)] = 10


class _Top(_Strict):
    study: _Study = Field(default_factory=_Study)
    inputs: _Inputs
    admin: Annotated[list[_Admin], Field(min_length=1)]
    model: _Model = Field(default_factory=_Model)
    gaps: _Gaps = Field(default_factory=_Gaps)
    report: _Report = Field(default_factory=_Report)
    population: _Population | None = None
    uncertainty: _Uncertainty | None = None
    landcover: _LandCover | None = None
    sources: dict[str, Any] = Field(default_factory=dict)  # checked key by key by covgap.sources.fetch


#: An example line for each key, shown with the expected type.
_EXAMPLES: dict[str, str] = {
    "study": '[study]\\nname = "Ha Giang"',
    "study.name": 'name = "Ha Giang border communes"',
    "study.synthetic": "synthetic = false",
    "study.snap_cells": "snap_cells = 2",
    "study.overlap_tolerance_km2": "overlap_tolerance_km2 = 0.01",
    "study.pad_km": 'pad_km = 20.0  (km, 0-3000) or pad_km = "reach"',
    "inputs": 'inputs = { population = "pop.tif", towers = "towers.csv" } (or an [inputs] section)',
    "inputs.*": 'towers = { path = "inputs/towers.csv", source = "OpenCelliD" }  (or towers = "inputs/towers.csv")',
    "inputs.border.arc_from": "arc_from = [104.0, 22.9]  (lon, lat)",
    "inputs.border.arc_via": "arc_via = [105.3, 23.3]  (lon, lat)",
    "inputs.border.arc_to": "arc_to = [106.7, 22.8]  (lon, lat)",
    "admin": '[[admin]]\\nlevel = "province"\\npath = "admin.gpkg"\\ncode_field = "code"\\nname_field = "name"',
    "admin.level": 'level = "province"',
    "admin.code_field": 'code_field = "code"',
    "admin.name_field": 'name_field = "name"',
    "admin.parent_field": 'parent_field = "province_code"',
    "admin.vietnam": 'vietnam = "former63"',
    "admin.dissolve_to_current": 'dissolve_to_current = "province34"',
    "ref.path": 'path = "inputs/admin.gpkg"',
    "ref.layer": 'layer = "provinces"',
    "ref.encoding": 'encoding = "cp1258"',
    "ref.*": 'source = "geoBoundaries"',
    "model": '[model]\\nkind = "radius"',
    "model.kind": 'kind = "radius"',
    "model.location_percent": "location_percent = 90  (1-99; default 50, the median over locations)",
    "model.radius_km": '[model.radius_km]\\n"4G" = 4.0',
    "model.radius_km.*": '"4G" = 4.0',
    "model.hata": "[model.hata]\\n(options of the Hata model)",
    "model.terrain": "[model.terrain]\\n(options of the terrain model)",
    "model.p1812": "[model.p1812]\\nmax_radius_km = 10.0",
    "model.calibration": 'calibration = "out/calibration/calibration.toml"  (written by covgap calibrate)',
    "population": '[population]\\nadjust_to = "gso_totals.csv"',
    "population.adjust_to": 'adjust_to = "gso_totals.csv"',
    "population.level": 'level = "province"',
    "admin.vn2025": 'vn2025 = "commune"',
    "admin.provinces": 'provinces = ["04", "11"]',
    "gaps": "[gaps]\\nmin_population = 10",
    "gaps.min_population": "min_population = 10",
    "gaps.connectivity": "connectivity = 8",
    "gaps.border_belt_km": "border_belt_km = 20.0",
    "gaps.technology": 'technology = "4G"',
    "gaps.count_foreign": "count_foreign = false",
    "gaps.thin_radius_km": "thin_radius_km = 20.0",
    "gaps.thin_min_sites": "thin_min_sites = 3",
    "report": '[report]\\nlang = "en"',
    "report.lang": 'lang = "vi"',
    "report.title": 'title = "Mobile coverage gaps"',
    "sources": '[sources]\\niso3 = "VNM"',
    "uncertainty": "[uncertainty]\\nmembers = 50\\nlink_budget_db = 3.0",
    "uncertainty.members": "members = 50  (ensemble members, 1-10000)",
    "uncertainty.seed": "seed = 2021  (a whole number; same seed, same result)",
    "uncertainty.link_budget_db": 'link_budget_db = 3.0  (or { "2G" = 3.0, "4G" = 4.0 }; dB, 1-sigma)',
    "uncertainty.location_db": 'location_db = "model"  (or dB, e.g. 5.5)',
    "uncertainty.location_correlation_m": "location_correlation_m = 120.0",
    "uncertainty.tower_position_m": "tower_position_m = 300.0  (metres, 1-sigma per axis)",
    "uncertainty.population": 'population = ["inputs/population_constrained.tif"]',
    "uncertainty.top_n": "top_n = 10",
    "landcover": '[landcover]\\npath = "inputs/landcover.tif"',
    "landcover.path": 'path = "raw/landcover/worldcover_2021_v200"  (a GeoTIFF of class codes or a folder of tiles)',
    "landcover.table": 'table = "my_worldcover_to_p1812.csv"  (columns code, name, category, height_m)',
    "landcover.classes": '[landcover.classes]\\n"50" = { category = 5, height_m = 20.0 }',
    "landcover.coast_km": "coast_km = 50.0",
    "landcover.coastal_max_height_m": "coastal_max_height_m = 100.0",
}
_REF_KEYS = set(_Ref.model_fields)
_SUFFIX = {"population": "tif", "dem": "tif", "towers": "csv", "hamlets": "csv", "foreign_towers": "csv"}


def _plain(value: Any) -> str:
    """A value as it would be written in TOML (never a Python repr such as ``np.float64(nan)``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a table {" + ", ".join(f"{k} = {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _where(loc: tuple) -> tuple[str, str, str]:
    """(section as written in TOML, key, example lookup name) of an error location."""
    parts = [p for p in loc]
    if not parts:
        return "top level", "", ""
    if parts[0] == "admin" and len(parts) >= 2 and isinstance(parts[1], int):
        section = f"[[admin]] #{parts[1] + 1}"
        key = ".".join(str(p) for p in parts[2:])
        look = f"admin.{key}" if f"admin.{key}" in _EXAMPLES else (f"ref.{key}" if f"ref.{key}" in _EXAMPLES
                                                                   else "ref.*" if key in _REF_KEYS else "admin")
        return section, key, look
    if len(parts) == 1:
        return "top level", str(parts[0]), str(parts[0])
    if parts[0] == "inputs":
        if len(parts) == 2:
            return "[inputs]", str(parts[1]), "inputs.*"
        key = ".".join(str(p) for p in parts[2:])
        look = (f"inputs.border.{key}" if f"inputs.border.{key}" in _EXAMPLES
                else f"ref.{key}" if f"ref.{key}" in _EXAMPLES else "ref.*")
        return f"[inputs.{parts[1]}]", key, look
    if parts[0] == "landcover" and len(parts) >= 3 and parts[1] == "classes":
        return f'[landcover.classes."{parts[2]}"]', ".".join(str(p) for p in parts[3:]), "landcover.classes"
    if parts[0] == "landcover" and len(parts) == 2 and str(parts[1]) in ("source", "release", "licence", "url"):
        return "[landcover]", str(parts[1]), "ref.*"
    if parts[0] == "model" and len(parts) >= 3 and parts[1] == "radius_km":
        return "[model.radius_km]", ".".join(str(p) for p in parts[2:]), "model.radius_km.*"
    section = "[" + ".".join(str(p) for p in parts[:-1]) + "]"
    key = str(parts[-1])
    return section, key, ".".join(str(p) for p in parts)


def _expected(err: dict) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t in ("float_type", "float_parsing"):
        return "a number"
    if t in ("int_type", "int_parsing", "int_from_float"):
        return "a whole number"
    if t in ("bool_type", "bool_parsing"):
        return "true or false (a TOML boolean, without quotes)"
    if t == "string_type":
        return "text in quotes"
    if t in ("dict_type", "model_type", "model_attributes_type"):
        return "a table"
    if t == "list_type":
        return "a list"
    if t == "literal_error":
        return f"one of {ctx.get('expected', '')}".replace("'", '"')
    if t == "greater_than":
        return f"a number > {ctx.get('gt'):g}"
    if t == "greater_than_equal":
        return f"a number ≥ {ctx.get('ge'):g}"
    if t == "less_than_equal":
        return f"a number ≤ {ctx.get('le'):g}"
    if t == "less_than":
        return f"a number < {ctx.get('lt'):g}"
    if t in ("finite_number",):
        return "a finite number"
    if t == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if t == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    return err.get("msg", "a valid value")


def _line(err: dict, src: str, data: Any) -> str:
    loc = tuple(err["loc"])
    section, key, look = _where(loc)
    example = _EXAMPLES.get(look) or _EXAMPLES.get(look.split(".")[0], "")
    example = example.replace("\\n", "; ")
    if look == "inputs.*":
        example = f'{key} = "inputs/{key}.{_SUFFIX.get(key, "gpkg")}"  (or a table with path = ...)'
    if err["type"] == "extra_forbidden":
        allowed = _allowed(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), sorted(allowed), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        where = {"top level": "top level", "[inputs]": "inputs"}.get(section, section.strip("[]"))
        if section.startswith("[[admin]]"):
            where = "admin #" + section.split("#")[1]
            key = str(loc[-1])
        return (f"{src}: unknown key {str(loc[-1])!r} in [{where}]; known keys: {sorted(allowed)}.{hint} "
                "Fix: correct or remove the key.")
    name = f"{section} {key}".strip() if section != "top level" else (f"[{key}]" if key else "the config")
    if err["type"] == "missing":
        what = f"{section} needs {key!r}" if section != "top level" else f"the config needs [{key}]"
        return f"{src}: {what}. Fix: add it, e.g. {example}."
    value = err.get("input")
    got = f"{_plain(value)} ({_kind(value)})"
    return f"{src}: {name} = {got}; expected {_expected(err)}. Fix: e.g. {example}."


def _allowed(loc: tuple) -> set[str]:
    model: type[BaseModel] | None = _Top
    keyed = False  # the previous field was a table of tables ([landcover.classes]): this part is its key
    for p in loc:
        if isinstance(p, int) or model is None:
            continue
        if keyed:
            keyed = False
            continue
        field = model.model_fields.get(str(p))
        if field is None:
            return set()
        ann = field.annotation
        keyed = getattr(ann, "__origin__", None) is dict
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
        if model is None:
            args = getattr(ann, "__args__", ())
            inner = [a for a in args for a in getattr(a, "__args__", (a,))]
            model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return set(model.model_fields) if model is not None else set()


def _normalise(data: dict) -> dict:
    """String shorthands (``towers = "t.csv"``) as tables, so the schema has one form per key."""
    inputs = data.get("inputs")
    if isinstance(inputs, dict):
        inputs = {k: ({"path": v} if isinstance(v, str) else v) for k, v in inputs.items()}
        data = {**data, "inputs": inputs}
    return data


_ORDER = {"extra_forbidden": 0, "missing": 1}


def validate_types(data: Any, *, src: str) -> None:
    """Check ``data`` (a config as read from TOML) against the typed schema.

    Raises
    ------
    ConfigError
        One line per problem (at most 8): file, section, key, the value that arrived and its
        type, the expected type and an example.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{src}: expected a TOML document of tables; got {_kind(data)}.")
    try:
        _Top.model_validate(_normalise(data))
    except ValidationError as exc:
        errs = sorted(exc.errors(include_url=False), key=lambda e: _ORDER.get(e["type"], 2))
        lines = list(dict.fromkeys(_line(e, src, data) for e in errs))
        more = f"\n({len(lines) - 8} more problems not shown)" if len(lines) > 8 else ""
        raise ConfigError("\n".join(lines[:8]) + more) from None


# ------------------------------------------------------------------ calibration file
class _CalGroup(_Strict):
    operator: Annotated[str, Field(min_length=1)]
    technology: Literal["2G", "3G", "4G", "5G"]
    offset_db: Annotated[float, Field(ge=-60, le=60, allow_inf_nan=False)]
    spread_db: _NonNegNum | None = None
    dof: Annotated[int, Field(ge=0)] | None = None
    n: Annotated[int, Field(ge=0)] | None = None
    slope_db_per_decade: _Num | None = None
    reference_distance_km: _PosNum | None = None


class _CalTable(_Strict):
    model: Literal[MODEL_KINDS] | None = None  # type: ignore[valid-type]
    fitted_from: str = ""
    location_std_db: Annotated[float, Field(ge=0, lt=100, allow_inf_nan=False)] | None = None
    group: list[_CalGroup] = Field(default_factory=list)


class _CalFile(_Strict):
    calibration: _CalTable


_CAL_EXAMPLES = {
    "calibration": "[calibration]\\nmodel = \"hata\"\\n[[calibration.group]]\\noperator = \"Viettel\"\\n"
                   "technology = \"4G\"\\noffset_db = 2.5",
    "model": 'model = "hata"',
    "fitted_from": 'fitted_from = "drive_test.csv"',
    "location_std_db": "location_std_db = 6.0",
    "group": '[[calibration.group]]\\noperator = "Viettel"\\ntechnology = "4G"\\noffset_db = 2.5',
    "operator": 'operator = "Viettel"',
    "technology": 'technology = "4G"',
    "offset_db": "offset_db = 2.5  (dB, -60 to 60)",
    "spread_db": "spread_db = 6.1",
    "dof": "dof = 120",
    "n": "n = 121",
    "slope_db_per_decade": "slope_db_per_decade = -3.2",
    "reference_distance_km": "reference_distance_km = 2.5",
}


def validate_calibration_types(data: Any, *, src: str) -> None:
    """Check a calibration file (as read from TOML) against its schema.

    Raises
    ------
    ConfigError
        One line per problem (at most 8): file, table (``[[calibration.group]] #k``), key, what
        arrived, what is expected and an example.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{src}: expected a TOML document with a [calibration] table; got {_kind(data)}.")
    try:
        _CalFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in sorted(exc.errors(include_url=False), key=lambda e: _ORDER.get(e["type"], 2)):
            loc = list(err["loc"])
            if len(loc) >= 3 and loc[1] == "group" and isinstance(loc[2], int):
                where = f"[[calibration.group]] #{loc[2] + 1}"
                key = ".".join(str(p) for p in loc[3:])
            elif len(loc) >= 2:
                where, key = "[calibration]", ".".join(str(p) for p in loc[1:])
            else:
                where, key = "top level", ".".join(str(p) for p in loc)
            example = _CAL_EXAMPLES.get(key.split(".")[-1] if key else "calibration", "").replace("\\n", "; ")
            if err["type"] == "extra_forbidden":
                model = _CalGroup if where.startswith("[[") else _CalTable if where == "[calibration]" else _CalFile
                allowed = sorted(model.model_fields)
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                lines.append(f"{src}: unknown key {key!r} in {where}; known keys: {allowed}.{hint} "
                             "Fix: correct or remove the key.")
            elif err["type"] == "missing":
                lines.append(f"{src}: {where} needs {key!r}. Fix: add it, e.g. {example}.")
            else:
                value = err.get("input")
                lines.append(f"{src}: {where} {key} = {_plain(value)} ({_kind(value)}); expected "
                             f"{_expected(err)}. Fix: e.g. {example}.")
        lines = list(dict.fromkeys(lines))
        more = f"\n({len(lines) - 8} more problems not shown)" if len(lines) > 8 else ""
        raise ConfigError("\n".join(lines[:8]) + more) from None
