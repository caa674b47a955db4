"""The terrain model (line of sight + diffraction over a DEM) and single-site footprints.

It and :class:`~covgap.models.hata.HataModel` implement :class:`covgap.models.base.CoverageModel` like :class:`covgap.models.radius.RadiusModel`,
and fill, per technology, the best received signal (dBm), the serving transmitter (the
strongest), the operators and the number of transmitters at or above the technology's
threshold. Coverage = signal ≥ threshold.

* :class:`HataModel` — ``signal = EIRP − L_base(d) + G_sector``, no terrain.
* :class:`TerrainModel` — the same base loss plus, over the DEM, line of sight with earth
  curvature and refraction (effective radius ``k R``, k = 4/3) and the Bullington
  equivalent-knife-edge diffraction loss of ITU-R P.526-15 when the path is obstructed. The
  DEM is traversed by one sweep over the cells outward from the transmitter
  (``algorithm="sweep"``, default; :mod:`covgap.models._sweep_kernels`) or by radials with the whole
  terrain profile (``algorithm="radials"``; :mod:`covgap.models._terrain_kernels`).

The base loss is Okumura–Hata up to 1500 MHz and COST-231 Hata above (``base="hata"``), or
free space (``base="free_space"``); it is never allowed below free-space loss. Link-budget
values come from the sites table with technology defaults (:mod:`covgap.models.linkbudget`); each
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numba
import numpy as np
import pandas as pd

from ..errors import ConfigError, CovgapError, CovgapWarning, InputError
from ..grid import EARTH_RADIUS_M, Grid
from . import _sweep_kernels as _s
from . import _terrain_kernels as _k
from ._signal import Footprint, _as_dem, _check_choice, _check_dem_min, _grid_scales, _Prepared, _progress, _SignalModel
from .base import Coverage, FootprintWindow
from .hata import HataModel
from .linkbudget import RECEIVER_HEIGHT_M, SIDELOBE_ATTENUATION_DB, technology_defaults
from .location import DEFAULT_LOCATION_PERCENT, DEFAULT_LOCATION_STD_DB

__all__ = [
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
        transmitter (the approach of GDAL's viewshed; :mod:`covgap.models._sweep_kernels`) — each
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
    location_percent, location_std_db : float
        Coverage at this percentage of locations (default 50) and σL (default 5.5 dB), as for
        :class:`~covgap.models.hata.HataModel`.

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
    location_percent: float = DEFAULT_LOCATION_PERCENT
    location_std_db: float = DEFAULT_LOCATION_STD_DB
    name: str = "terrain"

    #: Exact footprints cost a terrain sweep each: the planner bounds them by discs first.
    costly_footprints: ClassVar[bool] = True

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

    def footprints(self, grid: Grid, sites: pd.DataFrame, rows: np.ndarray, *,
                   dem: np.ndarray | None = None) -> Iterator[FootprintWindow]:
        """Yield ``(k, row0, col0, covered)`` per row ``k`` of ``rows``: the batch kernel that
        :meth:`compute` merges (one thread per transmitter), covered where the signal reaches the
        technology's threshold — identical cells to :meth:`compute`.

        Raises
        ------
        InputError
            For a transmitter outside the DEM or on nodata (``invalid_sites`` is not applied here).
        """
        sites = sites.reset_index(drop=True)
        thr = self._covering_dbm_per_row(sites)
        dem_a = _as_dem(dem, grid)
        prep = self._prepare(grid, sites, dem_a, need_ground=True, invalid_sites="error")
        counters = {"nodata": 0, "unhit": 0}
        for k, sig, r0, c0 in self._batches(grid, dem_a, prep, np.asarray(rows, dtype=np.int64), counters):
            with np.errstate(invalid="ignore"):
                yield int(k), r0, c0, np.isfinite(sig) & (sig >= thr[k])
        if counters["unhit"]:
            raise CovgapError(f"internal error: {counters['unhit']} cell(s) inside a radius not reached by a radial.")

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

    def _single_footprint(self, grid: Grid, dem: np.ndarray | None, one: pd.DataFrame,
                          threshold_dbm: float) -> Footprint:
        """The signal window of the one transmitter in ``one``, with all threads on it."""
        dem_a = _as_dem(dem, grid, check_min=False)  # checked on the cells read, below
        prep = self._prepare(grid, one, dem_a, need_ground=True, invalid_sites="error")
        sig, r0, c0, nod, unhit, n_rays, zmin = self._one(grid, dem_a, prep, 0, outside=np.nan)
        _check_dem_min(min(zmin, float(dem_a[int(prep.row_f[0]), int(prep.col_f[0])])))
        if unhit:
            raise CovgapError(f"internal error: {unhit} cell(s) inside the radius not reached by a radial.")
        sig = sig.astype(np.float32, copy=False)
        if self.algorithm == "radials":
            sig[np.isinf(sig)] = np.nan
        return Footprint(window=grid.window(r0, r0 + sig.shape[0], c0, c0 + sig.shape[1]), row0=r0, col0=c0,
                         signal_dbm=sig, threshold_dbm=threshold_dbm, radius_m=float(prep.radius_m[0]), n_rays=n_rays,
                         dem_nodata_cells=nod)


# =========================================================================== single sites
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
    return model._single_footprint(grid, dem, one, thr + model._margin_db())


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
