"""Choose a coverage model from the config: ``radius``, ``hata``, ``terrain`` or ``p1812``.

``auto`` picks the terrain model when a DEM is given (terrain decides who has signal in
the mountains) and the radius model otherwise.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..config import ModelConfig
from ..constants import MODEL_KINDS
from ..errors import ConfigError
from .base import CoverageModel
from .hata import HataModel
from .p1812_area import P1812Model
from .radius import RadiusModel
from .terrain import TerrainModel

__all__ = ["make_model", "MODEL_KINDS", "CoverageModel", "MODEL_CLASSES"]

#: The one registry of model kinds (:data:`covgap.constants.MODEL_KINDS`) and their classes.
MODEL_CLASSES: dict[str, type] = {"radius": RadiusModel, "hata": HataModel, "terrain": TerrainModel,
                                  "p1812": P1812Model}
#: Kinds that need a DEM.
_NEEDS_DEM = ("terrain", "p1812")

def _build(cls, options: dict[str, Any], section: str):
    params = inspect.signature(cls).parameters
    unknown = [k for k in options if k not in params or k == "name"]
    if unknown:
        known = sorted(k for k in params if k != "name")
        raise ConfigError(f"[model.{section}]: unknown key(s) {unknown}; known keys: {known}.")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"[model.{section}]: {exc}") from exc


def make_model(cfg: ModelConfig, *, has_dem: bool, kind: str | None = None) -> CoverageModel:
    """Build the model named by ``kind`` (or ``cfg.kind``).

    Examples
    --------
    >>> make_model(ModelConfig(kind="radius"), has_dem=False).name
    'radius'
    """
    kind = kind or cfg.kind
    if kind == "auto":
        kind = "terrain" if has_dem else "radius"
    if kind == "radius":
        return RadiusModel(radius_km=cfg.radius_km)
    if kind in MODEL_CLASSES:
        if kind in _NEEDS_DEM and not has_dem:
            raise ConfigError(f"model kind {kind!r} needs a DEM: set [inputs] dem = \"...\" or use kind = \"hata\".")
        return _build(MODEL_CLASSES[kind], dict(cfg.options.get(kind, {})), kind)
    raise ConfigError(f"unknown model kind {kind!r}; expected one of {MODEL_KINDS} or 'auto'.")
