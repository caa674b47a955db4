"""Predicted signal at measurement points, offsets and spreads per operator × technology, and
k-fold cross-validation by spatial blocks.

Conventions (every table and figure of ``covgap calibrate``):

* **residual** = measured − predicted (dB); a positive mean residual means the model predicts
  too little signal. The **offset** of a group is its mean residual; calibrated prediction =
  predicted + offset (what ``covgap run`` applies, :class:`covgap.models.CalibratedModel`).
* **spread** = the standard deviation of the residuals about the offset, with ``dof = n − 1``
  degrees of freedom: what is left after calibration, offered as the location variability σL.
* **slope** (dB per decade of distance to the serving site, fitted where the data carry enough
  distance range: at least :data:`SLOPE_MIN_POINTS` points whose distances span at least
  :data:`SLOPE_MIN_DECADES` decade from the nearest to the farthest):
  residual = offset + slope·(log10 d − mean log10 d), the reference distance ``reference_distance_km`` = 10^(mean log10 d). A slope says the model's
  distance law is off; it is written to the calibration file and ``covgap run`` applies it with
  the offset (hata, terrain: :class:`covgap.models.CalibratedModel`); P.1812 cannot, so fit it
  with ``fit_slope=False`` (``covgap calibrate --no-slope``). A large slope is still a hint to
  choose another environment or model.
* **cross-validation**: measurements are grouped in square blocks of ``block_km`` (10 km by
  default) and whole blocks are assigned to ``folds`` folds at random (seeded), so a fit never
  sees the neighbours of the points it is tested on. Each fold is predicted with offsets fitted
  on the other folds; mean error (ME) and RMSE of the residuals before and after calibration are
  reported per group and overall.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, ModelRangeWarning
from ..grid import EARTH_RADIUS_M, haversine_m
from ..models.base import CoverageModel
from ..study import StudyArea
from .measurements import MeasurementsReport, clean_measurements

__all__ = [
    "SLOPE_MIN_POINTS",
    "SLOPE_MIN_DECADES",
    "MIN_POINTS",
    "MIN_DISTANCE_KM",
    "CalibrationResult",
    "predict_signal",
    "fit_calibration",
    "spatial_folds",
    "cross_validate",
    "calibrate",
]

#: A group needs this many measurements for an offset (fewer: reported, not fitted).
MIN_POINTS = 10
#: A slope is fitted only with at least this many measurements …
SLOPE_MIN_POINTS = 30
#: … whose distances to the serving site span at least this many decades (nearest to farthest).
SLOPE_MIN_DECADES = 1.0
#: Distances below this (a measurement in the mast's own cell) count as this in log10 d.
MIN_DISTANCE_KM = 0.01

_GROUP = ["operator", "technology"]


def predict_signal(model: CoverageModel, study: StudyArea, measurements: pd.DataFrame, *,
                   progress: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """The model's signal at each measurement's cell from the best server of its operator × technology.

    The model runs once per operator on that operator's sites (its public ``compute``: any model
    of the protocol, tiled or not); the prediction of a measurement is that run's
    ``signal_dbm`` of the measurement's technology at its cell, the serving site its
    ``serving_site``. Returns the table with ``predicted_dbm`` (NaN where no transmitter of the
    pair reaches the cell), ``serving_site_id``, ``distance_km`` (great circle, measurement to
    serving site), ``residual_db`` (measured − predicted), and the model-range notes.

    ``measurements`` needs ``operator``, ``technology`` (2G-5G), ``row``, ``col``, ``lon``, ``lat``,
    ``signal_dbm`` (as :func:`covgap.calibration.clean_measurements` returns them).

    Raises
    ------
    InputError
        The model has no signal (the radius model): nothing to compare a measurement with.
    """
    out = measurements.reset_index(drop=True).copy()
    n = len(out)
    pred = np.full(n, np.nan)
    serving = np.full(n, "", dtype=object)
    dist = np.full(n, np.nan)
    notes: list[str] = []
    sites = study.sites
    for op in sorted(out["operator"].astype(str).unique()):
        sel_m = (out["operator"].astype(str) == op).to_numpy()
        op_sites = sites[sites["operator"].astype(str) == op].reset_index(drop=True)
        if op_sites.empty:
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelRangeWarning)
            cov = model.compute(study.grid, op_sites, dem=study.dem, progress=progress)
        for w in caught:
            if issubclass(w.category, ModelRangeWarning):
                if str(w.message) not in notes:
                    notes.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        for tech in sorted(out.loc[sel_m, "technology"].astype(str).unique()):
            tc = cov.technologies.get(tech)
            idx = np.flatnonzero(sel_m & (out["technology"].astype(str) == tech).to_numpy())
            if tc is None:
                continue
            if tc.signal_dbm is None:
                raise InputError(f"the {model.name!r} model gives no signal (dBm), so measurements cannot be "
                                 "compared with it. Fix: calibrate a signal model (--model hata, terrain or p1812).")
            r = out["row"].to_numpy(dtype=np.int64)[idx]
            c = out["col"].to_numpy(dtype=np.int64)[idx]
            pred[idx] = tc.signal_dbm[r, c].astype("f8")
            k = tc.serving_site[r, c]
            ok = k >= 0
            kk = np.where(ok, k, 0)
            serving[idx] = np.where(ok, op_sites["site_id"].astype(str).to_numpy()[kk], "")
            d = haversine_m(out["lon"].to_numpy(dtype="f8")[idx], out["lat"].to_numpy(dtype="f8")[idx],
                            op_sites["lon"].to_numpy(dtype="f8")[kk], op_sites["lat"].to_numpy(dtype="f8")[kk])
            dist[idx] = np.where(ok, d / 1000.0, np.nan)
    pred[~np.isfinite(pred)] = np.nan
    out["predicted_dbm"] = pred
    out["serving_site_id"] = serving
    out["distance_km"] = dist
    out["residual_db"] = out["signal_dbm"].to_numpy(dtype="f8") - pred
    return out, notes


def _log_distance(d_km: np.ndarray) -> np.ndarray:
    return np.log10(np.maximum(np.asarray(d_km, dtype="f8"), MIN_DISTANCE_KM))


def _fit_group(resid: np.ndarray, d_km: np.ndarray, *, min_points: int, slope_min_points: int,
               slope_min_decades: float, fit_slope: bool = True) -> dict[str, Any]:
    n = int(resid.size)
    row: dict[str, Any] = {"n": n, "fitted": n >= min_points, "offset_db": np.nan, "offset_se_db": np.nan,
                           "spread_db": np.nan, "dof": max(n - 1, 0), "distance_decades": np.nan,
                           "slope_fitted": False, "slope_db_per_decade": np.nan, "slope_se_db": np.nan,
                           "reference_distance_km": np.nan, "spread_with_slope_db": np.nan, "note": ""}
    if n == 0:
        row["note"] = "no measurements"
        return row
    x = _log_distance(d_km)
    row["distance_decades"] = float(x.max() - x.min()) if n >= 2 else 0.0
    if n < min_points:
        row["note"] = f"fewer than {min_points} measurements: not fitted (left as predicted)"
        return row
    off = float(resid.mean())
    sd = float(resid.std(ddof=1)) if n >= 2 else np.nan
    row.update(offset_db=off, spread_db=sd, offset_se_db=sd / math.sqrt(n) if n >= 2 else np.nan)
    xm = float(x.mean())
    row["reference_distance_km"] = float(10.0 ** xm)
    if not fit_slope:
        row["note"] = "slope not fitted (fit_slope=False, covgap calibrate --no-slope)"
    elif n >= slope_min_points and row["distance_decades"] >= slope_min_decades:
        dx = x - xm
        sxx = float((dx * dx).sum())
        b = float((dx * (resid - off)).sum() / sxx)
        e = resid - off - b * dx
        s2 = float((e * e).sum() / (n - 2))
        row.update(slope_fitted=True, slope_db_per_decade=b, slope_se_db=math.sqrt(s2 / sxx),
                   spread_with_slope_db=math.sqrt(s2))
    elif n >= slope_min_points:
        row["note"] = (f"distances span {row['distance_decades']:.2f} decade(s) (< {slope_min_decades:g}): "
                       "no slope")
    else:
        row["note"] = f"fewer than {slope_min_points} measurements: no slope"
    return row


def fit_calibration(table: pd.DataFrame, *, min_points: int = MIN_POINTS, slope_min_points: int = SLOPE_MIN_POINTS,
                    slope_min_decades: float = SLOPE_MIN_DECADES, fit_slope: bool = True) -> pd.DataFrame:
    """Offset, spread and (where the data allow) slope per operator × technology.

    ``fit_slope=False`` fits no slope at all (offsets only; for a model without a log-distance
    path loss, such as P.1812, whose runs cannot apply a slope).

    ``table`` needs ``operator``, ``technology``, ``residual_db`` and ``distance_km`` (rows with a
    prediction: :func:`predict_signal`). See the module docstring for the definitions.

    Returns one row per group: ``operator, technology, n, fitted, offset_db, offset_se_db,
    spread_db, dof, distance_decades, slope_fitted, slope_db_per_decade, slope_se_db,
    reference_distance_km, spread_with_slope_db, note``.

    Examples
    --------
    >>> t = pd.DataFrame({"operator": ["A"] * 10, "technology": ["4G"] * 10,
    ...                   "residual_db": [2.0, 4.0] * 5, "distance_km": [1.0] * 10})
    >>> g = fit_calibration(t)
    >>> float(g.loc[0, "offset_db"]), round(float(g.loc[0, "spread_db"]), 4), int(g.loc[0, "dof"])
    (3.0, 1.0541, 9)
    """
    rows = []
    for (op, tech), g in table.groupby(_GROUP, sort=True):
        r = g["residual_db"].to_numpy(dtype="f8")
        d = g["distance_km"].to_numpy(dtype="f8")
        rows.append({"operator": op, "technology": tech,
                     **_fit_group(r, d, min_points=min_points, slope_min_points=slope_min_points,
                                  slope_min_decades=slope_min_decades, fit_slope=fit_slope)})
    cols = ["operator", "technology", "n", "fitted", "offset_db", "offset_se_db", "spread_db", "dof",
            "distance_decades", "slope_fitted", "slope_db_per_decade", "slope_se_db", "reference_distance_km",
            "spread_with_slope_db", "note"]
    return pd.DataFrame(rows, columns=cols)


def spatial_folds(lon: np.ndarray, lat: np.ndarray, *, folds: int = 5, block_km: float = 10.0,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fold (0 … folds−1) and block id of each point: square blocks of ``block_km``, whole blocks per fold.

    Blocks are cells of an equirectangular projection about the points' mean latitude (metres
    right to well under 1 % over a province); they are shuffled with ``seed`` and dealt to the
    folds in turn, so every fold gets whole blocks and about the same number of them.

    Raises
    ------
    InputError
        Fewer blocks than folds (the message gives the fix).

    Examples
    --------
    >>> f, b = spatial_folds(np.array([105.0, 105.001, 105.5]), np.array([21.0, 21.0, 21.0]), folds=2)
    >>> bool(f[0] == f[1]), bool(f[0] != f[2])
    (True, True)
    """
    if not (isinstance(folds, int) and folds >= 2):
        raise InputError(f"folds = {folds!r}; expected a whole number >= 2.")
    if not (block_km > 0 and math.isfinite(block_km)):
        raise InputError(f"block_km = {block_km!r}; expected kilometres > 0.")
    lon = np.asarray(lon, dtype="f8")
    lat = np.asarray(lat, dtype="f8")
    lat0 = math.radians(float(np.mean(lat))) if lat.size else 0.0
    x = EARTH_RADIUS_M * math.cos(lat0) * np.radians(lon)
    y = EARTH_RADIUS_M * np.radians(lat)
    b = block_km * 1000.0
    keys = np.stack([np.floor(x / b), np.floor(y / b)], axis=1).astype(np.int64)
    uniq, block = np.unique(keys, axis=0, return_inverse=True)
    block = np.asarray(block).reshape(-1)
    if len(uniq) < folds:
        raise InputError(f"the measurements lie in {len(uniq)} block(s) of {block_km:g} km, fewer than the "
                         f"{folds} folds of the cross-validation. Fix: smaller blocks (--block-km) or fewer "
                         "folds (--folds), or measurements spread over a wider area.")
    order = np.random.default_rng(seed).permutation(len(uniq))
    fold_of_block = np.empty(len(uniq), dtype=np.int64)
    fold_of_block[order] = np.arange(len(uniq)) % folds
    return fold_of_block[block], block


def _metrics(r: np.ndarray) -> tuple[float, float]:
    if r.size == 0:
        return np.nan, np.nan
    return float(r.mean()), float(np.sqrt((r * r).mean()))


def cross_validate(table: pd.DataFrame, *, folds: int = 5, block_km: float = 10.0, seed: int = 0,
                   min_points: int = MIN_POINTS, slope_min_points: int = SLOPE_MIN_POINTS,
                   slope_min_decades: float = SLOPE_MIN_DECADES,
                   fit_slope: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """k-fold cross-validation by spatial blocks: error before and after calibration.

    Each fold's points are predicted with the offsets (and slopes) fitted on the other folds
    (:func:`fit_calibration`); a group without a fitted offset in the training folds stays
    uncalibrated for that fold (counted in ``uncalibrated``).

    Returns
    -------
    points : DataFrame
        ``table`` with ``fold``, ``block``, ``cv_residual_db`` (after the offset, out of fold)
        and ``cv_residual_slope_db`` (after offset and slope where a slope was fitted, else the
        same as ``cv_residual_db``).
    groups : DataFrame
        Per operator × technology and a last row ``ALL``: ``n``, ``me_before_db``,
        ``rmse_before_db``, ``me_after_db``, ``rmse_after_db``, ``rmse_after_slope_db``,
        ``uncalibrated`` (points predicted without an offset).
    info : dict
        ``folds``, ``block_km``, ``seed``, ``blocks``, points per fold.
    """
    t = table.reset_index(drop=True).copy()
    fold, block = spatial_folds(t["lon"].to_numpy(), t["lat"].to_numpy(), folds=folds, block_km=block_km, seed=seed)
    t["fold"] = fold
    t["block"] = block
    after = np.full(len(t), np.nan)
    after_slope = np.full(len(t), np.nan)
    uncal = np.zeros(len(t), dtype=bool)
    resid = t["residual_db"].to_numpy(dtype="f8")
    x = _log_distance(t["distance_km"].to_numpy(dtype="f8"))
    key = t["operator"].astype(str) + "\x1f" + t["technology"].astype(str)
    for f in range(folds):
        test = fold == f
        fit = fit_calibration(t.loc[~test], min_points=min_points, slope_min_points=slope_min_points,
                              slope_min_decades=slope_min_decades, fit_slope=fit_slope)
        fitted = fit[fit["fitted"]]
        off = dict(zip(fitted["operator"].astype(str) + "\x1f" + fitted["technology"].astype(str),
                       fitted["offset_db"], strict=True))
        slope = {k: (b, math.log10(ref)) for k, b, ref, ok in zip(
            fitted["operator"].astype(str) + "\x1f" + fitted["technology"].astype(str),
            fitted["slope_db_per_decade"], fitted["reference_distance_km"], fitted["slope_fitted"], strict=True) if ok}
        idx = np.flatnonzero(test)
        keys = key.to_numpy()[idx]
        o = np.array([off.get(k, np.nan) for k in keys], dtype="f8")
        uncal[idx] = ~np.isfinite(o)
        o = np.where(np.isfinite(o), o, 0.0)
        after[idx] = resid[idx] - o
        s = np.array([slope[k][0] * (x[i] - slope[k][1]) if k in slope else 0.0
                      for k, i in zip(keys, idx, strict=True)], dtype="f8")
        after_slope[idx] = resid[idx] - o - s
    t["cv_residual_db"] = after
    t["cv_residual_slope_db"] = after_slope
    t["cv_uncalibrated"] = uncal
    rows = []
    for (op, tech), g in t.groupby(_GROUP, sort=True):
        rows.append(_cv_row(op, tech, g))
    rows.append(_cv_row("ALL", "ALL", t))
    groups = pd.DataFrame(rows)
    info = {"folds": folds, "block_km": float(block_km), "seed": int(seed), "blocks": int(block.max() + 1),
            "points_per_fold": [int((fold == f).sum()) for f in range(folds)],
            "error_convention": "residual = measured - predicted (dB); ME = mean residual, RMSE = root mean square"}
    return t, groups, info


def _cv_row(op: str, tech: str, g: pd.DataFrame) -> dict[str, Any]:
    me_b, rmse_b = _metrics(g["residual_db"].to_numpy(dtype="f8"))
    me_a, rmse_a = _metrics(g["cv_residual_db"].to_numpy(dtype="f8"))
    _, rmse_s = _metrics(g["cv_residual_slope_db"].to_numpy(dtype="f8"))
    return {"operator": op, "technology": tech, "n": int(len(g)), "me_before_db": me_b, "rmse_before_db": rmse_b,
            "me_after_db": me_a, "rmse_after_db": rmse_a, "rmse_after_slope_db": rmse_s,
            "uncalibrated": int(g["cv_uncalibrated"].sum())}


@dataclass
class CalibrationResult:
    """Everything ``covgap calibrate`` reports (see :func:`calibrate`).

    Attributes
    ----------
    points : DataFrame
        The measurements used: input columns, ``line``, ``predicted_dbm``, ``serving_site_id``,
        ``distance_km``, ``residual_db``, ``calibrated_dbm`` (predicted + the full-data offset),
        ``fold``, ``block``, ``cv_residual_db``, ``cv_residual_slope_db``.
    dropped : DataFrame
        ``line, reason, operator, technology, lon, lat, signal_dbm`` of every measurement left out.
    report : MeasurementsReport
        Counts per reason.
    groups : DataFrame
        :func:`fit_calibration` on all the points used.
    cv : DataFrame
        :func:`cross_validate`'s per-group errors (last row ``ALL``).
    location_std_db : float
        Pooled spread, √(Σ dof·spread² / Σ dof) over the fitted groups: the σL written to the
        calibration file. A group with a slope counts its spread about offset + slope
        (``spread_with_slope_db``, dof n−2), since ``covgap run`` applies both; others their
        ``spread_db`` (dof n−1).
    model : str
        The model kind calibrated; ``model_parameters`` its parameters.
    """

    points: pd.DataFrame
    dropped: pd.DataFrame
    report: MeasurementsReport
    groups: pd.DataFrame
    cv: pd.DataFrame
    cv_info: dict[str, Any]
    location_std_db: float
    model: str
    model_parameters: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)

    @property
    def offsets_db(self) -> dict[tuple[str, str], float]:
        """Fitted offsets by (operator, technology) (fitted groups only)."""
        g = self.groups[self.groups["fitted"]]
        return {(str(o), str(t)): float(v) for o, t, v in zip(g["operator"], g["technology"], g["offset_db"],
                                                               strict=True)}

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: counts, groups, cross-validation, rules."""
        def plain(df: pd.DataFrame) -> list[dict[str, Any]]:
            recs = df.to_dict(orient="records")
            return [{k: (None if isinstance(v, float) and not math.isfinite(v) else
                         v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in recs]

        overall = self.cv[self.cv["operator"] == "ALL"].iloc[0]
        return {
            "model": self.model,
            "model_parameters": self.model_parameters,
            "measurements": self.report.as_dict(),
            "location_std_db": None if not math.isfinite(self.location_std_db) else self.location_std_db,
            "groups": plain(self.groups),
            "cross_validation": {**self.cv_info, "groups": plain(self.cv),
                                 "overall": {k: (None if isinstance(v, float) and not math.isfinite(v) else
                                                 v.item() if isinstance(v, np.generic) else v)
                                             for k, v in overall.items()}},
            "rules": self.rules,
        }


def calibrate(study: StudyArea, model: CoverageModel, measurements: pd.DataFrame, *,
              line_of: np.ndarray | None = None, where: str = "line", source: str = "measurements",
              folds: int = 5, block_km: float = 10.0, seed: int = 0, min_points: int = MIN_POINTS,
              slope_min_points: int = SLOPE_MIN_POINTS, slope_min_decades: float = SLOPE_MIN_DECADES,
              signal_ranges_dbm=None, fit_slope: bool = True, progress: bool = False) -> CalibrationResult:
    """Clean the measurements, predict them with ``model``, fit per operator × technology, cross-validate.

    One call for :func:`covgap.calibration.clean_measurements`, :func:`predict_signal`,
    :func:`fit_calibration` and :func:`cross_validate`; measurements without a prediction (no
    transmitter of the pair reaches the cell) are counted as ``no_prediction``. Deterministic for
    a given ``seed``. ``fit_slope=False``: offsets and spreads only, no distance slope.

    Raises
    ------
    InputError
        No measurement is left to fit (the message gives the counts per reason), or the model
        has no signal.
    """
    kept, dropped, rep = clean_measurements(measurements, study, line_of=line_of, where=where, source=source,
                                            signal_ranges_dbm=signal_ranges_dbm)
    pts, notes = predict_signal(model, study, kept, progress=progress) if len(kept) else (kept, [])
    rep.notes.extend(notes)
    if len(pts):
        nopred = ~np.isfinite(pts["predicted_dbm"].to_numpy(dtype="f8"))
        if nopred.any():
            rep.drop("no_prediction", pts.loc[nopred, "line"].to_numpy())
            extra = pts.loc[nopred, ["line", "operator", "technology", "lon", "lat", "signal_dbm"]].copy()
            extra.insert(1, "reason", "no_prediction")
            dropped = pd.concat([dropped, extra], ignore_index=True).sort_values("line", kind="stable")
            pts = pts.loc[~nopred].reset_index(drop=True)
        rep.rows_used = int(len(pts))
    if len(pts) == 0:
        raise InputError(f"{source}: no measurement can be compared with the model ({rep.rows_in} rows; left out: "
                         f"{rep.as_dict()['dropped']}). Fix: check that the measurements lie in the study area, "
                         "name the operators as the towers table does, and hold dBm values of the measure "
                         "expected per technology (RxLev, RSCP, RSRP).")
    groups = fit_calibration(pts, min_points=min_points, slope_min_points=slope_min_points,
                             slope_min_decades=slope_min_decades, fit_slope=fit_slope)
    if not groups["fitted"].any():
        raise InputError(f"{source}: no operator x technology has {min_points} or more usable measurements "
                         f"(groups: {dict(zip(groups['operator'] + ' ' + groups['technology'], groups['n'], strict=True))}). "
                         "Fix: bring more measurements, or lower min_points.")
    pts, cv, info = cross_validate(pts, folds=folds, block_km=block_km, seed=seed, min_points=min_points,
                                   slope_min_points=slope_min_points, slope_min_decades=slope_min_decades,
                                   fit_slope=fit_slope)
    off = {(o, t): v for o, t, v, ok in zip(groups["operator"], groups["technology"], groups["offset_db"],
                                             groups["fitted"], strict=True) if ok}
    pts["calibrated_dbm"] = pts["predicted_dbm"] + np.array(
        [off.get((o, t), 0.0) for o, t in zip(pts["operator"], pts["technology"], strict=True)], dtype="f8")
    # the spread about what `covgap run` applies: offset + slope where a slope is fitted (dof n - 2)
    fitted = groups[groups["fitted"] & (groups["dof"] > 0)]
    sloped = fitted["slope_fitted"].to_numpy(dtype=bool)
    dof = fitted["dof"].to_numpy(dtype="f8") - sloped
    spread = np.where(sloped, fitted["spread_with_slope_db"].to_numpy(dtype="f8"),
                      fitted["spread_db"].to_numpy(dtype="f8"))
    pooled = float(np.sqrt((dof * spread ** 2).sum() / dof.sum())) if dof.sum() > 0 else float("nan")
    rules = {"min_points": min_points, "fit_slope": bool(fit_slope), "slope_min_points": slope_min_points,
             "slope_min_decades": slope_min_decades,
             "slope_distance_range": "max - min of log10(distance to the serving site)",
             "min_distance_km": MIN_DISTANCE_KM, "duplicate_key": "operator, technology, lon/lat to 1e-6 degree, time",
             "residual": "measured - predicted (dB)", "offset": "mean residual per operator x technology",
             "spread": "standard deviation of the residuals about the offset, dof = n - 1",
             "location_std_db": "pooled spread over the fitted groups, about offset + slope where a slope is "
                                 "fitted (what covgap run applies)"}
    return CalibrationResult(points=pts, dropped=dropped.reset_index(drop=True), report=rep, groups=groups, cv=cv,
                             cv_info=info, location_std_db=pooled, model=model.name,
                             model_parameters=model.parameters(), rules=rules)
