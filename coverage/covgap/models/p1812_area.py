"""Area prediction with ITU-R P.1812-6 (``[model] kind = "p1812"``): exact and fast modes.

For every cell within ``max_radius_km`` of a transmitter the basic transmission loss Lb of
:mod:`covgap.models.p1812` is evaluated over the terrain profile from the transmitter to the cell
centre; the signal is ``eirp_dbm + sector gain − Lb`` (isotropic receiving antenna).

``method = "exact"``: the profile is sampled from the DEM at the DEM's resolution (bilinear
heights at equal steps along the straight line in grid coordinates, which on windows of tens of
km is the great-circle path to well within a cell) and evaluated with
:func:`covgap.models.p1812.transmission_loss_many` (cost proportional to the number of profile
points): the reference in tests and benchmarks.

``method = "fast"`` (default): the profile reductions are carried outward along radials from
the transmitter (``covgap.models._p1812_fast``: running maxima, prefix sums and upper convex
hulls; the last ``receiver_points`` points before each cell sampled on its own line where the
exact mode samples them), the same equations after them, and every cell whose signal lies within
``recheck_margin_db`` of its technology's coverage level is evaluated exactly, so coverage near
the threshold is the exact mode's. Measured accuracy and time: ``docs/design.md``, "P.1812 fast
area mode" (benchmark ``benchmarks/b6_p1812_fast.py``).

Land cover: with ``clutter_height_m`` and ``zone`` (arrays on the DEM grid, e.g.
from :func:`covgap.landcover.make_landcover`) every profile point carries the representative
clutter height R and the radio-climatic zone of the cell it falls in (nearest cell: classes
are not interpolated); without them every point is open/rural (Table 2 category 2, R = 0 m)
and inland (zone 4), and ``parameters()`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..grid import Grid
from ..sites import TECHNOLOGIES
from .base import Coverage, FootprintWindow, empty_technology, footprints_by_compute, operator_index
from .linkbudget import RECEIVER_HEIGHT_M, resolve_link_budget, sector_gain_db, technology_defaults
from .location import check_location_percent, location_margin_db
from ._p1812_fast import WHOLE_PROFILE, fast_losses
from .p1812 import P1812_VERSION, location_std_db, transmission_loss_many

__all__ = ["P1812Model"]

_EARTH_RADIUS_KM = 6371.0  # mean earth radius of P.1812-6 (Eq (7a))
_MIN_DISTANCE_KM = 0.25  # lower end of P.1812-6's distance range
_OPEN_RURAL = 2  # Table 2 category used where no land cover is given
_INLAND = 4  # radio-climatic zone used where no land/sea mask is given


def _haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return 2.0 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _bearing_deg(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlam = np.radians(lon2 - lon1)
    y = np.sin(dlam) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlam)
    return np.degrees(np.arctan2(y, x)) % 360.0


def _bilinear(dem: np.ndarray, row_f: np.ndarray, col_f: np.ndarray) -> np.ndarray:
    """DEM heights at fractional (row, col) positions (cell centres at +0.5), edges clamped."""
    ny, nx = dem.shape
    r = np.clip(row_f - 0.5, 0.0, ny - 1.0)
    c = np.clip(col_f - 0.5, 0.0, nx - 1.0)
    r0 = np.minimum(np.floor(r).astype(np.int64), max(ny - 2, 0))
    c0 = np.minimum(np.floor(c).astype(np.int64), max(nx - 2, 0))
    r1 = np.minimum(r0 + 1, ny - 1)
    c1 = np.minimum(c0 + 1, nx - 1)
    fr = r - r0
    fc = c - c0
    top = dem[r0, c0] * (1.0 - fc) + dem[r0, c1] * fc
    bot = dem[r1, c0] * (1.0 - fc) + dem[r1, c1] * fc
    return top * (1.0 - fr) + bot * fr


def _sample_landcover(clut, zon, row_f, col_f, d_km, npts):
    """R, zone, dct and dcr of each profile point from the cell it falls in (nearest cell, no interpolation).

    ``dct``/``dcr``: distance along the path from the transmitter to its first sea point and
    from the receiver back to its last one (P.1812-6 §4.5: distance over land to the coast),
    500 km where the path has no sea (the function's "no coast" default).
    """
    if clut is None and zon is None:
        return 0.0, float(_INLAND), 500.0, 500.0
    ny, nx = (clut if clut is not None else zon).shape
    ri = np.clip(np.floor(row_f).astype(np.int64), 0, ny - 1)
    ci = np.clip(np.floor(col_f).astype(np.int64), 0, nx - 1)
    r_pts = 0.0 if clut is None else clut[ri, ci].astype("f8")
    if zon is None:
        return r_pts, float(_INLAND), 500.0, 500.0
    z_pts = zon[ri, ci].astype("f8")
    m, n = z_pts.shape
    sea = (z_pts == 1) & (np.arange(n)[None, :] < np.asarray(npts)[:, None])
    has = sea.any(axis=1)
    first = np.argmax(sea, axis=1)
    last = np.asarray(npts) - 1 - np.argmax(sea[np.arange(m)[:, None], (np.asarray(npts)[:, None] - 1
                                                                         - np.arange(n)[None, :]).clip(0)], axis=1)
    rows = np.arange(m)
    dtot = d_km[rows, np.asarray(npts) - 1]
    dct = np.where(has, d_km[rows, first], 500.0)
    dcr = np.where(has, dtot - d_km[rows, last], 500.0)
    return r_pts, z_pts, dct, dcr


@dataclass(kw_only=True)
class P1812Model:
    """Signal and coverage from ITU-R P.1812-6 over the DEM, one exact profile per cell.

    Parameters
    ----------
    receiver_height_m : float
        Receiving antenna height above ground [m] (P.1812's hrg), default 1.5.
    thresholds_dbm, link_budgets : mapping, optional
        Overrides of :data:`covgap.models.linkbudget.DEFAULT_LINK_BUDGETS`, as for the other models.
    max_radius_km : float
        Cells farther than this from a transmitter are not evaluated (default 10 km; the cost
        grows with the square of the radius times the profile length).
    time_percent : float
        P.1812's p [%], 1-50; default 50 (median time).
    location_percent : float
        P.1812's pL [%], 1-99; default 50 (median over locations). The signal is the median;
        a transmitter covers a cell where the median minus σL·Φ⁻¹(pL/100) reaches the threshold,
        σL the §4.8 location variability for a square of side ``location_window_m`` (one value
        per technology, see :meth:`compute`).
    location_window_m : float, optional
        wa of §4.8 [m]; default the grid's cell size.
    delta_n, n0 : float
        Path-centre refractivity lapse rate DN [N-units/km] and sea-level surface
        refractivity N0 [N-units]. P.1812-6 takes them from its digital maps at the path
        centre, which covgap does not ship yet; the defaults 45 and 325 are the values of
        :func:`covgap.models.p1812.transmission_loss` (typical mid-latitude values, not
        Vietnam's): pass the study area's values.
    polarisation : {"vertical", "horizontal"}
        Default vertical (mobile networks).
    batch_points : int
        Profile points evaluated together (memory: about 40 float64 arrays of this size).
    clutter_height_m, zone : ndarray (ny, nx), optional
        Representative clutter height R [m] and radio-climatic zone (1 sea, 3 coastal land,
        4 inland) per DEM cell, e.g. :class:`covgap.landcover.LandCover`'s arrays. Each profile
        point takes its cell's values; R is added to the terrain of the intermediate points and
        the terminals stand on the ground (P.1812-6 §3.2); dct/dcr are the distances along the
        path from each terminal to its first sea point (500 km when the path has none). ``None``:
        open/rural and inland everywhere.
    landcover_grid : Grid, optional
        The grid those arrays are on, when :meth:`compute` may be called on windows of it
        (tiles, planning footprints); without it the arrays must have the DEM's shape.
    landcover_source : str
        What the land cover is (recorded in ``parameters()``).
    method : {"fast", "exact"}
        ``"exact"``: one profile per cell, sampled to the cell centre (the reference).
        ``"fast"`` (default): the profile reductions carried outward along radials from the
        transmitter (``covgap.models._p1812_fast``; each cell on the radial nearest its azimuth,
        with its own distance and height), the same equations after them, then every cell whose
        signal lies within ``recheck_margin_db`` of its technology's coverage level evaluated
        exactly, so that coverage near the threshold is the exact mode's.
    recheck_margin_db : float
        Width of that band [dB] (default 1; 0 re-evaluates nothing).
    radial_spacing_cells : float
        Spacing of the fast mode's radials at ``max_radius_km``, in cells (default 1).
    receiver_points : int
        In the fast mode, the last this many profile points before each cell are sampled on the
        cell's own line where the exact mode samples them (default 10; the terrain next to the
        receiver matters most).

    Examples
    --------
    >>> P1812Model(location_percent=90).parameters()["location_percent"]
    90.0
    """

    receiver_height_m: float = RECEIVER_HEIGHT_M
    thresholds_dbm: Mapping[str, float] | None = None
    link_budgets: Mapping[str, Mapping[str, float]] | None = None
    max_radius_km: float = 10.0
    time_percent: float = 50.0
    location_percent: float = 50.0
    location_window_m: float | None = None
    delta_n: float = 45.0
    n0: float = 325.0
    polarisation: str = "vertical"
    batch_points: int = 400_000
    clutter_height_m: np.ndarray | None = field(default=None, repr=False, compare=False)
    zone: np.ndarray | None = field(default=None, repr=False, compare=False)
    landcover_grid: Grid | None = field(default=None, repr=False, compare=False)
    landcover_source: str = ""
    method: str = "fast"
    recheck_margin_db: float = 1.0
    radial_spacing_cells: float = 1.0
    receiver_points: int = 10
    name: str = "p1812"
    #: Each footprint is a set of P.1812 path evaluations: the planner bounds them by discs first.
    costly_footprints: ClassVar[bool] = True

    def __post_init__(self) -> None:
        for key, lo, hi in (
            ("receiver_height_m", 1.0, 3000.0),
            ("max_radius_km", 0.25, 3000.0),
            ("time_percent", 1.0, 50.0),
            ("location_percent", 1.0, 99.0),
        ):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and lo <= v <= hi):
                raise ConfigError(f"model.{key} = {v!r}; expected a number in [{lo:g}, {hi:g}] (ITU-R P.1812-6).")
        if self.location_window_m is not None and not (
            isinstance(self.location_window_m, (int, float)) and self.location_window_m > 0
        ):
            raise ConfigError(f"model.location_window_m = {self.location_window_m!r}; expected metres > 0.")
        if not (isinstance(self.batch_points, int) and self.batch_points >= 1000):
            raise ConfigError(f"model.batch_points = {self.batch_points!r}; expected an integer >= 1000.")
        if self.method not in ("fast", "exact"):
            raise ConfigError(f"model.p1812.method = {self.method!r}; expected 'fast' or 'exact'. Fix: method = "
                              '"fast" (radials, exact near the threshold) or "exact" (one profile per cell).')
        for key in ("recheck_margin_db", "radial_spacing_cells"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
                    and (key == "recheck_margin_db" or v > 0)):
                raise ConfigError(f"model.p1812.{key} = {v!r}; expected a number "
                                  f"{'>= 0 (dB)' if key == 'recheck_margin_db' else '> 0 (cells)'}.")
        if not (isinstance(self.receiver_points, int) and not isinstance(self.receiver_points, bool)
                and self.receiver_points >= 1):
            raise ConfigError(f"model.p1812.receiver_points = {self.receiver_points!r}; expected an integer >= 1.")
        if self.polarisation not in ("vertical", "horizontal"):
            raise ConfigError(f"model.polarisation = {self.polarisation!r}; expected 'vertical' or 'horizontal'.")
        if not (isinstance(self.delta_n, (int, float)) and 0 <= self.delta_n < 157):
            raise ConfigError(f"model.delta_n = {self.delta_n!r}; expected N-units/km in [0, 157).")
        if not (isinstance(self.n0, (int, float)) and self.n0 > 0):
            raise ConfigError(f"model.n0 = {self.n0!r}; expected N-units > 0.")
        technology_defaults(self.link_budgets, self.thresholds_dbm)  # raises ConfigError early
        self._check_landcover()
        self.location_percent = check_location_percent(self.location_percent, where="model.location_percent")

    def parameters(self) -> dict[str, Any]:
        """Model parameters for provenance (JSON-serialisable)."""
        return {
            "model": self.name,
            "method": P1812_VERSION,
            "mode": ("exact: one P.1812 profile per cell, sampled at the DEM's resolution (batched in numpy)"
                     if self.method == "exact" else
                     "fast: profile reductions carried along radials from the transmitter (one per "
                     f"{self.radial_spacing_cells:g} cell at max_radius_km), the cells within "
                     f"{self.recheck_margin_db:g} dB of their coverage level re-evaluated over their whole exact "
                     "profile"),
            "p1812_method": self.method,
            "recheck_margin_db": float(self.recheck_margin_db),
            "radial_spacing_cells": float(self.radial_spacing_cells),
            "receiver_points": int(self.receiver_points),
            "receiver_height_m": float(self.receiver_height_m),
            "max_radius_km": float(self.max_radius_km),
            "time_percent": float(self.time_percent),
            "location_percent": float(self.location_percent),
            "location_window_m": None if self.location_window_m is None else float(self.location_window_m),
            "location_variability": "signal = median over locations (pL = 50); covered at location_percent where "
                                    "median - sigma_L * Phi^-1(pL/100) >= threshold, sigma_L of P.1812-6 §4.8 per "
                                    "technology (its largest over the technology's transmitters)",
            "delta_n": float(self.delta_n),
            "n0": float(self.n0),
            "polarisation": self.polarisation,
            "land_cover": (f"{self.landcover_source or 'given as arrays'}: R per profile point from its DEM cell"
                           if self.clutter_height_m is not None else
                           "none given: every profile point open/rural (P.1812-6 Table 2 category 2, R = 0 m)"),
            "land_cover_digest": getattr(self, "_landcover_digest", None),
            "radio_climatic_zone": ("per profile point from its DEM cell (1 sea, 3 coastal land, 4 inland)"
                                    if self.zone is not None else
                                    "inland (zone 4) everywhere: no land/sea mask given"),
            "near_field": f"cells nearer than {_MIN_DISTANCE_KM} km: free-space loss (P.1812-6 Eq (8))",
            "link_budgets": {
                t: d.as_dict() for t, d in technology_defaults(self.link_budgets, self.thresholds_dbm).items()
            },
        }

    def _cell_size_m(self, grid: Grid, lat_deg: float) -> tuple[float, float]:
        dx, dy = grid.res
        if grid.is_geographic:
            m_per_deg = math.radians(1.0) * _EARTH_RADIUS_KM * 1000.0
            return dx * m_per_deg * math.cos(math.radians(lat_deg)), dy * m_per_deg
        return float(dx), float(dy)

    def _check_landcover(self) -> None:
        for key in ("clutter_height_m", "zone"):
            a = getattr(self, key)
            if a is None:
                continue
            a = np.asarray(a)
            if a.ndim != 2:
                raise InputError(f"P1812Model {key} must be a 2-D array on the DEM grid; got shape {a.shape}. "
                                 "Fix: pass covgap.landcover.LandCover's arrays.")
            setattr(self, key, a)
        if self.clutter_height_m is not None:
            r = self.clutter_height_m
            if not np.isfinite(r).all() or (r < 0).any():
                raise InputError("P1812Model clutter_height_m must be finite and >= 0 m everywhere "
                                 "(P.1812-6 Table 2 heights). Fix: build them with covgap.landcover.clutter_arrays.")
        if self.zone is not None and not np.isin(self.zone, (1, 3, 4)).all():
            raise InputError("P1812Model zone must be 1 (sea), 3 (coastal land) or 4 (inland) in every cell. "
                             "Fix: build it with covgap.landcover.radio_climatic_zone.")
        if (self.clutter_height_m is not None and self.zone is not None
                and self.clutter_height_m.shape != self.zone.shape):
            raise InputError(f"P1812Model clutter_height_m {self.clutter_height_m.shape} and zone "
                             f"{self.zone.shape} differ in shape. Fix: put both on the DEM grid.")
        shape = next((a.shape for a in (self.clutter_height_m, self.zone) if a is not None), None)
        self._landcover_digest = None
        if shape is not None:  # in parameters(): a resumed tiled run never reuses tiles of other land cover
            import hashlib

            h = hashlib.blake2b(digest_size=12)
            for a in (self.clutter_height_m, self.zone):
                if a is not None:
                    h.update(str((a.dtype.str, a.shape)).encode())
                    h.update(np.ascontiguousarray(a).tobytes())
            self._landcover_digest = h.hexdigest()
        if self.landcover_grid is not None and shape is not None and shape != self.landcover_grid.shape:
            raise InputError(f"P1812Model land-cover arrays have shape {shape}; landcover_grid has "
                             f"{self.landcover_grid.shape}. Fix: pass the grid the arrays are on.")

    def _landcover_window(self, grid: Grid) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The land-cover arrays on ``grid`` (the whole land-cover grid or a window of it)."""
        arrays = (self.clutter_height_m, self.zone)
        if all(a is None for a in arrays):
            return None, None
        shape = next(a.shape for a in arrays if a is not None)
        if self.landcover_grid is None:
            if shape != grid.shape:
                raise InputError(f"P1812Model land-cover arrays have shape {shape}; the DEM grid has {grid.shape}. "
                                 "Fix: pass landcover_grid so windows of it can be cut, or arrays on the DEM grid.")
            return arrays
        lg, t, lt = self.landcover_grid, grid.transform, self.landcover_grid.transform
        c0 = (t.c - lt.c) / lt.a
        r0 = (t.f - lt.f) / lt.e
        ok = (abs(t.a - lt.a) <= 1e-9 * abs(lt.a) and abs(t.e - lt.e) <= 1e-9 * abs(lt.e)
              and abs(c0 - round(c0)) < 1e-6 and abs(r0 - round(r0)) < 1e-6)
        c0, r0 = int(round(c0)), int(round(r0))
        if not ok or r0 < 0 or c0 < 0 or r0 + grid.ny > lg.ny or c0 + grid.nx > lg.nx:
            raise InputError("P1812Model: the grid computed on is not a window of the land-cover grid "
                             "(landcover_grid). Fix: put the land cover on the study grid.")
        win = (slice(r0, r0 + grid.ny), slice(c0, c0 + grid.nx))
        return tuple(None if a is None else a[win] for a in arrays)

    def _window_cells(self, grid, rows, cols, row_s, col_s, lon_s, lat_s, dx_m, dy_m, azimuth_deg, beamwidth_deg):
        """Cell-centre lon/lat, great-circle distance [km] and sector gain [dB] of the window ``(rows, cols)``.

        Computed only on the cells that can lie within ``max_radius_km`` (a disc in grid metres with a
        2 % + 2-cell margin; the rest get NaN lon/lat, infinite distance, gain 0), the whole window
        where a selected cell comes near that disc's edge (a CRS whose scale differs from the grid
        units, or a radius of thousands of km). Omni sites (NaN azimuth) get gain 0 without bearings.
        """
        t = grid.transform
        east_m = (cols + 0.5 - col_s) * dx_m
        south_m = (rows + 0.5 - row_s) * dy_m
        planar_m = np.hypot(east_m, south_m)
        edge_m = self.max_radius_km * 1000.0 * 1.02 + 2.0 * max(dx_m, dy_m)
        for cand in (planar_m <= edge_m, None):
            pick = (slice(None),) if cand is None else np.nonzero(cand)
            rr, cc = rows[pick], cols[pick]
            lon_p, lat_p = (np.asarray(a, dtype="f8") for a in grid.to_lonlat(t.c + t.a * (cc + 0.5),
                                                                              t.f + t.e * (rr + 0.5)))
            dist_p = _haversine_km(lat_s, lon_s, lat_p, lon_p)
            inside = dist_p <= self.max_radius_km
            if cand is None or not np.any(planar_m[pick][inside] > edge_m - 1.5 * max(dx_m, dy_m)):
                break
        shape = rows.shape
        lon_c, lat_c = np.full(shape, np.nan), np.full(shape, np.nan)
        dist = np.full(shape, np.inf)
        gain = np.zeros(shape)
        lon_c[pick], lat_c[pick], dist[pick] = lon_p, lat_p, dist_p
        if math.isfinite(azimuth_deg):  # NaN azimuth: omni, sector_gain_db gives 0 dB
            gain[pick] = sector_gain_db(_bearing_deg(lat_s, lon_s, lat_p, lon_p), azimuth_deg, beamwidth_deg)
        return lon_c, lat_c, dist, gain

    def reach_m(self, grid: Grid, sites: pd.DataFrame) -> np.ndarray:
        """Per row, ``max_radius_km`` in metres: no cell farther from the transmitter is evaluated."""
        return np.full(len(sites), self.max_radius_km * 1000.0)

    def footprints(self, grid: Grid, sites: pd.DataFrame, rows: np.ndarray, *,
                   dem: np.ndarray | None = None) -> Iterator[FootprintWindow]:
        """Exact footprints: :meth:`compute` per row on the window of its reach."""
        return footprints_by_compute(self, grid, sites, rows, dem=dem)

    def _fast_fill(self, sig, dem_arr, clut, zon, r0, r1, c0, c1, rows, cols, br, bc, dist, lon_c, lat_c, gain, eirp,
                   step_km, dx_m, dy_m, row_s, col_s, lat_s, lon_s, htg, hrg, f_ghz, pol, level) -> tuple[np.ndarray, int]:
        """Fast mode: fill ``sig[br, bc]`` (window indices); the cells within ``recheck_margin_db`` of
        ``level`` again over their whole exact profile. ``clut``/``zon``: the land-cover arrays on the
        DEM grid computed on (:meth:`_landcover_window`) or None. Returns (done, cells re-evaluated):
        cells not done (DEM nodata on a profile) go to the batched exact path."""
        win = (slice(r0, r1), slice(c0, c1))
        # per-DEM-cell clutter heights R [m] and radio-climatic zones where the model has them
        clutter, zone = clut, zon
        clutter = np.zeros(dem_arr[win].shape) if clutter is None else np.asarray(clutter, dtype="f8")[win]
        zone = np.full(dem_arr[win].shape, float(_INLAND)) if zone is None else np.asarray(zone, dtype="f8")[win]
        n_rad = max(8, int(math.ceil(2.0 * math.pi * self.max_radius_km / (step_km * self.radial_spacing_cells))))

        def losses(sel, n_tail):
            return fast_losses(
                dem=dem_arr[win], clutter=clutter, zone=zone, row_s=row_s - r0, col_s=col_s - c0, dx_m=dx_m,
                dy_m=dy_m, step_km=step_km, rows=rows[br[sel], bc[sel]] - r0, cols=cols[br[sel], bc[sel]] - c0,
                dist_km=dist[sel], htg=htg, hrg=hrg, f_ghz=f_ghz, p=float(self.time_percent), pol=pol,
                DN=float(self.delta_n), N0=float(self.n0), phi_t=lat_s, lam_t=lon_s, phi_r=lat_c[br[sel], bc[sel]],
                lam_r=lon_c[br[sel], bc[sel]], n_rad=n_rad, n_tail=n_tail,
            )

        lb, status = losses(slice(None), self.receiver_points)
        done = status == 0
        sig[br[done], bc[done]] = eirp + gain[br[done], bc[done]] - lb[done]
        # near the coverage level: the exact mode's whole profile (same points and equations; the
        # kernel with every point on the cell's own line equals transmission_loss_many, tested)
        band = np.flatnonzero(done & (np.abs(sig[br, bc] - level) <= self.recheck_margin_db))
        if band.size:
            lb2, st2 = losses(band, WHOLE_PROFILE)
            ok = band[st2 == 0]
            sig[br[ok], bc[ok]] = eirp + gain[br[ok], bc[ok]] - lb2[st2 == 0]
            done[band[st2 != 0]] = False
        return done, int(band.size)

    def compute(
        self, grid: Grid, sites: pd.DataFrame, *, dem: np.ndarray | None = None, progress: bool = False
    ) -> Coverage:
        """Compute signal and coverage of validated ``sites`` on ``grid`` over ``dem`` (metres amsl).

        ``signal_dbm`` is the median over locations. σL (§4.8, receiver at ``receiver_height_m`` in
        open/rural clutter, wa = ``location_window_m`` or the cell size) is one value per technology,
        the largest over its transmitters (they differ only where their frequencies differ), so that
        a cell is covered at ``location_percent`` exactly where its coverage probability reaches it.
        """
        if dem is None:
            raise InputError(
                "the P.1812 model needs a DEM (elevation in metres on the study grid) and got none. "
                "Fix: set [inputs] dem, or use the 'hata' or 'radius' model where no DEM is available."
            )
        dem_arr = np.ma.filled(np.ma.asarray(dem).astype("f8"), np.nan) if np.ma.isMaskedArray(dem) else dem
        dem_arr = np.asarray(dem_arr, dtype="f8")
        if dem_arr.shape != grid.shape:
            raise InputError(f"DEM array has shape {dem_arr.shape}; the grid has {grid.shape}.")
        sites = sites.reset_index(drop=True)
        if len(sites) == 0:
            raise InputError("sites table is empty: nothing to compute coverage from.")
        defaults = technology_defaults(self.link_budgets, self.thresholds_dbm)
        lb = resolve_link_budget(sites, defaults=defaults)
        bad = (lb.frequency_mhz < 30.0) | (lb.frequency_mhz > 6000.0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"sites row {i} (site {sites['site_id'].iloc[i]!r}): frequency_mhz = {lb.frequency_mhz[i]:g}; "
                "ITU-R P.1812-6 covers 30-6000 MHz. Fix: correct the frequency or use another model for it."
            )
        ops, op_idx = operator_index(sites)
        tech_of = sites["technology"].astype(str).to_numpy()
        techs = {}
        for tech in TECHNOLOGIES:
            if (tech_of == tech).any():
                tc = empty_technology(tech, grid.shape, signal=True)
                tc.threshold_dbm = float(defaults[tech].threshold_dbm)
                techs[tech] = tc

        lon_s = sites["lon"].to_numpy(dtype="f8")
        lat_s = sites["lat"].to_numpy(dtype="f8")
        xs, ys = grid.from_lonlat(lon_s, lat_s)
        t = grid.transform
        col_s = (np.asarray(xs, dtype="f8") - t.c) / t.a
        row_s = (np.asarray(ys, dtype="f8") - t.f) / t.e
        inside = (row_s >= 0) & (row_s < grid.ny) & (col_s >= 0) & (col_s < grid.nx)
        if not inside.all():
            i = int(np.flatnonzero(~inside)[0])
            raise InputError(
                f"sites row {i} (site {sites['site_id'].iloc[i]!r}) lies outside the DEM; its ground height "
                "is unknown. Fix: extend the DEM and grid around the study area, or drop the row."
            )
        pol = 2 if self.polarisation == "vertical" else 1
        hrg = float(self.receiver_height_m)
        clut, zon = self._landcover_window(grid)
        # sigma_L's u(h) uses R at the receiver; one sigma per technology, so the tallest clutter present
        r_sigma = 0.0 if self.clutter_height_m is None else float(np.max(self.clutter_height_m, initial=0.0))
        sigma_row = np.empty(len(sites))
        for k in range(len(sites)):
            dx_m, dy_m = self._cell_size_m(grid, float(lat_s[k]))
            wa = self.location_window_m if self.location_window_m is not None else math.sqrt(dx_m * dy_m)
            sigma_row[k] = location_std_db(float(lb.frequency_mhz[k]) / 1e3, hrg, r_sigma, wa_m=wa)
        cover_dbm = {}
        for tech, tc in techs.items():
            tc.location_std_db = float(sigma_row[tech_of == tech].max())
            tc.location_percent = float(self.location_percent)
            cover_dbm[tech] = tc.threshold_dbm + location_margin_db(self.location_percent, tc.location_std_db)
        n_cells = 0
        n_unknown = 0
        n_fast = 0
        n_recheck = 0
        for k in range(len(sites)):
            f_ghz = float(lb.frequency_mhz[k]) / 1e3
            dx_m, dy_m = self._cell_size_m(grid, float(lat_s[k]))
            step_km = min(dx_m, dy_m) / 1000.0
            rr = self.max_radius_km * 1000.0 / dy_m + 1
            cr = self.max_radius_km * 1000.0 / dx_m + 1
            r0, r1 = max(int(row_s[k] - rr), 0), min(int(row_s[k] + rr) + 1, grid.ny)
            c0, c1 = max(int(col_s[k] - cr), 0), min(int(col_s[k] + cr) + 1, grid.nx)
            rows, cols = np.mgrid[r0:r1, c0:c1]
            lon_c, lat_c, dist, gain = self._window_cells(grid, rows, cols, float(row_s[k]), float(col_s[k]),
                                                          float(lon_s[k]), float(lat_s[k]), dx_m, dy_m,
                                                          float(lb.azimuth_deg[k]), float(lb.beamwidth_deg[k]))
            sig = np.full(dist.shape, np.nan)
            htg = float(lb.antenna_height_m[k])
            sel_r, sel_c = np.nonzero(dist <= self.max_radius_km)
            n_cells += sel_r.size
            dk = dist[sel_r, sel_c]
            eirp = float(lb.eirp_dbm[k])
            # below P.1812's range: free space (Eq (8)) between the antennas
            near = dk < _MIN_DISTANCE_KM
            if near.any():
                nr, nc = sel_r[near], sel_c[near]
                z_s = _bilinear(dem_arr, np.array([row_s[k]]), np.array([col_s[k]]))[0]
                z_c = _bilinear(dem_arr, rows[nr, nc] + 0.5, cols[nr, nc] + 0.5)
                dz_km = ((z_s + htg) - (z_c + hrg)) / 1000.0
                dfs2 = np.maximum(dk[near] ** 2 + dz_km**2, 1e-6)  # at least 1 m between the antennas
                lbk = 92.4 + 20.0 * math.log10(f_ghz) + 10.0 * np.log10(dfs2)
                sig[nr, nc] = eirp + gain[nr, nc] - lbk
            far = np.flatnonzero(~near)
            if self.method == "fast" and far.size:
                done, n_band = self._fast_fill(sig, dem_arr, clut, zon, r0, r1, c0, c1, rows, cols, sel_r[far], sel_c[far],
                                               dk[far], lon_c, lat_c, gain, eirp, step_km, dx_m, dy_m,
                                               float(row_s[k]), float(col_s[k]), float(lat_s[k]), float(lon_s[k]),
                                               htg, hrg, f_ghz, pol, cover_dbm[tech_of[k]])
                n_fast += int(done.sum())
                n_recheck += n_band
                far = far[~done]  # left to the batched exact path
            npts_all = np.maximum(3, np.ceil(dk[far] / step_km).astype(np.int64) + 1)
            order = far[np.argsort(npts_all, kind="stable")]
            npts_sorted = np.sort(npts_all, kind="stable")
            start = 0
            while start < order.size:
                # paths sorted by length: a batch holds at most batch_points profile points
                stop = min(start + max(1, self.batch_points // int(npts_sorted[start])), order.size)
                while stop - start > 1 and (stop - start) * int(npts_sorted[stop - 1]) > self.batch_points:
                    stop = start + (stop - start) // 2
                idx = order[start:stop]
                npts = npts_sorted[start:stop]
                nmax = int(npts[-1])
                start = stop
                br, bc = sel_r[idx], sel_c[idx]
                frac = np.minimum(np.arange(nmax)[None, :] / (npts[:, None] - 1.0), 1.0)
                rr_f = row_s[k] + frac * ((rows[br, bc] + 0.5) - row_s[k])[:, None]
                cc_f = col_s[k] + frac * ((cols[br, bc] + 0.5) - col_s[k])[:, None]
                h = _bilinear(dem_arr, rr_f, cc_f)
                known = np.isfinite(h).all(axis=1)  # DEM nodata on a path: terrain unknown, no signal
                n_unknown += int((~known).sum())
                if not known.any():
                    continue
                br, bc, frac, h, npts = br[known], bc[known], frac[known], h[known], npts[known]
                d_km = frac * dist[br, bc][:, None]
                r_pts, z_pts, dct, dcr = _sample_landcover(clut, zon, rr_f[known], cc_f[known], d_km, npts)
                lbk, _ = transmission_loss_many(
                    f_ghz, self.time_percent, d_km, h, r_pts, float(_OPEN_RURAL),
                    z_pts, npts, htg, hrg, pol, phi_t=float(lat_s[k]), phi_r=lat_c[br, bc],
                    lam_t=float(lon_s[k]), lam_r=lon_c[br, bc], pL=50.0, sigmaL=0.0,
                    DN=self.delta_n, N0=self.n0, dct=dct, dcr=dcr,
                )
                sig[br, bc] = eirp + gain[br, bc] - lbk
            tc = techs[tech_of[k]]
            win = (slice(r0, r1), slice(c0, c1))
            best = tc.signal_dbm[win]
            better = np.isfinite(sig) & ~(sig <= best)  # NaN in best counts as worse
            best[better] = sig[better].astype(np.float32)
            tc.serving_site[win][better] = k
            ok = np.isfinite(sig) & (sig >= cover_dbm[tech_of[k]])
            tc.operator_bits[win][ok] |= np.uint32(1 << int(op_idx[k]))
            tc.n_sites[win][ok] += 1
        params = self.parameters()
        params["link_budget"] = lb.as_dict()
        params["sites_used"] = len(sites)
        params["cells_evaluated"] = n_cells
        params["cells_with_unknown_terrain"] = n_unknown
        if self.method == "fast":
            params["cells_fast"] = n_fast
            params["cells_rechecked_exact"] = n_recheck
        return Coverage(grid=grid, operators=ops, technologies=techs, sites=sites, model=self.name,
                        parameters=params)
