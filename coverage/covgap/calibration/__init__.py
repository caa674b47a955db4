"""Calibration against measured signal (``covgap calibrate``).

Measured signal (drive tests, crowdsourced samples, OpenCelliD's ``averageSignal`` as weak
measurements) is compared with a model's prediction at each measurement's cell; per operator ×
technology an offset, a spread and, where the data allow, a slope against distance are fitted,
and the error before and after calibration is cross-validated by spatial blocks. The fitted
values are written as a calibration file that ``covgap run`` applies through
``[model] calibration``. The model is used only through its public protocol
(:class:`covgap.models.base.CoverageModel`).

Modules: :mod:`~covgap.calibration.measurements` (what can be used, counted per reason),
:mod:`~covgap.calibration.fit` (prediction, fit, cross-validation), :mod:`~covgap.calibration.outputs`
(calibration file, error table, figure), :mod:`~covgap.calibration.run` (a whole calibration from a
config into an output folder).
"""

from .fit import (
    MIN_POINTS,
    SLOPE_MIN_DECADES,
    SLOPE_MIN_POINTS,
    CalibrationResult,
    calibrate,
    cross_validate,
    fit_calibration,
    predict_signal,
    spatial_folds,
)
from .measurements import (
    DROP_REASONS,
    SIGNAL_MEASURES,
    SIGNAL_RANGES_DBM,
    TECHNOLOGY_ALIASES,
    MeasurementsReport,
    clean_measurements,
    opencellid_measurements,
)
from .outputs import calibration_toml, errors_table, predicted_vs_measured_figure, write_calibration_toml
from .run import calibrate_config

__all__ = [
    "MIN_POINTS",
    "SLOPE_MIN_POINTS",
    "SLOPE_MIN_DECADES",
    "CalibrationResult",
    "calibrate",
    "cross_validate",
    "fit_calibration",
    "predict_signal",
    "spatial_folds",
    "DROP_REASONS",
    "SIGNAL_MEASURES",
    "SIGNAL_RANGES_DBM",
    "TECHNOLOGY_ALIASES",
    "MeasurementsReport",
    "clean_measurements",
    "opencellid_measurements",
    "calibration_toml",
    "write_calibration_toml",
    "errors_table",
    "predicted_vs_measured_figure",
    "calibrate_config",
]
