"""Compare two analyses of the same study area: model against model, source against source.

Answers "how much do the answers change between the radius model and the terrain model, or
between population sources?" per admin unit and overall, and where the cells disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import Analysis
from .errors import InputError

__all__ = ["compare_units", "compare_cells"]


def compare_units(a: Analysis, b: Analysis, *, level: str, labels: tuple[str, str] = ("a", "b"),
                  columns: tuple[str, ...] = ("population", "uncovered", "without_4G")) -> pd.DataFrame:
    """Per-unit figures side by side with differences (``b − a``) and ratios.

    Units are matched by code; a unit missing from either side is an error (compare like
    with like).
    """
    ta = pd.DataFrame(a.units[level].drop(columns="geometry")).set_index("code")
    tb = pd.DataFrame(b.units[level].drop(columns="geometry")).set_index("code")
    if set(ta.index) != set(tb.index):
        raise InputError(f"the two analyses have different {level} units: only in {labels[0]}: "
                         f"{sorted(set(ta.index) - set(tb.index))[:5]}, only in {labels[1]}: "
                         f"{sorted(set(tb.index) - set(ta.index))[:5]}.")
    out = pd.DataFrame({"name": ta["name"]})
    for col in columns:
        out[f"{col}_{labels[0]}"] = ta[col]
        out[f"{col}_{labels[1]}"] = tb.loc[ta.index, col]
        out[f"{col}_change"] = out[f"{col}_{labels[1]}"] - out[f"{col}_{labels[0]}"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["uncovered_ratio"] = out[f"uncovered_{labels[1]}"] / out[f"uncovered_{labels[0]}"]
    return out.reset_index().sort_values("uncovered_change", key=np.abs, ascending=False, ignore_index=True)


def compare_cells(a: Analysis, b: Analysis, *, technology: str = "any") -> dict[str, float]:
    """Agreement of the two coverage maps on the same grid: cells and people.

    Returns counts of people covered in both, only in ``a``, only in ``b``, in neither, and the
    intersection over union of the covered areas.
    """
    a.study.grid.check_same(b.study.grid, what="second analysis grid")
    ca = a.coverage.any_covered() if technology == "any" else a.coverage.covered(technology)
    cb = b.coverage.any_covered() if technology == "any" else b.coverage.covered(technology)
    pa, pb = a.study.population, b.study.population
    area = np.broadcast_to(a.study.grid.cell_area_km2(), ca.shape)
    inter, union = float(area[ca & cb].sum()), float(area[ca | cb].sum())
    return {
        "people_covered_both_a": float(pa[ca & cb].sum()),
        "people_only_a": float(pa[ca & ~cb].sum()),
        "people_only_b": float(pb[cb & ~ca].sum()),
        "people_neither_a": float(pa[~ca & ~cb].sum()),
        "area_km2_only_a": float(area[ca & ~cb].sum()),
        "area_km2_only_b": float(area[cb & ~ca].sum()),
        "iou_area": inter / union if union > 0 else 1.0,
    }
