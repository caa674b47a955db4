"""Shared fixtures: tiny hand-computable study areas, the demo run, the real-data folder."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import box

from covgap.errors import ModelRangeWarning
from covgap.grid import Grid
from covgap.overlay import rasterize_units
from covgap.sites import validate_sites
from covgap.study import AdminLevel, StudyArea

ROOT = Path(__file__).resolve().parents[1]


def shared_vnm() -> Path:
    """The real Vietnam files (../shared/data/vnm beside the checkout, or $COVGAP_SHARED_DATA)."""
    env = os.environ.get("COVGAP_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "vnm"


def make_sites(rows) -> pd.DataFrame:
    """Validated sites from (site_id, operator, technology, lon, lat) tuples."""
    df = pd.DataFrame(rows, columns=["site_id", "operator", "technology", "lon", "lat"])
    return validate_sites(df)[0]


def tiny_study(population: np.ndarray, grid: Grid, sites: pd.DataFrame, *, unit_cols: int | None = None) -> StudyArea:
    """Study area with two admin units splitting the grid at column ``unit_cols`` (west/east)."""
    w, s, e, n = grid.bounds
    split = grid.x_centres()[unit_cols] - grid.res[0] / 2 if unit_cols else (w + e) / 2
    if not grid.is_geographic:
        raise ValueError("tiny_study builds lon/lat units; use a geographic grid")
    units = gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West", "East"]},
                             geometry=[box(w, s, split, n), box(split, s, e, n)], crs="EPSG:4326")
    labels = rasterize_units(units, grid)
    return StudyArea(name="tiny", grid=grid, population=population.astype("f8"),
                     admin=[AdminLevel("province", units, labels)], sites=sites)


def quiet(fn, *a, **k):
    """``fn(*a, **k)`` with the models' range notes (ModelRangeWarning) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)
        return fn(*a, **k)


#: Link budgets of the small Hata studies (weak transmitters, so that footprints are a few km).
SMALL_LB = {"4G": {"eirp_dbm": 20.0}, "2G": {"eirp_dbm": 10.0}}


def small_hata_study(rng: np.random.Generator) -> StudyArea:
    """61 × 61 cells of 0.002° (≈ 210 m) at 105° E, 21.1° N, three transmitters (two 4G of two
    operators, one 2G, two of them just off cell centres) and gamma-distributed people drawn from ``rng``."""
    g = Grid(crs="EPSG:4326", transform=Affine(0.002, 0.0, 105.0, 0.0, -0.002, 21.1), shape=(61, 61))
    x, y = g.x_centres(), g.y_centres()
    sites = make_sites([("a", "OpA", "4G", float(x[20]) + 1e-4, float(y[25])),
                        ("b", "OpB", "4G", float(x[42]), float(y[33]) - 1e-4),
                        ("c", "OpA", "2G", float(x[30]), float(y[30]))])
    return tiny_study(rng.gamma(0.5, 20.0, g.shape), g, sites)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The embedded demo analysed once with the radius model: (analysis, output folder)."""
    from covgap.pipeline import run_demo

    out = tmp_path_factory.mktemp("demo") / "out"
    analysis = run_demo(out, model_kind="radius")
    return analysis, out
