"""What ``covgap calibrate`` writes: the calibration file (a config fragment), error tables, the plot.

* :func:`calibration_toml` / :func:`write_calibration_toml`: the ``[calibration]`` table that
  ``[model] calibration = "calibration.toml"`` makes ``covgap run`` apply
  (:func:`covgap.config.load_calibration` reads it back; the test suite round-trips it).
* :func:`errors_table`: before/after errors per group (cross-validated), for CSV.
* :func:`predicted_vs_measured_figure`: predicted vs measured before and after calibration
  (a matplotlib :class:`~matplotlib.figure.Figure`; the caller saves it).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import __version__
from .fit import CalibrationResult

__all__ = ["calibration_toml", "write_calibration_toml", "errors_table", "predicted_vs_measured_figure",
           "safe_text_cells"]


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(str(text), ensure_ascii=False)


def _f(v: float, nd: int = 3) -> str:
    return f"{round(float(v), nd):.{nd}f}"


def calibration_toml(result: CalibrationResult, *, fitted_from: str = "", apply_spread: bool = True) -> str:
    """The calibration file's text: a ``[calibration]`` table with one ``[[calibration.group]]`` per fitted
    operator × technology (groups not fitted are listed as comments, with the reason).

    ``apply_spread`` writes ``location_std_db`` (the pooled spread) so that ``covgap run`` uses it as
    the model's σL; without it the line is written as a comment. Deterministic (no dates).
    """
    lines = [
        f"# Calibration fitted by covgap {__version__} (covgap calibrate) with the {result.model!r} model.",
        "# Use it in a run: [model] calibration = \"<this file>\" (path relative to the config).",
        "# offset_db (measured - predicted, mean) is added to the predicted signal of that operator x technology;",
        "# spread_db is the residual standard deviation about it (dof degrees of freedom);",
        "# slope_db_per_decade (vs log10 distance to the serving site, about reference_distance_km) is applied too:",
        "# the pair's signal gets + slope * (log10 d - log10 reference_distance_km), d the distance to the transmitter",
        "# (hata, terrain; p1812 refuses a file with slopes: fit it with covgap calibrate --no-slope).",
        "",
        "[calibration]",
        f"model = {_s(result.model)}",
        f"fitted_from = {_s(fitted_from)}",
    ]
    ls = result.location_std_db
    if math.isfinite(ls):
        lines.append("# Pooled residual spread (dB), used as the model's location spread sigma_L; remove the line to")
        lines.append("# keep the model's own (5.5 dB, ITU-R P.1546-6 §12).")
        lines.append(("" if apply_spread else "# ") + f"location_std_db = {_f(ls)}")
    for r in result.groups.itertuples(index=False):
        lines.append("")
        if not r.fitted:
            lines.append(f"# {r.operator} {r.technology}: {r.n} measurement(s), not fitted ({r.note}).")
            continue
        lines += ["[[calibration.group]]", f"operator = {_s(r.operator)}", f"technology = {_s(r.technology)}",
                  f"offset_db = {_f(r.offset_db)}"]
        if math.isfinite(r.spread_db):
            lines.append(f"spread_db = {_f(r.spread_db)}")
        lines += [f"dof = {int(r.dof)}", f"n = {int(r.n)}"]
        if r.slope_fitted:
            lines.append(f"slope_db_per_decade = {_f(r.slope_db_per_decade)}")
            lines.append(f"reference_distance_km = {_f(r.reference_distance_km, 4)}")
    return "\n".join(lines) + "\n"


def write_calibration_toml(result: CalibrationResult, path: str | Path, *, fitted_from: str = "",
                           apply_spread: bool = True) -> Path:
    """Write :func:`calibration_toml` to ``path`` (UTF-8); return the path."""
    path = Path(path)
    path.write_text(calibration_toml(result, fitted_from=fitted_from, apply_spread=apply_spread), encoding="utf-8")
    return path


def errors_table(result: CalibrationResult) -> pd.DataFrame:
    """Per operator × technology (and ``ALL``): the fit and the cross-validated errors before/after.

    Columns: ``operator, technology, n, fitted, offset_db, spread_db, dof, slope_db_per_decade,
    me_before_db, rmse_before_db, me_after_db, rmse_after_db, rmse_after_slope_db, uncalibrated``.
    """
    fit = result.groups[["operator", "technology", "fitted", "offset_db", "spread_db", "dof", "slope_db_per_decade"]]
    out = result.cv.merge(fit, on=["operator", "technology"], how="left")
    cols = ["operator", "technology", "n", "fitted", "offset_db", "spread_db", "dof", "slope_db_per_decade",
            "me_before_db", "rmse_before_db", "me_after_db", "rmse_after_db", "rmse_after_slope_db", "uncalibrated"]
    return safe_text_cells(out[cols])


def safe_text_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@`` first) get a leading
    apostrophe (OWASP "CSV Injection"); numbers are left alone."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r")
                                else v)
    return out


def predicted_vs_measured_figure(result: CalibrationResult, *, title: str = "") -> Figure:
    """Two panels: measured vs predicted (before) and vs the calibrated prediction out of fold (after).

    "After" is each point predicted with the offsets fitted on the other folds (the
    cross-validation), so the panel shows the error a new measurement would have. Colours are
    the operator × technology groups; the grey line is measured = predicted.
    """
    pts = result.points
    measured = pts["signal_dbm"].to_numpy(dtype="f8")
    before = pts["predicted_dbm"].to_numpy(dtype="f8")
    after = measured - pts["cv_residual_db"].to_numpy(dtype="f8")
    overall = result.cv[result.cv["operator"] == "ALL"].iloc[0]
    fig = Figure(figsize=(10, 5), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    lo = float(np.nanmin([measured.min(), before.min(), after.min()])) - 3
    hi = float(np.nanmax([measured.max(), before.max(), after.max()])) + 3
    groups = list(pts.groupby(["operator", "technology"], sort=True).groups.items())
    cmap = [f"C{i % 10}" for i in range(len(groups))]
    for ax, pred, name, me, rmse in ((axes[0], before, "before calibration", overall["me_before_db"],
                                      overall["rmse_before_db"]),
                                     (axes[1], after, "after calibration (out of fold)", overall["me_after_db"],
                                      overall["rmse_after_db"])):
        for (key, idx), color in zip(groups, cmap, strict=True):
            ii = pts.index.get_indexer(idx)
            ax.scatter(pred[ii], measured[ii], s=6, alpha=0.5, color=color, label=f"{key[0]} {key[1]}",
                       linewidths=0)
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel("predicted signal (dBm)")
        ax.set_title(f"{name}\nME {me:+.2f} dB, RMSE {rmse:.2f} dB (n = {len(pts):,})", fontsize=10)
        ax.grid(True, lw=0.3)
    axes[0].set_ylabel("measured signal (dBm)")
    axes[1].legend(fontsize=7, markerscale=2, loc="lower right")
    fig.suptitle(title or f"Predicted vs measured signal, {result.model} model "
                          "(residual = measured - predicted)", fontsize=11)
    return fig
