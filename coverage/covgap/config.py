"""Run configuration: a small, validated TOML file naming the inputs and the model.

Every key and every type is checked (a typed schema, :mod:`covgap._config_schema`): an unknown
key is an error that names the key, the section and the closest known key; a wrong type
(``synthetic = "no"``, ``snap_cells = true``, ``border_belt_km = "twenty"``) names the section,
the key, the expected type and an example. Paths are relative to the config file's folder. ``covgap demo`` writes
the config it used next to its outputs; copy and edit it for a real study area.

See ``data/example.toml`` for a commented example of every section.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import BORDER_BELT_KM, DEFAULT_REACH_KM, MODEL_KINDS
from .errors import ConfigError, DataFileError
from .models import check_model_options
from .models.location import check_location_percent

__all__ = [
    "InputRef",
    "model_reach_km",
    "AdminLevelConfig",
    "ModelConfig",
    "CalibrationConfig",
    "load_calibration",
    "GapsConfig",
    "ReportConfig",
    "PopulationAdjustConfig",
    "UncertaintyConfig",
    "LandCoverConfig",
    "Config",
    "load_config",
    "parse_config",
    "read_toml",
]


@dataclass(frozen=True)
class InputRef:
    """One input file and what to say about where it came from."""

    path: Path
    layer: str | None = None
    source: str = ""
    release: str = ""
    licence: str = ""
    url: str = ""
    encoding: str | None = None

    def provenance(self) -> dict[str, str]:
        """Fields for the report's Sources table (path added by the caller)."""
        return {"source": self.source, "release": self.release, "licence": self.licence, "url": self.url}


@dataclass(frozen=True)
class AdminLevelConfig:
    """One admin level: a polygon layer with a code and a name field."""

    level: str
    ref: InputRef
    code_field: str
    name_field: str
    parent_field: str | None = None
    vietnam: str | None = None
    dissolve_to_current: str | None = None
    vn2025: str | None = None  # "province" | "commune": ``ref.path`` is a vietnamese-provinces-database tree
    provinces: tuple[str, ...] | None = None  # with vn2025: only these 2-digit province codes


@dataclass(frozen=True)
class CalibrationConfig:
    """A fitted calibration (``[model] calibration = "calibration.toml"``, written by ``covgap calibrate``).

    ``offsets_db[(operator, technology)]`` is added to the predicted signal of that pair's
    transmitters (:class:`covgap.models.CalibratedModel`); ``location_std_db``, when set, replaces
    the model's location spread σL; ``model`` is the model kind the offsets were fitted with (a
    run with another kind is refused). ``groups`` keeps every fitted figure (spread, degrees of
    freedom, slope) for provenance. ``slopes[(operator, technology)]`` = (slope_db_per_decade,
    reference_distance_km) where the file gives a slope: ``covgap run`` applies it too (the signal
    gets ``+ slope·(log10 d − log10 d_ref)``, d the distance to the transmitter).
    """

    path: Path
    offsets_db: dict[tuple[str, str], float]
    location_std_db: float | None = None
    model: str | None = None
    fitted_from: str = ""
    groups: tuple[dict[str, Any], ...] = ()
    slopes: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelConfig:
    """Coverage model choice and its parameters.

    ``kind`` is ``radius``, ``hata``, ``terrain`` or ``p1812``; ``auto`` (default) picks ``terrain``
    when a DEM is given and ``radius`` otherwise. ``location_percent`` (1-99; ``None`` = not set,
    the models' default 50) is the location percentage coverage is computed at, for every model
    with a location spread (see :mod:`covgap.models.location`).
    """

    kind: str = "auto"
    radius_km: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    location_percent: float | None = None
    #: ``[model] calibration``: fitted offsets per operator × technology (:func:`load_calibration`).
    calibration: CalibrationConfig | None = None


@dataclass(frozen=True)
class GapsConfig:
    """Gap cluster options."""

    min_population: float = 10.0
    connectivity: int = 8
    border_belt_km: float = BORDER_BELT_KM
    technology: str = "any"
    #: People reached only by a neighbouring country's network count as covered (default: no).
    count_foreign: bool = False
    #: Tower-data confidence rule (covgap.neighbours): a gap with fewer than ``thin_min_sites``
    #: sites within ``thin_radius_km`` of its centre is flagged ``tower_data_thin``.
    thin_radius_km: float = 20.0
    thin_min_sites: int = 3


@dataclass(frozen=True)
class ReportConfig:
    """Report options."""

    lang: str = "en"
    title: str = ""


@dataclass(frozen=True)
class PopulationAdjustConfig:
    """``[population] adjust_to``: official totals per unit (CSV: code, population, year, source)
    that the grid is rescaled to inside each unit of admin level ``level`` (default: the first)."""

    totals: InputRef
    level: str


@dataclass(frozen=True)
class UncertaintyConfig:
    """``[uncertainty]``: the spread of each input and the ensemble size (see :mod:`covgap.uncertainty`).

    ``link_budget_db`` maps technology → 1-sigma dB (a single number in the file applies to
    every technology: key ``"*"``); ``location_db`` is dB or ``"model"`` (the model's σL);
    ``population`` are alternative people-per-cell grids, drawn uniformly per member together
    with the run's own grid.
    """

    members: int = 50
    seed: int = 0
    link_budget_db: dict[str, float] = field(default_factory=dict)
    location_db: float | str = 0.0
    location_correlation_m: float = 120.0
    tower_position_m: float = 0.0
    population: tuple[InputRef, ...] = ()
    top_n: int = 10


@dataclass(frozen=True)
class LandCoverConfig:
    """``[landcover]``: class codes for P.1812's clutter and zones (``covgap.landcover``).

    ``ref`` is a GeoTIFF of class codes (ESA WorldCover) or a folder of them (the tiles
    ``covgap fetch`` caches); ``table`` replaces covgap's WorldCover → P.1812 table; ``classes``
    overrides single classes (``{"50": {"category": 5, "height_m": 20.0}}``); ``coast_km`` and
    ``coastal_max_height_m`` set the coastal-land zone (P.452 Table 3: 50 km, 100 m).
    """

    ref: InputRef
    table: InputRef | None = None
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    coast_km: float = 50.0
    coastal_max_height_m: float = 100.0


@dataclass(frozen=True)
class Config:
    """A validated run configuration."""

    path: Path | None
    name: str
    synthetic: bool
    population: InputRef
    admin: tuple[AdminLevelConfig, ...]
    towers: InputRef
    dem: InputRef | None = None
    hamlets: InputRef | None = None
    border: InputRef | None = None
    foreign_towers: InputRef | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    gaps: GapsConfig = field(default_factory=GapsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    snap_cells: int = 2
    overlap_tolerance_km2: float = 0.01
    #: ``[study] pad_km``: the analysis grid is the population raster's grid grown by whole cells
    #: spanning at least this many km on every side, with zero people there (0: not padded).
    pad_km: float = 0.0
    #: How ``pad_km`` was set: ``""`` (a number in the file) or the rule ``"reach"`` resolved to.
    pad_rule: str = ""
    border_arc: tuple[tuple[float, float], ...] | None = None
    population_adjust: PopulationAdjustConfig | None = None
    #: ``[uncertainty]``: run an ensemble next to the deterministic run (None: no ensemble).
    uncertainty: UncertaintyConfig | None = None
    #: ``[landcover]``; ``None``: P.1812 runs open/rural and inland everywhere (and says so).
    landcover: LandCoverConfig | None = None
    #: The file has a ``[sources]`` table (what ``covgap fetch`` downloads; validated by
    #: :func:`covgap.sources.fetch.parse_sources`, which ``covgap run`` also calls).
    has_sources: bool = False

    def inputs(self) -> dict[str, InputRef]:
        """All input files by role (admin levels as ``admin:<level>``)."""
        out = {"population": self.population, "towers": self.towers}
        for role in ("dem", "hamlets", "border", "foreign_towers"):
            ref = getattr(self, role)
            if ref is not None:
                out[role] = ref
        for a in self.admin:
            out[f"admin:{a.level}"] = a.ref
        if self.population_adjust is not None:
            out["population_totals"] = self.population_adjust.totals
        if self.landcover is not None:
            out["landcover"] = self.landcover.ref
            if self.landcover.table is not None:
                out["landcover_table"] = self.landcover.table
        if self.model.calibration is not None:
            out["calibration"] = InputRef(path=self.model.calibration.path, source="covgap calibrate")
        if self.uncertainty is not None:
            for k, ref in enumerate(self.uncertainty.population):
                out[f"uncertainty_population:{k + 1}"] = ref
        return out


_TOP = {"study", "inputs", "admin", "model", "gaps", "report", "sources", "population", "uncertainty", "landcover"}
_STUDY = {"name", "synthetic", "snap_cells", "overlap_tolerance_km2", "pad_km"}
_INPUTS = {"population", "dem", "towers", "hamlets", "border", "foreign_towers"}
_REF = {"path", "layer", "source", "release", "licence", "url", "encoding"}
_ADMIN = {"level", "path", "layer", "code_field", "name_field", "parent_field", "source", "release",
          "licence", "url", "encoding", "vietnam", "dissolve_to_current", "vn2025", "provinces"}
_MODEL = {"kind", "radius_km", "location_percent", "hata", "terrain", "p1812", "calibration"}
_GAPS = {"min_population", "connectivity", "border_belt_km", "technology", "count_foreign", "thin_radius_km",
         "thin_min_sites"}
_REPORT = {"lang", "title"}
_POPULATION = {"adjust_to", "level"}
_MODEL_KINDS = ("auto", *MODEL_KINDS)


def _check_keys(table: dict, allowed: set[str], where: str, src: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{src}: unknown key {key!r} in [{where}]; known keys: {sorted(allowed)}.{hint} "
                "Fix: correct or remove the key."
            )


def _need(table: dict, key: str, where: str, src: str, kind: type | tuple = str):
    if key not in table:
        raise ConfigError(f"{src}: [{where}] needs {key!r}. Fix: add `{key} = ...` to that section.")
    val = table[key]
    if not isinstance(val, kind):
        raise ConfigError(f"{src}: [{where}] {key} = {val!r}; expected {getattr(kind, '__name__', kind)}.")
    return val


def _ref(value, where: str, base: Path, src: str) -> InputRef:
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        raise ConfigError(f"{src}: {where} must be a path string or a table with 'path'; got {value!r}.")
    _check_keys(value, _REF, where, src)
    path = Path(_need(value, "path", where, src))
    if not path.is_absolute():
        path = (base / path).resolve()
    return InputRef(path=path, layer=value.get("layer"), source=str(value.get("source", "")),
                    release=str(value.get("release", "")), licence=str(value.get("licence", "")),
                    url=str(value.get("url", "")), encoding=value.get("encoding"))


def _int(v, where: str, src: str) -> int:
    if not isinstance(v, int) or v < 0:
        raise ConfigError(f"{src}: {where} = {v!r}; expected a whole number ≥ 0.")
    return v



def _pad_km(v, data: dict, src: str) -> dict[str, Any]:
    """``[study] pad_km``: kilometres ≥ 0, or ``"reach"`` = ``[sources] reach_km`` when given (the grid then
    reaches as far as ``covgap fetch`` fetched DEM and land cover), else the largest of 20 km, every
    ``[model.*] max_radius_km`` and every ``[model.radius_km]`` value."""
    if v != "reach":
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 3000:
            raise ConfigError(f"{src}: [study] pad_km = {v!r}; expected kilometres in 0-3000 or \"reach\". "
                              "Fix: e.g. pad_km = 20.0, or remove the key for no padding.")
        return {"pad_km": float(v), "pad_rule": ""}
    sources = data.get("sources") if isinstance(data.get("sources"), dict) else {}
    r = sources.get("reach_km")
    if isinstance(r, int | float) and not isinstance(r, bool) and 0 <= r <= 3000:
        return {"pad_km": float(r), "pad_rule": "reach: [sources] reach_km"}
    reach, why = model_reach_km(data)
    return {"pad_km": reach, "pad_rule": f"reach: {why}"}


def model_reach_km(data: Mapping[str, Any]) -> tuple[float, str]:
    """The farthest a configured model reaches (km) and which key says so: the largest of
    :data:`~covgap.constants.DEFAULT_REACH_KM`, every ``[model.*] max_radius_km`` and every
    ``[model.radius_km]`` value (``data``: the parsed TOML). The one rule behind ``pad_km = "reach"``
    and how far ``covgap fetch`` fetches terrain and land cover when ``[sources] reach_km`` is not given.

    Examples
    --------
    >>> model_reach_km({"model": {"terrain": {"max_radius_km": 35.0}, "radius_km": {"2G": 12.0}}})
    (35.0, '[model.terrain] max_radius_km')
    >>> model_reach_km({})
    (20.0, 'default 20 km')
    """
    reach, why = DEFAULT_REACH_KM, f"default {DEFAULT_REACH_KM:g} km"
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    for key, opts in model.items():
        vals = (opts.values() if key == "radius_km" else [opts.get("max_radius_km")]) if isinstance(opts, dict) else []
        for x in vals:
            if isinstance(x, int | float) and not isinstance(x, bool) and x > reach:
                reach = float(x)
                why = f"[model.{key}] " + ("radius" if key == "radius_km" else "max_radius_km")
    return reach, why


def _vn2025(a: dict, where: str, src: str, vn) -> tuple[str | None, tuple[str, ...] | None]:
    """``vn2025 = "province" | "commune"`` (path = a vietnamese-provinces-database folder), ``provinces``."""
    kind = a.get("vn2025")
    provs = a.get("provinces")
    if kind is None:
        if provs is not None:
            raise ConfigError(f"{src}: [{where}] provinces needs vn2025 = \"province\" or \"commune\".")
        return None, None
    if kind not in ("province", "commune"):
        raise ConfigError(f"{src}: [{where}] vn2025 = {kind!r}; expected \"province\" (the 34 provinces) or "
                          "\"commune\" (the 3,321 communes) of a vietnamese-provinces-database folder given as path.")
    if vn is not None:
        raise ConfigError(f"{src}: [{where}] vn2025 and vietnam = {vn!r} exclude each other; give each its own [[admin]].")
    if provs is not None:
        if not (isinstance(provs, list) and provs and all(isinstance(c, str | int) for c in provs)):
            raise ConfigError(f"{src}: [{where}] provinces = {provs!r}; expected a list of 2-digit codes like [\"04\", \"11\"].")
        provs = tuple(str(c).zfill(2) for c in provs)
    return kind, provs


def parse_config(data: dict, *, base: Path, src: str = "config") -> Config:
    """Validate a config mapping (as read from TOML) and build a :class:`Config`.

    Examples
    --------
    >>> cfg = parse_config({"inputs": {"population": "p.tif", "towers": "t.csv"},
    ...                     "admin": [{"level": "province", "path": "a.gpkg", "code_field": "code",
    ...                                "name_field": "name"}]}, base=Path("/data"))
    >>> cfg.population.path.name, cfg.model.kind
    ('p.tif', 'auto')
    """
    from ._config_schema import validate_types

    validate_types(data, src=src)
    _check_keys(data, _TOP, "top level", src)
    study = data.get("study", {})
    _check_keys(study, _STUDY, "study", src)
    inputs = _need(data, "inputs", "top level", src, dict)
    _check_keys(inputs, _INPUTS, "inputs", src)
    admins_raw = _need(data, "admin", "top level", src, list)
    if not admins_raw:
        raise ConfigError(f"{src}: [[admin]] is empty; give at least one admin level (e.g. provinces).")
    admins = []
    seen = set()
    for i, a in enumerate(admins_raw):
        where = f"admin #{i + 1}"
        if not isinstance(a, dict):
            raise ConfigError(f"{src}: {where} must be a table.")
        _check_keys(a, _ADMIN, where, src)
        level = _need(a, "level", where, src)
        if level in seen:
            raise ConfigError(f"{src}: admin level {level!r} appears twice. Fix: give each level a unique name.")
        seen.add(level)
        ref = _ref({k: v for k, v in a.items() if k in _REF}, where, base, src)
        vn = a.get("vietnam")
        if vn not in (None, "former63"):
            raise ConfigError(f"{src}: [{where}] vietnam = {vn!r}; expected \"former63\" (a layer of the 63 former "
                              "provinces, matched by name to official codes).")
        dissolve = a.get("dissolve_to_current")
        if dissolve is not None and vn != "former63":
            raise ConfigError(f"{src}: [{where}] dissolve_to_current needs vietnam = \"former63\".")
        if dissolve is not None:
            if dissolve in seen:
                raise ConfigError(f"{src}: admin level {dissolve!r} appears twice.")
            seen.add(dissolve)
        vn25, provs = _vn2025(a, where, src, vn)
        if vn25 is not None:  # the units carry `code` and `name`; the commune level its province
            a = {"code_field": "code", "name_field": "name", **a}
        for key, what in (("code_field", "code"), ("name_field", "name")):
            if key not in a:
                raise ConfigError(f"{src}: [[admin]] #{i + 1} needs {key!r} (the layer's field holding the unit "
                                  f"{what}). Fix: e.g. {key} = \"{what}\", or vn2025 = \"province\" for a "
                                  "vietnamese-provinces-database folder.")
        admins.append(AdminLevelConfig(level=level, ref=ref, code_field=_need(a, "code_field", where, src),
                                       name_field=_need(a, "name_field", where, src),
                                       parent_field=a.get("parent_field"), vietnam=vn,
                                       dissolve_to_current=dissolve, vn2025=vn25, provinces=provs))
    model = data.get("model", {})
    _check_keys(model, _MODEL, "model", src)
    kind = model.get("kind", "auto")
    if kind not in _MODEL_KINDS:
        raise ConfigError(f"{src}: [model] kind = {kind!r}; expected one of {_MODEL_KINDS}.")
    radius = model.get("radius_km", {})
    if not isinstance(radius, dict):
        raise ConfigError(f"{src}: [model.radius_km] must be a table like {{ \"4G\" = 4.0 }}.")
    options = {k: dict(model[k]) for k in ("hata", "terrain", "p1812") if k in model}
    location_percent = None
    if "location_percent" in model:
        location_percent = check_location_percent(model["location_percent"], where=f"{src}: [model] location_percent")
    if any(options.values()):  # names and types of the model options, before any input is loaded
        check_model_options(ModelConfig(kind=kind, options=options), src=src)
    calibration = None
    if model.get("calibration") is not None:
        cal_path = Path(model["calibration"])
        calibration = load_calibration(cal_path if cal_path.is_absolute() else (base / cal_path).resolve(),
                                       referenced_by=f"{src}: [model] calibration")
    gaps = data.get("gaps", {})
    _check_keys(gaps, _GAPS, "gaps", src)
    gcfg = GapsConfig(**{k: v for k, v in gaps.items()})
    if gcfg.connectivity not in (4, 8):
        raise ConfigError(f"{src}: [gaps] connectivity = {gcfg.connectivity}; expected 4 or 8.")
    if gcfg.technology not in ("any", "2G", "3G", "4G", "5G"):
        raise ConfigError(f"{src}: [gaps] technology = {gcfg.technology!r}; expected 'any', '2G', '3G', '4G' or '5G'.")
    if gcfg.min_population < 0:
        raise ConfigError(f"{src}: [gaps] min_population = {gcfg.min_population}; expected ≥ 0.")
    report = data.get("report", {})
    _check_keys(report, _REPORT, "report", src)
    rcfg = ReportConfig(**report)
    if rcfg.lang not in ("en", "vi"):
        raise ConfigError(f"{src}: [report] lang = {rcfg.lang!r}; expected 'en' or 'vi'.")
    border_arc = None
    if isinstance(inputs.get("border"), dict) and any(k.startswith("arc_") for k in inputs["border"]):
        b = dict(inputs["border"])
        pts = []
        for k in ("arc_from", "arc_via", "arc_to"):
            v = b.pop(k, None)
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)):
                raise ConfigError(f"{src}: [inputs.border] needs arc_from, arc_via and arc_to as [lon, lat] "
                                  f"when the border is taken from a country outline; {k} = {v!r}.")
            pts.append((float(v[0]), float(v[1])))
        inputs = {**inputs, "border": b}
        border_arc = tuple(pts)
    opt = {r: _ref(inputs[r], f"inputs.{r}", base, src) for r in ("dem", "hamlets", "border", "foreign_towers")
           if r in inputs}
    adjust = _population_adjust(data.get("population", {}), admins, base, src)
    uncertainty = _uncertainty(data["uncertainty"], base, src) if "uncertainty" in data else None
    landcover = _landcover(data["landcover"], base, src) if "landcover" in data else None
    return Config(
        path=None,
        has_sources="sources" in data,
        name=str(study.get("name", "study area")),
        synthetic=bool(study.get("synthetic", False)),
        snap_cells=_int(study.get("snap_cells", 2), "study.snap_cells", src),
        overlap_tolerance_km2=float(study.get("overlap_tolerance_km2", 0.01)),
        **_pad_km(study.get("pad_km", 0.0), data, src),
        border_arc=border_arc,
        population=_ref(_need(inputs, "population", "inputs", src, (str, dict)), "inputs.population", base, src),
        towers=_ref(_need(inputs, "towers", "inputs", src, (str, dict)), "inputs.towers", base, src),
        admin=tuple(admins),
        model=ModelConfig(kind=kind, radius_km=dict(radius), options=options, location_percent=location_percent,
                          calibration=calibration),
        gaps=gcfg,
        report=rcfg,
        population_adjust=adjust,
        uncertainty=uncertainty,
        landcover=landcover,
        **opt,
    )


def _landcover(table: dict, base: Path, src: str) -> LandCoverConfig:
    """``[landcover]``: path (+ provenance), table, classes, coast_km, coastal_max_height_m (types checked by
    the schema; the class overrides are checked against the default table here, before any file is read)."""
    from .landcover import default_table

    ref = _ref({k: v for k, v in table.items() if k in _REF}, "landcover", base, src)
    tref = _ref(table["table"], "landcover.table", base, src) if table.get("table") else None
    classes = {str(k): {kk: vv for kk, vv in v.items() if vv is not None} for k, v in (table.get("classes") or {}).items()}
    if tref is None:  # a user's table is checked when it is read (covgap.io.read_landcover_table)
        default_table().with_overrides(classes, where=f"{src}: [landcover.classes]")
    return LandCoverConfig(ref=ref, table=tref, classes=classes, coast_km=float(table.get("coast_km", 50.0)),
                           coastal_max_height_m=float(table.get("coastal_max_height_m", 100.0)))


def _population_adjust(table, admins: list[AdminLevelConfig], base: Path, src: str) -> PopulationAdjustConfig | None:
    """``[population]``: ``adjust_to`` (totals CSV) and ``level`` (an admin level name)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{src}: [population] must be a table, e.g. `adjust_to = \"totals.csv\"`.")
    _check_keys(table, _POPULATION, "population", src)
    if "adjust_to" not in table:
        if "level" in table:
            raise ConfigError(f"{src}: [population] level needs adjust_to (the totals CSV).")
        return None
    levels = [a.level for a in admins] + [a.dissolve_to_current for a in admins if a.dissolve_to_current]
    level = table.get("level", admins[0].level)
    if level not in levels:
        raise ConfigError(f"{src}: [population] level = {level!r}; expected one of the admin levels {levels}.")
    return PopulationAdjustConfig(totals=_ref(table["adjust_to"], "population.adjust_to", base, src), level=level)


def _dbs(v: Any) -> bool:
    """A finite number ≥ 0 (not a boolean)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and 0 <= v < float("inf")


def _uncertainty(table: dict, base: Path, src: str) -> UncertaintyConfig:
    """``[uncertainty]`` (types already checked by the schema): technologies, paths, what a key means."""
    from ._config_schema import _plain

    lb = table.get("link_budget_db", 0.0)
    fix = 'Fix: e.g. link_budget_db = 3.0 (every technology) or link_budget_db = { "2G" = 2.0, "4G" = 3.0 }.'
    if _dbs(lb):
        link = {"*": float(lb)}
    elif isinstance(lb, dict) and all(_dbs(v) for v in lb.values()) and set(lb) <= {"2G", "3G", "4G", "5G"}:
        link = {str(k): float(v) for k, v in lb.items()}
    else:
        bad = ([k for k in lb if k not in ("2G", "3G", "4G", "5G")] if isinstance(lb, dict) else [])
        what = (f"unknown technology {bad[0]!r} (expected 2G, 3G, 4G or 5G)" if bad
                else "expected dB ≥ 0 (1-sigma), or a table of technology = dB")
        raise ConfigError(f"{src}: [uncertainty] link_budget_db = {_plain(lb)}; {what}. {fix}")
    loc = table.get("location_db", 0.0)
    if not (_dbs(loc) or loc == "model"):
        raise ConfigError(f"{src}: [uncertainty] location_db = {_plain(loc)}; expected dB ≥ 0 (1-sigma) or \"model\" "
                          "(the model's own location spread, e.g. 5.5 dB for hata and terrain). "
                          "Fix: e.g. location_db = \"model\" or location_db = 4.0.")
    refs = []
    for k, p in enumerate(table.get("population", [])):
        refs.append(_ref(p, f"uncertainty.population #{k + 1}", base, src))
    seen = [str(r.path) for r in refs]
    if len(set(seen)) != len(seen):
        dup = next(p for p in seen if seen.count(p) > 1)
        raise ConfigError(f"{src}: [uncertainty] population names {dup} twice; each alternative grid would then be "
                          "drawn twice as often. Fix: list each file once.")
    return UncertaintyConfig(members=int(table.get("members", 50)), seed=int(table.get("seed", 0)),
                             link_budget_db=link, location_db=loc if isinstance(loc, str) else float(loc),
                             location_correlation_m=float(table.get("location_correlation_m", 120.0)),
                             tower_position_m=float(table.get("tower_position_m", 0.0)),
                             population=tuple(refs), top_n=int(table.get("top_n", 10)))


def read_toml(path: str | Path) -> dict:
    """Read a TOML file; a missing, unreadable, non-UTF-8 or empty file, a folder or bad syntax is an
    error naming the file and the fix."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.toml"))[:3]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise DataFileError(f"config path {path} is a folder{hint}; expected a TOML file. "
                            f"Fix: name the file, e.g. {path / (inside[0] if inside else 'covgap.toml')}.")
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataFileError(f"config file {path} does not exist. Fix: check the path.") from exc
    except OSError as exc:
        raise DataFileError(f"config file {path} cannot be read: {exc.strerror}. "
                            "Fix: check the path and its permissions.") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); a TOML config "
                          "must be UTF-8. Fix: save the file as UTF-8 (e.g. `iconv -f cp1258 -t utf-8`).") from exc
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}. Fix: correct the syntax at that line.") from exc
    if not data:
        what = "empty" if not text.strip() else "empty (only comments or blank lines)"
        raise ConfigError(f"{path}: the config file is {what}. Fix: start from the config `covgap demo` writes "
                          "(out/demo/covgap.toml) and point its paths at your data.")
    return data


def load_calibration(path: str | Path, *, referenced_by: str = "") -> CalibrationConfig:
    """Read and validate a calibration file (the ``[calibration]`` table ``covgap calibrate`` writes).

    Every key and type is checked (an unknown key names the closest known one); an operator ×
    technology given twice is an error naming both groups.

    Raises
    ------
    DataFileError
        The file is missing or unreadable (the message names the config key that points at it).
    ConfigError
        Bad TOML, an unknown key, a wrong type or value.
    """
    from ._config_schema import validate_calibration_types

    path = Path(path)
    if not path.exists():
        where = f" ({referenced_by})" if referenced_by else ""
        raise DataFileError(f"calibration file {path} does not exist{where}. Fix: check the path (relative to the "
                            "config's folder), or write it with `covgap calibrate CONFIG MEASUREMENTS --out DIR` "
                            "(DIR/calibration.toml).")
    data = read_toml(path)
    validate_calibration_types(data, src=str(path))
    table = data["calibration"]
    offsets: dict[tuple[str, str], float] = {}
    first: dict[tuple[str, str], int] = {}
    slopes: dict[tuple[str, str], tuple[float, float]] = {}
    groups = []
    for i, g in enumerate(table.get("group", [])):
        key = (str(g["operator"]).strip(), str(g["technology"]))
        if key in offsets:
            raise ConfigError(f"{path}: [[calibration.group]] #{i + 1} repeats {key[0]} {key[1]} (already group "
                              f"#{first[key] + 1}). Fix: keep one offset per operator x technology.")
        offsets[key] = float(g["offset_db"])
        first[key] = i
        groups.append(dict(g))
        slope, ref = g.get("slope_db_per_decade"), g.get("reference_distance_km")
        if (slope is None) != (ref is None):
            given, missing = (("slope_db_per_decade", "reference_distance_km") if ref is None
                              else ("reference_distance_km", "slope_db_per_decade"))
            raise ConfigError(f"{path}: [[calibration.group]] #{i + 1} ({key[0]} {key[1]}) gives {given} without "
                              f"{missing}; a slope is applied about its reference distance. Fix: give both (as "
                              "`covgap calibrate` writes them) or neither.")
        if slope is not None:
            if not float(slope) < 20.0:
                raise ConfigError(f"{path}: [[calibration.group]] #{i + 1} ({key[0]} {key[1]}) slope_db_per_decade = "
                                  f"{slope!r}; expected below 20 dB/decade (at 20 the path loss would stop growing "
                                  "with distance). Fix: check the measurements, or refit with `covgap calibrate "
                                  "--no-slope`.")
            slopes[key] = (float(slope), float(ref))
    lstd = table.get("location_std_db")
    return CalibrationConfig(path=path.resolve(), offsets_db=offsets,
                             location_std_db=None if lstd is None else float(lstd), model=table.get("model"),
                             fitted_from=str(table.get("fitted_from", "")), groups=tuple(groups), slopes=slopes)


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML run configuration."""
    path = Path(path)
    data = read_toml(path)
    cfg = parse_config(data, base=path.resolve().parent, src=str(path))
    return Config(**{**cfg.__dict__, "path": path.resolve()})
