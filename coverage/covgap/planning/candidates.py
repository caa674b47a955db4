"""Candidate sites: read a user's list, generate hilltops near gaps and upgrades of existing sites.

A *candidates table* is a :class:`pandas.DataFrame` with one row per place a transmitter
could be added:

=====================  ===================================================================
column                 meaning
=====================  ===================================================================
``candidate_id``       unique identifier (string)
``kind``               ``new_site`` (generated hilltop), ``upgrade`` (existing site gains a
                       technology) or ``user`` (from a user's file)
``lon``, ``lat``       WGS 84 degrees
``antenna_height_m``   antenna height above ground (default 30 m, see
                       :data:`covgap.sites.DEFAULT_ANTENNA_HEIGHT_M`)
``technology``         technology the candidate would bring (default ``4G``)
``operator``           operator that would run it (default ``planned``)
``site_id``            site id the transmitter would get (an upgrade keeps its site's id)
``cost``               cost in the plan's cost unit (see :class:`CandidateCosts`)
``source``             where the row came from (file and line, or the generator and cluster)
=====================  ===================================================================

Costs are **relative cost units**, not money: the defaults of :class:`CandidateCosts` are
placeholders to configure with real figures (a new rural macro site = 1 unit; an upgrade of
an existing mast reuses tower, power and backhaul and is set to 0.25 units). Nothing in
covgap depends on those numbers except the cost columns and a cost budget.

:func:`check_candidates` drops candidates outside the study area, outside every admin unit
(outside the country: the population raster's nodata there), on water or unknown terrain
(DEM ≤ 0 m or nodata) and duplicates — each counted by reason in a
:class:`CandidateReport` with the first identifiers, never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from ..errors import InputError
from ..grid import EARTH_RADIUS_M, unit_vectors
from ..sites import DEFAULT_ANTENNA_HEIGHT_M, TECHNOLOGIES, VALUE_RANGES, normalise_technology
from ..study import StudyArea

__all__ = [
    "KINDS",
    "CANDIDATE_COLUMNS",
    "CandidateCosts",
    "CandidateReport",
    "read_candidates",
    "make_candidates",
    "generate_candidates",
    "upgrade_candidates",
    "check_candidates",
    "candidates_to_sites",
    "DEFAULT_TECHNOLOGY",
    "DEFAULT_OPERATOR",
]

#: Candidate kinds.
KINDS: tuple[str, ...] = ("new_site", "upgrade", "user")
#: Columns of a candidates table, in order.
CANDIDATE_COLUMNS: tuple[str, ...] = ("candidate_id", "kind", "lon", "lat", "antenna_height_m", "technology",
                                      "operator", "site_id", "cost", "source")
#: Technology a candidate brings when none is given: 4G is what Vietnam's programme funds.
DEFAULT_TECHNOLOGY = "4G"
#: Operator name of a planned site when none is given.
DEFAULT_OPERATOR = "planned"

_ALIASES = {"lng": "lon", "long": "lon", "longitude": "lon", "x": "lon", "latitude": "lat", "y": "lat",
            "height_m": "antenna_height_m", "id": "candidate_id", "name": "candidate_id", "type": "kind",
            "cost_units": "cost"}


@dataclass(frozen=True)
class CandidateCosts:
    """Cost per candidate kind, in relative cost units (**placeholders: configure them**).

    There is no published per-site cost for Vietnam's rural programme that covgap can cite;
    the defaults express one assumption only — an upgrade (new radio on an existing mast,
    reusing tower, power and backhaul) costs a quarter of a new site. Replace them with your
    own figures (e.g. million VND) to get money per newly covered person.

    Examples
    --------
    >>> CandidateCosts().of("upgrade")
    0.25
    """

    new_site: float = 1.0
    upgrade: float = 0.25
    user: float = 1.0
    unit: str = "relative cost units (placeholder: 1 = one new rural site)"

    def __post_init__(self) -> None:
        for k in KINDS:
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise InputError(f"CandidateCosts.{k} = {v!r}; expected a cost > 0. Fix: give a positive number.")

    def of(self, kind: str) -> float:
        """Cost of one candidate of ``kind``."""
        return float(getattr(self, kind))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for provenance."""
        return {"new_site": self.new_site, "upgrade": self.upgrade, "user": self.user, "unit": self.unit}


@dataclass
class CandidateReport:
    """What checking did to a candidates table: rows in/out and drops by reason."""

    source: str
    rows_in: int
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    defaulted: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def drop(self, reason: str, ids: list[str], fix: str) -> None:
        """Record ``len(ids)`` rows dropped for ``reason`` (with a message naming the first ones)."""
        if not ids:
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + len(ids)
        self.examples.setdefault(reason, []).extend(ids[: 10 - len(self.examples.get(reason, []))])
        more = " …" if len(ids) > 5 else ""
        self.messages.append(f"{self.source}: {len(ids)} candidate(s) dropped, {reason}: "
                             f"{', '.join(ids[:5])}{more}. Fix: {fix}")

    def merge(self, other: CandidateReport) -> CandidateReport:
        """Combine two reports (e.g. generated + user candidates)."""
        out = CandidateReport(source=f"{self.source} + {other.source}", rows_in=self.rows_in + other.rows_in,
                              rows_out=self.rows_out + other.rows_out)
        for rep in (self, other):
            for k, v in rep.dropped.items():
                out.dropped[k] = out.dropped.get(k, 0) + v
            for k, v in rep.defaulted.items():
                out.defaulted[k] = out.defaulted.get(k, 0) + v
            for k, v in rep.examples.items():
                out.examples.setdefault(k, []).extend(v)
            out.messages.extend(rep.messages)
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON / the report."""
        return {"source": self.source, "rows_in": self.rows_in, "rows_out": self.rows_out,
                "dropped": dict(self.dropped), "examples": {k: list(v) for k, v in self.examples.items()},
                "defaulted": dict(self.defaulted), "messages": list(self.messages)}


# ---------------------------------------------------------------------------------------------- building


def make_candidates(lon, lat, *, kind: str = "user", candidate_id=None, antenna_height_m=None,
                    technology: str = DEFAULT_TECHNOLOGY, operator: str = DEFAULT_OPERATOR, site_id=None,
                    cost=None, costs: CandidateCosts | None = None, source: str = "") -> pd.DataFrame:
    """Build a candidates table from arrays (defaults filled, columns in order).

    Examples
    --------
    >>> c = make_candidates([105.0], [21.0])
    >>> c.loc[0, "candidate_id"], c.loc[0, "kind"], float(c.loc[0, "cost"])
    ('U0001', 'user', 1.0)
    """
    costs = costs or CandidateCosts()
    lon = np.atleast_1d(np.asarray(lon, dtype="f8"))
    lat = np.atleast_1d(np.asarray(lat, dtype="f8"))
    n = len(lon)
    if kind not in KINDS:
        raise InputError(f"candidate kind {kind!r}; expected one of {KINDS}.")
    prefix = {"new_site": "N", "upgrade": "G", "user": "U"}[kind]
    ids = [f"{prefix}{i + 1:04d}" for i in range(n)] if candidate_id is None else [str(v) for v in candidate_id]
    tech = normalise_technology(technology)
    if tech is None:
        raise InputError(f"candidate technology {technology!r}; expected one of {TECHNOLOGIES}.")

    def per_row(v, default):
        if v is None:
            return np.full(n, default)
        a = np.asarray(v)
        return np.broadcast_to(a, (n,)).copy() if a.ndim == 0 else a

    df = pd.DataFrame({
        "candidate_id": ids, "kind": kind, "lon": lon, "lat": lat,
        "antenna_height_m": per_row(antenna_height_m, DEFAULT_ANTENNA_HEIGHT_M).astype("f8"),
        "technology": tech, "operator": per_row(operator, DEFAULT_OPERATOR).astype(str),
        "site_id": ids if site_id is None else per_row(site_id, "").astype(str),
        "cost": per_row(cost, costs.of(kind)).astype("f8"),
        "source": per_row(source, source).astype(str) if not isinstance(source, str) else source,
    })
    return df[list(CANDIDATE_COLUMNS)]


def read_candidates(path: str | Path, *, layer: str | None = None, costs: CandidateCosts | None = None,
                    technology: str = DEFAULT_TECHNOLOGY, operator: str = DEFAULT_OPERATOR,
                    encoding: str = "utf-8-sig") -> tuple[pd.DataFrame, CandidateReport]:
    """Read a user's candidate list (CSV, or a point layer in a GeoPackage / any OGR file).

    Columns: ``lon``, ``lat`` (required in a CSV; a point layer's geometry is used and
    reprojected to WGS 84), optional ``candidate_id`` (or ``name``/``id``),
    ``antenna_height_m``, ``kind`` (default ``user``), ``cost`` (default by kind from
    ``costs``), ``technology``, ``operator``.

    Raises
    ------
    DataFileError
        The file is missing or unreadable.
    InputError
        A value is wrong; the message names the file, the line (header = line 1), the field,
        what was expected and the fix.
    """
    costs = costs or CandidateCosts()
    path = Path(path)
    src = f"candidates file {path}"
    from ..io import read_points_table  # the one reader of user tables

    suffix = path.suffix.lower()
    df, line_of, where = read_points_table(path, what="candidates file", layer=layer,
                                           encoding=None if encoding in ("utf-8", "utf-8-sig") else encoding,
                                           sep="\t" if suffix == ".tsv" else ",")
    df = df.rename(columns={c: _ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in df.columns})
    for col in df.columns:  # text cells as text, empty cells as missing (as the reader of this table expects)
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: v.strip() or None if isinstance(v, str) else v)
    rep = CandidateReport(source=src, rows_in=len(df))
    if len(df) == 0:
        raise InputError(f"{src}: no rows. Fix: add candidates (columns lon, lat) or leave the option out.")
    missing = [c for c in ("lon", "lat") if c not in df.columns]
    if missing:
        raise InputError(f"{src}: missing column(s) {missing}; expected 'lon' and 'lat' (WGS 84 degrees), found "
                         f"{list(df.columns)}. Fix: rename the columns.")

    def numeric(col: str, *, required: bool) -> pd.Series:
        raw = df[col] if col in df.columns else pd.Series([None] * len(df))
        vals = pd.to_numeric(raw, errors="coerce")
        bad = vals.isna() & (raw.notna() if not required else True)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{src}: {where} {line_of[i]}, field {col!r} is {raw.iloc[i]!r}; expected a number. "
                             f"{int(bad.sum())} row(s) affected. Fix: correct or remove them.")
        return vals.astype("f8")

    lon = numeric("lon", required=True)
    lat = numeric("lat", required=True)
    bad = (lat.abs() > 90) | (lon.abs() > 180)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        hint = " The values look like lat and lon swapped." if abs(lat.iloc[i]) > 90 and abs(lon.iloc[i]) <= 90 else ""
        raise InputError(f"{src}: {where} {line_of[i]}, lon={lon.iloc[i]}, lat={lat.iloc[i]} is out of range "
                         f"(lon −180…180, lat −90…90).{hint} Fix: check the columns.")
    height = numeric("antenna_height_m", required=False)
    nonpos = (height <= 0) | (height > VALUE_RANGES["antenna_height_m"][1])
    if nonpos.any():
        i = int(np.flatnonzero(nonpos.to_numpy())[0])
        raise InputError(f"{src}: {where} {line_of[i]}, field 'antenna_height_m' is {height.iloc[i]}; expected a "
                         f"height above ground > 0 and ≤ {VALUE_RANGES['antenna_height_m'][1]:g} m. Fix: correct it or leave it empty for the default "
                         f"({DEFAULT_ANTENNA_HEIGHT_M} m).")
    if height.isna().any():
        rep.defaulted["antenna_height_m"] = int(height.isna().sum())
    kind = df["kind"].fillna("user").astype(str).str.strip().str.lower() if "kind" in df.columns else \
        pd.Series(["user"] * len(df))
    badk = ~kind.isin(KINDS)
    if badk.any():
        i = int(np.flatnonzero(badk.to_numpy())[0])
        raise InputError(f"{src}: {where} {line_of[i]}, field 'kind' is {kind.iloc[i]!r}; expected one of {KINDS}. "
                         "Fix: correct it or leave the column out (kind = user).")
    cost = numeric("cost", required=False)
    badc = (cost <= 0) | np.isinf(cost)
    if badc.any():
        i = int(np.flatnonzero(badc.to_numpy())[0])
        raise InputError(f"{src}: {where} {line_of[i]}, field 'cost' is {cost.iloc[i]}; expected a cost > 0 in "
                         f"{costs.unit}. Fix: correct it or leave it empty for the default of its kind.")
    if cost.isna().any():
        rep.defaulted["cost"] = int(cost.isna().sum())
    cost = cost.fillna(kind.map(costs.of))
    tech_raw = df["technology"] if "technology" in df.columns else pd.Series([technology] * len(df))
    tech = tech_raw.fillna(technology).map(normalise_technology)
    if tech.isna().any():
        i = int(np.flatnonzero(tech.isna().to_numpy())[0])
        raise InputError(f"{src}: {where} {line_of[i]}, field 'technology' is {tech_raw.iloc[i]!r}; expected one of "
                         "2G/3G/4G/5G (or GSM/UMTS/LTE/NR). Fix: correct it.")
    ops = df["operator"].fillna(operator).astype(str) if "operator" in df.columns else pd.Series([operator] * len(df))
    if "candidate_id" in df.columns:
        ids = df["candidate_id"].astype(object)
        missing_id = ids.isna()
        ids = ids.where(~missing_id, pd.Series([f"U{line_of[i]:04d}" for i in range(len(df))]))
        if missing_id.any():
            rep.defaulted["candidate_id"] = int(missing_id.sum())
        ids = ids.astype(str).str.strip()
    else:
        ids = pd.Series([f"U{i + 1:04d}" for i in range(len(df))])
    site_id = df["site_id"].fillna(ids).astype(str) if "site_id" in df.columns else ids
    out = pd.DataFrame({"candidate_id": ids.to_numpy(), "kind": kind.to_numpy(), "lon": lon.to_numpy(),
                        "lat": lat.to_numpy(),
                        "antenna_height_m": height.fillna(DEFAULT_ANTENNA_HEIGHT_M).to_numpy(),
                        "technology": tech.to_numpy(), "operator": ops.to_numpy(), "site_id": site_id.to_numpy(),
                        "cost": cost.to_numpy(dtype="f8"),
                        "source": [f"{path.name} {where} {n}" for n in line_of]})
    rep.rows_out = len(out)
    return out[list(CANDIDATE_COLUMNS)], rep


def _cell_metres(study: StudyArea) -> tuple[float, float]:
    dx, dy = study.grid.cell_size_m()
    return float(np.median(dx)), float(np.median(dy))


def _land_inside(study: StudyArea) -> np.ndarray:
    """Cells where a new mast could stand: inside an admin unit, on known land (DEM > 0 m)."""
    ok = np.ones(study.grid.shape, dtype=bool)
    if study.admin:
        ok &= study.admin[0].labels > 0
    if study.dem is not None:
        with np.errstate(invalid="ignore"):
            ok &= np.isfinite(study.dem) & (study.dem > 0)
    return ok


def generate_candidates(analysis, *, target: str = "any", within_km: float = 5.0, min_spacing_km: float = 1.0,
                        max_per_cluster: int = 25, min_population: float | None = None,
                        technology: str = DEFAULT_TECHNOLOGY, operator: str = DEFAULT_OPERATOR,
                        antenna_height_m: float = DEFAULT_ANTENNA_HEIGHT_M, costs: CandidateCosts | None = None,
                        limit: int | None = None) -> pd.DataFrame:
    """Local high points of the DEM near each gap cluster, as ``new_site`` candidates.

    A cell is a *local high point* when it is the highest within ``min_spacing_km / 2``
    (a square window). Kept are high points on known land (DEM > 0 m, not nodata) inside an
    admin unit, within ``within_km`` of a populated cell of a gap cluster (cells without
    ``target`` coverage: ``any`` signal or a technology such as ``4G``) holding at least
    ``min_population`` people (default: the analysis' gap-cluster threshold). Per cluster,
    the highest ``max_per_cluster`` points at least ``min_spacing_km`` apart are kept
    (highest first), so each valley gets its own hilltops.

    Without a DEM, the population-weighted centre of each cluster is used instead
    (``source`` says so).

    Returns a candidates table (columns :data:`CANDIDATE_COLUMNS` plus ``cluster_id`` and
    ``elevation_m``), highest point first within each cluster, clusters largest first.
    """
    from ..gaps import label_gaps

    costs = costs or CandidateCosts()
    for name, v in (("within_km", within_km), ("min_spacing_km", min_spacing_km)):
        if not (v > 0):
            raise InputError(f"generate_candidates: {name} = {v}; expected > 0 km.")
    if max_per_cluster < 1:
        raise InputError(f"generate_candidates: max_per_cluster = {max_per_cluster}; expected ≥ 1.")
    study = analysis.study
    grid = study.grid
    uncovered = ~_target_covered(analysis.coverage, target)
    labels, n = label_gaps(study.population, uncovered, connectivity=analysis.options.get("connectivity", 8))
    min_pop = analysis.options.get("min_population", 10.0) if min_population is None else min_population
    cols = list(CANDIDATE_COLUMNS) + ["cluster_id", "elevation_m"]
    if n == 0:
        return pd.DataFrame({c: [] for c in cols})
    pop_c = np.bincount(labels.ravel(), weights=study.population.ravel(), minlength=n + 1)
    keep = np.flatnonzero(pop_c[1:] >= min_pop) + 1
    if keep.size == 0:
        return pd.DataFrame({c: [] for c in cols})
    keep = keep[np.argsort(-pop_c[keep], kind="stable")]
    cdx, cdy = _cell_metres(study)
    if study.dem is None:
        lon_c, lat_c = _cluster_centres(labels, study, keep)
        df = make_candidates(lon_c, lat_c, kind="new_site", technology=technology, operator=operator,
                             antenna_height_m=antenna_height_m, costs=costs,
                             source="centre of gap cluster (no DEM)")
        df["cluster_id"] = keep
        df["elevation_m"] = np.nan
        return df
    dem = np.where(np.isfinite(study.dem), study.dem, -np.inf).astype(np.float64)
    half = max(1, int(round(min_spacing_km * 500.0 / max(cdx, cdy))))
    peaks = (dem == ndimage.maximum_filter(dem, size=2 * half + 1, mode="nearest")) & _land_inside(study)
    # distance (m) from every cell to the nearest cell of a kept cluster, and which cluster
    member = np.isin(labels, keep)
    dist, (ir, ic) = ndimage.distance_transform_edt(~member, sampling=(cdy, cdx), return_indices=True)
    near = peaks & (dist <= within_km * 1000.0)
    rr, cc = np.nonzero(near)
    if rr.size == 0:
        return pd.DataFrame({c: [] for c in cols})
    clus = labels[ir[rr, cc], ic[rr, cc]]
    elev = dem[rr, cc]
    xs, ys = grid.x_centres()[cc], grid.y_centres()[rr]
    lon, lat = (np.asarray(v) for v in grid.to_lonlat(xs, ys))
    rank = {int(k): i for i, k in enumerate(keep)}
    order = np.lexsort((cc, rr, -elev, np.array([rank[int(k)] for k in clus])))
    chosen: list[int] = []
    chord = 2 * np.sin(min_spacing_km * 1000.0 / EARTH_RADIUS_M / 2)
    vec = unit_vectors(lon, lat)
    start = 0
    while start < order.size:
        k = clus[order[start]]
        stop = start
        while stop < order.size and clus[order[stop]] == k:
            stop += 1
        mine: list[int] = []
        for j in order[start:stop]:
            if len(mine) >= max_per_cluster:
                break
            if mine and np.min(np.linalg.norm(vec[mine] - vec[j], axis=1)) < chord:
                continue
            mine.append(int(j))
        chosen.extend(mine)
        start = stop
    sel = np.asarray(chosen, dtype=np.int64)
    if limit is not None:
        sel = sel[:limit]
    df = make_candidates(lon[sel], lat[sel], kind="new_site", technology=technology, operator=operator,
                         antenna_height_m=antenna_height_m, costs=costs,
                         source=[f"high point near gap cluster {int(k)}" for k in clus[sel]])
    df["cluster_id"] = clus[sel].astype(np.int64)
    df["elevation_m"] = elev[sel]
    return df


def _cluster_centres(labels: np.ndarray, study: StudyArea, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grid = study.grid
    n = int(labels.max())
    w = study.population.ravel()
    lab = labels.ravel()
    xx = np.broadcast_to(grid.x_centres()[None, :], grid.shape).ravel()
    yy = np.broadcast_to(grid.y_centres()[:, None], grid.shape).ravel()
    p = np.bincount(lab, weights=w, minlength=n + 1)
    cx = np.bincount(lab, weights=xx * w, minlength=n + 1)[keep] / p[keep]
    cy = np.bincount(lab, weights=yy * w, minlength=n + 1)[keep] / p[keep]
    lon, lat = grid.to_lonlat(cx, cy)
    return np.asarray(lon), np.asarray(lat)


def _target_covered(coverage, target: str) -> np.ndarray:
    if target == "any":
        return coverage.any_covered()
    tech = normalise_technology(target)
    if tech is None:
        raise InputError(f"planning target {target!r}; expected 'any' or one of {TECHNOLOGIES}.")
    return coverage.covered(tech)


def upgrade_candidates(study_or_analysis, *, technology: str = DEFAULT_TECHNOLOGY,
                       costs: CandidateCosts | None = None, operators: list[str] | None = None) -> pd.DataFrame:
    """Existing sites that lack ``technology``, as ``upgrade`` candidates.

    One candidate per (site_id, operator) without a ``technology`` transmitter (e.g. a 2G-only
    site → add 4G). It keeps the site's id, position, operator and (highest) antenna height.

    Examples
    --------
    >>> from covgap.sites import validate_sites
    >>> s = validate_sites(pd.DataFrame({"site_id": ["a", "a", "b"], "operator": ["X"] * 3,
    ...     "technology": ["2G", "4G", "2G"], "lon": [105.0, 105.0, 105.1], "lat": [21.0] * 3}))[0]
    >>> upgrade_candidates(s)["site_id"].tolist()
    ['b']
    """
    costs = costs or CandidateCosts()
    tech = normalise_technology(technology)
    if tech is None:
        raise InputError(f"upgrade technology {technology!r}; expected one of {TECHNOLOGIES}.")
    if isinstance(study_or_analysis, pd.DataFrame):
        sites = study_or_analysis
    else:
        study = getattr(study_or_analysis, "study", study_or_analysis)
        sites = study.sites
    if operators is not None:
        sites = sites[sites["operator"].isin(operators)]
    g = sites.groupby(["site_id", "operator"], sort=True)
    has = g["technology"].agg(lambda t: tech in set(t))
    lacking = has[~has].index
    if len(lacking) == 0:
        return pd.DataFrame({c: [] for c in CANDIDATE_COLUMNS})
    first = g.agg(lon=("lon", "first"), lat=("lat", "first"), antenna_height_m=("antenna_height_m", "max"),
                  techs=("technology", lambda t: "+".join(sorted(set(t))))).loc[lacking]
    ids = [f"UPG-{s}-{o}-{tech}" for s, o in first.index]
    return make_candidates(first["lon"].to_numpy(), first["lat"].to_numpy(), kind="upgrade", candidate_id=ids,
                           antenna_height_m=first["antenna_height_m"].to_numpy(), technology=tech,
                           operator=np.array([o for _, o in first.index]),
                           site_id=np.array([s for s, _ in first.index]), costs=costs,
                           source=[f"existing site with {t} only → add {tech}" for t in first["techs"]])


# ---------------------------------------------------------------------------------------------- checking


def check_candidates(candidates: pd.DataFrame, study: StudyArea, *, source: str = "candidates",
                     strict: bool = False) -> tuple[pd.DataFrame, CandidateReport]:
    """Drop (and count) candidates that cannot be planned; return the rest and a report.

    Reasons, in order: outside the study grid; outside every admin unit (outside the
    country, where the population raster is nodata); on water or unknown terrain (DEM ≤ 0 m
    or nodata; new and user sites only, an upgrade stands on an existing mast); duplicate
    ``candidate_id``; duplicate position (same grid cell, technology and operator as an
    earlier row). Also adds ``row``, ``col``, ``elevation_m`` and ``<level>_code`` /
    ``<level>_name`` for each admin level.

    With ``strict=True`` any drop raises :class:`~covgap.errors.InputError` instead.
    When every candidate is dropped, InputError is raised with the report's messages.
    """
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {missing}; expected {list(CANDIDATE_COLUMNS)}. "
                         "Fix: build the table with covgap.planning.make_candidates or read_candidates.")
    rep = CandidateReport(source=source, rows_in=len(candidates))
    df = candidates.reset_index(drop=True).copy()
    if len(df) == 0:
        raise InputError(f"{source}: no candidates to plan with. Fix: give a candidates file or generate some.")
    grid = study.grid
    x, y = grid.from_lonlat(df["lon"].to_numpy(dtype="f8"), df["lat"].to_numpy(dtype="f8"))
    r, c = grid.rowcol(x, y)
    inside = grid.contains_rowcol(r, c)
    ids = df["candidate_id"].astype(str).to_numpy()
    w, s, e, n = grid.bounds
    rep.drop("outside the study area", list(ids[~inside]),
             f"keep candidates within the study grid (bounds {w:.4f}, {s:.4f}, {e:.4f}, {n:.4f} in "
             f"{grid.crs.to_string()}); check lon/lat are not swapped.")
    keep = inside.copy()
    rr = np.where(inside, r, 0)
    cc = np.where(inside, c, 0)
    if study.admin:
        lab = study.admin[0].labels[rr, cc]
        bad = keep & (lab == 0)
        rep.drop("outside every admin unit (outside the country: population nodata)", list(ids[bad]),
                 "move them inside the country's boundary or check the admin layer.")
        keep &= ~bad
    elev = np.full(len(df), np.nan)
    if study.dem is not None:
        elev = np.where(inside, study.dem[rr, cc], np.nan).astype("f8")
        needs_land = df["kind"].isin(["new_site", "user"]).to_numpy()
        with np.errstate(invalid="ignore"):
            unknown = keep & needs_land & ~np.isfinite(elev)
            water = keep & needs_land & np.isfinite(elev) & (elev <= 0)
        rep.drop("on unknown terrain (DEM nodata)", list(ids[unknown]),
                 "move them onto cells with elevation data or fill the DEM's holes.")
        rep.drop("on water (DEM ≤ 0 m)", list(ids[water]), "move them onto land.")
        keep &= ~unknown & ~water
    dup_id = df["candidate_id"].astype(str).duplicated(keep="first").to_numpy() & keep
    rep.drop("duplicate candidate_id (first kept)", list(ids[dup_id]), "give every candidate its own id.")
    keep &= ~dup_id
    key = pd.DataFrame({"r": rr, "c": cc, "t": df["technology"].to_numpy(), "o": df["operator"].to_numpy(),
                        "k": keep})
    dup_pos = np.zeros(len(df), dtype=bool)
    sub = key[keep]
    dup_pos[sub.index[sub.duplicated(["r", "c", "t", "o"], keep="first").to_numpy()]] = True
    rep.drop("duplicate position (same grid cell, technology and operator as an earlier candidate; first kept)",
             list(ids[dup_pos]), "remove the repeated rows or move them apart.")
    keep &= ~dup_pos
    if strict and rep.dropped:
        raise InputError(" ".join(rep.messages))
    df["row"] = rr
    df["col"] = cc
    if "elevation_m" in df.columns:
        df["elevation_m"] = np.where(np.isfinite(elev), elev, df["elevation_m"].to_numpy(dtype="f8"))
    else:
        df["elevation_m"] = elev
    for a in study.admin:
        lab = np.where(inside, a.labels[rr, cc], 0)
        codes = np.concatenate([[""], a.units["code"].astype(str).to_numpy(dtype=object)])
        names = np.concatenate([[""], a.units["name"].astype(str).to_numpy(dtype=object)])
        df[f"{a.level}_code"] = codes[lab]
        df[f"{a.level}_name"] = names[lab]
    out = df[keep].reset_index(drop=True)
    rep.rows_out = len(out)
    if len(out) == 0:
        raise InputError(f"{source}: all {len(df)} candidates were dropped. " + " ".join(rep.messages))
    return out, rep


def candidates_to_sites(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidates as a validated sites table (one transmitter each), ready for a model."""
    from ..sites import validate_sites

    df = pd.DataFrame({"site_id": candidates["site_id"].astype(str).to_numpy(),
                       "operator": candidates["operator"].astype(str).to_numpy(),
                       "technology": candidates["technology"].to_numpy(),
                       "lon": candidates["lon"].to_numpy(dtype="f8"), "lat": candidates["lat"].to_numpy(dtype="f8"),
                       "antenna_height_m": candidates["antenna_height_m"].to_numpy(dtype="f8")})
    for col in ("radius_km", "eirp_dbm", "frequency_mhz", "azimuth_deg", "beamwidth_deg"):
        if col in candidates.columns:
            df[col] = candidates[col].to_numpy()
    return validate_sites(df, source="planned candidates", drop_duplicate_rows=False)[0]
