"""Exceptions raised by covgap.

One root, :class:`CovgapError`, with builtin parents so that callers who catch
``ValueError`` or ``OSError`` keep working (the pattern of ``rasterio.errors``).
Messages say what was expected, what arrived, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CovgapError",
    "InputError",
    "DataFileError",
    "ConfigError",
    "CRSError",
    "FetchError",
    "CovgapWarning",
    "ModelRangeWarning",
]


class CovgapError(Exception):
    """Root of every error raised by covgap."""


class InputError(CovgapError, ValueError):
    """Input data are present but wrong (bad values, swapped coordinates, no overlap)."""


class DataFileError(CovgapError, OSError):
    """A file is missing, unreadable, or not in the expected format."""


class ConfigError(InputError):
    """A configuration file or option is invalid (unknown key, wrong type, bad value)."""


class CRSError(InputError):
    """A dataset has no coordinate reference system, or an unusable one."""


class FetchError(DataFileError):
    """A download failed or delivered something that is not the expected file."""


class CovgapWarning(UserWarning):
    """Root of warnings issued by covgap (documented, never silent)."""


class ModelRangeWarning(CovgapWarning):
    """A propagation model is used outside its published validity range."""
