"""The Hata model: signal from a Hata-type (or free-space) base loss on flat ground, no DEM.

``signal = EIRP − L_base(d) + G_sector``; coverage = signal ≥ the technology's threshold. The
base loss is Okumura–Hata up to 1500 MHz and COST-231 Hata above (``base="hata"``), or free
space (``base="free_space"``); it is never allowed below free-space loss. See
:mod:`covgap.models.terrain` for the conventions both signal models share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..grid import Grid
from . import _terrain_kernels as _k
from ._signal import Footprint, _grid_scales, _progress, _SignalModel
from .base import Coverage
from .linkbudget import RECEIVER_HEIGHT_M, SIDELOBE_ATTENUATION_DB
from .location import DEFAULT_LOCATION_PERCENT, DEFAULT_LOCATION_STD_DB

__all__ = ["HataModel"]


@dataclass(kw_only=True)
class HataModel(_SignalModel):
    """Signal from a Hata-type (or free-space) base loss on flat ground; no DEM needed.

    Parameters
    ----------
    environment : {"rural", "suburban", "urban", "metropolitan", "open"}
        Hata environment class (``open`` = ``rural``). Default ``rural`` (Hata's open area).
    receiver_height_m : float
        Mobile antenna height, default 1.5 m.
    thresholds_dbm : mapping of technology to dBm, optional
        Coverage thresholds overriding :data:`covgap.models.linkbudget.DEFAULT_LINK_BUDGETS`.
    link_budgets : mapping of technology to {field: value}, optional
        Overrides of the technology defaults (``frequency_mhz``, ``eirp_dbm``,
        ``threshold_dbm``, ``beamwidth_deg``).
    max_radius_km : float, optional
        Radius cap; default the Hata validity limit (20 km). Larger values warn when a link
        budget reaches past 20 km.
    base : {"hata", "free_space"}
        Base loss.
    hata_variant : {"auto", "okumura-hata", "cost231-hata"}
        ``auto``: Okumura–Hata to 1500 MHz, COST-231 Hata above.
    location_percent : float
        Coverage at this percentage of locations (1-99, default 50 = the median): a transmitter
        covers a cell when its median signal reaches the threshold plus
        ``location_std_db``·Φ⁻¹(pL/100) (see :mod:`covgap.models.location`).
    location_std_db : float
        σL [dB] of the location variability, default 5.5 dB (ITU-R P.1546-6 §12, digital
        systems of 1 MHz bandwidth or more); 0 makes coverage deterministic.

    Examples
    --------
    >>> HataModel(environment="suburban").parameters()["environment"]
    'suburban'
    """

    environment: str = "rural"
    receiver_height_m: float = RECEIVER_HEIGHT_M
    thresholds_dbm: Mapping[str, float] | None = None
    link_budgets: Mapping[str, Mapping[str, float]] | None = None
    max_radius_km: float | None = None
    base: str = "hata"
    hata_variant: str = "auto"
    location_percent: float = DEFAULT_LOCATION_PERCENT
    location_std_db: float = DEFAULT_LOCATION_STD_DB
    name: str = "hata"

    def __post_init__(self) -> None:
        self._validate_common()

    def parameters(self) -> dict[str, Any]:
        """Model parameters for provenance (JSON-serialisable)."""
        return self._common_parameters()

    def compute(self, grid: Grid, sites: pd.DataFrame, *, dem: np.ndarray | None = None,
                progress: bool = False) -> Coverage:
        """Compute signal and coverage of validated ``sites`` on ``grid`` (``dem`` ignored)."""
        sites = sites.reset_index(drop=True)
        prep = self._prepare(grid, sites, None, need_ground=False)
        geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)

        def gen():
            for k in range(prep.rows.size):
                r0, r1, c0, c1, _ = self._window(grid, prep.row_f[k], prep.col_f[k], prep.lat_s_rad[k],
                                                 prep.kxs[k], prep.radius_m[k])
                if r1 <= r0 or c1 <= c0:
                    continue
                sig = np.empty((r1 - r0, c1 - c0), dtype=np.float32)
                row = prep.rows[k]
                az = prep.lb.azimuth_deg[row]
                _k._disc_signal(sig, r0, c0, geographic, lat_rows, dlon_r, dx, dy, prep.row_f[k],
                                prep.col_f[k], prep.lat_s_rad[k], prep.radius_m[k],
                                prep.lb.eirp_dbm[row], prep.fa[k], prep.fb[k], prep.pa[k], prep.pb[k],
                                bool(np.isfinite(az)), math.radians(az) if np.isfinite(az) else 0.0,
                                math.radians(prep.lb.beamwidth_deg[row]) if np.isfinite(az) else 1.0,
                                SIDELOBE_ATTENUATION_DB)
                yield k, sig, r0, c0

        return self._assemble(grid, sites, prep, _progress(gen(), prep.rows.size, progress), extra={})

    def _single_footprint(self, grid: Grid, dem: np.ndarray | None, one: pd.DataFrame,
                          threshold_dbm: float) -> Footprint:
        """The signal window of the one transmitter in ``one`` (``dem`` ignored)."""
        prep = self._prepare(grid, one, None, need_ground=False)
        geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)
        r0, r1, c0, c1, _ = self._window(grid, prep.row_f[0], prep.col_f[0], prep.lat_s_rad[0], prep.kxs[0],
                                          prep.radius_m[0])
        cov_sig = np.full((max(r1 - r0, 0), max(c1 - c0, 0)), np.nan, dtype=np.float32)
        if cov_sig.size:
            az = prep.lb.azimuth_deg[0]
            _k._disc_signal(cov_sig, r0, c0, geographic, lat_rows, dlon_r, dx, dy, prep.row_f[0], prep.col_f[0],
                            prep.lat_s_rad[0], prep.radius_m[0], prep.lb.eirp_dbm[0], prep.fa[0], prep.fb[0],
                            prep.pa[0], prep.pb[0], bool(np.isfinite(az)),
                            math.radians(az) if np.isfinite(az) else 0.0,
                            math.radians(prep.lb.beamwidth_deg[0]) if np.isfinite(az) else 1.0,
                            SIDELOBE_ATTENUATION_DB)
        return Footprint(window=grid.window(r0, r0 + cov_sig.shape[0], c0, c0 + cov_sig.shape[1]), row0=r0,
                         col0=c0, signal_dbm=cov_sig, threshold_dbm=threshold_dbm, radius_m=float(prep.radius_m[0]))
