"""A whole calibration from a config into an output folder (``covgap calibrate``), atomically."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import Config
from ..errors import ModelRangeWarning
from ..io import load_study_area, read_measurements, sha256_file
from ..models import make_model
from ..outdir import staging_dir
from .fit import CalibrationResult, calibrate
from .outputs import errors_table, predicted_vs_measured_figure, safe_text_cells, write_calibration_toml

__all__ = ["calibrate_config", "OUTPUT_FILES"]

#: What :func:`calibrate_config` writes into its output folder.
OUTPUT_FILES = {
    "calibration.toml": "the fitted offsets per operator x technology ([model] calibration = this file)",
    "calibration.json": "summary: measurement counts (used, left out per reason), fit, cross-validation, inputs",
    "calibration_errors.csv": "per operator x technology and ALL: offset, spread, ME and RMSE before/after "
                              "(cross-validated by spatial blocks)",
    "measurements_used.csv": "each measurement used: predicted, residual, fold, out-of-fold residual",
    "measurements_dropped.csv": "each measurement left out, with its file line and reason",
    "predicted_vs_measured.png": "predicted vs measured before and after calibration",
}


def calibrate_config(cfg: Config, measurements: str | Path, out_dir: str | Path, *, model_kind: str | None = None,
                     folds: int = 5, block_km: float = 10.0, seed: int = 0, layer: str | None = None,
                     encoding: str | None = None, apply_spread: bool = True, fit_slope: bool = True,
                     progress: bool = False) -> CalibrationResult:
    """Calibrate the model of ``cfg`` against ``measurements`` and write :data:`OUTPUT_FILES` into ``out_dir``.

    The model is the config's (or ``model_kind``) *without* any calibration the config already
    names: offsets are always fitted against the uncalibrated model. ``out_dir`` follows the rules
    of :mod:`covgap.outdir` (written atomically with a manifest; never replaces a folder holding
    the config, an input, the measurements or files covgap did not write there).
    ``fit_slope=False`` (``--no-slope``) fits and writes no distance slope (offsets only).
    """
    meas = Path(measurements)
    protect: dict[str, Path] = {"measurements file": meas}
    if cfg.path is not None:
        protect["config being calibrated"] = Path(cfg.path)
    for role, ref in cfg.inputs().items():
        protect[f"input {role!r}"] = Path(ref.path)
    with staging_dir(out_dir, command="calibrate", protect=protect) as tmp:
        table, line_of, where = read_measurements(meas, encoding=encoding, layer=layer)
        study = load_study_area(cfg, read_landcover=(model_kind or cfg.model.kind) == "p1812")
        prior = cfg.model.calibration
        model = make_model(dataclasses.replace(cfg.model, calibration=None), has_dem=study.dem is not None,
                           kind=model_kind, landcover=study.landcover)
        result = calibrate(study, model, table, line_of=line_of, where=where, source=f"measurements file {meas}",
                           folds=folds, block_km=block_km, seed=seed, fit_slope=fit_slope, progress=progress)
        if prior is not None:
            result.report.notes.append(f"the config's calibration {prior.path} was not applied: offsets are fitted "
                                       "against the uncalibrated model")
        sha = sha256_file(meas)
        fitted_from = (f"{meas.name} (sha256 {sha}; {result.report.rows_in} rows, {result.report.rows_used} used)")
        write_calibration_toml(result, tmp / "calibration.toml", fitted_from=fitted_from, apply_spread=apply_spread)
        errors_table(result).to_csv(tmp / "calibration_errors.csv", index=False, float_format="%.4f")
        safe_text_cells(result.points.drop(columns=["row", "col"], errors="ignore")).to_csv(
            tmp / "measurements_used.csv", index=False, float_format="%.4f")
        safe_text_cells(result.dropped).to_csv(tmp / "measurements_dropped.csv", index=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelRangeWarning)
            fig = predicted_vs_measured_figure(result, title=(
                f"{'SYNTHETIC DEMO - ' if study.synthetic else ''}Predicted vs measured signal, "
                f"{result.model} model, {meas.name}"))
        fig.savefig(tmp / "predicted_vs_measured.png", dpi=110)
        summary: dict[str, Any] = {
            "covgap_version": __version__,
            "study_area": study.name,
            "synthetic": bool(study.synthetic),
            "measurements_file": {"path": str(meas), "sha256": sha, "bytes": meas.stat().st_size},
            **result.summary(),
            "inputs": study.sources,
            "outputs": OUTPUT_FILES,
        }
        (tmp / "calibration.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False, default=str) + "\n",
                                              encoding="utf-8")
    return result
