"""Bad input gets a clear error naming the file, row or field and the fix, and leaves no output."""

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import rasterio

from covgap.config import load_config
from covgap.errors import ConfigError, CRSError, DataFileError, InputError
from covgap.pipeline import run


@pytest.fixture
def demo_copy(demo_run, tmp_path):
    """A writable copy of the demo inputs and config."""
    _, out = demo_run
    d = tmp_path / "study"
    shutil.copytree(out / "inputs", d / "inputs")
    shutil.copy(out / "covgap.toml", d / "covgap.toml")
    return d


def _run_fails(cfg_dir, out, exc, match):
    with pytest.raises(exc, match=match):
        run(load_config(cfg_dir / "covgap.toml"), out, model_kind="radius")
    assert not out.exists(), "a failed run must leave no output folder"
    assert not list(out.parent.glob(f".{out.name}.partial-*")), "staging folder left behind"


def test_towers_with_lat_lon_swapped(demo_copy, tmp_path):
    p = demo_copy / "inputs" / "towers.csv"
    df = pd.read_csv(p)
    df = df.rename(columns={"lon": "lat", "lat": "lon"})
    df.to_csv(p, index=False)
    _run_fails(demo_copy, tmp_path / "out", InputError, r"towers file .*towers\.csv: row 2, .*look like lat and lon swapped")


def test_towers_with_out_of_range_coordinate_names_the_row(demo_copy, tmp_path):
    p = demo_copy / "inputs" / "towers.csv"
    df = pd.read_csv(p)
    df.loc[3, "lat"] = 107.2
    df.to_csv(p, index=False)
    _run_fails(demo_copy, tmp_path / "out", InputError, r"row 5, lon=.*lat=107\.2 is out of range")


def test_towers_unknown_technology_names_row_and_field(demo_copy, tmp_path):
    p = demo_copy / "inputs" / "towers.csv"
    df = pd.read_csv(p)
    df["technology"] = df["technology"].astype(object)
    df.loc[0, "technology"] = "6G"
    df.to_csv(p, index=False)
    _run_fails(demo_copy, tmp_path / "out", InputError, r"row 2 .*field 'technology' is '6G'")


def test_raster_without_crs(demo_copy, tmp_path):
    p = demo_copy / "inputs" / "population.tif"
    with rasterio.open(p) as ds:
        arr, profile = ds.read(1), ds.profile
    profile.pop("crs", None)
    with rasterio.open(p, "w", **profile) as ds:
        ds.write(arr, 1)
    _run_fails(demo_copy, tmp_path / "out", CRSError, r"population raster .*population\.tif has no coordinate reference system.*gdal_edit")


def test_population_grid_not_overlapping_admin(demo_copy, tmp_path):
    p = demo_copy / "inputs" / "population.tif"
    with rasterio.open(p) as ds:
        arr, profile = ds.read(1), ds.profile
    t = profile["transform"]
    profile["transform"] = rasterio.Affine(t.a, 0, t.c + 20.0, 0, t.e, t.f)  # moved 20° east
    with rasterio.open(p, "w", **profile) as ds:
        ds.write(arr, 1)
    _run_fails(demo_copy, tmp_path / "out", InputError, r"admin level 'province' .* does not overlap .*population raster")


def test_unknown_config_key_suggests_the_right_one(demo_copy, tmp_path):
    cfg = demo_copy / "covgap.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("min_population =", "min_populaton ="), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'min_populaton' in \[gaps\].*Did you mean 'min_population'"):
        load_config(cfg)


def test_cli_reports_error_without_traceback_and_no_output(demo_copy, tmp_path):
    cfg = demo_copy / "covgap.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('[report]', '[report]\ncolour = "red"'), encoding="utf-8")
    out = tmp_path / "cli-out"
    res = subprocess.run([sys.executable, "-m", "covgap.cli", "run", str(cfg), "--out", str(out), "-q"],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert "covgap: error:" in res.stderr and "unknown key 'colour'" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_hamlets_with_missing_coordinates(demo_copy, tmp_path):
    p = demo_copy / "inputs" / "hamlets.csv"
    df = pd.read_csv(p)
    df.loc[[2, 7], "lon"] = np.nan
    df.to_csv(p, index=False)
    _run_fails(demo_copy, tmp_path / "out", InputError, r"hamlets file .*2 row\(s\) with missing or invalid coordinates \(file lines \[4, 9\]")


def test_hamlets_in_unknown_encoding(demo_copy, tmp_path):
    p = demo_copy / "inputs" / "hamlets.csv"
    text = p.read_text(encoding="utf-8")
    p.write_bytes(text.encode("utf-16-le"))
    _run_fails(demo_copy, tmp_path / "out", DataFileError, r"hamlets .*not UTF-8.*encoding")


def test_existing_foreign_output_folder_is_not_overwritten(demo_copy, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.docx").write_text("do not delete")
    with pytest.raises(InputError, match="refusing to overwrite"):
        run(load_config(demo_copy / "covgap.toml"), out, model_kind="radius")
    assert (out / "thesis.docx").read_text() == "do not delete"


def test_rerun_replaces_previous_covgap_output(demo_copy, tmp_path):
    out = tmp_path / "out"
    cfg = load_config(demo_copy / "covgap.toml")
    run(cfg, out, model_kind="radius")
    (out / "summary.json").write_text("{}")  # a file covgap wrote, replaced by the rerun
    (out / "summary.json").unlink()
    run(cfg, out, model_kind="radius")
    assert (out / "summary.json").stat().st_size > 2
    (out / "notes.txt").write_text("mine")  # a file covgap did not write: the folder is no longer replaced
    with pytest.raises(InputError, match=r"1 file\(s\) covgap did not write there: notes\.txt"):
        run(cfg, out, model_kind="radius")
    assert (out / "notes.txt").read_text() == "mine"
