"""Land cover for P.1812: the mapping table, majority resampling, the zone rule, and the model reading them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from conftest import make_sites

from covgap.errors import ConfigError, InputError
from covgap.grid import Grid
from covgap.io import read_landcover_onto, read_landcover_table
from covgap.landcover import (
    WORLDCOVER_CLASSES,
    clutter_arrays,
    default_table,
    make_landcover,
    parse_table,
    radio_climatic_zone,
)
from covgap.models.base import compute_coverage
from covgap.models.p1812 import transmission_loss
from covgap.models.p1812_area import P1812Model

HEADER = "code,name,category,height_m\n"


# ------------------------------------------------------------------ the mapping table
def test_default_table_maps_every_worldcover_class_to_table2():
    t = default_table()
    assert sorted(t.classes) == sorted(WORLDCOVER_CLASSES) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    # P.1812-6 Table 2 categories and default heights
    assert (t[10].category, t[10].height_m) == (4, 15.0)  # tree cover: trees/forest
    assert (t[50].category, t[50].height_m) == (3, 10.0)  # built-up: suburban
    assert (t[80].category, t[80].height_m) == (1, 0.0)  # water
    assert (t[95].category, t[95].height_m) == (4, 15.0)  # mangroves
    for code in (20, 30, 40, 60, 70, 90, 100):
        assert (t[code].category, t[code].height_m) == (2, 0.0)


def test_table_rows_are_checked():
    assert parse_table(HEADER + "# a comment\n10,Trees,4,12.5\n", source="t.csv")[10].height_m == 12.5
    with pytest.raises(ConfigError, match=r"t\.csv, row 2 \(code 'x'\).*not a class code"):
        parse_table(HEADER + "x,Trees,4,12\n", source="t.csv")
    with pytest.raises(ConfigError, match=r"row 3 .*class 10 appears twice"):
        parse_table(HEADER + "10,a,4,12\n10,b,4,12\n", source="t.csv")
    with pytest.raises(ConfigError, match=r"row 2 .*height_m = -3.0; expected .* 0-100"):
        parse_table(HEADER + "10,Trees,4,-3\n", source="t.csv")
    with pytest.raises(ConfigError, match=r"height_m = 150.0"):
        parse_table(HEADER + "10,Trees,4,150\n", source="t.csv")
    with pytest.raises(ConfigError, match=r"category = 7.0; expected a P.1812-6 Table 2 category"):
        parse_table(HEADER + "10,Trees,7,15\n", source="t.csv")
    with pytest.raises(ConfigError, match=r"height_m = 'tall' is not a number"):
        parse_table(HEADER + "10,Trees,4,tall\n", source="t.csv")
    with pytest.raises(ConfigError, match=r"class 300 is outside 1-255"):
        parse_table(HEADER + "300,x,2,0\n", source="t.csv")
    with pytest.raises(ConfigError, match="water has no clutter height"):
        parse_table(HEADER + "80,Water,1,5\n", source="t.csv")
    with pytest.raises(ConfigError, match="expected a CSV header"):
        parse_table("a,b\n1,2\n", source="t.csv")


def test_overrides_and_user_table(tmp_path):
    t = default_table().with_overrides({"50": {"category": 5, "height_m": 20}, 10: {"height_m": 12}})
    assert (t[50].category, t[50].height_m, t[10].category, t[10].height_m) == (5, 20.0, 4, 12.0)
    assert "overrides for [10, 50]" in t.source
    with pytest.raises(ConfigError, match=r"\[landcover.classes\] '10'.*height_m = -1"):
        default_table().with_overrides({"10": {"height_m": -1}})
    with pytest.raises(ConfigError, match=r"class 12 is not in the table, so it needs both category and height_m"):
        default_table().with_overrides({"12": {"height_m": 3}})
    p = tmp_path / "mine.csv"
    p.write_text(HEADER + "1,forest,4,20\n2,fields,2,0\n", encoding="utf-8")
    mine = read_landcover_table(p)
    assert sorted(mine.classes) == [1, 2] and mine[1].height_m == 20.0 and str(p) in mine.source


def test_clutter_arrays_and_unknown_codes():
    classes = np.array([[10, 50, 80], [0, 40, 95]])
    h, c, notes = clutter_arrays(classes, default_table())
    assert h.dtype == np.float32 and c.dtype == np.int8
    assert h.tolist() == [[15.0, 10.0, 0.0], [0.0, 0.0, 15.0]]
    assert c.tolist() == [[4, 3, 1], [2, 2, 4]]
    assert notes["nodata_cells"] == 1 and notes["cells_per_class"]["10"] == 1
    with pytest.raises(InputError, match=r"class codes not in the land-cover table.*: 11 \(2 cells\)"):
        clutter_arrays(np.array([[11, 11, 10]]), default_table())


# ------------------------------------------------------------------ majority onto the DEM grid
def _write_classes(path, classes, transform, crs="EPSG:32648", nodata=0):
    with rasterio.open(path, "w", driver="GTiff", width=classes.shape[1], height=classes.shape[0], count=1,
                       dtype="uint8", crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(classes.astype("uint8"), 1)


def test_majority_resampling_on_a_hand_made_raster(tmp_path):
    # 10 m classes, 6 x 6, onto a 30 m grid of 2 x 2 cells: each cell's 9 pixels, majority wins
    a = np.array([
        [10, 10, 40, 50, 50, 50],
        [10, 10, 40, 50, 40, 40],
        [40, 40, 40, 50, 40, 40],
        [80, 80, 80, 0, 0, 0],
        [80, 80, 10, 0, 0, 0],
        [10, 10, 10, 0, 0, 30],
    ])
    _write_classes(tmp_path / "lc.tif", a, Affine(10, 0, 500_000, 0, -10, 2_300_000))
    grid = Grid(crs="EPSG:32648", transform=Affine(30, 0, 500_000, 0, -30, 2_300_000), shape=(2, 2))
    out, notes = read_landcover_onto(tmp_path / "lc.tif", grid)
    # top-left: 10 x4, 40 x5 -> 40 (the mean, 25.6, would be a class that is not there)
    # top-right: 50 x5, 40 x4 -> 50; bottom-left: 80 x5, 10 x4 -> 80; bottom-right: nodata x8, 30 x1 -> 30
    assert out.tolist() == [[40, 50], [80, 30]]
    assert notes["resampled"].startswith("majority")
    # a folder of tiles: each covers its part of the grid, cells no tile covers stay 0 (no data)
    d = tmp_path / "tiles"
    d.mkdir()
    _write_classes(d / "west.tif", np.full((6, 3), 10), Affine(10, 0, 500_000, 0, -10, 2_300_000))
    big = Grid(crs="EPSG:32648", transform=Affine(30, 0, 500_000, 0, -30, 2_300_000), shape=(2, 3))
    out2, n2 = read_landcover_onto(d, big)
    assert out2.tolist() == [[10, 0, 0], [10, 0, 0]] and n2["cells_without_data"] == 4


def test_landcover_without_crs_is_an_error(tmp_path):
    from covgap.errors import CRSError

    with rasterio.open(tmp_path / "x.tif", "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8",
                       transform=Affine(30, 0, 0, 0, -30, 60)) as ds:
        ds.write(np.full((2, 2), 10, dtype="uint8"), 1)
    grid = Grid(crs="EPSG:32648", transform=Affine(30, 0, 0, 0, -30, 60), shape=(2, 2))
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_landcover_onto(tmp_path / "x.tif", grid)


# ------------------------------------------------------------------ radio-climatic zones
def test_zone_rule_on_a_hand_made_coast():
    # 1 km cells; sea (water at 0 m) in the 3 west columns, a lake at 40 m, a hill above 100 m
    g = Grid(crs="EPSG:32648", transform=Affine(1000, 0, 0, 0, -1000, 0), shape=(3, 60))
    classes = np.full(g.shape, 40)
    classes[:, :3] = 80
    classes[1, 10] = 80  # a lake, 40 m up: land
    dem = np.full(g.shape, 20.0)
    dem[:, :3] = 0.0
    dem[1, 10] = 40.0
    dem[:, 20] = 150.0  # above 100 m: inland even near the sea
    zone = radio_climatic_zone(classes, dem, g)
    assert zone.dtype == np.int8
    assert (zone[:, :3] == 1).all()
    assert zone[1, 10] == 3  # the lake is land (coastal)
    assert (zone[:, 3:20] == 3).all() and (zone[:, 21:53] == 3).all()  # column 52 is 50 km from column 2
    assert (zone[:, 20] == 4).all()
    assert (zone[:, 53:] == 4).all()
    # unmapped (no data) at 0 m is sea too; without any sea everything is inland
    classes2 = classes.copy()
    classes2[:, :3] = 0
    assert (radio_climatic_zone(classes2, dem, g) == zone).all()
    assert (radio_climatic_zone(np.full(g.shape, 40), np.full(g.shape, 5.0), g) == 4).all()
    lc = make_landcover(classes, g, dem=dem)
    assert lc.notes["cells_per_zone"]["sea (1)"] == 9 and "50 km" in lc.notes["zone_rule"]


# ------------------------------------------------------------------ the P.1812 area model reads it
RES_DEG = 0.001
WEST, NORTH = 105.0, 21.05
N = 41


def _grid() -> Grid:
    return Grid(crs="EPSG:4326", transform=Affine(RES_DEG, 0.0, WEST, 0.0, -RES_DEG, NORTH), shape=(N, N))


def _by_hand(grid, lon, lat, c, clutter, zone, htg):
    """The profile P1812Model samples for the cell (N // 2, c), built here step by step."""
    lon_c = float(grid.x_centres()[c])
    a = math.cos(math.radians(lat)) ** 2 * math.sin(math.radians(lon_c - lon) / 2) ** 2
    dist_km = 2 * 6371.0 * math.asin(math.sqrt(a))
    step_km = RES_DEG * math.radians(1.0) * 6371.0 * math.cos(math.radians(lat))
    n = int(math.ceil(dist_km / step_km)) + 1
    frac = np.arange(n) / (n - 1)
    d = frac * dist_km
    col_f = (N // 2 + 0.5) + frac * (c - N // 2)
    cols = np.floor(col_f).astype(int)
    r = clutter[N // 2, cols].astype(float)
    z = zone[N // 2, cols].astype(float)
    sea = np.flatnonzero(z == 1)
    dct = d[sea[0]] if sea.size else 500.0
    dcr = dist_km - d[sea[-1]] if sea.size else 500.0
    lb, _ = transmission_loss(1.8, 50, d, np.full(n, 100.0), r, np.full(n, 2), z, htg, 1.5, 2,
                              phi_t=lat, phi_r=lat, lam_t=lon, lam_r=lon_c, dct=dct, dcr=dcr)
    return lb


def test_clutter_at_the_receiver_adds_loss_and_matches_the_one_path_function():
    grid = _grid()
    lon, lat = float(grid.x_centres()[N // 2]), float(grid.y_centres()[N // 2])
    sites = make_sites([("s1", "OpA", "4G", lon, lat)])
    dem = np.full(grid.shape, 100.0)
    clutter = np.zeros(grid.shape, dtype=np.float32)
    clutter[:, 30:34] = 15.0  # a strip of forest around the receiver cells east of the site
    zone = np.full(grid.shape, 4, dtype=np.int8)
    zone[:, 24:27] = 1  # a sea arm crossed by the path
    zone[:, 27:] = 3
    open_ = compute_coverage(grid, sites, P1812Model(max_radius_km=2.0), dem=dem).technologies["4G"].signal_dbm
    model = P1812Model(max_radius_km=2.0, clutter_height_m=clutter, zone=zone, landcover_source="hand-made")
    cov = compute_coverage(grid, sites, model, dem=dem)
    sig = cov.technologies["4G"].signal_dbm
    htg = float(sites["antenna_height_m"].iloc[0])
    for c in (31, 33, 36):
        assert sig[N // 2, c] == pytest.approx(29.0 - _by_hand(grid, lon, lat, c, clutter, zone, htg), abs=1e-3)
    assert sig[N // 2, 33] < open_[N // 2, 33] - 3.0  # the forest around the receiver costs several dB
    assert "hand-made" in cov.parameters["land_cover"] and "per profile point" in cov.parameters["radio_climatic_zone"]
    # the arrays say nothing west of the site: same as open/rural there, bar the sea-path terms
    assert sig[N // 2, N // 2 - 8] == pytest.approx(open_[N // 2, N // 2 - 8], abs=1e-6)
    # windows of the land-cover grid (tiles, planning footprints) give the same per-cell values
    win = grid.window(5, 36, 10, 41)
    mw = P1812Model(max_radius_km=2.0, clutter_height_m=clutter, zone=zone, landcover_grid=grid)
    sw = compute_coverage(win, sites, mw, dem=dem[5:36, 10:41]).technologies["4G"].signal_dbm
    np.testing.assert_allclose(sw, sig[5:36, 10:41], atol=1e-4)


def test_bad_landcover_arrays_are_errors():
    grid = _grid()
    with pytest.raises(InputError, match="zone must be 1 \\(sea\\), 3 \\(coastal land\\) or 4"):
        P1812Model(zone=np.full(grid.shape, 2))
    with pytest.raises(InputError, match="finite and >= 0"):
        P1812Model(clutter_height_m=np.full(grid.shape, -1.0))
    lon, lat = float(grid.x_centres()[N // 2]), float(grid.y_centres()[N // 2])
    sites = make_sites([("s1", "OpA", "4G", lon, lat)])
    with pytest.raises(InputError, match="land-cover arrays have shape \\(3, 3\\); the DEM grid has"):
        compute_coverage(grid, sites, P1812Model(clutter_height_m=np.zeros((3, 3))), dem=np.full(grid.shape, 1.0))


def test_demo_config_reaches_the_p1812_model_and_summary(demo_run, tmp_path, capsys):
    """[landcover] in the demo config → StudyArea.landcover → P1812Model → summary.json's model entry."""
    import re
    import shutil
    from dataclasses import replace

    from covgap.config import load_config
    from covgap.pipeline import analyse_config

    _, out = demo_run
    shutil.copytree(out / "inputs", tmp_path / "inputs")
    text = (out / "covgap.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^kind = \"[a-z]+\"", 'kind = "p1812"', text, count=1)
    text = re.sub(r"(?m)^\[gaps\]\n", "[model.p1812]\nmax_radius_km = 0.5\n\n[gaps]\n", text, count=1)
    (tmp_path / "covgap.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "covgap.toml")
    assert cfg.landcover is not None and cfg.landcover.ref.path.name == "landcover.tif"
    with_lc = analyse_config(cfg).summary()
    model = with_lc["model"]
    assert "covgap synthetic demo" in model["land_cover"] and "landcover.tif" in model["land_cover"]
    assert model["radio_climatic_zone"].startswith("per profile point")
    assert model["method"].startswith("ITU-R P.1812-6") and model["location_percent"] == 50.0
    assert "landcover" in [s["role"] for s in with_lc["inputs"]]
    without = analyse_config(replace(cfg, landcover=None)).summary()
    assert without["model"]["land_cover"].startswith("none given: every profile point open/rural")
    # `covgap run` says which land cover the P.1812 run used
    from covgap.cli import main

    assert main(["run", str(tmp_path / "covgap.toml"), "--out", str(tmp_path / "out"), "-q"]) == 0
    shown = capsys.readouterr().out
    assert "land cover:        covgap synthetic demo" in shown
    saved = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert saved["model"]["land_cover"] == model["land_cover"]
    # the other models do not read it (a national read takes minutes), and the notes say so
    from covgap.io import load_study_area

    study = load_study_area(cfg, read_landcover=False)
    assert study.landcover is None and study.notes["landcover"]["read"] is False


def test_tiled_run_with_land_cover_equals_the_whole_grid(tmp_path):
    """Tiles are windows of the land-cover grid: the tiled P.1812 run gives the untiled signal cell for cell."""
    from covgap.tiling import TiledModel

    grid = _grid()
    lon, lat = float(grid.x_centres()[N // 2]), float(grid.y_centres()[N // 2])
    sites = make_sites([("s1", "OpA", "4G", lon, lat), ("s2", "OpB", "4G", lon + 0.006, lat - 0.004)])
    rng = np.random.default_rng(5)
    dem = 100.0 + rng.uniform(0.0, 20.0, grid.shape)
    clutter = np.where(rng.uniform(size=grid.shape) < 0.4, 15.0, 0.0).astype(np.float32)
    zone = np.full(grid.shape, 4, dtype=np.int8)
    zone[:, :6] = 1
    zone[:, 6:] = 3
    model = P1812Model(max_radius_km=1.2, clutter_height_m=clutter, zone=zone, landcover_grid=grid)
    whole = compute_coverage(grid, sites, model, dem=dem).technologies["4G"].signal_dbm
    tiled = compute_coverage(grid, sites, TiledModel(model, tile_size=16, workdir=tmp_path / "t"),
                             dem=dem).technologies["4G"].signal_dbm
    np.testing.assert_allclose(tiled, whole, atol=1e-4)
    assert np.isfinite(whole).sum() > 500


def test_fast_mode_reads_the_same_land_cover_as_the_exact_mode():
    """The fast kernel takes R and zone from the same cells as the exact profiles: with every
    profile point on the cell's own line (receiver_points beyond the profile length) the fast mode
    is the exact mode, land cover, sea and coastal zones included; with the default points the
    land cover moves both modes alike."""
    grid = _grid()
    lon, lat = float(grid.x_centres()[N // 2]), float(grid.y_centres()[N // 2])
    sites = make_sites([("s1", "OpA", "4G", lon, lat)])
    rng = np.random.default_rng(11)
    dem = 100.0 + rng.uniform(0.0, 40.0, grid.shape)
    clutter = np.where(rng.uniform(size=grid.shape) < 0.4, 15.0, 0.0).astype(np.float32)
    zone = np.full(grid.shape, 4, dtype=np.int8)
    zone[:, :6] = 1
    zone[:, 6:12] = 3
    kw = dict(max_radius_km=1.2, clutter_height_m=clutter, zone=zone, landcover_grid=grid)
    exact = compute_coverage(grid, sites, P1812Model(method="exact", **kw), dem=dem).technologies["4G"].signal_dbm
    whole = compute_coverage(grid, sites, P1812Model(method="fast", receiver_points=10_000, recheck_margin_db=0.0,
                                                     **kw), dem=dem).technologies["4G"].signal_dbm
    assert np.isfinite(exact).sum() > 300  # a 1.2 km disc on the 41 x 41 grid
    np.testing.assert_array_equal(np.isfinite(whole), np.isfinite(exact))
    np.testing.assert_allclose(whole, exact, atol=1e-6)
    open_exact = compute_coverage(grid, sites, P1812Model(method="exact", max_radius_km=1.2),
                                  dem=dem).technologies["4G"].signal_dbm
    assert np.nanmax(np.abs(open_exact - exact)) > 1.0  # the land cover matters on this grid
