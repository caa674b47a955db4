"""Grid padding past the border ([study] pad_km): the grid and population helpers, the config key, the
DEM read onto the pad, and the demo padded (same per-unit figures; a foreign mast in the pad is counted)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from covgap.config import load_config, parse_config
from covgap.errors import ConfigError, InputError
from covgap.grid import Grid
from covgap.io import load_study_area, read_dem_onto
from covgap.population import pad_population

RES = 30 / 3600


# ------------------------------------------------------------------ grid and population
def test_padded_grid_is_aligned_whole_cells():
    g = Grid.from_bounds(105.0, 21.0, 105.0 + 4 * RES, 21.0 + 3 * RES, res=(RES, RES), crs="EPSG:4326")
    p = g.padded(2)
    assert p.shape == (7, 8) and p.res == g.res
    w, s, e, n = p.bounds
    assert w == pytest.approx(105.0 - 2 * RES, abs=1e-12) and n == pytest.approx(21.0 + 5 * RES, abs=1e-12)
    np.testing.assert_allclose(p.x_centres()[2:-2], g.x_centres(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.y_centres()[2:-2], g.y_centres(), rtol=0, atol=1e-12)
    # the point at a cell centre of g is in cell (r + 2, c + 2) of p
    r, c = p.rowcol(g.x_centres()[3], g.y_centres()[1])
    assert (int(r), int(c)) == (3, 5)
    assert g.padded(0) is g
    for bad in (-1, 1.5):
        with pytest.raises(InputError, match="whole number of cells"):
            g.padded(bad)


def test_cells_for_distance_hand_computed():
    utm = Grid.from_bounds(0, 0, 1000, 1000, res=(100, 50), crs="EPSG:32648")
    assert utm.cells_for_distance(0) == 0
    assert utm.cells_for_distance(100) == 2  # the shorter side (50 m) sets it: 100 / 50
    assert utm.cells_for_distance(101) == 3
    # geographic, 30" cells at 23.4 N padded by 20 km: width taken at 23.4 + 0.1799 deg
    geo = Grid.from_bounds(105.0, 23.0, 105.5, 23.4, res=(RES, RES), crs="EPSG:4326")
    dx_m = np.radians(RES) * 6_371_008.8 * np.cos(np.radians(23.4 + np.degrees(20_000 / 6_371_008.8)))
    assert geo.cells_for_distance(20_000) == int(np.ceil(20_000 / dx_m)) == 24
    with pytest.raises(InputError, match="metres >= 0"):
        geo.cells_for_distance(-5)


def test_pad_population_adds_zero_people_exactly():
    g = Grid.from_bounds(105.0, 21.0, 105.0 + 4 * RES, 21.0 + 3 * RES, res=(RES, RES), crs="EPSG:4326")
    pop = np.array([[1.25, 2., 3., 4.], [5., 6., 7., 8.], [9., 10., 11., 0.1]])
    out, pg = pad_population(pop, g, 3)
    assert out.shape == pg.shape == (9, 10)
    assert out.sum() == pop.sum()  # exactly: zeros added, nothing moved
    np.testing.assert_array_equal(out[3:-3, 3:-3], pop)
    inner = np.zeros(out.shape, bool)
    inner[3:-3, 3:-3] = True
    assert (out[~inner] == 0).all()
    with pytest.raises(InputError, match="shape"):
        pad_population(pop[:2], g, 1)


# ------------------------------------------------------------------ config
_BASE = {"inputs": {"population": "p.tif", "towers": "t.csv"},
         "admin": [{"level": "p", "path": "a.gpkg", "code_field": "c", "name_field": "n"}]}


def _cfg(study=None, **extra):
    return parse_config({**_BASE, "study": {"name": "x", **(study or {})}, **extra}, base=Path("."))


def test_pad_km_config():
    assert _cfg().pad_km == 0.0 and _cfg().pad_rule == ""
    assert _cfg({"pad_km": 25}).pad_km == 25.0
    c = _cfg({"pad_km": "reach"})
    assert (c.pad_km, c.pad_rule) == (20.0, "reach: default 20 km")
    c = _cfg({"pad_km": "reach"}, model={"kind": "terrain", "terrain": {"max_radius_km": 35.0},
                                          "radius_km": {"2G": 12.0}})
    assert (c.pad_km, c.pad_rule) == (35.0, "reach: [model.terrain] max_radius_km")
    c = _cfg({"pad_km": "reach"}, model={"radius_km": {"2G": 27.5}})
    assert (c.pad_km, c.pad_rule) == (27.5, "reach: [model.radius_km] radius")
    c = _cfg({"pad_km": "reach"}, sources={"iso3": "VNM", "reach_km": 30})
    assert (c.pad_km, c.pad_rule) == (30.0, "reach: [sources] reach_km")


def test_fetch_reaches_as_far_as_the_pad(tmp_path):
    """One rule: without [sources] reach_km, `covgap fetch` fetches terrain as far past the bbox as
    pad_km = "reach" pads (a 2G disc of 27.5 km needs the DEM 27.5 km out, as does a 35 km terrain reach)."""
    from covgap.sources.fetch import load_fetch_config

    for model, km in (('[model.radius_km]\n"2G" = 27.5\n', 27.5), ("[model.terrain]\nmax_radius_km = 35.0\n", 35.0),
                      ("", 20.0)):
        cfg = tmp_path / "c.toml"
        cfg.write_text('[study]\nname = "x"\npad_km = "reach"\n[sources]\niso3 = "VNM"\nbbox = [105.3, 21.1, 105.9, 21.8]\n'
                       + model, encoding="utf-8")
        assert load_fetch_config(cfg).reach_km == km
        data = {"model": {"radius_km": {"2G": 27.5}}} if "2G" in model else (
            {"model": {"terrain": {"max_radius_km": 35.0}}} if model else {})
        assert _cfg({"pad_km": "reach"}, **data).pad_km == km


@pytest.mark.parametrize("bad", [-1.0, "ten", True, 5000.0])
def test_pad_km_config_errors(bad):
    with pytest.raises(ConfigError, match="pad_km") as exc:
        _cfg({"pad_km": bad})
    assert "reach" in str(exc.value)  # the message names the other accepted value


# ------------------------------------------------------------------ DEM past the border
def test_dem_is_read_onto_the_pad_where_the_file_covers_it(tmp_path):
    g = Grid.from_bounds(105.0, 21.0, 105.0 + 10 * RES, 21.0 + 8 * RES, res=(RES, RES), crs="EPSG:4326")
    # a DEM 4 cells wider than the population grid on every side, height = 100 m + 10 m per column
    dem_grid = g.padded(4)
    dem = (100.0 + 10.0 * np.arange(dem_grid.nx, dtype="f4"))[None, :].repeat(dem_grid.ny, 0)
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", height=dem_grid.ny, width=dem_grid.nx, count=1, dtype="float32",
                       crs="EPSG:4326", transform=dem_grid.transform) as ds:
        ds.write(dem, 1)
    onto, notes = read_dem_onto(path, g.padded(3))
    assert notes["nodata_cells"] == 0  # terrain past the border is real: the file covers the pad
    np.testing.assert_allclose(onto, dem[1:-1, 1:-1])
    onto6, notes6 = read_dem_onto(path, g.padded(6))  # past the file: unknown terrain, counted
    assert notes6["nodata_cells"] == g.padded(6).ny * g.padded(6).nx - dem_grid.ny * dem_grid.nx


# ------------------------------------------------------------------ the demo, padded
@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from covgap.demo import make_demo_inputs
    from covgap.pipeline import demo_config_text

    d = tmp_path_factory.mktemp("gridpad")
    make_demo_inputs(d / "inputs")
    text = demo_config_text(model_kind="radius")
    (d / "plain.toml").write_text(text, encoding="utf-8")
    (d / "padded.toml").write_text(text.replace("synthetic = true", "synthetic = true\npad_km = 5.0", 1),
                                   encoding="utf-8")
    # one more foreign 2G mast 2 km west of the population raster's edge (107.0 E), in the pad, near people
    ft = pd.read_csv(d / "inputs" / "foreign_towers.csv")
    extra = ft.iloc[[0]].assign(site_id="NBM-PAD", technology="2G", lon=106.98, lat=21.6)
    pd.concat([ft, extra]).to_csv(d / "inputs" / "foreign_towers_pad.csv", index=False)
    for name in ("plain", "padded"):
        t = (d / f"{name}.toml").read_text(encoding="utf-8").replace("inputs/foreign_towers.csv",
                                                                       "inputs/foreign_towers_pad.csv")
        (d / f"{name}_mast.toml").write_text(t, encoding="utf-8")
    return d


def test_demo_padded_study_area(demo_dir):
    plain = load_study_area(load_config(demo_dir / "plain.toml"), read_landcover=False)
    padded = load_study_area(load_config(demo_dir / "padded.toml"), read_landcover=True)
    gp = padded.notes["grid_padding"]
    n = plain.grid.cells_for_distance(5000.0)
    assert gp["pad_cells_each_side"] == n == 59  # 3" cells at 22.3 N: 5 km / 85.7 m
    assert padded.grid.shape == (plain.grid.ny + 2 * n, plain.grid.nx + 2 * n)
    assert gp["pad_cells"] == padded.population.size - plain.population.size
    assert padded.population.sum() == plain.population.sum()  # exactly
    np.testing.assert_array_equal(padded.population[n:-n, n:-n], plain.population)
    for a, b in zip(plain.admin, padded.admin, strict=True):  # units rasterise as before; the pad is outside all
        np.testing.assert_array_equal(b.labels[n:-n, n:-n], a.labels)
        assert (b.labels > 0).sum() == (a.labels > 0).sum()
    np.testing.assert_array_equal(padded.dem[n:-n, n:-n], plain.dem)  # the demo DEM is the population grid:
    assert np.isnan(padded.dem).sum() == gp["pad_cells"]             # no terrain in its pad (counted)
    assert padded.landcover.classes.shape == padded.grid.shape
    # the mast in the pad: dropped (counted) without padding, kept with it
    pm = load_study_area(load_config(demo_dir / "plain_mast.toml"), read_landcover=False)
    assert pm.notes["foreign_sites"]["outside_grid_transmitters"] == 1
    assert "NBM-PAD" not in set(pm.foreign_sites["site_id"])
    qm = load_study_area(load_config(demo_dir / "padded_mast.toml"), read_landcover=False)
    assert "outside_grid_transmitters" not in qm.notes["foreign_sites"]
    assert qm.notes["foreign_sites"]["in_grid_padding_transmitters"] == 1
    assert "NBM-PAD" in set(qm.foreign_sites["site_id"])


@pytest.mark.slow
def test_demo_padded_run_same_unit_figures_and_pad_mast_counted(demo_dir, tmp_path):
    from covgap.pipeline import analyse_config
    from covgap.report import write_rasters, write_summary

    plain = analyse_config(load_config(demo_dir / "plain.toml"))
    padded = analyse_config(load_config(demo_dir / "padded.toml"))
    cols = ["population", "covered_any", "uncovered", "covered_4G", "uncovered_area_km2", "sites", "foreign_only",
            "no_network"]
    for level, tab in plain.units.items():  # no tower in the pad: padding only adds zero-people cells
        other = padded.units[level]
        assert list(tab["code"]) == list(other["code"])
        np.testing.assert_allclose(other[cols].to_numpy(float), tab[cols].to_numpy(float), rtol=1e-9, atol=1e-9)
    sp, sq = plain.summary(), padded.summary()
    assert sq["population_uncovered"] == pytest.approx(13350.70, abs=0.01)  # the README's demo figure
    assert sq["population_uncovered"] == pytest.approx(sp["population_uncovered"], rel=1e-12)
    # outputs are on the padded grid and say so
    write_summary(padded, tmp_path / "summary.json")
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert json.dumps(s).count("pad_cells_each_side") == 1
    tifs = write_rasters(padded, tmp_path)
    with rasterio.open(tifs[0]) as ds:
        assert (ds.height, ds.width) == padded.study.grid.shape
        assert ds.transform.almost_equals(Affine(*tuple(padded.study.grid.transform)[:6]))
    # a foreign mast in the pad now covers people inside; before it was dropped as outside the grid
    with_mast = analyse_config(load_config(demo_dir / "padded_mast.toml"))
    fn0, fn1 = sq["foreign_networks"], with_mast.summary()["foreign_networks"]
    assert fn1["sites"] == fn0["sites"] + 1
    assert fn1["foreign_only"] + fn1["domestic_and_foreign"] > fn0["foreign_only"] + fn0["domestic_and_foreign"]
    assert with_mast.summary()["population_uncovered"] == pytest.approx(sq["population_uncovered"], rel=1e-12)


# ------------------------------------------------------------------ terrain model: a mast in the pad
def _tiny_terrain_study(d: Path, pad_km: float) -> Path:
    """40×40 cells of 9″ (105.0–105.1 E, 21.0–21.1 N), 10 people each, one unit over all of it; a flat 100 m
    DEM reaching 20 cells past every side; a domestic 4G mast 1.1 km west of the raster's edge, one in its NE corner."""
    import geopandas as gpd
    from shapely.geometry import box

    res = 9 / 3600
    g = Grid.from_bounds(105.0, 21.0, 105.1, 21.1, res=(res, res), crs="EPSG:4326")
    d.mkdir(parents=True, exist_ok=True)
    for name, grid, arr in (("pop.tif", g, np.full(g.shape, 10.0, "f4")),
                            ("dem.tif", g.padded(20), np.full(g.padded(20).shape, 100.0, "f4"))):
        with rasterio.open(d / name, "w", driver="GTiff", height=grid.ny, width=grid.nx, count=1, dtype="float32",
                           crs="EPSG:4326", transform=grid.transform) as ds:
            ds.write(arr, 1)
    gpd.GeoDataFrame({"code": ["U1"], "name": ["Unit"]}, geometry=[box(105.0, 21.0, 105.1, 21.1)],
                     crs="EPSG:4326").to_file(d / "admin.gpkg", layer="units")
    pd.DataFrame({"site_id": ["W1", "E1"], "operator": ["Op", "Op"], "technology": ["4G", "4G"],
                  "lon": [104.99, 105.099], "lat": [21.05, 21.099],
                  "antenna_height_m": [30.0, 30.0]}).to_csv(d / "towers.csv", index=False)
    (d / "c.toml").write_text(f"""[study]
name = "tiny"
pad_km = {pad_km}
[inputs]
population = "pop.tif"
dem = "dem.tif"
towers = "towers.csv"
[[admin]]
level = "unit"
path = "admin.gpkg"
layer = "units"
code_field = "code"
name_field = "name"
[model]
kind = "terrain"
""", encoding="utf-8")
    return d / "c.toml"


def test_terrain_mast_in_the_pad_is_computed_over_real_terrain(tmp_path):
    from covgap.pipeline import analyse_config

    with pytest.raises(InputError, match=r"site 'W1'.*pad_km"):  # no pad: the mast has no ground height
        analyse_config(load_config(_tiny_terrain_study(tmp_path / "plain", 0)))
    a = analyse_config(load_config(_tiny_terrain_study(tmp_path / "padded", 2.0)))
    assert a.study.notes["grid_padding"]["pad_cells_each_side"] == 8  # 2 km / 259 m cells at 21.12 N
    assert np.isnan(a.study.dem).sum() == 0  # the pad's terrain is the DEM file's, not unknown
    tab = a.units["unit"]
    assert float(tab["population"].iloc[0]) == 16_000.0  # 40 × 40 × 10, exactly: nobody in the pad
    assert 0 < float(tab["covered_any"].iloc[0]) < 16_000.0
    inside = a.coverage.any_covered()[8:-8, 8:-8]
    assert inside[:, :5].all()  # the mast 1.1 km west of the raster covers its five westmost columns
