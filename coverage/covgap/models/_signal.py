"""Shared machinery of the signal models (:mod:`covgap.models.hata`, :mod:`covgap.models.terrain`).

Link budgets per row, the base loss coefficients, each transmitter's radius (where the base loss
uses up its link budget, capped), the merge of per-transmitter signal windows into a
:class:`~covgap.models.base.Coverage`, and the protocol members both models share.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, CovgapWarning, InputError, ModelRangeWarning
from ..grid import EARTH_RADIUS_M, Grid
from ..sites import TECHNOLOGIES
from . import _terrain_kernels as _k
from .base import Coverage, FootprintWindow, TechnologyCoverage, empty_technology, operator_index
from .linkbudget import SIDELOBE_ATTENUATION_DB, LinkBudget, resolve_link_budget, technology_defaults
from .location import DEFAULT_LOCATION_STD_DB, check_location_percent, location_margin_db
from .pathloss import ENVIRONMENTS, FREE_SPACE_CONSTANT_DB, VALIDITY, check_validity, hata_coefficients, wavelength_m

#: Default radius cap for a free-space base model (km); Hata-type bases use their 20 km limit.
FREE_SPACE_MAX_RADIUS_KM = 50.0

#: Lowest plausible land elevation (m); lower is an unmasked nodata value.
_DEM_MIN_M = _k.DEM_MIN_M

#: Optional sites columns the Hata and terrain models read (written by
#: :meth:`covgap.models.CalibratedModel.calibrated_sites`): a row's signal becomes
#: ``signal + slope · (log10 d_km − log10 reference_km)``, applied to the base loss's
#: coefficients (both the empirical and the free-space line), so the signal, the disc radius and
#: :meth:`reach_m` all follow it. Empty or absent = no slope.
SLOPE_COLUMN = "distance_slope_db_per_decade"
SLOPE_REFERENCE_COLUMN = "distance_slope_reference_km"

#: Free-space loss grows 20 dB per decade; a slope at or above it would make the loss fall with distance.
_FREE_SPACE_DB_PER_DECADE = 20.0


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
        The median signal that covers a cell: the technology's threshold plus the model's
        location margin (0 at ``location_percent = 50``).
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



# --------------------------------------------------------------------------- helpers
def _distance_slopes(sites: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray]:
    """Per row, the distance slope (dB/decade, 0 where empty) and log10 of its reference distance
    (km, 0 where no slope); ``(None, …)`` when the table carries no slope."""
    if SLOPE_COLUMN not in sites.columns:
        return None, np.zeros(len(sites))
    slope = pd.to_numeric(sites[SLOPE_COLUMN], errors="coerce").to_numpy(dtype="f8")
    ref = (pd.to_numeric(sites[SLOPE_REFERENCE_COLUMN], errors="coerce").to_numpy(dtype="f8")
           if SLOPE_REFERENCE_COLUMN in sites.columns else np.full(len(sites), np.nan))
    has = np.isfinite(slope) & (slope != 0.0)
    bad = has & ~(np.isfinite(ref) & (ref > 0))
    steep = has & (slope >= _FREE_SPACE_DB_PER_DECADE)
    for what, mask in ((f"no positive {SLOPE_REFERENCE_COLUMN} (km)", bad),
                       (f"a slope >= {_FREE_SPACE_DB_PER_DECADE:g} dB/decade (the loss would no longer grow with "
                        "distance)", steep)):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise InputError(f"{int(mask.sum())} sites row(s) have a {SLOPE_COLUMN} with {what} (first: row {i}, "
                             f"site {sites['site_id'].iloc[i]!r}, slope {slope[i]!r}, reference {ref[i]!r}). "
                             "Fix: give each slope a reference distance > 0 km and keep slopes below "
                             f"{_FREE_SPACE_DB_PER_DECADE:g} dB/decade, or refit with `covgap calibrate --no-slope`.")
    if not has.any():
        return None, np.zeros(len(sites))
    return np.where(has, slope, 0.0), np.where(has, np.log10(np.where(has, ref, 1.0)), 0.0)


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

    #: See :class:`~covgap.models.base.CoverageModel`; the terrain model sets it.
    costly_footprints: ClassVar[bool] = False
    #: The model reads :data:`SLOPE_COLUMN` / :data:`SLOPE_REFERENCE_COLUMN` (a log-distance base loss).
    applies_distance_slope: ClassVar[bool] = True
    name: str
    environment: str
    receiver_height_m: float
    thresholds_dbm: Mapping[str, float] | None
    link_budgets: Mapping[str, Mapping[str, float]] | None
    max_radius_km: float | None
    base: str
    hata_variant: str
    location_percent: float
    location_std_db: float

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
        self.location_percent = check_location_percent(self.location_percent, where="model.location_percent")
        if isinstance(self.location_std_db, bool) or not (
                isinstance(self.location_std_db, (int, float)) and 0 <= self.location_std_db < 100):
            raise ConfigError(f"model.location_std_db = {self.location_std_db!r}; expected dB in [0, 100) "
                              f"(default {DEFAULT_LOCATION_STD_DB:g} dB, ITU-R P.1546-6 §12).")

    def _margin_db(self) -> float:
        """How far above the threshold a transmitter's median must reach to cover ``location_percent``."""
        return location_margin_db(self.location_percent, float(self.location_std_db))

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
            "location_percent": float(self.location_percent),
            "location_std_db": float(self.location_std_db),
            "location_variability": "log-normal over the locations of a cell around the median signal "
                                    "(ITU-R P.1546-6 §12: sigma_L 5.5 dB for digital systems >= 1 MHz)",
        }

    # -------------------------------------------------------------- protocol
    def reach_m(self, grid: Grid, sites: pd.DataFrame) -> np.ndarray:
        """Per row, the link-budget radius (capped at ``max_radius_km``) plus two cell diagonals, in
        metres: the kernels write no cell beyond the radius, and a window adds at most two cells."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelRangeWarning)  # said by compute()
            prep = self._prepare(grid, sites.reset_index(drop=True), None, need_ground=False)
        dxm, dym = grid.cell_size_m()
        return prep.radius_m + 2.0 * float(np.hypot(dxm.max(), dym.max()))

    def thresholds_dbm_per_row(self, sites: pd.DataFrame) -> np.ndarray:
        """The coverage threshold (dBm) of each row's technology."""
        d = technology_defaults(self.link_budgets, self.thresholds_dbm)
        return np.array([float(d[t].threshold_dbm) for t in sites["technology"].astype(str)])

    def _covering_dbm_per_row(self, sites: pd.DataFrame) -> np.ndarray:
        """The median signal (dBm) that covers a cell at ``location_percent``: threshold + margin."""
        return self.thresholds_dbm_per_row(sites) + self._margin_db()

    def footprints(self, grid: Grid, sites: pd.DataFrame, rows: np.ndarray, *,
                   dem: np.ndarray | None = None) -> Iterator[FootprintWindow]:
        """Yield ``(k, row0, col0, covered)`` per row ``k`` of ``rows``: :func:`site_footprint`,
        covered where the signal reaches the technology's threshold at ``location_percent`` (as
        :meth:`compute` merges)."""
        thr = self._covering_dbm_per_row(sites)
        for k in np.asarray(rows, dtype=np.int64):
            f = self._single_footprint(grid, dem, sites.iloc[[int(k)]], float(thr[k]))
            yield int(k), f.row0, f.col0, f.covered

    def _single_footprint(self, grid: Grid, dem: np.ndarray | None, one: pd.DataFrame,
                          threshold_dbm: float) -> Footprint:
        """The signal window of the one transmitter in ``one`` (each model implements it)."""
        raise NotImplementedError

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
                 "extend the DEM (and grid: [study] pad_km = \"reach\") by the largest coverage radius around the "
                 "study area, or drop those rows"),
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
        slope, log_ref = _distance_slopes(sites)
        if slope is not None:
            # signal + s·(L − L_ref) = eirp − max(fa + s·L_ref + (fb − s)·L, pa + s·L_ref + (pb − s)·L)
            fa = fa + slope * log_ref
            fb = fb - slope
            pa = pa + slope * log_ref
            pb = pb - slope
        for m in notes:
            warnings.warn(m, ModelRangeWarning, stacklevel=3)

        # below 50 % of locations the median may sit under the threshold: the disc reaches further
        budget = lb.eirp_dbm - (lb.threshold_dbm + min(self._margin_db(), 0.0))
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
            tc.location_std_db = float(self.location_std_db)
            tc.location_percent = float(self.location_percent)
            techs[tech] = tc
        margin = self._margin_db()
        for k, sig, r0, c0 in footprints:
            row = int(prep.rows[k])
            tc = techs[tech_of[row]]
            _k._merge(sig, int(r0), int(c0), tc.signal_dbm, tc.serving_site, tc.operator_bits, tc.n_sites,
                      float(tc.threshold_dbm) + margin, np.uint32(1 << int(op_idx[row])), np.int32(row))
        params = self.parameters()
        params["link_budget"] = prep.lb.as_dict()
        params["sites_used"] = int(prep.rows.size)
        params["sites_skipped"] = dict(prep.skipped)
        params["model_range_warnings"] = list(prep.notes)
        params.update(extra)
        return Coverage(grid=grid, operators=ops, technologies=techs, sites=sites, model=self.name,
                        parameters=params)


def _progress(it, total: int, enabled: bool):
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="transmitters", unit="tx")
