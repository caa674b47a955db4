"""Numbers with error bars: ensembles of the inputs' uncertainty and one-at-a-time sensitivity.

* :mod:`.spec` — :class:`EnsembleSpec` (what varies, how much), :func:`spec_from_config`,
  :func:`tower_sigma_m` (the OpenCelliD position rule).
* :mod:`.draws` — one random stream per member and input; the correlated location field; moved sites.
* :mod:`.ensemble` — :func:`run_ensemble` (signal fields once, members as comparisons and zonal
  sums), :class:`EnsembleResult`, :func:`attach_ensemble` (ranges into an analysis for the reports).
* :mod:`.tiled` — :func:`tiled_member_sums`: every member evaluated tile by tile (memory bounded
  by the tile), per-member sums added across tiles; used by :func:`run_ensemble` on a ``TiledModel``.
* :mod:`.sensitivity` — :func:`sensitivity`: which input drives the spread.
"""

from .draws import NOISE_BLOCK, field_key, location_field, member_streams, move_sites
from .ensemble import (
    PERCENTILES,
    RANGE_COLUMNS,
    EnsembleResult,
    SignalMargins,
    attach_ensemble,
    run_ensemble,
    ensemble_sums_tiled,
    member_draws,
    signal_margins,
)
from .sensitivity import sensitivity
from .tiled import MemberDraws, MemberSums, margin_field, tiled_member_sums
from .spec import DEFAULT_LOCATION_CORRELATION_M, EnsembleSpec, spec_from_config, tower_sigma_m

__all__ = [
    "EnsembleSpec", "spec_from_config", "tower_sigma_m", "DEFAULT_LOCATION_CORRELATION_M",
    "member_streams", "location_field", "move_sites",
    "EnsembleResult", "SignalMargins", "run_ensemble", "signal_margins", "attach_ensemble",
    "RANGE_COLUMNS", "PERCENTILES", "sensitivity",
    "member_draws", "ensemble_sums_tiled", "MemberDraws", "MemberSums", "margin_field", "tiled_member_sums",
    "field_key", "NOISE_BLOCK",
]
