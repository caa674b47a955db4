"""Signal models: Hata (no terrain) and the terrain model (line of sight + diffraction over a DEM).

Both implement :class:`covgap.engine.CoverageModel` like :class:`covgap.radius.RadiusModel`,
and fill, per technology, the best received signal (dBm), the serving transmitter (the
strongest), the operators and the number of transmitters at or above the technology's
threshold. Coverage = signal ≥ threshold.

* :class:`HataModel` — ``signal = EIRP − L_base(d) + G_sector``, no terrain.
* :class:`TerrainModel` — the same base loss plus, over the DEM, line of sight with earth
  curvature and refraction (effective radius ``k R``, k = 4/3) and the Bullington
  equivalent-knife-edge diffraction loss of ITU-R P.526-15 when the path is obstructed. The
  DEM is traversed by one sweep over the cells outward from the transmitter
  (``algorithm="sweep"``, default; :mod:`covgap._sweep_kernels`) or by radials with the whole
  terrain profile (``algorithm="radials"``; :mod:`covgap._terrain_kernels`).

The base loss is Okumura–Hata up to 1500 MHz and COST-231 Hata above (``base="hata"``), or
free space (``base="free_space"``); it is never allowed below free-space loss. Link-budget
values come from the sites table with technology defaults (:mod:`covgap.linkbudget`); each
transmitter's radius is where the base loss uses up its link budget (``EIRP − threshold``),
capped by ``max_radius_km`` — by default the Hata validity limit, 20 km — so nothing is
computed past the point where it could matter. Terrain only ever adds loss, so the cap
never cuts off a covered cell of the base model.

What the terrain model does with awkward input (documented, tested):

* **DEM nodata** (NaN): unknown terrain *does not block*; a receiver cell on nodata gets the
  base-model signal without terrain loss. The number of such cells inside footprints is
  reported in ``Coverage.parameters["dem_nodata_cells_in_footprints"]`` and a
  :class:`~covgap.errors.CovgapWarning` says so.
* **A transmitter outside the DEM or on a nodata cell** (its ground height is unknown):
  :class:`~covgap.errors.InputError` naming the row (``invalid_sites="error"``, default), or,
  with ``invalid_sites="skip"``, the row is left out, counted in
  ``parameters["sites_skipped"]`` and a :class:`~covgap.errors.CovgapWarning` is issued.
* **Antenna height ≤ 0, frequency ≤ 0**: :class:`~covgap.errors.InputError`.
* **Frequency, antenna height, receiver height or radius outside a model's validity range**:
  one :class:`~covgap.errors.ModelRangeWarning` per technology and parameter, with counts.
  Distances below Hata's 1 km minimum are evaluated with the formula bounded below by free
  space (the threshold is always met that close to a macro cell) and recorded in the
  parameters, not warned about.

Conventions: the Hata base-station height is the antenna height above the ground at the
mast (the terrain model handles the terrain explicitly, so Hata's "effective height above
average terrain" is not used); the receiver is ``receiver_height_m`` above the ground of
each cell; distances are great-circle (mean-latitude local scale per row) on geographic
grids and Euclidean on projected ones.

Cost: the sweep touches each cell of the disc once (about GDAL's ``gdal_viewshed`` per cell for
line of sight alone); the radials make about 4 ray events per cell (1.5 rays per cell on the
outer ring, each event a crossing of a line through cell centres). Measured figures, side by
side with ``gdal_viewshed`` and SPLAT!, are written by ``benchmarks/b1_single_site.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import pandas as pd

from . import _sweep_kernels as _s
from . import _terrain_kernels as _k
from .engine import Coverage, TechnologyCoverage, empty_technology, operator_index
from .errors import ConfigError, CovgapError, CovgapWarning, InputError, ModelRangeWarning
from .grid import EARTH_RADIUS_M, Grid
from .linkbudget import (
    RECEIVER_HEIGHT_M,
    SIDELOBE_ATTENUATION_DB,
    LinkBudget,
    resolve_link_budget,
    technology_defaults,
)
from .pathloss import (
    ENVIRONMENTS,
    FREE_SPACE_CONSTANT_DB,
    VALIDITY,
    check_validity,
    hata_coefficients,
    wavelength_m,
)
from .sites import TECHNOLOGIES

__all__ = [
    "HataModel",
    "TerrainModel",
    "Footprint",
    "LineOfSight",
    "site_footprint",
    "line_of_sight",
    "DEFAULT_K_FACTOR",
]

#: Effective earth-radius factor for standard refraction (ITU-R P.453 / P.834: k = 4/3).
DEFAULT_K_FACTOR = 4.0 / 3.0

#: Default way a cell combines the rays around it (see :class:`TerrainModel`).
RAY_WEIGHTING = "interpolate"

#: Default radius cap for a free-space base model (km); Hata-type bases use their 20 km limit.
FREE_SPACE_MAX_RADIUS_KM = 50.0

#: Lowest plausible land elevation (m); lower is an unmasked nodata value.
_DEM_MIN_M = _k.DEM_MIN_M

#: What each ``diffraction`` choice computes (recorded in the run's parameters).
_DIFFRACTION_METHODS = {
    ("bullington", "radials"): "Bullington equivalent knife edge over the whole profile, ITU-R P.526-15 §4.5.1 / "
                               "eq. (31), obstructed paths only",
    ("bullington", "sweep"): "Bullington equivalent knife edge over two obstacles carried cell to cell (the "
                             "transmitter's horizon seen from a 30 m reference mast, the receiver's back horizon), "
                             "ITU-R P.526-15 §4.5.1 / eq. (31), obstructed paths only",
    ("none", "radials"): "none (obstructed = no signal)",
    ("none", "sweep"): "none (obstructed = no signal)",
}

#: Cells per parallel batch of footprints (memory bound: 24 bytes per cell).
_BATCH_CELLS = 8_000_000


# --------------------------------------------------------------------------- helpers
def _as_dem(dem, grid: Grid, *, check_min: bool = True) -> np.ndarray:
    """The DEM as a C-contiguous float32 array, NaN for nodata. ``check_min``: check the lowest
    elevation now (else the caller checks the cells it reads, with :func:`_check_dem_min`)."""
    if dem is None:
        raise InputError(
            "the terrain model needs a DEM (elevation in metres on the study grid) and got none. "
            "Fix: pass dem=..., or use the 'hata' or 'radius' model where no DEM is available."
        )
    arr = np.ma.filled(np.ma.asarray(dem).astype("f4"), np.nan) if np.ma.isMaskedArray(dem) else np.asarray(dem)
    if arr.shape != grid.shape:
        raise InputError(f"DEM array has shape {arr.shape}; the grid has {grid.shape}.")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if check_min:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN DEM
            _check_dem_min(np.nanmin(out) if out.size else np.nan)
    return out


def _check_dem_min(lo: float) -> None:
    """Raise for an elevation below −500 m: an unmasked nodata value."""
    if np.isfinite(lo) and lo < _DEM_MIN_M:
        raise InputError(
            f"DEM has elevations down to {lo:g} m, below {_DEM_MIN_M:g} m (lower than any land): "
            "probably a nodata value (e.g. -32768) that was not masked. Fix: read the DEM with its "
            "nodata as NaN (covgap.io does) or pass a masked array.")


def _grid_scales(grid: Grid) -> tuple[bool, np.ndarray, float, float, float]:
    """(geographic, lat of rows in rad, metres per radian of longitude, dx, dy in metres)."""
    t = grid.transform
    if grid.is_geographic:
        lat_rows = np.radians(grid.y_centres())
        dlon_r = math.radians(t.a) * EARTH_RADIUS_M
        dy = math.radians(-t.e) * EARTH_RADIUS_M
        return True, np.ascontiguousarray(lat_rows), dlon_r, 0.0, dy
    return False, np.zeros(grid.ny), 0.0, float(t.a), float(-t.e)


def _check_choice(name: str, value: str, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"model.{name} = {value!r}; expected one of {list(allowed)}.")


@dataclass
class _Prepared:
    """Per-transmitter arrays for the kernels (rows of ``sites`` kept)."""

    rows: np.ndarray            # row index into the (reset) sites table
    lb: LinkBudget
    row_f: np.ndarray
    col_f: np.ndarray
    lat_s_rad: np.ndarray
    kxs: np.ndarray
    z_ground: np.ndarray
    fa: np.ndarray
    fb: np.ndarray
    pa: np.ndarray
    pb: np.ndarray
    radius_m: np.ndarray
    wavelength_m: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _SignalModel:
    """Shared machinery of the Hata and terrain models (not public)."""

    name: str
    environment: str
    receiver_height_m: float
    thresholds_dbm: Mapping[str, float] | None
    link_budgets: Mapping[str, Mapping[str, float]] | None
    max_radius_km: float | None
    base: str
    hata_variant: str

    # -------------------------------------------------------------- validation
    def _validate_common(self) -> None:
        _check_choice("environment", self.environment, ENVIRONMENTS)
        _check_choice("base", self.base, ("hata", "free_space"))
        _check_choice("hata_variant", self.hata_variant, ("auto", "okumura-hata", "cost231-hata"))
        if not (isinstance(self.receiver_height_m, (int, float)) and self.receiver_height_m > 0):
            raise ConfigError(f"model.receiver_height_m = {self.receiver_height_m!r}; expected metres > 0.")
        if self.max_radius_km is not None and not (
                isinstance(self.max_radius_km, (int, float)) and self.max_radius_km > 0):
            raise ConfigError(f"model.max_radius_km = {self.max_radius_km!r}; expected km > 0.")
        technology_defaults(self.link_budgets, self.thresholds_dbm)  # raises ConfigError early

    def _radius_cap_km(self) -> float:
        if self.max_radius_km is not None:
            return float(self.max_radius_km)
        return VALIDITY["okumura-hata"].distance_km[1] if self.base == "hata" else FREE_SPACE_MAX_RADIUS_KM

    def _common_parameters(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "base": self.base,
            "hata_variant": self.hata_variant,
            "environment": self.environment,
            "receiver_height_m": float(self.receiver_height_m),
            "max_radius_km": self._radius_cap_km(),
            "link_budgets": {t: d.as_dict() for t, d in
                             technology_defaults(self.link_budgets, self.thresholds_dbm).items()},
            "path_loss": ("max(free space ITU-R P.525, Okumura-Hata <=1500 MHz / COST-231 Hata >1500 MHz)"
                          if self.base == "hata" else "free space ITU-R P.525"),
            "near_field": "d < 1 km: Hata formula bounded below by free-space loss (not warned)",
            "cost231_environment_corrections": "Hata suburban/open-area corrections applied to COST-231 "
                                               "for environment suburban/rural (covgap convention)",
            "sector_pattern": f"3GPP TR 36.942 -min(12(phi/phi3dB)^2, {SIDELOBE_ATTENUATION_DB:g} dB)",
        }

    # -------------------------------------------------------------- preparation
    def _prepare(self, grid: Grid, sites: pd.DataFrame, dem: np.ndarray | None, *,
                 need_ground: bool, invalid_sites: str = "error") -> _Prepared:
        if len(sites) == 0:
            raise InputError("sites table is empty: nothing to compute coverage from.")
        defaults = technology_defaults(self.link_budgets, self.thresholds_dbm)
        lb = resolve_link_budget(sites, defaults=defaults)
        x, y = grid.from_lonlat(sites["lon"].to_numpy(dtype="f8"), sites["lat"].to_numpy(dtype="f8"))
        t = grid.transform
        col_f = (np.asarray(x, dtype="f8") - t.c) / t.a
        row_f = (np.asarray(y, dtype="f8") - t.f) / t.e
        n = len(sites)
        keep = np.ones(n, dtype=bool)
        skipped: dict[str, int] = {}
        z_ground = np.zeros(n)
        if need_ground:
            inside = (row_f >= 0) & (row_f < grid.ny) & (col_f >= 0) & (col_f < grid.nx)
            ri = np.clip(np.floor(row_f).astype(np.int64), 0, grid.ny - 1)
            ci = np.clip(np.floor(col_f).astype(np.int64), 0, grid.nx - 1)
            z_ground = np.where(inside, dem[ri, ci], np.nan).astype("f8")
            on_nodata = inside & ~np.isfinite(z_ground)
            for label, bad, fix in (
                ("outside_dem", ~inside,
                 "extend the DEM (and grid) by the largest coverage radius around the study area, "
                 "or drop those rows"),
                ("on_dem_nodata", on_nodata,
                 "fill DEM voids first (e.g. gdal_fillnodata), or correct the site position"),
            ):
                if not bad.any():
                    continue
                i = int(np.flatnonzero(bad)[0])
                msg = (f"{int(bad.sum())} transmitter(s) {label.replace('_', ' ')} (first: row {i}, site "
                       f"{sites['site_id'].iloc[i]!r} at lon {sites['lon'].iloc[i]:.5f}, lat "
                       f"{sites['lat'].iloc[i]:.5f}): their ground height is unknown. Fix: {fix}.")
                if invalid_sites == "error":
                    raise InputError(msg + " Or set invalid_sites='skip' to leave them out (counted).")
                skipped[label] = int(bad.sum())
                warnings.warn(msg + " They are left out (invalid_sites='skip').", CovgapWarning, stacklevel=3)
                keep &= ~bad
            if not keep.any():
                raise InputError("no transmitter lies on valid DEM cells; nothing to compute.")

        geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)
        lat_s = np.radians(np.asarray(y, dtype="f8")) if geographic else np.zeros(n)
        kxs = dlon_r * np.cos(lat_s) if geographic else np.full(n, dx)

        f = lb.frequency_mhz
        hb = lb.antenna_height_m
        hm = float(self.receiver_height_m)
        pa = FREE_SPACE_CONSTANT_DB + 20.0 * np.log10(f)
        pb = np.full(n, 20.0)
        cap_km = self._radius_cap_km()
        notes: list[str] = []
        tech = sites["technology"].astype(str).to_numpy()
        if self.base == "hata":
            fa, fb = hata_coefficients(f, hb, hm, environment=self.environment, model=self.hata_variant)
            fa = np.broadcast_to(fa, (n,)).astype("f8")
            fb = np.broadcast_to(fb, (n,)).astype("f8")
            variant = (np.where(f <= 1500.0, "okumura-hata", "cost231-hata") if self.hata_variant == "auto"
                       else np.full(n, self.hata_variant))
            present = set(zip(tech[keep].tolist(), variant[keep].tolist(), strict=True))
            for tt in TECHNOLOGIES:
                for var in ("okumura-hata", "cost231-hata"):
                    if (tt, var) in present:
                        sel = keep & (tech == tt) & (variant == var)
                        notes += check_validity(var, frequency_mhz=f[sel], base_height_m=hb[sel],
                                                mobile_height_m=hm, warn=False, what=f"{tt} transmitters")
            if cap_km > VALIDITY["okumura-hata"].distance_km[1]:
                budget = lb.eirp_dbm - lb.threshold_dbm
                with np.errstate(over="ignore"):
                    reach = 10.0 ** ((budget - fa) / fb)
                far = keep & (reach > VALIDITY["okumura-hata"].distance_km[1])
                if far.any():
                    notes.append(
                        f"{int(far.sum())} transmitter(s) have a link budget reaching beyond the Hata "
                        f"validity limit of 20 km (max_radius_km = {cap_km:g}); path loss past 20 km is "
                        "extrapolated.")
        else:
            fa, fb = pa.copy(), pb.copy()
        for m in notes:
            warnings.warn(m, ModelRangeWarning, stacklevel=3)

        budget = lb.eirp_dbm - lb.threshold_dbm
        with np.errstate(over="ignore"):
            d_base = 10.0 ** ((budget - fa) / fb)
            d_fs = 10.0 ** ((budget - pa) / pb)
        radius_m = np.minimum(np.minimum(d_base, d_fs), cap_km) * 1000.0
        radius_m = np.where(np.isfinite(radius_m), radius_m, 0.0)
        idx = np.flatnonzero(keep)
        return _Prepared(
            rows=idx, lb=lb, row_f=row_f[idx], col_f=col_f[idx], lat_s_rad=lat_s[idx], kxs=kxs[idx],
            z_ground=z_ground[idx], fa=fa[idx], fb=fb[idx], pa=pa[idx], pb=pb[idx],
            radius_m=radius_m[idx], wavelength_m=wavelength_m(f)[idx], skipped=skipped, notes=notes,
        )

    # -------------------------------------------------------------- windows
    @staticmethod
    def _window(grid: Grid, row_f: float, col_f: float, lat_s_rad: float, kxs: float,
                radius_m: float) -> tuple[int, int, int, int, float]:
        """(r0, r1, c0, c1, min metres per column) of the window covering the disc."""
        geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)
        rr = radius_m / dy
        r0 = max(int(math.floor(row_f - rr)) - 1, 0)
        r1 = min(int(math.ceil(row_f + rr)) + 2, grid.ny)
        if r1 <= r0:
            return r0, r0, 0, 0, kxs
        if geographic:
            lat_far = lat_rows[[r0, r1 - 1]]
            kx_min = float(dlon_r * np.cos(0.5 * (lat_s_rad + lat_far)).min())
            kx_min = min(kx_min, kxs)
        else:
            kx_min = dx
        cc = radius_m / kx_min
        c0 = max(int(math.floor(col_f - cc)) - 1, 0)
        c1 = min(int(math.ceil(col_f + cc)) + 2, grid.nx)
        return r0, r1, c0, max(c1, c0), kx_min

    @staticmethod
    def _rays(radius_m: float, kxs: float, kx_min: float, dy: float,
              oversampling: float = _k.RAY_OVERSAMPLING) -> tuple[int, float]:
        r_idx = radius_m * max(1.0, kxs / kx_min) * (1.0 + 1e-6)
        cell = min(kxs, dy)
        n = max(_k.MIN_RAYS, int(math.ceil(2.0 * math.pi * r_idx * oversampling / cell)))
        n = ((n + _k.N_CHUNKS - 1) // _k.N_CHUNKS) * _k.N_CHUNKS
        return n, r_idx + 2.0 * max(kxs, dy)

    # -------------------------------------------------------------- assembly
    def _assemble(self, grid: Grid, sites: pd.DataFrame, prep: _Prepared, footprints, *,
                  extra: dict[str, Any]) -> Coverage:
        """Merge footprints (an iterator of (k, sig, r0, c0)) per technology into a Coverage."""
        sites = sites.reset_index(drop=True)
        ops, op_idx = operator_index(sites)
        tech_of = sites["technology"].astype(str).to_numpy()
        techs: dict[str, TechnologyCoverage] = {}
        thresholds = technology_defaults(self.link_budgets, self.thresholds_dbm)
        for tech in TECHNOLOGIES:
            if not (tech_of[prep.rows] == tech).any():
                continue
            tc = empty_technology(tech, grid.shape, signal=True)
            tc.threshold_dbm = float(thresholds[tech].threshold_dbm)
            techs[tech] = tc
        for k, sig, r0, c0 in footprints:
            row = int(prep.rows[k])
            tc = techs[tech_of[row]]
            _k._merge(sig, int(r0), int(c0), tc.signal_dbm, tc.serving_site, tc.operator_bits, tc.n_sites,
                      float(tc.threshold_dbm), np.uint32(1 << int(op_idx[row])), np.int32(row))
        params = self.parameters()
        params["link_budget"] = prep.lb.as_dict()
        params["sites_used"] = int(prep.rows.size)
        params["sites_skipped"] = dict(prep.skipped)
        params["model_range_warnings"] = list(prep.notes)
        params.update(extra)
        return Coverage(grid=grid, operators=ops, technologies=techs, sites=sites, model=self.name,
                        parameters=params)


# =========================================================================== Hata model
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
        Coverage thresholds overriding :data:`covgap.linkbudget.DEFAULT_LINK_BUDGETS`.
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


# =========================================================================== terrain model
@dataclass(kw_only=True)
class TerrainModel(_SignalModel):
    """Base loss plus line of sight and diffraction over the DEM.

    Parameters
    ----------
    base : {"hata", "free_space"}
        Base loss (``hata``: Okumura–Hata ≤ 1500 MHz, COST-231 Hata above).
    environment : str
        Hata environment class, default ``rural``.
    k_factor : float
        Effective earth-radius factor, default 4/3 (standard refraction); ``inf`` = flat earth.
    receiver_height_m : float
        Mobile antenna height above ground, default 1.5 m.
    thresholds_dbm, link_budgets : mapping, optional
        Overrides of the technology defaults (see :class:`HataModel`).
    max_radius_km : float, optional
        Radius cap; default 20 km (Hata validity) for ``base="hata"``, 50 km for free space.
    algorithm : {"sweep", "radials"}
        How the DEM is traversed. ``sweep`` (default): one pass over the cells outward from
        the transmitter, each cell's horizons interpolated from its neighbours nearer the
        transmitter (the approach of GDAL's viewshed; :mod:`covgap._sweep_kernels`) — each
        cell touched once. ``radials``: rays cast from the transmitter, each cell
        interpolated between the two rays that bracket it, with the whole terrain profile
        along each ray — about 5× slower, closer to the exact line of sight (tests) and
        Bullington over the whole profile.
    diffraction : {"bullington", "none"}
        ``bullington``: obstructed paths get the Bullington equivalent knife-edge loss
        (ITU-R P.526-15 §4.5.1, J(ν) of eq. 31) — over the whole profile with ``radials``;
        with ``sweep`` over two obstacles carried cell to cell: the transmitter's horizon
        obstacle (seen from a 30 m reference mast) and the receiver's back-horizon obstacle.
        ``none``: obstructed cells get no signal (pure line of sight).
    invalid_sites : {"error", "skip"}
        What to do with transmitters outside the DEM or on DEM nodata (see module docstring).
    hata_variant : {"auto", "okumura-hata", "cost231-hata"}
    ray_weighting : {"interpolate", "nearest"}
        With ``radials``: ``interpolate``: each cell takes the angle-weighted mean of the two
        rays that bracket it; ``nearest``: the ray nearest to its centre.
    ray_oversampling : float, optional
        With ``radials``: rays per cell along the outer ring (minimum 1.45, so that the
        nearest ray passes within c/(2√2) of every cell centre and so crosses one of its
        centre lines); default 1.5.

    Accuracy of the line of sight against the exact per-cell reference on rough fractal
    terrain (tests): ``radials`` with ``interpolate`` 99.3–99.8 % of cells (``nearest`` about
    98.5 %); ``sweep`` 97.8–99.3 % (GDAL 3.6's ``gdal_viewshed`` 96.5–98.9 % on the same DEMs;
    ``benchmarks/b1_los_accuracy.py``).
    Coverage of the two traversals agrees on 96–100 % of cells of small rough DEMs and on
    93 % of a 20 km mountain footprint (``benchmarks/b1_single_site.py``), without a
    systematic bias (median signal difference 0 dB; 5–95 % range about −6 to +7 dB).

    Notes
    -----
    Obstructions cost ``J(ν_b) ≥ 6 dB``; paths with line of sight get no terrain loss, even
    when the ground intrudes into the first Fresnel zone, because the empirical base model
    already contains the average near-grazing ground loss. The terrain model therefore
    equals the Hata model wherever there is line of sight.
    """

    base: str = "hata"
    environment: str = "rural"
    k_factor: float = DEFAULT_K_FACTOR
    receiver_height_m: float = RECEIVER_HEIGHT_M
    thresholds_dbm: Mapping[str, float] | None = None
    link_budgets: Mapping[str, Mapping[str, float]] | None = None
    max_radius_km: float | None = None
    algorithm: str = "sweep"
    diffraction: str = "bullington"
    invalid_sites: str = "error"
    hata_variant: str = "auto"
    ray_weighting: str = RAY_WEIGHTING
    ray_oversampling: float | None = None
    name: str = "terrain"

    def __post_init__(self) -> None:
        self._validate_common()
        _check_choice("ray_weighting", self.ray_weighting, ("interpolate", "nearest"))
        lo = _k.MIN_RAY_OVERSAMPLING if self.ray_weighting == "interpolate" else _k.MIN_RAY_OVERSAMPLING_NEAREST
        if self.ray_oversampling is None:
            self.ray_oversampling = (_k.RAY_OVERSAMPLING if self.ray_weighting == "interpolate"
                                     else _k.RAY_OVERSAMPLING_NEAREST)
        if not (isinstance(self.ray_oversampling, (int, float)) and self.ray_oversampling >= lo):
            raise ConfigError(f"model.ray_oversampling = {self.ray_oversampling!r}; expected a number >= {lo} "
                              f"(rays per cell on the outer ring) with ray_weighting={self.ray_weighting!r}.")
        _check_choice("algorithm", self.algorithm, ("sweep", "radials"))
        _check_choice("diffraction", self.diffraction, ("bullington", "none"))
        _check_choice("invalid_sites", self.invalid_sites, ("error", "skip"))
        if not (isinstance(self.k_factor, (int, float)) and self.k_factor > 0):
            raise ConfigError(f"model.k_factor = {self.k_factor!r}; expected a number > 0 (4/3 standard).")

    def parameters(self) -> dict[str, Any]:
        """Model parameters for provenance (JSON-serialisable)."""
        p = self._common_parameters()
        p.update({
            "k_factor": float(self.k_factor) if math.isfinite(self.k_factor) else "inf",
            "diffraction": self.diffraction,
            "diffraction_method": _DIFFRACTION_METHODS[(self.diffraction, self.algorithm)],
            "algorithm": self.algorithm,
            "line_of_sight": ("one sweep over the cells outward from the transmitter, horizons interpolated "
                              "from the neighbours nearer it" if self.algorithm == "sweep" else
                              "radials over the DEM, cell traversal") + ", effective earth radius k*R",
            "dem_nodata": "unknown terrain does not block; receivers on nodata get the base model",
            "invalid_sites": self.invalid_sites,
        })
        if self.algorithm == "radials":
            p.update({"ray_weighting": self.ray_weighting, "ray_oversampling": float(self.ray_oversampling)})
        return p

    @property
    def _inv2kr(self) -> float:
        return 0.0 if not math.isfinite(self.k_factor) else 1.0 / (2.0 * self.k_factor * EARTH_RADIUS_M)

    def _site_args(self, grid: Grid, prep: _Prepared, k: int):
        """Window and kernel scalars for transmitter ``k`` of ``prep``."""
        geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)
        r0, r1, c0, c1, kx_min = self._window(grid, prep.row_f[k], prep.col_f[k], prep.lat_s_rad[k],
                                              prep.kxs[k], prep.radius_m[k])
        n_rays, t_end = self._rays(prep.radius_m[k], prep.kxs[k], kx_min, dy, self.ray_oversampling)
        row = prep.rows[k]
        az = prep.lb.azimuth_deg[row]
        sector = bool(np.isfinite(az))
        return dict(
            r0=r0, r1=r1, c0=c0, c1=c1, n_rays=n_rays, t_end=t_end,
            z_tx=float(prep.z_ground[k] + prep.lb.antenna_height_m[row]),
            eirp=float(prep.lb.eirp_dbm[row]), sector=sector,
            az_rad=math.radians(az) if sector else 0.0,
            bw_rad=math.radians(prep.lb.beamwidth_deg[row]) if sector else 1.0,
            two_over_lambda=2.0 / float(prep.wavelength_m[k]),
        )

    def _modes(self, los_only: bool) -> tuple[int, int]:
        """(ray mode, output mode) for the kernels."""
        if los_only:
            return 0, 0
        if self.diffraction == "none":
            return 0, 2
        return 1, 1

    def _one(self, grid: Grid, dem: np.ndarray, prep: _Prepared, k: int, *, los_only: bool = False,
             outside: float = np.inf):
        """Footprint window of transmitter ``k`` with all threads on it; ``outside`` fills the
        cells beyond the radius (the sweep; the radials always give +inf). Returns (window,
        r0, c0, nodata receivers, unreached cells, rays, lowest elevation of the window; +inf
        when the sweep read none below :data:`_DEM_MIN_M`)."""
        geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)
        a = self._site_args(grid, prep, k)
        shape = (a["r1"] - a["r0"], a["c1"] - a["c0"])
        ray_mode, out_mode = self._modes(los_only)
        if self.algorithm == "sweep":
            out = np.empty(shape, dtype=np.float32)
            kx = _k._row_scale(geographic, lat_rows, a["r0"], shape[0], prep.lat_s_rad[k], dlon_r, dx)
            nod, n_low = _s.sweep_window(
                dem, out, a["r0"], a["c0"], kx, dy, prep.row_f[k], prep.col_f[k], a["z_tx"],
                float(self.receiver_height_m), self._inv2kr, prep.radius_m[k], a["two_over_lambda"], out_mode,
                a["eirp"], prep.fa[k], prep.fb[k], prep.pa[k], prep.pb[k], a["sector"], a["az_rad"], a["bw_rad"],
                SIDELOBE_ATTENUATION_DB, outside)
            lo = np.inf
            if n_low:  # an unmasked nodata value among the cells read: find it for the message
                lo = float(np.nanmin(dem[a["r0"]:a["r1"], a["c0"]:a["c1"]]))
            return out, a["r0"], a["c0"], int(nod), 0, 0, lo
        vbuf = np.zeros(shape, dtype=np.float64)
        wbuf = np.zeros(shape, dtype=np.float64)
        nbuf = np.full(shape, _k.NU_LOS, dtype=np.float64)
        nod, unhit = _k._footprint_parallel(
            dem, geographic, lat_rows, dlon_r, dx, dy, a["r0"], a["c0"], vbuf, wbuf, nbuf, prep.row_f[k],
            prep.col_f[k], prep.lat_s_rad[k], prep.kxs[k], a["z_tx"], float(self.receiver_height_m),
            self._inv2kr, prep.radius_m[k], a["two_over_lambda"], ray_mode, out_mode, a["eirp"],
            prep.fa[k], prep.fb[k], prep.pa[k], prep.pb[k], a["sector"], a["az_rad"], a["bw_rad"],
            SIDELOBE_ATTENUATION_DB, a["n_rays"], a["t_end"],
            self.ray_weighting == "nearest")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN window
            zmin = float(np.nanmin(dem[a["r0"]:a["r1"], a["c0"]:a["c1"]])) if vbuf.size else np.nan
        return vbuf, a["r0"], a["c0"], int(nod), int(unhit), a["n_rays"], zmin

    def _batches(self, grid: Grid, dem: np.ndarray, prep: _Prepared, ks: np.ndarray, counters: dict):
        """Yield (k, sig, r0, c0) for transmitters ``ks``, computed in parallel batches."""
        geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)
        ray_mode, out_mode = self._modes(False)
        args = [self._site_args(grid, prep, k) for k in ks]
        sizes = np.array([(a["r1"] - a["r0"]) * (a["c1"] - a["c0"]) for a in args], dtype=np.int64)
        start = 0
        n = len(ks)
        min_batch = max(2 * numba.get_num_threads(), 1)
        while start < n:
            stop = start + 1
            total = sizes[start]
            while stop < n and (stop - start < min_batch or total + sizes[stop] <= _BATCH_CELLS):
                total += sizes[stop]
                stop += 1
            sel = list(range(start, stop))
            offsets = np.zeros(len(sel), dtype=np.int64)
            offsets[1:] = np.cumsum(sizes[sel])[:-1]
            vflat = np.empty(int(sizes[sel].sum()), dtype=np.float32 if self.algorithm == "sweep" else np.float64)
            kk = ks[sel]
            def col(key, dt="f8", sel=sel):
                return np.array([args[i][key] for i in sel], dtype=dt)

            nodata = np.zeros(len(sel), dtype=np.int64)
            unhit = np.zeros(len(sel), dtype=np.int64)
            r0 = col("r0", np.int64)
            c0 = col("c0", np.int64)
            wny = col("r1", np.int64) - r0
            wnx = col("c1", np.int64) - c0
            if self.algorithm == "sweep":
                _s.sweep_batch(
                    dem, geographic, lat_rows, dlon_r, dx, dy, vflat, offsets, r0, c0, wny, wnx, prep.row_f[kk],
                    prep.col_f[kk], prep.lat_s_rad[kk], col("z_tx"), float(self.receiver_height_m), self._inv2kr,
                    prep.radius_m[kk], col("two_over_lambda"), out_mode, col("eirp"), prep.fa[kk], prep.fb[kk],
                    prep.pa[kk], prep.pb[kk], col("sector", np.bool_), col("az_rad"), col("bw_rad"),
                    SIDELOBE_ATTENUATION_DB, nodata, np.inf)
            else:
                wflat = np.empty_like(vflat)
                nflat = np.empty_like(vflat)
                _k._footprints_batch(
                    dem, geographic, lat_rows, dlon_r, dx, dy, vflat, wflat, nflat, offsets, r0, c0, wny, wnx,
                    prep.row_f[kk], prep.col_f[kk], prep.lat_s_rad[kk], prep.kxs[kk], col("z_tx"),
                    float(self.receiver_height_m), self._inv2kr, prep.radius_m[kk], col("two_over_lambda"),
                    ray_mode, out_mode, col("eirp"), prep.fa[kk], prep.fb[kk], prep.pa[kk], prep.pb[kk],
                    col("sector", np.bool_), col("az_rad"), col("bw_rad"), SIDELOBE_ATTENUATION_DB,
                    col("n_rays", np.int64), col("t_end"), nodata, unhit,
                    self.ray_weighting == "nearest")
            counters["nodata"] += int(nodata.sum())
            counters["unhit"] += int(unhit.sum())
            for q, i in enumerate(sel):
                sig = vflat[offsets[q]:offsets[q] + sizes[i]].reshape(int(wny[q]), int(wnx[q]))
                yield int(ks[i]), sig, int(r0[q]), int(c0[q])
            start = stop

    def compute(self, grid: Grid, sites: pd.DataFrame, *, dem: np.ndarray | None = None,
                progress: bool = False) -> Coverage:
        """Compute signal and coverage of validated ``sites`` on ``grid`` over ``dem``.

        ``dem``: elevation (m) on ``grid``, NaN (or masked) for nodata; values below −500 m
        (an unmasked nodata value such as −32768) raise :class:`~covgap.errors.InputError`.
        """
        sites = sites.reset_index(drop=True)
        dem_a = _as_dem(dem, grid)
        prep = self._prepare(grid, sites, dem_a, need_ground=True, invalid_sites=self.invalid_sites)
        counters = {"nodata": 0, "unhit": 0}
        n = prep.rows.size
        ks = np.arange(n)

        def gen():
            if n < 2 * numba.get_num_threads():
                for k in ks:
                    sig, r0, c0, nod, unhit, _, _ = self._one(grid, dem_a, prep, int(k))
                    counters["nodata"] += nod
                    counters["unhit"] += unhit
                    yield int(k), sig, r0, c0
            else:
                yield from self._batches(grid, dem_a, prep, ks, counters)

        cov = self._assemble(grid, sites, prep, _progress(gen(), n, progress), extra={})
        if counters["unhit"]:
            raise CovgapError(
                f"internal error: {counters['unhit']} cell(s) inside a coverage radius were not reached "
                "by any radial. Please report this with the grid and site that caused it.")
        cov.parameters["dem_nodata_cells_in_footprints"] = counters["nodata"]
        if counters["nodata"]:
            warnings.warn(
                f"{counters['nodata']} footprint cell(s) lie on DEM nodata: that terrain was treated as "
                "not blocking and those cells got the base-model signal without terrain loss. Fix: fill "
                "DEM voids (gdal_fillnodata) for terrain-aware results there.", CovgapWarning, stacklevel=2)
        return cov


def _progress(it, total: int, enabled: bool):
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="transmitters", unit="tx")


# =========================================================================== single footprints
@dataclass
class Footprint:
    """One transmitter's signal on the window of the grid around it.

    Attributes
    ----------
    window : Grid
        The sub-grid (``grid.window(row0, row0 + ny, col0, col0 + nx)``).
    row0, col0 : int
        Offset of the window in the full grid.
    signal_dbm : ndarray of float32, shape ``window.shape``
        Received signal; NaN outside the radius (and where obstructed with
        ``diffraction="none"``).
    threshold_dbm : float
    radius_m : float
        Radius computed (link budget, capped).
    n_rays : int
    dem_nodata_cells : int
        Footprint cells on DEM nodata.
    """

    window: Grid
    row0: int
    col0: int
    signal_dbm: np.ndarray
    threshold_dbm: float
    radius_m: float
    n_rays: int = 0
    dem_nodata_cells: int = 0

    @property
    def covered(self) -> np.ndarray:
        """Boolean window: signal ≥ threshold."""
        with np.errstate(invalid="ignore"):
            return np.isfinite(self.signal_dbm) & (self.signal_dbm >= self.threshold_dbm)


def site_footprint(grid: Grid, dem: np.ndarray | None, sites: pd.DataFrame, row: int, *,
                   model: HataModel | TerrainModel) -> Footprint:
    """Signal window of one transmitter (row ``row`` of the validated ``sites``).

    Used for candidate-site planning: evaluate a hypothetical mast without recomputing the
    whole network. ``dem`` may be ``None`` for :class:`HataModel`.

    Raises
    ------
    InputError
        For a transmitter outside the DEM or on nodata (terrain model), or a bad row index.
    """
    if not (0 <= int(row) < len(sites)):
        raise InputError(f"row {row} is not a row of the sites table (0..{len(sites) - 1}).")
    one = sites.iloc[[int(row)]]  # positional throughout: no reset_index needed
    tech = str(one["technology"].iloc[0])
    thr = float(technology_defaults(model.link_budgets, model.thresholds_dbm)[tech].threshold_dbm)
    if isinstance(model, TerrainModel):
        dem_a = _as_dem(dem, grid, check_min=False)  # checked on the cells read, below
        prep = model._prepare(grid, one, dem_a, need_ground=True, invalid_sites="error")
        sig, r0, c0, nod, unhit, n_rays, zmin = model._one(grid, dem_a, prep, 0, outside=np.nan)
        _check_dem_min(min(zmin, float(dem_a[int(prep.row_f[0]), int(prep.col_f[0])])))
        if unhit:
            raise CovgapError(f"internal error: {unhit} cell(s) inside the radius not reached by a radial.")
        sig = sig.astype(np.float32, copy=False)
        if model.algorithm == "radials":
            sig[np.isinf(sig)] = np.nan
        return Footprint(window=grid.window(r0, r0 + sig.shape[0], c0, c0 + sig.shape[1]), row0=r0, col0=c0,
                         signal_dbm=sig, threshold_dbm=thr, radius_m=float(prep.radius_m[0]), n_rays=n_rays,
                         dem_nodata_cells=nod)
    prep = model._prepare(grid, one, None, need_ground=False)
    geographic, lat_rows, dlon_r, dx, dy = _grid_scales(grid)
    r0, r1, c0, c1, _ = model._window(grid, prep.row_f[0], prep.col_f[0], prep.lat_s_rad[0], prep.kxs[0],
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
                     col0=c0, signal_dbm=cov_sig, threshold_dbm=thr, radius_m=float(prep.radius_m[0]))


@dataclass
class LineOfSight:
    """Line of sight from one antenna over a DEM window.

    ``visible`` is True where a receiver at ``receiver_height_m`` above the ground sees the
    antenna; ``in_radius`` marks the cells evaluated (centre within the radius).
    """

    window: Grid
    row0: int
    col0: int
    visible: np.ndarray
    in_radius: np.ndarray
    n_rays: int


def line_of_sight(grid: Grid, dem: np.ndarray, *, lon: float, lat: float, antenna_height_m: float,
                  radius_km: float, receiver_height_m: float = RECEIVER_HEIGHT_M,
                  k_factor: float = DEFAULT_K_FACTOR,
                  algorithm: str = "sweep", ray_weighting: str = RAY_WEIGHTING,
                  ray_oversampling: float | None = None) -> LineOfSight:
    """Line of sight (viewshed) of one antenna, the terrain model's LOS kernel alone.

    Parameters
    ----------
    grid, dem : Grid, ndarray
        The DEM (metres, NaN nodata) on its grid (geographic or projected).
    lon, lat : float
        Antenna position, WGS 84 degrees.
    antenna_height_m : float
        Antenna height above ground (> 0).
    radius_km : float
        Evaluate cells whose centre lies within this distance.
    receiver_height_m, k_factor : float
        Receiver height above ground; effective earth-radius factor (``inf`` = flat earth).
    algorithm : {"sweep", "radials"}
        How the DEM is traversed (see :class:`TerrainModel`).
    ray_weighting, ray_oversampling
        With ``radials``: how cells combine rays, and rays per cell on the outer ring.
    """
    if not (antenna_height_m > 0):
        raise InputError(f"antenna_height_m = {antenna_height_m!r}; expected a height above ground > 0 m.")
    if not (radius_km > 0):
        raise InputError(f"radius_km = {radius_km!r}; expected km > 0.")
    sites = pd.DataFrame({"site_id": ["los"], "operator": ["-"], "technology": ["4G"], "lon": [float(lon)],
                          "lat": [float(lat)], "antenna_height_m": [float(antenna_height_m)]})
    model = TerrainModel(base="free_space", k_factor=k_factor, receiver_height_m=receiver_height_m,
                         max_radius_km=radius_km, diffraction="none",
                         link_budgets={"4G": {"eirp_dbm": 1e6}}, algorithm=algorithm, ray_weighting=ray_weighting,
                         ray_oversampling=ray_oversampling)
    dem_a = _as_dem(dem, grid, check_min=False)  # checked on the cells read, below
    prep = model._prepare(grid, sites, dem_a, need_ground=True, invalid_sites="error")
    prep.radius_m[:] = radius_km * 1000.0
    sig, r0, c0, _, unhit, n_rays, zmin = model._one(grid, dem_a, prep, 0, los_only=True)
    _check_dem_min(min(zmin, float(dem_a[int(prep.row_f[0]), int(prep.col_f[0])])))
    if unhit:
        raise CovgapError(f"internal error: {unhit} cell(s) inside the radius not reached by a radial.")
    visible, in_radius = _k.los_masks(sig)
    return LineOfSight(window=grid.window(r0, r0 + sig.shape[0], c0, c0 + sig.shape[1]), row0=r0, col0=c0,
                       visible=visible, in_radius=in_radius, n_rays=n_rays)
