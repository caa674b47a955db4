"""Choose a coverage model from the config: ``radius``, ``hata``, ``terrain`` or ``p1812``.

``auto`` picks the terrain model when a DEM is given (terrain decides who has signal in
the mountains) and the radius model otherwise.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any, Protocol

from .._config_schema import _kind, _plain
from ..constants import MODEL_KINDS
from ..errors import ConfigError
from .base import CoverageModel
from .calibrated import CalibratedModel
from .hata import HataModel
from .p1812_area import P1812Model
from .radius import RadiusModel
from .terrain import TerrainModel

__all__ = ["make_model", "check_model_options", "MODEL_KINDS", "CoverageModel", "MODEL_CLASSES", "ModelChoice",
           "CalibratedModel"]

class ModelChoice(Protocol):
    """What :func:`make_model` reads of a config's ``[model]`` section (:class:`covgap.config.ModelConfig`)."""

    kind: str
    radius_km: Mapping[str, float]
    options: Mapping[str, Mapping[str, Any]]
    #: Optional (``getattr``): the fitted calibration (:class:`covgap.config.CalibrationConfig`) or None.
    # calibration: CalibrationConfig | None


#: The one registry of model kinds (:data:`covgap.constants.MODEL_KINDS`) and their classes.
MODEL_CLASSES: dict[str, type] = {"radius": RadiusModel, "hata": HataModel, "terrain": TerrainModel,
                                  "p1812": P1812Model}
#: Kinds that need a DEM.
_NEEDS_DEM = ("terrain", "p1812")

#: Constructor arguments that are data, not config options (the land cover comes from [landcover]).
_NOT_OPTIONS = frozenset({"name", "clutter_height_m", "zone", "landcover_grid", "landcover_source"})


def _build(cls, options: dict[str, Any], section: str, data: dict[str, Any] | None = None):
    params = inspect.signature(cls).parameters
    unknown = [k for k in options if k not in params or k in _NOT_OPTIONS]
    if unknown:
        known = sorted(k for k in params if k not in _NOT_OPTIONS)
        raise ConfigError(f"[model.{section}]: unknown key(s) {unknown}; known keys: {known}.")
    for key, value in options.items():
        _check_option_type(section, key, value, params[key])
    try:
        return cls(**options, **(data or {}))
    except TypeError as exc:
        raise ConfigError(f"[model.{section}]: {exc}") from exc


_OPTION_TYPES = {  # annotation (as written) -> (accepts, expected)
    "str": (lambda v: isinstance(v, str), "text in quotes"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "float | None": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "bool": (lambda v: isinstance(v, bool), "true or false (a TOML boolean, without quotes)"),
}


def _check_option_type(section: str, key: str, value: Any, param: inspect.Parameter) -> None:
    """A model option of the wrong type is a message naming section, key, expected type and an example."""
    ann = param.annotation if isinstance(param.annotation, str) else getattr(param.annotation, "__name__", "")
    if ann.startswith("Mapping"):
        ok, expected = isinstance(value, dict), "a table"
    elif ann in _OPTION_TYPES:
        accepts, expected = _OPTION_TYPES[ann]
        ok = accepts(value)
    else:
        return
    if not ok:
        default = param.default
        if expected == "a table":
            example = f'{key} = {{ "4G" = ... }}'
        elif default not in (None, inspect.Parameter.empty):
            example = f"{key} = {_plain(default)} (the default)"
        else:
            example = f"{key} = 10.0"
        raise ConfigError(f"[model.{section}] {key} = {_plain(value)} ({_kind(value)}); expected {expected}. "
                          f"Fix: e.g. {example}.")


def check_model_options(cfg: ModelChoice, *, src: str = "config") -> None:
    """Check the names and types of the ``[model.<kind>]`` options before any input is loaded.

    ``src`` names the config file in the messages.
    """
    for kind, cls in MODEL_CLASSES.items():
        if kind == "radius":
            continue
        options = cfg.options.get(kind) or {}
        params = inspect.signature(cls).parameters
        unknown = [k for k in options if k not in params or k in _NOT_OPTIONS]
        if unknown:
            known = sorted(k for k in params if k not in _NOT_OPTIONS)
            close = [c for u in unknown for c in difflib.get_close_matches(u, known, n=1)]
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{src}: unknown key(s) {unknown} in [model.{kind}]; known keys: {known}.{hint} "
                              "Fix: correct or remove the key.")
        for key, value in options.items():
            try:
                _check_option_type(kind, key, value, params[key])
            except ConfigError as exc:
                raise ConfigError(f"{src}: {exc}") from None


def make_model(cfg: ModelChoice, *, has_dem: bool, kind: str | None = None,
               landcover: Any = None) -> CoverageModel:
    """Build the model named by ``kind`` (or ``cfg.kind``).

    ``landcover`` (a :class:`covgap.landcover.LandCover` on the study grid, from ``[landcover]``)
    reaches the P.1812 model (clutter height and radio-climatic zone per profile point); the
    other models do not read it (Hata's environments already average clutter).

    ``cfg.location_percent`` (``[model] location_percent``) reaches every model with a location
    spread (hata, terrain, p1812); the radius model has none (its coverage is 0/1).

    ``cfg.calibration`` (``[model] calibration``, when set) wraps the model in a
    :class:`CalibratedModel` with its offsets per operator × technology, and its
    ``location_std_db`` (when given) becomes the model's σL, and its distance slopes are applied
    (hata, terrain). Refused (:class:`ConfigError`) for the radius model, for a model kind other
    than the one the calibration was fitted with, for a σL with a model that computes its own
    (p1812), and for slopes with a model without a log-distance path loss (p1812).

    Examples
    --------
    >>> from covgap.config import ModelConfig
    >>> make_model(ModelConfig(kind="radius"), has_dem=False).name
    'radius'
    """
    kind = kind or cfg.kind
    if kind == "auto":
        kind = "terrain" if has_dem else "radius"
    cal = getattr(cfg, "calibration", None)
    if cal is not None and cal.model and cal.model != kind:
        raise ConfigError(f"the calibration {cal.path} was fitted with the {cal.model!r} model; this run uses "
                          f"{kind!r}. Offsets fitted for one model do not apply to another. Fix: run with "
                          f"--model {cal.model}, or fit again with `covgap calibrate ... --model {kind}`.")
    if kind == "radius":
        if cal is not None:
            raise ConfigError(f"[model] calibration = {str(cal.path)!r} needs a signal model (hata, terrain, "
                              "p1812); the radius model has no signal to calibrate. Fix: choose a signal model "
                              "or remove the calibration key.")
        return RadiusModel(radius_km=cfg.radius_km)
    if kind in MODEL_CLASSES:
        if kind in _NEEDS_DEM and not has_dem:
            raise ConfigError(f"model kind {kind!r} needs a DEM: set [inputs] dem = \"...\" or use kind = \"hata\".")
        options = dict(cfg.options.get(kind, {}))
        top = cfg.location_percent
        if top is not None:
            given = options.get("location_percent")
            if given is not None and given != top:
                raise ConfigError(f"[model] location_percent = {top:g} and [model.{kind}] location_percent = "
                                  f"{given!r} disagree. Fix: set it once, in [model].")
            options["location_percent"] = top
        if cal is not None and cal.location_std_db is not None:
            if "location_std_db" not in inspect.signature(MODEL_CLASSES[kind]).parameters:
                raise ConfigError(f"the calibration {cal.path} sets location_std_db = {cal.location_std_db:g}, and "
                                  f"the {kind!r} model computes its own location spread. Fix: remove "
                                  "location_std_db from the calibration file to keep the model's.")
            given = options.get("location_std_db")
            if given is not None and given != cal.location_std_db:
                raise ConfigError(f"[model.{kind}] location_std_db = {given!r} and the calibration {cal.path} "
                                  f"(location_std_db = {cal.location_std_db:g}) disagree. Fix: keep one of them.")
            options["location_std_db"] = cal.location_std_db
        data = None
        if kind == "p1812" and landcover is not None:
            data = {"clutter_height_m": landcover.clutter_height_m, "zone": landcover.zone,
                    "landcover_grid": landcover.grid, "landcover_source": landcover.source}
        model = _build(MODEL_CLASSES[kind], options, kind, data)
        if cal is not None:
            return CalibratedModel(model, cal.offsets_db, source=str(cal.path), slopes=getattr(cal, "slopes", {}))
        return model
    raise ConfigError(f"unknown model kind {kind!r}; expected one of {MODEL_KINDS} or 'auto'.")
