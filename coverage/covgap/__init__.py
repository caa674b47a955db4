"""covgap — find and count people without mobile signal.

covgap computes **uncovered population** from tower locations, terrain and gridded
population, per technology and operator, and reports it by admin unit, gap cluster and
hamlet. See the README for the data flow and ``covgap --help`` for the command line.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("covgap")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
