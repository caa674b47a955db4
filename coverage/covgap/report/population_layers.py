"""Report of a population-layer comparison (:func:`covgap.compare.compare_population_layers`) as XLSX."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from ..compare import PopulationLayerComparison
from .exports import write_sheet
from .i18n import synthetic_banner

__all__ = ["write_population_comparison"]


def write_population_comparison(comparison: PopulationLayerComparison, path: str | Path, *,
                                synthetic: bool, sources: pd.DataFrame | None = None) -> Path:
    """Write ``path`` (XLSX): sheets *Layers* (totals per layer), *Units* (people without signal per
    unit under each layer, spread, ranks) and *Gap zones*; optional *Sources* (one row per layer:
    where it came from). ``synthetic`` puts the SYNTHETIC DEMO banner on every sheet."""
    path = Path(path)
    banner = synthetic_banner("en") if synthetic else None
    notes = comparison.notes
    wb = Workbook()
    wb.remove(wb.active)
    write_sheet(wb, "Layers", comparison.totals, banner=banner)
    write_sheet(wb, "Units", comparison.units, banner=banner)
    write_sheet(wb, "Gap zones", comparison.clusters, banner=banner)
    what = pd.DataFrame({"item": ["admin level", "people without", "gap zones from", "smallest zone listed (people)",
                                  "connectivity"],
                         "value": [notes["level"], f"{notes['technology']} signal", f"{notes['zones']} layer(s)",
                                   notes["min_population"], notes["connectivity"]]})
    write_sheet(wb, "About", what, banner=banner)
    if sources is not None:
        write_sheet(wb, "Sources", sources, banner=banner)
    wb.save(path)
    return path
