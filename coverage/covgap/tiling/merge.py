"""Tile tasks: compute one tile's transmitters on its window, and merge the pieces that reach a tile.

===================  =====================================================================
field                merge rule (exact)
===================  =====================================================================
``operator_bits``    OR (global operator bit positions)
``n_sites``          sum, saturating at 65535 like the models
``signal_dbm``       maximum (NaN where no transmitter reaches)
``serving_site``     the best: strongest signal for signal models, nearest site for the
                     radius model (distance recomputed with the radius kernel's own
                     formula); on an exact tie the lower sites-table row, which is what
                     one untiled run does (sites are processed in row order, strict
                     comparison)
===================  =====================================================================

Tasks take and return plain dicts so they run anywhere (this process, threads, Dask workers).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..grid import Grid
from . import _kernels as _tk
from .plan import Tile
from .store import hash_parts, jsonable, load_arrays, read_json, read_window, save_arrays, write_json

__all__ = ["window_task", "merge_task"]


def _global_bits(bits: np.ndarray, local_to_global: np.ndarray) -> np.ndarray:
    if np.array_equal(local_to_global, np.arange(local_to_global.size)):
        return bits
    out = np.zeros_like(bits)
    for k, g in enumerate(local_to_global):
        out |= ((bits >> np.uint32(k)) & np.uint32(1)) << np.uint32(g)
    return out


def window_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Compute one tile's transmitters on its window and write the pieces (runs anywhere)."""
    work = Path(spec["workdir"])
    tile: Tile = spec["tile"]
    grid: Grid = spec["grid"]
    marker = work / "windows" / f"{tile.name}.json"
    t0 = time.perf_counter()
    dem_w = read_window(spec["dem"], tile.wrow0, tile.wrow1, tile.wcol0, tile.wcol1)
    h = hash_parts(spec["base_hash"], tile.name, spec["sites"], dem_w if dem_w is not None else "no-dem")
    old = read_json(marker)
    if old is not None and old.get("hash") == h and all(
            (work / "pieces" / p / f"{tile.name}.{h[:16]}.bin").exists() for p in old.get("pieces", [])):
        return {"tile": tile.name, "hash": h, "skipped": True, "pieces": old["pieces"],
                "technologies": old["technologies"], "parameters": old.get("parameters", {}), "warnings": [],
                "seconds": {"window_inputs": time.perf_counter() - t0}}
    if spec.get("numba_threads"):
        import numba

        numba.set_num_threads(min(int(spec["numba_threads"]), numba.config.NUMBA_NUM_THREADS))
    sites: pd.DataFrame = spec["sites"]
    rows = sites["_row"].to_numpy(np.int32)
    local = sites.drop(columns="_row").reset_index(drop=True)
    wgrid = grid.window(tile.wrow0, tile.wrow1, tile.wcol0, tile.wcol1)
    t1 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cov = spec["model"].compute(wgrid, local, dem=dem_w, progress=False)
    t2 = time.perf_counter()
    ops_global = spec["operators"]
    l2g = np.array([ops_global.index(op) for op in cov.operators], dtype=np.int64)
    pieces: list[str] = []
    fields: dict[str, dict[str, np.ndarray]] = {}
    for tech, tc in cov.technologies.items():
        serv = np.where(tc.serving_site >= 0, rows[np.maximum(tc.serving_site, 0)], -1).astype(np.int32)
        fields[tech] = {"bits": _global_bits(tc.operator_bits, l2g), "n": tc.n_sites, "serving": serv}
        if tc.signal_dbm is not None:
            fields[tech]["signal"] = tc.signal_dbm.astype(np.float32, copy=False)
    for o in spec["reaching"]:
        r0, r1 = max(o.row0, tile.wrow0), min(o.row1, tile.wrow1)
        c0, c1 = max(o.col0, tile.wcol0), min(o.col1, tile.wcol1)
        if r1 <= r0 or c1 <= c0:
            continue
        sl = (slice(r0 - tile.wrow0, r1 - tile.wrow0), slice(c0 - tile.wcol0, c1 - tile.wcol0))
        arrays: dict[str, np.ndarray] = {}
        for tech, f in fields.items():
            if not ((f["serving"][sl] >= 0).any() or f["bits"][sl].any()):
                continue
            for k, a in f.items():
                arrays[f"{tech}/{k}"] = a[sl]
        if not arrays:
            continue
        arrays["_offset"] = np.array([r0 - o.row0, c0 - o.col0], dtype=np.int64)
        save_arrays(work / "pieces" / o.name / f"{tile.name}.{h[:16]}.bin", arrays)
        pieces.append(o.name)
    techs = {t: {"threshold_dbm": tc.threshold_dbm, "signal": tc.signal_dbm is not None,
                 "location_std_db": float(tc.location_std_db), "location_percent": float(tc.location_percent)}
             for t, tc in cov.technologies.items()}
    params = jsonable(cov.parameters)
    write_json(marker, {"hash": h, "pieces": pieces, "technologies": techs, "parameters": params})
    return {"tile": tile.name, "hash": h, "skipped": False, "pieces": pieces, "technologies": techs,
            "parameters": params, "warnings": [(w.category, str(w.message)) for w in caught],
            "seconds": {"window_inputs": t1 - t0, "window_model": t2 - t1, "window_write": time.perf_counter() - t2}}


def merge_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Merge the pieces that reach one tile and write the tile (runs anywhere)."""
    work = Path(spec["workdir"])
    tile: Tile = spec["tile"]
    grid: Grid = spec["grid"]
    contribs: list[tuple[str, str]] = spec["contribs"]  # (source tile, hash) with a piece here
    h = hash_parts(spec["base_hash"], tile.name, contribs, spec["technologies"])
    marker = work / "tiles" / f"{tile.name}.json"
    out_path = work / "tiles" / f"{tile.name}.bin"
    old = read_json(marker)
    if old is not None and old.get("hash") == h and (out_path.exists() or not old.get("file")):
        return {"tile": tile.name, "skipped": True, "seconds": {}}
    t0 = time.perf_counter()
    ny, nx = tile.shape
    techs: dict[str, dict[str, Any]] = spec["technologies"]
    acc: dict[str, dict[str, np.ndarray]] = {}
    sx = sy = None
    if spec["radius_key"]:
        sx, sy = spec["site_xy"]
        xc = np.ascontiguousarray(grid.x_centres())
        yc = np.ascontiguousarray(grid.y_centres())
    for src, sh in contribs:
        z = load_arrays(work / "pieces" / tile.name / f"{src}.{sh[:16]}.bin")
        orow, ocol = (int(v) for v in z["_offset"])
        for tech in techs:
            if f"{tech}/bits" not in z:
                continue
            pb, pn, ps = z[f"{tech}/bits"], z[f"{tech}/n"], z[f"{tech}/serving"]
            pny, pnx = pb.shape
            sl = (slice(orow, orow + pny), slice(ocol, ocol + pnx))
            a = acc.get(tech)
            if a is None:
                a = acc[tech] = {"bits": np.zeros((ny, nx), np.uint32), "n": np.zeros((ny, nx), np.uint16),
                                 "serving": np.full((ny, nx), -1, np.int32)}
                if not spec["radius_key"]:
                    a["key"] = np.full((ny, nx), np.nan, np.float64)
            if spec["radius_key"]:
                r0, c0 = tile.row0 + orow, tile.col0 + ocol
                _tk._merge_piece_radius(a["bits"][sl], a["n"][sl], a["serving"][sl], pb, pn, ps,
                                        xc[c0:c0 + pnx], yc[r0:r0 + pny], grid.is_geographic, sx, sy)
            else:
                _tk._merge_piece(a["bits"][sl], a["n"][sl], a["serving"][sl], a["key"][sl], pb, pn, ps,
                                 z[f"{tech}/signal"].astype(np.float64), True)
        del z
    arrays: dict[str, np.ndarray] = {}
    for tech, a in acc.items():
        arrays[f"{tech}/bits"] = a["bits"]
        arrays[f"{tech}/n"] = a["n"]
        arrays[f"{tech}/serving"] = a["serving"]
        if techs[tech]["signal"]:
            arrays[f"{tech}/signal"] = a["key"].astype(np.float32)
    t1 = time.perf_counter()
    if arrays:
        save_arrays(out_path, arrays)
    else:
        out_path.unlink(missing_ok=True)  # a tile no transmitter reaches any more: no stale file
    write_json(marker, {"hash": h, "file": bool(arrays)})
    return {"tile": tile.name, "skipped": False,
            "seconds": {"merge_read_and_merge": t1 - t0, "merge_write": time.perf_counter() - t1}}

