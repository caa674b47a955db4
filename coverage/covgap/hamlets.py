"""Hamlet status: for each hamlet point, is there signal, of which technology and operator.

Hamlets (thôn/bản) are how Vietnam counts coverage gaps. Each point is looked up in the
cell that contains it. Hamlets outside the grid or outside every admin unit are kept and
flagged (``status`` = ``outside study area`` / ``outside admin units``), never dropped.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .gaps import nearest_site_km
from .models.base import Coverage
from .study import AdminLevel

__all__ = ["hamlet_status", "hamlet_counts"]


def hamlet_status(hamlets: gpd.GeoDataFrame, coverage: Coverage, *, admin: list[AdminLevel],
                  dem: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Per hamlet: covered or not, technologies and operators present, best generation.

    Adds columns ``status`` (``covered``, ``no signal``, ``2G only`` …, or outside flags),
    ``covered_any``, ``covered_<tech>``, ``technologies``, ``operators``, ``n_operators``,
    ``<level>_code``/``<level>_name``, ``distance_to_nearest_site_km``, ``elevation_m`` (when a
    DEM is given) and ``signal_margin_db_<tech>`` for signal models.
    """
    grid = coverage.grid
    out = hamlets.copy()
    x, y = grid.from_lonlat(out["lon"].to_numpy(), out["lat"].to_numpy())
    r, c = grid.rowcol(x, y)
    inside = grid.contains_rowcol(r, c)
    rr = np.where(inside, r, 0)
    cc = np.where(inside, c, 0)
    techs = sorted(coverage.technologies)
    any_bits = np.zeros(len(out), dtype=np.uint32)
    tech_lists: list[list[str]] = [[] for _ in range(len(out))]
    for tech in techs:
        tc = coverage.technologies[tech]
        bits = np.where(inside, tc.operator_bits[rr, cc], 0).astype(np.uint32)
        out[f"covered_{tech}"] = bits != 0
        any_bits |= bits
        for i in np.flatnonzero(bits):
            tech_lists[i].append(tech)
        if tc.signal_dbm is not None and tc.threshold_dbm is not None:
            sig = np.where(inside, tc.signal_dbm[rr, cc], np.nan)
            out[f"signal_margin_db_{tech}"] = sig - tc.threshold_dbm
    out["covered_any"] = any_bits != 0
    out["technologies"] = [", ".join(t) for t in tech_lists]
    out["operators"] = [", ".join(coverage.operator_names(int(b))) for b in any_bits]
    out["n_operators"] = [len(coverage.operator_names(int(b))) for b in any_bits]
    in_admin = np.ones(len(out), dtype=bool)
    for a in admin:
        lab = np.where(inside, a.labels[rr, cc], 0)
        codes = np.concatenate([[""], a.units["code"].to_numpy(dtype=object)])
        names = np.concatenate([[""], a.units["name"].to_numpy(dtype=object)])
        out[f"{a.level}_code"] = codes[lab]
        out[f"{a.level}_name"] = names[lab]
        in_admin &= lab > 0
    status = []
    for i in range(len(out)):
        if not inside[i]:
            status.append("outside study area")
        elif not in_admin[i]:
            status.append("outside admin units")
        elif not tech_lists[i]:
            status.append("no signal")
        elif len(tech_lists[i]) == 1 and tech_lists[i][0] == "2G":
            status.append("2G only")
        else:
            status.append("covered")
    out["status"] = status
    uniq = coverage.sites.drop_duplicates("site_id")
    out["distance_to_nearest_site_km"] = nearest_site_km(out["lon"], out["lat"], uniq["lon"].to_numpy(),
                                                         uniq["lat"].to_numpy())
    if dem is not None:
        out["elevation_m"] = np.where(inside, dem[rr, cc], np.nan)
    return out


def hamlet_counts(status: pd.Series) -> dict[str, int]:
    """Number of hamlets per status value (for the summary)."""
    return {str(k): int(v) for k, v in status.value_counts().sort_index().items()}
