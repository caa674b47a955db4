r"""Vietnam's provincial units: the 63 former provinces, the 34 current ones, and the crosswalk.

Since 1 July 2025 Vietnam has 34 provincial-level units (Resolution 202/2025/QH15: 6 centrally-run
cities and 28 provinces; 23 formed from *whole* former provinces, 11 unchanged). Most public
boundary files (geoBoundaries, GADM) still carry the 63 former provinces. This module ships the two
lists and the crosswalk as package data (``covgap/data/vn_provinces_63.csv``,
``vn_provinces_34.csv``; sources in that folder's README), matches boundary features to the official
codes whatever spelling or text encoding the file used, and dissolves former-province polygons into
current provinces.

Because every former province lies wholly inside one current province, any per-former-province sum
can be re-aggregated to the 34 scheme exactly (:func:`aggregate_to_current`): the totals are the
same in both schemes by construction.

Text encoding: shapefiles without a ``.cpg`` are often read as latin-1, turning UTF-8 names into
mojibake (``"HÃ  Ná»\x99i"`` for ``"Hà Nội"``). :func:`repair_text` undoes that with the standard
library only (re-encode with the wrong codec, decode as UTF-8, keep the result only if it is valid
and shorter — the heuristic of *ftfy*), and :func:`decode_legacy` decodes raw bytes in a Vietnamese
legacy code page.
"""

from .matching import dissolve_former, dissolve_to_current, match_former_provinces
from .names import decode_legacy, is_mojibake, name_key, repair_names, repair_text
from .provinces import (
    aggregate_to_current,
    crosswalk,
    current_code_of,
    population_2020,
    population_2020_path,
    provinces_34,
    provinces_63,
)
from .units2025 import units_2025

__all__ = [
    "provinces_63",
    "provinces_34",
    "crosswalk",
    "repair_text",
    "decode_legacy",
    "repair_names",
    "is_mojibake",
    "name_key",
    "match_former_provinces",
    "dissolve_former",
    "dissolve_to_current",
    "current_code_of",
    "aggregate_to_current",
    "population_2020",
    "population_2020_path",
    "units_2025",
]
