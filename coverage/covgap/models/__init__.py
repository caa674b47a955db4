"""Choose a coverage model from the config: ``radius``, ``hata``, ``terrain`` or ``p1812``.

``auto`` picks the terrain model when a DEM is given (terrain decides who has signal in
the mountains) and the radius model otherwise.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..config import ModelConfig
from ..engine import CoverageModel
from ..errors import ConfigError
from ..radius import RadiusModel

__all__ = ["make_model", "MODEL_KINDS"]

MODEL_KINDS = ("radius", "hata", "terrain", "p1812")


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
    if kind in ("hata", "terrain"):
        try:
            from .. import terrain
        except ImportError as exc:  # pragma: no cover - only while the terrain engine is absent
            raise ConfigError(f"model kind {kind!r} is not available in this build: {exc}") from exc
        if kind == "terrain" and not has_dem:
            raise ConfigError("model kind 'terrain' needs a DEM: set [inputs] dem = \"...\" or use kind = \"hata\".")
        cls = terrain.TerrainModel if kind == "terrain" else terrain.HataModel
        return _build(cls, dict(cfg.options.get(kind, {})), kind)
    if kind == "p1812":
        if not has_dem:
            raise ConfigError("model kind 'p1812' needs a DEM: set [inputs] dem = \"...\" or use kind = \"hata\".")
        from .p1812_area import P1812Model

        return _build(P1812Model, dict(cfg.options.get(kind, {})), kind)
    raise ConfigError(f"unknown model kind {kind!r}; expected one of {MODEL_KINDS} or 'auto'.")
