"""Loading the study area from a config: every input read, checked and put on the one grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from ..config import Config, InputRef
from ..errors import InputError
from ..grid import Grid
from ..population import adjust_to_totals, find_overlaps, pad_population, snap_outside_cells
from ..sources.http import sha256_file
from .rasters import read_dem_onto, read_landcover_onto, read_population
from .tables import check_names_repaired, read_foreign_towers, read_hamlets, read_landcover_table, read_population_totals, read_towers
from .vectors import _layer, read_lines, read_polygons


def _provenance(role: str, ref: InputRef, base: Path | None) -> dict[str, Any]:
    path = str(ref.path)
    if base is not None:
        try:
            path = ref.path.relative_to(base).as_posix()
        except ValueError:
            pass
    entry = {"role": role, "path": path, "layer": ref.layer or "", **ref.provenance()}
    if ref.path.exists() and ref.path.is_file():
        entry["sha256"] = sha256_file(ref.path)
        entry["bytes"] = ref.path.stat().st_size
        from ..sources import read_manifest

        manifest = read_manifest(ref.path)  # written by `covgap fetch`
        if manifest:
            entry["fetched_utc"] = manifest.get("fetched_utc", "")
            for key in ("url", "release", "licence", "attribution"):
                if not entry.get(key) and manifest.get(key):
                    entry[key] = manifest[key]
            if manifest.get("sha256") and manifest["sha256"] != entry["sha256"]:
                entry["note"] = "file changed since it was fetched (sha256 differs from its manifest)"
    elif ref.path.is_dir():  # a 2025-units tree: its index's manifest names the commit (`covgap fetch`)
        from ..sources import read_manifest

        manifest = read_manifest(ref.path / "json" / "full_json_generated_data_vn_units.json") or {}
        for key in ("url", "release", "licence", "attribution", "commit"):
            if not entry.get(key) and manifest.get(key):
                entry[key] = manifest[key]
        if manifest.get("fetched_utc"):
            entry["fetched_utc"] = manifest["fetched_utc"]
    return entry


def load_study_area(cfg: Config, *, read_landcover: bool = True):
    """Read every input named in ``cfg`` onto the population grid and validate it.

    Returns a :class:`~covgap.study.StudyArea`. The population grid is the analysis grid
    (people are never resampled), grown by ``[study] pad_km`` on every side with zero people in the
    pad (:func:`covgap.population.pad_population`; ``notes["grid_padding"]``); the DEM and land cover
    are read onto it, so a mast past the population raster's edge stands on real terrain. ``read_landcover=False``
    skips ``[landcover]`` (only the P.1812 model reads it; a national read takes minutes) and says so
    in ``notes["landcover"]``.
    """
    from ..overlay import rasterize_units  # computation; io only supplies the arrays
    from ..study import AdminLevel, StudyArea

    notes: dict[str, Any] = {}
    pop, grid, pnotes = read_population(cfg.population)
    notes["population"] = pnotes
    if not (pop > 0).any():
        raise InputError(
            f"population raster {cfg.population.path}: every cell is 0 or nodata ({pop.size:,} cells), so there is "
            "nobody to count. Fix: check the file (the right band, a nodata value that hides the data, a scale "
            "factor) or point the config at the people-per-cell raster."
        )
    bounds_ll = _lonlat_bounds(grid)  # the population raster's extent: "in the study area"
    if cfg.pad_km > 0:
        grid, pop, notes["grid_padding"] = _pad_grid(cfg, grid, pop)
    grid_ll = _lonlat_bounds(grid)  # the analysis grid's extent (padded): what can be computed
    dem = None
    if cfg.dem is not None:
        dem, dnotes = read_dem_onto(cfg.dem, grid)
        notes["dem"] = dnotes
    landcover = None
    if cfg.landcover is not None and not read_landcover:
        notes["landcover"] = {"read": False, "note": "[landcover] not read: only the p1812 model uses land cover"}
    elif cfg.landcover is not None:
        landcover = _landcover(cfg, grid, dem)
        notes["landcover"] = {**landcover.describe(),
                              "read_by": "the p1812 model only (radius, hata and terrain do not read land cover)"}
    admin = []
    for a in cfg.admin:
        units, unotes = _admin_units(a)
        if unotes:
            notes.setdefault("admin", {}).setdefault(a.level, {}).update(unotes)
        overlaps = find_overlaps(units, "code", tolerance_km2=cfg.overlap_tolerance_km2)
        if len(overlaps):
            pairs = "; ".join(f"{r.code_a} × {r.code_b}: {r.overlap_km2:.3g} km²" for r in overlaps.head(5).itertuples())
            raise InputError(
                f"admin level {a.level!r} ({a.ref.path}{_layer(a.ref)}): {len(overlaps)} pair(s) of units overlap by "
                f"more than {cfg.overlap_tolerance_km2} km² ({pairs}{' …' if len(overlaps) > 5 else ''}); people there "
                "would belong to two units. Fix: repair the layer (e.g. QGIS 'Check validity' / topology checker), or "
                "raise [study] overlap_tolerance_km2 if these are digitising slivers."
            )
        labels = rasterize_units(units, grid)
        if cfg.snap_cells > 0 and not _nested_in_vn2025(a, cfg):  # nested communes: filled by their province
            labels, snap = snap_outside_cells(labels, pop, max_cells=cfg.snap_cells)
            notes.setdefault("admin", {}).setdefault(a.level, {})["snapped_outside_cells"] = snap
        populated = pop > 0
        if populated.any() and not (labels[populated] > 0).any():
            raise InputError(
                f"admin level {a.level!r} ({a.ref.path}) does not overlap the populated cells of the "
                f"population raster {cfg.population.path} (population bounds lon/lat {tuple(round(v, 3) for v in bounds_ll)}, "
                f"admin bounds {tuple(round(v, 3) for v in units.total_bounds)}). Fix: check both files "
                "cover the same area and have the right CRS."
            )
        if a.dissolve_to_current:
            admin.append(_current_provinces(a.dissolve_to_current, units, labels))
        admin.append(AdminLevel(level=a.level, units=units, labels=labels))
    _nest_vn2025(cfg, admin, notes)
    if cfg.population_adjust is not None:
        pop, notes["population_adjustment"] = _adjust_population(cfg, pop, admin)
    sites, srep = read_towers(cfg.towers, study_bounds_lonlat=bounds_ll)
    notes["sites"] = srep.as_dict()
    w, s_, e, n = bounds_ll
    inside = ((sites["lon"] >= w) & (sites["lon"] <= e) & (sites["lat"] >= s_) & (sites["lat"] <= n)).to_numpy()
    if not inside.any():
        raise InputError(
            f"towers file {cfg.towers.path}: none of its {len(sites)} transmitters lies in the study area (lon "
            f"{w:.3f}…{e:.3f}, lat {s_:.3f}…{n:.3f}, the population raster's extent); the towers span lon "
            f"{sites['lon'].min():.3f}…{sites['lon'].max():.3f}, lat "
            f"{sites['lat'].min():.3f}…{sites['lat'].max():.3f}. "
            "The analysis would call everyone uncovered. Fix: point the config at the towers of this area, or at "
            "the population raster of the towers' area."
        )
    notes["sites"]["transmitters_in_study_area"] = int(inside.sum())
    notes["sites"]["sites_in_study_area"] = int(sites.loc[inside, "site_id"].nunique())
    dropped: dict[str, Any] = {}
    if srep.dropped:
        dropped["towers"] = dict(srep.dropped)
    outside: dict[str, int] = {}
    if (~inside).any():
        outside["transmitters"] = int((~inside).sum())
    foreign_sites = None
    if cfg.foreign_towers is not None:
        foreign_sites, frep = read_foreign_towers(cfg.foreign_towers, domestic_operators=sites["operator"])
        notes["foreign_sites"] = frep.as_dict()
        # Only towers on the analysis grid can be computed over terrain (the DEM is warped onto this
        # grid; a mast outside it has no ground height): the rest are counted, not used.
        gw, gs, ge, gn = grid_ll
        on_grid = ((foreign_sites["lon"] >= gw) & (foreign_sites["lon"] <= ge) & (foreign_sites["lat"] >= gs)
                   & (foreign_sites["lat"] <= gn)).to_numpy()
        if cfg.pad_km > 0:
            in_raster = ((foreign_sites["lon"] >= w) & (foreign_sites["lon"] <= e) & (foreign_sites["lat"] >= s_)
                         & (foreign_sites["lat"] <= n)).to_numpy()
            in_pad = on_grid & ~in_raster
            notes["foreign_sites"]["in_grid_padding_transmitters"] = int(in_pad.sum())
        if (~on_grid).any():
            notes["foreign_sites"]["outside_grid_transmitters"] = int((~on_grid).sum())
            notes["foreign_sites"]["outside_grid_note"] = (
                "foreign transmitters beyond the analysis grid (the population raster's extent"
                + (f" padded by {cfg.pad_km:g} km" if cfg.pad_km > 0 else ", [study] pad_km = 0")
                + ") are not computed (no terrain there); see docs/design.md 'Grid padding past the border'")
            foreign_sites = foreign_sites.loc[on_grid].reset_index(drop=True)
    hamlets = read_hamlets(cfg.hamlets, study_bounds_lonlat=bounds_ll) if cfg.hamlets is not None else None
    if hamlets is not None:
        if hamlets.attrs.get("outside_study_area"):
            outside["hamlets"] = int(hamlets.attrs["outside_study_area"])
        if hamlets.attrs.get("names_repaired"):
            notes["hamlets"] = {"names_repaired": int(hamlets.attrs["names_repaired"])}
    if outside:
        dropped["outside_study_area"] = outside
        dropped["outside_study_area_note"] = (
            "kept: transmitters outside the study area still cover cells inside it near the edge, hamlets "
            "outside it are flagged 'outside study area'; neither is counted among the study area's sites "
            "or hamlets")
    notes["dropped"] = dropped
    border = None
    if cfg.border is not None and cfg.border_arc is not None:
        from ..lenses import land_border_arc

        outline = read_polygons(cfg.border, what="country outline (for the land border)")
        start, via, end = cfg.border_arc
        line = land_border_arc(outline, start=start, via=via, end=end)
        border = gpd.GeoDataFrame({"name": ["land border"]}, geometry=[line], crs="EPSG:4326")
        notes["border"] = {"derived": f"arc of the outline from {start} via {via} to {end}"}
    elif cfg.border is not None:
        border = read_lines(cfg.border)
    base = cfg.path.parent if cfg.path is not None else None
    sources = [_provenance(role, ref, base) for role, ref in cfg.inputs().items()]
    return StudyArea(name=cfg.name, grid=grid, population=pop, admin=admin, sites=sites, dem=dem,
                     foreign_sites=foreign_sites, landcover=landcover,
                     hamlets=hamlets, border=border, synthetic=cfg.synthetic, sources=sources, notes=notes)


def _pad_grid(cfg: Config, grid: Grid, pop: np.ndarray) -> tuple[Grid, np.ndarray, dict[str, Any]]:
    """``[study] pad_km``: the grid grown by whole cells spanning the distance, zero people in the pad."""
    n = grid.cells_for_distance(cfg.pad_km * 1000.0)
    total = float(pop.sum())
    padded_pop, padded = pad_population(pop, grid, n)
    if float(padded_pop.sum()) != total:  # cannot happen (zeros added); a guard for the rule of §2.1
        raise InputError(f"padding the population grid changed its total ({total} -> {padded_pop.sum()}).")
    note = {"pad_km": cfg.pad_km, "rule": cfg.pad_rule or "[study] pad_km", "pad_cells_each_side": n,
            "population_shape": list(grid.shape), "grid_shape": list(padded.shape),
            "pad_cells": int(padded_pop.size - pop.size),
            "note": "the analysis grid is the population raster's grid grown by whole cells on every side with "
                    "zero people there; DEM and land cover are read onto it, so towers in the pad are computed "
                    "over real terrain where the DEM file covers it; output rasters are on this padded grid"}
    return padded, padded_pop, note


def _landcover(cfg: Config, grid: Grid, dem):
    """``[landcover]``: class codes by majority onto the grid, the mapping table, the zones (covgap.landcover)."""
    from ..landcover import default_table, make_landcover

    lc = cfg.landcover
    classes, lnotes = read_landcover_onto(lc.ref, grid)
    table = read_landcover_table(lc.table) if lc.table is not None else default_table()
    table = table.with_overrides(lc.classes, where="[landcover.classes]")
    what = lc.ref.source or "land-cover classes"
    files = lnotes["files"]
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    source = f"{what} ({lc.ref.path.name}: {shown})" + (f", {lc.ref.licence}" if lc.ref.licence else "")
    out = make_landcover(classes, grid, dem=dem, table=table, source=source, coast_km=lc.coast_km,
                         coastal_max_height_m=lc.coastal_max_height_m)
    out.notes.update(read=lnotes)
    return out


def _adjust_population(cfg: Config, pop: np.ndarray, admin: list) -> tuple[np.ndarray, dict[str, Any]]:
    """Rescale ``pop`` to the official totals of ``[population] adjust_to`` (see adjust_to_totals)."""
    adj = cfg.population_adjust
    totals = read_population_totals(adj.totals)
    level = next(a for a in admin if a.level == adj.level)
    try:
        new, table = adjust_to_totals(pop, level.labels, totals, codes=level.units["code"], names=level.units["name"])
    except InputError as exc:
        raise InputError(f"[population] adjust_to {adj.totals.path} (level {adj.level!r}): {exc}") from exc
    records = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
               for r in table.to_dict("records")]  # JSON has no NaN
    note = {"file": str(adj.totals.path), "level": adj.level, **table.attrs, "units": records}
    return new, note


def _admin_units(a) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Units of one admin level as ``code, name[, parent_code], geometry`` (EPSG:4326)."""
    if getattr(a, "vn2025", None):
        return _vn2025_units(a)
    fields = (a.code_field, a.name_field) + ((a.parent_field,) if a.parent_field else ())
    gdf = read_polygons(a.ref, what=f"admin level {a.level!r}", fields=fields)
    notes: dict[str, Any] = {}
    if a.vietnam == "former63":
        from ..vietnam import dissolve_former, match_former_provinces

        matched = match_former_provinces(gdf, name_field=a.name_field, source=f"admin level {a.level!r} ({a.ref.path})")
        notes["names_repaired"] = int(matched.attrs.get("names_repaired", 0))
        former = dissolve_former(matched)
        notes["features"] = len(gdf)
        notes["former_provinces"] = len(former)
        units = gpd.GeoDataFrame({"code": former["code"].astype(str), "name": former["name_vi"].astype(str),
                                  "parent_code": former["current_code"].astype(str)},
                                 geometry=former.geometry.values, crs="EPSG:4326")
        return units, notes
    from ..vietnam import repair_names

    src = f"admin level {a.level!r} ({a.ref.path}{_layer(a.ref)})"
    for fld in (a.code_field, a.name_field):
        blank = gdf[fld].isna() | gdf[fld].astype(str).str.strip().eq("")
        if blank.any():
            idx = np.flatnonzero(blank.to_numpy())
            raise InputError(
                f"{src}: field {fld!r} is empty in {len(idx)} feature(s) (features {[int(i) + 1 for i in idx[:10]]}"
                f"{' …' if len(idx) > 10 else ''}); every unit needs a code and a name. Fix: fill them in the layer "
                "(e.g. QGIS attribute table) or remove those features."
            )
    names, n_fixed = repair_names(gdf[a.name_field].astype(str))
    check_names_repaired(names, source=src, field=a.name_field, line_of=np.arange(len(gdf)) + 1, where="feature")
    if n_fixed:
        notes["names_repaired"] = n_fixed
    units = gpd.GeoDataFrame(
        {"code": gdf[a.code_field].astype(str).str.strip(), "name": names.to_numpy()}
        | ({"parent_code": gdf[a.parent_field].astype(str)} if a.parent_field else {}),
        geometry=gdf.geometry.values, crs="EPSG:4326",
    )
    dup = units["code"].duplicated(keep=False)
    if dup.any():
        # parts of one unit (same code, same name) are merged and counted; two units sharing
        # one code would merge silently and one would vanish from every table: an error
        per_code = units.loc[dup].groupby("code", sort=False)["name"].unique()
        clash = per_code[per_code.map(len) > 1]
        if len(clash):
            code = clash.index[0]
            feats = [int(i) + 1 for i in np.flatnonzero((units["code"] == code).to_numpy())]
            raise InputError(
                f"{src}: code {code!r} (field {a.code_field!r}) is shared by units with different names "
                f"{[str(x) for x in clash.iloc[0]]} (features {feats[:10]}); {len(clash)} code(s) affected. Merging "
                "them would make one unit vanish from every table. Fix: give each unit its own code in the layer; "
                "if they are parts of one unit, give them the same name."
            )
        units = units.dissolve(by="code", as_index=False, aggfunc="first", sort=False)[units.columns]
        notes["multi_part_codes_merged"] = int(dup.sum())
    return units, notes


def _vn2025_units(a) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """A level of the 2025 units (:func:`covgap.vietnam.units2025.units_2025`): ``code, name, name_en, unit_type``
    (``parent_code`` = the province for communes)."""
    from ..vietnam.units2025 import units_2025

    u = units_2025(a.ref.path, a.vn2025, provinces=a.provinces)
    cols = {"code": u["code"], "name": u["name"], "name_en": u["name_en"], "unit_type": u["unit_type"]}
    if a.vn2025 == "commune":
        cols["parent_code"] = u["province_code"]
    notes: dict[str, Any] = {"units": len(u), "source_dir": u.attrs.get("source_dir", "")}
    if u.attrs.get("provinces_without_communes"):
        notes["provinces_without_communes"] = list(u.attrs["provinces_without_communes"])
    return gpd.GeoDataFrame(cols, geometry=u.geometry.values, crs="EPSG:4326"), notes


def _vn2025_pair(cfg: Config):
    """The (province, commune) admin configs read from vn2025 folders, when the config has both."""
    prov = [a for a in cfg.admin if getattr(a, "vn2025", None) == "province"]
    comm = [a for a in cfg.admin if getattr(a, "vn2025", None) == "commune"]
    return (prov[0], comm[0]) if prov and comm else None


def _nested_in_vn2025(a, cfg: Config) -> bool:
    pair = _vn2025_pair(cfg)
    return pair is not None and a is pair[1]


def _nest_vn2025(cfg: Config, admin: list, notes: dict[str, Any]) -> None:
    """Province and commune labels from one rule (:func:`covgap.vietnam.units2025.nest_labels`), in place."""
    pair = _vn2025_pair(cfg)
    if pair is None:
        return
    from ..study import AdminLevel
    from ..vietnam.units2025 import nest_labels

    by = {lvl.level: i for i, lvl in enumerate(admin)}
    ip, ic = by[pair[0].level], by[pair[1].level]
    prov, comm = admin[ip], admin[ic]
    index = {c: k + 1 for k, c in enumerate(prov.units["code"])}
    child_parent = np.zeros(len(comm.units) + 1, dtype=np.int64)
    child_parent[1:] = [index.get(c, 0) for c in comm.units["parent_code"]]
    child, parent, rep = nest_labels(comm.labels, child_parent, prov.labels)
    admin[ip] = AdminLevel(level=prov.level, units=prov.units, labels=parent)
    admin[ic] = AdminLevel(level=comm.level, units=comm.units, labels=child)
    notes.setdefault("admin", {}).setdefault(comm.level, {})["nested_in"] = {"level": prov.level, **rep}


def _current_provinces(level: str, former_units: gpd.GeoDataFrame, former_labels: np.ndarray):
    """The 34 current provinces from the 63 former ones; labels by lookup so totals match exactly."""
    from ..study import AdminLevel
    from ..vietnam import dissolve_to_current

    cur = dissolve_to_current(former_units, code_field="code")
    units = gpd.GeoDataFrame({"code": cur["code"].astype(str), "name": cur["name_vi"].astype(str)},
                             geometry=cur.geometry.values, crs="EPSG:4326")
    index = {c: j + 1 for j, c in enumerate(units["code"])}
    lookup = np.zeros(len(former_units) + 1, dtype=np.int32)
    lookup[1:] = [index[c] for c in former_units["parent_code"]]
    return AdminLevel(level=level, units=units, labels=lookup[former_labels])


def _lonlat_bounds(grid: Grid) -> tuple[float, float, float, float]:
    w, s, e, n = grid.bounds
    if grid.is_geographic:
        return (w, s, e, n)
    lon, lat = grid.to_lonlat(np.array([w, e, w, e]), np.array([s, s, n, n]))
    return (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))
